"""How much to measure (input sizes, repetitions, time budgets) and which programs to run."""

from __future__ import annotations

import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Plan:
    name: str
    statements: tuple[int, int] = (2000, 20000)
    """The small and the large SQL file; the targets compare the large one with the small."""
    workspace_files: int = 10000
    real: bool = True
    """Fetch and measure the migrations shipped in registry packages."""
    open_runs: int = 5
    edit_runs: int = 30
    action_runs: int = 20
    start_runs: int = 3
    cli_runs: int = 5
    series_budget: float = 12.0
    """Seconds one series of repetitions may take; it stops early (keeping what it has) past it."""
    timeout: float = 45.0
    """Seconds one request may take before the server is declared stuck (and stopped)."""
    cli_timeout: float = 150.0
    """Seconds one CLI process may take (the cold check of the workspace is the long one)."""
    real_budget: float = 40.0
    """Seconds for opening real migrations one after another."""

    @classmethod
    def full(cls) -> Plan:
        return cls("full")

    @classmethod
    def quick(cls) -> Plan:
        """The same inputs, a quarter of the repetitions: numbers to compare, not to publish."""
        return cls(
            "quick",
            open_runs=2,
            edit_runs=8,
            action_runs=6,
            start_runs=1,
            cli_runs=2,
            series_budget=4.0,
            timeout=30.0,
            cli_timeout=60.0,
            real_budget=10.0,
        )

    @classmethod
    def tiny(cls) -> Plan:
        """Small inputs and single repetitions: proves the harness runs end to end (tests)."""
        return cls(
            "tiny",
            statements=(16, 64),
            workspace_files=40,
            real=False,
            open_runs=1,
            edit_runs=2,
            action_runs=2,
            start_runs=1,
            cli_runs=1,
            series_budget=2.0,
            timeout=15.0,
            cli_timeout=60.0,
            real_budget=5.0,
        )


@dataclass(frozen=True)
class Programs:
    migration_lsp: list[str]
    squawk: str | None
    no_cache: bool
    """`migration-lsp check` accepts `--no-cache` (so it has an on-disk cache)."""
    debounce: float
    """The server's longest delay between a change and the push of its diagnostics (seconds)."""
    debounce_min: float
    """Its shortest (equal to `debounce` when the delay is fixed): an adaptive debounce waits
    about as long as the document's last analysis took, within these bounds."""

    @property
    def debounce_text(self) -> str:
        if self.debounce_min == self.debounce:
            return f"{self.debounce * 1000:.0f} ms debounce"
        return (
            f"adaptive debounce ({self.debounce_min * 1000:.0f}–{self.debounce * 1000:.0f} ms, "
            "as long as the last analysis took)"
        )

    @property
    def serve(self) -> list[str]:
        return [*self.migration_lsp, "serve"]


def _beside_python(name: str) -> str | None:
    """A console script of the running interpreter's environment, else one on PATH."""
    folder = Path(sys.executable).parent
    for candidate in (folder / name, folder / f"{name}.exe"):
        if candidate.is_file():
            return str(candidate)
    return shutil.which(name)


def find_programs() -> Programs:
    script = _beside_python("migration-lsp")
    command = [script] if script else [sys.executable, "-m", "migration_lsp"]
    help_text = subprocess.run(
        [*command, "check", "--help"], capture_output=True, text=True, check=False
    ).stdout
    from migration_lsp.lsp import server

    longest = float(server.DEBOUNCE_SECONDS)
    return Programs(
        migration_lsp=command,
        squawk=_beside_python("squawk"),
        no_cache="--no-cache" in help_text,
        debounce=longest,
        debounce_min=float(getattr(server, "MIN_DEBOUNCE_SECONDS", longest)),
    )
