"""Snippets: the safe form of each migration operation, offered as LSP completion items.

Public API:

- `snippets_for(tool, dialect, context)`: the snippets to offer.
- `completion_context(text, offset, tool, language)`: `"file"`, `"step"`, `"statement"` or
  None, decided on half-typed code by scanning lines (never by parsing the file).
- `render(snippet, indent, *, values=None)`: the text to insert.
- `word_range(text, offset)`: the range of the prefix being typed, which the edit replaces.

The contract with the language server: a completion item per snippet with
`label = snippet.prefix` (also the filter text), `labelDetails.description = snippet.label`,
`detail = snippet.detail`, `documentation = snippet.documentation` (markdown),
`insertTextFormat = Snippet`, `insertTextMode = asIs`, and the text of
`render(snippet, indent)`, where `indent` is the leading whitespace of the cursor's line.
Bodies are written for column 0: their first line carries no indentation and later lines are
indented relative to it; `render` adds `indent` to every later non-blank line, so the client
must not adjust indentation again (hence `asIs`). The item's `textEdit` should replace
`word_range(text, offset)` (the `mig-...` prefix typed so far: editors' word patterns stop at
`-`). `snippet.imports` lists import lines a Python body needs; the server adds the missing
ones as `additionalTextEdits`.
"""

from __future__ import annotations

from migration_lsp.snippets.catalog import SNIPPETS, snippets_for
from migration_lsp.snippets.context import completion_context, word_range
from migration_lsp.snippets.model import CONTEXTS, TOOLS, Snippet, SnippetContext
from migration_lsp.snippets.syntax import SnippetSyntaxError, expand, render

__all__ = [
    "CONTEXTS",
    "SNIPPETS",
    "TOOLS",
    "Snippet",
    "SnippetContext",
    "SnippetSyntaxError",
    "completion_context",
    "expand",
    "render",
    "snippets_for",
    "word_range",
]
