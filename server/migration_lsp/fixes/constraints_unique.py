"""unique-using-index (unique-constraint-without-index): build the constraint's unique index
CONCURRENTLY, outside a transaction, then attach it:

    CREATE UNIQUE INDEX CONCURRENTLY IF NOT EXISTS users_email_key ON users (email);
    ALTER TABLE users ADD CONSTRAINT users_email_key UNIQUE USING INDEX users_email_key;

(PRIMARY KEY likewise). The index is named like the constraint (PostgreSQL's default
`<table>_<cols>_key` / `<table>_pkey` for an unnamed one), so the constraint keeps its name.

- Alembic `op.create_unique_constraint` / `op.create_primary_key` become
  `op.create_index(..., unique=True, postgresql_concurrently=True)` in an autocommit block,
  followed by `op.execute("ALTER TABLE ... USING INDEX ...")`.
- Django `AddConstraint(UniqueConstraint(fields=..., name=...))` becomes two `RunSQL`s (the
  second carries the original AddConstraint as `state_operations`, so Django's model state keeps
  the constraint) with `atomic = False`. `unique=True` fields get no fix.
- SQL: the two statements in place where the file's statements run one by one; goose and Flyway
  files holding only this statement are made non-transactional; otherwise new migrations named
  the tool's way carry them (golang-migrate, Prisma and dbmate run several statements of a file
  in one transaction, so the index and the constraint get one file each).

SAFE when everything stays in the file and nothing else changes transaction; UNSAFE where a new
file is needed or an unnamed constraint is named.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass
from pathlib import PurePath

from sqlglot.tokenizer_core import TokenType

from migration_lsp.findings import Applicability, Edit, Finding, Fix
from migration_lsp.model import AddConstraint, Migration
from migration_lsp.parse.python import argument, keyword, string
from migration_lsp.text import Span

from .base import display, operation_for
from .constraints_common import (
    ALEMBIC_WIDTH,
    AUTOCOMMIT,
    DJANGO_WIDTH,
    IN_DO_BLOCK,
    SPLIT_ACTIONS,
    alembic_name,
    alone,
    django_prefix,
    execute_call,
    execute_of,
    explicit_block,
    in_do_block,
    in_operations,
    next_migrations,
    non_transactional_header,
    remove_statement,
    runs_alone,
    safe_if,
)
from .constraints_files import NEEDS_ONE_STATEMENT, Planned
from .constraints_py import (
    PyCall,
    PyList,
    lines_after,
    quote_of,
    reindented,
    render,
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
)
from .django import atomic_false
from .python import PyFile
from .text import indentation, newline_of, replace

IN_BLOCK = (
    "Move the constraint out of BEGIN … COMMIT: its index has to be built CONCURRENTLY, which "
    "cannot run inside a transaction block"
)
_ALEMBIC_KEYWORDS = frozenset({"constraint_name", "table_name", "columns", "schema"})
_DJANGO_KEYWORDS = frozenset({"fields", "name", "violation_error_message", "violation_error_code"})
NON_TRANSACTIONAL = (
    "Put the constraint in a migration that runs outside a transaction: build its unique index "
    "CONCURRENTLY there, then ADD CONSTRAINT ... USING INDEX"
)
_TAIL_WORDS = frozenset({"DEFERRABLE", "NOT", "INITIALLY", "DEFERRED", "IMMEDIATE"})


def unique_using_index(finding: Finding, migration: Migration) -> Fix | None:
    op = operation_for(finding, migration, AddConstraint)
    if op is None or op.using_index or op.implicit or op.kind not in ("unique", "primary_key"):
        return None  # a new column with unique=True: the field has to change
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
    if migration.tool == "django" and op.origin.rpartition(".")[2] == "AddConstraint":
        return _django_operation(migration, pyfile, op)
    if migration.tool == "django" and op.origin == "sql":
        return display(
            "Build the index in a RunSQL of its own (CREATE UNIQUE INDEX CONCURRENTLY, "
            "atomic = False), then ADD CONSTRAINT ... UNIQUE USING INDEX in another"
        )
    return None


def _file_name(migration: Migration) -> str:
    """The fixed migration as its tool names it (`000003_add_key`, `V3__add_key`)."""
    path = PurePath(migration.path.replace("\\", "/"))
    if migration.tool == "prisma":
        return path.parent.name
    return path.name.removesuffix(".sql").removesuffix(".up")


def _label(primary: bool) -> str:
    return "primary key" if primary else "constraint"


# --------------------------------------------------------------------------- SQL statements


@dataclass(slots=True)
class _Unique:
    """What a statement's `ADD [CONSTRAINT name] UNIQUE|PRIMARY KEY (cols) ...` says."""

    table: str
    name: str
    generated: bool
    columns: str
    nulls: str
    tail: str
    primary: bool

    def statements(self, sql: Sql) -> tuple[str, str]:
        index = sql.unique_index(self.table, self.name, self.columns, if_not_exists=True)
        if self.nulls:
            index += f" {self.nulls}"
        return index, sql.using_index(self.table, self.name, self.primary, self.tail)


