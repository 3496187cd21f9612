"""TypeORM migrations → `Migration`: the class `migration:generate` / `migration:create` write
in TypeScript, the JavaScript of `migration:generate -o`, and what `tsc` compiles them to
(fields moved into the constructor, `__awaiter` generators for old targets).

The migration is the class implementing `MigrationInterface` (or, in JavaScript, the class with
an `up` method). Its `up`/`down` methods are read for `queryRunner.query(sql)` (SQL checked as
SQL, with every finding on the exact characters inside the string; `${}` substitutions of
constants are read as their value, others make the SQL formatted) and for the QueryRunner
schema API (`createTable(new Table(...))`, `addColumn(t, new TableColumn(...))`,
`createIndex(t, new TableIndex(...))`, `createForeignKey`, ...). Nothing is evaluated: values
are read from literals, local and module `const`s and class fields (`this.tableName`).

Transactions (TypeORM 0.3): `migration:run` runs all pending migrations in one transaction
(`migrationsTransactionMode: "all"`, the default), one per migration (`"each"`), or none
(`"none"`); from 0.3.11 a migration may set `transaction = false` (or `true`), which TypeORM
honours in "each" and "none" mode and rejects in "all" mode (ForbiddenTransactionModeOverride
Error). A migration that sets it is read as its author's intent. `migration:revert` runs `down`
in a transaction unless the mode is "none", whatever the migration says.
"""

from __future__ import annotations

import json
import os
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
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
    DropSchema,
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
from migration_lsp.parse.host_strings import HostString, unescape
from migration_lsp.parse.javascript import (
    UNKNOWN,
    JsSource,
    calls,
    chain,
    function_body,
    function_span,
    is_empty_function,
    literal,
    object_pairs,
    params,
    property_name,
    string_value,
    unwrap,
)
from migration_lsp.parse.pystrings import PLACEHOLDER
from migration_lsp.parse.sql import VOLATILE_FUNCTIONS
from migration_lsp.parse.treesitter import named_children, walk
from migration_lsp.text import Span

TRANSACTION_MODES = ("all", "each", "none")
CLASS_TYPES = frozenset({"class_declaration", "class", "abstract_class_declaration"})
FIELD_TYPES = frozenset({"public_field_definition", "field_definition"})
_QUERY_HOLDERS = frozenset({"manager", "connection"})
_MANAGER_DML: dict[str, DataKind] = {
    "update": "update",
    "delete": "delete",
    "softDelete": "update",
    "restore": "update",
    "increment": "update",
    "decrement": "update",
    "insert": "insert",
    "save": "insert",
    "upsert": "insert",
    "remove": "delete",
}
_CONSTRAINT_API: dict[str, ConstraintKind] = {
    "createForeignKey": "foreign_key",
    "createForeignKeys": "foreign_key",
    "createCheckConstraint": "check",
    "createCheckConstraints": "check",
    "createUniqueConstraint": "unique",
    "createUniqueConstraints": "unique",
    "createExclusionConstraint": "exclude",
    "createExclusionConstraints": "exclude",
}
_DROP_CONSTRAINT_API: dict[str, ConstraintKind] = {
    "dropForeignKey": "foreign_key",
    "dropForeignKeys": "foreign_key",
    "dropCheckConstraint": "check",
    "dropCheckConstraints": "check",
    "dropUniqueConstraint": "unique",
    "dropUniqueConstraints": "unique",
    "dropExclusionConstraint": "exclude",
    "dropExclusionConstraints": "exclude",
    "dropPrimaryKey": "primary_key",
}


# --------------------------------------------------------------------------- the class


@dataclass(slots=True)
class MigrationClass:
    """The migration class of a file, as the parser and the fixes need it."""

    node: Node
    body: Node
    """The `class_body`."""
    methods: dict[str, Node] = field(default_factory=dict)
    """`up` / `down` → the function node (method, or arrow function of a field)."""
    method_nodes: dict[str, Node] = field(default_factory=dict)
    """`up` / `down` → the class member holding it (where to insert next to it)."""
    fields: dict[str, Node] = field(default_factory=dict)
    """Instance field name → value node (class fields, `this.x = ...` in the constructor)."""
    field_nodes: dict[str, Node] = field(default_factory=dict)
    """Instance field name → the field definition or constructor assignment statement."""
    constructor: Node | None = None

    def transaction(self, source: JsSource) -> bool | None:
        """The `transaction` property: True/False when the class sets it literally."""
        value = self.fields.get("transaction")
        found = literal(source, value) if value is not None else None
        return found if isinstance(found, bool) else None


