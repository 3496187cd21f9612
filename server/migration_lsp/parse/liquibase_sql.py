"""Liquibase formatted-SQL changelogs (`--liquibase formatted sql`) → `Migration`.

A file is read line by line as Liquibase reads it: `--changeset author:id attribute:value ...`
starts a changeSet whose SQL runs up to the next one; `--rollback <sql>` lines and
`/* liquibase rollback ... */` blocks are its rollback; `--comment`, `--preconditions`,
`--precondition-*`, `--validCheckSum` and `--property` lines are metadata; `--ignoreLines`
hides lines from Liquibase. Statements keep their exact positions: the SQL is parsed in place.

Liquibase cannot derive the rollback of raw SQL, so each changeSet is one `raw SQL` change
(an `ExecuteSQL` spanning its statements) for the changeset-without-rollback rule. A `.sql`
file without the header is plain SQL to Liquibase (run as one change, in a transaction).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from migration_lsp.model import ExecuteSQL, Migration, Operation, ParseProblem, Step
from migration_lsp.parse.liquibase_changes import (
    ChangesetInfo,
    Element,
    Value,
    changeset_for,
    dbms_applies,
    is_false,
    is_no_op_rollback,
    is_true,
    sql_mode,
    sql_operations_for,
    substitute_parameters,
)
from migration_lsp.parse.sql import parse_sql
from migration_lsp.text import Span

HEADER = re.compile(r"\s*--\s*liquibase\s+formatted\b", re.IGNORECASE)
CHANGESET = re.compile(
    r"\s*--\s*changeset\s+(\"[^\"]+\"|[^:\s][^:]*):\s*(\"[^\"]+\"|\S+)(.*)", re.IGNORECASE
)
_CHANGESET_WORD = re.compile(r"\s*--\s*changeset\b", re.IGNORECASE)
ROLLBACK = re.compile(r"\s*--\s*rollback\s(.*)", re.IGNORECASE)
_ROLLBACK_BLOCK = re.compile(r"\s*/\*\s*liquibase\s+rollback\s*$", re.IGNORECASE)
_METADATA = re.compile(
    r"\s*--\s*(?:comments?:?\s|preconditions|precondition-|validCheckSum|property\s)",
    re.IGNORECASE,
)
_IGNORE_LINES = re.compile(r"\s*--\s*ignoreLines:(\w+)", re.IGNORECASE)
ATTRIBUTE = re.compile(r"(\w+):(\"[^\"]*\"|\S*)")
RAW_SQL = "raw SQL"
"""The origin of a formatted-SQL changeSet's `ExecuteSQL`: Liquibase's RawSQLChange."""


@dataclass(slots=True)
class _Line:
    start: int
    end: int
    """Offset of the line's end (before its line break)."""
    text: str


@dataclass(slots=True)
class _Changeset:
    header: _Line
    info: ChangesetInfo
    attributes: dict[str, str]
    sql_lines: list[_Line] = field(default_factory=list)
    ignored: list[_Line] = field(default_factory=list)
    rollback: list[tuple[int, str]] = field(default_factory=list)
    """(document offset, text) of each rollback line's SQL."""
    rollback_lines: list[_Line] = field(default_factory=list)
    end: int = 0


def lines_of(text: str) -> list[_Line]:
    lines = []
    offset = 0
    for raw in text.splitlines(keepends=True):
        body = raw.rstrip("\r\n")
        lines.append(_Line(offset, offset + len(body), body))
        offset += len(raw)
    return lines


def is_formatted(text: str) -> bool:
    first = next((ln for ln in text.splitlines() if ln.strip()), "")
    return HEADER.match(first) is not None


def parse_formatted_sql(migration: Migration) -> None:
    text = migration.text
    if not is_formatted(text):
        _plain(migration)
        return
    changesets = _read(migration, lines_of(text))
    if migration.problems:
        return
    for changeset in changesets:
        _changeset(migration, changeset)


def _plain(migration: Migration) -> None:
    """A `.sql` file without the header: Liquibase runs it as one raw change in a transaction
    (included changelog) or as an `sqlFile` another changeSet runs."""
    for line in lines_of(migration.text):
        if _CHANGESET_WORD.match(line.text):
            migration.problems.append(
                ParseProblem(
                    span=Span(line.start, line.end),
                    message="`--changeset` in a file that does not start with "
                    "`--liquibase formatted sql`: Liquibase runs the whole file as plain SQL and "
                    "ignores its changesets. Add the header as the first line.",
                )
            )
            return
    result = parse_sql(migration.text, migration.dialect, transaction="always")
    migration.operations.extend(result.operations)
    migration.problems.extend(result.problems)


def _read(migration: Migration, lines: list[_Line]) -> list[_Changeset]:
    changesets: list[_Changeset] = []
    current: _Changeset | None = None
    i = 0
    while i < len(lines):
        line = lines[i]
        i += 1
        match = CHANGESET.match(line.text)
        if match is not None:
            current = _header(line, match)
            changesets.append(current)
            continue
        if _CHANGESET_WORD.match(line.text):
            migration.problems.append(
                ParseProblem(
                    span=Span(line.start, line.end),
                    message="Liquibase cannot read this changeset line: write "
                    "`--changeset author:id` (attributes after it)",
                )
            )
            return []
        ignore = _IGNORE_LINES.match(line.text)
        if ignore is not None:
            i = _skip_ignored(lines, i, ignore.group(1), current)
            continue
        if current is None:
            continue  # the header, comments and properties before the first changeset
        current.end = line.end
        rollback = ROLLBACK.match(line.text)
        if rollback is not None:
            current.rollback.append((line.start + rollback.start(1), rollback.group(1)))
            current.rollback_lines.append(line)
        elif _ROLLBACK_BLOCK.match(line.text):
            i = _rollback_block(lines, i, current, line)
        elif _METADATA.match(line.text):
            continue
        else:
            current.sql_lines.append(line)
    return changesets


