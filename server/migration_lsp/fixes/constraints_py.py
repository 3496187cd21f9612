"""Python code for the constraint fixes: calls rendered in the file's layout (one line, or one
argument per line when too long), lines inserted before or after a statement or an element of
Django's `operations` list, and several names imported from one module at once."""

from __future__ import annotations

import ast
from dataclasses import dataclass, field

from migration_lsp.findings import Edit

from .python import PyFile
from .text import (
    indentation,
    insert,
    line_end,
    line_start,
    next_line_start,
    only_comment_after,
    only_space_before,
    py_string,
    replace,
)


@dataclass(slots=True)
class PyCall:
    """`function(arg, name=value, ...)`; values are source text or nested calls and lists."""

    function: str
    args: list[tuple[str | None, Node]] = field(default_factory=list)


@dataclass(slots=True)
class PyList:
    items: list[Node] = field(default_factory=list)


Node = str | PyCall | PyList


def flat(node: Node) -> str:
    if isinstance(node, str):
        return node
    if isinstance(node, PyCall):
        inner = ", ".join(f"{k}={flat(v)}" if k else flat(v) for k, v in node.args)
        return f"{node.function}({inner})"
    return "[" + ", ".join(flat(item) for item in node.items) + "]"


def render(
    node: Node, indent: str, unit: str, width: int, prefix: str = "", suffix: str = ""
) -> list[str]:
    """Lines of `prefix + node + suffix` at `indent`: on one line when it fits in `width`, else
    split like black does (the arguments together on a line of their own, else one per line with
    a trailing comma), recursively. A single argument that cannot be split stays on its line
    even when too long."""
    line = f"{indent}{prefix}{flat(node)}{suffix}"
    if isinstance(node, str) or ("\n" not in line and len(line.expandtabs(4)) <= width):
        return [line]
    if isinstance(node, PyCall):
        opening, closing = f"{node.function}(", ")"
        children: list[tuple[str, Node]] = [(f"{k}=" if k else "", v) for k, v in node.args]
    else:
        opening, closing = "[", "]"
        children = [("", item) for item in node.items]
    inner = indent + unit
    joined = ", ".join(p + flat(v) for p, v in children)
    lines = [f"{indent}{prefix}{opening}"]
    single = f"{inner}{joined}"
    atom = len(children) == 1 and isinstance(children[0][1], str)
    if "\n" not in single and (atom or len(single.expandtabs(4)) <= width):
        lines.append(single)
    else:
        for child_prefix, child in children:
            lines.extend(render(child, inner, unit, width, child_prefix, ","))
    lines.append(f"{indent}{closing}{suffix}")
    return lines


def quote_of(pyfile: PyFile, near: ast.AST | None = None) -> str:
    """The quote character of the strings around `near` (else the file's, else `"`)."""
    scopes: list[ast.AST] = [s for s in (near, pyfile.tree) if s is not None]
    for scope in scopes:
        for node in ast.walk(scope):
            if isinstance(node, ast.Constant) and isinstance(node.value, str):
                text = pyfile.segment(node).lstrip("rRbBuUfF")
                if text[:3] in ('"""', "'''"):
                    continue
                if text[:1] in ("'", '"'):
                    return text[0]
    return '"'


def string(value: str, quote: str) -> str:
    return py_string(value, quote)


# --------------------------------------------------------------------------- placing lines


def statement_owning(pyfile: PyFile, call: ast.Call) -> ast.Expr | None:
    """The expression statement that is exactly `call`, alone on its lines."""
    stmt = pyfile.statement_of(call)
    if not isinstance(stmt, ast.Expr) or stmt.value is not call or not pyfile.owns_lines(stmt):
        return None
    return stmt


def lines_before(pyfile: PyFile, node: ast.AST, lines: list[str]) -> Edit:
    """`lines` (already indented) inserted above the line where `node` starts."""
    nl = pyfile.newline
    return insert(line_start(pyfile.text, pyfile.span(node).start), "".join(x + nl for x in lines))


def lines_after(
    pyfile: PyFile, node: ast.AST, lines: list[str], *, after: int | None = None
) -> Edit:
    """`lines` inserted below the line where `node` (or the offset `after`) ends."""
    nl = pyfile.newline
    end = line_end(pyfile.text, pyfile.span(node).end if after is None else after)
    return insert(end, "".join(nl + x for x in lines))


def element_comma(pyfile: PyFile, node: ast.AST) -> int | None:
    """Offset of the comma after a list element (None when it is the last, without one)."""
    text = pyfile.text
    i = pyfile.span(node).end
    while i < len(text):
        ch = text[i]
        if ch == ",":
            return i
        if ch == "#":
            i = next_line_start(text, i)
            continue
        if ch not in " \t\r\n":
            return None
        i += 1
    return None


