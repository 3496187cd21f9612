"""A Laravel app in the real server: a diagnostic on a Blueprint index, its quick fix applied
and re-linted, and snippets offered inside `up()`."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from lsp_editor import Editor
from lsprotocol import types as lsp

FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "laravel"
ADD_INDEX = "database/migrations/2024_06_01_100000_add_email_index_to_users_table.php"


@pytest.fixture
def workspace(tmp_path: Path) -> Path:
    target = tmp_path / "ws"
    shutil.copytree(FIXTURE, target)
    return target


async def test_index_fix_and_snippets_in_a_laravel_migration(editor: Editor) -> None:
    uri = editor.open(ADD_INDEX)
    diagnostics = await editor.diagnostics(uri)
    diagnostic = next(d for d in diagnostics if d.code == "non-concurrent-index")
    assert diagnostic.range.start == editor.find(uri, "index(['name'")

    actions = await editor.actions(uri, diagnostic)
    action = next(a for a in actions if "concurrently" in a.title and a.edit is not None)
    assert action.edit is not None
    editor.apply(action.edit)
    text = editor.texts[uri]
    assert "public $withinTransaction = false;" in text
    assert "CREATE INDEX CONCURRENTLY IF NOT EXISTS users_name_email_index" in text
    codes = {d.code for d in await editor.diagnostics(uri)}
    assert not codes & {"non-concurrent-index", "concurrent-index-in-transaction"}
    assert "migration-parse-error" not in codes

    typed = text.replace(
        "    public function up(): void\n    {\n",
        "    public function up(): void\n    {\n        mig\n",
        1,
    )
    editor.change(uri, typed)
    await editor.diagnostics(uri)
    result = await editor.client.text_document_completion_async(
        lsp.CompletionParams(
            text_document=lsp.TextDocumentIdentifier(uri=uri),
            position=editor.find(uri, "        mig\n", 11),
        )
    )
    items = result.items if isinstance(result, lsp.CompletionList) else list(result or [])
    labels = {item.label for item in items if item.kind == lsp.CompletionItemKind.Snippet}
    assert {"mig-index-concurrently", "mig-backfill", "mig-foreign-key"} <= labels
    bodies = " ".join(i.text_edit.new_text for i in items if i.text_edit is not None)
    assert "CREATE INDEX CONCURRENTLY" in bodies and "chunkById" in bodies
