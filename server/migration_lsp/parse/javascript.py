"""Shared reading of JavaScript/TypeScript migrations (Knex, Sequelize, TypeORM).

Every JS migration tool exports an `up` and a `down` function in one of a handful of shapes
(CommonJS `exports.up = ...`, `module.exports = { up, down }`, ESM `export async function up`,
`export const up = ...`, `export default { ... }`) and does its work through chains of member
calls (`knex.schema.alterTable('t', (table) => { table.string('x').notNullable(); })`). This
module finds those functions, turns a call expression into its chain of calls with their
arguments, and reads literal values (strings with document positions, numbers, booleans,
arrays, object literals) from the tree-sitter tree, never evaluating anything.

Stable API (other parsers and fixes import it): `JsSource`, `js_grammar`, `js_language`,
`ExportedFunction`, `exported_functions`, `exported_value`, `Link`, `chain`, `chain_top`,
`is_chain_top`, `starts_chain`, `chain_root`, `calls`, `string_value`, `plain_string`,
`literal`, `UNKNOWN`, `object_pairs`, `object_get`, `pair_of`, `params`, `function_body`,
`function_span`, `body_statements`, `is_empty_function`, `throws`, `unwrap`, `property_name`,
`statement_of`, `node_at`, `is_async`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from functools import cache
from operator import attrgetter
from typing import Any, Literal

from tree_sitter import Node

from migration_lsp.parse.host_strings import JS, HostString, decode, decode_value
from migration_lsp.parse.pystrings import PLACEHOLDER
from migration_lsp.parse.treesitter import (
    Grammar,
    TreeSource,
    field_id,
    kind_ids,
    named_children,
    visit_named,
    walk,
    walk_with_parents,
)
from migration_lsp.text import Span

JsLanguage = Literal["javascript", "typescript"]

_TS_SUFFIXES = (".ts", ".mts", ".cts")
FUNCTION_TYPES = frozenset(
    {
        "function_expression",
        "function",
        "arrow_function",
        "function_declaration",
        "generator_function",
        "generator_function_declaration",
        "method_definition",
    }
)
_WRAPPERS = frozenset({"await_expression", "parenthesized_expression", "non_null_expression"})
_TS_CASTS = frozenset({"as_expression", "satisfies_expression", "type_assertion"})
_UNWRAPPED = _WRAPPERS | _TS_CASTS
_NO_CALLS = frozenset({"string", "identifier", "property_identifier", "number", "comment"})
"""Nodes with no call inside (`template_string` can have one in `${}`)."""


def js_grammar(path: str) -> Grammar:
    """`typescript` for `.ts/.mts/.cts` files, else `javascript` (which also reads JSX)."""
    return "typescript" if path.lower().endswith(_TS_SUFFIXES) else "javascript"


def js_language(path: str) -> JsLanguage:
    return "typescript" if js_grammar(path) == "typescript" else "javascript"


class JsSource(TreeSource):
    """A JS/TS document parsed with the grammar its suffix calls for."""

    __slots__ = ("_definitions", "_exports", "language")

    def __init__(self, text: str, path: str) -> None:
        super().__init__(text, js_grammar(path))
        self.language: JsLanguage = js_language(path)
        self._exports: list[_Export] | None = None
        self._definitions: dict[str, Node] | None = None

    def text_of(self, node: Node) -> str:
        span = self.span(node)
        return self.text[span.start : span.end]


# --------------------------------------------------------------------------- expressions


def unwrap(node: Node) -> Node:
    """The expression inside `await x`, `(x)`, `x!`, `x as T`."""
    while node.type in _UNWRAPPED:
        inner = named_children(node)
        if not inner:
            return node
        node = inner[0]
    return node


def property_name(node: Node | None) -> str | None:
    """The name a property key or member property spells (`up`, `'up'`, `["up"]`)."""
    if node is None:
        return None
    if node.type in (
        "property_identifier",
        "identifier",
        "shorthand_property_identifier",
        "private_property_identifier",
    ):
        return _text(node)
    if node.type == "string":
        return "".join(_text(c) for c in node.named_children if c.type == "string_fragment")
    if node.type == "computed_property_name":
        inner = named_children(node)
        return property_name(inner[0]) if inner and inner[0].type == "string" else None
    if node.type == "number":
        return _text(node)
    return None


def _text(node: Node) -> str:
    text = node.text
    return text.decode("utf-8", errors="replace") if text else ""


@dataclass(slots=True)
class Link:
    """One step of a member chain: `schema` in `knex.schema`, `alterTable('t', cb)`.

    The first link is the chain's root: an identifier (`knex`), `this`, or any other expression
    (`name` is then ""); it is a call when the root itself is called (`knex('users')`)."""

    name: str
    node: Node
    """The call expression for a call, else the member expression (or the root node)."""
    name_node: Node
    """The property identifier (or the root identifier)."""
    args: list[Node] = field(default_factory=list)
    is_call: bool = False


@dataclass(frozen=True, slots=True)
class _Syntax:
    """How `chain` and `visit_chains` read node types and fields: by `kind_id` and field id
    when the grammar is known (reading `Node.type` builds a string, and a field found by name
    is looked up by name first), else by name, for callers that only have a node."""

    kind: Callable[[Node], Any]
    field: Callable[[Node, Any], Node | None]
    call: frozenset[object]
    member: frozenset[object]
    subscript: frozenset[object]
    unwrapped: frozenset[object]
    named_root: frozenset[object]
    no_calls: frozenset[object]
    function_field: Any
    property_field: Any
    object_field: Any
    arguments_field: Any
    index_field: Any


_CALL_TYPES = ("call_expression",)
_ROOT_TYPES = ("identifier", "this", "super")
_FIELDS = ("function", "property", "object", "arguments", "index")

_BY_NAME = _Syntax(
    attrgetter("type"),
    Node.child_by_field_name,
    frozenset(_CALL_TYPES),
    frozenset({"member_expression"}),
    frozenset({"subscript_expression"}),
    frozenset(_UNWRAPPED),
    frozenset(_ROOT_TYPES),
    frozenset(_NO_CALLS),
    *_FIELDS,
)


@cache
def _syntax(grammar: Grammar | None) -> _Syntax:
    if grammar is None:
        return _BY_NAME
    return _Syntax(
        attrgetter("kind_id"),
        Node.child_by_field_id,
        frozenset(kind_ids(grammar, *_CALL_TYPES)),
        frozenset(kind_ids(grammar, "member_expression")),
        frozenset(kind_ids(grammar, "subscript_expression")),
        frozenset(kind_ids(grammar, *_UNWRAPPED)),
        frozenset(kind_ids(grammar, *_ROOT_TYPES)),
        frozenset(kind_ids(grammar, *_NO_CALLS)),
        *(field_id(grammar, name) for name in _FIELDS),
    )


def chain(node: Node, grammar: Grammar | None = None) -> list[Link]:
    """`a.b('x').c(1)` → [a, b('x'), c(1)]: the links of a member/call chain, root first.
    `grammar`: the document's (`JsSource.grammar`), when the caller knows it: faster."""
    syntax = _syntax(grammar)
    kind_of, field, unwrapped = syntax.kind, syntax.field, syntax.unwrapped
    links: list[Link] = []
    current = unwrap(node) if kind_of(node) in unwrapped else node
    pending_call: Node | None = None
    while True:
        kind = kind_of(current)
        if kind in syntax.call:
            function = field(current, syntax.function_field)
            if function is None:
                break
            pending_call = current
            current = unwrap(function) if kind_of(function) in unwrapped else function
            continue
        if kind in syntax.member:
            prop = field(current, syntax.property_field)
            obj = field(current, syntax.object_field)
            if prop is None or obj is None:
                break
            text = prop.text  # (`_link(_text(prop), ...)`, inlined: the hottest loop)
            name = text.decode("utf-8", errors="replace") if text else ""
            if pending_call is None:
                links.append(Link(name, current, prop))
            else:
                arguments = field(pending_call, syntax.arguments_field)
                args = named_children(arguments) if arguments is not None else []
                links.append(Link(name, pending_call, prop, args, True))
                pending_call = None
            current = unwrap(obj) if kind_of(obj) in unwrapped else obj
            continue
        if kind in syntax.subscript:
            index = field(current, syntax.index_field)
            obj = field(current, syntax.object_field)
            if obj is None:
                break
            links.append(_link(property_name(index) or "", index or current, current, pending_call))
            pending_call = None
            current = unwrap(obj)
            continue
        break
    name = _text(current) if kind_of(current) in syntax.named_root else ""
    links.append(_link(name, current, current, pending_call))
    links.reverse()
    return links


