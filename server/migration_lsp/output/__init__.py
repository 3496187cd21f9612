"""Output formats of `migration-lsp check`: text, JSON, SARIF, GitHub annotations, GitLab.

`render()` is the one entry point; each format lives in its own module.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Protocol

from migration_lsp.findings import Finding
from migration_lsp.model import Severity

FORMATS = ("text", "json", "sarif", "github", "gitlab")


class RuleInfo(Protocol):
    """What SARIF needs to know about a rule (the rule registry's objects satisfy it)."""

    @property
    def id(self) -> str: ...

    @property
    def summary(self) -> str: ...

    @property
    def severity(self) -> Severity: ...


def render(
    findings: Sequence[Finding],
    fmt: str,
    *,
    cwd: Path,
    files_checked: int,
    rules: Mapping[str, RuleInfo] | None = None,
    color: bool = False,
    texts: Mapping[str, str] | None = None,
) -> str:
    """Render `findings` in format `fmt` (one of `FORMATS`).

    `cwd`: paths inside it are shown relative to it. `files_checked`: for the text summary.
    `rules`: rule id -> rule, for SARIF's rule metadata (all given rules are listed).
    `color`: ANSI colours in the text format. `texts`: path (as in `Finding.path`) -> file
    text, for SARIF's UTF-16 columns and the SARIF/GitLab fingerprints.
    """
    # Imported here so each format module can import this package's helpers freely.
    from migration_lsp.output import github, gitlab, json_format, sarif, text

    if fmt == "text":
        return text.render(findings, cwd=cwd, files_checked=files_checked, color=color)
    if fmt == "json":
        return json_format.render(findings, cwd=cwd)
    if fmt == "sarif":
        return sarif.render(findings, cwd=cwd, rules=rules, texts=texts)
    if fmt == "github":
        return github.render(findings, cwd=cwd)
    if fmt == "gitlab":
        return gitlab.render(findings, cwd=cwd, texts=texts)
    raise ValueError(f"unknown output format {fmt!r} (use {', '.join(FORMATS)})")


__all__ = ["FORMATS", "RuleInfo", "render"]
