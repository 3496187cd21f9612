"""The Rails migration DSL, call by call → model operations (see `parse/rails.py`).

`Reader.visit` walks a method body; every call it knows becomes operations with exact spans
(`keyword` the method name, `table`, `column`, `name`, `concurrently`, ...) and a `RailsCall`
record; calls it does not know are looked into, so DSL calls inside `say_with_time`, `if`,
`transaction` or any other block are still found.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

from tree_sitter import Node

from migration_lsp.model import (
    AddColumn,
    AddConstraint,
    AlterColumn,
    AlterEnum,
    Column,
    CreateIndex,
    CreateTable,
    DataChange,
    DataKind,
    Default,
    DropColumn,
    DropConstraint,
    DropIndex,
    DropSchema,
    DropTable,
    Operation,
    OtherStatement,
    RenameColumn,
    RenameTable,
    Step,
    ValidateConstraint,
)
from migration_lsp.parse.host_sql import sql_operations
from migration_lsp.parse.rails import Ctx, RailsCall, RailsFile, Relation, Section, TableRef
from migration_lsp.parse.rails_syntax import (
    UNKNOWN,
    Args,
    arguments,
    block_of,
    call_parts,
    hash_options,
    heredoc_start,
    is_true,
    literal,
    name_of,
    names_of,
    receiver_chain,
    ruby_kinds,
    ruby_string,
    text_of,
)
from migration_lsp.parse.rails_types import (
    COLUMN_TYPES,
    check_constraint_name,
    foreign_key_name,
    pluralize,
    singularize,
    sql_type,
    table_of_model,
)
from migration_lsp.parse.sql import VOLATILE_FUNCTIONS
from migration_lsp.parse.treesitter import named_children
from migration_lsp.text import Span

Handler = Callable[["Reader", Node, TableRef, list[Node], Args, Ctx], list[Operation]]

_EXECUTE = frozenset({"execute", "exec_query", "exec_update", "exec_delete", "exec_insert"})
_DATA_METHODS: dict[str, DataKind] = {
    "update_all": "update",
    "delete_all": "delete",
    "destroy_all": "delete",
    "insert_all": "insert",
    "insert_all!": "insert",
    "upsert_all": "insert",
    "insert": "insert",
    "insert!": "insert",
    "upsert": "insert",
    "create": "insert",
    "create!": "insert",
    "find_or_create_by": "insert",
    "find_or_create_by!": "insert",
}
_ROW_METHODS: dict[str, DataKind] = {
    "update": "update",
    "update!": "update",
    "update_column": "update",
    "update_columns": "update",
    "update_attribute": "update",
    "save": "update",
    "save!": "update",
    "touch": "update",
    "increment!": "update",
    "decrement!": "update",
    "toggle!": "update",
    "destroy": "delete",
    "destroy!": "delete",
    "delete": "delete",
}
_UNFILTERED = frozenset(
    {"all", "unscoped", "in_batches", "order", "reorder", "includes", "preload", "readonly"}
)
_LOOPS = {"in_batches": False, "find_each": True, "each": True}
"""Block methods over a model relation → whether the block sees one row (or a batch)."""
_TABLE_METHODS = {
    "column": "add_column",
    "references": "add_reference",
    "belongs_to": "add_reference",
    "timestamps": "add_timestamps",
    "index": "add_index",
    "remove": "remove_columns",
    "rename": "rename_column",
    "change": "change_column",
    "change_default": "change_column_default",
    "change_null": "change_column_null",
    "remove_index": "remove_index",
    "remove_references": "remove_reference",
    "remove_belongs_to": "remove_reference",
    "remove_timestamps": "remove_timestamps",
    "check_constraint": "add_check_constraint",
    "remove_check_constraint": "remove_check_constraint",
    "foreign_key": "add_foreign_key",
    "remove_foreign_key": "remove_foreign_key",
    "unique_constraint": "add_unique_constraint",
}
"""`t.<method>` of `change_table` → the migration method it calls (`t.<type>` → add_column)."""


class Reader:
    """Turns the calls of one migration's methods into operations (see module docstring)."""

    def __init__(self, rails: RailsFile, heredocs: dict[int, Node], models: dict[str, str]):
        self.rails = rails
        self.source = rails.source
        self.migration = rails.migration
        self.heredocs = heredocs
        self.models = models
        self.keep = rails.keep_calls
        self.kinds = ruby_kinds()
        self._parts: dict[int, tuple[Node | None, str, Node | None]] = {}
        self._last: tuple[Node | None, tuple[Node | None, str, Node | None]] = (
            None,
            (None, "", None),
        )

    def parts(self, node: Node) -> tuple[Node | None, str, Node | None]:
        """`call_parts(node)`, read once per call (the reader asks for them several times,
        mostly with the same node object just after: that is checked first)."""
        last, found = self._last
        if node is last:
            return found
        key = node.id
        cached = self._parts.get(key)
        if cached is None:
            cached = self._parts[key] = call_parts(node)
        self._last = (node, cached)
        return cached

    # ------------------------------------------------------------------ walking

    def visit(self, node: Node, ctx: Ctx) -> None:
        kind = node.kind_id
        kinds = self.kinds
        if kind in kinds.not_visited:
            return
        if kind in kinds.call and self.call(node, ctx):
            return
        for child in node.named_children:  # (a comment visits nothing: no need to filter)
            self.visit(child, ctx)

    def visit_block(self, node: Node, ctx: Ctx) -> None:
        body, _ = block_of(node)
        if body is not None:
            for child in body.named_children:
                self.visit(child, ctx)

    def call(self, node: Node, ctx: Ctx) -> bool:
        """Read one call; False when it is not a known one (the caller looks inside it)."""
        receiver, method, _ = self.parts(node)
        if receiver is None or receiver.kind_id in self.kinds.self:
            return self.migration_call(node, method, ctx)
        written = text_of(receiver)
        if ctx.var is not None and written == ctx.var and ctx.table is not None:
            return self.table_call(node, method, ctx)
        if written in ctx.directions and method in ("up", "down"):
            self.direction(node, method, ctx)
            return True
        return self.other_call(node, receiver, method, ctx)

    def emit(
        self,
        node: Node,
        ops: list[Operation],
        ctx: Ctx,
        record: RailsCall | None,
        *,
        outside_changeset: tuple[Operation, ...] = (),
        sql: bool = False,
    ) -> None:
        """Add the operations of one call, with the step and transaction of `ctx` (SQL from
        `execute` knows its own: several statements in one string share an implicit one)."""
        keyword = self.keyword_span(node)
        step, written, in_tx = ctx.step, self.written(node), ctx.in_tx
        for op in ops:
            op.step = step
            op.origin = op.origin or written
            if not sql:
                op.in_transaction = in_tx
                op.spans.setdefault("keyword", keyword)
        if ctx.assured:
            self.rails.assured.extend(ops)
        else:
            self.migration.operations.extend(ops)
        if ctx.changeset is not None:
            if outside_changeset:
                ctx.changeset.operations.extend(
                    op for op in ops if not any(op is o for o in outside_changeset)
                )
            else:
                ctx.changeset.operations.extend(ops)
        if record is not None:
            self.rails.calls.append(record)

    def keyword_span(self, node: Node) -> Span:
        receiver, _, method = self.parts(node)
        end = method if method is not None else node
        start = (
            receiver if receiver is not None and receiver.kind_id not in self.kinds.self else end
        )
        return self.source.between(start, end)

    def written(self, node: Node) -> str:
        """How the source calls it: `add_column`, `t.string`, `User.where(...).update_all`."""
        receiver, written, _ = self.parts(node)
        if receiver is not None and receiver.kind_id not in self.kinds.self:
            written = f"{text_of(receiver)}.{written}"
        return written

    def record(
        self,
        node: Node,
        method: str,
        table: TableRef | None,
        rest: list[Node],
        args: Args,
        ctx: Ctx,
        ops: list[Operation],
        type_name: str | None = None,
    ) -> RailsCall | None:
        """The call's record for fixes; None when the file keeps none (`parse_rails`)."""
        if not self.keep:
            return None
        return RailsCall(
            node=node,
            method=method,
            written=self.written(node),
            table=table,
            rest=rest,
            args=args,
            step=ctx.step,
            section=ctx.section,
            ops=ops,
            assured=ctx.assured,
            in_block=ctx.block,
            type_name=type_name,
        )

    def table_ref(self, node: Node | None) -> TableRef:
        if node is None:
            return TableRef(name="", node=None, text="")
        text = self.source.node_text(node)  # (`text_of(node)`, sliced from the text)
        simple = node.kind_id in self.kinds.simple_symbol
        name = text[1:] if simple else name_of(node)  # (`symbol_name`)
        return TableRef(name=name or "", node=node, text=text)

    # ------------------------------------------------------------------ migration methods

    def migration_call(self, node: Node, method: str, ctx: Ctx) -> bool:
        args = arguments(node)
        handler = _HANDLERS.get(method)
        if handler is not None:
            positional = args.positional
            table = self.table_ref(positional[0] if positional else None)
            ops = handler(self, node, table, positional[1:], args, ctx)
            self.emit(
                node, ops, ctx, self.record(node, method, table, positional[1:], args, ctx, ops)
            )
            return True
        if method in _EXECUTE and args.positional:
            self.execute(node, args.positional[0], ctx)
            return True
        if method in ("create_table", "create_join_table"):
            self.create_table(node, method, args, ctx)
            return True
        if method == "change_table":
            table = self.table_ref(args.positional[0] if args.positional else None)
            record = self.record(node, method, table, [], args, ctx, [])
            if record is not None:
                self.rails.calls.append(record)
            _, params = block_of(node)
            inner = replace(
                ctx, table=table, block="change_table", var=params[0] if params else None
            )
            self.visit_block(node, inner)
            return True
        return self.block_call(node, method, ctx)

    def block_call(self, node: Node, method: str, ctx: Ctx) -> bool:
        """`reversible`, `up_only`, `safety_assured`, `transaction`, `revert` blocks."""
        if method == "reversible":
            self.rails.blocks.append((node, method))
            _, params = block_of(node)
            inner = replace(
                ctx, changeset=None, section="reversible", directions=frozenset(params[:1])
            )
            self.visit_block(node, inner)
            return True
        if method == "up_only":
            self.rails.blocks.append((node, method))
            if ctx.method != "down":
                self.visit_block(node, replace(ctx, changeset=None, section="up_only"))
            return True
        if method == "safety_assured":
            self.visit_block(node, replace(ctx, assured=True))
            return True
        if method == "transaction":
            self.rails.blocks.append((node, method))
            self.visit_block(node, replace(ctx, in_tx=True))
            return True
        if method == "revert":
            self.rails.blocks.append((node, method))
            self.migration.notes.append("revert blocks are not checked")
            return True
        return False

    def direction(self, node: Node, method: str, ctx: Ctx) -> None:
        """`dir.up { ... }` / `dir.down { ... }` inside `reversible`: each runs in its own
        direction (`dir.up` in `def down` never runs)."""
        if (method == "up" and ctx.method == "down") or (method == "down" and ctx.method == "up"):
            return
        step = Step.UP if method == "up" else Step.DOWN
        section: Section = "reversible"
        self.visit_block(node, replace(ctx, step=step, section=section, directions=frozenset()))

    # ------------------------------------------------------------------ create_table

    def create_table(self, node: Node, method: str, args: Args, ctx: Ctx) -> None:
        positional = args.positional
        if method == "create_join_table":
            names = [name_of(n) or "" for n in positional[:2]]
            table_name = name_of(args.options.get("table_name")) or "_".join(sorted(names))
            table = TableRef(table_name, None, f":{table_name}")
            columns = [
                Column(name=f"{singularize(n)}_id", type="bigint", nullable=False) for n in names
            ]
        else:
            table = self.table_ref(positional[0] if positional else None)
            columns = self.primary_key_columns(args)
        create = CreateTable(
            span=self.source.span(node),
            table=table.name,
            columns=columns,
            if_not_exists=is_true(args.options.get("if_not_exists")),
            spans={"table": self.source.span(table.node)} if table.node is not None else {},
        )
        ops: list[Operation] = []
        outside: tuple[Operation, ...] = ()
        if "force" in args.options and literal(args.options["force"]) not in (None, False):
            drop = DropTable(
                span=self.source.span(node),
                table=table.name,
                if_exists=True,
                spans={"keyword": self.source.span(args.pairs["force"])},
            )
            ops.append(drop)
            outside = (drop,)
        ops.append(create)
        record = None
        if self.keep:
            written = self.table_ref(positional[0] if positional else None)  # as the call says
            record = self.record(node, method, written, positional[1:], args, ctx, ops)
        self.emit(node, ops, ctx, record, outside_changeset=outside)
        _, params = block_of(node)
        inner = replace(
            ctx,
            table=table,
            block="create_table",
            var=params[0] if params else None,
            create=create,
            changeset=None,
        )
        self.visit_block(node, inner)
        composite = names_of(args.options.get("primary_key"))
        if len(composite) > 1:
            for column in create.columns:
                column.primary_key = column.primary_key or column.name in composite
        for column in create.columns:
            if column.span is not None and column.name:
                create.spans.setdefault(f"column:{column.name}", column.span)

    def primary_key_columns(self, args: Args) -> list[Column]:
        """The `id` column `create_table` adds unless `id: false` (bigint, or `id: :uuid`)."""
        id_option = args.options.get("id")
        kind = literal(id_option) if id_option is not None else "primary_key"
        pk = args.options.get("primary_key")
        pk_names = names_of(pk)
        if kind is False or len(pk_names) > 1:
            return []
        name = pk_names[0] if pk_names else "id"
        if kind in ("primary_key", "bigint", "bigserial", True, UNKNOWN):
            return [Column(name=name, type="bigint", nullable=False, primary_key=True, serial=True)]
        if kind in ("integer", "serial"):
            return [
                Column(name=name, type="integer", nullable=False, primary_key=True, serial=True)
            ]
        if kind == "uuid":
            default = Default(text="gen_random_uuid()", volatile_function="gen_random_uuid")
            return [
                Column(name=name, type="uuid", nullable=False, primary_key=True, default=default)
            ]
        type_ = sql_type(kind, {}, self.migration.dialect) if isinstance(kind, str) else None
        return [Column(name=name, type=type_, nullable=False, primary_key=True)]

    # ------------------------------------------------------------------ t.* calls

    def table_call(self, node: Node, method: str, ctx: Ctx) -> bool:
        assert ctx.table is not None
        args = arguments(node)
        if ctx.block == "create_table":
            return self.create_table_call(node, method, args, ctx)
        type_name: str | None = None
        target = _TABLE_METHODS.get(method)
        if target is None and method in COLUMN_TYPES:
            target, type_name = "add_column", method
        handler = _HANDLERS.get(target or "")
        if handler is None:
            return False
        rest = args.positional
        if type_name is not None:
            ops = self.add_columns(node, ctx.table, rest, args, ctx, type_name)
        else:
            ops = handler(self, node, ctx.table, rest, args, ctx)
        assert target is not None
        record = self.record(node, target, ctx.table, rest, args, ctx, ops, type_name)
        self.emit(node, ops, ctx, record)
        return True

    def create_table_call(self, node: Node, method: str, args: Args, ctx: Ctx) -> bool:
        """A `t.*` call inside `create_table`: columns of the new table, or its indexes and
        constraints (operations on a new table, after the `CreateTable`)."""
        create: CreateTable = ctx.create
        table = ctx.table
        assert table is not None
        ops: list[Operation] = []
        if method in COLUMN_TYPES:
            names = args.positional
            type_name = method
            if method == "column":
                names, type_name = args.positional[:1], name_of(_at(args.positional, 1)) or ""
            for name_node in names:
                create.columns.append(self.column(name_node, type_name, args))
            ops = self.column_indexes(node, table, args, [name_of(n) or "" for n in names])
        elif method in ("references", "belongs_to"):
            for ref_node in args.positional:
                columns, index = self.reference_columns(node, table, ref_node, args)
                create.columns.extend(columns)
                ops.extend(index)
        elif method == "timestamps":
            create.columns.extend(self.timestamps(node, args, default_null=False))
        elif method in ("index", "check_constraint", "foreign_key", "unique_constraint"):
            target = _TABLE_METHODS[method]
            ops = _HANDLERS[target](self, node, table, args.positional, args, ctx)
        else:
            return False
        record = self.record(node, method, table, args.positional, args, ctx, ops)
        self.emit(node, ops, ctx, record)
        return True

    def column_indexes(
        self, node: Node, table: TableRef, args: Args, names: list[str]
    ) -> list[Operation]:
        """`t.string :email, index: true` (or `index: { unique: true }`) in `create_table`."""
        index = args.options.get("index")
        if index is None or literal(index) in (False, None):
            return []
        options = hash_options(index)
        return [
            CreateIndex(
                span=self.source.span(node),
                name=name_of(options.get("name")),
                table=table.name,
                columns=[n],
                unique=is_true(options.get("unique")),
                concurrently=literal(options.get("algorithm")) == "concurrently",
            )
            for n in names
        ]

    # ------------------------------------------------------------------ columns

    def column(self, name_node: Node, type_name: str, args: Args) -> Column:
        options = {k: literal(v) for k, v in args.options.items()}
        name = name_of(name_node) or ""
        if type_name in COLUMN_TYPES or type_name == "primary_key":
            type_ = sql_type(type_name, options, self.migration.dialect)
        else:
            type_ = type_name.lower() or None
        null = options.get("null")
        return Column(
            name=name,
            type=type_,
            nullable=null is not False and type_name != "primary_key",
            default=self.default(args.options.get("default")),
            primary_key=options.get("primary_key") is True or type_name == "primary_key",
            serial=type_name in ("primary_key", "serial", "bigserial"),
            generated_stored=type_name == "virtual" and options.get("stored") is True,
            span=self.source.span(name_node),
        )

    def default(self, node: Node | None) -> Default | None:
        """`default: "x"` (a literal) or `default: -> { "now()" }` (SQL)."""
        if node is None:
            return None
        if node.type == "lambda":
            sql = ""
            for child in named_children(node):
                body = child.child_by_field_name("body") if child.type == "block" else child
                for inner in named_children(body) if body is not None else []:
                    value = literal(inner)
                    sql = value if isinstance(value, str) else text_of(inner)
            return Default(text=sql, volatile_function=_volatile(sql))
        value = literal(node)
        if value is None:
            return None
        text = f"'{value}'" if isinstance(value, str) and node.type == "string" else text_of(node)
        return Default(text=text)

    def add_columns(
        self,
        node: Node,
        table: TableRef,
        rest: list[Node],
        args: Args,
        ctx: Ctx,
        type_name: str | None = None,
    ) -> list[Operation]:
        """`add_column :t, :c, :type, ...` and `t.<type> :a, :b, ...` in `change_table`."""
        if type_name is None:
            names = rest[:1]
            type_node = _at(rest, 1)
            type_name = name_of(type_node) or ""
        else:
            names, type_node = rest, None
        ops: list[Operation] = []
        for name_node in names:
            column = self.column(name_node, type_name, args)
            spans = self.table_spans(table, column=name_node)
            if type_node is not None:
                spans["type_"] = self.source.span(type_node)
            for option, part in (("null", "nullable"), ("default", "server_default")):
                if option in args.pairs:
                    spans[part] = self.source.span(args.pairs[option])
            ops.append(
                AddColumn(
                    span=self.source.span(node),
                    table=table.name,
                    column=column,
                    if_not_exists=is_true(args.options.get("if_not_exists")),
                    spans=spans,
                )
            )
        return ops

    def table_spans(self, table: TableRef, **parts: Node | None) -> dict[str, Span]:
        spans: dict[str, Span] = {}
        if table.node is not None:
            spans["table"] = self.source.span(table.node)
        for part, node in parts.items():
            if node is not None:
                spans[part] = self.source.span(node)
        return spans

    def timestamps(self, node: Node, args: Args, default_null: bool) -> list[Column]:
        """`created_at` and `updated_at`, NOT NULL unless `null: true` (Rails 5+)."""
        options = {k: literal(v) for k, v in args.options.items()}
        null = options.get("null")
        nullable = null is True or (null is None and default_null) or null is UNKNOWN
        type_ = sql_type("datetime", options, self.migration.dialect)
        span = self.keyword_span(node)
        return [
            Column(
                name=name,
                type=type_,
                nullable=nullable,
                default=self.default(args.options.get("default")),
                span=span,
            )
            for name in ("created_at", "updated_at")
        ]

    def reference_columns(
        self, node: Node, table: TableRef, ref_node: Node, args: Args
    ) -> tuple[list[Column], list[Operation]]:
        """The `<ref>_id` (and `<ref>_type`) columns of a reference, and its index."""
        ref = name_of(ref_node) or ""
        options = {k: literal(v) for k, v in args.options.items()}
        type_name = options.get("type")
        type_ = sql_type(type_name if isinstance(type_name, str) else "bigint", options, None)
        foreign_key = args.options.get("foreign_key")
        references = None
        if foreign_key is not None and literal(foreign_key) not in (False, None):
            to_table = name_of(hash_options(foreign_key).get("to_table"))
            references = to_table or pluralize(ref)
        span = self.source.span(ref_node)
        nullable = options.get("null") is not False
        columns = [
            Column(
                name=f"{ref}_id", type=type_, nullable=nullable, references=references, span=span
            )
        ]
        if options.get("polymorphic") not in (None, False):
            columns.insert(
                0, Column(name=f"{ref}_type", type="varchar", nullable=nullable, span=span)
            )
        index = args.options.get("index")
        if index is not None and literal(index) in (False, None):
            return columns, []
        index_options = hash_options(index)
        spans = self.table_spans(table, column=ref_node)
        algorithm = index_options.get("algorithm")
        if algorithm is not None:
            spans["concurrently"] = self.source.span(algorithm)
        if index is not None:
            spans["index"] = self.source.span(args.pairs["index"])
        for column in columns:
            column.index = True
        return columns, [
            CreateIndex(
                span=self.source.span(node),
                name=name_of(index_options.get("name")),
                table=table.name,
                columns=[c.name for c in columns],
                unique=is_true(index_options.get("unique")),
                concurrently=literal(algorithm) == "concurrently",
                spans=spans,
            )
        ]

    # ------------------------------------------------------------------ SQL and data

    def execute(self, node: Node, argument: Node, ctx: Ctx) -> None:
        opener = heredoc_start(argument)
        heredoc = self.heredocs.get(opener.start_byte) if opener is not None else None
        string = ruby_string(self.source, argument, heredoc)
        _, method, _ = self.parts(node)
        keyword = self.keyword_span(node)
        call = self.source.span(node)
        if heredoc is not None:  # the statement ends with its heredoc's body
            call = Span(call.start, max(call.end, self.source.span(heredoc).end))
        ops, problems = sql_operations(
            call=call,
            keyword=keyword,
            string=self.source.span(string.node),
            value=string.value,
            positions=string.positions,
            formatted=string.formatted or argument.type == "binary",
            step=ctx.step,
            in_transaction=ctx.in_tx,
            transaction="always" if ctx.in_tx else "multi",
            dialect=self.migration.dialect,
            origin=method,
        )
        record = None
        if self.keep:
            rest = arguments(node).positional
            record = self.record(node, "execute", None, rest, Args(), ctx, ops)
        ops[0].origin = self.written(node)
        self.migration.problems.extend(problems)
        self.emit(node, ops, ctx, record, sql=True)

    def other_call(self, node: Node, receiver: Node, method: str, ctx: Ctx) -> bool:
        """Calls on something else: `connection.execute`, model data changes, loops over rows,
        `ActiveRecord::Base.transaction do`."""
        root, chain = receiver_chain(node)
        methods = [m for m, _ in chain]
        args = arguments(node)
        via_connection = "connection" in methods[:-1] or text_of(root) == "connection"
        if method in _EXECUTE and via_connection and args.positional:
            self.execute(node, args.positional[0], ctx)
            return True
        if method == "transaction" and node.child_by_field_name("block") is not None:
            self.rails.blocks.append((node, method))
            self.visit_block(node, replace(ctx, in_tx=True))
            return True
        relation = ctx.relation(text_of(root)) if root is not None else None
        table: str | None = None
        if root is not None and root.type in ("constant", "scope_resolution"):
            model = text_of(root).rsplit("::", 1)[-1]
            if text_of(root).startswith(("ActiveRecord", "Rails")):
                return False
            table = self.models.get(model) or table_of_model(model)
        elif relation is not None:
            table = relation.table
        if table is None:
            return False
        if method in _LOOPS and node.child_by_field_name("block") is not None:
            _, params = block_of(node)
            if params:
                block = node.child_by_field_name("block")
                assert block is not None
                loop = Span(self.source.span(node).start, self.source.span(block).start)
                per_row = _LOOPS[method] and "in_batches" not in methods
                bound = (params[0], Relation(table, per_row, loop))
                self.visit_block(node, replace(ctx, relations=(*ctx.relations, bound)))
                return True
        change = self.data_change(node, method, chain, table, relation)
        if change is None:
            return False
        record = self.record(node, method, None, args.positional, args, ctx, [change])
        self.emit(node, [change], ctx, record)
        return True

    def data_change(
        self,
        node: Node,
        method: str,
        chain: list[tuple[str, Node]],
        table: str,
        relation: Relation | None,
    ) -> DataChange | None:
        kind = _DATA_METHODS.get(method)
        per_row = False
        if relation is not None and relation.per_row and len(chain) == 1:
            kind = _ROW_METHODS.get(method)
            per_row = kind is not None
        if kind is None:
            return None
        filters = [(m, n) for m, n in chain[:-1] if m not in _UNFILTERED]
        batched = relation is not None or any(m == "in_batches" for m, _ in chain)
        has_where = bool(filters) or per_row
        null_only = bool(filters) and all(_null_test(n) for _, n in filters)
        spans = {"keyword": self.source.span(chain[-1][1].child_by_field_name("method") or node)}
        if per_row and relation is not None:
            spans["loop"] = relation.loop
            spans["call"] = self.keyword_span(node)
        return DataChange(
            span=self.source.span(node),
            kind=kind,
            table=table,
            has_where=has_where,
            unbounded=kind in ("update", "delete") and not batched and (not has_where or null_only),
            per_row=per_row,
            spans=spans,
        )


