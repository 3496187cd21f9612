"""SQL text → normalized operations, with sqlglot in the project's dialect.

The text is tokenized once, split into statements at top-level semicolons, and each statement is
parsed on its own, so one bad statement costs one `ParseProblem` and the others still report.
Statements sqlglot only knows as `Command` are classified from their tokens. Offsets can be
mapped through `positions` so SQL found inside a Python string reports on the string's text.
"""

from __future__ import annotations

import logging
import re
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from enum import Enum
from functools import cache
from typing import TYPE_CHECKING, Any, Literal

from sqlglot import exp
from sqlglot.dialects.dialect import Dialect
from sqlglot.dialects.postgres import Postgres
from sqlglot.errors import ParseError, TokenError
from sqlglot.parser import Parser
from sqlglot.tokenizer_core import Token, TokenType
from sqlglot.tokens import Tokenizer

from migration_lsp.model import (
    AddColumn,
    AddConstraint,
    AlterColumn,
    AlterDomain,
    AlterEnum,
    AlterTableOptions,
    Cluster,
    Column,
    ConstraintKind,
    CreateDomain,
    CreateIndex,
    CreateTable,
    DataChange,
    Default,
    DetachPartition,
    DropColumn,
    DropConstraint,
    DropDatabase,
    DropIndex,
    DropSchema,
    DropTable,
    Operation,
    OtherStatement,
    ParseProblem,
    RefreshMaterializedView,
    Reindex,
    RenameColumn,
    RenameTable,
    SetSetting,
    Step,
    TransactionControl,
    Truncate,
    Vacuum,
    ValidateConstraint,
)
from migration_lsp.text import Span, fast_span

if TYPE_CHECKING:
    from migration_lsp.parse.sql_incremental import Segment

logging.getLogger("sqlglot").setLevel(logging.CRITICAL)

_PLAIN_TYPES: dict[tuple[type, object, bool], str] = {}


def type_sql(node: exp.Expression, dialect: Dialect) -> str:
    """A column type as the dialect writes it, lower-cased. The text of a type without
    parameters (`bigint`, `text`, `timestamptz`) depends only on its kind: it is generated
    once, not for each of the thousands of columns of a large project."""
    if isinstance(node, exp.DataType) and not any(
        value for name, value in node.args.items() if name not in ("this", "nested")
    ):
        key = (type(dialect), node.this, bool(node.args.get("nested")))
        found = _PLAIN_TYPES.get(key)
        if found is None:
            found = _PLAIN_TYPES[key] = sql_text(node, dialect).lower()
        return found
    return generated(node, dialect).lower()


new_span = fast_span
"""`Span(start, end)` without the frozen dataclass's `__init__` (parsers make thousands)."""


_GENERATED: dict[tuple[type, tuple[Any, ...]], str] = {}
_GENERATED_KEPT = 8192
_POSITION_META = frozenset({"line", "col", "start", "end"})
"""Where the parser found a node: no generator reads it."""
_ATOMS = frozenset({str, bool, int, float, type(None)})


def sql_text(node: exp.Expr, dialect: Dialect) -> str:
    """`node.sql(dialect=dialect)`: written from a copy, as `sql()` does, the copy then
    unlinked (see `_release`)."""
    copy = node.copy()
    try:
        return copy.sql(dialect=dialect, copy=False)
    finally:
        _release([copy])


def generated(node: exp.Expr, dialect: Dialect) -> str:
    """`node.sql(dialect=dialect)`, kept per tree shape (`_shape`): generating copies the tree
    first (with every node's positions), then writes it, about as long as parsing it; a
    project writes the same column types and defaults again and again."""
    shape = _shape(node)
    if shape is None:
        return sql_text(node, dialect)
    key = (type(dialect), shape)
    found = _GENERATED.get(key)
    if found is None:
        if len(_GENERATED) >= _GENERATED_KEPT:
            _GENERATED.clear()
        found = _GENERATED[key] = sql_text(node, dialect)
    return found


def _shape(node: exp.Expr) -> tuple[Any, ...] | None:
    """Everything of a tree the generator reads (`sql()` writes a detached copy, so its
    text depends on the tree alone): each node's class, arguments, comments and meta, all
    but its positions. None for a tree holding something else (a type annotation, an argument
    value that is not a plain one)."""
    if node._type is not None:
        return None
    parts: list[Any] = [type(node)]
    if node.comments:
        parts.append(("#", *node.comments))
    meta = node._meta
    if meta:
        extra = tuple((k, v) for k, v in meta.items() if k not in _POSITION_META)
        if extra:
            if any(type(v) not in _ATOMS for _, v in extra):
                return None
            parts.append(("@", *extra))
    for key, value in node.args.items():
        parts.append(key)
        kind = type(value)
        if kind in _ATOMS or isinstance(value, Enum):
            parts.append((kind, value))
        elif isinstance(value, exp.Expr):
            inner = _shape(value)
            if inner is None:
                return None
            parts.append(inner)
        elif kind is list:
            items: list[Any] = ["["]
            for item in value:
                if isinstance(item, exp.Expr):
                    inner = _shape(item)
                    if inner is None:
                        return None
                    items.append(inner)
                elif type(item) in _ATOMS:
                    items.append((type(item), item))
                else:
                    return None
            parts.append(tuple(items))
        else:
            return None
    return tuple(parts)


SQLGLOT_DIALECTS = {
    "postgresql": "postgres",
    "mysql": "mysql",
    "sqlite": "sqlite",
    "mssql": "tsql",
    "oracle": "oracle",
}

VOLATILE_FUNCTIONS = frozenset(
    {
        "random",
        "gen_random_uuid",
        "uuid_generate_v1",
        "uuid_generate_v1mc",
        "uuid_generate_v4",
        "uuidv4",
        "uuidv7",
        "clock_timestamp",
        "timeofday",
        "nextval",
        "txid_current",
        "gen_random_bytes",
    }
)

TransactionMode = Literal["always", "never", "multi"]
"""How the runner executes the text: wrapped in a transaction, not, or implicitly when the text
holds more than one statement (a multi-statement simple query in PostgreSQL)."""


@cache
def _dialect(name: str | None) -> Dialect:
    return Dialect.get_or_raise(SQLGLOT_DIALECTS.get(name or "postgresql", "postgres"))


_PER_THREAD = threading.local()


def _tokenizer(dialect: Dialect) -> Tokenizer:
    """The dialect's tokenizer for this thread, made once: `tokenize` starts afresh each
    time, and making one costs as much as tokenizing a short SQL string from Python code."""
    made: dict[int, tuple[Dialect, Tokenizer]] | None = getattr(_PER_THREAD, "made", None)
    if made is None:
        made = _PER_THREAD.made = {}
    found = made.get(id(dialect))  # by identity: a dialect's own hash is computed in Python
    if found is None or found[0] is not dialect:
        found = made[id(dialect)] = (dialect, dialect.tokenizer_class(dialect=dialect))
    return found[1]


