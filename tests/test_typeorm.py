"""TypeORM migrations: what `migration-lsp check` and the editor report for them, the fixes
and the snippets.

Files are written the way `typeorm migration:generate` / `migration:create` write them (class
`<Name><timestamp>` implementing `MigrationInterface`, SQL in template literals), plus the
hand-written QueryRunner API style, the JavaScript of `migration:generate -o` and what `tsc`
compiles a migration to. They are parsed with the real parser and checked with the real
engine; ranges are asserted on the text the user sees underlined.
"""

from __future__ import annotations

import json
import re
import textwrap
from pathlib import Path
from typing import Any

import pytest

from migration_lsp.cli import main
from migration_lsp.findings import Applicability, Finding, Fix
from migration_lsp.fixes import apply_edits, fixes_for
from migration_lsp.model import AddColumn, CreateIndex, ExecuteSQL, Migration, Step
from migration_lsp.parse import parse_migration
from migration_lsp.parse.treesitter import TreeSource
from migration_lsp.parse.typeorm import parse_typeorm
from migration_lsp.snippets import completion_context, render, snippets_for
from migration_lsp.snippets.model import Snippet
from rule_helpers import analyse, config

FIXTURE = Path(__file__).parent / "fixtures" / "typeorm"
MIGRATIONS = FIXTURE / "src" / "migrations"
DATA_SOURCE = str(FIXTURE / "src" / "data-source.ts")
PATH = "src/migrations/1715682093123-ChangeUsers.ts"
JS_PATH = "src/migrations/1715682093123-ChangeUsers.js"
IRREVERSIBLE = 'throw new Error("This migration cannot be undone")'
EACH = {"migrationsTransactionMode": "each"}

TEMPLATE = """import {{
    MigrationInterface,
    QueryRunner,
    Table,
    TableColumn,
    TableForeignKey,
    TableIndex,
}} from "typeorm";

export class ChangeUsers1715682093123 implements MigrationInterface {{
    name = 'ChangeUsers1715682093123'
{fields}
    public async up(queryRunner: QueryRunner): Promise<void> {{
{up}
    }}
{down}
}}
"""


def _block(code: str) -> str:
    return textwrap.indent(textwrap.dedent(code).strip("\n"), "        ")


def typeorm(up: str, down: str | None = IRREVERSIBLE, *, fields: str = "") -> str:
    """A migration class in `migration:generate` style with these `up()` / `down()` bodies
    (`down=None`: no `down()`); `fields` are class members written before `up()`."""
    down_text = ""
    if down is not None:
        body = _block(down) if down.strip() else ""
        down_text = (
            "\n    public async down(queryRunner: QueryRunner): Promise<void> {\n"
            + body
            + "\n    }\n"
        )
    members = textwrap.indent(textwrap.dedent(fields).strip("\n"), "    ") + "\n" if fields else ""
    return TEMPLATE.format(fields=members, up=_block(up), down=down_text)


def parse(
    text: str, settings: dict[str, Any] | None = None, path: str = PATH, dialect: str = "postgresql"
) -> Migration:
    return parse_typeorm(path, text, dialect, settings if settings is not None else {})


def check(
    text: str, settings: dict[str, Any] | None = None, path: str = PATH, **options: Any
) -> list[Finding]:
    return analyse(parse(text, settings, path), config(**options))


def found(
    text: str, settings: dict[str, Any] | None = None, path: str = PATH, **options: Any
) -> list[tuple[str, str]]:
    """(rule id, underlined text) of every finding."""
    return [
        (f.rule, text[f.span.start : f.span.end]) for f in check(text, settings, path, **options)
    ]


def rules(text: str, settings: dict[str, Any] | None = None, **options: Any) -> set[str]:
    return {rule for rule, _ in found(text, settings, **options)}


def fixture(name: str) -> str:
    return (MIGRATIONS / name).read_text(encoding="utf-8")


def fixture_settings() -> dict[str, Any]:
    return {"data_source": DATA_SOURCE}


# --------------------------------------------------------------------------- the fixture app


def test_detect_finds_the_fixture_as_typeorm(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["detect", "--format", "json", str(FIXTURE)]) == 0
    projects = json.loads(capsys.readouterr().out)
    assert [(p["tool"], p["dialect"], p["migrations"]) for p in projects] == [
        ("typeorm", "postgresql", ["src/migrations"])
    ]


def test_check_on_the_fixture_app(capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["check", "--format", "json", str(FIXTURE)])
    report = json.loads(capsys.readouterr().out)
    items = report if isinstance(report, list) else report.get("findings", report)
    got = {(Path(f["path"]).name, f["rule"]) for f in items}
    assert code == 1
    expected = {
        ("1715682093123-AddEmailToUsers.ts", "add-not-null-column-without-default"),
        ("1715682093123-AddEmailToUsers.ts", "non-concurrent-index"),
        ("1715682400000-AddUserPlan.ts", "missing-downgrade"),
        ("1715682400000-AddUserPlan.ts", "add-not-null-column-without-default"),
        ("1715682400000-AddUserPlan.ts", "non-concurrent-index"),
        ("1715682450000-RestructureOrders.ts", "empty-downgrade"),
        ("1715682450000-RestructureOrders.ts", "foreign-key-without-not-valid"),
        ("1715682450000-RestructureOrders.ts", "rename-column"),
        ("1715682450000-RestructureOrders.ts", "drop-column"),
        ("1715682500000-AddOrdersStatusIndex.ts", "concurrent-index-in-transaction"),
        ("1715682700000-BackfillUserPlan.ts", "sql-string-formatting"),
        ("1715682700000-BackfillUserPlan.ts", "mixed-schema-and-data-change"),
        ("1715682700000-BackfillUserPlan.ts", "unbatched-data-update"),
        ("1715682700000-BackfillUserPlan.ts", "set-not-null-on-existing-column"),
        ("1715682700000-BackfillUserPlan.ts", "incomplete-downgrade"),
    }
    assert expected <= got
    quiet = {
        "1715682200000-SeedPlans.ts",
        "1715682300000-CreateOrders.ts",
        "1715682600000-AddOrdersCreatedAtIndex.ts",
    }
    assert not {name for name, rule in got if name in quiet and rule != "prefer-timestamptz"}
    assert not {name for name, rule in got if rule == "migration-parse-error"}