def _header(line: _Line, match: re.Match[str]) -> _Changeset:
    attributes = {m.group(1): m.group(2).strip('"') for m in ATTRIBUTE.finditer(match.group(3))}
    info = ChangesetInfo(
        id=match.group(2).strip('"'),
        author=match.group(1).strip().strip('"'),
        in_transaction=not is_false(attributes.get("runInTransaction")),
        split_statements=not is_false(attributes.get("splitStatements")),
    )
    return _Changeset(header=line, info=info, attributes=attributes, end=line.end)


def _skip_ignored(lines: list[_Line], i: int, how: str, current: _Changeset | None) -> int:
    """`--ignoreLines:start` ... `--ignoreLines:end`, or `--ignoreLines:<count>`."""
    if how.lower() == "start":
        while i < len(lines):
            line = lines[i]
            i += 1
            if current is not None:
                current.ignored.append(line)
            found = _IGNORE_LINES.match(line.text)
            if found is not None and found.group(1).lower() == "end":
                break
        return i
    count = int(how) if how.isdigit() else 0
    if current is not None:
        current.ignored.extend(lines[i : i + count])
    return i + count


def _rollback_block(lines: list[_Line], i: int, current: _Changeset, opening: _Line) -> int:
    current.rollback_lines.append(opening)
    while i < len(lines):
        line = lines[i]
        i += 1
        current.rollback_lines.append(line)
        current.end = line.end
        close = line.text.find("*/")
        if close != -1:
            if line.text[:close].strip():
                current.rollback.append((line.start, line.text[:close]))
            break
        current.rollback.append((line.start, line.text))
    return i


def _changeset(migration: Migration, changeset: _Changeset) -> None:
    info = changeset.info
    attributes = changeset.attributes
    if is_true(attributes.get("ignore")) or not dbms_applies(
        attributes.get("dbms"), migration.dialect
    ):
        return
    header = changeset.header
    indent = len(header.text) - len(header.text.lstrip())
    result = changeset_for(
        info,
        Span(header.start + indent, header.end),
        Span(header.start, max(changeset.end, header.end)),
    )
    body = _body(migration.text, changeset)
    if body is not None:
        element = Element(name="sql", span=body.span, name_span=body.span, head=body.span)
        ops = sql_operations_for(
            migration,
            element=element,
            value=body,
            step=Step.UP,
            in_transaction=info.in_transaction,
            split=info.split_statements,
            end_delimiter=attributes.get("endDelimiter"),
            origin=RAW_SQL,
        )
        for op in ops:
            if isinstance(op, ExecuteSQL) and op.span == body.span:
                op.spans.pop("keyword", None)  # no keyword: the changeSet itself is the change
        result.operations.extend(ops)
        migration.operations.extend(ops)
    if changeset.rollback_lines:
        first, last = changeset.rollback_lines[0], changeset.rollback_lines[-1]
        result.rollback = Span(first.start + _indent(first.text), last.end)
        migration.operations.extend(_rollback(migration, changeset))
    migration.changesets.append(result)


def _indent(text: str) -> int:
    return len(text) - len(text.lstrip())


def _body(text: str, changeset: _Changeset) -> Value | None:
    """The changeSet's SQL, parsed where it stands: the lines between its header and the next
    one, with metadata lines blanked (they are SQL comments anyway) and `--ignoreLines` hidden."""
    code = [ln for ln in changeset.sql_lines if ln.text.strip()]
    if not code:
        return None
    start = code[0].start + _indent(code[0].text)
    end = code[-1].end
    chars = list(text[start:end])
    hidden = [*changeset.ignored, *changeset.rollback_lines]
    for line in hidden:
        for offset in range(max(line.start, start), min(line.end, end)):
            chars[offset - start] = " "
    value = "".join(chars)
    return Value(text=value, span=Span(start, end), positions=range(start, end + 1))


def _rollback(migration: Migration, changeset: _Changeset) -> list[Operation]:
    """The rollback SQL, as the DOWN step, each character at its place in its line."""
    chars: list[str] = []
    positions: list[int] = []
    for offset, sql in changeset.rollback:
        for i, char in enumerate(sql):
            chars.append(char)
            positions.append(offset + i)
        chars.append("\n")
        positions.append(offset + len(sql))
    sql = "".join(chars)
    if not sql.strip() or is_no_op_rollback(sql):
        return []
    positions.append(positions[-1] if positions else 0)
    result = parse_sql(
        substitute_parameters(sql),
        migration.dialect,
        positions=positions,
        step=Step.DOWN,
        transaction=sql_mode(changeset.info.in_transaction, split=True),
    )
    migration.problems.extend(result.problems)
    return result.operations
