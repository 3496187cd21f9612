"""Rails migrations: what `migration-lsp check` and the editor report for them.

Files are written the way `bin/rails generate migration` writes them (`class ... <
ActiveRecord::Migration[7.1]` with `def change`), or by hand with `up`/`down`, parsed with the
real parser and checked with the real engine; ranges are asserted on the text the user sees
underlined.
"""

from __future__ import annotations

import json
import textwrap
from pathlib import Path
from typing import Any

import pytest

from migration_lsp.cli import main
from migration_lsp.findings import Finding
from migration_lsp.model import (
    AddColumn,
    AddConstraint,
    CreateIndex,
    CreateTable,
    DataChange,
    DropColumn,
    ExecuteSQL,
    Migration,
    ValidateConstraint,
)
from migration_lsp.parse import parse_migration
from migration_lsp.parse.rails import parse_rails, read_rails
from migration_lsp.parse.rails_types import (
    check_constraint_name,
    foreign_key_name,
    pluralize,
    singularize,
    sql_type,
    table_of_model,
)
from rule_helpers import analyse, config

FIXTURE = Path(__file__).parent / "fixtures" / "rails"
MIGRATIONS = FIXTURE / "db" / "migrate"
PATH = "db/migrate/20240601100000_change_users.rb"


def _block(code: str, indent: str = "    ") -> str:
    return textwrap.indent(textwrap.dedent(code).strip("\n"), indent)


def rails(
    change: str | None = None,
    *,
    up: str | None = None,
    down: str | None = None,
    disable: bool = False,
    name: str = "ChangeUsers",
) -> str:
    """A migration class as the generator writes it, with a `change` body, or `up` (and
    `down` when given) bodies; `disable` adds `disable_ddl_transaction!`."""
    parts: list[str] = []
    if disable:
        parts.append("  disable_ddl_transaction!\n")
    if change is not None:
        parts.append(f"  def change\n{_block(change)}\n  end\n")
    if up is not None:
        parts.append(f"  def up\n{_block(up)}\n  end\n")
    if down is not None:
        parts.append(f"  def down\n{_block(down) if down.strip() else ''}\n  end\n")
    body = "\n".join(parts)
    return f"class {name} < ActiveRecord::Migration[7.1]\n{body}end\n"


def parse(text: str, path: str = PATH, dialect: str | None = "postgresql") -> Migration:
    return parse_rails(path, text, dialect, {"adapter": "postgresql"})


def check(text: str, **options: Any) -> list[Finding]:
    return analyse(parse(text), config(**options))


def found(text: str, **options: Any) -> list[tuple[str, str]]:
    """(rule id, underlined text) of every finding."""
    return [(f.rule, text[f.span.start : f.span.end]) for f in check(text, **options)]


def rules(text: str, **options: Any) -> set[str]:
    return {f.rule for f in check(text, **options)}


IRREVERSIBLE = "raise ActiveRecord::IrreversibleMigration"


# --------------------------------------------------------------------------- parsing


def test_generated_migration_becomes_operations_with_spans() -> None:
    text = rails(
        """
        create_table :posts do |t|
          t.string :title, null: false
          t.text :body
          t.references :user, null: false, foreign_key: true

          t.timestamps
        end
        add_index :posts, :title, unique: true, name: "index_posts_on_title"
        """
    )
    migration = parse(text)
    assert migration.problems == []
    assert migration.tool == "rails" and migration.language == "ruby"
    assert migration.transactional and not migration.supports_down
    create, index, named = migration.operations
    assert isinstance(create, CreateTable) and create.table == "posts"
    assert [(c.name, c.type, c.nullable) for c in create.columns] == [
        ("id", "bigint", False),
        ("title", "varchar", False),
        ("body", "text", True),
        ("user_id", "bigint", False),
        ("created_at", "timestamp(6)", False),
        ("updated_at", "timestamp(6)", False),
    ]
    assert create.columns[0].primary_key and create.columns[3].references == "users"
    assert isinstance(index, CreateIndex) and index.columns == ["user_id"]
    assert isinstance(named, CreateIndex) and named.unique and named.name == "index_posts_on_title"
    assert text[named.spans["keyword"].start : named.spans["keyword"].end] == "add_index"
    assert text[named.spans["table"].start : named.spans["table"].end] == ":posts"
    assert text[named.spans["name"].start : named.spans["name"].end] == '"index_posts_on_title"'
    assert all(op.in_transaction for op in migration.operations)
    (changeset,) = migration.changesets
    # the index of `t.references` goes with the table: dropping the table undoes it
    assert changeset.label == "change" and changeset.operations == [create, named]


