"""Liquibase XML changelogs → the element tree of `liquibase_changes`, with exact positions.

Read with the tree-sitter `xml` grammar: every attribute value and text keeps the offsets of its
characters, so a finding underlines `tableName="users"`'s value or the exact SQL inside
`<sql>` (CDATA included).

Hardening: a changelog comes from a repository, which is untrusted input. Tree-sitter never
expands an entity and never fetches a DTD, and this reader refuses what would need either: a
DOCTYPE that declares entities (the billion-laughs bomb, `SYSTEM "file:///etc/passwd"`) or a
reference to any entity other than the five predefined ones and numeric character references
is reported as a parse problem, never resolved.
"""

from __future__ import annotations

from functools import cache

from tree_sitter import Node, Query, QueryCursor

from migration_lsp.model import ParseProblem
from migration_lsp.parse.liquibase_changes import (
    Changelog,
    Element,
    Include,
    Value,
    is_true,
)
from migration_lsp.parse.treesitter import TreeSource, language, walk
from migration_lsp.text import Span

PREDEFINED = {"lt": "<", "gt": ">", "amp": "&", "quot": '"', "apos": "'"}
_TAGS = ("STag", "EmptyElemTag")
_TEXT_PARTS = frozenset({"CharData", "CDSect", "EntityRef", "CharRef"})
_STRUCTURE = frozenset({"STag", "ETag", "EmptyElemTag", "element", "content", "prolog"})


def read_xml(text: str) -> Changelog:
    """The changeSets and includes of an XML changelog (problems instead when it is not
    well-formed or uses entities)."""
    if not text.strip():
        return Changelog()  # a file just created: nothing to run yet
    source = TreeSource(text, "xml")
    problem = entity_problem(source) or syntax_problem(source)
    if problem is not None:
        return Changelog(problems=[problem])
    root = next((c for c in source.root.named_children if c.type == "element"), None)
    changelog = Changelog()
    if root is None or local_name(source, root) != "databaseChangeLog":
        return changelog  # some other XML file: nothing Liquibase runs
    for child in element_children(root):
        name = local_name(source, child)
        if name == "changeSet":
            changelog.changesets.append(element(source, child))
        elif name in ("include", "includeAll"):
            include = element(source, child)
            path = include.get("file" if name == "include" else "path")
            if path:
                changelog.includes.append(
                    Include(
                        path=path,
                        relative=is_true(include.get("relativeToChangelogFile")),
                        directory=name == "includeAll",
                        span=include.span,
                    )
                )
    return changelog


# --------------------------------------------------------------------------- hardening


@cache
def _entity_query() -> Query:
    return Query(
        language("xml"),
        "(GEDecl) @declaration (PEDecl) @declaration (PEReference) @declaration "
        "(EntityRef (Name) @reference)",
    )


def entity_problem(source: TreeSource) -> ParseProblem | None:
    """The first entity declaration, or reference to a non-predefined entity, as a problem."""
    if "<!" not in source.text and "&" not in source.text:
        return None
    captures = QueryCursor(_entity_query()).captures(source.root)
    found: list[tuple[int, ParseProblem]] = []
    for node in captures.get("declaration", []):
        first_line = source.node_text(node).split("\n", 1)[0].strip()[:60]
        found.append(
            (
                node.start_byte,
                ParseProblem(
                    span=_first_line(source, node),
                    message=f"entity declarations are not allowed: `{first_line}`. "
                    "migration-lsp never expands entities nor reads DTDs (XML bombs and "
                    "external entities); a Liquibase changelog needs none.",
                ),
            )
        )
    for node in captures.get("reference", []):
        name = source.node_text(node)
        if name in PREDEFINED:
            continue
        reference = node.parent if node.parent is not None else node
        found.append(
            (
                reference.start_byte,
                ParseProblem(
                    span=source.span(reference),
                    message=f"entity declarations are not allowed: `&{name};` refers to a "
                    "declared entity, which migration-lsp never expands. Use the predefined "
                    "entities (`&lt;` `&gt;` `&amp;` `&quot;` `&apos;`), a numeric reference, "
                    "or CDATA.",
                ),
            )
        )
    return min(found, key=lambda f: f[0])[1] if found else None


