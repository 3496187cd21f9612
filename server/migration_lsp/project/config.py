"""User configuration: `[tool.migration-lsp]` in pyproject.toml, or `migration-lsp.toml`.

The options are defined once, in `OPTIONS`; the CLI, the language server and the docs read them
from here. Every mistake is reported with the file and line, never silently accepted.
"""

from __future__ import annotations

import fnmatch
import re
import tomllib
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from migration_lsp.model import DIALECTS, Severity
from migration_lsp.rules.registry import BY_ID, RULES

CONFIG_FILES = ("migration-lsp.toml", ".migration-lsp.toml", "pyproject.toml")
DEFAULT_MAX_FILE_SIZE = 4 * 1024 * 1024
DEFAULT_POSTGRES_VERSION = 17
"""A current PostgreSQL release: version-dependent rules assume it unless configured."""


@dataclass(frozen=True, slots=True)
class Option:
    name: str
    type: str
    default: str
    help: str


OPTIONS: tuple[Option, ...] = (
    Option(
        "select",
        "list of rule ids",
        "the default rule set",
        'Rules to run instead of the defaults; "ALL" selects every rule.',
    ),
    Option(
        "extend-select",
        "list of rule ids",
        "[]",
        "Rules to run in addition to the selected ones (e.g. rules off by default).",
    ),
    Option("ignore", "list of rule ids", "[]", "Rules never to run."),
    Option(
        "severity",
        "table rule id → level",
        "{}",
        'Override a rule\'s severity: "error", "warning", "info" or "hint".',
    ),
    Option(
        "dialect",
        "string",
        "detected",
        "Database dialect when detection is wrong or impossible: " + ", ".join(DIALECTS) + ".",
    ),
    Option(
        "exclude",
        "list of globs",
        "[]",
        "Files not to check, as globs relative to the configuration file's folder.",
    ),
    Option(
        "check-downgrade",
        "bool",
        "false",
        "Also judge reverse steps (downgrade / down) with the production-safety rules.",
    ),
    Option(
        "max-file-size",
        "integer (bytes)",
        str(DEFAULT_MAX_FILE_SIZE),
        "Files larger than this are skipped with one info finding.",
    ),
    Option(
        "postgres-version",
        "integer",
        str(DEFAULT_POSTGRES_VERSION),
        "The PostgreSQL major version migrations run on: what locks or rewrites differs by "
        "version (volatile defaults before 11, ADD VALUE in a transaction before 12, ...).",
    ),
    Option(
        "default-branch",
        "string",
        "origin/HEAD, else main or master",
        "The branch whose migrations count as applied: editing or deleting a migration that "
        "exists in its merge base is flagged (modified-/deleted-applied-migration).",
    ),
    Option(
        "guide",
        "path",
        "found in the workspace, else bundled",
        "The team's migration guide (markdown) whose sections the editor shows on hover.",
    ),
)
_OPTION_NAMES = {o.name for o in OPTIONS}


class ConfigError(Exception):
    """A configuration mistake, with the file and line it comes from."""

    def __init__(self, message: str, path: Path | None = None, line: int | None = None) -> None:
        where = ""
        if path is not None:
            where = f"{path}:{line}: " if line else f"{path}: "
        super().__init__(where + message)
        self.path = path
        self.line = line


@dataclass(frozen=True, slots=True)
class Config:
    select: tuple[str, ...] | None = None
    extend_select: tuple[str, ...] = ()
    ignore: tuple[str, ...] = ()
    severity: dict[str, Severity] = field(default_factory=dict)
    dialect: str | None = None
    exclude: tuple[str, ...] = ()
    check_downgrade: bool = False
    max_file_size: int = DEFAULT_MAX_FILE_SIZE
    guide: str | None = None
    postgres_version: int = DEFAULT_POSTGRES_VERSION
    default_branch: str | None = None
    path: Path | None = None
    """The file this configuration came from, if any."""
    root: Path | None = None
    """Where relative paths (`exclude` globs, `guide`) start: the file's folder, or the
    workspace folder for editor settings."""

    def enabled_rules(self) -> frozenset[str]:
        """The ids of the rules that run (worked out once per option set: asked per file)."""
        key = (id(RULES), _ids(self.select), _ids(self.extend_select), _ids(self.ignore))
        hit = _ENABLED.get(key)
        if hit is None or hit[0] is not RULES:
            if len(_ENABLED) > 256:
                _ENABLED.clear()
            hit = _ENABLED[key] = (RULES, self._enabled_rules())
        return hit[1]

    def _enabled_rules(self) -> frozenset[str]:
        if self.select is None:
            enabled = {r.id for r in RULES if r.default_enabled}
        elif "ALL" in self.select:
            enabled = {r.id for r in RULES}
        else:
            enabled = set(self.select)
        enabled.update(self.extend_select)
        if "ALL" in self.ignore:
            return frozenset()
        enabled.difference_update(self.ignore)
        return frozenset(enabled)

    def severity_of(self, rule_id: str) -> Severity:
        return self.severity.get(rule_id, BY_ID[rule_id].severity)

    def is_excluded(self, path: Path) -> bool:
        if not self.exclude:
            return False
        base = self.root or Path.cwd()
        try:
            relative = path.resolve().relative_to(base.resolve()).as_posix()
        except ValueError:
            relative = path.as_posix()
        return any(_glob_match(relative, pattern) for pattern in self.exclude)

    def with_overrides(
        self, select: Iterable[str] | None = None, ignore: Iterable[str] | None = None
    ) -> Config:
        """Command-line `--select`/`--ignore` replace the file's lists."""
        changes: dict[str, Any] = {}
        if select is not None:
            changes["select"] = _check_ids(list(select), "--select")
            changes["extend_select"] = ()
        if ignore is not None:
            changes["ignore"] = _check_ids(list(ignore), "--ignore")
        return replace(self, **changes)