def _at(nodes: list[Node], index: int) -> Node | None:
    return nodes[index] if len(nodes) > index else None


def _volatile(sql: str) -> str | None:
    """The volatile function a default expression calls (`gen_random_uuid()`)."""
    lowered = sql.lower()
    for name in sorted(VOLATILE_FUNCTIONS):
        at = lowered.find(name + "(")
        if at != -1 and (at == 0 or not (lowered[at - 1].isalnum() or lowered[at - 1] == "_")):
            return name
    return None


def _null_test(call: Node) -> bool:
    """`where(email: nil)` / `where("email IS NULL")`: a filter that only tests for NULL, the
    usual backfill, which still touches an unbounded set of rows."""
    _, method, _ = call_parts(call)
    if method != "where":
        return False
    args = arguments(call)
    if args.options and not args.positional:
        return all(literal(v) is None for v in args.options.values())
    if len(args.positional) == 1 and not args.options:
        value = literal(args.positional[0])
        if isinstance(value, str):
            words = value.lower().split()
            return len(words) == 3 and words[1:] == ["is", "null"]
    return False


# --------------------------------------------------------------------------- handlers
# `handler(reader, call, table, rest, args, ctx)`: `table` is the first argument (or the table
# of the `change_table` block), `rest` the positional arguments after it.


