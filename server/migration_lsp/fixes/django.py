"""Edits of Django migration files: `atomic = False` on the Migration class, the concurrent index
operations of `django.contrib.postgres.operations` and their import."""

from __future__ import annotations

import ast

from migration_lsp.findings import Edit
from migration_lsp.parse.python import literal

from .python import PyFile, is_docstring
from .text import indentation, insert, is_blank, line_end, line_start, next_line_start, replace

POSTGRES_OPERATIONS = "django.contrib.postgres.operations"
CONCURRENT = {"AddIndex": "AddIndexConcurrently", "RemoveIndex": "RemoveIndexConcurrently"}


def migration_class(pyfile: PyFile) -> ast.ClassDef | None:
    tree = pyfile.tree
    if tree is None:
        return None
    return next(
        (n for n in tree.body if isinstance(n, ast.ClassDef) and n.name == "Migration"), None
    )


def _assigned(stmt: ast.stmt, name: str) -> ast.expr | None:
    if isinstance(stmt, ast.Assign) and any(
        isinstance(t, ast.Name) and t.id == name for t in stmt.targets
    ):
        return stmt.value
    if (
        isinstance(stmt, ast.AnnAssign)
        and isinstance(stmt.target, ast.Name)
        and stmt.target.id == name
    ):
        return stmt.value
    return None


def atomic_false(pyfile: PyFile) -> list[Edit] | None:
    """Edits setting `atomic = False` on the Migration class ([] when it already is; None when
    the file has no Migration class). A new line goes after `dependencies`, else at the top of
    the class body, in the class's blank-line style."""
    cls = migration_class(pyfile)
    if cls is None:
        return None
    text = pyfile.text
    nl = pyfile.newline
    for stmt in cls.body:
        value = _assigned(stmt, "atomic")
        if value is not None:
            if literal(value) is False:
                return []
            return [replace(pyfile.span(value), "False")]
    body = [s for s in cls.body if not is_docstring(s)] or cls.body
    indent = indentation(text, pyfile.span(body[0]).start)
    if not pyfile.owns_lines(body[0]):
        return None
    line = f"{indent}atomic = False"
    dependencies = next((s for s in cls.body if _assigned(s, "dependencies") is not None), None)
    if dependencies is not None and pyfile.owns_lines(dependencies):
        end = line_end(text, pyfile.span(dependencies).end)
        following = next_line_start(text, end)
        spaced = following < len(text) and is_blank(text[following : line_end(text, following)])
        return [insert(end, nl + (nl if spaced else "") + line)]
    first = line_start(text, pyfile.span(body[0]).start)
    before = line_start(text, max(first - 1, 0))
    spaced = first > 0 and is_blank(text[before : line_end(text, before)])
    return [insert(first, line + nl + (nl if spaced else ""))]
