"""Rules on SQL migration files of every SQL runner (Flyway, Prisma, golang-migrate, dbmate,
goose, plain folders), as a user sees them: which findings appear, and exactly where.

Statement rules must behave the same whatever the runner; what differs per runner is which part
is the forward step and whether it runs inside a transaction.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from rule_helpers import SQL_TOOLS, check, findings, position, rules, sql_file

PG_ONLY = {
    "non-concurrent-index",
    "non-concurrent-index-drop",
    "concurrent-index-in-transaction",
    "set-not-null-on-existing-column",
    "add-column-volatile-default",
    "foreign-key-without-not-valid",
    "check-constraint-without-not-valid",
    "unique-constraint-without-index",
    "update-with-limit",
    "drop-not-null",
}

# (name, statement, [(rule, text under the range)]) on an existing table, PostgreSQL.
FIRES = [
    (
        "create-index",
        "CREATE INDEX ix_users_email ON users (email);",
        [("non-concurrent-index", "CREATE INDEX")],
    ),
    (
        "create-unique-index",
        "CREATE UNIQUE INDEX ix_users_email ON users (email);",
        [("non-concurrent-index", "CREATE UNIQUE INDEX")],
    ),
    (
        "create-index-unnamed",
        "CREATE INDEX ON public.users USING btree (email);",
        [("non-concurrent-index", "CREATE INDEX")],
    ),
    (
        "drop-index",
        "DROP INDEX IF EXISTS ix_users_email;",
        [("non-concurrent-index-drop", "DROP INDEX")],
    ),
    (
        "add-not-null",
        "ALTER TABLE users ADD COLUMN email varchar(255) NOT NULL;",
        [("add-not-null-column-without-default", "email")],
    ),
    (
        "add-not-null-second-action",
        "ALTER TABLE users ADD COLUMN nick text, ADD COLUMN email text NOT NULL;",
        [("add-not-null-column-without-default", "email")],
    ),
    (
        "set-not-null",
        "ALTER TABLE users ALTER COLUMN email SET NOT NULL;",
        [("set-not-null-on-existing-column", "email")],
    ),
    (
        "gen-random-uuid",
        "ALTER TABLE orders ADD COLUMN public_id uuid DEFAULT gen_random_uuid();",
        [("add-column-volatile-default", "public_id")],
    ),
    (
        "random",
        "ALTER TABLE orders ADD COLUMN jitter float DEFAULT random();",
        [("add-column-volatile-default", "jitter")],
    ),
    (
        "clock-timestamp",
        "ALTER TABLE orders ADD COLUMN seen timestamptz DEFAULT clock_timestamp();",
        [("add-column-volatile-default", "seen")],
    ),
    (
        "nextval",
        "ALTER TABLE orders ADD COLUMN n bigint DEFAULT nextval('orders_n_seq');",
        [("add-column-volatile-default", "n")],
    ),
    (
        "uuid-generate-v4",
        "ALTER TABLE orders ADD COLUMN u uuid DEFAULT uuid_generate_v4();",
        [("add-column-volatile-default", "u")],
    ),
    (
        "type-bigint",
        "ALTER TABLE users ALTER COLUMN age TYPE bigint;",
        [("change-column-type", "age")],
    ),
    (
        "set-data-type",
        "ALTER TABLE users ALTER COLUMN age SET DATA TYPE bigint;",
        [("change-column-type", "age")],
    ),
    (
        "fk",
        "ALTER TABLE orders ADD CONSTRAINT fk_orders_user "
        "FOREIGN KEY (user_id) REFERENCES users (id);",
        [("foreign-key-without-not-valid", "fk_orders_user")],
    ),
    (
        "fk-only-schema",
        "ALTER TABLE ONLY public.orders ADD CONSTRAINT fk_orders_user "
        "FOREIGN KEY (user_id) REFERENCES users (id);",
        [("foreign-key-without-not-valid", "fk_orders_user")],
    ),
    (
        "fk-inline",
        "ALTER TABLE orders ADD COLUMN user_id bigint REFERENCES users (id);",
        [("foreign-key-without-not-valid", "user_id")],
    ),
    (
        "check",
        "ALTER TABLE orders ADD CONSTRAINT ck_total CHECK (total >= 0);",
        [("check-constraint-without-not-valid", "ck_total")],
    ),
    (
        "unique",
        "ALTER TABLE users ADD CONSTRAINT uq_users_email UNIQUE (email);",
        [("unique-constraint-without-index", "uq_users_email")],
    ),
    (
        "unique-inline",
        "ALTER TABLE users ADD COLUMN handle text UNIQUE;",
        [("unique-constraint-without-index", "handle")],
    ),
    (
        "primary-key",
        "ALTER TABLE users ADD CONSTRAINT pk_users PRIMARY KEY (id);",
        [("unique-constraint-without-index", "pk_users")],
    ),
    (
        "rename-column",
        "ALTER TABLE users RENAME COLUMN name TO full_name;",
        [("rename-column", "name")],
    ),
    ("rename-table", "ALTER TABLE customers RENAME TO clients;", [("rename-table", "customers")]),
    (
        "drop-column",
        "ALTER TABLE users DROP COLUMN IF EXISTS legacy_name;",
        [("drop-column", "legacy_name")],
    ),
    ("drop-table", "DROP TABLE audit_log;", [("drop-table", "audit_log")]),
    (
        "drop-tables",
        "DROP TABLE IF EXISTS audit_log, old_audit_log;",
        [("drop-table", "audit_log"), ("drop-table", "old_audit_log")],
    ),
    ("truncate", "TRUNCATE TABLE sessions;", [("truncate-table", "TRUNCATE TABLE sessions")]),
    (
        "update-all",
        "UPDATE users SET active = true;",
        [("unbatched-data-update", "UPDATE users SET active = true")],
    ),
    (
        "update-null-backfill",
        "UPDATE users SET email = username || '@example.com' WHERE email IS NULL;",
        [
            (
                "unbatched-data-update",
                "UPDATE users SET email = username || '@example.com' WHERE email IS NULL",
            )
        ],
    ),
    ("delete-all", "DELETE FROM sessions;", [("unbatched-data-update", "DELETE FROM sessions")]),
    (
        "update-limit",
        "UPDATE users SET active = true WHERE active IS NULL LIMIT 1000;",
        [("update-with-limit", "LIMIT 1000")],
    ),
    (
        "delete-limit",
        "DELETE FROM sessions WHERE expired LIMIT 500;",
        [("update-with-limit", "LIMIT 500")],
    ),
    (
        "drop-not-null",
        "ALTER TABLE users ALTER COLUMN email DROP NOT NULL;",
        [("drop-not-null", "email")],
    ),
    (
        "mixed",
        "ALTER TABLE users ADD COLUMN full_name text;\n"
        "UPDATE users SET full_name = first_name || ' ' || last_name WHERE id < 100;",
        [
            (
                "mixed-schema-and-data-change",
                "UPDATE users SET full_name = first_name || ' ' || last_name WHERE id < 100",
            )
        ],
    ),
]

QUIET = [
    (
        "index-on-new-table",
        "CREATE TABLE posts (id bigint PRIMARY KEY, title text);\n"
        "CREATE INDEX ix_posts_title ON posts (title);",
    ),
    (
        "everything-on-new-table",
        "CREATE TABLE posts (id bigint PRIMARY KEY, user_id bigint, title text);\n"
        "ALTER TABLE posts ADD CONSTRAINT fk_posts_user FOREIGN KEY (user_id) REFERENCES u (id);\n"
        "ALTER TABLE posts ADD CONSTRAINT ck_id CHECK (id > 0);\n"
        "ALTER TABLE posts ADD CONSTRAINT uq_title UNIQUE (title);\n"
        "ALTER TABLE posts ADD COLUMN body text NOT NULL;\n"
        "ALTER TABLE posts ALTER COLUMN title SET NOT NULL;\n"
        "ALTER TABLE posts ADD COLUMN public_id uuid DEFAULT gen_random_uuid();\n"
        "ALTER TABLE posts ALTER COLUMN user_id TYPE integer;\n"
        "ALTER TABLE posts RENAME COLUMN title TO headline;\n"
        "ALTER TABLE posts DROP COLUMN body;\n"
        "INSERT INTO posts (id, user_id) VALUES (1, 1);\n"
        "UPDATE posts SET headline = 'x';",
    ),
    (
        "new-table-schema-qualified",
        'CREATE TABLE "public"."posts" (id bigint);\nCREATE INDEX ix_posts_id ON posts (id);',
    ),
    (
        "renamed-new-table",
        "CREATE TABLE posts_tmp (id bigint);\n"
        "ALTER TABLE posts_tmp RENAME TO posts;\n"
        "CREATE INDEX ix_posts_id ON posts (id);\n"
        "DROP TABLE posts;",
    ),
    (
        "not-null-with-default",
        "ALTER TABLE users ADD COLUMN email varchar(255) NOT NULL DEFAULT '';",
    ),
    ("nullable-column", "ALTER TABLE users ADD COLUMN email varchar(255);"),
    ("identity-column", "ALTER TABLE users ADD COLUMN seq bigint GENERATED ALWAYS AS IDENTITY;"),
    (
        # the CHECK ... NOT VALID came in an earlier migration; validating it in the same
        # transaction that added it would hold the ADD's lock during the scan
        "set-not-null-after-validated-check",
        "ALTER TABLE users VALIDATE CONSTRAINT users_email_nn;\n"
        "ALTER TABLE users ALTER COLUMN email SET NOT NULL;",
    ),
    ("now-default", "ALTER TABLE users ADD COLUMN created timestamptz DEFAULT now();"),
    (
        "current-timestamp-default",
        "ALTER TABLE users ADD COLUMN created timestamptz NOT NULL DEFAULT CURRENT_TIMESTAMP;",
    ),
    ("set-default-only", "ALTER TABLE users ALTER COLUMN active SET DEFAULT true;"),
    (
        "fk-not-valid",
        "ALTER TABLE orders ADD CONSTRAINT fk_orders_user "
        "FOREIGN KEY (user_id) REFERENCES users (id) NOT VALID;",
    ),
    ("validate-constraint", "ALTER TABLE orders VALIDATE CONSTRAINT fk_orders_user;"),
    ("check-not-valid", "ALTER TABLE orders ADD CONSTRAINT ck_total CHECK (total >= 0) NOT VALID;"),
    (
        "unique-using-index",
        "ALTER TABLE users ADD CONSTRAINT uq_users_email UNIQUE USING INDEX uq_users_email;",
    ),
    ("pk-using-index", "ALTER TABLE users ADD CONSTRAINT pk_users PRIMARY KEY USING INDEX pk_idx;"),
    ("bounded-update", "UPDATE users SET active = true WHERE id = 42;"),
    (
        "batched-update-subquery-limit",
        "UPDATE users SET active = true WHERE id IN "
        "(SELECT id FROM users WHERE active IS NULL ORDER BY id LIMIT 1000);",
    ),
    ("bounded-delete", "DELETE FROM sessions WHERE created_at < now() - interval '30 days';"),
    (
        "data-only-with-settings",
        "SET lock_timeout = '5s';\nUPDATE users SET active = true WHERE id = 42;",
    ),
    ("comments-only", "-- nothing to do yet\n/* really */\n"),
]


@pytest.mark.parametrize("tool", SQL_TOOLS)
@pytest.mark.parametrize(("sql", "expected"), [c[1:] for c in FIRES], ids=[c[0] for c in FIRES])
def test_statement_rules_fire_on_postgresql(
    tool: str, sql: str, expected: list[tuple[str, str]]
) -> None:
    text = sql_file(tool, sql)
    assert findings(text, tool=tool) == expected


@pytest.mark.parametrize("tool", SQL_TOOLS)
@pytest.mark.parametrize("sql", [c[1] for c in QUIET], ids=[c[0] for c in QUIET])
def test_statement_rules_quiet_on_postgresql(tool: str, sql: str) -> None:
    assert findings(sql_file(tool, sql), tool=tool) == []


@pytest.mark.parametrize("tool", ["flyway", "golang-migrate", "dbmate"])
@pytest.mark.parametrize(("sql", "expected"), [c[1:] for c in FIRES], ids=[c[0] for c in FIRES])
def test_postgresql_only_rules_quiet_on_mysql(
    tool: str, sql: str, expected: list[tuple[str, str]]
) -> None:
    text = sql_file(tool, sql)
    portable = [(rule, snippet) for rule, snippet in expected if rule not in PG_ONLY]
    assert findings(text, tool=tool, dialect="mysql") == portable


def test_update_with_limit_quiet_on_mysql_but_fires_on_postgresql() -> None:
    text = "UPDATE users SET active = true WHERE active IS NULL ORDER BY id LIMIT 1000;\n"
    assert rules(text, tool="flyway", dialect="mysql") == []
    assert rules(text, tool="flyway", dialect="postgresql") == ["update-with-limit"]


def test_ranges_are_exact_in_a_multi_statement_file() -> None:
    text = (
        "-- Add the email column\n"
        "ALTER TABLE users ADD COLUMN email varchar(255);\n"
        "\n"
        "CREATE INDEX ix_users_email ON users (email);\n"
        "ALTER TABLE users\n"
        "    DROP COLUMN legacy_name;\n"
    )
    result = check(text, tool="flyway")
    assert [(f.rule, text[f.span.start : f.span.end]) for f in result] == [
        ("non-concurrent-index", "CREATE INDEX"),
        ("drop-column", "legacy_name"),
    ]
    assert [f.start for f in result] == [(3, 0), (5, 16)]
    assert result[1].end == (5, 16 + len("legacy_name"))


@pytest.mark.parametrize("tool", SQL_TOOLS)
def test_non_ascii_before_a_finding_keeps_code_point_columns(tool: str) -> None:
    text = sql_file(
        tool,
        "-- Données: 🦆 naïve\n"
        "INSERT INTO notes (body) VALUES ('日本語 🦆'); "
        "UPDATE notes SET body = 'é' WHERE body IS NULL LIMIT 10;\n"
        'ALTER TABLE "tâble" DROP COLUMN "çolumn";\n',
    )
    result = check(text, tool=tool)
    assert [(f.rule, text[f.span.start : f.span.end]) for f in result] == [
        ("mixed-schema-and-data-change", "INSERT INTO notes (body) VALUES ('日本語 🦆')"),
        ("update-with-limit", "LIMIT 10"),
        ("drop-column", '"çolumn"'),
    ]
    assert result[1].start == position(text, "LIMIT 10")
    assert result[2].start == position(text, '"çolumn"')
    line, column = result[2].start
    assert text.splitlines()[line][column:] == '"çolumn";'


# --------------------------------------------------------------------------- transactions

CONCURRENT = "CREATE INDEX CONCURRENTLY ix_users_email ON users (email);"
CONCURRENT_AND_MORE = CONCURRENT + "\nALTER TABLE users ADD COLUMN nickname text;"


@pytest.mark.parametrize("tool", ["flyway", "prisma", "golang-migrate", "sql"])
@pytest.mark.parametrize(
    "sql",
    [
        CONCURRENT,
        "CREATE INDEX CONCURRENTLY IF NOT EXISTS ix_users_email ON users (email);",
        "DROP INDEX CONCURRENTLY IF EXISTS ix_users_email;",
    ],
)
def test_concurrent_index_alone_in_a_file_is_fine(tool: str, sql: str) -> None:
    assert findings(sql_file(tool, sql), tool=tool) == []


@pytest.mark.parametrize("tool", ["flyway", "prisma", "golang-migrate", "dbmate", "goose"])
def test_concurrent_index_with_other_statements_runs_in_a_transaction(tool: str) -> None:
    text = sql_file(tool, CONCURRENT_AND_MORE)
    result = check(text, tool=tool)
    assert [(f.rule, text[f.span.start : f.span.end]) for f in result] == [
        ("concurrent-index-in-transaction", "CONCURRENTLY")
    ]
    assert result[0].start == position(text, "CONCURRENTLY")
    assert result[0].severity.label == "error"


def test_concurrent_index_alone_with_comments_is_still_alone() -> None:
    text = '-- Index for login\nCREATE INDEX CONCURRENTLY "ix_users_email" ON "users"("email");\n\n'
    for tool in ("prisma", "golang-migrate", "flyway"):
        assert findings(text, tool=tool) == [], tool


@pytest.mark.parametrize("tool", ["dbmate", "goose"])
def test_dbmate_and_goose_wrap_even_a_single_statement(tool: str) -> None:
    assert rules(sql_file(tool, CONCURRENT), tool=tool) == ["concurrent-index-in-transaction"]


def test_dbmate_transaction_false_section_is_fine_alone() -> None:
    text = (
        "-- migrate:up transaction:false\n"
        "CREATE INDEX CONCURRENTLY ix_users_email ON users (email);\n"
        "\n"
        "-- migrate:down\n"
        "DROP INDEX ix_users_email;\n"
    )
    assert findings(text, tool="dbmate") == []


def test_dbmate_transaction_false_with_other_statements_still_fails() -> None:
    """dbmate sends the section as one query: PostgreSQL runs it as one implicit transaction."""
    text = (
        "-- migrate:up transaction:false\n"
        f"{CONCURRENT_AND_MORE}\n"
        "\n"
        "-- migrate:down\n"
        "DROP INDEX ix_users_email;\n"
    )
    assert "concurrent-index-in-transaction" in rules(text, tool="dbmate")


def test_goose_no_transaction_is_fine() -> None:
    text = (
        "-- +goose NO TRANSACTION\n"
        "\n"
        "-- +goose Up\n"
        f"{CONCURRENT_AND_MORE}\n"
        "\n"
        "-- +goose Down\n"
        "DROP INDEX CONCURRENTLY ix_users_email;\n"
    )
    assert findings(text, tool="goose") == []


def test_goose_statement_block_still_in_transaction() -> None:
    text = f"-- +goose Up\n-- +goose StatementBegin\n{CONCURRENT}\n-- +goose StatementEnd\n"
    assert rules(text, tool="goose") == ["concurrent-index-in-transaction"]


def test_flyway_script_config_execute_in_transaction_false(tmp_path: Path) -> None:
    script = tmp_path / "V2__add_index.sql"
    script.write_text(CONCURRENT_AND_MORE, encoding="utf-8")
    assert rules(CONCURRENT_AND_MORE, tool="flyway", path=script) == [
        "concurrent-index-in-transaction"
    ]
    (tmp_path / "V2__add_index.sql.conf").write_text(
        "executeInTransaction=false\n", encoding="utf-8"
    )
    assert findings(CONCURRENT_AND_MORE, tool="flyway", path=script) == []


def test_flyway_script_config_execute_in_transaction_true(tmp_path: Path) -> None:
    script = tmp_path / "V2__add_index.sql"
    script.write_text(CONCURRENT, encoding="utf-8")
    (tmp_path / "V2__add_index.sql.conf").write_text(
        "executeInTransaction=true\n", encoding="utf-8"
    )
    assert rules(CONCURRENT, tool="flyway", path=script) == ["concurrent-index-in-transaction"]


def test_flyway_mixed_setting_runs_the_script_without_transaction() -> None:
    assert findings(CONCURRENT_AND_MORE, tool="flyway", settings={"mixed": True}) == []


def test_flyway_counts_a_set_as_transactional() -> None:
    """Flyway marks only CONCURRENTLY-like statements non-transactional: a SET next to one makes
    a mixed script, which Flyway refuses (proven on PostgreSQL in tests/pg)."""
    text = "SET lock_timeout = '5s';\n" + CONCURRENT
    assert rules(text, tool="flyway") == ["concurrent-index-in-transaction"]
    assert findings("-- flyway:executeInTransaction=false\n" + text, tool="flyway") == []


def test_plain_sql_between_begin_and_commit_fires() -> None:
    text = f"BEGIN;\n{CONCURRENT}\nCOMMIT;\n"
    result = check(text, tool="sql")
    assert [(f.rule, text[f.span.start : f.span.end]) for f in result] == [
        ("concurrent-index-in-transaction", "CONCURRENTLY")
    ]
    assert result[0].start == (1, len("CREATE INDEX "))


def test_plain_sql_after_commit_is_fine() -> None:
    text = f"BEGIN;\nALTER TABLE users ADD COLUMN nickname text;\nCOMMIT;\n{CONCURRENT}\n"
    assert rules(text, tool="sql") == []


def test_plain_sql_several_statements_not_wrapped() -> None:
    assert findings(CONCURRENT_AND_MORE, tool="sql") == []


@pytest.mark.parametrize("tool", SQL_TOOLS)
def test_concurrent_rules_quiet_on_mysql(tool: str) -> None:
    assert (
        findings(sql_file(tool, "CREATE INDEX ix ON users (email);"), tool=tool, dialect="mysql")
        == []
    )


# --------------------------------------------------------------------------- up and down


def test_golang_migrate_down_file_judged_only_with_check_downgrade() -> None:
    path = "migrations/000002_add_email.down.sql"
    text = "ALTER TABLE users DROP COLUMN email;\n"
    assert findings(text, tool="golang-migrate", path=path) == []
    assert findings(text, tool="golang-migrate", path=path, check_downgrade=True) == [
        ("drop-column", "email")
    ]


def test_plain_sql_down_file_not_judged() -> None:
    assert findings("DROP TABLE users;", tool="sql", path="migrations/002_x.down.sql") == []


def test_flyway_undo_script_not_judged() -> None:
    assert findings("DROP TABLE users;", tool="flyway", path="db/migration/U2__x.sql") == []


def test_flyway_repeatable_script_is_judged() -> None:
    assert findings("DROP TABLE users;", tool="flyway", path="db/migration/R__views.sql") == [
        ("drop-table", "users")
    ]


@pytest.mark.parametrize("tool", ["dbmate", "goose"])
def test_down_section_judged_only_with_check_downgrade(tool: str) -> None:
    text = sql_file(tool, "CREATE TABLE posts (id bigint);", "DROP TABLE users;")
    assert findings(text, tool=tool) == []
    result = check(text, tool=tool, check_downgrade=True)
    assert [(f.rule, text[f.span.start : f.span.end]) for f in result] == [("drop-table", "users")]
    assert result[0].start == position(text, "users")


@pytest.mark.parametrize("tool", SQL_TOOLS)
def test_reversibility_rules_do_not_apply_to_sql_runners(tool: str) -> None:
    text = sql_file(tool, "CREATE TABLE posts (id bigint);", "")
    assert findings(text, tool=tool) == []


# --------------------------------------------------------------------------- parse errors


@pytest.mark.parametrize("tool", SQL_TOOLS)
@pytest.mark.parametrize(
    ("sql", "bad"),
    [
        ("CREATE INDEX ix_users_email ON", "ON"),
        ("CREATE TABLE posts (id bigint", "("),
        ("INSERT INTO posts VALUES (1,", "("),
        ("DROP TABLE", "TABLE"),
    ],
)
def test_half_typed_sql_reports_only_the_parse_error(tool: str, sql: str, bad: str) -> None:
    text = sql_file(tool, "DROP TABLE audit_log;\n" + sql)
    result = check(text, tool=tool)
    assert [(f.rule, text[f.span.start : f.span.end]) for f in result] == [
        ("migration-parse-error", bad)
    ]
    offset = text.rindex(sql) + sql.rindex(bad)
    assert result[0].span.start == offset
    assert result[0].start == (
        text.count("\n", 0, offset),
        offset - text.rindex("\n", 0, offset) - 1,
    )
    assert result[0].severity.label == "error"


def test_unterminated_string_reports_the_rest_of_the_line() -> None:
    text = "DROP TABLE audit_log;\nUPDATE users SET name = 'abc\n"
    result = check(text, tool="flyway")
    assert [(f.rule, text[f.span.start : f.span.end]) for f in result] == [
        ("migration-parse-error", "'abc")
    ]
    assert result[0].start == (1, 24)


@pytest.mark.parametrize(
    "sql",
    [
        "ALTER TABLE users ADD COLUMN email varchar(255;",
        "ALTER TABLE users ADD COLUMN",
        "ALTER TABLE users DROP COLUMN",
        "ALTER TABLE users ALTER COLUMN email SET NOT",
    ],
)
def test_half_typed_alter_table_is_a_parse_error(sql: str) -> None:
    assert rules(sql, tool="flyway") == ["migration-parse-error"]


def test_half_typed_update_is_a_parse_error() -> None:
    assert rules("UPDATE users SET", tool="flyway") == ["migration-parse-error"]


@pytest.mark.parametrize("tool", SQL_TOOLS)
@pytest.mark.parametrize("text", ["", "\n\n", "-- TODO\n"])
def test_empty_file_has_no_findings(tool: str, text: str) -> None:
    assert findings(text, tool=tool) == []


# --------------------------------------------------------------------------- known gaps


def test_statements_inside_do_block_are_checked() -> None:
    text = "DO $$\nBEGIN\n    CREATE INDEX ix_users_email ON users (email);\nEND\n$$;\n"
    assert findings(text, tool="flyway") == [("non-concurrent-index", "CREATE INDEX")]


@pytest.mark.parametrize(
    "sql",
    [
        "ALTER TABLE users MODIFY COLUMN age BIGINT;",
        "ALTER TABLE users CHANGE COLUMN age age BIGINT;",
    ],
)
def test_mysql_modify_column_type_change_fires(sql: str) -> None:
    assert rules(sql, tool="flyway", dialect="mysql") == ["change-column-type"]


def test_mysql_rename_table_statement_fires() -> None:
    assert rules("RENAME TABLE customers TO clients;", tool="flyway", dialect="mysql") == [
        "rename-table"
    ]


def test_mixed_quiet_for_data_load_plus_setval() -> None:
    text = (
        "INSERT INTO plans (id, name) VALUES (10, 'pro');\n"
        "SELECT setval('plans_id_seq', (SELECT max(id) FROM plans));\n"
    )
    assert findings(text, tool="flyway") == []


@pytest.mark.parametrize("tool", SQL_TOOLS)
def test_python_only_rules_never_fire_on_sql(tool: str) -> None:
    text = sql_file(
        tool,
        "-- from myapp.models import User\n"
        "-- op.execute(f\"UPDATE users SET plan = '{plan}'\").rowcount\n"
        "SELECT 1;",
    )
    assert findings(text, tool=tool) == []
