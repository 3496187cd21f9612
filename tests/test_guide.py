"""Hover docs from a skill guide: parsing, topic lookup, the bundled guide and which guide wins."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

from migration_lsp.guide import (
    RULE_TOPICS,
    TOPICS,
    WORD_TOPICS,
    Guide,
    bundled_guide,
    clear_cache,
    find_guide,
    hover_markdown,
    load_guide,
    parse_guide,
    section_for_operation,
    section_for_rule,
    section_for_word,
    split_front_matter,
    topic_for_operation,
    topic_for_rule,
    topic_for_word,
)
from migration_lsp.guide.topics import score_heading, stem, terms
from migration_lsp.model import (
    AddColumn,
    AddConstraint,
    AlterColumn,
    Column,
    CreateIndex,
    CreateTable,
    DataChange,
    DropColumn,
    DropConstraint,
    DropIndex,
    DropTable,
    ExecuteSQL,
    Operation,
    OtherStatement,
    RenameColumn,
    RenameTable,
    RunCode,
    SetSetting,
    TransactionControl,
    Truncate,
    ValidateConstraint,
)
from migration_lsp.rules.registry import BY_ID
from migration_lsp.text import Span

USER_GUIDE = (
    Path(__file__).parent / "fixtures" / "guides" / "creating-database-migrations" / "SKILL.md"
)
BUNDLED_FILE = (
    Path(__file__).resolve().parents[1] / "server" / "migration_lsp" / "guide" / "migrations.md"
)
S = Span(0, 0)


@pytest.fixture(scope="module")
def user() -> Guide:
    return parse_guide(USER_GUIDE.read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def bundled() -> Guide:
    return bundled_guide()


@pytest.fixture(autouse=True)
def _fresh_cache() -> None:
    clear_cache()


def titles(guide: Guide) -> list[str]:
    return [s.title for s in guide.sections]


# --------------------------------------------------------------------------- parsing


def test_user_guide_front_matter_and_title(user: Guide) -> None:
    assert user.name == "creating-database-migrations"
    assert user.title == "Creating Database Migrations"
    assert user.description.startswith("Guide for creating and managing database schema")
    assert user.description.endswith("adding tables, or modifying columns.")
    assert user.problems == []


def test_user_guide_sections_in_order_with_levels_and_lines(user: Guide) -> None:
    found = [(s.level, s.title) for s in user.sections]
    assert found[:4] == [
        (1, "Creating Database Migrations"),
        (2, "When to Use This Skill"),
        (2, "Migration Tools Detection"),
        (3, "Python"),
    ]
    assert (3, "Adding an Index") in found
    assert (4, "2. Large Table Migrations") in found
    assert found[-1] == (2, "Project Configuration")
    assert len(found) == 36
    lines = user.text.split("\n")
    for section in user.sections:
        assert lines[section.line].lstrip("#").strip() == section.title
        assert section.index == user.sections.index(section)


def test_code_block_comments_are_not_headings(user: Guide) -> None:
    for comment in (
        "Auto-generate from model changes",
        "Create empty migration",
        "migrations/versions/abc123_add_user_email_column.py",
        "Alembic",
        "Step 1: Add as nullable",
        "Multiple people created migrations",
        "Check logs",
    ):
        assert comment not in titles(user), comment
    # ...and their text stays in the body of the section around them
    create = user.section_titled("Alembic (Python/SQLAlchemy)")
    assert create is not None
    assert "# Auto-generate from model changes" in create.own_body


def test_breadcrumb_own_body_and_body(user: Guide) -> None:
    index = user.section_titled("Adding an Index")
    assert index is not None
    assert index.path == ("Creating Database Migrations", "Step 2: Common Migration Operations")
    assert index.breadcrumb[-1] == "Adding an Index"
    assert "op.create_index('idx_users_email', 'users', ['email'])" in index.body
    assert "Creating a Table" not in index.body

    step2 = user.section_titled("Step 2: Common Migration Operations")
    assert step2 is not None
    assert step2.own_body == ""  # a heading followed directly by a sub-heading
    assert "### Adding a Column" in step2.body
    assert "### Adding Foreign Key" in step2.body
    assert "## Step 3: Data Migrations" not in step2.body
    assert step2.end_line == user.sections[step2.index + 6].line  # up to "Step 3"

    deploy = user.section_titled("Safe Deployment Strategies")
    assert deploy is not None
    assert deploy.own_body == ""
    assert "#### 2. Large Table Migrations" in deploy.body
    assert "## Rollback Strategy" not in deploy.body


def test_placeholders_stay_text(user: Guide) -> None:
    config = user.section_titled("Project Configuration")
    assert config is not None
    assert "{{migration_tool}}" in config.own_body
    assert "{{db_dirs}}" in config.own_body


def test_fences_of_every_kind_hide_headings() -> None:
    text = "\n".join(
        [
            "# Title",
            "```python",
            "# not a heading",
            "```",
            "~~~",
            "## not a heading either",
            "~~~",
            "````markdown",
            "```",
            "# still inside the four-backtick block",
            "```",
            "````",
            "  ```sql",
            "-- indented fence",
            "# no",
            "  ```",
            "<!--",
            "# commented out",
            "-->",
            "    # indented code, not a heading",
            "## Real One ##",
            "Setext Heading",
            "--------------",
            "text",
        ]
    )
    guide = parse_guide(text)
    assert [(s.level, s.title) for s in guide.sections] == [
        (1, "Title"),
        (2, "Real One"),
        (2, "Setext Heading"),
    ]
    assert guide.problems == []


def test_unclosed_fence_is_reported_and_swallows_the_rest() -> None:
    guide = parse_guide("# A\n```python\n# comment\n## B\n")
    assert titles(guide) == ["A"]
    assert any("never closed" in p for p in guide.problems)


def test_missing_front_matter() -> None:
    guide = parse_guide("# Database Playbook\n\nIntro.\n\n## Adding a column\ntext\n")
    assert guide.front_matter == {}
    assert guide.name == ""
    assert guide.title == "Database Playbook"
    assert guide.description == ""
    assert titles(guide) == ["Database Playbook", "Adding a column"]


def test_broken_front_matter_is_read_as_markdown() -> None:
    text = "---\nname: half-written\ndescription: never closed\n\n# Guide\n\n## Indexes\nx\n"
    guide = parse_guide(text)
    assert guide.front_matter == {}
    assert guide.name == ""
    assert titles(guide) == ["Guide", "Indexes"]
    assert any("never ends" in p for p in guide.problems)


def test_front_matter_forms_without_evaluating() -> None:
    text = "\n".join(
        [
            "\ufeff---",
            "name: 'team-migrations'",
            'title: "Our DB Rules"',
            "description: >",
            "  Folded text over",
            "  two lines about migrations.",
            "tags: [a, b]",
            "metadata:",
            "  nested: ignored",
            "!!python/object:os.system rm -rf",
            "---",
            "## Section",
        ]
    )
    guide = parse_guide(text)
    assert guide.name == "team-migrations"
    assert guide.title == "Our DB Rules"
    assert guide.description == "Folded text over two lines about migrations."
    assert guide.front_matter["tags"] == "[a, b]"
    assert titles(guide) == ["Section"]
    assert any("not understood" in p for p in guide.problems)


def test_split_front_matter_counts_lines() -> None:
    values, consumed, problems = split_front_matter("---\na: 1\n---\nbody")
    assert values == {"a": "1"}
    assert consumed == 3
    assert problems == []


# --------------------------------------------------------------------------- topics


def test_stemming_maps_word_forms_together() -> None:
    assert stem("Adding") == stem("add")
    assert stem("Indexes") == stem("index") == stem("indices")
    assert stem("Migrations") == stem("migration")
    assert stem("Dropping") == stem("drop")
    assert stem("Creating") == stem("create")
    assert terms("❌ DON'T") == ["dont"]
    assert terms("Step 3: Data Migrations") == [stem("data"), stem("migration")]


@pytest.mark.parametrize(
    ("heading", "topic"),
    [
        ("Add column", "add-column"),
        ("New columns", "add-column"),
        ("Change column type", "column-type"),
        ("Rename column", "rename"),
        ("Indexes", "add-index"),
        ("Backfill", "data-migration"),
        ("Downgrade", "rollback"),
        ("DO/DON'T", "best-practices"),
        ("Zero downtime", "large-tables"),
        ("Concurrent operations", "large-tables"),
        ("Test Migration", "testing"),
        ("Dropping tables", "drop"),
        ("Check constraints", "constraints"),
    ],
)
def test_team_wordings_are_found(heading: str, topic: str) -> None:
    guide = parse_guide(f"# Team guide\n\n## Unrelated\n\n## {heading}\n\ntext\n")
    found = guide.section_for(topic)
    assert found is not None and found.title == heading


def test_modify_column_prefers_the_general_heading_over_its_sub_sections() -> None:
    guide = parse_guide(
        "# G\n## Modifying a Column\n### Change column type\n### Rename column\n## Other\n"
    )
    assert guide.section_for("modify-column") == guide.sections[1]
    assert guide.section_for("column-type") == guide.sections[2]
    assert guide.section_for("rename") == guide.sections[3]


def test_the_document_title_never_stands_for_a_topic() -> None:
    guide = parse_guide("# Creating Database Migrations\n\n## Something else\n")
    assert guide.section_for("create-migration") is None


def test_weak_matches_are_rejected() -> None:
    guide = parse_guide("# G\n## What to do if it breaks\n## Verify data integrity\n")
    assert guide.section_for("best-practices") is None
    assert guide.section_for("data-migration") is None
    assert score_heading("Verify Data Integrity", TOPICS["data-migration"]) == 0


def test_headings_about_another_topic_are_penalised() -> None:
    guide = parse_guide("# G\n## Rollback Failed\n## Undo\n## Dropping an index\n")
    assert guide.section_for("rollback") == guide.sections[2]
    assert guide.section_for("failed-migration") == guide.sections[1]
    assert guide.section_for("drop") is None
    assert guide.section_for("add-index") == guide.sections[3]


def test_body_breaks_ties() -> None:
    guide = parse_guide(
        "# G\n## Indexes\nnothing here\n## Indexes\nuse create_index concurrently\n"
    )
    assert guide.section_for("add-index") == guide.sections[2]


def test_unknown_topic_is_an_error(user: Guide) -> None:
    with pytest.raises(KeyError):
        user.section_for("no-such-topic")


USER_TOPICS = {
    "tool-detection": "Migration Tools Detection",
    "create-migration": "Step 1: Create Migration File",
    "add-column": "Adding a Column",
    "modify-column": "Modifying a Column",
    "add-index": "Adding an Index",
    "create-table": "Creating a Table",
    "foreign-key": "Adding Foreign Key",
    "data-migration": "Step 3: Data Migrations",
    "large-tables": "2. Large Table Migrations",
    "zero-downtime": "1. Backward-Compatible Migrations (Zero Downtime)",
    "testing": "Step 4: Test Migration",
    "production": "Step 5: Apply to Production",
    "rollback": "Rollback Strategy",
    "best-practices": "Migration Best Practices",
    "conflicts": "Migration Conflicts",
    "failed-migration": "Failed Migration",
    "troubleshooting": "Troubleshooting",
}


def test_user_guide_topics(user: Guide) -> None:
    found = {t: s.title for t in TOPICS if (s := user.section_for(t)) is not None}
    assert found == USER_TOPICS


BUNDLED_TOPICS = {
    "tool-detection": "Detecting the Migration Tool",
    "create-migration": "Creating Migrations",
    "add-column": "Adding a Column",
    "modify-column": "Modifying a Column",
    "column-type": "Changing a Column's Type",
    "rename": "Renaming a Column or Table",
    "not-null": "Making a Column NOT NULL",
    "add-index": "Adding an Index",
    "create-table": "Creating a Table",
    "foreign-key": "Foreign Keys",
    "constraints": "Check and Unique Constraints",
    "drop": "Dropping Columns and Tables",
    "data-migration": "Data Migrations",
    "schema-and-data": "Separate Schema and Data Steps",
    "model-imports": "Use Table Stubs Instead of Application Models",
    "raw-sql": "Running SQL and Reading Row Counts",
    "batching": "Backfilling in Batches",
    "large-tables": "Large Table Migrations",
    "zero-downtime": "Zero-Downtime Deploys: Expand and Contract",
    "locks": "Locks and Timeouts",
    "transactions": "Transactions and Non-Transactional Statements",
    "testing": "Testing Migrations",
    "production": "Applying to Production",
    "rollback": "Rollback Strategy",
    "best-practices": "Best Practices",
    "conflicts": "Migration Conflicts",
    "failed-migration": "Failed Migrations",
    "troubleshooting": "Troubleshooting",
}


def test_bundled_guide_covers_every_topic(bundled: Guide) -> None:
    assert set(BUNDLED_TOPICS) == set(TOPICS)
    found = {t: s.title for t in TOPICS if (s := bundled.section_for(t)) is not None}
    assert found == BUNDLED_TOPICS


# --------------------------------------------------------------------------- what to show


OPERATIONS: list[tuple[Operation, str, str]] = [
    # (operation, section in the user's guide, section in the bundled guide)
    (
        CreateIndex(span=S, origin="op.create_index", name="ix", table="users", columns=["e"]),
        "Adding an Index",
        "Adding an Index",
    ),
    (
        CreateIndex(span=S, origin="migrations.AddIndex", name="ix", table="t", concurrently=True),
        "Adding an Index",
        "Adding an Index",
    ),
    (DropIndex(span=S, name="ix"), "Adding an Index", "Adding an Index"),
    (
        AddColumn(span=S, table="users", column=Column(name="email")),
        "Adding a Column",
        "Adding a Column",
    ),
    (
        AlterColumn(span=S, table="users", column="age", new_type="integer"),
        "Modifying a Column",
        "Changing a Column's Type",
    ),
    (
        AlterColumn(span=S, table="users", column="email", nullable=False),
        "Modifying a Column",
        "Making a Column NOT NULL",
    ),
    (
        RenameColumn(span=S, table="users", column="username", new_name="email"),
        "Modifying a Column",
        "Renaming a Column or Table",
    ),
    (
        RenameTable(span=S, table="users", new_name="accounts"),
        "1. Backward-Compatible Migrations (Zero Downtime)",
        "Renaming a Column or Table",
    ),
    (CreateTable(span=S, table="posts"), "Creating a Table", "Creating a Table"),
    (
        AddConstraint(span=S, table="posts", name="fk", kind="foreign_key"),
        "Adding Foreign Key",
        "Foreign Keys",
    ),
    (
        AddConstraint(span=S, table="t", name="ck", kind="check"),
        "2. Large Table Migrations",
        "Check and Unique Constraints",
    ),
    (
        DropConstraint(span=S, table="posts", name="fk", kind="foreign_key"),
        "Adding Foreign Key",
        "Foreign Keys",
    ),
    (
        ValidateConstraint(span=S, table="t", name="ck"),
        "Adding Foreign Key",
        "Check and Unique Constraints",
    ),
    (
        DropColumn(span=S, table="users", column="old_email"),
        "1. Backward-Compatible Migrations (Zero Downtime)",
        "Dropping Columns and Tables",
    ),
    (
        DropTable(span=S, table="posts"),
        "1. Backward-Compatible Migrations (Zero Downtime)",
        "Dropping Columns and Tables",
    ),
    (Truncate(span=S, tables=["t"]), "Step 3: Data Migrations", "Dropping Columns and Tables"),
    (
        DataChange(span=S, kind="update", table="users"),
        "Step 3: Data Migrations",
        "Data Migrations",
    ),
    (
        RunCode(span=S, language="python", has_reverse=False),
        "Step 3: Data Migrations",
        "Data Migrations",
    ),
    (
        ExecuteSQL(span=S, origin="op.execute", sql="UPDATE users SET a = 1"),
        "Step 3: Data Migrations",
        "Data Migrations",
    ),
    (
        ExecuteSQL(span=S, origin="op.execute", sql="CREATE INDEX CONCURRENTLY i ON t (a)"),
        "Adding an Index",
        "Adding an Index",
    ),
    (
        ExecuteSQL(span=S, sql="-- c\nALTER TABLE t ADD CONSTRAINT f FOREIGN KEY (a) REFERENCES u"),
        "Adding Foreign Key",
        "Foreign Keys",
    ),
    (ExecuteSQL(span=S, sql=None), "Step 3: Data Migrations", "Data Migrations"),
    (
        SetSetting(span=S, name="lock_timeout", value="'5s'"),
        "2. Large Table Migrations",
        "Locks and Timeouts",
    ),
    (
        TransactionControl(span=S, kind="begin"),
        "Failed Migration",
        "Transactions and Non-Transactional Statements",
    ),
    (
        OtherStatement(span=S, keyword="ALTER TABLE", text="ALTER TABLE t ADD COLUMN c int"),
        "Adding a Column",
        "Adding a Column",
    ),
]


@pytest.mark.parametrize(("op", "in_user", "in_bundled"), OPERATIONS)
def test_operation_sections(op: Operation, in_user: str, in_bundled: str, user: Guide) -> None:
    bundled = bundled_guide()
    assert all(t in TOPICS for t in topic_for_operation(op))
    found_user = section_for_operation(user, op)
    found_bundled = section_for_operation(bundled, op)
    assert found_user is not None and found_user.title == in_user
    assert found_bundled is not None and found_bundled.title == in_bundled


def test_operation_topic_preferences() -> None:
    index = CreateIndex(span=S, name=None, table="t")
    assert topic_for_operation(index)[:2] == ["add-index", "large-tables"]
    assert topic_for_operation(AddColumn(span=S, table="t", column=Column(name="c")))[0] == (
        "add-column"
    )
    rename = RenameColumn(span=S, table="t", column="a", new_name="b")
    assert "modify-column" in topic_for_operation(rename)
    assert "zero-downtime" in topic_for_operation(rename)
    assert topic_for_operation(DropColumn(span=S, table="t", column="c")) == [
        "drop",
        "zero-downtime",
    ]
    unique = AddConstraint(span=S, table="t", name="u", kind="unique")
    assert topic_for_operation(unique)[0] == "constraints"
    assert (
        topic_for_operation(OtherStatement(span=S, keyword="CREATE", text="CREATE EXTENSION x"))
        == []
    )


def test_every_registered_rule_has_topics_that_exist() -> None:
    assert set(BY_ID) <= set(RULE_TOPICS), set(BY_ID) - set(RULE_TOPICS)
    for rule_id, topics in RULE_TOPICS.items():
        assert topics, rule_id
        assert all(t in TOPICS for t in topics), rule_id


def test_every_registered_rule_has_a_section_in_the_bundled_guide(bundled: Guide) -> None:
    for rule_id in BY_ID:
        topic = topic_for_rule(rule_id)[0]
        section = section_for_rule(bundled, rule_id)
        assert section is not None, rule_id
        assert section == bundled.section_for(topic), rule_id  # its first choice, not a fallback


def test_rule_topics_fall_back_and_normalise() -> None:
    assert topic_for_rule(" Update-With-Limit ") == topic_for_rule("update-with-limit")
    assert topic_for_rule("no-such-rule") == []


RULES_IN_USER_GUIDE = {
    "non-concurrent-index": "Adding an Index",
    "concurrent-index-in-transaction": "Adding an Index",
    "missing-downgrade": "Rollback Strategy",
    "empty-downgrade": "Rollback Strategy",
    "runpython-without-reverse": "Rollback Strategy",
    "mixed-schema-and-data-change": "Step 3: Data Migrations",
    "unbatched-data-update": "Step 3: Data Migrations",
    "update-with-limit": "2. Large Table Migrations",
    "model-import-in-migration": "Step 3: Data Migrations",
    "execute-result-used": "Step 3: Data Migrations",
    "add-not-null-column-without-default": "Adding a Column",
    "set-not-null-on-existing-column": "Modifying a Column",
    "foreign-key-without-not-valid": "Adding Foreign Key",
    "rename-column": "1. Backward-Compatible Migrations (Zero Downtime)",
    "drop-table": "1. Backward-Compatible Migrations (Zero Downtime)",
    "unused-ignore": "Migration Best Practices",
}


@pytest.mark.parametrize(("rule_id", "title"), sorted(RULES_IN_USER_GUIDE.items()))
def test_rule_sections_in_the_user_guide(rule_id: str, title: str, user: Guide) -> None:
    section = section_for_rule(user, rule_id)
    assert section is not None and section.title == title


def test_update_with_limit_points_at_the_batch_example_and_its_correction(
    user: Guide, bundled: Guide
) -> None:
    theirs = section_for_rule(user, "update-with-limit")
    assert theirs is not None and "LIMIT {batch_size}" in theirs.body
    ours = section_for_rule(bundled, "update-with-limit")
    assert ours is not None and ours.title == "Backfilling in Batches"
    assert "is not valid PostgreSQL" in ours.body
    assert "WHERE id IN (" in ours.body
    assert "result.rowcount == 0" in ours.body


WORDS_IN_USER_GUIDE = {
    "upgrade": "Step 1: Create Migration File",
    "downgrade": "Rollback Strategy",
    "def downgrade": None,  # not a word
    "revision": "Step 1: Create Migration File",
    "down_revision": "Migration Conflicts",
    "dependencies": "Migration Conflicts",
    "atomic": "Adding an Index",
    "autocommit_block": "Adding an Index",
    "op.execute": "Step 3: Data Migrations",
    "disable_ddl_transaction!": "Adding an Index",
    "lock_timeout": "2. Large Table Migrations",
    "migrations.RunPython": "Step 3: Data Migrations",
}


@pytest.mark.parametrize(("word", "title"), sorted(WORDS_IN_USER_GUIDE.items()))
def test_word_sections_in_the_user_guide(word: str, title: str | None, user: Guide) -> None:
    section = section_for_word(user, word)
    assert (section.title if section else None) == title


def test_word_sections_in_the_bundled_guide(bundled: Guide) -> None:
    expected = {
        "downgrade": "Rollback Strategy",
        "autocommit_block": "Transactions and Non-Transactional Statements",
        "ATOMIC": "Transactions and Non-Transactional Statements",
        "get_bind": "Running SQL and Reading Row Counts",
        "apps.get_model": "Use Table Stubs Instead of Application Models",
        "lock_timeout": "Locks and Timeouts",
        "down_revision": "Migration Conflicts",
    }
    for word, title in expected.items():
        section = section_for_word(bundled, word)
        assert section is not None and section.title == title, word
    assert topic_for_word("frobnicate") == []
    for word, topics in WORD_TOPICS.items():
        assert topics and all(t in TOPICS for t in topics), word


# --------------------------------------------------------------------------- the bundled guide


def prose_lines(text: str) -> set[str]:
    """Non-code lines, normalised, long enough to be sentences rather than boilerplate."""
    out: set[str] = set()
    fence = False
    for line in text.split("\n"):
        if re.match(r"\s*(```|~~~)", line):
            fence = not fence
            continue
        if not fence and len(line.strip()) >= 25:
            out.add(" ".join(line.split()).lower())
    return out


def test_bundled_guide_is_ours_and_shipped(bundled: Guide) -> None:
    assert bundled.name == "database-migrations"
    assert "migrations" in bundled.description
    assert bundled.problems == []
    assert bundled.text == BUNDLED_FILE.read_text(encoding="utf-8")
    line_count = len(bundled.text.split("\n"))
    assert 600 <= line_count <= 1200, line_count
    assert not prose_lines(USER_GUIDE.read_text(encoding="utf-8")) & prose_lines(bundled.text)


def test_bundled_guide_covers_every_tool(bundled: Guide) -> None:
    tools = (
        "Alembic",
        "Flask-Migrate",
        "Django",
        "Prisma",
        "TypeORM",
        "Knex",
        "Sequelize",
        "Rails",
        "Laravel",
        "Flyway",
        "Liquibase",
        "golang-migrate",
        "dbmate",
        "goose",
        "Plain SQL",
    )
    creating = bundled.section_for("create-migration")
    assert creating is not None
    sub = [s.title for s in bundled.sections if s.path[-1:] == (creating.title,)]
    for tool in tools:
        assert any(tool in title for title in sub), tool
    transactions = bundled.section_for("transactions")
    assert transactions is not None
    for tool in tools[2:-1]:  # every tool's way to run outside a transaction
        assert f"| {tool} |" in transactions.body, tool


@pytest.mark.parametrize(
    ("topic", "phrases"),
    [
        ("batching", ["`UPDATE ... LIMIT`", "is not valid PostgreSQL", "WHERE id IN (SELECT id"]),
        ("raw-sql", ["`op.execute()` returns `None`", "op.get_bind().execute(sa.text(...))"]),
        ("model-imports", ["sa.table(", "apps.get_model(", "from myapp.models import User"]),
        (
            "add-column",
            ["server_default=''", "leaves those empty strings", "PostgreSQL\n> older than 11"],
        ),
        (
            "add-index",
            [
                "autocommit_block()",
                "atomic = False",
                "AddIndexConcurrently",
                "disable_ddl_transaction!",
                "cannot run inside a transaction block",
            ],
        ),
        (
            "transactions",
            [
                "executeInTransaction=false",
                "-- migrate:up transaction:false",
                "-- +goose NO TRANSACTION",
                "runInTransaction: false",
                "$withinTransaction = false",
                "exports.config = { transaction: false }",
            ],
        ),
        (
            "not-null",
            ["CHECK (email IS NOT NULL) NOT VALID", "VALIDATE CONSTRAINT", "SET NOT NULL"],
        ),
        ("foreign-key", ["NOT VALID", "VALIDATE CONSTRAINT", "validate_foreign_key"]),
        (
            "schema-and-data",
            ["requires `sa.text()`", "session.commit()", "one set-based `UPDATE"],
        ),
        ("data-migration", ["full_name.split(' ', 1)", "Mary Ann Smith"]),
        ("locks", ["lock_timeout", "SET LOCAL lock_timeout"]),
        ("rename", ["Add the new column", "Drop the old column"]),
        ("zero-downtime", ["**Expand**", "**Contract**"]),
        ("column-type", ['postgresql_using="age::integer"']),
        ("conflicts", ["alembic merge heads", "python manage.py makemigrations --merge"]),
        ("rollback", ["--rolled-back", "alembic stamp"]),
    ],
)
def test_bundled_guide_states_the_corrections(
    bundled: Guide, topic: str, phrases: list[str]
) -> None:
    section = bundled.section_for(topic)
    assert section is not None
    for phrase in phrases:
        assert phrase in section.body, (topic, phrase)


def test_bundled_corrections_are_marked_as_notes(bundled: Guide) -> None:
    notes = [s for s in bundled.sections if "> **Note:**" in s.own_body]
    assert {s.title for s in notes} >= {
        "Adding a Required Column",
        "Changing a Column's Type",
        "Adding an Index",
        "Separate Schema and Data Steps",
        "Use Table Stubs Instead of Application Models",
        "Running SQL and Reading Row Counts",
        "Backfilling in Batches",
        "Reversible Data Migrations",
        "Zero-Downtime Deploys: Expand and Contract",
        "Rolling Back per Tool",
        "Repairing the Migration History",
    }


# --------------------------------------------------------------------------- hover


def test_hover_has_breadcrumb_body_and_source(user: Guide) -> None:
    section = user.section_titled("Adding an Index")
    assert section is not None
    text = hover_markdown(section, "bundled")
    assert text.startswith(
        "**Creating Database Migrations › Step 2: Common Migration Operations › Adding an Index**"
    )
    assert "op.create_index('idx_users_email', 'users', ['email'])" in text
    assert "…" not in text
    assert text.rstrip().endswith("*From the migration guide bundled with migration-lsp.*")


def test_hover_is_trimmed_with_balanced_fences(user: Guide) -> None:
    section = user.section_titled("Step 3: Data Migrations")
    assert section is not None
    text = hover_markdown(section, "bundled", max_lines=20)
    assert "\n…\n" in text
    assert len(text.split("\n")) < 30
    assert sum(1 for line in text.split("\n") if line.startswith("```")) % 2 == 0
    assert "session.commit()" not in text  # beyond line 20


def test_hover_turns_sub_headings_into_bold_lines(bundled: Guide) -> None:
    section = bundled.section_for("best-practices")
    assert section is not None
    text = hover_markdown(section, "bundled")
    assert "\n**Do**\n" in text and "\n**Don't**\n" in text
    assert "\n### " not in text


def test_hover_links_to_the_users_file(tmp_path: Path) -> None:
    guide_file = tmp_path / ".claude" / "skills" / "db" / "SKILL.md"
    guide_file.parent.mkdir(parents=True)
    guide_file.write_text("---\nname: db-migrations\n---\n# G\n\n## Indexes\nuse concurrently\n")
    guide, source = find_guide([tmp_path], None)
    section = guide.section_for("add-index")
    assert section is not None
    text = hover_markdown(section, source)
    assert f"[db/SKILL.md]({guide_file.as_uri()}#L6)" in text
    assert "workspace guide" in text


# --------------------------------------------------------------------------- which guide


SKILL = "---\nname: {name}\ndescription: {description}\n---\n# {title}\n\n## Adding an Index\nx\n"


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def skill(root: Path, folder: str, title: str, name: str = "db-migrations") -> Path:
    return write(
        root / folder / "SKILL.md",
        SKILL.format(name=name, description="How we write migrations.", title=title),
    )


def test_no_guide_in_the_workspace_means_bundled(tmp_path: Path) -> None:
    guide, source = find_guide([tmp_path], None)
    assert source == "bundled"
    assert guide is bundled_guide()


def test_docs_guide_beats_bundled(tmp_path: Path) -> None:
    doc = write(tmp_path / "docs" / "migrations.md", "# Docs Guide\n\n## Indexes\n")
    guide, source = find_guide([tmp_path], None)
    assert source == f"workspace: {doc}"
    assert guide.title == "Docs Guide"


def test_root_migrations_md_is_found_case_insensitively(tmp_path: Path) -> None:
    doc = write(tmp_path / "MIGRATIONS.md", "# Root Guide\n")
    guide, source = find_guide([tmp_path], None)
    assert source == f"workspace: {doc}"
    assert guide.title == "Root Guide"


def test_skill_beats_docs(tmp_path: Path) -> None:
    write(tmp_path / "docs" / "migrations.md", "# Docs Guide\n")
    path = skill(tmp_path, ".claude/skills/creating-database-migrations", "Skill Guide")
    guide, source = find_guide([tmp_path], None)
    assert source == f"workspace: {path}"
    assert guide.title == "Skill Guide"


def test_skills_about_other_things_are_ignored(tmp_path: Path) -> None:
    write(
        tmp_path / ".claude" / "skills" / "pdf" / "SKILL.md",
        "---\nname: pdf-tools\ndescription: Fill in PDF forms.\n---\n# PDF\n",
    )
    write(tmp_path / ".claude" / "skills" / "broken" / "SKILL.md", "# no front matter\n")
    doc = write(tmp_path / "docs" / "database-migrations.md", "# Docs Guide\n")
    _, source = find_guide([tmp_path], None)
    assert source == f"workspace: {doc}"


def test_skill_named_for_migrations_beats_one_that_only_mentions_them(tmp_path: Path) -> None:
    skill(tmp_path, ".github/skills/aaa-backend", "Backend", name="backend")
    best = skill(tmp_path, ".github/skills/zzz", "Migrations", name="db-migrations")
    guide, source = find_guide([tmp_path], None)
    assert source == f"workspace: {best}"
    assert guide.title == "Migrations"


def test_skill_search_skips_vendored_and_deep_folders(tmp_path: Path) -> None:
    skill(tmp_path, "skills/node_modules/pkg", "Vendored")
    skill(tmp_path, ".claude/skills/a/b/c/d", "Too Deep")
    _, source = find_guide([tmp_path], None)
    assert source == "bundled"
    ok = skill(tmp_path, ".claude/skills/a/b/c", "Deep Enough")
    _, source = find_guide([tmp_path], None)
    assert source == f"workspace: {ok}"


def test_second_workspace_root_is_searched(tmp_path: Path) -> None:
    first, second = tmp_path / "one", tmp_path / "two"
    first.mkdir()
    path = skill(second, "skills/db", "Second Root")
    _, source = find_guide([first, second], None)
    assert source == f"workspace: {path}"


def test_configured_guide_beats_everything(tmp_path: Path) -> None:
    skill(tmp_path, ".claude/skills/db", "Skill Guide")
    write(tmp_path / "docs" / "migrations.md", "# Docs Guide\n")
    configured = write(tmp_path / "team" / "playbook.md", "# Team Playbook\n\n## Backfill\n")
    guide, source = find_guide([tmp_path], "team/playbook.md")  # relative to the first root
    assert source == f"config: {configured}"
    assert guide.title == "Team Playbook"
    guide, source = find_guide([tmp_path], configured)  # absolute, as a Path
    assert source == f"config: {configured}"
    guide, source = find_guide([tmp_path], configured.parent)  # a folder without SKILL.md
    assert source.startswith("workspace: ")
    assert "unusable" in source


def test_configured_folder_means_its_skill_file(tmp_path: Path) -> None:
    path = skill(tmp_path, "elsewhere/guide", "Folder Guide")
    guide, source = find_guide([tmp_path], "elsewhere/guide")
    assert source == f"config: {path}"
    assert guide.title == "Folder Guide"


def test_missing_configured_guide_falls_back_and_says_so(tmp_path: Path) -> None:
    doc = write(tmp_path / "docs" / "migrations.md", "# Docs Guide\n")
    guide, source = find_guide([tmp_path], "nope/guide.md")
    missing = tmp_path / "nope" / "guide.md"
    assert source.startswith(f"workspace: {doc} (configured guide {missing} unusable:")
    assert guide.title == "Docs Guide"
    doc.unlink()
    guide, source = find_guide([tmp_path], "nope/guide.md")
    assert source.startswith(f"bundled (configured guide {missing} unusable:")
    assert guide is bundled_guide()


@pytest.mark.skipif(
    not hasattr(os, "geteuid") or os.geteuid() == 0, reason="root can read any file"
)
def test_unreadable_configured_guide_falls_back(tmp_path: Path) -> None:
    locked = write(tmp_path / "locked.md", "# Locked\n")
    locked.chmod(0)
    try:
        guide, source = find_guide([tmp_path], str(locked))
    finally:
        locked.chmod(0o644)
    assert source.startswith(f"bundled (configured guide {locked} unusable:")
    assert guide is bundled_guide()


def test_configured_guide_that_cannot_be_read_falls_back(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    locked = write(tmp_path / "locked.md", "# Locked\n")
    real_read_bytes = Path.read_bytes

    def refuse(self: Path) -> bytes:
        if self.name == "locked.md":
            raise PermissionError(13, "Permission denied")
        return real_read_bytes(self)

    monkeypatch.setattr(Path, "read_bytes", refuse)
    guide, source = find_guide([tmp_path], locked)
    assert source == f"bundled (configured guide {locked} unusable: Permission denied)"
    assert guide is bundled_guide()


def test_configured_fifo_is_not_opened(tmp_path: Path) -> None:
    if not hasattr(os, "mkfifo"):
        pytest.skip("no FIFOs here")
    fifo = tmp_path / "guide.md"
    os.mkfifo(fifo)
    _, source = find_guide([tmp_path], fifo)  # reading a FIFO would block forever
    assert source == f"bundled (configured guide {fifo} unusable: not a file)"


def test_configured_guide_that_is_not_utf8_is_still_read(tmp_path: Path) -> None:
    path = tmp_path / "latin1.md"
    path.write_bytes("# Migrations café\n\n## Indexes\n".encode("latin-1"))
    guide, source = find_guide([tmp_path], str(path))
    assert source == f"config: {path}"
    assert guide.title.startswith("Migrations caf")
    assert guide.section_for("add-index") is not None


def test_guides_are_cached_until_the_file_changes(tmp_path: Path) -> None:
    path = write(tmp_path / "docs" / "migrations.md", "# First\n")
    first = load_guide(path)
    assert load_guide(path) is first
    path.write_text("# Other\n", encoding="utf-8")  # same size: only the time tells
    stat = path.stat()
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000_000))
    second = load_guide(path)
    assert second is not first
    assert second.title == "Other"


def test_the_user_guide_fixture_is_found_as_a_workspace_skill(tmp_path: Path) -> None:
    target = tmp_path / ".claude" / "skills" / "creating-database-migrations" / "SKILL.md"
    write(target, USER_GUIDE.read_text(encoding="utf-8"))
    guide, source = find_guide([tmp_path], None)
    assert source == f"workspace: {target}"
    section = section_for_rule(guide, "non-concurrent-index")
    assert section is not None and section.title == "Adding an Index"
