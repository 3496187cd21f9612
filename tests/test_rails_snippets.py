"""Rails snippets: offered in the right places of a half-typed migration, and each one, filled
with its defaults and placed in a migration, parses and is judged safe by the engine (no
finding of the rules it exists to avoid)."""

from __future__ import annotations

import pytest

from migration_lsp.model import DIALECTS
from migration_lsp.parse.treesitter import TreeSource
from migration_lsp.snippets import SNIPPETS, Snippet, completion_context, snippets_for
from rule_helpers import analyse, config
from test_rails import IRREVERSIBLE, parse, rails
from test_snippets import filled

RAILS_SNIPPETS = [s for s in SNIPPETS if "rails" in s.tools]
FILES = {"mig-file", "mig-file-index-concurrently", "mig-file-batch-update"}
STEPS = {
    "mig-create-table",
    "mig-add-column",
    "mig-add-column-default",
    "mig-add-column-backfill",
    "mig-index-concurrently",
    "mig-foreign-key",
    "mig-check-constraint",
    "mig-validate-constraint",
    "mig-not-null-check",
    "mig-set-not-null",
    "mig-remove-column",
    "mig-batch-update",
}
IN_UP = {"mig-set-not-null", "mig-batch-update"}
"""Steps that belong in `up` (Rails cannot invert them inside `change`)."""
NEEDS_NO_TRANSACTION = {"mig-index-concurrently"}


def cases(context: str) -> list[object]:
    return [pytest.param(s, id=s.prefix) for s in RAILS_SNIPPETS if s.context == context]


def at(marked: str) -> tuple[str, int]:
    """Text and cursor offset of a `§` marker."""
    return marked.replace("§", "", 1), marked.index("§")


def test_offered_snippets_per_context() -> None:
    assert {s.prefix for s in snippets_for("rails", "postgresql", "file")} == FILES
    assert {s.prefix for s in snippets_for("rails", "postgresql", "step")} == STEPS
    assert snippets_for("rails", "postgresql", "statement") == []
    on_mysql = {s.prefix for s in snippets_for("rails", "mysql", "step")}
    assert on_mysql == {
        "mig-create-table",
        "mig-add-column",
        "mig-add-column-default",
        "mig-remove-column",
        "mig-batch-update",
    }
    for dialect in DIALECTS:
        assert "mig-file" in {s.prefix for s in snippets_for("rails", dialect, "file")}


@pytest.mark.parametrize("snippet", cases("file"))
def test_file_skeletons_parse_and_are_quiet(snippet: Snippet) -> None:
    text = filled(snippet)
    assert not TreeSource(text, "ruby").root.has_error, text
    path = "db/migrate/20240601100000_add_email_to_users.rb"
    findings = analyse(parse(text, path), config())
    assert [f.rule for f in findings if f.rule in snippet.avoids] == [], text
    assert "migration-parse-error" not in {f.rule for f in findings}


@pytest.mark.parametrize("snippet", cases("step"))
def test_step_snippets_parse_and_avoid_their_rules(snippet: Snippet) -> None:
    body = filled(snippet)
    if snippet.prefix in IN_UP:
        text = rails(up=body, down=IRREVERSIBLE)
    else:
        text = rails(body, disable=snippet.prefix in NEEDS_NO_TRANSACTION)
    assert not TreeSource(text, "ruby").root.has_error, text
    migration = parse(text)
    assert migration.problems == [], text
    assert migration.operations or migration.notes, text  # safety_assured: noted, not judged
    findings = [f.rule for f in analyse(migration, config())]
    assert not set(findings) & set(snippet.avoids), (findings, text)


def test_step_snippets_are_what_their_rules_would_flag_without_the_precaution() -> None:
    """The unsafe form next to each snippet is flagged: the snippets avoid real findings."""
    unsafe = {
        "add_index :users, :email": "non-concurrent-index",
        "add_foreign_key :orders, :users": "foreign-key-without-not-valid",
        'add_check_constraint :orders, "total >= 0"': "check-constraint-without-not-valid",
        "change_column_null :users, :email, false": "set-not-null-on-existing-column",
        "remove_column :users, :legacy_code, :string": "drop-column",
    }
    for body, rule in unsafe.items():
        assert rule in {f.rule for f in analyse(parse(rails(body)), config())}, body


