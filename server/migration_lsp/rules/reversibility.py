"""Reversibility: can the migration be rolled back?"""

from __future__ import annotations

from collections.abc import Iterator

from migration_lsp.findings import Finding
from migration_lsp.model import RunCode, Severity, Step, changes_schema
from migration_lsp.rules.base import Context, rule


def _forward_changes_schema(ctx: Context) -> bool:
    return any(op.step is Step.UP and changes_schema(op) for op in ctx.migration.operations)


@rule(
    "missing-downgrade",
    summary="The migration has no reverse step",
    severity=Severity.WARNING,
    category="reversibility",
    fix="add-downgrade",
    anchors={"alembic": "downgrade()", "django-migration-linter": "RUNPYTHON_REVERSIBLE"},
)
def missing_downgrade(ctx: Context) -> Iterator[Finding]:
    """
    ## What it does
    Flags a migration for a tool with a reverse step (Alembic `downgrade()`, Knex/Sequelize/
    TypeORM `down`, Laravel `down()`, Rails `down`) that does not define one at all.

    ## Why is this bad?
    When a deploy goes wrong, rolling back is the fastest way out. A migration without a reverse
    step blocks `alembic downgrade -1` for it and for every migration before it, exactly when
    the team is under pressure.

    ## Example
    ```python
    def upgrade():
        op.add_column("users", sa.Column("email", sa.String(255), nullable=True))
    ```

    ## Use instead
    ```python
    def upgrade():
        op.add_column("users", sa.Column("email", sa.String(255), nullable=True))

    def downgrade():
        op.drop_column("users", "email")
    ```

    ## Fix safety
    The fix generates the inverse of every operation it can invert and an explicit
    `raise NotImplementedError` for the rest; review it before committing.
    """
    m = ctx.migration
    if not m.supports_down or m.down is not None or not m.operations:
        return
    at = m.up.span if m.up is not None else None
    if at is None:
        return
    yield ctx.finding(
        at,
        "Migration has no downgrade: it cannot be rolled back. Add a downgrade() that undoes "
        "the upgrade, or raise an explicit error saying why it cannot be undone.",
    )


@rule(
    "empty-downgrade",
    summary="The reverse step does nothing while the forward step changes the schema",
    severity=Severity.WARNING,
    category="reversibility",
    fix="add-downgrade",
)
def empty_downgrade(ctx: Context) -> Iterator[Finding]:
    """
    ## What it does
    Flags a reverse step whose body is only `pass`, `...`, a docstring or comments while the
    forward step changes the schema.

    ## Why is this bad?
    An empty downgrade "succeeds" without undoing anything: the migration history says the
    change was rolled back while the database still has it. The next upgrade then fails, or
    worse, runs on a schema it does not expect. An explicit error is honest; silence is not.

    ## Example
    ```python
    def upgrade():
        op.create_table("posts", sa.Column("id", sa.BigInteger(), primary_key=True))

    def downgrade():
        pass
    ```

    ## Use instead
    ```python
    def downgrade():
        op.drop_table("posts")
    ```

    ## Fix safety
    The fix fills the body with generated inverse operations; review it.
    """
    m = ctx.migration
    if not m.supports_down or m.down is None or not m.down.empty:
        return
    if not _forward_changes_schema(ctx):
        return
    yield ctx.finding(
        m.down.span,
        "Downgrade is empty but the upgrade changes the schema: rolling back would silently "
        "leave the change in place. Undo the upgrade's operations, or raise an error that says "
        "why it cannot be undone.",
    )


@rule(
    "runpython-without-reverse",
    summary="Django RunPython without reverse_code",
    severity=Severity.WARNING,
    category="reversibility",
    fix="add-reverse-code",
    anchors={"django-migration-linter": "RUNPYTHON_REVERSIBLE"},
)
def runpython_without_reverse(ctx: Context) -> Iterator[Finding]:
    """
    ## What it does
    Flags `migrations.RunPython(forward)` without `reverse_code`.

    ## Why is this bad?
    Django refuses to migrate backwards past an operation it cannot reverse
    (`IrreversibleError`), so one data migration blocks rolling back the whole app.

    ## Example
    ```python
    operations = [migrations.RunPython(fill_slugs)]
    ```

    ## Use instead
    ```python
    operations = [migrations.RunPython(fill_slugs, reverse_code=migrations.RunPython.noop)]
    ```
    or a real reverse function when the data change must be undone.

    ## Fix safety
    Adding `reverse_code=migrations.RunPython.noop` is marked unsafe: it declares that rolling
    back needs no data change, which only you can confirm.
    """
    for op in ctx.migration.operations:
        if isinstance(op, RunCode) and op.language == "python" and not op.has_reverse:
            yield ctx.finding(
                op,
                "RunPython has no reverse_code, so this migration cannot be unapplied. Pass "
                "reverse_code (a function, or migrations.RunPython.noop if nothing needs undoing).",
                part="code",
            )


@rule(
    "runsql-without-reverse",
    summary="Django RunSQL without reverse_sql",
    severity=Severity.WARNING,
    category="reversibility",
    fix="add-reverse-sql",
    anchors={"django-migration-linter": "RUNSQL_REVERSIBLE"},
)
def runsql_without_reverse(ctx: Context) -> Iterator[Finding]:
    """
    ## What it does
    Flags `migrations.RunSQL(sql)` without `reverse_sql`.

    ## Why is this bad?
    Django cannot reverse raw SQL by itself; without `reverse_sql` the migration is
    irreversible and blocks rolling back the app.

    ## Example
    ```python
    migrations.RunSQL("CREATE INDEX CONCURRENTLY ix_orders_created ON shop_order (created)")
    ```

    ## Use instead
    ```python
    migrations.RunSQL(
        "CREATE INDEX CONCURRENTLY ix_orders_created ON shop_order (created)",
        reverse_sql="DROP INDEX CONCURRENTLY ix_orders_created",
    )
    ```

    ## Fix safety
    `reverse_sql=migrations.RunSQL.noop` is marked unsafe; a derived reverse statement is
    offered where one exists.
    """
    for op in ctx.migration.operations:
        if isinstance(op, RunCode) and op.language == "sql" and not op.has_reverse:
            yield ctx.finding(
                op,
                "RunSQL has no reverse_sql, so this migration cannot be unapplied. Pass "
                "reverse_sql (the undoing SQL, or migrations.RunSQL.noop).",
                part="sql",
            )
