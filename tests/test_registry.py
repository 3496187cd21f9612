"""The rule registry is the one list of rules: complete, unique, documented."""

from __future__ import annotations

import importlib
import pkgutil
import re
from pathlib import Path

import pytest

import migration_lsp.rules
from migration_lsp import rulesdoc
from migration_lsp.rules.base import Rule
from migration_lsp.rules.registry import BY_ID, RULES

CATALOGUE = Path(__file__).resolve().parents[2] / "shared" / "RULES.md"
SECTIONS = (
    "## What it does",
    "## Why is this bad?",
    "## Example",
    "## Use instead",
    "## Fix safety",
)


def defined_rules() -> list[Rule]:
    found = []
    for module_info in pkgutil.iter_modules(migration_lsp.rules.__path__):
        module = importlib.import_module(f"migration_lsp.rules.{module_info.name}")
        found.extend(v for v in vars(module).values() if isinstance(v, Rule))
    return found


def test_every_rule_defined_is_registered_once() -> None:
    defined = {r.id for r in defined_rules()}
    registered = [r.id for r in RULES]
    assert len(registered) == len(set(registered))
    assert defined == set(registered)


def test_every_rule_is_documented_in_the_fixed_sections() -> None:
    for rule in RULES:
        positions = [rule.doc.find(section) for section in SECTIONS]
        assert all(p >= 0 for p in positions), (rule.id, positions)
        assert positions == sorted(positions), rule.id
        assert re.fullmatch(r"[a-z]+(-[a-z]+)*", rule.id)


def test_rule_ids_come_from_the_catalogue() -> None:
    if not CATALOGUE.exists():  # the shared catalogue sits beside the checkout
        pytest.skip(f"no rule catalogue at {CATALOGUE}")
    catalogue_ids = set(re.findall(r"^\| ([a-z][a-z-]+) \|", CATALOGUE.read_text(), re.M))
    assert set(BY_ID) <= catalogue_ids, set(BY_ID) - catalogue_ids


def test_rule_reference_pages_are_up_to_date() -> None:
    """docs/rules/ is generated from the rule definitions; regenerate with
    `python -m migration_lsp.rulesdoc` after changing a rule."""
    docs = Path(__file__).resolve().parents[1] / "docs" / "rules"
    assert rulesdoc.main(["--out", str(docs), "--check"]) == 0
