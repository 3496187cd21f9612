"""Helpers for the real-PostgreSQL tests: apply every quick fix the engine offers to a project on
disk, split SQL the way the runners do, and read a database's schema back.

The fix loop (`fix_project`) is generic on purpose: it does not know which rules have fixes.
For each migration file of each detected project it analyses the file, takes an applicable fix
(not DISPLAY-only; the preferred alternative unless told otherwise) of one finding (`workflow`
order), applies it (edits and the files it creates), re-analyses, and so on until no finding has
an applicable fix left; files a fix creates are fixed in the next round. After each fix it checks
what every fix must do: remove its finding, break nothing, add no error (`FixRun.problems`). New
fix builders are so proven on the database as soon as they are registered.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import psycopg

from migration_lsp.engine import Analysis, Workspace, analyse_document, decode
from migration_lsp.findings import Applicability, Finding, Fix
from migration_lsp.fixes import apply_edits, fixes_for
from migration_lsp.model import Severity
from migration_lsp.project.detect import Project, detect_projects

REPO = Path(__file__).resolve().parents[2]
FIXTURES = REPO / "tests" / "fixtures" / "pg"

MAX_FIXES_PER_FILE = 30

Connection = psycopg.Connection[Any]


@dataclass
class Applied:
    """One fix applied to one file."""

    path: str
    """Relative to the project copy's root."""
    rule: str
    title: str
    applicability: str
    created: list[str] = field(default_factory=list)
    offered: int = 1
    """How many applicable fixes (alternatives) the finding had."""


@dataclass
class Skipped:
    path: str
    rule: str
    reason: str
    """"display: <title>" or "no fix"."""


@dataclass
class FixRun:
    root: Path
    applied: list[Applied] = field(default_factory=list)
    skipped: list[Skipped] = field(default_factory=list)
    remaining: dict[str, list[Finding]] = field(default_factory=dict)
    """Findings left in each file after the loop (relative path → findings)."""
    problems: list[str] = field(default_factory=list)
    """Fixes that did not do what a fix must: remove its finding, add no error."""

    def rules_fixed(self, path: str | None = None) -> set[str]:
        return {a.rule for a in self.applied if path is None or a.path == path}

    def fixed(self, rule: str, path: str | None = None) -> bool:
        return any(a.rule == rule and (path is None or a.path == path) for a in self.applied)

    def problems_of(self, path: str) -> list[str]:
        return [p for p in self.problems if p.startswith(path + ":")]

    def remaining_rules(self, path: str) -> list[str]:
        return [f.rule for f in self.remaining.get(path, [])]

    def summary(self) -> str:
        lines = [f"{a.path}: {a.rule} -> {a.title} [{a.applicability}]" for a in self.applied]
        lines += [f"{s.path}: {s.rule} skipped ({s.reason})" for s in self.skipped]
        return "\n".join(lines)


Chooser = Callable[[Finding, list[Fix]], Fix | None]
Priority = Callable[[Finding, Fix], Any]
"""Sort key of the (finding, fix) pairs of one file: the smallest is applied first."""


def usable(fixes: list[Fix]) -> list[Fix]:
    """The fixes that change something and may be applied (not DISPLAY-only)."""
    return [
        f for f in fixes if f.applicability is not Applicability.DISPLAY and (f.edits or f.files)
    ]


def preferred(finding: Finding, fixes: list[Fix]) -> Fix | None:
    """The first applicable fix (the engine lists the preferred alternative first)."""
    found = usable(fixes)
    return found[0] if found else None


def alternative(n: int) -> Chooser:
    """The n-th applicable fix (0: the preferred one) where a finding offers that many, else
    the preferred one."""

    def choose(finding: Finding, fixes: list[Fix]) -> Fix | None:
        found = usable(fixes)
        return found[n] if len(found) > n else (found[0] if found else None)

    return choose


def safe_first(finding: Finding, fix: Fix) -> Any:
    """Safe fixes first, as "fix all" applies them (unsafe ones only on request), then the
    unsafe ones; each in the order of the findings in the file."""
    return fix.applicability is not Applicability.SAFE


DOWNGRADE_RULES = frozenset({"missing-downgrade", "empty-downgrade"})


