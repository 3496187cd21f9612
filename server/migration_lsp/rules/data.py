"""Data migrations: moving rows safely, and Python migration code that breaks later."""

from __future__ import annotations

from collections.abc import Iterator

from migration_lsp.findings import Finding
from migration_lsp.model import DataChange, ExecuteSQL, Severity, changes_schema
from migration_lsp.rules.base import PG, Context, rule

_FRAMEWORK_MODULES = ("django.", "sqlalchemy", "alembic", "flask_sqlalchemy", "sqlmodel")


@rule(
    "mixed-schema-and-data-change",
    summary="One migration both changes the schema and moves data",
    severity=Severity.WARNING,
    category="data",
)
def mixed_schema_and_data_change(ctx: Context) -> Iterator[Finding]:
    """
    ## What it does
    Flags a migration whose forward step both changes the schema and writes rows of existing
    tables (`UPDATE`/`DELETE`/`INSERT` through `op.execute` or `RunSQL`, `RunPython`,
    `op.bulk_insert`). Rows inserted into a table created by the same migration do not count.

    ## Why is this bad?
    In a transactional migration the schema change's locks are held for as long as the data
    change runs, blocking the table; if the data step fails half-way, the schema change is rolled
    back with it (or, without a transaction, left half-applied). Data steps are also the ones you
    want to re-run or batch separately.

    ## Example
    ```python
    # alembic: alembic/versions/1b2c3d4e5f6a_add_full_name.py
    def upgrade():
        op.add_column("users", sa.Column("full_name", sa.Text(), nullable=True))
        op.execute("UPDATE users SET full_name = first_name || ' ' || last_name")
    ```

    ## Use instead
    One migration adds the column, a second one backfills it (in batches):

    ```python
    # alembic: alembic/versions/1b2c3d4e5f6a_add_full_name.py
    def upgrade():
        op.add_column("users", sa.Column("full_name", sa.Text(), nullable=True))
    ```

    ```python
    # alembic: alembic/versions/2c3d4e5f6a7b_backfill_full_name.py
    def upgrade():
        op.execute(
            "UPDATE users SET full_name = first_name || ' ' || last_name "
            "WHERE id IN (SELECT id FROM users WHERE full_name IS NULL ORDER BY id LIMIT 1000)"
        )
    ```

    ## Fix safety
    No automatic fix.
    """
    schema = ctx.fact(_schema_units)
    if not schema:
        return
    reported: set[int] = set()
    for op in ctx.of(DataChange):  # the first data change of each unit that changes the schema
        unit = ctx.transaction_of(op)[1]
        if unit in schema and unit not in reported and not ctx.is_new_table(op.table, op):
            reported.add(unit)
            what = "RunPython" if op.kind == "python" else op.kind.replace("_", " ").upper()
            yield ctx.finding(
                op,
                f"This migration changes the schema and also moves data ({what}). Split the data "
                "change into its own migration.",
            )


def _schema_units(ctx: Context) -> frozenset[int]:
    """The transaction units (`Context.transaction_of`: one per step, or one per Liquibase
    changeSet) whose judged operations change the schema. An edit that keeps this set and
    no data change keeps the findings."""
    ops = ctx.operations()
    if ctx.one_unit_per_step():  # one unit: the first schema change decides
        return frozenset({-1}) if any(map(changes_schema, ops)) else frozenset()
    return frozenset(ctx.transaction_of(op)[1] for op in ops if changes_schema(op))


@rule(
    "unbatched-data-update",
    summary="UPDATE or DELETE over a whole table in one statement",
    severity=Severity.INFO,
    category="data",
    subjects=(DataChange,),
)
def unbatched_data_update(ctx: Context) -> Iterator[Finding]:
    """
    ## What it does
    Flags an `UPDATE` or `DELETE` with no `WHERE` clause, or whose `WHERE` only tests for NULL
    (the usual backfill), on a table the migration did not create.

    ## Why is this bad?
    One statement over every row holds row locks on all of them until it commits, bloats the
    table and WAL, and can run for hours on a large table while blocking concurrent writers.

    ## Example
    ```sql
    -- flyway: db/migration/V20__backfill_email.sql
    UPDATE users SET email = username || '@example.com' WHERE email IS NULL;
    ```

    ## Use instead
    ```sql
    -- flyway: db/migration/V20__backfill_email.sql
    UPDATE users SET email = username || '@example.com'
    WHERE id IN (SELECT id FROM users WHERE email IS NULL ORDER BY id LIMIT 1000);
    ```
    repeated until it updates no rows, each batch in its own transaction (the snippets
    `mig-batch-update` and `mig-file-batch-update` write the loop).

    ## Fix safety
    No automatic fix; the snippets `mig-batch-update` and `mig-file-batch-update` write the
    loop.
    """
    for op in ctx.of(DataChange):
        if (
            isinstance(op, DataChange)
            and op.kind in ("update", "delete")
            and op.unbounded
            and not ctx.is_new_table(op.table, op)
        ):
            scope = "every row" if not op.has_where else "an unbounded set of rows"
            yield ctx.finding(
                op,
                f"{op.kind.upper()} on '{op.table}' touches {scope} in one statement, locking "
                "them until commit. Process it in batches of bounded size.",
            )


