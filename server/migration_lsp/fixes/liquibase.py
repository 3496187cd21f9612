"""Quick fixes for Liquibase changelogs, written in the changelog's own format.

- add-rollback (changeset-without-rollback): a `<rollback>` block (XML), a `rollback:` list
  (YAML, JSON) or `--rollback` lines (formatted SQL) holding the inverse of every change of the
  changeSet, last change first. What the file does not say how to undo (a dropped column's
  type, a dropped table, SQL, data) is marked TODO: a `stop` change whose message says what to
  write (Liquibase then stops at rollback instead of silently doing nothing), `type="TODO"`
  for a re-added column, `-- TODO` lines in SQL. Review it: UNSAFE.
- use-concurrently (non-concurrent-index): Liquibase's `createIndex` has no CONCURRENTLY, so it
  becomes `<sql>CREATE INDEX CONCURRENTLY IF NOT EXISTS ...</sql>` (with a rollback that drops
  the index, as `sql` has no automatic one); SQL gets `CONCURRENTLY`; either way the changeSet
  gets `runInTransaction="false"`.
- run-outside-transaction (concurrent-index-in-transaction): `runInTransaction="false"`.

Moving a changeSet out of its transaction is SAFE when the index is its only change, UNSAFE
otherwise (the other changes no longer roll back together).
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass, field

from migration_lsp.findings import Applicability, Edit, Finding, Fix
from migration_lsp.model import (
    AddColumn,
    AddConstraint,
    AlterColumn,
    Changeset,
    CreateIndex,
    CreateTable,
    DropIndex,
    ExecuteSQL,
    Migration,
    Operation,
    RenameColumn,
    RenameTable,
    Step,
)
from migration_lsp.parse.liquibase import read_changelog
from migration_lsp.parse.liquibase_changes import NOT_CHANGES, Element, is_false
from migration_lsp.parse.liquibase_sql import ATTRIBUTE, CHANGESET
from migration_lsp.text import Span

from .base import Builder, display, operation_for
from .sql import concurrently_edit
from .text import indentation, insert, line_end, line_start, newline_of, replace

# --------------------------------------------------------------------------- inverses


@dataclass(slots=True)
class Change:
    """A change to write: `<name attr="value">children</name>`."""

    name: str
    attrs: list[tuple[str, str]] = field(default_factory=list)
    children: list[Change] = field(default_factory=list)
    note: str | None = None
    """A TODO comment written before it (XML, YAML)."""


def _todo(message: str) -> Change:
    return Change("stop", [("message", f"TODO: {message}")])


def inverses(changeset: Element) -> list[Change]:
    """The rollback of a changeSet's changes: TODO stops first (so nothing is undone until they
    are written), then the inverse of each change, last change first."""
    todos: list[Change] = []
    undo: list[Change] = []
    for change in reversed([c for c in changeset.children if c.name not in NOT_CHANGES]):
        for inverse in _inverse(change):
            (todos if inverse.name == "stop" else undo).append(inverse)
    return todos + undo


def _keep(element: Element, *names: str) -> list[tuple[str, str]]:
    return [(n, v) for n in names if (v := element.get(n)) is not None]


def _inverse(change: Element) -> list[Change]:
    name = change.name
    simple = _SIMPLE.get(name)
    if simple is not None:
        target, attributes = simple
        if name in _NEEDS_NAME and not change.get(_NEEDS_NAME[name]):
            return [_todo(f"undo the unnamed {name} on {change.get('tableName') or '?'}")]
        return [Change(target, [(new, v) for old, new in attributes if (v := change.get(old))])]
    if name == "addColumn":
        table = _keep(change, "catalogName", "schemaName", "tableName")
        return [
            Change("dropColumn", [*table, ("columnName", c.get("name") or "")])
            for c in reversed(change.children)
            if c.name == "column"
        ]
    if name == "dropColumn":
        return _add_back(change)
    if name == "modifyDataType":
        column = f"{change.get('tableName')}.{change.get('columnName')}"
        return [
            Change(
                "modifyDataType",
                [*_keep(change, "schemaName", "tableName", "columnName"), ("newDataType", "TODO")],
                note=f"TODO: the type {column} had before this change",
            )
        ]
    if name in ("tagDatabase", "output", "empty", "stop", "comment"):
        return []
    template = _UNDO.get(name)
    if template is None:  # the name is the file's text: never a format string
        return [_todo(f"write the inverse of {name}")]
    return [_todo(template.format(**_fields(change)))]


def _fields(change: Element) -> dict[str, str]:
    return {
        "table": change.get("tableName") or change.get("baseTableName") or "?",
        "name": change.get("indexName") or change.get("constraintName") or "?",
        "change": change.name,
    }


def _add_back(change: Element) -> list[Change]:
    table = change.get("tableName") or "?"
    names = [change.get("columnName")] if change.get("columnName") else []
    names += [c.get("name") for c in change.children if c.name == "column"]
    return [
        Change(
            "addColumn",
            _keep(change, "catalogName", "schemaName", "tableName"),
            children=[Change("column", [("name", n or ""), ("type", "TODO")])],
            note=f"TODO: the type (and constraints) {table}.{n} had before it was dropped",
        )
        for n in reversed(names)
    ]


_SIMPLE: dict[str, tuple[str, list[tuple[str, str]]]] = {
    # change → (inverse, [(attribute, attribute of the inverse)])
    "createTable": (
        "dropTable",
        [("catalogName", "catalogName"), ("schemaName", "schemaName"), ("tableName", "tableName")],
    ),
    "createIndex": (
        "dropIndex",
        [("schemaName", "schemaName"), ("tableName", "tableName"), ("indexName", "indexName")],
    ),
    "addForeignKeyConstraint": (
        "dropForeignKeyConstraint",
        [
            ("baseTableSchemaName", "baseTableSchemaName"),
            ("baseTableName", "baseTableName"),
            ("constraintName", "constraintName"),
        ],
    ),
    "addUniqueConstraint": (
        "dropUniqueConstraint",
        [
            ("schemaName", "schemaName"),
            ("tableName", "tableName"),
            ("constraintName", "constraintName"),
        ],
    ),
    "addPrimaryKey": (
        "dropPrimaryKey",
        [
            ("schemaName", "schemaName"),
            ("tableName", "tableName"),
            ("constraintName", "constraintName"),
        ],
    ),
    "addCheckConstraint": (
        "dropCheckConstraint",
        [
            ("schemaName", "schemaName"),
            ("tableName", "tableName"),
            ("constraintName", "constraintName"),
        ],
    ),
    "renameColumn": (
        "renameColumn",
        [
            ("schemaName", "schemaName"),
            ("tableName", "tableName"),
            ("newColumnName", "oldColumnName"),
            ("oldColumnName", "newColumnName"),
            ("columnDataType", "columnDataType"),
        ],
    ),
    "renameTable": (
        "renameTable",
        [
            ("schemaName", "schemaName"),
            ("newTableName", "oldTableName"),
            ("oldTableName", "newTableName"),
        ],
    ),
    "addNotNullConstraint": (
        "dropNotNullConstraint",
        [
            ("schemaName", "schemaName"),
            ("tableName", "tableName"),
            ("columnName", "columnName"),
            ("columnDataType", "columnDataType"),
        ],
    ),
    "dropNotNullConstraint": (
        "addNotNullConstraint",
        [
            ("schemaName", "schemaName"),
            ("tableName", "tableName"),
            ("columnName", "columnName"),
            ("columnDataType", "columnDataType"),
        ],
    ),
    "addDefaultValue": (
        "dropDefaultValue",
        [("schemaName", "schemaName"), ("tableName", "tableName"), ("columnName", "columnName")],
    ),
    "createView": ("dropView", [("schemaName", "schemaName"), ("viewName", "viewName")]),
    "createSequence": (
        "dropSequence",
        [("schemaName", "schemaName"), ("sequenceName", "sequenceName")],
    ),
}
_NEEDS_NAME = {
    "createIndex": "indexName",
    "addForeignKeyConstraint": "constraintName",
    "addUniqueConstraint": "constraintName",
    "addCheckConstraint": "constraintName",
}
_UNDO = {
    "dropTable": "recreate table {table} (a createTable with its columns)",
    "dropIndex": "recreate index {name} on {table} (a createIndex with its columns)",
    "dropForeignKeyConstraint": "re-add foreign key {name} on {table}",
    "dropUniqueConstraint": "re-add unique constraint {name} on {table}",
    "dropPrimaryKey": "re-add the primary key of {table}",
    "dropCheckConstraint": "re-add check constraint {name} on {table}",
    "dropDefaultValue": "restore the default value dropped from {table}",
    "sql": "write the SQL that undoes this changeSet's sql",
    "sqlFile": "write the SQL that undoes this changeSet's sqlFile",
    "update": "restore the rows this update changed in {table}",
    "delete": "restore the rows this delete removed from {table}",
    "insert": "delete the rows this insert added to {table}",
    "loadData": "delete the rows loadData added to {table}",
    "loadUpdateData": "restore the rows loadUpdateData changed in {table}",
}


# --------------------------------------------------------------------------- XML


def _xml_escape(value: str) -> str:
    return value.replace("&", "&amp;").replace("<", "&lt;").replace('"', "&quot;")


def _xml_lines(change: Change, indent: str, unit: str) -> list[str]:
    lines = [f"{indent}<!-- {change.note} -->"] if change.note else []
    attrs = "".join(f' {k}="{_xml_escape(v)}"' for k, v in change.attrs)
    if not change.children:
        return [*lines, f"{indent}<{change.name}{attrs}/>"]
    lines.append(f"{indent}<{change.name}{attrs}>")
    for child in change.children:
        lines.extend(_xml_lines(child, indent + unit, unit))
    lines.append(f"{indent}</{change.name}>")
    return lines


# --------------------------------------------------------------------------- YAML and JSON


_PLAIN = re.compile(r"[A-Za-z0-9_][\w.()\-]*")


def _yaml_scalar(value: str) -> str:
    if _PLAIN.fullmatch(value) and value.lower() not in ("true", "false", "null", "yes", "no"):
        return value
    return json.dumps(value)


def _yaml_item(change: Change, indent: str, unit: str) -> list[str]:
    """`- name:` with its attributes and children, the dash at `indent`."""
    lines = [f"{indent}# {change.note}"] if change.note else []
    lines.append(f"{indent}- {change.name}:")
    inner = indent + "  " + unit
    for key, value in change.attrs:
        lines.append(f"{inner}{key}: {_yaml_scalar(value)}")
    if change.children:
        lines.append(f"{inner}columns:")
        for child in change.children:
            lines.extend(_yaml_item(child, inner + unit, unit))
    return lines


def _json_value(change: Change) -> dict[str, object]:
    body: dict[str, object] = dict(change.attrs)
    if change.children:
        body["columns"] = [_json_value(c) for c in change.children]
    return {change.name: body}


def _json_text(value: object, indent: str, unit: str, newline: str) -> str:
    dumped = json.dumps(value, indent=len(unit.expandtabs(4)) or 2, ensure_ascii=False)
    return newline.join((indent + line if i else line) for i, line in enumerate(dumped.split("\n")))


# --------------------------------------------------------------------------- changeSet layout


@dataclass(slots=True)
class _Target:
    """A changeSet element of an XML, YAML or JSON changelog, and the file around it."""

    migration: Migration
    changeset: Element

    @property
    def text(self) -> str:
        return self.migration.text

    @property
    def newline(self) -> str:
        return newline_of(self.text)

    def changes(self) -> list[Element]:
        return [c for c in self.changeset.children if c.name not in NOT_CHANGES]

    def member_indent(self) -> str:
        """Indentation of the changeSet's attributes (YAML keys, JSON members)."""
        first = next(iter(self.changeset.attrs.values()), None)
        at = first.span.start if first is not None else self.changeset.span.start
        return indentation(self.text, at)

    def unit(self) -> str:
        outer = indentation(self.text, self.changeset.head.start)
        inner = self.member_indent() if self.migration.language != "xml" else self.child_indent()
        if inner.startswith(outer) and len(inner) > len(outer):
            return inner[len(outer) :] if self.migration.language == "xml" else "  "
        return "  " if self.migration.language != "xml" else "    "

    def child_indent(self) -> str:
        changes = self.changes()
        if changes:
            return indentation(self.text, changes[0].span.start)
        return indentation(self.text, self.changeset.head.start) + "    "


