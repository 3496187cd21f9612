"""Rails (Active Record) migrations (`db/migrate/<timestamp>_<name>.rb`) → `Migration`.

Read with tree-sitter's Ruby grammar, never run. The migration class's `change`, `up` and `down`
(also `self.up` / `self.down`) are walked for the schema DSL (`create_table` blocks,
`change_table`, `add_column`, `add_index`, `add_reference`, `add_foreign_key`, constraints, ...),
`execute` with SQL strings and heredocs (checked as SQL, reported inside the string), and
obvious data changes through models (`User.where(...).update_all`, `in_batches`, `find_each`).

Transactions: Rails runs each migration in a transaction on databases with transactional DDL,
unless the class calls `disable_ddl_transaction!`; a `transaction do ... end` block inside such a
migration opens one again.

Reversibility: a `change` method becomes a `Changeset` holding the operations Rails must invert
itself (those in `reversible` and `up_only` blocks say how to undo themselves and are left out),
so `irreversible-change` can judge them. `up`/`down` style sets `supports_down`.

`safety_assured { ... }` is strong_migrations' explicit "I checked this": the operations inside
are kept out of `Migration.operations` (no safety rule judges them) but stay in the `change`
changeset and in `RailsFile.calls`, because an assurance about locks says nothing about whether
Rails can roll the step back; a note in `Migration.notes` records what was left unchecked.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cache
from typing import Any, Literal, cast

from tree_sitter import Node, Query, QueryCursor

from migration_lsp.model import Changeset, Migration, Operation, ParseProblem, Step, StepBody
from migration_lsp.parse.rails_syntax import Args, call_parts, name_of, text_of
from migration_lsp.parse.treesitter import TreeSource, language, named_children, walk
from migration_lsp.text import Span

Section = Literal["change", "up", "down", "reversible", "up_only"]


@dataclass(slots=True)
class TableRef:
    """The table a call works on: its name, and how the source wrote it (for generated code)."""

    name: str
    node: Node | None
    text: str


@dataclass(slots=True)
class RailsCall:
    """One DSL call of the migration and the operations it became (fixes rebuild code from it)."""

    node: Node
    method: str
    """The migration method it stands for: `add_column` also for `t.string` in `change_table`."""
    written: str
    """How the source calls it: `add_column`, `t.string`."""
    table: TableRef | None
    rest: list[Node]
    """Positional arguments after the table (for `t.*` calls: all of them)."""
    args: Args
    step: Step
    section: Section
    ops: list[Operation]
    assured: bool
    in_block: str | None = None
    """`create_table` / `change_table` when the call is a `t.*` call of that block."""
    type_name: str | None = None
    """The column type a `t.<type>` call implies."""


@dataclass(slots=True)
class RailsFile:
    """A parsed Rails migration: the normalized `Migration` plus what fixes need."""

    source: TreeSource
    migration: Migration
    klass: Node | None = None
    version: str | None = None
    """The `ActiveRecord::Migration[7.1]` version, when written."""
    methods: dict[str, Node] = field(default_factory=dict)
    """`change`, `up`, `down` → their method node (`self.up` is `up`)."""
    disable: Node | None = None
    """The `disable_ddl_transaction!` call."""
    calls: list[RailsCall] = field(default_factory=list)
    blocks: list[tuple[Node, str]] = field(default_factory=list)
    """`reversible` / `up_only` / `revert` / `transaction` block calls, with that name."""
    assured: list[Operation] = field(default_factory=list)
    """Operations inside `safety_assured { }`: not in `migration.operations`."""
    keep_calls: bool = True
    """Record `calls` (fixes need them; `parse_rails`, for the rules, does not)."""

    def call_of(self, op: Operation) -> RailsCall | None:
        for call in self.calls:
            if any(o is op for o in call.ops):
                return call
        return None


@dataclass(frozen=True, slots=True)
class Relation:
    """A block variable bound to model rows: `in_batches do |batch|`, `find_each do |user|`."""

    table: str
    per_row: bool
    loop: Span


@dataclass(frozen=True, slots=True)
class Ctx:
    """Where a call is: which step, whether in a transaction, which block."""

    step: Step
    section: Section
    method: str
    in_tx: bool
    changeset: Changeset | None
    assured: bool = False
    table: TableRef | None = None
    block: str | None = None
    """`create_table` / `change_table` inside their block."""
    var: str | None = None
    """The block variable of that block (`t`)."""
    create: Any = None
    """The `CreateTable` being built inside a `create_table` block."""
    directions: frozenset[str] = frozenset()
    relations: tuple[tuple[str, Relation], ...] = ()

    def relation(self, name: str) -> Relation | None:
        for bound, relation in self.relations:
            if bound == name:
                return relation
        return None


_STEP_METHODS = {"change": Step.UP, "up": Step.UP, "down": Step.DOWN}


def parse_rails(
    path: str, text: str, dialect: str | None, settings: dict[str, Any] | None = None
) -> Migration:
    return read_rails(path, text, dialect, settings, calls=False).migration


def read_rails(
    path: str,
    text: str,
    dialect: str | None,
    settings: dict[str, Any] | None = None,
    *,
    calls: bool = True,
) -> RailsFile:
    """Parse one migration file (see the module docstring); `calls`: record each DSL call in
    `RailsFile.calls` for fixes."""
    settings = settings or {}
    source = TreeSource(text, "ruby")
    migration = Migration(
        path=path,
        text=text,
        tool="rails",
        dialect=dialect,
        language="ruby",
        transactional=settings.get("transactional_ddl") is not False,
    )
    rails = RailsFile(source=source, migration=migration, keep_calls=calls)
    migration.problems.extend(source.problems())
    try:
        _read(rails)
    except RecursionError:
        migration.problems[:] = [
            ParseProblem(span=Span(0, min(1, len(text))), message="File nested too deeply to read")
        ]
    if rails.assured:
        lines = sorted({migration.lines.position(op.span.start)[0] + 1 for op in rails.assured})
        migration.notes.append(
            f"{len(rails.assured)} operation(s) inside safety_assured (line "
            f"{', '.join(map(str, lines))}) are not checked by the safety rules"
        )
    return rails


def _read(rails: RailsFile) -> None:
    from migration_lsp.parse.rails_ops import Reader

    source, migration = rails.source, rails.migration
    klass = _migration_class(source.root)
    if klass is None:
        return
    rails.klass = klass
    superclass = klass.child_by_field_name("superclass")
    for node in walk(superclass) if superclass is not None else ():
        if node.type in ("float", "integer"):
            rails.version = text_of(node)
            break
    body = klass.child_by_field_name("body")
    members = named_children(body) if body is not None else []
    for member in members:
        if member.type in ("call", "identifier") and (
            text_of(member.child_by_field_name("method") or member) == "disable_ddl_transaction!"
        ):
            rails.disable = member
            migration.transactional = False
        name = _method_name(member)
        if name is not None and name in _STEP_METHODS and name not in rails.methods:
            rails.methods[name] = member
    reader = Reader(rails, _heredocs(source.root), _models(source.root))
    for name, node in rails.methods.items():
        _read_method(rails, reader, name, node)
    migration.supports_down = "change" not in rails.methods and bool(rails.methods)


def _read_method(rails: RailsFile, reader: Any, name: str, node: Node) -> None:
    source, migration = rails.source, rails.migration
    name_node = node.child_by_field_name("name")
    body = node.child_by_field_name("body")
    at = source.span(name_node) if name_node is not None else source.span(node)
    if body is not None:
        body_span = source.span(body)
    else:
        end = node.children[-1] if node.children else node
        body_span = Span(at.end, source.span(end).start)
    statements = named_children(body) if body is not None else []
    step_body = StepBody(
        span=at,
        body=body_span,
        empty=not statements,
        raises=_raises_irreversible(body),
    )
    step = _STEP_METHODS[name]
    changeset = None
    if name == "change":
        changeset = Changeset(span=at, body=body_span, label="change")
        migration.changesets.append(changeset)
    if step is Step.UP and migration.up is None:
        migration.up = step_body
    elif step is Step.DOWN and migration.down is None:
        migration.down = step_body
    ctx = Ctx(
        step=step,
        section=cast(Section, name),
        method=name,
        in_tx=migration.transactional,
        changeset=changeset,
    )
    for statement in statements:
        reader.visit(statement, ctx)


def _migration_class(root: Node) -> Node | None:
    """The class deriving from `ActiveRecord::Migration` (the first class when none does)."""
    first: Node | None = None
    for node in walk(root, lambda n: n.type in ("program", "module", "body_statement", "class")):
        if node.type != "class":
            continue
        superclass = node.child_by_field_name("superclass")
        if superclass is not None and "Migration" in text_of(superclass):
            return node
        first = first or node
    return first


def _method_name(node: Node) -> str | None:
    if node.type == "method":
        return text_of(node.child_by_field_name("name"))
    if node.type == "singleton_method":
        obj = node.child_by_field_name("object")
        if obj is not None and obj.type == "self":
            return text_of(node.child_by_field_name("name"))
    return None


def _raises_irreversible(body: Node | None) -> bool:
    if body is None or body.text is None or b"Irreversible" not in body.text:
        return False  # (a byte search is far cheaper than walking the method)
    for node in walk(body, lambda n: n.type not in ("method", "singleton_method")):
        if (
            node.type == "call"
            and call_parts(node)[1] in ("raise", "fail")
            and "Irreversible" in text_of(node.child_by_field_name("arguments"))
        ):
            return True
    return False


def _heredocs(root: Node) -> dict[int, Node]:
    """Start byte of each heredoc opener (`<<~SQL`) → its body. Bodies follow their openers in
    document order, so the n-th opener owns the n-th body."""
    data = root.text
    if data is None or b"<<" not in data:
        return {}  # no heredoc: nothing to look for
    if not root.has_error:
        by_position = _heredocs_by_position(root, data)
        if by_position is not None:
            return by_position
    found = QueryCursor(_heredoc_query()).captures(root)  # found by tree-sitter itself
    openers = sorted(found.get("open", ()), key=lambda n: n.start_byte)
    bodies = sorted(found.get("body", ()), key=lambda n: n.start_byte)
    return {o.start_byte: b for o, b in zip(openers, bodies, strict=False)}


def _heredocs_by_position(root: Node, data: bytes) -> dict[int, Node] | None:
    """`_heredocs` of a tree without errors, without a query over every node: each opener
    starts with `<<`, and its body starts at the line break that ends the opener's line (or
    where the previous body ends, for several openers on one line). None when the tree does
    not look like that (the query then decides)."""
    found: dict[int, Node] = {}
    base = root.start_byte  # `data` is the root's text, which may start after a blank
    last_end = -1
    at = data.find(b"<<")
    while at != -1:
        start = base + at
        opener = root.descendant_for_byte_range(start, start + 1)
        if opener is not None and opener.type == "heredoc_beginning" and opener.start_byte == start:
            line_end = data.find(b"\n", opener.end_byte - base)
            if line_end == -1:
                return None
            body = _body_at(root, max(base + line_end, last_end))
            if body is None:
                return None
            found[start] = body
            last_end = body.end_byte
        at = data.find(b"<<", at + 1)
    return found


def _body_at(root: Node, start: int) -> Node | None:
    """The heredoc body starting at byte `start` (found from its first character)."""
    node = root.descendant_for_byte_range(start, start + 1)
    for _ in range(3):
        if node is None:
            return None
        if node.type == "heredoc_body":
            return node if node.start_byte == start else None
        node = node.parent
    return None


@cache
def _heredoc_query() -> Query:
    return Query(language("ruby"), "(heredoc_beginning) @open (heredoc_body) @body")


def _models(root: Node) -> dict[str, str]:
    """Model classes the migration defines itself (`class User < ApplicationRecord`), with the
    table they name (`self.table_name = "accounts"`), so data changes know their table."""
    from migration_lsp.parse.rails_types import table_of_model

    found: dict[str, str] = {}
    for node in walk(root, lambda n: n.type in ("program", "module", "body_statement", "class")):
        if node.type != "class":
            continue
        name = text_of(node.child_by_field_name("name"))
        superclass = text_of(node.child_by_field_name("superclass"))
        if not name or "Migration" in superclass:
            continue
        table = table_of_model(name)
        body = node.child_by_field_name("body")
        for member in named_children(body) if body is not None else []:
            if member.type == "assignment":
                left = member.child_by_field_name("left")
                right = member.child_by_field_name("right")
                if text_of(left) == "self.table_name" and name_of(right):
                    table = name_of(right) or table
        found[name.rsplit("::", 1)[-1]] = table
    return found
