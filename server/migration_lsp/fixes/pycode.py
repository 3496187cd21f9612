"""Fixes to Python migration code: execute results, bound parameters, reverse steps,
server defaults.

- use-get-bind (execute-result-used): Alembic `op.execute(...)` whose result is used becomes
  `op.get_bind().execute(sa.text(...))`, which returns the result.
- bind-parameters (sql-string-formatting): values formatted into SQL become bound parameters
  (`pycode_bind`).
- add-reverse-code (runpython-without-reverse): `reverse_code=migrations.RunPython.noop`.
- add-reverse-sql (runsql-without-reverse): `reverse_sql=` with the statements that undo the
  forward SQL where they can be derived from it (`pycode_reverse`), else
  `migrations.RunSQL.noop`.
- add-server-default (add-not-null-column-without-default): a placeholder database default, or
  the split into nullable → backfill → NOT NULL migrations (`pycode_default`, `pycode_split`).
- limit-via-subquery (update-with-limit): `UPDATE/DELETE ... LIMIT n` rewritten to limit a
  subquery on `ctid`, in `.sql` files and in SQL string literals.

Edits are plain text edits at `ast` / token positions: quotes, indentation, comments and line
endings stay as written; an import is added only when the module lacks it.
"""

from __future__ import annotations

import ast

from migration_lsp.findings import Applicability, Edit, Finding, Fix
from migration_lsp.model import DataChange, ExecuteSQL, Migration, RunCode
from migration_lsp.parse.python import argument, call_name, literal

from .base import Builder, operation_for
from .pycode_bind import bind_parameters
from .pycode_common import (
    Render,
    insert_argument_after,
    is_text_call,
    module_constant,
    own_lines,
    py_str,
    quote_of,
    sql_tokens,
    sqlalchemy_alias,
    statement_sql,
    text_function,
    too_long,
    top_level,
    word,
)
from .pycode_default import add_server_default
from .pycode_reverse import reverse_of
from .python import PyFile
from .text import first_line, indentation, insert, match_case, replace

# --------------------------------------------------------------------------- use-get-bind

_CONSTRUCT_METHODS = frozenset(
    {
        "select",
        "insert",
        "update",
        "delete",
        "where",
        "values",
        "returning",
        "order_by",
        "limit",
        "bindparams",
        "columns",
        "execution_options",
        "filter",
        "from_select",
        "on_conflict_do_nothing",
        "on_conflict_do_update",
    }
)
"""Methods that build SQLAlchemy statements: a call ending in one executes as it is."""


def _stringish(node: ast.expr) -> bool:
    """A `str` built in the expression itself: literals, f-strings, `+`, `%`, `.format()`."""
    if isinstance(node, ast.Constant):
        return isinstance(node.value, str)
    if isinstance(node, ast.JoinedStr):
        return True
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add | ast.Mod):
        return _stringish(node.left) or (isinstance(node.op, ast.Add) and _stringish(node.right))
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
        return node.func.attr == "format" and _stringish(node.func.value)
    return False


def _assigned_values(pyfile: PyFile, at: ast.AST, name: str) -> list[ast.expr]:
    """Values assigned to `name` in the function holding `at` and at module level."""
    scopes: list[ast.AST] = []
    function = pyfile.function_of(at)
    if function is not None:
        scopes.append(function)
    if pyfile.tree is not None:
        scopes.append(pyfile.tree)
    values: list[ast.expr] = []
    for scope in scopes:
        body = scope.body if isinstance(scope, ast.Module) else [scope]
        for root in body:
            if isinstance(scope, ast.Module) and not isinstance(root, ast.Assign):
                continue
            for node in ast.walk(root):
                if isinstance(node, ast.Assign):
                    targets = node.targets
                elif isinstance(node, ast.AnnAssign | ast.AugAssign):
                    targets = [node.target]
                else:
                    continue
                hit = any(isinstance(t, ast.Name) and t.id == name for t in targets)
                if hit and node.value is not None:
                    values.append(node.value)
        if values:
            break
    return values


def _statement_kind(pyfile: PyFile, arg: ast.expr) -> str:
    """What `op.execute` was given: "text" (a `text()` call), "string" (SQL as a `str`, to be
    wrapped in `text()`), "construct" (a SQLAlchemy statement) or "unknown"."""
    if is_text_call(arg):
        return "text"
    if _stringish(arg):
        return "string"
    if isinstance(arg, ast.Name):
        values = _assigned_values(pyfile, arg, arg.id)
        if values and all(_stringish(v) for v in values):
            return "string"
        if values and all(is_text_call(v) for v in values):
            return "text"
        return "unknown"
    if isinstance(arg, ast.Call):
        alias = sqlalchemy_alias(pyfile) or "sa"
        name = call_name(arg)
        if name.rpartition(".")[2] in _CONSTRUCT_METHODS or name.startswith(alias + "."):
            return "construct"
    return "unknown"


