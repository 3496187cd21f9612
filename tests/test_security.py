"""Opening a hostile repository is safe (issue 10).

The workspace is every tool's fixture project made hostile: each migration, `settings.py`,
`env.py`, knexfile, `.sequelizerc`, `data-source.ts`, `Gemfile` and `artisan` writes a marker
file if anything runs it; Python files named like the libraries the server imports (`yaml.py`,
`tree_sitter.py`, ...) sit where `python -m` would import them from; YAML asks to run a
command, XML to read a file outside through an entity; file names are shell syntax; links and
configured folders point outside the workspace. The server is started the way the VS Code
extension starts it (`python -m migration_lsp serve`, in the workspace folder) and used for
everything an editor does; the CLI checks, diffs and graphs it. Through an audit hook in each
process (`sys.addaudithook`) the tests see every file opened, folder listed, socket and process
started, and check:

- no marker appears, nothing from the workspace is imported, no shell command runs;
- no network: every socket connection or name lookup is refused and recorded (the LSP pipe is
  stdio);
- the only subprocess is `git`, with an argument list, never a shell;
- nothing is written into the workspace (the CLI's cache goes to its cache folder);
- nothing outside the workspace is opened or listed, whatever links or settings point there.
"""

from __future__ import annotations

import ast
import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from lsprotocol import types as lsp

from fuzzing import FUZZ_FILES, OpenDocument, ServerRun, make_workspace

SHADOWED = (
    "yaml",
    "sqlglot",
    "sqlglotc",
    "libcst",
    "pygls",
    "lsprotocol",
    "cattrs",
    "attrs",
    "attr",
    "tree_sitter",
    "tree_sitter_ruby",
    "tree_sitter_php",
    "tree_sitter_javascript",
    "tree_sitter_typescript",
    "tree_sitter_xml",
    "defusedxml",
    "tomllib",
    "difflib",
    "configparser",
    "fnmatch",
    "csv",
    "shlex",
    "zipfile",
    "sitecustomize",
    "usercustomize",
)
"""Modules the server or the CLI may import after start-up: a workspace file of that name
must never be imported in their place."""

HOOK = r"""
import os, sys

def _install(log_path, outside):
    log = open(log_path, "a", buffering=1, encoding="utf-8")
    outside = os.path.realpath(outside)
    network = {"socket.connect", "socket.getaddrinfo", "socket.gethostbyname",
               "socket.gethostbyname_ex", "socket.gethostbyaddr", "socket.bind",
               "socket.sendto", "socket.sendmsg"}
    processes = {"subprocess.Popen", "os.system", "os.exec", "os.posix_spawn", "os.spawn",
                 "os.startfile"}
    reading = {"open", "os.scandir", "os.listdir", "os.walk"}

    def record(kind, detail):
        log.write(repr((kind, detail)) + "\n")

    def hook(event, args):
        if event in network:
            record("network", event + " " + repr(args)[:200])
            raise PermissionError("network access is blocked in this test")
        if event in processes:
            detail = [str(a) for a in args[1]] if event == "subprocess.Popen" else repr(args)
            record("process", (event, repr(args[0]), detail))
        elif event in reading and args and isinstance(args[0], (str, bytes, os.PathLike)):
            try:
                path = os.fsdecode(args[0])
                real = os.path.realpath(path)
            except Exception:
                return
            if real == outside or real.startswith(outside + os.sep):
                record("outside", (event, path))

    sys.addaudithook(hook)

_install(sys.argv[1], sys.argv[2])
sys.argv = ["migration_lsp", *sys.argv[3:]]
import runpy
runpy.run_module("migration_lsp", run_name="__main__", alter_sys=True)
"""
"""Run as `python -c HOOK LOG OUTSIDE ARGS...`: `python -m migration_lsp ARGS...` under an audit
hook. Like `-m`, `-c` puts the current folder first on the module path."""


