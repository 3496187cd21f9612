"""Tool and dialect detection from workspace markers. Reads files only; never imports them.

`detect_projects(folder)` walks the folder once (`markers.Workspace`), then asks one detector per
tool family which migration projects the index holds. Each `Project` has its own root, so a
monorepo gives several. Dialects come from the tool's configuration (`dialect.py` reads the
values), else from what the first migrations use, else stay None.
"""

from __future__ import annotations

import logging
import os
import re
import stat
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

from migration_lsp.project import dialect as dl
from migration_lsp.project.markers import (
    SKIP_DIRS,
    Workspace,
    as_bool,
    flatten,
    ini_get,
    js_pairs,
    js_path_value,
    load_json,
    load_toml,
    load_yaml,
    load_yaml_docs,
    parse_env,
    parse_ini,
    parse_properties,
    read_head,
    read_text,
    strip_erb,
)

log = logging.getLogger(__name__)

TOOLS: tuple[str, ...] = (
    "alembic",
    "django",
    "prisma",
    "typeorm",
    "knex",
    "sequelize",
    "rails",
    "laravel",
    "flyway",
    "liquibase",
    "golang-migrate",
    "dbmate",
    "goose",
    "sql",
)

INFERRED = "inferred from migrations"

# ------------------------------------------------------------------------ file name patterns

_DJANGO_FILE = re.compile(r"^\d{4}_\w+\.py$")
_RAILS_FILE = re.compile(r"^\d+_\w+\.rb$")
_GOLANG_FILE = re.compile(r"^\d+_.+\.(?:up|down)\.sql$", re.I)
_NUMBERED_SQL = re.compile(r"^\d+(?:[_\-.].*)?\.sql$", re.I)
_TYPEORM_FILE = re.compile(r"^\d{13}-.+\.(?:ts|js|mjs|cjs|mts|cts)$")
_GOOSE_GO_FILE = re.compile(r"^\d+_\w+\.go$")
_JS_EXTS = (".js", ".ts", ".cjs", ".mjs", ".cts", ".mts")
_DECL_EXTS = (".d.ts", ".d.mts", ".d.cts")
_LIQUIBASE_EXTS = (".xml", ".yaml", ".yml", ".json", ".sql")
_LIQUIBASE_MASTER = re.compile(r"^(?:db\.)?changelog[-_.]master\.(?:xml|ya?ml|json)$", re.I)
_LIQUIBASE_LOOSE = re.compile(
    r"^(?:db[.-])?change[-_]?log(?:[-_.](?:root|main))?\.(?:xml|ya?ml|json)$", re.I
)
_TYPEORM_CONFIG = re.compile(
    r"^(?:.*[-_.])?(?:data-?source|typeorm(?:[-_.]config)?|orm[-_.]?config|database|db)"
    r"(?:[-_.]config)?\.(?:ts|js|mjs|cjs|mts|cts)$",
    re.I,
)
_PY_PROJECT_MARKERS = (
    "pyproject.toml",
    "setup.py",
    "setup.cfg",
    "requirements.txt",
    "tox.ini",
    "Pipfile",
)
_SQL_DIR_NAMES = frozenset({"sql", "db", "schema", "database", "ddl"})
# Folder names between a migrations folder and the project it belongs to.
_ROOT_STRIP = frozenset(
    {
        "db",
        "database",
        "databases",
        "sql",
        "src",
        "main",
        "resources",
        "migrations",
        "migration",
        "changelog",
        "changelogs",
        "schema",
    }
)


def _is_js_migration_name(name: str) -> bool:
    return name.endswith(_JS_EXTS) and not name.endswith(_DECL_EXTS)


def _flyway_patterns(settings: dict[str, Any]) -> tuple[re.Pattern[str], ...]:
    prefix = re.escape(str(settings.get("sqlMigrationPrefix", "V")))
    undo = re.escape(str(settings.get("undoSqlMigrationPrefix", "U")))
    repeat = re.escape(str(settings.get("repeatableSqlMigrationPrefix", "R")))
    sep = re.escape(str(settings.get("sqlMigrationSeparator", "__")))
    return (
        re.compile(rf"^(?:{prefix}|{undo})\d[\d._]*?{sep}.+\.sql$"),
        re.compile(rf"^{repeat}{sep}.+\.sql$"),
    )


_FLYWAY_DEFAULT = _flyway_patterns({})


def flyway_name_ok(name: str, settings: dict[str, Any]) -> bool:
    """Whether Flyway picks up `name` as a migration, under the project's naming settings."""
    return _is_flyway_name(name, _flyway_patterns(settings))


def _is_flyway_name(name: str, patterns: Sequence[re.Pattern[str]] = _FLYWAY_DEFAULT) -> bool:
    return any(p.match(name) for p in patterns)


# ------------------------------------------------------------------------------ Project


@dataclass(slots=True)
class Project:
    """One migration project: a tool, its root folder and the folders its migrations live in.

    `settings` holds tool-specific facts later code needs; keys are only present when the
    project's configuration states them (absent means "the tool's default"):

    - every tool: `config_files` (list[str], absolute paths of the files that decided the
      result: markers, config, the file the dialect came from);
    - alembic: `script_location`, `transaction_per_migration`, `transactional_ddl`,
      `render_as_batch` (bool, from `context.configure(...)` in env.py),
      `recursive_version_locations` (bool);
    - django: `settings_module` (str), `apps` (sorted app labels owning migrations);
    - prisma: `schema` (path), `provider` (raw provider string);
    - knex: `knexfile`; sequelize: `sequelize_config`; typeorm: `data_source`, `recursive`;
    - laravel: `connection` (raw `DB_CONNECTION`); rails: `adapter` (raw adapter name);
    - flyway: `executeInTransaction`, `mixed` (bool), `locations` (raw list),
      `sqlMigrationPrefix`, `sqlMigrationSeparator`, `repeatableSqlMigrationPrefix`,
      `undoSqlMigrationPrefix`;
    - liquibase: `changelog_file` (path of the master changelog);
    - sql/sqitch: `engine` (raw sqitch engine), `plan_file`.
    """

    tool: str
    root: Path
    dialect: str | None = None
    dialect_source: str | None = None
    migration_dirs: list[Path] = field(default_factory=list)
    flavor: str | None = None
    settings: dict[str, Any] = field(default_factory=dict)

    def migration_files(self) -> list[Path]:
        """The project's migration files, sorted (by path)."""
        return _sorted_paths(_migration_files(self))

    def misnamed_files(self) -> list[Path]:
        """SQL files in the migration folders of a tool that picks its migrations by name
        (Flyway, golang-migrate) whose name it will not accept: the tool skips them silently,
        so they are checked too and `invalid-migration-filename` says why."""
        if self.tool not in ("flyway", "golang-migrate"):
            return []
        found: set[Path] = set()
        for d in self.migration_dirs:
            for f in _scan(d, self.tool == "flyway", self.root):
                if f.name.lower().endswith(".sql") and not self.is_migration_file(f):
                    found.add(f)
        return _sorted_paths(found)

    def is_migration_file(self, path: Path) -> bool:
        """Whether `path` (which need not exist yet) is one of this project's migrations,
        judged by location and name only."""
        return _is_migration_file(self, Path(os.path.abspath(path)))

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready view (paths as strings)."""
        return {
            "tool": self.tool,
            "flavor": self.flavor,
            "root": str(self.root),
            "dialect": self.dialect,
            "dialect_source": self.dialect_source,
            "migration_dirs": [str(d) for d in self.migration_dirs],
            "settings": {
                k: (str(v) if isinstance(v, Path) else v) for k, v in self.settings.items()
            },
        }


def _sorted_paths(paths: Iterable[Path]) -> list[Path]:
    """`sorted(set(paths))`; on POSIX by their parts, which is how paths compare there, in
    one key each rather than a Python comparison per pair."""
    unique = set(paths)
    if os.name == "posix":
        return sorted(unique, key=lambda p: p.parts)
    return sorted(unique)


def _scan(directory: Path, recursive: bool = False, root: Path | None = None) -> list[Path]:
    """Files of a folder (recursively: skipping hidden and ignored folders). Never raises.

    A symbolic link is followed only to a place inside `root` (the project): what lies
    outside is never read, whatever a cloned repository links to (`~/.ssh`, `/proc`)."""
    out: list[Path] = []
    inside = os.path.realpath(root) if root is not None else None
    stack = [directory]
    seen: set[str] = set()
    while stack:
        current = stack.pop()
        try:
            real = os.path.realpath(current)
        except (OSError, ValueError):
            continue
        if real in seen:
            continue
        seen.add(real)
        try:
            with os.scandir(current) as it:
                entries = list(it)
        except OSError:
            continue
        for entry in entries:
            try:
                linked = inside is not None and entry.is_symlink()
                if linked and not _within_real(os.path.realpath(entry.path), str(inside)):
                    continue
                if entry.is_dir():
                    if recursive and entry.name not in SKIP_DIRS and not entry.name.startswith("."):
                        stack.append(Path(entry.path))
                elif entry.is_file():
                    out.append(Path(entry.path))
            except OSError:
                continue
    return out


def _has_class_migration(path: Path) -> bool:
    return "class Migration(" in read_head(path, 8192)


def _migration_files(p: Project) -> list[Path]:
    tool = p.tool
    out: list[Path] = []
    if tool == "prisma":
        for d in p.migration_dirs:
            try:
                with os.scandir(d) as it:
                    subs = [(Path(e.path), e.is_symlink()) for e in it if e.is_dir()]
            except OSError:
                continue
            inside = _inside_project(p, d)
            out.extend(
                s / "migration.sql"
                for s, linked in subs
                if _prisma_script(p, s / "migration.sql", inside and not linked)
            )
        return out
    if tool == "liquibase":
        master = p.settings.get("changelog_file")
        if isinstance(master, str) and os.path.isfile(master) and _inside_project(p, master):
            out.append(Path(master))
        for d in p.migration_dirs:
            out.extend(
                f for f in _scan(d, True, p.root) if f.name.lower().endswith(_LIQUIBASE_EXTS)
            )
        return out
    recursive = tool == "flyway" or (
        tool == "alembic" and bool(p.settings.get("recursive_version_locations"))
    )
    recursive = recursive or p.flavor == "sqitch" or bool(p.settings.get("recursive"))
    patterns = _flyway_patterns(p.settings) if tool == "flyway" else _FLYWAY_DEFAULT
    for d in p.migration_dirs:
        for f in _scan(d, recursive, p.root):
            name = f.name
            if tool == "django":
                is_py = name.endswith(".py") and name != "__init__.py"
                if is_py and (name[0].isdigit() or _has_class_migration(f)):
                    out.append(f)
            elif _name_matches(p, name, patterns):
                out.append(f)
    return out


def _prisma_script(p: Project, path: Path, folder_inside: bool) -> bool:
    """Whether `path` is a file inside the project. In a folder known to be inside, a regular
    file that is not a link is (one `lstat`, where resolving the path looks at every folder
    above it)."""
    try:
        mode = os.lstat(path).st_mode
    except OSError:
        return False
    if folder_inside and stat.S_ISREG(mode):
        return True
    return path.is_file() and _inside_project(p, path)


def _within_real(real: str, folder_real: str) -> bool:
    return real == folder_real or real.startswith(folder_real.rstrip(os.sep) + os.sep)


def _inside_project(p: Project, path: str | Path) -> bool:
    """Whether `path`, links resolved, lies inside the project's folder."""
    try:
        return _within_real(os.path.realpath(path), os.path.realpath(p.root))
    except (OSError, ValueError):
        return False