def test_check_text_output_points_into_the_template_literal(
    capsys: pytest.CaptureFixture[str],
) -> None:
    main(["check", str(MIGRATIONS / "1715682093123-AddEmailToUsers.ts")])
    out = capsys.readouterr().out
    text = fixture("1715682093123-AddEmailToUsers.ts")
    line, column = _position(text, "CREATE INDEX")
    assert f":{line + 1}:{column + 1}: warning non-concurrent-index" in out


def _position(text: str, needle: str) -> tuple[int, int]:
    offset = text.index(needle)
    return text.count("\n", 0, offset), offset - (text.rfind("\n", 0, offset) + 1)


# --------------------------------------------------------------------------- parsing


def test_generated_migration_model() -> None:
    text = fixture("1715682093123-AddEmailToUsers.ts")
    migration = parse(text, fixture_settings(), "1715682093123-AddEmailToUsers.ts")
    assert (migration.tool, migration.language, migration.supports_down) == (
        "typeorm",
        "typescript",
        True,
    )
    assert migration.up is not None and migration.down is not None
    assert text[migration.up.span.start : migration.up.span.end] == "up"
    assert text[migration.down.span.start : migration.down.span.end] == "down"
    add = next(op for op in migration.operations if isinstance(op, AddColumn))
    assert (add.table, add.column.name, add.column.nullable) == ("users", "email", False)
    execute = next(op for op in migration.operations if isinstance(op, ExecuteSQL))
    assert text[execute.span_of("keyword").start : execute.span_of("keyword").end] == (
        "queryRunner.query"
    )
    assert [op.step for op in migration.operations].count(Step.DOWN) == 4


def test_create_template_is_empty_both_ways() -> None:
    migration = parse(fixture("1715682200000-SeedPlans.ts"))
    assert migration.up is not None and migration.up.empty
    assert migration.down is not None and migration.down.empty
    assert migration.operations == []
    assert check(fixture("1715682200000-SeedPlans.ts")) == []


def test_sql_ranges_inside_multi_line_templates_with_escapes() -> None:
    text = typeorm(
        """
        await queryRunner.query(`
            UPDATE "users" SET "bio" = 'it''s \\`here\\`';
            CREATE INDEX "IDX_users_bio" ON "users" ("bio")
        `)
        """
    )
    got = found(text)
    assert ("non-concurrent-index", "CREATE INDEX") in got
    index = next(f for f in check(text) if f.rule == "non-concurrent-index")
    assert index.start == _position(text, "CREATE INDEX")


def test_constants_in_substitutions_are_read_and_not_formatting() -> None:
    text = typeorm(
        """
        await queryRunner.query(`CREATE INDEX "${this.index}" ON "${TABLE}" ("email")`)
        """,
        fields='private readonly index = "IDX_users_email"\n',
    ).replace("import {", 'const TABLE = "users"\nimport {', 1)
    migration = parse(text)
    index = next(op for op in migration.operations if isinstance(op, CreateIndex))
    assert (index.name, index.table) == ("IDX_users_email", "users")
    assert "sql-string-formatting" not in rules(text)
    assert ("non-concurrent-index", "CREATE INDEX") in found(text)


def test_sql_string_formatting_with_a_runtime_value() -> None:
    text = typeorm(
        """
        const plan = process.env.DEFAULT_PLAN
        await queryRunner.query(`UPDATE "users" SET "plan" = '${plan}' WHERE "id" = 1`)
        """
    )
    formatting = [f for f in check(text) if f.rule == "sql-string-formatting"]
    assert len(formatting) == 1
    assert text[formatting[0].span.start : formatting[0].span.end].startswith("`UPDATE")
    assert "queryRunner.query(" in formatting[0].message and "$1" in formatting[0].message


def test_query_of_a_local_constant() -> None:
    text = typeorm(
        """
        const sql = `ALTER TABLE "users" ADD "email" varchar NOT NULL`
        await queryRunner.query(sql)
        """
    )
    assert ("add-not-null-column-without-default", '"email"') in found(text)


def test_query_through_the_manager() -> None:
    text = typeorm('await queryRunner.manager.query(`ALTER TABLE "users" DROP COLUMN "bio"`)')
    assert ("drop-column", '"bio"') in found(text)


def test_unknown_sql_is_no_finding_and_no_crash() -> None:
    text = typeorm("await queryRunner.query(buildSql())")
    migration = parse(text)
    assert [type(op).__name__ for op in migration.operations] == ["ExecuteSQL"]
    assert check(text) == []


# --------------------------------------------------------------------------- rules: must fire

