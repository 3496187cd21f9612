"""`migration-lsp serve`: the pygls server. Handlers convert and route; the engine decides.

Diagnostics are pushed (`publishDiagnostics`) to clients that cannot pull and answered on
`textDocument/diagnostic` for those that can, never both. Analysis runs in a worker thread,
debounced after edits, so typing never waits for it.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import importlib
import inspect
import logging
import os
import sys
import tempfile
import threading
import time
from collections.abc import Generator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar
from urllib.parse import unquote, urlparse

from lsprotocol import types as lsp
from pygls.exceptions import JsonRpcInvalidRequest
from pygls.lsp.server import LanguageServer
from pygls.protocol import LanguageServerProtocol
from pygls.protocol.json_rpc import RPCMessage, RPCRequest

from migration_lsp import __version__
from migration_lsp.lsp import actions, completion, history, hover, navigation
from migration_lsp.lsp.convert import (
    SOURCE,
    EncodedJson,
    Positions,
    RawJson,
    Spliced,
    diagnostic,
    diagnostic_json,
    encode_json,
    encoded_body,
    encoded_list,
    send_raw_json,
)
from migration_lsp.lsp.session import Document, Session
from migration_lsp.lsp.sync import use_lsp_lines
from migration_lsp.text import LineIndex

log = logging.getLogger(__name__)

DEBOUNCE_SECONDS = 0.12
"""The longest wait after an edit before analysing the document again (push clients)."""
MIN_DEBOUNCE_SECONDS = 0.02
"""The shortest: the wait follows what the document's last analysis cost, so a burst of
keystrokes does not start analyses the next keystroke makes stale while they run, while a
typical migration (a few milliseconds) gets its diagnostics right away."""
PROJECTS_NOTIFICATION = "migrationLsp/projects"
"""Sent whenever detection changes: `{"projects": [{tool, flavor, root, folder, dialect,
dialectSource, migrations}]}`; editors use it for a status display."""
SHOW_PROJECTS = "migration-lsp.showProjects"
SHOW_DOCUMENTATION = "migration-lsp.showDocumentation"
CONFIG_SECTION = "migrationLsp"

WATCHED_MARKERS = (
    "alembic.ini",
    "manage.py",
    "pyproject.toml",
    "migration-lsp.toml",
    ".migration-lsp.toml",
    "schema.prisma",
    "migration_lock.toml",
    "flyway.conf",
    "flyway.toml",
    "knexfile.*",
    "ormconfig.*",
    ".sequelizerc",
    "Gemfile",
    "artisan",
    "database.yml",
    "composer.json",
    "package.json",
    "liquibase.properties",
    "application.properties",
    "application.yml",
    "data-source.*",
    ".env",
    "settings.py",
    "env.py",
    "*.conf",
)


def path_of(uri: str) -> Path | None:
    parsed = urlparse(uri)
    if parsed.scheme != "file":
        return None
    return Path(unquote(parsed.path))


class MigrationProtocol(LanguageServerProtocol):
    """pygls's protocol, except that requests after `shutdown` fail with InvalidRequest (as
    LSP says) instead of being dropped, which would leave the client waiting forever."""

    def handle_message(self, message: RPCMessage) -> None:
        if (
            self._shutdown
            and isinstance(message, RPCRequest)
            and getattr(message, "method", lsp.EXIT) != lsp.EXIT
        ):
            error = JsonRpcInvalidRequest(f"{message.method}: the server is shutting down")
            self._send_response(message.id, None, error.to_response_error())
            return
        super().handle_message(message)

    def _run_generator(
        self, future: Any, *, gen: Generator[Any, Any, Any], result_future: Any
    ) -> None:
        """pygls runs its own handlers (`initialized`, `didOpen`, ...) as generators that
        wait for ours; when `exit` cancels one of ours while it waits (fetching settings from
        the client, say), pygls logged the cancellation as an error. It just stops here."""
        if future is not None and future.cancelled():
            if not result_future.done():
                result_future.cancel()
            return
        super()._run_generator(future, gen=gen, result_future=result_future)

    _writes: ClassVar[set[asyncio.Future[Any]]] = set()

    def _send_data(self, data: Any) -> None:
        """Messages carrying `EncodedJson` are written as they are (see `encoded_body`)."""
        body = encoded_body(data)
        writer = self.writer
        if body is None or writer is None or not self._include_headers:
            super()._send_data(data)
            return
        header = (
            f"Content-Length: {sum(map(len, body))}\r\n"
            f"Content-Type: {self.CONTENT_TYPE}; charset={self.CHARSET}\r\n\r\n"
        )
        try:  # one write: a message is never interleaved with another thread's
            written = writer.write(b"".join([header.encode("ascii"), *body]))
            if inspect.isawaitable(written):  # an asynchronous transport
                task = asyncio.ensure_future(written)
                self._writes.add(task)
                task.add_done_callback(self._writes.discard)
        except BrokenPipeError:
            log.exception("cannot send a message: the client closed the pipe")
            raise


@dataclass(slots=True)
class _Rendered:
    """The JSON of a document's last diagnostics that no finding holds any more (those a
    rule reported again), by what each diagnostic says and where, for the owner of the
    memos they were made with (see `MigrationServer.diagnostics_json`)."""

    owner: tuple[object, int] | None
    keys: dict[tuple[object, ...], bytes] = field(default_factory=dict)


class MigrationServer(LanguageServer):
    def __init__(self) -> None:
        super().__init__("migration-lsp", __version__, protocol_cls=MigrationProtocol)
        self.session = Session()
        self.pull = False
        self.encoding: str = lsp.PositionEncodingKind.Utf16
        self._pending: dict[str, asyncio.Task[None]] = {}
        self._reported_error: str | None = None
        self._costs: dict[str, float] = {}
        """Seconds the last analysis of each document took (for the debounce)."""
        self._rendered: dict[str, _Rendered] = {}
        """Per document: its last diagnostics encoded."""
        self._running: dict[str, tuple[int | None, str, asyncio.Future[Document]]] = {}
        """Per document: the analysis running now (version, text, result): a pull request
        and the lint after an edit share it rather than analyse the same text twice."""
        send_raw_json(self.protocol._converter)

    def shutdown(self) -> None:
        """pygls's, without waiting for the analyses still running in the thread pool: after
        `exit` the editor has let go, and `serve()` ends the process right away."""
        pool, self._thread_pool = self._thread_pool, None
        if pool is not None:
            pool.shutdown(wait=False, cancel_futures=True)
        super().shutdown()  # type: ignore[no-untyped-call]

    @property
    def exit_code(self) -> int:
        """What LSP asks of the process: 0 after `shutdown`, 1 when it ends without one."""
        return 0 if self.protocol._shutdown else 1

    # ------------------------------------------------------------------ helpers

    def positions(self, document: Document) -> Positions:
        migration = document.analysis.migration
        lines = migration.lines if migration is not None else LineIndex(document.text)
        return Positions(lines, self.encoding)

    def diagnostics(self, document: Document) -> list[lsp.Diagnostic]:
        positions = self.positions(document)
        return [diagnostic(f, positions) for f in document.analysis.findings]

    def diagnostics_json(self, document: Document) -> EncodedJson:
        """The document's diagnostics as one JSON array, built once per analysis.

        Each diagnostic's JSON is kept on its finding (`Finding.memo`): after an edit, the
        findings before it are the same objects as last time and those after it copies that
        kept their place and their memo (`relint`). The others are encoded, or found again
        by what they say and where (`_Rendered.keys`: a rule that ran again)."""
        cached = document.rendered
        if cached is None or cached[0] != self.encoding:
            positions = self.positions(document)
            # a memo holds (line, code-point column) positions: good for any encoding
            # where those are the units, under the configuration it was made with
            owner = (self.session, document.generation) if positions.columns_are_units else None
            findings = document.analysis.findings
            last = self._rendered.get(document.uri)
            if last is None or last.owner != owner:
                last = _Rendered(owner)
            keys: dict[tuple[object, ...], bytes] = {}
            items: list[bytes] = []
            add = items.append
            for finding in findings:
                memo = finding.memo
                if memo is not None and memo[0] == owner:
                    add(memo[1])
                    continue
                key = (finding.rule, finding.message, finding.severity, finding.start, finding.end)
                item = keys.get(key) or last.keys.get(key)
                if item is None or owner is None:
                    item = encode_json(diagnostic_json(finding, positions))
                if owner is not None:
                    finding.memo = (owner, item)
                keys[key] = item
                add(item)
            if len(keys) < len(findings) and len(last.keys) <= 2 * len(findings) + 64:
                keys = {**last.keys, **keys}  # what was encoded before, within bounds
            self._rendered[document.uri] = _Rendered(owner, keys)
            cached = document.rendered = (self.encoding, encoded_list(items))
        return cached[1]

    def publish(self, uri: str, version: int | None, items: EncodedJson) -> None:
        """`textDocument/publishDiagnostics` with diagnostics already in JSON form."""
        params = RawJson(uri=uri, diagnostics=items)
        if version is not None:
            params["version"] = version
        method = lsp.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS
        self.protocol._send_data(RawJson(jsonrpc="2.0", method=method, params=params))

    def debounce(self, uri: str) -> float:
        cost = self._costs.get(uri, 0.0)
        return min(DEBOUNCE_SECONDS, max(MIN_DEBOUNCE_SECONDS, cost))

    async def analyse(self, uri: str) -> Document | None:
        """Analyse the open document's current text in a worker thread."""
        path = path_of(uri)
        if path is None:
            return None
        try:
            text_document = self.workspace.get_text_document(uri)
            text, version = text_document.source, text_document.version
        except (KeyError, OSError, UnicodeDecodeError):  # not open, and not readable on disk
            return None
        running = self._running.get(uri)
        if running is not None and running[0] == version and running[1] == text:
            return await asyncio.shield(running[2])
        loop = asyncio.get_running_loop()
        started = time.perf_counter()
        future = loop.run_in_executor(self.thread_pool, self._analysed, uri, path, text, version)
        self._running[uri] = (version, text, future)
        try:
            document = await asyncio.shield(future)
        finally:
            current = self._running.get(uri)
            if current is not None and current[2] is future:
                del self._running[uri]
        self._costs[uri] = time.perf_counter() - started
        if document.config_error and document.config_error != self._reported_error:
            self._reported_error = document.config_error
            self.window_show_message(
                lsp.ShowMessageParams(
                    type=lsp.MessageType.Warning,
                    message=f"migration-lsp configuration: {document.config_error}; using defaults",
                )
            )
        return document

    def _analysed(self, uri: str, path: Path, text: str, version: int | None) -> Document:
        """`Session.analyse`, with the diagnostics encoded right after, in the same worker
        thread, while what they are made of is still in the processor's cache: encoded on
        the event loop's thread (often on the other core), they took three times as long."""
        document = self.session.analyse(uri, path, text, version)
        self.diagnostics_json(document)
        return document

    async def lint(self, uri: str, delay: float = 0.0) -> None:
        """Push diagnostics for one document (push clients only), after `delay`."""
        if delay:
            await asyncio.sleep(delay)
        document = await self.analyse(uri)
        if document is None or document.project is None:
            return  # nothing is ever published for files that are not migrations
        if self.session.history_changed(document):
            self.relint_project(document)
        if self.pull:
            return
        self.publish(uri, document.version, self.diagnostics_json(document))

    def schedule(self, uri: str, delay: float = 0.0) -> None:
        previous = self._pending.pop(uri, None)
        if previous is not None:
            previous.cancel()
        task = asyncio.ensure_future(self.lint(uri, delay))
        self._pending[uri] = task
        task.add_done_callback(lambda t: self._done(uri, t))

    def _done(self, uri: str, task: asyncio.Task[None]) -> None:
        if self._pending.get(uri) is task:
            self._pending.pop(uri, None)
        if not task.cancelled() and task.exception() is not None:
            log.error("linting %s failed", uri, exc_info=task.exception())

    def relint_project(self, changed: Document) -> None:
        """A document changed the ids it declares or points at: the history findings of the
        project's other open files may have changed too (a second head, a fixed parent)."""
        if changed.project is None:
            return
        if self.pull:
            refresh = self.client_capabilities.workspace
            if refresh and refresh.diagnostics and refresh.diagnostics.refresh_support:
                self.workspace_diagnostic_refresh(None)
            return
        for other in self.session.open_documents(changed.project):
            if other.uri != changed.uri:
                self.schedule(other.uri)

    def relint_all(self) -> None:
        """After configuration or workspace changes: every open document again."""
        if self.pull:
            refresh = self.client_capabilities.workspace
            if refresh and refresh.diagnostics and refresh.diagnostics.refresh_support:
                self.workspace_diagnostic_refresh(None)
            return
        for uri in list(self.workspace.text_documents):
            self.schedule(uri)

    def announce_projects(self) -> None:
        projects = self.session.projects_json()
        self.protocol.notify(PROJECTS_NOTIFICATION, {"projects": projects})
        if projects:
            summary = "; ".join(
                f"{p['tool']} ({p['dialect'] or 'dialect unknown'}) in {p['root']}"
                for p in projects
            )
        else:
            summary = "no migration projects found"
        self.window_log_message(
            lsp.LogMessageParams(type=lsp.MessageType.Info, message=f"migration-lsp: {summary}")
        )

    async def fetch_settings(self) -> None:
        capabilities = self.client_capabilities.workspace
        if not (capabilities and capabilities.configuration):
            return
        try:
            result = await self.workspace_configuration_async(
                lsp.ConfigurationParams(items=[lsp.ConfigurationItem(section=CONFIG_SECTION)])
            )
        except Exception:
            log.exception("workspace/configuration failed")
            return
        settings = result[0] if result else None
        if settings is not None:
            self.session.set_settings(settings)

    async def register_watchers(self) -> None:
        watched = self.client_capabilities.workspace
        if not (
            watched
            and watched.did_change_watched_files
            and watched.did_change_watched_files.dynamic_registration
        ):
            return
        relative = bool(watched.did_change_watched_files.relative_pattern_support)
        watchers: list[lsp.FileSystemWatcher] = [
            lsp.FileSystemWatcher(glob_pattern=f"**/{name}") for name in WATCHED_MARKERS
        ]
        for project in self.session.projects:
            for folder in project.migration_dirs:
                pattern: lsp.GlobPattern
                if relative:
                    pattern = lsp.RelativePattern(base_uri=folder.as_uri(), pattern="**/*")
                else:
                    pattern = f"{folder.as_posix()}/**/*"
                watchers.append(lsp.FileSystemWatcher(glob_pattern=pattern))
        try:
            await self.client_register_capability_async(
                lsp.RegistrationParams(
                    registrations=[
                        lsp.Registration(
                            id="migration-lsp-watch",
                            method=lsp.WORKSPACE_DID_CHANGE_WATCHED_FILES,
                            register_options=lsp.DidChangeWatchedFilesRegistrationOptions(
                                watchers=watchers
                            ),
                        )
                    ]
                )
            )
        except Exception:
            log.exception("could not register file watchers")


