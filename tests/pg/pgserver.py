"""A throwaway PostgreSQL cluster for the tests: found, created, started and removed here; the
fixtures that use it are in conftest.py."""

from __future__ import annotations

import contextlib
import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

SERVER_USER = "postgres"
"""The non-root user that runs the server when the tests run as root."""


def find_bindir() -> Path | None:
    """The folder of `initdb` and `pg_ctl`: PG_BINDIR, else Debian's newest version, else
    `pg_config --bindir`, else PATH."""
    candidates: list[Path] = []
    if os.environ.get("PG_BINDIR"):
        candidates.append(Path(os.environ["PG_BINDIR"]))

    def version(path: str) -> tuple[int, ...]:
        part = Path(path).parents[1].name
        return tuple(int(x) for x in part.split(".") if x.isdigit())

    debian = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=version, reverse=True)
    candidates.extend(Path(p).parent for p in debian)
    pg_config = shutil.which("pg_config")
    if pg_config:
        with contextlib.suppress(OSError, subprocess.SubprocessError):
            out = subprocess.run(
                [pg_config, "--bindir"], capture_output=True, text=True, timeout=10, check=True
            )
            candidates.append(Path(out.stdout.strip()))
    initdb = shutil.which("initdb")
    if initdb:
        candidates.append(Path(initdb).parent)
    for folder in candidates:
        if (folder / "initdb").is_file() and (folder / "pg_ctl").is_file():
            return folder
    return None


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class PgServer:
    bindir: Path
    folder: Path
    port: int
    run_as: str | None
    """The user the server runs as (None: the current user)."""

    host: str = "127.0.0.1"
    user: str = "postgres"

    @property
    def datadir(self) -> Path:
        return self.folder / "data"

    def url(self, database: str = "postgres") -> str:
        return f"postgresql://{self.user}@{self.host}:{self.port}/{database}"

    def command(self, *args: str) -> list[str]:
        if self.run_as is None:
            return list(args)
        return ["runuser", "-u", self.run_as, "--", *args]

    def run(self, *args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
        result = subprocess.run(
            self.command(*args), capture_output=True, text=True, timeout=timeout, check=False
        )
        if result.returncode != 0:
            log = self.folder / "server.log"
            tail = log.read_text(errors="replace")[-3000:] if log.exists() else ""
            raise RuntimeError(
                f"{' '.join(args)} failed ({result.returncode}):\n{result.stdout}\n"
                f"{result.stderr}\n{tail}"
            )
        return result

    def start(self) -> None:
        options = " ".join(
            [
                "-c listen_addresses=127.0.0.1",
                f"-c port={self.port}",
                f"-c unix_socket_directories={self.folder}",
                "-c fsync=off",
                "-c synchronous_commit=off",
                "-c full_page_writes=off",
                "-c max_connections=40",
                "-c shared_buffers=64MB",
                "-c max_wal_size=1GB",
                "-c log_min_messages=warning",
                "-c log_min_error_statement=panic",
            ]
        )
        pg_ctl = str(self.bindir / "pg_ctl")
        self.run(
            pg_ctl,
            "start",
            "-w",
            "-t",
            "60",
            "-D",
            str(self.datadir),
            "-l",
            str(self.folder / "server.log"),
            "-o",
            options,
        )

    def stop(self) -> None:
        with contextlib.suppress(Exception):
            self.run(
                str(self.bindir / "pg_ctl"), "stop", "-m", "immediate", "-D", str(self.datadir)
            )


def make_folder(run_as: str | None) -> Path:
    """A fresh folder the server user can write (and reach: not under root's 0700 folders)."""
    bases = [tempfile.gettempdir(), "/tmp", "/var/tmp"] if run_as else [tempfile.gettempdir()]
    for base in dict.fromkeys(bases):
        folder = Path(tempfile.mkdtemp(prefix="pgtest-", dir=base))
        if run_as is None:
            return folder
        entry = pwd.getpwnam(run_as)
        os.chown(folder, entry.pw_uid, entry.pw_gid)
        check = subprocess.run(
            ["runuser", "-u", run_as, "--", "test", "-w", str(folder)], check=False
        )
        if check.returncode == 0:
            return folder
        shutil.rmtree(folder, ignore_errors=True)
    raise RuntimeError(f"no temporary folder that user {run_as} can write")


def server_user() -> str | None:
    if os.geteuid() != 0:
        return None
    for name in (SERVER_USER, "nobody"):
        with contextlib.suppress(KeyError):
            pwd.getpwnam(name)
            return name
    raise RuntimeError("running as root and no postgres/nobody user to run PostgreSQL as")
