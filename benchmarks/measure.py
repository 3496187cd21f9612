"""The measurements: the servers over stdio (push and pull, side by side with `squawk server`)
and the CLIs as whole processes. Each fills rows of `Results`; none asserts anything.

A server that stops answering (a request past `Plan.timeout`) is recorded as timed out and
stopped: its remaining series are skipped rather than measured against a busy process."""

from __future__ import annotations

import asyncio
import json
import statistics
import subprocess
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from benchmarks import gen_sql
from benchmarks.driver import Driver, EditPoint, action_lines, edit_point
from benchmarks.inputs import Inputs
from benchmarks.lsp_client import LspClient
from benchmarks.plan import Plan, Programs
from benchmarks.procs import peak_rss, rss, run_process
from benchmarks.results import Results, Row
from benchmarks.stats import Sample

Log = Callable[[str], None]

TYPICAL_LINES = (40, 180)
"""The typical migrations edited per tool: one of the median size and one near the 200-line
limit of the target."""
BIG_LINES = 800
TYPICAL_EDITS = 15
TYPICAL_ACTIONS = 8
ACTION_LINES = 5
SETTLE = 1.0
"""Seconds a new server is left alone before the first file is opened: the editor started it
a moment before the user opens something (start-up work in the background is not counted)."""
EDIT_TIMEOUT = 10.0
"""Seconds an edit or code action may take before the server counts as hung, unless opening
the file took longer (then five times that)."""


async def series(
    driver: Driver | None, run: Callable[[int], Awaitable[float]], runs: int, budget: float
) -> Sample:
    """Up to `runs` repetitions of `run`, stopping once `budget` seconds have passed."""
    sample = Sample()
    start = time.perf_counter()
    for index in range(runs):
        if driver is not None and driver.stuck:
            sample.timeouts += 1
            sample.note = "not run: the server had stopped answering"
            break
        try:
            sample.add(await run(index))
        except TimeoutError:
            sample.timeouts += 1
            sample.note = "timed out"
            if driver is not None:
                driver.stuck = True
            break
        if time.perf_counter() - start > budget:
            break
    return sample


@dataclass
class FileRun:
    open: Sample = field(default_factory=Sample)
    edit: Sample = field(default_factory=Sample)
    action: Sample = field(default_factory=Sample)
    diagnostics: int = 0
    actions_offered: int = 0


async def file_session(
    driver: Driver,
    path: Path,
    point: EditPoint,
    *,
    opens: int,
    edits: int,
    actions: int,
    budget: float,
    timeout: float,
) -> FileRun:
    """Open (repeatedly, closing in between), edit one line back and forth, ask code actions."""
    driver.timeout = timeout
    text = path.read_text(encoding="utf-8")
    result = FileRun()
    state: dict[str, Any] = {"uri": None, "diagnostics": [], "typed": 0}

    async def open_once(_: int) -> float:
        if state["uri"] is not None:
            driver.client.close(state["uri"])
            await asyncio.sleep(0.05)
        state["uri"], latency, state["diagnostics"] = await driver.open(path, text)
        return latency

    async def edit_once(_: int) -> float:
        latency, state["diagnostics"] = await driver.edit(state["uri"], point, state["typed"])
        state["typed"] += 1
        return latency

    result.open = await series(driver, open_once, max(1, opens), budget)
    if state["uri"] is None:
        return result
    # an edit or a code action taking far longer than opening the whole file is a hang
    driver.timeout = min(driver.timeout, max(EDIT_TIMEOUT, 5 * result.open.max))
    result.edit = await series(driver, edit_once, edits, budget)
    if actions:
        lines = action_lines(state["diagnostics"], ACTION_LINES)

        async def action_once(index: int) -> float:
            latency, offered = await driver.code_action(
                state["uri"], lines[index % len(lines)], state["diagnostics"]
            )
            result.actions_offered = max(result.actions_offered, offered)
            return latency

        result.action = await series(driver, action_once, actions, budget)
    result.diagnostics = len(state["diagnostics"])
    if not driver.stuck:
        driver.client.close(state["uri"])
    return result


