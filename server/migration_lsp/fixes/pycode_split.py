"""The new migration files of the nullable → backfill → NOT NULL split (add-server-default's
second alternative), written the way each tool writes its own files:

- Alembic: `<rev>_<slug>.py` next to the fixed revision, the `alembic revision` header and
  template (annotated or not, like the fixed file), revision ids derived from the fixed
  revision and the column (stable across runs, distinct per column), `down_revision` chained.
  The backfill loops over batches in an `autocommit_block()` (each batch commits); the NOT NULL
  revision adds a CHECK NOT VALID, validates it in an autocommit block (outside the ADD's
  transaction), sets NOT NULL and drops the CHECK.
- Django: `<next>_<model>_<field>_backfill.py` (a `RunPython` over batches, `atomic = False`)
  and `<next>_<model>_<field>_not_null.py` (CHECK NOT VALID, VALIDATE, `AlterField`, DROP,
  `atomic = False`), `dependencies` chained.
- SQL runners: the runner's naming (Flyway `V<n>__`, golang-migrate `.up.sql`/`.down.sql`,
  dbmate and goose sections, a Prisma folder, numbered files), numbered after the highest in the
  folder. Where the runner wraps a file in a transaction, the CHECK is added in one file and
  validated in the next.

The new migrations go after the last migration that descends from the fixed one in its folder
(an earlier split's, typically), so the history keeps a single head / leaf. The backfill writes
a placeholder value with a TODO (or stops with an error when no placeholder fits the type): the
value is the author's choice.
"""

from __future__ import annotations

import ast
import datetime as dt
import hashlib
import re
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from migration_lsp.findings import NewFile

from .pycode_common import py_str, quote_identifier
from .text import wrap_comment

BATCH_SIZE = 1000
MAX_LINE = 99

SQL_VALUES = {
    "string": "''",
    "number": "0",
    "boolean": "false",
    "timestamp": "now()",
    "date": "CURRENT_DATE",
    "time": "CURRENT_TIME",
    "json": "'{}'",
    "array": "'{}'",
}
"""A placeholder value per kind of column type, in SQL."""


def now() -> dt.datetime:
    """The clock the Alembic `Create Date` header reads (tests replace it)."""
    return dt.datetime.now()


@dataclass(slots=True)
class Target:
    """The column the split is about."""

    table: str
    """As SQL names it (`schema.table` when the migration gives a schema)."""
    column: str
    kind: str | None
    """What placeholder fits its type (`SQL_VALUES` keys), None when none does."""
    dialect: str
    newline: str = "\n"

    @property
    def sql_table(self) -> str:
        return quote_identifier(self.table, self.dialect)

    @property
    def sql_column(self) -> str:
        return quote_identifier(self.column, self.dialect)

    @property
    def label(self) -> str:
        return f"{self.table}.{self.column}"

    @property
    def check_name(self) -> str:
        name = f"{self.table.rpartition('.')[2]}_{self.column}_not_null"
        if len(name.encode()) > 63:  # PostgreSQL would truncate it
            digest = hashlib.sha1(name.encode()).hexdigest()[:8]
            name = f"{name[:45].rstrip('_')}_{digest}_not_null"
        return name

    @property
    def value(self) -> str:
        return SQL_VALUES[self.kind] if self.kind is not None else "NULL"

    def slug(self, words: str) -> str:
        return re.sub(r"\W+", "_", words.format(t=self.table, c=self.column)).strip("_").lower()

    # ------------------------------------------------------------------ SQL

    def backfill_sql(self, limit: str, separator: str = " ") -> str:
        """One batch of the backfill, for the dialect (`separator` goes before WHERE)."""
        t, c, v = self.sql_table, self.sql_column, self.value
        if self.dialect == "mysql":
            return f"UPDATE {t} SET {c} = {v}{separator}WHERE {c} IS NULL LIMIT {limit}"
        if self.dialect == "sqlite":
            return (
                f"UPDATE {t} SET {c} = {v}{separator}"
                f"WHERE rowid IN (SELECT rowid FROM {t} WHERE {c} IS NULL LIMIT {limit})"
            )
        return (
            f"UPDATE {t} SET {c} = {v}{separator}"
            f"WHERE ctid = ANY(ARRAY(SELECT ctid FROM {t} WHERE {c} IS NULL LIMIT {limit}))"
        )

    def add_check(self) -> str:
        return (
            f"ALTER TABLE {self.sql_table} ADD CONSTRAINT {quote_identifier(self.check_name)} "
            f"CHECK ({self.sql_column} IS NOT NULL) NOT VALID"
        )

    def validate_check(self) -> str:
        return (
            f"ALTER TABLE {self.sql_table} VALIDATE CONSTRAINT {quote_identifier(self.check_name)}"
        )

    def drop_check(self, if_exists: bool = False) -> str:
        exists = " IF EXISTS" if if_exists else ""
        return (
            f"ALTER TABLE {self.sql_table} DROP CONSTRAINT{exists} "
            f"{quote_identifier(self.check_name)}"
        )

    def set_not_null(self, nullable: bool = False) -> str:
        change = "DROP NOT NULL" if nullable else "SET NOT NULL"
        return f"ALTER TABLE {self.sql_table} ALTER COLUMN {self.sql_column} {change}"

    def todo(self, shown: str | None = None) -> str:
        """The TODO about the placeholder value (`shown`: how the file writes it)."""
        if self.kind is None:
            return (
                f"TODO: no placeholder fits this column: replace {shown or 'NULL'} with the value "
                f"existing rows of {self.label} get."
            )
        return (
            f"TODO: {shown or self.value} is a placeholder: write the value existing rows of "
            f"{self.label} get."
        )


