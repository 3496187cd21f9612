"""SQL text for the constraint fixes: PostgreSQL identifiers and default constraint names, the
statements the fixes write, and reading one statement of a migration (in a `.sql` file or inside a
Python string literal) token by token."""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass
from functools import cache

from sqlglot.dialects.dialect import Dialect
from sqlglot.errors import TokenError
from sqlglot.tokenizer_core import Token, TokenType

from migration_lsp.model import Migration, Operation
from migration_lsp.parse.pystrings import literal_positions
from migration_lsp.text import Span

from .base import operations_at
from .python import PyFile

NAMEDATALEN = 64
"""PostgreSQL's identifier buffer: names are at most 63 bytes."""

_SIMPLE = re.compile(r"[a-z_][a-z0-9_$]*")

_RESERVED_WORDS = """
all analyse analyze and any array as asc asymmetric authorization binary both case cast
check collate collation column concurrently constraint create cross current_catalog
current_date current_role current_schema current_time current_timestamp current_user
default deferrable desc distinct do else end except false fetch for foreign freeze from
full grant group having ilike in initially inner intersect into is isnull join lateral
leading left like limit localtime localtimestamp natural not notnull null offset on only
or order outer overlaps placing primary references returning right select session_user
similar some symmetric system_user table tablesample then to trailing true union unique
user using variadic verbose when where window with
"""

RESERVED = frozenset(_RESERVED_WORDS.split())
"""PostgreSQL's reserved key words: a name spelled like one must be quoted."""


def quote_ident(name: str) -> str:
    """`name` as PostgreSQL reads it back unchanged: bare when it is a plain lower-case name,
    else in double quotes."""
    if _SIMPLE.fullmatch(name) and name not in RESERVED:
        return name
    return '"' + name.replace('"', '""') + '"'


def qualified(table: str, schema: str | None = None) -> str:
    return f"{quote_ident(schema)}.{quote_ident(table)}" if schema else quote_ident(table)


def object_name(name1: str, name2: str | None, label: str) -> str:
    """PostgreSQL's `makeObjectName`: `name1_name2_label`, the longer of the two names shortened
    until the whole fits in 63 bytes (how it names unnamed constraints and indexes)."""
    overhead = len(label) + 1 + (1 if name2 else 0)
    available = NAMEDATALEN - 1 - overhead
    first, second = len(name1), len(name2 or "")
    while first + second > available:
        if first > second:
            first -= 1
        else:
            second -= 1
    parts = [name1[:first]]
    if name2:
        parts.append(name2[:second])
    parts.append(label)
    return "_".join(parts)


def default_name(kind: str, table: str, columns: list[str]) -> str:
    """The name PostgreSQL gives an unnamed constraint of `kind` on `table` (`orders_user_id_fkey`,
    `orders_total_check`, `users_email_key`, `users_pkey`)."""
    joined = "_".join(columns) or None
    if kind == "foreign_key":
        return object_name(table, joined, "fkey")
    if kind == "check":
        return object_name(table, columns[0] if columns else None, "check")
    if kind == "primary_key":
        return object_name(table, None, "pkey")
    return object_name(table, joined, "key")


def not_null_name(table: str, column: str) -> str:
    """The CHECK constraint that proves `column IS NOT NULL` before SET NOT NULL."""
    return object_name(table, column, "not_null")


class Sql:
    """Writes statements with the key words in the case the migration writes them."""

    def __init__(self, lower: bool = False) -> None:
        self.lower = lower

    def kw(self, words: str) -> str:
        return words.lower() if self.lower else words

    def validate(self, table: str, name: str) -> str:
        return f"{self.kw('ALTER TABLE')} {table} {self.kw('VALIDATE CONSTRAINT')} {name}"

    def add_not_null_check(self, table: str, name: str, column: str) -> str:
        return (
            f"{self.kw('ALTER TABLE')} {table} {self.kw('ADD CONSTRAINT')} {name} "
            f"{self.kw('CHECK')} ({column} {self.kw('IS NOT NULL')}) {self.kw('NOT VALID')}"
        )

    def set_not_null(self, table: str, column: str) -> str:
        return f"{self.kw('ALTER TABLE')} {table} {self.kw('ALTER COLUMN')} {column} " + self.kw(
            "SET NOT NULL"
        )

    def drop_not_null(self, table: str, column: str) -> str:
        return f"{self.kw('ALTER TABLE')} {table} {self.kw('ALTER COLUMN')} {column} " + self.kw(
            "DROP NOT NULL"
        )

    def drop_constraint(self, table: str, name: str, *, if_exists: bool = False) -> str:
        exists = self.kw(" IF EXISTS") if if_exists else ""
        return f"{self.kw('ALTER TABLE')} {table} {self.kw('DROP CONSTRAINT')}{exists} {name}"

    def unique_index(self, table: str, name: str, columns: str, *, if_not_exists: bool) -> str:
        exists = self.kw(" IF NOT EXISTS") if if_not_exists else ""
        return (
            f"{self.kw('CREATE UNIQUE INDEX CONCURRENTLY')}{exists} {name} {self.kw('ON')} "
            f"{table} ({columns})"
        )

    def drop_index(self, name: str) -> str:
        return f"{self.kw('DROP INDEX CONCURRENTLY IF EXISTS')} {name}"

    def using_index(self, table: str, name: str, primary: bool, tail: str = "") -> str:
        kind = self.kw("PRIMARY KEY" if primary else "UNIQUE")
        rest = f" {tail}" if tail else ""
        return (
            f"{self.kw('ALTER TABLE')} {table} {self.kw('ADD CONSTRAINT')} {name} {kind} "
            f"{self.kw('USING INDEX')} {name}{rest}"
        )


