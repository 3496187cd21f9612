"""not-null-via-check-constraint (set-not-null-on-existing-column): instead of a SET NOT NULL that
scans the table under an ACCESS EXCLUSIVE lock,

    ALTER TABLE t ADD CONSTRAINT t_col_not_null CHECK (col IS NOT NULL) NOT VALID;
    ALTER TABLE t VALIDATE CONSTRAINT t_col_not_null;   -- another transaction, no exclusive lock
    ALTER TABLE t ALTER COLUMN col SET NOT NULL;        -- PostgreSQL 12+ trusts the CHECK
    ALTER TABLE t DROP CONSTRAINT t_col_not_null;

- Alembic: `op.execute(...)` of the ADD and (in an autocommit block) of the VALIDATE before the
  `op.alter_column(..., nullable=False)`, kept as it is, and `op.drop_constraint(...)` after it.
- Django `AlterField` (null=True → False): `AddConstraintNotValid(CheckConstraint(condition=
  Q(col__isnull=False)))` and `ValidateConstraint` before it, `RemoveConstraint` after it,
  `atomic = False`.
- SQL: the four statements in place when the file's statements run one by one; in a file the
  runner wraps in a transaction, the ADD ... NOT VALID replaces the statement and a new
  migration does VALIDATE, SET NOT NULL and DROP CONSTRAINT.

SAFE, unless other statements of the migration change transaction or a new file is created.
"""

from __future__ import annotations

import ast
import re

from migration_lsp.findings import Applicability, Edit, Finding, Fix
from migration_lsp.model import AlterColumn, Migration
from migration_lsp.parse.python import argument, keyword, string

from .base import display, operation_for
from .constraints_common import (
    ALEMBIC_WIDTH,
    BEFORE_DJANGO_4,
    DJANGO_WIDTH,
    IN_DO_BLOCK,
    SPLIT_ACTIONS,
    alone,
    autocommit_lines,
    django_prefix,
    django_version,
    execute_call,
    execute_of,
    explicit_block,
    in_do_block,
    in_operations,
    model_argument,
    next_migrations,
    runs_alone,
    safe_if,
    statements_after,
)
from .constraints_files import Planned
from .constraints_py import (
    PyCall,
    elements_after,
    elements_before,
    ensure_names,
    lines_after,
    lines_before,
    quote_of,
    render,
    statement_owning,
)
from .constraints_py import string as py_literal
from .constraints_sql import (
    Sql,
    actions_in,
    is_lower,
    not_null_name,
    qualified,
    quote_ident,
    statement_of,
    statements_in,
)
from .django import POSTGRES_OPERATIONS, atomic_false
from .python import PyFile
from .text import indentation, insert, newline_of, replace

IN_BLOCK = (
    "Move the SET NOT NULL out of BEGIN … COMMIT: the CHECK constraint it relies on has to be "
    "validated in a transaction of its own first"
)


def not_null_via_check_constraint(finding: Finding, migration: Migration) -> Fix | None:
    op = operation_for(finding, migration, AlterColumn)
    if op is None or op.nullable is not False:
        return None
    if op.origin == "sql" and in_do_block(migration, op):
        return display(IN_DO_BLOCK)
    if migration.language == "sql":
        return _sql_file(migration, op)
    pyfile = PyFile(migration.text)
    if pyfile.tree is None or migration.language != "python":
        return None
    if migration.tool == "alembic":
        if op.origin == "sql":
            return _alembic_execute(migration, pyfile, op)
        return _alembic_call(migration, pyfile, op)
    if migration.tool == "django":
        if op.origin == "sql":
            return _django_run_sql(migration, pyfile, op)
        if op.origin.rpartition(".")[2] == "AlterField":
            return _django_alter_field(migration, pyfile, op)
    return None


def _title(op: AlterColumn, where: str) -> str:
    return (
        f"Add CHECK ({op.column} IS NOT NULL) NOT VALID, VALIDATE it {where}, then SET NOT NULL "
        "and drop the CHECK"
    )


class _Statements:
    """The statements of the rewrite, for one table and column."""

    def __init__(self, sql: Sql, table: str, column: str, name: str) -> None:
        self.add = sql.add_not_null_check(table, name, column)
        self.validate = sql.validate(table, name)
        self.drop = sql.drop_constraint(table, name)
        self.drop_if_exists = sql.drop_constraint(table, name, if_exists=True)
        self.drop_not_null = sql.drop_not_null(table, column)


# --------------------------------------------------------------------------- SQL files


