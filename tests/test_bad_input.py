"""Bad input, each with a test (issue 10): what users' repositories and editors really contain
must become a clear finding or message, never a traceback, a hang or a wrong position.

The command line's basic cases (one non-UTF-8 byte, a BOM, a binary file, a file over the size
limit, an unreadable file faked in-process) are in `test_cli.py`; here every tool's parser gets
the same inputs, the language server gets them as an editor sends them, and the workspace scan
meets links, pipes and folders it may not read.
"""

from __future__ import annotations

import ctypes
import json
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from lsprotocol import types as lsp

from fuzzing import (
    OpenDocument,
    ServerRun,
    check_engine_input,
    comparable,
    make_workspace,
    migration_inputs,
)
from migration_lsp.cli import main
from migration_lsp.engine import Workspace, analyse_document
from migration_lsp.project.config import Config
from migration_lsp.rules.registry import PARSE_ERROR

INPUTS = migration_inputs()
FIXTURES = Path(__file__).resolve().parent / "fixtures"
ALEMBIC = "lsp_workspace/alembic/versions/b2c3d4e5f6a7_add_email.py"
FLYWAY = "lsp_workspace/db/migration/V2__index_orders.sql"


def one_per_format() -> list[tuple[Path, Any]]:
    """One migration with findings per (tool, file type)."""
    chosen: dict[tuple[str, str], tuple[Path, Any]] = {}
    for path, project in INPUTS:
        key = (project.tool, path.suffix)
        if key in chosen:
            continue
        findings = check_engine_input(path, project, path.read_bytes()).findings
        if findings and all(f.rule != PARSE_ERROR for f in findings):
            chosen[key] = (path, project)
    return list(chosen.values())


SAMPLES = one_per_format()
SAMPLE_IDS = [f"{project.tool}{path.suffix}" for path, project in SAMPLES]


def findings_at(path: Path, project: Any, data: bytes) -> list[tuple[str, tuple[int, int]]]:
    return sorted((f.rule, f.start) for f in check_engine_input(path, project, data).findings)


def check_json(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, list[Any], str]:
    code = main(["check", "--format", "json", *args])
    out, err = capsys.readouterr()
    data = json.loads(out)
    return code, data["findings"] if isinstance(data, dict) else data, err


@pytest.fixture
def start_server(tmp_path: Path) -> Iterator[Callable[..., ServerRun]]:
    started: list[ServerRun] = []

    def start(
        workspace: Path | None = None,
        encoding: str = "utf-16",
        pull: bool = True,
        settings: dict[str, Any] | None = None,
    ) -> ServerRun:
        server = ServerRun(workspace or make_workspace(tmp_path / "ws"), encoding, pull)
        started.append(server)
        server.start(settings)
        return server

    yield start
    for server in started:
        server.kill()


def test_every_format_has_a_sample() -> None:
    assert {f"{p.tool}{s.suffix}" for s, p in SAMPLES} >= {
        "alembic.py",
        "django.py",
        "flyway.sql",
        "rails.rb",
        "laravel.php",
        "knex.js",
        "knex.ts",
        "sequelize.js",
        "typeorm.ts",
        "liquibase.xml",
        "liquibase.yaml",
        "liquibase.json",
        "liquibase.sql",
        "prisma.sql",
    }


# --------------------------------------------------------------------------- encodings


