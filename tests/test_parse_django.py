"""The Django migration parser: operations, spans, transactions and replayed model state."""

from __future__ import annotations

from pathlib import Path
from typing import Any, TypeVar

import pytest

from migration_lsp.model import (
    AddColumn,
    AddConstraint,
    AlterColumn,
    Column,
    CreateIndex,
    CreateTable,
    DataChange,
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
    Step,
)
from migration_lsp.parse.django import (
    DjangoState,
    ModelState,
    app_label_from_path,
    parse_django,
    replay_app_state,
    table_name,
)
from migration_lsp.text import Span

FIXTURES = Path(__file__).parent / "fixtures" / "django"
SHOP = FIXTURES / "shop" / "migrations"
FILES = sorted(p for p in SHOP.glob("0*.py"))

T = TypeVar("T", bound=Operation)


def parse_fixture(
    name: str, *, replay: bool = False, dialect: str | None = "postgresql"
) -> Migration:
    path = SHOP / name
    settings: dict[str, Any] = {}
    if replay:
        earlier = [(str(p), p.read_text(encoding="utf-8")) for p in FILES if p.name < name]
        settings["django_state"] = replay_app_state(earlier, dialect=dialect)
    return parse_django(str(path), path.read_text(encoding="utf-8"), dialect, settings)


def parse_text(
    body: str,
    *,
    path: str = "shop/migrations/0009_test.py",
    dialect: str | None = "postgresql",
    header: str = "from django.db import migrations, models\n\n\n",
    **settings: Any,
) -> Migration:
    return parse_django(path, header + body, dialect, settings)


def of_type(migration: Migration, cls: type[T]) -> list[T]:
    return [op for op in migration.operations if isinstance(op, cls)]


def at(migration: Migration, span: Span) -> str:
    return migration.text[span.start : span.end]


def add_column(migration: Migration, column: str) -> AddColumn:
    return next(op for op in of_type(migration, AddColumn) if op.column.name == column)


def ops_at(migration: Migration, op: Operation) -> list[Operation]:
    """All operations produced from the same call as `op`."""
    return [o for o in migration.operations if o.span == op.span]


# ------------------------------------------------------------ 0001: CreateModel


def test_initial_migration_creates_tables_with_django_names() -> None:
    migration = parse_fixture("0001_initial.py")
    assert migration.tool == "django"
    assert migration.language == "python"
    assert migration.supports_down is False
    assert migration.transactional is True
    assert migration.problems == []
    tables = [op.table for op in of_type(migration, CreateTable)]
    assert tables == [
        "shop_customer",
        "catalog_product",  # options={"db_table": ...}
        "shop_warehouse",
        "shop_order",
        "shop_order_products",  # the auto-created many-to-many join table
    ]
    for op in migration.operations:
        assert op.step is Step.UP
        assert op.in_transaction is True
        assert op.origin == "migrations.CreateModel"
        assert at(migration, op.span).startswith("migrations.CreateModel(")
        assert at(migration, op.spans["keyword"]) == "migrations.CreateModel"


def test_create_model_columns() -> None:
    migration = parse_fixture("0001_initial.py")
    tables = {op.table: op for op in of_type(migration, CreateTable)}
    order = {c.name: c for c in tables["shop_order"].columns}
    assert list(order) == ["id", "status", "created", "note", "customer_id"]
    assert order["id"].type == "bigserial"
    assert order["id"].serial and order["id"].primary_key and not order["id"].nullable
    assert order["status"].type == "varchar(20)"
    assert order["status"].nullable is False
    assert order["status"].default is not None and order["status"].default.text == '"new"'
    assert order["created"].type == "timestamptz"
    assert order["note"].type == "text" and order["note"].nullable is True
    customer = order["customer_id"]
    assert customer.type == "bigint"
    assert customer.references == "shop_customer"
    assert customer.index is True and customer.nullable is False
    assert customer.span is not None
    assert at(migration, customer.span) == '"customer"'
    assert at(migration, tables["shop_order"].spans["table"]) == '"Order"'

    customers = {c.name: c for c in tables["shop_customer"].columns}
    assert customers["email"].type == "varchar(254)" and customers["email"].unique
    user = customers["user_id"]  # OneToOneField(to=settings.AUTH_USER_MODEL)
    assert user.references == "auth_user"
    assert user.type == "integer"  # auth.User has an AutoField id
    assert user.unique is True and user.nullable is True

    product = {c.name: c for c in tables["catalog_product"].columns}
    assert product["sku"].type == "varchar(50)"
    assert product["price"].type == "numeric(10,2)"
    assert product["attributes"].type == "jsonb"

    warehouse = {c.name: c for c in tables["shop_warehouse"].columns}
    assert warehouse["id"].type == "serial"
    assert "wh_code" in warehouse  # db_column

    join = {c.name: c for c in tables["shop_order_products"].columns}
    assert join["order_id"].references == "shop_order"
    assert join["product_id"].references == "catalog_product"


