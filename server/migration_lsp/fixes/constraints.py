"""Fixes that restructure constraints and NOT NULL changes into their non-blocking forms
(PostgreSQL): one module per fix, helpers in `constraints_*`.

- split-not-valid (`constraints_not_valid`): ADD CONSTRAINT ... NOT VALID, then VALIDATE
  CONSTRAINT in another transaction;
- not-null-via-check-constraint (`constraints_not_null`): CHECK (col IS NOT NULL) NOT VALID →
  VALIDATE → SET NOT NULL → DROP the CHECK;
- unique-using-index (`constraints_unique`): CREATE UNIQUE INDEX CONCURRENTLY outside a
  transaction, then ADD CONSTRAINT ... UNIQUE / PRIMARY KEY USING INDEX.
"""

from __future__ import annotations

from .base import Builder
from .constraints_not_null import not_null_via_check_constraint
from .constraints_not_valid import split_not_valid
from .constraints_unique import unique_using_index

CONSTRAINT_BUILDERS: dict[str, Builder] = {
    "foreign-key-without-not-valid": split_not_valid,
    "check-constraint-without-not-valid": split_not_valid,
    "set-not-null-on-existing-column": not_null_via_check_constraint,
    "unique-constraint-without-index": unique_using_index,
}
"""Rule id → builder, merged into `BUILDERS`."""

CONSTRAINT_FIX_NAMES: dict[str, str] = {
    "foreign-key-without-not-valid": "split-not-valid",
    "check-constraint-without-not-valid": "split-not-valid",
    "set-not-null-on-existing-column": "not-null-via-check-constraint",
    "unique-constraint-without-index": "unique-using-index",
}
"""Rule id → the fix name the rule declares (`Rule.fix`)."""