_ENABLED: dict[tuple[Any, ...], tuple[object, frozenset[str]]] = {}


def _ids(ids: Iterable[str] | None) -> tuple[str, ...] | None:
    return None if ids is None else tuple(ids)


def _glob_match(relative: str, pattern: str) -> bool:
    pattern = pattern.strip("/")
    if fnmatch.fnmatchcase(relative, pattern):
        return True
    if pattern.endswith("/**"):
        return relative.startswith(pattern[:-3] + "/")
    return fnmatch.fnmatchcase(relative, pattern + "/*")


def find_config(start: Path) -> Path | None:
    """The nearest configuration file at or above `start` that configures migration-lsp."""
    folder = start if start.is_dir() else start.parent
    for candidate_dir in (folder, *folder.parents):
        for name in CONFIG_FILES:
            candidate = candidate_dir / name
            if not candidate.is_file():
                continue
            if name != "pyproject.toml":
                return candidate
            if _configures_us(candidate):
                return candidate
    return None


_PYPROJECT_SEEN: dict[Path, tuple[int, int, bool]] = {}


def _configures_us(pyproject: Path) -> bool:
    """Whether a pyproject.toml has a `[tool.migration-lsp]` table. The editor asks for every
    analysis: the answer is kept until the file's size or modification time changes."""
    try:
        stat = pyproject.stat()
        seen = _PYPROJECT_SEEN.get(pyproject)
        if seen is not None and seen[:2] == (stat.st_mtime_ns, stat.st_size):
            return seen[2]
        found = "[tool.migration-lsp]" in pyproject.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return False
    _PYPROJECT_SEEN[pyproject] = (stat.st_mtime_ns, stat.st_size, found)
    return found


def load_config(
    path: Path | None, defaults: dict[str, Any] | None = None, root: Path | None = None
) -> Config:
    """Read one configuration file; `ConfigError` on any mistake.

    `defaults` are options from elsewhere (the editor's settings): the file's own options win,
    so the editor and `migration-lsp check` never disagree on a configured project. `root` is
    where `exclude` globs start when no file says.
    """
    if path is None:
        return parse_options(dict(defaults or {}), None, None, root)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise ConfigError(f"cannot read configuration: {error}", path) from error
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise ConfigError(f"invalid TOML: {error}", path, _toml_error_line(error, text)) from error
    if path.name == "pyproject.toml":
        section = data.get("tool", {}).get("migration-lsp")
        if section is None:
            section = {}
        table = "[tool.migration-lsp]"
    else:
        section = data
        table = "the file"
    if not isinstance(section, dict):
        raise ConfigError(f"{table} must be a table", path)
    prefix = "tool.migration-lsp" if path.name == "pyproject.toml" else ""
    return parse_options({**(defaults or {}), **section}, path, _Locator(text, prefix), root)


def _toml_error_line(error: tomllib.TOMLDecodeError, text: str) -> int:
    """The line of a TOML error: `lineno` (Python 3.14+), else the "(at line N, ...)" of
    the message, else the last line ("at end of document": an unclosed bracket or string)."""
    line = getattr(error, "lineno", None)
    if isinstance(line, int):
        return line
    found = re.search(r"at line (\d+)", str(error))
    if found:
        return int(found.group(1))
    return max(1, len(text.rstrip("\n").splitlines()))


class _Locator:
    """Finds the line of an option (or of a value inside it) in the TOML text, so errors name
    the line the user has to change, not the first line that happens to mention the text."""

    def __init__(self, text: str, table: str) -> None:
        self.lines = text.splitlines()
        self.table = table

    def line(self, key: str, needle: str | None = None, table: str | None = None) -> int | None:
        table = self.table if table is None else table
        header = ""
        in_key = False
        for number, raw in enumerate(self.lines, start=1):
            line = raw.strip()
            if line.startswith("["):
                header, in_key = line.strip("[] ").replace('"', ""), False
                continue
            name = line.split("=", 1)[0].strip().strip('"') if "=" in line else None
            if header == table and name is not None:
                in_key = name == key
            if in_key and (needle is None or needle in line):
                return number
        if needle is not None and table == self.table:  # an inline or dotted sub-table
            nested = self.line(needle, None, f"{self.table}.{key}".lstrip("."))
            if nested is not None:
                return nested
        return None