@pytest.mark.parametrize(
    ("marked", "expected"),
    [
        ("§", "file"),
        ("mig§", "file"),
        ("# frozen_string_literal: true\n\n§", "file"),
        ("  §", None),
        ("class A < ActiveRecord::Migration[7.1]\n  def change\n    §\n  end\nend\n", "step"),
        ("class A < ActiveRecord::Migration[7.1]\n  def change\n    mig-in§\n  end\nend\n", "step"),
        (
            "class A < ActiveRecord::Migration[7.1]\n  def up\n    add_column :a, :b, :c\n    §",
            "step",
        ),
        ("class A < ActiveRecord::Migration[7.1]\n  def self.down\n    §\n  end\nend\n", "step"),
        (
            "class A < ActiveRecord::Migration[7.1]\n  def change\n    reversible do |dir|\n"
            "      dir.up do\n        §\n      end\n    end\n  end\nend\n",
            "step",
        ),
        (
            "class A < ActiveRecord::Migration[7.1]\n  def change\n    safety_assured {\n"
            "      §\n    }\n  end\nend\n",
            "step",
        ),
        # half-typed call above: abandoned once the next line starts at its indentation
        ("class A < ActiveRecord::Migration[7.1]\n  def change\n    add_index(:a,\n    §", "step"),
        # inside a table block: statements there are `t.*` calls
        (
            "class A < ActiveRecord::Migration[7.1]\n  def change\n    create_table :x do |t|\n"
            "      §\n    end\n  end\nend\n",
            None,
        ),
        # between methods, in a helper, in a string, heredoc or comment, mid-expression
        ("class A < ActiveRecord::Migration[7.1]\n  def change\n  end\n  §\nend\n", None),
        ("class A < ActiveRecord::Migration[7.1]\n  def helper\n    §\n  end\nend\n", None),
        ("class A < ActiveRecord::Migration[7.1]\n  def up\n    x = 'a\n    §", None),
        (
            "class A < ActiveRecord::Migration[7.1]\n  def up\n    execute <<~SQL\n      §\n"
            "    SQL\n  end\nend\n",
            None,
        ),
        ("class A < ActiveRecord::Migration[7.1]\n  def up\n    # mig§\n  end\nend\n", None),
        (
            "class A < ActiveRecord::Migration[7.1]\n  def up\n    add_index :a, §\n  end\nend\n",
            None,
        ),
        ("class A < ActiveRecord::Migration[7.1]\n  def up\n    add_index(:a,\n      §", None),
        ("class A < ActiveRecord::Migration[7.1]\n  def up\n    §add_index :a\n  end\nend\n", None),
        (
            "class A < ActiveRecord::Migration[7.1]\n=begin\n  def up\n    §\n=end\nend\n",
            None,
        ),
    ],
)
def test_completion_context(marked: str, expected: str | None) -> None:
    text, offset = at(marked)
    assert completion_context(text, offset, "rails", "ruby") == expected


def test_completion_context_needs_ruby() -> None:
    assert completion_context("", 0, "rails", "python") is None


def test_step_snippets_parse_where_completion_offers_them() -> None:
    text, offset = at(
        "class AddStuff < ActiveRecord::Migration[7.1]\n"
        "  def change\n"
        "    add_column :users, :age, :integer\n"
        "    mig§\n"
        "  end\n"
        "end\n"
    )
    context = completion_context(text, offset, "rails", "ruby")
    assert context == "step"
    start = text.rindex("mig", 0, offset)
    for snippet in snippets_for("rails", "postgresql", context):
        inserted = text[:start] + filled(snippet, "    ") + text[offset:]
        assert not TreeSource(inserted, "ruby").root.has_error, (snippet.prefix, inserted)
