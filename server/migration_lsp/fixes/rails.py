"""Quick fixes for Rails migrations, written the way a Rails developer (and strong_migrations)
writes the safe form:

- use-concurrently / run-outside-transaction: `algorithm: :concurrently` on `add_index`,
  `remove_index` and `t.index` (`index: { algorithm: :concurrently }` on references), and
  `disable_ddl_transaction!` as the first line of the class body, in one fix;
- split-not-valid: `validate: false` on `add_foreign_key` / `add_check_constraint` (and
  `foreign_key: { validate: false }` on references), then `validate_foreign_key` /
  `validate_check_constraint` in a new migration with the next timestamp, or on the next line
  when the migration already runs without a transaction;
- add-downgrade: a `down` that inverts `up`, call by call, in reverse order;
- convert-to-up-down (irreversible-change): `def change` becomes `def up`, plus a generated
  `down` (a `reversible` block is copied as it is: it says itself what to do in each direction).

What cannot be inverted from the file alone (SQL, data changes, a type change, a drop that does
not state its definition) becomes a `# TODO` line and `raise ActiveRecord::IrreversibleMigration`
at the top of the generated `down`, never a silent no-op.
"""

from __future__ import annotations

import datetime
import os
import re
from dataclasses import dataclass, field

from tree_sitter import Node

from migration_lsp.findings import Applicability, Edit, Finding, Fix, NewFile
from migration_lsp.model import (
    AddColumn,
    AddConstraint,
    CreateIndex,
    DataChange,
    DropIndex,
    ExecuteSQL,
    Migration,
    Operation,
    ValidateConstraint,
)
from migration_lsp.parse.rails import RailsCall, RailsFile, read_rails
from migration_lsp.parse.rails_syntax import hash_options, literal, name_of, text_of
from migration_lsp.parse.treesitter import named_children
from migration_lsp.text import Span

from .base import Builder, display, operation_for
from .sql import concurrently_edit
from .text import indentation, insert, line_end, line_start, newline_of, next_line_start, replace

IRREVERSIBLE = "raise ActiveRecord::IrreversibleMigration"
_TIMESTAMP = re.compile(r"^(\d{14})_")
_TIMESTAMP_FORMAT = "%Y%m%d%H%M%S"


def _read(migration: Migration) -> RailsFile | None:
    rails = read_rails(migration.path, migration.text, migration.dialect)
    return None if rails.migration.problems or rails.klass is None else rails


# --------------------------------------------------------------------------- editing calls


def _set_option(rails: RailsFile, call: RailsCall, key: str, value: str) -> list[Edit]:
    """`key: value` on a call: replace the value when the option is there, else append it
    (inside a trailing `{ ... }` hash when the options are written in one)."""
    src = rails.source
    existing = call.args.options.get(key)
    if existing is not None:
        return [replace(src.span(existing), value)]
    positional = call.args.positional
    if positional and positional[-1].type == "hash" and not call.args.pairs:
        return _set_in_hash(rails, positional[-1], key, value)
    arg_list = call.args.node
    if arg_list is None:
        method = call.node.child_by_field_name("method")
        assert method is not None
        return [insert(src.span(method).end, f" {key}: {value}")]
    last = named_children(arg_list)[-1] if named_children(arg_list) else None
    if last is None:
        close = arg_list.children[-1]
        return [insert(src.span(close).start, f"{key}: {value}")]
    return [insert(src.span(last).end, f", {key}: {value}")]


def _set_in_hash(rails: RailsFile, hash_node: Node, key: str, value: str) -> list[Edit]:
    src = rails.source
    existing = hash_options(hash_node).get(key)
    if existing is not None:
        return [replace(src.span(existing), value)]
    pairs = [c for c in named_children(hash_node) if c.type == "pair"]
    if pairs:
        return [insert(src.span(pairs[-1]).end, f", {key}: {value}")]
    return [insert(src.span(hash_node.children[-1]).start, f" {key}: {value} ")]