@pytest.mark.parametrize(
    ("rails_type", "options", "expected"),
    [
        ("string", {}, "varchar"),
        ("string", {"limit": 40}, "varchar(40)"),
        ("text", {}, "text"),
        ("integer", {}, "integer"),
        ("integer", {"limit": 8}, "bigint"),
        ("bigint", {}, "bigint"),
        ("datetime", {}, "timestamp(6)"),
        ("datetime", {"precision": None}, "timestamp"),
        ("timestamptz", {}, "timestamptz(6)"),
        ("decimal", {"precision": 10, "scale": 2}, "decimal(10,2)"),
        ("boolean", {}, "boolean"),
        ("json", {}, "json"),
        ("jsonb", {}, "jsonb"),
        ("uuid", {}, "uuid"),
        ("binary", {}, "bytea"),
        ("string", {"array": True}, "varchar[]"),
    ],
)
def test_rails_types_become_postgresql_types(
    rails_type: str, options: dict[str, Any], expected: str
) -> None:
    assert sql_type(rails_type, options, "postgresql") == expected


def test_names_rails_derives_itself() -> None:
    assert pluralize("user") == "users" and pluralize("category") == "categories"
    assert pluralize("person") == "people" and pluralize("address") == "addresses"
    assert singularize("users") == "user" and singularize("line_items") == "line_item"
    assert table_of_model("LineItem") == "line_items"
    # OpenSSL::Digest::SHA256.hexdigest("orders_user_id_fk").first(10), as Active Record does
    assert foreign_key_name("orders", ["user_id"]) == "fk_rails_f868b47f6a"
    assert check_constraint_name("orders", "total >= 0").startswith("chk_rails_")


def test_up_down_style_and_self_methods() -> None:
    text = (
        "class AddAge < ActiveRecord::Migration[7.1]\n"
        "  def self.up\n    add_column :users, :age, :integer\n  end\n\n"
        "  def self.down\n    remove_column :users, :age\n  end\nend\n"
    )
    migration = parse(text)
    assert migration.supports_down and migration.changesets == []
    assert (
        migration.up is not None and text[migration.up.span.start : migration.up.span.end] == "up"
    )
    assert migration.down is not None and not migration.down.empty
    assert [type(op).__name__ for op in migration.operations] == ["AddColumn", "DropColumn"]
    assert [op.step.value for op in migration.operations] == ["up", "down"]


def test_disable_ddl_transaction_takes_every_operation_out_of_the_transaction() -> None:
    text = rails(
        """
        add_index :users, :email, algorithm: :concurrently
        execute "UPDATE users SET active = true WHERE id = 1"
        """,
        disable=True,
    )
    migration = parse(text)
    assert not migration.transactional
    assert not any(op.in_transaction for op in migration.operations)


def test_transaction_block_inside_a_non_transactional_migration() -> None:
    text = rails(
        """
        transaction do
          add_index :users, :email, algorithm: :concurrently
        end
        """,
        disable=True,
    )
    assert found(text) == [("concurrent-index-in-transaction", "algorithm: :concurrently")]


