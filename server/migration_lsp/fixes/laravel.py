"""Quick fixes for Laravel migrations, in Laravel's idiom.

- add-downgrade / complete-downgrade: a `down()` that inverts `up()` in reverse order
  (`Schema::dropIfExists`, `$table->dropColumn`, `dropIndex`, `dropForeign`, `renameColumn`
  back, `DB::statement('DROP INDEX CONCURRENTLY ...')`), grouped in `Schema::table` closures;
  what the file alone cannot undo (a dropped column, a data change, a `->change()`) becomes a
  comment and `throw new \\RuntimeException(...)`, never silence. UNSAFE: review it.
- use-concurrently: the Blueprint has no CONCURRENTLY, so the index command leaves the closure
  and becomes `DB::statement('CREATE INDEX CONCURRENTLY IF NOT EXISTS ...')` after it, with
  `public $withinTransaction = false;` on the class (CONCURRENTLY cannot run in the
  transaction Laravel opens on PostgreSQL). SQL in `DB::statement` gets CONCURRENTLY inserted.
- run-outside-transaction: `public $withinTransaction = false;`.
- split-not-valid (foreign keys): the constraint as raw SQL, `NOT VALID`, then `VALIDATE
  CONSTRAINT` in the same migration with `$withinTransaction = false`. Why there: without the
  migration's transaction each `DB::statement` commits alone, so the ADD's SHARE ROW EXCLUSIVE
  lock is released before the validating scan starts (which only takes SHARE UPDATE EXCLUSIVE:
  writes go on). A second migration file would also work but needs a `down()` that undoes
  nothing. UNSAFE unless the constraint is the migration's only statement: the other statements
  no longer roll back together.
- unique-using-index: `CREATE UNIQUE INDEX CONCURRENTLY` then `ADD CONSTRAINT ... UNIQUE USING
  INDEX`, the same way.

Moving statements out of the transaction is SAFE only when nothing else in the migration runs.
"""

from __future__ import annotations

from dataclasses import dataclass

from tree_sitter import Node

from migration_lsp.findings import Applicability, Edit, Finding, Fix
from migration_lsp.model import (
    AddColumn,
    AddConstraint,
    AlterColumn,
    CreateIndex,
    CreateTable,
    DataChange,
    DropIndex,
    ExecuteSQL,
    Migration,
    Operation,
    OtherStatement,
    RenameColumn,
    RenameTable,
    SetSetting,
    Step,
    TransactionControl,
)
from migration_lsp.parse.laravel_php import CALLS, chain_of, string_value
from migration_lsp.parse.treesitter import TreeSource, named_children
from migration_lsp.rules.reversibility import not_undone
from migration_lsp.text import Span

from .base import Builder, display, operation_for
from .sql import concurrently_edit
from .text import indentation, insert, line_end, line_start, newline_of, next_line_start

DB_IMPORT = "Illuminate\\Support\\Facades\\DB"
SCHEMA_IMPORT = "Illuminate\\Support\\Facades\\Schema"
BLUEPRINT_IMPORT = "Illuminate\\Database\\Schema\\Blueprint"
WITHOUT_TRANSACTION = "public $withinTransaction = false;"
_FK_ACTIONS = {
    "cascadeOnDelete": "ON DELETE CASCADE",
    "restrictOnDelete": "ON DELETE RESTRICT",
    "nullOnDelete": "ON DELETE SET NULL",
    "noActionOnDelete": "ON DELETE NO ACTION",
    "cascadeOnUpdate": "ON UPDATE CASCADE",
    "restrictOnUpdate": "ON UPDATE RESTRICT",
    "nullOnUpdate": "ON UPDATE SET NULL",
    "noActionOnUpdate": "ON UPDATE NO ACTION",
}


# --------------------------------------------------------------------------- PHP file helpers


