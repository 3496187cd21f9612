"""Quick fixes for Knex migrations, in Knex's idiom, plus the JS edit helpers Sequelize shares.

- add-downgrade / complete-downgrade (missing-, empty-, incomplete-downgrade): a `down` that
  undoes the upgrade's operations in reverse order (`knex.schema.dropTable`, `table.dropColumn`,
  `table.dropIndex`, `renameColumn` back, ...), with a `// TODO` and `throw new Error(...)` for
  what the file does not say how to undo (a dropped column, a changed type). UNSAFE: review it.
- use-concurrently (non-concurrent-index): Knex's builder cannot build an index concurrently, so
  the index becomes `.raw('CREATE INDEX CONCURRENTLY IF NOT EXISTS ...')` on the same schema
  chain, and the migration gets `config = { transaction: false }` (Knex otherwise runs it in a
  transaction, where CONCURRENTLY fails). SAFE when nothing else in `up` loses its transaction.
- run-outside-transaction (concurrent-index-in-transaction): `config = { transaction: false }`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from tree_sitter import Node

from migration_lsp.findings import Applicability, Edit, Finding, Fix
from migration_lsp.model import (
    AddColumn,
    AddConstraint,
    AlterColumn,
    CreateIndex,
    CreateTable,
    DataChange,
    DropColumn,
    DropConstraint,
    DropIndex,
    DropTable,
    ExecuteSQL,
    Migration,
    Operation,
    OtherStatement,
    RenameColumn,
    RenameTable,
    SetSetting,
    Step,
    TransactionControl,
    Truncate,
)
from migration_lsp.parse.javascript import (
    FUNCTION_TYPES,
    ExportedFunction,
    JsSource,
    chain,
    exported_functions,
    exported_value,
    function_body,
    is_async,
    node_at,
    object_get,
    object_pairs,
    params,
    statement_of,
    unwrap,
)
from migration_lsp.parse.treesitter import ancestors, named_children, walk
from migration_lsp.rules.base import table_key
from migration_lsp.text import Span

from .base import Builder, display, operation_for, other_statements
from .sql import concurrently_edit
from .text import first_line, indentation, insert, line_start, newline_of, replace, wrap_comment

COMMENT_WIDTH = 88

# --------------------------------------------------------------------------- JS text helpers


@dataclass(slots=True)
class JsStyle:
    """How the file writes code: quote character, indentation unit, line ending."""

    quote: str
    unit: str
    newline: str

    def q(self, value: str) -> str:
        """A JS string literal for `value`."""
        escaped = value.replace("\\", "\\\\").replace(self.quote, "\\" + self.quote)
        escaped = escaped.replace("\n", "\\n").replace("\r", "\\r")
        return f"{self.quote}{escaped}{self.quote}"


def style_of(source: JsSource) -> JsStyle:
    quote = "'"
    for node in walk(source.root):
        if node.type == "string":
            quote = source.text_of(node)[:1] or "'"
            if node.parent is None or node.parent.type != "import_statement":
                break
    unit = "  "
    widths = []
    for line in source.text.splitlines():
        stripped = line.lstrip(" \t")
        if stripped and stripped != line and not stripped.startswith("*"):
            if line.startswith("\t"):
                unit = "\t"
                break
            widths.append(len(line) - len(stripped))
    if unit != "\t" and widths:
        unit = " " * min(widths)
    return JsStyle(quote=quote, unit=unit, newline=newline_of(source.text))


@dataclass(slots=True)
class Code:
    """Statements to write, lines relative to the body's indentation (`\\t` marks a level)."""

    lines: list[str]


@dataclass(slots=True)
class Stop:
    """What the generated code cannot undo: a TODO and a `throw`."""

    comment: str
    message: str


@dataclass(slots=True)
class Note:
    """A reminder that needs no `throw` (rows changed by the upgrade)."""

    comment: str