def _parser(dialect: Dialect) -> Parser:
    """The dialect's parser for this thread, made once, as `_tokenizer` (`parse` resets all
    its state first; a statement's parse never starts another)."""
    made: dict[int, tuple[Dialect, Parser]] | None = getattr(_PER_THREAD, "parsers", None)
    if made is None:
        made = _PER_THREAD.parsers = {}
    found = made.get(id(dialect))
    if found is None or found[0] is not dialect:
        found = made[id(dialect)] = (dialect, dialect.parser())
    return found[1]


@dataclass(slots=True)
class Statement:
    """One top-level statement: its tokens and the operations it produced."""

    tokens: list[Token]
    span: Span
    operations: list[Operation] = field(default_factory=list)
    segment: Segment | None = None
    """Set by `parse_sql_document`: the cached parse the operations are shared with."""

    @property
    def keyword(self) -> str:
        return self.tokens[0].text.upper() if self.tokens else ""


@dataclass(slots=True)
class SqlResult:
    statements: list[Statement] = field(default_factory=list)
    problems: list[ParseProblem] = field(default_factory=list)

    @property
    def operations(self) -> list[Operation]:
        return [op for st in self.statements for op in st.operations]


def parse_sql(
    text: str,
    dialect: str | None,
    *,
    positions: Sequence[int] | None = None,
    step: Step = Step.UP,
    transaction: TransactionMode = "never",
) -> SqlResult:
    """Parse `text` into statements and operations.

    `positions[i]` is the document offset of `text[i]` (length `len(text) + 1`); without it the
    text is the document itself.
    """
    builder = _Builder(text, _dialect(dialect), positions, step)
    result = SqlResult()
    tokens = builder.tokenize(result)
    for chunk in _split(tokens):
        result.statements.append(builder.statement(chunk, result))
    mark_transactions(result, transaction)
    return result


def parse_sql_document(
    text: str,
    dialect: str | None,
    *,
    offset: int = 0,
    step: Step = Step.UP,
    transaction: TransactionMode | None = None,
) -> SqlResult:
    """Parse a whole SQL file (or a section of one starting at document offset `offset`),
    re-parsing only the statements an edit changed since an earlier call on a similar text
    (see `sql_incremental`). Statements carry no tokens. Operations are shared with later
    parses: change them only through `mark_transactions`. Without `transaction` they are left
    unmarked, for the caller to mark once it knows the mode."""
    from migration_lsp.parse.sql_incremental import parse_segments

    grammar = _dialect(dialect)

    def builder(chunk: str, positions: range) -> _Builder:
        return _Builder(chunk, grammar, positions, step)

    result = SqlResult()
    problems, statements = result.problems, result.statements
    add = statements.append
    for segment in parse_segments(text, grammar, dialect, step, offset, builder):
        if segment.problems:
            problems.extend(segment.problems)
        if segment.span is not None:
            add(Statement([], segment.span, segment.operations, segment))
    if transaction is not None:
        mark_transactions(result, transaction)
    return result


def mark_transactions(result: SqlResult, transaction: TransactionMode) -> None:
    """Set `in_transaction` on every operation: wrapped by the runner, or between an explicit
    BEGIN and COMMIT.

    BEGIN/COMMIT themselves count as in a transaction only when the runner opens one: in a
    multi-statement query an explicit BEGIN just turns the implicit transaction into a real one.
    Operations shared with a cached parse are replaced by marked copies, never changed."""
    always = transaction == "always"
    wrapped = always or (transaction == "multi" and len(result.statements) > 1)
    explicit = False
    for statement in result.statements:
        flag = wrapped or explicit
        for op in statement.operations:  # most statements: nothing to do
            if op.in_transaction is not flag or isinstance(op, TransactionControl):
                break
        else:
            continue
        flags = []
        differ = False
        for op in statement.operations:
            if isinstance(op, TransactionControl):
                if op.kind == "begin":
                    explicit = True
                elif op.kind in ("commit", "rollback"):
                    explicit = False
                flag = always
            else:
                flag = wrapped or explicit
            flags.append(flag)
            differ = differ or op.in_transaction is not flag
        if differ:
            _mark(statement, flags)


def _mark(statement: Statement, flags: list[bool]) -> None:
    operations = statement.operations
    if statement.segment is None:
        for op, flag in zip(operations, flags, strict=True):
            op.in_transaction = flag
        return
    from migration_lsp.parse.sql_incremental import shift_operation

    marked = []
    for op, flag in zip(operations, flags, strict=True):
        copy = shift_operation(op, 0)
        copy.in_transaction = flag
        marked.append(copy)
    statement.operations = marked
    statement.segment.operations = marked  # the next parse reuses the marked copies


def _release(trees: list[Any]) -> None:
    """Unlink parsed trees read to the end: each node points at its parent, so a tree is a
    reference cycle that only the garbage collector frees, after walking it (and all that is
    young with it) once more; without the back links it goes as soon as it is dropped. The
    operations keep nothing of it."""
    for tree in trees:
        if isinstance(tree, exp.Expr):
            for node in tree.walk():
                node.parent = None


def _split(tokens: list[Token]) -> list[list[Token]]:
    chunks: list[list[Token]] = []
    current: list[Token] = []
    for token in tokens:
        if token.token_type is TokenType.SEMICOLON:
            if current:
                chunks.append(current)
            current = []
        else:
            current.append(token)
    if current:
        chunks.append(current)
    return chunks


