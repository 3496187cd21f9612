"""What the index and constraint fixes are for, measured on a real PostgreSQL: the fixed
statement does not block writers, the unfixed one does.

Deterministic and bounded: instead of a big table and a race, a transaction with an uncommitted
INSERT holds the table's ROW EXCLUSIVE lock, so the index build has to wait for it. A plain
CREATE INDEX queues for its SHARE lock, and every writer queues behind it: an INSERT with
`lock_timeout = '500ms'` fails with lock_not_available. CREATE INDEX CONCURRENTLY holds only a
SHARE UPDATE EXCLUSIVE lock while it waits, and the same INSERT goes through. pg_locks shows the
modes. The statements run are the engine's own fix of a plain-SQL migration.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import psycopg
import pytest
from pgharness import Connection
from pgharness import schema as read_schema

from migration_lsp.engine import analyse
from migration_lsp.fixes import apply_edits, fix_for
from migration_lsp.parse.sql_files import parse_sql_migration
from migration_lsp.project.config import Config

WAIT = 10.0
"""Upper bound of every wait in these tests (seconds); the tests take well under it."""


def fixed_sql(text: str, rule: str) -> str:
    """`text` (a plain-SQL migration) with the engine's fix for `rule` applied."""
    migration = parse_sql_migration("migrations/002_change.sql", text, "sql", "postgresql")
    finding = next(f for f in analyse(migration, Config()) if f.rule == rule)
    fix = fix_for(finding, migration)
    assert fix is not None and fix.edits, f"no fix for {rule}"
    return apply_edits(text, fix.edits)


def wait_until(predicate: Callable[[], bool], what: str) -> None:
    deadline = time.monotonic() + WAIT
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.02)
    raise AssertionError(f"timed out waiting for {what}")


class Background:
    """A statement running on its own connection in a thread."""

    def __init__(self, conn: Connection, sql: str) -> None:
        self.conn = conn
        self.pid = conn.info.backend_pid
        self.error: BaseException | None = None
        self.thread = threading.Thread(target=self._run, args=(sql,), daemon=True)
        self.thread.start()

    def _run(self, sql: str) -> None:
        try:
            self.conn.execute(sql)
        except BaseException as error:  # reported by join()
            self.error = error

    def join(self) -> None:
        self.thread.join(WAIT)
        assert not self.thread.is_alive(), "the statement did not finish"
        if self.error is not None:
            raise self.error


def locks(conn: Connection, pid: int) -> set[tuple[str, str, bool]]:
    """(object, mode, granted) of the locks of backend `pid`: object is a relation name or
    the lock type (virtualxid, transactionid)."""
    rows = conn.execute(
        "SELECT coalesce(c.relname, l.locktype), l.mode, l.granted FROM pg_locks l "
        "LEFT JOIN pg_class c ON c.oid = l.relation WHERE l.pid = %s",
        (pid,),
    ).fetchall()
    return {(row[0], row[1], row[2]) for row in rows}


def waiting(conn: Connection, pid: int) -> bool:
    row = conn.execute(
        "SELECT wait_event_type FROM pg_stat_activity WHERE pid = %s", (pid,)
    ).fetchone()
    return row is not None and row[0] == "Lock"


def try_write(conn: Connection, sql: str) -> None:
    """Run `sql` with lock_timeout = 500ms: raises LockNotAvailable when it has to wait for a
    lock longer than that."""
    conn.execute("SET lock_timeout = '500ms'")
    conn.execute(sql)


@pytest.fixture
def events(pg_connect: Callable[[], Connection]) -> Iterator[Callable[[], Connection]]:
    setup = pg_connect()
    setup.execute("CREATE TABLE events (id bigserial PRIMARY KEY, kind text NOT NULL)")
    setup.execute(
        "INSERT INTO events (kind) SELECT 'k' || (g % 10) FROM generate_series(1, 2000) g"
    )
    setup.execute("CREATE INDEX events_old_idx ON events (id, kind)")

    def connect() -> Connection:
        conn = pg_connect()
        conn.execute("SET statement_timeout = '20s'")  # nothing here may hang the run
        return conn

    yield connect


