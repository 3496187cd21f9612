"""Typing in a SQL migration re-runs only the rules the keystroke can change, and reports exactly
what a full analysis reports: same findings, places, messages and severities, whatever is typed
(statements split or merged, tables created, transactions opened, ignore comments written)."""

from __future__ import annotations

import random
import re
from pathlib import Path

import pytest

from migration_lsp.engine import Analysis, analyse_document
from migration_lsp.findings import Finding
from migration_lsp.model import Severity
from migration_lsp.parse import sql_incremental
from migration_lsp.project.config import Config
from migration_lsp.project.detect import Project

STATEMENTS = (
    "ALTER TABLE t{i} ADD COLUMN c{i} timestamp DEFAULT now() NOT NULL;",
    "CREATE INDEX idx_t{i}_c ON t{i} (c);",
    "ALTER TABLE t{i} ADD CONSTRAINT fk_t{i}_u FOREIGN KEY (user_id) REFERENCES users (id);",
    "ALTER TABLE t{i} ALTER COLUMN c TYPE bigint;",
    "ALTER TABLE t{i} RENAME COLUMN a TO b{i};",
    "CREATE TABLE IF NOT EXISTS t{i} (id serial PRIMARY KEY, at timestamp NOT NULL);",
    "ALTER TABLE t{i} DROP COLUMN IF EXISTS old{i};",
    "UPDATE t{i} SET x = 'on' WHERE y = {i};",
)
STATEMENT_PIECES = (
    "BEGIN;\n",
    "COMMIT;\n",
    "SET lock_timeout = '2s';\n",
    "CREATE TABLE t3 (id int);\n",
    "ALTER TABLE t3 RENAME TO t9;\n",
    "CREATE INDEX CONCURRENTLY k ON t1 (a);\n",
    "CREATE UNIQUE INDEX u ON t2 (a);\n",
    "UPDATE t1 SET a = 1;\n",
    "-- migration-lsp: ignore[drop-column]\n",
    "-- migration-lsp: ignore\n",
    "ALTER TABLE t5 ADD COLUMN a_name_that_is_far_too_long_for_postgresql_to_keep_as_it_is int;\n",
)
"""Whole lines, inserted at a line start: the file stays valid SQL."""
BREAKING = (*"abc ;'\n\r-($", "; ", "--", ";\n", "/*")
"""Anything at any place: often a syntax error, undone at the next step."""
TOOLS = {
    "flyway": ("sql", "V2__change.sql"),
    "golang-migrate": ("migrations", "000002_change.up.sql"),
    "dbmate": ("db/migrations", "20240101000000_change.sql"),
    "sql": ("migrations", "002_change.sql"),
}


def sql_file(count: int, tool: str) -> str:
    body = "\n".join(STATEMENTS[i % len(STATEMENTS)].format(i=i) for i in range(count)) + "\n"
    if tool == "dbmate":
        return f"-- migrate:up\n{body}\n-- migrate:down\nDROP TABLE t1;\nDROP INDEX idx_t1_c;\n"
    return body


def seen(findings: list[Finding]) -> list[tuple[object, ...]]:
    """Everything a user sees of the findings, in order."""
    return [
        (f.rule, f.message, f.severity, f.span, f.scope, f.start, f.end, f.path) for f in findings
    ]


def project_for(tmp_path: Path, tool: str) -> tuple[Project, Path]:
    folder, name = TOOLS[tool]
    path = tmp_path / folder / name
    path.parent.mkdir(parents=True, exist_ok=True)
    return Project(tool=tool, root=tmp_path, migration_dirs=[path.parent]), path


def edit(rng: random.Random, text: str) -> str:
    """A keystroke-sized change that keeps the file valid: a letter typed in a word, a line
    added or removed."""
    lines = text.splitlines(keepends=True)
    at = rng.randrange(len(lines))
    roll = rng.random()
    if roll < 0.4:
        line = lines[at]
        places = [m.end() for m in re.finditer(r"\bt\d+|'o", line)]  # table names, strings
        if places:
            i = rng.choice(places)
            lines[at] = line[:i] + rng.choice("xyz_7") + line[i:]
    elif roll < 0.7:
        lines.insert(at, rng.choice(STATEMENT_PIECES))
    elif len(lines) > 3:
        del lines[at]
    return "".join(lines)


