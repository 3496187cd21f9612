"""Snippets: the catalogue, the snippet syntax, where completion offers them, and that every
snippet, filled with its defaults and placed in a realistic migration, parses and is judged
safe by the engine (no finding of the rule it exists to avoid)."""

from __future__ import annotations

import ast
import re
import textwrap
from collections.abc import Callable
from typing import Any

import pytest
import sqlglot

from migration_lsp.engine import analyse
from migration_lsp.model import DIALECTS, Migration
from migration_lsp.parse.alembic import parse_alembic
from migration_lsp.parse.django import parse_django
from migration_lsp.parse.sql_files import parse_sql_migration
from migration_lsp.project.config import Config
from migration_lsp.rules.registry import BY_ID
from migration_lsp.snippets import (
    CONTEXTS,
    SNIPPETS,
    TOOLS,
    Snippet,
    SnippetSyntaxError,
    completion_context,
    expand,
    render,
    snippets_for,
    word_range,
)
from migration_lsp.snippets.model import OTHER_TOOLS
from migration_lsp.snippets.syntax import parse
from rule_helpers import QUIET_BY_DEFAULT

SQL_TOOLS = ("flyway", "prisma", "golang-migrate", "dbmate", "goose", "sql")
PLANNED_RULES = {"missing-lock-timeout", "prefer-bigint-primary-key", "prefer-timestamptz"}
PLANNED_RULES |= {"prefer-identity", "duplicate-revision", "modified-applied-migration"}
"""Rule ids of the catalogue (RULES.md) that the registry does not implement yet."""


# --------------------------------------------------------------------------- helpers

_PLACEHOLDER = re.compile(r"(?<!\\)\$\{(\d+):((?:[^\\}]|\\.)*)\}")
_CHOICE = re.compile(r"(?<!\\)\$\{(\d+)\|((?:[^\\|]|\\.)*)\|\}")
_TABSTOP = re.compile(r"(?<!\\)\$(?:(\d+)|\{(\d+)\})")


def fill_defaults(snippet_text: str) -> str:
    """Snippet text → the text accepted with every default: `${1:x}` → `x`, `${1|a,b|}` → `a`,
    `$1` → the default of tab stop 1 (or nothing), `$0` → nothing, `\\$` → `$`.

    Written independently of `migration_lsp.snippets.syntax.expand` (regular expressions, no
    nesting), and checked against it for every bundled snippet."""
    values: dict[str, str] = {}
    for match in _PLACEHOLDER.finditer(snippet_text):
        values.setdefault(match[1], match[2])
    for match in _CHOICE.finditer(snippet_text):
        values.setdefault(match[1], re.split(r"(?<!\\),", match[2])[0])
    text = _PLACEHOLDER.sub(lambda m: m[2], snippet_text)
    text = _CHOICE.sub(lambda m: re.split(r"(?<!\\),", m[2])[0], text)
    text = _TABSTOP.sub(lambda m: values.get(m[1] or m[2], ""), text)
    return re.sub(r"\\([$}\\,|])", r"\1", text)


def one(tool: str, prefix: str, dialect: str = "postgresql", context: str | None = None) -> Snippet:
    found = [
        s
        for s in SNIPPETS
        if s.prefix == prefix
        and s.applies_to(tool, dialect)
        and (context is None or s.context == context)
    ]
    assert len(found) == 1, (tool, prefix, dialect, found)
    return found[0]


def filled(snippet: Snippet, indent: str = "") -> str:
    """What the user gets: rendered at `indent`, every default accepted."""
    return fill_defaults(render(snippet, indent))


def snippet_id(snippet: Snippet) -> str:
    tools = ",".join(sorted(snippet.tools)) if len(snippet.tools) < 3 else "sql-tools"
    dialects = ",".join(sorted(snippet.dialects)) if snippet.dialects else "all"
    return f"{tools}:{snippet.prefix}:{snippet.context}:{dialects}"


def cases(predicate: Callable[[Snippet], bool] | None = None) -> list[Any]:
    chosen = [s for s in SNIPPETS if predicate is None or predicate(s)]
    return [pytest.param(s, id=snippet_id(s)) for s in chosen]


def is_python(snippet: Snippet) -> bool:
    return bool(snippet.tools & {"alembic", "django"})


def is_sql(snippet: Snippet) -> bool:
    """Written for the SQL runners (the other tools' snippets are tested with their parsers)."""
    return snippet.tools <= set(SQL_TOOLS)


ALEMBIC_FILE = '''"""change users

Revision ID: 3f2a1b4c5d6e
Revises: 9c8b7a6d5e4f
Create Date: 2024-05-14 10:21:33.123456

"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision: str = '3f2a1b4c5d6e'
down_revision: Union[str, Sequence[str], None] = '9c8b7a6d5e4f'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    """Upgrade schema."""
    {upgrade}


def downgrade() -> None:
    """Downgrade schema."""
    {downgrade}
'''
IRREVERSIBLE = 'raise NotImplementedError("cannot be undone")'


def alembic_file(upgrade: str, downgrade: str = IRREVERSIBLE) -> str:
    """`upgrade`/`downgrade` are the text after the first line's indentation (as inserted at a
    cursor on an indented line)."""
    return ALEMBIC_FILE.format(upgrade=upgrade, downgrade=downgrade)


DJANGO_FILE = """from django.db import migrations, models
{imports}


class Migration(migrations.Migration):
{atomic}
    dependencies = [
        ("app", "0001_initial"),
    ]

    operations = [
        migrations.AddField(
            model_name="model",
            name="note",
            field=models.TextField(null=True),
        ),
        {operations}
    ]
"""


def django_file(operations: str, *, imports: tuple[str, ...] = (), atomic: bool = True) -> str:
    return DJANGO_FILE.format(
        imports="\n".join(imports),
        atomic="" if atomic else "    atomic = False\n",
        operations=operations,
    )


def step_snippet(tool: str, prefix: str, indent: str) -> str:
    return filled(one(tool, prefix, context="step"), indent)


