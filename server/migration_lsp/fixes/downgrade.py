"""add-downgrade (missing-downgrade, empty-downgrade) for Alembic: a `downgrade()` whose body
reverses the upgrade, operation by operation, in reverse order.

The inverse of each `op.*` call is written from the call's own source text (names, quote style,
`op.f(...)`, types), so it reads like the upgrade. `batch_alter_table` blocks get a batch block
in the downgrade, `autocommit_block()` blocks an autocommit block; a concurrent index is dropped
concurrently, in an autocommit block. What cannot be reversed from the file alone (a dropped
column or table, SQL run with `op.execute`, rows inserted, an `alter_column` without
`existing_type`) becomes a TODO comment saying what is missing and
`raise NotImplementedError(...)`: never a silent `pass`. The fix is UNSAFE: review it.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Mapping
from dataclasses import dataclass, field

from migration_lsp.findings import Applicability, Edit, Finding, Fix
from migration_lsp.model import Migration
from migration_lsp.parse.python import argument, call_name, is_empty_body, keyword, literal
from migration_lsp.text import Span

from .pycode_reverse import Reverse
from .python import PyFile, is_docstring
from .text import (
    first_line,
    indentation,
    insert,
    is_blank,
    line_end,
    line_start,
    next_line_start,
    only_space_before,
    py_string,
    replace,
    wrap_comment,
)

AUTOCOMMIT = "with op.get_context().autocommit_block():"
COMMENT_WIDTH = 92
MAX_LINE = 99
EXECUTE_METHODS = frozenset({"execute", "exec_driver_sql"})
HARMLESS_CALLS = frozenset(
    {
        "table",
        "column",
        "Table",
        "Column",
        "MetaData",
        "get_bind",
        "get_context",
        "inspect",
        "text",
        "String",
        "Integer",
        "f",
    }
)
HANDLED = frozenset(
    {
        # reversed
        "create_table",
        "add_column",
        "create_index",
        "create_foreign_key",
        "create_unique_constraint",
        "create_check_constraint",
        "create_primary_key",
        "create_exclude_constraint",
        "rename_table",
        "alter_column",
        # explicit stops saying what is missing
        "drop_column",
        "drop_table",
        "drop_index",
        "drop_constraint",
        "bulk_insert",
    }
)
"""`op.*` / `batch_op.*` methods with a handler `_<method>` below; others get a generic stop."""
CONSTRAINT_TYPES = {
    "create_foreign_key": "foreignkey",
    "create_unique_constraint": "unique",
    "create_check_constraint": "check",
    "create_primary_key": "primary",
    "create_exclude_constraint": None,
}


# --------------------------------------------------------------------------- generated code


@dataclass(slots=True)
class Line:
    """One call: `function(arg, ...)`, split one argument per line when too long."""

    function: str
    args: list[str]
    note: str | None = None

    def lines(self, indent: str, unit: str) -> list[str]:
        flat = f"{indent}{self.function}({', '.join(self.args)})"
        if len(flat.expandtabs(4)) <= MAX_LINE or len(self.args) < 2:
            return [flat]
        inner = indent + unit
        return [
            f"{indent}{self.function}(",
            *(f"{inner}{arg}," for arg in self.args),
            f"{indent})",
        ]


@dataclass(slots=True)
class Block:
    header: str
    body: list[Item] = field(default_factory=list)


@dataclass(slots=True)
class Stop:
    comment: str
    message: str


Item = Line | Block | Stop


def _merge_blocks(items: list[Item]) -> list[Item]:
    """Adjacent blocks with the same header (two autocommit blocks) become one."""
    merged: list[Item] = []
    for item in items:
        previous = merged[-1] if merged else None
        if (
            isinstance(item, Block)
            and isinstance(previous, Block)
            and previous.header == item.header
        ):
            previous.body.extend(item.body)
            continue
        merged.append(item)
    return merged


def render(items: list[Item], indent: str, unit: str, quote: str) -> list[str]:
    lines: list[str] = []
    width = COMMENT_WIDTH - len(indent.expandtabs(4)) - 2
    for item in items:
        if isinstance(item, Line):
            if item.note:
                lines.extend(f"{indent}# {c}" for c in wrap_comment(item.note, width))
            lines.extend(item.lines(indent, unit))
        elif isinstance(item, Block):
            lines.append(indent + item.header)
            lines.extend(render(item.body, indent + unit, unit, quote))
        else:
            lines.extend(f"{indent}# {c}" for c in wrap_comment("TODO: " + item.comment, width))
            lines.append(f"{indent}raise NotImplementedError({py_string(item.message, quote)})")
    return lines


# --------------------------------------------------------------------------- inverses


class _Inverter:
    """Reverses the statements of one upgrade function."""

    def __init__(self, pyfile: PyFile, quote: str, dialect: str | None = None) -> None:
        self.pyfile = pyfile
        self.quote = quote
        self.dialect = dialect
        self.batch_table: ast.expr | None = None
        """The table of the batch block the current call is in."""
        self.transient: set[str] = set()
        """Constraints the upgrade adds and drops again (the NOT NULL via CHECK pattern):
        neither step needs a reverse."""
        self.owned_indexes: set[str] = set()
        """Indexes that an `ADD CONSTRAINT ... USING INDEX` hands to a constraint: dropping the
        constraint drops them, so their own drop must tolerate their absence."""

    def src(self, node: ast.AST) -> str:
        return self.pyfile.segment(node)

    def name(self, node: ast.expr | None) -> str:
        """How to call a table/column/index in a comment: its value, else its source."""
        if node is None:
            return "?"
        value = literal(node)
        return value if isinstance(value, str) else self.src(node)

    def where(self, table: ast.expr | None, column: ast.expr | None) -> str:
        """`users.email` (just `email` inside a batch block, which has no table argument)."""
        table = table if table is not None else self.batch_table
        if table is None:
            return self.name(column)
        return f"{self.name(table)}.{self.name(column)}"

    def q(self, value: str) -> str:
        return py_string(value, self.quote)

    def body(
        self, stmts: list[ast.stmt], batches: Mapping[str, ast.expr | None], autocommit: bool
    ) -> list[Item]:
        items: list[Item] = []
        for stmt in stmts:
            item = self.statement(stmt, batches, autocommit)
            if item is not None:
                items.append(item)
        items.reverse()
        return _merge_blocks(items)

    def statement(
        self, stmt: ast.stmt, batches: Mapping[str, ast.expr | None], autocommit: bool
    ) -> Item | None:
        if isinstance(stmt, ast.Pass):
            return None
        if isinstance(stmt, ast.Expr) and isinstance(stmt.value, ast.Constant):
            return None  # docstring, `...`
        if isinstance(stmt, ast.With):
            return self.with_block(stmt, batches, autocommit)
        if isinstance(stmt, ast.Expr) and isinstance(stmt.value, ast.Call):
            return self.call(stmt.value, stmt, batches, autocommit)
        if isinstance(stmt, ast.Assign | ast.AnnAssign) and stmt.value is not None:
            value = stmt.value
            if isinstance(value, ast.Call) and call_name(value).rpartition(".")[2] in (
                "create_table",
            ):
                return self.call(value, stmt, batches, autocommit)
            if _harmless(value):
                return None
        return self.unknown(stmt)

    def with_block(
        self, stmt: ast.With, batches: Mapping[str, ast.expr | None], autocommit: bool
    ) -> Item | None:
        if len(stmt.items) != 1:
            return self.unknown(stmt)
        item = stmt.items[0]
        context = item.context_expr
        name = call_name(context)
        header = "with " + self.src(context)
        if item.optional_vars is not None:
            header += " as " + self.src(item.optional_vars)
        header += ":"
        if name.endswith("autocommit_block"):
            body = self.body(stmt.body, batches, True)
        elif name.endswith("batch_alter_table") and isinstance(item.optional_vars, ast.Name):
            table = argument(context, 0, "table_name") if isinstance(context, ast.Call) else None
            inner = {**batches, item.optional_vars.id: table}
            body = self.body(stmt.body, inner, autocommit)
        else:
            return self.unknown(stmt)
        return Block(header, body) if body else None

    def unknown(self, stmt: ast.stmt) -> Stop:
        return Stop(
            f"reverse `{first_line(self.src(stmt))}` by hand (no automatic inverse).",
            "reverse this step of the upgrade by hand",
        )

    def call(
        self,
        call: ast.Call,
        stmt: ast.stmt,
        batches: Mapping[str, ast.expr | None],
        autocommit: bool,
    ) -> Item | None:
        receiver, _, method = call_name(call).rpartition(".")
        if method in EXECUTE_METHODS:
            return self.execute(call, stmt)
        batch = receiver in batches
        self.batch_table = batches.get(receiver)
        if receiver != "op" and not batch:
            return self.unknown(stmt)
        if method not in HANDLED:
            return self.unknown(stmt)
        item: Item | None = getattr(self, "_" + method)(call, receiver, batch, autocommit)
        return item

    # ------------------------------------------------------------------ helpers

    def arg(self, call: ast.Call, index: int, name: str, batch: bool) -> ast.expr | None:
        """Positional `index` of the `op.*` form (batch methods have no table: one less)."""
        position = index - 1 if batch else index
        if position < 0:
            return keyword(call, name)
        return argument(call, position, name)

    def passthrough(
        self, call: ast.Call, *names: str, rename: dict[str, str] | None = None
    ) -> list[str]:
        out: list[str] = []
        for name in names:
            node = keyword(call, name)
            if node is not None:
                out.append(f"{(rename or {}).get(name, name)}={self.src(node)}")
        return out

    def if_exists(self, call: ast.Call) -> list[str]:
        return ["if_exists=True"] if literal(keyword(call, "if_not_exists")) is True else []

    @staticmethod
    def line(receiver: str, method: str, args: list[str], note: str | None = None) -> Line:
        return Line(f"{receiver}.{method}", args, note)

    # ------------------------------------------------------------------ invertible

    def _create_table(self, call: ast.Call, r: str, batch: bool, autocommit: bool) -> Item:
        table = argument(call, 0, "table_name")
        if table is None:
            return Stop("drop the table created by the upgrade.", "drop the new table")
        args = [self.src(table), *self.passthrough(call, "schema"), *self.if_exists(call)]
        return self.line(r, "drop_table", args)

    def _add_column(self, call: ast.Call, r: str, batch: bool, autocommit: bool) -> Item:
        table = None if batch else self.arg(call, 0, "table_name", batch)
        column = self.arg(call, 1, "column", batch)
        name = argument(column, 0, "name") if isinstance(column, ast.Call) else None
        if name is None or not isinstance(literal(name), str):
            return Stop(
                "drop the column added by the upgrade (its name is not written literally).",
                "drop the column added by the upgrade",
            )
        args = [self.src(name)] if batch else [self.src(table) if table else "?", self.src(name)]
        args += self.passthrough(call, "schema") + self.if_exists(call)
        return self.line(r, "drop_column", args)

    def _create_index(self, call: ast.Call, r: str, batch: bool, autocommit: bool) -> Item:
        name = argument(call, 0, "index_name")
        table = None if batch else self.arg(call, 1, "table_name", batch)
        if name is None or literal(name) is None:
            table = table if table is not None else self.batch_table
            where = f" on {self.name(table)}" if table is not None else ""
            return Stop(
                f"the upgrade created an index without a name{where}: drop it by the name "
                "the database gave it.",
                "drop the unnamed index created by the upgrade",
            )
        concurrent = literal(keyword(call, "postgresql_concurrently")) is True
        args = [self.src(name)]
        if table is not None:
            args.append(f"table_name={self.src(table)}")
        args += self.passthrough(call, "schema")
        if concurrent:
            args.append("postgresql_concurrently=True")
        args += self.if_exists(call)
        if literal(name) in self.owned_indexes and "if_exists=True" not in args:
            args.append("if_exists=True")  # dropped with the constraint that took it over
        line = self.line(r, "drop_index", args)
        if concurrent and not batch and not autocommit:
            return Block(AUTOCOMMIT, [line])
        return line

    def _constraint(self, call: ast.Call, r: str, batch: bool, method: str) -> Item:
        name = argument(call, 0, "constraint_name")
        source = "source_table" if method == "create_foreign_key" else "table_name"
        table = None if batch else self.arg(call, 1, source, batch)
        if name is None or literal(name) is None:
            table = table if table is not None else self.batch_table
            where = f" on {self.name(table)}" if table is not None else ""
            return Stop(
                f"the upgrade created a constraint without a name{where}: drop it by the "
                "name the database gave it.",
                "drop the unnamed constraint created by the upgrade",
            )
        args = [self.src(name)]
        if table is not None:
            args.append(self.src(table))
        kind = CONSTRAINT_TYPES[method]
        if kind is not None:
            args.append(f"type_={self.q(kind)}")
        if method == "create_foreign_key":
            args += self.passthrough(call, "source_schema", rename={"source_schema": "schema"})
        else:
            args += self.passthrough(call, "schema")
        return self.line(r, "drop_constraint", args)

    def _create_foreign_key(self, call: ast.Call, r: str, batch: bool, autocommit: bool) -> Item:
        return self._constraint(call, r, batch, "create_foreign_key")

    def _create_unique_constraint(
        self, call: ast.Call, r: str, batch: bool, autocommit: bool
    ) -> Item:
        return self._constraint(call, r, batch, "create_unique_constraint")

    def _create_check_constraint(
        self, call: ast.Call, r: str, batch: bool, autocommit: bool
    ) -> Item:
        return self._constraint(call, r, batch, "create_check_constraint")

    def _create_primary_key(self, call: ast.Call, r: str, batch: bool, autocommit: bool) -> Item:
        return self._constraint(call, r, batch, "create_primary_key")

    def _create_exclude_constraint(
        self, call: ast.Call, r: str, batch: bool, autocommit: bool
    ) -> Item:
        return self._constraint(call, r, batch, "create_exclude_constraint")

    def _rename_table(self, call: ast.Call, r: str, batch: bool, autocommit: bool) -> Item:
        old = argument(call, 0, "old_table_name")
        new = argument(call, 1, "new_table_name")
        if old is None or new is None:
            return Stop("rename the table back.", "rename the table back")
        return self.line(
            r, "rename_table", [self.src(new), self.src(old), *self.passthrough(call, "schema")]
        )

    def _alter_column(self, call: ast.Call, r: str, batch: bool, autocommit: bool) -> Item | None:
        table = None if batch else self.arg(call, 0, "table_name", batch)
        column = self.arg(call, 1, "column_name", batch)
        if column is None:
            return Stop("undo the column change of the upgrade.", "undo the column change")
        given = {kw.arg: kw.value for kw in call.keywords if kw.arg}
        where = self.where(table, column)
        changes: list[str] = []
        missing: list[str] = []
        new_name = given.get("new_column_name")
        if new_name is not None:
            changes.append(f"new_column_name={self.src(column)}")
        if "type_" in given:
            if "existing_type" in given:
                changes.append(f"type_={self.src(given['existing_type'])}")
            else:
                missing.append("its previous type (existing_type= is not given)")
        if "nullable" in given:
            nullable = literal(given["nullable"])
            if "existing_nullable" in given:
                changes.append(f"nullable={self.src(given['existing_nullable'])}")
            elif isinstance(nullable, bool):
                # the upgrade changed it, so it was the opposite before (as autogenerate writes)
                changes.append(f"nullable={not nullable}")
            else:
                missing.append("whether it was nullable")
        for part, label in (("server_default", "server default"), ("comment", "comment")):
            if part in given:
                if f"existing_{part}" in given:
                    changes.append(f"{part}={self.src(given[f'existing_{part}'])}")
                else:
                    missing.append(f"its previous {label} (existing_{part}= is not given)")
        if missing:
            return Stop(
                f"the upgrade changed column {where} but the migration does not say "
                + " nor ".join(missing)
                + ": restore it by hand.",
                f"restore the previous definition of column {where}",
            )
        if not changes:
            return None
        existing: list[str] = []
        for part in ("type_", "nullable", "server_default", "comment"):
            current = given.get(part, given.get(f"existing_{part.rstrip('_')}"))
            if current is not None:
                existing.append(f"existing_{part.rstrip('_')}={self.src(current)}")
        target = new_name if new_name is not None else column
        args = [] if table is None else [self.src(table)]
        args += [self.src(target), *changes, *existing]
        args += self.passthrough(call, "schema", "existing_autoincrement")
        note = None
        if "postgresql_using" in given:
            note = (
                "the upgrade converted values with postgresql_using=; converting them back may "
                "need a postgresql_using= too."
            )
        return self.line(r, "alter_column", args, note)

    # ------------------------------------------------------------------ not invertible

    def _drop_column(self, call: ast.Call, r: str, batch: bool, autocommit: bool) -> Item:
        table = None if batch else self.arg(call, 0, "table_name", batch)
        column = self.arg(call, 1, "column_name", batch)
        where = self.where(table, column)
        return Stop(
            f"the upgrade dropped column {where}: re-create it with its original type "
            "(add_column) and restore its data.",
            f"re-create column {where}, dropped by the upgrade",
        )

    def _drop_table(self, call: ast.Call, r: str, batch: bool, autocommit: bool) -> Item:
        table = self.name(argument(call, 0, "table_name"))
        return Stop(
            f"the upgrade dropped table {table}: re-create it with its columns (create_table) "
            "and restore its rows.",
            f"re-create table {table}, dropped by the upgrade",
        )

    def _drop_index(self, call: ast.Call, r: str, batch: bool, autocommit: bool) -> Item:
        index = self.name(argument(call, 0, "index_name"))
        return Stop(
            f"the upgrade dropped index {index}: re-create it with create_index (its columns "
            "are not in this migration).",
            f"re-create index {index}, dropped by the upgrade",
        )

    def execute(self, call: ast.Call, stmt: ast.stmt) -> Item | None:
        """SQL the upgrade runs: reversed from its text where every statement has an inverse
        (nothing to undo for SET and VALIDATE), else a stop."""
        from .pycode_reverse import reverse_of

        sql = _static_sql(call.args[0]) if call.args else None
        reverse = reverse_of([sql], self.dialect) if sql is not None else None
        if reverse is None and sql is not None:
            reverse = _reverse_from_model(sql, self.dialect)
        if sql is None or reverse is None:
            return Stop(
                f"the upgrade runs `{first_line(self.src(stmt), 60)}`: write what reverses "
                "it (SQL or data changes cannot be reversed automatically).",
                "reverse the SQL run by the upgrade",
            )
        statements = [s for s in reverse.statements if _constraint_named(s) not in self.transient]
        if not statements:
            return None
        text = ";\n".join(statements) if len(statements) > 1 else statements[0]
        return self.line("op", "execute", [self.q(text)])

    def _drop_constraint(
        self, call: ast.Call, r: str, batch: bool, autocommit: bool
    ) -> Item | None:
        if literal(argument(call, 0, "constraint_name")) in self.transient:
            return None  # added earlier in the same upgrade: nothing to re-create
        name = self.name(argument(call, 0, "constraint_name"))
        return Stop(
            f"the upgrade dropped constraint {name}: re-create it (its definition is not in "
            "this migration).",
            f"re-create constraint {name}, dropped by the upgrade",
        )

    def _bulk_insert(self, call: ast.Call, r: str, batch: bool, autocommit: bool) -> Item:
        return Stop(
            "the upgrade inserted rows with bulk_insert: delete them (or decide they stay).",
            "delete the rows inserted by the upgrade",
        )


def _harmless(value: ast.expr) -> bool:
    """An assignment that prepares something (`sa.table(...)`, `op.get_bind()`) and changes
    nothing in the database by itself."""
    for node in ast.walk(value):
        if isinstance(node, ast.Call) and call_name(node).rpartition(".")[2] not in HARMLESS_CALLS:
            return False
    return True


# --------------------------------------------------------------------------- the fix


def _quote(pyfile: PyFile, function: ast.FunctionDef) -> str:
    """The quote character the upgrade's strings use (else the file's, else `"`)."""
    for scope in (function, pyfile.tree):
        if scope is None:
            continue
        for node in ast.walk(scope):
            if isinstance(node, ast.Constant) and isinstance(node.value, str):
                text = pyfile.segment(node).lstrip("rRbBuUfF")
                if text[:3] in ('"""', "'''"):
                    continue
                if text[:1] in ("'", '"'):
                    return text[0]
    return '"'