Item = Code | Stop | Note
ItemsBuilder = Callable[[list[Operation], str, JsStyle], list[Item]]
"""`(ops, param, style) -> items`: the inverse statements of one tool, in its idiom."""


def render(items: list[Item], indent: str, style: JsStyle) -> list[str]:
    lines: list[str] = []
    width = COMMENT_WIDTH - len(indent.expandtabs(4))
    for item in items:
        if isinstance(item, Code):
            lines.extend(indent + line.replace("\t", style.unit) for line in item.lines)
        elif isinstance(item, Stop):
            lines.extend(f"{indent}// {c}" for c in wrap_comment("TODO: " + item.comment, width))
            lines.append(f"{indent}throw new Error({style.q(item.message)});")
        else:
            lines.extend(f"{indent}// {c}" for c in wrap_comment("TODO: " + item.comment, width))
    return lines


def ensure_async(source: JsSource, function: Node) -> list[Edit]:
    """`async` before a function that is not (so that `await` can be written in it)."""
    if is_async(function):
        return []
    return [insert(source.span(function).start, "async ")]


def block_indent(source: JsSource, function: Node, style: JsStyle) -> tuple[str, str]:
    """(indentation of the statements, indentation of the closing brace) of a function body."""
    body = function_body(function)
    text = source.text
    closing = indentation(text, source.span(body).end - 1 if body else source.span(function).end)
    statements = named_children(body) if body is not None and body.type == "statement_block" else []
    for statement in statements:
        start = source.span(statement).start
        if text[line_start(text, start) : start].strip() == "":
            return indentation(text, start), closing
    return closing + style.unit, closing


def fill_body(source: JsSource, function: Node, lines: list[str], closing: str) -> list[Edit]:
    """The body of an empty function replaced by `lines` (comments in it are kept)."""
    body = function_body(function)
    if body is None:
        return []
    nl = newline_of(source.text)
    span = source.span(body)
    joined = nl.join(lines)
    if body.type != "statement_block":  # `(knex) => Promise.resolve()`
        return [replace(span, "{" + nl + joined + nl + closing + "}")]
    inner = source.text[span.start + 1 : span.end - 1]
    keep = "" if named_children(body) or not inner.strip() else inner.rstrip()
    return [replace(Span(span.start + 1, span.end - 1), keep + nl + joined + nl + closing)]


def prepend_body(
    source: JsSource, function: Node, lines: list[str], indent: str, closing: str
) -> list[Edit]:
    """`lines` added at the start of a function body (an expression body becomes a block)."""
    body = function_body(function)
    if body is None:
        return []
    nl = newline_of(source.text)
    span = source.span(body)
    if body.type != "statement_block":
        expression = source.text[span.start : span.end]
        block = nl.join([*lines, f"{indent}return {expression};"])
        return [replace(span, "{" + nl + block + nl + closing + "}")]
    return [insert(span.start + 1, nl + nl.join(lines))]


def leading_comment(source: JsSource, statement: Node) -> str | None:
    """The JSDoc block right above a statement (Knex's generator writes one per function)."""
    previous = statement.prev_sibling
    if previous is None or previous.type != "comment":
        return None
    text = source.text_of(previous)
    between = source.text[source.span(previous).end : source.span(statement).start]
    if not text.startswith("/**") or between.count("\n") > 1:
        return None
    return text


