"""`migration-lsp check --diff-base REF`: only the migrations a branch adds or changes since it
forked from REF are reported, in a real git repository (docs/ci.md)."""

from __future__ import annotations

import contextlib
import io
import json
import shutil
from pathlib import Path

import pytest

from gitrepo import commit, git, write
from migration_lsp import cli

pytestmark = pytest.mark.skipif(shutil.which("git") is None, reason="git is not installed")

VERSIONS = "api/alembic/versions"


def migration(revision: str, parent: str | None, upgrade: str) -> str:
    """An Alembic revision file as `alembic revision` writes it."""
    return f'''"""{revision}

Revision ID: {revision}
Revises: {parent or ""}
Create Date: 2024-05-01 12:00:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = "{revision}"
down_revision = {parent and repr(parent)}
branch_labels = None
depends_on = None


def upgrade() -> None:
{upgrade}


def downgrade() -> None:
    pass
'''


CREATE = migration(
    "1a2b3c4d5e6f",
    None,
    '    op.create_table("users", sa.Column("id", sa.BigInteger(), primary_key=True))\n'
    '    op.create_index("ix_accounts_owner", "accounts", ["owner"])',  # unsafe, merged long ago
)
ADD_EMAIL = migration(
    "2b3c4d5e6f7a",
    "1a2b3c4d5e6f",
    '    op.add_column("users", sa.Column("email", sa.Text(), nullable=True))',
)
INDEX_EMAIL = migration(
    "3c4d5e6f7a8b",
    "2b3c4d5e6f7a",
    '    op.create_index("ix_users_email", "users", ["email"])',
)


@pytest.fixture
def repo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An Alembic project with two migrations on `main`; the `feature` branch (checked out, and
    the working directory) adds an unsafe migration, edits the second one and the app."""
    root = tmp_path / "repo"
    write(
        root,
        {
            "api/alembic.ini": "[alembic]\nscript_location = alembic\n"
            "sqlalchemy.url = postgresql://localhost/app\n",
            "api/alembic/env.py": "from alembic import context\n",
            f"{VERSIONS}/1a2b3c4d5e6f_create_users.py": CREATE,
            f"{VERSIONS}/2b3c4d5e6f7a_add_email.py": ADD_EMAIL,
            "api/app/models.py": "class User: ...\n",
            "README.md": "# app\n",
        },
    )
    git(root, "init", "--quiet", "--initial-branch=main")
    commit(root, "main")
    git(root, "checkout", "--quiet", "-b", "feature")
    write(
        root,
        {
            f"{VERSIONS}/3c4d5e6f7a8b_index_email.py": INDEX_EMAIL,
            f"{VERSIONS}/2b3c4d5e6f7a_add_email.py": ADD_EMAIL.replace(
                "sa.Text()", "sa.String(320)"
            ),
            "api/app/models.py": "class User:\n    email: str\n",
        },
    )
    commit(root, "feature")
    monkeypatch.chdir(root)
    return root


def run(*args: str) -> tuple[int, str, str]:
    """`migration-lsp check ARGS` in this process: exit status, stdout, stderr."""
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        status = cli.main(["check", "--no-cache", *args])
    return status, out.getvalue(), err.getvalue()


def reported(*args: str) -> dict[str, set[str]]:
    """Path -> rule ids of `check --format json ARGS`."""
    _, out, _ = run("--format", "json", *args)
    found: dict[str, set[str]] = {}
    for finding in json.loads(out):
        found.setdefault(finding["path"], set()).add(finding["rule"])
    return found


def test_only_the_added_and_the_edited_migration_are_reported(repo: Path) -> None:
    everything = reported()
    assert f"{VERSIONS}/1a2b3c4d5e6f_create_users.py" in everything  # its finding is old news
    status, out, _ = run("--diff-base", "main")
    assert status == 1
    found = reported("--diff-base", "main")
    assert sorted(found) == [
        f"{VERSIONS}/2b3c4d5e6f7a_add_email.py",
        f"{VERSIONS}/3c4d5e6f7a8b_index_email.py",
    ]
    assert "non-concurrent-index" in found[f"{VERSIONS}/3c4d5e6f7a8b_index_email.py"]
    # the history rules still judge the edited file against main
    assert "modified-applied-migration" in found[f"{VERSIONS}/2b3c4d5e6f7a_add_email.py"]
    assert "in 2 of 2 files" in out


def test_uncommitted_and_untracked_migrations_count(repo: Path) -> None:
    """Run locally, the work tree counts: a new file not yet added that forks the history is
    checked with the whole project's history (a second head)."""
    second = migration("4d5e6f7a8b9c", "2b3c4d5e6f7a", '    op.drop_column("users", "email")')
    write(repo, {f"{VERSIONS}/4d5e6f7a8b9c_drop_email.py": second})
    found = reported("--diff-base", "main")
    assert {"multiple-heads", "drop-column"} <= found[f"{VERSIONS}/4d5e6f7a8b9c_drop_email.py"]
    assert len(found) == 3


