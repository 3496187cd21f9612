"""Rules with `subjects` (see `Rule.subjects`) judge only the operations an edit changed and keep
their other findings: typing in the statements they judge reports exactly what a full analysis
reports, and the narrowed path is really the one taken (`Trace.narrowed`)."""

from __future__ import annotations

import random
import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from migration_lsp.engine import Analysis, analyse_document
from migration_lsp.parse import sql_incremental
from migration_lsp.project.config import Config
from migration_lsp.rules.registry import BY_ID, RULES
from test_relint import project_for, seen

MARKED = frozenset(r.id for r in RULES if r.subjects)
"""The rules that judge operations one at a time."""
MARKED_PG = frozenset(r for r in MARKED if BY_ID[r].applies_to("postgresql"))

STATEMENTS = (
    "ALTER TABLE accounts{i} RENAME COLUMN name TO full_name{i};",
    "ALTER TABLE accounts{i} DROP COLUMN legacy{i};",
    "DROP TABLE audit{i}, audit_archive{i};",
    "TRUNCATE sessions{i};",
    "CREATE INDEX idx_orders{i}_user ON orders{i} (user_id);",
    "DROP INDEX idx_old{i};",
    "BEGIN;",
    "CREATE INDEX CONCURRENTLY idx_orders{i}_created ON orders{i} (created_at);",
    "DROP INDEX CONCURRENTLY idx_stale{i};",
    "ALTER TYPE mood{i} ADD VALUE 'happy{i}';",
    "COMMIT;",
    "ALTER TABLE users{i} ADD COLUMN status{i} text NOT NULL;",
    "ALTER TABLE users{i} ADD COLUMN token{i} uuid DEFAULT gen_random_uuid();",
    "ALTER TABLE users{i} ALTER COLUMN age{i} TYPE bigint;",
    "UPDATE users{i} SET active = true;",
    "DELETE FROM events{i} WHERE created_at < '2020-01-01' LIMIT 1000;",
    "ALTER TABLE orders{i} ADD COLUMN total{i} numeric GENERATED ALWAYS AS (price * 2) STORED;",
    "REINDEX INDEX idx_users{i}_email;",
    "ALTER TABLE measurements{i} DETACH PARTITION measurements{i}_y2020;",
    "REFRESH MATERIALIZED VIEW stats{i};",
    "VACUUM FULL users{i};",
    "CLUSTER users{i} USING users{i}_pkey;",
    "ALTER TABLE users{i} ALTER COLUMN email{i} DROP NOT NULL;",
    "DROP SCHEMA legacy{i} CASCADE;",
    "ALTER TABLE orders{i} DROP CONSTRAINT orders{i}_amount_check;",
    "CREATE DOMAIN positive{i} AS integer CHECK (VALUE > {i});",
    "ALTER DOMAIN positive{i} ADD CONSTRAINT positive{i}_max CHECK (VALUE < 100);",
    "ALTER TABLE users{i} ADD COLUMN"
    " notification_preferences_for_marketing_emails_and_sms_messages_v{i} jsonb;",
    "CREATE TABLE things{i} (id bigint PRIMARY KEY, seen_at timestamp, body json, code char(3));",
    "ALTER TABLE users{i} ALTER COLUMN nickname{i} TYPE varchar(100);",
    "ALTER TABLE users{i} ADD COLUMN logged_at{i} timestamp, ADD COLUMN meta{i} json;",
)
"""PostgreSQL statements each flagged by a rule with subjects (the BEGIN/COMMIT by
transaction-nesting where the runner opens a transaction, and around statements that cannot
run in one for the tools that do not)."""
PIECES = (
    *STATEMENTS,
    "CREATE TABLE users{i} (id bigint PRIMARY KEY);",
    "ALTER TABLE users{i} RENAME TO members{i};",
    "CREATE TABLE staging{i} (id bigint);\nALTER TABLE staging{i} RENAME TO users{i};",
    "SET lock_timeout = '2s';",
    "-- migration-lsp: ignore[drop-table]",
)
"""Whole lines added by the edits: statements of other kinds too (a table created makes later
statements on it harmless; a transaction opened changes the statements after it)."""
PLACES = re.compile(r"'([^'\r\n]*)'|([a-z_][a-z0-9_]*|\d+)")
"""Where a letter can be typed: at the end of an identifier (or type name), a number, or
inside a string."""
TYPED = ("x", "y", "_", "7", "b", "tz")
"""`json` → `jsonb`, `timestamp` → `timestamptz`: typing may also make a finding go."""