MUST_FIRE = [
    (
        "non-concurrent-index",
        'await queryRunner.query(`CREATE INDEX "IDX_users_email" ON "users" ("email") `)',
        "CREATE INDEX",
    ),
    (
        "non-concurrent-index",
        'await queryRunner.createIndex("users", new TableIndex({ columnNames: ["email"] }))',
        "queryRunner.createIndex",
    ),
    (
        "concurrent-index-in-transaction",
        'await queryRunner.query(`CREATE INDEX CONCURRENTLY "IDX_a" ON "users" ("a")`)',
        "CONCURRENTLY",
    ),
    (
        "concurrent-index-in-transaction",
        "await queryRunner.createIndex("
        '"users", new TableIndex({ columnNames: ["a"], isConcurrent: true }))',
        "true",
    ),
    (
        "add-not-null-column-without-default",
        'await queryRunner.query(`ALTER TABLE "users" ADD "email" character varying NOT NULL`)',
        '"email"',
    ),
    (
        "add-not-null-column-without-default",
        'await queryRunner.addColumn("users", new TableColumn({ name: "plan", type: "varchar" }))',
        '"plan"',
    ),
    (
        "set-not-null-on-existing-column",
        'await queryRunner.query(`ALTER TABLE "users" ALTER COLUMN "plan" SET NOT NULL`)',
        '"plan"',
    ),
    (
        "set-not-null-on-existing-column",
        'await queryRunner.changeColumn("users", new TableColumn({ name: "plan", type: "text", '
        'isNullable: true }), new TableColumn({ name: "plan", type: "text" }))',
        '"plan"',
    ),
    (
        "change-column-type",
        'await queryRunner.query(`ALTER TABLE "users" ALTER COLUMN "age" TYPE bigint`)',
        '"age"',
    ),
    (
        "foreign-key-without-not-valid",
        'await queryRunner.query(`ALTER TABLE "orders" ADD CONSTRAINT "FK_1" FOREIGN KEY '
        '("user_id") REFERENCES "users"("id") ON DELETE CASCADE ON UPDATE NO ACTION`)',
        '"FK_1"',
    ),
    (
        "foreign-key-without-not-valid",
        'await queryRunner.createForeignKey("orders", new TableForeignKey({ name: "FK_1", '
        'columnNames: ["user_id"], referencedTableName: "users", referencedColumnNames: ["id"] }))',
        '"FK_1"',
    ),
    (
        "rename-column",
        'await queryRunner.query(`ALTER TABLE "users" RENAME COLUMN "name" TO "full_name"`)',
        '"name"',
    ),
    (
        "rename-column",
        'await queryRunner.renameColumn("users", "name", "full_name")',
        '"name"',
    ),
    ("rename-table", 'await queryRunner.renameTable("users", "accounts")', None),
    ("rename-table", 'await queryRunner.query(`ALTER TABLE "users" RENAME TO "accounts"`)', None),
    ("drop-column", 'await queryRunner.dropColumn("users", "legacy")', '"legacy"'),
    ("drop-column", 'await queryRunner.query(`ALTER TABLE "users" DROP COLUMN "legacy"`)', None),
    (
        "drop-column",  # a type change: TypeORM drops and re-adds the column
        'await queryRunner.changeColumn("users", new TableColumn({ name: "age", type: "int" }), '
        'new TableColumn({ name: "age", type: "bigint", isNullable: true }))',
        '"age"',
    ),
    ("drop-table", 'await queryRunner.dropTable("users")', None),
    ("drop-table", 'await queryRunner.query(`DROP TABLE "users"`)', None),
    (
        "mixed-schema-and-data-change",
        'await queryRunner.query(`ALTER TABLE "users" ADD "plan" text`)\n'
        'await queryRunner.query(`UPDATE "users" SET "plan" = \'free\' WHERE "id" < 10`)',
        None,
    ),
    ("unbatched-data-update", 'await queryRunner.query(`UPDATE "users" SET "plan" = \'a\'`)', None),
    (
        "unbatched-data-update",
        'await queryRunner.manager.createQueryBuilder().update("users").set({ plan: "a" })'
        ".execute()",
        None,
    ),
    ("truncate-table", 'await queryRunner.clearTable("users")', None),
]


@pytest.mark.parametrize(("rule", "up", "underlined"), MUST_FIRE)
def test_rule_fires(rule: str, up: str, underlined: str | None) -> None:
    text = typeorm(up)
    hits = [span for got, span in found(text, select=[rule]) if got == rule]
    assert hits, found(text)
    if underlined is not None:
        assert underlined in hits


MUST_NOT_FIRE = [
    (
        "non-concurrent-index",
        'await queryRunner.query(`CREATE INDEX CONCURRENTLY "IDX_a" ON "users" ("a")`)',
        "transaction = false",
    ),
    (
        "non-concurrent-index",
        'await queryRunner.createIndex("users", new TableIndex({ columnNames: ["a"], '
        "isConcurrent: true }))",
        "transaction = false",
    ),
    (
        "concurrent-index-in-transaction",
        'await queryRunner.query(`CREATE INDEX CONCURRENTLY "IDX_a" ON "users" ("a")`)',
        "transaction = false",
    ),
    (
        "concurrent-index-in-transaction",  # the commit/start pattern some teams use
        "await queryRunner.commitTransaction()\n"
        'await queryRunner.query(`CREATE INDEX CONCURRENTLY "IDX_a" ON "users" ("a")`)\n'
        "await queryRunner.startTransaction()",
        "",
    ),
    (
        "add-not-null-column-without-default",
        'await queryRunner.addColumn("users", new TableColumn({ name: "plan", type: "varchar", '
        "isNullable: true }))",
        "",
    ),
    (
        "add-not-null-column-without-default",
        'await queryRunner.addColumn("users", new TableColumn({ name: "plan", type: "varchar", '
        "default: \"'free'\" }))",
        "",
    ),
    (
        "add-not-null-column-without-default",
        'await queryRunner.query(`ALTER TABLE "users" ADD "plan" text NOT NULL DEFAULT \'free\'`)',
        "",
    ),
    (
        "set-not-null-on-existing-column",  # the old column is only named: its state is unknown
        'await queryRunner.changeColumn("users", "plan", new TableColumn({ name: "plan", '
        'type: "text" }))',
        "",
    ),
    (
        "change-column-type",
        'await queryRunner.changeColumn("users", "plan", new TableColumn({ name: "plan", '
        'type: "text" }))',
        "",
    ),
    (
        "foreign-key-without-not-valid",
        'await queryRunner.query(`ALTER TABLE "orders" ADD CONSTRAINT "FK_1" FOREIGN KEY '
        '("user_id") REFERENCES "users"("id") NOT VALID`)',
        "",
    ),
    (
        "rename-column",  # a table created in the same migration
        'await queryRunner.createTable(new Table({ name: "tags", columns: [{ name: "label", '
        'type: "text" }] }))\nawait queryRunner.renameColumn("tags", "label", "name")',
        "",
    ),
    (
        "rename-table",
        'await queryRunner.createTable(new Table({ name: "tags", columns: [] }))\n'
        'await queryRunner.renameTable("tags", "labels")',
        "",
    ),
    (
        "drop-column",
        'await queryRunner.query(`CREATE TABLE "tags" ("id" bigint, "tmp" text)`)\n'
        'await queryRunner.dropColumn("tags", "tmp")',
        "",
    ),
    (
        "drop-table",
        'await queryRunner.query(`CREATE TABLE "tmp_tags" ("id" bigint)`)\n'
        'await queryRunner.dropTable("tmp_tags")',
        "",
    ),
    (
        "unbatched-data-update",
        'await queryRunner.query(`UPDATE "users" SET "plan" = \'a\' WHERE "id" IN '
        '(SELECT "id" FROM "users" WHERE "plan" IS NULL ORDER BY "id" LIMIT 1000)`)',
        "",
    ),
    (
        "mixed-schema-and-data-change",
        'await queryRunner.query(`UPDATE "users" SET "plan" = \'free\' WHERE "id" < 10`)',
        "",
    ),
]


