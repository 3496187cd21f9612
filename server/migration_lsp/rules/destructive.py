"""Renames and drops: changes that lose data or break the application version still running."""

from __future__ import annotations

from collections.abc import Iterator

from migration_lsp.findings import Finding
from migration_lsp.model import DropColumn, DropTable, RenameColumn, RenameTable, Severity, Truncate
from migration_lsp.rules.base import Context, rule


@rule(
    "rename-column",
    summary="Renaming a column breaks the application version still running",
    severity=Severity.WARNING,
    category="locks",
    anchors={
        "squawk": "renaming-column",
        "strong_migrations": "rename_column",
        "django-migration-linter": "RENAME_COLUMN",
        "atlas": "BC102",
        "alembic-guard": "AG004",
    },
    subjects=(RenameColumn,),
)
def rename_column(ctx: Context) -> Iterator[Finding]:
    """
    ## What it does
    Flags renaming a column of an existing table (`RENAME COLUMN`, Alembic
    `alter_column(new_column_name=...)`, Django `RenameField`).

    ## Why is this bad?
    During a deploy the old application version keeps running; every query it makes with the
    old name fails from the moment the migration commits until the last old process stops.

    ## Example
    ```sql
    -- flyway: db/migration/V14__rename_name.sql
    ALTER TABLE users RENAME COLUMN name TO full_name;
    ```

    ## Use instead
    Expand and contract: add the new column, write to both, backfill, switch reads to the new
    column, stop writing the old one, and drop it in a later release. The first step:

    ```sql
    -- flyway: db/migration/V14__add_full_name.sql
    ALTER TABLE users ADD COLUMN full_name text;
    ```

    ## Fix safety
    No automatic fix.
    """
    for op in ctx.of(RenameColumn):
        if isinstance(op, RenameColumn) and not ctx.is_new_table(op.table, op):
            yield ctx.finding(
                op,
                f"Renaming '{op.table}.{op.column}' to '{op.new_name}' breaks running code that "
                "still uses the old name. Add a new column, copy the data, switch, then drop.",
                part="column",
            )


@rule(
    "rename-table",
    summary="Renaming a table breaks the application version still running",
    severity=Severity.WARNING,
    category="locks",
    anchors={
        "squawk": "renaming-table",
        "strong_migrations": "rename_table",
        "django-migration-linter": "RENAME_TABLE",
        "atlas": "BC101",
        "alembic-guard": "AG004",
    },
)
def rename_table(ctx: Context) -> Iterator[Finding]:
    """
    ## What it does
    Flags renaming an existing table (`ALTER TABLE ... RENAME TO`, Alembic `rename_table`,
    Django `RenameModel` / `AlterModelTable`).

    ## Why is this bad?
    Running code keeps using the old name and fails until every process has been replaced.

    ## Example
    ```python
    # alembic: alembic/versions/8f9a0b1c2d3e_rename_customers.py
    def upgrade():
        op.rename_table("customers", "clients")
    ```

    ## Use instead
    Create the new table, write to both, backfill, switch reads, then drop the old table; or keep
    the table's name and rename only the model class (Django: `db_table = "shop_customer"`). The
    first step:

    ```python
    # alembic: alembic/versions/8f9a0b1c2d3e_create_clients.py
    def upgrade():
        op.create_table(
            "clients",
            sa.Column("id", sa.BigInteger(), primary_key=True),
            sa.Column("name", sa.Text(), nullable=False),
        )
    ```

    ## Fix safety
    No automatic fix.
    """
    for op in ctx.of(RenameTable):
        if isinstance(op, RenameTable) and not ctx.is_new_table(op.table, op):
            yield ctx.finding(
                op,
                f"Renaming table '{op.table}' to '{op.new_name}' breaks running code that still "
                "uses the old name.",
                part="table",
            )


