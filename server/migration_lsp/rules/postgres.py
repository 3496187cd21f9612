"""PostgreSQL statement rules: maintenance, partitions, enums, domains, transactions."""

from __future__ import annotations

from migration_lsp.rules.base import Rule

RULES: tuple[Rule, ...] = ()
"""This module's rules, in catalogue order; `registry.RULES` includes them."""