def owns_element_lines(pyfile: PyFile, node: ast.AST) -> bool:
    """The list element starts its line and only its comma (and a comment) follow it."""
    text = pyfile.text
    span = pyfile.span(node)
    if not only_space_before(text, span.start):
        return False
    comma = element_comma(pyfile, node)
    after = comma + 1 if comma is not None else span.end
    return line_end(text, span.end) >= after and only_comment_after(text, after)


def operations_element(pyfile: PyFile, call: ast.Call) -> bool:
    """`call` is an element of a list (Django's `operations`), alone on its lines."""
    parent = pyfile.parent(call)
    return isinstance(parent, ast.List | ast.Tuple) and owns_element_lines(pyfile, call)


def elements_after(pyfile: PyFile, node: ast.AST, calls: list[PyCall], width: int) -> list[Edit]:
    """`calls` added to the list right after the element `node`, at its indentation."""
    text = pyfile.text
    indent = indentation(text, pyfile.span(node).start)
    unit = pyfile.indent_unit(node)
    lines = [x for c in calls for x in render(c, indent, unit, width, suffix=",")]
    comma = element_comma(pyfile, node)
    edits: list[Edit] = []
    if comma is None:
        comma_at = pyfile.span(node).end
        edits.append(insert(comma_at, ","))
        edits.append(lines_after(pyfile, node, lines, after=comma_at))
    else:
        edits.append(lines_after(pyfile, node, lines, after=comma))
    return edits


def elements_before(pyfile: PyFile, node: ast.AST, calls: list[PyCall], width: int) -> Edit:
    indent = indentation(pyfile.text, pyfile.span(node).start)
    unit = pyfile.indent_unit(node)
    lines = [x for c in calls for x in render(c, indent, unit, width, suffix=",")]
    return lines_before(pyfile, node, lines)


def reindented(pyfile: PyFile, node: ast.AST, extra: str) -> str:
    """The source of `node` with `extra` added to the indentation of its following lines (not to
    lines inside a multi-line string)."""
    text = pyfile.text
    span = pyfile.span(node)
    source = text[span.start : span.end]
    lines = source.split("\n")
    first_line = text.count("\n", 0, span.start)
    out = [lines[0]]
    for number, line in enumerate(lines[1:], start=first_line + 1):
        if line.strip() and number not in pyfile.string_lines:
            out.append(extra + line)
        else:
            out.append(line)
    return "\n".join(out)


# --------------------------------------------------------------------------- imports


def ensure_names(pyfile: PyFile, module: str, names: list[str]) -> list[Edit]:
    """Edits making `from module import <names>` available, each name imported once: merged
    into the existing import from `module`, else one new import line."""
    tree = pyfile.tree
    if tree is None:
        return []
    existing = next(
        (
            n
            for n in tree.body
            if isinstance(n, ast.ImportFrom) and n.module == module and n.level == 0
        ),
        None,
    )
    if existing is not None and any(a.name == "*" for a in existing.names):
        return []
    have = {a.name for a in existing.names if a.asname is None} if existing is not None else set()
    missing = sorted({n for n in names if n not in have})
    if not missing:
        return []
    if existing is None:
        return pyfile.ensure_import(module, ", ".join(missing))
    if len(missing) == 1:
        return pyfile.ensure_import(module, missing[0])
    span = pyfile.span(existing)
    text = pyfile.text
    if "\n" not in text[span.start : span.end]:
        aliases = [f"{a.name} as {a.asname}" if a.asname else a.name for a in existing.names]
        merged = sorted([*aliases, *missing], key=lambda a: a.split(" ")[0])
        return [replace(span, f"from {module} import {', '.join(merged)}")]
    # parenthesized over several lines: one name per line before the closing parenthesis
    last = existing.names[-1]
    last_span = pyfile.span(last)
    close = text.rfind(")", span.start, span.end)
    if (
        close == -1
        or not only_space_before(text, last_span.start)
        or not only_space_before(text, close)
    ):
        return [lines_after(pyfile, existing, [f"from {module} import {', '.join(missing)}"])]
    indent = indentation(text, last_span.start)
    edits: list[Edit] = []
    if element_comma(pyfile, last) is None:
        edits.append(insert(last_span.end, ","))
    block = "".join(f"{indent}{name},{pyfile.newline}" for name in missing)
    edits.append(insert(line_start(text, close), block))
    return edits
