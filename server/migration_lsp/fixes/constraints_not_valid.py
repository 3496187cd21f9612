"""split-not-valid (foreign-key-without-not-valid, check-constraint-without-not-valid): add the
constraint NOT VALID, then VALIDATE it in another transaction, after the ADD committed.

- Alembic `op.create_foreign_key` / `op.create_check_constraint`: `postgresql_not_valid=True`,
  then `op.execute("ALTER TABLE t VALIDATE CONSTRAINT name")` in
  `with op.get_context().autocommit_block():` (the block commits the ADD first).
- Django `AddConstraint(CheckConstraint)`: `AddConstraintNotValid` + `ValidateConstraint` of
  `django.contrib.postgres.operations`, `atomic = False` (each operation then commits alone).
- SQL (files, `op.execute`, `RunSQL`): ` NOT VALID` after the constraint, and
  `ALTER TABLE t VALIDATE CONSTRAINT name;` where it runs in another transaction: right after
  (after the COMMIT of an explicit block) when the file's statements run one by one, else in a
  new migration file named the tool's way.

An unnamed constraint gets PostgreSQL's default name, written explicitly. The fix is SAFE when
it is mechanical: a known name and nothing else in the migration changing transaction. A
VALIDATE already written in the ADD's transaction (flagged by the same rules) is moved out of it.
"""

from __future__ import annotations

import ast

from migration_lsp.findings import Applicability, Edit, Finding, Fix
from migration_lsp.model import AddColumn, AddConstraint, Migration, ValidateConstraint
from migration_lsp.parse.python import argument, keyword, literal, string

from .base import display, operation_for
from .constraints_common import (
    AUTOCOMMIT,
    BEFORE_DJANGO_4,
    DJANGO_WIDTH,
    IN_DO_BLOCK,
    NO_NAME,
    SPLIT_ACTIONS,
    after_commit,
    alembic_name,
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
    remove_statement,
    runs_alone,
    safe_if,
    statements_after,
)
from .constraints_files import Planned
from .constraints_py import (
    PyCall,
    elements_after,
    ensure_names,
    lines_after,
    quote_of,
    statement_owning,
)
from .constraints_py import string as py_literal
from .constraints_sql import (
    Sql,
    Statement,
    actions_in,
    default_name,
    is_lower,
    qualified,
    quote_ident,
    statement_of,
    statements_in,
    tokenize,
)
from .django import POSTGRES_OPERATIONS, atomic_false
from .python import PyFile
from .sql import inside_plain_literal
from .text import indentation, insert, replace

INLINE_FOREIGN_KEY = (
    "Add the column without the foreign key, then add the constraint NOT VALID "
    "({how}) and VALIDATE CONSTRAINT it in another transaction"
)
DOWN_NOTE = "nothing to undo: VALIDATE CONSTRAINT only checked the existing rows"


def split_not_valid(finding: Finding, migration: Migration) -> Fix | None:
    op = operation_for(finding, migration, AddConstraint)
    if op is None:
        validate = operation_for(finding, migration, ValidateConstraint)
        if validate is not None:
            return _validate_later(migration, validate)
        column = operation_for(finding, migration, AddColumn)
        if column is not None and column.column.references is not None:
            return _inline(migration, column)
        return None
    if op.not_valid or op.implicit or op.kind not in ("foreign_key", "check"):
        return None  # Django ForeignKey fields: the field has to change, not a constraint
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
        return _django_operation(migration, pyfile, op)
    return None


def _what(op: AddConstraint) -> str:
    return "foreign key" if op.kind == "foreign_key" else "CHECK constraint"


def _inline(migration: Migration, op: AddColumn) -> Fix | None:
    if op.origin == "sql":
        how = "ALTER TABLE ... ADD CONSTRAINT ... FOREIGN KEY ... NOT VALID"
    elif migration.tool == "alembic":
        how = "op.create_foreign_key(..., postgresql_not_valid=True)"
    else:
        return None
    return display(INLINE_FOREIGN_KEY.format(how=how))


# --------------------------------------------------------------------------- SQL statements


