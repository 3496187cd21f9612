"""Shared machinery of the reliability tests (issue 10) and `scripts/reliability_report.py`.

- `ServerRun`: the real `migration-lsp serve` process, driven over stdio by a pytest-lsp client
  that lives on an event loop in a background thread, so synchronous code (hypothesis state
  machines, a long command-line run) can drive it step by step. It records the server's stderr,
  its log messages, the time every request took and the diagnostics it pushes.
- An independent model of the editor's text: LSP line breaks (`\\r\\n`, `\\n`, `\\r`), positions
  in UTF-8/UTF-16/UTF-32 units, and checks that a range the server returns lies in the text.
- Edits and mutations that real typing produces: inserts, deletes, pastes, CRLF, tabs, emoji.
"""

from __future__ import annotations

import asyncio
import itertools
import os
import random
import re
import shutil
import sys
import threading
import time
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from lsprotocol import types as lsp
from pygls.protocol import default_converter
from pytest_lsp import LanguageClient, client_capabilities
from pytest_lsp.client import DEFAULT_CLIENT_FEATURES, register_lsp_features

FIXTURES = Path(__file__).resolve().parent / "fixtures"
RESPONSE_BUDGET = 2.0
"""Seconds any response may take (issue 10)."""
DEBOUNCE = 0.12
"""The server waits this long after an edit before it lints (push clients)."""

T = TypeVar("T")

# --------------------------------------------------------------------------- the workspace

WORKSPACE_SOURCES: dict[str, Path] = {
    "lsp_workspace": FIXTURES / "lsp_workspace",  # alembic + flyway
    "django": FIXTURES / "django",
    "rails": FIXTURES / "rails",
    "laravel": FIXTURES / "laravel",
    "liquibase": FIXTURES / "liquibase",
    "typeorm": FIXTURES / "typeorm",
    "prisma": FIXTURES / "prisma",
    "knex": FIXTURES / "knex",
    "sequelize": FIXTURES / "sequelize",
    "dbmate_app": FIXTURES / "detect" / "dbmate_app",
    "golang_migrate_app": FIXTURES / "detect" / "golang_migrate_app",
    "goose_app": FIXTURES / "detect" / "goose_app",
}
"""Folders of a monorepo holding one project of every supported tool."""

FUZZ_FILES: tuple[str, ...] = (
    "lsp_workspace/alembic/versions/b2c3d4e5f6a7_add_email.py",
    "lsp_workspace/db/migration/V2__index_orders.sql",
    "django/shop/migrations/0002_order_fields.py",
    "django/shop/migrations/0004_data_migration.py",
    "rails/db/migrate/20240110143000_add_phone_to_users.rb",
    "rails/db/migrate/20240214100000_archive_old_orders.rb",
    "laravel/database/migrations/2024_05_20_091500_add_phone_to_users_table.php",
    "laravel/database/migrations/2024_06_06_100000_backfill_post_excerpts.php",
    "liquibase/db/changelog/unsafe/101-index-orders-status.xml",
    "liquibase/db/changelog/unsafe/102-drop-legacy-columns.yaml",
    "liquibase/db/changelog/unsafe/104-rename.json",
    "liquibase/db/changelog/unsafe/103-backfill.sql",
    "typeorm/src/migrations/1715682093123-AddEmailToUsers.ts",
    "prisma/prisma/migrations/20240602081500_add_role/migration.sql",
    "knex/migrations/20240516091544_add_bookings_reference.js",
    "knex/migrations/20240517140210_add_users_plan.ts",
    "sequelize/migrations/20240516091544-add-user-status.js",
    "dbmate_app/db/migrations/20240108094500_add_users_email_index.sql",
    "golang_migrate_app/db/migrations/000002_add_accounts_owner_index.up.sql",
    "goose_app/migrations/20240105120000_create_notes.sql",
)
"""Migrations the server fuzzing edits: at least one of every tool and file format."""


def make_workspace(target: Path) -> Path:
    """Copy one project of every tool into `target` (a monorepo the server detects)."""
    target.mkdir(parents=True, exist_ok=True)
    for name, source in WORKSPACE_SOURCES.items():
        shutil.copytree(source, target / name)
    return target


def fuzz_files(root: Path) -> list[str]:
    """The `FUZZ_FILES` present under `root` (a fixture renamed upstream is just skipped)."""
    return [name for name in FUZZ_FILES if (root / name).is_file()]


LANGUAGE_IDS = {
    ".py": "python",
    ".sql": "sql",
    ".rb": "ruby",
    ".php": "php",
    ".js": "javascript",
    ".ts": "typescript",
    ".xml": "xml",
    ".yaml": "yaml",
    ".json": "json",
}