def _add_column(
    r: Reader, node: Node, t: TableRef, rest: list[Node], a: Args, c: Ctx
) -> list[Operation]:
    return r.add_columns(node, t, rest, a, c)


def _remove_column(
    r: Reader, node: Node, t: TableRef, rest: list[Node], a: Args, c: Ctx
) -> list[Operation]:
    names = rest[:1] if rest else []
    restorable = len(rest) > 1 or "type" in a.options
    return _drops(r, node, t, names, a, restorable)


def _remove_columns(
    r: Reader, node: Node, t: TableRef, rest: list[Node], a: Args, c: Ctx
) -> list[Operation]:
    return _drops(r, node, t, rest, a, "type" in a.options)


def _drops(
    r: Reader, node: Node, t: TableRef, names: list[Node], a: Args, restorable: bool
) -> list[Operation]:
    return [
        DropColumn(
            span=r.source.span(node),
            table=t.name,
            column=name_of(n) or "",
            if_exists=is_true(a.options.get("if_exists")),
            restorable=restorable,
            spans=r.table_spans(t, column=n),
        )
        for n in names
    ]


def _change_column(
    r: Reader, node: Node, t: TableRef, rest: list[Node], a: Args, c: Ctx
) -> list[Operation]:
    type_node = _at(rest, 1)
    type_name = name_of(type_node) or ""
    options = {k: literal(v) for k, v in a.options.items()}
    if type_name in COLUMN_TYPES:
        new_type = sql_type(type_name, options, r.migration.dialect)
    else:
        new_type = type_name.lower() or None
    null = options.get("null")
    spans = r.table_spans(t, column=_at(rest, 0), type_=type_node)
    if "null" in a.pairs:
        spans["nullable"] = r.source.span(a.pairs["null"])
    return [
        AlterColumn(
            span=r.source.span(node),
            table=t.name,
            column=name_of(_at(rest, 0)) or "",
            new_type=new_type,
            nullable=null if isinstance(null, bool) else None,
            spans=spans,
        )
    ]


