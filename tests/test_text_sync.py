"""Incremental `didChange` edits land where the editor put them: the server's document text
after each change equals what pygls's line-by-line application gives (for text without the
separators only `str.splitlines` breaks at), for edits within a line, across lines, past
line ends and past the end of the document, in UTF-16 and UTF-8 columns."""

from __future__ import annotations

import random

import pytest
from lsprotocol import types as lsp
from pygls.workspace import PositionCodec, TextDocument

from migration_lsp.lsp.sync import LspLinesDocument

TEXTS = (
    "ALTER TABLE users ADD COLUMN email text;\nCREATE INDEX i ON users (email);\n",
    "-- café ☕ naïve\r\nUPDATE t SET a = '𝄞 clef';\r\nSELECT 1;",
    "def upgrade():\n    op.add_column('t', sa.Column('é', sa.Text()))\n\n\n",
    "",
    "one line without a break",
    "SELECT 1;\n-- 𝄞𝄞 the last line, without a break",
)
INSERTS = ("", "x", "é", "𝄞", "\n", "\r\n", "two\nlines", ";\n-- note\n")


def random_range(rng: random.Random, text: str) -> lsp.Range:
    lines = text.splitlines(keepends=True) or [""]

    def position() -> lsp.Position:
        line = rng.randrange(len(lines) + 2)  # sometimes past the last line
        width = len(lines[line]) if line < len(lines) else 0
        return lsp.Position(line=line, character=rng.randrange(width + 3))

    first, second = position(), position()
    if (second.line, second.character) < (first.line, first.character):
        first, second = second, first
    return lsp.Range(start=first, end=second)


@pytest.mark.parametrize(
    "encoding", [lsp.PositionEncodingKind.Utf16, lsp.PositionEncodingKind.Utf8]
)
@pytest.mark.parametrize("seed", range(4))
def test_incremental_changes_give_the_text_pygls_gives(
    encoding: lsp.PositionEncodingKind, seed: int
) -> None:
    rng = random.Random(seed)
    codec = PositionCodec(encoding=encoding)
    for text in TEXTS:
        ours = LspLinesDocument("file:///m.sql", source=text, position_codec=codec)
        theirs = TextDocument("file:///m.sql", source=text, position_codec=codec)
        for _ in range(60):
            change = lsp.TextDocumentContentChangePartial(
                range=random_range(rng, ours.source), text=rng.choice(INSERTS)
            )
            ours.apply_change(change)
            theirs.apply_change(change)
            assert ours.source == theirs.source
