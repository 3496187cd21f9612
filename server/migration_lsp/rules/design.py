"""Schema design rules: types and keys a new table should use (several off by default).

The parsers write column types differently (`int` from sqlglot, `integer` from SQLAlchemy's
`sa.Integer`, `serial` from Django's `AutoField` on PostgreSQL, `datetime(6)` from Django on
MySQL), so every rule here compares `base_type(...)`, one normalisation of them all.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from functools import lru_cache

from migration_lsp.findings import Finding
from migration_lsp.model import (
    AddColumn,
    AddConstraint,
    AlterColumn,
    Column,
    CreateIndex,
    CreateTable,
    DropColumn,
    DropConstraint,
    Operation,
    RenameColumn,
    Severity,
    Step,
)
from migration_lsp.rules.base import PG, Context, Rule, rule, table_key
from migration_lsp.text import Span

# --------------------------------------------------------------------------- types

_BASE_TYPES = {
    "int": "integer",
    "integer": "integer",
    "int4": "integer",
    "mediumint": "integer",
    "smallint": "smallint",
    "int2": "smallint",
    "tinyint": "smallint",
    "bigint": "bigint",
    "int8": "bigint",
    "serial": "serial",
    "serial4": "serial",
    "smallserial": "smallserial",
    "serial2": "smallserial",
    "bigserial": "bigserial",
    "serial8": "bigserial",
    "timestamp": "timestamp",
    "timestamp without time zone": "timestamp",
    "datetime": "timestamp",
    "timestamptz": "timestamptz",
    "timestamp with time zone": "timestamptz",
    "char": "char",
    "character": "char",
    "nchar": "char",
    "bpchar": "char",
    "national char": "char",
    "national character": "char",
    "varchar": "varchar",
    "character varying": "varchar",
    "nvarchar": "varchar",
    "varchar2": "varchar",
    "national character varying": "varchar",
    "json": "json",
    "jsonb": "jsonb",
}
_MODIFIERS = frozenset({"unsigned", "signed", "zerofill"})
_PARAMETERS = re.compile(r"\s*\([^)]*\)")

INTEGER_TYPES = frozenset({"integer", "smallint", "serial", "smallserial"})
"""Base types of 32-bit (or smaller) integer columns."""
SERIAL_TYPES = frozenset({"serial", "smallserial", "bigserial"})


@lru_cache(maxsize=4096)
def base_type(sql_type: str | None) -> str:
    """The family of a column type as any parser writes it, for comparisons.

    `int`, `int4`, `integer`, `mediumint` (and `int unsigned`) → `integer`; `int2`, `tinyint` →
    `smallint`; `int8` → `bigint`; `serial4`/`serial2`/`serial8` → `serial`/`smallserial`/
    `bigserial`; `timestamp`, `timestamp(3)`, `timestamp without time zone` and `datetime` →
    `timestamp`; `timestamptz` and `timestamp with time zone` → `timestamptz`; `char(n)`,
    `character(n)`, `nchar(n)`, `bpchar` → `char`; `varchar(n)`, `character varying(n)`,
    `nvarchar(n)` → `varchar`. Arrays (`int[]`) → `array`; unknown types come back lower-cased
    without their parameters; None → "".
    """
    if not sql_type:
        return ""
    text = " ".join(sql_type.lower().split())
    if text.endswith("]") or text.startswith("array"):
        return "array"
    text = _PARAMETERS.sub("", text)
    words = [w for w in text.split() if w not in _MODIFIERS]
    text = " ".join(words)
    return _BASE_TYPES.get(text, text)


def has_length(sql_type: str | None) -> bool:
    """`varchar(255)` yes, `varchar` no."""
    return bool(sql_type and _PARAMETERS.search(sql_type))


# --------------------------------------------------------------------------- helpers


@dataclass(slots=True)
class _Defined:
    """A column definition the migration writes, and where to report on it."""

    op: Operation
    table: str
    column: Column
    new_table: bool


def _definitions(ctx: Context) -> list[_Defined]:
    """Every column defined by CREATE TABLE or ADD COLUMN (any parser), in order."""
    return ctx.memo(_definitions, lambda c: list(_find_definitions(c)))


def _find_definitions(ctx: Context, new_tables: bool = True) -> Iterator[_Defined]:
    """As `_definitions`; without `new_tables`, an ADD COLUMN's table is not looked up
    (`new_table` False) for callers that do not use it."""
    for op in ctx.of(CreateTable, AddColumn):
        if isinstance(op, CreateTable):
            for column in op.columns:
                yield _Defined(op, op.table, column, True)
        elif isinstance(op, AddColumn):
            new = new_tables and ctx.is_new_table(op.table, op)
            yield _Defined(op, op.table, op.column, new)


def _where(item: _Defined) -> Span:
    return item.column.span or item.op.span_of("column")


def _name(item: _Defined) -> str:
    return f"'{item.table}.{item.column.name}'"


_TYPING = (CreateTable, AddColumn, AlterColumn)
"""The operations that write a column type (`_typed`)."""


def _typed(ctx: Context) -> Iterator[tuple[Operation, Span, str, str]]:
    """(operation, range, 'table.column', type) for every column type the migration writes:
    column definitions (as `_definitions` lists them), then `ALTER COLUMN ... TYPE`. Each
    depends on its operation alone, and is asked of `Context.of` by each rule rather than
    shared (`memo`): a rule judging only the operations an edit changed (`Rule.subjects`) gets
    only theirs."""
    for item in _find_definitions(ctx, new_tables=False):
        if item.column.type:
            yield item.op, _where(item), _name(item), item.column.type
    for op in ctx.of(AlterColumn):
        if isinstance(op, AlterColumn) and op.new_type:
            span = op.spans.get("type_") or op.span_of("column")
            yield op, span, f"'{op.table}.{op.column}'", op.new_type


def _report(ctx: Context, op: Operation, span: Span, message: str) -> Finding:
    """A finding on `span` (a column name, a type) whose scope is the whole operation, so an
    ignore comment anywhere on the statement or call applies."""
    found = ctx.finding(span, message)
    found.scope = op.span
    return found


def _style(ctx: Context, op: Operation) -> str:
    """How the operation is written: `sql` (also SQL inside `op.execute`), or the tool."""
    return "sql" if op.is_sql else ctx.migration.tool


def _key(name: str) -> str:
    return name.strip('"`[] ').lower()


def _primary_keys(ctx: Context) -> dict[tuple[str, str], list[str]]:
    """(step, table) → primary-key columns declared in this migration (column flags, or a
    PRIMARY KEY constraint added to a table created in it)."""
    keys: dict[tuple[str, str], list[str]] = {}
    for item in _definitions(ctx):
        if item.column.primary_key:
            place = (item.op.step.value, table_key(item.table))
            keys.setdefault(place, []).append(_key(item.column.name))
    for op in ctx.of(AddConstraint):
        if not (isinstance(op, AddConstraint) and op.kind == "primary_key" and op.columns):
            continue
        if ctx.is_new_table(op.table, op):
            place = (op.step.value, table_key(op.table))
            keys.setdefault(place, []).extend(_key(c) for c in op.columns)
    return keys


_BIGINT_HINTS = {
    "sql": "bigint GENERATED BY DEFAULT AS IDENTITY (or bigserial)",
    "alembic": "sa.BigInteger()",
    "django": "models.BigAutoField (DEFAULT_AUTO_FIELD)",
}
_MYSQL_BIGINT_HINTS = {
    "sql": "BIGINT (AUTO_INCREMENT)",
    "alembic": "sa.BigInteger()",
    "django": "models.BigAutoField (DEFAULT_AUTO_FIELD)",
}


# --------------------------------------------------------------------------- rules


@rule(
    "prefer-bigint-primary-key",
    summary="A new table with a 32-bit (integer/serial) primary key",
    severity=Severity.INFO,
    category="design",
    dialects=frozenset({"postgresql", "mysql"}),
    anchors={"squawk": "prefer-bigint-over-int, prefer-bigint-over-smallint"},
)
def prefer_bigint_primary_key(ctx: Context) -> Iterator[Finding]:
    """
    ## What it does
    Flags a single-column primary key of type `integer`/`int`/`int4`, `serial`, `smallint` or
    `smallserial` (MySQL also `mediumint`, `tinyint`, with or without `unsigned`) on a table the
    migration creates: `CREATE TABLE` (or an `ADD PRIMARY KEY` / `ADD COLUMN` on that new table),
    Alembic `sa.Column("id", sa.Integer(), primary_key=True)`, Django `models.AutoField` and
    `SmallAutoField`.

    Composite primary keys and primary keys that are also foreign keys are left alone: their
    type follows the tables they reference. Alembic's table-level `sa.PrimaryKeyConstraint` and
    SQL's table-level `PRIMARY KEY (...)` inside `CREATE TABLE` are not seen yet.

    ## Why is this bad?
    A 32-bit key runs out at 2,147,483,647 (32,767 for `smallint`; MySQL `int unsigned` at
    4,294,967,295). Busy tables reach that sooner than expected, inserts then fail, and moving
    the key and every foreign key pointing at it to `bigint` rewrites those tables under an
    exclusive lock. `bigint` costs 4 more bytes per row.

    ## Example
    ```sql
    -- flyway: db/migration/V1__create_orders.sql
    CREATE TABLE orders (id serial PRIMARY KEY, total numeric(10,2));
    ```

    ```python
    # alembic: alembic/versions/9d0e1f2a3b4c_create_orders.py
    def upgrade():
        op.create_table("orders", sa.Column("id", sa.Integer(), primary_key=True))
    ```

    ## Use instead
    ```sql
    -- flyway: db/migration/V1__create_orders.sql
    CREATE TABLE orders (
        id bigint GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
        total numeric(10,2)
    );
    ```

    ```python
    # alembic: alembic/versions/9d0e1f2a3b4c_create_orders.py
    def upgrade():
        op.create_table(
            "orders", sa.Column("id", sa.BigInteger(), sa.Identity(), primary_key=True)
        )
    ```
    (Django: `models.BigAutoField`, the default since Django 3.2 with `DEFAULT_AUTO_FIELD`.)

    ## Fix safety
    No automatic fix: the referencing columns of other tables must change type with it.
    """
    keys = _primary_keys(ctx)
    for item in _definitions(ctx):
        if not item.new_table or item.column.references is not None:
            continue
        pk = keys.get((item.op.step.value, table_key(item.table)), [])
        if pk != [_key(item.column.name)]:
            continue
        kind = base_type(item.column.type)
        if kind not in INTEGER_TYPES:
            continue
        hints = _MYSQL_BIGINT_HINTS if ctx.dialect == "mysql" else _BIGINT_HINTS
        hint = hints.get(_style(ctx, item.op), hints["sql"])
        limit = "32,767" if kind in ("smallint", "smallserial") else "about 2.1 billion"
        yield _report(
            ctx,
            item.op,
            _where(item),
            f"Primary key {_name(item)} is {item.column.type}: it runs out at {limit} rows "
            f"and widening it later rewrites the table and every table referencing it. Use "
            f"{hint}.",
        )


@rule(
    "prefer-identity",
    summary="serial/bigserial instead of an identity column",
    severity=Severity.INFO,
    category="design",
    dialects=PG,
    default_enabled=False,
    anchors={"squawk": "prefer-identity"},
)
def prefer_identity(ctx: Context) -> Iterator[Finding]:
    """
    ## What it does
    Flags columns created as `serial`, `smallserial` or `bigserial` (also `serial4`/`serial8`)
    in SQL, and Alembic primary keys SQLAlchemy renders as `SERIAL`: the only primary-key column
    of a new table, of an integer type, without `sa.Identity()`, `sa.Sequence()`,
    `autoincrement=False`, a foreign key or a server default.

    Django is not flagged: since Django 4.1 `AutoField`/`BigAutoField` are identity columns on
    PostgreSQL.

    ## Why is this bad?
    `serial` is a sequence owned by the column, not part of it: permissions on the sequence must
    be granted separately, copying the table definition (`CREATE TABLE ... (LIKE ...)`) shares
    the sequence, and explicit inserts silently run past the sequence. SQL-standard identity
    columns (PostgreSQL 10+) have none of these problems.

    ## Example
    ```sql
    -- flyway: db/migration/V1__create_orders.sql
    CREATE TABLE orders (id bigserial PRIMARY KEY);
    ```

    ## Use instead
    ```sql
    -- flyway: db/migration/V1__create_orders.sql
    CREATE TABLE orders (id bigint GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY);
    ```

    ```python
    # alembic: alembic/versions/9d0e1f2a3b4c_create_orders.py
    def upgrade():
        op.create_table(
            "orders", sa.Column("id", sa.BigInteger(), sa.Identity(), primary_key=True)
        )
    ```

    ## Fix safety
    No automatic fix: it is a design choice, and existing code may rely on the sequence name.
    """
    if ctx.migration.tool == "django":
        return
    keys = _primary_keys(ctx)
    for item in _definitions(ctx):
        column = item.column
        if column.identity:
            continue
        if column.serial or base_type(column.type) in SERIAL_TYPES:
            yield _report(
                ctx,
                item.op,
                _where(item),
                f"Column {_name(item)} is {column.type}. Use an identity column instead: "
                "bigint GENERATED BY DEFAULT AS IDENTITY.",
            )
            continue
        if ctx.migration.tool != "alembic" or item.op.is_sql or not item.new_table:
            continue
        pk = keys.get((item.op.step.value, table_key(item.table)), [])
        if pk != [_key(column.name)] or column.references is not None or column.default:
            continue
        if base_type(column.type) not in ("integer", "smallint", "bigint") or column.span is None:
            continue
        written = ctx.migration.text[column.span.start : _column_end(item)]
        if "autoincrement=False" in written.replace(" ", "") or "Sequence(" in written:
            continue
        yield _report(
            ctx,
            item.op,
            _where(item),
            f"SQLAlchemy creates primary key {_name(item)} as SERIAL on PostgreSQL. Add "
            "sa.Identity() to make it an identity column.",
        )


def _column_end(item: _Defined) -> int:
    """Where the text of a column definition of a CREATE TABLE ends, at the latest."""
    assert item.column.span is not None
    if isinstance(item.op, CreateTable):
        after = [
            c.span.start
            for c in item.op.columns
            if c.span is not None and c.span.start > item.column.span.start
        ]
        if after:
            return min(after)
    return item.op.span.end


def _type_findings(
    ctx: Context, wanted: str, message: str, *, with_length: bool = False
) -> Iterator[Finding]:
    for op, span, name, sql_type in _typed(ctx):
        if base_type(sql_type) != wanted or (with_length and not has_length(sql_type)):
            continue
        yield _report(ctx, op, span, message.format(name=name, type=sql_type))


@rule(
    "prefer-text-field",
    summary="varchar(n) on PostgreSQL, where text with a CHECK is as fast and easier to change",
    severity=Severity.INFO,
    category="design",
    dialects=PG,
    default_enabled=False,
    anchors={"squawk": "prefer-text-field"},
    subjects=_TYPING,
)
def prefer_text_field(ctx: Context) -> Iterator[Finding]:
    """
    ## What it does
    Flags `varchar(n)` / `character varying(n)` columns on PostgreSQL, in column definitions
    and type changes: SQL, Alembic `sa.String(255)`, Django `models.CharField(max_length=...)`.
    `varchar` without a length is not flagged.

    ## Why is this bad?
    On PostgreSQL `varchar(n)` is stored and searched exactly like `text`; the length is only a
    check. Raising the limit later is an `ALTER COLUMN ... TYPE` that takes an ACCESS EXCLUSIVE
    lock (and used to rewrite the table), while a CHECK constraint can be replaced without
    blocking (NOT VALID, then VALIDATE).

    ## Example
    ```sql
    -- flyway: db/migration/V1__create_users.sql
    CREATE TABLE users (email varchar(255));
    ```

    ## Use instead
    ```sql
    -- flyway: db/migration/V1__create_users.sql
    CREATE TABLE users (email text CHECK (char_length(email) <= 255));
    ```

    ## Fix safety
    No automatic fix: whether the limit matters is for you to decide.
    """
    yield from _type_findings(
        ctx,
        "varchar",
        "Column {name} is {type}. On PostgreSQL use text (with a CHECK on its length if the "
        "limit matters): changing the limit later locks the table.",
        with_length=True,
    )


@rule(
    "prefer-timestamptz",
    summary="timestamp without time zone",
    severity=Severity.INFO,
    category="design",
    dialects=PG,
    anchors={"squawk": "prefer-timestamptz"},
    subjects=_TYPING,
)
def prefer_timestamptz(ctx: Context) -> Iterator[Finding]:
    """
    ## What it does
    Flags PostgreSQL columns of type `timestamp` / `timestamp without time zone`, in column
    definitions and type changes: SQL, Alembic `sa.DateTime()` / `sa.TIMESTAMP()` without
    `timezone=True`. Django's `DateTimeField` is always `timestamp with time zone` on
    PostgreSQL and is never flagged; MySQL's `datetime` is out of scope (PostgreSQL only).

    ## Why is this bad?
    A `timestamp` stores a wall-clock reading without saying which clock: values written from
    servers or sessions in different time zones cannot be compared, and daylight-saving changes
    make them ambiguous. `timestamptz` stores an instant (in UTC) and costs the same 8 bytes.

    ## Example
    ```python
    # alembic: alembic/versions/0e1f2a3b4c5d_shipped_at.py
    def upgrade():
        op.add_column("orders", sa.Column("shipped_at", sa.DateTime(), nullable=True))
    ```

    ```sql
    -- flyway: db/migration/V2__shipped_at.sql
    ALTER TABLE orders ADD COLUMN shipped_at timestamp;
    ```

    ## Use instead
    ```python
    # alembic: alembic/versions/0e1f2a3b4c5d_shipped_at.py
    def upgrade():
        op.add_column(
            "orders", sa.Column("shipped_at", sa.DateTime(timezone=True), nullable=True)
        )
    ```

    ```sql
    -- flyway: db/migration/V2__shipped_at.sql
    ALTER TABLE orders ADD COLUMN shipped_at timestamptz;
    ```

    ## Fix safety
    No automatic fix: converting existing data needs the time zone it was written in.
    """
    for op, span, name, sql_type in _typed(ctx):
        if base_type(sql_type) != "timestamp":
            continue
        style = _style(ctx, op)
        hint = "sa.DateTime(timezone=True)" if style == "alembic" else "timestamptz"
        yield _report(
            ctx,
            op,
            span,
            f"Column {name} is {sql_type} (without time zone): its values do not say which time "
            f"zone they are in. Use {hint}.",
        )


@rule(
    "ban-char-field",
    summary="char(n): blank-padded fixed-length text",
    severity=Severity.INFO,
    category="design",
    dialects=PG,
    anchors={"squawk": "ban-char-field"},
    subjects=_TYPING,
)
def ban_char_field(ctx: Context) -> Iterator[Finding]:
    """
    ## What it does
    Flags PostgreSQL columns of type `char(n)` / `character(n)` (also `nchar`, `bpchar` and a
    bare `char`, which means `char(1)`), in column definitions and type changes: SQL, Alembic
    `sa.CHAR(2)` / `sa.NCHAR`.

    ## Why is this bad?
    `char(n)` pads values with spaces up to `n`, strips them again in comparisons but not
    everywhere else (`length`, concatenation, `LIKE`, client libraries), and is no faster than
    `text` or `varchar` on PostgreSQL: it is slower, because of the padding.

    ## Example
    ```sql
    -- flyway: db/migration/V1__create_countries.sql
    CREATE TABLE countries (code char(2) PRIMARY KEY);
    ```

    ## Use instead
    ```sql
    -- flyway: db/migration/V1__create_countries.sql
    CREATE TABLE countries (code text PRIMARY KEY CHECK (char_length(code) = 2));
    ```

    ## Fix safety
    No automatic fix: existing values keep their padding until they are trimmed.
    """
    yield from _type_findings(
        ctx,
        "char",
        "Column {name} is {type}: values are padded with spaces, which leak into comparisons "
        "and lengths. Use text or varchar(n) instead.",
    )


@rule(
    "prefer-jsonb",
    summary="json instead of jsonb",
    severity=Severity.INFO,
    category="design",
    dialects=PG,
    anchors={"strong_migrations": "add_column_json"},
    subjects=_TYPING,
)
def prefer_jsonb(ctx: Context) -> Iterator[Finding]:
    """
    ## What it does
    Flags PostgreSQL columns of type `json`, in column definitions and type changes: SQL,
    Alembic `sa.JSON()` / `postgresql.JSON()`. Django's `JSONField` is `jsonb` on PostgreSQL and
    is never flagged.

    ## Why is this bad?
    `json` stores the text as written and re-parses it on every access; it has no equality
    operator (so no `DISTINCT`, `GROUP BY` or `UNION` on it) and cannot use GIN indexes.
    `jsonb` is parsed once, is faster to query and can be indexed. Keep `json` only when the
    exact text (key order, duplicate keys, whitespace) must be preserved.

    ## Example
    ```python
    # alembic: alembic/versions/1f2a3b4c5d6e_event_payload.py
    def upgrade():
        op.add_column("events", sa.Column("payload", sa.JSON(), nullable=True))
    ```

    ## Use instead
    ```python
    # alembic: alembic/versions/1f2a3b4c5d6e_event_payload.py
    from sqlalchemy.dialects import postgresql


    def upgrade():
        op.add_column("events", sa.Column("payload", postgresql.JSONB(), nullable=True))
    ```

    ## Fix safety
    No automatic fix: code comparing the stored text would see normalized JSON.
    """
    for op, span, name, sql_type in _typed(ctx):
        if base_type(sql_type) != "json":
            continue
        hint = "postgresql.JSONB()" if _style(ctx, op) == "alembic" else "jsonb"
        yield _report(
            ctx,
            op,
            span,
            f"Column {name} is json: it is re-parsed on every access, has no equality and "
            f"cannot be indexed with GIN. Use {hint}.",
        )


@dataclass(slots=True)
class _ForeignKey:
    op: Operation
    span: Span
    table: str
    columns: list[str]
    references: str | None


_FK_PARTS = ("keyword", "name", "column")


def _foreign_keys(ctx: Context) -> list[_ForeignKey]:
    found: list[_ForeignKey] = []
    seen: set[tuple[str, str, tuple[str, ...]]] = set()

    def add(op: Operation, span: Span, table: str, columns: list[str], ref: str | None) -> None:
        place = (op.step.value, table_key(table), tuple(sorted(_key(c) for c in columns)))
        if place not in seen:
            seen.add(place)
            found.append(_ForeignKey(op, span, table, columns, ref))

    for item in _definitions(ctx):
        if item.column.references is not None:
            add(item.op, _where(item), item.table, [item.column.name], item.column.references)
    for op in ctx.of(AddConstraint):
        if isinstance(op, AddConstraint) and op.kind == "foreign_key" and op.columns:
            span = next((op.spans[p] for p in _FK_PARTS if p in op.spans), op.span)
            add(op, span, op.table, op.columns, op.references)
    return found


def _indexes(ctx: Context) -> dict[tuple[Step, str], set[tuple[str, ...]]]:
    """(step, table) → the leading columns of every index the migration builds (CREATE INDEX,
    indexed, unique and primary-key columns, PRIMARY KEY and UNIQUE constraints): each
    prefix of an index's columns, sorted, so that a foreign key's columns in any order are
    found with one look-up however many indexes a table has."""
    indexes: dict[tuple[Step, str], set[tuple[str, ...]]] = {}

    def add(op: Operation, table: str, columns: list[str]) -> None:
        if columns:
            keys = [_key(c) for c in columns]
            prefixes = indexes.setdefault((op.step, table_key(table)), set())
            prefixes.update(tuple(sorted(keys[:size])) for size in range(1, len(keys) + 1))

    for item in _definitions(ctx):
        column = item.column
        if column.index or column.unique or column.primary_key:
            add(item.op, item.table, [column.name])
    for op in ctx.of(CreateIndex, AddConstraint, CreateTable):
        if isinstance(op, CreateIndex) or (
            isinstance(op, AddConstraint) and op.kind in ("primary_key", "unique")
        ):
            add(op, op.table, op.columns)
        elif isinstance(op, CreateTable):
            pk = [c.name for c in op.columns if c.primary_key]
            if len(pk) > 1:
                add(op, op.table, pk)
    return indexes


_INDEX_HINTS = {
    "alembic": "Add index=True to the column, or op.create_index(...) on it",
    "django": "Keep db_index on (the default for a ForeignKey), or add an index on it",
}


@rule(
    "foreign-key-without-index",
    summary="A new foreign key whose columns have no index",
    severity=Severity.INFO,
    category="design",
)
def foreign_key_without_index(ctx: Context) -> Iterator[Finding]:
    """
    ## What it does
    Flags a foreign key the migration adds — a column with `REFERENCES` / `sa.ForeignKey(...)` /
    a Django `ForeignKey` in a new table or an added column, or an `ADD CONSTRAINT ... FOREIGN
    KEY` (`op.create_foreign_key`) — when the same migration builds no index that starts with its
    column(s): a `CREATE INDEX` (`op.create_index`, Django `AddIndex`), `index=True`, Django's own
    index of a `ForeignKey` (unless `db_index=False`), or a PRIMARY KEY / UNIQUE leading with
    them.

    MySQL (InnoDB) creates the missing index itself, so the rule stays quiet there. An index
    built by an earlier migration cannot be seen: silence the line if one exists.

    ## Why is this bad?
    PostgreSQL and SQLite do not index the referencing side of a foreign key. Every DELETE (or
    key UPDATE) on the referenced table then scans the whole referencing table to check for
    rows that still point at it, under lock, and joins along the relation scan too.

    ## Example
    ```sql
    -- flyway: db/migration/V3__create_orders.sql
    CREATE TABLE orders (
        id bigint GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
        customer_id bigint NOT NULL REFERENCES customers (id)
    );
    ```

    ## Use instead
    ```sql
    -- flyway: db/migration/V3__create_orders.sql
    CREATE TABLE orders (
        id bigint GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
        customer_id bigint NOT NULL REFERENCES customers (id)
    );
    CREATE INDEX orders_customer_id_idx ON orders (customer_id);
    ```
    On an existing table, build the index `CONCURRENTLY` in a migration of its own (see
    `non-concurrent-index`).

    ## Fix safety
    No automatic fix: where and how to build the index (concurrently, in its own migration) is
    for you to decide.
    """
    if ctx.dialect == "mysql":
        return
    indexes = _indexes(ctx)
    for fk in _foreign_keys(ctx):
        wanted = tuple(sorted(_key(c) for c in fk.columns))
        if wanted in indexes.get((fk.op.step, table_key(fk.table)), ()):
            continue
        columns = ", ".join(fk.columns)
        target = f" to '{fk.references}'" if fk.references else ""
        hint = _INDEX_HINTS.get(_style(ctx, fk.op), f"Create an index on {fk.table} ({columns})")
        yield _report(
            ctx,
            fk.op,
            fk.span,
            f"Foreign key '{fk.table}' ({columns}){target} has no index in this migration: "
            "deleting referenced rows scans the whole table. " + hint + ".",
        )


@rule(
    "alter-column-missing-existing-type",
    summary="Alembic alter_column without existing_type",
    severity=Severity.WARNING,
    category="design",
    dialects=frozenset({"mysql"}),
)
def alter_column_missing_existing_type(ctx: Context) -> Iterator[Finding]:
    """
    ## What it does
    Flags Alembic `op.alter_column(...)` / `batch_op.alter_column(...)` calls that change
    nullability, type or name without `existing_type=`, on MySQL / MariaDB. (A call that only
    changes the server default is not flagged: MySQL alters a default on its own.)

    ## Why is this bad?
    MySQL has no statement that changes only a column's nullability or name: Alembic must write
    `MODIFY`/`CHANGE COLUMN` with the whole column definition. Without `existing_type` it fails
    ("MySQL CHANGE/MODIFY COLUMN operations require the existing type"); with only `type_` the
    downgrade and autogenerate comparisons have nothing to go back to. Also pass
    `existing_nullable` and `existing_server_default`, or MODIFY silently drops them.

    ## Example
    ```python
    # alembic (mysql): alembic/versions/2a3b4c5d6e7f_require_email.py
    def upgrade():
        op.alter_column("users", "email", nullable=False)
    ```

    ## Use instead
    ```python
    # alembic (mysql): alembic/versions/2a3b4c5d6e7f_require_email.py
    def upgrade():
        op.alter_column(
            "users", "email", existing_type=sa.String(length=255), nullable=False
        )
    ```

    ## Fix safety
    No automatic fix: only you know the column's current type.
    """
    if ctx.migration.tool != "alembic":
        return
    reported: set[Span] = set()
    for op in ctx.of(AlterColumn, RenameColumn):
        if not isinstance(op, AlterColumn | RenameColumn):
            continue
        if not op.origin.endswith(".alter_column") or "existing_type" in op.spans:
            continue
        if op.span in reported:
            continue
        reported.add(op.span)
        yield ctx.finding(
            op,
            f"alter_column on '{op.table}.{op.column}' without existing_type: MySQL restates the "
            "whole column (MODIFY/CHANGE COLUMN), so Alembic needs the current type. Add "
            "existing_type=... (and existing_nullable / existing_server_default).",
            part="keyword",
        )


_SQLITE_DIRECTIVES = frozenset(
    {
        "alter_column",
        "drop_column",
        "add_column",
        "create_foreign_key",
        "create_unique_constraint",
        "create_check_constraint",
        "create_primary_key",
        "drop_constraint",
    }
)


def _sqlite_problem(op: Operation) -> str | None:
    """What SQLite cannot do in place in this Alembic operation, or None."""
    if isinstance(op, AlterColumn):
        return (
            f"SQLite cannot ALTER COLUMN: changing the type or nullability of '{op.table}."
            f"{op.column}' fails"
        )
    if isinstance(op, DropColumn):
        return (
            f"SQLite before 3.35 has no DROP COLUMN, and later versions still refuse to drop "
            f"'{op.table}.{op.column}' if it is indexed, unique, part of a key or used by a "
            "constraint, view or trigger"
        )
    if isinstance(op, AddConstraint) and not op.implicit:
        return f"SQLite cannot add a constraint to an existing table ('{op.table}')"
    if isinstance(op, DropConstraint):
        return f"SQLite cannot drop a constraint of an existing table ('{op.table}')"
    if isinstance(op, AddColumn):
        column = op.column
        if column.primary_key or column.unique:
            kind = "PRIMARY KEY" if column.primary_key else "UNIQUE"
            return f"SQLite cannot add a {kind} column ('{op.table}.{column.name}')"
        if column.generated_stored:
            return f"SQLite cannot add a STORED generated column ('{op.table}.{column.name}')"
    return None


@rule(
    "sqlite-unsupported-alter",
    summary="An Alembic ALTER that SQLite cannot do in place, outside batch_alter_table",
    severity=Severity.ERROR,
    category="design",
    dialects=frozenset({"sqlite"}),
)
def sqlite_unsupported_alter(ctx: Context) -> Iterator[Finding]:
    """
    ## What it does
    Flags Alembic `op.*` operations that SQLite's `ALTER TABLE` cannot do, written outside
    `with op.batch_alter_table(...)`: `alter_column` changing type or nullability,
    `drop_column` (SQLite before 3.35 has none, and later versions refuse indexed, unique or
    key columns), `create_foreign_key` / `create_unique_constraint` /
    `create_check_constraint` / `create_primary_key`, `drop_constraint`, and `add_column` of a
    PRIMARY KEY, UNIQUE or STORED generated column.

    Not flagged: renaming a column (SQLite 3.25+, 2018, supports it), SQL files and `op.execute`
    (the SQL is yours), and Django: Django's SQLite schema editor rebuilds the table itself
    (create new table, copy rows, drop, rename) for every change `ALTER TABLE` cannot make.

    ## Why is this bad?
    The migration fails on SQLite: with a syntax error from the database, or with Alembic's
    `NotImplementedError: No support for ALTER of constraints in SQLite dialect`.

    ## Example
    ```python
    # alembic (sqlite): alembic/versions/3b4c5d6e7f8a_require_email.py
    def upgrade():
        op.alter_column("users", "email", existing_type=sa.String(), nullable=False)
    ```

    ## Use instead
    ```python
    # alembic (sqlite): alembic/versions/3b4c5d6e7f8a_require_email.py
    def upgrade():
        with op.batch_alter_table("users") as batch_op:
            batch_op.alter_column("email", existing_type=sa.String(), nullable=False)
    ```
    Batch mode copies the table into a new one with the change, as SQLite requires.

    ## Fix safety
    No automatic fix yet: moving operations into `batch_alter_table` changes their arguments.
    """
    if ctx.migration.tool != "alembic":
        return
    reported: set[Span] = set()
    for op in ctx.operations():
        receiver, _, method = op.origin.partition(".")
        if receiver != "op" or method not in _SQLITE_DIRECTIVES or op.span in reported:
            continue
        problem = _sqlite_problem(op)
        if problem is None:
            continue
        reported.add(op.span)
        yield ctx.finding(
            op,
            f"{problem}. Run it inside `with op.batch_alter_table(...) as batch_op:`, which "
            "rebuilds the table.",
            part="keyword",
        )


@rule(
    "prefer-bigint",
    summary="integer/smallint columns on new tables",
    severity=Severity.INFO,
    category="design",
    dialects=PG,
    default_enabled=False,
    fix="use-bigint",
    anchors={"squawk": "prefer-bigint-over-int, prefer-bigint-over-smallint"},
)
def prefer_bigint(ctx: Context) -> Iterator[Finding]:
    """
    ## What it does
    Flags columns of type `integer`/`int`/`int4`, `smallint`/`int2`, `serial` or `smallserial`
    on tables the migration creates (`CREATE TABLE`, and `ADD COLUMN` on such a table), from
    SQL, Alembic (`sa.Integer()`, `sa.SmallInteger()`) and Django (`IntegerField`,
    `SmallIntegerField`, ...). Primary keys are left to `prefer-bigint-primary-key`, and foreign
    key columns follow the type of the key they reference.

    ## Why is this bad?
    Counters and ids stored in 32 bits overflow at about 2.1 billion (`smallint` at 32,767), and
    widening a column later rewrites the table under an exclusive lock. On a new, empty table
    `bigint` costs nothing to choose now.

    ## Example
    ```sql
    -- flyway: db/migration/V1__create_page_views.sql
    CREATE TABLE page_views (id bigint PRIMARY KEY, views integer NOT NULL);
    ```

    ## Use instead
    ```sql
    -- flyway: db/migration/V1__create_page_views.sql
    CREATE TABLE page_views (id bigint PRIMARY KEY, views bigint NOT NULL);
    ```

    ## Fix safety
    The type change is safe on a new table: it holds no rows yet. Application code that
    assumes 32-bit values should be checked.
    """
    for item in _definitions(ctx):
        column = item.column
        if not item.new_table or column.primary_key or column.references is not None:
            continue
        if base_type(column.type) not in INTEGER_TYPES:
            continue
        yield _report(
            ctx,
            item.op,
            _where(item),
            f"Column {_name(item)} of a new table is {column.type}: 32-bit values overflow "
            "and widening later rewrites the table. Use bigint.",
        )


RULES: tuple[Rule, ...] = (
    prefer_bigint_primary_key,
    prefer_identity,
    prefer_text_field,
    prefer_timestamptz,
    ban_char_field,
    prefer_jsonb,
    foreign_key_without_index,
    alter_column_missing_existing_type,
    sqlite_unsupported_alter,
    prefer_bigint,
)
"""This module's rules, in catalogue order; `registry.RULES` includes them."""
