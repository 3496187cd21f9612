"""The `migration-lsp` command line as CI and users run it: findings, formats, exit codes, and
bad input that must become a clear finding or message, never a traceback."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from migration_lsp.cli import main

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples"

ALEMBIC_HEADER = '''"""{message}

Revision ID: {rev}
Revises: 1a2b3c4d5e6f
Create Date: 2026-05-01 12:00:00.000000

"""
from alembic import op
import sqlalchemy as sa


revision = '{rev}'
down_revision = '1a2b3c4d5e6f'
branch_labels = None
depends_on = None

'''


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def alembic_project(tmp_path: Path, files: dict[str, str | bytes]) -> Path:
    """A project laid out as `alembic init` writes it, with the given revision files."""
    (tmp_path / "alembic.ini").write_text(
        "[alembic]\nscript_location = %(here)s/alembic\n"
        "sqlalchemy.url = postgresql://app@localhost/app\n"
    )
    versions = tmp_path / "alembic" / "versions"
    versions.mkdir(parents=True)
    (tmp_path / "alembic" / "env.py").write_text(
        "from alembic import context\n\ncontext.configure()\n"
    )
    for name, content in files.items():
        target = versions / name
        if isinstance(content, bytes):
            target.write_bytes(content)
        else:
            target.write_text(content, encoding="utf-8")
    return versions


def revision(rev: str, body: str, message: str = "change") -> str:
    return ALEMBIC_HEADER.format(rev=rev, message=message) + body


# --------------------------------------------------------------------------- the examples


def test_examples_report_findings_in_several_tools(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(ROOT)
    code, out, _ = run(capsys, "check", "examples", "--format", "json")
    assert code == 1
    findings = json.loads(out)
    by_folder = {f["path"].split("/")[1] for f in findings}
    assert {
        "billing-api",
        "shop",
        "ledger",
        "events",
        "storefront",
        "crm",
        "warehouse",
    } <= by_folder
    rules = {(f["path"].rsplit("/", 1)[-1], f["rule"]) for f in findings}
    assert ("4e2d8b6a0c93_add_invoice_due_date.py", "add-not-null-column-without-default") in rules
    assert ("9b7f1d2c4a60_backfill_paid_at.py", "update-with-limit") in rules
    assert ("9b7f1d2c4a60_backfill_paid_at.py", "execute-result-used") in rules
    assert ("V2__add_account_limits.sql", "concurrent-index-in-transaction") in rules
    assert ("000003_events_account.up.sql", "concurrent-index-in-transaction") in rules
    assert ("20240402110000_remove_sku_from_products.rb", "irreversible-change") in rules
    assert (
        "2024_04_10_120000_add_company_to_contacts_table.php",
        "add-not-null-column-without-default",
    ) in rules
    assert ("002-stock-cleanup.xml", "changeset-without-rollback") in rules
    assert ("0003_product_slug.py", "runpython-without-reverse") in rules
    # the migration that does it right stays quiet
    assert not any(f["path"].endswith("c3a0e5f9d817_index_invoices_status.py") for f in findings)
    assert not any(f["path"].endswith("000002_index_event_kind.up.sql") for f in findings)
    for finding in findings:
        assert set(finding) == {"path", "rule", "severity", "message", "start", "end", "fix", "url"}
        assert finding["start"]["line"] >= 1 and finding["start"]["column"] >= 1


def test_text_output_lines_and_summary(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(ROOT)
    code, out, _ = run(capsys, "check", "examples/ledger", "--no-color")
    assert code == 1
    lines = out.splitlines()
    assert (
        "examples/ledger/db/migration/V2__add_account_limits.sql:2:33: error "
        "add-not-null-column-without-default" in "\n".join(lines)
    )
    assert lines[-1].startswith("Found ") and "in 2 of 3 files" in lines[-1]


def test_exit_zero_and_select(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(ROOT)
    code, out, _ = run(capsys, "check", "examples", "--exit-zero")
    assert code == 0 and "Found" in out
    code, out, _ = run(capsys, "check", "examples", "--select", "rename-column", "--format", "json")
    findings = json.loads(out)
    assert code == 1
    assert {f["rule"] for f in findings} == {"rename-column"}
    code, out, _ = run(capsys, "check", "examples", "--ignore", "ALL", "--format", "json")
    assert json.loads(out) == [] and code == 0


def test_unknown_rule_on_command_line_is_a_usage_error(
    capsys: pytest.CaptureFixture[str],
) -> None:
    code, out, err = run(capsys, "check", str(EXAMPLES), "--select", "non-concurent-index")
    assert code == 2
    assert "unknown rule id 'non-concurent-index'" in err
    assert "did you mean 'non-concurrent-index'" in err
    assert out == ""


def test_config_error_names_file_and_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    alembic_project(tmp_path, {"a1_x.py": revision("a1", "def upgrade():\n    pass\n")})
    (tmp_path / "pyproject.toml").write_text(
        '[project]\nname = "app"\n\n[tool.migration-lsp]\nignore = [\n  "drop-colum",\n]\n'
    )
    code, _, err = run(capsys, "check", str(tmp_path))
    assert code == 2
    assert f"{tmp_path / 'pyproject.toml'}:6:" in err
    assert "unknown rule id 'drop-colum'" in err


def test_missing_path_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(capsys, "check", "/no/such/place")
    assert code == 2 and "no such file or directory" in err


def test_rules_and_explain(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "rules", "--format", "json")
    ids = {r["id"] for r in json.loads(out)}
    assert code == 0 and {"non-concurrent-index", "missing-downgrade", "unused-ignore"} <= ids
    code, out, _ = run(capsys, "explain", "non-concurrent-index")
    assert code == 0
    for section in ("## What it does", "## Why is this bad?", "## Use instead", "## Fix safety"):
        assert section in out
    code, _, err = run(capsys, "explain", "no-such-rule")
    assert code == 2 and "unknown rule id" in err


def test_console_script_runs_as_a_process(tmp_path: Path) -> None:
    """The installed entry point, as CI calls it, with the exit code CI reads."""
    base = revision("1a2b3c4d5e6f", "def upgrade():\n    pass\n\n\ndef downgrade():\n    pass\n")
    base = base.replace("down_revision = '1a2b3c4d5e6f'", "down_revision = None")
    alembic_project(
        tmp_path,
        {
            "1a2b3c4d5e6f_base.py": base,
            "b2_drop.py": revision("b2", "def upgrade():\n    op.drop_column('users', 'nick')\n"),
        },
    )
    script = Path(sys.executable).with_name("migration-lsp")
    command = [str(script)] if script.exists() else [sys.executable, "-m", "migration_lsp"]
    proc = subprocess.run(
        [*command, "check", ".", "--format", "github"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "NO_COLOR": "1"},
    )
    assert proc.returncode == 1, proc.stderr
    assert proc.stdout.startswith("::warning file=alembic/versions/b2_drop.py,line=17,")
    assert "title=drop-column::" in proc.stdout
    assert "Traceback" not in proc.stderr


# --------------------------------------------------------------------------- bad input


def check_json(capsys: pytest.CaptureFixture[str], path: Path) -> list[dict[str, object]]:
    code, out, err = run(capsys, "check", str(path), "--format", "json")
    assert "Traceback" not in err
    findings: list[dict[str, object]] = json.loads(out)
    assert code in (0, 1)
    return findings


def test_python_syntax_error_is_one_finding_at_the_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    body = "def upgrade():\n    op.drop_column('users', 'nick'\n\ndef downgrade():\n    pass\n"
    alembic_project(tmp_path, {"c3_broken.py": revision("c3", body)})
    findings = check_json(capsys, tmp_path)
    assert [f["rule"] for f in findings] == ["migration-parse-error"]
    assert findings[0]["start"] == {"line": 18, "column": 19}
    assert "syntax error" in str(findings[0]["message"]).lower()


def test_half_typed_file_while_editing(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    body = "def upgrade():\n    op.add_column('users', sa.Column('email', sa.Str"
    alembic_project(tmp_path, {"d4_typing.py": revision("d4", body)})
    findings = check_json(capsys, tmp_path)
    assert [f["rule"] for f in findings] == ["migration-parse-error"]


def test_half_typed_sql_string_inside_python(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    body = 'def upgrade():\n    op.execute("UPDATE users SET name = \'x")\n'
    alembic_project(tmp_path, {"e5_sql.py": revision("e5", body)})
    findings = check_json(capsys, tmp_path)
    assert [f["rule"] for f in findings] == ["migration-parse-error"]
    assert findings[0]["start"] == {"line": 18, "column": 41}


def test_empty_file_is_quiet(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    alembic_project(tmp_path, {"f6_empty.py": ""})
    assert check_json(capsys, tmp_path) == []


def test_non_utf8_bytes(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    text = revision("g7", "def upgrade():\n    op.drop_column('users', 'n')  # caf\xe9\n")
    alembic_project(tmp_path, {"g7_latin1.py": text.encode("latin-1")})
    findings = check_json(capsys, tmp_path)
    assert [f["rule"] for f in findings] == ["migration-parse-error"]
    assert "not valid UTF-8" in str(findings[0]["message"])
    assert findings[0]["start"] == {"line": 18, "column": 40}


def test_utf8_bom_is_accepted(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    text = revision("h8", "def upgrade():\n    op.drop_column('users', 'n')\n")
    alembic_project(tmp_path, {"h8_bom.py": b"\xef\xbb\xbf" + text.encode()})
    findings = check_json(capsys, tmp_path)
    assert [f["rule"] for f in findings] == [
        "missing-downgrade",
        "missing-lock-timeout",
        "drop-column",
    ]


def test_binary_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    alembic_project(tmp_path, {"i9_blob.py": b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" * 20})
    findings = check_json(capsys, tmp_path)
    assert [f["rule"] for f in findings] == ["migration-parse-error"]
    assert "Binary file" in str(findings[0]["message"])


def test_oversized_file_is_skipped_with_one_info_finding(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    statement = "ALTER TABLE users DROP COLUMN nickname;\n"
    folder = tmp_path / "db" / "migration"
    folder.mkdir(parents=True)
    (folder / "V1__huge.sql").write_text(statement * (5 * 1024 * 1024 // len(statement) + 1))
    findings = check_json(capsys, tmp_path)
    assert len(findings) == 1
    assert findings[0]["severity"] == "info"
    assert "max-file-size" in str(findings[0]["message"])
    assert "5.0 MB" in str(findings[0]["message"])


def test_max_file_size_is_configurable(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    folder = tmp_path / "db" / "migration"
    folder.mkdir(parents=True)
    (folder / "V1__drop.sql").write_text("ALTER TABLE users DROP COLUMN nickname;\n")
    (tmp_path / "migration-lsp.toml").write_text("max-file-size = 10\n")
    findings = check_json(capsys, tmp_path)
    assert [(f["rule"], f["severity"]) for f in findings] == [("migration-parse-error", "info")]


def test_unreadable_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    alembic_project(tmp_path, {"j1_secret.py": revision("j1", "def upgrade():\n    pass\n")})
    original = Path.read_bytes

    def deny(self: Path) -> bytes:
        if self.name == "j1_secret.py":
            raise PermissionError(13, "Permission denied", str(self))
        return original(self)

    monkeypatch.setattr(Path, "read_bytes", deny)
    findings = check_json(capsys, tmp_path)
    assert [f["rule"] for f in findings] == ["migration-parse-error"]
    assert "Cannot read file: Permission denied" in str(findings[0]["message"])


def test_lone_file_outside_a_project(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    script = tmp_path / "hotfix.sql"
    script.write_text("CREATE INDEX idx_orders_user ON orders (user_id);\n")
    findings = check_json(capsys, script)
    assert [f["rule"] for f in findings] == ["missing-lock-timeout", "non-concurrent-index"]


def test_checking_the_migrations_folder_itself(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """CI jobs often point at the migrations folder, below the project's markers."""
    monkeypatch.chdir(ROOT)
    code, out, _ = run(capsys, "check", "examples/billing-api/migrations/versions", "--no-color")
    assert code == 1
    assert "9b7f1d2c4a60_backfill_paid_at.py" in out
    assert "examples/shop" not in out and "examples/ledger" not in out


