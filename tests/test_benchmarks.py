"""The benchmark harness (`python -m benchmarks`): its inputs are deterministic and valid for
each tool, and the whole pipeline runs on tiny inputs. Never a timing assertion: timings are
the benchmark's output, not a property to test."""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # `pytest` run without `python -m`
    sys.path.insert(0, str(ROOT))

from benchmarks import gen_sql, run  # noqa: E402
from benchmarks.driver import edit_point  # noqa: E402
from benchmarks.gen_workspace import write_workspace  # noqa: E402
from benchmarks.results import Results, Row  # noqa: E402
from benchmarks.stats import Sample  # noqa: E402
from benchmarks.targets import at_most, growth, versus_squawk  # noqa: E402

from migration_lsp.engine import Workspace  # noqa: E402
from migration_lsp.project.detect import detect_projects  # noqa: E402

TOOLS = {"alembic", "django", "rails", "laravel", "knex", "prisma", "flyway", "golang-migrate"}


def tree(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in root.rglob("*") if p.is_file()}


def test_sql_file_has_the_requested_statements_in_the_issue_order() -> None:
    text = gen_sql.statements_sql(20)
    assert text == gen_sql.statements_sql(20)
    lines = text.splitlines()
    assert len(lines) == 20
    assert lines[0].startswith("ALTER TABLE") and "ADD COLUMN" in lines[0]
    assert "DEFAULT" in lines[0] and "NOT NULL" in lines[0]
    assert lines[1].startswith("CREATE INDEX")
    assert "FOREIGN KEY" in lines[2]
    assert " TYPE " in lines[3]
    assert "RENAME COLUMN" in lines[4]
    assert lines[5].startswith("CREATE TABLE IF NOT EXISTS")
    assert "DROP COLUMN IF EXISTS" in lines[6]
    assert lines[7].startswith("UPDATE")
    assert "RENAME COLUMN" in lines[gen_sql.edit_line(20)]


def test_sql_file_gives_one_and_a_half_findings_per_statement(tmp_path: Path) -> None:
    path = tmp_path / "migrations" / "0001_statements.sql"
    path.parent.mkdir()
    path.write_text(gen_sql.statements_sql(400), encoding="utf-8")
    findings = Workspace().check([path]).findings
    assert 1.4 <= len(findings) / 400 <= 1.6


def test_workspace_is_byte_identical_across_runs(tmp_path: Path) -> None:
    first = write_workspace(tmp_path / "a", 80)
    write_workspace(tmp_path / "b", 80)
    assert tree(tmp_path / "a") == tree(tmp_path / "b")
    assert set(first.files) == TOOLS
    assert first.count == 80


def test_workspace_projects_are_detected_and_every_file_parses(tmp_path: Path) -> None:
    generated = write_workspace(tmp_path, 80)
    assert {p.tool for p in detect_projects(tmp_path)} == TOOLS
    result = Workspace().check([tmp_path])
    assert result.files_checked >= generated.count
    broken = [f.path for f in result.findings if f.rule == "migration-parse-error"]
    assert broken == []


def test_edit_point_types_inside_a_string_literal() -> None:
    text = "def upgrade():\n    op.add_column('orders', sa.Column('note'))\n    pass\n"
    point = edit_point(text)
    line = text.split("\n")[point.line]
    assert line[point.column - 1] == "'"


def test_targets_pass_fail_and_timeouts() -> None:
    results = Results()
    results.add("fast", Row("g", "fast", Sample([0.004, 0.006, 0.005])))
    results.add("slow", Row("g", "slow", Sample([0.050, 0.060])))
    results.add("hung", Row("g", "hung", Sample([], timeouts=1)))
    results.add("big", Row("g", "big", Sample([0.5]), squawk=Sample([1.0])))
    assert at_most("fast", 0.010)(results).status == "PASS"
    assert at_most("slow", 0.010)(results).status == "FAIL"
    assert at_most("hung", 0.010)(results).status == "FAIL"
    assert at_most("absent", 0.010)(results).status == "N/A"
    assert versus_squawk("big", 1)(results).status == "PASS"
    assert growth("fast", "slow", 12)(results).status == "PASS"
    assert growth("fast", "hung", 12)(results).status == "FAIL"


def test_harness_runs_end_to_end_on_tiny_inputs(tmp_path: Path) -> None:
    output = tmp_path / "results.md"
    code = run.main(
        ["--tiny", "--only", "sql,cli", "--cache", str(tmp_path), "--output", str(output)]
    )
    assert code == 0
    text = output.read_text(encoding="utf-8")
    assert "## Machine" in text and "## Targets (issue 9)" in text
    assert "first diagnostics after didOpen, new server (pull)" in text
    assert "check 16-statement SQL file" in text
    assert "findings per statement (16 statements)" in text