def test_create_model_index_option_uses_the_same_table() -> None:
    migration = parse_fixture("0001_initial.py")
    (index,) = of_type(migration, CreateIndex)
    assert index.table == "shop_order"
    assert index.name == "shop_order_status_idx"
    assert index.columns == ["status", "created"]
    assert index.concurrently is False
    assert at(migration, index.spans["name"]) == '"shop_order_status_idx"'


def test_step_body_points_at_class_name_and_operations_list() -> None:
    migration = parse_fixture("0001_initial.py")
    assert migration.up is not None
    assert at(migration, migration.up.span) == "Migration"
    body = at(migration, migration.up.body)
    assert body.startswith("[") and body.endswith("]")
    assert migration.up.empty is False
    assert migration.down is None
    assert any(i.module == "django.db" and "migrations" in i.names for i in migration.imports)

    empty = parse_text("class Migration(migrations.Migration):\n    operations = []\n")
    assert empty.up is not None and empty.up.empty is True
    assert empty.operations == []


# ------------------------------------------------------------ 0002: AddField


def test_add_field_nullability_and_defaults() -> None:
    migration = parse_fixture("0002_order_fields.py")
    coupon = add_column(migration, "coupon_code")
    assert coupon.table == "shop_order"
    assert coupon.column.type == "varchar(32)"
    assert coupon.column.nullable is False and coupon.column.default is None
    assert at(migration, coupon.spans["table"]) == '"order"'
    assert at(migration, coupon.spans["column"]) == '"coupon_code"'
    assert coupon.column.span is not None
    assert at(migration, coupon.column.span) == '"coupon_code"'
    assert at(migration, coupon.spans["column_def"]) == "models.CharField(max_length=32)"
    assert ops_at(migration, coupon) == [coupon]

    tracking = add_column(migration, "tracking")  # preserve_default=False still adds a default
    assert tracking.column.nullable is False
    assert tracking.column.default is not None
    assert at(migration, tracking.spans["default"]) == '""'

    shipped = add_column(migration, "shipped_at")
    assert shipped.column.nullable is True
    assert at(migration, shipped.spans["nullable"]) == "True"


def test_add_foreign_key_is_column_constraint_and_index() -> None:
    migration = parse_fixture("0002_order_fields.py")
    warehouse = add_column(migration, "warehouse_id")
    assert warehouse.column.references == "shop_warehouse"
    assert warehouse.column.type == "bigint"  # target unknown without replayed state
    together = ops_at(migration, warehouse)
    assert [type(op) for op in together] == [AddColumn, AddConstraint, CreateIndex]
    fk = together[1]
    assert isinstance(fk, AddConstraint)
    assert fk.kind == "foreign_key" and fk.implicit and fk.references == "shop_warehouse"
    assert fk.columns == ["warehouse_id"] and fk.table == "shop_order"
    index = together[2]
    assert isinstance(index, CreateIndex)
    assert index.implicit and not index.concurrently and index.columns == ["warehouse_id"]
    assert all(op.origin == "migrations.AddField" for op in together)

    # with the earlier migrations replayed, the FK takes the target's `serial` id type
    replayed = parse_fixture("0002_order_fields.py", replay=True)
    assert add_column(replayed, "warehouse_id").column.type == "integer"


