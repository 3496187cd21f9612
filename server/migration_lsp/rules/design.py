"""Schema design rules: types and keys a new table should use (several off by default)."""

from __future__ import annotations

from migration_lsp.rules.base import Rule

RULES: tuple[Rule, ...] = ()
"""This module's rules, in catalogue order; `registry.RULES` includes them."""
