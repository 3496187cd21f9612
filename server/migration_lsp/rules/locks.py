"""Locks and downtime: statements that block a busy table, or fail at run time."""

from __future__ import annotations

import re
from collections.abc import Iterator

from migration_lsp.findings import Finding
from migration_lsp.model import (
    AddColumn,
    AddConstraint,
    AlterColumn,
    CreateIndex,
    DropColumn,
    DropConstraint,
    DropIndex,
    DropTable,
    Operation,
    RenameColumn,
    RenameTable,
    SetSetting,
    Severity,
    Truncate,
    ValidateConstraint,
)
from migration_lsp.rules.base import PG, Context, rule, table_key


def _existing(ctx: Context, op: Operation, table: str | None) -> bool:
    return not ctx.is_new_table(table, op)


@rule(
    "non-concurrent-index",
    summary="CREATE INDEX without CONCURRENTLY blocks writes to the table",
    severity=Severity.WARNING,
    category="locks",
    dialects=PG,
    fix="use-concurrently",
    anchors={
        "squawk": "require-concurrent-index-creation",
        "strong_migrations": "add_index",
        "django-migration-linter": "CREATE_INDEX",
        "atlas": "PG101",
        "alembic-guard": "AG002",
    },
    subjects=(CreateIndex,),
)
def non_concurrent_index(ctx: Context) -> Iterator[Finding]:
    """
    ## What it does
    Flags index creation on an existing PostgreSQL table that is not concurrent: Alembic
    `op.create_index` without `postgresql_concurrently=True`, Django `AddIndex` (and the index
    Django builds for a new `ForeignKey` or `db_index=True` field), Rails `add_index` without
    `algorithm: :concurrently`, `CREATE INDEX` without `CONCURRENTLY`.

    ## Why is this bad?
    A plain `CREATE INDEX` takes a SHARE lock: every INSERT, UPDATE and DELETE on the table waits
    until the whole index is built, which takes minutes on a large table.

    ## Example
    ```sql
    -- flyway: db/migration/V2__index_users_email.sql
    CREATE INDEX ix_users_email ON users (email);
    ```

    ```python
    # alembic: alembic/versions/3f2a1b9c4d5e_index_users_email.py
    def upgrade():
        op.create_index("ix_users_email", "users", ["email"])
    ```

    ```python
    # django: shop/migrations/0003_order_created_index.py
    from django.db import migrations, models


    class Migration(migrations.Migration):
        dependencies = [("shop", "0002_order")]
        operations = [
            migrations.AddIndex("order", models.Index(fields=["created"], name="created_idx")),
        ]
    ```

    ```ruby
    # rails: db/migrate/20240501120000_index_users_on_email.rb
    class IndexUsersOnEmail < ActiveRecord::Migration[7.1]
      def change
        add_index :users, :email
      end
    end
    ```

    ## Use instead
    Build the index `CONCURRENTLY`, outside a transaction (a concurrent build cannot run inside
    one). In a SQL file that the runner does not wrap in a transaction (golang-migrate runs a file
    of one statement as it is):

    ```sql
    -- golang-migrate: db/migrations/000002_index_users_email.up.sql
    CREATE INDEX CONCURRENTLY IF NOT EXISTS ix_users_email ON users (email);
    ```

    Alembic, in an autocommit block:

    ```python
    # alembic: alembic/versions/3f2a1b9c4d5e_index_users_email.py
    def upgrade():
        with op.get_context().autocommit_block():
            op.create_index(
                "ix_users_email",
                "users",
                ["email"],
                postgresql_concurrently=True,
                if_not_exists=True,
            )
    ```

    Django, with `AddIndexConcurrently` in a non-atomic migration:

    ```python
    # django: shop/migrations/0003_order_created_index.py
    from django.contrib.postgres.operations import AddIndexConcurrently
    from django.db import migrations, models


    class Migration(migrations.Migration):
        atomic = False
        dependencies = [("shop", "0002_order")]
        operations = [
            AddIndexConcurrently("order", models.Index(fields=["created"], name="created_idx")),
        ]
    ```

    Rails, with `algorithm: :concurrently` and no DDL transaction:

    ```ruby
    # rails: db/migrate/20240501120000_index_users_on_email.rb
    class IndexUsersOnEmail < ActiveRecord::Migration[7.1]
      disable_ddl_transaction!

      def change
        add_index :users, :email, algorithm: :concurrently
      end
    end
    ```

    ## Fix safety
    Safe: same index, built without blocking writes. The fix also moves the statement out of the
    migration's transaction where the tool requires it.
    """
    for op in ctx.of(CreateIndex):
        if not isinstance(op, CreateIndex) or op.concurrently:
            continue
        if not _existing(ctx, op, op.table):
            continue
        if op.implicit:
            message = (
                f"This also builds an index on '{op.table}' without CONCURRENTLY, blocking writes "
                "while it builds. Add the field with db_index=False and create the index in a "
                "separate AddIndexConcurrently operation (atomic = False)."
            )
        else:
            message = (
                f"Creating index{_named(op.name)} on '{op.table}' without CONCURRENTLY blocks "
                "writes to the table until it is built. Create it concurrently, outside a "
                "transaction."
            )
        yield ctx.finding(op, message, part="keyword")