def test_add_one_to_one_gets_a_unique_constraint_instead_of_an_index() -> None:
    migration = parse_fixture("0002_order_fields.py")
    invoice = add_column(migration, "invoice_id")
    assert invoice.column.references == "billing_invoice"
    together = ops_at(migration, invoice)
    kinds = [op.kind for op in together if isinstance(op, AddConstraint)]
    assert kinds == ["unique", "foreign_key"]
    assert not any(isinstance(op, CreateIndex) for op in together)


def test_db_default_volatility() -> None:
    migration = parse_fixture("0002_order_fields.py")
    public_id = add_column(migration, "public_id").column
    assert public_id.type == "uuid"
    assert public_id.default is not None
    assert public_id.default.volatile_function == "gen_random_uuid"
    placed_at = add_column(migration, "placed_at").column
    assert placed_at.default is not None
    assert placed_at.default.volatile_function is None  # Now() is STABLE


def test_many_to_many_add_field_creates_join_table() -> None:
    migration = parse_fixture("0002_order_fields.py")
    assert "tags" not in [op.column.name for op in of_type(migration, AddColumn)]
    (join,) = of_type(migration, CreateTable)
    assert join.table == "shop_customer_tags"
    assert [c.name for c in join.columns] == ["id", "customer_id", "tag_id"]
    assert join.origin == "migrations.AddField"


# ------------------------------------------------------------ AlterField


def test_alter_field_without_state_does_not_guess() -> None:
    migration = parse_fixture("0002_order_fields.py")
    status, note = of_type(migration, AlterColumn)
    assert status.column == "status" and status.table == "shop_order"
    assert status.type_change_known is False
    assert status.new_type == "varchar(50)"
    assert status.old_type is None and status.nullable is None
    assert note.column == "note"
    assert note.nullable is None  # no explicit null=: unknown whether it changed
    assert at(migration, status.spans["column"]) == '"status"'


def test_alter_field_with_replayed_state() -> None:
    migration = parse_fixture("0002_order_fields.py", replay=True)
    status, note = of_type(migration, AlterColumn)
    assert status.type_change_known is True
    assert status.old_type == "varchar(20)" and status.new_type == "varchar(50)"
    assert status.nullable is None and status.old_nullable is False
    assert note.type_change_known is True
    assert note.new_type is None and note.old_type == "text"
    assert note.nullable is False and note.old_nullable is True  # SET NOT NULL


def test_alter_field_knows_a_model_created_earlier_in_the_same_file() -> None:
    migration = parse_text(
        "class Migration(migrations.Migration):\n"
        "    operations = [\n"
        "        migrations.CreateModel(\n"
        '            name="Coupon",\n'
        '            fields=[("id", models.BigAutoField(primary_key=True)),\n'
        '                    ("code", models.CharField(max_length=10, null=True))],\n'
        "        ),\n"
        '        migrations.AlterField(model_name="coupon", name="code",\n'
        "            field=models.CharField(max_length=10)),\n"
        "    ]\n"
    )
    (alter,) = of_type(migration, AlterColumn)
    assert alter.table == "shop_coupon"
    assert alter.nullable is False and alter.new_type is None and alter.type_change_known