def _link(name: str, name_node: Node, member: Node, call: Node | None) -> Link:
    if call is None:
        return Link(name, member, name_node)
    arguments = call.child_by_field_name("arguments")
    args = named_children(arguments) if arguments is not None else []
    return Link(name, call, name_node, args, True)


def chain_top(node: Node) -> Node:
    """The outermost call/member expression `node` is part of (`a.b` in `a.b().c()` → the
    whole `a.b().c()`)."""
    current = node
    while current.parent is not None:
        parent = current.parent
        if _continues_chain(parent, current):
            current = parent
        else:
            break
    return current


def _continues_chain(parent: Node, child: Node) -> bool:
    if parent.type == "member_expression":
        return parent.child_by_field_name("object") == child
    if parent.type == "call_expression":
        return parent.child_by_field_name("function") == child
    return parent.type in ("parenthesized_expression", "non_null_expression")


def chain_root(links: list[Link]) -> str:
    return links[0].name if links else ""


def is_chain_top(node: Node) -> bool:
    """A call expression that is not itself the object or callee of a longer chain."""
    return starts_chain(node, node.parent)


def starts_chain(node: Node, parent: Node | None) -> bool:
    """`is_chain_top` for a node whose parent the caller knows (a walk does): it needs no
    `Node.parent`, which tree-sitter finds by descending from the root, so asking for it at
    every call of a long chain or a deep nesting made reading the file take cubic time."""
    return parent is None or not _continues_chain(parent, node)


