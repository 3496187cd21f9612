"""Laravel snippets: a migration file as `php artisan make:migration` writes it, statements for
`up()` / `down()`, and column definitions for a `Blueprint` closure; and where to offer them.

Contexts: `file` in an empty file (or one holding only `<?php` and comments); `step` at the
start of a statement in `up()` / `down()` (also inside `if`/`foreach`/`try` blocks there);
`statement` at the start of a statement in a `Schema::create` / `Schema::table` closure,
where the snippets are `$table->...` calls. Found by scanning the text before the cursor
(strings, comments, heredocs, brackets), never by parsing: the file is being typed.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from migration_lsp.snippets.model import PG, Snippet, SnippetContext, body, doc

LARAVEL = frozenset({"laravel"})
SNIPPETS: tuple[Snippet, ...] = (
    Snippet(
        prefix="mig-file",
        label="New Laravel migration",
        tools=LARAVEL,
        context="file",
        detail="Anonymous-class migration as make:migration writes it, with up() and down()",
        body=body(
            """
            <?php

            use Illuminate\\\\Database\\\\Migrations\\\\Migration;
            use Illuminate\\\\Database\\\\Schema\\\\Blueprint;
            use Illuminate\\\\Support\\\\Facades\\\\Schema;

            return new class extends Migration
            {
                /**
                 * Run the migrations.
                 */
                public function up(): void
                {
                    Schema::table('${1:users}', function (Blueprint \\$table) {
                        $0
                    });
                }

                /**
                 * Reverse the migrations.
                 */
                public function down(): void
                {
                    Schema::table('$1', function (Blueprint \\$table) {
                        //
                    });
                }
            };
            """
        ),
        documentation=doc(
            """
            A migration as `php artisan make:migration` writes it today: an anonymous class
            returned by the file, with `up()` and `down()`. Name the file
            `<yyyy_mm_dd_hhmmss>_<name>.php` in `database/migrations`.

            Write `down()` now, while you know what `up()` did: a migration without one
            (`missing-downgrade`) or with an empty one (`empty-downgrade`) cannot be rolled
            back with `php artisan migrate:rollback`. If it cannot be undone, throw an exception
            in `down()` that says why.
            """
        ),
        avoids=("missing-downgrade", "empty-downgrade"),
    ),
    Snippet(
        prefix="mig-file-index-concurrently",
        label="Migration creating an index concurrently",
        tools=LARAVEL,
        context="file",
        dialects=PG,
        detail="CREATE INDEX CONCURRENTLY via DB::statement, with $withinTransaction = false",
        body=body(
            """
            <?php

            use Illuminate\\\\Database\\\\Migrations\\\\Migration;
            use Illuminate\\\\Support\\\\Facades\\\\DB;

            return new class extends Migration
            {
                /**
                 * CREATE INDEX CONCURRENTLY cannot run inside a transaction.
                 */
                public \\$withinTransaction = false;

                /**
                 * Run the migrations.
                 */
                public function up(): void
                {
                    DB::statement(<<<'SQL'
                        CREATE INDEX CONCURRENTLY IF NOT EXISTS ${1:users}_${2:email}_index
                            ON $1 ($2)
                        SQL);$0
                }

                /**
                 * Reverse the migrations.
                 */
                public function down(): void
                {
                    DB::statement('DROP INDEX CONCURRENTLY IF EXISTS $1_$2_index');
                }
            };
            """
        ),
        documentation=doc(
            """
            Laravel's schema builder has no CONCURRENTLY: `$table->index(...)` on an existing
            table blocks every write until the index is built (`non-concurrent-index`). Build it
            with raw SQL instead, in a migration of its own.

            PostgreSQL refuses CONCURRENTLY inside a transaction, and Laravel wraps each
            migration in one: `public $withinTransaction = false;` turns that off for this
            migration (`concurrent-index-in-transaction`). `IF NOT EXISTS` lets a failed,
            half-built run be retried (drop an INVALID index first).
            """
        ),
        avoids=("non-concurrent-index", "concurrent-index-in-transaction"),
    ),
    Snippet(
        prefix="mig-create-table",
        label="Create table",
        tools=LARAVEL,
        context="step",
        detail="Schema::create with a bigint id and timestamptz timestamps",
        body=body(
            """
            Schema::create('${1:users}', function (Blueprint \\$table) {
                \\$table->id();
                \\$table->${2|string,text,integer,boolean,jsonb|}('${3:name}');
                \\$table->timestampsTz();
            });$0
            """
        ),
        documentation=doc(
            """
            Creates a table with a `bigint` auto-increment key (`id()`: an `integer` key runs
            out at 2.1 billion rows, `prefer-bigint-primary-key`) and `timestamptz` timestamps
            (`timestampsTz()`: `timestamps()` creates `timestamp without time zone`,
            `prefer-timestamptz`).

            Creating a table is safe: it is new and empty, so its indexes and NOT NULL columns
            need no precautions. `down()` is `Schema::dropIfExists('<table>');`.
            """
        ),
        avoids=("prefer-bigint-primary-key", "prefer-timestamptz"),
    ),
    Snippet(
        prefix="mig-add-column",
        label="Add a nullable column",
        tools=LARAVEL,
        context="step",
        detail="Schema::table adding a nullable column (no table rewrite, no failing rows)",
        body=body(
            """
            Schema::table('${1:users}', function (Blueprint \\$table) {
                \\$table->${2|string,text,integer,bigInteger,boolean,jsonb,timestampTz|}('${3:nickname}')->nullable();
            });$0
            """
        ),
        documentation=doc(
            """
            Adds a column that existing rows can leave empty. A NOT NULL column without a
            default fails on a table that has rows (`add-not-null-column-without-default`);
            add it nullable, backfill it in batches, then make it NOT NULL safely
            (`mig-not-null`). `down()`: `$table->dropColumn('<column>');`.
            """
        ),
        avoids=("add-not-null-column-without-default",),
    ),
    Snippet(
        prefix="mig-index-concurrently",
        label="Create index concurrently",
        tools=LARAVEL,
        context="step",
        dialects=PG,
        detail="DB::statement('CREATE INDEX CONCURRENTLY ...'); needs $withinTransaction = false",
        body=body(
            """
            // CONCURRENTLY needs `public \\$withinTransaction = false;` on the class.
            DB::statement(<<<'SQL'
                CREATE INDEX CONCURRENTLY IF NOT EXISTS ${1:users}_${2:email}_index
                    ON $1 ($2)
                SQL);$0
            """
        ),
        documentation=doc(
            """
            Builds the index without blocking writes: `$table->index(...)` takes a SHARE lock
            for the whole build (`non-concurrent-index`), and the schema builder has no
            CONCURRENTLY. The migration class must declare `public $withinTransaction =
            false;`, or PostgreSQL refuses it (`concurrent-index-in-transaction`).
            `down()`: `DB::statement('DROP INDEX CONCURRENTLY IF EXISTS <name>');`.
            """
        ),
        avoids=("non-concurrent-index",),
    ),
    Snippet(
        prefix="mig-backfill",
        label="Backfill in batches",
        tools=LARAVEL,
        context="step",
        detail="DB::table(...)->chunkById: one bounded UPDATE per chunk of ids",
        body=body(
            """
            DB::table('${1:users}')
                ->whereNull('${2:email_normalized}')
                ->chunkById(${3:1000}, function (\\$rows) {
                    DB::table('$1')
                        ->whereIn('id', \\$rows->pluck('id'))
                        ->update(['$2' => DB::raw('${4:lower(email)}')]);
                });$0
            """
        ),
        documentation=doc(
            """
            Updates the rows in chunks of bounded size, one set-based UPDATE per chunk, instead
            of one UPDATE over the whole table that locks every row until it commits
            (`unbatched-data-update`) or one query per row (`row-by-row-data-migration`).

            Put a backfill in a migration of its own, after the one adding the column
            (`mixed-schema-and-data-change`), ideally with `public $withinTransaction = false;`
            so that each chunk commits on its own.
            """
        ),
        avoids=("unbatched-data-update", "row-by-row-data-migration"),
    ),
    Snippet(
        prefix="mig-foreign-key",
        label="Foreign key NOT VALID, then VALIDATE",
        tools=LARAVEL,
        context="step",
        dialects=PG,
        detail="ADD CONSTRAINT ... NOT VALID and VALIDATE CONSTRAINT as two commits",
        body=body(
            """
            // Needs `public \\$withinTransaction = false;`: VALIDATE runs after the ADD commits.
            DB::statement(<<<'SQL'
                ALTER TABLE ${1:posts} ADD CONSTRAINT $1_${2:team_id}_foreign
                    FOREIGN KEY ($2) REFERENCES ${3:teams} (${4:id}) NOT VALID
                SQL);
            DB::statement('ALTER TABLE $1 VALIDATE CONSTRAINT $1_$2_foreign');$0
            """
        ),
        documentation=doc(
            """
            `$table->foreign(...)` / `->constrained()` on an existing table checks every row
            while blocking writes to both tables (`foreign-key-without-not-valid`). Adding the
            constraint NOT VALID takes that lock only for a moment; `VALIDATE CONSTRAINT` then
            scans without blocking writes, once the ADD has committed: hence
            `public $withinTransaction = false;` on the class (each statement commits alone).
            The name follows Laravel's (`<table>_<column>_foreign`), so `down()` can use
            `$table->dropForeign('<table>_<column>_foreign');`.
            """
        ),
        avoids=("foreign-key-without-not-valid",),
    ),
    Snippet(
        prefix="mig-not-null",
        label="Make a column NOT NULL safely",
        tools=LARAVEL,
        context="step",
        dialects=PG,
        detail="CHECK (... IS NOT NULL) NOT VALID, VALIDATE, SET NOT NULL, drop the CHECK",
        body=body(
            """
            // Needs `public \\$withinTransaction = false;`: VALIDATE runs after the ADD commits.
            DB::statement(<<<'SQL'
                ALTER TABLE ${1:users} ADD CONSTRAINT $1_${2:email}_not_null
                    CHECK ($2 IS NOT NULL) NOT VALID
                SQL);
            DB::statement('ALTER TABLE $1 VALIDATE CONSTRAINT $1_$2_not_null');
            DB::statement('ALTER TABLE $1 ALTER COLUMN $2 SET NOT NULL');
            DB::statement('ALTER TABLE $1 DROP CONSTRAINT $1_$2_not_null');$0
            """
        ),
        documentation=doc(
            """
            `->nullable(false)->change()` makes PostgreSQL scan the whole table under an ACCESS
            EXCLUSIVE lock (`set-not-null-on-existing-column`). A CHECK constraint added NOT
            VALID and validated separately proves there are no NULLs without that lock; from
            PostgreSQL 12, SET NOT NULL then uses it and skips the scan, and the CHECK can go.
            `down()`: `DB::statement('ALTER TABLE <table> ALTER COLUMN <column> DROP NOT NULL');`.
            """
        ),
        avoids=("set-not-null-on-existing-column",),
    ),
    Snippet(
        prefix="mig-add-column",
        label="Nullable column",
        tools=LARAVEL,
        context="statement",
        detail="A nullable column in a Blueprint closure",
        body=body(
            """
            \\$table->${1|string,text,integer,bigInteger,boolean,jsonb,timestampTz|}('${2:nickname}')->nullable();$0
            """
        ),
        documentation=doc(
            """
            A column existing rows can leave empty: a NOT NULL column without a default fails
            on a table that has rows (`add-not-null-column-without-default`). Backfill it in a
            later migration (`mig-backfill`), then make it NOT NULL (`mig-not-null`).
            """
        ),
        avoids=("add-not-null-column-without-default",),
    ),
    Snippet(
        prefix="mig-foreign-id",
        label="Foreign id column (new table)",
        tools=LARAVEL,
        context="statement",
        detail="foreignId(...)->constrained() with its index, for a table created here",
        body=body(
            """
            \\$table->foreignId('${1:user_id}')->constrained()->${2|cascadeOnDelete,restrictOnDelete,nullOnDelete|}();
            \\$table->index('$1');$0
            """
        ),
        documentation=doc(
            """
            A foreign key column with an index on it: PostgreSQL does not index foreign keys by
            itself, and deleting a referenced row then scans the whole table
            (`foreign-key-without-index`). Use it in `Schema::create`: on an existing table the
            constraint blocks writes while it checks every row (`foreign-key-without-not-valid`);
            use `mig-foreign-key` there.
            """
        ),
        avoids=("foreign-key-without-index",),
    ),
)


# --------------------------------------------------------------------------- context

_STEP = re.compile(r"function\s+(?:up|down)\s*\([^)]*\)\s*(?::\s*\??\w+\s*)?\Z", re.IGNORECASE)
_BLUEPRINT = re.compile(
    r"function\s*\(\s*(?:\\?[\w\\]*Blueprint\s+)?\$\w+\s*\)\s*(?:use\s*\([^)]*\)\s*)?\Z"
)
_CONTROL = re.compile(
    r"(?:\}\s*)?(?:if|elseif|else|foreach|for|while|do|try|catch|finally|else\s+if)\b",
    re.IGNORECASE,
)
_HEREDOC = re.compile(r"<<<[ \t]*(['\"]?)([A-Za-z_]\w*)\1")
_REST = re.compile(r"\s*(?://.*|#.*)?\Z")


@dataclass(slots=True)
class _Bracket:
    char: str
    indent: int
    header: str
    """The code of the statement before a `{` (strings blanked)."""


@dataclass(slots=True)
class _State:
    brackets: list[_Bracket] = field(default_factory=list)
    inside: bool = False
    """In a string, heredoc or comment."""
    last: str = ""
    """The last code character."""
    code: bool = False
    """Any code besides `<?php`."""


def _scan(source: str) -> _State:
    state = _State()
    statement: list[str] = []
    i, n = 0, len(source)
    line_indent = 0
    at_line_start = True
    while i < n:
        char = source[i]
        if at_line_start:
            j = i
            while j < n and source[j] in " \t":
                j += 1
            line_indent = len(source[i:j].expandtabs(4))
            at_line_start = False
            i = j
            continue
        if char == "\n":
            at_line_start = True
            statement.append(" ")
            i += 1
            continue
        if source.startswith("<?php", i):
            i += 5
            continue
        if source.startswith("?>", i):
            i += 2
            continue
        if char == "#" or source.startswith("//", i):
            end = source.find("\n", i)
            if end == -1:
                state.inside = True
                return state
            i = end
            continue
        if source.startswith("/*", i):
            end = source.find("*/", i + 2)
            if end == -1:
                state.inside = True
                return state
            i = end + 2
            continue
        heredoc = _HEREDOC.match(source, i) if char == "<" else None
        if heredoc is not None:
            closing = re.compile(rf"^[ \t]*{heredoc.group(2)}\b", re.MULTILINE)
            found = closing.search(source, source.find("\n", i) + 1 if "\n" in source[i:] else n)
            if found is None or source.find("\n", i) == -1:
                state.inside = True
                return state
            statement.append("''")
            state.last, state.code = "'", True
            i = found.end()
            continue
        if char in "'\"`":
            j = i + 1
            while j < n and source[j] != char:
                j += 2 if source[j] == "\\" else 1
            if j >= n:
                state.inside = True
                return state
            statement.append("''")
            state.last, state.code = "'", True
            i = j + 1
            continue
        if char in "([{":
            header = "".join(statement).strip()
            state.brackets.append(_Bracket(char, line_indent, header))
            statement = [] if char == "{" else [*statement, char]
        elif char in ")]}":
            if state.brackets:
                state.brackets.pop()
            if char == "}":
                statement = []
            else:
                statement.append(char)
        elif char == ";":
            statement = []
        else:
            statement.append(char)
        if not char.isspace():
            state.last = char
            state.code = True
        i += 1
    return state


def completion_context(text: str, start: int, end: int, language: str) -> SnippetContext | None:
    """`file`, `step`, `statement` (Blueprint closure) or None at the word `[start, end)`."""
    if language != "php":
        return None
    rest = text[end : (text.find("\n", end) + 1 or len(text) + 1) - 1]
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
    indent = len(prefix.expandtabs(4))
    abandoned = False
    while (
        state.brackets and state.brackets[-1].char in "([" and state.brackets[-1].indent >= indent
    ):
        state.brackets.pop()  # an unclosed call above: half-typed code
        abandoned = True
    if not abandoned and state.last not in ("{", ";", "}"):
        return None
    for bracket in reversed(state.brackets):
        if bracket.char != "{":
            return None
        header = bracket.header
        if _STEP.search(header):
            return "step"
        if _BLUEPRINT.search(header):
            return "statement"
        if not _CONTROL.match(header):
            return None
    return None
