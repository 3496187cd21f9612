"""Quick fixes for Liquibase changelogs: every fix is applied, the changelog re-parsed, and the
finding must be gone with no syntax error left behind."""

from __future__ import annotations

from typing import Any

import pytest

from migration_lsp.findings import Applicability, Finding, Fix
from migration_lsp.fixes import FIX_NAMES, TOOL_BUILDERS, apply_edits, fix_for, fixes_for
from migration_lsp.parse.treesitter import TreeSource
from migration_lsp.rules.registry import BY_ID
from rule_helpers import analyse, config
from test_liquibase_helpers import FORMATS, XML_FOOTER, XML_HEADER, changeset, parse, write

INDEX = (
    "createIndex",
    {"indexName": "ix_users_email", "tableName": "users", "columns": [{"name": "email"}]},
)


def _findings(text: str, fmt: str, rule: str) -> list[Finding]:
    return [f for f in analyse(parse(text, fmt), config()) if f.rule == rule]


def apply_fix(text: str, fmt: str, rule: str, index: int = 0) -> tuple[Fix, str]:
    """Apply the fix of the `index`-th `rule` finding; the result must parse and lose exactly
    that finding."""
    migration = parse(text, fmt)
    before = _findings(text, fmt, rule)
    fix = fix_for(before[index], migration)
    assert fix is not None and fix.edits, f"no fix for {rule}"
    fixed = apply_edits(text, fix.edits)
    reparsed = parse(fixed, fmt)
    assert reparsed.problems == [], fixed
    if fmt == "xml":
        assert not TreeSource(fixed, "xml").root.has_error
    after = _findings(fixed, fmt, rule)
    assert len(after) == len(before) - 1, fixed
    return fix, fixed


def test_registered() -> None:
    builders = TOOL_BUILDERS["liquibase"]
    assert set(builders) == {
        "changeset-without-rollback",
        "non-concurrent-index",
        "concurrent-index-in-transaction",
    }
    assert FIX_NAMES["changeset-without-rollback"] == BY_ID["changeset-without-rollback"].fix


# --------------------------------------------------------------------------- add-rollback


def test_add_rollback_xml_writes_the_inverses_it_can() -> None:
    text = write(
        "xml",
        changeset(
            "30",
            "alice",
            ("createTable", {"tableName": "audit", "columns": [{"name": "id", "type": "bigint"}]}),
            INDEX,
            ("dropColumn", {"tableName": "users", "columnName": "legacy_code"}),
            ("sql", {"sql": "UPDATE users SET tier = 'basic' WHERE tier IS NULL"}),
        ),
    )
    fix, fixed = apply_fix(text, "xml", "changeset-without-rollback")
    assert fix.applicability is Applicability.UNSAFE and "TODO" in fix.title
    rollback = fixed[fixed.index("        <rollback>") : fixed.index("</rollback>") + 11]
    assert rollback == (
        "        <rollback>\n"
        "            <stop message=\"TODO: write the SQL that undoes this changeSet's"
        ' sql"/>\n'
        "            <!-- TODO: the type (and constraints) users.legacy_code had before it was"
        " dropped -->\n"
        '            <addColumn tableName="users">\n'
        '                <column name="legacy_code" type="TODO"/>\n'
        "            </addColumn>\n"
        '            <dropIndex tableName="users" indexName="ix_users_email"/>\n'
        '            <dropTable tableName="audit"/>\n'
        "        </rollback>"
    )
    assert fixed.index("</sql>") < fixed.index("<rollback>") < fixed.index("</changeSet>")


def test_add_rollback_matches_the_files_indentation() -> None:
    text = (
        XML_HEADER.replace("    ", "  ")
        + '  <changeSet id="31" author="bob">\n'
        + '    <dropColumn tableName="users" columnName="a"/>\n'
        + "  </changeSet>\n"
        + XML_FOOTER
    )
    _, fixed = apply_fix(text, "xml", "changeset-without-rollback")
    assert "\n    <rollback>\n      <!-- TODO" in fixed
    assert '\n      <addColumn tableName="users">\n        <column name="a" type="TODO"/>' in fixed