@rule(
    "drop-column",
    summary="Dropping a column loses its data and breaks code still reading it",
    severity=Severity.WARNING,
    category="locks",
    anchors={
        "squawk": "ban-drop-column",
        "strong_migrations": "remove_column",
        "django-migration-linter": "DROP_COLUMN",
        "atlas": "DS103",
        "alembic-guard": "AG005",
    },
    subjects=(DropColumn,),
)
def drop_column(ctx: Context) -> Iterator[Finding]:
    """
    ## What it does
    Flags dropping a column (`DROP COLUMN`, Alembic `drop_column`, Django `RemoveField`).

    ## Why is this bad?
    The data is gone, with no downgrade that can bring it back, and the application version
    still running selects the column (ORMs list every mapped column) and fails.

    ## Example
    ```python
    # alembic: alembic/versions/9a0b1c2d3e4f_drop_legacy_name.py
    def upgrade():
        op.drop_column("users", "legacy_name")
    ```

    ## Use instead
    First release code that no longer uses the column (Rails: `ignored_columns`; Django: remove
    the field from the model state only, with `SeparateDatabaseAndState`), then drop it in a later
    migration, after a backup, saying that it is intended:

    ```python
    # alembic: alembic/versions/9a0b1c2d3e4f_drop_legacy_name.py
    def upgrade():
        # legacy_name unused since release 42; backed up in s3://backups/users_legacy_name.csv
        op.drop_column("users", "legacy_name")  # migration-lsp: ignore[drop-column]
    ```

    ## Fix safety
    No automatic fix.
    """
    for op in ctx.of(DropColumn):
        if isinstance(op, DropColumn) and not ctx.is_new_table(op.table, op):
            yield ctx.finding(
                op,
                f"Dropping '{op.table}.{op.column}' deletes its data and breaks running code that "
                "still reads it. Stop using it in a release first, then drop it.",
                part="column",
            )


@rule(
    "drop-table",
    summary="Dropping a table loses its data",
    severity=Severity.WARNING,
    category="locks",
    anchors={
        "squawk": "ban-drop-table",
        "django-migration-linter": "DROP_TABLE",
        "atlas": "DS102",
        "alembic-guard": "AG005",
    },
    subjects=(DropTable,),
)
def drop_table(ctx: Context) -> Iterator[Finding]:
    """
    ## What it does
    Flags dropping a table (`DROP TABLE`, Alembic `drop_table`, Django `DeleteModel`) that the
    same migration did not create.

    ## Why is this bad?
    Every row is lost and no downgrade can restore it; code still using the table fails.

    ## Example
    ```sql
    -- flyway: db/migration/V15__drop_audit_log.sql
    DROP TABLE audit_log;
    ```

    ## Use instead
    Stop using the table in a release first, take a backup, then drop it in its own migration
    and say that it is intended:

    ```sql
    -- flyway: db/migration/V15__drop_audit_log.sql
    -- unused since release 42, archived to s3://backups/audit_log.csv
    DROP TABLE audit_log;  -- migration-lsp: ignore[drop-table]
    ```

    ## Fix safety
    No automatic fix.
    """
    for op in ctx.of(DropTable):
        if isinstance(op, DropTable) and not ctx.is_new_table(op.table, op):
            yield ctx.finding(
                op,
                f"Dropping table '{op.table}' deletes all its rows; no downgrade can restore them.",
                part="table",
            )


@rule(
    "truncate-table",
    summary="TRUNCATE deletes every row under an ACCESS EXCLUSIVE lock",
    severity=Severity.WARNING,
    category="locks",
    anchors={"squawk": "ban-truncate-cascade"},
    subjects=(Truncate,),
)
def truncate_table(ctx: Context) -> Iterator[Finding]:
    """
    ## What it does
    Flags `TRUNCATE` in a migration.

    ## Why is this bad?
    It deletes every row (and with CASCADE, rows of referencing tables) under an ACCESS
    EXCLUSIVE lock; a downgrade cannot bring the data back.

    ## Example
    ```sql
    -- flyway: db/migration/V16__clear_sessions.sql
    TRUNCATE sessions;
    ```

    ## Use instead
    Delete in bounded batches, or leave clearing data to an operational task rather than a
    migration:

    ```sql
    -- flyway: db/migration/V16__clear_old_sessions.sql
    DELETE FROM sessions
    WHERE id IN (SELECT id FROM sessions WHERE expires_at < now() ORDER BY id LIMIT 10000);
    ```

    ## Fix safety
    No automatic fix.
    """
    for op in ctx.of(Truncate):
        if isinstance(op, Truncate):
            tables = ", ".join(f"'{t}'" for t in op.tables)
            yield ctx.finding(
                op, f"TRUNCATE {tables} deletes every row under an ACCESS EXCLUSIVE lock."
            )
