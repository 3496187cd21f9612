"""Engine ↔ LSP conversions: spans and positions in the negotiated encoding, diagnostics, edits.

The engine speaks code-point offsets; clients speak (line, character) in UTF-16, UTF-8 or UTF-32
units. pygls's own helpers re-split the whole document on every call, so conversions here go
through one `LineIndex` per document version.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

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
        self.columns_are_units = (
            self.encoding == lsp.PositionEncodingKind.Utf32 or lines.text.isascii()
        )
        """Client columns are code points here: no conversion needed."""

    def _units(self, text: str) -> int:
        if self.encoding == lsp.PositionEncodingKind.Utf8:
            return len(text.encode("utf-8"))
        if self.encoding == lsp.PositionEncodingKind.Utf32:
            return len(text)
        if text.isascii():
            return len(text)
        return len(text) + sum(1 for ch in text if ord(ch) > 0xFFFF)

    def point(self, offset: int) -> tuple[int, int]:
        """(line, character in the client's units) of `offset`."""
        line, column = self.lines.position(offset)
        if column == 0 or self.columns_are_units:
            return line, column
        start = self.lines.line_start(line)
        return line, self._units(self.lines.text[start : start + column])

    def position(self, offset: int) -> lsp.Position:
        line, character = self.point(offset)
        return lsp.Position(line=line, character=character)

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
    )


class RawJson(dict[str, Any]):
    """A message part already in its JSON form: pygls sends it as it is (see
    `send_raw_json`), where lsprotocol objects would cost more to build and serialize than
    the analysis itself on a file with thousands of diagnostics."""


def send_raw_json(converter: Any) -> None:
    """Teach a pygls converter to pass `RawJson` through untouched."""
    converter.register_unstructure_hook(RawJson, lambda value: value)


class EncodedJson(bytes):
    """A value already encoded as JSON (UTF-8 bytes, ASCII only): `encoded_body` splices
    it into the message as it is. Encoding three thousand diagnostics again on every
    keystroke took longer than analysing the edit; each diagnostic is encoded once, when it
    first appears, as the bytes it is sent as."""


@dataclass(frozen=True, slots=True)
class Spliced:
    """A JSON value written as its `parts` (encoded JSON) one after another: a report
    wrapping a megabyte of encoded diagnostics is not copied into a larger value (each copy
    of that size costs about a millisecond); `encoded_body` splices the parts into the
    message."""

    parts: tuple[bytes, ...]


def encode_json(value: Any) -> EncodedJson:
    return EncodedJson(json.dumps(value, separators=(",", ":")).encode("ascii"))


def encoded_list(items: Sequence[bytes]) -> EncodedJson:
    """A JSON array of items encoded each on its own (joined once: the brackets go on the
    first and last item)."""
    if not items:
        return EncodedJson(b"[]")
    parts = list(items)
    parts[0] = b"[" + parts[0]
    parts[-1] = parts[-1] + b"]"
    return EncodedJson(b",".join(parts))


def encoded_body(message: Any) -> list[bytes] | None:
    """The JSON of an outgoing message whose payload is already encoded (a response's
    `result` that is `EncodedJson` or `Spliced`, a notification's `RawJson` params holding
    `EncodedJson` values), in parts to be written one after another; None for any other
    message, which pygls encodes itself."""
    result = getattr(message, "result", None)
    if isinstance(result, EncodedJson | Spliced) and getattr(message, "error", None) is None:
        parts = result.parts if isinstance(result, Spliced) else (result,)
        head = f'{{"id":{json.dumps(message.id)},"jsonrpc":"2.0","result":'
        return [head.encode("utf-8"), *parts, b"}"]
    if isinstance(message, RawJson) and isinstance(message.get("params"), RawJson):
        params = message["params"]
        if any(isinstance(v, EncodedJson) for v in params.values()):
            method = json.dumps(message["method"])
            out = [f'{{"jsonrpc":"2.0","method":{method},"params":{{'.encode()]
            for index, (key, value) in enumerate(params.items()):
                out.append(f"{',' if index else ''}{json.dumps(key)}:".encode())
                out.append(value if isinstance(value, EncodedJson) else json.dumps(value).encode())
            out.append(b"}}")
            return out
    return None


def position_json(positions: Positions, offset: int) -> dict[str, int]:
    line, character = positions.point(offset)
    return {"line": line, "character": character}


def diagnostic_json(finding: Finding, positions: Positions) -> dict[str, Any]:
    """`diagnostic(finding)` as lsprotocol would serialize it, built directly (the finding
    located by the engine, as every analysed finding is)."""
    span = finding.span
    if positions.columns_are_units:  # the engine has located it: (line, code-point column)
        (start_line, start_column), (end_line, end_column) = finding.start, finding.end
        start = {"line": start_line, "character": start_column}
        end = {"line": end_line, "character": end_column}
    else:
        start, end = position_json(positions, span.start), position_json(positions, span.end)
    found: dict[str, Any] = {
        "range": {"start": start, "end": end},
        "message": finding.message,
        "severity": _SEVERITY_VALUES[finding.severity],
        "code": finding.rule,
        "codeDescription": {"href": finding.url},
        "source": SOURCE,
    }
    if finding.rule == UNUSED_IGNORE:
        found["tags"] = [lsp.DiagnosticTag.Unnecessary.value]
    return found


_SEVERITY_VALUES = {severity: int(value) for severity, value in _SEVERITIES.items()}


def text_edits(edits: list[Edit], positions: Positions) -> list[lsp.TextEdit]:
    return [lsp.TextEdit(range=positions.range(e.span), new_text=e.new_text) for e in edits]


def markup(formats: Sequence[lsp.MarkupKind] | None, text: str) -> lsp.MarkupContent:
    """Markdown where the client says it renders it (per feature), else plain text."""
    if formats and lsp.MarkupKind.Markdown in formats:
        return lsp.MarkupContent(kind=lsp.MarkupKind.Markdown, value=text)
    return lsp.MarkupContent(kind=lsp.MarkupKind.PlainText, value=text)
