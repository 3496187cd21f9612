"""Engine ↔ LSP conversions: spans and positions in the negotiated encoding, diagnostics, edits.

The engine speaks code-point offsets; clients speak (line, character) in UTF-16, UTF-8 or UTF-32
units. pygls's own helpers re-split the whole document on every call, so conversions here go
through one `LineIndex` per document version.
"""

from __future__ import annotations

from collections.abc import Sequence

from lsprotocol import types as lsp

from migration_lsp.findings import Edit, Finding
from migration_lsp.model import Severity
from migration_lsp.rules.registry import UNUSED_IGNORE
from migration_lsp.text import LineIndex, Span

SOURCE = "migration-lsp"

_SEVERITIES = {
    Severity.ERROR: lsp.DiagnosticSeverity.Error,
    Severity.WARNING: lsp.DiagnosticSeverity.Warning,
    Severity.INFO: lsp.DiagnosticSeverity.Information,
    Severity.HINT: lsp.DiagnosticSeverity.Hint,
}


class Positions:
    """Offsets ↔ client positions for one text, in one position encoding."""

    def __init__(self, lines: LineIndex, encoding: str) -> None:
        self.lines = lines
        self.encoding = str(encoding)

    def _units(self, text: str) -> int:
        if self.encoding == lsp.PositionEncodingKind.Utf8:
            return len(text.encode("utf-8"))
        if self.encoding == lsp.PositionEncodingKind.Utf32:
            return len(text)
        if text.isascii():
            return len(text)
        return len(text) + sum(1 for ch in text if ord(ch) > 0xFFFF)

    def position(self, offset: int) -> lsp.Position:
        line, column = self.lines.position(offset)
        if column == 0:
            return lsp.Position(line=line, character=0)
        prefix = self.lines.text[self.lines.line_start(line) : self.lines.line_start(line) + column]
        return lsp.Position(line=line, character=self._units(prefix))

    def range(self, span: Span) -> lsp.Range:
        return lsp.Range(start=self.position(span.start), end=self.position(span.end))

    def offset(self, position: lsp.Position) -> int:
        """Offset of a client position (clamped to the line, and to the document)."""
        if position.line >= self.lines.line_count:
            return len(self.lines.text)
        text = self.lines.line_text(position.line)
        start = self.lines.line_start(position.line)
        if self.encoding == lsp.PositionEncodingKind.Utf32 or text.isascii():
            return start + min(position.character, len(text))
        units = 0
        for index, ch in enumerate(text):
            if units >= position.character:
                return start + index
            units += self._units(ch)
        return start + len(text)

    def span(self, range_: lsp.Range) -> Span:
        return Span(self.offset(range_.start), self.offset(range_.end))


def diagnostic(finding: Finding, positions: Positions) -> lsp.Diagnostic:
    return lsp.Diagnostic(
        range=positions.range(finding.span),
        message=finding.message,
        severity=_SEVERITIES[finding.severity],
        code=finding.rule,
        code_description=lsp.CodeDescription(href=finding.url),
        source=SOURCE,
        tags=[lsp.DiagnosticTag.Unnecessary] if finding.rule == UNUSED_IGNORE else None,
        data={"rule": finding.rule, "start": finding.span.start, "end": finding.span.end},
    )


def text_edits(edits: list[Edit], positions: Positions) -> list[lsp.TextEdit]:
    return [lsp.TextEdit(range=positions.range(e.span), new_text=e.new_text) for e in edits]


def markup(formats: Sequence[lsp.MarkupKind] | None, text: str) -> lsp.MarkupContent:
    """Markdown where the client says it renders it (per feature), else plain text."""
    if formats and lsp.MarkupKind.Markdown in formats:
        return lsp.MarkupContent(kind=lsp.MarkupKind.Markdown, value=text)
    return lsp.MarkupContent(kind=lsp.MarkupKind.PlainText, value=text)
