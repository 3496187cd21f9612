"""The one workspace walk, tolerant file reading, and small config-format readers.

Everything here is read-only and never raises on bad input: an unreadable directory is skipped,
an unreadable or non-UTF-8 file reads as (replacement-decoded) text or as "", a broken config
file parses to nothing.
"""

from __future__ import annotations

import configparser
import json
import os
import re
import stat
import tomllib
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

# Directory names never descended into (besides every hidden directory).
SKIP_DIRS = frozenset(
    {
        ".git",
        "node_modules",
        ".venv",
        "venv",
        "env",
        "__pycache__",
        "vendor",
        "dist",
        "build",
        "target",
        ".tox",
        "bower_components",
        "site-packages",
    }
)

HEAD_BYTES = 4096
CONFIG_BYTES = 512 * 1024
_MAX_DEPTH = 64


@dataclass(slots=True)
class DirInfo:
    """One directory of the walk: the names of its files and (walked) subdirectories."""

    path: Path
    files: list[str] = field(default_factory=list)
    subdirs: list[str] = field(default_factory=list)
    file_set: frozenset[str] = frozenset()


class Workspace:
    """An index of one folder tree built with a single `os.scandir` walk."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.dirs: dict[Path, DirInfo] = {}
        self._heads: dict[tuple[Path, int], str] = {}
        self._walk()

    # ------------------------------------------------------------------ walking

    def _walk(self) -> None:
        # Symbolic links to folders are not followed: one to a place inside the workspace
        # points at what the walk reaches anyway (or at an ancestor: a loop), and what lies
        # outside the workspace folder is never scanned, whatever a cloned repository links to.
        self._walk_from(self.root, 0, [])

    def _walk_from(
        self,
        start: Path,
        depth: int,
        linked: list[tuple[Path, int]],
        budget: int | None = None,
    ) -> int:
        stack: list[tuple[Path, int]] = [(start, depth)]
        count = 0
        while stack:
            path, level = stack.pop()
            if budget is not None and count >= budget:
                break
            count += 1
            info = DirInfo(path)
            self.dirs[path] = info
            try:
                with os.scandir(path) as it:
                    entries = list(it)
            except OSError:
                continue
            for entry in entries:
                name = entry.name
                try:
                    if entry.is_dir(follow_symlinks=False):
                        if name in SKIP_DIRS or name.startswith("."):
                            continue
                        info.subdirs.append(name)
                        if level < _MAX_DEPTH:
                            stack.append((path / name, level + 1))
                    elif entry.is_symlink() and entry.is_dir():
                        if name in SKIP_DIRS or name.startswith("."):
                            continue
                        info.subdirs.append(name)
                        if level < _MAX_DEPTH:
                            linked.append((path / name, level + 1))
                    else:
                        info.files.append(name)
                except OSError:
                    continue
            info.files.sort()
            info.subdirs.sort()
            info.file_set = frozenset(info.files)
        return count

    # ------------------------------------------------------------------ queries

    def info(self, path: Path) -> DirInfo | None:
        return self.dirs.get(path)

    def files(self, path: Path) -> list[str]:
        info = self.dirs.get(path)
        return info.files if info is not None else []

    def has_file(self, path: Path, name: str) -> bool:
        info = self.dirs.get(path)
        return info is not None and name in info.file_set

    def has_dir(self, path: Path) -> bool:
        return path in self.dirs

    def iter_dirs(self) -> Iterator[DirInfo]:
        return iter(self.dirs.values())

    def find_named(self, name: str) -> list[Path]:
        """Every file called `name` anywhere in the workspace, sorted."""
        return sorted(info.path / name for info in self.dirs.values() if name in info.file_set)

    def contains(self, path: Path) -> bool:
        return path == self.root or self.root in path.parents

    def head(self, path: Path, limit: int = HEAD_BYTES) -> str:
        key = (path, limit)
        cached = self._heads.get(key)
        if cached is None:
            cached = read_head(path, limit)
            self._heads[key] = cached
        return cached


# ---------------------------------------------------------------------- reading files


def read_bytes(path: Path, limit: int) -> bytes:
    """Up to `limit` bytes of a regular file; b"" for anything unreadable or not a file."""
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0)
    try:
        fd = os.open(path, flags)
    except (OSError, ValueError):
        return b""
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            return b""
        chunks: list[bytes] = []
        remaining = limit
        while remaining > 0:
            chunk = os.read(fd, min(remaining, 65536))
            if not chunk:
                break
            chunks.append(chunk)
            remaining -= len(chunk)
        return b"".join(chunks)
    except OSError:
        return b""
    finally:
        os.close(fd)


def read_head(path: Path, limit: int = HEAD_BYTES) -> str:
    return read_bytes(path, limit).decode("utf-8", errors="replace")


def read_text(path: Path, limit: int = CONFIG_BYTES) -> str:
    return read_bytes(path, limit).decode("utf-8", errors="replace").lstrip("\ufeff")


# ---------------------------------------------------------------------- config formats


def parse_env(text: str) -> dict[str, str]:
    """`KEY=value` lines of a dotenv file (`export`, quotes and trailing comments handled)."""
    out: dict[str, str] = {}
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if line.startswith("export "):
            line = line[7:].lstrip()
        key, sep, value = line.partition("=")
        if not sep:
            continue
        key = key.strip()
        value = value.strip()
        if value[:1] in {"'", '"'}:
            quote = value[0]
            end = value.find(quote, 1)
            value = value[1:end] if end > 0 else value[1:]
        else:
            value = re.split(r"\s+#", value, maxsplit=1)[0].strip()
        if key:
            out[key] = value
    return out


def parse_properties(text: str) -> dict[str, str]:
    """Java `.properties` (`key=value`, `key: value`, `key value`, continuation lines)."""
    out: dict[str, str] = {}
    logical: list[str] = []
    buf = ""
    for raw in text.splitlines():
        line = raw.strip()
        if not buf and (not line or line[0] in "#!"):
            continue
        if line.endswith("\\") and not line.endswith("\\\\"):
            buf += line[:-1]
            continue
        logical.append(buf + line)
        buf = ""
    if buf:
        logical.append(buf)
    for line in logical:
        match = re.match(r"([^=:\s]+)\s*[=:\s]\s*(.*)$", line)
        if match:
            out[match.group(1)] = match.group(2).strip()
    return out


def parse_ini(text: str, here: Path | None = None) -> configparser.ConfigParser | None:
    defaults = {"here": str(here)} if here is not None else None
    parser = configparser.ConfigParser(
        defaults=defaults,
        interpolation=configparser.BasicInterpolation(),
        strict=False,
    )
    try:
        parser.read_string(text)
    except (configparser.Error, ValueError):
        return None
    return parser


def ini_get(parser: configparser.ConfigParser, section: str, key: str) -> str | None:
    """An option with `%(here)s`-style interpolation; falls back to the raw text."""
    if not parser.has_section(section) or not parser.has_option(section, key):
        return None
    try:
        return parser.get(section, key)
    except (configparser.Error, ValueError):
        pass
    try:
        raw = parser.get(section, key, raw=True)
    except (configparser.Error, ValueError):
        return None
    here = parser.defaults().get("here")
    if here is not None:
        raw = raw.replace("%(here)s", here)
    return raw.replace("%%", "%")


def load_json(text: str) -> Any:
    try:
        return json.loads(text)
    except (ValueError, RecursionError):
        return None


def load_toml(text: str) -> dict[str, Any] | None:
    try:
        return tomllib.loads(text)
    except (tomllib.TOMLDecodeError, ValueError, RecursionError):
        return None


_ERB = re.compile(r"<%(?!%).*?%>", re.S)


def strip_erb(text: str) -> str:
    return _ERB.sub("", text)


def load_yaml(text: str) -> Any:
    try:
        return yaml.safe_load(text)
    except Exception:  # any malformed document: yaml raises many error types
        return None


def load_yaml_docs(text: str) -> list[Any]:
    """Every document of a multi-document YAML file (Spring profiles use `---`)."""
    try:
        return list(yaml.safe_load_all(text))
    except Exception:  # any malformed document
        return []


def flatten(data: Any, prefix: str = "") -> dict[str, Any]:
    """`{"spring": {"flyway": {"mixed": True}}}` → `{"spring.flyway.mixed": True}`."""
    out: dict[str, Any] = {}
    if isinstance(data, dict):
        for key, value in data.items():
            name = f"{prefix}.{key}" if prefix else str(key)
            if isinstance(value, dict):
                out.update(flatten(value, name))
            else:
                out[name] = value
    return out


def as_bool(value: Any) -> bool | None:
    if isinstance(value, bool):
        return value
    if isinstance(value, str):
        low = value.strip().lower()
        if low in {"true", "yes", "on", "1"}:
            return True
        if low in {"false", "no", "off", "0"}:
            return False
    return None


# ---------------------------------------------------------------------- JS / TS config


_JS_TOKEN = re.compile(
    r"""
      (?P<ws>\s+)
    | (?P<lc>//[^\n]*)
    | (?P<bc>/\*.*?(?:\*/|\Z))
    | (?P<str>'(?:[^'\\\n]|\\.)*'|"(?:[^"\\\n]|\\.)*"|`(?:[^`\\]|\\.)*`)
    | (?P<ident>[A-Za-z_$][\w$]*)
    | (?P<num>\d[\w.]*)
    | (?P<punct>\S)
    """,
    re.S | re.X,
)

_OPEN = {"{": "}", "[": "]", "(": ")"}
_CLOSE = {"}", "]", ")"}


@dataclass(slots=True)
class JsPair:
    """`key: value` inside a JS/TS object literal, with the string literals of its value."""

    path: tuple[str, ...]
    key: str
    strings: list[str]
    idents: list[str]


def _js_tokens(text: str) -> list[tuple[str, str]]:
    tokens: list[tuple[str, str]] = []
    for match in _JS_TOKEN.finditer(text):
        kind = match.lastgroup or "punct"
        if kind in {"ws", "lc", "bc"}:
            continue
        value = match.group()
        if kind == "str":
            value = re.sub(r"\\(.)", r"\1", value[1:-1])
        tokens.append((kind, value))
    return tokens


def js_pairs(text: str) -> list[JsPair]:
    """Every `key: value` pair of the object literals in a JS/TS file, in source order.

    Not a parser: enough to read simple configuration values (`client: 'pg'`,
    `migrations: ['src/migrations/*.ts']`, `directory: path.join(__dirname, 'db')`).
    """
    tokens = _js_tokens(text)
    pairs: list[JsPair] = []
    stack: list[tuple[str, str | None]] = []
    pending: str | None = None
    n = len(tokens)
    for i, (kind, value) in enumerate(tokens):
        if kind == "punct" and value in _OPEN:
            stack.append((value, pending if value == "{" else None))
            pending = None
            continue
        if kind == "punct" and value in _CLOSE:
            if stack:
                stack.pop()
            pending = None
            continue
        in_object = bool(stack) and stack[-1][0] == "{"
        if (
            in_object
            and kind in {"ident", "str", "num"}
            and i + 1 < n
            and tokens[i + 1] == ("punct", ":")
            and i > 0
            and tokens[i - 1][1] in {"{", ","}
        ):
            path = tuple(k for _, k in stack if k is not None)
            if i + 2 < n and tokens[i + 2] == ("punct", "{"):
                pending = value
                continue
            strings: list[str] = []
            idents: list[str] = []
            depth = 0
            j = i + 2
            while j < n:
                k2, v2 = tokens[j]
                if k2 == "punct":
                    if v2 in _OPEN:
                        depth += 1
                    elif v2 in _CLOSE:
                        depth -= 1
                        if depth < 0:
                            break
                    elif v2 == "," and depth == 0:
                        break
                elif k2 == "str":
                    # require('path').resolve(...): the module name is not part of the value
                    if not (j >= 2 and tokens[j - 1][1] == "(" and tokens[j - 2][1] == "require"):
                        strings.append(v2)
                elif k2 == "ident":
                    idents.append(v2)
                j += 1
            pairs.append(JsPair(path, value, strings, idents))
    return pairs


def js_path_value(pair: JsPair) -> str | None:
    """The relative path a JS path expression names (`'./db'`, `path.join(__dirname, 'db')`)."""
    parts = [s for s in pair.strings if s]
    if not parts:
        return None
    joined = "/".join(p.strip("/") if i else p.rstrip("/") for i, p in enumerate(parts))
    if "__dirname" in pair.idents or "process" in pair.idents or "cwd" in pair.idents:
        joined = joined.lstrip("/")
    joined = joined.removeprefix("./")
    return joined or "."