def _change_column_null(
    r: Reader, node: Node, t: TableRef, rest: list[Node], a: Args, c: Ctx
) -> list[Operation]:
    column = name_of(_at(rest, 0)) or ""
    null = literal(_at(rest, 1))
    spans = r.table_spans(t, column=_at(rest, 0), nullable=_at(rest, 1))
    alter = AlterColumn(
        span=r.source.span(node),
        table=t.name,
        column=column,
        nullable=null if isinstance(null, bool) else None,
        restorable=True,
        spans=spans,
    )
    backfill = _at(rest, 2)
    if backfill is None or literal(backfill) is None:
        return [alter]
    # Rails first runs UPDATE t SET c = <default> WHERE c IS NULL, in one statement
    update = DataChange(
        span=r.source.span(node),
        kind="update",
        table=t.name,
        has_where=True,
        unbounded=True,
        spans={"keyword": r.source.span(backfill)},
    )
    return [update, alter]


def _change_column_default(
    r: Reader, node: Node, t: TableRef, rest: list[Node], a: Args, c: Ctx
) -> list[Operation]:
    return [
        AlterColumn(
            span=r.source.span(node),
            table=t.name,
            column=name_of(_at(rest, 0)) or "",
            restorable="from" in a.options and "to" in a.options,
            spans=r.table_spans(t, column=_at(rest, 0)),
        )
    ]