def create_server() -> MigrationServer:
    server = MigrationServer()

    @server.feature(lsp.INITIALIZE)
    def initialize(ls: MigrationServer, params: lsp.InitializeParams) -> None:
        text_document = params.capabilities.text_document
        ls.pull = bool(text_document and text_document.diagnostic)
        # pygls has negotiated the encoding (and announces it); convert in the same units
        ls.encoding = str(ls.workspace.position_encoding or lsp.PositionEncodingKind.Utf16)
        use_lsp_lines(ls.workspace)  # apply edits to the lines the client sees (issue 10)
        folders = [path_of(f.uri) for f in params.workspace_folders or []]
        if not folders and params.root_uri:
            folders = [path_of(params.root_uri)]
        if isinstance(params.initialization_options, dict):
            options = params.initialization_options.get(
                CONFIG_SECTION, params.initialization_options
            )
            ls.session.set_settings(options)
        # detect now, so documents opened right after `initialized` already have a project
        ls.session.set_folders([f for f in folders if f is not None])

    @server.feature(lsp.INITIALIZED)
    async def initialized(ls: MigrationServer, params: lsp.InitializedParams) -> None:
        await ls.fetch_settings()
        ls.announce_projects()
        await ls.register_watchers()
        ls.relint_all()

    @server.feature(lsp.TEXT_DOCUMENT_DID_OPEN)
    def did_open(ls: MigrationServer, params: lsp.DidOpenTextDocumentParams) -> None:
        ls.schedule(params.text_document.uri)

    @server.feature(lsp.TEXT_DOCUMENT_DID_CHANGE)
    def did_change(ls: MigrationServer, params: lsp.DidChangeTextDocumentParams) -> None:
        uri = params.text_document.uri
        ls.schedule(uri, ls.debounce(uri))

    @server.feature(lsp.TEXT_DOCUMENT_DID_CLOSE)
    def did_close(ls: MigrationServer, params: lsp.DidCloseTextDocumentParams) -> None:
        uri = params.text_document.uri
        pending = ls._pending.pop(uri, None)
        if pending is not None:
            pending.cancel()
        ls.session.forget(uri)
        ls._costs.pop(uri, None)
        ls._rendered.pop(uri, None)
        if not ls.pull:
            ls.text_document_publish_diagnostics(
                lsp.PublishDiagnosticsParams(uri=uri, diagnostics=[])
            )

    @server.feature(
        lsp.TEXT_DOCUMENT_DIAGNOSTIC,
        lsp.DiagnosticOptions(
            identifier=SOURCE, inter_file_dependencies=True, workspace_diagnostics=False
        ),
    )
    async def pull_diagnostics(ls: MigrationServer, params: lsp.DocumentDiagnosticParams) -> Any:
        """A full report, in JSON form (no debounce: the client asks when it wants them)."""
        document = await ls.analyse(params.text_document.uri)
        items = ls.diagnostics_json(document) if document is not None else encoded_list([])
        return Spliced((b'{"kind":"full","items":', items, b"}"))

    @server.feature(lsp.WORKSPACE_DID_CHANGE_CONFIGURATION)
    async def did_change_configuration(
        ls: MigrationServer, params: lsp.DidChangeConfigurationParams
    ) -> None:
        settings = params.settings
        if isinstance(settings, dict) and CONFIG_SECTION in settings:
            ls.session.set_settings(settings[CONFIG_SECTION])
        else:
            await ls.fetch_settings()
        ls.relint_all()

    @server.feature(lsp.WORKSPACE_DID_CHANGE_WATCHED_FILES)
    async def did_change_watched_files(
        ls: MigrationServer, params: lsp.DidChangeWatchedFilesParams
    ) -> None:
        loop = asyncio.get_running_loop()
        before = ls.session.projects_json()
        await loop.run_in_executor(ls.thread_pool, ls.session.detect)
        if ls.session.projects_json() != before:
            ls.announce_projects()
            await ls.register_watchers()
        ls.relint_all()

    @server.feature(lsp.WORKSPACE_DID_CHANGE_WORKSPACE_FOLDERS)
    async def did_change_folders(
        ls: MigrationServer, params: lsp.DidChangeWorkspaceFoldersParams
    ) -> None:
        folders = [f for f in ls.session.folders]
        removed = {path_of(f.uri) for f in params.event.removed}
        folders = [f for f in folders if f not in removed]
        folders.extend(p for f in params.event.added if (p := path_of(f.uri)) is not None)
        ls.session.folders = folders
        loop = asyncio.get_running_loop()
        await loop.run_in_executor(ls.thread_pool, ls.session.detect)
        ls.announce_projects()
        ls.relint_all()

    @server.command(SHOW_PROJECTS)
    def show_projects(ls: MigrationServer, *args: Any) -> list[dict[str, Any]]:
        return ls.session.projects_json()

    @server.command(SHOW_DOCUMENTATION)
    async def show_documentation(ls: MigrationServer, *args: Any) -> None:
        """Open the rule's page in the editor: written from the installed rule definitions, so
        it works offline and always matches the running version."""
        from migration_lsp.rules.registry import BY_ID
        from migration_lsp.rulesdoc import rule_page

        rule = BY_ID.get(str(args[0]) if args else "")
        if rule is None:
            return
        folder = Path(tempfile.gettempdir()) / f"migration-lsp-{__version__}" / "rules"
        folder.mkdir(parents=True, exist_ok=True)
        page = folder / f"{rule.id}.md"
        page.write_text(rule_page(rule), encoding="utf-8")
        await ls.window_show_document_async(
            lsp.ShowDocumentParams(uri=page.as_uri(), external=False, take_focus=True)
        )

    actions.register(server)
    hover.register(server)
    completion.register(server)
    navigation.register(server)
    history.register(server)
    return server


