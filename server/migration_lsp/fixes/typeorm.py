"""Fixes for TypeORM migrations, in TypeORM's idiom.

- add-downgrade (missing-downgrade, empty-downgrade): a `down` that undoes `up` statement by
  statement, in reverse order: `queryRunner.query` SQL gets its inverse SQL (in a template
  literal, as `migration:generate` writes it), QueryRunner API calls their API inverse
  (`addColumn` → `dropColumn`, `createIndex` → `dropIndex`, `renameColumn` swapped, ...),
  written from the call's own argument text. What cannot be undone from the file (a drop, rows
  written, SQL built at run time) becomes a `// TODO` and `throw new Error(...)`.
- complete-downgrade (incomplete-downgrade): the inverses of what `down` misses, first in it.
- use-concurrently (non-concurrent-index, non-concurrent-index-drop): `CONCURRENTLY` in the
  SQL text, or `isConcurrent: true` in the `TableIndex` (TypeORM 0.3.20+), plus
  `transaction = false` on the class (honoured from TypeORM 0.3.11 with
  `migrationsTransactionMode` "each" or "none"; "all", the default, rejects it).
- run-outside-transaction (concurrent-index-in-transaction, enum-add-value-in-transaction):
  `transaction = false`.
- SQL-text fixes of the generic builders (`fixes.BUILDERS`), kept when every edit lands in the
  plain text of the `queryRunner.query` string literal.

`migration:revert` runs `down` in a transaction unless the mode is "none": generated `down`
steps never drop an index CONCURRENTLY.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, replace

from tree_sitter import Node

from migration_lsp.findings import Applicability, Edit, Finding, Fix
from migration_lsp.model import (
    AddColumn,
    AlterEnum,
    CreateIndex,
    DropIndex,
    ExecuteSQL,
    Migration,
    Operation,
    Step,
)
from migration_lsp.parse.javascript import JsSource, chain, function_body, params, unwrap
from migration_lsp.parse.treesitter import named_children, walk, walk_with_parents
from migration_lsp.parse.typeorm import (
    MigrationClass,
    Scope,
    awaiter_body,
    find_class,
    stated_mode,
    step_function,
)
from migration_lsp.text import Span

from .base import Builder, display, operation_for, other_statements
from .pycode_reverse import reverse_of
from .sql import concurrently_edit
from .text import first_line, indentation, insert, line_start, newline_of, wrap_comment
from .text import replace as replace_span

IndexOp = CreateIndex | DropIndex
COMMENT_WIDTH = 96
MAX_LINE = 99
TRANSACTION_VERSION = 'TypeORM 0.3.11+, migrationsTransactionMode "each" or "none"'
"""When TypeORM honours `transaction = false`: "all", the default mode, rejects the run."""
CONCURRENT_VERSION = "isConcurrent: true, TypeORM 0.3.20+"
_READ_ONLY = frozenset(
    {
        "getTable",
        "getTables",
        "hasTable",
        "hasColumn",
        "hasSchema",
        "hasDatabase",
        "getView",
        "getViews",
        "getDatabases",
        "getSchemas",
        "getCurrentDatabase",
        "getCurrentSchema",
        "getReplicationMode",
        "connect",
        "release",
        "startTransaction",
        "commitTransaction",
        "rollbackTransaction",
    }
)
_DROPS_OF = {
    "createForeignKey": "dropForeignKey",
    "createForeignKeys": "dropForeignKey",
    "createUniqueConstraint": "dropUniqueConstraint",
    "createUniqueConstraints": "dropUniqueConstraint",
    "createCheckConstraint": "dropCheckConstraint",
    "createCheckConstraints": "dropCheckConstraint",
    "createExclusionConstraint": "dropExclusionConstraint",
    "createExclusionConstraints": "dropExclusionConstraint",
    "createIndex": "dropIndex",
    "createIndices": "dropIndex",
}
_READS = re.compile(r"\s*(?:SELECT|SHOW|EXPLAIN)\b", re.IGNORECASE)
_CONCURRENT_DROP = re.compile(r"\bDROP\s+INDEX\s+CONCURRENTLY\s+", re.IGNORECASE)


# --------------------------------------------------------------------------- the file


@dataclass(slots=True)
class _File:
    """The migration's text parsed again, for building edits."""

    migration: Migration
    source: JsSource
    found: MigrationClass
    scope: Scope

    @property
    def text(self) -> str:
        return self.source.text

    def src(self, node: Node) -> str:
        return self.source.text_of(node)

    def semicolons(self) -> bool:
        """Whether the file ends its statements with `;` (TypeORM's generator does)."""
        for name in ("up", "down"):
            method = self.found.methods.get(name)
            body = function_body(step_function(method)) if method is not None else None
            if body is None or body.type != "statement_block":
                continue
            for statement in named_children(body):
                return statement.children[-1].type == ";" if statement.children else True
        return True

    def unit(self, method: Node) -> str:
        """One level of indentation, as the method's body uses it."""
        member = self.member_of(method)
        body = function_body(step_function(method))
        statements = named_children(body) if body is not None else []
        outer = indentation(self.text, self.source.span(member).start)
        if statements:
            inner = indentation(self.text, self.source.span(statements[0]).start)
            if inner.startswith(outer) and len(inner) > len(outer):
                return inner[len(outer) :]
        return "\t" if outer.startswith("\t") else "    "

    def member_of(self, method: Node) -> Node:
        for name, node in self.found.methods.items():
            if node == method:
                return self.found.method_nodes[name]
        return method