def _name_and_edits(
    migration: Migration, op: AddConstraint, statement: Statement
) -> tuple[str, list[Edit]] | str:
    """The constraint's name as SQL (as written, or PostgreSQL's default written in with a
    `CONSTRAINT name` clause) and that clause's edit; a DISPLAY title when it cannot be."""
    found = statement.find("CONSTRAINT")
    if found is not None and found + 1 < len(statement.tokens):
        return statement.raw(found + 1), []
    keyword_at = statement.find("FOREIGN KEY" if op.kind == "foreign_key" else "CHECK")
    if keyword_at is None:
        return NO_NAME
    name = quote_ident(default_name(op.kind, op.table, op.columns))
    sql = Sql(is_lower(statement.sql))
    offset = statement.offset(statement.tokens[keyword_at].start)
    return name, [insert(offset, f"{sql.kw('CONSTRAINT')} {name} ")]


def _not_valid_edits(
    migration: Migration, op: AddConstraint, statement: Statement
) -> tuple[str, str, list[Edit]] | str:
    """(table, name, edits adding NOT VALID and the name) for the statement of `op`."""
    if actions_in(migration, op) > 1:
        return SPLIT_ACTIONS
    table = statement.table_text()
    if table is None:
        return "Add NOT VALID to the constraint, then VALIDATE CONSTRAINT it separately"
    named = _name_and_edits(migration, op, statement)
    if isinstance(named, str):
        return named
    name, edits = named
    sql = Sql(is_lower(statement.sql))
    edits.append(insert(op.span.end, " " + sql.kw("NOT VALID")))
    return table, name, edits


def _sql_file(migration: Migration, op: AddConstraint) -> Fix | None:
    statement = statement_of(migration, op, None)
    if statement is None:
        return None
    result = _not_valid_edits(migration, op, statement)
    if isinstance(result, str):
        return display(result)
    table, name, edits = result
    sql = Sql(is_lower(statement.sql))
    validate = sql.validate(table, name)
    text = migration.text
    what = _what(op)
    if explicit_block(migration, op):
        commit = after_commit(migration, op)
        if commit is None:
            return display("Add the constraint NOT VALID and VALIDATE it after COMMIT")
        edits.append(statements_after(text, commit.span.end, [validate]))
        title = f"Add the {what} NOT VALID and VALIDATE it after COMMIT"
        return Fix(title=title, edits=edits, applicability=Applicability.SAFE)
    if runs_alone(migration, op):
        edits.append(statements_after(text, op.span.end, [validate]))
        title = f"Add the {what} NOT VALID and VALIDATE it in the next statement"
        return Fix(title=title, edits=edits, applicability=Applicability.SAFE)
    plan = Planned(f"validate_{name.strip(chr(34))}", [validate], down_note=DOWN_NOTE)
    files = next_migrations(migration, [plan])
    if isinstance(files, str):
        return display(f"Add the {what} NOT VALID; VALIDATE CONSTRAINT it in a new migration")
    return Fix(
        title=f"Add the {what} NOT VALID and VALIDATE it in a new migration ({files.names})",
        edits=edits,
        applicability=Applicability.UNSAFE,
        files=files.files,
    )


def _string_edits(
    migration: Migration, pyfile: PyFile, op: AddConstraint
) -> tuple[str, str, list[Edit], bool] | Fix | None:
    """(table, name, edits, generated name) for SQL inside a plain string literal."""
    statement = statement_of(migration, op, pyfile)
    string_node = pyfile.string_containing(op.span)
    if statement is None or string_node is None:
        return None
    result = _not_valid_edits(migration, op, statement)
    if isinstance(result, str):
        return display(result)
    table, name, edits = result
    string_span = pyfile.span(string_node)
    if not all(inside_plain_literal(migration.text, string_span, e.span.start) for e in edits):
        return None
    return table, name, edits, op.name is None


