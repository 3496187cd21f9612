"""Parser and engine fuzzing (issue 10): mutated real migrations of every tool, half-typed
prefixes and random bytes go through decoding, the tool's parser, every rule and every quick
fix. No exception escapes and nothing is logged as an error; a file that does not parse gets
`migration-parse-error` and nothing else; every finding and fix edit lies inside the text; a
broken file in a workspace leaves the other files' findings unchanged.
"""

from __future__ import annotations

import logging
import random
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fuzzing import (
    Chooser,
    check_engine_input,
    make_workspace,
    migration_inputs,
    mutate,
    mutate_bytes,
)
from migration_lsp.engine import Workspace
from migration_lsp.rules.registry import PARSE_ERROR, RULES

INPUTS = migration_inputs()
TOOLS = sorted({project.tool for _, project in INPUTS})
FUZZ = settings(
    derandomize=True,
    database=None,
    deadline=None,
    suppress_health_check=list(HealthCheck),
)


@contextmanager
def no_errors_logged() -> Iterator[list[str]]:
    """Fail when anything logs an error (an exception a parser, rule or fix swallowed)."""
    records: list[str] = []

    class Collect(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            if record.levelno >= logging.ERROR:
                records.append(self.format(record))

    handler = Collect()
    root = logging.getLogger()
    root.addHandler(handler)
    try:
        yield records
    finally:
        root.removeHandler(handler)
    assert records == [], records[0]


def chooser(data: st.DataObject) -> Chooser:
    return Chooser(lambda _w, low, high: data.draw(st.integers(min_value=low, max_value=high)))


def test_the_fuzzed_inputs_cover_every_tool() -> None:
    assert {
        "alembic",
        "django",
        "flyway",
        "prisma",
        "rails",
        "laravel",
        "knex",
        "sequelize",
        "typeorm",
        "liquibase",
        "golang-migrate",
        "dbmate",
        "goose",
        "sql",
    } <= set(TOOLS)
    assert {path.suffix for path, _ in INPUTS} >= {
        ".py",
        ".sql",
        ".rb",
        ".php",
        ".js",
        ".ts",
        ".xml",
        ".yaml",
        ".json",
    }


@settings(FUZZ, max_examples=600)
@given(index=st.integers(min_value=0, max_value=len(INPUTS) - 1), data=st.data())
def test_mutated_migrations_never_escape_the_engine(index: int, data: st.DataObject) -> None:
    path, project = INPUTS[index]
    text = mutate(path.read_text(encoding="utf-8"), chooser(data))
    with no_errors_logged():
        check_engine_input(path, project, text)


@settings(FUZZ, max_examples=300)
@given(index=st.integers(min_value=0, max_value=len(INPUTS) - 1), data=st.data())
def test_damaged_bytes_never_escape_the_engine(index: int, data: st.DataObject) -> None:
    path, project = INPUTS[index]
    damaged = mutate_bytes(path.read_bytes(), chooser(data))
    with no_errors_logged():
        check_engine_input(path, project, damaged)


@settings(FUZZ, max_examples=300)
@given(tool=st.sampled_from(TOOLS), data=st.binary(max_size=3000))
def test_random_bytes_through_every_parser(tool: str, data: bytes) -> None:
    path, project = next((p, proj) for p, proj in INPUTS if proj.tool == tool)
    with no_errors_logged():
        result = check_engine_input(path, project, data)
    if b"\x00" in data[:8192]:
        assert [f.rule for f in result.findings] == [PARSE_ERROR]


@settings(FUZZ, max_examples=200)
@given(tool=st.sampled_from(TOOLS), text=st.text(max_size=400))
def test_random_text_through_every_parser(tool: str, text: str) -> None:
    path, project = next((p, proj) for p, proj in INPUTS if proj.tool == tool)
    with no_errors_logged():
        check_engine_input(path, project, text)


@pytest.mark.parametrize("tool", TOOLS)
def test_half_typed_prefixes_of_every_migration(tool: str) -> None:
    """Every file of the tool cut at about forty places, as it looks while being typed."""
    checked = 0
    for path, project in INPUTS:
        if project.tool != tool:
            continue
        text = path.read_text(encoding="utf-8")
        stride = max(1, len(text) // 40)
        with no_errors_logged():
            for end in range(0, len(text), stride):
                result = check_engine_input(path, project, text[:end])
                assert result.problems <= 1
                checked += 1
    assert checked >= 30


def _non_history(findings: list[Any], paths: set[str]) -> list[tuple[Any, ...]]:
    history = {r.id for r in RULES if r.category == "history"}
    return sorted(
        (f.path, f.rule, f.span.start, f.span.end, f.message)
        for f in findings
        if f.path in paths and f.rule not in history
    )


@pytest.mark.parametrize("seed", range(4))
def test_broken_files_leave_the_rest_of_the_workspace_checked(tmp_path: Path, seed: int) -> None:
    """`migration-lsp check` over a workspace where some files are damaged on disk: it
    finishes, every file is counted, the damaged ones get a parse error or findings, and the
    untouched files get exactly the findings they get in the pristine workspace."""
    pristine = make_workspace(tmp_path / "pristine")
    broken = tmp_path / "broken"
    shutil.copytree(pristine, broken)
    expected = Workspace().check([pristine])
    files = sorted({Path(f).relative_to(pristine) for f in expected.texts})
    rng = random.Random(seed)
    damaged = set(rng.sample(files, 8))
    for relative in damaged:
        target = broken / relative
        chooser_ = Chooser.seeded(seed * 1000 + len(str(relative)))
        if rng.random() < 0.5:
            target.write_bytes(mutate_bytes(target.read_bytes(), chooser_))
        else:
            target.write_text(mutate(target.read_text(encoding="utf-8"), chooser_), "utf-8")
    with no_errors_logged():
        result = Workspace().check([broken])
    assert result.files_checked == expected.files_checked
    untouched = {str(broken / f) for f in files if f not in damaged}
    assert _non_history(result.findings, untouched) == [
        (p.replace(str(pristine), str(broken), 1), *rest)
        for p, *rest in _non_history(expected.findings, {str(pristine / f) for f in files})
        if Path(p).relative_to(pristine) not in damaged
    ]
