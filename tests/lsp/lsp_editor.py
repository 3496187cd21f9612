"""The test editor: drives the real server the way an editor does (open, change, wait for or
pull diagnostics), and computes positions in the negotiated encoding independently."""

from __future__ import annotations

import ast
import asyncio
from pathlib import Path
from typing import Any

from lsprotocol import types as lsp
from pytest_lsp import LanguageClient

LANGUAGE_IDS = {
    ".sql": "sql",
    ".rb": "ruby",
    ".php": "php",
    ".js": "javascript",
    ".ts": "typescript",
    ".xml": "xml",
    ".yaml": "yaml",
    ".yml": "yaml",
    ".json": "json",
    ".prisma": "prisma",
}
"""The language ids VS Code sends for each file type."""


class Editor:
    """A thin driver over the pytest-lsp client, the way an editor uses the server."""

    def __init__(self, client: LanguageClient, root: Path, name: str) -> None:
        self.client = client
        self.root = root
        self.name = name
        self.versions: dict[str, int] = {}
        self.texts: dict[str, str] = {}
        self._seen: dict[str, Any] = {}

    @property
    def pulls(self) -> bool:
        caps = self.client.capabilities
        return bool(caps and caps.text_document and caps.text_document.diagnostic)

    @property
    def encoding(self) -> str:
        caps = self.client.capabilities
        encodings = (caps.general.position_encodings if caps and caps.general else None) or []
        return str(encodings[0]) if encodings else "utf-16"

    def uri(self, relative: str) -> str:
        return (self.root / relative).as_uri()

    def open(self, relative: str, text: str | None = None) -> str:
        uri = self.uri(relative)
        if text is None:
            text = (self.root / relative).read_text(encoding="utf-8")
        language = LANGUAGE_IDS.get(Path(relative).suffix, "python")
        self.versions[uri] = 1
        self.texts[uri] = text
        self.client.text_document_did_open(
            lsp.DidOpenTextDocumentParams(
                text_document=lsp.TextDocumentItem(
                    uri=uri, language_id=language, version=1, text=text
                )
            )
        )
        return uri

    def mark(self, uri: str) -> None:
        """Remember the diagnostics pushed so far: the next `diagnostics()` waits for new ones."""
        self._seen[uri] = self.client.diagnostics.get(uri)

    def change(self, uri: str, text: str) -> None:
        self.mark(uri)
        self.versions[uri] += 1
        self.texts[uri] = text
        self.client.text_document_did_change(
            lsp.DidChangeTextDocumentParams(
                text_document=lsp.VersionedTextDocumentIdentifier(
                    uri=uri, version=self.versions[uri]
                ),
                content_changes=[lsp.TextDocumentContentChangeWholeDocument(text=text)],
            )
        )

    async def diagnostics(self, uri: str) -> list[lsp.Diagnostic]:
        """Pull where the client pulls; else wait for a pushed set newer than `mark()` for
        the document's current version (a server may still publish for the version before an
        edit it has not received yet)."""
        if self.pulls:
            report = await self.client.text_document_diagnostic_async(
                lsp.DocumentDiagnosticParams(text_document=lsp.TextDocumentIdentifier(uri=uri))
            )
            assert isinstance(report, lsp.RelatedFullDocumentDiagnosticReport)
            return list(report.items)
        seen = self._seen.get(uri)
        for _ in range(200):
            current = self.client.diagnostics.get(uri)
            version = getattr(self.client, "published_versions", {}).get(uri)
            if version is not None and version != self.versions.get(uri):
                await asyncio.sleep(0.025)
                continue
            if current is not None and current is not seen:
                self._seen[uri] = current
                return list(current)
            await asyncio.sleep(0.025)
        raise AssertionError(f"no diagnostics pushed for {uri}")

    def character(self, uri: str, line: int, code_points: int) -> int:
        """Column in the negotiated encoding, computed independently of the server."""
        prefix = self.texts[uri].splitlines()[line][:code_points]
        if "8" in self.encoding:
            return len(prefix.encode("utf-8"))
        if "32" in self.encoding:
            return len(prefix)
        return len(prefix.encode("utf-16-le")) // 2

    def offset(self, uri: str, position: lsp.Position) -> int:
        """Offset in the editor's text of a position in the negotiated encoding."""
        lines = self.texts[uri].split("\n")
        start = sum(len(line) + 1 for line in lines[: position.line])
        line = lines[position.line] if position.line < len(lines) else ""
        units = 0
        for index, ch in enumerate(line):
            if units >= position.character:
                return start + index
            if "8" in self.encoding:
                units += len(ch.encode("utf-8"))
            elif "32" in self.encoding:
                units += 1
            else:
                units += len(ch.encode("utf-16-le")) // 2
        return start + len(line)

    def position(self, uri: str, offset: int) -> lsp.Position:
        text = self.texts[uri][:offset]
        line = text.count("\n")
        column = len(text) - (text.rfind("\n") + 1)
        return lsp.Position(line=line, character=self.character(uri, line, column))

    def find(self, uri: str, needle: str, delta: int = 0) -> lsp.Position:
        """Position of the first occurrence of `needle` (plus `delta` characters)."""
        return self.position(uri, self.texts[uri].index(needle) + delta)

    def apply(self, edit: lsp.WorkspaceEdit) -> None:
        """Apply a workspace edit the way an editor does, then send the change."""
        changes: dict[str, list[lsp.TextEdit]] = {}
        for document_change in edit.document_changes or []:
            assert isinstance(document_change, lsp.TextDocumentEdit)
            uri = document_change.text_document.uri
            assert document_change.text_document.version in (None, self.versions[uri])
            changes.setdefault(uri, []).extend(
                e for e in document_change.edits if isinstance(e, lsp.TextEdit)
            )
        for uri, edits in (edit.changes or {}).items():
            changes.setdefault(uri, []).extend(edits)
        for uri, edits in changes.items():
            text = self.texts[uri]
            spans = sorted(
                (
                    (self.offset(uri, e.range.start), self.offset(uri, e.range.end), e.new_text)
                    for e in edits
                ),
                reverse=True,
            )
            for start, end, new_text in spans:
                text = text[:start] + new_text + text[end:]
            self.change(uri, text)

    async def actions(self, uri: str, diagnostic: lsp.Diagnostic) -> list[lsp.CodeAction]:
        result = await self.client.text_document_code_action_async(
            lsp.CodeActionParams(
                text_document=lsp.TextDocumentIdentifier(uri=uri),
                range=diagnostic.range,
                context=lsp.CodeActionContext(diagnostics=[diagnostic]),
            )
        )
        actions = []
        for item in result or []:
            if isinstance(item, lsp.Command):
                # lsprotocol's client-side union reads a command-only CodeAction as a Command
                # whose `command` is the nested command object
                nested: Any = item.command
                if isinstance(nested, str) and nested.startswith("{"):
                    nested = ast.literal_eval(nested)
                command = (
                    lsp.Command(
                        title=nested["title"],
                        command=nested["command"],
                        arguments=nested.get("arguments"),
                    )
                    if isinstance(nested, dict)
                    else item
                )
                item = lsp.CodeAction(title=item.title, command=command)
            actions.append(item)
        return actions