@pytest.mark.parametrize(("rule", "up", "fields"), MUST_NOT_FIRE)
def test_rule_stays_quiet(rule: str, up: str, fields: str) -> None:
    text = typeorm(up, fields=fields)
    assert rule not in rules(text, EACH, select=[rule]), found(text, EACH)


def test_new_table_is_exempt() -> None:
    text = fixture("1715682300000-CreateOrders.ts")
    assert found(text, fixture_settings(), quiet=()) == []
    migration = parse(text)
    kinds = [type(op).__name__ for op in migration.operations if op.step is Step.UP]
    assert kinds == ["CreateTable", "CreateIndex", "AddConstraint"]
    table = migration.operations[0]
    assert [c.name for c in table.columns] == [  # type: ignore[attr-defined]
        "id",
        "user_id",
        "status",
        "total_cents",
        "created_at",
    ]


def test_api_column_types_and_defaults() -> None:
    text = typeorm(
        """
        await queryRunner.addColumn("users", new TableColumn({
            name: "token",
            type: "uuid",
            isGenerated: true,
            generationStrategy: "uuid",
        }))
        await queryRunner.addColumn("users", new TableColumn({
            name: "code", type: "varchar", length: "20", isNullable: true, default: "'x'",
        }))
        """
    )
    columns = [op.column for op in parse(text).operations if isinstance(op, AddColumn)]
    assert [(c.type, c.nullable) for c in columns] == [("uuid", False), ("varchar(20)", True)]
    assert columns[0].default is not None
    assert columns[0].default.volatile_function == "uuid_generate_v4"
    assert "add-column-volatile-default" in rules(text)


# --------------------------------------------------------------------------- reversibility


def test_missing_downgrade() -> None:
    text = typeorm('await queryRunner.query(`ALTER TABLE "users" ADD "bio" text`)', down=None)
    assert found(text, select=["missing-downgrade"]) == [("missing-downgrade", "up")]
    with_down = typeorm(
        'await queryRunner.query(`ALTER TABLE "users" ADD "bio" text`)',
        'await queryRunner.query(`ALTER TABLE "users" DROP COLUMN "bio"`)',
    )
    assert check(with_down, select=["missing-downgrade", "incomplete-downgrade"]) == []


def test_empty_downgrade() -> None:
    text = typeorm('await queryRunner.query(`ALTER TABLE "users" ADD "bio" text`)', down="")
    assert found(text, select=["empty-downgrade"]) == [("empty-downgrade", "down")]
    comments_only = typeorm('await queryRunner.dropTable("old")', down="// nothing to do")
    assert rules(comments_only, select=["empty-downgrade"]) == {"empty-downgrade"}
    throwing = typeorm('await queryRunner.dropTable("old")')
    assert rules(throwing, select=["empty-downgrade", "incomplete-downgrade"]) == set()


def test_incomplete_downgrade() -> None:
    text = fixture("1715682700000-BackfillUserPlan.ts")
    hits = [f for f in check(text, select=["incomplete-downgrade"])]
    assert [text[f.span.start : f.span.end] for f in hits] == ["down"]
    assert "referrer_id" in hits[0].message


# --------------------------------------------------------------------------- transactions


@pytest.mark.parametrize(
    ("mode", "declared", "up_in_transaction", "down_in_transaction"),
    [
        (None, None, True, True),  # default "all"
        ("all", None, True, True),
        ("each", None, True, True),
        ("each", "false", False, True),  # migration:revert ignores `transaction`
        ("none", None, False, False),
        ("none", "true", True, False),
    ],
)
def test_transaction_modes(
    mode: str | None, declared: str | None, up_in_transaction: bool, down_in_transaction: bool
) -> None:
    text = typeorm(
        'await queryRunner.query(`CREATE INDEX CONCURRENTLY "IDX_a" ON "users" ("a")`)',
        'await queryRunner.query(`DROP INDEX "IDX_a"`)',
        fields=f"transaction = {declared}" if declared else "",
    )
    settings = {"migrationsTransactionMode": mode} if mode else {}
    migration = parse(text, settings)
    up = {op.in_transaction for op in migration.operations if op.step is Step.UP}
    down = {op.in_transaction for op in migration.operations if op.step is Step.DOWN}
    assert (up, down) == ({up_in_transaction}, {down_in_transaction})
    assert migration.transactional is (mode != "none")
    fires = "concurrent-index-in-transaction" in rules(text, settings)
    assert fires is up_in_transaction


def test_transaction_mode_from_the_data_source(tmp_path: Path) -> None:
    source = tmp_path / "data-source.ts"
    source.write_text(
        'import { DataSource } from "typeorm"\n\nexport default new DataSource({\n'
        '    type: "postgres",\n    migrations: ["src/migrations/*.ts"],\n'
        '    migrationsTransactionMode: "none",\n})\n'
    )
    text = typeorm('await queryRunner.query(`CREATE INDEX CONCURRENTLY "i" ON "t" ("a")`)')
    migration = parse(text, {"data_source": str(source)})
    assert not any(op.in_transaction for op in migration.operations if op.step is Step.UP)
    ormconfig = tmp_path / "ormconfig.json"
    ormconfig.write_text('{"type": "postgres", "migrationsTransactionMode": "each"}')
    migration = parse(text, {"data_source": str(ormconfig)})
    assert all(op.in_transaction for op in migration.operations if op.step is Step.UP)