def is_lower(sql: str) -> bool:
    """The statement's key words are written in lower case."""
    words = re.findall(r"[A-Za-z]+", sql)[:2]
    return bool(words) and all(w.islower() for w in words)


# --------------------------------------------------------------------------- reading a statement


@cache
def _postgres() -> Dialect:
    return Dialect.get_or_raise("postgres")


def tokenize(sql: str) -> list[Token] | None:
    try:
        return list(_postgres().tokenize(sql))
    except TokenError:
        return None


_NAME_TYPES = (TokenType.VAR, TokenType.IDENTIFIER)


@dataclass(slots=True)
class Statement:
    """One SQL statement as the database sees it, with the document offset of each character
    (`positions[len(sql)]` is the offset just after it)."""

    sql: str
    positions: list[int]
    tokens: list[Token]

    @property
    def words(self) -> list[str]:
        return [
            t.text.upper() if t.token_type is not TokenType.IDENTIFIER else "" for t in self.tokens
        ]

    def raw(self, first: int, last: int | None = None) -> str:
        """The text of tokens `first..last` as written (quotes included)."""
        end = self.tokens[first if last is None else last].end + 1
        return self.sql[self.tokens[first].start : end]

    def offset(self, index: int) -> int:
        """Document offset of the statement's character `index`."""
        return self.positions[index]

    def find(self, word: str, start: int = 0) -> int | None:
        """Index of the first token `word` at parenthesis depth 0 from `start` (the tokenizer
        reads `FOREIGN KEY` and `PRIMARY KEY` as one token each)."""
        depth = 0
        for i in range(start, len(self.tokens)):
            token = self.tokens[i]
            if token.token_type is TokenType.L_PAREN:
                depth += 1
            elif token.token_type is TokenType.R_PAREN:
                depth -= 1
            elif (
                depth == 0
                and token.token_type is not TokenType.IDENTIFIER
                and " ".join(token.text.upper().split()) == word
            ):
                return i
        return None

    def name_end(self, start: int) -> int | None:
        """Index of the last token of a possibly qualified name starting at `start`."""
        if start >= len(self.tokens) or not _is_name(self.tokens[start]):
            return None
        i = start
        while (
            i + 2 < len(self.tokens)
            and self.tokens[i + 1].token_type is TokenType.DOT
            and _is_name(self.tokens[i + 2])
        ):
            i += 2
        return i

    def table(self) -> tuple[int, int] | None:
        """Token range of the table after `ALTER TABLE [IF EXISTS] [ONLY]`."""
        words = [t.text.upper() for t in self.tokens[:6]]
        if words[:2] != ["ALTER", "TABLE"]:
            return None
        i = 2
        while i < len(self.tokens) and self.tokens[i].text.upper() in ("IF", "EXISTS", "ONLY"):
            if self.tokens[i].token_type is TokenType.IDENTIFIER:
                break
            i += 1
        end = self.name_end(i)
        return None if end is None else (i, end)

    def table_text(self) -> str | None:
        found = self.table()
        return None if found is None else self.raw(*found)

    def parenthesized(self, start: int) -> tuple[int, int] | None:
        """(index of `(`, index of its `)`) when the token at `start` opens a parenthesis."""
        if start >= len(self.tokens) or self.tokens[start].token_type is not TokenType.L_PAREN:
            return None
        depth = 0
        for i in range(start, len(self.tokens)):
            kind = self.tokens[i].token_type
            if kind is TokenType.L_PAREN:
                depth += 1
            elif kind is TokenType.R_PAREN:
                depth -= 1
                if depth == 0:
                    return start, i
        return None

    def plain(self, document: str, start: int, end: int) -> bool:
        """Characters `start..end` of the statement are written as they are in the document (no
        escape, quote or line continuation between them): text there can be replaced."""
        span = self.positions[start : end + 1]
        return all(b - a == 1 for a, b in itertools.pairwise(span)) and (
            document[span[0] : span[-1]] == self.sql[start:end]
        )


def _is_name(token: Token) -> bool:
    if token.token_type in _NAME_TYPES:
        return True
    # key words PostgreSQL accepts as names (`key`, `type`, `name`, ...)
    return token.text.isidentifier() and token.text.lower() not in RESERVED


def statement_of(migration: Migration, op: Operation, pyfile: PyFile | None) -> Statement | None:
    """The statement `op` was read from: the document text of a `.sql` file, or the value of the
    plain string literal holding it in Python."""
    text = migration.text
    if migration.language == "sql":
        sql = text[op.span.start : op.span.end]
        positions = list(range(op.span.start, op.span.end + 1))
    else:
        if pyfile is None:
            return None
        string = pyfile.string_containing(op.span)
        if string is None:
            return None
        string_span = pyfile.span(string)
        decoded = literal_positions(text, string_span.start, string_span.end)
        if decoded is None:
            return None
        value, all_positions = decoded
        try:
            first = all_positions.index(op.span.start)
            last = all_positions.index(op.span.end, first)
        except ValueError:
            return None
        sql = value[first:last]
        positions = all_positions[first : last + 1]
    tokens = tokenize(sql)
    if not tokens:
        return None
    return Statement(sql, positions, tokens)


def statements_in(migration: Migration, span: Span) -> int:
    """How many SQL statements the text at `span` (a string literal, a call) holds."""
    return len(
        {
            (o.span.start, o.span.end)
            for o in migration.operations
            if o.origin == "sql" and span.contains(o.span)
        }
    )


def actions_in(migration: Migration, op: Operation) -> int:
    """How many operations the statement of `op` carries (`ALTER TABLE t ADD ..., ALTER ...`)."""
    return sum(1 for o in operations_at(migration, op.span) if o.origin == "sql")
