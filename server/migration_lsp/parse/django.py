"""Django migration files → `Migration`.

Reads `class Migration(migrations.Migration)` with `ast`, never importing the file. Every
operation in `operations = [...]` becomes the normalized operations Django really executes on
the database: `AddField` of a ForeignKey is a column, a FOREIGN KEY constraint and an index;
`RunSQL` is a `RunCode` plus the operations of its SQL, with spans inside the string literal.
`RunPython` is a `RunCode` and a `DataChange`; its functions (module-level `def`s) are read for
statements issued once per row from a loop over a queryset (`DataChange.per_row`).

Django does not write the previous state of a field into `AlterField`. The parser keeps a
*model state* (`DjangoState`) while it reads: seeded from `settings["django_state"]` (built by
`replay_app_state` from the app's earlier migration files) and updated by every operation of the
file, so an `AlterField` after a `CreateModel` in the same file also knows the old column.

Settings read by `parse_django` (all optional):

- `django_state`: `DjangoState`, i.e. `{(app_label, model_name_lower): ModelState}`. A plain
  `{field_name: Column}` mapping is accepted in place of a `ModelState` (table name then derived),
  and `"app.model"` string keys in place of tuples.
- `app_label`: the app label, when it is not the folder name above `migrations/`.
- `auth_user_model`: the project's `AUTH_USER_MODEL` (`"accounts.User"`), default `"auth.User"`.
"""

from __future__ import annotations

import ast
import dataclasses
import functools
import hashlib
import re
import threading
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Mapping
from pathlib import PurePosixPath
from typing import Any, TypeAlias

from migration_lsp.model import (
    AddColumn,
    AddConstraint,
    AlterColumn,
    Column,
    ConstraintKind,
    CreateIndex,
    CreateTable,
    DataChange,
    Default,
    DropColumn,
    DropConstraint,
    DropIndex,
    DropTable,
    Migration,
    Operation,
    ParseProblem,
    RenameColumn,
    RenameTable,
    RunCode,
    Step,
    StepBody,
    ValidateConstraint,
)
from migration_lsp.parse.pyloops import Loop, Names, bound_names, iterates_rows, loop_header
from migration_lsp.parse.python import PythonSource, argument, call_name, keyword, literal, string
from migration_lsp.parse.sql import VOLATILE_FUNCTIONS
from migration_lsp.parse.sql_incremental import shift_operation
from migration_lsp.text import Span

# --------------------------------------------------------------------------- model state


@dataclasses.dataclass(slots=True)
class ModelState:
    """What the migrations read so far say about one model's table."""

    table: str
    fields: dict[str, Column] = dataclasses.field(default_factory=dict)
    """Field name → its column (`Column.name` is the database column: `author_id` for a FK)."""
    m2m: dict[str, str | None] = dataclasses.field(default_factory=dict)
    """Many-to-many field name → its auto-created join table (None with `through=`)."""
    explicit_table: bool = False
    """`db_table` was given (RenameModel then leaves the table alone)."""
    managed: bool = True
    """False for `managed=False` and proxy models: Django runs no DDL for them."""

    def copy(self) -> ModelState:
        return ModelState(
            table=self.table,
            fields=dict(self.fields),
            m2m=dict(self.m2m),
            explicit_table=self.explicit_table,
            managed=self.managed,
        )


DjangoState = dict[tuple[str, str], ModelState]
"""`(app_label, model_name_lower)` → `ModelState`."""


# --------------------------------------------------------------------------- public API


def parse_django(
    path: str, text: str, dialect: str | None, settings: dict[str, Any] | None = None
) -> Migration:
    settings = settings or {}
    migration = Migration(
        path=path,
        text=text,
        tool="django",
        dialect=dialect,
        language="python",
        supports_down=False,
        transactional=_can_rollback_ddl(dialect),
    )
    source = PythonSource(text)
    if source.tree is None:
        if source.problem is not None:
            migration.problems.append(source.problem)
        return migration
    migration.imports = source.imports()
    found = _migration_class(source.tree)
    if found is None:
        return migration
    node, attributes = found
    atomic = literal(attributes.get("atomic")) is not False
    migration.transactional = atomic and _can_rollback_ddl(dialect)
    app_label = str(settings.get("app_label") or app_label_from_path(path) or "")
    reader = _Reader(
        source,
        app_label=app_label,
        dialect=dialect,
        state=_coerce_state(settings.get("django_state"), dialect, share=True),
        auth_user_model=str(settings.get("auth_user_model") or "auth.User"),
        atomic=atomic,
        emit_code=True,
    )
    operations = attributes.get("operations")
    name_span = source.name_span(node)
    if operations is None:
        migration.up = StepBody(span=name_span, body=source.span(node), empty=True)
    else:
        elements = operations.elts if isinstance(operations, ast.List | ast.Tuple) else None
        migration.up = StepBody(span=name_span, body=source.span(operations), empty=elements == [])
        reader.read(elements or [])
        if elements is not None:
            _remember_after(
                settings.get("django_state"),
                _replay_key(text, dialect, settings, path),
                reader.state,
            )
    migration.operations = reader.ops
    migration.problems.extend(reader.problems)
    return migration


def replay_app_state(
    files: Iterable[tuple[str, str]],
    *,
    dialect: str | None = None,
    settings: dict[str, Any] | None = None,
) -> DjangoState:
    """The model state after applying `files` (`(path, text)`, sorted by file name).

    Pass the app's migrations that come before the one being parsed, and hand the result to
    `parse_django` as `settings["django_state"]`. Only schema operations are replayed (RunSQL
    and RunPython SQL is not parsed); files that do not parse are skipped.
    """
    settings = settings or {}
    seed = settings.get("django_state")
    state: DjangoState | None = None
    after: DjangoState | None = None
    ordered = sorted(files, key=lambda item: (_file_name(item[0]), item[0]))
    for path, text in ordered:
        if state is None:
            after = _parsed_after(seed, _replay_key(text, dialect, settings, path))
            if after is not None:  # `parse_django` just read this file from the same state
                state = after
                continue
            state = _coerce_state(seed, dialect, share=True)
        elif state is after:  # the remembered state stays as it is: replay onto a copy
            state = _coerce_state(state, dialect, share=True)
        source = PythonSource(text)
        if source.tree is None:
            continue
        found = _migration_class(source.tree)
        if found is None:
            continue
        _, attributes = found
        operations = attributes.get("operations")
        if not isinstance(operations, ast.List | ast.Tuple):
            continue
        reader = _Reader(
            source,
            app_label=str(settings.get("app_label") or app_label_from_path(path) or ""),
            dialect=dialect,
            state=state,
            auth_user_model=str(settings.get("auth_user_model") or "auth.User"),
            atomic=literal(attributes.get("atomic")) is not False,
            emit_code=False,
        )
        reader.read(operations.elts)
        state = reader.state
    return state if state is not None else _coerce_state(seed, dialect)


_ReplayKey: TypeAlias = tuple[str, str | None, str, str]
_AFTER_KEPT = 4
_after: list[tuple[Any, _ReplayKey, DjangoState]] = []
"""(seed state, `_replay_key`, state after the file) of the last files `parse_django` read."""
_after_lock = threading.Lock()


def _replay_key(
    text: str, dialect: str | None, settings: Mapping[str, Any], path: str
) -> _ReplayKey:
    """Everything besides the seed state that the state after reading a file depends on."""
    app_label = str(settings.get("app_label") or app_label_from_path(path) or "")
    return (text, dialect, app_label, str(settings.get("auth_user_model") or "auth.User"))