def parse_options(
    section: dict[str, Any],
    path: Path | None = None,
    locator: _Locator | None = None,
    root: Path | None = None,
) -> Config:
    """Validate a mapping of options (from TOML, or from an editor's settings)."""
    locate = locator or _Locator("", "")

    def fail(message: str, key: str, needle: str | None = None) -> ConfigError:
        return ConfigError(message, path, locate.line(key, needle))

    unknown = sorted(set(section) - _OPTION_NAMES)
    if unknown:
        known = ", ".join(sorted(_OPTION_NAMES))
        raise fail(f"unknown option {unknown[0]!r} (known options: {known})", unknown[0])
    values: dict[str, Any] = {"path": path, "root": path.parent if path else root}

    def check_ids(ids: list[str], key: str) -> tuple[str, ...]:
        bad = _unknown_id(ids)
        if bad is not None:
            raise fail(_unknown_message(bad, key), key, f'"{bad}"')
        return tuple(ids)

    def id_list(key: str) -> tuple[str, ...]:
        value = section[key]
        if isinstance(value, str):
            value = [value]
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise fail(f"{key!r} must be a list of rule ids", key)
        return check_ids(value, key)

    if "select" in section:
        values["select"] = id_list("select")
    if "extend-select" in section:
        values["extend_select"] = id_list("extend-select")
    if "ignore" in section:
        values["ignore"] = id_list("ignore")
    if "severity" in section:
        table = section["severity"]
        if not isinstance(table, dict):
            raise fail("'severity' must be a table of rule id = level", "severity")
        severities: dict[str, Severity] = {}
        for rule_id, level in table.items():
            if rule_id not in BY_ID:
                raise fail(_unknown_message(rule_id, "severity"), "severity", rule_id)
            try:
                severities[rule_id] = Severity.parse(str(level))
            except ValueError as error:
                raise fail(f"severity of {rule_id}: {error}", "severity", rule_id) from error
        values["severity"] = severities
    if "dialect" in section:
        dialect = section["dialect"]
        if dialect not in DIALECTS:
            raise fail(f"unknown dialect {dialect!r} (use {', '.join(DIALECTS)})", "dialect")
        values["dialect"] = dialect
    if "exclude" in section:
        exclude = section["exclude"]
        if not isinstance(exclude, list) or not all(isinstance(v, str) for v in exclude):
            raise fail("'exclude' must be a list of glob patterns", "exclude")
        values["exclude"] = tuple(exclude)
    if "check-downgrade" in section:
        if not isinstance(section["check-downgrade"], bool):
            raise fail("'check-downgrade' must be true or false", "check-downgrade")
        values["check_downgrade"] = section["check-downgrade"]
    if "max-file-size" in section:
        size = section["max-file-size"]
        if not isinstance(size, int) or isinstance(size, bool) or size <= 0:
            raise fail("'max-file-size' must be a positive number of bytes", "max-file-size")
        values["max_file_size"] = size
    if "postgres-version" in section:
        version = section["postgres-version"]
        if isinstance(version, str) and version.replace(".", "", 1).isdigit():
            version = int(float(version))
        if not isinstance(version, int) or isinstance(version, bool) or not 9 <= version <= 40:
            raise fail("'postgres-version' must be a major version such as 16", "postgres-version")
        values["postgres_version"] = version
    if "default-branch" in section:
        branch = section["default-branch"]
        if not isinstance(branch, str) or not branch.strip() or branch.startswith("-"):
            raise fail("'default-branch' must be a branch name such as main", "default-branch")
        values["default_branch"] = branch.strip()
    if "guide" in section:
        if not isinstance(section["guide"], str) or not section["guide"]:
            raise fail("'guide' must be a path to a markdown file", "guide")
        values["guide"] = section["guide"]
    return Config(**values)


def _unknown_id(ids: list[str]) -> str | None:
    return next((i for i in ids if i != "ALL" and i not in BY_ID), None)


def _unknown_message(rule_id: str, key: str) -> str:
    hint = _closest(rule_id)
    suggestion = f"; did you mean {hint!r}?" if hint else ""
    return f"unknown rule id {rule_id!r} in {key}{suggestion} (migration-lsp rules lists them)"


def _check_ids(ids: list[str], key: str) -> tuple[str, ...]:
    bad = _unknown_id(ids)
    if bad is not None:
        raise ConfigError(_unknown_message(bad, key))
    return tuple(ids)


def _closest(rule_id: str) -> str | None:
    import difflib

    matches = difflib.get_close_matches(rule_id, list(BY_ID), n=1)
    return matches[0] if matches else None
