"""SQL snippets for the SQL-file tools (Flyway, Prisma, golang-migrate, dbmate, goose, plain).

Statements are shared by every SQL tool; what differs per tool is how a statement gets out of
the runner's transaction (CONCURRENTLY, COMMIT in a DO block) and what a new file looks like.
"""

from __future__ import annotations

from migration_lsp.snippets.model import MYSQL, PG, SQL_TOOLS, SQLITE, Snippet, body, doc

ALL_SQL = frozenset(SQL_TOOLS)


# --------------------------------------------------------------------------- transactions

_OUTSIDE_TRANSACTION: dict[str, tuple[str, str]] = {
    # tool: (comment lines in the statement snippet, markdown for the documentation)
    "flyway": (
        "-- Flyway: keep only CONCURRENTLY statements in this script, or set\n"
        "-- executeInTransaction=false in its V<version>__<description>.sql.conf.",
        "Flyway runs a script in a transaction unless the script's configuration file "
        "(`V<version>__<description>.sql.conf` next to it) says `executeInTransaction=false`. "
        "On PostgreSQL Flyway also detects a script made only of CONCURRENTLY statements and "
        "runs it without one; mixing them with other statements fails.",
    ),
    "prisma": (
        "-- Prisma: keep this statement alone in its migration.sql.",
        "Prisma sends `migration.sql` as one multi-statement query, which PostgreSQL runs in "
        "an implicit transaction: keep the statement alone in its own migration "
        "(`prisma migrate dev --create-only`, then edit).",
    ),
    "golang-migrate": (
        "-- golang-migrate: keep this statement alone in its .up.sql file.",
        "golang-migrate sends the whole file as one multi-statement query, which PostgreSQL "
        "runs in an implicit transaction: one statement per file.",
    ),
    "dbmate": (
        "-- dbmate: mark the section `-- migrate:up transaction:false`.",
        "dbmate wraps each section in a transaction unless its marker says "
        "`transaction:false` (`mig-file-index-concurrently` writes the whole file).",
    ),
    "goose": (
        "-- goose: the file needs `-- +goose NO TRANSACTION` at the top.",
        "goose wraps each migration in a transaction unless the file carries "
        "`-- +goose NO TRANSACTION` (`mig-file-index-concurrently` writes the whole file).",
    ),
    "sql": (
        "-- Runs only if your runner does not wrap this file in a transaction.",
        "It works only if the runner does not wrap the file in a transaction (psql without "
        "`--single-transaction` does not; Supabase migrations do).",
    ),
}


def _per_tool(
    prefix: str,
    label: str,
    detail: str,
    statement: str,
    documentation: str,
    avoids: tuple[str, ...],
) -> tuple[Snippet, ...]:
    """One variant per SQL tool of a statement that must run outside a transaction."""
    return tuple(
        Snippet(
            prefix=prefix,
            label=label,
            tools=frozenset({tool}),
            context="statement",
            dialects=PG,
            detail=detail,
            body=f"{comment}\n{statement}$0",
            documentation=f"{documentation}\n\n{how}",
            avoids=avoids,
        )
        for tool, (comment, how) in _OUTSIDE_TRANSACTION.items()
    )


_CREATE_INDEX = (
    "CREATE INDEX CONCURRENTLY IF NOT EXISTS ${1:ix_table_column} ON ${2:table_name} "
    "(${3:column_name});"
)
_DROP_INDEX = "DROP INDEX CONCURRENTLY IF EXISTS ${1:ix_table_column};"


def _index_body(text: str) -> str:
    """A file body whose `@create-index@` line is the CREATE INDEX CONCURRENTLY statement."""
    return body(text).replace("@create-index@", _CREATE_INDEX)


