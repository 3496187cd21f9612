"""LSP snippet syntax: parsing, filling in the defaults, substituting values and re-indenting.

Only the parts of the grammar the bundled snippets use are accepted: tab stops (`$1`, `${1}`),
placeholders (`${1:text}`, nestable), choices (`${1|a,b|}`) and backslash escapes (`\\$`, `\\}`,
`\\\\`; inside choices also `\\,` and `\\|`). Variables (`$TM_FILENAME`) are rejected, so a
forgotten escape in front of an SQL dollar quote (`$$`, `$body$`) is caught instead of being
silently turned into something else by the client.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from migration_lsp.snippets.model import Snippet


class SnippetSyntaxError(ValueError):
    """The body is not valid snippet syntax (as far as the bundled snippets use it)."""


@dataclass(frozen=True, slots=True)
class Text:
    value: str


@dataclass(frozen=True, slots=True)
class Tabstop:
    index: int
    placeholder: tuple[Node, ...] | None = None
    """The default content of `${1:...}`; None for a bare `$1` / `${1}`."""


@dataclass(frozen=True, slots=True)
class Choice:
    index: int
    options: tuple[str, ...]


Node = Text | Tabstop | Choice

_ESCAPABLE = "$}\\"
_CHOICE_ESCAPABLE = "$}\\,|"


def parse(source: str) -> list[Node]:
    """The nodes of a snippet body; `SnippetSyntaxError` on anything malformed."""
    nodes, position = _sequence(source, 0, nested=False)
    assert position == len(source)
    return nodes


def _sequence(source: str, i: int, *, nested: bool) -> tuple[list[Node], int]:
    nodes: list[Node] = []
    text: list[str] = []

    def flush() -> None:
        if text:
            nodes.append(Text("".join(text)))
            text.clear()

    while i < len(source):
        char = source[i]
        if char == "\\" and i + 1 < len(source) and source[i + 1] in _ESCAPABLE:
            text.append(source[i + 1])
            i += 2
        elif char == "}" and nested:
            flush()
            return nodes, i
        elif char == "$":
            flush()
            node, i = _dollar(source, i)
            nodes.append(node)
        else:
            text.append(char)
            i += 1
    if nested:
        raise SnippetSyntaxError("unclosed placeholder: missing '}'")
    flush()
    return nodes, i


def _digits(source: str, i: int) -> tuple[int | None, int]:
    start = i
    while i < len(source) and source[i].isdigit():
        i += 1
    return (int(source[start:i]) if i > start else None), i


def _dollar(source: str, i: int) -> tuple[Node, int]:
    index, j = _digits(source, i + 1)
    if index is not None:
        return Tabstop(index), j
    if not source.startswith("{", i + 1):
        raise SnippetSyntaxError(
            f"unescaped '$' at offset {i}: write a literal dollar as '\\$' (SQL: '\\$\\$')"
        )
    index, j = _digits(source, i + 2)
    if index is None:
        raise SnippetSyntaxError(f"'${{' at offset {i} must be followed by a tab stop number")
    if source.startswith("}", j):
        return Tabstop(index), j + 1
    if source.startswith(":", j):
        children, k = _sequence(source, j + 1, nested=True)
        return Tabstop(index, tuple(children)), k + 1
    if source.startswith("|", j):
        return _choice(source, index, j + 1)
    raise SnippetSyntaxError(f"malformed tab stop at offset {i}")


def _choice(source: str, index: int, i: int) -> tuple[Node, int]:
    options: list[str] = []
    current: list[str] = []
    while i < len(source):
        char = source[i]
        if char == "\\" and i + 1 < len(source) and source[i + 1] in _CHOICE_ESCAPABLE:
            current.append(source[i + 1])
            i += 2
        elif char == ",":
            options.append("".join(current))
            current = []
            i += 1
        elif char == "|":
            if not source.startswith("}", i + 1):
                raise SnippetSyntaxError(f"choice at offset {i} must end with '|}}'")
            options.append("".join(current))
            return Choice(index, tuple(options)), i + 2
        else:
            current.append(char)
            i += 1
    raise SnippetSyntaxError("unclosed choice: missing '|}'")


# --------------------------------------------------------------------------- defaults


def defaults(nodes: list[Node]) -> dict[int, str]:
    """The text each tab stop starts with: its placeholder's default or first choice."""
    found: dict[int, str] = {}

    def visit(sequence: tuple[Node, ...] | list[Node]) -> None:
        for node in sequence:
            if isinstance(node, Tabstop) and node.placeholder is not None:
                visit(node.placeholder)
                found.setdefault(node.index, _plain(node.placeholder, found))
            elif isinstance(node, Choice):
                found.setdefault(node.index, node.options[0] if node.options else "")

    visit(nodes)
    return found