def use_get_bind(finding: Finding, migration: Migration) -> Fix | None:
    """`op.execute(sql)` whose result is used → `op.get_bind().execute(sa.text(sql))`."""
    if migration.tool != "alembic" or migration.language != "python":
        return None
    op = operation_for(finding, migration, ExecuteSQL)
    if op is None or op.origin != "op.execute":
        return None
    pyfile = PyFile(migration.text)
    call = pyfile.call_at(op.span)
    if call is None or not call.args or not isinstance(call.func, ast.Attribute):
        return None
    edits: list[Edit] = [insert(pyfile.span(call.func.value).end, ".get_bind()")]
    arg = call.args[0]
    span_of_arg = pyfile.span(arg).start
    kind = _statement_kind(pyfile, arg)
    applicability = Applicability.SAFE
    if kind == "string":
        function, imports = text_function(pyfile)
        span = pyfile.span(arg)
        edits += [insert(span.start, function + "("), insert(span.end, ")"), *imports]
        title = f"Use op.get_bind().execute({function}(...)), which returns the result"
    else:
        title = "Use op.get_bind().execute(...), which returns the result"
        if kind == "unknown":
            # a str variable would need text(): the connection does not run plain strings
            applicability = Applicability.UNSAFE
            title += " (wrap plain SQL strings in sa.text())"
    exploded = own_lines(pyfile, call, arg)
    if (
        len(call.args) + len(call.keywords) == 1
        and exploded
        and too_long(pyfile, edits, span_of_arg)
    ):
        edits = [exploded[0], *edits, exploded[1]]
    return Fix(title=title, edits=edits, applicability=applicability)


# --------------------------------------------------------------------------- reverse steps


def _reverse_edits(
    pyfile: PyFile, call: ast.Call, keyword: str, value: str | Render, forward: str
) -> list[Edit]:
    """`keyword=value` as the second argument of a `RunPython`/`RunSQL` call, right after the
    forward argument (`forward` is its keyword name); a None already in that place (positional
    or keyword) is replaced. A one-line call that would grow too long gets one argument per
    line."""
    render: Render = value if callable(value) else (lambda _indent: value)
    if len(call.args) >= 2:
        if literal(call.args[1]) is not None:
            return []
        return [replace(pyfile.span(call.args[1]), render(None))]
    for kw in call.keywords:
        if kw.arg == keyword:
            return [replace(pyfile.span(kw.value), render(None))]
    after: ast.AST | None = call.args[0] if call.args else None
    after = after or next((kw for kw in call.keywords if kw.arg == forward), None)
    if after is None:
        return []
    edits = insert_argument_after(pyfile, call, after, lambda i: f"{keyword}={render(i)}")
    if len(call.args) + len(call.keywords) == 1:
        indent = indentation(pyfile.text, pyfile.span(call).start) + pyfile.indent_unit(call)
        exploded = own_lines(pyfile, call, after, f"{keyword}={render(indent)}")
        if exploded and too_long(pyfile, edits, pyfile.span(call).start):
            return exploded
    return edits


def add_reverse_code(finding: Finding, migration: Migration) -> Fix | None:
    """`RunPython(forward)` → `RunPython(forward, reverse_code=migrations.RunPython.noop)`."""
    if migration.tool != "django":
        return None
    op = operation_for(finding, migration, RunCode)
    if op is None or op.language != "python" or op.has_reverse:
        return None
    pyfile = PyFile(migration.text)
    call = pyfile.call_at(op.span)
    if call is None:
        return None
    noop = pyfile.segment(call.func) + ".noop"
    edits = _reverse_edits(pyfile, call, "reverse_code", noop, "code")
    if not edits:
        return None
    return Fix(
        title=f"Add reverse_code={noop} (rolling back will not undo the data change)",
        edits=edits,
        applicability=Applicability.UNSAFE,
    )


def _forward_sql(pyfile: PyFile, node: ast.expr | None) -> tuple[list[str], ast.expr] | None:
    """The SQL texts of a RunSQL `sql` argument (a string or a list of strings) and the literal
    whose quotes the reverse copies; None when it holds parameters or is built at run time."""
    node = module_constant(pyfile, node)
    if node is None:
        return None
    value = literal(node)
    if isinstance(value, str):
        return [value], node
    if isinstance(node, ast.List | ast.Tuple) and node.elts:
        items = [literal(module_constant(pyfile, e)) for e in node.elts]
        if all(isinstance(i, str) for i in items):
            return [str(i) for i in items], node.elts[0]
    return None


