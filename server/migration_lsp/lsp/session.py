"""What the server knows about the workspace: projects, configuration, analysed documents.

Everything here is plain Python over the engine (no LSP types), so it is testable without a
client and shared by every feature handler.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from migration_lsp.engine import Analysis, Workspace, analyse_document, decode
from migration_lsp.findings import Finding, Fix
from migration_lsp.history.git import AppliedIndex
from migration_lsp.history.graph import History
from migration_lsp.lsp import snapshot
from migration_lsp.lsp.convert import EncodedJson
from migration_lsp.lsp.snapshot import DiskSnapshot, SnapshotIndex
from migration_lsp.model import Severity
from migration_lsp.project.config import Config, ConfigError
from migration_lsp.project.detect import Project, detect_projects
from migration_lsp.rules.registry import BY_ID, PARSE_ERROR
from migration_lsp.text import Span

log = logging.getLogger(__name__)

_SETTING_NAMES = {
    "checkDowngrade": "check-downgrade",
    "maxFileSize": "max-file-size",
    "extendSelect": "extend-select",
    "postgresVersion": "postgres-version",
    "defaultBranch": "default-branch",
}
_SERVER_ONLY = {"trace", "server", "interpreter", "enable"}
"""Client settings that configure the editor extension, not the rules."""


def normalise_settings(settings: Any) -> dict[str, Any]:
    """Editor settings (`migrationLsp.*`, camelCase) → configuration options (kebab-case)."""
    if not isinstance(settings, dict):
        return {}
    options: dict[str, Any] = {}
    for key, value in settings.items():
        if key in _SERVER_ONLY or value is None:
            continue
        options[_SETTING_NAMES.get(str(key), str(key))] = value
    return options


@dataclass(slots=True)
class Document:
    uri: str
    path: Path
    version: int | None
    text: str
    analysis: Analysis
    project: Project | None
    generation: int = 0
    config_error: str | None = None
    """A broken configuration file or setting that applies to this document (defaults used)."""
    history_key: object = None
    """The state of the project's history the analysis saw (see `Session.history_key`)."""
    rendered: tuple[str, EncodedJson] | None = None
    """(position encoding, diagnostics encoded as a JSON array): built once, sent on every
    request."""
    starts: tuple[list[int], int] | None = None
    """The findings' start offsets (they are in position order) and their longest span:
    the findings at a cursor are found by bisection, not by a walk over thousands."""
    fixes: dict[int, list[Fix]] = field(default_factory=dict)
    """Quick fixes built for a finding (by its index): editors ask for code actions at the
    cursor on every move, the fixes of a version do not change."""


