"""Shared reading of Python migration files with `ast` (fast enough for every keystroke).

Alembic and Django parsers both need: node spans in code-point offsets, dotted call names,
literal values, imports, and SQL strings with their source positions. It lives here once.
"""

from __future__ import annotations

import ast
import threading
import warnings
from collections import OrderedDict
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from migration_lsp.model import Import, Operation, ParseProblem, Step
from migration_lsp.parse.host_sql import sql_operations
from migration_lsp.parse.pystrings import literal_positions
from migration_lsp.parse.python_incremental import reparse
from migration_lsp.parse.sql import TransactionMode, new_span
from migration_lsp.text import LineIndex, Span, common_prefix, common_suffix

_TEXT_CLAUSE_METHODS = frozenset({"bindparams", "columns", "execution_options"})

_FAR = 1 << 62
"""A column past the end of any line: `LineIndex.offset` clamps it to the line's end."""

UNKNOWN: Any = object()
"""Returned by `literal()` for values only known at run time."""


@dataclass(slots=True)
class SqlString:
    """The SQL handed to `execute`-like calls: its value (if static) and how it was built."""

    value: str | None
    positions: list[int] | None
    formatted: bool


_TREES: OrderedDict[str, ast.Module] = OrderedDict()
_TREES_LOCK = threading.Lock()
_TREES_KEPT = 4


def parse_python(text: str) -> ast.Module:
    """`ast.parse(text)`, remembered for the last few texts. After an edit the history reads
    the buffer's revision ids and the parser reads its operations: one parse serves both
    (parsing is most of the cost of a Python migration). Nothing modifies the trees."""
    with _TREES_LOCK:
        tree = _TREES.get(text)
        if tree is not None:
            _TREES.move_to_end(text)
            return tree
        earlier = list(_TREES.items())
    found = _reparsed(text, earlier)
    if found is not None:
        tree = found
    else:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            tree = ast.parse(text)
    with _TREES_LOCK:
        _TREES[text] = tree
        while len(_TREES) > _TREES_KEPT:
            _TREES.popitem(last=False)
    return tree


def _reparsed(text: str, earlier: list[tuple[str, ast.Module]]) -> ast.Module | None:
    """The tree of `text` from the remembered text it shares most with, when they differ in
    one statement (see `python_incremental`)."""
    best: tuple[int, int, str, ast.Module] | None = None
    for old, tree in earlier:
        prefix = common_prefix(old, text)
        suffix = common_suffix(old, text, min(len(old), len(text)) - prefix)
        if best is None or prefix + suffix > best[0] + best[1]:
            best = (prefix, suffix, old, tree)
    if best is None or best[0] + best[1] < min(len(text), len(best[2])) // 2:
        return None
    prefix, suffix, old, tree = best
    return reparse(old, tree, text, prefix, suffix)


