"""The Prisma schema of a project, read from disk once per file version (mtime)."""

from __future__ import annotations

import contextlib
import threading
from dataclasses import dataclass
from pathlib import Path

from migration_lsp.parse.prisma_schema import PrismaModel, PrismaSchema, parse_schema
from migration_lsp.project.detect import Project

_MAX_BYTES = 4 * 1024 * 1024


@dataclass(slots=True)
class SchemaFile:
    path: Path
    text: str
    schema: PrismaSchema


_cache: dict[Path, tuple[float, SchemaFile]] = {}
_lock = threading.Lock()


def _read(path: Path) -> SchemaFile | None:
    try:
        stat = path.stat()
        if stat.st_size > _MAX_BYTES:
            return None
        with _lock:
            hit = _cache.get(path)
            if hit is not None and hit[0] == stat.st_mtime:
                return hit[1]
        text = path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return None
    found = SchemaFile(path, text, parse_schema(text))
    with _lock:
        _cache[path] = (stat.st_mtime, found)
    return found


def schema_files(project: Project) -> list[SchemaFile]:
    """`schema.prisma`, and every `.prisma` file beside it in a multi-file `schema/` folder."""
    configured = project.settings.get("schema")
    if project.tool != "prisma" or not isinstance(configured, str):
        return []
    main = Path(configured)
    paths = [main]
    if main.parent.name == "schema":
        with contextlib.suppress(OSError):
            paths += sorted(p for p in main.parent.glob("*.prisma") if p != main)
    return [f for f in (_read(p) for p in paths) if f is not None]


def model_for_table(project: Project, table: str) -> tuple[SchemaFile, PrismaModel] | None:
    """The model (with its file) that Prisma stores in `table`."""
    for file in schema_files(project):
        found = file.schema.model_for_table(table)
        if found is not None:
            return file, found
    return None
