"""Knex migrations (`exports.up = function(knex) {...}`, ESM, TypeScript) → `Migration`.

Reads the exported `up`/`down` functions with tree-sitter, never running them: the schema
builder (`knex.schema.createTable/alterTable/table/dropTable/renameTable/raw`), the table
builder inside their callbacks (`table.string('email').notNullable()`, `.alter()`,
`table.index(...)`, `dropColumn`, `foreign(...).references(...)`), raw SQL (`knex.raw`,
`knex.schema.raw`, parsed as SQL with positions inside the literal) and the query builder
(`knex('users').where(...).update(...)`, `.del()`, `.insert()`) as data changes.

Transactions: Knex runs every migration inside a transaction unless the file exports
`config = { transaction: false }`, or the knexfile sets `migrations.disableTransactions`.
A `knex.transaction(async (trx) => ...)` block runs in its own transaction either way.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

from tree_sitter import Node

from migration_lsp.model import (
    AddColumn,
    AddConstraint,
    AlterColumn,
    Column,
    CreateIndex,
    CreateTable,
    DataChange,
    DataKind,
    Default,
    DropColumn,
    DropConstraint,
    DropIndex,
    DropTable,
    Migration,
    Operation,
    RenameColumn,
    RenameTable,
    Step,
    StepBody,
    Truncate,
)
from migration_lsp.parse.host_sql import sql_operations
from migration_lsp.parse.host_strings import HostString
from migration_lsp.parse.javascript import (
    FUNCTION_TYPES,
    UNKNOWN,
    ExportedFunction,
    JsSource,
    Link,
    chain,
    exported_functions,
    exported_value,
    function_span,
    is_empty_function,
    literal,
    object_get,
    params,
    plain_string,
    string_value,
    throws,
    unwrap,
    visit_chains,
)
from migration_lsp.parse.sql import VOLATILE_FUNCTIONS
from migration_lsp.parse.treesitter import named_children
from migration_lsp.text import Span

TYPE_METHODS: dict[str, str] = {
    "increments": "serial",
    "bigIncrements": "bigserial",
    "integer": "integer",
    "bigInteger": "bigint",
    "bigint": "bigint",
    "tinyint": "smallint",
    "smallint": "smallint",
    "mediumint": "integer",
    "string": "varchar",
    "text": "text",
    "float": "real",
    "double": "double precision",
    "decimal": "decimal",
    "boolean": "boolean",
    "date": "date",
    "datetime": "timestamptz",
    "dateTime": "timestamptz",
    "time": "time",
    "timestamp": "timestamptz",
    "binary": "bytea",
    "enum": "text",
    "enu": "text",
    "json": "json",
    "jsonb": "jsonb",
    "uuid": "uuid",
    "specificType": "",
    "geometry": "geometry",
    "geography": "geography",
    "point": "point",
}
"""Table-builder column methods → the PostgreSQL type Knex creates (`timestamp` is `timestamptz`
unless `{ useTz: false }`; `enu` is text with a CHECK)."""
_MYSQL_TYPES = {"timestamptz": "timestamp", "serial": "int", "bigserial": "bigint"}
_TIME_TYPES = frozenset({"timestamp", "datetime", "dateTime", "time"})
SCHEMA_METHODS = frozenset(
    {
        "createTable",
        "createTableIfNotExists",
        "createTableLike",
        "alterTable",
        "table",
        "dropTable",
        "dropTableIfExists",
        "renameTable",
        "raw",
    }
)
QUERY_VERBS: dict[str, DataKind] = {
    "update": "update",
    "increment": "update",
    "decrement": "update",
    "del": "delete",
    "delete": "delete",
    "insert": "insert",
    "upsert": "insert",
}
TABLE_LINKS = frozenset({"table", "from", "into", "update", "del", "delete", "insert"})
_BOUNDING_WHERE = frozenset({"whereNull", "orWhereNull", "andWhereNull"})
_BINDING = re.compile(r"\?\??")
_CALL_NAME = re.compile(r"([A-Za-z_][\w]*)\s*\(")


def parse_knex(
    path: str, text: str, dialect: str | None, settings: dict[str, Any] | None = None
) -> Migration:
    settings = settings or {}
    source = JsSource(text, path)
    transactional = not _transactions_disabled(settings)
    migration = Migration(
        path=path,
        text=text,
        tool="knex",
        dialect=dialect,
        language=source.language,
        supports_down=True,
        transactional=transactional,
    )
    problems = source.problems()
    if problems:
        migration.problems.extend(problems)
        return migration
    config = exported_value(source, "config")
    if literal(source, object_get(config, "transaction")) is False:
        migration.transactional = transactional = False
    functions = exported_functions(source)
    for name, step in (("up", Step.UP), ("down", Step.DOWN)):
        function = functions.get(name)
        if function is None:
            continue
        body = step_body(source, function)
        if step is Step.UP:
            migration.up = body
        else:
            migration.down = body
        _Reader(source, migration, step, transactional, function).read()
    return migration


def step_body(source: JsSource, function: ExportedFunction) -> StepBody:
    return StepBody(
        span=source.span(function.name_node),
        body=function_span(source, function.function),
        empty=is_empty_function(source, function.function),
        raises=throws(function.function),
    )


def _transactions_disabled(settings: dict[str, Any]) -> bool:
    """`migrations: { disableTransactions: true }` in the knexfile (read as text, not run)."""
    for key in ("disableTransactions", "disable_transactions"):
        if key in settings:
            return settings[key] is True
    knexfile = settings.get("knexfile")
    if not isinstance(knexfile, str):
        return False
    try:
        stat = os.stat(knexfile)  # (what `Path.stat` does, without building a `Path`)
    except OSError:
        return False
    return _knexfile_disables(knexfile, stat.st_mtime_ns)


@lru_cache(maxsize=32)
def _knexfile_disables(path: str, _mtime: int) -> bool:
    try:
        text = Path(path).read_text(encoding="utf-8", errors="replace")
    except OSError:
        return False
    source = JsSource(text, path)
    found = False
    for node in _nodes(source.root, "pair"):
        key = node.child_by_field_name("key")
        if key is not None and source.text_of(key).strip("'\"") == "disableTransactions":
            found = found or literal(source, node.child_by_field_name("value")) is True
    return found


def _nodes(root: Node, kind: str) -> Iterator[Node]:
    stack = [root]
    while stack:
        node = stack.pop()
        if node.type == kind:
            yield node
        stack.extend(reversed(node.children))


# --------------------------------------------------------------------------- default names


def index_name(table: str, columns: list[str], kind: str) -> str:
    """The name Knex gives an index or constraint it names itself (`users_email_index`)."""
    base = re.sub(r"[.\-]", "_", table)
    return f"{base}_{'_'.join(columns)}_{kind}".lower()


# --------------------------------------------------------------------------- the reader


@dataclass(slots=True)
class _Table:
    """The table a builder callback works on."""

    name: str
    span: Span | None
    new: bool
    create: CreateTable | None = None
    ops: list[Operation] = field(default_factory=list)


class _Reader:
    """Collects the operations of one `up`/`down` function."""

    def __init__(
        self,
        source: JsSource,
        migration: Migration,
        step: Step,
        transactional: bool,
        function: ExportedFunction,
    ) -> None:
        self.source = source
        self.span: Callable[[Node], Span] = source.span
        """`source.span` (an attribute, not a method: one call less on the hottest path)."""
        self.migration = migration
        self.step = step
        self.transactional = transactional
        self.function = function
        names = params(function.function)
        self.knex_names = {names[0] if names and names[0] != "_" else "knex", "knex"}
        self.tables: dict[str, _Table] = {}
        """Parameter names of table-builder callbacks in scope → their table."""

    def read(self) -> None:
        body = self.function.body
        if body is not None:
            self.visit(body, self.transactional)

    def add(self, op: Operation, in_tx: bool, origin: str) -> None:
        op.step = self.step
        op.in_transaction = in_tx
        op.origin = origin
        self.migration.operations.append(op)

    def visit(self, node: Node, in_tx: bool) -> None:
        visit_chains(node, lambda call: self.call(call, in_tx), self.source.grammar)

    def call(self, node: Node, in_tx: bool) -> bool:
        """Handle one call chain; False when it is not Knex's (its children are then visited)."""
        links = chain(node, self.source.grammar)
        root = links[0].name
        if root in self.tables and len(links) > 1 and links[1].is_call:
            self.table_call(node, links, self.tables[root], in_tx)
            return True
        if root not in self.knex_names:
            return False
        if len(links) > 1 and links[1].name == "schema" and not links[1].is_call:
            self.schema_chain(node, links[2:], in_tx)
            return True
        if len(links) > 1 and links[1].name == "raw" and links[1].is_call:
            self.raw(links[1], node, in_tx)
            return True
        if len(links) > 1 and links[1].name == "transaction" and links[1].is_call:
            for arg in links[1].args:
                self.transaction_callback(arg)
            return True
        if links[0].is_call or (len(links) > 1 and links[1].name in TABLE_LINKS):
            return self.query(node, links, in_tx)
        if len(links) > 1 and links[1].name == "batchInsert" and links[1].is_call:
            table = plain_string(self.source, links[1].args[0]) if links[1].args else None
            change = DataChange(
                span=self.span(node),
                kind="bulk_insert",
                table=table,
                spans={"keyword": self._callee(links, 1)},
            )
            self.add(change, in_tx, "knex.batchInsert")
            return True
        return False

    def transaction_callback(self, arg: Node) -> None:
        function = unwrap(arg)
        if function.type not in FUNCTION_TYPES:
            return
        names = params(function)
        added = names[0] if names and names[0] not in self.knex_names else None
        if added:
            self.knex_names.add(added)
        body = function.child_by_field_name("body")
        if body is not None:
            self.visit(body, True)
        if added:
            self.knex_names.discard(added)

    def _callee(self, links: list[Link], index: int) -> Span:
        """From the chain's root to the end of the name of `links[index]` (`knex.schema.raw`)."""
        return self.source.between(links[0].node, links[index].name_node)

    def _link_span(self, link: Link) -> Span:
        """`name(args)` of one link, without the receiver."""
        return self.source.between(link.name_node, link.node)

    # ------------------------------------------------------------------ knex.schema

    def schema_chain(self, node: Node, links: list[Link], in_tx: bool) -> None:
        for index, link in enumerate(links):
            if not link.is_call:
                continue
            if link.name in SCHEMA_METHODS:
                self.schema_call(node, link, in_tx, first=index == 0)
            else:  # hasTable(...).then(...), withSchema(...): look inside for more calls
                for arg in link.args:
                    self.visit(arg, in_tx)

    def schema_call(self, chain_node: Node, link: Link, in_tx: bool, *, first: bool) -> None:
        method = link.name
        src = self.source
        call_span = self.span(link.node)
        # `knex.schema.dropTable`; a later link of a chain: just its name
        keyword = src.between(chain_node if first else link.name_node, link.name_node)
        origin = f"knex.schema.{method}"
        if method == "raw":
            self.raw(link, chain_node, in_tx, origin=origin, first=first)
            return
        table_node = link.args[0] if link.args else None
        table = plain_string(src, table_node) or ""
        spans = {"keyword": keyword}
        if table_node is not None:
            spans["table"] = self.span(table_node)
        if method in ("createTable", "createTableIfNotExists", "createTableLike"):
            create = CreateTable(
                span=call_span,
                table=table,
                if_not_exists=method == "createTableIfNotExists",
                spans=spans,
            )
            self.add(create, in_tx, origin)
            callback = link.args[-1] if len(link.args) > 1 else None
            if callback is not None:
                self.builder(callback, _Table(table, spans.get("table"), True, create), in_tx)
            return
        if method in ("alterTable", "table"):
            callback = link.args[1] if len(link.args) > 1 else None
            if callback is not None:
                self.builder(callback, _Table(table, spans.get("table"), False), in_tx)
            return
        if method in ("dropTable", "dropTableIfExists"):
            drop = DropTable(
                span=call_span, table=table, if_exists=method == "dropTableIfExists", spans=spans
            )
            self.add(drop, in_tx, origin)
            return
        if method == "renameTable":
            new = link.args[1] if len(link.args) > 1 else None
            if new is not None:
                spans["new_name"] = self.span(new)
            rename = RenameTable(
                span=call_span, table=table, new_name=plain_string(src, new) or "", spans=spans
            )
            self.add(rename, in_tx, origin)

    def builder(self, callback: Node, table: _Table, in_tx: bool) -> None:
        function = unwrap(callback)
        if function.type not in FUNCTION_TYPES:
            return
        names = params(function)
        body = function.child_by_field_name("body")
        if not names or body is None:
            return
        outer = self.tables.get(names[0])
        self.tables[names[0]] = table
        self.visit(body, in_tx)
        if outer is None:
            del self.tables[names[0]]
        else:
            self.tables[names[0]] = outer

    # ------------------------------------------------------------------ raw SQL

    def raw(
        self,
        link: Link,
        chain_node: Node,
        in_tx: bool,
        origin: str = "knex.raw",
        *,
        first: bool = True,
    ) -> None:
        """SQL of `knex.raw(...)`; `first`: the link starts the chain (`knex.schema.raw`),
        else the call is a later link of a schema chain (`.alterTable(...).raw(...)`) and is
        reported from its own name on."""
        if not link.args:
            return
        sql_node = link.args[0]
        found = string_value(self.source, sql_node)
        value: str | None = None
        positions: list[int] | None = None
        formatted = False
        if found is not None:
            found = _bind_identifiers(
                found, self.source, link.args[1] if len(link.args) > 1 else None
            )
            value, positions, formatted = found.value, found.positions, found.formatted
        start = self.span(chain_node if first else link.name_node).start
        keyword = Span(start, self.span(link.name_node).end)
        ops, problems = sql_operations(
            call=Span(start, self.span(link.node).end),
            keyword=keyword,
            string=self.span(sql_node),
            value=value,
            positions=positions,
            formatted=formatted,
            step=self.step,
            in_transaction=in_tx,
            transaction="always" if in_tx else "multi",
            dialect=self.migration.dialect,
            origin=origin,
        )
        ops[0].origin = origin
        self.migration.operations.extend(ops)
        self.migration.problems.extend(problems)

    # ------------------------------------------------------------------ query builder

    def query(self, node: Node, links: list[Link], in_tx: bool) -> bool:
        """`knex('users').where(...).update(...)`, `knex.table('users').del()`, ..."""
        table: str | None = None
        if links[0].is_call and links[0].args:
            table = plain_string(self.source, links[0].args[0])
        verb: Link | None = None
        has_where = False
        only_null_tests = True
        truncate: Link | None = None
        for link in links[1:]:
            if link.name in ("table", "from", "into") and link.is_call and link.args:
                table = table or plain_string(self.source, link.args[0])
            if link.name in QUERY_VERBS and link.is_call:
                verb = link
            if link.name == "truncate" and link.is_call:
                truncate = link
            if link.name.lower().startswith(("where", "andwhere", "orwhere")):
                has_where = True
                if link.name not in _BOUNDING_WHERE:
                    only_null_tests = False
        for link in links:
            for arg in link.args:  # subqueries, callbacks
                self.visit(arg, in_tx)
        span = self.span(node)
        if truncate is not None:
            op: Operation = Truncate(
                span=span,
                tables=[table] if table else [],
                spans={"keyword": self._link_span(truncate)},
            )
            self.add(op, in_tx, "knex.truncate")
            return True
        if verb is None:
            return True
        kind = QUERY_VERBS[verb.name]
        change = DataChange(
            span=span,
            kind=kind,
            table=table,
            has_where=has_where,
            unbounded=kind in ("update", "delete") and (not has_where or only_null_tests),
            spans={"keyword": self._link_span(verb)},
        )
        self.add(change, in_tx, f"knex.{verb.name}")
        return True

    # ------------------------------------------------------------------ table builder

    def table_call(self, node: Node, links: list[Link], table: _Table, in_tx: bool) -> None:
        method = links[1]
        span = self.span(node)
        keyword = self._callee(links, 1)
        base = {"keyword": keyword}
        if table.span is not None:
            base["table"] = table.span
        name = method.name
        if name in TYPE_METHODS:
            self.column(node, links, table, in_tx)
        elif name == "timestamps":
            self.timestamps(node, links, table, in_tx)
        elif name in ("dropColumn", "dropColumns"):
            for arg in _flat_args(method.args):
                column = plain_string(self.source, arg)
                if column is None:
                    continue
                spans = {**base, "column": self.span(arg)}
                drop = DropColumn(span=span, table=table.name, column=column, spans=spans)
                self.add(drop, in_tx, f"table.{name}")
        elif name == "dropTimestamps":
            for column in ("created_at", "updated_at"):
                drop = DropColumn(span=span, table=table.name, column=column, spans=dict(base))
                self.add(drop, in_tx, "table.dropTimestamps")
        elif name == "renameColumn" and len(method.args) >= 2:
            spans = {
                **base,
                "column": self.span(method.args[0]),
                "new_name": self.span(method.args[1]),
            }
            rename = RenameColumn(
                span=span,
                table=table.name,
                column=plain_string(self.source, method.args[0]) or "",
                new_name=plain_string(self.source, method.args[1]) or "",
                spans=spans,
            )
            self.add(rename, in_tx, "table.renameColumn")
        elif name in ("setNullable", "dropNullable") and method.args:
            spans = {**base, "column": self.span(method.args[0]), "nullable": keyword}
            alter = AlterColumn(
                span=span,
                table=table.name,
                column=plain_string(self.source, method.args[0]) or "",
                nullable=name == "setNullable",
                spans=spans,
            )
            self.add(alter, in_tx, f"table.{name}")
        elif name == "index":
            self.index(span, method, table, base, in_tx, unique=False)
        elif name == "unique":
            self.unique(span, method, table, base, in_tx)
        elif name in ("dropIndex", "dropUnique"):
            self.drop_index(span, method, table, base, in_tx)
        elif name in ("foreign", "primary", "check"):
            self.constraint(span, links, table, base, in_tx)
        elif name in ("dropForeign", "dropPrimary", "dropChecks"):
            self.drop_constraint(span, method, table, base, in_tx)
        for link in links[1:]:
            for arg in link.args:
                if unwrap(arg).type in FUNCTION_TYPES:
                    self.visit(arg, in_tx)

    def column(self, node: Node, links: list[Link], table: _Table, in_tx: bool) -> None:
        src = self.source
        method = links[1]
        modifiers = {link.name: link for link in links[2:] if link.is_call}
        name_node = method.args[0] if method.args else None
        name = plain_string(src, name_node) or ""
        column = Column(name=name, type=self.column_type(method), span=None)
        spans: dict[str, Span] = {"keyword": self._callee(links, 1)}
        if table.span is not None:
            spans["table"] = table.span
        if name_node is not None:
            spans["column"] = column.span = self.span(name_node)  # (one frozen span, shared)
        spans["type_"] = self._link_span(method)
        spans["column_def"] = span = self.span(node)
        if method.name in ("increments", "bigIncrements"):
            column.serial = True
            column.nullable = False
            primary = object_get(method.args[1] if len(method.args) > 1 else None, "primaryKey")
            column.primary_key = literal(src, primary) is not False
        for link in links[2:]:
            if link.name == "notNullable":
                column.nullable = False
                spans["nullable"] = self._link_span(link)
            elif link.name == "nullable":
                column.nullable = True
                spans["nullable"] = self._link_span(link)
            elif link.name == "defaultTo" and link.args:
                value = literal(src, link.args[0])
                if value is not None:
                    column.default = self.default(link.args[0])
                spans["server_default"] = self._link_span(link)
            elif link.name == "primary":
                column.primary_key = True
                column.nullable = False
            elif link.name == "unique":
                column.unique = True
            elif link.name == "references" and link.args:
                column.references = self.referenced_table(link, modifiers)
                spans["references"] = self._link_span(link)
        if method.name in ("enum", "enu") and _enum_native(src, method):
            column.type = "enum"
        alter = modifiers.get("alter")
        if alter is not None:
            self.alter_column(span, column, spans, alter, table, in_tx)
            return
        if table.create is not None and table.new:
            column.span = span
            table.create.columns.append(column)
        else:
            add = AddColumn(span=span, table=table.name, column=column, spans=spans)
            self.add(add, in_tx, f"table.{method.name}")
        self.column_extras(span, column, spans, modifiers, table, in_tx)

    def column_extras(
        self,
        span: Span,
        column: Column,
        spans: dict[str, Span],
        modifiers: dict[str, Link],
        table: _Table,
        in_tx: bool,
    ) -> None:
        """`.index()` builds an index; `.references()` a foreign key: separate statements."""
        index = modifiers.get("index")
        if index is not None:
            name = plain_string(self.source, index.args[0]) if index.args else None
            op = CreateIndex(
                span=span,
                name=name or index_name(table.name, [column.name], "index"),
                table=table.name,
                columns=[column.name],
                implicit=False,
                spans={**spans, "keyword": self._link_span(index)},
            )
            self.add(op, in_tx, "table.index")

    def alter_column(
        self,
        span: Span,
        column: Column,
        spans: dict[str, Span],
        alter: Link,
        table: _Table,
        in_tx: bool,
    ) -> None:
        """`.alter()` rewrites the column: type, and nullability (Knex drops NOT NULL unless
        `.notNullable()` is repeated), unless `alter({ alterType: false, alterNullable:
        false })` says otherwise."""
        options = alter.args[0] if alter.args else None
        alter_type = literal(self.source, object_get(options, "alterType")) is not False
        alter_nullable = literal(self.source, object_get(options, "alterNullable")) is not False
        spans.setdefault("nullable", self._link_span(alter))
        op = AlterColumn(
            span=span,
            table=table.name,
            column=column.name,
            new_type=column.type if alter_type else None,
            nullable=column.nullable if alter_nullable else None,
            spans=spans,
        )
        self.add(op, in_tx, "table.alter")

    def column_type(self, method: Link) -> str | None:
        src = self.source
        name = method.name
        args = method.args
        sql = TYPE_METHODS[name]
        if name == "specificType":
            value = plain_string(src, args[1]) if len(args) > 1 else None
            return value.lower() if value else None
        if name == "string":
            length = literal(src, args[1]) if len(args) > 1 else 255
            return f"varchar({length})" if isinstance(length, int) else "varchar(255)"
        if name == "decimal":
            precision = literal(src, args[1]) if len(args) > 1 else 8
            scale = literal(src, args[2]) if len(args) > 2 else 2
            if precision is None:
                return "decimal"
            if isinstance(precision, int) and isinstance(scale, int):
                return f"decimal({precision},{scale})"
            return "decimal"
        if name in _TIME_TYPES and name != "time":
            options = args[1] if len(args) > 1 else None
            if (
                literal(src, object_get(options, "useTz")) is False
                or literal(src, options) is False
            ):
                sql = "timestamp"
        if self.migration.dialect == "mysql":
            sql = _MYSQL_TYPES.get(sql, sql)
        return sql

    def default(self, node: Node) -> Default:
        src = self.source
        text = src.text_of(node)
        volatile: str | None = None
        inner = unwrap(node)
        if inner.type == "call_expression":
            links = chain(inner, self.source.grammar)
            names = [link.name for link in links]
            if names[-1] == "raw" and links[-1].args:
                sql = plain_string(src, links[-1].args[0]) or ""
                volatile = volatile_in(sql)
            elif names[-2:] == ["fn", "uuid"]:
                volatile = "gen_random_uuid"
        return Default(text=text, volatile_function=volatile)

    def referenced_table(self, link: Link, modifiers: dict[str, Link]) -> str | None:
        target = plain_string(self.source, link.args[0]) if link.args else None
        in_table = modifiers.get("inTable")
        if in_table is not None and in_table.args:
            return plain_string(self.source, in_table.args[0])
        if target and "." in target:
            return target.rsplit(".", 1)[0]
        return None

    def timestamps(self, node: Node, links: list[Link], table: _Table, in_tx: bool) -> None:
        """`table.timestamps(useTimestamp?, defaultToNow?, camelCase?)`: two columns."""
        args = links[1].args
        default_now = len(args) > 1 and literal(self.source, args[1]) is True
        camel = len(args) > 2 and literal(self.source, args[2]) is True
        use_tz = not (args and literal(self.source, args[0]) is False)
        span = self.span(node)
        for name in ("createdAt", "updatedAt") if camel else ("created_at", "updated_at"):
            column = Column(
                name=name,
                type="timestamptz" if use_tz else "timestamp",
                nullable=not default_now,
                default=Default(text="CURRENT_TIMESTAMP") if default_now else None,
                span=span,
            )
            if table.create is not None:
                table.create.columns.append(column)
                continue
            spans = {"keyword": self._callee(links, 1), "column": self._link_span(links[1])}
            if table.span is not None:
                spans["table"] = table.span
            add = AddColumn(span=span, table=table.name, column=column, spans=spans)
            self.add(add, in_tx, "table.timestamps")

    def index(
        self,
        span: Span,
        method: Link,
        table: _Table,
        base: dict[str, Span],
        in_tx: bool,
        *,
        unique: bool,
    ) -> None:
        columns, name = self.columns_and_name(method, "unique" if unique else "index")
        spans = dict(base)
        if method.args:
            spans["columns"] = self.span(method.args[0])
        if len(method.args) > 1 and unwrap(method.args[1]).type in ("string", "template_string"):
            spans["name"] = self.span(method.args[1])
        op = CreateIndex(
            span=span,
            name=name or index_name(table.name, columns, "unique" if unique else "index"),
            table=table.name,
            columns=columns,
            unique=unique,
            spans=spans,
        )
        self.add(op, in_tx, "table.unique" if unique else "table.index")

    def unique(
        self, span: Span, method: Link, table: _Table, base: dict[str, Span], in_tx: bool
    ) -> None:
        """`table.unique(cols)` adds a UNIQUE constraint; `{ useConstraint: false }` (or a
        `predicate`) builds a unique index instead."""
        options = method.args[1] if len(method.args) > 1 else None
        use_constraint = literal(self.source, object_get(options, "useConstraint"))
        if use_constraint is False or object_get(options, "predicate") is not None:
            self.index(span, method, table, base, in_tx, unique=True)
            return
        columns, name = self.columns_and_name(method, "unique")
        spans = dict(base)
        if method.args:
            spans["columns"] = self.span(method.args[0])
        op = AddConstraint(
            span=span,
            table=table.name,
            name=name or index_name(table.name, columns, "unique"),
            kind="unique",
            columns=columns,
            spans=spans,
        )
        self.add(op, in_tx, "table.unique")

    def columns_and_name(self, method: Link, kind: str) -> tuple[list[str], str | None]:
        """`(['a', 'b'], 'name')` or `('a', { indexName })` → (['a', 'b'], 'name')."""
        src = self.source
        columns: list[str] = []
        if method.args:
            value = literal(src, method.args[0])
            if isinstance(value, str):
                columns = [value]
            elif isinstance(value, list):
                columns = [c for c in value if isinstance(c, str)]
        name: str | None = None
        if len(method.args) > 1:
            second = method.args[1]
            name = plain_string(src, second)
            if name is None:
                key = "indexName" if kind in ("index", "unique") else "keyName"
                name = plain_string(src, object_get(second, key))
        return columns, name

    def drop_index(
        self, span: Span, method: Link, table: _Table, base: dict[str, Span], in_tx: bool
    ) -> None:
        kind = "unique" if method.name == "dropUnique" else "index"
        columns, name = self.columns_and_name(method, kind)
        op = DropIndex(
            span=span,
            name=name or (index_name(table.name, columns, kind) if columns else None),
            table=table.name,
            spans=dict(base),
        )
        self.add(op, in_tx, f"table.{method.name}")

    def constraint(
        self, span: Span, links: list[Link], table: _Table, base: dict[str, Span], in_tx: bool
    ) -> None:
        """`table.foreign('user_id').references('users.id')`, `table.primary([...])`,
        `table.check('?? > 0', ['total'], 'positive_total')`."""
        src = self.source
        method = links[1]
        modifiers = {link.name: link for link in links[2:] if link.is_call}
        spans = dict(base)
        if method.name == "check":
            name = plain_string(src, method.args[2]) if len(method.args) > 2 else None
            if len(method.args) > 2:
                spans["name"] = self.span(method.args[2])
            op = AddConstraint(
                span=span,
                table=table.name,
                name=name,
                kind="check",
                expression=plain_string(src, method.args[0]) if method.args else None,
                spans=spans,
            )
            self.add(op, in_tx, "table.check")
            return
        kind = "foreign" if method.name == "foreign" else "pkey"
        columns, name = self.columns_and_name(method, kind)
        if method.args:
            spans["columns"] = spans["column"] = self.span(method.args[0])
        if len(method.args) > 1 and unwrap(method.args[1]).type in ("string", "template_string"):
            spans["name"] = self.span(method.args[1])
        if method.name == "primary":
            constraint = AddConstraint(
                span=span,
                table=table.name,
                name=name or f"{table.name}_pkey",
                kind="primary_key",
                columns=columns,
                spans=spans,
            )
            self.add(constraint, in_tx, "table.primary")
            return
        references = None
        link = modifiers.get("references")
        if link is not None:
            references = self.referenced_table(link, modifiers)
            spans["references"] = self._link_span(link)
        constraint = AddConstraint(
            span=span,
            table=table.name,
            name=name or index_name(table.name, columns, "foreign"),
            kind="foreign_key",
            references=references,
            columns=columns,
            spans=spans,
        )
        self.add(constraint, in_tx, "table.foreign")

    def drop_constraint(
        self, span: Span, method: Link, table: _Table, base: dict[str, Span], in_tx: bool
    ) -> None:
        src = self.source
        if method.name == "dropChecks":
            for arg in _flat_args(method.args):
                name = plain_string(src, arg)
                drop = DropConstraint(
                    span=span, table=table.name, name=name, kind="check", spans=dict(base)
                )
                self.add(drop, in_tx, "table.dropChecks")
            return
        if method.name == "dropPrimary":
            name = plain_string(src, method.args[0]) if method.args else None
            drop = DropConstraint(
                span=span,
                table=table.name,
                name=name or f"{table.name}_pkey",
                kind="primary_key",
                spans=dict(base),
            )
            self.add(drop, in_tx, "table.dropPrimary")
            return
        columns, name = self.columns_and_name(method, "foreign")
        drop = DropConstraint(
            span=span,
            table=table.name,
            name=name or (index_name(table.name, columns, "foreign") if columns else None),
            kind="foreign_key",
            spans=dict(base),
        )
        self.add(drop, in_tx, "table.dropForeign")