def _rename_column(
    r: Reader, node: Node, t: TableRef, rest: list[Node], a: Args, c: Ctx
) -> list[Operation]:
    return [
        RenameColumn(
            span=r.source.span(node),
            table=t.name,
            column=name_of(_at(rest, 0)) or "",
            new_name=name_of(_at(rest, 1)) or "",
            spans=r.table_spans(t, column=_at(rest, 0), new_name=_at(rest, 1)),
        )
    ]


def _rename_table(
    r: Reader, node: Node, t: TableRef, rest: list[Node], a: Args, c: Ctx
) -> list[Operation]:
    return [
        RenameTable(
            span=r.source.span(node),
            table=t.name,
            new_name=name_of(_at(rest, 0)) or "",
            spans=r.table_spans(t, new_name=_at(rest, 0)),
        )
    ]


def _drop_table(
    r: Reader, node: Node, t: TableRef, rest: list[Node], a: Args, c: Ctx
) -> list[Operation]:
    block = node.child_by_field_name("block") is not None
    tables = [t] + [r.table_ref(n) for n in rest]
    return [
        DropTable(
            span=r.source.span(node),
            table=table.name,
            if_exists=is_true(a.options.get("if_exists")),
            restorable=block,
            spans=r.table_spans(table),
        )
        for table in tables
    ]