def find_class(source: JsSource) -> MigrationClass | None:
    """The class implementing `MigrationInterface`, else the first class with an `up` method."""
    fallback: MigrationClass | None = None
    for node in walk(source.root):
        if node.type not in CLASS_TYPES:
            continue
        body = node.child_by_field_name("body")
        if body is None:
            continue
        found = _read_class(source, node, body)
        if _implements_migration(node):
            return found
        if fallback is None and "up" in found.methods:
            fallback = found
    return fallback


def _implements_migration(node: Node) -> bool:
    for child in node.children:
        if child.type == "class_heritage":
            return any(
                n.type in ("type_identifier", "identifier", "nested_type_identifier")
                and (n.text or b"").decode().rpartition(".")[2] == "MigrationInterface"
                for n in walk(child)
            )
    return False


def _read_class(source: JsSource, node: Node, body: Node) -> MigrationClass:
    found = MigrationClass(node=node, body=body)
    for member in named_children(body):
        if member.type == "method_definition":
            name = property_name(member.child_by_field_name("name"))
            if _is_static(member):
                continue
            if name in ("up", "down"):
                found.methods.setdefault(name, member)
                found.method_nodes.setdefault(name, member)
            elif name == "constructor":
                found.constructor = member
        elif member.type in FIELD_TYPES and not _is_static(member):
            key = member.child_by_field_name("name") or member.child_by_field_name("property")
            name = property_name(key)
            value = member.child_by_field_name("value")
            if name is None or value is None:
                continue
            inner = unwrap(value)
            if name in ("up", "down") and inner.type in ("arrow_function", "function_expression"):
                found.methods.setdefault(name, inner)
                found.method_nodes.setdefault(name, member)
            else:
                found.fields.setdefault(name, value)
                found.field_nodes.setdefault(name, member)
    if found.constructor is not None:
        _constructor_fields(found, found.constructor)
    return found


def _is_static(member: Node) -> bool:
    return any(child.type == "static" for child in member.children)


def _constructor_fields(found: MigrationClass, constructor: Node) -> None:
    """`this.name = '...'; this.transaction = false;`: how `tsc` writes class fields for
    targets without `useDefineForClassFields`."""
    body = function_body(constructor)
    if body is None:
        return
    for statement in named_children(body):
        if statement.type != "expression_statement":
            continue
        inner = named_children(statement)
        if not inner or inner[0].type != "assignment_expression":
            continue
        left = inner[0].child_by_field_name("left")
        right = inner[0].child_by_field_name("right")
        if left is None or right is None:
            continue
        links = chain(left)
        if len(links) == 2 and links[0].name == "this" and not links[1].is_call:
            found.fields.setdefault(links[1].name, right)
            found.field_nodes.setdefault(links[1].name, statement)


# --------------------------------------------------------------------------- transactions


def transaction_mode(settings: dict[str, Any] | None) -> str | None:
    """`migrationsTransactionMode` as the project states it (settings, else the data source
    file); None when it does not (TypeORM then uses "all", unless `migration:run -t` says
    otherwise)."""
    settings = settings or {}
    stated = settings.get("migrationsTransactionMode")
    if isinstance(stated, str) and stated in TRANSACTION_MODES:
        return stated
    data_source = settings.get("data_source")
    if isinstance(data_source, str):
        return _data_source_mode(data_source)
    return None


_cache: dict[str, tuple[tuple[int, int], str | None]] = {}
_cache_lock = threading.Lock()


def _data_source_mode(path: str) -> str | None:
    """The mode the data source (or ormconfig) file states, cached by modification time."""
    try:
        stat = os.stat(path)
    except OSError:
        return None
    key = (stat.st_mtime_ns, stat.st_size)
    with _cache_lock:
        cached = _cache.get(path)
    if cached is not None and cached[0] == key:
        return cached[1]
    try:
        with open(path, encoding="utf-8", errors="replace") as handle:
            text = handle.read(512_000)
    except OSError:
        return None
    mode = _mode_in(path, text)
    with _cache_lock:
        _cache[path] = (key, mode)
    return mode


def _mode_in(path: str, text: str) -> str | None:
    lowered = path.lower()
    if lowered.endswith(".json"):
        try:
            data = json.loads(text)
        except ValueError:
            return None
        entries = data if isinstance(data, list) else [data]
        for entry in entries:
            if isinstance(entry, dict) and entry.get("migrationsTransactionMode") in (
                TRANSACTION_MODES
            ):
                return str(entry["migrationsTransactionMode"])
        return None
    if lowered.endswith(".env"):
        for line in text.splitlines():
            key, _, value = line.partition("=")
            if key.strip() == "TYPEORM_MIGRATIONS_TRANSACTION_MODE":
                value = value.strip().strip("'\"")
                return value if value in TRANSACTION_MODES else None
        return None
    if "migrationsTransactionMode" not in text:
        return None
    source = JsSource(text, path)
    for node in walk(source.root):
        if node.type == "pair" and property_name(node.child_by_field_name("key")) == (
            "migrationsTransactionMode"
        ):
            value = literal(source, node.child_by_field_name("value"))
            if isinstance(value, str) and value in TRANSACTION_MODES:
                return value
    return None


