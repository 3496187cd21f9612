"""A Rails app in the real server: a diagnostic on `add_index`, its quick fix applied and
re-linted, and snippets offered inside `def change`."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from lsp_editor import Editor
from lsprotocol import types as lsp

FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "rails"
ADD_INDEX = "db/migrate/20240112080000_add_index_to_users_phone.rb"


@pytest.fixture
def workspace(tmp_path: Path) -> Path:
    target = tmp_path / "ws"
    shutil.copytree(FIXTURE, target)
    return target


async def test_index_fix_and_snippets_in_a_rails_migration(editor: Editor) -> None:
    uri = editor.open(ADD_INDEX)
    diagnostics = await editor.diagnostics(uri)
    diagnostic = next(d for d in diagnostics if d.code == "non-concurrent-index")
    assert diagnostic.range.start == editor.find(uri, "add_index")
    assert diagnostic.range.end == editor.find(uri, "add_index", len("add_index"))

    actions = await editor.actions(uri, diagnostic)
    action = next(a for a in actions if "concurrently" in a.title and a.edit is not None)
    assert action.edit is not None
    editor.apply(action.edit)
    text = editor.texts[uri]
    assert "  disable_ddl_transaction!\n" in text
    assert "add_index :users, :phone, algorithm: :concurrently" in text
    codes = {d.code for d in await editor.diagnostics(uri)}
    assert not codes & {"non-concurrent-index", "concurrent-index-in-transaction"}
    assert "migration-parse-error" not in codes

    typed = text.replace("  def change\n", "  def change\n    mig\n", 1)
    editor.change(uri, typed)  # no wait for diagnostics: an empty set again looks unchanged
    result = await editor.client.text_document_completion_async(
        lsp.CompletionParams(
            text_document=lsp.TextDocumentIdentifier(uri=uri),
            position=editor.find(uri, "    mig\n", 7),
        )
    )
    items = result.items if isinstance(result, lsp.CompletionList) else list(result or [])
    labels = {item.label for item in items if item.kind == lsp.CompletionItemKind.Snippet}
    assert {"mig-index-concurrently", "mig-foreign-key", "mig-batch-update"} <= labels
    assert "mig-file" not in labels
    bodies = " ".join(i.text_edit.new_text for i in items if i.text_edit is not None)
    assert "algorithm: :concurrently" in bodies and "in_batches" in bodies
