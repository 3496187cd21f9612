"""Helpers shared by the output formats: display paths, sorting, file text and fingerprints."""

from __future__ import annotations

import hashlib
import os
from collections.abc import Mapping, Sequence
from pathlib import Path, PurePath

from migration_lsp.findings import Finding
from migration_lsp.text import LineIndex


def display_path(path: str, cwd: Path) -> str:
    """`path` relative to `cwd` with POSIX separators when it lies inside `cwd`, else as given.

    A relative `path` is taken to be relative to `cwd` already.
    """
    if not path:
        return path
    if _plain_relative(path):  # already in the form PurePath would give
        return path
    inside = _inside(path, str(cwd))
    if inside is not None:  # most calls: a file found under the folder checked
        return inside
    pure = PurePath(path)
    if not pure.is_absolute():
        posix = pure.as_posix()
        return path if posix == ".." or posix.startswith("../") else posix
    try:
        return Path(path).relative_to(cwd).as_posix()
    except ValueError:
        pass
    try:  # resolved only when needed: a path through a symlinked folder
        return _resolved(Path(path)).relative_to(_resolved(cwd)).as_posix()
    except ValueError:
        return path


def _plain_relative(path: str) -> bool:
    """A relative POSIX path, normalized, that does not climb out of the folder."""
    return (
        os.sep == "/"
        and not path.startswith(("/", "./", "../"))
        and path not in (".", "..")
        and not path.endswith(("/", "/.", "/.."))
        and "//" not in path
        and "/./" not in path
        and "/../" not in path
    )


def _inside(path: str, cwd: str) -> str | None:
    """`path` relative to `cwd` when it is a normalized path below it, by the strings."""
    if os.sep != "/" or not cwd.startswith("/") or not path.startswith(cwd):
        return None
    if cwd.endswith("/"):
        rest = path[len(cwd) :]
    elif path[len(cwd) : len(cwd) + 1] == "/":
        rest = path[len(cwd) + 1 :]
    else:
        return None
    return rest if rest and _plain_relative(rest) else None


def _resolved(path: Path) -> Path:
    try:
        return path.resolve()
    except OSError:  # pragma: no cover - resolve(strict=False) rarely fails
        return path


def sort_findings(findings: Sequence[Finding], cwd: Path) -> list[tuple[str, Finding]]:
    """(display path, finding) pairs ordered by path, line, column and rule."""
    shown: dict[str, str] = {}
    for f in findings:
        if f.path not in shown:
            shown[f.path] = display_path(f.path, cwd)
    pairs = [(shown[f.path], f) for f in findings]
    pairs.sort(key=lambda p: (p[0], p[1].start, p[1].rule, p[1].end, p[1].message))
    return pairs


class Texts:
    """Line access to the checked files' text, when the caller supplied it."""

    def __init__(self, texts: Mapping[str, str] | None, cwd: Path) -> None:
        self._texts = dict(texts or {})
        self._cwd = cwd
        self._indexes: dict[str, LineIndex | None] = {}

    def index(self, path: str) -> LineIndex | None:
        if path not in self._indexes:
            text = self._texts.get(path)
            if text is None:
                text = self._texts.get(display_path(path, self._cwd))
            self._indexes[path] = None if text is None else LineIndex(text)
        return self._indexes[path]

    def line(self, path: str, line: int) -> str | None:
        index = self.index(path)
        if index is None or line >= index.line_count:
            return None
        return index.line_text(line)

    def utf16_column(self, path: str, line: int, column: int) -> int:
        """The code-point `column` of `line` counted in UTF-16 code units (0-based).

        Without the file's text the code-point column is returned unchanged.
        """
        text = self.line(path, line)
        if text is None:
            return column
        prefix = text[:column]
        astral = sum(1 for ch in prefix if ord(ch) > 0xFFFF)
        return column + astral


def fingerprint(rule: str, path: str, line_text: str | None, message: str) -> str:
    """A hex digest that survives the finding moving to another line.

    Uses the line's text with surrounding whitespace stripped (so re-indenting does not
    change it), or the message when the text is unknown.
    """
    content = line_text.strip() if line_text is not None else message
    data = "\0".join((rule, path, content)).encode("utf-8")
    return hashlib.sha256(data).hexdigest()


class Occurrences:
    """Numbers repeated fingerprints (1, 2, ...) so identical lines stay distinct."""

    def __init__(self) -> None:
        self._seen: dict[str, int] = {}

    def next(self, key: str) -> int:
        count = self._seen.get(key, 0) + 1
        self._seen[key] = count
        return count