def _target_for(migration: Migration, span: Span) -> _Target | None:
    """The changeSet element whose head is `span`, or which contains it."""
    if migration.language not in ("xml", "yaml", "json"):
        return None
    changelog = read_changelog(migration.path, migration.text)
    if changelog.problems:
        return None
    for element in changelog.changesets:
        if element.head == span or element.span.contains(span):
            return _Target(migration, element)
    return None


def _flow_style(target: _Target) -> bool:
    """A YAML changeSet written `{...}`: edits there are not line-based."""
    if target.migration.language != "yaml":
        return False
    text = target.text
    at = target.changeset.head.end
    while at < len(text) and text[at] in " \t:":
        at += 1
    return text[at : at + 1] in ("{", "[")


def _rollback_edit(target: _Target, rollback: Sequence[Change]) -> Edit | None:
    """The rollback written after the changeSet's last change."""
    changes = target.changes()
    if not changes or not rollback:
        return None
    anchor = changes[-1]
    nl = target.newline
    language = target.migration.language
    if language == "xml":
        indent = target.child_indent()
        unit = target.unit()
        lines = [f"{indent}<rollback>"]
        for change in rollback:
            lines.extend(_xml_lines(change, indent + unit, unit))
        lines.append(f"{indent}</rollback>")
        return insert(anchor.span.end, nl + nl.join(lines))
    if language == "yaml":
        indent = target.member_indent()
        unit = target.unit()
        lines = [f"{indent}rollback:"]
        for change in rollback:
            lines.extend(_yaml_item(change, indent + unit, unit))
        return insert(line_end(target.text, anchor.span.end), nl + nl.join(lines))
    indent = target.member_indent()
    unit = target.unit()
    value = _json_text([_json_value(c) for c in rollback], indent, unit, nl)
    end = _json_members_end(target)
    return insert(end, f',{nl}{indent}"rollback": {value}')