def _open(migration: Migration) -> _File | None:
    if migration.tool != "typeorm" or migration.problems:
        return None
    source = JsSource(migration.text, migration.path)
    if source.root.has_error:
        return None
    found = find_class(source)
    if found is None:
        return None
    return _File(migration, source, found, Scope(source, found))


# --------------------------------------------------------------------------- generated code


@dataclass(slots=True)
class _Line:
    """`await <runner>.<method>(<args>)`, with an optional comment above it."""

    method: str
    args: list[str]
    note: str | None = None

    def lines(self, head: str, indent: str, unit: str, end: str) -> list[str]:
        """One line, or one argument per line when it is too long (Prettier's layout)."""
        flat = f"{indent}{head}{self.method}({', '.join(self.args)}){end}"
        fits = len(flat.expandtabs(4)) <= MAX_LINE and "\n" not in flat
        if fits or len(self.args) < 2:
            return [flat]
        inner = indent + unit
        return [
            f"{indent}{head}{self.method}(",
            *(f"{inner}{arg}," for arg in self.args),
            f"{indent}){end}",
        ]


@dataclass(slots=True)
class _Stop:
    """What has no automatic inverse: a TODO and an explicit error."""

    comment: str
    message: str


_Item = _Line | _Stop


def _render(
    items: list[_Item], runner: str, indent: str, semicolon: bool, unit: str = "    "
) -> list[str]:
    end = ";" if semicolon else ""
    width = COMMENT_WIDTH - len(indent.expandtabs(4)) - 3
    lines: list[str] = []
    for item in items:
        if isinstance(item, _Line):
            if item.note:
                lines.extend(f"{indent}// {c}" for c in wrap_comment(item.note, width))
            lines.extend(item.lines(f"await {runner}.", indent, unit, end))
        else:
            lines.extend(f"{indent}// {c}" for c in wrap_comment("TODO: " + item.comment, width))
            message = item.message.replace("\\", "\\\\").replace('"', '\\"')
            lines.append(f'{indent}throw new Error("{message}"){end}')
    return lines


def template(sql: str) -> str:
    """A template literal holding `sql` (TypeORM's generator writes SQL this way)."""
    escaped = sql.replace("\\", "\\\\").replace("`", "\\`").replace("${", "\\${")
    return f"`{escaped}`"