def workflow(finding: Finding, fix: Fix) -> Any:
    """The order the round-trip tests apply fixes in: the downgrade is written first, from the
    upgrade as its author wrote it (the other fixes keep what the upgrade ends with); then the
    safe fixes, then the unsafe ones; the lock-timeout fix last, once the statements it guards
    have their final form. Each in the order of the findings in the file.

    The order of the findings alone (`safe_first`) is what an editor user clicking down the
    file gets; the tests marked BUG show where that order goes wrong today."""
    return (
        finding.rule not in DOWNGRADE_RULES,
        finding.rule == "missing-lock-timeout",
        safe_first(finding, fix),
    )


def copy_fixture(name: str, target: Path) -> Path:
    destination = target / name
    shutil.copytree(FIXTURES / name, destination)
    return destination


def analyse_file(path: Path, project: Project, workspace: Workspace) -> Analysis:
    text, problem = decode(path.read_bytes())
    config = workspace.config_for(path)
    settings: dict[str, Any] | None = None
    if project.tool == "django" and problem is None:
        settings = {"django_state": workspace.django_state(path, config.dialect or project.dialect)}
    return analyse_document(str(path), text, project, config, problem=problem, settings=settings)


def _rel(root: Path, path: Path) -> str:
    return path.resolve().relative_to(root.resolve()).as_posix()


def _errors(findings: list[Finding]) -> set[str]:
    return {f.rule for f in findings if f.severity is Severity.ERROR}


def fix_project(
    root: Path,
    choose: Chooser = preferred,
    priority: Priority = workflow,
    max_rounds: int = 10,
) -> FixRun:
    """Apply every applicable quick fix to every migration of the projects under `root`."""
    run = FixRun(root=root)
    seen_skips: set[tuple[str, str, str]] = set()
    for _ in range(max_rounds):
        changed = False
        for project in detect_projects(root):
            for path in project.migration_files():
                changed |= _fix_file(root, path, project, choose, priority, run, seen_skips)
        if not changed:
            break
    else:
        run.problems.append(f"the fix loop did not settle in {max_rounds} rounds")
    for project in detect_projects(root):
        for path in project.migration_files():
            analysis = analyse_file(path, project, Workspace())
            run.remaining[_rel(root, path)] = analysis.findings
    return run


def _fix_file(
    root: Path,
    path: Path,
    project: Project,
    choose: Chooser,
    priority: Priority,
    run: FixRun,
    seen_skips: set[tuple[str, str, str]],
) -> bool:
    rel = _rel(root, path)
    changed = False
    for _ in range(MAX_FIXES_PER_FILE):
        # a fresh workspace each time: Django's replayed model state must see the fixes made
        # to the app's earlier migrations
        analysis = analyse_file(path, project, Workspace())
        migration = analysis.migration
        if migration is None:
            return changed
        candidates: list[tuple[Finding, Fix]] = []
        for finding in analysis.findings:
            fixes = fixes_for(finding, migration)
            fix = choose(finding, fixes)
            if fix is None:
                titles = [f.title for f in fixes if f.applicability is Applicability.DISPLAY]
                reason = f"display: {titles[0]}" if titles else "no fix"
                key = (rel, finding.rule, reason)
                if key not in seen_skips:
                    seen_skips.add(key)
                    run.skipped.append(Skipped(rel, finding.rule, reason))
                continue
            candidates.append((finding, fix))
        if not candidates:
            return changed
        finding, fix = min(candidates, key=lambda c: priority(*c))  # stable: file order
        offered = len(usable(fixes_for(finding, migration)))
        before_text = migration.text
        after_text = apply_edits(before_text, fix.edits)
        path.write_text(after_text, encoding="utf-8")
        created = []
        for new in fix.files:
            target = Path(new.path) if Path(new.path).is_absolute() else path.parent / new.path
            target.parent.mkdir(parents=True, exist_ok=True)
            if target.exists():
                run.problems.append(f"{rel}: {finding.rule}: the fix overwrites {target}")
            target.write_text(new.text, encoding="utf-8")
            created.append(_rel(root, target))
        run.applied.append(
            Applied(
                rel,
                finding.rule,
                fix.title,
                fix.applicability.value,
                created=created,
                offered=offered,
            )
        )
        changed = True
        after = analyse_file(path, project, Workspace()).findings
        before_count = [f.rule for f in analysis.findings].count(finding.rule)
        after_count = [f.rule for f in after].count(finding.rule)
        if after_count >= before_count:
            run.problems.append(
                f"{rel}: the fix for {finding.rule} ({fix.title!r}) did not remove the finding"
            )
            return changed  # no loop on a fix that does not help
        if "migration-parse-error" in [f.rule for f in after]:
            run.problems.append(f"{rel}: the fix for {finding.rule} broke the file")
            return changed
        new_errors = _errors(after) - _errors(analysis.findings)
        if new_errors:
            run.problems.append(f"{rel}: the fix for {finding.rule} added errors {new_errors}")
    run.problems.append(f"{rel}: more than {MAX_FIXES_PER_FILE} fixes")
    return changed