class PhpFile:
    """The migration's text and tree, with the edits fixes share."""

    def __init__(self, migration: Migration) -> None:
        self.migration = migration
        self.text = migration.text
        self.source = TreeSource(migration.text, "php")
        self.nl = newline_of(migration.text)

    def node_at(self, span: Span) -> Node | None:
        """The outermost node covering exactly `span`."""
        data_start = len(self.text[: span.start].encode("utf-8"))
        data_end = len(self.text[: span.end].encode("utf-8"))
        node = self.source.root.descendant_for_byte_range(data_start, data_end)
        while node is not None and self.source.span(node) != span:
            node = node.parent
        while (
            node is not None and node.parent is not None and self.source.span(node.parent) == span
        ):
            node = node.parent
        return node

    def statement_of(self, node: Node) -> Node | None:
        current: Node | None = node
        while current is not None and current.type != "expression_statement":
            current = current.parent
        return current

    def class_body(self) -> Node | None:
        from migration_lsp.parse.laravel import _migration_class

        return _migration_class(self.source)

    def method(self, name: str) -> Node | None:
        body = self.class_body()
        if body is None:
            return None
        for child in named_children(body):
            found = child.child_by_field_name("name")
            named = found is not None and self.source.node_text(found) == name
            if child.type == "method_declaration" and named:
                return child
        return None

    def unit(self) -> str:
        """One level of indentation, as the class body uses it."""
        body = self.class_body()
        members = named_children(body) if body is not None else []
        if members:
            indent = indentation(self.text, self.source.span(members[0]).start)
            if indent:
                return indent
        return "    "

    def without_transaction(self) -> list[Edit] | None:
        """`public $withinTransaction = false;` on the class ([] when already there)."""
        body = self.class_body()
        if body is None:
            return None
        for declaration in named_children(body):
            if declaration.type != "property_declaration":
                continue
            for element in named_children(declaration):
                name = element.child_by_field_name("name")
                value = element.child_by_field_name("default_value")
                if name is None or self.source.node_text(name) != "$withinTransaction":
                    continue
                if value is not None and self.source.node_text(value).lower() == "false":
                    return []
                if value is None:
                    return None
                return [Edit(self.source.span(value), "false")]
        brace = self.source.span(body).start
        unit = self.unit()
        members = named_children(body)
        if members:
            start = line_start(self.text, self.source.span(members[0]).start)
            comment_start = self._leading_comments(members[0])
            start = line_start(self.text, comment_start)
            return [insert(start, f"{unit}{WITHOUT_TRANSACTION}{self.nl}{self.nl}")]
        return [insert(brace + 1, f"{self.nl}{unit}{WITHOUT_TRANSACTION}{self.nl}")]

    def _leading_comments(self, node: Node) -> int:
        """Start of the doc comments right above a class member."""
        start = self.source.span(node).start
        sibling = node.prev_sibling
        while sibling is not None and sibling.type == "comment":
            start = self.source.span(sibling).start
            sibling = sibling.prev_sibling
        return start

    def ensure_use(self, name: str) -> list[Edit]:
        """`use Illuminate\\Support\\Facades\\DB;` among the file's imports, in order."""
        uses = [
            n for n in named_children(self.source.root) if n.type == "namespace_use_declaration"
        ]
        names = []
        for use in uses:
            written = self.source.node_text(use).removeprefix("use").strip().rstrip(";").strip()
            if written.lstrip("\\") == name:
                return []
            names.append((written.lstrip("\\"), use))
        line = f"use {name};{self.nl}"
        for written, use in names:
            if written.lower() > name.lower():
                return [insert(line_start(self.text, self.source.span(use).start), line)]
        if names:
            return [insert(next_line_start(self.text, self.source.span(names[-1][1]).end), line)]
        tag = next((n for n in self.source.root.children if n.type == "php_tag"), None)
        at = next_line_start(self.text, self.source.span(tag).end) if tag is not None else 0
        return [insert(at, f"{self.nl}{line}")]

    def remove_statement(self, statement: Node) -> Edit:
        """Delete a whole statement line (with its line break)."""
        span = self.source.span(statement)
        start = line_start(self.text, span.start)
        if self.text[start : span.start].strip():
            start = span.start
        end = line_end(self.text, span.end)
        if self.text[span.end : end].strip():
            return Edit(span, "")
        return Edit(Span(start, next_line_start(self.text, span.end)), "")


def php_string(value: str) -> str:
    """A single-quoted PHP literal (only `\\\\` and `'` are escapes there)."""
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"


def _others(migration: Migration, spans: list[Span]) -> int:
    """Statements of the forward step outside `spans`."""
    outside = {
        (op.span.start, op.span.end)
        for op in migration.operations
        if op.step is Step.UP
        and not isinstance(op, SetSetting)
        and not any(s.contains(op.span) or op.span.contains(s) for s in spans)
    }
    return len(outside)