class _Builder:
    """Turns the statements of one text into operations; holds the offset mapping."""

    def __init__(
        self, text: str, dialect: Dialect, positions: Sequence[int] | None, step: Step
    ) -> None:
        self.text = text
        self.dialect = dialect
        self.positions = positions
        self.step = step
        self._base: int | None = None
        """With `positions` a range of consecutive offsets (a whole file's block): its first."""
        self._last = 0
        if isinstance(positions, range) and positions.step == 1:
            self._base, self._last = positions.start, len(positions) - 1

    # ------------------------------------------------------------------ positions

    def span(self, start: int, end_inclusive: int) -> Span:
        end = end_inclusive + 1
        base = self._base
        if base is not None and start >= 0 and end >= 0:  # positions[i], without the range
            last = self._last
            return new_span(
                base + (start if start < last else last), base + (end if end < last else last)
            )
        if self.positions is None:
            return new_span(start, end)
        last = len(self.positions) - 1
        return Span(self.positions[min(start, last)], self.positions[min(end, last)])

    def token_span(self, first: Token, last: Token | None = None) -> Span:
        return self.span(first.start, (last or first).end)

    def node_span(self, node: exp.Expression | None) -> Span | None:
        """Span of an identifier-like node from sqlglot's `meta` (start/end are inclusive)."""
        if node is None:
            return None
        meta = node._meta  # not `meta`, which gives each node without one a new dict
        if not meta or not meta.get("start"):
            ident = node if isinstance(node, exp.Identifier) else node.find(exp.Identifier)
            if ident is not None:
                meta = ident._meta
        if meta and "start" in meta and "end" in meta:
            return self.span(int(meta["start"]), int(meta["end"]))
        return None

    # ------------------------------------------------------------------ statements

    def tokenize(self, result: SqlResult) -> list[Token]:
        tokenizer = _tokenizer(self.dialect)
        try:
            return list(tokenizer.tokenize(self.text))
        except TokenError:
            tokens = list(tokenizer.tokens)
            start = tokens[-1].end + 1 if tokens else 0
            while start < len(self.text) and self.text[start].isspace():
                start += 1
            end = self.text.find("\n", start)
            end = len(self.text) if end == -1 else end
            result.problems.append(
                ParseProblem(
                    span=self.span(start, max(start, end - 1)),
                    message="SQL syntax error: unterminated string, quoted identifier or comment",
                )
            )
            # keep the complete statements before the broken one
            while tokens and tokens[-1].token_type is not TokenType.SEMICOLON:
                tokens.pop()
            return tokens

    def statement(self, tokens: list[Token], result: SqlResult) -> Statement:
        statement = Statement(tokens, self.token_span(tokens[0], tokens[-1]))
        incomplete = _incomplete(tokens)
        if incomplete is not None:
            result.problems.append(
                ParseProblem(span=self.token_span(incomplete[0]), message=incomplete[1])
            )
            return statement
        if tokens[0].text.upper() in _CLASSIFIED_BY_TOKENS:
            try:
                statement.operations = self.from_tokens(tokens, statement.span)
            except Exception:  # odd token sequences must not take the file down
                statement.operations = [self.other(tokens, statement.span)]
            return statement
        try:
            parsed = _parser(self.dialect).parse(tokens, self.text)
        except ParseError as error:
            result.problems.append(self._parse_problem(error, tokens))
            return statement
        except Exception:  # sqlglot can fail in unexpected ways on odd input
            result.problems.append(
                ParseProblem(span=statement.span, message="SQL statement could not be parsed")
            )
            return statement
        expression = next((e for e in parsed if e is not None), None)
        if isinstance(expression, exp.Expression):
            try:
                statement.operations = self.operations(expression, tokens, statement.span)
            except Exception:  # a malformed tree must not take the file down
                statement.operations = [self.other(tokens, statement.span)]
        _release(parsed)
        return statement

    def parse_statement(
        self, tokens: list[Token]
    ) -> tuple[Span, list[Operation], list[ParseProblem]]:
        """One statement's span, operations and problems (for `sql_incremental`)."""
        scratch = SqlResult()
        statement = self.statement(tokens, scratch)
        return statement.span, statement.operations, scratch.problems

    def parse_text(self) -> tuple[Span | None, list[Operation], list[ParseProblem]]:
        """The whole text as one segment (a tail that does not tokenize)."""
        scratch = SqlResult()
        span: Span | None = None
        operations: list[Operation] = []
        for chunk in _split(self.tokenize(scratch)):
            statement = self.statement(chunk, scratch)
            span = span or statement.span
            operations.extend(statement.operations)
        return span, operations, scratch.problems

    def _parse_problem(self, error: ParseError, tokens: list[Token]) -> ParseProblem:
        detail = error.errors[0] if error.errors else {}
        description = str(detail.get("description") or "syntax error")
        line, col = detail.get("line"), detail.get("col")
        bad = tokens[-1]
        if isinstance(line, int) and isinstance(col, int):
            for token in tokens:
                if token.line == line and token.col >= col:
                    bad = token
                    break
        description = _TOKEN_REPR.sub(lambda m: repr(m.group(1)), description)
        return ParseProblem(
            span=self.token_span(bad), message=f"SQL syntax error: {description.rstrip('.')}"
        )

    # ------------------------------------------------------------------ operations

    def _op(self, cls: Callable[..., Operation], span: Span, **kwargs: Any) -> Operation:
        return cls(span=span, step=self.step, origin="sql", **kwargs)

    def operations(self, node: exp.Expression, tokens: list[Token], span: Span) -> list[Operation]:
        if isinstance(node, exp.Create):
            return self.create(node, tokens, span)
        if isinstance(node, exp.Drop):
            return self.drop(node, tokens, span)
        if isinstance(node, exp.Alter) and str(node.args.get("kind", "")).upper() == "TABLE":
            return self.alter_table(node, tokens, span)
        if isinstance(node, exp.TruncateTable):
            tables = [_name(t) for t in node.expressions]
            return [self._op(Truncate, span, tables=tables)]
        if isinstance(node, exp.Update | exp.Delete | exp.Insert | exp.Merge):
            return [self.data_change(node, tokens, span)]
        if isinstance(node, exp.Transaction):
            return [self._op(TransactionControl, span, kind="begin")]
        if isinstance(node, exp.Commit):
            return [self._op(TransactionControl, span, kind="commit")]
        if isinstance(node, exp.Rollback):
            return [self._op(TransactionControl, span, kind="rollback")]
        if isinstance(node, exp.Set):
            return self.set(node, tokens, span)
        return self.from_tokens(tokens, span)

    def create(self, node: exp.Create, tokens: list[Token], span: Span) -> list[Operation]:
        kind = str(node.args.get("kind") or "").upper()
        target = node.this
        if kind == "INDEX" and isinstance(target, exp.Index):
            table = target.args.get("table")
            params = target.args.get("params")
            columns = []
            if isinstance(params, exp.IndexParameters):
                columns = [
                    sql_text(c.this if isinstance(c, exp.Ordered) else c, self.dialect)
                    for c in params.args.get("columns") or []
                ]
            spans = self._spans(name=target.this, table=table)
            concurrently = _find_token(tokens, "CONCURRENTLY")
            if concurrently is not None:
                spans["concurrently"] = self.token_span(concurrently)
            spans["keyword"] = self.token_span(tokens[0], _find_token(tokens, "INDEX"))
            return [
                self._op(
                    CreateIndex,
                    span,
                    name=_name(target.this) if target.this else None,
                    table=_name(table),
                    columns=columns,
                    unique=bool(node.args.get("unique")),
                    concurrently=bool(node.args.get("concurrently")),
                    if_not_exists=bool(node.args.get("exists")),
                    spans=spans,
                )
            ]
        if kind == "TABLE":
            schema = target if isinstance(target, exp.Schema) else None
            table = schema.this if schema is not None else target
            defined: list[Column] = []
            if schema is not None:
                defined = [
                    self.column(c, tokens)
                    for c in schema.expressions
                    if isinstance(c, exp.ColumnDef)
                ]
            return [
                self._op(
                    CreateTable,
                    span,
                    table=_name(table),
                    columns=defined,
                    if_not_exists=bool(node.args.get("exists")),
                    spans=self._spans(table=table),
                )
            ]
        return [self.other(tokens, span)]

    def drop(self, node: exp.Drop, tokens: list[Token], span: Span) -> list[Operation]:
        kind = str(node.args.get("kind") or "").upper()
        exists = bool(node.args.get("exists"))
        targets = node.args.get("tables") or ([node.this] if node.this else [])
        if kind == "TABLE":
            return [
                self._op(
                    DropTable, span, table=_name(t), if_exists=exists, spans=self._spans(table=t)
                )
                for t in targets
            ]
        if kind == "INDEX":
            ops: list[Operation] = []
            for t in targets:
                spans = self._spans(name=t)
                concurrently = _find_token(tokens, "CONCURRENTLY")
                if concurrently is not None:
                    spans["concurrently"] = self.token_span(concurrently)
                spans["keyword"] = self.token_span(tokens[0], _find_token(tokens, "INDEX"))
                ops.append(
                    self._op(
                        DropIndex,
                        span,
                        name=_name(t),
                        table=None,
                        concurrently=bool(node.args.get("concurrently")),
                        if_exists=exists,
                        spans=spans,
                    )
                )
            return ops
        if kind in ("SCHEMA", "DATABASE"):
            cls = DropSchema if kind == "SCHEMA" else DropDatabase
            keyword = self.token_span(tokens[0], _find_token(tokens, kind))
            dropped: list[Operation] = []
            for t in targets:
                ident = t if isinstance(t, exp.Identifier) else t.find(exp.Identifier)
                spans = {"keyword": keyword, **self._spans(name=ident)}
                extra = {"cascade": bool(node.args.get("cascade"))} if kind == "SCHEMA" else {}
                dropped.append(
                    self._op(
                        cls,
                        span,
                        keyword=f"DROP {kind}",
                        text=self._text(tokens),
                        name=_name(ident) if ident is not None else _name(t),
                        if_exists=exists,
                        spans=spans,
                        **extra,
                    )
                )
            if dropped:
                return dropped
        return [self.other(tokens, span)]

    def alter_table(self, node: exp.Alter, tokens: list[Token], span: Span) -> list[Operation]:
        table_node = node.this
        table = _name(table_node)
        not_valid = bool(node.args.get("not_valid"))
        ops: list[Operation] = []
        table_spans = self._spans(table=table_node)
        for action in node.args.get("actions") or []:
            spans = dict(table_spans)
            if isinstance(action, exp.ColumnDef):
                column = self.column(action, tokens)
                spans.update(self._spans(column=action.this))
                ops.append(
                    self._op(
                        AddColumn,
                        span,
                        table=table,
                        column=column,
                        if_not_exists=bool(action.args.get("exists")),
                        spans=spans,
                    )
                )
            elif isinstance(action, exp.AlterColumn):
                spans.update(self._spans(column=action.this))
                dtype = action.args.get("dtype")
                allow_null = action.args.get("allow_null")
                nullable: bool | None = None
                if allow_null is not None and action.args.get("drop"):
                    nullable = True
                elif allow_null is False:
                    nullable = False
                if dtype is None and nullable is None:
                    continue  # SET DEFAULT / DROP DEFAULT / SET STATISTICS: metadata only
                ops.append(
                    self._op(
                        AlterColumn,
                        span,
                        table=table,
                        column=_name(action.this),
                        new_type=type_sql(dtype, self.dialect) if dtype else None,
                        nullable=nullable,
                        spans=spans,
                    )
                )
            elif isinstance(action, exp.Drop):
                kind = str(action.args.get("kind") or "").upper()
                for target in action.args.get("tables") or []:
                    if kind == "COLUMN":
                        spans.update(self._spans(column=target))
                        ops.append(
                            self._op(
                                DropColumn,
                                span,
                                table=table,
                                column=_name(target),
                                if_exists=bool(action.args.get("exists")),
                                spans=spans,
                            )
                        )
                    elif kind == "CONSTRAINT":
                        spans.update(self._spans(name=target))
                        ops.append(
                            self._op(
                                DropConstraint, span, table=table, name=_name(target), spans=spans
                            )
                        )
            elif isinstance(action, exp.AddConstraint):
                for constraint in action.expressions:
                    ops.append(self.constraint(constraint, table, not_valid, span, dict(spans)))
            elif isinstance(action, exp.RenameColumn):
                spans.update(self._spans(column=action.this))
                ops.append(
                    self._op(
                        RenameColumn,
                        span,
                        table=table,
                        column=_name(action.this),
                        new_name=_name(action.args.get("to")),
                        spans={**spans, **self._spans(new_name=action.args.get("to"))},
                    )
                )
            elif isinstance(action, exp.ModifyColumn) and isinstance(action.this, exp.ColumnDef):
                # MySQL MODIFY / CHANGE COLUMN: redefines the column, possibly renaming it
                definition = action.this
                old_name = action.args.get("rename_from")
                spans.update(self._spans(column=old_name or definition.this))
                column_name = _name(old_name or definition.this)
                if old_name is not None and _name(old_name) != _name(definition.this):
                    ops.append(
                        self._op(
                            RenameColumn,
                            span,
                            table=table,
                            column=column_name,
                            new_name=_name(definition.this),
                            spans=dict(spans),
                        )
                    )
                new_type = definition.args.get("kind")
                if isinstance(new_type, exp.DataType):
                    ops.append(
                        self._op(
                            AlterColumn,
                            span,
                            table=table,
                            column=column_name,
                            new_type=type_sql(new_type, self.dialect),
                            spans=dict(spans),
                        )
                    )
            elif isinstance(action, exp.AlterRename):
                spans.update(self._spans(new_name=action.this))
                ops.append(
                    self._op(
                        RenameTable, span, table=table, new_name=_name(action.this), spans=spans
                    )
                )
        options = self.alter_options(node, tokens, span, table)
        if options is not None:
            ops.append(options)
        if not ops:
            return [self.other(tokens, span)]
        return ops

    def alter_options(
        self, node: exp.Alter, tokens: list[Token], span: Span, table: str
    ) -> Operation | None:
        """MySQL `ALGORITHM=...` and `LOCK=...` of an ALTER TABLE."""
        values: dict[str, str] = {}
        spans: dict[str, Span] | None = None
        for option in node.args.get("options") or []:
            if isinstance(option, exp.AlgorithmProperty | exp.LockProperty):
                if spans is None:  # most ALTER TABLEs have none: no span to find
                    spans = self._spans(table=node.this)
                part = "algorithm" if isinstance(option, exp.AlgorithmProperty) else "lock"
                values[part] = sql_text(option.this, self.dialect).upper()
                found = _option_tokens(tokens, part.upper())
                if found is not None:
                    spans[part] = self.token_span(*found)
        if not values or spans is None:
            return None
        spans.setdefault("keyword", self.token_span(tokens[0], tokens[min(1, len(tokens) - 1)]))
        return self._op(
            AlterTableOptions,
            span,
            keyword="ALTER TABLE",
            text=self._text(tokens),
            table=table,
            algorithm=values.get("algorithm"),
            lock=values.get("lock"),
            spans=spans,
        )

    def constraint(
        self, node: exp.Expression, table: str, not_valid: bool, span: Span, spans: dict[str, Span]
    ) -> Operation:
        name: str | None = None
        body = node
        if isinstance(node, exp.Constraint):
            name = _name(node.this)
            spans.update(self._spans(name=node.this))
            body = node.expressions[0] if node.expressions else node
        kind: ConstraintKind = "unknown"
        references: str | None = None
        columns: list[str] = []
        if isinstance(body, exp.ForeignKey):
            kind = "foreign_key"
            columns = [_name(c) for c in body.expressions]
            ref = body.args.get("reference")
            if isinstance(ref, exp.Reference):
                target = ref.this.this if isinstance(ref.this, exp.Schema) else ref.this
                references = _name(target)
        elif isinstance(body, exp.CheckColumnConstraint):
            kind = "check"
        elif isinstance(body, exp.UniqueColumnConstraint):
            kind = "unique"
        elif isinstance(body, exp.PrimaryKey | exp.PrimaryKeyColumnConstraint):
            kind = "primary_key"
            columns = [_name(c) for c in body.expressions]
        elif isinstance(body, exp.ExcludeColumnConstraint):
            kind = "exclude"
        return self._op(
            AddConstraint,
            span,
            table=table,
            name=name,
            kind=kind,
            not_valid=not_valid,
            references=references,
            columns=columns,
            expression=sql_text(body, self.dialect),
            spans=spans,
        )

    def column(self, node: exp.ColumnDef, tokens: list[Token]) -> Column:
        kind = node.args.get("kind")
        type_text = type_sql(kind, self.dialect) if kind is not None else None
        column = Column(name=_name(node.this), type=type_text, span=self.node_span(node.this))
        if isinstance(kind, exp.DataType) and kind.this in _SERIAL_TYPES:
            column.serial = True
        for constraint in node.args.get("constraints") or []:
            ckind = constraint.args.get("kind")
            if isinstance(ckind, exp.NotNullColumnConstraint):
                column.nullable = bool(ckind.args.get("allow_null"))
            elif isinstance(ckind, exp.PrimaryKeyColumnConstraint):
                column.primary_key = True
                column.nullable = False
            elif isinstance(ckind, exp.DefaultColumnConstraint):
                column.default = self.default(ckind, tokens)
            elif isinstance(ckind, exp.UniqueColumnConstraint):
                column.unique = True
            elif isinstance(ckind, exp.Reference):
                target = ckind.this.this if isinstance(ckind.this, exp.Schema) else ckind.this
                column.references = _name(target)
            elif isinstance(ckind, exp.GeneratedAsIdentityColumnConstraint):
                if ckind.args.get("this") is not None or ckind.args.get("expression") is None:
                    column.identity = True
                if ckind.args.get("expression") is not None:
                    column.generated_stored = True
            elif isinstance(ckind, exp.ComputedColumnConstraint):
                persisted = ckind.args.get("persisted")
                column.generated_stored = bool(persisted) or (
                    persisted is None and isinstance(self.dialect, Postgres)
                )
        return column

    def default(self, node: exp.DefaultColumnConstraint, tokens: list[Token]) -> Default:
        text = generated(node.this, self.dialect) if node.this is not None else ""
        volatile = None
        for call in node.find_all(exp.Func):
            name = _function_name(call)
            if name in VOLATILE_FUNCTIONS:
                volatile = name
                break
        return Default(text=text, volatile_function=volatile)

    def data_change(self, node: exp.Expression, tokens: list[Token], span: Span) -> Operation:
        kind = type(node).__name__.lower()
        target = node.this
        if isinstance(target, exp.Schema):
            target = target.this
        where = node.args.get("where")
        limit = node.args.get("limit")
        spans = self._spans(table=target)
        limit_token = _find_token(tokens, "LIMIT", top_level=True)
        if limit is not None and limit_token is not None:
            spans["limit"] = self.token_span(limit_token, tokens[-1])
        unbounded = kind in ("update", "delete") and (where is None or _only_null_tests(where.this))
        return self._op(
            DataChange,
            span,
            kind=kind,
            table=_name(target) if isinstance(target, exp.Table) else None,
            has_where=where is not None,
            unbounded=unbounded and limit is None,
            has_limit=limit is not None,
            spans=spans,
        )

    def set(self, node: exp.Set, tokens: list[Token], span: Span) -> list[Operation]:
        ops: list[Operation] = []
        for item in node.expressions:
            if not isinstance(item, exp.SetItem) or not isinstance(item.this, exp.EQ):
                continue
            name = item.this.this.sql().lower()
            value = item.this.expression
            value_text = value.name if isinstance(value, exp.Literal) else value.sql()
            ops.append(
                self._op(
                    SetSetting,
                    span,
                    name=name,
                    value=value_text,
                    local=str(item.args.get("kind") or "").upper() == "LOCAL",
                )
            )
        return ops or [self.other(tokens, span)]

    def expand(self, tokens: list[Token]) -> list[Token]:
        """The tokenizer keeps the rest of a command (`REINDEX ...`, MySQL `RENAME ...`) as one
        string token; split it into real tokens (offsets kept) so it can be classified."""
        if (
            len(tokens) == 2
            and tokens[1].token_type is TokenType.STRING
            and not tokens[1].text.startswith(("$", "'"))
        ):
            # the string token's own offsets are unreliable: take the text after the keyword
            start = tokens[0].end + 1
            rest_text = self.text[start : max(tokens[1].end + 1, start)]
            try:
                inner = self.dialect.tokenize(rest_text)
            except TokenError:
                return tokens
            return [tokens[0]] + [
                Token(
                    t.token_type,
                    t.text,
                    line=t.line,
                    col=t.col,
                    start=t.start + start,
                    end=t.end + start,
                    comments=[],
                )
                for t in inner
            ]
        return tokens

    def from_tokens(self, tokens: list[Token], span: Span) -> list[Operation]:
        """Classify statements sqlglot keeps as `Command` by their leading words."""
        tokens = self.expand(tokens)
        words = [t.text.upper() for t in tokens[:8]]
        if words[:2] == ["START", "TRANSACTION"] or words[:1] == ["BEGIN"]:
            return [self._op(TransactionControl, span, kind="begin")]
        if words[:1] in (["END"], ["COMMIT"]):
            return [self._op(TransactionControl, span, kind="commit")]
        if words[:2] == ["RENAME", "TABLE"]:  # MySQL: RENAME TABLE a TO b, c TO d
            renames: list[Operation] = []
            for i in range(2, len(tokens) - 2):
                if tokens[i + 1].text.upper() == "TO":
                    renames.append(
                        self._op(
                            RenameTable,
                            span,
                            table=_unquote(tokens[i].text),
                            new_name=_unquote(tokens[i + 2].text),
                            spans={"table": self.token_span(tokens[i])},
                        )
                    )
            if renames:
                return renames
        if words[:1] == ["DO"]:
            return [self.other(tokens, span), *self.do_block(tokens)]
        postgres = self.postgres_statement(words, tokens, span)
        if postgres is not None:
            return [postgres]
        if words[:2] == ["ALTER", "TABLE"]:
            names = [w for w in words[2:] if w not in ("ONLY", "IF", "EXISTS")]
            first = 2 + words[2:].index(names[0]) if names else None
            table_token = tokens[first] if first is not None else None
            table = _unquote(table_token.text) if table_token else ""
            spans = {"table": self.token_span(table_token)} if table_token else {}
            last = first
            while (  # a schema-qualified name: schema . table
                last is not None
                and last + 2 < len(tokens)
                and tokens[last + 1].token_type is TokenType.DOT
            ):
                last += 2
                table = f"{table}.{_unquote(tokens[last].text)}"
            if table_token is not None and last is not None:
                spans["table"] = self.token_span(table_token, tokens[last])
            upper_all = [t.text.upper() for t in tokens]
            if "VALIDATE" in upper_all:
                i = upper_all.index("VALIDATE")
                if i + 2 < len(tokens) and upper_all[i + 1] == "CONSTRAINT":
                    spans["name"] = self.token_span(tokens[i + 2])
                    return [
                        self._op(
                            ValidateConstraint,
                            span,
                            table=table,
                            name=_unquote(tokens[i + 2].text),
                            spans=spans,
                        )
                    ]
            if "DETACH" in upper_all:
                i = upper_all.index("DETACH")
                if i + 2 < len(tokens) and upper_all[i + 1] == "PARTITION":
                    return [self.detach_partition(tokens, i, table, spans, span)]
            if "USING" in upper_all and "ADD" in upper_all and "INDEX" in upper_all:
                kind: ConstraintKind = "primary_key" if "PRIMARY" in upper_all else "unique"
                name = None
                if "CONSTRAINT" in upper_all:
                    i = upper_all.index("CONSTRAINT")
                    if i + 1 < len(tokens):
                        name = _unquote(tokens[i + 1].text)
                        spans["name"] = self.token_span(tokens[i + 1])
                return [
                    self._op(
                        AddConstraint,
                        span,
                        table=table,
                        name=name,
                        kind=kind,
                        using_index=True,
                        spans=spans,
                    )
                ]
        return [self.other(tokens, span)]

    def do_block(self, tokens: list[Token]) -> list[Operation]:
        """Statements inside `DO $$ ... $$`, read like top-level ones (PL/pgSQL control flow
        around them is skipped; what does not parse inside the block is ignored)."""
        body = next((t for t in tokens if t.token_type is TokenType.STRING), None)
        if body is None or not body.text.startswith("$"):
            return []
        tag_end = body.text.find("$", 1)
        if tag_end == -1:
            return []
        start = body.start + tag_end + 1
        end = body.end + 1 - (tag_end + 1)
        if end <= start:
            return []
        positions: Sequence[int]
        if self.positions is None:
            positions = range(start, end + 1)
        else:
            positions = [self.positions[k] for k in range(start, end + 1)]
        inner = _Builder(self.text[start:end], self.dialect, positions, self.step)
        scratch = SqlResult()
        ops: list[Operation] = []
        for chunk in _split(inner.tokenize(scratch)):
            first = next(
                (i for i, t in enumerate(chunk) if t.text.upper() in _PLPGSQL_STATEMENTS), None
            )
            if first is None:
                continue
            statement = inner.statement(chunk[first:], scratch)
            # the PostgreSQL statements modelled as `OtherStatement` subclasses count too
            ops.extend(op for op in statement.operations if type(op) is not OtherStatement)
        return ops

    def other(self, tokens: list[Token], span: Span) -> Operation:
        keyword = " ".join(t.text.upper() for t in tokens[:2])
        return self._op(OtherStatement, span, keyword=keyword, text=self._text(tokens))

    def _text(self, tokens: list[Token]) -> str:
        return self.text[tokens[0].start : tokens[-1].end + 1]

    # ------------------------------------------------------------------ PostgreSQL commands

    def postgres_statement(
        self, words: list[str], tokens: list[Token], span: Span
    ) -> Operation | None:
        """REINDEX, REFRESH MATERIALIZED VIEW, VACUUM, CLUSTER, ALTER TYPE ... ADD VALUE,
        CREATE DOMAIN and ALTER DOMAIN, from their tokens."""
        first = words[0] if words else ""
        if first == "REINDEX":
            return self.reindex(tokens, span)
        if words[:3] == ["REFRESH", "MATERIALIZED", "VIEW"]:
            return self.refresh(tokens, span)
        if first == "VACUUM":
            return self.vacuum(tokens, span)
        if first == "CLUSTER":
            return self.cluster(tokens, span)
        if words[:2] == ["ALTER", "TYPE"]:
            return self.alter_enum(tokens, span)
        if words[:2] == ["CREATE", "DOMAIN"]:
            name, after = _qualified(tokens, 2)
            if not name:
                return None
            upper = [t.text.upper() for t in tokens]
            return self._op(
                CreateDomain,
                span,
                keyword="CREATE DOMAIN",
                text=self._text(tokens),
                name=name,
                has_check="CHECK" in upper,
                spans={
                    "keyword": self.token_span(tokens[0], tokens[1]),
                    "name": self.token_span(tokens[2], tokens[after - 1]),
                },
            )
        if words[:2] == ["ALTER", "DOMAIN"]:
            name, after = _qualified(tokens, 2)
            if not name:
                return None
            upper = [t.text.upper() for t in tokens]
            spans = {
                "keyword": self.token_span(tokens[0], tokens[1]),
                "name": self.token_span(tokens[2], tokens[after - 1]),
            }
            adds = after < len(tokens) and upper[after] == "ADD"
            if adds:
                spans["constraint"] = self.token_span(tokens[after], tokens[-1])
            return self._op(
                AlterDomain,
                span,
                keyword="ALTER DOMAIN",
                text=self._text(tokens),
                name=name,
                adds_constraint=adds,
                not_valid=upper[-2:] == ["NOT", "VALID"],
                spans=spans,
            )
        return None

    def reindex(self, tokens: list[Token], span: Span) -> Operation | None:
        i = _skip_parens(tokens, 1)
        concurrently = any(t.text.upper() == "CONCURRENTLY" for t in tokens[1:i])
        if i >= len(tokens) or tokens[i].text.upper() not in _REINDEX_TARGETS:
            return None
        target = tokens[i].text.lower()
        spans = {"keyword": self.token_span(tokens[0], tokens[i])}
        j = i + 1
        if j < len(tokens) and tokens[j].text.upper() == "CONCURRENTLY":
            spans["concurrently"] = self.token_span(tokens[j])
            concurrently = True
            j += 1
        name, after = _qualified(tokens, j)
        if name:
            spans["name"] = self.token_span(tokens[j], tokens[after - 1])
        return self._op(
            Reindex,
            span,
            keyword="REINDEX",
            text=self._text(tokens),
            target=target,
            name=name,
            concurrently=concurrently,
            spans=spans,
        )

    def refresh(self, tokens: list[Token], span: Span) -> Operation:
        spans = {"keyword": self.token_span(tokens[0], tokens[2])}
        j = 3
        concurrently = j < len(tokens) and tokens[j].text.upper() == "CONCURRENTLY"
        if concurrently:
            spans["concurrently"] = self.token_span(tokens[j])
            j += 1
        name, after = _qualified(tokens, j)
        if name:
            spans["name"] = self.token_span(tokens[j], tokens[after - 1])
        upper = [t.text.upper() for t in tokens[after:]]
        return self._op(
            RefreshMaterializedView,
            span,
            keyword="REFRESH MATERIALIZED",
            text=self._text(tokens),
            name=name,
            concurrently=concurrently,
            with_no_data=upper[-3:] == ["WITH", "NO", "DATA"],
            spans=spans,
        )

    def vacuum(self, tokens: list[Token], span: Span) -> Operation:
        full = False
        keyword_end = tokens[0]
        i = 1
        if i < len(tokens) and tokens[i].token_type is TokenType.L_PAREN:
            end = _skip_parens(tokens, i)
            options = [t.text.upper() for t in tokens[i + 1 : end - 1]]
            for k, word in enumerate(options):
                if word == "FULL":
                    value = options[k + 1] if k + 1 < len(options) else ","
                    full = value not in ("FALSE", "OFF", "0")
            if full:
                keyword_end = tokens[end - 1]
            i = end
        while i < len(tokens) and tokens[i].text.upper() in _VACUUM_WORDS:
            if tokens[i].text.upper() == "FULL":
                full = True
                keyword_end = tokens[i]
            i += 1
        tables: list[str] = []
        while i < len(tokens):
            name, after = _qualified(tokens, i)
            if not name:
                break
            tables.append(name)
            i = _skip_parens(tokens, after)  # a column list
            if i < len(tokens) and tokens[i].token_type is TokenType.COMMA:
                i += 1
        return self._op(
            Vacuum,
            span,
            keyword="VACUUM",
            text=self._text(tokens),
            tables=tables,
            full=full,
            spans={"keyword": self.token_span(tokens[0], keyword_end)},
        )

    def cluster(self, tokens: list[Token], span: Span) -> Operation:
        upper = [t.text.upper() for t in tokens]
        i = _skip_parens(tokens, 1)
        if i < len(tokens) and upper[i] == "VERBOSE":
            i += 1
        if "ON" in upper[i:]:  # the old form: CLUSTER index ON table
            i = upper.index("ON", i) + 1
        table, after = _qualified(tokens, i)
        spans = {"keyword": self.token_span(tokens[0])}
        if table:
            spans["table"] = self.token_span(tokens[i], tokens[after - 1])
        return self._op(
            Cluster,
            span,
            keyword="CLUSTER",
            text=self._text(tokens),
            table=table or None,
            spans=spans,
        )

    def alter_enum(self, tokens: list[Token], span: Span) -> Operation | None:
        name, after = _qualified(tokens, 2)
        upper = [t.text.upper() for t in tokens]
        if not name or upper[after : after + 2] != ["ADD", "VALUE"]:
            return None
        spans = {
            "keyword": self.token_span(tokens[0], tokens[1]),
            "name": self.token_span(tokens[2], tokens[after - 1]),
            "add_value": self.token_span(tokens[after], tokens[after + 1]),
        }
        j = after + 2
        if_not_exists = upper[j : j + 3] == ["IF", "NOT", "EXISTS"]
        if if_not_exists:
            j += 3
        value = ""
        if j < len(tokens) and tokens[j].token_type is TokenType.STRING:
            value = tokens[j].text
            spans["value"] = self.token_span(tokens[j])
        return self._op(
            AlterEnum,
            span,
            keyword="ALTER TYPE",
            text=self._text(tokens),
            type_name=name,
            value=value,
            if_not_exists=if_not_exists,
            spans=spans,
        )

    def detach_partition(
        self, tokens: list[Token], i: int, table: str, spans: dict[str, Span], span: Span
    ) -> Operation:
        """`ALTER TABLE parent DETACH PARTITION child [CONCURRENTLY | FINALIZE]`; `i` is the
        index of DETACH."""
        spans = dict(spans)
        spans["keyword"] = self.token_span(tokens[i], tokens[i + 1])
        partition, after = _qualified(tokens, i + 2)
        if partition:
            spans["name"] = self.token_span(tokens[i + 2], tokens[after - 1])
        rest = [t.text.upper() for t in tokens[after:]]
        if "CONCURRENTLY" in rest:
            spans["concurrently"] = self.token_span(tokens[after + rest.index("CONCURRENTLY")])
        return self._op(
            DetachPartition,
            span,
            keyword="ALTER TABLE",
            text=self._text(tokens),
            table=table,
            partition=partition,
            concurrently="CONCURRENTLY" in rest,
            finalize="FINALIZE" in rest,
            spans=spans,
        )

    def _spans(self, **nodes: exp.Expression | None) -> dict[str, Span]:
        spans: dict[str, Span] = {}
        for part, node in nodes.items():
            found = self.node_span(node)
            if found is not None:
                spans[part] = found
        return spans