@dataclass(slots=True)
class Hostile:
    root: Path
    """Holds the workspace, the folder outside it, the markers folder and the logs."""
    workspace: Path
    outside: Path
    markers: Path
    log: Path
    home: Path
    cache: Path
    before: dict[str, tuple[int, int]] = field(default_factory=dict)
    """The workspace's files (size, modification time) before anything ran."""
    cli_outputs: list[str] = field(default_factory=list)

    def env(self) -> dict[str, str]:
        env = dict(os.environ)
        env.update(
            HOME=str(self.home),
            XDG_CACHE_HOME=str(self.cache),
            MIGRATION_LSP_CACHE_DIR=str(self.cache / "migration-lsp"),
            PYTHONDONTWRITEBYTECODE="",
        )
        env.pop("PYTHONSAFEPATH", None)
        env.pop("PYTHONPATH", None)
        return env

    def hooked(self, *args: str) -> list[str]:
        return [sys.executable, "-c", HOOK, str(self.log), str(self.outside), *args]

    def records(self) -> list[tuple[str, Any]]:
        if not self.log.exists():
            return []
        lines = self.log.read_text(encoding="utf-8").splitlines()
        return [ast.literal_eval(line) for line in lines]


def _marker(h: Hostile, what: str) -> str:
    return str(h.markers / what)


def _prepend(path: Path, code: str) -> None:
    path.write_text(code + path.read_text(encoding="utf-8"), encoding="utf-8")


def _poison(h: Hostile) -> None:
    """Make every file that could be run write a marker if it is."""
    ws = h.workspace
    py = "import pathlib; pathlib.Path({m!r}).write_text('ran')\n"
    js = "require('fs').writeFileSync({m!r}, 'ran');\n"
    ts = "import * as fs from 'fs'; fs.writeFileSync({m!r}, 'ran');\n"
    for path in sorted(ws.rglob("*")):
        if not path.is_file() or ".git" in path.parts:
            continue
        name = path.relative_to(ws).as_posix().replace("/", "__")
        marker = _marker(h, name)
        if path.suffix == ".py":
            _prepend(path, py.format(m=marker))
        elif path.suffix in (".js", ".cjs") and "package" not in path.name:
            _prepend(path, js.format(m=marker))
        elif path.suffix in (".ts", ".mjs"):
            _prepend(path, ts.format(m=marker))
        elif path.suffix == ".rb" or path.name == "Gemfile":
            _prepend(path, f"File.write({marker!r}, 'ran')\n")
        elif path.suffix == ".php" or path.name == "artisan":
            text = path.read_text(encoding="utf-8")
            if "<?php" in text:
                path.write_text(
                    text.replace("<?php", f"<?php file_put_contents({marker!r}, 'ran');", 1),
                    encoding="utf-8",
                )
        elif path.suffix == ".sql":
            path.write_text(
                f"-- \\! touch {marker}\n"
                + path.read_text(encoding="utf-8")
                + f"\nCOPY (SELECT 1) TO PROGRAM 'touch {marker}';\n",
                encoding="utf-8",
            )
    django = ws / "django"
    (django / "shop" / "settings.py").write_text(
        py.format(m=_marker(h, "settings.py"))
        + "DATABASES = {'default': {'ENGINE': 'django.db.backends.postgresql'}}\n"
    )
    (ws / "sequelize" / ".sequelizerc").write_text(
        js.format(m=_marker(h, ".sequelizerc"))
        + "const path = require('path');\n"
        + "module.exports = { 'migrations-path': path.resolve('migrations') };\n"
    )
    for folder in (ws, *[p for p in ws.iterdir() if p.is_dir()]):
        for module in SHADOWED:
            (folder / f"{module}.py").write_text(py.format(m=_marker(h, f"import-{module}")))
    # YAML that runs a command when loaded unsafely, XML reading a file outside via an entity
    yaml_file = ws / "liquibase" / "db" / "changelog" / "unsafe" / "102-drop-legacy-columns.yaml"
    yaml_file.write_text(
        f"x: !!python/object/apply:os.system ['touch {_marker(h, 'yaml')}']\n"
        + yaml_file.read_text(encoding="utf-8"),
        encoding="utf-8",
    )
    xml_file = ws / "liquibase" / "db" / "changelog" / "unsafe" / "101-index-orders-status.xml"
    secret = h.outside / "secret.txt"
    text = xml_file.read_text(encoding="utf-8")
    doctype = f'<!DOCTYPE databaseChangeLog [<!ENTITY leak SYSTEM "file://{secret}">]>\n'
    text = text.replace("<databaseChangeLog", doctype + "<databaseChangeLog", 1)
    xml_file.write_text(text.replace("</databaseChangeLog>", "&leak;</databaseChangeLog>"))


