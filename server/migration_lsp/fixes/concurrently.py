"""use-concurrently (non-concurrent-index, non-concurrent-index-drop) and run-outside-transaction
(concurrent-index-in-transaction), for PostgreSQL.

- Alembic `op.create_index` / `op.drop_index`: `postgresql_concurrently=True`, and the statement
  wrapped in `with op.get_context().autocommit_block():` unless it already runs outside the
  migration's transaction. Operations of a `batch_alter_table` block get no fix: moving one out
  of the batch is not a local edit.
- Django `AddIndex` / `RemoveIndex`: the `...Concurrently` operation of
  `django.contrib.postgres.operations` (imported) and `atomic = False` on the Migration class.
- SQL (files, and plain string literals in `op.execute` / `RunSQL`): `CONCURRENTLY` after
  `INDEX`, and the file made non-transactional the way its runner wants it.

A fix that moves statements out of the migration's transaction is SAFE only when nothing else in
the step loses its atomicity; otherwise UNSAFE. Where no edit can make the statement runnable,
the fix is DISPLAY-only and says what to do.
"""

from __future__ import annotations

import ast
from typing import cast

from migration_lsp.findings import Applicability, Edit, Finding, Fix
from migration_lsp.model import CreateIndex, DropIndex, ExecuteSQL, Migration, Operation

from .base import display, operation_for, other_statements
from .django import CONCURRENT, POSTGRES_OPERATIONS, atomic_false
from .python import PyFile
from .sql import IN_BLOCK, concurrently_edit, in_block, inside_plain_literal, sql_file_fix

AUTOCOMMIT = "with op.get_context().autocommit_block():"

IndexOp = CreateIndex | DropIndex


def use_concurrently(finding: Finding, migration: Migration) -> Fix | None:
    kind: type[IndexOp] = DropIndex if finding.rule == "non-concurrent-index-drop" else CreateIndex
    op = operation_for(finding, migration, kind)
    if op is None or op.concurrently:
        return None
    if isinstance(op, CreateIndex) and op.implicit:
        return None  # built by AddField/ForeignKey: the field has to change, not the index
    return _build(migration, op, add_keyword=True)


def run_outside_transaction(finding: Finding, migration: Migration) -> Fix | None:
    op: IndexOp | None = operation_for(finding, migration, CreateIndex) or operation_for(
        finding, migration, DropIndex
    )
    if op is None or not op.concurrently or not op.in_transaction:
        return None
    return _build(migration, op, add_keyword=False)


def _build(migration: Migration, op: IndexOp, *, add_keyword: bool) -> Fix | None:
    if op.origin == "sql" and in_block(migration, op):
        return display(IN_BLOCK)
    if migration.language == "sql":
        return sql_file_fix(migration, op, add_keyword=add_keyword)
    if migration.language != "python":
        return None
    pyfile = PyFile(migration.text)
    if pyfile.tree is None:
        return None
    if migration.tool == "alembic":
        if op.origin == "sql":
            return _alembic_execute(migration, pyfile, op, add_keyword)
        return _alembic_call(migration, pyfile, op, add_keyword)
    if migration.tool == "django":
        if op.origin == "sql":
            return _django_run_sql(migration, pyfile, op, add_keyword)
        return _django_operation(migration, pyfile, op, add_keyword)
    return None


def _verb(op: IndexOp) -> str:
    return "Create" if isinstance(op, CreateIndex) else "Drop"


# --------------------------------------------------------------------------- Alembic


def _wrap_in_autocommit(pyfile: PyFile, call: ast.Call) -> list[Edit] | None:
    stmt = pyfile.statement_of(call)
    if not isinstance(stmt, ast.Expr) or stmt.value is not call:
        return None
    return pyfile.wrap(stmt, AUTOCOMMIT)


def _alembic_call(
    migration: Migration, pyfile: PyFile, op: IndexOp, add_keyword: bool
) -> Fix | None:
    receiver = op.origin.rpartition(".")[0]
    if receiver != "op":
        return None  # batch_op.*: the operation would have to leave the batch block
    call = pyfile.call_at(op.span)
    if call is None:
        return None
    edits: list[Edit] = []
    wrapped = op.in_transaction
    if wrapped:
        wrap = _wrap_in_autocommit(pyfile, call)
        if wrap is None:
            return None
        edits.extend(wrap)
    if add_keyword:
        unit = pyfile.indent_unit(call) if wrapped else ""
        edits.extend(pyfile.set_keyword(call, "postgresql_concurrently", "True", extra_indent=unit))
    block = " in an autocommit block" if wrapped else ""
    if add_keyword:
        title = f"{_verb(op)} the index concurrently (postgresql_concurrently=True){block}"
    else:
        title = "Run it inside `with op.get_context().autocommit_block():`"
    return Fix(title=title, edits=edits, applicability=_moved(migration, op, wrapped))


def _moved(migration: Migration, op: Operation, moved: bool) -> Applicability:
    """SAFE unless moving `op` out of the transaction changes how other statements commit."""
    if not moved or other_statements(migration, op, neutral_settings=True) == 0:
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


def _statements_in(migration: Migration, execute: Operation) -> int:
    spans = {
        (o.span.start, o.span.end)
        for o in migration.operations
        if o.origin == "sql" and execute.span.contains(o.span) and o.step is execute.step
    }
    return len(spans)


