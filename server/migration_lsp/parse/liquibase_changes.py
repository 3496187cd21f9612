"""Liquibase change types → model operations, written once for every changelog format.

The XML and YAML/JSON readers turn their format into the same small tree of `Element`s: a
change (`createIndex`), its attributes with the exact spans of their values, its nested elements
(`column`, `constraints`, `where`) and its text (`<sql>`). This module gives those elements their
meaning: one `Changeset` per changeSet, holding the operations Liquibase will run, in or out of
a transaction (`runInTransaction`), and the operations of its written `<rollback>` as the DOWN
step. The formatted-SQL reader shares `changeset_for`, `dbms_applies` and `sql_operations_for`.

Which changes Liquibase can roll back by itself is stated through the model the way the rules
read it (`why_not_derivable` in `rules/auto_reverse.py`): the inverse-less changes become drops,
type changes, SQL and data changes; the other ones become operations the rule accepts.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field

from migration_lsp.model import (
    AddColumn,
    AddConstraint,
    AlterColumn,
    Changeset,
    Column,
    ConstraintKind,
    CreateIndex,
    CreateTable,
    DataChange,
    DataKind,
    Default,
    DropColumn,
    DropConstraint,
    DropIndex,
    DropTable,
    ExecuteSQL,
    Migration,
    Operation,
    OtherStatement,
    ParseProblem,
    RenameColumn,
    RenameTable,
    Step,
)
from migration_lsp.parse.host_sql import sql_operations
from migration_lsp.parse.sql import VOLATILE_FUNCTIONS, TransactionMode, parse_sql
from migration_lsp.text import Span

# --------------------------------------------------------------------------- the element tree


@dataclass(slots=True)
class Value:
    """An attribute value or a text, decoded, with where each character came from."""

    text: str
    span: Span
    """The value as written (inside the quotes)."""
    positions: Sequence[int] | None = None
    """Document offset of each character of `text`, plus one for its end; None when the
    characters cannot be mapped one by one (then diagnostics cover `span`)."""


@dataclass(slots=True)
class Element:
    """One changelog element: a changeSet, a change, or a part of a change."""

    name: str
    span: Span
    """The whole element: `<createIndex ...>...</createIndex>`, `createIndex: {...}`."""
    name_span: Span
    """Its name: the tag name, or the mapping key."""
    head: Span
    """Where to report about it: the start tag, or the key."""
    attrs: dict[str, Value] = field(default_factory=dict)
    children: list[Element] = field(default_factory=list)
    text: Value | None = None

    def get(self, key: str) -> str | None:
        value = self.attrs.get(key)
        return value.text if value is not None else None

    def child(self, name: str) -> Element | None:
        return next((c for c in self.children if c.name == name), None)

    def text_of(self, key: str) -> Value | None:
        """A part written as an attribute (YAML `where: ...`) or as a nested element's text
        (XML `<where>...</where>`)."""
        value = self.attrs.get(key)
        if value is not None:
            return value
        child = self.child(key)
        return child.text if child is not None else None


@dataclass(slots=True)
class Include:
    """An `include` (a file) or `includeAll` (a folder) of a changelog."""

    path: str
    relative: bool
    """`relativeToChangelogFile`: resolved against the including file's folder."""
    directory: bool
    span: Span


@dataclass(slots=True)
class Changelog:
    """What a reader found in one changelog file."""

    changesets: list[Element] = field(default_factory=list)
    includes: list[Include] = field(default_factory=list)
    problems: list[ParseProblem] = field(default_factory=list)


_Builder = Callable[["Element"], list[Operation]]
"""Turns one change element into its operations."""

NOT_CHANGES = frozenset(
    {"comment", "preConditions", "validCheckSum", "rollback", "modifySql", "meta"}
)
"""Children of a changeSet that are not changes."""


def is_true(value: str | None) -> bool:
    return value is not None and value.strip().lower() == "true"


def is_false(value: str | None) -> bool:
    return value is not None and value.strip().lower() == "false"


# --------------------------------------------------------------------------- changeSets


