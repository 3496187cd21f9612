"""Which guide to show: the configured one, the team's own in the workspace, or ours.

`find_guide` never raises: a configured path that is missing or unreadable falls back to the
workspace and then to the bundled guide, and the returned source string says so. Parsed guides
are cached by path, modification time and size, so asking again after every keystroke costs a
few `stat` calls.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from functools import lru_cache
from importlib import resources
from pathlib import Path

from migration_lsp.guide.parse import Guide, parse_guide, split_front_matter

BUNDLED = "bundled"
BUNDLED_RESOURCE = "migrations.md"

SKILL_FOLDERS: tuple[tuple[str, ...], ...] = (
    (".claude", "skills"),
    (".github", "skills"),
    ("skills",),
)
"""Folders (relative to a workspace root) searched for `SKILL.md` files, in this order."""
SKILL_FILE = "skill.md"
SKILL_MAX_DEPTH = 3
"""Folder levels searched below a skills folder (`skills/<name>/SKILL.md` is level 1)."""
DOC_FILES: tuple[tuple[str, ...], ...] = (
    ("docs", "migrations.md"),
    ("docs", "database-migrations.md"),
    ("migrations.md",),
)
"""Workspace guides that are not skills, in order (matched case-insensitively)."""
SKIP_DIRS = frozenset({"node_modules", ".git", ".venv", "venv", "__pycache__", ".tox"})
MAX_GUIDE_BYTES = 2_000_000

_MENTIONS_MIGRATIONS = re.compile(r"migrat", re.I)

_cache: dict[Path, tuple[int, int, Guide]] = {}


class GuideError(Exception):
    """A guide file that cannot be used (missing, unreadable, too large)."""


def load_guide(path: Path) -> Guide:
    """Parse the guide at `path`, reusing the last parse while the file is unchanged.

    Raises `GuideError` when the file cannot be read.
    """
    try:
        resolved = path.resolve()
        info = resolved.stat()
    except OSError as exc:
        raise GuideError(f"{path}: {exc.strerror or exc}") from None
    if not resolved.is_file():
        raise GuideError(f"{path}: not a file")
    if info.st_size > MAX_GUIDE_BYTES:
        raise GuideError(f"{path}: larger than {MAX_GUIDE_BYTES} bytes")
    cached = _cache.get(resolved)
    if cached is not None and cached[0] == info.st_mtime_ns and cached[1] == info.st_size:
        return cached[2]
    try:
        raw = resolved.read_bytes()
    except OSError as exc:
        raise GuideError(f"{path}: {exc.strerror or exc}") from None
    guide = parse_guide(raw.decode("utf-8", errors="replace"))
    _cache[resolved] = (info.st_mtime_ns, info.st_size, guide)
    return guide


@lru_cache(maxsize=1)
def bundled_guide() -> Guide:
    """The guide shipped with migration-lsp (`guide/migrations.md`)."""
    text = resources.files("migration_lsp.guide").joinpath(BUNDLED_RESOURCE).read_text("utf-8")
    return parse_guide(text)


def clear_cache() -> None:
    """Forget every parsed guide (for tests)."""
    _cache.clear()


# --------------------------------------------------------------------------- workspace search


def _children(folder: Path) -> list[os.DirEntry[str]]:
    try:
        with os.scandir(folder) as entries:
            return sorted(entries, key=lambda e: e.name)
    except OSError:
        return []


def _find_named(
    folder: Path, parts: tuple[str, ...], *, folder_wanted: bool = False
) -> Path | None:
    """`folder/parts...`, each part matched case-insensitively; the last one a file, or a
    folder when `folder_wanted`."""
    current = folder
    for i, part in enumerate(parts):
        last = i == len(parts) - 1 and not folder_wanted
        match = None
        for entry in _children(current):
            if entry.name.lower() != part.lower():
                continue
            try:
                ok = entry.is_file() if last else entry.is_dir()
            except OSError:
                ok = False
            if ok:
                match = Path(entry.path)
                break
        if match is None:
            return None
        current = match
    return current


def _skill_files(folder: Path, depth: int) -> Iterator[Path]:
    for entry in _children(folder):
        try:
            if entry.is_file() and entry.name.lower() == SKILL_FILE:
                yield Path(entry.path)
            elif depth > 0 and entry.is_dir(follow_symlinks=False) and entry.name not in SKIP_DIRS:
                yield from _skill_files(Path(entry.path), depth - 1)
        except OSError:
            continue


def _skill_relevance(path: Path) -> int:
    """2 when the skill's `name` mentions migrations, 1 for its `description`, else 0."""
    try:
        with path.open("rb") as handle:
            head = handle.read(16_384).decode("utf-8", errors="replace")
    except OSError:
        return 0
    front, _, _ = split_front_matter(head.removeprefix("\ufeff"))
    if _MENTIONS_MIGRATIONS.search(front.get("name", "")):
        return 2
    if _MENTIONS_MIGRATIONS.search(front.get("description", "")):
        return 1
    return 0


def workspace_guide_candidates(workspace_roots: list[Path]) -> list[Path]:
    """Guides found in the workspace, best first: migration skills, then docs files."""
    found: list[Path] = []
    for parts in SKILL_FOLDERS:
        for root in workspace_roots:
            folder = _find_named(root, parts, folder_wanted=True)
            if folder is None:
                continue
            scored = [(_skill_relevance(p), p) for p in _skill_files(folder, SKILL_MAX_DEPTH)]
            ranked = sorted(
                ((score, p) for score, p in scored if score > 0),
                key=lambda item: (-item[0], len(item[1].parts), str(item[1])),
            )
            found.extend(p for _, p in ranked)
    for parts in DOC_FILES:
        for root in workspace_roots:
            doc = _find_named(root, parts)
            if doc is not None:
                found.append(doc)
    return found


# --------------------------------------------------------------------------- the choice


def _configured_path(configured: Path | str, roots: list[Path]) -> Path:
    path = Path(os.path.expanduser(str(configured)))
    if not path.is_absolute() and roots:
        path = roots[0] / path
    if path.is_dir():
        inside = _find_named(path, ("SKILL.md",))
        if inside is not None:
            return inside
    return path


def find_guide(
    workspace_roots: list[Path], configured: Path | str | None = None
) -> tuple[Guide, str]:
    """The guide to show hovers from, and where it came from.

    Order: the `configured` path (relative paths resolve against the first workspace root; a
    folder means its `SKILL.md`), then a guide in the workspace (a `SKILL.md` about migrations
    under `.claude/skills/`, `.github/skills/` or `skills/`, then `docs/migrations.md`,
    `docs/database-migrations.md`, `MIGRATIONS.md`), then the bundled guide.

    The source string is `"config: <path>"`, `"workspace: <path>"` or `"bundled"`; when the
    configured guide could not be used it ends with `(configured guide <path> unusable: ...)`.
    """
    roots = [Path(r) for r in workspace_roots]
    note = ""
    if configured is not None and str(configured).strip():
        path = _configured_path(configured, roots)
        try:
            return load_guide(path), f"config: {path}"
        except GuideError as exc:
            reason = str(exc).removeprefix(f"{path}: ")
            note = f" (configured guide {path} unusable: {reason})"
    for candidate in workspace_guide_candidates(roots):
        try:
            guide = load_guide(candidate)
        except GuideError:
            continue
        return guide, f"workspace: {candidate}{note}"
    return bundled_guide(), f"{BUNDLED}{note}"