def test_fixture_data_source_says_each() -> None:
    migration = parse(fixture("1715682600000-AddOrdersCreatedAtIndex.ts"), fixture_settings())
    up = [op for op in migration.operations if op.step is Step.UP]
    assert up and not any(op.in_transaction for op in up)


def test_parse_migration_dispatches_to_typeorm() -> None:
    migration = parse_migration(PATH, typeorm("await queryRunner.dropTable('x')"), "typeorm", None)
    assert migration is not None and migration.tool == "typeorm"


# --------------------------------------------------------------------------- JavaScript forms

GENERATED_JS = """const { MigrationInterface, QueryRunner } = require("typeorm");

module.exports = class AddEmailToUsers1715682093123 {
    name = 'AddEmailToUsers1715682093123'

    async up(queryRunner) {
        await queryRunner.query(`ALTER TABLE "users" ADD "email" character varying NOT NULL`);
    }

    async down(queryRunner) {
        await queryRunner.query(`ALTER TABLE "users" DROP COLUMN "email"`);
    }
}
"""

AWAITER_JS = """"use strict";
var __awaiter = (this && this.__awaiter) || function (thisArg, _arguments, P, generator) {
    return new (P || (P = Promise))(function (resolve, reject) { resolve(); });
};
Object.defineProperty(exports, "__esModule", { value: true });
exports.AddIndex1715682093123 = void 0;
class AddIndex1715682093123 {
    constructor() {
        this.name = 'AddIndex1715682093123';
        this.transaction = false;
    }
    up(queryRunner) {
        return __awaiter(this, void 0, void 0, function* () {
            yield queryRunner.query(`CREATE INDEX CONCURRENTLY "IDX_a" ON "users" ("a")`);
        });
    }
    down(queryRunner) {
        return __awaiter(this, void 0, void 0, function* () {
        });
    }
}
exports.AddIndex1715682093123 = AddIndex1715682093123;
"""


def test_migration_generate_outputjs() -> None:
    migration = parse(GENERATED_JS, path=JS_PATH)
    assert migration.language == "javascript"
    assert ("add-not-null-column-without-default", '"email"') in found(GENERATED_JS, path=JS_PATH)


def test_tsc_output_with_constructor_fields_and_awaiter() -> None:
    migration = parse(AWAITER_JS, EACH, path=JS_PATH)
    up = [op for op in migration.operations if op.step is Step.UP]
    assert up and not any(op.in_transaction for op in up)
    assert migration.down is not None and migration.down.empty
    assert rules(AWAITER_JS, EACH, path=JS_PATH) == {"empty-downgrade"}


def test_compiled_fixture_is_quiet() -> None:
    name = "1715682800000-AddUserNickname.js"
    migration = parse(fixture(name), fixture_settings(), name)
    assert {type(op).__name__ for op in migration.operations} == {
        "ExecuteSQL",
        "AddColumn",
        "DropColumn",
    }
    assert check(fixture(name), fixture_settings(), name) == []


# --------------------------------------------------------------------------- bad input


def test_half_typed_code_gives_one_parse_error() -> None:
    text = typeorm("await queryRunner.query(`ALTER TABLE x`")
    findings = check(text, quiet=())
    assert [f.rule for f in findings] == ["migration-parse-error"]