@rule(
    "non-concurrent-index-drop",
    summary="DROP INDEX without CONCURRENTLY blocks reads and writes",
    severity=Severity.WARNING,
    category="locks",
    dialects=PG,
    fix="use-concurrently",
    anchors={
        "squawk": "require-concurrent-index-deletion",
        "strong_migrations": "remove_index",
        "django-migration-linter": "DROP_INDEX",
        "atlas": "PG102",
    },
    subjects=(DropIndex,),
)
def non_concurrent_index_drop(ctx: Context) -> Iterator[Finding]:
    """
    ## What it does
    Flags `DROP INDEX` (Alembic `op.drop_index`, Django `RemoveIndex`) without CONCURRENTLY.

    ## Why is this bad?
    A plain `DROP INDEX` takes an ACCESS EXCLUSIVE lock on the table: while it waits for running
    queries to finish, every new query on the table queues behind it.

    ## Example
    ```sql
    -- flyway: db/migration/V3__drop_users_email_index.sql
    DROP INDEX ix_users_email;
    ```

    ```python
    # alembic: alembic/versions/4b5c6d7e8f90_drop_users_email_index.py
    def upgrade():
        op.drop_index("ix_users_email", table_name="users")
    ```

    ## Use instead
    ```sql
    -- golang-migrate: db/migrations/000003_drop_users_email_index.up.sql
    DROP INDEX CONCURRENTLY IF EXISTS ix_users_email;
    ```

    ```python
    # alembic: alembic/versions/4b5c6d7e8f90_drop_users_email_index.py
    def upgrade():
        with op.get_context().autocommit_block():
            op.drop_index(
                "ix_users_email", table_name="users", postgresql_concurrently=True, if_exists=True
            )
    ```
    (Django: `RemoveIndexConcurrently` in a migration with `atomic = False`; Rails:
    `remove_index ..., algorithm: :concurrently` with `disable_ddl_transaction!`.)

    ## Fix safety
    Safe: the index is dropped all the same, without blocking.
    """
    for op in ctx.of(DropIndex):
        if isinstance(op, DropIndex) and not op.concurrently and _existing(ctx, op, op.table):
            yield ctx.finding(
                op,
                f"Dropping index{_named(op.name)} without CONCURRENTLY takes an ACCESS EXCLUSIVE "
                "lock that blocks every query on the table. Drop it concurrently, outside a "
                "transaction.",
                part="keyword",
            )


@rule(
    "concurrent-index-in-transaction",
    summary="A CONCURRENTLY operation that will run inside a transaction and fail",
    severity=Severity.ERROR,
    category="locks",
    dialects=PG,
    fix="run-outside-transaction",
    anchors={
        "squawk": "ban-concurrent-index-creation-in-transaction",
        "atlas": "PG103",
        "alembic-guard": "AG003",
    },
    subjects=(CreateIndex, DropIndex),
)
def concurrent_index_in_transaction(ctx: Context) -> Iterator[Finding]:
    """
    ## What it does
    Flags `CREATE INDEX CONCURRENTLY` / `DROP INDEX CONCURRENTLY` that the migration tool will run
    inside a transaction: Alembic outside `autocommit_block()`, a Django migration without
    `atomic = False`, Rails without `disable_ddl_transaction!`, SQL between BEGIN and COMMIT, and
    SQL files that the runner wraps in a transaction (Flyway, dbmate, goose by default; Prisma and
    golang-migrate when the file holds several statements).

    ## Why is this bad?
    PostgreSQL refuses: `CREATE INDEX CONCURRENTLY cannot run inside a transaction block`. The
    deploy fails at this migration, possibly after earlier statements of a non-transactional
    tool already ran.

    ## Example
    ```python
    # alembic: alembic/versions/3f2a1b9c4d5e_index_users_email.py
    def upgrade():
        op.create_index("ix_users_email", "users", ["email"], postgresql_concurrently=True)
    ```

    ```sql
    -- flyway: db/migration/V2__index_users_email.sql
    CREATE INDEX CONCURRENTLY ix_users_email ON users (email);
    ALTER TABLE users ADD COLUMN nickname text;
    ```

    ```ruby
    # rails: db/migrate/20240501120000_index_users_on_email.rb
    class IndexUsersOnEmail < ActiveRecord::Migration[7.1]
      def change
        add_index :users, :email, algorithm: :concurrently
      end
    end
    ```

    ## Use instead
    ```python
    # alembic: alembic/versions/3f2a1b9c4d5e_index_users_email.py
    def upgrade():
        with op.get_context().autocommit_block():
            op.create_index("ix_users_email", "users", ["email"], postgresql_concurrently=True)
    ```

    In SQL, one statement in a file the runner does not wrap in a transaction (golang-migrate), or
    goose's `NO TRANSACTION`:

    ```sql
    -- goose: db/migrations/20240501120000_index_users_email.sql
    -- +goose NO TRANSACTION
    -- +goose Up
    CREATE INDEX CONCURRENTLY IF NOT EXISTS ix_users_email ON users (email);
    ```

    ```ruby
    # rails: db/migrate/20240501120000_index_users_on_email.rb
    class IndexUsersOnEmail < ActiveRecord::Migration[7.1]
      disable_ddl_transaction!

      def change
        add_index :users, :email, algorithm: :concurrently
      end
    end
    ```
    (Django: `atomic = False` on the migration.)

    ## Fix safety
    Safe for the statement itself; statements moved out of the transaction no longer roll back
    with the rest of the migration.
    """
    for op in ctx.of(CreateIndex, DropIndex):
        if isinstance(op, CreateIndex | DropIndex) and op.concurrently and op.in_transaction:
            verb = "Creating" if isinstance(op, CreateIndex) else "Dropping"
            yield ctx.finding(
                op,
                f"{verb} an index CONCURRENTLY inside a transaction fails at run time "
                "(CONCURRENTLY cannot run in a transaction block). "
                + _outside_transaction_hint(ctx),
                part="concurrently",
            )