def test_alter_field_constraint_changes_and_noop() -> None:
    state: DjangoState = {
        ("shop", "order"): ModelState(
            table="shop_order",
            fields={
                "code": Column(name="code", type="varchar(20)", nullable=False),
                "ref": Column(name="ref", type="integer", nullable=True),
            },
        )
    }
    migration = parse_text(
        "class Migration(migrations.Migration):\n"
        "    operations = [\n"
        '        migrations.AlterField(model_name="order", name="code",\n'
        '            field=models.CharField(max_length=20, unique=True, verbose_name="Code")),\n'
        '        migrations.AlterField(model_name="order", name="ref",\n'
        '            field=models.IntegerField(null=True, db_index=True, help_text="x")),\n'
        '        migrations.AlterField(model_name="order", name="ref",\n'
        '            field=models.IntegerField(null=True, db_index=True, help_text="y")),\n'
        "    ]\n",
        django_state=state,
    )
    assert not of_type(migration, AlterColumn)  # no type or NULL change
    (unique,) = of_type(migration, AddConstraint)
    assert unique.kind == "unique" and unique.columns == ["code"] and unique.implicit
    (index,) = of_type(migration, CreateIndex)
    assert index.columns == ["ref"] and index.implicit
    assert len(migration.operations) == 2  # the third AlterField changes nothing
    assert state[("shop", "order")].fields["ref"].index is False  # caller's state untouched


def test_plain_mapping_state_and_explicit_null() -> None:
    state = {"shop.order": {"note": Column(name="note", type="text", nullable=False)}}
    migration = parse_text(
        "class Migration(migrations.Migration):\n"
        "    operations = [\n"
        '        migrations.AlterField(model_name="order", name="note",\n'
        "            field=models.TextField(null=True)),\n"
        '        migrations.AlterField(model_name="order", name="other",\n'
        "            field=models.TextField(null=False)),\n"
        "    ]\n",
        django_state=state,
    )
    known, unknown = of_type(migration, AlterColumn)
    assert known.nullable is True and known.old_nullable is False and known.type_change_known
    assert unknown.type_change_known is False and unknown.nullable is False


# ------------------------------------------------------------ 0003: atomic = False


def test_non_atomic_migration_runs_outside_a_transaction() -> None:
    migration = parse_fixture("0003_concurrent_indexes.py", replay=True)
    assert migration.transactional is False
    drop, create, plain = (
        of_type(migration, DropIndex)[0],
        of_type(migration, CreateIndex)[0],
        of_type(migration, CreateIndex)[1],
    )
    assert isinstance(drop, DropIndex) and drop.concurrently and drop.in_transaction is False
    assert drop.name == "shop_order_status_idx" and drop.table == "shop_order"
    assert create.concurrently is True and create.in_transaction is False
    assert create.columns == ["customer_id", "created"]
    assert at(migration, create.spans["concurrently"]) == "AddIndexConcurrently"
    assert create.origin == "migrations.AddIndexConcurrently"
    assert plain.concurrently is False and plain.name == "shop_order_tracking_idx"
    assert at(migration, plain.spans["condition"]) == 'models.Q(("tracking__gt", ""))'


def test_run_sql_in_non_atomic_migration() -> None:
    migration = parse_fixture("0003_concurrent_indexes.py")
    (run_sql,) = [op for op in of_type(migration, RunCode) if op.language == "sql"]
    assert run_sql.has_reverse is True and run_sql.in_transaction is False
    sql_index = next(op for op in of_type(migration, CreateIndex) if op.is_sql)
    assert sql_index.concurrently is True and sql_index.in_transaction is False
    assert sql_index.step is Step.UP
    assert at(migration, sql_index.span) == (
        "CREATE INDEX CONCURRENTLY IF NOT EXISTS shop_order_note_idx ON shop_order (note)"
    )
    assert at(migration, sql_index.spans["concurrently"]) == "CONCURRENTLY"
    reverse = next(op for op in of_type(migration, DropIndex) if op.is_sql)
    assert reverse.step is Step.DOWN
    assert at(migration, reverse.spans["name"]) == "shop_order_note_idx"


def test_run_python_atomic_flag_in_non_atomic_migration() -> None:
    migration = parse_fixture("0003_concurrent_indexes.py")
    outside, inside = [op for op in of_type(migration, RunCode) if op.language == "python"]
    assert outside.in_transaction is False and outside.has_reverse is False
    assert inside.in_transaction is True  # RunPython(atomic=True) gets its own transaction
    assert inside.has_reverse is True and inside.reverse_noop is True
    assert [op.in_transaction for op in of_type(migration, DataChange)] == [False, True]