def down_definition(
    source: JsSource, up: ExportedFunction, body: list[str], style: JsStyle
) -> tuple[int, str]:
    """Where to insert a `down` shaped like `up`, and its text (`body` already indented)."""
    nl = style.newline
    function = up.function
    params_node = function.child_by_field_name("parameters")
    single = function.child_by_field_name("parameter")
    if params_node is not None:
        parameters = source.text_of(params_node)
    elif single is not None:
        parameters = f"({source.text_of(single)})"
    else:
        parameters = "()"
    returns_node = function.child_by_field_name("return_type")
    returns = source.text_of(returns_node) if returns_node is not None else ""
    arrow = function.type == "arrow_function"
    if up.container is not None:
        entry = up.function if up.function.type == "method_definition" else up.name_node.parent
        entry = entry if entry is not None else up.function
        indent = indentation(source.text, source.span(entry).start)
        if function.type == "method_definition" or not arrow:
            spacing = " " if source.text_of(function).split("(")[0].endswith(" ") else ""
            head = f"{indent}async down{spacing}{parameters}{returns} {{"
            tail = f"{indent}}}"
        else:
            head = f"{indent}down: async {parameters}{returns} => {{"
            tail = f"{indent}}}"
        text = nl.join([head, *body, tail])
        after = entry.next_sibling
        if after is not None and after.type == ",":
            return source.span(after).end, nl + nl + text + ","
        return source.span(entry).end, "," + nl + nl + text
    statement = up.export
    doc = leading_comment(source, statement)
    prefix = (doc + nl) if doc else ""
    if up.style == "exports":
        target = (
            "module.exports.down"
            if source.text_of(statement).startswith("module.")
            else ("exports.down")
        )
        if arrow:
            head = f"{target} = async {parameters}{returns} => {{"
        else:
            head = f"{target} = async function{parameters}{returns} {{"
        tail = "};"
    elif arrow or function.type in ("function_expression", "function"):
        keyword = "const"
        declaration = up.name_node.parent
        if declaration is not None and declaration.parent is not None:
            keyword = source.text_of(declaration.parent).split(" ", 1)[0] or "const"
        if arrow:
            head = f"export {keyword} down = async {parameters}{returns} => {{"
        else:
            head = f"export {keyword} down = async function {parameters}{returns} {{"
        tail = "};"
    else:
        head = f"export async function down{parameters}{returns} {{"
        tail = "}"
    text = nl.join([head, *body, tail])
    return source.span(statement).end, nl + nl + prefix + text


# --------------------------------------------------------------------------- what to undo


def forward_to_undo(migration: Migration, only: set[int] | None = None) -> list[Operation]:
    """The upgrade operations a generated downgrade must undo, last first: operations on a
    table the upgrade creates are undone by dropping it, an index on a column it adds by
    dropping the column, SQL by the statements parsed from it."""
    up = [op for op in migration.operations if op.step is Step.UP]
    created = {table_key(op.table) for op in up if isinstance(op, CreateTable)}
    added = {
        (table_key(op.table), op.column.name.lower()) for op in up if isinstance(op, AddColumn)
    }
    chosen: list[Operation] = []
    for op in up:
        if only is not None and id(op) not in only:
            continue
        if isinstance(op, SetSetting | TransactionControl):
            continue
        if isinstance(op, ExecuteSQL) and (
            op.sql is not None and any(o is not op and op.span.contains(o.span) for o in up)
        ):
            continue  # undone through the statements inside it
        table = getattr(op, "table", None)
        on_new_table = isinstance(table, str) and table_key(table) in created
        if on_new_table and not isinstance(op, CreateTable | RenameTable):
            continue
        if isinstance(op, CreateIndex | AddConstraint) and op.columns and isinstance(op.table, str):
            key = table_key(op.table)
            if all((key, c.lower()) in added for c in op.columns):
                continue
        if isinstance(op, OtherStatement) and not op.is_ddl:
            continue  # a SELECT, a comment: nothing to undo
        chosen.append(op)
    chosen.reverse()
    return chosen


