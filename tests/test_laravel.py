"""Laravel migrations: what `migration-lsp check` and the editor report for them.

Files are written the way `php artisan make:migration` writes them (anonymous class, `up()` and
`down()` with `void` return types), parsed with the real parser and checked with the real
engine; ranges are asserted on the text the user sees underlined.
"""

from __future__ import annotations

import json
import textwrap
from pathlib import Path
from typing import Any

import pytest

from migration_lsp.cli import main
from migration_lsp.findings import Finding
from migration_lsp.model import CreateTable, ExecuteSQL, Migration
from migration_lsp.parse import parse_migration
from migration_lsp.parse.laravel import parse_laravel
from rule_helpers import analyse, config

FIXTURE = Path(__file__).parent / "fixtures" / "laravel"
MIGRATIONS = FIXTURE / "database" / "migrations"
PATH = "database/migrations/2024_06_01_100000_change_users_table.php"
IRREVERSIBLE = "throw new \\RuntimeException('This migration cannot be rolled back.');"

TEMPLATE = """<?php

use Illuminate\\Database\\Migrations\\Migration;
use Illuminate\\Database\\Schema\\Blueprint;
use Illuminate\\Support\\Facades\\DB;
use Illuminate\\Support\\Facades\\Schema;

return new class extends Migration
{{
{properties}    /**
     * Run the migrations.
     */
    public function up(): void
    {{
{up}
    }}
{down}}};
"""


def _block(code: str) -> str:
    return textwrap.indent(textwrap.dedent(code).strip("\n"), "        ")


def laravel(up: str, down: str | None = IRREVERSIBLE, *, properties: str = "") -> str:
    """A migration as `make:migration` writes it, with these `up()` / `down()` bodies
    (`down=None`: no `down()` at all)."""
    down_text = ""
    if down is not None:
        down_text = (
            "\n    /**\n     * Reverse the migrations.\n     */\n"
            f"    public function down(): void\n    {{\n{_block(down)}\n    }}\n"
        )
    props = textwrap.indent(textwrap.dedent(properties).strip("\n"), "    ") + "\n\n"
    return TEMPLATE.format(properties=props if properties else "", up=_block(up), down=down_text)


def parse(text: str, dialect: str | None = "postgresql", path: str = PATH) -> Migration:
    return parse_laravel(path, text, dialect, {"connection": "pgsql"})


def check(
    text: str, dialect: str | None = "postgresql", path: str = PATH, **options: Any
) -> list[Finding]:
    return analyse(parse(text, dialect, path), config(**options))


def found(text: str, **options: Any) -> list[tuple[str, str]]:
    """(rule id, underlined text) of every finding."""
    return [(f.rule, text[f.span.start : f.span.end]) for f in check(text, **options)]


def rules(text: str, **options: Any) -> set[str]:
    return {f.rule for f in check(text, **options)}


def table(body: str, name: str = "users") -> str:
    inner = textwrap.indent(textwrap.dedent(body).strip(), "    ")
    return f"Schema::table('{name}', function (Blueprint $table) {{\n{inner}\n}});"


# --------------------------------------------------------------------------- parser


def test_registered_for_the_laravel_tool() -> None:
    text = laravel("Schema::dropIfExists('legacy');")
    migration = parse_migration(PATH, text, "laravel", "postgresql")
    assert migration is not None and migration.tool == "laravel" and migration.language == "php"
    assert migration.supports_down and migration.transactional
    assert (
        migration.up is not None and text[migration.up.span.start : migration.up.span.end] == "up"
    )
    assert migration.down is not None and migration.down.raises


def test_generated_create_migration_reads_every_column() -> None:
    text = (MIGRATIONS / "2024_05_14_102133_create_users_table.php").read_text()
    migration = parse(text)
    tables = [op for op in migration.operations if isinstance(op, CreateTable)]
    assert [t.table for t in tables] == ["users", "password_reset_tokens", "sessions"]
    users = {c.name: c for c in tables[0].columns}
    assert list(users) == [
        "id", "name", "email", "email_verified_at", "password", "remember_token",
        "created_at", "updated_at",
    ]  # fmt: skip
    assert users["id"].primary_key and users["id"].type == "bigserial"
    assert users["name"].type == "varchar(255)" and not users["name"].nullable
    assert users["email"].unique
    assert users["email_verified_at"].nullable and users["email_verified_at"].type == "timestamp(0)"
    assert users["remember_token"].type == "varchar(100)"
    assert {c.name: c.primary_key for c in tables[1].columns}["email"]
    assert migration.down is not None and not migration.down.empty