def _flat_args(args: list[Node]) -> list[Node]:
    """`dropColumns('a', 'b')` and `dropColumns(['a', 'b'])` alike."""
    flat: list[Node] = []
    for arg in args:
        inner = unwrap(arg)
        flat.extend(named_children(inner) if inner.type == "array" else [inner])
    return flat


def _enum_native(source: JsSource, method: Link) -> bool:
    options = method.args[2] if len(method.args) > 2 else None
    return literal(source, object_get(options, "useNative")) is True


def volatile_in(sql: str) -> str | None:
    """The first volatile function a short SQL expression calls (`gen_random_uuid()`)."""
    for match in _CALL_NAME.finditer(sql):
        name = match.group(1).lower()
        if name in VOLATILE_FUNCTIONS:
            return name
    return None


def _bind_identifiers(found: HostString, source: JsSource, bindings: Node | None) -> HostString:
    """`knex.raw('ALTER TABLE ?? ...', ['users'])`: the `??` identifier bindings replaced by the
    names bound to them (each character keeps the position of its `??`), so the SQL parses."""
    if "??" not in found.value:
        return found
    values = literal(source, bindings) if bindings is not None else UNKNOWN
    names = [v for v in values] if isinstance(values, list) else []
    value: list[str] = []
    positions: list[int] = []
    last = 0
    for index, match in enumerate(_BINDING.finditer(found.value)):
        if match.group() != "??":
            continue
        value.append(found.value[last : match.start()])
        positions.extend(found.positions[last : match.start()])
        bound = names[index] if index < len(names) and isinstance(names[index], str) else None
        text = f'"{bound}"' if bound else "_param_"
        value.append(text)
        positions.extend([found.positions[match.start()]] * len(text))
        last = match.end()
    value.append(found.value[last:])
    positions.extend(found.positions[last:])
    return HostString("".join(value), positions, found.formatted)
