"""Fixes of `fixes/statements.py`: SQL migration → engine finding → builder → edited text that
parses and no longer draws the finding."""

from __future__ import annotations

import pytest

from migration_lsp.engine import analyse
from migration_lsp.findings import Applicability, Finding, Fix
from migration_lsp.fixes.statements import STATEMENT_BUILDERS, STATEMENT_FIX_NAMES
from migration_lsp.fixes.text import apply_edits
from migration_lsp.model import Migration
from migration_lsp.parse.sql_files import parse_sql_migration
from migration_lsp.project.config import Config
from migration_lsp.rules.registry import BY_ID

PATHS = {
    "flyway": "db/migration/V3__change.sql",
    "dbmate": "db/migrations/20240514102133_change.sql",
    "goose": "migrations/00003_change.sql",
    "sql": "migrations/003_change.sql",
    "golang-migrate": "migrations/000003_change.up.sql",
}


def parse(tool: str, text: str) -> Migration:
    return parse_sql_migration(PATHS[tool], text, tool, "postgresql", {}, None)


def findings(tool: str, text: str, rule: str) -> tuple[Migration, list[Finding]]:
    migration = parse(tool, text)
    assert migration.problems == []
    found = [f for f in analyse(migration, Config(select=(rule,))) if f.rule == rule]
    return migration, found


def build(tool: str, text: str, rule: str, index: int = 0) -> tuple[Migration, Fix]:
    migration, found = findings(tool, text, rule)
    assert found, f"{rule} did not fire"
    built = STATEMENT_BUILDERS[rule](found[index], migration)
    assert isinstance(built, Fix)
    return migration, built


def fixed(tool: str, text: str, rule: str, expected: str, index: int = 0) -> Fix:
    """Applies the fix and checks the result: exact text, parses, the finding is gone."""
    migration, fix = build(tool, text, rule, index)
    assert fix.edits
    result = apply_edits(migration.text, fix.edits)
    assert result == expected
    after, found = findings(tool, result, rule)
    assert after.problems == []
    assert len(found) < len(findings(tool, text, rule)[1])
    return fix


def test_fix_names_match_the_rules() -> None:
    assert set(STATEMENT_BUILDERS) == set(STATEMENT_FIX_NAMES)
    for rule, name in STATEMENT_FIX_NAMES.items():
        assert BY_ID[rule].fix == name


# ------------------------------------------------------------------ remove-transaction-control


@pytest.mark.parametrize("tool", ["flyway", "goose"])
def test_remove_begin_commit(tool: str) -> None:
    head = "-- +goose Up\n" if tool == "goose" else ""
    text = f"{head}BEGIN;\nALTER TABLE users ADD COLUMN nickname text;\nCOMMIT;\n"
    fix = fixed(
        tool, text, "transaction-nesting", f"{head}ALTER TABLE users ADD COLUMN nickname text;\n"
    )
    assert fix.applicability is Applicability.SAFE
    # the COMMIT's finding gives the same fix
    assert fixed(tool, text, "transaction-nesting", apply_edits(text, fix.edits), index=1)
    assert not findings(tool, apply_edits(text, fix.edits), "transaction-nesting")[1]


def test_remove_begin_commit_crlf_and_same_line() -> None:
    text = "begin; update users set a = 1 where id = 2;\r\ncommit;\r\n"
    fixed("flyway", text, "transaction-nesting", "update users set a = 1 where id = 2;\r\n")


def test_rollback_gets_display_only() -> None:
    text = "BEGIN;\nALTER TABLE users ADD COLUMN nickname text;\nROLLBACK;\n"
    _, fix = build("flyway", text, "transaction-nesting")
    assert fix.applicability is Applicability.DISPLAY and fix.edits == []


# ---------------------------------------------------------------------------------- add-commit


@pytest.mark.parametrize("tool", ["sql", "flyway"])
def test_add_commit(tool: str) -> None:
    text = "BEGIN;\nALTER TABLE users ADD COLUMN nickname text;\n"
    expected = "BEGIN;\nALTER TABLE users ADD COLUMN nickname text;\nCOMMIT;\n"
    assert fixed(tool, text, "uncommitted-transaction", expected).applicability is (
        Applicability.SAFE
    )