_SERIAL_TYPES = (
    exp.DataType.Type.SERIAL,
    exp.DataType.Type.BIGSERIAL,
    exp.DataType.Type.SMALLSERIAL,
)

_TOKEN_REPR = re.compile(r"<Token token_type: [\w.]+, text: (.*?), line: \d+, col: \d+.*?>")
"""sqlglot's repr of a token in an error message: its text is what the user needs to see (the
line and offsets in it count from the statement, not the file)."""

_PLPGSQL_STATEMENTS = frozenset(
    {
        "CREATE",
        "ALTER",
        "DROP",
        "UPDATE",
        "DELETE",
        "INSERT",
        "TRUNCATE",
        "REINDEX",
        "REFRESH",
        "VACUUM",
        "CLUSTER",
    }
)

_CLASSIFIED_BY_TOKENS = frozenset({"REINDEX", "REFRESH", "VACUUM", "CLUSTER"})
"""Statements read from their tokens without asking sqlglot (it keeps them as one string,
or rejects them: `CLUSTER t USING ix`)."""

_REINDEX_TARGETS = frozenset({"INDEX", "TABLE", "SCHEMA", "DATABASE", "SYSTEM"})
_VACUUM_WORDS = frozenset({"FULL", "FREEZE", "VERBOSE", "ANALYZE", "ANALYSE"})