class Session:
    """Projects per workspace folder, the configuration in force, and analysis results."""

    def __init__(self) -> None:
        self.folders: list[Path] = []
        self.projects: list[Project] = []
        self.settings: dict[str, Any] = {}
        self.workspace = Workspace()
        self.generation = 0
        """Bumped whenever configuration or detection changes: older analyses are stale."""
        self._documents: dict[str, Document] = {}
        self._lock = threading.Lock()
        self._histories: dict[tuple[str, Path], tuple[object, History, DiskSnapshot]] = {}
        self._snapshots: dict[tuple[str, Path], DiskSnapshot] = {}
        self._checked: dict[tuple[str, Path], History] = {}
        self._applied: dict[
            tuple[str, Path, str | None], tuple[int, float, SnapshotIndex | None]
        ] = {}
        self._signatures: dict[tuple[str, Path], frozenset[tuple[str, str, tuple[str, ...]]]] = {}

    # ------------------------------------------------------------------ workspace

    def set_folders(self, folders: list[Path]) -> None:
        self.folders = folders
        self.detect()

    def detect(self) -> list[Project]:
        projects: list[Project] = []
        for folder in self.folders:
            try:
                projects.extend(detect_projects(folder))
            except Exception:  # detection must never take the server down
                log.exception("detection failed in %s", folder)
        self.projects = projects
        self.reset_configuration()
        return projects

    def set_settings(self, settings: Any) -> None:
        self.settings = normalise_settings(settings)
        self.reset_configuration()

    def reset_configuration(self) -> None:
        root = self.folders[0] if self.folders else None
        with self._lock:
            self.workspace = Workspace(defaults=self.settings, root=root)
            self.generation += 1
            self._documents.clear()

    def config_for(self, path: Path) -> tuple[Config, str | None]:
        """The configuration of `path`, and the error that made it fall back to defaults."""
        try:
            return self.workspace.config_for(path), None
        except ConfigError as error:
            return Config(root=self.folders[0] if self.folders else None), str(error)

    def project_for(self, path: Path) -> Project | None:
        claiming = [p for p in self.projects if p.is_migration_file(path)]
        if not claiming:
            return None
        return max(claiming, key=lambda p: len(p.root.parts))

    def projects_json(self) -> list[dict[str, Any]]:
        result = []
        for project in self.projects:
            folder = next(
                (f for f in self.folders if f == project.root or f in project.root.parents),
                project.root,
            )
            result.append(
                {
                    "tool": project.tool,
                    "flavor": project.flavor,
                    "root": str(project.root),
                    "folder": str(folder),
                    "dialect": project.dialect,
                    "dialectSource": project.dialect_source,
                    "migrations": [str(d) for d in project.migration_dirs],
                }
            )
        return result

    # ------------------------------------------------------------------ documents

    def analyse(self, uri: str, path: Path, text: str, version: int | None) -> Document:
        """Analyse one document's text, reusing the result for an unchanged version."""
        with self._lock:
            cached = self._documents.get(uri)
            generation = self.generation
        if (
            cached is not None
            and cached.version == version
            and cached.text == text
            and cached.generation == generation
            and (
                cached.project is None
                or cached.history_key == self.history_key(cached.project, (path, text))
            )
        ):
            return cached
        project = self.project_for(path)
        error = None
        if project is None:
            analysis = Analysis(None, [])
        else:
            config, error = self.config_for(path)
            if config.is_excluded(path):
                analysis = Analysis(None, [])
            else:
                previous = cached.analysis if cached is not None else None
                analysis = self._analyse(path, text, project, config, previous)
        document = Document(uri, path, version, text, analysis, project, generation, error)
        if project is not None:
            document.history_key = self.history_key(project, (path, text))
        with self._lock:
            if generation == self.generation:  # configuration did not change meanwhile
                self._documents[uri] = document
        return document

    # ------------------------------------------------------------------ history

    def buffers(self, project: Project, current: tuple[Path, str] | None = None) -> dict[Path, str]:
        """The open editor texts of `project`'s migration files (`current`: the document
        being analysed, whose newest text is not cached yet)."""
        with self._lock:
            documents = list(self._documents.values())
        found = {d.path: d.text for d in documents if d.project is project}
        if current is not None:
            found[current[0]] = current[1]
        return found

    def history(self, project: Project, current: tuple[Path, str] | None = None) -> History:
        """The project's revision graph, open buffers taking the place of the saved files;
        rebuilt when a buffer or the workspace (a watched-file event) changes, from a
        snapshot of the files on disk (see `snapshot`)."""
        buffers = self.buffers(project, current)
        signature = self._signature(buffers)
        key = (project.tool, project.root)
        with self._lock:
            cached = self._histories.get(key)
            disk = self._snapshots.get(key)
        if cached is not None and cached[0] == signature and disk is cached[2]:
            return cached[1]
        if disk is None or not disk.fresh(self.generation):
            disk = DiskSnapshot.read(project, self.generation, buffers)
        history = disk.history(buffers)
        with self._lock:
            self._histories[key] = (signature, history, disk)
            self._snapshots[key] = disk
        return history

    def applied(self, project: Project, config: Config) -> AppliedIndex | None:
        """What the default branch has applied: asked of git at most once a second (a
        commit or a branch switch shows within that), the deleted files worked out once."""
        key = (project.tool, project.root, config.default_branch)
        now = time.monotonic()
        with self._lock:
            hit = self._applied.get(key)
        if (
            hit is not None
            and hit[0] == self.generation
            and now - hit[1] < snapshot.APPLIED_RECHECK_SECONDS
        ):
            return hit[2]
        index = self.workspace.applied(project, config)
        if hit is not None and hit[2] is not None and index is hit[2].inner:
            wrapped: SnapshotIndex | None = hit[2]  # same answer: keep what it worked out
        else:
            wrapped = SnapshotIndex(index) if index is not None else None
        with self._lock:
            self._applied[key] = (self.generation, now, wrapped)
        return wrapped

    def _signature(self, buffers: dict[Path, str]) -> object:
        return (self.generation, frozenset((p, hash(t)) for p, t in buffers.items()))

    def history_key(self, project: Project, current: tuple[Path, str] | None = None) -> object:
        """Changes whenever the project's history may have: another open migration of the
        project was edited, or files changed on disk (a watched-file event)."""
        return self._signature(self.buffers(project, current))

    def history_changed(self, document: Document) -> bool:
        """Whether the project's graph (ids, parents) changed since the last check: then the
        other open files of the project need their diagnostics again (a second head, a
        merge, a fixed parent)."""
        project = document.project
        if project is None:
            return False
        history = self.history(project)
        key = (project.tool, project.root)
        with self._lock:
            seen = self._checked.get(key)
        if seen is history:  # the graph object is kept while the ids stay the same
            return False
        signature = frozenset(
            (str(n.path), n.id, tuple(r.id for r in n.parents + n.depends_on))
            for n in history.nodes
        )
        with self._lock:
            previous = self._signatures.get(key)
            self._signatures[key] = signature
            self._checked[key] = history
        return previous is not None and previous != signature

    def open_documents(self, project: Project) -> list[Document]:
        with self._lock:
            return [d for d in self._documents.values() if d.project is project]

    def _analyse(
        self, path: Path, text: str, project: Project, config: Config, previous: Analysis | None
    ) -> Analysis:
        settings = None
        if project.tool == "django":
            dialect = config.dialect or project.dialect
            settings = {"django_state": self.workspace.django_state(path, dialect)}
        try:
            history = self.history(project, (path, text))
            applied = self.applied(project, config)
            return analyse_document(
                str(path),
                text,
                project,
                config,
                settings=settings,
                history=history,
                applied=applied,
                edited=previous,
            )
        except Exception as error:  # the engine must never take the server down
            log.exception("internal error analysing %s", path)
            finding = Finding(
                rule=PARSE_ERROR,
                message=f"migration-lsp internal error ({type(error).__name__}); see the log",
                span=Span(0, 0),
                severity=Severity.INFO,
                path=str(path),
            )
            return Analysis(None, [finding])

    def cached(self, uri: str) -> Document | None:
        with self._lock:
            return self._documents.get(uri)

    def forget(self, uri: str) -> None:
        """A closed document: its file counts with its saved text again (read afresh)."""
        with self._lock:
            document = self._documents.pop(uri, None)
            if document is not None and document.project is not None:
                project = document.project
                self._snapshots.pop((project.tool, project.root), None)

    def analyse_file(self, path: Path) -> Analysis | None:
        """A file on disk that is not open in the editor."""
        project = self.project_for(path)
        if project is None:
            return None
        try:
            text, problem = decode(path.read_bytes())
        except OSError:
            return None
        config, _ = self.config_for(path)
        return analyse_document(str(path), text, project, config, problem=problem)


def rule_doc(rule_id: str) -> str | None:
    rule = BY_ID.get(rule_id)
    return None if rule is None else f"**{rule.id}**: {rule.summary}.\n\n{rule.doc}"
