"""A project's migration history as a graph: who declares which id, and who points at whom.

Alembic and Django keep an explicit parent graph (`down_revision`, `dependencies`); the other
tools order migrations by a version in the file name (Flyway, Rails, golang-migrate, goose,
dbmate), so their history is a sorted list. Files are read, never imported: `ast` for Python,
the file name for the rest. Each file's node is cached by (path, mtime, size), or by text for
editor buffers, so rebuilding the graph after a keystroke reads only what changed.

This module states the structure (heads, roots, missing parents, cycles, duplicates); the
history rules decide which of it is a problem and say so.
"""

from __future__ import annotations

import ast
import re
import threading
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TypeVar

from migration_lsp.project.detect import Project
from migration_lsp.text import LineIndex, Span

T = TypeVar("T")

GRAPH_TOOLS = frozenset({"alembic", "flask-migrate", "django"})
VERSIONED_TOOLS = frozenset({"flyway", "rails", "golang-migrate", "goose", "dbmate"})
"""Tools that order migrations by a version number in the file name."""
NAME_ORDERED_TOOLS = frozenset({"knex", "sequelize", "typeorm", "laravel", "prisma", "sql"})
"""Tools that record and order migrations by their whole file (or folder) name."""


@dataclass(frozen=True, slots=True)
class Ref:
    """An id written in a file (a parent, a dependency), and where."""

    id: str
    span: Span


@dataclass(slots=True)
class Node:
    """One migration: the id it declares and the ids it points at."""

    id: str
    path: Path
    span: Span
    """Where the id is declared: `revision = "..."`'s string, `class Migration`, or the first
    line for tools whose id is the file name."""
    line: int
    parents: list[Ref] = field(default_factory=list)
    """Alembic `down_revision` entries; Django `dependencies` (as `app.name`)."""
    depends_on: list[Ref] = field(default_factory=list)
    """Alembic `depends_on`; Django `run_before` is turned into its target's dependency."""
    replaces: list[Ref] = field(default_factory=list)
    """Django squashed migrations this one replaces."""
    labels: tuple[str, ...] = ()
    """Alembic `branch_labels`."""
    message: str = ""
    app: str | None = None
    """Django app label; the graph is per app for heads."""
    direction: str = ""
    """Versioned tools with separate undo files: `undo` / `down`; "" otherwise."""


def _version_key(version: str) -> tuple[int, ...]:
    """Flyway-style numeric comparison: `1.01` == `1.1`, `2_1` == `2.1`, trailing zeros drop."""
    parts = [int(p) for p in re.split(r"[._]", version) if p.isdigit()]
    while len(parts) > 1 and parts[-1] == 0:
        parts.pop()
    return tuple(parts)


# --------------------------------------------------------------------------- reading files


def _string(node: ast.expr | None) -> str | None:
    return node.value if isinstance(node, ast.Constant) and isinstance(node.value, str) else None


class _PyReader:
    def __init__(self, text: str) -> None:
        self.text = text
        self.lines = LineIndex(text)

    def span(self, node: ast.expr | ast.stmt) -> Span:
        start = self.lines.offset_from_utf8(node.lineno - 1, node.col_offset)
        end_line = node.end_lineno or node.lineno
        end_col = node.end_col_offset or 0
        return Span(start, self.lines.offset_from_utf8(end_line - 1, end_col))

    def strings(self, node: ast.expr | None) -> list[Ref]:
        """A string, or a tuple/list of strings, as refs; None and other values: none."""
        if node is None:
            return []
        if isinstance(node, ast.Tuple | ast.List | ast.Set):
            return [r for item in node.elts for r in self.strings(item)]
        value = _string(node)
        return [Ref(value, self.span(node))] if value is not None else []


def _assignments(body: list[ast.stmt]) -> dict[str, tuple[ast.stmt, ast.expr]]:
    found: dict[str, tuple[ast.stmt, ast.expr]] = {}
    for statement in body:
        if isinstance(statement, ast.Assign) and len(statement.targets) == 1:
            target, value = statement.targets[0], statement.value
        elif isinstance(statement, ast.AnnAssign) and statement.value is not None:
            target, value = statement.target, statement.value
        else:
            continue
        if isinstance(target, ast.Name):
            found.setdefault(target.id, (statement, value))
    return found


def _parse_python(text: str) -> ast.Module | None:
    # imported here: a warm `check` reads the nodes from its cache and needs no parser (nor
    # sqlglot, which the Python parser's module loads)
    from migration_lsp.parse.python import parse_python

    try:
        return parse_python(text)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return None


