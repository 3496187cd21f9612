"""`set-lock-timeout`: set `lock_timeout` before the migration's first locking statement, in the
tool's own form (an SQL statement, `op.execute(...)`, a Django `RunSQL`)."""

from __future__ import annotations

import ast

from migration_lsp.findings import Applicability, Finding, Fix
from migration_lsp.model import Migration

from .base import Builder
from .django import migration_class
from .python import PyFile, is_docstring
from .text import indentation, insert, line_start, newline_of

LOCK_TIMEOUT = "5s"
_TITLE = f"Set lock_timeout = '{LOCK_TIMEOUT}' before the first locking statement"


def set_lock_timeout(finding: Finding, migration: Migration) -> Fix | None:
    if migration.language == "sql":
        return _sql(finding, migration)
    if migration.tool == "alembic":
        return _alembic(migration)
    if migration.tool == "django":
        return _django(migration)
    return None


def _fix(edit_offset: int, text: str) -> Fix:
    return Fix(title=_TITLE, edits=[insert(edit_offset, text)], applicability=Applicability.UNSAFE)


def _sql(finding: Finding, migration: Migration) -> Fix | None:
    scope = finding.scope or finding.span
    start = line_start(migration.text, scope.start)
    if migration.text[start : scope.start].strip():  # not at a line start: insert before it
        start = scope.start
    indent = indentation(migration.text, start)
    nl = newline_of(migration.text)
    return _fix(start, f"SET lock_timeout = '{LOCK_TIMEOUT}';{nl}{indent}")


def _alembic(migration: Migration) -> Fix | None:
    pyfile = PyFile(migration.text)
    if pyfile.tree is None:
        return None
    upgrade = next(
        (
            node
            for node in pyfile.tree.body
            if isinstance(node, ast.FunctionDef)
            and (node.name == "upgrade" or node.name.startswith("upgrade_"))
        ),
        None,
    )
    if upgrade is None or not upgrade.body:
        return None
    body = upgrade.body
    first = body[1] if is_docstring(body[0]) and len(body) > 1 else body[0]
    at = line_start(migration.text, pyfile.span(first).start)
    indent = indentation(migration.text, pyfile.span(first).start)
    nl = newline_of(migration.text)
    quote = '"' if "'" not in LOCK_TIMEOUT else "'"
    statement = f"{indent}op.execute({quote}SET lock_timeout = '{LOCK_TIMEOUT}'{quote}){nl}"
    return _fix(at, statement)


def _django(migration: Migration) -> Fix | None:
    pyfile = PyFile(migration.text)
    cls = migration_class(pyfile)
    if cls is None:
        return None
    operations = next(
        (
            stmt.value
            for stmt in cls.body
            if isinstance(stmt, ast.Assign)
            and any(isinstance(t, ast.Name) and t.id == "operations" for t in stmt.targets)
            and isinstance(stmt.value, ast.List)
        ),
        None,
    )
    if not isinstance(operations, ast.List) or not operations.elts:
        return None
    first = operations.elts[0]
    at = line_start(migration.text, pyfile.span(first).start)
    indent = indentation(migration.text, pyfile.span(first).start)
    nl = newline_of(migration.text)
    statement = (
        f"{indent}migrations.RunSQL(\"SET lock_timeout = '{LOCK_TIMEOUT}'\", "
        f"migrations.RunSQL.noop),{nl}"
    )
    return _fix(at, statement)


TIMEOUT_BUILDERS: dict[str, Builder] = {"missing-lock-timeout": set_lock_timeout}
TIMEOUT_FIX_NAMES: dict[str, str] = {"missing-lock-timeout": "set-lock-timeout"}