# --------------------------------------------------------------------------- raw SQL moves


@dataclass(slots=True)
class _Move:
    """Blueprint text to remove and SQL statements to run after the `Schema::table` call."""

    closure_statement: Node
    """The Blueprint statement in the closure (`$table->index(...);`)."""
    removal: Edit | None
    """When only part of the statement goes (a modifier): that edit; else the statement goes."""
    sql: list[str]
    title: str


def _schema_statement(php: PhpFile, node: Node) -> Node | None:
    """The `Schema::table(...)` statement whose closure holds `node`."""
    current: Node | None = node.parent
    while current is not None:
        if current.type == "expression_statement" and current.parent is not None:
            inner = named_children(current)
            if inner and inner[0].type in CALLS:
                chain = chain_of(php.source, inner[0])
                if chain is not None and php.source.node_text(chain.root).endswith("Schema"):
                    return current
        current = current.parent
    return None


def _apply_move(php: PhpFile, migration: Migration, op: Operation, move: _Move) -> Fix | None:
    schema = _schema_statement(php, move.closure_statement)
    if schema is None:
        return None
    edits: list[Edit] = []
    closure_statements = _closure_statements(schema)
    lone = move.removal is None and len(closure_statements) == 1
    indent = indentation(php.text, php.source.span(schema).start)
    calls = [f"DB::statement({php_string(sql)});" for sql in move.sql]
    if lone:
        span = php.source.span(schema)
        edits.append(Edit(span, (php.nl + indent).join(calls)))
    else:
        edits.append(move.removal or php.remove_statement(move.closure_statement))
        end = php.source.span(schema).end
        text = "".join(f"{php.nl}{indent}{call}" for call in calls)
        edits.append(insert(end, text))
    transaction = php.without_transaction()
    if transaction is None:
        return None
    edits.extend(transaction)
    edits.extend(php.ensure_use(DB_IMPORT))
    others = _others(migration, [php.source.span(move.closure_statement)])
    applicability = Applicability.SAFE if others == 0 else Applicability.UNSAFE
    return Fix(title=move.title, edits=edits, applicability=applicability)


def _closure_statements(schema: Node) -> list[Node]:
    for node in _walk(schema):
        if node.type in ("anonymous_function", "arrow_function"):
            body = node.child_by_field_name("body")
            if body is not None and body.type == "compound_statement":
                return named_children(body)
            return [body] if body is not None else []
    return []


def _walk(node: Node) -> list[Node]:
    found: list[Node] = []
    stack = [node]
    while stack:
        current = stack.pop()
        found.append(current)
        stack.extend(reversed(current.named_children))
    return found


def _chain_removal(php: PhpFile, from_link: Node) -> Edit:
    """Remove `->link(...)...` from a chain: from the `->` before `from_link` to the end of the
    whole chain (the links that follow belong to it, e.g. `->cascadeOnDelete()`)."""
    call = from_link.parent
    assert call is not None
    outer = call
    while outer.parent is not None and outer.parent.type in CALLS:
        outer = outer.parent
    arrow = from_link.prev_sibling
    start = php.source.span(arrow if arrow is not None else from_link).start
    inner = call.child_by_field_name("object")
    if inner is not None:
        start = php.source.span(inner).end
    return Edit(Span(start, php.source.span(outer).end), "")


def _modifier_removal(php: PhpFile, name_node: Node) -> Edit:
    """Remove one `->modifier(...)` from the middle or end of a chain."""
    call = name_node.parent
    assert call is not None
    inner = call.child_by_field_name("object")
    start = php.source.span(inner).end if inner is not None else php.source.span(name_node).start
    return Edit(Span(start, php.source.span(call).end), "")


def _index_sql(op: CreateIndex, unique: bool = False) -> str:
    kind = "UNIQUE INDEX" if unique or op.unique else "INDEX"
    columns = ", ".join(op.columns)
    return f"CREATE {kind} CONCURRENTLY IF NOT EXISTS {op.name} ON {op.table} ({columns})"


# --------------------------------------------------------------------------- use-concurrently


