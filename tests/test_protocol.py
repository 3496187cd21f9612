"""Protocol behaviour of the real server (issue 10): `$/cancelRequest`, requests and
notifications for documents never opened or already closed, out-of-order and repeated
versions, `shutdown`/`exit` in every state, and a rule that raises (isolated: its findings
dropped, the error logged, every other rule still reporting) — in the server and the CLI.
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
import logging
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from lsprotocol import types as lsp
from pygls.exceptions import JsonRpcException, JsonRpcInvalidRequest, JsonRpcRequestCancelled

from fuzzing import RESPONSE_BUDGET, Change, OpenDocument, ServerRun, make_workspace
from migration_lsp.cli import main

ALEMBIC = "lsp_workspace/alembic/versions/b2c3d4e5f6a7_add_email.py"
FLYWAY = "lsp_workspace/db/migration/V2__index_orders.sql"
ALEMBIC_RULES = {
    "missing-downgrade",
    "non-concurrent-index",
    "mixed-schema-and-data-change",
    "update-with-limit",
    "statements-after-access-exclusive",
}
RAISING_RULE = "non-concurrent-index"


def patched_rule_server(body: str) -> list[str]:
    """A server command whose `non-concurrent-index` rule runs `body` instead of its check."""
    code = f"""
import dataclasses, sys, time
from migration_lsp import engine
from migration_lsp.rules import registry

def patched(context):
    {body}

rule = registry.BY_ID[{RAISING_RULE!r}]
replacement = dataclasses.replace(rule, check=patched)
registry.RULES = tuple(replacement if r is rule else r for r in registry.RULES)
registry.BY_ID[rule.id] = replacement
engine.RULES = registry.RULES
from migration_lsp.cli import main
sys.exit(main(["serve"]))
"""
    return [sys.executable, "-c", code]


RAISING = patched_rule_server('raise RuntimeError("a rule with a bug")')
SLOW = patched_rule_server("time.sleep(8); return []")
"""Servers whose `non-concurrent-index` rule raises, or takes 8 s, on every file."""


@pytest.fixture
def workspace(tmp_path: Path) -> Path:
    return make_workspace(tmp_path / "ws")


@pytest.fixture
def start_server(workspace: Path) -> Iterator[Callable[..., ServerRun]]:
    started: list[ServerRun] = []

    def start(
        pull: bool = True, command: list[str] | None = None, initialize: bool = True
    ) -> ServerRun:
        server = ServerRun(workspace, "utf-16", pull, command=command)
        started.append(server)
        if initialize:
            server.start()
        else:

            async def launch() -> None:
                await server.client.start_io(*server.command, cwd=str(workspace))

            server.run(launch(), 30)
        return server

    yield start
    for server in started:
        server.kill()


def _shared(factory: pytest.TempPathFactory, pull: bool) -> Iterator[ServerRun]:
    server = ServerRun(make_workspace(factory.mktemp("shared") / "ws"), "utf-16", pull)
    try:
        server.start()
        yield server
    finally:
        server.kill()


@pytest.fixture(scope="module")
def pull_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerRun]:
    """One server, pulled diagnostics, for the tests that leave it running."""
    yield from _shared(tmp_path_factory, pull=True)


@pytest.fixture(scope="module")
def push_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerRun]:
    """One server, pushed diagnostics, for the tests that leave it running."""
    yield from _shared(tmp_path_factory, pull=False)


def own_migration(server: ServerRun, name: str) -> Path:
    """A Flyway migration of the shared workspace for one test only (same text as V2)."""
    folder = server.workspace / "lsp_workspace" / "db" / "migration"
    version = 100 + len(list(folder.glob("V1??__*.sql")))
    path = folder / f"V{version}__{name}.sql"
    path.write_text((server.workspace / FLYWAY).read_text(encoding="utf-8"), encoding="utf-8")
    return path


def request(server: ServerRun, method: str, params: Any, timeout: float = RESPONSE_BUDGET) -> Any:
    """Send one request; its result, or the error it was answered with."""

    async def send() -> Any:
        try:
            return await server.client.protocol.send_request_async(method, params)
        except JsonRpcException as error:
            return error

    return server.run(send(), timeout)


def exit_code(server: ServerRun, timeout: float = 5) -> int | None:
    process = server.client._server
    assert process is not None

    async def wait() -> int:
        return await process.wait()

    return server.run(wait(), timeout)


def send_raw(server: ServerRun, payload: dict[str, Any]) -> None:
    """Write one message to the server as it is, past the client's own checks."""
    process = server.client._server
    assert process is not None and process.stdin is not None
    body = json.dumps(payload).encode()
    frame = b"Content-Length: %d\r\n\r\n%s" % (len(body), body)
    server.call(lambda: process.stdin.write(frame) if process.stdin else None)


