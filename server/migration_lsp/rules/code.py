"""Rules about the Python code of data migrations: loops, sessions."""

from __future__ import annotations

from collections.abc import Iterator

from migration_lsp.findings import Finding
from migration_lsp.model import DataChange, SessionCommit, Severity
from migration_lsp.rules.base import Context, Rule, rule
from migration_lsp.text import Span


@rule(
    "row-by-row-data-migration",
    summary="A Python loop issuing one statement per row",
    severity=Severity.INFO,
    category="data",
)
def row_by_row_data_migration(ctx: Context) -> Iterator[Finding]:
    """
    ## What it does
    Flags a loop over query results that sends one statement per row: Alembic
    `for row in rows: connection.execute(...)` / `op.execute(...)`, Django `RunPython` code
    `for obj in Model.objects.all(): obj.save()` (or `.update()`, `.delete()`,
    `cursor.execute(...)` per object). Loops over batches (`while True:` with a bounded
    `UPDATE` and a `rowcount` check, loops over chunks or `range()`) are not flagged.

    ## Why is this bad?
    Every row costs a round trip to the database: a million rows is a million statements, and
    the migration runs for hours while holding its locks and its transaction open. Django's
    `save()` without `update_fields` also writes every column, overwriting concurrent changes.

    ## Example
    ```python
    # alembic: alembic/versions/6a7b8c9d0e1f_fill_full_name.py
    def upgrade():
        conn = op.get_bind()
        rows = conn.execute(sa.text("SELECT id, first_name, last_name FROM users")).fetchall()
        for user_id, first_name, last_name in rows:
            conn.execute(
                sa.text("UPDATE users SET full_name = :name WHERE id = :id"),
                {"name": f"{first_name} {last_name}", "id": user_id},
            )
    ```

    ## Use instead
    One set-based statement, or bounded batches of it:

    ```python
    # alembic: alembic/versions/6a7b8c9d0e1f_fill_full_name.py
    def upgrade():
        op.execute("UPDATE users SET full_name = first_name || ' ' || last_name")
    ```
    In Django, `Model.objects.update(full_name=Concat("first_name", Value(" "), "last_name"))`
    or `bulk_update(objs, ["full_name"], batch_size=1000)`.

    ## Fix safety
    No automatic fix: the set-based statement depends on what the loop computes.
    """
    seen: set[Span] = set()
    for op in ctx.of(DataChange):
        if not isinstance(op, DataChange) or not op.per_row:
            continue
        loop = op.spans.get("loop", op.span)
        if loop in seen:
            continue
        seen.add(loop)
        what = "saves or updates each object" if op.kind == "python" else "executes a statement"
        yield ctx.finding(
            op,
            f"This loop {what} once per row: one round trip per row, which is slow on large "
            "tables and keeps the migration's locks held. Use one set-based statement (or "
            "bounded batches) instead.",
            part="call",
        )


@rule(
    "session-commit-in-migration",
    summary="An ORM Session created inside the migration and committed",
    severity=Severity.WARNING,
    category="data",
)
def session_commit_in_migration(ctx: Context) -> Iterator[Finding]:
    """
    ## What it does
    Flags `session.commit()` on an ORM session the Alembic migration creates itself:
    `Session(bind=op.get_bind())`, `orm.Session(...)`, `sessionmaker(bind=...)()`.

    ## Why is this bad?
    Alembic runs the migration inside its own transaction and commits it at the end, together
    with the new revision in `alembic_version`. A session that commits by itself works around
    that. On a separate connection (bound to an engine, or a `sessionmaker` from the
    application's configuration) it commits its rows on its own: they stay when the migration
    later fails and is rolled back, and it cannot see the migration's uncommitted schema changes
    or waits on its locks. Bound to the migration's connection, what `commit()` does depends on
    the SQLAlchemy version and the connection's state: SQLAlchemy 2.0 silently leaves the
    transaction open, older versions and non-transactional setups can end it early. Either way
    the migration is no longer one atomic step, and the code does not do what it says.

    ## Example
    ```python
    # alembic: alembic/versions/7b8c9d0e1f2a_activate_users.py
    def upgrade():
        session = Session(bind=op.get_bind())
        session.execute(sa.text("UPDATE users SET active = true WHERE active IS NULL"))
        session.commit()
    ```

    ## Use instead
    ```python
    # alembic: alembic/versions/7b8c9d0e1f2a_activate_users.py
    def upgrade():
        op.get_bind().execute(sa.text("UPDATE users SET active = true WHERE active IS NULL"))
    ```
    or `session.flush()` when ORM objects must reach the database before later statements;
    Alembic commits at the end of the migration.

    ## Fix safety
    No automatic fix.
    """
    for op in ctx.of(SessionCommit):
        if isinstance(op, SessionCommit):
            yield ctx.finding(
                op,
                "An ORM session committed inside the migration bypasses Alembic's transaction: "
                "depending on its connection and the SQLAlchemy version it commits separately, "
                "ends the migration's transaction early, or does nothing. Run the statements "
                "through op.get_bind() and let Alembic commit.",
                part="keyword",
            )


RULES: tuple[Rule, ...] = (row_by_row_data_migration, session_commit_in_migration)
"""This module's rules, in catalogue order; `registry.RULES` includes them."""
