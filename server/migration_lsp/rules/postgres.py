"""PostgreSQL statement rules: maintenance, partitions, enums, domains, transactions."""

from __future__ import annotations

from collections.abc import Iterator

from migration_lsp.findings import Finding
from migration_lsp.model import (
    AddColumn,
    AddConstraint,
    AlterColumn,
    AlterDomain,
    AlterEnum,
    AlterTableOptions,
    Cluster,
    CreateDomain,
    CreateIndex,
    CreateTable,
    DataChange,
    DetachPartition,
    DropColumn,
    DropConstraint,
    DropDatabase,
    DropIndex,
    DropSchema,
    DropTable,
    ExecuteSQL,
    Operation,
    RefreshMaterializedView,
    Reindex,
    RenameColumn,
    RenameTable,
    RunCode,
    SetSetting,
    Severity,
    Step,
    TransactionControl,
    Truncate,
    Vacuum,
    ValidateConstraint,
)
from migration_lsp.rules.base import PG, Context, Rule, rule
from migration_lsp.text import Span

MYSQL = frozenset({"mysql"})
MAX_IDENTIFIER_BYTES = 63


def _existing(ctx: Context, op: Operation, table: str | None) -> bool:
    return not ctx.is_new_table(table, op)


def _table_of(op: Operation) -> str | None:
    if isinstance(op, Truncate):
        return op.tables[0] if op.tables else None
    if isinstance(op, Vacuum):
        return op.tables[0] if op.tables else None
    if isinstance(op, RefreshMaterializedView):
        return op.name
    table = getattr(op, "table", None)
    return table if isinstance(table, str) else None


def _counts_as_statement(op: Operation) -> bool:
    """A statement of its own: not a wrapper of parsed SQL, a setting or transaction control."""
    return not isinstance(op, ExecuteSQL | RunCode | SetSetting | TransactionControl)


def _statements(ops: list[Operation]) -> list[Span]:
    """The distinct statements among `ops` (one `DROP TABLE a, b` is one statement)."""
    seen: dict[Span, None] = {}
    for op in ops:
        if _counts_as_statement(op):
            seen.setdefault(op.span, None)
    return list(seen)


def _several_statements(ops: list[Operation]) -> bool:
    """Whether `ops` hold at least two distinct statements (as `len(_statements(ops)) >= 2`,
    stopping at the second)."""
    first: tuple[int, int] | None = None
    for op in ops:
        if _counts_as_statement(op):
            span = (op.span.start, op.span.end)
            if first is None:
                first = span
            elif span != first:
                return True
    return False


def _by_step(ctx: Context) -> dict[tuple[Step, int], list[Operation]]:
    """The operations of each step (of each Liquibase changeSet: see `transaction_of`),
    grouped once for the rules that ask (read-only)."""
    return ctx.memo(_by_step, _group_by_step)


def _group_by_step(ctx: Context) -> dict[tuple[Step, int], list[Operation]]:
    steps: dict[tuple[Step, int], list[Operation]] = {}
    for op in ctx.operations():
        steps.setdefault(ctx.transaction_of(op), []).append(op)
    return steps


@rule(
    "non-concurrent-reindex",
    summary="REINDEX without CONCURRENTLY blocks writes to the table",
    severity=Severity.WARNING,
    category="postgres",
    dialects=PG,
    fix="use-concurrently",
    anchors={"squawk": "require-concurrent-reindex", "django-migration-linter": "REINDEX"},
    subjects=(Reindex,),
)
def non_concurrent_reindex(ctx: Context) -> Iterator[Finding]:
    """
    ## What it does
    Flags `REINDEX INDEX|TABLE|SCHEMA|DATABASE` without `CONCURRENTLY` (PostgreSQL 12 and later,
    where the concurrent form exists).

    ## Why is this bad?
    A plain `REINDEX` takes a SHARE lock on the table, which blocks every INSERT, UPDATE and
    DELETE, and an ACCESS EXCLUSIVE lock on each index it rebuilds, which blocks the reads that
    would use it — for as long as the rebuild takes.

    ## Example
    ```sql
    -- flyway: db/migration/V23__reindex_users_email.sql
    REINDEX INDEX ix_users_email;
    ```

    ## Use instead
    ```sql
    -- golang-migrate: db/migrations/000023_reindex_users_email.up.sql
    REINDEX INDEX CONCURRENTLY ix_users_email;
    ```
    run outside a transaction (CONCURRENTLY cannot run in a transaction block).

    ## Fix safety
    Safe: the same index is rebuilt, without blocking writes.
    """
    if ctx.postgres_version < 12:
        return
    for op in ctx.of(Reindex):
        if isinstance(op, Reindex) and not op.concurrently and op.target != "system":
            what = f"{op.target} '{op.name}'" if op.name else op.target
            yield ctx.finding(
                op,
                f"REINDEX of {what} without CONCURRENTLY takes a SHARE lock on the table "
                "(blocks writes) and an ACCESS EXCLUSIVE lock on each index (blocks reads that "
                "use it) until the rebuild ends. Use REINDEX ... CONCURRENTLY, outside a "
                "transaction.",
                part="keyword",
            )


