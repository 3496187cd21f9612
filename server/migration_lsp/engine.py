"""The one engine behind the CLI and the language server: file → findings.

Reading (bytes → text, with clear findings for binary, non-UTF-8 and oversized files), parsing
with the project's tool, running the enabled rules, applying severity overrides and ignore
comments, and computing line/column positions. The LSP layer and the CLI only convert.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from migration_lsp import suppress
from migration_lsp.findings import Finding
from migration_lsp.model import Migration, ParseProblem, Severity
from migration_lsp.parse import PARSED_TOOLS, parse_migration
from migration_lsp.project.config import Config, ConfigError, find_config, load_config
from migration_lsp.project.detect import (
    Project,
    detect_enclosing,
    detect_for_file,
    detect_projects,
)
from migration_lsp.rules.base import Context
from migration_lsp.rules.registry import BY_ID, PARSE_ERROR, RULES
from migration_lsp.text import LineIndex, Span

if TYPE_CHECKING:
    from migration_lsp.history.git import AppliedIndex
    from migration_lsp.history.graph import History

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
    dialect = config.dialect or migration.dialect or "postgresql"
    enabled = config.enabled_rules()
    context = Context(
        migration,
        dialect,
        config.check_downgrade,
        config.postgres_version,
        history=history,
        applied=applied,
    )
    findings: list[Finding] = []
    for rule in RULES:
        if rule.id not in enabled or not rule.applies_to(dialect):
            continue
        if migration.problems and rule.id != PARSE_ERROR:
            continue
        context.rule = rule
        try:
            findings.extend(rule.check(context))
        except Exception:  # one broken rule must not hide the others' findings
            log.exception("internal error in rule %s on %s", rule.id, migration.path)
    findings = suppress.apply(
        findings,
        migration,
        enabled,
        report_unused=not migration.problems,
    )
    for finding in findings:
        finding.severity = config.severity.get(finding.rule, finding.severity)
    locate(findings, migration.lines)
    findings.sort(key=lambda f: (f.span.start, f.rule))
    return findings


def locate(findings: Iterable[Finding], lines: LineIndex) -> None:
    for finding in findings:
        finding.start = lines.position(finding.span.start)
        finding.end = lines.position(finding.span.end)


@dataclass(slots=True)
class Analysis:
    """One document's parsed migration (None when its tool has no parser) and findings."""

    migration: Migration | None
    findings: list[Finding]


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
) -> Analysis:
    """Parse and check one file's text (as read from disk or from an editor buffer)."""
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
    return Analysis(migration, analyse(migration, config, history=history, applied=applied))


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


class Workspace:
    """Checks files and folders on disk, caching configuration per folder."""

    def __init__(
        self,
        select: list[str] | None = None,
        ignore: list[str] | None = None,
        defaults: dict[str, Any] | None = None,
        root: Path | None = None,
        fix: str | None = None,
        unsafe_fixes: bool = False,
    ) -> None:
        self.select = select
        self.ignore = ignore
        self.fix = fix
        """None, "fix" (apply the fixes and write files) or "diff" (compute them only)."""
        self.unsafe_fixes = unsafe_fixes
        self.defaults = defaults
        """Options from the editor's settings; a configuration file's own options win."""
        self.root = root
        self._configs: dict[Path | None, Config] = {}
        self._django_states: dict[tuple[Path, str | None], tuple[list[str], Any]] = {}
        self._histories: dict[tuple[str, Path], History] = {}

    def applied(self, project: Project, config: Config) -> AppliedIndex | None:
        """What the default branch has applied, from git (None outside a repository). The
        index caches itself per HEAD and default-branch commit, so a commit or a branch
        switch is seen at once."""
        from migration_lsp.history.git import AppliedIndex

        return AppliedIndex.for_path(project.root, config.default_branch)

    def history(self, project: Project) -> History:
        """The project's revision graph from the files on disk, built once per check."""
        from migration_lsp.history.graph import build_history

        key = (project.tool, project.root)
        if key not in self._histories:
            self._histories[key] = build_history(project)
        return self._histories[key]

    def config_for(self, path: Path) -> Config:
        """The configuration that applies to `path`; raises `ConfigError`."""
        config_path = find_config(path)
        if config_path not in self._configs:
            config = load_config(config_path, self.defaults, self.root)
            self._configs[config_path] = config.with_overrides(self.select, self.ignore)
        return self._configs[config_path]

    def check(self, paths: Iterable[Path]) -> CheckResult:
        result = CheckResult()
        skipped: dict[str, int] = {}
        seen: set[Path] = set()
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
                    self._folder_problems(project, result)
                    for file in project.migration_files() + project.misnamed_files():
                        if inside is None or inside in file.resolve().parents:
                            self._check_file(file, project, result, skipped, seen)
            elif path.exists():
                found = detect_for_file(path.resolve()) or _guess_project(path)
                if found is None:
                    result.notes.append(f"{path}: not a migration file of a detected project")
                    continue
                self._check_file(path, found, result, skipped, seen)
            else:
                raise ConfigError(f"no such file or directory: {path}")
        for tool, count in sorted(skipped.items()):
            result.notes.append(
                f"{count} {tool} migration file(s) not checked: no {tool} parser yet"
            )
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

    def _check_file(
        self,
        path: Path,
        project: Project,
        result: CheckResult,
        skipped: dict[str, int],
        seen: set[Path],
    ) -> None:
        resolved = path.resolve()
        if resolved in seen:
            return
        seen.add(resolved)
        config = self.config_for(path)
        if config.is_excluded(path):
            return
        if project.tool not in PARSED_TOOLS and path.suffix != ".sql":
            skipped[project.tool] = skipped.get(project.tool, 0) + 1
            return
        name = str(path)
        result.files_checked += 1
        try:
            size = path.stat().st_size
            if size > config.max_file_size:
                result.findings.append(oversized(name, size, config))
                return
            data = path.read_bytes()
        except OSError as error:
            result.findings.append(
                Finding(
                    rule=PARSE_ERROR,
                    message=f"Cannot read file: {error.strerror or error}",
                    span=Span(0, 0),
                    severity=BY_ID[PARSE_ERROR].severity,
                    path=name,
                )
            )
            return
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
            applied=self.applied(project, config),
        )
        result.findings.extend(analysis.findings)

    def django_state(self, path: Path, dialect: str | None) -> Any:
        """Model state after the app's earlier migrations, so `AlterField` knows what changed.

        Files are replayed once per folder and the state carried forward while files are
        checked in order."""
        from migration_lsp.parse.django import replay_app_state

        folder = path.parent
        earlier = sorted(p.name for p in folder.glob("*.py") if p.name < path.name)
        earlier = [n for n in earlier if n != "__init__.py"]
        done, state = self._django_states.get((folder, dialect), ([], None))
        if done != earlier[: len(done)]:
            done, state = [], None
        files = []
        for name in earlier[len(done) :]:
            try:
                files.append((str(folder / name), (folder / name).read_text(encoding="utf-8")))
            except (OSError, UnicodeDecodeError):
                continue
        if files or state is None:
            state = replay_app_state(
                files, dialect=dialect, settings={"django_state": state} if state else None
            )
        self._django_states[(folder, dialect)] = (earlier, state)
        return state


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
