"""What a rule is: an id, defaults, documentation, and one check over a normalized migration.

A rule's docstring is its documentation (`explain`, the docs pages and hover show it), written
in fixed sections: What it does / Why is this bad? / Example / Use instead / Fix safety.
"""

from __future__ import annotations

import inspect
import weakref
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from functools import lru_cache
from typing import TYPE_CHECKING, Any, TypeVar, cast

from migration_lsp.findings import Finding, Fix
from migration_lsp.model import (
    CreateTable,
    Migration,
    Operation,
    RenameTable,
    Severity,
    Step,
)
from migration_lsp.text import Span

if TYPE_CHECKING:
    from migration_lsp.history.git import AppliedIndex
    from migration_lsp.history.graph import History

Check = Callable[["Context"], Iterable[Finding]]
T = TypeVar("T")
Op = TypeVar("Op", bound="Operation")

PG = frozenset({"postgresql"})


@dataclass(frozen=True, slots=True)
class Rule:
    id: str
    summary: str
    severity: Severity
    category: str
    check: Check
    dialects: frozenset[str] | None = None
    """Dialects the rule applies to; None for all."""
    default_enabled: bool = True
    fix: str | None = None
    """Name of the quick fix the rule offers, when it has one."""
    anchors: dict[str, str] = field(default_factory=dict)
    """Equivalent checks in other linters: {"squawk": "require-concurrent-index-creation"}."""
    subjects: tuple[type[Operation], ...] = ()
    """The kinds of operation the rule judges one at a time (asked for with `Context.of`):
    each finding lies within one of them and depends only on it and on the other things the
    rule reads. After an edit that changed only operations of these kinds, the rule judges
    just the changed ones (`relint`)."""

    @property
    def doc(self) -> str:
        return inspect.cleandoc(self.check.__doc__ or self.summary)

    def applies_to(self, dialect: str) -> bool:
        return self.dialects is None or dialect in self.dialects


def rule(
    id: str,
    *,
    summary: str,
    severity: Severity,
    category: str,
    dialects: frozenset[str] | None = None,
    default_enabled: bool = True,
    fix: str | None = None,
    anchors: dict[str, str] | None = None,
    subjects: tuple[type[Operation], ...] = (),
) -> Callable[[Check], Rule]:
    """Turn a check function into a `Rule`. No registration happens here: see `registry.py`."""

    def wrap(check: Check) -> Rule:
        return Rule(
            id=id,
            summary=summary,
            severity=severity,
            category=category,
            check=check,
            dialects=dialects,
            default_enabled=default_enabled,
            fix=fix,
            anchors=anchors or {},
            subjects=subjects,
        )

    return wrap


@lru_cache(maxsize=8192)
def table_key(name: str) -> str:
    """A table name compared across spellings: unquoted, lower-case, without its schema
    (remembered: the rules ask it tens of thousands of times per large file)."""
    return name.strip('"`[]').rsplit(".", 1)[-1].lower()


HEADER = frozenset(
    {"path", "tool", "dialect", "language", "supports_down", "transactional", "runner"}
)
"""Attributes of a migration that an edit inside one statement leaves as they are (`relint`
compares them): reading them does not make a rule depend on every operation."""


@dataclass(frozen=True, slots=True)
class Fact:
    """A rule read `compute(context)` (see `Context.fact`) and found `value`."""

    compute: Callable[[Context], object]
    value: object = field(hash=False)
    """Compared, never hashed: an operation can be a fact (operations are not hashable)."""


class _Watched:
    """The migration as a rule sees it while the context notes what rules read: any
    attribute beyond the `HEADER` (operations, text, steps, problems) counts as reading
    everything."""

    __slots__ = ("_context", "_migration")

    def __init__(self, migration: Migration, context: Context) -> None:
        self._migration = migration
        # weak: the context holds this proxy, and a cycle would keep the whole migration
        # alive after each analysis until the garbage collector walks it
        self._context = weakref.ref(context)

    def __getattr__(self, name: str) -> Any:
        if name not in HEADER:
            context = self._context()
            if context is not None:
                context.read_everything()
        return getattr(self._migration, name)