_CLAUSES = frozenset({"WHERE", "CHECK", "SET", "FROM"})


def _split_sql(sql: str, width: int) -> list[str]:
    """`sql` cut at spaces into pieces of at most `width` characters, preferably before a
    clause (WHERE, CHECK, ...); each piece keeps its trailing space, so the pieces concatenate
    back to `sql`."""
    pieces: list[str] = []
    words: list[str] = []
    for word in sql.split(" "):
        if words and len(" ".join([*words, word])) + 1 > width:
            cut = max((i for i, w in enumerate(words) if w in _CLAUSES and i > 0), default=0)
            if len(" ".join(words[:cut])) < width // 2:
                cut = len(words)
            pieces.append(" ".join(words[:cut]) + " ")
            words = words[cut:]
        words.append(word)
    pieces.append(" ".join(words))
    return pieces


def py_sql(sql: str, indent: str, quote: str, *, opening: int = 0) -> str:
    """A Python literal of `sql` at `indent`: one line when it fits after `opening` characters,
    else implicitly concatenated lines."""
    flat = py_str(sql, quote)
    if len(indent) + opening + len(flat) <= MAX_LINE:
        return flat
    pieces = _split_sql(sql, MAX_LINE - len(indent) - 2)
    return "\n".join((indent if i else "") + py_str(piece, quote) for i, piece in enumerate(pieces))


def _call(indent: str, function: str, args: list[str], unit: str = "    ") -> list[str]:
    """`function(args)` on one line, or one argument per line when too long."""
    flat = f"{indent}{function}({', '.join(args)})"
    if len(flat) <= MAX_LINE or len(args) < 2:
        return [flat]
    return [f"{indent}{function}(", *(f"{indent}{unit}{a}," for a in args), f"{indent})"]


def _lines(lines: list[str], newline: str) -> str:
    return "\n".join(lines).replace("\n", newline)


# --------------------------------------------------------------------------- descendants


def _latest_descendant(children: dict[str, list[str]], start: str) -> str | None:
    """The last (in name order) migration without children among `start`'s descendants; None
    when `start` has no children."""
    if not children.get(start):
        return None
    seen: set[str] = set()
    todo = [start]
    leaves: list[str] = []
    while todo:
        current = todo.pop()
        if current in seen:
            continue
        seen.add(current)
        below = children.get(current, [])
        if not below and current != start:
            leaves.append(current)
        todo.extend(below)
    return max(leaves) if leaves else None