@pytest.mark.parametrize("name", sorted(p.name for p in MIGRATIONS.iterdir()))
def test_truncated_fixtures_never_crash(name: str) -> None:
    text = fixture(name)
    for cut in range(0, len(text), max(1, len(text) // 60)):
        prefix = text[:cut]
        migration = parse(prefix, fixture_settings(), name)
        findings = analyse(migration, config(quiet=()))
        errors = [f for f in findings if f.rule == "migration-parse-error"]
        assert len(errors) <= 1
        if errors:
            assert [f.rule for f in findings] == ["migration-parse-error"]


def test_file_without_a_migration_class() -> None:
    assert check("export const x = 1\n", quiet=()) == []


def test_ignore_comment() -> None:
    text = typeorm(
        'await queryRunner.query(`CREATE INDEX "i" ON "users" ("a")`) '
        "// migration-lsp: ignore[non-concurrent-index]"
    )
    assert "non-concurrent-index" not in rules(text)
    assert "unused-ignore" not in rules(text)


# --------------------------------------------------------------------------- fixes


def _fix(text: str, rule: str, settings: dict[str, Any] | None = None, path: str = PATH) -> Fix:
    migration = parse(text, settings, path)
    finding = next(f for f in check(text, settings, path, select=[rule]) if f.rule == rule)
    fixes = fixes_for(finding, migration)
    assert fixes, f"no fix for {rule}"
    return fixes[0]


def _applied(
    text: str, rule: str, settings: dict[str, Any] | None = None, path: str = PATH
) -> tuple[str, Fix]:
    """The text with the preferred fix for `rule` applied; it parses, and `rule` is gone."""
    fix = _fix(text, rule, settings, path)
    assert fix.edits
    fixed = apply_edits(text, fix.edits)
    grammar = "typescript" if path.endswith(".ts") else "javascript"
    assert not TreeSource(fixed, grammar).root.has_error, fixed
    assert parse(fixed, settings, path).problems == []
    assert rule not in rules(fixed, settings, path=path, quiet=()), fixed
    return fixed, fix


def test_fix_missing_downgrade_with_api_inverses() -> None:
    text = fixture("1715682400000-AddUserPlan.ts")
    fixed, fix = _applied(text, "missing-downgrade", fixture_settings())
    assert fix.applicability is Applicability.UNSAFE
    down = fixed[fixed.index("public async down(queryRunner: QueryRunner): Promise<void> {") :]
    assert down.index('dropIndex("users", "IDX_users_plan")') < down.index(
        'dropColumn("users", "plan")'
    )
    assert 'await queryRunner.dropColumn("users", "plan")\n' in fixed  # no semicolons here


def test_fix_missing_downgrade_with_inverse_sql() -> None:
    text = fixture("1715682093123-AddEmailToUsers.ts")
    no_down = text[: text.index("\n    public async down")] + "\n\n}\n"
    fixed, _ = _applied(no_down, "missing-downgrade")
    assert 'await queryRunner.query(`DROP INDEX IF EXISTS "IDX_97672ac88f789774dd47f7c8be"`);' in (
        fixed
    )
    assert fixed.index("DROP INDEX") < fixed.index('DROP COLUMN "email"')
    assert "public async down(queryRunner: QueryRunner): Promise<void> {" in fixed


def test_fix_missing_downgrade_for_a_concurrent_index_drops_it_in_the_transaction() -> None:
    text = typeorm(
        'await queryRunner.query(`CREATE INDEX CONCURRENTLY "IDX_a" ON "users" ("a")`)',
        down=None,
        fields="transaction = false",
    )
    fixed, _ = _applied(text, "missing-downgrade", EACH)
    assert 'DROP INDEX IF EXISTS "IDX_a"' in fixed and "DROP INDEX CONCURRENTLY" not in fixed


def test_fix_missing_downgrade_stops_at_what_cannot_be_undone() -> None:
    text = typeorm(
        """
        await queryRunner.addColumn(
            "users",
            new TableColumn({ name: "bio", type: "text", isNullable: true }),
        )
        await queryRunner.dropColumn("users", "legacy")
        await queryRunner.query(`UPDATE "users" SET "bio" = ''`)
        """,
        down=None,
    )
    fixed, _ = _applied(text, "missing-downgrade")
    down = fixed[fixed.index("async down") :]
    assert down.count("throw new Error(") == 2
    assert "// TODO: reverse `UPDATE" in down
    assert down.index("TODO: reverse `UPDATE") < down.index('"legacy"') < down.index("dropColumn")


def test_fix_missing_downgrade_reads_constants_and_skips_queries() -> None:
    text = typeorm(
        """
        const rows = await queryRunner.query(`SELECT count(*) FROM "users"`)
        const sql = `ALTER TABLE "users" ADD "bio" text`
        await queryRunner.query(sql)
        if (rows.length > 0) {
            await queryRunner.query(`CREATE INDEX "IDX_bio" ON "users" ("bio")`)
        }
        """,
        down=None,
    )
    fixed, _ = _applied(text, "missing-downgrade")
    down = fixed[fixed.index("async down") :]
    assert 'await queryRunner.query(`ALTER TABLE "users" DROP COLUMN "bio"`)\n' in down
    assert "SELECT" not in down
    assert "// TODO: reverse `if (rows.length > 0) {` by hand" in down


def test_fix_missing_downgrade_copies_the_constants_it_uses() -> None:
    text = typeorm(
        """
        const column = new TableColumn({ name: "bio", type: "text", isNullable: true })
        await queryRunner.addColumn("users", column)
        """,
        down=None,
    )
    fixed, _ = _applied(text, "missing-downgrade")
    down = fixed[fixed.index("async down") :]
    assert down.index("const column = new TableColumn(") < down.index(
        'await queryRunner.dropColumn("users", column)'
    )


def test_fix_empty_downgrade_in_the_create_template() -> None:
    text = fixture("1715682450000-RestructureOrders.ts")
    fixed, _ = _applied(text, "empty-downgrade", fixture_settings())
    down = fixed[fixed.index("async down") :]
    assert 'renameColumn("orders", "amount_cents", "total_cents")' in down
    assert 'dropForeignKey("orders", "FK_orders_coupon_id")' in down
    assert "await queryRunner.changeColumn(\n" in down  # long calls: one argument per line


def test_fix_empty_downgrade_adds_the_parameter() -> None:
    text = typeorm('await queryRunner.query(`ALTER TABLE "users" ADD "bio" text`)', down=None)
    text = text.replace(
        "\n}\n",
        "\n    public async down(): Promise<void> {}\n}\n",
    )
    fixed, _ = _applied(text, "empty-downgrade")
    assert "public async down(queryRunner: QueryRunner): Promise<void> {" in fixed
    assert 'await queryRunner.query(`ALTER TABLE "users" DROP COLUMN "bio"`)' in fixed


def test_fix_missing_downgrade_in_generated_javascript() -> None:
    text = GENERATED_JS[: GENERATED_JS.index("\n    async down")] + "\n}\n"
    fixed, _ = _applied(text, "missing-downgrade", path=JS_PATH)
    assert "    async down(queryRunner) {" in fixed


def test_fix_incomplete_downgrade() -> None:
    text = fixture("1715682700000-BackfillUserPlan.ts")
    fixed, _ = _applied(text, "incomplete-downgrade", fixture_settings())
    down = fixed[fixed.index("async down") :]
    assert down.index('DROP COLUMN "referrer_id"') < down.index("DROP NOT NULL")


def test_fix_non_concurrent_index_in_sql() -> None:
    text = fixture("1715682093123-AddEmailToUsers.ts")
    fixed, fix = _applied(text, "non-concurrent-index", fixture_settings())
    assert 'CREATE INDEX CONCURRENTLY IF NOT EXISTS "IDX_97672ac88f789774dd47f7c8be"' in fixed
    assert "    name = 'AddEmailToUsers1715682093123'\n    transaction = false\n" in fixed
    assert "0.3.11" in fix.title and "transaction = false" in fix.title
    assert "concurrent-index-in-transaction" not in rules(fixed, fixture_settings(), quiet=())


def test_fix_non_concurrent_index_with_the_api() -> None:
    text = fixture("1715682400000-AddUserPlan.ts")
    fixed, fix = _applied(text, "non-concurrent-index", fixture_settings())
    assert 'columnNames: ["plan"], isConcurrent: true }' in fixed
    assert "0.3.20" in fix.title
    assert re.search(r"MigrationInterface \{\n    transaction = false\n\n", fixed)
    assert "concurrent-index-in-transaction" not in rules(fixed, fixture_settings(), quiet=())


def test_fix_non_concurrent_index_in_a_multi_line_table_index() -> None:
    text = typeorm(
        """
        await queryRunner.createIndex(
            "users",
            new TableIndex({
                name: "IDX_users_email",
                columnNames: ["email"],
            }),
        )
        """
    )
    fixed, _ = _applied(text, "non-concurrent-index", EACH)
    assert '                columnNames: ["email"],\n                isConcurrent: true,\n' in fixed


def test_fix_non_concurrent_index_drop_by_name() -> None:
    text = typeorm('await queryRunner.dropIndex("users", "IDX_users_email")')
    fixed, _ = _applied(text, "non-concurrent-index-drop", EACH)
    assert 'await queryRunner.query(`DROP INDEX CONCURRENTLY IF EXISTS "IDX_users_email"`)' in fixed


def test_fix_concurrent_index_in_transaction() -> None:
    text = fixture("1715682500000-AddOrdersStatusIndex.ts")
    fixed, fix = _applied(text, "concurrent-index-in-transaction", fixture_settings())
    assert (
        "implements MigrationInterface {\n    transaction = false\n\n    public async up" in fixed
    )
    assert fix.applicability is Applicability.SAFE  # mode "each", nothing else in up()


def test_fix_concurrent_index_in_transaction_is_unsafe_without_a_stated_mode() -> None:
    text = fixture("1715682500000-AddOrdersStatusIndex.ts")
    _, fix = _applied(text, "concurrent-index-in-transaction", {})
    assert fix.applicability is Applicability.UNSAFE


def test_fix_turns_transaction_true_into_false() -> None:
    text = typeorm(
        'await queryRunner.query(`CREATE INDEX CONCURRENTLY "i" ON "users" ("a")`)',
        fields="transaction = true",
    )
    fixed, _ = _applied(text, "concurrent-index-in-transaction", EACH)
    assert "transaction = false" in fixed and "transaction = true" not in fixed


def test_fix_in_tsc_output_sets_the_constructor_field() -> None:
    text = AWAITER_JS.replace("        this.transaction = false;\n", "")
    fixed, _ = _applied(text, "concurrent-index-in-transaction", EACH, JS_PATH)
    assert "this.name = 'AddIndex1715682093123';\n        this.transaction = false;" in fixed


def test_fix_not_null_column_gets_a_placeholder_default() -> None:
    generated = fixture("1715682093123-AddEmailToUsers.ts")
    fixed, fix = _applied(generated, "add-not-null-column-without-default", fixture_settings())
    assert "ADD \"email\" character varying DEFAULT '' NOT NULL`);" in fixed
    assert fix.applicability is Applicability.UNSAFE
    api = fixture("1715682400000-AddUserPlan.ts")
    fixed, _ = _applied(api, "add-not-null-column-without-default", fixture_settings())
    assert 'new TableColumn({ name: "plan", type: "varchar", length: "20", default: "\'\'" })' in (
        fixed
    )


@pytest.mark.parametrize(
    ("rule", "up", "expected"),
    [
        (
            "non-concurrent-index-drop",
            'await queryRunner.query(`DROP INDEX "IDX_users_email"`)',
            'DROP INDEX CONCURRENTLY IF EXISTS "IDX_users_email"',
        ),
        (
            "enum-add-value-in-transaction",
            "await queryRunner.query(`ALTER TYPE \"users_plan_enum\" ADD VALUE 'pro'`)",
            "ADD VALUE 'pro'",
        ),
    ],
)
def test_fix_runs_sql_outside_the_transaction(rule: str, up: str, expected: str) -> None:
    fixed, fix = _applied(typeorm(up), rule, EACH)
    assert expected in fixed and "    transaction = false\n" in fixed
    assert fix.applicability is Applicability.SAFE


def test_fix_title_says_what_mode_all_needs() -> None:
    text = fixture("1715682500000-AddOrdersStatusIndex.ts")
    fix = _fix(text, "concurrent-index-in-transaction", {"migrationsTransactionMode": "all"})
    assert 'set migrationsTransactionMode: "each" there' in fix.title
    assert fix.applicability is Applicability.UNSAFE


def test_several_statements_in_one_query_get_advice() -> None:
    text = typeorm(
        'await queryRunner.query(`CREATE INDEX "a" ON "users" ("a"); '
        'CREATE INDEX "b" ON "users" ("b")`)'
    )
    fix = _fix(text, "non-concurrent-index", EACH)
    assert fix.applicability is Applicability.DISPLAY and not fix.edits


def test_generic_sql_fixes_inside_the_template() -> None:
    text = typeorm(
        'await queryRunner.query(`UPDATE "users" SET "plan" = \'a\' WHERE "plan" IS NULL '
        "LIMIT 1000`)"
    )
    fixed, _ = _applied(text, "update-with-limit", EACH)
    assert "ctid = ANY(ARRAY(SELECT ctid FROM" in fixed
    robust = typeorm(
        'await queryRunner.query(`ALTER TABLE "users" ADD "bio" text`)\n'
        'await queryRunner.query(`CREATE INDEX CONCURRENTLY IF NOT EXISTS "i" ON "users" ("bio")`)',
        fields="transaction = false",
    )
    fixed, _ = _applied(robust, "prefer-robust-statements", EACH)
    assert 'ADD IF NOT EXISTS "bio"' in fixed


# --------------------------------------------------------------------------- snippets


def test_snippets_offered() -> None:
    typescript = snippets_for("typeorm", "postgresql", "file", "typescript")
    assert [s.prefix for s in typescript] == [
        "mig-file",
        "mig-file-index-concurrently",
        "mig-file-batch-update",
        "mig-file-set-not-null",
        "mig-file-foreign-key",
    ]
    javascript = snippets_for("typeorm", "postgresql", "file", "javascript")
    assert [s.prefix for s in javascript] == ["mig-file-js"]
    steps = {"mig-add-column", "mig-index-concurrently", "mig-foreign-key"}
    steps |= {"mig-validate-constraint", "mig-set-not-null", "mig-batch-update"}
    for language in ("typescript", "javascript"):
        offered = snippets_for("typeorm", "postgresql", "step", language)
        assert {s.prefix for s in offered} == steps
    mysql = snippets_for("typeorm", "mysql", "file", "typescript")
    assert [s.prefix for s in mysql] == ["mig-file"]
    assert [s.prefix for s in snippets_for("typeorm", "mysql", "step")] == ["mig-add-column"]


def _filled(snippet: Snippet, indent: str = "") -> str:
    from migration_lsp.snippets import expand

    return expand(render(snippet, indent))


def _file_skeletons() -> list[Any]:
    skeletons = snippets_for("typeorm", "postgresql", "file", "typescript")
    return [pytest.param(s, id=s.prefix) for s in skeletons]


def test_javascript_skeleton_is_what_migration_create_o_writes() -> None:
    (snippet,) = snippets_for("typeorm", "postgresql", "file", "javascript")
    add, drop = ('ADD "bio" text', 'DROP COLUMN "bio"')
    text = _filled(snippet)
    for sql in (add, drop):
        text = text.replace(
            "        \n", f'        await queryRunner.query(`ALTER TABLE "users" {sql}`)\n', 1
        )
    assert text.startswith("/**\n * @typedef {import('typeorm').MigrationInterface}")
    assert "module.exports = class AddNicknameToUsers1715682093123 {" in text
    assert not TreeSource(text, "javascript").root.has_error
    assert check(text, EACH, path=JS_PATH) == []


def _step_snippets() -> list[Any]:
    return [pytest.param(s, id=s.prefix) for s in snippets_for("typeorm", "postgresql", "step")]


@pytest.mark.parametrize("snippet", _file_skeletons())
def test_file_skeletons_parse_and_avoid_their_rules(snippet: Snippet) -> None:
    text = _filled(snippet) + "\n"
    name = "src/migrations/1715682093123-AddNicknameToUsers.ts"
    assert not TreeSource(text, "typescript").root.has_error, text
    assert "class AddNicknameToUsers1715682093123 implements MigrationInterface" in text
    migration = parse(text, EACH, name)
    assert migration.problems == []
    got = rules(text, EACH, quiet=())
    assert not got & set(snippet.avoids), got


JS_CLASS = """const { MigrationInterface, QueryRunner } = require("typeorm");

module.exports = class ChangeUsers1715682093123 {
    name = 'ChangeUsers1715682093123'
    transaction = false

    async up(queryRunner) {
        <UP>
    }

    async down(queryRunner) {
        throw new Error("This migration cannot be undone");
    }
}
"""


@pytest.mark.parametrize("snippet", _step_snippets())
@pytest.mark.parametrize("path", [PATH, JS_PATH])
def test_step_snippets_in_up_parse_and_avoid_their_rules(snippet: Snippet, path: str) -> None:
    up = _filled(snippet, "        ")
    if path == JS_PATH:
        text = JS_CLASS.replace("<UP>", up)
    else:
        text = typeorm("", fields="transaction = false").replace(
            "Promise<void> {\n\n", "Promise<void> {\n        " + up + "\n", 1
        )
    grammar = "typescript" if path == PATH else "javascript"
    assert not TreeSource(text, grammar).root.has_error, text
    assert parse(text, EACH, path).problems == []
    got = rules(text, EACH, path=path, quiet=())
    assert not got & set(snippet.avoids), (got, text)


CURSOR = "<|>"


def _context(marked: str, language: str = "typescript") -> str | None:
    offset = marked.index(CURSOR)
    text = marked.replace(CURSOR, "", 1)
    return completion_context(text, offset, "typeorm", language)


CLASS = """import { MigrationInterface, QueryRunner } from "typeorm";

export class X1715682093123 implements MigrationInterface {
    name = 'X1715682093123'
    <MEMBER>
    public async up(queryRunner: QueryRunner): Promise<void> {
        <UP>
    }

    public async down(queryRunner: QueryRunner): Promise<void> {
        <DOWN>
    }
}
"""


def _class(up: str = "", down: str = "", member: str = "") -> str:
    return CLASS.replace("<MEMBER>", member).replace("<UP>", up).replace("<DOWN>", down)


@pytest.mark.parametrize(
    ("marked", "expected"),
    [
        ("mig<|>", "file"),
        ("// a comment\nmig<|>", "file"),
        (_class(up="mig<|>"), "step"),
        (_class(down="mig<|>"), "step"),
        (_class(up="await queryRunner.dropTable('x')\n        mig<|>"), "step"),
        (_class(up="await queryRunner.dropTable('x');\n        <|>"), "step"),
        (_class(up="if (true) {\n            mig<|>\n        }"), "step"),
        (_class(up="await queryRunner.query(\n        mig<|>"), "step"),  # abandoned call above
        (_class(member="mig<|>"), None),  # class body
        (_class(up="await queryRunner.query(`\n            mig<|>`)"), None),  # template text
        (_class(up="// mig<|>"), None),
        (_class(up="await queryRunner.query(mig<|>)"), None),
        (_class(up="const x =\n        mig<|>"), None),  # continues an expression
        (_class(up="rows.forEach((row) => {\n            mig<|>\n        })"), None),
        ('import { QueryRunner } from "typeorm"\nmig<|>', None),
    ],
)
def test_completion_context(marked: str, expected: str | None) -> None:
    assert _context(marked) == expected


def test_completion_context_in_javascript() -> None:
    assert _context("mig<|>", "javascript") == "file"
    generator = "return __awaiter(this, void 0, void 0, function* () {\n"
    js = AWAITER_JS.replace(
        f"        {generator}        }});", f"        {generator}            <|>\n        }});"
    )
    assert _context(js, "javascript") == "step"
    generated = GENERATED_JS.replace(
        "        await queryRunner.query(`ALTER",
        "        <|>\n        await queryRunner.query(`ALTER",
        1,
    )
    assert _context(generated, "javascript") == "step"
    assert _context("x<|>", "python") is None


# --------------------------------------------------------------------------- the fixture copy


def test_fixture_files_are_written_like_the_generator() -> None:
    text = fixture("1715682093123-AddEmailToUsers.ts")
    assert text.startswith('import { MigrationInterface, QueryRunner } from "typeorm";\n\n')
    assert "export class AddEmailToUsers1715682093123 implements MigrationInterface {\n" in text
    assert "    name = 'AddEmailToUsers1715682093123'\n" in text
    for path in MIGRATIONS.iterdir():
        assert re.fullmatch(r"\d{13}-[A-Za-z]+\.(ts|js)", path.name), path.name