def _alembic_execute(migration: Migration, pyfile: PyFile, op: AddConstraint) -> Fix | None:
    execute = execute_of(migration, op)
    if execute is None or execute.origin.rpartition(".")[0] != "op":
        return None
    call = pyfile.call_at(execute.span)
    stmt = statement_owning(pyfile, call) if call is not None else None
    if stmt is None:
        return None
    result = _string_edits(migration, pyfile, op)
    if not isinstance(result, tuple):
        return result
    table, name, edits, _ = result
    validate = Sql(is_lower(execute.sql or "")).validate(table, name)
    indent = indentation(pyfile.text, pyfile.span(stmt).start)
    lines = autocommit_lines(
        pyfile,
        indent,
        pyfile.indent_unit(stmt),
        [execute_call(validate, quote_of(pyfile, call))],
        block=execute.in_transaction,
    )
    edits.append(lines_after(pyfile, stmt, lines))
    where = "in an autocommit block" if execute.in_transaction else "in a statement of its own"
    return Fix(
        title=f"Add the {_what(op)} NOT VALID and VALIDATE it {where}",
        edits=edits,
        applicability=safe_if(not execute.in_transaction or alone(migration, op)),
    )


def _django_run_sql(migration: Migration, pyfile: PyFile, op: AddConstraint) -> Fix | None:
    execute = execute_of(migration, op)
    call = pyfile.call_at(execute.span) if execute is not None else None
    if call is None or not in_operations(pyfile, call):
        return None
    prefix = django_prefix(pyfile, call)
    atomic = atomic_false(pyfile)
    if prefix is None or atomic is None:
        return None
    result = _string_edits(migration, pyfile, op)
    if not isinstance(result, tuple):
        return result
    table, name, edits, _ = result
    validate = Sql(is_lower((execute.sql if execute else "") or "")).validate(table, name)
    quote = quote_of(pyfile, call)
    run_sql = PyCall(
        f"{prefix}RunSQL",
        [
            ("sql", py_literal(validate, quote)),
            ("reverse_sql", f"{prefix}RunSQL.noop"),
        ],
    )
    edits.extend(elements_after(pyfile, call, [run_sql], DJANGO_WIDTH))
    edits.extend(atomic)
    return Fix(
        title=f"Add the {_what(op)} NOT VALID and VALIDATE it in a RunSQL of its own"
        + (" (atomic = False)" if atomic else ""),
        edits=edits,
        applicability=safe_if(not atomic or alone(migration, op)),
    )


# --------------------------------------------------------------------------- Alembic


def _check_columns(call: ast.Call) -> list[str]:
    """The first column a CHECK condition names (what PostgreSQL names the constraint after)."""
    condition = string(argument(call, 2, "condition"))
    tokens = tokenize(condition or "") or []
    for token in tokens:
        if token.token_type.name in ("VAR", "IDENTIFIER") and token.text.isidentifier():
            return [token.text]
    return []


def _alembic_call(migration: Migration, pyfile: PyFile, op: AddConstraint) -> Fix | None:
    receiver = op.origin.rpartition(".")[0]
    call = pyfile.call_at(op.span)
    if receiver != "op" or call is None:
        return None  # batch_op.*: a batch block runs its operations at its end
    stmt = statement_owning(pyfile, call)
    if stmt is None or literal(keyword(call, "postgresql_not_valid")) is True:
        return None
    quote = quote_of(pyfile, call)
    name_node = argument(call, 0, "constraint_name")
    name, known = alembic_name(name_node)
    if not known or name_node is None:
        return None  # a name computed at run time
    edits: list[Edit] = []
    generated = name is None
    if name is None:
        columns = op.columns if op.kind == "foreign_key" else _check_columns(call)
        name = default_name(op.kind, op.table, columns)
        edits.append(replace(pyfile.span(name_node), py_literal(name, quote)))
    schema = string(keyword(call, "source_schema" if op.kind == "foreign_key" else "schema"))
    unit = pyfile.indent_unit(stmt)
    edits.extend(pyfile.set_keyword(call, "postgresql_not_valid", "True"))
    validate = Sql().validate(qualified(op.table, schema), quote_ident(name))
    indent = indentation(pyfile.text, pyfile.span(stmt).start)
    block = op.in_transaction
    lines = autocommit_lines(pyfile, indent, unit, [execute_call(validate, quote)], block=block)
    edits.append(lines_after(pyfile, stmt, lines))
    where = "in an autocommit block" if block else "after it"
    named = f" (named {name})" if generated else ""
    return Fix(
        title=f"Add the {_what(op)} NOT VALID (postgresql_not_valid=True) and VALIDATE it "
        f"{where}{named}",
        edits=edits,
        applicability=safe_if(not generated and (not block or alone(migration, op))),
    )