def _drop_join_table(
    r: Reader, node: Node, t: TableRef, rest: list[Node], a: Args, c: Ctx
) -> list[Operation]:
    names = [t.name, name_of(_at(rest, 0)) or ""]
    table = name_of(a.options.get("table_name")) or "_".join(sorted(names))
    return [DropTable(span=r.source.span(node), table=table, restorable=True)]


def _add_timestamps(
    r: Reader, node: Node, t: TableRef, rest: list[Node], a: Args, c: Ctx
) -> list[Operation]:
    spans = r.table_spans(t)
    spans["column"] = r.keyword_span(node)
    if "null" in a.pairs:
        spans["nullable"] = r.source.span(a.pairs["null"])
    return [
        AddColumn(span=r.source.span(node), table=t.name, column=column, spans=dict(spans))
        for column in r.timestamps(node, a, default_null=False)
    ]


def _remove_timestamps(
    r: Reader, node: Node, t: TableRef, rest: list[Node], a: Args, c: Ctx
) -> list[Operation]:
    return [
        DropColumn(
            span=r.source.span(node),
            table=t.name,
            column=name,
            restorable=True,
            spans=r.table_spans(t),
        )
        for name in ("created_at", "updated_at")
    ]


def _add_index(
    r: Reader, node: Node, t: TableRef, rest: list[Node], a: Args, c: Ctx
) -> list[Operation]:
    columns_node = _at(rest, 0)
    columns = names_of(columns_node)
    if not columns and columns_node is not None:
        columns = [text_of(columns_node)]  # an expression: add_index :t, "lower(email)"
    spans = r.table_spans(t, name=a.options.get("name"), columns=columns_node)
    if "algorithm" in a.pairs:
        spans["concurrently"] = r.source.span(a.pairs["algorithm"])
    return [
        CreateIndex(
            span=r.source.span(node),
            name=name_of(a.options.get("name")),
            table=t.name,
            columns=columns,
            unique=is_true(a.options.get("unique")),
            concurrently=literal(a.options.get("algorithm")) == "concurrently",
            if_not_exists=is_true(a.options.get("if_not_exists")),
            spans=spans,
        )
    ]


def _remove_index(
    r: Reader, node: Node, t: TableRef, rest: list[Node], a: Args, c: Ctx
) -> list[Operation]:
    columns = names_of(_at(rest, 0)) or names_of(a.options.get("column"))
    spans = r.table_spans(t, name=a.options.get("name"))
    if "algorithm" in a.pairs:
        spans["concurrently"] = r.source.span(a.pairs["algorithm"])
    return [
        DropIndex(
            span=r.source.span(node),
            name=name_of(a.options.get("name")),
            table=t.name,
            concurrently=literal(a.options.get("algorithm")) == "concurrently",
            if_exists=is_true(a.options.get("if_exists")),
            restorable=bool(columns),
            spans=spans,
        )
    ]