def _read(op: AddConstraint, statement: Statement) -> _Unique | str:
    """The constraint of `op` read from its statement; a DISPLAY title when the fix cannot
    rewrite it."""
    table = statement.table_text()
    add = statement.find("ADD")
    if table is None or add is None:
        return "Create the unique index CONCURRENTLY first, then ADD CONSTRAINT ... USING INDEX"
    tokens = statement.tokens

    def word(i: int) -> str:
        ok = i < len(tokens) and tokens[i].token_type is not TokenType.IDENTIFIER
        return " ".join(tokens[i].text.upper().split()) if ok else ""

    i = add + 1
    name = None
    if word(i) == "CONSTRAINT" and i + 1 < len(tokens):
        name = statement.raw(i + 1)
        i += 2
    primary = word(i) in ("PRIMARY KEY", "PRIMARY")
    i += 2 if word(i) == "PRIMARY" else 1
    nulls = ""
    if word(i) == "NULLS":
        end = i + 2 if word(i + 1) == "NOT" else i + 1
        if word(i + 1) == "NOT":
            nulls = statement.raw(i, end)
        i = end + 1
    found = statement.parenthesized(i)
    if found is None:
        return "Create the unique index CONCURRENTLY first, then ADD CONSTRAINT ... USING INDEX"
    opening, closing = found
    columns = statement.sql[tokens[opening].end + 1 : tokens[closing].start].strip()
    rest = tokens[closing + 1 :]
    if any(word(closing + 1 + k) not in _TAIL_WORDS for k in range(len(rest))):
        return (
            "Create the unique index CONCURRENTLY with these options first, then ADD CONSTRAINT "
            "... USING INDEX"
        )
    tail = statement.raw(closing + 1, len(tokens) - 1) if rest else ""
    generated = name is None
    if name is None:
        names = [
            t.text for t in tokens[opening + 1 : closing] if t.token_type is not TokenType.COMMA
        ]
        kind = "primary_key" if primary else "unique"
        name = quote_ident(default_name(kind, op.table, names))
    return _Unique(table, name, generated, columns, nulls, tail, primary)


