"""SQL-level edits: `CONCURRENTLY` after `CREATE [UNIQUE] INDEX` / `DROP INDEX` (in `.sql` files
and inside Python string literals), and making a SQL migration file non-transactional the way its
runner wants it (dbmate, goose, Flyway directives; golang-migrate and Prisma by file layout)."""

from __future__ import annotations

import re

from migration_lsp.findings import Applicability, Edit, Fix
from migration_lsp.model import CreateIndex, DropIndex, Migration, SetSetting
from migration_lsp.parse.pystrings import literal_positions
from migration_lsp.text import Span

from .base import display, in_explicit_transaction, inside_other_statement, other_statements
from .text import insert, line_end, match_case, newline_of, replace

IndexOp = CreateIndex | DropIndex

_DBMATE_MARKERS = {
    step: re.compile(rf"^--\s*migrate:{step}\b(.*)$", re.MULTILINE | re.IGNORECASE)
    for step in ("up", "down")
}
_DBMATE_TX = re.compile(r"\btransaction:(true|false)\b", re.IGNORECASE)
_GOOSE_NO_TX = re.compile(r"^--\s*\+goose\s+NO\s+TRANSACTION\b", re.MULTILINE | re.IGNORECASE)
_FLYWAY_INLINE = re.compile(
    r"^--\s*flyway:executeInTransaction\s*=\s*(true|false)\b", re.MULTILINE | re.IGNORECASE
)
_WORDS = re.compile(r"[A-Za-z_]+")

BEGIN_COMMIT = (
    "Move this statement out of BEGIN … COMMIT (into a migration of its own): CONCURRENTLY "
    "cannot run inside a transaction block"
)


def concurrently_edit(migration: Migration, op: IndexOp) -> Edit | str:
    """The insertion of `CONCURRENTLY` (plus `IF NOT EXISTS` / `IF EXISTS` when missing) after
    the statement's `INDEX` keyword; when it cannot be done, the title of a DISPLAY fix saying
    what to do instead."""
    text = migration.text
    keyword = op.spans.get("keyword")
    if keyword is None:
        return "Add CONCURRENTLY after INDEX"
    written = text[keyword.start : keyword.end]
    at = written.upper().rfind("INDEX")
    if at == -1:
        return "Add CONCURRENTLY after INDEX"
    offset = keyword.start + at + len("INDEX")
    statement = text[op.span.start : op.span.end]
    if isinstance(op, DropIndex):
        drops = [o for o in migration.operations if isinstance(o, DropIndex) and o.span == op.span]
        words = {w.upper() for w in _WORDS.findall(statement)}
        if len(drops) > 1 or "CASCADE" in words:
            return (
                "Split the statement into one DROP INDEX CONCURRENTLY per index: DROP INDEX "
                "CONCURRENTLY drops a single index and has no CASCADE"
            )
        words_to_add = "CONCURRENTLY" if op.if_exists else "CONCURRENTLY IF EXISTS"
    else:
        # IF NOT EXISTS needs an index name; `CREATE INDEX ON t (c)` gets CONCURRENTLY only
        named = bool(op.name) and not op.if_not_exists
        words_to_add = "CONCURRENTLY IF NOT EXISTS" if named else "CONCURRENTLY"
    return insert(offset, " " + match_case(words_to_add, written))


IN_BLOCK = (
    "Move this statement out of the DO block: a DO block runs in a transaction, where "
    "CONCURRENTLY fails"
)


def in_block(migration: Migration, op: IndexOp) -> bool:
    """`op` is a statement inside another statement (`DO $$ ... $$`), not a statement of its own
    (the `op.execute`/`RunSQL` call around SQL in Python does not count)."""
    return inside_other_statement(migration, op)


def inside_plain_literal(pyfile_text: str, string_span: Span, offset: int) -> bool:
    """`offset` falls between two characters of the literal's value (not in a quote, prefix or
    escape), so text inserted there becomes part of the string."""
    decoded = literal_positions(pyfile_text, string_span.start, string_span.end)
    if decoded is None:
        return False
    _, positions = decoded
    if offset in positions:
        return True
    return any(p + 1 == offset and pyfile_text[p] != "\\" for p in positions[:-1])