class Server:
    """One server process in one diagnostics mode, restarted when it stops answering."""

    def __init__(self, argv: list[str], root: Path, pull: bool, plan: Plan, log_file: Path):
        self.argv, self.root, self.pull, self.plan, self.log_file = argv, root, pull, plan, log_file
        self.client = LspClient(argv, root, pull=pull, log=log_file)
        self.driver = Driver(self.client, plan.timeout)
        self.restarts = 0

    async def start(self) -> float:
        """Spawn and initialize; returns the handshake time (detection happens in it)."""
        return await self.client.start(self.root, timeout=self.plan.timeout)

    async def ready(self) -> Driver:
        """The driver, on a fresh process if the previous one stopped answering."""
        if self.driver.stuck:
            await self.client.stop(kill=True)
            self.client = LspClient(self.argv, self.root, pull=self.pull, log=self.log_file)
            self.driver = Driver(self.client, self.plan.timeout)
            self.restarts += 1
            await self.start()
        return self.driver

    async def stop(self) -> None:
        await self.client.stop(kill=self.driver.stuck)


# --------------------------------------------------------------------------- the SQL files


def sql_root(path: Path) -> Path:
    """The repository of one generated SQL file (`<root>/migrations/<file>`)."""
    return path.parent.parent


async def sql_server(
    plan: Plan, programs: Programs, inputs: Inputs, results: Results, logs: Path, log: Log
) -> None:
    servers: list[tuple[str, list[str], bool]] = [
        ("push", programs.serve, False),
        ("pull", programs.serve, True),
    ]
    if programs.squawk:
        servers.append(("squawk", [programs.squawk, "server"], True))
    for count, path in inputs.sql_files.items():
        lines = path.read_text(encoding="utf-8").split("\n")
        line = gen_sql.edit_line(count)
        point = EditPoint(line, len(lines[line]) - 1)  # before the `;` of a RENAME COLUMN
        runs: dict[str, FileRun] = {}
        peaks: dict[str, int | None] = {}
        for name, argv, pull in servers:
            log(f"server ({name}): {count}-statement file")
            actions = plan.action_runs if name != "push" else 0
            runs[name], peaks[name] = await fresh_opens(
                Server(argv, sql_root(path), pull, plan, logs / "sql.log"), path, point, actions
            )
        _sql_rows(count, runs, peaks, programs, results)


async def fresh_opens(
    server: Server, path: Path, point: EditPoint, actions: int
) -> tuple[FileRun, int | None]:
    """First diagnostics of the file, each time in a new server process (a server remembers
    what it parsed, so reopening the same text says nothing about a first open); the last
    process then goes on with the edits and code actions."""
    plan = server.plan
    result = FileRun()
    started = time.perf_counter()
    for attempt in range(plan.open_runs):
        last = attempt == plan.open_runs - 1 or time.perf_counter() - started > plan.series_budget
        if attempt:
            server = Server(server.argv, server.root, server.pull, plan, server.log_file)
        try:
            await server.start()
            await asyncio.sleep(SETTLE)
            run = await file_session(
                server.driver,
                path,
                point,
                opens=1,
                edits=plan.edit_runs if last else 0,
                actions=actions if last else 0,
                budget=plan.series_budget,
                timeout=plan.timeout,
            )
            result.open.extend(run.open)
            if server.driver.stuck and not last:
                skipped = "not run: the server had stopped answering"
                run.edit = Sample(timeouts=1, note=skipped)
                run.action = Sample(timeouts=1, note=skipped) if actions else Sample()
            if last or server.driver.stuck:
                result.edit, result.action = run.edit, run.action
                result.diagnostics, result.actions_offered = run.diagnostics, run.actions_offered
                return result, peak_rss(server.client.pid)
        finally:
            await server.stop()
    return result, None