class _Inverter:
    """The inverse of each statement of `up`."""

    def __init__(self, file: _File, runner: str, down_in_transaction: bool) -> None:
        self.file = file
        self.runner = runner
        self.down_in_transaction = down_in_transaction
        self.used: set[str] = set()
        """Identifiers the generated lines use (local declarations of `up` to copy)."""

    def statements(self, statements: list[Node]) -> list[_Item]:
        items: list[_Item] = []
        for statement in statements:
            items.extend(self.statement(statement))
        items.reverse()
        return items

    def statement(self, statement: Node) -> list[_Item]:
        """The inverses of one statement's QueryRunner calls (in their order); a stop for a
        statement whose calls run conditionally or repeatedly (`if`, loops)."""
        items: list[_Item] = []
        for call, names in self.runner_calls(statement):
            items.extend(self.call(call, names))
        if items and statement.type not in ("expression_statement", "lexical_declaration"):
            return [self.unknown(statement)]
        return items

    def runner_calls(self, node: Node) -> list[tuple[Node, list[str]]]:
        up_runner = _runner(self.file.found.methods["up"])
        found = []
        for current, parent in walk_with_parents(node, parent=node.parent):
            if current.type != "call_expression":
                continue
            if parent is not None and parent.type == "member_expression":
                continue  # inside a longer chain: the chain's top is the call
            links = chain(current)
            if len(links) >= 2 and links[0].name == up_runner and not links[0].is_call:
                found.append((current, [link.name for link in links[1:]]))
        return found

    def unknown(self, node: Node) -> _Stop:
        return _Stop(
            f"reverse `{first_line(self.file.src(node))}` by hand (no automatic inverse).",
            "reverse this step of up() by hand",
        )

    def call(self, node: Node, names: list[str]) -> list[_Item]:
        args = chain(node)[-1].args
        method = names[-1]
        if method == "query" and len(names) <= 2:
            return self.query(node, args)
        if len(names) != 1:
            return [self.unknown(node)]
        if method in _READ_ONLY:
            return []
        handler = getattr(self, "_" + method, None)
        if handler is not None:
            found: list[_Item] = handler(args)
            return found
        if method in _DROPS_OF:
            return self.drop_each(_DROPS_OF[method], args, method.endswith(("s", "Indices")))
        return [self.unknown(node)]

    # ------------------------------------------------------------------ SQL

    def query(self, node: Node, args: list[Node]) -> list[_Item]:
        sql = self.file.scope.sql(args[0]) if args else None
        if sql is not None and _READS.match(sql.value):
            return []  # a query: nothing to undo
        if sql is None or sql.formatted:
            return [
                _Stop(
                    "reverse the SQL of the upgrade by hand (it is built at run time).",
                    "reverse this step of up() by hand",
                )
            ]
        reverse = reverse_of([sql.value], self.file.migration.dialect)
        if reverse is None:
            return [
                _Stop(
                    f"reverse `{first_line(sql.value)}` by hand (no automatic inverse).",
                    "reverse this step of up() by hand",
                )
            ]
        items: list[_Item] = []
        note = (
            "Check this: it may remove something that existed before the upgrade."
            if reverse.unsafe
            else None
        )
        for text in [*reverse.settings, *reverse.statements]:
            if self.down_in_transaction:
                text = _CONCURRENT_DROP.sub("DROP INDEX ", text)  # revert runs in a transaction
            items.append(_Line("query", [template(text)], note))
            note = None
        items.reverse()  # `statements()` reverses every item once more
        return items

    # ------------------------------------------------------------------ QueryRunner API

    def src(self, node: Node | None) -> str:
        if node is None:
            return "?"
        text = self.file.src(node)
        for current in walk(node):
            if current.type == "identifier":
                self.used.add(self.file.src(current))
        return text

    def name_of(self, node: Node | None) -> Node | None:
        """The node naming a table/column/index: a string, or the `name` of an options
        object; the argument itself when it is a variable (the API takes objects too)."""
        if node is None:
            return None
        options = self.file.scope.options(node)
        if "name" in options and unwrap(node).type in ("new_expression", "object"):
            return options["name"]
        return node

    def elements(self, node: Node | None) -> list[Node]:
        resolved = unwrap(node) if node is not None else None
        if resolved is not None and resolved.type == "array":
            return named_children(resolved)
        return [node] if node is not None else []

    def _createTable(self, args: list[Node]) -> list[_Item]:
        name = self.name_of(args[0]) if args else None
        if name is None:
            return [_Stop("drop the table created by up().", "drop the table created by up()")]
        if_exists = ["true"] if self.file.scope.value(args[1] if len(args) > 1 else None) else []
        return [_Line("dropTable", [self.src(name), *if_exists])]

    def _renameTable(self, args: list[Node]) -> list[_Item]:
        if len(args) < 2:
            return [_Stop("rename the table back.", "rename the table back")]
        old = self.name_of(args[0])
        if old is None or self.file.scope.string(old) is None:
            return [_Stop("rename the table back.", "rename the table back")]
        return [_Line("renameTable", [self.src(args[1]), self.src(old)])]

    def _addColumn(self, args: list[Node]) -> list[_Item]:
        if len(args) < 2:
            return [_Stop("drop the column added by up().", "drop the column added by up()")]
        return [_Line("dropColumn", [self.src(args[0]), self.src(self.name_of(args[1]))])]

    def _addColumns(self, args: list[Node]) -> list[_Item]:
        if len(args) < 2:
            return [_Stop("drop the columns added by up().", "drop the columns added by up()")]
        table = self.src(args[0])
        if unwrap(args[1]).type == "array":
            names = ", ".join(self.src(self.name_of(c)) for c in self.elements(args[1]))
            return [_Line("dropColumns", [table, f"[{names}]"])]
        return [_Line("dropColumns", [table, self.src(args[1])])]

    def _dropColumn(self, args: list[Node]) -> list[_Item]:
        column = args[1] if len(args) > 1 else None
        if column is not None and self.file.scope.options(column).get("type") is not None:
            return [_Line("addColumn", [self.src(args[0]), self.src(column)])]
        what = self.file.src(column) if column is not None else "a column"
        return [
            _Stop(
                f"re-create the column {what} dropped by up() (its definition is not in the "
                "migration); its data is gone.",
                "the column dropped by up() cannot be restored automatically",
            )
        ]

    def _dropTable(self, args: list[Node]) -> list[_Item]:
        what = self.file.src(args[0]) if args else "a table"
        return [
            _Stop(
                f"re-create the table {what} dropped by up() (its definition is not in the "
                "migration); its rows are gone.",
                "the table dropped by up() cannot be restored automatically",
            )
        ]

    def _renameColumn(self, args: list[Node]) -> list[_Item]:
        if len(args) < 3:
            return [_Stop("rename the column back.", "rename the column back")]
        table, old, new = (self.src(a) for a in args[:3])
        return [_Line("renameColumn", [table, new, old])]

    def _changeColumn(self, args: list[Node]) -> list[_Item]:
        if len(args) < 3 or not self.file.scope.options(args[1]):
            return [
                _Stop(
                    "change the column back (up() names the old column only, so its old "
                    "definition is unknown).",
                    "change the column back by hand",
                )
            ]
        table, old, new = (self.src(a) for a in args[:3])
        note = None
        if self.file.scope.options(args[1]).get("type") is not None:
            note = "If the type changed, TypeORM drops and re-adds the column: its data is lost."
        return [_Line("changeColumn", [table, new, old], note)]

    def _createPrimaryKey(self, args: list[Node]) -> list[_Item]:
        if not args:
            return [_Stop("drop the primary key.", "drop the primary key")]
        name = [self.src(args[2])] if len(args) > 2 else []
        return [_Line("dropPrimaryKey", [self.src(args[0]), *name])]

    def _clearTable(self, args: list[Node]) -> list[_Item]:
        return [
            _Stop(
                "up() deletes every row of the table: restore them from a backup.",
                "the rows deleted by up() cannot be restored automatically",
            )
        ]

    def drop_each(self, drop: str, args: list[Node], several: bool) -> list[_Item]:
        if len(args) < 2:
            return [_Stop(f"{drop} for what up() created.", f"{drop} by hand")]
        table = self.src(args[0])
        items: list[_Item] = []
        for element in self.elements(args[1]) if several else [args[1]]:
            options = self.file.scope.options(element)
            concurrent = self.file.scope.value(options.get("isConcurrent")) is True
            target = self.name_of(element)
            if target is element and concurrent:
                items.append(
                    _Stop(
                        f"{drop} the unnamed concurrent index (down() runs in a transaction, "
                        "where a concurrent drop fails).",
                        "drop the index created by up() by hand",
                    )
                )
                continue
            items.append(_Line(drop, [table, self.src(target)]))
        items.reverse()
        return items


