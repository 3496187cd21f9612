"""The documentation site: it builds in strict mode, its generated pages are current, and every
example on every rule page does what the page says.

Each example project is written into a temporary folder next to the files its tool needs to be
detected (`alembic.ini`, `manage.py`, `flyway.conf`, ...) and checked with
`migration-lsp check --select ALL`, exactly as a user would: the unsafe example must produce the
rule, the safe one must not. Files marked `(on main)` are committed on a `main` branch first.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from gitrepo import git
from migration_lsp import cli, rulesdoc
from migration_lsp.findings import DOCS_URL
from migration_lsp.rules.registry import BY_ID, RULES

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"

# --------------------------------------------------------------------------- projects

_ALEMBIC_ENV = """\
from alembic import context

config = context.config


def run_migrations_online():
    with context.begin_transaction():
        context.run_migrations()


run_migrations_online()
"""

_DJANGO_SETTINGS = """\
INSTALLED_APPS = ["shop"]
DATABASES = {{"default": {{"ENGINE": "django.db.backends.{engine}", "NAME": "shop"}}}}
"""

_URLS = {
    "postgresql": "postgresql://localhost/app",
    "mysql": "mysql://localhost/app",
    "sqlite": "sqlite:///app.db",
}
_JDBC = {
    "postgresql": "jdbc:postgresql://localhost:5432/app",
    "mysql": "jdbc:mysql://localhost:3306/app",
    "sqlite": "jdbc:sqlite:app.db",
}
_DJANGO_ENGINES = {"postgresql": "postgresql", "mysql": "mysql", "sqlite": "sqlite3"}
_RAILS_ADAPTERS = {"postgresql": "postgresql", "mysql": "mysql2", "sqlite": "sqlite3"}


def scaffold(tool: str, dialect: str) -> dict[str, str]:
    """The files (other than migrations) that make a folder a project of `tool`."""
    if tool == "alembic":
        ini = f"[alembic]\nscript_location = alembic\nsqlalchemy.url = {_URLS[dialect]}\n"
        return {"alembic.ini": ini, "alembic/env.py": _ALEMBIC_ENV}
    if tool == "django":
        manage = "import os\n\nos.environ.setdefault('DJANGO_SETTINGS_MODULE', 'mysite.settings')\n"
        return {
            "manage.py": manage,
            "mysite/__init__.py": "",
            "mysite/settings.py": _DJANGO_SETTINGS.format(engine=_DJANGO_ENGINES[dialect]),
            "shop/__init__.py": "",
            "shop/migrations/__init__.py": "",
        }
    if tool == "rails":
        database = f"development:\n  adapter: {_RAILS_ADAPTERS[dialect]}\n  database: app\n"
        return {
            "Gemfile": 'source "https://rubygems.org"\ngem "rails", "~> 7.1"\n',
            "config/database.yml": database,
        }
    if tool == "flyway":
        conf = f"flyway.url={_JDBC[dialect]}\nflyway.locations=filesystem:db/migration\n"
        return {"flyway.conf": conf}
    if tool == "liquibase":
        properties = f"changeLogFile: db/changelog.xml\nurl: {_JDBC[dialect]}\n"
        return {"liquibase.properties": properties}
    if tool == "goose":
        return {"go.mod": "module example.com/app\n\nrequire github.com/pressly/goose/v3 v3.20.0\n"}
    if tool == "golang-migrate":
        return {
            "go.mod": "module example.com/app\n\nrequire github.com/golang-migrate/migrate/v4 "
            "v4.17.0\n"
        }
    return {}


def write_project(root: Path, example: rulesdoc.Example) -> None:
    """The example's project on disk; a git repository when a file is `(on main)`."""
    files = dict(scaffold(example.tool, example.dialect))
    files["migration-lsp.toml"] = f'dialect = "{example.dialect}"\nselect = ["ALL"]\n'
    on_main = [f for f in example.files if f.on_main]
    for path, text in files.items():
        _write(root / path, text)
    if on_main:
        for file in on_main:
            _write(root / file.path, file.text)
        git(root, "init", "--quiet", "--initial-branch=main")
        git(root, "add", "--all")
        git(root, "commit", "--quiet", "--message", "merged")
        git(root, "checkout", "--quiet", "-b", "feature")
    for file in example.files:
        if file.deleted:
            (root / file.path).unlink()
        elif not file.on_main:
            _write(root / file.path, file.text)


def _write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")


def check(root: Path) -> list[dict[str, object]]:
    """`migration-lsp check ROOT --format json`, run in this process."""
    out = io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(io.StringIO()):
        status = cli.main(["check", "--no-cache", str(root), "--format", "json", "--exit-zero"])
    assert status == 0, out.getvalue()
    findings: list[dict[str, object]] = json.loads(out.getvalue())
    return findings