_CREATE_INDEX_DOC = doc(
    """
    Builds the index with `CREATE INDEX CONCURRENTLY`: writes to the table continue while it
    builds (`non-concurrent-index`). PostgreSQL refuses CONCURRENTLY inside a transaction
    (`concurrent-index-in-transaction`). `IF NOT EXISTS` makes a re-run after a partial failure
    possible; a failed concurrent build leaves an INVALID index behind, so drop it
    (`DROP INDEX CONCURRENTLY IF EXISTS`) before retrying.
    """
)
_DROP_INDEX_DOC = doc(
    """
    Drops the index with `DROP INDEX CONCURRENTLY`, without the ACCESS EXCLUSIVE lock of a
    plain `DROP INDEX` (`non-concurrent-index-drop`). It cannot run inside a transaction
    (`concurrent-index-in-transaction`).
    """
)


# --------------------------------------------------------------------------- batches

_DO_LOOP = body(
    r"""
    DO \$\$
    DECLARE
        batch_size CONSTANT integer := ${4:1000};
    BEGIN
        LOOP
            UPDATE ${1:table_name} SET ${2:column_name} = ${3:'value'}
            WHERE id IN (SELECT id FROM $1 WHERE $2 IS NULL ORDER BY id LIMIT batch_size);
            EXIT WHEN NOT FOUND;
            COMMIT;
        END LOOP;
    END
    \$\$;
    """
)

_DO_LOOP_DOC = doc(
    """
    Backfills a large table in batches, committing after each one, instead of one UPDATE
    that locks every row until it commits (`unbatched-data-update`). PostgreSQL has no
    `UPDATE ... LIMIT` (`update-with-limit`): the batch is chosen by a subquery. The loop stops
    when an UPDATE changes no row, so the WHERE must stop matching rows once they are updated.

    `COMMIT` inside a `DO` block needs PostgreSQL 11+ and a block that is not run inside a
    transaction (explicit, or the implicit one of a multi-statement query): the file is
    non-transactional and the `DO` block is its only statement. Keep data migrations apart
    from schema changes (`mixed-schema-and-data-change`).
    """
)


def _file(
    tool: str,
    prefix: str,
    label: str,
    detail: str,
    text: str,
    documentation: str,
    *,
    dialects: frozenset[str] | None = None,
    avoids: tuple[str, ...] = (),
) -> Snippet:
    return Snippet(
        prefix=prefix,
        label=label,
        tools=frozenset({tool}),
        context="file",
        dialects=dialects,
        detail=detail,
        body=text,
        documentation=documentation,
        avoids=avoids,
    )