def parse_migration(text: str, tool: str, path: str | None = None) -> Migration:
    if tool == "alembic":
        return parse_alembic(path or "versions/3f2a1b4c5d6e_change.py", text, "postgresql", {})
    if tool == "django":
        return parse_django(path or "app/migrations/0002_change.py", text, "postgresql", {})
    default_paths = {
        "flyway": "db/migration/V2__change.sql",
        "prisma": "prisma/migrations/20240514102133_change/migration.sql",
        "golang-migrate": "migrations/000002_change.up.sql",
        "dbmate": "db/migrations/20240514102133_change.sql",
        "goose": "migrations/00002_change.sql",
        "sql": "migrations/002_change.sql",
    }
    return parse_sql_migration(path or default_paths[tool], text, tool, "postgresql", {}, None)


def rules_of(text: str, tool: str, path: str | None = None) -> list[str]:
    """Rule ids of the engine's findings; the file must parse (rules are silent otherwise)."""
    migration = parse_migration(text, tool, path)
    assert migration.problems == [], migration.problems
    # snippets show one operation; advice about the whole migration (lock_timeout, robust
    # re-runs, the statements that follow) and design notes are other tests' business
    return [f.rule for f in analyse(migration, Config(ignore=QUIET_BY_DEFAULT))]


# --------------------------------------------------------------------------- syntax


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("${1:x}", "x"),
        ("${1|a,b|}", "a"),
        ("$0", ""),
        ("${0}", ""),
        ("a $2 b", "a  b"),
        ("${1:users} and $1", "users and users"),
        ("$1 before ${1:users}", "users before users"),
        ("${1|5s,2s|} = $1", "5s = 5s"),
        ("DO \\$\\$ BEGIN END \\$\\$;", "DO $$ BEGIN END $$;"),
        ("{'a': ${1:1}}", "{'a': 1}"),
        ("${1:a\\}b}", "a}b"),
        ("${1|a\\,b,c|}", "a,b"),
        ("back\\\\slash", "back\\slash"),
    ],
)
def test_expand_fills_defaults(source: str, expected: str) -> None:
    assert expand(source) == expected
    assert fill_defaults(source) == expected


def test_expand_nested_placeholder() -> None:
    assert expand("${1:ix_${2:users}_email} on $2") == "ix_users_email on users"


@pytest.mark.parametrize(
    "source",
    [
        "DO $$ BEGIN END $$;",  # an SQL dollar quote that was not escaped
        "$body$",
        "$TM_FILENAME",
        "${1:unclosed",
        "${1|a,b}",
        "${name}",
        "cost: $",
    ],
)
def test_malformed_snippet_syntax_is_rejected(source: str) -> None:
    with pytest.raises(SnippetSyntaxError):
        parse(source)


def test_render_indents_continuation_lines_only() -> None:
    snippet = one("alembic", "mig-index-concurrently")
    text = render(snippet, "        ")
    lines = text.split("\n")
    assert lines[0] == "with op.get_context().autocommit_block():"
    assert lines[1] == "            op.create_index("
    assert lines[-1] == "            )$0"
    assert render(snippet, "") == snippet.body


def test_render_keeps_blank_lines_empty() -> None:
    text = render("a\n\n  b\n", "    ")
    assert text == "a\n\n      b\n"


def test_render_with_tabs() -> None:
    assert render("with x:\n    y()", "\t") == "with x:\n\t    y()"


def test_render_prefills_named_placeholders() -> None:
    snippet = one("alembic", "mig-file")
    text = fill_defaults(
        render(snippet, "", values={"revision": "ab12cd34ef56", "down_revision": "0a1b2c3d4e5f"})
    )
    assert "Revision ID: ab12cd34ef56\nRevises: 0a1b2c3d4e5f\n" in text
    assert "revision: str = 'ab12cd34ef56'" in text  # the mirror follows the placeholder
    assert "down_revision: Union[str, Sequence[str], None] = '0a1b2c3d4e5f'" in text
    assert "${2:ab12cd34ef56}" in render(snippet, "", values={"revision": "ab12cd34ef56"})


def test_render_escapes_prefilled_values() -> None:
    text = render("x = ${1:name}", "", values={"name": "a$b}c"})
    assert text == "x = ${1:a\\$b\\}c}"
    assert expand(text) == "x = a$b}c"


# --------------------------------------------------------------------------- the catalogue


@pytest.mark.parametrize("snippet", cases())
def test_snippet_metadata(snippet: Snippet) -> None:
    assert re.fullmatch(r"mig(-[a-z]+)+", snippet.prefix), snippet.prefix
    assert snippet.tools and snippet.tools <= set(TOOLS)
    assert snippet.context in CONTEXTS
    assert snippet.dialects is None or (snippet.dialects and snippet.dialects <= set(DIALECTS))
    assert snippet.label.strip() and "\n" not in snippet.label
    assert snippet.detail.strip() and "\n" not in snippet.detail
    assert len(snippet.documentation) > 80
    if is_python(snippet):
        assert snippet.context in ("file", "step")
        assert len(snippet.tools) == 1
    elif is_sql(snippet):
        assert snippet.context in ("file", "statement")
    else:
        assert snippet.tools <= set(OTHER_TOOLS)


@pytest.mark.parametrize("snippet", cases())
def test_documentation_names_the_rules_it_avoids(snippet: Snippet) -> None:
    for rule_id in snippet.avoids:
        assert rule_id in BY_ID or rule_id in PLANNED_RULES, rule_id
        assert f"`{rule_id}`" in snippet.documentation, rule_id


@pytest.mark.parametrize("snippet", cases())
def test_body_is_well_formed(snippet: Snippet) -> None:
    nodes = parse(snippet.body)
    assert nodes
    assert snippet.body.count("$0") <= 1
    assert snippet.body == snippet.body.strip("\n")
    assert "\t" not in snippet.body
    assert not re.search(r"[ \t]+$", snippet.body, re.MULTILINE), "trailing whitespace"
    assert not snippet.body[0].isspace(), "the first line is inserted at the cursor"
    # one default per tab stop: a second, different definition would silently lose
    definitions: dict[str, str] = {}
    for match in _PLACEHOLDER.finditer(snippet.body):
        assert definitions.setdefault(match[1], match[2]) == match[2], match[0]
    # the test helper and the package agree on what the user gets
    assert fill_defaults(snippet.body) == expand(snippet.body)
    # a `$` meant for the file is escaped: an unescaped `$name` is a snippet variable
    assert not re.search(r"(?<!\\)\$(?![0-9{])", snippet.body), "unescaped $"