# --------------------------------------------------------------------------- the editor's text

_EOL = re.compile(r"\r\n|\r|\n")


def line_starts(text: str) -> list[int]:
    """Offsets where lines start, the way LSP counts lines (`\\r\\n`, `\\n` and `\\r`)."""
    return [0, *(m.end() for m in _EOL.finditer(text))]


def line_texts(text: str) -> list[str]:
    """The lines without their line breaks."""
    return _EOL.split(text)


def units(text: str, encoding: str) -> int:
    if "8" in encoding:
        return len(text.encode("utf-8"))
    if "32" in encoding:
        return len(text)
    return len(text.encode("utf-16-le")) // 2


def position_at(text: str, offset: int, encoding: str) -> lsp.Position:
    """The LSP position of a code-point offset (the editor's view, not the server's)."""
    starts = line_starts(text)
    line = max(i for i, start in enumerate(starts) if start <= offset)
    return lsp.Position(line=line, character=units(text[starts[line] : offset], encoding))


def offset_at(text: str, position: lsp.Position, encoding: str) -> int | None:
    """The code-point offset of a position; None when it is not a valid place in `text` (a line
    past the end, a column past the line or inside a character's code units)."""
    lines = line_texts(text)
    if not 0 <= position.line < len(lines):
        return None
    line = lines[position.line]
    start = line_starts(text)[position.line]
    count = 0
    for index, ch in enumerate(line):
        if count == position.character:
            return start + index
        if count > position.character:
            return None
        count += units(ch, encoding)
    return start + len(line) if count == position.character else None


def range_problem(text: str, range_: lsp.Range, encoding: str) -> str | None:
    """Why `range_` is not a range of `text` (None when it is)."""
    start = offset_at(text, range_.start, encoding)
    end = offset_at(text, range_.end, encoding)
    if start is None or end is None:
        lines = line_texts(text)
        bad = range_.start if start is None else range_.end
        shown = repr(lines[bad.line][:120]) if 0 <= bad.line < len(lines) else "(no such line)"
        return f"position {bad.line}:{bad.character} ({encoding}) is not in the text: {shown}"
    if start > end:
        return f"range ends before it starts: {range_}"
    return None


def apply_text_edits(
    text: str, edits: Sequence[lsp.TextEdit], encoding: str
) -> tuple[str, list[tuple[int, int, str]]]:
    """Apply edits whose ranges refer to `text` (a workspace edit); also return them as
    offset spans in reverse order (the order an editor sends them as changes)."""
    spans: list[tuple[int, int, str]] = []
    for edit in edits:
        problem = range_problem(text, edit.range, encoding)
        if problem is not None:
            raise AssertionError(f"code action edit outside the document: {problem}")
        start = offset_at(text, edit.range.start, encoding)
        end = offset_at(text, edit.range.end, encoding)
        assert start is not None and end is not None
        spans.append((start, end, edit.new_text))
    spans.sort(key=lambda s: (s[0], s[1]))
    for (_, end, _), (start, _, _) in itertools.pairwise(spans):
        if start < end:
            raise AssertionError(f"code action edits overlap: {spans}")
    spans.reverse()
    for start, end, new_text in spans:
        text = text[:start] + new_text + text[end:]
    return text, spans


# --------------------------------------------------------------------------- typing

INSERTS: tuple[str, ...] = (
    "\n",
    "\r\n",
    "\r",
    "\t",
    "    ",
    " ",
    "é",
    "ß",
    "中文",
    "🚀",
    "👩‍💻",
    "e\u0301",
    "\u00a0",
    "\ufeff",
    "\u2028",
    "\x0c",
    "\x00",
    "'",
    '"',
    "`",
    "'''",
    '"""',
    "(",
    ")",
    "{",
    "}",
    "[",
    "]",
    "<",
    ">",
    "</",
    "/>",
    ",",
    ";",
    ":",
    ".",
    "=",
    "#",
    "--",
    "/*",
    "*/",
    "//",
    "\\",
    "$",
    "${",
    "%s",
    "op.",
    "def ",
    "end",
    "do",
    "null",
    "None",
    "await ",
    "return ",
    "CREATE INDEX idx ON users (email);",
    "ALTER TABLE users ADD COLUMN age int NOT NULL;",
    "DROP TABLE users;",
    "UPDATE users SET a = 1 LIMIT 5;",
    "CONCURRENTLY ",
    "op.drop_column('users', 'email')",
    "add_index :users, :email",
    "$table->dropColumn('email');",
    "table.dropColumn('email')",
    "queryInterface.removeColumn('users', 'email')",
    "-- migration-lsp: ignore non-concurrent-index\n",
)
"""What users type: line breaks of every kind, multi-byte text, brackets and quotes left open,
half keywords, whole unsafe statements, ignore comments."""

