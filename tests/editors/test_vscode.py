"""The VS Code extension (`vscode-client/`): its unit tests, the `.vsix` the build produces, and
an end-to-end run in a real VS Code.

The end-to-end run is `vscode-client/e2e/run.mjs`: code-server (the VS Code workbench, from
npm) with the freshly built `.vsix` installed into a fresh profile, driven through its UI by
Debian's Chromium (playwright-core) on a copy of `examples/`. It records what the workbench
showed in a JSON file; the assertions below read it.

Needs: Node 20+ and `npm ci` in `vscode-client/`; Chromium (`/usr/bin/chromium`); code-server
installed by `vscode-client/scripts/install-code-server.sh`. Tests skip, saying what is missing,
when these are absent, unless MIGRATION_LSP_REQUIRE_VSCODE=1 (CI) turns that into a failure.
MIGRATION_LSP_UPDATE_SCREENSHOT=1 also writes `docs/images/vscode-diagnostics.png`.
"""

from __future__ import annotations

import ast
import json
import os
import re
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path
from typing import Any

import pytest

from migration_lsp.project.config import OPTIONS

ROOT = Path(__file__).resolve().parents[2]
CLIENT = ROOT / "vscode-client"
VSIX = CLIENT / "dist" / "migration-lsp.vsix"
DOCS = ROOT / "docs" / "editors" / "vscode.md"
SCREENSHOT = ROOT / "docs" / "images" / "vscode-diagnostics.png"
MIGRATION = "billing-api/migrations/versions/4e2d8b6a0c93_add_invoice_due_date.py"
REQUIRED = os.environ.get("MIGRATION_LSP_REQUIRE_VSCODE") == "1"
MANIFEST: dict[str, Any] = json.loads((CLIENT / "package.json").read_text(encoding="utf-8"))


def unavailable(reason: str) -> None:
    if REQUIRED:
        pytest.fail(f"MIGRATION_LSP_REQUIRE_VSCODE=1 but {reason}")
    pytest.skip(reason)


def e2e_home() -> Path:
    default = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "migration-lsp"
    return Path(os.environ.get("MIGRATION_LSP_E2E_HOME", default / "vscode-e2e"))


@pytest.fixture(scope="module")
def npm() -> str:
    """npm, with the client's dependencies installed."""
    found = shutil.which("npm")
    if found is None or shutil.which("node") is None:
        unavailable("Node.js and npm are not installed")
    assert found is not None
    if not (CLIENT / "node_modules" / "vscode-languageclient").is_dir():
        unavailable("the client's dependencies are missing: run `npm ci` in vscode-client/")
    return found


def run(command: list[str], timeout: float, **kwargs: Any) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        command, cwd=CLIENT, capture_output=True, text=True, timeout=timeout, **kwargs
    )


def test_unit_tests(npm: str) -> None:
    """Formatting and type checks, then the node:test unit tests (launch logic, status text,
    settings, check result positions)."""
    result = run([npm, "test"], timeout=300)
    print(result.stdout[-4000:], result.stderr[-4000:])
    assert result.returncode == 0, "npm test failed"
    passed = re.search(r"^# pass (\d+)$", result.stdout, re.MULTILINE)
    assert passed and int(passed.group(1)) >= 20
    assert re.search(r"^# fail 0$", result.stdout, re.MULTILINE)


@pytest.fixture(scope="module")
def vsix(npm: str) -> Path:
    """The `.vsix`, built now from the current sources (esbuild bundle + vsce package)."""
    VSIX.unlink(missing_ok=True)
    result = run([npm, "run", "package"], timeout=300)
    assert result.returncode == 0, f"npm run package failed:\n{result.stdout}\n{result.stderr}"
    assert VSIX.is_file()
    return VSIX


def test_the_vsix_holds_the_bundled_extension(vsix: Path) -> None:
    with zipfile.ZipFile(vsix) as archive:
        names = set(archive.namelist())
        manifest = json.loads(archive.read("extension/package.json"))
        bundle = archive.read("extension/dist/extension.js").decode("utf-8")
    assert "extension/dist/extension.js" in names
    assert not any("node_modules" in name or name.endswith(".ts") for name in names), names
    assert manifest["main"] == "./dist/extension.js"
    # vscode-languageclient is inside the bundle, not left to a missing node_modules
    assert "textDocument/diagnostic" in bundle
    assert 'require("vscode-languageclient' not in bundle