def _first_line(source: TreeSource, node: Node) -> Span:
    span = source.span(node)
    newline = source.text.find("\n", span.start, span.end)
    return Span(span.start, newline) if newline != -1 else span


# --------------------------------------------------------------------------- syntax errors


def syntax_problem(source: TreeSource) -> ParseProblem | None:
    """The first syntax error, placed where a reader would look: the unfinished tag, the end
    tag that does not match, the element the file ends inside. Tree-sitter's own error node
    often spans the whole document, which says nothing."""
    if not source.root.has_error:
        return None
    stack: list[tuple[str, Span]] = []
    for node in walk(source.root, lambda n: n.type not in _TEXT_PARTS):
        if node.is_missing:
            return _problem(source, source.span(node), f"Syntax error: missing `{node.type}`")
        if node.is_error and not any(c.type in _STRUCTURE for c in node.children):
            return _error_problem(source, node)
        if node.type == "STag":
            opened = _tag_name(source, node)
            if opened is not None:
                stack.append(opened)
        elif node.type == "ETag" or (node.type == "</" and _parent_type(node) != "ETag"):
            problem = _end_tag(source, node, stack)
            if problem is not None:
                return problem
        elif node.type == "<" and _parent_type(node) == "ERROR":
            name = node.next_sibling
            if name is not None and name.type == "Name":
                return _problem(
                    source,
                    source.span(name),
                    f"Syntax error: the `<{source.node_text(name)}` tag is not ended by `>`",
                )
    if stack:
        unclosed, span = stack[-1]
        return _problem(source, span, f"Syntax error: `<{unclosed}>` is never closed")
    problems = source.problems()
    if not problems:
        return None
    span = problems[0].span  # tree-sitter's error node: keep its first line
    newline = source.text.find("\n", span.start, span.end)
    return _problem(
        source, Span(span.start, newline if newline != -1 else span.end), problems[0].message
    )


def _parent_type(node: Node) -> str | None:
    return node.parent.type if node.parent is not None else None


def _tag_name(source: TreeSource, tag: Node) -> tuple[str, Span] | None:
    name = next((c for c in tag.children if c.type == "Name"), None)
    return (source.node_text(name), source.span(name)) if name is not None else None


def _end_tag(source: TreeSource, node: Node, stack: list[tuple[str, Span]]) -> ParseProblem | None:
    if node.type == "ETag":
        found = _tag_name(source, node)
        name, span = found if found is not None else ("", source.span(node))
    else:  # `</name>` the grammar could not match with the open element
        start = source.span(node).end
        end = start
        while end < len(source.text) and (source.text[end].isalnum() or source.text[end] in "_-.:"):
            end += 1
        name, span = source.text[start:end], Span(source.span(node).start, end)
    if stack and stack[-1][0] == name:
        stack.pop()
        return None
    if not stack:
        return _problem(source, span, f"Syntax error: `</{name}>` closes no open element")
    return _problem(source, span, f"Syntax error: `</{name}>` does not close `<{stack[-1][0]}>`")


def _error_problem(source: TreeSource, node: Node) -> ParseProblem:
    parent = node.parent
    if parent is not None and parent.type in _TAGS:
        found = _tag_name(source, parent)
        if found is not None:
            return _problem(
                source, found[1], f"Syntax error: the `<{found[0]}` tag is not ended by `>`"
            )
    snippet = source.node_text(node).strip().split("\n", 1)[0][:40]
    hint = ""
    if snippet.startswith(("<", "&")) and parent is not None and parent.type != "AttValue":
        hint = " (write `&lt;` / `&amp;` in text, or put SQL inside <![CDATA[ ... ]]>)"
    return _problem(source, source.span(node), f"Syntax error: unexpected `{snippet}`{hint}")


def _problem(source: TreeSource, span: Span, message: str) -> ParseProblem:
    if span.end <= span.start:
        span = Span(span.start, min(span.start + 1, len(source.text)))
    return ParseProblem(span=span, message=message)