def _set_hash_option(
    rails: RailsFile, call: RailsCall, option: str, key: str, value: str
) -> list[Edit]:
    """`option: { key: value }`: inside the hash when `option` is one, replacing `true`."""
    existing = call.args.options.get(option)
    if existing is not None and existing.type == "hash":
        return _set_in_hash(rails, existing, key, value)
    return _set_option(rails, call, option, f"{{ {key}: {value} }}")


def _class_indent(rails: RailsFile) -> str:
    """The indentation of the class body's statements."""
    assert rails.klass is not None
    text = rails.migration.text
    body = rails.klass.child_by_field_name("body")
    if body is not None and named_children(body):
        return indentation(text, rails.source.span(named_children(body)[0]).start)
    return indentation(text, rails.source.span(rails.klass).start) + "  "


def _disable_transaction(rails: RailsFile) -> list[Edit]:
    """`disable_ddl_transaction!` as the first line of the class body (none when present)."""
    if rails.disable is not None:
        return []
    assert rails.klass is not None
    text = rails.migration.text
    nl = newline_of(text)
    header = rails.klass.child_by_field_name("superclass") or rails.klass.child_by_field_name(
        "name"
    )
    assert header is not None
    at = line_end(text, rails.source.span(header).end)
    return [insert(at, f"{nl}{_class_indent(rails)}disable_ddl_transaction!{nl}")]


def _in_block(rails: RailsFile, op: Operation, kind: str) -> bool:
    return any(
        name == kind and rails.source.span(node).contains(op.span) for node, name in rails.blocks
    )


def _alone(rails: RailsFile, call: RailsCall) -> bool:
    """No other call of the same step changes anything: losing the transaction costs nothing."""
    return not any(
        other is not call and other.ops and other.step is call.step for other in rails.calls
    )


# --------------------------------------------------------------------------- concurrently


def use_concurrently(finding: Finding, migration: Migration) -> Fix | None:
    rails = _read(migration)
    if rails is None:
        return None
    op: CreateIndex | DropIndex | None
    if finding.rule == "non-concurrent-index-drop":
        op = operation_for(finding, rails.migration, DropIndex)
    else:
        op = operation_for(finding, rails.migration, CreateIndex)
    if op is None or op.concurrently:
        return None
    return _concurrently(rails, op, add_keyword=True)


def run_outside_transaction(finding: Finding, migration: Migration) -> Fix | None:
    rails = _read(migration)
    if rails is None:
        return None
    op = operation_for(finding, rails.migration, CreateIndex) or operation_for(
        finding, rails.migration, DropIndex
    )
    if op is None or not op.concurrently or not op.in_transaction:
        return None
    return _concurrently(rails, op, add_keyword=False)


def _concurrently(
    rails: RailsFile, op: CreateIndex | DropIndex, *, add_keyword: bool
) -> Fix | None:
    if _in_block(rails, op, "transaction"):
        return None  # an explicit transaction block: the statement has to leave it
    if op.is_sql:
        return _sql_concurrently(rails, op, add_keyword)
    call = rails.call_of(op)
    if call is None:
        return None
    edits: list[Edit] = []
    if add_keyword:
        if call.method == "add_reference":
            edits += _set_hash_option(rails, call, "index", "algorithm", ":concurrently")
        else:
            edits += _set_option(rails, call, "algorithm", ":concurrently")
    edits += _disable_transaction(rails)
    verb = "Add" if isinstance(op, CreateIndex) else "Remove"
    if add_keyword:
        title = f"{verb} the index concurrently (algorithm: :concurrently"
        title += ", disable_ddl_transaction!)" if rails.disable is None else ")"
    else:
        title = "Run the migration outside a transaction (disable_ddl_transaction!)"
    safe = _alone(rails, call) and all(isinstance(o, CreateIndex | DropIndex) for o in call.ops)
    return Fix(title, edits, Applicability.SAFE if safe else Applicability.UNSAFE)


