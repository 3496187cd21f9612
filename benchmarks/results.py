"""What a run measured: one row per measurement (with squawk's side by side where it has one),
plus facts about the inputs and notes on what could not be measured."""

from __future__ import annotations

from dataclasses import dataclass, field

from benchmarks.stats import Sample


@dataclass
class Row:
    group: str
    label: str
    sample: Sample
    unit: str = "time"
    """"time" (seconds) or "bytes"."""
    squawk: Sample | None = None
    """The same measurement of squawk, when it has one."""
    info: str = ""
    peak_rss: int | None = None
    """Bytes: the process's peak resident memory during the measurement."""


@dataclass
class Results:
    rows: dict[str, Row] = field(default_factory=dict)
    facts: dict[str, str] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)

    def add(self, key: str, row: Row) -> Row:
        self.rows[key] = row
        return row

    def get(self, key: str) -> Row | None:
        return self.rows.get(key)
