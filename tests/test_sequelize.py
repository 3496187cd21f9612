"""Sequelize migrations as a user sees them: findings at the right place, fixes that apply and
make the finding go away, snippets offered in the right place, and bad input that does not
crash.

Texts are written the way `sequelize-cli migration:generate` writes them (`'use strict'`, the
`@type` comment, `module.exports = { async up (queryInterface, Sequelize) {...} }`).
"""

from __future__ import annotations

import json
import textwrap
from pathlib import Path
from typing import Any

import pytest

from migration_lsp.cli import main
from migration_lsp.findings import Applicability, Finding
from migration_lsp.fixes import apply_edits, fixes_for
from migration_lsp.model import AddColumn, AlterColumn, CreateIndex, CreateTable, Migration
from migration_lsp.parse import parse_migration
from migration_lsp.parse.javascript import JsSource
from migration_lsp.snippets import completion_context, render, snippets_for
from migration_lsp.snippets.syntax import expand
from rule_helpers import analyse, config

FIXTURE = Path(__file__).parent / "fixtures" / "sequelize"
PATH = "migrations/20240520101500-change.js"
IRREVERSIBLE = "throw new Error('irreversible');"


def sequelize(up: str, down: str | None = IRREVERSIBLE) -> str:
    """A migration as `sequelize-cli migration:generate` writes it, with these bodies."""
    parts = [
        "'use strict';\n\n/** @type {import('sequelize-cli').Migration} */\nmodule.exports = {\n",
        f"  async up (queryInterface, Sequelize) {{\n{_body(up)}\n  }}",
    ]
    if down is not None:
        parts.append(f",\n\n  async down (queryInterface, Sequelize) {{\n{_body(down)}\n  }}")
    parts.append("\n};\n")
    return "".join(parts)


def _body(code: str) -> str:
    return textwrap.indent(textwrap.dedent(code).strip("\n"), "    ")


def parse(text: str, path: str = PATH, dialect: str | None = "postgresql") -> Migration:
    migration = parse_migration(path, text, "sequelize", dialect, {})
    assert migration is not None
    return migration


def check(text: str, path: str = PATH, **options: Any) -> list[Finding]:
    return analyse(parse(text, path), config(**options))


def findings(text: str, path: str = PATH, **options: Any) -> list[tuple[str, str]]:
    return [(f.rule, text[f.span.start : f.span.end]) for f in check(text, path, **options)]


def rules(text: str, **options: Any) -> list[str]:
    return [rule for rule, _ in findings(text, **options)]


# --------------------------------------------------------------------------- parsing


def test_generated_create_table() -> None:
    text = (FIXTURE / "migrations" / "20240514102133-create-user.js").read_text()
    m = parse(text)
    assert not m.transactional and m.supports_down
    assert m.down is not None and not m.down.empty
    create = m.operations[0]
    assert isinstance(create, CreateTable) and create.table == "Users"
    columns = {c.name: c for c in create.columns}
    assert columns["id"].type == "serial" and columns["id"].primary_key
    assert columns["email"].type == "varchar(255)" and columns["email"].nullable
    assert columns["createdAt"].type == "timestamptz" and not columns["createdAt"].nullable
    assert [f.rule for f in analyse(m, config())] == ["prefer-bigint-primary-key"]


def test_the_generated_skeleton_is_empty() -> None:
    text = (
        "'use strict';\n\n/** @type {import('sequelize-cli').Migration} */\nmodule.exports = {\n"
        "  async up (queryInterface, Sequelize) {\n    /**\n     * Add altering commands here.\n"
        "     */\n  },\n\n  async down (queryInterface, Sequelize) {\n    /**\n"
        "     * Add reverting commands here.\n     */\n  }\n};\n"
    )
    m = parse(text)
    assert m.up is not None and m.up.empty and m.down is not None and m.down.empty
    assert findings(text) == []