def _runner(method: Node) -> str:
    names = params(step_function(method)) or params(method)
    return names[0] if names and names[0] != "_" else "queryRunner"


# --------------------------------------------------------------------------- add-downgrade


def add_downgrade(finding: Finding, migration: Migration) -> Fix | None:
    """A `down` (missing) or its body (empty) that undoes `up`."""
    file = _open(migration)
    if file is None or "up" not in file.found.methods:
        return None
    up = file.found.methods["up"]
    file.scope.enter(up)
    up_body = function_body(step_function(up))
    if up_body is None or up_body.type != "statement_block":
        return None
    down = file.found.methods.get("down")
    runner = _runner(down) if down is not None and params(step_function(down)) else _runner(up)
    inverter = _Inverter(file, runner, migration.transactional)
    items = inverter.statements(named_children(up_body))
    if not items:
        return None
    if down is None:
        edits = _new_down(file, up, items, runner, inverter)
    else:
        edits = _fill_down(file, down, items, runner, inverter)
    if edits is None:
        return None
    return Fix(
        title="Write down() undoing up()",
        edits=edits,
        applicability=Applicability.UNSAFE,
    )


def _declarations(file: _File, up_body: Node, used: set[str]) -> list[str]:
    """The `const`s of `up` the generated lines use (a `TableColumn` built before the call)."""
    found: list[str] = []
    for statement in named_children(up_body):
        if statement.type != "lexical_declaration":
            continue
        names = {
            file.src(name)
            for declarator in named_children(statement)
            if (name := declarator.child_by_field_name("name")) is not None
        }
        if names & used:
            found.append(file.src(statement))
    return found


