"""What Rails writes to the database for a migration's symbols: column types on PostgreSQL (and
the other adapters where they differ), table names of references, default constraint names.

The rules compare SQL types (`varchar`, `timestamp(6)`, `bigint`), so `t.string :email` must
become the type PostgreSQL gets. Names Rails derives itself (`user_id`, `fk_rails_<hash>`) are
computed the way Active Record computes them, so that `validate_foreign_key :orders, :users`
pairs with the `add_foreign_key :orders, :users` it validates.
"""

from __future__ import annotations

import hashlib
from functools import lru_cache

from migration_lsp.parse.rails_syntax import UNKNOWN, Value

_PG_TYPES: dict[str, str] = {
    "primary_key": "bigserial",
    "string": "varchar",
    "text": "text",
    "integer": "integer",
    "bigint": "bigint",
    "float": "double precision",
    "decimal": "decimal",
    "numeric": "numeric",
    "datetime": "timestamp",
    "timestamp": "timestamp",
    "timestamptz": "timestamptz",
    "time": "time",
    "date": "date",
    "binary": "bytea",
    "blob": "bytea",
    "boolean": "boolean",
    "json": "json",
    "jsonb": "jsonb",
    "uuid": "uuid",
    "inet": "inet",
    "cidr": "cidr",
    "macaddr": "macaddr",
    "hstore": "hstore",
    "citext": "citext",
    "ltree": "ltree",
    "money": "money",
    "point": "point",
    "line": "line",
    "lseg": "lseg",
    "box": "box",
    "path": "path",
    "polygon": "polygon",
    "circle": "circle",
    "interval": "interval",
    "tsvector": "tsvector",
    "xml": "xml",
    "bit": "bit",
    "bit_varying": "bit varying",
    "daterange": "daterange",
    "numrange": "numrange",
    "tsrange": "tsrange",
    "tstzrange": "tstzrange",
    "int4range": "int4range",
    "int8range": "int8range",
    "oid": "oid",
    "serial": "serial",
    "bigserial": "bigserial",
}
_MYSQL_TYPES: dict[str, str] = {
    "primary_key": "bigint",
    "float": "float",
    "datetime": "datetime",
    "timestamp": "timestamp",
    "binary": "blob",
    "blob": "blob",
    "boolean": "tinyint(1)",
    "uuid": "varchar(36)",
}
_SQLITE_TYPES: dict[str, str] = {
    "primary_key": "integer",
    "string": "varchar",
    "datetime": "datetime",
    "binary": "blob",
    "json": "json",
}
_PRECISION_TYPES = frozenset({"datetime", "timestamp", "timestamptz", "time"})
COLUMN_TYPES = frozenset(_PG_TYPES) | {"virtual", "enum", "column"}
"""The `t.<type>` methods of a table definition (`column` takes the type as an argument)."""


def sql_type(
    rails_type: str, options: dict[str, Value], dialect: str | None = "postgresql"
) -> str | None:
    """The SQL type Rails creates for `rails_type` with these options (`limit:`,
    `precision:`, `scale:`, `array:`), lower-case; None when it cannot be told."""
    if rails_type == "enum":
        enum_type = options.get("enum_type")
        return enum_type.lower() if isinstance(enum_type, str) else None
    if rails_type == "virtual":
        stored = options.get("type")
        return sql_type(stored, options, dialect) if isinstance(stored, str) else None
    base = _base(rails_type, dialect)
    limit = options.get("limit")
    precision = options.get("precision")
    scale = options.get("scale")
    if rails_type == "integer" and isinstance(limit, int):
        base = {1: "smallint", 2: "smallint", 3: "integer", 4: "integer"}.get(limit, "bigint")
    elif rails_type == "string" and isinstance(limit, int):
        base = f"{base}({limit})"
    elif rails_type in ("decimal", "numeric") and isinstance(precision, int):
        base += f"({precision},{scale})" if isinstance(scale, int) else f"({precision})"
    elif rails_type in _PRECISION_TYPES and (dialect or "postgresql") == "postgresql":
        if isinstance(precision, int):
            base += f"({precision})"
        elif (precision is UNKNOWN or "precision" not in options) and rails_type != "time":
            base += "(6)"  # Rails 7 default precision of datetime columns
    if options.get("array") is True:
        base += "[]"
    return base