def test_older_arrow_style_and_promise_chains() -> None:
    text = (
        "module.exports = {\n  up: (queryInterface, Sequelize) => {\n"
        "    return queryInterface.addColumn('Users', 'age', Sequelize.INTEGER)\n"
        "      .then(() => queryInterface.addIndex('Users', ['age']));\n  },\n"
        "  down: (queryInterface) => queryInterface.removeColumn('Users', 'age')\n};\n"
    )
    m = parse(text)
    kinds = [type(op).__name__ for op in m.operations]
    assert kinds == ["AddColumn", "CreateIndex", "DropColumn"]
    add = m.operations[0]
    assert isinstance(add, AddColumn) and add.column.type == "integer"
    index = m.operations[1]
    assert isinstance(index, CreateIndex) and index.name == "users_age"


def test_column_types_and_defaults() -> None:
    text = sequelize(
        """
        await queryInterface.addColumn('Users', 'score', {
          type: Sequelize.DECIMAL(10, 2),
          allowNull: false,
          defaultValue: 0
        });
        await queryInterface.addColumn('Users', 'seenAt', {
          type: DataTypes.DATE,
          allowNull: false,
          defaultValue: Sequelize.NOW
        });
        """
    )
    first, second = parse(text).operations
    assert isinstance(first, AddColumn) and first.column.type == "decimal(10,2)"
    assert first.column.default is not None and first.column.default.text == "0"
    # Sequelize.NOW is applied by the model, never written as a database default
    assert isinstance(second, AddColumn) and second.column.default is None
    assert findings(text) == [("add-not-null-column-without-default", "'seenAt'")]


# --------------------------------------------------------------------------- rules


def test_non_concurrent_index() -> None:
    text = sequelize("await queryInterface.addIndex('Users', ['email'], { unique: true });")
    assert findings(text) == [("non-concurrent-index", "queryInterface.addIndex")]
    options = sequelize(
        "await queryInterface.addIndex('Users', { fields: ['email'], concurrently: true });"
    )
    assert findings(options) == []


def test_concurrent_index_in_a_transaction() -> None:
    text = sequelize(
        """
        await queryInterface.sequelize.transaction(async (transaction) => {
          await queryInterface.addIndex('Users', ['email'], { concurrently: true, transaction });
        });
        """
    )
    assert findings(text) == [("concurrent-index-in-transaction", "concurrently: true")]


def test_sequelize_cli_does_not_open_a_transaction() -> None:
    text = sequelize(
        "await queryInterface.sequelize.query('CREATE INDEX CONCURRENTLY ix ON \"Users\" (email)');"
    )
    assert findings(text) == []


def test_add_not_null_column_without_default() -> None:
    text = sequelize(
        "await queryInterface.addColumn('Users', 'status', { type: Sequelize.STRING, "
        "allowNull: false });"
    )
    assert findings(text) == [("add-not-null-column-without-default", "'status'")]
    with_default = sequelize(
        "await queryInterface.addColumn('Users', 'status', { type: Sequelize.STRING, "
        "allowNull: false, defaultValue: 'active' });"
    )
    assert findings(with_default) == []
    new_table = sequelize(
        "await queryInterface.createTable('Plans', { code: { type: Sequelize.STRING, "
        "allowNull: false } });"
    )
    assert findings(new_table) == []


def test_change_column_sets_not_null_and_type() -> None:
    text = sequelize(
        "await queryInterface.changeColumn('Users', 'email', {\n"
        "  type: Sequelize.TEXT,\n  allowNull: false\n});"
    )
    assert findings(text) == [
        ("change-column-type", "type: Sequelize.TEXT"),
        ("set-not-null-on-existing-column", "allowNull: false"),
    ]
    alter = parse(text).operations[0]
    assert isinstance(alter, AlterColumn) and alter.nullable is False


def test_foreign_keys() -> None:
    text = sequelize(
        "await queryInterface.addConstraint('Orders', {\n  fields: ['userId'],\n"
        "  type: 'foreign key',\n  name: 'orders_user_id_fkey',\n"
        "  references: { table: 'Users', field: 'id' }\n});"
    )
    assert findings(text) == [("foreign-key-without-not-valid", "'orders_user_id_fkey'")]
    inline = sequelize(
        "await queryInterface.addColumn('Orders', 'userId', { type: Sequelize.INTEGER, "
        "references: { model: 'Users', key: 'id' } });"
    )
    assert findings(inline) == [("foreign-key-without-not-valid", "'userId'")]