@dataclass(slots=True)
class ChangesetInfo:
    """The attributes of a changeSet that decide how its changes run."""

    id: str
    author: str
    in_transaction: bool = True
    split_statements: bool = True


def changeset_for(info: ChangesetInfo, span: Span, body: Span) -> Changeset:
    return Changeset(
        span=span,
        body=body,
        label=f"changeSet {info.id} ({info.author})",
        identity=(info.id, info.author),
    )


def build(migration: Migration, changelog: Changelog) -> None:
    """Fill `migration` with the changeSets of a changelog read from XML, YAML or JSON."""
    migration.problems.extend(changelog.problems)
    if migration.problems:
        return
    for element in changelog.changesets:
        _changeset(migration, element)


def _changeset(migration: Migration, element: Element) -> None:
    if is_true(element.get("ignore")) or not dbms_applies(element.get("dbms"), migration.dialect):
        return  # Liquibase skips it
    info = ChangesetInfo(
        id=element.get("id") or "",
        author=element.get("author") or "",
        in_transaction=not is_false(element.get("runInTransaction")),
    )
    changeset = changeset_for(info, element.head, element.span)
    for child in element.children:
        if child.name in NOT_CHANGES:
            continue
        ops = change_operations(migration, child, Step.UP, info.in_transaction)
        changeset.operations.extend(ops)
        migration.operations.extend(ops)
    rollback = element.child("rollback")
    if rollback is not None:
        changeset.rollback = rollback.span
        migration.operations.extend(_rollback_operations(migration, rollback, info))
    migration.changesets.append(changeset)


def _rollback_operations(
    migration: Migration, rollback: Element, info: ChangesetInfo
) -> list[Operation]:
    """The written rollback, as the DOWN step: its changes, or its SQL text."""
    ops: list[Operation] = []
    for child in rollback.children:
        if child.name not in NOT_CHANGES:
            ops.extend(change_operations(migration, child, Step.DOWN, info.in_transaction))
    text = rollback.text
    if text is not None and text.text.strip() and not is_no_op_rollback(text.text):
        ops.extend(
            sql_operations_for(
                migration,
                element=rollback,
                value=text,
                step=Step.DOWN,
                in_transaction=info.in_transaction,
                split=True,
                end_delimiter=None,
            )
        )
    return ops


def is_no_op_rollback(sql: str) -> bool:
    """Rollback text Liquibase does not run as SQL: `empty...` / `not required...` (nothing
    needs undoing), or `changeSetId:... changeSetAuthor:...` (another changeSet's changes)."""
    text = sql.strip().lower()
    return text.startswith(("empty", "not required")) or "changesetid" in text


_DIALECT_NAMES: dict[str, frozenset[str]] = {
    "postgresql": frozenset({"postgresql", "postgres"}),
    "mysql": frozenset({"mysql", "mariadb"}),
    "sqlite": frozenset({"sqlite"}),
    "mssql": frozenset({"mssql", "sqlserver"}),
    "oracle": frozenset({"oracle"}),
}


def dbms_applies(dbms: str | None, dialect: str | None) -> bool:
    """Whether a `dbms="..."` filter lets the element run on the project's database (True
    when either is unknown)."""
    if not dbms or not dialect or dialect not in _DIALECT_NAMES:
        return True
    names = [n.strip().lower() for n in dbms.split(",") if n.strip()]
    ours = _DIALECT_NAMES[dialect]
    if "none" in names or any(n[1:] in ours for n in names if n.startswith("!")):
        return False
    wanted = [n for n in names if not n.startswith("!")]
    return not wanted or "all" in wanted or any(n in ours for n in wanted)


# --------------------------------------------------------------------------- changes


