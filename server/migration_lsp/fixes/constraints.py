"""Fixes that restructure constraints and NOT NULL changes into their non-blocking forms."""

from __future__ import annotations

from .base import Builder

CONSTRAINT_BUILDERS: dict[str, Builder] = {}
"""Rule id → builder, merged into `BUILDERS`."""

CONSTRAINT_FIX_NAMES: dict[str, str] = {}
"""Rule id → the fix name the rule declares (`Rule.fix`)."""