def _body_lines(
    file: _File, method: Node, items: list[_Item], runner: str, inverter: _Inverter, indent: str
) -> list[str]:
    up_body = function_body(step_function(file.found.methods["up"]))
    copied = _declarations(file, up_body, inverter.used) if up_body is not None else []
    lines = [indent + text for text in copied]
    unit = file.unit(file.found.methods["up"])
    return lines + _render(items, runner, indent, file.semicolons(), unit)


def _new_down(
    file: _File, up: Node, items: list[_Item], runner: str, inverter: _Inverter
) -> list[Edit] | None:
    """A `down` method after `up`, with `up`'s modifiers, parameter and return type."""
    member = file.member_of(up)
    body = function_body(up)
    if body is None:
        return None
    text, nl = file.text, newline_of(file.text)
    member_span = file.source.span(member)
    outer = indentation(text, member_span.start)
    inner = outer + file.unit(up)
    if awaiter_body(up) is not None:
        header = f"async down({runner}) "
    else:
        header = text[member_span.start : file.source.span(body).start]
        name = member.child_by_field_name("name") or member.child_by_field_name("property")
        if name is None:
            return None
        name_span = file.source.span(name)
        offset = name_span.start - member_span.start
        header = header[:offset] + "down" + header[offset + len("up") :]
    lines = _body_lines(file, up, items, runner, inverter, inner)
    block = nl.join([header.rstrip() + " {", *lines, outer + "}"])
    at = member_span.end
    if text[at : at + 1] == ";":
        at += 1
    return [insert(at, nl + nl + outer + block)]


def _fill_down(
    file: _File, down: Node, items: list[_Item], runner: str, inverter: _Inverter
) -> list[Edit] | None:
    body = function_body(step_function(down))
    if body is None or body.type != "statement_block":
        return None
    text, nl = file.text, newline_of(file.text)
    member = file.member_of(down)
    outer = indentation(text, file.source.span(member).start)
    inner = outer + file.unit(file.found.methods["up"])
    lines = _body_lines(file, down, items, runner, inverter, inner)
    span = file.source.span(body)
    edits: list[Edit] = []
    if not params(step_function(down)):
        edits.extend(_add_parameter(file, down, runner))
    if not text[span.start + 1 : span.end - 1].strip():
        edits.append(
            replace_span(Span(span.start + 1, span.end - 1), nl + nl.join(lines) + nl + outer)
        )
    else:
        edits.append(insert(span.start + 1, nl + nl.join(lines)))
    return edits


def _add_parameter(file: _File, method: Node, runner: str) -> list[Edit]:
    """`down()` without a parameter gets `queryRunner` (typed like `up`'s in TypeScript)."""
    parameters = step_function(method).child_by_field_name("parameters")
    if parameters is None:
        return []
    up_parameters = step_function(file.found.methods["up"]).child_by_field_name("parameters")
    written = file.src(up_parameters) if up_parameters is not None else f"({runner})"
    span = file.source.span(parameters)
    return [replace_span(span, written if written.startswith("(") else f"({runner})")]


# --------------------------------------------------------------------------- complete-downgrade


def complete_downgrade(finding: Finding, migration: Migration) -> Fix | None:
    """The inverses of the `up` statements `down` does not undo, first in `down`."""
    from migration_lsp.rules.reversibility import not_undone

    file = _open(migration)
    if file is None or "up" not in file.found.methods or "down" not in file.found.methods:
        return None
    gaps = [op.span for op, _ in not_undone(migration)]
    file.scope.enter(file.found.methods["up"])
    up_body = function_body(step_function(file.found.methods["up"]))
    down = file.found.methods["down"]
    down_body = function_body(step_function(down))
    if not gaps or up_body is None or down_body is None or down_body.type != "statement_block":
        return None
    selected = [
        s for s in named_children(up_body) if any(file.source.span(s).contains(gap) for gap in gaps)
    ]
    runner = _runner(down)
    inverter = _Inverter(file, runner, migration.transactional)
    items = inverter.statements(selected)
    statements = named_children(down_body)
    if not items or not statements:
        return None
    first = file.source.span(statements[0]).start
    indent = indentation(file.text, first)
    unit = file.unit(file.found.methods["up"])
    lines = _render(items, runner, indent, file.semicolons(), unit)
    nl = newline_of(file.text)
    return Fix(
        title="Add the missing inverse operations to down()",
        edits=[insert(line_start(file.text, first), nl.join(lines) + nl)],
        applicability=Applicability.UNSAFE,
    )