def _json_members_end(target: _Target) -> int:
    """Offset just after the last member of the changeSet object."""
    text = target.text
    at = target.changeset.span.end - 1  # the closing brace
    at -= 1
    while at > 0 and text[at] in " \t\r\n":
        at -= 1
    return at + 1


def _transaction_edit(target: _Target) -> Edit | None:
    """`runInTransaction` set to false on the changeSet."""
    current = target.changeset.attrs.get("runInTransaction")
    language = target.migration.language
    if current is not None:
        if is_false(current.text):
            return None
        return replace(current.span, "false")
    text = target.text
    if language == "xml":
        head = target.changeset.head
        closing = head.end - 1
        return insert(closing, ' runInTransaction="false"')
    indent = target.member_indent()
    nl = target.newline
    if language == "yaml":
        last = target.changeset.attrs.get("author") or target.changeset.attrs.get("id")
        if last is None:
            return None
        return insert(line_end(text, last.span.end), f"{nl}{indent}runInTransaction: false")
    brace = text.find("{", target.changeset.head.end)
    if brace == -1:
        return None
    return insert(brace + 1, f'{nl}{indent}"runInTransaction": false,')


# --------------------------------------------------------------------------- formatted SQL


def _sql_changeset(migration: Migration, span: Span) -> Changeset | None:
    return next((c for c in migration.changesets if c.span == span or c.body.contains(span)), None)