def _sql_concurrently(rails: RailsFile, op: CreateIndex | DropIndex, add_keyword: bool) -> Fix:
    """An index statement inside `execute "..."`: CONCURRENTLY in the SQL, and the migration
    made non-transactional; a string holding several statements runs them in one implicit
    transaction, so that one needs to be split by hand."""
    execute = next(
        (
            o
            for o in rails.migration.operations
            if isinstance(o, ExecuteSQL) and o.span.contains(op.span)
        ),
        None,
    )
    statements = {
        o.span
        for o in rails.migration.operations
        if execute is not None and o.is_sql and execute.span.contains(o.span)
    }
    if execute is None or len(statements) > 1:
        return display(
            "Run the CREATE INDEX CONCURRENTLY in an execute call of its own, and add "
            "disable_ddl_transaction! to the class"
        )
    edits: list[Edit] = []
    if add_keyword:
        edit = concurrently_edit(rails.migration, op)
        if isinstance(edit, str):
            return display(edit)
        edits.append(edit)
    edits += _disable_transaction(rails)
    call = rails.call_of(execute)
    safe = call is not None and _alone(rails, call)
    title = "Run the statement CONCURRENTLY, with disable_ddl_transaction!"
    return Fix(title, edits, Applicability.SAFE if safe else Applicability.UNSAFE)


# --------------------------------------------------------------------------- not valid


def split_not_valid(finding: Finding, migration: Migration) -> Fix | None:
    rails = _read(migration)
    if rails is None:
        return None
    validate = operation_for(finding, rails.migration, ValidateConstraint)
    if validate is not None:
        return _validate_later(rails, validate)
    op = operation_for(finding, rails.migration, AddConstraint)
    if op is None or op.not_valid or op.is_sql:
        return None
    call = rails.call_of(op)
    if call is None or call.table is None:
        return None
    if op.kind == "foreign_key":
        if call.method == "add_reference":
            edits = _set_hash_option(rails, call, "foreign_key", "validate", "false")
        else:
            edits = _set_option(rails, call, "validate", "false")
        validate_call, slug = _validate_foreign_key(call, op)
    elif op.kind == "check":
        edits = _set_option(rails, call, "validate", "false")
        validate_call, slug = _validate_check(call, op)
    else:
        return None
    what = "foreign key" if op.kind == "foreign_key" else "check constraint"
    if not op.in_transaction:
        indent = indentation(rails.migration.text, rails.source.span(call.node).start)
        nl = newline_of(rails.migration.text)
        at = line_end(rails.migration.text, op.span.end)
        edits.append(insert(at, f"{nl}{indent}{validate_call}"))
        title = f"Add the {what} with validate: false, then {validate_call.split()[0]}"
        return Fix(title, edits, Applicability.SAFE)
    new = _new_migration(rails, slug, [validate_call])
    title = f"Add the {what} with validate: false; validate it in a new migration"
    return Fix(title, edits, Applicability.UNSAFE, files=[new])


def _validate_foreign_key(call: RailsCall, op: AddConstraint) -> tuple[str, str]:
    assert call.table is not None
    table = call.table.text
    name = call.args.options.get("name")
    if call.method == "add_reference":
        name = hash_options(call.args.options.get("foreign_key")).get("name")
        target = f":{op.references}"
        column = f", column: :{op.columns[0]}" if op.columns else ""
    else:
        target = text_of(call.rest[0]) if call.rest else ""
        column_node = call.args.options.get("column")
        column = f", column: {text_of(column_node)}" if column_node is not None else ""
    if name is not None:
        args = f"{table}, name: {text_of(name)}"
    else:
        args = f"{table}, {target}{column}" if target else f"{table}{column}"
    slug = f"validate_{op.table}_{'_'.join(op.columns) or op.references}_foreign_key"
    return f"validate_foreign_key {args}", slug


def _validate_check(call: RailsCall, op: AddConstraint) -> tuple[str, str]:
    assert call.table is not None
    name = call.args.options.get("name")
    if name is not None:
        args = f"name: {text_of(name)}"
        slug = f"validate_{name_of(name) or op.table}"
    else:
        expression = call.rest[0] if call.rest else call.args.options.get("expression")
        args = f"expression: {text_of(expression)}"
        slug = f"validate_{op.table}_check_constraint"
    return f"validate_check_constraint {call.table.text}, {args}", slug