def test_prefixes_are_unique_where_they_are_offered() -> None:
    languages = sorted({lang for s in SNIPPETS for lang in s.languages or ()}) or [None]
    for tool in TOOLS:
        for dialect in DIALECTS:
            for context in CONTEXTS:
                for language in languages:
                    prefixes = [s.prefix for s in snippets_for(tool, dialect, context, language)]
                    assert len(prefixes) == len(set(prefixes)), (tool, context, language, prefixes)


def test_every_tool_has_a_file_skeleton() -> None:
    for tool in TOOLS:
        for dialect in DIALECTS:
            assert "mig-file" in [s.prefix for s in snippets_for(tool, dialect, "file")]


# --------------------------------------------------------------------------- snippets_for

PG_STEPS = {
    "mig-create-table",
    "mig-add-column",
    "mig-add-column-default",
    "mig-index-concurrently",
    "mig-drop-index-concurrently",
    "mig-foreign-key",
    "mig-validate-constraint",
    "mig-set-not-null",
    "mig-rename-column",
    "mig-batch-update",
    "mig-lock-timeout",
}
SQL_STATEMENTS = PG_STEPS | {"mig-not-null-check"}


@pytest.mark.parametrize(
    ("tool", "context", "expected"),
    [
        ("alembic", "file", {"mig-file"}),
        ("alembic", "step", PG_STEPS),
        ("alembic", "statement", set()),
        ("django", "file", {"mig-file", "mig-file-index-concurrently", "mig-file-batch-update"}),
        ("django", "step", PG_STEPS - {"mig-batch-update"} | {"mig-not-null-check"}),
        ("django", "statement", set()),
        *[(tool, "statement", SQL_STATEMENTS) for tool in SQL_TOOLS],
        *[(tool, "step", set()) for tool in SQL_TOOLS],
        ("dbmate", "file", {"mig-file", "mig-file-index-concurrently", "mig-file-batch-update"}),
        ("goose", "file", {"mig-file", "mig-file-index-concurrently", "mig-file-batch-update"}),
        (
            "flyway",
            "file",
            SQL_STATEMENTS | {"mig-file", "mig-file-index-concurrently", "mig-file-batch-update"},
        ),
        (
            "golang-migrate",
            "file",
            SQL_STATEMENTS | {"mig-file", "mig-file-index-concurrently", "mig-file-batch-update"},
        ),
        (
            "sql",
            "file",
            SQL_STATEMENTS | {"mig-file", "mig-file-index-concurrently", "mig-file-batch-update"},
        ),
        # Prisma: no DO-block loop (a migration.sql is not guaranteed to run outside a
        # transaction block, and COMMIT inside DO needs that)
        ("prisma", "file", SQL_STATEMENTS | {"mig-file", "mig-file-index-concurrently"}),
    ],
)
def test_snippets_offered_on_postgresql(tool: str, context: str, expected: set[str]) -> None:
    offered = snippets_for(tool, "postgresql", context)
    assert {s.prefix for s in offered} == expected
    assert all(s.context in (context, "statement") for s in offered)


def test_unknown_dialect_means_postgresql() -> None:
    for tool in TOOLS:
        for context in CONTEXTS:
            assert snippets_for(tool, None, context) == snippets_for(tool, "postgresql", context)


def test_postgresql_only_snippets_are_not_offered_on_mysql() -> None:
    alembic = {s.prefix for s in snippets_for("alembic", "mysql", "step")}
    assert alembic == {
        "mig-create-table",
        "mig-add-column",
        "mig-add-column-default",
        "mig-rename-column",
        "mig-lock-timeout",
    }
    lock = one("alembic", "mig-lock-timeout", "mysql")
    assert "lock_wait_timeout" in lock.body
    sql = {s.prefix for s in snippets_for("flyway", "mysql", "statement")}
    assert sql == alembic
    assert "AUTO_INCREMENT" in one("flyway", "mig-create-table", "mysql").body
    assert "INTEGER PRIMARY KEY" in one("sql", "mig-create-table", "sqlite").body
    assert "with_variant" in one("alembic", "mig-create-table", "sqlite").body
    assert "sa.Identity()" in one("alembic", "mig-create-table", "postgresql").body


def test_file_skeletons_come_first() -> None:
    offered = snippets_for("flyway", "postgresql", "file")
    contexts = [s.context for s in offered]
    assert contexts == sorted(contexts, key=lambda c: c != "file")
    assert contexts[0] == "file" and contexts[-1] == "statement"


def test_unknown_tools_get_nothing_and_aliases_work() -> None:
    assert snippets_for("liquibase", "postgresql", "statement") == []
    assert snippets_for("nope", None, "file") == []
    assert snippets_for("flask-migrate", None, "step") == snippets_for("alembic", None, "step")


def test_per_tool_transaction_advice_in_index_snippets() -> None:
    advice = {
        "dbmate": "transaction:false",
        "goose": "-- +goose NO TRANSACTION",
        "flyway": "executeInTransaction=false",
        "golang-migrate": "alone in its .up.sql",
        "prisma": "alone in its migration.sql",
        "sql": "does not wrap this file in a transaction",
    }
    for tool, words in advice.items():
        for prefix in ("mig-index-concurrently", "mig-drop-index-concurrently"):
            snippet = one(tool, prefix, context="statement")
            assert words in snippet.body, (tool, prefix)
            assert "CONCURRENTLY IF" in snippet.body
            assert snippet.tools == {tool}


# --------------------------------------------------------------------------- bodies parse


@pytest.mark.parametrize("snippet", cases(lambda s: s.tools == {"alembic"} and s.context == "step"))
def test_alembic_step_snippets_parse_in_upgrade_and_downgrade(snippet: Snippet) -> None:
    ast.parse(alembic_file(filled(snippet, "    ")))
    ast.parse(alembic_file("pass", filled(snippet, "    ")))
    nested = "if op.get_context().dialect.name == 'postgresql':\n        " + filled(
        snippet, "        "
    )
    ast.parse(alembic_file(nested))