def _python_files(folder: Path) -> list[tuple[Path, ast.Module]]:
    found: list[tuple[Path, ast.Module]] = []
    try:
        paths = sorted(folder.glob("*.py")) if folder.is_dir() else []
    except OSError:
        return found
    for path in paths:
        try:
            found.append((path, ast.parse(path.read_text(encoding="utf-8"))))
        except (OSError, SyntaxError, ValueError, UnicodeDecodeError):
            continue
    return found


def alembic_parent(path: str, revision: str) -> str | None:
    """The head that descends from `revision` in the revision's folder (the new revisions go
    after it, so the history keeps one head), None when `revision` is the head there."""
    children: dict[str, list[str]] = {}
    for _, tree in _python_files(Path(path).parent):
        values: dict[str, object] = {}
        for stmt in tree.body:
            if isinstance(stmt, ast.Assign) and isinstance(stmt.targets[0], ast.Name):
                name, value = stmt.targets[0].id, stmt.value
            elif isinstance(stmt, ast.AnnAssign) and isinstance(stmt.target, ast.Name):
                if stmt.value is None:
                    continue
                name, value = stmt.target.id, stmt.value
            else:
                continue
            try:
                values[name] = ast.literal_eval(value)
            except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
                continue
        own, down = values.get("revision"), values.get("down_revision")
        if not isinstance(own, str):
            continue
        downs = [down] if isinstance(down, str) else list(down) if isinstance(down, tuple) else []
        for parent in downs:
            if isinstance(parent, str):
                children.setdefault(parent, []).append(own)
    return _latest_descendant(children, revision)


def django_parent(path: str, app_label: str) -> str | None:
    """The leaf migration of the app that descends from the one at `path` (the new migrations
    depend on it, so the app keeps one leaf), None when that one is the leaf."""
    children: dict[str, list[str]] = {}
    for file, tree in _python_files(Path(path).parent):
        for node in ast.walk(tree):
            if not (
                isinstance(node, ast.Assign)
                and any(isinstance(t, ast.Name) and t.id == "dependencies" for t in node.targets)
            ):
                continue
            for element in getattr(node.value, "elts", []):
                try:
                    value = ast.literal_eval(element)
                except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
                    continue
                if isinstance(value, tuple) and len(value) == 2 and value[0] == app_label:
                    children.setdefault(str(value[1]), []).append(file.stem)
    return _latest_descendant(children, Path(path).stem)


# --------------------------------------------------------------------------- Alembic


@dataclass(slots=True)
class AlembicSource:
    """What the new revisions copy from the fixed one."""

    revision: str
    quote: str
    annotated: bool
    """The `alembic revision` template of Alembic 1.13+ (`revision: str = ...`)."""
    returns: bool
    """`def upgrade() -> None:`."""
    sa: str
    """How the fixed file names SQLAlchemy."""
    existing_type: str | None
    """`existing_type=` for `alter_column` (the column's type as written)."""
    schema: str | None
    parent: str | None = None
    """The revision the backfill revises, when not the fixed one (a head that descends from
    it, e.g. the NOT NULL revision of an earlier split)."""


def revision_id(revision: str, step: str) -> str:
    return hashlib.sha1(f"{revision}:{step}".encode()).hexdigest()[:12]


def alembic_slug(message: str) -> str:
    """The file name slug `alembic revision -m message` writes (40 characters at most)."""
    slug = "_".join(re.findall(r"\w+", message)).lower()
    if len(slug) > 40:
        slug = slug[:40].rsplit("_", 1)[0] + "_"
    return slug


