"""The one engine behind the CLI and the language server: file → findings.

Reading (bytes → text, with clear findings for binary, non-UTF-8 and oversized files), parsing
with the project's tool, running the enabled rules, applying severity overrides and ignore
comments, and computing line/column positions. The LSP layer and the CLI only convert.
"""

from __future__ import annotations

import bisect
import contextlib
import logging
import operator
import os
import stat
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, cast

from migration_lsp import suppress
from migration_lsp.cache import (
    CheckCache,
    Entry,
    code_fingerprint,
    content_digest,
    decode_changesets,
    decode_findings,
    decode_nodes,
    decode_problems,
    digest,
    encode_changesets,
    encode_findings,
    encode_nodes,
    encode_problems,
    file_digest,
    project_fingerprint,
    project_key,
)
from migration_lsp.findings import UNLOCATED, Finding
from migration_lsp.history.git import AppliedChange, AppliedIndex
from migration_lsp.history.graph import History, Node
from migration_lsp.model import Migration, ParseProblem, Severity
from migration_lsp.parse import PARSED_TOOLS, parse_migration
from migration_lsp.project.config import (
    CONFIG_FILES,
    Config,
    ConfigError,
    _configures_us,
    find_config,
    load_config,
)
from migration_lsp.project.detect import (
    Project,
    detect_enclosing,
    detect_for_file,
    detect_projects,
)
from migration_lsp.relint import Trace, run_rules_watched
from migration_lsp.rules.base import Context, Rule
from migration_lsp.rules.history import HISTORY_RULES
from migration_lsp.rules.registry import BY_ID, PARSE_ERROR, RULES
from migration_lsp.text import LineIndex, Span

log = logging.getLogger(__name__)


# --------------------------------------------------------------------------- one file


def decode(data: bytes) -> tuple[str, ParseProblem | None]:
    """Bytes → text. Binary or non-UTF-8 content becomes a problem at the first bad byte."""
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    if b"\x00" in data[:8192]:
        text = data.decode("utf-8", errors="replace")
        return text, ParseProblem(
            span=Span(0, 0),
            message="Binary file (contains NUL bytes): not a migration, not checked",
        )
    try:
        return data.decode("utf-8"), None
    except UnicodeDecodeError as error:
        text = data.decode("utf-8", errors="replace")
        offset = len(data[: error.start].decode("utf-8", errors="replace"))
        return text, ParseProblem(
            span=Span(offset, offset + 1),
            message=f"File is not valid UTF-8 (byte 0x{data[error.start]:02x} at this position); "
            "save it as UTF-8",
        )


def analyse(
    migration: Migration,
    config: Config,
    *,
    history: History | None = None,
    applied: AppliedIndex | None = None,
) -> list[Finding]:
    """Run every enabled rule on one parsed migration (`history`/`applied`: the project's
    revision graph and what the default branch applied, for the history rules)."""
    context, enabled = _context(migration, config, history, applied, watch=False)
    findings, _ = run_rules(context, RULES, enabled)
    return settle(findings, migration, config, enabled)


def analyse_again(
    migration: Migration,
    config: Config,
    previous: Trace | None,
    *,
    history: History | None = None,
    applied: AppliedIndex | None = None,
) -> tuple[list[Finding], Trace]:
    """`analyse`, for a document that is edited: the rules the edit since `previous` (the
    trace of its last version) cannot affect keep their findings (see `relint`)."""
    context, enabled = _context(migration, config, history, applied, watch=True)
    key = (context.dialect, config.check_downgrade, config.postgres_version, enabled)
    rules = _applicable(RULES, enabled, context.dialect)
    findings, trace = run_rules_watched(context, migration, rules, key, previous)
    return settle(findings, migration, config, enabled, only_unlocated=True), trace


def _context(
    migration: Migration,
    config: Config,
    history: History | None,
    applied: AppliedIndex | None,
    *,
    watch: bool,
) -> tuple[Context, frozenset[str]]:
    """The rules' context for `migration` under `config`, and the rules enabled."""
    context = Context(
        migration,
        config.dialect or migration.dialect or "postgresql",
        config.check_downgrade,
        config.postgres_version,
        history=history,
        applied=applied,
        watch=watch,
    )
    return context, config.enabled_rules()


def run_rules(
    context: Context, rules: Iterable[Rule], enabled: frozenset[str]
) -> tuple[list[Finding], bool]:
    """The raw findings of `rules` (those enabled and applying to the dialect), and whether
    they all ran: one broken rule must not hide the others' findings."""
    migration = context.migration
    findings: list[Finding] = []
    complete = True
    for rule in _applicable(rules, enabled, context.dialect):
        if migration.problems and rule.id != PARSE_ERROR:
            continue
        context.rule = rule
        try:
            findings.extend(rule.check(context))
        except Exception:
            log.exception("internal error in rule %s on %s", rule.id, migration.path)
            complete = False
    return findings, complete


_APPLICABLE: dict[tuple[int, frozenset[str], str], tuple[tuple[Rule, ...], list[Rule]]] = {}


def _applicable(rules: Iterable[Rule], enabled: frozenset[str], dialect: str) -> list[Rule]:
    """The enabled rules of `rules` that apply to `dialect`, in order (worked out once per
    rule list, rule set and dialect: the loop runs for every file)."""
    key = (id(rules), enabled, dialect)
    hit = _APPLICABLE.get(key)
    if hit is None or hit[0] is not rules:
        listed = tuple(rules)
        chosen = [r for r in listed if r.id in enabled and r.applies_to(dialect)]
        if not isinstance(rules, tuple):
            return chosen
        if len(_APPLICABLE) > 64:
            _APPLICABLE.clear()
        hit = _APPLICABLE[key] = (rules, chosen)
    return hit[1]


def settle(
    findings: list[Finding],
    migration: Migration,
    config: Config,
    enabled: frozenset[str],
    only_unlocated: bool = False,
) -> list[Finding]:
    """Ignore comments, severity overrides and line/column positions, in position order
    (`only_unlocated`: keep the positions findings carried over an edit hold already)."""
    findings = suppress.apply(
        findings,
        migration,
        enabled,
        report_unused=not migration.problems,
    )
    overrides = config.severity
    if overrides:
        for finding in findings:
            finding.severity = overrides.get(finding.rule, finding.severity)
    findings.sort(key=_position_order)
    if only_unlocated:
        locate([f for f in findings if f.start is UNLOCATED], migration.lines)
    else:
        locate(findings, migration.lines)
    return findings


_position_order = operator.attrgetter("span.start", "rule")
"""Findings in the order they are reported: by position, then rule."""


def locate(findings: Iterable[Finding], lines: LineIndex) -> None:
    """Fill in each finding's (line, column) positions (fastest on findings in position
    order: a large file has thousands)."""
    listed = findings if isinstance(findings, list) else list(findings)
    offsets: list[int] = []
    for finding in listed:
        offsets.append(finding.span.start)
        offsets.append(finding.span.end)
    found = lines.positions(offsets)
    for index, finding in enumerate(listed):
        finding.start = found[2 * index]
        finding.end = found[2 * index + 1]


