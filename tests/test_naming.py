"""invalid-migration-filename: names the tools skip or reject, and the CLI finding them."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from migration_lsp.parse import parse_migration
from migration_lsp.suppress import ignore_edit
from migration_lsp.text import Span
from rule_helpers import analyse, config, sql_file

RULE = "invalid-migration-filename"
ADD = "ALTER TABLE users ADD COLUMN email text;\n"


def rules(tool: str, path: str, settings: dict[str, object] | None = None) -> list[str]:
    migration = parse_migration(path, sql_file(tool, ADD), tool, "postgresql", settings or {})
    assert migration is not None
    return [f.rule for f in analyse(migration, config(select=[RULE]))]


@pytest.mark.parametrize(
    ("tool", "path"),
    [
        ("flyway", "db/migration/V3_add_email.sql"),
        ("flyway", "db/migration/v3__add_email.sql"),
        ("flyway", "db/migration/add_email.sql"),
        ("golang-migrate", "migrations/000003_add_email.sql"),
        ("dbmate", "db/migrations/add_email.sql"),
        ("goose", "migrations/add_email.sql"),
    ],
)
def test_names_the_tool_skips_are_flagged(tool: str, path: str) -> None:
    assert rules(tool, path) == [RULE]


@pytest.mark.parametrize(
    ("tool", "path"),
    [
        ("flyway", "db/migration/V3__add_email.sql"),
        ("flyway", "db/migration/V1.2.3__add_email.sql"),
        ("flyway", "db/migration/R__refresh_views.sql"),
        ("flyway", "db/migration/U3__add_email.sql"),
        ("golang-migrate", "migrations/000003_add_email.up.sql"),
        ("dbmate", "db/migrations/20240514102133_add_email.sql"),
        ("goose", "migrations/00003_add_email.sql"),
        ("sql", "migrations/anything.sql"),
    ],
)
def test_accepted_names_are_quiet(tool: str, path: str) -> None:
    assert rules(tool, path) == []


def test_flyway_message_says_what_is_wrong_and_follows_configured_naming() -> None:
    migration = parse_migration("db/migration/V3_add_email.sql", ADD, "flyway", None)
    assert migration is not None
    (finding,) = analyse(migration, config(select=[RULE]))
    assert "separated by `__`" in finding.message
    assert finding.start == (0, 0) and finding.end == (0, len(ADD) - 1)
    custom = {"sqlMigrationPrefix": "M", "sqlMigrationSeparator": "-"}
    assert rules("flyway", "db/migration/M3-add_email.sql", custom) == []
    assert rules("flyway", "db/migration/V3__add_email.sql", custom) == [RULE]


def test_cli_checks_files_flyway_would_skip(tmp_path: Path) -> None:
    (tmp_path / "flyway.conf").write_text("flyway.locations=filesystem:sql\n")
    sql = tmp_path / "sql"
    sql.mkdir()
    (sql / "V1__create_users.sql").write_text("CREATE TABLE users (id bigint PRIMARY KEY);\n")
    (sql / "V2_add_email.sql").write_text(ADD)
    (sql / "README.md").write_text("notes\n")
    done = subprocess.run(
        [sys.executable, "-m", "migration_lsp", "check", str(tmp_path), "--format", "json"],
        capture_output=True,
        text=True,
        check=False,
    )
    found = {(Path(f["path"]).name, f["rule"]) for f in json.loads(done.stdout)}
    assert ("V2_add_email.sql", RULE) in found
    assert not any(name == "V1__create_users.sql" and rule == RULE for name, rule in found)
    assert not any(name == "README.md" for name, _ in found)


def test_xml_ignore_comments_silence_and_are_written_as_xml_comments() -> None:
    from migration_lsp.model import AddColumn, Column, Migration

    text = '<?xml version="1.0"?>\n<databaseChangeLog>\n  <addColumn/>\n</databaseChangeLog>\n'
    migration = Migration(
        path="db/changelog/1.xml", text=text, tool="liquibase", dialect=None, language="xml"
    )
    at = text.index("<addColumn")
    migration.operations.append(
        AddColumn(span=Span(at, at + 12), table="users", column=Column(name="email"))
    )
    line = ignore_edit(migration, "drop-column", Span(at, at + 1), whole_file=False)
    assert line.new_text == "  <!-- migration-lsp: ignore[drop-column] -->"
    whole = ignore_edit(migration, "drop-column", Span(at, at + 1), whole_file=True)
    assert whole.span.start == text.index("<databaseChangeLog")
    assert whole.new_text == "<!-- migration-lsp: ignore-file[drop-column] -->\n"