INTERESTING = re.compile(r"[^\x20-\x7e]|[\"'`(){}\[\]<>;:]")
"""Characters near which edits are most likely to break position arithmetic or parsers."""


def snap(text: str, offset: int) -> int:
    """Never place a cursor between the two characters of a CRLF (no editor can)."""
    offset = max(0, min(offset, len(text)))
    if 0 < offset < len(text) and text[offset - 1] == "\r" and text[offset] == "\n":
        return offset - 1
    return offset


@dataclass(slots=True)
class Change:
    """One incremental change in code-point offsets of the text it applies to."""

    start: int
    end: int
    text: str

    def apply(self, text: str) -> str:
        return text[: self.start] + self.text + text[self.end :]


# --------------------------------------------------------------------------- the server


def capabilities(encoding: str, pull: bool) -> lsp.ClientCapabilities:
    """Real editors' capabilities (VS Code for UTF-16, Neovim for UTF-8), with or without
    pulled diagnostics, announcing exactly one position encoding."""
    spec = "neovim@v0.11.0" if "8" in encoding else "visual-studio-code"
    caps = client_capabilities(spec)
    assert caps.general is not None
    caps.general.position_encodings = [lsp.PositionEncodingKind(encoding)]
    assert caps.text_document is not None
    if pull and caps.text_document.diagnostic is None:
        caps.text_document.diagnostic = lsp.DiagnosticClientCapabilities(
            dynamic_registration=False, related_document_support=True
        )
    if not pull:
        caps.text_document.diagnostic = None
    return caps


@dataclass(slots=True)
class Stats:
    """What a fuzz session did, for the reliability report."""

    edits: int = 0
    requests: int = 0
    documents: int = 0
    actions_applied: int = 0
    slowest: float = 0.0
    slowest_what: str = ""
    crashes: int = 0
    invalid_ranges: int = 0
    hangs: int = 0
    mismatches: int = 0
    failures: list[str] = field(default_factory=list)


