"""What the pycode fixes share: SQLAlchemy's name in a module (and the import when it has none),
Python string literals token by token, and the SQL of one statement with the file offset of each
of its characters, so SQL is edited in place in `.sql` files and inside string literals alike.
"""

from __future__ import annotations

import ast
import bisect
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from sqlglot.dialects.dialect import Dialect
from sqlglot.errors import TokenError
from sqlglot.tokenizer_core import Token, TokenType

from migration_lsp.findings import Edit
from migration_lsp.model import Migration
from migration_lsp.parse.pystrings import literal_positions
from migration_lsp.parse.sql import SQLGLOT_DIALECTS
from migration_lsp.text import Span

from .python import PyFile, comma_after, is_docstring
from .sql import inside_plain_literal
from .text import indentation, insert, line_end, line_start, only_space_before

# --------------------------------------------------------------------------- SQLAlchemy


def sqlalchemy_alias(pyfile: PyFile) -> str | None:
    """The name `import sqlalchemy [as sa]` binds at the top of the module, if any."""
    tree = pyfile.tree
    if tree is None:
        return None
    for node in tree.body:
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name == "sqlalchemy":
                    return alias.asname or "sqlalchemy"
    return None


def add_import_line(pyfile: PyFile, line: str) -> list[Edit]:
    """Edits adding the import statement `line`: after `from alembic import op` (where the
    Alembic template has `import sqlalchemy as sa`), else after the last top-level import, else
    before the first statement after the docstring."""
    tree = pyfile.tree
    if tree is None:
        return []
    text, nl = pyfile.text, pyfile.newline
    imports = [n for n in tree.body if isinstance(n, ast.Import | ast.ImportFrom)]
    after = next(
        (
            n
            for n in imports
            if isinstance(n, ast.ImportFrom) and n.module == "alembic" and n.level == 0
        ),
        imports[-1] if imports else None,
    )
    if after is not None:
        return [insert(line_end(text, pyfile.span(after).end), nl + line)]
    body = [n for n in tree.body if not is_docstring(n)]
    at = line_start(text, pyfile.span(body[0]).start) if body else len(text)
    return [insert(at, line + nl + nl)]


def sqlalchemy_name(pyfile: PyFile) -> tuple[str, list[Edit]]:
    """How the module names SQLAlchemy (`sa`), and the edit importing it as `sa` when it does
    not import it at all (added once: every fix asks here)."""
    alias = sqlalchemy_alias(pyfile)
    if alias is not None:
        return alias, []
    return "sa", add_import_line(pyfile, "import sqlalchemy as sa")


def text_function(pyfile: PyFile) -> tuple[str, list[Edit]]:
    """How to call SQLAlchemy's `text()` in the module: `sa.text`, or a `text` imported from
    SQLAlchemy; else `sa.text` with the import."""
    alias = sqlalchemy_alias(pyfile)
    if alias is not None:
        return f"{alias}.text", []
    tree = pyfile.tree
    for node in tree.body if tree is not None else []:
        if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("sqlalchemy"):
            for name in node.names:
                if name.name == "text":
                    return name.asname or "text", []
    return "sa.text", add_import_line(pyfile, "import sqlalchemy as sa")


def is_text_call(node: ast.expr) -> bool:
    """`sa.text(...)`, `sqlalchemy.text(...)`, `text(...)`."""
    if not isinstance(node, ast.Call):
        return False
    func = node.func
    if isinstance(func, ast.Name):
        return func.id == "text"
    return isinstance(func, ast.Attribute) and func.attr == "text"


# --------------------------------------------------------------------------- literals


@dataclass(frozen=True, slots=True)
class StrToken:
    """One string token of a literal (implicit concatenation has several)."""

    start: int
    """Offset of its prefix (or opening quote)."""
    prefix: str
    quote: str
    """`'`, `"`, `'''` or `\"\"\"`."""
    body: Span
    """The characters between the quotes."""

    @property
    def raw(self) -> bool:
        return "r" in self.prefix.lower()

    @property
    def fstring(self) -> bool:
        return "f" in self.prefix.lower()


