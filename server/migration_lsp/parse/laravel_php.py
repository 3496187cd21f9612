"""PHP as the Laravel parser and fixes read it: call chains, literals and string values.

Laravel migrations are fluent chains (`$table->string('email')->nullable()->change()`,
`DB::table('users')->where(...)->update([...])`): a chain is read once into its root (the
`$table` variable, the `Schema` facade) and its links in source order, so the parser asks "which
method, which arguments, which modifiers follow" without walking the tree again.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cache

from tree_sitter import Node

from migration_lsp.parse.host_strings import PHP, HostString, decode, decode_value
from migration_lsp.parse.pystrings import PLACEHOLDER
from migration_lsp.parse.treesitter import TreeSource, field_id, kind_ids, named_children

CALLS = frozenset(
    {"member_call_expression", "scoped_call_expression", "nullsafe_member_call_expression"}
)
STRINGS = frozenset({"string", "encapsed_string", "heredoc", "nowdoc"})
UNKNOWN = object()
"""`literal()`'s answer for an expression whose value is only known at run time."""


@dataclass(frozen=True, slots=True)
class PhpKinds:
    """Node types as `kind_id` sets and fields by id, for the hottest reads (`Node.type`
    builds a new string each time; a field named is looked up by name first). Built on first
    use: loading the grammar at import would slow every start."""

    calls: frozenset[int]
    scoped: frozenset[int]
    argument: frozenset[int]
    loops: frozenset[int]
    closures: frozenset[int]
    leaves: frozenset[int]
    """Nodes with no call, loop or closure inside (`'users'`, `$table`)."""
    name: int
    arguments: int
    scope: int
    object: int


@cache
def php_kinds() -> PhpKinds:
    return PhpKinds(
        calls=kind_ids("php", *CALLS),
        scoped=kind_ids("php", "scoped_call_expression"),
        argument=kind_ids("php", "argument"),
        loops=kind_ids(
            "php", "foreach_statement", "for_statement", "while_statement", "do_statement"
        ),
        closures=kind_ids("php", "anonymous_function", "arrow_function"),
        leaves=kind_ids(
            "php", "string", "variable_name", "name", "integer", "float", "boolean", "null"
        ),
        name=field_id("php", "name"),
        arguments=field_id("php", "arguments"),
        scope=field_id("php", "scope"),
        object=field_id("php", "object"),
    )


@dataclass(slots=True)
class Link:
    """One method call of a chain: `->name(args)` or `Scope::name(args)`."""

    name: str
    name_node: Node
    args: list[Node]
    """Positional argument expressions."""
    named: dict[str, Node]
    """PHP 8 named arguments (`default: 'x'`)."""
    call: Node
    """The call expression that ends with this link (the chain up to and including it)."""

    def arg(self, index: int, name: str | None = None) -> Node | None:
        if name is not None and name in self.named:
            return self.named[name]
        return self.args[index] if index < len(self.args) else None


@dataclass(slots=True)
class Chain:
    root: Node
    """The scope of a static call (`Schema`, `DB`) or the object the chain starts from."""
    links: list[Link] = field(default_factory=list)

    @property
    def node(self) -> Node:
        return self.links[-1].call

    def find(self, name: str) -> Link | None:
        return next((link for link in self.links if link.name == name), None)


def chain_of(source: TreeSource, node: Node) -> Chain | None:
    """The chain ending with the call `node` (None when `node` is not a method call)."""
    kinds = php_kinds()
    links: list[Link] = []
    current = node
    while (kind := current.kind_id) in kinds.calls:
        name_node = current.child_by_field_id(kinds.name)
        arguments = current.child_by_field_id(kinds.arguments)
        if name_node is None:
            return None
        args, named = _arguments(arguments)
        links.append(Link(source.node_text(name_node), name_node, args, named, current))
        if kind in kinds.scoped:
            scope = current.child_by_field_id(kinds.scope)
            if scope is None:
                return None
            current = scope
            break
        inner = current.child_by_field_id(kinds.object)
        if inner is None:
            return None
        current = inner
    if not links:
        return None
    links.reverse()
    return Chain(current, links)


def _arguments(arguments: Node | None) -> tuple[list[Node], dict[str, Node]]:
    args: list[Node] = []
    named: dict[str, Node] = {}
    if arguments is None:
        return args, named
    kinds = php_kinds()
    for argument in arguments.named_children:  # (comments are not arguments)
        if argument.kind_id not in kinds.argument:
            continue
        name = argument.child_by_field_id(kinds.name)
        values = named_children(argument)
        if name is not None:
            values = [c for c in values if c != name]
        if not values:
            continue
        if name is not None and name.text is not None:
            named[name.text.decode()] = values[-1]
        else:
            args.append(values[-1])
    return args, named


