"""On-disk cache of per-file check results, so a second `migration-lsp check` re-reads only
what changed (ruff's cache, for migrations).

One JSON file per (project, command-line options) in the cache folder, never in the workspace:
`$MIGRATION_LSP_CACHE_DIR`, else `$XDG_CACHE_HOME/migration-lsp`, else `~/.cache/migration-lsp`.
An entry holds one file's parse facts, the findings of the rules that read only that file
(before ignore comments and severity overrides) and its history nodes. Its key hashes
everything those depend on: migration-lsp's own code and its parsers' libraries, the file's
bytes, its effective configuration, the project's tool, dialect and settings, the rule set,
and the other files its parser reads (Django state replay and Laravel column history: the
earlier migrations of the folder; Flyway: the script's `.conf`; files named in the project's
settings such as the knexfile). The history rules (graph and git) are not cached: they are
computed fresh on every run from the cached nodes. A second layer holds each file's findings
as reported, valid while its project's history and git state are unchanged, and one text file
per command line holds the report it printed, replayed when nothing it came from changed.

Unreadable or corrupt cache files are ignored; writes go to a temporary file renamed into
place; entries of files that no longer exist are dropped on save and the folder is pruned to
`MAX_FILES` cache files, oldest first.
"""

from __future__ import annotations

import contextlib
import hashlib
import importlib.util
import json
import logging
import os
import stat
import sys
import tempfile
import time
from collections.abc import Iterable, Iterator
from dataclasses import fields
from pathlib import Path
from typing import Any

from migration_lsp import __version__
from migration_lsp.findings import Applicability, Edit, Finding, Fix, NewFile
from migration_lsp.history.graph import Node, Ref
from migration_lsp.model import Changeset, ParseProblem, Severity
from migration_lsp.text import Span

log = logging.getLogger(__name__)

FORMAT = 1
"""Bumped when the layout of a cache file changes."""
ENV_DIR = "MIGRATION_LSP_CACHE_DIR"
MAX_FILES = 256
"""Cache files kept in the folder (one per project and option set): the oldest go first."""
MAX_AGE_DAYS = 30
"""Cache files unused this long are deleted on the next save."""
_LIBRARIES = (
    "sqlglot",
    "libcst",
    "yaml",
    "defusedxml",
    "tree_sitter",
    "tree_sitter_ruby",
    "tree_sitter_php",
    "tree_sitter_javascript",
    "tree_sitter_typescript",
    "tree_sitter_xml",
)
"""Libraries whose upgrade can change what the parsers read."""

Entry = dict[str, Any]


RACY_NS = 2_000_000_000
"""A file changed this close to when it was read may change again under the same stamp."""


def _stamp_key(status: os.stat_result) -> str:
    return (
        f"{status.st_mtime_ns}:{status.st_ctime_ns}:{status.st_size}:{status.st_ino}:"
        f"{status.st_dev}:{status.st_mode}"
    )


def default_dir() -> Path:
    """Where the cache lives when `--cache-dir` is not given: outside any workspace."""
    env = os.environ.get(ENV_DIR)
    if env:
        return Path(env).expanduser()
    xdg = os.environ.get("XDG_CACHE_HOME")
    base = Path(xdg) if xdg and os.path.isabs(xdg) else Path.home() / ".cache"
    return base / "migration-lsp"


def digest(*parts: str) -> str:
    """A short hash of `parts`: paths, hex digests and reprs, none of which holds a NUL."""
    data = "\0".join(parts).encode("utf-8", "surrogatepass")
    return hashlib.blake2b(data, digest_size=16).hexdigest()


def content_digest(data: bytes) -> str:
    return hashlib.blake2b(data, digest_size=16).hexdigest()


_CODE: str | None = None


def code_fingerprint() -> str:
    """migration-lsp's version, every file of its package (size and modification time), the
    Python version and the parser libraries' installed files: any change to the code that
    computes findings discards the whole cache."""
    global _CODE
    if _CODE is None:
        parts = [__version__, sys.version, str(FORMAT)]
        package = Path(__file__).parent
        for root, dirs, files in os.walk(package):
            dirs[:] = sorted(d for d in dirs if d != "__pycache__")
            for name in sorted(files):
                parts.append(_stamp(os.path.join(root, name), package))
        for library in _LIBRARIES:
            try:
                spec = importlib.util.find_spec(library)
            except (ImportError, ValueError):
                spec = None
            origin = spec.origin if spec is not None else None
            parts.append(f"{library}={_stamp(origin, None) if origin else '-'}")
        _CODE = digest(*parts)
    return _CODE


def _stamp(path: str, base: Path | None) -> str:
    try:
        st = os.stat(path)
    except OSError:
        return f"{path}:-"
    shown = os.path.relpath(path, base) if base is not None else path
    return f"{shown}:{st.st_size}:{st.st_mtime_ns}"