def test_renames_drops_and_data() -> None:
    text = sequelize(
        """
        await queryInterface.renameColumn('Users', 'name', 'fullName');
        await queryInterface.renameTable('Users', 'People');
        await queryInterface.removeColumn('People', 'age');
        await queryInterface.dropTable('Legacy');
        """
    )
    assert findings(text) == [
        ("rename-column", "'name'"),
        ("rename-table", "'Users'"),
        ("drop-column", "'age'"),
        ("drop-table", "'Legacy'"),
    ]


def test_volatile_default() -> None:
    text = sequelize(
        "await queryInterface.addColumn('Users', 'publicId', {\n  type: Sequelize.UUID,\n"
        "  defaultValue: Sequelize.literal('gen_random_uuid()')\n});"
    )
    assert findings(text) == [
        ("add-column-volatile-default", "defaultValue: Sequelize.literal('gen_random_uuid()')")
    ]
    stable = text.replace("Sequelize.literal('gen_random_uuid()')", "Sequelize.fn('now')")
    assert findings(stable) == []


def test_downgrade_rules() -> None:
    add = "await queryInterface.addColumn('Users', 'bio', Sequelize.TEXT);"
    assert findings(sequelize(add, None)) == [("missing-downgrade", "up")]
    assert findings(sequelize(add, "// nothing")) == [("empty-downgrade", "down")]
    two = add + "\nawait queryInterface.addColumn('Users', 'age', Sequelize.INTEGER);"
    partial = sequelize(two, "await queryInterface.removeColumn('Users', 'bio');")
    assert findings(partial) == [("incomplete-downgrade", "down")]
    complete = sequelize(
        two,
        "await queryInterface.removeColumn('Users', 'age');\n"
        "await queryInterface.removeColumn('Users', 'bio');",
    )
    assert findings(complete) == []


def test_sql_query_ranges_and_formatting() -> None:
    text = sequelize(
        "await queryInterface.sequelize.query(\n"
        "  'ALTER TABLE \"Users\" ADD COLUMN code text NOT NULL'\n);"
    )
    assert findings(text) == [("add-not-null-column-without-default", "code")]
    formatted = sequelize(
        'await queryInterface.sequelize.query(`DELETE FROM "Users" WHERE id = ${id}`);'
    )
    found = check(formatted)
    assert [f.rule for f in found] == ["sql-string-formatting"]
    assert "replacements" in found[0].message


def test_mixed_and_unbatched_data() -> None:
    text = (FIXTURE / "migrations" / "20240518110000-backfill-user-names.js").read_text()
    found = findings(text)
    assert ("mixed-schema-and-data-change", 'UPDATE "Users" SET "fullName"') in [
        (rule, under[:29]) for rule, under in found
    ]
    assert "unbatched-data-update" in [rule for rule, _ in found]
    bulk = sequelize("await queryInterface.bulkUpdate('Users', { plan: 'free' }, { plan: null });")
    assert rules(bulk) == ["unbatched-data-update"]
    bounded = sequelize("await queryInterface.bulkDelete('Users', { id: [1, 2, 3] });")
    assert rules(bounded) == []
    seeded = sequelize(
        "await queryInterface.createTable('Plans', { code: Sequelize.STRING });\n"
        "await queryInterface.bulkInsert('Plans', [{ code: 'free' }]);"
    )
    assert rules(seeded) == []


def test_ignore_comment() -> None:
    text = sequelize(
        "await queryInterface.addIndex('Users', ['email']);  "
        "// migration-lsp: ignore[non-concurrent-index]"
    )
    assert findings(text) == []


def test_cli_on_the_fixture_app(capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["check", "--format", "json", str(FIXTURE)])
    report = json.loads(capsys.readouterr().out)
    items = report["findings"] if isinstance(report, dict) else report
    found = {(Path(f["path"]).name, f["rule"]) for f in items}
    assert code == 1
    assert ("20240515083012-add-user-email-index.js", "non-concurrent-index") in found
    assert ("20240516091544-add-user-status.js", "add-not-null-column-without-default") in found
    assert ("20240516091544-add-user-status.js", "empty-downgrade") in found
    assert ("20240518110000-backfill-user-names.js", "foreign-key-without-not-valid") in found
    assert not {n for n, _ in found} & {"20240519093000-index-appointments-starts-at.js"}