# --------------------------------------------------------------------------- elements


def element_children(node: Node) -> list[Node]:
    content = next((c for c in node.children if c.type == "content"), None)
    if content is None:
        return []
    return [c for c in content.children if c.type == "element"]


def start_tag(node: Node) -> Node:
    return next((c for c in node.children if c.type in _TAGS), node)


def local_name(source: TreeSource, node: Node) -> str:
    """The element's name without a namespace prefix."""
    found = _tag_name(source, start_tag(node))
    return found[0].rpartition(":")[2] if found is not None else ""


def element(source: TreeSource, node: Node) -> Element:
    """The element tree of one XML element."""
    tag = start_tag(node)
    name_node = next((c for c in tag.children if c.type == "Name"), tag)
    result = Element(
        name=source.node_text(name_node).rpartition(":")[2],
        span=source.span(node),
        name_span=source.span(name_node),
        head=source.span(tag),
    )
    for attribute in tag.children:
        if attribute.type != "Attribute":
            continue
        key = next((c for c in attribute.children if c.type == "Name"), None)
        raw = next((c for c in attribute.children if c.type == "AttValue"), None)
        if key is not None and raw is not None:
            result.attrs[source.node_text(key).rpartition(":")[2]] = attribute_value(source, raw)
    parts: list[Node] = []
    content = next((c for c in node.children if c.type == "content"), None)
    for child in content.children if content is not None else ():
        if child.type == "element":
            result.children.append(element(source, child))
        elif child.type in _TEXT_PARTS:
            parts.append(child)
    result.text = text_value(source, parts)
    return result


def attribute_value(source: TreeSource, node: Node) -> Value:
    """An attribute's value: references decoded, white space normalized as XML says (one
    space per tab or line break, so positions still map)."""
    span = source.span(node)
    inner = Span(span.start + 1, max(span.start + 1, span.end - 1))
    if node.named_child_count == 0:  # no reference: every character as written
        raw = source.text[inner.start : inner.end].translate(_ATTRIBUTE_SPACE)
        return Value(text=raw, span=inner, positions=range(inner.start, inner.end + 1))
    text, chars, positions = source.text, [], []
    cursor = inner.start
    for ref in node.named_children:
        if ref.type not in ("EntityRef", "CharRef"):
            continue
        ref_span = source.span(ref)
        for i in range(cursor, ref_span.start):
            chars.append(text[i])
            positions.append(i)
        chars.append(_reference(source, ref))
        positions.append(ref_span.start)
        cursor = ref_span.end
    for i in range(cursor, inner.end):
        chars.append(text[i])
        positions.append(i)
    positions.append(inner.end)
    value = "".join(chars).translate(_ATTRIBUTE_SPACE)
    return Value(text=value, span=inner, positions=positions)


_ATTRIBUTE_SPACE = str.maketrans("\t\n\r", "   ")


def text_value(source: TreeSource, parts: list[Node]) -> Value | None:
    """The text of an element (character data, CDATA, references), or None when it is only
    white space."""
    chars: list[str] = []
    positions: list[int] = []
    first = last = None
    for part in parts:
        span = source.span(part)
        if part.type == "CDSect":
            data = next((c for c in part.children if c.type == "CData"), None)
            if data is None:
                continue
            span = source.span(data)
        if part.type in ("EntityRef", "CharRef"):
            chars.append(_reference(source, part))
            positions.append(span.start)
        else:
            chars.append(source.text[span.start : span.end])
            positions.extend(range(span.start, span.end))
        first = span.start if first is None else first
        last = span.end
    value = "".join(chars)
    if first is None or last is None or not value.strip():
        return None
    positions.append(last)
    return Value(text=value, span=Span(first, last), positions=positions)


def _reference(source: TreeSource, node: Node) -> str:
    raw = source.node_text(node)
    if node.type == "EntityRef":
        return PREDEFINED.get(raw[1:-1], "\ufffd")
    try:
        body = raw[2:-1]
        return chr(int(body[1:], 16) if body[:1] in "xX" else int(body))
    except (ValueError, OverflowError):
        return "\ufffd"