@pytest.mark.parametrize(("path", "project"), SAMPLES, ids=SAMPLE_IDS)
def test_a_non_utf8_byte_is_one_parse_error_where_it_is(path: Path, project: Any) -> None:
    data = path.read_bytes()
    line = data.count(b"\n", 0, len(data) // 2)
    at = data.index(b"\n", len(data) // 2)  # the end of a line in the middle of the file
    column = at - (data.rfind(b"\n", 0, at) + 1)
    damaged = data[:at] + b"\xe9" + data[at:]  # "é" as Latin-1 writes it
    result = check_engine_input(path, project, damaged)
    assert [(f.rule, f.start) for f in result.findings] == [(PARSE_ERROR, (line, column))]
    assert "not valid UTF-8 (byte 0xe9" in result.findings[0].message


@pytest.mark.parametrize(("path", "project"), SAMPLES, ids=SAMPLE_IDS)
def test_a_bom_changes_nothing(path: Path, project: Any) -> None:
    data = path.read_bytes()
    assert findings_at(path, project, b"\xef\xbb\xbf" + data) == findings_at(path, project, data)


@pytest.mark.parametrize(("path", "project"), SAMPLES, ids=SAMPLE_IDS)
def test_nul_bytes_make_one_binary_file_finding(path: Path, project: Any) -> None:
    data = path.read_bytes()
    result = check_engine_input(path, project, data[:100] + b"\x00\x00" + data[100:])
    assert [f.rule for f in result.findings] == [PARSE_ERROR]
    assert "Binary file" in result.findings[0].message


def test_an_editor_buffer_with_nul_characters(start_server: Callable[..., ServerRun]) -> None:
    """An editor sends the text it holds, NUL characters included (editors strip a BOM)."""
    server = start_server()
    path = server.workspace / FLYWAY
    text = path.read_text(encoding="utf-8")
    document = OpenDocument.open(server, path, text.replace("\n", "\x00\n", 1) + "\x00")
    diagnostics = document.diagnostics()  # checked: inside the text, back within 2 s
    assert "non-concurrent-index" in [d.code for d in diagnostics] or [
        d.code for d in diagnostics
    ] == [PARSE_ERROR]
    assert server.log_problems() == []


# --------------------------------------------------------------------------- sizes


def test_a_10_mb_file_is_skipped_with_one_info_finding_naming_the_limit(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], start_server: Callable[..., ServerRun]
) -> None:
    folder = tmp_path / "big" / "db" / "migration"
    folder.mkdir(parents=True)
    statement = "CREATE INDEX idx_orders_user ON orders (user_id);\n"
    huge = statement * (10 * 1024 * 1024 // len(statement) + 1)
    (folder / "V1__huge.sql").write_text(huge)
    started = time.perf_counter()
    _, findings, _ = check_json(capsys, str(tmp_path / "big"))
    assert time.perf_counter() - started < 5
    assert [(f["rule"], f["severity"]) for f in findings] == [(PARSE_ERROR, "info")]
    assert "10.0 MB" in findings[0]["message"]
    assert "max-file-size limit of 4.0 MB" in findings[0]["message"]

    server = start_server(tmp_path / "big")
    document = OpenDocument.open(server, folder / "V1__huge.sql", huge)
    diagnostics = document.diagnostics()
    assert [(d.code, d.severity) for d in diagnostics] == [
        (PARSE_ERROR, lsp.DiagnosticSeverity.Information)
    ]
    assert "max-file-size" in diagnostics[0].message
    document.close()
    raised = start_server(tmp_path / "big", settings={"maxFileSize": 100})
    small = OpenDocument.open(raised, folder / "V1__huge.sql", statement * 3)
    assert "max-file-size limit of 100 bytes" in small.diagnostics()[0].message


def test_a_100000_line_sql_file(tmp_path: Path) -> None:
    """A data dump's size: checked completely, the finding on its last line."""
    lines = [f"INSERT INTO orders VALUES ({i});" for i in range(99_999)]
    text = "\n".join([*lines, "CREATE INDEX idx_orders_note ON orders (note);"]) + "\n"
    path, project = next((p, proj) for p, proj in INPUTS if p.name == Path(FLYWAY).name)
    result = check_engine_input(path, project, text)
    assert result.problems == 0
    index = [f for f in result.findings if f.rule == "non-concurrent-index"]
    assert [f.start for f in index] == [(99_999, 0)]


# --------------------------------------------------------------------------- nesting

DEPTH = 1500
"""Deeper than Python's default recursion limit allows a recursive walk to follow."""

NESTED: dict[str, str] = {
    ".py": "def upgrade():\n    op.execute(" + "f(" * DEPTH + ")" * DEPTH + ")\n",
    ".rb": "class A < ActiveRecord::Migration[7.1]\n  def change\n    execute("
    + '"a" + ' * DEPTH
    + '"b")\n  end\nend\n',
    ".php": "<?php\nreturn new class extends Migration {\n public function up(): void {"
    + " DB::statement("
    + "'a' . " * DEPTH
    + "'b'); $x = "
    + "[" * DEPTH
    + "]" * DEPTH
    + "; }\n};\n",
    ".js": "exports.up = function(knex) { return knex.raw("
    + "'a' + " * DEPTH
    + "'b').then(() => "
    + "[" * DEPTH
    + "]" * DEPTH
    + "); };\n",
    ".ts": "export class A implements MigrationInterface { async up(q: QueryRunner) {"
    + " await q.query("
    + "'a' + " * DEPTH
    + "'b'); "
    + "if (x) { " * DEPTH
    + "}" * DEPTH
    + " } }\n",
    ".xml": '<databaseChangeLog><changeSet id="1" author="a"><sql>'
    + "<x>" * DEPTH
    + "</x>" * DEPTH
    + "</sql></changeSet></databaseChangeLog>\n",
    ".yaml": "databaseChangeLog:\n  - changeSet:\n      changes: "
    + "[" * DEPTH
    + "]" * DEPTH
    + "\n",
    ".json": '{"databaseChangeLog": ' + '{"a": ' * DEPTH + "1" + "}" * DEPTH + "}",
    ".sql": "SELECT " + "f(" * DEPTH + ")" * DEPTH + ";\nSELECT 1 " + "+ 1 " * DEPTH + ";\n",
}


@pytest.mark.parametrize(("path", "project"), SAMPLES, ids=SAMPLE_IDS)
def test_deeply_nested_code(path: Path, project: Any) -> None:
    """A parse error or a normal analysis, never a RecursionError (long string
    concatenations are common in hand-written SQL)."""
    result = check_engine_input(path, project, NESTED[path.suffix])
    assert result.problems <= 1


def test_a_long_string_concatenation_is_still_analysed() -> None:
    """A statement built from 400 pieces joined with `+` is found, not a parse error."""
    path, project = next((p, proj) for p, proj in INPUTS if proj.tool == "knex")
    pieces = " + ".join(
        ["'UPDATE users SET plan = 1 WHERE id IN (0'"] + ["', 1'"] * 398 + ["') LIMIT 5'"]
    )
    text = f"exports.up = function (knex) {{\n  return knex.raw({pieces});\n}};\n"
    text += "exports.down = function () {};\n"
    rules = {f.rule for f in check_engine_input(path, project, text).findings}
    assert PARSE_ERROR not in rules
    assert "update-with-limit" in rules


JS_DEPTH = 5000
"""Generated or minified JavaScript nests this deep; it once took the engine 20+ seconds."""

UNSAFE_CALL = {
    "knex": "knex.raw('CREATE INDEX idx_users_email ON users (email)')",
    "sequelize": "queryInterface.addIndex('users', ['email'])",
    "typeorm": "queryRunner.query('CREATE INDEX idx_users_email ON users (email)')",
}
"""One call per tool that creates an index without CONCURRENTLY."""

JS_MIGRATIONS = {
    "knex.js": "exports.up = async function (knex) {\n  await %s;\n};\n\n"
    "exports.down = async function (knex) {};\n",
    "knex.ts": "import { Knex } from 'knex';\n\n"
    "export async function up(knex: Knex): Promise<void> {\n  await %s;\n}\n\n"
    "export async function down(knex: Knex): Promise<void> {}\n",
    "sequelize.js": "'use strict';\n\nmodule.exports = {\n  async up(queryInterface, Sequelize) {\n"
    "    await %s;\n  },\n  async down(queryInterface, Sequelize) {},\n};\n",
    "typeorm.ts": "import { MigrationInterface, QueryRunner } from 'typeorm';\n\n"
    "export class AddEmailIndex1700000000000 implements MigrationInterface {\n"
    "  public async up(queryRunner: QueryRunner): Promise<void> {\n    await %s;\n  }\n\n"
    "  public async down(queryRunner: QueryRunner): Promise<void> {}\n}\n",
}
JS_SAMPLES = [(p, proj) for p, proj in SAMPLES if f"{proj.tool}{p.suffix}" in JS_MIGRATIONS]


def nested_js(shape: str, depth: int, call: str) -> str:
    """`call` at the bottom of `depth` nested calls, arrays, or links of one long chain."""
    if shape == "calls":
        return "wrap(" * depth + call + ")" * depth
    if shape == "arrays":
        return "[" * depth + call + "]" * depth
    return "Promise.resolve()" + ".then(() => 1)" * depth + f".then(() => {call})"


def js_migration(project: Any, path: Path, shape: str, depth: int) -> str:
    template = JS_MIGRATIONS[f"{project.tool}{path.suffix}"]
    return template % nested_js(shape, depth, UNSAFE_CALL[project.tool])


@pytest.mark.parametrize("shape", ["calls", "arrays", "chain"])
@pytest.mark.parametrize(
    ("path", "project"), JS_SAMPLES, ids=[f"{j.tool}{p.suffix}" for p, j in JS_SAMPLES]
)
def test_deeply_nested_javascript_is_read_to_the_bottom(
    path: Path, project: Any, shape: str
) -> None:
    """5,000 levels: the unsafe call at the bottom is found where it is, not given up on."""
    text = js_migration(project, path, shape, JS_DEPTH)
    findings = check_engine_input(path, project, text).findings
    assert PARSE_ERROR not in {f.rule for f in findings}
    at = text.index(UNSAFE_CALL[project.tool])
    index = [f for f in findings if f.rule == "non-concurrent-index"]
    assert len(index) == 1
    assert index[0].span.start >= at
    assert index[0].span.end <= at + len(UNSAFE_CALL[project.tool])


def python_calls(work: Callable[[], object]) -> int:
    """How many Python and built-in functions `work` calls: a step count, not a timing."""
    count = 0

    def profile(frame: Any, event: str, arg: Any) -> None:
        nonlocal count
        if event in ("call", "c_call"):
            count += 1

    sys.setprofile(profile)
    try:
        work()
    finally:
        sys.setprofile(None)
    return count


@pytest.mark.parametrize("shape", ["calls", "arrays", "chain"])
@pytest.mark.parametrize(
    ("path", "project"), JS_SAMPLES, ids=[f"{j.tool}{p.suffix}" for p, j in JS_SAMPLES]
)
def test_the_work_on_nested_javascript_grows_with_the_depth_not_its_square(
    path: Path, project: Any, shape: str
) -> None:
    """Twice the nesting, twice the steps (a chain's every link once looked for its top by
    climbing the whole chain: four times the steps, 20 s at 5,000 links)."""
    steps = []
    for depth in (0, 300, 600):
        text = js_migration(project, path, shape, depth)
        check_engine_input(path, project, text)  # imports and caches first
        steps.append(python_calls(lambda text=text: check_engine_input(path, project, text)))
    base, once, twice = steps
    assert twice - base <= 2.2 * (once - base)


# --------------------------------------------------------------------------- line endings


def _mixed(text: str) -> str:
    lines = text.replace("\r\n", "\n").split("\n")
    return (
        "".join(line + ("\r\n" if i % 2 else "\n") for i, line in enumerate(lines[:-1])) + lines[-1]
    )


@pytest.mark.parametrize(("path", "project"), INPUTS, ids=[str(p.name) for p, _ in INPUTS])
def test_crlf_and_mixed_line_endings_find_the_same_at_the_same_place(
    path: Path, project: Any
) -> None:
    text = path.read_text(encoding="utf-8").replace("\r\n", "\n")
    expected = findings_at(path, project, text.encode())
    assert findings_at(path, project, text.replace("\n", "\r\n").encode()) == expected
    assert findings_at(path, project, _mixed(text).encode()) == expected


@pytest.mark.parametrize(
    "relative",
    [
        "lsp_workspace/alembic/versions/b2c3d4e5f6a7_add_email.py",
        "lsp_workspace/db/migration/V2__index_orders.sql",
        "django/shop/migrations/0003_concurrent_indexes.py",
        "rails/db/migrate/20240112080000_add_index_to_users_phone.rb",
        "laravel/database/migrations/2024_06_01_100000_add_email_index_to_users_table.php",
        "liquibase/db/changelog/unsafe/101-index-orders-status.xml",
        "sequelize/migrations/20240515083012-add-user-email-index.js",
        "typeorm/src/migrations/1715682500000-AddOrdersStatusIndex.ts",
    ],
)
def test_fix_keeps_crlf_line_endings(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], relative: str
) -> None:
    """`check --fix` on a CRLF file makes the same change as on the LF file, in CRLF."""
    results = []
    for name, eol in (("lf", b"\n"), ("crlf", b"\r\n")):
        root = make_workspace(tmp_path / name)
        target = root / relative
        target.write_bytes(target.read_bytes().replace(b"\r\n", b"\n").replace(b"\n", eol))
        before = target.read_bytes()
        main(["check", "--fix", "--exit-zero", str(target)])
        capsys.readouterr()
        results.append((before, target.read_bytes()))
    (lf_before, lf_after), (_, crlf_after) = results
    assert lf_after != lf_before  # a fix was applied
    assert crlf_after == lf_after.replace(b"\n", b"\r\n")


def test_crlf_document_in_the_editor_has_exact_ranges(
    start_server: Callable[..., ServerRun],
) -> None:
    server = start_server(encoding="utf-16", pull=True)
    path = server.workspace / ALEMBIC
    text = path.read_text(encoding="utf-8")
    lf = comparable(OpenDocument.open(server, path, text).diagnostics())
    crlf = comparable(OpenDocument.open(server, path, text.replace("\n", "\r\n")).diagnostics())
    assert crlf == lf and lf


# --------------------------------------------------------------------------- the workspace


def test_symlink_loops_dangling_links_pipes_and_devices(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], start_server: Callable[..., ServerRun]
) -> None:
    ws = tmp_path / "ws"
    shutil.copytree(FIXTURES / "lsp_workspace", ws)
    migrations = ws / "db" / "migration"
    (migrations / "loop").symlink_to(migrations)
    (ws / "db" / "up").symlink_to(ws)
    (migrations / "V8__gone.sql").symlink_to(tmp_path / "nowhere.sql")
    (migrations / "V9__zero.sql").symlink_to("/dev/zero")
    os.mkfifo(migrations / "V7__pipe.sql")
    (migrations / "V6__folder.sql").mkdir()
    started = time.perf_counter()
    _, findings, _ = check_json(capsys, str(ws))
    assert time.perf_counter() - started < 20
    checked = {Path(f["path"]).name for f in findings}
    assert "V2__index_orders.sql" in checked
    assert not checked & {"V6__folder.sql", "V7__pipe.sql", "V8__gone.sql", "V9__zero.sql"}
    server = start_server(ws)
    document = OpenDocument.open(server, migrations / "V2__index_orders.sql")
    assert [d.code for d in document.diagnostics()] == ["non-concurrent-index"]
    assert server.log_problems() == []


