"""A Python file's syntax tree after a keystroke, re-parsing only the statement it touched.

`ast.parse` of an 800-line migration takes about 20 ms, half of what an edit may cost. A
keystroke nearly always changes one line inside one simple statement (an `op.add_column(...)`
call, a `sa.Column(...)` argument): that statement is parsed on its own, with its lines exactly
as written (so positions need no conversion but a line shift), and put in place of the old one
in a copy of the path from the module down to it; every other node is shared with the old tree.

Anything else — an edit across lines or statements, a changed indentation, a statement that no
longer parses alone (an unclosed bracket or string swallows what follows) — returns None and
the caller parses the whole text, which also reports the syntax error where Python does.
"""

from __future__ import annotations

import ast
import copy
import re
import warnings
from dataclasses import dataclass

_TRAILER = re.compile(r"[ \t\f]*(?:#[^\r\n]*)?\Z")
"""What may follow a statement on its last line for it to own the line: blanks, a comment."""
_BODIES = ("body", "orelse", "finalbody", "handlers", "cases")
"""Fields holding nested statements (or handlers and match cases, which hold them)."""


@dataclass(slots=True)
class _Step:
    """One link of the path from the module to the statement: `owner.field[index]`."""

    owner: ast.AST
    field: str
    index: int


def reparse(
    old_text: str, old_tree: ast.Module, new_text: str, prefix: int, suffix: int
) -> ast.Module | None:
    """The tree of `new_text`, equal to `ast.parse(new_text)`, built from the tree of
    `old_text` that differs from it only between `prefix` characters from the start and
    `suffix` from the end; None when the edit is not one this handles."""
    old_changed = old_text[prefix : len(old_text) - suffix]
    new_changed = new_text[prefix : len(new_text) - suffix]
    if any(c in old_changed or c in new_changed for c in "\r\n\\"):
        return None  # the edit changes the line structure (or a continuation)
    line_start = max(old_text.rfind("\n", 0, prefix), old_text.rfind("\r", 0, prefix)) + 1
    line = old_text.count("\n", 0, line_start) + 1 if "\r" not in old_text else None
    if line is None:
        return None
    path = _path_to(old_tree, line)
    if path is None:
        return None
    statement = getattr(path[-1].owner, path[-1].field)[path[-1].index]
    first, last = statement.lineno, statement.end_lineno
    if last is None:
        return None
    old_lines = _lines(old_text, first, last)
    new_lines = _lines(new_text, first, last)
    if old_lines is None or new_lines is None or not _owns_lines(statement, old_lines):
        return None
    indent = len(old_lines) - len(old_lines.lstrip(" \t"))
    if new_lines[:indent] != old_lines[:indent] or new_lines[indent : indent + 1] in (" ", "\t"):
        return None  # the indentation changed
    replacement = _parse_alone(new_lines, indent, first)
    if replacement is None:
        return None
    return _splice(old_tree, path, statement, replacement)


def _path_to(tree: ast.Module, line: int) -> list[_Step] | None:
    """The path to the innermost simple statement covering `line` (None: the line is a
    compound statement's header, a decorator, or no statement's)."""
    path: list[_Step] = []
    owner: ast.AST = tree
    while True:
        found = _child_at(owner, line)
        if found is None:
            return None
        field, index, child = found
        if isinstance(child, ast.ExceptHandler | ast.match_case):
            path.append(_Step(owner, field, index))
            owner = child
            continue
        path.append(_Step(owner, field, index))
        if not any(getattr(child, f, None) for f in _BODIES):
            return path  # a simple statement
        header_end = min(
            (s.lineno for f in _BODIES for s in getattr(child, f, None) or ()), default=line
        )
        if line < header_end:
            return None  # on the header of a compound statement
        owner = child


def _child_at(owner: ast.AST, line: int) -> tuple[str, int, ast.AST] | None:
    for field in ("body", *_BODIES[1:]) if not isinstance(owner, ast.Module) else ("body",):
        children = getattr(owner, field, None) or ()
        for index, child in enumerate(children):
            start = getattr(child, "lineno", None)
            end = getattr(child, "end_lineno", None)
            if start is None or end is None:
                if isinstance(child, ast.match_case):
                    return None  # cases have no positions of their own
                continue
            if start <= line <= end:
                return field, index, child
    return None


def _lines(text: str, first: int, last: int) -> str | None:
    """Lines `first` to `last` (1-based) of `text`, with their line breaks."""
    start = 0
    for _ in range(first - 1):
        start = text.find("\n", start) + 1
        if start == 0:
            return None
    end = start
    for _ in range(last - first + 1):
        found = text.find("\n", end)
        end = len(text) if found == -1 else found + 1
    return text[start:end]


def _owns_lines(statement: ast.stmt, lines: str) -> bool:
    """Nothing but blanks before the statement on its first line and nothing but blanks or a
    comment after it on its last: no other statement shares its lines (`a; b`)."""
    first_line, _, _ = lines.partition("\n")
    encoded_first = first_line.encode("utf-8")
    if encoded_first[: statement.col_offset].strip(b" \t\f"):
        return False
    last_line = lines.rstrip("\n").rsplit("\n", 1)[-1]
    end = statement.end_col_offset
    if end is None:
        return False
    after = last_line.encode("utf-8")[end:].decode("utf-8", errors="replace")
    return _TRAILER.match(after) is not None


def _parse_alone(lines: str, indent: int, first: int) -> ast.stmt | None:
    """`lines` (one statement, as written) parsed on their own, positioned at line `first`;
    None unless they are exactly one simple statement."""
    source = lines if indent == 0 else "if 1:\n" + lines
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            tree = ast.parse(source)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return None
    body = tree.body if indent == 0 else _if_body(tree)
    if body is None or len(body) != 1 or any(getattr(body[0], f, None) for f in _BODIES):
        return None
    statement = body[0]
    ast.increment_lineno(statement, first - (1 if indent == 0 else 2))
    return statement


def _if_body(tree: ast.Module) -> list[ast.stmt] | None:
    if len(tree.body) != 1 or not isinstance(tree.body[0], ast.If):
        return None
    return tree.body[0].body


def _splice(tree: ast.Module, path: list[_Step], old: ast.stmt, new: ast.stmt) -> ast.Module:
    """A copy of `tree` with `new` in place of `old`: the nodes on the path are copied (their
    end column follows the statement's when it ended them), all others are shared."""
    replacement: ast.AST = new
    for step in reversed(path):
        owner = copy.copy(step.owner)
        children = list(getattr(step.owner, step.field))
        children[step.index] = replacement
        setattr(owner, step.field, children)
        if (
            getattr(owner, "end_lineno", None) == old.end_lineno
            and getattr(owner, "end_col_offset", None) == old.end_col_offset
        ):
            owner.end_col_offset = new.end_col_offset  # type: ignore[attr-defined]
        replacement = owner
    assert isinstance(replacement, ast.Module)
    return replacement
