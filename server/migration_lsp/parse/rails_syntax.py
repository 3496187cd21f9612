"""Reading Ruby call syntax from tree-sitter nodes: arguments, options, symbols, literals.

Rails migrations are DSL calls (`add_index :users, :email, unique: true`), so the parser only
needs a few things from a call: its receiver and method, its positional arguments, its keyword
options (`key: value` and `:key => value` pairs, also inside a trailing `{...}`), and the value of
literal arguments. Anything that is not a literal (a variable, a method call) reads as `UNKNOWN`,
never as a guess.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cache

from tree_sitter import Node

from migration_lsp.parse.host_strings import RUBY, HostString, decode
from migration_lsp.parse.treesitter import TreeSource, field_id, kind_ids, named_children


class _Unknown:
    """A value only known at run time."""

    def __repr__(self) -> str:
        return "UNKNOWN"


UNKNOWN = _Unknown()
Value = str | int | float | bool | None | list["Value"] | _Unknown

STRING_NODES = frozenset({"string", "chained_string", "heredoc_beginning"})
_SYMBOL_NODES = frozenset({"simple_symbol", "delimited_symbol", "hash_key_symbol"})
_NAME_NODES = _SYMBOL_NODES | {"string"}
_PLAIN_NAMES = frozenset({"hash_key_symbol", "identifier", "constant"})
_SKIPPED_ARGS = frozenset({"block_argument", "splat_argument", "hash_splat_argument", "comment"})


@dataclass(frozen=True, slots=True)
class RubyKinds:
    """Node types as `kind_id` sets and fields by id, for the hottest reads of the parser
    (`Node.type` builds a new string each time; a field named is looked up by name first).
    Built on first use: loading the grammar at import would slow every start."""

    pair: frozenset[int]
    hash: frozenset[int]
    skipped_args: frozenset[int]
    simple_symbol: frozenset[int]
    plain_names: frozenset[int]
    quoted: frozenset[int]
    interpolation: frozenset[int]
    string_content: frozenset[int]
    names: frozenset[int]
    self: frozenset[int]
    call: frozenset[int]
    not_visited: frozenset[int]
    """Nodes `rails_ops.Reader.visit` does not look into."""
    receiver: int
    method: int
    arguments: int
    key: int
    value: int


@cache
def ruby_kinds() -> RubyKinds:
    return RubyKinds(
        pair=kind_ids("ruby", "pair"),
        hash=kind_ids("ruby", "hash"),
        skipped_args=kind_ids("ruby", *_SKIPPED_ARGS),
        simple_symbol=kind_ids("ruby", "simple_symbol"),
        plain_names=kind_ids("ruby", *_PLAIN_NAMES),
        quoted=kind_ids("ruby", "delimited_symbol", "string"),
        interpolation=kind_ids("ruby", "interpolation"),
        string_content=kind_ids("ruby", "string_content"),
        names=kind_ids("ruby", *_NAME_NODES),
        self=kind_ids("ruby", "self"),
        call=kind_ids("ruby", "call"),
        not_visited=kind_ids(
            "ruby", "method", "singleton_method", "class", "module", "heredoc_body"
        ),
        receiver=field_id("ruby", "receiver"),
        method=field_id("ruby", "method"),
        arguments=field_id("ruby", "arguments"),
        key=field_id("ruby", "key"),
        value=field_id("ruby", "value"),
    )


@dataclass(slots=True)
class Args:
    """The arguments of one call: positional ones in order, options by key."""

    positional: list[Node] = field(default_factory=list)
    options: dict[str, Node] = field(default_factory=dict)
    """Option name → its value node."""
    pairs: dict[str, Node] = field(default_factory=dict)
    """Option name → the whole `key: value` pair node (for spans and edits)."""
    node: Node | None = None
    """The `argument_list` node, when the call has arguments."""


def call_parts(node: Node) -> tuple[Node | None, str, Node | None]:
    """(receiver, method name, method node) of a `call` node."""
    kinds = ruby_kinds()
    receiver = node.child_by_field_id(kinds.receiver)
    method = node.child_by_field_id(kinds.method)
    if method is None:
        return receiver, "", None
    text = method.text
    return receiver, text.decode("utf-8", "replace") if text else "", method


def arguments(node: Node) -> Args:
    """The positional arguments and options of a `call` node."""
    kinds = ruby_kinds()
    arg_list = node.child_by_field_id(kinds.arguments)
    if arg_list is None:
        return Args()
    positional: list[Node] = []
    found = Args(positional, {}, {}, arg_list)
    for child in arg_list.named_children:
        kind = child.kind_id
        if kind in kinds.pair:
            _add_pair(found, child)
        elif kind in kinds.hash and child == named_children(arg_list)[-1]:
            for pair in named_children(child):  # add_index :t, :c, { unique: true }
                if pair.kind_id in kinds.pair:
                    _add_pair(found, pair)
        elif kind not in kinds.skipped_args:
            positional.append(child)
    return found


def _add_pair(found: Args, pair: Node) -> None:
    kinds = ruby_kinds()
    key = pair.child_by_field_id(kinds.key)
    value = pair.child_by_field_id(kinds.value)
    if key is None or value is None:
        return
    name = symbol_name(key)
    if name is not None:
        found.options[name] = value
        found.pairs[name] = pair


def symbol_name(node: Node) -> str | None:
    """The name of a symbol or hash key (`:users`, `users:`, `:"users"`, `"users" =>`)."""
    kinds = ruby_kinds()
    kind = node.kind_id
    if kind in kinds.simple_symbol:
        return text_of(node)[1:]
    if kind in kinds.plain_names:
        return text_of(node)
    if kind in kinds.quoted:
        parts: list[str] = []
        for child in node.children:
            part = child.kind_id
            if part in kinds.interpolation:
                return None
            if part in kinds.string_content:
                text = child.text
                if text:
                    parts.append(text.decode("utf-8", "replace"))
        return parts[0] if len(parts) == 1 else "".join(parts)
    return None


def name_of(node: Node | None) -> str | None:
    """A table, column or index name written as a symbol or a plain string literal."""
    if node is None or node.kind_id not in ruby_kinds().names:
        return None
    return symbol_name(node)


def names_of(node: Node | None) -> list[str]:
    """Column names: one name, or an array of names (`[:a, :b]`, `%i[a b]`)."""
    if node is None:
        return []
    if node.type == "array":
        found: list[str] = []
        for child in named_children(node):
            bare = child.type in ("bare_symbol", "bare_string")
            name = _bare(child) if bare else name_of(child)
            if name is not None:
                found.append(name)
        return found
    single = name_of(node)
    return [single] if single is not None else []


def _bare(node: Node) -> str | None:
    return node.text.decode("utf-8", "replace") if node.text else None


def literal(node: Node | None) -> Value:
    """The value of a literal argument; `UNKNOWN` for anything computed at run time."""
    if node is None:
        return UNKNOWN
    if node.kind_id in ruby_kinds().names:
        name = symbol_name(node)
        return UNKNOWN if name is None else name
    kind = node.type
    if kind == "true":
        return True
    if kind == "false":
        return False
    if kind == "nil":
        return None
    text = text_of(node)
    if kind == "integer":
        try:
            return int(text.replace("_", ""), 0)
        except ValueError:
            return UNKNOWN
    if kind == "float":
        try:
            return float(text.replace("_", ""))
        except ValueError:
            return UNKNOWN
    if kind == "array":
        return [literal(c) for c in named_children(node)]
    if kind == "unary" and text.startswith("-"):
        inner = literal(named_children(node)[0]) if named_children(node) else UNKNOWN
        return -inner if isinstance(inner, int | float) and not isinstance(inner, bool) else UNKNOWN
    if kind == "parenthesized_statements" and len(named_children(node)) == 1:
        return literal(named_children(node)[0])
    return UNKNOWN


def is_true(node: Node | None) -> bool:
    return literal(node) is True


def hash_options(node: Node | None) -> dict[str, Node]:
    """The pairs of a hash literal (`index: { unique: true }`), by key."""
    found: dict[str, Node] = {}
    if node is None or node.type != "hash":
        return found
    for pair in named_children(node):
        if pair.type != "pair":
            continue
        key, value = pair.child_by_field_name("key"), pair.child_by_field_name("value")
        name = symbol_name(key) if key is not None else None
        if name is not None and value is not None:
            found[name] = value
    return found


def block_of(node: Node) -> tuple[Node | None, list[str]]:
    """The body of a call's `do ... end` / `{ ... }` block and its parameter names."""
    block = node.child_by_field_name("block")
    if block is None:
        return None, []
    params: list[str] = []
    parameters = block.child_by_field_name("parameters")
    if parameters is not None:
        for child in named_children(parameters):
            if child.type == "identifier" and child.text:
                params.append(child.text.decode("utf-8", "replace"))
    return block.child_by_field_name("body"), params