@pytest.mark.parametrize("snippet", cases(lambda s: s.tools == {"django"} and s.context == "step"))
def test_django_step_snippets_parse_in_operations(snippet: Snippet) -> None:
    ast.parse(django_file(filled(snippet, "        "), imports=snippet.imports))
    database_operations = (
        "migrations.SeparateDatabaseAndState(\n"
        "            database_operations=[\n"
        f"                {filled(snippet, '                ')}\n"
        "            ],\n"
        "        ),"
    )
    ast.parse(django_file(database_operations, imports=snippet.imports))


@pytest.mark.parametrize("snippet", cases(lambda s: is_python(s) and s.context == "file"))
def test_python_file_skeletons_parse(snippet: Snippet) -> None:
    tree = ast.parse(filled(snippet))
    names = {n.name for n in tree.body if isinstance(n, ast.FunctionDef | ast.ClassDef)}
    if snippet.tools == {"alembic"}:
        assert {"upgrade", "downgrade"} <= names
    else:
        assert "Migration" in names


def test_django_imports_are_importable_lines() -> None:
    for snippet in SNIPPETS:
        for line in snippet.imports:
            tree = ast.parse(line)
            assert isinstance(tree.body[0], ast.ImportFrom)
            names = {alias.name for alias in tree.body[0].names}
            assert names <= set(re.findall(r"\w+", fill_defaults(snippet.body)))


SQLGLOT = {"postgresql": "postgres", "mysql": "mysql", "sqlite": "sqlite"}


@pytest.mark.parametrize("snippet", cases(is_sql))
def test_sql_snippets_parse_with_sqlglot(snippet: Snippet) -> None:
    sql = filled(snippet)
    for dialect in sorted(snippet.dialects or {"postgresql", "mysql", "sqlite"}):
        sqlglot.parse(sql, read=SQLGLOT[dialect])  # must not raise


@pytest.mark.parametrize(
    "snippet",
    cases(lambda s: is_sql(s) and (s.dialects is None or "postgresql" in s.dialects)),
)
def test_sql_snippets_parse_with_the_engine(snippet: Snippet) -> None:
    tool = sorted(snippet.tools)[0]
    text = filled(snippet)
    if snippet.context == "statement" and tool in ("dbmate", "goose"):
        text = {"dbmate": "-- migrate:up\n", "goose": "-- +goose Up\n"}[tool] + text
    migration = parse_migration(text, tool)
    assert migration.problems == []
    if "CREATE" in text or "ALTER" in text or "UPDATE" in text:
        assert migration.operations


# --------------------------------------------------------------------------- completion_context


def at(marked: str) -> tuple[str, int]:
    """Text with the cursor written as `|`."""
    offset = marked.index("|")
    return marked[:offset] + marked[offset + 1 :], offset


def context_of(marked: str, tool: str, language: str) -> str | None:
    text, offset = at(marked)
    return completion_context(text, offset, tool, language)


ALEMBIC_HEAD = '''"""add email

Revision ID: 3f2a1b4c5d6e
Revises: 9c8b7a6d5e4f
Create Date: 2024-05-14 10:21:33.123456

"""
from alembic import op
import sqlalchemy as sa

revision = "3f2a1b4c5d6e"
down_revision = "9c8b7a6d5e4f"
'''


@pytest.mark.parametrize(
    ("marked", "expected"),
    [
        ("|", "file"),
        ("mig-f|", "file"),
        ("mig-|file", "file"),
        ("\n\n|\n", "file"),
        ("# -*- coding: utf-8 -*-\n|", "file"),
        ("   |", None),  # indented in an empty file: a skeleton would be mis-indented
        ("# mig|", None),  # in a comment
        ('"""|', None),  # in a string
        ("import os\n|", None),  # imports: not empty, top level
        (ALEMBIC_HEAD + "\n|", None),  # top level of a revision file
        (ALEMBIC_HEAD + "from sqlalchemy import |", None),
        (ALEMBIC_HEAD + "\ndef upgrade() -> None:\n    |", "step"),
        (ALEMBIC_HEAD + "\ndef upgrade() -> None:\n    mig-ind|", "step"),
        (ALEMBIC_HEAD + '\ndef upgrade() -> None:\n    """Upgrade schema."""\n    |', "step"),
        (ALEMBIC_HEAD + '\ndef upgrade() -> None:\n    """Upgrade |schema."""\n', None),
        (ALEMBIC_HEAD + "\ndef upgrade():\n    pass\n\n\ndef downgrade():\n    |", "step"),
        (ALEMBIC_HEAD + "\ndef upgrade_engine1():\n    |", "step"),
        (ALEMBIC_HEAD + "\nasync def downgrade():\n    |", "step"),
        (
            ALEMBIC_HEAD + "\ndef upgrade():\n    with op.get_context().autocommit_block():\n"
            "        |",
            "step",
        ),
        (ALEMBIC_HEAD + "\ndef upgrade():\n    if True:\n        pass\n    |", "step"),
        (ALEMBIC_HEAD + "\ndef upgrade():\n    # a comment\n    |  # trailing", "step"),
        (ALEMBIC_HEAD + "\ndef upgrade():\n    op.drop_column('a', 'b')\n|", None),
        (ALEMBIC_HEAD + "\ndef upgrade():\n    op.drop_column('a', 'b')\n        |", None),
        (ALEMBIC_HEAD + "\ndef upgrade():\n    |op.drop_column('a', 'b')", None),
        (ALEMBIC_HEAD + "\ndef upgrade():\n    op.execute('UPDATE |')", None),
        (ALEMBIC_HEAD + "\ndef upgrade():\n    op.execute(|", None),
        (ALEMBIC_HEAD + "\ndef upgrade():\n    x = op.|", None),
        (ALEMBIC_HEAD + "\ndef upgrade():\n    # mig|", None),
        (ALEMBIC_HEAD + "\ndef upgrade():\n    x = 1 + \\\n        |", None),
        (ALEMBIC_HEAD + "\ndef helper():\n    |", None),
        (ALEMBIC_HEAD + "\ndef upgrade():\n    def inner():\n        |", None),
        (ALEMBIC_HEAD + "\nclass Thing:\n    def upgrade(self):\n        |", None),
        # inside a call that is still open (continuation lines are deeper)
        (ALEMBIC_HEAD + "\ndef upgrade():\n    op.add_column(\n        'users',\n        |", None),
        # half-typed code: an unclosed call in upgrade() does not hide downgrade()
        (
            ALEMBIC_HEAD + "\ndef upgrade():\n    op.add_column('users', sa.Column('email'\n\n\n"
            "def downgrade():\n    |",
            "step",
        ),
        # ... nor the next statement of the same body
        (ALEMBIC_HEAD + "\ndef upgrade():\n    op.add_column('users',\n    |", "step"),
        # an unterminated one-line string ends with its line
        (ALEMBIC_HEAD + "\ndef upgrade():\n    op.execute('UPDATE users\n    |", "step"),
        # an unterminated triple-quoted string does not
        (ALEMBIC_HEAD + '\ndef upgrade():\n    op.execute("""UPDATE users\n    |', None),
        # a closed triple-quoted string spanning lines
        (
            ALEMBIC_HEAD + '\ndef upgrade():\n    op.execute("""\n    UPDATE users\n""")\n    |',
            "step",
        ),
        # brackets inside strings and comments do not count
        (ALEMBIC_HEAD + "\ndef upgrade():\n    op.execute('(')  # [\n    |", "step"),
        (ALEMBIC_HEAD + "\ndef upgrade():\r\n    pass\r\n    |", "step"),
    ],
)
def test_alembic_completion_context(marked: str, expected: str | None) -> None:
    assert context_of(marked, "alembic", "python") == expected