class ServerRun:
    """One `migration-lsp serve` process and a client on a background event loop."""

    def __init__(
        self,
        workspace: Path,
        encoding: str = "utf-16",
        pull: bool = True,
        env: dict[str, str] | None = None,
        command: Sequence[str] | None = None,
    ) -> None:
        self.workspace = workspace
        self.encoding = encoding
        self.pull = pull
        self.env = env
        self.command = list(command or [sys.executable, "-m", "migration_lsp", "serve"])
        self.stderr: list[str] = []
        self.published: dict[str, tuple[int | None, list[lsp.Diagnostic]]] = {}
        self.stats = Stats()
        self.loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self._thread.start()
        self._published_event: asyncio.Event | None = None
        self.client: LanguageClient = self.run(self._make_client(), 30)

    # ------------------------------------------------------------------ loop plumbing

    def run(self, coroutine: Awaitable[T], timeout: float) -> T:
        """Run a coroutine on the client's loop and wait for it (at most `timeout` s)."""

        async def wrapped() -> T:
            return await asyncio.wait_for(coroutine, timeout)

        return asyncio.run_coroutine_threadsafe(wrapped(), self.loop).result(timeout + 5)

    def call(self, function: Callable[[], T]) -> T:
        """Call a synchronous client method (a notification) on the client's loop."""

        async def wrapped() -> T:
            return function()

        return self.run(wrapped(), 10)

    async def _make_client(self) -> LanguageClient:
        client = LanguageClient(converter_factory=default_converter)
        features = dict(DEFAULT_CLIENT_FEATURES)
        features.pop(lsp.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS)
        register_lsp_features(client, features)
        self._published_event = asyncio.Event()

        @client.feature(lsp.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS)
        def published(params: lsp.PublishDiagnosticsParams) -> None:
            self.published[params.uri] = (params.version, list(params.diagnostics))
            assert self._published_event is not None
            self._published_event.set()

        @client.feature(lsp.CLIENT_REGISTER_CAPABILITY)
        def register(params: lsp.RegistrationParams) -> None:
            return None

        @client.feature("migrationLsp/projects")
        def projects(params: Any) -> None:
            return None

        client.set_configuration({"migrationLsp": {}})
        return client

    async def _read_stderr(self, process: asyncio.subprocess.Process) -> None:
        assert process.stderr is not None
        while line := await process.stderr.readline():
            self.stderr.append(line.decode("utf-8", errors="replace"))

    # ------------------------------------------------------------------ life cycle

    def start(self, settings: dict[str, Any] | None = None) -> lsp.InitializeResult:
        async def start() -> lsp.InitializeResult:
            kwargs: dict[str, Any] = {"cwd": str(self.workspace)}
            if self.env is not None:
                kwargs["env"] = self.env
            await self.client.start_io(self.command[0], *self.command[1:], **kwargs)
            forwarder = self.client._stderr_forwarder
            if forwarder is not None:  # keep the server's stderr here, to inspect it
                forwarder.cancel()
            process = self.client._server
            assert process is not None
            self._stderr_task = asyncio.ensure_future(self._read_stderr(process))
            if settings is not None:
                self.client.set_configuration({"migrationLsp": settings})
            uri = self.workspace.as_uri()
            return await self.client.initialize_session(
                lsp.InitializeParams(
                    capabilities=capabilities(self.encoding, self.pull),
                    root_uri=uri,
                    workspace_folders=[lsp.WorkspaceFolder(uri=uri, name="ws")],
                    # settings at initialize too: a document opened at once already has them
                    initialization_options={"migrationLsp": settings} if settings else None,
                )
            )

        return self.run(start(), 60)

    def stop(self) -> int | None:
        """Shut the server down (shutdown + exit); its exit code."""

        async def stop() -> int | None:
            process = self.client._server
            try:
                await asyncio.wait_for(self.client.shutdown_session(), 10)
            finally:
                await self.client.stop()
            if process is not None:
                with_timeout = asyncio.wait_for(process.wait(), 10)
                return await with_timeout
            return None

        try:
            return self.run(stop(), 30)
        finally:
            self.loop.call_soon_threadsafe(self.loop.stop)
            self._thread.join(10)

    def kill(self) -> None:
        """Stop without the protocol (after a failure)."""
        process = self.client._server
        if process is not None and process.returncode is None:
            process.kill()
        self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join(10)

    # ------------------------------------------------------------------ checks

    def log_problems(self) -> list[str]:
        """Tracebacks and errors the server wrote to stderr or sent as log/show messages."""
        found = [
            line.rstrip()
            for line in self.stderr
            if "Traceback" in line or " ERROR " in line or " CRITICAL " in line
        ]
        for message in [*self.client.log_messages, *self.client.messages]:
            if message.type == lsp.MessageType.Error:
                found.append(f"{message.type.name}: {message.message}")
        return found

    def timed(self, what: str, coroutine: Awaitable[T]) -> T:
        """Run one request; it must answer within `RESPONSE_BUDGET` seconds."""
        started = time.perf_counter()
        try:
            result = self.run(coroutine, RESPONSE_BUDGET * 5)
        except TimeoutError as error:
            self.stats.hangs += 1
            raise AssertionError(f"{what}: no answer within {RESPONSE_BUDGET * 5} s") from error
        elapsed = time.perf_counter() - started
        self.stats.requests += 1
        if elapsed > self.stats.slowest:
            self.stats.slowest, self.stats.slowest_what = elapsed, what
        if elapsed > RESPONSE_BUDGET:
            self.stats.hangs += 1
            raise AssertionError(f"{what} took {elapsed:.2f} s (budget {RESPONSE_BUDGET} s)")
        return result

    async def wait_published(self, uri: str, version: int | None) -> list[lsp.Diagnostic]:
        """Wait for pushed diagnostics of exactly this version of the document."""
        assert self._published_event is not None
        while True:
            current = self.published.get(uri)
            if current is not None and current[0] == version:
                return current[1]
            self._published_event.clear()
            await self._published_event.wait()