@dataclass(slots=True)
class Analysis:
    """One document's parsed migration (None when its tool has no parser) and findings."""

    migration: Migration | None
    findings: list[Finding]
    trace: Trace | None = None
    """What the rules read and reported (`analyse_again`), for the document's next version."""


def analyse_document(
    path: str,
    text: str,
    project: Project,
    config: Config,
    *,
    problem: ParseProblem | None = None,
    settings: dict[str, Any] | None = None,
    history: History | None = None,
    applied: AppliedIndex | None = None,
    edited: Analysis | bool | None = False,
) -> Analysis:
    """Parse and check one file's text (as read from disk or from an editor buffer).
    `edited`: the file is an editor buffer; its analysis keeps a trace for the next version,
    and is given the analysis of its previous version when there is one."""
    if len(text) > config.max_file_size:
        return Analysis(None, [oversized(path, len(text.encode("utf-8")), config)])
    dialect = config.dialect or project.dialect
    merged = {**project.settings, **(settings or {})}
    if problem is not None:
        migration = Migration(
            path=path,
            text=text,
            tool=project.tool,
            dialect=dialect,
            language="sql",
            problems=[problem],
        )
    else:
        parsed = parse_migration(path, text, project.tool, dialect, merged, project.flavor)
        if parsed is None:
            return Analysis(None, [])
        migration = parsed
    if edited is False:
        return Analysis(migration, analyse(migration, config, history=history, applied=applied))
    previous = edited.trace if isinstance(edited, Analysis) else None
    findings, trace = analyse_again(migration, config, previous, history=history, applied=applied)
    return Analysis(migration, findings, trace)


def oversized(path: str, size: int, config: Config) -> Finding:
    limit = config.max_file_size
    finding = Finding(
        rule=PARSE_ERROR,
        message=f"File is {_size(size)}, over the max-file-size limit of {_size(limit)}: not "
        "checked. Raise max-file-size in the migration-lsp configuration to check it.",
        span=Span(0, 0),
        severity=Severity.INFO,
        path=path,
    )
    return finding


def _size(n: int) -> str:
    return f"{n / (1024 * 1024):.1f} MB" if n >= 1024 * 1024 else f"{n} bytes"


# --------------------------------------------------------------------------- one check's history


class SettledHistory(History):
    """A `History` that does not change while it is used (one `check`): every answer is worked
    out once. The history rules ask about the whole graph for each file, which would otherwise
    cost O(files²) (heads, replaced squashes, the files of a path) or worse."""

    def __post_init__(self) -> None:
        History.__post_init__(self)
        self._memo: dict[object, Any] = {}
        self._parents: dict[int, tuple[Node, list[str]]] = {}

    def _once(self, key: object, compute: Callable[[], Any]) -> Any:
        if key not in self._memo:
            self._memo[key] = compute()
        return self._memo[key]

    def memo(self, key: object, compute: Callable[[], Any]) -> Any:
        return self._once(("memo", key), compute)

    def replaced(self) -> dict[str, str]:
        return dict(self._once("replaced", super().replaced))

    def parents(self, node: Node) -> list[str]:
        hit = self._parents.get(id(node))
        if hit is None or hit[0] is not node:
            hit = self._parents[id(node)] = (node, super().parents(node))
        return list(hit[1])

    def heads(self, app: str | None = None) -> list[Node]:
        return list(self._once(("heads", app), lambda: super(SettledHistory, self).heads(app)))

    def nodes_in(self, path: Path | str) -> list[Node]:
        def index() -> dict[Path | str, list[Node]]:
            found: dict[Path | str, list[Node]] = {}
            for node in self.nodes:
                found.setdefault(node.path, []).append(node)
                found.setdefault(str(node.path), []).append(node)
            return found

        paths = self._once("paths", index)
        hit = paths.get(path) if isinstance(path, str) else None
        return list(hit if hit is not None else paths.get(Path(path), ()))

    def _apps(self) -> set[str]:
        return set(self._once("apps", super()._apps))

    def children(self, node_id: str) -> list[Node]:
        def index() -> dict[str, list[Node]]:
            found: dict[str, list[Node]] = {}
            for node in self.nodes:
                for parent in self.parents(node):
                    found.setdefault(parent, []).append(node)
            return found

        return list(self._once("children", index).get(node_id, ()))

    def cycles(self) -> list[list[str]]:
        return [list(c) for c in self._once("cycles", super().cycles)]

    def duplicates(self) -> list[list[Node]]:
        return [list(g) for g in self._once("duplicates", super().duplicates)]

    def ordered(self) -> list[Node]:
        return list(self._once("ordered", super().ordered))

    def roots_of(self, node_id: str) -> set[str]:
        if self.cycles():
            return set(
                self._once(
                    ("roots", node_id), lambda: super(SettledHistory, self).roots_of(node_id)
                )
            )

        def ups(nid: str) -> list[str]:
            found = self.node(nid)
            return [u for u in self.parents(found) if u in self.by_id] if found else []

        memo = self._once("roots", dict)
        return set(_closure(memo, node_id, ups, lambda nid, up: set() if up else {nid}))

    def labels_of(self, node_id: str) -> set[str]:
        if self.cycles():
            return set(
                self._once(
                    ("labels", node_id), lambda: super(SettledHistory, self).labels_of(node_id)
                )
            )

        def ups(nid: str) -> list[str]:
            found = self.node(nid)
            return self.parents(found) if found else []

        def own(nid: str, _: list[str]) -> set[str]:
            found = self.node(nid)
            return set(found.labels) if found else set()

        return set(_closure(self._once("labels", dict), node_id, ups, own))


def _closure(
    memo: dict[str, set[str]],
    start: str,
    ups: Callable[[str], list[str]],
    own: Callable[[str, list[str]], set[str]],
) -> set[str]:
    """`own(x)` united with the closure of every `ups(x)`, memoised; the graph is acyclic."""
    stack = [(start, False)]
    while stack:
        nid, expanded = stack.pop()
        if nid in memo:
            continue
        above = ups(nid)
        if not expanded:
            stack.append((nid, True))
            stack.extend((u, False) for u in above if u not in memo)
            continue
        found = own(nid, above)
        for up in above:
            found |= memo[up]
        memo[nid] = found
    return memo[start]


