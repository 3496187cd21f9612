"""SQL dialect names from configuration values, Python settings files and migration content.

Python files (Django settings, Flask config, Alembic env.py) are parsed with `ast` and never
imported or executed. Every function returns None rather than raising on bad input.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from migration_lsp.project.markers import read_text

# Driver, adapter, client and provider names → dialect.
_ALIASES: dict[str, str] = {
    # PostgreSQL and wire-compatible servers
    "postgresql": "postgresql",
    "postgres": "postgresql",
    "postgis": "postgresql",
    "pgsql": "postgresql",
    "pg": "postgresql",
    "pgx": "postgresql",
    "psql": "postgresql",
    "cockroachdb": "postgresql",
    "cockroach": "postgresql",
    "crdb": "postgresql",
    "timescaledb": "postgresql",
    "aurora-postgres": "postgresql",
    "aurora-data-api-pg": "postgresql",
    "postgresql_psycopg2": "postgresql",
    "psycopg2": "postgresql",
    "psycopg": "postgresql",
    "asyncpg": "postgresql",
    # MySQL family
    "mysql": "mysql",
    "mysql2": "mysql",
    "mariadb": "mysql",
    "trilogy": "mysql",
    "mysqlx": "mysql",
    "aurora-mysql": "mysql",
    "aurora-data-api": "mysql",
    "tidb": "mysql",
    # SQLite family
    "sqlite": "sqlite",
    "sqlite3": "sqlite",
    "better-sqlite3": "sqlite",
    "spatialite": "sqlite",
    "sqljs": "sqlite",
    "libsql": "sqlite",
    "turso": "sqlite",
    "capacitor": "sqlite",
    "cordova": "sqlite",
    "expo": "sqlite",
    "nativescript": "sqlite",
    "react-native": "sqlite",
    # SQL Server
    "mssql": "mssql",
    "sqlserver": "mssql",
    "sqlsrv": "mssql",
    "tedious": "mssql",
    "sql_server": "mssql",
    "azuresql": "mssql",
    # Oracle
    "oracle": "oracle",
    "oracledb": "oracle",
    "oracle_enhanced": "oracle",
    "oci": "oracle",
}


def normalize(name: str | None) -> str | None:
    """`"pg"`, `"mysql2"`, `"sqlsrv"`, `"postgresql+psycopg2"` … → a dialect, or None."""
    if not name or not isinstance(name, str):
        return None
    low = name.strip().strip("'\"").lower()
    if low in _ALIASES:
        return _ALIASES[low]
    base = re.split(r"[+:]", low, maxsplit=1)[0]
    return _ALIASES.get(base)


def from_url(url: Any) -> str | None:
    """Dialect of a database URL: SQLAlchemy (`mysql+pymysql://`), libpq (`postgres://`),
    JDBC (`jdbc:sqlserver://`), goose/dbmate (`sqlite:`)."""
    if not isinstance(url, str):
        return None
    text = url.strip().strip("'\"").lower()
    if text.startswith("jdbc:"):
        text = text[5:]
        for prefix in ("tc:", "p6spy:", "log4jdbc:", "aws-wrapper:"):
            text = text.removeprefix(prefix)
        scheme = re.split(r"[:/;@]", text, maxsplit=1)[0]
        return normalize(scheme)
    match = re.match(r"([a-z][a-z0-9_+.\-]*):", text)
    if match is None:
        return None
    scheme = match.group(1)
    rest = text[match.end() :]
    # require a URL shape (`scheme://` or `sqlite:path`) so plain words do not count
    if not rest.startswith("//") and normalize(scheme.split("+")[0]) != "sqlite":
        return None
    return normalize(scheme.split("+")[0])


def from_django_engine(engine: Any) -> str | None:
    """`django.db.backends.postgresql`, `django.contrib.gis.db.backends.postgis`, `mssql`,
    `sql_server.pyodbc`, `django_cockroachdb` … → dialect."""
    if not isinstance(engine, str) or not engine:
        return None
    low = engine.lower()
    if "postg" in low or "cockroach" in low:
        return "postgresql"
    if "mysql" in low or "maria" in low:
        return "mysql"
    if "sqlite" in low or "spatialite" in low:
        return "sqlite"
    if "oracle" in low:
        return "oracle"
    if "mssql" in low or "sql_server" in low or "sqlserver" in low:
        return "mssql"
    return None


# --------------------------------------------------------------------- content inference

_HINTS: dict[str, list[tuple[re.Pattern[str], int]]] = {
    "postgresql": [
        (re.compile(r"\b(?:BIG|SMALL)?SERIAL\b", re.I), 2),
        (
            re.compile(
                r"(?:'|\)|\w)::(?:text|int\w*|bigint|smallint|jsonb?|uuid|timestamp\w*|date|"
                r"numeric|regclass|varchar|character\s+varying|bool(?:ean)?|float\w*|interval|"
                r"inet|tsvector)\b",
                re.I,
            ),
            2,
        ),
        (re.compile(r"\$\$"), 2),
        (re.compile(r"\bCREATE\s+EXTENSION\b|\benable_extension\b", re.I), 3),
        (re.compile(r"\bJSONB\b", re.I), 2),
        (re.compile(r"\bTIMESTAMPTZ\b", re.I), 2),
        (re.compile(r"\bCONCURRENTLY\b|postgresql_concurrently", re.I), 2),
        (re.compile(r"sqlalchemy\.dialects\.postgresql|django\.contrib\.postgres"), 3),
        (re.compile(r"\bplpgsql\b", re.I), 3),
    ],
    "mysql": [
        (re.compile(r"\bAUTO_INCREMENT\b", re.I), 3),
        (re.compile(r"\\?`\w+\\?`"), 1),
        (re.compile(r"\bENGINE\s*=\s*InnoDB\b|\bmysql_engine\b", re.I), 3),
        (re.compile(r"sqlalchemy\.dialects\.mysql|\bmysql_charset\b|\bunsigned\b", re.I), 2),
    ],
    "sqlite": [
        (re.compile(r"\bAUTOINCREMENT\b", re.I), 3),
        (re.compile(r"\bsqlite_autoincrement\b|sqlalchemy\.dialects\.sqlite|\bPRAGMA\b", re.I), 3),
    ],
    "mssql": [
        (re.compile(r"\bNVARCHAR\b", re.I), 2),
        (re.compile(r"\[dbo\]", re.I), 3),
        (re.compile(r"\bIDENTITY\s*\(\s*1\s*,\s*1\s*\)", re.I), 3),
        (re.compile(r"^[ \t]*GO[ \t]*;?[ \t]*$", re.M | re.I), 3),
        (re.compile(r"sqlalchemy\.dialects\.mssql|\bmssql_\w+", re.I), 3),
    ],
    "oracle": [
        (re.compile(r"\bVARCHAR2\b|\bNUMBER\s*\(|\bsqlalchemy\.dialects\.oracle\b", re.I), 3),
    ],
}


def infer_from_texts(texts: Iterable[str]) -> str | None:
    """The dialect whose hints score highest across the given migration heads, if any.

    Ties (including no hints at all) give None: a guess is only made when the text says so.
    """
    scores = dict.fromkeys(_HINTS, 0)
    for text in texts:
        if not text:
            continue
        for dialect, hints in _HINTS.items():
            for pattern, weight in hints:
                if pattern.search(text):
                    scores[dialect] += weight
    best = max(scores.values())
    if best <= 0:
        return None
    winners = [d for d, s in scores.items() if s == best]
    return winners[0] if len(winners) == 1 else None


# ------------------------------------------------------------------------- Python (ast)


def parse_python(text: str) -> ast.Module | None:
    try:
        return ast.parse(text)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return None


def _strings(node: ast.AST) -> Iterator[str]:
    for sub in ast.walk(node):
        if isinstance(sub, ast.Constant) and isinstance(sub.value, str):
            yield sub.value


def _const_str(node: ast.AST | None) -> str | None:
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    return None


def _url_in(node: ast.AST) -> str | None:
    for value in _strings(node):
        dialect = from_url(value)
        if dialect is not None:
            return dialect
    return None


def settings_module_from_manage(text: str) -> str | None:
    """`os.environ.setdefault("DJANGO_SETTINGS_MODULE", "mysite.settings")` in manage.py."""
    tree = parse_python(text)
    if tree is not None:
        for node in ast.walk(tree):
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Attribute)
                and node.func.attr in {"setdefault", "get"}
                and len(node.args) >= 2
                and _const_str(node.args[0]) == "DJANGO_SETTINGS_MODULE"
            ):
                value = _const_str(node.args[1])
                if value:
                    return value
            if isinstance(node, ast.Assign) and len(node.targets) == 1:
                target = node.targets[0]
                if (
                    isinstance(target, ast.Subscript)
                    and _const_str(target.slice) == "DJANGO_SETTINGS_MODULE"
                ):
                    value = _const_str(node.value)
                    if value:
                        return value
    match = re.search(r"DJANGO_SETTINGS_MODULE['\"]\s*,\s*['\"]([\w.]+)['\"]", text)
    return match.group(1) if match else None


def module_file(module: str, bases: Iterable[Path]) -> Path | None:
    """`pkg.settings` → `<base>/pkg/settings.py` or `<base>/pkg/settings/__init__.py`."""
    parts = module.split(".")
    if not all(p.isidentifier() for p in parts):
        return None
    for base in bases:
        candidate = base.joinpath(*parts)
        for path in (candidate.with_name(parts[-1] + ".py"), candidate / "__init__.py"):
            if path.is_file():
                return path
    return None


@dataclass(slots=True)
class SettingsResult:
    dialect: str
    file: Path
    detail: str  # "DATABASES ENGINE" / "DATABASES URL"
    uses_env: bool = False


class _DjangoSettings:
    """Follows a settings module (and its star imports) to the DATABASES default engine."""

    def __init__(self, bases: list[Path]) -> None:
        self.bases = bases
        self.visited: set[Path] = set()
        self.result: SettingsResult | None = None
        self.env_url = False  # a DATABASES entry that reads its URL from the environment
        self.files: list[Path] = []

    def run(self, path: Path, package: str, depth: int = 0) -> None:
        if depth > 8 or path in self.visited:
            return
        self.visited.add(path)
        tree = parse_python(read_text(path))
        if tree is None:
            return
        self.files.append(path)
        names: dict[str, ast.AST] = {}
        self._block(tree.body, path, package, names, depth)

    def _import_target(self, node: ast.ImportFrom, path: Path, package: str) -> Path | None:
        if node.level:
            pkg_parts = package.split(".") if package else []
            keep = len(pkg_parts) - (node.level - 1)
            if keep < 0:
                return None
            base_parts = pkg_parts[:keep]
            mod = ".".join([*base_parts, *(node.module.split(".") if node.module else [])])
        else:
            mod = node.module or ""
        if not mod:
            return None
        return module_file(mod, self.bases)

    def _block(
        self,
        body: list[ast.stmt],
        path: Path,
        package: str,
        names: dict[str, ast.AST],
        depth: int,
    ) -> None:
        for stmt in body:
            if isinstance(stmt, ast.ImportFrom) and any(a.name == "*" for a in stmt.names):
                target = self._import_target(stmt, path, package)
                if target is not None:
                    sub_pkg = _package_of(target, self.bases)
                    self.run(target, sub_pkg, depth + 1)
            elif isinstance(stmt, ast.Assign | ast.AnnAssign):
                targets = stmt.targets if isinstance(stmt, ast.Assign) else [stmt.target]
                value = stmt.value
                if value is None:
                    continue
                for assigned in targets:
                    self._assign(assigned, value, path, names)
            elif isinstance(stmt, ast.Expr) and isinstance(stmt.value, ast.Call):
                call = stmt.value
                func = call.func
                if (
                    isinstance(func, ast.Attribute)
                    and func.attr == "update"
                    and _is_default_db(func.value)
                    and call.args
                ):
                    self._db(call.args[0], path, names)
            elif isinstance(stmt, ast.If | ast.Try | ast.With):
                self._block(stmt.body, path, package, names, depth)
                if isinstance(stmt, ast.If):
                    self._block(stmt.orelse, path, package, names, depth)
                if isinstance(stmt, ast.Try):
                    for handler in stmt.handlers:
                        self._block(handler.body, path, package, names, depth)
                    self._block(stmt.orelse, path, package, names, depth)
                    self._block(stmt.finalbody, path, package, names, depth)

    def _assign(
        self, target: ast.AST, value: ast.AST, path: Path, names: dict[str, ast.AST]
    ) -> None:
        if isinstance(target, ast.Name):
            names[target.id] = value
            if target.id == "DATABASES":
                self._databases(value, path, names)
        elif isinstance(target, ast.Subscript):
            if isinstance(target.value, ast.Name) and target.value.id == "DATABASES":
                if _const_str(target.slice) == "default":
                    self._db(value, path, names)
            elif _is_default_db(target.value) and _const_str(target.slice) == "ENGINE":
                self._engine(value, path)

    def _resolve(self, node: ast.AST, names: dict[str, ast.AST]) -> ast.AST:
        seen = 0
        while isinstance(node, ast.Name) and node.id in names and seen < 5:
            node = names[node.id]
            seen += 1
        return node

    def _databases(self, node: ast.AST, path: Path, names: dict[str, ast.AST]) -> None:
        node = self._resolve(node, names)
        if isinstance(node, ast.Dict):
            chosen: ast.AST | None = None
            for key, value in zip(node.keys, node.values, strict=False):
                if key is not None and _const_str(key) == "default":
                    chosen = value
                    break
            if chosen is None and node.values:
                chosen = node.values[0]
            if chosen is not None:
                self._db(chosen, path, names)
        elif isinstance(node, ast.Call):
            self._db(node, path, names)

    def _db(self, node: ast.AST, path: Path, names: dict[str, ast.AST]) -> None:
        node = self._resolve(node, names)
        if isinstance(node, ast.Dict):
            for key, value in zip(node.keys, node.values, strict=False):
                if key is None:  # {**dj_database_url.config(...), ...}
                    self._db(value, path, names)
                elif _const_str(key) == "ENGINE":
                    self._engine(value, path)
        elif isinstance(node, ast.Call):
            dialect = _url_in(node)
            if dialect is not None:
                self.result = SettingsResult(dialect, path, "DATABASES URL")
            else:
                self.env_url = True

    def _engine(self, node: ast.AST, path: Path) -> None:
        for value in _strings(node):
            dialect = from_django_engine(value)
            if dialect is not None:
                self.result = SettingsResult(dialect, path, "DATABASES ENGINE")
                return


def _is_default_db(node: ast.AST) -> bool:
    return (
        isinstance(node, ast.Subscript)
        and isinstance(node.value, ast.Name)
        and node.value.id == "DATABASES"
        and _const_str(node.slice) == "default"
    )


def _package_of(path: Path, bases: list[Path]) -> str:
    for base in bases:
        try:
            rel = path.relative_to(base)
        except ValueError:
            continue
        # both pkg/settings.py and pkg/settings/__init__.py... use their containing package
        return ".".join(rel.parts[:-1])
    return ""


def django_dialect(
    settings_file: Path, bases: list[Path]
) -> tuple[SettingsResult | None, bool, list[Path]]:
    """Dialect from a Django settings file (following star imports; settings packages load
    `base`/`common` modules when the package itself names nothing).

    Returns (result, reads-URL-from-environment, files parsed)."""
    reader = _DjangoSettings(bases)
    package = _package_of(settings_file, bases)
    reader.run(settings_file, package)
    if reader.result is None and settings_file.name == "__init__.py":
        for name in ("base.py", "common.py", "defaults.py", "production.py", "prod.py"):
            candidate = settings_file.parent / name
            if candidate.is_file():
                reader.run(candidate, package)
                if reader.result is not None:
                    break
    return reader.result, reader.env_url, reader.files


def flask_database_uri(text: str) -> tuple[str | None, bool]:
    """`SQLALCHEMY_DATABASE_URI` in a Flask config/app module.

    Returns (dialect, depends-on-environment). A value such as
    `os.environ.get("DATABASE_URL") or "sqlite:///" + path` gives ("sqlite", True)."""
    tree = parse_python(text)
    if tree is None:
        return None, False
    for node in ast.walk(tree):
        value: ast.AST | None = None
        if isinstance(node, ast.Assign | ast.AnnAssign):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            for target in targets:
                if (isinstance(target, ast.Name) and target.id == "SQLALCHEMY_DATABASE_URI") or (
                    isinstance(target, ast.Subscript)
                    and _const_str(target.slice) == "SQLALCHEMY_DATABASE_URI"
                ):
                    value = node.value
        elif isinstance(node, ast.Call):
            for kw in node.keywords:
                if kw.arg == "SQLALCHEMY_DATABASE_URI":
                    value = kw.value
        elif isinstance(node, ast.Dict):
            for key, val in zip(node.keys, node.values, strict=False):
                if key is not None and _const_str(key) == "SQLALCHEMY_DATABASE_URI":
                    value = val
        if value is None:
            continue
        uses_env = _mentions_env(value)
        for string in _strings(value):
            dialect = from_url(string)
            if dialect is not None:
                return dialect, uses_env
        return None, uses_env
    return None, False


def _mentions_env(node: ast.AST) -> bool:
    names = {
        sub.id if isinstance(sub, ast.Name) else sub.attr
        for sub in ast.walk(node)
        if isinstance(sub, ast.Name | ast.Attribute)
    }
    return bool(names & {"environ", "getenv", "env", "config"})


_CONFIGURE_KEYS = (
    "transaction_per_migration",
    "transactional_ddl",
    "render_as_batch",
)


def alembic_env_settings(text: str) -> tuple[dict[str, Any], str | None]:
    """Keyword arguments of `context.configure(...)` in an Alembic env.py that matter to
    rules, plus a database URL dialect if env.py spells one out literally.

    Calls inside an `*online*` function win over the others (offline mode has no connection).
    """
    tree = parse_python(text)
    if tree is None:
        return {}, None
    found: dict[str, Any] = {}
    online: dict[str, Any] = {}
    scopes: list[ast.Module | ast.FunctionDef] = [tree]
    scopes.extend(n for n in ast.walk(tree) if isinstance(n, ast.FunctionDef))
    for func in scopes:
        is_online = isinstance(func, ast.FunctionDef) and "online" in func.name.lower()
        body = func.body
        for stmt in body:
            for node in ast.walk(stmt):
                if not (
                    isinstance(node, ast.Call)
                    and isinstance(node.func, ast.Attribute)
                    and node.func.attr == "configure"
                ):
                    continue
                for kw in node.keywords:
                    value = kw.value
                    if (
                        kw.arg in _CONFIGURE_KEYS
                        and isinstance(value, ast.Constant)
                        and isinstance(value.value, bool)
                    ):
                        (online if is_online else found)[kw.arg] = value.value
    found.update(online)
    if "lock_timeout" in text:  # set for every migration (SET, or connect options)
        found["lock_timeout"] = True
    url_dialect: str | None = None
    for string in _strings(tree):
        dialect = from_url(string)
        if dialect is not None and "://" in string:
            url_dialect = dialect
            break
    return found, url_dialect