@rule(
    "non-concurrent-detach-partition",
    summary="DETACH PARTITION without CONCURRENTLY blocks reads and writes on the parent",
    severity=Severity.WARNING,
    category="postgres",
    dialects=PG,
    fix="use-concurrently",
    anchors={"squawk": "require-concurrent-partition-detach"},
    subjects=(DetachPartition,),
)
def non_concurrent_detach_partition(ctx: Context) -> Iterator[Finding]:
    """
    ## What it does
    Flags `ALTER TABLE ... DETACH PARTITION` without `CONCURRENTLY` (PostgreSQL 14 and later,
    where the concurrent form exists).

    ## Why is this bad?
    A plain detach takes an ACCESS EXCLUSIVE lock on the parent table: every read and write on
    the whole partitioned table waits, and while the detach waits for running queries, every new
    query queues behind it.

    ## Example
    ```sql
    -- flyway: db/migration/V24__detach_2020.sql
    ALTER TABLE measurements DETACH PARTITION measurements_2020;
    ```

    ## Use instead
    ```sql
    -- golang-migrate: db/migrations/000024_detach_2020.up.sql
    ALTER TABLE measurements DETACH PARTITION measurements_2020 CONCURRENTLY;
    ```
    run outside a transaction (CONCURRENTLY cannot run in a transaction block).

    ## Fix safety
    Safe: the partition is detached all the same, taking only a SHARE UPDATE EXCLUSIVE lock.
    """
    if ctx.postgres_version < 14:
        return
    for op in ctx.of(DetachPartition):
        if isinstance(op, DetachPartition) and not op.concurrently and not op.finalize:
            yield ctx.finding(
                op,
                f"Detaching partition '{op.partition}' without CONCURRENTLY takes an ACCESS "
                f"EXCLUSIVE lock on '{op.table}' that blocks reads and writes. Use DETACH "
                "PARTITION ... CONCURRENTLY, outside a transaction.",
                part="keyword",
            )


@rule(
    "non-concurrent-refresh",
    summary="REFRESH MATERIALIZED VIEW without CONCURRENTLY blocks reads of the view",
    severity=Severity.INFO,
    category="postgres",
    dialects=PG,
    fix="use-concurrently",
    subjects=(RefreshMaterializedView,),
)
def non_concurrent_refresh(ctx: Context) -> Iterator[Finding]:
    """
    ## What it does
    Flags `REFRESH MATERIALIZED VIEW` without `CONCURRENTLY` (except `WITH NO DATA`, which
    cannot be concurrent).

    ## Why is this bad?
    A plain refresh takes an ACCESS EXCLUSIVE lock on the view: every query reading it waits
    until the whole view is recomputed.

    ## Example
    ```sql
    -- flyway: db/migration/V25__refresh_daily_sales.sql
    REFRESH MATERIALIZED VIEW daily_sales;
    ```

    ## Use instead
    ```sql
    -- golang-migrate: db/migrations/000025_refresh_daily_sales.up.sql
    REFRESH MATERIALIZED VIEW CONCURRENTLY daily_sales;
    ```
    (the view needs a unique index; the concurrent refresh cannot run in a transaction block).

    ## Fix safety
    Safe when the view has a unique index; otherwise the concurrent refresh fails.
    """
    for op in ctx.of(RefreshMaterializedView):
        if isinstance(op, RefreshMaterializedView) and not op.concurrently and not op.with_no_data:
            yield ctx.finding(
                op,
                f"Refreshing materialized view '{op.name}' without CONCURRENTLY takes an ACCESS "
                "EXCLUSIVE lock that blocks every read of the view until it is recomputed. Use "
                "REFRESH MATERIALIZED VIEW CONCURRENTLY (needs a unique index on the view).",
                part="keyword",
            )


@rule(
    "vacuum-full",
    summary="VACUUM FULL or CLUSTER rewrites the table under an ACCESS EXCLUSIVE lock",
    severity=Severity.WARNING,
    category="postgres",
    dialects=PG,
    anchors={"squawk": "prefer-repack"},
    subjects=(Vacuum, Cluster),
)
def vacuum_full(ctx: Context) -> Iterator[Finding]:
    """
    ## What it does
    Flags `VACUUM FULL` (also `VACUUM (FULL)`) and `CLUSTER` in a migration.

    ## Why is this bad?
    Both rewrite the whole table while holding an ACCESS EXCLUSIVE lock: no reads or writes for
    the length of the rewrite, minutes to hours on a large table.

    ## Example
    ```sql
    -- flyway: db/migration/V26__compact_events.sql
    VACUUM FULL events;
    ```

    ## Use instead
    ```sql
    -- flyway: db/migration/V26__analyze_events.sql
    VACUUM (ANALYZE) events;
    ```
    and reclaim space online with an extension such as pg_repack, outside the migration.

    ## Fix safety
    No automatic fix: the online alternatives are operational tools, not migration statements.
    """
    for op in ctx.of(Vacuum, Cluster):
        if isinstance(op, Vacuum) and op.full:
            where = f" '{op.tables[0]}'" if op.tables else ""
            yield ctx.finding(
                op,
                f"VACUUM FULL rewrites{where or ' every table'} under an ACCESS EXCLUSIVE lock "
                "that blocks reads and writes until it ends. Use plain VACUUM, or pg_repack "
                "outside the migration.",
                part="keyword",
            )
        elif isinstance(op, Cluster):
            where = f"'{op.table}'" if op.table else "every clustered table"
            yield ctx.finding(
                op,
                f"CLUSTER rewrites {where} under an ACCESS EXCLUSIVE lock that blocks reads and "
                "writes until it ends. Use pg_repack outside the migration instead.",
                part="keyword",
            )


