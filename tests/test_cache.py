"""The on-disk cache of `migration-lsp check`: a cached run reports exactly what an uncached one
does, and every change that can alter a finding (the file, its configuration, the rules, the
files its parser or the history rules read) invalidates it; a broken cache is never fatal."""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from gitrepo import git
from migration_lsp import cache as cache_module
from migration_lsp import engine
from migration_lsp.cache import CheckCache, decode_findings, default_dir, encode_findings, prune
from migration_lsp.cli import main
from migration_lsp.engine import CheckResult, Workspace
from migration_lsp.findings import Applicability, Edit, Finding, Fix, NewFile
from migration_lsp.model import Severity
from migration_lsp.parse import parse_migration
from migration_lsp.rules.base import Context, Rule
from migration_lsp.rules.registry import RULES
from migration_lsp.text import Span
from perf_workspace import generate

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "tests" / "fixtures"


@pytest.fixture
def workspace(tmp_path: Path) -> Path:
    """Examples of every tool, history fixtures (heads, cycles, Django apps) and generated
    projects of the eight most common tools."""
    root = tmp_path / "ws"
    shutil.copytree(ROOT / "examples", root / "examples")
    shutil.copytree(FIXTURES / "history", root / "history")
    generate(root / "generated", 40)
    return root


@pytest.fixture
def cache_dir(tmp_path: Path) -> Path:
    return tmp_path / "cache"


def check(paths: list[Path], cache_dir: Path | None = None, **options: Any) -> CheckResult:
    cache = CheckCache(cache_dir) if cache_dir is not None else None
    return Workspace(cache=cache, **options).check(paths)


def assert_same(got: CheckResult, want: CheckResult) -> None:
    assert got.findings == want.findings  # rule, message, spans, positions, fix, data, order
    assert got.texts == want.texts
    assert got.files_checked == want.files_checked
    assert got.notes == want.notes