# --------------------------------------------------------------------------- SQL text


_TOKEN = re.compile(
    r"""
    (?P<dollar>\$(?P<tag>[A-Za-z_][A-Za-z0-9_]*)?\$)
  | (?P<string>[Ee]?'(?:[^']|'')*')
  | (?P<ident>"(?:[^"]|"")*")
  | (?P<line>--[^\n]*)
  | (?P<block>/\*)
  | (?P<semi>;)
    """,
    re.VERBOSE,
)


def split_statements(sql: str) -> list[str]:
    """The statements of a SQL text, split at top-level semicolons (quotes, dollar quotes and
    comments respected), without their comments-only remainders."""
    statements: list[str] = []
    start = 0
    position = 0
    while True:
        match = _TOKEN.search(sql, position)
        if match is None:
            break
        if match.group("dollar"):
            close = sql.find(match.group("dollar"), match.end())
            position = len(sql) if close == -1 else close + len(match.group("dollar"))
        elif match.group("block"):
            position = _block_comment_end(sql, match.end())
        elif match.group("semi"):
            statements.append(sql[start : match.end()])
            start = position = match.end()
        else:
            position = match.end()
    statements.append(sql[start:])
    return [s.strip() for s in statements if _has_code(s)]


def _block_comment_end(sql: str, position: int) -> int:
    depth = 1
    while depth and position < len(sql):
        if sql.startswith("/*", position):
            depth += 1
            position += 2
        elif sql.startswith("*/", position):
            depth -= 1
            position += 2
        else:
            position += 1
    return position


def _has_code(statement: str) -> bool:
    without = re.sub(r"--[^\n]*", "", statement)
    without = re.sub(r"/\*.*?\*/", "", without, flags=re.S)
    return bool(without.strip().strip(";").strip())


# --------------------------------------------------------------------------- schema


@dataclass(frozen=True)
class Index:
    name: str
    table: str
    definition: str
    valid: bool
    ready: bool


@dataclass(frozen=True)
class Constraint:
    name: str
    table: str
    kind: str
    """p, f, c, u, x."""
    validated: bool
    definition: str


@dataclass
class Schema:
    tables: set[str]
    columns: dict[tuple[str, str], tuple[str, bool, str | None]]
    """(table, column) → (data type, nullable, default)."""
    indexes: dict[str, Index]
    constraints: dict[str, Constraint]

    def index(self, name: str) -> Index:
        assert name in self.indexes, f"no index {name}: {sorted(self.indexes)}"
        return self.indexes[name]

    def comparable(self) -> tuple[Any, ...]:
        return (self.tables, self.columns, self.indexes, self.constraints)