# --------------------------------------------------------------------------- transaction = false


def transaction_false(file: _File) -> list[Edit] | None:
    """The edits that make the class say `transaction = false` ([] when it already does)."""
    found, text = file.found, file.text
    value = found.fields.get("transaction")
    if value is not None:
        if file.scope.value(value) is False:
            return []
        return [replace_span(file.source.span(value), "false")]
    nl = newline_of(text)
    semicolon = ";" if file.semicolons() else ""
    name_node = found.field_nodes.get("name")
    if name_node is not None and name_node.type == "expression_statement":
        at = file.source.span(name_node).end
        indent = indentation(text, file.source.span(name_node).start)
        return [insert(at, f"{nl}{indent}this.transaction = false;")]
    if name_node is not None:
        span = file.source.span(name_node)
        at = span.end + 1 if text[span.end : span.end + 1] == ";" else span.end
        field_semicolon = ";" if at > span.end else ""
        indent = indentation(text, span.start)
        return [insert(at, f"{nl}{indent}transaction = false{field_semicolon}")]
    members = named_children(found.body)
    if not members:
        return None
    first = file.source.span(members[0]).start
    indent = indentation(text, first)
    return [insert(line_start(text, first), f"{indent}transaction = false{semicolon}{nl}{nl}")]


def _version(migration: Migration) -> str:
    """When TypeORM honours `transaction = false`, and what the project must change for it."""
    if stated_mode(migration) == "all":
        return (
            f'{TRANSACTION_VERSION}; the data source says "all", which rejects it: set '
            'migrationsTransactionMode: "each" there'
        )
    return TRANSACTION_VERSION


def _alone(migration: Migration, op: Operation) -> bool:
    """Nothing else runs in `up`: leaving the transaction changes nothing for other steps."""
    return other_statements(migration, op, neutral_settings=True) == 0


def _applicability(migration: Migration, op: Operation) -> Applicability:
    """SAFE only when TypeORM honours `transaction = false` (mode "each"/"none" stated) and
    nothing else in `up` loses its transaction."""
    if stated_mode(migration) in ("each", "none") and _alone(migration, op):
        return Applicability.SAFE
    return Applicability.UNSAFE


def _execute_of(migration: Migration, op: Operation) -> ExecuteSQL | None:
    return next(
        (
            e
            for e in migration.operations
            if isinstance(e, ExecuteSQL) and e.span.contains(op.span) and e.span != op.span
        ),
        None,
    )


def _statements_in(migration: Migration, execute: ExecuteSQL) -> int:
    return len(
        {
            (o.span.start, o.span.end)
            for o in migration.operations
            if o.is_sql and execute.span.contains(o.span) and o.step is execute.step
        }
    )


def _one_statement(migration: Migration, op: Operation) -> Fix | None:
    """None when `op` is alone in its query string; else the advice to split the string."""
    execute = _execute_of(migration, op)
    if execute is not None and _statements_in(migration, execute) > 1:
        return display(
            "Run this statement in a queryRunner.query() of its own in a migration with "
            "`transaction = false`: several statements in one query string run in one "
            "implicit transaction, where CONCURRENTLY fails"
        )
    return None


def run_outside_transaction(finding: Finding, migration: Migration) -> Fix | None:
    op: Operation | None = (
        operation_for(finding, migration, CreateIndex)
        or operation_for(finding, migration, DropIndex)
        or operation_for(finding, migration, AlterEnum)
    )
    if op is None or not op.in_transaction or op.step is not Step.UP:
        return None
    split = _one_statement(migration, op)
    if split is not None:
        return split
    file = _open(migration)
    if file is None:
        return None
    edits = transaction_false(file)
    if not edits:
        return None
    return Fix(
        title=f"Set `transaction = false` on the migration class ({_version(migration)})",
        edits=edits,
        applicability=_applicability(migration, op),
    )


