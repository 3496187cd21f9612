"""Long fuzz session against the real language server and the parsers, then a reliability report.

    python scripts/reliability_report.py --minutes 10 --seed 1

Runs the fuzzers of the test suite (`tests/fuzzing.py`) for as long as asked instead of a bounded
number of examples: random incremental edits (inserts, deletes, pastes, CRLF, tabs, emoji,
multi-change notifications, applied quick fixes) on migrations of every supported tool, through
`migration-lsp serve` under UTF-16 and UTF-8 position encodings, pushed and pulled diagnostics;
and mutated migrations and damaged bytes through every parser, rule and quick fix. It prints
what it tried and what went wrong, and exits 1 when anything did. Each failure names the seed
that reproduces it (`--seed N --sessions 1` replays session N of a run).

See docs/reliability.md.
"""

from __future__ import annotations

import argparse
import logging
import sys
import tempfile
import time
import traceback
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from fuzzing import (
    RESPONSE_BUDGET,
    Chooser,
    Fuzzer,
    OpenDocument,
    ServerRun,
    check_engine_input,
    fuzz_files,
    make_workspace,
    migration_inputs,
    mutate,
    mutate_bytes,
    with_crlf,
)

CLIENTS: tuple[tuple[str, bool], ...] = (
    ("utf-16", False),
    ("utf-8", True),
    ("utf-16", True),
    ("utf-8", False),
)
"""(position encoding, pulls diagnostics): VS Code pushes UTF-16, Neovim pulls UTF-8, and the
two other combinations."""


@dataclass(slots=True)
class Report:
    sessions: int = 0
    edits: int = 0
    requests: int = 0
    actions_applied: int = 0
    documents: int = 0
    slowest: float = 0.0
    slowest_what: str = ""
    inputs: int = 0
    crashes: int = 0
    invalid_ranges: int = 0
    hangs: int = 0
    mismatches: int = 0
    parser_errors: int = 0
    restarts: int = 0
    failures: list[str] = field(default_factory=list)
    kinds: dict[str, int] = field(default_factory=dict)
    """How often each kind of failure (its first line) happened."""

    def fail(self, kind: str, detail: str) -> None:
        """Record a failure: every one is counted, the first of each kind kept in full."""
        if kind not in self.kinds:
            self.failures.append(detail)
        self.kinds[kind] = self.kinds.get(kind, 0) + 1

    @property
    def failed(self) -> int:
        return (
            self.crashes + self.invalid_ranges + self.hangs + self.mismatches + self.parser_errors
        )


def fuzz_session(server: ServerRun, seed: int, steps: int) -> None:
    """One editing session: a random migration, `steps` edits or questions, the final check."""
    rng = Chooser.seeded(seed)
    files = fuzz_files(server.workspace)
    path = server.workspace / rng.choice(files)
    text = path.read_bytes().decode("utf-8")
    document = OpenDocument.open(server, path, with_crlf(text) if rng.boolean() else text)
    fuzzer = Fuzzer(document, rng)
    for _ in range(steps):
        if rng.integer(0, 4) == 0:
            fuzzer.step_query()
        else:
            fuzzer.step_edit()
        fuzzer.check_log()
    fuzzer.finish()
    fuzzer.check_log()


def run_server_fuzzing(report: Report, args: argparse.Namespace, deadline: float) -> None:
    with tempfile.TemporaryDirectory(prefix="migration-lsp-reliability-") as folder:
        workspace = make_workspace(Path(folder) / "ws")
        servers: dict[tuple[str, bool], ServerRun] = {}
        session = 0
        try:
            while time.monotonic() < deadline and (
                args.sessions is None or session < args.sessions
            ):
                client = CLIENTS[session % len(CLIENTS)]
                server = servers.get(client)
                if server is None:
                    server = ServerRun(workspace, *client)
                    server.start()
                    servers[client] = server
                seed = args.seed * 1_000_000 + session
                try:
                    fuzz_session(server, seed, args.steps)
                except Exception as error:
                    alive = server.client._server and server.client._server.returncode is None
                    if not alive:
                        server.stats.crashes += 1
                    message = f"{type(error).__name__}: {error}"
                    report.fail(
                        message.splitlines()[0][:200],
                        f"session {session} (seed {seed}, {client[0]}, "
                        f"{'pull' if client[1] else 'push'}): {message[:2000]}",
                    )
                    _collect(report, server)
                    server.kill()
                    servers.pop(client)
                    report.restarts += 1
                report.sessions += 1
                session += 1
                _progress(report, deadline, servers.values())
        finally:
            for server in servers.values():
                _collect(report, server)
                try:
                    server.stop()
                except Exception:
                    server.kill()