def test_reversible_and_up_only_are_left_out_of_the_changeset() -> None:
    text = rails(
        """
        add_column :users, :status, :string
        reversible do |dir|
          dir.up { execute "UPDATE users SET status = 'active'" }
          dir.down { execute "UPDATE users SET status = NULL" }
        end
        up_only { execute "UPDATE users SET status = 'new' WHERE id = 1" }
        """
    )
    migration = parse(text)
    (changeset,) = migration.changesets
    assert [type(op) for op in changeset.operations] == [AddColumn]
    steps = [(type(op).__name__, op.step.value) for op in migration.operations]
    assert ("DataChange", "down") in steps
    assert steps.count(("ExecuteSQL", "up")) == 2


def test_model_data_changes() -> None:
    text = rails(
        up="""
        Account.where(plan: nil).update_all(plan: "free")
        Legacy.where(id: 7).delete_all
        Order.unscoped.in_batches(of: 500) do |batch|
          batch.update_all(archived: false)
        end
        """,
        down=IRREVERSIBLE,
    )
    model = '  class Legacy < ActiveRecord::Base\n    self.table_name = "old_things"\n  end\n\n'
    text = text.replace("  def up", model + "  def up")
    changes = [op for op in parse(text).operations if isinstance(op, DataChange)]
    assert [(c.kind, c.table, c.has_where, c.unbounded) for c in changes] == [
        ("update", "accounts", True, True),
        ("delete", "old_things", True, False),
        ("update", "orders", False, False),  # every row, but one batch at a time
    ]


def test_heredoc_sql_is_parsed_with_positions_in_the_document() -> None:
    text = rails(
        up="""
        execute <<~SQL
          CREATE INDEX ix_users_email ON users (email);
        SQL
        """,
        down=IRREVERSIBLE,
    )
    migration = parse(text)
    execute, index = migration.operations
    assert isinstance(execute, ExecuteSQL) and isinstance(index, CreateIndex)
    assert execute.sql is not None and "CREATE INDEX" in execute.sql
    assert text[execute.span.start : execute.span.end].endswith("SQL")  # the body belongs to it
    assert text[index.span.start : index.span.end].startswith("CREATE INDEX ix_users_email")


def test_safety_assured_operations_are_not_judged_but_noted() -> None:
    text = rails(
        """
        safety_assured { remove_column :users, :fax, :string }
        safety_assured do
          execute "ALTER TABLE users DROP COLUMN pager"
        end
        """
    )
    migration = parse(text)
    assert migration.operations == []
    assert migration.notes and "safety_assured" in migration.notes[0]
    # an assurance about locks says nothing about rollback: `execute` still cannot be reversed
    assert found(text) == [("irreversible-change", "execute")]


# --------------------------------------------------------------------------- locks


def test_non_concurrent_index() -> None:
    assert found(rails("add_index :users, :email")) == [("non-concurrent-index", "add_index")]
    change_table = rails("change_table :users do |t|\n  t.index :email\nend")
    assert found(change_table) == [("non-concurrent-index", "t.index")]
    reference = rails("add_reference :orders, :coupon, index: true")
    assert found(reference) == [("non-concurrent-index", "add_reference")]


def test_concurrent_index_is_quiet() -> None:
    text = rails("add_index :users, :email, algorithm: :concurrently", disable=True)
    assert found(text) == []
    reference = rails("add_reference :orders, :coupon, index: { algorithm: :concurrently }")
    assert "non-concurrent-index" not in rules(reference)


def test_concurrent_index_in_transaction() -> None:
    text = rails("add_index :users, :email, algorithm: :concurrently")
    assert found(text) == [("concurrent-index-in-transaction", "algorithm: :concurrently")]
    drop = rails(up="remove_index :users, :email, algorithm: :concurrently", down=IRREVERSIBLE)
    assert ("concurrent-index-in-transaction", "algorithm: :concurrently") in found(drop)
    sql = rails(up='execute "CREATE INDEX CONCURRENTLY ix ON users (email)"', down=IRREVERSIBLE)
    assert found(sql) == [("concurrent-index-in-transaction", "CONCURRENTLY")]
    assert found(sql.replace("  def up", "  disable_ddl_transaction!\n\n  def up")) == []


