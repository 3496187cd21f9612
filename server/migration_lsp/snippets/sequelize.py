"""Sequelize snippets: migration files as `sequelize-cli migration:generate` writes them, and
`queryInterface` statements for an `async up`/`down`. The completion context is the JS one of
`snippets.knex` (`js_context`).

sequelize-cli runs a migration without a transaction: each `queryInterface` call commits on
its own, so `concurrently: true` works as written, and a lock timeout only holds inside an
explicit `queryInterface.sequelize.transaction(...)`.
"""

from __future__ import annotations

from migration_lsp.snippets.knex import js_context
from migration_lsp.snippets.model import PG, Snippet, body, doc

SEQUELIZE = frozenset({"sequelize"})

__all__ = ["SNIPPETS", "js_context"]

SNIPPETS: tuple[Snippet, ...] = (
    Snippet(
        prefix="mig-file",
        label="New Sequelize migration",
        tools=SEQUELIZE,
        context="file",
        detail="module.exports = { async up, async down } as sequelize-cli writes it",
        body=body(
            """
            'use strict';

            /** @type {import('sequelize-cli').Migration} */
            module.exports = {
              async up (queryInterface, Sequelize) {
                await queryInterface.createTable('${1:Table}', {
                  id: {
                    allowNull: false,
                    autoIncrement: true,
                    primaryKey: true,
                    type: Sequelize.BIGINT
                  },$0
                  createdAt: {
                    allowNull: false,
                    type: Sequelize.DATE,
                    defaultValue: Sequelize.fn('now')
                  },
                  updatedAt: {
                    allowNull: false,
                    type: Sequelize.DATE,
                    defaultValue: Sequelize.fn('now')
                  }
                });
              },

              async down (queryInterface, Sequelize) {
                await queryInterface.dropTable('$1');
              }
            };
            """
        ),
        documentation=doc(
            """
            A migration file as `sequelize-cli migration:generate --name <name>` writes it,
            creating a table with a `BIGINT` key (`INTEGER` runs out at 2.1 billion rows:
            `prefer-bigint-primary-key`) and timestamps with a database default
            (`Sequelize.fn('now')`: `Sequelize.NOW` is applied by the model only and never
            reaches the table).

            Keep `down` the exact reverse of `up` (`missing-downgrade`, `empty-downgrade`):
            `sequelize-cli db:migrate:undo` runs it.
            """
        ),
        avoids=("missing-downgrade", "empty-downgrade", "prefer-bigint-primary-key"),
    ),
    Snippet(
        prefix="mig-file-index-concurrently",
        label="Migration building an index concurrently",
        tools=SEQUELIZE,
        context="file",
        dialects=PG,
        detail="addIndex / removeIndex with concurrently: true",
        body=body(
            """
            'use strict';

            /** @type {import('sequelize-cli').Migration} */
            module.exports = {
              async up (queryInterface, Sequelize) {
                await queryInterface.addIndex('${1:Table}', ['${2:column}'], {
                  name: '${3:table_column}',
                  concurrently: true
                });
              },

              async down (queryInterface, Sequelize) {
                await queryInterface.removeIndex('$1', '$3', { concurrently: true });
              }
            };$0
            """
        ),
        documentation=doc(
            """
            Builds an index without blocking writes: `addIndex` without `concurrently: true`
            takes a lock that blocks every INSERT, UPDATE and DELETE until the index is built
            (`non-concurrent-index`).

            sequelize-cli runs migrations outside a transaction, so CONCURRENTLY works as is;
            do not wrap it in `queryInterface.sequelize.transaction(...)`
            (`concurrent-index-in-transaction`).
            """
        ),
        avoids=("non-concurrent-index", "concurrent-index-in-transaction"),
    ),
    Snippet(
        prefix="mig-file-batch-update",
        label="Migration backfilling a column in batches",
        tools=SEQUELIZE,
        context="file",
        dialects=PG,
        detail="A bounded UPDATE loop, in a migration of its own",
        body=body(
            """
            'use strict';

            /** @type {import('sequelize-cli').Migration} */
            module.exports = {
              async up (queryInterface, Sequelize) {
                let updated;
                do {
                  const [, result] = await queryInterface.sequelize.query(
                    'UPDATE "${1:Table}" SET "${2:column}" = ${3:value} ' +
                      'WHERE id IN (SELECT id FROM "$1" WHERE "$2" IS NULL LIMIT ${4:1000})'
                  );
                  updated = result.rowCount;
                } while (updated > 0);
              },

              async down (queryInterface, Sequelize) {
                // The backfilled values are dropped with the column by the previous migration.
              }
            };$0
            """
        ),
        documentation=doc(
            """
            Fills a column added nullable by the previous migration (`mig-add-column`: works on
            a non-empty table: `add-not-null-column-without-default`) in bounded batches, each
            its own statement, so no lock is held on the whole table (`unbatched-data-update`).
            PostgreSQL has no `UPDATE ... LIMIT`: the batch is a subquery.

            A migration of its own keeps the data change apart from the schema change
            (`mixed-schema-and-data-change`). Make the column NOT NULL afterwards with
            `mig-set-not-null`.
            """
        ),
        avoids=(
            "add-not-null-column-without-default",
            "unbatched-data-update",
            "mixed-schema-and-data-change",
        ),
    ),
    Snippet(
        prefix="mig-create-table",
        label="Create table",
        tools=SEQUELIZE,
        context="step",
        detail="queryInterface.createTable with a BIGINT key and timestamps",
        body=body(
            """
            await queryInterface.createTable('${1:Table}', {
              id: {
                allowNull: false,
                autoIncrement: true,
                primaryKey: true,
                type: Sequelize.BIGINT
              },
              ${2:name}: {
                allowNull: ${3|false,true|},
                type: Sequelize.${4:TEXT}
              },
              createdAt: {
                allowNull: false,
                type: Sequelize.DATE,
                defaultValue: Sequelize.fn('now')
              },
              updatedAt: {
                allowNull: false,
                type: Sequelize.DATE,
                defaultValue: Sequelize.fn('now')
              }
            });$0
            """
        ),
        documentation=doc(
            """
            Creates a table with a `BIGINT` auto-increment key (`prefer-bigint-primary-key`)
            and timestamps defaulting to `now()` in the database.

            Indexes, constraints and NOT NULL columns on a new table need no precautions: it is
            empty. The `down` is `await queryInterface.dropTable('<Table>')`.
            """
        ),
        avoids=("prefer-bigint-primary-key",),
    ),
    Snippet(
        prefix="mig-add-column",
        label="Add nullable column",
        tools=SEQUELIZE,
        context="step",
        detail="queryInterface.addColumn with allowNull: true",
        body=body(
            """
            await queryInterface.addColumn('${1:Table}', '${2:column}', {
              type: Sequelize.${3:TEXT},
              allowNull: true
            });$0
            """
        ),
        documentation=doc(
            """
            Adds a nullable column: instant, and it works on a table with rows. With
            `allowNull: false` and no database default it fails on any non-empty table
            (`add-not-null-column-without-default`): add it nullable, backfill
            (`mig-batch-update`), then make it NOT NULL (`mig-set-not-null`).

            The `down` is `await queryInterface.removeColumn('<Table>', '<column>')`.
            """
        ),
        avoids=("add-not-null-column-without-default",),
    ),
    Snippet(
        prefix="mig-add-column-default",
        label="Add NOT NULL column with a default",
        tools=SEQUELIZE,
        context="step",
        detail="queryInterface.addColumn with allowNull: false and a constant defaultValue",
        body=body(
            """
            await queryInterface.addColumn('${1:Table}', '${2:column}', {
              type: Sequelize.${3:BOOLEAN},
              allowNull: false,
              defaultValue: ${4:false}
            });$0
            """
        ),
        documentation=doc(
            """
            Adds a NOT NULL column with a database default, so existing rows get it
            (`add-not-null-column-without-default`). `Sequelize.NOW`, `UUIDV1` and `UUIDV4` are
            not database defaults (Sequelize applies them in JavaScript only): use a constant or
            `Sequelize.fn('now')`.

            Keep the default a constant: a volatile one (`Sequelize.literal('gen_random_uuid()')`)
            rewrites the whole table (`add-column-volatile-default`).
            """
        ),
        avoids=("add-not-null-column-without-default", "add-column-volatile-default"),
    ),
    Snippet(
        prefix="mig-index-concurrently",
        label="Create index concurrently",
        tools=SEQUELIZE,
        context="step",
        dialects=PG,
        detail="queryInterface.addIndex with concurrently: true",
        body=body(
            """
            await queryInterface.addIndex('${1:Table}', ['${2:column}'], {
              name: '${3:table_column}',
              concurrently: true
            });$0
            """
        ),
        documentation=doc(
            """
            Builds an index without blocking writes (`non-concurrent-index`). Works as is:
            sequelize-cli runs migrations outside a transaction. Not inside
            `queryInterface.sequelize.transaction(...)` (`concurrent-index-in-transaction`).
            The `down` is `await queryInterface.removeIndex('<Table>', '<name>', { concurrently:
            true })`.
            """
        ),
        avoids=("non-concurrent-index", "concurrent-index-in-transaction"),
    ),
    Snippet(
        prefix="mig-drop-index-concurrently",
        label="Drop index concurrently",
        tools=SEQUELIZE,
        context="step",
        dialects=PG,
        detail="queryInterface.removeIndex with concurrently: true",
        body=body(
            """
            await queryInterface.removeIndex('${1:Table}', '${2:index_name}', {
              concurrently: true
            });$0
            """
        ),
        documentation=doc(
            """
            Drops an index without the ACCESS EXCLUSIVE lock of a plain DROP INDEX
            (`non-concurrent-index-drop`), outside any transaction.
            """
        ),
        avoids=("non-concurrent-index-drop",),
    ),
    Snippet(
        prefix="mig-foreign-key",
        label="Add foreign key NOT VALID, then VALIDATE",
        tools=SEQUELIZE,
        context="step",
        dialects=PG,
        detail="ADD CONSTRAINT ... NOT VALID, then VALIDATE CONSTRAINT (no blocking scan)",
        body=body(
            """
            // NOT VALID: only new rows are checked, no scan while both tables are locked.
            await queryInterface.sequelize.query(
              'ALTER TABLE "${1:Orders}" ADD CONSTRAINT "${2:orders_user_id_fkey}" ' +
                'FOREIGN KEY ("${3:userId}") REFERENCES "${4:Users}" (id) NOT VALID'
            );
            // VALIDATE scans existing rows without blocking reads or writes.
            await queryInterface.sequelize.query('ALTER TABLE "$1" VALIDATE CONSTRAINT "$2"');$0
            """
        ),
        documentation=doc(
            """
            Adds a foreign key in two steps. `addConstraint({ type: 'foreign key' })` (or
            `references` on a new column) validates every row while blocking writes to both
            tables (`foreign-key-without-not-valid`); `NOT VALID` takes its lock for
            milliseconds and `VALIDATE CONSTRAINT` then scans under a lock that lets reads and
            writes continue. sequelize-cli commits each call on its own, so the two statements
            do not share a transaction.
            """
        ),
        avoids=("foreign-key-without-not-valid",),
    ),
    Snippet(
        prefix="mig-validate-constraint",
        label="Validate a NOT VALID constraint",
        tools=SEQUELIZE,
        context="step",
        dialects=PG,
        detail="ALTER TABLE ... VALIDATE CONSTRAINT (no blocking lock)",
        body=body(
            """
            await queryInterface.sequelize.query(
              'ALTER TABLE "${1:Table}" VALIDATE CONSTRAINT "${2:constraint_name}"'
            );$0
            """
        ),
        documentation=doc(
            """
            Validates a constraint added `NOT VALID` (`mig-foreign-key`): scans the table under
            a SHARE UPDATE EXCLUSIVE lock, so reads and writes continue
            (`foreign-key-without-not-valid`, `check-constraint-without-not-valid`).
            """
        ),
        avoids=("foreign-key-without-not-valid", "check-constraint-without-not-valid"),
    ),
    Snippet(
        prefix="mig-set-not-null",
        label="Set NOT NULL via a validated CHECK",
        tools=SEQUELIZE,
        context="step",
        dialects=PG,
        detail="CHECK (col IS NOT NULL) NOT VALID → VALIDATE → SET NOT NULL → drop the CHECK",
        body=body(
            """
            await queryInterface.sequelize.query(
              'ALTER TABLE "${1:Table}" ADD CONSTRAINT "${3:table_column_not_null}" ' +
                'CHECK ("${2:column}" IS NOT NULL) NOT VALID'
            );
            await queryInterface.sequelize.query('ALTER TABLE "$1" VALIDATE CONSTRAINT "$3"');
            // SET NOT NULL uses the validated CHECK instead of scanning (PostgreSQL 12+).
            await queryInterface.sequelize.query('ALTER TABLE "$1" ALTER COLUMN "$2" SET NOT NULL');
            await queryInterface.removeConstraint('$1', '$3');$0
            """
        ),
        documentation=doc(
            """
            Makes an existing column NOT NULL without the full-table scan under an ACCESS
            EXCLUSIVE lock that `changeColumn(..., { allowNull: false })` does
            (`set-not-null-on-existing-column`; `changeColumn` also re-sets the type). A
            validated `CHECK (col IS NOT NULL)` (`check-constraint-without-not-valid`) lets
            PostgreSQL 12+ skip the scan; the CHECK is dropped afterwards.

            Backfill the NULLs first (`mig-batch-update`), or the validation fails.
            """
        ),
        avoids=("set-not-null-on-existing-column", "check-constraint-without-not-valid"),
    ),
    Snippet(
        prefix="mig-batch-update",
        label="Backfill in batches",
        tools=SEQUELIZE,
        context="step",
        dialects=PG,
        detail="Bounded UPDATE loop (WHERE id IN (SELECT ... LIMIT n)) until no row changes",
        body=body(
            """
            let updated;
            do {
              const [, result] = await queryInterface.sequelize.query(
                'UPDATE "${1:Table}" SET "${2:column}" = ${3:value} ' +
                  'WHERE id IN (SELECT id FROM "$1" WHERE "$2" IS NULL LIMIT ${4:1000})'
              );
              updated = result.rowCount;
            } while (updated > 0);$0
            """
        ),
        documentation=doc(
            """
            Updates a large table in bounded batches, each committed on its own, instead of one
            statement that locks every row until it ends (`unbatched-data-update`). PostgreSQL
            has no `UPDATE ... LIMIT` (`update-with-limit`): the batch is chosen by a subquery.
            Keep it in a migration without schema changes (`mixed-schema-and-data-change`).
            """
        ),
        avoids=("unbatched-data-update", "update-with-limit"),
    ),
    Snippet(
        prefix="mig-lock-timeout",
        label="Lock timeout for a schema change",
        tools=SEQUELIZE,
        context="step",
        dialects=PG,
        detail="SET LOCAL lock_timeout inside queryInterface.sequelize.transaction",
        body=body(
            """
            await queryInterface.sequelize.transaction(async (transaction) => {
              await queryInterface.sequelize.query(
                "SET LOCAL lock_timeout = '${1|5s,2s,10s,1s|}'",
                { transaction }
              );
              await queryInterface.addColumn('${2:Table}', '${3:column}', {
                type: Sequelize.${4:TEXT},
                allowNull: true
              }, { transaction });
            });$0
            """
        ),
        documentation=doc(
            """
            Makes the schema change give up after a few seconds instead of queueing every query
            on the table behind its lock (`missing-lock-timeout`). Without a transaction each
            `queryInterface` call may use another pooled connection, so the setting is applied
            with `SET LOCAL` inside an explicit transaction and every call passes
            `{ transaction }`.
            """
        ),
        avoids=("missing-lock-timeout",),
    ),
)