def _add_reference(
    r: Reader, node: Node, t: TableRef, rest: list[Node], a: Args, c: Ctx
) -> list[Operation]:
    ref_node = _at(rest, 0)
    if ref_node is None:
        return []
    columns, index = r.reference_columns(node, t, ref_node, a)
    ops: list[Operation] = []
    for column in columns:
        spans = r.table_spans(t, column=ref_node)
        if "null" in a.pairs:
            spans["nullable"] = r.source.span(a.pairs["null"])
        ops.append(AddColumn(span=r.source.span(node), table=t.name, column=column, spans=spans))
    ops.extend(index)
    fk_column = columns[-1]
    if fk_column.references is not None:
        fk = a.options["foreign_key"]
        options = hash_options(fk)
        spans = r.table_spans(t, column=ref_node, name=options.get("name"))
        spans["foreign_key"] = r.source.span(a.pairs["foreign_key"])
        ops.append(
            AddConstraint(
                span=r.source.span(node),
                table=t.name,
                name=name_of(options.get("name")) or foreign_key_name(t.name, [fk_column.name]),
                kind="foreign_key",
                not_valid=literal(options.get("validate")) is False,
                references=fk_column.references,
                columns=[fk_column.name],
                spans=spans,
            )
        )
    return ops


def _remove_reference(
    r: Reader, node: Node, t: TableRef, rest: list[Node], a: Args, c: Ctx
) -> list[Operation]:
    ref_node = _at(rest, 0)
    ref = name_of(ref_node) or ""
    names = [f"{ref}_id"]
    if literal(a.options.get("polymorphic")) not in (None, False, UNKNOWN):
        names.append(f"{ref}_type")
    ops: list[Operation] = []
    if literal(a.options.get("foreign_key")) not in (None, False):
        ops.append(
            DropConstraint(
                span=r.source.span(node),
                table=t.name,
                name=foreign_key_name(t.name, [f"{ref}_id"]),
                kind="foreign_key",
                restorable=True,
                spans=r.table_spans(t, column=ref_node),
            )
        )
    ops.extend(
        DropColumn(
            span=r.source.span(node),
            table=t.name,
            column=name,
            restorable=True,
            spans=r.table_spans(t, column=ref_node),
        )
        for name in names
    )
    return ops


def _foreign_key_target(t: TableRef, rest: list[Node], a: Args) -> tuple[str | None, list[str]]:
    to_table = name_of(_at(rest, 0))
    columns = names_of(a.options.get("column"))
    if not columns and to_table:
        columns = [f"{singularize(to_table)}_id"]
    return to_table, columns


def _add_foreign_key(
    r: Reader, node: Node, t: TableRef, rest: list[Node], a: Args, c: Ctx
) -> list[Operation]:
    to_table, columns = _foreign_key_target(t, rest, a)
    name = name_of(a.options.get("name")) or foreign_key_name(t.name, columns)
    spans = r.table_spans(t, name=a.options.get("name"), column=a.options.get("column"))
    if "validate" in a.pairs:
        spans["validate"] = r.source.span(a.pairs["validate"])
    return [
        AddConstraint(
            span=r.source.span(node),
            table=t.name,
            name=name,
            kind="foreign_key",
            not_valid=literal(a.options.get("validate")) is False,
            references=to_table,
            columns=columns,
            spans=spans,
        )
    ]


def _remove_foreign_key(
    r: Reader, node: Node, t: TableRef, rest: list[Node], a: Args, c: Ctx
) -> list[Operation]:
    to_table, columns = _foreign_key_target(t, rest, a)
    name = name_of(a.options.get("name")) or (
        foreign_key_name(t.name, columns) if columns else None
    )
    return [
        DropConstraint(
            span=r.source.span(node),
            table=t.name,
            name=name,
            kind="foreign_key",
            restorable=to_table is not None,
            spans=r.table_spans(t, name=a.options.get("name")),
        )
    ]


def _validate_foreign_key(
    r: Reader, node: Node, t: TableRef, rest: list[Node], a: Args, c: Ctx
) -> list[Operation]:
    _, columns = _foreign_key_target(t, rest, a)
    name = name_of(a.options.get("name")) or foreign_key_name(t.name, columns)
    return [
        ValidateConstraint(
            span=r.source.span(node),
            table=t.name,
            name=name,
            spans=r.table_spans(t, name=a.options.get("name") or _at(rest, 0)),
        )
    ]


def _check_expression(rest: list[Node], a: Args) -> tuple[Node | None, str]:
    node = _at(rest, 0) or a.options.get("expression")
    value = literal(node)
    return node, value if isinstance(value, str) else text_of(node)


def _add_check_constraint(
    r: Reader, node: Node, t: TableRef, rest: list[Node], a: Args, c: Ctx
) -> list[Operation]:
    expression_node, expression = _check_expression(rest, a)
    spans = r.table_spans(t, name=a.options.get("name"), expression=expression_node)
    if "validate" in a.pairs:
        spans["validate"] = r.source.span(a.pairs["validate"])
    return [
        AddConstraint(
            span=r.source.span(node),
            table=t.name,
            name=name_of(a.options.get("name")) or check_constraint_name(t.name, expression),
            kind="check",
            not_valid=literal(a.options.get("validate")) is False,
            expression=expression,
            spans=spans,
        )
    ]