def _sql_inverse(op: Operation, dialect: str | None, outside: bool) -> str | None:
    """The SQL undoing one statement of a formatted-SQL changeSet (None: not known)."""
    if isinstance(op, CreateTable):
        return f"DROP TABLE {op.table};"
    if isinstance(op, AddColumn):
        return f"ALTER TABLE {op.table} DROP COLUMN {op.column.name};"
    if isinstance(op, CreateIndex) and op.name:
        if dialect == "mysql":
            return f"DROP INDEX {op.name} ON {op.table};"
        how = "CONCURRENTLY IF EXISTS " if outside and dialect in (None, "postgresql") else ""
        return f"DROP INDEX {how}{op.name};"
    if isinstance(op, AddConstraint) and op.name:
        return f"ALTER TABLE {op.table} DROP CONSTRAINT {op.name};"
    if isinstance(op, RenameColumn):
        return f"ALTER TABLE {op.table} RENAME COLUMN {op.new_name} TO {op.column};"
    if isinstance(op, RenameTable):
        return f"ALTER TABLE {op.new_name} RENAME TO {op.table};"
    if isinstance(op, AlterColumn) and op.new_type is None and op.nullable is not None:
        action = "DROP NOT NULL" if op.nullable is False else "SET NOT NULL"
        return f"ALTER TABLE {op.table} ALTER COLUMN {op.column} {action};"
    return None