DJANGO_HEAD = """from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ("app", "0001_initial"),
    ]

"""
ADD_FIELD = """        migrations.AddField(
            model_name="model",
            name="note",
            field=models.TextField(null=True),
        )"""


@pytest.mark.parametrize(
    ("marked", "expected"),
    [
        ("|", "file"),
        ("mig-file|", "file"),
        ("from django.db import migrations\n|", None),
        (DJANGO_HEAD + "    operations = [\n        |\n    ]\n", "step"),
        (DJANGO_HEAD + "    operations = [\n        mig-add|\n    ]\n", "step"),
        (DJANGO_HEAD + "    operations = [|]\n", "step"),
        (DJANGO_HEAD + "    operations = (\n        |\n    )\n", "step"),
        (DJANGO_HEAD + "    operations: list = [\n        |", "step"),
        (DJANGO_HEAD + "    operations = [\n" + ADD_FIELD + ",\n        |\n    ]\n", "step"),
        (DJANGO_HEAD + "    operations = [\n" + ADD_FIELD + ",  |\n    ]\n", "step"),
        # after an element without its comma: inserting would not parse
        (DJANGO_HEAD + "    operations = [\n" + ADD_FIELD + "\n        |\n    ]\n", None),
        # inside an operation's arguments
        (
            DJANGO_HEAD + "    operations = [\n        migrations.AddField(\n"
            '            model_name="model",\n            |',
            None,
        ),
        (DJANGO_HEAD + '    operations = [\n        migrations.RunSQL("|")\n    ]\n', None),
        (DJANGO_HEAD + "    operations = [\n        # |\n    ]\n", None),
        (DJANGO_HEAD + "    |", None),  # class body, not the operations list
        (DJANGO_HEAD.replace('("app", "0001_initial"),', "|"), None),  # dependencies
        ("from django.db import migrations\n\noperations = [\n    |\n]\n", None),  # no class
        (
            DJANGO_HEAD + "    operations = [\n        migrations.SeparateDatabaseAndState(\n"
            "            database_operations=[\n                |\n            ],\n",
            "step",
        ),
        (
            DJANGO_HEAD + "    operations = [\n        migrations.SeparateDatabaseAndState(\n"
            "            state_operations=[|],\n",
            "step",
        ),
        # half-typed: an unclosed dependencies list above does not hide the operations list
        (
            DJANGO_HEAD.replace("    ]\n", "") + "    operations = [\n        |\n    ]\n",
            "step",
        ),
    ],
)
def test_django_completion_context(marked: str, expected: str | None) -> None:
    assert context_of(marked, "django", "python") == expected


@pytest.mark.parametrize(
    ("marked", "tool", "expected"),
    [
        ("|", "flyway", "file"),
        ("mig|", "golang-migrate", "file"),
        ("-- V2: add email\n\n|", "flyway", "file"),
        ("/* header */\n|", "sql", "file"),
        ("|", "dbmate", "file"),
        ("|", "goose", "file"),
        ("CREATE TABLE a (id int);\n|", "flyway", "statement"),
        ("CREATE TABLE a (id int); |", "flyway", "statement"),
        ("CREATE TABLE a (id int);\n-- next: the index\n|", "prisma", "statement"),
        ("CREATE TABLE a (id int);\n/* multi\nline */\nmig-ind|", "sql", "statement"),
        ("CREATE TABLE a (\n    |", "flyway", None),
        ("ALTER TABLE users |", "flyway", None),
        ("SELECT 1;\n|SELECT 2;", "flyway", None),  # code after the cursor on its line
        ("INSERT INTO t VALUES ('|", "flyway", None),
        ("INSERT INTO t VALUES ('x;');\n|", "flyway", "statement"),
        ("SELECT 'x;'\n|", "flyway", None),  # the ; in the string ends nothing
        ("SELECT E'it\\'s;'\n|", "flyway", None),
        ("SELECT E'it\\'s';\n|", "flyway", "statement"),
        ('SELECT "odd;name" FROM t\n|', "flyway", None),
        ("-- mig|", "flyway", None),
        ("SELECT 1;\n-- mig|", "flyway", None),
        ("SELECT 1;\n/* |", "flyway", None),
        ("SELECT 1;\n/* /* nested */ still |", "flyway", None),
        ("SELECT 1; x--mig|", "flyway", None),
        ("DO $$\nBEGIN\n    |", "flyway", None),
        ("DO $$\nBEGIN\n    PERFORM 1;\n    |\nEND\n$$;", "flyway", None),
        ("DO $$ BEGIN PERFORM 1; END $$;\n|", "flyway", "statement"),
        ("DO $body$ BEGIN PERFORM '$$'; END $body$;\n|", "flyway", "statement"),
        ("SELECT $1;\n|", "flyway", "statement"),  # a parameter, not a dollar quote
        ("-- migrate:up\n|\n\n-- migrate:down\n", "dbmate", "statement"),
        ("-- migrate:up\nCREATE TABLE a (id int);\n|", "dbmate", "statement"),
        ("-- migrate:up\nCREATE TABLE a (id int)\n-- migrate:down\n|", "dbmate", "statement"),
        ("-- migrate:up transaction:false\n|", "dbmate", "statement"),
        ("|\n-- migrate:up\nSELECT 1;\n", "dbmate", None),  # before the first section
        ("-- +goose NO TRANSACTION\n|", "goose", None),
        ("-- +goose Up\n|", "goose", "statement"),
        (
            "-- +goose Up\n-- +goose StatementBegin\nSELECT 1\n-- +goose StatementEnd\n|",
            "goose",
            "statement",
        ),
        ("-- +goose Up\nCREATE TABLE a (\n|", "goose", None),
    ],
)
def test_sql_completion_context(marked: str, tool: str, expected: str | None) -> None:
    assert context_of(marked, tool, "sql") == expected