def _without_root_privileges() -> None:
    """Run a child as root without the right to read what its mode forbids (as a user is)."""
    if os.geteuid() != 0:
        return
    libc = ctypes.CDLL(None, use_errno=True)
    for capability in (1, 2):  # CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH
        if libc.prctl(24, capability, 0, 0, 0) != 0:  # PR_CAPBSET_DROP
            raise OSError(ctypes.get_errno(), "cannot drop the capability")


def test_unreadable_files_and_folders(tmp_path: Path) -> None:
    if sys.platform != "linux":
        pytest.skip("drops Linux capabilities to make root obey file modes")
    ws = tmp_path / "ws"
    shutil.copytree(FIXTURES / "lsp_workspace", ws)
    secret = ws / "db" / "migration" / "V3__secret.sql"
    secret.write_text("DROP TABLE orders;\n")
    locked = ws / "alembic" / "versions" / "locked"
    locked.mkdir()
    (locked / "c3d4e5f6a7b8_hidden.py").write_text("x = 1\n")
    secret.chmod(0)
    locked.chmod(0)
    try:
        completed = subprocess.run(
            [sys.executable, "-m", "migration_lsp", "check", "--format", "json", str(ws)],
            capture_output=True,
            text=True,
            timeout=60,
            preexec_fn=_without_root_privileges,
        )
    finally:
        secret.chmod(0o644)
        locked.chmod(0o755)
    assert "Traceback" not in completed.stderr
    data = json.loads(completed.stdout)
    findings = data["findings"] if isinstance(data, dict) else data
    by_file: dict[str, list[str]] = {}
    for finding in findings:
        by_file.setdefault(Path(finding["path"]).name, []).append(finding["message"])
    assert by_file["V3__secret.sql"] == ["Cannot read file: Permission denied"]
    assert "b2c3d4e5f6a7_add_email.py" in by_file  # the rest is checked