def _sql_rollback(migration: Migration, changeset: Changeset) -> Fix | None:
    text = migration.text
    execute = next((o for o in changeset.operations if isinstance(o, ExecuteSQL)), None)
    if execute is None:
        return None
    outside = not execute.in_transaction
    lines: list[str] = []
    todo = False
    done: set[tuple[int, int]] = set()
    for op in reversed(changeset.operations):
        if op is execute:
            continue
        inverse = _sql_inverse(op, migration.dialect, outside)
        if inverse is None:
            if (op.span.start, op.span.end) in done:
                continue
            done.add((op.span.start, op.span.end))
            statement = " ".join(text[op.span.start : op.span.end].split())[:60]
            lines.insert(0, f"--rollback -- TODO: undo `{statement}`")
            todo = True
            continue
        lines.append(f"--rollback {inverse}")
    if not lines:
        lines.append("--rollback -- TODO: undo this changeset")
        todo = True
    nl = newline_of(text)
    edit = insert(line_end(text, execute.span.end), nl + nl.join(lines))
    title = "Add --rollback lines" + (" (fill in the TODO lines)" if todo else "")
    return Fix(title=title, edits=[edit], applicability=Applicability.UNSAFE)


def _sql_transaction_edit(migration: Migration, changeset: Changeset) -> Edit | None:
    text = migration.text
    header = text[changeset.span.start : changeset.span.end]
    match = CHANGESET.match(header)
    if match is None:
        return None
    for found in ATTRIBUTE.finditer(header, match.start(3)):
        if found.group(1) == "runInTransaction":
            if is_false(found.group(2)):
                return None
            start = changeset.span.start + found.start(2)
            return replace(Span(start, start + len(found.group(2))), "false")
    return insert(changeset.span.end, " runInTransaction:false")


# --------------------------------------------------------------------------- builders


def add_rollback(finding: Finding, migration: Migration) -> Fix | None:
    span = finding.scope or finding.span
    if migration.language == "sql":
        changeset = _sql_changeset(migration, span)
        if changeset is None or changeset.rollback is not None:
            return None
        return _sql_rollback(migration, changeset)
    target = _target_for(migration, span)
    if target is None or target.changeset.child("rollback") is not None or _flow_style(target):
        return None
    rollback = inverses(target.changeset)
    edit = _rollback_edit(target, rollback)
    if edit is None:
        return None
    todo = any(c.name == "stop" or c.note for c in rollback)
    where = {"xml": "a <rollback> block", "yaml": "a rollback:", "json": 'a "rollback"'}
    title = f"Add {where[migration.language]}" + (" (fill in its TODOs)" if todo else "")
    return Fix(title=title, edits=[edit], applicability=Applicability.UNSAFE)


def use_concurrently(finding: Finding, migration: Migration) -> Fix | None:
    op = operation_for(finding, migration, CreateIndex)
    if op is None or op.concurrently or op.step is not Step.UP:
        return None
    if op.is_sql:
        return _outside(migration, op, add_keyword=True)
    target = _target_for(migration, op.span)
    if target is None or _flow_style(target):
        return None
    element = next((c for c in target.changes() if c.span == op.span), None)
    if element is None or element.name != "createIndex":
        return None
    edits = [_replace_with_sql(target, element, _create_index_sql(element))]
    transaction = _transaction_edit(target)
    if transaction is not None:
        edits.append(transaction)
    if target.changeset.child("rollback") is None:
        rollback = _rollback_edit(target, inverses(target.changeset))
        if rollback is not None:
            edits.append(rollback)
    return Fix(
        title="Create the index concurrently: <sql>CREATE INDEX CONCURRENTLY</sql> in a changeSet "
        'with runInTransaction="false"',
        edits=edits,
        applicability=_applicability(len(target.changes())),
    )