def scramble(rng: random.Random, text: str) -> str:
    at = rng.randrange(len(text) + 1)
    if rng.random() < 0.3 and text:
        return text[:at] + text[at + rng.randrange(1, 12) :]
    return text[:at] + rng.choice(BREAKING) + text[at:]


@pytest.mark.parametrize(
    ("tool", "newline"), [(tool, "\n") for tool in sorted(TOOLS)] + [("flyway", "\r\n")]
)
@pytest.mark.parametrize("check_downgrade", [False, True])
def test_edits_report_what_a_full_analysis_reports(
    tmp_path: Path, tool: str, newline: str, check_downgrade: bool
) -> None:
    rng = random.Random(f"{tool}{check_downgrade}{newline}")
    project, path = project_for(tmp_path, tool)
    project.dialect = "postgresql"
    config = Config(
        check_downgrade=check_downgrade,
        severity={"prefer-robust-statements": Severity.ERROR},
    )
    text = sql_file(40, tool).replace("\n", newline)
    previous: Analysis | None = None
    reused = narrowed = 0
    for step in range(120):
        if step % 5 == 4:  # a stray keystroke, undone at the next step
            texts = [scramble(rng, text), text]
        else:
            text = edit(rng, text)
            texts = [text]
        for text in texts:
            if step % 7 == 0:
                sql_incremental.forget()  # a fresh parse: sources are equal, not shared
            edited = analyse_document(str(path), text, project, config, edited=previous)
            full = analyse_document(str(path), text, project, config)
            assert seen(edited.findings) == seen(full.findings), (step, text)
            assert edited.trace is not None
            reused += len(edited.trace.runs) - len(edited.trace.rerun)
            narrowed += len(edited.trace.narrowed)
            previous = edited
    assert reused > 300  # the comparisons above covered findings carried over edits
    assert narrowed > 20  # and rules that judged only the edited operations