@rule(
    "drop-not-null",
    summary="Dropping NOT NULL lets NULLs reach code that assumes there are none",
    severity=Severity.INFO,
    category="postgres",
    dialects=PG,
    anchors={"squawk": "ban-drop-not-null"},
    subjects=(AlterColumn,),
)
def drop_not_null(ctx: Context) -> Iterator[Finding]:
    """
    ## What it does
    Flags `ALTER COLUMN ... DROP NOT NULL` (Alembic `alter_column(..., nullable=True)`, a
    Django `AlterField` that adds `null=True`) on an existing table.

    ## Why is this bad?
    The application version still running during the deploy (and readers such as reports and
    other services) assumes the column is never NULL; as soon as new code writes NULLs, the old
    code can crash on them.

    ## Example
    ```sql
    -- flyway: db/migration/V27__email_optional.sql
    ALTER TABLE users ALTER COLUMN email DROP NOT NULL;
    ```

    ## Use instead
    Deploy code that handles NULL first, then drop the constraint in a later migration, saying
    that it is intended:

    ```sql
    -- flyway: db/migration/V27__email_optional.sql
    -- every reader handles NULL emails since release 42
    ALTER TABLE users ALTER COLUMN email DROP NOT NULL;  -- migration-lsp: ignore[drop-not-null]
    ```

    ## Fix safety
    No automatic fix: the order of deploys is the remedy.
    """
    for op in ctx.of(AlterColumn):
        if not isinstance(op, AlterColumn) or op.nullable is not True:
            continue
        if op.old_nullable is True or not _existing(ctx, op, op.table):
            continue
        yield ctx.finding(
            op,
            f"Dropping NOT NULL on '{op.table}.{op.column}' lets NULLs reach code that assumes "
            "the column is never NULL. Make sure every reader handles NULL before this runs.",
            part="nullable" if "nullable" in op.spans else "column",
        )


@rule(
    "drop-schema-or-database",
    summary="DROP SCHEMA / DROP DATABASE destroys everything in it",
    severity=Severity.ERROR,
    category="postgres",
    dialects=PG,
    anchors={"squawk": "ban-drop-database", "atlas": "DS101"},
    subjects=(DropSchema, DropDatabase),
)
def drop_schema_or_database(ctx: Context) -> Iterator[Finding]:
    """
    ## What it does
    Flags `DROP SCHEMA` and `DROP DATABASE`.

    ## Why is this bad?
    Every table, view, function and row in the schema or database is gone, with no way back
    but a restore; `DROP DATABASE` also cannot run inside a transaction, so it is never rolled
    back with the migration.

    ## Example
    ```sql
    -- flyway: db/migration/V28__drop_legacy.sql
    DROP SCHEMA legacy CASCADE;
    ```

    ## Use instead
    Rename it and drop it later, after checking nothing uses it:

    ```sql
    -- flyway: db/migration/V28__retire_legacy.sql
    ALTER SCHEMA legacy RENAME TO legacy_to_drop;
    ```

    ## Fix safety
    No automatic fix.
    """
    for op in ctx.of(DropSchema, DropDatabase):
        if isinstance(op, DropSchema | DropDatabase):
            what = "schema" if isinstance(op, DropSchema) else "database"
            cascade = " with everything in it" if isinstance(op, DropSchema) and op.cascade else ""
            yield ctx.finding(
                op,
                f"Dropping {what} '{op.name}'{cascade} destroys all its objects and data; only a "
                "restore brings them back. Rename it first and drop it once nothing uses it.",
                part="name",
            )


@rule(
    "drop-constraint",
    summary="Dropping a constraint removes a guarantee running code relies on",
    severity=Severity.INFO,
    category="postgres",
    dialects=PG,
    anchors={"atlas": "CD101, CD102, CD103"},
    subjects=(DropConstraint,),
)
def drop_constraint(ctx: Context) -> Iterator[Finding]:
    """
    ## What it does
    Flags dropping a constraint or foreign key of an existing table (`DROP CONSTRAINT`, Alembic
    `op.drop_constraint`, Django `RemoveConstraint`).

    ## Why is this bad?
    Code (and people) rely on the guarantee: once the constraint is gone, duplicate, orphaned
    or invalid rows can be written, and adding it back later needs a full validation of whatever
    was written meanwhile. `DROP CONSTRAINT` also takes an ACCESS EXCLUSIVE lock.

    ## Example
    ```sql
    -- flyway: db/migration/V29__drop_orders_user_fk.sql
    ALTER TABLE orders DROP CONSTRAINT fk_orders_user;
    ```

    ## Use instead
    Keep the constraint until no code depends on it; when it must go, say so explicitly:

    ```sql
    -- flyway: db/migration/V29__drop_orders_user_fk.sql
    ALTER TABLE orders DROP CONSTRAINT fk_orders_user;  -- migration-lsp: ignore[drop-constraint]
    ```

    ## Fix safety
    No automatic fix.
    """
    for op in ctx.of(DropConstraint):
        if isinstance(op, DropConstraint) and _existing(ctx, op, op.table):
            name = f" '{op.name}'" if op.name else ""
            yield ctx.finding(
                op,
                f"Dropping constraint{name} of '{op.table}' removes a guarantee running code "
                "may rely on; rows written meanwhile can break it for good. Make sure nothing "
                "depends on it.",
                part="name",
            )