def _shell_names(h: Hostile) -> list[Path]:
    """Migrations whose names are shell syntax: harmless if nothing is run through a shell."""
    flyway = h.workspace / "lsp_workspace" / "db" / "migration"
    versions = h.workspace / "lsp_workspace" / "alembic" / "versions"
    rails = h.workspace / "rails" / "db" / "migrate"
    created = [
        flyway / "V7__$(touch pwned).sql",
        flyway / "V8__;rm -rf ~;.sql",
        flyway / "V9__`touch pwned`'\"&&|.sql",
        versions / "$(touch pwned)_x.py",
        rails / "20240301000000_$(touch pwned).rb",
    ]
    for path in created:
        path.write_text(
            "CREATE INDEX i ON t (a);\n" if path.suffix == ".sql" else "x = 1\n", encoding="utf-8"
        )
    return created


def _links_outside(h: Hostile) -> None:
    """Links and settings pointing at migrations outside the workspace."""
    (h.outside / "migrations").mkdir(parents=True)
    for name in ("V50__outside.sql", "001_outside.sql", "20240101000000_outside.rb"):
        (h.outside / "migrations" / name).write_text("DROP TABLE outside_secret_table;\n")
    (h.outside / "secret.txt").write_text("outside_secret_text\n")
    ws = h.workspace
    flyway = ws / "lsp_workspace" / "db" / "migration"
    (flyway / "V51__linked.sql").symlink_to(h.outside / "migrations" / "V50__outside.sql")
    (flyway / "linked_folder").symlink_to(h.outside / "migrations")
    (ws / "rails" / "db" / "migrate" / "20240102000000_linked.rb").symlink_to(
        h.outside / "migrations" / "20240101000000_outside.rb"
    )
    (ws / "shared").symlink_to(h.outside)
    (ws / "lsp_workspace" / "flyway.conf").write_text(
        f"flyway.locations=filesystem:db/migration,filesystem:{h.outside / 'migrations'}\n"
    )


def _git_repository(workspace: Path) -> None:
    """A repository with a commit on main and an uncommitted edit: the history rules ask git."""
    env = {**os.environ, "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@t", "HOME": "/nonexistent"}
    env.update(GIT_COMMITTER_NAME="t", GIT_COMMITTER_EMAIL="t@t", GIT_CONFIG_NOSYSTEM="1")
    for args in (
        ["init", "-q", "-b", "main"],
        ["add", "-A"],
        ["commit", "-q", "-m", "init", "--no-gpg-sign"],
    ):
        subprocess.run(["git", *args], cwd=workspace, env=env, check=True, capture_output=True)
    edited = workspace / FUZZ_FILES[1]
    edited.write_text(edited.read_text(encoding="utf-8") + "-- edited\n", encoding="utf-8")


def _snapshot(folder: Path) -> dict[str, tuple[int, int]]:
    found: dict[str, tuple[int, int]] = {}
    for dirpath, dirnames, filenames in os.walk(folder):
        for name in dirnames + filenames:
            path = Path(dirpath) / name
            stat = path.lstat()
            found[str(path.relative_to(folder))] = (stat.st_size, stat.st_mtime_ns)
    return found


@pytest.fixture(scope="module")
def hostile(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Hostile]:
    root = tmp_path_factory.mktemp("hostile")
    h = Hostile(
        root=root,
        workspace=root / "ws",
        outside=root / "outside",
        markers=root / "markers",
        log=root / "audit.log",
        home=root / "home",
        cache=root / "cache",
    )
    for folder in (h.outside, h.markers, h.home, h.cache):
        folder.mkdir()
    make_workspace(h.workspace)
    _poison(h)
    _shell_names(h)
    _links_outside(h)
    _git_repository(h.workspace)
    yield h