_INCOMPLETE_ENDINGS = frozenset(
    {
        "ADD",
        "ALTER",
        "COLUMN",
        "DROP",
        "SET",
        "NOT",
        "TABLE",
        "INDEX",
        "CONSTRAINT",
        "ON",
        "TO",
        "BY",
        "WHERE",
        "AND",
        "OR",
        "FROM",
        "INTO",
        "VALUES",
        "REFERENCES",
        "USING",
        "RENAME",
        "CREATE",
        "UPDATE",
        "DELETE",
        "INSERT",
        "AS",
        "CHECK",
        "FOREIGN",
        "PRIMARY",
        ",",
        "(",
        "=",
        ".",
    }
)
_NAME_INTRODUCERS = frozenset({"COLUMN", "TABLE", "INDEX", "CONSTRAINT", "TO", "BY", ".", ","})
_NAME_TOKENS = (TokenType.IDENTIFIER, TokenType.STRING, TokenType.NUMBER)


def _incomplete(tokens: list[Token]) -> tuple[Token, str] | None:
    """A statement that stops half-way (`UPDATE users SET`, an unclosed parenthesis): what
    sqlglot would otherwise silently accept as an opaque command."""
    depth = 0
    opened: list[Token] = []
    for token in tokens:
        if token.token_type is TokenType.L_PAREN:
            depth += 1
            opened.append(token)
        elif token.token_type is TokenType.R_PAREN:
            depth -= 1
            if depth < 0:
                return token, "SQL syntax error: unbalanced ')'"
            opened.pop()
    if depth > 0:
        return opened[-1], "SQL syntax error: '(' is never closed"
    last = tokens[-1]
    if last.token_type in _NAME_TOKENS:
        return None
    word = last.text.upper()
    before = tokens[-2].text.upper() if len(tokens) > 1 else ""
    if word == "TYPE":  # ALTER COLUMN c TYPE <missing>, but DROP COLUMN type is a name
        incomplete = before not in _NAME_INTRODUCERS
    elif word == "DEFAULT":  # SET DEFAULT <missing>, but DROP DEFAULT is complete
        incomplete = before != "DROP"
    elif word == "KEY":  # PRIMARY KEY (<missing>), but MySQL DROP PRIMARY KEY is complete
        incomplete = before in ("PRIMARY", "FOREIGN") and (
            len(tokens) < 3 or tokens[-3].text.upper() != "DROP"
        )
    else:
        incomplete = word in _INCOMPLETE_ENDINGS
    if not incomplete:
        return None
    return last, f"SQL syntax error: statement ends unexpectedly after '{last.text}'"