def literal_tokens(source: str, span: Span) -> list[StrToken] | None:
    """The string tokens of the literal expression at `span` (None when it is not only string
    tokens, parentheses and comments)."""
    tokens: list[StrToken] = []
    i, end = span.start, span.end
    while i < end:
        ch = source[i]
        if ch in " \t\r\n\f()":
            i += 1
            continue
        if ch == "\\" and i + 1 < end and source[i + 1] in "\r\n":
            i += 2
            continue
        if ch == "#":
            newline = source.find("\n", i, end)
            i = end if newline == -1 else newline + 1
            continue
        j = i
        while j < end and source[j].isalpha():
            j += 1
        prefix = source[i:j]
        if j >= end or source[j] not in "'\"" or any(p not in "rufRUF" for p in prefix):
            return None
        quote = source[j : j + 3] if source[j : j + 3] in ('"""', "'''") else source[j]
        k = j + len(quote)
        while k < end and not source.startswith(quote, k):
            k += 2 if source[k] == "\\" else 1
        if k >= end:
            return None
        tokens.append(StrToken(i, prefix, quote, Span(j + len(quote), k)))
        i = k + len(quote)
    return tokens or None


def escape_for(token: StrToken, value: str) -> str | None:
    """`value` written so that inside `token` it reads as `value` (None when a raw string
    cannot hold it)."""
    single_line = len(token.quote) == 1
    if token.raw:
        if "\\" in value or token.quote[0] in value or (single_line and "\n" in value):
            return None
        return value
    escaped = value.replace("\\", "\\\\").replace(token.quote[0], "\\" + token.quote[0])
    if single_line:
        escaped = escaped.replace("\n", "\\n").replace("\r", "\\r")
    if token.fstring:
        escaped = escaped.replace("{", "{{").replace("}", "}}")
    return escaped


def py_str(value: str, quote: str = '"') -> str:
    """A one-line Python string literal of `value`, in `quote` unless the other quote avoids
    escapes."""
    other = "'" if quote == '"' else '"'
    if quote in value and other not in value:
        quote = other
    escaped = value.replace("\\", "\\\\").replace(quote, "\\" + quote)
    return quote + escaped.replace("\n", "\\n").replace("\r", "\\r") + quote


def file_quote(pyfile: PyFile) -> str:
    """The quote character of the module's one-line strings (`'` in files Alembic and Django
    generate), `"` when it has none."""
    for node in pyfile.nodes():
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            written = pyfile.segment(node).lstrip("rRbBuUfF")
            if written[:3] in ('"""', "'''"):
                continue
            if written[:1] in ("'", '"'):
                return written[0]
    return '"'


def quote_of(pyfile: PyFile, node: ast.expr) -> str:
    """The quote character `node` (a string literal) is written with, else the module's."""
    tokens = literal_tokens(pyfile.text, pyfile.span(node))
    if tokens:
        return tokens[0].quote[0]
    return file_quote(pyfile)


# --------------------------------------------------------------------------- SQL in place


@dataclass(slots=True)
class SqlText:
    """The SQL of one statement as the database receives it, and where each character is in
    the file (`positions[i]` is the offset of `text[i]`, `positions[len(text)]` the offset just
    after the statement). Edits made here go straight into the `.sql` file or the Python
    string literal that holds the statement."""

    source: str
    text: str
    positions: Sequence[int]
    literal: Span | None = None
    tokens: list[StrToken] = field(default_factory=list)

    def offset(self, index: int) -> int:
        return self.positions[index]

    def index_of(self, offset: int) -> int | None:
        """The index in `text` of the character at file `offset`."""
        i = bisect.bisect_left(self.positions, offset)
        return i if i < len(self.positions) and self.positions[i] == offset else None

    def _token_at(self, offset: int) -> StrToken | None:
        return next((t for t in self.tokens if t.body.start <= offset <= t.body.end), None)

    def insert(self, index: int, value: str) -> Edit | None:
        """Insert `value` before `text[index]` (None when that is not a plain position of the
        literal, or the literal cannot hold `value`)."""
        offset = self.positions[index]
        if self.literal is None:
            return insert(offset, value)
        if not inside_plain_literal(self.source, self.literal, offset):
            return None
        token = self._token_at(offset)
        if token is None:
            return None
        escaped = escape_for(token, value)
        return None if escaped is None else insert(offset, escaped)

    def plain(self, start: int, end: int) -> bool:
        """`text[start:end]` is written as is in the file (no escapes, no line breaks between
        string tokens)."""
        for k in range(start, end):
            if self.source[self.positions[k]] != self.text[k]:
                return False
            if self.positions[k + 1] != self.positions[k] + 1:
                return False
        return True

    def remove(self, start: int, end: int) -> Edit | None:
        """Remove `text[start:end]` (None unless it is written plainly)."""
        if not self.plain(start, end):
            return None
        return Edit(Span(self.positions[start], self.positions[end]), "")


