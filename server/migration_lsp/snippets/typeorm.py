"""TypeORM snippets: a migration class as `typeorm migration:create` writes it (and safe
variants with `transaction = false`), statements for `up()` / `down()`; and where to offer them.

Contexts: `file` in an empty TypeScript file (comments only); `step` at the start of a
statement in an `up` / `down` method (also inside `if`/`for`/`try` blocks there, and in the
`__awaiter` generator `tsc` writes). Found by scanning the text before the cursor (strings,
template literals and their `${}`, comments, brackets), never by parsing: the file is being
typed. Statement snippets are plain JavaScript (no type annotations), valid in `.ts` and `.js`
migrations alike; the file skeletons are TypeScript (`languages`), plus `mig-file-js` for `.js`.

Why so many `transaction = false` file skeletons: in TypeORM the transaction is chosen per
migration class, not per statement, so the safe forms that must run outside a transaction
(CONCURRENTLY, batches that commit one by one, VALIDATE after the constraint committed) are
whole migrations. TypeORM 0.3.11+ honours `transaction = false` when the data source sets
`migrationsTransactionMode: "each"` (or "none"); the default "all" refuses to run it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from migration_lsp.snippets.model import PG, Snippet, SnippetContext, body, doc

TYPEORM = frozenset({"typeorm"})
TS = frozenset({"typescript"})
JS = frozenset({"javascript"})
_CLASS = "${1:AddNicknameToUsers}${2:1715682093123}"
_HEADER = f"""import {{ MigrationInterface, QueryRunner }} from "typeorm";

export class {_CLASS} implements MigrationInterface {{
    name = '$1$2'"""
_NO_TRANSACTION = """    // Runs outside a transaction: TypeORM 0.3.11+ with
    // migrationsTransactionMode "each" (or "none") in the data source;
    // the default "all" refuses this migration.
    transaction = false"""
_TIMESTAMP_DOC = (
    "The class name ends with the 13-digit timestamp of the file name "
    "(`<timestamp>-<Name>.ts`), which TypeORM uses to order migrations."
)


def _file(up: str, down: str, *, no_transaction: bool = False) -> str:
    """A migration class in `migration:generate` style around `up` and `down` bodies."""
    header = _HEADER + ("\n" + _NO_TRANSACTION if no_transaction else "")
    return (
        f"{header}\n\n"
        "    public async up(queryRunner: QueryRunner): Promise<void> {\n"
        f"{up}\n"
        "    }\n\n"
        "    public async down(queryRunner: QueryRunner): Promise<void> {\n"
        f"{down}\n"
        "    }\n\n"
        "}"
    )


def _indent(text: str, levels: int = 2) -> str:
    pad = "    " * levels
    return "\n".join(pad + line if line else line for line in body(text).split("\n"))


_INDEX_UP = """
    await queryRunner.query(
        `CREATE INDEX CONCURRENTLY IF NOT EXISTS "${3:IDX_users_email}"
        ON "${4:users}" ("${5:email}")`,
    );$0
"""
_INDEX_DOWN = """
    // migration:revert runs down() in a transaction: no CONCURRENTLY here.
    await queryRunner.query(`DROP INDEX IF EXISTS "$3"`);
"""
_BATCH = """
// Each UPDATE commits on its own (transaction = false): row locks are held one batch at a time.
for (;;) {
    // TypeORM 0.3 returns [rows, affected] for an UPDATE on PostgreSQL.
    const [, updated] = await queryRunner.query(
        `UPDATE "${3:users}" SET "${4:plan}" = ${5:'free'}
        WHERE "id" IN (
            SELECT "id" FROM "$3" WHERE "$4" IS NULL ORDER BY "id" LIMIT ${6:1000}
        )`,
    );
    if (updated === 0) break; // the WHERE must stop matching updated rows
}$0
"""
_NOT_NULL = """
// 1. CHECK ... NOT VALID: a short lock, no scan.
await queryRunner.query(
    `ALTER TABLE "${3:users}" ADD CONSTRAINT "${5:CHK_users_plan_not_null}"
    CHECK ("${4:plan}" IS NOT NULL) NOT VALID`,
);
// 2. VALIDATE once step 1 committed: scans without blocking reads or writes.
await queryRunner.query(`ALTER TABLE "$3" VALIDATE CONSTRAINT "$5"`);
// 3. SET NOT NULL uses the validated CHECK instead of scanning (PostgreSQL 12+).
await queryRunner.query(`ALTER TABLE "$3" ALTER COLUMN "$4" SET NOT NULL`);
// 4. The CHECK is redundant now.
await queryRunner.query(`ALTER TABLE "$3" DROP CONSTRAINT "$5"`);$0
"""
_FOREIGN_KEY = """
// NOT VALID: checks new rows only, no scan of the existing ones under the lock.
await queryRunner.query(
    `ALTER TABLE "${3:orders}" ADD CONSTRAINT "${4:FK_orders_user_id}"
    FOREIGN KEY ("${5:user_id}") REFERENCES "${6:users}"("id") NOT VALID`,
);
// VALIDATE once the constraint committed: scans without blocking writes.
await queryRunner.query(`ALTER TABLE "$3" VALIDATE CONSTRAINT "$4"`);$0
"""

SNIPPETS: tuple[Snippet, ...] = (
    Snippet(
        prefix="mig-file",
        label="New TypeORM migration",
        tools=TYPEORM,
        context="file",
        languages=TS,
        detail="MigrationInterface class as migration:create writes it, with up() and down()",
        body=_file(
            _indent("$0"),
            _indent("$3"),
        ),
        documentation=doc(
            f"""
            A migration class as `typeorm migration:create` / `migration:generate` write it:
            `up()` applies the change, `down()` undoes it for `migration:revert`.