def test_new_table_exemption() -> None:
    text = rails(
        """
        create_table :invoices do |t|
          t.references :account, foreign_key: true
          t.index :created_at
        end
        add_index :invoices, :number
        add_column :invoices, :total, :integer, null: false
        add_foreign_key :invoices, :users
        add_check_constraint :invoices, "total >= 0"
        change_column_null :invoices, :number, false
        """
    )
    assert found(text) == []


def test_add_not_null_column_without_default() -> None:
    text = rails("add_column :users, :age, :integer, null: false")
    assert found(text) == [("add-not-null-column-without-default", ":age")]
    timestamps = rails("add_timestamps :users")  # NOT NULL by default since Rails 5
    assert ("add-not-null-column-without-default", "add_timestamps") in found(timestamps)
    reference = rails("add_reference :orders, :user, null: false, index: false")
    assert found(reference) == [("add-not-null-column-without-default", ":user")]


def test_not_null_column_with_default_or_nullable_is_quiet() -> None:
    for body in (
        "add_column :users, :admin, :boolean, null: false, default: false",
        "add_column :users, :nickname, :string",
        "add_timestamps :users, null: true",
        'change_table :users do |t|\n  t.string :locale, null: false, default: "en"\nend',
    ):
        assert "add-not-null-column-without-default" not in rules(rails(body)), body


def test_set_not_null_on_existing_column() -> None:
    text = rails("change_column_null :users, :email, false")
    assert found(text) == [("set-not-null-on-existing-column", "false")]
    dropped = rails("change_column_null :users, :email, true")
    assert found(dropped) == [("drop-not-null", "true")]
    safe = rails(
        'validate_check_constraint :users, name: "users_email_null"\n'
        "change_column_null :users, :email, false"
    )
    assert "set-not-null-on-existing-column" not in rules(safe)


def test_change_column_null_with_a_default_backfills_every_null_row() -> None:
    text = rails('change_column_null :users, :locale, false, "en"')
    assert ("unbatched-data-update", 'change_column_null :users, :locale, false, "en"') in found(
        text
    )


def test_change_column_type() -> None:
    text = rails(up="change_column :users, :age, :bigint", down=IRREVERSIBLE)
    assert found(text) == [("change-column-type", ":bigint")]
    assert "change-column-type" not in rules(
        rails("change_column_default :users, :age, from: nil, to: 0")
    )


def test_foreign_key_without_not_valid() -> None:
    text = rails("add_foreign_key :orders, :users")
    assert found(text) == [("foreign-key-without-not-valid", "add_foreign_key :orders, :users")]
    named = rails('add_foreign_key :orders, :users, column: :buyer_id, name: "fk_orders_buyer"')
    assert found(named) == [("foreign-key-without-not-valid", '"fk_orders_buyer"')]
    reference = rails("add_reference :orders, :user, foreign_key: true, index: false")
    assert found(reference) == [("foreign-key-without-not-valid", ":user")]


def test_foreign_key_not_valid_then_validated_later_is_quiet() -> None:
    assert found(rails("add_foreign_key :orders, :users, validate: false")) == []
    later = rails("validate_foreign_key :orders, :users", name="ValidateOrdersUsersForeignKey")
    assert found(later) == []
    reference = rails(
        "add_reference :orders, :user, foreign_key: { validate: false }, index: false"
    )
    assert found(reference) == []


def test_validating_in_the_same_transaction() -> None:
    text = rails(
        "add_foreign_key :orders, :users, validate: false\nvalidate_foreign_key :orders, :users"
    )
    assert found(text) == [("foreign-key-without-not-valid", ":users")]
    migration = parse(text)
    added, validated = migration.operations
    assert isinstance(added, AddConstraint) and isinstance(validated, ValidateConstraint)
    assert added.name == validated.name == "fk_rails_f868b47f6a"
    outside = text.replace("  def change", "  disable_ddl_transaction!\n\n  def change")
    assert found(outside) == []