def visit_chains(
    node: Node, handle: Callable[[Node], bool], grammar: Grammar | None = None
) -> None:
    """Give each call chain under `node` (at its top) to `handle`, in document order; the
    inside of a chain it takes (returns True for) is not visited. Not recursive: deeply
    nested code must not exhaust Python's stack; each node with its parent, as `Node.parent`
    costs a descent from the root. `node` is a whole expression or body (an argument, a
    callback's body), never the callee of a longer chain. Only named nodes are walked (a
    token holds no call), and not the inside of literals and names. `grammar`: the document's,
    when the caller knows it: faster."""
    syntax = _syntax(grammar)
    kind_of, calls, no_calls = syntax.kind, syntax.call, syntax.no_calls
    if kind_of(node) in calls and handle(node):  # (no parent: a chain's top)
        return

    def enter(current: Node, parent: Node) -> bool:
        kind = kind_of(current)
        if kind in calls and starts_chain(current, parent) and handle(current):
            return False
        return kind not in no_calls

    visit_named(node, enter)


def calls(node: Node, *, into_functions: bool = True) -> Iterator[Node]:
    """Outermost call chains under `node` in document order (each chain once, at its top).
    Nested calls inside arguments are yielded too, after their chain."""
    for current, parent in walk_with_parents(
        node,
        lambda n: into_functions or n == node or n.type not in FUNCTION_TYPES,
        node.parent,
    ):
        if current.type == "call_expression" and starts_chain(current, parent):
            yield current