# --------------------------------------------------------------------------- the store


class CheckCache:
    """Entries by project and file path, loaded lazily, written back by `save`.

    Two layers per project, in two files: `LOCAL` (a file's parse facts, local findings and
    history nodes) and `FINAL` (its findings as reported, valid while the whole project's
    history and the default branch are unchanged). A run where nothing changed reads only
    the final layer. `scope` distinguishes option sets that apply to the whole run
    (`--select`/`--ignore`), so switching between them does not evict the other's entries."""

    LOCAL = "local"
    FINAL = "final"
    STAMPS = "stamps"

    def __init__(self, directory: Path, scope: str = "") -> None:
        self.directory = directory
        self.scope = scope
        self._files: dict[str, _CacheFile] = {}
        self._outputs: dict[str, bytes] = {}
        self._by_key: dict[tuple[str, str], _CacheFile] = {}

    def get(self, project_key: str, path: str, key: str, layer: str = LOCAL) -> Any:
        """The value stored for `path` under `key`, or None (never raises)."""
        store = self._file(project_key, layer)
        found = store.entries.get(path)
        store.seen.add(path)
        if isinstance(found, list) and len(found) == 2 and found[0] == key:
            return found[1]
        return None

    def known_digest(self, path: str, status: os.stat_result | None) -> str | None:
        """The content digest of the file at `path` when a run read it with this very
        `lstat` (size, times, inode): like ruff, an unchanged stamp stands for the content,
        which a replayed run then never reads. None: unknown, or not a regular file."""
        if status is None:
            return None
        found = self.get("", path, _stamp_key(status), self.STAMPS)
        return found if isinstance(found, str) else None

    def stamp(self, path: str, status: os.stat_result, content: str) -> None:
        """Remember the content digest of a file read with `status`, unless it changed too
        recently to tell by its stamp (a second write within the clock's tick keeps it)."""
        if not stat.S_ISREG(status.st_mode):
            return
        if time.time_ns() - max(status.st_mtime_ns, status.st_ctime_ns) < RACY_NS:
            return
        key = _stamp_key(status)
        store = self._file("", self.STAMPS)
        store.seen.add(path)
        if store.entries.get(path) != [key, content]:
            self.put("", path, key, content, self.STAMPS)

    def put(self, project_key: str, path: str, key: str, value: Any, layer: str = LOCAL) -> None:
        store = self._file(project_key, layer)
        store.entries[path] = [key, value]
        store.seen.add(path)
        store.dirty = True

    def save(self) -> None:
        """Write every changed cache file atomically, without the entries of files that no
        longer exist; errors are logged, never raised."""
        wrote = False
        for name, store in self._files.items():
            stale = {
                path
                for path in store.entries
                if path not in store.seen and not os.path.exists(path.lstrip("#"))
            }
            if not store.dirty and not stale:
                if store.loaded_ok:
                    with contextlib.suppress(OSError):
                        os.utime(self.directory / name)  # still in use: not pruned for age
                continue
            store.entries = {p: value for p, value in store.entries.items() if p not in stale}
            payload = {"format": FORMAT, "code": code_fingerprint(), "entries": store.entries}
            if _write_atomic(self.directory, name, payload):
                wrote, store.dirty, store.loaded_ok = True, False, True
        for name, data in self._outputs.items():
            wrote = _write_bytes(self.directory, name, data) or wrote
        self._outputs.clear()
        if wrote:
            prune(self.directory)

    def output(self, run: str, signature: str) -> tuple[str, bool] | None:
        """What a run rendered (text, whether it had a serious finding) for findings with
        `signature`; `run` holds what else the rendering depends on (format, folder, colour).

        Kept as the text itself after a one-line header, not as JSON: a warm run reads it and
        writes it out, and a large report is tens of megabytes."""
        path = self.directory / self._output_name(run)
        try:
            with open(path, "rb") as handle:
                header = handle.readline()
                expected = self._output_header(signature)
                if header[: len(expected)] != expected or len(header) != len(expected) + 2:
                    return None
                serious = header[len(expected) : len(expected) + 1]
                if serious not in (b"0", b"1"):
                    return None
                text = handle.read().decode("utf-8", "surrogatepass")
        except (OSError, UnicodeDecodeError):
            return None
        with contextlib.suppress(OSError):
            os.utime(path)  # still in use: not pruned for age
        return text, serious == b"1"

    def store_output(self, run: str, signature: str, text: str, serious: bool) -> None:
        """Remember what a run rendered; written by `save`."""
        header = self._output_header(signature) + (b"1\n" if serious else b"0\n")
        self._outputs[self._output_name(run)] = header + text.encode("utf-8", "surrogatepass")

    def _output_name(self, run: str) -> str:
        return f"{digest(run, self.scope)}-output.txt"

    @staticmethod
    def _output_header(signature: str) -> bytes:
        return f"migration-lsp output {FORMAT} {code_fingerprint()} {signature} ".encode()

    def _file(self, project_key: str, layer: str) -> _CacheFile:
        found = self._by_key.get((project_key, layer))
        if found is not None:
            return found
        name = f"{digest(project_key, self.scope)}-{layer}.json"
        store = self._files.get(name)
        if store is None:
            store = self._files[name] = _load(self.directory / name)
        self._by_key[(project_key, layer)] = store
        return store