def _plain(nodes: tuple[Node, ...] | list[Node], values: Mapping[int, str]) -> str:
    parts: list[str] = []
    for node in nodes:
        if isinstance(node, Text):
            parts.append(node.value)
        elif isinstance(node, Choice):
            parts.append(node.options[0] if node.options else "")
        elif node.placeholder is not None:
            parts.append(_plain(node.placeholder, values))
        else:
            parts.append(values.get(node.index, ""))
    return "".join(parts)


def expand(source: str) -> str:
    """The text the user gets by accepting every default: `${1:x}` → `x`, `${1|a,b|}` → `a`,
    a mirror `$1` → the default of tab stop 1, a bare tab stop (`$0`, `$2`) → nothing."""
    nodes = parse(source)
    return _plain(nodes, defaults(nodes))


# --------------------------------------------------------------------------- writing


def escape(text: str) -> str:
    """Plain text → snippet text that inserts it literally."""
    return text.replace("\\", "\\\\").replace("$", "\\$").replace("}", "\\}")


def _escape_choice(text: str) -> str:
    return escape(text).replace(",", "\\,").replace("|", "\\|")


def serialize(nodes: list[Node] | tuple[Node, ...]) -> str:
    parts: list[str] = []
    for node in nodes:
        if isinstance(node, Text):
            parts.append(escape(node.value))
        elif isinstance(node, Choice):
            options = ",".join(_escape_choice(o) for o in node.options)
            parts.append(f"${{{node.index}|{options}|}}")
        elif node.placeholder is None:
            parts.append(f"${node.index}")
        else:
            parts.append(f"${{{node.index}:{serialize(node.placeholder)}}}")
    return "".join(parts)


def substitute(source: str, values: Mapping[str, str]) -> str:
    """Replace the default of every placeholder whose default text is a key of `values`
    (`${2:revision}` with `{"revision": "3f2a1b4c5d6e"}` → `${2:3f2a1b4c5d6e}`). The server uses
    this to prefill what it knows: a fresh revision id, the current head, the app label."""
    if not values:
        return source

    def visit(nodes: list[Node] | tuple[Node, ...]) -> list[Node]:
        out: list[Node] = []
        for node in nodes:
            if isinstance(node, Tabstop) and node.placeholder is not None:
                placeholder = node.placeholder
                if len(placeholder) == 1 and isinstance(placeholder[0], Text):
                    key = placeholder[0].value
                    if key in values:
                        out.append(Tabstop(node.index, (Text(values[key]),)))
                        continue
                out.append(Tabstop(node.index, tuple(visit(placeholder))))
            else:
                out.append(node)
        return out

    return serialize(visit(parse(source)))


def reindent(source: str, indent: str) -> str:
    """Prefix every continuation line with `indent`; blank lines stay empty."""
    if not indent:
        return source
    lines = source.split("\n")
    return "\n".join([lines[0], *(indent + line if line.strip() else line for line in lines[1:])])


def render(snippet: Snippet | str, indent: str, *, values: Mapping[str, str] | None = None) -> str:
    """The snippet text to insert at a cursor whose line starts with `indent` (the whitespace
    before the cursor): continuation lines re-indented, placeholders named in `values`
    prefilled. Send it with `insertTextMode: asIs`."""
    source = snippet.body if isinstance(snippet, Snippet) else snippet
    if values:
        source = substitute(source, values)
    return reindent(source, indent)
