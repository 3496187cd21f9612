"""The next migrations of a SQL migration tool, named and laid out its way, for fixes that move a
statement out of the transaction the runner wraps a file in.

- Flyway `V<next>__<description>.sql` (`-- flyway:executeInTransaction=false` when needed);
- golang-migrate `<next>_<description>.up.sql` and `.down.sql`, the number padded like the file's;
- dbmate `<timestamp + 1 s>_<description>.sql` with `-- migrate:up` / `-- migrate:down`
  (`transaction:false` when needed);
- goose `<next>_<description>.sql` with `-- +goose Up` / `-- +goose Down`
  (`-- +goose NO TRANSACTION` when needed);
- Prisma `../<timestamp + 1 s>_<description>/migration.sql`;
- plain folders of numbered files (Supabase) `<next>_<description>.sql`.

The next version follows the fixed file's own, and every sibling's when the folder can be read,
so the new file sorts after all of them. Paths are relative to the fixed migration's folder.
"""

from __future__ import annotations

import datetime
import os
import re
from dataclasses import dataclass, field
from pathlib import PurePath

from migration_lsp.findings import NewFile
from migration_lsp.model import Migration

_TIMESTAMP = "%Y%m%d%H%M%S"
_FLYWAY = re.compile(r"^([Vv])(\d+(?:[._]\d+)*)__(.*)\.sql$")
_NUMBERED = re.compile(r"^(\d+)(?:_(.*?))?(\.up\.sql|\.down\.sql|\.sql|\.go)?$")

NEEDS_ONE_STATEMENT = frozenset({"golang-migrate", "prisma", "dbmate"})
"""Tools that send a file (a dbmate section) as one query: PostgreSQL runs several statements of
it in one implicit transaction, so a non-transactional file may hold one statement only."""


@dataclass(slots=True)
class Planned:
    """One migration to create: its forward and reverse statements (without `;`)."""

    description: str
    up: list[str]
    down: list[str] = field(default_factory=list)
    outside_transaction: bool = False
    down_note: str = "nothing to undo"


def slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "_", text.lower()).strip("_") or "constraint"


def can_run_outside_transaction(migration: Migration, planned: Planned) -> bool:
    if not planned.outside_transaction:
        return True
    if migration.tool == "sql":
        return False  # the runner (Supabase) wraps every file in a transaction
    return migration.tool not in NEEDS_ONE_STATEMENT or len(planned.up) == 1


def new_files(migration: Migration, plans: list[Planned], newline: str) -> list[NewFile] | None:
    """The files of `plans`, in order, each the next migration after the previous one; None when
    the tool's naming cannot be followed from the fixed file's name."""
    versions = _Versions.of(migration)
    if versions is None:
        return None
    files: list[NewFile] = []
    for plan in plans:
        version = versions.next()
        files.extend(_render(migration.tool, version, plan, newline))
    return files


def _render(tool: str, version: str, plan: Planned, nl: str) -> list[NewFile]:
    name = f"{version}_{slug(plan.description)}"
    up = "".join(f"{statement};{nl}" for statement in plan.up)
    down = "".join(f"{statement};{nl}" for statement in plan.down) or f"-- {plan.down_note}{nl}"
    outside = plan.outside_transaction
    if tool == "flyway":
        header = f"-- flyway:executeInTransaction=false{nl}" if outside else ""
        return [NewFile(f"{version}__{slug(plan.description)}.sql", header + up)]
    if tool == "golang-migrate":
        return [NewFile(f"{name}.up.sql", up), NewFile(f"{name}.down.sql", down)]
    if tool == "dbmate":
        marker = " transaction:false" if outside else ""
        text = f"-- migrate:up{marker}{nl}{up}{nl}-- migrate:down{marker}{nl}{down}"
        return [NewFile(f"{name}.sql", text)]
    if tool == "goose":
        header = f"-- +goose NO TRANSACTION{nl}" if outside else ""
        return [NewFile(f"{name}.sql", f"{header}-- +goose Up{nl}{up}{nl}-- +goose Down{nl}{down}")]
    if tool == "prisma":
        return [NewFile(f"../{name}/migration.sql", up)]
    return [NewFile(f"{name}.sql", up)]


class _Versions:
    """Hands out the versions after the fixed file's (and its siblings')."""

    def __init__(self, current: str, siblings: list[str], flyway_prefix: str | None) -> None:
        self.flyway_prefix = flyway_prefix
        self.last = current
        for sibling in siblings:
            if _key(sibling) > _key(self.last):
                self.last = sibling

    @classmethod
    def of(cls, migration: Migration) -> _Versions | None:
        path = PurePath(migration.path.replace("\\", "/"))
        tool = migration.tool
        if tool == "flyway":
            match = _FLYWAY.match(path.name)
            if match is None:
                return None
            siblings = [m.group(2) for n in _listing(path.parent) if (m := _FLYWAY.match(n))]
            return cls(match.group(2), siblings, match.group(1))
        if tool == "prisma":
            folder = path.parent
            match = _NUMBERED.match(folder.name)
            if match is None or path.name != "migration.sql":
                return None
            siblings = [m.group(1) for n in _listing(folder.parent) if (m := _NUMBERED.match(n))]
            return cls(match.group(1), siblings, None)
        match = _NUMBERED.match(path.name)
        if match is None or not match.group(3):
            return None
        siblings = [m.group(1) for n in _listing(path.parent) if (m := _NUMBERED.match(n))]
        return cls(match.group(1), siblings, None)

    def next(self) -> str:
        self.last = _increment(self.last)
        return f"{self.flyway_prefix}{self.last}" if self.flyway_prefix else self.last


def _listing(folder: PurePath) -> list[str]:
    """The names in the migration's folder on disk (nothing for a path that is not absolute: an
    editor buffer's path always is)."""
    if not folder.is_absolute():
        return []
    try:
        return os.listdir(folder)
    except OSError:
        return []


def _key(version: str) -> tuple[int, ...]:
    return tuple(int(part) for part in re.split(r"[._]", version))


def _increment(version: str) -> str:
    """The version after `version`, written alike: `3` → `4`, `000003` → `000004`, `1_2` →
    `1_3`, a `YYYYmmddHHMMSS` timestamp → one second later."""
    head, last = re.match(r"^(.*?)(\d+)$", version).groups()  # type: ignore[union-attr]
    if not head and len(last) == 14:
        try:
            moment = datetime.datetime.strptime(last, _TIMESTAMP)
        except ValueError:
            pass
        else:
            return (moment + datetime.timedelta(seconds=1)).strftime(_TIMESTAMP)
    return head + str(int(last) + 1).zfill(len(last))