def _sql_file(migration: Migration, op: AddConstraint) -> Fix | None:
    statement = statement_of(migration, op, None)
    if statement is None:
        return None
    if explicit_block(migration, op):
        return display(IN_BLOCK)
    if actions_in(migration, op) > 1:
        return display(SPLIT_ACTIONS)
    read = _read(op, statement)
    if isinstance(read, str):
        return display(read)
    sql = Sql(is_lower(statement.sql))
    index, constraint = read.statements(sql)
    text = migration.text
    nl = newline_of(text)
    both = f"{index};{nl}{constraint}"
    label = _label(read.primary)
    title = f"Build the unique index concurrently, then add the {label} USING INDEX"
    if runs_alone(migration, op):
        return Fix(title=title, edits=[replace(op.span, both)], applicability=Applicability.SAFE)
    # the new migrations undo nothing: the fixed file's own down step still drops the
    # constraint, and its index with it (dropping it earlier would make that step fail)
    note = f"nothing to undo here: rolling back {_file_name(migration)} drops {read.name}"
    slug = read.name.strip('"')
    if alone(migration, op, settings=migration.tool in NEEDS_ONE_STATEMENT):
        header = non_transactional_header(migration)
        if header is None:
            return display(NON_TRANSACTIONAL)
        if migration.tool not in NEEDS_ONE_STATEMENT:
            how = {"goose": "-- +goose NO TRANSACTION", "flyway": "executeInTransaction=false"}
            return Fix(
                title=f"{title} (run the file with `{how.get(migration.tool, '')}`)",
                edits=[*header, replace(op.span, both)],
                applicability=safe_if(not read.generated),
            )
        plans = [Planned(f"add_{slug}", [constraint], down_note=note)]
        files = next_migrations(migration, plans)
        if isinstance(files, str):
            return display(files)
        return Fix(
            title=f"Build the unique index concurrently here, then add the {label} USING INDEX "
            f"in a new migration ({files.names})",
            edits=[*header, replace(op.span, index)],
            applicability=Applicability.UNSAFE,
            files=files.files,
        )
    if migration.tool in NEEDS_ONE_STATEMENT:
        plans = [
            Planned(f"index_{slug}", [index], down_note=note, outside_transaction=True),
            Planned(f"add_{slug}", [constraint], down_note=note),
        ]
    else:
        plans = [
            Planned(f"add_{slug}", [index, constraint], down_note=note, outside_transaction=True)
        ]
    files = next_migrations(migration, plans)
    if isinstance(files, str):
        return display(files)
    return Fix(
        title=f"Move the {label} to new migrations: build its unique index concurrently, then "
        f"add it USING INDEX ({files.names})",
        edits=[remove_statement(text, op.span)],
        applicability=Applicability.UNSAFE,
        files=files.files,
    )


# --------------------------------------------------------------------------- Alembic


def _alembic_call(migration: Migration, pyfile: PyFile, op: AddConstraint) -> Fix | None:
    receiver = op.origin.rpartition(".")[0]
    call = pyfile.call_at(op.span)
    if receiver != "op" or call is None:
        return None  # batch_op.*: a batch block runs its operations at its end
    stmt = statement_owning(pyfile, call)
    if stmt is None:
        return None
    primary = op.kind == "primary_key"
    extra = [kw.arg for kw in call.keywords if kw.arg not in _ALEMBIC_KEYWORDS]
    if extra or len(call.args) > 3:
        return display(
            "Create the unique index with op.create_index(..., unique=True, "
            "postgresql_concurrently=True) in an autocommit block, then add the "
            f'{_label(primary)} with op.execute("ALTER TABLE ... USING INDEX ...")'
        )
    quote = quote_of(pyfile, call)
    name_node = argument(call, 0, "constraint_name")
    name, known = alembic_name(name_node)
    if not known or name_node is None or (name is None and not op.columns):
        return None
    edits: list[Edit] = []
    generated = name is None
    if name is None:
        name = default_name(op.kind, op.table, op.columns)
        edits.append(replace(pyfile.span(name_node), py_literal(name, quote)))
    edits.append(replace(pyfile.span(call.func), f"{receiver}.create_index"))
    for kw in call.keywords:
        if kw.arg == "constraint_name":
            start = pyfile.span(kw).start
            edits.append(replace(Span(start, start + len("constraint_name")), "index_name"))
    indent = indentation(pyfile.text, pyfile.span(stmt).start)
    unit = pyfile.indent_unit(stmt)
    block = op.in_transaction
    if block:
        wrap = pyfile.wrap(stmt, AUTOCOMMIT)
        if wrap is None:
            return None
        edits.extend(wrap)
    edits.extend(
        pyfile.set_keyword(
            call, "unique", "True, postgresql_concurrently=True", extra_indent=unit if block else ""
        )
    )
    schema = string(keyword(call, "schema"))
    constraint = Sql().using_index(qualified(op.table, schema), quote_ident(name), primary)
    lines = render(execute_call(constraint, quote), indent, unit, ALEMBIC_WIDTH)
    edits.append(lines_after(pyfile, stmt, lines))
    where = " in an autocommit block" if block else ""
    named = f" (named {name})" if generated else ""
    return Fix(
        title=f"Create the unique index concurrently{where}, then add the {_label(primary)} "
        f"USING INDEX{named}",
        edits=edits,
        applicability=safe_if(not generated and (not block or alone(migration, op))),
    )


