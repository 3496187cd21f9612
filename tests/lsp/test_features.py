"""Code actions, hover, completion and navigation from the real server, in every client's
capability set."""

from __future__ import annotations

import ast
import asyncio
import shutil
from pathlib import Path

from lsp_editor import Editor
from lsprotocol import types as lsp

ADD_EMAIL = "alembic/versions/b2c3d4e5f6a7_add_email.py"
CREATE_USERS = "alembic/versions/a1b2c3d4e5f6_create_users.py"
INDEX_SQL = "db/migration/V2__index_orders.sql"


async def _diagnostic(editor: Editor, uri: str, rule: str) -> lsp.Diagnostic:
    diagnostics = await editor.diagnostics(uri)
    return next(d for d in diagnostics if d.code == rule)


async def _fix(editor: Editor, uri: str, rule: str, word: str) -> lsp.CodeAction:
    actions = await editor.actions(uri, await _diagnostic(editor, uri, rule))
    return next(a for a in actions if word in a.title and a.edit is not None)


# --------------------------------------------------------------------------- code actions


async def test_add_downgrade_fix_is_applied_and_relinted(editor: Editor) -> None:
    uri = editor.open(ADD_EMAIL)
    action = await _fix(editor, uri, "missing-downgrade", "downgrade")
    assert action.kind == lsp.CodeActionKind.QuickFix
    assert action.edit is not None
    editor.apply(action.edit)
    text = editor.texts[uri]
    ast.parse(text)
    assert "def downgrade() -> None:" in text
    assert "op.drop_index('ix_users_email'" in text or 'op.drop_index("ix_users_email"' in text
    assert "op.drop_column('users', 'email')" in text or 'drop_column("users", "email")' in text
    assert "raise NotImplementedError" in text  # the UPDATE cannot be undone automatically
    codes = {d.code for d in await editor.diagnostics(uri)}
    assert "missing-downgrade" not in codes
    assert "migration-parse-error" not in codes


async def test_use_concurrently_fix_for_alembic(editor: Editor) -> None:
    uri = editor.open(ADD_EMAIL)
    action = await _fix(editor, uri, "non-concurrent-index", "oncurrent")
    assert action.edit is not None
    editor.apply(action.edit)
    text = editor.texts[uri]
    assert "autocommit_block()" in text and "postgresql_concurrently=True" in text
    ast.parse(text)
    codes = {d.code for d in await editor.diagnostics(uri)}
    assert not codes & {"non-concurrent-index", "concurrent-index-in-transaction"}


async def test_use_concurrently_fix_for_sql(editor: Editor) -> None:
    uri = editor.open(INDEX_SQL)
    action = await _fix(editor, uri, "non-concurrent-index", "oncurrent")
    assert action.edit is not None
    editor.apply(action.edit)
    assert "CREATE INDEX CONCURRENTLY" in editor.texts[uri]
    assert await editor.diagnostics(uri) == []


async def test_disable_for_this_line_and_file(editor: Editor) -> None:
    uri = editor.open(INDEX_SQL)
    diagnostic = await _diagnostic(editor, uri, "non-concurrent-index")
    actions = await editor.actions(uri, diagnostic)
    titles = [a.title for a in actions]
    assert "Disable non-concurrent-index for this line" in titles
    assert "Disable non-concurrent-index for this file" in titles
    line = next(a for a in actions if a.title.endswith("for this line"))
    assert line.edit is not None
    editor.apply(line.edit)
    assert "-- migration-lsp: ignore[non-concurrent-index]" in editor.texts[uri]
    assert await editor.diagnostics(uri) == []

    python = editor.open(ADD_EMAIL)
    diagnostic = await _diagnostic(editor, python, "mixed-schema-and-data-change")
    whole = next(
        a for a in await editor.actions(python, diagnostic) if a.title.endswith("this file")
    )
    assert whole.edit is not None
    editor.apply(whole.edit)
    assert editor.texts[python].startswith(
        "# migration-lsp: ignore-file[mixed-schema-and-data-change]\n"
    )
    codes = {d.code for d in await editor.diagnostics(python)}
    assert "mixed-schema-and-data-change" not in codes and "unused-ignore" not in codes