@rule(
    "domain-with-constraint",
    summary="A domain with a CHECK constraint validates every column using it",
    severity=Severity.WARNING,
    category="postgres",
    dialects=PG,
    anchors={"squawk": "ban-create-domain-with-constraint, ban-alter-domain-with-add-constraint"},
    subjects=(CreateDomain, AlterDomain),
)
def domain_with_constraint(ctx: Context) -> Iterator[Finding]:
    """
    ## What it does
    Flags `CREATE DOMAIN ... CHECK (...)` and `ALTER DOMAIN ... ADD CONSTRAINT`.

    ## Why is this bad?
    `ALTER DOMAIN ... ADD CONSTRAINT` scans every column of every table that uses the domain
    while holding locks on them, and the constraint of a domain cannot be changed later without
    another such scan. Table CHECK constraints can be added `NOT VALID` and validated without
    blocking.

    ## Example
    ```sql
    -- flyway: db/migration/V30__positive_int.sql
    CREATE DOMAIN positive_int AS integer CHECK (VALUE > 0);
    ```

    ## Use instead
    ```sql
    -- flyway: db/migration/V30__positive_int.sql
    CREATE DOMAIN positive_int AS integer;
    ALTER TABLE orders ADD CONSTRAINT orders_qty_positive CHECK (qty > 0) NOT VALID;
    ```

    ```sql
    -- flyway: db/migration/V31__validate_orders_qty_positive.sql
    ALTER TABLE orders VALIDATE CONSTRAINT orders_qty_positive;
    ```

    ## Fix safety
    No automatic fix.
    """
    for op in ctx.of(CreateDomain, AlterDomain):
        if isinstance(op, CreateDomain) and op.has_check:
            yield ctx.finding(
                op,
                f"Domain '{op.name}' has a CHECK constraint: changing it later re-checks every "
                "column using the domain under lock. Put CHECK constraints on the tables "
                "(added NOT VALID, then validated).",
                part="name",
            )
        elif isinstance(op, AlterDomain) and op.adds_constraint:
            yield ctx.finding(
                op,
                f"Adding a constraint to domain '{op.name}' scans every column that uses it "
                "while holding locks on their tables. Put CHECK constraints on the tables "
                "(added NOT VALID, then validated).",
                part="constraint",
            )


_CREATING = (CreateTable, AddColumn, CreateIndex, AddConstraint, RenameColumn, RenameTable)
"""The operations that name something new (`_created_names`)."""


def _created_names(op: Operation) -> Iterator[tuple[str, str, str]]:
    """(what, name, span part) of every identifier `op` creates."""
    if isinstance(op, CreateTable):
        yield "table", op.table, "table"
        for column in op.columns:
            yield "column", column.name, f"column:{column.name}"
    elif isinstance(op, AddColumn):
        yield "column", op.column.name, "column"
    elif isinstance(op, CreateIndex) and op.name:
        yield "index", op.name, "name"
    elif isinstance(op, AddConstraint) and op.name:
        yield "constraint", op.name, "name"
    elif isinstance(op, RenameColumn):
        yield "column", op.new_name, "new_name"
    elif isinstance(op, RenameTable):
        yield "table", op.new_name, "new_name"


@rule(
    "identifier-too-long",
    summary="An identifier over 63 bytes is silently truncated by PostgreSQL",
    severity=Severity.WARNING,
    category="postgres",
    dialects=PG,
    fix="rename-identifier",
    anchors={"squawk": "identifier-too-long"},
    subjects=_CREATING,
)
def identifier_too_long(ctx: Context) -> Iterator[Finding]:
    """
    ## What it does
    Flags a table, column, index or constraint name longer than 63 bytes (UTF-8) in a
    statement that creates or renames it.

    ## Why is this bad?
    PostgreSQL truncates longer identifiers to 63 bytes with only a NOTICE: the object gets a
    name the code does not use, two long names can collide, and a later migration that names
    the object in full does not find it.

    ## Example
    ```sql
    -- flyway: db/migration/V32__create_invoices.sql
    CREATE TABLE invoices (
        id bigint PRIMARY KEY,
        customer_id bigint NOT NULL,
        subscription_id bigint NOT NULL,
        billing_period_start date NOT NULL
    );
    CREATE INDEX ix_invoices_billing_period_start_and_customer_and_subscription_id
        ON invoices (billing_period_start, customer_id, subscription_id);
    ```

    ## Use instead
    ```sql
    -- flyway: db/migration/V32__create_invoices.sql
    CREATE TABLE invoices (
        id bigint PRIMARY KEY,
        customer_id bigint NOT NULL,
        subscription_id bigint NOT NULL,
        billing_period_start date NOT NULL
    );
    CREATE INDEX ix_invoices_period_customer_sub
        ON invoices (billing_period_start, customer_id, subscription_id);
    ```

    ## Fix safety
    For index and constraint names, the fix renames the name everywhere in the file to its
    first bytes plus a hash (63 bytes at most). It is marked unsafe: later migrations that spell
    the old name need the new one. Table and column names are yours to choose.
    """
    for op in ctx.of(*_CREATING):
        for what, name, part in _created_names(op):
            if len(name) <= MAX_IDENTIFIER_BYTES // 4:  # short enough in any encoding
                continue
            size = len(name.encode("utf-8"))
            if size <= MAX_IDENTIFIER_BYTES:
                continue
            at: Operation | Span = op
            if part.startswith("column:") and isinstance(op, CreateTable):
                column = next(c for c in op.columns if c.name == name)
                at = column.span or op.span_of("table")
                part = ""
            message = (
                f"The {what} name '{name}' is {size} bytes long: PostgreSQL silently truncates "
                f"it to {MAX_IDENTIFIER_BYTES}, so the {what} gets a different name than the "
                "one written here. Use a shorter name."
            )
            if isinstance(at, Operation):
                yield ctx.finding(at, message, part=part if part in at.spans else None)
            else:
                yield ctx.finding(at, message)


_ROBUST_KINDS = (CreateTable, CreateIndex, AddColumn, DropTable, DropIndex, DropColumn, DropSchema)
"""What `_robust_candidate` may ask IF [NOT] EXISTS of."""


