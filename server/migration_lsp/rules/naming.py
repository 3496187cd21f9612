"""File names: the tools that find migrations by name skip or reject the others silently."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path, PurePath

from migration_lsp.findings import Finding
from migration_lsp.model import Severity
from migration_lsp.project.detect import Project, flyway_name_ok
from migration_lsp.rules.base import Context, rule
from migration_lsp.text import Span

_GOLANG_MIGRATE = re.compile(r"^\d+_.*\.(?:up|down)\.[^.]+$")
_DBMATE = re.compile(r"^\d+_.*\.sql$")
_GOOSE = re.compile(r"^\d+_.+\.(?:sql|go)$")
_RAILS = re.compile(r"^\d+_[_a-z0-9]*\.?[_a-z0-9]*\.rb$")
_TIMESTAMPED = re.compile(r"^\d")


def _flyway(name: str, settings: dict[str, object]) -> str | None:
    if flyway_name_ok(name, settings):
        return None
    prefix = str(settings.get("sqlMigrationPrefix", "V"))
    separator = str(settings.get("sqlMigrationSeparator", "__"))
    expected = f"`{prefix}<version>{separator}<description>.sql`"
    version = re.match(rf"^{re.escape(prefix)}\d[\d._]*", name, re.IGNORECASE)
    if name[:1].lower() == prefix[:1].lower() and name[:1] != prefix[:1]:
        hint = f"the prefix is case-sensitive: `{prefix}`, not `{name[:1]}`"
    elif version and separator not in name:
        hint = f"the version and the description are separated by `{separator}`"
    elif not name.lower().endswith(".sql") or not name.endswith(".sql"):
        hint = "the suffix is `.sql`"
    else:
        hint = f"versioned scripts are named {expected}, repeatable ones `R{separator}...sql`"
    return f"Flyway ignores `{name}`: {hint}. The script never runs, with no error."


def problem(tool: str, name: str, settings: dict[str, object]) -> str | None:
    """Why `tool` will skip or reject a migration file called `name` (None: the name is fine)."""
    if tool == "flyway":
        return _flyway(name, settings)
    if tool == "golang-migrate" and not _GOLANG_MIGRATE.match(name):
        return (
            f"golang-migrate ignores `{name}`: files are named "
            "`<version>_<title>.up.sql` and `<version>_<title>.down.sql`."
        )
    if tool == "dbmate" and not _DBMATE.match(name):
        return (
            f"dbmate ignores `{name}`: migration files start with a version (`<version>_...sql`)."
        )
    if tool == "goose" and not _GOOSE.match(name):
        return f"goose rejects `{name}`: migration files are named `<version>_<name>.sql`."
    if tool == "rails" and not _RAILS.match(name):
        return (
            f"Rails rejects `{name}` (ActiveRecord::IllegalMigrationNameError, and no migration "
            "runs): files are named `<timestamp>_<snake_case_name>.rb`."
        )
    if tool in ("knex", "sequelize") and not _TIMESTAMPED.match(name):
        return (
            f"`{name}` has no timestamp prefix: {tool} runs migrations in file-name order, so "
            "this one sorts after every timestamped migration. Create migrations with the "
            "tool's generator."
        )
    return None


@rule(
    "invalid-migration-filename",
    summary="The tool will ignore or reject this migration file because of its name",
    severity=Severity.WARNING,
    category="history",
    anchors={"flyway": "validateMigrationNaming"},
)
def invalid_migration_filename(ctx: Context) -> Iterator[Finding]:
    """
    ## What it does
    Flags a file in a migrations folder whose name the tool will not accept: Flyway scripts not
    named `V<version>__<description>.sql` (one underscore, lower-case `v`), golang-migrate files
    without `.up.sql`/`.down.sql`, dbmate and goose files without a version, Rails files without
    a timestamp, Knex and Sequelize files that do not start with one, and (in `check`) Prisma
    migration folders without their `migration.sql`.

    ## Why is this bad?
    Flyway, golang-migrate and dbmate skip such files without a word: the migration is
    reviewed, merged and never runs. Rails and goose refuse to run any migration. Knex and
    Sequelize run files in name order, so an unprefixed file runs last, out of order.

    ## Example
    ```sql
    -- flyway: db/migration/V3_add_email.sql
    ALTER TABLE users ADD COLUMN email text;
    ```

    ## Use instead
    ```sql
    -- flyway: db/migration/V3__add_email.sql
    ALTER TABLE users ADD COLUMN email text;
    ```

    ## Fix safety
    No automatic fix: rename the file (the editor's rename keeps its history).
    """
    m = ctx.migration
    message = problem(m.tool, PurePath(m.path).name, m.runner)
    if message is None:
        return
    first = m.text.split("\n", 1)[0].rstrip("\r")
    yield ctx.finding(Span(0, len(first)), message)


def folder_problems(project: Project) -> list[tuple[Path, str]]:
    """Problems a project has with a folder rather than a file (`check` reports them on the
    folder; an editor has no file to show them on): a Prisma migration folder without its
    `migration.sql`, which `prisma migrate deploy` rejects (P3015)."""
    if project.tool != "prisma":
        return []
    found: list[tuple[Path, str]] = []
    for directory in project.migration_dirs:
        try:
            folders = sorted(p for p in directory.iterdir() if p.is_dir())
        except OSError:
            continue
        for folder in folders:
            if folder.name.startswith(".") or (folder / "migration.sql").is_file():
                continue
            found.append(
                (
                    folder,
                    f"Prisma migration folder {folder.name} has no migration.sql: `prisma "
                    "migrate deploy` stops with P3015. Restore the file or delete the folder.",
                )
            )
    return found