def _sql_rows(
    count: int,
    runs: dict[str, FileRun],
    peaks: dict[str, int | None],
    programs: Programs,
    results: Results,
) -> None:
    group = f"{count:,}-statement SQL file (server)"
    push, pull, squawk = runs["push"], runs["pull"], runs.get("squawk")
    found = f"{pull.diagnostics} diagnostics"
    if squawk is not None:
        found += f" (squawk: {squawk.diagnostics if squawk.open.values else 'timed out'})"
    results.add(
        f"sql{count}.open.pull",
        Row(
            group,
            "first diagnostics after didOpen, new server (pull)",
            pull.open,
            squawk=squawk.open if squawk else None,
            info=found,
            peak_rss=peaks.get("pull"),
        ),
    )
    results.add(
        f"sql{count}.open.push",
        Row(
            group,
            "first diagnostics after didOpen, new server (push)",
            push.open,
            peak_rss=peaks.get("push"),
        ),
    )
    results.add(
        f"sql{count}.edit.pull",
        Row(
            group,
            "one-line edit → diagnostics (pull)",
            pull.edit,
            squawk=squawk.edit if squawk else None,
        ),
    )
    results.add(
        f"sql{count}.edit.push",
        Row(group, "one-line edit → publish (push, user-visible)", push.edit),
    )
    results.add(
        f"sql{count}.edit.push_net",
        Row(
            group,
            f"one-line edit → publish minus {programs.debounce_min * 1000:.0f} ms debounce",
            push.edit.shifted(-programs.debounce_min),
        ),
    )
    offered = f"{pull.actions_offered} actions offered"
    results.add(
        f"sql{count}.action",
        Row(
            group,
            "code action request on a line with diagnostics",
            pull.action,
            squawk=squawk.action if squawk else None,
            info=offered,
        ),
    )


# --------------------------------------------------------------------------- the workspace


