"""A minimal LSP client over stdio (asyncio + JSON-RPC framing), written for timing.

It talks to any server the way an editor does (initialize, open, change, pull, code actions),
stamps every message from the server with `time.perf_counter()` the moment its body is read, and
answers the server's own requests (configuration, registrations) at once, so what is measured is
the server, not a client library's scheduling."""

from __future__ import annotations

import asyncio
import atexit
import contextlib
import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

LANGUAGE_IDS = {
    ".py": "python",
    ".sql": "sql",
    ".rb": "ruby",
    ".php": "php",
    ".js": "javascript",
    ".ts": "typescript",
    ".prisma": "prisma",
}

PUBLISH = "textDocument/publishDiagnostics"

_RUNNING: set[asyncio.subprocess.Process] = set()
"""Every server started and not yet stopped: killed at exit, so an interrupted or crashed run
never leaves a server behind (a hung one would keep a core busy)."""


@atexit.register
def _kill_running() -> None:
    for process in list(_RUNNING):
        if process.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                process.kill()


class ServerError(Exception):
    """The server answered a request with an error."""


@dataclass(slots=True)
class Received:
    message: dict[str, Any]
    at: float
    """When the message's body had been read."""
    sent: float = 0.0
    """For a response: when its request was handed to the pipe."""


@dataclass
class OpenDocument:
    uri: str
    text: str
    version: int = 1
    lines: list[str] = field(default_factory=list)


def utf16_column(line: str, column: int) -> int:
    """A code-point column → the UTF-16 column LSP positions use by default."""
    return len(line[:column].encode("utf-16-le")) // 2