def _alembic_file(
    source: AlembicSource,
    target: Target,
    message: str,
    revision: str,
    down: str,
    upgrade: list[str],
    downgrade: list[str],
    header: list[str],
) -> str:
    q = source.quote
    returns = " -> None" if source.returns else ""
    lines = [
        f'"""{message}',
        "",
        f"Revision ID: {revision}",
        f"Revises: {down}",
        f"Create Date: {now()}",
        "",
        '"""',
    ]
    if source.annotated:
        lines += ["from typing import Sequence, Union", ""]
    lines += ["from alembic import op", f"import sqlalchemy as {source.sa}"]
    if source.sa == "sqlalchemy":
        lines[-1] = "import sqlalchemy"
    lines += ["", "", "# revision identifiers, used by Alembic."]
    if source.annotated:
        lines += [
            f"revision: str = {q}{revision}{q}",
            f"down_revision: Union[str, None] = {q}{down}{q}",
            "branch_labels: Union[str, Sequence[str], None] = None",
            "depends_on: Union[str, Sequence[str], None] = None",
        ]
    else:
        lines += [
            f"revision = {q}{revision}{q}",
            f"down_revision = {q}{down}{q}",
            "branch_labels = None",
            "depends_on = None",
        ]
    if header:
        lines += ["", *header]
    lines += ["", "", f"def upgrade(){returns}:", *upgrade, "", "", f"def downgrade(){returns}:"]
    lines += [*downgrade, ""]
    return _lines(lines, target.newline)


def alembic_files(source: AlembicSource, target: Target) -> tuple[list[NewFile], list[str]] | None:
    """The backfill and NOT NULL revisions; the list of their file names second."""
    if target.dialect not in ("postgresql", "mysql", "sqlite"):
        return None
    q, sa = source.quote, source.sa
    backfill_rev = revision_id(source.revision, f"{target.label}:backfill")
    not_null_rev = revision_id(source.revision, f"{target.label}:not-null")
    sql = target.backfill_sql(":batch_size")
    four, eight, twelve, sixteen = (" " * n for n in (4, 8, 12, 16))
    upgrade = [f"{four}# {line}" for line in wrap_comment(target.todo(), 88)]
    if target.kind is None:
        upgrade.append(
            f"{four}raise NotImplementedError({py_str('choose the backfill value first', q)})"
        )
    upgrade += [
        f"{four}# Each batch commits on its own (autocommit block): no long-held row locks, and",
        f"{four}# the batches already done stay done if one fails.",
        f"{four}with op.get_context().autocommit_block():",
        f"{eight}while True:",
        f"{twelve}result = op.get_bind().execute(",
        f"{sixteen}{sa}.text(",
        f"{sixteen}    " + py_sql(sql, sixteen + "    ", '"'),
        f"{sixteen}),",
        f"{sixteen}{{{py_str('batch_size', q)}: BATCH_SIZE}},",
        f"{twelve})",
        f"{twelve}if result.rowcount == 0:",
        f"{sixteen}break",
    ]
    backfill_message = f"backfill {target.label}"
    backfill = _alembic_file(
        source,
        target,
        backfill_message,
        backfill_rev,
        source.parent or source.revision,
        upgrade,
        [f"{four}pass  # the backfilled values stay"],
        [f"BATCH_SIZE = {BATCH_SIZE}"],
    )
    table = py_str(target.table.rpartition(".")[2], q)
    column = py_str(target.column, q)
    extra = [f"existing_type={source.existing_type}"] if source.existing_type else []
    schema_name = source.schema or target.table.rpartition(".")[0]
    schema = [f"schema={py_str(schema_name, q)}"] if schema_name else []
    if target.dialect == "postgresql":
        check = py_str(target.check_name, q)
        upgrade = [
            *_execute(four, target.add_check()),
            f"{four}# VALIDATE scans the table without blocking writes, outside the transaction of",
            f"{four}# the ADD (whose lock it would otherwise hold for the whole scan).",
            f"{four}with op.get_context().autocommit_block():",
            *_execute(eight, target.validate_check()),
            *_call(four, "op.alter_column", [table, column, *extra, "nullable=False", *schema]),
            *_call(four, "op.drop_constraint", [check, table, f"type_={q}check{q}", *schema]),
        ]
        downgrade = _call(
            four, "op.alter_column", [table, column, *extra, "nullable=True", *schema]
        )
    elif target.dialect == "mysql":
        upgrade = _call(four, "op.alter_column", [table, column, *extra, "nullable=False", *schema])
        downgrade = _call(
            four, "op.alter_column", [table, column, *extra, "nullable=True", *schema]
        )
    else:
        batch = f"{four}with op.batch_alter_table({', '.join([table, *schema])}) as batch_op:"
        upgrade = [
            batch,
            *_call(eight, "batch_op.alter_column", [column, *extra, "nullable=False"]),
        ]
        downgrade = [
            batch,
            *_call(eight, "batch_op.alter_column", [column, *extra, "nullable=True"]),
        ]
    not_null_message = f"set {target.label} not null"
    not_null = _alembic_file(
        source, target, not_null_message, not_null_rev, backfill_rev, upgrade, downgrade, []
    )
    names = [
        f"{backfill_rev}_{alembic_slug(backfill_message)}.py",
        f"{not_null_rev}_{alembic_slug(not_null_message)}.py",
    ]
    return [NewFile(names[0], backfill), NewFile(names[1], not_null)], names