def _validate_later(rails: RailsFile, op: ValidateConstraint) -> Fix | None:
    """`validate_*` right after adding the constraint NOT VALID, in one transaction: moved to a
    migration of its own."""
    call = rails.call_of(op)
    if call is None or not op.in_transaction or call.in_block is not None:
        return None
    text = rails.migration.text
    start = line_start(text, op.span.start)
    if (
        text[start : op.span.start].strip()
        or text[op.span.end : line_end(text, op.span.end)].strip()
    ):
        return None
    removal = Edit(Span(start, next_line_start(text, op.span.end)), "")
    statement = text[op.span.start : op.span.end]
    new = _new_migration(rails, statement[:60], [statement])
    return Fix(
        "Validate the constraint in a new migration", [removal], Applicability.UNSAFE, files=[new]
    )


# --------------------------------------------------------------------------- new migrations


def _next_timestamp(path: str) -> tuple[str, set[str]]:
    """The timestamp after the migration's own and its siblings', and the siblings' names."""
    folder = os.path.dirname(path)
    try:
        siblings = set(os.listdir(folder)) if folder else set()
    except OSError:
        siblings = set()
    stamps = [m.group(1) for n in {*siblings, os.path.basename(path)} if (m := _TIMESTAMP.match(n))]
    if not stamps:
        now = datetime.datetime.now(datetime.UTC)
        return now.strftime(_TIMESTAMP_FORMAT), siblings
    last = datetime.datetime.strptime(max(stamps), _TIMESTAMP_FORMAT)
    return (last + datetime.timedelta(seconds=1)).strftime(_TIMESTAMP_FORMAT), siblings


def _camel(slug: str) -> str:
    return "".join(part[:1].upper() + part[1:] for part in slug.split("_") if part)


def _new_migration(rails: RailsFile, slug: str, statements: list[str]) -> NewFile:
    """The next migration, as `rails generate migration` names and writes it."""
    slug = re.sub(r"[^a-z0-9]+", "_", slug.lower()).strip("_")
    stamp, siblings = _next_timestamp(rails.migration.path)
    taken = {_TIMESTAMP.sub("", n) for n in siblings}
    base, n = slug, 2
    while f"{slug}.rb" in taken:
        slug, n = f"{base}_{n}", n + 1
    nl = newline_of(rails.migration.text)
    body = "".join(f"    {s}{nl}" for s in statements)
    text = (
        f"class {_camel(slug)} < ActiveRecord::Migration[{rails.version or '7.1'}]{nl}"
        f"  def change{nl}{body}  end{nl}end{nl}"
    )
    return NewFile(f"{stamp}_{slug}.rb", text)


# --------------------------------------------------------------------------- down


@dataclass(slots=True)
class _Down:
    """The lines of a generated `down`, and what it could not invert."""

    lines: list[str] = field(default_factory=list)
    stops: list[str] = field(default_factory=list)


def _sym(name: str) -> str:
    return f":{name}" if re.fullmatch(r"[A-Za-z_]\w*", name) else f'"{name}"'


def _arguments(call: RailsCall, skip: frozenset[str] = frozenset()) -> str:
    """The call's arguments as written (table first), without the options in `skip`."""
    parts = [call.table.text] if call.table is not None and call.table.text else []
    parts += [text_of(n) for n in call.rest]
    parts += [text_of(p) for k, p in call.args.pairs.items() if k not in skip]
    return ", ".join(parts)