def statement_sql(migration: Migration, span: Span, pyfile: PyFile | None = None) -> SqlText | None:
    """The statement at `span` (a SQL operation's span) as `SqlText`: from a `.sql` file, or from
    the plain string literal holding it in Python (None for f-strings and text built at run
    time)."""
    text = migration.text
    if migration.language != "python":
        if not 0 <= span.start <= span.end <= len(text):
            return None
        return SqlText(text, text[span.start : span.end], range(span.start, span.end + 1))
    pyfile = pyfile or PyFile(text)
    node = pyfile.string_containing(span)
    if node is None:
        return None
    literal = pyfile.span(node)
    decoded = literal_positions(text, literal.start, literal.end)
    tokens = literal_tokens(text, literal)
    if decoded is None or tokens is None or decoded[0] != node.value:
        return None
    value, positions = decoded
    start = bisect.bisect_left(positions, span.start)
    end = bisect.bisect_left(positions, span.end, lo=start)
    if start >= len(positions) or positions[start] != span.start:
        return None
    if end >= len(positions) or positions[end] != span.end:
        return None
    return SqlText(text, value[start:end], positions[start : end + 1], literal, tokens)


def sql_tokens(sql: str, dialect: str | None) -> list[Token] | None:
    """sqlglot tokens of `sql` (offsets into it, `end` inclusive), None when it does not
    tokenize."""
    name = SQLGLOT_DIALECTS.get(dialect or "postgresql", "postgres")
    try:
        return list(Dialect.get_or_raise(name).tokenize(sql))
    except TokenError:
        return None


def top_level(tokens: list[Token]) -> list[tuple[int, Token]]:
    """(index, token) of the tokens outside parentheses."""
    depth = 0
    found: list[tuple[int, Token]] = []
    for i, token in enumerate(tokens):
        if token.token_type is TokenType.L_PAREN:
            depth += 1
        elif token.token_type is TokenType.R_PAREN:
            depth -= 1
        elif depth == 0:
            found.append((i, token))
    return found


def word(token: Token) -> str:
    return token.text.upper() if token.token_type is not TokenType.STRING else ""


_SIMPLE_IDENTIFIER = re.compile(r"^[a-z_][a-z0-9_$]*$")
_RESERVED = frozenset(
    {
        "all",
        "analyse",
        "analyze",
        "and",
        "any",
        "array",
        "as",
        "asc",
        "asymmetric",
        "authorization",
        "binary",
        "both",
        "case",
        "cast",
        "check",
        "collate",
        "collation",
        "column",
        "concurrently",
        "constraint",
        "create",
        "cross",
        "current_catalog",
        "current_date",
        "current_role",
        "current_schema",
        "current_time",
        "current_timestamp",
        "current_user",
        "default",
        "deferrable",
        "desc",
        "distinct",
        "do",
        "else",
        "end",
        "except",
        "false",
        "fetch",
        "for",
        "foreign",
        "freeze",
        "from",
        "full",
        "grant",
        "group",
        "having",
        "ilike",
        "in",
        "initially",
        "inner",
        "intersect",
        "into",
        "is",
        "isnull",
        "join",
        "lateral",
        "leading",
        "left",
        "like",
        "limit",
        "localtime",
        "localtimestamp",
        "natural",
        "not",
        "notnull",
        "null",
        "offset",
        "on",
        "only",
        "or",
        "order",
        "outer",
        "overlaps",
        "placing",
        "primary",
        "references",
        "returning",
        "right",
        "select",
        "session_user",
        "similar",
        "some",
        "symmetric",
        "system_user",
        "table",
        "tablesample",
        "then",
        "to",
        "trailing",
        "true",
        "union",
        "unique",
        "user",
        "using",
        "variadic",
        "verbose",
        "when",
        "where",
        "window",
        "with",
        "key",
        "index",
    }
)
"""PostgreSQL's reserved key words (plus a few MySQL ones): names that must be quoted."""


