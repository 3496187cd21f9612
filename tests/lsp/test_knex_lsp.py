"""A Knex project in the real server, in every client's capability set: a diagnostic on the
right characters, its quick fix applied and re-linted, and snippets inside an async `up`."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from lsp_editor import Editor
from lsprotocol import types as lsp

from migration_lsp.parse.javascript import JsSource

FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "knex"
REFERENCE = "migrations/20240516091544_add_bookings_reference.js"


@pytest.fixture
def workspace(tmp_path: Path) -> Path:
    """The Knex fixture app instead of the shared LSP workspace."""
    target = tmp_path / "ws"
    shutil.copytree(FIXTURE, target)
    return target


async def test_index_diagnostic_and_its_fix(editor: Editor) -> None:
    uri = editor.open(REFERENCE)
    diagnostics = await editor.diagnostics(uri)
    index = next(d for d in diagnostics if d.code == "non-concurrent-index")
    assert index.range.start == editor.find(uri, "table.index(")
    assert index.range.end == editor.find(uri, "table.index(", len("table.index"))
    not_null = next(d for d in diagnostics if d.code == "add-not-null-column-without-default")
    assert not_null.range.start == editor.find(uri, "'reference'")

    actions = await editor.actions(uri, index)
    fix = next(a for a in actions if "concurrently" in a.title and a.edit is not None)
    assert fix.edit is not None
    editor.apply(fix.edit)
    text = editor.texts[uri]
    assert "exports.config = { transaction: false };" in text
    assert "CREATE INDEX CONCURRENTLY IF NOT EXISTS bookings_status_index" in text
    assert not JsSource(text, REFERENCE).root.has_error
    codes = {d.code for d in await editor.diagnostics(uri)}
    assert not codes & {"non-concurrent-index", "concurrent-index-in-transaction"}
    assert "add-not-null-column-without-default" in codes


async def test_snippets_in_an_async_up(editor: Editor) -> None:
    relative = "migrations/20240520101500_add_users_bio.js"
    text = "exports.up = async function(knex) {\n  mig-\n};\n"
    (editor.root / relative).write_text(text)
    uri = editor.open(relative, text)
    await editor.diagnostics(uri)
    result = await editor.client.text_document_completion_async(
        lsp.CompletionParams(
            text_document=lsp.TextDocumentIdentifier(uri=uri),
            position=editor.find(uri, "mig-", 4),
        )
    )
    items = list(result.items if isinstance(result, lsp.CompletionList) else result or [])
    labels = {i.label for i in items if i.kind == lsp.CompletionItemKind.Snippet}
    assert {"mig-index-concurrently", "mig-add-column", "mig-batch-update"} <= labels
    assert "mig-file" not in labels
    index = next(i for i in items if i.label == "mig-index-concurrently")
    assert index.text_edit is not None and "CREATE INDEX CONCURRENTLY" in index.text_edit.new_text
