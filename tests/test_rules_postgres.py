"""PostgreSQL statement rules (maintenance, partitions, enums, domains, transactions) and the
MySQL ALTER TABLE algorithm rule, as a user sees them in SQL files, Alembic and Django."""

from __future__ import annotations

import textwrap

import pytest

from migration_lsp.parse.django import parse_django
from migration_lsp.rules import postgres
from migration_lsp.rules.registry import BY_ID
from rule_helpers import SQL_TOOLS, alembic, analyse, config, findings, rules, sql_file

MINE = ("statements-after-access-exclusive", "prefer-robust-statements")


def only(rule_id: str, text: str, tool: str = "flyway", **kwargs: object) -> list[str]:
    """Text under every finding of `rule_id`."""
    return [snippet for rid, snippet in findings(text, tool=tool, **kwargs) if rid == rule_id]  # type: ignore[arg-type]


def django(operations: str, *, atomic: bool = True) -> str:
    body = textwrap.indent(textwrap.dedent(operations).strip("\n"), " " * 8)
    flag = "" if atomic else "    atomic = False\n"
    return (
        "from django.db import migrations\n\n\n"
        "class Migration(migrations.Migration):\n"
        f"{flag}"
        '    dependencies = [("shop", "0001_initial")]\n\n'
        "    operations = [\n"
        f"{body}\n"
        "    ]\n"
    )


def django_rules(text: str, **options: object) -> list[tuple[str, str]]:
    migration = parse_django("shop/migrations/0002_change.py", text, "postgresql", {})
    return [
        (f.rule, text[f.span.start : f.span.end])
        for f in analyse(migration, config(**options))  # type: ignore[arg-type]
    ]


# --------------------------------------------------------------------------- statements

FIRES = [
    ("REINDEX INDEX ix_users_email;", "non-concurrent-reindex", "REINDEX INDEX"),
    ("REINDEX TABLE users;", "non-concurrent-reindex", "REINDEX TABLE"),
    (
        "ALTER TABLE measurements DETACH PARTITION m2020;",
        "non-concurrent-detach-partition",
        "DETACH PARTITION",
    ),
    (
        "REFRESH MATERIALIZED VIEW daily_sales;",
        "non-concurrent-refresh",
        "REFRESH MATERIALIZED VIEW",
    ),
    ("VACUUM FULL events;", "vacuum-full", "VACUUM FULL"),
    ("VACUUM (FULL, ANALYZE) events;", "vacuum-full", "VACUUM (FULL, ANALYZE)"),
    ("CLUSTER events USING ix_events_at;", "vacuum-full", "CLUSTER"),
    ("ALTER TABLE users ALTER COLUMN email DROP NOT NULL;", "drop-not-null", "email"),
    ("DROP SCHEMA legacy CASCADE;", "drop-schema-or-database", "legacy"),
    ("DROP DATABASE olddb;", "drop-schema-or-database", "olddb"),
    ("ALTER TABLE orders DROP CONSTRAINT fk_orders_user;", "drop-constraint", "fk_orders_user"),
    (
        "CREATE DOMAIN positive_int AS integer CHECK (VALUE > 0);",
        "domain-with-constraint",
        "positive_int",
    ),
    (
        "ALTER DOMAIN positive_int ADD CONSTRAINT pos CHECK (VALUE > 0);",
        "domain-with-constraint",
        "ADD CONSTRAINT pos CHECK (VALUE > 0)",
    ),
    (
        "CREATE INDEX ix_" + "a" * 61 + " ON users (email);",
        "identifier-too-long",
        "ix_" + "a" * 61,
    ),
    (
        "ALTER TABLE users ADD COLUMN total numeric GENERATED ALWAYS AS (a + b) STORED;",
        "add-stored-generated-column",
        "total",
    ),
    ("ALTER TABLE users ADD COLUMN seq bigserial;", "add-stored-generated-column", "seq"),
]

QUIET = [
    "REINDEX INDEX CONCURRENTLY ix_users_email;",
    "REINDEX (CONCURRENTLY) TABLE users;",
    "ALTER TABLE measurements DETACH PARTITION m2020 CONCURRENTLY;",
    "ALTER TABLE measurements DETACH PARTITION m2020 FINALIZE;",
    "REFRESH MATERIALIZED VIEW CONCURRENTLY daily_sales;",
    "VACUUM ANALYZE events;",
    "ALTER TABLE users ALTER COLUMN email SET DEFAULT '';",
    "CREATE DOMAIN email AS text;",
    "CREATE INDEX CONCURRENTLY ix_" + "a" * 60 + " ON users (email);",
    "ALTER TABLE users ADD COLUMN total numeric;",
    "CREATE TABLE posts (id bigserial PRIMARY KEY, total numeric GENERATED ALWAYS AS (id) STORED);",
]


