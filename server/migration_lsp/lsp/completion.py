"""Completion: snippets for the file's tool where they make sense, and revision ids inside
`down_revision = "…"` / Django `dependencies` strings."""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import TYPE_CHECKING

from lsprotocol import types as lsp

from migration_lsp.history.revisions import revisions
from migration_lsp.lsp.convert import Positions, markup
from migration_lsp.text import Span

if TYPE_CHECKING:
    from migration_lsp.lsp.server import MigrationServer
    from migration_lsp.lsp.session import Document

_DOWN_REVISION = re.compile(r"^\s*(down_revision|depends_on)\s*(:[^=]*)?=")
_DJANGO_DEPENDENCY = re.compile(r"\(\s*['\"](?P<app>[\w.]+)['\"]\s*,\s*['\"][^'\"]*$")


def _in_string(line: str, column: int) -> bool:
    before = line[:column]
    return before.count("'") % 2 == 1 or before.count('"') % 2 == 1


def revision_items(document: Document, offset: int) -> list[lsp.CompletionItem]:
    project = document.project
    if project is None or project.tool not in ("alembic", "django"):
        return []
    text = document.text
    line_start = text.rfind("\n", 0, offset) + 1
    line = text[line_start:offset]
    if not _in_string(line, len(line)):
        return []
    items: list[lsp.CompletionItem] = []
    if project.tool == "alembic" and _DOWN_REVISION.match(line):
        for revision in revisions(project):
            if revision.path == document.path:
                continue
            items.append(
                lsp.CompletionItem(
                    label=revision.id,
                    kind=lsp.CompletionItemKind.Reference,
                    detail=revision.message or revision.path.name,
                    documentation=str(revision.path),
                )
            )
    elif project.tool == "django":
        match = _DJANGO_DEPENDENCY.search(line)
        if match:
            app = match.group("app")
            for revision in revisions(project):
                rev_app, _, name = revision.id.partition(".")
                if rev_app == app and revision.path != document.path:
                    items.append(
                        lsp.CompletionItem(
                            label=name,
                            kind=lsp.CompletionItemKind.Reference,
                            detail=f"{app} migration",
                            documentation=str(revision.path),
                        )
                    )
    return items


def snippet_items(
    document: Document,
    offset: int,
    positions: Positions,
    formats: Sequence[lsp.MarkupKind] | None = None,
    snippet_support: bool = True,
) -> list[lsp.CompletionItem]:
    """Snippets for the cursor's context; plain text (every default accepted) for clients
    without snippet support."""
    from migration_lsp.model import language_of
    from migration_lsp.snippets import (
        completion_context,
        expand,
        render,
        snippets_for,
        word_range,
    )

    project = document.project
    if project is None:
        return []
    migration = document.analysis.migration
    language = migration.language if migration is not None else language_of(str(document.path))
    context = completion_context(document.text, offset, project.tool, language)
    if context is None:
        return []
    start, end = word_range(document.text, offset)
    line_start = document.text.rfind("\n", 0, offset) + 1
    line = document.text[line_start:start]
    indent = line[: len(line) - len(line.lstrip())]
    replace = positions.range(Span(start, end))
    items = []
    for snippet in snippets_for(project.tool, project.dialect, context, language):
        text = render(snippet, indent)
        if not snippet_support:
            text = expand(text)
        items.append(
            lsp.CompletionItem(
                label=snippet.prefix,
                kind=lsp.CompletionItemKind.Snippet,
                detail=snippet.detail,
                # a plain string when the client names no markup kinds (always allowed)
                documentation=(
                    markup(formats, snippet.documentation) if formats else snippet.documentation
                ),
                text_edit=lsp.TextEdit(range=replace, new_text=text),
                insert_text_format=(
                    lsp.InsertTextFormat.Snippet
                    if snippet_support
                    else lsp.InsertTextFormat.PlainText
                ),
                insert_text_mode=lsp.InsertTextMode.AsIs,
                filter_text=snippet.prefix,
                label_details=lsp.CompletionItemLabelDetails(description=snippet.label),
                additional_text_edits=_import_edits(document.text, snippet.imports, positions),
            )
        )
    return items


def _import_edits(
    text: str, imports: Sequence[str], positions: Positions
) -> list[lsp.TextEdit] | None:
    """The import lines a snippet needs and the file lacks, after the file's last import."""
    missing = [line for line in imports if line not in text]
    if not missing:
        return None
    at = 0
    offset = 0
    for line in text.splitlines(keepends=True):
        if line.startswith(("import ", "from ")):
            at = offset + len(line)
        offset += len(line)
    newline = "\r\n" if "\r\n" in text else "\n"
    insert = "".join(line + newline for line in missing)
    return [lsp.TextEdit(range=positions.range(Span(at, at)), new_text=insert)]


def register(server: MigrationServer) -> None:
    @server.feature(
        lsp.TEXT_DOCUMENT_COMPLETION,
        lsp.CompletionOptions(trigger_characters=["'", '"']),
    )
    async def on_completion(
        ls: MigrationServer, params: lsp.CompletionParams
    ) -> lsp.CompletionList | None:
        document = await ls.analyse(params.text_document.uri)
        if document is None or document.project is None:
            return None
        offset = ls.positions(document).offset(params.position)
        items = revision_items(document, offset)
        if not items:
            text_document = ls.client_capabilities.text_document
            completion = text_document.completion if text_document else None
            item = completion.completion_item if completion else None
            formats = item.documentation_format if item else None
            snippets = bool(item and item.snippet_support)
            items = snippet_items(document, offset, ls.positions(document), formats, snippets)
        return lsp.CompletionList(is_incomplete=False, items=items)
