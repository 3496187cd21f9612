"""Alembic quick fixes, run by the real Alembic on a real PostgreSQL.

The fixture project (`tests/fixtures/pg/alembic_project`, `alembic init` layout, env.py as
written) has six revisions that trigger the fixes:

1. no downgrade(): create two tables, add columns, create an index (add-downgrade);
2. `downgrade(): pass`: foreign key, CHECK and UNIQUE constraints and an index on an existing
   table (add-downgrade, use-concurrently, and the NOT VALID / USING INDEX fixes);
3. non-concurrent create_index and drop_index, and postgresql_concurrently=True outside an
   autocommit block (use-concurrently, run-outside-transaction); downgrade written by hand;
4. `op.execute("CREATE INDEX …")` (CONCURRENTLY in the string); downgrade written by hand;
5. alter_column(nullable=False) with existing_type/existing_nullable, no downgrade
   (add-downgrade, set-not-null via CHECK);
6. SQL built with an f-string (bound parameters); downgrade written by hand.

Every fix the engine offers is applied (`pgharness.fix_project`), the offline SQL Alembic
generates is checked (no CONCURRENTLY inside BEGIN … COMMIT), then Alembic runs
`upgrade head` → `downgrade base` → `upgrade head`, with rows added after the first revision.

Each revision of the main chain is invertible from its own text, so the generated downgrades
must take the database back to an empty schema. add-downgrade writes a TODO and
`raise NotImplementedError(...)` by design, never a silent `pass`, for what the file alone cannot
reverse: `op.execute` / `exec_driver_sql` (hence the hand-written downgrades of revisions 4 and
6), drop_column, drop_table, drop_index, drop_constraint, bulk_insert, alter_column without the
`existing_*` it would restore, an index or constraint without a name, and any statement it does
not know. `test_generated_stop_for_irreversible_sql_raises_not_implemented` proves that stop:
Alembic stops with its message and the database is left as it was.

Revisions under `tests/fixtures/pg/alembic_extra/` fail on PostgreSQL as written (NOT NULL
column without default on a filled table, the result of op.execute used, UPDATE … LIMIT); each
is added on top of the chain, shown to fail unfixed and to round-trip once fixed.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable, Iterator
from pathlib import Path

import psycopg
import pytest
from pgharness import (
    FIXTURES,
    Chooser,
    Connection,
    FixRun,
    Priority,
    alembic,
    alternative,
    assert_all_valid,
    close_alembic_workers,
    copy_fixture,
    fix_project,
    in_transaction_statements,
    ok,
    preferred,
    safe_first,
    workflow,
)
from pgharness import schema as read_schema

VERSIONS = "alembic/versions"


@pytest.fixture(autouse=True)
def _alembic_workers() -> Iterator[None]:
    yield
    close_alembic_workers()


HEAD = "6f7a8b9c0d06"
FIRST = "1a2b3c4d5e01"

INDEXES = {
    "accounts_pkey",
    "teams_pkey",
    "ix_accounts_email",
    "uq_teams_name",
    "ix_accounts_team_id_name",
    "ix_teams_lower_name",
    "ix_accounts_lower_email",
    "alembic_version_pkc",
}
CONSTRAINTS = {
    "accounts_pkey": "p",
    "teams_pkey": "p",
    "fk_accounts_team_id_teams": "f",
    "ck_accounts_email_at": "c",
    "uq_teams_name": "u",
}


def version(conn: Connection) -> list[str]:
    return [row[0] for row in conn.execute("SELECT version_num FROM alembic_version")]


def seed(conn: Connection) -> None:
    """Rows as production has them, between the first revision and the rest."""
    conn.execute("INSERT INTO teams (name) VALUES ('core'), ('ops')")
    conn.execute(
        "INSERT INTO accounts (email, name, team_id) VALUES "
        "('ann@example.com', 'Ann', (SELECT id FROM teams WHERE name = 'core')), "
        "('Bob@Example.com', 'bob smith', NULL)"
    )


def fixed_project(
    tmp_path: Path,
    *,
    check_downgrade: bool = False,
    extra: str | None = None,
    priority: Priority = workflow,
    choose: Chooser = preferred,
) -> FixRun:
    root = copy_fixture("alembic_project", tmp_path)
    if check_downgrade:
        (root / "migration-lsp.toml").write_text("check-downgrade = true\n", encoding="utf-8")
    if extra is not None:
        shutil.copy(FIXTURES / "alembic_extra" / extra, root / VERSIONS / extra)
    return fix_project(root, priority=priority, choose=choose)


EXPECTED_FIXES = {
    f"{VERSIONS}/1a2b3c4d5e01_create_accounts_and_teams.py": {"missing-downgrade"},
    f"{VERSIONS}/2b3c4d5e6f02_account_constraints.py": {"empty-downgrade", "non-concurrent-index"},
    f"{VERSIONS}/3c4d5e6f7a03_reindex_accounts.py": {
        "non-concurrent-index",
        "non-concurrent-index-drop",
        "concurrent-index-in-transaction",
    },
    f"{VERSIONS}/4d5e6f7a8b04_lower_email_index.py": {"non-concurrent-index"},
    f"{VERSIONS}/5e6f7a8b9c05_require_account_name.py": {"missing-downgrade"},
}
"""The fixes that exist today and must be applied; fixes added later are applied too."""


def assert_expected_fixes(run: FixRun, *, check_downgrade: bool) -> None:
    for path, rules in EXPECTED_FIXES.items():
        assert rules <= run.rules_fixed(path), (path, run.summary())
    if check_downgrade:
        path = f"{VERSIONS}/4d5e6f7a8b04_lower_email_index.py"
        assert run.fixed("non-concurrent-index-drop", path), run.summary()


def assert_head(conn: Connection, *, first_run: bool) -> None:
    current = read_schema(conn)
    assert current.tables == {"accounts", "teams", "alembic_version"}
    assert set(current.indexes) >= INDEXES, sorted(current.indexes)
    assert "ix_accounts_team_id" not in current.indexes  # dropped concurrently by revision 3
    for name, kind in CONSTRAINTS.items():
        assert current.constraints[name].kind == kind, current.constraints[name]
    assert_all_valid(current)
    assert "lower((name)::text)" in current.index("ix_teams_lower_name").definition
    assert "lower((email)::text)" in current.index("ix_accounts_lower_email").definition
    assert current.index("uq_teams_name").definition.startswith("CREATE UNIQUE INDEX")
    assert current.columns[("accounts", "name")][1] is False  # NOT NULL (revision 5)
    teams = {row[0] for row in conn.execute("SELECT name FROM teams")}
    assert teams == ({"core", "ops", "staff"} if first_run else {"staff"})
    # the constraints work (an extra revision may have added a NOT NULL plan column)
    plan = ("accounts", "plan") in current.columns
    columns, values = ("email, name, plan", "'x', 'p'") if plan else ("email, name", "'x'")
    with pytest.raises(psycopg.errors.CheckViolation, match="ck_accounts_email_at"):
        conn.execute(f"INSERT INTO accounts ({columns}) VALUES ('nobody', {values})")
    with pytest.raises(psycopg.errors.ForeignKeyViolation, match="fk_accounts_team_id_teams"):
        conn.execute(f"INSERT INTO accounts ({columns}, team_id) VALUES ('a@b.c', {values}, -1)")


def assert_offline_script(run: FixRun, url: str) -> None:
    """Alembic's offline SQL of the fixed chain: what the fixes make Alembic send. No
    CONCURRENTLY statement between BEGIN and COMMIT; NOT VALID constraints validated by a
    statement of their own, outside the transaction that added them."""
    result = alembic(run.root, url, "upgrade", "head", sql=True)
    ok(result)
    script = result.stdout
    inside, outside = in_transaction_statements(script, r"\bCONCURRENTLY\b")
    assert not inside, inside
    assert len(outside) >= 5, outside  # the index fixes of revisions 2, 3 and 4
    for rule in ("foreign-key-without-not-valid", "check-constraint-without-not-valid"):
        if run.fixed(rule):
            inside, outside = in_transaction_statements(script, r"\bVALIDATE CONSTRAINT\b")
            assert "NOT VALID" in script and outside, script


def round_trip(run: FixRun, url: str, pg: Connection, check: Callable[[Connection], None]) -> None:
    """upgrade (rows added after the first revision) → downgrade base → upgrade again."""
    ok(alembic(run.root, url, "upgrade", FIRST))
    seed(pg)
    ok(alembic(run.root, url, "upgrade", "head"))
    check(pg)
    head = read_schema(pg)
    assert_all_valid(head)

    ok(alembic(run.root, url, "downgrade", "base"))
    base = read_schema(pg)
    assert base.tables == {"alembic_version"}, base.tables
    assert set(base.indexes) == {"alembic_version_pkc"}
    assert version(pg) == []

    ok(alembic(run.root, url, "upgrade", "head"))
    again = read_schema(pg)
    assert again.comparable() == head.comparable()


@pytest.mark.parametrize("check_downgrade", [False, True], ids=["default", "check-downgrade"])
def test_fixed_alembic_project_round_trips_on_postgres(
    tmp_path: Path, pg_url: str, pg: Connection, check_downgrade: bool
) -> None:
    run = fixed_project(tmp_path, check_downgrade=check_downgrade)
    assert_expected_fixes(run, check_downgrade=check_downgrade)
    assert_offline_script(run, pg_url)

    def check(conn: Connection) -> None:
        assert version(conn) == [HEAD]
        assert_head(conn, first_run=True)

    round_trip(run, pg_url, pg, check)
    assert_head(pg, first_run=False)


def test_alternative_fixes_round_trip_on_postgres(
    tmp_path: Path, pg_url: str, pg: Connection
) -> None:
    """The second alternative wherever a finding offers several (e.g. the add-not-null split
    into nullable → backfill → NOT NULL revisions, sa.text().bindparams() for formatted SQL)."""
    extra = "7b8c9d0e1f08_add_account_plan.py"
    run = fixed_project(tmp_path, extra=extra, choose=alternative(1))
    chosen = [a for a in run.applied if a.offered > 1]
    if not chosen:
        pytest.skip("no finding offers alternative fixes yet")

    def check(conn: Connection) -> None:
        assert_head(conn, first_run=True)
        if run.fixed("add-not-null-column-without-default"):
            plan_is_filled(conn)

    round_trip(run, pg_url, pg, check)


def test_fixed_alembic_project_no_longer_triggers_the_fixed_rules(tmp_path: Path) -> None:
    """A fix must remove its finding and add no error (what the loop checks after each fix),
    and the loop must leave no finding with an applicable fix."""
    run = fixed_project(tmp_path, check_downgrade=True)
    assert not run.problems, "\n".join(run.problems)
    for applied in run.applied:
        left = [r for r in run.remaining_rules(applied.path) if run.fixed(r, applied.path)]
        assert not left, (applied.path, left, run.summary())


def test_fixes_in_finding_order_round_trip(tmp_path: Path, pg_url: str, pg: Connection) -> None:
    """The same project, the fixes applied in the order of the findings (safe ones first),
    as a user going down the file in the editor would."""
    run = fixed_project(tmp_path, priority=safe_first)
    assert_expected_fixes(run, check_downgrade=False)
    round_trip(run, pg_url, pg, lambda conn: assert_head(conn, first_run=True))


def test_unfixed_concurrent_index_fails_in_alembic_transaction(tmp_path: Path, pg_url: str) -> None:
    """Without the fix, revision 3 (postgresql_concurrently=True outside an autocommit block)
    really fails: what concurrent-index-in-transaction reports."""
    root = copy_fixture("alembic_project", tmp_path)
    result = alembic(root, pg_url, "upgrade", "head")
    assert result.returncode != 0
    assert "cannot run inside a transaction block" in result.stderr


def test_generated_stop_for_irreversible_sql_raises_not_implemented(
    tmp_path: Path, pg_url: str, pg: Connection
) -> None:
    """`op.execute` cannot be reversed from the file: add-downgrade writes a TODO and
    `raise NotImplementedError(...)`. Alembic must stop there, saying what to reverse, and the
    database must stay at that revision, untouched."""
    extra = "7a8b9c0d1e07_capitalize_names.py"
    run = fixed_project(tmp_path, extra=extra)
    assert not run.problems_of(f"{VERSIONS}/{extra}"), run.problems
    assert run.fixed("missing-downgrade", f"{VERSIONS}/{extra}")
    text = (run.root / VERSIONS / extra).read_text()
    assert "raise NotImplementedError(" in text and "TODO" in text

    ok(alembic(run.root, pg_url, "upgrade", FIRST))
    seed(pg)
    ok(alembic(run.root, pg_url, "upgrade", "head"))
    before = read_schema(pg)
    names = sorted(row[0] for row in pg.execute("SELECT name FROM accounts"))
    assert names == ["ANN", "BOB SMITH"]

    result = alembic(run.root, pg_url, "downgrade", "-1")
    assert result.returncode != 0
    assert "NotImplementedError: reverse the SQL run by the upgrade" in result.stderr
    assert version(pg) == ["7a8b9c0d1e07"]
    assert read_schema(pg).comparable() == before.comparable()

    # once someone decides the names stay (the stop replaced by `pass`), the rest of the
    # chain goes down to base
    path = run.root / VERSIONS / extra
    lines = path.read_text().splitlines()
    stop = next(i for i, line in enumerate(lines) if "raise NotImplementedError(" in line)
    lines[stop] = lines[stop].split("raise")[0] + "pass"
    path.write_text("\n".join(lines) + "\n")
    ok(alembic(run.root, pg_url, "downgrade", "base"))
    assert read_schema(pg).tables == {"alembic_version"}


# --------------------------------------------------------------------------- failing revisions
# Revisions whose unfixed form fails on PostgreSQL. Each is added on top of the main chain; with
# the engine's fix for its rule, the project must go up, down to base and up again with rows in
# the tables. Where the engine offers no applicable fix, the test is skipped, saying so.


def plan_is_filled(conn: Connection) -> None:
    current = read_schema(conn)
    assert current.columns[("accounts", "plan")][1] is False, current.columns[("accounts", "plan")]
    assert conn.execute("SELECT count(*) FROM accounts WHERE plan IS NULL").fetchone() == (0,)


def names_are_titled(conn: Connection) -> None:
    names = sorted(row[0] for row in conn.execute("SELECT name FROM accounts"))
    assert names == ["Ann", "Bob Smith"]


def emails_are_lowercase(conn: Connection) -> None:
    emails = sorted(row[0] for row in conn.execute("SELECT email FROM accounts"))
    assert emails == ["ann@example.com", "bob@example.com"]


PENDING = [
    pytest.param(
        "7b8c9d0e1f08_add_account_plan.py",
        "add-not-null-column-without-default",
        plan_is_filled,
        "contains null values",
        id="add-not-null-column-without-default",
    ),
    pytest.param(
        "7c8d9e0f1a09_normalise_names.py",
        "execute-result-used",
        names_are_titled,
        "'NoneType' object has no attribute 'fetchall'",
        id="execute-result-used",
    ),
    pytest.param(
        "7d8e9f0a1b10_lowercase_emails.py",
        "update-with-limit",
        emails_are_lowercase,
        'syntax error at or near "LIMIT"',
        id="update-with-limit",
    ),
]


@pytest.mark.parametrize(("extra", "rule", "check", "error"), PENDING)
def test_unfixed_revision_fails_on_postgres(
    tmp_path: Path,
    pg_url: str,
    pg: Connection,
    extra: str,
    rule: str,
    check: Callable[[Connection], None],
    error: str,
) -> None:
    """What the rule reports really happens: the unfixed revision fails."""
    root = copy_fixture("alembic_project", tmp_path)
    # revision 3 fails by itself (postgresql_concurrently=True in a transaction): without it
    revision_3 = next((root / VERSIONS).glob("3c4d5e6f7a03_*.py"))
    text = revision_3.read_text()
    revision_3.write_text(
        text.replace("postgresql_concurrently=True", "postgresql_concurrently=False")
    )
    shutil.copy(FIXTURES / "alembic_extra" / extra, root / VERSIONS / extra)
    ok(alembic(root, pg_url, "upgrade", FIRST))
    seed(pg)
    result = alembic(root, pg_url, "upgrade", "head")
    assert result.returncode != 0
    assert error in result.stderr, result.stderr[-2000:]


@pytest.mark.parametrize(("extra", "rule", "check", "error"), PENDING)
def test_fixed_revision_runs_on_postgres(
    tmp_path: Path,
    pg_url: str,
    pg: Connection,
    extra: str,
    rule: str,
    check: Callable[[Connection], None],
    error: str,
) -> None:
    run = fixed_project(tmp_path, extra=extra)
    path = f"{VERSIONS}/{extra}"
    if not run.fixed(rule, path):
        reasons = [s.reason for s in run.skipped if s.rule == rule and s.path == path]
        pytest.skip(f"{rule}: {reasons[0] if reasons else 'no fix'}: nothing to run yet")
    assert not run.problems_of(path), "\n".join(run.problems)
    assert rule not in run.remaining_rules(path), run.summary()

    ok(alembic(run.root, pg_url, "upgrade", FIRST))
    seed(pg)
    ok(alembic(run.root, pg_url, "upgrade", "head"))
    check(pg)
    assert_all_valid(read_schema(pg))
    ok(alembic(run.root, pg_url, "downgrade", "base"))
    assert read_schema(pg).tables == {"alembic_version"}
    ok(alembic(run.root, pg_url, "upgrade", "head"))