@pytest.mark.parametrize("tool", SQL_TOOLS)
@pytest.mark.parametrize(("sql", "rule_id", "under"), FIRES, ids=[f[1] for f in FIRES])
def test_fires_on_the_part_that_matters(tool: str, sql: str, rule_id: str, under: str) -> None:
    assert only(rule_id, sql_file(tool, sql), tool=tool) == [under]


@pytest.mark.parametrize("tool", SQL_TOOLS)
@pytest.mark.parametrize("sql", QUIET)
def test_safe_forms_are_quiet(tool: str, sql: str) -> None:
    ours = {r.id for r in postgres.RULES}
    assert [r for r in rules(sql_file(tool, sql), tool=tool) if r in ours] == []


@pytest.mark.parametrize(("sql", "rule_id", "under"), FIRES, ids=[f[1] for f in FIRES])
def test_postgresql_rules_quiet_on_mysql(sql: str, rule_id: str, under: str) -> None:
    assert rule_id not in rules(sql, tool="flyway", dialect="mysql")


def test_concurrent_forms_need_a_recent_postgresql() -> None:
    reindex = "REINDEX INDEX ix_users_email;"
    detach = "ALTER TABLE measurements DETACH PARTITION m2020;"
    assert "non-concurrent-reindex" not in rules(reindex, tool="flyway", postgres_version=11)
    assert "non-concurrent-detach-partition" not in rules(
        detach, tool="flyway", postgres_version=13
    )
    assert "non-concurrent-detach-partition" in rules(detach, tool="flyway", postgres_version=14)


def test_statements_inside_do_blocks_are_read() -> None:
    text = "DO $$\nBEGIN\n    REINDEX TABLE users;\n    VACUUM FULL users;\nEND\n$$;\n"
    assert only("non-concurrent-reindex", text) == ["REINDEX TABLE"]


def test_drop_not_null_on_a_new_table_is_quiet() -> None:
    text = "CREATE TABLE t (a text NOT NULL);\nALTER TABLE t ALTER COLUMN a DROP NOT NULL;\n"
    assert "drop-not-null" not in rules(text, tool="flyway")


def test_identifier_length_counts_bytes() -> None:
    name = "é" * 32  # 32 characters, 64 bytes
    text = f"ALTER TABLE users ADD COLUMN {name} text;"
    assert only("identifier-too-long", text) == [name]
    assert only("identifier-too-long", f"ALTER TABLE users ADD COLUMN {'e' * 63} text;") == []
    create = f"CREATE TABLE t (id bigint, {'c' * 64} text);"
    assert only("identifier-too-long", create) == ["c" * 64]
    rename = f"ALTER TABLE users RENAME COLUMN a TO {'r' * 64};"
    assert only("identifier-too-long", rename) == ["r" * 64]


# --------------------------------------------------------------------------- in Python


def test_alembic_execute_carries_the_statement_rules() -> None:
    text = alembic(
        """
        op.execute("REINDEX TABLE users")
        op.execute("DROP SCHEMA legacy")
        op.drop_constraint("fk_orders_user", "orders", type_="foreignkey")
        """
    )
    found = findings(text, ignore=[*MINE, "missing-lock-timeout"])
    assert ("non-concurrent-reindex", "REINDEX TABLE") in found
    assert ("drop-schema-or-database", "legacy") in found
    assert any(rid == "drop-constraint" for rid, _ in found)


def test_django_runsql_carries_the_statement_rules() -> None:
    text = django(
        """
        migrations.RunSQL(
            "REFRESH MATERIALIZED VIEW daily_sales",
            reverse_sql=migrations.RunSQL.noop,
        ),
        """
    )
    assert ("non-concurrent-refresh", "REFRESH MATERIALIZED VIEW") in django_rules(text)


# --------------------------------------------------------------------------- enums


ENUM = "ALTER TYPE order_status ADD VALUE 'refunded';"


@pytest.mark.parametrize("tool", ["flyway", "dbmate", "goose"])
def test_enum_value_in_a_wrapped_migration_fires(tool: str) -> None:
    result = [
        f for f in _check(sql_file(tool, ENUM), tool) if f.rule == "enum-add-value-in-transaction"
    ]
    assert len(result) == 1
    assert "cannot be used until the transaction commits" in result[0].message


def test_enum_value_wording_depends_on_the_postgresql_version() -> None:
    old = _check(ENUM, "flyway", postgres_version=11)
    message = next(f.message for f in old if f.rule == "enum-add-value-in-transaction")
    assert "fails before PostgreSQL 12" in message
    assert only("enum-add-value-in-transaction", ENUM) == ["ADD VALUE"]