class _CacheFile:
    __slots__ = ("dirty", "entries", "loaded_ok", "seen")

    def __init__(self, entries: dict[str, Any], loaded_ok: bool) -> None:
        self.entries = entries
        self.loaded_ok = loaded_ok
        self.seen: set[str] = set()
        self.dirty = False


def _load(path: Path) -> _CacheFile:
    try:
        with open(path, "rb") as handle:
            data = json.loads(handle.read())
    except (OSError, ValueError, RecursionError) as error:
        if not isinstance(error, FileNotFoundError):
            log.debug("ignoring unreadable cache file %s: %s", path, error)
        return _CacheFile({}, False)
    if (
        not isinstance(data, dict)
        or data.get("format") != FORMAT
        or data.get("code") != code_fingerprint()
        or not isinstance(data.get("entries"), dict)
    ):
        return _CacheFile({}, False)
    return _CacheFile(data["entries"], True)


def _write_atomic(directory: Path, name: str, payload: dict[str, Any]) -> bool:
    try:
        data = json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    except (ValueError, TypeError) as error:
        log.debug("cannot write the cache file %s: %s", name, error)
        return False
    return _write_bytes(directory, name, data)


def _write_bytes(directory: Path, name: str, data: bytes) -> bool:
    """Write a cache file through a temporary file renamed into place (never half-written)."""
    try:
        directory.mkdir(parents=True, exist_ok=True)
        fd, temp = tempfile.mkstemp(prefix=".tmp-", suffix=".json", dir=directory)
    except OSError as error:
        log.debug("cannot write the cache in %s: %s", directory, error)
        return False
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        os.replace(temp, directory / name)
        return True
    except OSError as error:
        log.debug("cannot write the cache file %s: %s", name, error)
        with contextlib.suppress(OSError):
            os.unlink(temp)
        return False


def prune(directory: Path, max_files: int = MAX_FILES, max_age_days: int = MAX_AGE_DAYS) -> None:
    """Delete cache files unused for `max_age_days`, then the oldest beyond `max_files`, and
    temporary files a killed run left behind."""
    try:
        with os.scandir(directory) as it:
            listed = [(e.stat().st_mtime, e.name) for e in it if e.is_file()]
    except OSError:
        return
    now = time.time()
    cutoff = now - max_age_days * 86400
    caches = sorted(
        (m, n) for m, n in listed if n.endswith((".json", ".txt")) and not n.startswith(".")
    )
    doomed = [n for m, n in caches if m < cutoff]
    alive = [(m, n) for m, n in caches if m >= cutoff]
    doomed += [n for _, n in alive[: max(0, len(alive) - max_files)]]
    doomed += [n for m, n in listed if n.startswith(".tmp-") and m < now - 3600]
    for name in doomed:
        with contextlib.suppress(OSError):
            os.unlink(directory / name)


# --------------------------------------------------------------------------- keys


def project_key(project: Any) -> str:
    """Identifies a project (tool and root) across runs: one cache file each."""
    return f"{project.tool}\0{os.path.abspath(project.root)}"


def project_fingerprint(project: Any) -> str:
    """The project's detected facts (tool, flavor, dialect, folders, settings) and the content
    of every file its settings name (knexfile, data source, schema, config files)."""
    facts = json.dumps(project.to_dict(), sort_keys=True, default=str)
    named = sorted(set(_named_files(project.settings)))
    return digest(facts, *(f"{p}={file_digest(p)}" for p in named))


def _named_files(value: Any) -> Iterator[str]:
    if isinstance(value, dict):
        for item in value.values():
            yield from _named_files(item)
    elif isinstance(value, list | tuple):
        for item in value:
            yield from _named_files(item)
    elif isinstance(value, str | Path) and os.path.isabs(value) and os.path.isfile(value):
        yield str(value)


def file_digest(path: str | Path) -> str:
    """The content hash of a file, "-" when it is missing or unreadable."""
    try:
        with open(path, "rb") as handle:
            return content_digest(handle.read())
    except OSError:
        return "-"


