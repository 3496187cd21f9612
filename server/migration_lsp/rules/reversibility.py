"""Reversibility: can the migration be rolled back?"""

from __future__ import annotations

from collections.abc import Iterator

from migration_lsp.findings import Finding
from migration_lsp.model import (
    AddColumn,
    AddConstraint,
    AlterColumn,
    CreateIndex,
    CreateTable,
    DropColumn,
    DropConstraint,
    DropIndex,
    DropTable,
    ExecuteSQL,
    Migration,
    Operation,
    RenameColumn,
    RenameTable,
    RunCode,
    Severity,
    Step,
    changes_schema,
)
from migration_lsp.rules.base import Context, rule, table_key


def _forward_changes_schema(ctx: Context) -> bool:
    return any(op.step is Step.UP and changes_schema(op) for op in ctx.migration.operations)


@rule(
    "missing-downgrade",
    summary="The migration has no reverse step",
    severity=Severity.WARNING,
    category="reversibility",
    fix="add-downgrade",
    anchors={"alembic": "downgrade()"},
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
    # alembic: alembic/versions/3f2a1b9c4d5e_add_email.py
    def upgrade():
        op.add_column("users", sa.Column("email", sa.String(255), nullable=True))
    ```

    ```ruby
    # rails: db/migrate/20240501120000_add_email_to_users.rb
    class AddEmailToUsers < ActiveRecord::Migration[7.1]
      def up
        add_column :users, :email, :string
      end
    end
    ```

    ## Use instead
    ```python
    # alembic: alembic/versions/3f2a1b9c4d5e_add_email.py
    def upgrade():
        op.add_column("users", sa.Column("email", sa.String(255), nullable=True))


    def downgrade():
        op.drop_column("users", "email")
    ```

    Rails reverses `add_column` by itself when it is written in `change`:

    ```ruby
    # rails: db/migrate/20240501120000_add_email_to_users.rb
    class AddEmailToUsers < ActiveRecord::Migration[7.1]
      def change
        add_column :users, :email, :string
      end
    end
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
    # alembic: alembic/versions/8d1e2f3a4b5c_create_posts.py
    def upgrade():
        op.create_table("posts", sa.Column("id", sa.BigInteger(), primary_key=True))


    def downgrade():
        pass
    ```

    ## Use instead
    ```python
    # alembic: alembic/versions/8d1e2f3a4b5c_create_posts.py
    def upgrade():
        op.create_table("posts", sa.Column("id", sa.BigInteger(), primary_key=True))


    def downgrade():
        op.drop_table("posts")
    ```

    or, when the change really cannot be undone, say so:
    `raise NotImplementedError("posts holds data that cannot be restored")`.

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
    # django: shop/migrations/0002_fill_slugs.py
    from django.db import migrations, models


    def fill_slugs(apps, schema_editor):
        Product = apps.get_model("shop", "Product")
        Product.objects.filter(slug="").update(slug=models.F("sku"))


    class Migration(migrations.Migration):
        dependencies = [("shop", "0001_initial")]
        operations = [migrations.RunPython(fill_slugs)]
    ```

    ## Use instead
    ```python
    # django: shop/migrations/0002_fill_slugs.py
    from django.db import migrations, models


    def fill_slugs(apps, schema_editor):
        Product = apps.get_model("shop", "Product")
        Product.objects.filter(slug="").update(slug=models.F("sku"))


    class Migration(migrations.Migration):
        dependencies = [("shop", "0001_initial")]
        operations = [migrations.RunPython(fill_slugs, reverse_code=migrations.RunPython.noop)]
    ```
    or a real reverse function when the data change must be undone.

    ## Fix safety
    Adding `reverse_code=migrations.RunPython.noop` is marked unsafe: it declares that rolling
    back needs no data change, which only you can confirm.
    """
    for op in ctx.every(RunCode):
        if op.language == "python" and not op.has_reverse:
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
    # django: shop/migrations/0003_order_created_index.py
    from django.db import migrations


    class Migration(migrations.Migration):
        atomic = False
        dependencies = [("shop", "0002_order")]
        operations = [
            migrations.RunSQL("CREATE INDEX CONCURRENTLY ix_order_created ON shop_order (created)"),
        ]
    ```

    ## Use instead
    ```python
    # django: shop/migrations/0003_order_created_index.py
    from django.db import migrations


    class Migration(migrations.Migration):
        atomic = False
        dependencies = [("shop", "0002_order")]
        operations = [
            migrations.RunSQL(
                "CREATE INDEX CONCURRENTLY ix_order_created ON shop_order (created)",
                reverse_sql="DROP INDEX CONCURRENTLY ix_order_created",
            ),
        ]
    ```

    ## Fix safety
    `reverse_sql=migrations.RunSQL.noop` is marked unsafe; a derived reverse statement is
    offered where one exists.
    """
    for op in ctx.every(RunCode):
        if op.language == "sql" and not op.has_reverse:
            yield ctx.finding(
                op,
                "RunSQL has no reverse_sql, so this migration cannot be unapplied. Pass "
                "reverse_sql (the undoing SQL, or migrations.RunSQL.noop).",
                part="sql",
            )


_DOWNGRADE_TOOLS = frozenset({"alembic", "knex", "laravel", "typeorm", "sequelize"})
"""Tools whose reverse step is written by hand next to the forward one."""


class _Names:
    """Table and column names that stand for the same object across the migration's renames."""

    def __init__(self, ops: list[Operation]) -> None:
        self.parent: dict[str, str] = {}
        for op in ops:
            if isinstance(op, RenameTable):
                self.join(_table(op.table), _table(op.new_name))
        for op in ops:
            if isinstance(op, RenameColumn):
                table = self.table(op.table)
                self.join(f"{table}.{op.column.lower()}", f"{table}.{op.new_name.lower()}")

    def find(self, key: str) -> str:
        while self.parent.get(key, key) != key:
            key = self.parent[key]
        return key

    def join(self, a: str, b: str) -> None:
        a, b = self.find(a), self.find(b)
        if a != b:
            self.parent[b] = a

    def table(self, name: str | None) -> str:
        return self.find(_table(name or ""))

    def column(self, table: str, column: str) -> str:
        table = self.table(table)
        return self.find(f"{table}.{column.lower()}")


def _table(name: str) -> str:
    return table_key(name) if name else ""


class _Undo:
    """What the reverse step (or a later forward operation) undoes, by kind and name."""

    def __init__(self, ops: list[Operation], names: _Names) -> None:
        self.names = names
        self.tables: set[str] = set()
        self.columns: set[str] = set()
        self.indexes: set[str] = set()
        self.constraints: set[str] = set()
        self.table_renames: set[tuple[str, str]] = set()
        self.column_renames: set[tuple[str, str, str]] = set()
        self.altered: set[str] = set()
        self.unnamed_drops: set[str] = set()
        """Tables with an index or constraint dropped by a name only known at run time
        (`op.f("ix_...")`, a variable): it may be any of them."""
        self.unknown: set[str] = set()
        """Kinds dropped with a name only known at run time: they may undo anything."""
        for op in ops:
            self.add(op)

    def add(self, op: Operation) -> None:
        n = self.names
        if isinstance(op, DropTable):
            if op.table:
                self.tables.add(n.table(op.table))
            else:
                self.unknown.add("table")
        elif isinstance(op, DropColumn):
            if op.table and op.column:
                self.columns.add(n.column(op.table, op.column))
            else:
                self.unknown.add("column")
        elif isinstance(op, DropIndex | DropConstraint):
            if op.name:
                # a unique constraint is an index on some databases: either drop undoes either
                self.indexes.add(op.name.lower())
                self.constraints.add(op.name.lower())
            elif op.table:
                self.unnamed_drops.add(n.table(op.table))
            else:
                self.unknown.update(("index", "constraint"))
        elif isinstance(op, RenameTable):
            self.table_renames.add((_table(op.table), _table(op.new_name)))
        elif isinstance(op, RenameColumn):
            table = n.table(op.table)
            self.column_renames.add((table, op.column.lower(), op.new_name.lower()))
        elif isinstance(op, AlterColumn):
            if op.table and op.column:
                self.altered.add(n.column(op.table, op.column))
            else:
                self.unknown.add("alter")

    def table_gone(self, table: str) -> bool:
        return "table" in self.unknown or self.names.table(table) in self.tables

    def column_gone(self, table: str, column: str) -> bool:
        return (
            self.table_gone(table)
            or "column" in self.unknown
            or self.names.column(table, column) in self.columns
        )

    def unnamed(self, table: str) -> bool:
        return self.names.table(table) in self.unnamed_drops

    @staticmethod
    def label(name: str | None, table: str) -> str:
        return f"'{name}'" if name else f"on '{table}'"

    def columns_gone(self, table: str, columns: list[str]) -> bool:
        return self.table_gone(table) or any(self.column_gone(table, c) for c in columns)

    def missing(self, op: Operation) -> str | None:
        """How the reverse step should undo `op`, when nothing undoes it; None otherwise."""
        if isinstance(op, CreateTable) and op.table:
            return None if self.table_gone(op.table) else f"drop table '{op.table}'"
        if isinstance(op, AddColumn) and op.table:
            if self.column_gone(op.table, op.column.name):
                return None
            return f"drop column '{op.table}.{op.column.name}'"
        if isinstance(op, CreateIndex) and op.table and not op.implicit:
            if "index" in self.unknown or (op.name or "").lower() in self.indexes:
                return None
            if self.unnamed(op.table) or self.columns_gone(op.table, op.columns):
                return None
            return f"drop index {self.label(op.name, op.table)}"
        if isinstance(op, AddConstraint) and op.table and not op.implicit:
            if "constraint" in self.unknown or (op.name or "").lower() in self.constraints:
                return None
            if self.unnamed(op.table) or self.columns_gone(op.table, op.columns):
                return None
            return f"drop constraint {self.label(op.name, op.table)}"
        if isinstance(op, RenameTable) and op.table and op.new_name:
            if (_table(op.new_name), _table(op.table)) in self.table_renames:
                return None
            if self.table_gone(op.new_name):
                return None
            return f"rename table '{op.new_name}' back to '{op.table}'"
        if isinstance(op, RenameColumn) and op.table and op.column and op.new_name:
            table = self.names.table(op.table)
            if (table, op.new_name.lower(), op.column.lower()) in self.column_renames:
                return None
            if self.table_gone(op.table):
                return None
            return f"rename column '{op.table}.{op.new_name}' back to '{op.column}'"
        if isinstance(op, AlterColumn) and op.table and op.column:
            if op.new_type is None and op.nullable is None:
                return None
            if "alter" in self.unknown or self.column_gone(op.table, op.column):
                return None
            if self.names.column(op.table, op.column) in self.altered:
                return None
            return f"revert the change to column '{op.table}.{op.column}'"
        return None


@rule(
    "incomplete-downgrade",
    summary="The reverse step does not undo every operation of the forward step",
    severity=Severity.INFO,
    category="reversibility",
    fix="complete-downgrade",
)
def incomplete_downgrade(ctx: Context) -> Iterator[Finding]:
    """
    ## What it does
    Flags a reverse step (Alembic `downgrade()`, Knex/Sequelize/TypeORM `down`, Laravel
    `down()`) that exists and does something, but leaves some operation of the forward step in
    place: a table created and never dropped, a column added and never dropped, an index or
    a named constraint created and never dropped (dropping its table or column counts), a
    rename not renamed back, a column's type or nullability changed and never changed back.
    Data changes, drops and raw SQL the linter cannot invert are not required. A reverse step
    that raises `NotImplementedError` says it cannot undo the migration, and is left alone.

    ## Why is this bad?
    A partial downgrade reports success while the database keeps part of the change. The
    history now says the revision is gone, so the next upgrade runs again on a schema that
    still has the table, column or index, and fails ("relation already exists") exactly when
    the rollback was supposed to get things working again.

    ## Example
    ```python
    # alembic: alembic/versions/8d1e2f3a4b5c_create_posts_and_tags.py
    def upgrade():
        op.create_table("posts", sa.Column("id", sa.BigInteger(), primary_key=True))
        op.create_table("tags", sa.Column("id", sa.BigInteger(), primary_key=True))


    def downgrade():
        op.drop_table("tags")
    ```

    ## Use instead
    ```python
    # alembic: alembic/versions/8d1e2f3a4b5c_create_posts_and_tags.py
    def upgrade():
        op.create_table("posts", sa.Column("id", sa.BigInteger(), primary_key=True))
        op.create_table("tags", sa.Column("id", sa.BigInteger(), primary_key=True))


    def downgrade():
        op.drop_table("tags")
        op.drop_table("posts")
    ```

    ## Fix safety
    For Alembic, the fix adds the inverse of each operation the downgrade misses at the start of
    `downgrade()` (they undo the upgrade's last steps first), and a `raise NotImplementedError`
    stop for what has no automatic inverse. It is marked unsafe: review it.
    """
    m = ctx.migration
    if m.tool not in _DOWNGRADE_TOOLS or not m.supports_down:
        return
    down = m.down
    if down is None or down.empty or down.raises:
        return
    gaps = not_undone(m)
    if not gaps:
        return
    missing: list[str] = []
    for _, what in gaps:
        if what not in missing:
            missing.append(what)
    yield ctx.finding(
        down.span,
        f"Downgrade does not {_join(missing)}: rolling back would leave the upgrade partly in "
        "place. Add the missing inverse operations, or raise NotImplementedError if the "
        "migration cannot be undone.",
    )


def not_undone(m: Migration) -> list[tuple[Operation, str]]:
    """The upgrade operations the downgrade does not undo, with what is missing for each."""
    up_ops = [op for op in m.operations if op.step is Step.UP]
    down_ops = [op for op in m.operations if op.step is Step.DOWN]
    if not down_ops or any(isinstance(op, ExecuteSQL) and op.sql is None for op in down_ops):
        return []  # nothing readable (helper functions, SQL built at run time): cannot tell
    names = _Names(up_ops)
    undo = _Undo(down_ops, names)
    gaps: list[tuple[Operation, str]] = []
    for index, op in enumerate(up_ops):
        what = undo.missing(op)
        if what is None:
            continue
        if _Undo(up_ops[index + 1 :], names).missing(op) is None:
            continue  # the forward step itself undoes it later (a temporary column or index)
        gaps.append((op, what))
    return gaps


def _join(actions: list[str]) -> str:
    """`drop table 'a'`, `drop index 'b'`, `rename ...` → `drop table 'a', index 'b', rename
    ...`: the drops first, under one verb."""
    drops = [a.removeprefix("drop ") for a in actions if a.startswith("drop ")]
    others = [a for a in actions if not a.startswith("drop ")]
    return ", ".join(([f"drop {', '.join(drops)}"] if drops else []) + others)