@pytest.mark.parametrize(
    ("marked", "word"),
    [
        ("    mig-ind|", "mig-ind"),
        ("    mig-|index", "mig-index"),
        ("    |mig-index", "mig-index"),
        ("x = op.mig|", "mig"),
        ("SELECT 1; mig-lock|", "mig-lock"),
        ("    |", ""),
        ("    9|", ""),
    ],
)
def test_word_range_is_the_prefix_being_typed(marked: str, word: str) -> None:
    text, offset = at(marked)
    start, end = word_range(text, offset)
    assert text[start:end] == word
    assert start <= offset <= end


def test_completion_context_needs_a_known_tool_and_language() -> None:
    assert completion_context("", 0, "alembic", "sql") is None
    assert completion_context("", 0, "flyway", "python") is None
    assert completion_context("", 0, "unknown-tool", "javascript") is None
    assert completion_context("", 0, "flask-migrate", "python") == "file"
    assert completion_context("SELECT 1;\n", 999, "flyway", "sql") == "statement"
    assert completion_context("SELECT 1;\n", -5, "flyway", "sql") is None


def test_completion_context_agrees_with_snippets_for() -> None:
    """Every context answer leads to snippets that parse where they are inserted."""
    text, offset = at(ALEMBIC_HEAD + "\ndef upgrade():\n    mig|\n\n\ndef downgrade():\n    pass\n")
    context = completion_context(text, offset, "alembic", "python")
    assert context == "step"
    start = text.rindex("mig", 0, offset)
    indent = text[text.rfind("\n", 0, start) + 1 : start]
    for snippet in snippets_for("alembic", "postgresql", context):
        ast.parse(text[:start] + filled(snippet, indent) + text[offset:])


# --------------------------------------------------------------------------- behaviour: Alembic


@pytest.mark.parametrize(
    ("prefix", "avoided", "unsafe"),
    [
        (
            "mig-index-concurrently",
            {"non-concurrent-index", "concurrent-index-in-transaction"},
            'op.create_index("ix", "users", ["email"], postgresql_concurrently=True)',
        ),
        (
            "mig-drop-index-concurrently",
            {"non-concurrent-index-drop", "concurrent-index-in-transaction"},
            'op.drop_index("ix", table_name="users")',
        ),
        (
            "mig-add-column",
            {"add-not-null-column-without-default"},
            'op.add_column("users", sa.Column("email", sa.Text(), nullable=False))',
        ),
        (
            "mig-add-column-default",
            {"add-not-null-column-without-default", "add-column-volatile-default"},
            'op.add_column("users", sa.Column("email", sa.Text(), nullable=False))',
        ),
        (
            "mig-foreign-key",
            {"foreign-key-without-not-valid"},
            'op.create_foreign_key("fk", "orders", "users", ["user_id"], ["id"])',
        ),
        (
            "mig-set-not-null",
            {"set-not-null-on-existing-column", "check-constraint-without-not-valid"},
            'op.alter_column("users", "email", existing_type=sa.Text(), nullable=False)',
        ),
        (
            "mig-rename-column",
            {"rename-column", "add-not-null-column-without-default"},
            'op.alter_column("users", "name", new_column_name="full_name")',
        ),
        (
            "mig-batch-update",
            {"update-with-limit", "unbatched-data-update", "execute-result-used"},
            'if op.execute("UPDATE users SET a = 1 WHERE a IS NULL LIMIT 1000").rowcount:\n'
            "        pass",
        ),
    ],
)
def test_alembic_snippet_avoids_its_rules(prefix: str, avoided: set[str], unsafe: str) -> None:
    assert avoided & set(rules_of(alembic_file(unsafe), "alembic")), "the rules are active"
    found = rules_of(alembic_file(step_snippet("alembic", prefix, "    ")), "alembic")
    assert not avoided & set(found), found


def test_alembic_snippets_are_quiet_together() -> None:
    """A realistic revision built from the step snippets: no findings at all."""
    upgrade = "\n    ".join(
        step_snippet("alembic", prefix, "    ")
        for prefix in (
            "mig-lock-timeout",
            "mig-add-column",
            "mig-index-concurrently",
            "mig-foreign-key",
        )
    )
    assert rules_of(alembic_file(upgrade), "alembic") == []


def test_alembic_batch_update_is_quiet() -> None:
    text = alembic_file(step_snippet("alembic", "mig-batch-update", "    "))
    assert rules_of(text, "alembic") == []
    migration = parse_migration(text, "alembic")
    (update,) = [op for op in migration.operations if type(op).__name__ == "DataChange"]
    assert not update.in_transaction  # each batch commits: autocommit_block


