"""Fixes to Python migration code: execute results, bound parameters, reverse steps,
server defaults."""

from __future__ import annotations

from .base import Builder

PYCODE_BUILDERS: dict[str, Builder] = {}
"""Rule id → builder, merged into `BUILDERS`."""

PYCODE_FIX_NAMES: dict[str, str] = {}
"""Rule id → the fix name the rule declares (`Rule.fix`)."""