@dataclass(slots=True)
class OpenDocument:
    """The editor's side of one open document: its text and version, and the server."""

    server: ServerRun
    uri: str
    text: str
    version: int = 1
    language: str = "plaintext"

    @classmethod
    def open(cls, server: ServerRun, path: Path, text: str | None = None) -> OpenDocument:
        if text is None:
            text = path.read_bytes().decode("utf-8")
        document = cls(server, path.as_uri(), text, 1, LANGUAGE_IDS.get(path.suffix, "plaintext"))
        document.send_open()
        server.stats.documents += 1
        return document

    def send_open(self) -> None:
        self.server.published.pop(self.uri, None)
        item = lsp.TextDocumentItem(
            uri=self.uri, language_id=self.language, version=self.version, text=self.text
        )
        self.server.call(
            lambda: self.server.client.text_document_did_open(
                lsp.DidOpenTextDocumentParams(text_document=item)
            )
        )

    def close(self) -> None:
        identifier = lsp.TextDocumentIdentifier(uri=self.uri)
        self.server.call(
            lambda: self.server.client.text_document_did_close(
                lsp.DidCloseTextDocumentParams(text_document=identifier)
            )
        )

    @property
    def encoding(self) -> str:
        return self.server.encoding

    def change(self, changes: Sequence[Change], version: int | None = None) -> None:
        """Send incremental changes (each relative to the text after the ones before)."""
        events: list[lsp.TextDocumentContentChangeEvent] = []
        for change in changes:
            start = position_at(self.text, change.start, self.encoding)
            end = position_at(self.text, change.end, self.encoding)
            events.append(
                lsp.TextDocumentContentChangePartial(
                    range=lsp.Range(start=start, end=end), text=change.text
                )
            )
            self.text = change.apply(self.text)
        self.version = self.version + 1 if version is None else version
        params = lsp.DidChangeTextDocumentParams(
            text_document=lsp.VersionedTextDocumentIdentifier(uri=self.uri, version=self.version),
            content_changes=events,
        )
        self.server.call(lambda: self.server.client.text_document_did_change(params))
        self.server.stats.edits += len(changes)

    # ------------------------------------------------------------------ requests

    @property
    def identifier(self) -> lsp.TextDocumentIdentifier:
        return lsp.TextDocumentIdentifier(uri=self.uri)

    def diagnostics(self) -> list[lsp.Diagnostic]:
        """The diagnostics of the current version: pulled, or waited for when pushed."""
        client = self.server.client
        if self.server.pull:
            report = self.server.timed(
                "textDocument/diagnostic",
                client.text_document_diagnostic_async(
                    lsp.DocumentDiagnosticParams(text_document=self.identifier)
                ),
            )
            assert isinstance(report, lsp.RelatedFullDocumentDiagnosticReport), report
            items = list(report.items)
        else:
            # the server waits DEBOUNCE after the last edit before it starts
            items = self.server.timed(
                "publishDiagnostics", self.server.wait_published(self.uri, self.version)
            )
        self.check_ranges("diagnostic", (d.range for d in items))
        return items

    def check_ranges(self, what: str, ranges: Iterable[lsp.Range]) -> None:
        for range_ in ranges:
            problem = range_problem(self.text, range_, self.encoding)
            if problem is not None:
                self.server.stats.invalid_ranges += 1
                raise AssertionError(
                    f"{what} range outside the document: {problem}\n"
                    f"document {self.uri} version {self.version}: {self.text[:3000]!r}"
                )

    def position(self, offset: int) -> lsp.Position:
        return position_at(self.text, offset, self.encoding)

    def hover(self, offset: int) -> lsp.Hover | None:
        result = self.server.timed(
            "textDocument/hover",
            self.server.client.text_document_hover_async(
                lsp.HoverParams(text_document=self.identifier, position=self.position(offset))
            ),
        )
        if result is not None and result.range is not None:
            self.check_ranges("hover", [result.range])
        return result

    def completion(self, offset: int) -> Any:
        result = self.server.timed(
            "textDocument/completion",
            self.server.client.text_document_completion_async(
                lsp.CompletionParams(text_document=self.identifier, position=self.position(offset))
            ),
        )
        items = result.items if isinstance(result, lsp.CompletionList) else result or []
        ranges: list[lsp.Range] = []
        for item in items:
            edit = item.text_edit
            if isinstance(edit, lsp.TextEdit):
                ranges.append(edit.range)
            elif isinstance(edit, lsp.InsertReplaceEdit):
                ranges.extend([edit.insert, edit.replace])
            ranges.extend(e.range for e in item.additional_text_edits or [])
        self.check_ranges("completion", ranges)
        return result

    def symbols(self) -> Any:
        result = self.server.timed(
            "textDocument/documentSymbol",
            self.server.client.text_document_document_symbol_async(
                lsp.DocumentSymbolParams(text_document=self.identifier)
            ),
        )
        ranges: list[lsp.Range] = []
        stack = list(result or [])
        while stack:
            symbol = stack.pop()
            if isinstance(symbol, lsp.DocumentSymbol):
                ranges.extend([symbol.range, symbol.selection_range])
                stack.extend(symbol.children or [])
            elif symbol.location.uri == self.uri:
                ranges.append(symbol.location.range)
        self.check_ranges("documentSymbol", ranges)
        return result

    def code_lenses(self) -> Any:
        result = self.server.timed(
            "textDocument/codeLens",
            self.server.client.text_document_code_lens_async(
                lsp.CodeLensParams(text_document=self.identifier)
            ),
        )
        self.check_ranges("codeLens", (lens.range for lens in result or []))
        return result

    def definition(self, offset: int) -> Any:
        result = self.server.timed(
            "textDocument/definition",
            self.server.client.text_document_definition_async(
                lsp.DefinitionParams(text_document=self.identifier, position=self.position(offset))
            ),
        )
        locations = result if isinstance(result, list) else [result] if result else []
        self.check_ranges(
            "definition",
            (x.range for x in locations if isinstance(x, lsp.Location) and x.uri == self.uri),
        )
        return result

    def references(self, offset: int) -> Any:
        result = self.server.timed(
            "textDocument/references",
            self.server.client.text_document_references_async(
                lsp.ReferenceParams(
                    text_document=self.identifier,
                    position=self.position(offset),
                    context=lsp.ReferenceContext(include_declaration=True),
                )
            ),
        )
        self.check_ranges("references", (x.range for x in result or [] if x.uri == self.uri))
        return result

    def code_actions(
        self, range_: lsp.Range, diagnostics: Sequence[lsp.Diagnostic]
    ) -> list[lsp.CodeAction]:
        """Code actions for a range; every edit they carry must apply to the current text."""
        result = self.server.timed(
            "textDocument/codeAction",
            self.server.client.text_document_code_action_async(
                lsp.CodeActionParams(
                    text_document=self.identifier,
                    range=range_,
                    context=lsp.CodeActionContext(diagnostics=list(diagnostics)),
                )
            ),
        )
        actions = [a for a in result or [] if isinstance(a, lsp.CodeAction)]
        for action in actions:
            self.check_ranges("code action diagnostic", (d.range for d in action.diagnostics or []))
            edits = self.edits_of(action)
            if edits is not None:
                try:
                    apply_text_edits(self.text, edits, self.encoding)
                except AssertionError as error:
                    self.server.stats.invalid_ranges += 1
                    raise AssertionError(
                        f"{action.title!r}: {error}\n"
                        f"document {self.uri} version {self.version}: {self.text[:3000]!r}"
                    ) from error
        return actions

    def edits_of(self, action: lsp.CodeAction) -> list[lsp.TextEdit] | None:
        """The edits an action makes to this document (None when it makes none), after checking
        that it targets the current version."""
        if action.edit is None:
            return None
        edits: list[lsp.TextEdit] = []
        for change in action.edit.document_changes or []:
            if isinstance(change, lsp.TextDocumentEdit) and change.text_document.uri == self.uri:
                version = change.text_document.version
                if version is not None and version != self.version:
                    raise AssertionError(
                        f"{action.title!r} targets version {version}, the text is {self.version}"
                    )
                edits.extend(e for e in change.edits if isinstance(e, lsp.TextEdit))
        edits.extend((action.edit.changes or {}).get(self.uri, []))
        return edits or None

    def apply(self, action: lsp.CodeAction) -> bool:
        """Apply an action's edits the way an editor does (one change per edit, last first)."""
        edits = self.edits_of(action)
        if not edits:
            return False
        _, spans = apply_text_edits(self.text, edits, self.encoding)
        self.change([Change(start, end, new_text) for start, end, new_text in spans])
        self.server.stats.actions_applied += 1
        return True