def _step_functions(
    tree: ast.Module,
) -> list[tuple[ast.FunctionDef, ast.FunctionDef | None]]:
    """(upgrade*, matching downgrade* or None) for every top-level upgrade function."""
    functions = {n.name: n for n in tree.body if isinstance(n, ast.FunctionDef)}
    pairs = []
    for name, function in functions.items():
        if name == "upgrade" or name.startswith("upgrade_"):
            pairs.append((function, functions.get("downgrade" + name[len("upgrade") :])))
    return pairs


def _signature(pyfile: PyFile, up: ast.FunctionDef) -> str:
    """`def downgrade...(...) -> None:` written like the upgrade's header."""
    text = pyfile.text
    start = pyfile.span(up).start
    open_paren = text.find("(", start)
    depth, close = 0, -1
    for i in range(open_paren, len(text)):
        if text[i] == "(":
            depth += 1
        elif text[i] == ")":
            depth -= 1
            if depth == 0:
                close = i
                break
    params = text[open_paren : close + 1] if open_paren != -1 and close != -1 else "()"
    returns = f" -> {pyfile.segment(up.returns)}" if up.returns is not None else ""
    return f"def downgrade{up.name[len('upgrade') :]}{params}{returns}:"


def _items(
    pyfile: PyFile, up: ast.FunctionDef, quote: str, dialect: str | None = None
) -> list[Item]:
    inverter = _Inverter(pyfile, quote, dialect)
    inverter.transient, inverter.owned_indexes = _constraint_lifecycle(up)
    items = inverter.body(up.body, {}, False)
    if not items:
        items = [
            Stop(
                "the upgrade has no operation this fix knows how to reverse: write the "
                "downgrade by hand.",
                "write the downgrade",
            )
        ]
    return items


