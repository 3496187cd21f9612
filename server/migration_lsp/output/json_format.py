"""Machine-readable JSON: a list of findings with 1-based positions."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from migration_lsp.findings import Finding
from migration_lsp.output._common import sort_findings


def _position(position: tuple[int, int]) -> dict[str, int]:
    line, column = position
    return {"line": line + 1, "column": column + 1}


def to_dict(path: str, f: Finding) -> dict[str, Any]:
    return {
        "path": path,
        "rule": f.rule,
        "severity": f.severity.label,
        "message": f.message,
        "start": _position(f.start),
        "end": _position(f.end),
        "fix": None if f.fix is None else {"title": f.fix.title},
        "url": f.url,
    }


def render(findings: Sequence[Finding], *, cwd: Path) -> str:
    items = [to_dict(path, f) for path, f in sort_findings(findings, cwd)]
    return json.dumps(items, indent=2, ensure_ascii=False) + "\n"