def test_only_under_the_given_paths_and_relative_to_the_working_directory(
    repo: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    write(
        repo,
        {
            "reports/flyway.conf": "flyway.url=jdbc:postgresql://localhost/reports\n"
            "flyway.locations=filesystem:sql\n",
            "reports/sql/V1__events.sql": "CREATE INDEX events_at ON events (at);\n",
        },
    )
    commit(repo, "reports")
    assert sorted(reported("--diff-base", "main", "reports")) == ["reports/sql/V1__events.sql"]
    assert reported("--diff-base", "main", "api/app") == {}
    monkeypatch.chdir(repo / VERSIONS)
    assert sorted(reported("--diff-base", "main")) == [
        "2b3c4d5e6f7a_add_email.py",
        "3c4d5e6f7a8b_index_email.py",
    ]


def test_nothing_changed_says_so_and_exits_0(repo: Path) -> None:
    git(repo, "checkout", "--quiet", "main")
    status, out, err = run("--diff-base", "main")
    assert (status, out) == (0, "")
    assert "--diff-base main: no migration added or changed" in err
    # a report CI can still upload
    status, out, _ = run("--diff-base", "feature", "--format", "sarif")
    assert status == 0
    assert json.loads(out)["runs"][0]["results"] == []


@pytest.mark.parametrize(
    ("base", "message"),
    [
        ("no-such-branch", "unknown revision 'no-such-branch'"),
        ("--output=x", "is not a git revision"),
    ],
)
def test_a_bad_ref_is_a_one_line_usage_error(repo: Path, base: str, message: str) -> None:
    status, out, err = run(f"--diff-base={base}")
    assert (status, out) == (2, "")
    assert err.count("\n") == 1 and message in err, err
    assert not (repo / "x").exists()


def test_outside_a_git_repository_is_a_usage_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    write(tmp_path, {"db/migration/V1__init.sql": "CREATE TABLE t (id bigint);\n"})
    write(tmp_path, {"flyway.conf": "flyway.url=jdbc:postgresql://localhost/app\n"})
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("GIT_CEILING_DIRECTORIES", str(tmp_path.parent))
    status, out, err = run("--diff-base", "main")
    assert (status, out) == (2, "")
    assert err.count("\n") == 1 and "is not in a git repository" in err, err


def test_the_cache_does_not_replay_another_set_of_changed_files(repo: Path, tmp_path: Path) -> None:
    """A stored run is replayed only for the same changed files: a new one is reported."""
    cache = ["--cache-dir", str(tmp_path / "cache"), "--format", "json", "--diff-base", "main"]

    def cached() -> list[str]:
        out = io.StringIO()
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(io.StringIO()):
            cli.main(["check", *cache])
        return sorted({f["path"] for f in json.loads(out.getvalue())})

    assert len(cached()) == 2
    more = migration("4d5e6f7a8b9c", "3c4d5e6f7a8b", '    op.drop_table("accounts")')
    write(repo, {f"{VERSIONS}/4d5e6f7a8b9c_drop_accounts.py": more})
    assert len(cached()) == 3