def _function_end(pyfile: PyFile, function: ast.FunctionDef) -> int:
    """End of the function's last line, including comment lines indented inside it."""
    text = pyfile.text
    end = line_end(text, pyfile.span(function).end)
    outer = indentation(text, pyfile.span(function).start)
    offset = next_line_start(text, end)
    while offset < len(text):
        line_stop = line_end(text, offset)
        line = text[offset:line_stop]
        if not is_blank(line):
            inner = indentation(text, offset)
            if not line.lstrip().startswith("#") or len(inner) <= len(outer):
                break
            end = line_stop
        offset = next_line_start(text, offset)
    return end


def _insert_downgrade(pyfile: PyFile, up: ast.FunctionDef) -> Edit:
    text, nl = pyfile.text, pyfile.newline
    unit = pyfile.indent_unit(up)
    outer = indentation(text, pyfile.span(up).start)
    quote = _quote(pyfile, up)
    lines = [outer + _signature(pyfile, up)]
    lines += render(_items(pyfile, up, quote), outer + unit, unit, quote)
    end = _function_end(pyfile, up)
    new_text = nl * 3 + nl.join(lines)
    following = next_line_start(text, end)
    if following < len(text) and not is_blank(text[following : line_end(text, following)]):
        new_text += nl * 2
    return insert(end, new_text)