# ------------------------------------------------------------ 0004: RunPython / RunSQL


def test_run_python_reverse_detection() -> None:
    migration = parse_fixture("0004_data_migration.py")
    python = [op for op in of_type(migration, RunCode) if op.language == "python"]
    assert [(op.has_reverse, op.reverse_noop) for op in python] == [
        (False, False),
        (True, True),
        (True, False),
    ]
    assert "reverse" not in python[0].spans
    assert at(migration, python[0].spans["code"]) == "forwards"
    assert at(migration, python[1].spans["reverse"]) == "migrations.RunPython.noop"
    assert at(migration, python[2].spans["reverse"]) == "backwards"
    assert at(migration, python[0].span) == "migrations.RunPython(forwards)"
    data = [op for op in of_type(migration, DataChange) if op.kind == "python"]
    assert len(data) == 3
    assert all(op.origin == "migrations.RunPython" and op.in_transaction for op in data)
    # each RunCode is followed by its DataChange
    kinds = [type(op).__name__ for op in migration.operations[:6]]
    assert kinds == ["RunCode", "DataChange"] * 3


def test_run_sql_spans_point_inside_the_strings_after_non_ascii_text() -> None:
    migration = parse_fixture("0004_data_migration.py")
    text = migration.text
    assert not text.isascii()
    sql_runs = [op for op in of_type(migration, RunCode) if op.language == "sql"]
    assert [(op.has_reverse, op.reverse_noop) for op in sql_runs] == [
        (True, True),
        (True, False),
        (False, False),
    ]
    assert at(migration, sql_runs[0].spans["sql"]) == "BACKFILL_SQL"

    updates = [op for op in of_type(migration, DataChange) if op.is_sql]
    backfill, note, status = updates
    # a module-level constant: the span is inside the constant's string
    assert (
        at(migration, backfill.span)
        == "UPDATE shop_order SET tracking = 'ünbekannt'\nWHERE tracking = ''"
    )
    assert at(migration, backfill.spans["table"]) == "shop_order"
    # an element of a list, then a (sql, params) tuple
    added = next(op for op in of_type(migration, AddColumn) if op.is_sql)
    assert at(migration, added.span) == (
        "ALTER TABLE shop_order ADD COLUMN remarque text DEFAULT 'à faire'"
    )
    assert added.column.span is not None
    assert at(migration, added.column.span) == "remarque"
    assert at(migration, note.span) == "UPDATE shop_order SET note = %s WHERE note IS NULL"
    assert note.unbounded is True
    # implicit concatenation: the span runs from the first to the last character
    assert at(migration, status.span).startswith("UPDATE shop_order SET status = 'neu' ")
    assert at(migration, status.span).endswith("WHERE status = 'new'")
    for op in (backfill, note, status, added):
        assert op.step is Step.UP and op.in_transaction is True

    (dropped,) = of_type(migration, DropColumn)
    assert dropped.step is Step.DOWN and dropped.column == "remarque"
    assert at(migration, dropped.span) == "ALTER TABLE shop_order DROP COLUMN remarque"

    executes = of_type(migration, ExecuteSQL)
    assert [e.step for e in executes] == [Step.UP, Step.UP, Step.UP, Step.DOWN, Step.UP]
    assert all(e.origin == "migrations.RunSQL" and not e.formatted for e in executes)
    assert at(migration, executes[2].spans["sql"]) == (
        '"UPDATE shop_order SET note = %s WHERE note IS NULL"'
    )


def test_run_sql_formatted_and_noop_forward() -> None:
    migration = parse_text(
        'TABLE = "shop_order"\n\n\n'
        "class Migration(migrations.Migration):\n"
        "    operations = [\n"
        '        migrations.RunSQL(f"UPDATE {TABLE} SET x = 1"),\n'
        '        migrations.RunSQL(migrations.RunSQL.noop, reverse_sql="DROP TABLE t"),\n'
        "    ]\n"
    )
    formatted, reverse_only = of_type(migration, ExecuteSQL)
    # the f-string is read with its replacement field as a placeholder, so the SQL around
    # it is still checked
    assert formatted.formatted is True and formatted.sql == "UPDATE TABLE SET x = 1"
    assert reverse_only.step is Step.DOWN
    (drop,) = of_type(migration, DropTable)
    assert drop.step is Step.DOWN and drop.table == "t"