def test_alembic_file_skeleton_has_a_downgrade() -> None:
    text = filled(one("alembic", "mig-file"))
    text = text.replace(
        '"""Upgrade schema."""\n    pass',
        '"""Upgrade schema."""\n    op.add_column("users", sa.Column("email", sa.Text()))',
    )
    text = text.replace(
        '"""Downgrade schema."""\n    pass',
        '"""Downgrade schema."""\n    op.drop_column("users", "email")',
    )
    assert rules_of(text, "alembic") == []
    without_downgrade = text[: text.index("\n\ndef downgrade()")] + "\n"
    assert rules_of(without_downgrade, "alembic") == ["missing-downgrade"]


# --------------------------------------------------------------------------- behaviour: Django


@pytest.mark.parametrize(
    ("prefix", "atomic", "avoided", "unsafe"),
    [
        (
            "mig-index-concurrently",
            False,
            {"non-concurrent-index", "concurrent-index-in-transaction"},
            'migrations.AddIndex(model_name="model", index=models.Index(fields=["note"], '
            'name="ix")),',
        ),
        (
            "mig-drop-index-concurrently",
            False,
            {"non-concurrent-index-drop", "concurrent-index-in-transaction"},
            'migrations.RemoveIndex(model_name="model", name="ix"),',
        ),
        (
            "mig-add-column",
            True,
            {"add-not-null-column-without-default"},
            'migrations.AddField(model_name="model", name="f", field=models.BooleanField()),',
        ),
        (
            "mig-add-column-default",
            True,
            {"add-not-null-column-without-default", "add-column-volatile-default"},
            'migrations.AddField(model_name="model", name="f", field=models.BooleanField()),',
        ),
        (
            "mig-foreign-key",
            True,
            {"foreign-key-without-not-valid", "runsql-without-reverse"},
            'migrations.AddField(model_name="order", name="user", field=models.ForeignKey('
            'on_delete=models.PROTECT, to="app.user", null=True)),',
        ),
        (
            "mig-validate-constraint",
            True,
            {"runsql-without-reverse"},
            'migrations.RunSQL("ALTER TABLE app_model VALIDATE CONSTRAINT c"),',
        ),
        (
            "mig-not-null-check",
            True,
            {"check-constraint-without-not-valid", "runsql-without-reverse"},
            'migrations.RunSQL("ALTER TABLE app_model ADD CONSTRAINT c CHECK (a IS NOT NULL)"),',
        ),
        (
            "mig-set-not-null",
            True,
            {"set-not-null-on-existing-column", "runsql-without-reverse"},
            'migrations.AlterField(model_name="model", name="field_name", '
            "field=models.TextField(null=False)),",
        ),
        (
            "mig-rename-column",
            True,
            {"rename-column", "add-not-null-column-without-default"},
            'migrations.RenameField(model_name="model", old_name="note", new_name="text"),',
        ),
        (
            "mig-lock-timeout",
            True,
            {"runsql-without-reverse"},
            "migrations.RunSQL(\"SET lock_timeout = '5s'\"),",
        ),
    ],
)
def test_django_snippet_avoids_its_rules(
    prefix: str, atomic: bool, avoided: set[str], unsafe: str
) -> None:
    assert avoided & set(rules_of(django_file(unsafe, atomic=atomic), "django"))
    snippet = one("django", prefix, context="step")
    text = django_file(filled(snippet, "        "), imports=snippet.imports, atomic=atomic)
    found = rules_of(text, "django")
    assert not avoided & set(found), found


def test_django_concurrent_index_needs_atomic_false() -> None:
    """The step snippet's comment is not decoration: in an atomic migration it fails."""
    snippet = one("django", "mig-index-concurrently", context="step")
    text = django_file(filled(snippet, "        "), imports=snippet.imports, atomic=True)
    assert "concurrent-index-in-transaction" in rules_of(text, "django")


def test_django_file_index_concurrently_is_quiet() -> None:
    text = filled(one("django", "mig-file-index-concurrently"))
    assert rules_of(text, "django") == []
    atomic = text.replace("    atomic = False\n", "")
    assert "concurrent-index-in-transaction" in rules_of(atomic, "django")


def test_django_file_batch_update_is_quiet() -> None:
    text = filled(one("django", "mig-file-batch-update"))
    assert rules_of(text, "django") == []
    without_reverse = text.replace(", reverse_code=migrations.RunPython.noop", "")
    assert rules_of(without_reverse, "django") == ["runpython-without-reverse"]
    migration = parse_migration(text, "django")
    assert all(not op.in_transaction for op in migration.operations)


def test_django_file_skeleton_with_an_operation() -> None:
    snippet = one("django", "mig-file")
    text = fill_defaults(
        snippet.body.replace("$0", filled(one("django", "mig-add-column", context="step"), " " * 8))
    )
    assert rules_of(text, "django") == []


# --------------------------------------------------------------------------- behaviour: SQL

NON_TRANSACTIONAL = {
    "dbmate": ("-- migrate:up transaction:false\n", "\n-- migrate:down\n"),
    "goose": ("-- +goose NO TRANSACTION\n-- +goose Up\n", "\n-- +goose Down\n"),
    "flyway": ("", ""),
    "golang-migrate": ("", ""),
    "prisma": ("", ""),
    "sql": ("", ""),
}


@pytest.mark.parametrize("tool", SQL_TOOLS)
@pytest.mark.parametrize(
    ("prefix", "avoided"),
    [
        ("mig-index-concurrently", {"non-concurrent-index", "concurrent-index-in-transaction"}),
        (
            "mig-drop-index-concurrently",
            {"non-concurrent-index-drop", "concurrent-index-in-transaction"},
        ),
    ],
)
def test_sql_concurrent_statement_outside_a_transaction(
    tool: str, prefix: str, avoided: set[str]
) -> None:
    """Placed the way its comment says (alone, or under the tool's directive): quiet."""
    head, tail = NON_TRANSACTIONAL[tool]
    text = head + filled(one(tool, prefix, context="statement")) + "\n" + tail
    assert not avoided & set(rules_of(text, tool))


