"""Quick fixes for Rails migrations: each one applies, leaves Ruby that still parses, and makes
its finding go away; new migration files follow Rails' naming and parse too."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from migration_lsp.findings import Applicability, Finding, Fix
from migration_lsp.fixes import apply_edits, fixes_for
from migration_lsp.model import Migration
from migration_lsp.parse.rails import parse_rails
from migration_lsp.parse.treesitter import TreeSource
from rule_helpers import analyse, config
from test_rails import IRREVERSIBLE, MIGRATIONS, PATH, parse, rails


def _finding(migration: Migration, rule: str, index: int = 0) -> Finding:
    findings = [f for f in analyse(migration, config()) if f.rule == rule]
    assert len(findings) > index, (rule, findings)
    return findings[index]


def _rules(text: str, path: str = PATH) -> list[str]:
    return [f.rule for f in analyse(parse(text, path), config())]


def apply(text: str, rule: str, *, path: str = PATH, index: int = 0) -> tuple[str, Fix, list[str]]:
    """Apply the preferred fix for the `index`-th finding of `rule`: the fixed text, the fix,
    and the rules still found; the result must parse."""
    migration = parse(text, path)
    fixes = fixes_for(_finding(migration, rule, index), migration)
    assert fixes, f"no fix for {rule}"
    fix = fixes[0]
    fixed = apply_edits(text, fix.edits)
    assert not TreeSource(fixed, "ruby").root.has_error, fixed
    after = _rules(fixed, path)
    assert "migration-parse-error" not in after
    for new in fix.files:
        assert not TreeSource(new.text, "ruby").root.has_error, new.text
    return fixed, fix, after


# --------------------------------------------------------------------------- concurrently


def test_add_index_concurrently_and_disable_the_transaction() -> None:
    text = rails("add_index :users, :email, unique: true")
    fixed, fix, after = apply(text, "non-concurrent-index")
    assert fixed == (
        "class ChangeUsers < ActiveRecord::Migration[7.1]\n"
        "  disable_ddl_transaction!\n\n"
        "  def change\n"
        "    add_index :users, :email, unique: true, algorithm: :concurrently\n"
        "  end\n"
        "end\n"
    )
    assert fix.applicability is Applicability.SAFE
    assert not {"non-concurrent-index", "concurrent-index-in-transaction"} & set(after)


def test_concurrently_with_other_steps_is_unsafe() -> None:
    text = rails("add_column :users, :nickname, :string\nadd_index :users, :nickname")
    _, fix, after = apply(text, "non-concurrent-index")
    assert fix.applicability is Applicability.UNSAFE  # add_column leaves the transaction too
    assert "non-concurrent-index" not in after


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        (
            "add_reference :orders, :coupon",
            "add_reference :orders, :coupon, index: { algorithm: :concurrently }",
        ),
        (
            "add_reference :orders, :coupon, index: true",
            "add_reference :orders, :coupon, index: { algorithm: :concurrently }",
        ),
        (
            "add_reference :orders, :coupon, index: { unique: true }",
            "add_reference :orders, :coupon, index: { unique: true, algorithm: :concurrently }",
        ),
        (
            "add_index(:users, :email)",
            "add_index(:users, :email, algorithm: :concurrently)",
        ),
        (
            "add_index :users, :email, algorithm: :inplace",
            "add_index :users, :email, algorithm: :concurrently",
        ),
        (
            "change_table :users do |t|\n  t.index :email\nend",
            "  t.index :email, algorithm: :concurrently",
        ),
    ],
)
def test_concurrently_in_each_spelling(body: str, expected: str) -> None:
    fixed, _, after = apply(rails(body), "non-concurrent-index")
    assert expected in fixed
    assert "disable_ddl_transaction!" in fixed
    assert not {"non-concurrent-index", "concurrent-index-in-transaction"} & set(after)


def test_remove_index_concurrently() -> None:
    text = rails(up="remove_index :users, :email", down="add_index :users, :email")
    fixed, _, after = apply(text, "non-concurrent-index-drop")
    assert "remove_index :users, :email, algorithm: :concurrently" in fixed
    assert "non-concurrent-index-drop" not in after


def test_concurrent_index_in_transaction_gets_disable_ddl_transaction() -> None:
    text = rails("add_index :users, :email, algorithm: :concurrently")
    fixed, fix, after = apply(text, "concurrent-index-in-transaction")
    assert fixed.count("disable_ddl_transaction!") == 1
    assert fixed.index("disable_ddl_transaction!") < fixed.index("def change")
    assert fix.applicability is Applicability.SAFE
    assert after == []


def test_concurrently_in_sql_of_execute() -> None:
    text = rails(up='execute "CREATE INDEX ix_users_email ON users (email)"', down=IRREVERSIBLE)
    fixed, _, after = apply(text, "non-concurrent-index")
    assert "CREATE INDEX CONCURRENTLY IF NOT EXISTS ix_users_email" in fixed
    assert "disable_ddl_transaction!" in fixed
    assert not {"non-concurrent-index", "concurrent-index-in-transaction"} & set(after)


def test_no_edit_inside_an_explicit_transaction_block() -> None:
    text = rails(
        "transaction do\n  add_index :users, :email, algorithm: :concurrently\nend", disable=True
    )
    migration = parse(text)
    assert fixes_for(_finding(migration, "concurrent-index-in-transaction"), migration) == []


# --------------------------------------------------------------------------- not valid


def test_foreign_key_validated_in_a_new_migration(tmp_path: Path) -> None:
    folder = tmp_path / "db" / "migrate"
    folder.mkdir(parents=True)
    (folder / "20240601100000_add_orders_user_foreign_key.rb").write_text("")
    (folder / "20240601100500_add_orders_total.rb").write_text("")
    path = str(folder / "20240601100000_add_orders_user_foreign_key.rb")
    text = rails("add_foreign_key :orders, :users", name="AddOrdersUserForeignKey")
    fixed, fix, after = apply(text, "foreign-key-without-not-valid", path=path)
    assert "add_foreign_key :orders, :users, validate: false" in fixed
    assert "foreign-key-without-not-valid" not in after
    (new,) = fix.files
    # after the newest sibling, as `rails generate migration` would name it
    assert new.path == "20240601100501_validate_orders_user_id_foreign_key.rb"
    assert new.text == (
        "class ValidateOrdersUserIdForeignKey < ActiveRecord::Migration[7.1]\n"
        "  def change\n"
        "    validate_foreign_key :orders, :users\n"
        "  end\n"
        "end\n"
    )
    created = parse_rails(str(folder / new.path), new.text, "postgresql", {})
    assert [f.rule for f in analyse(created, config())] == []


def test_foreign_key_validated_on_the_next_line_without_a_transaction() -> None:
    text = rails("add_foreign_key :orders, :users, column: :buyer_id", disable=True)
    fixed, fix, after = apply(text, "foreign-key-without-not-valid")
    assert (
        "    add_foreign_key :orders, :users, column: :buyer_id, validate: false\n"
        "    validate_foreign_key :orders, :users, column: :buyer_id\n"
    ) in fixed
    assert fix.files == [] and fix.applicability is Applicability.SAFE
    assert "foreign-key-without-not-valid" not in after


def test_foreign_key_of_a_reference() -> None:
    text = rails("add_reference :orders, :buyer, foreign_key: { to_table: :users }, index: false")
    fixed, fix, after = apply(text, "foreign-key-without-not-valid")
    assert "foreign_key: { to_table: :users, validate: false }" in fixed
    assert "validate_foreign_key :orders, :users, column: :buyer_id" in fix.files[0].text
    assert "foreign-key-without-not-valid" not in after
    plain = rails("add_reference :orders, :user, foreign_key: true, index: false")
    fixed, _, after = apply(plain, "foreign-key-without-not-valid")
    assert "add_reference :orders, :user, foreign_key: { validate: false }" in fixed
    assert "foreign-key-without-not-valid" not in after


def test_validation_in_the_same_transaction_moves_to_a_new_migration() -> None:
    text = rails(
        "add_foreign_key :orders, :users, validate: false\nvalidate_foreign_key :orders, :users"
    )
    fixed, fix, after = apply(text, "foreign-key-without-not-valid")
    assert "validate_foreign_key" not in fixed
    assert "    validate_foreign_key :orders, :users\n" in fix.files[0].text
    assert "foreign-key-without-not-valid" not in after


def test_check_constraint_validated_in_a_new_migration() -> None:
    text = rails('add_check_constraint :orders, "total >= 0", name: "orders_total_check"')
    fixed, fix, after = apply(text, "check-constraint-without-not-valid")
    assert 'name: "orders_total_check", validate: false' in fixed
    assert 'validate_check_constraint :orders, name: "orders_total_check"' in fix.files[0].text
    assert fix.files[0].path.endswith("_validate_orders_total_check.rb")
    assert "check-constraint-without-not-valid" not in after
    unnamed = rails('add_check_constraint :orders, "total >= 0"', disable=True)
    fixed, _, after = apply(unnamed, "check-constraint-without-not-valid")
    assert 'validate_check_constraint :orders, expression: "total >= 0"' in fixed
    assert "check-constraint-without-not-valid" not in after


# --------------------------------------------------------------------------- down


def test_missing_down_is_generated_from_up() -> None:
    text = rails(
        up="""
        create_table :tags do |t|
          t.string :name
        end
        add_column :users, :nickname, :string
        add_index :users, :nickname, name: "index_users_nick", algorithm: :concurrently
        rename_column :users, :name, :full_name
        change_column_null :users, :email, false
        remove_column :users, :fax, :string, limit: 20
        change_table :accounts do |t|
          t.references :owner
          t.rename :title, :label
        end
        """,
        disable=True,
    )
    fixed, fix, after = apply(text, "missing-downgrade")
    assert fix.applicability is Applicability.UNSAFE
    down = fixed[fixed.index("  def down") :]
    expected = [
        "    rename_column :accounts, :label, :title",
        "    remove_reference :accounts, :owner",
        "    add_column :users, :fax, :string, limit: 20",
        "    change_column_null :users, :email, true",
        "    rename_column :users, :full_name, :name",
        '    remove_index :users, :nickname, name: "index_users_nick", algorithm: :concurrently',
        "    remove_column :users, :nickname",
        "    drop_table :tags",
    ]
    assert down.splitlines()[1 : 1 + len(expected)] == expected
    assert "IrreversibleMigration" not in down
    assert "missing-downgrade" not in after


def test_generated_down_raises_for_what_it_cannot_invert() -> None:
    text = rails(
        up="""
        add_column :users, :age, :integer
        change_column :users, :zip, :text
        execute "UPDATE users SET age = 0 WHERE id = 1"
        """
    )
    fixed, _, after = apply(text, "missing-downgrade")
    down = fixed[fixed.index("  def down") :].splitlines()
    assert down[1].startswith("    # TODO: undo execute")
    assert (
        down[2]
        == "    # TODO: undo change_column :users, :zip, :text (the previous type is not recorded)"
    )
    assert down[3].startswith("    raise ActiveRecord::IrreversibleMigration")
    assert down[4] == "    remove_column :users, :age"
    assert "missing-downgrade" not in after


def test_self_up_gets_self_down() -> None:
    text = (
        "class AddAge < ActiveRecord::Migration[7.1]\n"
        "  def self.up\n    add_column :users, :age, :integer\n  end\nend\n"
    )
    fixed, _, after = apply(text, "missing-downgrade")
    assert "  def self.down\n    remove_column :users, :age\n  end\n" in fixed
    assert "missing-downgrade" not in after


@pytest.mark.parametrize("down", ["", "# TODO"])
def test_empty_down_is_filled(down: str) -> None:
    text = rails(up="add_column :users, :age, :integer", down=down)
    fixed, _, after = apply(text, "empty-downgrade")
    assert "    remove_column :users, :age\n  end\n" in fixed
    assert "empty-downgrade" not in after


def test_one_line_empty_down_is_filled() -> None:
    text = rails(up="add_column :users, :age, :integer").replace(
        "  end\nend", "  end\n\n  def down; end\nend"
    )
    fixed, _, after = apply(text, "empty-downgrade")
    assert "  def down\n    remove_column :users, :age\n  end\n" in fixed
    assert "empty-downgrade" not in after


# --------------------------------------------------------------------------- change → up/down


def test_irreversible_change_becomes_up_and_down() -> None:
    text = rails(
        """
        add_column :users, :status, :string
        reversible do |dir|
          dir.up { execute "UPDATE users SET status = 'active' WHERE id = 1" }
          dir.down { execute "UPDATE users SET status = NULL WHERE id = 1" }
        end
        remove_column :users, :legacy
        """
    )
    fixed, fix, after = apply(text, "irreversible-change")
    assert fix.applicability is Applicability.UNSAFE
    assert "  def up\n    add_column :users, :status, :string\n" in fixed
    down = fixed[fixed.index("  def down") :]
    assert down.splitlines()[1:10] == [
        "    # TODO: undo remove_column :users, :legacy (the column's type is not stated)",
        '    raise ActiveRecord::IrreversibleMigration, "this step cannot be reversed"',
        "    reversible do |dir|",
        "      dir.up { execute \"UPDATE users SET status = 'active' WHERE id = 1\" }",
        '      dir.down { execute "UPDATE users SET status = NULL WHERE id = 1" }',
        "    end",
        "    remove_column :users, :status",
        "  end",
        "end",
    ]
    assert "irreversible-change" not in after and "missing-downgrade" not in after


def test_convert_keeps_up_only_out_of_down() -> None:
    text = rails(
        """
        add_column :users, :plan, :string
        up_only { execute "UPDATE users SET plan = 'free' WHERE id = 1" }
        change_column :users, :zip, :text
        """
    )
    fixed, _, after = apply(text, "irreversible-change")
    down = fixed[fixed.index("  def down") :]
    assert "up_only" not in down and "remove_column :users, :plan" in down
    assert "irreversible-change" not in after


# --------------------------------------------------------------------------- the fixture app


def test_every_fixture_fix_applies(tmp_path: Path) -> None:
    """Every quick fix offered on the fixture app's findings applies, parses, and removes its
    finding (the one it was offered for)."""
    folder = tmp_path / "db" / "migrate"
    shutil.copytree(MIGRATIONS, folder)
    applied = 0
    for path in sorted(folder.glob("*.rb")):
        text = path.read_text()
        migration = parse(text, str(path))
        findings = analyse(migration, config())
        for finding in findings:
            for fix in fixes_for(finding, migration):
                fixed = apply_edits(text, fix.edits)
                assert not TreeSource(fixed, "ruby").root.has_error, (path.name, fix.title)
                again = analyse(parse(fixed, str(path)), config())
                before = [f for f in findings if f.rule == finding.rule]
                still = [f for f in again if f.rule == finding.rule]
                assert len(still) < len(before), (path.name, finding.rule, fixed)
                assert "migration-parse-error" not in {f.rule for f in again}
                applied += 1
    assert applied == 8