            Write `down()` now, while you know what `up()` did: a migration without one
            (`missing-downgrade`) or with an empty one (`empty-downgrade`) cannot be rolled
            back when a deploy goes wrong. If the change cannot be undone, make `down()`
            `throw new Error("why")`. {_TIMESTAMP_DOC}
            """
        ),
        avoids=("missing-downgrade", "empty-downgrade"),
    ),
    Snippet(
        prefix="mig-file-js",
        label="New TypeORM migration (JavaScript)",
        tools=TYPEORM,
        context="file",
        languages=JS,
        detail="CommonJS migration class as migration:create -o writes it",
        body=body(
            """
            /**
             * @typedef {import('typeorm').MigrationInterface} MigrationInterface
             * @typedef {import('typeorm').QueryRunner} QueryRunner
             */

            /**
             * @class
             * @implements {MigrationInterface}
             */
            module.exports = class ${1:AddNicknameToUsers}${2:1715682093123} {

                /**
                 * @param {QueryRunner} queryRunner
                 */
                async up(queryRunner) {
                    $0
                }

                /**
                 * @param {QueryRunner} queryRunner
                 */
                async down(queryRunner) {
                    $3
                }

            }
            """
        ),
        documentation=doc(
            f"""
            A migration class in JavaScript as `typeorm migration:create -o` writes it (the
            JSDoc types keep editor help). `down()` undoes `up()` for `migration:revert`: a
            migration without one (`missing-downgrade`) or with an empty one
            (`empty-downgrade`) cannot be rolled back. {_TIMESTAMP_DOC.replace(".ts", ".js")}
            """
        ),
        avoids=("missing-downgrade", "empty-downgrade"),
    ),
    Snippet(
        prefix="mig-file-index-concurrently",
        label="New TypeORM migration: create index concurrently",
        tools=TYPEORM,
        context="file",
        languages=TS,
        dialects=PG,
        detail="CREATE INDEX CONCURRENTLY in a migration with transaction = false",
        body=_file(_indent(_INDEX_UP), _indent(_INDEX_DOWN), no_transaction=True),
        documentation=doc(
            f"""
            Builds an index without blocking writes (`non-concurrent-index`). `CREATE INDEX
            CONCURRENTLY` fails inside a transaction (`concurrent-index-in-transaction`), so
            the class sets `transaction = false`: TypeORM 0.3.11+ honours it when the data
            source has `migrationsTransactionMode: "each"` (or "none"); with the default
            "all" TypeORM refuses to run the migration. `IF NOT EXISTS` makes a re-run after
            a failed build succeed (drop the INVALID index first).

