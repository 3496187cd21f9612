"""Whole SQL files parsed statement by statement, reusing what an edit did not touch.

A file is cut into *segments*, each ending right after a top-level `;` (the last one at the end
of the text). The tokenizer starts afresh after a `;`, so a segment tokenizes the same on its own
as inside the file, and its parse result depends on its text alone: it is cached by that text
and moved (spans shifted) when text before it grows or shrinks.

After an edit, the segments inside the unchanged prefix are kept as they are, those inside the
unchanged suffix are moved by the length difference, and only the text in between is tokenized
again, until a segment boundary lands on an old one in the suffix. A one-line edit in a
20,000-statement file tokenizes and parses one statement; rules still see every operation.

Tokenizing a whole file at once also costs more than linear time (one list of every token);
cutting it into blocks at statement ends keeps the first parse linear as well.
"""

from __future__ import annotations

import bisect
import dataclasses
import threading
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from sqlglot.dialects.dialect import Dialect
from sqlglot.errors import TokenError
from sqlglot.tokenizer_core import Token, TokenType

from migration_lsp.model import Column, Operation, ParseProblem, Step
from migration_lsp.text import (
    Span,
    common_prefix,
    common_suffix,
    fast_span,
    set_span_end,
    set_span_start,
)

_span = fast_span
_new = object.__new__
_set_start, _set_end = set_span_start, set_span_end

_BLOCK = 16_384
"""Characters tokenized at once on a first parse (grown when a literal spans the cut)."""
_STATES = 8
"""Recently parsed texts remembered (open editor documents, up and down sections)."""


@dataclass(slots=True)
class Segment:
    """One segment's parse: its statement's operations and problems, in document offsets
    computed when the segment started at `base`."""

    text: str
    base: int
    span: Span | None
    """The statement (first to last token before the `;`); None: only blanks and comments."""
    operations: list[Operation] = field(default_factory=list)
    problems: list[ParseProblem] = field(default_factory=list)
    open_ended: bool = False
    """Its tokens depend on text after it (see `_open_dollar`): never reused elsewhere."""

    def moved(self, base: int) -> Segment:
        """The same result for the segment starting at `base` (self when it has not moved)."""
        delta = base - self.base
        if delta == 0:
            return self
        span, shifters = self.span, _SHIFTERS
        return Segment(
            self.text,
            base,
            _span(span.start + delta, span.end + delta) if span is not None else None,
            [
                (shifters.get(type(op)) or _compiled(type(op), moving=True))(op, delta)
                for op in self.operations
            ],
            [
                ParseProblem(span=_shift_span(p.span, delta), message=p.message)
                for p in self.problems
            ]
            if self.problems
            else [],
            self.open_ended,
        )


@dataclass(slots=True)
class _State:
    """A parsed text: where its segments end, and their results."""

    key: tuple[str | None, Step]
    text: str
    offset: int
    ends: list[int]
    """End (exclusive) of each segment, relative to `text`; the last one is `len(text)`."""
    segments: list[Segment]
    by_text: dict[str, Segment]
    older: dict[str, Segment]
    """The previous state's segments: a quote opened and closed again finds them there."""
    first_open: int
    """The index of the first `open_ended` segment (`len(segments)` when none is)."""


@dataclass(slots=True)
class Counters:
    """How much work parses did (tests check that an edit re-parses one statement)."""

    parsed: int = 0
    """Statements given to sqlglot."""
    reused: int = 0
    """Segments taken from an earlier parse."""
    tokenized: int = 0
    """Characters tokenized."""


COUNTERS = Counters()
_states: OrderedDict[int, _State] = OrderedDict()
_lock = threading.Lock()
_next_id = [0]


def parse_segments(
    text: str,
    dialect: Dialect,
    dialect_name: str | None,
    step: Step,
    offset: int,
    builder: Any,
) -> list[Segment]:
    """The segments of `text` (at document offset `offset`), reusing an earlier parse of a
    similar text. `builder(text, positions)` makes the statement builder of `parse.sql`."""
    key = (dialect_name, step)
    closest = _closest(key, text)
    previous = closest[0] if closest is not None else None
    scanner = _Scanner(text, dialect, step, offset, builder, previous)
    segments, ends = scanner.run()
    by_text = {s.text: s for s in segments}
    first_open = next((i for i, s in enumerate(segments) if s.open_ended), len(segments))
    older = previous.by_text if previous else {}
    state = _State(key, text, offset, ends, segments, by_text, older, first_open)
    # a new version of the same text takes its place: typing keeps one state per document
    # (and the one before through `older`), not eight versions of the one being edited
    replaced = None
    if closest is not None and 2 * closest[2] > max(len(text), len(closest[0].text)):
        replaced = closest[1]
    _remember(state, replaced)
    return segments