def schema(conn: Any, schema_name: str = "public") -> Schema:
    """Tables, columns, indexes (with pg_index.indisvalid) and constraints of one schema."""
    tables = {
        row[0]
        for row in conn.execute(
            "SELECT table_name FROM information_schema.tables "
            "WHERE table_schema = %s AND table_type = 'BASE TABLE'",
            (schema_name,),
        )
    }
    columns = {
        (row[0], row[1]): (row[2], row[3] == "YES", row[4])
        for row in conn.execute(
            "SELECT table_name, column_name, data_type, is_nullable, column_default "
            "FROM information_schema.columns WHERE table_schema = %s",
            (schema_name,),
        )
    }
    indexes = {
        row[0]: Index(row[0], row[1], row[2], row[3], row[4])
        for row in conn.execute(
            "SELECT i.indexname, i.tablename, i.indexdef, x.indisvalid, x.indisready "
            "FROM pg_indexes i "
            "JOIN pg_class c ON c.relname = i.indexname "
            "JOIN pg_namespace n ON n.oid = c.relnamespace AND n.nspname = i.schemaname "
            "JOIN pg_index x ON x.indexrelid = c.oid "
            "WHERE i.schemaname = %s",
            (schema_name,),
        )
    }
    constraints = {
        row[0]: Constraint(row[0], row[1], row[2], row[3], row[4])
        for row in conn.execute(
            "SELECT con.conname, cl.relname, con.contype::text, con.convalidated, "
            "pg_get_constraintdef(con.oid) "
            "FROM pg_constraint con "
            "JOIN pg_class cl ON cl.oid = con.conrelid "
            "JOIN pg_namespace n ON n.oid = cl.relnamespace "
            "WHERE n.nspname = %s",
            (schema_name,),
        )
    }
    return Schema(tables, columns, indexes, constraints)


def in_transaction_statements(script: str, pattern: str) -> tuple[list[str], list[str]]:
    """The statements of a SQL script (Alembic's offline output) that match `pattern`
    (a regex), split into those between BEGIN and COMMIT/ROLLBACK and those outside."""
    inside: list[str] = []
    outside: list[str] = []
    open_transaction = False
    for statement in split_statements(script):
        word = _simplified(statement).rstrip(";").strip()
        if word in ("BEGIN", "START TRANSACTION"):
            open_transaction = True
        elif word in ("COMMIT", "ROLLBACK", "END"):
            open_transaction = False
        elif re.search(pattern, statement, re.IGNORECASE):
            (inside if open_transaction else outside).append(statement)
    return inside, outside


def assert_all_valid(current: Schema) -> None:
    """No index left invalid (a failed CONCURRENTLY build) and no constraint left NOT VALID."""
    invalid = [i.name for i in current.indexes.values() if not (i.valid and i.ready)]
    assert not invalid, f"invalid indexes: {invalid}"
    unvalidated = [c.name for c in current.constraints.values() if not c.validated]
    assert not unvalidated, f"constraints still NOT VALID: {unvalidated}"


# --------------------------------------------------------------------------- Alembic

_ALEMBIC_WORKER = r"""
import contextlib, io, json, sys, traceback
from alembic import command
from alembic.config import Config

ini, url = sys.argv[1:3]
for line in sys.stdin:
    name, revision, sql = json.loads(line)
    out, err = io.StringIO(), io.StringIO()
    code = 0
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            config = Config(ini, output_buffer=out)
            config.set_main_option("sqlalchemy.url", url)
            getattr(command, name)(config, revision, **({"sql": True} if sql else {}))
        except BaseException:
            traceback.print_exc()
            code = 1
    sys.__stdout__.write(json.dumps([code, out.getvalue(), err.getvalue()]) + "\n")
    sys.__stdout__.flush()
"""

_workers: dict[tuple[Path, str], subprocess.Popen[str]] = {}


def _alembic_worker(root: Path, url: str) -> subprocess.Popen[str]:
    """One child process per project and database, running Alembic commands one by one: a
    command line's Alembic (env.py sets logging up as for a CLI run, the revision files are
    loaded fresh by each command) without paying its imports for every command."""
    key = (root, url)
    worker = _workers.get(key)
    if worker is None or worker.poll() is not None:
        sa_url = url.replace("postgresql://", "postgresql+psycopg://", 1)
        worker = subprocess.Popen(
            [sys.executable, "-c", _ALEMBIC_WORKER, str(root / "alembic.ini"), sa_url],
            cwd=root,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            env={**os.environ, "PYTHONDONTWRITEBYTECODE": "1"},
        )
        _workers[key] = worker
    return worker


def close_alembic_workers() -> None:
    while _workers:
        _, worker = _workers.popitem()
        assert worker.stdin is not None
        worker.stdin.close()
        try:
            worker.wait(10)
        except subprocess.TimeoutExpired:
            worker.kill()
            worker.wait()


