"""`changed.changed_migrations`: the migrations a branch adds or changes since it forked from
the default branch, which `migration-lsp check --diff-base REF` checks (docs/ci.md)."""

from __future__ import annotations

import contextlib
import io
import json
import shutil
from pathlib import Path

import pytest

from gitrepo import commit, git, write
from migration_lsp import cli
from migration_lsp.changed import DiffBaseError, changed_files, changed_migrations

pytestmark = pytest.mark.skipif(shutil.which("git") is None, reason="git is not installed")

INDEX = 'def upgrade():\n    op.create_index("ix_users_email", "users", ["email"])\n'
SAFE = 'def upgrade():\n    op.add_column("users", sa.Column("nickname", sa.Text()))\n'


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    """An Alembic project and a Flyway project on `main`, and a `feature` branch off it."""
    root = tmp_path / "repo"
    write(
        root,
        {
            "api/alembic.ini": "[alembic]\nscript_location = alembic\n"
            "sqlalchemy.url = postgresql://localhost/app\n",
            "api/alembic/env.py": "from alembic import context\n",
            "api/alembic/versions/1975ea83b712_users.py": SAFE,
            "api/app/models.py": "class User: ...\n",
            "reports/flyway.conf": "flyway.url=jdbc:postgresql://localhost/reports\n"
            "flyway.locations=filesystem:sql\n",
            "reports/sql/V1__events.sql": "CREATE TABLE events (id bigint PRIMARY KEY);\n",
            "README.md": "# app\n",
        },
    )
    git(root, "init", "--quiet", "--initial-branch=main")
    commit(root, "main")
    git(root, "checkout", "--quiet", "-b", "feature")
    return root


def relative(paths: list[Path], root: Path) -> list[str]:
    return [p.relative_to(root.resolve()).as_posix() for p in paths]


def test_committed_uncommitted_and_untracked_migrations_count(repo: Path) -> None:
    write(repo, {"api/alembic/versions/27c6a30d7c24_index.py": INDEX})
    commit(repo, "feature: index")
    write(
        repo,
        {
            "api/alembic/versions/1975ea83b712_users.py": SAFE + "# edited\n",  # uncommitted
            "reports/sql/V2__kind.sql": "ALTER TABLE events ADD COLUMN kind text;\n",  # untracked
            "README.md": "# app, changed\n",
            "api/app/models.py": "class User:\n    email: str\n",
        },
    )
    assert relative(changed_migrations("main", [repo]), repo) == [
        "api/alembic/versions/1975ea83b712_users.py",
        "api/alembic/versions/27c6a30d7c24_index.py",
        "reports/sql/V2__kind.sql",
    ]
    # every changed file, migration or not
    assert "README.md" in relative(changed_files("main", repo), repo)


def test_changes_on_the_base_branch_after_the_fork_are_not_the_branchs(repo: Path) -> None:
    git(repo, "checkout", "--quiet", "main")
    write(repo, {"reports/sql/V3__on_main.sql": "ALTER TABLE events ADD COLUMN x int;\n"})
    commit(repo, "main moves on")
    git(repo, "checkout", "--quiet", "feature")
    write(repo, {"reports/sql/V2__kind.sql": "ALTER TABLE events ADD COLUMN kind text;\n"})
    commit(repo, "feature")
    assert relative(changed_migrations("main", [repo]), repo) == ["reports/sql/V2__kind.sql"]


def test_deleted_files_are_left_out_and_renamed_ones_kept_under_their_new_name(
    repo: Path,
) -> None:
    git(repo, "mv", "reports/sql/V1__events.sql", "reports/sql/V1__create_events.sql")
    git(repo, "rm", "--quiet", "api/alembic/versions/1975ea83b712_users.py")
    commit(repo, "rename and delete")
    assert relative(changed_migrations("main", [repo]), repo) == [
        "reports/sql/V1__create_events.sql"
    ]


def test_a_misnamed_file_in_a_migration_folder_is_kept(repo: Path) -> None:
    """Flyway skips it silently; `check` must see it to say so (invalid-migration-filename)."""
    write(repo, {"reports/sql/V2_kind.sql": "ALTER TABLE events ADD COLUMN kind text;\n"})
    assert relative(changed_migrations("main", [repo]), repo) == ["reports/sql/V2_kind.sql"]


def test_only_the_given_paths(repo: Path) -> None:
    write(
        repo,
        {
            "api/alembic/versions/27c6a30d7c24_index.py": INDEX,
            "reports/sql/V2__kind.sql": "ALTER TABLE events ADD COLUMN kind text;\n",
        },
    )
    assert relative(changed_migrations("main", [repo / "reports"]), repo) == [
        "reports/sql/V2__kind.sql"
    ]
    assert changed_migrations("main", [repo / "api" / "app"]) == []


def test_nothing_changed(repo: Path) -> None:
    assert changed_migrations("main", [repo]) == []
    assert changed_migrations("HEAD", [repo]) == []


def test_checking_the_changed_migrations_reports_only_theirs(repo: Path) -> None:
    """What `check --diff-base main` does: the old migration's finding is not reported."""
    write(repo, {"api/alembic/versions/1975ea83b712_users.py": INDEX})
    commit(repo, "main's migration, unsafe")  # on feature, so it counts as changed ...
    git(repo, "branch", "--force", "main", "HEAD")  # ... until main has it too
    write(repo, {"api/alembic/versions/27c6a30d7c24_index.py": INDEX.replace("email", "name")})
    paths = changed_migrations("main", [repo])
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        status = cli.main(
            ["check", "--format", "json", "--select", "non-concurrent-index", *map(str, paths)]
        )
    findings = json.loads(out.getvalue())
    assert status == 1
    assert [Path(f["path"]).name for f in findings] == ["27c6a30d7c24_index.py"]


@pytest.mark.parametrize(
    ("base", "message"),
    [
        ("no-such-branch", "unknown revision 'no-such-branch'"),
        ("--output=/tmp/x", "is not a git revision"),
        ("", "is not a git revision"),
    ],
)
def test_bad_revisions_are_usage_errors(repo: Path, base: str, message: str) -> None:
    """A ConfigError: the CLI prints it and exits with status 2."""
    with pytest.raises(DiffBaseError, match=message):
        changed_migrations(base, [repo])


def test_unrelated_history_explains_shallow_clones(repo: Path) -> None:
    git(repo, "checkout", "--quiet", "--orphan", "other")
    commit(repo, "unrelated root")
    with pytest.raises(DiffBaseError, match="fetch-depth: 0"):
        changed_migrations("feature", [repo])


def test_outside_a_repository(tmp_path: Path) -> None:
    with pytest.raises(DiffBaseError):
        changed_migrations("main", [tmp_path])