def test_check_constraint_without_not_valid() -> None:
    text = rails('add_check_constraint :orders, "total >= 0", name: "orders_total_check"')
    assert found(text) == [("check-constraint-without-not-valid", '"orders_total_check"')]
    quiet = rails('add_check_constraint :orders, "total >= 0", validate: false')
    assert found(quiet) == []
    same_transaction = rails(
        'add_check_constraint :orders, "total >= 0", validate: false\n'
        'validate_check_constraint :orders, expression: "total >= 0"'
    )
    assert [r for r, _ in found(same_transaction)] == ["check-constraint-without-not-valid"]


def test_renames() -> None:
    assert found(rails("rename_column :users, :name, :full_name")) == [("rename-column", ":name")]
    assert found(rails("rename_table :customers, :clients")) == [("rename-table", ":customers")]
    new = rails(
        "create_table :drafts do |t|\n  t.string :titel\nend\nrename_column :drafts, :titel, :title"
    )
    assert found(new) == []


def test_drops() -> None:
    assert found(rails("remove_column :users, :fax, :string")) == [("drop-column", ":fax")]
    assert found(rails("drop_table :sessions do |t|\n  t.string :token\nend")) == [
        ("drop-table", ":sessions")
    ]
    in_table = rails("change_table :users do |t|\n  t.remove :fax, type: :string\nend")
    assert found(in_table) == [("drop-column", ":fax")]


def test_add_column_volatile_default() -> None:
    text = rails('add_column :users, :token, :uuid, default: -> { "gen_random_uuid()" }')
    assert found(text) == [("add-column-volatile-default", 'default: -> { "gen_random_uuid()" }')]
    stable = rails('add_column :users, :seen_at, :datetime, default: -> { "now()" }')
    assert "add-column-volatile-default" not in rules(stable)
    constant = rails('add_column :users, :plan, :string, default: "free"')
    assert "add-column-volatile-default" not in rules(constant)


def test_enum_value_in_transaction() -> None:
    text = rails(up='add_enum_value :mood, "ecstatic"', down=IRREVERSIBLE)
    assert found(text) == [("enum-add-value-in-transaction", 'add_enum_value :mood, "ecstatic"')]


# --------------------------------------------------------------------------- reversibility


def test_missing_downgrade() -> None:
    text = rails(up="add_column :users, :age, :integer")
    assert found(text) == [("missing-downgrade", "up")]
    assert "missing-downgrade" not in rules(rails("add_column :users, :age, :integer"))
    with_down = rails(up="add_column :users, :age, :integer", down="remove_column :users, :age")
    assert found(with_down) == []


def test_empty_downgrade() -> None:
    text = rails(up="add_column :users, :age, :integer", down="")
    assert found(text) == [("empty-downgrade", "down")]
    comments = rails(up="add_column :users, :age, :integer", down="# nothing to do")
    assert found(comments) == [("empty-downgrade", "down")]
    assert found(rails(up="add_column :users, :age, :integer", down=IRREVERSIBLE)) == []


@pytest.mark.parametrize(
    ("body", "underlined"),
    [
        ("remove_column :users, :fax", "remove_column"),
        ("execute \"UPDATE users SET plan = 'free' WHERE id = 1\"", "execute"),
        ("change_column :users, :age, :bigint", "change_column"),
        ("drop_table :sessions", "drop_table"),
        ("remove_index :users, name: :index_users_on_email", "remove_index"),
        ('change_column_default :users, :plan, "free"', "change_column_default"),
        ("User.where(id: 1).update_all(admin: true)", "update_all"),
        ("remove_foreign_key :orders, column: :user_id", "remove_foreign_key"),
        ("change_table :users do |t|\n  t.remove :fax\nend", "t.remove"),
    ],
)
def test_irreversible_change(body: str, underlined: str) -> None:
    text = rails(body)
    assert ("irreversible-change", underlined) in found(text)
    (finding,) = [f for f in check(text) if f.rule == "irreversible-change"]
    assert "ActiveRecord::IrreversibleMigration" in finding.message