CONFIGS = [
    ("flyway", "\n", False, 17),
    ("flyway", "\r\n", False, 17),
    ("flyway", "\n", True, 10),
    ("golang-migrate", "\n", False, 17),
    ("dbmate", "\n", False, 17),
    ("dbmate", "\n", True, 17),
    ("dbmate", "\r\n", True, 17),
    ("sql", "\n", False, 17),
    ("sql", "\n", True, 17),
]
"""(tool, newline, check_downgrade, postgres_version)."""


def migration_text(tool: str, newline: str = "\n", copies: int = 2) -> str:
    """`STATEMENTS` `copies` times over, on tables shared between statements; dbmate's with a
    down section of the same statements (judged with `check_downgrade`)."""
    lines = [s.format(i=n % 5) for n in range(copies) for s in STATEMENTS]
    body = "\n".join(lines) + "\n"
    if tool == "dbmate":
        down = "\n".join(reversed(lines)) + "\n"
        body = f"-- migrate:up\n{body}\n-- migrate:down\n{down}"
    return body.replace("\n", newline)


def editable(line: str) -> bool:
    """A statement line (not blank, not a comment such as dbmate's section markers)."""
    return bool(line.strip()) and not line.lstrip().startswith("--")


def places(line: str) -> list[int]:
    if not editable(line):
        return []
    return [m.end(1) if m.group(1) is not None else m.end(2) for m in PLACES.finditer(line)]


def edit(rng: random.Random, text: str, pieces: tuple[str, ...] = PIECES) -> str:
    """A keystroke-sized change: a letter typed into an identifier, a string or a number, or
    one deleted; a statement added, or removed."""
    newline = "\r\n" if "\r\n" in text else "\n"
    lines = text.splitlines(keepends=True)
    at = rng.randrange(len(lines))
    line = lines[at]
    roll = rng.random()
    if roll < 0.6 and places(line):
        i = rng.choice(places(line))
        if roll < 0.45:
            lines[at] = line[:i] + rng.choice(TYPED) + line[i:]
        elif line[i - 2 : i].isalnum():  # a letter deleted, leaving at least one
            lines[at] = line[: i - 1] + line[i:]
    elif roll < 0.8:
        piece = rng.choice(pieces).format(i=rng.randrange(5))
        lines.insert(at, (piece + "\n").replace("\n", newline))
    elif editable(line) and len(lines) > 3:
        del lines[at]
    return "".join(lines)


def sweep(text: str) -> Iterator[str]:
    """For each statement line: `text` with a letter typed at its last identifier, string or
    number (without the line when it has none: BEGIN, COMMIT), then `text` again."""
    lines = text.splitlines(keepends=True)
    for at, line in enumerate(lines):
        if not editable(line):
            continue
        ends = places(line)
        changed = line[: ends[-1]] + "x" + line[ends[-1] :] if ends else ""
        yield "".join([*lines[:at], changed, *lines[at + 1 :]])
        yield text


class Typist:
    """Analyses one document version after another as an editor does (each with the last one's
    analysis), checking each against a fresh full analysis."""

    def __init__(self, tmp_path: Path, tool: str, config: Config, dialect: str = "postgresql"):
        self.project, path = project_for(tmp_path, tool)
        self.project.dialect = dialect
        self.path, self.config = str(path), config
        self.previous: Analysis | None = None
        self.narrowed: set[str] = set()
        """The rules that judged only the operations an edit changed, at least once."""
        self.rerun: set[str] = set()
        self.fired: set[str] = set()
        """The rules that reported something in some version."""

    def type(self, text: str) -> Analysis:
        edited = analyse_document(
            self.path, text, self.project, self.config, edited=self.previous or None
        )
        full = analyse_document(self.path, text, self.project, self.config)
        assert seen(edited.findings) == seen(full.findings), text
        assert edited.trace is not None
        if self.previous is not None:
            self.narrowed.update(edited.trace.narrowed)
            self.rerun.update(edited.trace.rerun)
        self.fired.update(f.rule for f in full.findings)
        self.previous = edited
        return edited