def change_operations(
    migration: Migration, element: Element, step: Step, in_transaction: bool
) -> list[Operation]:
    """The operations of one change element (none for a change filtered out by `dbms`)."""
    if not dbms_applies(element.get("dbms"), migration.dialect):
        return []
    name = element.name
    if name == "sql":
        value = element.text or element.attrs.get("sql")
        return sql_operations_for(
            migration,
            element=element,
            value=value,
            step=step,
            in_transaction=in_transaction,
            split=not is_false(element.get("splitStatements")),
            end_delimiter=element.get("endDelimiter"),
        )
    builder = _BUILDERS.get(name)
    ops: list[Operation] = builder(element) if builder is not None else [_other(element)]
    for op in ops:
        op.step = step
        op.in_transaction = in_transaction
        op.origin = f"liquibase.{name}"
        op.spans.setdefault("keyword", element.name_span)
    return ops


def _spans(element: Element, **parts: str) -> dict[str, Span]:
    """Named spans of attribute values: `table="tableName"` → spans["table"]."""
    found = {}
    for part, attribute in parts.items():
        value = element.attrs.get(attribute)
        if value is not None:
            found[part] = value.span
    return found


def _names(value: str | None) -> list[str]:
    return [n.strip() for n in (value or "").split(",") if n.strip()]


def _table(element: Element, attribute: str = "tableName") -> str:
    return element.get(attribute) or ""


def _create_table(element: Element) -> list[Operation]:
    columns = [_column(c) for c in element.children if c.name == "column"]
    return [
        CreateTable(
            span=element.span,
            table=_table(element),
            columns=columns,
            if_not_exists=is_true(element.get("ifNotExists")),
            spans=_spans(element, table="tableName"),
        )
    ]


def _add_column(element: Element) -> list[Operation]:
    ops: list[Operation] = []
    for child in element.children:
        if child.name != "column":
            continue
        spans = _spans(element, table="tableName")
        spans.update(_spans(child, column="name", server_default=_default_attribute(child)))
        constraints = child.child("constraints")
        if constraints is not None:
            spans.update(_spans(constraints, nullable="nullable"))
        spans["column_def"] = child.span
        ops.append(
            AddColumn(span=element.span, table=_table(element), column=_column(child), spans=spans)
        )
    return ops


_DEFAULTS = (
    "defaultValue",
    "defaultValueNumeric",
    "defaultValueBoolean",
    "defaultValueDate",
    "defaultValueComputed",
    "defaultValueSequenceNext",
)
_FUNCTION = re.compile(r"\s*(?:[\w\"]+\.)?\"?(\w+)\"?\s*\(")


def _default_attribute(column: Element) -> str:
    return next((a for a in _DEFAULTS if a in column.attrs), "defaultValue")


def _default(column: Element) -> Default | None:
    attribute = next((a for a in _DEFAULTS if a in column.attrs), None)
    if attribute is None:
        return None
    text = column.get(attribute) or ""
    volatile = None
    if attribute == "defaultValueSequenceNext":
        volatile = "nextval"
    elif attribute == "defaultValueComputed":
        match = _FUNCTION.match(text)
        if match and match.group(1).lower() in VOLATILE_FUNCTIONS:
            volatile = match.group(1).lower()
    return Default(text=text, volatile_function=volatile)


def _references(constraints: Element) -> str | None:
    table = constraints.get("referencedTableName")
    if table:
        return table
    references = constraints.get("references")
    return references.split("(", 1)[0].strip() or None if references else None


def _column(element: Element) -> Column:
    name = element.attrs.get("name")
    type_ = element.get("type")
    column = Column(
        name=name.text if name is not None else "",
        type=type_.strip().lower() if type_ else None,
        default=_default(element),
        identity=is_true(element.get("autoIncrement")),
        span=name.span if name is not None else element.name_span,
    )
    constraints = element.child("constraints")
    if constraints is not None:
        if is_false(constraints.get("nullable")):
            column.nullable = False
        if is_true(constraints.get("primaryKey")):
            column.primary_key = True
            column.nullable = False
        column.unique = is_true(constraints.get("unique"))
        column.references = _references(constraints)
    return column


