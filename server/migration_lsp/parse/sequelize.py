"""Sequelize migrations (`module.exports = { async up (queryInterface, Sequelize) {...} }`) →
`Migration`.

Reads the exported `up`/`down` with tree-sitter, never running them: the `queryInterface`
API (`createTable`, `addColumn`, `changeColumn`, `addIndex`, `addConstraint`, `bulkUpdate`, ...),
column definitions (`{ type: Sequelize.STRING(100), allowNull: false, defaultValue: ... }`) and
raw SQL in `queryInterface.sequelize.query(...)`, parsed as SQL with positions inside the literal.

Transactions: sequelize-cli (through umzug) does NOT wrap a migration in a transaction; each
`queryInterface` call runs and commits on its own. Only the code the migration puts inside
`queryInterface.sequelize.transaction(async (t) => ...)`, or passes `{ transaction: t }`, runs
in one.

Defaults: `defaultValue: Sequelize.NOW` (and `UUIDV1`/`UUIDV4`) is a JavaScript-side default:
Sequelize does not write it into the table (`defaultValueSchemable` is false for them;
sequelize/cli#286), so the column gets no database default. `Sequelize.fn('now')` and
`Sequelize.literal('...')` do become `DEFAULT ...`.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from tree_sitter import Node

from migration_lsp.model import (
    AddColumn,
    AddConstraint,
    AlterColumn,
    Column,
    ConstraintKind,
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
    Truncate,
)
from migration_lsp.parse.host_sql import sql_operations
from migration_lsp.parse.javascript import (
    FUNCTION_TYPES,
    ExportedFunction,
    JsSource,
    Link,
    chain,
    exported_functions,
    literal,
    object_get,
    object_pairs,
    pair_of,
    params,
    plain_string,
    string_value,
    unwrap,
    visit_chains,
)
from migration_lsp.parse.knex import step_body, volatile_in
from migration_lsp.parse.treesitter import named_children
from migration_lsp.text import Span

TYPES: dict[str, str] = {
    "STRING": "varchar(255)",
    "CHAR": "char(255)",
    "TEXT": "text",
    "CITEXT": "citext",
    "TSVECTOR": "tsvector",
    "INTEGER": "integer",
    "BIGINT": "bigint",
    "SMALLINT": "smallint",
    "TINYINT": "smallint",
    "MEDIUMINT": "integer",
    "FLOAT": "float",
    "REAL": "real",
    "DOUBLE": "double precision",
    "DECIMAL": "decimal",
    "NUMERIC": "numeric",
    "BOOLEAN": "boolean",
    "DATE": "timestamptz",
    "DATEONLY": "date",
    "TIME": "time",
    "NOW": "timestamptz",
    "JSON": "json",
    "JSONB": "jsonb",
    "UUID": "uuid",
    "BLOB": "bytea",
    "ENUM": "enum",
    "ARRAY": "array",
    "INET": "inet",
    "CIDR": "cidr",
    "MACADDR": "macaddr",
    "GEOMETRY": "geometry",
    "GEOGRAPHY": "geography",
    "HSTORE": "hstore",
    "RANGE": "range",
}
"""`Sequelize.<TYPE>` → the PostgreSQL type Sequelize creates (`DATE` is `timestamptz`)."""
_MYSQL = {"timestamptz": "datetime", "bytea": "blob", "jsonb": "json"}
_SIZED = frozenset({"STRING", "CHAR", "DECIMAL", "NUMERIC"})
_JS_ONLY_DEFAULTS = frozenset({"NOW", "UUIDV1", "UUIDV4"})
_CONSTRAINT_KINDS: dict[str, ConstraintKind] = {
    "foreign key": "foreign_key",
    "check": "check",
    "unique": "unique",
    "primary key": "primary_key",
}
_CONSTRAINT_SUFFIX = {"foreign_key": "fk", "check": "ck", "unique": "uk", "primary_key": "pk"}
_CAMEL = re.compile(r"(?<=[a-z0-9])(?=[A-Z])")


def parse_sequelize(
    path: str, text: str, dialect: str | None, settings: dict[str, Any] | None = None
) -> Migration:
    source = JsSource(text, path)
    migration = Migration(
        path=path,
        text=text,
        tool="sequelize",
        dialect=dialect,
        language=source.language,
        supports_down=True,
        transactional=False,  # sequelize-cli runs each call on its own (see module docstring)
    )
    problems = source.problems()
    if problems:
        migration.problems.extend(problems)
        return migration
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
        _Reader(source, migration, step, function).read()
    return migration


def index_name(table: str, fields: list[str]) -> str:
    """The name Sequelize gives an index it names itself (`users_email`)."""
    return _underscore(f"{table}_{'_'.join(fields)}")


def constraint_name(table: str, fields: list[str], kind: str, references: str | None) -> str:
    """Sequelize's own constraint names: `Orders_userId_Users_fk`, `Users_email_uk`, ..."""
    middle = "_".join(fields)
    if kind == "foreign_key":
        return f"{table}_{middle}_{references or ''}_fk"
    return f"{table}_{middle}_{_CONSTRAINT_SUFFIX.get(kind, 'ck')}"


