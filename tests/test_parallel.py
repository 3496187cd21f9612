"""`migration-lsp check` on both cores: the files are parsed and checked in worker processes,
and what is reported (findings, order, texts, every output format, exit codes) is exactly what
one process reports."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from migration_lsp import engine
from migration_lsp.cache import CheckCache
from migration_lsp.cli import main
from migration_lsp.engine import CheckResult, Workspace
from migration_lsp.output import FORMATS
from perf_workspace import generate

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def workspace(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Every example project, the history fixtures and 160 generated migrations of the eight
    most common tools (Django apps with a state to replay among them)."""
    root = tmp_path_factory.mktemp("parallel") / "ws"
    shutil.copytree(ROOT / "examples", root / "examples")
    shutil.copytree(ROOT / "tests" / "fixtures" / "history", root / "history")
    generate(root / "generated", 160)
    return root


@pytest.fixture
def pools(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """How many workers each batch of files was given."""
    used: list[int] = []
    real = engine._run_units

    def recording(units: list[Any], workers: int) -> list[Any]:
        used.append(workers)
        return real(units, workers)

    monkeypatch.setattr(engine, "_run_units", recording)
    return used


def check(paths: list[Path], jobs: int, cache: Path | None = None) -> CheckResult:
    store = CheckCache(cache) if cache is not None else None
    return Workspace(jobs=jobs, cache=store).check(paths)


def assert_same(got: CheckResult, want: CheckResult) -> None:
    assert got.findings == want.findings
    assert got.texts == want.texts
    assert (got.files_checked, got.notes) == (want.files_checked, want.notes)


def test_two_workers_report_what_one_process_reports(workspace: Path, pools: list[int]) -> None:
    want = check([workspace], jobs=1)
    assert len(want.findings) > 300
    got = check([workspace], jobs=2)
    assert pools == [2]
    assert_same(got, want)


def test_with_the_cache_too(workspace: Path, tmp_path: Path, pools: list[int]) -> None:
    want = check([workspace], jobs=1)
    assert_same(check([workspace], jobs=2, cache=tmp_path / "c"), want)
    assert_same(check([workspace], jobs=2, cache=tmp_path / "c"), want)
    assert pools == [2]  # the second run parsed nothing


def test_a_django_app_stays_in_one_worker_in_order(workspace: Path) -> None:
    result = check([workspace / "generated" / "django"], jobs=1)
    jobs: list[engine.Job] = []
    walk = engine._Walk(Workspace(), CheckResult())
    walk.run([workspace / "generated" / "django"], jobs.append)
    fast = engine._FastCheck(Workspace(jobs=2), jobs, walk.listed)
    units = fast._units(fast.items)
    folders = [{i.job.path.parent for i in members} for _, members, _ in units]
    assert all(len(f) == 1 for f in folders)
    assert len(units) == len({next(iter(f)) for f in folders})  # one unit per app
    for _, members, listing in units:
        names = [i.job.path.name for i in members]
        assert names == sorted(names)
        assert listing is not None and set(names) <= set(listing)
    assert result.files_checked == sum(len(m) for _, m, _ in units)


def test_small_runs_stay_in_this_process(workspace: Path, pools: list[int]) -> None:
    check([workspace / "examples" / "ledger"], jobs=2)
    assert pools == [1]


PARENT = os.getpid()
ANALYSE_UNIT = engine._analyse_unit


def dying_worker(*unit: Any) -> Any:
    """Kills the worker process it runs in (the forked workers inherit it by name)."""
    if os.getpid() != PARENT:
        os._exit(3)
    return ANALYSE_UNIT(*unit)


def test_a_worker_that_dies_does_not_lose_findings(
    workspace: Path, monkeypatch: pytest.MonkeyPatch, pools: list[int]
) -> None:
    want = check([workspace], jobs=1)
    monkeypatch.setattr(engine, "_analyse_unit", dying_worker)
    assert_same(check([workspace], jobs=2), want)
    assert pools == [2]


@pytest.fixture
def in_root(monkeypatch: pytest.MonkeyPatch, workspace: Path) -> Iterator[Path]:
    monkeypatch.chdir(workspace)
    yield workspace


@pytest.mark.parametrize("fmt", FORMATS)
def test_every_output_format_and_exit_code_is_unchanged(
    in_root: Path, tmp_path: Path, fmt: str, capsys: pytest.CaptureFixture[str]
) -> None:
    def run(*options: str) -> tuple[int, str, str]:
        code = main(["check", ".", "--format", fmt, "--no-color", *options])
        out, err = capsys.readouterr()
        return code, out, err

    serial = run("--no-cache", "--jobs", "1")
    assert serial[0] == 1 and serial[1]
    cache = str(tmp_path / "cache")
    assert run("--no-cache", "--jobs", "2") == serial
    assert run("--cache-dir", cache) == serial
    assert run("--cache-dir", cache) == serial
    if fmt == "text":
        assert run("--cache-dir", cache, "--exit-zero")[0] == 0
        assert run("--cache-dir", cache, "--select", "revision-id-mismatch")[0] == 0


def test_jobs_must_be_a_number(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["check", ".", "--jobs", "many"])
    assert exit_info.value.code == 2
    assert "--jobs" in capsys.readouterr().err