def test_empty_workspace(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], start_server: Callable[..., ServerRun]
) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()
    assert main(["check", str(empty)]) == 0
    assert "no migration project found" in capsys.readouterr().err
    assert main(["graph", str(empty)]) == 0
    capsys.readouterr()
    server = start_server(empty, pull=True)
    stray = empty / "V1__x.sql"
    document = OpenDocument.open(server, stray, "CREATE INDEX i ON t (a);\n")
    assert document.diagnostics() == []
    assert server.stop() == 0


def test_no_workspace_folder_at_all() -> None:
    server = ServerRun(Path.cwd(), "utf-16", pull=False)
    try:

        async def initialize() -> lsp.InitializeResult:
            await server.client.start_io(sys.executable, "-m", "migration_lsp", "serve")
            return await server.client.initialize_session(
                lsp.InitializeParams(capabilities=lsp.ClientCapabilities(), root_uri=None)
            )

        server.run(initialize(), 30)
        uri = "file:///tmp/nowhere/V1__x.sql"
        document = OpenDocument(server, uri, "CREATE INDEX i ON t (a);\n", 1, "sql")
        document.send_open()
        hover = server.timed(
            "hover",
            server.client.text_document_hover_async(
                lsp.HoverParams(text_document=document.identifier, position=lsp.Position(0, 3))
            ),
        )
        assert hover is None
        assert server.published.get(uri) is None
        assert server.stop() == 0
    finally:
        server.kill()