def test_old_named_class_style() -> None:
    text = (MIGRATIONS / "2019_08_19_000000_create_failed_jobs_table.php").read_text()
    migration = parse(text)
    assert migration.up is not None and migration.down is not None
    create = migration.operations[0]
    assert isinstance(create, CreateTable) and create.table == "failed_jobs"
    failed_at = create.columns[-1]
    assert failed_at.default is not None and failed_at.default.text == "CURRENT_TIMESTAMP"


def test_transaction_model() -> None:
    up = "DB::statement('CREATE INDEX CONCURRENTLY ix ON users (email)');"
    assert parse(laravel(up)).transactional
    assert not parse(laravel(up), dialect="mysql").transactional  # no DDL transactions there
    off = parse(laravel(up, properties="public $withinTransaction = false;"))
    assert not off.transactional
    assert not any(op.in_transaction for op in off.operations)


def test_empty_down_and_a_down_that_throws() -> None:
    empty = parse(laravel("Schema::dropIfExists('x');", "//"))
    assert empty.down is not None and empty.down.empty and not empty.down.raises
    throws = parse(laravel("Schema::dropIfExists('x');"))
    assert throws.down is not None and throws.down.raises and not throws.down.empty


def test_heredoc_keeps_its_line_breaks() -> None:
    up = """
        DB::unprepared(<<<SQL
            -- the comment ends at the end of its line
            UPDATE users
            SET active = true
            SQL);
        """
    migration = parse(laravel(up))
    execute = next(op for op in migration.operations if isinstance(op, ExecuteSQL))
    assert execute.sql is not None and "\n" in execute.sql
    assert "UPDATE users" in execute.sql.splitlines()[1]


# --------------------------------------------------------------------------- locks


def test_non_concurrent_index_on_an_existing_table() -> None:
    text = laravel(table("$table->index('email');"))
    assert ("non-concurrent-index", "index") in found(text)


def test_index_modifier_on_an_added_column() -> None:
    text = laravel(table("$table->string('nickname')->nullable()->index();"))
    assert ("non-concurrent-index", "index") in found(text)


def test_indexes_on_a_new_table_are_exempt() -> None:
    up = """
        Schema::create('posts', function (Blueprint $table) {
            $table->id();
            $table->foreignId('user_id')->constrained();
            $table->string('slug')->unique();
            $table->string('title');
            $table->index(['user_id', 'title']);
            $table->foreign('user_id')->references('id')->on('users');
        });
        """
    findings = rules(laravel(up))
    assert not findings & {
        "non-concurrent-index",
        "foreign-key-without-not-valid",
        "unique-constraint-without-index",
        "add-not-null-column-without-default",
    }


def test_concurrent_index_inside_laravels_transaction() -> None:
    up = "DB::statement('CREATE INDEX CONCURRENTLY IF NOT EXISTS ix ON users (email)');"
    findings = check(laravel(up))
    finding = next(f for f in findings if f.rule == "concurrent-index-in-transaction")
    text = laravel(up)
    assert text[finding.span.start : finding.span.end] == "CONCURRENTLY"
    assert "$withinTransaction = false" in finding.message


def test_concurrent_index_outside_a_transaction_is_quiet() -> None:
    up = "DB::statement('CREATE INDEX CONCURRENTLY IF NOT EXISTS ix ON users (email)');"
    text = laravel(up, properties="public $withinTransaction = false;")
    assert not rules(text) & {"concurrent-index-in-transaction", "non-concurrent-index"}
    other = "DB::connection('analytics')->statement('CREATE INDEX CONCURRENTLY ix ON t (c)');"
    assert "concurrent-index-in-transaction" not in rules(laravel(other))


def test_add_not_null_column_without_default() -> None:
    text = laravel(table("$table->string('status', 20);", "posts"))
    assert ("add-not-null-column-without-default", "'status'") in found(text)
    for safe in ("->nullable()", "->default('draft')"):
        quiet = laravel(table(f"$table->string('status', 20){safe};", "posts"))
        assert "add-not-null-column-without-default" not in rules(quiet)