def _name_matches(p: Project, name: str, patterns: Sequence[re.Pattern[str]]) -> bool:
    tool = p.tool
    low = name.lower()
    if tool == "alembic":
        return name.endswith(".py") and name != "__init__.py"
    if tool == "django":
        return name.endswith(".py") and name[:1].isdigit()
    if tool == "flyway":
        return _is_flyway_name(name, patterns)
    if tool == "golang-migrate":
        return low.endswith((".up.sql", ".down.sql"))
    if tool in {"dbmate", "goose", "sql"}:
        return low.endswith(".sql")
    if tool == "rails":
        return name.endswith(".rb")
    if tool == "laravel":
        return name.endswith(".php")
    if tool in {"knex", "typeorm", "sequelize"}:
        return _is_js_migration_name(name)
    if tool == "prisma":
        return name == "migration.sql"
    if tool == "liquibase":
        return low.endswith(_LIQUIBASE_EXTS)
    return False


def _is_migration_file(p: Project, path: Path) -> bool:
    name = path.name
    parent = path.parent
    if p.tool == "django":
        # Django's loader imports every module of a migrations package except `_*`/`~*`
        if parent.name != "migrations" or not name.endswith(".py") or name[:1] in {"_", "~"}:
            return False
        return parent in p.migration_dirs or p.root == parent or p.root in parent.parents
    if p.tool == "prisma":
        return name == "migration.sql" and parent.parent in p.migration_dirs
    if p.tool == "liquibase":
        master = p.settings.get("changelog_file")
        if isinstance(master, str) and Path(master) == path:
            return True
        recursive = True
    else:
        recursive = (
            p.tool == "flyway"
            or p.flavor == "sqitch"
            or bool(p.settings.get("recursive"))
            or (p.tool == "alembic" and bool(p.settings.get("recursive_version_locations")))
        )
    if recursive:
        inside = any(d == parent or d in parent.parents for d in p.migration_dirs)
    else:
        inside = parent in p.migration_dirs
    if not inside:
        return False
    patterns = _flyway_patterns(p.settings) if p.tool == "flyway" else _FLYWAY_DEFAULT
    return _name_matches(p, name, patterns)


# ------------------------------------------------------------------------------ detection


def detect_projects(path: Path) -> list[Project]:
    """Every migration project under `path`, sorted by (root, tool)."""
    base = Path(os.path.abspath(path))
    try:
        if base.is_file():
            base = base.parent
        if not base.is_dir():
            return []
    except OSError:
        return []
    workspace = Workspace(base)
    return _Detector(workspace).run()


_ROOT_MARKERS = (
    "alembic.ini",
    "manage.py",
    "knexfile.js",
    "knexfile.ts",
    ".sequelizerc",
    "artisan",
    "Gemfile",
    "flyway.conf",
    "flyway.toml",
    "liquibase.properties",
    "pom.xml",
    "build.gradle",
    "build.gradle.kts",
    "package.json",
    "go.mod",
    "pyproject.toml",
    "sqitch.plan",
    "composer.json",
)


def detect_for_file(path: Path, workspace: Path | None = None) -> Project | None:
    """The project a single migration file belongs to, or None.

    With a workspace, the workspace is detected and the project that claims the file is
    returned. Without one, the search starts from the nearest enclosing repository (a folder
    with `.git`) or, failing that, the highest enclosing folder with a project marker.
    """
    target = Path(os.path.abspath(path))
    if workspace is not None:
        ws = Path(os.path.abspath(workspace))
        if ws == target or ws in target.parents:
            return _pick(detect_projects(ws), target)
    top = _search_top(target)
    return _pick(detect_projects(top), target)


def detect_enclosing(folder: Path) -> list[Project]:
    """Projects owning migrations under `folder` when the folder itself holds no markers (the
    CLI pointed at `alembic/versions` or `db/migrate`): detected from the enclosing repository
    or marker folder, keeping those whose migration folders overlap `folder`."""
    target = Path(os.path.abspath(folder))
    top = _search_top(target / "_")
    return [
        p
        for p in detect_projects(top)
        if any(d == target or target in d.parents or d in target.parents for d in p.migration_dirs)
    ]


def _search_top(target: Path) -> Path:
    home = Path(os.path.expanduser("~"))
    ancestors: list[Path] = []
    for anc in list(target.parents)[:10]:
        if anc == home or anc == Path(anc.anchor):
            break
        ancestors.append(anc)
    if not ancestors:
        return target.parent
    for anc in ancestors:
        if (anc / ".git").exists():
            return anc
    top: Path | None = None
    for anc in ancestors:
        if any((anc / m).exists() for m in _ROOT_MARKERS) or (anc / "prisma").is_dir():
            top = anc
    if top is not None:
        return top
    # no marker anywhere: the folder above the migrations folder (and above `db/`, `src/` …)
    index = 1
    while index + 1 < len(ancestors) and ancestors[index].name.lower() in _ROOT_STRIP:
        index += 1
    return ancestors[min(index, len(ancestors) - 1)]


def _pick(projects: list[Project], target: Path) -> Project | None:
    claiming = [p for p in projects if p.is_migration_file(target)]
    if not claiming:
        claiming = [
            p
            for p in projects
            if any(d == target.parent or d in target.parents for d in p.migration_dirs)
        ]
    if not claiming:
        return None
    return max(claiming, key=lambda p: len(p.root.parts))


def _rel(path: Path, root: Path) -> str:
    try:
        return path.relative_to(root).as_posix()
    except ValueError:
        return str(path)


def _norm(path: Path) -> Path:
    return Path(os.path.normpath(path))


@dataclass(slots=True)
class _Hit:
    dialect: str
    source: str
    file: Path | None = None