def quote_identifier(name: str, dialect: str | None = None) -> str:
    """`name` as an SQL identifier: as is when it is a plain lower-case name that is not a
    reserved word, else quoted (double quotes; backticks on MySQL). A dotted `schema.table` is
    quoted part by part."""
    mark = "`" if dialect == "mysql" else '"'
    parts = []
    for part in name.split("."):
        if _SIMPLE_IDENTIFIER.match(part) and part not in _RESERVED:
            parts.append(part)
        else:
            parts.append(mark + part.replace(mark, mark * 2) + mark)
    return ".".join(parts)


# --------------------------------------------------------------------------- arguments


Render = Callable[[str | None], str]
"""Writes an argument given the indentation of its own line (None: it goes inline)."""


def insert_argument_after(
    pyfile: PyFile, call: ast.Call, node: ast.AST, new: str | Render
) -> list[Edit]:
    """Edits inserting the argument `new` right after the argument `node` of `call`, in the
    layout of the call's arguments (one per line or inline; a trailing comma is kept)."""
    text, nl = pyfile.text, pyfile.newline
    render: Render = new if callable(new) else (lambda _indent: new)
    span = pyfile.span(node)
    call_span = pyfile.span(call)
    comma = comma_after(text, span.end, call_span.end - 1)
    following = sorted(
        (a for a in [*call.args, *call.keywords] if pyfile.span(a).start >= span.end),
        key=lambda a: pyfile.span(a).start,
    )
    if following:
        if comma is None:
            return []
        start = pyfile.span(following[0]).start
        if only_space_before(text, start) and "\n" in text[comma:start]:
            indent = indentation(text, start)
            return [insert(line_end(text, comma), f"{nl}{indent}{render(indent)},")]
        return [insert(comma + 1, f" {render(None)},")]
    own_line = only_space_before(text, span.start) and "\n" in text[call_span.start : span.start]
    if own_line:
        indent = indentation(text, span.start)
        if comma is not None:
            return [insert(line_end(text, comma), f"{nl}{indent}{render(indent)},")]
        return [
            insert(span.end, ","),
            insert(line_end(text, span.end), f"{nl}{indent}{render(indent)}"),
        ]
    if comma is not None:
        return [insert(comma + 1, f" {render(None)}")]
    return [insert(span.end, f", {render(None)}")]


def module_constant(pyfile: PyFile, node: ast.expr | None) -> ast.expr | None:
    """A name bound once at module level to a value stands for that value (`SQL = "..."`)."""
    tree = pyfile.tree
    if not isinstance(node, ast.Name) or tree is None:
        return node
    values = [
        stmt.value
        for stmt in tree.body
        if isinstance(stmt, ast.Assign)
        and any(isinstance(t, ast.Name) and t.id == node.id for t in stmt.targets)
    ]
    return values[0] if len(values) == 1 else node


MAX_LINE = 99


def too_long(pyfile: PyFile, edits: list[Edit], offset: int) -> bool:
    """The line holding `offset` is longer than `MAX_LINE` once `edits` are applied."""
    text = pyfile.text
    start, end = line_start(text, offset), line_end(text, offset)
    length = end - start
    for edit in edits:
        if start <= edit.span.start and edit.span.end <= end:
            added = edit.new_text.split("\n", 1)[0] if "\n" in edit.new_text else edit.new_text
            length += len(added) - (edit.span.end - edit.span.start)
    return length > MAX_LINE


def own_lines(
    pyfile: PyFile, call: ast.Call, last: ast.AST, extra: str | None = None
) -> list[Edit]:
    """For a call written on one line: edits putting its arguments on a line of their own
    (`extra`, a further argument, on the next), black style. [] when the call spans lines."""
    text, nl = pyfile.text, pyfile.newline
    span = pyfile.span(call)
    if "\n" in text[span.start : span.end]:
        return []
    indent = indentation(text, span.start)
    unit = pyfile.indent_unit(call)
    opening = text.find("(", pyfile.span(call.func).end)
    tail = f",{nl}{indent}{unit}{extra}" if extra is not None else ""
    return [
        insert(opening + 1, nl + indent + unit),
        insert(pyfile.span(last).end, f"{tail},{nl}{indent}"),
    ]