def test_folder_without_migrations_says_so(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "app.py").write_text("print('hello')\n")
    code, out, err = run(capsys, "check", str(tmp_path))
    assert code == 0
    assert "No problems found in 0 files." in out
    assert "no migration project found" in err


def test_fix_applies_safe_fixes_and_reports_what_is_left(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = tmp_path / "migrations"
    folder.mkdir()
    up = folder / "000007_index_orders.up.sql"
    up.write_text("CREATE INDEX orders_user_idx ON orders (user_id);\n")
    (folder / "000007_index_orders.down.sql").write_text("DROP INDEX orders_user_idx;\n")
    code, out, err = run(capsys, "check", str(tmp_path), "--fix", "--format", "json")
    assert up.read_text() == (
        "CREATE INDEX CONCURRENTLY IF NOT EXISTS orders_user_idx ON orders (user_id);\n"
    )
    assert "Applied 1 fix(es) to 1 file(s)" in err
    assert json.loads(out) == []  # the .down.sql is not judged by the safety rules
    assert code == 0


def test_diff_shows_the_fix_and_changes_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    body = "def upgrade():\n    op.create_index('ix_users_email', 'users', ['email'])\n"
    versions = alembic_project(tmp_path, {"k1_index.py": revision("k1", body)})
    before = (versions / "k1_index.py").read_text()
    code, out, _ = run(capsys, "check", str(tmp_path), "--diff")
    assert (versions / "k1_index.py").read_text() == before
    assert code == 1
    assert "+++ b/" in out and "k1_index.py" in out
    assert "+    with op.get_context().autocommit_block():" in out
    assert "postgresql_concurrently=True" in out
    # the added downgrade needs review: only with --unsafe-fixes
    assert "def downgrade" not in out
    code, out, _ = run(capsys, "check", str(tmp_path), "--diff", "--unsafe-fixes")
    assert "+def downgrade():" in out


def test_fix_then_check_is_clean_for_what_was_fixed(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    body = "def upgrade():\n    op.create_index('ix_users_email', 'users', ['email'])\n"
    versions = alembic_project(tmp_path, {"m2_index.py": revision("m2", body)})
    run(capsys, "check", str(tmp_path), "--fix", "--unsafe-fixes")
    text = (versions / "m2_index.py").read_text()
    ast_ok = compile(text, "m2_index.py", "exec")
    assert ast_ok is not None
    _, out, _ = run(capsys, "check", str(tmp_path), "--format", "json")
    rules = {f["rule"] for f in json.loads(out)}
    assert not rules & {"non-concurrent-index", "missing-downgrade"}