def stop_for(op: Operation, style: JsStyle, migration: Migration) -> Item:
    """The TODO for an operation the file does not say how to undo."""
    if isinstance(op, DataChange):
        where = f" of '{op.table}'" if op.table else ""
        return Note(
            f"the upgrade also changes rows{where} ({op.kind.upper()}); undo that here "
            "if rolling back needs it."
        )
    if isinstance(op, DropColumn):
        return Stop(
            f"recreate column '{op.table}.{op.column}' dropped by the upgrade (its definition "
            "is not in this file).",
            f"cannot restore the dropped column {op.table}.{op.column}",
        )
    if isinstance(op, DropTable):
        return Stop(
            f"recreate table '{op.table}' dropped by the upgrade.",
            f"cannot restore the dropped table {op.table}",
        )
    if isinstance(op, AlterColumn):
        return Stop(
            f"restore the previous definition of '{op.table}.{op.column}' (the old type and "
            "nullability are not in this file).",
            f"cannot restore the previous definition of {op.table}.{op.column}",
        )
    if isinstance(op, DropIndex | DropConstraint):
        what = "index" if isinstance(op, DropIndex) else "constraint"
        return Stop(
            f"recreate the {what} '{op.name or '?'}' dropped by the upgrade.",
            f"cannot restore the dropped {what} {op.name or ''}".rstrip(),
        )
    if isinstance(op, Truncate):
        return Stop("restore the rows deleted by TRUNCATE.", "cannot restore truncated rows")
    text = migration.text[op.span.start : op.span.end]
    return Stop(
        f"undo `{first_line(text, 60)}` by hand (no automatic inverse).",
        "reverse this step of the upgrade by hand",
    )


def sql_inverse(op: Operation) -> str | None:
    """The SQL undoing an operation parsed from SQL text, when it is a plain DDL inverse."""
    if isinstance(op, CreateIndex) and op.name:
        concurrently = "CONCURRENTLY " if op.concurrently else ""
        return f"DROP INDEX {concurrently}IF EXISTS {op.name}"
    if isinstance(op, CreateTable):
        return f"DROP TABLE IF EXISTS {op.table}"
    if isinstance(op, AddColumn):
        return f"ALTER TABLE {op.table} DROP COLUMN IF EXISTS {op.column.name}"
    if isinstance(op, AddConstraint) and op.name:
        return f"ALTER TABLE {op.table} DROP CONSTRAINT IF EXISTS {op.name}"
    if isinstance(op, RenameColumn):
        return f"ALTER TABLE {op.table} RENAME COLUMN {op.new_name} TO {op.column}"
    if isinstance(op, RenameTable):
        return f"ALTER TABLE {op.new_name} RENAME TO {op.table}"
    return None


# --------------------------------------------------------------------------- Knex downgrade


@dataclass(slots=True)
class _KnexPlan:
    knex: str
    style: JsStyle
    items: list[Item] = field(default_factory=list)
    table_block: tuple[str, list[str]] | None = None

    def schema(self, call: str) -> None:
        self.flush()
        self.items.append(Code([f"await {self.knex}.schema.{call};"]))

    def raw(self, sql: str) -> None:
        self.flush()
        self.items.append(Code([f"await {self.knex}.raw({self.style.q(sql)});"]))

    def table(self, table: str, line: str) -> None:
        if self.table_block is not None and self.table_block[0] != table:
            self.flush()
        if self.table_block is None:
            self.table_block = (table, [])
        self.table_block[1].append(line)

    def other(self, item: Item) -> None:
        self.flush()
        self.items.append(item)

    def flush(self) -> None:
        if self.table_block is None:
            return
        table, lines = self.table_block
        self.items.append(
            Code(
                [
                    f"await {self.knex}.schema.alterTable({self.style.q(table)}, (table) => {{",
                    *(f"\t{line}" for line in lines),
                    "});",
                ]
            )
        )
        self.table_block = None


def _columns(op: CreateIndex | AddConstraint, style: JsStyle) -> str:
    return "[" + ", ".join(style.q(c) for c in op.columns) + "]"