def forget() -> None:
    """Drop every remembered text (tests)."""
    with _lock:
        _states.clear()


def _remember(state: _State, replaced: int | None = None) -> None:
    with _lock:
        if replaced is not None:
            _states.pop(replaced, None)
        _next_id[0] += 1
        _states[_next_id[0]] = state
        while len(_states) > _STATES:
            _states.popitem(last=False)


def _closest(key: tuple[str | None, Step], text: str) -> tuple[_State, int, int] | None:
    """The remembered state sharing the most text with `text` at its start and end, its
    id, and how much text it shares."""
    with _lock:
        candidates = [(k, s) for k, s in _states.items() if s.key == key]
    best: tuple[int, int, _State] | None = None
    for ident, state in candidates:
        shared = common_prefix(state.text, text) + common_suffix(state.text, text)
        if shared and (best is None or shared > best[0]):
            best = (shared, ident, state)
    if best is None:
        return None
    with _lock:  # the one most likely used again stays longest
        if best[1] in _states:
            _states.move_to_end(best[1])
    return best[2], best[1], best[0]


class _Targets:
    """The places in the new text where an old segment of the common suffix starts (moved
    by the edit's length change `delta`): where scanning can stop and take the old segments.
    Looked up in the old segments' starts, not listed: a 20,000-statement file has as many."""

    __slots__ = ("delta", "first", "starts")

    def __init__(self, starts: list[int], delta: int) -> None:
        self.starts = starts
        """Where each old segment starts in the old text."""
        self.delta = delta
        self.first = 0
        """The first old segment that can be reused."""

    def index_at_or_after(self, old_offset: int) -> int:
        return bisect.bisect_left(self.starts, old_offset)

    def get(self, pos: int) -> int | None:
        """The old segment starting at `pos` of the new text, if it can be reused."""
        starts, old = self.starts, pos - self.delta
        index = bisect.bisect_left(starts, old, self.first)
        return index if index < len(starts) and starts[index] == old else None

    def ahead(self, pos: int, count: int) -> int | None:
        """The `count`-th place after `pos` (in the new text), if there are that many."""
        index = bisect.bisect_right(self.starts, pos - self.delta, self.first) + count - 1
        return self.starts[index] + self.delta if index < len(self.starts) else None