def _execute(indent: str, sql: str) -> list[str]:
    """`op.execute("...")` on one line, or with the SQL on lines of its own."""
    flat = indent + "op.execute(" + py_str(sql, '"') + ")"
    if len(flat) <= MAX_LINE:
        return [flat]
    inner = indent + "    "
    return [f"{indent}op.execute(", inner + py_sql(sql, inner, '"'), f"{indent})"]


# --------------------------------------------------------------------------- Django


@dataclass(slots=True)
class DjangoSource:
    app_label: str
    name: str
    """The fixed migration's name (`0002_order_note`)."""
    model_name: str
    field_name: str
    attname: str
    """The attribute `update()` sets (`author_id` for a ForeignKey)."""
    field_source: str
    """The field as the AddField writes it, indented for its place in an AlterField."""
    imports: list[str]
    quote: str
    python_value: str | None
    """The placeholder value in Python, None when none fits."""
    needs_now: bool
    parent: str | None = None
    """The migration the backfill depends on, when not the fixed one (a leaf that descends
    from it, e.g. the NOT NULL migration of an earlier split)."""


def _next_number(folder: Path, current: str, width: int) -> int:
    """The number after both the fixed migration's and the highest in its folder."""
    highest = int(current)
    try:
        names = [p.name for p in folder.iterdir()] if folder.is_dir() else []
    except OSError:
        names = []
    for name in names:
        found = re.match(rf"^(\d{{{width}}})_", name)
        if found:
            highest = max(highest, int(found.group(1)))
    return highest + 1