@pytest.mark.parametrize(
    "body",
    [
        "remove_column :users, :fax, :string",
        "drop_table :sessions do |t|\n  t.string :token\nend",
        "remove_index :users, :email",
        "change_column_null :users, :email, true",
        'change_column_default :users, :plan, from: nil, to: "free"',
        "remove_foreign_key :orders, :users",
        "rename_column :users, :name, :full_name",
        "add_reference :orders, :user, index: false",
        'reversible do |dir|\n  dir.up { execute "UPDATE users SET a = 1 WHERE id = 1" }\nend',
        'up_only { execute "UPDATE users SET a = 1 WHERE id = 1" }',
        "change_table :users do |t|\n  t.remove :fax, type: :string\nend",
    ],
)
def test_reversible_change_is_quiet(body: str) -> None:
    assert "irreversible-change" not in rules(rails(body)), body


def test_up_down_style_is_not_judged_by_irreversible_change() -> None:
    text = rails(up="remove_column :users, :fax", down=IRREVERSIBLE)
    assert "irreversible-change" not in rules(text)


# --------------------------------------------------------------------------- SQL and data


def test_sql_inside_execute_is_reported_on_the_exact_characters() -> None:
    text = rails(
        up="""
        execute "CREATE INDEX ix_users_email ON users (email)"
        execute <<~SQL
          ALTER TABLE users
            ADD COLUMN age integer NOT NULL;
        SQL
        """,
        down=IRREVERSIBLE,
    )
    findings = check(text)
    pairs = [(f.rule, text[f.span.start : f.span.end]) for f in findings]
    assert ("non-concurrent-index", "CREATE INDEX") in pairs
    assert ("add-not-null-column-without-default", "age") in pairs
    column = next(f for f in findings if f.rule == "add-not-null-column-without-default")
    line = text.splitlines()[column.start[0]]
    assert line == "        ADD COLUMN age integer NOT NULL;"
    assert column.start[1] == line.index("age")


def test_sql_through_the_connection() -> None:
    text = rails(
        up='connection.execute("DROP TABLE sessions")\n'
        'ActiveRecord::Base.connection.execute("TRUNCATE carts")',
        down=IRREVERSIBLE,
    )
    assert [r for r, _ in found(text)] == ["drop-table", "truncate-table"]


def test_sql_string_formatting_in_execute() -> None:
    text = rails(up="execute \"UPDATE users SET plan = '#{plan}' WHERE id = 1\"", down=IRREVERSIBLE)
    (finding,) = [f for f in check(text) if f.rule == "sql-string-formatting"]
    assert "sanitize_sql_array" in finding.message


def test_mixed_schema_and_data_change() -> None:
    text = rails(
        up="""
        add_column :users, :full_name, :string
        User.where(full_name: nil).in_batches.update_all("full_name = name")
        """,
        down="remove_column :users, :full_name",
    )
    assert (
        "mixed-schema-and-data-change",
        'User.where(full_name: nil).in_batches.update_all("full_name = name")',
    ) in found(text)
    data_only = rails(up='User.in_batches.update_all(plan: "free")', down=IRREVERSIBLE)
    assert "mixed-schema-and-data-change" not in rules(data_only)
    seeded_new_table = rails(
        'create_table :settings do |t|\n  t.string :key\nend\nSetting.create!(key: "theme")'
    )
    assert "mixed-schema-and-data-change" not in rules(seeded_new_table)


def test_unbatched_data_update() -> None:
    text = rails(up='User.update_all(plan: "free")', down=IRREVERSIBLE)
    assert found(text) == [("unbatched-data-update", 'User.update_all(plan: "free")')]
    null_only = rails(up='User.where(plan: nil).update_all(plan: "free")', down=IRREVERSIBLE)
    assert "unbatched-data-update" in rules(null_only)
    for quiet in (
        'User.where(plan: nil).in_batches(of: 1000) { |batch| batch.update_all(plan: "free") }',
        'User.where(id: 1).update_all(plan: "free")',
        'User.in_batches.update_all(plan: "free")',
    ):
        assert "unbatched-data-update" not in rules(rails(up=quiet, down=IRREVERSIBLE)), quiet


