"""A real PostgreSQL server for the tests under tests/pg, one per test session.

The cluster lives in a temporary folder and listens on a free port of 127.0.0.1 (and a unix
socket in that folder), with `fsync=off` and trust authentication. It is made with Debian's
server binaries (`/usr/lib/postgresql/<version>/bin`, from `apt-get install postgresql`; set
`PG_BINDIR` to use others). PostgreSQL refuses to run as root: when the tests run as root (CI),
the cluster folder belongs to the `postgres` system user and `initdb`/`pg_ctl` run through
`runuser -u postgres --`. The tests are skipped only when no server binaries are found (a
missing Python package of the test extras is an error, not a skip).

Fixtures: `pg_server` (session), `pg_url` (a fresh database per test), `pg_connect` (psycopg 3
connections to that database, closed after the test).
"""

from __future__ import annotations

import contextlib
import itertools
import shutil
from collections.abc import Callable, Iterator

import psycopg
import pytest
from pgserver import PgServer, find_bindir, free_port, make_folder, server_user


@pytest.fixture(scope="session")
def pg_server() -> Iterator[PgServer]:
    bindir = find_bindir()
    if bindir is None:
        pytest.skip(
            "PostgreSQL server binaries (initdb, pg_ctl) not found: apt-get install postgresql "
            "(or set PG_BINDIR)"
        )
    run_as = server_user()
    folder = make_folder(run_as)
    server = PgServer(bindir=bindir, folder=folder, port=0, run_as=run_as)
    try:
        server.run(
            str(bindir / "initdb"),
            "-D",
            str(server.datadir),
            "-U",
            server.user,
            "--auth=trust",
            "--encoding=UTF8",
            "--no-locale",
            "--no-sync",
        )
        for attempt in range(3):  # the free port may be taken between probe and start
            server.port = free_port()
            try:
                server.start()
                break
            except RuntimeError:
                if attempt == 2:
                    raise
        yield server
    finally:
        server.stop()
        shutil.rmtree(folder, ignore_errors=True)


_counter = itertools.count(1)


@pytest.fixture
def pg_url(pg_server: PgServer) -> str:
    """A fresh, empty database of its own for this test (left in place: the whole cluster is
    removed at the end of the session, and a DROP DATABASE costs a checkpoint)."""
    name = f"test_{next(_counter)}"
    with psycopg.connect(pg_server.url(), autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    return pg_server.url(name)


Connect = Callable[..., psycopg.Connection[tuple[object, ...]]]


@pytest.fixture
def pg_connect(pg_url: str) -> Iterator[Connect]:
    """`pg_connect(autocommit=True)`: a new psycopg connection to this test's database, closed
    after the test."""
    opened: list[psycopg.Connection[tuple[object, ...]]] = []

    def connect(autocommit: bool = True) -> psycopg.Connection[tuple[object, ...]]:
        conn = psycopg.connect(pg_url, autocommit=autocommit)
        opened.append(conn)
        return conn

    yield connect
    for conn in opened:
        with contextlib.suppress(Exception):
            conn.close()


@pytest.fixture
def pg(pg_connect: Connect) -> psycopg.Connection[tuple[object, ...]]:
    """An autocommit connection to this test's database."""
    return pg_connect()
