"""What the three constraint fixes share: where a migration's statements run (in the file's
transaction, one by one, in an explicit BEGIN block), placing a statement after another in a SQL
file, making a SQL file non-transactional its tool's way, and the Alembic and Django pieces (the
call behind an operation, the autocommit block, Django's `operations` list)."""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass

from migration_lsp.findings import Applicability, Edit, NewFile
from migration_lsp.model import (
    ExecuteSQL,
    Migration,
    Operation,
    TransactionControl,
)
from migration_lsp.parse.python import argument, string
from migration_lsp.text import Span

from .base import in_explicit_transaction, inside_other_statement, other_statements
from .constraints_files import Planned, can_run_outside_transaction, new_files
from .constraints_py import PyCall, operations_element, render
from .constraints_py import string as py_literal
from .python import PyFile
from .text import insert, line_end, line_start, newline_of, next_line_start, replace

AUTOCOMMIT = "with op.get_context().autocommit_block():"
ALEMBIC_WIDTH = 99
DJANGO_WIDTH = 88
"""Django formats migrations with black's default line length."""

SPLIT_ACTIONS = (
    "Split the statement into one ALTER TABLE per change first: the fix moves this change and "
    "cannot take the others along"
)
NO_NAME = "Give the constraint a name first: the fix has to refer to it"

_DBMATE_UP = re.compile(r"^--\s*migrate:up\b(.*)$", re.MULTILINE | re.IGNORECASE)
_DBMATE_TX = re.compile(r"\btransaction:(true|false)\b", re.IGNORECASE)
_GOOSE_NO_TX = re.compile(r"^--\s*\+goose\s+NO\s+TRANSACTION\b", re.MULTILINE | re.IGNORECASE)
_FLYWAY_INLINE = re.compile(
    r"^--\s*flyway:executeInTransaction\s*=\s*(true|false)\b", re.MULTILINE | re.IGNORECASE
)


def safe_if(condition: bool) -> Applicability:
    return Applicability.SAFE if condition else Applicability.UNSAFE


def alone(migration: Migration, op: Operation, *, also: int = 0, settings: bool = False) -> bool:
    """Nothing else (but `also` statements) runs in the step of `op`: committing before or after
    it changes no other statement's atomicity. Plain `SET`s do not count, unless `settings`
    (a file sent as one query runs them in one implicit transaction with `op`)."""
    return other_statements(migration, op, neutral_settings=not settings) <= also


# --------------------------------------------------------------------------- SQL files


def runs_alone(migration: Migration, op: Operation) -> bool:
    """Each statement of the file runs in a transaction of its own (plain SQL folders, goose
    `NO TRANSACTION`, Flyway `executeInTransaction=false`): a statement added after `op` runs
    after `op` committed. Not for tools that send the file as one query (golang-migrate,
    Prisma, dbmate), where two statements form one implicit transaction."""
    if op.in_transaction:
        return False
    return migration.tool not in ("golang-migrate", "prisma", "dbmate")


def explicit_block(migration: Migration, op: Operation) -> bool:
    return op.origin == "sql" and in_explicit_transaction(migration, op)


IN_DO_BLOCK = (
    "Move the statement out of the DO block first: a DO block runs in one transaction, so the "
    "fix cannot put a commit after it"
)


def in_do_block(migration: Migration, op: Operation) -> bool:
    """`op` is a statement inside another statement (`DO $$ ... $$`)."""
    return inside_other_statement(migration, op)


def statement_end(text: str, end: int) -> int:
    """Offset just after the `;` that ends a statement whose last token ends at `end` (`end`
    when the statement has none)."""
    i = end
    while i < len(text):
        ch = text[i]
        if ch == ";":
            return i + 1
        if text.startswith("--", i):
            i = next_line_start(text, i)
            continue
        if text.startswith("/*", i):
            close = text.find("*/", i + 2)
            if close == -1:
                return end
            i = close + 2
            continue
        if not ch.isspace():
            return end
        i += 1
    return end


def statements_after(text: str, end: int, statements: list[str]) -> Edit:
    """`statements` inserted on lines of their own after the statement ending at `end`."""
    nl = newline_of(text)
    after = statement_end(text, end)
    semicolon = "" if after > end else ";"
    at = after
    rest = text[after : line_end(text, after)].strip()
    if not rest or rest.startswith("--"):
        at = line_end(text, after)
    return insert(at, semicolon + "".join(f"{nl}{s};" for s in statements))


def after_commit(migration: Migration, op: Operation) -> Operation | None:
    """The COMMIT that ends the explicit transaction `op` is in."""
    for other in sorted(migration.operations, key=lambda o: o.span.start):
        if (
            other.step is op.step
            and other.span.start > op.span.end
            and isinstance(other, TransactionControl)
            and other.kind in ("commit", "rollback")
        ):
            return other if other.kind == "commit" else None
    return None


def remove_statement(text: str, span: Span) -> Edit:
    """Deletes a statement with its `;` (and its lines when it has them to itself)."""
    end = statement_end(text, span.end)
    start = span.start
    before = text[line_start(text, start) : start]
    after = text[end : line_end(text, end)]
    if not before.strip() and not after.strip():
        start = line_start(text, start)
        end = next_line_start(text, end)
    return replace(Span(start, end), "")