def test_set_not_null_via_change_known_from_down() -> None:
    text = laravel(
        table("$table->string('phone', 32)->change();"),
        table("$table->string('phone', 32)->nullable()->change();"),
    )
    assert ("set-not-null-on-existing-column", "'phone'") in found(text)
    explicit = laravel(table("$table->string('phone')->nullable(false)->change();"))
    assert ("set-not-null-on-existing-column", "nullable") in found(explicit)


def test_change_without_a_previous_definition_says_nothing() -> None:
    text = laravel(table("$table->string('phone', 32)->change();"))
    assert not rules(text) & {"set-not-null-on-existing-column", "change-column-type"}


def test_change_column_type() -> None:
    text = laravel(
        table("$table->bigInteger('votes')->change();"),
        table("$table->integer('votes')->change();"),
    )
    assert ("change-column-type", "bigInteger") in found(text)
    wider = laravel(
        table("$table->string('name', 255)->change();"),
        table("$table->string('name', 100)->change();"),
    )
    assert "change-column-type" not in rules(wider)  # varchar(100) → varchar(255): no rewrite


def test_previous_definition_from_earlier_migrations(tmp_path: Path) -> None:
    folder = tmp_path / "database" / "migrations"
    folder.mkdir(parents=True)
    (folder / "2024_01_01_000000_create_users_table.php").write_text(
        laravel(
            "Schema::create('users', function (Blueprint $table) {\n"
            "    $table->id();\n    $table->string('phone')->nullable();\n"
            "    $table->integer('votes');\n});"
        )
    )
    later = folder / "2024_02_01_000000_change_users_table.php"
    text = laravel(
        table("$table->string('phone')->change();\n$table->bigInteger('votes')->change();")
    )
    later.write_text(text)
    findings = [(f.rule, text[f.span.start : f.span.end]) for f in check(text, path=str(later))]
    assert ("set-not-null-on-existing-column", "'phone'") in findings
    assert ("change-column-type", "bigInteger") in findings
    assert ("change-column-type", "string") not in findings  # varchar(255) again


def test_foreign_keys_on_an_existing_table() -> None:
    constrained = laravel(
        table("$table->foreignId('team_id')->nullable()->constrained();", "posts")
    )
    assert ("foreign-key-without-not-valid", "'team_id'") in found(constrained)
    explicit = laravel(table("$table->foreign('team_id')->references('id')->on('teams');", "posts"))
    assert ("foreign-key-without-not-valid", "'team_id'") in found(explicit)


def test_foreign_key_added_not_valid_in_sql_is_quiet() -> None:
    up = """
        DB::statement(<<<'SQL'
            ALTER TABLE posts ADD CONSTRAINT posts_team_id_foreign
                FOREIGN KEY (team_id) REFERENCES teams (id) NOT VALID
            SQL);
        DB::statement('ALTER TABLE posts VALIDATE CONSTRAINT posts_team_id_foreign');
        """
    text = laravel(up, properties="public $withinTransaction = false;")
    assert not rules(text) & {"foreign-key-without-not-valid"}


def test_unique_constraint_without_index() -> None:
    text = laravel(table("$table->unique('email');"))
    assert ("unique-constraint-without-index", "'email'") in found(text)
    inline = laravel(table("$table->string('handle')->nullable()->unique();"))
    assert ("unique-constraint-without-index", "'handle'") in found(inline)


def test_add_column_volatile_default() -> None:
    text = laravel(table("$table->uuid('public_id')->default(DB::raw('gen_random_uuid()'));"))
    assert ("add-column-volatile-default", "default") in found(text)
    constant = laravel(table("$table->integer('votes')->default(0);"))
    assert "add-column-volatile-default" not in rules(constant)


# --------------------------------------------------------------------------- renames and drops


def test_renames() -> None:
    column = laravel(table("$table->renameColumn('name', 'full_name');"))
    assert ("rename-column", "'name'") in found(column)
    renamed = laravel("Schema::rename('customers', 'clients');")
    assert ("rename-table", "'customers'") in found(renamed)


