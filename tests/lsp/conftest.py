"""End-to-end fixtures: the real `migration-lsp serve` process driven by pytest-lsp, under the
captured capabilities of VS Code, Neovim and Emacs (UTF-16 push, UTF-8 pull, UTF-32 push)."""

from __future__ import annotations

import shutil
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
import pytest_lsp
from lsp_editor import Editor
from lsprotocol import types as lsp
from pytest_lsp import ClientServerConfig, LanguageClient, client_capabilities

FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "lsp_workspace"
CLIENTS = {
    "vscode": "visual-studio-code",
    "neovim": "neovim@v0.11.0",
    "emacs": "emacs",
}
SERVER = ClientServerConfig(server_command=[sys.executable, "-m", "migration_lsp", "serve"])


@pytest.fixture
def workspace(tmp_path: Path) -> Path:
    target = tmp_path / "ws"
    shutil.copytree(FIXTURE, target)
    return target


@pytest_lsp.fixture(config=SERVER, params=list(CLIENTS))
async def lsp_session(
    request: pytest.FixtureRequest, lsp_client: LanguageClient, workspace: Path
) -> AsyncIterator[None]:
    lsp_client.set_configuration({"migrationLsp": {}})
    lsp_client.projects = []  # type: ignore[attr-defined]

    @lsp_client.feature(lsp.CLIENT_REGISTER_CAPABILITY)
    def register_capability(params: lsp.RegistrationParams) -> None:
        lsp_client.registrations = params.registrations  # type: ignore[attr-defined]

    # pytest-lsp keeps the last diagnostics per document but not their version: a set
    # published for an older version just before an edit must not count as the answer to it
    lsp_client.published_versions = {}  # type: ignore[attr-defined]
    lsp_client.protocol.fm._features.pop(lsp.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS, None)

    @lsp_client.feature(lsp.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS)
    def publish_diagnostics(params: lsp.PublishDiagnosticsParams) -> None:
        lsp_client.published_versions[params.uri] = params.version  # type: ignore[attr-defined]
        lsp_client.diagnostics[params.uri] = params.diagnostics

    @lsp_client.feature("migrationLsp/projects")
    def projects(params: Any) -> None:
        lsp_client.projects.append(params)  # type: ignore[attr-defined]

    params = lsp.InitializeParams(
        capabilities=client_capabilities(CLIENTS[request.param]),
        root_uri=workspace.as_uri(),
        workspace_folders=[lsp.WorkspaceFolder(uri=workspace.as_uri(), name="ws")],
    )
    await lsp_client.initialize_session(params)
    yield
    await lsp_client.shutdown_session()


@pytest.fixture
def editor(lsp_session: LanguageClient, workspace: Path) -> Editor:
    return Editor(lsp_session, workspace, "")