def _drop_column(element: Element) -> list[Operation]:
    table = _table(element)
    if element.get("columnName") is not None:
        spans = _spans(element, table="tableName", column="columnName")
        return [
            DropColumn(
                span=element.span, table=table, column=element.get("columnName") or "", spans=spans
            )
        ]
    ops: list[Operation] = []
    for child in element.children:
        if child.name == "column":
            spans = {**_spans(element, table="tableName"), **_spans(child, column="name")}
            ops.append(
                DropColumn(
                    span=element.span, table=table, column=child.get("name") or "", spans=spans
                )
            )
    return ops


def _drop_table(element: Element) -> list[Operation]:
    return [
        DropTable(
            span=element.span, table=_table(element), spans=_spans(element, table="tableName")
        )
    ]


def _rename_column(element: Element) -> list[Operation]:
    return [
        RenameColumn(
            span=element.span,
            table=_table(element),
            column=element.get("oldColumnName") or "",
            new_name=element.get("newColumnName") or "",
            spans=_spans(
                element, table="tableName", column="oldColumnName", new_name="newColumnName"
            ),
        )
    ]


def _rename_table(element: Element) -> list[Operation]:
    return [
        RenameTable(
            span=element.span,
            table=element.get("oldTableName") or "",
            new_name=element.get("newTableName") or "",
            spans=_spans(element, table="oldTableName", new_name="newTableName"),
        )
    ]


def _alter_column(element: Element, **changes: object) -> AlterColumn:
    return AlterColumn(
        span=element.span,
        table=_table(element),
        column=element.get("columnName") or "",
        spans=_spans(element, table="tableName", column="columnName"),
        **changes,  # type: ignore[arg-type]
    )


def _modify_data_type(element: Element) -> list[Operation]:
    new_type = (element.get("newDataType") or "").strip().lower() or None
    op = _alter_column(element, new_type=new_type)
    op.spans.update(_spans(element, type_="newDataType"))
    return [op]


def _add_not_null(element: Element) -> list[Operation]:
    return [_alter_column(element, nullable=False)]


def _drop_not_null(element: Element) -> list[Operation]:
    return [_alter_column(element, nullable=True)]


def _create_index(element: Element) -> list[Operation]:
    columns = [c.get("name") or "" for c in element.children if c.name == "column"]
    return [
        CreateIndex(
            span=element.span,
            name=element.get("indexName"),
            table=_table(element),
            columns=columns,
            unique=is_true(element.get("unique")),
            spans=_spans(element, table="tableName", name="indexName"),
        )
    ]


def _drop_index(element: Element) -> list[Operation]:
    return [
        DropIndex(
            span=element.span,
            name=element.get("indexName"),
            table=element.get("tableName"),
            spans=_spans(element, table="tableName", name="indexName"),
        )
    ]


def _add_foreign_key(element: Element) -> list[Operation]:
    return [
        AddConstraint(
            span=element.span,
            table=_table(element, "baseTableName"),
            name=element.get("constraintName"),
            kind="foreign_key",
            not_valid=is_false(element.get("validate")),
            references=element.get("referencedTableName"),
            columns=_names(element.get("baseColumnNames")),
            spans=_spans(element, table="baseTableName", name="constraintName"),
        )
    ]


def _add_constraint(kind: ConstraintKind) -> _Builder:
    def build_constraint(element: Element) -> list[Operation]:
        expression = element.get("constraintBody")
        if kind == "check" and expression is None and element.text is not None:
            expression = element.text.text.strip()
        return [
            AddConstraint(
                span=element.span,
                table=_table(element),
                name=element.get("constraintName"),
                kind=kind,
                not_valid=kind == "check" and is_false(element.get("validate")),
                using_index=element.get("forIndexName") is not None,
                columns=_names(element.get("columnNames")),
                expression=expression,
                spans=_spans(element, table="tableName", name="constraintName"),
            )
        ]

    return build_constraint


def _drop_constraint(kind: ConstraintKind, table_attribute: str = "tableName") -> _Builder:
    def build_drop(element: Element) -> list[Operation]:
        return [
            DropConstraint(
                span=element.span,
                table=_table(element, table_attribute),
                name=element.get("constraintName"),
                kind=kind,
                spans=_spans(element, table=table_attribute, name="constraintName"),
            )
        ]

    return build_drop