def pick_files(manifest: dict[str, list[tuple[str, int]]]) -> dict[str, list[tuple[str, int]]]:
    """Per tool, the typical files to edit: from the later half of the history (a project with
    a past), the ones closest to each of TYPICAL_LINES lines."""
    picks: dict[str, list[tuple[str, int]]] = {}
    for tool, files in manifest.items():
        later = [f for f in files[len(files) // 2 :] if not f[0].endswith(".down.sql")]
        chosen: list[tuple[str, int]] = []
        for size in TYPICAL_LINES:
            best = min(later or files, key=lambda f: (abs(f[1] - size), f[0]))
            if best not in chosen:
                chosen.append(best)
        picks[tool] = chosen
    return picks


def pick_big(manifest: dict[str, list[tuple[str, int]]]) -> dict[str, tuple[str, int]]:
    """The Python migrations closest to (and at least) BIG_LINES lines."""
    big: dict[str, tuple[str, int]] = {}
    for tool in ("alembic", "django"):
        files = [f for f in manifest.get(tool, []) if f[1] >= BIG_LINES] or manifest.get(tool, [])
        if files:
            big[tool] = min(files, key=lambda f: (f[1], f[0]))
    return big


async def workspace_server(
    plan: Plan, programs: Programs, inputs: Inputs, results: Results, logs: Path, log: Log
) -> None:
    root = inputs.workspace
    if root is None:
        return
    picks = pick_files(inputs.manifest)
    big = pick_big(inputs.manifest)
    first = root / picks["alembic"][0][0]
    start, handshake = Sample(), Sample()
    typical: dict[str, dict[str, FileRun]] = {"push": {}, "pull": {}}
    bigs: dict[str, dict[str, FileRun]] = {"push": {}, "pull": {}}
    idle: int | None = None
    peaks: dict[str, int | None] = {}
    total = sum(len(v) for v in inputs.manifest.values())
    for attempt in range(plan.start_runs):
        last = attempt == plan.start_runs - 1
        log(f"server (push): start on the {total}-file workspace, run {attempt + 1}")
        server = Server(programs.serve, root, False, plan, logs / "workspace.log")
        try:
            handshake.add(await server.start())
            uri, _, _ = await server.driver.open(first)
            start.add(server.driver.last_at - server.client.started_at)
            server.client.close(uri)
            if last:
                await asyncio.sleep(1.0)
                idle = rss(server.client.pid)
                await _edit_files(
                    server, root, picks, big, typical["push"], bigs["push"], plan, log
                )
                peaks["push"] = peak_rss(server.client.pid)
        except TimeoutError:
            start.timeouts += 1
            start.note = "timed out"
            server.driver.stuck = True
            break
        finally:
            await server.stop()
    log("server (pull): typical and 800-line migrations")
    server = Server(programs.serve, root, True, plan, logs / "workspace.log")
    try:
        await server.start()
        await _edit_files(server, root, picks, big, typical["pull"], bigs["pull"], plan, log)
        peaks["pull"] = peak_rss(server.client.pid)
    finally:
        await server.stop()
    _workspace_rows(
        total, start, handshake, idle, peaks, picks, big, typical, bigs, programs, results
    )


async def _edit_files(
    server: Server,
    root: Path,
    picks: dict[str, list[tuple[str, int]]],
    big: dict[str, tuple[str, int]],
    typical: dict[str, FileRun],
    bigs: dict[str, FileRun],
    plan: Plan,
    log: Log,
) -> None:
    actions = TYPICAL_ACTIONS if server.driver.pull else 0
    for tool, files in picks.items():
        pooled = FileRun()
        for relative, _ in files:
            path = root / relative
            run = await file_session(
                await server.ready(),
                path,
                edit_point(path.read_text(encoding="utf-8")),
                opens=1,
                edits=TYPICAL_EDITS,
                actions=actions,
                budget=plan.series_budget / 2,
                timeout=EDIT_TIMEOUT,
            )
            pooled.open.extend(run.open)
            pooled.edit.extend(run.edit)
            pooled.action.extend(run.action)
            pooled.diagnostics += run.diagnostics
        typical[tool] = pooled
    for tool, (relative, lines) in big.items():
        log(f"  {lines}-line {tool} migration")
        path = root / relative
        bigs[tool] = await file_session(
            await server.ready(),
            path,
            edit_point(path.read_text(encoding="utf-8")),
            opens=1,
            edits=plan.edit_runs // 2,
            actions=actions,
            budget=plan.series_budget,
            timeout=plan.timeout,
        )
    if server.restarts:
        log(f"  (the server was restarted {server.restarts} time(s) after timeouts)")


def _workspace_rows(
    total: int,
    start: Sample,
    handshake: Sample,
    idle: int | None,
    peaks: dict[str, int | None],
    picks: dict[str, list[tuple[str, int]]],
    big: dict[str, tuple[str, int]],
    typical: dict[str, dict[str, FileRun]],
    bigs: dict[str, dict[str, FileRun]],
    programs: Programs,
    results: Results,
) -> None:
    group = f"{total:,}-file workspace (server)"
    results.add(
        "ws.start",
        Row(
            group,
            "server start → first diagnostics",
            start,
            info=f"initialize (detection): {_ms(handshake.p50)}",
            peak_rss=peaks.get("push"),
        ),
    )
    results.add(
        "ws.idle_rss",
        Row(
            group,
            "idle RSS after first diagnostics",
            Sample([float(idle)] if idle else []),
            unit="bytes",
        ),
    )
    edits = f"typical migrations (≤ 200 lines, {len(TYPICAL_LINES)} per tool)"
    pooled = {mode: FileRun() for mode in ("push", "pull")}
    for mode, runs in typical.items():
        for each in runs.values():
            pooled[mode].edit.extend(each.edit)
            pooled[mode].action.extend(each.action)
    results.add(
        "typical.pull", Row(edits, "edit → diagnostics (pull), all tools", pooled["pull"].edit)
    )
    results.add(
        "typical.push",
        Row(edits, "edit → publish (push, user-visible), all tools", pooled["push"].edit),
    )
    results.add(
        "typical.push_net",
        Row(
            edits,
            f"edit → publish minus {programs.debounce_min * 1000:.0f} ms debounce, all tools",
            pooled["push"].edit.shifted(-programs.debounce_min),
        ),
    )
    results.add(
        "typical.action", Row(edits, "code action request, all tools", pooled["pull"].action)
    )
    for tool, files in picks.items():
        typical_run = typical["pull"].get(tool)
        if typical_run is None:
            continue
        sizes = "/".join(str(lines) for _, lines in files)
        results.add(
            f"typical.{tool}",
            Row(
                edits,
                f"{tool} ({sizes} lines): edit → diagnostics (pull)",
                typical_run.edit,
                info=f"open {_ms(typical_run.open.p50)}",
            ),
        )
    for tool, (_, lines) in big.items():
        run = bigs["pull"].get(tool)
        push = bigs["push"].get(tool)
        if run is None:
            continue
        info = f"open {_ms(run.open.p50)}; push {_ms(push.edit.p50) if push else '-'}"
        results.add(
            f"big.{tool}",
            Row(
                "800-line Python migrations",
                f"{tool} ({lines} lines): edit → diagnostics (pull)",
                run.edit,
                info=info,
            ),
        )
        results.add(
            f"big.{tool}.action",
            Row("800-line Python migrations", f"{tool} ({lines} lines): code action", run.action),
        )


def _ms(seconds: float) -> str:
    return "-" if seconds != seconds else f"{seconds * 1000:.0f} ms"


# --------------------------------------------------------------------------- real migrations


def real_files(project: Path) -> list[Path]:
    """The migration files of an extracted package: revisions and numbered Django migrations."""
    found = []
    for path in sorted(project.rglob("*.py")):
        if path.parent.name == "versions" or (
            path.parent.name == "migrations" and path.name[:1].isdigit()
        ):
            found.append(path)
    return found


async def real_server(
    plan: Plan, programs: Programs, inputs: Inputs, results: Results, logs: Path, log: Log
) -> None:
    if inputs.real_root is None or not inputs.real:
        return
    server = Server(programs.serve, inputs.real_root, True, plan, logs / "real.log")
    try:
        await server.start()
        for name, project in inputs.real.items():
            files = real_files(project)
            if files:
                await _real_project(server, name, files, plan, results, log)
    finally:
        await server.stop()


async def _real_project(
    server: Server, name: str, files: list[Path], plan: Plan, results: Results, log: Log
) -> None:
    log(f"server (pull): {len(files)} real {name} migrations")
    group = f"real migrations: {name}"
    sizes = {f: f.read_text(encoding="utf-8").count("\n") for f in files}
    opened = Sample()
    deadline = time.perf_counter() + plan.real_budget / 2
    for path in files:
        if time.perf_counter() > deadline:
            break
        driver = await server.ready()
        driver.timeout = EDIT_TIMEOUT
        try:
            uri, latency, _ = await driver.open(path)
        except TimeoutError:
            opened.timeouts += 1
            opened.note = "timed out"
            driver.stuck = True
            continue
        opened.add(latency)
        driver.client.close(uri)
    median = statistics.median(sizes.values())
    results.add(
        f"real.{name}.open",
        Row(
            group,
            f"open → diagnostics, each file once ({opened.n} of {len(files)} files)",
            opened,
            info=f"median {median:.0f} lines, max {max(sizes.values())}",
        ),
    )
    by_size = sorted(files, key=lambda f: (sizes[f], str(f)))
    for label, path in (("median", by_size[len(by_size) // 2]), ("largest", by_size[-1])):
        run = await file_session(
            await server.ready(),
            path,
            edit_point(path.read_text(encoding="utf-8")),
            opens=1,
            edits=TYPICAL_EDITS,
            actions=0,
            budget=plan.series_budget / 2,
            timeout=EDIT_TIMEOUT,
        )
        results.add(
            f"real.{name}.edit.{label}",
            Row(
                group,
                f"{label} file ({sizes[path]} lines): edit → diagnostics (pull)",
                run.edit,
                info=f"{run.diagnostics} diagnostics",
            ),
        )


# --------------------------------------------------------------------------- the CLIs


def cli_series(
    argv: list[str], cwd: Path, runs: int, plan: Plan, timeout: float | None = None
) -> tuple[Sample, int, float]:
    """Repeated whole-process runs: wall times, the highest peak RSS, the median cores used."""
    timeout = timeout or plan.cli_timeout
    sample = Sample()
    peak = 0
    cores: list[float] = []
    start = time.perf_counter()
    for _ in range(runs):
        run = run_process(argv, cwd=cwd, timeout=timeout)
        if run.timed_out:
            sample.timeouts += 1
            sample.note = f"timed out after {timeout:.0f} s"
            break
        sample.add(run.wall)
        peak = max(peak, run.peak_rss)
        if run.wall > 0:
            cores.append(run.cpu / run.wall)
        if time.perf_counter() - start > plan.series_budget * 2:
            break
    return sample, peak, statistics.median(cores) if cores else float("nan")


def count_findings(argv: list[str], cwd: Path, timeout: float) -> int | None:
    try:
        out = subprocess.run(argv, cwd=cwd, capture_output=True, text=True, timeout=timeout).stdout
        return len(json.loads(out or "[]"))
    except (subprocess.TimeoutExpired, json.JSONDecodeError):
        return None


def cli(plan: Plan, programs: Programs, inputs: Inputs, results: Results, log: Log) -> None:
    ml = programs.migration_lsp
    group = "CLI (whole process)"
    sample, peak, _ = cli_series([*ml, "--version"], Path.cwd(), plan.cli_runs, plan)
    results.add(
        "cli.startup",
        Row(group, "migration-lsp --version (interpreter start-up)", sample, peak_rss=peak),
    )
    no_cache = ["--no-cache"] if programs.no_cache else []
    for count, path in inputs.sql_files.items():
        log(f"CLI: {count}-statement file")
        root = sql_root(path)
        relative = str(path.relative_to(root))
        # the same time limit for both linters, the one the server comparison uses
        argv = [*ml, "check", *no_cache, relative]
        ours, peak, _ = cli_series(argv, root, plan.cli_runs, plan, plan.timeout)
        squawk = None
        info = ""
        if programs.squawk:
            argv = [programs.squawk, relative]
            squawk, _, _ = cli_series(argv, root, plan.cli_runs * 2, plan, plan.timeout)
        if count == min(inputs.sql_files):  # counting costs another run of each: once is enough
            info = _findings(programs, relative, root, count, plan, results)
        cold = " (--no-cache)" if no_cache else ""
        results.add(
            f"cli.sql{count}",
            Row(
                group,
                f"check {count:,}-statement SQL file{cold}",
                ours,
                squawk=squawk,
                info=info,
                peak_rss=peak,
            ),
        )
    if inputs.workspace is not None:
        _cli_workspace(plan, programs, inputs.workspace, results, log)
    for name, project in inputs.real.items():
        relative = str(project.relative_to(inputs.real_root)) if inputs.real_root else str(project)
        log(f"CLI: real {name} migrations")
        cwd = inputs.real_root or project.parent
        sample, peak, _ = cli_series([*ml, "check", *no_cache, relative], cwd, plan.cli_runs, plan)
        results.add(
            f"cli.real.{name}",
            Row(
                group,
                f"check real {name} migrations ({len(real_files(project))} files)",
                sample,
                peak_rss=peak,
            ),
        )


def _findings(
    programs: Programs, relative: str, root: Path, count: int, plan: Plan, results: Results
) -> str:
    """Findings of both linters on one SQL file (the input's 1.5 findings per statement)."""
    no_cache = ["--no-cache"] if programs.no_cache else []
    argv = [*programs.migration_lsp, "check", *no_cache, "--format", "json", relative]
    found = count_findings(argv, root, plan.cli_timeout)
    info = ""
    if found is not None:
        results.facts[f"findings per statement ({count:,} statements)"] = (
            f"{found / count:.2f} ({found} findings)"
        )
        info = f"{found} findings"
    if programs.squawk:
        theirs = count_findings(
            [programs.squawk, "--reporter", "json", relative], root, plan.cli_timeout
        )
        if theirs is not None:
            info += f" (squawk: {theirs})"
    return info


def _cli_workspace(
    plan: Plan, programs: Programs, workspace: Path, results: Results, log: Log
) -> None:
    ml = programs.migration_lsp
    group = "CLI (whole process)"
    runs = min(plan.cli_runs, 3)
    log(f"CLI: workspace, cold ({runs} run(s), at most {plan.cli_timeout:.0f} s each)")
    if programs.no_cache:
        cold, peak, cores = cli_series([*ml, "check", "--no-cache", "."], workspace, runs, plan)
        label = "check the workspace, cold (--no-cache)"
    else:
        cold, peak, cores = cli_series([*ml, "check", "."], workspace, runs, plan)
        label = "check the workspace (no cache in this version)"
    results.add(
        "cli.ws.cold", Row(group, label, cold, info=f"{cores:.2f} cores used", peak_rss=peak)
    )
    if not programs.no_cache:
        results.notes.append(
            "`migration-lsp check --help` lists no `--no-cache`: this version has no on-disk "
            "cache, so there is no warm run to measure."
        )
        return
    log("CLI: workspace, warm")
    prime = run_process([*ml, "check", "."], cwd=workspace, timeout=plan.cli_timeout)
    if prime.timed_out:
        results.add(
            "cli.ws.warm",
            Row(
                group,
                "check the workspace, warm (cache filled)",
                Sample(timeouts=1, note="filling the cache timed out"),
            ),
        )
        return
    warm, peak, cores = cli_series([*ml, "check", "."], workspace, plan.cli_runs, plan)
    results.add(
        "cli.ws.warm",
        Row(
            group,
            "check the workspace, warm (cache filled)",
            warm,
            info=f"first run with the cache: {prime.wall:.1f} s",
            peak_rss=peak,
        ),
    )
