"""Offsets and line/column positions of one document.

The engine speaks in code-point offsets into the decoded text (what Python `str` indexing,
libcst and sqlglot use). `ast` reports UTF-8 byte columns and LSP clients want UTF-16, UTF-8 or
UTF-32 units; every conversion goes through a `LineIndex` so it is written once.
"""

from __future__ import annotations

import bisect
import re
from dataclasses import dataclass

_LINE_BREAK = re.compile(r"\r\n?|\n")


@dataclass(frozen=True, slots=True)
class Span:
    """A half-open range `[start, end)` of code-point offsets into a document."""

    start: int
    end: int

    def contains(self, other: Span) -> bool:
        return self.start <= other.start and other.end <= self.end

    def shifted(self, by: int) -> Span:
        return Span(self.start + by, self.end + by)


_new = object.__new__
set_span_start = vars(Span)["start"].__set__  # the slots' own setters (Span is frozen)
set_span_end = vars(Span)["end"].__set__


def fast_span(start: int, end: int) -> Span:
    """`Span(start, end)` without the frozen dataclass's checked `__init__` (moving the
    spans of thousands of operations or findings after an edit)."""
    span = _new(Span)
    set_span_start(span, start)
    set_span_end(span, end)
    return span


def common_prefix(a: str, b: str) -> int:
    """Length of the common prefix: slices compared at C speed, in growing steps, then
    halved down to the first difference (cost proportional to the prefix)."""
    limit = min(len(a), len(b))
    low, step = 0, 256
    while True:
        if low >= limit:
            return limit
        high = min(limit, low + step)
        if a[low:high] != b[low:high]:
            break
        low, step = high, step * 2
    while high - low > 1:  # a[:low] == b[:low], a[low:high] != b[low:high]
        middle = (low + high) // 2
        if a[low:middle] == b[low:middle]:
            low = middle
        else:
            high = middle
    return low


def common_suffix(a: str, b: str, limit: int | None = None) -> int:
    """Length of the common suffix (at most `limit`), as `common_prefix` from the end."""
    top = min(len(a), len(b)) if limit is None else min(limit, len(a), len(b))
    la, lb = len(a), len(b)
    low, step = 0, 256
    while True:
        if low >= top:
            return top
        high = min(top, low + step)
        if a[la - high : la - low] != b[lb - high : lb - low]:
            break
        low, step = high, step * 2
    while high - low > 1:
        middle = (low + high) // 2
        if a[la - middle : la - low] == b[lb - middle : lb - low]:
            low = middle
        else:
            high = middle
    return low


class LineIndex:
    """Maps between offsets and (line, column) pairs, 0-based, columns in code points."""

    __slots__ = ("_ascii", "_starts", "text")

    def __init__(self, text: str) -> None:
        self.text = text
        starts = [0]
        if "\r" in text:  # LSP's line breaks: "\r\n", "\n" and a lone "\r"
            starts.extend(m.end() for m in _LINE_BREAK.finditer(text))
        else:
            find = text.find
            pos = find("\n")
            while pos != -1:
                starts.append(pos + 1)
                pos = find("\n", pos + 1)
        self._starts = starts
        self._ascii = text.isascii()

    @property
    def starts(self) -> list[int]:
        """The offset where each line starts (read-only)."""
        return self._starts

    @property
    def line_count(self) -> int:
        return len(self._starts)

    def line_start(self, line: int) -> int:
        if line >= len(self._starts):
            return len(self.text)
        return self._starts[line]

    def line_text(self, line: int) -> str:
        start = self.line_start(line)
        end = self.line_start(line + 1) if line + 1 < len(self._starts) else len(self.text)
        return self.text[start:end].rstrip("\r\n")

    def position(self, offset: int) -> tuple[int, int]:
        """(line, column in code points) of `offset`; an offset between the two characters
        of a CRLF is the end of its line."""
        offset = max(0, min(offset, len(self.text)))
        line = bisect.bisect_right(self._starts, offset) - 1
        return line, min(offset, self._line_end(line)) - self._starts[line]

    def positions(self, offsets: list[int]) -> list[tuple[int, int]]:
        """`position` of each offset; one walk over the lines when the offsets ascend (as a
        file's findings mostly do), a bisection for each one that goes back."""
        starts, text = self._starts, self.text
        size, last = len(text), len(starts) - 1
        out: list[tuple[int, int]] = []
        line = 0
        for offset in offsets:
            if offset < 0:
                offset = 0
            elif offset > size:
                offset = size
            if offset < starts[line]:
                line = bisect.bisect_right(starts, offset) - 1
            else:
                while line < last and starts[line + 1] <= offset:
                    line += 1
            start = starts[line]
            if line < last and offset >= starts[line + 1] - 2:  # near its line break
                out.append((line, min(offset, self._line_end(line)) - start))
            else:
                out.append((line, offset - start))
        return out

    def offset(self, line: int, column: int) -> int:
        """Offset of (line, code-point column), clamped to the document."""
        if line >= len(self._starts):
            return len(self.text)
        start = self._starts[line]
        return min(start + max(column, 0), self._line_end(line))

    def _line_end(self, line: int) -> int:
        """Offset of the end of `line`'s text, before its line break."""
        if line + 1 >= len(self._starts):
            return len(self.text)
        end = self._starts[line + 1]
        text = self.text
        if text[end - 1] == "\n":
            end -= 1
        if end > self._starts[line] and text[end - 1] == "\r":
            end -= 1
        return end

    def offset_from_utf8(self, line: int, byte_column: int) -> int:
        """Offset of a position whose column counts UTF-8 bytes (as `ast` reports them)."""
        if self._ascii:
            return self.offset(line, byte_column)
        text = self.line_text(line)
        prefix = text.encode("utf-8")[:byte_column].decode("utf-8", errors="ignore")
        return self.offset(line, len(prefix))
