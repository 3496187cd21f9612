"""Quick fixes: edits computed from the current text of a migration for one finding.

`fix_for(finding, migration)` looks the builder up by the finding's rule id in `BUILDERS` (a table
to grep, like the rule registry) and returns a `Fix` whose edits are expressed against the
original text and never overlap, or None when no edit is right for that case. Fixes are computed
when the editor asks for code actions, not on every keystroke.

One module per fix family: `downgrade` (add-downgrade), `concurrently` (use-concurrently,
run-outside-transaction), with `sql` and `django` edit helpers and `python`/`text` for layout.
"""

from __future__ import annotations

import ast
import logging
import warnings

from migration_lsp.findings import Edit, Finding, Fix
from migration_lsp.model import Migration
from migration_lsp.parse.treesitter import Grammar

from .base import Builder
from .concurrently import enum_outside_transaction, run_outside_transaction, use_concurrently
from .constraints import CONSTRAINT_BUILDERS, CONSTRAINT_FIX_NAMES
from .downgrade import add_downgrade, complete_downgrade
from .knex import KNEX_BUILDERS
from .laravel import LARAVEL_BUILDERS
from .liquibase import LIQUIBASE_BUILDERS
from .merge import MERGE_BUILDERS, MERGE_FIX_NAMES
from .pycode import PYCODE_BUILDERS, PYCODE_FIX_NAMES
from .rails import RAILS_BUILDERS
from .sequelize import SEQUELIZE_BUILDERS
from .statements import STATEMENT_BUILDERS, STATEMENT_FIX_NAMES
from .text import apply_edits
from .timeouts import TIMEOUT_BUILDERS, TIMEOUT_FIX_NAMES
from .typeorm import TYPEORM_BUILDERS

__all__ = ["BUILDERS", "FIX_NAMES", "TOOL_BUILDERS", "apply_edits", "fix_for", "fixes_for"]

log = logging.getLogger(__name__)

_GRAMMARS: dict[str, Grammar] = {
    "ruby": "ruby",
    "php": "php",
    "javascript": "javascript",
    "typescript": "typescript",
    "xml": "xml",
}
"""Languages whose fixed text is re-parsed: a fix must not leave a syntax error behind."""

BUILDERS: dict[str, Builder] = {
    "missing-downgrade": add_downgrade,
    "empty-downgrade": add_downgrade,
    "incomplete-downgrade": complete_downgrade,
    "non-concurrent-index": use_concurrently,
    "non-concurrent-index-drop": use_concurrently,
    "concurrent-index-in-transaction": run_outside_transaction,
    "enum-add-value-in-transaction": enum_outside_transaction,
    **PYCODE_BUILDERS,
    **CONSTRAINT_BUILDERS,
    **TIMEOUT_BUILDERS,
    **STATEMENT_BUILDERS,
    **MERGE_BUILDERS,
}
"""Rule id → the builder of its quick fix."""

FIX_NAMES: dict[str, str] = {
    "missing-downgrade": "add-downgrade",
    "empty-downgrade": "add-downgrade",
    "incomplete-downgrade": "complete-downgrade",
    "non-concurrent-index": "use-concurrently",
    "non-concurrent-index-drop": "use-concurrently",
    "concurrent-index-in-transaction": "run-outside-transaction",
    "enum-add-value-in-transaction": "run-outside-transaction",
    **PYCODE_FIX_NAMES,
    **CONSTRAINT_FIX_NAMES,
    **TIMEOUT_FIX_NAMES,
    **STATEMENT_FIX_NAMES,
    "irreversible-change": "convert-to-up-down",
    "changeset-without-rollback": "add-rollback",
    **MERGE_FIX_NAMES,
}
"""Rule id → the fix name the rule declares (`Rule.fix`), for the rules that have a builder."""

TOOL_BUILDERS: dict[str, dict[str, Builder]] = {
    "laravel": LARAVEL_BUILDERS,
    "liquibase": LIQUIBASE_BUILDERS,
    "rails": RAILS_BUILDERS,
    "knex": KNEX_BUILDERS,
    "sequelize": SEQUELIZE_BUILDERS,
    "typeorm": TYPEORM_BUILDERS,
}
"""Tool → rule id → builder, for the tools whose files are not Python or plain SQL (Rails,
Laravel, Knex, ...): their fixes are written in the tool's own idiom, so for these tools only
this table is consulted (a tool's builder may delegate to `BUILDERS` for SQL text)."""


def fixes_for(finding: Finding, migration: Migration) -> list[Fix]:
    """Every quick fix for one finding, the preferred one first (a builder may offer
    alternatives, e.g. a server default or a three-migration split)."""
    if migration.tool in TOOL_BUILDERS:
        builder = TOOL_BUILDERS[migration.tool].get(finding.rule)
    else:
        builder = BUILDERS.get(finding.rule)
    if builder is None or migration.problems:
        return []
    try:
        built = builder(finding, migration)
    except Exception:  # a broken fix must not take the code-action request down
        log.exception("internal error in the fix for %s on %s", finding.rule, migration.path)
        return []
    candidates = [] if built is None else built if isinstance(built, list) else [built]
    fixes = []
    for fix in candidates:
        if (fix.edits and not _valid(migration, fix.edits)) or not _valid_files(fix):
            log.warning("fix for %s on %s dropped: invalid result", finding.rule, migration.path)
            continue
        fixes.append(fix)
    return fixes


def fix_for(finding: Finding, migration: Migration) -> Fix | None:
    """The preferred quick fix for one finding (None when there is none)."""
    fixes = fixes_for(finding, migration)
    return fixes[0] if fixes else None


def _valid_files(fix: Fix) -> bool:
    """New Python migration files a fix creates must parse too."""
    for new in fix.files:
        if not new.path.endswith(".py"):
            continue
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                ast.parse(new.text)
        except (SyntaxError, ValueError):
            return False
    return True


def _valid(migration: Migration, edits: list[Edit]) -> bool:
    """The edits apply, and a Python file still parses afterwards."""
    try:
        result = apply_edits(migration.text, edits)
    except ValueError:
        return False
    if migration.language in _GRAMMARS:
        from migration_lsp.parse.treesitter import TreeSource

        return not TreeSource(result, _GRAMMARS[migration.language]).root.has_error
    if migration.language != "python":
        return True
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            ast.parse(result)
    except (SyntaxError, ValueError):
        return False
    return True