def use_concurrently(finding: Finding, migration: Migration) -> Fix | None:
    op = operation_for(finding, migration, CreateIndex)
    if op is None or op.concurrently:
        return None
    php = PhpFile(migration)
    if op.is_sql:
        return _sql_concurrently(php, migration, op)
    method = op.origin.removeprefix("$table->")
    if method not in ("index",) or not op.name or not op.columns:
        return display(
            "Create the index with DB::statement('CREATE INDEX CONCURRENTLY ...') "
            "in a migration with public $withinTransaction = false;"
        )
    keyword = php.node_at(op.spans["keyword"])
    if keyword is None:
        return None
    node = php.node_at(op.span)
    statement = php.statement_of(node) if node is not None else None
    if statement is None:
        return None
    call = keyword.parent
    receiver = call.child_by_field_name("object") if call is not None else None
    # `$table->string('x')->index()`: only the modifier goes; `$table->index(...)`: the statement
    removal = (
        _modifier_removal(php, keyword) if receiver is not None and receiver.type in CALLS else None
    )
    move = _Move(
        closure_statement=statement,
        removal=removal,
        sql=[_index_sql(op)],
        title="Create the index concurrently with DB::statement and $withinTransaction = false",
    )
    return _apply_move(php, migration, op, move)


def _sql_concurrently(php: PhpFile, migration: Migration, op: CreateIndex) -> Fix | None:
    execute = _execute_of(migration, op)
    if execute is None:
        return None
    if _statements_in(migration, execute) > 1:
        return display(
            "Run this statement in a DB::statement of its own, in a migration with "
            "public $withinTransaction = false;"
        )
    edit = concurrently_edit(migration, op)
    if isinstance(edit, str):
        return display(edit)
    if not _inside_literal(php, execute, edit.span.start):
        return None
    edits = [edit]
    transaction = php.without_transaction()
    if transaction is None:
        return None
    edits.extend(transaction)
    others = _others(migration, [execute.span])
    return Fix(
        title="Create the index concurrently (add CONCURRENTLY) with $withinTransaction = false",
        edits=edits,
        applicability=Applicability.SAFE if others == 0 else Applicability.UNSAFE,
    )


def _execute_of(migration: Migration, op: Operation) -> ExecuteSQL | None:
    return next(
        (
            e
            for e in migration.operations
            if isinstance(e, ExecuteSQL) and e.span.contains(op.span) and e.span != op.span
        ),
        None,
    )


def _statements_in(migration: Migration, execute: Operation) -> int:
    return len(
        {
            (o.span.start, o.span.end)
            for o in migration.operations
            if o.is_sql and execute.span.contains(o.span) and o.step is execute.step
        }
    )


def _inside_literal(php: PhpFile, execute: ExecuteSQL, offset: int) -> bool:
    """Text inserted at `offset` becomes part of the string's value (not an escape, not an
    interpolation)."""
    string = execute.spans.get("sql")
    node = php.node_at(string) if string is not None else None
    while node is not None and node.type == "argument" and node.named_children:
        node = node.named_children[-1]
    if node is None:
        return False
    found = string_value(php.source, node)
    if found is None:
        return False
    positions = found.positions
    for index in range(1, len(positions) - 1):
        if positions[index] == offset and positions[index - 1] == offset - 1:
            return php.text[offset - 1] != "\\"
    return False


# --------------------------------------------------------------------------- transaction


def run_outside_transaction(finding: Finding, migration: Migration) -> Fix | None:
    op: Operation | None = operation_for(finding, migration, CreateIndex) or operation_for(
        finding, migration, DropIndex
    )
    if op is None or not op.in_transaction:
        return None
    php = PhpFile(migration)
    execute = _execute_of(migration, op)
    if execute is not None and _statements_in(migration, execute) > 1:
        return display(
            "Run this statement in a DB::statement of its own, in a migration with "
            "public $withinTransaction = false;"
        )
    edits = php.without_transaction()
    if not edits:
        return None
    others = _others(migration, [execute.span if execute is not None else op.span])
    return Fix(
        title="Run the migration outside a transaction ($withinTransaction = false)",
        edits=edits,
        applicability=Applicability.SAFE if others == 0 else Applicability.UNSAFE,
    )


# --------------------------------------------------------------------------- NOT VALID