class SettledApplied(AppliedIndex):
    """An `AppliedIndex` whose `deleted()` is answered once per project and folder list:
    deleted-applied-migration asks for every file, and each answer looks for every file of
    the base tree's folders on disk."""

    __slots__ = ("_deleted", "_folders")

    @classmethod
    def of(cls, index: AppliedIndex | None) -> AppliedIndex | None:
        """`index` settled for one check (sharing its git answers), None for None."""
        if index is None or isinstance(index, SettledApplied):
            return index
        settled = cls.__new__(cls)
        for name in AppliedIndex.__slots__:
            setattr(settled, name, getattr(index, name))
        settled._deleted = {}
        settled._folders = {}
        return settled

    _deleted: dict[tuple[tuple[Path, ...], int], tuple[object, list[AppliedChange]]]
    _folders: dict[str, str | None]

    def _rel(self, path: Path) -> str | None:
        """As `AppliedIndex._rel`, each folder's real path worked out once: the history rules
        ask for every file, and `realpath` looks at every folder above it."""
        folder, name = os.path.split(str(path))
        if folder in self._folders:
            rel = self._folders[folder]
        else:
            rel = self._folders[folder] = super()._rel(Path(folder, "x"))
        if rel is None:
            return None
        return name if rel == "x" else f"{rel[:-1]}{name}"

    def deleted(
        self, directories: Iterable[Path], is_migration: Callable[[Path], bool]
    ) -> list[AppliedChange]:
        folders = tuple(directories)
        owner = getattr(is_migration, "__self__", is_migration)
        key = (folders, id(owner))
        hit = self._deleted.get(key)
        if hit is None or hit[0] is not owner:
            hit = self._deleted[key] = (owner, super().deleted(folders, is_migration))
        return list(hit[1])


# --------------------------------------------------------------------------- workspace


@dataclass(slots=True)
class CheckResult:
    findings: list[Finding] = field(default_factory=list)
    files_checked: int = 0
    texts: dict[str, str] = field(default_factory=dict)
    projects: list[Project] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    fixes: list[Any] = field(default_factory=list)
    """`autofix.FileFix` per file changed by `--fix` / `--diff`."""
    signature: str | None = None
    """With the cache: a hash of everything the findings came from, when all of it could be
    cached (the same signature means the same findings, texts and count)."""
    replayed: bool = False
    """The `Workspace.replay` hook knew the signature: findings were not built."""


class Workspace:
    """Checks files and folders on disk, caching configuration per folder.

    With a `cache` (`cache.CheckCache`) per-file results are kept between runs; `jobs` > 1
    checks the files that need it in that many processes (0: one per CPU). With neither, and
    always for `--fix` / `--diff`, each file is analysed in turn as the language server
    analyses a document: the reference the fast path is tested against."""

    def __init__(
        self,
        select: list[str] | None = None,
        ignore: list[str] | None = None,
        defaults: dict[str, Any] | None = None,
        root: Path | None = None,
        fix: str | None = None,
        unsafe_fixes: bool = False,
        cache: CheckCache | None = None,
        jobs: int = 1,
    ) -> None:
        self.select = select
        self.ignore = ignore
        self.fix = fix
        """None, "fix" (apply the fixes and write files) or "diff" (compute them only)."""
        self.unsafe_fixes = unsafe_fixes
        self.defaults = defaults
        """Options from the editor's settings; a configuration file's own options win."""
        self.root = root
        self.cache = cache
        self.jobs = jobs
        self.replay: Callable[[str], bool] | None = None
        """Called with the signature before the findings are built; True: the caller has
        what they render to (the CLI's stored output), so they are not built."""
        self._configs: dict[Path | None, Config] = {}
        self._django_states: dict[tuple[Path, str | None], tuple[list[str], Any]] = {}
        self._histories: dict[tuple[str, Path], History] = {}
        self._applied: dict[tuple[Path, str | None], AppliedIndex | None] = {}
        self._settled: dict[int, tuple[object, AppliedIndex | None]] = {}

    def applied(self, project: Project, config: Config) -> AppliedIndex | None:
        """What the default branch has applied, from git (None outside a repository). The
        index caches itself per HEAD and default-branch commit, so a commit or a branch
        switch is seen at once."""
        return AppliedIndex.for_path(project.root, config.default_branch)

    def history(self, project: Project) -> History:
        """The project's revision graph from the files on disk, built once per check."""
        from migration_lsp.history.graph import build_history

        key = (project.tool, project.root)
        if key not in self._histories:
            built = build_history(project)
            self._histories[key] = SettledHistory(built.project, built.nodes, built.texts)
        return self._histories[key]

    def config_for(self, path: Path) -> Config:
        """The configuration that applies to `path`; raises `ConfigError`."""
        return self._config_at(find_config(path))

    def _config_at(self, config_path: Path | None) -> Config:
        if config_path not in self._configs:
            config = load_config(config_path, self.defaults, self.root)
            self._configs[config_path] = config.with_overrides(self.select, self.ignore)
        return self._configs[config_path]

    def check(self, paths: Iterable[Path]) -> CheckResult:
        result = CheckResult()
        walk = _Walk(self, result)
        self._applied, self._settled = {}, {}
        if self.fix or (self.cache is None and self.jobs == 1):
            walk.run(paths, self._check_file)
            return result
        with _batch_gc():
            jobs: list[Job] = []
            walk.stamps = self.cache
            walk.run(paths, jobs.append)
            _FastCheck(self, jobs, walk.listed).run(result)
        return result

    def _folder_problems(self, project: Project, result: CheckResult) -> None:
        from migration_lsp.rules.naming import folder_problems

        for folder, message in folder_problems(project):
            try:
                config = self.config_for(folder)
            except ConfigError:
                continue
            rule = BY_ID["invalid-migration-filename"]
            if rule.id not in config.enabled_rules() or config.is_excluded(folder):
                continue
            result.findings.append(
                Finding(
                    rule=rule.id,
                    message=message,
                    span=Span(0, 0),
                    severity=config.severity.get(rule.id, rule.severity),
                    path=str(folder),
                )
            )

    def _check_file(self, job: Job) -> None:
        """The reference path: one file, as the language server analyses a document."""
        path, project, config, name = job.path, job.project, job.config, job.name
        data, result = job.data, job.result
        assert job.known is None, "the reference path reads every file"
        text, problem = decode(data)
        settings = None
        if project.tool == "django" and problem is None:
            settings = {"django_state": self.django_state(path, config.dialect or project.dialect)}
        if self.fix and problem is None:
            from migration_lsp import autofix

            fixed = autofix.fix_file(
                path, text, project, config, unsafe=self.unsafe_fixes, settings=settings
            )
            if fixed.changed:
                result.fixes.append(fixed)
                if self.fix == "fix":
                    autofix.write(fixed, bom=data.startswith(b"\xef\xbb\xbf"))
                    text = fixed.after
        result.texts[name] = text
        analysis = analyse_document(
            name,
            text,
            project,
            config,
            problem=problem,
            settings=settings,
            history=self.history(project),
            applied=self.settled_applied(project, config),
        )
        result.findings.extend(analysis.findings)

    def settled_applied(self, project: Project, config: Config) -> AppliedIndex | None:
        """`applied()`, asked once per project and default branch during one check."""
        key = (project.root, config.default_branch)
        if key not in self._applied:
            raw = self.applied(project, config)
            shared = self._settled.get(id(raw))
            if shared is None or shared[0] is not raw:
                shared = self._settled[id(raw)] = (raw, SettledApplied.of(raw))
            self._applied[key] = shared[1]
        return self._applied[key]

    def django_state(
        self, path: Path, dialect: str | None, listing: Iterable[str] | None = None
    ) -> Any:
        """Model state after the app's earlier migrations, so `AlterField` knows what changed.

        Files are replayed once per folder and the state carried forward while files are
        checked in order. `listing`: the names of the folder's `*.py` files when the caller
        has listed it already."""
        from migration_lsp.parse.django import replay_app_state

        folder = path.parent
        if listing is None:  # `folder.glob("*.py")`'s names, without a `Path` for each
            try:
                listing = [n for n in os.listdir(folder) if n.endswith(".py")]
            except OSError:
                listing = []
        earlier = sorted(n for n in listing if n < path.name and n != "__init__.py")
        done, state = self._django_states.get((folder, dialect), ([], None))
        if done != earlier[: len(done)]:
            done, state = [], None
        files = []
        for name in earlier[len(done) :]:
            child = folder / name
            try:
                files.append((str(child), child.read_text(encoding="utf-8")))
            except (OSError, UnicodeDecodeError):
                continue
        if files or state is None:
            state = replay_app_state(
                files, dialect=dialect, settings={"django_state": state} if state else None
            )
        self._django_states[(folder, dialect)] = (earlier, state)
        return state


