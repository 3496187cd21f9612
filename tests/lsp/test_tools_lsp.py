"""Every tool in one monorepo workspace, through the real server: each project is detected,
its migrations get diagnostics, and hover on an operation shows the guide's section for it."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from lsp_editor import Editor
from lsprotocol import types as lsp

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
APPS = ("rails", "laravel", "knex", "sequelize", "typeorm", "liquibase", "prisma")
CREATE_TABLE = [
    ("rails/db/migrate/20240105120000_create_users.rb", "create_table :users"),
    ("laravel/database/migrations/2024_05_14_102133_create_users_table.php", "Schema::create"),
    ("knex/migrations/20240514102133_create_users.js", "createTable('users'"),
    ("sequelize/migrations/20240514102133-create-user.js", "createTable('Users'"),
    ("typeorm/src/migrations/1715600000000-CreateUsers.ts", 'CREATE TABLE "users"'),
    ("liquibase/db/changelog/changes/001-create-customers.xml", '<createTable tableName="'),
    ("prisma/prisma/migrations/20240514102133_init/migration.sql", 'CREATE TABLE "posts"'),
]


@pytest.fixture
def workspace(tmp_path: Path) -> Path:
    target = tmp_path / "ws"
    target.mkdir()
    for app in APPS:
        shutil.copytree(FIXTURES / app, target / app)
    return target


async def test_every_tool_is_detected_checked_and_explained(editor: Editor) -> None:
    detected = await editor.client.workspace_execute_command_async(
        lsp.ExecuteCommandParams(command="migration-lsp.showProjects", arguments=[])
    )
    assert {p["tool"] for p in detected} >= set(APPS)
    for relative, needle in CREATE_TABLE:
        uri = editor.open(relative)
        await editor.diagnostics(uri)
        hover = await editor.client.text_document_hover_async(
            lsp.HoverParams(
                text_document=lsp.TextDocumentIdentifier(uri=uri),
                position=editor.find(uri, needle, 2),
            )
        )
        assert hover is not None, relative
        assert isinstance(hover.contents, lsp.MarkupContent)
        text = hover.contents.value
        # the bundled guide's section on creating tables (or the Prisma model for a table)
        print("HOVER", relative, text[:120].replace("\n", " | "))
        assert "table" in text.lower(), (relative, text[:200])
