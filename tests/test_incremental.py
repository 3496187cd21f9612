"""Typing in a big file re-reads only what the keystroke changed, and finds what a full read
finds: SQL statements re-parsed one at a time, the history graph and git answers kept between
keystrokes, the fix builders' questions answered from one index per file."""

from __future__ import annotations

import random
import subprocess
from pathlib import Path

import pytest

from migration_lsp.findings import Finding
from migration_lsp.fixes import base
from migration_lsp.history.graph import build_history
from migration_lsp.lsp import snapshot
from migration_lsp.lsp.session import Session
from migration_lsp.model import (
    Migration,
    Operation,
    OtherStatement,
    SetSetting,
    Severity,
    Step,
    TransactionControl,
)
from migration_lsp.parse import sql_incremental
from migration_lsp.parse.sql import SqlResult, TransactionMode, parse_sql, parse_sql_document
from migration_lsp.project.detect import Project

STATEMENTS = (
    "ALTER TABLE t{i} ADD COLUMN c{i} integer DEFAULT 0 NOT NULL;",
    "CREATE INDEX idx_t{i}_c ON t{i} (c);",
    "ALTER TABLE t{i} ADD CONSTRAINT fk_t{i}_u FOREIGN KEY (user_id) REFERENCES users (id);",
    "ALTER TABLE t{i} ALTER COLUMN c TYPE bigint;",
    "ALTER TABLE t{i} RENAME COLUMN a TO b{i};",
    "CREATE TABLE IF NOT EXISTS t{i} (id bigint PRIMARY KEY, name text NOT NULL);",
    "ALTER TABLE t{i} DROP COLUMN IF EXISTS old{i};",
    "UPDATE t{i} SET x = 1 WHERE y = {i};",
)

TRICKY = (
    "DO $$ BEGIN UPDATE t SET a = 1; ALTER TABLE x ADD COLUMN y int; END $$;\nSELECT 1;\n",
    "SELECT 'a;b'; /* c; */ UPDATE t SET x = 'y';\n-- ; comment\nCREATE INDEX i ON t (a);\n",
    "BEGIN;\nALTER TABLE a ADD COLUMN b int NOT NULL DEFAULT 1;\nCOMMIT;\n"
    "CREATE INDEX CONCURRENTLY i ON a (b);\n",
    "CREATE FUNCTION f() RETURNS trigger AS $body$ BEGIN NEW.a := 1; RETURN NEW; END $body$"
    " LANGUAGE plpgsql;\nCREATE INDEX j ON a (c);\n",
    "UPDATE t SET x = 'unterminated; ALTER TABLE a DROP COLUMN b;\n",
    "ALTER TABLE t ADD COLUMN",
    "CREATE TABLE t (a int);\nALTER TABLE t",
)
PIECES = (
    *"abc ;'\"$()\n-/*,",
    "$a$",
    "$a;b$",
    ";$",
    "; ",
    "$$",
    "--",
    "/*",
    "*/",
    ";\n",
    "CREATE INDEX i ON t (a);",
    "UPDATE t SET a = 1;",
)


def sql_file(count: int) -> str:
    return "\n".join(STATEMENTS[i % len(STATEMENTS)].format(i=i) for i in range(count)) + "\n"


def summary(result: SqlResult) -> tuple[list[str], list[str], int]:
    """Everything rules read from a parse: the operations (spans, transaction flags included),
    the problems, and how many statements there are."""
    return (
        [repr(op) for op in result.operations],
        sorted(repr(p) for p in result.problems),
        len(result.statements),
    )


def from_scratch(
    text: str, dialect: str, transaction: TransactionMode, offset: int = 0
) -> SqlResult:
    positions = range(offset, offset + len(text) + 1) if offset else None
    return parse_sql(text, dialect, positions=positions, transaction=transaction)


@pytest.fixture(autouse=True)
def _fresh() -> None:
    sql_incremental.forget()


# --------------------------------------------------------------------------- SQL statements


@pytest.mark.parametrize("dialect", ["postgresql", "mysql"])
def test_random_edits_parse_as_a_full_parse_does(dialect: str) -> None:
    rng = random.Random(9)
    for text in (*TRICKY, sql_file(40)):
        sql_incremental.forget()
        current = text
        for _ in range(80):
            if current and rng.random() < 0.4:
                start = rng.randrange(len(current))
                current = current[:start] + current[start + rng.randrange(1, 12) :]
            else:
                at = rng.randrange(len(current) + 1)
                current = current[:at] + rng.choice(PIECES) + current[at:]
            mode: TransactionMode = rng.choice(["never", "always", "multi"])
            incremental = parse_sql_document(current, dialect, transaction=mode)
            assert summary(incremental) == summary(from_scratch(current, dialect, mode)), current