def test_settings_cover_every_server_option() -> None:
    """Each option of the configuration file is a `migrationLsp.*` setting (camelCase), and
    the client sends exactly those to the server."""
    properties = MANIFEST["contributes"]["configuration"]["properties"]
    camel = [re.sub(r"-(\w)", lambda m: m.group(1).upper(), o.name) for o in OPTIONS]
    assert {f"migrationLsp.{name}" for name in camel} <= set(properties)
    sent = (CLIENT / "src" / "settings.ts").read_text(encoding="utf-8")
    block = sent[sent.index("SERVER_OPTIONS = [") : sent.index("] as const")]
    assert sorted(re.findall(r'"(\w+)"', block)) == sorted(camel)
    client_only = set(properties) - {f"migrationLsp.{name}" for name in camel}
    assert client_only == {
        "migrationLsp.server.path",
        "migrationLsp.interpreter",
        "migrationLsp.trace.server",
    }


def test_the_docs_list_every_command_and_setting() -> None:
    text = DOCS.read_text(encoding="utf-8")
    for command in MANIFEST["contributes"]["commands"]:
        assert f"migration-lsp: {command['title']}" in text, command
    for setting in MANIFEST["contributes"]["configuration"]["properties"]:
        assert f"`{setting}`" in text, setting
    assert "vscode-client/dist/migration-lsp.vsix" in text


@pytest.fixture(scope="module")
def code_server() -> Path:
    chromium = Path(os.environ.get("CHROMIUM", "/usr/bin/chromium"))
    if not chromium.is_file():
        unavailable(f"Chromium is not installed ({chromium}): apt-get install chromium")
    tools = e2e_home() / "tools.env"
    if not tools.is_file():
        unavailable(
            f"code-server is not installed ({tools} is missing): "
            "run vscode-client/scripts/install-code-server.sh"
        )
    values = dict(
        line.split("=", 1) for line in tools.read_text(encoding="utf-8").splitlines() if "=" in line
    )
    binary = Path(values.get("code_server", ""))
    if not binary.is_file():
        unavailable(f"code-server is missing at {binary}: run the install script again")
    return binary


def server_executable() -> Path:
    name = "migration-lsp.exe" if sys.platform == "win32" else "migration-lsp"
    script = Path(sys.executable).parent / name
    assert script.is_file(), f"{script} is missing: pip install -e . first"
    return script


def run_vscode(
    vsix: Path, tmp: Path, scenario: str, screenshot: Path | None = None
) -> dict[str, Any]:
    """Run `e2e/run.mjs` in `scenario`; return what the workbench showed. Everything is printed
    too (the run's output, code-server's and the extension's logs), for pytest to show when an
    assertion fails."""
    out = tmp / "results.json"
    env = dict(
        os.environ,
        MIGRATION_LSP_E2E_SCENARIO=scenario,
        MIGRATION_LSP_E2E_HOME=str(e2e_home()),
        MIGRATION_LSP_E2E_VSIX=str(vsix),
        MIGRATION_LSP_E2E_SERVER=str(server_executable()),
        MIGRATION_LSP_E2E_WORKSPACE=str(ROOT / "examples"),
        MIGRATION_LSP_E2E_TMP=str(tmp),
        MIGRATION_LSP_E2E_OUT=str(out),
        MIGRATION_LSP_E2E_BUDGET_MS="240000",
    )
    if screenshot is not None:
        env["MIGRATION_LSP_E2E_SCREENSHOT"] = str(screenshot)
    node = shutil.which("node")
    assert node is not None
    code: int | str
    try:
        proc = run([node, "e2e/run.mjs"], timeout=300, env=env)
        code, stdout, stderr = proc.returncode, proc.stdout, proc.stderr
    except subprocess.TimeoutExpired as expired:
        code, stdout, stderr = "timeout", str(expired.stdout), str(expired.stderr)
    results: dict[str, Any] = json.loads(out.read_text(encoding="utf-8")) if out.exists() else {}
    logs = [
        f"--- {log.relative_to(tmp)}:\n{log.read_text(errors='replace')[-6000:]}"
        for log in sorted(tmp.rglob("*.log"))
        if log.name in {"migration-lsp.log", "code-server.log", "remoteexthost.log"}
    ]
    report = "\n".join(
        [f"e2e exit code: {code}", f"--- stdout:\n{stdout}", f"--- stderr:\n{stderr}", *logs]
    )
    print(report)
    assert code == 0 and not results.get("error"), f"VS Code run failed: {results.get('error')}"
    return results


@pytest.fixture(scope="module")
def vscode_run(
    vsix: Path, code_server: Path, tmp_path_factory: pytest.TempPathFactory
) -> dict[str, Any]:
    """One run of every feature, shared by the assertions below."""
    tmp = tmp_path_factory.mktemp("vscode")
    update = os.environ.get("MIGRATION_LSP_UPDATE_SCREENSHOT") == "1"
    screenshot = SCREENSHOT if update else tmp / "shot.png"
    results = run_vscode(vsix, tmp, "full", screenshot)
    results["screenshot_path"] = str(screenshot)
    return results