def alembic_node(path: Path, text: str) -> Node | None:
    """`revision`, `down_revision`, `branch_labels`, `depends_on` and the message."""
    tree = _parse_python(text)
    if tree is None:
        return None
    reader = _PyReader(text)
    found = _assignments(tree.body)
    if "revision" not in found:
        return None
    statement, value = found["revision"]
    revision = _string(value)
    if revision is None:
        return None
    docstring = ast.get_docstring(tree) or ""
    node = Node(
        id=revision,
        path=path,
        span=reader.span(value),
        line=statement.lineno - 1,
        message=docstring.strip().splitlines()[0] if docstring.strip() else "",
    )
    if "down_revision" in found:
        node.parents = reader.strings(found["down_revision"][1])
    if "depends_on" in found:
        node.depends_on = reader.strings(found["depends_on"][1])
    if "branch_labels" in found:
        node.labels = tuple(r.id for r in reader.strings(found["branch_labels"][1]))
    return node


def django_node(path: Path, text: str) -> Node | None:
    """`class Migration`: `dependencies`, `replaces`, `run_before`, as `app.name` ids."""
    tree = _parse_python(text)
    if tree is None:
        return None
    reader = _PyReader(text)
    cls = next(
        (s for s in tree.body if isinstance(s, ast.ClassDef) and s.name == "Migration"), None
    )
    if cls is None:
        return None
    app = path.parent.parent.name
    start = reader.lines.offset_from_utf8(cls.lineno - 1, cls.col_offset)
    first_line = reader.lines.line_text(cls.lineno - 1)
    node = Node(
        id=f"{app}.{path.stem}",
        path=path,
        span=Span(start, start + len(first_line.strip())),
        line=cls.lineno - 1,
        app=app,
    )
    found = _assignments(cls.body)

    def pairs(name: str) -> list[Ref]:
        if name not in found:
            return []
        value = found[name][1]
        refs: list[Ref] = []
        for item in value.elts if isinstance(value, ast.List | ast.Tuple) else []:
            if isinstance(item, ast.Tuple) and len(item.elts) == 2:
                label, migration = _string(item.elts[0]), _string(item.elts[1])
                if label is not None and migration is not None:
                    refs.append(Ref(f"{label}.{migration}", reader.span(item)))
        return refs

    node.parents = pairs("dependencies")
    node.replaces = pairs("replaces")
    node.depends_on = pairs("run_before")
    return node


_FLYWAY = re.compile(r"^(?P<kind>[A-Za-z]+?)(?P<version>\d[\d._]*?)__")
_LEADING_NUMBER = re.compile(r"^(\d+)_")


def versioned_node(project: Project, path: Path, text: str) -> Node | None:
    """Tools whose version is the file name's prefix; R__ (repeatable) files have none."""
    name = path.name
    direction = ""
    if project.tool == "flyway":
        match = _FLYWAY.match(name)
        if match is None:
            return None
        kind = match.group("kind")
        undo = str(project.settings.get("undoSqlMigrationPrefix", "U"))
        direction = "undo" if kind == undo else ""
        version = ".".join(str(p) for p in _version_key(match.group("version")))
    else:
        match = _LEADING_NUMBER.match(name)
        if match is None:
            return None
        version = str(int(match.group(1)))
        if project.tool == "golang-migrate" and name.endswith(".down.sql"):
            direction = "down"
    first = text.split("\n", 1)[0].rstrip("\r")
    return Node(
        id=version,
        path=path,
        span=Span(0, len(first)),
        line=0,
        message=name,
        direction=direction,
    )


# --------------------------------------------------------------------------- the graph


