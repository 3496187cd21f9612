"""Small helpers shared by the rule, suppression and config tests.

Migration texts are written the way the tools write them (`alembic revision` header, SQL files),
parsed with the real parsers and checked with the real engine, so the tests see what a user sees.
"""

from __future__ import annotations

import textwrap
from pathlib import Path
from typing import Any

from migration_lsp.findings import Finding
from migration_lsp.model import Migration
from migration_lsp.parse.alembic import parse_alembic
from migration_lsp.parse.sql_files import parse_sql_migration
from migration_lsp.project.config import Config, parse_options

ALEMBIC_TEMPLATE = '''"""{message}

Revision ID: 3f2a1b4c5d6e
Revises: 9c8b7a6d5e4f
Create Date: 2024-05-14 10:21:33.123456

"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa
{imports}

# revision identifiers, used by Alembic.
revision: str = '3f2a1b4c5d6e'
down_revision: Union[str, None] = '9c8b7a6d5e4f'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
{upgrade}


def downgrade() -> None:
{downgrade}
'''

IRREVERSIBLE = 'raise NotImplementedError("this migration cannot be undone")'
"""A non-empty downgrade, so reversibility rules stay quiet in tests about other rules."""

DEFAULT_PATHS = {
    "alembic": "migrations/versions/3f2a1b4c5d6e_change.py",
    "flyway": "db/migration/V2__change.sql",
    "prisma": "prisma/migrations/20240514102133_change/migration.sql",
    "golang-migrate": "migrations/000002_change.up.sql",
    "dbmate": "db/migrations/20240514102133_change.sql",
    "goose": "migrations/00002_change.sql",
    "sql": "migrations/002_change.sql",
}

SQL_TOOLS = ("flyway", "prisma", "golang-migrate", "dbmate", "goose", "sql")


def _block(code: str) -> str:
    return textwrap.indent(textwrap.dedent(code).strip("\n"), "    ")


def alembic(
    upgrade: str,
    downgrade: str = IRREVERSIBLE,
    *,
    imports: str = "",
    message: str = "change users",
) -> str:
    """An Alembic revision file with these `upgrade()` / `downgrade()` bodies (dedented)."""
    return ALEMBIC_TEMPLATE.format(
        message=message,
        imports=imports,
        upgrade=_block(upgrade),
        downgrade=_block(downgrade),
    )


def alembic_without_downgrade(upgrade: str) -> str:
    text = alembic(upgrade)
    return text[: text.index("\n\ndef downgrade()")] + "\n"


def sql_file(tool: str, up: str, down: str | None = None) -> str:
    """A SQL migration as `tool` expects it: dbmate and goose get their section markers."""
    up = textwrap.dedent(up).strip("\n") + "\n"
    down = textwrap.dedent(down).strip("\n") + "\n" if down is not None else None
    if tool == "dbmate":
        return f"-- migrate:up\n{up}\n-- migrate:down\n{down or ''}"
    if tool == "goose":
        return f"-- +goose Up\n{up}\n-- +goose Down\n{down or ''}"
    return up


QUIET_BY_DEFAULT = (
    "missing-lock-timeout",
    "statements-after-access-exclusive",
    "prefer-robust-statements",
    "foreign-key-without-index",
    "prefer-timestamptz",
    "row-by-row-data-migration",
)
"""Rules that fire on almost every ALTER: other rules' tests leave them out unless they name
them (`select`/`ignore`); their own tests select them."""


def config(**options: Any) -> Config:
    """A `Config` from option names with `_` for `-` (`check_downgrade=True`); `quiet=(...)`
    replaces the rules left out by default (`quiet=()`: the real default rule set)."""
    quiet = tuple(options.pop("quiet", QUIET_BY_DEFAULT))
    named = {key.replace("_", "-"): value for key, value in options.items()}
    if quiet and not {"ignore", "select", "extend-select"} & set(named):
        named["ignore"] = list(quiet)
    return parse_options(named)


def parse(
    text: str,
    tool: str = "alembic",
    dialect: str | None = "postgresql",
    path: str | Path | None = None,
    settings: dict[str, Any] | None = None,
) -> Migration:
    name = str(path) if path is not None else DEFAULT_PATHS[tool]
    if tool == "alembic":
        return parse_alembic(name, text, dialect, settings or {})
    return parse_sql_migration(name, text, tool, dialect, settings or {}, None)


def analyse(migration: Migration, settings: Config) -> list[Finding]:
    """The engine's `analyse`, imported late: the engine pulls in project detection."""
    from migration_lsp.engine import analyse as engine_analyse

    return engine_analyse(migration, settings)


def check(
    text: str,
    tool: str = "alembic",
    dialect: str | None = "postgresql",
    path: str | Path | None = None,
    settings: dict[str, Any] | None = None,
    **options: Any,
) -> list[Finding]:
    """Parse `text` as a `tool` migration and run the engine on it."""
    return analyse(parse(text, tool, dialect, path, settings), config(**options))


def findings(
    text: str,
    tool: str = "alembic",
    dialect: str | None = "postgresql",
    path: str | Path | None = None,
    settings: dict[str, Any] | None = None,
    **options: Any,
) -> list[tuple[str, str]]:
    """(rule id, text under the finding's range) for every finding, in the engine's order."""
    return [
        (f.rule, text[f.span.start : f.span.end])
        for f in check(text, tool, dialect, path, settings, **options)
    ]


def rules(
    text: str,
    tool: str = "alembic",
    dialect: str | None = "postgresql",
    path: str | Path | None = None,
    settings: dict[str, Any] | None = None,
    **options: Any,
) -> list[str]:
    return [rule for rule, _ in findings(text, tool, dialect, path, settings, **options)]


def position(text: str, needle: str, occurrence: int = 0) -> tuple[int, int]:
    """0-based (line, code-point column) of `needle` in `text`."""
    offset = -1
    for _ in range(occurrence + 1):
        offset = text.index(needle, offset + 1)
    line = text.count("\n", 0, offset)
    column = offset - (text.rfind("\n", 0, offset) + 1)
    return line, column
