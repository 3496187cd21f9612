"""A TypeORM app in the real server: a diagnostic inside a `queryRunner.query` template
literal, its quick fix applied and re-linted, and snippets offered inside `up()`."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from lsp_editor import Editor
from lsprotocol import types as lsp

FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "typeorm"
ADD_EMAIL = "src/migrations/1715682093123-AddEmailToUsers.ts"


@pytest.fixture
def workspace(tmp_path: Path) -> Path:
    target = tmp_path / "ws"
    shutil.copytree(FIXTURE, target)
    return target


async def test_index_fix_and_snippets_in_a_typeorm_migration(editor: Editor) -> None:
    uri = editor.open(ADD_EMAIL)
    diagnostics = await editor.diagnostics(uri)
    diagnostic = next(d for d in diagnostics if d.code == "non-concurrent-index")
    assert diagnostic.range.start == editor.find(uri, 'CREATE INDEX "IDX_')
    assert diagnostic.range.end == editor.find(uri, 'CREATE INDEX "IDX_', len("CREATE INDEX"))
    assert "add-not-null-column-without-default" in {d.code for d in diagnostics}

    actions = await editor.actions(uri, diagnostic)
    action = next(a for a in actions if "concurrently" in a.title and a.edit is not None)
    assert action.edit is not None
    editor.apply(action.edit)
    text = editor.texts[uri]
    assert "    transaction = false\n" in text
    assert 'CREATE INDEX CONCURRENTLY IF NOT EXISTS "IDX_97672ac88f789774dd47f7c8be"' in text
    codes = {d.code for d in await editor.diagnostics(uri)}
    assert not codes & {"non-concurrent-index", "concurrent-index-in-transaction"}
    assert "migration-parse-error" not in codes

    typed = text.replace(
        "    public async up(queryRunner: QueryRunner): Promise<void> {\n",
        "    public async up(queryRunner: QueryRunner): Promise<void> {\n        mig\n",
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
    assert {"mig-index-concurrently", "mig-batch-update", "mig-foreign-key"} <= labels
    assert "mig-file" not in labels
    bodies = " ".join(i.text_edit.new_text for i in items if i.text_edit is not None)
    assert "CREATE INDEX CONCURRENTLY" in bodies and "queryRunner.query(" in bodies
