"""Alembic (and Flask-Migrate) revision files → `Migration`.

Reads `upgrade()` / `downgrade()` with `ast`, never importing the file. Knows the `op.*`
directives, `batch_alter_table` blocks, `autocommit_block()` (statements outside the
migration's transaction), SQL handed to `op.execute` / `connection.execute`, statements issued
once per row from a loop over query results (`DataChange.per_row`), ORM sessions committed by
the migration (`SessionCommit`) and a downgrade that declares itself impossible
(`raise NotImplementedError`).
"""

from __future__ import annotations

import ast
from typing import Any, Literal

from migration_lsp.model import (
    AddColumn,
    AddConstraint,
    AlterColumn,
    ConstraintKind,
    CreateIndex,
    CreateTable,
    DataChange,
    DataKind,
    DropColumn,
    DropConstraint,
    DropIndex,
    DropTable,
    ExecuteSQL,
    Migration,
    Operation,
    RenameColumn,
    RenameTable,
    SessionCommit,
    Step,
    StepBody,
)
from migration_lsp.parse.pyloops import (
    Loop,
    Names,
    bound_names,
    is_session,
    iterates_rows,
    loop_header,
)
from migration_lsp.parse.python import (
    PythonSource,
    argument,
    call_name,
    is_empty_body,
    keyword,
    literal,
    statements,
    string,
)
from migration_lsp.parse.sqlalchemy_types import column as sa_column
from migration_lsp.parse.sqlalchemy_types import sql_type
from migration_lsp.text import Span

_EXECUTE_METHODS = ("execute", "exec_driver_sql")
_CONSTRAINT_TYPES: dict[str, ConstraintKind] = {
    "foreignkey": "foreign_key",
    "check": "check",
    "unique": "unique",
    "primary": "primary_key",
}
_IRREVERSIBLE_ERRORS = frozenset({"NotImplementedError", "IrreversibleError"})
_DML_WORDS: dict[str, DataKind] = {
    "update": "update",
    "delete": "delete",
    "insert": "insert",
    "merge": "merge",
}
_STATEMENT_CHAIN = frozenset(
    {"text", "bindparams", "columns", "execution_options", "where", "values", "returning"}
)


def parse_alembic(
    path: str, text: str, dialect: str | None, settings: dict[str, Any] | None = None
) -> Migration:
    settings = settings or {}
    transactional = settings.get("transactional_ddl") is not False
    migration = Migration(
        path=path,
        text=text,
        tool="alembic",
        dialect=dialect,
        language="python",
        supports_down=True,
        transactional=transactional,
    )
    source = PythonSource(text)
    if source.tree is None:
        if source.problem is not None:
            migration.problems.append(source.problem)
        return migration
    migration.imports = source.imports()
    module_names = bound_names(source.tree.body)
    for node in source.tree.body:
        if not isinstance(node, ast.FunctionDef):
            continue
        if node.name == "upgrade" or node.name.startswith("upgrade_"):
            step = Step.UP
        elif node.name == "downgrade" or node.name.startswith("downgrade_"):
            step = Step.DOWN
        else:
            continue
        body = StepBody(
            span=source.name_span(node),
            body=Span(source.span(node.body[0]).start, source.span(node.body[-1]).end),
            empty=is_empty_body(node.body),
            raises=_raises_irreversible(node.body),
        )
        if step is Step.UP and migration.up is None:
            migration.up = body
        elif step is Step.DOWN and migration.down is None:
            migration.down = body
        _StepReader(source, migration, step, transactional, module_names).read(node.body)
    return migration


def _raises_irreversible(body: list[ast.stmt]) -> bool:
    """`raise NotImplementedError(...)` somewhere in the step: the author says it cannot be
    undone."""
    for node in statements(body):  # a raise is a statement: no need to visit expressions
        if isinstance(node, ast.Raise) and node.exc is not None:
            name = call_name(node.exc).rpartition(".")[2]
            if name in _IRREVERSIBLE_ERRORS:
                return True
    return False