def test_row_by_row_update_in_find_each() -> None:
    text = rails(
        up="User.find_each do |user|\n  user.update!(slug: user.name.parameterize)\nend",
        down=IRREVERSIBLE,
    )
    selected = found(text, select=["row-by-row-data-migration"])
    assert selected == [("row-by-row-data-migration", "user.update!")]


def test_ignore_comment() -> None:
    text = rails("add_index :users, :email # migration-lsp: ignore[non-concurrent-index]")
    assert found(text) == []
    above = rails("# migration-lsp: ignore[drop-column]\nremove_column :users, :fax, :string")
    assert found(above) == []


# --------------------------------------------------------------------------- bad input


HEAD = "class Broken < ActiveRecord::Migration[7.1]\n"


@pytest.mark.parametrize(
    "text",
    [
        HEAD + "  def change\n    add_index :users,\n",
        HEAD + "  def change\n    add_column(:users, :a\n  end\nend\n",
        HEAD + '  def up\n    execute "CREATE INDEX\n  end\nend\n',
        HEAD + "  def up\n    execute <<~SQL\n      SELECT 1\n",
        "def change\n  add_index :users, :email\nend\nend\nend\n(",
    ],
)
def test_syntax_errors_give_one_parse_error(text: str) -> None:
    findings = check(text)
    assert [f.rule for f in findings] == ["migration-parse-error"]


def test_files_without_a_migration_class_are_empty() -> None:
    for text in ("", "# frozen_string_literal: true\n", "puts 'hello'\n"):
        migration = parse(text)
        assert migration.operations == [] and migration.problems == []
        assert check(text) == []


def test_truncated_fixture_files_never_crash() -> None:
    for path in sorted(MIGRATIONS.glob("*.rb")):
        text = path.read_text()
        for end in range(0, len(text) + 1, 3):
            prefix = text[:end]
            migration = parse(prefix, str(path))
            findings = analyse(migration, config())
            errors = [f for f in findings if f.rule == "migration-parse-error"]
            assert len(errors) <= 1
            assert bool(errors) == bool(migration.problems), (path.name, end)


def test_deeply_nested_input_does_not_crash() -> None:
    text = rails(up="x(" * 3000 + ")" * 3000, down=IRREVERSIBLE)
    check(text)  # no exception; the file is either read or reported as a parse error


# --------------------------------------------------------------------------- the fixture app


EXPECTED = {
    "20240105120000_create_users.rb": set(),
    "20240105120500_create_accounts.rb": set(),
    "20240110143000_add_phone_to_users.rb": set(),
    "20240112080000_add_index_to_users_phone.rb": {"non-concurrent-index"},
    "20240115093000_add_index_to_users_name.rb": set(),
    "20240118110000_add_account_ref_to_users.rb": {
        "add-not-null-column-without-default",
        "foreign-key-without-not-valid",
        "non-concurrent-index",
    },
    "20240120150000_remove_legacy_code_from_users.rb": {"drop-column"},
    "20240121100000_remove_nickname_from_users.rb": {"drop-column", "irreversible-change"},
    "20240122090000_backfill_user_names.rb": {
        "mixed-schema-and-data-change",
        "unbatched-data-update",
    },
    "20240125100000_change_users_phone_type.rb": {"change-column-type", "missing-downgrade"},
    "20240128120000_add_orders.rb": set(),
    "20240129090000_add_orders_total_check.rb": {"check-constraint-without-not-valid"},
    "20240130090000_add_orders_account_foreign_key.rb": set(),
    "20240130090500_validate_orders_account_foreign_key.rb": set(),
    "20240201100000_make_users_email_verified_required.rb": {"set-not-null-on-existing-column"},
    "20240203100000_rename_users_name.rb": {"rename-column"},
    "20240205100000_drop_legacy_tables.rb": {"drop-table", "empty-downgrade"},
    "20240207100000_add_users_public_id.rb": {"add-column-volatile-default"},
    "20240210100000_remove_users_fax.rb": set(),
    "20240212100000_backfill_orders_status.rb": set(),
    "20240214100000_archive_old_orders.rb": {
        "mixed-schema-and-data-change",
        "unbatched-data-update",
    },
    "20240216100000_add_index_concurrently_in_transaction.rb": {"concurrent-index-in-transaction"},
    "20240218100000_rename_orders_to_purchases.rb": {"rename-table"},
}
QUIET = "missing-lock-timeout,statements-after-access-exclusive,prefer-timestamptz"
QUIET += ",foreign-key-without-index"


