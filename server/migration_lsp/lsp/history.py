"""The revision graph in the editor: references, hover, code lens and workspace symbols.

Everything reads the project's history as the session holds it (open buffers included), so
what the lenses say matches the history diagnostics.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import TYPE_CHECKING, Any

from lsprotocol import types as lsp

from migration_lsp.history.graph import History, Node
from migration_lsp.lsp.convert import Positions
from migration_lsp.text import LineIndex, Span

if TYPE_CHECKING:
    from migration_lsp.lsp.server import MigrationServer
    from migration_lsp.lsp.session import Document

OPEN_REVISION = "migration-lsp.openRevision"
_STRING = re.compile(r"""(['"])([^'"\n]*)\1""")
_DJANGO_PAIR = re.compile(r"""\(\s*['"]([\w.]+)['"]\s*,\s*['"]([^'"\n]+)['"]\s*\)""")


def _history(server: MigrationServer, document: Document) -> History | None:
    project = document.project
    if project is None or project.tool not in ("alembic", "flask-migrate", "django"):
        return None
    return server.session.history(project, (document.path, document.text))


def revision_at(history: History, document: Document, offset: int) -> str | None:
    """The revision id written at `offset`: a quoted Alembic id, a Django `('app', 'name')`
    pair (or the migration's own `class Migration` line)."""
    text = document.text
    line_start = text.rfind("\n", 0, offset) + 1
    line_end = text.find("\n", offset)
    line = text[line_start : len(text) if line_end == -1 else line_end]
    column = offset - line_start
    if history.project.tool == "django":
        for match in _DJANGO_PAIR.finditer(line):
            if match.start() <= column <= match.end():
                node_id = f"{match.group(1)}.{match.group(2)}"
                return node_id if node_id in history.by_id else None
        for node in history.nodes_in(document.path):
            if node.span.start <= offset <= node.span.end:
                return node.id
        return None
    for match in _STRING.finditer(line):
        if match.start() <= column <= match.end() and match.group(2) in history.by_id:
            return match.group(2)
    return None


def _text(history: History, path: Path) -> str:
    if path in history.texts:
        return history.texts[path]
    try:
        return path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return ""


def location(history: History, path: Path, span: Span, encoding: str) -> lsp.Location:
    """Where `span` of `path` lies, in the text the history was read from (the open buffer
    when there is one)."""
    positions = Positions(LineIndex(_text(history, path)), encoding)
    return lsp.Location(uri=path.as_uri(), range=positions.range(span))


def references(
    server: MigrationServer, document: Document, offset: int, include_declaration: bool
) -> list[lsp.Location] | None:
    history = _history(server, document)
    if history is None:
        return None
    node_id = revision_at(history, document, offset)
    if node_id is None:
        return None
    found: list[lsp.Location] = []
    if include_declaration:
        found.extend(
            location(history, n.path, n.span, server.encoding) for n in history.by_id[node_id]
        )
    for node in history.nodes:
        for ref in node.parents + node.depends_on + node.replaces:
            if ref.id == node_id:
                found.append(location(history, node.path, ref.span, server.encoding))
    return found


def _describe(history: History, node: Node) -> tuple[list[str], list[Node], bool]:
    parents = history.parents(node)
    children = history.children(node.id)
    heads = history.heads(node.app)
    return parents, children, node.id in {h.id for h in heads}


def hover(server: MigrationServer, document: Document, offset: int) -> str | None:
    history = _history(server, document)
    if history is None:
        return None
    node_id = revision_at(history, document, offset)
    if node_id is None:
        return None
    node = history.by_id[node_id][0]
    parents, children, is_head = _describe(history, node)
    try:
        where = node.path.relative_to(history.project.root).as_posix()
    except ValueError:
        where = str(node.path)
    lines = [f"**Revision `{node.id}`**" + (f": {node.message}" if node.message else "")]
    lines.append(f"`{where}:{node.line + 1}`")
    facts = []
    facts.append(
        "parents: " + (", ".join(f"`{p}`" for p in parents) if parents else "none (a base)")
    )
    if children:
        facts.append("children: " + ", ".join(f"`{c.id}`" for c in children))
    if is_head:
        count = len(history.heads(node.app))
        facts.append("**head**" + (f" (one of {count})" if count > 1 else ""))
    lines.append(" · ".join(facts))
    return "\n\n".join(lines)


def _open(history: History, node: Node, title: str) -> lsp.Command:
    return lsp.Command(
        title=title, command=OPEN_REVISION, arguments=[node.path.as_uri(), node.line]
    )


def code_lenses(server: MigrationServer, document: Document) -> list[lsp.CodeLens]:
    history = _history(server, document)
    if history is None:
        return []
    positions = server.positions(document)
    lenses: list[lsp.CodeLens] = []
    for node in history.nodes_in(document.path):
        where = positions.range(node.span)
        line_range = lsp.Range(
            start=lsp.Position(line=where.start.line, character=0), end=where.start
        )
        parents, children, is_head = _describe(history, node)
        for parent_id in parents[:3]:
            parent = history.node(parent_id)
            if parent is not None:
                label = f"revises {parent_id}" + (f" ({parent.message})" if parent.message else "")
                lenses.append(lsp.CodeLens(range=line_range, command=_open(history, parent, label)))
        if not parents and not node.parents:
            lenses.append(lsp.CodeLens(range=line_range, command=_open(history, node, "base")))
        if children:
            names = ", ".join(c.id for c in children[:3]) + ("…" if len(children) > 3 else "")
            label = f"revised by {names}"
            lenses.append(
                lsp.CodeLens(range=line_range, command=_open(history, children[0], label))
            )
        if is_head:
            count = len(history.heads(node.app))
            label = "head" if count == 1 else f"head (one of {count}: merge needed)"
            lenses.append(lsp.CodeLens(range=line_range, command=_open(history, node, label)))
    return lenses


def workspace_symbols(server: MigrationServer, query: str) -> list[lsp.WorkspaceSymbol]:
    wanted = query.lower()
    found: list[lsp.WorkspaceSymbol] = []
    for project in server.session.projects:
        if project.tool not in ("alembic", "flask-migrate", "django"):
            continue
        history = server.session.history(project)
        for node in history.nodes:
            if wanted and wanted not in node.id.lower() and wanted not in node.message.lower():
                continue
            found.append(
                lsp.WorkspaceSymbol(
                    name=node.id + (f" {node.message}" if node.message else ""),
                    kind=lsp.SymbolKind.Event,
                    location=location(history, node.path, node.span, server.encoding),
                    container_name=node.app or project.tool,
                )
            )
            if len(found) >= 500:
                return found
    return found


def register(server: MigrationServer) -> None:
    @server.feature(lsp.TEXT_DOCUMENT_REFERENCES)
    async def on_references(
        ls: MigrationServer, params: lsp.ReferenceParams
    ) -> list[lsp.Location] | None:
        document = await ls.analyse(params.text_document.uri)
        if document is None:
            return None
        offset = ls.positions(document).offset(params.position)
        return references(ls, document, offset, params.context.include_declaration)

    @server.feature(lsp.TEXT_DOCUMENT_CODE_LENS)
    async def on_code_lens(ls: MigrationServer, params: lsp.CodeLensParams) -> list[lsp.CodeLens]:
        document = await ls.analyse(params.text_document.uri)
        if document is None:
            return []
        return code_lenses(ls, document)

    @server.feature(lsp.WORKSPACE_SYMBOL)
    async def on_workspace_symbol(
        ls: MigrationServer, params: lsp.WorkspaceSymbolParams
    ) -> list[lsp.WorkspaceSymbol]:
        return workspace_symbols(ls, params.query)

    @server.command(OPEN_REVISION)
    async def open_revision(ls: MigrationServer, *args: Any) -> None:
        if len(args) < 2:
            return
        uri, line = str(args[0]), int(args[1])
        position = lsp.Position(line=line, character=0)
        await ls.window_show_document_async(
            lsp.ShowDocumentParams(
                uri=uri, take_focus=True, selection=lsp.Range(start=position, end=position)
            )
        )