def _robust_candidate(op: Operation) -> str | None:
    """What to add for `op` to be re-runnable, or None when it already is (or cannot be)."""
    if isinstance(op, CreateTable) and not op.if_not_exists:
        return "CREATE TABLE without IF NOT EXISTS"
    if isinstance(op, CreateIndex) and not op.if_not_exists and not op.implicit:
        return "CREATE INDEX without IF NOT EXISTS"
    if isinstance(op, AddColumn) and not op.if_not_exists:
        return "ADD COLUMN without IF NOT EXISTS"
    if isinstance(op, DropTable) and not op.if_exists:
        return "DROP TABLE without IF EXISTS"
    if isinstance(op, DropIndex) and not op.if_exists:
        return "DROP INDEX without IF EXISTS"
    if isinstance(op, DropColumn) and not op.if_exists:
        return "DROP COLUMN without IF EXISTS"
    if isinstance(op, DropSchema) and not op.if_exists:
        return "DROP SCHEMA without IF EXISTS"
    return None


@rule(
    "prefer-robust-statements",
    summary="CREATE/DROP without IF [NOT] EXISTS in a migration that runs outside a transaction",
    severity=Severity.INFO,
    category="postgres",
    dialects=PG,
    fix="insert-if-not-exists",
    anchors={"squawk": "prefer-robust-stmts"},
    subjects=_ROBUST_KINDS,
)
def prefer_robust_statements(ctx: Context) -> Iterator[Finding]:
    """
    ## What it does
    Flags CREATE TABLE / CREATE INDEX / ADD COLUMN without `IF NOT EXISTS`, and DROP TABLE /
    DROP INDEX / DROP COLUMN / DROP SCHEMA without `IF EXISTS`, in a migration of several
    statements that runs outside a transaction (`CONCURRENTLY` migrations, Alembic
    `autocommit_block()`, goose `NO TRANSACTION`, plain SQL files run statement by statement).

    ## Why is this bad?
    Without a transaction, a failure half-way leaves the statements before it applied. Running
    the migration again then fails on the first of them ("already exists", "does not exist"),
    and someone has to fix the database by hand.

    ## Example
    ```sql
    -- goose: db/migrations/20240501120000_users_email.sql
    -- +goose NO TRANSACTION
    -- +goose Up
    CREATE INDEX CONCURRENTLY ix_users_email ON users (email);
    ALTER TABLE users ADD COLUMN nickname text;
    ```

    ## Use instead
    ```sql
    -- goose: db/migrations/20240501120000_users_email.sql
    -- +goose NO TRANSACTION
    -- +goose Up
    CREATE INDEX CONCURRENTLY IF NOT EXISTS ix_users_email ON users (email);
    ALTER TABLE users ADD COLUMN IF NOT EXISTS nickname text;
    ```

    ## Fix safety
    Safe: the statements do the same on a fresh database and become no-ops on a re-run.
    """
    several = ctx.fact(_steps_with_several_statements)
    if not several:
        return  # one statement succeeds or fails as a whole
    alembic = ctx.migration.tool == "alembic"
    for op in ctx.of(*_ROBUST_KINDS):
        if op.in_transaction or not (op.is_sql or alembic):
            continue
        what = _robust_candidate(op)
        if what is not None and ctx.transaction_of(op) in several:
            yield ctx.finding(
                op,
                f"{what} in a migration that runs outside a transaction: if a later "
                "statement fails, re-running the migration fails here. Add IF "
                f"{'NOT ' if 'NOT EXISTS' in what else ''}EXISTS.",
                part=_robust_part(op),
            )


def _steps_with_several_statements(ctx: Context) -> frozenset[tuple[Step, int]]:
    """The steps (`transaction_of`) holding at least two statements."""
    return frozenset(step for step, ops in _by_step(ctx).items() if _several_statements(ops))


_ROBUST_PARTS = ("keyword", "column", "table", "name")


def _robust_part(op: Operation) -> str | None:
    """The part of `op` to report on: the first of `_ROBUST_PARTS` it has."""
    spans = op.spans
    for part in _ROBUST_PARTS:
        if part in spans:
            return part
    return None


_TRANSACTION_WORDS = {"begin": "BEGIN", "commit": "COMMIT", "rollback": "ROLLBACK"}


@rule(
    "transaction-nesting",
    summary="BEGIN/COMMIT written in a migration the runner already wraps in a transaction",
    severity=Severity.WARNING,
    category="postgres",
    dialects=PG,
    fix="remove-transaction-control",
    anchors={"squawk": "transaction-nesting", "atlas": "TX201"},
    subjects=(TransactionControl,),
)
def transaction_nesting(ctx: Context) -> Iterator[Finding]:
    """
    ## What it does
    Flags `BEGIN`, `COMMIT` and `ROLLBACK` written in a migration that the tool already runs
    inside a transaction (Flyway, dbmate, goose by default; Alembic; an atomic Django
    migration).

    ## Why is this bad?
    The runner's transaction is already open: `BEGIN` only draws a warning, but `COMMIT`
    commits the runner's transaction early. The statements after it run outside any
    transaction, a failure no longer rolls the migration back, and the runner's own COMMIT finds
    no transaction.

    ## Example
    Flyway already runs each script in a transaction:

    ```sql
    -- flyway: db/migration/V33__add_nickname.sql
    BEGIN;
    ALTER TABLE users ADD COLUMN nickname text;
    COMMIT;
    ```

    ## Use instead
    ```sql
    -- flyway: db/migration/V33__add_nickname.sql
    ALTER TABLE users ADD COLUMN nickname text;
    ```

    ## Fix safety
    Safe: the runner's transaction already gives the statements the same atomicity.
    """
    if not ctx.migration.transactional:
        return
    for op in ctx.of(TransactionControl):
        if isinstance(op, TransactionControl) and op.in_transaction:
            word = _TRANSACTION_WORDS.get(op.kind)
            if word is None:
                continue
            effect = (
                "opens nothing (PostgreSQL only warns)"
                if op.kind == "begin"
                else "ends the runner's transaction early: what follows runs outside it and is "
                "not rolled back on failure"
            )
            yield ctx.finding(
                op,
                f"{word} in a migration that {ctx.migration.tool} already runs in a "
                f"transaction {effect}. Remove the BEGIN/COMMIT.",
            )