def type_away(
    tmp_path: Path,
    tool: str,
    newline: str,
    check_downgrade: bool,
    postgres_version: int,
    steps: int,
    *,
    seed: str = "",
) -> tuple[Typist, set[str]]:
    """Every statement of `migration_text` edited and restored, then `steps` random edits;
    the typist, and the rules that reported something on the unedited text."""
    rng = random.Random(f"{seed}{tool}{newline}{check_downgrade}{postgres_version}")
    config = Config(
        select=("ALL",), check_downgrade=check_downgrade, postgres_version=postgres_version
    )
    typist = Typist(tmp_path, tool, config)
    text = migration_text(tool, newline)
    first = {f.rule for f in typist.type(text).findings}
    for version in sweep(text):
        typist.type(version)
    for step in range(steps):
        if step % 7 == 0:
            sql_incremental.forget()  # a fresh parse: sources are equal, not shared
        text = edit(rng, text)
        typist.type(text)
    return typist, first


@pytest.mark.parametrize(("tool", "newline", "check_downgrade", "postgres_version"), CONFIGS)
def test_edits_in_judged_statements_report_what_a_full_analysis_reports(
    tmp_path: Path, tool: str, newline: str, check_downgrade: bool, postgres_version: int
) -> None:
    typist, first = type_away(tmp_path, tool, newline, check_downgrade, postgres_version, 150)
    # every rule with subjects that reported on the text judged only the edited statements
    # when each statement was edited in turn
    assert first & MARKED <= typist.narrowed, sorted(first & MARKED - typist.narrowed)
    assert len(first & MARKED) >= 20


def test_every_rule_with_subjects_judges_only_the_edited_operations(tmp_path: Path) -> None:
    """Over all the tools and settings, each rule marked with subjects took the narrowed path
    (the statements above are flagged by every one of them)."""
    narrowed: set[str] = set()
    for n, (tool, newline, check_downgrade, version) in enumerate(CONFIGS):
        folder = tmp_path / str(n)
        folder.mkdir()
        typist, _ = type_away(folder, tool, newline, check_downgrade, version, 60, seed="all")
        narrowed |= typist.narrowed
    assert narrowed >= MARKED_PG, sorted(MARKED_PG - narrowed)
    assert narrowed <= MARKED


MYSQL_STATEMENTS = (
    "ALTER TABLE orders{i} ADD COLUMN note{i} text, ALGORITHM=COPY;",
    "ALTER TABLE users{i} ADD INDEX idx_users{i}_email (email), LOCK=SHARED;",
    "ALTER TABLE events{i} DROP COLUMN payload{i}, ALGORITHM=INPLACE, LOCK=EXCLUSIVE;",
    "ALTER TABLE users{i} ADD COLUMN nickname{i} varchar(40), ALGORITHM=INSTANT, LOCK=NONE;",
    "CREATE TABLE things{i} (id bigint PRIMARY KEY);",
)


def test_edits_in_mysql_alter_table_options(tmp_path: Path) -> None:
    rng = random.Random(7)
    typist = Typist(tmp_path, "flyway", Config(select=("ALL",)), dialect="mysql")
    text = "\n".join(s.format(i=n % 3) for n in range(4) for s in MYSQL_STATEMENTS) + "\n"
    typist.type(text)
    for version in sweep(text):
        typist.type(version)
    for _ in range(80):
        text = edit(rng, text, MYSQL_STATEMENTS)
        typist.type(text)
    assert "mysql-blocking-algorithm" in typist.fired
    assert typist.narrowed >= MARKED - MARKED_PG  # the rules with subjects only for MySQL


# --------------------------------------------------------------------------- tricky cases


def typed_twice(
    tmp_path: Path, tool: str, text: str, typed: str, check_downgrade: bool = False
) -> Analysis:
    """The analysis of `typed` given that of `text`, each checked against a full analysis."""
    typist = Typist(tmp_path, tool, Config(select=("ALL",), check_downgrade=check_downgrade))
    before = typist.type(text)
    assert before.trace is not None
    after = typist.type(typed)
    assert after.trace is not None
    return after


def rules_of(analysis: Analysis) -> set[str]:
    return {f.rule for f in analysis.findings}


NEW_TABLE_RULES = {
    "add-not-null-column-without-default",
    "add-column-volatile-default",
    "add-stored-generated-column",
    "drop-column",
    "change-column-type",
    "drop-not-null",
    "drop-constraint",
    "non-concurrent-index",
    "rename-column",
    "drop-table",
}
"""Rules with subjects that leave alone the tables created in the same migration."""