def _collect(report: Report, server: ServerRun) -> None:
    stats = server.stats
    report.edits += stats.edits
    report.requests += stats.requests
    report.actions_applied += stats.actions_applied
    report.documents += stats.documents
    report.crashes += stats.crashes
    report.invalid_ranges += stats.invalid_ranges
    report.hangs += stats.hangs
    report.mismatches += stats.mismatches
    if stats.slowest > report.slowest:
        report.slowest, report.slowest_what = stats.slowest, stats.slowest_what
    server.stats = type(stats)()


def run_parser_fuzzing(report: Report, args: argparse.Namespace, deadline: float) -> None:
    errors: list[str] = []

    class Collect(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            if record.levelno >= logging.ERROR:
                errors.append(self.format(record))

    logging.getLogger().addHandler(Collect())
    inputs = migration_inputs()
    count = 0
    while time.monotonic() < deadline and (
        args.parser_inputs is None or count < args.parser_inputs
    ):
        seed = args.seed * 1_000_000 + count
        rng = Chooser.seeded(seed)
        path, project = rng.choice(inputs)
        raw = path.read_bytes()
        data: bytes | str
        if rng.integer(0, 3) == 0:
            data = mutate_bytes(raw, rng)
        else:
            data = mutate(raw.decode("utf-8"), rng)
        errors.clear()
        try:
            check_engine_input(path, project, data)
            if errors:
                raise AssertionError("logged an error: " + errors[0][:1500])
        except Exception as error:
            report.parser_errors += 1
            report.fail(
                f"{type(error).__name__}: {error}".splitlines()[0][:200],
                f"parser input {count} (seed {seed}, {project.tool}, {path.name}): "
                + traceback.format_exc(limit=6)[-2000:],
            )
        count += 1
    report.inputs += count


def _progress(report: Report, deadline: float, running: Iterable[ServerRun]) -> None:
    left = max(0, deadline - time.monotonic())
    edits = report.edits + sum(server.stats.edits for server in running)
    print(
        f"\r  {report.sessions} sessions, {edits} edits, {sum(report.kinds.values())} failures,"
        f" {left:.0f} s left   ",
        end="",
        file=sys.stderr,
        flush=True,
    )


def render(report: Report, args: argparse.Namespace, elapsed: float) -> str:
    tools = len({project.tool for _, project in migration_inputs()})
    lines = [
        f"migration-lsp reliability report (seed {args.seed}, {elapsed / 60:.1f} minutes)",
        "",
        f"server fuzzing: {report.sessions} editing sessions, {len(CLIENTS)} client set-ups "
        "(UTF-16/UTF-8, push/pull)",
        f"  edits fuzzed           {report.edits:>10,}",
        f"  requests answered      {report.requests:>10,}   slowest {report.slowest:.2f} s"
        + (f" ({report.slowest_what})" if report.slowest_what else ""),
        f"  code actions applied   {report.actions_applied:>10,}",
        f"  documents opened       {report.documents:>10,}",
        f"parser fuzzing: every parser, rule and fix ({tools} tools)",
        f"  inputs tried           {report.inputs:>10,}",
        "",
        f"crashes                  {report.crashes + report.parser_errors:>10,}",
        f"invalid ranges           {report.invalid_ranges:>10,}",
        f"hangs (> {RESPONSE_BUDGET:.0f} s)            {report.hangs:>10,}",
        f"sync mismatches          {report.mismatches:>10,}",
        "",
        "result: " + ("PASS" if not report.failures else f"FAIL ({sum(report.kinds.values())})"),
    ]
    for (kind, count), failure in zip(report.kinds.items(), report.failures, strict=True):
        lines += ["", f"{count} × {kind}", failure]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--minutes", type=float, default=5.0, help="how long to run (default 5)")
    parser.add_argument("--seed", type=int, default=1, help="random seed (default 1)")
    parser.add_argument(
        "--steps", type=int, default=60, help="edits and questions per session (default 60)"
    )
    parser.add_argument("--sessions", type=int, help="stop after this many editing sessions")
    parser.add_argument("--parser-inputs", type=int, help="stop after this many parser inputs")
    parser.add_argument(
        "--parser-share",
        type=float,
        default=0.25,
        help="share of the time spent on parser fuzzing (default 0.25)",
    )
    args = parser.parse_args(argv)
    started = time.monotonic()
    total = args.minutes * 60
    report = Report()
    run_server_fuzzing(report, args, started + total * (1 - args.parser_share))
    print(file=sys.stderr)
    run_parser_fuzzing(report, args, time.monotonic() + total * args.parser_share)
    sys.stdout.write(render(report, args, time.monotonic() - started))
    return 1 if report.failures else 0


if __name__ == "__main__":
    sys.exit(main())
