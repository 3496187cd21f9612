"""What rules report: findings with their fixes, independent of LSP and CLI formats."""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from typing import Any

from migration_lsp.model import Severity
from migration_lsp.text import Span

DOCS_URL = "https://migration-lsp.github.io/migration-lsp/rules/{rule}/"


class Applicability(enum.Enum):
    """How much a fix can be trusted (ruff's model)."""

    SAFE = "safe"
    """Keeps the meaning; may be applied by "fix all"."""
    UNSAFE = "unsafe"
    """Changes behaviour or needs review; applied only on request."""
    DISPLAY = "display"
    """A suggestion shown to the user, never applied automatically."""


@dataclass(frozen=True, slots=True)
class Edit:
    span: Span
    new_text: str


@dataclass(frozen=True, slots=True)
class NewFile:
    """A file a fix creates (e.g. the next migration of a split), path relative to the fixed
    migration's folder or absolute."""

    path: str
    text: str


@dataclass(slots=True)
class Fix:
    title: str
    edits: list[Edit] = field(default_factory=list)
    applicability: Applicability = Applicability.SAFE
    files: list[NewFile] = field(default_factory=list)
    """Files the fix creates next to the edited one."""


UNLOCATED = (0, 0)
"""A finding's `start`/`end` until the engine locates it (compared by identity: a finding
located at line 0, column 0 holds another tuple)."""


@dataclass(slots=True)
class Finding:
    rule: str
    message: str
    span: Span
    severity: Severity
    fix: Fix | None = None
    path: str = ""
    start: tuple[int, int] = UNLOCATED
    """0-based (line, code-point column), filled in by the engine."""
    end: tuple[int, int] = UNLOCATED
    scope: Span | None = None
    """The whole operation the finding is about; ignore comments anywhere on it apply."""
    data: dict[str, Any] = field(default_factory=dict)
    """Facts the rule judged that its fix needs (the other heads of a multiple-heads finding)."""
    memo: tuple[object, bytes] | None = field(default=None, compare=False, repr=False)
    """An output's encoding of this finding, as `(owner, text)`: the language server keeps
    each diagnostic's JSON here. A copy moved over an edit that keeps its line, column and
    wording carries it (`relint`); the owner's token says which settings it was made with."""

    @property
    def url(self) -> str:
        return DOCS_URL.format(rule=self.rule)