_SAME_ARGS = {
    "add_reference": "remove_reference",
    "remove_reference": "add_reference",
    "add_timestamps": "remove_timestamps",
    "remove_timestamps": "add_timestamps",
    "add_foreign_key": "remove_foreign_key",
    "add_check_constraint": "remove_check_constraint",
    "add_unique_constraint": "remove_unique_constraint",
    "enable_extension": "disable_extension",
    "disable_extension": "enable_extension",
    "create_join_table": "drop_join_table",
    "drop_join_table": "create_join_table",
}
"""Methods Rails itself inverts by calling the opposite with the same arguments."""
_NOTHING = frozenset(
    {
        "change_table",
        "validate_foreign_key",
        "validate_check_constraint",
        "validate_constraint",
        "change_column_comment",
        "change_table_comment",
    }
)


def _inverse(call: RailsCall, down: _Down, indent: str) -> None:
    """Append the inverse of one call to `down` (or what stops it)."""
    method, table = call.method, call.table.text if call.table is not None else ""
    written = text_of(call.node).split("\n", 1)[0].strip()
    if method in _NOTHING:
        return
    if method in _SAME_ARGS:
        down.lines.append(f"{_SAME_ARGS[method]} {_arguments(call)}")
        return
    if method == "create_table":
        down.lines.append(f"drop_table {table}")
    elif method == "add_column":
        down.lines += [
            f"remove_column {table}, {_sym(o.column.name)}"
            for o in call.ops
            if isinstance(o, AddColumn)
        ]
    elif method in ("remove_column", "remove_columns"):
        _restore_columns(call, down, written)
    elif method == "change_column_null":
        null = literal(call.rest[1]) if len(call.rest) > 1 else None
        if not isinstance(null, bool):
            down.stops.append(f"{written} (the previous nullability is not known)")
        else:
            down.lines.append(
                f"change_column_null {table}, {text_of(call.rest[0])}, {str(not null).lower()}"
            )
    elif method == "change_column_default":
        options = call.args.options
        if "from" in options and "to" in options and call.rest:
            down.lines.append(
                f"change_column_default {table}, {text_of(call.rest[0])}, "
                f"from: {text_of(options['to'])}, to: {text_of(options['from'])}"
            )
        else:
            down.stops.append(f"{written} (the previous default is not stated: use from:/to:)")
    elif method in ("rename_column", "rename_index") and len(call.rest) > 1:
        old, new = text_of(call.rest[0]), text_of(call.rest[1])
        down.lines.append(f"{method} {table}, {new}, {old}")
    elif method == "rename_table" and call.rest:
        down.lines.append(f"rename_table {text_of(call.rest[0])}, {table}")
    elif method == "add_index":
        down.lines.append(_remove_index(call))
    else:
        _inverse_more(call, down, indent, written)


def _inverse_more(call: RailsCall, down: _Down, indent: str, written: str) -> None:
    method = call.method
    if method == "remove_index":
        column = call.rest[0] if call.rest else call.args.options.get("column")
        if column is None:
            down.stops.append(f"{written} (the index's columns are not stated)")
            return
        skip = frozenset({"column", "if_exists"})
        table = call.table.text if call.table is not None else ""
        options = [text_of(p) for k, p in call.args.pairs.items() if k not in skip]
        down.lines.append(", ".join([f"add_index {table}", text_of(column), *options]))
    elif method == "drop_table" and call.node.child_by_field_name("block") is not None:
        method_node = call.node.child_by_field_name("method")
        assert method_node is not None
        source = text_of(call.node)
        start = method_node.start_byte - call.node.start_byte
        end = method_node.end_byte - call.node.start_byte
        created = source[:start] + "create_table" + source[end:]
        created = re.sub(r",\s*if_exists:\s*true", "", created)
        down.lines.extend(_reindent(created, _column(call.node), indent).split("\n"))
    elif method == "remove_foreign_key" and call.rest:
        down.lines.append(f"add_foreign_key {_arguments(call)}")
    elif method == "remove_check_constraint" and (call.rest or "expression" in call.args.options):
        down.lines.append(f"add_check_constraint {_arguments(call)}")
    elif method == "create_enum" and call.table is not None:
        down.lines.append(f"drop_enum {call.table.text}")
    elif method == "create_schema" and call.table is not None:
        down.lines.append(f"drop_schema {call.table.text}")
    else:
        down.stops.append(f"{written} ({_reason(call)})")