@pytest.mark.parametrize(
    "created",
    ["CREATE TABLE userz (id bigint PRIMARY KEY);\n", "CREATE TABLE staging (id bigint);\n"],
)
def test_a_table_created_above_reruns_the_rules_asking_whether_a_table_is_new(
    tmp_path: Path, created: str
) -> None:
    """The rules about existing tables judge their statements one at a time, but whether the
    table is new depends on the CREATE TABLE and RENAME TO statements (not among their
    subjects): fixing the table's name there runs them on everything."""
    if "staging" in created:  # renamed into existence
        created += "ALTER TABLE staging RENAME TO userz;\n"
    text = created + (
        "ALTER TABLE users ADD COLUMN status text NOT NULL;\n"
        "ALTER TABLE users ADD COLUMN token uuid DEFAULT gen_random_uuid();\n"
        "ALTER TABLE users ADD COLUMN total numeric GENERATED ALWAYS AS (price * 2) STORED;\n"
        "ALTER TABLE users DROP COLUMN legacy;\n"
        "ALTER TABLE users ALTER COLUMN age TYPE bigint;\n"
        "ALTER TABLE users ALTER COLUMN email DROP NOT NULL;\n"
        "ALTER TABLE users DROP CONSTRAINT users_age_check;\n"
        "CREATE INDEX idx_users_age ON users (age);\n"
        "ALTER TABLE users RENAME COLUMN name TO full_name;\n"
        "DROP TABLE users;\n"
    )
    assert NEW_TABLE_RULES <= MARKED
    before = Typist(tmp_path, "flyway", Config(select=("ALL",))).type(text)
    assert rules_of(before) >= NEW_TABLE_RULES
    fixed = typed_twice(tmp_path, "flyway", text, text.replace("userz", "users"))
    assert fixed.trace is not None
    assert not NEW_TABLE_RULES & rules_of(fixed)  # a new table: nothing to lock, no rows
    assert set(fixed.trace.rerun) >= NEW_TABLE_RULES
    assert not NEW_TABLE_RULES & set(fixed.trace.narrowed)
    broken = typed_twice(tmp_path, "flyway", text.replace("userz", "users"), text)
    assert rules_of(broken) >= NEW_TABLE_RULES


def test_a_rename_chain_is_why_rename_table_has_no_subjects(tmp_path: Path) -> None:
    """Whether a renamed table is new depends on the renames before it: renaming a table created
    here makes its next rename harmless, and typing in the first rename changes the finding
    on the second. rename-table cannot judge renames one at a time."""
    text = (
        "CREATE TABLE t3 (id int);\n"
        "ALTER TABLE t3 RENAME TO t9;\n"
        "ALTER TABLE t9 RENAME TO t10;\n"
        "ALTER TABLE t10 RENAME COLUMN a TO b;\n"
    )
    assert "rename-table" not in rules_of(Typist(tmp_path, "sql", Config()).type(text))
    typed = text.replace("RENAME TO t9", "RENAME TO t9x")
    after = typed_twice(tmp_path, "sql", text, typed)
    flagged = [f for f in after.findings if f.rule in ("rename-table", "rename-column")]
    assert [(f.rule, f.start[0]) for f in flagged] == [("rename-table", 2), ("rename-column", 3)]
    back = typed_twice(tmp_path, "sql", typed, text)
    assert not {"rename-table", "rename-column"} & rules_of(back)


def test_a_transaction_opened_above_changes_the_statements_below(tmp_path: Path) -> None:
    """A BEGIN typed above puts the statements after it in a transaction: they count as changed
    operations, and the rules about statements that cannot run in one judge just those."""
    text = (
        "SELECT 1;\n"
        "CREATE INDEX CONCURRENTLY idx_orders_created ON orders (created_at);\n"
        "ALTER TYPE mood ADD VALUE 'happy';\n"
        "CREATE TABLE things (id bigint);\n"
        "COMMIT;\n"
    )
    rules = {"concurrent-index-in-transaction", "enum-add-value-in-transaction"}
    opened = typed_twice(tmp_path, "sql", text, text.replace("SELECT 1;", "BEGIN;"))
    assert opened.trace is not None
    assert rules <= rules_of(opened)
    assert rules <= set(opened.trace.narrowed)
    # prefer-robust-statements read a fact (the steps with several statements) that stayed,
    # and judged the statements now in a transaction: it no longer flags CREATE TABLE
    assert "prefer-robust-statements" in opened.trace.narrowed
    assert "prefer-robust-statements" not in rules_of(opened)
    closed = typed_twice(tmp_path, "sql", text.replace("SELECT 1;", "BEGIN;"), text)
    assert not rules & rules_of(closed)
    assert "prefer-robust-statements" in rules_of(closed)


