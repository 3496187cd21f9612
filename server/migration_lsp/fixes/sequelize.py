"""Quick fixes for Sequelize migrations, in the `queryInterface` idiom.

- add-downgrade / complete-downgrade (missing-, empty-, incomplete-downgrade): a `down` that
  undoes the upgrade in reverse order (`queryInterface.dropTable`, `removeColumn`,
  `removeIndex`, `removeConstraint`, `renameColumn` back, ...), with a `// TODO` and
  `throw new Error(...)` for what the file does not say how to undo. UNSAFE: review it.
- use-concurrently (non-concurrent-index): `concurrently: true` in the `addIndex` options
  (sequelize-cli runs migrations outside a transaction, so nothing else has to change);
  `CONCURRENTLY` in `CREATE INDEX` SQL run by `queryInterface.sequelize.query`. Inside
  `queryInterface.sequelize.transaction(...)` only advice: CONCURRENTLY would fail there.
- run-outside-transaction (concurrent-index-in-transaction): advice to move the call out of
  the transaction (no local edit can).
"""

from __future__ import annotations

from tree_sitter import Node

from migration_lsp.findings import Edit, Finding, Fix
from migration_lsp.model import (
    AddColumn,
    AddConstraint,
    CreateIndex,
    CreateTable,
    DropIndex,
    Migration,
    Operation,
    RenameColumn,
    RenameTable,
)
from migration_lsp.parse.javascript import JsSource, node_at, object_get, unwrap
from migration_lsp.parse.treesitter import named_children

from .base import Builder, display, operation_for
from .knex import (
    Code,
    Item,
    JsStyle,
    downgrade_fix,
    in_transaction_callback,
    migration_call_span,
    sql_inverse,
    stop_for,
    style_of,
)
from .sql import concurrently_edit
from .text import indentation, insert, replace

OUT_OF_TRANSACTION = (
    "Move the index out of queryInterface.sequelize.transaction(...) (and drop its "
    "transaction option): CONCURRENTLY cannot run inside a transaction"
)


def sequelize_items(
    migration: Migration, ops: list[Operation], qi: str, style: JsStyle
) -> list[Item]:
    q = style.q
    items: list[Item] = []

    def call(method: str, *args: str) -> None:
        items.append(Code([f"await {qi}.{method}({', '.join(args)});"]))

    for op in ops:
        if op.is_sql:
            sql = sql_inverse(op)
            if sql is not None:
                call("sequelize.query", q(sql))
            else:
                items.append(stop_for(op, style, migration))
        elif isinstance(op, CreateTable):
            call("dropTable", q(op.table))
        elif isinstance(op, AddColumn):
            call("removeColumn", q(op.table), q(op.column.name))
        elif isinstance(op, CreateIndex) and op.name:
            if op.concurrently:
                call("removeIndex", q(op.table), q(op.name), "{ concurrently: true }")
            else:
                call("removeIndex", q(op.table), q(op.name))
        elif isinstance(op, AddConstraint) and op.name:
            call("removeConstraint", q(op.table), q(op.name))
        elif isinstance(op, RenameColumn):
            call("renameColumn", q(op.table), q(op.new_name), q(op.column))
        elif isinstance(op, RenameTable):
            call("renameTable", q(op.new_name), q(op.table))
        else:
            items.append(stop_for(op, style, migration))
    return items


def sequelize_downgrade(finding: Finding, migration: Migration) -> Fix | None:
    return downgrade_fix(
        finding,
        migration,
        lambda ops, param, style: sequelize_items(migration, ops, param, style),
        "queryInterface",
    )


def sequelize_use_concurrently(finding: Finding, migration: Migration) -> Fix | None:
    op = operation_for(finding, migration, CreateIndex)
    if op is None or op.concurrently:
        return None
    if op.in_transaction:
        return display(OUT_OF_TRANSACTION)
    if op.is_sql:
        keyword = concurrently_edit(migration, op)
        if isinstance(keyword, str):
            return display(keyword)
        return Fix(title="Create the index concurrently (add CONCURRENTLY)", edits=[keyword])
    source = JsSource(migration.text, migration.path)
    if source.root.has_error:
        return None
    call = node_at(source, op.span, "call_expression")
    if call is None:
        return None
    edit = _concurrently_option(source, call, style_of(source))
    if edit is None:
        return None
    return Fix(title="Create the index concurrently (concurrently: true)", edits=[edit])


def _concurrently_option(source: JsSource, call: Node, style: JsStyle) -> Edit | None:
    """`concurrently: true` added to (or set in) the `addIndex` options object."""
    arguments = call.child_by_field_name("arguments")
    args = named_children(arguments) if arguments is not None else []
    if not args:
        return None
    options = next((unwrap(a) for a in reversed(args[1:]) if unwrap(a).type == "object"), None)
    if options is None:
        return insert(source.span(args[-1]).end, ", { concurrently: true }")
    existing = object_get(options, "concurrently")
    if existing is not None:
        return replace(source.span(existing), "true")
    entries = named_children(options)
    if not entries:
        return replace(source.span(options), "{ concurrently: true }")
    last = entries[-1]
    multiline = "\n" in source.text_of(options)
    indent = indentation(source.text, source.span(last).start)
    after = last.next_sibling
    if after is not None and after.type == ",":
        text = (
            f"{style.newline}{indent}concurrently: true," if multiline else (" concurrently: true,")
        )
        return insert(source.span(after).end, text)
    text = f",{style.newline}{indent}concurrently: true" if multiline else ", concurrently: true"
    return insert(source.span(last).end, text)


def sequelize_outside_transaction(finding: Finding, migration: Migration) -> Fix | None:
    op = operation_for(finding, migration, CreateIndex) or operation_for(
        finding, migration, DropIndex
    )
    if op is None or not op.concurrently or not op.in_transaction:
        return None
    source = JsSource(migration.text, migration.path)
    node = node_at(source, migration_call_span(migration, op) or op.span)
    if node is not None and in_transaction_callback(source, node):
        return display(OUT_OF_TRANSACTION)
    return display(
        "Drop the transaction option of this call: CONCURRENTLY cannot run inside a transaction"
    )


SEQUELIZE_BUILDERS: dict[str, Builder] = {
    "missing-downgrade": sequelize_downgrade,
    "empty-downgrade": sequelize_downgrade,
    "incomplete-downgrade": sequelize_downgrade,
    "non-concurrent-index": sequelize_use_concurrently,
    "concurrent-index-in-transaction": sequelize_outside_transaction,
}
