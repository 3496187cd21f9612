"""Liquibase YAML and JSON changelogs → the element tree of `liquibase_changes`.

YAML is read with `yaml.compose` and PyYAML's `SafeLoader` (its C twin `CSafeLoader` when
libyaml is there): composing builds nodes with their marks (code-point offsets) and never
constructs Python objects, so no tag can run code. Aliases share nodes; the reader follows them
within a budget, so an alias bomb (the YAML billion laughs) is a parse problem instead of an
exponential walk.

JSON is read by a small positioned parser of its own (the `json` module keeps no positions, and
PyYAML rejects the tab-indented JSON many editors write). Like Liquibase, which reads JSON with
its YAML parser, it accepts `#` comments.

A changelog is `databaseChangeLog: [ {changeSet: {id, author, changes: [...], rollback}},
{include: {file}}, {includeAll: {path}}, ... ]`; a change `{createIndex: {tableName, columns:
[{column: {name}}]}}` becomes the element `createIndex` with the attribute `tableName` and the
child `column`, as in XML.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import yaml

from migration_lsp.model import ParseProblem
from migration_lsp.parse.liquibase_changes import Changelog, Element, Include, Value, is_true
from migration_lsp.text import Span

MAX_REPEATS = 20_000
"""Nodes a document may reach again through aliases before it is refused (an alias bomb
reaches millions; real changelogs use few aliases, if any)."""
MAX_DEPTH = 400
_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
"""PyYAML's safe loader, in C when libyaml is there (same marks, several times faster)."""
_FLATTENED = frozenset({"changes", "columns"})
"""Keys whose list items are children of the enclosing element (XML has no wrapper there)."""


@dataclass(slots=True)
class Node:
    """A YAML or JSON node with its span; exactly one of `mapping`, `sequence`, `scalar` is
    set, or none for null."""

    span: Span
    mapping: list[tuple[Node, Node]] | None = None
    sequence: list[Node] | None = None
    scalar: Value | None = None

    @property
    def text(self) -> str:
        return self.scalar.text if self.scalar is not None else ""

    def get(self, key: str) -> Node | None:
        for k, v in self.mapping or ():
            if k.text == key:
                return v
        return None


class _TooBig(Exception):
    pass


# --------------------------------------------------------------------------- YAML


def read_yaml(text: str) -> Changelog:
    try:
        composed = yaml.compose(text, Loader=_LOADER)
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark or error.context_mark
        at = mark.index if mark is not None else 0
        return Changelog(problems=[_problem(text, at, f"YAML syntax error: {error.problem}")])
    except yaml.YAMLError as error:
        return Changelog(problems=[_problem(text, 0, f"YAML error: {error}")])
    if composed is None:
        return Changelog()
    try:
        root = _YamlConverter(text).convert(composed, 0)
    except _TooBig as error:
        return Changelog(problems=[_problem(text, 0, str(error))])
    return changelog_of(root)


class _YamlConverter:
    def __init__(self, text: str) -> None:
        self.text = text
        self.seen: set[int] = set()
        self.repeats = 0

    def convert(self, node: yaml.Node, depth: int) -> Node:
        if id(node) in self.seen:
            self.repeats += 1
        self.seen.add(id(node))
        if self.repeats > MAX_REPEATS or depth > MAX_DEPTH:
            raise _TooBig(
                "YAML document expands to too many nodes through aliases (an alias bomb?): not read"
            )
        start = node.start_mark.index
        if isinstance(node, yaml.ScalarNode):
            if node.tag == "tag:yaml.org,2002:null":
                return Node(span=Span(start, node.end_mark.index))
            return Node(span=Span(start, node.end_mark.index), scalar=self.scalar(node))
        if isinstance(node, yaml.MappingNode):
            pairs = [
                (self.convert(k, depth + 1), self.convert(v, depth + 1)) for k, v in node.value
            ]
            end = self.end(node, [v for _, v in pairs] or [k for k, _ in pairs])
            return Node(span=Span(start, end), mapping=pairs)
        items = [self.convert(v, depth + 1) for v in node.value]
        return Node(span=Span(start, self.end(node, items)), sequence=items)

    @staticmethod
    def end(node: yaml.Node, children: list[Node]) -> int:
        """A block collection's end mark lies at the next token (lines later, after comments):
        its last child's end is where it really ends."""
        if getattr(node, "flow_style", False) or not children:
            return int(node.end_mark.index)
        return max(children[-1].span.end, children[-1].span.start)

    def scalar(self, node: yaml.ScalarNode) -> Value:
        start, end = node.start_mark.index, node.end_mark.index
        value = node.value
        style = node.style
        if style in ('"', "'"):
            inner = Span(start + 1, max(start + 1, end - 1))
            raw = self.text[inner.start : inner.end]
            plain = raw == value
            return Value(text=value, span=inner, positions=_identity(inner) if plain else None)
        if style == "|":
            return Value(
                text=value, span=Span(start, end), positions=self.literal(start, end, value)
            )
        span = Span(start, end)
        return Value(
            text=value,
            span=span,
            positions=_identity(span) if self.text[start:end] == value else None,
        )

    def literal(self, start: int, end: int, value: str) -> list[int] | None:
        """Positions of a `|` block scalar's characters: each line without its indentation."""
        text = self.text
        body = text.find("\n", start, end)
        if body == -1:
            return None
        lines = text[body + 1 : end].split("\n")
        indent = next(
            (len(ln) - len(ln.lstrip(" ")) for ln in lines if ln.strip()),
            0,
        )
        chars: list[str] = []
        positions: list[int] = []
        offset = body + 1
        for line in lines:
            content = line[indent:] if len(line) >= indent else ""
            skip = min(indent, len(line))
            for i, char in enumerate(content):
                chars.append(char)
                positions.append(offset + skip + i)
            chars.append("\n")
            positions.append(offset + len(line))
            offset += len(line) + 1
        built = "".join(chars)
        keep = len(value)
        if built[:keep] != value:
            return None
        return [*positions[:keep], positions[keep] if keep < len(positions) else end]