# --------------------------------------------------------------------------- entries


def encode_findings(findings: Iterable[Finding], located: bool = False) -> list[list[Any]] | None:
    """Findings as JSON lists (with their line/column positions when `located`); None when
    one carries data that JSON cannot give back as it was."""
    out: list[list[Any]] = []
    for f in findings:
        fix = None
        if f.fix is not None:
            fix = [
                f.fix.title,
                [[e.span.start, e.span.end, e.new_text] for e in f.fix.edits],
                f.fix.applicability.value,
                [[n.path, n.text] for n in f.fix.files],
            ]
        data = f.data or None
        if data is not None and not _round_trips(data):
            return None
        scope: Any = None
        if f.scope is not None:
            scope = 1 if f.scope is f.span else [f.scope.start, f.scope.end]
        row = [f.rule, f.message, f.span.start, f.span.end, int(f.severity), scope, fix, data]
        if located:
            row += [f.start[0], f.start[1], f.end[0], f.end[1]]
        out.append(row)
    return out


def _round_trips(value: Any) -> bool:
    try:
        return bool(json.loads(json.dumps(value)) == value)
    except (TypeError, ValueError):
        return False


_SEVERITIES = {int(s): s for s in Severity}
_FIELDS = (
    "rule",
    "message",
    "span",
    "severity",
    "fix",
    "path",
    "start",
    "end",
    "scope",
    "data",
    "memo",
)
assert tuple(f.name for f in fields(Finding)) == _FIELDS, "decode_findings builds them in order"


def decode_findings(rows: list[list[Any]], path: str) -> list[Finding]:
    """The findings `encode_findings` stored (located or not), for `path`. Built positionally:
    a warm run makes a hundred thousand of them."""
    severities, make, span_of = _SEVERITIES, Finding, Span
    out: list[Finding] = []
    add = out.append
    for row in rows:
        rule, message, start, end, severity, scope, fix, data = row[:8]
        span = span_of(start, end)
        located = len(row) == 12
        add(
            make(
                rule,
                message,
                span,
                severities[severity],
                None if fix is None else _decode_fix(fix),
                path,
                (row[8], row[9]) if located else (0, 0),
                (row[10], row[11]) if located else (0, 0),
                span if scope == 1 else None if scope is None else span_of(*scope),
                data or {},
            )
        )
    return out


def _decode_fix(row: list[Any]) -> Fix:
    title, edits, applicability, files = row
    return Fix(
        title=title,
        edits=[Edit(Span(s, e), text) for s, e, text in edits],
        applicability=Applicability(applicability),
        files=[NewFile(p, t) for p, t in files],
    )


def encode_problems(problems: Iterable[ParseProblem]) -> list[list[Any]]:
    return [[p.span.start, p.span.end, p.message] for p in problems]


def decode_problems(rows: list[list[Any]]) -> list[ParseProblem]:
    return [ParseProblem(span=Span(s, e), message=m) for s, e, m in rows]


def encode_changesets(changesets: Iterable[Changeset]) -> list[list[Any]]:
    """What the history rules read of a changeSet: where, its label and identity."""
    return [
        [c.span.start, c.span.end, c.body.start, c.body.end, c.label, list(c.identity)]
        for c in changesets
    ]


def decode_changesets(rows: list[list[Any]]) -> list[Changeset]:
    return [
        Changeset(span=Span(s, e), body=Span(bs, be), label=label, identity=tuple(identity))
        for s, e, bs, be, label, identity in rows
    ]


def encode_nodes(nodes: Iterable[Node]) -> list[list[Any]]:
    """History nodes as JSON lists (the path is the entry's own)."""

    def refs(items: Iterable[Ref]) -> list[list[Any]]:
        return [[r.id, r.span.start, r.span.end] for r in items]

    return [
        [
            n.id,
            n.span.start,
            n.span.end,
            n.line,
            refs(n.parents),
            refs(n.depends_on),
            refs(n.replaces),
            list(n.labels),
            n.message,
            n.app,
            n.direction,
        ]
        for n in nodes
    ]


def decode_nodes(rows: list[list[Any]], path: Path) -> list[Node]:
    def refs(items: list[list[Any]]) -> list[Ref]:
        return [Ref(i, Span(s, e)) for i, s, e in items]

    return [
        Node(
            id=node_id,
            path=path,
            span=Span(start, end),
            line=line,
            parents=refs(parents),
            depends_on=refs(depends_on),
            replaces=refs(replaces),
            labels=tuple(labels),
            message=message,
            app=app,
            direction=direction,
        )
        for (
            node_id,
            start,
            end,
            line,
            parents,
            depends_on,
            replaces,
            labels,
            message,
            app,
            direction,
        ) in rows
    ]