def knex_items(migration: Migration, ops: list[Operation], knex: str, style: JsStyle) -> list[Item]:
    plan = _KnexPlan(knex, style)
    q = style.q
    for op in ops:
        if op.is_sql:
            sql = sql_inverse(op)
            if sql is not None:
                plan.raw(sql)
            else:
                plan.other(stop_for(op, style, migration))
        elif isinstance(op, CreateTable):
            plan.schema(
                f"{'dropTableIfExists' if op.if_not_exists else 'dropTable'}({q(op.table)})"
            )
        elif isinstance(op, AddColumn):
            plan.table(op.table, f"table.dropColumn({q(op.column.name)});")
        elif isinstance(op, CreateIndex) and op.columns:
            plan.table(op.table, f"table.dropIndex({_columns(op, style)}, {q(op.name or '')});")
        elif isinstance(op, AddConstraint) and op.kind in ("unique", "foreign_key") and op.columns:
            method = "dropUnique" if op.kind == "unique" else "dropForeign"
            plan.table(op.table, f"table.{method}({_columns(op, style)}, {q(op.name or '')});")
        elif isinstance(op, AddConstraint) and op.kind == "primary_key":
            plan.table(op.table, f"table.dropPrimary({q(op.name or '')});")
        elif isinstance(op, AddConstraint) and op.kind == "check" and op.name:
            plan.table(op.table, f"table.dropChecks([{q(op.name)}]);")
        elif isinstance(op, RenameColumn):
            plan.table(op.table, f"table.renameColumn({q(op.new_name)}, {q(op.column)});")
        elif isinstance(op, RenameTable):
            plan.schema(f"renameTable({q(op.new_name)}, {q(op.table)})")
        else:
            plan.other(stop_for(op, style, migration))
    plan.flush()
    return plan.items


def _first_param(function: Node | None, default: str) -> str:
    if function is None:
        return default
    names = params(function)
    return names[0] if names and names[0] != "_" else default


def downgrade_fix(
    finding: Finding,
    migration: Migration,
    build: ItemsBuilder,
    default_param: str,
) -> Fix | None:
    """add-downgrade / complete-downgrade for a JS tool; `build(ops, param, style)` writes the
    inverse statements in the tool's idiom."""
    source = JsSource(migration.text, migration.path)
    if source.root.has_error:
        return None
    functions = exported_functions(source)
    up = functions.get("up")
    down = functions.get("down")
    if up is None:
        return None
    style = style_of(source)
    param = _first_param(down.function if down else up.function, default_param)
    if finding.rule == "incomplete-downgrade":
        from migration_lsp.rules.reversibility import not_undone

        gaps = {id(op) for op, _ in not_undone(migration)}
        ops = forward_to_undo(migration, gaps)
    else:
        ops = forward_to_undo(migration)
    items = build(ops, param, style)
    if not items:
        return None
    edits: list[Edit]
    if down is None:
        indent = _body_indent_for_new(source, up, style)
        at, text = down_definition(source, up, render(items, indent, style), style)
        edits = [insert(at, text)]
        title = "Add a down that reverses the up"
    else:
        indent, closing = block_indent(source, down.function, style)
        lines = render(items, indent, style)
        if finding.rule == "incomplete-downgrade":
            edits = prepend_body(source, down.function, lines, indent, closing)
            title = "Add the missing inverse operations to down"
        else:
            edits = fill_body(source, down.function, lines, closing)
            title = "Fill down with the reverse of the up"
        edits = ensure_async(source, down.function) + edits
    return Fix(title=title, edits=edits, applicability=Applicability.UNSAFE)


def _body_indent_for_new(source: JsSource, up: ExportedFunction, style: JsStyle) -> str:
    indent, _ = block_indent(source, up.function, style)
    return indent


def knex_downgrade(finding: Finding, migration: Migration) -> Fix | None:
    return downgrade_fix(
        finding,
        migration,
        lambda ops, param, style: knex_items(migration, ops, param, style),
        "knex",
    )


# --------------------------------------------------------------------------- transactions


def in_transaction_callback(source: JsSource, node: Node) -> bool:
    """`node` is inside `knex.transaction(...)` / `sequelize.transaction(...)`'s callback."""
    above = ancestors(node, source.root)  # not `Node.parent`: quadratic on deep nesting
    for index, current in enumerate(above):
        if current.type in FUNCTION_TYPES and index + 2 < len(above):
            call = above[index + 2]  # the function's `arguments`, then their call
            if call.type == "call_expression":
                links = chain(call)
                if links and links[-1].name == "transaction":
                    return True
    return False


