"""The machine description, the one table printed to the terminal, and `results.md`."""

from __future__ import annotations

import datetime
import os
import platform
import subprocess
from collections.abc import Iterable
from pathlib import Path

from benchmarks.plan import Plan, Programs
from benchmarks.results import Results, Row
from benchmarks.targets import Target, Verdict, fmt_bytes, fmt_time

REPO = Path(__file__).resolve().parent.parent


def _output(argv: list[str], cwd: Path | None = None) -> str:
    try:
        done = subprocess.run(argv, capture_output=True, text=True, timeout=30, cwd=cwd)
    except (OSError, subprocess.TimeoutExpired):
        return ""
    return done.stdout.strip()


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text(encoding="utf-8").splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def _memory() -> str:
    try:
        for line in Path("/proc/meminfo").read_text(encoding="utf-8").splitlines():
            if line.startswith("MemTotal:"):
                return f"{int(line.split()[1]) / 1024 / 1024:.1f} GiB"
    except OSError:
        pass
    return "unknown"


def load_average() -> str:
    try:
        return " / ".join(f"{value:.2f}" for value in os.getloadavg())
    except OSError:
        return "unknown"


def machine(programs: Programs) -> dict[str, str]:
    """What the numbers were measured on (read-only commands only)."""
    commit = _output(["git", "rev-parse", "--short", "HEAD"], REPO)
    if commit and _output(["git", "status", "--porcelain", "--untracked-files=no"], REPO):
        commit += " + uncommitted changes"
    squawk = _output([programs.squawk, "--version"]) if programs.squawk else "not installed"
    version = _output([*programs.migration_lsp, "--version"])
    return {
        "CPU": _cpu_model(),
        "cores": str(os.cpu_count()),
        "memory": _memory(),
        "OS": platform.platform(),
        "Python": platform.python_version(),
        "migration-lsp": version + (f" ({commit})" if commit else ""),
        "squawk": squawk,
        "load average at the start (1/5/15 min)": load_average(),
        "date": datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M UTC"),
    }


# --------------------------------------------------------------------------- cells


def _value(row: Row, value: float) -> str:
    return fmt_bytes(value) if row.unit == "bytes" else fmt_time(value)


def cells(row: Row) -> list[str]:
    """Measurement, n, p50, p95, squawk p50, ratio, peak RSS, notes."""
    sample = row.sample
    notes = [row.info] if row.info else []
    if sample.timeouts and not sample.values:
        p50, p95 = sample.note or "timed out", ""
    else:
        mark = "*" if sample.timeouts else ""
        p50, p95 = _value(row, sample.p50) + mark, _value(row, sample.p95) + mark
        if sample.timeouts:
            notes.append(f"*{sample.timeouts} more run(s) {sample.note or 'timed out'}")
    squawk = ratio = ""
    if row.squawk is not None:
        if row.squawk.values and not row.squawk.timeouts:
            squawk = fmt_time(row.squawk.p50)
            if sample.ok:
                ratio = f"{sample.p50 / row.squawk.p50:.2f}×"
        else:
            squawk = row.squawk.note or "timed out"
    peak = fmt_bytes(row.peak_rss) if row.peak_rss else ""
    return [row.label, str(sample.n), p50, p95, squawk, ratio, peak, "; ".join(notes)]


HEADER = ["measurement", "n", "p50", "p95", "squawk p50", "vs squawk", "peak RSS", "notes"]


def _groups(results: Results) -> Iterable[tuple[str, list[Row]]]:
    order: dict[str, list[Row]] = {}
    for row in results.rows.values():
        order.setdefault(row.group, []).append(row)
    return order.items()


def table_text(results: Results, verdicts: list[tuple[Target, Verdict]]) -> str:
    rows: list[list[str]] = []
    for group, members in _groups(results):
        rows.append([f"[{group}]"] + [""] * (len(HEADER) - 1))
        rows += [["  " + cells(r)[0], *cells(r)[1:]] for r in members]
    widths = [max(len(r[i]) for r in [HEADER, *rows]) for i in range(len(HEADER))]
    widths[0] = min(widths[0], 62)
    lines = ["  ".join(h.ljust(w) for h, w in zip(HEADER, widths, strict=True)).rstrip()]
    for r in rows:
        lines.append("  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip())
    lines += ["", "Targets (issue 9):"]
    name_width = max(len(t.name) for t, _ in verdicts) if verdicts else 0
    for target, verdict in verdicts:
        lines.append(
            f"  {verdict.status:<4}  {target.name.ljust(name_width)}  {verdict.measured}"
            f"  (target {verdict.limit})"
        )
    return "\n".join(lines)


def _md_row(values: list[str]) -> str:
    return "| " + " | ".join(v.replace("|", "\\|") for v in values) + " |"


def markdown(
    results: Results,
    verdicts: list[tuple[Target, Verdict]],
    plan: Plan,
    about: dict[str, str],
    command: str,
    elapsed: float,
    programs: Programs,
) -> str:
    passed = sum(v.status == "PASS" for _, v in verdicts)
    failed = sum(v.status == "FAIL" for _, v in verdicts)
    lines = [
        "# migration-lsp benchmark results",
        "",
        f"Written by `{command}` ({plan.name} plan, {elapsed / 60:.1f} minutes). "
        "Regenerate with the same command; see `benchmarks/README.md` for what is measured.",
        "",
        "## Machine",
        "",
        "| | |",
        "| --- | --- |",
        *[_md_row([k, v]) for k, v in about.items()],
        "",
        f"## Targets (issue 9): {passed} pass, {failed} fail",
        "",
        _md_row(["", "target", "measured", "limit"]),
        "| --- | --- | --- | --- |",
        *[_md_row([v.status, t.name, v.measured, v.limit]) for t, v in verdicts],
        "",
        "Latencies are the pull round trip (the change sent → its diagnostics received), the time",
        "the server needs once the change arrives. The push rows show what an editor without",
        f"pull diagnostics sees, which includes the server's {programs.debounce_text} after",
        "each change; the *minus debounce* rows take off the shortest debounce, so they are an",
        "upper bound of the work. Targets without a percentile use the median.",
        "",
        "## Measurements",
        "",
    ]
    for group, members in _groups(results):
        lines += [f"### {group}", "", _md_row(HEADER), "|" + " --- |" * len(HEADER)]
        lines += [_md_row(cells(r)) for r in members]
        lines.append("")
    if results.facts:
        lines += ["## Inputs", ""]
        lines += [f"- {k}: {v}" for k, v in results.facts.items()]
        lines.append("")
    if results.notes:
        lines += ["## Notes", ""]
        lines += [f"- {note}" for note in results.notes]
        lines.append("")
    return "\n".join(lines)
