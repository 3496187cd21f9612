"""Summaries of repeated timings: median and p95 with the sample count they rest on."""

from __future__ import annotations

import math
from dataclasses import dataclass, field


def percentile(values: list[float], q: float) -> float:
    """The q-th percentile by linear interpolation between closest ranks (q in 0..100)."""
    if not values:
        return math.nan
    ordered = sorted(values)
    rank = (len(ordered) - 1) * q / 100
    low = math.floor(rank)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


@dataclass
class Sample:
    """Repeated measurements of one quantity, in seconds (or bytes for memory).

    `timeouts` counts runs that did not finish in time: a sample with timeouts has no
    trustworthy median, and the report says so instead of hiding it."""

    values: list[float] = field(default_factory=list)
    timeouts: int = 0
    note: str = ""

    def add(self, value: float) -> None:
        self.values.append(value)

    def extend(self, other: Sample) -> None:
        self.values.extend(other.values)
        self.timeouts += other.timeouts

    @property
    def n(self) -> int:
        return len(self.values)

    @property
    def ok(self) -> bool:
        return bool(self.values) and not self.timeouts

    @property
    def p50(self) -> float:
        """Of the runs that finished (check `ok` before trusting it)."""
        return percentile(self.values, 50)

    @property
    def p95(self) -> float:
        return percentile(self.values, 95)

    @property
    def max(self) -> float:
        return max(self.values) if self.values else math.nan

    def shifted(self, delta: float) -> Sample:
        """The same runs with `delta` added to each (e.g. the debounce taken off)."""
        return Sample([v + delta for v in self.values], self.timeouts, self.note)