@dataclass(slots=True)
class Job:
    """One file admitted for checking: read, with its project and configuration."""

    path: Path
    project: Project
    config: Config
    data: bytes
    result: CheckResult
    at: int
    """How many findings the result held when the file came up: its findings go there."""
    status: os.stat_result | None = None
    """The file's `lstat` when it was admitted (None for a symbolic link)."""
    known: str | None = None
    """The content digest the cache holds for the file's `status`, when it was not read."""
    name: str = field(init=False)
    """`str(path)`."""

    def __post_init__(self) -> None:
        self.name = str(self.path)


_UNKNOWN = object()


def _config_in(folder: Path) -> Path | None:
    """The configuration file in `folder` itself, as `find_config` judges each folder."""
    where = str(folder)
    for name in CONFIG_FILES:
        if os.path.isfile(os.path.join(where, name)):
            candidate = folder / name
            if name != "pyproject.toml" or _configures_us(candidate):
                return candidate
    return None


class _Walk:
    """Which files a check covers, in order: projects under each folder argument, their
    migration files (and misnamed ones), single files by their project. Each file is
    admitted once; excluded, unparsed, oversized and unreadable files are settled here."""

    def __init__(self, workspace: Workspace, result: CheckResult) -> None:
        self.workspace = workspace
        self.result = result
        self.skipped: dict[str, int] = {}
        self.seen: set[str] = set()
        self._real_dirs: dict[str, str] = {}
        self._folder_configs: dict[str, Config] = {}
        self._config_paths: dict[Path, object] = {}
        self.listed: dict[int, list[Path]] = {}
        """`migration_files()` of each project walked, by `id(project)`."""
        self.stamps: CheckCache | None = None
        """A cache whose file stamps may stand for reading a file (its `stat` unchanged)."""

    def run(self, paths: Iterable[Path], visit: Callable[[Job], None]) -> None:
        result = self.result
        for path in paths:
            if path.is_dir():
                inside = None
                projects = detect_projects(path)
                if not projects:
                    projects = detect_enclosing(path)
                    inside = path.resolve()
                if not projects:
                    result.notes.append(f"{path}: no migration project found")
                for project in projects:
                    result.projects.append(project)
                    self.workspace._folder_problems(project, result)
                    files = self.listed[id(project)] = project.migration_files()
                    for file in files + project.misnamed_files():
                        if inside is None or inside in self.resolve(file).parents:
                            self.admit(file, project, visit)
            elif path.exists():
                found = detect_for_file(path.resolve()) or _guess_project(path)
                if found is None:
                    result.notes.append(f"{path}: not a migration file of a detected project")
                    continue
                self.admit(path, found, visit)
            else:
                raise ConfigError(f"no such file or directory: {path}")
        for tool, count in sorted(self.skipped.items()):
            result.notes.append(
                f"{count} {tool} migration file(s) not checked: no {tool} parser yet"
            )

    def resolve(self, path: Path) -> Path:
        """`path.resolve()`, with one `lstat` per file: the folders' real paths are shared."""
        return Path(self._real(path)[0])

    def _real(self, path: Path) -> tuple[str, os.stat_result | None]:
        """`str(path.resolve())` and, when `path` is not a symbolic link, its `stat()`."""
        text = str(path)
        folder, name = os.path.split(text)
        try:
            status: os.stat_result | None = os.lstat(text)
        except OSError:
            status = None
        if status is None or stat.S_ISLNK(status.st_mode) or name in ("", ".", ".."):
            return str(path.resolve()), None
        return os.path.join(self._real_dir(folder), name), status

    def _real_dir(self, folder: str) -> str:
        """`str(Path(folder).resolve())`, from its parent's: one `lstat` per folder."""
        real = self._real_dirs.get(folder)
        if real is None:
            parent, name = os.path.split(folder)
            try:
                linked = name in ("", ".", "..") or stat.S_ISLNK(os.lstat(folder).st_mode)
            except OSError:
                linked = True
            if linked or parent == folder:
                real = str(Path(folder or ".").resolve())
            else:
                real = os.path.join(self._real_dir(parent), name)
            self._real_dirs[folder] = real
        return real

    def config(self, path: Path) -> Config:
        """`Workspace.config_for(path)` for a file, with each folder's configuration file
        looked up once however many files it holds."""
        folder = os.path.dirname(str(path))
        found = self._folder_configs.get(folder)
        if found is None:
            found = self.workspace._config_at(self._config_path(path.parent))
            self._folder_configs[folder] = found
        return found

    def _config_path(self, folder: Path) -> Path | None:
        """`find_config(folder)`: the nearest configuration file at or above `folder`,
        remembered for every folder on the way up."""
        found = self._config_paths.get(folder, _UNKNOWN)
        if found is not _UNKNOWN:
            return cast("Path | None", found)
        here = _config_in(folder)
        if here is None and folder.parent != folder:
            here = self._config_path(folder.parent)
        self._config_paths[folder] = here
        return here

    def admit(self, path: Path, project: Project, visit: Callable[[Job], None]) -> None:
        resolved, status = self._real(path)
        if resolved in self.seen:
            return
        self.seen.add(resolved)
        config = self.config(path)
        if config.is_excluded(path):
            return
        if project.tool not in PARSED_TOOLS and path.suffix != ".sql":
            self.skipped[project.tool] = self.skipped.get(project.tool, 0) + 1
            return
        result = self.result
        name = str(path)
        result.files_checked += 1
        try:
            size = (status or os.stat(name)).st_size
            if size > config.max_file_size:
                result.findings.append(oversized(name, size, config))
                return
            known = None if self.stamps is None else self.stamps.known_digest(name, status)
            if known is not None:  # read only if the output cannot be replayed
                visit(Job(path, project, config, b"", result, len(result.findings), status, known))
                return
            data = path.read_bytes()
        except OSError as error:
            result.findings.append(_unreadable(name, error))
            return
        visit(Job(path, project, config, data, result, len(result.findings), status))


def _unreadable(name: str, error: OSError) -> Finding:
    return Finding(
        rule=PARSE_ERROR,
        message=f"Cannot read file: {error.strerror or error}",
        span=Span(0, 0),
        severity=BY_ID[PARSE_ERROR].severity,
        path=name,
    )