def test_enum_value_outside_a_transaction_is_quiet() -> None:
    assert "enum-add-value-in-transaction" not in rules(ENUM, tool="sql")
    assert "enum-add-value-in-transaction" not in rules(ENUM, tool="golang-migrate")


def test_enum_value_in_alembic() -> None:
    inside = alembic(f'op.execute("{ENUM[:-1]}")')
    assert only("enum-add-value-in-transaction", inside, tool="alembic") == ["ADD VALUE"]
    outside = alembic(
        f"""
        with op.get_context().autocommit_block():
            op.execute("{ENUM[:-1]}")
        """
    )
    assert "enum-add-value-in-transaction" not in rules(outside)


def test_enum_value_in_django() -> None:
    op = f'migrations.RunSQL("{ENUM[:-1]}", reverse_sql=migrations.RunSQL.noop),'
    assert ("enum-add-value-in-transaction", "ADD VALUE") in django_rules(django(op))
    assert "enum-add-value-in-transaction" not in [
        r for r, _ in django_rules(django(op, atomic=False))
    ]


def _check(text: str, tool: str, **options: object) -> list:  # type: ignore[type-arg]
    from rule_helpers import check

    return check(text, tool=tool, **options)  # type: ignore[arg-type]


# --------------------------------------------------------------------------- generated columns


def test_stored_generated_column_on_a_new_table_is_quiet() -> None:
    text = "CREATE TABLE t (a int);\nALTER TABLE t ADD COLUMN b int GENERATED ALWAYS AS (a) STORED;"
    assert "add-stored-generated-column" not in rules(text, tool="flyway")


def test_serial_column_in_alembic() -> None:
    text = alembic('op.add_column("users", sa.Column("seq", sa.Integer(), nullable=True))')
    assert "add-stored-generated-column" not in rules(text)
    sql = alembic('op.execute("ALTER TABLE users ADD COLUMN seq serial")')
    assert only("add-stored-generated-column", sql, tool="alembic") == ["seq"]


# --------------------------------------------------------------------------- MySQL


def test_mysql_blocking_algorithm() -> None:
    text = "ALTER TABLE users ADD COLUMN nick varchar(64), ALGORITHM=COPY, LOCK=SHARED;"
    assert only("mysql-blocking-algorithm", text, dialect="mysql") == [
        "ALGORITHM=COPY",
        "LOCK=SHARED",
    ]
    assert only(
        "mysql-blocking-algorithm", "ALTER TABLE t FORCE, LOCK = EXCLUSIVE;", dialect="mysql"
    ) == ["LOCK = EXCLUSIVE"]
    safe = "ALTER TABLE users ADD COLUMN nick varchar(64), ALGORITHM=INPLACE, LOCK=NONE;"
    assert only("mysql-blocking-algorithm", safe, dialect="mysql") == []
    assert "mysql-blocking-algorithm" not in rules(text, tool="flyway", dialect="postgresql")


# --------------------------------------------------------------------------- transactions


def test_prefer_robust_statements_outside_a_transaction() -> None:
    text = (
        "-- +goose NO TRANSACTION\n-- +goose Up\n"
        "CREATE INDEX CONCURRENTLY ix_users_email ON users (email);\n"
        "ALTER TABLE users ADD COLUMN nickname text;\n"
    )
    assert only("prefer-robust-statements", text, tool="goose", select=["ALL"]) == [
        "CREATE INDEX",
        "nickname",
    ]
    robust = (
        "-- +goose NO TRANSACTION\n-- +goose Up\n"
        "CREATE INDEX CONCURRENTLY IF NOT EXISTS ix_users_email ON users (email);\n"
        "ALTER TABLE users ADD COLUMN IF NOT EXISTS nickname text;\n"
    )
    assert only("prefer-robust-statements", robust, tool="goose", select=["ALL"]) == []


def test_prefer_robust_statements_quiet_in_a_transaction_or_alone() -> None:
    two = "CREATE TABLE a (id bigint);\nCREATE TABLE b (id bigint);\n"
    assert only("prefer-robust-statements", two, tool="flyway", select=["ALL"]) == []
    alone = "CREATE INDEX CONCURRENTLY ix ON users (email);"
    assert only("prefer-robust-statements", alone, tool="flyway", select=["ALL"]) == []
    assert only("prefer-robust-statements", two, tool="sql", select=["ALL"]) == ["a", "b"]


def test_transaction_nesting() -> None:
    text = "BEGIN;\nALTER TABLE users ADD COLUMN nickname text;\nCOMMIT;\n"
    assert only("transaction-nesting", text, tool="flyway") == ["BEGIN", "COMMIT"]
    # golang-migrate sends the file as one query: BEGIN/COMMIT are the recommended form there
    assert only("transaction-nesting", text, tool="golang-migrate") == []
    assert only("transaction-nesting", text, tool="sql") == []
    wrapped = alembic('op.execute("COMMIT")')
    assert only("transaction-nesting", wrapped, tool="alembic") == ["COMMIT"]