# ------------------------------------------------------------ 0005: constraints, renames


def test_constraints() -> None:
    migration = parse_fixture("0005_constraints_and_renames.py", replay=True)
    check, unique, together = of_type(migration, AddConstraint)
    assert check.kind == "check" and check.table == "shop_order"
    assert check.name == "shop_order_status_valid"
    assert check.expression is not None and check.expression.startswith("models.Q(")
    assert at(migration, check.spans["name"]) == '"shop_order_status_valid"'
    assert unique.kind == "unique" and unique.columns == ["name", "user_id"]
    assert together.kind == "unique" and together.table == "catalog_product"
    assert together.columns == ["sku", "price"]
    assert together.origin == "migrations.AlterUniqueTogether"
    # a UniqueConstraint with condition= is a partial unique index
    (partial,) = [op for op in of_type(migration, CreateIndex) if not op.is_sql]
    assert partial.unique is True and partial.name == "shop_order_one_open_per_customer"
    assert partial.columns == ["customer_id"]
    (removed,) = of_type(migration, DropConstraint)
    assert removed.name == "shop_order_old_check" and removed.table == "shop_order"


def test_renames_and_removals_with_state() -> None:
    migration = parse_fixture("0005_constraints_and_renames.py", replay=True)
    renamed = next(op for op in of_type(migration, RenameColumn) if not op.is_sql)
    assert (renamed.table, renamed.column, renamed.new_name) == (
        "shop_order",
        "customer_id",
        "buyer_id",
    )
    (dropped,) = of_type(migration, DropColumn)
    assert dropped.column == "coupon_code"
    tables = [(op.table, op.new_name) for op in of_type(migration, RenameTable)]
    # Product has db_table: renaming the model leaves the table alone
    assert tables == [("shop_customer", "shop_client"), ("shop_customer_tags", "shop_client_tags")]
    (deleted,) = [op for op in of_type(migration, DropTable)]
    assert deleted.table == "shop_warehouse"


def test_separate_database_and_state_reads_database_operations_only() -> None:
    migration = parse_fixture("0005_constraints_and_renames.py", replay=True)
    (sql_rename, sql_reverse) = [op for op in of_type(migration, RenameColumn) if op.is_sql]
    assert (sql_rename.column, sql_rename.new_name) == ("note", "remarks")
    assert sql_reverse.step is Step.DOWN
    # the state-only RenameField produced no operation
    assert [op.column for op in of_type(migration, RenameColumn) if not op.is_sql] == [
        "customer_id"
    ]


def test_custom_operations_are_ignored() -> None:
    migration = parse_fixture("0005_constraints_and_renames.py")
    assert not any("LoadFixture" in op.origin for op in migration.operations)
    custom = parse_text(
        "class Migration(migrations.Migration):\n"
        "    operations = [RunSQL('DROP TABLE x'), ops.AddField('a', 'b', None)]\n",
        header="from shop.ops import RunSQL\nfrom shop import ops\n\n",
    )
    assert custom.operations == []


def test_bare_names_imported_from_django() -> None:
    migration = parse_text(
        "class Migration(Migration):\n"
        "    atomic = False\n"
        "    operations = [\n"
        '        AddField("order", "flag", BooleanField(default=False)),\n'
        '        AddIndexConcurrently("order", Index(fields=["flag"], name="flag_idx")),\n'
        "    ]\n",
        header=(
            "from django.contrib.postgres.operations import AddIndexConcurrently\n"
            "from django.db.migrations import AddField, Migration\n"
            "from django.db.models import BooleanField, Index\n\n\n"
        ),
    )
    added, index = migration.operations
    assert isinstance(added, AddColumn) and added.column.type == "boolean"
    assert added.origin == "migrations.AddField"
    assert isinstance(index, CreateIndex) and index.concurrently and index.table == "shop_order"