def receiver_chain(node: Node | None) -> tuple[Node | None, list[tuple[str, Node]]]:
    """The root of a method chain and its calls, innermost first:
    `User.where(x).in_batches` → (User, [("where", call), ("in_batches", call)])."""
    chain: list[tuple[str, Node]] = []
    while node is not None and node.type == "call":
        receiver, method, _ = call_parts(node)
        chain.append((method, node))
        node = receiver
    chain.reverse()
    return node, chain


@dataclass(slots=True)
class RubyString:
    """A string argument decoded for SQL checking: value, document positions, formatted."""

    value: str | None
    positions: list[int] | None
    formatted: bool
    node: Node
    """The node to report on when the value is unknown (the literal, or the heredoc body)."""


def ruby_string(source: TreeSource, node: Node, heredoc: Node | None) -> RubyString:
    """Decode a string argument: a literal, adjacent literals (`"a" "b"`), or a heredoc whose
    body is `heredoc` (tree-sitter puts heredoc bodies after the statement, not in the call).
    Other expressions give `value=None`."""
    if node.type == "string":
        return _from(decode(source, node, RUBY), node)
    if node.type == "chained_string":
        parts = [decode(source, c, RUBY) for c in named_children(node) if c.type == "string"]
        value = "".join(p.value for p in parts)
        positions: list[int] = []
        for part in parts:
            positions.extend(part.positions[:-1])
        positions.append(parts[-1].positions[-1] if parts else source.span(node).end)
        return RubyString(value, positions, any(p.formatted for p in parts), node)
    if heredoc is not None:
        return _from(decode(source, heredoc, RUBY), heredoc)
    return RubyString(None, None, node.type not in STRING_NODES, node)


def _from(decoded: HostString, node: Node) -> RubyString:
    return RubyString(decoded.value, decoded.positions, decoded.formatted, node)


def heredoc_start(node: Node) -> Node | None:
    """The `<<~SQL` opener of a heredoc argument (also `<<~SQL.squish`), if it is one."""
    if node.type == "heredoc_beginning":
        return node
    if node.type == "call":
        root, _ = receiver_chain(node)
        if root is not None and root.type == "heredoc_beginning":
            return root
    return None


def text_of(node: Node | None) -> str:
    if node is None:
        return ""
    text = node.text
    return "" if text is None else text.decode("utf-8", "replace")
