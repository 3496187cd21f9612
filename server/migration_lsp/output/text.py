"""Human-readable output: `path:line:col: severity rule message`, then a summary."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from pathlib import Path

from migration_lsp.findings import Finding
from migration_lsp.model import Severity
from migration_lsp.output._common import sort_findings

RESET = "\x1b[0m"
BOLD = "\x1b[1m"
RULE_COLOR = "\x1b[35m"
SEVERITY_COLORS = {
    Severity.ERROR: "\x1b[1;31m",
    Severity.WARNING: "\x1b[1;33m",
    Severity.INFO: "\x1b[1;34m",
    Severity.HINT: "\x1b[1;36m",
}
# Summary words: (singular, plural), most serious first.
SEVERITY_WORDS = {
    Severity.ERROR: ("error", "errors"),
    Severity.WARNING: ("warning", "warnings"),
    Severity.INFO: ("info", "infos"),
    Severity.HINT: ("hint", "hints"),
}


def _paint(text: str, code: str, color: bool) -> str:
    return f"{code}{text}{RESET}" if color else text


def _count(n: int, singular: str, plural: str) -> str:
    return f"{n} {singular if n == 1 else plural}"


def render(
    findings: Sequence[Finding], *, cwd: Path, files_checked: int, color: bool = False
) -> str:
    lines: list[str] = []
    add = lines.append
    labels = {s: _paint(s.label, SEVERITY_COLORS[s], color) for s in SEVERITY_COLORS}
    for path, f in sort_findings(findings, cwd):
        line, column = f.start
        location = f"{path}:{line + 1}:{column + 1}:"
        rule = f.rule
        if color:
            location, rule = _paint(location, BOLD, color), _paint(rule, RULE_COLOR, color)
        add(f"{location} {labels[f.severity]} {rule} {f.message}")
        if f.fix is not None:
            add(f"  fix: {f.fix.title}")
    lines.append(summary(findings, files_checked))
    if len(lines) > 1:
        lines.insert(-1, "")
    return "\n".join(lines) + "\n"


def summary(findings: Sequence[Finding], files_checked: int) -> str:
    files = _count(files_checked, "file", "files")
    if not findings:
        return f"No problems found in {files}."
    by_severity = Counter(f.severity for f in findings)
    parts = [
        _count(by_severity[severity], *words)
        for severity, words in SEVERITY_WORDS.items()
        if by_severity[severity]
    ]
    with_findings = len({f.path for f in findings})
    problems = _count(len(findings), "problem", "problems")
    return f"Found {problems} ({', '.join(parts)}) in {with_findings} of {files}."