def _outside_transaction_hint(ctx: Context) -> str:
    tool = ctx.migration.tool
    hints = {
        "alembic": "Run it inside `with op.get_context().autocommit_block():`.",
        "django": "Set `atomic = False` on the Migration class.",
        "rails": "Add `disable_ddl_transaction!` to the migration class.",
        "flyway": "Give the script `executeInTransaction=false` in its script config file.",
        "dbmate": "Mark the section `-- migrate:up transaction:false`.",
        "goose": "Add `-- +goose NO TRANSACTION` at the top of the file.",
        "golang-migrate": "Put the statement alone in its own migration file.",
        "prisma": "Put the statement alone in its own migration.",
        "laravel": "Add `public $withinTransaction = false;` to the migration class.",
        "liquibase": 'Set `runInTransaction="false"` on the changeSet, with this statement '
        "alone in it.",
        "typeorm": "Set `transaction = false` on the migration class (TypeORM 0.3.11+, "
        'migrationsTransactionMode "each" or "none").',
    }
    return hints.get(tool, "Run it outside BEGIN/COMMIT.")


@rule(
    "add-not-null-column-without-default",
    summary="Adding a NOT NULL column without a default to an existing table",
    severity=Severity.ERROR,
    category="locks",
    fix="add-server-default",
    anchors={
        "squawk": "adding-required-field",
        "django-migration-linter": "NOT_NULL",
        "atlas": "MF103, MY101",
        "alembic-guard": "AG001",
    },
    subjects=(AddColumn,),
)
def add_not_null_column_without_default(ctx: Context) -> Iterator[Finding]:
    """
    ## What it does
    Flags adding a NOT NULL column with no database default to a table that already exists:
    Alembic `sa.Column(..., nullable=False)` without `server_default`, a Django field without
    `null=True`, `default` or `db_default`, `ADD COLUMN ... NOT NULL` without `DEFAULT`.

    ## Why is this bad?
    Existing rows have no value for the column: the migration fails on any non-empty table
    (PostgreSQL, SQLite), or fills in implicit values silently (MySQL). The Python-side
    `default=` of SQLAlchemy does not help: the database never sees it.

    ## Example
    ```python
    # alembic: alembic/versions/3f2a1b9c4d5e_add_email.py
    def upgrade():
        op.add_column("users", sa.Column("email", sa.String(255), nullable=False))
    ```

    ```sql
    -- flyway: db/migration/V2__add_email.sql
    ALTER TABLE users ADD COLUMN email text NOT NULL;
    ```

    ## Use instead
    Add it with a server default, or in three steps: add it nullable, backfill in batches, then
    make it NOT NULL.

    ```python
    # alembic: alembic/versions/3f2a1b9c4d5e_add_email.py
    def upgrade():
        op.add_column(
            "users", sa.Column("email", sa.String(255), nullable=False, server_default="")
        )
    ```

    ```sql
    -- flyway: db/migration/V2__add_email.sql
    ALTER TABLE users ADD COLUMN email text NOT NULL DEFAULT '';
    ```
    (Django: `db_default=""` on the field, Django 5.0+; Rails: `default: ""` on `add_column`.)

    ## Fix safety
    Adding `server_default` is marked unsafe: the default value is a choice only you can make.
    """
    for op in ctx.of(AddColumn):
        if not isinstance(op, AddColumn):
            continue
        col = op.column
        if col.nullable or col.default is not None or col.identity or col.serial:
            continue
        if col.generated_stored or not _existing(ctx, op, op.table):
            continue
        yield ctx.finding(
            op,
            f"Adding NOT NULL column '{col.name}' to existing table '{op.table}' without a "
            "database default fails on a non-empty table. Add a server default, or add it "
            "nullable, backfill, then set NOT NULL.",
            part="column",
        )


