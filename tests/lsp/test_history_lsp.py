"""The revision graph through the real server: diagnostics across files, the merge-migration
fix, definition, references, hover, code lens and workspace symbols."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from lsp_editor import Editor
from lsprotocol import types as lsp

FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "history" / "alembic_branches"
VERSIONS = "migrations/versions"
EMAIL = f"{VERSIONS}/27c6a30d7c24_add_email.py"
PHONE = f"{VERSIONS}/ae1027a6acf0_add_phone.py"
USERS = f"{VERSIONS}/1975ea83b712_create_users.py"


@pytest.fixture
def workspace(tmp_path: Path) -> Path:
    target = tmp_path / "ws"
    shutil.copytree(FIXTURE, target)
    return target


def _doc(uri: str) -> lsp.TextDocumentIdentifier:
    return lsp.TextDocumentIdentifier(uri=uri)


async def test_merge_fix_clears_multiple_heads_in_every_open_file(editor: Editor) -> None:
    email = editor.open(EMAIL)
    phone = editor.open(PHONE)
    (heads,) = [d for d in await editor.diagnostics(email) if d.code == "multiple-heads"]
    assert heads.range.start.line == 14  # the `revision = ...` line
    assert "multiple-heads" in [d.code for d in await editor.diagnostics(phone)]

    merges = [a for a in await editor.actions(email, heads) if "merge" in a.title.lower()]
    caps = editor.client.capabilities
    edit_caps = caps.workspace.workspace_edit if caps and caps.workspace else None
    if not (
        edit_caps
        and edit_caps.document_changes
        and "create" in (edit_caps.resource_operations or [])
    ):
        assert merges == []  # this client cannot create files: no fix it could not apply
        return
    (action,) = merges
    assert action.edit is not None and action.edit.document_changes
    create = next(c for c in action.edit.document_changes if isinstance(c, lsp.CreateFile))
    content = next(
        c
        for c in action.edit.document_changes
        if isinstance(c, lsp.TextDocumentEdit) and c.text_document.uri == create.uri
    )
    text = content.edits[0].new_text
    assert "down_revision: Union[str, None] = ('27c6a30d7c24', 'ae1027a6acf0')" in text

    # the editor creates the file and opens it: both heads are merged, in both open files
    created = Path(create.uri.removeprefix("file://"))
    created.write_text(text)
    editor.mark(email)
    editor.mark(phone)
    editor.open(str(created.relative_to(editor.root)), text)
    assert [d for d in await editor.diagnostics(email) if d.code == "multiple-heads"] == []
    assert [d for d in await editor.diagnostics(phone) if d.code == "multiple-heads"] == []


async def test_definition_references_and_hover_on_revision_ids(editor: Editor) -> None:
    email = editor.open(EMAIL)
    await editor.diagnostics(email)
    parent = editor.find(email, "down_revision: Union[str, None] = '1975", 36)
    location = await editor.client.text_document_definition_async(
        lsp.DefinitionParams(text_document=_doc(email), position=parent)
    )
    assert isinstance(location, lsp.Location)
    assert location.uri == editor.uri(USERS)

    refs = await editor.client.text_document_references_async(
        lsp.ReferenceParams(
            text_document=_doc(email),
            position=parent,
            context=lsp.ReferenceContext(include_declaration=True),
        )
    )
    assert refs is not None
    assert sorted(Path(r.uri).name for r in refs) == [
        "1975ea83b712_create_users.py",
        "27c6a30d7c24_add_email.py",
        "ae1027a6acf0_add_phone.py",
    ]
    assert all(r.range.start.line in (14, 15) for r in refs)

    hover = await editor.client.text_document_hover_async(
        lsp.HoverParams(text_document=_doc(email), position=parent)
    )
    assert hover is not None and isinstance(hover.contents, lsp.MarkupContent)
    value = hover.contents.value
    assert "Revision `1975ea83b712`" in value and "create users" in value
    assert "children: `27c6a30d7c24`, `ae1027a6acf0`" in value


async def test_code_lens_shows_parents_children_and_heads(editor: Editor) -> None:
    users = editor.open(USERS)
    email = editor.open(EMAIL)
    await editor.diagnostics(email)
    lenses = await editor.client.text_document_code_lens_async(
        lsp.CodeLensParams(text_document=_doc(users))
    )
    titles = [lens.command.title for lens in lenses or [] if lens.command]
    assert titles == ["base", "revised by 27c6a30d7c24, ae1027a6acf0"]
    lenses = await editor.client.text_document_code_lens_async(
        lsp.CodeLensParams(text_document=_doc(email))
    )
    titles = [lens.command.title for lens in lenses or [] if lens.command]
    assert titles == ["revises 1975ea83b712 (create users)", "head (one of 2: merge needed)"]
    lens = (lenses or [])[0]
    assert lens.range.start.line == 14 and lens.command is not None
    assert list(lens.command.arguments or []) == [editor.uri(USERS), 14]


async def test_workspace_symbols_find_revisions_by_id_and_message(editor: Editor) -> None:
    editor.open(EMAIL)
    symbols = await editor.client.workspace_symbol_async(lsp.WorkspaceSymbolParams(query="phone"))
    assert symbols is not None
    assert [s.name for s in symbols] == ["ae1027a6acf0 add phone"]
    symbols = await editor.client.workspace_symbol_async(lsp.WorkspaceSymbolParams(query="1975"))
    assert symbols is not None and [s.name for s in symbols] == ["1975ea83b712 create users"]