def non_transactional_header(migration: Migration) -> list[Edit] | None:
    """Edits making the runner execute the whole forward step outside a transaction (dbmate:
    the section marker; goose: `NO TRANSACTION`; Flyway: the inline script setting); None when
    the tool has no such switch."""
    text = migration.text
    nl = newline_of(text)
    if migration.tool == "goose":
        return [] if _GOOSE_NO_TX.search(text) else [insert(0, f"-- +goose NO TRANSACTION{nl}")]
    if migration.tool == "flyway":
        inline = _FLYWAY_INLINE.search(text)
        if inline is not None:
            if inline.group(1).lower() == "false":
                return []
            return [replace(Span(inline.start(1), inline.end(1)), "false")]
        return [insert(0, f"-- flyway:executeInTransaction=false{nl}")]
    if migration.tool == "dbmate":
        marker = _DBMATE_UP.search(text)
        if marker is None:
            return None
        setting = _DBMATE_TX.search(marker.group(1))
        if setting is not None:
            if setting.group(1).lower() == "false":
                return []
            start = marker.start(1) + setting.start(1)
            return [replace(Span(start, start + 4), "false")]
        end = line_end(text, marker.start())
        spacer = "" if text[marker.start() : end].endswith((" ", "\t")) else " "
        return [insert(end, f"{spacer}transaction:false")]
    if migration.tool in ("golang-migrate", "prisma"):
        return []  # a file of one statement runs outside a transaction by itself
    return None


@dataclass(slots=True)
class Files:
    """New migrations for a fix, or why there can be none (the title of a DISPLAY fix)."""

    files: list[NewFile]
    names: str


def next_migrations(migration: Migration, plans: list[Planned]) -> Files | str:
    runner = {
        "flyway": "Flyway",
        "dbmate": "dbmate",
        "goose": "goose",
        "golang-migrate": "golang-migrate",
        "prisma": "Prisma",
    }.get(migration.tool, "the runner")
    if not all(can_run_outside_transaction(migration, plan) for plan in plans):
        return f"Put it in a migration of its own that {runner} runs outside a transaction"
    files = new_files(migration, plans, newline_of(migration.text))
    if files is None:
        return "Put it in a new migration (the file's name does not say its version)"
    names = ", ".join(f.path for f in files if not f.path.endswith(".down.sql"))
    return Files(files, names)


# --------------------------------------------------------------------------- Python files


def execute_of(migration: Migration, op: Operation) -> ExecuteSQL | None:
    """The `op.execute` / `RunSQL` call whose string holds the SQL statement `op`."""
    return next(
        (
            e
            for e in migration.operations
            if isinstance(e, ExecuteSQL) and e.span.contains(op.span) and e.span != op.span
        ),
        None,
    )


def alembic_name(node: ast.expr | None) -> tuple[str | None, bool]:
    """(name, known) of a constraint name argument: a string, `op.f("...")`, or None (unnamed:
    the name comes from PostgreSQL or from the metadata's naming convention)."""
    if node is None:
        return None, True
    if isinstance(node, ast.Constant) and node.value is None:
        return None, True
    if (
        isinstance(node, ast.Call)
        and node.args
        and isinstance(node.func, ast.Attribute)
        and node.func.attr == "f"
    ):
        return string(node.args[0]), string(node.args[0]) is not None
    value = string(node)
    return value, value is not None


def autocommit_lines(
    pyfile: PyFile, indent: str, unit: str, calls: list[PyCall], *, block: bool
) -> list[str]:
    """`calls` at `indent`, inside `with op.get_context().autocommit_block():` when `block`."""
    if not block:
        return [x for c in calls for x in render(c, indent, unit, ALEMBIC_WIDTH)]
    inner = indent + unit
    return [
        indent + AUTOCOMMIT,
        *(x for c in calls for x in render(c, inner, unit, ALEMBIC_WIDTH)),
    ]


def execute_call(sql: str, quote: str) -> PyCall:
    return PyCall("op.execute", [(None, py_literal(sql, quote))])


_DJANGO_VERSION = re.compile(r"^#\s*Generated by Django (\d+)\.(\d+)", re.MULTILINE)

BEFORE_DJANGO_4 = (
    "AddConstraintNotValid and ValidateConstraint need Django 4.0+: add the constraint with "
    'RunSQL("ALTER TABLE ... NOT VALID") and VALIDATE it in another RunSQL of a migration '
    "with atomic = False"
)


def django_version(text: str) -> tuple[int, int] | None:
    """The Django version in the `# Generated by Django X.Y` header, if any."""
    found = _DJANGO_VERSION.search(text)
    return (int(found.group(1)), int(found.group(2))) if found else None


def django_prefix(pyfile: PyFile, call: ast.Call) -> str | None:
    """How the file spells Django's migration operations (`migrations.`), from `call`."""
    func = call.func
    if isinstance(func, ast.Attribute):
        return pyfile.segment(func.value) + "."
    return None


def in_operations(pyfile: PyFile, call: ast.Call) -> bool:
    """`call` is an element of the Migration class's `operations` list, alone on its lines."""
    parent = pyfile.parent(call)
    holder = pyfile.parent(parent) if parent is not None else None
    if not isinstance(holder, ast.Assign | ast.AnnAssign):
        return False
    targets = holder.targets if isinstance(holder, ast.Assign) else [holder.target]
    named = any(isinstance(t, ast.Name) and t.id == "operations" for t in targets)
    return named and operations_element(pyfile, call)


def model_argument(call: ast.Call) -> ast.expr | None:
    return argument(call, 0, "model_name")