def _name(node: Any) -> str:
    if node is None:
        return ""
    if isinstance(node, exp.Table | exp.Column):
        return str(node.name)
    if isinstance(node, exp.Identifier):
        return str(node.this)
    if isinstance(node, exp.Expression):
        return str(node.name or node.sql())
    return str(node)


def _unquote(text: str) -> str:
    if len(text) >= 2 and text[0] == text[-1] and text[0] in '"`':
        return text[1:-1]
    return text


def _qualified(tokens: list[Token], i: int) -> tuple[str, int]:
    """The (possibly schema-qualified) name starting at `tokens[i]`, unquoted, and the index
    after it; ("", i) when there is no name there."""
    if i >= len(tokens) or tokens[i].token_type in _NOT_NAMES:
        return "", i
    parts = [_unquote(tokens[i].text)]
    j = i + 1
    while j + 1 < len(tokens) and tokens[j].token_type is TokenType.DOT:
        parts.append(_unquote(tokens[j + 1].text))
        j += 2
    return ".".join(parts), j


_NOT_NAMES = frozenset(
    {TokenType.L_PAREN, TokenType.R_PAREN, TokenType.COMMA, TokenType.DOT, TokenType.STRING}
)


def _skip_parens(tokens: list[Token], i: int) -> int:
    """The index after a parenthesised group starting at `tokens[i]` (or `i` if none)."""
    if i >= len(tokens) or tokens[i].token_type is not TokenType.L_PAREN:
        return i
    depth = 0
    for j in range(i, len(tokens)):
        if tokens[j].token_type is TokenType.L_PAREN:
            depth += 1
        elif tokens[j].token_type is TokenType.R_PAREN:
            depth -= 1
            if depth == 0:
                return j + 1
    return len(tokens)


