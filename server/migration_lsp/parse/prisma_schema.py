"""`schema.prisma` (Prisma Schema Language) → datasources and models, with positions.

Prisma generates each `migration.sql` from this file, so it is where users look for what a
table is: the datasource's `provider` gives the dialect, and each `model` (or its `@@map`) names
a table whose fields (or their `@map`) name columns. Hover and go-to-definition on a table in a
migration lead back to the model.

A small tokenizer and a line-oriented reader, as PSL is: blocks of `keyword Name { ... }`, one
field, attribute or `key = value` per line. Unknown constructs are skipped, never fatal.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from migration_lsp.text import Span

_TOKEN = re.compile(
    r"""(?P<comment>//[^\n]*)
      | (?P<string>"(?:[^"\\\n]|\\.)*"?)
      | (?P<name>@@?[A-Za-z_][\w.]*|[A-Za-z_][\w.]*)
      | (?P<number>-?\d+(?:\.\d+)?)
      | (?P<newline>\n)
      | (?P<punct>[{}()\[\]=,?:])
      | (?P<space>[ \t\r]+)
      | (?P<other>.)""",
    re.VERBOSE,
)

BLOCKS = frozenset({"datasource", "generator", "model", "enum", "view", "type"})


@dataclass(slots=True)
class Token:
    kind: str
    text: str
    start: int

    @property
    def span(self) -> Span:
        return Span(self.start, self.start + len(self.text))

    @property
    def value(self) -> str:
        """A string token's content (escapes kept as written: PSL strings are simple)."""
        if self.kind != "string":
            return self.text
        return self.text[1:-1] if self.closed else self.text[1:]

    @property
    def closed(self) -> bool:
        """A string token with its closing quote (an unfinished one runs to the line end)."""
        return self.kind == "string" and len(self.text) >= 2 and self.text.endswith('"')


@dataclass(slots=True)
class PrismaField:
    name: str
    type: str
    span: Span
    optional: bool = False
    is_list: bool = False
    column: str = ""
    """The database column: `@map("...")`, else the field name."""
    attributes: list[str] = field(default_factory=list)

    @property
    def is_relation(self) -> bool:
        return "@relation" in self.attributes


@dataclass(slots=True)
class PrismaModel:
    kind: str
    """`model`, `view`, `enum` or `type`."""
    name: str
    span: Span
    name_span: Span
    table: str = ""
    """The database table: `@@map("...")`, else the model name."""
    fields: list[PrismaField] = field(default_factory=list)


@dataclass(slots=True)
class Datasource:
    name: str
    provider: str | None
    span: Span


@dataclass(slots=True)
class PrismaSchema:
    datasources: list[Datasource] = field(default_factory=list)
    models: list[PrismaModel] = field(default_factory=list)

    @property
    def provider(self) -> str | None:
        for source in self.datasources:
            if source.provider:
                return source.provider
        return None

    def model_for_table(self, table: str) -> PrismaModel | None:
        """The model stored in `table` (compared case-insensitively, unquoted)."""
        wanted = table.strip('"`').rsplit(".", 1)[-1].lower()
        for found in self.models:
            if found.kind in ("model", "view") and found.table.lower() == wanted:
                return found
        return None


def tokens(text: str) -> list[Token]:
    out: list[Token] = []
    for match in _TOKEN.finditer(text):
        kind = match.lastgroup or "other"
        if kind in ("space", "comment"):
            continue
        out.append(Token(kind, match.group(0), match.start()))
    return out


def parse_schema(text: str) -> PrismaSchema:
    """Read every block of a schema file (several files of a schema folder: call once each)."""
    schema = PrismaSchema()
    toks = tokens(text)
    i = 0
    while i < len(toks):
        tok = toks[i]
        if tok.kind == "name" and tok.text in BLOCKS and i + 2 < len(toks):
            name, brace = toks[i + 1], toks[i + 2]
            if name.kind == "name" and brace.text == "{":
                close = _matching(toks, i + 2)
                end = toks[close].span.end if close < len(toks) else len(text)
                body = toks[i + 3 : close]
                span = Span(tok.start, end)
                if tok.text == "datasource":
                    schema.datasources.append(_datasource(name.text, body, span))
                elif tok.text != "generator":
                    schema.models.append(_model(tok.text, name, body, span))
                i = close + 1
                continue
        i += 1
    return schema


def _matching(toks: list[Token], open_index: int) -> int:
    depth = 0
    for j in range(open_index, len(toks)):
        if toks[j].text == "{":
            depth += 1
        elif toks[j].text == "}":
            depth -= 1
            if depth == 0:
                return j
    return len(toks)


def _lines(body: list[Token]) -> list[list[Token]]:
    lines: list[list[Token]] = [[]]
    depth = 0
    for tok in body:
        if tok.kind == "newline" and depth == 0:
            lines.append([])
            continue
        if tok.kind == "newline":
            continue
        if tok.text in "([":
            depth += 1
        elif tok.text in ")]":
            depth = max(0, depth - 1)
        lines[-1].append(tok)
    return [line for line in lines if line]


def _datasource(name: str, body: list[Token], span: Span) -> Datasource:
    provider = None
    for line in _lines(body):
        if len(line) >= 3 and line[0].text == "provider" and line[1].text == "=":
            provider = line[2].value if line[2].closed else None
    return Datasource(name, provider, span)


def _map_argument(line: list[Token], start: int) -> str | None:
    """The string of `@map("x")` / `@@map(name: "x")` starting at `line[start]`."""
    for tok in line[start + 1 : start + 6]:
        if tok.kind == "string":
            return tok.value
        if tok.text == ")":
            break
    return None


def _model(kind: str, name: Token, body: list[Token], span: Span) -> PrismaModel:
    found = PrismaModel(kind=kind, name=name.text, span=span, name_span=name.span, table=name.text)
    for line in _lines(body):
        first = line[0]
        if first.text == "@@map":
            found.table = _map_argument(line, 0) or found.table
            continue
        if first.kind != "name" or first.text.startswith("@") or kind == "enum":
            continue
        if len(line) < 2 or line[1].kind != "name":
            continue
        type_name = line[1].text
        rest = line[2:]
        item = PrismaField(
            name=first.text,
            type=type_name,
            span=Span(first.start, line[-1].span.end),
            optional=bool(rest) and rest[0].text == "?",
            is_list=len(rest) >= 2 and rest[0].text == "[" and rest[1].text == "]",
            column=first.text,
        )
        for index, tok in enumerate(line):
            if tok.kind == "name" and tok.text.startswith("@"):
                item.attributes.append(tok.text)
                if tok.text == "@map":
                    item.column = _map_argument(line, index) or item.column
        found.fields.append(item)
    return found