_CONTENT_HINTS: tuple[tuple[tuple[str, ...], str, str], ...] = (
    ((".py",), "class Migration(", "django"),
    ((".py",), "def upgrade(", "alembic"),
    ((".rb",), "ActiveRecord::Migration", "rails"),
    ((".php",), "extends Migration", "laravel"),
    ((".js", ".ts", ".cjs", ".mjs"), "MigrationInterface", "typeorm"),
    ((".js", ".ts", ".cjs", ".mjs"), "queryRunner", "typeorm"),
    ((".js", ".ts", ".cjs", ".mjs"), "queryInterface", "sequelize"),
    ((".js", ".ts", ".cjs", ".mjs"), "knex", "knex"),
    ((".xml", ".yaml", ".yml", ".json"), "databaseChangeLog", "liquibase"),
    ((".sql",), "--liquibase formatted sql", "liquibase"),
)
"""(suffixes, text the file contains, tool): how a lone file shows its tool, first match wins."""


def _guess_project(path: Path) -> Project | None:
    """A lone file outside any detected project: judge by its content (read, never run)."""
    suffix = path.suffix.lower()
    candidates = [(marker, tool) for suffixes, marker, tool in _CONTENT_HINTS if suffix in suffixes]
    if not candidates:
        return None
    try:
        with path.open(encoding="utf-8", errors="replace") as handle:
            head = handle.read(20000)
    except OSError:
        return None
    for marker, tool in candidates:
        if marker in head:
            return Project(tool=tool, root=path.parent, migration_dirs=[path.parent])
    if suffix == ".sql":
        return Project(tool="sql", root=path.parent, migration_dirs=[path.parent])
    return None


# --------------------------------------------------------------------------- the fast check
#
# `check` over many files: cached entries where the key still matches, the rest parsed and
# checked in worker processes (a Django app folder stays in one worker, in order, for its
# state replay), then in this process the history rules, ignore comments, severities and
# positions, exactly as `analyse` does them.

GRAPH_IDS = frozenset(r.id for r in HISTORY_RULES)
"""Rules that read other files through `Context.history` / `Context.applied`: never cached,
run on every check from the (cached) history nodes."""
LOCAL_RULES = tuple(r for r in RULES if r.id not in GRAPH_IDS)
GRAPH_RULES = tuple(r for r in RULES if r.id in GRAPH_IDS)
PARALLEL_MIN_FILES = 48
"""Fewer files than this to parse are checked in this process: a pool costs more."""
_RULE_SET = ",".join(r.id for r in RULES)
_BOM = b"\xef\xbb\xbf"

_Task = tuple[str, str, ParseProblem | None, Config, bool]
"""(path, text, decoding problem, configuration, starts with a BOM): one file for a worker."""
_Unit = tuple[Project, list[_Task], list[str] | None]
"""Files of one project checked together, in order; the folder listing for Django."""


class _LocalContext(Context):
    """The context of the rules that read only their own file. Reading `history` or
    `applied` is noted: the file is then analysed again in full (`redo`)."""

    touched = False

    @property
    def history(self) -> History | None:
        self.touched = True
        return None

    @history.setter
    def history(self, value: History | None) -> None:
        pass

    @property
    def applied(self) -> AppliedIndex | None:
        self.touched = True
        return None

    @applied.setter
    def applied(self, value: AppliedIndex | None) -> None:
        pass


def _analyse_unit(project: Project, tasks: list[_Task], listing: list[str] | None) -> list[Entry]:
    """Worker side: parse and run the local rules on each file of a unit, in order.

    In a worker process nothing is parsed twice: the SQL parser's memory of recent texts
    (for re-parsing an edited one) is dropped before each file instead of searched."""
    from migration_lsp.parse import SQL_TOOLS

    forget: Callable[[], None] | None = None
    if _WORKER[0] and project.tool in SQL_TOOLS:
        from migration_lsp.parse.sql_incremental import forget
    replay = Workspace()
    out = []
    for name, text, problem, config, bom in tasks:
        if forget is not None:
            forget()
        settings = None
        if project.tool == "django" and problem is None:
            dialect = config.dialect or project.dialect
            settings = {"django_state": replay.django_state(Path(name), dialect, listing)}
        out.append(_local_entry(name, text, problem, project, config, settings, bom))
    return out


def _local_entry(
    name: str,
    text: str,
    problem: ParseProblem | None,
    project: Project,
    config: Config,
    settings: dict[str, Any] | None,
    bom: bool,
) -> Entry:
    """What `analyse_document` computes from this file alone: parse facts, the local rules'
    raw findings (before ignore comments and overrides) and the file's history nodes."""
    from migration_lsp.history.graph import _nodes_for

    node_text = "\ufeff" + text if bom else text
    nodes = _nodes_for(project, Path(os.path.abspath(name)), _universal_newlines(node_text))
    return _local_analysis(name, text, problem, project, config, settings, nodes)


def _local_analysis(
    name: str,
    text: str,
    problem: ParseProblem | None,
    project: Project,
    config: Config,
    settings: dict[str, Any] | None,
    nodes: list[Node],
) -> Entry:
    entry: Entry = {"nodes": encode_nodes(nodes), "parsed": False, "ok": True}
    dialect = config.dialect or project.dialect
    if problem is not None:
        migration: Migration | None = Migration(
            path=name,
            text=text,
            tool=project.tool,
            dialect=dialect,
            language="sql",
            problems=[problem],
        )
    else:
        merged = {**project.settings, **(settings or {})}
        migration = parse_migration(name, text, project.tool, dialect, merged, project.flavor)
    if migration is None:
        return entry
    enabled = config.enabled_rules()
    effective = config.dialect or migration.dialect or "postgresql"
    context = _LocalContext(migration, effective, config.check_downgrade, config.postgres_version)
    raw, complete = run_rules(context, LOCAL_RULES, enabled)
    rows = encode_findings(raw)
    entry.update(
        parsed=True,
        path=migration.path,
        tool=migration.tool,
        dialect=migration.dialect,
        lang=migration.language,
        problems=encode_problems(migration.problems),
        changesets=encode_changesets(c for c in migration.changesets if c.identity),
        findings=rows or [],
        ok=complete and rows is not None and not context.touched,
    )
    if migration.text != text:
        entry["text"] = migration.text
    if rows is None:
        entry["raw"] = raw
    elif not context.touched:
        settled = settle(raw, migration, config, enabled)
        if all(f.path == migration.path for f in settled):
            entry["settled"] = encode_findings(settled, located=True)
    if context.touched:
        entry["redo"] = True
    return entry


GC_THRESHOLD = 20_000
"""Allocations between two young-generation collections during a check (Python's default:
700)."""


@contextlib.contextmanager
def _batch_gc() -> Iterator[None]:
    """A check allocates millions of objects that live until it ends (texts, findings,
    history) and few cycles (parse trees): with the default thresholds the collector scans
    the survivors again and again (a quarter of this process's time on 10,000 files). Collect
    rarely, and never the objects that existed before the check (frozen: the forked workers
    share them untouched)."""
    import gc

    threshold = gc.get_threshold()
    gc.freeze()
    gc.set_threshold(max(threshold[0], GC_THRESHOLD), *threshold[1:])
    try:
        yield
    finally:
        gc.set_threshold(*threshold)
        gc.unfreeze()


