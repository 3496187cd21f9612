"""String literals of Ruby, PHP and JS/TS (tree-sitter nodes) → value + document positions.

The SQL in `execute "..."`, `DB::statement('...')` or `` knex.raw(`...`) `` is checked as SQL and
reported on the exact characters inside the literal, so every character of the decoded value
keeps the document offset it came from. Interpolations (`#{x}`, `{$x}`, `${x}`) become a
placeholder (the variable's name when it is a plain name), and mark the string as formatted.

Each grammar names its parts differently; the caller says which node types are literal text,
escapes and interpolations (see `RUBY`, `PHP`, `JS` below).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from tree_sitter import Node

from migration_lsp.parse.pystrings import PLACEHOLDER
from migration_lsp.parse.treesitter import TreeSource

Part = Literal["text", "escape", "interpolation", "descend", "skip"]


@dataclass(frozen=True, slots=True)
class StringGrammar:
    text: frozenset[str]
    escape: frozenset[str]
    interpolation: frozenset[str]
    descend: frozenset[str] = frozenset()
    raw_escapes: frozenset[str] = frozenset()
    """Node types of single-quoted literals, where only `\\\\` and the quote are escapes."""

    def part(self, node: Node) -> Part:
        kind = node.type
        if kind in self.text:
            return "text"
        if kind in self.escape:
            return "escape"
        if kind in self.interpolation:
            return "interpolation"
        if kind in self.descend:
            return "descend"
        return "skip"


RUBY = StringGrammar(
    text=frozenset({"string_content", "heredoc_content"}),
    escape=frozenset({"escape_sequence"}),
    interpolation=frozenset({"interpolation"}),
    descend=frozenset({"heredoc_body"}),
)
PHP = StringGrammar(
    text=frozenset({"string_content", "string_value", "nowdoc_string", "heredoc_body_text"}),
    escape=frozenset({"escape_sequence"}),
    interpolation=frozenset(
        {
            "variable_name",
            "member_access_expression",
            "subscript_expression",
            "dynamic_variable_name",
        }
    ),
    descend=frozenset({"heredoc_body", "nowdoc_body"}),
)
JS = StringGrammar(
    text=frozenset({"string_fragment"}),
    escape=frozenset({"escape_sequence"}),
    interpolation=frozenset({"template_substitution"}),
)


@dataclass(slots=True)
class HostString:
    value: str
    positions: list[int]
    """`positions[i]`: document offset of `value[i]`; one more entry: the offset after the end."""
    formatted: bool
    """Built with interpolation: the placeholders stand for values known only at run time."""


def decode(source: TreeSource, node: Node, grammar: StringGrammar) -> HostString:
    """The value of the string literal `node`, with positions (see module docstring)."""
    value: list[str] = []
    positions: list[int] = []
    formatted, last = _parts(node, False, _kinds(grammar), source, value, positions)
    positions.append(source.bounds(node)[1] if last is None else last)
    return HostString("".join(value), positions, formatted)


def decode_value(source: TreeSource, node: Node, grammar: StringGrammar) -> tuple[str, bool]:
    """`decode(...)`'s value and `formatted`, without the positions (a literal argument's value
    is all most callers read; a position list costs an int object per character)."""
    value: list[str] = []
    formatted = _parts(node, False, _kinds(grammar), source, value, None)[0]
    return "".join(value), formatted


def _parts(
    parent: Node,
    body: bool,
    kinds: dict[str, Part],
    source: TreeSource,
    value: list[str],
    positions: list[int] | None,
) -> tuple[bool, int | None]:
    """Append the characters of `parent`'s parts (and their offsets to `positions`, unless
    None: an int object per character is what most callers need not pay); (any
    interpolation, end of the last part). `body`: a heredoc body, whose line breaks some
    grammars leave between its parts."""
    bounds = source.bounds
    text = source.text
    formatted = False
    previous: int | None = None
    for child in parent.children:
        part = kinds.get(child.type)
        if part is None:
            continue
        start, stop = bounds(child)
        if body and previous is not None and previous < start:
            gap = text[previous:start]
            if not gap.strip():
                value.append(gap)
                if positions is not None:
                    positions.extend(range(previous, start))
        previous = stop
        if part == "descend":
            formatted = _parts(child, True, kinds, source, value, positions)[0] or formatted
            continue
        if part == "text":
            piece = text[start:stop]
        elif part == "escape":
            piece = unescape(text[start:stop])
        else:
            formatted = True
            piece = _interpolated_name(text[start:stop])
        value.append(piece)
        if positions is not None:
            if part == "text":
                positions.extend(range(start, stop))
            else:
                positions.extend([start] * len(piece))
    return formatted, previous


_KINDS: dict[int, tuple[StringGrammar, dict[str, Part]]] = {}


def _kinds(grammar: StringGrammar) -> dict[str, Part]:
    """`grammar.part` as one dict lookup per node type (no entry: skip), kept by identity
    (hashing the grammar's sets costs more than the lookup saves)."""
    found = _KINDS.get(id(grammar))
    if found is not None and found[0] is grammar:
        return found[1]
    kinds: dict[str, Part] = {}
    parts: tuple[Part, ...] = ("descend", "interpolation", "escape", "text")
    for part in parts:  # `part`'s order, reversed: the first that names a type wins
        for kind in getattr(grammar, part):
            kinds[kind] = part
    _KINDS[id(grammar)] = (grammar, kinds)
    return kinds


def _interpolated_name(text: str) -> str:
    inner = text.strip().lstrip("#$").strip("{}").strip().lstrip("$").strip()
    return inner if inner.isidentifier() else PLACEHOLDER


_SIMPLE = {
    "n": "\n",
    "t": "\t",
    "r": "\r",
    "b": "\b",
    "f": "\f",
    "v": "\v",
    "0": "\0",
    "e": "\x1b",
    "a": "\a",
    "s": " ",
}


def unescape(text: str) -> str:
    """One escape sequence as the common C-family languages read it (`\\n`, `\\x41`,
    `\\u00e9`, `\\u{1F600}`, a line continuation); an unknown one stands for its character."""
    if not text.startswith("\\") or len(text) < 2:
        return text
    body = text[1:]
    first = body[0]
    if first in "\r\n":
        return ""
    try:
        if first == "x" and len(body) > 1:
            return chr(int(body[1:], 16))
        if first == "u" and len(body) > 1:
            return chr(int(body[1:].strip("{}"), 16))
        if first in "01234567" and len(body) > 1:
            return chr(int(body, 8))
    except ValueError:
        return body
    if len(body) == 1:
        return _SIMPLE.get(first, first)
    return body