@rule(
    "uncommitted-transaction",
    summary="BEGIN with no COMMIT after it",
    severity=Severity.ERROR,
    category="postgres",
    dialects=PG,
    fix="add-commit",
    anchors={"squawk": "ban-uncommitted-transaction"},
)
def uncommitted_transaction(ctx: Context) -> Iterator[Finding]:
    """
    ## What it does
    Flags a `BEGIN` (or `START TRANSACTION`) with no `COMMIT` or `ROLLBACK` after it in the same
    step of the migration.

    ## Why is this bad?
    The transaction stays open when the migration ends: depending on the runner, its changes are
    rolled back when the connection closes, or its locks stay held by an idle session and block
    the tables it touched.

    ## Example
    ```sql
    -- flyway: db/migration/V34__add_nickname.sql
    BEGIN;
    ALTER TABLE users ADD COLUMN nickname text;
    ```

    ## Use instead
    ```sql
    -- flyway: db/migration/V34__add_nickname.sql
    ALTER TABLE users ADD COLUMN nickname text;
    ```
    (or, where the runner does not open a transaction itself, end it with `COMMIT;`).

    ## Fix safety
    Safe: it commits what the migration meant to apply.
    """
    open_in: dict[tuple[Step, int], TransactionControl | None] = {}
    for op in ctx.of(TransactionControl):
        unit = ctx.transaction_of(op)
        if op.kind == "begin":
            open_in[unit] = open_in.get(unit) or op
        elif op.kind in ("commit", "rollback"):
            open_in[unit] = None
    for opened in open_in.values():
        if opened is not None:
            yield ctx.finding(
                opened,
                "This BEGIN is never committed: the transaction is still open when the migration "
                "ends, so its changes are rolled back or its locks stay held. Add COMMIT at the "
                "end.",
            )


def _long_running(ctx: Context, op: Operation) -> str | None:
    """Why `op` can run for a long time on an existing table, or None."""
    table = _table_of(op)
    if isinstance(op, DataChange):
        if op.kind in ("update", "delete") and op.unbounded and _existing(ctx, op, op.table):
            return f"{op.kind.upper()} over all of '{op.table}'"
        return None
    if ctx.is_new_table(table, op):
        return None
    if isinstance(op, CreateIndex) and not op.concurrently:
        return f"building index{_named(op.name)} on '{op.table}'"
    if isinstance(op, ValidateConstraint):
        return f"validating '{op.name}' on '{op.table}'"
    if isinstance(op, AlterColumn) and op.new_type is not None and op.type_change_known:
        return f"changing the type of '{op.table}.{op.column}'"
    if isinstance(op, AddColumn) and _rewrites(op):
        return f"adding '{op.column.name}' (rewrites '{op.table}')"
    if isinstance(op, Vacuum) and op.full:
        return "VACUUM FULL"
    if isinstance(op, Cluster):
        return "CLUSTER"
    return None


def _rewrites(op: AddColumn) -> bool:
    column = op.column
    volatile = column.default is not None and column.default.volatile_function is not None
    return volatile or column.generated_stored or column.serial


def _named(name: str | None) -> str:
    return f" '{name}'" if name else ""


@rule(
    "missing-statement-timeout",
    summary="A long-running operation without a statement_timeout set first",
    severity=Severity.INFO,
    category="postgres",
    dialects=PG,
    default_enabled=False,
    fix="set-statement-timeout",
    anchors={"squawk": "require-timeout-settings"},
)
def missing_statement_timeout(ctx: Context) -> Iterator[Finding]:
    """
    ## What it does
    Flags the first long-running operation on an existing table — a non-concurrent index
    build, `VALIDATE CONSTRAINT`, `ALTER COLUMN ... TYPE`, a table rewrite (volatile default,
    STORED generated or serial column, `VACUUM FULL`, `CLUSTER`), an `UPDATE`/`DELETE` over the
    whole table — when no `statement_timeout` was set before it. Off by default.

    ## Why is this bad?
    Without a limit, a statement that takes far longer than in testing keeps its locks for as
    long as it runs, and the deploy hangs with it. A `statement_timeout` makes it fail
    (and roll back) at a bound you chose instead.

    ## Example
    ```sql
    -- flyway: db/migration/V35__validate_orders_user_fk.sql
    ALTER TABLE orders VALIDATE CONSTRAINT fk_orders_user;
    ```

    ## Use instead
    ```sql
    -- flyway: db/migration/V35__validate_orders_user_fk.sql
    SET statement_timeout = '15min';
    ALTER TABLE orders VALIDATE CONSTRAINT fk_orders_user;
    ```

    ## Fix safety
    Inserting `SET statement_timeout` is marked unsafe: the migration can now fail when it runs
    longer than the limit.
    """
    if ctx.migration.runner.get("statement_timeout"):
        return
    for op in ctx.operations():
        if isinstance(op, SetSetting) and op.name == "statement_timeout":
            return
        why = _long_running(ctx, op)
        if why is not None:
            yield ctx.finding(
                op,
                f"No statement_timeout is set before {why}, which can run for a long time while "
                "holding its locks. Set statement_timeout (e.g. SET statement_timeout = "
                "'15min') before it.",
                part="keyword" if "keyword" in op.spans else None,
            )
            return


