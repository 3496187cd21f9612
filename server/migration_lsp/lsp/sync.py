"""Incremental text sync that splits lines the way LSP clients do, and survives client bugs.

pygls applies `didChange` ranges to lines from `str.splitlines`, which also breaks lines at
U+2028, U+2029, U+0085, form feeds and other separators. Editors count only `\\r\\n`, `\\n` and
`\\r`, so one of those characters in a document (a form feed in Python, U+2028 in a JavaScript
string) made every later edit land in the wrong place and the server check a text the user
never wrote. A change to a document that was never opened raised a KeyError in pygls, shown
to the user as an error; it is ignored instead.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Sequence
from typing import Any
from urllib.parse import unquote

from lsprotocol.types import TextDocumentContentChangeEvent, VersionedTextDocumentIdentifier
from pygls.workspace import TextDocument, Workspace

log = logging.getLogger(__name__)

_LINE = re.compile(r"[^\r\n]*(?:\r\n?|\n)|[^\r\n]+\Z")
_NOT_LSP_BREAKS = ("\x0b", "\x0c", "\x1c", "\x1d", "\x1e", "\x85", "\u2028", "\u2029")
"""Where `str.splitlines` breaks a line and an LSP client does not."""


class LspLinesDocument(TextDocument):
    """A pygls document whose lines end only at LSP line breaks."""

    @property
    def lines(self) -> Sequence[str]:
        source = self.source
        if not any(separator in source for separator in _NOT_LSP_BREAKS):
            return tuple(source.splitlines(True))  # the same lines, faster
        return tuple(_LINE.findall(source))

    def _apply_incremental_change(self, change: Any) -> None:
        """pygls's incremental change, cut and joined at two offsets: pygls rewrites the
        document line by line, a millisecond per keystroke in a 2,000-line file."""
        lines = self.lines
        where = self._position_codec.range_from_client_units(lines, change.range)
        start_line, end_line = where.start.line, where.end.line
        if start_line == len(lines) or end_line < start_line:
            super()._apply_incremental_change(change)  # an empty document, a range backwards
            return
        # pygls keeps both positions within the document (past its end: the last line's
        # length in client units, which slicing takes as the end)
        first = sum(map(len, lines[:start_line]))
        start = first + where.start.character
        end = first + sum(map(len, lines[start_line:end_line])) + where.end.character
        source = self.source
        self._source = source[:start] + change.text + source[end:]


def use_lsp_lines(workspace: Workspace) -> None:
    """Make `workspace` create `LspLinesDocument`s for the documents opened from now on."""

    def create(
        doc_uri: str,
        source: str | None = None,
        version: int | None = None,
        language_id: str | None = None,
    ) -> TextDocument:
        return LspLinesDocument(
            doc_uri,
            source=source,
            version=version,
            language_id=language_id,
            sync_kind=workspace._sync_kind,
            position_codec=workspace.position_codec,
        )

    update = workspace.update_text_document

    def update_open_only(
        text_doc: VersionedTextDocumentIdentifier, change: TextDocumentContentChangeEvent
    ) -> None:
        if unquote(text_doc.uri) in workspace.text_documents:
            update(text_doc, change)
        else:
            log.warning("change to %s ignored: the document is not open", text_doc.uri)

    patched: Any = workspace
    patched._create_text_document = create
    patched.update_text_document = update_open_only