# --------------------------------------------------------------------------- cancellation


def test_cancel_request_and_shutdown_while_a_rule_runs(
    start_server: Callable[..., ServerRun], workspace: Path
) -> None:
    """A pull waiting for an 8 s rule is cancelled at once; shutdown answers at once."""
    server = start_server(pull=True, command=SLOW)
    slow = OpenDocument.open(server, workspace / FLYWAY)

    async def pull_then_cancel() -> tuple[Any, float]:
        params = lsp.DocumentDiagnosticParams(text_document=slow.identifier)
        pending = server.client.protocol.send_request(
            lsp.TEXT_DOCUMENT_DIAGNOSTIC, params, msg_id="long-pull"
        )
        await asyncio.sleep(0.3)
        cancelled_at = time.perf_counter()
        server.client.protocol.notify(lsp.CANCEL_REQUEST, lsp.CancelParams(id="long-pull"))
        try:
            outcome: Any = await asyncio.wrap_future(pending)
        except JsonRpcException as error:
            outcome = error
        return outcome, time.perf_counter() - cancelled_at

    outcome, waited = server.run(pull_then_cancel(), 30)
    assert isinstance(outcome, JsonRpcRequestCancelled)
    assert waited < 1.0
    # the server goes on answering what needs no analysis
    assert request(server, lsp.WORKSPACE_EXECUTE_COMMAND, _show_projects()) != []
    started = time.perf_counter()
    assert request(server, lsp.SHUTDOWN, None) is None
    assert time.perf_counter() - started < RESPONSE_BUDGET
    assert server.log_problems() == []


def _show_projects() -> lsp.ExecuteCommandParams:
    return lsp.ExecuteCommandParams(command="migration-lsp.showProjects", arguments=[])


# --------------------------------------------------------------------------- documents


def _every_request(uri: str) -> list[tuple[str, Any]]:
    document = lsp.TextDocumentIdentifier(uri=uri)
    at = lsp.Position(line=2, character=3)
    return [
        (lsp.TEXT_DOCUMENT_DIAGNOSTIC, lsp.DocumentDiagnosticParams(text_document=document)),
        (lsp.TEXT_DOCUMENT_HOVER, lsp.HoverParams(text_document=document, position=at)),
        (lsp.TEXT_DOCUMENT_COMPLETION, lsp.CompletionParams(text_document=document, position=at)),
        (
            lsp.TEXT_DOCUMENT_CODE_ACTION,
            lsp.CodeActionParams(
                text_document=document,
                range=lsp.Range(start=at, end=at),
                context=lsp.CodeActionContext(diagnostics=[]),
            ),
        ),
        (lsp.TEXT_DOCUMENT_DOCUMENT_SYMBOL, lsp.DocumentSymbolParams(text_document=document)),
        (lsp.TEXT_DOCUMENT_CODE_LENS, lsp.CodeLensParams(text_document=document)),
        (lsp.TEXT_DOCUMENT_DEFINITION, lsp.DefinitionParams(text_document=document, position=at)),
        (
            lsp.TEXT_DOCUMENT_REFERENCES,
            lsp.ReferenceParams(
                text_document=document,
                position=at,
                context=lsp.ReferenceContext(include_declaration=True),
            ),
        ),
    ]