# --------------------------------------------------------------------------- use-concurrently


def use_concurrently(finding: Finding, migration: Migration) -> Fix | None:
    kind: type[IndexOp] = DropIndex if finding.rule == "non-concurrent-index-drop" else CreateIndex
    op = operation_for(finding, migration, kind)
    if op is None or op.concurrently or op.step is not Step.UP:
        return None
    if isinstance(op, CreateIndex) and op.implicit:
        return None
    file = _open(migration)
    if file is None:
        return None
    if op.is_sql:
        split = _one_statement(migration, op)
        if split is not None:
            return split
        edit = _sql_keyword(file, op)
        what = "add CONCURRENTLY"
    else:
        edit = _api_keyword(file, op)
        what = CONCURRENT_VERSION
    if edit is None or isinstance(edit, Fix):
        return edit
    tx = transaction_false(file) if op.in_transaction else []
    if tx is None:
        return None
    verb = "Create" if isinstance(op, CreateIndex) else "Drop"
    title = f"{verb} the index concurrently ({what})"
    if tx:
        title += f" and set `transaction = false` ({_version(migration)})"
    return Fix(title=title, edits=[*edit, *tx], applicability=_applicability(migration, op))


def _sql_keyword(file: _File, op: IndexOp) -> list[Edit] | Fix | None:
    edit = concurrently_edit(file.migration, op)
    if isinstance(edit, str):
        return display(edit)
    return [edit] if _in_plain_text(file, edit.span.start) else None


def _in_plain_text(file: _File, offset: int) -> bool:
    """`offset` is in the literal text of a string (not inside a `${}` substitution)."""
    for node in walk(file.source.root):
        if node.type in ("string_fragment",):
            span = file.source.span(node)
            if span.start <= offset <= span.end and node.parent is not None:
                return node.parent.type in ("string", "template_string")
    return False


def _api_keyword(file: _File, op: IndexOp) -> list[Edit] | Fix | None:
    """`isConcurrent: true` in the `new TableIndex({...})` of `createIndex`; a `dropIndex` by
    name becomes `DROP INDEX CONCURRENTLY IF EXISTS` SQL (TypeORM cannot drop a named index
    concurrently: the index it loads from the database has no isConcurrent)."""
    if isinstance(op, DropIndex):
        return _drop_as_sql(file, op)
    definition = op.spans.get("index_def")
    if definition is None:
        return None
    options = _options_object(_node_at(file, definition))
    if options is None:
        return display("Pass `isConcurrent: true` in the TableIndex options (TypeORM 0.3.20+)")
    return [_add_property(file, options, "isConcurrent", "true")]


def _drop_as_sql(file: _File, op: DropIndex) -> list[Edit] | None:
    if not op.name or "concurrently" in op.spans:
        return None
    call = _node_at(file, op.span)
    if call is None or call.type != "call_expression":
        return None
    runner = _runner(file.found.methods["up"])
    name = op.name.replace('"', '""')
    sql = template(f'DROP INDEX CONCURRENTLY IF EXISTS "{name}"')
    return [replace_span(op.span, f"{runner}.query({sql})")]


def _node_at(file: _File, span: Span) -> Node | None:
    for node in walk(file.source.root):
        found = file.source.span(node)
        if found == span:
            return node
    return None


def _add_property(file: _File, obj: Node, key: str, value: str) -> Edit:
    """`key: value` as the last property of an object literal, in its layout."""
    pairs = named_children(obj)
    span = file.source.span(obj)
    text = file.text
    if not pairs:
        return replace_span(span, f"{{ {key}: {value} }}")
    last = file.source.span(pairs[-1])
    multiline = "\n" in text[span.start : span.end]
    if multiline:
        indent = indentation(text, last.start)
        comma = text[last.end : last.end + 1] == ","
        at = last.end + 1 if comma else last.end
        trailing = "," if comma else ""
        lead = "" if comma else ","
        return insert(at, f"{lead}{newline_of(text)}{indent}{key}: {value}{trailing}")
    return insert(last.end, f", {key}: {value}")


# --------------------------------------------------------------------------- add-server-default


