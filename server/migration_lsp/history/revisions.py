"""Which file declares which revision, for completion and go-to-definition.

A view of the project's history graph (`history.graph`), so completion, navigation and the
history rules agree on what a revision is. Files are read, never imported.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from migration_lsp.history.graph import build_history
from migration_lsp.project.detect import Project


@dataclass(frozen=True, slots=True)
class Revision:
    id: str
    """Alembic revision id, or Django `app_label.name`."""
    path: Path
    line: int
    """0-based line of the declaration (Alembic `revision = …`; `class Migration` for Django)."""
    message: str = ""


def revisions(project: Project, buffers: Mapping[Path, str] | None = None) -> list[Revision]:
    """Every revision the project's migration files declare (Alembic and Django)."""
    if project.tool not in ("alembic", "flask-migrate", "django"):
        return []
    history = build_history(project, buffers)
    return [Revision(n.id, n.path, n.line, n.message) for n in history.nodes]


def find(project: Project, revision_id: str, app: str | None = None) -> Revision | None:
    wanted = f"{app}.{revision_id}" if app else revision_id
    return next((r for r in revisions(project) if r.id == wanted), None)