class _Scanner:
    """Cuts one text into segments, tokenizing only what no earlier parse covers."""

    def __init__(
        self,
        text: str,
        dialect: Dialect,
        step: Step,
        offset: int,
        builder: Any,
        previous: _State | None,
    ) -> None:
        self.text = text
        self.dialect = dialect
        self.step = step
        self.offset = offset
        self.builder = builder
        self.previous = previous
        self.segments: list[Segment] = []
        self.ends: list[int] = []

    def run(self) -> tuple[list[Segment], list[int]]:
        previous = self.previous
        if previous is None:
            self.scan(0)
            return self.segments, self.ends
        old, new = previous.text, self.text
        prefix = common_prefix(old, new)
        suffix = common_suffix(old, new, min(len(old), len(new)) - prefix)
        delta = len(new) - len(old)
        shift = self.offset - previous.offset
        ends = previous.ends
        # segments wholly inside the common prefix stay; the last one never does (it ends
        # at the end of the text, not at a `;`, so text appended to it changes it)
        kept = min(bisect.bisect_right(ends, prefix, 0, len(ends) - 1), previous.first_open)
        start = ends[kept - 1] if kept else 0
        COUNTERS.reused += kept
        if shift:
            self.segments.extend([s.moved(s.base + shift) for s in previous.segments[:kept]])
        else:
            self.segments.extend(previous.segments[:kept])
        self.ends.extend(ends[:kept])
        # boundaries in the new text after which an old segment of the common suffix follows
        targets = _Targets([0, *ends[:-1]], delta)
        targets.first = max(kept, targets.index_at_or_after(max(len(old) - suffix, start - delta)))
        reached = targets.get(start)
        if reached is None:
            reached = self.scan(start, targets)
        if reached is not None:
            self.reuse(reached, delta, shift)
        return self.segments, self.ends

    def reuse(self, index: int, delta: int, shift: int) -> None:
        """Take the old segments from `index` on, moved by the edit's length change."""
        previous = self.previous
        assert previous is not None
        moved = delta + shift
        segments = previous.segments[index:]
        COUNTERS.reused += len(segments)
        self.segments.extend([s.moved(s.base + moved) for s in segments])
        self.ends.extend([end + delta for end in previous.ends[index:]])

    def add(self, segment: Segment, start: int) -> None:
        self.segments.append(segment)
        self.ends.append(start + len(segment.text))

    # ------------------------------------------------------------------ scanning

    def scan(self, start: int, targets: _Targets | None = None) -> int | None:
        """Tokenize from `start` until a boundary in `targets` (its old segment index is
        returned) or the end of the text (None)."""
        text = self.text
        size = _BLOCK
        tries = 1
        pos = start
        while pos < len(text):
            end = self._block_end(pos, targets, size, tries)
            tokenizer = self.dialect.tokenizer_class(dialect=self.dialect)
            chunk = text[pos:end]
            COUNTERS.tokenized += len(chunk)
            try:
                tokens = list(tokenizer.tokenize(chunk))
            except TokenError:
                if end < len(text):
                    size, tries = size * 2, tries * 2
                    continue
                self.broken_tail(pos, list(tokenizer.tokens))
                return None
            at_end = end == len(text)
            if at_end:
                last = len(tokens)
            else:  # what the rest of the text cannot change: up to the last `;` before
                # a `$` whose reading depends on it
                risky = _open_dollar(tokens, chunk, 0, len(chunk))
                last = _after_last_semicolon(tokens if risky is None else tokens[:risky])
            if last == 0 and not at_end:  # no statement end in the block: a bigger one
                size, tries = size * 2, tries * 2
                continue
            pos = self.emit(pos, chunk, tokens[:last], at_end)
            size, tries = _BLOCK, 1
            reached = targets.get(pos) if targets is not None else None
            if reached is not None:
                return reached
        return None

    def _block_end(self, pos: int, targets: _Targets | None, size: int, tries: int) -> int:
        """Where to cut the next block: at the `tries`-th old boundary ahead when there is
        one (right after a `;`), else about `size` characters on, at a line end."""
        if targets is not None:
            cut = targets.ahead(pos, tries)
            if cut is not None:
                return cut
        return self._line_end(pos, size)

    def _line_end(self, pos: int, size: int) -> int:
        text = self.text
        if pos + size >= len(text):
            return len(text)
        newline = text.find("\n", pos + size)
        return len(text) if newline == -1 else newline + 1

    def emit(self, pos: int, chunk: str, tokens: list[Token], at_end: bool) -> int:
        """Segments for the statements of one block (at `pos`); returns where the next
        segment starts."""
        positions = range(self.offset + pos, self.offset + pos + len(chunk) + 1)
        builder = None
        begin = 0  # relative start of the current segment
        current: list[Token] = []
        for token in tokens:
            if token.token_type is TokenType.SEMICOLON:
                end = token.end + 1
                builder = self.segment(chunk, begin, end, current, positions, builder)
                begin, current = end, []
            else:
                current.append(token)
        if at_end and begin < len(chunk):
            self.segment(chunk, begin, len(chunk), current, positions, builder)
            return pos + len(chunk)
        return pos + begin

    def segment(
        self,
        chunk: str,
        begin: int,
        end: int,
        tokens: list[Token],
        positions: range,
        builder: Any,
    ) -> Any:
        """Add the segment `chunk[begin:end]` whose statement is `tokens`; returns the block's
        statement builder (made on first need)."""
        text = chunk[begin:end]
        base = positions[begin]
        open_ended = _open_dollar(tokens, chunk, begin, end) is not None
        known = None if open_ended else self._known(text)
        if known is not None:
            COUNTERS.reused += 1
            self.add(known.moved(base), base - self.offset)
            return builder
        if not tokens:
            self.add(Segment(text, base, None), base - self.offset)
            return builder
        if builder is None:
            builder = self.builder(chunk, positions)
        COUNTERS.parsed += 1
        found = builder.parse_statement(tokens)
        segment = Segment(text, base, found[0], found[1], found[2], open_ended)
        self.add(segment, base - self.offset)
        return builder

    def _known(self, text: str) -> Segment | None:
        previous = self.previous
        if previous is None:
            return None
        return previous.by_text.get(text) or previous.older.get(text)

    def broken_tail(self, pos: int, tokens: list[Token]) -> None:
        """A literal or comment that never ends: the statements before it as usual, then
        one segment to the end of the text whose parse reports the problem."""
        last = _after_last_semicolon(tokens)
        if last:
            chunk_end = tokens[last - 1].end + 1
            pos = self.emit(pos, self.text[pos : pos + chunk_end], tokens[:last], False)
        text = self.text[pos:]
        base = self.offset + pos
        positions = range(base, base + len(text) + 1)
        COUNTERS.parsed += 1
        found = self.builder(text, positions).parse_text()
        self.add(Segment(text, base, found[0], found[1], found[2], True), pos)