async def test_show_documentation(editor: Editor) -> None:
    uri = editor.open(INDEX_SQL)
    diagnostic = await _diagnostic(editor, uri, "non-concurrent-index")
    action = next(
        a for a in await editor.actions(uri, diagnostic) if a.title.startswith("Show doc")
    )
    assert action.command is not None
    await editor.client.workspace_execute_command_async(
        lsp.ExecuteCommandParams(command=action.command.command, arguments=action.command.arguments)
    )
    shown = editor.client.shown_documents[-1]
    assert shown.uri.endswith("/non-concurrent-index.md") and not shown.external
    page = Path(shown.uri.removeprefix("file://")).read_text()
    assert page.startswith("<!--") and "# non-concurrent-index" in page
    assert "## Why is this bad?" in page


async def test_fix_all_applies_only_safe_fixes(editor: Editor) -> None:
    uri = editor.open(INDEX_SQL)
    await editor.diagnostics(uri)
    result = await editor.client.text_document_code_action_async(
        lsp.CodeActionParams(
            text_document=lsp.TextDocumentIdentifier(uri=uri),
            range=lsp.Range(
                start=lsp.Position(line=0, character=0), end=lsp.Position(line=3, character=0)
            ),
            context=lsp.CodeActionContext(diagnostics=[], only=[lsp.CodeActionKind.SourceFixAll]),
        )
    )
    actions = [a for a in result or [] if isinstance(a, lsp.CodeAction)]
    assert [a.kind for a in actions] == ["source.fixAll.migration-lsp"]
    assert actions[0].edit is not None
    editor.apply(actions[0].edit)
    assert "CONCURRENTLY" in editor.texts[uri]


# --------------------------------------------------------------------------- hover


async def _hover(editor: Editor, uri: str, position: lsp.Position) -> str:
    result = await editor.client.text_document_hover_async(
        lsp.HoverParams(text_document=lsp.TextDocumentIdentifier(uri=uri), position=position)
    )
    assert result is not None
    assert isinstance(result.contents, lsp.MarkupContent)
    return result.contents.value


async def test_hover_on_an_operation_shows_the_users_guide_section(editor: Editor) -> None:
    uri = editor.open(CREATE_USERS)
    await editor.diagnostics(uri)
    text = await _hover(editor, uri, editor.find(uri, "op.create_table", 4))
    assert "Creating a Table" in text
    text = await _hover(editor, uri, editor.find(uri, "def downgrade", 5))
    assert "Rollback" in text


async def test_hover_on_a_diagnostic_shows_the_rule_then_the_guide(editor: Editor) -> None:
    uri = editor.open(ADD_EMAIL)
    await editor.diagnostics(uri)
    text = await _hover(editor, uri, editor.find(uri, "LIMIT 100", 2))
    assert text.index("update-with-limit") < text.index("---")
    assert "## Why is this bad?" in text


async def test_hover_falls_back_to_the_bundled_guide(editor: Editor) -> None:
    shutil.rmtree(editor.root / ".claude")
    uri = editor.open(CREATE_USERS)
    await editor.diagnostics(uri)
    text = await _hover(editor, uri, editor.find(uri, "op.create_index", 4))
    assert "bundled" in text.lower()
    assert "CONCURRENTLY" in text


async def test_hover_on_a_rule_id_in_an_ignore_comment(editor: Editor) -> None:
    text = editor.texts.get(editor.uri(INDEX_SQL)) or (editor.root / INDEX_SQL).read_text()
    text = text.replace("(user_id);", "(user_id);  -- migration-lsp: ignore[non-concurrent-index]")
    uri = editor.open(INDEX_SQL, text)
    await editor.diagnostics(uri)
    hover = await _hover(editor, uri, editor.find(uri, "ignore[non-concurrent-index", 9))
    assert "**non-concurrent-index**" in hover


# --------------------------------------------------------------------------- completion