@rule(
    "set-not-null-on-existing-column",
    summary="Making an existing column NOT NULL scans the table under an exclusive lock",
    severity=Severity.WARNING,
    category="locks",
    dialects=PG,
    fix="not-null-via-check-constraint",
    anchors={
        "squawk": "adding-not-nullable-field",
        "strong_migrations": "change_column_null_postgresql",
        "atlas": "MF104, PG303",
        "alembic-guard": "AG007",
    },
)
def set_not_null_on_existing_column(ctx: Context) -> Iterator[Finding]:
    """
    ## What it does
    Flags `ALTER COLUMN ... SET NOT NULL` (Alembic `alter_column(..., nullable=False)`, a Django
    `AlterField` that drops `null=True`) on an existing table.

    ## Why is this bad?
    PostgreSQL checks every row while holding an ACCESS EXCLUSIVE lock: no reads or writes on the
    table until the scan ends.

    ## Example
    ```sql
    -- flyway: db/migration/V4__require_email.sql
    ALTER TABLE users ALTER COLUMN email SET NOT NULL;
    ```

    ```python
    # alembic: alembic/versions/5c6d7e8f9a0b_require_email.py
    def upgrade():
        op.alter_column("users", "email", existing_type=sa.Text(), nullable=False)
    ```

    ## Use instead
    A CHECK constraint added `NOT VALID` takes only a brief lock; `VALIDATE CONSTRAINT` scans the
    table without blocking reads or writes; from PostgreSQL 12, `SET NOT NULL` then uses the
    validated constraint instead of scanning:

    ```sql
    -- flyway: db/migration/V4__require_email.sql
    ALTER TABLE users ADD CONSTRAINT users_email_not_null CHECK (email IS NOT NULL) NOT VALID;
    ```

    ```sql
    -- flyway: db/migration/V5__validate_email_not_null.sql
    ALTER TABLE users VALIDATE CONSTRAINT users_email_not_null;
    ALTER TABLE users ALTER COLUMN email SET NOT NULL;
    ALTER TABLE users DROP CONSTRAINT users_email_not_null;
    ```

    From PostgreSQL 18 (`postgres-version = 18`) a NOT NULL constraint itself can be added
    `NOT VALID` and validated later: `ALTER TABLE users ADD CONSTRAINT users_email_not_null NOT
    NULL email NOT VALID;` then `VALIDATE CONSTRAINT` in another transaction.

    ## Fix safety
    The rewrite keeps the result (a NOT NULL column) and is marked safe.
    """
    checks = {
        (table_key(op.table), (op.name or "").lower()): (op.expression or "").lower()
        for op in ctx.of(AddConstraint)
        if op.kind == "check"
    }
    validated: list[tuple[str, str]] = []
    for op in ctx.of(ValidateConstraint, AlterColumn):
        if isinstance(op, ValidateConstraint):
            validated.append((table_key(op.table), op.name.lower()))
        if not isinstance(op, AlterColumn) or op.nullable is not False:
            continue
        if op.old_nullable is False or not _existing(ctx, op, op.table):
            continue
        if any(
            _proves_not_null(checks, key, op.column.lower())
            for key in validated
            if key[0] == table_key(op.table)
        ):
            continue  # the CHECK (col IS NOT NULL) NOT VALID + VALIDATE pattern came first
        yield ctx.finding(
            op,
            f"Setting NOT NULL on '{op.table}.{op.column}' scans the whole table under an ACCESS "
            "EXCLUSIVE lock (blocks reads and writes). "
            + (
                f"On PostgreSQL {ctx.postgres_version}, add it as ALTER TABLE ... ADD CONSTRAINT "
                "... NOT NULL ... NOT VALID, then VALIDATE CONSTRAINT in another transaction."
                if ctx.postgres_version >= 18
                else "Add a CHECK (... IS NOT NULL) NOT VALID constraint, VALIDATE it, then SET "
                "NOT NULL."
            ),
            part="nullable" if "nullable" in op.spans else "column",
        )


def _proves_not_null(checks: dict[tuple[str, str], str], key: tuple[str, str], column: str) -> bool:
    """A validated CHECK constraint that says `column IS NOT NULL`: defined in this migration,
    or defined in an earlier one and named like it (after the column, or `..._not_null`)."""
    expression = checks.get(key)
    if expression is None:
        name = key[1]
        return column in name or "null" in name or name.endswith(("_nn", "_check"))
    return column in expression and ("is not null" in expression or "isnull=false" in expression)