def add_reverse_sql(finding: Finding, migration: Migration) -> list[Fix] | None:
    """`RunSQL(sql)` → `RunSQL(sql, reverse_sql=<the undoing SQL>)` where it can be derived
    (SAFE), and `reverse_sql=migrations.RunSQL.noop` (UNSAFE) as the alternative."""
    if migration.tool != "django":
        return None
    op = operation_for(finding, migration, RunCode)
    if op is None or op.language != "sql" or op.has_reverse:
        return None
    pyfile = PyFile(migration.text)
    call = pyfile.call_at(op.span)
    if call is None:
        return None
    noop = pyfile.segment(call.func) + ".noop"
    noop_edits = _reverse_edits(pyfile, call, "reverse_sql", noop, "sql")
    if not noop_edits:
        return None
    noop_fix = Fix(
        title=f"Add reverse_sql={noop} (rolling back will not undo the SQL)",
        edits=noop_edits,
        applicability=Applicability.UNSAFE,
    )
    forward = _forward_sql(pyfile, argument(call, 0, "sql"))
    reverse = reverse_of(forward[0], migration.dialect) if forward is not None else None
    if forward is None or reverse is None:
        return [noop_fix]
    if not reverse.statements:
        noop_fix.title = f"Add reverse_sql={noop} (the SQL leaves nothing to undo)"
        noop_fix.applicability = Applicability.SAFE
        return [noop_fix]
    quote = quote_of(pyfile, forward[1])
    statements = reverse.settings + reverse.statements
    unit = pyfile.indent_unit(call)
    nl = pyfile.newline

    def render(indent: str | None) -> str:
        if len(statements) == 1:
            return py_str(statements[0], quote)
        if indent is None:
            return "[" + ", ".join(py_str(s, quote) for s in statements) + "]"
        items = "".join(f"{nl}{indent}{unit}{py_str(s, quote)}," for s in statements)
        return f"[{items}{nl}{indent}]"

    edits = _reverse_edits(pyfile, call, "reverse_sql", render, "sql")
    summary = first_line("; ".join(reverse.statements), 60)
    derived = Fix(
        title=f"Add reverse_sql that undoes it: {summary}",
        edits=edits,
        applicability=Applicability.UNSAFE if reverse.unsafe else Applicability.SAFE,
    )
    return [derived, noop_fix]


# --------------------------------------------------------------------------- limit-via-subquery


def limit_via_subquery(finding: Finding, migration: Migration) -> Fix | None:
    """`UPDATE t SET ... [WHERE c] LIMIT n` → `UPDATE t SET ... WHERE ctid = ANY(ARRAY(SELECT
    ctid FROM t [WHERE c] LIMIT n))` (DELETE alike), edited in place."""
    op = operation_for(finding, migration, DataChange)
    if op is None or not op.has_limit or op.kind not in ("update", "delete"):
        return None
    pyfile = PyFile(migration.text) if migration.language == "python" else None
    sql = statement_sql(migration, op.span, pyfile)
    tokens = sql_tokens(sql.text, migration.dialect) if sql is not None else None
    if sql is None or not tokens:
        return None
    top = top_level(tokens)
    words = [word(t) for _, t in top]
    first = words[0] if words else ""
    if first == "UPDATE" and "SET" in words:
        start, stop = 1, words.index("SET")
        clauses = words[stop:]
        if "FROM" in clauses:
            return None  # UPDATE ... FROM joins: ctid would be ambiguous
    elif first == "DELETE" and len(words) > 1 and words[1] == "FROM":
        start = 2
        ends = [i for i, w in enumerate(words) if i > 2 and w in ("WHERE", "ORDER BY", "LIMIT")]
        stop = ends[0] if ends else len(words)
        clauses = words[stop:]
        if "USING" in words:
            return None
    else:
        return None
    if "RETURNING" in clauses or "LIMIT" not in clauses:
        return None
    if start < len(words) and words[start] == "ONLY":
        start += 1
    if start >= stop:
        return None
    table = sql.text[top[start][1].start : top[stop - 1][1].end + 1]
    like = tokens[0].text
    subquery = match_case("ctid = ANY(ARRAY(SELECT ctid FROM", like) + " " + table
    where = next((top[i][1] for i, w in enumerate(words) if i >= stop and w == "WHERE"), None)
    if where is not None:
        opening = sql.insert(where.end + 1, f" {subquery} {match_case('WHERE', like)}")
    else:
        at = next(
            top[i][1] for i, w in enumerate(words) if i >= stop and w in ("ORDER BY", "LIMIT")
        )
        opening = sql.insert(at.start, f"{match_case('WHERE', like)} {subquery} ")
    closing = sql.insert(tokens[-1].end + 1, "))")
    if opening is None or closing is None:
        return None
    return Fix(
        title="Limit a subquery on ctid instead: WHERE ctid = ANY(ARRAY(SELECT ctid … LIMIT n))",
        edits=[opening, closing],
        applicability=Applicability.SAFE,
    )


# --------------------------------------------------------------------------- registry

PYCODE_BUILDERS: dict[str, Builder] = {
    "execute-result-used": use_get_bind,
    "sql-string-formatting": bind_parameters,
    "runpython-without-reverse": add_reverse_code,
    "runsql-without-reverse": add_reverse_sql,
    "add-not-null-column-without-default": add_server_default,
    "update-with-limit": limit_via_subquery,
}
"""Rule id → builder, merged into `BUILDERS`."""

PYCODE_FIX_NAMES: dict[str, str] = {
    "execute-result-used": "use-get-bind",
    "sql-string-formatting": "bind-parameters",
    "runpython-without-reverse": "add-reverse-code",
    "runsql-without-reverse": "add-reverse-sql",
    "add-not-null-column-without-default": "add-server-default",
    "update-with-limit": "limit-via-subquery",
}
"""Rule id → the fix name the rule declares (`Rule.fix`)."""