def line_of(text: str, needle: str) -> int:
    """1-based line of the first line holding `needle`."""
    return next(n for n, line in enumerate(text.splitlines(), 1) if needle in line)


def test_diagnostics_squiggles_and_problems(vscode_run: dict[str, Any]) -> None:
    assert vscode_run["installed"].startswith("migration-lsp.migration-lsp-")
    status = vscode_run["status"]
    assert "alembic" in status and "postgresql" in status
    assert vscode_run["squiggles"]["warning"] >= 1
    assert vscode_run["squiggles"]["error"] >= 1  # add-not-null-column-without-default
    entry = next(p for p in vscode_run["problems"] if "non-concurrent-index" in p)
    # source, rule id (a link to its page) and the position of `op.create_index`
    assert "migration-lsp" in entry and "'ix_invoices_due_date'" in entry
    assert entry.endswith("[Ln 22, Col 5]")
    assert Path(vscode_run["screenshot_path"]).stat().st_size > 20_000


def test_hover_shows_the_rule_and_the_guide_section(vscode_run: dict[str, Any]) -> None:
    hover = vscode_run["hover"]
    assert "non-concurrent-index" in hover
    assert "Database Migrations Playbook › Adding an Index" in hover
    assert "CREATE INDEX CONCURRENTLY" in hover


def test_quick_fix_applied_through_the_ui(vscode_run: dict[str, Any]) -> None:
    fix = vscode_run["quick_fix"]
    assert any(t.startswith("Create the index concurrently") for t in fix["titles"]), fix
    text = fix["text"]
    ast.parse(text)  # still a valid migration
    lines = text.splitlines()
    index = line_of(text, "op.create_index('ix_invoices_due_date'")
    assert "postgresql_concurrently=True" in lines[index - 1]
    assert lines[index - 2].strip() == "with op.get_context().autocommit_block():"
    # the diagnostic went away after VS Code pulled again; the others stayed
    after = " ".join(vscode_run["after_fix"])
    assert "non-concurrent-index" not in after
    assert "missing-downgrade" in after and "add-not-null-column-without-default" in after
    # the copy was edited, never the repository's example
    original = (ROOT / "examples" / MIGRATION).read_text(encoding="utf-8")
    assert "postgresql_concurrently" not in original


def test_snippet_inserted_through_completion(vscode_run: dict[str, Any]) -> None:
    snippet = vscode_run["snippet"]
    assert snippet["labels"][0].startswith("mig-index-concurrently")
    text = snippet["text"]
    ast.parse(text)
    inserted = text[text.index("['customer_id'], ['id'])") :]
    assert "with op.get_context().autocommit_block():" in inserted
    assert '"ix_invoices_currency",\n            "invoices",' in inserted  # typed in the stops
    assert "postgresql_concurrently=True" in inserted and "if_not_exists=True" in inserted


def test_graph_and_workspace_check_commands(vscode_run: dict[str, Any]) -> None:
    graph = vscode_run["graph"]
    assert "c3a0e5f9d817 (head)" in graph and "1c9a5e3f7b21 (base)" in graph
    check = vscode_run["check"]
    assert re.search(
        r"migration-lsp: \d+ problem\(s\) in \d+ migration file\(s\)", check["message"]
    )
    problems = " ".join(check["problems"])
    assert "V2__add_account_limits.sql" in problems
    assert "add-not-null-column-without-default [Ln 2, Col 33]" in problems


def test_a_missing_server_offers_the_install(vsix: Path, code_server: Path, tmp_path: Path) -> None:
    """No server.path, an interpreter without the package, nothing on PATH."""
    results = run_vscode(vsix, tmp_path, "missing")
    notification = results["notification"]
    assert "was not found" in notification["text"]
    assert "Install it into /usr/bin/python3?" in notification["text"]
    assert notification["buttons"][:1] == ["Install"]
    assert results["status"].strip() == "migration-lsp"  # the warning item, not the projects
    assert (
        "/usr/bin/python3 (user: the migration_lsp package is not installed there)"
        in (results["log"])
    )


def test_restricted_mode_never_runs_a_program_from_the_workspace(
    vsix: Path, code_server: Path, tmp_path: Path
) -> None:
    """An untrusted workspace whose settings name `tools/migration-lsp`, and a user setting
    `${workspaceFolder}/.venv/bin/migration-lsp`: both are scripts that leave a mark and would
    start the real server; the run must use the user's interpreter outside the workspace."""
    results = run_vscode(vsix, tmp_path, "restricted")
    assert results["restricted_banner"] == 1
    assert results["workspace_programs_ran"] == ""
    assert "alembic" in results["status"]
    assert results["squiggles"] >= 1
    assert "inside the workspace, which Restricted Mode does not run" in results["notification"]
    python = server_executable().parent / "python"
    assert f"starting {python} -P -m migration_lsp serve (from user)" in results["log"]