MODE_NOTE = "typeorm migrationsTransactionMode: "


def stated_mode(migration: Migration) -> str | None:
    """The transaction mode the parser found for the project (None: not stated)."""
    for note in migration.notes:
        if note.startswith(MODE_NOTE):
            mode = note[len(MODE_NOTE) :]
            return mode if mode in TRANSACTION_MODES else None
    return None


def up_in_transaction(mode: str | None, declared: bool | None) -> bool:
    """Whether `up` runs inside a transaction, for the run mode and the class's `transaction`."""
    if declared is not None:
        return declared  # honoured in "each"/"none"; "all" rejects the run (author's intent)
    return mode != "none"


# --------------------------------------------------------------------------- entry point


def parse_typeorm(
    path: str, text: str, dialect: str | None, settings: dict[str, Any] | None = None
) -> Migration:
    source = JsSource(text, path)
    mode = transaction_mode(settings)
    migration = Migration(
        path=path,
        text=text,
        tool="typeorm",
        dialect=dialect,
        language=source.language,
        supports_down=True,
        transactional=mode != "none",
    )
    if mode is not None:
        migration.notes.append(MODE_NOTE + mode)
    migration.problems.extend(source.problems())
    if migration.problems:
        return migration
    found = find_class(source)
    if found is None:
        return migration
    scope = Scope(source, found)
    declared = found.transaction(source)
    for step, name in ((Step.UP, "up"), (Step.DOWN, "down")):
        method = found.methods.get(name)
        if method is None:
            continue
        body = StepBody(
            span=_name_span(source, found.method_nodes[name], method),
            body=function_span(source, method),
            empty=is_empty_method(source, method),
            raises=_raises(method),
        )
        if step is Step.UP:
            migration.up = body
            in_tx = up_in_transaction(mode, declared)
        else:
            migration.down = body
            in_tx = mode != "none"
        _StepReader(source, migration, scope, step, in_tx, method).read()
    return migration


def _name_span(source: JsSource, member: Node, method: Node) -> Span:
    for holder in (member, method):
        for part in ("name", "property"):
            name = holder.child_by_field_name(part)
            if name is not None:
                return source.span(name)
    return source.span(member)


def awaiter_body(function: Node) -> Node | None:
    """The generator body inside `return __awaiter(this, void 0, void 0, function* () {...})`
    (`tsc` output for targets before ES2017), or None."""
    body = function_body(function)
    if body is None or body.type != "statement_block":
        return None
    statements = named_children(body)
    if len(statements) != 1 or statements[0].type != "return_statement":
        return None
    inner = named_children(statements[0])
    if not inner or inner[0].type != "call_expression":
        return None
    links = chain(inner[0])
    if len(links) != 1 or links[0].name != "__awaiter" or not links[0].args:
        return None
    generator = links[0].args[-1]
    return generator if generator.type in ("generator_function", "function_expression") else None


def step_function(function: Node) -> Node:
    """The function whose body holds the step's statements (through `__awaiter`)."""
    return awaiter_body(function) or function


def is_empty_method(source: JsSource, function: Node) -> bool:
    return is_empty_function(source, step_function(function))


def _raises(function: Node) -> bool:
    """`throw ...` at the top of the step: the author says it cannot be undone."""
    body = function_body(step_function(function))
    if body is None or body.type != "statement_block":
        return False
    return any(statement.type == "throw_statement" for statement in named_children(body))


# --------------------------------------------------------------------------- values


