"""Knex migrations as a user sees them: findings at the right place, fixes that apply and make
the finding go away, snippets offered in the right place, and bad input that does not crash.

Texts are written the way `knex migrate:make` writes them (JSDoc header, `exports.up =
function(knex)`), plus the hand-written shapes people use (async, ESM, TypeScript).
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
from migration_lsp.model import (
    AddColumn,
    AlterColumn,
    CreateIndex,
    CreateTable,
    DataChange,
    Migration,
)
from migration_lsp.parse import parse_migration
from migration_lsp.parse.javascript import JsSource
from migration_lsp.snippets import completion_context, render, snippets_for
from migration_lsp.snippets.syntax import expand
from rule_helpers import analyse, config

FIXTURE = Path(__file__).parent / "fixtures" / "knex"
PATH = "migrations/20240520101500_change.js"
JSDOC = '/**\n * @param { import("knex").Knex } knex\n * @returns { Promise<void> }\n */\n'
IRREVERSIBLE = "throw new Error('irreversible');"


def knex(up: str, down: str | None = IRREVERSIBLE, *, head: str = "") -> str:
    """A migration as `knex migrate:make` writes it, with these `up`/`down` bodies (async)."""
    parts = [head] if head else []
    parts.append(f"{JSDOC}exports.up = async function(knex) {{\n{_body(up)}\n}};\n")
    if down is not None:
        parts.append(f"{JSDOC}exports.down = async function(knex) {{\n{_body(down)}\n}};\n")
    return "\n".join(parts)


def _body(code: str) -> str:
    return textwrap.indent(textwrap.dedent(code).strip("\n"), "  ")


def parse(
    text: str, path: str = PATH, dialect: str | None = "postgresql", **settings: Any
) -> Migration:
    migration = parse_migration(path, text, "knex", dialect, settings)
    assert migration is not None
    return migration


def check(
    text: str, path: str = PATH, settings: dict[str, Any] | None = None, **options: Any
) -> list[Finding]:
    return analyse(parse(text, path, **(settings or {})), config(**options))


def findings(text: str, path: str = PATH, **options: Any) -> list[tuple[str, str]]:
    return [(f.rule, text[f.span.start : f.span.end]) for f in check(text, path, **options)]


def rules(text: str, path: str = PATH, **options: Any) -> list[str]:
    return [rule for rule, _ in findings(text, path, **options)]


ALTER_USERS = """
await knex.schema.alterTable('users', (table) => {
  %s
});
"""


def alter(line: str, down: str | None = IRREVERSIBLE) -> str:
    return knex(ALTER_USERS % line, down)


# --------------------------------------------------------------------------- parsing


def test_generated_migration_is_read_like_knex_runs_it() -> None:
    text = (FIXTURE / "migrations" / "20240514102133_create_users.js").read_text()
    m = parse(text)
    assert m.language == "javascript" and m.supports_down and m.transactional
    assert m.up is not None and text[m.up.span.start : m.up.span.end] == "up"
    assert m.down is not None and not m.down.empty
    create = m.operations[0]
    assert isinstance(create, CreateTable) and create.table == "users"
    columns = {c.name: c for c in create.columns}
    assert columns["id"].type == "bigserial" and columns["id"].primary_key
    assert columns["email"].type == "varchar(255)" and not columns["email"].nullable
    assert columns["email"].unique
    assert columns["created_at"].type == "timestamptz" and columns["created_at"].default


def test_typescript_and_esm_files() -> None:
    ts = (FIXTURE / "migrations" / "20240517140210_add_users_plan.ts").read_text()
    m = parse(ts, "migrations/20240517140210_add_users_plan.ts")
    assert m.language == "typescript" and not m.problems
    kinds = [type(op).__name__ for op in m.operations]
    assert kinds == ["AddColumn", "DataChange", "DropColumn"]
    esm = (FIXTURE / "migrations" / "20240518110000_index_bookings_starts_at.mjs").read_text()
    m = parse(esm, "migrations/20240518110000_index_bookings_starts_at.mjs")
    assert not m.transactional
    index = next(op for op in m.operations if isinstance(op, CreateIndex))
    assert index.concurrently and not index.in_transaction


@pytest.mark.parametrize(
    "shape",
    [
        "exports.up = function(knex) { return BODY; };\nexports.down = function(knex) {};",
        "exports.up = (knex) => BODY;\nexports.down = (knex) => Promise.resolve();",
        "module.exports.up = async (knex) => { await BODY; };\n"
        "module.exports.down = async () => {};",
        "export async function up(knex) { await BODY; }\nexport async function down(knex) {}",
        "export const up = async (knex) => { await BODY; };\nexport const down = async () => {};",
        "async function up(knex) { await BODY; }\nasync function down() {}\n"
        "module.exports = { up, down };",
        "function up(knex) { return BODY; }\nconst down = () => {};\nexport default { up, down };",
    ],
)
def test_every_export_shape(shape: str) -> None:
    text = shape.replace("BODY", "knex.schema.dropTable('users')")
    m = parse(text, "migrations/20240520101500_change.mjs")
    assert [type(op).__name__ for op in m.operations] == ["DropTable"]
    assert m.up is not None and m.down is not None and m.down.empty
    assert rules(text, "migrations/20240520101500_change.mjs") == ["drop-table", "empty-downgrade"]


def test_chains_and_callbacks() -> None:
    text = knex(
        """
        return knex.schema
          .createTable('tags', function(t) {
            t.bigIncrements();
            t.string('name', 64).notNullable().index();
          })
          .alterTable('posts', function(t) {
            t.integer('tag_id').unsigned().references('tags.id');
          })
          .raw('CREATE EXTENSION IF NOT EXISTS citext');
        """
    )
    m = parse(text)
    kinds = [type(op).__name__ for op in m.operations]
    assert kinds[:4] == ["CreateTable", "CreateIndex", "AddColumn", "ExecuteSQL"]
    add = m.operations[2]
    assert isinstance(add, AddColumn) and add.column.references == "tags"
    index = m.operations[1]
    assert isinstance(index, CreateIndex) and index.name == "tags_name_index"


def test_query_builder_data_changes() -> None:
    text = knex(
        """
        await knex('users').whereNull('plan').update({ plan: 'free' });
        await knex.table('users').where('id', 1).del();
        await knex('audit').truncate();
        await knex.batchInsert('plans', rows, 100);
        """
    )
    ops = parse(text).operations
    update, delete, truncate, insert = ops
    assert isinstance(update, DataChange) and update.kind == "update" and update.unbounded
    assert isinstance(delete, DataChange) and delete.kind == "delete" and not delete.unbounded
    assert type(truncate).__name__ == "Truncate"
    assert isinstance(insert, DataChange) and insert.kind == "bulk_insert"


def test_identifier_bindings_are_parsed_as_sql() -> None:
    text = knex("await knex.raw('ALTER TABLE ?? ADD COLUMN ?? text NOT NULL', ['users', 'bio']);")
    ops = parse(text).operations
    add = next(op for op in ops if isinstance(op, AddColumn))
    assert add.table == "users" and add.column.name == "bio"
    assert rules(text) == ["add-not-null-column-without-default"]


# --------------------------------------------------------------------------- rules


def test_non_concurrent_index_fires_on_the_builder_call() -> None:
    text = alter("table.index(['email'], 'users_email_index');")
    assert findings(text) == [("non-concurrent-index", "table.index")]


def test_non_concurrent_index_from_a_column_modifier() -> None:
    text = alter("table.string('email').index();")
    assert ("non-concurrent-index", "index()") in findings(text)


@pytest.mark.parametrize(
    "code",
    [
        # a new table is empty
        "await knex.schema.createTable('users', (t) => { t.string('email').index(); "
        "t.index(['email']); });",
        # concurrently, outside the transaction (config below)
        "await knex.raw('CREATE INDEX CONCURRENTLY IF NOT EXISTS ix ON users (email)');",
    ],
)
def test_non_concurrent_index_quiet(code: str) -> None:
    text = knex(code, head="exports.config = { transaction: false };\n")
    assert "non-concurrent-index" not in rules(text)


def test_non_concurrent_index_quiet_on_mysql() -> None:
    text = alter("table.index(['email']);")
    m = parse(text, dialect="mysql")
    assert [f.rule for f in analyse(m, config())] == []


def test_concurrent_index_in_transaction() -> None:
    text = knex("await knex.raw('CREATE INDEX CONCURRENTLY ix_users_email ON users (email)');")
    assert findings(text) == [("concurrent-index-in-transaction", "CONCURRENTLY")]
    quiet = knex(
        "await knex.raw('CREATE INDEX CONCURRENTLY ix_users_email ON users (email)');",
        head="exports.config = { transaction: false };\n",
    )
    assert findings(quiet) == []


def test_concurrent_index_in_a_knex_transaction_block() -> None:
    text = knex(
        """
        await knex.transaction(async (trx) => {
          await trx.raw('CREATE INDEX CONCURRENTLY ix_users_email ON users (email)');
        });
        """,
        head="exports.config = { transaction: false };\n",
    )
    assert rules(text) == ["concurrent-index-in-transaction"]


def test_knexfile_disable_transactions(tmp_path: Path) -> None:
    knexfile = tmp_path / "knexfile.js"
    knexfile.write_text(
        "module.exports = { client: 'pg', migrations: { disableTransactions: true } };\n"
    )
    text = knex("await knex.raw('CREATE INDEX CONCURRENTLY ix ON users (email)');")
    settings = {"knexfile": str(knexfile)}
    assert [f.rule for f in check(text, settings=settings)] == []
    knexfile.write_text("module.exports = { client: 'pg' };\n")
    assert [f.rule for f in check(text, settings=settings)] == ["concurrent-index-in-transaction"]


def test_add_not_null_column_without_default() -> None:
    text = alter("table.string('reference', 32).notNullable();")
    assert findings(text) == [("add-not-null-column-without-default", "'reference'")]


@pytest.mark.parametrize(
    "line",
    [
        "table.string('reference', 32).notNullable().defaultTo('');",
        "table.string('reference', 32).nullable();",
        "table.string('reference', 32);",
        "table.timestamps(true, true);",
    ],
)
def test_add_not_null_column_quiet(line: str) -> None:
    assert findings(alter(line)) == []


def test_add_not_null_column_on_new_table_is_quiet() -> None:
    text = knex(
        "await knex.schema.createTable('plans', (t) => { t.string('code').notNullable(); });"
    )
    assert findings(text) == []


def test_set_not_null_on_existing_column() -> None:
    assert findings(alter("table.dropNullable('email');")) == [
        ("set-not-null-on-existing-column", "table.dropNullable")
    ]
    text = alter("table.string('email').notNullable().alter({ alterType: false });")
    assert findings(text) == [("set-not-null-on-existing-column", "notNullable()")]
    assert rules(alter("table.setNullable('email');")) == ["drop-not-null"]


def test_change_column_type() -> None:
    text = alter("table.text('bio').alter({ alterNullable: false });")
    assert findings(text) == [("change-column-type", "text('bio')")]
    quiet = alter("table.text('bio').nullable().alter({ alterType: false });")
    assert "change-column-type" not in rules(quiet)
    alter_op = parse(text).operations[0]
    assert isinstance(alter_op, AlterColumn) and alter_op.new_type == "text"


def test_foreign_key_without_not_valid() -> None:
    text = alter("table.foreign('account_id').references('accounts.id');")
    assert findings(text) == [("foreign-key-without-not-valid", "'account_id'")]
    named = alter("table.foreign('account_id', 'users_account_fk').references('accounts.id');")
    assert findings(named) == [("foreign-key-without-not-valid", "'users_account_fk'")]
    inline = alter("table.bigInteger('account_id').references('id').inTable('accounts');")
    assert ("foreign-key-without-not-valid", "'account_id'") in findings(inline)
    not_valid = knex(
        "await knex.raw('ALTER TABLE users ADD CONSTRAINT users_account_fk "
        "FOREIGN KEY (account_id) REFERENCES accounts (id) NOT VALID');"
    )
    assert findings(not_valid) == []


def test_renames_and_drops() -> None:
    assert findings(alter("table.renameColumn('name', 'full_name');")) == [
        ("rename-column", "'name'")
    ]
    assert findings(knex("await knex.schema.renameTable('users', 'people');")) == [
        ("rename-table", "'users'")
    ]
    assert findings(alter("table.dropColumns('a', 'b');")) == [
        ("drop-column", "'a'"),
        ("drop-column", "'b'"),
    ]
    assert findings(knex("await knex.schema.dropTableIfExists('users');")) == [
        ("drop-table", "'users'")
    ]


def test_drops_in_down_are_not_judged() -> None:
    text = knex(
        "await knex.schema.createTable('plans', (t) => { t.bigIncrements(); });",
        "await knex.schema.dropTable('plans');",
    )
    assert findings(text) == []


@pytest.mark.parametrize(
    ("default", "fires"),
    [
        ("knex.raw('gen_random_uuid()')", True),
        ("knex.fn.uuid()", True),
        ("knex.fn.now()", False),
        ("'active'", False),
    ],
)
def test_add_column_volatile_default(default: str, fires: bool) -> None:
    text = alter(f"table.uuid('public_id').defaultTo({default});")
    found = findings(text)
    assert (("add-column-volatile-default", f"defaultTo({default})") in found) is fires


def test_missing_downgrade_points_at_up() -> None:
    text = knex(ALTER_USERS % "table.string('bio');", down=None)
    result = check(text)
    assert [(f.rule, text[f.span.start : f.span.end]) for f in result] == [
        ("missing-downgrade", "up")
    ]
    assert result[0].start == (4, 8)


def test_empty_downgrade_for_the_generated_stub() -> None:
    text = (FIXTURE / "migrations" / "20240515083012_create_bookings.js").read_text()
    assert findings(text) == [("empty-downgrade", "down")]
    data_only = knex("await knex('users').where('id', 1).update({ plan: 'pro' });", "")
    assert "empty-downgrade" not in rules(data_only)


def test_incomplete_downgrade() -> None:
    text = knex(
        """
        await knex.schema.createTable('plans', (t) => { t.bigIncrements(); });
        await knex.schema.createTable('prices', (t) => { t.bigIncrements(); });
        """,
        "await knex.schema.dropTable('prices');",
    )
    assert findings(text) == [("incomplete-downgrade", "down")]
    complete = knex(
        "await knex.schema.createTable('plans', (t) => { t.bigIncrements(); });",
        "await knex.schema.dropTable('plans');",
    )
    assert findings(complete) == []
    index = knex(
        ALTER_USERS % "table.index(['email']);",
        ALTER_USERS % "table.dropIndex(['email']);",
    )
    assert "incomplete-downgrade" not in rules(index)


def test_sql_inside_raw_is_reported_inside_the_string() -> None:
    text = knex('await knex.raw("ALTER TABLE users ADD COLUMN code text NOT NULL");')
    result = check(text)
    assert [(f.rule, text[f.span.start : f.span.end]) for f in result] == [
        ("add-not-null-column-without-default", "code")
    ]
    line = text.splitlines()[result[0].start[0]]
    assert line[result[0].start[1] :].startswith("code text NOT NULL")


def test_sql_in_template_literal_with_substitution() -> None:
    text = knex("await knex.raw(`UPDATE users SET plan = '${plan}' WHERE id = ${id}`);")
    assert findings(text) == [
        ("sql-string-formatting", "`UPDATE users SET plan = '${plan}' WHERE id = ${id}`")
    ]
    message = check(text)[0].message
    assert "knex.raw(" in message and "?" in message
    bound = knex("await knex.raw('UPDATE users SET plan = ? WHERE id = ?', [plan, id]);")
    assert findings(bound) == []


def test_mixed_schema_and_data_change() -> None:
    text = knex(
        """
        await knex.schema.alterTable('users', (table) => {
          table.string('plan');
        });
        await knex('users').where('plan', null).update({ plan: 'free' });
        """
    )
    assert findings(text) == [
        (
            "mixed-schema-and-data-change",
            "knex('users').where('plan', null).update({ plan: 'free' })",
        )
    ]
    seeded = knex(
        """
        await knex.schema.createTable('plans', (t) => { t.bigIncrements(); t.string('code'); });
        await knex('plans').insert([{ code: 'free' }, { code: 'pro' }]);
        """
    )
    assert findings(seeded) == []


def test_unbatched_data_update() -> None:
    assert findings(knex("await knex('users').update({ active: true });")) == [
        ("unbatched-data-update", "knex('users').update({ active: true })")
    ]
    assert rules(knex("await knex('users').whereNull('plan').update({ plan: 'free' });")) == [
        "unbatched-data-update"
    ]
    batched = "await knex('users').whereIn('id', ids).update({ plan: 'free' });"
    assert findings(knex(batched)) == []


def test_ignore_comment() -> None:
    text = alter("table.index(['email']);  // migration-lsp: ignore[non-concurrent-index]")
    assert findings(text) == []


def test_settings_from_the_knexfile_reach_the_cli(capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["check", "--format", "json", str(FIXTURE)])
    out = capsys.readouterr().out
    report = json.loads(out)
    items = report["findings"] if isinstance(report, dict) else report
    found = {(Path(f["path"]).name, f["rule"]) for f in items}
    assert code == 1
    assert ("20240515083012_create_bookings.js", "empty-downgrade") in found
    assert ("20240516091544_add_bookings_reference.js", "non-concurrent-index") in found
    assert (
        "20240516091544_add_bookings_reference.js",
        "add-not-null-column-without-default",
    ) in found
    assert ("20240516091544_add_bookings_reference.js", "incomplete-downgrade") in found
    assert ("20240517140210_add_users_plan.ts", "mixed-schema-and-data-change") in found
    assert ("20240519093000_archive_old_bookings.js", "sql-string-formatting") in found
    assert ("20240519093000_archive_old_bookings.js", "drop-column") in found
    clean = {"20240514102133_create_users.js", "20240518110000_index_bookings_starts_at.mjs"}
    assert not {name for name, _ in found} & clean


def test_cli_text_output(capsys: pytest.CaptureFixture[str]) -> None:
    main(["check", str(FIXTURE / "migrations" / "20240516091544_add_bookings_reference.js")])
    out = capsys.readouterr().out
    assert "20240516091544_add_bookings_reference.js:8:5: warning non-concurrent-index" in out
    assert "7:18: error add-not-null-column-without-default" in out


# --------------------------------------------------------------------------- bad input


def test_syntax_error_is_one_parse_error() -> None:
    text = knex("await knex.schema.alterTable('users', (table) => {\n  table.string('x'\n")
    assert rules(text) == ["migration-parse-error"]


@pytest.mark.parametrize("name", sorted(p.name for p in (FIXTURE / "migrations").iterdir()))
def test_truncated_fixtures_never_crash(name: str) -> None:
    text = (FIXTURE / "migrations" / name).read_text()
    for end in range(0, len(text), 7):
        prefix = text[:end]
        m = parse(prefix, f"migrations/{name}")
        found = [f.rule for f in analyse(m, config())]
        if m.problems:
            assert found == ["migration-parse-error"]


# --------------------------------------------------------------------------- fixes


def fix_and_check(text: str, rule: str, path: str = PATH, **options: Any) -> tuple[str, Any]:
    """Apply the first fix of the finding of `rule`; the result parses and the finding is
    gone. Returns the fixed text and the fix."""
    m = parse(text, path)
    finding = next(f for f in analyse(m, config(**options)) if f.rule == rule)
    fixes = fixes_for(finding, m)
    assert fixes, rule
    fix = fixes[0]
    assert fix.edits, fix.title
    fixed = apply_edits(text, fix.edits)
    assert not JsSource(fixed, path).root.has_error, fixed
    again = parse(fixed, path)
    assert not again.problems
    assert rule not in [f.rule for f in analyse(again, config(**options))], fixed
    return fixed, fix


def test_fix_missing_downgrade_commonjs() -> None:
    text = knex(
        """
        await knex.schema.createTable('plans', (t) => { t.bigIncrements(); });
        await knex.schema.alterTable('users', (table) => {
          table.integer('plan_id').references('plans.id');
          table.renameColumn('name', 'full_name');
        });
        await knex.raw('CREATE INDEX CONCURRENTLY ix_users_email ON users (email)');
        """,
        down=None,
        head="exports.config = { transaction: false };\n",
    )
    fixed, fix = fix_and_check(text, "missing-downgrade")
    assert fix.applicability is Applicability.UNSAFE
    assert fixed.count(JSDOC) == 2
    down = fixed[fixed.index("exports.down") :]
    assert down.startswith("exports.down = async function(knex) {\n")
    assert "await knex.raw('DROP INDEX CONCURRENTLY IF EXISTS ix_users_email');" in down
    assert "    table.renameColumn('full_name', 'name');\n    table.dropColumn('plan_id');" in down
    assert down.index("ix_users_email") < down.index("dropColumn") < down.index("dropTable")
    assert "incomplete-downgrade" not in rules(fixed)


def test_fix_missing_downgrade_esm_and_typescript() -> None:
    ts = (
        'import type { Knex } from "knex";\n\n\n'
        "export async function up(knex: Knex): Promise<void> {\n"
        '    await knex.schema.createTable("plans", (t) => {\n'
        "        t.bigIncrements();\n    });\n}\n"
    )
    fixed, _ = fix_and_check(ts, "missing-downgrade", "migrations/20240520101500_plans.ts")
    assert "export async function down(knex: Knex): Promise<void> {\n" in fixed
    assert '    await knex.schema.dropTable("plans");\n}' in fixed
    esm = "export const up = async (knex) => {\n  await knex.schema.dropTable('old');\n};\n"
    fixed, _ = fix_and_check(esm, "missing-downgrade", "migrations/20240520101500_x.mjs")
    assert "export const down = async (knex) => {" in fixed
    assert "throw new Error('cannot restore the dropped table old');" in fixed


def test_fix_empty_downgrade_of_the_generated_stub() -> None:
    text = (FIXTURE / "migrations" / "20240515083012_create_bookings.js").read_text()
    fixed, _ = fix_and_check(text, "empty-downgrade")
    assert (
        "exports.down = async function(knex) {\n  await knex.schema.dropTable('bookings');\n};"
        in fixed
    )


def test_fix_empty_downgrade_replaces_a_noop_return() -> None:
    text = "exports.up = (knex) => knex.schema.createTable('a', (t) => { t.bigIncrements(); });\n"
    text += "exports.down = (knex) => Promise.resolve();\n"
    fixed, _ = fix_and_check(text, "empty-downgrade")
    assert "exports.down = async (knex) => {\n  await knex.schema.dropTable('a');\n};" in fixed


def test_fix_incomplete_downgrade_adds_the_missing_inverses_first() -> None:
    text = (FIXTURE / "migrations" / "20240516091544_add_bookings_reference.js").read_text()
    fixed, _ = fix_and_check(text, "incomplete-downgrade")
    assert (
        "exports.down = async function(knex) {\n  await knex.schema.alterTable('bookings'" in fixed
    )
    assert "table.dropColumn('reference');" in fixed
    assert "return knex.schema.alterTable('bookings'" in fixed  # the existing down is kept


def test_fix_non_concurrent_index_alone_in_alter_table() -> None:
    text = knex(
        "return knex.schema.alterTable('users', function(table) {\n"
        "  table.index(['email'], 'users_email_index');\n});"
    )
    fixed, fix = fix_and_check(text, "non-concurrent-index")
    assert fix.applicability is Applicability.SAFE
    assert (
        "return knex.schema.raw("
        "'CREATE INDEX CONCURRENTLY IF NOT EXISTS users_email_index ON users (email)');" in fixed
    )
    assert fixed.startswith("exports.config = { transaction: false };\n\n/**")
    assert "concurrent-index-in-transaction" not in rules(fixed)


def test_fix_non_concurrent_index_next_to_other_changes() -> None:
    text = (FIXTURE / "migrations" / "20240516091544_add_bookings_reference.js").read_text()
    fixed, fix = fix_and_check(text, "non-concurrent-index")
    assert fix.applicability is Applicability.UNSAFE  # the new column loses its transaction
    assert "table.index(" not in fixed
    assert (
        "  }).raw('CREATE INDEX CONCURRENTLY IF NOT EXISTS bookings_status_index "
        "ON bookings (status)');" in fixed
    )


def test_fix_non_concurrent_index_modifier_and_existing_config() -> None:
    text = knex(
        ALTER_USERS % "table.string('email').index();",
        head="exports.config = { transaction: true };\n",
    )
    fixed, _ = fix_and_check(text, "non-concurrent-index")
    assert "table.string('email');" in fixed
    assert "exports.config = { transaction: false };" in fixed
    assert "ON users (email)" in fixed


def test_fix_non_concurrent_index_in_raw_sql() -> None:
    text = knex("await knex.raw('CREATE UNIQUE INDEX ix_users_email ON users (email)');")
    fixed, _ = fix_and_check(text, "non-concurrent-index")
    assert (
        "'CREATE UNIQUE INDEX CONCURRENTLY IF NOT EXISTS ix_users_email ON users (email)'" in fixed
    )
    assert "exports.config = { transaction: false };" in fixed


def test_fix_concurrent_index_in_transaction_esm() -> None:
    text = (
        "export async function up(knex) {\n"
        "  await knex.raw('DROP INDEX CONCURRENTLY IF EXISTS ix_old');\n}\n\n"
        "export async function down(knex) {\n  throw new Error('no');\n}\n"
    )
    fixed, fix = fix_and_check(text, "concurrent-index-in-transaction", "migrations/1_x.mjs")
    assert fixed.startswith("export const config = { transaction: false };\n\n")
    assert fix.applicability is Applicability.SAFE


def test_no_edit_inside_a_knex_transaction_block() -> None:
    text = knex(
        "await knex.transaction(async (trx) => {\n"
        "  await trx.raw('CREATE INDEX CONCURRENTLY ix ON users (email)');\n});",
        head="exports.config = { transaction: false };\n",
    )
    m = parse(text)
    finding = next(f for f in analyse(m, config()) if f.rule == "concurrent-index-in-transaction")
    fixes = fixes_for(finding, m)
    assert len(fixes) == 1 and not fixes[0].edits and "knex.transaction" in fixes[0].title


@pytest.mark.parametrize("name", sorted(p.name for p in (FIXTURE / "migrations").iterdir()))
def test_every_fix_on_the_fixtures_applies(name: str) -> None:
    text = (FIXTURE / "migrations" / name).read_text()
    path = f"migrations/{name}"
    m = parse(text, path)
    for finding in analyse(m, config(quiet=())):
        for fix in fixes_for(finding, m):
            if not fix.edits:
                continue
            fixed = apply_edits(text, fix.edits)
            again = parse(fixed, path)
            assert not again.problems, (finding.rule, fixed)
            assert finding.rule not in [f.rule for f in analyse(again, config(quiet=()))]


# --------------------------------------------------------------------------- snippets

STEP = {
    "mig-create-table",
    "mig-add-column",
    "mig-add-column-default",
    "mig-index-concurrently",
    "mig-drop-index-concurrently",
    "mig-foreign-key",
    "mig-validate-constraint",
    "mig-set-not-null",
    "mig-batch-update",
    "mig-lock-timeout",
}


def test_snippets_offered() -> None:
    assert {s.prefix for s in snippets_for("knex", "postgresql", "step")} == STEP
    files = {s.prefix for s in snippets_for("knex", "postgresql", "file")}
    assert files == {
        "mig-file",
        "mig-file-ts",
        "mig-file-index-concurrently",
        "mig-file-batch-update",
    }
    assert {s.prefix for s in snippets_for("knex", "mysql", "step")} == {
        "mig-create-table",
        "mig-add-column",
        "mig-add-column-default",
    }


def _marked(text: str) -> tuple[str, int]:
    return text.replace("|", ""), text.index("|")


@pytest.mark.parametrize(
    ("marked", "expected"),
    [
        ("mig-|", "file"),
        ("// migrations\n\nmig|", "file"),
        ("exports.up = async function(knex) {\n  mig-ind|\n};\n", "step"),
        ("exports.up = async function(knex) {\n  await knex.raw('x');\n  |\n};\n", "step"),
        ("export async function down(knex: Knex): Promise<void> {\n    |\n}\n", "step"),
        ("export const up = async (knex) => {\n  |\n};\n", "step"),
        # half-typed call on the line above: abandoned
        ("exports.up = async function(knex) {\n  await knex.raw(\n  |\n};\n", "step"),
        # knex's own stub is not async: `await` would be a syntax error
        ("exports.up = function(knex) {\n  |\n};\n", None),
        # inside a table callback, a string, a comment, mid-expression, at top level
        (
            "exports.up = async function(knex) {\n"
            "  knex.schema.alterTable('t', (t) => {\n    |\n  });\n};",
            None,
        ),
        ("exports.up = async function(knex) {\n  const s = 'mig-|';\n};\n", None),
        ("exports.up = async function(knex) {\n  // mig-|\n};\n", None),
        ("exports.up = async function(knex) {\n  await knex.raw('x') mig|\n};\n", None),
        ("exports.up = async function(knex) {};\n|", None),
    ],
)
def test_completion_context(marked: str, expected: str | None) -> None:
    text, offset = _marked(marked)
    assert completion_context(text, offset, "knex", "javascript") == expected


@pytest.mark.parametrize("prefix", sorted(STEP))
def test_step_snippets_parse_in_an_async_up(prefix: str) -> None:
    snippet = next(s for s in snippets_for("knex", "postgresql", "step") if s.prefix == prefix)
    code = expand(render(snippet, "  "))
    text = (
        "exports.config = { transaction: false };\n\n"
        f"exports.up = async function(knex) {{\n  {code}\n}};\n\n"
        "exports.down = async function(knex) {\n  throw new Error('irreversible');\n};\n"
    )
    m = parse(text)
    assert not m.problems, text
    found = [f.rule for f in analyse(m, config())]
    for rule in snippet.avoids:
        assert rule not in found, (prefix, rule, text)


@pytest.mark.parametrize(
    "prefix", ["mig-file", "mig-file-ts", "mig-file-index-concurrently", "mig-file-batch-update"]
)
def test_file_snippets_are_clean_migrations(prefix: str) -> None:
    snippet = next(s for s in snippets_for("knex", "postgresql", "file") if s.prefix == prefix)
    text = expand(snippet.body) + "\n"
    path = "migrations/20240520101500_x.ts" if prefix.endswith("-ts") else PATH
    m = parse(text, path)
    assert not m.problems and m.up is not None and m.down is not None
    assert [f.rule for f in analyse(m, config())] == []