def test_add_rollback_yaml() -> None:
    text = """databaseChangeLog:
    -   changeSet:
            id: 32
            author: carol
            changes:
                -   renameColumn:
                        tableName: users
                        oldColumnName: name
                        newColumnName: full_name
                -   dropTable:
                        tableName: legacy
    -   changeSet:
            id: 33
            author: carol
            changes:
                -   dropColumn:
                        tableName: users
                        columnName: b
"""
    fix, fixed = apply_fix(text, "yaml", "changeset-without-rollback")
    assert fix.title == "Add a rollback: (fill in its TODOs)"
    assert (
        "                        tableName: legacy\n"
        "            rollback:\n"
        "              - stop:\n"
        '                  message: "TODO: recreate table legacy (a createTable with its'
        ' columns)"\n'
        "              - renameColumn:\n"
        "                  tableName: users\n"
        "                  oldColumnName: full_name\n"
        "                  newColumnName: name\n"
        "    -   changeSet:\n"
    ) in fixed
    _, fixed_again = apply_fix(fixed, "yaml", "changeset-without-rollback")
    assert "# TODO: the type (and constraints) users.b had before it was dropped" in fixed_again


def test_add_rollback_json() -> None:
    text = write(
        "json",
        changeset("34", "dave", ("dropIndex", {"tableName": "users", "indexName": "ix_old"})),
        changeset(
            "35",
            "dave",
            ("addColumn", {"tableName": "t", "columns": [{"name": "c", "type": "text"}]}),
        ),
    )
    _, fixed = apply_fix(text, "json", "changeset-without-rollback")
    assert (
        '        ],\n        "rollback": [\n          {\n            "stop": {\n'
        '              "message": "TODO: recreate index ix_old on users (a createIndex with its '
        'columns)"\n            }\n          }\n        ]\n      }'
    ) in fixed


def test_add_rollback_formatted_sql() -> None:
    text = """--liquibase formatted sql

--changeset erin:36
CREATE TABLE audit (id bigint PRIMARY KEY);
ALTER TABLE users ADD COLUMN nick text;
ALTER TABLE users RENAME COLUMN name TO full_name;
UPDATE users SET nick = full_name WHERE nick IS NULL;

--changeset erin:37 runInTransaction:false
CREATE INDEX CONCURRENTLY ix_users_nick ON users (nick);
"""
    _, fixed = apply_fix(text, "sql", "changeset-without-rollback")
    assert (
        "UPDATE users SET nick = full_name WHERE nick IS NULL;\n"
        "--rollback -- TODO: undo `UPDATE users SET nick = full_name WHERE nick IS NULL`\n"
        "--rollback ALTER TABLE users RENAME COLUMN full_name TO name;\n"
        "--rollback ALTER TABLE users DROP COLUMN nick;\n"
        "--rollback DROP TABLE audit;\n"
        "\n--changeset erin:37"
    ) in fixed
    _, fixed = apply_fix(fixed, "sql", "changeset-without-rollback")
    assert fixed.endswith(
        "ON users (nick);\n--rollback DROP INDEX CONCURRENTLY IF EXISTS ix_users_nick;\n"
    )


def test_no_rollback_fix_for_a_changeset_that_has_one_or_a_flow_style_one() -> None:
    flow = (
        "databaseChangeLog:\n  - changeSet: {id: 38, author: f, changes: "
        "[{dropTable: {tableName: t}}]}\n"
    )
    migration = parse(flow, "yaml")
    found = _findings(flow, "yaml", "changeset-without-rollback")
    assert len(found) == 1 and fixes_for(found[0], migration) == []


# --------------------------------------------------------------------------- use-concurrently


@pytest.mark.parametrize("fmt", FORMATS)
def test_create_index_becomes_concurrent_sql(fmt: str) -> None:
    text = write(fmt, changeset("39", "gus", INDEX))
    fix, fixed = apply_fix(text, fmt, "non-concurrent-index")
    assert fix.applicability is Applicability.SAFE
    assert "CREATE INDEX CONCURRENTLY IF NOT EXISTS ix_users_email ON users (email)" in fixed
    migration = parse(fixed, fmt)
    assert not any(op.in_transaction for op in migration.operations)
    assert migration.changesets[0].rollback is not None
    remaining = {f.rule for f in analyse(migration, config())}
    assert not remaining & {
        "non-concurrent-index",
        "concurrent-index-in-transaction",
        "changeset-without-rollback",
    }


