"""Fixes for single SQL statements of PostgreSQL migrations: removing BEGIN/COMMIT the runner
already wraps (remove-transaction-control), closing a BEGIN (add-commit), a `statement_timeout`
before the first long-running statement (set-statement-timeout), `IF [NOT] EXISTS`
(insert-if-not-exists), `CONCURRENTLY` for REINDEX / REFRESH MATERIALIZED VIEW / DETACH PARTITION
(use-concurrently) and `bigint` for 32-bit integer columns (use-bigint).

All of them edit `.sql` migrations only; SQL inside Python strings gets no fix here."""

from __future__ import annotations

import hashlib
import re
from typing import cast

from migration_lsp.findings import Applicability, Edit, Finding, Fix
from migration_lsp.model import (
    AddColumn,
    CreateIndex,
    CreateTable,
    DetachPartition,
    DropColumn,
    DropIndex,
    DropTable,
    Migration,
    Operation,
    RefreshMaterializedView,
    Reindex,
    TransactionControl,
)
from migration_lsp.text import Span

from .base import Builder, display, in_explicit_transaction, operation_for
from .sql import BEGIN_COMMIT, IndexOp, outside_transaction
from .text import (
    indentation,
    insert,
    is_blank,
    line_end,
    line_start,
    match_case,
    newline_of,
    next_line_start,
    replace,
)

STATEMENT_TIMEOUT = "15min"


def _sql_file(migration: Migration) -> bool:
    return migration.language == "sql"


def _op_of(finding: Finding, migration: Migration, kinds: tuple[type, ...]) -> Operation | None:
    """The operation of one of `kinds` the finding is about (like `operation_for`, for a union
    of operation types)."""
    scope = finding.scope or finding.span
    candidates = [op for op in migration.operations if isinstance(op, kinds) and op.span == scope]
    for op in candidates:
        if finding.span == op.span or finding.span in op.spans.values():
            return op
    return candidates[0] if candidates else None


def _semicolon_end(text: str, end: int) -> int | None:
    """Offset just after the `;` ending the statement that ends at `end` (only spaces and tabs
    between them), or None when there is no such `;`."""
    at = end
    while at < len(text) and text[at] in " \t":
        at += 1
    return at + 1 if at < len(text) and text[at] == ";" else None


# --------------------------------------------------------------------- remove-transaction-control


def _deletion(text: str, op: Operation) -> Edit:
    """Deletes the statement with its `;`; with its line too when nothing else is on it."""
    start, end = op.span.start, op.span.end
    after = _semicolon_end(text, end)
    if after is not None:
        end = after
    first, last = line_start(text, start), line_end(text, end)
    if is_blank(text[first:start]) and is_blank(text[end:last]):
        return replace(Span(first, next_line_start(text, end)), "")
    while end < last and text[end] in " \t":  # the spaces before the next statement go too
        end += 1
    return replace(Span(start, end), "")


def remove_transaction_control(finding: Finding, migration: Migration) -> Fix | None:
    if not _sql_file(migration):
        return None
    op = operation_for(finding, migration, TransactionControl)
    if op is None:
        return None
    flagged = [
        other
        for other in migration.operations
        if isinstance(other, TransactionControl)
        and other.step is op.step
        and other.in_transaction
        and other.kind in ("begin", "commit", "rollback")
    ]
    if any(other.kind == "rollback" for other in flagged):
        return display(
            "Remove the ROLLBACK and make the migration fail instead: the runner's transaction "
            "already rolls everything back on failure"
        )
    flagged.sort(key=lambda other: other.span.start)
    edits = [_deletion(migration.text, other) for other in flagged]
    return Fix(
        title="Remove BEGIN/COMMIT: the runner already runs the migration in a transaction",
        edits=edits,
        applicability=Applicability.SAFE,
    )


# --------------------------------------------------------------------------------- add-commit


def add_commit(finding: Finding, migration: Migration) -> Fix | None:
    if not _sql_file(migration):
        return None
    op = operation_for(finding, migration, TransactionControl)
    if op is None:
        return None
    same_step = [other for other in migration.operations if other.step is op.step]
    last = max(same_step, key=lambda other: other.span.end)
    text = migration.text
    nl = newline_of(text)
    word = match_case("COMMIT", text[op.span.start : op.span.end])
    indent = indentation(text, last.span.start)
    after = _semicolon_end(text, last.span.end)
    if after is None:
        edit = insert(last.span.end, f";{nl}{indent}{word};")
    else:
        edit = insert(after, f"{nl}{indent}{word};")
    return Fix(title="Add COMMIT at the end", edits=[edit], applicability=Applicability.SAFE)


# ---------------------------------------------------------------------- set-statement-timeout