# --------------------------------------------------------------------------- rule examples


def _collect() -> tuple[list[rulesdoc.Example], list[str]]:
    found: list[rulesdoc.Example] = []
    errors: list[str] = []
    for rule in RULES:
        try:
            found.extend(rulesdoc.examples(rule))
        except rulesdoc.ExampleError as error:
            errors.append(f"{rule.id}: {error}")
    return found, errors


EXAMPLES, EXAMPLE_ERRORS = _collect()


def _example_id(example: rulesdoc.Example) -> str:
    kind = "unsafe" if example.unsafe else "safe"
    return f"{example.rule}-{kind}-{example.tool}-{example.dialect}"


def test_every_rule_has_an_unsafe_and_a_safe_example() -> None:
    assert not EXAMPLE_ERRORS, "\n".join(EXAMPLE_ERRORS)
    for rule in RULES:
        found = [e for e in EXAMPLES if e.rule == rule.id]
        assert any(e.unsafe for e in found), f"{rule.id}: no code block under ## Example"
        assert any(not e.unsafe for e in found), f"{rule.id}: no code block under ## Use instead"


@pytest.mark.parametrize("example", EXAMPLES, ids=_example_id)
def test_rule_page_example(example: rulesdoc.Example, tmp_path: Path) -> None:
    """An unsafe example produces its rule, a safe one does not."""
    if any(f.on_main for f in example.files) and shutil.which("git") is None:
        pytest.skip("git is not installed")
    write_project(tmp_path, example)
    findings = check(tmp_path)
    fired = [f for f in findings if f["rule"] == example.rule]
    listing = "\n".join(f"{f['path']}:{f['start']} {f['rule']}: {f['message']}" for f in findings)
    if example.unsafe:
        assert fired, f"the example does not produce {example.rule}; it produces:\n{listing}"
    else:
        assert not fired, f"the safe example still produces {example.rule}:\n{listing}"


def test_example_headers_are_checked() -> None:
    """A block without a header line, or naming an unknown tool, is refused."""
    with pytest.raises(rulesdoc.ExampleError):
        rulesdoc.example_file("CREATE INDEX ix ON t (a);\n")
    with pytest.raises(rulesdoc.ExampleError):
        rulesdoc.example_file("-- mongodb: migrations/1.js\n")
    with pytest.raises(rulesdoc.ExampleError):
        rulesdoc.example_file("-- flyway: ../V1__outside.sql\n")
    tool, dialect, file = rulesdoc.example_file(
        "-- flyway (mysql): db/migration/V3__x.sql (on main, deleted on this branch)\n"
    )
    assert (tool, dialect, file.path, file.on_main, file.deleted) == (
        "flyway",
        "mysql",
        "db/migration/V3__x.sql",
        True,
        True,
    )
    _, _, php = rulesdoc.example_file("<?php\n// laravel: database/migrations/x.php\n")
    assert php.path == "database/migrations/x.php"


# --------------------------------------------------------------------------- generated pages


def test_generated_pages_are_up_to_date() -> None:
    """Rule pages, the configuration reference, the guide page and the mapping tables are
    generated; regenerate with `python -m migration_lsp.rulesdoc`."""
    assert rulesdoc.main(["--docs", str(DOCS), "--check"]) == 0


def test_the_configuration_reference_lists_every_option() -> None:
    from migration_lsp.project.config import OPTIONS

    text = (DOCS / "configuration.md").read_text("utf-8")
    for option in OPTIONS:
        assert f"| `{option.name}` | `migrationLsp.{rulesdoc.setting_name(option.name)}` |" in text


def test_every_rule_page_compares_with_the_other_linters() -> None:
    for rule in RULES:
        page = (DOCS / "rules" / f"{rule.id}.md").read_text("utf-8")
        assert "## Equivalent rules in other linters" in page
        assert "| squawk | strong_migrations | django-migration-linter | Atlas |" in page


def test_the_coming_from_page_maps_every_anchor() -> None:
    text = (DOCS / "coming-from.md").read_text("utf-8")
    for rule in RULES:
        for key, _ in rulesdoc.LINTERS:
            for their in rulesdoc.anchor_ids(rule.anchors.get(key, "")):
                assert f"`{their}`" in text, (key, their)


# --------------------------------------------------------------------------- the site


