"""Quick fixes for Laravel migrations: each one applies, leaves PHP that still parses, and makes
its finding go away."""

from __future__ import annotations

from pathlib import Path

import pytest

from migration_lsp.findings import Applicability, Finding, Fix
from migration_lsp.fixes import apply_edits, fixes_for
from migration_lsp.model import Migration
from migration_lsp.parse.treesitter import TreeSource
from rule_helpers import analyse, config
from test_laravel import MIGRATIONS, laravel, parse, table


def _finding(migration: Migration, rule: str) -> Finding:
    findings = analyse(migration, config())
    return next(f for f in findings if f.rule == rule)


def apply(text: str, rule: str) -> tuple[str, Fix, list[str]]:
    """Apply the preferred fix for `rule`; the fixed text, the fix, and the rules still found."""
    migration = parse(text)
    fixes = fixes_for(_finding(migration, rule), migration)
    assert fixes, f"no fix for {rule}"
    fix = fixes[0]
    assert fix.edits
    fixed = apply_edits(text, fix.edits)
    assert not TreeSource(fixed, "php").root.has_error, fixed
    after = [f.rule for f in analyse(parse(fixed), config())]
    assert "migration-parse-error" not in after
    return fixed, fix, after


# --------------------------------------------------------------------------- down()


def test_missing_down_is_generated_from_up() -> None:
    up = (
        "Schema::create('tags', function (Blueprint $table) {\n    $table->id();\n});\n"
        + table(
            "$table->string('nickname')->nullable();\n"
            "$table->index('email');\n"
            "$table->foreignId('team_id')->nullable()->constrained();\n"
            "$table->renameColumn('name', 'full_name');"
        )
        + "\nSchema::rename('customers', 'clients');"
    )
    fixed, fix, after = apply(laravel(up, down=None), "missing-downgrade")
    assert fix.applicability is Applicability.UNSAFE
    assert "missing-downgrade" not in after and "incomplete-downgrade" not in after
    down = fixed[fixed.index("public function down(): void") :]
    assert down.index("Schema::rename('clients', 'customers');") < down.index(
        "$table->renameColumn('full_name', 'name');"
    )
    for line in (
        "$table->dropConstrainedForeignId('team_id');",
        "$table->dropIndex('users_email_index');",
        "$table->dropColumn('nickname');",
        "Schema::dropIfExists('tags');",
    ):
        assert line in down, line
    assert "throw" not in down


def test_what_cannot_be_undone_becomes_a_throw() -> None:
    up = table("$table->dropColumn('legacy');") + "\nDB::table('users')->update(['a' => 1]);"
    fixed, _, after = apply(laravel(up, down=None), "missing-downgrade")
    assert "throw new \\RuntimeException(" in fixed
    assert (
        "// Cannot be undone automatically: restore the rows changed by this update; undo a"
        in fixed
    )
    assert not {"missing-downgrade", "empty-downgrade", "incomplete-downgrade"} & set(after)


def test_empty_down_is_filled() -> None:
    text = (MIGRATIONS / "2024_06_07_100000_rename_body_on_posts_table.php").read_text()
    fixed, _, after = apply(text, "empty-downgrade")
    assert "$table->renameColumn('content', 'body');" in fixed
    assert "//\n" not in fixed[fixed.index("function down") :]
    assert "empty-downgrade" not in after


def test_sql_index_is_dropped_with_sql() -> None:
    up = "DB::statement('CREATE INDEX CONCURRENTLY IF NOT EXISTS ix_users_email ON users (email)');"
    text = laravel(up, down="//", properties="public $withinTransaction = false;")
    fixed, _, after = apply(text, "empty-downgrade")
    assert "DB::statement('DROP INDEX CONCURRENTLY IF EXISTS ix_users_email');" in fixed
    assert "empty-downgrade" not in after


def test_incomplete_down_gets_the_missing_inverses_first() -> None:
    text = (MIGRATIONS / "2024_06_08_100000_add_counters_to_posts_table.php").read_text()
    fixed, _, after = apply(text, "incomplete-downgrade")
    down = fixed[fixed.index("function down") :]
    assert down.index("dropColumn('likes')") < down.index("dropColumn('views')")
    assert "incomplete-downgrade" not in after


def test_imports_are_added_when_down_needs_them() -> None:
    text = laravel("DB::statement('CREATE TABLE t (id int)');", down=None)
    text = text.replace("use Illuminate\\Database\\Schema\\Blueprint;\n", "")
    fixed, _, _ = apply(
        text.replace(
            "DB::statement('CREATE TABLE t (id int)');", table("$table->string('x')->nullable();")
        ),
        "missing-downgrade",
    )
    assert "use Illuminate\\Database\\Schema\\Blueprint;" in fixed


# --------------------------------------------------------------------------- concurrently


def test_index_moves_to_a_concurrent_statement() -> None:
    text = (MIGRATIONS / "2024_06_01_100000_add_email_index_to_users_table.php").read_text()
    fixed, fix, after = apply(text, "non-concurrent-index")
    assert fix.applicability is Applicability.SAFE
    assert (
        "DB::statement('CREATE INDEX CONCURRENTLY IF NOT EXISTS users_name_email_index "
        "ON users (name, email)');" in fixed
    )
    assert "public $withinTransaction = false;" in fixed
    assert "use Illuminate\\Support\\Facades\\DB;" in fixed
    assert "Schema::table('users'" in fixed[fixed.index("function down") :]
    assert not {"non-concurrent-index", "concurrent-index-in-transaction"} & set(after)


