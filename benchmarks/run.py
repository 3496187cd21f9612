"""`python -m benchmarks`: prepare the inputs, run every measurement, print the table and the
targets, write the results file."""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
from collections.abc import Sequence
from pathlib import Path

from benchmarks import measure
from benchmarks.inputs import prepare
from benchmarks.plan import Plan, Programs, find_programs
from benchmarks.report import load_average, machine, markdown, table_text
from benchmarks.results import Results
from benchmarks.targets import targets

HERE = Path(__file__).resolve().parent
SECTIONS = ("sql", "workspace", "real", "cli")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks",
        description="Measure migration-lsp (server and CLI) side by side with squawk.",
    )
    size = parser.add_mutually_exclusive_group()
    size.add_argument(
        "--quick", action="store_true", help="fewer repetitions (about a third of the time)"
    )
    size.add_argument(
        "--tiny", action="store_true", help="tiny inputs, single runs: checks the harness only"
    )
    parser.add_argument(
        "--only",
        default=",".join(SECTIONS),
        help=f"comma-separated sections to run (default: all of {','.join(SECTIONS)})",
    )
    parser.add_argument(
        "--cache",
        type=Path,
        default=HERE / ".cache",
        help="inputs and downloads (default: %(default)s)",
    )
    parser.add_argument(
        "--output",
        type=Path,
        default=None,
        help="results file (default: benchmarks/results.md for a full run, "
        "<cache>/results-<plan>.md otherwise)",
    )
    return parser


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


async def measure_all(
    plan: Plan, programs: Programs, sections: set[str], cache: Path, results: Results
) -> None:
    inputs = prepare(
        cache,
        plan.statements,
        plan.workspace_files if sections & {"workspace", "cli"} else 0,
        plan.real and bool(sections & {"real", "cli"}),
        log,
    )
    results.notes.extend(inputs.notes)
    logs = cache / "logs"
    for path in logs.glob("*.log") if logs.is_dir() else []:
        path.unlink()
    results.facts["SQL files"] = ", ".join(f"{n:,} statements" for n in inputs.sql_files)
    if inputs.manifest:
        sizes = sorted(n for files in inputs.manifest.values() for _, n in files)
        results.facts["workspace"] = (
            f"{len(sizes):,} migration files, {len(inputs.manifest)} tools, median "
            f"{sizes[len(sizes) // 2]} lines, {sum(n > 800 for n in sizes)} over 800 lines"
        )
    if not programs.squawk:
        results.notes.append("squawk is not installed (pip install -e '.[bench]'): no comparison")
    if "sql" in sections:
        await measure.sql_server(plan, programs, inputs, results, logs, log)
    if "workspace" in sections:
        await measure.workspace_server(plan, programs, inputs, results, logs, log)
    if "real" in sections:
        await measure.real_server(plan, programs, inputs, results, logs, log)
    if "cli" in sections:
        if "real" not in sections:
            inputs.real = {}
        measure.cli(plan, programs, inputs, results, log)


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    plan = Plan.tiny() if args.tiny else Plan.quick() if args.quick else Plan.full()
    sections = {s.strip() for s in args.only.split(",") if s.strip()}
    unknown = sections - set(SECTIONS)
    if unknown:
        print(f"unknown section(s): {', '.join(sorted(unknown))}", file=sys.stderr)
        return 2
    cache = args.cache.resolve()
    programs = find_programs()
    about = machine(programs)
    started = time.perf_counter()
    results = Results()
    asyncio.run(measure_all(plan, programs, sections, cache, results))
    elapsed = time.perf_counter() - started
    results.facts["load average at the end (1/5/15 min)"] = load_average()
    small, large = plan.statements
    verdicts = [(t, t.check(results)) for t in targets(small, large)]
    if plan.name != "full":
        tiny = " and tiny inputs" if plan.name == "tiny" else ""
        results.notes.append(
            f"{plan.name} plan: fewer repetitions{tiny}; the targets are stated for the full run."
        )
    print(table_text(results, verdicts))
    command = "python -m benchmarks" + ("" if plan.name == "full" else f" --{plan.name}")
    output = args.output or (
        HERE / "results.md"
        if plan.name == "full" and sections == set(SECTIONS)
        else cache / f"results-{plan.name}.md"
    )
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(
        markdown(results, verdicts, plan, about, command, elapsed, programs), encoding="utf-8"
    )
    log(f"{elapsed / 60:.1f} minutes; results written to {output}")
    return 0