class _Detector:
    def __init__(self, ws: Workspace) -> None:
        self.ws = ws
        self.projects: dict[tuple[Path, str], Project] = {}
        self.claimed: set[Path] = set()
        self.claimed_trees: list[Path] = []

    # ------------------------------------------------------------------ helpers

    def run(self) -> list[Project]:
        steps: list[Callable[[], None]] = [
            self._alembic,
            self._django,
            self._prisma,
            self._rails,
            self._laravel,
            self._flyway,
            self._liquibase,
            self._sqitch,
            self._supabase,
            self._js_tools,
            self._sql_folders,
        ]
        for step in steps:
            try:
                step()
            except Exception:  # one tool's bug must not hide the others
                log.exception("migration project detection step %s failed", step.__name__)
        for project in self.projects.values():
            project.migration_dirs.sort()
            if project.dialect is None:
                self._safe(self._infer, project)
        return sorted(self.projects.values(), key=lambda p: (p.root, p.tool))

    def _safe(self, func: Callable[[Project], None], project: Project) -> None:
        try:
            func(project)
        except Exception:
            log.debug("dialect detection failed for %s", project.root, exc_info=True)

    def _in_workspace(self, path: Path) -> bool:
        """Whether `path`, links resolved, lies inside the folder being detected."""
        try:
            return _within_real(os.path.realpath(path), os.path.realpath(self.ws.root))
        except (OSError, ValueError):
            return False

    def _clamp(self, root: Path) -> Path:
        return root if self.ws.contains(root) else self.ws.root

    def add(
        self,
        tool: str,
        root: Path,
        dirs: Iterable[Path],
        *,
        flavor: str | None = None,
        config_files: Iterable[Path] = (),
        tree: bool = False,
    ) -> Project:
        root = self._clamp(_norm(root))
        key = (root, tool)
        project = self.projects.get(key)
        if project is None:
            project = Project(tool=tool, root=root, flavor=flavor)
            project.settings["config_files"] = []
            self.projects[key] = project
        elif project.flavor is None and flavor is not None:
            project.flavor = flavor
        for d in dirs:
            d = _norm(d)
            if not self._in_workspace(d):
                continue  # a configured folder outside the workspace is never scanned
            if d not in project.migration_dirs:
                project.migration_dirs.append(d)
            self.claimed.add(d)
            if tree:
                self.claimed_trees.append(d)
        for f in config_files:
            self.note(project, f)
        return project

    @staticmethod
    def note(project: Project, path: Path | None) -> None:
        if path is None:
            return
        files: list[str] = project.settings.setdefault("config_files", [])
        text = str(path)
        if text not in files:
            files.append(text)

    def set_dialect(self, project: Project, hit: _Hit | None) -> bool:
        if hit is None or project.dialect is not None:
            return project.dialect is not None
        project.dialect = hit.dialect
        project.dialect_source = hit.source
        self.note(project, hit.file)
        return True

    def is_claimed(self, path: Path) -> bool:
        if path in self.claimed:
            return True
        return any(t in path.parents for t in self.claimed_trees)

    def file_in(self, directory: Path, name: str) -> Path | None:
        return directory / name if self.ws.has_file(directory, name) else None

    def ancestors(self, start: Path, levels: int) -> list[Path]:
        """`start` and up to `levels` parents, never leaving the workspace."""
        out: list[Path] = []
        current = start
        for _ in range(levels + 1):
            if not self.ws.contains(current):
                break
            out.append(current)
            if current == self.ws.root:
                break
            current = current.parent
        return out

    def nearest_with(self, start: Path, names: Sequence[str], levels: int = 4) -> Path | None:
        for anc in self.ancestors(start, levels):
            if any(self.ws.has_file(anc, n) for n in names):
                return anc
        return None

    def guess_root(self, directory: Path) -> Path:
        """The project folder of a migrations folder: its parent, skipping `db`, `src` … ."""
        root = directory.parent if directory != self.ws.root else directory
        while root.name.lower() in _ROOT_STRIP and root != self.ws.root and self.ws.contains(root):
            root = root.parent
        return self._clamp(root)

    def env_file(self, root: Path, *names: str) -> _Hit | None:
        """First of `names` in `.env` (then `.env.example`) at root that names a dialect."""
        for env_name in (".env", ".env.example", ".env.sample"):
            path = self.file_in(root, env_name)
            if path is None:
                continue
            values = parse_env(read_text(path))
            for key in names:
                value = values.get(key)
                if not value:
                    continue
                found = dl.from_url(value) if "://" in value or ":" in value else None
                if found is None:
                    found = dl.normalize(value)
                if found is not None:
                    return _Hit(found, f"{env_name} {key}", path)
        return None

    # ------------------------------------------------------------------ alembic

    def _alembic(self) -> None:
        covered: set[Path] = set()
        for ini in self.ws.find_named("alembic.ini"):
            parser = parse_ini(read_text(ini), here=ini.parent)
            if parser is None:
                continue
            sections = [s for s in parser.sections() if parser.has_option(s, "script_location")]
            sections.sort(key=lambda s: s != "alembic")
            for section in sections:
                location = ini_get(parser, section, "script_location")
                script = self._script_dir(location, ini.parent) if location else None
                if script is None:
                    continue
                dirs = self._version_dirs(parser, section, script, ini.parent)
                project = self.add("alembic", ini.parent, dirs, config_files=[ini])
                project.settings.setdefault("script_location", str(script))
                recursive = as_bool(ini_get(parser, section, "recursive_version_locations"))
                if recursive is not None:
                    project.settings.setdefault("recursive_version_locations", recursive)
                template = ini_get(parser, section, "file_template")
                if template:
                    project.settings.setdefault("file_template", template)
                url = ini_get(parser, section, "sqlalchemy.url")
                hit = dl.from_url(url) if url else None
                if hit is not None:
                    self.set_dialect(project, _Hit(hit, "alembic.ini sqlalchemy.url", ini))
                covered.add(script)
                self._alembic_common(project, script)
        for pyproject in self.ws.find_named("pyproject.toml"):
            text = read_text(pyproject)
            if "[tool.alembic]" not in text:
                continue
            conf = _dict(_dict(load_toml(text)).get("tool")).get("alembic")
            conf = _dict(conf)
            location = conf.get("script_location")
            if not isinstance(location, str):
                continue
            script = self._script_dir(location, pyproject.parent)
            if script is None or script in covered:
                continue
            versions = conf.get("version_locations")
            if isinstance(versions, list) and versions:
                dirs = [
                    _norm(pyproject.parent / str(v).replace("%(here)s", str(pyproject.parent)))
                    for v in versions
                ]
            else:
                dirs = [script / "versions"]
            project = self.add("alembic", pyproject.parent, dirs, config_files=[pyproject])
            project.settings.setdefault("script_location", str(script))
            covered.add(script)
            self._alembic_common(project, script)
        for info in list(self.ws.iter_dirs()):
            if "env.py" not in info.file_set:
                continue
            if "versions" not in info.subdirs and "script.py.mako" not in info.file_set:
                continue
            script = info.path
            if script in covered or not self._looks_alembic(script):
                continue
            root = script.parent if script != self.ws.root else script
            local_ini = self.file_in(script, "alembic.ini") or self.file_in(root, "alembic.ini")
            project = self.add(
                "alembic",
                root,
                [script / "versions"],
                config_files=[local_ini] if local_ini else [],
            )
            project.settings.setdefault("script_location", str(script))
            if local_ini is not None:
                local = parse_ini(read_text(local_ini), here=local_ini.parent)
                url = ini_get(local, "alembic", "sqlalchemy.url") if local else None
                hit = dl.from_url(url) if url else None
                if hit is not None:
                    self.set_dialect(project, _Hit(hit, "alembic.ini sqlalchemy.url", local_ini))
            covered.add(script)
            self._alembic_common(project, script)

    def _script_dir(self, location: str, base: Path) -> Path | None:
        location = location.strip()
        if not location:
            return None
        windows_drive = re.match(r"^[A-Za-z]:[\\/]", location)
        if ":" in location and not os.path.isabs(location) and not windows_drive:
            package, _, sub = location.partition(":")  # "myapp:migrations" package resource
            rel = Path(*package.split("."), sub) if sub else Path(*package.split("."))
            for candidate in (base / rel, base / "src" / rel):
                if self.ws.has_dir(_norm(candidate)):
                    return _norm(candidate)
            return _norm(base / rel)
        return _norm(base / location)

    def _version_dirs(self, parser: Any, section: str, script: Path, base: Path) -> list[Path]:
        raw = ini_get(parser, section, "version_locations")
        if not raw or not raw.strip():
            return [script / "versions"]
        sep = ini_get(parser, section, "path_separator") or ini_get(
            parser, section, "version_path_separator"
        )
        seps = {
            "os": os.pathsep,
            ":": ":",
            ";": ";",
            "space": " ",
            "newline": "\n",
        }
        if sep and sep.strip() in seps:
            parts = raw.split(seps[sep.strip()])
        else:
            parts = re.split(r"[,\s]+", raw)
        dirs: list[Path] = []
        for part in parts:
            part = part.strip()
            if not part:
                continue
            if ":" in part and not os.path.isabs(part):
                resolved = self._script_dir(part, base)
                if resolved is not None:
                    dirs.append(resolved)
            else:
                dirs.append(_norm(base / part))
        return dirs or [script / "versions"]

    def _looks_alembic(self, script: Path) -> bool:
        versions = script / "versions"
        pys = [f for f in self.ws.files(versions) if f.endswith(".py") and f != "__init__.py"]
        for name in pys[:3]:
            head = self.ws.head(versions / name)
            if re.search(r"^down_revision\b[^=\n]*=", head, re.M) and re.search(
                r"^revision\b[^=\n]*=", head, re.M
            ):
                return True
        if not pys:
            env = self.ws.head(script / "env.py")
            return "alembic" in env and "context" in env
        return False

    def _alembic_common(self, project: Project, script: Path) -> None:
        env_py = script / "env.py"
        env_dialect: str | None = None
        if self.ws.has_file(script, "env.py"):
            text = read_text(env_py)
            try:
                configured, env_dialect = dl.alembic_env_settings(text)
            except Exception:
                configured, env_dialect = {}, None
            for key, value in configured.items():
                project.settings.setdefault(key, value)
            if configured:
                self.note(project, env_py)
            if "extensions['migrate']" in text or 'extensions["migrate"]' in text:
                project.flavor = "flask-migrate"
        if project.flavor is None:
            evidence = self._flask_migrate_evidence(project.root)
            if evidence is not None:
                project.flavor = "flask-migrate"
                self.note(project, evidence)
        if project.flavor == "flask-migrate":
            self._safe(self._flask_dialect, project)
        if env_dialect is not None:
            self.set_dialect(project, _Hit(env_dialect, "env.py database URL", env_py))
        self.set_dialect(
            project, self.env_file(project.root, "SQLALCHEMY_DATABASE_URI", "DATABASE_URL")
        )

    def _flask_migrate_evidence(self, root: Path) -> Path | None:
        """A dependency file listing Flask-Migrate (at the root or one folder up), or an app
        module importing it."""
        pattern = re.compile(r"flask[-_]migrate", re.I)
        for anc in self.ancestors(root, 1):
            names = [
                n
                for n in self.ws.files(anc)
                if (n.startswith("requirements") and n.endswith((".txt", ".in")))
                or n in {"pyproject.toml", "Pipfile", "setup.py", "setup.cfg", "environment.yml"}
            ]
            req_dir = anc / "requirements"
            names.extend(f"requirements/{n}" for n in self.ws.files(req_dir) if n.endswith(".txt"))
            for name in names:
                if pattern.search(read_text(anc / name, 256 * 1024)):
                    return anc / name
        # the app imports it (look at top-level modules and packages only)
        checked = 0
        info = self.ws.info(root)
        for folder in [root, *(root / d for d in (info.subdirs if info else []))]:
            for name in self.ws.files(folder):
                if not name.endswith(".py") or checked >= 40:
                    continue
                checked += 1
                head = self.ws.head(folder / name, 8192)
                if re.search(r"^\s*(?:from|import)\s+flask_migrate\b", head, re.M):
                    return folder / name
        return None

    def _flask_dialect(self, project: Project) -> None:
        root = project.root
        info = self.ws.info(root)
        folders = [root, *(root / d for d in (info.subdirs if info else []))]
        folders.append(root / "instance")
        candidates: list[Path] = []
        for folder in folders:
            for name in ("config.py", "settings.py", "app.py", "__init__.py", "extensions.py"):
                if self.ws.has_file(folder, name):
                    candidates.append(folder / name)
        fallback: _Hit | None = None
        for path in candidates:
            found, uses_env = dl.flask_database_uri(read_text(path))
            if found is None and not uses_env:
                continue
            source = f"{_rel(path, root)} SQLALCHEMY_DATABASE_URI"
            if found is not None and not uses_env:
                self.set_dialect(project, _Hit(found, source, path))
                return
            if found is not None and fallback is None:
                fallback = _Hit(found, source, path)
        for env_name in (".env", ".flaskenv"):
            env_path = self.file_in(root, env_name)
            if env_path is None:
                continue
            values = parse_env(read_text(env_path))
            for key in ("SQLALCHEMY_DATABASE_URI", "DATABASE_URL"):
                found_env = dl.from_url(values.get(key, ""))
                if found_env is not None:
                    self.set_dialect(project, _Hit(found_env, f"{env_name} {key}", env_path))
                    return
        self.set_dialect(project, fallback)

    # ------------------------------------------------------------------ django

    def _django(self) -> None:
        roots: list[Path] = []
        for manage in self.ws.find_named("manage.py"):
            head = self.ws.head(manage, 8192)
            if "django" in head.lower() or "DJANGO_SETTINGS_MODULE" in head:
                roots.append(manage.parent)
        mig_dirs: list[Path] = []
        for info in self.ws.iter_dirs():
            if info.path.name != "migrations":
                continue
            numbered = [f for f in info.files if _DJANGO_FILE.match(f)]
            if any(_has_class_migration(info.path / f) for f in numbered[:2]):
                mig_dirs.append(info.path)
        by_root: dict[Path, list[Path]] = {r: [] for r in roots}
        orphans: list[Path] = []
        for d in mig_dirs:
            owners = [r for r in roots if r in d.parents]
            if owners:
                by_root[max(owners, key=lambda r: len(r.parts))].append(d)
            else:
                orphans.append(d)
        # Apps without a manage.py (a reusable app, a settings-less checkout): group them under
        # the nearest enclosing Python project folder, else the folder holding the app.
        groups: dict[Path, list[Path]] = {}
        for d in orphans:
            app = d.parent
            owner = self.nearest_with(app.parent, _PY_PROJECT_MARKERS, levels=3)
            groups.setdefault(owner or app.parent, []).append(d)
        for root, dirs in groups.items():
            by_root.setdefault(self._clamp(root), []).extend(dirs)
        for root, dirs in by_root.items():
            manage_py = self.file_in(root, "manage.py") if root in roots else None
            project = self.add("django", root, dirs, config_files=[manage_py] if manage_py else [])
            project.settings["apps"] = sorted({d.parent.name for d in project.migration_dirs})
            self._safe(partial(self._django_dialect, manage=manage_py), project)

    def _django_dialect(self, project: Project, *, manage: Path | None) -> None:
        root = project.root
        bases = [root, root / "src", root.parent]
        settings_file: Path | None = None
        if manage is not None:
            module = dl.settings_module_from_manage(read_text(manage))
            if module:
                project.settings["settings_module"] = module
                settings_file = dl.module_file(module, bases)
        candidates: list[Path] = [settings_file] if settings_file else []
        if settings_file is None:
            for info in self.ws.iter_dirs():
                if not (info.path == root or root in info.path.parents):
                    continue
                if len(info.path.parts) - len(root.parts) > 3:
                    continue
                if "settings.py" in info.file_set:
                    candidates.append(info.path / "settings.py")
                if info.path.name == "settings" and "__init__.py" in info.file_set:
                    candidates.append(info.path / "__init__.py")
            candidates.sort(key=lambda p: len(p.parts))
        for candidate in candidates[:5]:
            result, _uses_env, parsed = dl.django_dialect(candidate, bases)
            if any("lock_timeout" in read_text(p) for p in parsed):
                project.settings["lock_timeout"] = True  # e.g. OPTIONS '-c lock_timeout=5s'
            if result is not None:
                self.note(project, candidate)
                source = f"{_rel(result.file, root)} {result.detail}"
                self.set_dialect(project, _Hit(result.dialect, source, result.file))
                return
        # settings that read the URL from the environment (dj-database-url, django-environ)
        self.set_dialect(project, self.env_file(root, "DATABASE_URL"))

    # ------------------------------------------------------------------ prisma

    def _prisma(self) -> None:
        seen: set[Path] = set()
        for schema in self.ws.find_named("schema.prisma"):
            folder = schema.parent
            if folder.name == "schema" and folder.parent.name == "prisma":
                folder = folder.parent  # multi-file schema folder
            root = folder.parent if folder.name == "prisma" else folder
            migrations = folder / "migrations"
            if migrations in seen:
                continue
            seen.add(migrations)
            project = self.add("prisma", root, [migrations], config_files=[schema], tree=True)
            project.settings.setdefault("schema", str(schema))
            self._safe(partial(self._prisma_dialect, schema=schema, migrations=migrations), project)
        for lock in self.ws.find_named("migration_lock.toml"):
            migrations = lock.parent
            if migrations in seen:
                continue
            seen.add(migrations)
            folder = migrations.parent
            root = folder.parent if folder.name == "prisma" else folder
            other_schema = next(
                (folder / n for n in self.ws.files(folder) if n.endswith(".prisma")), None
            )
            project = self.add("prisma", root, [migrations], config_files=[lock], tree=True)
            self._safe(
                partial(self._prisma_dialect, schema=other_schema, migrations=migrations), project
            )

    def _prisma_dialect(self, project: Project, *, schema: Path | None, migrations: Path) -> None:
        if schema is not None:
            from migration_lsp.parse.prisma_schema import parse_schema

            provider = parse_schema(read_text(schema)).provider
            if provider:
                project.settings.setdefault("provider", provider)
                found = dl.normalize(provider)
                if found is not None:
                    source = f"{_rel(schema, project.root)} datasource provider"
                    self.set_dialect(project, _Hit(found, source, schema))
                    return
        lock = migrations / "migration_lock.toml"
        if self.ws.has_file(migrations, "migration_lock.toml"):
            data = load_toml(read_text(lock)) or {}
            provider = data.get("provider")
            if isinstance(provider, str):
                project.settings.setdefault("provider", provider)
                found = dl.normalize(provider)
                if found is not None:
                    source = f"{_rel(lock, project.root)} provider"
                    self.set_dialect(project, _Hit(found, source, lock))

    # ------------------------------------------------------------------ rails

    def _rails(self) -> None:
        roots: dict[Path, list[Path]] = {}
        for info in self.ws.iter_dirs():
            path = info.path
            is_migrate = path.name == "migrate" or path.name.endswith("_migrate")
            if (
                path.parent.name == "db"
                and is_migrate
                and any(_RAILS_FILE.match(f) for f in info.files)
            ):
                roots.setdefault(path.parent.parent, []).append(path)
        for gemfile in self.ws.find_named("Gemfile"):
            text = read_text(gemfile, 256 * 1024)
            if re.search(r"""^\s*gem\s+['"](?:rails|activerecord)['"]""", text, re.M):
                root = gemfile.parent
                has_config = self.ws.has_file(root / "config", "database.yml")
                if self.ws.has_dir(root / "db") or has_config:
                    dirs = roots.setdefault(root, [])
                    if root / "db" / "migrate" not in dirs:
                        dirs.append(root / "db" / "migrate")
        for root, dirs in roots.items():
            root_gemfile = self.file_in(root, "Gemfile")
            project = self.add(
                "rails", root, dirs, config_files=[root_gemfile] if root_gemfile else []
            )
            self._safe(self._rails_config, project)

    def _rails_config(self, project: Project) -> None:
        path = project.root / "config" / "database.yml"
        if not self.ws.has_file(path.parent, "database.yml"):
            return
        text = strip_erb(read_text(path))
        data = load_yaml(text)
        entries: list[dict[str, Any]] = []
        if isinstance(data, dict):
            envs = [k for k in ("development", "default", "production") if k in data]
            envs += [k for k in data if k not in envs]
            for env in envs:
                value = data.get(env)
                if not isinstance(value, dict):
                    continue
                if "adapter" in value or "url" in value:
                    entries.append(value)
                else:  # multi-database: development: {primary: {...}, animals: {...}}
                    entries.extend(v for v in value.values() if isinstance(v, dict))
        adapter: str | None = None
        for entry in entries:
            paths = entry.get("migrations_paths")
            extras = [paths] if isinstance(paths, str) else paths if isinstance(paths, list) else []
            for extra in extras:
                extra_dir = _norm(project.root / str(extra))
                if extra_dir not in project.migration_dirs:
                    project.migration_dirs.append(extra_dir)
                    self.claimed.add(extra_dir)
            if adapter is None:
                raw = entry.get("adapter")
                if isinstance(raw, str) and raw:
                    adapter = raw
                elif isinstance(entry.get("url"), str):
                    adapter = str(entry["url"])
        if self._rails_lock_timeout(project.root, entries):
            project.settings["lock_timeout"] = True
        if adapter is None:
            match = re.search(r"^\s*adapter:\s*['\"]?([\w-]+)", text, re.M)
            adapter = match.group(1) if match else None
        if adapter is None:
            return
        found = dl.from_url(adapter) if "://" in adapter else dl.normalize(adapter)
        project.settings.setdefault("adapter", adapter)
        if found is not None:
            self.set_dialect(project, _Hit(found, "config/database.yml adapter", path))

    def _rails_lock_timeout(self, root: Path, entries: list[dict[str, Any]]) -> bool:
        """Rails sets `lock_timeout` for every migration from database.yml `variables:` or
        strong_migrations' initializer (`StrongMigrations.lock_timeout = 10.seconds`)."""
        for entry in entries:
            variables = entry.get("variables")
            if isinstance(variables, dict) and "lock_timeout" in variables:
                return True
        initializers = root / "config" / "initializers"
        if self.ws.has_file(initializers, "strong_migrations.rb"):
            for line in read_text(initializers / "strong_migrations.rb").splitlines():
                code = line.split("#", 1)[0]
                if re.search(r"\bStrongMigrations\.lock_timeout\s*=", code):
                    return True
        return False

    # ------------------------------------------------------------------ laravel

    def _laravel(self) -> None:
        roots: set[Path] = {a.parent for a in self.ws.find_named("artisan")}
        for info in self.ws.iter_dirs():
            if info.path.name == "migrations" and info.path.parent.name == "database":
                phps = [f for f in info.files if f.endswith(".php")]
                if phps and (
                    "Illuminate" in self.ws.head(info.path / phps[0])
                    or "Migration" in self.ws.head(info.path / phps[0])
                ):
                    roots.add(info.path.parent.parent)
        for root in sorted(roots):
            artisan = self.file_in(root, "artisan")
            project = self.add(
                "laravel",
                root,
                [root / "database" / "migrations"],
                config_files=[artisan] if artisan else [],
            )
            self._safe(self._laravel_dialect, project)

    def _laravel_dialect(self, project: Project) -> None:
        root = project.root
        for env_name in (".env", ".env.example"):
            path = self.file_in(root, env_name)
            if path is None:
                continue
            value = parse_env(read_text(path)).get("DB_CONNECTION")
            if value:
                project.settings.setdefault("connection", value)
                found = dl.normalize(value)
                if found is not None:
                    self.set_dialect(project, _Hit(found, f"{env_name} DB_CONNECTION", path))
                    return
        path = root / "config" / "database.php"
        if self.ws.has_file(path.parent, "database.php"):
            text = read_text(path)
            match = re.search(
                r"""['"]default['"]\s*=>\s*(?:env\(\s*['"]DB_CONNECTION['"]\s*,\s*)?['"](\w+)['"]""",
                text,
            )
            if match:
                project.settings.setdefault("connection", match.group(1))
                found = dl.normalize(match.group(1))
                if found is not None:
                    self.set_dialect(project, _Hit(found, "config/database.php default", path))

    # ------------------------------------------------------------------ flyway

    def _jvm_root(self, directory: Path) -> Path:
        found = self.nearest_with(
            directory,
            ("pom.xml", "build.gradle", "build.gradle.kts", "flyway.conf", "flyway.toml"),
            levels=6,
        )
        return found if found is not None else self.guess_root(directory)

    def _flyway(self) -> None:
        roots: dict[Path, list[Path]] = {}
        for name in ("flyway.conf", "flyway.toml"):
            for conf in self.ws.find_named(name):
                root = conf.parent.parent if conf.parent.name == "conf" else conf.parent
                roots.setdefault(self._clamp(root), [])
        for info in self.ws.iter_dirs():
            if any(_is_flyway_name(f) for f in info.files):
                roots.setdefault(self._jvm_root(info.path), []).append(info.path)
        for resources in self._spring_resource_dirs():
            props, _files = self._spring_props(resources)
            if any(k.startswith("spring.flyway.") for k in props):
                root = self.guess_root(resources)
                roots.setdefault(root, [])
        for root, found_dirs in roots.items():
            config = self._flyway_config(root)
            dirs = list(config.dirs)
            dirs.extend(d for d in found_dirs if d not in dirs)
            if not dirs:
                dirs = [self._default_flyway_dir(root)]
            project = self.add("flyway", root, dirs, config_files=config.files, tree=True)
            for key, value in config.settings.items():
                project.settings.setdefault(key, value)
            self.set_dialect(project, config.hit)

    def _spring_resource_dirs(self) -> list[Path]:
        out: list[Path] = []
        for info in self.ws.iter_dirs():
            if (
                info.path.name == "resources"
                and info.path.parent.name == "main"
                and any(n.startswith("application") for n in info.files)
            ):
                out.append(info.path)
        return out

    def _spring_props(self, resources: Path) -> tuple[dict[str, Any], list[Path]]:
        """Flattened Spring Boot properties (default profile) and the files they came from."""
        props: dict[str, Any] = {}
        files: list[Path] = []
        for name in ("application.yml", "application.yaml", "application.properties"):
            path = self.file_in(resources, name)
            if path is None:
                continue
            text = read_text(path)
            if name.endswith(".properties"):
                values: dict[str, Any] = dict(parse_properties(text))
            else:
                values = {}
                for doc in load_yaml_docs(text):
                    flat = flatten(doc)
                    if "spring.config.activate.on-profile" in flat or "spring.profiles" in flat:
                        continue
                    for key, value in flat.items():
                        values.setdefault(key, value)
            for key, value in values.items():
                props.setdefault(key, value)
            if values:
                files.append(path)
        return props, files

    def _default_flyway_dir(self, root: Path) -> Path:
        for rel in ("db/migration", "src/main/resources/db/migration", "sql", "migrations"):
            if self.ws.has_dir(root / rel):
                return root / rel
        if self.ws.has_dir(root / "src" / "main" / "resources"):
            return root / "src" / "main" / "resources" / "db" / "migration"
        return root / "db" / "migration"

    def _flyway_location(self, location: str, root: Path, base: Path) -> list[Path]:
        location = location.strip()
        if not location or "${" in location:
            return []
        if location.startswith("filesystem:"):
            candidates = [base / location[len("filesystem:") :]]
        elif location.startswith("classpath:") or ":" not in location:
            rel = location.removeprefix("classpath:").lstrip("/")
            candidates = [root / "src" / "main" / "resources" / rel, root / rel]
        else:
            return []  # s3:, gcs: …
        out: list[Path] = []
        for candidate in candidates:
            text = os.path.normpath(candidate)
            if "{vendor}" in text:
                prefix = Path(text.split("{vendor}", 1)[0])
                info = self.ws.info(_norm(prefix))
                out.extend(_norm(prefix / sub) for sub in (info.subdirs if info else []))
                continue
            if self.ws.has_dir(Path(text)):
                out.append(Path(text))
        if not out:
            out.append(_norm(candidates[0]))
        return out

    @dataclass(slots=True)
    class _FlywayConfig:
        dirs: list[Path] = field(default_factory=list)
        files: list[Path] = field(default_factory=list)
        settings: dict[str, Any] = field(default_factory=dict)
        hit: _Hit | None = None

    def _flyway_config(self, root: Path) -> _Detector._FlywayConfig:
        config = _Detector._FlywayConfig()
        locations: list[tuple[str, Path]] = []
        bool_keys = ("executeInTransaction", "mixed")
        str_keys = (
            "sqlMigrationPrefix",
            "sqlMigrationSeparator",
            "repeatableSqlMigrationPrefix",
            "undoSqlMigrationPrefix",
        )
        for conf in (root / "flyway.conf", root / "conf" / "flyway.conf"):
            if not self.ws.has_file(conf.parent, "flyway.conf"):
                continue
            config.files.append(conf)
            props = parse_properties(read_text(conf))
            for raw in props.get("flyway.locations", "").split(","):
                if raw.strip():
                    locations.append((raw.strip(), root))
            for key in bool_keys:
                value = as_bool(props.get(f"flyway.{key}"))
                if value is not None:
                    config.settings.setdefault(key, value)
            for key in str_keys:
                if props.get(f"flyway.{key}"):
                    config.settings.setdefault(key, props[f"flyway.{key}"])
            url = props.get("flyway.url")
            found = dl.from_url(url)
            if found is not None and config.hit is None:
                config.hit = _Hit(found, f"{_rel(conf, root)} flyway.url", conf)
        toml_path = root / "flyway.toml"
        if self.ws.has_file(root, "flyway.toml"):
            config.files.append(toml_path)
            data = load_toml(read_text(toml_path)) or {}
            flyway = _dict(data.get("flyway"))
            envs = _dict(data.get("environments"))
            raw_locations = flyway.get("locations")
            if isinstance(raw_locations, str):
                raw_locations = raw_locations.split(",")
            if isinstance(raw_locations, list):
                locations.extend((str(loc), root) for loc in raw_locations)
            for key in bool_keys:
                value = as_bool(flyway.get(key))
                if value is not None:
                    config.settings.setdefault(key, value)
            for key in str_keys:
                if isinstance(flyway.get(key), str):
                    config.settings.setdefault(key, flyway[key])
            chosen = flyway.get("environment")
            env_names = [chosen] if isinstance(chosen, str) else []
            env_names += ["default", *(k for k in envs if k != "default")]
            urls = [envs[n].get("url") for n in env_names if isinstance(envs.get(n), dict)]
            urls.append(flyway.get("url"))
            for url in urls:
                found = dl.from_url(url)
                if found is not None and config.hit is None:
                    config.hit = _Hit(found, "flyway.toml url", toml_path)
                    break
        resources = root / "src" / "main" / "resources"
        if self.ws.has_dir(resources):
            props, files = self._spring_props(resources)
            spring_raw = props.get("spring.flyway.locations")
            if isinstance(spring_raw, list):
                spring_locations = [str(v) for v in spring_raw]
            else:
                spring_locations = str(spring_raw).split(",") if spring_raw else []
            locations.extend((str(loc), root) for loc in spring_locations)
            mixed = as_bool(props.get("spring.flyway.mixed"))
            if mixed is not None:
                config.settings.setdefault("mixed", mixed)
            for key in ("spring.flyway.url", "spring.datasource.url"):
                found = dl.from_url(props.get(key))
                if found is not None and config.hit is None:
                    file = files[0] if files else None
                    name = file.name if file is not None else "application.properties"
                    config.hit = _Hit(found, f"{name} {key}", file)
                    break
            if spring_locations or config.hit is not None:
                config.files.extend(files)
        if locations:
            config.settings.setdefault("locations", [loc for loc, _ in locations])
        for loc, base in locations:
            for d in self._flyway_location(loc, root, base):
                if d not in config.dirs:
                    config.dirs.append(d)
        if config.hit is None:
            config.hit = self._jvm_build_dialect(root)
        return config

    def _jvm_build_dialect(self, root: Path) -> _Hit | None:
        """A JDBC URL in the build file's Flyway/Liquibase plugin configuration."""
        for name in ("pom.xml", "build.gradle", "build.gradle.kts"):
            path = self.file_in(root, name)
            if path is None:
                continue
            match = re.search(r"jdbc:[\w:]+", read_text(path))
            found = dl.from_url(match.group()) if match else None
            if found is not None:
                return _Hit(found, f"{name} jdbc url", path)
        return None

    # ------------------------------------------------------------------ liquibase

    def _liquibase(self) -> None:
        masters: dict[Path, tuple[Path, list[Path], _Hit | None]] = {}
        for props_path in self.ws.find_named("liquibase.properties"):
            props = parse_properties(read_text(props_path))
            change_log = (
                props.get("changeLogFile")
                or props.get("changelog-file")
                or props.get("liquibase.command.changelogFile")
            )
            root = props_path.parent
            url = props.get("url") or props.get("liquibase.command.url")
            found = dl.from_url(url)
            hit = _Hit(found, "liquibase.properties url", props_path) if found else None
            if not change_log:
                continue
            search = [root, root / "src" / "main" / "resources"]
            for extra in (props.get("searchPath") or "").split(","):
                if extra.strip():
                    search.append(root / extra.strip())
            rel = change_log.removeprefix("classpath:").lstrip("/")
            master = next((_norm(b / rel) for b in search if os.path.isfile(b / rel)), None)
            if master is None:
                master = _norm(root / rel)
            masters[master] = (root, [props_path], hit)
        for resources in self._spring_resource_dirs():
            props, files = self._spring_props(resources)
            spring_log = props.get("spring.liquibase.change-log")
            if not isinstance(spring_log, str):
                continue
            rel = spring_log.removeprefix("classpath:").lstrip("/")
            master = _norm(resources / rel)
            masters.setdefault(
                master, (self.guess_root(resources), files, self._spring_url(props, files))
            )
        for info in self.ws.iter_dirs():
            for name in info.files:
                strict = _LIQUIBASE_MASTER.match(name)
                if not strict and not _LIQUIBASE_LOOSE.match(name):
                    continue
                path = info.path / name
                if not strict and "databaseChangeLog" not in self.ws.head(path):
                    continue
                folders = {m.parent for m in masters}
                if path in masters or any(
                    f == info.path or f in info.path.parents for f in folders
                ):
                    continue
                root_dir = self._jvm_liquibase_root(info.path)
                masters[path] = (root_dir, [], None)
        for master, (root, files, hit) in masters.items():
            folder = master.parent
            dirs = [folder] if folder != root else self._liquibase_included_dirs(master)
            project = self.add("liquibase", root, dirs, config_files=[*files, master], tree=True)
            project.settings.setdefault("changelog_file", str(master))
            self.set_dialect(project, hit)
            resources = root / "src" / "main" / "resources"
            if project.dialect is None and self.ws.has_dir(resources):
                self.set_dialect(project, self._spring_url(*self._spring_props(resources)))
            if project.dialect is None:
                self.set_dialect(project, self._jvm_build_dialect(root))

    @staticmethod
    def _spring_url(props: dict[str, Any], files: list[Path]) -> _Hit | None:
        for key in ("spring.liquibase.url", "spring.datasource.url"):
            found = dl.from_url(props.get(key))
            if found is not None:
                file = files[0] if files else None
                name = file.name if file is not None else "application.properties"
                return _Hit(found, f"{name} {key}", file)
        return None

    def _jvm_liquibase_root(self, directory: Path) -> Path:
        found = self.nearest_with(
            directory,
            ("liquibase.properties", "pom.xml", "build.gradle", "build.gradle.kts"),
            levels=6,
        )
        return found if found is not None else self.guess_root(directory)

    def _liquibase_included_dirs(self, master: Path) -> list[Path]:
        """Folders of what the master changelog includes, followed through included changelogs
        with the Liquibase readers: a path is relative to the including changelog with
        `relativeToChangelogFile`, else to the project root (the master's folder here)."""
        from migration_lsp.parse.liquibase import includes

        root = master.parent
        dirs: list[Path] = []
        seen: set[Path] = set()
        pending = [master]
        while pending and len(seen) < 500:
            changelog = pending.pop()
            if changelog in seen:
                continue
            seen.add(changelog)
            for found in includes(str(changelog), read_text(changelog)):
                base = changelog.parent if found.relative else root
                target = _norm(base / found.path.removeprefix("classpath:").lstrip("/"))
                folder = target if found.directory else target.parent
                if folder != root and folder not in dirs:
                    dirs.append(folder)
                if not found.directory and os.path.isfile(target):
                    pending.append(target)
        return dirs

    # ------------------------------------------------------------------ sqitch, supabase

    def _sqitch(self) -> None:
        for plan in self.ws.find_named("sqitch.plan"):
            root = plan.parent
            conf = self.file_in(root, "sqitch.conf")
            if conf is None and self.ws.has_file(root.parent, "sqitch.conf"):
                root = root.parent
                conf = root / "sqitch.conf"
            values = _git_config(read_text(conf)) if conf is not None else {}
            top = _norm(root / values.get("core.top_dir", "."))
            if plan.parent != root and plan.parent != top:
                top = plan.parent
            dirs = [
                _norm(top / values.get("core.deploy_dir", "deploy")),
                _norm(top / values.get("core.revert_dir", "revert")),
            ]
            verify = _norm(top / values.get("core.verify_dir", "verify"))
            project = self.add(
                "sql",
                root,
                dirs,
                flavor="sqitch",
                config_files=[p for p in (conf, plan) if p],
                tree=True,
            )
            self.claimed_trees.append(verify)
            project.settings.setdefault("plan_file", str(plan))
            engine = values.get("core.engine")
            if engine:
                project.settings.setdefault("engine", engine)
                found = dl.normalize(engine)
                if found is not None and conf is not None:
                    self.set_dialect(project, _Hit(found, "sqitch.conf core.engine", conf))

    def _supabase(self) -> None:
        for info in list(self.ws.iter_dirs()):
            if info.path.name != "supabase":
                continue
            if "config.toml" not in info.file_set and "migrations" not in info.subdirs:
                continue
            migrations = info.path / "migrations"
            config = self.file_in(info.path, "config.toml")
            project = self.add(
                "sql",
                info.path.parent if info.path != self.ws.root else info.path,
                [migrations],
                flavor="supabase",
                config_files=[config] if config else [],
                tree=True,
            )
            self.set_dialect(project, _Hit("postgresql", "supabase (always PostgreSQL)", None))

    # ------------------------------------------------------------------ knex, typeorm, sequelize

    def _package_root(self, directory: Path) -> Path:
        found = self.nearest_with(directory, ("package.json",), levels=4)
        return found if found is not None else self.guess_root(directory)

    def _js_tools(self) -> None:
        self._knexfiles()
        self._sequelizerc()
        self._typeorm_configs()
        for info in self.ws.iter_dirs():
            if self.is_claimed(info.path):
                continue
            names = [f for f in info.files if _is_js_migration_name(f)]
            if not names:
                continue
            typeorm_named = [f for f in names if _TYPEORM_FILE.match(f)]
            lowered = info.path.name.lower()
            if "migrat" not in lowered and not typeorm_named:
                continue
            sample = (typeorm_named or names)[:3]
            heads = [self.ws.head(info.path / n) for n in sample]
            tool: str | None = None
            if any("MigrationInterface" in h for h in heads):
                tool = "typeorm"
            elif any(re.search(r"\bqueryInterface\b|\bQueryInterface\b", h) for h in heads):
                tool = "sequelize"
            elif any(re.search(r"\bknex\b|\bKnex\b", h) for h in heads):
                tool = "knex"
            if tool is None:
                continue
            owner = self._owning(tool, info.path)
            root = owner.root if owner is not None else self._package_root(info.path)
            self.add(tool, root, [info.path])

    def _owning(self, tool: str, directory: Path) -> Project | None:
        owners = [
            p
            for (root, t), p in self.projects.items()
            if t == tool and (root == directory or root in directory.parents)
        ]
        return max(owners, key=lambda p: len(p.root.parts)) if owners else None

    def _knexfiles(self) -> None:
        for name in ("knexfile.js", "knexfile.ts", "knexfile.cjs", "knexfile.mjs", "knexfile.mts"):
            for knexfile in self.ws.find_named(name):
                root = knexfile.parent
                pairs = js_pairs(read_text(knexfile))
                dirs: list[Path] = []
                for pair in pairs:
                    if pair.key == "directory" and "migrations" in pair.path:
                        value = js_path_value(pair)
                        if value:
                            d = _norm(root / value)
                            if d not in dirs:
                                dirs.append(d)
                if not dirs:
                    dirs = [root / "migrations"]
                project = self.add("knex", root, dirs, config_files=[knexfile])
                project.settings.setdefault("knexfile", str(knexfile))
                client = _pick_env_value(pairs, ("client", "dialect"))
                if client is not None:
                    found = dl.normalize(client)
                    if found is not None:
                        source = f"{_rel(knexfile, root)} client"
                        self.set_dialect(project, _Hit(found, source, knexfile))

    def _sequelizerc(self) -> None:
        for rc in self.ws.find_named(".sequelizerc"):
            root = rc.parent
            values: dict[str, str] = {}
            for pair in js_pairs(read_text(rc)):
                value = js_path_value(pair)
                if value and pair.key in {"migrations-path", "config", "url"}:
                    values.setdefault(pair.key, value)
            migrations = _norm(root / values.get("migrations-path", "migrations"))
            project = self.add("sequelize", root, [migrations], config_files=[rc])
            config = values.get("config")
            config_path = _norm(root / config) if config else None
            self._safe(partial(self._sequelize_dialect, config=config_path), project)
        # projects without .sequelizerc: config/config.json next to migrations/
        for config_json in self.ws.find_named("config.json"):
            if config_json.parent.name != "config":
                continue
            root = config_json.parent.parent
            if (root, "sequelize") in self.projects:
                continue
            migrations = root / "migrations"
            names = [f for f in self.ws.files(migrations) if _is_js_migration_name(f)]
            if not names or "queryInterface" not in self.ws.head(migrations / names[0]):
                continue
            project = self.add("sequelize", root, [migrations])
            self._safe(partial(self._sequelize_dialect, config=config_json), project)

    def _sequelize_dialect(self, project: Project, *, config: Path | None) -> None:
        root = project.root
        candidates = [config] if config else []
        candidates += [root / "config" / n for n in ("config.json", "config.js", "database.json")]
        for path in candidates:
            if not self.ws.has_file(path.parent, path.name):
                continue
            text = read_text(path)
            dialect_name: str | None = None
            env_var: str | None = None
            if path.suffix == ".json":
                data = load_json(text)
                if isinstance(data, dict):
                    envs = sorted(data, key=lambda k: k != "development")
                    for env in envs:
                        entry = data.get(env)
                        if isinstance(entry, dict):
                            if isinstance(entry.get("dialect"), str):
                                dialect_name = entry["dialect"]
                                break
                            if isinstance(entry.get("use_env_variable"), str) and env_var is None:
                                env_var = entry["use_env_variable"]
            else:
                pairs = js_pairs(text)
                dialect_name = _pick_env_value(pairs, ("dialect",))
                env_var = _pick_env_value(pairs, ("use_env_variable",))
            self.note(project, path)
            found = dl.normalize(dialect_name)
            if found is not None:
                self.set_dialect(project, _Hit(found, f"{_rel(path, root)} dialect", path))
                return
            if env_var:
                self.set_dialect(project, self.env_file(root, env_var))
                return

    def _typeorm_configs(self) -> None:
        for info in list(self.ws.iter_dirs()):
            for name in info.files:
                if name.startswith("ormconfig."):
                    self._typeorm_config(info.path / name)
                elif (
                    _TYPEORM_CONFIG.match(name)
                    and not name.endswith(_DECL_EXTS)
                    and ".spec." not in name
                    and ".test." not in name
                ):
                    path = info.path / name
                    head = self.ws.head(path, 16384)
                    if "new DataSource(" in head or (
                        "typeorm" in head.lower() and ("migrations" in head or "type:" in head)
                    ):
                        self._typeorm_config(path)

    def _typeorm_config(self, path: Path) -> None:
        text = read_text(path)
        suffix = path.suffix.lower()
        type_name: str | None = None
        globs: list[tuple[str, bool]] = []  # (pattern, relative to the config file's folder)
        if suffix == ".json":
            data = load_json(text)
            entries = data if isinstance(data, list) else [data]
            for entry in entries:
                if not isinstance(entry, dict):
                    continue
                if type_name is None and isinstance(entry.get("type"), str):
                    type_name = entry["type"]
                migrations = entry.get("migrations")
                if isinstance(migrations, list):
                    globs.extend((str(m), False) for m in migrations)
                cli = entry.get("cli")
                if isinstance(cli, dict) and isinstance(cli.get("migrationsDir"), str):
                    globs.append((cli["migrationsDir"], False))
        elif suffix in {".yml", ".yaml"}:
            data = load_yaml(text)
            if isinstance(data, dict):
                entry = data.get("default", data)
                if isinstance(entry, dict):
                    type_name = entry.get("type") if isinstance(entry.get("type"), str) else None
                    migrations = entry.get("migrations")
                    if isinstance(migrations, list):
                        globs.extend((str(m), False) for m in migrations)
        elif suffix == ".env":
            values = parse_env(text)
            type_name = values.get("TYPEORM_CONNECTION")
            globs.extend((m, False) for m in values.get("TYPEORM_MIGRATIONS", "").split(",") if m)
            if values.get("TYPEORM_MIGRATIONS_DIR"):
                globs.append((values["TYPEORM_MIGRATIONS_DIR"], False))
        else:
            pairs = js_pairs(text)
            for pair in pairs:
                if pair.key == "type" and type_name is None and pair.strings:
                    if dl.normalize(pair.strings[0]) is not None:
                        type_name = pair.strings[0]
                elif pair.key in {"migrations", "migrationsDir"} and pair.strings:
                    relative = "__dirname" in pair.idents
                    if relative or {"path", "join"} <= set(pair.idents):
                        value = js_path_value(pair)
                        if value:
                            globs.append((value, relative))
                    else:
                        globs.extend((s, False) for s in pair.strings)
        if suffix in {".json", ".yml", ".yaml", ".env"}:
            root = path.parent  # ormconfig files sit at the package root
        else:
            root = self._package_root(path.parent)
        dirs: list[Path] = []
        recursive = False
        for pattern, relative in globs:
            prefix, had_glob = _glob_prefix(pattern)
            if had_glob and "**" in pattern:
                recursive = True
            if not prefix:
                continue
            base = path.parent if relative else root
            d = _norm(base / prefix)
            if any(part in {"dist", "build", "out", "lib"} for part in Path(prefix).parts):
                continue
            if d not in dirs:
                dirs.append(d)
        if not dirs and type_name is None:
            return
        project = self.add("typeorm", root, dirs, config_files=[path], tree=recursive)
        project.settings.setdefault("data_source", str(path))
        if recursive:
            project.settings.setdefault("recursive", True)
        found = dl.normalize(type_name)
        if found is not None:
            self.set_dialect(project, _Hit(found, f"{_rel(path, root)} type", path))

    # ------------------------------------------------------------------ SQL folders

    def _sql_folders(self) -> None:
        for info in list(self.ws.iter_dirs()):
            path = info.path
            if self.is_claimed(path):
                continue
            sqls = [f for f in info.files if f.lower().endswith(".sql")]
            gos = [f for f in info.files if _GOOSE_GO_FILE.match(f)]
            if not sqls and not gos:
                continue
            tool: str | None = None
            if any(_GOLANG_FILE.match(f) for f in sqls):
                tool = "golang-migrate"
            else:
                heads = [self.ws.head(path / f) for f in sqls[:3]]
                if any(re.search(r"^\s*--\s*migrate:up\b", h, re.M) for h in heads):
                    tool = "dbmate"
                elif any(re.search(r"^\s*--\s*\+goose\s+up\b", h, re.M | re.I) for h in heads) or (
                    gos and any("goose." in self.ws.head(path / g) for g in gos[:2])
                ):
                    tool = "goose"
                elif any(_NUMBERED_SQL.match(f) for f in sqls) and self._sql_dir_name(path):
                    tool = "sql"
            if tool is None:
                continue
            root = self.guess_root(path)
            project = self.add(tool, root, [path])
            self._safe(self._sql_dialect, project)

    @staticmethod
    def _sql_dir_name(path: Path) -> bool:
        name = path.name.lower()
        return name in _SQL_DIR_NAMES or "migrat" in name

    def _sql_dialect(self, project: Project) -> None:
        keys = {
            "goose": ("GOOSE_DRIVER", "GOOSE_DBSTRING", "DATABASE_URL"),
            "dbmate": ("DATABASE_URL",),
            "golang-migrate": ("DATABASE_URL", "MIGRATE_DATABASE_URL", "DB_URL"),
        }.get(project.tool, ("DATABASE_URL",))
        folders = [project.root]
        for d in project.migration_dirs:
            for anc in self.ancestors(d.parent, 2):
                if anc not in folders and (anc == project.root or project.root in anc.parents):
                    folders.append(anc)
        for folder in folders:
            hit = self.env_file(folder, *keys)
            if hit is not None:
                if folder != project.root:
                    hit.source = f"{_rel(folder, project.root)}/{hit.source}"
                self.set_dialect(project, hit)
                return

    # ------------------------------------------------------------------ inference

    def _infer(self, project: Project) -> None:
        files = project.migration_files()[:8]
        texts = [read_head(f) for f in files]
        if project.tool == "rails":
            texts += [read_head(project.root / "db" / n) for n in ("schema.rb", "structure.sql")]
        found = dl.infer_from_texts(texts)
        if found is not None:
            project.dialect = found
            project.dialect_source = INFERRED


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _pick_env_value(pairs: Sequence[Any], keys: Sequence[str]) -> str | None:
    """The value of the first `key` pair in a multi-environment config: `development` first,
    then a top-level value, then the rest in source order."""
    candidates = [p for p in pairs if p.key in keys and p.strings]
    if not candidates:
        return None

    def rank(pair: Any) -> int:
        if "development" in pair.path:
            return 0
        if not pair.path:
            return 1
        return 2

    best = min(candidates, key=rank)
    value: str = best.strings[0]
    return value