def _fill_downgrade(pyfile: PyFile, up: ast.FunctionDef, down: ast.FunctionDef) -> Edit:
    text, nl = pyfile.text, pyfile.newline
    unit = pyfile.indent_unit(up)
    quote = _quote(pyfile, up)
    items = _items(pyfile, up, quote)
    body = down.body
    docstring = body[0] if is_docstring(body[0]) else None
    rest = body[1:] if docstring is not None else body
    if docstring is not None and only_space_before(text, pyfile.span(docstring).start):
        indent = indentation(text, pyfile.span(docstring).start)
    elif rest and only_space_before(text, pyfile.span(rest[0]).start):
        indent = indentation(text, pyfile.span(rest[0]).start)
    else:
        indent = indentation(text, pyfile.span(down).start) + unit
    lines = render(items, indent, unit, quote)
    if rest and only_space_before(text, pyfile.span(rest[0]).start):
        span = Span(pyfile.span(rest[0]).start, pyfile.span(rest[-1]).end)
        return replace(span, nl.join(lines)[len(indent) :])
    if rest and docstring is None:  # `def downgrade(): pass` on one line
        first = pyfile.span(rest[0]).start
        colon = text.rfind(":", pyfile.span(down).start, first)
        return replace(Span(colon + 1, pyfile.span(rest[-1]).end), nl + nl.join(lines))
    anchor = docstring if docstring is not None else body[-1]
    end = pyfile.span(anchor).end
    if rest:  # docstring and `pass` on one line: keep the docstring, drop the rest
        end = pyfile.span(rest[-1]).end
        return replace(Span(pyfile.span(anchor).end, end), nl + nl.join(lines))
    return insert(end, nl + nl.join(lines))


