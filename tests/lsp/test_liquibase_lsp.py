"""A Liquibase project in the real server: a changeSet without rollback reported on its start
tag, its quick fix applied and re-linted, the index fix on `createIndex`, and changeSet snippets
offered between changeSets."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from lsp_editor import Editor
from lsprotocol import types as lsp

FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "liquibase"
UNSAFE_XML = "db/changelog/unsafe/101-index-orders-status.xml"
UNSAFE_YAML = "db/changelog/unsafe/102-drop-legacy-columns.yaml"


@pytest.fixture
def workspace(tmp_path: Path) -> Path:
    target = tmp_path / "ws"
    shutil.copytree(FIXTURE, target)
    return target


async def test_rollback_and_index_fixes_and_snippets_in_a_changelog(editor: Editor) -> None:
    uri = editor.open(UNSAFE_XML)
    diagnostics = await editor.diagnostics(uri)
    missing = next(d for d in diagnostics if d.code == "changeset-without-rollback")
    start_tag = '<changeSet id="103" author="erin">'
    assert missing.range.start == editor.find(uri, start_tag)
    assert missing.range.end == editor.find(uri, start_tag, len(start_tag))
    assert "changeSet 103 (erin)" in missing.message

    actions = await editor.actions(uri, missing)
    action = next(a for a in actions if "<rollback>" in a.title and a.edit is not None)
    assert action.edit is not None
    editor.apply(action.edit)
    assert (
        '<stop message="TODO: write the SQL that undoes this changeSet\'s sql"/>'
        in (editor.texts[uri])
    )
    after = await editor.diagnostics(uri)
    codes = [d.code for d in after]
    assert "changeset-without-rollback" not in codes and "migration-parse-error" not in codes

    index = next(d for d in after if d.code == "non-concurrent-index")
    assert index.range.start == editor.find(uri, "createIndex indexName")
    actions = await editor.actions(uri, index)
    action = next(a for a in actions if "CONCURRENTLY" in a.title and a.edit is not None)
    assert action.edit is not None
    editor.apply(action.edit)
    text = editor.texts[uri]
    assert "<sql>CREATE INDEX CONCURRENTLY IF NOT EXISTS ix_orders_status ON orders" in text
    assert '<changeSet id="101" author="erin" runInTransaction="false">' in text
    codes = [d.code for d in await editor.diagnostics(uri)]
    assert "non-concurrent-index" not in codes and "migration-parse-error" not in codes

    typed = text.replace('\n    <changeSet id="102"', '\n    mig\n    <changeSet id="102"', 1)
    editor.change(uri, typed)
    await editor.diagnostics(uri)
    result = await editor.client.text_document_completion_async(
        lsp.CompletionParams(
            text_document=lsp.TextDocumentIdentifier(uri=uri),
            position=editor.find(uri, "    mig\n", 7),
        )
    )
    items = result.items if isinstance(result, lsp.CompletionList) else list(result or [])
    snippets = {i.label: i for i in items if i.kind == lsp.CompletionItemKind.Snippet}
    assert {"mig-changeset", "mig-index-concurrently", "mig-foreign-key"} <= set(snippets)
    edit = snippets["mig-index-concurrently"].text_edit
    assert edit is not None and 'runInTransaction="false"' in edit.new_text
    assert "<sql>CREATE INDEX CONCURRENTLY" in edit.new_text


async def test_yaml_changelog_diagnostic_on_the_changeset_key(editor: Editor) -> None:
    uri = editor.open(UNSAFE_YAML)
    diagnostics = await editor.diagnostics(uri)
    missing = [d for d in diagnostics if d.code == "changeset-without-rollback"]
    assert [d.range.start for d in missing] == [
        editor.find(uri, "changeSet:"),
        editor.position(uri, editor.texts[uri].index("changeSet:", 40)),
    ]
    drop = next(d for d in diagnostics if d.code == "drop-column")
    assert drop.range.start == editor.find(uri, "legacy_code")