def typed_in_the_second_half(tmp_path: Path, tool: str, after: str) -> Analysis:
    """The analysis of a 200-statement file of `tool` after an `x` is typed right after the
    first `after` in its second half (re-linted from the file's analysis), checked against
    a full analysis of the typed text."""
    project, path = project_for(tmp_path, tool)
    project.dialect = "postgresql"
    config = Config()
    text = sql_file(200, tool)
    first = analyse_document(str(path), text, project, config, edited=None)
    at = text.index(after, len(text) // 2) + len(after)
    typed = text[:at] + "x" + text[at:]
    again = analyse_document(str(path), typed, project, config, edited=first)
    assert seen(again.findings) == seen(
        analyse_document(str(path), typed, project, config).findings
    )
    assert again.trace is not None
    return again


def test_an_edit_in_one_statement_reruns_only_the_rules_that_read_its_kind(
    tmp_path: Path,
) -> None:
    again = typed_in_the_second_half(tmp_path, "flyway", "SET x = 'o")
    assert again.trace is not None
    rerun = set(again.trace.rerun)
    # it reads the UPDATE that changed, and judges just that one
    assert "unbatched-data-update" in again.trace.narrowed
    for untouched in ("non-concurrent-index", "change-column-type", "rename-column"):
        assert untouched not in rerun | set(again.trace.narrowed)
        assert untouched in {f.rule for f in again.findings}
    assert len(rerun) + len(again.trace.narrowed) < len(again.trace.runs) // 2


def test_rules_about_the_whole_file_keep_their_findings_over_an_edit_elsewhere(
    tmp_path: Path,
) -> None:
    """The lock-timeout, mixed-change and held-lock rules depend on a few facts (the first
    unguarded lock, which units change the schema, whether anything runs in a transaction):
    typing in a later statement leaves them, and they do not run again."""
    again = typed_in_the_second_half(tmp_path, "sql", "RENAME COLUMN a TO b")
    assert again.trace is not None
    rerun = set(again.trace.rerun)
    assert "rename-column" in again.trace.narrowed  # it judged the one edited rename
    for whole_file in (
        "missing-lock-timeout",
        "mixed-schema-and-data-change",
        "statements-after-access-exclusive",
    ):
        assert whole_file not in rerun
    rules = {f.rule for f in again.findings}
    assert {"missing-lock-timeout", "mixed-schema-and-data-change"} <= rules


@pytest.mark.parametrize(
    ("text", "typed", "appears", "goes"),
    [
        (  # the first schema change makes the earlier UPDATE a mixed change
            "UPDATE t1 SET a = 1;\nUPDATE t2 SET a = 2;\n",
            "UPDATE t1 SET a = 1;\nUPDATE t2 SET a = 2;\nALTER TABLE t1 ADD COLUMN z int;\n",
            "mixed-schema-and-data-change",
            None,
        ),
        (  # a lock_timeout typed before the first lock
            "SELECT 1;\nALTER TABLE t1 ADD COLUMN z int;\n",
            "SET lock_timeout = '2s';\nALTER TABLE t1 ADD COLUMN z int;\n",
            None,
            "missing-lock-timeout",
        ),
        (  # a transaction opened: the lock is now held while the UPDATE runs
            "ALTER TABLE t1 ADD COLUMN z int;\nUPDATE t1 SET z = 1;\nCOMMIT;\n",
            "BEGIN;\nALTER TABLE t1 ADD COLUMN z int;\nUPDATE t1 SET z = 1;\nCOMMIT;\n",
            "statements-after-access-exclusive",
            None,
        ),
    ],
)
def test_an_edit_that_changes_a_whole_file_fact_changes_the_findings(
    tmp_path: Path, text: str, typed: str, appears: str | None, goes: str | None
) -> None:
    project, path = project_for(tmp_path, "sql")
    project.dialect = "postgresql"
    config = Config()
    first = analyse_document(str(path), text, project, config, edited=None)
    again = analyse_document(str(path), typed, project, config, edited=first)
    before, after = {f.rule for f in first.findings}, {f.rule for f in again.findings}
    if appears:
        assert appears not in before
        assert appears in after
    if goes:
        assert goes in before
        assert goes not in after
    assert seen(again.findings) == seen(
        analyse_document(str(path), typed, project, config).findings
    )


def test_a_new_table_earlier_in_the_file_changes_the_findings_after_it(tmp_path: Path) -> None:
    """Creating a table makes later statements on it free of lock warnings: the rules that
    asked whether a table is new run again."""
    project, path = project_for(tmp_path, "flyway")
    project.dialect = "postgresql"
    config = Config()
    text = "SELECT 1;\nCREATE INDEX i ON t (a);\nALTER TABLE t ALTER COLUMN a TYPE bigint;\n"
    first = analyse_document(str(path), text, project, config, edited=None)
    assert {"non-concurrent-index", "change-column-type"} <= {f.rule for f in first.findings}
    typed = text.replace("SELECT 1;", "CREATE TABLE t (a int);")
    again = analyse_document(str(path), typed, project, config, edited=first)
    rules = {f.rule for f in again.findings}
    assert "non-concurrent-index" not in rules
    assert "change-column-type" not in rules
    assert seen(again.findings) == seen(
        analyse_document(str(path), typed, project, config).findings
    )


def test_diagnostics_sent_after_edits_are_those_of_the_findings(tmp_path: Path) -> None:
    """The language server reuses the JSON of diagnostics an edit left in place: after each
    keystroke, and after a change of settings, what it sends is exactly the encoding of the
    current findings."""
    import json

    from migration_lsp.lsp.convert import diagnostic_json
    from migration_lsp.lsp.server import MigrationServer

    server = MigrationServer()
    (tmp_path / "flyway.conf").write_text("flyway.locations=filesystem:sql\n")
    _, path = project_for(tmp_path, "flyway")
    rng = random.Random(3)
    text = sql_file(60, "flyway")
    path.write_text(text)
    server.session.set_folders([tmp_path])
    server.session.detect()
    uri = path.as_uri()
    reused = 0
    for version in range(40):
        if version == 20:  # new settings: what was encoded under the old ones is stale
            server.session.set_settings({"severity": {"non-concurrent-index": "error"}})
        text = edit(rng, text)
        document = server.session.analyse(uri, path, text, version)
        assert document.analysis.findings
        before = {id(f) for f in document.analysis.findings if f.memo is not None}
        sent = json.loads(server.diagnostics_json(document))
        positions = server.positions(document)
        assert sent == [diagnostic_json(f, positions) for f in document.analysis.findings]
        reused += len(before)
    assert reused > 100  # diagnostics kept or moved by edits were sent from their old JSON