@rule(
    "add-column-volatile-default",
    summary="A column default that must be computed per row rewrites the whole table",
    severity=Severity.WARNING,
    category="locks",
    dialects=PG,
    anchors={
        "squawk": "adding-field-with-default",
        "strong_migrations": "add_column_default",
        "atlas": "PG302",
        "alembic-guard": "AG009",
    },
    subjects=(AddColumn,),
)
def add_column_volatile_default(ctx: Context) -> Iterator[Finding]:
    """
    ## What it does
    Flags adding a column to an existing table with a volatile default: `random()`,
    `gen_random_uuid()`, `uuid_generate_v4()`, `clock_timestamp()`, `nextval()`, ...

    ## Why is this bad?
    Since PostgreSQL 11 a constant or STABLE default (`0`, `''`, `now()`) is stored once in the
    catalogue: no rewrite. A volatile default differs per row, so PostgreSQL rewrites the whole
    table under an ACCESS EXCLUSIVE lock. With `postgres-version` below 11 every default is
    flagged: those versions rewrite the table for any default.

    ## Example
    ```sql
    -- flyway: db/migration/V6__orders_public_id.sql
    ALTER TABLE orders ADD COLUMN public_id uuid DEFAULT gen_random_uuid();
    ```

    ## Use instead
    ```sql
    -- flyway: db/migration/V6__orders_public_id.sql
    ALTER TABLE orders ADD COLUMN public_id uuid;
    ALTER TABLE orders ALTER COLUMN public_id SET DEFAULT gen_random_uuid();  -- new rows only
    ```
    then backfill the existing rows in batches, in a migration of its own.

    ## Fix safety
    No automatic fix: the backfill has to be written for the table.
    """
    old_postgres = ctx.postgres_version < 11
    for op in ctx.of(AddColumn):
        if not isinstance(op, AddColumn) or op.column.default is None:
            continue
        if old_postgres and _existing(ctx, op, op.table):
            yield ctx.finding(
                op,
                f"Before PostgreSQL 11 any default rewrites the table: adding "
                f"'{op.column.name}' with a default rewrites all of '{op.table}' under an ACCESS "
                "EXCLUSIVE lock (blocks reads and writes). Add the column without a default, set "
                "the default afterwards, and backfill in batches.",
                part="server_default" if "server_default" in op.spans else "column",
            )
            continue
        function = op.column.default.volatile_function
        if function and _existing(ctx, op, op.table):
            yield ctx.finding(
                op,
                f"Default {function}() is volatile: adding '{op.column.name}' rewrites all of "
                f"'{op.table}' under an ACCESS EXCLUSIVE lock. Add the column without a default, "
                "set the default afterwards, and backfill in batches.",
                part="server_default" if "server_default" in op.spans else "column",
            )


_VARCHAR = re.compile(r"^(?:character varying|varchar)(?:\((\d+)\))?$")
_NUMERIC = re.compile(r"^(?:numeric|decimal)(?:\((\d+)(?:,\s*(\d+))?\))?$")


def _rewrite_free(old: str | None, new: str | None) -> bool:
    """Type changes PostgreSQL does without rewriting or scanning the table."""
    if not old or not new:
        return False
    old, new = old.replace(" ", ""), new.replace(" ", "")
    if old == new:
        return True
    old_var, new_var = _VARCHAR.match(old), _VARCHAR.match(new)
    if old_var and (new == "text" or (new_var and not new_var.group(1))):
        return True
    if old_var and new_var and old_var.group(1) and new_var.group(1):
        return int(new_var.group(1)) >= int(old_var.group(1))
    old_num, new_num = _NUMERIC.match(old), _NUMERIC.match(new)
    if old_num and new_num:
        if not new_num.group(1):
            return True
        if old_num.group(1) and (old_num.group(2) or "0") == (new_num.group(2) or "0"):
            return int(new_num.group(1)) >= int(old_num.group(1))
    return False