def _mkdocs() -> list[str]:
    try:
        import mkdocs  # noqa: F401
    except ImportError:
        pytest.fail("mkdocs is not installed: pip install -e '.[test]'")
    return [sys.executable, "-m", "mkdocs"]


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """`mkdocs build --strict`: broken links, missing pages and bad configuration fail."""
    out = tmp_path_factory.mktemp("site")
    proc = subprocess.run(
        [*_mkdocs(), "build", "--strict", "--site-dir", str(out)],
        cwd=ROOT,
        env={**os.environ, "NO_MKDOCS_2_WARNING": "1"},
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return out


def test_the_site_builds_in_strict_mode(site: Path) -> None:
    assert (site / "index.html").is_file()
    assert (site / "editors" / "neovim" / "index.html").is_file()
    assert (site / "ci" / "index.html").is_file()


def _site_url() -> str:
    match = re.search(r"^site_url: (\S+)$", (ROOT / "mkdocs.yml").read_text("utf-8"), re.M)
    assert match, "mkdocs.yml has no site_url"
    return match.group(1)


def test_every_finding_links_to_its_page_on_the_site(site: Path) -> None:
    """Diagnostics and SARIF link to `<site_url>/rules/<id>/`: the page is published there."""
    from migration_lsp.output.sarif import INFORMATION_URI

    site_url = _site_url()
    assert site_url == INFORMATION_URI
    for rule_id in BY_ID:
        url = DOCS_URL.format(rule=rule_id)
        assert url == f"{site_url}rules/{rule_id}/", url
        page = (site / "rules" / rule_id / "index.html").read_text("utf-8")
        assert f'<link rel="canonical" href="{url}"' in page, rule_id


def test_every_page_is_in_the_navigation() -> None:
    """A page left out of `nav` builds, but nobody finds it."""
    text = (ROOT / "mkdocs.yml").read_text("utf-8")
    listed = set(re.findall(r"[\w./-]+\.md\b", text.split("\nnav:\n", 1)[1]))
    pages = {p.relative_to(DOCS).as_posix() for p in DOCS.rglob("*.md")}
    assert pages - listed == set()


def test_the_getting_started_sample_is_what_check_prints(monkeypatch: pytest.MonkeyPatch) -> None:
    """The text block after "`migration-lsp check examples/` prints" is real output, trimmed
    with `…` lines; when it fails, paste the new output of `migration-lsp check examples/`."""
    page = (DOCS / "index.md").read_text("utf-8")
    after = page.split("`migration-lsp check examples/` prints", 1)[1]
    sample = after.split("```text\n", 1)[1].split("```", 1)[0]
    monkeypatch.chdir(ROOT)
    out = io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(io.StringIO()):
        assert cli.main(["check", "--no-cache", "--no-color", "examples/"]) == 1
    printed = out.getvalue().splitlines()
    shown = [line for line in sample.splitlines() if line not in ("…", "")]
    assert len(shown) >= 5
    assert [line for line in shown if line not in printed] == []
    assert shown[-1] == printed[-1]  # the summary


def test_the_getting_started_page_shows_the_screenshot_and_the_commands(site: Path) -> None:
    page = (DOCS / "index.md").read_text("utf-8")
    assert "images/vscode-diagnostics.png" in page
    readme = (ROOT / "README.md").read_text("utf-8")
    for line in readme.split("```sh\n", 1)[1].split("```", 1)[0].splitlines():
        assert line in page, line
    assert (site / "images" / "vscode-diagnostics.png").is_file()


# --------------------------------------------------------------------------- pre-commit


def test_the_pre_commit_hook_runs_check_on_migration_folders() -> None:
    """`.pre-commit-hooks.yaml`: the hook the CI page's three lines refer to."""
    import tomllib

    import yaml

    hooks = yaml.safe_load((ROOT / ".pre-commit-hooks.yaml").read_text("utf-8"))
    [hook] = [h for h in hooks if h["id"] == "migration-lsp"]
    scripts = tomllib.loads((ROOT / "pyproject.toml").read_text("utf-8"))["project"]["scripts"]
    command, *args = hook["entry"].split()
    assert command in scripts and args == ["check"]
    assert hook["language"] == "python"
    files = re.compile(hook["files"])
    for path in (
        "alembic/versions/3f2a1b9c4d5e_add_email.py",
        "migrations/versions/3f2a1b9c4d5e_add_email.py",
        "shop/migrations/0002_order.py",
        "db/migrate/20240501120000_add_index.rb",
        "db/migration/V2__add_index.sql",
        "database/migrations/2024_05_01_120000_add_phone.php",
        "src/main/resources/db/changelog/db.changelog-master.xml",
        "prisma/migrations/20240501120000_init/migration.sql",
        "supabase/migrations/20240501120000_init.sql",
    ):
        assert files.search(path), path
    for path in ("app/models.py", "README.md", "sql/reports/daily.sql"):
        assert not files.search(path), path
    # what pre-commit runs: the entry with the staged file names
    unsafe = ROOT / "examples" / "ledger" / "db" / "migration" / "V2__add_account_limits.sql"
    with contextlib.redirect_stdout(io.StringIO()):
        assert cli.main([*args, "--no-cache", str(unsafe)]) == 1