@contextmanager
def open_writer(conn: Connection) -> Iterator[None]:
    """An uncommitted INSERT into events (ROW EXCLUSIVE lock held) for the duration."""
    conn.autocommit = False
    conn.execute("INSERT INTO events (kind) VALUES ('open')")
    try:
        yield
    finally:
        conn.commit()


CREATE = "CREATE INDEX events_kind_idx ON events (kind);\n"
DROP = "DROP INDEX events_old_idx;\n"


def test_plain_create_index_blocks_writers(events: Callable[[], Connection]) -> None:
    writer, builder, other, observer = events(), events(), events(), events()
    with open_writer(writer):
        build = Background(builder, CREATE)
        wait_until(lambda: waiting(observer, build.pid), "CREATE INDEX to wait for its lock")
        assert ("events", "ShareLock", False) in locks(observer, build.pid)
        with pytest.raises(psycopg.errors.LockNotAvailable):
            try_write(other, "INSERT INTO events (kind) VALUES ('blocked')")
    build.join()
    assert read_schema(observer).index("events_kind_idx").valid


def test_fixed_create_index_concurrently_lets_writers_through(
    events: Callable[[], Connection],
) -> None:
    sql = fixed_sql(CREATE, "non-concurrent-index")
    assert "CONCURRENTLY" in sql
    writer, builder, other, observer = events(), events(), events(), events()
    with open_writer(writer):
        build = Background(builder, sql)
        wait_until(lambda: waiting(observer, build.pid), "CONCURRENTLY to wait for the writer")
        held = locks(observer, build.pid)
        assert ("events", "ShareUpdateExclusiveLock", True) in held, held
        assert not any(obj == "events" and mode == "ShareLock" for obj, mode, _ in held), held
        try_write(other, "INSERT INTO events (kind) VALUES ('through')")  # no lock wait
        assert build.thread.is_alive()  # still building: it waits for the open writer
    build.join()
    index = read_schema(observer).index("events_kind_idx")
    assert index.valid and index.ready
    count = observer.execute("SELECT count(*) FROM events WHERE kind = 'through'").fetchone()
    assert count == (1,)


def test_plain_drop_index_blocks_readers_and_writers(events: Callable[[], Connection]) -> None:
    writer, dropper, other, observer = events(), events(), events(), events()
    with open_writer(writer):
        drop = Background(dropper, DROP)
        wait_until(lambda: waiting(observer, drop.pid), "DROP INDEX to wait for its lock")
        assert ("events", "AccessExclusiveLock", False) in locks(observer, drop.pid)
        with pytest.raises(psycopg.errors.LockNotAvailable):
            try_write(other, "SELECT count(*) FROM events")
    drop.join()
    assert "events_old_idx" not in read_schema(observer).indexes


def test_fixed_drop_index_concurrently_lets_readers_and_writers_through(
    events: Callable[[], Connection],
) -> None:
    sql = fixed_sql(DROP, "non-concurrent-index-drop")
    assert "CONCURRENTLY" in sql
    writer, dropper, other, observer = events(), events(), events(), events()
    with open_writer(writer):
        drop = Background(dropper, sql)
        wait_until(lambda: waiting(observer, drop.pid), "DROP INDEX CONCURRENTLY to wait")
        held = locks(observer, drop.pid)
        assert ("events", "ShareUpdateExclusiveLock", True) in held, held
        try_write(other, "SELECT count(*) FROM events")
        try_write(other, "INSERT INTO events (kind) VALUES ('through')")
    drop.join()
    assert "events_old_idx" not in read_schema(observer).indexes


# --------------------------------------------------------------------------- constraints
# A constraint statement inside an open transaction keeps its locks until commit, so pg_locks of
# that session shows exactly what the statement took, and a writer with lock_timeout shows
# whether they block writes.