def _seed(value: Any) -> Any:
    """The seed as `_coerce_state` sees it: anything that gives an empty state is None."""
    return value if isinstance(value, Mapping) and value else None


def _remember_after(seed: Any, key: _ReplayKey, state: DjangoState) -> None:
    """Files are checked in order, each seeded with the state after the ones before, so the
    next file's `replay_app_state` replays the file just parsed: the parser's own state after
    it (the same operations read the same way; RunSQL/RunPython change no state) is kept
    for that replay instead of reading the file a second time. Nothing changes a state once
    read: a `_Reader` copies each model of its seed before it changes it."""
    with _after_lock:
        _after.append((_seed(seed), key, state))
        del _after[:-_AFTER_KEPT]


def _parsed_after(seed: Any, key: _ReplayKey) -> DjangoState | None:
    """The state `_remember_after` kept for this file and seed, if any."""
    seed = _seed(seed)
    with _after_lock:
        for kept, kept_key, after in reversed(_after):
            if kept is seed and kept_key == key:
                found: DjangoState = after
                return found
    return None


@functools.lru_cache(maxsize=1024)
def app_label_from_path(path: str) -> str | None:
    """`shop/migrations/0002_x.py` → `shop` (the folder above the last `migrations/`). Kept
    per path: the parse and the state replay of each file ask."""
    parts = PurePosixPath(path.replace("\\", "/")).parts[:-1]
    for index in range(len(parts) - 1, 0, -1):
        if parts[index] == "migrations":
            return parts[index - 1]
    return None


def table_name(app_label: str, model_name: str, dialect: str | None = None) -> str:
    """Django's default `db_table`: `<app_label>_<model_name lower>`, truncated like Django."""
    name = f"{app_label}_{model_name.lower()}" if app_label else model_name.lower()
    return _truncate(name, dialect)


# --------------------------------------------------------------------------- helpers

_MAX_NAME_LENGTH = {"postgresql": 63, "mysql": 64, "oracle": 30, "mssql": 128}


def _truncate(identifier: str, dialect: str | None) -> str:
    """`django.db.backends.utils.truncate_name`: shorten with a 4-character md5 suffix."""
    length = _MAX_NAME_LENGTH.get(dialect or "postgresql")
    if length is None or len(identifier) <= length:
        return identifier
    digest = hashlib.md5(identifier.encode(), usedforsecurity=False).hexdigest()[:4]
    return identifier[: length - 4] + digest


def _can_rollback_ddl(dialect: str | None) -> bool:
    """`connection.features.can_rollback_ddl`: MySQL and Oracle commit every DDL statement."""
    return dialect not in ("mysql", "oracle")


def _file_name(path: str) -> str:
    return PurePosixPath(path.replace("\\", "/")).name


def _migration_class(tree: ast.Module) -> tuple[ast.ClassDef, dict[str, ast.expr]] | None:
    for node in tree.body:
        if isinstance(node, ast.ClassDef) and node.name == "Migration":
            attributes: dict[str, ast.expr] = {}
            for stmt in node.body:
                if isinstance(stmt, ast.Assign):
                    for target in stmt.targets:
                        if isinstance(target, ast.Name):
                            attributes[target.id] = stmt.value
                elif (
                    isinstance(stmt, ast.AnnAssign)
                    and isinstance(stmt.target, ast.Name)
                    and stmt.value is not None
                ):
                    attributes[stmt.target.id] = stmt.value
            return node, attributes
    return None


_HOLDERS = (ast.stmt, ast.excepthandler, ast.match_case)
"""The nodes statements live in (besides the module)."""


def _imports_in(tree: ast.Module) -> Iterator[ast.Import | ast.ImportFrom]:
    """The import statements in `ast.walk`'s order (breadth first: a later import of a name
    wins), visiting statements only: walking every expression of the operations list cost
    more than reading them."""
    queue: deque[ast.AST] = deque([tree])
    while queue:
        node = queue.popleft()
        if isinstance(node, ast.Import | ast.ImportFrom):
            yield node
            continue
        queue.extend(c for c in ast.iter_child_nodes(node) if isinstance(c, _HOLDERS))


def _coerce_state(value: Any, dialect: str | None, *, share: bool = False) -> DjangoState:
    """A state of our own from a `settings["django_state"]` value. `share`: its models are
    the value's own, for a `_Reader` (it copies a model before it changes it)."""
    state: DjangoState = {}
    if not isinstance(value, Mapping):
        return state
    for key, model in value.items():
        if isinstance(key, str) and "." in key:
            app, _, name = key.partition(".")
        elif isinstance(key, tuple) and len(key) == 2:
            app, name = str(key[0]), str(key[1])
        else:
            continue
        name = name.lower()
        if isinstance(model, ModelState):
            state[(app, name)] = model if share else model.copy()
        elif isinstance(model, Mapping):
            fields = {str(k): c for k, c in model.items() if isinstance(c, Column)}
            state[(app, name)] = ModelState(table=table_name(app, name, dialect), fields=fields)
    return state


def _stored(column: Column) -> Column:
    """The column as the state keeps it (without a span): `dataclasses.replace`, written out."""
    stored: Column = shift_operation(column, 0)
    stored.span = None
    return stored


def _strings(value: Any) -> list[str]:
    if isinstance(value, list | tuple):
        return [v for v in value if isinstance(v, str)]
    return []


def _together(value: Any) -> list[list[str]]:
    """`unique_together`/`index_together`: a set of tuples, or one tuple of field names."""
    if not isinstance(value, list | tuple | set | frozenset):
        return []
    items = list(value)
    if items and all(isinstance(v, str) for v in items):
        return [list(items)]
    groups = [_strings(v) for v in items if isinstance(v, list | tuple)]
    return sorted((g for g in groups if g), key=tuple)


def _last(node: ast.expr) -> str:
    return call_name(node).rpartition(".")[2]


def _is_noop(node: ast.expr | None) -> bool:
    """`migrations.RunPython.noop`, `migrations.RunSQL.noop`, `lambda *args: None`."""
    if node is None:
        return False
    if isinstance(node, ast.Attribute | ast.Name) and _last(node) == "noop":
        return True
    return (
        isinstance(node, ast.Lambda)
        and isinstance(node.body, ast.Constant)
        and node.body.value is None
    )


_VOLATILE_CALL = re.compile(
    r"(?<![\w.])(" + "|".join(sorted(VOLATILE_FUNCTIONS)) + r")\s*\(", re.IGNORECASE
)


def _volatile_in_sql(sql: str) -> str | None:
    found = _VOLATILE_CALL.search(sql)
    return found.group(1).lower() if found else None


_VOLATILE_EXPRESSIONS = {"RandomUUID": "gen_random_uuid", "Random": "random"}


def _volatile_expression(node: ast.expr) -> str | None:
    """The volatile SQL function a `db_default` expression calls, if any."""
    for sub in ast.walk(node):
        if not isinstance(sub, ast.Call):
            continue
        name = _last(sub)
        if name in _VOLATILE_EXPRESSIONS:
            return _VOLATILE_EXPRESSIONS[name]
        function = string(keyword(sub, "function"))
        if function and function.lower() in VOLATILE_FUNCTIONS:
            return function.lower()
        sql = string(keyword(sub, "template"))
        if sql is None and name == "RawSQL":
            sql = string(argument(sub, 0, "sql"))
        if sql is not None and (found := _volatile_in_sql(sql)) is not None:
            return found
        if name.lower() in VOLATILE_FUNCTIONS:
            return name.lower()
    return None


# --------------------------------------------------------------------------- field types