def test_drops() -> None:
    columns = laravel(table("$table->dropColumn(['legacy_name', 'legacy_score']);"))
    drops = [f for f in found(columns) if f[0] == "drop-column"]
    assert drops == [("drop-column", "'legacy_name'"), ("drop-column", "'legacy_score'")]
    assert ("drop-table", "'audit_log'") in found(laravel("Schema::drop('audit_log');"))


def test_a_table_created_and_dropped_in_one_migration_is_not_a_loss() -> None:
    up = """
        Schema::create('scratch', function (Blueprint $table) {
            $table->id();
        });
        Schema::dropIfExists('scratch');
        """
    assert "drop-table" not in rules(laravel(up))


# --------------------------------------------------------------------------- reversibility


def test_missing_downgrade() -> None:
    text = laravel(table("$table->string('nickname')->nullable();"), down=None)
    assert ("missing-downgrade", "up") in found(text)


def test_empty_downgrade() -> None:
    text = laravel(table("$table->string('nickname')->nullable();"), down="//")
    assert ("empty-downgrade", "down") in found(text)


def test_incomplete_downgrade() -> None:
    up = table("$table->integer('views')->default(0);\n$table->integer('likes')->default(0);")
    text = laravel(up, table("$table->dropColumn('views');"))
    finding = next(f for f in check(text) if f.rule == "incomplete-downgrade")
    assert "likes" in finding.message
    complete = laravel(up, table("$table->dropColumn(['views', 'likes']);"))
    assert "incomplete-downgrade" not in rules(complete)


def test_index_names_follow_laravel_so_drop_index_undoes_index() -> None:
    up = table("$table->index(['name', 'email']);")
    down = table("$table->dropIndex(['name', 'email']);")
    assert "incomplete-downgrade" not in rules(laravel(up, down))
    named = table("$table->dropIndex('users_name_email_index');")
    assert "incomplete-downgrade" not in rules(laravel(up, named))
    wrong = table("$table->dropIndex('users_email_index');")
    assert "incomplete-downgrade" in rules(laravel(up, wrong))


def test_reversible_migration_is_quiet() -> None:
    text = (MIGRATIONS / "2024_05_20_091500_add_phone_to_users_table.php").read_text()
    assert rules(text) == set()


# --------------------------------------------------------------------------- SQL in strings


@pytest.mark.parametrize(
    "literal",
    [
        "'CREATE INDEX ix_users_email ON users (email)'",
        '"CREATE INDEX ix_users_email ON users (email)"',
        "<<<SQL\n    CREATE INDEX ix_users_email\n        ON users (email)\n    SQL",
        "<<<'SQL'\n    -- built once\n    CREATE INDEX ix_users_email ON users (email)\n    SQL",
    ],
    ids=["single", "double", "heredoc", "nowdoc"],
)
def test_sql_in_db_statement_is_reported_inside_the_string(literal: str) -> None:
    text = laravel(f"DB::statement({literal});")
    finding = next(f for f in check(text) if f.rule == "non-concurrent-index")
    assert text[finding.span.start : finding.span.end] == "CREATE INDEX"
    assert finding.span.start == text.index("CREATE INDEX")


def test_sql_string_formatting() -> None:
    text = laravel("DB::statement(\"UPDATE users SET plan = '{$plan}' WHERE id = 1\");")
    finding = next(f for f in check(text) if f.rule == "sql-string-formatting")
    assert text[finding.span.start : finding.span.end].startswith('"UPDATE users')
    concatenated = laravel("DB::statement('UPDATE users SET plan = ' . $plan . ' WHERE id = 1');")
    assert "sql-string-formatting" in rules(concatenated)
    plain = laravel("DB::statement('UPDATE users SET plan = 1 WHERE id = 1');")
    assert "sql-string-formatting" not in rules(plain)


# --------------------------------------------------------------------------- data


def test_mixed_schema_and_data_change_and_unbatched_update() -> None:
    up = table("$table->text('excerpt')->nullable();", "posts") + (
        "\nDB::table('posts')->whereNull('excerpt')->update(['excerpt' => 'x']);"
    )
    findings = found(laravel(up))
    assert any(rule == "mixed-schema-and-data-change" for rule, _ in findings)
    assert any(rule == "unbatched-data-update" for rule, _ in findings)


