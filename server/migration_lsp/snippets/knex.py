"""Knex snippets (migration files and statements for an `async` `up`/`down`), and the
completion context of JS/TS migrations, shared with Sequelize.

Where the cursor is (`js_context`) is decided by scanning the text before it, never by parsing:
the file being typed rarely parses. A small scanner follows strings, template literals,
comments and brackets; an unclosed bracket is taken as abandoned (half-typed) once a later
line starts at or left of the line that opened it, so one unfinished call does not hide the
rest of the file.

Step snippets use `await`, so they are offered only inside an `async` `up`/`down` (the
`mig-file` skeletons write them async; Knex's own stub does not, and `await` there would be a
syntax error).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from migration_lsp.snippets.model import PG, Snippet, SnippetContext, body, doc

KNEX = frozenset({"knex"})

_STEP_HEADER = re.compile(
    r"""(?:
        \b(?:exports|module\.exports)\.(?:up|down)\s*=\s*async\b   # exports.up = async ...
      | \bexport\s+async\s+function\s+(?:up|down)\b                # export async function up
      | \b(?:const|let|var)\s+(?:up|down)\s*(?::[^=]*)?=\s*async\b  # export const up = async
      | (?:^|[{,\s])async\s+(?:up|down)\s*\(                       # async up (qi, S) {
      | (?:^|[{,\s])(?:up|down)\s*:\s*async\b                      # up: async (qi) => {
      | \basync\s+function\s+(?:up|down)\b                         # async function up()
    )""",
    re.VERBOSE,
)
_STATEMENT_END = frozenset("{;})")
_PAIRS = {")": "(", "]": "[", "}": "{"}


@dataclass(slots=True)
class _Open:
    char: str
    indent: int
    """Indentation of the line the bracket is on."""
    header: str
    """The code of the statement before the bracket (strings blanked), for `{`."""


@dataclass(slots=True)
class _State:
    stack: list[_Open] = field(default_factory=list)
    in_string: bool = False
    in_comment: bool = False
    last: str = ""
    """The last code character (`"` for a string)."""
    has_code: bool = False
    statement: list[str] = field(default_factory=list)
    """The code of the current statement so far (strings blanked)."""


def _scan(source: str) -> _State:
    """Scan JS/TS `source` (the text before the cursor)."""
    state = _State()
    i = 0
    n = len(source)
    line_indent = 0
    at_line_start = True
    quote = ""
    block_comment = False
    while i < n:
        char = source[i]
        if at_line_start and not quote and not block_comment:
            end = source.find("\n", i)
            line = source[i : n if end == -1 else end]
            if line.strip():
                line_indent = len(line) - len(line.lstrip(" \t"))
                first = line.lstrip(" \t")[:1]
                if first not in ")]}":
                    _abandon(state, line_indent)
                at_line_start = False
        if char == "\n":
            at_line_start = True
            i += 1
            continue
        if block_comment:
            if source.startswith("*/", i):
                block_comment = False
                i += 2
                continue
            i += 1
            continue
        if quote:
            if char == "\\":
                i += 2
                continue
            if char == quote:
                quote = ""
                state.last = '"'
            i += 1
            continue
        if source.startswith("//", i):
            end = source.find("\n", i)
            if end == -1:
                state.in_comment = True
                break
            i = end
            continue
        if source.startswith("/*", i):
            block_comment = True
            i += 2
            continue
        if char in "'\"`":
            quote = char
            state.has_code = True
            state.statement.append('""')
            i += 1
            continue
        if not char.isspace():
            state.has_code = True
            state.last = char
            state.statement.append(char)
        elif state.statement and state.statement[-1] != " ":
            state.statement.append(" ")
        if char in "([{":
            state.stack.append(_Open(char, line_indent, "".join(state.statement[:-1])))
            state.statement = []
        elif char in ")]}":
            opener = _PAIRS[char]
            if any(o.char == opener for o in state.stack):
                while state.stack[-1].char != opener:
                    state.stack.pop()
                opened = state.stack.pop()
                state.statement = [opened.header, opener, char] if char != "}" else []
        elif char == ";":
            state.statement = []
        i += 1
    state.in_string = bool(quote)
    state.in_comment = state.in_comment or block_comment
    return state


def _abandon(state: _State, indent: int) -> None:
    """Unclosed brackets opened on lines indented at least as deep as a new line: the user
    moved on, and the half-typed statement ended."""
    while state.stack and state.stack[-1].indent >= indent:
        state.stack.pop()
        state.statement = []
        state.last = ";"


def js_context(text: str, start: int, end: int, language: str) -> SnippetContext | None:
    """`file`, `step` or None for a JS/TS migration (see the module docstring)."""
    if language not in ("javascript", "typescript"):
        return None
    before = text[:start]
    after = text[end:]
    state = _scan(before)
    if state.in_string or state.in_comment:
        return None
    line_prefix = before[before.rfind("\n") + 1 :]
    rest = after.split("\n", 1)[0]
    if not state.has_code and not _scan(after).has_code:
        return "file"
    if line_prefix.strip() or rest.strip() not in ("", "}", "};", "},"):
        return None
    _abandon(state, len(line_prefix))
    if not state.stack or state.stack[-1].char != "{":
        return None
    if state.last not in _STATEMENT_END:
        return None
    header = state.stack[-1].header
    if _STEP_HEADER.search(header):
        return "step"
    return None


# --------------------------------------------------------------------------- snippets

SNIPPETS: tuple[Snippet, ...] = (
    Snippet(
        prefix="mig-file",
        label="New Knex migration",
        tools=KNEX,
        context="file",
        detail="exports.up / exports.down as `knex migrate:make` writes them, made async",
        body=body(
            """
            /**
             * @param { import("knex").Knex } knex
             * @returns { Promise<void> }
             */
            exports.up = async function(knex) {
              await knex.schema.createTable('${1:table_name}', (table) => {
                table.bigIncrements('id');
                $0
                table.timestamps(true, true);
              });
            };

            /**
             * @param { import("knex").Knex } knex
             * @returns { Promise<void> }
             */
            exports.down = async function(knex) {
              await knex.schema.dropTable('$1');
            };
            """
        ),
        documentation=doc(
            """
            A migration file as `knex migrate:make <name>` writes it (the JSDoc types and
            `exports.up` / `exports.down`), with async functions so that the step snippets
            (`await knex...`) can be used in them.

            Write the `down` now, while you know what the `up` did: without it
            (`missing-downgrade`) or with an empty one (`empty-downgrade`) `knex migrate:rollback`
            silently leaves the change in place. Knex runs the file in a transaction unless it
            exports `config = { transaction: false }`.
            """
        ),
        avoids=("missing-downgrade", "empty-downgrade"),
    ),
    Snippet(
        prefix="mig-file-ts",
        label="New Knex migration (TypeScript)",
        tools=KNEX,
        context="file",
        detail="export async function up / down as `knex migrate:make -x ts` writes them",
        body=body(
            """
            import type { Knex } from "knex";


            export async function up(knex: Knex): Promise<void> {
                await knex.schema.createTable("${1:table_name}", (table) => {
                    table.bigIncrements("id");
                    $0
                    table.timestamps(true, true);
                });
            }


            export async function down(knex: Knex): Promise<void> {
                await knex.schema.dropTable("$1");
            }
            """
        ),
        documentation=doc(
            """
            A TypeScript migration as `knex migrate:make -x ts <name>` writes it: async `up`
            and `down` taking the typed `knex` instance.

            Keep `down` the exact reverse of `up` (`missing-downgrade`, `empty-downgrade`):
            `knex migrate:rollback` runs it.
            """
        ),
        avoids=("missing-downgrade", "empty-downgrade"),
    ),
    Snippet(
        prefix="mig-file-index-concurrently",
        label="Migration building an index concurrently",
        tools=KNEX,
        context="file",
        dialects=PG,
        detail="config transaction: false + CREATE INDEX CONCURRENTLY IF NOT EXISTS",
        body=body(
            """
            // CONCURRENTLY cannot run inside a transaction: Knex must not open one.
            exports.config = { transaction: false };

            exports.up = async function(knex) {
              await knex.raw(
                'CREATE INDEX CONCURRENTLY IF NOT EXISTS ${1:table_column_index} ' +
                  'ON ${2:table_name} (${3:column_name})'
              );
            };

            exports.down = async function(knex) {
              await knex.raw('DROP INDEX CONCURRENTLY IF EXISTS $1');
            };$0
            """
        ),
        documentation=doc(
            """
            Builds an index without blocking writes. Knex's schema builder has no
            CONCURRENTLY (`table.index()` takes a lock that blocks every write while the index
            builds: `non-concurrent-index`), so the statement goes through `knex.raw`.

            `exports.config = { transaction: false }` is required: Knex otherwise wraps the
            migration in a transaction, where PostgreSQL refuses CONCURRENTLY
            (`concurrent-index-in-transaction`). `IF NOT EXISTS` lets the migration be re-run
            after a failed build (drop the INVALID index first).
            """
        ),
        avoids=("non-concurrent-index", "concurrent-index-in-transaction"),
    ),
    Snippet(
        prefix="mig-file-batch-update",
        label="Migration backfilling a column in batches",
        tools=KNEX,
        context="file",
        dialects=PG,
        detail="A bounded UPDATE loop outside a transaction, in a migration of its own",
        body=body(
            """
            // Each batch commits on its own: no transaction around the whole backfill.
            exports.config = { transaction: false };

            exports.up = async function(knex) {
              let updated;
              do {
                const result = await knex.raw(
                  'UPDATE ${1:table_name} SET ${2:column_name} = ${3:value} ' +
                    'WHERE id IN (SELECT id FROM $1 WHERE $2 IS NULL LIMIT ${4:1000})'
                );
                updated = result.rowCount;
              } while (updated > 0);
            };

            exports.down = async function(knex) {
              // The backfilled values are dropped with the column by the previous migration.
            };$0
            """
        ),
        documentation=doc(
            """
            Fills a column added nullable by the previous migration (`mig-add-column`: no
            rewrite, no failure on existing rows: `add-not-null-column-without-default`) in
            bounded batches, each its own statement and transaction, so no lock is held on the
            whole table (`unbatched-data-update`). PostgreSQL has no `UPDATE ... LIMIT`: the
            batch is a subquery (`update-with-limit`).

            A migration of its own keeps the data change apart from the schema change
            (`mixed-schema-and-data-change`). Make the column NOT NULL afterwards with
            `mig-set-not-null`.
            """
        ),
        avoids=(
            "add-not-null-column-without-default",
            "unbatched-data-update",
            "mixed-schema-and-data-change",
        ),
    ),
    Snippet(
        prefix="mig-create-table",
        label="Create table",
        tools=KNEX,
        context="step",
        detail="knex.schema.createTable with a bigint key and timestamptz timestamps",
        body=body(
            """
            await knex.schema.createTable('${1:table_name}', (table) => {
              table.bigIncrements('id');
              table.${2:text}('${3:name}')${4:.notNullable()};
              table.timestamps(true, true);
            });$0
            """
        ),
        documentation=doc(
            """
            Creates a table with a `bigint` key (`increments()` makes an `integer` one that runs
            out at 2.1 billion rows: `prefer-bigint-primary-key`) and `created_at` /
            `updated_at` as `timestamptz` defaulting to now.

            Indexes, constraints and NOT NULL columns on a new table need no precautions: it is
            empty. The `down` is `await knex.schema.dropTable('<name>')`.
            """
        ),
        avoids=("prefer-bigint-primary-key",),
    ),
    Snippet(
        prefix="mig-add-column",
        label="Add nullable column",
        tools=KNEX,
        context="step",
        detail="table.<type>('column').nullable() in alterTable",
        body=body(
            """
            await knex.schema.alterTable('${1:table_name}', (table) => {
              table.${2:text}('${3:column_name}').nullable();
            });$0
            """
        ),
        documentation=doc(
            """
            Adds a nullable column: instant, and it works on a table with rows. Adding it
            `.notNullable()` without a default fails on any non-empty table
            (`add-not-null-column-without-default`): add it nullable, backfill in batches
            (`mig-batch-update`), then make it NOT NULL (`mig-set-not-null`).

            The `down` is `table.dropColumn('<column>')` in an `alterTable`.
            """
        ),
        avoids=("add-not-null-column-without-default",),
    ),
    Snippet(
        prefix="mig-add-column-default",
        label="Add NOT NULL column with a default",
        tools=KNEX,
        context="step",
        detail="table.<type>('column').notNullable().defaultTo(<constant>)",
        body=body(
            """
            await knex.schema.alterTable('${1:table_name}', (table) => {
              table.${2:boolean}('${3:column_name}').notNullable().defaultTo(${4:false});
            });$0
            """
        ),
        documentation=doc(
            """
            Adds a NOT NULL column with a database default, so existing rows get it and the
            migration works on a non-empty table (`add-not-null-column-without-default`).

            Keep the default a constant (or `knex.fn.now()`): since PostgreSQL 11 it is stored
            once, no rewrite. A volatile default (`knex.raw('gen_random_uuid()')`,
            `knex.fn.uuid()`) rewrites the whole table (`add-column-volatile-default`).
            """
        ),
        avoids=("add-not-null-column-without-default", "add-column-volatile-default"),
    ),
    Snippet(
        prefix="mig-index-concurrently",
        label="Create index concurrently",
        tools=KNEX,
        context="step",
        dialects=PG,
        detail="knex.raw('CREATE INDEX CONCURRENTLY IF NOT EXISTS ...')",
        body=body(
            """
            // Needs exports.config = { transaction: false } in this file.
            await knex.raw(
              'CREATE INDEX CONCURRENTLY IF NOT EXISTS ${1:table_column_index} ' +
                'ON ${2:table_name} (${3:column_name})'
            );$0
            """
        ),
        documentation=doc(
            """
            Builds an index without blocking writes (`table.index()` blocks them until the index
            is built: `non-concurrent-index`). Knex's builder has no CONCURRENTLY, hence
            `knex.raw`.

            The file must export `config = { transaction: false }`: CONCURRENTLY fails inside
            the transaction Knex otherwise opens (`concurrent-index-in-transaction`).
            The `down` is `await knex.raw('DROP INDEX CONCURRENTLY IF EXISTS <name>')`.
            """
        ),
        avoids=("non-concurrent-index",),
    ),
    Snippet(
        prefix="mig-drop-index-concurrently",
        label="Drop index concurrently",
        tools=KNEX,
        context="step",
        dialects=PG,
        detail="knex.raw('DROP INDEX CONCURRENTLY IF EXISTS ...')",
        body=body(
            """
            // Needs exports.config = { transaction: false } in this file.
            await knex.raw('DROP INDEX CONCURRENTLY IF EXISTS ${1:index_name}');$0
            """
        ),
        documentation=doc(
            """
            Drops an index without the ACCESS EXCLUSIVE lock of a plain DROP INDEX
            (`table.dropIndex()`: `non-concurrent-index-drop`). Outside a transaction only:
            export `config = { transaction: false }`.
            """
        ),
        avoids=("non-concurrent-index-drop",),
    ),
    Snippet(
        prefix="mig-foreign-key",
        label="Add foreign key NOT VALID, then VALIDATE",
        tools=KNEX,
        context="step",
        dialects=PG,
        detail="ADD CONSTRAINT ... NOT VALID, then VALIDATE CONSTRAINT (no blocking scan)",
        body=body(
            """
            // NOT VALID: only new rows are checked, no scan while both tables are locked.
            await knex.raw(
              'ALTER TABLE ${1:orders} ADD CONSTRAINT ${2:orders_user_id_foreign} ' +
                'FOREIGN KEY (${3:user_id}) REFERENCES ${4:users} (${5:id}) NOT VALID'
            );
            // VALIDATE in another transaction (a later migration, or transaction: false).
            await knex.raw('ALTER TABLE $1 VALIDATE CONSTRAINT $2');$0
            """
        ),
        documentation=doc(
            """
            Adds a foreign key in two steps. `table.foreign(...).references(...)` validates
            every row while blocking writes to both tables (`foreign-key-without-not-valid`);
            `NOT VALID` takes its lock for milliseconds, and `VALIDATE CONSTRAINT` then scans
            under a lock that lets reads and writes continue.

            The validation must not share the transaction of the `ADD` (its lock would be held
            for the whole scan): export `config = { transaction: false }`, or validate in the
            next migration (`mig-validate-constraint`).
            """
        ),
        avoids=("foreign-key-without-not-valid",),
    ),
    Snippet(
        prefix="mig-validate-constraint",
        label="Validate a NOT VALID constraint",
        tools=KNEX,
        context="step",
        dialects=PG,
        detail="ALTER TABLE ... VALIDATE CONSTRAINT (no blocking lock)",
        body=body(
            """
            await knex.raw(
              'ALTER TABLE ${1:table_name} VALIDATE CONSTRAINT ${2:constraint_name}'
            );$0
            """
        ),
        documentation=doc(
            """
            Validates a constraint added earlier `NOT VALID` (`mig-foreign-key`): scans the
            table under a SHARE UPDATE EXCLUSIVE lock, so reads and writes continue. Run it in a
            later migration than the `ADD CONSTRAINT` (`foreign-key-without-not-valid`,
            `check-constraint-without-not-valid`).
            """
        ),
        avoids=("foreign-key-without-not-valid", "check-constraint-without-not-valid"),
    ),
    Snippet(
        prefix="mig-set-not-null",
        label="Set NOT NULL via a validated CHECK",
        tools=KNEX,
        context="step",
        dialects=PG,
        detail="CHECK (col IS NOT NULL) NOT VALID → VALIDATE → dropNullable → drop the CHECK",
        body=body(
            """
            // Needs exports.config = { transaction: false }: VALIDATE must not share the
            // transaction of the ADD CONSTRAINT.
            await knex.raw(
              'ALTER TABLE ${1:table_name} ADD CONSTRAINT ${3:table_column_not_null} ' +
                'CHECK (${2:column_name} IS NOT NULL) NOT VALID'
            );
            await knex.raw('ALTER TABLE $1 VALIDATE CONSTRAINT $3');
            // SET NOT NULL uses the validated CHECK instead of scanning (PostgreSQL 12+).
            await knex.schema.alterTable('$1', (table) => {
              table.dropNullable('$2');
              table.dropChecks(['$3']);
            });$0
            """
        ),
        documentation=doc(
            """
            Makes an existing column NOT NULL without the full-table scan under an ACCESS
            EXCLUSIVE lock that `table.dropNullable()` (or `.notNullable().alter()`) does on its
            own (`set-not-null-on-existing-column`): a `CHECK (col IS NOT NULL) NOT VALID`
            constraint, validated without blocking (`check-constraint-without-not-valid`), lets
            PostgreSQL 12+ skip the scan; the CHECK is dropped afterwards.

            Backfill the NULLs first (`mig-batch-update`), or the validation fails.
            """
        ),
        avoids=("set-not-null-on-existing-column", "check-constraint-without-not-valid"),
    ),
    Snippet(
        prefix="mig-batch-update",
        label="Backfill in batches",
        tools=KNEX,
        context="step",
        dialects=PG,
        detail="Bounded UPDATE loop (WHERE id IN (SELECT ... LIMIT n)) until no row changes",
        body=body(
            """
            // Outside a transaction (exports.config = { transaction: false }) each batch commits.
            let updated;
            do {
              const result = await knex.raw(
                'UPDATE ${1:table_name} SET ${2:column_name} = ${3:value} ' +
                  'WHERE id IN (SELECT id FROM $1 WHERE $2 IS NULL LIMIT ${4:1000})'
              );
              updated = result.rowCount;
            } while (updated > 0);$0
            """
        ),
        documentation=doc(
            """
            Updates a large table in bounded batches instead of one statement that locks every
            row until commit (`unbatched-data-update`). PostgreSQL has no `UPDATE ... LIMIT`
            (`update-with-limit`): the batch is chosen by a subquery. Run it in a migration of
            its own, without schema changes (`mixed-schema-and-data-change`).
            """
        ),
        avoids=("unbatched-data-update", "update-with-limit"),
    ),
    Snippet(
        prefix="mig-lock-timeout",
        label="Set a lock timeout",
        tools=KNEX,
        context="step",
        dialects=PG,
        detail="SET LOCAL lock_timeout before the first locking statement",
        body=body(
            """
            await knex.raw("SET LOCAL lock_timeout = '${1|5s,2s,10s,1s|}'");$0
            """
        ),
        documentation=doc(
            """
            Makes the migration give up after a few seconds instead of queueing every query on
            the table behind its lock while it waits (`missing-lock-timeout`). `SET LOCAL` lasts
            until the migration's transaction ends, so the pooled connection is not left with
            it; in a file with `config = { transaction: false }` use `SET` and reset it at the
            end.
            """
        ),
        avoids=("missing-lock-timeout",),
    ),
)