@rule(
    "change-column-type",
    summary="Changing a column's type rewrites the table and breaks running code",
    severity=Severity.WARNING,
    category="locks",
    anchors={
        "squawk": "changing-column-type",
        "strong_migrations": "change_column",
        "django-migration-linter": "ALTER_COLUMN",
        "atlas": "PG301",
        "alembic-guard": "AG006",
    },
    subjects=(AlterColumn,),
)
def change_column_type(ctx: Context) -> Iterator[Finding]:
    """
    ## What it does
    Flags changing the type of an existing column (`ALTER COLUMN ... TYPE`, Alembic
    `alter_column(type_=...)`, a Django `AlterField` whose type differs from the previous state).
    Changes PostgreSQL makes without a rewrite (`varchar(n)` → `varchar(m)` with m ≥ n or `text`,
    a wider `numeric`) are not flagged when the old type is known.

    ## Why is this bad?
    Most type changes rewrite the table and its indexes under an ACCESS EXCLUSIVE lock, and the
    application version still running during the deploy reads and writes the old type.

    ## Example
    ```python
    # alembic: alembic/versions/6d7e8f9a0b1c_widen_age.py
    def upgrade():
        op.alter_column("users", "age", type_=sa.BigInteger(), existing_type=sa.Integer())
    ```

    ## Use instead
    Expand and contract: add a new column of the new type, write to both, backfill in batches,
    switch reads, then drop the old column in a later migration. The first step:

    ```python
    # alembic: alembic/versions/6d7e8f9a0b1c_add_age_bigint.py
    def upgrade():
        op.add_column("users", sa.Column("age_bigint", sa.BigInteger(), nullable=True))
    ```

    Changes PostgreSQL makes in the catalogue only (a longer `varchar`, `varchar` to `text`) are
    not flagged when the old type is known:

    ```python
    # alembic: alembic/versions/7a8b9c0d1e2f_longer_names.py
    def upgrade():
        op.alter_column(
            "users", "name", type_=sa.String(200), existing_type=sa.String(100)
        )
    ```

    ## Fix safety
    No automatic fix.
    """
    for op in ctx.of(AlterColumn):
        if not isinstance(op, AlterColumn) or op.new_type is None or not op.type_change_known:
            continue
        if _rewrite_free(op.old_type, op.new_type) or not _existing(ctx, op, op.table):
            continue
        was = f" from {op.old_type}" if op.old_type else ""
        yield ctx.finding(
            op,
            f"Changing the type of '{op.table}.{op.column}'{was} to {op.new_type} rewrites the "
            "table under an exclusive lock and breaks code still using the old type. Add a new "
            "column, backfill it, and switch over instead.",
            part="type_" if "type_" in op.spans else "column",
        )


def _constraint_columns(ctx: Context, kind: str) -> Iterator[tuple[Operation, str, str | None]]:
    """(operation, table, name) for every constraint of `kind` added to an existing table,
    whether written as a constraint or inline on a new column."""
    implicit_at = {op.span for op in ctx.of(AddConstraint) if op.kind == kind}
    for op in ctx.of(AddConstraint, AddColumn):
        if isinstance(op, AddConstraint) and op.kind == kind:
            if not op.not_valid and not op.using_index and _existing(ctx, op, op.table):
                yield op, op.table, op.name
        elif isinstance(op, AddColumn) and op.span not in implicit_at:
            col = op.column
            inline = {
                "foreign_key": col.references is not None,
                "unique": col.unique,
                "primary_key": col.primary_key,
            }.get(kind, False)
            if inline and _existing(ctx, op, op.table):
                yield op, op.table, None


@rule(
    "foreign-key-without-not-valid",
    summary="Adding a FOREIGN KEY without NOT VALID locks both tables while it scans",
    severity=Severity.WARNING,
    category="locks",
    dialects=PG,
    fix="split-not-valid",
    anchors={
        "squawk": "adding-foreign-key-constraint",
        "strong_migrations": "add_foreign_key",
        "atlas": "PG306",
        "alembic-guard": "AG008",
    },
)
def foreign_key_without_not_valid(ctx: Context) -> Iterator[Finding]:
    """
    ## What it does
    Flags a foreign key added to an existing table without `NOT VALID` (Alembic
    `create_foreign_key`, a new column with `sa.ForeignKey`, a Django `ForeignKey` field,
    `ADD CONSTRAINT ... FOREIGN KEY` / `REFERENCES` in SQL).

    ## Why is this bad?
    Validating the constraint reads the whole table while holding a SHARE ROW EXCLUSIVE lock on
    both tables: writes to both wait until it finishes.

    ## Example
    ```sql
    -- flyway: db/migration/V8__orders_user_fk.sql
    ALTER TABLE orders ADD CONSTRAINT fk_orders_user FOREIGN KEY (user_id) REFERENCES users (id);
    ```

    ```ruby
    # rails: db/migrate/20240501120000_add_users_fk_to_orders.rb
    class AddUsersFkToOrders < ActiveRecord::Migration[7.1]
      def change
        add_foreign_key :orders, :users
      end
    end
    ```

    ## Use instead
    Add the constraint `NOT VALID` (a brief lock, no scan), then validate it in a separate
    migration: `VALIDATE CONSTRAINT` scans without blocking writes.

    ```sql
    -- flyway: db/migration/V8__orders_user_fk.sql
    ALTER TABLE orders ADD CONSTRAINT fk_orders_user
        FOREIGN KEY (user_id) REFERENCES users (id) NOT VALID;
    ```

    ```sql
    -- flyway: db/migration/V9__validate_orders_user_fk.sql
    ALTER TABLE orders VALIDATE CONSTRAINT fk_orders_user;
    ```

    ```ruby
    # rails: db/migrate/20240501120000_add_users_fk_to_orders.rb
    class AddUsersFkToOrders < ActiveRecord::Migration[7.1]
      def change
        add_foreign_key :orders, :users, validate: false
      end
    end
    ```
    (then `validate_foreign_key :orders, :users` in the next migration).

    ## Fix safety
    Safe: the same constraint, validated without blocking writes.
    """
    for op, table, name in _constraint_columns(ctx, "foreign_key"):
        yield ctx.finding(
            op,
            f"Adding foreign key{_named(name)} to '{table}' validates every row while blocking "
            "writes to both tables. Add it NOT VALID, then VALIDATE CONSTRAINT in a separate "
            "migration.",
            part="name" if "name" in op.spans else "column",
        )
    yield from _validated_in_same_transaction(ctx, "foreign_key")