def comparable(diagnostics: Iterable[lsp.Diagnostic]) -> list[tuple[Any, ...]]:
    """What a user sees of a set of diagnostics, in a stable order."""
    return sorted(
        (
            d.range.start.line,
            d.range.start.character,
            d.range.end.line,
            d.range.end.character,
            str(d.code),
            d.severity,
            d.message,
        )
        for d in diagnostics
    )


# --------------------------------------------------------------------------- one fuzz session


class Fuzzer:
    """Random editing of one document in a running server, checking the invariants as it goes.

    The randomness comes from a `random.Random`-like `draw` object so hypothesis can drive it in
    the tests (shrinkable) and a seeded `random.Random` in the long command-line run."""

    def __init__(self, document: OpenDocument, rng: Chooser) -> None:
        self.document = document
        self.rng = rng

    @property
    def text(self) -> str:
        return self.document.text

    def offset(self) -> int:
        text = self.text
        if text and self.rng.boolean():
            near = [m.start() for m in INTERESTING.finditer(text)]
            if near:
                return snap(text, self.rng.choice(near) + self.rng.integer(-2, 2))
        return snap(text, self.rng.integer(0, len(text)))

    def span(self, longest: int = 40) -> tuple[int, int]:
        start = self.offset()
        end = snap(self.text, start + self.rng.integer(0, longest))
        return start, max(start, end)

    def insertion(self) -> str:
        if self.text and self.rng.integer(0, 5) == 0:  # paste a piece of the file itself
            start, end = self.span(120)
            return self.text[start:end]
        return "".join(self.rng.choice(INSERTS) for _ in range(self.rng.integer(1, 3)))

    def edit(self) -> Change:
        kind = self.rng.integer(0, 2)
        if kind == 0:
            at = self.offset()
            return Change(at, at, self.insertion())
        start, end = self.span()
        return Change(start, end, "" if kind == 1 else self.insertion())

    def step_edit(self) -> None:
        """One didChange with one to three changes, each relative to the text before it."""
        changes: list[Change] = []
        text = self.text
        for _ in range(self.rng.integer(1, 3) if self.rng.integer(0, 3) == 0 else 1):
            change = self.edit_on(text)
            changes.append(change)
            text = change.apply(text)
        self.document.change(changes)

    def edit_on(self, text: str) -> Change:
        saved = self.document.text
        self.document.text = text
        try:
            return self.edit()
        finally:
            self.document.text = saved

    def step_query(self) -> None:
        """Ask what an editor asks while the user types, and check every range returned."""
        document = self.document
        diagnostics = document.diagnostics()
        at = self.offset()
        feature = self.rng.integer(0, 5)
        if feature == 0:
            document.hover(at)
        elif feature == 1:
            document.completion(at)
        elif feature == 2:
            document.symbols()
        elif feature == 3:
            document.code_lenses()
        elif feature == 4:
            document.definition(at)
        else:
            document.references(at)
        if diagnostics:
            chosen = self.rng.choice(diagnostics)
            actions = document.code_actions(chosen.range, [chosen])
            applicable = [a for a in actions if document.edits_of(a)]
            if applicable and self.rng.integer(0, 2) == 0:
                document.apply(self.rng.choice(applicable))

    def check_log(self) -> None:
        problems = self.document.server.log_problems()
        if problems:
            self.document.server.stats.crashes += 1
            raise AssertionError("server logged an error:\n" + "\n".join(problems[:40]))

    def finish(self) -> None:
        """After the last edit: the diagnostics equal those of a fresh open of the same text."""
        document = self.document
        edited = comparable(document.diagnostics())
        document.close()
        document.version = 1
        document.send_open()
        fresh = comparable(document.diagnostics())
        if edited != fresh:
            document.server.stats.mismatches += 1
            raise AssertionError(
                "incremental sync drifted: after the edits the server reported\n"
                f"{edited}\nbut for a fresh open of the same text\n{fresh}\n"
                f"text: {document.text!r}"
            )
        document.close()