class Scope:
    """Resolves identifiers to what they were assigned: `const`s of the module and of the
    step, class fields read through `this.x`."""

    def __init__(self, source: JsSource, found: MigrationClass) -> None:
        self.source = source
        self.found = found
        self.module = _declarations(source.root, top_level=True)
        self.local: dict[str, Node] = {}

    def enter(self, function: Node) -> None:
        body = function_body(step_function(function))
        self.local = _declarations(body, top_level=False) if body is not None else {}

    def resolve(self, node: Node | None) -> Node | None:
        if node is None:
            return None
        current = unwrap(node)
        for _ in range(6):
            target = self._target(current)
            if target is None:
                break
            current = unwrap(target)
        return current

    def _target(self, node: Node) -> Node | None:
        if node.type == "identifier":
            name = (node.text or b"").decode()
            return self.local.get(name) or self.module.get(name)
        if node.type == "member_expression":
            obj = node.child_by_field_name("object")
            prop = node.child_by_field_name("property")
            if obj is not None and obj.type == "this" and prop is not None:
                return self.found.fields.get(property_name(prop) or "")
        return None

    def value(self, node: Node | None) -> Any:
        resolved = self.resolve(node)
        return literal(self.source, resolved) if resolved is not None else UNKNOWN

    def string(self, node: Node | None) -> str | None:
        found = self.value(node)
        return found if isinstance(found, str) else None

    def options(self, node: Node | None) -> dict[str, Node]:
        """The options object of `new TableColumn({...})` (or a plain object literal)."""
        resolved = self.resolve(node)
        if resolved is None:
            return {}
        if resolved.type == "new_expression":
            arguments = resolved.child_by_field_name("arguments")
            args = named_children(arguments) if arguments is not None else []
            resolved = self.resolve(args[0]) if args else None
            if resolved is None:
                return {}
        return object_pairs(resolved) if resolved.type == "object" else {}

    def strings(self, node: Node | None) -> list[str]:
        resolved = self.resolve(node)
        if resolved is None or resolved.type != "array":
            return []
        return [s for item in named_children(resolved) if (s := self.string(item)) is not None]

    def sql(self, node: Node) -> HostString | None:
        """The SQL text of a string, template or concatenation, with document positions.
        `${}` of a constant reads as the constant; anything else is a placeholder."""
        resolved = self.resolve(node)
        if resolved is None:
            return None
        if resolved.type != "template_string":
            return string_value(self.source, resolved)
        value: list[str] = []
        positions: list[int] = []
        formatted = False
        for child in resolved.children:
            span = self.source.span(child)
            if child.type == "string_fragment":
                value.append(self.source.text[span.start : span.end])
                positions.extend(range(span.start, span.end))
            elif child.type == "escape_sequence":
                decoded = unescape(self.source.text[span.start : span.end])
                value.append(decoded)
                positions.extend([span.start] * len(decoded))
            elif child.type == "template_substitution":
                text, constant = self._substitution(child)
                formatted = formatted or not constant
                value.append(text)
                positions.extend([span.start] * len(text))
        positions.append(self.source.span(resolved).end - 1)
        return HostString("".join(value), positions, formatted)

    def _substitution(self, node: Node) -> tuple[str, bool]:
        inner = named_children(node)
        if not inner:
            return PLACEHOLDER, False
        found = self.value(inner[0])
        if isinstance(found, str | int | float) and not isinstance(found, bool):
            return str(found), True
        expression = unwrap(inner[0])
        if expression.type == "identifier":
            return (expression.text or b"").decode(), False
        return PLACEHOLDER, False


def _declarations(node: Node, *, top_level: bool) -> dict[str, Node]:
    """`const name = value` declarations directly in `node` (a program or a block)."""
    found: dict[str, Node] = {}
    for statement in named_children(node):
        target = statement
        if top_level and statement.type == "export_statement":
            declaration = statement.child_by_field_name("declaration")
            if declaration is None:
                continue
            target = declaration
        if target.type != "lexical_declaration" or not target.children:
            continue
        if target.children[0].type != "const":
            continue
        for declarator in named_children(target):
            name = declarator.child_by_field_name("name")
            value = declarator.child_by_field_name("value")
            if name is not None and value is not None and name.type == "identifier":
                found.setdefault((name.text or b"").decode(), value)
    return found


# --------------------------------------------------------------------------- steps