def statement_of(node: Node) -> Node:
    """The statement holding `node` (the node itself when it is one)."""
    current = node
    while current.parent is not None and not current.type.endswith(("statement", "declaration")):
        current = current.parent
    return current


# --------------------------------------------------------------------------- literals


class _Unknown:
    """A value only known at run time."""

    def __repr__(self) -> str:
        return "UNKNOWN"

    def __bool__(self) -> bool:
        return False


UNKNOWN: Any = _Unknown()


def string_value(source: TreeSource, node: Node | None) -> HostString | None:
    """The text of a string literal, template literal or `+` concatenation of them, with the
    document position of every character; `formatted` when `${}` or a non-literal part takes
    part (its place holds a placeholder). None when `node` is not string-like."""
    if node is None:
        return None
    node = unwrap(node)
    if node.type in ("string", "template_string"):
        return decode(source, node, JS)
    if not _is_plus(node):
        return None
    # `a + b + c` nests to the left once per operand: walk that spine in a loop, so a string
    # built from hundreds of pieces does not exhaust Python's stack
    spine: list[Node] = []
    current: Node | None = node
    while current is not None and _is_plus(current):
        spine.append(current)
        left = current.child_by_field_name("left")
        current = unwrap(left) if left is not None else None
    found = string_value(source, spine[-1].child_by_field_name("left"))
    for level in reversed(spine):
        found = _concatenation(source, level, found)
    return found


def _is_plus(node: Node) -> bool:
    return node.type == "binary_expression" and _operator(node) == "+"


def _concatenation(
    source: TreeSource, node: Node, left_value: HostString | None
) -> HostString | None:
    """The value of `left + right` given the left operand's value."""
    left = node.child_by_field_name("left")
    right = node.child_by_field_name("right")
    parts = [left_value, string_value(source, right)]
    if all(p is None for p in parts):
        return None
    value: list[str] = []
    positions: list[int] = []
    formatted = False
    for part, side in zip(parts, (left, right), strict=True):
        if part is None:
            span = source.span(side) if side is not None else source.span(node)
            part = HostString(PLACEHOLDER, [span.start] * len(PLACEHOLDER) + [span.end], True)
        value.append(part.value)
        positions.extend(part.positions[:-1])
        formatted = formatted or part.formatted
    positions.append(source.span(node).end)
    return HostString("".join(value), positions, formatted)


def _operator(node: Node) -> str:
    op = node.child_by_field_name("operator")
    return _text(op) if op is not None else ""


def plain_string(source: TreeSource, node: Node | None) -> str | None:
    """A string literal's value, None when it is not one or holds `${}`."""
    if node is not None:
        inner = unwrap(node)
        if inner.type in ("string", "template_string"):  # (without the positions)
            value, formatted = decode_value(source, inner, JS)
            return None if formatted else value
    found = string_value(source, node)
    return None if found is None or found.formatted else found.value


def literal(source: TreeSource, node: Node | None) -> Any:
    """The value of a literal: str, int/float, bool, None (null/undefined), list, dict;
    `UNKNOWN` for anything computed at run time."""
    if node is None:
        return UNKNOWN
    node = unwrap(node)
    kind = node.type
    if kind in ("string", "template_string", "binary_expression"):
        value = plain_string(source, node)
        if value is not None:
            return value
        return UNKNOWN
    if kind == "number":
        text = _text(node).replace("_", "")
        try:
            return (
                int(text, 0)
                if text.isdigit() or text[:2].lower() in ("0x", "0o", "0b")
                else (float(text))
            )
        except ValueError:
            return UNKNOWN
    if kind == "true":
        return True
    if kind == "false":
        return False
    if kind == "null" or (kind == "identifier" and _text(node) == "undefined"):
        return None
    if kind == "unary_expression":
        arg = node.child_by_field_name("argument")
        value = literal(source, arg)
        op = _operator(node)
        if op == "-" and isinstance(value, int | float) and not isinstance(value, bool):
            return -value
        if op == "!" and isinstance(value, int | float) and not isinstance(value, bool):
            return not value  # `!0` → true, `!1` → false (minified style)
        return UNKNOWN
    if kind == "array":
        return [literal(source, item) for item in named_children(node)]
    if kind == "object":
        return {key: literal(source, value) for key, value in object_pairs(node).items()}
    return UNKNOWN