# --------------------------------------------------------------------------- bad input


def test_syntax_error() -> None:
    text = sequelize("await queryInterface.addColumn('Users', 'x', {")
    assert rules(text) == ["migration-parse-error"]


@pytest.mark.parametrize("name", sorted(p.name for p in (FIXTURE / "migrations").iterdir()))
def test_truncated_fixtures_never_crash(name: str) -> None:
    text = (FIXTURE / "migrations" / name).read_text()
    errors = 0
    for end in range(0, len(text), 5):
        m = parse(text[:end])
        found = [f.rule for f in analyse(m, config())]
        if m.problems:
            errors += 1
            assert found == ["migration-parse-error"]
    assert errors


# --------------------------------------------------------------------------- fixes


def fix_and_check(text: str, rule: str) -> tuple[str, Any]:
    m = parse(text)
    finding = next(f for f in analyse(m, config()) if f.rule == rule)
    fixes = fixes_for(finding, m)
    assert fixes and fixes[0].edits, rule
    fixed = apply_edits(text, fixes[0].edits)
    assert not JsSource(fixed, PATH).root.has_error, fixed
    assert rule not in [f.rule for f in analyse(parse(fixed), config())], fixed
    return fixed, fixes[0]


def test_fix_missing_downgrade() -> None:
    text = sequelize(
        """
        await queryInterface.createTable('Plans', { id: Sequelize.BIGINT });
        await queryInterface.addColumn('Users', 'planId', Sequelize.BIGINT);
        await queryInterface.addIndex('Users', ['email'], { concurrently: true });
        await queryInterface.renameColumn('Users', 'name', 'fullName');
        """,
        None,
    )
    fixed, fix = fix_and_check(text, "missing-downgrade")
    assert fix.applicability is Applicability.UNSAFE
    assert (
        "  },\n\n  async down (queryInterface, Sequelize) {\n"
        "    await queryInterface.renameColumn('Users', 'fullName', 'name');\n"
        "    await queryInterface.removeIndex('Users', 'users_email', { concurrently: true });\n"
        "    await queryInterface.removeColumn('Users', 'planId');\n"
        "    await queryInterface.dropTable('Plans');\n  }\n};\n"
    ) in fixed


def test_fix_empty_downgrade_keeps_the_generator_comment() -> None:
    text = (FIXTURE / "migrations" / "20240516091544-add-user-status.js").read_text()
    fixed, _ = fix_and_check(text, "empty-downgrade")
    assert "Add reverting commands here." in fixed
    assert "    await queryInterface.removeColumn('Users', 'status');\n  }" in fixed
    assert "throw new Error('cannot restore the previous definition of Users.email');" in fixed


def test_fix_incomplete_downgrade_in_an_arrow_function() -> None:
    text = (
        "module.exports = {\n  up: (queryInterface, Sequelize) => {\n"
        "    return queryInterface.addColumn('Users', 'a', Sequelize.TEXT)\n"
        "      .then(() => queryInterface.addColumn('Users', 'b', Sequelize.TEXT));\n  },\n"
        "  down: (queryInterface) => queryInterface.removeColumn('Users', 'a')\n};\n"
    )
    fixed, _ = fix_and_check(text, "incomplete-downgrade")
    assert "  down: async (queryInterface) => {\n" in fixed
    assert "await queryInterface.removeColumn('Users', 'b');" in fixed
    assert "return queryInterface.removeColumn('Users', 'a');" in fixed


@pytest.mark.parametrize(
    ("call", "expected"),
    [
        (
            "await queryInterface.addIndex('Users', ['email'], {\n  name: 'users_email',\n"
            "  unique: true\n});",
            "      unique: true,\n      concurrently: true\n    });",
        ),
        (
            "await queryInterface.addIndex('Users', ['email']);",
            "addIndex('Users', ['email'], { concurrently: true });",
        ),
        (
            "await queryInterface.addIndex('Users', { fields: ['email'], concurrently: false });",
            "{ fields: ['email'], concurrently: true }",
        ),
        (
            "await queryInterface.sequelize.query('CREATE INDEX ix ON \"Users\" (email)');",
            "CREATE INDEX CONCURRENTLY IF NOT EXISTS ix",
        ),
    ],
)
def test_fix_non_concurrent_index(call: str, expected: str) -> None:
    fixed, fix = fix_and_check(sequelize(call), "non-concurrent-index")
    assert expected in fixed
    assert fix.applicability is Applicability.SAFE
    assert "concurrent-index-in-transaction" not in rules(fixed)