def _identity(span: Span) -> range:
    """Positions of text written as is: each character where it stands."""
    return range(span.start, span.end + 1)


def _problem(text: str, at: int, message: str) -> ParseProblem:
    at = max(0, min(at, len(text)))
    end = text.find("\n", at)
    end = len(text) if end == -1 else end
    return ParseProblem(span=Span(at, max(end, min(at + 1, len(text)))), message=message)


# --------------------------------------------------------------------------- JSON


def read_json(text: str) -> Changelog:
    parser = _JsonParser(text)
    try:
        root = parser.document()
    except _JsonError as error:
        return Changelog(problems=[_problem(text, error.at, f"JSON syntax error: {error}")])
    return changelog_of(root) if root is not None else Changelog()


class _JsonError(Exception):
    def __init__(self, message: str, at: int) -> None:
        super().__init__(message)
        self.at = at


_ESCAPES = {'"': '"', "\\": "\\", "/": "/", "b": "\b", "f": "\f", "n": "\n", "r": "\r", "t": "\t"}


@dataclass(slots=True)
class _JsonParser:
    text: str
    at: int = 0
    depth: int = 0
    seen: list[int] = field(default_factory=list)

    def document(self) -> Node | None:
        self.space()
        if self.at >= len(self.text):
            return None
        node = self.value()
        self.space()
        if self.at < len(self.text):
            raise _JsonError(f"unexpected `{self.text[self.at]}` after the document", self.at)
        return node

    def space(self) -> None:
        text = self.text
        while self.at < len(text):
            char = text[self.at]
            if char in " \t\r\n":
                self.at += 1
            elif char == "#":
                newline = text.find("\n", self.at)
                self.at = len(text) if newline == -1 else newline
            elif text.startswith("//", self.at):
                raise _JsonError(
                    "`//` comments are not JSON, and Liquibase's parser rejects them "
                    "(it accepts `#` comments)",
                    self.at,
                )
            else:
                return

    def value(self) -> Node:
        if self.at >= len(self.text):
            raise _JsonError("unexpected end of file", self.at)
        char = self.text[self.at]
        if char in "{[":
            self.depth += 1
            if self.depth > MAX_DEPTH:
                raise _JsonError("nested too deeply", self.at)
            node = self.object() if char == "{" else self.array()
            self.depth -= 1
            return node
        if char == '"':
            return self.string()
        return self.literal()

    def expect(self, char: str) -> None:
        self.space()
        if self.at >= len(self.text):
            raise _JsonError(f"expected `{char}` before the end of file", self.at)
        if self.text[self.at] != char:
            raise _JsonError(f"expected `{char}`, found `{self.text[self.at]}`", self.at)
        self.at += 1

    def object(self) -> Node:
        start = self.at
        self.at += 1
        pairs: list[tuple[Node, Node]] = []
        self.space()
        if self.text.startswith("}", self.at):
            self.at += 1
            return Node(span=Span(start, self.at), mapping=pairs)
        while True:
            self.space()
            if not self.text.startswith('"', self.at):
                raise _JsonError("expected a quoted key", self.at)
            key = self.string()
            self.expect(":")
            self.space()
            pairs.append((key, self.value()))
            self.space()
            if self.text.startswith(",", self.at):
                self.at += 1
                continue
            self.expect("}")
            return Node(span=Span(start, self.at), mapping=pairs)

    def array(self) -> Node:
        start = self.at
        self.at += 1
        items: list[Node] = []
        self.space()
        if self.text.startswith("]", self.at):
            self.at += 1
            return Node(span=Span(start, self.at), sequence=items)
        while True:
            self.space()
            items.append(self.value())
            self.space()
            if self.text.startswith(",", self.at):
                self.at += 1
                continue
            self.expect("]")
            return Node(span=Span(start, self.at), sequence=items)

    def string(self) -> Node:
        text = self.text
        start = self.at
        self.at += 1
        chars: list[str] = []
        positions: list[int] = []
        while True:
            if self.at >= len(text) or text[self.at] == "\n":
                raise _JsonError("unterminated string", start)
            char = text[self.at]
            if char == '"':
                break
            if char == "\\":
                escaped = text[self.at + 1 : self.at + 2]
                if escaped == "u":
                    digits = text[self.at + 2 : self.at + 6]
                    try:
                        chars.append(chr(int(digits, 16)))
                    except ValueError:
                        raise _JsonError("bad \\u escape", self.at) from None
                    positions.append(self.at)
                    self.at += 6
                    continue
                if escaped not in _ESCAPES:
                    raise _JsonError(f"bad escape `\\{escaped}`", self.at)
                chars.append(_ESCAPES[escaped])
                positions.append(self.at)
                self.at += 2
                continue
            chars.append(char)
            positions.append(self.at)
            self.at += 1
        positions.append(self.at)
        self.at += 1
        inner = Span(start + 1, self.at - 1)
        plain = len(chars) == inner.end - inner.start
        value = Value(
            text="".join(chars), span=inner, positions=_identity(inner) if plain else positions
        )
        return Node(span=Span(start, self.at), scalar=value)

    def literal(self) -> Node:
        text = self.text
        start = self.at
        while self.at < len(text) and (text[self.at].isalnum() or text[self.at] in "+-.eE"):
            self.at += 1
        word = text[start : self.at]
        if not word:
            raise _JsonError(f"unexpected `{text[start]}`", start)
        if word not in ("true", "false", "null") and not _is_number(word):
            raise _JsonError(f"unexpected `{word}`", start)
        span = Span(start, self.at)
        if word == "null":
            return Node(span=span)
        return Node(span=span, scalar=Value(text=word, span=span, positions=_identity(span)))