class LspClient:
    """One server process and the conversation with it."""

    def __init__(
        self, argv: list[str], cwd: Path, *, pull: bool, name: str = "", log: Path | None = None
    ) -> None:
        self.argv = argv
        self.log = log
        """Where the server's stderr goes (discarded when None)."""
        self.cwd = cwd
        self.pull = pull
        """Announce pull diagnostics (`textDocument.diagnostic`) in the client capabilities."""
        self.name = name or Path(argv[0]).name
        self.process: asyncio.subprocess.Process | None = None
        self.capabilities: dict[str, Any] = {}
        self.notifications: list[Received] = []
        self.started_at = 0.0
        self._next_id = 0
        self._pending: dict[int, asyncio.Future[Received]] = {}
        self._arrived = asyncio.Event()
        self._reader: asyncio.Task[None] | None = None
        self.documents: dict[str, OpenDocument] = {}

    # ------------------------------------------------------------------ process

    @property
    def pid(self) -> int:
        assert self.process is not None
        return self.process.pid

    async def start(self, root: Path, timeout: float = 60.0) -> float:
        """Spawn the server and complete `initialize`/`initialized`; returns the time taken."""
        stderr: Any = asyncio.subprocess.DEVNULL
        if self.log is not None:
            self.log.parent.mkdir(parents=True, exist_ok=True)
            stderr = self.log.open("ab")
        self.started_at = time.perf_counter()
        try:
            self.process = await asyncio.create_subprocess_exec(
                *self.argv,
                cwd=self.cwd,
                stdin=asyncio.subprocess.PIPE,
                stdout=asyncio.subprocess.PIPE,
                stderr=stderr,
                limit=64 * 1024 * 1024,
            )
        finally:
            if self.log is not None:
                stderr.close()
        _RUNNING.add(self.process)
        self._reader = asyncio.create_task(self._read_loop())
        result = await self.request("initialize", self._initialize_params(root), timeout=timeout)
        self.capabilities = result.get("capabilities") or {}
        self.notify("initialized", {})
        return time.perf_counter() - self.started_at

    @property
    def server_pulls(self) -> bool:
        """Whether the server offers `textDocument/diagnostic` (pull diagnostics)."""
        return bool(self.capabilities.get("diagnosticProvider"))

    @property
    def incremental(self) -> bool:
        sync = self.capabilities.get("textDocumentSync")
        kind = sync.get("change") if isinstance(sync, dict) else sync
        return kind == 2

    async def stop(self, kill: bool = False) -> None:
        """`shutdown` + `exit`, killed when it does not go within a few seconds (at once when
        `kill`: a hung server would not answer anyway)."""
        if self.process is None:
            return
        if not kill and self.process.returncode is None:
            with contextlib.suppress(Exception):
                await self.request("shutdown", None, timeout=5.0)
                self.notify("exit", None)
        try:
            await asyncio.wait_for(self.process.wait(), 0.1 if kill else 5.0)
        except TimeoutError:
            with contextlib.suppress(ProcessLookupError):
                self.process.kill()
            await self.process.wait()
        _RUNNING.discard(self.process)
        if self._reader is not None:
            self._reader.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._reader

    def _initialize_params(self, root: Path) -> dict[str, Any]:
        text_document: dict[str, Any] = {
            "synchronization": {"didSave": True, "dynamicRegistration": False},
            "publishDiagnostics": {"relatedInformation": True, "versionSupport": True},
            "codeAction": {
                "codeActionLiteralSupport": {
                    "codeActionKind": {"valueSet": ["quickfix", "source", "refactor"]}
                },
                "isPreferredSupport": True,
                "disabledSupport": True,
            },
        }
        if self.pull:
            text_document["diagnostic"] = {"dynamicRegistration": False}
        return {
            "processId": None,
            "clientInfo": {"name": "migration-lsp-benchmark"},
            "rootUri": root.as_uri(),
            "workspaceFolders": [{"uri": root.as_uri(), "name": root.name}],
            "capabilities": {
                "general": {"positionEncodings": ["utf-16"]},
                "textDocument": text_document,
                "workspace": {
                    "configuration": True,
                    "workspaceFolders": True,
                    "didChangeWatchedFiles": {"dynamicRegistration": True},
                    "workspaceEdit": {"documentChanges": True},
                },
            },
        }

    # ------------------------------------------------------------------ JSON-RPC

    def _send(self, message: dict[str, Any]) -> None:
        assert self.process is not None and self.process.stdin is not None
        body = json.dumps(message, separators=(",", ":")).encode("utf-8")
        self.process.stdin.write(b"Content-Length: %d\r\n\r\n" % len(body) + body)

    def notify(self, method: str, params: Any) -> float:
        """Send a notification; returns the time it was handed to the pipe."""
        self._send({"jsonrpc": "2.0", "method": method, "params": params})
        return time.perf_counter()

    async def request(self, method: str, params: Any, timeout: float = 60.0) -> Any:
        received = await self.timed_request(method, params, timeout)
        return received.message.get("result")

    async def timed_request(self, method: str, params: Any, timeout: float = 60.0) -> Received:
        """Send a request and wait for its response (stamped with its arrival time)."""
        self._next_id += 1
        ident = self._next_id
        future: asyncio.Future[Received] = asyncio.get_running_loop().create_future()
        self._pending[ident] = future
        self._send({"jsonrpc": "2.0", "id": ident, "method": method, "params": params})
        sent = time.perf_counter()
        try:
            received = await asyncio.wait_for(future, timeout)
        finally:
            self._pending.pop(ident, None)
        received.sent = sent
        if "error" in received.message:
            raise ServerError(f"{method}: {received.message['error']}")
        return received

    async def _read_loop(self) -> None:
        assert self.process is not None and self.process.stdout is not None
        stream = self.process.stdout
        while True:
            length = 0
            while True:
                line = await stream.readline()
                if not line:
                    self._fail_pending(ConnectionError(f"{self.name} closed its output"))
                    return
                line = line.strip()
                if not line:
                    break
                name, _, value = line.partition(b":")
                if name.strip().lower() == b"content-length":
                    length = int(value.strip())
            body = await stream.readexactly(length)
            at = time.perf_counter()
            self._dispatch(json.loads(body), at)

    def _fail_pending(self, error: Exception) -> None:
        for future in self._pending.values():
            if not future.done():
                future.set_exception(error)
        self._arrived.set()

    def _dispatch(self, message: dict[str, Any], at: float) -> None:
        if "method" in message and "id" in message:
            self._answer(message)
        elif "method" in message:
            self.notifications.append(Received(message, at))
            self._arrived.set()
        else:
            future = self._pending.get(message.get("id", -1))
            if future is not None and not future.done():
                future.set_result(Received(message, at))

    def _answer(self, message: dict[str, Any]) -> None:
        """Server → client requests: answered the way an editor with no settings would."""
        result: Any = None
        if message["method"] == "workspace/configuration":
            result = [None for _ in message.get("params", {}).get("items", [])]
        self._send({"jsonrpc": "2.0", "id": message["id"], "result": result})

    async def wait_notification(
        self, accept: Callable[[dict[str, Any]], bool], since: int, timeout: float
    ) -> Received:
        """The first notification at index ≥ `since` that `accept`s; TimeoutError otherwise."""
        deadline = time.perf_counter() + timeout
        index = since
        while True:
            while index < len(self.notifications):
                received = self.notifications[index]
                index += 1
                if accept(received.message):
                    return received
            if self.process is not None and self.process.returncode is not None:
                raise ConnectionError(f"{self.name} exited")
            remaining = deadline - time.perf_counter()
            if remaining <= 0:
                raise TimeoutError
            self._arrived.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._arrived.wait(), remaining)

    # ------------------------------------------------------------------ documents

    def open(self, path: Path, text: str | None = None) -> tuple[str, float]:
        """didOpen; returns the uri and the time it was sent."""
        if text is None:
            text = path.read_text(encoding="utf-8")
        uri = path.as_uri()
        self.documents[uri] = OpenDocument(uri, text, 1, text.split("\n"))
        sent = self.notify(
            "textDocument/didOpen",
            {
                "textDocument": {
                    "uri": uri,
                    "languageId": LANGUAGE_IDS.get(path.suffix, "plaintext"),
                    "version": 1,
                    "text": text,
                }
            },
        )
        return uri, sent

    def close(self, uri: str) -> None:
        self.documents.pop(uri, None)
        self.notify("textDocument/didClose", {"textDocument": {"uri": uri}})

    def edit(self, uri: str, line: int, column: int, delete: int, insert: str) -> float:
        """One edit inside one line (incremental when the server accepts it); returns when sent."""
        document = self.documents[uri]
        old = document.lines[line]
        new = old[:column] + insert + old[column + delete :]
        document.lines[line] = new
        document.version += 1
        start = {"line": line, "character": utf16_column(old, column)}
        end = {"line": line, "character": utf16_column(old, column + delete)}
        change: dict[str, Any]
        if self.incremental:
            change = {"range": {"start": start, "end": end}, "text": insert}
        else:
            change = {"text": "\n".join(document.lines)}
        return self.notify(
            "textDocument/didChange",
            {
                "textDocument": {"uri": uri, "version": document.version},
                "contentChanges": [change],
            },
        )

    def publish_count(self) -> int:
        return len(self.notifications)

    async def published(
        self, uri: str, since: int, version: int | None, timeout: float
    ) -> Received:
        """The first publishDiagnostics for `uri` and `version` (None: any version).

        Strict on the version, so the empty publish a server sends after didClose, or the
        diagnostics of an older version, never count as the answer to a change."""

        def accept(message: dict[str, Any]) -> bool:
            if message.get("method") != PUBLISH:
                return False
            params = message.get("params") or {}
            if params.get("uri") != uri:
                return False
            return version is None or params.get("version") == version

        return await self.wait_notification(accept, since, timeout)

    async def pull_diagnostics(self, uri: str, timeout: float) -> Received:
        return await self.timed_request(
            "textDocument/diagnostic", {"textDocument": {"uri": uri}}, timeout
        )

    async def code_actions(
        self, uri: str, line: int, diagnostics: list[dict[str, Any]], timeout: float
    ) -> Received:
        """The light-bulb request for the whole of `line`, with the diagnostics on it."""
        text = self.documents[uri].lines[line]
        params = {
            "textDocument": {"uri": uri},
            "range": {
                "start": {"line": line, "character": 0},
                "end": {"line": line, "character": utf16_column(text, len(text))},
            },
            "context": {"diagnostics": diagnostics, "triggerKind": 1},
        }
        return await self.timed_request("textDocument/codeAction", params, timeout)
