"""Liquibase changelogs → `Migration`, by format: XML, YAML, JSON, formatted SQL.

Every format gives the same model: one `Changeset` per changeSet (label `changeSet 3 (alice)`,
identity (id, author), its written rollback), its changes as operations (`runInTransaction`
decides `in_transaction`; by default each changeSet runs in its own transaction), and the
rollback's changes as the DOWN step. Liquibase has no file-wide reverse step
(`supports_down` is False): rollbacks are per changeSet, judged by changeset-without-rollback.

`includes()` lists what a changelog includes, for project detection.
"""

from __future__ import annotations

from typing import Any

from migration_lsp.model import Migration, language_of
from migration_lsp.parse.liquibase_changes import Changelog, Include, build


def parse_liquibase(
    path: str, text: str, dialect: str | None, settings: dict[str, Any] | None = None
) -> Migration:
    language = language_of(path)
    migration = Migration(
        path=path,
        text=text,
        tool="liquibase",
        dialect=dialect,
        language=language if language in ("xml", "yaml", "json", "sql") else "xml",
        supports_down=False,
        transactional=True,
    )
    if migration.language == "sql":
        from migration_lsp.parse.liquibase_sql import parse_formatted_sql

        parse_formatted_sql(migration)
        return migration
    build(migration, read_changelog(path, text))
    return migration


def read_changelog(path: str, text: str) -> Changelog:
    """The element tree of an XML, YAML or JSON changelog (empty for other files)."""
    language = language_of(path)
    if language == "xml":
        from migration_lsp.parse.liquibase_xml import read_xml

        return read_xml(text)
    if language == "yaml":
        from migration_lsp.parse.liquibase_yaml import read_yaml

        return read_yaml(text)
    if language == "json":
        from migration_lsp.parse.liquibase_yaml import read_json

        return read_json(text)
    return Changelog()


def includes(path: str, text: str) -> list[Include]:
    """The `include` and `includeAll` entries of a changelog, in order (none when it does
    not parse)."""
    changelog = read_changelog(path, text)
    return [] if changelog.problems else changelog.includes
