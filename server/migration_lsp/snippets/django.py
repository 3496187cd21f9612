"""Django snippets: elements of `operations = [...]`, and whole migration files."""

from __future__ import annotations

from migration_lsp.snippets.model import MYSQL, PG, Snippet, body, doc

DJANGO = frozenset({"django"})
_CONCURRENT_IMPORT = (
    "from django.contrib.postgres.operations import AddIndexConcurrently",
    "from django.contrib.postgres.operations import RemoveIndexConcurrently",
)

SNIPPETS: tuple[Snippet, ...] = (
    Snippet(
        prefix="mig-file",
        label="New Django migration",
        tools=DJANGO,
        context="file",
        detail="Migration class with dependencies and an operations list",
        body=body(
            """
            from django.db import migrations, models


            class Migration(migrations.Migration):

                dependencies = [
                    ("${1:app_label}", "${2:0001_initial}"),
                ]

                operations = [
                    $0
                ]
            """
        ),
        documentation=doc(
            """
            A migration file as `makemigrations --empty` writes it: the migration it depends on
            (app label and migration name, without `.py`) and an operations list.

            Operations that must run outside a transaction (`AddIndexConcurrently`) need a
            migration with `atomic = False`: use `mig-file-index-concurrently`. Never import
            application models in a migration (`model-import-in-migration`): use
            `apps.get_model` inside `RunPython` functions.
            """
        ),
        avoids=("model-import-in-migration",),
    ),
    Snippet(
        prefix="mig-file-index-concurrently",
        label="New non-atomic migration that adds an index concurrently",
        tools=DJANGO,
        context="file",
        dialects=PG,
        detail="atomic = False + AddIndexConcurrently",
        body=body(
            """
            from django.contrib.postgres.operations import AddIndexConcurrently
            from django.db import migrations, models


            class Migration(migrations.Migration):
                # CREATE INDEX CONCURRENTLY cannot run inside a transaction.
                atomic = False

                dependencies = [
                    ("${1:app_label}", "${2:0001_initial}"),
                ]

                operations = [
                    AddIndexConcurrently(
                        model_name="${3:model}",
                        index=models.Index(fields=["${4:field_name}"], name="${5:index_name}"),
                    ),$0
                ]
            """
        ),
        documentation=doc(
            """
            Adds an index with `CREATE INDEX CONCURRENTLY`, which does not block writes while it
            builds (`AddIndex` does: `non-concurrent-index`). PostgreSQL refuses CONCURRENTLY
            inside a transaction, so the migration is `atomic = False`
            (`concurrent-index-in-transaction`). Keep such a migration to the concurrent
            operations: without the transaction, a failure half-way leaves the earlier
            operations applied.

            Declare the same index in the model's `Meta.indexes` (Django limits index names to
            30 characters), or `makemigrations` will want to remove it.
            """
        ),
        avoids=("non-concurrent-index", "concurrent-index-in-transaction"),
        imports=_CONCURRENT_IMPORT[:1],
    ),
    Snippet(
        prefix="mig-file-batch-update",
        label="New data migration that updates in batches",
        tools=DJANGO,
        context="file",
        detail="RunPython with apps.get_model, batches, reverse_code=noop, atomic = False",
        body=body(
            """
            from django.db import migrations

            BATCH_SIZE = ${1:1000}


            def ${2:backfill}(apps, schema_editor):
                # The historical model: never import application models in a migration.
                ${3:Model} = apps.get_model("${4:app_label}", "$3")
                while True:
                    batch = list(
                        $3.objects.filter(${5:field_name}__isnull=True)
                        .order_by("pk")
                        .values_list("pk", flat=True)[:BATCH_SIZE]
                    )
                    if not batch:
                        break
                    # The filter above must stop matching updated rows, or this never ends.
                    $3.objects.filter(pk__in=batch).update($5=${6:"value"})


            class Migration(migrations.Migration):
                # Not atomic: each batch commits on its own instead of holding every row lock
                # until the end.
                atomic = False

                dependencies = [
                    ("$4", "${7:0001_initial}"),
                ]

                operations = [
                    # Nothing to undo: migrating backwards keeps the backfilled values.
                    migrations.RunPython($2, reverse_code=migrations.RunPython.noop),
                ]
            """
        ),
        documentation=doc(
            """
            A data migration that updates rows in batches of `BATCH_SIZE`, each committed on its
            own (`atomic = False`), instead of one UPDATE over the whole table that locks every
            row until it commits (`unbatched-data-update`).

            - The model comes from `apps.get_model`, the historical version matching this
              migration; importing the application's model breaks the migration when the model
              changes later (`model-import-in-migration`).
            - `reverse_code=migrations.RunPython.noop` keeps the migration reversible
              (`runpython-without-reverse`); write a real reverse function if rolling back must
              undo the data change.
            - Keep data migrations separate from schema changes
              (`mixed-schema-and-data-change`).
            """
        ),
        avoids=(
            "unbatched-data-update",
            "model-import-in-migration",
            "runpython-without-reverse",
            "mixed-schema-and-data-change",
        ),
    ),
    Snippet(
        prefix="mig-create-table",
        label="Create model",
        tools=DJANGO,
        context="step",
        detail="migrations.CreateModel with a BigAutoField key",
        body=body(
            """
            migrations.CreateModel(
                name="${1:ModelName}",
                fields=[
                    (
                        "id",
                        models.BigAutoField(
                            auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                        ),
                    ),
                    ("${2:name}", models.${3:TextField}()),
                    ("created_at", models.DateTimeField(auto_now_add=True)),
                ],
            ),$0
            """
        ),
        documentation=doc(
            """
            Creates a model's table with a `BigAutoField` primary key (an `integer` key runs out
            at 2.1 billion rows: `prefer-bigint-primary-key`). Creating a table is always safe:
            it is new and empty.
            """
        ),
        avoids=("prefer-bigint-primary-key",),
    ),
    Snippet(
        prefix="mig-add-column",
        label="Add nullable field",
        tools=DJANGO,
        context="step",
        detail="migrations.AddField with null=True (backfill and NOT NULL come later)",
        body=body(
            """
            migrations.AddField(
                model_name="${1:model}",
                name="${2:field_name}",
                field=models.${3:TextField}(null=True, blank=True),
            ),$0
            """
        ),
        documentation=doc(
            """
            Adds a nullable column: no table rewrite, existing rows stay valid. A field without
            `null=True`, `default` or `db_default` fails on a non-empty table
            (`add-not-null-column-without-default`).

            For a field that must end up NOT NULL: add it nullable (this), backfill it in
            batches (`mig-file-batch-update`), then make it NOT NULL (`mig-not-null-check`,
            then `mig-set-not-null`).
            """
        ),
        avoids=("add-not-null-column-without-default",),
    ),
    Snippet(
        prefix="mig-add-column-default",
        label="Add field with a database default",
        tools=DJANGO,
        context="step",
        detail="migrations.AddField with db_default (Django 5.0+)",
        body=body(
            """
            migrations.AddField(
                model_name="${1:model}",
                name="${2:field_name}",
                field=models.${3:BooleanField}(db_default=${4:False}),
            ),$0
            """
        ),
        documentation=doc(
            """
            Adds a NOT NULL field with a **database** default (`db_default`, Django 5.0+): the
            database fills existing rows, and rows inserted by the application version still
            running during the deploy (which does not know the field) get the default too.

            With `default=` only, Django sets the default while adding the column and drops it
            right after, so those inserts fail. Keep the default a constant: a volatile one
            (`Now()` is fine, `RandomUUID()` is not) rewrites the table
            (`add-column-volatile-default`). Avoids `add-not-null-column-without-default`.
            """
        ),
        avoids=("add-not-null-column-without-default", "add-column-volatile-default"),
    ),
    Snippet(
        prefix="mig-index-concurrently",
        label="Add index concurrently",
        tools=DJANGO,
        context="step",
        dialects=PG,
        detail="AddIndexConcurrently (the migration needs atomic = False)",
        body=body(
            """
            # Needs `atomic = False` on this Migration class.
            AddIndexConcurrently(
                model_name="${1:model}",
                index=models.Index(fields=["${2:field_name}"], name="${3:index_name}"),
            ),$0
            """
        ),
        documentation=doc(
            """
            Adds an index with `CREATE INDEX CONCURRENTLY`: writes continue while it builds
            (`non-concurrent-index`). Needs
            `from django.contrib.postgres.operations import AddIndexConcurrently`, and the
            migration **must** set `atomic = False`: PostgreSQL refuses CONCURRENTLY inside a
            transaction (`concurrent-index-in-transaction`). `mig-file-index-concurrently` writes
            the whole file.
            """
        ),
        avoids=("non-concurrent-index", "concurrent-index-in-transaction"),
        imports=_CONCURRENT_IMPORT[:1],
    ),
    Snippet(
        prefix="mig-drop-index-concurrently",
        label="Remove index concurrently",
        tools=DJANGO,
        context="step",
        dialects=PG,
        detail="RemoveIndexConcurrently (the migration needs atomic = False)",
        body=body(
            """
            # Needs `atomic = False` on this Migration class.
            RemoveIndexConcurrently(
                model_name="${1:model}",
                name="${2:index_name}",
            ),$0
            """
        ),
        documentation=doc(
            """
            Drops an index with `DROP INDEX CONCURRENTLY`, without the ACCESS EXCLUSIVE lock of
            `RemoveIndex` (`non-concurrent-index-drop`). Needs
            `from django.contrib.postgres.operations import RemoveIndexConcurrently` and
            `atomic = False` on the migration (`concurrent-index-in-transaction`).
            """
        ),
        avoids=("non-concurrent-index-drop", "concurrent-index-in-transaction"),
        imports=_CONCURRENT_IMPORT[1:],
    ),
    Snippet(
        prefix="mig-foreign-key",
        label="Add foreign key NOT VALID",
        tools=DJANGO,
        context="step",
        dialects=PG,
        detail="RunSQL ... NOT VALID for the database, AlterField for the model state",
        body=body(
            """
            # Validate it in the next migration: mig-validate-constraint.
            migrations.SeparateDatabaseAndState(
                database_operations=[
                    migrations.RunSQL(
                        sql=(
                            "ALTER TABLE ${1:app_order} ADD CONSTRAINT ${2:app_order_user_id_fk} "
                            "FOREIGN KEY (${3:user_id}) REFERENCES ${4:app_user} (id) "
                            "DEFERRABLE INITIALLY DEFERRED NOT VALID"
                        ),
                        reverse_sql="ALTER TABLE $1 DROP CONSTRAINT $2",
                    ),
                ],
                state_operations=[
                    migrations.AlterField(
                        model_name="${5:order}",
                        name="${6:user}",
                        field=models.ForeignKey(
                            on_delete=models.${7|PROTECT,CASCADE|}, to="${8:app.user}"
                        ),
                    ),
                ],
            ),$0
            """
        ),
        documentation=doc(
            """
            Adds the foreign key of an existing column with `NOT VALID`: only new rows are
            checked, so the lock on both tables lasts milliseconds instead of a full scan
            (`foreign-key-without-not-valid`). Django cannot write NOT VALID itself, so the
            database gets `RunSQL` (with `reverse_sql`: `runsql-without-reverse`) and Django's
            model state gets the `AlterField` to the `ForeignKey`, in a
            `SeparateDatabaseAndState`. The column (`<field>_id`) must exist already, e.g. added
            as `ForeignKey(..., db_constraint=False, null=True)`.

            Validate the constraint in the **next** migration (`mig-validate-constraint`):
            in the same (atomic) migration the scan would hold this step's lock.
            """
        ),
        avoids=("foreign-key-without-not-valid", "runsql-without-reverse"),
    ),
    Snippet(
        prefix="mig-validate-constraint",
        label="Validate a NOT VALID constraint",
        tools=DJANGO,
        context="step",
        dialects=PG,
        detail="RunSQL VALIDATE CONSTRAINT (no blocking lock)",
        body=body(
            """
            migrations.RunSQL(
                sql="ALTER TABLE ${1:app_model} VALIDATE CONSTRAINT ${2:constraint_name}",
                reverse_sql=migrations.RunSQL.noop,
            ),$0
            """
        ),
        documentation=doc(
            """
            Validates a constraint added with `NOT VALID` in an earlier migration
            (`mig-foreign-key`, `mig-not-null-check`): scans the table under a SHARE UPDATE
            EXCLUSIVE lock, so reads and writes continue (`foreign-key-without-not-valid`,
            `check-constraint-without-not-valid`). Nothing to undo when migrating backwards:
            `reverse_sql=migrations.RunSQL.noop` (`runsql-without-reverse`).
            """
        ),
        avoids=(
            "foreign-key-without-not-valid",
            "check-constraint-without-not-valid",
            "runsql-without-reverse",
        ),
    ),
    Snippet(
        prefix="mig-not-null-check",
        label="NOT NULL, step 1: CHECK NOT VALID",
        tools=DJANGO,
        context="step",
        dialects=PG,
        detail="RunSQL ADD CONSTRAINT ... CHECK (col IS NOT NULL) NOT VALID",
        body=body(
            """
            # Step 1 of 2; the next migration finishes with mig-set-not-null.
            migrations.RunSQL(
                sql=(
                    "ALTER TABLE ${1:app_model} ADD CONSTRAINT ${3:app_model_field_name_not_null} "
                    "CHECK (${2:field_name} IS NOT NULL) NOT VALID"
                ),
                reverse_sql="ALTER TABLE $1 DROP CONSTRAINT $3",
            ),$0
            """
        ),
        documentation=doc(
            """
            First of the two migrations that make an existing column NOT NULL without scanning
            the table under an ACCESS EXCLUSIVE lock (`set-not-null-on-existing-column`): a
            `CHECK (col IS NOT NULL) NOT VALID` constraint, which only checks new rows
            (`check-constraint-without-not-valid`). The next migration validates it and sets
            NOT NULL (`mig-set-not-null`). Backfill the NULLs in between. `reverse_sql` drops
            the constraint when migrating backwards (`runsql-without-reverse`).
            """
        ),
        avoids=("check-constraint-without-not-valid", "runsql-without-reverse"),
    ),
    Snippet(
        prefix="mig-set-not-null",
        label="NOT NULL, step 2: VALIDATE, then SET NOT NULL",
        tools=DJANGO,
        context="step",
        dialects=PG,
        detail="VALIDATE the CHECK from mig-not-null-check, AlterField(null=False), drop the CHECK",
        body=body(
            """
            # Step 2 of 2, after mig-not-null-check in an earlier migration.
            migrations.RunSQL(
                sql=(
                    "ALTER TABLE ${1:app_model} "
                    "VALIDATE CONSTRAINT ${3:app_model_field_name_not_null}"
                ),
                reverse_sql=migrations.RunSQL.noop,
            ),
            # SET NOT NULL uses the validated CHECK instead of scanning (PostgreSQL 12+).
            migrations.AlterField(
                model_name="${4:model}",
                name="${2:field_name}",
                field=models.${5:TextField}(null=False),
            ),
            migrations.RunSQL(
                sql="ALTER TABLE $1 DROP CONSTRAINT $3",
                reverse_sql="ALTER TABLE $1 ADD CONSTRAINT $3 CHECK ($2 IS NOT NULL) NOT VALID",
            ),$0
            """
        ),
        documentation=doc(
            """
            Second migration of the NOT NULL change (after `mig-not-null-check`): `VALIDATE
            CONSTRAINT` scans under a lock that lets reads and writes continue, then the
            `AlterField(null=False)` runs `SET NOT NULL`, which PostgreSQL 12+ does without a
            scan because the validated CHECK proves there are no NULLs
            (`set-not-null-on-existing-column`). The CHECK is dropped afterwards.

            The field definition in `AlterField` must match the model (same type and options,
            without `null=True`). Give the field no `default` here: Django would first run an
            UPDATE of the NULL rows in the same transaction. Both `RunSQL` carry a `reverse_sql`
            (`runsql-without-reverse`).
            """
        ),
        avoids=("set-not-null-on-existing-column", "runsql-without-reverse"),
    ),
    Snippet(
        prefix="mig-rename-column",
        label="Rename field by expand/contract (step 1)",
        tools=DJANGO,
        context="step",
        detail="Add the new field; the comment lists the remaining steps",
        body=body(
            """
            # Rename ${1:model}.${2:old_name} to ${3:new_name} without breaking running code:
            #   1. This migration: add $3, nullable.
            #   2. Release code that writes both fields and still reads $2.
            #   3. Backfill $3 from $2 in batches (mig-file-batch-update).
            #   4. Release code that reads $3 and no longer uses $2.
            #   5. Later migrations: make $3 NOT NULL if needed, then remove $2.
            migrations.AddField(
                model_name="$1",
                name="$3",
                field=models.${4:TextField}(null=True),
            ),$0
            """
        ),
        documentation=doc(
            """
            `RenameField` renames the column in place and breaks the application version still
            running during the deploy (`rename-column`). Expand/contract avoids that: add the
            new field (nullable: `add-not-null-column-without-default`), write to both,
            backfill, switch reads, remove the old field in a later release. This snippet writes
            the first step.

            If only the Python name has to change, keep the column instead:
            `models.TextField(db_column="old_name")` renames nothing in the database.
            """
        ),
        avoids=("rename-column", "add-not-null-column-without-default"),
    ),
    Snippet(
        prefix="mig-lock-timeout",
        label="SET lock_timeout",
        tools=DJANGO,
        context="step",
        dialects=PG,
        detail="Give up instead of queueing every query behind a blocked ALTER",
        body=body(
            """
            migrations.RunSQL(
                sql="SET lock_timeout = '${1|5s,2s,10s,1s|}'",
                reverse_sql=migrations.RunSQL.noop,
            ),$0
            """
        ),
        documentation=doc(
            """
            An `ALTER TABLE` waiting for its ACCESS EXCLUSIVE lock makes every later query on
            the table wait behind it. With `lock_timeout` the migration fails fast instead and
            can be retried (`missing-lock-timeout`). Make it the first operation; nothing to
            undo when migrating backwards (`reverse_sql=migrations.RunSQL.noop`:
            `runsql-without-reverse`).
            """
        ),
        avoids=("missing-lock-timeout", "runsql-without-reverse"),
    ),
    Snippet(
        prefix="mig-lock-timeout",
        label="SET lock_wait_timeout",
        tools=DJANGO,
        context="step",
        dialects=MYSQL,
        detail="Give up instead of queueing every query behind a blocked ALTER",
        body=body(
            """
            migrations.RunSQL(
                sql="SET SESSION lock_wait_timeout = ${1|5,2,10|}",
                reverse_sql=migrations.RunSQL.noop,
            ),$0
            """
        ),
        documentation=doc(
            """
            An `ALTER TABLE` waiting for its metadata lock makes every later query on the table
            wait behind it. `lock_wait_timeout` (seconds) makes the migration fail fast instead
            (`missing-lock-timeout`). Make it the first operation (with a no-op reverse:
            `runsql-without-reverse`).
            """
        ),
        avoids=("missing-lock-timeout", "runsql-without-reverse"),
    ),
)