def _underscore(name: str) -> str:
    return _CAMEL.sub("_", name).replace("-", "_").replace(".", "_").lower()


class _Reader:
    """Collects the operations of one `up`/`down` function."""

    def __init__(
        self, source: JsSource, migration: Migration, step: Step, function: ExportedFunction
    ) -> None:
        self.source = source
        self.span: Callable[[Node], Span] = source.span
        """`source.span` (an attribute, not a method: one call less on the hottest path)."""
        self.migration = migration
        self.step = step
        self.function = function
        names = params(function.function)
        self.qi_names = {"queryInterface"}
        if names and names[0] != "_":
            self.qi_names.add(names[0])
        self.sequelize_names = {"Sequelize", "DataTypes"}
        if len(names) > 1 and names[1] != "_":
            self.sequelize_names.add(names[1])

    def read(self) -> None:
        body = self.function.body
        if body is not None:
            self.visit(body, False)

    def add(self, op: Operation, in_tx: bool, method: str) -> None:
        op.step = self.step
        op.in_transaction = in_tx
        op.origin = f"queryInterface.{method}"
        self.migration.operations.append(op)

    def visit(self, node: Node, in_tx: bool) -> None:
        visit_chains(node, lambda call: self.call(call, in_tx), self.source.grammar)

    def call(self, node: Node, in_tx: bool) -> bool:
        links = chain(node, self.source.grammar)
        if links[0].name not in self.qi_names or len(links) < 2:
            return False
        if links[1].name == "sequelize" and len(links) > 2 and links[2].is_call:
            if links[2].name == "query":
                self.query(node, links, 2, in_tx)
                return True
            if links[2].name == "transaction":
                for arg in links[2].args:
                    self.transaction_callback(arg)
                return True
            return False
        link = links[1]
        if not link.is_call:
            return False
        in_tx = in_tx or _passes_transaction(link)
        keyword = self.source.between(links[0].node, link.name_node)
        handled = self.method(node, link, keyword, in_tx)
        for arg in link.args:  # callbacks, nested queries
            if unwrap(arg).type in FUNCTION_TYPES:
                self.visit(arg, in_tx)
        for later in links[2:]:  # `.then(() => queryInterface.addIndex(...))`
            for arg in later.args:
                self.visit(arg, in_tx)
        return handled

    def transaction_callback(self, arg: Node) -> None:
        function = unwrap(arg)
        if function.type not in FUNCTION_TYPES:
            return
        body = function.child_by_field_name("body")
        if body is not None:
            self.visit(body, True)

    # ------------------------------------------------------------------ raw SQL

    def query(self, node: Node, links: list[Link], index: int, in_tx: bool) -> None:
        link = links[index]
        if not link.args:
            return
        options = link.args[1] if len(link.args) > 1 else None
        in_tx = in_tx or object_get(options, "transaction") is not None
        sql_node = link.args[0]
        found = string_value(self.source, sql_node)
        keyword = self.source.between(links[0].node, link.name_node)
        ops, problems = sql_operations(
            call=self.span(node),
            keyword=keyword,
            string=self.span(sql_node),
            value=found.value if found else None,
            positions=found.positions if found else None,
            formatted=found.formatted if found else False,
            step=self.step,
            in_transaction=in_tx,
            transaction="always" if in_tx else "multi",
            dialect=self.migration.dialect,
            origin="queryInterface.sequelize.query",
        )
        self.migration.operations.extend(ops)
        self.migration.problems.extend(problems)

    # ------------------------------------------------------------------ queryInterface.*

    def method(self, node: Node, link: Link, keyword: Span, in_tx: bool) -> bool:
        name = link.name
        args = link.args
        src = self.source
        span = self.span(node)
        spans: dict[str, Span] = {"keyword": keyword}
        table_node = args[0] if args else None
        table = self.table_name(table_node)
        if table_node is not None:
            spans["table"] = self.span(table_node)
        if name == "createTable":
            create = CreateTable(span=span, table=table, spans=spans)
            attributes = args[1] if len(args) > 1 else None
            for key, value in object_pairs(attributes).items():
                column = self.column(key, value)
                column.span = self.span(pair_of(value))
                create.columns.append(column)
            self.add(create, in_tx, name)
        elif name == "dropTable":
            self.add(DropTable(span=span, table=table, spans=spans), in_tx, name)
        elif name == "renameTable":
            new_node = args[1] if len(args) > 1 else None
            if new_node is not None:
                spans["new_name"] = self.span(new_node)
            rename = RenameTable(
                span=span, table=table, new_name=self.table_name(new_node), spans=spans
            )
            self.add(rename, in_tx, name)
        elif name in ("addColumn", "changeColumn"):
            self.add_or_change(span, link, table, spans, in_tx)
        elif name == "removeColumn":
            column_node = args[1] if len(args) > 1 else None
            if column_node is not None:
                spans["column"] = self.span(column_node)
            drop = DropColumn(
                span=span, table=table, column=plain_string(src, column_node) or "", spans=spans
            )
            self.add(drop, in_tx, name)
        elif name == "renameColumn" and len(args) >= 3:
            spans["column"] = self.span(args[1])
            spans["new_name"] = self.span(args[2])
            rename_column = RenameColumn(
                span=span,
                table=table,
                column=plain_string(src, args[1]) or "",
                new_name=plain_string(src, args[2]) or "",
                spans=spans,
            )
            self.add(rename_column, in_tx, name)
        elif name == "addIndex":
            self.add_index(span, link, table, spans, in_tx)
        elif name == "removeIndex":
            self.remove_index(span, link, table, spans, in_tx)
        elif name == "addConstraint":
            self.add_constraint(span, link, table, spans, in_tx)
        elif name == "removeConstraint":
            name_node = args[1] if len(args) > 1 else None
            if name_node is not None:
                spans["name"] = self.span(name_node)
            drop_constraint = DropConstraint(
                span=span, table=table, name=plain_string(src, name_node), spans=spans
            )
            self.add(drop_constraint, in_tx, name)
        elif name in ("bulkInsert", "bulkUpdate", "bulkDelete"):
            self.bulk(span, link, table, spans, in_tx)
        elif name == "bulkTruncate" or name == "truncate":
            self.add(Truncate(span=span, tables=[table], spans=spans), in_tx, name)
        else:
            return False
        return True

    def table_name(self, node: Node | None) -> str:
        """`'Users'` or `{ tableName: 'Users', schema: 'public' }`."""
        if node is None:
            return ""
        value = plain_string(self.source, node)
        if value is not None:
            return value
        table = plain_string(self.source, object_get(node, "tableName"))
        schema = plain_string(self.source, object_get(node, "schema"))
        if table and schema:
            return f"{schema}.{table}"
        return table or ""

    # ------------------------------------------------------------------ columns

    def column(self, name: str, value: Node) -> Column:
        """A column definition: `{ type: ..., allowNull: false, ... }` or just a type."""
        src = self.source
        value = unwrap(value)
        definition = value if value.type == "object" else None
        type_node = object_get(definition, "type") if definition is not None else value
        column = Column(name=name, type=self.sql_type(type_node))
        if definition is None:
            return column
        field = plain_string(src, object_get(definition, "field"))
        if field:
            column.name = field
        column.nullable = literal(src, object_get(definition, "allowNull")) is not False
        column.primary_key = literal(src, object_get(definition, "primaryKey")) is True
        if column.primary_key:
            column.nullable = False
        if literal(src, object_get(definition, "autoIncrement")) is True:
            column.serial = True
            column.nullable = False
            if column.type in ("integer", "bigint", "smallint"):
                column.type = {"integer": "serial", "bigint": "bigserial"}.get(
                    column.type, column.type
                )
        column.unique = bool(literal(src, object_get(definition, "unique")))
        default = object_get(definition, "defaultValue")
        if default is not None:
            column.default = self.default(default)
        references = object_get(definition, "references")
        if references is not None:
            model = object_get(references, "model")
            column.references = self.table_name(model) or None
        return column

    def sql_type(self, node: Node | None) -> str | None:
        """`Sequelize.STRING(100)` → `varchar(100)`, `DataTypes.DATE` → `timestamptz`."""
        if node is None:
            return None
        node = unwrap(node)
        if node.type in ("string", "template_string"):
            value = plain_string(self.source, node)
            return value.lower() if value else None
        links = chain(node, self.source.grammar)
        names = [link.name for link in links]
        if not names or names[0] not in self.sequelize_names:
            return None
        last = links[-1]
        sql = TYPES.get(last.name)
        if sql is None:
            return None
        if last.is_call and last.name in _SIZED and last.args:
            sizes = [literal(self.source, arg) for arg in last.args]
            numbers = [str(s) for s in sizes if isinstance(s, int) and not isinstance(s, bool)]
            if numbers:
                sql = f"{sql.split('(')[0]}({','.join(numbers)})"
        if last.name == "ARRAY" and last.args:
            inner = self.sql_type(last.args[0])
            sql = f"{inner}[]" if inner else "array"
        if self.migration.dialect == "mysql":
            sql = _MYSQL.get(sql, sql)
        return sql

    def default(self, node: Node) -> Default | None:
        """The database default a `defaultValue` writes, None when it writes none."""
        src = self.source
        inner = unwrap(node)
        text = src.text_of(inner)
        if inner.type in ("member_expression", "call_expression"):
            links = chain(inner, self.source.grammar)
            names = [link.name for link in links]
            if names[0] in self.sequelize_names and len(links) > 1:
                last = links[-1]
                if last.name in _JS_ONLY_DEFAULTS and not last.is_call:
                    return None
                if last.name == "literal" and last.args:
                    sql = plain_string(src, last.args[0]) or ""
                    return Default(text=sql, volatile_function=volatile_in(sql))
                if last.name == "fn" and last.args:
                    function = (plain_string(src, last.args[0]) or "").lower()
                    volatile = volatile_in(f"{function}()")
                    return Default(text=f"{function}()", volatile_function=volatile)
        if literal(src, inner) is None:
            return None  # defaultValue: null
        return Default(text=text)

    def add_or_change(
        self, span: Span, link: Link, table: str, spans: dict[str, Span], in_tx: bool
    ) -> None:
        src = self.source
        args = link.args
        column_node = args[1] if len(args) > 1 else None
        definition = args[2] if len(args) > 2 else None
        name = plain_string(src, column_node) or ""
        if column_node is not None:
            spans["column"] = self.span(column_node)
        column = self.column(name, definition) if definition is not None else Column(name=name)
        column.span = spans.get("column")
        definition_node = unwrap(definition) if definition is not None else None
        for key, part in (
            ("allowNull", "nullable"),
            ("defaultValue", "server_default"),
            ("type", "type_"),
            ("references", "references"),
        ):
            value = object_get(definition_node, key)
            if value is not None:
                spans[part] = self.span(pair_of(value))
        if definition_node is not None and definition_node.type != "object":
            spans["type_"] = self.span(definition_node)
        if definition_node is not None:
            spans["column_def"] = self.span(definition_node)
        if link.name == "addColumn":
            self.add(
                AddColumn(span=span, table=table, column=column, spans=spans), in_tx, "addColumn"
            )
            return
        # changeColumn rewrites the whole definition: type, and NOT NULL set or dropped
        alter = AlterColumn(
            span=span,
            table=table,
            column=name,
            new_type=column.type,
            nullable=column.nullable,
            spans=spans,
        )
        self.add(alter, in_tx, "changeColumn")

    # ------------------------------------------------------------------ indexes, constraints

    def fields(self, node: Node | None) -> list[str]:
        """`['a', 'b']`, `[{ name: 'a', order: 'DESC' }]`, `['a', Sequelize.fn(...)]`."""
        if node is None:
            return []
        inner = unwrap(node)
        items = named_children(inner) if inner.type == "array" else [inner]
        found: list[str] = []
        for item in items:
            value = plain_string(self.source, item)
            if value is None:
                value = plain_string(self.source, object_get(item, "name")) or plain_string(
                    self.source, object_get(item, "attribute")
                )
            if value:
                found.append(value)
        return found

    def add_index(
        self, span: Span, link: Link, table: str, spans: dict[str, Span], in_tx: bool
    ) -> None:
        """`addIndex(table, ['a'], { name, unique, concurrently })` or
        `addIndex(table, { fields: ['a'], ... })`."""
        src = self.source
        args = link.args
        second = unwrap(args[1]) if len(args) > 1 else None
        if second is not None and second.type == "object":
            options: Node | None = second
            fields_node = object_get(second, "fields")
        else:
            options = unwrap(args[2]) if len(args) > 2 else None
            fields_node = second
            if options is not None and object_get(options, "fields") is not None:
                fields_node = object_get(options, "fields")
        if fields_node is not None:
            spans["columns"] = self.span(fields_node)
        fields = self.fields(fields_node)
        name_node = object_get(options, "name")
        if name_node is not None:
            spans["name"] = self.span(name_node)
        concurrently_node = object_get(options, "concurrently")
        if concurrently_node is not None:
            spans["concurrently"] = self.span(pair_of(concurrently_node))
        if options is not None:
            spans["options"] = self.span(options)
        unique = (
            literal(src, object_get(options, "unique")) is True
            or (plain_string(src, object_get(options, "type")) or "").upper() == "UNIQUE"
        )
        in_tx = in_tx or object_get(options, "transaction") is not None
        index = CreateIndex(
            span=span,
            name=plain_string(src, name_node) or index_name(table, fields),
            table=table,
            columns=fields,
            unique=unique,
            concurrently=literal(src, concurrently_node) is True,
            spans=spans,
        )
        self.add(index, in_tx, "addIndex")

    def remove_index(
        self, span: Span, link: Link, table: str, spans: dict[str, Span], in_tx: bool
    ) -> None:
        src = self.source
        args = link.args
        target = args[1] if len(args) > 1 else None
        options = args[2] if len(args) > 2 else None
        name = plain_string(src, target)
        if name is None and target is not None:
            name = index_name(table, self.fields(target)) if self.fields(target) else None
        if target is not None:
            spans["name"] = self.span(target)
        concurrently_node = object_get(options, "concurrently")
        if concurrently_node is not None:
            spans["concurrently"] = self.span(pair_of(concurrently_node))
        drop = DropIndex(
            span=span,
            name=name,
            table=table,
            concurrently=literal(src, concurrently_node) is True,
            spans=spans,
        )
        self.add(drop, in_tx, "removeIndex")

    def add_constraint(
        self, span: Span, link: Link, table: str, spans: dict[str, Span], in_tx: bool
    ) -> None:
        """`addConstraint(table, { type: 'foreign key', fields, references: { table, field },
        name })` (Sequelize 6), or the older `addConstraint(table, ['a'], { ... })`."""
        src = self.source
        args = link.args
        options = args[1] if len(args) > 1 else None
        fields_node = object_get(options, "fields")
        if options is not None and unwrap(options).type == "array":
            fields_node = options
            options = args[2] if len(args) > 2 else None
        fields = self.fields(fields_node)
        if fields_node is not None:
            spans["columns"] = self.span(fields_node)
        raw_kind = (plain_string(src, object_get(options, "type")) or "").lower()
        kind = _CONSTRAINT_KINDS.get(raw_kind, "unknown")
        references = object_get(options, "references")
        referenced = self.table_name(object_get(references, "table")) or None
        name_node = object_get(options, "name")
        if name_node is not None:
            spans["name"] = self.span(name_node)
        type_node = object_get(options, "type")
        if type_node is not None and "name" not in spans:
            spans["name"] = self.span(pair_of(type_node))
        if options is not None:
            spans["options"] = self.span(options)
        name = plain_string(src, name_node) or constraint_name(table, fields, kind, referenced)
        where = object_get(options, "where")
        constraint = AddConstraint(
            span=span,
            table=table,
            name=name,
            kind=kind,
            references=referenced,
            columns=fields,
            expression=src.text_of(where) if where is not None else None,
            spans=spans,
        )
        self.add(
            constraint, in_tx or object_get(options, "transaction") is not None, "addConstraint"
        )

    def bulk(self, span: Span, link: Link, table: str, spans: dict[str, Span], in_tx: bool) -> None:
        """`bulkInsert(table, rows)`, `bulkUpdate(table, values, where)`, `bulkDelete(table,
        where)`: a `where` of `{}` or null touches every row."""
        args = link.args
        if link.name == "bulkInsert":
            change = DataChange(span=span, kind="bulk_insert", table=table, spans=spans)
            self.add(change, in_tx, link.name)
            return
        where = args[2] if link.name == "bulkUpdate" and len(args) > 2 else None
        if link.name == "bulkDelete":
            where = args[1] if len(args) > 1 else None
        has_where = where is not None and _non_empty_where(self.source, where)
        kind: DataKind = "update" if link.name == "bulkUpdate" else "delete"
        change = DataChange(
            span=span,
            kind=kind,
            table=table,
            has_where=has_where,
            unbounded=not has_where or _only_null_tests(self.source, where),
            spans=spans,
        )
        self.add(change, in_tx, link.name)


def _passes_transaction(link: Link) -> bool:
    """An options object with `transaction: t` among the call's arguments."""
    return any(
        unwrap(arg).type == "object" and object_get(arg, "transaction") is not None
        for arg in link.args
    )


def _non_empty_where(source: JsSource, node: Node) -> bool:
    inner = unwrap(node)
    if inner.type == "object":
        return bool(object_pairs(inner))
    return literal(source, inner) is not None


def _only_null_tests(source: JsSource, node: Node | None) -> bool:
    """`{ plan: null }`: every row still missing the value, an unbounded set."""
    if node is None:
        return True
    values = literal(source, node)
    return isinstance(values, dict) and bool(values) and all(v is None for v in values.values())