def django_files(
    source: DjangoSource, target: Target, path: str
) -> tuple[list[NewFile], list[str]] | None:
    found = re.match(r"^(\d+)_", source.name)
    if found is None:
        return None
    width = len(found.group(1))
    number = _next_number(Path(path).parent, found.group(1), width)
    q = source.quote
    model = re.sub(r"\W", "_", source.model_name.lower())
    field = re.sub(r"\W", "_", source.field_name.lower())
    backfill_name = f"{number:0{width}d}_{model}_{field}_backfill"
    not_null_name = f"{number + 1:0{width}d}_{model}_{field}_not_null"
    four, eight, twelve = (" " * n for n in (4, 8, 12))
    function = f"backfill_{field}"
    variable = source.model_name[:1].upper() + source.model_name[1:]
    header = ["from django.db import migrations"]
    if source.needs_now:
        header.append("from django.db.models.functions import Now")
    value = source.python_value if source.python_value is not None else "None"
    todo = wrap_comment(target.todo(value), 88)
    body = [
        *header,
        "",
        f"BATCH_SIZE = {BATCH_SIZE}",
        *(f"# {line}" for line in todo),
        f"VALUE = {value}",
        "",
        "",
        f"def {function}(apps, schema_editor):",
    ]
    if source.python_value is None:
        body.append(f"{four}raise NotImplementedError({py_str('choose VALUE first', q)})")
    body += [
        f"{four}{variable} = apps.get_model({py_str(source.app_label, q)}, "
        f"{py_str(source.model_name, q)})",
        f"{four}# one UPDATE per batch; atomic = False commits each on its own",
        f"{four}while True:",
        f"{eight}batch = list(",
        f"{twelve}{variable}.objects.filter({source.field_name}__isnull=True)"
        f".values_list({py_str('pk', q)}, flat=True)[:BATCH_SIZE]",
        f"{eight})",
        f"{eight}if not batch:",
        f"{twelve}break",
        f"{eight}{variable}.objects.filter(pk__in=batch).update({source.attname}=VALUE)",
        "",
        "",
        "class Migration(migrations.Migration):",
        f"{four}atomic = False",
        "",
        f"{four}dependencies = [",
        f"{eight}({py_str(source.app_label, q)}, {py_str(source.parent or source.name, q)}),",
        f"{four}]",
        "",
        f"{four}operations = [",
        f"{eight}migrations.RunPython({function}, reverse_code=migrations.RunPython.noop),",
        f"{four}]",
        "",
    ]
    backfill = _lines(body, target.newline)
    operations: list[str] = []
    if target.dialect == "postgresql":
        operations += [
            f"{eight}migrations.RunSQL(",
            f"{twelve}" + py_sql(target.add_check(), twelve, q) + ",",
            f"{twelve}reverse_sql=" + py_sql(target.drop_check(True), twelve, q, opening=12) + ",",
            f"{eight}),",
            f"{eight}migrations.RunSQL(",
            f"{twelve}" + py_sql(target.validate_check(), twelve, q) + ",",
            f"{twelve}reverse_sql=migrations.RunSQL.noop,",
            f"{eight}),",
        ]
    operations += [
        f"{eight}migrations.AlterField(",
        f"{twelve}model_name={py_str(source.model_name, q)},",
        f"{twelve}name={py_str(source.field_name, q)},",
        f"{twelve}field={source.field_source},",
        f"{eight}),",
    ]
    if target.dialect == "postgresql":
        operations += [
            f"{eight}migrations.RunSQL(",
            f"{twelve}" + py_sql(target.drop_check(), twelve, q) + ",",
            f"{twelve}reverse_sql=migrations.RunSQL.noop,",
            f"{eight}),",
        ]
    lines = [
        *source.imports,
        "",
        "",
        "class Migration(migrations.Migration):",
    ]
    if target.dialect == "postgresql":
        lines += [
            f"{four}# VALIDATE must not run in the transaction of the ADD: each operation commits",
            f"{four}atomic = False",
            "",
        ]
    lines += [
        f"{four}dependencies = [",
        f"{eight}({py_str(source.app_label, q)}, {py_str(backfill_name, q)}),",
        f"{four}]",
        "",
        f"{four}operations = [",
        *operations,
        f"{four}]",
        "",
    ]
    not_null = _lines(lines, target.newline)
    names = [f"{backfill_name}.py", f"{not_null_name}.py"]
    return [NewFile(names[0], backfill), NewFile(names[1], not_null)], names


# --------------------------------------------------------------------------- SQL runners

_NUMBERED = re.compile(r"^(\d+)_(.+)$")
_FLYWAY = re.compile(r"^[VvUu](\d+)(?:[._]\d+)*__(.+)\.sql$")


def _bump(version: str, by: int) -> str:
    """`version` plus `by`: seconds for a `YYYYMMDDHHMMSS` timestamp, else the number, zero-padded
    to the same width."""
    if len(version) == 14:
        try:
            stamp = dt.datetime.strptime(version, "%Y%m%d%H%M%S")
        except ValueError:
            pass
        else:
            return (stamp + dt.timedelta(seconds=by)).strftime("%Y%m%d%H%M%S")
    return f"{int(version) + by:0{len(version)}d}"


def _siblings(folder: Path) -> list[str]:
    try:
        return [p.name for p in folder.iterdir()] if folder.is_dir() else []
    except OSError:
        return []


def _latest(version: str, names: list[str]) -> str:
    """The highest numbered prefix among `names` (same width as `version`) and `version`."""
    best = version
    for name in names:
        found = _NUMBERED.match(name)
        if found and len(found.group(1)) == len(version) and int(found.group(1)) > int(best):
            best = found.group(1)
    return best