def split_not_valid(finding: Finding, migration: Migration) -> Fix | None:
    op = operation_for(finding, migration, AddConstraint)
    if op is None or op.kind != "foreign_key" or op.is_sql:
        return None
    if not op.name or not op.columns or not op.references:
        return None
    php = PhpFile(migration)
    keyword = php.node_at(op.spans["keyword"])
    node = php.node_at(op.span)
    statement = php.statement_of(node) if node is not None else None
    if keyword is None or node is None or statement is None:
        return None
    chain = chain_of(php.source, node)
    if chain is None:
        return None
    referenced_column = "id"
    actions: list[str] = []
    for link in chain.links:
        if link.name in ("references",) and link.args:
            value = string_value(php.source, link.args[0])
            referenced_column = value.value if value is not None else referenced_column
        elif link.name == "constrained":
            column = link.arg(1, "column")
            value = string_value(php.source, column) if column is not None else None
            referenced_column = value.value if value is not None else referenced_column
        elif link.name in _FK_ACTIONS:
            actions.append(_FK_ACTIONS[link.name])
        elif link.name in ("onDelete", "onUpdate") and link.args:
            value = string_value(php.source, link.args[0])
            if value is None:
                return None
            verb = "ON DELETE" if link.name == "onDelete" else "ON UPDATE"
            actions.append(f"{verb} {value.value.upper()}")
    columns = ", ".join(op.columns)
    tail = "".join(f" {a}" for a in actions)
    sql = [
        f"ALTER TABLE {op.table} ADD CONSTRAINT {op.name} FOREIGN KEY ({columns}) "
        f"REFERENCES {op.references} ({referenced_column}){tail} NOT VALID",
        f"ALTER TABLE {op.table} VALIDATE CONSTRAINT {op.name}",
    ]
    first = chain.links[0].name
    removal = None if first == "foreign" else _chain_removal(php, keyword)
    move = _Move(
        closure_statement=statement,
        removal=removal,
        sql=sql,
        title="Add the foreign key NOT VALID, then VALIDATE it outside a transaction",
    )
    fix = _apply_move(php, migration, op, move)
    if fix is not None and removal is not None:
        fix.applicability = Applicability.UNSAFE  # the column's ADD no longer rolls back with it
    return fix


def unique_using_index(finding: Finding, migration: Migration) -> Fix | None:
    """`$table->unique(...)` / `->unique()` → unique index built concurrently, then the
    constraint USING INDEX."""
    op: AddConstraint | AddColumn | None = operation_for(finding, migration, AddConstraint)
    php = PhpFile(migration)
    if isinstance(op, AddConstraint):
        if op.kind != "unique" or op.is_sql or not op.name or not op.columns:
            return None
        keyword = php.node_at(op.spans["keyword"])
        name, table, columns = op.name, op.table, op.columns
        removal = None
    else:
        op = operation_for(finding, migration, AddColumn)
        if op is None or not op.column.unique:
            return None
        chain_node = php.node_at(op.span)
        chain = chain_of(php.source, chain_node) if chain_node is not None else None
        link = chain.find("unique") if chain is not None else None
        if link is None or link.args:
            return None
        keyword = link.name_node
        table, columns = op.table, [op.column.name]
        from migration_lsp.parse.laravel_blueprint import index_name

        name = index_name(table, columns, "unique")
        removal = _modifier_removal(php, keyword)
    node = php.node_at(op.span)
    statement = php.statement_of(node) if node is not None else None
    if keyword is None or statement is None:
        return None
    index = CreateIndex(span=op.span, name=name, table=table, columns=columns, unique=True)
    sql = [
        _index_sql(index),
        f"ALTER TABLE {table} ADD CONSTRAINT {name} UNIQUE USING INDEX {name}",
    ]
    move = _Move(
        closure_statement=statement,
        removal=removal,
        sql=sql,
        title="Build the unique index concurrently, then add the constraint USING INDEX",
    )
    fix = _apply_move(php, migration, op, move)
    if fix is not None and removal is not None:
        fix.applicability = Applicability.UNSAFE
    return fix


# --------------------------------------------------------------------------- down()


@dataclass(slots=True)
class _Inverse:
    table: str | None
    """Blueprint lines go in a `Schema::table(table, ...)` closure; None: a statement."""
    line: str
    stop: str | None = None
    """What cannot be undone (the line is then a comment and a throw)."""