class _StepReader:
    """Collects the operations of one `upgrade()`/`downgrade()` body."""

    def __init__(
        self,
        source: PythonSource,
        migration: Migration,
        step: Step,
        transactional: bool,
        module_names: Names | None = None,
    ) -> None:
        self.source = source
        self.migration = migration
        self.step = step
        self.transactional = transactional
        self.statement_calls: set[int] = set()
        self.tables: dict[str, str] = {}
        """Names bound to `sa.table("name", ...)` / `op.create_table(...)`, for `bulk_insert`."""
        self.module_names: Names = module_names or {}
        self.names: Names = {}
        """Values assigned to local names of the step function (row sources, sessions)."""
        self.loop: Span | None = None
        """Header of the innermost loop over rows the statements being read are in."""

    def read(self, body: list[ast.stmt]) -> None:
        self.names = bound_names(body)
        for stmt in body:
            self.statement(stmt, self.transactional, {})

    def loop_body(self, loop: Loop, in_tx: bool, batches: dict[str, str]) -> None:
        """A `for`/`while` loop: its body runs once per row when it iterates over rows."""
        header = loop_header(loop)
        for node in ast.walk(header):
            if isinstance(node, ast.Call):
                self.call(node, in_tx, batches)
        if not isinstance(loop, ast.While):
            for node in ast.walk(loop.target):
                if isinstance(node, ast.Call):
                    self.call(node, in_tx, batches)
        outer = self.loop
        if iterates_rows(loop, self.names):
            self.loop = Span(self.source.span(loop).start, self.source.span(header).end)
        for inner in loop.body:
            self.statement(inner, in_tx, batches)
        self.loop = outer
        for inner in loop.orelse:
            self.statement(inner, in_tx, batches)

    def per_row(self, op: DataChange, call: ast.Call) -> None:
        assert self.loop is not None
        op.per_row = True
        op.spans["loop"] = self.loop
        op.spans["call"] = self.source.span(call.func)

    def statement(self, stmt: ast.stmt, in_tx: bool, batches: dict[str, str]) -> None:
        if isinstance(stmt, ast.With):
            inner_tx, inner_batches = in_tx, dict(batches)
            for item in stmt.items:
                name = call_name(item.context_expr)
                if name.endswith("autocommit_block"):
                    inner_tx = False
                elif name.endswith("batch_alter_table") and isinstance(item.context_expr, ast.Call):
                    table = string(argument(item.context_expr, 0, "table_name")) or ""
                    if isinstance(item.optional_vars, ast.Name):
                        inner_batches[item.optional_vars.id] = table
            for inner in stmt.body:
                self.statement(inner, inner_tx, inner_batches)
            return
        if isinstance(stmt, ast.For | ast.AsyncFor | ast.While):
            self.loop_body(stmt, in_tx, batches)
            return
        if isinstance(stmt, ast.Expr) and isinstance(stmt.value, ast.Call):
            self.statement_calls.add(id(stmt.value))
            receiver = call_name(stmt.value).rpartition(".")[0]
            if receiver == "op" or receiver in batches:
                # an `op.*` directive: its arguments (sa.Column(...), ...) hold no directive,
                # so walking every node under them would only cost time
                self.call(stmt.value, in_tx, batches)
                return
        if (
            isinstance(stmt, ast.Assign)
            and isinstance(stmt.value, ast.Call)
            and call_name(stmt.value).split(".")[-1] in ("table", "create_table")
            and stmt.value.args
        ):
            table_name = string(stmt.value.args[0])
            for target in stmt.targets:
                if isinstance(target, ast.Name) and table_name:
                    self.tables[target.id] = table_name
        nested = (ast.If, ast.For, ast.While, ast.Try, ast.AsyncFor, ast.AsyncWith)
        for child in ast.iter_child_nodes(stmt):
            if isinstance(child, ast.stmt):
                self.statement(child, in_tx, batches)
            elif isinstance(child, ast.ExceptHandler):
                for inner in child.body:
                    self.statement(inner, in_tx, batches)
            elif not isinstance(stmt, nested) or isinstance(child, ast.expr):
                for node in ast.walk(child):
                    if isinstance(node, ast.Call):
                        self.call(node, in_tx, batches)

    def call(self, call: ast.Call, in_tx: bool, batches: dict[str, str]) -> None:
        name = call_name(call)
        receiver, _, method = name.rpartition(".")
        if method in _EXECUTE_METHODS and call.args:
            self.execute(call, receiver, in_tx)
            return
        if method == "commit" and receiver in self.names:
            self.session_commit(call, receiver, in_tx)
            return
        if receiver == "op":
            ops = self.directive(call, method, None)
        elif receiver in batches:
            ops = self.directive(call, method, batches[receiver])
        else:
            return
        keyword_span = None  # found once a directive's operation lacks it
        for op in ops:
            op.in_transaction = in_tx
            op.step = self.step
            op.origin = f"{receiver}.{method}"
            if "keyword" not in op.spans:
                if keyword_span is None:
                    keyword_span = self.source.span(call.func)
                op.spans["keyword"] = keyword_span
            if isinstance(op, DataChange) and self.loop is not None:
                self.per_row(op, call)
            self.migration.operations.append(op)

    def session_commit(self, call: ast.Call, receiver: str, in_tx: bool) -> None:
        """`session.commit()` on a `Session` the step created."""
        if not is_session(ast.Name(id=receiver, ctx=ast.Load()), self.names, self.module_names):
            return
        keyword_span = self.source.span(call.func)
        self.migration.operations.append(
            SessionCommit(
                span=self.source.span(call),
                step=self.step,
                in_transaction=in_tx,
                origin=f"{receiver}.commit",
                spans={"keyword": keyword_span},
            )
        )

    def execute(self, call: ast.Call, receiver: str, in_tx: bool) -> None:
        ops, problems = self.source.execute_ops(
            call,
            call.args[0],
            step=self.step,
            in_transaction=in_tx,
            transaction="always" if in_tx else "multi",
            dialect=self.migration.dialect,
            origin=f"{receiver}.{call_name(call).rpartition('.')[2]}",
            result_used=receiver == "op" and id(call) not in self.statement_calls,
        )
        if self.loop is not None:
            self.per_row_execute(call, receiver, ops, in_tx)
        self.migration.operations.extend(ops)
        self.migration.problems.extend(problems)

    def per_row_execute(
        self, call: ast.Call, receiver: str, ops: list[Operation], in_tx: bool
    ) -> None:
        """An execute call inside a loop over rows: its data change runs once per row. SQL
        only known at run time (a SQLAlchemy `update()` construct, a variable) still gets one."""
        changes = [op for op in ops if isinstance(op, DataChange)]
        for op in changes:
            self.per_row(op, call)
        if changes or any(isinstance(op, ExecuteSQL) and op.sql is not None for op in ops):
            return
        kind = _statement_kind(call.args[0], self.names, 0)
        if kind == "other":
            return
        keyword_span = self.source.span(call.func)
        change = DataChange(
            span=self.source.span(call),
            step=self.step,
            in_transaction=in_tx,
            origin=f"{receiver}.{call_name(call).rpartition('.')[2]}",
            spans={"keyword": keyword_span},
            kind=kind or "update",
        )
        self.per_row(change, call)
        ops.append(change)

    # ------------------------------------------------------------------ op.* directives

    def directive(self, call: ast.Call, method: str, batch_table: str | None) -> list[Operation]:
        src = self.source
        span = src.span(call)
        # batch_op.* methods have no table argument: every positional shifts left by one
        shift = 0 if batch_table is None else -1

        def arg(index: int, name: str) -> ast.expr | None:
            return argument(call, index + shift, name) if index + shift >= 0 else None

        def table_arg(index: int, name: str = "table_name") -> tuple[str, dict[str, Span]]:
            if batch_table is not None:
                return batch_table, {}
            node = argument(call, index, name)
            return string(node) or "", ({"table": src.span(node)} if node is not None else {})

        if method == "create_table":
            table_node = argument(call, 0, "table_name")
            columns = [
                c
                for a in call.args[1:]
                if isinstance(a, ast.Call) and (c := sa_column(src, a)) is not None
            ]
            spans = {"table": src.span(table_node)} if table_node is not None else {}
            return [
                CreateTable(
                    span=span,
                    table=string(table_node) or "",
                    columns=columns,
                    if_not_exists=literal(keyword(call, "if_not_exists")) is True,
                    spans=spans,
                )
            ]
        if method == "drop_table":
            table, spans = table_arg(0)
            return [
                DropTable(
                    span=span,
                    table=table,
                    if_exists=literal(keyword(call, "if_exists")) is True,
                    spans=spans,
                )
            ]
        if method == "rename_table":
            table, spans = table_arg(0, "old_table_name")
            return [
                RenameTable(
                    span=span,
                    table=table,
                    new_name=string(argument(call, 1, "new_table_name")) or "",
                    spans=spans,
                )
            ]
        if method == "add_column":
            table, spans = table_arg(0)
            column_node = arg(1, "column")
            if not isinstance(column_node, ast.Call):
                return []
            column = sa_column(src, column_node)
            if column is None:
                return []
            if column.span is not None:
                spans["column"] = column.span
            for part in ("nullable", "server_default"):
                node = keyword(column_node, part)
                if node is not None:
                    spans[part] = src.span(node)
            spans["column_def"] = src.span(column_node)
            return [
                AddColumn(
                    span=span,
                    table=table,
                    column=column,
                    if_not_exists=literal(keyword(call, "if_not_exists")) is True,
                    spans=spans,
                )
            ]
        if method == "drop_column":
            table, spans = table_arg(0)
            column_node = arg(1, "column_name")
            if column_node is not None:
                spans["column"] = src.span(column_node)
            return [
                DropColumn(
                    span=span,
                    table=table,
                    column=string(column_node) or "",
                    if_exists=literal(keyword(call, "if_exists")) is True,
                    spans=spans,
                )
            ]
        if method == "alter_column":
            return self.alter_column(call, span, table_arg(0), arg(1, "column_name"))
        if method == "create_index":
            return [self.create_index(call, span, arg, table_arg)]
        if method == "drop_index":
            name_node = argument(call, 0, "index_name")
            spans = {"name": src.span(name_node)} if name_node is not None else {}
            concurrently = keyword(call, "postgresql_concurrently")
            if concurrently is not None:
                spans["concurrently"] = src.span(concurrently)
            return [
                DropIndex(
                    span=span,
                    name=string(name_node),
                    table=batch_table or string(argument(call, 1, "table_name")),
                    concurrently=literal(concurrently) is True,
                    if_exists=literal(keyword(call, "if_exists")) is True,
                    spans=spans,
                )
            ]
        if method in (
            "create_foreign_key",
            "create_check_constraint",
            "create_unique_constraint",
            "create_primary_key",
        ):
            return [self.add_constraint(call, span, method, arg, table_arg)]
        if method == "drop_constraint":
            table, spans = table_arg(1)
            name_node = argument(call, 0, "constraint_name")
            if name_node is not None:
                spans["name"] = src.span(name_node)
            kind = _CONSTRAINT_TYPES.get(str(literal(keyword(call, "type_"))).lower(), "unknown")
            return [
                DropConstraint(
                    span=span, table=table, name=string(name_node), kind=kind, spans=spans
                )
            ]
        if method == "bulk_insert":
            target = argument(call, 0, "table")
            rows_table = None
            if isinstance(target, ast.Name):
                rows_table = self.tables.get(target.id)
            elif isinstance(target, ast.Call) and target.args:
                rows_table = string(target.args[0])
            return [DataChange(span=span, kind="bulk_insert", table=rows_table)]
        return []

    def alter_column(
        self,
        call: ast.Call,
        span: Span,
        table_and_spans: tuple[str, dict[str, Span]],
        column_node: ast.expr | None,
    ) -> list[Operation]:
        src = self.source
        table, spans = table_and_spans
        column = string(column_node) or ""
        if column_node is not None:
            spans["column"] = src.span(column_node)
        ops: list[Operation] = []
        type_node = keyword(call, "type_")
        nullable = literal(keyword(call, "nullable"))
        existing_nullable = literal(keyword(call, "existing_nullable"))
        for part in ("type_", "nullable", "existing_type"):
            node = keyword(call, part)
            if node is not None:
                spans[part] = src.span(node)
        if type_node is not None or isinstance(nullable, bool):
            ops.append(
                AlterColumn(
                    span=span,
                    table=table,
                    column=column,
                    new_type=sql_type(type_node),
                    old_type=sql_type(keyword(call, "existing_type")),
                    nullable=nullable if isinstance(nullable, bool) else None,
                    old_nullable=existing_nullable if isinstance(existing_nullable, bool) else None,
                    spans=dict(spans),
                )
            )
        new_name_node = keyword(call, "new_column_name")
        new_name = string(new_name_node)
        if new_name:
            rename_spans = dict(spans)
            if new_name_node is not None:
                rename_spans["new_name"] = src.span(new_name_node)
            ops.append(
                RenameColumn(
                    span=span, table=table, column=column, new_name=new_name, spans=rename_spans
                )
            )
        return ops

    def create_index(self, call: ast.Call, span: Span, arg: Any, table_arg: Any) -> Operation:
        src = self.source
        name_node = argument(call, 0, "index_name")
        table, spans = table_arg(1)
        if name_node is not None:
            spans["name"] = src.span(name_node)
        columns_value = literal(arg(2, "columns"))
        columns = (
            [c for c in columns_value if isinstance(c, str)]
            if isinstance(columns_value, list | tuple)
            else []
        )
        concurrently = keyword(call, "postgresql_concurrently")
        if concurrently is not None:
            spans["concurrently"] = src.span(concurrently)
        return CreateIndex(
            span=span,
            name=string(name_node),
            table=table,
            columns=columns,
            unique=literal(keyword(call, "unique")) is True,
            concurrently=literal(concurrently) is True,
            if_not_exists=literal(keyword(call, "if_not_exists")) is True,
            spans=spans,
        )

    def add_constraint(
        self, call: ast.Call, span: Span, method: str, arg: Any, table_arg: Any
    ) -> Operation:
        src = self.source
        name_node = argument(call, 0, "constraint_name")
        kinds: dict[str, ConstraintKind] = {
            "create_foreign_key": "foreign_key",
            "create_check_constraint": "check",
            "create_unique_constraint": "unique",
            "create_primary_key": "primary_key",
        }
        kind = kinds[method]
        if kind == "foreign_key":
            table, spans = table_arg(1, "source_table")
            references = string(arg(2, "referent_table"))
            columns_value = literal(arg(3, "local_cols"))
        else:
            table, spans = table_arg(1)
            references = None
            columns_value = literal(arg(2, "columns")) if kind != "check" else []
        if name_node is not None:
            spans["name"] = src.span(name_node)
        columns = (
            [c for c in columns_value if isinstance(c, str)]
            if isinstance(columns_value, list | tuple)
            else []
        )
        return AddConstraint(
            span=span,
            table=table,
            name=string(name_node),
            kind=kind,
            not_valid=literal(keyword(call, "postgresql_not_valid")) is True,
            references=references,
            columns=columns,
            spans=spans,
        )


