"""What every fix builder shares: its signature, finding the operation a finding is about, and
the questions fixes ask about the rest of the migration."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from migration_lsp.findings import Applicability, Finding, Fix
from migration_lsp.model import (
    ExecuteSQL,
    Migration,
    Operation,
    SetSetting,
    Step,
    TransactionControl,
)

Builder = Callable[[Finding, Migration], "Fix | list[Fix] | None"]
"""Computes the fix for one finding from the migration's current text (None: no fix; a list:
alternatives, the preferred first)."""

OpT = TypeVar("OpT", bound=Operation)


def operation_for(finding: Finding, migration: Migration, kind: type[OpT]) -> OpT | None:
    """The operation of type `kind` the finding is about: the one whose span is the finding's
    scope (several operations can share a span, e.g. Django's AddField → column + index; the one
    whose part is under the finding wins)."""
    scope = finding.scope or finding.span
    candidates = [op for op in migration.operations if isinstance(op, kind) and op.span == scope]
    for op in candidates:
        if finding.span == op.span or finding.span in op.spans.values():
            return op
    return candidates[0] if candidates else None


def display(title: str) -> Fix:
    """A fix that only explains what to do: no automatic edit is right here."""
    return Fix(title=title, edits=[], applicability=Applicability.DISPLAY)


def _overlap(a: Operation, b: Operation) -> bool:
    return a.span.start < b.span.end and b.span.start < a.span.end


def other_statements(migration: Migration, op: Operation, *, neutral_settings: bool) -> int:
    """How many other statements run in the same step as `op` (operations sharing or inside
    one statement count once; the wrapping `op.execute`/`RunSQL` call is not another one).
    `neutral_settings`: plain `SET` statements (not `SET LOCAL`) do not count, as they behave the
    same inside and outside a transaction."""
    spans = set()
    for other in migration.operations:
        if other.step is not op.step or _overlap(other, op):
            continue
        if neutral_settings and isinstance(other, SetSetting) and not other.local:
            continue
        if isinstance(other, ExecuteSQL) and any(
            inner is not other and other.span.contains(inner.span) and inner.step is other.step
            for inner in migration.operations
        ):
            continue  # counted through the statements inside it
        spans.add((other.span.start, other.span.end))
    return len(spans)


def in_explicit_transaction(migration: Migration, op: Operation) -> bool:
    """`op` runs between a BEGIN written in the file and its COMMIT/ROLLBACK."""
    ordered = sorted(
        (o for o in migration.operations if o.step is op.step), key=lambda o: o.span.start
    )
    explicit = False
    for other in ordered:
        if other is op:
            return explicit
        if isinstance(other, TransactionControl):
            if other.kind == "begin":
                explicit = True
            elif other.kind in ("commit", "rollback"):
                explicit = False
    return False


def step_of(op: Operation) -> str:
    return "upgrade" if op.step is Step.UP else "downgrade"