def _inverse(migration: Migration, op: Operation, created: set[str]) -> _Inverse | None:
    """How `down()` undoes one operation of `up()` (None: nothing to undo)."""
    table = getattr(op, "table", None)
    if isinstance(table, str) and table.lower() in created and not isinstance(op, CreateTable):
        return None  # dropping the table undoes it
    if isinstance(op, CreateTable):
        return _Inverse(None, f"Schema::dropIfExists({php_string(op.table)});")
    if isinstance(op, AddColumn):
        name = php_string(op.column.name)
        if op.column.references is not None:
            return _Inverse(op.table, f"$table->dropConstrainedForeignId({name});")
        return _Inverse(op.table, f"$table->dropColumn({name});")
    if isinstance(op, CreateIndex) and op.name:
        if op.is_sql:
            how = "CONCURRENTLY IF EXISTS" if op.concurrently else "IF EXISTS"
            return _Inverse(None, f"DB::statement({php_string(f'DROP INDEX {how} {op.name}')});")
        if op.implicit:
            return None
        return _Inverse(op.table, f"$table->dropIndex({php_string(op.name)});")
    if isinstance(op, AddConstraint) and op.name:
        if op.is_sql:
            sql = f"ALTER TABLE {op.table} DROP CONSTRAINT IF EXISTS {op.name}"
            return _Inverse(None, f"DB::statement({php_string(sql)});")
        if _column_added_with(migration, op):
            return None  # dropConstrainedForeignId drops both
        method = {
            "foreign_key": "dropForeign",
            "unique": "dropUnique",
            "primary_key": "dropPrimary",
        }
        if op.kind not in method:
            return _Inverse(None, "", stop=f"drop constraint {op.name}")
        return _Inverse(op.table, f"$table->{method[op.kind]}({php_string(op.name)});")
    if isinstance(op, RenameColumn):
        args = f"{php_string(op.new_name)}, {php_string(op.column)}"
        return _Inverse(op.table, f"$table->renameColumn({args});")
    if isinstance(op, RenameTable):
        return _Inverse(None, f"Schema::rename({php_string(op.new_name)}, {php_string(op.table)});")
    if isinstance(op, AlterColumn):
        return _Inverse(
            None,
            "",
            stop=f"restate the previous definition of {op.table}.{op.column} with ->change()",
        )
    if isinstance(op, SetSetting | TransactionControl):
        return None
    if isinstance(op, ExecuteSQL):
        if op.sql is None:
            return _Inverse(None, "", stop="undo the SQL this migration runs")
        return None  # the statements inside it are inverted one by one
    if isinstance(op, DataChange):
        return _Inverse(None, "", stop=f"restore the rows changed by this {op.kind}")
    if isinstance(op, OtherStatement) and not op.is_ddl:
        return None
    what = type(op).__name__
    return _Inverse(None, "", stop=f"undo {_describe(op, what)}")


def _describe(op: Operation, what: str) -> str:
    words = {
        "DropColumn": "a dropped column (its definition and data)",
        "DropTable": "a dropped table (its definition and rows)",
        "DropIndex": "a dropped index",
        "DropConstraint": "a dropped constraint",
        "Truncate": "a TRUNCATE",
    }
    if isinstance(op, OtherStatement):
        return op.keyword
    return words.get(what, what)


def _column_added_with(migration: Migration, op: AddConstraint) -> bool:
    return any(
        isinstance(other, AddColumn) and other.span == op.span and other.step is op.step
        for other in migration.operations
    )


def _render(inverses: list[_Inverse], indent: str, unit: str, nl: str) -> tuple[str, bool]:
    """The PHP lines of a `down()` body (without trailing newline), and whether it uses DB."""
    lines: list[str] = []
    uses_db = False
    stops = [i.stop for i in inverses if i.stop]
    index = 0
    while index < len(inverses):
        item = inverses[index]
        if item.stop:
            index += 1
            continue
        if item.table is None:
            lines.append(indent + item.line)
            uses_db = uses_db or item.line.startswith("DB::")
            index += 1
            continue
        group = [item]
        index += 1
        while index < len(inverses) and inverses[index].table == item.table:
            if inverses[index].stop is None:
                group.append(inverses[index])
            index += 1
        lines.append(
            f"{indent}Schema::table({php_string(item.table)}, function (Blueprint $table) {{"
        )
        lines.extend(f"{indent}{unit}{g.line}" for g in group)
        lines.append(f"{indent}}});")
    if stops:
        if lines:
            lines.append("")
        lines.append(f"{indent}// Cannot be undone automatically: {'; '.join(stops)}.")
        lines.append(
            f"{indent}throw new \\RuntimeException("
            f"{php_string('This migration cannot be rolled back automatically.')});"
        )
    return nl.join(lines), uses_db