def _option_tokens(tokens: list[Token], word: str) -> tuple[Token, Token] | None:
    """`WORD [=] value` at the top level of a statement: its first and last token."""
    for k, token in enumerate(tokens):
        if token.text.upper() == word and k + 1 < len(tokens):
            last = k + 2 if tokens[k + 1].token_type is TokenType.EQ else k + 1
            return token, tokens[min(last, len(tokens) - 1)]
    return None


def _function_name(node: exp.Func) -> str:
    if isinstance(node, exp.Anonymous):
        return str(node.name).lower()
    if isinstance(node, exp.Rand):
        return "random"
    if isinstance(node, exp.Uuid):
        return "gen_random_uuid"
    return str(node.sql_name()).lower()


def _find_token(tokens: list[Token], word: str, *, top_level: bool = False) -> Token | None:
    depth = 0
    for token in tokens:
        if token.token_type is TokenType.L_PAREN:
            depth += 1
        elif token.token_type is TokenType.R_PAREN:
            depth -= 1
        elif token.text.upper() == word and (depth == 0 or not top_level):
            return token
    return None


def _only_null_tests(node: exp.Expression) -> bool:
    """True for WHERE clauses that bound nothing: `col IS NULL` (AND/OR of such)."""
    if isinstance(node, exp.Paren):
        return _only_null_tests(node.this)
    if isinstance(node, exp.And | exp.Or):
        return _only_null_tests(node.this) and _only_null_tests(node.expression)
    if isinstance(node, exp.Not):
        return _only_null_tests(node.this)
    return isinstance(node, exp.Is) and isinstance(node.expression, exp.Null)