def add_downgrade(finding: Finding, migration: Migration) -> Fix | None:
    if migration.tool != "alembic":
        return None
    pyfile = PyFile(migration.text)
    if pyfile.tree is None:
        return None
    pairs = _step_functions(pyfile.tree)
    edits: list[Edit] = []
    if finding.rule == "missing-downgrade":
        edits = [_insert_downgrade(pyfile, up) for up, down in pairs if down is None]
        title = "Add a downgrade() that reverses the upgrade"
    else:
        edits = [
            _fill_downgrade(pyfile, up, down)
            for up, down in pairs
            if down is not None and is_empty_body(down.body)
        ]
        title = "Fill downgrade() with the reverse of the upgrade"
    if not edits:
        return None
    return Fix(title=title, edits=edits, applicability=Applicability.UNSAFE)


_ADD_CONSTRAINT = re.compile(r"\bADD\s+CONSTRAINT\s+\"?([\w$]+)", re.IGNORECASE)
_DROP_CONSTRAINT = re.compile(
    r"\bDROP\s+CONSTRAINT\s+(?:IF\s+EXISTS\s+)?\"?([\w$]+)", re.IGNORECASE
)
_USING_INDEX = re.compile(r"\bUSING\s+INDEX\s+\"?([\w$]+)", re.IGNORECASE)