_CHAR_LENGTHS: dict[str, int | None] = {
    "CharField": None,
    "EmailField": 254,
    "SlugField": 50,
    "URLField": 200,
    "FileField": 100,
    "ImageField": 100,
    "FilePathField": 100,
    "CommaSeparatedIntegerField": None,
}
_SERIAL_FIELDS = frozenset({"AutoField", "BigAutoField", "SmallAutoField"})
_RELATIONS = frozenset({"ForeignKey", "OneToOneField"})

_PG_TYPES = {
    "AutoField": "serial",
    "BigAutoField": "bigserial",
    "SmallAutoField": "smallserial",
    "BinaryField": "bytea",
    "BooleanField": "boolean",
    "NullBooleanField": "boolean",
    "DateField": "date",
    "DateTimeField": "timestamptz",
    "DecimalField": "numeric",
    "DurationField": "interval",
    "FloatField": "double precision",
    "IntegerField": "integer",
    "BigIntegerField": "bigint",
    "SmallIntegerField": "smallint",
    "PositiveIntegerField": "integer",
    "PositiveBigIntegerField": "bigint",
    "PositiveSmallIntegerField": "smallint",
    "IPAddressField": "inet",
    "GenericIPAddressField": "inet",
    "JSONField": "jsonb",
    "TextField": "text",
    "TimeField": "time",
    "UUIDField": "uuid",
    "HStoreField": "hstore",
    "CICharField": "citext",
    "CIEmailField": "citext",
    "CITextField": "citext",
    "IntegerRangeField": "int4range",
    "BigIntegerRangeField": "int8range",
    "DecimalRangeField": "numrange",
    "DateTimeRangeField": "tstzrange",
    "DateRangeField": "daterange",
    "SearchVectorField": "tsvector",
}
_DIALECT_TYPES: dict[str, dict[str, str]] = {
    "mysql": {
        "AutoField": "integer",
        "BigAutoField": "bigint",
        "SmallAutoField": "smallint",
        "BinaryField": "longblob",
        "BooleanField": "bool",
        "NullBooleanField": "bool",
        "DateTimeField": "datetime(6)",
        "DurationField": "bigint",
        "IPAddressField": "char(15)",
        "GenericIPAddressField": "char(39)",
        "JSONField": "json",
        "TextField": "longtext",
        "TimeField": "time(6)",
        "UUIDField": "char(32)",
        "PositiveIntegerField": "integer unsigned",
        "PositiveBigIntegerField": "bigint unsigned",
        "PositiveSmallIntegerField": "smallint unsigned",
    },
    "sqlite": {
        "AutoField": "integer",
        "BigAutoField": "integer",
        "SmallAutoField": "integer",
        "BinaryField": "blob",
        "BooleanField": "bool",
        "NullBooleanField": "bool",
        "DateTimeField": "datetime",
        "DecimalField": "decimal",
        "DurationField": "bigint",
        "FloatField": "real",
        "IPAddressField": "char(15)",
        "GenericIPAddressField": "char(39)",
        "JSONField": "text",
        "UUIDField": "char(32)",
        "PositiveIntegerField": "integer unsigned",
        "PositiveBigIntegerField": "bigint unsigned",
        "PositiveSmallIntegerField": "smallint unsigned",
    },
    "oracle": {
        "AutoField": "number(11)",
        "BigAutoField": "number(19)",
        "BooleanField": "number(1)",
        "DateTimeField": "timestamp",
        "JSONField": "nclob",
        "TextField": "nclob",
        "UUIDField": "varchar2(32)",
        "FloatField": "double precision",
        "IntegerField": "number(11)",
        "BigIntegerField": "number(19)",
    },
    "mssql": {
        "AutoField": "int",
        "BigAutoField": "bigint",
        "BooleanField": "bit",
        "DateTimeField": "datetime2",
        "JSONField": "nvarchar(max)",
        "TextField": "nvarchar(max)",
        "UUIDField": "char(32)",
        "IntegerField": "int",
    },
}
_SERIAL_BASE = {"serial": "integer", "bigserial": "bigint", "smallserial": "smallint"}
_INTEGER_PRIMARY_KEYS = frozenset(
    {
        ("auth", "user"),
        ("auth", "group"),
        ("auth", "permission"),
        ("contenttypes", "contenttype"),
        ("sites", "site"),
    }
)
"""Models of `django.contrib` apps whose `id` is an `AutoField` (integer)."""


def _sql_type(kind: str, call: ast.Call, dialect: str | None) -> str | None:
    """The column type Django's schema editor writes for a field class."""
    if kind == "ArrayField":
        base_field = argument(call, 0, "base_field")
        if isinstance(base_field, ast.Call):
            inner = _sql_type(_last(base_field), base_field, dialect)
            return f"{inner}[]" if inner else None
        return None
    if kind in _CHAR_LENGTHS:
        length = literal(keyword(call, "max_length"))
        if not isinstance(length, int):
            length = _CHAR_LENGTHS[kind]
        return f"varchar({length})" if isinstance(length, int) else "varchar"
    overrides = _DIALECT_TYPES.get(dialect or "postgresql", {})
    base = overrides.get(kind) or _PG_TYPES.get(kind)
    if base in ("numeric", "decimal"):
        digits = literal(keyword(call, "max_digits"))
        places = literal(keyword(call, "decimal_places"))
        if isinstance(digits, int) and isinstance(places, int):
            return f"{base}({digits},{places})"
    return base


def _auto_type(dialect: str | None) -> str:
    """The type of an implicit `id` (`DEFAULT_AUTO_FIELD`, BigAutoField since Django 3.2)."""
    return _DIALECT_TYPES.get(dialect or "postgresql", {}).get("BigAutoField", "bigserial")


def _integer_type(column_type: str) -> str:
    """The type of a column that references a primary key of `column_type`."""
    return _SERIAL_BASE.get(column_type, column_type)


@dataclasses.dataclass(slots=True)
class _Field:
    """One `models.XField(...)` as the database sees it."""

    column: Column | None
    """None for a ManyToManyField (no column on the model's table)."""
    related: tuple[str, str] | None = None
    m2m_table: str | None = None
    constraint: bool = True
    """`db_constraint` (a ForeignKey gets a FOREIGN KEY constraint)."""


# --------------------------------------------------------------------------- the reader

_OPERATIONS = frozenset(
    {
        "CreateModel",
        "DeleteModel",
        "RenameModel",
        "AlterModelTable",
        "AlterModelOptions",
        "AddField",
        "RemoveField",
        "AlterField",
        "RenameField",
        "AddIndex",
        "AddIndexConcurrently",
        "RemoveIndex",
        "RemoveIndexConcurrently",
        "AddConstraint",
        "AddConstraintNotValid",
        "ValidateConstraint",
        "RemoveConstraint",
        "AlterUniqueTogether",
        "AlterIndexTogether",
        "AlterOrderWithRespectTo",
        "RunPython",
        "RunSQL",
        "SeparateDatabaseAndState",
    }
)
_Handler = Callable[[ast.Call, Span], list[Operation]]