def class_name(source: TreeSource, node: Node) -> str:
    """`Schema` for `Schema`, `\\Illuminate\\Support\\Facades\\Schema`; "" for other nodes."""
    if node.type not in ("name", "qualified_name"):
        return ""
    return source.node_text(node).rsplit("\\", 1)[-1]


def variable(source: TreeSource, node: Node) -> str | None:
    """`table` for the variable `$table`."""
    if node.type != "variable_name":
        return None
    return source.node_text(node).lstrip("$")


def is_outermost(node: Node) -> bool:
    """`node` is not the object of a further `->call()` (the whole chain ends here)."""
    parent = node.parent
    return parent is None or ends_chain(node, parent)


def ends_chain(node: Node, parent: Node) -> bool:
    """`is_outermost` for a node whose parent the caller knows (a walk does): `Node.parent`
    descends from the root again."""
    kinds = php_kinds()
    kind = parent.kind_id
    return not (
        kind in kinds.calls
        and kind not in kinds.scoped
        and parent.child_by_field_id(kinds.object) == node
    )


# --------------------------------------------------------------------------- values


def literal(source: TreeSource, node: Node | None) -> object:
    """The value of a literal expression (str, int, float, bool, None, list, dict), or
    `UNKNOWN`."""
    if node is None:
        return UNKNOWN
    kind = node.type
    if kind in STRINGS:  # (`string_value` of a literal, without the positions)
        value, formatted = decode_value(source, node, PHP)
        return UNKNOWN if formatted else value
    text = source.node_text(node)
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
    if kind == "boolean":
        return text.lower() == "true"
    if kind == "null":
        return None
    if kind == "unary_op_expression" and text.startswith("-"):
        inner = literal(source, node.child_by_field_name("argument"))
        return -inner if isinstance(inner, int | float) else UNKNOWN
    if kind == "parenthesized_expression":
        inner_nodes = named_children(node)
        return literal(source, inner_nodes[0]) if inner_nodes else UNKNOWN
    if kind == "array_creation_expression":
        return _array(source, node)
    return UNKNOWN


def _array(source: TreeSource, node: Node) -> object:
    items: list[object] = []
    keyed: dict[object, object] = {}
    for element in named_children(node):
        if element.type != "array_element_initializer":
            continue
        parts = named_children(element)
        if len(parts) == 2:
            key = literal(source, parts[0])
            if key is UNKNOWN:
                return UNKNOWN
            keyed[key] = literal(source, parts[1])
        elif len(parts) == 1:
            items.append(literal(source, parts[0]))
    if keyed and not items:
        return keyed
    return items


def text_of(source: TreeSource, node: Node | None) -> str | None:
    """A string literal's value, or None."""
    value = literal(source, node)
    return value if isinstance(value, str) else None


def names_of(source: TreeSource, node: Node | None) -> list[str] | None:
    """`'email'` or `['a', 'b']` → the column names; None when not literal."""
    value = literal(source, node)
    if isinstance(value, str):
        return [value]
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return [str(v) for v in value]
    return None


def string_value(source: TreeSource, node: Node) -> HostString | None:
    """The value of a string expression with document positions: a literal of any kind, or a
    concatenation (`.`) of literals and run-time values (placeholders; `formatted`). None when
    `node` is not string-like at all (a variable, a call)."""
    kind = node.type
    if kind in STRINGS:
        return decode(source, node, PHP)
    if kind == "parenthesized_expression":
        inner = named_children(node)
        return string_value(source, inner[0]) if inner else None
    if kind == "binary_expression":
        # `$a . $b . $c` nests to the left once per operand: walk that spine in a loop, so a
        # string built from hundreds of pieces does not exhaust Python's stack
        spine: list[tuple[Node, Node]] = []
        current = node
        while current.type == "binary_expression":
            operator = current.child_by_field_name("operator")
            if operator is None or source.node_text(operator) != ".":
                break
            left = current.child_by_field_name("left")
            right = current.child_by_field_name("right")
            if left is None or right is None:
                break
            spine.append((left, right))
            current = left
        if len(spine) == 0 or current is not spine[-1][0]:
            return None  # not a concatenation, or a broken one somewhere along the spine
        found = _part(source, current)
        for _, right in reversed(spine):
            part = _part(source, right)
            found = HostString(
                found.value + part.value,
                found.positions[:-1] + part.positions,
                found.formatted or part.formatted,
            )
        return found
    return None


def _part(source: TreeSource, node: Node) -> HostString:
    found = string_value(source, node)
    if found is not None:
        return found
    if node.type in ("integer", "float"):
        span = source.span(node)
        text = source.node_text(node)
        return HostString(text, [*range(span.start, span.end), span.end], False)
    span = source.span(node)
    return HostString(PLACEHOLDER, [span.start] * len(PLACEHOLDER) + [span.end], True)