def transaction_false(source: JsSource, style: JsStyle) -> Edit | str:
    """The edit giving the migration `config = { transaction: false }`; a display title when
    the config is not an object literal."""
    nl = style.newline
    config = exported_value(source, "config")
    if config is not None:
        config = unwrap(config)
        if config.type != "object":
            return "Set transaction: false in the exported config"
        value = object_get(config, "transaction")
        if value is not None:
            return replace(source.span(value), "false")
        span = source.span(config)
        if not object_pairs(config):
            return replace(span, "{ transaction: false }")
        return insert(span.start + 1, " transaction: false,")
    functions = exported_functions(source)
    up = functions.get("up")
    if up is None:
        return "Export config = { transaction: false }"
    if up.container is not None:
        span = source.span(up.container)
        entry_indent = indentation(source.text, source.span(up.name_node).start)
        return insert(span.start + 1, f"{nl}{entry_indent}config: {{ transaction: false }},")
    statement = up.export
    doc = statement.prev_sibling if leading_comment(source, statement) else None
    at = source.span(doc if doc is not None else statement).start
    if up.style == "exports":
        line = "exports.config = { transaction: false };"
    else:
        line = "export const config = { transaction: false };"
    return insert(line_start(source.text, at), line + nl + nl)


# --------------------------------------------------------------------------- concurrently


def _index_sql(op: CreateIndex) -> str:
    unique = "UNIQUE " if op.unique else ""
    columns = ", ".join(_ident(c) for c in op.columns)
    name = f"{_ident(op.name)} " if op.name else ""
    exists = "IF NOT EXISTS " if op.name else ""
    return f"CREATE {unique}INDEX CONCURRENTLY {exists}{name}ON {_ident(op.table)} ({columns})"


def _ident(name: str) -> str:
    """An identifier as SQL needs it: quoted when not lower-case letters, digits and `_`."""
    plain = name.replace("_", "").isalnum() and name == name.lower() and not name[:1].isdigit()
    return name if plain else '"' + name.replace('"', '""') + '"'


def knex_use_concurrently(finding: Finding, migration: Migration) -> Fix | None:
    op = operation_for(finding, migration, CreateIndex)
    if op is None or op.concurrently:
        return None
    source = JsSource(migration.text, migration.path)
    if source.root.has_error:
        return None
    style = style_of(source)
    edits: list[Edit] = []
    if op.is_sql:
        keyword = concurrently_edit(migration, op)
        if isinstance(keyword, str):
            return display(keyword)
        edits.append(keyword)
        node = node_at(source, migration_call_span(migration, op) or op.span)
    else:
        node = node_at(source, op.span, "call_expression")
        if node is None:
            return None
        built = _builder_index_edits(source, node, op, style)
        if isinstance(built, str):
            return display(built)
        edits.extend(built)
    if node is not None and in_transaction_callback(source, node):
        return display(
            "Move the index out of knex.transaction(...) and build it with "
            "CREATE INDEX CONCURRENTLY"
        )
    if op.in_transaction:
        config = transaction_false(source, style)
        if isinstance(config, str):
            return display(config)
        edits.append(config)
    alone = other_statements(migration, op, neutral_settings=True) == 0
    return Fix(
        title="Create the index concurrently (knex.raw CREATE INDEX CONCURRENTLY; "
        "config transaction: false)"
        if not op.is_sql
        else "Create the index concurrently (add CONCURRENTLY; config transaction: false)",
        edits=edits,
        applicability=Applicability.SAFE
        if alone or not op.in_transaction
        else Applicability.UNSAFE,
    )


