"""Whole processes, timed from the outside: wall time, CPU time and peak memory of one run.

`os.wait4` gives the child's own resource usage (peak RSS, user and system time), so a CLI run
is measured exactly as a user or CI would start it, with no profiler inside the process."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True, slots=True)
class Run:
    wall: float
    """Seconds from start to exit."""
    cpu: float
    """User + system seconds of the process (above `wall`: more than one core was used)."""
    peak_rss: int
    """Bytes."""
    returncode: int
    timed_out: bool = False


LAUNCHER = """
import json, os, signal, sys, time
timeout, argv = float(sys.argv[1]), sys.argv[2:]
null = [(os.POSIX_SPAWN_OPEN, fd, os.devnull, os.O_RDWR, 0) for fd in (0, 1, 2)]
start = time.perf_counter()
pid = os.posix_spawnp(argv[0], argv, os.environ, file_actions=null)
signal.signal(signal.SIGALRM, lambda *_: os.kill(pid, signal.SIGKILL))
signal.setitimer(signal.ITIMER_REAL, timeout)
_, status, usage = os.wait4(pid, 0)
wall = time.perf_counter() - start
code = os.waitstatus_to_exitcode(status)
print(json.dumps([wall, usage.ru_utime + usage.ru_stime, usage.ru_maxrss, code]))
"""
"""Runs one command and reports its wall time and `wait4` usage. It is a small process of its
own because Linux carries a parent's peak RSS into a child across fork and exec: spawned from
the benchmark (hundreds of MB) every child would report at least that much."""


def run_process(argv: list[str], cwd: Path | None = None, timeout: float = 120.0) -> Run:
    """Run `argv` to completion (output discarded) and measure it; kill it after `timeout`."""
    if not hasattr(os, "wait4") or not hasattr(os, "posix_spawnp"):
        return _run_plain(argv, cwd, timeout)
    done = subprocess.run(
        [sys.executable, "-S", "-c", LAUNCHER, str(timeout), *argv],
        cwd=cwd,
        capture_output=True,
        text=True,
        check=True,
    )
    wall, cpu, maxrss, code = json.loads(done.stdout)
    scale = 1 if sys.platform == "darwin" else 1024  # ru_maxrss: bytes on macOS, KiB elsewhere
    if code == -signal.SIGKILL and wall >= timeout:
        return Run(wall, cpu, 0, code, timed_out=True)
    return Run(wall, cpu, int(maxrss) * scale, code)


def _run_plain(argv: list[str], cwd: Path | None, timeout: float) -> Run:
    """Windows: wall time only."""
    start = time.perf_counter()
    try:
        done = subprocess.run(argv, cwd=cwd, capture_output=True, timeout=timeout, check=False)
    except subprocess.TimeoutExpired:
        return Run(time.perf_counter() - start, 0.0, 0, -9, timed_out=True)
    return Run(time.perf_counter() - start, 0.0, 0, done.returncode)


def rss(pid: int) -> int | None:
    """Resident memory of a running process, in bytes."""
    value = _proc_status(pid, "VmRSS")
    if value is not None:
        return value
    try:
        import psutil  # type: ignore[import-untyped, unused-ignore]
    except ImportError:
        return None
    try:
        return int(psutil.Process(pid).memory_info().rss)
    except psutil.Error:
        return None


def peak_rss(pid: int) -> int | None:
    """Highest resident memory of a running process so far (Linux), in bytes."""
    return _proc_status(pid, "VmHWM")


def _proc_status(pid: int, key: str) -> int | None:
    try:
        text = Path(f"/proc/{pid}/status").read_text(encoding="ascii", errors="replace")
    except OSError:
        return None
    for line in text.splitlines():
        if line.startswith(key + ":"):
            parts = line.split()
            return int(parts[1]) * 1024
    return None
