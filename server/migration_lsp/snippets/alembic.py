"""Alembic snippets: statements for `upgrade()` / `downgrade()`, and a revision file."""

from __future__ import annotations

from migration_lsp.snippets.model import MYSQL, PG, Snippet, body, doc

ALEMBIC = frozenset({"alembic"})
_LOCK_TIMEOUTS = "${1|5s,2s,10s,1s|}"

SNIPPETS: tuple[Snippet, ...] = (
    Snippet(
        prefix="mig-file",
        label="New Alembic revision",
        tools=ALEMBIC,
        context="file",
        detail="Revision file in `alembic revision` style, with upgrade() and downgrade()",
        body=body(
            '''
            """${1:message}

            Revision ID: ${2:revision}
            Revises: ${3:down_revision}
            Create Date: ${4:create_date}

            """
            from typing import Sequence, Union

            from alembic import op
            import sqlalchemy as sa


            # revision identifiers, used by Alembic.
            revision: str = '$2'
            down_revision: Union[str, Sequence[str], None] = '$3'
            branch_labels: Union[str, Sequence[str], None] = None
            depends_on: Union[str, Sequence[str], None] = None


            def upgrade() -> None:
                """Upgrade schema."""
                ${5:pass}


            def downgrade() -> None:
                """Downgrade schema."""
                ${6:pass}
            '''
        ),
        documentation=doc(
            """
            A revision file as `alembic revision -m "..."` writes it: the revision identifiers
            Alembic reads, an `upgrade()` and a `downgrade()`.

            Write the downgrade now, while you know what the upgrade did: a revision without one
            (`missing-downgrade`) or with an empty one (`empty-downgrade`) cannot be rolled back
            when a deploy goes wrong. If the change really cannot be undone, make the downgrade
            `raise NotImplementedError("why")` rather than `pass`.

            The file name must start with the revision id (`<revision>_<slug>.py`). For the first
            revision of a project, set `down_revision = None`.
            """
        ),
        avoids=("missing-downgrade", "empty-downgrade"),
    ),
    Snippet(
        prefix="mig-create-table",
        label="Create table",
        tools=ALEMBIC,
        context="step",
        dialects=frozenset({"postgresql", "mssql", "oracle"}),
        detail="op.create_table with a bigint identity key and a timestamptz column",
        body=body(
            """
            op.create_table(
                "${1:table_name}",
                sa.Column("id", sa.BigInteger(), sa.Identity(), primary_key=True),
                sa.Column("${2:name}", sa.${3:Text}(), nullable=${4|False,True|}),
                sa.Column(
                    "created_at",
                    sa.DateTime(timezone=True),
                    server_default=sa.func.now(),
                    nullable=False,
                ),
            )$0
            """
        ),
        documentation=doc(
            """
            Creates a table with a `bigint` identity primary key (an `integer` key runs out at
            2.1 billion rows: `prefer-bigint-primary-key`) and a `timestamptz` creation time
            (`timestamp` without time zone is ambiguous across time zones:
            `prefer-timestamptz`).

            Creating a table is always safe: it is new and empty, so indexes, constraints and
            NOT NULL columns on it need none of the precautions an existing table needs.
            The downgrade is `op.drop_table("<name>")`.
            """
        ),
        avoids=("prefer-bigint-primary-key", "prefer-timestamptz"),
    ),
    Snippet(
        prefix="mig-create-table",
        label="Create table",
        tools=ALEMBIC,
        context="step",
        dialects=frozenset({"mysql", "sqlite"}),
        detail="op.create_table with an auto-increment bigint key",
        body=body(
            """
            op.create_table(
                "${1:table_name}",
                sa.Column(
                    "id",
                    sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
                    primary_key=True,
                    autoincrement=True,
                ),
                sa.Column("${2:name}", sa.${3:String}(${4:255}), nullable=${5|False,True|}),
                sa.Column(
                    "created_at",
                    sa.DateTime(timezone=True),
                    server_default=sa.func.now(),
                    nullable=False,
                ),
            )$0
            """
        ),
        documentation=doc(
            """
            Creates a table with an auto-increment `BIGINT` primary key (`integer` runs out at
            2.1 billion rows: `prefer-bigint-primary-key`). On SQLite the key is an `INTEGER`,
            the only type SQLite makes an alias of the rowid (a `BIGINT` key would not
            auto-increment there).

            Creating a table is always safe: it is new and empty. The downgrade is
            `op.drop_table("<name>")`.
            """
        ),
        avoids=("prefer-bigint-primary-key",),
    ),
    Snippet(
        prefix="mig-add-column",
        label="Add nullable column",
        tools=ALEMBIC,
        context="step",
        detail="op.add_column with nullable=True (backfill and NOT NULL come later)",
        body=body(
            """
            op.add_column(
                "${1:table_name}",
                sa.Column("${2:column_name}", sa.${3:Text}(), nullable=True),
            )$0
            """
        ),
        documentation=doc(
            """
            Adds a nullable column: a catalogue-only change on PostgreSQL (no table rewrite, the
            ACCESS EXCLUSIVE lock lasts milliseconds), and existing rows are valid as they are.

            A column that must end up NOT NULL is done in three migrations: add it nullable
            (this), backfill it in batches (`mig-batch-update`), then make it NOT NULL without a
            long lock (`mig-set-not-null`). Adding it NOT NULL without a default straight away
            fails on any non-empty table (`add-not-null-column-without-default`).

            The downgrade is `op.drop_column("<table>", "<column>")`.
            """
        ),
        avoids=("add-not-null-column-without-default",),
    ),
    Snippet(
        prefix="mig-add-column-default",
        label="Add NOT NULL column with a server default",
        tools=ALEMBIC,
        context="step",
        detail="op.add_column with nullable=False and a constant server_default",
        body=body(
            """
            op.add_column(
                "${1:table_name}",
                sa.Column(
                    "${2:column_name}",
                    sa.${3:Boolean}(),
                    nullable=False,
                    server_default=${4:sa.false()},
                ),
            )$0
            """
        ),
        documentation=doc(
            """
            Adds a NOT NULL column with a **server** default: the database fills existing rows
            with it, so the migration works on a non-empty table
            (`add-not-null-column-without-default`). SQLAlchemy's `default=` would not help: the
            database never sees it.

            Keep the default a constant (or `now()`): since PostgreSQL 11 it is stored once in
            the catalogue, no rewrite. A volatile default (`gen_random_uuid()`, `random()`,
            `clock_timestamp()`) rewrites the whole table under an exclusive lock
            (`add-column-volatile-default`). Text defaults are written as strings:
            `server_default=""`.
            """
        ),
        avoids=("add-not-null-column-without-default", "add-column-volatile-default"),
    ),
    Snippet(
        prefix="mig-index-concurrently",
        label="Create index concurrently",
        tools=ALEMBIC,
        context="step",
        dialects=PG,
        detail="op.create_index(postgresql_concurrently=True) inside autocommit_block()",
        body=body(
            """
            with op.get_context().autocommit_block():
                op.create_index(
                    "${1:ix_table_column}",
                    "${2:table_name}",
                    ["${3:column_name}"],
                    unique=${4|False,True|},
                    postgresql_concurrently=True,
                    if_not_exists=True,
                )$0
            """
        ),
        documentation=doc(
            """
            Builds the index with `CREATE INDEX CONCURRENTLY`: writes to the table continue
            while it builds (`non-concurrent-index`). PostgreSQL refuses CONCURRENTLY inside a
            transaction, and Alembic runs migrations in one, so the call sits in
            `op.get_context().autocommit_block()`, which commits the migration's transaction
            first and runs the block outside it (`concurrent-index-in-transaction`).

            `if_not_exists` (Alembic 1.12+) makes the migration re-runnable after a partial
            failure. A failed concurrent build leaves an INVALID index behind: drop it
            (`mig-drop-index-concurrently`) before running the migration again.

            The downgrade drops it the same way: `mig-drop-index-concurrently`.
            """
        ),
        avoids=("non-concurrent-index", "concurrent-index-in-transaction"),
    ),
    Snippet(
        prefix="mig-drop-index-concurrently",
        label="Drop index concurrently",
        tools=ALEMBIC,
        context="step",
        dialects=PG,
        detail="op.drop_index(postgresql_concurrently=True) inside autocommit_block()",
        body=body(
            """
            with op.get_context().autocommit_block():
                op.drop_index(
                    "${1:ix_table_column}",
                    table_name="${2:table_name}",
                    postgresql_concurrently=True,
                    if_exists=True,
                )$0
            """
        ),
        documentation=doc(
            """
            Drops the index with `DROP INDEX CONCURRENTLY`, which does not take the ACCESS
            EXCLUSIVE lock a plain `DROP INDEX` holds while it waits for running queries
            (`non-concurrent-index-drop`). It cannot run in a transaction, hence the
            `autocommit_block()` (`concurrent-index-in-transaction`).
            """
        ),
        avoids=("non-concurrent-index-drop", "concurrent-index-in-transaction"),
    ),
    Snippet(
        prefix="mig-foreign-key",
        label="Add foreign key NOT VALID, then VALIDATE",
        tools=ALEMBIC,
        context="step",
        dialects=PG,
        detail="ADD CONSTRAINT ... NOT VALID, then VALIDATE CONSTRAINT outside the transaction",
        body=body(
            """
            # NOT VALID: only new rows are checked, no scan while both tables are locked.
            op.execute(
                "ALTER TABLE ${1:orders} ADD CONSTRAINT ${2:orders_user_id_fkey} "
                "FOREIGN KEY (${3:user_id}) REFERENCES ${4:users} (${5:id}) NOT VALID"
            )
            # VALIDATE after the commit: scans existing rows without blocking writes.
            with op.get_context().autocommit_block():
                op.execute("ALTER TABLE $1 VALIDATE CONSTRAINT $2")$0
            """
        ),
        documentation=doc(
            """
            Adds a foreign key in two steps. `ADD CONSTRAINT ... NOT VALID` only checks rows
            written from now on, so it takes its lock for milliseconds; `VALIDATE CONSTRAINT`
            then checks the existing rows under a SHARE UPDATE EXCLUSIVE lock, which lets reads
            and writes continue (`foreign-key-without-not-valid`).

            The validation must not run in the transaction that added the constraint (it would
            hold that transaction's lock for the whole scan): `autocommit_block()` commits
            first. `op.create_foreign_key` has no NOT VALID, hence `op.execute`.

            The downgrade is `op.drop_constraint("<name>", "<table>", type_="foreignkey")`.
            """
        ),
        avoids=("foreign-key-without-not-valid",),
    ),
    Snippet(
        prefix="mig-validate-constraint",
        label="Validate a NOT VALID constraint",
        tools=ALEMBIC,
        context="step",
        dialects=PG,
        detail="ALTER TABLE ... VALIDATE CONSTRAINT (no blocking lock)",
        body=body(
            """
            op.execute("ALTER TABLE ${1:table_name} VALIDATE CONSTRAINT ${2:constraint_name}")$0
            """
        ),
        documentation=doc(
            """
            Validates a constraint added earlier with `NOT VALID` (`mig-foreign-key`): scans
            the table under a SHARE UPDATE EXCLUSIVE lock, so reads and writes continue. Run it
            in a later migration than the `ADD CONSTRAINT ... NOT VALID`, or after an
            `autocommit_block()`, never in the same transaction (`foreign-key-without-not-valid`,
            `check-constraint-without-not-valid`).
            """
        ),
        avoids=("foreign-key-without-not-valid", "check-constraint-without-not-valid"),
    ),
    Snippet(
        prefix="mig-set-not-null",
        label="Set NOT NULL via a validated CHECK",
        tools=ALEMBIC,
        context="step",
        dialects=PG,
        detail="CHECK (col IS NOT NULL) NOT VALID → VALIDATE → SET NOT NULL → drop the CHECK",
        body=body(
            """
            # 1. CHECK ... NOT VALID: a short lock, no scan.
            op.execute(
                "ALTER TABLE ${1:table_name} ADD CONSTRAINT ${3:table_column_not_null} "
                "CHECK (${2:column_name} IS NOT NULL) NOT VALID"
            )
            # 2. VALIDATE after the commit: scans without blocking reads or writes.
            with op.get_context().autocommit_block():
                op.execute("ALTER TABLE $1 VALIDATE CONSTRAINT $3")
            # 3. SET NOT NULL uses the validated CHECK instead of scanning (PostgreSQL 12+).
            op.alter_column("$1", "$2", existing_type=${4:sa.Text()}, nullable=False)
            # 4. The CHECK is redundant now.
            op.drop_constraint("$3", "$1", type_="check")$0
            """
        ),
        documentation=doc(
            """
            Makes an existing column NOT NULL without the full-table scan under an ACCESS
            EXCLUSIVE lock that `ALTER COLUMN ... SET NOT NULL` does on its own
            (`set-not-null-on-existing-column`):

            1. `ADD CONSTRAINT ... CHECK (col IS NOT NULL) NOT VALID`: instant.
            2. `VALIDATE CONSTRAINT`, after committing step 1: scans under a lock that lets
               reads and writes continue (`check-constraint-without-not-valid`).
            3. `SET NOT NULL`: PostgreSQL 12+ sees the validated CHECK and skips the scan.
            4. Drop the now redundant CHECK.

            Backfill the NULLs first (`mig-batch-update`), or step 2 fails. The downgrade is
            `op.alter_column("<table>", "<column>", existing_type=..., nullable=True)`.
            """
        ),
        avoids=("set-not-null-on-existing-column", "check-constraint-without-not-valid"),
    ),
    Snippet(
        prefix="mig-rename-column",
        label="Rename column by expand/contract (step 1)",
        tools=ALEMBIC,
        context="step",
        detail="Add the new column; the comment lists the remaining steps",
        body=body(
            """
            # Rename ${1:table_name}.${2:old_name} to ${3:new_name} without breaking running code:
            #   1. This migration: add $3, nullable.
            #   2. Release code that writes both columns and still reads $2.
            #   3. Backfill $3 from $2 in batches (mig-batch-update).
            #   4. Release code that reads $3 and no longer uses $2.
            #   5. Later migrations: make $3 NOT NULL if needed (mig-set-not-null), drop $2.
            op.add_column("$1", sa.Column("$3", ${4:sa.Text()}, nullable=True))$0
            """
        ),
        documentation=doc(
            """
            Renaming a column in place (`alter_column(new_column_name=...)`) breaks every query
            of the application version still running during the deploy (`rename-column`).
            Expand/contract does it without downtime: add the new column, write to both,
            backfill, switch reads, then drop the old column in a later release. This snippet
            writes the first step (a nullable column: `add-not-null-column-without-default`) and
            lists the others.

            The downgrade of this step is `op.drop_column("<table>", "<new_name>")`.
            """
        ),
        avoids=("rename-column", "add-not-null-column-without-default"),
    ),
    Snippet(
        prefix="mig-batch-update",
        label="Batched data update",
        tools=ALEMBIC,
        context="step",
        dialects=frozenset({"postgresql", "sqlite"}),
        detail="UPDATE in batches of n rows, each committed on its own",
        body=body(
            """
            # Each batch commits on its own: row locks are held one batch at a time.
            with op.get_context().autocommit_block():
                connection = op.get_bind()
                while True:
                    result = connection.execute(
                        sa.text(
                            "UPDATE ${1:table_name} SET ${2:column_name} = ${3:'value'} "
                            "WHERE id IN (SELECT id FROM $1 WHERE $2 IS NULL "
                            "ORDER BY id LIMIT :batch_size)"
                        ),
                        {"batch_size": ${4:1000}},
                    )
                    # The WHERE must stop matching updated rows, or the loop never ends.
                    if result.rowcount == 0:
                        break$0
            """
        ),
        documentation=doc(
            """
            Updates a large table in batches instead of one statement that locks every row
            until it commits (`unbatched-data-update`). Three details matter:

            - PostgreSQL has no `UPDATE ... LIMIT`: the batch is chosen by a subquery,
              `WHERE id IN (SELECT id ... LIMIT :batch_size)` (`update-with-limit`).
            - `op.execute()` returns None, so the row count comes from
              `op.get_bind().execute(sa.text(...))` (`execute-result-used`), with the batch size
              as a bound parameter rather than formatted into the SQL (`sql-string-formatting`).
            - The batches commit one by one inside `autocommit_block()`; in the migration's
              transaction the row locks would add up until the end anyway.

            Put data changes in a migration of their own, not next to schema changes
            (`mixed-schema-and-data-change`).
            """
        ),
        avoids=(
            "unbatched-data-update",
            "update-with-limit",
            "execute-result-used",
            "sql-string-formatting",
        ),
    ),
    Snippet(
        prefix="mig-lock-timeout",
        label="SET lock_timeout",
        tools=ALEMBIC,
        context="step",
        dialects=PG,
        detail="Give up instead of queueing every query behind a blocked ALTER",
        body=body(
            f"""
            op.execute("SET lock_timeout = '{_LOCK_TIMEOUTS}'")$0
            """
        ),
        documentation=doc(
            """
            An `ALTER TABLE` waiting for its ACCESS EXCLUSIVE lock (behind a long query) makes
            every later query on the table wait behind it: a short outage. With `lock_timeout`
            the migration fails fast instead, and can simply be retried (`missing-lock-timeout`).
            Put it first in `upgrade()`.
            """
        ),
        avoids=("missing-lock-timeout",),
    ),
    Snippet(
        prefix="mig-lock-timeout",
        label="SET lock_wait_timeout",
        tools=ALEMBIC,
        context="step",
        dialects=MYSQL,
        detail="Give up instead of queueing every query behind a blocked ALTER",
        body=body(
            """
            op.execute("SET SESSION lock_wait_timeout = ${1|5,2,10|}")$0
            """
        ),
        documentation=doc(
            """
            An `ALTER TABLE` waiting for its metadata lock makes every later query on the table
            wait behind it. `lock_wait_timeout` (seconds) makes the migration fail fast instead
            (`missing-lock-timeout`). Put it first in `upgrade()`.
            """
        ),
        avoids=("missing-lock-timeout",),
    ),
)
