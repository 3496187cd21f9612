"""Editor actions on one server, timed the same way for push and pull servers.

A push session waits for the `publishDiagnostics` of the version it sent; a pull session asks
`textDocument/diagnostic` right after the change, as VS Code does for servers that offer it.
Every latency runs from the moment the client handed the message to the pipe to the moment the
answer's body was read."""

from __future__ import annotations

import asyncio
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from benchmarks.lsp_client import LspClient

PULL_GAP = 0.15
"""Seconds a pull session waits after each answer: the server's debounced lint of the change
(which a pull client does not need) must not run into the next measurement."""

_WORD = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


@dataclass(frozen=True, slots=True)
class EditPoint:
    """Where the one-line edits go: a word typed letter by letter from `column` of `line`."""

    line: int
    column: int


def edit_point(text: str, near: int | None = None) -> EditPoint:
    """A place in the middle of the file where typing a letter keeps the file valid: just after
    the opening quote of a string literal, else at the end of the last identifier of a line."""
    lines = text.split("\n")
    middle = len(lines) // 2 if near is None else near
    order = sorted(range(len(lines)), key=lambda i: (abs(i - middle), i))
    for index in order:
        line = lines[index]
        stripped = line.lstrip()
        if not stripped or stripped.startswith(("#", "--", "//", "*", "/*", '"""')):
            continue
        for quote in ("'", '"'):
            at = line.find(quote)
            if at >= 0 and line.find(quote, at + 1) > at + 1:
                return EditPoint(index, at + 1)
    for index in order:
        words = list(_WORD.finditer(lines[index]))
        if words:
            return EditPoint(index, words[-1].end())
    return EditPoint(0, 0)


def diagnostics_of(message: dict[str, Any]) -> list[dict[str, Any]]:
    """The diagnostics of a publish notification or a pull response."""
    if "params" in message:
        return list(message["params"].get("diagnostics") or [])
    result = message.get("result") or {}
    return list(result.get("items") or [])


class Driver:
    """Open, edit and ask for code actions on one server, in its diagnostics mode."""

    def __init__(self, client: LspClient, timeout: float) -> None:
        self.client = client
        self.timeout = timeout
        self.stuck = False
        """A request timed out: the server is busy or hung, measure nothing more on it."""
        self.last_at = 0.0
        """When the last diagnostics arrived (perf_counter)."""

    @property
    def pull(self) -> bool:
        """Diagnostics are pulled: the client asks for them and the server offers them."""
        return self.client.pull and self.client.server_pulls

    async def open(self, path: Path, text: str | None = None) -> tuple[str, float, list[Any]]:
        """didOpen → the first diagnostics; returns uri, latency, diagnostics."""
        since = self.client.publish_count()
        uri, sent = self.client.open(path, text)
        if self.pull:
            received = await self.client.pull_diagnostics(uri, self.timeout)
            await asyncio.sleep(PULL_GAP)
        else:
            received = await self.client.published(uri, since, 1, self.timeout)
        self.last_at = received.at
        return uri, received.at - sent, diagnostics_of(received.message)

    async def edit(self, uri: str, point: EditPoint, index: int) -> tuple[float, list[Any]]:
        """Type the `index`-th letter of a word at `point` (each edit one letter further on,
        as a user types, so no text repeats an earlier one: nothing a server remembers of an
        earlier version can stand in for the work); the diagnostics for it."""
        since = self.client.publish_count()
        letter = "abcdefghijklmnopqrstuvwxyz"[index % 26]
        sent = self.client.edit(uri, point.line, point.column + index, 0, letter)
        version = self.client.documents[uri].version
        if self.pull:
            received = await self.client.pull_diagnostics(uri, self.timeout)
            await asyncio.sleep(PULL_GAP)
        else:
            received = await self.client.published(uri, since, version, self.timeout)
        return received.at - sent, diagnostics_of(received.message)

    async def code_action(self, uri: str, line: int, diagnostics: list[Any]) -> tuple[float, int]:
        """The light bulb on `line`; returns latency and the number of actions offered."""
        on_line = [d for d in diagnostics if d["range"]["start"]["line"] <= line]
        on_line = [d for d in on_line if d["range"]["end"]["line"] >= line]
        received = await self.client.code_actions(uri, line, on_line, self.timeout)
        return received.at - received.sent, len(received.message.get("result") or [])


def action_lines(diagnostics: list[Any], count: int) -> list[int]:
    """`count` lines spread over the file that carry diagnostics (the light bulb is offered)."""
    lines = sorted({int(d["range"]["start"]["line"]) for d in diagnostics})
    if not lines:
        return [0]
    step = max(1, len(lines) // (count + 1))
    picked = lines[step::step][:count]
    return picked or lines[:1]
