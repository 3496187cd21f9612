"""SARIF 2.1.0 for GitHub code scanning and other SARIF viewers."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from pathlib import Path, PurePath
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from migration_lsp import __version__
from migration_lsp.findings import DOCS_URL, Finding
from migration_lsp.model import Severity
from migration_lsp.output._common import Occurrences, Texts, fingerprint, sort_findings

if TYPE_CHECKING:
    from migration_lsp.output import RuleInfo

SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
INFORMATION_URI = "https://migration-lsp.github.io/migration-lsp/"
SRCROOT = "%SRCROOT%"
LEVELS = {
    Severity.ERROR: "error",
    Severity.WARNING: "warning",
    Severity.INFO: "note",
    Severity.HINT: "note",
}
FINGERPRINT_KEY = "primaryLocationLineHash"
"""The key GitHub uses to track an alert across commits."""


def _rule_name(rule_id: str) -> str:
    """`require-concurrent-index` -> `RequireConcurrentIndex` (SARIF's readable name)."""
    parts = rule_id.replace("_", "-").split("-")
    return "".join(part[:1].upper() + part[1:] for part in parts if part) or rule_id


def _descriptor(rule_id: str, summary: str, severity: Severity) -> dict[str, Any]:
    return {
        "id": rule_id,
        "name": _rule_name(rule_id),
        "shortDescription": {"text": summary},
        "helpUri": DOCS_URL.format(rule=rule_id),
        "defaultConfiguration": {"level": LEVELS[severity]},
    }


def _artifact_location(path: str, cwd: Path) -> dict[str, Any]:
    """A relative URI against %SRCROOT% for files inside `cwd`, else an absolute file URI."""
    pure = PurePath(path)
    if path and not pure.is_absolute() and ".." not in pure.parts:
        return {"uri": quote(pure.as_posix(), safe="/"), "uriBaseId": SRCROOT}
    absolute = Path(path) if pure.is_absolute() else cwd / path
    return {"uri": absolute.resolve().as_uri()}


def render(
    findings: Sequence[Finding],
    *,
    cwd: Path,
    rules: Mapping[str, RuleInfo] | None = None,
    texts: Mapping[str, str] | None = None,
) -> str:
    ordered = sort_findings(findings, cwd)
    descriptors: dict[str, dict[str, Any]] = {}
    for rule_id in sorted(rules or {}):
        info = (rules or {})[rule_id]
        descriptors[info.id] = _descriptor(info.id, info.summary, info.severity)
    for _, f in ordered:
        if f.rule not in descriptors:
            descriptors[f.rule] = _descriptor(f.rule, f.rule, f.severity)
    index = {rule_id: i for i, rule_id in enumerate(descriptors)}

    files = Texts(texts, cwd)
    occurrences = Occurrences()
    results: list[dict[str, Any]] = []
    for path, f in ordered:
        (line, column), (end_line, end_column) = f.start, f.end
        digest = fingerprint(f.rule, path, files.line(f.path, line), f.message)[:16]
        results.append(
            {
                "ruleId": f.rule,
                "ruleIndex": index[f.rule],
                "level": LEVELS[f.severity],
                "message": {"text": f.message},
                "locations": [
                    {
                        "physicalLocation": {
                            "artifactLocation": _artifact_location(path, cwd),
                            "region": {
                                "startLine": line + 1,
                                "startColumn": files.utf16_column(f.path, line, column) + 1,
                                "endLine": end_line + 1,
                                "endColumn": files.utf16_column(f.path, end_line, end_column) + 1,
                            },
                        }
                    }
                ],
                "partialFingerprints": {
                    FINGERPRINT_KEY: f"{digest}:{occurrences.next(digest)}",
                },
            }
        )

    run: dict[str, Any] = {
        "tool": {
            "driver": {
                "name": "migration-lsp",
                "informationUri": INFORMATION_URI,
                "version": __version__,
                "semanticVersion": __version__,
                "rules": list(descriptors.values()),
            }
        },
        "originalUriBaseIds": {SRCROOT: {"uri": cwd.resolve().as_uri().rstrip("/") + "/"}},
        "columnKind": "utf16CodeUnits",
        "results": results,
    }
    log = {"$schema": SCHEMA, "version": "2.1.0", "runs": [run]}
    return json.dumps(log, indent=2, ensure_ascii=False) + "\n"