def _remove_check_constraint(
    r: Reader, node: Node, t: TableRef, rest: list[Node], a: Args, c: Ctx
) -> list[Operation]:
    expression_node, expression = _check_expression(rest, a)
    name = name_of(a.options.get("name"))
    if name is None and expression_node is not None:
        name = check_constraint_name(t.name, expression)
    return [
        DropConstraint(
            span=r.source.span(node),
            table=t.name,
            name=name,
            kind="check",
            restorable=expression_node is not None,
            spans=r.table_spans(t, name=a.options.get("name")),
        )
    ]


def _validate_check_constraint(
    r: Reader, node: Node, t: TableRef, rest: list[Node], a: Args, c: Ctx
) -> list[Operation]:
    expression_node, expression = _check_expression(rest, a)
    name = name_of(a.options.get("name")) or check_constraint_name(t.name, expression)
    return [
        ValidateConstraint(
            span=r.source.span(node),
            table=t.name,
            name=name,
            spans=r.table_spans(t, name=a.options.get("name") or expression_node),
        )
    ]


def _validate_constraint(
    r: Reader, node: Node, t: TableRef, rest: list[Node], a: Args, c: Ctx
) -> list[Operation]:
    name_node = _at(rest, 0)
    return [
        ValidateConstraint(
            span=r.source.span(node),
            table=t.name,
            name=name_of(name_node) or "",
            spans=r.table_spans(t, name=name_node),
        )
    ]


def _add_unique_constraint(
    r: Reader, node: Node, t: TableRef, rest: list[Node], a: Args, c: Ctx
) -> list[Operation]:
    return [
        AddConstraint(
            span=r.source.span(node),
            table=t.name,
            name=name_of(a.options.get("name")),
            kind="unique",
            using_index="using_index" in a.options,
            columns=names_of(_at(rest, 0)),
            spans=r.table_spans(t, name=a.options.get("name"), column=_at(rest, 0)),
        )
    ]


def _statement(keyword: str, text: str, restorable: bool) -> Handler:
    """Calls that become one SQL statement no rule models in detail (`enable_extension`)."""

    def handler(
        r: Reader, node: Node, t: TableRef, rest: list[Node], a: Args, c: Ctx
    ) -> list[Operation]:
        return [
            OtherStatement(
                span=r.source.span(node),
                keyword=keyword,
                text=text.format(name=t.name),
                restorable=restorable,
                spans=r.table_spans(t),
            )
        ]

    return handler


def _drop_enum(
    r: Reader, node: Node, t: TableRef, rest: list[Node], a: Args, c: Ctx
) -> list[Operation]:
    return [
        OtherStatement(
            span=r.source.span(node),
            keyword="DROP TYPE",
            text=f"DROP TYPE {t.name}",
            restorable=bool(rest),
            spans=r.table_spans(t),
        )
    ]


def _add_enum_value(
    r: Reader, node: Node, t: TableRef, rest: list[Node], a: Args, c: Ctx
) -> list[Operation]:
    value = name_of(_at(rest, 0)) or ""
    spans = r.table_spans(t, name=t.node)
    spans["add_value"] = r.source.span(node)
    return [
        AlterEnum(
            span=r.source.span(node),
            keyword="ALTER TYPE",
            text=f"ALTER TYPE {t.name} ADD VALUE '{value}'",
            type_name=t.name,
            value=value,
            if_not_exists=is_true(a.options.get("if_not_exists")),
            spans=spans,
        )
    ]


def _drop_schema(
    r: Reader, node: Node, t: TableRef, rest: list[Node], a: Args, c: Ctx
) -> list[Operation]:
    return [
        DropSchema(
            span=r.source.span(node),
            keyword="DROP SCHEMA",
            text=f"DROP SCHEMA {t.name}",
            name=t.name,
            if_exists=is_true(a.options.get("if_exists")),
            spans=r.table_spans(t, name=t.node),
        )
    ]


def _nothing(
    r: Reader, node: Node, t: TableRef, rest: list[Node], a: Args, c: Ctx
) -> list[Operation]:
    """Calls that change nothing the rules look at (comments, index renames)."""
    return []


_HANDLERS: dict[str, Handler] = {
    "add_column": _add_column,
    "remove_column": _remove_column,
    "remove_columns": _remove_columns,
    "change_column": _change_column,
    "change_column_null": _change_column_null,
    "change_column_default": _change_column_default,
    "rename_column": _rename_column,
    "rename_table": _rename_table,
    "drop_table": _drop_table,
    "drop_join_table": _drop_join_table,
    "add_timestamps": _add_timestamps,
    "remove_timestamps": _remove_timestamps,
    "add_index": _add_index,
    "remove_index": _remove_index,
    "add_reference": _add_reference,
    "add_belongs_to": _add_reference,
    "remove_reference": _remove_reference,
    "remove_belongs_to": _remove_reference,
    "add_foreign_key": _add_foreign_key,
    "remove_foreign_key": _remove_foreign_key,
    "validate_foreign_key": _validate_foreign_key,
    "add_check_constraint": _add_check_constraint,
    "remove_check_constraint": _remove_check_constraint,
    "validate_check_constraint": _validate_check_constraint,
    "validate_constraint": _validate_constraint,
    "add_unique_constraint": _add_unique_constraint,
    "enable_extension": _statement(
        "CREATE EXTENSION", 'CREATE EXTENSION IF NOT EXISTS "{name}"', True
    ),
    "disable_extension": _statement("DROP EXTENSION", 'DROP EXTENSION IF EXISTS "{name}"', True),
    "create_enum": _statement("CREATE TYPE", "CREATE TYPE {name} AS ENUM (...)", True),
    "drop_enum": _drop_enum,
    "add_enum_value": _add_enum_value,
    "rename_enum_value": _statement("ALTER TYPE", "ALTER TYPE {name} RENAME VALUE", True),
    "create_schema": _statement("CREATE SCHEMA", "CREATE SCHEMA {name}", True),
    "drop_schema": _drop_schema,
    "rename_index": _nothing,
    "change_column_comment": _nothing,
    "change_table_comment": _nothing,
}
"""Migration methods whose first argument is a table (or type, extension, schema)."""