def _is_number(word: str) -> bool:
    try:
        float(word)
    except ValueError:
        return False
    return word[0] in "-0123456789"


# --------------------------------------------------------------------------- changelog


def changelog_of(root: Node) -> Changelog:
    changelog = Changelog()
    entries = root.get("databaseChangeLog") if root.mapping is not None else None
    for item in entries.sequence or () if entries is not None else ():
        for key, value in item.mapping or ():
            if key.text == "changeSet":
                changelog.changesets.append(element(key, value))
            elif key.text in ("include", "includeAll"):
                include = element(key, value)
                path = include.get("file" if key.text == "include" else "path")
                if path:
                    changelog.includes.append(
                        Include(
                            path=path,
                            relative=is_true(include.get("relativeToChangelogFile")),
                            directory=key.text == "includeAll",
                            span=include.span,
                        )
                    )
    return changelog


def element(key: Node, value: Node) -> Element:
    """The element `key: value`: scalar entries are its attributes, nested mappings and lists
    its children, a scalar value its text."""
    result = Element(
        name=key.text,
        span=Span(key.span.start, max(value.span.end, key.span.end)),
        name_span=_name_span(key),
        head=_name_span(key),
    )
    if value.mapping is not None:
        for k, v in value.mapping:
            # a rollback is SQL text, changes, or nothing at all: always an element
            if k.text == "rollback" or v.mapping is not None:
                result.children.append(element(k, v))
            elif v.sequence is not None:
                if k.text in _FLATTENED:
                    result.children.extend(_items(v))
                else:
                    result.children.append(_list_element(k, v))
            elif v.scalar is not None:
                result.attrs[k.text] = v.scalar
    elif value.sequence is not None:
        result.children.extend(_items(value))
    elif value.scalar is not None:
        result.text = value.scalar
    return result


def _items(sequence: Node) -> list[Element]:
    return [element(k, v) for item in sequence.sequence or () for k, v in item.mapping or ()]


def _list_element(key: Node, value: Node) -> Element:
    return Element(
        name=key.text,
        span=Span(key.span.start, value.span.end),
        name_span=_name_span(key),
        head=_name_span(key),
        children=_items(value),
    )


def _name_span(key: Node) -> Span:
    """A key's name without its quotes (JSON keys are quoted)."""
    return key.scalar.span if key.scalar is not None else key.span