def _sql_file(migration: Migration, op: AlterColumn) -> Fix | None:
    statement = statement_of(migration, op, None)
    table = statement.table_text() if statement is not None else None
    if statement is None or table is None:
        return None
    if explicit_block(migration, op):
        return display(IN_BLOCK)
    name = quote_ident(not_null_name(op.table, op.column))
    sql = _Statements(Sql(is_lower(statement.sql)), table, quote_ident(op.column), name)
    text = migration.text
    nl = newline_of(text)
    if runs_alone(migration, op):
        edits = [
            insert(op.span.start, f"{sql.add};{nl}{sql.validate};{nl}"),
            statements_after(text, op.span.end, [sql.drop]),
        ]
        return Fix(
            title=_title(op, "in a statement of its own"),
            edits=edits,
            applicability=Applicability.SAFE,
        )
    if actions_in(migration, op) > 1:
        return display(SPLIT_ACTIONS)
    plan = Planned(
        f"set_{op.table}_{op.column}_not_null",
        [sql.validate, statement.sql, sql.drop],
        [sql.drop_not_null],
    )
    files = next_migrations(migration, [plan])
    if isinstance(files, str):
        return display(
            "Add the CHECK (... IS NOT NULL) NOT VALID constraint here; VALIDATE it, SET NOT NULL "
            "and drop it in a new migration"
        )
    return Fix(
        title=f"Add CHECK ({op.column} IS NOT NULL) NOT VALID here; VALIDATE it, SET NOT NULL and "
        f"drop the CHECK in a new migration ({files.names})",
        edits=[replace(op.span, sql.add)],
        applicability=Applicability.UNSAFE,
        files=files.files,
    )


# --------------------------------------------------------------------------- Alembic


def _alembic_edits(
    migration: Migration,
    pyfile: PyFile,
    stmt: ast.stmt,
    sql: _Statements,
    drop: PyCall,
    in_transaction: bool,
) -> list[Edit]:
    quote = quote_of(pyfile, stmt)
    indent = indentation(pyfile.text, pyfile.span(stmt).start)
    unit = pyfile.indent_unit(stmt)
    before = render(execute_call(sql.add, quote), indent, unit, ALEMBIC_WIDTH)
    before += autocommit_lines(
        pyfile, indent, unit, [execute_call(sql.validate, quote)], block=in_transaction
    )
    return [
        lines_before(pyfile, stmt, before),
        lines_after(pyfile, stmt, render(drop, indent, unit, ALEMBIC_WIDTH)),
    ]


def _alembic_call(migration: Migration, pyfile: PyFile, op: AlterColumn) -> Fix | None:
    call = pyfile.call_at(op.span)
    if call is None or op.origin != "op.alter_column":
        return None  # batch_op.alter_column: a batch block runs its operations at its end
    stmt = statement_owning(pyfile, call)
    table_node = argument(call, 0, "table_name")
    if stmt is None or table_node is None:
        return None
    schema_node = keyword(call, "schema")
    table = qualified(op.table, string(schema_node))
    name = not_null_name(op.table, op.column)
    sql = _Statements(Sql(), table, quote_ident(op.column), quote_ident(name))
    quote = quote_of(pyfile, call)
    drop_args: list[tuple[str | None, str | PyCall]] = [
        (None, py_literal(name, quote)),
        (None, pyfile.segment(table_node)),
        ("type_", py_literal("check", quote)),
    ]
    if schema_node is not None:
        drop_args.append(("schema", pyfile.segment(schema_node)))
    drop = PyCall("op.drop_constraint", list(drop_args))
    edits = _alembic_edits(migration, pyfile, stmt, sql, drop, op.in_transaction)
    where = "in an autocommit block" if op.in_transaction else "in a statement of its own"
    return Fix(
        title=_title(op, where),
        edits=edits,
        applicability=safe_if(not op.in_transaction or alone(migration, op)),
    )


def _alembic_execute(migration: Migration, pyfile: PyFile, op: AlterColumn) -> Fix | None:
    execute = execute_of(migration, op)
    if execute is None or execute.origin.rpartition(".")[0] != "op":
        return None
    if statements_in(migration, execute.span) > 1:
        return display(
            "Run the SET NOT NULL in an op.execute() of its own first: the CHECK constraint has "
            "to be validated between the statements before it and it"
        )
    call = pyfile.call_at(execute.span)
    stmt = statement_owning(pyfile, call) if call is not None else None
    statement = statement_of(migration, op, pyfile)
    table = statement.table_text() if statement is not None else None
    if stmt is None or statement is None or table is None or call is None:
        return None
    name = quote_ident(not_null_name(op.table, op.column))
    sql = _Statements(Sql(is_lower(statement.sql)), table, quote_ident(op.column), name)
    drop = execute_call(sql.drop, quote_of(pyfile, call))
    edits = _alembic_edits(migration, pyfile, stmt, sql, drop, execute.in_transaction)
    where = "in an autocommit block" if execute.in_transaction else "in a statement of its own"
    return Fix(
        title=_title(op, where),
        edits=edits,
        applicability=safe_if(not execute.in_transaction or alone(migration, op)),
    )