class _StepReader:
    """Collects the operations of one `up`/`down` method."""

    def __init__(
        self,
        source: JsSource,
        migration: Migration,
        scope: Scope,
        step: Step,
        in_tx: bool,
        method: Node,
    ) -> None:
        self.source = source
        self.migration = migration
        self.scope = scope
        self.step = step
        self.in_tx = in_tx
        self.method = method
        names = params(step_function(method)) or params(method)
        self.runner = names[0] if names and names[0] != "_" else "queryRunner"

    def read(self) -> None:
        self.scope.enter(self.method)
        body = function_body(step_function(self.method))
        if body is None:
            return
        for node in calls(body):
            self.call(node)

    def call(self, node: Node) -> None:
        links = chain(node)
        if len(links) < 2 or links[0].name != self.runner or links[0].is_call:
            return
        names = [link.name for link in links[1:]]
        last = links[-1]
        if names in (["commitTransaction"], ["rollbackTransaction"]):
            self.in_tx = False  # the `commitTransaction()` ... `startTransaction()` pattern
            return
        if names == ["startTransaction"]:
            self.in_tx = True
            return
        if last.is_call and last.name == "query" and set(names[:-1]) <= _QUERY_HOLDERS:
            self.query(node, links)
            return
        if len(links) == 2 and last.is_call:
            ops = self.api(node, last.name, last.args)
        elif names[0] in _QUERY_HOLDERS:
            ops = self.manager(node, links[1:])
        else:
            return
        keyword = self.source.span(unwrap(node).child_by_field_name("function") or node)
        for op in ops:
            op.step = self.step
            op.in_transaction = self.in_tx
            op.origin = f"{self.runner}.{'.'.join(names)}"
            op.spans.setdefault("keyword", keyword)
            self.migration.operations.append(op)

    def query(self, node: Node, links: list[Any]) -> None:
        args = links[-1].args
        if not args:
            return
        function = node.child_by_field_name("function")
        sql = self.scope.sql(args[0])
        ops, problems = sql_operations(
            call=self.source.span(node),
            keyword=self.source.span(function if function is not None else node),
            string=self.source.span(args[0]),
            value=sql.value if sql is not None else None,
            positions=sql.positions if sql is not None else None,
            formatted=sql.formatted if sql is not None else False,
            step=self.step,
            in_transaction=self.in_tx,
            transaction="always" if self.in_tx else "multi",
            dialect=self.migration.dialect,
            origin=f"{self.runner}.{'.'.join(link.name for link in links[1:])}",
        )
        self.migration.operations.extend(ops)
        self.migration.problems.extend(problems)

    # ------------------------------------------------------------------ QueryRunner API

    def api(self, node: Node, method: str, args: list[Node]) -> list[Operation]:
        span = self.source.span(node)
        handler = _API.get(method)
        if handler is not None:
            return handler(self, span, args)
        if method in _CONSTRAINT_API:
            return self.constraints(span, args, _CONSTRAINT_API[method], method.endswith("s"))
        if method in _DROP_CONSTRAINT_API:
            return self.drop_constraints(span, args, _DROP_CONSTRAINT_API[method], method)
        return []

    def arg(self, args: list[Node], index: int) -> Node | None:
        return args[index] if index < len(args) else None

    def table(self, node: Node | None) -> tuple[str, dict[str, Span]]:
        """A table argument: a name, or a `Table` (its `name`)."""
        if node is None:
            return "", {}
        spans = {"table": self.source.span(node)}
        name = self.scope.string(node)
        if name is None:
            name = self.scope.string(self.scope.options(node).get("name"))
        return name or "", spans

    def elements(self, node: Node | None) -> list[Node]:
        resolved = self.scope.resolve(node)
        if resolved is None or resolved.type != "array":
            return []
        return named_children(resolved)

    def create_table(self, span: Span, args: list[Node]) -> list[Operation]:
        table_node = self.arg(args, 0)
        options = self.scope.options(table_node)
        name_node = options.get("name")
        table = self.scope.string(name_node) or ""
        spans = {"table": self.source.span(name_node or table_node)} if table_node else {}
        columns = [self.column(c)[0] for c in self.elements(options.get("columns"))]
        ops: list[Operation] = [
            CreateTable(
                span=span,
                table=table,
                columns=columns,
                if_not_exists=self.scope.value(self.arg(args, 1)) is True,
                spans=spans,
            )
        ]
        for index in self.elements(options.get("indices")):
            ops.append(self.index(self.source.span(index), table, index, {}))
        parts: tuple[tuple[ConstraintKind, str], ...] = (
            ("foreign_key", "foreignKeys"),
            ("unique", "uniques"),
            ("check", "checks"),
            ("exclude", "exclusions"),
        )
        for kind, key in parts:
            for item in self.elements(options.get(key)):
                ops.append(self.constraint(self.source.span(item), table, {}, item, kind))
        return ops

    def drop_table(self, span: Span, args: list[Node]) -> list[Operation]:
        table, spans = self.table(self.arg(args, 0))
        return [
            DropTable(
                span=span,
                table=table,
                if_exists=self.scope.value(self.arg(args, 1)) is True,
                spans=spans,
            )
        ]

    def rename_table(self, span: Span, args: list[Node]) -> list[Operation]:
        table, spans = self.table(self.arg(args, 0))
        new_node = self.arg(args, 1)
        if new_node is not None:
            spans["new_name"] = self.source.span(new_node)
        new_name = self.scope.string(new_node) or ""
        return [RenameTable(span=span, table=table, new_name=new_name, spans=spans)]

    def column(self, node: Node) -> tuple[Column, dict[str, Span]]:
        """A `TableColumn` (or its options object) as a model `Column`, with the spans of
        its parts."""
        options = self.scope.options(node)
        value = self.scope.value
        spans: dict[str, Span] = {"column_def": self.source.span(node)}
        name_node = options.get("name")
        spans["column"] = self.source.span(name_node) if name_node else spans["column_def"]
        for part, key in (("nullable", "isNullable"), ("server_default", "default")):
            if key in options:
                spans[part] = self.source.span(options[key])
        if "type" in options:
            spans["type_"] = self.source.span(options["type"])
        strategy = value(options.get("generationStrategy"))
        generated = value(options.get("isGenerated")) is True
        column = Column(
            name=self.scope.string(name_node) or "",
            type=_column_type(self.scope, options),
            nullable=value(options.get("isNullable")) is True,
            default=_default(value(options.get("default"))),
            primary_key=value(options.get("isPrimary")) is True,
            unique=value(options.get("isUnique")) is True,
            identity=generated and strategy == "identity",
            serial=generated and strategy in ("increment", None, UNKNOWN),
            generated_stored=str(value(options.get("generatedType"))).upper() == "STORED",
            span=self.source.span(node),
        )
        if generated and strategy == "uuid" and column.default is None:
            column.default = Default(
                text="uuid_generate_v4()", volatile_function="uuid_generate_v4"
            )
        return column, spans

    def add_columns(self, span: Span, args: list[Node]) -> list[Operation]:
        table, table_spans = self.table(self.arg(args, 0))
        ops: list[Operation] = []
        for node in self.several(self.arg(args, 1)):
            column, spans = self.column(node)
            if not column.name:
                continue
            ops.append(AddColumn(span=span, table=table, column=column, spans=table_spans | spans))
        return ops

    def column_name(self, node: Node | None) -> str:
        """A column argument: a name, or a `TableColumn` (its `name`)."""
        name = self.scope.string(node)
        if name is None:
            name = self.scope.string(self.scope.options(node).get("name"))
        return name or ""

    def drop_columns(self, span: Span, args: list[Node]) -> list[Operation]:
        table, table_spans = self.table(self.arg(args, 0))
        return [
            DropColumn(
                span=span,
                table=table,
                column=self.column_name(node),
                if_exists=self.scope.value(self.arg(args, 2)) is True,
                spans=table_spans | {"column": self.source.span(node)},
            )
            for node in self.several(self.arg(args, 1))
        ]

    def rename_column(self, span: Span, args: list[Node]) -> list[Operation]:
        table, spans = self.table(self.arg(args, 0))
        old, new = self.arg(args, 1), self.arg(args, 2)
        if old is not None:
            spans["column"] = self.source.span(old)
        if new is not None:
            spans["new_name"] = self.source.span(new)
        return [
            RenameColumn(
                span=span,
                table=table,
                column=self.column_name(old),
                new_name=self.column_name(new),
                spans=spans,
            )
        ]

    def change_columns(self, span: Span, args: list[Node]) -> list[Operation]:
        table_node = self.arg(args, 0)
        second = self.arg(args, 1)
        resolved = self.scope.resolve(second)
        if resolved is not None and resolved.type == "array":  # changeColumns(t, [{...}])
            ops: list[Operation] = []
            for item in named_children(resolved):
                pairs = object_pairs(self.scope.resolve(item))
                ops.extend(
                    self.change_column(
                        span, table_node, pairs.get("oldColumn"), pairs.get("newColumn")
                    )
                )
            return ops
        return self.change_column(span, table_node, second, self.arg(args, 2))

    def change_column(
        self, span: Span, table_node: Node | None, old: Node | None, new: Node | None
    ) -> list[Operation]:
        """PostgreSQL and MySQL: TypeORM drops and re-adds the column when the type or length
        changes (every value is lost), else alters it in place (rename, nullability)."""
        if new is None:
            return []
        table, table_spans = self.table(table_node)
        new_column, new_spans = self.column(new)
        old_options = self.scope.options(old)
        old_name = self.column_name(old)
        spans = table_spans | new_spans
        old_name_span = span
        if old is not None:
            spans["old_column"] = self.source.span(old)
            old_name_span = self.source.span(old_options.get("name") or old)
        if old_options and old is not None:
            old_column, _ = self.column(old)
            if old_column.type != new_column.type:
                drop_spans = table_spans | {"column": old_name_span}
                return [
                    DropColumn(span=span, table=table, column=old_name, spans=drop_spans),
                    AddColumn(span=span, table=table, column=new_column, spans=spans),
                ]
        ops: list[Operation] = []
        if old_name and new_column.name and old_name != new_column.name:
            rename = table_spans | {"column": old_name_span}
            rename["new_name"] = new_spans["column"]
            ops.append(
                RenameColumn(
                    span=span, table=table, column=old_name, new_name=new_column.name, spans=rename
                )
            )
        old_nullable = (
            self.scope.value(old_options.get("isNullable")) is True if old_options else None
        )
        nullable: bool | None = new_column.nullable
        if old_nullable is None and "nullable" not in new_spans:
            nullable = None  # NOT NULL only by default, old state unknown: cannot tell
        if old_nullable is not None and old_nullable == new_column.nullable:
            nullable = None
        ops.append(
            AlterColumn(
                span=span,
                table=table,
                column=new_column.name or old_name,
                new_type=new_column.type,
                old_type=None,
                nullable=nullable,
                old_nullable=old_nullable,
                type_change_known=False,
                spans=spans,
            )
        )
        return ops

    def index(self, span: Span, table: str, node: Node, spans: dict[str, Span]) -> CreateIndex:
        options = self.scope.options(node)
        spans = dict(spans)
        name_node = options.get("name")
        if name_node is not None:
            spans["name"] = self.source.span(name_node)
        if "isConcurrent" in options:
            spans["concurrently"] = self.source.span(options["isConcurrent"])
        spans["index_def"] = self.source.span(node)
        return CreateIndex(
            span=span,
            name=self.scope.string(name_node),
            table=table,
            columns=self.scope.strings(options.get("columnNames")),
            unique=self.scope.value(options.get("isUnique")) is True,
            concurrently=self.scope.value(options.get("isConcurrent")) is True,
            spans=spans,
        )

    def create_indices(self, span: Span, args: list[Node]) -> list[Operation]:
        table, spans = self.table(self.arg(args, 0))
        return [self.index(span, table, node, spans) for node in self.several(self.arg(args, 1))]

    def several(self, node: Node | None) -> list[Node]:
        """The elements of an array argument, or the argument itself."""
        resolved = self.scope.resolve(node)
        if resolved is not None and resolved.type == "array":
            return named_children(resolved)
        return [node] if node is not None else []

    def drop_indices(self, span: Span, args: list[Node]) -> list[Operation]:
        table, spans = self.table(self.arg(args, 0))
        ops: list[Operation] = []
        for node in self.several(self.arg(args, 1)):
            options = self.scope.options(node)
            name = self.scope.string(node) or self.scope.string(options.get("name"))
            drop_spans = dict(spans)
            drop_spans["name"] = self.source.span(node)
            if "isConcurrent" in options:
                drop_spans["concurrently"] = self.source.span(options["isConcurrent"])
            ops.append(
                DropIndex(
                    span=span,
                    name=name,
                    table=table or None,
                    concurrently=self.scope.value(options.get("isConcurrent")) is True,
                    spans=drop_spans,
                )
            )
        return ops

    def constraint(
        self, span: Span, table: str, spans: dict[str, Span], node: Node, kind: ConstraintKind
    ) -> AddConstraint:
        options = self.scope.options(node)
        spans = dict(spans)
        name_node = options.get("name")
        if name_node is not None:
            spans["name"] = self.source.span(name_node)
        spans["constraint_def"] = self.source.span(node)
        expression = self.scope.string(options.get("expression"))
        return AddConstraint(
            span=span,
            table=table,
            name=self.scope.string(name_node),
            kind=kind,
            references=self.scope.string(options.get("referencedTableName")),
            columns=self.scope.strings(options.get("columnNames")),
            expression=expression,
            spans=spans,
        )

    def constraints(
        self, span: Span, args: list[Node], kind: ConstraintKind, several: bool
    ) -> list[Operation]:
        table, spans = self.table(self.arg(args, 0))
        nodes = self.several(self.arg(args, 1)) if several else args[1:2]
        return [self.constraint(span, table, spans, node, kind) for node in nodes]

    def primary_key(self, span: Span, args: list[Node]) -> list[Operation]:
        table, spans = self.table(self.arg(args, 0))
        name_node = self.arg(args, 2)
        if name_node is not None:
            spans["name"] = self.source.span(name_node)
        return [
            AddConstraint(
                span=span,
                table=table,
                name=self.scope.string(name_node),
                kind="primary_key",
                columns=self.scope.strings(self.arg(args, 1)),
                spans=spans,
            )
        ]

    def drop_constraints(
        self, span: Span, args: list[Node], kind: ConstraintKind, method: str
    ) -> list[Operation]:
        table, spans = self.table(self.arg(args, 0))
        if method == "dropPrimaryKey":
            name_node = self.arg(args, 1)
            nodes: list[Node | None] = [name_node]
        else:
            nodes = list(self.several(self.arg(args, 1)))
        ops: list[Operation] = []
        for node in nodes:
            drop_spans = dict(spans)
            if node is not None:
                drop_spans["name"] = self.source.span(node)
            name = self.scope.string(node) or self.scope.string(
                self.scope.options(node).get("name")
            )
            ops.append(
                DropConstraint(span=span, table=table, name=name, kind=kind, spans=drop_spans)
            )
        return ops

    def clear_table(self, span: Span, args: list[Node]) -> list[Operation]:
        table, spans = self.table(self.arg(args, 0))
        return [Truncate(span=span, tables=[table] if table else [], spans=spans)]

    def drop_schema(self, span: Span, args: list[Node]) -> list[Operation]:
        name = self.scope.string(self.arg(args, 0)) or ""
        return [
            DropSchema(
                span=span,
                keyword="DROP SCHEMA",
                text=self.source.text[span.start : span.end],
                name=name,
                if_exists=self.scope.value(self.arg(args, 1)) is True,
                cascade=self.scope.value(self.arg(args, 2)) is True,
            )
        ]

    # ------------------------------------------------------------------ data (EntityManager)

    def manager(self, node: Node, links: list[Any]) -> list[Operation]:
        """`queryRunner.manager.update(User, {...}, {...})`, query builders ending in
        `.execute()`: rows written by the migration."""
        span = self.source.span(node)
        names = [link.name for link in links]
        if "createQueryBuilder" in names:
            kind = next(
                (_MANAGER_DML[n] for n in names if n in ("update", "delete", "insert")), None
            )
            if kind is None:
                return []
            has_where = any(n in ("where", "andWhere", "orWhere", "whereInIds") for n in names)
            return [
                DataChange(
                    span=span,
                    kind=kind,
                    table=self._entity(links, ("update", "from", "into")),
                    has_where=has_where,
                    unbounded=not has_where and kind != "insert",
                )
            ]
        method = links[-1]
        if not method.is_call:
            return []
        if method.name == "clear":
            table = self._entity(links, ("clear",))
            return [Truncate(span=span, tables=[table] if table else [])]
        kind = _MANAGER_DML.get(method.name)
        if kind is None:
            return []
        criteria = self.scope.resolve(method.args[1]) if len(method.args) > 1 else None
        unbounded = kind in ("update", "delete") and (
            criteria is not None and criteria.type == "object" and not object_pairs(criteria)
        )
        return [
            DataChange(
                span=span,
                kind=kind,
                table=self._entity(links, (method.name,)),
                has_where=kind in ("update", "delete") and not unbounded,
                unbounded=unbounded,
            )
        ]

    def _entity(self, links: list[Any], methods: tuple[str, ...]) -> str | None:
        """The table a data change names: the first argument of `update("users")`,
        `getRepository("users")`, when it is a string."""
        for link in links:
            if link.is_call and link.args and link.name in (*methods, "getRepository"):
                name = self.scope.string(link.args[0])
                if name:
                    return name
        return None