_HANDLERS: dict[str, str] = {
    "CreateModel": "create_model",
    "DeleteModel": "delete_model",
    "RenameModel": "rename_model",
    "AlterModelTable": "alter_model_table",
    "AlterModelOptions": "alter_model_options",
    "AddField": "add_field",
    "RemoveField": "remove_field",
    "AlterField": "alter_field",
    "RenameField": "rename_field",
    "AddIndex": "add_index",
    "AddIndexConcurrently": "add_index",
    "RemoveIndex": "remove_index",
    "RemoveIndexConcurrently": "remove_index",
    "AddConstraint": "add_constraint",
    "AddConstraintNotValid": "add_constraint",
    "ValidateConstraint": "validate_constraint",
    "RemoveConstraint": "remove_constraint",
    "AlterUniqueTogether": "alter_together",
    "AlterIndexTogether": "alter_together",
    "AlterOrderWithRespectTo": "alter_order_with_respect_to",
    "RunPython": "run_python",
    "RunSQL": "run_sql",
    "SeparateDatabaseAndState": "separate_database_and_state",
}
"""Operation name → the `_Reader` method that reads it (looked up on use: a table of bound
methods in the reader would make each reader a reference cycle, kept with its file's tree
until the garbage collector finds it)."""


class _Reader:
    """Turns the operations list of one file into model operations, updating `state`."""

    def __init__(
        self,
        source: PythonSource,
        *,
        app_label: str,
        dialect: str | None,
        state: DjangoState,
        auth_user_model: str,
        atomic: bool,
        emit_code: bool,
    ) -> None:
        self.source = source
        self.app = app_label
        self.dialect = dialect
        self.state = state
        self._owned: set[int] = set()
        """The models this reader made: any other model of `state` is shared with other states
        and copied before a change (a file changes a few models of an app with hundreds)."""
        self.auth_user_model = auth_user_model
        self.atomic = atomic
        self.ddl_tx = atomic and _can_rollback_ddl(dialect)
        self.emit_code = emit_code
        """False while replaying state: RunSQL/RunPython produce nothing."""
        self.ops: list[Operation] = []
        self.problems: list[ParseProblem] = []
        self.aliases: dict[str, str] = {}
        self.local_names: set[str] = set()
        self.constants: dict[str, ast.expr] = {}
        self.functions: dict[str, ast.FunctionDef] = {}
        """Module-level functions: the code of `RunPython`."""
        self._scan_module()

    def _scan_module(self) -> None:
        tree = self.source.tree
        if tree is None:
            return
        for node in _imports_in(tree):
            if isinstance(node, ast.Import):
                for alias in node.names:
                    if alias.asname:
                        self.aliases[alias.asname] = alias.name
                    else:
                        head = alias.name.split(".")[0]
                        self.aliases[head] = head
            elif isinstance(node, ast.ImportFrom) and node.module:
                for alias in node.names:
                    self.aliases[alias.asname or alias.name] = f"{node.module}.{alias.name}"
        for stmt in tree.body:
            if isinstance(stmt, ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef):
                self.local_names.add(stmt.name)
            if isinstance(stmt, ast.FunctionDef):
                self.functions[stmt.name] = stmt
            elif isinstance(stmt, ast.Assign):
                for target in stmt.targets:
                    if isinstance(target, ast.Name):
                        self.constants[target.id] = stmt.value

    # ------------------------------------------------------------------ dispatch

    def read(self, nodes: list[ast.expr]) -> None:
        for node in nodes:
            if isinstance(node, ast.Call):
                self.operation(node)

    def operation_name(self, call: ast.Call) -> str | None:
        name = call_name(call)
        head, _, last = name.rpartition(".")
        if last not in _OPERATIONS:
            return None
        if not head:
            module = self.aliases.get(last)
            if module is not None:
                return last if module.startswith("django.") else None
            return None if last in self.local_names else last
        first = head.split(".")[0]
        if first in self.aliases:
            return last if self.aliases[first].startswith("django") else None
        return last if first == "migrations" else None

    def operation(self, call: ast.Call) -> None:
        name = self.operation_name(call)
        if name is None:
            return
        span = self.source.span(call)
        operation_span = self.source.span(call.func)
        handler: _Handler = getattr(self, _HANDLERS[name])
        for op in handler(call, span):
            if not op.origin:
                op.origin = f"migrations.{name}"
                op.step = Step.UP
                op.in_transaction = self.ddl_tx
                op.spans.setdefault("keyword", operation_span)
            self.ops.append(op)

    def state_only(self, node: ast.expr | None) -> None:
        """Apply `state_operations` to the model state; they never reach the database."""
        if not isinstance(node, ast.List | ast.Tuple):
            return
        count, problems = len(self.ops), len(self.problems)
        emit_code, self.emit_code = self.emit_code, False
        self.read(node.elts)
        self.emit_code = emit_code
        del self.ops[count:]
        del self.problems[problems:]

    # ------------------------------------------------------------------ names

    def model(
        self, node: ast.expr | None, *, create: bool = False
    ) -> tuple[tuple[str, str], str, ModelState | None]:
        """Key, table and state of a model (ours to change); `create` starts a state for an
        unknown model."""
        name = string(node) or ""
        key = (self.app, name.lower())
        state = self.state.get(key)
        if state is not None and id(state) not in self._owned:
            state = self.state[key] = state.copy()
            self._owned.add(id(state))
        if state is None and create and name:
            state = self.state[key] = ModelState(table=table_name(self.app, name, self.dialect))
            self._owned.add(id(state))
        table = state.table if state is not None else table_name(self.app, name, self.dialect)
        return key, table, state

    def related(self, node: ast.expr | None, owner: tuple[str, str]) -> tuple[str, str] | None:
        if node is None:
            return None
        target = string(node)
        if target is None and _last(node) == "AUTH_USER_MODEL":
            target = self.auth_user_model
        if target is None:
            return None
        if target == "self":
            return owner
        app, _, name = target.rpartition(".")
        return (app or owner[0], name.lower())

    def table_of(self, key: tuple[str, str]) -> str:
        state = self.state.get(key)
        return state.table if state is not None else table_name(key[0], key[1], self.dialect)

    def primary_key_type(self, key: tuple[str, str] | None) -> str:
        state = self.state.get(key) if key is not None else None
        if state is not None:
            for column in state.fields.values():
                if column.primary_key and column.type:
                    return _integer_type(column.type)
        if key in _INTEGER_PRIMARY_KEYS:
            return "integer"
        return _integer_type(_auto_type(self.dialect))

    def column_name(self, key: tuple[str, str], field_name: str) -> str:
        state = self.state.get(key)
        column = state.fields.get(field_name) if state is not None else None
        return column.name if column is not None else field_name

    def segment(self, node: ast.expr) -> str:
        span = self.source.span(node)
        return self.source.text[span.start : span.end]

    def node_spans(self, **nodes: ast.expr | None) -> dict[str, Span]:
        return {part: self.source.span(node) for part, node in nodes.items() if node is not None}

    def resolve(self, node: ast.expr | None) -> ast.expr | None:
        """A module-level constant (`SQL = "..."`) stands for its value."""
        for _ in range(5):
            if isinstance(node, ast.Name) and node.id in self.constants:
                node = self.constants[node.id]
            else:
                break
        return node

    # ------------------------------------------------------------------ fields

    def field(self, node: ast.expr | None, name: str, owner: tuple[str, str]) -> _Field | None:
        if not isinstance(node, ast.Call):
            return None
        kind = _last(node)

        def flag(part: str) -> Any:
            return literal(keyword(node, part))

        if kind == "ManyToManyField":
            related = self.related(argument(node, 0, "to"), owner)
            join = None
            through = keyword(node, "through")
            if through is None or literal(through) is None:
                join = string(keyword(node, "db_table")) or _truncate(
                    f"{self.table_of(owner)}_{name}", self.dialect
                )
            return _Field(column=None, related=related, m2m_table=join)
        db_column = string(keyword(node, "db_column"))
        related = None
        references = None
        generated = False
        if kind in _RELATIONS:
            related = self.related(argument(node, 0, "to"), owner)
            references = self.table_of(related) if related is not None else None
            column_type: str | None = self.primary_key_type(related)
            column_name = db_column or f"{name}_id"
        else:
            column_name = db_column or name
            if kind == "GeneratedField":
                output = keyword(node, "output_field")
                column_type = (
                    _sql_type(_last(output), output, self.dialect)
                    if isinstance(output, ast.Call)
                    else None
                )
                generated = flag("db_persist") is True
            else:
                column_type = _sql_type(kind, node, self.dialect)
        primary_key = flag("primary_key") is True
        db_index = flag("db_index")
        column = Column(
            name=column_name,
            type=column_type,
            nullable=flag("null") is True and not primary_key,
            default=self.default(node),
            primary_key=primary_key,
            unique=(flag("unique") is True or kind == "OneToOneField") and not primary_key,
            serial=kind in _SERIAL_FIELDS,
            generated_stored=generated,
            references=references if flag("db_constraint") is not False else None,
            index=db_index is True or (kind in _RELATIONS and db_index is not False),
        )
        return _Field(column=column, related=related, constraint=flag("db_constraint") is not False)

    def default(self, call: ast.Call) -> Default | None:
        """`db_default` (a real database default) or `default` (applied while adding)."""
        db_default = keyword(call, "db_default")
        if db_default is not None and not _last(db_default).endswith("NOT_PROVIDED"):
            return Default(
                text=self.segment(db_default), volatile_function=_volatile_expression(db_default)
            )
        value = keyword(call, "default")
        if (
            value is not None
            and literal(value) is not None
            and not _last(value).endswith("NOT_PROVIDED")
        ):
            return Default(text=self.segment(value))
        if (
            literal(keyword(call, "auto_now")) is True
            or literal(keyword(call, "auto_now_add")) is True
        ):
            return Default(text="django.utils.timezone.now")
        return None

    def field_spans(self, call: ast.Call, field_node: ast.expr | None) -> dict[str, Span]:
        spans = self.node_spans(
            table=argument(call, 0, "model_name"),
            column=argument(call, 1, "name"),
            field=field_node,
            column_def=field_node,
        )
        if isinstance(field_node, ast.Call):
            spans.update(self.node_spans(nullable=keyword(field_node, "null")))
            default = keyword(field_node, "db_default") or keyword(field_node, "default")
            spans.update(self.node_spans(default=default))
            if isinstance(field_node.func, ast.Attribute | ast.Name):
                spans["type"] = self.source.span(field_node.func)
        return spans

    def join_table(self, span: Span, owner: tuple[str, str], field: _Field) -> CreateTable:
        """The table Django creates for an auto-created many-to-many relation."""
        assert field.m2m_table is not None
        target = field.related or owner
        if target == owner:
            source_column, target_column = f"from_{owner[1]}_id", f"to_{owner[1]}_id"
        else:
            source_column, target_column = f"{owner[1]}_id", f"{target[1]}_id"
        auto = _auto_type(self.dialect)
        columns = [
            Column(name="id", type=auto, nullable=False, primary_key=True, serial=True),
            Column(
                name=source_column,
                type=self.primary_key_type(owner),
                nullable=False,
                references=self.table_of(owner),
                index=True,
            ),
            Column(
                name=target_column,
                type=self.primary_key_type(target),
                nullable=False,
                references=self.table_of(target),
                index=True,
            ),
        ]
        return CreateTable(span=span, table=field.m2m_table, columns=columns)

    # ------------------------------------------------------------------ models

    def create_model(self, call: ast.Call, span: Span) -> list[Operation]:
        name_node = argument(call, 0, "name")
        name = string(name_node) or ""
        options = self.options(argument(call, 2, "options"))
        db_table = string(options.get("db_table"))
        key = (self.app, name.lower())
        table = db_table or table_name(self.app, name, self.dialect)
        model = ModelState(
            table=table,
            explicit_table=db_table is not None,
            managed=literal(options.get("managed")) is not False
            and literal(options.get("proxy")) is not True,
        )
        self.state[key] = model
        self._owned.add(id(model))
        columns: list[Column] = []
        extra: list[Operation] = []
        fields_node = argument(call, 1, "fields")
        for item in fields_node.elts if isinstance(fields_node, ast.List | ast.Tuple) else []:
            if not isinstance(item, ast.Tuple) or len(item.elts) < 2:
                continue
            field_name = string(item.elts[0])
            if field_name is None:
                continue
            field = self.field(item.elts[1], field_name, key)
            if field is None:
                continue
            if field.column is None:
                model.m2m[field_name] = field.m2m_table
                if field.m2m_table is not None:
                    join = self.join_table(span, key, field)
                    join.spans = self.node_spans(table=item.elts[0])
                    extra.append(join)
                continue
            model.fields[field_name] = _stored(field.column)
            field.column.span = self.source.span(item.elts[0])
            columns.append(field.column)
        if string(options.get("order_with_respect_to")):
            columns.append(
                Column(name="_order", type="integer", nullable=False, default=Default(text="0"))
            )
        if not model.managed:
            return []
        ops: list[Operation] = [
            CreateTable(
                span=span, table=table, columns=columns, spans=self.node_spans(table=name_node)
            )
        ]
        ops.extend(extra)
        for option in ("indexes", "constraints"):
            value = options.get(option)
            for item in value.elts if isinstance(value, ast.List | ast.Tuple) else []:
                if isinstance(item, ast.Call):
                    build = self.index if option == "indexes" else self.constraint
                    ops.append(build(span, key, table, item, name_node))
        for option in ("unique_together", "index_together"):
            ops.extend(self.together(span, key, table, option, options.get(option), name_node))
        return ops

    def options(self, node: ast.expr | None) -> dict[str, ast.expr]:
        found: dict[str, ast.expr] = {}
        if isinstance(node, ast.Dict):
            for key, value in zip(node.keys, node.values, strict=True):
                name = string(key)
                if name is not None:
                    found[name] = value
        return found

    def delete_model(self, call: ast.Call, span: Span) -> list[Operation]:
        name_node = argument(call, 0, "name")
        key, table, model = self.model(name_node)
        self.state.pop(key, None)
        if model is not None and not model.managed:
            return []
        spans = self.node_spans(table=name_node)
        ops: list[Operation] = [DropTable(span=span, table=table, spans=spans)]
        if model is not None:
            ops.extend(
                DropTable(span=span, table=join, spans=dict(spans))
                for join in model.m2m.values()
                if join is not None
            )
        return ops

    def rename_model(self, call: ast.Call, span: Span) -> list[Operation]:
        old_node, new_node = argument(call, 0, "old_name"), argument(call, 1, "new_name")
        key, table, model = self.model(old_node)
        new_name = string(new_node) or ""
        new_key = (self.app, new_name.lower())
        if model is not None and model.explicit_table:
            new_table = model.table
        else:
            new_table = table_name(self.app, new_name, self.dialect)
        self.state.pop(key, None)
        if model is not None:
            self.state[new_key] = model
        spans = self.node_spans(table=old_node, new_name=new_node)
        return self.move_table(span, model, table, new_table, spans)

    def alter_model_table(self, call: ast.Call, span: Span) -> list[Operation]:
        name_node, table_node = argument(call, 0, "name"), argument(call, 1, "table")
        key, table, model = self.model(name_node)
        new_table = string(table_node) or table_name(self.app, key[1], self.dialect)
        if model is not None:
            model.explicit_table = string(table_node) is not None
        spans = self.node_spans(table=name_node, new_name=table_node)
        return self.move_table(span, model, table, new_table, spans)

    def move_table(
        self,
        span: Span,
        model: ModelState | None,
        table: str,
        new_table: str,
        spans: dict[str, Span],
    ) -> list[Operation]:
        """RenameModel/AlterModelTable: rename the table and the join tables named after it."""
        if model is not None:
            model.table = new_table
        if table == new_table or (model is not None and not model.managed):
            return []
        ops: list[Operation] = [
            RenameTable(span=span, table=table, new_name=new_table, spans=spans)
        ]
        if model is not None:
            for field_name, join in list(model.m2m.items()):
                if join is not None and join == _truncate(f"{table}_{field_name}", self.dialect):
                    renamed = _truncate(f"{new_table}_{field_name}", self.dialect)
                    model.m2m[field_name] = renamed
                    ops.append(
                        RenameTable(span=span, table=join, new_name=renamed, spans=dict(spans))
                    )
        return ops

    def alter_model_options(self, call: ast.Call, span: Span) -> list[Operation]:
        _, _, model = self.model(argument(call, 0, "name"))
        managed = literal(self.options(argument(call, 1, "options")).get("managed"))
        if model is not None and isinstance(managed, bool):
            model.managed = managed
        return []

    # ------------------------------------------------------------------ fields

    def add_field(self, call: ast.Call, span: Span) -> list[Operation]:
        key, table, model = self.model(argument(call, 0, "model_name"), create=True)
        name_node, field_node = argument(call, 1, "name"), argument(call, 2, "field")
        name = string(name_node) or ""
        field = self.field(field_node, name, key)
        if field is None:
            return []
        if model is not None:
            if field.column is not None:
                model.fields[name] = _stored(field.column)
            else:
                model.m2m[name] = field.m2m_table
            if not model.managed:
                return []
        spans = self.field_spans(call, field_node)
        if field.column is None:
            if field.m2m_table is None:
                return []
            join = self.join_table(span, key, field)
            join.spans = self.node_spans(table=name_node)
            return [join]
        column = field.column
        if name_node is not None:
            column.span = self.source.span(name_node)
        ops: list[Operation] = [AddColumn(span=span, table=table, column=column, spans=spans)]
        ops.extend(self.implicit(span, table, None, column, field.constraint, spans))
        return ops

    def implicit(
        self,
        span: Span,
        table: str,
        old: Column | None,
        new: Column,
        constraint: bool,
        spans: dict[str, Span],
    ) -> list[Operation]:
        """The constraints and index Django builds or drops next to a new or altered column.

        PRIMARY KEY / UNIQUE, the FOREIGN KEY of a relation (unless `db_constraint=False`) and the
        index of `db_index=True` or a ForeignKey (a unique column needs none). `old` is the
        column before an AlterField, None for a new column.
        """
        before = old or Column(name=new.name)
        ops: list[Operation] = []

        def add(kind: ConstraintKind, references: str | None = None) -> None:
            ops.append(
                AddConstraint(
                    span=span,
                    table=table,
                    name=None,
                    kind=kind,
                    columns=[new.name],
                    references=references,
                    implicit=True,
                    spans=dict(spans),
                )
            )

        def drop(kind: ConstraintKind) -> None:
            ops.append(
                DropConstraint(span=span, table=table, name=None, kind=kind, spans=dict(spans))
            )

        if new.primary_key and not before.primary_key:
            add("primary_key")
        elif new.unique and not before.unique:
            add("unique")
        elif before.unique and not new.unique and not new.primary_key:
            drop("unique")
        if new.references is not None and constraint and new.references != before.references:
            add("foreign_key", new.references)
        elif before.references is not None and new.references is None:
            drop("foreign_key")
        old_index = before.index and not before.unique and not before.primary_key
        new_index = new.index and not new.unique and not new.primary_key
        if new_index and not old_index:
            ops.append(
                CreateIndex(
                    span=span,
                    name=None,
                    table=table,
                    columns=[new.name],
                    concurrently=False,
                    implicit=True,
                    spans=dict(spans),
                )
            )
        elif old_index and not new_index:
            ops.append(DropIndex(span=span, name=None, table=table, spans=dict(spans)))
        return ops

    def remove_field(self, call: ast.Call, span: Span) -> list[Operation]:
        _, table, model = self.model(argument(call, 0, "model_name"))
        name_node = argument(call, 1, "name")
        name = string(name_node) or ""
        spans = self.node_spans(table=argument(call, 0, "model_name"), column=name_node)
        column = model.fields.pop(name, None) if model is not None else None
        if model is not None and name in model.m2m:
            join = model.m2m.pop(name)
            if join is None or not model.managed:
                return []
            table_spans = self.node_spans(table=name_node)  # the join table is the field's
            return [DropTable(span=span, table=join, spans=table_spans)]
        if model is not None and not model.managed:
            return []
        column_name = column.name if column is not None else name
        return [DropColumn(span=span, table=table, column=column_name, spans=spans)]

    def rename_field(self, call: ast.Call, span: Span) -> list[Operation]:
        model_node = argument(call, 0, "model_name")
        _, table, model = self.model(model_node, create=True)
        old_node, new_node = argument(call, 1, "old_name"), argument(call, 2, "new_name")
        old, new = string(old_node) or "", string(new_node) or ""
        spans = self.node_spans(table=model_node, column=old_node, new_name=new_node)
        if model is None:
            return [RenameColumn(span=span, table=table, column=old, new_name=new, spans=spans)]
        if old in model.m2m:
            join = model.m2m.pop(old)
            renamed = join
            if join is not None and join == _truncate(f"{table}_{old}", self.dialect):
                renamed = _truncate(f"{table}_{new}", self.dialect)
            model.m2m[new] = renamed
            if join is None or renamed is None or join == renamed or not model.managed:
                return []
            return [RenameTable(span=span, table=join, new_name=renamed, spans=spans)]
        previous = model.fields.pop(old, None)
        if previous is None:
            return [RenameColumn(span=span, table=table, column=old, new_name=new, spans=spans)]
        if previous.name == old:
            new_column = new
        elif previous.name == f"{old}_id" and previous.references is not None:
            new_column = f"{new}_id"
        else:  # an explicit db_column: the column keeps its name
            new_column = previous.name
        model.fields[new] = dataclasses.replace(previous, name=new_column)
        if new_column == previous.name or not model.managed:
            return []
        return [
            RenameColumn(
                span=span, table=table, column=previous.name, new_name=new_column, spans=spans
            )
        ]

    def alter_field(self, call: ast.Call, span: Span) -> list[Operation]:
        key, table, model = self.model(argument(call, 0, "model_name"), create=True)
        name_node, field_node = argument(call, 1, "name"), argument(call, 2, "field")
        name = string(name_node) or ""
        field = self.field(field_node, name, key)
        if field is None:
            return []
        previous = model.fields.get(name) if model is not None else None
        if model is not None:
            if field.column is not None:
                model.fields[name] = _stored(field.column)
                model.m2m.pop(name, None)
            else:
                model.fields.pop(name, None)
                model.m2m[name] = field.m2m_table
            if not model.managed:
                return []
        if field.column is None:
            return []
        new = field.column
        if name_node is not None:
            new.span = self.source.span(name_node)
        spans = self.field_spans(call, field_node)
        if previous is None:
            explicit = (
                literal(keyword(field_node, "null")) if isinstance(field_node, ast.Call) else None
            )
            return [
                AlterColumn(
                    span=span,
                    table=table,
                    column=new.name,
                    new_type=new.type,
                    nullable=explicit if isinstance(explicit, bool) else None,
                    type_change_known=False,
                    spans=spans,
                )
            ]
        ops: list[Operation] = []
        if previous.name != new.name:
            ops.append(
                RenameColumn(
                    span=span,
                    table=table,
                    column=previous.name,
                    new_name=new.name,
                    spans=dict(spans),
                )
            )
        known = previous.type is not None and new.type is not None
        type_changed = known and previous.type != new.type
        nullable: bool | None = None
        if previous.nullable != new.nullable:
            nullable = new.nullable
        if type_changed or nullable is not None or not known:
            ops.append(
                AlterColumn(
                    span=span,
                    table=table,
                    column=new.name,
                    new_type=new.type if type_changed or not known else None,
                    old_type=previous.type,
                    nullable=nullable,
                    old_nullable=previous.nullable,
                    type_change_known=known,
                    spans=spans,
                )
            )
        ops.extend(self.implicit(span, table, previous, new, field.constraint, spans))
        return ops

    def alter_order_with_respect_to(self, call: ast.Call, span: Span) -> list[Operation]:
        name_node = argument(call, 0, "name")
        _, table, model = self.model(name_node)
        if model is not None and not model.managed:
            return []
        spans = self.node_spans(table=name_node)
        if string(argument(call, 1, "order_with_respect_to")):
            column = Column(
                name="_order", type="integer", nullable=False, default=Default(text="0")
            )
            return [AddColumn(span=span, table=table, column=column, spans=spans)]
        return [DropColumn(span=span, table=table, column="_order", spans=spans)]

    # ------------------------------------------------------------------ indexes, constraints

    def add_index(self, call: ast.Call, span: Span) -> list[Operation]:
        model_node = argument(call, 0, "model_name")
        key, table, model = self.model(model_node)
        index_node = argument(call, 1, "index")
        if not isinstance(index_node, ast.Call) or (model is not None and not model.managed):
            return []
        op = self.index(span, key, table, index_node, model_node)
        if _last(call) == "AddIndexConcurrently" and isinstance(op, CreateIndex):
            op.concurrently = True
            op.spans["concurrently"] = self.source.span(call.func)
        return [op]

    def index(
        self,
        span: Span,
        key: tuple[str, str],
        table: str,
        node: ast.Call,
        model_node: ast.expr | None,
    ) -> Operation:
        """`models.Index(fields=[...], name=..., condition=...)` (any index class)."""
        fields_node = keyword(node, "fields")
        columns = [self.column_name(key, f.lstrip("-")) for f in _strings(literal(fields_node))]
        expressions = [a for a in node.args if not isinstance(a, ast.Starred)]
        columns.extend(self.segment(e) for e in expressions)
        name_node = keyword(node, "name")
        spans = self.node_spans(
            table=model_node,
            name=name_node,
            index=node,
            columns=fields_node,
            condition=keyword(node, "condition"),
        )
        return CreateIndex(
            span=span, name=string(name_node), table=table, columns=columns, spans=spans
        )

    def remove_index(self, call: ast.Call, span: Span) -> list[Operation]:
        model_node = argument(call, 0, "model_name")
        _, table, model = self.model(model_node)
        if model is not None and not model.managed:
            return []
        name_node = argument(call, 1, "name")
        spans = self.node_spans(table=model_node, name=name_node)
        concurrently = _last(call) == "RemoveIndexConcurrently"
        if concurrently:
            spans["concurrently"] = self.source.span(call.func)
        return [
            DropIndex(
                span=span,
                name=string(name_node),
                table=table,
                concurrently=concurrently,
                spans=spans,
            )
        ]

    def add_constraint(self, call: ast.Call, span: Span) -> list[Operation]:
        model_node = argument(call, 0, "model_name")
        key, table, model = self.model(model_node)
        node = argument(call, 1, "constraint")
        if not isinstance(node, ast.Call) or (model is not None and not model.managed):
            return []
        op = self.constraint(span, key, table, node, model_node)
        if _last(call) == "AddConstraintNotValid" and isinstance(op, AddConstraint):
            op.not_valid = True  # django.contrib.postgres: ADD CONSTRAINT ... NOT VALID
        return [op]

    def validate_constraint(self, call: ast.Call, span: Span) -> list[Operation]:
        """`django.contrib.postgres.operations.ValidateConstraint(model_name, name)`."""
        model_node = argument(call, 0, "model_name")
        _, table, model = self.model(model_node)
        if model is not None and not model.managed:
            return []
        name_node = argument(call, 1, "name")
        spans = self.node_spans(table=model_node, name=name_node)
        return [
            ValidateConstraint(span=span, table=table, name=string(name_node) or "", spans=spans)
        ]

    def constraint(
        self,
        span: Span,
        key: tuple[str, str],
        table: str,
        node: ast.Call,
        model_node: ast.expr | None,
    ) -> Operation:
        """`models.CheckConstraint`, `models.UniqueConstraint`, `ExclusionConstraint`."""
        kind_name = _last(node)
        name_node = keyword(node, "name")
        name = string(name_node)
        spans = self.node_spans(table=model_node, name=name_node, constraint=node)
        if kind_name == "CheckConstraint":
            check = keyword(node, "condition") or keyword(node, "check")
            spans.update(self.node_spans(check=check))
            return AddConstraint(
                span=span,
                table=table,
                name=name,
                kind="check",
                expression=self.segment(check) if check is not None else None,
                spans=spans,
            )
        if kind_name == "UniqueConstraint":
            fields_node = keyword(node, "fields")
            columns = [self.column_name(key, f) for f in _strings(literal(fields_node))]
            spans.update(self.node_spans(columns=fields_node))
            expressions = [a for a in node.args if not isinstance(a, ast.Starred)]
            condition = keyword(node, "condition")
            spans.update(self.node_spans(condition=condition))
            as_index = expressions or any(
                keyword(node, part) is not None
                and literal(keyword(node, part)) not in (None, [], ())
                for part in ("condition", "include", "opclasses")
            )
            if as_index:  # Django writes CREATE UNIQUE INDEX for these
                columns.extend(self.segment(e) for e in expressions)
                return CreateIndex(
                    span=span, name=name, table=table, columns=columns, unique=True, spans=spans
                )
            return AddConstraint(
                span=span, table=table, name=name, kind="unique", columns=columns, spans=spans
            )
        kind: ConstraintKind = "exclude" if kind_name == "ExclusionConstraint" else "unknown"
        return AddConstraint(span=span, table=table, name=name, kind=kind, spans=spans)

    def remove_constraint(self, call: ast.Call, span: Span) -> list[Operation]:
        model_node = argument(call, 0, "model_name")
        _, table, model = self.model(model_node)
        if model is not None and not model.managed:
            return []
        name_node = argument(call, 1, "name")
        spans = self.node_spans(table=model_node, name=name_node)
        return [DropConstraint(span=span, table=table, name=string(name_node), spans=spans)]

    def alter_together(self, call: ast.Call, span: Span) -> list[Operation]:
        name_node = argument(call, 0, "name")
        key, table, model = self.model(name_node)
        if model is not None and not model.managed:
            return []
        option = "unique_together" if _last(call) == "AlterUniqueTogether" else "index_together"
        return self.together(span, key, table, option, argument(call, 1, option), name_node)

    def together(
        self,
        span: Span,
        key: tuple[str, str],
        table: str,
        option: str,
        node: ast.expr | None,
        model_node: ast.expr | None,
    ) -> list[Operation]:
        ops: list[Operation] = []
        for group in _together(literal(node)):
            columns = [self.column_name(key, f) for f in group]
            spans = self.node_spans(table=model_node, columns=node)
            if option == "unique_together":
                ops.append(
                    AddConstraint(
                        span=span,
                        table=table,
                        name=None,
                        kind="unique",
                        columns=columns,
                        spans=spans,
                    )
                )
            else:
                ops.append(
                    CreateIndex(span=span, name=None, table=table, columns=columns, spans=spans)
                )
        return ops

    # ------------------------------------------------------------------ code

    def run_python(self, call: ast.Call, span: Span) -> list[Operation]:
        if not self.emit_code:
            return []
        code = argument(call, 0, "code")
        reverse = argument(call, 1, "reverse_code")
        atomic_node = argument(call, 2, "atomic")
        atomic = literal(atomic_node)
        # django.db.migrations.Migration.apply: an atomic migration wraps everything; otherwise
        # RunPython(atomic=True) gets a transaction of its own.
        in_tx = self.ddl_tx or atomic is True or (self.atomic and atomic is not False)
        spans = self.node_spans(code=code, reverse=reverse, atomic=atomic_node)
        spans["keyword"] = self.source.span(call.func)
        ops: list[Operation] = [
            RunCode(
                span=span,
                in_transaction=in_tx,
                origin="migrations.RunPython",
                spans=spans,
                language="python",
                has_reverse=reverse is not None and literal(reverse) is not None,
                reverse_noop=_is_noop(reverse),
            )
        ]
        if not _is_noop(code):
            ops.append(
                DataChange(
                    span=span,
                    in_transaction=in_tx,
                    origin="migrations.RunPython",
                    spans=dict(spans),
                    kind="python",
                )
            )
        for node, step in ((code, Step.UP), (reverse, Step.DOWN)):
            function = self.functions.get(node.id) if isinstance(node, ast.Name) else None
            if function is not None:
                ops.extend(_RowByRow(self.source, function, step, in_tx).changes)
        return ops

    def run_sql(self, call: ast.Call, span: Span) -> list[Operation]:
        self.state_only(argument(call, 2, "state_operations"))
        if not self.emit_code:
            return []
        sql = argument(call, 0, "sql")
        reverse = argument(call, 1, "reverse_sql")
        spans = self.node_spans(sql=sql, reverse=reverse)
        spans["keyword"] = self.source.span(call.func)
        resolved_reverse = self.resolve(reverse)
        ops: list[Operation] = [
            RunCode(
                span=span,
                in_transaction=self.ddl_tx,
                origin="migrations.RunSQL",
                spans=spans,
                language="sql",
                has_reverse=reverse is not None and literal(reverse) is not None,
                reverse_noop=_is_noop(resolved_reverse) or literal(resolved_reverse) in ("", []),
            )
        ]
        for step, node in ((Step.UP, sql), (Step.DOWN, reverse)):
            # Django splits a string into statements and runs them one by one; list items are
            # sent as they are (several statements in one item: an implicit transaction)
            split = not isinstance(self.resolve(node), ast.List | ast.Tuple)
            for item in self.sql_items(node):
                found, problems = self.source.execute_ops(
                    call,
                    item,
                    step=step,
                    in_transaction=self.ddl_tx,
                    transaction="always" if self.ddl_tx else ("never" if split else "multi"),
                    dialect=self.dialect,
                    origin="migrations.RunSQL",
                )
                for op in found:
                    if op.origin != "sql":
                        op.spans.setdefault("keyword", spans["keyword"])
                ops.extend(found)
                self.problems.extend(problems)
        return ops

    def sql_items(self, node: ast.expr | None) -> list[ast.expr]:
        """The SQL texts of a RunSQL argument: a string, or a list of strings/(sql, params)."""
        node = self.resolve(node)
        if node is None or _is_noop(node):
            return []
        if isinstance(node, ast.List | ast.Tuple):
            items: list[ast.expr] = []
            for element in node.elts:
                element = self.resolve(element) or element
                if isinstance(element, ast.List | ast.Tuple):
                    if element.elts:
                        items.append(self.resolve(element.elts[0]) or element.elts[0])
                elif not _is_noop(element) and literal(element) not in ("", None):
                    items.append(element)
            return items
        if literal(node) in ("", None):
            return []
        return [node]

    def separate_database_and_state(self, call: ast.Call, span: Span) -> list[Operation]:
        database = argument(call, 0, "database_operations")
        if isinstance(database, ast.List | ast.Tuple):
            # database operations change the database only, not Django's model state
            saved = {key: model.copy() for key, model in self.state.items()}
            self.read(database.elts)
            self.state = saved
        self.state_only(argument(call, 1, "state_operations"))
        return []