@rule(
    "update-with-limit",
    summary="UPDATE ... LIMIT / DELETE ... LIMIT is a syntax error in PostgreSQL",
    severity=Severity.ERROR,
    category="data",
    dialects=PG,
    fix="limit-via-subquery",
    subjects=(DataChange,),
)
def update_with_limit(ctx: Context) -> Iterator[Finding]:
    """
    ## What it does
    Flags `UPDATE ... LIMIT n` and `DELETE ... LIMIT n` on PostgreSQL.

    ## Why is this bad?
    PostgreSQL has no LIMIT on UPDATE or DELETE: the migration fails with a syntax error. (The
    popular batching example in many migration guides has exactly this bug.)

    ## Example
    ```sql
    -- flyway: db/migration/V21__backfill_email.sql
    UPDATE users SET email = username || '@example.com' WHERE email IS NULL LIMIT 1000;
    ```

    ## Use instead
    ```sql
    -- flyway: db/migration/V21__backfill_email.sql
    UPDATE users SET email = username || '@example.com'
    WHERE id IN (SELECT id FROM users WHERE email IS NULL LIMIT 1000);
    ```

    ## Fix safety
    Safe: the fix limits a subquery on `ctid` (every PostgreSQL table has it, no primary key
    needs to be known): `WHERE ctid = ANY(ARRAY(SELECT ctid FROM users WHERE ... LIMIT 1000))`,
    the same bounded batch of rows.
    """
    for op in ctx.of(DataChange):
        if isinstance(op, DataChange) and op.has_limit and op.kind in ("update", "delete"):
            yield ctx.finding(
                op,
                f"PostgreSQL does not support LIMIT on {op.kind.upper()}: this fails with a syntax "
                "error. Limit a subquery instead: WHERE id IN (SELECT id ... LIMIT n), or on "
                "ctid.",
                part="limit",
            )


@rule(
    "model-import-in-migration",
    summary="The migration imports application models",
    severity=Severity.WARNING,
    category="data",
    anchors={"django-migration-linter": "RUNPYTHON_MODEL_IMPORT"},
)
def model_import_in_migration(ctx: Context) -> Iterator[Finding]:
    """
    ## What it does
    Flags a Python migration that imports the application's models
    (`from myapp.models import User`).

    ## Why is this bad?
    A migration must keep describing the schema as it was when it was written. Application
    models describe the schema of today: when a field is added or removed later, this old
    migration breaks (queries mention columns that do not exist yet), and fresh databases and
    test runs can no longer be built from the history.

    ## Example
    ```python
    # alembic: alembic/versions/3d4e5f6a7b8c_activate_users.py
    from myapp.models import User


    def upgrade():
        op.get_bind().execute(sa.update(User.__table__).values(active=True))
    ```

    ## Use instead
    Alembic: describe the table inside the migration, as it is at this revision.

    ```python
    # alembic: alembic/versions/3d4e5f6a7b8c_activate_users.py
    users = sa.table("users", sa.column("id"), sa.column("active"))


    def upgrade():
        op.get_bind().execute(sa.update(users).values(active=True))
    ```

    Django: the historical model, inside the `RunPython` function.

    ```python
    # django: shop/migrations/0004_activate_customers.py
    from django.db import migrations


    def activate(apps, schema_editor):
        Customer = apps.get_model("shop", "Customer")
        Customer.objects.filter(active=False).update(active=True)


    class Migration(migrations.Migration):
        dependencies = [("shop", "0003_customer_active")]
        operations = [migrations.RunPython(activate, migrations.RunPython.noop)]
    ```

    ## Fix safety
    No automatic fix.
    """
    if ctx.migration.tool not in ("alembic", "django"):
        return
    for imp in ctx.migration.imports:
        parts = imp.module.split(".")
        if imp.from_import and "models" in imp.names:
            parts.append("models")  # from shop import models / from . import models
        if "models" not in parts or imp.module.startswith(_FRAMEWORK_MODULES):
            continue
        # `import app.models` is how Django's generator references custom fields and
        # callables; importing names out of a models module is the hand-written pattern.
        if ctx.migration.tool == "django" and not imp.from_import:
            continue
        names = ", ".join(imp.names) if imp.names else imp.module
        yield ctx.finding(
            imp.span,
            f"Importing application models ({names}) ties this migration to today's models: it "
            "breaks when they change. Describe the tables inside the migration instead"
            + (" (apps.get_model)." if ctx.migration.tool == "django" else " (sa.table)."),
        )


