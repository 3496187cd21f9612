"""What the disk and git say, read once and reused while the user types.

Every analysis gives the rules the project's revision graph and the default branch's applied
migrations. Rebuilding them per keystroke listed the migration folders, stat-ed every file and
asked git for every deleted file: on a project of a thousand migrations that cost more than
the analysis of the edited file. Here the files on disk are read when something may have
changed them (a migration folder's mtime moved, a watched-file event, a document was closed,
or, checked when `DISK_RECHECK_SECONDS` went by, a file's modification time or size); the
open buffers are laid over that snapshot each time.
"""

from __future__ import annotations

import dataclasses
import os
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from migration_lsp.engine import SettledHistory
from migration_lsp.history.git import AppliedChange, AppliedIndex
from migration_lsp.history.graph import History, Node, build_history
from migration_lsp.project.detect import Project

DISK_RECHECK_SECONDS = 2.0
"""The longest a snapshot of the files on disk is trusted without looking (for changes no
watched-file event reports: a file saved by another program, a `git checkout`)."""
APPLIED_RECHECK_SECONDS = 1.0
"""The longest git's answer (HEAD, the default branch, deleted files) is trusted."""


@dataclass(slots=True, eq=False)
class ListedProject(Project):
    """A project whose migration files are the ones listed at the last disk check."""

    listed: list[Path] = field(default_factory=list)

    def migration_files(self) -> list[Path]:
        return list(self.listed)


def listed(project: Project, files: list[Path]) -> ListedProject:
    values = {f.name: getattr(project, f.name) for f in dataclasses.fields(Project)}
    return ListedProject(**values, listed=files)


def _file_stamps(files: list[Path]) -> list[tuple[int, int]]:
    """(modification time, size) of each file; (-1, -1) for one that is gone."""
    stamps = []
    for path in files:
        try:
            info = os.stat(path)
            stamps.append((info.st_mtime_ns, info.st_size))
        except OSError:
            stamps.append((-1, -1))
    return stamps


def _folder_stamps(project: Project) -> tuple[tuple[Path, int], ...]:
    stamps = []
    for folder in project.migration_dirs:
        try:
            stamps.append((folder, os.stat(folder).st_mtime_ns))
        except OSError:
            stamps.append((folder, -1))
    return tuple(stamps)


@dataclass(slots=True)
class DiskSnapshot:
    """One project's migration files and their history nodes, as read from disk."""

    token: object
    """The session state it was read in (its generation): another one means read again."""
    project: ListedProject
    stamps: tuple[tuple[Path, int], ...]
    taken: float
    nodes: dict[Path, list[Node]]
    files: list[tuple[int, int]] = field(default_factory=list)
    """`_file_stamps` of the listed files when they were read."""
    last: tuple[dict[Path, list[Node]], History] | None = None
    """The nodes the buffers declared in the last graph, and that graph."""

    @classmethod
    def read(
        cls, project: Project, token: object, buffers: Mapping[Path, str] | None = None
    ) -> DiskSnapshot:
        """List and read the project's files (unchanged ones come from the per-file cache of
        `history.graph`). The open `buffers` are read instead of their saved files: their
        disk nodes are not used while they are open (and `Session.forget` drops the snapshot
        when one is closed), and reading the disk text would only evict the buffer's nodes
        from that cache."""
        stamps = _folder_stamps(project)
        files = project.migration_files()
        file_stamps = _file_stamps(files)
        snapshot = listed(project, files)
        nodes: dict[Path, list[Node]] = {}
        for node in build_history(snapshot, buffers).nodes:
            nodes.setdefault(node.path, []).append(node)
        return cls(token, snapshot, stamps, time.monotonic(), nodes, file_stamps)

    def fresh(self, token: object) -> bool:
        """Still right: same session state, no file added to or removed from a migration
        folder since (a stat per folder) and, once `DISK_RECHECK_SECONDS` went by, no file
        changed on disk (a stat per file: reading and listing them again on a keystroke
        took a hundred milliseconds in a project of a thousand migrations)."""
        if self.token != token or _folder_stamps(self.project) != self.stamps:
            return False
        if time.monotonic() - self.taken < DISK_RECHECK_SECONDS:
            return True
        if _file_stamps(self.project.listed) != self.files:
            return False
        self.taken = time.monotonic()
        return True

    def history(self, buffers: Mapping[Path, str]) -> History:
        """The graph with the open buffers in place of the saved files: what
        `build_history(project, buffers)` returns, reading only the buffers.

        An edit that leaves the buffers' ids and parents as they were (nearly every
        keystroke) gets the previous graph back, with everything it worked out: only its
        buffer texts are brought up to date."""
        project = self.project
        on_disk = set(project.listed)
        declared = {
            path: buffer_nodes(project, path, text)
            for path, text in buffers.items()
            if path in on_disk or project.is_migration_file(path)
        }
        texts = {path: buffers[path] for path in declared}
        last = self.last
        if last is not None and last[0] == declared:
            last[1].texts.update(texts)
            return last[1]
        nodes: list[Node] = []
        for path in project.listed:
            found = declared.get(path)
            nodes.extend(self.nodes.get(path, ()) if found is None else found)
        for path, found in declared.items():  # new files not saved yet
            if path not in on_disk:
                nodes.extend(found)
        history = SettledHistory(project, nodes, texts)
        self.last = (declared, history)
        return history


def buffer_nodes(project: Project, path: Path, text: str) -> list[Node]:
    """The nodes one editor buffer declares (cached by text in `history.graph`)."""
    return build_history(listed(project, [path]), {path: text}).nodes


class SnapshotIndex(AppliedIndex):
    """An `AppliedIndex` whose answer about deleted files is worked out once (it checks
    every file the default branch has in the folder); edits are still compared each time."""

    __slots__ = ("_deleted", "inner")

    def __init__(self, inner: AppliedIndex) -> None:
        super().__init__(inner.root, inner.base, inner.base_ref)
        self.inner = inner
        self._deleted: dict[tuple[Path, ...], list[AppliedChange]] = {}

    def changes(
        self, files: Iterable[Path], texts: Mapping[Path, str] | None = None
    ) -> list[AppliedChange]:
        return self.inner.changes(files, texts)

    def deleted(
        self, directories: Iterable[Path], is_migration: Callable[[Path], bool]
    ) -> list[AppliedChange]:
        key = tuple(directories)
        found = self._deleted.get(key)
        if found is None:
            found = self._deleted[key] = self.inner.deleted(key, is_migration)
        return list(found)

    def is_applied(self, path: Path) -> bool:
        return self.inner.is_applied(path)

    def __repr__(self) -> str:
        return repr(self.inner)