def test_index_leaves_a_closure_with_other_statements() -> None:
    text = laravel(table("$table->string('nickname')->nullable();\n$table->index('email');"))
    fixed, fix, after = apply(text, "non-concurrent-index")
    assert fix.applicability is Applicability.UNSAFE  # the column no longer rolls back with it
    up = fixed[: fixed.index("function down")]
    assert "$table->string('nickname')->nullable();" in up and "$table->index" not in up
    assert up.index("});") < up.index("CREATE INDEX CONCURRENTLY")
    assert "non-concurrent-index" not in after


def test_index_modifier_is_removed_from_the_column() -> None:
    text = laravel(table("$table->string('nickname')->nullable()->index();"))
    fixed, _, after = apply(text, "non-concurrent-index")
    assert "$table->string('nickname')->nullable();" in fixed
    assert "ON users (nickname)" in fixed
    assert "non-concurrent-index" not in after


def test_concurrently_is_inserted_into_raw_sql() -> None:
    text = laravel("DB::statement('CREATE INDEX ix_users_email ON users (email)');")
    fixed, _, after = apply(text, "non-concurrent-index")
    assert "CREATE INDEX CONCURRENTLY IF NOT EXISTS ix_users_email" in fixed
    assert "public $withinTransaction = false;" in fixed
    assert not {"non-concurrent-index", "concurrent-index-in-transaction"} & set(after)


def test_concurrent_index_in_transaction_sets_within_transaction() -> None:
    text = (MIGRATIONS / "2024_06_02_100000_add_title_index_to_posts_table.php").read_text()
    fixed, fix, after = apply(text, "concurrent-index-in-transaction")
    assert fix.applicability is Applicability.SAFE
    assert fixed.count("public $withinTransaction = false;") == 1
    assert "concurrent-index-in-transaction" not in after


def test_within_transaction_true_is_switched_off() -> None:
    up = "DB::statement('CREATE INDEX CONCURRENTLY IF NOT EXISTS ix ON users (email)');"
    text = laravel(up, properties="public $withinTransaction = true;")
    fixed, _, after = apply(text, "concurrent-index-in-transaction")
    assert "public $withinTransaction = false;" in fixed and "= true" not in fixed
    assert "concurrent-index-in-transaction" not in after


# --------------------------------------------------------------------------- constraints


def test_constrained_foreign_id_becomes_not_valid_then_validate() -> None:
    text = laravel(
        table(
            "$table->foreignId('team_id')->nullable()->constrained()->cascadeOnDelete();", "posts"
        )
    )
    fixed, fix, after = apply(text, "foreign-key-without-not-valid")
    assert fix.applicability is Applicability.UNSAFE
    assert "$table->foreignId('team_id')->nullable();" in fixed
    assert (
        "ALTER TABLE posts ADD CONSTRAINT posts_team_id_foreign FOREIGN KEY (team_id) "
        "REFERENCES teams (id) ON DELETE CASCADE NOT VALID" in fixed
    )
    assert "ALTER TABLE posts VALIDATE CONSTRAINT posts_team_id_foreign" in fixed
    assert "public $withinTransaction = false;" in fixed
    assert "foreign-key-without-not-valid" not in after


def test_explicit_foreign_is_replaced() -> None:
    text = laravel(
        table(
            "$table->foreign('team_id')->references('uuid')->on('teams')->onDelete('set null');",
            "posts",
        )
    )
    fixed, fix, after = apply(text, "foreign-key-without-not-valid")
    assert fix.applicability is Applicability.SAFE
    assert "REFERENCES teams (uuid) ON DELETE SET NULL NOT VALID" in fixed
    assert "Schema::table" not in fixed[: fixed.index("function down")]
    assert "foreign-key-without-not-valid" not in after


def test_unique_becomes_index_then_constraint() -> None:
    text = laravel(table("$table->unique('email');"))
    fixed, _, after = apply(text, "unique-constraint-without-index")
    assert (
        "CREATE UNIQUE INDEX CONCURRENTLY IF NOT EXISTS users_email_unique ON users (email)"
        in fixed
    )
    assert "ADD CONSTRAINT users_email_unique UNIQUE USING INDEX users_email_unique" in fixed
    assert "unique-constraint-without-index" not in after


@pytest.mark.parametrize("path", sorted(MIGRATIONS.glob("*.php")), ids=lambda p: p.name[:17])
def test_every_fix_on_the_fixture_app_applies_cleanly(path: Path) -> None:
    text = path.read_text()
    migration = parse(text, path=str(path))
    for finding in analyse(migration, config()):
        for fix in fixes_for(finding, migration):
            if not fix.edits:
                continue
            fixed = apply_edits(text, fix.edits)
            assert not TreeSource(fixed, "php").root.has_error
            after = [f.rule for f in analyse(parse(fixed, path=str(path)), config())]
            assert finding.rule not in after, (finding.rule, fixed)