_ONLY_NULL_TEST = re.compile(r"\s*[\w\".]+\s+is\s+null\s*", re.IGNORECASE)


def _data_change(kind: DataKind) -> _Builder:
    def build_data(element: Element) -> list[Operation]:
        where = element.text_of("where")
        has_where = where is not None and bool(where.text.strip())
        only_null = has_where and where is not None and _ONLY_NULL_TEST.fullmatch(where.text)
        return [
            DataChange(
                span=element.span,
                kind=kind,
                table=element.get("tableName"),
                has_where=has_where,
                unbounded=kind in ("update", "delete") and (not has_where or bool(only_null)),
                spans=_spans(element, table="tableName"),
            )
        ]

    return build_data


def _sql_file(element: Element) -> list[Operation]:
    return [ExecuteSQL(span=element.span, sql=None, spans=_spans(element, sql="path"))]


_OTHER: dict[str, tuple[str, bool]] = {
    # change → (the statement it issues, whether Liquibase derives its rollback)
    "addDefaultValue": ("ALTER TABLE", True),
    "dropDefaultValue": ("ALTER TABLE", False),
    "createView": ("CREATE VIEW", True),
    "renameView": ("ALTER VIEW", True),
    "dropView": ("DROP VIEW", False),
    "createSequence": ("CREATE SEQUENCE", True),
    "renameSequence": ("ALTER SEQUENCE", True),
    "alterSequence": ("ALTER SEQUENCE", False),
    "dropSequence": ("DROP SEQUENCE", False),
    "addLookupTable": ("CREATE TABLE", True),
    "addAutoIncrement": ("ALTER TABLE", False),
    "mergeColumns": ("ALTER TABLE", False),
    "createProcedure": ("CREATE PROCEDURE", False),
    "dropProcedure": ("DROP PROCEDURE", False),
    "createFunction": ("CREATE FUNCTION", False),
    "dropFunction": ("DROP FUNCTION", False),
    "createTrigger": ("CREATE TRIGGER", False),
    "dropTrigger": ("DROP TRIGGER", False),
    "setTableRemarks": ("COMMENT", False),
    "setColumnRemarks": ("COMMENT", False),
    "tagDatabase": ("TAG DATABASE", True),
    "output": ("OUTPUT", True),
    "empty": ("EMPTY", True),
    "stop": ("STOP", True),
}


def _other(element: Element) -> OtherStatement:
    keyword, restorable = _OTHER.get(element.name, (element.name, False))
    return OtherStatement(
        span=element.span,
        keyword=keyword,
        text=element.name,
        restorable=restorable,
        spans=_spans(element, table="tableName"),
    )


_BUILDERS: dict[str, _Builder] = {
    "createTable": _create_table,
    "addColumn": _add_column,
    "dropColumn": _drop_column,
    "dropTable": _drop_table,
    "renameColumn": _rename_column,
    "renameTable": _rename_table,
    "modifyDataType": _modify_data_type,
    "addNotNullConstraint": _add_not_null,
    "dropNotNullConstraint": _drop_not_null,
    "createIndex": _create_index,
    "dropIndex": _drop_index,
    "addForeignKeyConstraint": _add_foreign_key,
    "addUniqueConstraint": _add_constraint("unique"),
    "addPrimaryKey": _add_constraint("primary_key"),
    "addCheckConstraint": _add_constraint("check"),
    "dropForeignKeyConstraint": _drop_constraint("foreign_key", "baseTableName"),
    "dropAllForeignKeyConstraints": _drop_constraint("foreign_key", "baseTableName"),
    "dropUniqueConstraint": _drop_constraint("unique"),
    "dropPrimaryKey": _drop_constraint("primary_key"),
    "dropCheckConstraint": _drop_constraint("check"),
    "update": _data_change("update"),
    "delete": _data_change("delete"),
    "insert": _data_change("insert"),
    "loadData": _data_change("bulk_insert"),
    "loadUpdateData": _data_change("bulk_insert"),
    "sqlFile": _sql_file,
}


# --------------------------------------------------------------------------- SQL