_API = {
    "createTable": _StepReader.create_table,
    "dropTable": _StepReader.drop_table,
    "renameTable": _StepReader.rename_table,
    "addColumn": _StepReader.add_columns,
    "addColumns": _StepReader.add_columns,
    "dropColumn": _StepReader.drop_columns,
    "dropColumns": _StepReader.drop_columns,
    "renameColumn": _StepReader.rename_column,
    "changeColumn": _StepReader.change_columns,
    "changeColumns": _StepReader.change_columns,
    "createIndex": _StepReader.create_indices,
    "createIndices": _StepReader.create_indices,
    "dropIndex": _StepReader.drop_indices,
    "dropIndices": _StepReader.drop_indices,
    "createPrimaryKey": _StepReader.primary_key,
    "clearTable": _StepReader.clear_table,
    "dropSchema": _StepReader.drop_schema,
}


def _column_type(scope: Scope, options: dict[str, Node]) -> str | None:
    """`{ type: "varchar", length: "20" }` → `varchar(20)`; `isArray` → `type[]`."""
    base = scope.string(options.get("type"))
    if not base:
        return None
    result = base.strip().lower()
    length = scope.value(options.get("length"))
    precision = scope.value(options.get("precision"))
    scale = scope.value(options.get("scale"))
    if isinstance(length, int | str) and not isinstance(length, bool) and str(length).strip():
        result = f"{result}({str(length).strip()})"
    elif isinstance(precision, int) and not isinstance(precision, bool):
        result += f"({precision},{scale})" if isinstance(scale, int) else f"({precision})"
    if scope.value(options.get("isArray")) is True:
        result += "[]"
    return result


def _default(value: Any) -> Default | None:
    """TypeORM writes a `TableColumn` default into the SQL as it is: `"now()"`, `"'draft'"`."""
    if value is None or value is UNKNOWN:
        return None
    text = str(value).lower() if isinstance(value, bool) else str(value)
    return Default(text=text, volatile_function=volatile_call(text))


def volatile_call(sql: str) -> str | None:
    """The volatile function an SQL expression calls (`gen_random_uuid()`), if any."""
    lowered = sql.lower()
    for function in sorted(VOLATILE_FUNCTIONS):
        at = lowered.find(function)
        while at != -1:
            before = lowered[at - 1] if at else " "
            if not (before.isalnum() or before in "_.") and lowered[
                at + len(function) :
            ].lstrip().startswith("("):
                return function
            at = lowered.find(function, at + 1)
    return None


def runner_calls(source: JsSource, function: Node) -> Iterator[Node]:
    """The call chains of a step method (through `__awaiter`), for the fixes."""
    body = function_body(step_function(function))
    if body is not None:
        yield from calls(body)