# ------------------------------------------------------------ replayed state


def test_replay_app_state_follows_the_history() -> None:
    files = [(str(p), p.read_text(encoding="utf-8")) for p in reversed(FILES)]
    state = replay_app_state(files, dialect="postgresql")  # sorts by file name itself
    assert set(state) == {("shop", "order"), ("shop", "client"), ("shop", "article")}
    order = state[("shop", "order")]
    assert order.table == "shop_order"
    assert order.fields["buyer"].name == "buyer_id"
    assert "coupon_code" not in order.fields
    assert "remarks" in order.fields and "note" not in order.fields  # state_operations
    assert order.fields["status"].type == "varchar(50)"
    assert state[("shop", "article")].table == "catalog_product"
    client = state[("shop", "client")]
    assert client.table == "shop_client"
    assert client.m2m == {"tags": "shop_client_tags"}


def test_unmanaged_and_proxy_models_produce_no_ddl() -> None:
    migration = parse_text(
        "class Migration(migrations.Migration):\n"
        "    operations = [\n"
        "        migrations.CreateModel(\n"
        '            name="Legacy",\n'
        '            fields=[("id", models.IntegerField(primary_key=True))],\n'
        '            options={"db_table": "legacy_things", "managed": False},\n'
        "        ),\n"
        '        migrations.AddField("legacy", "name", models.TextField()),\n'
        '        migrations.AddIndex("legacy", models.Index(fields=["name"], name="n_idx")),\n'
        '        migrations.CreateModel(name="Vip", fields=[], options={"proxy": True},\n'
        '            bases=("shop.customer",)),\n'
        '        migrations.DeleteModel("Legacy"),\n'
        "    ]\n"
    )
    assert migration.operations == []


# ------------------------------------------------------------ odd files


def test_syntax_error_is_a_problem_without_operations() -> None:
    migration = parse_fixture("0006_broken.py")
    assert migration.operations == []
    (problem,) = migration.problems
    assert problem.message.startswith("Python syntax error")
    assert migration.text[problem.span.start : problem.span.end] == "]"


def test_file_without_migration_class() -> None:
    migration = parse_text("def helper():\n    return 1\n")
    assert migration.operations == [] and migration.problems == [] and migration.up is None


# ------------------------------------------------------------ names, dialects


@pytest.mark.parametrize(
    ("path", "label"),
    [
        ("shop/migrations/0002_x.py", "shop"),
        ("/srv/app/src/billing/migrations/0001_initial.py", "billing"),
        ("C:\\proj\\accounts\\migrations\\0003_y.py", "accounts"),
        ("0001_initial.py", None),
    ],
)
def test_app_label_from_path(path: str, label: str | None) -> None:
    assert app_label_from_path(path) == label


def test_table_names_and_truncation() -> None:
    assert table_name("shop", "OrderLine") == "shop_orderline"
    long = table_name("analytics", "A" * 70, "postgresql")
    assert len(long) == 63 and long.startswith("analytics_aaaa")
    assert len(table_name("analytics", "A" * 70, "sqlite")) == 80


def test_app_label_setting_and_db_table_consistency() -> None:
    migration = parse_text(
        "class Migration(migrations.Migration):\n"
        "    operations = [\n"
        '        migrations.CreateModel(name="Event", fields=[\n'
        '            ("id", models.BigAutoField(primary_key=True)),\n'
        '            ("kind", models.CharField(max_length=20)),\n'
        "        ]),\n"
        '        migrations.AddIndex(model_name="event", index=models.Index(\n'
        '            fields=["kind"], name="event_kind_idx")),\n'
        '        migrations.AlterIndexTogether(name="event", index_together={("kind", "id")}),\n'
        "    ]\n",
        app_label="tracking",
    )
    create = of_type(migration, CreateTable)[0]
    indexes = of_type(migration, CreateIndex)
    assert create.table == "tracking_event"
    assert [i.table for i in indexes] == ["tracking_event", "tracking_event"]
    assert indexes[1].columns == ["kind", "id"]


