"""Rules about the file itself rather than its operations: parse errors and ignore comments."""

from __future__ import annotations

from collections.abc import Iterator

from migration_lsp.findings import Finding
from migration_lsp.model import Severity
from migration_lsp.rules.base import Context, rule


@rule(
    "migration-parse-error",
    summary="The migration file cannot be parsed",
    severity=Severity.ERROR,
    category="history",
    anchors={"squawk": "syntax-error"},
)
def migration_parse_error(ctx: Context) -> Iterator[Finding]:
    """
    ## What it does
    Reports a file that cannot be parsed (a Python or SQL syntax error, bytes that are not UTF-8,
    a binary file), once, at the place of the error. The other rules stay quiet for that file
    until it parses again, so half-typed code does not produce a cascade of findings.

    ## Why is this bad?
    The migration tool will fail on it too; and nothing else in it can be checked.

    ## Example
    ```sql
    -- flyway: db/migration/V5__add_email.sql
    ALTER TABLE users ADD COLUMN email varchar(255;
    ```

    ## Use instead
    ```sql
    -- flyway: db/migration/V5__add_email.sql
    ALTER TABLE users ADD COLUMN email varchar(255);
    ```

    ## Fix safety
    No automatic fix.
    """
    problems = ctx.migration.problems
    if problems:
        first = min(problems, key=lambda p: p.span.start)
        extra = f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""
        yield ctx.finding(first.span, first.message + extra)


@rule(
    "unused-ignore",
    summary="An ignore comment names an unknown rule or suppresses nothing",
    severity=Severity.WARNING,
    category="suppression",
    anchors={"ruff": "RUF100"},
)
def unused_ignore(ctx: Context) -> Iterator[Finding]:
    """
    ## What it does
    Reports a `migration-lsp: ignore[...]` comment that names a rule id that does not exist, or
    that no longer suppresses any finding.

    ## Why is this bad?
    A misspelled id silences nothing while looking like it does; a stale ignore comment hides the
    next real problem on that line.

    ## Example
    The index is built concurrently, so `non-concurrent-index` has nothing to silence:

    ```sql
    -- golang-migrate: db/migrations/000006_index_users_email.up.sql
    CREATE INDEX CONCURRENTLY ix ON users (email);  -- migration-lsp: ignore[non-concurrent-index]
    ```

    ## Use instead
    Remove the comment, or correct the rule id (`migration-lsp rules` lists them):

    ```sql
    -- golang-migrate: db/migrations/000006_index_users_email.up.sql
    CREATE INDEX CONCURRENTLY ix ON users (email);
    ```

    ## Fix safety
    Removing the comment is safe.
    """
    # Computed after every other rule has run, by `suppress.apply`: it needs their findings.
    yield from ()
