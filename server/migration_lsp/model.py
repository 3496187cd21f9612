"""The normalized migration model every parser produces and every rule reads.

`op.create_index(...)`, `migrations.AddIndex(...)` and `CREATE INDEX ...` all become one
`CreateIndex`; rules are written once against these types. Every operation keeps the span of
the whole call or statement plus named spans of its important parts (`spans["column"]`, ...),
so diagnostics underline the right text and fixes edit the right characters.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from typing import Any, Literal

from migration_lsp.text import LineIndex, Span


class Step(enum.Enum):
    """Which direction of the migration an operation belongs to."""

    UP = "up"
    DOWN = "down"

    __hash__ = object.__hash__  # members are singletons; Enum's hashes the name in Python


class Severity(enum.IntEnum):
    """Finding severities, ordered so that `>=` compares seriousness."""

    HINT = 1
    INFO = 2
    WARNING = 3
    ERROR = 4

    @property
    def label(self) -> str:
        return self.name.lower()

    @classmethod
    def parse(cls, value: str) -> Severity:
        try:
            return cls[value.strip().upper()]
        except KeyError:
            raise ValueError(
                f"unknown severity {value!r} (use error, warning, info or hint)"
            ) from None


Dialect = Literal["postgresql", "mysql", "sqlite", "mssql", "oracle"]
DIALECTS: tuple[str, ...] = ("postgresql", "mysql", "sqlite", "mssql", "oracle")


# --------------------------------------------------------------------------- operations


@dataclass(slots=True, kw_only=True)
class Operation:
    """One schema or data step. `span` covers the call or statement."""

    span: Span
    step: Step = Step.UP
    in_transaction: bool = True
    origin: str = ""
    """How the source spelled it: `op.create_index`, `migrations.AddIndex`, `sql`."""
    spans: dict[str, Span] = field(default_factory=dict)
    """Spans of important parts: `name`, `table`, `column`, `concurrently`, `nullable`, ..."""
    restorable: bool = False
    """A drop whose source also states what recreating it needs (Rails `remove_column` with
    the type, `drop_table` with its block, `remove_index` with the columns): a tool that
    derives the rollback from the forward step (Rails `change`) can then undo it."""

    def span_of(self, part: str) -> Span:
        return self.spans.get(part, self.span)

    @property
    def is_sql(self) -> bool:
        return self.origin == "sql"


@dataclass(slots=True, kw_only=True)
class Default:
    """A column default as written (`server_default`, SQL `DEFAULT`, Django `db_default`)."""

    text: str
    volatile_function: str | None = None
    """Name of a volatile function the default calls (`gen_random_uuid`), if any."""


@dataclass(slots=True, kw_only=True)
class Column:
    name: str
    type: str | None = None
    """Lower-case SQL type as written (`varchar(255)`, `integer`), or None when unknown."""
    nullable: bool = True
    default: Default | None = None
    primary_key: bool = False
    unique: bool = False
    identity: bool = False
    serial: bool = False
    generated_stored: bool = False
    references: str | None = None
    """Referenced table of an inline foreign key."""
    index: bool = False
    """The framework also builds an index for it (Django `db_index`, ForeignKey)."""
    span: Span | None = None


@dataclass(slots=True, kw_only=True)
class CreateTable(Operation):
    table: str
    columns: list[Column] = field(default_factory=list)
    if_not_exists: bool = False


@dataclass(slots=True, kw_only=True)
class DropTable(Operation):
    table: str
    if_exists: bool = False


@dataclass(slots=True, kw_only=True)
class RenameTable(Operation):
    table: str
    new_name: str


@dataclass(slots=True, kw_only=True)
class AddColumn(Operation):
    table: str
    column: Column
    if_not_exists: bool = False


@dataclass(slots=True, kw_only=True)
class DropColumn(Operation):
    table: str
    column: str
    if_exists: bool = False


@dataclass(slots=True, kw_only=True)
class AlterColumn(Operation):
    table: str
    column: str
    new_type: str | None = None
    old_type: str | None = None
    nullable: bool | None = None
    """False: SET NOT NULL; True: DROP NOT NULL; None: unchanged."""
    old_nullable: bool | None = None
    type_change_known: bool = True
    """False when the type may have changed but the old type is unknown (Django AlterField)."""


@dataclass(slots=True, kw_only=True)
class RenameColumn(Operation):
    table: str
    column: str
    new_name: str


@dataclass(slots=True, kw_only=True)
class CreateIndex(Operation):
    name: str | None
    table: str
    columns: list[str] = field(default_factory=list)
    unique: bool = False
    concurrently: bool = False
    if_not_exists: bool = False
    implicit: bool = False
    """Built as a side effect of another operation (Django `db_index=True`, ForeignKey)."""


@dataclass(slots=True, kw_only=True)
class DropIndex(Operation):
    name: str | None
    table: str | None = None
    concurrently: bool = False
    if_exists: bool = False


ConstraintKind = Literal["foreign_key", "check", "unique", "primary_key", "exclude", "unknown"]


@dataclass(slots=True, kw_only=True)
class AddConstraint(Operation):
    table: str
    name: str | None
    kind: ConstraintKind
    not_valid: bool = False
    using_index: bool = False
    references: str | None = None
    columns: list[str] = field(default_factory=list)
    expression: str | None = None
    implicit: bool = False


@dataclass(slots=True, kw_only=True)
class DropConstraint(Operation):
    table: str
    name: str | None
    kind: ConstraintKind = "unknown"


@dataclass(slots=True, kw_only=True)
class ValidateConstraint(Operation):
    table: str
    name: str


@dataclass(slots=True, kw_only=True)
class Truncate(Operation):
    tables: list[str]


DataKind = Literal["update", "delete", "insert", "merge", "python", "bulk_insert", "copy"]


@dataclass(slots=True, kw_only=True)
class DataChange(Operation):
    """Rows written by the migration: DML statements, `bulk_insert`, Django `RunPython`."""

    kind: DataKind
    table: str | None = None
    has_where: bool = False
    unbounded: bool = False
    """The statement touches an unbounded set of rows (no WHERE, or only IS NULL tests)."""
    has_limit: bool = False
    per_row: bool = False
    """Issued once per row from a Python loop (row-by-row data migration)."""


@dataclass(slots=True, kw_only=True)
class SessionCommit(Operation):
    """An ORM `Session` created inside the migration and committed (`session.commit()`)."""


@dataclass(slots=True, kw_only=True)
class RunCode(Operation):
    """A Django `RunPython` or `RunSQL`: code the framework cannot reverse by itself."""

    language: Literal["python", "sql"]
    has_reverse: bool
    reverse_noop: bool = False


@dataclass(slots=True, kw_only=True)
class ExecuteSQL(Operation):
    """A call that hands SQL text to the database (`op.execute`, `RunSQL`, `execute`)."""

    sql: str | None
    """The SQL as the database will see it, or None when built at run time."""
    formatted: bool = False
    """Built with f-strings, `%`, `.format()` or concatenation with non-literals."""
    result_used: bool = False


TransactionKind = Literal["begin", "commit", "rollback", "savepoint", "release"]


@dataclass(slots=True, kw_only=True)
class TransactionControl(Operation):
    kind: TransactionKind


@dataclass(slots=True, kw_only=True)
class SetSetting(Operation):
    name: str
    value: str
    local: bool = False


@dataclass(slots=True, kw_only=True)
class OtherStatement(Operation):
    """A statement no rule models yet (CREATE EXTENSION, CREATE FUNCTION, SELECT, ...)."""

    keyword: str
    text: str

    @property
    def is_ddl(self) -> bool:
        return self.keyword.split(" ", 1)[0] in DDL_KEYWORDS


DDL_KEYWORDS = frozenset(
    {
        "CREATE",
        "ALTER",
        "DROP",
        "COMMENT",
        "GRANT",
        "REVOKE",
        "RENAME",
        "REINDEX",
        "CLUSTER",
        "REFRESH",
        "SECURITY",
        "IMPORT",
    }
)


# --------------------------------------------------------------------------- PostgreSQL statements
# Statements only the PostgreSQL statement rules look at (and MySQL ALTER TABLE options). They
# stay `OtherStatement`s (`keyword`, `text`, `is_ddl`), so code that knows statements only by their
# keyword keeps treating them as before.


@dataclass(slots=True, kw_only=True)
class Reindex(OtherStatement):
    """`REINDEX [ (options) ] INDEX|TABLE|SCHEMA|DATABASE|SYSTEM [CONCURRENTLY] name`."""

    target: str
    """What is rebuilt: `index`, `table`, `schema`, `database` or `system`."""
    name: str
    concurrently: bool = False


@dataclass(slots=True, kw_only=True)
class RefreshMaterializedView(OtherStatement):
    name: str
    concurrently: bool = False
    with_no_data: bool = False


@dataclass(slots=True, kw_only=True)
class DetachPartition(OtherStatement):
    """`ALTER TABLE parent DETACH PARTITION partition [CONCURRENTLY | FINALIZE]`."""

    table: str
    partition: str
    concurrently: bool = False
    finalize: bool = False


@dataclass(slots=True, kw_only=True)
class Vacuum(OtherStatement):
    tables: list[str] = field(default_factory=list)
    full: bool = False


@dataclass(slots=True, kw_only=True)
class Cluster(OtherStatement):
    table: str | None = None


@dataclass(slots=True, kw_only=True)
class AlterEnum(OtherStatement):
    """`ALTER TYPE name ADD VALUE [IF NOT EXISTS] 'value'`."""

    type_name: str
    value: str
    if_not_exists: bool = False


@dataclass(slots=True, kw_only=True)
class CreateDomain(OtherStatement):
    name: str
    has_check: bool = False


@dataclass(slots=True, kw_only=True)
class AlterDomain(OtherStatement):
    name: str
    adds_constraint: bool = False
    not_valid: bool = False


@dataclass(slots=True, kw_only=True)
class DropSchema(OtherStatement):
    name: str
    if_exists: bool = False
    cascade: bool = False


@dataclass(slots=True, kw_only=True)
class DropDatabase(OtherStatement):
    name: str
    if_exists: bool = False


@dataclass(slots=True, kw_only=True)
class AlterTableOptions(OtherStatement):
    """MySQL `ALGORITHM=...` / `LOCK=...` of an ALTER TABLE (its actions are separate
    operations with the same span); values upper-case, None when not given."""

    table: str
    algorithm: str | None = None
    lock: str | None = None


# --------------------------------------------------------------------------- migration


@dataclass(slots=True, kw_only=True)
class StepBody:
    """The reverse (or forward) step as written: `def downgrade()`, `down()`, `.down.sql`."""

    span: Span
    """Where to report about it: the function name, or the start of the section."""
    body: Span
    empty: bool
    raises: bool = False
    """It raises `NotImplementedError` (or `IrreversibleError`): declared impossible to undo."""


@dataclass(slots=True, kw_only=True)
class Import:
    module: str
    names: list[str]
    span: Span
    from_import: bool


@dataclass(slots=True, kw_only=True)
class ParseProblem:
    span: Span
    message: str


@dataclass(slots=True, kw_only=True)
class Changeset:
    """A unit the tool applies, and rolls back, as a whole: a Rails `change` method, a Liquibase
    changeSet. Without a written rollback the tool derives one by inverting the operations,
    which works only for the operations it knows how to invert."""

    span: Span
    """Where to report about it: `def change`, the `<changeSet` tag, `--changeset` line."""
    body: Span
    label: str
    """How users name it: `change`, `changeSet 3 (alice)`."""
    operations: list[Operation] = field(default_factory=list)
    """Its operations whose rollback the tool derives (not those inside Rails `reversible` or
    `up_only` blocks, which say themselves how to undo)."""
    rollback: Span | None = None
    """The written rollback (`<rollback>`, `--rollback`), when there is one."""
    identity: tuple[str, ...] = ()
    """What the tool records it by (Liquibase: id, author), for history checks."""


Language = Literal[
    "python", "sql", "ruby", "php", "javascript", "typescript", "xml", "yaml", "json", "prisma"
]


_SUFFIX_LANGUAGES: dict[str, Language] = {
    ".py": "python",
    ".sql": "sql",
    ".rb": "ruby",
    ".php": "php",
    ".js": "javascript",
    ".cjs": "javascript",
    ".mjs": "javascript",
    ".ts": "typescript",
    ".cts": "typescript",
    ".mts": "typescript",
    ".xml": "xml",
    ".yaml": "yaml",
    ".yml": "yaml",
    ".json": "json",
    ".prisma": "prisma",
}


def language_of(path: str) -> Language:
    """The language of a file, by its suffix (Python when unknown)."""
    dot = path.rfind(".")
    return _SUFFIX_LANGUAGES.get(path[dot:].lower(), "python") if dot != -1 else "python"


@dataclass(slots=True, kw_only=True)
class Migration:
    """One migration file, normalized."""

    path: str
    text: str
    tool: str
    dialect: str | None
    language: Language
    operations: list[Operation] = field(default_factory=list)
    up: StepBody | None = None
    down: StepBody | None = None
    supports_down: bool = False
    """Whether the tool has a reverse step in the same file (Alembic, Knex, Rails, ...)."""
    transactional: bool = True
    """Whether the runner wraps the forward step in a transaction by default."""
    problems: list[ParseProblem] = field(default_factory=list)
    imports: list[Import] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    runner: dict[str, Any] = field(default_factory=dict)
    """Project-wide facts about how migrations run (`lock_timeout` set in env.py/settings)."""
    changesets: list[Changeset] = field(default_factory=list)
    """Units whose rollback the tool derives itself (Rails `change`, Liquibase changeSets)."""
    sources: list[str] | None = None
    """Per operation, the text of the statement it was parsed from, when its parse depends on
    that text alone (SQL files): after an edit, the operations whose source and place are
    unchanged are known to be unchanged (see `relint`). None: not known."""
    _lines: LineIndex | None = None

    @property
    def lines(self) -> LineIndex:
        if self._lines is None:
            self._lines = LineIndex(self.text)
        return self._lines

    def forward(self) -> list[Operation]:
        return [op for op in self.operations if op.step is Step.UP]


_SCHEMA_CHANGES: tuple[type[Operation], ...] = (
    CreateTable,
    DropTable,
    RenameTable,
    AddColumn,
    DropColumn,
    AlterColumn,
    RenameColumn,
    CreateIndex,
    DropIndex,
    AddConstraint,
    DropConstraint,
    ValidateConstraint,
    Truncate,
)


def changes_schema(op: Operation) -> bool:
    """DDL, as opposed to data, settings, queries and transaction control."""
    if isinstance(op, OtherStatement):
        return op.is_ddl
    return isinstance(op, _SCHEMA_CHANGES)