_FILES: tuple[Snippet, ...] = (
    # ------------------------------------------------------------ mig-file
    _file(
        "dbmate",
        "mig-file",
        "New dbmate migration",
        "-- migrate:up / -- migrate:down sections",
        body(
            """
            -- migrate:up
            $0

            -- migrate:down

            """
        ),
        doc(
            """
            A dbmate migration: the `-- migrate:up` section runs on `dbmate up`, the
            `-- migrate:down` section on `dbmate rollback`. Each section runs in a transaction;
            statements that cannot (`CREATE INDEX CONCURRENTLY`) need a section marked
            `-- migrate:up transaction:false` (`mig-file-index-concurrently`,
            `concurrent-index-in-transaction`). Fill in the down section: it is what a rollback
            runs.
            """
        ),
    ),
    _file(
        "goose",
        "mig-file",
        "New goose migration",
        "-- +goose Up / -- +goose Down sections",
        body(
            """
            -- +goose Up
            $0

            -- +goose Down

            """
        ),
        doc(
            """
            A goose SQL migration: `-- +goose Up` runs on `goose up`, `-- +goose Down` on
            `goose down`. goose splits the sections at semicolons: wrap statements that contain
            semicolons (functions, `DO` blocks) in `-- +goose StatementBegin` /
            `-- +goose StatementEnd`. Each migration runs in a transaction unless the file
            starts with `-- +goose NO TRANSACTION` (`mig-file-index-concurrently`,
            `concurrent-index-in-transaction`).
            """
        ),
    ),
    _file(
        "flyway",
        "mig-file",
        "New Flyway versioned migration",
        "Header comment for a V<version>__<description>.sql script",
        body(
            """
            -- ${1:What this migration changes, and why.}
            -- Flyway versioned migration: V<version>__<description>.sql (two underscores), run once
            -- in a transaction unless V<version>__<description>.sql.conf sets
            -- executeInTransaction=false. Never edit it once applied: add a new V script instead.
            $0
            """
        ),
        doc(
            """
            A Flyway versioned migration. The file name carries the version
            (`V2__add_email.sql`: `V`, version, two underscores, description), which must be
            unique (`duplicate-revision`). Flyway checksums applied scripts: change the schema
            with a new script, never by editing an applied one (`modified-applied-migration`).
            Statements that cannot run in a transaction need the script configuration
            `executeInTransaction=false` (`concurrent-index-in-transaction`).
            """
        ),
    ),
    _file(
        "golang-migrate",
        "mig-file",
        "New golang-migrate up migration",
        "Header comment for a <version>_<name>.up.sql file",
        body(
            """
            -- ${1:What this migration changes, and why.}
            -- golang-migrate: undo it in the matching <version>_<name>.down.sql.
            -- A file with several statements runs as one implicit transaction.
            $0
            """
        ),
        doc(
            """
            A golang-migrate up file (`<version>_<name>.up.sql`); its reverse lives in
            `<version>_<name>.down.sql`. The whole file is sent as one query: several statements
            run in one implicit transaction, so `CREATE INDEX CONCURRENTLY` must be alone in its
            file (`concurrent-index-in-transaction`).
            """
        ),
    ),
    _file(
        "prisma",
        "mig-file",
        "New Prisma migration.sql",
        "Header comment for a hand-edited migration.sql",
        body(
            """
            -- ${1:What this migration changes, and why.}
            -- Prisma: created with `prisma migrate dev --create-only`; keep schema.prisma in sync.
            -- Never edit it once applied: create a new migration instead.
            $0
            """
        ),
        doc(
            """
            A hand-edited Prisma migration (`prisma migrate dev --create-only` creates the
            folder and its `migration.sql`). Keep `schema.prisma` describing the same schema, and
            never edit a migration once it has been applied (`modified-applied-migration`). A
            file with several statements runs in one implicit transaction
            (`concurrent-index-in-transaction`).
            """
        ),
    ),
    _file(
        "sql",
        "mig-file",
        "New SQL migration",
        "Header comment for a plain SQL migration",
        body(
            """
            -- ${1:What this migration changes, and why.}
            $0
            """
        ),
        doc(
            """
            A plain SQL migration with a header comment saying what it changes and why. Start
            statements that take ACCESS EXCLUSIVE locks with `mig-lock-timeout`
            (`missing-lock-timeout`).
            """
        ),
    ),
    # ------------------------------------------------------------ mig-file-index-concurrently
    _file(
        "dbmate",
        "mig-file-index-concurrently",
        "New dbmate migration that creates an index concurrently",
        "-- migrate:up transaction:false + CREATE INDEX CONCURRENTLY",
        _index_body(
            """
            -- migrate:up transaction:false
            @create-index@

            -- migrate:down transaction:false
            DROP INDEX CONCURRENTLY IF EXISTS $1;
            $0
            """
        ),
        doc(
            """
            Creates an index without blocking writes (`non-concurrent-index`), in sections
            marked `transaction:false`: PostgreSQL refuses CONCURRENTLY in a transaction, and
            dbmate otherwise wraps each section in one (`concurrent-index-in-transaction`).
            Keep the CONCURRENTLY statement the only one of its section: dbmate sends a section
            as one query, and several statements would run in an implicit transaction.
            """
        ),
        dialects=PG,
        avoids=("non-concurrent-index", "concurrent-index-in-transaction"),
    ),
    _file(
        "goose",
        "mig-file-index-concurrently",
        "New goose migration that creates an index concurrently",
        "-- +goose NO TRANSACTION + CREATE INDEX CONCURRENTLY",
        _index_body(
            """
            -- +goose NO TRANSACTION
            -- +goose Up
            @create-index@

            -- +goose Down
            DROP INDEX CONCURRENTLY IF EXISTS $1;
            $0
            """
        ),
        doc(
            """
            Creates an index without blocking writes (`non-concurrent-index`) in a migration
            marked `-- +goose NO TRANSACTION`: PostgreSQL refuses CONCURRENTLY in a transaction,
            and goose otherwise wraps the migration in one (`concurrent-index-in-transaction`).
            """
        ),
        dialects=PG,
        avoids=("non-concurrent-index", "concurrent-index-in-transaction"),
    ),
    _file(
        "flyway",
        "mig-file-index-concurrently",
        "New Flyway migration that creates an index concurrently",
        "A script of only CREATE INDEX CONCURRENTLY",
        _index_body(
            """
            -- CONCURRENTLY cannot run in a transaction. Flyway runs a script made only of such
            -- statements without one on PostgreSQL; to be explicit, create
            -- V<version>__<description>.sql.conf next to this file containing:
            --   executeInTransaction=false
            @create-index@
            $0
            """
        ),
        doc(
            f"""
            Creates an index without blocking writes (`non-concurrent-index`) in a script that
            runs outside a transaction (`concurrent-index-in-transaction`). Keep other
            statements out of it.

            {_OUTSIDE_TRANSACTION["flyway"][1]}
            """
        ),
        dialects=PG,
        avoids=("non-concurrent-index", "concurrent-index-in-transaction"),
    ),
    _file(
        "golang-migrate",
        "mig-file-index-concurrently",
        "New golang-migrate migration that creates an index concurrently",
        "One CREATE INDEX CONCURRENTLY, alone in its .up.sql",
        _index_body(
            """
            -- Alone in this file: several statements would run in one implicit transaction.
            -- The .down.sql: DROP INDEX CONCURRENTLY IF EXISTS <index name>;
            @create-index@
            $0
            """
        ),
        doc(
            f"""
            Creates an index without blocking writes (`non-concurrent-index`), as the only
            statement of its file (`concurrent-index-in-transaction`).

            {_OUTSIDE_TRANSACTION["golang-migrate"][1]}
            """
        ),
        dialects=PG,
        avoids=("non-concurrent-index", "concurrent-index-in-transaction"),
    ),
    _file(
        "prisma",
        "mig-file-index-concurrently",
        "New Prisma migration that creates an index concurrently",
        "One CREATE INDEX CONCURRENTLY, alone in its migration.sql",
        _index_body(
            """
            -- Alone in this migration: several statements would run in one implicit transaction.
            -- Declare the index in schema.prisma too (@@index), or the next migration drops it.
            @create-index@
            $0
            """
        ),
        doc(
            f"""
            Creates an index without blocking writes (`non-concurrent-index`), as the only
            statement of its migration (`concurrent-index-in-transaction`). Declare the same
            index in `schema.prisma` (`@@index`, with `map:` set to its name), or Prisma
            considers it drift.

            {_OUTSIDE_TRANSACTION["prisma"][1]}
            """
        ),
        dialects=PG,
        avoids=("non-concurrent-index", "concurrent-index-in-transaction"),
    ),
    _file(
        "sql",
        "mig-file-index-concurrently",
        "New SQL migration that creates an index concurrently",
        "One CREATE INDEX CONCURRENTLY outside a transaction",
        _index_body(
            """
            -- CONCURRENTLY cannot run in a transaction: no BEGIN/COMMIT around it.
            @create-index@
            $0
            """
        ),
        doc(
            f"""
            Creates an index without blocking writes (`non-concurrent-index`), outside any
            transaction (`concurrent-index-in-transaction`).

            {_OUTSIDE_TRANSACTION["sql"][1]}
            """
        ),
        dialects=PG,
        avoids=("non-concurrent-index", "concurrent-index-in-transaction"),
    ),
    # ------------------------------------------------------------ mig-file-batch-update
    _file(
        "dbmate",
        "mig-file-batch-update",
        "New dbmate data migration that updates in batches",
        "transaction:false section with a DO loop that commits each batch",
        "-- migrate:up transaction:false\n"
        + _DO_LOOP
        + "\n\n-- migrate:down\n-- Nothing to undo: the backfilled values stay.\n$0",
        _DO_LOOP_DOC,
        dialects=PG,
        avoids=("unbatched-data-update", "update-with-limit"),
    ),
    _file(
        "goose",
        "mig-file-batch-update",
        "New goose data migration that updates in batches",
        "NO TRANSACTION migration with a DO loop that commits each batch",
        "-- +goose NO TRANSACTION\n-- +goose Up\n-- +goose StatementBegin\n"
        + _DO_LOOP
        + "\n-- +goose StatementEnd\n\n-- +goose Down\n"
        "-- Nothing to undo: the backfilled values stay.\n$0",
        _DO_LOOP_DOC
        + "\n\nThe block contains semicolons, so it sits between `-- +goose StatementBegin` and "
        "`-- +goose StatementEnd`.",
        dialects=PG,
        avoids=("unbatched-data-update", "update-with-limit"),
    ),
    _file(
        "flyway",
        "mig-file-batch-update",
        "New Flyway data migration that updates in batches",
        "A DO loop that commits each batch (needs executeInTransaction=false)",
        "-- COMMIT in the DO block needs this script outside a transaction: create\n"
        "-- V<version>__<description>.sql.conf next to it containing: executeInTransaction=false\n"
        + _DO_LOOP
        + "\n$0",
        _DO_LOOP_DOC,
        dialects=PG,
        avoids=("unbatched-data-update", "update-with-limit"),
    ),
    _file(
        "golang-migrate",
        "mig-file-batch-update",
        "New golang-migrate data migration that updates in batches",
        "A DO loop that commits each batch, alone in its file",
        "-- Alone in this file, so it runs outside a transaction and may COMMIT.\n"
        + _DO_LOOP
        + "\n$0",
        _DO_LOOP_DOC,
        dialects=PG,
        avoids=("unbatched-data-update", "update-with-limit"),
    ),
    _file(
        "sql",
        "mig-file-batch-update",
        "New SQL data migration that updates in batches",
        "A DO loop that commits each batch",
        "-- COMMIT in the DO block: run this file outside a transaction (no BEGIN/COMMIT).\n"
        + _DO_LOOP
        + "\n$0",
        _DO_LOOP_DOC,
        dialects=PG,
        avoids=("unbatched-data-update", "update-with-limit"),
    ),
)