def alembic(
    root: Path, url: str, command: str, revision: str, *, sql: bool = False
) -> subprocess.CompletedProcess[str]:
    """Run the real Alembic (`alembic.command.<command>(config, revision)`) in a child
    process, with `sqlalchemy.url` pointed at `url` (a postgresql:// URL; psycopg 3 is the
    driver); `sql`: offline mode, the SQL script in stdout. Exit status 1 and the traceback in
    stderr when the command raises."""
    worker = _alembic_worker(root, url)
    assert worker.stdin is not None and worker.stdout is not None
    worker.stdin.write(json.dumps([command, revision, sql]) + "\n")
    worker.stdin.flush()
    line = worker.stdout.readline()
    assert line, f"the Alembic worker died (exit status {worker.wait()})"
    code, out, err = json.loads(line)
    return subprocess.CompletedProcess([command, revision], code, out, err)


def ok(result: subprocess.CompletedProcess[str]) -> str:
    assert result.returncode == 0, f"{result.args} failed:\n{result.stdout}\n{result.stderr}"
    return result.stdout + result.stderr


# --------------------------------------------------------------------------- Django


def django(root: Path, url: str, *args: str) -> subprocess.CompletedProcess[str]:
    """`python manage.py <args>` of the project at `root`, in a child process, on the database
    of `url` (the fixture settings read the libpq variables PGHOST, PGPORT, PGUSER,
    PGDATABASE)."""
    parts = urlsplit(url)
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "pgsite.settings",
        "PGHOST": parts.hostname or "127.0.0.1",
        "PGPORT": str(parts.port or 5432),
        "PGUSER": parts.username or "postgres",
        "PGDATABASE": parts.path.lstrip("/"),
        "PYTHONDONTWRITEBYTECODE": "1",
    }
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=root,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


# --------------------------------------------------------------------------- SQL runners
# Each runner executes a project's migration files the way its tool does on PostgreSQL, on one
# autocommit psycopg connection (a runner keeps one session, as the tools do). psycopg sends a
# query without parameters with the simple query protocol, so a text of several statements is one
# query, which PostgreSQL runs as one implicit transaction: what golang-migrate, Prisma and dbmate
# (transaction:false) do with a file or section.


class RunnerError(Exception):
    """The tool itself refuses the migration (before PostgreSQL sees it)."""


def run_one_query(conn: Any, sql: str) -> None:
    """The whole text as one simple query (golang-migrate, Prisma, dbmate transaction:false)."""
    if _has_code(sql):
        conn.execute(sql)


def run_in_transaction(conn: Any, statements: list[str]) -> None:
    with conn.transaction():
        for statement in statements:
            conn.execute(statement)


def run_each(conn: Any, statements: list[str]) -> None:
    """Statement by statement in autocommit (goose NO TRANSACTION, Flyway without a
    transaction, plain SQL files run by psql-like runners)."""
    for statement in statements:
        conn.execute(statement)


_FLYWAY_INLINE = re.compile(
    r"^--\s*flyway:executeInTransaction\s*=\s*(true|false)\b", re.MULTILINE | re.IGNORECASE
)
_FLYWAY_NON_TX = re.compile(
    r"^(?:(?:CREATE|DROP)( UNIQUE)? INDEX CONCURRENTLY|REINDEX( VERBOSE)? (SCHEMA|DATABASE|SYSTEM)"
    r"|VACUUM|DISCARD ALL|ALTER SYSTEM|ALTER TYPE( .*)? ADD VALUE"
    r"|(CREATE|DROP) (DATABASE|TABLESPACE|SUBSCRIPTION))\b"
)
_FLYWAY_NAME = re.compile(r"^V(?P<version>[0-9._]+)__.+\.sql$")


def _simplified(statement: str) -> str:
    without = re.sub(r"--[^\n]*", " ", statement)
    without = re.sub(r"/\*.*?\*/", " ", without, flags=re.S)
    return " ".join(without.upper().split())