async def _complete(editor: Editor, uri: str, position: lsp.Position) -> list[lsp.CompletionItem]:
    result = await editor.client.text_document_completion_async(
        lsp.CompletionParams(text_document=lsp.TextDocumentIdentifier(uri=uri), position=position)
    )
    if isinstance(result, lsp.CompletionList):
        return list(result.items)
    return list(result or [])


async def test_snippets_inside_upgrade(editor: Editor) -> None:
    text = (
        (editor.root / ADD_EMAIL).read_text().replace("    op.execute(", "    \n    op.execute(", 1)
    )
    uri = editor.open(ADD_EMAIL, text)
    await editor.diagnostics(uri)
    items = await _complete(editor, uri, editor.find(uri, "    \n    op.execute(", 4))
    snippets = [i for i in items if i.kind == lsp.CompletionItemKind.Snippet]
    assert snippets
    caps = editor.client.capabilities
    completion = caps.text_document.completion if caps and caps.text_document else None
    item = completion.completion_item if completion else None
    if item and item.snippet_support:
        assert all(i.insert_text_format == lsp.InsertTextFormat.Snippet for i in snippets)
    else:  # e.g. Emacs without yasnippet: the text with every default filled in
        assert all(i.insert_text_format == lsp.InsertTextFormat.PlainText for i in snippets)
        assert not any("${" in (i.text_edit.new_text if i.text_edit else "") for i in snippets)
    bodies = " ".join(i.text_edit.new_text for i in snippets if i.text_edit)
    assert "postgresql_concurrently=True" in bodies and "autocommit_block" in bodies
    # nothing to offer in the middle of an import line
    assert not await _complete(editor, uri, editor.find(uri, "import sqlalchemy", 3))


async def test_revision_ids_complete_in_down_revision(editor: Editor) -> None:
    text = (
        (editor.root / ADD_EMAIL)
        .read_text()
        .replace("down_revision = 'a1b2c3d4e5f6'", "down_revision = ''")
    )
    uri = editor.open(ADD_EMAIL, text)
    await editor.diagnostics(uri)
    items = await _complete(editor, uri, editor.find(uri, "down_revision = ''", 17))
    assert [i.label for i in items] == ["a1b2c3d4e5f6"]
    assert items[0].detail == "create users"


# --------------------------------------------------------------------------- navigation


async def test_go_to_the_parent_revision(editor: Editor) -> None:
    uri = editor.open(ADD_EMAIL)
    await editor.diagnostics(uri)
    result = await editor.client.text_document_definition_async(
        lsp.DefinitionParams(
            text_document=lsp.TextDocumentIdentifier(uri=uri),
            position=editor.find(uri, "down_revision = 'a1b2", 19),
        )
    )
    assert isinstance(result, lsp.Location)
    assert result.uri == editor.uri(CREATE_USERS)
    assert result.range.start.line == 11  # the `revision = ...` line


async def test_document_symbols_list_the_operations(editor: Editor) -> None:
    uri = editor.open(ADD_EMAIL)
    await editor.diagnostics(uri)
    result = await editor.client.text_document_document_symbol_async(
        lsp.DocumentSymbolParams(text_document=lsp.TextDocumentIdentifier(uri=uri))
    )
    names = [s.name for s in result or [] if isinstance(s, lsp.DocumentSymbol)]
    assert names == [
        "add column users.email",
        "create index ix_users_email on users",
        "update users",
    ]


async def test_watchers_cover_markers_and_migration_folders(editor: Editor) -> None:
    for _ in range(40):
        if getattr(editor.client, "registrations", None):
            break
        await asyncio.sleep(0.05)
    registrations = getattr(editor.client, "registrations", [])
    if not registrations:  # a client without dynamic watcher registration
        caps = editor.client.capabilities
        watched = caps.workspace.did_change_watched_files if caps and caps.workspace else None
        assert not (watched and watched.dynamic_registration)
        return
    options = registrations[0].register_options
    patterns = [str(w["globPattern"]) for w in options["watchers"]]
    assert "**/alembic.ini" in patterns
    assert any("alembic/versions" in p for p in patterns)
    assert any("db/migration" in p for p in patterns)