def _universal_newlines(text: str) -> str:
    """The text as `Path.read_text` gives it (how the history reads files)."""
    if "\r" not in text:
        return text
    return text.replace("\r\n", "\n").replace("\r", "\n")


def _cpus() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        return os.cpu_count() or 1


def _run_units(units: list[_Unit], workers: int) -> Iterator[tuple[int, list[Entry]]]:
    """(index, entries) of each unit as it is done, computed in `workers` processes in the
    order given; the caller works on what is done while the workers go on."""
    if workers <= 1:
        for index, unit in enumerate(units):
            yield index, _analyse_unit(*unit)
        return
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor, as_completed
    from concurrent.futures.process import BrokenProcessPool

    fork = "fork" in multiprocessing.get_all_start_methods()
    context = multiprocessing.get_context("fork" if fork else None)
    order = range(len(units))
    done: set[int] = set()
    token = id(units)
    if fork:
        _SHARED[token] = units
        _preload({project.tool for project, _, _ in units})
    try:
        with ProcessPoolExecutor(workers, mp_context=context) as pool:
            if fork:  # the workers are forked at the first submit: they hold the units
                futures = {pool.submit(_analyse_shared, token, i): i for i in order}
            else:
                futures = {pool.submit(_analyse_unit, *units[i]): i for i in order}
            for future in as_completed(futures):
                entries = future.result()
                done.add(futures[future])
                yield futures[future], entries
    except BrokenProcessPool:
        log.warning("a worker process died; checking the files in this process")
        for index, unit in enumerate(units):
            if index not in done:
                yield index, _analyse_unit(*unit)
    finally:
        _SHARED.pop(token, None)


def _preload(tools: set[str]) -> None:
    """Import the parsers of `tools` before the workers are forked: they inherit them instead
    of each importing them (sqlglot and the parsers take about 0.15 s of CPU apiece)."""
    import importlib

    from migration_lsp.parse import SQL_TOOLS, TOOL_PARSERS

    modules: set[str] = set()
    for tool in tools:
        if tool in TOOL_PARSERS:
            modules.add(TOOL_PARSERS[tool].partition(":")[0])
        elif tool in ("alembic", "django"):
            modules.add(f"migration_lsp.parse.{tool}")
        elif tool in SQL_TOOLS:
            modules.add("migration_lsp.parse.sql_files")
    for module in sorted(modules):
        importlib.import_module(module)


_SHARED: dict[int, list[_Unit]] = {}
"""The units of each running pool, inherited by its forked workers: a worker is sent an
index, not the texts and configuration of its files."""


_WORKER = [False]
"""True in a forked worker process (set by `_analyse_shared`)."""


def _analyse_shared(token: int, index: int) -> list[Entry]:
    _WORKER[0] = True
    return _analyse_unit(*_SHARED[token][index])


@dataclass(slots=True)
class _Local:
    """A file's local entry, decoded: what the history rules and the finishing steps need."""

    migration: Migration | None
    """A stand-in for the parsed migration (no operations); None: no parser for the tool."""
    findings: list[Finding] | None
    """The local rules' raw findings (None: not decoded yet, `rows` holds them)."""
    nodes: list[list[Any]]
    """The file's history nodes, encoded."""
    redo: bool = False
    """A local rule read the history: analyse the file again in full."""
    rows: list[list[Any]] | None = None
    settled: list[list[Any]] | None = None
    """Fresh from a worker: the findings as reported (located) when the history rules add
    none, the usual case; the raw findings are then never decoded."""

    def raw(self) -> list[Finding]:
        if self.findings is None:
            path = self.migration.path if self.migration is not None else ""
            self.findings = decode_findings(self.rows or [], path)
        return self.findings


def _unpack(entry: Entry, name: str, text: str, fresh: bool = False) -> _Local:
    """Decode an entry (raises on a malformed one: a corrupt cache is a miss). A `fresh` one,
    just computed by a worker, is trusted: its findings are decoded only when needed."""
    nodes = entry["nodes"]
    if not isinstance(nodes, list):
        raise TypeError("nodes")
    if not entry["parsed"]:
        return _Local(None, [], nodes)
    migration = Migration(
        path=str(entry["path"]),
        text=str(entry.get("text", text)),
        tool=str(entry["tool"]),
        dialect=entry["dialect"],
        language=entry["lang"],
        problems=decode_problems(entry["problems"]),
        changesets=decode_changesets(entry["changesets"]),
    )
    raw = entry.get("raw")
    redo = bool(entry.get("redo"))
    if raw is None and fresh:
        return _Local(migration, None, nodes, redo, entry["findings"], entry.get("settled"))
    findings = raw if raw is not None else decode_findings(entry["findings"], migration.path)
    return _Local(migration, findings, nodes, redo)


@dataclass(slots=True)
class _Item:
    job: Job
    text: str
    problem: ParseProblem | None
    digest: str
    key: str = ""
    """Cache key of the local entry: the file and everything its parse and local rules read."""
    final_key: str = ""
    """Cache key of the findings as reported: `key` and the project's history and git state."""
    local: _Local | None = None
    cacheable: bool = False
    findings: list[Finding] = field(default_factory=list)
    done: bool = False
    """Its findings are known (too large once decoded, cached, or finished)."""


