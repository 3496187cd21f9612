"""GitHub Actions workflow commands (`::error file=...::message`) that become annotations."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from migration_lsp.findings import Finding
from migration_lsp.model import Severity
from migration_lsp.output._common import sort_findings

COMMANDS = {
    Severity.ERROR: "error",
    Severity.WARNING: "warning",
    Severity.INFO: "notice",
    Severity.HINT: "notice",
}


def escape_data(value: str) -> str:
    """Escape a command's message (the part after `::`)."""
    return value.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def escape_property(value: str) -> str:
    """Escape a command property's value (`file=...`, `title=...`)."""
    return escape_data(value).replace(":", "%3A").replace(",", "%2C")


def command(path: str, f: Finding) -> str:
    (line, column), (end_line, end_column) = f.start, f.end
    properties = [("file", path), ("line", str(line + 1))]
    # GitHub accepts columns only for annotations on a single line.
    if end_line == line:
        properties.append(("col", str(column + 1)))
    properties.append(("endLine", str(end_line + 1)))
    if end_line == line:
        properties.append(("endColumn", str(end_column + 1)))
    properties.append(("title", f.rule))
    props = ",".join(f"{key}={escape_property(value)}" for key, value in properties)
    return f"::{COMMANDS[f.severity]} {props}::{escape_data(f.message)}"


def render(findings: Sequence[Finding], *, cwd: Path) -> str:
    return "".join(command(path, f) + "\n" for path, f in sort_findings(findings, cwd))