def test_bounded_and_batched_updates_are_quiet() -> None:
    bounded = laravel("DB::table('posts')->where('id', '<', 1000)->update(['flag' => true]);")
    assert "unbatched-data-update" not in rules(bounded)
    chunked = laravel(
        """
        DB::table('posts')->whereNull('flag')->chunkById(1000, function ($rows) {
            DB::table('posts')->whereIn('id', $rows->pluck('id'))->update(['flag' => true]);
        });
        """
    )
    assert not rules(chunked) & {"unbatched-data-update", "row-by-row-data-migration"}


def test_update_per_row_in_a_loop() -> None:
    text = laravel(
        """
        foreach (DB::table('posts')->get() as $post) {
            DB::table('posts')->where('id', $post->id)->update(['flag' => true]);
        }
        """
    )
    assert "row-by-row-data-migration" in rules(text, select=["row-by-row-data-migration"])


def test_data_only_change_on_a_new_table_is_not_mixed() -> None:
    up = (
        "Schema::create('settings', function (Blueprint $table) {\n    $table->id();\n"
        "    $table->string('key');\n});\nDB::table('settings')->insert(['key' => 'theme']);"
    )
    assert "mixed-schema-and-data-change" not in rules(laravel(up))


# --------------------------------------------------------------------------- ignore comments


def test_ignore_comment() -> None:
    text = laravel(table("$table->index('email'); // migration-lsp: ignore[non-concurrent-index]"))
    assert "non-concurrent-index" not in rules(text)


# --------------------------------------------------------------------------- bad input


def test_syntax_error_is_one_parse_error() -> None:
    text = laravel(table("$table->index('email'"))
    findings = check(text)
    assert [f.rule for f in findings] == ["migration-parse-error"]


@pytest.mark.parametrize("path", sorted(MIGRATIONS.glob("*.php")), ids=lambda p: p.name[:17])
def test_truncated_files_never_crash(path: Path) -> None:
    text = path.read_text()
    for end in range(0, len(text), 7):
        migration = parse(text[:end], path=str(path))
        findings = analyse(migration, config())
        if migration.problems:
            assert [f.rule for f in findings] == ["migration-parse-error"]


# --------------------------------------------------------------------------- the CLI


EXPECTED = {
    "2024_06_01_100000_add_email_index_to_users_table.php": {"non-concurrent-index"},
    "2024_06_02_100000_add_title_index_to_posts_table.php": {"concurrent-index-in-transaction"},
    "2024_06_03_100000_add_status_to_posts_table.php": {"add-not-null-column-without-default"},
    "2024_06_04_100000_make_phone_required_on_users_table.php": {"set-not-null-on-existing-column"},
    "2024_06_05_100000_add_team_to_posts_table.php": {"foreign-key-without-not-valid"},
    "2024_06_06_100000_backfill_post_excerpts.php": {
        "missing-downgrade",
        "mixed-schema-and-data-change",
        "unbatched-data-update",
    },
    "2024_06_07_100000_rename_body_on_posts_table.php": {"rename-column", "empty-downgrade"},
    "2024_06_08_100000_add_counters_to_posts_table.php": {"incomplete-downgrade"},
}
CLEAN = (
    "2024_05_14_102140_create_posts_table.php",
    "2024_05_20_091500_add_phone_to_users_table.php",
    "2024_06_09_100000_index_posts_published_at_concurrently.php",
)


def test_check_cli_on_the_fixture_app(capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["check", str(FIXTURE), "--format", "json"])
    out = capsys.readouterr().out
    assert code == 1
    by_file: dict[str, set[str]] = {}
    for item in json.loads(out):
        by_file.setdefault(Path(item["path"]).name, set()).add(item["rule"])
    quiet = {"missing-lock-timeout", "statements-after-access-exclusive", "prefer-timestamptz",
             "foreign-key-without-index"}  # fmt: skip
    for name, wanted in EXPECTED.items():
        assert by_file.get(name, set()) - quiet == wanted, name
    for name in CLEAN:
        assert not by_file.get(name, set()) - quiet, name


def test_check_cli_text_output(capsys: pytest.CaptureFixture[str]) -> None:
    main(["check", str(FIXTURE)])
    out = capsys.readouterr().out
    assert (
        "2024_06_01_100000_add_email_index_to_users_table.php:15:21: warning non-concurrent-index"
        in out
    )
    assert "not checked" not in out