@pytest.mark.parametrize(
    "relative",
    [FLYWAY, "lsp_workspace/db/migration/V9__deleted.sql", "lsp_workspace/alembic.ini"],
    ids=["on-disk", "no-such-file", "not-a-migration"],
)
def test_requests_for_documents_never_opened(pull_server: ServerRun, relative: str) -> None:
    """Answered (whatever the answer), in time, with nothing logged."""
    server = pull_server
    path = server.workspace / relative
    if path.name.startswith("V2__"):
        path = own_migration(server, "never_opened")
    uri = path.as_uri()
    for method, params in _every_request(uri):
        started = time.perf_counter()
        answer = request(server, method, params)
        assert not isinstance(answer, JsonRpcException), (method, answer)
        assert time.perf_counter() - started < RESPONSE_BUDGET
    assert server.log_problems() == []


def test_requests_and_notifications_for_closed_documents(push_server: ServerRun) -> None:
    server = push_server
    document = OpenDocument.open(server, own_migration(server, "closed"))
    assert [d.code for d in document.diagnostics()] == ["non-concurrent-index"]
    document.close()

    async def cleared() -> Any:
        return await server.wait_published(document.uri, None)

    assert server.run(cleared(), RESPONSE_BUDGET) == []  # closing clears the diagnostics
    for method, params in _every_request(document.uri):
        answer = request(server, method, params)
        assert not isinstance(answer, JsonRpcException), (method, answer)
    document.close()  # closed twice
    never = OpenDocument(server, (server.workspace / ALEMBIC).as_uri(), "x = 1\n", 1, "python")
    never.close()  # closing what was never opened
    assert server.log_problems() == []


def test_a_change_to_a_document_never_opened(push_server: ServerRun) -> None:
    """A client bug, not a reason to crash: the change is ignored."""
    server = push_server
    path = own_migration(server, "changed_unopened")
    uri = path.as_uri()
    params = lsp.DidChangeTextDocumentParams(
        text_document=lsp.VersionedTextDocumentIdentifier(uri=uri, version=7),
        content_changes=[
            lsp.TextDocumentContentChangePartial(
                range=lsp.Range(start=lsp.Position(0, 0), end=lsp.Position(0, 0)), text="--\n"
            )
        ],
    )
    server.call(lambda: server.client.text_document_did_change(params))
    time.sleep(0.5)
    assert server.log_problems() == []
    document = OpenDocument.open(server, path)
    assert [d.code for d in document.diagnostics()] == ["non-concurrent-index"]


@pytest.mark.parametrize("pull", [True, False], ids=["pull", "push"])
def test_out_of_order_and_repeated_versions(
    pull_server: ServerRun, push_server: ServerRun, pull: bool
) -> None:
    """Versions going back or repeating: the server checks the text it was last sent."""
    server = pull_server if pull else push_server
    path = own_migration(server, "versions")
    text = path.read_text(encoding="utf-8")
    document = OpenDocument.open(server, path)
    assert [d.code for d in document.diagnostics()] == ["non-concurrent-index"]
    for version, new_text in (
        (5, text.replace("CREATE INDEX", "CREATE INDEX CONCURRENTLY")),
        (3, "-- flyway:executeInTransaction=false\n" + text),
        (3, text + "DROP TABLE orders;\n"),
    ):
        params = lsp.DidChangeTextDocumentParams(
            text_document=lsp.VersionedTextDocumentIdentifier(uri=document.uri, version=version),
            content_changes=[lsp.TextDocumentContentChangeWholeDocument(text=new_text)],
        )
        server.call(lambda params=params: server.client.text_document_did_change(params))
    document.text, document.version = text + "DROP TABLE orders;\n", 3
    codes = sorted(str(d.code) for d in document.diagnostics())
    assert codes == ["drop-table", "non-concurrent-index"]
    assert server.log_problems() == []


# --------------------------------------------------------------------------- shutdown and exit


def test_exit_before_initialize(start_server: Callable[..., ServerRun]) -> None:
    server = start_server(initialize=False)
    send_raw(server, {"jsonrpc": "2.0", "method": "exit"})
    assert exit_code(server) is not None
    assert server.log_problems() == []


def test_shutdown_before_initialize_then_exit(start_server: Callable[..., ServerRun]) -> None:
    server = start_server(initialize=False)
    send_raw(server, {"jsonrpc": "2.0", "id": 1, "method": "shutdown"})
    send_raw(server, {"jsonrpc": "2.0", "method": "exit"})
    assert exit_code(server) is not None
    assert not [line for line in server.stderr if "Traceback" in line]