def _string_edit(migration: Migration, pyfile: PyFile, op: IndexOp) -> Edit | Fix | None:
    """CONCURRENTLY inserted inside the plain string literal holding the statement; a DISPLAY
    fix when the statement cannot take it; None when the SQL is not a plain literal (f-string,
    built at run time) or the keyword is not plain text in it."""
    edit = concurrently_edit(migration, op)
    if isinstance(edit, str):
        return display(edit)
    string = pyfile.string_containing(op.span)
    if string is None:
        return None
    if not inside_plain_literal(migration.text, pyfile.span(string), edit.span.start):
        return None
    return edit


def _alembic_execute(
    migration: Migration, pyfile: PyFile, op: IndexOp, add_keyword: bool
) -> Fix | None:
    execute = _execute_of(migration, op)
    if execute is None:
        return None
    if _statements_in(migration, execute) > 1:
        return display(
            "Run this statement in an op.execute() of its own inside `with "
            "op.get_context().autocommit_block():`: several statements in one string run in "
            "one transaction, where CONCURRENTLY fails"
        )
    edits: list[Edit] = []
    if add_keyword:
        edit = _string_edit(migration, pyfile, op)
        if not isinstance(edit, Edit):
            return edit
        edits.append(edit)
    wrapped = op.in_transaction
    if wrapped:
        call = pyfile.call_at(execute.span)
        if call is None or execute.origin.rpartition(".")[0] != "op":
            return None
        wrap = _wrap_in_autocommit(pyfile, call)
        if wrap is None:
            return None
        edits.extend(wrap)
    block = " in an autocommit block" if wrapped else ""
    if add_keyword:
        title = f"{_verb(op)} the index concurrently (add CONCURRENTLY){block}"
    else:
        title = "Run it inside `with op.get_context().autocommit_block():`"
    return Fix(title=title, edits=edits, applicability=_moved(migration, execute, wrapped))


# --------------------------------------------------------------------------- Django


def _django_applicability(migration: Migration, op: Operation, atomic: list[Edit]) -> Applicability:
    """atomic = False changes how every statement of the migration commits: SAFE only when
    nothing else runs in it."""
    return _moved(migration, op, bool(atomic))


def _django_operation(
    migration: Migration, pyfile: PyFile, op: IndexOp, add_keyword: bool
) -> Fix | None:
    name = op.origin.rpartition(".")[2]
    atomic = atomic_false(pyfile)
    if atomic is None:
        return None
    if not add_keyword:
        if name not in CONCURRENT.values():
            return None
        return Fix(
            title="Set atomic = False on the migration",
            edits=atomic,
            applicability=_django_applicability(migration, op, atomic),
        )
    concurrent = CONCURRENT.get(name)
    keyword = op.spans.get("keyword")
    if concurrent is None or keyword is None:
        return None  # AlterIndexTogether, UniqueConstraint indexes: no concurrent operation
    edits = [Edit(keyword, concurrent), *pyfile.ensure_import(POSTGRES_OPERATIONS, concurrent)]
    edits.extend(atomic)
    title = f"Use {concurrent}" + (" and set atomic = False" if atomic else "")
    return Fix(title=title, edits=edits, applicability=_django_applicability(migration, op, atomic))


def _django_run_sql(
    migration: Migration, pyfile: PyFile, op: IndexOp, add_keyword: bool
) -> Fix | None:
    execute = _execute_of(migration, op)
    string = pyfile.string_containing(op.span)
    if execute is None:
        return None
    if string is not None:
        count = len(
            {
                (o.span.start, o.span.end)
                for o in migration.operations
                if o.origin == "sql" and pyfile.span(string).contains(o.span)
            }
        )
        if count > 1:
            return display(
                "Run this statement in a RunSQL of its own (or a list item of its own) in a "
                "migration with atomic = False: several statements in one string run in one "
                "transaction, where CONCURRENTLY fails"
            )
    atomic = atomic_false(pyfile)
    if atomic is None:
        return None
    edits: list[Edit] = []
    if add_keyword:
        edit = _string_edit(migration, pyfile, op)
        if not isinstance(edit, Edit):
            return edit
        edits.append(edit)
    edits.extend(atomic)
    if add_keyword:
        title = f"{_verb(op)} the index concurrently (add CONCURRENTLY)" + (
            " and set atomic = False" if atomic else ""
        )
    else:
        title = "Set atomic = False on the migration"
    return Fix(title=title, edits=edits, applicability=_django_applicability(migration, op, atomic))


def enum_outside_transaction(finding: Finding, migration: Migration) -> Fix | None:
    """`ALTER TYPE ... ADD VALUE` out of the migration's transaction, the tool's way (the same
    machinery as a CONCURRENTLY index: autocommit_block, atomic = False, SQL directives)."""
    from migration_lsp.model import AlterEnum

    op = operation_for(finding, migration, AlterEnum)
    if op is None or not op.in_transaction:
        return None
    fix = _build(migration, cast(IndexOp, op), add_keyword=False)
    if fix is not None and fix.edits:
        fix.title = (
            f"Add the enum value outside the transaction: {fix.title[:1].lower()}" + (fix.title[1:])
        )
    return fix