@dataclass(slots=True)
class History:
    """Every migration node of one project, and the structure between them."""

    project: Project
    nodes: list[Node]
    texts: dict[Path, str] = field(default_factory=dict)
    """The editor buffers the nodes were read from, by path (the rest came from disk)."""
    by_id: dict[str, list[Node]] = field(default_factory=dict, init=False)

    def __post_init__(self) -> None:
        for node in self.nodes:
            self.by_id.setdefault(node.id, []).append(node)

    @property
    def is_graph(self) -> bool:
        return self.project.tool in GRAPH_TOOLS

    def nodes_in(self, path: Path | str) -> list[Node]:
        wanted = Path(path)
        return [n for n in self.nodes if n.path == wanted]

    def memo(self, key: object, compute: Callable[[], T]) -> T:
        """`compute()`, which derives something from the whole history: worked out each time
        here, once by a history that does not change while it is used (`SettledHistory`)."""
        return compute()

    def node(self, node_id: str) -> Node | None:
        found = self.by_id.get(node_id)
        return found[0] if found else None

    # ---------------------------------------------------------------- Django squashes

    def replaced(self) -> dict[str, str]:
        """Django: replaced migration id → the squash that replaces it (when both exist)."""
        out: dict[str, str] = {}
        for node in self.nodes:
            for ref in node.replaces:
                out[ref.id] = node.id
        return out

    def _resolve(self, node: Node, ref_id: str) -> str | None:
        """A parent id as the graph means it: Django `__first__`/`__latest__` and squashes."""
        if node.app is None:
            return ref_id
        app, _, name = ref_id.partition(".")
        if name == "__first__":
            roots = [n.id for n in self.nodes if n.app == app and not self._same_app_parents(n)]
            return roots[0] if roots else None
        if name == "__latest__":
            leaves = self.heads(app)
            return leaves[0].id if leaves else None
        return ref_id

    def _same_app_parents(self, node: Node) -> list[str]:
        return [r.id for r in node.parents if r.id.partition(".")[0] == node.app]

    def parents(self, node: Node) -> list[str]:
        """Ids of the nodes `node` comes right after: Alembic `down_revision`, Django
        `dependencies` (resolved; replaced migrations mapped to their squash). Alembic
        `depends_on` is a dependency, not a parent: it does not merge branches."""
        replaced = self.replaced()
        out: list[str] = []
        for ref in node.parents:
            target = self._resolve(node, ref.id)
            if target is None:
                continue
            target = replaced.get(target, target)
            if target != node.id and target not in out:
                out.append(target)
        return out

    def missing(self, node: Node) -> list[Ref]:
        """Parent and dependency refs of `node` that no file declares (Django refs into apps
        with no migration files in this project are outside it: not missing)."""
        apps = self._apps()
        out = []
        for ref in node.parents + node.depends_on:
            app, _, name = ref.id.partition(".")
            if node.app is not None and (app not in apps or name in ("__first__", "__latest__")):
                continue
            if ref.id not in self.by_id:
                out.append(ref)
        return out

    def _apps(self) -> set[str]:
        """The Django apps that have migration files in this project."""
        return {n.app for n in self.nodes if n.app is not None}

    def children(self, node_id: str) -> list[Node]:
        return [n for n in self.nodes if node_id in self.parents(n)]

    def heads(self, app: str | None = None) -> list[Node]:
        """Nodes no other node builds on (per Django app when `app` is given), in file order;
        migrations replaced by a squash that exists are left out."""
        if not self.is_graph:
            return []
        replaced = self.replaced()
        pointed: set[str] = set()
        for node in self.nodes:
            if node.id in replaced:
                continue
            pointed.update(self.parents(node))
            # Django run_before: the named migration comes after this one
            if node.app is not None and any(r.id in self.by_id for r in node.depends_on):
                pointed.add(node.id)
        out: list[Node] = []
        seen: set[str] = set()
        for node in self.nodes:
            if node.id in replaced or node.id in pointed or node.id in seen:
                continue
            if app is not None and node.app != app:
                continue
            seen.add(node.id)
            out.append(node)
        return out

    def labels_of(self, node_id: str) -> set[str]:
        """Alembic branch labels on `node_id` or any of its ancestors."""
        labels: set[str] = set()
        seen: set[str] = set()
        todo = [node_id]
        while todo:
            current = todo.pop()
            if current in seen:
                continue
            seen.add(current)
            found = self.node(current)
            if found is None:
                continue
            labels.update(found.labels)
            todo.extend(self.parents(found))
        return labels

    def roots_of(self, node_id: str) -> set[str]:
        """The base revisions `node_id` descends from (itself when it has no parent)."""
        roots: set[str] = set()
        seen: set[str] = set()
        todo = [node_id]
        while todo:
            current = todo.pop()
            if current in seen:
                continue
            seen.add(current)
            found = self.node(current)
            ups = self.parents(found) if found is not None else []
            ups = [u for u in ups if u in self.by_id]
            if not ups:
                roots.add(current)
            todo.extend(ups)
        return roots

    def cycles(self) -> list[list[str]]:
        """Each cycle of parent links once, as the ids along it."""
        if not self.is_graph:
            return []
        edges = {nid: self.parents(nodes[0]) for nid, nodes in self.by_id.items()}
        state: dict[str, int] = {}
        found: list[list[str]] = []
        for start in edges:
            if state.get(start):
                continue
            stack: list[tuple[str, int]] = [(start, 0)]
            path: list[str] = []
            while stack:
                nid, index = stack.pop()
                if index == 0:
                    state[nid] = 1
                    path.append(nid)
                targets = [t for t in edges.get(nid, []) if t in edges]
                if index < len(targets):
                    stack.append((nid, index + 1))
                    target = targets[index]
                    if state.get(target) == 1:
                        cycle = path[path.index(target) :]
                        if sorted(cycle) not in [sorted(c) for c in found]:
                            found.append(cycle)
                    elif not state.get(target):
                        stack.append((target, 0))
                else:
                    state[nid] = 2
                    path.pop()
        return found

    def duplicates(self) -> list[list[Node]]:
        """Groups of nodes declaring the same id (versioned tools: per direction)."""
        groups: dict[tuple[str, str], list[Node]] = {}
        for node in self.nodes:
            groups.setdefault((node.id, node.direction), []).append(node)
        return [group for group in groups.values() if len(group) > 1]

    def ordered(self) -> list[Node]:
        """Versioned tools: the nodes in the order the tool applies them."""
        if self.project.tool == "flyway":
            return sorted(self.nodes, key=lambda n: (_version_key(n.id), n.direction))
        if self.project.tool in VERSIONED_TOOLS:
            return sorted(self.nodes, key=lambda n: (int(n.id), n.path.name))
        if self.project.tool == "liquibase":  # by changelog file, then position in it
            return list(self.nodes)
        return sorted(self.nodes, key=lambda n: (n.id, str(n.path)))