def _static_sql(node: ast.expr) -> str | None:
    """The SQL of `op.execute("...")` / `op.execute(sa.text("..."))` when written literally."""
    if isinstance(node, ast.Call) and call_name(node).rpartition(".")[2] == "text" and node.args:
        node = node.args[0]
    value = literal(node)
    return value if isinstance(value, str) else None


def _constraint_named(statement: str) -> str | None:
    match = _DROP_CONSTRAINT.search(statement) or _ADD_CONSTRAINT.search(statement)
    return match.group(1) if match else None


def _constraint_lifecycle(up: ast.FunctionDef) -> tuple[set[str], set[str]]:
    """(constraints the upgrade adds then drops, indexes handed to constraints)."""
    added: set[str] = set()
    transient: set[str] = set()
    owned: set[str] = set()
    calls = sorted(
        (n for n in ast.walk(up) if isinstance(n, ast.Call)),
        key=lambda n: (n.lineno, n.col_offset),
    )
    for node in calls:  # in source order: an add must come before its drop
        method = call_name(node).rpartition(".")[2]
        if method in EXECUTE_METHODS and node.args:
            sql = _static_sql(node.args[0]) or ""
            for match in _ADD_CONSTRAINT.finditer(sql):
                added.add(match.group(1))
            for match in _DROP_CONSTRAINT.finditer(sql):
                if match.group(1) in added:
                    transient.add(match.group(1))
            owned.update(m.group(1) for m in _USING_INDEX.finditer(sql))
        elif method.startswith("create_") and method.endswith(("constraint", "foreign_key", "key")):
            name = literal(argument(node, 0, "constraint_name"))
            if isinstance(name, str):
                added.add(name)
        elif method == "drop_constraint":
            name = literal(argument(node, 0, "constraint_name"))
            if isinstance(name, str) and name in added:
                transient.add(name)
    return transient, owned