class Chooser:
    """The random choices a `Fuzzer` makes."""

    def __init__(self, draw: Callable[[str, int, int], int]) -> None:
        self._draw = draw

    @classmethod
    def seeded(cls, seed: int) -> Chooser:
        rng = random.Random(seed)
        return cls(lambda _what, low, high: rng.randint(low, high))

    def integer(self, low: int, high: int) -> int:
        return self._draw("integer", low, high)

    def boolean(self) -> bool:
        return self.integer(0, 1) == 1

    def choice(self, items: Sequence[T]) -> T:
        return items[self.integer(0, len(items) - 1)]


def with_crlf(text: str) -> str:
    return text.replace("\r\n", "\n").replace("\n", "\r\n")


def server_env(extra: dict[str, str] | None = None) -> dict[str, str]:
    """The environment the server runs in (`server_env` replaces it whole)."""
    env = dict(os.environ)
    env.update(extra or {})
    return env


# --------------------------------------------------------------------------- parser fuzzing

PARSER_FIXTURE_ROOTS: tuple[Path, ...] = (
    *WORKSPACE_SOURCES.values(),
    FIXTURES / "history" / "alembic_problems",
    FIXTURES / "detect" / "sqitch_app",
    FIXTURES / "detect" / "supabase_app",
    FIXTURES / "detect" / "flyway_toml",
    FIXTURES / "detect" / "alembic_basic",
)
"""Real projects whose migrations the parser fuzzing mutates."""


def migration_inputs() -> list[tuple[Path, Any]]:
    """Every migration file of the fixture projects with its detected project."""
    from migration_lsp.project.detect import detect_projects

    found: dict[Path, Any] = {}
    for root in PARSER_FIXTURE_ROOTS:
        for project in detect_projects(root):
            for path in project.migration_files():
                found.setdefault(path, project)
    return sorted(found.items(), key=lambda item: str(item[0]))


def mutate(text: str, rng: Chooser) -> str:
    """Random mutations of a migration's text: half of the time line-level ones that mostly
    keep it parseable (so the rules and fixes run on unusual input), else one to four of
    truncation (half-typed code), deleted, duplicated or swapped pieces, inserted tokens and
    replaced characters."""
    if rng.boolean():
        return mutate_lines(text, rng)
    for _ in range(rng.integer(1, 4)):
        size = len(text)
        a, b = sorted((rng.integer(0, size), rng.integer(0, size)))
        kind = rng.integer(0, 6)
        if kind == 0:
            text = text[:b]
        elif kind == 1:
            text = text[:a] + text[min(b, a + 200) :]
        elif kind == 2:
            text = text[:a] + text[a:b][:300] + text[a:]
        elif kind == 3:
            text = text[:a] + rng.choice(INSERTS) + text[a:]
        elif kind == 4:
            text = text[:a] + random_character(rng) + text[a + 1 :]
        elif kind == 5:
            middle = (a + b) // 2
            text = text[:a] + text[middle:b] + text[a:middle] + text[b:]
        else:
            text = text[:a] + text[a:b].upper() + text[b:]
    return text


