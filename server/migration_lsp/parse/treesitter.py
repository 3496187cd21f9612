"""Tree-sitter for the migration languages Python's `ast` cannot read: Ruby, PHP, JS/TS, XML.

Why tree-sitter: one small, pinned wheel per grammar (no compiler, no Node or Ruby on the
machine), exact byte ranges for every node, and error recovery, so a half-typed migration still
yields a tree whose intact parts can be checked. It never evaluates anything: XML entities are
nodes, not expansions, and no DTD is ever fetched.

Offsets: tree-sitter counts UTF-8 bytes; the engine counts code points. `TreeSource.offset`
converts, for free on ASCII text.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from functools import cache
from typing import Literal

from tree_sitter import Language, Node, Parser, Tree

from migration_lsp.model import ParseProblem
from migration_lsp.text import LineIndex, Span, fast_span, set_span_end, set_span_start

Grammar = Literal["ruby", "php", "javascript", "typescript", "tsx", "xml"]


def _loader(grammar: Grammar) -> Callable[[], object]:
    if grammar == "ruby":
        import tree_sitter_ruby

        return tree_sitter_ruby.language
    if grammar == "php":
        import tree_sitter_php

        return tree_sitter_php.language_php
    if grammar == "javascript":
        import tree_sitter_javascript

        return tree_sitter_javascript.language
    if grammar in ("typescript", "tsx"):
        import tree_sitter_typescript

        if grammar == "tsx":
            return tree_sitter_typescript.language_tsx
        return tree_sitter_typescript.language_typescript
    import tree_sitter_xml

    return tree_sitter_xml.language_xml


@cache
def language(grammar: Grammar) -> Language:
    return Language(_loader(grammar)())


_local = threading.local()

_new = object.__new__
_set_start, _set_end = set_span_start, set_span_end
make_span = fast_span
"""`Span(start, end)` without the frozen dataclass's `__init__`: parsers build hundreds of
thousands of spans."""


def parser(grammar: Grammar) -> Parser:
    """A parser for `grammar`, one per thread (diagnostics are computed in worker threads)."""
    parsers: dict[str, Parser] | None = getattr(_local, "parsers", None)
    if parsers is None:
        parsers = _local.parsers = {}
    found = parsers.get(grammar)
    if found is None:
        found = parsers[grammar] = Parser(language(grammar))
    return found


class TreeSource:
    """One document parsed with a grammar: the tree, and node positions as code-point spans."""

    __slots__ = ("_ascii", "_lines", "data", "grammar", "text", "tree")

    def __init__(self, text: str, grammar: Grammar) -> None:
        self.text = text
        self.grammar = grammar
        self.data = text.encode("utf-8", errors="surrogatepass")
        self.tree: Tree = parser(grammar).parse(self.data)
        self._lines: LineIndex | None = None
        self._ascii = len(self.data) == len(text)

    @property
    def lines(self) -> LineIndex:
        """Built on first use: only non-ASCII text needs it (byte offsets are offsets)."""
        if self._lines is None:
            self._lines = LineIndex(self.text)
        return self._lines

    @property
    def root(self) -> Node:
        return self.tree.root_node

    def offset(self, byte: int, point: tuple[int, int] | None = None) -> int:
        """Code-point offset of a byte offset (pass the node's point when known: cheaper)."""
        if self._ascii:
            return byte
        if point is not None:
            return self.lines.offset_from_utf8(point[0], point[1])
        return len(self.data[:byte].decode("utf-8", errors="replace"))

    def span(self, node: Node) -> Span:
        if self._ascii:  # the hottest call of every tree-sitter parser: no points needed
            span = _new(Span)
            _set_start(span, node.start_byte)
            _set_end(span, node.end_byte)
            return span
        return make_span(
            self.offset(node.start_byte, node.start_point),
            self.offset(node.end_byte, node.end_point),
        )

    def start(self, node: Node) -> int:
        """`span(node).start`."""
        if self._ascii:
            return node.start_byte
        return self.offset(node.start_byte, node.start_point)

    def end(self, node: Node) -> int:
        """`span(node).end`."""
        if self._ascii:
            return node.end_byte
        return self.offset(node.end_byte, node.end_point)

    def between(self, first: Node, last: Node) -> Span:
        """From the start of `first` to the end of `last` (a callee with its receiver)."""
        if self._ascii:
            span = _new(Span)
            _set_start(span, first.start_byte)
            _set_end(span, last.end_byte)
            return span
        return make_span(self.start(first), self.end(last))

    def bounds(self, node: Node) -> tuple[int, int]:
        """`span(node)` as a plain (start, end) pair, for loops that only need the numbers."""
        if self._ascii:
            return node.start_byte, node.end_byte
        return (
            self.offset(node.start_byte, node.start_point),
            self.offset(node.end_byte, node.end_point),
        )

    def node_text(self, node: Node) -> str:
        if self._ascii:  # (bytes are characters)
            return self.text[node.start_byte : node.end_byte]
        return self.data[node.start_byte : node.end_byte].decode("utf-8", errors="replace")

    def problems(self, limit: int = 1) -> list[ParseProblem]:
        """The first syntax errors of the tree, as the parse problems the engine reports."""
        if not self.root.has_error:
            return []
        found: list[ParseProblem] = []
        for node in walk(self.root, lambda n: n.has_error):
            if node.is_missing:
                message = f"Syntax error: missing `{node.type}`"
            elif node.is_error:
                snippet = self.node_text(node).strip().split("\n", 1)[0][:40]
                message = f"Syntax error: unexpected `{snippet}`" if snippet else "Syntax error"
            else:
                continue
            span = self.span(node)
            if span.end == span.start:
                span = Span(span.start, min(span.start + 1, len(self.text)))
            found.append(ParseProblem(span=span, message=message))
            if len(found) >= limit:
                break
        return found


def kind_ids(grammar: Grammar, *names: str) -> frozenset[int]:
    """The `kind_id`s of the nodes whose `type` is one of `names`. Reading `Node.type` builds a
    new string each time; comparing the `kind_id` int costs a fraction of that in hot loops."""
    by_name = _kinds_by_name(grammar)
    return frozenset(kind for name in names for kind in by_name.get(name, ()))


@cache
def _kinds_by_name(grammar: Grammar) -> dict[str, list[int]]:
    found = language(grammar)
    by_name: dict[str, list[int]] = {}
    for kind in [*range(found.node_kind_count), 0xFFFF]:  # (0xFFFF: the ERROR nodes)
        by_name.setdefault(found.node_kind_for_id(kind) or "", []).append(kind)
    return by_name


def field_id(grammar: Grammar, name: str) -> int:
    """The id of a field, for `Node.child_by_field_id` (which skips the lookup by name)."""
    found = language(grammar).field_id_for_name(name)
    if found is None:
        raise ValueError(f"no field {name!r} in the {grammar} grammar")
    return found


def walk(node: Node, descend: Callable[[Node], bool] | None = None) -> Iterator[Node]:
    """Nodes in document order, `node` first; children are visited only where `descend(n)`."""
    stack = [node]
    while stack:
        current = stack.pop()
        yield current
        if descend is None or descend(current):
            stack.extend(reversed(current.children))


def walk_with_parents(
    node: Node, descend: Callable[[Node], bool] | None = None, parent: Node | None = None
) -> Iterator[tuple[Node, Node | None]]:
    """`walk`, each node with its parent (`parent` for `node` itself). Tree-sitter finds
    `Node.parent` by descending from the root, so asking every node of a walk for it costs
    time quadratic in the nesting depth."""
    stack: list[tuple[Node, Node | None]] = [(node, parent)]
    while stack:
        current, above = stack.pop()
        yield current, above
        if descend is None or descend(current):
            stack.extend((child, current) for child in reversed(current.children))


def visit_named(node: Node, enter: Callable[[Node, Node], bool]) -> None:
    """Call `enter(child, parent)` on each named node under `node` (not `node` itself), in
    document order, descending into a node's children only where it returns True. Not
    recursive: deeply nested code must not exhaust Python's stack; each node comes with its
    parent, as `Node.parent` costs a descent from the root. A frame per parent (its children
    still to visit, reversed, and itself), not a tuple per node: the parsers walk every
    statement of every file this way."""
    frames = [(node.named_children[::-1], node)]
    while frames:
        pending, parent = frames[-1]
        if not pending:
            frames.pop()
            continue
        current = pending.pop()
        if enter(current, parent):
            children = current.named_children
            if children:
                children.reverse()
                frames.append((children, current))


def ancestors(node: Node, root: Node) -> list[Node]:
    """`node`'s ancestors up to `root`, innermost first, found in one descent from `root`
    (climbing with `Node.parent` descends from the root again at every level)."""
    path: list[Node] = []
    current: Node | None = root
    while current is not None and current != node:
        path.append(current)
        current = current.child_with_descendant(node)
    if current is None:  # `node` is not under `root`
        return []
    path.reverse()
    return path


def named_children(node: Node) -> list[Node]:
    """Named children without comments (grammars put comments anywhere)."""
    children = node.named_children  # a new list: callers may keep or change it
    for child in children:
        if child.type == "comment":
            return [c for c in children if c.type != "comment"]
    return children