def _base(rails_type: str, dialect: str | None) -> str:
    if dialect == "mysql":
        return _MYSQL_TYPES.get(rails_type, _PG_TYPES.get(rails_type, rails_type))
    if dialect == "sqlite":
        return _SQLITE_TYPES.get(rails_type, _PG_TYPES.get(rails_type, rails_type))
    return _PG_TYPES.get(rails_type, rails_type.lower())


# --------------------------------------------------------------------------- inflection

_IRREGULAR = {"person": "people", "man": "men", "woman": "women", "child": "children"}
_SINGULAR = {plural: single for single, plural in _IRREGULAR.items()}


def pluralize(word: str) -> str:
    """Active Record's table name for a model or reference (`user` → `users`), for the
    regular English plurals Rails names tables with."""
    head, _, last = word.rpartition("_")
    joined = f"{head}_" if head else ""
    if last in _IRREGULAR:
        return joined + _IRREGULAR[last]
    if last.endswith("y") and len(last) > 1 and last[-2] not in "aeiou":
        return joined + last[:-1] + "ies"
    if last.endswith(("s", "x", "z", "ch", "sh")):
        return joined + last + "es"
    return joined + last + "s"


def singularize(word: str) -> str:
    """The inverse of `pluralize` (`users` → `user`), for foreign key column names."""
    head, _, last = word.rpartition("_")
    joined = f"{head}_" if head else ""
    if last in _SINGULAR:
        return joined + _SINGULAR[last]
    if last.endswith("ies") and len(last) > 3:
        return joined + last[:-3] + "y"
    if last.endswith(("ses", "xes", "zes", "ches", "shes")):
        return joined + last[:-2]
    if last.endswith("s") and not last.endswith("ss"):
        return joined + last[:-1]
    return joined + last


def underscore(constant: str) -> str:
    """`UserProfile` → `user_profile` (`Admin::User` → `admin_user`)."""
    out: list[str] = []
    for part in constant.split("::"):
        chars: list[str] = []
        for index, char in enumerate(part):
            if (
                char.isupper()
                and index
                and (part[index - 1].islower() or part[index - 1].isdigit())
            ):
                chars.append("_")
            chars.append(char.lower())
        out.append("".join(chars))
    return "_".join(out)


def table_of_model(constant: str) -> str:
    """The table Active Record maps a model class to by convention."""
    return pluralize(underscore(constant.rsplit("::", 1)[-1]))


# --------------------------------------------------------------------------- names


@lru_cache(maxsize=4096)
def _hashed(identifier: str) -> str:
    """(Cached: a migration names the same key in `up` and `down`, and so do its neighbours.)"""
    return hashlib.sha256(identifier.encode("utf-8")).hexdigest()[:10]


def foreign_key_name(table: str, columns: list[str]) -> str:
    """`fk_rails_<hash>`: the name Rails gives a foreign key without `name:`."""
    joined = "_and_".join(columns)
    return f"fk_rails_{_hashed(f'{table}_{joined}_fk')}"


def check_constraint_name(table: str, expression: str) -> str:
    """`chk_rails_<hash>`: the name Rails gives a check constraint without `name:`."""
    return f"chk_rails_{_hashed(f'{table}_{expression}_chk')}"


def index_name(table: str, columns: list[str]) -> str:
    """`index_<table>_on_<a>_and_<b>`: the name Rails gives an index without `name:`."""
    return f"index_{table}_on_{'_and_'.join(columns)}"