@rule(
    "sql-string-formatting",
    summary="SQL built with f-strings, % or .format()",
    severity=Severity.WARNING,
    category="data",
    fix="bind-parameters",
)
def sql_string_formatting(ctx: Context) -> Iterator[Finding]:
    """
    ## What it does
    Flags SQL passed to `op.execute`, `connection.execute`, `RunSQL` or `execute` that is built
    with an f-string, `%`, `.format()` or `+` with values.

    ## Why is this bad?
    Values pasted into SQL text are not quoted or escaped: quotes in data break the statement and
    open the door to SQL injection. (migration-lsp still checks the statement around the
    placeholders, but cannot know what the values will turn it into.)

    ## Example
    ```python
    # alembic: alembic/versions/4e5f6a7b8c9d_set_plan.py
    def upgrade():
        op.execute(f"UPDATE users SET plan = '{PLAN}' WHERE id = {USER_ID}")
    ```

    ## Use instead
    ```python
    # alembic: alembic/versions/4e5f6a7b8c9d_set_plan.py
    def upgrade():
        op.get_bind().execute(
            sa.text("UPDATE users SET plan = :plan WHERE id = :id"),
            {"plan": PLAN, "id": USER_ID},
        )
    ```

    ## Fix safety
    The fix rewrites the placeholders as bound parameters (`:name` with `sa.text`, `%s` with a
    parameter list for Django). It is marked unsafe: the values now travel as parameters, which
    changes their type handling; values in identifier positions cannot be bound and get advice
    instead.
    """
    advice = _BIND_ADVICE.get(ctx.migration.tool, _BIND_ADVICE["alembic"])
    for op in ctx.of(ExecuteSQL):
        if isinstance(op, ExecuteSQL) and op.formatted:
            yield ctx.finding(
                op,
                "SQL is built with string formatting: the values are not quoted or escaped. "
                + advice,
                part="sql",
            )


_BIND_ADVICE = {
    "alembic": "Use bound parameters (sa.text(...) with :name placeholders).",
    "django": "Pass parameters separately: RunSQL([(sql, [value])]) with %s placeholders, or "
    "cursor.execute(sql, params).",
    "laravel": "Pass the values as bindings: DB::statement('... = ?', [$value]).",
    "knex": "Pass the values as bindings: knex.raw('... WHERE id = ?', [id]) (?? for names).",
    "sequelize": "Pass the values as replacements: queryInterface.sequelize.query('... WHERE id "
    "= :id', { replacements: { id } }).",
    "typeorm": "Pass the values as parameters: queryRunner.query('... WHERE id = $1', [id]) "
    "(? placeholders on MySQL).",
    "rails": "Quote the values: execute(sanitize_sql_array(['... WHERE id = ?', id])), or "
    "connection.quote(value).",
}


@rule(
    "execute-result-used",
    summary="Using the return value of Alembic op.execute(), which is always None",
    severity=Severity.ERROR,
    category="data",
    fix="use-get-bind",
)
def execute_result_used(ctx: Context) -> Iterator[Finding]:
    """
    ## What it does
    Flags code that uses the result of Alembic's `op.execute(...)`: assigning it, reading
    `.rowcount`, iterating over it.

    ## Why is this bad?
    `op.execute` returns None (it also works in offline `--sql` mode, where nothing is executed),
    so `op.execute(...).rowcount` raises `AttributeError` at run time, half-way through the
    migration. Batching loops written this way never terminate correctly.

    ## Example
    ```python
    # alembic: alembic/versions/5f6a7b8c9d0e_activate_users.py
    def upgrade():
        result = op.execute("UPDATE users SET active = true WHERE active IS NULL")
        print(result.rowcount)
    ```

    ## Use instead
    ```python
    # alembic: alembic/versions/5f6a7b8c9d0e_activate_users.py
    def upgrade():
        result = op.get_bind().execute(
            sa.text("UPDATE users SET active = true WHERE active IS NULL")
        )
        print(result.rowcount)
    ```

    ## Fix safety
    Safe: `op.get_bind().execute(sa.text(...))` runs the same statement and returns the result.
    """
    if ctx.migration.tool != "alembic":
        return
    for op in ctx.of(ExecuteSQL):
        if isinstance(op, ExecuteSQL) and op.result_used and op.origin == "op.execute":
            yield ctx.finding(
                op,
                "op.execute() returns None: using its result raises at run time. Use "
                "op.get_bind().execute(sa.text(...)) to get a result.",
                part="keyword",
            )