def _glob_prefix(pattern: str) -> tuple[str, bool]:
    """`src/migrations/*.ts` → ("src/migrations", True); `src/migrations` → (same, False)."""
    parts = pattern.replace("\\", "/").split("/")
    prefix: list[str] = []
    had_glob = False
    for part in parts:
        if any(ch in part for ch in "*?{["):
            had_glob = True
            break
        prefix.append(part)
    if not had_glob and prefix and "." in prefix[-1] and prefix[-1] not in {".", ".."}:
        prefix = prefix[:-1]  # a single file path: its folder
    text = "/".join(prefix).removeprefix("./")
    return text, had_glob


def _git_config(text: str) -> dict[str, str]:
    """`[core]\\n\\tengine = pg` (git-config style, as sqitch.conf) → {"core.engine": "pg"}."""
    out: dict[str, str] = {}
    section = ""
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line[0] in "#;":
            continue
        header = re.match(r"^\[\s*([\w.-]+)(?:\s+\"([^\"]*)\")?\s*\]$", line)
        if header:
            section = header.group(1).lower()
            if header.group(2) is not None:
                section += f".{header.group(2)}"
            continue
        key, sep, value = line.partition("=")
        if sep and section:
            out[f"{section}.{key.strip().lower()}"] = value.strip().strip('"')
    return out