def test_exit_without_shutdown(start_server: Callable[..., ServerRun], workspace: Path) -> None:
    server = start_server()
    OpenDocument.open(server, workspace / FLYWAY).diagnostics()
    server.call(lambda: server.client.exit(None))
    assert exit_code(server) is not None
    assert server.log_problems() == []


def test_shutdown_then_exit(start_server: Callable[..., ServerRun], workspace: Path) -> None:
    server = start_server()
    OpenDocument.open(server, workspace / FLYWAY).diagnostics()
    assert request(server, lsp.SHUTDOWN, None) is None
    server.call(lambda: server.client.exit(None))
    assert exit_code(server) == 0
    assert server.log_problems() == []


def test_exit_without_shutdown_exits_with_1(start_server: Callable[..., ServerRun]) -> None:
    server = start_server()
    send_raw(server, {"jsonrpc": "2.0", "method": "exit"})
    assert exit_code(server) == 1


def test_exit_ends_the_process_at_once_while_a_rule_runs(
    start_server: Callable[..., ServerRun], workspace: Path
) -> None:
    server = start_server(pull=False, command=SLOW)
    OpenDocument.open(server, workspace / FLYWAY)  # an 8 s analysis starts
    time.sleep(0.3)
    assert request(server, lsp.SHUTDOWN, None) is None
    server.call(lambda: server.client.exit(None))
    assert exit_code(server, timeout=RESPONSE_BUDGET) == 0


def test_requests_after_shutdown_fail_instead_of_hanging(
    start_server: Callable[..., ServerRun],
) -> None:
    server = start_server()
    assert request(server, lsp.SHUTDOWN, None) is None
    hover = lsp.HoverParams(
        text_document=lsp.TextDocumentIdentifier(uri=(server.workspace / FLYWAY).as_uri()),
        position=lsp.Position(line=0, character=0),
    )
    answer = request(server, lsp.TEXT_DOCUMENT_HOVER, hover)
    assert isinstance(answer, JsonRpcInvalidRequest)


def test_the_editor_going_away_ends_the_server(start_server: Callable[..., ServerRun]) -> None:
    """stdin closed without shutdown/exit (the editor crashed): the server exits by itself."""
    server = start_server()
    process = server.client._server
    assert process is not None and process.stdin is not None
    server.call(lambda: process.stdin.close() if process.stdin else None)
    assert exit_code(server, timeout=10) is not None


# --------------------------------------------------------------------------- a broken rule


def test_a_rule_that_raises_is_isolated_in_the_server(
    start_server: Callable[..., ServerRun], workspace: Path
) -> None:
    server = start_server(pull=False, command=RAISING)
    document = OpenDocument.open(server, workspace / ALEMBIC)
    codes = {str(d.code) for d in document.diagnostics()}
    assert codes == ALEMBIC_RULES - {RAISING_RULE}
    errors = [line for line in server.stderr if "ERROR" in line]
    assert errors and all(f"internal error in rule {RAISING_RULE}" in e for e in errors)
    # the server goes on serving: the next edit is checked as usual
    document.change([Change(0, 0, "\n")])
    assert {str(d.code) for d in document.diagnostics()} == codes
    assert server.stop() == 0


def test_a_rule_that_raises_is_isolated_in_the_cli(
    workspace: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    from migration_lsp import engine
    from migration_lsp.rules import registry

    def broken(context: Any) -> Any:
        raise RuntimeError("a rule with a bug")

    rule = registry.BY_ID[RAISING_RULE]
    patched = dataclasses.replace(rule, check=broken)
    monkeypatch.setattr(engine, "RULES", tuple(patched if r is rule else r for r in engine.RULES))
    code = main(
        ["check", "--no-cache", "--jobs", "1", "--format", "json", str(workspace / ALEMBIC)]
    )
    out, _ = capsys.readouterr()
    assert code == 1
    data = json.loads(out)
    findings = data["findings"] if isinstance(data, dict) else data
    assert {f["rule"] for f in findings} == ALEMBIC_RULES - {RAISING_RULE}
    errors = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert [r.getMessage() for r in errors] == [
        f"internal error in rule {RAISING_RULE} on {workspace / ALEMBIC}"
    ]
