"""The targets of issue 9, each checked against the measured rows: PASS, FAIL, or N/A when the
measurement is missing (no squawk installed, a section skipped).

A timed-out measurement FAILs: it took longer than its timeout, which is over every limit here.
Latencies are the pull round trip (the change sent → its diagnostics received): the time the
server needs after the change arrives, with no debounce in it. Targets that name no percentile
are checked on the median."""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

from benchmarks.results import Results
from benchmarks.stats import Sample

MB = 1024 * 1024


@dataclass(frozen=True, slots=True)
class Verdict:
    measured: str
    limit: str
    status: str
    """"PASS", "FAIL" or "N/A"."""


@dataclass(frozen=True, slots=True)
class Target:
    name: str
    check: Callable[[Results], Verdict]


def fmt_time(seconds: float) -> str:
    if math.isnan(seconds):
        return "-"
    if seconds >= 1:
        return f"{seconds:.2f} s"
    return f"{seconds * 1000:.1f} ms"


def fmt_bytes(value: float) -> str:
    return "-" if math.isnan(value) else f"{value / MB:.0f} MB"


def _missing(limit: str, why: str = "not measured") -> Verdict:
    return Verdict(why, limit, "N/A")


def _timed_out(sample: Sample, limit: str) -> Verdict:
    return Verdict(f"timed out ({sample.note})" if sample.note else "timed out", limit, "FAIL")


def _sample(results: Results, key: str) -> Sample | None:
    row = results.get(key)
    return row.sample if row is not None else None


def at_most(key: str, limit: float, percentile: int = 50) -> Callable[[Results], Verdict]:
    """The row's p50 (or p95) is at most `limit` seconds."""
    text = f"p{percentile} ≤ {fmt_time(limit)}"

    def check(results: Results) -> Verdict:
        sample = _sample(results, key)
        if sample is None or (not sample.values and not sample.timeouts):
            return _missing(text)
        if sample.timeouts:
            return _timed_out(sample, text)
        value = sample.p50 if percentile == 50 else sample.p95
        return Verdict(fmt_time(value), text, "PASS" if value <= limit else "FAIL")

    return check


def worst_of(keys: tuple[str, ...], limit: float) -> Callable[[Results], Verdict]:
    """The highest median among the rows `keys` (those measured)."""
    text = f"p50 ≤ {fmt_time(limit)} on every file"

    def check(results: Results) -> Verdict:
        rows = [(k, r) for k, r in results.rows.items() if k in keys]
        rows = [(k, r) for k, r in rows if r.sample.values or r.sample.timeouts]
        if not rows:
            return _missing(text)
        for key, row in rows:
            if row.sample.timeouts:
                return _timed_out(row.sample, text + f" ({key})")
        key, row = max(rows, key=lambda kr: kr[1].sample.p50)
        value = row.sample.p50
        return Verdict(f"{fmt_time(value)} ({key})", text, "PASS" if value <= limit else "FAIL")

    return check


def versus_squawk(key: str, factor: float) -> Callable[[Results], Verdict]:
    """The row's median is at most `factor` times squawk's median of the same measurement."""
    text = "≤ squawk" if factor == 1 else f"≤ {factor:g}× squawk"

    def check(results: Results) -> Verdict:
        row = results.get(key)
        if row is None or row.squawk is None:
            return _missing(text, "squawk not measured")
        if row.sample.timeouts:
            return _timed_out(row.sample, text)
        if not row.squawk.values:
            measured = f"{fmt_time(row.sample.p50)} vs squawk {row.squawk.note or 'timed out'}"
            return Verdict(measured, text, "PASS" if row.sample.values else "N/A")
        ratio = row.sample.p50 / row.squawk.p50
        measured = f"{fmt_time(row.sample.p50)} vs {fmt_time(row.squawk.p50)} ({ratio:.2f}×)"
        return Verdict(measured, text, "PASS" if ratio <= factor else "FAIL")

    return check