# --------------------------------------------------------------------------- building


_cache: dict[tuple[Path, str], tuple[object, list[Node]]] = {}
_cache_lock = threading.Lock()


def liquibase_nodes(path: Path, text: str) -> list[Node]:
    """One node per changeSet, identified as Liquibase does within a file: `id::author`."""
    from migration_lsp.parse import parse_migration

    try:
        migration = parse_migration(str(path), text, "liquibase", None, {})
    except Exception:  # a changelog that cannot be read has no history to show
        return []
    if migration is None:
        return []
    return [
        Node(
            id="::".join(cs.identity),
            path=path,
            span=cs.span,
            line=migration.lines.position(cs.span.start)[0],
            message=cs.label,
            direction=str(path),  # the file is part of the identity: no cross-file duplicates
        )
        for cs in migration.changesets
        if cs.identity
    ]


def _nodes_for(project: Project, path: Path, text: str) -> list[Node]:
    found: Node | None = None
    if project.tool in ("alembic", "flask-migrate"):
        found = alembic_node(path, text)
    elif project.tool == "django":
        found = django_node(path, text)
    elif project.tool in VERSIONED_TOOLS:
        found = versioned_node(project, path, text)
    elif project.tool == "liquibase":
        return liquibase_nodes(path, text)
    elif project.tool in NAME_ORDERED_TOOLS:
        name = path.parent.name if project.tool == "prisma" else path.stem
        first = text.split("\n", 1)[0].rstrip("\r")
        found = Node(id=name, path=path, span=Span(0, len(first)), line=0, message=path.name)
    return [found] if found is not None else []


def build_history(project: Project, buffers: Mapping[Path, str] | None = None) -> History:
    """The project's history from its migration files on disk, with open editor buffers
    (`buffers`, by path) taking the place of the saved text."""
    buffers = buffers or {}
    nodes: list[Node] = []
    texts: dict[Path, str] = {}
    files: Iterable[Path] = project.migration_files()
    seen = set()
    for path in files:
        seen.add(path)
        nodes.extend(_one(project, path, buffers.get(path), texts))
    for path, text in buffers.items():  # new files not saved yet
        if path not in seen and project.is_migration_file(path):
            nodes.extend(_one(project, path, text, texts))
    return History(project, nodes, texts)


def _one(project: Project, path: Path, buffer: str | None, texts: dict[Path, str]) -> list[Node]:
    if buffer is not None:
        key: object = ("buffer", hash(buffer))
        with _cache_lock:
            hit = _cache.get((path, project.tool))
        if hit is not None and hit[0] == key:
            nodes = hit[1]
        else:
            nodes = _nodes_for(project, path, buffer)
            with _cache_lock:
                _cache[(path, project.tool)] = (key, nodes)
        texts[path] = buffer
        return nodes
    try:
        stat = path.stat()
    except OSError:
        return []
    key = (stat.st_mtime_ns, stat.st_size)
    with _cache_lock:
        hit = _cache.get((path, project.tool))
    if hit is not None and hit[0] == key:
        return hit[1]
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return []
    nodes = _nodes_for(project, path, text)
    with _cache_lock:
        _cache[(path, project.tool)] = (key, nodes)
    return nodes