def test_add_commit_goose_up_section_and_missing_semicolon() -> None:
    text = (
        "-- +goose NO TRANSACTION\n-- +goose Up\nbegin;\nalter table users add column n text\n"
        "-- +goose Down\nalter table users drop column n;\n"
    )
    expected = (
        "-- +goose NO TRANSACTION\n-- +goose Up\nbegin;\nalter table users add column n text;\n"
        "commit;\n-- +goose Down\nalter table users drop column n;\n"
    )
    fixed("goose", text, "uncommitted-transaction", expected)


# ----------------------------------------------------------------------- set-statement-timeout


@pytest.mark.parametrize("tool", ["flyway", "sql", "goose"])
def test_set_statement_timeout(tool: str) -> None:
    head = "-- +goose Up\n" if tool == "goose" else ""
    text = f"{head}ALTER TABLE users ALTER COLUMN age TYPE bigint;\n"
    expected = (
        f"{head}SET statement_timeout = '15min';\nALTER TABLE users ALTER COLUMN age TYPE bigint;\n"
    )
    fix = fixed(tool, text, "missing-statement-timeout", expected)
    assert fix.applicability is Applicability.UNSAFE


# ------------------------------------------------------------------------ insert-if-not-exists

ROBUST = [
    (
        "CREATE INDEX CONCURRENTLY ix_users_email ON users (email);",
        "CREATE INDEX CONCURRENTLY IF NOT EXISTS ix_users_email ON users (email);",
    ),
    (
        "create unique index ix_a on users (a);",
        "create unique index if not exists ix_a on users (a);",
    ),
    ("DROP INDEX CONCURRENTLY ix_old;", "DROP INDEX CONCURRENTLY IF EXISTS ix_old;"),
    ("DROP INDEX ix_old;", "DROP INDEX IF EXISTS ix_old;"),
    ("CREATE TABLE public.t (id bigint);", "CREATE TABLE IF NOT EXISTS public.t (id bigint);"),
    (
        "create unlogged table t (id bigint);",
        "create unlogged table if not exists t (id bigint);",
    ),
    ("DROP TABLE old_a, old_b;", "DROP TABLE IF EXISTS old_a, old_b;"),
    (
        "ALTER TABLE users ADD COLUMN nickname text;",
        "ALTER TABLE users ADD COLUMN IF NOT EXISTS nickname text;",
    ),
    ("alter table users add nick text;", "alter table users add if not exists nick text;"),
    (
        'ALTER TABLE users DROP COLUMN "old col";',
        'ALTER TABLE users DROP COLUMN IF EXISTS "old col";',
    ),
]


@pytest.mark.parametrize(("statement", "expected"), ROBUST)
@pytest.mark.parametrize("tool", ["goose", "sql"])
def test_insert_if_not_exists(tool: str, statement: str, expected: str) -> None:
    head = "-- +goose NO TRANSACTION\n-- +goose Up\n" if tool == "goose" else ""
    other = "CREATE EXTENSION IF NOT EXISTS pg_trgm;\n"
    text = f"{head}{other}{statement}\n"
    fix = fixed(tool, text, "prefer-robust-statements", f"{head}{other}{expected}\n")
    assert fix.applicability is Applicability.SAFE


# ---------------------------------------------------------------------------- use-concurrently

CONCURRENT = [
    ("non-concurrent-reindex", "REINDEX INDEX ix_a;", "REINDEX INDEX CONCURRENTLY ix_a;"),
    ("non-concurrent-reindex", "reindex table users;", "reindex table concurrently users;"),
    (
        "non-concurrent-refresh",
        "REFRESH MATERIALIZED VIEW daily_sales;",
        "REFRESH MATERIALIZED VIEW CONCURRENTLY daily_sales;",
    ),
    (
        "non-concurrent-detach-partition",
        "ALTER TABLE measurements DETACH PARTITION measurements_2020;",
        "ALTER TABLE measurements DETACH PARTITION measurements_2020 CONCURRENTLY;",
    ),
]