def worst_versus_squawk(prefix: str, factor: float) -> Callable[[Results], Verdict]:
    """`versus_squawk` on every row whose key starts with `prefix`: the worst ratio counts."""

    def check(results: Results) -> Verdict:
        keys = [k for k in results.rows if k.startswith(prefix)]
        verdicts = [(k, versus_squawk(k, factor)(results)) for k in keys]
        if not verdicts:
            return _missing(f"≤ {factor:g}× squawk")
        failed = [v for _, v in verdicts if v.status == "FAIL"]
        if failed:
            return failed[0]
        measured = [(k, v) for k, v in verdicts if v.status == "PASS"]
        if not measured:
            return verdicts[0][1]

        def ratio(key: str) -> float:
            row = results.rows[key]
            assert row.squawk is not None
            return row.sample.p50 / row.squawk.p50 if row.squawk.values else 0.0

        return max(measured, key=lambda kv: ratio(kv[0]))[1]

    return check


def growth(small: str, large: str, factor: float) -> Callable[[Results], Verdict]:
    """The large file's median is at most `factor` times the small file's."""
    text = f"≤ {factor:g}× the small file"

    def check(results: Results) -> Verdict:
        a, b = _sample(results, small), _sample(results, large)
        if a is None or b is None:
            return _missing(text)
        if b.timeouts:
            return _timed_out(b, text)
        if a.timeouts or not a.values or not b.values:
            return _missing(text, "the small file was not measured")
        ratio = b.p50 / a.p50
        measured = f"{ratio:.1f}× ({fmt_time(a.p50)} → {fmt_time(b.p50)})"
        return Verdict(measured, text, "PASS" if ratio <= factor else "FAIL")

    return check


def memory_at_most(key: str, limit: int) -> Callable[[Results], Verdict]:
    text = f"≤ {fmt_bytes(limit)}"

    def check(results: Results) -> Verdict:
        sample = _sample(results, key)
        if sample is None or not sample.values:
            return _missing(text)
        value = sample.max
        return Verdict(fmt_bytes(value), text, "PASS" if value <= limit else "FAIL")

    return check


def targets(small: int, large: int) -> list[Target]:
    s, l = f"sql{small}", f"sql{large}"  # noqa: E741
    return [
        Target("typical migration (≤ 200 lines): edit → diagnostics p50",
               at_most("typical.pull", 0.010)),
        Target("typical migration (≤ 200 lines): edit → diagnostics p95",
               at_most("typical.pull", 0.025, 95)),
        Target("800-line Python migration: edit → diagnostics", worst_of(("big.alembic",
               "big.django"), 0.050)),
        Target(f"{small:,}-statement SQL: first diagnostics vs squawk server",
               versus_squawk(f"{s}.open.pull", 1)),
        Target(f"{small:,}-statement SQL: re-lint after a one-line edit",
               at_most(f"{s}.edit.pull", 0.030)),
        Target(f"{large:,} vs {small:,} statements: first diagnostics",
               growth(f"{s}.open.pull", f"{l}.open.pull", 12)),
        Target(f"{large:,} vs {small:,} statements: re-lint after an edit",
               growth(f"{s}.edit.pull", f"{l}.edit.pull", 12)),
        Target(f"{large:,} vs {small:,} statements: code actions",
               growth(f"{s}.action", f"{l}.action", 12)),
        Target("code action request, whatever the number of diagnostics",
               worst_of((f"{s}.action", f"{l}.action", "typical.action", "big.alembic.action",
                         "big.django.action"), 0.020)),
        Target("server start → first diagnostics on the workspace", at_most("ws.start", 5.0)),
        Target("idle RSS of the server", memory_at_most("ws.idle_rss", 300 * MB)),
        Target("check the workspace, cold", at_most("cli.ws.cold", 10.0)),
        Target("check the workspace, warm", at_most("cli.ws.warm", 1.0)),
        Target("check SQL-only input vs squawk CLI", worst_versus_squawk("cli.sql", 3)),
    ]  # fmt: skip
