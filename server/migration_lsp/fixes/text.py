"""Plain-text helpers shared by every fix builder: applying edits, lines, newlines, indentation,
keyword case and Python string literals.

Offsets are code points into the document text, like every `Span` of the engine.
"""

from __future__ import annotations

from collections.abc import Iterable

from migration_lsp.findings import Edit
from migration_lsp.text import Span


def apply_edits(text: str, edits: Iterable[Edit]) -> str:
    """`text` with `edits` applied. Edits are expressed against the original text and must not
    overlap (two insertions at the same offset are applied in the given order)."""
    ordered = sorted(edits, key=lambda edit: (edit.span.start, edit.span.end))
    parts: list[str] = []
    position = 0
    for edit in ordered:
        start, end = edit.span.start, edit.span.end
        if not 0 <= start <= end <= len(text):
            raise ValueError(f"edit {start}-{end} is outside the text (length {len(text)})")
        if start < position:
            raise ValueError(f"edit {start}-{end} overlaps an earlier edit ending at {position}")
        parts.append(text[position:start])
        parts.append(edit.new_text)
        position = end
    parts.append(text[position:])
    return "".join(parts)


def insert(offset: int, new_text: str) -> Edit:
    return Edit(Span(offset, offset), new_text)


def replace(span: Span, new_text: str) -> Edit:
    return Edit(span, new_text)


def newline_of(text: str) -> str:
    """The line ending the file uses (its first one decides): `\\r\\n` or `\\n`."""
    first = text.find("\n")
    return "\r\n" if first > 0 and text[first - 1] == "\r" else "\n"


def line_start(text: str, offset: int) -> int:
    return text.rfind("\n", 0, offset) + 1


def line_end(text: str, offset: int) -> int:
    """Offset of the end of the line holding `offset`, before its `\\r\\n` or `\\n`."""
    end = text.find("\n", offset)
    if end == -1:
        return len(text)
    return end - 1 if end > 0 and text[end - 1] == "\r" else end


def next_line_start(text: str, offset: int) -> int:
    """Start of the line after the one holding `offset` (the end of the text on the last)."""
    end = text.find("\n", offset)
    return len(text) if end == -1 else end + 1


def indentation(text: str, offset: int) -> str:
    """The spaces and tabs that start the line holding `offset`."""
    start = line_start(text, offset)
    end = start
    while end < len(text) and text[end] in " \t":
        end += 1
    return text[start:end]


def is_blank(line: str) -> bool:
    return not line.strip()


def only_space_before(text: str, offset: int) -> bool:
    """Nothing but indentation between the start of the line and `offset`."""
    return is_blank(text[line_start(text, offset) : offset])


def only_comment_after(text: str, offset: int) -> bool:
    """Nothing but spaces and a `#` comment between `offset` and the end of the line."""
    rest = text[offset : line_end(text, offset)].strip()
    return not rest or rest.startswith("#")


def match_case(words: str, like: str) -> str:
    """`words` in lower case when the keyword it sits next to is written in lower case."""
    letters = [c for c in like if c.isalpha()]
    return words.lower() if letters and all(c.islower() for c in letters) else words


def py_string(value: str, quote: str = '"') -> str:
    """A Python string literal for `value` with the file's quote character."""
    escaped = value.replace("\\", "\\\\").replace(quote, "\\" + quote)
    escaped = escaped.replace("\n", "\\n").replace("\r", "\\r")
    return f"{quote}{escaped}{quote}"


def first_line(source: str, limit: int = 72) -> str:
    """The first line of a statement, shortened for a comment."""
    line = source.strip().splitlines()[0] if source.strip() else ""
    return line if len(line) <= limit else line[: limit - 3].rstrip() + "..."


def wrap_comment(text: str, width: int) -> list[str]:
    """`text` split into comment lines (without the `# `) of at most `width` characters."""
    lines: list[str] = []
    current = ""
    for word in text.split():
        if current and len(current) + 1 + len(word) > width:
            lines.append(current)
            current = word
        else:
            current = f"{current} {word}" if current else word
    if current:
        lines.append(current)
    return lines
