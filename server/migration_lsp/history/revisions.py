"""Which file declares which revision: Alembic `revision = "…"`, Django `<app>/<name>`.

Used to complete `down_revision` / `dependencies` and to jump from a revision id to its file.
Files are read with `ast` (never imported) and cached by modification time.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass
from pathlib import Path

from migration_lsp.project.detect import Project


@dataclass(frozen=True, slots=True)
class Revision:
    id: str
    """Alembic revision id, or Django `app_label.name`."""
    path: Path
    line: int
    """0-based line of the declaration (Alembic `revision = …`; 0 for Django)."""
    message: str = ""


_cache: dict[Path, tuple[float, Revision | None]] = {}


def _alembic_revision(path: Path) -> Revision | None:
    try:
        mtime = path.stat().st_mtime
        cached = _cache.get(path)
        if cached is not None and cached[0] == mtime:
            return cached[1]
        text = path.read_text(encoding="utf-8", errors="replace")
        tree = ast.parse(text)
    except (OSError, SyntaxError, ValueError, RecursionError):
        return None
    found = None
    message = ast.get_docstring(tree) or ""
    for node in tree.body:
        target = None
        if isinstance(node, ast.Assign) and len(node.targets) == 1:
            target = node.targets[0]
        elif isinstance(node, ast.AnnAssign):
            target = node.target
        value = node.value if isinstance(node, ast.Assign | ast.AnnAssign) else None
        if (
            isinstance(target, ast.Name)
            and target.id == "revision"
            and isinstance(value, ast.Constant)
            and isinstance(value.value, str)
        ):
            found = Revision(
                id=value.value,
                path=path,
                line=node.lineno - 1,
                message=message.splitlines()[0] if message else "",
            )
            break
    _cache[path] = (mtime, found)
    return found


def revisions(project: Project) -> list[Revision]:
    """Every revision the project's migration files declare."""
    found: list[Revision] = []
    for path in project.migration_files():
        if project.tool == "alembic":
            revision = _alembic_revision(path)
            if revision is not None:
                found.append(revision)
        elif project.tool == "django" and path.suffix == ".py":
            app = path.parent.parent.name
            found.append(Revision(id=f"{app}.{path.stem}", path=path, line=0))
    return found


def find(project: Project, revision_id: str, app: str | None = None) -> Revision | None:
    wanted = f"{app}.{revision_id}" if app else revision_id
    return next((r for r in revisions(project) if r.id == wanted), None)