FK = (
    "ALTER TABLE orders ADD CONSTRAINT orders_customer_id_fkey "
    "FOREIGN KEY (customer_id) REFERENCES customers (id)"
)


@pytest.fixture
def shop(pg_connect: Callable[[], Connection]) -> Callable[[], Connection]:
    setup = pg_connect()
    setup.execute("CREATE TABLE customers (id bigserial PRIMARY KEY, name text)")
    setup.execute("CREATE TABLE orders (id bigserial PRIMARY KEY, customer_id bigint NOT NULL)")
    setup.execute("INSERT INTO customers (name) SELECT 'c' || g FROM generate_series(1, 100) g")
    setup.execute(
        "INSERT INTO orders (customer_id) SELECT 1 + g % 100 FROM generate_series(0, 999) g"
    )
    return pg_connect


def held_in_transaction(conn: Connection, sql: str) -> set[tuple[str, str]]:
    conn.autocommit = False
    conn.execute(sql)
    pid = conn.info.backend_pid
    rows = conn.execute(
        "SELECT c.relname, l.mode FROM pg_locks l JOIN pg_class c ON c.oid = l.relation "
        "WHERE l.pid = %s AND c.relname IN ('orders', 'customers') AND l.granted",
        (pid,),
    ).fetchall()
    return {(row[0], row[1]) for row in rows}


def test_foreign_key_not_valid_then_validate_does_not_block_writes(
    shop: Callable[[], Connection],
) -> None:
    """Plain ADD CONSTRAINT … FOREIGN KEY takes SHARE ROW EXCLUSIVE on both tables for the whole
    validating scan: writes to either table wait. NOT VALID takes the same lock only for a
    catalog change (no scan); VALIDATE CONSTRAINT then scans under SHARE UPDATE EXCLUSIVE on
    orders and ROW SHARE on customers, which let INSERTs through."""
    ddl, other = shop(), shop()

    plain = held_in_transaction(ddl, FK)
    assert {("orders", "ShareRowExclusiveLock"), ("customers", "ShareRowExclusiveLock")} <= plain
    with pytest.raises(psycopg.errors.LockNotAvailable):
        try_write(other, "INSERT INTO orders (customer_id) VALUES (1)")
    ddl.rollback()

    not_valid = held_in_transaction(ddl, FK + " NOT VALID")
    assert ("orders", "ShareRowExclusiveLock") in not_valid
    ddl.commit()
    validate = held_in_transaction(
        ddl, "ALTER TABLE orders VALIDATE CONSTRAINT orders_customer_id_fkey"
    )
    assert ("orders", "ShareUpdateExclusiveLock") in validate, validate
    assert ("customers", "RowShareLock") in validate, validate
    assert not any(mode == "ShareRowExclusiveLock" for _, mode in validate), validate
    try_write(other, "INSERT INTO orders (customer_id) VALUES (1)")
    try_write(other, "INSERT INTO customers (name) VALUES ('new')")
    ddl.commit()
    constraint = read_schema(other).constraints["orders_customer_id_fkey"]
    assert constraint.validated


def test_check_not_valid_then_validate_does_not_block_writes(
    shop: Callable[[], Connection],
) -> None:
    check = "ALTER TABLE orders ADD CONSTRAINT orders_customer_positive CHECK (customer_id > 0)"
    ddl, other = shop(), shop()
    assert ("orders", "AccessExclusiveLock") in held_in_transaction(ddl, check)
    with pytest.raises(psycopg.errors.LockNotAvailable):
        try_write(other, "SELECT count(*) FROM orders")
    ddl.rollback()

    held_in_transaction(ddl, check + " NOT VALID")
    ddl.commit()
    validate = held_in_transaction(
        ddl, "ALTER TABLE orders VALIDATE CONSTRAINT orders_customer_positive"
    )
    assert validate == {("orders", "ShareUpdateExclusiveLock")}, validate
    try_write(other, "INSERT INTO orders (customer_id) VALUES (2)")
    ddl.commit()
    assert read_schema(other).constraints["orders_customer_positive"].validated