def _open_dollar(tokens: list[Token], chunk: str, begin: int, end: int) -> int | None:
    """The index of the first token whose reading may depend on text after
    `chunk[begin:end]`.

    The tokenizer looks ahead without bound in one case: at a `$` it reads on to the next `$`
    for a dollar-quote tag, and when there is none, or the tag holds a blank, or the text ends
    right after it, it makes a parameter of the `$` instead (differently at the very end of
    the text). Only the last `$` of the range, or the one before when the range ends on a `$`,
    can read to its end."""
    last = chunk.rfind("$", begin, end)
    if last == -1:
        return None
    first = last
    if last == end - 1:
        before = chunk.rfind("$", begin, last)
        first = before if before != -1 else last
    for index, token in enumerate(tokens):
        if token.start in (first, last) and token.token_type is TokenType.PARAMETER:
            return index
    return None


def _after_last_semicolon(tokens: list[Token]) -> int:
    """The number of tokens up to and including the last `;` (0 when there is none)."""
    for index in range(len(tokens) - 1, -1, -1):
        if tokens[index].token_type is TokenType.SEMICOLON:
            return index + 1
    return 0


# --------------------------------------------------------------------------- moving results


def _shift_span(span: Span, delta: int) -> Span:
    return _span(span.start + delta, span.end + delta)


_PLAIN, _SPAN, _SPANS, _COLUMN, _COLUMNS, _OTHER = range(6)
_KINDS = {
    "Span": _SPAN,
    "Span | None": _SPAN,
    "dict[str, Span]": _SPANS,
    "Column": _COLUMN,
    "list[Column]": _COLUMNS,
}
_PLANS: dict[type, tuple[tuple[str, int], ...]] = {}


def _plan(cls: type) -> tuple[tuple[str, int], ...]:
    """Each field of an operation class and how to move it, from its annotation."""
    plan = _PLANS.get(cls)
    if plan is None:
        fields = dataclasses.fields(cls)
        plan = _PLANS[cls] = tuple(
            (f.name, _KINDS.get(str(f.type), _OTHER if _may_hold_spans(str(f.type)) else _PLAIN))
            for f in fields
        )
    return plan


def _may_hold_spans(annotation: str) -> bool:
    return "Span" in annotation or "Column" in annotation or "Any" in annotation


def _shift_value(value: Any, delta: int) -> Any:
    if isinstance(value, Span):
        return _span(value.start + delta, value.end + delta)
    if isinstance(value, Column):
        return shift_operation(value, delta)
    if isinstance(value, dict):
        return {k: _shift_value(v, delta) for k, v in value.items()}
    if isinstance(value, list):
        return [_shift_value(v, delta) for v in value]
    return value


_SHIFTERS: dict[type, Callable[[Any, int], Any]] = {}
_COPIERS: dict[type, Callable[[Any, int], Any]] = {}


def _compiled(cls: type, moving: bool) -> Callable[[Any, int], Any]:
    """A function copying one operation class field by field (moving its spans by `d` when
    `moving`), written out for the class as `dataclasses` writes `__init__`: an edit in the
    middle of a long file moves thousands of operations, and a loop over field names costs
    twice as much."""
    table = _SHIFTERS if moving else _COPIERS
    found = table.get(cls)
    if found is not None:
        return found
    lines = ["def copy(op, d):", "    c = new(cls)"]
    for name, kind in _plan(cls):
        value = f"op.{name}"
        if moving and kind == _SPAN:  # spans made in place: no call per span
            lines += [
                f"    v = {value}",
                "    if v is not None:",
                "        s = new(Span); set_start(s, v.start + d); set_end(s, v.end + d); v = s",
            ]
            value = "v"
        elif moving and kind == _SPANS:
            lines += [
                "    m = {}",
                f"    for k, v in {value}.items():",
                "        s = new(Span); set_start(s, v.start + d); set_end(s, v.end + d); m[k] = s",
            ]
            value = "m"
        elif moving and kind == _COLUMN:
            value = f"shift({value}, d)"
        elif moving and kind == _COLUMNS:
            value = f"[shift(v, d) for v in {value}]"
        elif moving and kind == _OTHER:
            value = f"moved({value}, d)"
        lines.append(f"    c.{name} = {value}")
    lines.append("    return c")
    namespace: dict[str, Any] = {
        "new": _new,
        "cls": cls,
        "Span": Span,
        "set_start": _set_start,
        "set_end": _set_end,
        "shift": shift_operation,
        "moved": _shift_value,
    }
    exec("\n".join(lines), namespace)  # the code is written above from field names only
    table[cls] = namespace["copy"]
    return table[cls]


def shift_operation(op: Any, delta: int) -> Any:
    """A copy of an operation (or column) with every span moved by `delta` (a plain copy
    for 0). Parts without spans are shared: nothing changes parsed operations."""
    cls = type(op)
    if delta == 0:
        copier = _COPIERS.get(cls) or _compiled(cls, moving=False)
        return copier(op, 0)
    shifter = _SHIFTERS.get(cls) or _compiled(cls, moving=True)
    return shifter(op, delta)