def _reverse_from_model(sql: str, dialect: str | None) -> Reverse | None:
    """What sqlglot keeps opaque but the engine's model knows: `ADD CONSTRAINT ... USING
    INDEX` is undone by dropping the constraint; SET and VALIDATE need no undoing."""
    from migration_lsp.model import AddConstraint, SetSetting, ValidateConstraint
    from migration_lsp.parse.sql import parse_sql

    parsed = parse_sql(sql, dialect)
    if parsed.problems:
        return None
    undo: list[str] = []
    for op in parsed.operations:
        if isinstance(op, SetSetting | ValidateConstraint):
            continue
        if isinstance(op, AddConstraint) and op.name and op.table:
            undo.append(f"ALTER TABLE {op.table} DROP CONSTRAINT {op.name}")
            continue
        return None
    return Reverse(statements=list(reversed(undo)))


def complete_downgrade(finding: Finding, migration: Migration) -> Fix | None:
    """The inverses of the upgrade statements the downgrade does not undo, added at the start
    of `downgrade()` (the upgrade's later steps are undone first)."""
    from migration_lsp.rules.reversibility import not_undone

    if migration.tool != "alembic":
        return None
    pyfile = PyFile(migration.text)
    if pyfile.tree is None:
        return None
    gaps = [op.span for op, _ in not_undone(migration)]
    if not gaps:
        return None
    edits: list[Edit] = []
    for up, down in _step_functions(pyfile.tree):
        if down is None or not down.body:
            continue

        def has_gap(stmt: ast.stmt) -> bool:
            span = pyfile.span(stmt)
            return any(span.contains(gap) for gap in gaps)

        selected = [stmt for stmt in up.body if has_gap(stmt)]
        if not selected:
            continue
        quote = _quote(pyfile, up)
        inverter = _Inverter(pyfile, quote)
        inverter.transient, inverter.owned_indexes = _constraint_lifecycle(up)
        items = inverter.body(selected, {}, False)
        if not items:
            continue
        body = down.body
        first = body[1] if is_docstring(body[0]) and len(body) > 1 else body[0]
        start = pyfile.span(first).start
        if not only_space_before(pyfile.text, start):
            continue  # `def downgrade(): ...` on one line: leave it to the author
        indent = indentation(pyfile.text, start)
        lines = render(items, indent, pyfile.indent_unit(up), quote)
        at = line_start(pyfile.text, start)
        edits.append(insert(at, pyfile.newline.join(lines) + pyfile.newline))
    if not edits:
        return None
    return Fix(
        title="Add the missing inverse operations to downgrade()",
        edits=edits,
        applicability=Applicability.UNSAFE,
    )
