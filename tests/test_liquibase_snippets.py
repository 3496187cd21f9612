"""Liquibase snippets: offered between changeSets (or in an empty changelog) in the file's own
format, and what they insert parses and avoids the rules they name."""

from __future__ import annotations

import pytest

from migration_lsp.snippets import (
    Snippet,
    completion_context,
    expand,
    render,
    snippets_for,
    word_range,
)
from migration_lsp.snippets.liquibase import SNIPPETS
from rule_helpers import analyse, config
from test_liquibase_helpers import XML_FOOTER, XML_HEADER, parse

XML = (
    XML_HEADER
    + '\n    <changeSet id="1" author="alice">\n'
    + '        <createTable tableName="users">\n'
    + '            <column name="id" type="bigint"/>\n'
    + "        </createTable>\n"
    + "    </changeSet>\n"
    + "<|>\n"
    + XML_FOOTER
)
YAML = """databaseChangeLog:
  - changeSet:
      id: 1
      author: alice
      changes:
        - sql:
            sql: |
              SELECT 1;
      rollback: empty
<|>
"""
SQL = """--liquibase formatted sql

--changeset alice:1
CREATE TABLE users (id bigint PRIMARY KEY);
--rollback DROP TABLE users;

<|>
"""
CURSOR = "<|>"


def at(marked: str, word: str = "mig-") -> tuple[str, int]:
    """Text with `word` typed where `<|>` is, and the cursor after it."""
    offset = marked.index(CURSOR)
    return marked[:offset] + word + marked[offset + len(CURSOR) :], offset + len(word)


def context(marked: str, language: str, word: str = "mig-") -> str | None:
    text, offset = at(marked, word)
    return completion_context(text, offset, "liquibase", language)


@pytest.mark.parametrize(
    ("marked", "language", "expected"),
    [
        ("<|>", "xml", "file"),
        ("<!-- new changelog -->\n<|>", "xml", "file"),
        (XML, "xml", "step"),
        (XML.replace("    </changeSet>\n<|>", "    <|>\n    </changeSet>"), "xml", None),
        (XML.replace("<|>\n", '<changeSet id="2" <|>\n'), "xml", None),
        (XML.replace("<|>\n", "<!-- <|>\n"), "xml", None),
        (XML.replace("<|>\n", "") + "<|>\n", "xml", None),
        (XML.replace("\n<|>", " <|>"), "xml", None),
        ("<|>", "yaml", "file"),
        ("# changelog\n<|>", "yaml", "file"),
        (YAML.replace("<|>\n", "  <|>\n"), "yaml", "step"),
        (YAML.replace("<|>\n", "      <|>\n"), "yaml", None),
        (YAML.replace("<|>\n", "              <|>\n"), "yaml", None),
        ("databaseChangeLog:\n  <|>\n", "yaml", "step"),
        ("<|>", "sql", "file"),
        (SQL, "sql", "step"),
        (SQL.replace("--rollback DROP TABLE users;\n\n<|>", "<|>"), "sql", "step"),
        (
            SQL.replace("CREATE TABLE users (id bigint PRIMARY KEY);", "CREATE TABLE users (\n<|>"),
            "sql",
            None,
        ),
        ("SELECT 1;\n<|>", "sql", None),
        ("<|>", "json", "file"),
        ('{"databaseChangeLog": [\n<|>\n]}', "json", None),
        ("<|>", "python", None),
    ],
)
def test_completion_context(marked: str, language: str, expected: str | None) -> None:
    assert context(marked, language) == expected


@pytest.mark.parametrize("language", ["xml", "yaml", "sql", "json"])
def test_the_files_language_picks_the_variant(language: str) -> None:
    assert context("<|>", language) == "file"
    offered = snippets_for("liquibase", "postgresql", "file", language)
    assert [s.prefix for s in offered] == ["mig-file"]
    assert offered[0].languages == {language}
    if language != "json":
        steps = snippets_for("liquibase", "postgresql", "step", language)
        assert {lang for s in steps for lang in s.languages or ()} == {language}
        assert sorted(s.prefix for s in steps) == [
            "mig-changeset",
            "mig-foreign-key",
            "mig-index-concurrently",
            "mig-set-not-null",
        ]
        mysql = {s.prefix for s in snippets_for("liquibase", "mysql", "step", language)}
        assert mysql == {"mig-changeset"}


def _language(snippet: Snippet) -> str:
    assert snippet.languages is not None and len(snippet.languages) == 1
    return next(iter(snippet.languages))


STEP_SNIPPETS = [s for s in SNIPPETS if s.context == "step"]
FILE_SNIPPETS = [s for s in SNIPPETS if s.context == "file"]
BASES = {"xml": XML, "yaml": YAML.replace("<|>", "  <|>"), "sql": SQL}


@pytest.mark.parametrize("snippet", STEP_SNIPPETS, ids=lambda s: f"{_language(s)}:{s.prefix}")
def test_step_snippets_parse_where_offered_and_avoid_their_rules(snippet: Snippet) -> None:
    language = _language(snippet)
    text, offset = at(BASES[language])
    assert completion_context(text, offset, "liquibase", language) == "step"
    start, end = word_range(text, offset)
    indent = text[text.rfind("\n", 0, start) + 1 : start]
    inserted = text[:start] + expand(render(snippet, indent)) + text[end:]
    migration = parse(inserted, language)
    assert migration.problems == [], inserted
    assert len(migration.changesets) >= 2
    reported = {f.rule for f in analyse(migration, config(quiet=()))}
    assert not reported & {*snippet.avoids, "changeset-without-rollback"}, inserted
    assert f"`{snippet.avoids[0]}`" in snippet.documentation


@pytest.mark.parametrize("snippet", FILE_SNIPPETS, ids=lambda s: f"{_language(s)}:{s.prefix}")
def test_file_snippets_are_whole_changelogs(snippet: Snippet) -> None:
    language = _language(snippet)
    migration = parse(expand(snippet.body), language)
    assert migration.problems == []
    assert [c.label for c in migration.changesets] == ["changeSet id (author)"]
    assert migration.changesets[0].rollback is not None