@rule(
    "check-constraint-without-not-valid",
    summary="Adding a CHECK constraint without NOT VALID scans the table under a lock",
    severity=Severity.WARNING,
    category="locks",
    dialects=PG,
    fix="split-not-valid",
    anchors={
        "squawk": "constraint-missing-not-valid",
        "strong_migrations": "add_check_constraint",
        "atlas": "PG305",
        "alembic-guard": "AG008",
    },
)
def check_constraint_without_not_valid(ctx: Context) -> Iterator[Finding]:
    """
    ## What it does
    Flags a CHECK constraint added to an existing table without `NOT VALID` (Alembic
    `create_check_constraint`, Django `AddConstraint(CheckConstraint)`, SQL
    `ADD CONSTRAINT ... CHECK`).

    ## Why is this bad?
    PostgreSQL checks every row while holding an ACCESS EXCLUSIVE lock.

    ## Example
    ```sql
    -- flyway: db/migration/V10__positive_total.sql
    ALTER TABLE orders ADD CONSTRAINT positive_total CHECK (total >= 0);
    ```

    ## Use instead
    ```sql
    -- flyway: db/migration/V10__positive_total.sql
    ALTER TABLE orders ADD CONSTRAINT positive_total CHECK (total >= 0) NOT VALID;
    ```

    ```sql
    -- flyway: db/migration/V11__validate_positive_total.sql
    ALTER TABLE orders VALIDATE CONSTRAINT positive_total;
    ```

    ## Fix safety
    Safe: the same constraint, validated without blocking reads and writes.
    """
    for op, table, name in _constraint_columns(ctx, "check"):
        yield ctx.finding(
            op,
            f"Adding CHECK constraint{_named(name)} to '{table}' scans every row under an ACCESS "
            "EXCLUSIVE lock. Add it NOT VALID, then VALIDATE CONSTRAINT separately.",
            part="name",
        )
    yield from _validated_in_same_transaction(ctx, "check")


def _validated_in_same_transaction(ctx: Context, kind: str) -> Iterator[Finding]:
    """`ADD ... NOT VALID` then `VALIDATE CONSTRAINT` in one transaction: the ADD's lock is held
    for the whole validation scan, so nothing was gained."""
    added = {
        (op.table.lower(), (op.name or "").lower()): op
        for op in ctx.of(AddConstraint)
        if op.kind == kind and op.not_valid and op.in_transaction
    }
    for op in ctx.of(ValidateConstraint):
        if not isinstance(op, ValidateConstraint) or not op.in_transaction:
            continue
        adding = added.get((op.table.lower(), op.name.lower()))
        if adding is not None and ctx.transaction_of(adding) == ctx.transaction_of(op):
            yield ctx.finding(
                op,
                f"VALIDATE CONSTRAINT '{op.name}' runs in the same transaction that added it NOT "
                "VALID: the lock taken by ADD CONSTRAINT is held for the whole scan. Validate it "
                "in a separate migration (or after a commit).",
                part="name",
            )