def _needs_blueprint(inverses: list[_Inverse]) -> bool:
    return any(i.table is not None and not i.stop for i in inverses)


def add_downgrade(finding: Finding, migration: Migration) -> Fix | None:
    """missing-downgrade / empty-downgrade: a whole `down()` body."""
    php = PhpFile(migration)
    up = php.method("up")
    if up is None:
        return None
    ops = [op for op in migration.operations if op.step is Step.UP]
    inverses = _inverses(migration, ops)
    if not inverses:
        return None
    unit = php.unit()
    member_indent = indentation(php.text, php.source.span(up).start)
    body_indent = member_indent + unit
    lines, uses_db = _render(inverses, body_indent, unit, php.nl)
    edits: list[Edit] = []
    down = php.method("down")
    if down is None:
        returns = up.child_by_field_name("return_type")
        signature = ": void" if returns is not None else ""
        nl = php.nl
        text = (
            f"{nl}{nl}{member_indent}/**{nl}{member_indent} * Reverse the migrations.{nl}"
            f"{member_indent} */{nl}{member_indent}public function down(){signature}{nl}"
            f"{member_indent}{{{nl}{lines}{nl}{member_indent}}}"
        )
        edits.append(insert(php.source.span(up).end, text))
        title = "Add down() undoing up()"
    else:
        block = down.child_by_field_name("body")
        if block is None:
            return None
        span = php.source.span(block)
        edits.append(
            Edit(Span(span.start, span.end), f"{{{php.nl}{lines}{php.nl}{member_indent}}}")
        )
        title = "Fill down() with the inverse of up()"
    edits.extend(_imports(php, inverses, uses_db))
    return Fix(title=title, edits=edits, applicability=Applicability.UNSAFE)


def complete_downgrade(finding: Finding, migration: Migration) -> Fix | None:
    """incomplete-downgrade: the missing inverses, at the start of `down()` (they undo the last
    steps of `up()` first)."""
    php = PhpFile(migration)
    down = php.method("down")
    block = down.child_by_field_name("body") if down is not None else None
    if block is None:
        return None
    gaps = [op for op, _ in not_undone(migration)]
    if not gaps:
        return None
    inverses = _inverses(migration, gaps)
    if not inverses:
        return None
    statements = named_children(block)
    if not statements:
        return None
    first = statements[0]
    indent = indentation(php.text, php.source.span(first).start)
    unit = php.unit()
    lines, uses_db = _render(inverses, indent, unit, php.nl)
    at = line_start(php.text, php.source.span(first).start)
    edits = [insert(at, f"{lines}{php.nl}{php.nl}")]
    edits.extend(_imports(php, inverses, uses_db))
    return Fix(
        title="Complete down() with the missing inverse operations",
        edits=edits,
        applicability=Applicability.UNSAFE,
    )


def _inverses(migration: Migration, ops: list[Operation]) -> list[_Inverse]:
    created = {op.table.lower() for op in ops if isinstance(op, CreateTable)}
    found = []
    for op in reversed(ops):
        inverse = _inverse(migration, op, created)
        if inverse is not None:
            found.append(inverse)
    return found


def _imports(php: PhpFile, inverses: list[_Inverse], uses_db: bool) -> list[Edit]:
    edits: list[Edit] = []
    wanted = []
    if _needs_blueprint(inverses):
        wanted.append(BLUEPRINT_IMPORT)
    if uses_db:
        wanted.append(DB_IMPORT)
    if any(i.line.startswith("Schema::") for i in inverses) or _needs_blueprint(inverses):
        wanted.append(SCHEMA_IMPORT)
    for name in wanted:
        edits.extend(php.ensure_use(name))
    return edits


LARAVEL_BUILDERS: dict[str, Builder] = {
    "missing-downgrade": add_downgrade,
    "empty-downgrade": add_downgrade,
    "incomplete-downgrade": complete_downgrade,
    "non-concurrent-index": use_concurrently,
    "concurrent-index-in-transaction": run_outside_transaction,
    "foreign-key-without-not-valid": split_not_valid,
    "unique-constraint-without-index": unique_using_index,
}