def _reason(call: RailsCall) -> str:
    if any(isinstance(o, ExecuteSQL) for o in call.ops):
        return "it runs SQL"
    if any(isinstance(o, DataChange) for o in call.ops):
        return "it changes data"
    if call.method == "change_column":
        return "the previous type is not recorded"
    if call.method == "drop_table":
        return "the table's columns are not stated"
    if call.method in ("remove_foreign_key", "remove_check_constraint"):
        return "the constraint's definition is not stated"
    return "no known inverse"


def _restore_columns(call: RailsCall, down: _Down, written: str) -> None:
    """`remove_column :t, :c, :type, ...` → `add_column :t, :c, :type, ...`."""
    table = call.table.text if call.table is not None else ""
    type_node = call.args.options.get("type")
    if call.method == "remove_column" and len(call.rest) > 1:
        names, type_text = call.rest[:1], text_of(call.rest[1])
    elif type_node is not None:
        names = call.rest if call.method == "remove_columns" else call.rest[:1]
        type_text = text_of(type_node)
    else:
        down.stops.append(f"{written} (the column's type is not stated)")
        return
    skip = frozenset({"type", "if_exists"})
    options = [text_of(p) for k, p in call.args.pairs.items() if k not in skip]
    for name in names:
        down.lines.append(", ".join([f"add_column {table}", text_of(name), type_text, *options]))


def _remove_index(call: RailsCall) -> str:
    table = call.table.text if call.table is not None else ""
    parts = [f"remove_index {table}"]
    if call.rest:
        parts.append(text_of(call.rest[0]))
    for key in ("name", "algorithm"):
        pair = call.args.pairs.get(key)
        if pair is not None:
            parts.append(text_of(pair))
    if literal(call.args.options.get("if_not_exists")) is True:
        parts.append("if_exists: true")
    return ", ".join(parts)


def _column(node: Node) -> int:
    return node.start_point[1]


def _reindent(source: str, column: int, indent: str) -> str:
    """A multi-line node's text moved from `column` to `indent` (its first line is placed by
    the caller)."""
    lines = source.split("\n")
    out = [lines[0]]
    for line in lines[1:]:
        strip = min(column, len(line) - len(line.lstrip(" ")))
        out.append(indent + line[strip:] if line.strip() else "")
    return "\n".join(out)


def _down_lines(rails: RailsFile, items: list[RailsCall | Node], indent: str) -> list[str]:
    """The body of a `down` undoing `items` (calls, and `reversible` blocks copied as they
    are), last first; what cannot be undone raises IrreversibleMigration first."""
    down = _Down()
    for item in sorted(items, key=lambda i: -_start(i)):
        if isinstance(item, RailsCall):
            _inverse(item, down, indent)
        else:
            down.lines.extend(_reindent(text_of(item), _column(item), indent).split("\n"))
    lines: list[str] = []
    if down.stops:
        lines += [f"# TODO: undo {stop}" for stop in down.stops]
        lines.append(f'{IRREVERSIBLE}, "{_plural(len(down.stops))} cannot be reversed"')
    lines += down.lines
    return [indent + line if line and not line.startswith(indent) else line for line in lines]


def _plural(count: int) -> str:
    return "this step" if count == 1 else f"these {count} steps"


def _start(item: RailsCall | Node) -> int:
    return item.node.start_byte if isinstance(item, RailsCall) else item.start_byte


def _top_level(rails: RailsFile, section: str, within: Node) -> list[RailsCall | Node]:
    """The calls of one method to invert: not those inside a `create_table` block (dropping
    the table undoes them) nor inside `reversible` / `up_only` blocks."""
    items: list[RailsCall | Node] = [
        call
        for call in rails.calls
        if call.section == section
        and call.in_block != "create_table"
        and within.start_byte <= call.node.start_byte < within.end_byte
    ]
    if section == "change":
        items += [
            node
            for node, kind in rails.blocks
            if kind == "reversible"
            and within.start_byte <= node.start_byte < within.end_byte
            and not _nested(node, rails)
        ]
    return items