def test_no_edit_for_an_index_inside_a_transaction() -> None:
    text = sequelize(
        "await queryInterface.sequelize.transaction(async (t) => {\n"
        "  await queryInterface.addIndex('Users', ['email'], { transaction: t });\n});"
    )
    m = parse(text)
    finding = next(f for f in analyse(m, config()) if f.rule == "non-concurrent-index")
    fixes = fixes_for(finding, m)
    assert len(fixes) == 1 and not fixes[0].edits and "transaction" in fixes[0].title


@pytest.mark.parametrize("name", sorted(p.name for p in (FIXTURE / "migrations").iterdir()))
def test_every_fix_on_the_fixtures_applies(name: str) -> None:
    text = (FIXTURE / "migrations" / name).read_text()
    m = parse(text)
    for finding in analyse(m, config(quiet=())):
        for fix in fixes_for(finding, m):
            if fix.edits:
                fixed = apply_edits(text, fix.edits)
                again = parse(fixed)
                assert not again.problems, fixed
                assert finding.rule not in [f.rule for f in analyse(again, config(quiet=()))]


# --------------------------------------------------------------------------- snippets


def test_snippets_offered() -> None:
    files = {s.prefix for s in snippets_for("sequelize", "postgresql", "file")}
    assert files == {"mig-file", "mig-file-index-concurrently", "mig-file-batch-update"}
    steps = {s.prefix for s in snippets_for("sequelize", "postgresql", "step")}
    assert "mig-index-concurrently" in steps and "mig-lock-timeout" in steps
    assert {s.prefix for s in snippets_for("sequelize", "mysql", "step")} == {
        "mig-create-table",
        "mig-add-column",
        "mig-add-column-default",
    }


@pytest.mark.parametrize(
    ("marked", "expected"),
    [
        ("mig|", "file"),
        ("module.exports = {\n  async up (queryInterface, Sequelize) {\n    |\n  },\n};", "step"),
        (
            "module.exports = {\n  async down(queryInterface, Sequelize) {\n"
            "    /** x */\n    |\n  }\n};",
            "step",
        ),
        ("module.exports = {\n  up: async (queryInterface) => {\n    |\n  }\n};", "step"),
        ("module.exports = {\n  |\n};", None),
        ("module.exports = {\n  up: (queryInterface) => {\n    |\n  }\n};", None),
        (
            "module.exports = {\n  async up (queryInterface, Sequelize) {\n"
            "    await queryInterface.addColumn('a', 'b', {\n      |\n    });\n  }\n};",
            None,
        ),
    ],
)
def test_completion_context(marked: str, expected: str | None) -> None:
    text, offset = marked.replace("|", ""), marked.index("|")
    assert completion_context(text, offset, "sequelize", "javascript") == expected


@pytest.mark.parametrize(
    "prefix", sorted(s.prefix for s in snippets_for("sequelize", "postgresql", "step"))
)
def test_step_snippets_are_quiet_where_inserted(prefix: str) -> None:
    snippet = next(s for s in snippets_for("sequelize", "postgresql", "step") if s.prefix == prefix)
    text = sequelize(expand(render(snippet, "    ")).replace("\n    ", "\n"))
    m = parse(text)
    assert not m.problems, text
    found = [f.rule for f in analyse(m, config())]
    for rule in snippet.avoids:
        assert rule not in found, (prefix, rule, text)


@pytest.mark.parametrize(
    "prefix", sorted(s.prefix for s in snippets_for("sequelize", "postgresql", "file"))
)
def test_file_snippets_are_clean_migrations(prefix: str) -> None:
    snippet = next(s for s in snippets_for("sequelize", "postgresql", "file") if s.prefix == prefix)
    m = parse(expand(snippet.body) + "\n")
    assert not m.problems and m.up is not None and m.down is not None
    assert [f.rule for f in analyse(m, config())] == []