# --------------------------------------------------------------------------- Django


def _check_keyword(text: str) -> str:
    """`condition=` (Django 5.1+) or `check=` (older), for a new CheckConstraint."""
    version = django_version(text)
    if version is not None and version < (5, 1):
        return "check"
    if re.search(r"CheckConstraint\(\s*check\s*=", text):
        return "check"
    return "condition"


def _django_edits(
    pyfile: PyFile, call: ast.Call, before: list[PyCall], after: list[PyCall]
) -> list[Edit]:
    return [
        elements_before(pyfile, call, before, DJANGO_WIDTH),
        *elements_after(pyfile, call, after, DJANGO_WIDTH),
    ]


def _django_alter_field(migration: Migration, pyfile: PyFile, op: AlterColumn) -> Fix | None:
    call = pyfile.call_at(op.span)
    if call is None or not in_operations(pyfile, call):
        return None
    version = django_version(pyfile.text)
    if version is not None and version < (4, 0):
        return display(BEFORE_DJANGO_4)
    prefix = django_prefix(pyfile, call)
    atomic = atomic_false(pyfile)
    model = model_argument(call)
    field = string(argument(call, 1, "name"))
    if prefix is None or atomic is None or model is None or not field:
        return None
    lookup = op.column if op.column == f"{field}_id" else field
    quote = quote_of(pyfile, call)
    name = py_literal(not_null_name(op.table, op.column), quote)
    model_name = pyfile.segment(model)
    check = PyCall(
        "models.CheckConstraint",
        [
            (_check_keyword(pyfile.text), PyCall("models.Q", [(f"{lookup}__isnull", "False")])),
            ("name", name),
        ],
    )
    add = PyCall("AddConstraintNotValid", [("model_name", model_name), ("constraint", check)])
    validate = PyCall("ValidateConstraint", [("model_name", model_name), ("name", name)])
    remove = PyCall(f"{prefix}RemoveConstraint", [("model_name", model_name), ("name", name)])
    edits = _django_edits(pyfile, call, [add, validate], [remove])
    edits.extend(
        ensure_names(pyfile, POSTGRES_OPERATIONS, ["AddConstraintNotValid", "ValidateConstraint"])
    )
    edits.extend(ensure_names(pyfile, "django.db", ["models"]))
    edits.extend(atomic)
    return Fix(
        title=_title(op, "with ValidateConstraint") + (" (atomic = False)" if atomic else ""),
        edits=edits,
        applicability=safe_if(not atomic or alone(migration, op)),
    )


def _django_run_sql(migration: Migration, pyfile: PyFile, op: AlterColumn) -> Fix | None:
    execute = execute_of(migration, op)
    call = pyfile.call_at(execute.span) if execute is not None else None
    string_node = pyfile.string_containing(op.span)
    if call is None or string_node is None or not in_operations(pyfile, call):
        return None
    if statements_in(migration, pyfile.span(string_node)) > 1:
        return display(
            "Run the SET NOT NULL in a RunSQL of its own first: the CHECK constraint has to be "
            "validated between the statements before it and it"
        )
    prefix = django_prefix(pyfile, call)
    atomic = atomic_false(pyfile)
    statement = statement_of(migration, op, pyfile)
    table = statement.table_text() if statement is not None else None
    if prefix is None or atomic is None or statement is None or table is None:
        return None
    name = quote_ident(not_null_name(op.table, op.column))
    sql = _Statements(Sql(is_lower(statement.sql)), table, quote_ident(op.column), name)
    quote = quote_of(pyfile, call)
    noop = f"{prefix}RunSQL.noop"

    def run_sql(forward: str, reverse: str) -> PyCall:
        return PyCall(
            f"{prefix}RunSQL", [("sql", py_literal(forward, quote)), ("reverse_sql", reverse)]
        )

    before = [
        run_sql(sql.add, py_literal(sql.drop_if_exists, quote)),
        run_sql(sql.validate, noop),
    ]
    edits = _django_edits(pyfile, call, before, [run_sql(sql.drop, noop)])
    edits.extend(atomic)
    return Fix(
        title=_title(op, "in a RunSQL of its own") + (" (atomic = False)" if atomic else ""),
        edits=edits,
        applicability=safe_if(not atomic or alone(migration, op)),
    )
