"""Every bundled snippet, and which ones to offer for a tool, dialect and cursor context."""

from __future__ import annotations

from collections.abc import Callable

from migration_lsp.snippets import alembic, django, knex, laravel, sequelize, sql, typeorm
from migration_lsp.snippets import liquibase as liquibase_snippets
from migration_lsp.snippets import rails as rails_snippets
from migration_lsp.snippets.model import Snippet, SnippetContext

SNIPPETS: tuple[Snippet, ...] = (
    alembic.SNIPPETS
    + django.SNIPPETS
    + sql.SNIPPETS
    + laravel.SNIPPETS
    + knex.SNIPPETS
    + sequelize.SNIPPETS
    + typeorm.SNIPPETS
    + rails_snippets.SNIPPETS
    + liquibase_snippets.SNIPPETS
)

ContextFinder = Callable[[str, int, int, str], "SnippetContext | None"]
"""`(text, start, end, language)` → the completion context, where `[start, end)` is the word
being typed (see `completion_context`)."""

TOOL_CONTEXTS: dict[str, ContextFinder] = {
    "laravel": laravel.completion_context,
    "rails": rails_snippets.completion_context,
    "liquibase": liquibase_snippets.completion_context,
    "knex": knex.js_context,
    "sequelize": sequelize.js_context,
    "typeorm": typeorm.completion_context,
}
"""Tool → the context finder of its snippet module, for the tools beyond Alembic, Django and
the SQL runners (Rails, Laravel, Knex, TypeORM, Sequelize, Liquibase)."""

TOOL_ALIASES = {"flask-migrate": "alembic"}
"""Tools that write the same files as another tool."""

SECTIONLESS_SQL_TOOLS = frozenset({"flyway", "prisma", "golang-migrate", "sql"})
"""SQL tools whose whole file is the forward step: a statement is also valid at the start of a
new, empty file (dbmate and goose need a section marker first)."""


def snippets_for(
    tool: str, dialect: str | None, context: str, language: str | None = None
) -> list[Snippet]:
    """The snippets to offer for `tool` on `dialect` where the cursor is in `context`
    (`completion_context`'s answer), file skeletons first, in catalogue order.

    A `dialect` of None means "not detected": PostgreSQL, the engine's default, is assumed.
    `language` (the file's) picks between variants of one snippet written for several file
    types (Liquibase XML/YAML/SQL); None offers every variant.
    In the `file` context of a tool without section markers (Flyway, Prisma, golang-migrate,
    plain SQL) the statement snippets are offered too: a statement is a complete migration.
    """
    tool = TOOL_ALIASES.get(tool, tool)
    dialect = dialect or "postgresql"
    contexts = {context}
    if context == "file" and tool in SECTIONLESS_SQL_TOOLS:
        contexts.add("statement")
    found = [
        s
        for s in SNIPPETS
        if s.context in contexts and s.applies_to(tool, dialect) and s.written_for(language)
    ]
    return sorted(found, key=lambda s: s.context != context)