# --------------------------------------------------------------------------- Django


def _django_operation(migration: Migration, pyfile: PyFile, op: AddConstraint) -> Fix | None:
    if op.kind != "check":
        return None
    version = django_version(pyfile.text)
    if version is not None and version < (4, 0):
        return display(BEFORE_DJANGO_4)
    call = pyfile.call_at(op.span)
    if call is None or not in_operations(pyfile, call):
        return None
    model = model_argument(call)
    constraint = argument(call, 1, "constraint")
    name_node = keyword(constraint, "name") if isinstance(constraint, ast.Call) else None
    keyword_span = op.spans.get("keyword")
    atomic = atomic_false(pyfile)
    if model is None or name_node is None or keyword_span is None or atomic is None:
        return None
    validate = PyCall(
        "ValidateConstraint",
        [("model_name", pyfile.segment(model)), ("name", pyfile.segment(name_node))],
    )
    edits: list[Edit] = [replace(keyword_span, "AddConstraintNotValid")]
    edits.extend(elements_after(pyfile, call, [validate], DJANGO_WIDTH))
    edits.extend(
        ensure_names(pyfile, POSTGRES_OPERATIONS, ["AddConstraintNotValid", "ValidateConstraint"])
    )
    edits.extend(atomic)
    return Fix(
        title="Use AddConstraintNotValid, then ValidateConstraint"
        + (" (atomic = False)" if atomic else ""),
        edits=edits,
        applicability=safe_if(not atomic or alone(migration, op)),
    )


# --------------------------------------------------------------------------- VALIDATE


def _validate_later(migration: Migration, op: ValidateConstraint) -> Fix | None:
    """A VALIDATE CONSTRAINT that runs in the transaction of its NOT VALID ADD: move it out."""
    if op.origin == "sql" and in_do_block(migration, op):
        return display(IN_DO_BLOCK)
    if migration.language == "sql":
        if explicit_block(migration, op):
            return display("Move the VALIDATE CONSTRAINT after the COMMIT of its ADD CONSTRAINT")
        files = next_migrations(
            migration,
            [
                Planned(
                    f"validate_{op.name}",
                    [migration.text[op.span.start : op.span.end]],
                    down_note=DOWN_NOTE,
                )
            ],
        )
        if isinstance(files, str):
            return display("Move the VALIDATE CONSTRAINT to a new migration")
        return Fix(
            title=f"Move the VALIDATE CONSTRAINT to a new migration ({files.names})",
            edits=[remove_statement(migration.text, op.span)],
            applicability=Applicability.UNSAFE,
            files=files.files,
        )
    pyfile = PyFile(migration.text)
    if pyfile.tree is None:
        return None
    if migration.tool == "django":
        atomic = atomic_false(pyfile)
        if not atomic:
            return None
        return Fix(
            title="Set atomic = False so that the VALIDATE runs after the ADD committed",
            edits=atomic,
            applicability=safe_if(alone(migration, op, also=1)),
        )
    if migration.tool != "alembic" or op.origin != "sql":
        return None
    execute = execute_of(migration, op)
    if execute is None or execute.origin.rpartition(".")[0] != "op":
        return None
    if statements_in(migration, execute.span) > 1:
        return display("Run the VALIDATE in an op.execute() of its own in an autocommit block")
    call = pyfile.call_at(execute.span)
    stmt = statement_owning(pyfile, call) if call is not None else None
    wrap = pyfile.wrap(stmt, AUTOCOMMIT) if stmt is not None else None
    if wrap is None:
        return None
    return Fix(
        title="Run the VALIDATE in an autocommit block (after the ADD committed)",
        edits=wrap,
        applicability=safe_if(alone(migration, op, also=1)),
    )