def add_default(finding: Finding, migration: Migration) -> Fix | list[Fix] | None:
    """A placeholder default for a NOT NULL column: `DEFAULT ''` in the SQL text, or
    `default: "''"` in the `TableColumn` (TypeORM writes it into the SQL as it is)."""
    from .pycode_default import add_server_default, value_kind
    from .pycode_split import SQL_VALUES

    op = operation_for(finding, migration, AddColumn)
    if op is None or op.column.nullable or op.column.default is not None:
        return None
    if op.is_sql:
        return _sql_text_fix(add_server_default)(finding, migration)
    kind = value_kind(op.column, migration.dialect or "postgresql")
    definition = op.spans.get("column_def")
    file = _open(migration)
    if kind is None or definition is None or file is None:
        return None
    options = _options_object(_node_at(file, definition))
    if options is None:
        return None
    value = json.dumps(SQL_VALUES[kind])
    return Fix(
        title=f"Add default: {value} (a placeholder: choose the value existing rows get)",
        edits=[_add_property(file, options, "default", value)],
        applicability=Applicability.UNSAFE,
    )


def _options_object(node: Node | None) -> Node | None:
    """The object literal of `new TableColumn({...})` (or the literal itself)."""
    if node is not None and node.type == "new_expression":
        arguments = node.child_by_field_name("arguments")
        args = named_children(arguments) if arguments is not None else []
        node = unwrap(args[0]) if args else None
    return node if node is not None and node.type == "object" else None


# --------------------------------------------------------------------------- SQL-text fixes


def _sql_text_fix(builder: Builder) -> Builder:
    """A generic SQL builder run as if the file were SQL; kept when its edits all land in the
    plain text of a string literal (escaped for a template literal) and it creates no file."""

    def build(finding: Finding, migration: Migration) -> Fix | list[Fix] | None:
        file = _open(migration)
        if file is None:
            return None
        as_sql = replace(migration, language="sql", tool="sql")
        built = builder(finding, as_sql)
        candidates = [] if built is None else built if isinstance(built, list) else [built]
        kept: list[Fix] = []
        for fix in candidates:
            if fix.files:
                continue
            if fix.applicability is Applicability.DISPLAY and not fix.edits:
                kept.append(fix)
                continue
            edits = [_in_template(file, edit) for edit in fix.edits]
            if edits and all(e is not None for e in edits):
                kept.append(Fix(fix.title, [e for e in edits if e is not None], fix.applicability))
        return kept or None

    return build


def _in_template(file: _File, edit: Edit) -> Edit | None:
    """The edit with its text escaped for the literal it lands in; None when it does not land
    in the plain text of one string literal."""
    literal = _literal_around(file, edit.span)
    if literal is None:
        return None
    if literal.type == "template_string":
        text = edit.new_text.replace("\\", "\\\\").replace("`", "\\`").replace("${", "\\${")
    else:
        quote = file.text[file.source.span(literal).start]
        if "\n" in edit.new_text:
            return None
        text = edit.new_text.replace("\\", "\\\\").replace(quote, "\\" + quote)
    return Edit(edit.span, text)


def _literal_around(file: _File, span: Span) -> Node | None:
    for node in walk(file.source.root):
        if node.type not in ("string", "template_string"):
            continue
        outer = file.source.span(node)
        if not (outer.start < span.start and span.end < outer.end):
            continue
        fragments = [file.source.span(c) for c in node.children if c.type == "string_fragment"]
        inside = any(f.start <= span.start and span.end <= f.end for f in fragments)
        return node if inside else None
    return None


def _sql_builders() -> dict[str, Builder]:
    from migration_lsp.fixes.pycode import limit_via_subquery
    from migration_lsp.fixes.statements import (
        insert_if_not_exists,
        rename_identifier,
        use_bigint,
    )

    return {
        "update-with-limit": _sql_text_fix(limit_via_subquery),
        "prefer-robust-statements": _sql_text_fix(insert_if_not_exists),
        "prefer-bigint": _sql_text_fix(use_bigint),
        "identifier-too-long": _sql_text_fix(rename_identifier),
    }


TYPEORM_BUILDERS: dict[str, Builder] = {
    "missing-downgrade": add_downgrade,
    "empty-downgrade": add_downgrade,
    "incomplete-downgrade": complete_downgrade,
    "non-concurrent-index": use_concurrently,
    "non-concurrent-index-drop": use_concurrently,
    "add-not-null-column-without-default": add_default,
    "concurrent-index-in-transaction": run_outside_transaction,
    "enum-add-value-in-transaction": run_outside_transaction,
    **_sql_builders(),
}
"""Rule id → builder, for `fixes.TOOL_BUILDERS["typeorm"]`."""