def _access_exclusive(ctx: Context, op: Operation) -> str | None:
    """The table `op` takes an ACCESS EXCLUSIVE lock on (an existing one), or None."""
    strong = False
    if isinstance(op, DropIndex | RefreshMaterializedView | DetachPartition):
        strong = not op.concurrently
    elif isinstance(op, AddConstraint):
        strong = op.kind != "foreign_key"
    elif isinstance(op, Vacuum):
        strong = op.full
    else:
        strong = isinstance(
            op,
            AddColumn
            | AlterColumn
            | DropColumn
            | DropConstraint
            | DropTable
            | RenameColumn
            | RenameTable
            | Truncate
            | Cluster,
        )
    table = _table_of(op)
    if not strong or ctx.is_new_table(table, op):
        return None
    return table or "the table"


@rule(
    "statements-after-access-exclusive",
    summary="Statements that run after an ACCESS EXCLUSIVE lock was taken in the same transaction",
    severity=Severity.INFO,
    category="postgres",
    dialects=PG,
    fix="split-migration",
    anchors={"eugene": "E4"},
)
def statements_after_access_exclusive(ctx: Context) -> Iterator[Finding]:
    """
    ## What it does
    Reports a statement that takes an ACCESS EXCLUSIVE lock on an existing table (ALTER TABLE,
    DROP, TRUNCATE, a non-concurrent DROP INDEX or REFRESH, ...) when more statements follow it
    in the same transaction, naming how many.

    ## Why is this bad?
    A lock is held until the transaction ends, not until the statement ends: every statement
    after it — an index build, a data backfill — extends the time during which no one can read
    or write the table.

    ## Example
    In a migration that runs in one transaction, the ALTER's lock is held while the UPDATE runs:

    ```sql
    -- flyway: db/migration/V36__add_nickname.sql
    ALTER TABLE users ADD COLUMN nickname text;
    UPDATE users SET nickname = name WHERE id < 1000;
    ```

    ## Use instead
    Put the locking statement last, or in a migration of its own:

    ```sql
    -- flyway: db/migration/V36__add_nickname.sql
    ALTER TABLE users ADD COLUMN nickname text;
    ```

    ```sql
    -- flyway: db/migration/V37__fill_nickname.sql
    UPDATE users SET nickname = name WHERE id < 1000;
    ```

    ## Fix safety
    Display-only: the code action says to put the statement last or in a migration of its own;
    how to split the migration is a design choice.
    """
    if not ctx.fact(_any_in_transaction):  # no lock outlives its statement
        return
    for ops in _by_step(ctx).values():
        locked: tuple[Operation, str] | None = None
        following: list[Operation] = []
        for op in [*ops, None]:
            ends = (
                op is None
                or not op.in_transaction
                or (isinstance(op, TransactionControl) and op.kind in ("commit", "rollback"))
            )
            if ends:
                if locked is not None:
                    count = len([s for s in _statements(following) if s != locked[0].span])
                    if count:
                        yield _after_lock(ctx, locked[0], locked[1], count)
                locked, following = None, []
                continue
            assert op is not None
            if locked is None:
                table = _access_exclusive(ctx, op)
                if table is not None:
                    locked = (op, table)
            else:
                following.append(op)


def _any_in_transaction(ctx: Context) -> bool:
    """Whether any judged operation runs inside a transaction."""
    return any(op.in_transaction for op in ctx.operations())


def _after_lock(ctx: Context, op: Operation, table: str, count: int) -> Finding:
    plural = "statement runs" if count == 1 else "statements run"
    return ctx.finding(
        op,
        f"This takes an ACCESS EXCLUSIVE lock on '{table}' (blocks reads and writes), and "
        f"{count} more {plural} after it in the same transaction: the lock is held until they "
        "all finish. Put this statement last, or in a migration of its own.",
        part="keyword" if "keyword" in op.spans else None,
    )


@rule(
    "mysql-blocking-algorithm",
    summary="MySQL ALTER TABLE with ALGORITHM=COPY or LOCK=SHARED/EXCLUSIVE blocks writes",
    severity=Severity.WARNING,
    category="postgres",
    dialects=MYSQL,
    subjects=(AlterTableOptions,),
)
def mysql_blocking_algorithm(ctx: Context) -> Iterator[Finding]:
    """
    ## What it does
    Flags a MySQL `ALTER TABLE` that asks for `ALGORITHM=COPY`, `LOCK=SHARED` or
    `LOCK=EXCLUSIVE`.

    ## Why is this bad?
    `ALGORITHM=COPY` rebuilds the table into a copy while blocking writes (and, with
    `LOCK=EXCLUSIVE`, reads) for the whole copy. `LOCK=SHARED` blocks writes and
    `LOCK=EXCLUSIVE` blocks reads and writes even when the change could be done online.

    ## Example
    ```sql
    -- flyway (mysql): db/migration/V38__add_nickname.sql
    ALTER TABLE users ADD COLUMN nickname varchar(64), ALGORITHM=COPY, LOCK=SHARED;
    ```

    ## Use instead
    ```sql
    -- flyway (mysql): db/migration/V38__add_nickname.sql
    ALTER TABLE users ADD COLUMN nickname varchar(64), ALGORITHM=INSTANT;
    ```
    or `ALGORITHM=INPLACE, LOCK=NONE`: MySQL then refuses the change instead of blocking when it
    cannot be done online (use gh-ost or pt-online-schema-change for those).

    ## Fix safety
    No automatic fix: whether the change can run online depends on the change and the version.
    """
    for op in ctx.of(AlterTableOptions):
        if not isinstance(op, AlterTableOptions):
            continue
        if op.algorithm == "COPY":
            yield ctx.finding(
                op,
                f"ALGORITHM=COPY rebuilds '{op.table}' into a copy and blocks writes to it "
                "until the copy ends. Use ALGORITHM=INSTANT or INPLACE with LOCK=NONE (or an "
                "online schema change tool).",
                part="algorithm",
            )
        if op.lock in ("SHARED", "EXCLUSIVE"):
            blocks = "writes" if op.lock == "SHARED" else "reads and writes"
            yield ctx.finding(
                op,
                f"LOCK={op.lock} blocks {blocks} on '{op.table}' for the whole ALTER TABLE. Use "
                "LOCK=NONE so MySQL refuses a change it cannot make online.",
                part="lock",
            )