def _properties(path: Path, prefix: str = "") -> dict[str, str]:
    values: dict[str, str] = {}
    if not path.is_file():
        return values
    for line in path.read_text(encoding="utf-8").splitlines():
        key, sep, value = line.partition("=")
        if sep and not line.lstrip().startswith("#"):
            values[key.strip().removeprefix(prefix)] = value.strip()
    return values


def flyway_plan(path: Path, settings: dict[str, str]) -> tuple[list[str], bool]:
    """Flyway's statements of one script and whether it runs them in one transaction.

    As Flyway's ParserSqlScript does on PostgreSQL: the script's own `executeInTransaction`
    (`<script>.conf` or a `-- flyway:executeInTransaction=` line) decides when given; otherwise
    a script with a non-transactional statement (CREATE/DROP INDEX CONCURRENTLY, VACUUM, …)
    runs without a transaction, and mixing both kinds is refused unless `mixed=true`."""
    text = path.read_text(encoding="utf-8")
    statements = split_statements(text)
    inline = _FLYWAY_INLINE.search(text)
    conf = _properties(Path(str(path) + ".conf"))
    explicit: bool | None = None
    if inline is not None:
        explicit = inline.group(1).lower() == "true"
    elif "executeInTransaction" in conf:
        explicit = conf["executeInTransaction"].lower() == "true"
    if explicit is not None:
        return statements, explicit
    non_tx = [bool(_FLYWAY_NON_TX.match(_simplified(s))) for s in statements]
    mixed = settings.get("mixed", "false").lower() == "true"
    if any(non_tx) and not all(non_tx) and not mixed:
        raise RunnerError(
            f"{path.name}: Detected both transactional and non-transactional statements within "
            "the same migration (even though mixed is false)"
        )
    in_transaction = settings.get("executeInTransaction", "true").lower() == "true"
    return statements, in_transaction and not any(non_tx)


def _flyway_version(path: Path) -> tuple[int, ...]:
    match = _FLYWAY_NAME.match(path.name)
    assert match, path
    return tuple(int(part) for part in re.split(r"[._]", match.group("version")) if part)


@dataclass
class Step:
    """One migration file (or section) as its tool runs it."""

    name: str
    run: Callable[[Any], None]


def _in_transaction(statements: list[str]) -> Callable[[Any], None]:
    return lambda conn: run_in_transaction(conn, statements)


def _each(statements: list[str]) -> Callable[[Any], None]:
    return lambda conn: run_each(conn, statements)


def _one_query(sql: str, transaction: bool = False) -> Callable[[Any], None]:
    def run(conn: Any) -> None:
        if transaction:
            with conn.transaction():
                run_one_query(conn, sql)
        else:
            run_one_query(conn, sql)

    return run


def flyway_steps(root: Path, direction: str = "up") -> list[Step]:
    """`flyway migrate` of the project at `root` (flyway.conf, `filesystem:` locations)."""
    assert direction == "up", "Flyway's undo scripts are not part of these projects"
    settings = _properties(root / "flyway.conf", "flyway.")
    locations = [
        loc.strip().removeprefix("filesystem:")
        for loc in settings.get("locations", "filesystem:sql").split(",")
    ]
    scripts = [p for loc in locations for p in (root / loc).rglob("V*.sql")]

    def script(path: Path) -> Callable[[Any], None]:
        def run(conn: Any) -> None:
            statements, in_transaction = flyway_plan(path, settings)  # may refuse the script
            if in_transaction:
                run_in_transaction(conn, statements)
            else:
                run_each(conn, statements)

        return run

    return [Step(path.name, script(path)) for path in sorted(scripts, key=_flyway_version)]


def golang_migrate_steps(root: Path, direction: str = "up") -> list[Step]:
    """`migrate up` / `migrate down`: each file as one query, in version order (down:
    reversed)."""
    folder = root / "db" / "migrations"
    files = sorted(folder.glob(f"*.{direction}.sql"), key=lambda p: int(p.name.split("_")[0]))
    if direction == "down":
        files.reverse()
    return [Step(p.name, _one_query(p.read_text(encoding="utf-8"))) for p in files]