def _alembic_execute(migration: Migration, pyfile: PyFile, op: AddConstraint) -> Fix | None:
    execute = execute_of(migration, op)
    if execute is None or execute.origin.rpartition(".")[0] != "op":
        return None
    if statements_in(migration, execute.span) > 1 or actions_in(migration, op) > 1:
        return display(
            "Run the statement in an op.execute() of its own first: its index has to be built "
            "CONCURRENTLY, outside the transaction"
        )
    statement = statement_of(migration, op, pyfile)
    call = pyfile.call_at(execute.span)
    stmt = statement_owning(pyfile, call) if call is not None else None
    if statement is None or stmt is None or call is None:
        return None
    read = _read(op, statement)
    if isinstance(read, str):
        return display(read)
    sql = Sql(is_lower(statement.sql))
    index, constraint = read.statements(sql)
    new_quotes = set(index) & set("\"'\\")
    if not statement.plain(migration.text, 0, len(statement.sql)) or not new_quotes <= set(
        statement.sql
    ):
        return None
    edits: list[Edit] = [replace(op.span, index)]
    block = execute.in_transaction
    if block:
        wrap = pyfile.wrap(stmt, AUTOCOMMIT)
        if wrap is None:
            return None
        edits.extend(wrap)
    indent = indentation(pyfile.text, pyfile.span(stmt).start)
    unit = pyfile.indent_unit(stmt)
    lines = render(execute_call(constraint, quote_of(pyfile, call)), indent, unit, ALEMBIC_WIDTH)
    edits.append(lines_after(pyfile, stmt, lines))
    where = " in an autocommit block" if block else ""
    return Fix(
        title=f"Build the unique index concurrently{where}, then add the "
        f"{_label(read.primary)} USING INDEX",
        edits=edits,
        applicability=safe_if(not read.generated and (not block or alone(migration, op))),
    )


# --------------------------------------------------------------------------- Django


def _django_operation(migration: Migration, pyfile: PyFile, op: AddConstraint) -> Fix | None:
    call = pyfile.call_at(op.span)
    if call is None or not in_operations(pyfile, call):
        return None
    constraint = argument(call, 1, "constraint")
    prefix = django_prefix(pyfile, call)
    atomic = atomic_false(pyfile)
    if not isinstance(constraint, ast.Call) or prefix is None or atomic is None:
        return None
    extra = [kw.arg for kw in constraint.keywords if kw.arg not in _DJANGO_KEYWORDS]
    if extra or constraint.args or not op.name or not op.columns:
        return display(
            'Build the index with RunSQL("CREATE UNIQUE INDEX CONCURRENTLY ...") in a '
            'migration with atomic = False, then add the constraint with RunSQL("ALTER TABLE '
            '... ADD CONSTRAINT ... UNIQUE USING INDEX ...", state_operations=[AddConstraint(...)])'
        )
    sql = Sql()
    table = quote_ident(op.table)
    name = quote_ident(op.name)
    columns = ", ".join(quote_ident(c) for c in op.columns)
    quote = quote_of(pyfile, call)
    text = pyfile.text
    indent = indentation(text, pyfile.span(call).start)
    unit = pyfile.indent_unit(call)
    index = PyCall(
        f"{prefix}RunSQL",
        [
            ("sql", py_literal(sql.unique_index(table, name, columns, if_not_exists=True), quote)),
            ("reverse_sql", py_literal(sql.drop_index(name), quote)),
        ],
    )
    attach = PyCall(
        f"{prefix}RunSQL",
        [
            ("sql", py_literal(sql.using_index(table, name, primary=False), quote)),
            ("reverse_sql", py_literal(sql.drop_constraint(table, name), quote)),
            ("state_operations", PyList([reindented(pyfile, call, unit * 2)])),
        ],
    )
    lines = render(index, indent, unit, DJANGO_WIDTH, suffix=",")
    lines += render(attach, indent, unit, DJANGO_WIDTH)
    new_text = pyfile.newline.join(lines)[len(indent) :]
    edits: list[Edit] = [replace(pyfile.span(call), new_text), *atomic]
    return Fix(
        title="Build the unique index concurrently (RunSQL), then add the constraint USING INDEX"
        + (" (atomic = False)" if atomic else ""),
        edits=edits,
        applicability=safe_if(not atomic or alone(migration, op)),
    )
