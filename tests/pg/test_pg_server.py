"""The PostgreSQL of these tests, and the one behaviour of psycopg the SQL runners rely on."""

from __future__ import annotations

import os

import psycopg
import pytest
from pgharness import Connection
from pgserver import PgServer


def test_server_is_a_private_throwaway_cluster(pg_server: PgServer, pg: Connection) -> None:
    settings = dict(
        pg.execute(
            "SELECT name, setting FROM pg_settings WHERE name IN "
            "('fsync', 'listen_addresses', 'unix_socket_directories', 'port')"
        ).fetchall()
    )
    assert settings == {
        "fsync": "off",
        "listen_addresses": "127.0.0.1",
        "unix_socket_directories": str(pg_server.folder),
        "port": str(pg_server.port),
    }
    if os.geteuid() == 0:
        assert pg_server.run_as is not None  # PostgreSQL refuses to run as root
    tables = pg.execute(
        "SELECT count(*) FROM information_schema.tables WHERE table_schema = 'public'"
    ).fetchone()
    assert tables == (0,)


def test_each_test_gets_a_fresh_database(pg_url: str, pg: Connection) -> None:
    name = pg.execute("SELECT current_database()").fetchone()
    assert name is not None and pg_url.endswith("/" + name[0])
    assert name[0].startswith("test_")


def test_a_text_of_several_statements_is_one_implicit_transaction(
    pg: Connection,
) -> None:
    """psycopg sends a query without parameters with the simple query protocol: several
    statements in one `execute` form one implicit transaction, where CONCURRENTLY fails and the
    statements before it are rolled back; that is how golang-migrate, Prisma and dbmate run a
    file. Alone in its query, the statement runs."""
    pg.execute("CREATE TABLE t (a int)")
    with pytest.raises(
        psycopg.errors.ActiveSqlTransaction, match="cannot run inside a transaction block"
    ):
        pg.execute("ALTER TABLE t ADD COLUMN b int; CREATE INDEX CONCURRENTLY t_a_idx ON t (a)")
    columns = pg.execute(
        "SELECT column_name FROM information_schema.columns WHERE table_name = 't'"
    )
    assert [row[0] for row in columns] == ["a"]
    pg.execute("CREATE INDEX CONCURRENTLY t_a_idx ON t (a)")