# --------------------------------------------------------------------------- RunPython code

_PER_ROW_METHODS = frozenset({"save", "delete", "execute"})
"""Calls that write one row (or run one statement) whatever their receiver."""
_PER_ROW_QUERYSET_METHODS = frozenset({"update", "create", "get_or_create", "update_or_create"})
"""Queryset/manager calls: only with a manager or queryset receiver (`dict.update` is not)."""


class _RowByRow:
    """The per-row writes of one `RunPython` function: `obj.save()`, `qs.update(...)`,
    `cursor.execute(...)` inside a loop over rows (`for obj in Model.objects.all()`)."""

    def __init__(
        self, source: PythonSource, function: ast.FunctionDef, step: Step, in_tx: bool
    ) -> None:
        self.source = source
        self.step = step
        self.in_tx = in_tx
        self.names: Names = bound_names(function.body)
        self.changes: list[Operation] = []
        self.statements(function.body, None)

    def statements(self, body: list[ast.stmt], loop: Span | None) -> None:
        for stmt in body:
            if isinstance(stmt, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
                continue
            if isinstance(stmt, ast.For | ast.AsyncFor | ast.While):
                self.loop(stmt, loop)
                continue
            for child in ast.iter_child_nodes(stmt):
                if isinstance(child, ast.stmt):
                    self.statements([child], loop)
                elif isinstance(child, ast.ExceptHandler | ast.match_case):
                    self.statements(child.body, loop)
                elif isinstance(child, ast.expr) and loop is not None:
                    self.calls(child, loop)

    def loop(self, stmt: Loop, outer: Span | None) -> None:
        header = loop_header(stmt)
        inner = outer
        if iterates_rows(stmt, self.names):
            inner = Span(self.source.span(stmt).start, self.source.span(header).end)
        if isinstance(stmt, ast.While):
            self.calls(stmt.test, inner)  # the test runs on every turn
        elif outer is not None:
            self.calls(stmt.iter, outer)
        self.statements(stmt.body, inner)
        self.statements(stmt.orelse, outer)

    def calls(self, node: ast.expr, loop: Span | None) -> None:
        if loop is None:
            return
        for call in ast.walk(node):
            if isinstance(call, ast.Call) and _writes_row(call):
                spans = {"loop": loop, "call": self.source.span(call.func)}
                spans["keyword"] = spans["call"]
                self.changes.append(
                    DataChange(
                        span=self.source.span(call),
                        step=self.step,
                        in_transaction=self.in_tx,
                        origin="migrations.RunPython",
                        spans=spans,
                        kind="python",
                        per_row=True,
                    )
                )


def _writes_row(call: ast.Call) -> bool:
    if not isinstance(call.func, ast.Attribute):
        return False
    method = call.func.attr
    if method in _PER_ROW_METHODS:
        return True
    if method not in _PER_ROW_QUERYSET_METHODS:
        return False
    receiver = call.func.value
    return isinstance(receiver, ast.Call) or "objects" in call_name(receiver).split(".")