_WARM_MODULES = (
    "migration_lsp.fixes",
    "migration_lsp.parse.alembic",
    "migration_lsp.parse.django",
    "migration_lsp.parse.sql_files",
    "migration_lsp.parse.sql_incremental",
)


def warm_up() -> None:
    """Import what the first edit and the first code action need (the parsers, sqlglot's
    dialects, the fix builders) while the user has not asked for anything yet, then keep the
    long-lived objects out of the garbage collector's way."""
    try:
        for module in _WARM_MODULES:
            importlib.import_module(module)
        from migration_lsp.parse.sql import _dialect

        _dialect("postgresql")
    except Exception:  # warming up is an optimisation only
        log.exception("warm-up failed")
    gc.freeze()


def tune_gc() -> None:
    """Analyses allocate many small objects that live until the next edit: the default
    thresholds run a full collection every few keystrokes, each walking every object the
    server holds (tens of milliseconds on a large file). Collect young objects less often
    and never walk the modules and tables loaded at start (`gc.freeze`)."""
    gc.freeze()
    gc.set_threshold(20_000, 20, 20)


def serve(tcp: tuple[str, int] | None = None) -> None:
    """Serve until `exit` (or the end of input), then end the process at once with LSP's exit
    code: pygls swallows the `SystemExit` of `exit`, and a normal interpreter exit would wait
    for the worker threads, i.e. for an analysis of a slow file to finish."""
    logging.basicConfig(level=logging.WARNING, format="migration-lsp %(levelname)s %(message)s")
    server = create_server()
    tune_gc()
    threading.Thread(target=warm_up, name="migration-lsp-warm-up", daemon=True).start()
    if tcp is not None:
        server.start_tcp(*tcp)
    else:
        server.start_io()
    end_process(server.exit_code)


def end_process(code: int) -> None:
    """Flush what was written, then exit without joining threads or running finalisers."""
    logging.shutdown()
    for stream in (sys.stdout, sys.stderr):
        # `exit` closed stdout; the client may be gone
        with contextlib.suppress(OSError, ValueError):
            stream.flush()
    os._exit(code)