@pytest.mark.parametrize(("rule", "statement", "expected"), CONCURRENT)
def test_use_concurrently_outside_transaction(rule: str, statement: str, expected: str) -> None:
    head = "-- +goose NO TRANSACTION\n-- +goose Up\n"
    fix = fixed("goose", f"{head}{statement}\n", rule, f"{head}{expected}\n")
    unsafe = rule == "non-concurrent-refresh"
    assert fix.applicability is (Applicability.UNSAFE if unsafe else Applicability.SAFE)
    if unsafe:
        assert "unique index" in fix.title


@pytest.mark.parametrize(("rule", "statement", "expected"), CONCURRENT)
def test_use_concurrently_makes_goose_file_non_transactional(
    rule: str, statement: str, expected: str
) -> None:
    head = "-- +goose Up\n"
    fixed(
        "goose",
        f"{head}{statement}\n",
        rule,
        f"-- +goose NO TRANSACTION\n{head}{expected}\n",
    )


def test_use_concurrently_flyway_alone_gets_directive() -> None:
    fix = fixed(
        "flyway",
        "REINDEX INDEX ix_a;\n",
        "non-concurrent-reindex",
        "-- flyway:executeInTransaction=false\nREINDEX INDEX CONCURRENTLY ix_a;\n",
    )
    assert "executeInTransaction" in fix.title


def test_use_concurrently_inside_begin_commit_is_display() -> None:
    text = "BEGIN;\nREINDEX INDEX ix_a;\nCOMMIT;\n"
    _, fix = build("sql", text, "non-concurrent-reindex")
    assert fix.applicability is Applicability.DISPLAY and fix.edits == []


def test_use_concurrently_flyway_with_other_statements_is_display() -> None:
    text = "ALTER TABLE users ADD COLUMN n text;\nREINDEX INDEX ix_a;\n"
    _, fix = build("flyway", text, "non-concurrent-reindex")
    assert fix.applicability is Applicability.DISPLAY and fix.edits == []


# ---------------------------------------------------------------------------------- use-bigint


@pytest.mark.parametrize("tool", ["flyway", "sql", "goose"])
def test_use_bigint(tool: str) -> None:
    head = "-- +goose Up\n" if tool == "goose" else ""
    text = f"{head}CREATE TABLE page_views (id bigint PRIMARY KEY, views INTEGER NOT NULL);\n"
    expected = f"{head}CREATE TABLE page_views (id bigint PRIMARY KEY, views BIGINT NOT NULL);\n"
    assert fixed(tool, text, "prefer-bigint", expected).applicability is Applicability.SAFE


@pytest.mark.parametrize(
    ("written", "new"),
    [("int", "bigint"), ("int4", "bigint"), ("smallint", "bigint"), ("serial", "bigserial")],
)
def test_use_bigint_types(written: str, new: str) -> None:
    text = f"create table t (\n    id bigint primary key,\n    n {written}\n);\n"
    expected = f"create table t (\n    id bigint primary key,\n    n {new}\n);\n"
    fixed("sql", text, "prefer-bigint", expected)


def test_use_bigint_add_column_on_new_table() -> None:
    text = "CREATE TABLE t (id bigint PRIMARY KEY);\nALTER TABLE t ADD COLUMN n smallint;\n"
    expected = "CREATE TABLE t (id bigint PRIMARY KEY);\nALTER TABLE t ADD COLUMN n bigint;\n"
    fixed("flyway", text, "prefer-bigint", expected)


def test_use_concurrently_quoted_qualified_partition() -> None:
    head = "-- +goose NO TRANSACTION\n-- +goose Up\n"
    statement = 'ALTER TABLE public."Meas" DETACH PARTITION public."m 2020"'
    fixed(
        "goose",
        f"{head}{statement};\n",
        "non-concurrent-detach-partition",
        f"{head}{statement} CONCURRENTLY;\n",
    )


def test_no_fix_for_python_migrations() -> None:
    from migration_lsp.parse.alembic import parse_alembic

    text = (
        "from alembic import op\n\n\ndef upgrade():\n"
        '    op.execute("REINDEX INDEX ix_a")\n\n\ndef downgrade():\n    pass\n'
    )
    migration = parse_alembic("migrations/versions/abc_x.py", text, "postgresql", {})
    found = [f for f in analyse(migration, Config()) if f.rule == "non-concurrent-reindex"]
    assert found
    assert STATEMENT_BUILDERS["non-concurrent-reindex"](found[0], migration) is None