def set_statement_timeout(finding: Finding, migration: Migration) -> Fix | None:
    if not _sql_file(migration):
        return None
    scope = finding.scope or finding.span
    text = migration.text
    start = line_start(text, scope.start)
    if text[start : scope.start].strip():  # not at a line start: insert before it
        start = scope.start
    indent = indentation(text, start)
    nl = newline_of(text)
    return Fix(
        title=f"Set statement_timeout = '{STATEMENT_TIMEOUT}' before this statement",
        edits=[insert(start, f"SET statement_timeout = '{STATEMENT_TIMEOUT}';{nl}{indent}")],
        applicability=Applicability.UNSAFE,
    )


# ----------------------------------------------------------------------- insert-if-not-exists

_TABLE_WORD = re.compile(r"\bTABLE\b", re.IGNORECASE)
_ADD_COLUMN = re.compile(r"\bADD(?:\s+COLUMN)?(?=\s+$)", re.IGNORECASE)
_DROP_COLUMN = re.compile(r"\bDROP(?:\s+COLUMN)?(?=\s+$)", re.IGNORECASE)

_Robust = CreateIndex | DropIndex | CreateTable | DropTable | AddColumn | DropColumn


def _robust_offset(text: str, op: _Robust) -> tuple[int, str] | None:
    """Where `IF [NOT] EXISTS` goes in the statement, and the word it follows (for its case)."""
    statement = text[op.span.start : op.span.end]
    if isinstance(op, CreateIndex | DropIndex):
        if isinstance(op, CreateIndex) and not op.name:
            return None  # IF NOT EXISTS needs an index name
        keyword = op.spans.get("keyword")
        if keyword is None:
            return None
        after = op.spans.get("concurrently", keyword)
        return after.end, text[keyword.start : keyword.end]
    if isinstance(op, CreateTable | DropTable):
        table = op.spans.get("table")
        limit = (table.start if table else op.span.end) - op.span.start
        match = _TABLE_WORD.search(statement, 0, limit)
        if match is None:
            return None
        return op.span.start + match.end(), match.group(0)
    column = op.spans.get("column")
    if column is None:
        return None
    pattern = _ADD_COLUMN if isinstance(op, AddColumn) else _DROP_COLUMN
    before = text[op.span.start : column.start]
    matches = list(pattern.finditer(before))
    if not matches:
        return None
    found = matches[-1]
    return op.span.start + found.end(), found.group(0)


def insert_if_not_exists(finding: Finding, migration: Migration) -> Fix | None:
    if not _sql_file(migration):
        return None
    op = _op_of(
        finding, migration, (CreateIndex, DropIndex, CreateTable, DropTable, AddColumn, DropColumn)
    )
    if not isinstance(op, _Robust):
        return None
    creates = isinstance(op, CreateIndex | CreateTable | AddColumn)
    if creates and getattr(op, "if_not_exists", False):
        return None
    if not creates and getattr(op, "if_exists", False):
        return None
    where = _robust_offset(migration.text, op)
    if where is None:
        return None
    offset, like = where
    words = "IF NOT EXISTS" if creates else "IF EXISTS"
    return Fix(
        title=f"Add {words}",
        edits=[insert(offset, " " + match_case(words, like))],
        applicability=Applicability.SAFE,
    )


# --------------------------------------------------------------------------- use-concurrently

_Concurrent = Reindex | RefreshMaterializedView | DetachPartition


def use_concurrently(finding: Finding, migration: Migration) -> Fix | None:
    if not _sql_file(migration):
        return None
    op = _op_of(finding, migration, (Reindex, RefreshMaterializedView, DetachPartition))
    if not isinstance(op, _Concurrent) or op.concurrently:
        return None
    text = migration.text
    keyword = op.spans.get("keyword")
    if keyword is None:
        return None
    written = text[keyword.start : keyword.end]
    if isinstance(op, DetachPartition):
        name = op.spans.get("name")
        if name is None:
            return None
        offset = name.end
        what = "Detach the partition concurrently"
    else:
        offset = keyword.end
        what = (
            "Reindex concurrently"
            if isinstance(op, Reindex)
            else "Refresh the view concurrently (needs a unique index on the view)"
        )
    edits = [insert(offset, " " + match_case("CONCURRENTLY", written))]
    if in_explicit_transaction(migration, op):
        return display(BEGIN_COMMIT)
    # the non-transaction machinery of CREATE/DROP INDEX CONCURRENTLY fits these statements too
    outside = outside_transaction(migration, cast(IndexOp, op), True)
    if isinstance(outside, Fix):
        return outside
    more, applicability, how = outside
    edits.extend(more)
    if isinstance(op, RefreshMaterializedView):
        applicability = Applicability.UNSAFE
    title = f"{what} (add CONCURRENTLY" + (f"; {how})" if how else ")")
    return Fix(title=title, edits=edits, applicability=applicability)


