"""Rules about the Python code of data migrations: loops, sessions."""

from __future__ import annotations

from migration_lsp.rules.base import Rule

RULES: tuple[Rule, ...] = ()
"""This module's rules, in catalogue order; `registry.RULES` includes them."""
