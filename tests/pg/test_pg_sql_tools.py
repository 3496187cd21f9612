"""SQL migration quick fixes, executed on a real PostgreSQL the way each runner executes them.

Fixture projects under `tests/fixtures/pg/`: flyway, golang-migrate, dbmate, goose, prisma and a
plain folder of numbered SQL files, each with the unsafe statements its users write. Every fix
the engine offers is applied (files it creates included), then the files run as their tool runs
them (`pgharness.RUNNERS`): Flyway in one transaction unless the script says otherwise or holds
only non-transactional statements (mixing both is refused); golang-migrate and Prisma send a
file as one query; dbmate sends a section as one query, in a transaction unless
`transaction:false`; goose runs statement by statement in a transaction unless
`NO TRANSACTION`; plain files run statement by statement in autocommit. Tools with a down step
go down to an empty schema and up again.

The second half checks the engine's `concurrent-index-in-transaction` verdicts against what
PostgreSQL does with the same text under each runner.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import psycopg
import pytest
from pgharness import (
    RUNNERS,
    Connection,
    Priority,
    RunnerError,
    Step,
    assert_all_valid,
    copy_fixture,
    fix_project,
    safe_first,
    workflow,
)
from pgharness import schema as read_schema

from migration_lsp.engine import analyse
from migration_lsp.parse.sql_files import parse_sql_migration
from migration_lsp.project.config import Config


@dataclass
class Project:
    fixture: str
    tool: str
    seed: list[str]
    """Rows inserted after the first migration."""
    fixed: dict[str, set[str]]
    """Relative path → rules whose fix must be applied."""
    indexes: set[str]
    """Every index of the final schema."""
    constraints: set[str] = field(default_factory=set)
    """Constraints the final schema has (among others)."""
    down: bool = False
    concurrent: dict[str, int] = field(default_factory=dict)
    """Relative path → how many CONCURRENTLY the fixed file holds."""
    rows: dict[str, list[tuple[object, ...]]] = field(default_factory=dict)
    """Query → its rows after the forward run."""


PROJECTS = {
    "flyway": Project(
        fixture="flyway_project",
        tool="flyway",
        seed=[
            "INSERT INTO customers (email, name) VALUES ('ann@example.com', 'Ann'), "
            "('bob@example.com', 'Bob')",
            "INSERT INTO orders (customer_id, status) SELECT id, 'paid' FROM customers",
        ],
        fixed={
            "sql/V2__index_orders_customer.sql": {"non-concurrent-index"},
            "sql/V4__drop_orders_status_index.sql": {"non-concurrent-index-drop"},
            "sql/V5__index_orders_created_at.sql": {"non-concurrent-index"},
        },
        indexes={
            "customers_pkey",
            "orders_pkey",
            "orders_customer_id_idx",
            "orders_created_at_idx",
            "customers_email_key",
        },
        constraints={"orders_customer_id_fkey", "orders_status_check", "customers_email_key"},
        concurrent={
            "sql/V2__index_orders_customer.sql": 1,
            "sql/V4__drop_orders_status_index.sql": 1,
            "sql/V5__index_orders_created_at.sql": 1,
        },
    ),
    "golang-migrate": Project(
        fixture="golang_migrate_project",
        tool="golang-migrate",
        seed=[
            "INSERT INTO accounts (owner) VALUES ('ann'), ('bob')",
            "INSERT INTO payments (account_id, amount) SELECT id, 10 FROM accounts",
        ],
        fixed={
            "db/migrations/000002_index_payments_account.up.sql": {"non-concurrent-index"},
            "db/migrations/000005_drop_payments_status_index.up.sql": {"non-concurrent-index-drop"},
        },
        indexes={"accounts_pkey", "payments_pkey", "payments_account_id_idx"},
        constraints={"payments_account_id_fkey", "payments_amount_positive"},
        down=True,
        concurrent={
            "db/migrations/000002_index_payments_account.up.sql": 1,
            "db/migrations/000005_drop_payments_status_index.up.sql": 1,
        },
    ),
    "dbmate": Project(
        fixture="dbmate_project",
        tool="dbmate",
        seed=[
            "INSERT INTO customers (name) VALUES ('Ann'), ('Bob')",
            "INSERT INTO invoices (number, customer_id, total) "
            "SELECT 'INV-' || id, id, 100 FROM customers",
        ],
        fixed={
            "db/migrations/20240102090000_index_invoices_customer.sql": {"non-concurrent-index"},
            "db/migrations/20240104090000_index_invoices_total.sql": {"non-concurrent-index"},
            "db/migrations/20240105090000_drop_invoices_customer_index.sql": {
                "non-concurrent-index-drop"
            },
        },
        indexes={"customers_pkey", "invoices_pkey", "invoices_number_key", "invoices_total_idx"},
        constraints={"invoices_number_key", "invoices_customer_id_fkey"},
        down=True,
    ),
    "goose": Project(
        fixture="goose_project",
        tool="goose",
        seed=["INSERT INTO shipments (order_id) SELECT g FROM generate_series(1, 50) g"],
        fixed={
            "migrations/00002_index_shipments_order.sql": {"non-concurrent-index"},
            "migrations/00003_shipments_carrier.sql": {"non-concurrent-index"},
            "migrations/00004_index_shipments_created_at.sql": {"concurrent-index-in-transaction"},
        },
        indexes={
            "shipments_pkey",
            "shipments_order_id_idx",
            "shipments_carrier_idx",
            "shipments_created_at_idx",
        },
        down=True,
    ),
    "prisma": Project(
        fixture="prisma_project",
        tool="prisma",
        seed=[
            "INSERT INTO \"User\" (email) VALUES ('ann@example.com'), ('bob@example.com')",
            'INSERT INTO "Post" (title, "authorId") SELECT \'hello\', id FROM "User"',
        ],
        fixed={
            "prisma/migrations/20240102090000_post_author_index/migration.sql": {
                "non-concurrent-index"
            },
        },
        indexes={
            "User_pkey",
            "Post_pkey",
            "User_email_key",
            "Post_authorId_idx",
            "Post_published_idx",
        },
        constraints={"Post_authorId_fkey"},
        concurrent={"prisma/migrations/20240102090000_post_author_index/migration.sql": 1},
    ),
    "sql": Project(
        fixture="plain_sql_project",
        tool="sql",
        seed=["INSERT INTO tags (name, slug) VALUES ('Python', 'python'), ('SQL', 'SQL')"],
        fixed={
            "migrations/002_index_tags.sql": {"non-concurrent-index"},
            "migrations/003_replace_tags_name_index.sql": {
                "non-concurrent-index",
                "non-concurrent-index-drop",
            },
            "migrations/004_lowercase_slugs.sql": {"update-with-limit"},
        },
        rows={"SELECT slug FROM tags ORDER BY slug": [("python",), ("sql",)]},
        indexes={"tags_pkey", "tags_slug_key", "tags_lower_name_idx"},
        concurrent={
            "migrations/002_index_tags.sql": 2,
            "migrations/003_replace_tags_name_index.sql": 2,
        },
    ),
}


CASES = (
    [pytest.param(name, False, workflow, id=name) for name in PROJECTS]
    + [pytest.param(name, False, safe_first, id=f"{name}-finding-order") for name in PROJECTS]
    + [
        pytest.param("golang-migrate", True, workflow, id="golang-migrate-check-downgrade"),
        pytest.param("goose", True, workflow, id="goose-check-downgrade"),
        pytest.param(
            "dbmate",
            True,
            workflow,
            id="dbmate-check-downgrade",
        ),
    ]
)
"""(project, check-downgrade, order of the fixes): `workflow` (the lock-timeout fix last)
and the plain order of the findings, safe fixes first, as an editor user applies them."""


def run_steps(conn: Connection, steps: list[Step]) -> None:
    for step in steps:
        try:
            step.run(conn)
        except psycopg.Error as error:
            error.add_note(f"while running {step.name}")
            raise


@pytest.mark.parametrize(("name", "check_downgrade", "order"), CASES)
def test_fixed_sql_project_runs_on_postgres(
    tmp_path: Path, pg: Connection, name: str, check_downgrade: bool, order: Priority
) -> None:
    project = PROJECTS[name]
    root = copy_fixture(project.fixture, tmp_path)
    if check_downgrade:
        (root / "migration-lsp.toml").write_text("check-downgrade = true\n", encoding="utf-8")
    run = fix_project(root, priority=order)
    for path, rules in project.fixed.items():
        assert rules <= run.rules_fixed(path), (path, run.summary())
    for path, count in project.concurrent.items():
        assert (root / path).read_text().upper().count("CONCURRENTLY") == count, path

    runner = RUNNERS[project.tool]
    steps = runner(root)
    run_steps(pg, steps[:1])
    for statement in project.seed:
        pg.execute(statement)
    run_steps(pg, steps[1:])
    head = read_schema(pg)
    assert set(head.indexes) == project.indexes, sorted(head.indexes)
    assert project.constraints <= set(head.constraints), sorted(head.constraints)
    assert_all_valid(head)
    for query, rows in project.rows.items():
        assert pg.execute(query).fetchall() == rows, query

    if project.down:
        run_steps(pg, runner(root, "down"))
        empty = read_schema(pg)
        assert empty.tables == set() and empty.indexes == {}, empty
        run_steps(pg, runner(root, "up"))
        assert read_schema(pg).comparable() == head.comparable()

    # the loop left no finding with an applicable fix, and each fix did its job
    assert not run.problems, "\n".join(run.problems)
    for fix in run.applied:
        assert fix.rule not in run.remaining_rules(fix.path), (fix, run.summary())


# --------------------------------------------------------------------------- rule vs. runner


@dataclass
class Case:
    tool: str
    path: str
    text: str
    fails: bool
    """The runner makes it fail; the engine must then report
    concurrent-index-in-transaction (and only then)."""


SETUP = "CREATE TABLE items (id bigserial PRIMARY KEY, sku text, note text)"
TWO = (
    "ALTER TABLE items ADD COLUMN price numeric;\n"
    "CREATE INDEX CONCURRENTLY items_sku_idx ON items (sku);\n"
)
ALONE = "CREATE INDEX CONCURRENTLY items_sku_idx ON items (sku);\n"

RULE_CASES = {
    "golang-migrate-two-statements": Case(
        "golang-migrate", "db/migrations/000002_items.up.sql", TWO, True
    ),
    "golang-migrate-alone": Case(
        "golang-migrate", "db/migrations/000002_items.up.sql", ALONE, False
    ),
    "prisma-two-statements": Case(
        "prisma", "prisma/migrations/20240102090000_items/migration.sql", TWO, True
    ),
    "dbmate-transaction-false-two-statements": Case(
        "dbmate",
        "db/migrations/20240102090000_items.sql",
        "-- migrate:up transaction:false\n" + TWO + "\n-- migrate:down\n",
        True,
    ),
    "dbmate-transactional": Case(
        "dbmate",
        "db/migrations/20240102090000_items.sql",
        "-- migrate:up\n" + ALONE + "\n-- migrate:down\n",
        True,
    ),
    "dbmate-transaction-false-alone": Case(
        "dbmate",
        "db/migrations/20240102090000_items.sql",
        "-- migrate:up transaction:false\n" + ALONE + "\n-- migrate:down\n",
        False,
    ),
    "goose-transactional": Case(
        "goose", "migrations/00002_items.sql", "-- +goose Up\n" + ALONE, True
    ),
    "goose-no-transaction-two-statements": Case(
        "goose",
        "migrations/00002_items.sql",
        "-- +goose NO TRANSACTION\n-- +goose Up\n" + TWO,
        False,
    ),
    "flyway-explicit-transaction": Case(
        "flyway",
        "sql/V2__items.sql",
        "-- flyway:executeInTransaction=true\n" + ALONE,
        True,
    ),
    "flyway-detected": Case("flyway", "sql/V2__items.sql", ALONE, False),
    "flyway-mixed": Case("flyway", "sql/V2__items.sql", TWO, True),
    "flyway-set-then-concurrently": Case(
        "flyway", "sql/V2__items.sql", "SET lock_timeout = '5s';\n" + ALONE, True
    ),
    "flyway-explicit-no-transaction": Case(
        "flyway",
        "sql/V2__items.sql",
        "-- flyway:executeInTransaction=false\n" + TWO,
        False,
    ),
    "plain-two-statements": Case("sql", "migrations/002_items.sql", TWO, False),
}

TOOL_LAYOUT = {
    "golang-migrate": ("db/migrations", "000001_items.up.sql"),
    "prisma": ("prisma/migrations", "20240101090000_init/migration.sql"),
    "dbmate": ("db/migrations", "20240101090000_items.sql"),
    "goose": ("migrations", "00001_items.sql"),
    "flyway": ("sql", "V1__items.sql"),
    "sql": ("migrations", "001_items.sql"),
}


def _first_file(tool: str) -> str:
    """The first migration of a one-table project for `tool`, in its syntax."""
    if tool == "dbmate":
        return f"-- migrate:up\n{SETUP};\n\n-- migrate:down\nDROP TABLE items;\n"
    if tool == "goose":
        return f"-- +goose Up\n{SETUP};\n"
    return f"{SETUP};\n"


@pytest.mark.parametrize("case_id", RULE_CASES)
def test_concurrent_index_in_transaction_matches_the_runner(
    tmp_path: Path, pg: Connection, case_id: str
) -> None:
    """The rule fires exactly when the runner makes the statement fail: golang-migrate, Prisma
    and dbmate send several statements as one query, which PostgreSQL runs as one implicit
    transaction ('cannot run inside a transaction block'), and nothing of the file is applied;
    Flyway refuses to mix transactional and non-transactional statements. First what the
    runner does, then whether the engine said so."""
    case = RULE_CASES[case_id]
    folder, first = TOOL_LAYOUT[case.tool]
    (tmp_path / folder / first).parent.mkdir(parents=True)
    (tmp_path / folder / first).write_text(_first_file(case.tool))
    (tmp_path / case.path).parent.mkdir(parents=True, exist_ok=True)
    (tmp_path / case.path).write_text(case.text)
    if case.tool == "flyway":
        (tmp_path / "flyway.conf").write_text("flyway.locations=filesystem:sql\n")
    steps = RUNNERS[case.tool](tmp_path)
    assert len(steps) == 2
    steps[0].run(pg)
    if not case.fails:
        steps[1].run(pg)
        assert read_schema(pg).index("items_sku_idx").valid
    elif case.tool == "flyway" and "executeInTransaction" not in case.text:
        with pytest.raises(RunnerError, match="Detected both transactional"):
            steps[1].run(pg)
    else:
        with pytest.raises(
            psycopg.errors.ActiveSqlTransaction, match="cannot run inside a transaction block"
        ):
            steps[1].run(pg)
    if case.fails:
        after = read_schema(pg)
        assert "items_sku_idx" not in after.indexes
        assert ("items", "price") not in after.columns  # the other statement was rolled back

    migration = parse_sql_migration(case.path, case.text, case.tool, "postgresql", {}, None)
    rules = [f.rule for f in analyse(migration, Config())]
    assert ("concurrent-index-in-transaction" in rules) == case.fails, rules