# -------------------------------------------------------------------------------- use-bigint

_INT_TYPE = re.compile(
    r"(?:integer|int4|int2|int|smallint|smallserial|serial4|serial2|serial)\b", re.IGNORECASE
)
_BIG = {name: "bigserial" for name in ("smallserial", "serial", "serial4", "serial2")}


def use_bigint(finding: Finding, migration: Migration) -> Fix | None:
    if not _sql_file(migration):
        return None
    text = migration.text
    op = _op_of(finding, migration, (CreateTable, AddColumn))
    if not isinstance(op, CreateTable | AddColumn):
        return None
    columns = op.columns if isinstance(op, CreateTable) else [op.column]
    column = next((c for c in columns if c.span == finding.span), None)
    name = column.span if column is not None else None
    if name is None:
        return None
    at = name.end
    while at < op.span.end and text[at] in " \t\r\n":
        at += 1
    match = _INT_TYPE.match(text, at, op.span.end)
    if match is None:
        return None
    written = match.group(0)
    new = _BIG.get(written.lower(), "bigint")
    if written.isupper():
        new = new.upper()
    return Fix(
        title=f"Use {new} instead of {written}",
        edits=[replace(Span(match.start(), match.end()), new)],
        applicability=Applicability.SAFE,
    )


# --------------------------------------------------------------------------- long identifiers

_MAX_IDENTIFIER_BYTES = 63


def short_identifier(name: str) -> str:
    """A name PostgreSQL keeps whole: the start of `name` and a hash of all of it, 63 bytes at
    most, so two long names with one prefix stay distinct."""
    digest = hashlib.sha1(name.encode("utf-8")).hexdigest()[:8]
    keep = name.encode("utf-8")[: _MAX_IDENTIFIER_BYTES - len(digest) - 1]
    head = keep.decode("utf-8", errors="ignore").rstrip("_")
    return f"{head}_{digest}"


def rename_identifier(finding: Finding, migration: Migration) -> Fix | None:
    """Index and constraint names only (what other code rarely spells out); every occurrence
    of the name in this file is renamed, so a downgrade that drops it keeps matching."""
    text = migration.text
    written = text[finding.span.start : finding.span.end]
    quote = written[:1] if written[:1] in "'\"`" and written[-1:] == written[:1] else ""
    name = written[1:-1] if quote else written
    if not name or len(name.encode("utf-8")) <= _MAX_IDENTIFIER_BYTES:
        return None
    if not re.fullmatch(r"[\w$]+", name):
        return None
    if not ("index" in finding.message or "constraint" in finding.message):
        return None  # renaming tables or columns reaches into the application's code
    short = short_identifier(name)
    edits = [
        replace(Span(m.start(), m.end()), short)
        for m in re.finditer(rf"(?<![\w$]){re.escape(name)}(?![\w$])", text)
    ]
    return Fix(
        title=f"Rename it to '{short}' (63 bytes or less) everywhere in this file",
        edits=edits,
        applicability=Applicability.UNSAFE,
    )


def split_after_exclusive_lock(finding: Finding, migration: Migration) -> Fix | None:
    """Which statements to move is a judgement about the deploy: say what to do."""
    return display(
        "Put the ACCESS EXCLUSIVE statement last in its transaction, or move it to a migration "
        "of its own, so its lock is released as soon as it is done"
    )


STATEMENT_BUILDERS: dict[str, Builder] = {
    "transaction-nesting": remove_transaction_control,
    "uncommitted-transaction": add_commit,
    "missing-statement-timeout": set_statement_timeout,
    "prefer-robust-statements": insert_if_not_exists,
    "non-concurrent-reindex": use_concurrently,
    "non-concurrent-refresh": use_concurrently,
    "non-concurrent-detach-partition": use_concurrently,
    "prefer-bigint": use_bigint,
    "identifier-too-long": rename_identifier,
    "statements-after-access-exclusive": split_after_exclusive_lock,
}
STATEMENT_FIX_NAMES: dict[str, str] = {
    "transaction-nesting": "remove-transaction-control",
    "uncommitted-transaction": "add-commit",
    "missing-statement-timeout": "set-statement-timeout",
    "prefer-robust-statements": "insert-if-not-exists",
    "non-concurrent-reindex": "use-concurrently",
    "non-concurrent-refresh": "use-concurrently",
    "non-concurrent-detach-partition": "use-concurrently",
    "prefer-bigint": "use-bigint",
    "identifier-too-long": "rename-identifier",
    "statements-after-access-exclusive": "split-migration",
}