@rule(
    "unique-constraint-without-index",
    summary="Adding a UNIQUE or PRIMARY KEY constraint builds its index under an exclusive lock",
    severity=Severity.WARNING,
    category="locks",
    dialects=PG,
    fix="unique-using-index",
    anchors={
        "squawk": "disallowed-unique-constraint, adding-serial-primary-key-field",
        "strong_migrations": "add_unique_constraint",
        "django-migration-linter": "ADD_UNIQUE",
        "atlas": "PG104, PG105",
        "alembic-guard": "AG010",
    },
)
def unique_constraint_without_index(ctx: Context) -> Iterator[Finding]:
    """
    ## What it does
    Flags a UNIQUE constraint or PRIMARY KEY added to an existing table without an index built
    beforehand (`ADD CONSTRAINT ... UNIQUE (col)`, Alembic `create_unique_constraint` /
    `create_primary_key`, Django `AddConstraint(UniqueConstraint)`, `unique=True` on a new field).

    ## Why is this bad?
    PostgreSQL builds the unique index while holding an ACCESS EXCLUSIVE lock: reads and writes
    wait for the whole build.

    ## Example
    ```sql
    -- flyway: db/migration/V12__unique_email.sql
    ALTER TABLE users ADD CONSTRAINT users_email_key UNIQUE (email);
    ```

    ## Use instead
    Build the unique index concurrently first, then attach it (a catalogue change):

    ```sql
    -- golang-migrate: db/migrations/000012_unique_email_index.up.sql
    CREATE UNIQUE INDEX CONCURRENTLY IF NOT EXISTS users_email_key ON users (email);
    ```

    ```sql
    -- golang-migrate: db/migrations/000013_unique_email.up.sql
    ALTER TABLE users ADD CONSTRAINT users_email_key UNIQUE USING INDEX users_email_key;
    ```

    ## Fix safety
    Safe: the same constraint; the index is built first without blocking.
    """
    for kind, label in (("unique", "UNIQUE constraint"), ("primary_key", "PRIMARY KEY")):
        for op, table, name in _constraint_columns(ctx, kind):
            yield ctx.finding(
                op,
                f"Adding {label}{_named(name)} to '{table}' builds its index under an ACCESS "
                "EXCLUSIVE lock. Create a unique index CONCURRENTLY first, then add the "
                "constraint USING INDEX.",
                part="name" if "name" in op.spans else "column",
            )


def _named(name: str | None) -> str:
    return f" '{name}'" if name else ""


def _takes_strong_lock(op: Operation) -> bool:
    """ALTER TABLE and friends: they queue behind running transactions and block everything
    queued after them while they wait."""
    if isinstance(op, DropIndex):
        return not op.concurrently
    if isinstance(op, CreateIndex):
        return not op.concurrently
    return isinstance(
        op,
        AddColumn
        | AlterColumn
        | AddConstraint
        | DropColumn
        | DropConstraint
        | DropTable
        | RenameColumn
        | RenameTable
        | Truncate,
    )


@rule(
    "missing-lock-timeout",
    summary="Locking statements without a lock_timeout set first",
    severity=Severity.INFO,
    category="locks",
    dialects=PG,
    fix="set-lock-timeout",
    anchors={"squawk": "require-timeout-settings"},
)
def missing_lock_timeout(ctx: Context) -> Iterator[Finding]:
    """
    ## What it does
    Flags a migration that takes strong locks on an existing table (ALTER TABLE, DROP, a
    non-concurrent index) without setting `lock_timeout` first — in the migration itself, or
    for every migration (Alembic `env.py`, Django `DATABASES` options).

    ## Why is this bad?
    `ALTER TABLE` waits for every running transaction on the table. While it waits, every new
    query on the table queues behind it: one slow report query turns a millisecond migration into
    an outage. With a `lock_timeout` the migration gives up after a few seconds instead, and can
    be retried.

    ## Example
    ```sql
    -- flyway: db/migration/V13__add_nickname.sql
    ALTER TABLE users ADD COLUMN nickname text;
    ```

    ## Use instead
    ```sql
    -- flyway: db/migration/V13__add_nickname.sql
    SET lock_timeout = '5s';
    ALTER TABLE users ADD COLUMN nickname text;
    ```

    In Alembic, once for every migration in `env.py` (`context.execute("SET lock_timeout =
    '5s'")` before `context.run_migrations()`), or in the migration:

    ```python
    # alembic: alembic/versions/7e8f9a0b1c2d_add_nickname.py
    def upgrade():
        op.execute("SET LOCAL lock_timeout = '5s'")
        op.add_column("users", sa.Column("nickname", sa.Text(), nullable=True))
    ```

    ## Fix safety
    Inserting `SET lock_timeout` is marked unsafe: the migration can now fail (and be retried)
    instead of waiting.
    """
    if ctx.migration.runner.get("lock_timeout"):
        return
    op = ctx.fact(_first_unguarded_lock)
    if op is not None:
        yield ctx.finding(
            op,
            "This migration locks an existing table without a lock_timeout: while it waits "
            "for running transactions, every query on the table queues behind it. Set "
            "lock_timeout (e.g. SET lock_timeout = '5s') before the first locking statement.",
            part="keyword",
        )


def _first_unguarded_lock(ctx: Context) -> Operation | None:
    """The first judged operation taking a strong lock on an existing table before any
    `SET lock_timeout`, or None. The finding depends on it alone: an edit after it (or one
    that leaves it equal) changes nothing (see `Context.fact`)."""
    for op in ctx.operations():
        if isinstance(op, SetSetting) and op.name == "lock_timeout":
            return None
        if _takes_strong_lock(op) and _existing(ctx, op, _table_of(op)):
            return op
    return None


def _table_of(op: Operation) -> str | None:
    table = getattr(op, "table", None)
    if isinstance(op, Truncate):
        return op.tables[0] if op.tables else None
    return table if isinstance(table, str) else None
