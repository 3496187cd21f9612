"""Rails snippets: migration files as `bin/rails generate migration` writes them, and the safe
form of common steps for `change` / `up` / `down` (the strong_migrations recipes); and where to
offer them.

Contexts: `file` in an empty file (whitespace and comments only); `step` at the start of a
statement line inside `def change`, `def up` or `def down` (also `self.up` / `self.down`, and
inside blocks there such as `reversible`, `up_only` or `safety_assured`, but not inside a
`create_table` / `change_table` block, whose statements are `t.*` calls). Found by scanning the
text before the cursor (strings, heredocs, comments, brackets) and the indentation of the lines
above it, never by parsing: the file is being typed.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from migration_lsp.snippets.model import PG, Snippet, SnippetContext, body, doc

RAILS = frozenset({"rails"})
_VERSION = "${2:7.1}"

SNIPPETS: tuple[Snippet, ...] = (
    Snippet(
        prefix="mig-file",
        label="New Rails migration",
        tools=RAILS,
        context="file",
        detail="Migration class as `bin/rails generate migration` writes it, with change",
        body=body(
            f"""
            class ${{1:AddEmailToUsers}} < ActiveRecord::Migration[{_VERSION}]
              def change
                $0
              end
            end
            """
        ),
        documentation=doc(
            """
            A migration as `bin/rails generate migration AddEmailToUsers` writes it. The file
            name must be `<UTC timestamp>_<class name in snake_case>.rb` in `db/migrate`, or
            Rails refuses to run it.

            Rails rolls a `change` method back by inverting each call. For calls it cannot
            invert (`execute`, `change_column`, `remove_column` without the type) write `up`
            and `down` instead, or `rails db:rollback` stops with
            ActiveRecord::IrreversibleMigration (`irreversible-change`).
            """
        ),
        avoids=("irreversible-change",),
    ),
    Snippet(
        prefix="mig-file-index-concurrently",
        label="New migration adding an index concurrently",
        tools=RAILS,
        context="file",
        dialects=PG,
        detail="disable_ddl_transaction! and add_index with algorithm: :concurrently",
        body=body(
            f"""
            class ${{1:AddIndexToUsersEmail}} < ActiveRecord::Migration[{_VERSION}]
              disable_ddl_transaction!

              def change
                add_index :${{3:users}}, :${{4:email}}, algorithm: :concurrently$0
              end
            end
            """
        ),
        documentation=doc(
            """
            Builds the index with `CREATE INDEX CONCURRENTLY`: writes to the table continue
            while it builds (`non-concurrent-index`). PostgreSQL refuses CONCURRENTLY inside a
            transaction block, and Rails runs every migration in one unless the class says
            `disable_ddl_transaction!` (`concurrent-index-in-transaction`). Keep the index alone
            in this migration: nothing else in it is rolled back if a step fails.
            """
        ),
        avoids=("non-concurrent-index", "concurrent-index-in-transaction"),
    ),
    Snippet(
        prefix="mig-file-batch-update",
        label="New migration backfilling a column in batches",
        tools=RAILS,
        context="file",
        detail="in_batches over a model defined in the migration, outside a transaction",
        body=body(
            f"""
            class ${{1:BackfillUsersStatus}} < ActiveRecord::Migration[{_VERSION}]
              disable_ddl_transaction!

              class ${{3:User}} < ActiveRecord::Base
                self.table_name = "${{4:users}}"
              end

              def up
                $3.unscoped.in_batches(of: ${{5:1000}}) do |batch|
                  batch.where(${{6:status}}: nil).update_all($6: ${{7:"active"}})
                  sleep(0.01)
                end$0
              end

              def down
                # nothing to undo: the backfill only fills values that were empty
              end
            end
            """
        ),
        documentation=doc(
            """
            Backfills a column added by an earlier migration, one batch of rows at a time:
            each `update_all` commits on its own (`disable_ddl_transaction!`), so row locks
            are held for one batch only and the table stays writable
            (`unbatched-data-update`). The data change has a migration of its own, apart from
            the schema change (`mixed-schema-and-data-change`).

            The model class is defined inside the migration, so the migration keeps working
            when the application's `User` model changes later.
            """
        ),
        avoids=("unbatched-data-update", "mixed-schema-and-data-change"),
    ),
    Snippet(
        prefix="mig-create-table",
        label="Create table",
        tools=RAILS,
        context="step",
        detail="create_table with a bigint id, a NOT NULL column and timestamps",
        body=body(
            """
            create_table :${1:posts} do |t|
              t.${2|string,text,integer,bigint,boolean,jsonb,uuid|} :${3:title}, null: false
              t.references :${4:user}, null: false, foreign_key: true

              t.timestamps
            end$0
            """
        ),
        documentation=doc(
            """
            Creates a table the way the model generator does: a `bigint` `id` primary key, a
            reference with its index and foreign key, and `created_at` / `updated_at`.

            A new table is empty, so its NOT NULL columns, indexes and foreign keys need none of
            the precautions an existing table needs. Rails reverses it with `drop_table`.
            """
        ),
    ),
    Snippet(
        prefix="mig-add-column",
        label="Add column (nullable)",
        tools=RAILS,
        context="step",
        detail="add_column without NOT NULL: no table rewrite, no failure on existing rows",
        body=body(
            """
            add_column :${1:users}, :${2:nickname}, :${3|string,text,integer,boolean,jsonb|}$0
            """
        ),
        documentation=doc(
            """
            Adds a nullable column: existing rows get NULL, no rewrite, a lock held only for an
            instant. Adding it `null: false` without a default fails on a table that has rows
            (`add-not-null-column-without-default`): add it nullable, backfill it, then make it
            NOT NULL (`mig-not-null-check`, `mig-set-not-null`).
            """
        ),
        avoids=("add-not-null-column-without-default",),
    ),
    Snippet(
        prefix="mig-add-column-default",
        label="Add column with a constant default",
        tools=RAILS,
        context="step",
        detail="add_column with default: and null: false (no rewrite on PostgreSQL 11+)",
        body=body(
            """
            add_column :${1:users}, :${2:active}, :${3:boolean}, default: ${4:true}, null: false$0
            """
        ),
        documentation=doc(
            """
            A constant default is stored once in the catalogue since PostgreSQL 11: existing
            rows read it without a table rewrite, so the column can be NOT NULL at once
            (`add-not-null-column-without-default`). Keep the default constant: a volatile one
            such as `-> { "gen_random_uuid()" }` rewrites the whole table
            (`add-column-volatile-default`).
            """
        ),
        avoids=("add-not-null-column-without-default", "add-column-volatile-default"),
    ),
    Snippet(
        prefix="mig-add-column-backfill",
        label="Add column, default for new rows, backfill later",
        tools=RAILS,
        context="step",
        dialects=PG,
        detail="add_column, then change_column_default; backfill in the next migration",
        body=body(
            """
            add_column :${1:users}, :${2:status}, :${3:string}
            change_column_default :$1, :$2, from: nil, to: ${4:"active"}$0
            # next migration: backfill existing rows in batches (mig-file-batch-update)
            """
        ),
        documentation=doc(
            """
            Adds the column without a default, then sets the default for new rows only: no
            table rewrite, even for a default that is not constant
            (`add-column-volatile-default`). Existing rows stay NULL until a separate
            migration backfills them in batches (`mig-file-batch-update`): a backfill in this
            migration would hold the ALTER TABLE lock while it runs
            (`mixed-schema-and-data-change`). `from:` / `to:` let Rails reverse the default.
            """
        ),
        avoids=("add-column-volatile-default", "mixed-schema-and-data-change"),
    ),
    Snippet(
        prefix="mig-index-concurrently",
        label="Add index concurrently",
        tools=RAILS,
        context="step",
        dialects=PG,
        detail="add_index with algorithm: :concurrently (needs disable_ddl_transaction!)",
        body=body(
            """
            add_index :${1:users}, :${2:email}, algorithm: :concurrently$0
            """
        ),
        documentation=doc(
            """
            Builds the index without blocking writes (`non-concurrent-index`). The class must
            say `disable_ddl_transaction!` (first line of the class body): PostgreSQL refuses
            CONCURRENTLY inside the transaction Rails wraps migrations in
            (`concurrent-index-in-transaction`). Best alone in its migration
            (`mig-file-index-concurrently`).
            """
        ),
        avoids=("non-concurrent-index", "concurrent-index-in-transaction"),
    ),
    Snippet(
        prefix="mig-foreign-key",
        label="Add foreign key without validating (step 1)",
        tools=RAILS,
        context="step",
        dialects=PG,
        detail="add_foreign_key with validate: false; validate_foreign_key in the next migration",
        body=body(
            """
            add_foreign_key :${1:orders}, :${2:users}, validate: false$0
            # next migration: validate_foreign_key :$1, :$2
            """
        ),
        documentation=doc(
            """
            Adds the foreign key `NOT VALID`: it is enforced for new rows at once, without
            scanning the table while both tables are locked against writes
            (`foreign-key-without-not-valid`). Validate the existing rows in the next
            migration with `validate_foreign_key` (`mig-validate-constraint`), which scans
            without blocking writes.
            """
        ),
        avoids=("foreign-key-without-not-valid",),
    ),
    Snippet(
        prefix="mig-check-constraint",
        label="Add check constraint without validating (step 1)",
        tools=RAILS,
        context="step",
        dialects=PG,
        detail="add_check_constraint with validate: false; validate it in the next migration",
        body=body(
            """
            add_check_constraint :${1:orders}, "${2:total >= 0}",
              name: "${3:orders_total_check}", validate: false$0
            # next migration: validate_check_constraint :$1, name: "$3"
            """
        ),
        documentation=doc(
            """
            Adds the CHECK constraint `NOT VALID`: checked for new and updated rows at once,
            without scanning the table under an ACCESS EXCLUSIVE lock
            (`check-constraint-without-not-valid`). Validate it in the next migration with
            `validate_check_constraint` (`mig-validate-constraint`). Name it: the name is what
            validating and removing it needs.
            """
        ),
        avoids=("check-constraint-without-not-valid",),
    ),
    Snippet(
        prefix="mig-validate-constraint",
        label="Validate a foreign key (step 2)",
        tools=RAILS,
        context="step",
        dialects=PG,
        detail="validate_foreign_key, in the migration after the one that added it",
        body=body(
            """
            validate_foreign_key :${1:orders}, :${2:users}$0
            """
        ),
        documentation=doc(
            """
            Validates a foreign key added with `validate: false` in an earlier migration: the
            scan takes a lock that lets reads and writes continue. In the migration that added
            it, the lock of the ADD would be held for the whole scan
            (`foreign-key-without-not-valid`). A check constraint is validated the same way:
            `validate_check_constraint :orders, name: "orders_total_check"`
            (`check-constraint-without-not-valid`).
            """
        ),
        avoids=("foreign-key-without-not-valid", "check-constraint-without-not-valid"),
    ),
    Snippet(
        prefix="mig-not-null-check",
        label="NOT NULL, step 1: check constraint without validating",
        tools=RAILS,
        context="step",
        dialects=PG,
        detail='add_check_constraint "col IS NOT NULL" with validate: false',
        body=body(
            """
            add_check_constraint :${1:users}, "${2:email} IS NOT NULL",
              name: "${3:users_email_null}", validate: false$0
            # next migration: mig-set-not-null
            """
        ),
        documentation=doc(
            """
            First migration of a safe `change_column_null ..., false`: a CHECK constraint
            `NOT VALID` holds new rows to NOT NULL at once without scanning the table
            (`set-not-null-on-existing-column`, `check-constraint-without-not-valid`). The
            next migration (`mig-set-not-null`) validates it and sets NOT NULL.
            """
        ),
        avoids=("set-not-null-on-existing-column", "check-constraint-without-not-valid"),
    ),
    Snippet(
        prefix="mig-set-not-null",
        label="NOT NULL, step 2: validate, then change_column_null",
        tools=RAILS,
        context="step",
        dialects=PG,
        detail="validate_check_constraint, change_column_null false, remove the check",
        body=body(
            """
            validate_check_constraint :${1:users}, name: "${3:users_email_null}"
            change_column_null :$1, :${2:email}, false
            remove_check_constraint :$1, name: "$3"$0
            """
        ),
        documentation=doc(
            """
            Second migration of the NOT NULL change (after `mig-not-null-check`): validating
            scans without blocking writes, then `change_column_null` takes its ACCESS EXCLUSIVE
            lock only for a moment, because PostgreSQL 12+ sees the validated CHECK and skips
            its own scan (`set-not-null-on-existing-column`). The redundant CHECK goes last.
            Use `up`/`down` if this must be reversible: `remove_check_constraint` without the
            expression cannot be inverted.
            """
        ),
        avoids=("set-not-null-on-existing-column",),
    ),
    Snippet(
        prefix="mig-remove-column",
        label="Remove column safely",
        tools=RAILS,
        context="step",
        detail="remove_column with its type, after ignored_columns was deployed",
        body=body(
            """
            # Deployed first: self.ignored_columns += ["${2:legacy_code}"] in the ${3:User} model
            safety_assured { remove_column :${1:users}, :$2, :${4:string} }$0
            """
        ),
        documentation=doc(
            """
            Active Record caches a table's columns: a running app whose model still knows the
            column fails on every insert once it is gone (`drop-column`). Deploy
            `self.ignored_columns += ["legacy_code"]` in the model first, then this migration;
            `safety_assured` records that this was done (strong_migrations and migration-lsp
            accept it). Giving the column type lets Rails re-create the column on rollback
            (`irreversible-change`); the data itself does not come back.
            """
        ),
        avoids=("drop-column", "irreversible-change"),
    ),
    Snippet(
        prefix="mig-batch-update",
        label="Backfill in batches",
        tools=RAILS,
        context="step",
        detail="Model.unscoped.in_batches with update_all per batch",
        body=body(
            """
            ${1:User}.unscoped.in_batches(of: ${2:1000}) do |batch|
              batch.where(${3:status}: nil).update_all($3: ${4:"active"})
              sleep(0.01)
            end$0
            """
        ),
        documentation=doc(
            """
            Updates the rows one batch at a time instead of in one statement over the whole
            table (`unbatched-data-update`). Give it a migration of its own with
            `disable_ddl_transaction!` (`mig-file-batch-update`), so that each batch commits
            by itself and nothing else waits for the backfill
            (`mixed-schema-and-data-change`).
            """
        ),
        avoids=("unbatched-data-update",),
    ),
)


# --------------------------------------------------------------------------- context

_STEP_METHOD = re.compile(r"def\s+(?:self\.)?(?:change|up|down)\s*(?:#.*)?$")
_TABLE_BLOCK = re.compile(r"\b(?:create_table|change_table|create_join_table)\b")
_OPENER = re.compile(
    r"^(?:def|class|module|if|unless|while|until|case|begin|for)\b|\bdo(?:\s*\|[^|]*\|)?\s*(?:#.*)?$"
    r"|\{\s*(?:\|[^|]*\|)?\s*(?:#.*)?$"
)
_REST = re.compile(r"\s*(?:#.*)?\Z")
_HEREDOC = re.compile(r"<<([~-]?)(['\"`]?)([A-Za-z_]\w*)\2")
_PERCENT = re.compile(r"%[qQwWiI]?([(\[{<|!/])")
_CLOSING = {"(": ")", "[": "]", "{": "}", "<": ">"}


@dataclass(slots=True)
class _State:
    """What the scan of the text before the cursor found."""

    inside: bool = False
    """In a string, heredoc, comment or `=begin` block."""
    brackets: list[tuple[str, int]] = field(default_factory=list)
    """Open `(` / `[`, with the indentation of their line."""
    code: bool = False
    lines: list[tuple[int, str]] = field(default_factory=list)
    """(indentation, code) of each complete line with code, strings blanked."""


def _scan(source: str) -> _State:
    """Scan Ruby source up to the cursor: strings (with `#{}`), heredocs, `%` literals,
    comments, `=begin`/`=end`, and brackets, with the recovery rule of the Python scanner (an
    unclosed bracket is abandoned once a later line starts at or left of it)."""
    state = _State()
    heredocs: list[tuple[str, bool]] = []
    lines = source.split("\n")
    in_doc = False
    quote: str | None = None
    for number, line in enumerate(lines):
        last = number == len(lines) - 1
        if heredocs:
            ident, squiggly = heredocs[0]
            if (line.strip() if squiggly else line) == ident:
                heredocs.pop(0)
            if last:
                state.inside = True
            continue
        if in_doc:
            in_doc = not line.startswith("=end")
            state.inside = last
            continue
        if quote is None and line.startswith("=begin"):
            in_doc = True
            state.inside = last
            continue
        indent = len(line) - len(line.lstrip(" \t"))
        if quote is None and (line.strip() or last):
            closing = line.strip()[:1] in (")", "]")
            while state.brackets and state.brackets[-1][1] >= indent and not closing:
                state.brackets.pop()  # an unclosed bracket above: abandoned half-typed code
        code, quote, comment = _scan_line(line, quote, state, indent, heredocs)
        if last:
            state.inside = quote is not None or comment
        elif code.strip() and quote is None:
            state.lines.append((indent, code.strip()))
        if code.strip():
            state.code = True
    return state


def _scan_line(
    line: str,
    quote: str | None,
    state: _State,
    indent: int,
    heredocs: list[tuple[str, bool]],
) -> tuple[str, str | None, bool]:
    """One line: its code with strings blanked, the quote still open at its end, and whether
    it ends in a comment."""
    code: list[str] = []
    i, n = 0, len(line)
    while i < n:
        char = line[i]
        if quote is not None:
            if char == "\\":
                i += 2
                continue
            if char == quote:
                quote = None
                code.append('""')
            i += 1
            continue
        if char == "#":
            return "".join(code), None, True
        if char in "'\"`":
            quote = char
            i += 1
            continue
        heredoc = _HEREDOC.match(line, i) if char == "<" else None
        if heredoc is not None:
            heredocs.append((heredoc.group(3), heredoc.group(1) != ""))
            code.append('""')
            i = heredoc.end()
            continue
        percent = _PERCENT.match(line, i) if char == "%" else None
        if percent is not None and (not code or not "".join(code).rstrip()[-1:].isalnum()):
            opener = percent.group(1)
            closer = _CLOSING.get(opener, opener)
            end = line.find(closer, percent.end())
            if end == -1:
                return "".join(code), closer, False
            code.append('""')
            i = end + 1
            continue
        if char in "([":
            state.brackets.append((char, indent))
        elif char in ")]" and state.brackets:
            state.brackets.pop()
        code.append(char)
        i += 1
    return "".join(code), quote, False


def _enclosing(lines: list[tuple[int, str]], indent: int) -> list[str]:
    """The block openers around a line at `indent`, innermost first (by indentation)."""
    chain: list[str] = []
    current = indent
    for line_indent, code in reversed(lines):
        if line_indent >= current:
            continue
        chain.append(code)
        current = line_indent
        if current == 0:
            break
    return chain


def completion_context(text: str, start: int, end: int, language: str) -> SnippetContext | None:
    """`file`, `step` or None for the word `[start, end)` of a Ruby migration (module
    docstring)."""
    if language != "ruby":
        return None
    newline = text.find("\n", end)
    if not _REST.match(text[end : len(text) if newline == -1 else newline]):
        return None
    prefix = text[text.rfind("\n", 0, start) + 1 : start]
    state = _scan(text[:start])
    if state.inside:
        return None
    if not _scan(text[:start] + text[end:]).code:
        return "file" if prefix == "" else None
    if prefix.strip() or state.brackets:
        return None
    chain = _enclosing(state.lines, len(prefix.expandtabs(8)))
    for position, opener in enumerate(chain):
        if not _OPENER.search(opener):
            return None  # a continuation line, not a block
        if _TABLE_BLOCK.search(opener):
            return None
        if _STEP_METHOD.match(opener):
            outer = chain[position + 1 :]
            return "step" if outer and outer[0].startswith("class") else None
        if opener.startswith(("def", "class", "module")):
            return None
    return None