@pytest.fixture
def parses(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The files parsed for the local rules (in this process: the tests run with one job)."""
    seen: list[str] = []

    def counting(path: str, *args: Any, **kwargs: Any) -> Any:
        seen.append(Path(path).name)
        return parse_migration(path, *args, **kwargs)

    monkeypatch.setattr("migration_lsp.engine.parse_migration", counting)
    return seen


def rewrite(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


# --------------------------------------------------------------------------- equal results


def test_cached_runs_report_what_an_uncached_run_reports(
    workspace: Path, cache_dir: Path, parses: list[str]
) -> None:
    want = check([workspace])
    assert len(want.findings) > 100
    parses.clear()
    cold = check([workspace], cache_dir)
    assert_same(cold, want)
    assert len(parses) > 50
    parses.clear()
    warm = check([workspace], cache_dir)
    assert_same(warm, want)
    assert parses == []


def test_one_changed_file_is_the_only_one_parsed_again(
    workspace: Path, cache_dir: Path, parses: list[str]
) -> None:
    check([workspace], cache_dir)
    versions = workspace / "generated" / "alembic" / "alembic" / "versions"
    target = sorted(versions.glob("*_step_3.py"))[0]
    rewrite(target, "def upgrade() -> None:\n", "def upgrade() -> None:\n    op.drop_table('t')\n")
    parses.clear()
    got = check([workspace], cache_dir)
    assert parses == [target.name]
    assert_same(got, check([workspace]))
    assert any(f.rule == "drop-table" and f.path == str(target) for f in got.findings)


def test_a_cached_finding_keeps_its_fix_positions_and_data() -> None:
    finding = Finding(
        rule="non-concurrent-index",
        message="Creating an index locks",
        span=Span(10, 20),
        severity=Severity.WARNING,
        fix=Fix(
            "Use CONCURRENTLY",
            [Edit(Span(16, 16), " CONCURRENTLY")],
            Applicability.UNSAFE,
            [NewFile("0002_next.py", "x = 1\n")],
        ),
        path="a.sql",
        start=(1, 2),
        end=(1, 12),
        data={"heads": ["a", "b"], "app": None},
    )
    finding.scope = finding.span
    rows = encode_findings([finding], located=True)
    assert rows is not None
    (again,) = decode_findings(json.loads(json.dumps(rows)), "a.sql")
    assert again == finding
    assert again.scope is again.span


def test_data_json_cannot_give_back_is_not_cached() -> None:
    finding = Finding("r", "m", Span(0, 1), Severity.INFO, data={"ids": ("a", "b")})
    assert encode_findings([finding]) is None


# --------------------------------------------------------------------------- invalidation


def test_a_content_change_is_seen(workspace: Path, cache_dir: Path) -> None:
    check([workspace], cache_dir)
    script = workspace / "examples" / "ledger" / "db" / "migration" / "V3__rename_owner.sql"
    before = {f.rule for f in check([workspace], cache_dir).findings if f.path == str(script)}
    assert "rename-column" in before
    script.write_text("CREATE TABLE IF NOT EXISTS audit (id bigint PRIMARY KEY);\n")
    got = check([workspace], cache_dir)
    assert_same(got, check([workspace]))
    assert "rename-column" not in {f.rule for f in got.findings if f.path == str(script)}


def test_a_configuration_change_is_seen(workspace: Path, cache_dir: Path) -> None:
    first = check([workspace], cache_dir)
    assert any(f.rule == "rename-column" for f in first.findings)
    (workspace / "migration-lsp.toml").write_text(
        'ignore = ["rename-column"]\n[severity]\ndrop-column = "error"\n'
    )
    got = check([workspace], cache_dir)
    assert_same(got, check([workspace]))
    assert not any(f.rule == "rename-column" for f in got.findings)
    assert {f.severity for f in got.findings if f.rule == "drop-column"} == {Severity.ERROR}


def test_a_rule_set_change_is_seen(
    workspace: Path, cache_dir: Path, monkeypatch: pytest.MonkeyPatch, parses: list[str]
) -> None:
    check([workspace], cache_dir)
    select = ["drop-column", "multiple-heads"]
    got = check([workspace], cache_dir, select=select)
    assert_same(got, check([workspace], select=select))
    assert {f.rule for f in got.findings} == set(select)
    # new code (another version, an edited rule): nothing cached before is trusted
    parses.clear()
    monkeypatch.setattr(cache_module, "_CODE", "another version")
    assert_same(check([workspace], cache_dir), check([workspace]))
    assert len(parses) > 50


def test_history_rules_see_a_change_in_another_file(workspace: Path, cache_dir: Path) -> None:
    """Making a second head changes the findings of a file that did not change."""
    versions = workspace / "generated" / "alembic" / "alembic" / "versions"
    files = sorted(versions.glob("*_step_*.py"), key=lambda p: int(p.stem.rsplit("_", 1)[1]))
    first = check([workspace], cache_dir)
    assert not any(f.rule == "multiple-heads" and "generated" in f.path for f in first.findings)
    parent = "down_revision: Union[str, None] = '{}'"
    rewrite(files[2], parent.format(files[1].name[:12]), parent.format(files[0].name[:12]))
    got = check([workspace], cache_dir)
    assert_same(got, check([workspace]))
    heads = {f.path for f in got.findings if f.rule == "multiple-heads"}
    assert {str(files[1]), str(files[-1])} <= heads  # the last file did not change


def django_app(root: Path, first_length: int) -> Path:
    migrations = root / "shop" / "migrations"
    migrations.mkdir(parents=True)
    (root / "manage.py").write_text("")
    (root / "shop" / "__init__.py").write_text("")
    (migrations / "__init__.py").write_text("")
    field = "models.CharField(max_length={})"
    (migrations / "0001_initial.py").write_text(
        "from django.db import migrations, models\n\n\n"
        "class Migration(migrations.Migration):\n\n    initial = True\n\n"
        "    dependencies = []\n\n    operations = [\n        migrations.CreateModel(\n"
        '            name="Product",\n            fields=[\n'
        '                ("id", models.BigAutoField(primary_key=True, serialize=False)),\n'
        f'                ("code", {field.format(first_length)}),\n'
        "            ],\n        ),\n    ]\n"
    )
    (migrations / "0002_code.py").write_text(
        "from django.db import migrations, models\n\n\n"
        "class Migration(migrations.Migration):\n\n"
        '    dependencies = [\n        ("shop", "0001_initial"),\n    ]\n\n'
        "    operations = [\n        migrations.AlterField(\n"
        '            model_name="product",\n            name="code",\n'
        f"            field={field.format(40)},\n        ),\n    ]\n"
    )
    return migrations


def test_django_state_replay_sees_an_earlier_migration_change(
    tmp_path: Path, cache_dir: Path
) -> None:
    migrations = django_app(tmp_path / "dj", first_length=20)
    later = str(migrations / "0002_code.py")
    first = check([tmp_path / "dj"], cache_dir)
    assert [f.rule for f in first.findings if f.path == later] == ["missing-lock-timeout"]
    rewrite(migrations / "0001_initial.py", "max_length=20", "max_length=40")
    got = check([tmp_path / "dj"], cache_dir)
    assert_same(got, check([tmp_path / "dj"]))
    assert [f.path for f in got.findings] == []


LARAVEL = """<?php

use Illuminate\\Database\\Migrations\\Migration;
use Illuminate\\Database\\Schema\\Blueprint;
use Illuminate\\Support\\Facades\\Schema;

return new class extends Migration
{{
    public function up(): void
    {{
        Schema::{verb}('items', function (Blueprint $table) {{
            {body}
        }});
    }}
}};
"""


def test_laravel_column_history_sees_an_earlier_migration_change(
    tmp_path: Path, cache_dir: Path
) -> None:
    root = tmp_path / "lv"
    folder = root / "database" / "migrations"
    folder.mkdir(parents=True)
    (root / "artisan").write_text("")
    (root / "composer.json").write_text('{"require": {"laravel/framework": "^11.0"}}')
    (root / ".env").write_text("DB_CONNECTION=pgsql\n")
    first = folder / "2024_01_01_000000_create_items_table.php"
    first.write_text(LARAVEL.format(verb="create", body="$table->string('code', 40);"))
    later = folder / "2024_01_02_000000_change_code_on_items_table.php"
    later.write_text(LARAVEL.format(verb="table", body="$table->string('code', 40)->change();"))
    assert "change-column-type" not in {f.rule for f in check([root], cache_dir).findings}
    rewrite(first, "$table->string('code', 40);", "$table->integer('code');")
    got = check([root], cache_dir)
    assert_same(got, check([root]))
    assert "change-column-type" in {f.rule for f in got.findings if f.path == str(later)}


@pytest.mark.skipif(shutil.which("git") is None, reason="needs git")
def test_applied_migration_rules_see_git_changes(workspace: Path, cache_dir: Path) -> None:
    from migration_lsp.history.git import clear_cache

    project = workspace / "examples" / "ledger"
    git(workspace, "init", "-q", "-b", "main")
    git(workspace, "add", "-A")
    git(workspace, "commit", "-q", "-m", "migrations")
    clear_cache()
    assert_same(check([project], cache_dir), check([project]))
    script = project / "db" / "migration" / "V3__rename_owner.sql"
    script.write_text(script.read_text() + "-- edited after it was applied\n")
    got = check([project], cache_dir)
    assert_same(got, check([project]))
    assert "modified-applied-migration" in {f.rule for f in got.findings}
    (project / "db" / "migration" / "V1__create_accounts.sql").unlink()
    got = check([project], cache_dir)
    assert_same(got, check([project]))
    assert "deleted-applied-migration" in {f.rule for f in got.findings}


def test_deleted_applied_migrations_are_each_reported_once(
    workspace: Path, cache_dir: Path
) -> None:
    """Deletions in the middle and at the end of a folder: each on the file that now follows
    it, or on the last one; worked out once per check, not once per file."""
    from migration_lsp.history.git import clear_cache

    project = workspace / "examples" / "ledger"
    folder = project / "db" / "migration"
    extra = [folder / f"V{n}__step_{n}.sql" for n in range(4, 9)]
    for path in extra:
        path.write_text("SELECT 1;\n")
    git(workspace, "init", "-q", "-b", "main")
    git(workspace, "add", "-A")
    git(workspace, "commit", "-q", "-m", "migrations")
    clear_cache()
    for gone in (folder / "V2__add_account_limits.sql", extra[1], extra[2], extra[-1]):
        gone.unlink()
    want = check([project])
    got = check([project], cache_dir, jobs=2)
    assert_same(got, want)
    deleted = [
        (Path(f.path).name, f.message.split()[0])
        for f in got.findings
        if f.rule == "deleted-applied-migration"
    ]
    assert sorted(deleted) == [
        ("V3__rename_owner.sql", "V2__add_account_limits.sql"),
        ("V7__step_7.sql", "V5__step_5.sql"),
        ("V7__step_7.sql", "V6__step_6.sql"),
        ("V7__step_7.sql", "V8__step_8.sql"),
    ]


def test_a_rule_reading_the_history_outside_the_history_rules_is_not_cached(
    workspace: Path, cache_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Only the history rules are computed fresh: any other rule that reads the history is
    noticed, its file analysed in full and not cached."""

    def counting_nodes(ctx: Context) -> Iterator[Finding]:
        """Reports how many migrations the history holds (test rule)."""
        if ctx.history is not None:
            yield ctx.finding(Span(0, 1), f"{len(ctx.history.nodes)} nodes")

    rule = Rule("missing-lock-timeout", "test", Severity.INFO, "locks", counting_nodes)

    def swap(rules: tuple[Rule, ...]) -> tuple[Rule, ...]:
        return tuple(rule if r.id == rule.id else r for r in rules)

    monkeypatch.setattr("migration_lsp.engine.RULES", swap(RULES))
    monkeypatch.setattr(engine, "LOCAL_RULES", swap(engine.LOCAL_RULES))
    want = check([workspace])
    assert any(f.message.endswith(" nodes") for f in want.findings)
    assert_same(check([workspace], cache_dir), want)
    assert_same(check([workspace], cache_dir), want)
    stored = "".join(p.read_text() for p in cache_dir.glob("*.json"))
    assert " nodes" not in stored


# --------------------------------------------------------------------------- file stamps


@pytest.fixture
def stamped(monkeypatch: pytest.MonkeyPatch) -> None:
    """Stamps of files just written are trusted (outside the tests, only those of files not
    changed in the last two seconds: a write within the same clock tick keeps the stamp)."""
    monkeypatch.setattr(cache_module, "RACY_NS", 0)


@pytest.fixture
def reads(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The files whose content `check` reads."""
    seen: list[str] = []
    real = Path.read_bytes

    def counting(self: Path) -> bytes:
        seen.append(self.name)
        return real(self)

    monkeypatch.setattr(Path, "read_bytes", counting)
    return seen


@pytest.mark.usefixtures("stamped")
def test_a_replayed_run_reads_no_file_whose_stamp_is_unchanged(
    workspace: Path, cache_dir: Path, reads: list[str], capsys: pytest.CaptureFixture[str]
) -> None:

    def run() -> tuple[int, str]:
        code = main(["check", str(workspace), "--cache-dir", str(cache_dir), "--format", "json"])
        return code, capsys.readouterr().out

    first = run()
    assert len(reads) > 50
    reads.clear()
    assert run() == first
    assert reads == []
    script = workspace / "examples" / "ledger" / "db" / "migration" / "V3__rename_owner.sql"
    script.write_text("SELECT 1;\n")
    got = run()  # not replayed: the findings are built again, from every file's text
    assert got != first and script.name in reads
    assert got == (
        main(["check", str(workspace), "--no-cache", "--format", "json"]),
        capsys.readouterr().out,
    )


@pytest.mark.usefixtures("stamped")
def test_unchanged_stamps_stand_for_the_files_when_findings_are_built(
    workspace: Path, cache_dir: Path
) -> None:
    """Not replayed (the library has no stored output): every file is read after all, and
    what is reported is what an uncached run reports."""
    want = check([workspace])
    check([workspace], cache_dir)
    assert_same(check([workspace], cache_dir), want)


@pytest.mark.usefixtures("stamped")
def test_a_rewrite_that_keeps_size_and_modification_time_is_seen(
    workspace: Path, cache_dir: Path
) -> None:
    check([workspace], cache_dir)
    script = workspace / "examples" / "ledger" / "db" / "migration" / "V3__rename_owner.sql"
    before = script.stat()
    text = script.read_text()
    assert "RENAME COLUMN" in text
    script.write_text(text.replace("RENAME COLUMN", "rename column"))  # same size
    os.utime(script, ns=(before.st_atime_ns, before.st_mtime_ns))
    assert script.stat().st_size == before.st_size
    assert_same(check([workspace], cache_dir), check([workspace]))


def test_a_file_changed_after_its_stamp_was_looked_up_is_read_and_rechecked(
    workspace: Path, cache_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The stamp promised the old content (the file changed between the walk and the read):
    the keys are worked out again from what was read, and the result is the true one."""
    monkeypatch.setattr(cache_module, "RACY_NS", 0)
    check([workspace], cache_dir)
    script = workspace / "examples" / "ledger" / "db" / "migration" / "V3__rename_owner.sql"
    stale = CheckCache.known_digest(CheckCache(cache_dir), str(script), script.stat())
    assert stale is not None
    script.write_text("CREATE TABLE IF NOT EXISTS audit (id bigint PRIMARY KEY);\n")
    real = CheckCache.known_digest

    def promising(self: CheckCache, path: str, status: Any) -> str | None:
        return stale if path == str(script) else real(self, path, status)

    monkeypatch.setattr(CheckCache, "known_digest", promising)
    want = check([workspace])
    assert_same(check([workspace], cache_dir), want)
    monkeypatch.undo()
    assert_same(check([workspace], cache_dir), want)


def test_fresh_files_get_no_stamp(workspace: Path, cache_dir: Path) -> None:
    check([workspace], cache_dir)
    script = workspace / "examples" / "ledger" / "db" / "migration" / "V3__rename_owner.sql"
    assert CheckCache(cache_dir).known_digest(str(script), script.stat()) is None


# --------------------------------------------------------------------------- the cache folder


def test_cli_writes_its_cache_outside_the_workspace_and_no_cache_writes_nothing(
    workspace: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    def snapshot() -> dict[str, int]:
        return {str(p): p.stat().st_mtime_ns for p in workspace.rglob("*")}

    before = snapshot()
    monkeypatch.setenv("MIGRATION_LSP_CACHE_DIR", str(tmp_path / "env-cache"))
    assert main(["check", str(workspace), "--no-cache", "--format", "json"]) == 1
    uncached = capsys.readouterr().out
    assert not (tmp_path / "env-cache").exists()
    assert main(["check", str(workspace), "--format", "json"]) == 1
    assert capsys.readouterr().out == uncached
    assert list((tmp_path / "env-cache").glob("*.json"))
    assert main(["check", str(workspace), "--cache-dir", str(tmp_path / "flag")]) == 1
    assert list((tmp_path / "flag").glob("*.json"))
    assert snapshot() == before


def test_a_warm_cli_run_replays_the_output_it_rendered(
    workspace: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    def run(*options: str) -> tuple[int, str]:
        code = main(["check", str(workspace), "--cache-dir", str(tmp_path / "c"), *options])
        return code, capsys.readouterr().out

    first = run("--format", "json")
    monkeypatch.setattr("migration_lsp.cli.render", None)  # rendering would fail now
    assert run("--format", "json") == first
    assert run("--format", "json", "--exit-zero") == (0, first[1])
    monkeypatch.undo()
    text = run()  # another format is rendered, not replayed
    assert text[1] != first[1] and "Found " in text[1]
    script = workspace / "examples" / "ledger" / "db" / "migration" / "V3__rename_owner.sql"
    script.write_text("SELECT 1;\n")
    changed = run("--format", "json")
    assert changed != first
    assert changed == (
        main(["check", str(workspace), "--no-cache", "--format", "json"]),
        capsys.readouterr().out,
    )


def test_default_cache_folder(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv("MIGRATION_LSP_CACHE_DIR", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert default_dir() == tmp_path / "xdg" / "migration-lsp"
    monkeypatch.delenv("XDG_CACHE_HOME")
    assert default_dir() == Path.home() / ".cache" / "migration-lsp"
    monkeypatch.setenv("MIGRATION_LSP_CACHE_DIR", str(tmp_path / "mine"))
    assert default_dir() == tmp_path / "mine"


@pytest.mark.parametrize(
    "garbage",
    [
        b"",
        b'{"format": 1, "code"',
        b"\x00\xff\xfe binary",
        b"[1, 2, 3]",
        "WRONG SHAPES",
    ],
)
def test_corrupt_cache_files_are_ignored(
    workspace: Path, cache_dir: Path, garbage: bytes | str
) -> None:
    want = check([workspace])
    check([workspace], cache_dir)
    for path in cache_dir.glob("*.json"):
        if isinstance(garbage, bytes):
            path.write_bytes(garbage)
            continue
        data = json.loads(path.read_text())  # right keys, wrong values
        data["entries"] = {p: [v[0], {"nodes": 3, "parsed": 7}] for p, v in data["entries"].items()}
        path.write_text(json.dumps(data))
    assert_same(check([workspace], cache_dir), want)
    assert_same(check([workspace], cache_dir), want)


def test_an_unusable_cache_folder_is_not_fatal(workspace: Path, tmp_path: Path) -> None:
    blocked = tmp_path / "a-file"
    blocked.write_text("not a folder")
    want = check([workspace])
    assert_same(check([workspace], blocked / "cache"), want)


def test_writes_are_atomic_and_entries_of_deleted_files_go(
    workspace: Path, cache_dir: Path
) -> None:
    check([workspace], cache_dir)
    gone = workspace / "examples" / "ledger" / "db" / "migration" / "V3__rename_owner.sql"
    gone.unlink()
    check([workspace], cache_dir)
    assert not [p for p in cache_dir.iterdir() if not p.name.endswith(".json")]
    stored = [json.loads(p.read_text())["entries"] for p in cache_dir.glob("*.json")]
    assert all(str(gone) not in entries for entries in stored)
    assert any(str(gone.with_name("V2__add_account_limits.sql")) in e for e in stored)


def test_prune_keeps_the_newest_files_and_drops_old_ones(tmp_path: Path) -> None:
    for index in range(6):
        path = tmp_path / f"{index}-local.json"
        path.write_text("{}")
        os.utime(path, (1_000_000 + index, 1_000_000 + index))
    (tmp_path / "fresh-local.json").write_text("{}")
    prune(tmp_path, max_files=3, max_age_days=10**6)
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "4-local.json",
        "5-local.json",
        "fresh-local.json",
    ]
    prune(tmp_path, max_files=3, max_age_days=1)
    assert [p.name for p in tmp_path.iterdir()] == ["fresh-local.json"]


def test_fix_and_diff_ignore_the_cache(
    workspace: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    target = workspace / "examples"
    cache = str(tmp_path / "c")
    assert main(["check", str(target), "--diff", "--cache-dir", cache]) == 1
    diff = capsys.readouterr().out
    assert diff.startswith("---") and not (tmp_path / "c").exists()
    main(["check", str(target), "--cache-dir", cache])
    capsys.readouterr()
    main(["check", str(target), "--diff", "--cache-dir", cache])
    assert capsys.readouterr().out == diff


# --------------------------------------------------------------------------- what a key holds


FILE_READERS = {"knex", "laravel", "sql_files", "typeorm"}
"""Parser modules that read files other than the one they parse. Each such file must be part
of the cache key: the project's settings name the knexfile and the TypeORM data source
(`cache.project_fingerprint`); Laravel's earlier migrations and Flyway's `.conf` are listed
in `engine._FastCheck._dependencies`."""


def test_every_parser_that_reads_other_files_is_known() -> None:
    readers = set()
    for module in (ROOT / "server" / "migration_lsp" / "parse").glob("*.py"):
        text = module.read_text()
        calls = ("open(", "read_text(", "read_bytes(", "listdir(", "scandir(", "stat(", "glob(")
        if any(call in text for call in calls):
            readers.add(module.stem)
    assert readers <= FILE_READERS, (
        f"{sorted(readers - FILE_READERS)} read other files: add them to the cache key"
    )