class Context:
    """What one rule sees while checking one migration.

    With `watch`, it notes what the current rule reads: the kinds of operation it asks for
    (`of`, `is_new_table`), or everything (all operations, the text, the history). After an
    edit, a rule whose reads the edit did not touch keeps its findings (see `relint`)."""

    def __init__(
        self,
        migration: Migration,
        dialect: str,
        check_downgrade: bool,
        postgres_version: int = 17,
        history: History | None = None,
        applied: AppliedIndex | None = None,
        watch: bool = False,
    ) -> None:
        self._migration = migration
        self._watched = _Watched(migration, self) if watch else None
        self.reads: set[type | Fact] | None = set()
        """What the current rule read so far: kinds of operation and facts, or None for
        everything."""
        self._facts: dict[Callable[[Context], object], object] = {}
        self._units: dict[int, int] | None = None
        self.history = history
        self.applied = applied
        self.dialect = dialect
        self.check_downgrade = check_downgrade
        self.postgres_version = postgres_version
        """The PostgreSQL major version (config `postgres-version`)."""
        self.rule: Rule | None = None
        self._created: dict[tuple[bool, str], int] = {}
        """Where each table was created (or renamed into existence), by step and name."""
        self._position: dict[int, int] = {}
        """The index of each operation (by `id`) scanned so far (`_scan_to`)."""
        self._scanned = 0
        self._operations: list[Operation] | None = None
        self._memo: dict[object, Any] = {}
        self._kinds: dict[tuple[type, ...], list[Any]] = {}
        self._by_type: dict[type, list[Operation]] | None = None
        self._only: tuple[tuple[type, ...], list[Operation]] | None = None

    @property
    def migration(self) -> Migration:
        watched = self._watched
        return self._migration if watched is None else cast("Migration", watched)

    @property
    def history(self) -> History | None:
        """The project's revision graph (None: not known, the history rules stay quiet)."""
        self.reads = None
        return self._history

    @history.setter
    def history(self, value: History | None) -> None:
        self._history = value

    @property
    def applied(self) -> AppliedIndex | None:
        """What the default branch has already applied (None: not a git repository)."""
        self.reads = None
        return self._applied

    @applied.setter
    def applied(self, value: AppliedIndex | None) -> None:
        self._applied = value

    def read_everything(self) -> None:
        self.reads = None

    def operations(self) -> list[Operation]:
        """The operations safety rules judge: the forward step (and reverse when configured).
        Worked out once: every rule walks them."""
        self.reads = None
        return self._judged()

    def _judged(self) -> list[Operation]:
        if self._operations is None:
            wanted = self.check_downgrade
            self._operations = [
                op for op in self._migration.operations if op.step is Step.UP or wanted
            ]
        return self._operations

    def of(self, *kinds: type[Op]) -> list[Op]:
        """The operations judged (`operations()`) that are instances of `kinds`, in order.
        Indexed once per migration: most rules look at one or two kinds of operation, and
        a large file has thousands of others."""
        reads = self.reads
        if reads is not None:
            reads.update(kinds)
        only = self._only
        if only is not None and all(issubclass(kind, only[0]) for kind in kinds):
            return [op for op in only[1] if isinstance(op, kinds)]
        found: list[Any] | None = self._kinds.get(kinds)
        if found is None:
            by_type = self._by_type
            if by_type is None:  # one pass over the operations, grouped by their class
                by_type = self._by_type = {}
                for op in self._judged():
                    by_type.setdefault(type(op), []).append(op)
            matching = {cls for cls in by_type if issubclass(cls, kinds)}
            if len(matching) == 1:
                found = by_type[matching.pop()]
            elif not matching:
                found = []
            else:  # several classes: back in file order
                found = [op for op in self._judged() if type(op) in matching]
            self._kinds[kinds] = found
        return cast("list[Op]", found)

    def narrowed(self, subjects: tuple[type, ...], operations: list[Operation] | None) -> None:
        """From now on `of` gives, for kinds among `subjects`, only those of `operations`
        (the ones an edit changed) that are judged; None: all of them again."""
        if operations is None:
            self._only = None
            return
        wanted = self.check_downgrade
        judged = [op for op in operations if op.step is Step.UP or wanted]
        self._only = (subjects, judged)

    def every(self, *kinds: type[Op]) -> list[Op]:
        """The operations of `kinds` in every step (forward and reverse, judged or not), in
        order: for the rules about the file as written rather than the steps it runs."""
        reads = self.reads
        if reads is not None:
            reads.update(kinds)
        return [op for op in self._migration.operations if isinstance(op, kinds)]

    def memo(self, key: object, compute: Callable[[Context], T]) -> T:
        """`compute(self)` worked out once per migration: what several rules derive from the
        whole file (the column definitions, the indexes) is not recomputed by each. Each rule
        using it counts as reading what `compute` read."""
        entry = self._memo.get(key)
        if entry is None:
            outer, self.reads = self.reads, set()
            only, self._only = self._only, None  # about the whole migration, not a part
            value = compute(self)
            entry = self._memo[key] = (value, self.reads)
            self.reads, self._only = outer, only
        reads, used = self.reads, entry[1]
        if reads is not None:
            if used is None:
                self.reads = None
            else:
                reads.update(used)
        found: T = entry[0]
        return found

    def fact(self, compute: Callable[[Context], T]) -> T:
        """`compute(self)`, a comparable fact about the whole migration (the steps holding
        several statements, say), worked out once. A rule reading it depends on its value,
        not on the operations it was computed from: after an edit that leaves the value as it
        was, the rule's findings elsewhere stand."""
        if compute in self._facts:
            value = cast("T", self._facts[compute])
        else:
            outer, self.reads = self.reads, set()
            only, self._only = self._only, None  # about the whole migration, not a part
            value = compute(self)
            self.reads, self._only = outer, only
            self._facts[compute] = value
        reads = self.reads
        if reads is not None:
            reads.add(Fact(compute, value))
        return value

    def transaction_of(self, op: Operation) -> tuple[Step, int]:
        """Which transaction of its step `op` runs in: Liquibase runs every changeSet in a
        transaction of its own (the changeSet's index); other tools, one per step (-1)."""
        units = self._unit_index()
        return op.step, units.get(id(op), -1) if units else -1

    def one_unit_per_step(self) -> bool:
        """Whether `transaction_of` gives every operation of a step the same transaction."""
        return not self._unit_index()

    def _unit_index(self) -> dict[int, int]:
        units = self._units
        if units is None:
            m = self._migration
            units = self._units = (
                {id(o): i for i, cs in enumerate(m.changesets) for o in cs.operations}
                if m.tool == "liquibase"
                else {}
            )
        return units

    def is_new_table(self, table: str | None, op: Operation) -> bool:
        """Created (or renamed into existence) earlier in the same step of this migration:
        empty, so locks and scans on it cost nothing."""
        if not table:
            return False
        reads = self.reads
        if reads is not None:
            reads.update((CreateTable, RenameTable))
        position = self._position.get(id(op))
        if position is None:
            position = self._scan_to(op)
        created = self._created.get((op.step is Step.UP, table_key(table)))
        return created is not None and created <= position

    def _scan_to(self, op: Operation) -> int:
        """The index of `op` among the operations (their number when it is none of them),
        noting the tables created up to it. The scan goes on from where the last one
        stopped: a rule asking about the first statement does not walk the whole file."""
        operations, created_at, position = self._migration.operations, self._created, self._position
        index, count = self._scanned, len(operations)
        while index < count:
            other = operations[index]
            position[id(other)] = index
            key = None
            if isinstance(other, CreateTable):
                key = table_key(other.table)
            elif isinstance(other, RenameTable) and (
                (other.step is Step.UP, table_key(other.table)) in created_at
            ):
                key = table_key(other.new_name)
            if key is not None:
                created_at.setdefault((other.step is Step.UP, key), index)
            index += 1
            if other is op:
                break
        self._scanned = index
        return position.get(id(op), count)

    def finding(
        self,
        at: Operation | Span,
        message: str,
        *,
        part: str | None = None,
        fix: Fix | None = None,
        data: dict[str, Any] | None = None,
    ) -> Finding:
        assert self.rule is not None
        if isinstance(at, Operation):
            span = at.span_of(part) if part else at.span
            scope = at.span
        else:
            span = scope = at
        return Finding(
            rule=self.rule.id,
            message=message,
            span=span,
            severity=self.rule.severity,
            fix=fix,
            path=self._migration.path,
            scope=scope,
            data=data or {},
        )
