"""A Prisma project in the real server: hover and go to definition from a table in a
generated `migration.sql` to its model in `schema.prisma`."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from lsp_editor import Editor
from lsprotocol import types as lsp

FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "prisma"
ADD_ROLE = "prisma/migrations/20240602081500_add_role/migration.sql"


@pytest.fixture
def workspace(tmp_path: Path) -> Path:
    target = tmp_path / "ws"
    shutil.copytree(FIXTURE, target)
    return target


async def test_diagnostics_hover_and_definition_for_a_prisma_migration(editor: Editor) -> None:
    uri = editor.open(ADD_ROLE)
    rules = {d.code for d in await editor.diagnostics(uri)}
    assert {"add-not-null-column-without-default", "non-concurrent-index"} <= rules

    hover = await editor.client.text_document_hover_async(
        lsp.HoverParams(
            text_document=lsp.TextDocumentIdentifier(uri=uri),
            position=editor.find(uri, '"posts"("author_id")', 2),
        )
    )
    assert hover is not None and isinstance(hover.contents, lsp.MarkupContent)
    assert "Prisma model `Post`" in hover.contents.value
    assert "(table `posts`)" in hover.contents.value
    assert "prisma/schema.prisma:23" in hover.contents.value
    assert 'authorId Int     @map("author_id")' in hover.contents.value

    location = await editor.client.text_document_definition_async(
        lsp.DefinitionParams(
            text_document=lsp.TextDocumentIdentifier(uri=uri),
            position=editor.find(uri, 'TABLE "User"', 8),
        )
    )
    assert isinstance(location, lsp.Location)
    assert location.uri == (editor.root / "prisma" / "schema.prisma").as_uri()
    assert (location.range.start.line, location.range.start.character) == (12, 6)