@pytest.fixture(scope="module")
def used(hostile: Hostile) -> Iterator[Hostile]:
    """The hostile workspace after the server and the CLI have done everything with it."""
    hostile.before = _snapshot(hostile.workspace)
    _use_the_server(hostile)
    _use_the_server(hostile, hooked=False)
    _use_the_cli(hostile)
    yield hostile


def _use_the_server(h: Hostile, hooked: bool = True) -> None:
    """Everything an editor does: open, edit, pull, hover, complete, act, navigate, commands."""
    command = h.hooked("serve") if hooked else [sys.executable, "-m", "migration_lsp", "serve"]
    server = ServerRun(h.workspace, "utf-16", pull=True, env=h.env(), command=command)
    try:
        server.start()
        for relative in FUZZ_FILES:
            path = h.workspace / relative
            document = OpenDocument.open(server, path, path.read_text(encoding="utf-8"))
            diagnostics = document.diagnostics()
            document.change([_append(document)])
            diagnostics = document.diagnostics()
            for offset in range(0, len(document.text), max(1, len(document.text) // 6)):
                document.hover(offset)
                document.completion(offset)
                document.definition(offset)
                document.references(offset)
            document.symbols()
            document.code_lenses()
            whole = lsp.Range(start=lsp.Position(0, 0), end=document.position(len(document.text)))
            document.code_actions(whole, diagnostics)
            document.close()
        server.timed(
            "workspace/symbol",
            server.client.workspace_symbol_async(lsp.WorkspaceSymbolParams(query="")),
        )
        for command_name, arguments in (
            ("migration-lsp.showProjects", []),
            ("migration-lsp.showDocumentation", ["non-concurrent-index"]),
        ):
            server.timed(
                command_name,
                server.client.workspace_execute_command_async(
                    lsp.ExecuteCommandParams(command=command_name, arguments=arguments)
                ),
            )
        watched = lsp.DidChangeWatchedFilesParams(
            changes=[
                lsp.FileEvent(
                    uri=(h.workspace / "lsp_workspace" / "alembic.ini").as_uri(),
                    type=lsp.FileChangeType.Changed,
                )
            ]
        )
        server.call(lambda: server.client.workspace_did_change_watched_files(watched))
        settings = lsp.DidChangeConfigurationParams(settings={"migrationLsp": {}})
        server.call(lambda: server.client.workspace_did_change_configuration(settings))
        server.timed(
            "workspace/executeCommand",
            server.client.workspace_execute_command_async(
                lsp.ExecuteCommandParams(command="migration-lsp.showProjects", arguments=[])
            ),
        )
        assert server.stop() == 0
    finally:
        server.kill()
    problems = [line for line in server.stderr if "Traceback" in line]
    assert problems == [], "".join(server.stderr)


def _append(document: OpenDocument) -> Any:
    from fuzzing import Change

    end = len(document.text)
    return Change(end, end, "\n")


CLI_RUNS: tuple[tuple[str, ...], ...] = (
    ("check", "--format", "json", "."),
    ("check", "--format", "sarif", "--jobs", "2", "."),
    ("check", "--diff", "."),
    ("check", "--format", "json", "lsp_workspace/db/migration"),
    ("graph", "."),
    ("graph", "--format", "mermaid", "."),
    ("detect", "."),
    ("rules",),
    ("explain", "non-concurrent-index"),
)


def _use_the_cli(h: Hostile) -> None:
    for args in CLI_RUNS:
        completed = subprocess.run(
            h.hooked(*args),
            cwd=h.workspace,
            env=h.env(),
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert "Traceback" not in completed.stderr, (args, completed.stderr)
        assert completed.returncode in (0, 1), (args, completed.stderr)
        h.cli_outputs.append(completed.stdout + completed.stderr)


# --------------------------------------------------------------------------- the checks


def test_the_hostile_workspace_is_complete(hostile: Hostile) -> None:
    ws = hostile.workspace
    for name in (
        "django/shop/settings.py",
        "lsp_workspace/alembic/env.py",
        "knex/knexfile.js",
        "sequelize/.sequelizerc",
        "typeorm/src/data-source.ts",
        "rails/Gemfile",
        "laravel/artisan",
        "yaml.py",
        "lsp_workspace/tree_sitter.py",
    ):
        assert hostile.markers.as_posix() in (ws / name).read_text(encoding="utf-8"), name


def test_no_workspace_code_ever_runs(used: Hostile) -> None:
    assert sorted(p.name for p in used.markers.iterdir()) == []
    assert not [p for p in used.root.rglob("pwned")]


def test_no_network_access(used: Hostile) -> None:
    assert [detail for kind, detail in used.records() if kind == "network"] == []


def test_subprocesses_are_git_with_fixed_arguments_and_no_shell(used: Hostile) -> None:
    processes = [detail for kind, detail in used.records() if kind == "process"]
    assert processes, "git was expected to run (the workspace is a repository)"
    for event, executable, argv in processes:
        assert event == "subprocess.Popen", (event, executable, argv)  # no os.system, exec
        assert isinstance(argv, list) and argv[0] == "git", argv  # a list, git, no shell
        assert executable in ("None", repr("git")), executable


def test_nothing_is_written_into_the_workspace(used: Hostile) -> None:
    before = used.before
    after = _snapshot(used.workspace)
    assert sorted(set(after) - set(before)) == []
    assert sorted(set(before) - set(after)) == []
    changed = sorted(k for k in before if before[k] != after[k] and not k.startswith(".git/"))
    assert changed == []
    assert any((used.cache / "migration-lsp").rglob("*")), "the CLI cache is outside"


def test_nothing_outside_the_workspace_is_read(used: Hostile) -> None:
    assert [detail for kind, detail in used.records() if kind == "outside"] == []
    for output in used.cli_outputs:
        assert "outside_secret" not in output
        assert str(used.outside) not in output
    check = json.loads(used.cli_outputs[0])
    findings = check["findings"] if isinstance(check, dict) else check
    paths = {f["path"] for f in findings}
    assert any("V2__index_orders.sql" in p for p in paths)  # the real ones are checked
    assert not any("linked" in p for p in paths)


def test_shell_syntax_file_names_are_checked_as_files(used: Hostile) -> None:
    check = json.loads(used.cli_outputs[0])
    findings = check["findings"] if isinstance(check, dict) else check
    paths = {Path(f["path"]).name for f in findings}
    assert "V7__$(touch pwned).sql" in paths
    assert "V8__;rm -rf ~;.sql" in paths


def test_the_audit_hook_sees_what_it_must(tmp_path: Path) -> None:
    """The hook itself works: a network call, a shell and a read outside are all recorded."""
    h = Hostile(
        tmp_path, tmp_path, tmp_path / "out", tmp_path, tmp_path / "log", tmp_path, tmp_path
    )
    h.outside.mkdir()
    (h.outside / "f").write_text("x")
    probe = (
        "import socket, subprocess, runpy\n"
        "try:\n    socket.create_connection(('127.0.0.1', 9), timeout=1)\n"
        "except OSError:\n    pass\n"
        "subprocess.run('true', shell=True)\n"
        f"open({str(h.outside / 'f')!r}).read()\n"
    )
    code = HOOK.replace(
        'runpy.run_module("migration_lsp", run_name="__main__", alter_sys=True)', probe
    )
    subprocess.run([sys.executable, "-c", code, str(h.log), str(h.outside)], check=True, timeout=30)
    kinds = {kind for kind, _ in h.records()}
    assert kinds == {"network", "process", "outside"}
    shell = next(d for k, d in h.records() if k == "process")
    assert shell[2][0] in ("/bin/sh", "sh")
    with pytest.raises(AssertionError):
        test_subprocesses_are_git_with_fixed_arguments_and_no_shell(h)
    shutil.rmtree(h.outside)