def test_uncommitted_transaction() -> None:
    text = "BEGIN;\nALTER TABLE users ADD COLUMN nickname text;\n"
    assert only("uncommitted-transaction", text, tool="sql") == ["BEGIN"]
    done = text + "COMMIT;\n"
    assert only("uncommitted-transaction", done, tool="sql") == []
    rolled = text + "ROLLBACK;\n"
    assert only("uncommitted-transaction", rolled, tool="sql") == []
    assert BY_ID["uncommitted-transaction"].severity.label == "error"


def test_missing_statement_timeout_only_when_selected() -> None:
    text = "ALTER TABLE users ALTER COLUMN age TYPE bigint;"
    assert "missing-statement-timeout" not in rules(text, tool="flyway")
    assert not BY_ID["missing-statement-timeout"].default_enabled
    assert only("missing-statement-timeout", text, select=["missing-statement-timeout"]) == [
        "ALTER TABLE users ALTER COLUMN age TYPE bigint"
    ]
    timed = "SET statement_timeout = '15min';\n" + text
    assert only("missing-statement-timeout", timed, select=["missing-statement-timeout"]) == []
    update = "UPDATE users SET active = true;"
    assert only("missing-statement-timeout", update, select=["missing-statement-timeout"]) == [
        update[:-1]
    ]


def test_statements_after_access_exclusive() -> None:
    text = (
        "ALTER TABLE users ADD COLUMN nickname text;\n"
        "CREATE INDEX CONCURRENTLY IF NOT EXISTS ix ON orders (a);\n"
        "UPDATE users SET nickname = name WHERE id < 1000;\n"
    )
    selected = {"select": ["statements-after-access-exclusive"]}
    result = [f for f in _check(text, "flyway", **selected)]
    assert [f.rule for f in result] == ["statements-after-access-exclusive"]
    assert "2 more statements" in result[0].message
    assert text[result[0].span.start : result[0].span.end].startswith("ALTER TABLE users")
    last = "UPDATE users SET nickname = name WHERE id < 1000;\nALTER TABLE users DROP COLUMN x;\n"
    assert _check(last, "flyway", **selected) == []
    # not in a transaction: each statement releases its lock
    assert _check(text, "sql", **selected) == []
    # the COMMIT ends the lock
    committed = "BEGIN;\nALTER TABLE users ADD COLUMN n text;\nCOMMIT;\nSELECT 1;\n"
    assert _check(committed, "sql", **selected) == []


# --------------------------------------------------------------------------- documentation


@pytest.mark.parametrize("rule", postgres.RULES, ids=[r.id for r in postgres.RULES])
def test_docs_show_the_unsafe_example_and_the_safe_form(rule: object) -> None:
    doc = BY_ID[rule.id].doc  # type: ignore[attr-defined]
    example = doc.split("## Example", 1)[1].split("## Use instead", 1)[0]
    instead = doc.split("## Use instead", 1)[1].split("## Fix safety", 1)[0]
    assert "```" in example, rule
    assert instead.strip(), rule


DOC_TOOLS = {
    "enum-add-value-in-transaction": ("alembic", "postgresql"),
    "prefer-robust-statements": ("goose", "postgresql"),
    "mysql-blocking-algorithm": ("flyway", "mysql"),
    "statements-after-access-exclusive": ("flyway", "postgresql"),
}


@pytest.mark.parametrize("rule", postgres.RULES, ids=[r.id for r in postgres.RULES])
def test_doc_examples_fire_and_safe_forms_do_not(rule: object) -> None:
    rule_id: str = rule.id  # type: ignore[attr-defined]
    doc = BY_ID[rule_id].doc
    example = doc.split("## Example", 1)[1].split("## Use instead", 1)[0]
    instead = doc.split("## Use instead", 1)[1].split("## Fix safety", 1)[0]
    tool, dialect = DOC_TOOLS.get(rule_id, ("flyway", "postgresql"))
    bad, good = _code(example), _code(instead)
    if tool == "alembic":
        bad, good = alembic(_body(bad)), alembic(_body(good))
    options = {"select": [rule_id]}
    assert rule_id in rules(bad, tool=tool, dialect=dialect, **options)  # type: ignore[arg-type]
    if rule_id not in ("drop-not-null", "drop-constraint"):  # their "instead" is a suppression
        assert rule_id not in rules(good, tool=tool, dialect=dialect, **options)  # type: ignore[arg-type]


def _code(section: str) -> str:
    return section.split("```", 2)[1].split("\n", 1)[1]


def _body(code: str) -> str:
    lines = code.splitlines()
    return textwrap.dedent("\n".join(line for line in lines if not line.startswith("def ")))