# --------------------------------------------------------------------------- documents


@pytest.mark.parametrize("uri", ["untitled:Untitled-1", "git:/ws/V2__index_orders.sql?%7B%7D"])
def test_documents_that_are_not_files(uri: str, start_server: Callable[..., ServerRun]) -> None:
    """Unsaved buffers and diff views: answered, empty, and nothing logged."""
    server = start_server(pull=True)
    text = (server.workspace / FLYWAY).read_text(encoding="utf-8")
    document = OpenDocument(server, uri, text, 1, "sql")
    document.send_open()
    assert document.diagnostics() == []
    document.hover(5)
    document.completion(5)
    document.symbols()
    document.code_lenses()
    everything = lsp.Range(start=lsp.Position(0, 0), end=lsp.Position(3, 0))
    assert document.code_actions(everything, []) == []
    document.close()
    assert server.log_problems() == []


# --------------------------------------------------------------------------- configuration


def test_a_broken_config_file_names_file_and_line_and_defaults_are_used(
    tmp_path: Path, start_server: Callable[..., ServerRun]
) -> None:
    ws = tmp_path / "ws"
    shutil.copytree(FIXTURES / "lsp_workspace", ws)
    config = ws / "migration-lsp.toml"
    config.write_text('dialect = "postgresql"\n\nselect = [non-concurrent-index]\n')
    server = start_server(ws)
    document = OpenDocument.open(server, ws / FLYWAY.removeprefix("lsp_workspace/"))
    assert [d.code for d in document.diagnostics()] == ["non-concurrent-index"]
    messages = [m.message for m in server.client.messages]
    assert any(f"{config}:3:" in m and "using defaults" in m for m in messages), messages


