"""GitLab Code Quality report (a subset of the Code Climate issue format)."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from migration_lsp.findings import Finding
from migration_lsp.model import Severity
from migration_lsp.output._common import Occurrences, Texts, fingerprint, sort_findings

# GitLab's levels: info, minor, major, critical, blocker.
SEVERITIES = {
    Severity.ERROR: "critical",
    Severity.WARNING: "major",
    Severity.INFO: "minor",
    Severity.HINT: "info",
}


def render(
    findings: Sequence[Finding], *, cwd: Path, texts: Mapping[str, str] | None = None
) -> str:
    files = Texts(texts, cwd)
    occurrences = Occurrences()
    issues: list[dict[str, Any]] = []
    for path, f in sort_findings(findings, cwd):
        base = fingerprint(f.rule, path, files.line(f.path, f.start[0]), f.message)
        # GitLab needs every issue's fingerprint to be unique within the report.
        n = occurrences.next(base)
        digest = base if n == 1 else fingerprint(f.rule, path, f"{base}:{n}", f.message)
        issues.append(
            {
                "description": f.message,
                "check_name": f.rule,
                "fingerprint": digest,
                "severity": SEVERITIES[f.severity],
                "location": {
                    "path": path,
                    "lines": {"begin": f.start[0] + 1, "end": max(f.end[0], f.start[0]) + 1},
                },
            }
        )
    return json.dumps(issues, indent=2, ensure_ascii=False) + "\n"