def test_check_cli_on_the_fixture_app(capsys: pytest.CaptureFixture[str]) -> None:
    assert sorted(p.name for p in MIGRATIONS.glob("*.rb")) == sorted(EXPECTED)
    code = main(["check", str(FIXTURE), "--format", "json", "--ignore", QUIET])
    out = capsys.readouterr().out
    report = json.loads(out)
    findings = report["findings"] if isinstance(report, dict) else report
    by_file: dict[str, set[str]] = {name: set() for name in EXPECTED}
    for item in findings:
        by_file[Path(item["path"]).name].add(item["rule"])
    assert by_file == EXPECTED
    assert code == 1


def test_check_cli_text_output_points_at_the_call(capsys: pytest.CaptureFixture[str]) -> None:
    target = MIGRATIONS / "20240112080000_add_index_to_users_phone.rb"
    code = main(["check", str(target), "--no-color", "--select", "non-concurrent-index"])
    out = capsys.readouterr().out
    assert code == 1
    assert "20240112080000_add_index_to_users_phone.rb:3:5: warning non-concurrent-index" in out


def test_the_engine_uses_the_rails_parser_for_rails_projects() -> None:
    text = (MIGRATIONS / "20240112080000_add_index_to_users_phone.rb").read_text()
    migration = parse_migration(PATH, text, "rails", "postgresql", {"adapter": "postgresql"})
    assert migration is not None and migration.tool == "rails"
    assert [type(op) for op in migration.operations] == [CreateIndex]


def test_read_rails_keeps_what_fixes_need() -> None:
    text = rails("safety_assured { remove_column :users, :fax }", disable=True)
    parsed = read_rails(PATH, text, "postgresql")
    assert parsed.version == "7.1" and parsed.disable is not None
    assert set(parsed.methods) == {"change"}
    (call,) = parsed.calls
    assert call.method == "remove_column" and call.assured
    assert isinstance(parsed.assured[0], DropColumn)


@pytest.mark.parametrize(
    ("path", "content"),
    [
        (
            "config/initializers/strong_migrations.rb",
            "StrongMigrations.lock_timeout = 10.seconds\n"
            "StrongMigrations.statement_timeout = 1.hour\n",
        ),
        (
            "config/database.yml",
            "default: &default\n  adapter: postgresql\n  variables:\n    lock_timeout: 5s\n"
            "development:\n  <<: *default\n  database: app_dev\n",
        ),
    ],
)
def test_lock_timeout_set_for_every_migration_is_known(
    tmp_path: Path, path: str, content: str
) -> None:
    from migration_lsp.engine import Workspace

    (tmp_path / "Gemfile").write_text("source 'https://rubygems.org'\ngem 'rails', '~> 7.1'\n")
    (tmp_path / "config" / "initializers").mkdir(parents=True)
    (tmp_path / "config" / "database.yml").write_text("development:\n  adapter: postgresql\n")
    migrate = tmp_path / "db" / "migrate"
    migrate.mkdir(parents=True)
    (migrate / "20240514102133_add_email_to_users.rb").write_text(
        "class AddEmailToUsers < ActiveRecord::Migration[7.1]\n"
        "  def change\n    add_column :users, :email, :string\n  end\nend\n"
    )
    before = Workspace(select=["missing-lock-timeout"]).check([tmp_path]).findings
    assert [f.rule for f in before] == ["missing-lock-timeout"]
    (tmp_path / path).write_text(content)
    assert Workspace(select=["missing-lock-timeout"]).check([tmp_path]).findings == []
