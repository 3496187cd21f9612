"""Reading a Python migration for fixes: `ast` nodes with code-point spans, the statement around
a call, and the text edits that keep the file's formatting (adding a keyword argument, wrapping a
statement in a `with` block, adding an import).

Plain text edits at `ast` positions touch only the characters that change, so comments, quotes,
blank lines and line endings stay as the author wrote them (and they cost a fraction of libcst).
"""

from __future__ import annotations

import ast
import io
import tokenize
from collections.abc import Iterator
from functools import cached_property, lru_cache

from migration_lsp.findings import Edit
from migration_lsp.parse.python import PythonSource
from migration_lsp.text import Span

from .text import (
    indentation,
    insert,
    is_blank,
    line_end,
    line_start,
    newline_of,
    next_line_start,
    only_comment_after,
    only_space_before,
    replace,
)

DEFAULT_UNIT = "    "


class _Parsed:
    """The parse and the parent map of one text, shared by the fixes built for it (a
    code-action request or "fix all" builds many): read-only once built."""

    def __init__(self, text: str) -> None:
        self.source = PythonSource(text)
        self.parents: dict[int, ast.AST] = {}


@lru_cache(maxsize=2)
def _parsed(text: str) -> _Parsed:
    return _Parsed(text)


class PyFile:
    """One Python migration text, parsed once for a fix."""

    def __init__(self, text: str) -> None:
        shared = _parsed(text)
        self.text = text
        self.source = shared.source
        self.newline = newline_of(text)
        self._parents = shared.parents

    @property
    def tree(self) -> ast.Module | None:
        return self.source.tree

    def span(self, node: ast.AST) -> Span:
        return self.source.span(node)

    def segment(self, node: ast.AST) -> str:
        span = self.span(node)
        return self.text[span.start : span.end]

    # ------------------------------------------------------------------ finding nodes

    def nodes(self) -> Iterator[ast.AST]:
        if self.tree is not None:
            yield from ast.walk(self.tree)

    def call_at(self, span: Span) -> ast.Call | None:
        """The call whose span is exactly `span` (an operation's span)."""
        for node in self.nodes():
            if isinstance(node, ast.Call) and self.span(node) == span:
                return node
        return None

    def parent(self, node: ast.AST) -> ast.AST | None:
        if not self._parents:
            for outer in self.nodes():
                for child in ast.iter_child_nodes(outer):
                    self._parents[id(child)] = outer
        return self._parents.get(id(node))

    def statement_of(self, node: ast.AST) -> ast.stmt | None:
        current: ast.AST | None = node
        while current is not None and not isinstance(current, ast.stmt):
            current = self.parent(current)
        return current

    def function_of(self, node: ast.AST) -> ast.FunctionDef | ast.AsyncFunctionDef | None:
        current = self.parent(node)
        while current is not None:
            if isinstance(current, ast.FunctionDef | ast.AsyncFunctionDef):
                return current
            current = self.parent(current)
        return None

    def string_containing(self, span: Span) -> ast.Constant | None:
        """The innermost plain `str` literal (implicit concatenation included, f-strings not)
        around `span`."""
        best: ast.Constant | None = None
        for node in self.nodes():
            if (
                isinstance(node, ast.Constant)
                and isinstance(node.value, str)
                and not isinstance(self.parent(node), ast.JoinedStr)
            ):
                node_span = self.span(node)
                if node_span.contains(span) and (
                    best is None or self.span(best).contains(node_span)
                ):
                    best = node
        return best

    # ------------------------------------------------------------------ layout

    def owns_lines(self, stmt: ast.stmt) -> bool:
        """The statement starts its line and nothing but a comment follows it on its last."""
        span = self.span(stmt)
        return only_space_before(self.text, span.start) and only_comment_after(self.text, span.end)

    def indent_unit(self, node: ast.AST | None = None) -> str:
        """One level of indentation as the file writes it: the step from the enclosing (or
        first) function's `def` line to its body, else four spaces."""
        holder: ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef | None = None
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            holder = node
        elif node is not None:
            holder = self.function_of(node)
        if holder is None and self.tree is not None:
            holder = next(
                (n for n in self.tree.body if isinstance(n, ast.FunctionDef | ast.ClassDef)),
                None,
            )
        if holder is None:
            return DEFAULT_UNIT
        outer = indentation(self.text, self.span(holder).start)
        first = self.span(holder.body[0]).start
        if not only_space_before(self.text, first):
            return "\t" if outer.startswith("\t") else DEFAULT_UNIT
        inner = indentation(self.text, first)
        if inner.startswith(outer) and len(inner) > len(outer):
            return inner[len(outer) :]
        return DEFAULT_UNIT

    @cached_property
    def string_lines(self) -> frozenset[int]:
        """0-based numbers of lines that start inside a multi-line string token: re-indenting
        them would change the string."""
        lines: set[int] = set()
        try:
            for token in tokenize.generate_tokens(io.StringIO(self.text).readline):
                if token.type == tokenize.STRING and token.end[0] > token.start[0]:
                    lines.update(range(token.start[0], token.end[0]))  # 1-based start+1..end
        except (tokenize.TokenError, SyntaxError):
            return frozenset()
        return frozenset(lines)

    def wrap(self, stmt: ast.stmt, header: str) -> list[Edit] | None:
        """Edits putting `stmt` inside `header:` (a `with ...` line), re-indenting its lines.
        None when the statement shares a line with other code."""
        if not self.owns_lines(stmt):
            return None
        text = self.text
        span = self.span(stmt)
        indent = indentation(text, span.start)
        unit = self.indent_unit(stmt)
        first = line_start(text, span.start)
        edits = [insert(first, f"{indent}{header}{self.newline}{unit}")]
        line_number = text.count("\n", 0, first)
        offset = next_line_start(text, first)
        end = line_end(text, span.end)
        while offset <= end and offset < len(text):
            line_number += 1
            line = text[offset : line_end(text, offset)]
            if not is_blank(line) and line_number not in self.string_lines:
                edits.append(insert(offset, unit))
            offset = next_line_start(text, offset)
        return edits

    # ------------------------------------------------------------------ arguments

    def set_keyword(
        self, call: ast.Call, name: str, value: str, *, extra_indent: str = ""
    ) -> list[Edit]:
        """Edits giving `call` the keyword argument `name=value`, in the layout of its other
        arguments (one per line, or on one line; trailing comma kept). `extra_indent` is added
        to a new line's indentation (when the call is being re-indented by other edits)."""
        for kw in call.keywords:
            if kw.arg == name:
                if self.segment(kw.value) == value:
                    return []
                return [replace(self.span(kw.value), value)]
        text = self.text
        new = f"{name}={value}"
        arguments: list[ast.AST] = [*call.args, *call.keywords]
        call_span = self.span(call)
        if not arguments:
            return [insert(call_span.end - 1, new)]
        last = max(arguments, key=lambda a: self.span(a).end)
        last_span = self.span(last)
        comma = comma_after(text, last_span.end, call_span.end - 1)
        own_line = only_space_before(text, last_span.start) and (
            text.count("\n", call_span.start, last_span.start) > 0
        )
        if own_line:
            indent = extra_indent + indentation(text, last_span.start)
            if comma is not None:
                return [insert(line_end(text, comma), f"{self.newline}{indent}{new},")]
            return [
                insert(last_span.end, ","),
                insert(line_end(text, last_span.end), f"{self.newline}{indent}{new}"),
            ]
        if comma is not None:
            return [insert(comma + 1, f" {new},")]
        return [insert(last_span.end, f", {new}")]

    # ------------------------------------------------------------------ imports

    def ensure_import(self, module: str, name: str) -> list[Edit]:
        """Edits making `from module import name` available: merged into an existing import
        from that module (in sorted position), else a new line among the module's imports."""
        tree = self.tree
        if tree is None:
            return []
        imports = [n for n in tree.body if isinstance(n, ast.Import | ast.ImportFrom)]
        for node in imports:
            if isinstance(node, ast.ImportFrom) and node.module == module and node.level == 0:
                if any(a.name == name and a.asname is None for a in node.names):
                    return []
                if any(a.name == "*" for a in node.names):
                    return []
                return self._merge_import(node, name)
        line = f"from {module} import {name}"
        for node in imports:
            if (
                isinstance(node, ast.ImportFrom)
                and node.level == 0
                and (node.module or "") > module
                and node.module != "__future__"
            ):
                return [insert(line_start(self.text, self.span(node).start), line + self.newline)]
        if imports:
            end = line_end(self.text, self.span(imports[-1]).end)
            return [insert(end, self.newline + line)]
        body = [n for n in tree.body if not is_docstring(n)]
        at = line_start(self.text, self.span(body[0]).start) if body else len(self.text)
        return [insert(at, line + self.newline + self.newline)]

    def _merge_import(self, node: ast.ImportFrom, name: str) -> list[Edit]:
        text = self.text
        names = node.names
        after = next((a for a in names if a.name > name), None)
        if after is not None:
            start = self.span(after).start
            if only_space_before(text, start):
                indent = indentation(text, start)
                return [insert(line_start(text, start), f"{indent}{name},{self.newline}")]
            return [insert(start, f"{name}, ")]
        last = self.span(names[-1])
        closing = self.span(node).end
        comma = comma_after(text, last.end, closing)
        if only_space_before(text, last.start):
            indent = indentation(text, last.start)
            if comma is not None:
                return [insert(line_end(text, comma), f"{self.newline}{indent}{name},")]
            return [
                insert(last.end, ","),
                insert(line_end(text, last.end), f"{self.newline}{indent}{name}"),
            ]
        if comma is not None:
            return [insert(comma + 1, f" {name},")]
        return [insert(last.end, f", {name}")]


def comma_after(text: str, start: int, limit: int) -> int | None:
    """Offset of the comma that follows an argument ending at `start` (before `limit`)."""
    i = start
    while i < limit:
        ch = text[i]
        if ch == ",":
            return i
        if ch == "#":
            i = text.find("\n", i, limit)
            if i == -1:
                return None
            continue
        if ch not in " \t\r\n\\":
            return None
        i += 1
    return None


def is_docstring(node: ast.stmt) -> bool:
    """A bare string statement (a docstring, or a string used as a comment)."""
    return (
        isinstance(node, ast.Expr)
        and isinstance(node.value, ast.Constant)
        and isinstance(node.value.value, str)
    )
