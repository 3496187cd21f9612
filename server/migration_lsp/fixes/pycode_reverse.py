"""The SQL that undoes forward SQL, statement by statement, where the statement says everything
needed: `CREATE INDEX` → `DROP INDEX IF EXISTS`, `ADD COLUMN` → `DROP COLUMN`, `CREATE TABLE` /
`VIEW` / `EXTENSION` / `SEQUENCE` / `TYPE` / `SCHEMA` / `TRIGGER` / `FUNCTION` → `DROP ...`,
`ADD CONSTRAINT` → `DROP CONSTRAINT`, renames back, `SET NOT NULL` ↔ `DROP NOT NULL`. A statement
whose previous state is not in the text (UPDATE, DROP, `CREATE OR REPLACE`, `SET DEFAULT`) makes
the whole reverse underivable.

Used by add-reverse-sql (Django `RunSQL` without `reverse_sql`).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field

import sqlglot
from sqlglot import exp

from migration_lsp.parse.sql import SQLGLOT_DIALECTS, parse_sql

from .text import match_case


@dataclass(slots=True)
class Reverse:
    statements: list[str] = field(default_factory=list)
    """The undoing statements, in the order they run (the reverse of the forward order)."""
    settings: list[str] = field(default_factory=list)
    """Session settings of the forward SQL (`SET lock_timeout`), repeated first."""
    unsafe: bool = False
    """Some undoing statement may remove something the forward SQL did not create
    (`CREATE EXTENSION IF NOT EXISTS`)."""


_EXTENSION = re.compile(
    r"^CREATE\s+EXTENSION\s+(IF\s+NOT\s+EXISTS\s+)?(\"[^\"]+\"|[\w$]+)", re.IGNORECASE
)
_VALIDATE = re.compile(r"^ALTER\s+TABLE\s+.+\s+VALIDATE\s+CONSTRAINT\s+\S+$", re.IGNORECASE | re.S)


def reverse_of(sqls: list[str], dialect: str | None) -> Reverse | None:
    """The reverse of the SQL texts `sqls` (run in this order), or None when some statement
    cannot be undone from its text alone."""
    result = Reverse()
    inverses: list[list[str]] = []
    for sql in sqls:
        parsed = parse_sql(sql, dialect)
        if parsed.problems:
            return None
        for statement in parsed.statements:
            if not statement.tokens:
                continue
            text = sql[statement.tokens[0].start : statement.tokens[-1].end + 1]
            inverse = _statement(text, dialect, result)
            if inverse is None:
                return None
            inverses.append(inverse)
    for inverse in reversed(inverses):
        result.statements.extend(inverse)
    return result


def _statement(text: str, dialect: str | None, result: Reverse) -> list[str] | None:
    """The statements undoing `text` ([] when nothing needs undoing); settings go to
    `result.settings`."""
    name = SQLGLOT_DIALECTS.get(dialect or "postgresql", "postgres")
    try:
        node = sqlglot.parse_one(text, read=name)
    except Exception:  # sqlglot raises many kinds of errors on SQL it does not know
        return None

    def kw(words: str) -> str:
        return match_case(words, text.split(None, 1)[0])

    def sql(part: exp.Expression) -> str:
        return str(part.sql(dialect=name))

    if isinstance(node, exp.Set):
        result.settings.append(text)
        return []
    if isinstance(node, exp.Command):
        extension = _EXTENSION.match(text)
        if extension is not None:
            if extension.group(1):
                result.unsafe = True
            exists = kw(" IF EXISTS") if extension.group(1) else ""
            return [f"{kw('DROP EXTENSION')}{exists} {extension.group(2)}"]
        if _VALIDATE.match(text):
            return []
        return None
    if isinstance(node, exp.Create):
        return _create(node, kw, sql)
    if isinstance(node, exp.Alter) and str(node.args.get("kind") or "").upper() == "TABLE":
        return _alter_table(node, kw, sql)
    return None


Keywords = Callable[[str], str]
"""Writes key words in the case the forward statement uses."""
Sql = Callable[[exp.Expression], str]
"""Writes a name as the dialect spells it (quotes kept)."""


def _create(node: exp.Create, kw: Keywords, sql: Sql) -> list[str] | None:
    kind = str(node.args.get("kind") or "").upper()
    target = node.this
    exists = kw(" IF EXISTS") if node.args.get("exists") else ""
    if node.args.get("replace"):
        return None  # CREATE OR REPLACE: what it replaced is not in the text
    if kind == "INDEX" and isinstance(target, exp.Index):
        if target.this is None:
            return None  # unnamed: the database chose the name
        name = sql(target.this)
        table = target.args.get("table")
        schema = table.args.get("db") if isinstance(table, exp.Table) else None
        if schema is not None:
            name = f"{sql(schema)}.{name}"
        concurrently = kw(" CONCURRENTLY") if node.args.get("concurrently") else ""
        return [f"{kw('DROP INDEX')}{concurrently}{kw(' IF EXISTS')} {name}"]
    if kind == "TABLE":
        table = target.this if isinstance(target, exp.Schema) else target
        if not isinstance(table, exp.Table):
            return None
        return [f"{kw('DROP TABLE')}{exists} {sql(table)}"]
    if kind == "VIEW" and isinstance(target, exp.Table):
        properties = node.args.get("properties")
        materialized = isinstance(properties, exp.Properties) and any(
            isinstance(p, exp.MaterializedProperty) for p in properties.expressions
        )
        what = "DROP MATERIALIZED VIEW" if materialized else "DROP VIEW"
        return [f"{kw(what)}{exists} {sql(target)}"]
    if kind in ("SEQUENCE", "TYPE") and isinstance(target, exp.Table):
        return [f"{kw('DROP ' + kind)}{exists} {sql(target)}"]
    if kind == "SCHEMA" and isinstance(target, exp.Table):
        schema = target.args.get("db")
        if not isinstance(schema, exp.Expression):
            return None
        return [f"{kw('DROP SCHEMA')}{exists} {sql(schema)}"]
    if kind == "TRIGGER" and isinstance(target, exp.Identifier):
        properties = node.args.get("properties")
        triggers = (
            [p for p in properties.expressions if isinstance(p, exp.TriggerProperties)]
            if isinstance(properties, exp.Properties)
            else []
        )
        table = triggers[0].args.get("table") if triggers else None
        if not isinstance(table, exp.Table):
            return None
        return [f"{kw('DROP TRIGGER')}{exists} {sql(target)} {kw('ON')} {sql(table)}"]
    if kind == "FUNCTION" and isinstance(target, exp.UserDefinedFunction):
        types = []
        for argument in target.expressions:
            kind_node = argument.args.get("kind") if isinstance(argument, exp.ColumnDef) else None
            if not isinstance(kind_node, exp.DataType):
                return None
            types.append(sql(kind_node))
        return [f"{kw('DROP FUNCTION')}{exists} {sql(target.this)}({', '.join(types)})"]
    return None


def _alter_table(node: exp.Alter, kw: Keywords, sql: Sql) -> list[str] | None:
    table = node.this
    if not isinstance(table, exp.Table):
        return None
    head = kw("ALTER TABLE") + (kw(" IF EXISTS") if node.args.get("exists") else "")
    actions = node.args.get("actions") or []
    undo: list[str] = []
    for action in actions:
        if isinstance(action, exp.ColumnDef):
            exists = kw(" IF EXISTS") if action.args.get("exists") else ""
            undo.append(f"{kw('DROP COLUMN')}{exists} {sql(action.this)}")
        elif isinstance(action, exp.AddConstraint):
            for constraint in action.expressions:
                if not isinstance(constraint, exp.Constraint):
                    return None  # unnamed: the database chose the name
                undo.append(f"{kw('DROP CONSTRAINT')} {sql(constraint.this)}")
        elif isinstance(action, exp.AlterColumn):
            allow_null = action.args.get("allow_null")
            if action.args.get("dtype") is not None or allow_null is None:
                return None  # a type or default change: the previous one is not in the text
            change = "SET NOT NULL" if action.args.get("drop") else "DROP NOT NULL"
            undo.append(f"{kw('ALTER COLUMN')} {sql(action.this)} {kw(change)}")
        elif isinstance(action, exp.RenameColumn) and len(actions) == 1:
            old, new = action.this, action.args.get("to")
            if not isinstance(new, exp.Expression):
                return None
            return [f"{head} {sql(table)} {kw('RENAME COLUMN')} {sql(new)} {kw('TO')} {sql(old)}"]
        elif isinstance(action, exp.AlterRename) and len(actions) == 1:
            new_name = action.this
            if not isinstance(new_name, exp.Table):
                return None
            renamed = new_name.copy()
            schema = table.args.get("db")
            if schema is not None and renamed.args.get("db") is None:
                renamed.set("db", schema.copy())
            return [f"{head} {sql(renamed)} {kw('RENAME TO')} {sql(table.this)}"]
        else:
            return None
    if not undo:
        return None
    return [f"{head} {sql(table)} " + ", ".join(reversed(undo))]