@rule(
    "enum-add-value-in-transaction",
    summary="ALTER TYPE ... ADD VALUE inside a transaction",
    severity=Severity.WARNING,
    category="locks",
    dialects=PG,
    fix="run-outside-transaction",
    subjects=(AlterEnum,),
)
def enum_add_value_in_transaction(ctx: Context) -> Iterator[Finding]:
    """
    ## What it does
    Flags `ALTER TYPE ... ADD VALUE` that the migration tool runs inside a transaction (Alembic
    outside `autocommit_block()`, an atomic Django migration, Flyway/dbmate/goose by default,
    SQL between BEGIN and COMMIT).

    ## Why is this bad?
    Before PostgreSQL 12 the statement fails: `ALTER TYPE ... ADD VALUE cannot run inside a
    transaction block`. From 12 on it runs, but the new value cannot be used until the
    transaction commits: an INSERT or UPDATE with it later in the same migration fails
    ("unsafe use of new value").

    ## Example
    ```python
    # alembic: alembic/versions/8c9d0e1f2a3b_order_status_refunded.py
    def upgrade():
        op.execute("ALTER TYPE order_status ADD VALUE 'refunded'")
    ```

    ## Use instead
    ```python
    # alembic: alembic/versions/8c9d0e1f2a3b_order_status_refunded.py
    def upgrade():
        with op.get_context().autocommit_block():
            op.execute("ALTER TYPE order_status ADD VALUE IF NOT EXISTS 'refunded'")
    ```

    In SQL, a file the runner does not wrap in a transaction:

    ```sql
    -- goose: db/migrations/20240501120000_order_status_refunded.sql
    -- +goose NO TRANSACTION
    -- +goose Up
    ALTER TYPE order_status ADD VALUE IF NOT EXISTS 'refunded';
    ```

    ## Fix safety
    Safe for the statement itself; it no longer rolls back with the rest of the migration.
    """
    for op in ctx.of(AlterEnum):
        if not isinstance(op, AlterEnum) or not op.in_transaction:
            continue
        value = f"'{op.value}'" if op.value else "a value"
        if ctx.postgres_version < 12:
            effect = (
                f"fails before PostgreSQL 12 (ALTER TYPE ... ADD VALUE cannot run inside a "
                f"transaction block; configured version {ctx.postgres_version})"
            )
        else:
            effect = (
                "runs, but the new value cannot be used until the transaction commits (using "
                "it later in this migration fails)"
            )
        yield ctx.finding(
            op,
            f"Adding {value} to enum '{op.type_name}' inside a transaction {effect}. Run it "
            "outside the migration's transaction.",
            part="add_value",
        )


@rule(
    "add-stored-generated-column",
    summary="Adding a STORED generated or serial column rewrites the table",
    severity=Severity.WARNING,
    category="locks",
    dialects=PG,
    anchors={
        "squawk": "adding-field-with-default",
        "strong_migrations": "add_column_generated_stored, add_column_auto_incrementing",
        "atlas": "PG309",
    },
    subjects=(AddColumn,),
)
def add_stored_generated_column(ctx: Context) -> Iterator[Finding]:
    """
    ## What it does
    Flags adding a `GENERATED ALWAYS AS (...) STORED` column, or a `serial`/`bigserial`
    column, to an existing table.

    ## Why is this bad?
    PostgreSQL computes the value for every existing row: the whole table is rewritten under an
    ACCESS EXCLUSIVE lock, and no one can read or write it until the rewrite ends.

    ## Example
    ```sql
    -- flyway: db/migration/V22__orders_total.sql
    ALTER TABLE orders ADD COLUMN total numeric GENERATED ALWAYS AS (price * qty) STORED;
    ```

    ## Use instead
    Add a plain column, fill it in batches, and keep it current with a trigger (or compute the
    value in queries or a view):

    ```sql
    -- flyway: db/migration/V22__orders_total.sql
    ALTER TABLE orders ADD COLUMN total numeric;
    ```

    ## Fix safety
    No automatic fix.
    """
    for op in ctx.of(AddColumn):
        if not isinstance(op, AddColumn) or not _existing(ctx, op, op.table):
            continue
        column = op.column
        if not (column.generated_stored or column.serial):
            continue
        what = "a STORED generated column" if column.generated_stored else "a serial column"
        yield ctx.finding(
            op,
            f"Adding {what} '{column.name}' rewrites all of '{op.table}' under an ACCESS "
            "EXCLUSIVE lock that blocks reads and writes until it ends. Add a plain column and "
            "backfill it in batches instead.",
            part="column",
        )


RULES: tuple[Rule, ...] = (
    enum_add_value_in_transaction,
    add_stored_generated_column,
    non_concurrent_reindex,
    non_concurrent_detach_partition,
    non_concurrent_refresh,
    vacuum_full,
    drop_not_null,
    drop_schema_or_database,
    drop_constraint,
    domain_with_constraint,
    identifier_too_long,
    prefer_robust_statements,
    transaction_nesting,
    uncommitted_transaction,
    missing_statement_timeout,
    statements_after_access_exclusive,
    mysql_blocking_algorithm,
)
"""This module's rules, in catalogue order; `registry.RULES` includes them."""