def sql_mode(in_transaction: bool, split: bool) -> TransactionMode:
    """How the database sees SQL Liquibase sends: inside the changeSet's transaction, one
    statement at a time (`splitStatements`), or the whole text in one call (several statements
    in one call form an implicit transaction in PostgreSQL)."""
    if in_transaction:
        return "always"
    return "never" if split else "multi"


def sql_operations_for(
    migration: Migration,
    *,
    element: Element,
    value: Value | None,
    step: Step,
    in_transaction: bool,
    split: bool,
    end_delimiter: str | None,
    origin: str = "liquibase.sql",
) -> list[Operation]:
    """The `ExecuteSQL` of an SQL change, then the operations of the SQL inside it, placed on
    the exact characters of the element's text. Parse problems are added to the migration."""
    string = value.span if value is not None else element.span
    text = substitute_parameters(value.text) if value is not None else None
    positions = value.positions if value is not None else None
    transaction = sql_mode(in_transaction, split)
    delimiter = (end_delimiter or "").strip()
    if text is not None and delimiter and delimiter != ";":
        return _delimited(
            migration,
            element,
            (text, positions, string),
            delimiter,
            step,
            in_transaction,
            transaction,
            origin,
        )
    ops, problems = sql_operations(
        call=element.span,
        keyword=element.name_span,
        string=string,
        value=text,
        positions=positions,
        formatted=False,
        step=step,
        in_transaction=in_transaction,
        transaction=transaction,
        dialect=migration.dialect,
        origin=origin,
    )
    migration.problems.extend(problems)
    return ops


def substitute_parameters(sql: str) -> str:
    """`${name}` changelog parameters as identifiers of the same length, so the SQL parses
    and every position still maps to its character."""
    if "${" not in sql:
        return sql
    return _PARAMETER.sub(lambda m: "_" * len(m.group()), sql)


_PARAMETER = re.compile(r"\$\{[^}\n]*\}")


def _delimited(
    migration: Migration,
    element: Element,
    sql: tuple[str, Sequence[int] | None, Span],
    delimiter: str,
    step: Step,
    in_transaction: bool,
    transaction: TransactionMode,
    origin: str,
) -> list[Operation]:
    """SQL with a custom `endDelimiter` (`/`, `GO`): each delimited block is one statement
    for Liquibase, often procedural code whose inner `;` do not end it. A block the SQL parser
    cannot read as statements stays one opaque statement rather than a syntax error."""
    text, positions, string = sql
    if positions is None:
        positions = [string.start] * len(text) + [string.end]
    execute = ExecuteSQL(
        span=element.span,
        step=step,
        in_transaction=in_transaction,
        origin=origin,
        spans={"sql": string, "keyword": element.name_span},
        sql=text,
    )
    ops: list[Operation] = [execute]
    for start, end in _blocks(text, delimiter):
        block = text[start:end]
        if not block.strip():
            continue
        result = parse_sql(
            block,
            migration.dialect,
            positions=positions[start : end + 1],
            step=step,
            transaction=transaction,
        )
        if result.problems:
            lead = len(block) - len(block.lstrip())
            trail = len(block.rstrip())
            ops.append(
                OtherStatement(
                    span=Span(positions[start + lead], positions[start + trail]),
                    step=step,
                    in_transaction=in_transaction,
                    origin="sql",
                    keyword=block.split(None, 1)[0].upper(),
                    text=block.strip(),
                )
            )
            continue
        for op in result.operations:
            op.in_transaction = op.in_transaction or in_transaction
            ops.append(op)
    return ops


def _blocks(text: str, delimiter: str) -> Iterator[tuple[int, int]]:
    """`[start, end)` of the blocks of `text` ended by `delimiter` at the end of a line."""
    start = 0
    offset = 0
    for line in text.splitlines(keepends=True):
        stripped = line.rstrip()
        if stripped.upper().endswith(delimiter.upper()):
            cut = offset + len(stripped) - len(delimiter)
            yield start, cut
            start = offset + len(line)
        offset += len(line)
    yield start, len(text)
