"""Diagnostics from the real server: push or pull per client, exact ranges in every encoding,
agreement with `migration-lsp check`, configuration and on-disk changes."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys

from lsp_editor import Editor
from lsprotocol import types as lsp

ADD_EMAIL = "alembic/versions/b2c3d4e5f6a7_add_email.py"
INDEX_SQL = "db/migration/V2__index_orders.sql"


async def test_findings_with_exact_ranges_in_the_negotiated_encoding(editor: Editor) -> None:
    uri = editor.open(ADD_EMAIL)
    diagnostics = await editor.diagnostics(uri)
    by_rule = {d.code: d for d in diagnostics}
    assert set(by_rule) == {
        "missing-downgrade",
        "non-concurrent-index",
        "mixed-schema-and-data-change",
        "update-with-limit",
        "statements-after-access-exclusive",
    }
    limit = by_rule["update-with-limit"]
    line = editor.texts[uri].splitlines()[20]
    column = line.index("LIMIT 100")
    # the line holds an emoji and an accented letter before LIMIT: 1, 2 or 4 units each
    assert limit.range.start == lsp.Position(line=20, character=editor.character(uri, 20, column))
    assert limit.range.end == lsp.Position(
        line=20, character=editor.character(uri, 20, column + len("LIMIT 100"))
    )
    assert limit.severity == lsp.DiagnosticSeverity.Error
    assert limit.source == "migration-lsp"
    assert limit.code_description is not None
    assert limit.code_description.href.endswith("/update-with-limit/")


async def test_push_or_pull_never_both(editor: Editor) -> None:
    uri = editor.open(INDEX_SQL)
    diagnostics = await editor.diagnostics(uri)
    assert [d.code for d in diagnostics] == ["non-concurrent-index"]
    await asyncio.sleep(0.3)
    if editor.pulls:
        assert editor.client.diagnostics == {}
    else:
        assert uri in editor.client.diagnostics


async def test_edits_are_relinted(editor: Editor) -> None:
    uri = editor.open(INDEX_SQL)
    first = await editor.diagnostics(uri)
    assert [d.code for d in first] == ["non-concurrent-index"]
    editor.change(uri, editor.texts[uri].replace("CREATE INDEX", "CREATE INDEX CONCURRENTLY"))
    second = await editor.diagnostics(uri)
    # Flyway refuses a script mixing the SET (transactional) and CONCURRENTLY
    assert [d.code for d in second] == ["concurrent-index-in-transaction"]
    editor.change(uri, "-- flyway:executeInTransaction=false\n" + editor.texts[uri])
    assert await editor.diagnostics(uri) == []


async def test_half_typed_code_gives_one_parse_error_and_the_server_keeps_serving(
    editor: Editor,
) -> None:
    uri = editor.open(ADD_EMAIL)
    await editor.diagnostics(uri)
    broken = editor.texts[uri] + "\ndef downgrade() -> None:\n    op.drop_column('users',"
    editor.change(uri, broken)
    await asyncio.sleep(0.4)
    diagnostics = await editor.diagnostics(uri)
    assert [d.code for d in diagnostics] == ["migration-parse-error"]
    other = editor.open(INDEX_SQL)
    assert [d.code for d in await editor.diagnostics(other)] == ["non-concurrent-index"]


async def test_files_outside_migration_folders_get_nothing(editor: Editor) -> None:
    uri = editor.open("alembic/env.py")
    await asyncio.sleep(0.4)
    if editor.pulls:
        assert await editor.diagnostics(uri) == []
    else:
        assert editor.client.diagnostics.get(uri, []) == []


async def test_agrees_with_the_cli(editor: Editor) -> None:
    uri = editor.open(ADD_EMAIL)
    diagnostics = await editor.diagnostics(uri)
    proc = subprocess.run(
        [sys.executable, "-m", "migration_lsp", "check", ADD_EMAIL, "--format", "json"],
        cwd=editor.root,
        capture_output=True,
        text=True,
        timeout=60,
    )
    cli = json.loads(proc.stdout)
    assert sorted((f["rule"], f["start"]["line"] - 1) for f in cli) == sorted(
        (str(d.code), d.range.start.line) for d in diagnostics
    )


async def test_editor_settings_and_config_file(editor: Editor) -> None:
    uri = editor.open(ADD_EMAIL)
    assert "non-concurrent-index" in {d.code for d in await editor.diagnostics(uri)}
    editor.client.set_configuration(
        {"ignore": ["non-concurrent-index"], "severity": {"missing-downgrade": "error"}},
        section="migrationLsp",
    )
    editor.mark(uri)
    editor.client.workspace_did_change_configuration(
        lsp.DidChangeConfigurationParams(settings=None)
    )
    await asyncio.sleep(0.5)
    diagnostics = await editor.diagnostics(uri)
    codes = {d.code: d for d in diagnostics}
    assert "non-concurrent-index" not in codes
    assert codes["missing-downgrade"].severity == lsp.DiagnosticSeverity.Error
    # a project config file wins over editor settings, as it does for `migration-lsp check`
    (editor.root / "migration-lsp.toml").write_text('ignore = ["update-with-limit"]\n')
    editor.mark(uri)
    editor.client.workspace_did_change_watched_files(
        lsp.DidChangeWatchedFilesParams(
            changes=[
                lsp.FileEvent(
                    uri=(editor.root / "migration-lsp.toml").as_uri(),
                    type=lsp.FileChangeType.Created,
                )
            ]
        )
    )
    await asyncio.sleep(0.5)
    codes = {d.code for d in await editor.diagnostics(uri)}
    assert "update-with-limit" not in codes
    assert "non-concurrent-index" in codes  # the file's `ignore` replaces the editor's


async def test_broken_config_file_is_reported_and_defaults_used(editor: Editor) -> None:
    (editor.root / "migration-lsp.toml").write_text('select = ["no-such-rule"]\n')
    uri = editor.open(INDEX_SQL)
    diagnostics = await editor.diagnostics(uri)
    assert [d.code for d in diagnostics] == ["non-concurrent-index"]
    for _ in range(40):
        if editor.client.messages:
            break
        await asyncio.sleep(0.05)
    assert any(
        "migration-lsp.toml:1" in m.message and "no-such-rule" in m.message
        for m in editor.client.messages
    )


async def test_detection_is_announced(editor: Editor) -> None:
    for _ in range(40):
        if any("migration-lsp:" in m.message for m in editor.client.log_messages):
            break
        await asyncio.sleep(0.05)
    logged = " ".join(m.message for m in editor.client.log_messages)
    assert "alembic (postgresql)" in logged and "flyway" in logged
    projects = await editor.client.workspace_execute_command_async(
        lsp.ExecuteCommandParams(command="migration-lsp.showProjects")
    )
    assert {p["tool"] for p in projects} == {"alembic", "flyway"}


async def test_new_migration_on_disk_changes_dependent_diagnostics(editor: Editor) -> None:
    """Django's AlterField is judged against the earlier migrations' state: when an earlier
    file changes on disk, the open later one is re-linted."""
    app = editor.root / "shop" / "migrations"
    app.mkdir(parents=True)
    (editor.root / "manage.py").write_text(
        "import os\nos.environ.setdefault('DJANGO_SETTINGS_MODULE', 'site.settings')\n"
    )
    (app / "__init__.py").write_text("")
    header = (
        "from django.db import migrations, models\n\n\nclass Migration(migrations.Migration):\n"
    )
    (app / "0001_initial.py").write_text(
        header
        + "    initial = True\n    dependencies = []\n    operations = [\n"
        + "        migrations.CreateModel(name='Item', fields=[\n"
        + "            ('id', models.BigAutoField(primary_key=True)),\n"
        + "            ('code', models.IntegerField(null=True)),\n        ]),\n    ]\n"
    )
    later = (
        header
        + "    dependencies = [('shop', '0001_initial')]\n    operations = [\n"
        + "        migrations.AlterField(model_name='item', name='code',\n"
        + "                              field=models.IntegerField()),\n    ]\n"
    )
    (app / "0002_code_required.py").write_text(later)
    notify = [
        lsp.FileEvent(uri=(editor.root / "manage.py").as_uri(), type=lsp.FileChangeType.Created)
    ]
    editor.client.workspace_did_change_watched_files(lsp.DidChangeWatchedFilesParams(notify))
    await asyncio.sleep(0.5)
    uri = editor.open("shop/migrations/0002_code_required.py")
    codes = {d.code for d in await editor.diagnostics(uri)}
    assert "set-not-null-on-existing-column" in codes
    # the earlier migration changes on disk: the column was never nullable
    initial = (
        (app / "0001_initial.py").read_text().replace("IntegerField(null=True)", "IntegerField()")
    )
    (app / "0001_initial.py").write_text(initial)
    editor.mark(uri)
    editor.client.workspace_did_change_watched_files(
        lsp.DidChangeWatchedFilesParams(
            [lsp.FileEvent(uri=(app / "0001_initial.py").as_uri(), type=lsp.FileChangeType.Changed)]
        )
    )
    await asyncio.sleep(0.5)
    codes = {d.code for d in await editor.diagnostics(uri)}
    assert "set-not-null-on-existing-column" not in codes