@pytest.mark.parametrize("block", [16_384, 24])
def test_dollar_quotes_read_ahead_past_statement_ends(
    block: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`$tag$` makes the tokenizer look past a `;` (and the end of the text changes what it
    decides): statements next to a `$` are re-read with what follows them."""
    monkeypatch.setattr(sql_incremental, "_BLOCK", block)
    pairs = [
        ("b'C;_c", "$a;b$b'C;_c"),
        ("$a;\nSELECT 1;\n", "$a;b$ x $a;b$;\nSELECT 1;\n"),
        ("$a;b\n$", "$a;b"),
    ]
    rng = random.Random(4)
    pieces = ("$", "$a$", "$a;b$", ";", "; ", "\n", "x", "'", "$$", " ")
    for _ in range(400):
        before = "".join(rng.choice(pieces) for _ in range(rng.randrange(1, 9)))
        at = rng.randrange(len(before) + 1)
        pairs.append((before, before[:at] + rng.choice(pieces) + before[at:]))
    for before, after in pairs:
        sql_incremental.forget()
        parse_sql_document(before, "postgresql")
        got = parse_sql_document(after, "postgresql", transaction="never")
        assert summary(got) == summary(from_scratch(after, "postgresql", "never")), (
            before,
            after,
        )


def test_long_files_are_cut_into_blocks_the_same_way(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sql_incremental, "_BLOCK", 40)  # many blocks, cut mid-literal too
    text = "".join(TRICKY[:4]) + sql_file(30) + "SELECT '\n;\n' || $x$ ; $x$;\n"
    for offset in (0, 17):
        document = parse_sql_document(text, "postgresql", offset=offset, transaction="never")
        assert summary(document) == summary(from_scratch(text, "postgresql", "never", offset))


def test_a_one_line_edit_parses_one_statement() -> None:
    text = sql_file(200)
    first = parse_sql_document(text, "postgresql", transaction="never")
    lines = text.split("\n")
    lines[100] = lines[100].replace("t100", "accounts")
    edited = "\n".join(lines)
    parsed, tokenized = sql_incremental.COUNTERS.parsed, sql_incremental.COUNTERS.tokenized
    second = parse_sql_document(edited, "postgresql", transaction="never")
    assert sql_incremental.COUNTERS.parsed - parsed == 1
    assert sql_incremental.COUNTERS.tokenized - tokenized <= 2 * len(lines[100]) + 2
    assert summary(second) == summary(from_scratch(edited, "postgresql", "never"))
    # the statements before the edit are the very same objects, those after moved copies
    assert second.statements[0].operations[0] is first.statements[0].operations[0]
    assert second.statements[150].operations[0] is not first.statements[150].operations[0]


def test_operations_handed_out_are_never_changed_afterwards() -> None:
    text = sql_file(16)
    never = parse_sql_document(text, "postgresql", transaction="never")
    flags = [op.in_transaction for op in never.operations]
    always = parse_sql_document(text, "postgresql", transaction="always")
    assert all(op.in_transaction for op in always.operations)
    assert [op.in_transaction for op in never.operations] == flags == [False] * len(flags)


def test_an_unterminated_string_then_closing_it_reuses_the_statements_after() -> None:
    text = sql_file(60)
    parse_sql_document(text, "postgresql")
    at = text.index("UPDATE t7 SET x = 1") + len("UPDATE t7 SET x = ")
    broken = text[:at] + "'" + text[at:]
    assert parse_sql_document(broken, "postgresql").problems
    parsed = sql_incremental.COUNTERS.parsed
    fixed = text[:at] + "'1'" + text[at + 1 :]
    assert summary(parse_sql_document(fixed, "postgresql", transaction="never")) == summary(
        from_scratch(fixed, "postgresql", "never")
    )
    assert sql_incremental.COUNTERS.parsed - parsed <= 2


# --------------------------------------------------------------------------- history and git


def _alembic_project(root: Path, count: int) -> Path:
    versions = root / "alembic" / "versions"
    versions.mkdir(parents=True)
    (root / "alembic.ini").write_text("[alembic]\nscript_location = %(here)s/alembic\n")
    (root / "alembic" / "env.py").write_text("from alembic import context\n")
    parent = None
    for i in range(count):
        revision = f"{i + 1:012x}"
        (versions / f"{revision}_step_{i}.py").write_text(
            f'"""step {i}"""\nfrom alembic import op\n\nrevision = {revision!r}\n'
            f"down_revision = {parent!r}\nbranch_labels = None\ndepends_on = None\n\n\n"
            f"def upgrade():\n    op.add_column('t', sa.Column('c{i}', sa.Integer()))\n\n\n"
            f"def downgrade():\n    op.drop_column('t', 'c{i}')\n"
        )
        parent = revision
    subprocess.run(["git", "init", "-q", "-b", "main"], cwd=root, check=True)
    subprocess.run(["git", "add", "."], cwd=root, check=True)
    subprocess.run(
        ["git", "-c", "user.email=t@t", "-c", "user.name=t", "commit", "-qm", "init"],
        cwd=root,
        check=True,
    )
    return versions / f"{count:012x}_step_{count - 1}.py"


def test_keystrokes_read_neither_the_folders_nor_git(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    last = _alembic_project(tmp_path, 30)
    monkeypatch.setattr(snapshot, "DISK_RECHECK_SECONDS", 3600.0)
    monkeypatch.setattr(snapshot, "APPLIED_RECHECK_SECONDS", 3600.0)
    session = Session()
    session.set_folders([tmp_path])
    text = last.read_text()
    first = session.analyse(last.as_uri(), last, text, 1)
    history = session.history(first.project)  # type: ignore[arg-type]

    listings: list[Project] = []
    listing = Project.migration_files
    monkeypatch.setattr(
        Project, "migration_files", lambda self: listings.append(self) or listing(self)
    )
    asked: list[object] = []
    monkeypatch.setattr(session.workspace, "applied", lambda *args: asked.append(args) or None)
    for version in range(2, 7):
        text += f"\n# note {version}\n"
        document = session.analyse(last.as_uri(), last, text, version)
        assert document.analysis.migration is not None
        # the ids did not change: the same graph, with everything it worked out
        assert session.history(first.project) is history  # type: ignore[arg-type]
    assert listings == [] and asked == []

    text = text.replace("revision = '00000000001e'", "revision = 'ffffffffffff'")
    session.analyse(last.as_uri(), last, text, 9)
    changed = session.history(first.project)  # type: ignore[arg-type]
    assert changed is not history and changed.node("ffffffffffff") is not None


def test_the_graph_from_a_snapshot_is_the_graph_from_the_files(tmp_path: Path) -> None:
    last = _alembic_project(tmp_path, 5)
    session = Session()
    session.set_folders([tmp_path])
    (found,) = session.projects
    read = snapshot.DiskSnapshot.read(found, 0)
    new_file = last.parent / "ffffffffffff_new.py"
    for buffers in (
        {},
        {last: last.read_text() + "\n# edited\n"},
        {last: "def broken(:\n", new_file: "revision = 'ffffffffffff'\ndown_revision = None\n"},
    ):
        expected = build_history(found, buffers)
        got = read.history(buffers)
        assert got.nodes == expected.nodes and got.texts == expected.texts


# --------------------------------------------------------------------------- fix builders


def test_the_fix_builders_index_answers_as_a_scan_of_every_operation() -> None:
    text = "".join(TRICKY[:4]) + sql_file(24) + "BEGIN;\nCREATE INDEX k ON t (a);\nCOMMIT;\n"
    parsed = parse_sql_document(text, "postgresql", transaction="never")
    migration = Migration(
        path="V1__x.sql", text=text, tool="flyway", dialect="postgresql", language="sql"
    )
    migration.operations = parsed.operations
    for op in migration.operations:
        scanned_inside = any(
            isinstance(o, OtherStatement) and o.span.contains(op.span) and o.span != op.span
            for o in migration.operations
        )
        assert base.inside_other_statement(migration, op) == scanned_inside
        assert base.in_explicit_transaction(migration, op) == _explicit_by_scan(migration, op)
        for neutral in (True, False):
            assert base.other_statements(
                migration, op, neutral_settings=neutral
            ) == _others_by_scan(migration, op, neutral)
        finding = Finding(rule="r", message="", span=op.span, severity=Severity.INFO)
        assert base.operation_for(finding, migration, type(op)) is next(
            o for o in migration.operations if isinstance(o, type(op)) and o.span == op.span
        )


def _explicit_by_scan(migration: Migration, op: Operation) -> bool:
    explicit = False
    ordered = sorted(
        (o for o in migration.operations if o.step is op.step), key=lambda o: o.span.start
    )
    for other in ordered:
        if other is op:
            return explicit
        if isinstance(other, TransactionControl):
            if other.kind == "begin":
                explicit = True
            elif other.kind in ("commit", "rollback"):
                explicit = False
    return False


def _others_by_scan(migration: Migration, op: Operation, neutral: bool) -> int:
    spans = {
        (o.span.start, o.span.end)
        for o in migration.operations
        if o.step is op.step
        and not (o.span.start < op.span.end and op.span.start < o.span.end)
        and not (neutral and isinstance(o, SetSetting) and not o.local)
    }
    return len(spans)


def test_step_is_part_of_what_a_statement_means() -> None:
    up = parse_sql_document("CREATE INDEX i ON t (a);\n", "postgresql")
    down = parse_sql_document("CREATE INDEX i ON t (a);\n", "postgresql", step=Step.DOWN)
    assert up.operations[0].step is Step.UP and down.operations[0].step is Step.DOWN