def run_outside_transaction(finding: Finding, migration: Migration) -> Fix | None:
    op: CreateIndex | DropIndex | None = operation_for(
        finding, migration, CreateIndex
    ) or operation_for(finding, migration, DropIndex)
    if op is None or not op.concurrently or not op.in_transaction or op.step is not Step.UP:
        return None
    return _outside(migration, op, add_keyword=False)


def _applicability(changes: int) -> Applicability:
    return Applicability.SAFE if changes <= 1 else Applicability.UNSAFE


def _outside(migration: Migration, op: CreateIndex | DropIndex, *, add_keyword: bool) -> Fix | None:
    """SQL in `<sql>` or a formatted-SQL changeSet: CONCURRENTLY (when asked) and the changeSet
    out of its transaction."""
    edits: list[Edit] = []
    if add_keyword:
        edit = concurrently_edit(migration, op)
        if isinstance(edit, str):
            return display(edit)
        edits.append(edit)
    execute = next(
        (
            e
            for e in migration.operations
            if isinstance(e, ExecuteSQL) and e.span.contains(op.span) and e.step is op.step
        ),
        None,
    )
    statements = {
        (o.span.start, o.span.end)
        for o in migration.operations
        if o.is_sql and execute is not None and execute.span.contains(o.span)
    }
    if migration.language == "sql":
        changeset = _sql_changeset(migration, op.span)
        if changeset is None:
            return None
        transaction = _sql_transaction_edit(migration, changeset)
        changes = len(statements)
        split = (
            "splitStatements:false" not in migration.text[changeset.span.start : changeset.span.end]
        )
    else:
        target = _target_for(migration, op.span)
        if target is None or _flow_style(target):
            return None
        transaction = _transaction_edit(target)
        changes = len(target.changes()) - 1 + len(statements)
        sql = next(
            (c for c in target.changes() if execute is not None and c.span == execute.span), None
        )
        split = sql is None or not is_false(sql.get("splitStatements"))
    if not split and len(statements) > 1:
        return display(
            'Put this statement in a changeSet of its own with runInTransaction="false": '
            "with splitStatements=false its statements run as one implicit transaction"
        )
    if transaction is not None:
        edits.append(transaction)
    if add_keyword:
        title = 'Create the index concurrently (add CONCURRENTLY, runInTransaction="false")'
    else:
        title = 'Run the changeSet outside a transaction (runInTransaction="false")'
    return Fix(title=title, edits=edits, applicability=_applicability(changes))


def _create_index_sql(element: Element) -> str:
    table = element.get("tableName") or ""
    schema = element.get("schemaName")
    qualified = f"{schema}.{table}" if schema else table
    columns = []
    for column in element.children:
        if column.name == "column":
            descending = " DESC" if (column.get("descending") or "").lower() == "true" else ""
            columns.append(f"{column.get('name') or ''}{descending}")
    unique = "UNIQUE " if (element.get("unique") or "").lower() == "true" else ""
    name = element.get("indexName")
    named = f"IF NOT EXISTS {name} " if name else ""
    return f"CREATE {unique}INDEX CONCURRENTLY {named}ON {qualified} ({', '.join(columns)})"


def _replace_with_sql(target: _Target, element: Element, sql: str) -> Edit:
    language = target.migration.language
    if language == "xml":
        return replace(element.span, f"<sql>{_xml_escape(sql)}</sql>")
    if language == "yaml":
        column = element.span.start - line_start(target.text, element.span.start)
        indent = " " * column + target.unit()
        return replace(element.span, f"sql:{target.newline}{indent}sql: {_yaml_scalar(sql)}")
    return replace(element.span, f'"sql": {{"sql": {json.dumps(sql)}}}')


LIQUIBASE_BUILDERS: dict[str, Builder] = {
    "changeset-without-rollback": add_rollback,
    "non-concurrent-index": use_concurrently,
    "concurrent-index-in-transaction": run_outside_transaction,
}
