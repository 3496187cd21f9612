"""What every fix builder shares: its signature, finding the operation a finding is about, and
the questions fixes ask about the rest of the migration."""

from __future__ import annotations

import bisect
import threading
from collections.abc import Callable
from typing import TypeVar

from migration_lsp.findings import Applicability, Finding, Fix
from migration_lsp.model import (
    ExecuteSQL,
    Migration,
    Operation,
    OtherStatement,
    SetSetting,
    Step,
    TransactionControl,
)
from migration_lsp.text import Span

Builder = Callable[[Finding, Migration], "Fix | list[Fix] | None"]
"""Computes the fix for one finding from the migration's current text (None: no fix; a list:
alternatives, the preferred first)."""

OpT = TypeVar("OpT", bound=Operation)


def operation_for(finding: Finding, migration: Migration, kind: type[OpT]) -> OpT | None:
    """The operation of type `kind` the finding is about: the one whose span is the finding's
    scope (several operations can share a span, e.g. Django's AddField → column + index; the one
    whose part is under the finding wins)."""
    scope = finding.scope or finding.span
    candidates = [op for op in _index(migration).by_span.get(scope, ()) if isinstance(op, kind)]
    for op in candidates:
        if finding.span == op.span or finding.span in op.spans.values():
            return op
    return candidates[0] if candidates else None


def display(title: str) -> Fix:
    """A fix that only explains what to do: no automatic edit is right here."""
    return Fix(title=title, edits=[], applicability=Applicability.DISPLAY)


def other_statements(migration: Migration, op: Operation, *, neutral_settings: bool) -> int:
    """How many other statements run in the same step as `op` (operations sharing or inside
    one statement count once; the wrapping `op.execute`/`RunSQL` call is not another one).
    `neutral_settings`: plain `SET` statements (not `SET LOCAL`) do not count, as they behave the
    same inside and outside a transaction."""
    counted = _index(migration).statements(op.step, neutral_settings)
    return len(counted) - counted.overlapping(op.span)


def in_explicit_transaction(migration: Migration, op: Operation) -> bool:
    """`op` runs between a BEGIN written in the file and its COMMIT/ROLLBACK."""
    return _index(migration).explicit.get(id(op), False)


def inside_other_statement(migration: Migration, op: Operation) -> bool:
    """`op` is a statement inside another statement (`DO $$ ... $$`): an `OtherStatement`
    whose span holds `op`'s and is not the same."""
    return _index(migration).others.holds(op.span)


def operations_at(migration: Migration, span: Span) -> list[Operation]:
    """The operations whose span is exactly `span` (one statement's), in order."""
    return list(_index(migration).by_span.get(span, ()))


# --------------------------------------------------------------------------- per-migration index
# The questions above are asked once per finding; answering each from a scan of every
# operation made building the fixes of a whole file ("fix all") quadratic.


class _Spans:
    """Distinct spans sorted by start, with the furthest end reached so far at each one."""

    def __init__(self, spans: set[tuple[int, int]]) -> None:
        self.spans = sorted(spans)
        self.starts = [start for start, _ in self.spans]
        self.reach: list[int] = []
        furthest = -1
        for _, end in self.spans:
            furthest = max(furthest, end)
            self.reach.append(furthest)

    def __len__(self) -> int:
        return len(self.spans)

    def holds(self, span: Span) -> bool:
        """Whether a span other than `span` itself contains it."""
        index = bisect.bisect_right(self.starts, span.start) - 1
        while index >= 0 and self.reach[index] >= span.end:
            start, end = self.spans[index]
            if start <= span.start and span.end <= end and (start, end) != (span.start, span.end):
                return True
            index -= 1
        return False

    def overlapping(self, span: Span) -> int:
        """How many spans overlap `span` (share a character with it)."""
        count = 0
        index = bisect.bisect_left(self.starts, span.end) - 1
        while index >= 0 and self.reach[index] > span.start:
            start, end = self.spans[index]
            if start < span.end and span.start < end:
                count += 1
            index -= 1
        return count


class _Index:
    def __init__(self, migration: Migration) -> None:
        operations = migration.operations
        self.by_span: dict[Span, list[Operation]] = {}
        for op in operations:
            self.by_span.setdefault(op.span, []).append(op)
        self._operations = operations
        self.others = _Spans(
            {(o.span.start, o.span.end) for o in operations if isinstance(o, OtherStatement)}
        )
        self._statements: dict[tuple[Step, bool], _Spans] = {}
        self._wrappers: set[int] | None = None
        self.explicit: dict[int, bool] = {}
        for step in Step:
            explicit = False
            ordered = sorted((o for o in operations if o.step is step), key=lambda o: o.span.start)
            for other in ordered:
                self.explicit.setdefault(id(other), explicit)
                if isinstance(other, TransactionControl):
                    if other.kind == "begin":
                        explicit = True
                    elif other.kind in ("commit", "rollback"):
                        explicit = False

    def statements(self, step: Step, neutral_settings: bool) -> _Spans:
        key = (step, neutral_settings)
        if key not in self._statements:
            wrappers = self.wrappers()
            self._statements[key] = _Spans(
                {
                    (o.span.start, o.span.end)
                    for o in self._operations
                    if o.step is step
                    and not (neutral_settings and isinstance(o, SetSetting) and not o.local)
                    and id(o) not in wrappers
                }
            )
        return self._statements[key]

    def wrappers(self) -> set[int]:
        """`op.execute`/`RunSQL` calls holding statements of their own step."""
        if self._wrappers is None:
            self._wrappers = set()
            for step in Step:
                ordered = sorted(
                    (o for o in self._operations if o.step is step), key=lambda o: o.span.start
                )
                starts = [o.span.start for o in ordered]
                for op in ordered:
                    if isinstance(op, ExecuteSQL) and _holds_another(op, ordered, starts):
                        self._wrappers.add(id(op))
        return self._wrappers


def _holds_another(op: Operation, ordered: list[Operation], starts: list[int]) -> bool:
    """Another operation of `ordered` (sorted by start) lies within `op`'s span."""
    index = bisect.bisect_left(starts, op.span.start)
    while index < len(ordered) and starts[index] <= op.span.end:
        inner = ordered[index]
        if inner is not op and op.span.contains(inner.span):
            return True
        index += 1
    return False


_indexes: dict[int, tuple[Migration, list[Operation], int, _Index]] = {}
_indexes_lock = threading.Lock()


def _index(migration: Migration) -> _Index:
    """The index of `migration`'s operations, built once (for the last few migrations)."""
    key = id(migration)
    with _indexes_lock:
        hit = _indexes.get(key)
    operations = migration.operations
    if (
        hit is not None
        and hit[0] is migration
        and hit[1] is operations
        and hit[2] == len(operations)
    ):
        return hit[3]
    index = _Index(migration)
    with _indexes_lock:
        _indexes[key] = (migration, operations, len(operations), index)
        while len(_indexes) > 4:
            del _indexes[next(iter(_indexes))]
    return index


def step_of(op: Operation) -> str:
    return "upgrade" if op.step is Step.UP else "downgrade"
