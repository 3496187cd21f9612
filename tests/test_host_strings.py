"""String literals of Ruby, PHP and JS/TS decoded with the document position of every
character, so SQL inside them is reported on the exact text."""

from __future__ import annotations

import pytest

from migration_lsp.parse import host_strings
from migration_lsp.parse.treesitter import Grammar, TreeSource, walk


def decoded(
    src: str, grammar: Grammar, kinds: set[str], strings: host_strings.StringGrammar
) -> list[host_strings.HostString]:
    source = TreeSource(src, grammar)
    return [host_strings.decode(source, n, strings) for n in walk(source.root) if n.type in kinds]


def test_php_heredoc_sql_keeps_its_line_breaks() -> None:
    """A `-- comment` line in a PHP heredoc must not swallow the statement after it."""
    from migration_lsp.parse import host_strings
    from migration_lsp.parse.treesitter import TreeSource, walk

    src = "<?php\nDB::statement(<<<SQL\n    -- note\n    DROP TABLE t;\n    SQL);\n"
    source = TreeSource(src, "php")
    (node,) = [n for n in walk(source.root) if n.type == "heredoc"]
    found = host_strings.decode(source, node, host_strings.PHP)
    assert found.value == "    -- note\n    DROP TABLE t;"
    assert all(src[p] == c for p, c in zip(found.positions, found.value, strict=False))


@pytest.mark.parametrize(
    ("grammar", "src", "kinds", "strings", "value", "formatted"),
    [
        (
            "javascript",
            "knex.raw(`CREATE INDEX ${name} ON t\\n(a)`)",
            {"template_string"},
            host_strings.JS,
            "CREATE INDEX name ON t\n(a)",
            True,
        ),
        ("javascript", "q('it\\'s')", {"string"}, host_strings.JS, "it's", False),
        ("ruby", 'execute "DROP #{t} x"', {"string"}, host_strings.RUBY, "DROP t x", True),
        (
            "ruby",
            "execute <<~SQL\n  DROP t;\nSQL\n",
            {"heredoc_body"},
            host_strings.RUBY,
            "\n  DROP t;\n",
            False,
        ),
        ("php", "<?php f('a\\'b');", {"string"}, host_strings.PHP, "a'b", False),
        ("php", '<?php f("x {$y} z");', {"encapsed_string"}, host_strings.PHP, "x y z", True),
    ],
)
def test_values_and_positions(
    grammar: Grammar,
    src: str,
    kinds: set[str],
    strings: host_strings.StringGrammar,
    value: str,
    formatted: bool,
) -> None:
    (found,) = decoded(src, grammar, kinds, strings)
    assert (found.value, found.formatted) == (value, formatted)
    assert len(found.positions) == len(found.value) + 1
    for position, char in zip(found.positions, found.value, strict=False):
        if src[position] == char:
            continue
        # escapes and interpolations map to where they start
        assert src[position] in "\\$#`", (char, src[position : position + 4])


@pytest.mark.parametrize(
    ("language", "text", "needle", "expected"),
    [
        (
            "typescript",
            'await queryRunner.query(`CREATE INDEX "IDX_email"\n    ON "users" ("email")`);\n',
            "CREATE INDEX",
            "  -- migration-lsp: ignore[non-concurrent-index]",
        ),
        (
            "typescript",
            'await queryRunner.query(`CREATE INDEX "IDX_email" ON "users" ("email")`);\n',
            "CREATE INDEX",
            "  // migration-lsp: ignore[non-concurrent-index]",
        ),
        (
            "ruby",
            "  execute <<~SQL\n    CREATE INDEX idx ON users (email);\n  SQL\n",
            "CREATE INDEX",
            "  -- migration-lsp: ignore[non-concurrent-index]",
        ),
        (
            "php",
            "<?php\nDB::statement('CREATE INDEX idx\n    ON users (email)');\n",
            "CREATE INDEX",
            "  -- migration-lsp: ignore[non-concurrent-index]",
        ),
        (
            "php",
            "<?php\nDB::statement('CREATE INDEX idx ON users (email)');\n",
            "CREATE INDEX",
            "  // migration-lsp: ignore[non-concurrent-index]",
        ),
    ],
)
def test_disable_for_this_line_inside_a_multi_line_string_writes_an_sql_comment(
    language: str, text: str, needle: str, expected: str
) -> None:
    from migration_lsp.model import Migration
    from migration_lsp.suppress import ignore_edit
    from migration_lsp.text import Span

    migration = Migration(path="m", text=text, tool="x", dialect=None, language=language)  # type: ignore[arg-type]
    at = text.index(needle)
    edit = ignore_edit(migration, "non-concurrent-index", Span(at, at + 5), whole_file=False)
    assert edit.new_text == expected


@pytest.mark.parametrize(
    ("language", "text", "expected"),
    [
        (
            "yaml",
            "databaseChangeLog:\n  - changeSet:\n      changes:\n        - sql:\n"
            "            sql: |\n              CREATE INDEX idx ON users (email);\n",
            "  -- migration-lsp: ignore[non-concurrent-index]",
        ),
        (
            "yaml",
            "databaseChangeLog:\n  - changeSet:\n      changes:\n        - createIndex:\n"
            "            tableName: users\n",
            "  # migration-lsp: ignore[non-concurrent-index]",
        ),
        (
            "xml",
            "<changeSet>\n  <sql><![CDATA[\n    CREATE INDEX idx ON users (email);\n  ]]></sql>\n",
            "  -- migration-lsp: ignore[non-concurrent-index]",
        ),
        (
            "xml",
            '<changeSet>\n  <createIndex tableName="users" indexName="idx"/>\n',
            "  <!-- migration-lsp: ignore[non-concurrent-index] -->",
        ),
    ],
)
def test_disable_for_this_line_in_changelog_text_blocks(
    language: str, text: str, expected: str
) -> None:
    from migration_lsp.model import Migration
    from migration_lsp.suppress import ignore_edit
    from migration_lsp.text import Span

    migration = Migration(path="m", text=text, tool="liquibase", dialect=None, language=language)  # type: ignore[arg-type]
    at = text.index("CREATE INDEX") if "CREATE" in text else text.index("users")
    edit = ignore_edit(migration, "non-concurrent-index", Span(at, at + 5), whole_file=False)
    assert edit.new_text == expected