def object_pairs(node: Node | None) -> dict[str, Node]:
    """Key → value node of an object literal. A shorthand `{ up }` maps to the identifier, a
    method `{ async up() {} }` to the method node, `...spread` entries are skipped."""
    found: dict[str, Node] = {}
    if node is None:
        return found
    node = unwrap(node)
    if node.type != "object":
        return found
    for child in named_children(node):
        if child.type == "pair":
            key = property_name(child.child_by_field_name("key"))
            value = child.child_by_field_name("value")
            if key is not None and value is not None:
                found.setdefault(key, value)
        elif child.type == "shorthand_property_identifier":
            found.setdefault(_text(child), child)
        elif child.type == "method_definition":
            key = property_name(child.child_by_field_name("name"))
            if key is not None:
                found.setdefault(key, child)
    return found


def object_get(node: Node | None, key: str) -> Node | None:
    return object_pairs(node).get(key)


def pair_of(value: Node) -> Node:
    """The `key: value` pair (or shorthand/method) holding an object entry's value node."""
    parent = value.parent
    return parent if parent is not None and parent.type == "pair" else value


# --------------------------------------------------------------------------- functions


def params(function: Node) -> list[str]:
    """Parameter names of a function (`knex`, `queryInterface, Sequelize`); `_` for
    destructured ones."""
    single = function.child_by_field_name("parameter")
    if single is not None:
        return [_text(single)]
    parameters = function.child_by_field_name("parameters")
    if parameters is None:
        return []
    names: list[str] = []
    for child in named_children(parameters):
        if child.type in ("required_parameter", "optional_parameter"):
            pattern = child.child_by_field_name("pattern")
            child = pattern if pattern is not None else child
        if child.type == "assignment_pattern":
            left = child.child_by_field_name("left")
            child = left if left is not None else child
        names.append(_text(child) if child.type == "identifier" else "_")
    return names


def function_body(function: Node) -> Node | None:
    """The statement block of a function, or the expression of `(x) => expr`."""
    return function.child_by_field_name("body")


def body_statements(function: Node) -> list[Node]:
    """The statements of a function's block body (an expression body counts as one)."""
    body = function_body(function)
    if body is None:
        return []
    if body.type != "statement_block":
        return [body]
    return named_children(body)


def is_empty_function(source: TreeSource, function: Node) -> bool:
    """The function does nothing: an empty block (comments only), `return;`, or only
    `return Promise.resolve()` (Knex's generated `down` is `function(knex) {}`)."""
    body = function_body(function)
    if body is None:
        return True
    statements = [body] if body.type != "statement_block" else named_children(body)
    for statement in statements:
        if statement.type == "empty_statement":
            continue
        if statement.type == "return_statement":
            inner = named_children(statement)
            if not inner or _is_noop_value(source, inner[0]):
                continue
            return False
        if statement.type == "expression_statement":
            inner = named_children(statement)
            if inner and _is_noop_value(source, inner[0]):
                continue
            return False
        if body.type != "statement_block" and _is_noop_value(source, statement):
            continue
        return False
    return True


def throws(function: Node) -> bool:
    """A `throw` in the function's own body (not in functions nested in it): the step says
    it cannot be undone."""
    body = function_body(function)
    if body is None or b"throw" not in (body.text or b""):
        return False  # (a byte search is far cheaper than walking the body)
    return any(
        node.type == "throw_statement"
        for node in walk(body, lambda n: n == body or n.type not in FUNCTION_TYPES)
    )