@pytest.mark.parametrize("tool", ["dbmate", "goose"])
def test_sql_concurrent_statement_in_a_default_section_is_flagged(tool: str) -> None:
    """Without the directive its comment asks for, the engine flags it: the comment matters."""
    head = {"dbmate": "-- migrate:up\n", "goose": "-- +goose Up\n"}[tool]
    text = head + filled(one(tool, "mig-index-concurrently", context="statement")) + "\n"
    assert "concurrent-index-in-transaction" in rules_of(text, tool)


@pytest.mark.parametrize("tool", SQL_TOOLS)
def test_sql_file_index_concurrently_is_quiet(tool: str) -> None:
    text = filled(one(tool, "mig-file-index-concurrently"))
    assert rules_of(text, tool) == []
    if tool == "dbmate":
        unsafe = text.replace(" transaction:false", "")
    elif tool == "goose":
        unsafe = text.replace("-- +goose NO TRANSACTION\n", "")
    elif tool == "sql":
        unsafe = "BEGIN;\n" + text + "\nCOMMIT;\n"
    else:  # a second statement puts the file in a transaction
        unsafe = text + "\nALTER TABLE table_name ADD COLUMN note text;\n"
    assert "concurrent-index-in-transaction" in rules_of(unsafe, tool)


@pytest.mark.parametrize("tool", ["dbmate", "goose", "flyway", "golang-migrate", "sql"])
def test_sql_file_batch_update_is_quiet(tool: str) -> None:
    text = filled(one(tool, "mig-file-batch-update"))
    assert "COMMIT;" in text and "EXIT WHEN NOT FOUND;" in text
    assert rules_of(text, tool) == []
    migration = parse_migration(text, tool)
    updates = [op for op in migration.operations if type(op).__name__ == "DataChange"]
    assert len(updates) == 1  # the UPDATE inside the DO block was read
    if tool in ("dbmate", "goose", "golang-migrate"):
        assert not updates[0].in_transaction
    unsafe = re.sub(
        r"UPDATE .*?;",
        "UPDATE table_name SET column_name = 'value' WHERE column_name IS NULL;",
        text,
        flags=re.DOTALL,
    )
    assert "unbatched-data-update" in rules_of(unsafe, tool)


@pytest.mark.parametrize("tool", ["flyway", "sql"])
@pytest.mark.parametrize(
    ("prefix", "avoided", "unsafe"),
    [
        (
            "mig-add-column",
            {"add-not-null-column-without-default"},
            "ALTER TABLE users ADD COLUMN email text NOT NULL;",
        ),
        (
            "mig-add-column-default",
            {"add-not-null-column-without-default", "add-column-volatile-default"},
            "ALTER TABLE users ADD COLUMN id2 uuid NOT NULL DEFAULT gen_random_uuid();",
        ),
        (
            "mig-foreign-key",
            {"foreign-key-without-not-valid"},
            "ALTER TABLE orders ADD CONSTRAINT fk FOREIGN KEY (user_id) REFERENCES users (id);",
        ),
        (
            "mig-not-null-check",
            {"check-constraint-without-not-valid"},
            "ALTER TABLE users ADD CONSTRAINT c CHECK (email IS NOT NULL);",
        ),
        (
            "mig-set-not-null",
            {"set-not-null-on-existing-column"},
            "ALTER TABLE users ALTER COLUMN email SET NOT NULL;",
        ),
        (
            "mig-rename-column",
            {"rename-column"},
            "ALTER TABLE users RENAME COLUMN name TO full_name;",
        ),
        (
            "mig-batch-update",
            {"update-with-limit", "unbatched-data-update"},
            "UPDATE users SET a = 1 WHERE a IS NULL LIMIT 1000;",
        ),
    ],
)
def test_sql_statement_avoids_its_rules(
    tool: str, prefix: str, avoided: set[str], unsafe: str
) -> None:
    assert avoided & set(rules_of(unsafe + "\n", tool))
    text = filled(one(tool, prefix, context="statement")) + "\n"
    found = rules_of(text, tool)
    assert not avoided & set(found), found


def test_sql_statement_snippets_are_quiet_together() -> None:
    statements = [
        filled(one("sql", prefix, context="statement"))
        for prefix in (
            "mig-lock-timeout",
            "mig-create-table",
            "mig-add-column",
            "mig-add-column-default",
            "mig-foreign-key",
            "mig-validate-constraint",
            "mig-not-null-check",
        )
    ]
    assert rules_of("\n".join(statements) + "\n", "sql") == []


@pytest.mark.parametrize("tool", ["dbmate", "goose"])
def test_sql_section_skeletons_hold_statements(tool: str) -> None:
    skeleton = one(tool, "mig-file")
    statement = one(tool, "mig-add-column", context="statement")
    text = fill_defaults(skeleton.body.replace("$0", statement.body))
    assert rules_of(text, tool) == []
    migration = parse_migration(text, tool)
    assert migration.up is not None and migration.down is not None
    assert [type(op).__name__ for op in migration.forward()] == ["AddColumn"]


@pytest.mark.parametrize("tool", ["flyway", "golang-migrate", "prisma", "sql"])
def test_sql_header_skeletons_are_comments(tool: str) -> None:
    text = filled(one(tool, "mig-file"))
    assert all(line.startswith("--") for line in text.splitlines() if line.strip())
    assert rules_of(text, tool) == []


def test_statement_snippets_placed_by_completion_context_parse() -> None:
    """From the cursor answer to the inserted text, for a dbmate file being written."""
    text, offset = at("-- migrate:up\nCREATE TABLE a (id bigint);\nmig|\n\n-- migrate:down\n")
    context = completion_context(text, offset, "dbmate", "sql")
    assert context == "statement"
    start = text.rindex("mig", 0, offset)
    for snippet in snippets_for("dbmate", "postgresql", context):
        inserted = text[:start] + filled(snippet) + text[offset:]
        assert parse_migration(inserted, "dbmate").problems == [], snippet.prefix


def test_snippet_dedent_helper_keeps_relative_indentation() -> None:
    snippet = one("alembic", "mig-batch-update")
    assert snippet.body.split("\n")[1] == "with op.get_context().autocommit_block():"
    assert textwrap.dedent(snippet.body) == snippet.body
