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

from .base import Builder
from .concurrently import run_outside_transaction, use_concurrently
from .downgrade import add_downgrade
from .text import apply_edits

__all__ = ["BUILDERS", "FIX_NAMES", "apply_edits", "fix_for"]

log = logging.getLogger(__name__)

BUILDERS: dict[str, Builder] = {
    "missing-downgrade": add_downgrade,
    "empty-downgrade": add_downgrade,
    "non-concurrent-index": use_concurrently,
    "non-concurrent-index-drop": use_concurrently,
    "concurrent-index-in-transaction": run_outside_transaction,
}
"""Rule id → the builder of its quick fix."""

FIX_NAMES: dict[str, str] = {
    "missing-downgrade": "add-downgrade",
    "empty-downgrade": "add-downgrade",
    "non-concurrent-index": "use-concurrently",
    "non-concurrent-index-drop": "use-concurrently",
    "concurrent-index-in-transaction": "run-outside-transaction",
}
"""Rule id → the fix name the rule declares (`Rule.fix`), for the rules that have a builder."""


def fix_for(finding: Finding, migration: Migration) -> Fix | None:
    """The quick fix for one finding of the engine on `migration` (None when there is none)."""
    builder = BUILDERS.get(finding.rule)
    if builder is None or migration.problems:
        return None
    try:
        fix = builder(finding, migration)
    except Exception:  # a broken fix must not take the code-action request down
        log.exception("internal error in the fix for %s on %s", finding.rule, migration.path)
        return None
    if fix is None or not fix.edits:
        return fix
    if not _valid(migration, fix.edits):
        log.warning("fix for %s on %s dropped: invalid result", finding.rule, migration.path)
        return None
    return fix


def _valid(migration: Migration, edits: list[Edit]) -> bool:
    """The edits apply, and a Python file still parses afterwards."""
    try:
        result = apply_edits(migration.text, edits)
    except ValueError:
        return False
    if migration.language != "python":
        return True
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            ast.parse(result)
    except (SyntaxError, ValueError):
        return False
    return True