def _is_noop_value(source: TreeSource, node: Node) -> bool:
    node = unwrap(node)
    if node.type == "call_expression":
        links = chain(node)
        names = [link.name for link in links]
        return names == ["Promise", "resolve"] and not links[-1].args
    if node.type in ("undefined", "null"):
        return True
    return node.type == "identifier" and _text(node) == "undefined"


# --------------------------------------------------------------------------- exports


ExportStyle = Literal["exports", "module.exports", "esm", "esm-default"]


@dataclass(slots=True)
class ExportedFunction:
    """An exported `up`/`down` (or any exported function), wherever and however defined."""

    name: str
    function: Node
    """The function node: function expression/declaration, arrow function, method."""
    name_node: Node
    """Where to report about it: the name as written at its export or definition."""
    export: Node
    """The top-level statement that exports it (for fixes: insert next to it)."""
    style: ExportStyle
    container: Node | None = None
    """The exported object literal it is a property of (`module.exports = { ... }`)."""

    @property
    def params(self) -> list[str]:
        return params(self.function)

    @property
    def body(self) -> Node | None:
        return function_body(self.function)


@dataclass(slots=True)
class _Export:
    name: str
    value: Node
    """The exported value, or the identifier it is exported by (resolved later)."""
    name_node: Node
    export: Node
    style: ExportStyle
    container: Node | None = None


def _exports(source: TreeSource) -> list[_Export]:
    """Every exported name of the module with its value node, in source order (read once per
    `JsSource`: parsers ask for the exported config and then for the functions)."""
    if isinstance(source, JsSource):
        if source._exports is None:
            source._exports = _read_exports(source)
        return source._exports
    return _read_exports(source)


def _read_exports(source: TreeSource) -> list[_Export]:
    found: list[_Export] = []
    for statement in named_children(source.root):
        if statement.type == "expression_statement":
            inner = named_children(statement)
            if inner and inner[0].type == "assignment_expression":
                found.extend(_commonjs(inner[0], statement))
        elif statement.type == "export_statement":
            found.extend(_esm(statement))
    return found


def _commonjs(assignment: Node, statement: Node) -> list[_Export]:
    left = assignment.child_by_field_name("left")
    right = assignment.child_by_field_name("right")
    if left is None or right is None:
        return []
    target = [link.name for link in chain(left)]
    if target in (["module", "exports"], ["exports"]):
        obj = unwrap(right)
        return [
            _Export(key, value, _key_node(value), statement, "module.exports", obj)
            for key, value in object_pairs(obj).items()
        ]
    if (len(target) == 2 and target[0] == "exports") or (
        len(target) == 3 and target[:2] == ["module", "exports"]
    ):
        prop = left.child_by_field_name("property")
        return [_Export(target[-1], right, prop or left, statement, "exports")]
    return []


def _key_node(value: Node) -> Node:
    """The key of the object entry holding `value` (the method name for a method)."""
    if value.type == "method_definition":
        name = value.child_by_field_name("name")
        return name if name is not None else value
    holder = pair_of(value)
    key = holder.child_by_field_name("key") if holder.type == "pair" else None
    return key if key is not None else value


def _esm(statement: Node) -> list[_Export]:
    declaration = statement.child_by_field_name("declaration")
    value = statement.child_by_field_name("value")
    if declaration is not None:
        if declaration.type in ("function_declaration", "generator_function_declaration"):
            name = declaration.child_by_field_name("name")
            if name is not None:
                return [_Export(_text(name), declaration, name, statement, "esm")]
        if declaration.type in ("lexical_declaration", "variable_declaration"):
            exports: list[_Export] = []
            for declarator in named_children(declaration):
                if declarator.type != "variable_declarator":
                    continue
                name = declarator.child_by_field_name("name")
                init = declarator.child_by_field_name("value")
                if name is not None and init is not None and name.type == "identifier":
                    exports.append(_Export(_text(name), init, name, statement, "esm"))
            return exports
        return []
    if value is not None:  # export default { up, down }
        obj = unwrap(value)
        return [
            _Export(key, item, _key_node(item), statement, "esm-default", obj)
            for key, item in object_pairs(obj).items()
        ]
    exports = []
    for clause in named_children(statement):
        if clause.type != "export_clause":
            continue
        for spec in named_children(clause):
            local = spec.child_by_field_name("name")
            alias = spec.child_by_field_name("alias")
            if local is not None:
                exported = alias if alias is not None else local
                exports.append(_Export(_text(exported), local, exported, statement, "esm"))
    return exports