            `migration:revert` runs `down()` in a transaction whatever the class says, so the
            index is dropped without CONCURRENTLY there; writing `down()` now avoids
            `missing-downgrade`. {_TIMESTAMP_DOC}
            """
        ),
        avoids=("non-concurrent-index", "concurrent-index-in-transaction", "missing-downgrade"),
    ),
    Snippet(
        prefix="mig-file-batch-update",
        label="New TypeORM migration: batched data update",
        tools=TYPEORM,
        context="file",
        languages=TS,
        dialects=PG,
        detail="UPDATE in batches, each committed on its own (transaction = false)",
        body=_file(
            _indent(_BATCH),
            _indent("// Nothing to undo: the down() of the migration adding the column drops it."),
            no_transaction=True,
        ),
        documentation=doc(
            f"""
            Backfills a column in batches instead of one statement that locks every row until
            it commits (`unbatched-data-update`). PostgreSQL has no `UPDATE ... LIMIT`
            (`update-with-limit`): the batch is chosen by a subquery. With `transaction =
            false` (TypeORM 0.3.11+, `migrationsTransactionMode: "each"`) every batch commits
            on its own; inside one transaction the row locks would add up until the end.

            Keep data changes in a migration of their own, after the one adding the column
            (`mixed-schema-and-data-change`). {_TIMESTAMP_DOC}
            """
        ),
        avoids=("unbatched-data-update", "update-with-limit", "mixed-schema-and-data-change"),
    ),
    Snippet(
        prefix="mig-file-set-not-null",
        label="New TypeORM migration: set NOT NULL via a validated CHECK",
        tools=TYPEORM,
        context="file",
        languages=TS,
        dialects=PG,
        detail="CHECK NOT VALID → VALIDATE → SET NOT NULL → drop the CHECK (transaction = false)",
        body=_file(
            _indent(_NOT_NULL),
            _indent('await queryRunner.query(`ALTER TABLE "$3" ALTER COLUMN "$4" DROP NOT NULL`);'),
            no_transaction=True,
        ),
        documentation=doc(
            f"""
            Makes an existing column NOT NULL without the full-table scan under an ACCESS
            EXCLUSIVE lock of a plain `SET NOT NULL` (`set-not-null-on-existing-column`):
            a CHECK added `NOT VALID` (`check-constraint-without-not-valid`), validated after
            it committed, then `SET NOT NULL`, which PostgreSQL 12+ proves from the CHECK.
            The steps must commit one by one, hence `transaction = false` (TypeORM 0.3.11+,
            `migrationsTransactionMode: "each"`). Backfill the NULLs first
            (`mig-file-batch-update`). {_TIMESTAMP_DOC}
            """
        ),
        avoids=("set-not-null-on-existing-column", "check-constraint-without-not-valid"),
    ),
    Snippet(
        prefix="mig-file-foreign-key",
        label="New TypeORM migration: foreign key NOT VALID, then VALIDATE",
        tools=TYPEORM,
        context="file",
        languages=TS,
        dialects=PG,
        detail="ADD CONSTRAINT ... NOT VALID, VALIDATE CONSTRAINT after it committed",
        body=_file(
            _indent(_FOREIGN_KEY),
            _indent('await queryRunner.query(`ALTER TABLE "$3" DROP CONSTRAINT "$4"`);'),
            no_transaction=True,
        ),
        documentation=doc(
            f"""
            Adds a foreign key to an existing table without scanning it under a lock that
            blocks writes to both tables (`foreign-key-without-not-valid`): `NOT VALID` first,
            `VALIDATE CONSTRAINT` once that committed (`transaction = false`, TypeORM 0.3.11+
            with `migrationsTransactionMode: "each"`). TypeORM's `createForeignKey` has no
            NOT VALID option, hence SQL. The `down()` drops the constraint
            (`missing-downgrade`). {_TIMESTAMP_DOC}
            """
        ),
        avoids=("foreign-key-without-not-valid", "missing-downgrade"),
    ),
    Snippet(
        prefix="mig-add-column",
        label="Add a nullable column",
        tools=TYPEORM,
        context="step",
        detail="ALTER TABLE ... ADD a nullable column (no rewrite, no failure on existing rows)",
        body=body(
            """
            await queryRunner.query(`ALTER TABLE "${1:users}" ADD "${2:nickname}" ${3:text}`);$0
            """
        ),
        documentation=doc(
            """
            Adds a nullable column: instant on PostgreSQL 11+ and safe on a table with rows.
            A `NOT NULL` column without a default fails on any non-empty table
            (`add-not-null-column-without-default`), which is what `migration:generate` writes
            for a non-nullable entity property. Add it nullable, backfill it in batches
            (`mig-file-batch-update`), then make it NOT NULL (`mig-file-set-not-null`).
            Undo it in `down()` with `ALTER TABLE ... DROP COLUMN`.
            """
        ),
        avoids=("add-not-null-column-without-default",),
    ),
    Snippet(
        prefix="mig-index-concurrently",
        label="Create index concurrently",
        tools=TYPEORM,
        context="step",
        dialects=PG,
        detail="CREATE INDEX CONCURRENTLY IF NOT EXISTS (the class needs transaction = false)",
        body=body(
            """
            // The class needs `transaction = false` (TypeORM 0.3.11+, mode "each").
            await queryRunner.query(
                `CREATE INDEX CONCURRENTLY IF NOT EXISTS "${1:IDX_users_email}"
                ON "${2:users}" ("${3:email}")`,
            );$0
            """
        ),
        documentation=doc(
            """
            Builds an index without blocking writes (`non-concurrent-index`). It fails inside a
            transaction (`concurrent-index-in-transaction`): set `transaction = false` on the
            migration class (TypeORM 0.3.11+, with `migrationsTransactionMode: "each"` in the
            data source), or start from `mig-file-index-concurrently`. Drop it in `down()`
            without CONCURRENTLY: `migration:revert` always uses a transaction.
            """
        ),
        avoids=("non-concurrent-index",),
    ),
    Snippet(
        prefix="mig-foreign-key",
        label="Foreign key NOT VALID, then VALIDATE",
        tools=TYPEORM,
        context="step",
        dialects=PG,
        detail="ADD CONSTRAINT ... NOT VALID + VALIDATE CONSTRAINT (needs transaction = false)",
        body=body(
            "// The class needs `transaction = false`, so that VALIDATE runs after the ADD "
            "committed.\n" + _FOREIGN_KEY.strip("\n")
        ),
        documentation=doc(
            """
            Adds a foreign key without scanning the table under a lock that blocks writes to
            both tables (`foreign-key-without-not-valid`). The VALIDATE only helps once the
            ADD has committed: use it in a migration with `transaction = false`, or move it
            to the next migration (`mig-validate-constraint`).
            """
        ),
        avoids=("foreign-key-without-not-valid",),
    ),
    Snippet(
        prefix="mig-validate-constraint",
        label="Validate a NOT VALID constraint",
        tools=TYPEORM,
        context="step",
        dialects=PG,
        detail="VALIDATE CONSTRAINT: scans without blocking writes",
        body=body(
            """
            await queryRunner.query(
                `ALTER TABLE "${1:orders}" VALIDATE CONSTRAINT "${2:FK_orders_user_id}"`,
            );$0
            """
        ),
        documentation=doc(
            """
            Validates a constraint added `NOT VALID` in an earlier migration: it scans the
            table under a SHARE UPDATE EXCLUSIVE lock, so reads and writes go on
            (`foreign-key-without-not-valid`, `check-constraint-without-not-valid`).
            """
        ),
        avoids=("foreign-key-without-not-valid", "check-constraint-without-not-valid"),
    ),
    Snippet(
        prefix="mig-set-not-null",
        label="Set NOT NULL via a validated CHECK",
        tools=TYPEORM,
        context="step",
        dialects=PG,
        detail="CHECK NOT VALID → VALIDATE → SET NOT NULL → drop the CHECK",
        body=body(
            "// The class needs `transaction = false`: each step must commit before the next.\n"
            + _NOT_NULL.strip("\n")
        ),
        documentation=doc(
            """
            Makes an existing column NOT NULL without the full-table scan under an ACCESS
            EXCLUSIVE lock (`set-not-null-on-existing-column`): CHECK NOT VALID
            (`check-constraint-without-not-valid`), VALIDATE, SET NOT NULL (PostgreSQL 12+
            uses the CHECK), drop the CHECK. Run it in a migration with `transaction = false`
            (or start from `mig-file-set-not-null`). The `down()` is `ALTER COLUMN ... DROP
            NOT NULL`.
            """
        ),
        avoids=("set-not-null-on-existing-column", "check-constraint-without-not-valid"),
    ),
    Snippet(
        prefix="mig-batch-update",
        label="Batched data update",
        tools=TYPEORM,
        context="step",
        dialects=PG,
        detail="UPDATE in batches of n rows (commits per batch with transaction = false)",
        body=body(_BATCH),
        documentation=doc(
            """
            Updates a large table in batches instead of one statement locking every row until
            it commits (`unbatched-data-update`); the batch is chosen by a subquery since
            PostgreSQL has no `UPDATE ... LIMIT` (`update-with-limit`). The batches commit one
            by one only in a migration with `transaction = false` (or start from
            `mig-file-batch-update`).
            """
        ),
        avoids=("unbatched-data-update", "update-with-limit"),
    ),
)


# --------------------------------------------------------------------------- context


_STEP = re.compile(
    r"(?:^|[\s;}])(?:(?:public|private|protected|async|override)\s+)*(?:up|down)\s*"
    r"\([^()]*\)\s*(?::\s*[\w<>\[\]\s|.]+)?$"
    r"|(?:^|[\s;}])(?:up|down)\s*=\s*(?:async\s*)?\([^()]*\)\s*(?::\s*[\w<>\[\]\s|.]+)?=>$"
)
_CONTROL = re.compile(
    r"^(?:(?:else\s+)?if\s*\(.*\)|else|for\s*\(.*\)|for\s+await\s*\(.*\)|while\s*\(.*\)|do|try"
    r"|catch(?:\s*\(.*\))?|finally|function\s*\*\s*\(\s*\))$",
    re.S,
)
_AWAITER = re.compile(r"__awaiter\(.*function\s*\*\s*\(\s*\)$")
_CONTINUES = frozenset("([,.=+-*/%&|?:<>!~^")
_REST = re.compile(r"\s*(?://.*)?$")


@dataclass(slots=True)
class _Bracket:
    char: str
    header: str
    indent: int


@dataclass(slots=True)
class _State:
    brackets: list[_Bracket] = field(default_factory=list)
    code: bool = False
    inside: bool = False
    """The text ends inside a string, template text or comment."""
    last: str = ""
    """The last significant character of code."""


def _scan(text: str) -> _State:
    """Strings, template literals (with `${}` code), comments and brackets of `text`."""
    state = _State()
    i, n = 0, len(text)
    segment = 0
    while i < n:
        ch = text[i]
        top = state.brackets[-1].char if state.brackets else ""
        if top == "`":  # template text
            if ch == "\\":
                i += 2
            elif ch == "`":
                state.brackets.pop()
                state.last = "`"
                i += 1
            elif text.startswith("${", i):
                state.brackets.append(_Bracket("${", "", _line_indent(text, i)))
                i += 2
                segment = i
            else:
                i += 1
            continue
        if text.startswith("//", i):
            end = text.find("\n", i)
            if end == -1:
                state.inside = True
                return state
            i = end
            continue
        if text.startswith("/*", i):
            end = text.find("*/", i + 2)
            if end == -1:
                state.inside = True
                return state
            i = end + 2
            continue
        if ch in "'\"":
            end = _string_end(text, i, ch)
            if end == -1:
                state.inside = True
                return state
            state.code, state.last = True, ch
            i = end
            continue
        if ch == "`":
            state.brackets.append(_Bracket("`", "", _line_indent(text, i)))
            state.code = True
            i += 1
            continue
        if ch in "({[":
            header = " ".join(text[segment:i].split())
            state.brackets.append(_Bracket(ch, header, _line_indent(text, i)))
            if ch == "{":
                segment = i + 1
        elif ch in ")}]":
            if state.brackets:
                state.brackets.pop()
            if ch == "}":
                segment = i + 1
        elif ch == ";":
            segment = i + 1
        if not ch.isspace():
            state.code, state.last = True, ch
        i += 1
    state.inside = bool(state.brackets) and state.brackets[-1].char == "`"
    return state


def _string_end(text: str, start: int, quote: str) -> int:
    """Offset after the closing quote of the string at `start`; -1 when it is not closed on
    its line (or at all)."""
    i = start + 1
    while i < len(text):
        ch = text[i]
        if ch == "\\":
            i += 2
            continue
        if ch == quote:
            return i + 1
        if ch == "\n":
            return -1
        i += 1
    return -1


def _line_indent(text: str, offset: int) -> int:
    start = text.rfind("\n", 0, offset) + 1
    line = text[start:offset]
    return len(line) - len(line.lstrip(" \t"))


def completion_context(text: str, start: int, end: int, language: str) -> SnippetContext | None:
    """`file`, `step` or None at the word `[start, end)`."""
    if language not in ("typescript", "javascript"):
        return None
    newline = text.find("\n", end)
    rest = text[end : len(text) if newline == -1 else newline]
    if not _REST.match(rest):
        return None
    line_start = text.rfind("\n", 0, start) + 1
    prefix = text[line_start:start]
    state = _scan(text[:start])
    if state.inside:
        return None
    whole = _scan(text[:start] + text[end:])
    if not whole.code and not whole.inside:
        return "file" if not prefix.strip() else None
    if prefix.strip():
        return None
    return "step" if _in_step(state, len(prefix.expandtabs(4))) else None


def _in_step(state: _State, indent: int) -> bool:
    """The innermost open bracket is the body of `up`/`down` (or a block inside it)."""
    abandoned = False
    while (
        state.brackets and state.brackets[-1].char in "([" and state.brackets[-1].indent >= indent
    ):
        state.brackets.pop()  # an unclosed call above: half-typed code
        abandoned = True
    if not abandoned and state.last in _CONTINUES:
        return False
    brackets = list(reversed(state.brackets))
    index = 0
    while index < len(brackets):
        bracket = brackets[index]
        index += 1
        if bracket.char != "{":
            return False
        if _STEP.search(bracket.header):
            return True
        if _AWAITER.search(bracket.header):
            index += 1  # `return __awaiter(this, ..., function* () {`: through its `(`
            continue
        if not _CONTROL.match(bracket.header):
            return False
    return False