def sql_files(
    tool: str, path: str, target: Target, transactional: bool
) -> tuple[list[NewFile], list[str]] | None:
    """The backfill and NOT NULL migrations of a SQL runner (PostgreSQL): named, sectioned and
    split the runner's way."""
    if target.dialect != "postgresql":
        return None
    file = PurePosixPath(path.replace("\\", "/"))
    nl = target.newline
    up_marker, down_marker = {
        "dbmate": ("-- migrate:up", "-- migrate:down"),
        "goose": ("-- +goose Up", "-- +goose Down"),
    }.get(tool, ("", ""))
    backfill = [
        f"-- Backfill {target.label} (add it nullable, backfill, then set NOT NULL).",
        *(f"-- {line}" for line in wrap_comment(target.todo(), 92)),
        f"-- This updates one batch of {BATCH_SIZE} rows: run it again until it updates no rows",
        "-- (a loop in a deploy script), so that no transaction locks many rows for long.",
        target.backfill_sql(str(BATCH_SIZE), "\n") + ";",
    ]
    steps: list[tuple[str, list[str], list[str]]] = [
        ("backfill_{t}_{c}", backfill, ["-- nothing to undo: the backfilled values stay"])
    ]
    intro = f"-- Set {target.label} NOT NULL without a long exclusive lock."
    if transactional or tool in ("dbmate", "goose"):
        # the runner wraps each file in a transaction: VALIDATE goes into the next file
        steps.append(
            (
                "{t}_{c}_not_null_check",
                [intro, target.add_check() + ";"],
                [target.drop_check(True) + ";"],
            )
        )
        steps.append(
            (
                "{t}_{c}_set_not_null",
                [
                    "-- VALIDATE checks the rows without blocking writes; SET NOT NULL then uses",
                    "-- the valid CHECK instead of scanning the table under an exclusive lock.",
                    target.validate_check() + ";",
                    target.set_not_null() + ";",
                    target.drop_check() + ";",
                ],
                [target.set_not_null(nullable=True) + ";"],
            )
        )
    else:
        steps.append(
            (
                "{t}_{c}_not_null",
                [
                    intro,
                    target.add_check() + ";",
                    target.validate_check() + ";",
                    target.set_not_null() + ";",
                    target.drop_check() + ";",
                ],
                [target.set_not_null(nullable=True) + ";"],
            )
        )
    files: list[NewFile] = []
    names: list[str] = []
    if tool == "flyway":
        found = _FLYWAY.match(file.name)
        if found is None:
            return None
        major = int(found.group(1))
        for name in _siblings(Path(path).parent):
            other = _FLYWAY.match(name)
            if other:
                major = max(major, int(other.group(1)))
        for offset, (slug, up, _) in enumerate(steps, start=1):
            name = f"V{major + offset}__{target.slug(slug)}.sql"
            files.append(NewFile(name, _lines([*up, ""], nl)))
            names.append(name)
        return files, names
    if tool == "prisma":
        found = _NUMBERED.match(file.parent.name)
        if found is None or file.name != "migration.sql":
            return None
        base = _latest(found.group(1), _siblings(Path(path).parent.parent))
        for offset, (slug, up, _) in enumerate(steps, start=1):
            name = f"{_bump(base, offset)}_{target.slug(slug)}"
            files.append(NewFile(f"../{name}/migration.sql", _lines([*up, ""], nl)))
            names.append(f"{name}/migration.sql")
        return files, names
    found = _NUMBERED.match(file.name)
    if found is None:
        return None
    base = _latest(found.group(1), _siblings(Path(path).parent))
    paired = tool == "golang-migrate" or (tool == "sql" and file.name.endswith(".up.sql"))
    for offset, (slug, up, down) in enumerate(steps, start=1):
        stem = f"{_bump(base, offset)}_{target.slug(slug)}"
        if paired:
            files.append(NewFile(f"{stem}.up.sql", _lines([*up, ""], nl)))
            files.append(NewFile(f"{stem}.down.sql", _lines([*down, ""], nl)))
            names.append(f"{stem}.up.sql")
        elif up_marker:
            text = [up_marker, *up, "", down_marker, *down, ""]
            files.append(NewFile(f"{stem}.sql", _lines(text, nl)))
            names.append(f"{stem}.sql")
        else:
            files.append(NewFile(f"{stem}.sql", _lines([*up, ""], nl)))
            names.append(f"{stem}.sql")
    return files, names