def _top_level_definitions(source: TreeSource) -> dict[str, Node]:
    """Module-level `function name() {}` and `const name = <value>` (also when exported), read
    once per `JsSource` (callers only read the dict)."""
    if isinstance(source, JsSource):
        if source._definitions is None:
            source._definitions = _read_definitions(source)
        return source._definitions
    return _read_definitions(source)


def _read_definitions(source: TreeSource) -> dict[str, Node]:
    found: dict[str, Node] = {}
    for statement in named_children(source.root):
        target = statement
        if statement.type == "export_statement":
            declaration = statement.child_by_field_name("declaration")
            if declaration is None:
                continue
            target = declaration
        if target.type in ("function_declaration", "generator_function_declaration"):
            name = target.child_by_field_name("name")
            if name is not None:
                found.setdefault(_text(name), target)
        elif target.type in ("lexical_declaration", "variable_declaration"):
            for declarator in named_children(target):
                name = declarator.child_by_field_name("name")
                init = declarator.child_by_field_name("value")
                if name is not None and init is not None and name.type == "identifier":
                    found.setdefault(_text(name), init)
    return found


def _resolve(value: Node, definitions: dict[str, Node]) -> Node:
    """Follow `{ up }` / `exports.up = up` to the definition of `up` (once per name)."""
    seen: set[str] = set()
    current = unwrap(value)
    while current.type in ("identifier", "shorthand_property_identifier"):
        name = _text(current)
        if name in seen or name not in definitions:
            break
        seen.add(name)
        current = unwrap(definitions[name])
    return current


def exported_value(source: TreeSource, name: str) -> Node | None:
    """The value exported under `name` (`exports.config = {...}` → the object), resolved
    through module-level names; the last assignment wins, like at run time."""
    found: Node | None = None
    definitions: dict[str, Node] | None = None
    for export in _exports(source):
        if export.name == name:
            if definitions is None:
                definitions = _top_level_definitions(source)
            found = _resolve(export.value, definitions)
    return found


def exported_functions(source: TreeSource) -> dict[str, ExportedFunction]:
    """Every exported function by name (`up`, `down`, ...). Later exports of the same name
    replace earlier ones, as they do at run time."""
    definitions = _top_level_definitions(source)
    found: dict[str, ExportedFunction] = {}
    for export in _exports(source):
        function = _resolve(export.value, definitions)
        if function.type not in FUNCTION_TYPES:
            continue
        name_node = export.name_node
        found[export.name] = ExportedFunction(
            name=export.name,
            function=function,
            name_node=name_node,
            export=export.export,
            style=export.style,
            container=export.container,
        )
    return found


def function_span(source: TreeSource, function: Node) -> Span:
    """The span of the body's contents, between the braces (the expression of an arrow)."""
    body = function_body(function)
    if body is None:
        return source.span(function)
    span = source.span(body)
    if body.type == "statement_block":
        return Span(span.start + 1, max(span.start + 1, span.end - 1))
    return span


def node_at(source: TreeSource, span: Span, kind: str | None = None) -> Node | None:
    """The outermost node (of type `kind`, when given) whose span is exactly `span`."""
    node = source.root
    while True:
        if source.span(node) == span and (kind is None or node.type == kind):
            return node
        inside = [c for c in node.children if source.span(c).contains(span)]
        if not inside:
            return None
        node = inside[0]


def is_async(function: Node) -> bool:
    """`async function`, `async () =>`, `async up() {}`."""
    return any(child.type == "async" for child in function.children)
