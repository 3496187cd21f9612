"""Parsers: one per tool family, all producing `model.Migration`."""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import Any

from migration_lsp.model import Migration, ParseProblem, language_of
from migration_lsp.text import Span

SQL_TOOLS = frozenset({"flyway", "prisma", "golang-migrate", "dbmate", "goose", "sql"})

Parser = Callable[[str, str, "str | None", "dict[str, Any] | None"], Migration]
"""`(path, text, dialect, settings) -> Migration`."""

TOOL_PARSERS: dict[str, str] = {
    "knex": "migration_lsp.parse.knex:parse_knex",
    "rails": "migration_lsp.parse.rails:parse_rails",
    "sequelize": "migration_lsp.parse.sequelize:parse_sequelize",
    "laravel": "migration_lsp.parse.laravel:parse_laravel",
    "liquibase": "migration_lsp.parse.liquibase:parse_liquibase",
    "typeorm": "migration_lsp.parse.typeorm:parse_typeorm",
}
"""Tool → `module:function` of its parser (a `Parser`), imported on first use, for the tools
beyond Alembic, Django and the SQL runners."""

PARSED_TOOLS = frozenset({"alembic", "django", *TOOL_PARSERS}) | SQL_TOOLS


def parse_migration(
    path: str,
    text: str,
    tool: str,
    dialect: str | None,
    settings: dict[str, Any] | None = None,
    flavor: str | None = None,
) -> Migration | None:
    """Parse one migration file of `tool`; None when no parser exists for the tool yet."""
    try:
        migration = _parse(path, text, tool, dialect, settings, flavor)
    except RecursionError:  # code nested deeper than a parser's recursive walk can follow
        migration = _too_deep(path, text, tool, dialect)
    if migration is not None and settings:
        migration.runner = {k: v for k, v in settings.items() if k in _RUNNER_KEYS}
    return migration


def _too_deep(path: str, text: str, tool: str, dialect: str | None) -> Migration:
    """A file the parser could not walk: one parse problem instead of an exception."""
    language = "sql" if tool in SQL_TOOLS else language_of(path)
    problem = ParseProblem(
        span=Span(0, 0),
        message="Code nested too deeply to analyse: the file was not checked",
    )
    return Migration(
        path=path, text=text, tool=tool, dialect=dialect, language=language, problems=[problem]
    )


_RUNNER_KEYS = frozenset(
    {
        "lock_timeout",
        "transactional_ddl",
        "transaction_per_migration",
        # Flyway's naming settings, for invalid-migration-filename
        "sqlMigrationPrefix",
        "undoSqlMigrationPrefix",
        "repeatableSqlMigrationPrefix",
        "sqlMigrationSeparator",
    }
)


def _parse(
    path: str,
    text: str,
    tool: str,
    dialect: str | None,
    settings: dict[str, Any] | None,
    flavor: str | None,
) -> Migration | None:
    if tool in TOOL_PARSERS:
        module, _, function = TOOL_PARSERS[tool].partition(":")
        parser: Parser = getattr(importlib.import_module(module), function)
        return parser(path, text, dialect, settings)
    if tool == "alembic":
        from migration_lsp.parse.alembic import parse_alembic

        return parse_alembic(path, text, dialect, settings)
    if tool == "django":
        from migration_lsp.parse.django import parse_django

        return parse_django(path, text, dialect, settings)
    if tool in SQL_TOOLS or path.endswith(".sql"):
        from migration_lsp.parse.sql_files import parse_sql_migration

        return parse_sql_migration(path, text, tool, dialect, settings, flavor)
    return None
