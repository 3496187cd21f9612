"""Laravel `Blueprint` calls (`$table->string('email')->nullable()`, `$table->index(...)`) →
model operations, for the closure of one `Schema::create` / `Schema::table`.

Types are those Laravel's schema grammars write (`string` → `varchar(255)`, `timestamp` →
`timestamp(0)`, `id` → `bigserial` primary key on PostgreSQL). Index and constraint names follow
`Blueprint::createIndexName` (`users_email_index`, `posts_user_id_foreign`), so that
`$table->dropIndex(['email'])` in `down()` is seen to undo `$table->index('email')`.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field

from tree_sitter import Node

from migration_lsp.model import (
    AddColumn,
    AddConstraint,
    AlterColumn,
    Column,
    ConstraintKind,
    CreateIndex,
    CreateTable,
    Default,
    DropColumn,
    DropConstraint,
    DropIndex,
    Operation,
    RenameColumn,
    Step,
)
from migration_lsp.parse.laravel_php import (
    UNKNOWN,
    Chain,
    Link,
    class_name,
    literal,
    names_of,
    string_value,
    text_of,
)
from migration_lsp.parse.sql import VOLATILE_FUNCTIONS
from migration_lsp.parse.treesitter import TreeSource
from migration_lsp.text import Span

# --------------------------------------------------------------------------- column types

TypeOf = Callable[[Link, "TableScope"], str]


def _fixed(sql: str) -> TypeOf:
    return lambda link, scope: sql


def _sized(base: str, index: int, default: int) -> TypeOf:
    def sql(link: Link, scope: TableScope) -> str:
        value = literal(scope.source, link.arg(index, "length"))
        return f"{base}({value if isinstance(value, int) else default})"

    return sql


def _decimal(link: Link, scope: TableScope) -> str:
    total = literal(scope.source, link.arg(1, "total"))
    places = literal(scope.source, link.arg(2, "places"))
    total = total if isinstance(total, int) else 8
    places = places if isinstance(places, int) else 2
    return f"decimal({total}, {places})"


def _precise(base: str, suffix: str = "") -> TypeOf:
    def sql(link: Link, scope: TableScope) -> str:
        value = literal(scope.source, link.arg(1, "precision"))
        precision = value if isinstance(value, int) else 0
        return f"{base}({precision}){suffix}"

    return sql


_TIMESTAMP = _precise("timestamp")
_TIMESTAMPTZ = _precise("timestamptz")

COLUMN_TYPES: dict[str, TypeOf] = {
    "string": _sized("varchar", 1, 255),
    "char": _sized("char", 1, 255),
    "text": _fixed("text"),
    "tinyText": _fixed("varchar(255)"),
    "mediumText": _fixed("text"),
    "longText": _fixed("text"),
    "integer": _fixed("integer"),
    "tinyInteger": _fixed("smallint"),
    "smallInteger": _fixed("smallint"),
    "mediumInteger": _fixed("integer"),
    "bigInteger": _fixed("bigint"),
    "unsignedInteger": _fixed("integer"),
    "unsignedTinyInteger": _fixed("smallint"),
    "unsignedSmallInteger": _fixed("smallint"),
    "unsignedMediumInteger": _fixed("integer"),
    "unsignedBigInteger": _fixed("bigint"),
    "foreignId": _fixed("bigint"),
    "foreignUuid": _fixed("uuid"),
    "foreignUlid": _fixed("char(26)"),
    "float": _fixed("double precision"),
    "double": _fixed("double precision"),
    "decimal": _decimal,
    "unsignedDecimal": _decimal,
    "boolean": _fixed("boolean"),
    "enum": _fixed("varchar(255)"),
    "set": _fixed("varchar(255)"),
    "json": _fixed("json"),
    "jsonb": _fixed("jsonb"),
    "date": _fixed("date"),
    "dateTime": _TIMESTAMP,
    "dateTimeTz": _TIMESTAMPTZ,
    "time": _precise("time"),
    "timeTz": _precise("time", " with time zone"),
    "timestamp": _TIMESTAMP,
    "timestampTz": _TIMESTAMPTZ,
    "year": _fixed("integer"),
    "binary": _fixed("bytea"),
    "uuid": _fixed("uuid"),
    "ulid": _fixed("char(26)"),
    "ipAddress": _fixed("inet"),
    "macAddress": _fixed("macaddr"),
    "geometry": _fixed("geography"),
    "geography": _fixed("geography"),
    "point": _fixed("geography(point)"),
    "vector": _fixed("vector"),
    "tsvector": _fixed("tsvector"),
    "computed": _fixed("text"),
}
"""Blueprint column methods (first argument: the column name) → SQL type."""

SERIALS = {
    "id": "bigserial",
    "increments": "serial",
    "integerIncrements": "serial",
    "mediumIncrements": "serial",
    "smallIncrements": "smallserial",
    "tinyIncrements": "smallserial",
    "bigIncrements": "bigserial",
}
"""Auto-incrementing primary keys (`id()` defaults to the column `id`)."""

PAIRS = {
    "timestamps": ("created_at", "updated_at", "timestamp"),
    "nullableTimestamps": ("created_at", "updated_at", "timestamp"),
    "timestampsTz": ("created_at", "updated_at", "timestamptz"),
    "datetimes": ("created_at", "updated_at", "timestamp"),
}
"""Methods adding two nullable timestamp columns."""

_INDEX_COMMANDS: dict[str, str] = {
    "index": "index",
    "fullText": "fulltext",
    "fulltext": "fulltext",
    "spatialIndex": "spatialindex",
    "rawIndex": "index",
}
_CONSTRAINT_COMMANDS: dict[str, ConstraintKind] = {"unique": "unique", "primary": "primary_key"}
_DROP_INDEX = {
    "dropIndex": "index",
    "dropFullText": "fulltext",
    "dropSpatialIndex": "spatialindex",
}
_DROP_CONSTRAINT: dict[str, tuple[str, ConstraintKind]] = {
    "dropUnique": ("unique", "unique"),
    "dropPrimary": ("primary", "primary_key"),
    "dropForeign": ("foreign", "foreign_key"),
}
_PLURAL_ES = re.compile(r"(s|x|z|ch|sh)$")


def index_name(table: str, columns: list[str], kind: str) -> str:
    """`Blueprint::createIndexName`: `users_email_index`, `posts_user_id_foreign`."""
    name = f"{table}_{'_'.join(columns)}_{kind}".lower()
    return name.replace("-", "_").replace(".", "_")


def plural(word: str) -> str:
    """Laravel's `Str::plural` for the usual table names (`user` → `users`, `category` →
    `categories`)."""
    if word.endswith("y") and len(word) > 1 and word[-2] not in "aeiou":
        return word[:-1] + "ies"
    if _PLURAL_ES.search(word):
        return word + "es"
    return word + "s"


def _snake(name: str) -> str:
    return re.sub(r"(?<=[a-z0-9])([A-Z])", r"_\1", name).lower()


# --------------------------------------------------------------------------- reading


@dataclass(slots=True)
class TableScope:
    """One `Schema::create` / `Schema::table` closure being read."""

    source: TreeSource
    table: str
    table_span: Span | None
    step: Step
    in_transaction: bool
    dialect: str | None
    create: CreateTable | None = None
    ops: list[Operation] = field(default_factory=list)
    after: list[Operation] = field(default_factory=list)
    """Index and constraint commands of a new table: they run after CREATE TABLE."""
    changes: list[tuple[AlterColumn, Column]] = field(default_factory=list)
    """`->change()` operations with the whole column definition they restate."""

    def span(self, node: Node) -> Span:
        return self.source.span(node)

    def add(self, op: Operation, keyword: Node) -> None:
        op.step = self.step
        op.in_transaction = self.in_transaction
        op.origin = f"$table->{self.source.node_text(keyword)}"
        op.spans.setdefault("keyword", self.span(keyword))
        if self.table_span is not None:
            op.spans.setdefault("table", self.table_span)
        (self.after if self.create is not None else self.ops).append(op)


def read_blueprint(scope: TableScope, chain: Chain) -> None:
    """One `$table->...` chain of the closure."""
    first = chain.links[0]
    method = first.name
    if method in COLUMN_TYPES or method in SERIALS:
        _column(scope, chain)
    elif method in PAIRS:
        _pair(scope, chain)
    elif method in ("softDeletes", "softDeletesTz", "softDeletesDatetime"):
        name = text_of(scope.source, first.arg(0, "column")) or "deleted_at"
        kind = "timestamptz(0)" if method == "softDeletesTz" else "timestamp(0)"
        _simple_column(scope, chain, Column(name=name, type=kind, nullable=True))
    elif method == "rememberToken":
        column = Column(name="remember_token", type="varchar(100)", nullable=True)
        _simple_column(scope, chain, column)
    elif method in ("morphs", "nullableMorphs", "uuidMorphs", "nullableUuidMorphs"):
        _morphs(scope, chain)
    elif method == "foreignIdFor":
        _column(scope, chain)
    elif method in _INDEX_COMMANDS or method in _CONSTRAINT_COMMANDS:
        _index_command(scope, chain)
    elif method == "foreign":
        _foreign(scope, chain)
    elif method in ("dropColumn", "dropColumns", "dropIfExists"):
        _drop_columns(scope, first)
    elif method in ("dropTimestamps", "dropTimestampsTz"):
        _drop_names(scope, first, ["created_at", "updated_at"])
    elif method in ("dropSoftDeletes", "dropSoftDeletesTz"):
        name = text_of(scope.source, first.arg(0, "column")) or "deleted_at"
        _drop_names(scope, first, [name])
    elif method == "dropRememberToken":
        _drop_names(scope, first, ["remember_token"])
    elif method in ("dropMorphs",):
        name = text_of(scope.source, first.arg(0, "name")) or ""
        _drop_names(scope, first, [f"{name}_type", f"{name}_id"])
    elif method in ("dropForeignId", "dropConstrainedForeignId"):
        _drop_foreign_id(scope, first, method == "dropConstrainedForeignId")
    elif method in _DROP_INDEX or method in _DROP_CONSTRAINT:
        _drop_index(scope, first)
    elif method == "renameColumn":
        _rename_column(scope, first)
    elif method == "renameIndex":
        pass  # ALTER INDEX ... RENAME: no lock worth a rule, nothing the model tracks


def _name_node(link: Link, index: int = 0, name: str = "column") -> Node | None:
    return link.arg(index, name)


def _column(scope: TableScope, chain: Chain) -> None:
    source = scope.source
    first = chain.links[0]
    method = first.name
    name_node = _name_node(first)
    if method in SERIALS:
        name = text_of(source, name_node) or ("id" if method == "id" else "")
        sql = SERIALS[method]
        column = Column(name=name, type=sql, primary_key=True, nullable=False, serial=True)
        if scope.dialect == "mysql":
            column.type = {"bigserial": "bigint unsigned"}.get(sql, "integer unsigned")
            column.serial, column.identity = False, True
    elif method == "foreignIdFor":
        name = text_of(source, first.arg(1, "column")) or _model_column(source, name_node)
        column = Column(name=name, type="bigint", nullable=False)
    else:
        name = text_of(source, name_node) or ""
        column = Column(name=name, type=COLUMN_TYPES[method](first, scope), nullable=False)
        auto = literal(source, first.arg(1, "autoIncrement"))
        if method.endswith("Integer") and auto is True:
            column.serial = column.primary_key = True
    if not column.name:
        return
    column.span = scope.span(name_node) if name_node is not None else scope.span(first.name_node)
    _modified(scope, chain, column, method)


def _model_column(source: TreeSource, node: Node | None) -> str:
    """`User::class` → `user_id` (`Model::getForeignKey`)."""
    if node is None or node.type != "class_constant_access_expression":
        return ""
    parts = [c for c in node.named_children if c.type in ("name", "qualified_name")]
    return f"{_snake(class_name(source, parts[0]))}_id" if parts else ""


def _simple_column(scope: TableScope, chain: Chain, column: Column) -> None:
    column.span = scope.span(chain.links[0].name_node)
    _modified(scope, chain, column, chain.links[0].name)


def _pair(scope: TableScope, chain: Chain) -> None:
    first = chain.links[0]
    created, updated, base = PAIRS[first.name]
    precision = literal(scope.source, first.arg(0, "precision"))
    sql = f"{base}({precision if isinstance(precision, int) else 0})"
    for name in (created, updated):
        column = Column(name=name, type=sql, nullable=True, span=scope.span(first.name_node))
        _modified(scope, chain, column, first.name)


def _morphs(scope: TableScope, chain: Chain) -> None:
    first = chain.links[0]
    name = text_of(scope.source, _name_node(first, 0, "name"))
    if not name:
        return
    nullable = first.name.startswith("nullable")
    id_type = "uuid" if "Uuid" in first.name else "bigint"
    span = scope.span(first.name_node)
    columns = [
        Column(name=f"{name}_type", type="varchar(255)", nullable=nullable, span=span),
        Column(name=f"{name}_id", type=id_type, nullable=nullable, span=span),
    ]
    for column in columns:
        _modified(scope, chain, column, first.name)
    index = CreateIndex(
        span=scope.span(chain.node),
        name=index_name(scope.table, [c.name for c in columns], "index"),
        table=scope.table,
        columns=[c.name for c in columns],
    )
    scope.add(index, first.name_node)


def _modified(scope: TableScope, chain: Chain, column: Column, method: str) -> None:
    """Apply the modifiers after the column method, and emit the column (or its change)."""
    source = scope.source
    spans: dict[str, Span] = {"column": column.span or scope.span(chain.links[0].name_node)}
    spans["type_"] = scope.span(chain.links[0].name_node)
    spans["column_def"] = scope.span(chain.node)
    change = False
    explicit_nullable: bool | None = None
    extra: list[tuple[Link, str]] = []
    foreign: Link | None = None
    for link in chain.links[1:]:
        name = link.name
        if name == "nullable":
            value = literal(source, link.arg(0, "value"))
            column.nullable = value is not False
            explicit_nullable = column.nullable
            spans["nullable"] = scope.span(link.name_node)
        elif name in ("default", "useCurrent"):
            column.default = _default(source, link)
            spans["server_default"] = scope.span(link.name_node)
        elif name in ("storedAs", "virtualAs"):
            column.generated_stored = name == "storedAs"
        elif name == "generatedAs":
            column.identity = True
        elif name == "autoIncrement":
            column.serial = True
        elif name == "primary":
            column.primary_key = True
        elif name == "unique":
            column.unique = True
            extra.append((link, "unique"))
        elif name in ("index", "fullText", "spatialIndex"):
            column.index = True
            extra.append((link, "index"))
        elif name in ("constrained", "references"):
            foreign = foreign or link
        elif name == "change":
            change = True
    if foreign is not None:
        column.references = _referenced(scope, chain, column.name)
    column_def = spans["column_def"]
    if change:
        _change(scope, chain, column, explicit_nullable, spans)
        return
    if scope.create is not None:
        scope.create.columns.append(column)
    else:
        add = AddColumn(span=column_def, table=scope.table, column=column, spans=spans)
        scope.add(add, chain.links[0].name_node)
    for link, kind in extra:
        _inline_index(scope, chain, column, link, kind)
    if foreign is not None and scope.create is None:
        fk_name = index_name(scope.table, [column.name], "foreign")
        fk = AddConstraint(
            span=column_def,
            table=scope.table,
            name=fk_name,
            kind="foreign_key",
            references=column.references,
            columns=[column.name],
            spans={"column": spans["column"]},
        )
        scope.add(fk, foreign.name_node)


def _referenced(scope: TableScope, chain: Chain, column: str) -> str | None:
    """The table a `constrained()` / `references()->on()` column points to."""
    constrained = chain.find("constrained")
    if constrained is not None:
        table = text_of(scope.source, constrained.arg(0, "table"))
        if table:
            return table
        base = column[:-3] if column.endswith("_id") else column
        return plural(base) if base else None
    on = chain.find("on")
    return text_of(scope.source, on.arg(0, "table")) if on is not None else None


def _inline_index(scope: TableScope, chain: Chain, column: Column, link: Link, kind: str) -> None:
    """`->unique()` / `->index()` on a column definition: a separate command in Laravel."""
    given = text_of(scope.source, link.arg(0, "indexName"))
    span = scope.span(chain.node)
    spans = {"column": column.span or span}
    if kind == "unique":
        if scope.create is None:
            return  # AddColumn(unique=True) already stands for it
        name = given or index_name(scope.table, [column.name], "unique")
        op: Operation = AddConstraint(
            span=span,
            table=scope.table,
            name=name,
            kind="unique",
            columns=[column.name],
            implicit=True,
            spans=spans,
        )
    else:
        name = given or index_name(scope.table, [column.name], "index")
        op = CreateIndex(span=span, name=name, table=scope.table, columns=[column.name])
        op.spans.update(spans)
    scope.add(op, link.name_node)


def _change(
    scope: TableScope,
    chain: Chain,
    column: Column,
    explicit_nullable: bool | None,
    spans: dict[str, Span],
) -> None:
    """`->change()`: the column is redefined whole (type, nullability, default)."""
    op = AlterColumn(
        span=spans["column_def"],
        table=scope.table,
        column=column.name,
        new_type=column.type,
        nullable=explicit_nullable,
        spans=spans,
    )
    op.restorable = True
    scope.changes.append((op, column))
    keyword = chain.find("change")
    scope.add(op, keyword.name_node if keyword is not None else chain.links[0].name_node)


def _default(source: TreeSource, link: Link) -> Default:
    if link.name == "useCurrent":
        return Default(text="CURRENT_TIMESTAMP")
    node = link.arg(0, "value")
    if node is None:
        return Default(text="NULL")
    raw = _raw_expression(source, node)
    if raw is not None:
        return Default(text=raw, volatile_function=volatile_in(raw))
    value = literal(source, node)
    if isinstance(value, bool):
        return Default(text="true" if value else "false")
    if isinstance(value, str):
        return Default(text="'" + value.replace("'", "''") + "'")
    if value is None:
        return Default(text="NULL")
    if value is UNKNOWN:
        return Default(text=source.node_text(node))
    return Default(text=str(value))


def _raw_expression(source: TreeSource, node: Node) -> str | None:
    """`DB::raw('now()')` or `new Expression('now()')`: the SQL text."""
    argument: Node | None = None
    if node.type == "scoped_call_expression":
        scope = node.child_by_field_name("scope")
        name = node.child_by_field_name("name")
        if scope is None or name is None or class_name(source, scope) != "DB":
            return None
        if source.node_text(name) != "raw":
            return None
        argument = _first_argument(node)
    elif node.type == "object_creation_expression":
        names = [c for c in node.named_children if c.type in ("name", "qualified_name")]
        if not names or class_name(source, names[0]) != "Expression":
            return None
        argument = _first_argument(node)
    if argument is None:
        return None
    found = string_value(source, argument)
    return found.value if found is not None else None


def _first_argument(node: Node) -> Node | None:
    arguments = next((c for c in node.named_children if c.type == "arguments"), None)
    if arguments is None:
        return None
    for argument in arguments.named_children:
        if argument.type == "argument" and argument.named_children:
            return argument.named_children[-1]
    return None


def volatile_in(sql: str) -> str | None:
    lowered = sql.lower()
    for function in VOLATILE_FUNCTIONS:
        at = lowered.find(function)
        if at != -1 and lowered[at + len(function) :].lstrip().startswith("("):
            return function
    return None


# --------------------------------------------------------------------------- commands


def _index_command(scope: TableScope, chain: Chain) -> None:
    """`$table->index('email')`, `->unique([...], 'name')`, `->primary('id')`."""
    source = scope.source
    first = chain.links[0]
    method = first.name
    columns_node = first.arg(0, "columns")
    if method == "rawIndex":
        columns = []
        expression = text_of(source, columns_node)
        columns = [expression] if expression else []
    else:
        columns = names_of(source, columns_node) or []
    name_node = first.arg(1, "name" if method != "rawIndex" else "index")
    given = text_of(source, name_node)
    spans: dict[str, Span] = {}
    if columns_node is not None:
        spans["column"] = scope.span(columns_node)
    if name_node is not None:
        spans["name"] = scope.span(name_node)
    span = scope.span(chain.node)
    if method in _CONSTRAINT_COMMANDS:
        kind = _CONSTRAINT_COMMANDS[method]
        suffix = "unique" if kind == "unique" else "pkey"
        default = index_name(scope.table, columns, suffix) if kind == "unique" else None
        if kind == "primary_key":
            default = f"{scope.table}_pkey"
        op: Operation = AddConstraint(
            span=span,
            table=scope.table,
            name=given or default,
            kind=kind,
            columns=columns,
            spans=spans,
        )
        if kind == "primary_key" and scope.create is not None:
            for column in scope.create.columns:
                if column.name in columns:
                    column.primary_key = True
    else:
        name = given or index_name(scope.table, columns, _INDEX_COMMANDS[method])
        op = CreateIndex(span=span, name=name, table=scope.table, columns=columns, spans=spans)
        if method == "rawIndex" and not given:
            op.name = None
    scope.add(op, first.name_node)


def _foreign(scope: TableScope, chain: Chain) -> None:
    """`$table->foreign('user_id')->references('id')->on('users')`."""
    source = scope.source
    first = chain.links[0]
    columns_node = first.arg(0, "columns")
    columns = names_of(source, columns_node) or []
    name_node = first.arg(1, "name")
    spans: dict[str, Span] = {}
    if columns_node is not None:
        spans["column"] = scope.span(columns_node)
    if name_node is not None:
        spans["name"] = scope.span(name_node)
    on = chain.find("on")
    references = text_of(source, on.arg(0, "table")) if on is not None else None
    if references is None and chain.find("constrained") is not None and columns:
        references = _referenced(scope, chain, columns[0])
    op = AddConstraint(
        span=scope.span(chain.node),
        table=scope.table,
        name=text_of(source, name_node) or index_name(scope.table, columns, "foreign"),
        kind="foreign_key",
        references=references,
        columns=columns,
        spans=spans,
    )
    scope.add(op, first.name_node)


def _drop_columns(scope: TableScope, link: Link) -> None:
    """`dropColumn('a')`, `dropColumn(['a', 'b'])`, `dropColumn('a', 'b')`."""
    source = scope.source
    span = scope.span(link.call)
    for node in link.args or list(link.named.values()):
        items = [node]
        if node.type == "array_creation_expression":
            items = [e.named_children[0] for e in node.named_children if e.named_children]
        for item in items:
            name = text_of(source, item)
            spans = {"column": scope.span(item)} if name else {}
            op = DropColumn(span=span, table=scope.table, column=name or "", spans=spans)
            scope.add(op, link.name_node)


def _drop_names(scope: TableScope, link: Link, names: list[str]) -> None:
    for name in names:
        op = DropColumn(span=scope.span(link.call), table=scope.table, column=name)
        scope.add(op, link.name_node)


def _drop_foreign_id(scope: TableScope, link: Link, constrained: bool) -> None:
    column = text_of(scope.source, link.arg(0, "column"))
    if not column:
        return
    span = scope.span(link.call)
    if constrained:
        name = index_name(scope.table, [column], "foreign")
        scope.add(
            DropConstraint(span=span, table=scope.table, name=name, kind="foreign_key"),
            link.name_node,
        )
    scope.add(DropColumn(span=span, table=scope.table, column=column), link.name_node)


def _drop_index(scope: TableScope, link: Link) -> None:
    """`dropIndex('name')` or `dropIndex(['col'])` (the name Laravel would have made)."""
    source = scope.source
    method = link.name
    node = link.arg(0, "index")
    value = literal(source, node)
    suffix = _DROP_INDEX.get(method) or _DROP_CONSTRAINT[method][0]
    if isinstance(value, str):
        name: str | None = value
    elif isinstance(value, list) and all(isinstance(v, str) for v in value):
        name = index_name(scope.table, [str(v) for v in value], suffix)
    elif method == "dropPrimary" and node is None:
        name = f"{scope.table}_pkey"
    else:
        name = None
    spans = {"name": scope.span(node)} if node is not None else {}
    span = scope.span(link.call)
    if method in _DROP_INDEX:
        op: Operation = DropIndex(span=span, name=name, table=scope.table, spans=spans)
    else:
        kind = _DROP_CONSTRAINT[method][1]
        op = DropConstraint(span=span, table=scope.table, name=name, kind=kind, spans=spans)
    scope.add(op, link.name_node)


def _rename_column(scope: TableScope, link: Link) -> None:
    source = scope.source
    old_node, new_node = link.arg(0, "from"), link.arg(1, "to")
    old, new = text_of(source, old_node), text_of(source, new_node)
    if not old or not new:
        return
    spans = {"column": scope.span(old_node)} if old_node is not None else {}
    if new_node is not None:
        spans["new_name"] = scope.span(new_node)
    op = RenameColumn(
        span=scope.span(link.call), table=scope.table, column=old, new_name=new, spans=spans
    )
    scope.add(op, link.name_node)
