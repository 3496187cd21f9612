"""The abstract history every generated project is written from: a schema model that hands out
operations (add, index, foreign key, alter type, rename, create, drop, backfill) on tables and
columns that earlier migrations created, and the size distribution of the files.

Everything comes from the `random.Random` passed in: the same seed gives the same history."""

from __future__ import annotations

import math
import random
from collections.abc import Callable
from dataclasses import dataclass, field

TABLES = (
    "accounts", "customers", "orders", "invoices", "products", "payments", "shipments",
    "subscriptions", "carts", "line_items", "addresses", "coupons", "reviews", "events",
    "warehouses", "suppliers",
)  # fmt: skip
WORDS = (
    "status", "note", "amount", "code", "label", "score", "region", "channel", "owner",
    "priority", "source", "currency", "balance", "reference", "segment", "tier",
)  # fmt: skip
TYPES = ("string", "integer", "bigint", "boolean", "timestamp", "text", "decimal")


@dataclass(slots=True)
class Column:
    name: str
    type: str
    nullable: bool = True


@dataclass(slots=True)
class Op:
    kind: str
    table: str
    column: Column | None = None
    columns: list[Column] = field(default_factory=list)
    """create_table: the new table's columns (after `id`)."""
    new_name: str = ""
    """rename_column: the new name; add_fk: the referenced table."""
    old_type: str = ""
    default: str | None = None


class Schema:
    """What the migrations so far have created: tables and their columns."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.tables: dict[str, list[Column]] = {}
        self.counter = 0

    def fresh(self, word: str | None = None) -> str:
        self.counter += 1
        return f"{word or self.rng.choice(WORDS)}_{self.counter}"

    def initial(self, count: int) -> list[Op]:
        ops = []
        for name in TABLES[:count]:
            ops.append(self._create(name))
        return ops

    def _create(self, name: str) -> Op:
        columns = [Column(self.fresh(), self.rng.choice(TYPES), self.rng.random() < 0.5)]
        columns += [
            Column(self.fresh(), self.rng.choice(TYPES), self.rng.random() < 0.6)
            for _ in range(self.rng.randint(1, 5))
        ]
        self.tables[name] = columns
        return Op("create_table", name, columns=[_copy(c) for c in columns])

    def next_op(self) -> Op:
        """One operation on the current schema, kinds weighted the way histories mix them.

        Operations hold copies of the columns: later renames and type changes must not
        rewrite what an earlier operation said."""
        roll = self.rng.random()
        table = self.rng.choice(sorted(self.tables))
        existing = [c for c in self.tables[table] if not c.name.endswith("_id")]
        if roll < 0.30 or not existing:
            added = Column(self.fresh(), self.rng.choice(TYPES), self.rng.random() < 0.6)
            default = None
            if not added.nullable:
                if added.type in ("timestamp", "decimal"):
                    added.type = "string"
                default = {"integer": "0", "bigint": "0", "boolean": "false"}.get(
                    added.type, "'active'"
                )
            self.tables[table].append(added)
            return Op("add_column", table, column=_copy(added), default=default)
        if roll < 0.45:
            return Op("add_index", table, column=_copy(self.rng.choice(existing)))
        if roll < 0.55:
            reference = Column(self.fresh("account") + "_id", "bigint")
            self.tables[table].append(reference)
            target = self.rng.choice([t for t in sorted(self.tables) if t != table] or [table])
            return Op("add_fk", table, column=_copy(reference), new_name=target)
        if roll < 0.63:
            changed = self.rng.choice(existing)
            old = changed.type
            changed.type = "bigint" if old == "integer" else "text" if old == "string" else "string"
            return Op("change_type", table, column=_copy(changed), old_type=old)
        if roll < 0.70:
            renamed = self.rng.choice(existing)
            before = _copy(renamed)
            renamed.name = self.fresh(renamed.name.split("_")[0])
            return Op("rename_column", table, column=before, new_name=renamed.name)
        if roll < 0.80:
            self.counter += 1
            return self._create(f"{self.rng.choice(TABLES)}_{self.counter}")
        if roll < 0.92:
            dropped = self.rng.choice(existing)
            self.tables[table].remove(dropped)
            return Op("drop_column", table, column=dropped)
        return Op("data_update", table, column=_copy(self.rng.choice(existing)))


def _copy(column: Column) -> Column:
    return Column(column.name, column.type, column.nullable)


def sizes(tool: str, count: int, rng: random.Random) -> list[int]:
    """Target line counts: log-normal around 40 lines, and one file in 200 over 800 lines."""
    result = []
    for index in range(count):
        if index % 200 == 137:
            result.append(800 + rng.randrange(200))
        else:
            result.append(max(6, int(rng.lognormvariate(math.log(38), 0.6))))
    return result


def grow(
    render: Callable[[list[Op]], str], schema: Schema, target: int, first: list[Op]
) -> tuple[list[Op], str]:
    """Add operations until the rendered file reaches `target` lines."""
    ops = list(first) or [schema.next_op()]
    text = render(ops)
    while text.count("\n") < target:
        missing = target - text.count("\n")
        for _ in range(max(1, missing // 8)):
            ops.append(schema.next_op())
        text = render(ops)
    return ops, text


def camel(snake: str) -> str:
    return "".join(part.capitalize() for part in snake.split("_"))


def describe(ops: list[Op], index: int) -> str:
    """A migration's name the way a developer writes it: after its first operation."""
    op = ops[0]
    column = op.column.name if op.column else ""
    names = {
        "create_table": f"create_{op.table}",
        "add_column": f"add_{column}_to_{op.table}",
        "add_index": f"add_index_to_{op.table}_{column}",
        "add_fk": f"add_{column}_to_{op.table}",
        "change_type": f"change_{op.table}_{column}_type",
        "rename_column": f"rename_{column}_on_{op.table}",
        "drop_column": f"remove_{column}_from_{op.table}",
        "data_update": f"backfill_{op.table}_{column}",
    }
    return f"{names[op.kind]}_m{index}"