def _statement_kind(node: ast.expr, names: Names, depth: int) -> DataKind | Literal["other"] | None:
    """What an execute argument only known at run time will do: a DML kind, "other" (a query,
    DDL), or None when it cannot be told."""
    if depth > 4:
        return None
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        words = node.value.split(None, 1)
        return _DML_WORDS.get(words[0].lower(), "other") if words else "other"
    if isinstance(node, ast.JoinedStr):
        first = node.values[0] if node.values else None
        if isinstance(first, ast.Constant) and isinstance(first.value, str) and first.value.strip():
            return _statement_kind(first, names, depth + 1)
        return None
    if isinstance(node, ast.BinOp):
        return _statement_kind(node.left, names, depth + 1)
    if isinstance(node, ast.Name):
        for value in names.get(node.id, ()):
            kind = _statement_kind(value, names, depth + 1)
            if kind is not None:
                return kind
        return None
    if isinstance(node, ast.Call):
        method = call_name(node).rpartition(".")[2]
        if method in _DML_WORDS:
            return _DML_WORDS[method]
        if method == "select":
            return "other"
        if method == "text" and node.args:
            return _statement_kind(node.args[0], names, depth + 1)
        if method in _STATEMENT_CHAIN and isinstance(node.func, ast.Attribute):
            return _statement_kind(node.func.value, names, depth + 1)
    return None
