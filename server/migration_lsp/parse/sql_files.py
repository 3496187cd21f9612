"""SQL migration files of each SQL runner → `Migration`.

The SQL is the same everywhere; what differs per tool is which part is the forward step and
whether the runner wraps it in a transaction: Flyway (per-script config, its own detection of
non-transactional statements), dbmate and goose (section markers and directives),
golang-migrate and Prisma (one multi-statement query: an implicit transaction), plain folders.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from migration_lsp.model import (
    CreateIndex,
    DropIndex,
    Migration,
    ParseProblem,
    Step,
    StepBody,
)
from migration_lsp.parse.sql import (
    SqlResult,
    TransactionMode,
    mark_transactions,
    parse_sql_document,
)
from migration_lsp.text import Span

_DBMATE_SECTION = re.compile(r"^--\s*migrate:(up|down)\b(.*)$", re.MULTILINE | re.IGNORECASE)
_GOOSE_SECTION = re.compile(r"^--\s*\+goose\s+(Up|Down)\b.*$", re.MULTILINE | re.IGNORECASE)
_GOOSE_NO_TX = re.compile(r"^--\s*\+goose\s+NO\s+TRANSACTION\b", re.MULTILINE | re.IGNORECASE)
_FLYWAY_INLINE = re.compile(
    r"^--\s*flyway:executeInTransaction\s*=\s*(true|false)\b", re.MULTILINE | re.IGNORECASE
)


def parse_sql_migration(
    path: str,
    text: str,
    tool: str,
    dialect: str | None,
    settings: dict[str, Any] | None = None,
    flavor: str | None = None,
) -> Migration:
    settings = settings or {}
    migration = Migration(
        path=path, text=text, tool=tool, dialect=dialect, language="sql", sources=[]
    )
    name = Path(path).name
    if tool == "dbmate":
        # without its transaction, dbmate still sends a section as one query (several
        # statements form an implicit transaction); goose runs statements one by one
        _sections(
            migration, _DBMATE_SECTION, lambda m: "transaction:false" not in m.group(2), "multi"
        )
        _require_up(migration, "dbmate", "-- migrate:up")
    elif tool == "goose":
        no_tx = _GOOSE_NO_TX.search(text) is not None
        _sections(migration, _GOOSE_SECTION, lambda m: not no_tx, "never")
        _require_up(migration, "goose", "-- +goose Up")
    elif tool == "flyway":
        step = Step.DOWN if name[:1] in "Uu" and not name.startswith("R__") else Step.UP
        result = parse_sql_document(text, dialect, step=step)
        _whole(migration, step, _flyway_mode(path, text, dialect, settings, result), result)
    elif tool == "golang-migrate":
        step = Step.DOWN if name.endswith(".down.sql") else Step.UP
        _whole(migration, step, "multi")
    elif tool == "prisma":
        _whole(migration, Step.UP, "multi")
    else:  # plain folders of SQL files, Supabase, sqitch
        mode: TransactionMode = "always" if flavor == "supabase" else "never"
        step = Step.DOWN if name.endswith(".down.sql") or "/revert/" in path else Step.UP
        _whole(migration, step, mode)
    return migration


def _require_up(migration: Migration, tool: str, marker: str) -> None:
    code = [
        ln for ln in migration.text.splitlines() if ln.strip() and not ln.lstrip().startswith("--")
    ]
    if migration.up is None and code:
        migration.problems.append(
            ParseProblem(
                span=Span(0, min(len(migration.text), len(migration.text.split("\n", 1)[0]))),
                message=f"No '{marker}' section: {tool} rejects this file and nothing in it runs",
            )
        )


def _whole(
    migration: Migration, step: Step, mode: TransactionMode, result: SqlResult | None = None
) -> None:
    if result is None:
        result = parse_sql_document(migration.text, migration.dialect, step=step)
    mark_transactions(result, mode)
    _add(migration, result)
    migration.transactional = mode != "never"
    body = StepBody(span=Span(0, 0), body=Span(0, len(migration.text)), empty=not result.statements)
    if step is Step.UP:
        migration.up = body
    else:
        migration.down = body


def _sections(
    migration: Migration,
    marker: re.Pattern[str],
    transactional: Any,
    without: TransactionMode,
) -> None:
    text = migration.text
    matches = list(marker.finditer(text))
    for index, match in enumerate(matches):
        step = Step.UP if match.group(1).lower() == "up" else Step.DOWN
        start = match.end()
        end = matches[index + 1].start() if index + 1 < len(matches) else len(text)
        mode: TransactionMode = "always" if transactional(match) else without
        result = parse_sql_document(
            text[start:end], migration.dialect, offset=start, step=step, transaction=mode
        )
        _add(migration, result)
        body = StepBody(
            span=Span(match.start(), match.end()),
            body=Span(start, end),
            empty=not result.statements,
        )
        if step is Step.UP:
            migration.up = migration.up or body
            migration.transactional = mode != "never"
        else:
            migration.down = migration.down or body


def _add(migration: Migration, result: SqlResult) -> None:
    """The statements' operations, problems and (for statements of a cached parse) sources,
    in one pass: a 20,000-statement file is walked on every keystroke."""
    migration.problems.extend(result.problems)
    operations, sources = migration.operations, migration.sources
    for statement in result.statements:
        ops = statement.operations
        if not ops:
            continue
        operations.extend(ops)
        if sources is not None:
            segment = statement.segment
            if segment is None:
                sources = migration.sources = None
            elif len(ops) == 1:
                sources.append(segment.text)
            else:
                sources.extend([segment.text] * len(ops))


def _flyway_mode(
    path: str, text: str, dialect: str | None, settings: dict[str, Any], result: SqlResult
) -> TransactionMode:
    """Flyway runs a script in a transaction unless told otherwise, but on PostgreSQL it
    detects statements that cannot run in one (CREATE/DROP INDEX CONCURRENTLY) and runs such a
    script without; mixing both kinds fails unless `mixed=true`."""
    script = _flyway_script_setting(path, text)
    if script is not None:  # the script's own configuration decides
        return "always" if script else "never"
    if settings.get("executeInTransaction") is False:
        return "never"
    if (dialect or "postgresql") != "postgresql":
        return "always"
    # Flyway's PostgreSQL parser marks only a few statements non-transactional (CONCURRENTLY
    # index builds among them); everything else, SET included, counts as transactional
    kinds = {
        isinstance(op, CreateIndex | DropIndex) and op.concurrently for op in result.operations
    }
    if kinds == {True} or (kinds == {True, False} and settings.get("mixed") is True):
        return "never"
    return "always"


def _flyway_script_setting(path: str, text: str) -> bool | None:
    """`executeInTransaction` from the script's own config file or an inline comment."""
    inline = _FLYWAY_INLINE.search(text)
    if inline:
        return inline.group(1).lower() == "true"
    conf = Path(path + ".conf")
    try:
        content = conf.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return None
    for line in content.splitlines():
        key, _, value = line.partition("=")
        if key.strip() == "executeInTransaction":
            return value.strip().lower() == "true"
    return None
