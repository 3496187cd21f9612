"""The long PostgreSQL migrations: N statements cycling through the eight statement kinds the
issue names, written so that each cycle of eight yields twelve findings (1.5 per statement).

Every name is derived from the statement's index, so the output depends on N alone."""

from __future__ import annotations

CYCLE = 8
"""Statements per cycle: ADD COLUMN, CREATE INDEX, ADD FOREIGN KEY, ALTER TYPE, RENAME COLUMN,
CREATE TABLE IF NOT EXISTS, DROP COLUMN IF EXISTS, UPDATE."""

TABLES = 40
"""Existing tables the statements touch, so a table is altered many times (as in real files)."""


def cycle(index: int) -> list[str]:
    """The eight statements of cycle `index`."""
    table = f"table_{index % TABLES}"
    column = f"col_{index}"
    if index % 2 == 0:  # a constant default (no rewrite since PostgreSQL 11)
        added = f"{column} integer DEFAULT 0 NOT NULL"
    else:  # a volatile default: rewrites the table
        added = f"{column} timestamp DEFAULT clock_timestamp() NOT NULL"
    return [
        f"ALTER TABLE {table} ADD COLUMN {added};",
        f"CREATE INDEX idx_{table}_{column} ON {table} ({column});",
        f"ALTER TABLE {table} ADD CONSTRAINT fk_{table}_account_{index} "
        f"FOREIGN KEY (account_{index}_id) REFERENCES accounts (id);",
        f"ALTER TABLE {table} ALTER COLUMN amount_{index} TYPE bigint;",
        f"ALTER TABLE {table} RENAME COLUMN note_{index} TO notes_{index};",
        f"CREATE TABLE IF NOT EXISTS audit_{index} "
        "(id serial PRIMARY KEY, created_at timestamp NOT NULL DEFAULT now());",
        f"ALTER TABLE {table} DROP COLUMN IF EXISTS legacy_{index};",
        f"UPDATE {table} SET status_{index} = 'active' WHERE status_{index} IS NULL;",
    ]


def statements_sql(count: int) -> str:
    """A migration of exactly `count` statements, one per line."""
    lines: list[str] = []
    index = 0
    while len(lines) < count:
        lines.extend(cycle(index))
        index += 1
    return "\n".join(lines[:count]) + "\n"


def edit_line(count: int) -> int:
    """The line the one-line edits change: a RENAME COLUMN in the middle of the file."""
    middle = (count // 2) // CYCLE * CYCLE
    return middle + 4