def migration_call_span(migration: Migration, op: Operation) -> Span | None:
    """The span of the `knex.raw(...)`/`query(...)` call an SQL operation was parsed from."""
    for other in migration.operations:
        if isinstance(other, ExecuteSQL) and other.span.contains(op.span) and other is not op:
            return other.span
    return None


def _builder_index_edits(
    source: JsSource, node: Node, op: CreateIndex, style: JsStyle
) -> list[Edit] | str:
    """`table.index(...)` (or `.index()` on a new column) in an `alterTable` callback →
    removed there, and `.raw('CREATE INDEX CONCURRENTLY ...')` chained after the
    `alterTable(...)` call (it replaces the call when the index was all it did)."""
    callback = node.parent
    while callback is not None and callback.type not in FUNCTION_TYPES:
        callback = callback.parent
    arguments = callback.parent if callback is not None else None
    alter = arguments.parent if arguments is not None else None
    if alter is None or alter.type != "call_expression" or not op.columns:
        return "Create the index with knex.raw('CREATE INDEX CONCURRENTLY ...') instead"
    member = alter.child_by_field_name("function")
    prop = member.child_by_field_name("property") if member is not None else None
    if prop is None:
        return "Create the index with knex.raw('CREATE INDEX CONCURRENTLY ...') instead"
    raw = f"raw({style.q(_index_sql(op))})"
    links = chain(node)
    text = source.text
    if links[1].name not in ("index", "unique"):  # `.index()` modifier on a new column
        index_link = next((link for link in links[2:] if link.name == "index"), None)
        if index_link is None:
            return "Create the index with knex.raw('CREATE INDEX CONCURRENTLY ...') instead"
        receiver = index_link.node.child_by_field_name("function")
        obj = receiver.child_by_field_name("object") if receiver is not None else None
        if obj is None:
            return "Create the index with knex.raw('CREATE INDEX CONCURRENTLY ...') instead"
        cut = Span(source.span(obj).end, source.span(index_link.node).end)
        return [replace(cut, ""), insert(source.span(alter).end, f".{raw}")]
    statement = statement_of(node)
    body = function_body(callback) if callback is not None else None
    siblings = named_children(body) if body is not None and body.type == "statement_block" else []
    if siblings == [statement] or body == node:
        return [replace(Span(source.span(prop).start, source.span(alter).end), raw)]
    span = source.span(statement)
    start = line_start(text, span.start)
    end = span.end
    if text[start : span.start].strip() == "" and text[end:].startswith(("\n", "\r\n")):
        end = end + (2 if text[end] == "\r" else 1)
    else:
        start = span.start
    return [replace(Span(start, end), ""), insert(source.span(alter).end, f".{raw}")]


def knex_outside_transaction(finding: Finding, migration: Migration) -> Fix | None:
    op = operation_for(finding, migration, CreateIndex) or operation_for(
        finding, migration, DropIndex
    )
    if op is None or not op.concurrently or not op.in_transaction:
        return None
    source = JsSource(migration.text, migration.path)
    if source.root.has_error:
        return None
    node = node_at(source, migration_call_span(migration, op) or op.span)
    if node is not None and in_transaction_callback(source, node):
        return display(
            "Move the statement out of knex.transaction(...): CONCURRENTLY cannot "
            "run in a transaction"
        )
    if not migration.transactional:
        return None
    config = transaction_false(source, style_of(source))
    if isinstance(config, str):
        return display(config)
    alone = other_statements(migration, op, neutral_settings=True) == 0
    return Fix(
        title="Run the migration outside a transaction (config transaction: false)",
        edits=[config],
        applicability=Applicability.SAFE if alone else Applicability.UNSAFE,
    )


KNEX_BUILDERS: dict[str, Builder] = {
    "missing-downgrade": knex_downgrade,
    "empty-downgrade": knex_downgrade,
    "incomplete-downgrade": knex_downgrade,
    "non-concurrent-index": knex_use_concurrently,
    "concurrent-index-in-transaction": knex_outside_transaction,
}
