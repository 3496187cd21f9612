"""SQLAlchemy column expressions (`sa.Column(...)`, `sa.String(255)`) → model `Column`s.

Alembic migrations describe columns with SQLAlchemy objects; the rules want SQL types and
defaults. Reading them here keeps the Alembic parser about operations only.
"""

from __future__ import annotations

import ast

from migration_lsp.model import Column, Default
from migration_lsp.parse.python import PythonSource, argument, call_name, keyword, literal, string
from migration_lsp.parse.sql import VOLATILE_FUNCTIONS

_TYPES = {
    "integer": "integer",
    "int": "integer",
    "biginteger": "bigint",
    "bigint": "bigint",
    "smallinteger": "smallint",
    "smallint": "smallint",
    "string": "varchar",
    "varchar": "varchar",
    "unicode": "varchar",
    "nvarchar": "nvarchar",
    "char": "char",
    "nchar": "char",
    "text": "text",
    "unicodetext": "text",
    "boolean": "boolean",
    "date": "date",
    "time": "time",
    "interval": "interval",
    "float": "float",
    "real": "real",
    "double": "double precision",
    "double_precision": "double precision",
    "numeric": "numeric",
    "decimal": "numeric",
    "json": "json",
    "jsonb": "jsonb",
    "uuid": "uuid",
    "uuidtype": "uuid",
    "largebinary": "bytea",
    "binary": "bytea",
    "bytea": "bytea",
    "enum": "enum",
    "array": "array",
    "inet": "inet",
    "cidr": "cidr",
    "tsvector": "tsvector",
}


def sql_type(node: ast.expr | None) -> str | None:
    """`sa.String(length=255)` → `varchar(255)`; `sa.DateTime(timezone=True)` → `timestamptz`."""
    if node is None:
        return None
    name = call_name(node).split(".")[-1].lower()
    call = node if isinstance(node, ast.Call) else None
    if name in ("datetime", "timestamp"):
        timezone = literal(keyword(call, "timezone")) if call else None
        return "timestamptz" if timezone is True else "timestamp"
    base = _TYPES.get(name)
    if base is None:
        return name or None
    if call is not None and base in ("varchar", "char", "nvarchar"):
        length = literal(argument(call, 0, "length"))
        if isinstance(length, int):
            return f"{base}({length})"
    if call is not None and base == "numeric":
        precision = literal(argument(call, 0, "precision"))
        scale = literal(argument(call, 1, "scale"))
        if isinstance(precision, int):
            return (
                f"numeric({precision},{scale})"
                if isinstance(scale, int)
                else f"numeric({precision})"
            )
    return base


def server_default(source: PythonSource, node: ast.expr | None) -> Default | None:
    """`server_default="0"`, `sa.text("now()")`, `sa.func.gen_random_uuid()` → `Default`."""
    if node is None or literal(node) is None:
        return None
    value = string(node)
    if value is not None:
        return Default(text=repr(value))
    text_arg = None
    if isinstance(node, ast.Call) and call_name(node).split(".")[-1] == "text" and node.args:
        text_arg = string(node.args[0])
    if text_arg is not None:
        return Default(text=text_arg, volatile_function=_volatile_in_sql(text_arg))
    name = call_name(node)
    if ".func." in f".{name}" or name.startswith("func."):
        function = name.split(".")[-1].lower()
        volatile = function if function in VOLATILE_FUNCTIONS else None
        return Default(text=f"{function}()", volatile_function=volatile)
    return Default(text=ast.get_source_segment(source.text, node) or "")


def _volatile_in_sql(sql: str) -> str | None:
    lowered = sql.lower()
    for function in VOLATILE_FUNCTIONS:
        at = lowered.find(function)
        if at != -1 and lowered[at + len(function) :].lstrip().startswith("("):
            return function
    return None


def column(source: PythonSource, call: ast.Call) -> Column | None:
    """A `sa.Column(name, type, *args, **kw)` call as a model `Column`."""
    if call_name(call).split(".")[-1] != "Column":
        return None
    args = [a for a in call.args if not isinstance(a, ast.Starred)]
    name = string(args[0]) if args else string(keyword(call, "name"))
    rest = args[1:] if args and name is not None else args
    type_node = keyword(call, "type_")
    references = None
    arg_names = [call_name(arg).split(".")[-1] for arg in rest]  # each read once, not thrice
    for arg, arg_name in zip(rest, arg_names, strict=True):
        if arg_name == "ForeignKey" and isinstance(arg, ast.Call) and arg.args:
            target = string(arg.args[0]) or ""
            references = target.rsplit(".", 1)[0] if "." in target else target
        elif (
            arg_name not in ("Identity", "Computed", "Sequence", "CheckConstraint")
            and type_node is None
        ):
            type_node = arg
    primary_key = literal(keyword(call, "primary_key")) is True
    nullable_value = literal(keyword(call, "nullable"))
    nullable = nullable_value if isinstance(nullable_value, bool) else not primary_key
    computed = next(
        (
            a
            for a, a_name in zip(rest, arg_names, strict=True)
            if a_name == "Computed" and isinstance(a, ast.Call)
        ),
        None,
    )
    identity = "Identity" in arg_names
    result = Column(
        name=name or "",
        type=sql_type(type_node),
        nullable=nullable,
        default=server_default(source, keyword(call, "server_default")),
        primary_key=primary_key,
        unique=literal(keyword(call, "unique")) is True,
        identity=identity,
        generated_stored=computed is not None
        and literal(keyword(computed, "persisted")) is not False,
        references=references,
        index=literal(keyword(call, "index")) is True,
        span=source.span(args[0]) if args and name is not None else source.span(call),
    )
    return result