def test_create_index_fix_in_xml_reads_like_liquibase() -> None:
    text = write(
        "xml",
        changeset(
            "40",
            "gus",
            ("addColumn", {"tableName": "users", "columns": [{"name": "email", "type": "text"}]}),
            (
                "createIndex",
                {
                    "indexName": "ux_users_email",
                    "tableName": "users",
                    "unique": True,
                    "columns": [{"name": "email"}, {"name": "id", "descending": True}],
                },
            ),
        ),
    )
    fix, fixed = apply_fix(text, "xml", "non-concurrent-index")
    assert fix.applicability is Applicability.UNSAFE  # addColumn leaves the transaction too
    assert '<changeSet id="40" author="gus" runInTransaction="false">' in fixed
    assert (
        "        <sql>CREATE UNIQUE INDEX CONCURRENTLY IF NOT EXISTS ux_users_email ON users "
        "(email, id DESC)</sql>\n"
        "        <rollback>\n"
        '            <dropIndex tableName="users" indexName="ux_users_email"/>\n'
        '            <dropColumn tableName="users" columnName="email"/>\n'
        "        </rollback>\n"
    ) in fixed


@pytest.mark.parametrize(
    ("fmt", "text"),
    [
        (
            "xml",
            XML_HEADER
            + '    <changeSet id="41" author="hal" runInTransaction="true">\n'
            + "        <sql>CREATE INDEX ix_a ON users (a);</sql>\n"
            + "        <rollback/>\n    </changeSet>\n"
            + XML_FOOTER,
        ),
        (
            "sql",
            "--liquibase formatted sql\n\n--changeset hal:41\n"
            "CREATE INDEX ix_a ON users (a);\n--rollback DROP INDEX ix_a;\n",
        ),
    ],
)
def test_sql_index_gets_concurrently_and_leaves_the_transaction(fmt: str, text: str) -> None:
    fix, fixed = apply_fix(text, fmt, "non-concurrent-index")
    assert fix.applicability is Applicability.SAFE
    assert "CREATE INDEX CONCURRENTLY IF NOT EXISTS ix_a ON users (a);" in fixed
    assert (
        'runInTransaction="false"' in fixed or "--changeset hal:41 runInTransaction:false" in fixed
    )
    assert "concurrent-index-in-transaction" not in {
        f.rule for f in analyse(parse(fixed, fmt), config())
    }


# ---------------------------------------------------------------------- run-outside-transaction

CONCURRENT = ("sql", {"sql": "CREATE INDEX CONCURRENTLY IF NOT EXISTS ix_a ON users (a)"})


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("attributes", [{}, {"runInTransaction": True}], ids=["absent", "true"])
def test_concurrent_index_leaves_the_transaction(fmt: str, attributes: dict[str, Any]) -> None:
    text = write(fmt, changeset("42", "ian", CONCURRENT, rollback=[], **attributes))
    fix, fixed = apply_fix(text, fmt, "concurrent-index-in-transaction")
    assert fix.applicability is Applicability.SAFE
    assert fixed.count("runInTransaction") == 1
    assert not any(op.in_transaction for op in parse(fixed, fmt).operations)


def test_concurrent_index_in_formatted_sql_and_with_other_changes() -> None:
    text = (
        "--liquibase formatted sql\n\n--changeset ian:43 runInTransaction:true\n"
        "CREATE INDEX CONCURRENTLY ix_a ON users (a);\n--rollback empty\n"
    )
    _, fixed = apply_fix(text, "sql", "concurrent-index-in-transaction")
    assert "--changeset ian:43 runInTransaction:false\n" in fixed
    crowded = write(
        "xml",
        changeset(
            "44",
            "ian",
            ("dropColumn", {"tableName": "users", "columnName": "b"}),
            CONCURRENT,
            rollback=[],
        ),
    )
    fix, _ = apply_fix(crowded, "xml", "concurrent-index-in-transaction")
    assert fix.applicability is Applicability.UNSAFE


def test_one_call_for_several_statements_is_display_only() -> None:
    text = write(
        "xml",
        changeset(
            "45",
            "jo",
            (
                "sql",
                {
                    "splitStatements": False,
                    "sql": "CREATE INDEX CONCURRENTLY ix_a ON users (a); "
                    "CREATE INDEX CONCURRENTLY ix_b ON users (b)",
                },
            ),
            rollback=[],
        ),
    )
    migration = parse(text, "xml")
    finding = _findings(text, "xml", "concurrent-index-in-transaction")[0]
    fix = fix_for(finding, migration)
    assert fix is not None and fix.applicability is Applicability.DISPLAY and not fix.edits