def test_a_fact_that_changes_reruns_a_rule_with_subjects(tmp_path: Path) -> None:
    """prefer-robust-statements flags statements only in a step of several: adding the second
    statement changes a fact about the whole file, and its findings on the first (outside the
    edit) appear; typing in a statement afterwards keeps the fact, and it judges just that."""
    text = "CREATE TABLE things (id bigint);\n"
    typed = text + "DROP TABLE audit;\n"
    second = typed_twice(tmp_path, "sql", text, typed)
    assert second.trace is not None
    robust = [f.start[0] for f in second.findings if f.rule == "prefer-robust-statements"]
    assert robust == [0, 1]
    assert "prefer-robust-statements" in second.trace.rerun
    again = typed_twice(tmp_path, "sql", typed, typed.replace("audit", "audits"))
    assert again.trace is not None
    assert "prefer-robust-statements" in again.trace.narrowed


def test_several_operations_of_one_statement(tmp_path: Path) -> None:
    """`DROP TABLE a, b` and an ALTER TABLE of several actions are one statement of several
    operations: typing in it changes them all, and each is judged again."""
    text = (
        "DROP TABLE audit, audit_archive;\n"
        "ALTER TABLE users ADD COLUMN status text NOT NULL, ADD COLUMN seen_at timestamp;\n"
        "DROP TABLE sessions;\n"
    )
    typed = text.replace("audit_archive", "audit_archivex").replace("seen_at timestamp", "s t")
    after = typed_twice(tmp_path, "flyway", text, typed)
    assert after.trace is not None
    assert {"drop-table", "add-not-null-column-without-default"} <= set(after.trace.narrowed)
    drops = [f.message for f in after.findings if f.rule == "drop-table"]
    assert len(drops) == 3 and "audit_archivex" in drops[1]
    assert "prefer-timestamptz" not in rules_of(after)


def test_column_types_altered_above_the_tables_defining_them(tmp_path: Path) -> None:
    """The column-type rules report the columns defined, then the types altered: when an
    ALTER COLUMN comes first in the file their findings are not in file order, and are never
    carried over (the rule runs on everything again); in file order they are."""
    text = (
        "ALTER TABLE users ALTER COLUMN logged_at TYPE timestamp;\n"
        "CREATE TABLE things (id bigint PRIMARY KEY, seen_at timestamp);\n"
        "ALTER TABLE users ADD COLUMN meta json;\n"
    )
    typed = text.replace("seen_at", "seen_atx")
    after = typed_twice(tmp_path, "flyway", text, typed)
    assert after.trace is not None
    assert "prefer-timestamptz" in after.trace.rerun
    assert "prefer-jsonb" in after.trace.narrowed  # its one finding is in order
    lines = [f.start[0] for f in after.findings if f.rule == "prefer-timestamptz"]
    assert lines == [0, 1]
    in_order = "".join(text.splitlines(keepends=True)[1:]) + text.splitlines(keepends=True)[0]
    again = typed_twice(tmp_path, "flyway", in_order, in_order.replace("seen_at", "seen_atx"))
    assert again.trace is not None
    assert "prefer-timestamptz" in again.trace.narrowed


def test_the_reverse_step_is_judged_only_when_asked(tmp_path: Path) -> None:
    """Typing in dbmate's down section changes operations a rule with subjects reads, but
    they are judged only with check_downgrade: without it the rule judges nothing new."""
    text = (
        "-- migrate:up\nALTER TABLE users ADD COLUMN status text;\n\n"
        "-- migrate:down\nALTER TABLE users DROP COLUMN status;\nDROP TABLE audit;\n"
    )
    typed = text.replace("DROP TABLE audit", "DROP TABLE audits")
    for check_downgrade in (False, True):
        after = typed_twice(
            tmp_path / str(check_downgrade), "dbmate", text, typed, check_downgrade=check_downgrade
        )
        assert after.trace is not None
        assert "drop-table" in after.trace.narrowed
        assert ("drop-table" in rules_of(after)) is check_downgrade
        assert ("drop-column" in rules_of(after)) is check_downgrade
