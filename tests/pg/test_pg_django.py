"""Django quick fixes, run by the real `manage.py migrate` on a real PostgreSQL.

The fixture project (`tests/fixtures/pg/django_project`, made with `startproject`/`startapp`,
migrations written by `makemigrations`) has: a RunPython + RunSQL("CREATE INDEX …") without
reverse (0002), AddIndex on an existing model (0003), RemoveIndex + AddIndex (0004), AlterField to
NOT NULL + a CheckConstraint (0005) and AddIndexConcurrently in an atomic migration (0006).
Every fix the engine offers is applied; Django migrates forward with rows in the tables, back as
far as the migrations are reversible, and forward again. Django runs in a child process
(`DJANGO_SETTINGS_MODULE=pgsite.settings`) so this process stays clean.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from pgharness import (
    Connection,
    FixRun,
    Priority,
    assert_all_valid,
    copy_fixture,
    django,
    fix_project,
    ok,
    safe_first,
    workflow,
)
from pgharness import schema as read_schema

MIGRATIONS = "shop/migrations"
FK_INDEX = "shop_order_product_id_*"
"""The index Django adds for the ForeignKey (its name ends in a hash)."""
HEAD_INDEXES = {
    "shop_product_pkey",
    "shop_order_pkey",
    FK_INDEX,
    "shop_product_lower_name_idx",
    "shop_product_sku_name_idx",
    "shop_order_created_idx",
}


def applied(conn: Connection) -> list[str]:
    return [
        row[0]
        for row in conn.execute(
            "SELECT name FROM django_migrations WHERE app = 'shop' ORDER BY name"
        )
    ]


def seed(conn: Connection) -> None:
    conn.execute(
        "INSERT INTO shop_product (name, sku, price, description) VALUES "
        "('Lamp', NULL, 19.90, ''), ('Desk', 'D-1', 120.00, 'oak')"
    )
    conn.execute(
        "INSERT INTO shop_order (product_id, quantity, created_at) "
        "SELECT id, 2, now() FROM shop_product"
    )


def index_names(conn: Connection) -> set[str]:
    names = set(read_schema(conn).indexes)
    return {
        FK_INDEX if n.startswith(FK_INDEX.rstrip("*")) else n
        for n in names
        if n.startswith("shop_")
    }


def assert_head(conn: Connection) -> None:
    current = read_schema(conn)
    assert index_names(conn) == HEAD_INDEXES, sorted(current.indexes)
    assert_all_valid(current)
    assert "lower((name)::text)" in current.index("shop_product_lower_name_idx").definition
    assert current.constraints["shop_product_price_gte_0"].kind == "c"
    assert current.columns[("shop_product", "sku")][1] is False
    assert applied(conn)[-1] == "0006_order_created_index"


def fixed_project(tmp_path: Path, order: Priority = workflow) -> FixRun:
    run = fix_project(copy_fixture("django_project", tmp_path), priority=order)
    expected = {
        "0002_backfill_and_search.py": {"non-concurrent-index"},
        "0003_product_sku_index.py": {"non-concurrent-index"},
        "0004_product_sku_name_index.py": {"non-concurrent-index", "non-concurrent-index-drop"},
        "0006_order_created_index.py": {"concurrent-index-in-transaction"},
    }
    for name, rules in expected.items():
        assert rules <= run.rules_fixed(f"{MIGRATIONS}/{name}"), (name, run.summary())
    return run


def assert_fixes_did_their_job(run: FixRun) -> None:
    assert not run.problems, "\n".join(run.problems)
    for fix in run.applied:
        assert fix.rule not in run.remaining_rules(fix.path), (fix, run.summary())


@pytest.mark.parametrize("order", [workflow, safe_first], ids=["workflow", "finding-order"])
def test_fixed_django_project_migrates_forward_back_and_forward(
    tmp_path: Path, pg_url: str, pg: Connection, order: Priority
) -> None:
    run = fixed_project(tmp_path, order)
    root = run.root
    ok(django(root, pg_url, "migrate", "shop", "0001", "--no-input"))
    seed(pg)
    ok(django(root, pg_url, "migrate", "--no-input"))
    assert_head(pg)
    head = read_schema(pg)
    skus = sorted(row[0] for row in pg.execute("SELECT sku FROM shop_product"))
    assert skus[0] == "D-1" and skus[1].startswith("SKU-"), skus

    # back to 0002: every operation after it is reversible (the concurrent ones included)
    ok(django(root, pg_url, "migrate", "shop", "0002", "--no-input"))
    back = read_schema(pg)
    assert index_names(pg) == {
        "shop_product_pkey",
        "shop_order_pkey",
        FK_INDEX,
        "shop_product_lower_name_idx",
    }
    assert "shop_product_price_gte_0" not in back.constraints
    assert back.columns[("shop_product", "sku")][1] is True
    assert applied(pg)[-1] == "0002_backfill_and_search"

    # 0002 is reversible once its RunPython and RunSQL have a reverse
    reversible = run.fixed("runpython-without-reverse") and run.fixed("runsql-without-reverse")
    result = django(root, pg_url, "migrate", "shop", "zero", "--no-input")
    if reversible:
        ok(result)
        assert read_schema(pg).tables == {"django_migrations"}
    else:
        assert result.returncode != 0
        assert "IrreversibleError" in result.stderr
        assert "0002_backfill_and_search is not reversible" in result.stderr
        assert applied(pg)[-1] == "0002_backfill_and_search"

    ok(django(root, pg_url, "migrate", "--no-input"))
    assert_head(pg)
    assert read_schema(pg).comparable() == head.comparable()
    assert_fixes_did_their_job(run)  # last, so that the database's verdict comes first


def test_unfixed_concurrent_index_in_atomic_django_migration_fails(
    tmp_path: Path, pg_url: str
) -> None:
    """What concurrent-index-in-transaction reports: 0006 as written does not run."""
    root = copy_fixture("django_project", tmp_path)
    ok(django(root, pg_url, "migrate", "shop", "0005", "--no-input"))
    result = django(root, pg_url, "migrate", "shop", "0006", "--no-input")
    assert result.returncode != 0
    assert "cannot be executed inside a transaction" in result.stderr, result.stderr[-2000:]