class PythonSource:
    """One parsed Python file plus position helpers."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.lines = LineIndex(text)
        self._starts: list[int] | None = None
        self._ends: list[int] = []
        self.tree: ast.Module | None = None
        self.problem: ParseProblem | None = None
        try:
            self.tree = parse_python(text)
        except SyntaxError as error:
            self.problem = self._syntax_problem(error)
        except (ValueError, RecursionError, MemoryError) as error:
            self.problem = ParseProblem(span=Span(0, 0), message=f"cannot parse file: {error}")

    def _syntax_problem(self, error: SyntaxError) -> ParseProblem:
        line = max((error.lineno or 1) - 1, 0)
        column = max((error.offset or 1) - 1, 0)
        start = self.lines.offset(line, column)
        end = start
        if error.end_lineno is not None and error.end_offset is not None:
            end = self.lines.offset(error.end_lineno - 1, max(error.end_offset - 1, 0))
        if end <= start:
            text = self.lines.line_text(line)
            if column < len(text.rstrip()):  # one character: '(' was never closed
                end = start + 1
            else:  # at the end of the line (IndentationError): mark the line's code
                first = len(text) - len(text.lstrip())
                start = self.lines.offset(line, first)
                end = self.lines.offset(line, len(text))
        return ParseProblem(span=Span(start, end), message=f"Python syntax error: {error.msg}")

    def _line_bounds(self) -> list[int]:
        """Where each line starts, with `_ends` where its text ends, for an ASCII text (byte
        columns are then code points); empty for any other text."""
        lines, text = self.lines, self.text
        self._starts = []
        if not text.isascii():
            return self._starts
        if "\r" in text:
            count = lines.line_count
            self._starts = [lines.line_start(i) for i in range(count)]
            self._ends = [lines.offset(i, _FAR) for i in range(count)]
            return self._starts
        # "\n" the only line break: `LineIndex`'s starts, each line ending before the next
        starts = self._starts = lines.starts
        self._ends = [start - 1 for start in starts[1:]]
        self._ends.append(len(text))
        return starts

    def span(self, node: ast.AST) -> Span:
        starts = self._starts if self._starts is not None else self._line_bounds()
        line = node.lineno - 1  # type: ignore[attr-defined]
        end_line = (getattr(node, "end_lineno", None) or node.lineno) - 1  # type: ignore[attr-defined]
        end_col = getattr(node, "end_col_offset", None)
        if 0 <= line < len(starts) and 0 <= end_line < len(starts):
            # `LineIndex.offset_from_utf8` of both ends, looked up: a reader asks thousands
            ends = self._ends
            col = node.col_offset  # type: ignore[attr-defined]
            start = starts[line] + col if col > 0 else starts[line]
            if start > ends[line]:
                start = ends[line]
            end = start
            if end_col is not None:
                end = starts[end_line] + end_col if end_col > 0 else starts[end_line]
                if end > ends[end_line]:
                    end = ends[end_line]
            return new_span(start, end)
        start = self.lines.offset_from_utf8(line, node.col_offset)  # type: ignore[attr-defined]
        end = start if end_col is None else self.lines.offset_from_utf8(end_line, end_col)
        return Span(start, end)

    def name_span(self, node: ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef) -> Span:
        """Span of the name in `def name(` / `class Name(`."""
        start = self.span(node).start
        keyword = "class" if isinstance(node, ast.ClassDef) else "def"
        found = self.text.find(node.name, self.text.find(keyword, start))
        return Span(found, found + len(node.name)) if found != -1 else Span(start, start)

    def imports(self) -> list[Import]:
        found: list[Import] = []
        if self.tree is None:
            return found
        for node in statements(self.tree.body):
            if isinstance(node, ast.Import):
                for alias in node.names:
                    found.append(
                        Import(module=alias.name, names=[], span=self.span(node), from_import=False)
                    )
            elif isinstance(node, ast.ImportFrom) and (node.module or node.level):
                found.append(
                    Import(
                        module="." * node.level + (node.module or ""),
                        names=[a.name for a in node.names],
                        span=self.span(node),
                        from_import=True,
                    )
                )
        return found

    def sql_string(self, node: ast.expr) -> SqlString:
        """The SQL of an argument: a literal, `sa.text("...")` (with `.bindparams()`), literals
        joined with `+`, or an f-string read with placeholders for its replacement fields."""
        if isinstance(node, ast.Call):
            method = call_name(node).split(".")[-1]
            if method == "text" and node.args:
                return self.sql_string(node.args[0])
            if method in _TEXT_CLAUSE_METHODS and isinstance(node.func, ast.Attribute):
                return self.sql_string(node.func.value)
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            span = self.span(node)
            mapped = literal_positions(self.text, span.start, span.end)
            if mapped is not None and mapped[0] == node.value:
                return SqlString(node.value, mapped[1], False)
            return SqlString(node.value, None, False)
        if isinstance(node, ast.JoinedStr):
            span = self.span(node)
            mapped = literal_positions(self.text, span.start, span.end)
            if mapped is not None:
                return SqlString(mapped[0], mapped[1], is_formatted(node))
        if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
            left, right = self.sql_string(node.left), self.sql_string(node.right)
            if left.value is not None and right.value is not None:
                positions = None
                if left.positions is not None and right.positions is not None:
                    positions = left.positions[:-1] + right.positions
                return SqlString(
                    left.value + right.value, positions, left.formatted or right.formatted
                )
        return SqlString(None, None, is_formatted(node))

    def execute_ops(
        self,
        call: ast.Call,
        sql_node: ast.expr,
        *,
        step: Step,
        in_transaction: bool,
        transaction: TransactionMode,
        dialect: str | None,
        origin: str,
        result_used: bool = False,
    ) -> tuple[list[Operation], list[ParseProblem]]:
        """An `ExecuteSQL` for the call, followed by the operations of the SQL inside it."""
        sql = self.sql_string(sql_node)
        return sql_operations(
            call=self.span(call),
            keyword=self.span(call.func),
            string=self.span(sql_node),
            value=sql.value,
            positions=sql.positions,
            formatted=sql.formatted,
            step=step,
            in_transaction=in_transaction,
            transaction=transaction,
            dialect=dialect,
            origin=origin,
            result_used=result_used,
        )


def call_name(node: ast.expr) -> str:
    """Dotted name of a call or attribute chain: `op.create_index`, `migrations.AddIndex`."""
    if isinstance(node, ast.Call):
        node = node.func
    parts: list[str] = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if isinstance(node, ast.Name):
        parts.append(node.id)
    elif isinstance(node, ast.Call):
        parts.append(call_name(node) + "()")
    return ".".join(reversed(parts))


def keyword(call: ast.Call, name: str) -> ast.expr | None:
    for kw in call.keywords:
        if kw.arg == name:
            return kw.value
    return None


def argument(call: ast.Call, index: int, name: str) -> ast.expr | None:
    """Positional argument `index`, or the keyword `name`."""
    if index < len(call.args) and not isinstance(call.args[index], ast.Starred):
        return call.args[index]
    return keyword(call, name)


_LITERAL_NODES = (ast.Tuple, ast.List, ast.Set, ast.Dict, ast.Call, ast.UnaryOp, ast.BinOp)
"""The nodes `ast.literal_eval` reads besides constants (a call only as `set()`)."""


def literal(node: ast.expr | None) -> Any:
    """The Python value of a literal expression, or `UNKNOWN`."""
    if node is None:
        return UNKNOWN
    if isinstance(node, ast.Constant):  # the common case, without literal_eval's checks
        return node.value
    if not isinstance(node, _LITERAL_NODES) or (
        isinstance(node, ast.Call)
        and not (isinstance(node.func, ast.Name) and node.func.id == "set")
    ):  # what literal_eval rejects at once (each call also leaves closures for the collector)
        return UNKNOWN
    if isinstance(node, ast.List | ast.Tuple) and all(
        isinstance(item, ast.Constant) for item in node.elts
    ):  # a list of names or columns, as literal_eval reads it
        values = [item.value for item in node.elts]  # type: ignore[attr-defined]
        return values if isinstance(node, ast.List) else tuple(values)
    try:
        return ast.literal_eval(node)
    except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
        return UNKNOWN


def string(node: ast.expr | None) -> str | None:
    value = literal(node)
    return value if isinstance(value, str) else None


def is_formatted(node: ast.expr) -> bool:
    """SQL assembled at run time from values: f-strings, `%`, `.format()`, `+` with non-literals."""
    if isinstance(node, ast.JoinedStr):
        return any(isinstance(v, ast.FormattedValue) for v in node.values)
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Mod):
        return _stringish(node.left)
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
        if _literal_concatenation(node):
            return False
        return _stringish(node.left) or _stringish(node.right)
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
        if node.func.attr == "format" and _stringish(node.func.value):
            return True
        if call_name(node).split(".")[-1] == "text" and node.args:
            return is_formatted(node.args[0])
    return False


def _literal_concatenation(node: ast.expr) -> bool:
    """`"a" + "b"`: joined at import time, nothing formatted in."""
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
        return _literal_concatenation(node.left) and _literal_concatenation(node.right)
    return isinstance(node, ast.Constant) and isinstance(node.value, str)


def _stringish(node: ast.expr) -> bool:
    if isinstance(node, ast.Constant):
        return isinstance(node.value, str)
    if isinstance(node, ast.JoinedStr):
        return True
    if isinstance(node, ast.BinOp):
        return _stringish(node.left) or _stringish(node.right)
    return False


def is_empty_body(body: list[ast.stmt]) -> bool:
    """`pass`, `...` and docstrings only."""
    for stmt in body:
        if isinstance(stmt, ast.Pass):
            continue
        if isinstance(stmt, ast.Expr) and isinstance(stmt.value, ast.Constant):
            continue
        return False
    return True


_COMPOUND = tuple(
    kind
    for kind in vars(ast).values()
    if isinstance(kind, type)
    and issubclass(kind, ast.stmt)
    and {"body", "orelse", "finalbody", "handlers", "cases"} & set(kind._fields)
)
"""Statements that hold others (`def`, `if`, `try`, `match`, ...)."""


def statements(body: list[ast.stmt]) -> Iterator[ast.stmt]:
    """Every statement, nested ones included, without visiting expressions (imports live in
    statements; walking every expression node costs several times more on big files)."""
    for stmt in body:
        yield stmt
        if not isinstance(stmt, _COMPOUND):
            continue
        for name in ("body", "orelse", "finalbody"):
            inner = getattr(stmt, name, None)
            if isinstance(inner, list):
                yield from statements(inner)
        for handler in getattr(stmt, "handlers", None) or []:
            yield from statements(handler.body)
        for case in getattr(stmt, "cases", None) or []:
            yield from statements(case.body)
