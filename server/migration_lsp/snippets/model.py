"""What a snippet is: the safe form of one migration operation, for one family of tools."""

from __future__ import annotations

import textwrap
from dataclasses import dataclass
from typing import Literal

SnippetContext = Literal["file", "step", "statement"]
"""Where a snippet makes sense.

- `file`: a new, empty (or comments-only) file: the snippet is a whole migration skeleton.
- `step`: a statement inside Alembic's `upgrade()`/`downgrade()` body, or an element of Django's
  `operations = [...]` list.
- `statement`: the start of an SQL statement (only whitespace and comments since the previous
  `;` or section marker).
"""

CONTEXTS: tuple[SnippetContext, ...] = ("file", "step", "statement")

SQL_TOOLS: tuple[str, ...] = ("flyway", "prisma", "golang-migrate", "dbmate", "goose", "sql")
PYTHON_TOOLS: tuple[str, ...] = ("alembic", "django")
OTHER_TOOLS: tuple[str, ...] = ("rails", "laravel", "knex", "typeorm", "sequelize", "liquibase")
TOOLS: tuple[str, ...] = PYTHON_TOOLS + SQL_TOOLS + OTHER_TOOLS

PG = frozenset({"postgresql"})
MYSQL = frozenset({"mysql"})
SQLITE = frozenset({"sqlite"})


@dataclass(frozen=True, slots=True, kw_only=True)
class Snippet:
    """One completion snippet.

    `body` uses LSP snippet syntax (`insertTextFormat: Snippet`): tab stops `$1`, placeholders
    `${1:default}`, choices `${1|a,b|}`, the final cursor `$0`; a placeholder index used again
    as `$1` mirrors the first one. Literal `$`, `}` and `\\` are escaped with a backslash (SQL
    dollar quotes are written `\\$\\$`).

    Indentation contract: the first line of `body` has no indentation (it is inserted at the
    cursor); every following line is indented *relative to the insertion line*, with 4 spaces
    per level in Python. `render(snippet, indent)` prefixes the continuation lines with the
    indentation of the line the cursor is on; the server sends that text with
    `insertTextMode: asIs` so the client does not re-indent it a second time.
    """

    prefix: str
    """What the user types (`mig-index-concurrently`): the completion item's label and filter."""
    label: str
    """Human title (`Create index concurrently`), shown next to the prefix."""
    tools: frozenset[str]
    """Tool ids it is offered for (`alembic`, `django`, `flyway`, `prisma`, `golang-migrate`,
    `dbmate`, `goose`, `sql`)."""
    context: SnippetContext
    body: str
    detail: str
    """One line, shown in the completion list."""
    documentation: str
    """Markdown: what the snippet does and why it is the safe form (naming the rules it avoids)."""
    dialects: frozenset[str] | None = None
    """Dialects it is correct for; None for all."""
    avoids: tuple[str, ...] = ()
    """Ids of the rules whose finding this form avoids."""
    imports: tuple[str, ...] = ()
    """Module-level import lines the body needs (Python); the server may add the missing ones as
    `additionalTextEdits`."""
    languages: frozenset[str] | None = None
    """File languages it is written for, when a tool has several (Liquibase XML, YAML and
    formatted SQL; Knex JavaScript and TypeScript); None for all."""

    def applies_to(self, tool: str, dialect: str) -> bool:
        return tool in self.tools and (self.dialects is None or dialect in self.dialects)

    def written_for(self, language: str | None) -> bool:
        """Whether it suits a file in `language` (None: any)."""
        return language is None or self.languages is None or language in self.languages


def body(text: str) -> str:
    """A snippet body written as an indented triple-quoted string in the source: dedented, with
    the surrounding blank lines removed."""
    return textwrap.dedent(text).strip("\n")


def doc(text: str) -> str:
    """Documentation markdown written as an indented triple-quoted string."""
    return textwrap.dedent(text).strip()