def test_mysql_ddl_is_not_transactional_but_run_python_is() -> None:
    migration = parse_text(
        "class Migration(migrations.Migration):\n"
        "    operations = [\n"
        '        migrations.AddField("order", "seen", models.DateTimeField(null=True)),\n'
        "        migrations.RunPython(migrations.RunPython.noop),\n"
        "    ]\n",
        dialect="mysql",
    )
    assert migration.transactional is False
    added, run = migration.operations
    assert isinstance(added, AddColumn) and added.column.type == "datetime(6)"
    assert added.in_transaction is False
    assert isinstance(run, RunCode) and run.in_transaction is True
    assert not of_type(migration, DataChange)  # the forward code is a noop


def test_field_types_and_db_defaults() -> None:
    migration = parse_text(
        "from django.contrib.postgres.fields import ArrayField\n"
        "from django.db.models import Func, Value\n"
        "from django.db.models.expressions import RawSQL\n\n\n"
        "class Migration(migrations.Migration):\n"
        "    operations = [\n"
        '        migrations.AddField("m", "a", models.UUIDField(\n'
        '            db_default=Func(function="gen_random_uuid"))),\n'
        '        migrations.AddField("m", "b", models.FloatField(\n'
        '            db_default=RawSQL("random()", []))),\n'
        '        migrations.AddField("m", "c", models.IntegerField(db_default=Value(1))),\n'
        '        migrations.AddField("m", "d", ArrayField(\n'
        "            base_field=models.CharField(max_length=5))),\n"
        '        migrations.AddField("m", "e", models.GeneratedField(\n'
        '            expression=models.F("c") * 2, output_field=models.BigIntegerField(),\n'
        "            db_persist=True)),\n"
        '        migrations.AddField("m", "f", models.URLField(null=True)),\n'
        '        migrations.AddField("m", "g", models.BigAutoField(primary_key=True)),\n'
        '        migrations.AddField("m", "h", models.ForeignKey(\n'
        '            "self", on_delete=models.CASCADE,\n'
        "            db_constraint=False, db_index=False, null=True)),\n"
        "    ]\n"
    )
    columns = {op.column.name: op.column for op in of_type(migration, AddColumn)}
    assert columns["a"].default is not None
    assert columns["a"].default.volatile_function == "gen_random_uuid"
    assert columns["b"].default is not None and columns["b"].default.volatile_function == "random"
    assert columns["c"].default is not None and columns["c"].default.volatile_function is None
    assert columns["d"].type == "varchar(5)[]"
    assert columns["e"].type == "bigint" and columns["e"].generated_stored is True
    assert columns["f"].type == "varchar(200)" and columns["f"].nullable
    assert columns["g"].serial and columns["g"].primary_key
    assert columns["h_id"].references is None and columns["h_id"].type == "bigint"
    primary = [op for op in of_type(migration, AddConstraint) if op.kind == "primary_key"]
    assert primary and primary[0].columns == ["g"]
    # db_constraint=False, db_index=False: the FK column comes alone
    h = add_column(migration, "h_id")
    assert ops_at(migration, h) == [h]


def test_unique_constraint_with_expressions_is_an_index() -> None:
    migration = parse_text(
        "from django.db.models.functions import Lower\n\n\n"
        "class Migration(migrations.Migration):\n"
        "    operations = [\n"
        '        migrations.AddConstraint("customer", models.UniqueConstraint(\n'
        '            Lower("email"), name="email_ci_uniq")),\n'
        '        migrations.RemoveIndex("customer", "old_idx"),\n'
        "    ]\n"
    )
    index, drop = migration.operations
    assert isinstance(index, CreateIndex) and index.unique and index.columns == ['Lower("email")']
    assert isinstance(drop, DropIndex) and drop.name == "old_idx" and not drop.concurrently