class _FastCheck:
    """One `check` of admitted files through the cache and the worker processes."""

    def __init__(
        self, workspace: Workspace, jobs: list[Job], listed: dict[int, list[Path]]
    ) -> None:
        self.workspace = workspace
        self.cache = workspace.cache
        self.items = [_prepare(job) for job in jobs]
        self._listed = listed
        self._digests: dict[str, str] = {}
        self._by_path: dict[tuple[int, str], _Item] = {}
        for item in self.items:
            absolute = os.path.abspath(item.job.name)
            self._digests[item.job.name] = self._digests[absolute] = item.digest
            self._by_path[(id(item.job.project), absolute)] = item
        self._listings: dict[Path, list[str] | None] = {}
        self._chains: dict[tuple[Path, str], tuple[list[str], list[str]]] = {}
        self._contexts: dict[tuple[int, int], str] = {}
        self._projects: dict[int, str] = {}
        self._graphs: dict[tuple[int, str | None], str] = {}
        self._graph_of: dict[tuple[int, int], str] = {}
        self._based: set[int] = set()
        self._histories: dict[int, History] = {}

    def run(self, result: CheckResult) -> None:
        self._keys()
        signature = self._signature(result)
        replay, cache = self.workspace.replay, self.cache
        if cache is not None and signature is not None and replay and replay(signature):
            result.replayed = True
            cache.save()
            return
        if self._read():  # a file changed since its stamp was read
            signature = self._signature(result)
        for item in self.items:
            result.texts[item.job.name] = item.text
        self._look_up()
        self._compute([i for i in self.items if i.local is None and not i.done])
        self._finish_all()
        if signature is not None and all(i.cacheable or i.final_key == "" for i in self.items):
            result.signature = signature
        merged: list[Finding] = []
        before = 0
        for item in self.items:
            merged.extend(result.findings[before : item.job.at])
            merged.extend(item.findings)
            before = item.job.at
        merged.extend(result.findings[before:])
        result.findings = merged
        if self.cache is not None:
            self.cache.save()

    # ---------------------------------------------------------------- keys and look-ups

    def _keys(self) -> None:
        if self.cache is None:
            return
        for item in self.items:
            if not item.done:
                self._key(item)

    def _key(self, item: _Item) -> None:
        job = item.job
        context = self._context(job.config, job.project)
        item.key = digest(context, job.name, item.digest, self._dependencies(item))
        item.final_key = digest(item.key, self._graph(job.project, job.config))

    def _read(self) -> bool:
        """Read the files admitted on their stamp alone (the output was not replayed), and
        remember the stamps of the files read: the next run need not read them. True when a
        file's content was not the one its stamp promised (the keys are worked out again)."""
        cache = self.cache
        changed = False
        for item in self.items:
            job = item.job
            if job.known is None:
                if cache is not None and job.status is not None:
                    cache.stamp(job.name, job.status, item.digest)
                continue
            try:
                job.data = job.path.read_bytes()
            except OSError as error:  # gone since it was admitted
                item.findings, item.done = [_unreadable(job.name, error)], True
                continue
            job.known = None
            fresh = _prepare(job)
            item.text, item.problem, item.done = fresh.text, fresh.problem, fresh.done
            item.findings = fresh.findings
            if fresh.digest != item.digest:  # changed since it was admitted
                item.digest = fresh.digest
                changed = True
        if changed:
            self._digests.clear()
            for item in self.items:
                self._digests[item.job.name] = item.digest
                self._digests[os.path.abspath(item.job.name)] = item.digest
            self._graphs.clear()
            self._graph_of.clear()
            self._chains.clear()
            self._keys()
        return changed

    def _signature(self, result: CheckResult) -> str | None:
        """Everything the run's findings, texts and count come from: each file's final key
        (or its settled findings), the findings about folders and unreadable files."""
        if self.cache is None:
            return None
        parts = [code_fingerprint(), str(result.files_checked)]
        for item in self.items:
            parts += [item.job.name, item.final_key or repr(item.findings), str(item.job.at)]
        parts += [repr(f) for f in result.findings]
        return digest(*parts)

    def _look_up(self) -> None:
        cache = self.cache
        if cache is None:
            return
        for item in self.items:
            if item.done:
                continue
            job = item.job
            where = project_key(job.project)
            final = cache.get(where, job.name, item.final_key, CheckCache.FINAL)
            if final is not None:
                try:
                    item.findings = decode_findings(final[1], str(final[0]))
                    item.done = item.cacheable = True
                    continue
                except (TypeError, ValueError, KeyError, IndexError, AttributeError):
                    log.debug("ignoring a malformed cache entry for %s", job.name)
            entry = cache.get(where, job.name, item.key)
            if entry is not None:
                try:
                    item.local = _unpack(entry, job.name, item.text)
                    item.cacheable = True
                except (TypeError, ValueError, KeyError, IndexError, AttributeError):
                    log.debug("ignoring a malformed cache entry for %s", job.name)

    def _context(self, config: Config, project: Project) -> str:
        """Everything but the file that decides its findings: configuration, project facts
        (and the files its settings name), the rule set."""
        key = (id(config), id(project))
        if key not in self._contexts:
            self._contexts[key] = digest(repr(config), self._project(project), _RULE_SET)
        return self._contexts[key]

    def _project(self, project: Project) -> str:
        if id(project) not in self._projects:
            self._projects[id(project)] = project_fingerprint(project)
        return self._projects[id(project)]

    def _graph(self, project: Project, config: Config) -> str:
        """What the history rules read besides the file: every migration of the project (the
        nodes derive from path and content) and, in git, the merge base and the applied
        migrations deleted since; "-" when no history rule is enabled."""
        known = self._graph_of.get((id(project), id(config)))
        if known is not None:
            return known
        enabled = config.enabled_rules()
        if not any(r.id in enabled for r in GRAPH_RULES):
            self._graph_of[(id(project), id(config))] = "-"
            return "-"
        key = (id(project), config.default_branch)
        if key not in self._graphs:
            parts = [self._project(project)]
            parts += [f"{p}\0{self._digest(p)}" for p in self._files(project)]
            applied = self.workspace.settled_applied(project, config)
            if applied is None:
                parts.append("no git")
            else:
                self._list_base(applied)
                deleted = applied.deleted(project.migration_dirs, project.is_migration_file)
                parts += [str(applied.root), applied.base, applied.base_ref]
                parts += [str(change.path) for change in deleted]
            self._graphs[key] = digest(*parts)
        self._graph_of[(id(project), id(config))] = self._graphs[key]
        return self._graphs[key]

    def _list_base(self, applied: AppliedIndex) -> None:
        """Have git list the base tree under every project's migration folders at once: one
        `ls-tree` rather than one per project. (`changes()` lists the folders of the files it
        is given; a name that exists nowhere is compared with nothing.)"""
        if id(applied) in self._based:
            return
        self._based.add(id(applied))
        folders = dict.fromkeys(d for i in self.items for d in i.job.project.migration_dirs)
        applied.changes([folder / ".migration-lsp-probe" for folder in folders])

    def _files(self, project: Project) -> list[Path]:
        """`project.migration_files()`, listed once per check."""
        if id(project) not in self._listed:
            self._listed[id(project)] = project.migration_files()
        return self._listed[id(project)]

    def _dependencies(self, item: _Item) -> str:
        """The other files this file's parser reads: the Django state replay and Laravel's
        column history read the earlier migrations of the folder; a Flyway script may have a
        `.conf` next to it (`parse.sql_files` reads it for Flyway only)."""
        path, tool = item.job.path, item.job.project.tool
        parts = []
        if tool == "django":  # (also for a file that does not decode: not read yet, maybe)
            parts.append(self._earlier(path, ".py"))
        if tool == "laravel":
            parts.append(self._earlier(path, ".php"))
        if tool == "flyway" and path.name.lower().endswith(".sql"):
            listing = self._listing(path.parent)
            conf = path.name + ".conf"
            present = listing is None or conf in listing
            parts.append(file_digest(f"{path}.conf") if present else "-")
        return digest(*parts)

    def _earlier(self, path: Path, suffix: str) -> str:
        folder = path.parent
        chain = self._chains.get((folder, suffix))
        if chain is None:
            names = sorted(
                n for n in self._listing(folder) or () if n.endswith(suffix) and n != "__init__.py"
            )
            prefixes = [""]
            for name in names:
                prefixes.append(digest(prefixes[-1], name, self._digest(folder / name)))
            chain = self._chains[(folder, suffix)] = (names, prefixes)
        names, prefixes = chain
        return prefixes[bisect.bisect_left(names, path.name)]

    def _digest(self, path: Path) -> str:
        found = self._digests.get(str(path))
        if found is None:
            found = self._digests[str(path)] = file_digest(path)
        return found

    def _listing(self, folder: Path) -> list[str] | None:
        if folder not in self._listings:
            try:
                self._listings[folder] = os.listdir(folder)
            except OSError:
                self._listings[folder] = None
        return self._listings[folder]

    # ---------------------------------------------------------------- the misses

    def _compute(self, items: list[_Item]) -> None:
        if not items:
            return
        groups = self._units(items)
        jobs = self.workspace.jobs if self.workspace.jobs > 0 else _cpus()
        workers = 1 if len(items) < PARALLEL_MIN_FILES else min(jobs, len(groups))
        units: list[_Unit] = []
        for project, members, listing in groups:
            tasks = [
                (i.job.name, i.text, i.problem, i.job.config, i.job.data.startswith(_BOM))
                for i in members
            ]
            units.append((project, tasks, listing))
        pending = Counter(id(project) for project, _, _ in groups)
        for index, entries in _run_units(units, workers):
            project, members, _ = groups[index]
            for item, entry in zip(members, entries, strict=True):
                item.local = _unpack(entry, item.job.name, item.text, fresh=True)
                item.cacheable = bool(entry.pop("ok"))
                entry.pop("settled", None)  # the final layer holds what it would
                if self.cache is not None and item.cacheable:
                    self.cache.put(project_key(item.job.project), item.job.name, item.key, entry)
            pending[id(project)] -= 1
            if not pending[id(project)]:  # its history is complete: finish it meanwhile
                self._finish_all(project)

    def _finish_all(self, project: Project | None = None) -> None:
        """The findings of every file (of `project`) not settled yet."""
        for item in self.items:
            if not item.done and (project is None or item.job.project is project):
                item.findings = self._finish(item)
                item.done = True

    def _units(self, items: list[_Item]) -> list[tuple[Project, list[_Item], list[str] | None]]:
        """Django: one unit per app folder (its state replay runs in order), biggest first.
        Others: runs of consecutive files, small enough for both workers to stay busy, one
        project after the other, so that this process finishes each project (history rules,
        ignore comments, positions) while the workers go on with the next."""
        by_project: dict[int, list[_Item]] = {}
        for item in items:
            by_project.setdefault(id(item.job.project), []).append(item)
        size = max(8, min(64, len(items) // (_cpus() * 8) or 1))
        units: list[tuple[Project, list[_Item], list[str] | None]] = []
        apps: list[tuple[Project, list[_Item], list[str] | None]] = []
        for members in by_project.values():
            project = members[0].job.project
            if project.tool != "django":
                units.extend(
                    (project, members[i : i + size], None) for i in range(0, len(members), size)
                )
                continue
            folders: dict[Path, list[_Item]] = {}
            for item in members:
                folders.setdefault(item.job.path.parent, []).append(item)
            for folder, inside in folders.items():
                listing = [n for n in self._listing(folder) or () if n.endswith(".py")]
                apps.append((project, inside, listing))
        apps.sort(key=lambda unit: -len(unit[1]))
        return apps + units

    # ---------------------------------------------------------------- this process

    def _finish(self, item: _Item) -> list[Finding]:
        local, job = item.local, item.job
        assert local is not None
        if local.redo:
            return self._in_full(item)
        migration = local.migration
        if migration is None:
            self._keep(item, job.name, [])
            return []
        config = job.config
        enabled = config.enabled_rules()
        effective = config.dialect or migration.dialect or "postgresql"
        graph: list[Finding] = []
        if _applicable(GRAPH_RULES, enabled, effective):
            context = Context(
                migration,
                effective,
                config.check_downgrade,
                config.postgres_version,
                history=self._history(job.project),
                applied=self.workspace.settled_applied(job.project, config),
            )
            graph, complete = run_rules(context, GRAPH_RULES, enabled)
            item.cacheable = item.cacheable and complete
        if not graph and local.settled is not None:
            findings = decode_findings(local.settled, migration.path)
            self._keep(item, migration.path, findings, local.settled)
            return findings
        findings = settle(local.raw() + graph, migration, config, enabled)
        self._keep(item, migration.path, findings)
        return findings

    def _keep(
        self, item: _Item, path: str, findings: list[Finding], rows: list[Any] | None = None
    ) -> None:
        """Store the findings as reported (`rows`: already encoded), when everything they
        came from was cacheable."""
        if self.cache is None or not item.cacheable or any(f.path != path for f in findings):
            return
        if rows is None:
            rows = encode_findings(findings, located=True)
        if rows is not None:
            where = project_key(item.job.project)
            self.cache.put(where, item.job.name, item.final_key, [path, rows], CheckCache.FINAL)

    def _in_full(self, item: _Item) -> list[Finding]:
        """A local rule read the history: analyse the file as the reference path does."""
        job = item.job
        settings = None
        if job.project.tool == "django" and item.problem is None:
            dialect = job.config.dialect or job.project.dialect
            settings = {"django_state": self.workspace.django_state(job.path, dialect)}
        analysis = analyse_document(
            job.name,
            item.text,
            job.project,
            job.config,
            problem=item.problem,
            settings=settings,
            history=self._history(job.project),
            applied=self.workspace.settled_applied(job.project, job.config),
        )
        return analysis.findings

    def _history(self, project: Project) -> History:
        """`build_history(project)`, from the nodes the entries hold."""
        if id(project) not in self._histories:
            nodes: list[Node] = []
            for path in self._files(project):
                nodes.extend(self._nodes(project, path))
            self._histories[id(project)] = SettledHistory(project, nodes, {})
        return self._histories[id(project)]

    def _nodes(self, project: Project, path: Path) -> list[Node]:
        item = self._by_path.get((id(project), str(path)))
        if item is not None and item.local is not None:
            try:
                return decode_nodes(item.local.nodes, path)
            except (TypeError, ValueError, KeyError, IndexError, AttributeError):
                log.debug("ignoring malformed history nodes cached for %s", path)
        from migration_lsp.history.graph import _nodes_for

        try:
            data = path.read_bytes()
        except OSError:
            return []
        key = digest(self._project(project), str(path), content_digest(data))
        name = "#" + str(path)
        if self.cache is not None:
            hit = self.cache.get(project_key(project), name, key)
            if hit is not None:
                try:
                    return decode_nodes(hit, path)
                except (TypeError, ValueError, KeyError, IndexError, AttributeError):
                    log.debug("ignoring malformed history nodes cached for %s", path)
        nodes = _nodes_for(project, path, _universal_newlines(data.decode("utf-8", "replace")))
        if self.cache is not None:
            self.cache.put(project_key(project), name, key, encode_nodes(nodes))
        return nodes


def _prepare(job: Job) -> _Item:
    if job.known is not None:  # not read: `_FastCheck._read` reads it when it is needed
        return _Item(job, "", None, job.known)
    text, problem = decode(job.data)
    item = _Item(job, text, problem, content_digest(job.data))
    if len(text) > job.config.max_file_size:
        item.findings = [oversized(job.name, len(text.encode("utf-8")), job.config)]
        item.done = True
    return item
