"""Laravel migrations (`database/migrations/<date>_<name>.php`) → `Migration`.

Reads the migration class (`return new class extends Migration { ... }` as `make:migration`
writes it today, or an older named class) with tree-sitter, never running PHP. Knows `up()` /
`down()`, the `Schema` facade (`create`, `table`, `drop`, `dropIfExists`, `rename`,
`connection(...)`), the `Blueprint` calls of their closures (`laravel_blueprint`), SQL handed to
`DB::statement` / `DB::unprepared` (linted as SQL, on the characters inside the PHP string) and
query-builder writes (`DB::table('users')->where(...)->update([...])`).

Transactions: Laravel runs each migration inside a transaction when the connection's schema
grammar supports it (PostgreSQL, SQLite, SQL Server; not MySQL) unless the class says
`public $withinTransaction = false;`. Statements sent through another connection
(`Schema::connection('other')`) are not part of that transaction.

A `->change()` restates the whole column. What it changes is known from the previous
definition: the same column restated in `down()` (the usual way to undo a change), else its
last definition in the earlier migrations of the same folder.
"""

from __future__ import annotations

import os
import threading
from typing import Any

from tree_sitter import Node

from migration_lsp.model import (
    AddColumn,
    AlterColumn,
    Column,
    CreateTable,
    DataChange,
    DataKind,
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
from migration_lsp.parse.laravel_blueprint import TableScope, read_blueprint
from migration_lsp.parse.laravel_php import (
    CALLS,
    Chain,
    Link,
    chain_of,
    class_name,
    ends_chain,
    is_outermost,
    literal,
    php_kinds,
    string_value,
    text_of,
    variable,
)
from migration_lsp.parse.sql import TransactionMode
from migration_lsp.parse.treesitter import TreeSource, named_children, visit_named
from migration_lsp.text import Span

TRANSACTIONAL_DIALECTS = frozenset({"postgresql", "sqlite", "mssql"})
"""Schema grammars with `$transactions = true`: migrations run in a transaction there."""
_SQL_METHODS = frozenset(
    {"statement", "unprepared", "update", "delete", "insert", "select", "affectingStatement"}
)
_WRITES: dict[str, DataKind] = {
    "update": "update",
    "delete": "delete",
    "insert": "insert",
    "insertOrIgnore": "insert",
    "insertUsing": "insert",
    "insertGetId": "insert",
    "upsert": "insert",
    "updateOrInsert": "update",
    "increment": "update",
    "decrement": "update",
    "incrementEach": "update",
    "decrementEach": "update",
}
_BOUNDED = ("limit", "take", "forPage", "find")
_CLOSURES = frozenset({"anonymous_function", "arrow_function"})
_NO_CLASSES = frozenset(
    {"function_definition", "method_declaration", "namespace_use_declaration", "comment"}
)
"""Nodes `_migration_class` does not look into (`use` clauses cannot declare a class)."""


def parse_laravel(
    path: str, text: str, dialect: str | None, settings: dict[str, Any] | None = None
) -> Migration:
    return _parse(path, text, dialect, settings or {}, history=True)[0]


def _parse(
    path: str, text: str, dialect: str | None, settings: dict[str, Any], *, history: bool
) -> tuple[Migration, list[tuple[AlterColumn, Column]]]:
    migration = Migration(
        path=path,
        text=text,
        tool="laravel",
        dialect=dialect,
        language="php",
        supports_down=True,
    )
    source = TreeSource(text, "php")
    problems = source.problems()
    if problems:
        migration.problems.extend(problems)
        return migration, []
    body = _migration_class(source)
    if body is None:
        return migration, []
    properties = _properties(source, body)
    within = properties.get("withinTransaction") is not False
    migration.transactional = within and (dialect or "postgresql") in TRANSACTIONAL_DIALECTS
    if not within:
        migration.notes.append("withinTransaction = false")
    own = properties.get("connection")
    connection = own if isinstance(own, str) else settings.get("connection")
    changes: list[tuple[AlterColumn, Column]] = []
    for method in named_children(body):
        if method.type != "method_declaration":
            continue
        name_node = method.child_by_field_name("name")
        block = method.child_by_field_name("body")
        name = source.node_text(name_node) if name_node is not None else ""
        if name not in ("up", "down") or name_node is None or block is None:
            continue
        step = Step.UP if name == "up" else Step.DOWN
        step_body = StepBody(
            span=source.span(name_node),
            body=source.span(block),
            empty=not named_children(block),
            raises=_throws(block),
        )
        if step is Step.UP and migration.up is None:
            migration.up = step_body
        elif step is Step.DOWN and migration.down is None:
            migration.down = step_body
        else:
            continue
        reader = _Reader(source, migration, step, migration.transactional, connection)
        reader.visit(block, None)
        changes.extend(reader.changes)
    _complete_changes(path, migration, changes, settings, history)
    return migration, changes


def _migration_class(source: TreeSource) -> Node | None:
    """The declaration list of the migration class: the anonymous class returned by the file,
    else the first class declaring `up` or `down`."""
    fallback: Node | None = None
    stack = [source.root]
    while stack:
        node = stack.pop()
        if node.type in ("anonymous_class", "class_declaration"):
            body = node.child_by_field_name("body") or next(
                (c for c in node.named_children if c.type == "declaration_list"), None
            )
            if body is not None and _declares_steps(source, body):
                if node.type == "anonymous_class":
                    return body
                fallback = fallback or body
            continue
        if node.type in _NO_CLASSES:
            continue
        stack.extend(reversed(node.named_children))
    return fallback


def _declares_steps(source: TreeSource, body: Node) -> bool:
    for method in body.named_children:
        name = method.child_by_field_name("name") if method.type == "method_declaration" else None
        if name is not None and source.node_text(name) in ("up", "down"):
            return True
    return False


def _properties(source: TreeSource, body: Node) -> dict[str, object]:
    """`public $withinTransaction = false;`, `protected $connection = 'pgsql';`."""
    found: dict[str, object] = {}
    for declaration in body.named_children:
        if declaration.type != "property_declaration":
            continue
        for element in declaration.named_children:
            if element.type != "property_element":
                continue
            name = element.child_by_field_name("name")
            value = element.child_by_field_name("default_value")
            if name is not None and value is not None:
                found[source.node_text(name).lstrip("$")] = literal(source, value)
    return found


def _throws(block: Node) -> bool:
    """`throw new ...` in the step (outside closures): it declares itself impossible."""
    if b"throw" not in (block.text or b""):
        return False  # (a byte search is far cheaper than walking the step)
    stack = list(block.named_children)
    while stack:
        node = stack.pop()
        if node.type == "throw_expression":
            return True
        if node.type in _CLOSURES or node.type == "function_definition":
            continue
        stack.extend(node.named_children)
    return False


class _Reader:
    """Collects the operations of one `up()` / `down()` body, in source order."""

    def __init__(
        self,
        source: TreeSource,
        migration: Migration,
        step: Step,
        in_transaction: bool,
        connection: str | None,
    ) -> None:
        self.source = source
        self.migration = migration
        self.step = step
        self.in_transaction = in_transaction
        self.connection = connection
        self.changes: list[tuple[AlterColumn, Column]] = []
        self.done: set[int] = set()
        """Closures already read as Blueprint closures."""

    def visit(self, node: Node, loop: Span | None) -> None:
        # not recursive: deeply nested code must not exhaust Python's stack; each node with
        # its parent, as `Node.parent` costs a descent from the root. A frame per parent (its
        # children still to visit, reversed; their loop; itself), not a tuple per node.
        frames = [(node.named_children[::-1], loop, node)]
        done = self.done
        kinds = php_kinds()
        while frames:
            pending, outer, parent = frames[-1]
            if not pending:
                frames.pop()
                continue
            child = pending.pop()
            kind = child.kind_id
            if kind in kinds.calls and ends_chain(child, parent):
                chain = chain_of(self.source, child)
                if chain is not None:
                    self.chain(chain, outer)
            if done and child.id in done:
                continue
            inner = outer
            if kind in kinds.loops:
                inner = self.loop_header(child)
            elif kind in kinds.closures and self.each_closure(child):
                inner = self.source.span(child)
            elif kind in kinds.leaves:
                continue
            children = child.named_children
            if children:
                children.reverse()
                frames.append((children, inner, child))

    def loop_header(self, node: Node) -> Span:
        body = node.child_by_field_name("body")
        span = self.source.span(node)
        end = self.source.span(body).start if body is not None else span.end
        return Span(span.start, end)

    def each_closure(self, closure: Node) -> bool:
        """A closure given to `->each(...)` / `->map(...)`: it runs once per row."""
        parent = closure.parent
        call = parent.parent.parent if parent is not None and parent.parent is not None else None
        if call is None or call.type not in CALLS:
            return False
        name = call.child_by_field_name("name")
        return name is not None and self.source.node_text(name) in ("each", "map", "eachById")

    # ------------------------------------------------------------------ facades

    def chain(self, chain: Chain, loop: Span | None) -> None:
        facade = class_name(self.source, chain.root)
        links = list(chain.links)
        in_tx = self.in_transaction
        if links and links[0].name == "connection" and facade in ("Schema", "DB"):
            other = text_of(self.source, links[0].arg(0, "name"))
            if other is not None and self.connection is not None and other != self.connection:
                in_tx = False
            links = links[1:]
        if not links:
            return
        if facade == "Schema":
            self.schema(chain, links, in_tx)
        elif facade == "DB":
            self.database(chain, links, in_tx, loop)

    def emit(self, op: Operation, keyword: Node, origin: str, in_tx: bool) -> None:
        op.step = self.step
        op.in_transaction = in_tx
        op.origin = origin
        op.spans.setdefault("keyword", self.source.span(keyword))
        self.migration.operations.append(op)

    def schema(self, chain: Chain, links: list[Link], in_tx: bool) -> None:
        link = links[0]
        method = link.name
        source = self.source
        span = source.span(chain.node)
        origin = f"Schema::{method}"
        table_node = link.arg(0, "table")
        table = text_of(source, table_node) or ""
        spans = {"table": source.span(table_node)} if table_node is not None else {}
        if method in ("create", "table"):
            closure = link.arg(1, "callback")
            creating = method == "create"
            create = None
            if creating:
                create = CreateTable(span=span, table=table, spans=spans)
                self.emit(create, link.name_node, origin, in_tx)
            scope = TableScope(
                source=source,
                table=table,
                table_span=spans.get("table"),
                step=self.step,
                in_transaction=in_tx,
                dialect=self.migration.dialect,
                create=create,
            )
            if closure is not None:
                self.blueprint(scope, closure)
            self.migration.operations.extend(scope.ops + scope.after)
            self.changes.extend(scope.changes)
        elif method in ("drop", "dropIfExists"):
            drop = DropTable(
                span=span, table=table, if_exists=method == "dropIfExists", spans=spans
            )
            self.emit(drop, link.name_node, origin, in_tx)
        elif method == "rename":
            new_node = link.arg(1, "to")
            if new_node is not None:
                spans["new_name"] = source.span(new_node)
            new_name = text_of(source, new_node) or ""
            rename = RenameTable(span=span, table=table, new_name=new_name, spans=spans)
            self.emit(rename, link.name_node, origin, in_tx)

    def blueprint(self, scope: TableScope, closure: Node) -> None:
        if closure.type not in _CLOSURES:
            return
        self.done.add(closure.id)
        parameters = closure.child_by_field_name("parameters")
        params = named_children(parameters) if parameters is not None else []
        name_node = params[0].child_by_field_name("name") if params else None
        name = variable(self.source, name_node) if name_node is not None else None
        body = closure.child_by_field_name("body")
        if name is None or body is None:
            return
        for node in _outermost_calls(body):
            chain = chain_of(self.source, node)
            if chain is not None and variable(self.source, chain.root) == name:
                read_blueprint(scope, chain)

    def database(self, chain: Chain, links: list[Link], in_tx: bool, loop: Span | None) -> None:
        first = links[0]
        if first.name in _SQL_METHODS and first.args:
            self.raw_sql(chain, first, in_tx)
        elif first.name == "table":
            self.query(chain, links, in_tx, loop)

    def raw_sql(self, chain: Chain, link: Link, in_tx: bool) -> None:
        source = self.source
        argument = link.args[0]
        found = string_value(source, argument)
        transaction: TransactionMode = "always" if in_tx else "never"
        if not in_tx and link.name == "unprepared":
            transaction = "multi"  # sent as one simple query: PostgreSQL wraps several in one
        ops, problems = sql_operations(
            call=source.span(chain.node),
            keyword=source.span(link.name_node),
            string=source.span(argument),
            value=found.value if found is not None else None,
            positions=found.positions if found is not None else None,
            formatted=found.formatted if found is not None else False,
            step=self.step,
            in_transaction=in_tx,
            transaction=transaction,
            dialect=self.migration.dialect,
            origin=f"DB::{link.name}",
        )
        self.migration.operations.extend(ops)
        self.migration.problems.extend(problems)

    def query(self, chain: Chain, links: list[Link], in_tx: bool, loop: Span | None) -> None:
        """`DB::table('users')->where(...)->update([...])` and the other writes."""
        last = links[-1]
        source = self.source
        table = text_of(source, links[0].arg(0, "table"))
        if last.name == "truncate":
            truncate = Truncate(span=source.span(chain.node), tables=[table] if table else [])
            self.emit(truncate, last.name_node, "DB::table()->truncate", in_tx)
            return
        kind = _WRITES.get(last.name)
        if kind is None:
            return
        filters = [link.name for link in links[1:-1] if link.name.startswith("where")]
        bounded = any(link.name in _BOUNDED for link in links[1:-1])
        has_where = bool(filters) or last.name in ("updateOrInsert",)
        narrowing = [f for f in filters if f not in ("whereNull", "whereNotNull")]
        change = DataChange(
            span=source.span(chain.node),
            kind=kind,
            table=table,
            has_where=has_where,
            unbounded=kind in ("update", "delete") and not narrowing and not bounded,
        )
        table_node = links[0].arg(0, "table")
        if table_node is not None:
            change.spans["table"] = source.span(table_node)
        if loop is not None:
            change.per_row = True
            change.spans["loop"] = loop
            change.spans["call"] = source.span(last.name_node)
        self.emit(change, last.name_node, f"DB::table()->{last.name}", in_tx)


def _outermost_calls(node: Node) -> list[Node]:
    """Calls in `node` that end a chain, in source order (not inside nested closures)."""
    if node.type in CALLS and is_outermost(node):
        return [node]
    kinds = php_kinds()
    found: list[Node] = []

    def enter(current: Node, parent: Node) -> bool:
        kind = current.kind_id
        if kind in kinds.calls and ends_chain(current, parent):
            found.append(current)
            return False
        return kind not in kinds.closures

    visit_named(node, enter)
    return found


# --------------------------------------------------------------------------- ->change()


def _complete_changes(
    path: str,
    migration: Migration,
    changes: list[tuple[AlterColumn, Column]],
    settings: dict[str, Any],
    history: bool,
) -> None:
    """Fill in what each `->change()` changes, from the column's previous definition."""
    if not changes:
        return
    restated = {(op.step, op.table.lower(), op.column.lower()): column for op, column in changes}
    earlier: dict[tuple[str, str], Column] | None = None
    for op, column in changes:
        other = Step.DOWN if op.step is Step.UP else Step.UP
        previous = restated.get((other, op.table.lower(), op.column.lower()))
        if previous is None and op.step is Step.UP and history:
            if earlier is None:
                earlier = _definitions_before(path, migration.dialect, settings)
            previous = earlier.get((op.table.lower(), op.column.lower()))
        if previous is None:
            op.type_change_known = False
            continue
        op.old_type = previous.type
        op.old_nullable = previous.nullable
        if op.nullable is None and column.nullable != previous.nullable:
            op.nullable = column.nullable


_CACHE: dict[tuple[str, int, int], list[tuple[str, str, Column | str]]] = {}
_CACHE_LOCK = threading.Lock()


def _definitions_before(
    path: str, dialect: str | None, settings: dict[str, Any]
) -> dict[tuple[str, str], Column]:
    """(table, column) → the last definition of each column in the migrations before `path`
    in its folder (file names sort by their date prefix)."""
    folder, name = os.path.split(os.path.abspath(path))
    try:
        names = sorted(n for n in os.listdir(folder) if n.endswith(".php") and n < name)
    except OSError:
        return {}
    found: dict[tuple[str, str], Column] = {}
    for other in names:
        for table, column, definition in _file_definitions(
            os.path.join(folder, other), dialect, settings
        ):
            key = (table.lower(), column.lower())
            if isinstance(definition, Column):
                found[key] = definition
            elif key in found:  # a rename: the definition moves to the new name
                found[(table.lower(), definition.lower())] = found.pop(key)
    return found


def _file_definitions(
    path: str, dialect: str | None, settings: dict[str, Any]
) -> list[tuple[str, str, Column | str]]:
    """The forward column definitions and renames of one migration file, cached by mtime."""
    try:
        stat = os.stat(path)
    except OSError:
        return []
    key = (path, stat.st_mtime_ns, stat.st_size)
    with _CACHE_LOCK:
        cached = _CACHE.get(key)
    if cached is not None:
        return cached
    try:
        with open(path, encoding="utf-8", errors="replace") as handle:
            text = handle.read()
    except OSError:
        return []
    parsed, changes = _parse(path, text, dialect, settings, history=False)
    restated = {id(op): column for op, column in changes}
    result: list[tuple[str, str, Column | str]] = []
    for op in parsed.forward():
        if isinstance(op, CreateTable):
            result.extend((op.table, c.name, c) for c in op.columns)
        elif isinstance(op, AddColumn):
            result.append((op.table, op.column.name, op.column))
        elif isinstance(op, AlterColumn) and id(op) in restated:
            result.append((op.table, op.column, restated[id(op)]))
        elif isinstance(op, RenameColumn):
            result.append((op.table, op.column, op.new_name))
    with _CACHE_LOCK:
        if len(_CACHE) > 4096:
            _CACHE.clear()
        _CACHE[key] = result
    return result