def _nested(node: Node, rails: RailsFile) -> bool:
    return any(
        other is not node
        and kind == "reversible"
        and other.start_byte <= node.start_byte
        and node.end_byte <= other.end_byte
        for other, kind in rails.blocks
    )


def _body_indent(rails: RailsFile, method: Node) -> str:
    text = rails.migration.text
    own = indentation(text, rails.source.span(method).start)
    body = method.child_by_field_name("body")
    if body is not None and named_children(body):
        inner = indentation(text, rails.source.span(named_children(body)[0]).start)
        if len(inner) > len(own):
            return inner
    return own + "  "


def add_downgrade(finding: Finding, migration: Migration) -> Fix | None:
    """missing-downgrade / empty-downgrade: a `down` inverting `up`."""
    rails = _read(migration)
    if rails is None or "up" not in rails.methods or "change" in rails.methods:
        return None
    up = rails.methods["up"]
    indent = _body_indent(rails, up)
    lines = _down_lines(rails, _top_level(rails, "up", up), indent)
    if not lines:
        return None
    down = rails.methods.get("down")
    if down is None:
        edits = [
            _insert_method(
                rails, up, "self.down" if up.type == "singleton_method" else "down", lines
            )
        ]
        return Fix("Add a down method that reverses up", edits, Applicability.UNSAFE)
    return _fill(rails, down, lines)


def _insert_method(rails: RailsFile, after: Node, name: str, lines: list[str]) -> Edit:
    text = rails.migration.text
    nl = newline_of(text)
    own = indentation(text, rails.source.span(after).start)
    body = nl.join(lines)
    return insert(rails.source.span(after).end, f"{nl}{nl}{own}def {name}{nl}{body}{nl}{own}end")


def _fill(rails: RailsFile, down: Node, lines: list[str]) -> Fix | None:
    """An empty `down`: the lines go in before its `end`."""
    text = rails.migration.text
    nl = newline_of(text)
    span = rails.source.span(down)
    end_keyword = down.children[-1]
    end = rails.source.span(end_keyword)
    if end_keyword.type != "end":
        return None
    own = indentation(text, span.start)
    body = nl.join(lines)
    if text.count("\n", span.start, end.start) == 0:  # def down; end
        name = "self.down" if down.type == "singleton_method" else "down"
        edit = replace(span, f"def {name}{nl}{body}{nl}{own}end")
    else:
        edit = insert(line_start(text, end.start), body + nl)
    return Fix("Fill the empty down with the reverse of up", [edit], Applicability.UNSAFE)


def convert_to_up_down(finding: Finding, migration: Migration) -> Fix | None:
    """irreversible-change: `change` → `up` and a generated `down`."""
    rails = _read(migration)
    if rails is None or "change" not in rails.methods or "down" in rails.methods:
        return None
    change = rails.methods["change"]
    name = change.child_by_field_name("name")
    if name is None:
        return None
    indent = _body_indent(rails, change)
    lines = _down_lines(rails, _top_level(rails, "change", change), indent)
    edits = [
        replace(rails.source.span(name), "up"),
        _insert_method(rails, change, "down", lines or [f"{indent}{IRREVERSIBLE}"]),
    ]
    return Fix("Convert change to up and down", edits, Applicability.UNSAFE)


RAILS_BUILDERS: dict[str, Builder] = {
    "non-concurrent-index": use_concurrently,
    "non-concurrent-index-drop": use_concurrently,
    "concurrent-index-in-transaction": run_outside_transaction,
    "foreign-key-without-not-valid": split_not_valid,
    "check-constraint-without-not-valid": split_not_valid,
    "missing-downgrade": add_downgrade,
    "empty-downgrade": add_downgrade,
    "irreversible-change": convert_to_up_down,
}
"""Rule id → builder, registered as `TOOL_BUILDERS["rails"]`."""