def mutate_lines(text: str, rng: Chooser) -> str:
    """Whole-line edits: duplicate, drop, swap or indent a line, add blank lines or trailing
    spaces, a comment-like line, CRLF or mixed line endings, a BOM."""
    lines = text.splitlines(keepends=True) or [""]
    for _ in range(rng.integer(1, 3)):
        at = rng.integer(0, len(lines) - 1)
        kind = rng.integer(0, 8)
        if kind == 0:
            lines.insert(at, lines[at])
        elif kind == 1 and len(lines) > 1:
            del lines[at]
        elif kind == 2 and at + 1 < len(lines):
            lines[at], lines[at + 1] = lines[at + 1], lines[at]
        elif kind == 3:
            lines[at] = rng.choice(("\t", "    ", " ")) + lines[at]
        elif kind == 4:
            lines.insert(at, rng.choice(("\n", "\r\n", "\t\n", "  \n")))
        elif kind == 5:
            body = lines[at].rstrip("\r\n")
            lines[at] = body + rng.choice((" ", "\t", " é🚀", "  ")) + lines[at][len(body) :]
        elif kind == 6:
            lines = [line.replace("\r\n", "\n").replace("\n", "\r\n") for line in lines]
        elif kind == 7:
            lines[at] = lines[at].replace("\r\n", "\n").replace("\n", rng.choice(("\r", "\r\n")))
        else:
            lines.insert(0, "\ufeff")
    return "".join(lines)


def random_character(rng: Chooser) -> str:
    """Any character a UTF-8 file can hold (no lone surrogates), ASCII half of the time."""
    code = rng.integer(1, 0x10FFFF) if rng.boolean() else rng.integer(1, 127)
    return chr(code) if not 0xD800 <= code <= 0xDFFF else "\ufffd"


def mutate_bytes(data: bytes, rng: Chooser) -> bytes:
    """Byte-level damage: flipped bytes, cut multi-byte sequences, NULs, random junk."""
    for _ in range(rng.integer(1, 3)):
        at = rng.integer(0, len(data))
        kind = rng.integer(0, 3)
        if kind == 0 and data:
            at = min(at, len(data) - 1)
            data = data[:at] + bytes([rng.integer(0, 255)]) + data[at + 1 :]
        elif kind == 1:
            data = (
                data[:at]
                + bytes(rng.integer(0, 255) for _ in range(rng.integer(1, 16)))
                + data[at:]
            )
        elif kind == 2:
            data = data[:at] + b"\x00" + data[at:]
        else:
            data = data[:at]
    return data


@dataclass(slots=True)
class EngineResult:
    findings: list[Any]
    parsed: bool
    problems: int


def check_engine_input(path: Path, project: Any, data: bytes | str) -> EngineResult:
    """Run one input through decoding, the tool's parser, every rule and every quick fix, as
    the CLI and the server do; raises AssertionError when an invariant breaks (an exception
    escapes, a finding or an edit lies outside the text, a parse problem with other findings)."""
    from migration_lsp.engine import analyse_document, decode
    from migration_lsp.fixes import fixes_for
    from migration_lsp.project.config import Config
    from migration_lsp.rules.registry import PARSE_ERROR, UNUSED_IGNORE

    if isinstance(data, bytes):
        text, problem = decode(data)
    else:
        text, problem = data, None
    config = Config()
    analysis = analyse_document(str(path), text, project, config, problem=problem)
    migration = analysis.migration
    size = len(text)
    for finding in analysis.findings:
        span = finding.span
        assert 0 <= span.start <= span.end <= size, f"{finding.rule} span {span} outside 0..{size}"
    if migration is None:
        return EngineResult(analysis.findings, False, 0)
    if migration.problems:
        others = {f.rule for f in analysis.findings} - {PARSE_ERROR, UNUSED_IGNORE}
        assert not others, f"a file that does not parse still got {others}"
        for problem_ in migration.problems:
            assert 0 <= problem_.span.start <= problem_.span.end <= size, problem_
    for finding in analysis.findings:
        for fix in fixes_for(finding, migration):
            for edit in fix.edits:
                assert 0 <= edit.span.start <= edit.span.end <= size, (
                    finding.rule,
                    fix.title,
                    edit,
                )
    return EngineResult(analysis.findings, True, len(migration.problems))