def test_unknown_rule_ids_in_config_and_settings(
    tmp_path: Path, start_server: Callable[..., ServerRun], capsys: pytest.CaptureFixture[str]
) -> None:
    ws = tmp_path / "ws"
    shutil.copytree(FIXTURES / "lsp_workspace", ws)
    config = ws / "migration-lsp.toml"
    config.write_text('ignore = [\n  "non-concurent-index",\n]\n')
    assert main(["check", str(ws)]) == 2
    err = capsys.readouterr().err
    assert f"{config}:2:" in err and "did you mean 'non-concurrent-index'" in err
    server = start_server(ws)
    document = OpenDocument.open(server, ws / FLYWAY.removeprefix("lsp_workspace/"))
    assert [d.code for d in document.diagnostics()] == ["non-concurrent-index"]
    assert any("did you mean 'non-concurrent-index'" in m.message for m in server.client.messages)
    config.unlink()
    from_settings = start_server(ws, settings={"ignore": ["no-such-rule"]})
    document = OpenDocument.open(from_settings, ws / FLYWAY.removeprefix("lsp_workspace/"))
    assert [d.code for d in document.diagnostics()] == ["non-concurrent-index"]
    assert any("no-such-rule" in m.message for m in from_settings.client.messages)


def test_the_engine_survives_a_document_of_every_kind_of_bad_text() -> None:
    """Belt and braces: the engine entry point itself with the worst of the above at once."""
    path, project = next((p, proj) for p, proj in INPUTS if proj.tool == "alembic")
    text = "\ufeff\x00\r\n\r" + "(" * 5000 + "é🚀\u2028\x0c" + "'" * 3
    analysis = analyse_document(str(path), text, project, Config())
    assert all(0 <= f.span.start <= f.span.end <= len(text) for f in analysis.findings)
    assert Workspace().check([]).findings == []