def sql_file_fix(migration: Migration, op: IndexOp, *, add_keyword: bool) -> Fix | None:
    """use-concurrently / run-outside-transaction for a statement of a `.sql` migration."""
    edits: list[Edit] = []
    verb = "Create" if isinstance(op, CreateIndex) else "Drop"
    if add_keyword:
        keyword = concurrently_edit(migration, op)
        if isinstance(keyword, str):
            return display(keyword)
        edits.append(keyword)
    if in_explicit_transaction(migration, op):
        return display(BEGIN_COMMIT)
    outside = outside_transaction(migration, op, add_keyword)
    if isinstance(outside, Fix):
        return outside
    more, applicability, how = outside
    edits.extend(more)
    if add_keyword:
        title = f"{verb} the index concurrently (add CONCURRENTLY" + (f"; {how})" if how else ")")
    else:
        title = how[:1].upper() + how[1:] if how else "Run the statement outside a transaction"
    return Fix(title=title, edits=edits, applicability=applicability)


def outside_transaction(
    migration: Migration, op: IndexOp, add_keyword: bool
) -> tuple[list[Edit], Applicability, str] | Fix:
    """Edits (and how safe they are) so that the runner executes `op` outside a transaction."""
    text = migration.text
    tool = migration.tool
    nl = newline_of(text)
    others = other_statements(migration, op, neutral_settings=True)
    shared = Applicability.SAFE if others == 0 else Applicability.UNSAFE
    if tool == "dbmate":
        section = op.step.value  # the section the statement is in: up or down
        marker = _DBMATE_MARKERS[section].search(text)
        if marker is None:
            return display(f"Add a `-- migrate:{section} transaction:false` section marker")
        rest = marker.group(1)
        setting = _DBMATE_TX.search(rest)
        if other_statements(migration, op, neutral_settings=False):
            # dbmate sends a section as one query: with other statements in it, PostgreSQL
            # wraps them in an implicit transaction even with transaction:false
            return display(
                "Move this statement to a migration of its own, marked "
                f"`-- migrate:{section} transaction:false`: dbmate sends a section as one query, "
                "which PostgreSQL runs in one transaction when it holds several statements"
            )
        if setting is not None and setting.group(1).lower() == "false":
            return [], Applicability.SAFE, ""
        how = f"mark the section `-- migrate:{section} transaction:false`"
        if setting is not None:
            start = marker.start(1) + setting.start(1)
            return [replace(Span(start, start + 4), "false")], shared, how
        end = line_end(text, marker.start())
        spacer = "" if text[marker.start() : end].endswith((" ", "\t")) else " "
        return [insert(end, f"{spacer}transaction:false")], shared, how
    if tool == "goose":
        if _GOOSE_NO_TX.search(text):
            return [], Applicability.SAFE, ""
        how = "run the file with `-- +goose NO TRANSACTION`"
        return [insert(0, f"-- +goose NO TRANSACTION{nl}")], shared, how
    if tool == "flyway":
        if not op.in_transaction:
            # the script's own config (inline or `.conf`) or the project already says so
            return [], Applicability.SAFE, ""
        if _flyway_others(migration, op):
            return display(
                "Move this statement to a migration of its own: Flyway cannot run CONCURRENTLY "
                "in a transaction and refuses to mix transactional and non-transactional "
                "statements in one script (split the file; give the new script "
                "`-- flyway:executeInTransaction=false`)"
            )
        how = "run the script with `-- flyway:executeInTransaction=false`"
        inline = _FLYWAY_INLINE.search(text)
        if inline is not None:  # `executeInTransaction=true` written in the script
            edit = replace(Span(inline.start(1), inline.end(1)), "false")
            return [edit], Applicability.SAFE, how
        return [insert(0, f"-- flyway:executeInTransaction=false{nl}")], Applicability.SAFE, how
    if tool in ("golang-migrate", "prisma"):
        if other_statements(migration, op, neutral_settings=False) == 0:
            return [], Applicability.SAFE, ""
        runner = "golang-migrate" if tool == "golang-migrate" else "Prisma"
        return display(
            f"Move this statement to a migration of its own: {runner} runs a file of several "
            "statements in one transaction, where CONCURRENTLY fails"
        )
    if not op.in_transaction and not migration.transactional:
        return [], Applicability.SAFE, ""
    return display(
        "Move this statement to a migration of its own that the runner does not wrap in a "
        "transaction: CONCURRENTLY fails inside one"
    )


def _flyway_others(migration: Migration, op: IndexOp) -> bool:
    """Statements that Flyway would run in a transaction next to this one (other concurrent
    index statements and plain SETs go along with a non-transactional script)."""
    for other in migration.operations:
        if other is op or other.span == op.span:
            continue
        if isinstance(other, CreateIndex | DropIndex) and other.concurrently:
            continue
        if isinstance(other, SetSetting) and not other.local:
            continue
        return True
    return False
