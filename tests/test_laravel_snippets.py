"""Laravel snippets: offered in the right place of a half-typed file, valid PHP once inserted,
and free of the findings they exist to avoid."""

from __future__ import annotations

import pytest

from migration_lsp.parse.treesitter import TreeSource
from migration_lsp.snippets import (
    SNIPPETS,
    Snippet,
    completion_context,
    expand,
    render,
    snippets_for,
)
from migration_lsp.snippets.syntax import parse as parse_snippet
from rule_helpers import analyse, config
from test_laravel import laravel, parse

LARAVEL = [s for s in SNIPPETS if s.tools == {"laravel"}]
WITHOUT_TRANSACTION = "public $withinTransaction = false;"


def _ids(snippet: Snippet) -> str:
    return f"{snippet.context}-{snippet.prefix}"


def test_catalogue() -> None:
    assert {s.prefix for s in snippets_for("laravel", "postgresql", "file")} == {
        "mig-file",
        "mig-file-index-concurrently",
    }
    steps = {s.prefix for s in snippets_for("laravel", "postgresql", "step")}
    assert steps == {
        "mig-create-table",
        "mig-add-column",
        "mig-index-concurrently",
        "mig-backfill",
        "mig-foreign-key",
        "mig-not-null",
    }
    mysql = {s.prefix for s in snippets_for("laravel", "mysql", "step")}
    assert mysql == {"mig-create-table", "mig-add-column", "mig-backfill"}
    closure = {s.prefix for s in snippets_for("laravel", "postgresql", "statement")}
    assert closure == {"mig-add-column", "mig-foreign-id"}
    assert not snippets_for("alembic", "postgresql", "statement") or all(
        "laravel" not in s.tools for s in snippets_for("alembic", "postgresql", "statement")
    )


@pytest.mark.parametrize("snippet", LARAVEL, ids=_ids)
def test_body_is_well_formed(snippet: Snippet) -> None:
    assert parse_snippet(snippet.body)
    filled = expand(snippet.body)
    assert "${" not in filled and "\\$" not in filled
    for rule in snippet.avoids:
        assert f"`{rule}`" in snippet.documentation


def _quiet(text: str, snippet: Snippet) -> None:
    assert not TreeSource(text, "php").root.has_error, text
    found = {f.rule for f in analyse(parse(text), config())}
    assert "migration-parse-error" not in found
    assert not found & set(snippet.avoids), (found, text)


@pytest.mark.parametrize("snippet", [s for s in LARAVEL if s.context == "file"], ids=_ids)
def test_file_skeletons_are_clean_migrations(snippet: Snippet) -> None:
    text = expand(snippet.body) + "\n"
    migration = parse(text)
    assert migration.up is not None and migration.down is not None
    _quiet(text, snippet)


@pytest.mark.parametrize("snippet", [s for s in LARAVEL if s.context == "step"], ids=_ids)
def test_step_snippets_in_up(snippet: Snippet) -> None:
    template = laravel("/*here*/", properties=WITHOUT_TRANSACTION)
    rendered = render(snippet, " " * 8)
    assert all(not line or line.startswith(" " * 8) for line in rendered.splitlines()[1:])
    _quiet(template.replace("/*here*/", _filled(snippet, " " * 8)), snippet)


@pytest.mark.parametrize("snippet", [s for s in LARAVEL if s.context == "statement"], ids=_ids)
def test_closure_snippets_in_a_blueprint_closure(snippet: Snippet) -> None:
    method = "create" if snippet.prefix == "mig-foreign-id" else "table"
    body = f"Schema::{method}('posts', function (Blueprint $table) {{\n    /*here*/\n}});"
    if method == "create":
        body = body.replace("/*here*/", "$table->id();\n    /*here*/")
    template = laravel(body, properties=WITHOUT_TRANSACTION)
    text = template.replace("/*here*/", _filled(snippet, " " * 12))
    _quiet(text, snippet)


def _filled(snippet: Snippet, indent: str) -> str:
    lines = expand(snippet.body).splitlines()
    return "\n".join([lines[0], *(indent + line if line else line for line in lines[1:])])


# --------------------------------------------------------------------------- contexts

FILE = laravel(
    """
    Schema::table('users', function (Blueprint $table) {
        $table->string('nickname')->nullable();
        <C1>
    });
    <C2>
    if (! Schema::hasColumn('users', 'x')) {
        <C3>
    }
    $sql = 'x <C4>';
    DB::statement(<<<'SQL'
        <C5>
        SQL);
    // <C6>
    $table->string(<C7>
    """,
    "<C8>",
)


def _at(marker: str, text: str = FILE, word: str = "") -> tuple[str, int]:
    clean = text
    for other in ("<C1>", "<C2>", "<C3>", "<C4>", "<C5>", "<C6>", "<C7>", "<C8>"):
        if other != marker:
            clean = clean.replace(other, "")
    offset = clean.index(marker)
    return clean.replace(marker, word), offset + len(word)


@pytest.mark.parametrize(
    ("marker", "expected"),
    [
        ("<C1>", "statement"),
        ("<C2>", "step"),
        ("<C3>", "step"),
        ("<C4>", None),
        ("<C5>", None),
        ("<C6>", None),
        ("<C7>", None),
        ("<C8>", "step"),
    ],
)
def test_completion_context(marker: str, expected: str | None) -> None:
    text, offset = _at(marker, word="mig-")
    assert completion_context(text, offset, "laravel", "php") == expected


def test_file_context() -> None:
    assert completion_context("", 0, "laravel", "php") == "file"
    assert completion_context("mig-f", 5, "laravel", "php") == "file"
    assert completion_context("<?php\n\nmig", 10, "laravel", "php") == "file"
    assert completion_context("<?php\n// new\n", 13, "laravel", "php") == "file"


def test_class_level_and_old_style_methods() -> None:
    text = laravel("//").replace("    /**\n     * Run", "    mig\n    /**\n     * Run", 1)
    offset = text.index("    mig\n") + 7
    assert completion_context(text, offset, "laravel", "php") is None
    old = "<?php\n\nclass AddX extends Migration\n{\n    public function up()\n    {\n        mig\n"
    assert completion_context(old, old.index("mig") + 3, "laravel", "php") == "step"


def test_abandoned_call_above_does_not_hide_the_step() -> None:
    text = (
        "<?php\n\nreturn new class extends Migration\n{\n    public function up(): void\n"
        "    {\n        DB::statement('x'\n        mig\n"
    )
    assert completion_context(text, text.index("mig") + 3, "laravel", "php") == "step"