def prisma_steps(root: Path, direction: str = "up") -> list[Step]:
    """`prisma migrate deploy`: each migration.sql as one query, by folder name."""
    assert direction == "up", "Prisma migrations have no down step"
    files = sorted((root / "prisma" / "migrations").glob("*/migration.sql"))
    return [Step(p.parent.name, _one_query(p.read_text(encoding="utf-8"))) for p in files]


_DBMATE_MARKER = re.compile(r"^--\s*migrate:(up|down)\b(.*)$", re.MULTILINE | re.IGNORECASE)


def dbmate_sections(text: str) -> dict[str, tuple[str, bool]]:
    """`up`/`down` → (section text, whether dbmate wraps it in a transaction)."""
    matches = list(_DBMATE_MARKER.finditer(text))
    sections: dict[str, tuple[str, bool]] = {}
    for index, match in enumerate(matches):
        end = matches[index + 1].start() if index + 1 < len(matches) else len(text)
        body = text[match.end() : end]
        sections[match.group(1).lower()] = (body, "transaction:false" not in match.group(2))
    return sections


def dbmate_steps(root: Path, direction: str = "up") -> list[Step]:
    """`dbmate up` / `dbmate rollback` for each file: the section sent as one query, in a
    transaction unless its marker says `transaction:false`."""
    files = sorted((root / "db" / "migrations").glob("*.sql"))
    if direction == "down":
        files.reverse()
    steps = []
    for path in files:
        body, transactional = dbmate_sections(path.read_text(encoding="utf-8"))[direction]
        steps.append(Step(path.name, _one_query(body, transaction=transactional)))
    return steps


_GOOSE_SECTION = re.compile(r"^--\s*\+goose\s+(Up|Down)\b.*$", re.MULTILINE | re.IGNORECASE)
_GOOSE_NO_TX = re.compile(r"^--\s*\+goose\s+NO\s+TRANSACTION\b", re.MULTILINE | re.IGNORECASE)
_GOOSE_BLOCK = re.compile(
    r"^--\s*\+goose\s+StatementBegin\b.*?$(.*?)^--\s*\+goose\s+StatementEnd\b.*?$",
    re.MULTILINE | re.IGNORECASE | re.DOTALL,
)


def goose_statements(text: str, direction: str) -> tuple[list[str], bool]:
    """The statements of the `Up`/`Down` section (StatementBegin/End blocks kept whole) and
    whether goose runs them in a transaction."""
    matches = list(_GOOSE_SECTION.finditer(text))
    body = ""
    for index, match in enumerate(matches):
        if match.group(1).lower() == direction:
            end = matches[index + 1].start() if index + 1 < len(matches) else len(text)
            body = text[match.end() : end]
    statements: list[str] = []
    position = 0
    for block in _GOOSE_BLOCK.finditer(body):
        statements.extend(split_statements(body[position : block.start()]))
        statements.append(block.group(1).strip())
        position = block.end()
    statements.extend(split_statements(body[position:]))
    return statements, _GOOSE_NO_TX.search(text) is None


def goose_steps(root: Path, direction: str = "up") -> list[Step]:
    """`goose up` / `goose reset`: statement by statement, in a transaction per file unless
    the file says `-- +goose NO TRANSACTION`."""
    files = sorted((root / "migrations").glob("*.sql"), key=lambda p: int(p.name.split("_")[0]))
    if direction == "down":
        files.reverse()
    steps = []
    for path in files:
        statements, transactional = goose_statements(path.read_text(encoding="utf-8"), direction)
        steps.append(
            Step(path.name, _in_transaction(statements) if transactional else _each(statements))
        )
    return steps


def plain_steps(root: Path, direction: str = "up") -> list[Step]:
    """Numbered .sql files, statement by statement in autocommit (`psql -f` without
    `--single-transaction`)."""
    assert direction == "up"
    files = sorted((root / "migrations").glob("*.sql"))
    return [Step(p.name, _each(split_statements(p.read_text(encoding="utf-8")))) for p in files]


RUNNERS: dict[str, Callable[..., list[Step]]] = {
    "flyway": flyway_steps,
    "golang-migrate": golang_migrate_steps,
    "prisma": prisma_steps,
    "dbmate": dbmate_steps,
    "goose": goose_steps,
    "sql": plain_steps,
}