# --------------------------------------------------------------------------- statements

_STATEMENTS: tuple[Snippet, ...] = (
    Snippet(
        prefix="mig-create-table",
        label="Create table",
        tools=ALL_SQL,
        context="statement",
        dialects=PG,
        detail="bigint identity key, timestamptz creation time",
        body=body(
            """
            CREATE TABLE ${1:table_name} (
                id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
                ${2:name} ${3:text} NOT NULL,
                created_at timestamptz NOT NULL DEFAULT now()
            );$0
            """
        ),
        documentation=doc(
            """
            Creates a table with a `bigint` identity primary key (`integer`/`serial` keys run
            out at 2.1 billion rows: `prefer-bigint-primary-key`, `prefer-identity`) and a
            `timestamptz` creation time (`prefer-timestamptz`). Creating a table is always
            safe: it is new and empty.
            """
        ),
        avoids=("prefer-bigint-primary-key", "prefer-identity", "prefer-timestamptz"),
    ),
    Snippet(
        prefix="mig-create-table",
        label="Create table",
        tools=ALL_SQL,
        context="statement",
        dialects=MYSQL,
        detail="BIGINT auto-increment key, DATETIME(6) creation time",
        body=body(
            """
            CREATE TABLE ${1:table_name} (
                id BIGINT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,
                ${2:name} ${3:VARCHAR(255)} NOT NULL,
                created_at DATETIME(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6)
            );$0
            """
        ),
        documentation=doc(
            """
            Creates a table with a `BIGINT` auto-increment primary key (`INT` runs out at 2.1
            billion rows: `prefer-bigint-primary-key`). Creating a table is always safe: it is
            new and empty.
            """
        ),
        avoids=("prefer-bigint-primary-key",),
    ),
    Snippet(
        prefix="mig-create-table",
        label="Create table",
        tools=ALL_SQL,
        context="statement",
        dialects=SQLITE,
        detail="INTEGER PRIMARY KEY (the rowid), TEXT timestamps",
        body=body(
            """
            CREATE TABLE ${1:table_name} (
                id INTEGER PRIMARY KEY,
                ${2:name} ${3:TEXT} NOT NULL,
                created_at TEXT NOT NULL DEFAULT CURRENT_TIMESTAMP
            );$0
            """
        ),
        documentation=doc(
            """
            Creates a table whose `INTEGER PRIMARY KEY` is SQLite's rowid (64-bit, assigned
            automatically; any other key type is not). Creating a table is always safe: it is
            new and empty.
            """
        ),
    ),
    Snippet(
        prefix="mig-add-column",
        label="Add nullable column",
        tools=ALL_SQL,
        context="statement",
        detail="ADD COLUMN without NOT NULL (backfill and NOT NULL come later)",
        body=body(
            """
            ALTER TABLE ${1:table_name} ADD COLUMN ${2:column_name} ${3:text};$0
            """
        ),
        documentation=doc(
            """
            Adds a nullable column: a catalogue-only change, existing rows stay valid. Adding it
            `NOT NULL` without a default fails on a non-empty table
            (`add-not-null-column-without-default`). For a column that must end up NOT NULL:
            add it nullable (this), backfill in batches (`mig-batch-update`), then
            `mig-not-null-check` and `mig-set-not-null` in later migrations.
            """
        ),
        avoids=("add-not-null-column-without-default",),
    ),
    Snippet(
        prefix="mig-add-column-default",
        label="Add NOT NULL column with a default",
        tools=ALL_SQL,
        context="statement",
        detail="ADD COLUMN ... NOT NULL DEFAULT <constant>",
        body=body(
            """
            ALTER TABLE ${1:table_name}
                ADD COLUMN ${2:column_name} ${3:boolean} NOT NULL DEFAULT ${4:false};$0
            """
        ),
        documentation=doc(
            """
            Adds a NOT NULL column with a default, which fills the existing rows
            (`add-not-null-column-without-default`). Keep the default a constant (or `now()`):
            PostgreSQL 11+ stores it in the catalogue without rewriting the table, MySQL 8.0.12+
            adds the column instantly. A volatile default (`gen_random_uuid()`, `random()`)
            rewrites the whole table under an exclusive lock (`add-column-volatile-default`).
            """
        ),
        avoids=("add-not-null-column-without-default", "add-column-volatile-default"),
    ),
    *_per_tool(
        "mig-index-concurrently",
        "Create index concurrently",
        "CREATE INDEX CONCURRENTLY IF NOT EXISTS, outside a transaction",
        _CREATE_INDEX,
        _CREATE_INDEX_DOC,
        ("non-concurrent-index", "concurrent-index-in-transaction"),
    ),
    *_per_tool(
        "mig-drop-index-concurrently",
        "Drop index concurrently",
        "DROP INDEX CONCURRENTLY IF EXISTS, outside a transaction",
        _DROP_INDEX,
        _DROP_INDEX_DOC,
        ("non-concurrent-index-drop", "concurrent-index-in-transaction"),
    ),
    Snippet(
        prefix="mig-foreign-key",
        label="Add foreign key NOT VALID",
        tools=ALL_SQL,
        context="statement",
        dialects=PG,
        detail="ADD CONSTRAINT ... FOREIGN KEY ... NOT VALID (validate in the next migration)",
        body=body(
            """
            -- Validate it in the next migration: mig-validate-constraint.
            ALTER TABLE ${1:orders} ADD CONSTRAINT ${2:orders_user_id_fkey}
                FOREIGN KEY (${3:user_id}) REFERENCES ${4:users} (${5:id}) NOT VALID;$0
            """
        ),
        documentation=doc(
            """
            Adds a foreign key with `NOT VALID`: only rows written from now on are checked, so
            the lock on both tables lasts milliseconds instead of a full scan
            (`foreign-key-without-not-valid`).

            Validate it in the **next** migration (`mig-validate-constraint`): in the same
            transaction the validation scan would hold this statement's lock on both tables.
            """
        ),
        avoids=("foreign-key-without-not-valid",),
    ),
    Snippet(
        prefix="mig-validate-constraint",
        label="Validate a NOT VALID constraint",
        tools=ALL_SQL,
        context="statement",
        dialects=PG,
        detail="ALTER TABLE ... VALIDATE CONSTRAINT (no blocking lock)",
        body=body(
            """
            ALTER TABLE ${1:table_name} VALIDATE CONSTRAINT ${2:constraint_name};$0
            """
        ),
        documentation=doc(
            """
            Validates a constraint added with `NOT VALID` in an earlier migration
            (`mig-foreign-key`, `mig-not-null-check`): it scans the table under a SHARE UPDATE
            EXCLUSIVE lock, so reads and writes continue (`foreign-key-without-not-valid`,
            `check-constraint-without-not-valid`).
            """
        ),
        avoids=("foreign-key-without-not-valid", "check-constraint-without-not-valid"),
    ),
    Snippet(
        prefix="mig-not-null-check",
        label="NOT NULL, step 1: CHECK NOT VALID",
        tools=ALL_SQL,
        context="statement",
        dialects=PG,
        detail="ADD CONSTRAINT ... CHECK (col IS NOT NULL) NOT VALID",
        body=body(
            """
            -- Step 1 of 2; the next migration finishes with mig-set-not-null.
            ALTER TABLE ${1:table_name} ADD CONSTRAINT ${3:table_column_not_null}
                CHECK (${2:column_name} IS NOT NULL) NOT VALID;$0
            """
        ),
        documentation=doc(
            """
            First of the two migrations that make an existing column NOT NULL without scanning
            the table under an ACCESS EXCLUSIVE lock (`set-not-null-on-existing-column`): a
            `CHECK (col IS NOT NULL) NOT VALID` constraint only checks new rows
            (`check-constraint-without-not-valid`). Backfill the NULLs, then finish in the next
            migration with `mig-set-not-null`.
            """
        ),
        avoids=("check-constraint-without-not-valid",),
    ),
    Snippet(
        prefix="mig-set-not-null",
        label="NOT NULL, step 2: VALIDATE, then SET NOT NULL",
        tools=ALL_SQL,
        context="statement",
        dialects=PG,
        detail="VALIDATE the CHECK from mig-not-null-check, SET NOT NULL, drop the CHECK",
        body=body(
            """
            -- Step 2 of 2, after mig-not-null-check in an earlier migration.
            ALTER TABLE ${1:table_name} VALIDATE CONSTRAINT ${3:table_column_not_null};
            -- Uses the validated CHECK instead of scanning the table (PostgreSQL 12+).
            ALTER TABLE $1 ALTER COLUMN ${2:column_name} SET NOT NULL;
            ALTER TABLE $1 DROP CONSTRAINT $3;$0
            """
        ),
        documentation=doc(
            """
            Second migration of the NOT NULL change (after `mig-not-null-check`):
            `VALIDATE CONSTRAINT` scans under a lock that lets reads and writes continue, then
            `SET NOT NULL` takes its ACCESS EXCLUSIVE lock only for a moment, because
            PostgreSQL 12+ sees the validated CHECK and skips its own scan
            (`set-not-null-on-existing-column`). The redundant CHECK is dropped last.
            """
        ),
        avoids=("set-not-null-on-existing-column",),
    ),
    Snippet(
        prefix="mig-rename-column",
        label="Rename column by expand/contract (step 1)",
        tools=ALL_SQL,
        context="statement",
        detail="Add the new column; the comment lists the remaining steps",
        body=body(
            """
            -- Rename ${1:table_name}.${2:old_name} to ${3:new_name} without breaking running code:
            --   1. This migration: add $3, nullable.
            --   2. Release code that writes both columns (or a trigger) and still reads $2.
            --   3. Backfill $3 from $2 in batches (mig-batch-update).
            --   4. Release code that reads $3 and no longer uses $2.
            --   5. Later migrations: make $3 NOT NULL if needed (mig-not-null-check), drop $2.
            ALTER TABLE $1 ADD COLUMN $3 ${4:text};$0
            """
        ),
        documentation=doc(
            """
            `RENAME COLUMN` breaks every query of the application version still running during
            the deploy (`rename-column`). Expand/contract renames without downtime: add the new
            column (nullable: `add-not-null-column-without-default`), write to both, backfill,
            switch reads, drop the old column in a later release. This snippet writes the first
            step and lists the others.
            """
        ),
        avoids=("rename-column", "add-not-null-column-without-default"),
    ),
    Snippet(
        prefix="mig-batch-update",
        label="One batch of a data update",
        tools=ALL_SQL,
        context="statement",
        dialects=frozenset({"postgresql", "sqlite"}),
        detail="UPDATE ... WHERE id IN (SELECT id ... LIMIT n): one bounded batch",
        body=body(
            """
            -- One batch: repeat until it updates 0 rows, each run in its own transaction
            -- (mig-file-batch-update writes the loop). No UPDATE ... LIMIT: limit the subquery.
            UPDATE ${1:table_name} SET ${2:column_name} = ${3:'value'}
            WHERE id IN (SELECT id FROM $1 WHERE $2 IS NULL ORDER BY id LIMIT ${4:1000});$0
            """
        ),
        documentation=doc(
            """
            One bounded batch of a backfill, instead of one UPDATE over the whole table that
            locks every row until it commits (`unbatched-data-update`). PostgreSQL has no
            `UPDATE ... LIMIT` (`update-with-limit`): the batch is chosen by a subquery.

            A migration runs it once: for a full backfill, repeat it until it updates no row,
            each run committed on its own (the `DO` loop of `mig-file-batch-update` does that in
            a non-transactional file).
            """
        ),
        avoids=("unbatched-data-update", "update-with-limit"),
    ),
    Snippet(
        prefix="mig-lock-timeout",
        label="SET lock_timeout",
        tools=ALL_SQL,
        context="statement",
        dialects=PG,
        detail="Give up instead of queueing every query behind a blocked ALTER",
        body=body(
            """
            SET lock_timeout = '${1|5s,2s,10s,1s|}';$0
            """
        ),
        documentation=doc(
            """
            An `ALTER TABLE` waiting for its ACCESS EXCLUSIVE lock (behind a long query) makes
            every later query on the table wait behind it: a short outage. With `lock_timeout`
            the migration fails fast instead and can be retried (`missing-lock-timeout`). Put it
            first in the migration.
            """
        ),
        avoids=("missing-lock-timeout",),
    ),
    Snippet(
        prefix="mig-lock-timeout",
        label="SET lock_wait_timeout",
        tools=ALL_SQL,
        context="statement",
        dialects=MYSQL,
        detail="Give up instead of queueing every query behind a blocked ALTER",
        body=body(
            """
            SET SESSION lock_wait_timeout = ${1|5,2,10|};$0
            """
        ),
        documentation=doc(
            """
            An `ALTER TABLE` waiting for its metadata lock makes every later query on the table
            wait behind it. `lock_wait_timeout` (seconds) makes the migration fail fast instead
            (`missing-lock-timeout`). Put it first in the migration.
            """
        ),
        avoids=("missing-lock-timeout",),
    ),
)

SNIPPETS: tuple[Snippet, ...] = _FILES + _STATEMENTS
