"""Python migration code that talks to the database row by row, or through its own ORM session.

Shared by the Alembic and Django parsers: which loops iterate over query results (one statement
per row inside them is a row-by-row data migration) and which names hold an ORM `Session`.
Everything is judged from the function's own text, with `ast`: a local name stands for the
values assigned to it in the same function.
"""

from __future__ import annotations

import ast
import re

from migration_lsp.parse.python import call_name, statements

Names = dict[str, list[ast.expr]]
"""A local name → the expressions assigned to it (`x = ...`, `with ... as x`, `x := ...`)."""

Loop = ast.For | ast.AsyncFor | ast.While

_ROW_METHODS = frozenset(
    {
        # SQLAlchemy: results, queries and ORM queries
        "execute",
        "exec_driver_sql",
        "fetchall",
        "scalars",
        "all",
        "mappings",
        "query",
        "yield_per",
        "filter_by",
        # Django: querysets and cursors
        "filter",
        "exclude",
        "iterator",
        "values_list",
        "order_by",
        "select_related",
        "prefetch_related",
        "only",
        "defer",
        "cursor",
    }
)
"""Methods whose result is (or yields) rows."""

_ROW_ATTRIBUTES = frozenset({"objects", "_default_manager", "_base_manager"})
"""Django managers: `Model.objects...` iterates over rows."""

_WRAPPERS = frozenset({"enumerate", "list", "tuple", "sorted", "reversed", "iter", "set", "tqdm"})
"""Calls that iterate over their first argument's items one by one."""

_BATCH_WORD = re.compile(r"chunk|batch|partition|grouper|page|slice|window", re.IGNORECASE)
"""A loop over chunks of rows issues one statement per chunk, not per row."""

_SESSION_CLASSES = frozenset({"Session", "scoped_session"})
_SESSION_FACTORIES = frozenset({"sessionmaker"})

_MAX_DEPTH = 4


def bound_names(body: list[ast.stmt]) -> Names:
    """The values assigned to simple names anywhere in `body`."""
    names: Names = {}
    # assignments are statements: visiting statements only (not every expression node) keeps
    # this cheap on long migrations; a walrus inside an expression is not followed
    for node in statements(body):
        if isinstance(node, ast.Assign):
            for target in node.targets:
                if isinstance(target, ast.Name):
                    names.setdefault(target.id, []).append(node.value)
        elif isinstance(node, ast.AnnAssign):
            if isinstance(node.target, ast.Name) and node.value is not None:
                names.setdefault(node.target.id, []).append(node.value)
        elif isinstance(node, ast.With | ast.AsyncWith):
            for item in node.items:
                if isinstance(item.optional_vars, ast.Name):
                    names.setdefault(item.optional_vars.id, []).append(item.context_expr)
    return names


def iterates_rows(loop: Loop, names: Names) -> bool:
    """A loop that runs once per row: `for x in <query results>`, or a `while` loop fetching
    one row per turn (`.fetchone()`). A `while True:` batch loop (UPDATE ... LIMIT, `rowcount`
    break) and loops over chunks, `range()` or constants are not."""
    if isinstance(loop, ast.While):
        return any(
            isinstance(node, ast.Call) and call_name(node).rpartition(".")[2] == "fetchone"
            for part in [loop.test, *loop.body]
            for node in ast.walk(part)
        )
    if any(
        isinstance(node, ast.Name) and _BATCH_WORD.search(node.id) for node in ast.walk(loop.target)
    ):
        return False
    iterable = loop.iter
    while (
        isinstance(iterable, ast.Call)
        and isinstance(iterable.func, ast.Name)
        and iterable.func.id in _WRAPPERS
        and iterable.args
    ):
        iterable = iterable.args[0]
    if isinstance(iterable, ast.Call):
        function = call_name(iterable).rpartition(".")[2]
        if function == "range" or _BATCH_WORD.search(function):
            return False
    return _yields_rows(iterable, names, 0)


def _yields_rows(node: ast.expr, names: Names, depth: int) -> bool:
    if depth > _MAX_DEPTH:
        return False
    return any(_row_marker(inner, names, depth) for inner in ast.walk(node))


def _row_marker(node: ast.AST, names: Names, depth: int) -> bool:
    """A query call (`.execute(...)`, `.all()`), a Django manager, or a name bound to rows."""
    if isinstance(node, ast.Call):
        return isinstance(node.func, ast.Attribute) and node.func.attr in _ROW_METHODS
    if isinstance(node, ast.Attribute):
        return node.attr in _ROW_ATTRIBUTES
    if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Load):
        return any(_yields_rows(value, names, depth + 1) for value in names.get(node.id, ()))
    return False


def loop_header(loop: Loop) -> ast.expr:
    """The expression that ends the loop's header line (`iter` of a `for`, `test` of a
    `while`): the header's span runs from the loop's start to its end."""
    return loop.test if isinstance(loop, ast.While) else loop.iter


def is_session(node: ast.expr, names: Names, module: Names, depth: int = 0) -> bool:
    """An ORM session made here: `Session(bind=...)`, `orm.Session(...)`, `sessionmaker(...)()`,
    `scoped_session(...)`, a factory made by `sessionmaker`, or a name bound to one of these."""
    if depth > _MAX_DEPTH:
        return False
    if isinstance(node, ast.Call):
        if isinstance(node.func, ast.Call | ast.Name) and _is_factory(
            node.func, names, module, depth + 1
        ):
            return True
        return call_name(node).rpartition(".")[2] in _SESSION_CLASSES
    if isinstance(node, ast.Name):
        return any(is_session(value, names, module, depth + 1) for value in names.get(node.id, ()))
    return False


def _is_factory(node: ast.expr, names: Names, module: Names, depth: int) -> bool:
    if depth > _MAX_DEPTH:
        return False
    if isinstance(node, ast.Call):
        return call_name(node).rpartition(".")[2] in _SESSION_FACTORIES
    if isinstance(node, ast.Name):
        values = names.get(node.id) or module.get(node.id, [])
        return any(_is_factory(value, names, module, depth + 1) for value in values)
    return False
