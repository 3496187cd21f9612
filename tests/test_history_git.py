"""Applied = present at the merge base with the default branch, judged from real git repositories.

Every test builds its repositories with the real `git` binary in `tmp_path` and asserts which
migration files the user would see flagged as modified or deleted.
"""

from __future__ import annotations

import shutil
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from migration_lsp.history import git as applied
from migration_lsp.history.git import AppliedIndex

pytestmark = pytest.mark.skipif(shutil.which("git") is None, reason="git is not installed")

FIRST = '"""add users"""\nrevision = "a1"\ndown_revision = None\n'
SECOND = '"""add orders"""\nrevision = "b2"\ndown_revision = "a1"\n'


@pytest.fixture(autouse=True)
def git_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """A hermetic git: fixed identity, no user or system configuration, fresh caches."""
    config = tmp_path / "gitconfig"
    config.write_text("")
    for name, value in {
        "GIT_AUTHOR_NAME": "Ada",
        "GIT_AUTHOR_EMAIL": "ada@example.com",
        "GIT_COMMITTER_NAME": "Ada",
        "GIT_COMMITTER_EMAIL": "ada@example.com",
        "GIT_CONFIG_GLOBAL": str(config),
        "GIT_CONFIG_NOSYSTEM": "1",
    }.items():
        monkeypatch.setenv(name, value)
    applied.clear_cache()
    yield
    applied.clear_cache()


@pytest.fixture
def calls(monkeypatch: pytest.MonkeyPatch) -> list[list[str]]:
    """Every git command the module runs (its arguments after the global options)."""
    seen: list[list[str]] = []
    real = applied.run_git

    def counting(cwd: Path, args: list[str], ok: tuple[int, ...] = (0,)) -> bytes | None:
        seen.append(args)
        return real(cwd, args, ok)

    monkeypatch.setattr(applied, "run_git", counting)
    return seen


class Repo:
    def __init__(self, root: Path) -> None:
        self.root = root

    @classmethod
    def init(cls, root: Path, branch: str = "main") -> Repo:
        root.mkdir(parents=True, exist_ok=True)
        repo = cls(root)
        repo.git("init", "-q", "-b", branch)
        return repo

    def git(self, *args: str) -> str:
        proc = subprocess.run(
            ["git", *args], cwd=self.root, capture_output=True, text=True, check=False
        )
        assert proc.returncode == 0, f"git {' '.join(args)}: {proc.stderr}"
        return proc.stdout.strip()

    def write(self, rel: str, text: str, newline: str = "\n") -> Path:
        path = self.root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(text.replace("\n", newline).encode())
        return path

    def commit(self, message: str = "change") -> str:
        self.git("add", "-A")
        self.git("commit", "-q", "--allow-empty", "-m", message)
        return self.git("rev-parse", "HEAD")

    def head(self) -> str:
        return self.git("rev-parse", "HEAD")


def versions(repo: Repo, sub: str = "alembic/versions") -> Path:
    return repo.root / sub


def files_in(folder: Path) -> list[Path]:
    return sorted(p for p in folder.rglob("*") if p.is_file())


def is_py(path: Path) -> bool:
    return path.suffix == ".py"


def modified(index: AppliedIndex, folder: Path, texts: dict[Path, str] | None = None) -> list[str]:
    return [
        c.path.relative_to(folder).as_posix()
        for c in index.changes(files_in(folder), texts)
        if c.kind == "modified"
    ]


def deleted(index: AppliedIndex, folder: Path) -> list[str]:
    return [c.path.relative_to(folder).as_posix() for c in index.deleted([folder], is_py)]


@pytest.fixture
def repo(tmp_path: Path) -> Repo:
    """main: a1 and b2 committed; HEAD on main."""
    repo = Repo.init(tmp_path / "app")
    repo.write("alembic/versions/a1_add_users.py", FIRST)
    repo.write("alembic/versions/b2_add_orders.py", SECOND)
    repo.write("README.md", "app\n")
    repo.commit("initial migrations")
    return repo


# -- the main scenarios -------------------------------------------------------------------------


def test_editing_an_applied_migration_on_a_branch_is_modified(repo: Repo) -> None:
    base = repo.head()
    repo.git("switch", "-q", "-c", "feature")
    repo.write("alembic/versions/a1_add_users.py", FIRST + "# edited\n")
    repo.write("alembic/versions/c3_new.py", 'revision = "c3"\n')
    repo.commit("edit a1, add c3")
    repo.write("alembic/versions/c3_new.py", 'revision = "c3"\n# still editing\n')

    index = AppliedIndex.for_path(repo.root)
    assert index is not None
    folder = versions(repo)
    changes = index.changes(files_in(folder))
    assert [(c.path, c.kind) for c in changes] == [(folder / "a1_add_users.py", "modified")]
    assert (changes[0].base, changes[0].base_ref) == (base, "main")
    assert index.deleted([folder], is_py) == []
    assert index.is_applied(folder / "b2_add_orders.py")
    assert not index.is_applied(folder / "c3_new.py")


def test_deleting_an_applied_migration_is_deleted(repo: Repo) -> None:
    repo.git("switch", "-q", "-c", "feature")
    (versions(repo) / "b2_add_orders.py").unlink()
    repo.commit("drop b2")
    (versions(repo) / "a1_add_users.py").unlink()  # uncommitted deletion counts too
    (repo.root / "README.md").unlink()

    index = AppliedIndex.for_path(repo.root / "alembic")
    assert index is not None
    assert deleted(index, versions(repo)) == ["a1_add_users.py", "b2_add_orders.py"]
    assert modified(index, versions(repo)) == []
    # the filter decides what a migration is: README.md is gone too, but not reported
    everything = index.deleted([repo.root], lambda p: True)
    assert [c.path.name for c in everything] == [
        "README.md",
        "a1_add_users.py",
        "b2_add_orders.py",
    ]


def test_uncommitted_edit_on_main_is_modified_and_base_is_head(repo: Repo) -> None:
    repo.write("alembic/versions/b2_add_orders.py", SECOND + "op.drop_table('x')\n")
    index = AppliedIndex.for_path(repo.root)
    assert index is not None
    assert (index.base, index.base_ref) == (repo.head(), "main")
    assert modified(index, versions(repo)) == ["b2_add_orders.py"]


def test_committed_on_main_is_applied_but_a_new_untracked_file_is_not(repo: Repo) -> None:
    repo.write("alembic/versions/c3_new.py", 'revision = "c3"\n')
    index = AppliedIndex.for_path(repo.root)
    assert index is not None
    assert index.is_applied(versions(repo) / "a1_add_users.py")
    assert not index.is_applied(versions(repo) / "c3_new.py")
    assert modified(index, versions(repo)) == []


def test_unsaved_buffer_overrides_the_disk(repo: Repo) -> None:
    folder = versions(repo)
    repo.write("alembic/versions/a1_add_users.py", FIRST + "# saved edit\n")
    index = AppliedIndex.for_path(repo.root)
    assert index is not None
    assert modified(index, folder) == ["a1_add_users.py"]
    # the editor holds the original text again (not saved yet): nothing to report for a1
    # while b2's unsaved buffer differs from the committed file
    texts = {folder / "a1_add_users.py": FIRST, folder / "b2_add_orders.py": SECOND + "#\n"}
    assert modified(index, folder, texts) == ["b2_add_orders.py"]


def test_line_ending_only_differences_are_not_reported(repo: Repo) -> None:
    folder = versions(repo)
    repo.write("alembic/versions/a1_add_users.py", FIRST, newline="\r\n")
    index = AppliedIndex.for_path(repo.root)
    assert index is not None
    assert modified(index, folder) == []
    texts = {folder / "b2_add_orders.py": SECOND.replace("\n", "\r\n")}
    assert modified(index, folder, texts) == []
    # a real edit in a CRLF file is still one
    texts = {folder / "b2_add_orders.py": (SECOND + "x = 1\n").replace("\n", "\r\n")}
    assert modified(index, folder, texts) == ["b2_add_orders.py"]


def test_file_committed_with_crlf_and_checked_out_with_lf(tmp_path: Path) -> None:
    repo = Repo.init(tmp_path / "crlf")
    repo.write("db/migrate/1_init.sql", "create table a (id int);\n", newline="\r\n")
    repo.commit()
    repo.write("db/migrate/1_init.sql", "create table a (id int);\n")
    index = AppliedIndex.for_path(repo.root)
    assert index is not None
    assert index.changes(files_in(repo.root / "db")) == []


def test_buffer_in_a_legacy_encoding_matches_its_disk_bytes(tmp_path: Path) -> None:
    repo = Repo.init(tmp_path / "latin")
    path = repo.root / "db" / "V1__café.sql"
    path.parent.mkdir(parents=True)
    path.write_bytes("-- café\n".encode("latin-1"))
    repo.commit()
    index = AppliedIndex.for_path(repo.root)
    assert index is not None
    assert index.changes([path], {path: "-- café\n"}) == []
    assert [c.kind for c in index.changes([path], {path: "-- cafe\n"})] == ["modified"]


# -- which branch is the default ----------------------------------------------------------------


def test_no_remote_uses_local_master(tmp_path: Path) -> None:
    repo = Repo.init(tmp_path / "legacy", branch="master")
    repo.write("migrations/0001_initial.py", "x = 1\n")
    base = repo.commit()
    repo.git("switch", "-q", "-c", "topic")
    repo.write("migrations/0001_initial.py", "x = 2\n")
    repo.commit()
    index = AppliedIndex.for_path(repo.root)
    assert index is not None
    assert (index.base, index.base_ref) == (base, "master")
    assert modified(index, repo.root / "migrations") == ["0001_initial.py"]


def test_no_default_branch_is_silent(tmp_path: Path) -> None:
    repo = Repo.init(tmp_path / "odd", branch="trunk")
    repo.write("migrations/0001_initial.py", "x = 1\n")
    repo.commit()
    assert AppliedIndex.for_path(repo.root) is None
    index = AppliedIndex.for_path(repo.root, default_branch="trunk")
    assert index is not None
    assert index.base_ref == "trunk"
    assert AppliedIndex.for_path(repo.root, default_branch="no-such-branch") is None
    assert AppliedIndex.for_path(repo.root, default_branch="../../HEAD") is None


def clone(origin: Repo, target: Path, *options: str) -> Repo:
    subprocess.run(
        ["git", "clone", "-q", *options, f"file://{origin.root}", str(target)],
        check=True,
        capture_output=True,
    )
    return Repo(target)


@pytest.fixture
def origin(tmp_path: Path) -> Repo:
    """A bare "origin" with main (a1, b2) and develop (a1, b2, d4)."""
    work = Repo.init(tmp_path / "upstream-work")
    work.write("alembic/versions/a1_add_users.py", FIRST)
    work.write("alembic/versions/b2_add_orders.py", SECOND)
    work.commit("main")
    work.git("switch", "-q", "-c", "develop")
    work.write("alembic/versions/d4_develop.py", 'revision = "d4"\n')
    work.commit("develop")
    work.git("switch", "-q", "main")
    bare = tmp_path / "origin.git"
    subprocess.run(
        ["git", "clone", "-q", "--bare", str(work.root), str(bare)], check=True, capture_output=True
    )
    return Repo(bare)


def test_origin_head_names_the_default_branch(origin: Repo, tmp_path: Path) -> None:
    repo = clone(origin, tmp_path / "clone")
    repo.git("switch", "-q", "-c", "feature", "origin/develop")
    repo.write("alembic/versions/d4_develop.py", 'revision = "d4"\n# edited\n')
    folder = versions(repo)

    index = AppliedIndex.for_path(repo.root)
    assert index is not None
    assert index.base_ref == "origin/main"  # origin/HEAD as cloned
    assert modified(index, folder) == []  # d4 is not on main: not applied

    repo.git("remote", "set-head", "origin", "develop")
    index = AppliedIndex.for_path(repo.root)
    assert index is not None
    assert index.base_ref == "origin/develop"
    assert index.base == repo.git("rev-parse", "origin/develop")
    assert modified(index, folder) == ["d4_develop.py"]


def test_remote_main_wins_over_a_stale_local_main(origin: Repo, tmp_path: Path) -> None:
    repo = clone(origin, tmp_path / "clone")
    repo.git("remote", "set-head", "origin", "--delete")
    repo.git("switch", "-q", "-c", "feature", "origin/develop")
    repo.git("update-ref", "refs/heads/main", "origin/develop")  # local main: not what shipped
    index = AppliedIndex.for_path(repo.root)
    assert index is not None
    assert (index.base_ref, index.base) == ("origin/main", repo.git("rev-parse", "origin/main"))
    configured = AppliedIndex.for_path(repo.root, default_branch="develop")
    assert configured is not None
    assert configured.base_ref == "origin/develop"


def test_detached_head(repo: Repo) -> None:
    repo.git("switch", "-q", "-c", "feature")
    repo.write("alembic/versions/a1_add_users.py", FIRST + "# edit\n")
    repo.commit()
    repo.git("switch", "-q", "--detach", "HEAD")
    index = AppliedIndex.for_path(repo.root)
    assert index is not None
    assert index.base == repo.git("rev-parse", "main")
    assert modified(index, versions(repo)) == ["a1_add_users.py"]


def test_unrelated_histories_have_no_merge_base(repo: Repo) -> None:
    repo.git("switch", "-q", "--orphan", "rewrite")
    repo.write("alembic/versions/a1_add_users.py", FIRST + "# other history\n")
    repo.commit("unrelated")
    assert AppliedIndex.for_path(repo.root) is None


def test_repository_without_commits_is_silent(tmp_path: Path) -> None:
    repo = Repo.init(tmp_path / "empty")
    repo.write("migrations/0001.py", "x = 1\n")
    assert AppliedIndex.for_path(repo.root) is None


# -- shallow clones -----------------------------------------------------------------------------


def test_shallow_clone_with_the_base_present(origin: Repo, tmp_path: Path) -> None:
    repo = clone(origin, tmp_path / "shallow", "--depth", "1")
    assert repo.git("rev-parse", "--is-shallow-repository") == "true"
    repo.git("switch", "-q", "-c", "feature")
    repo.write("alembic/versions/b2_add_orders.py", SECOND + "# edit\n")
    repo.commit()
    index = AppliedIndex.for_path(repo.root)
    assert index is not None
    assert (index.base_ref, index.base) == ("origin/main", repo.git("rev-parse", "origin/main"))
    assert modified(index, versions(repo)) == ["b2_add_orders.py"]


def test_shallow_clone_without_the_base_is_silent(origin: Repo, tmp_path: Path) -> None:
    repo = clone(origin, tmp_path / "shallow", "--depth", "1")
    repo.git("switch", "-q", "-c", "feature")
    repo.write("alembic/versions/b2_add_orders.py", SECOND + "# edit\n")
    repo.commit()
    # main moves on upstream; a shallow fetch cannot see where feature forked from it
    upstream = clone(origin, tmp_path / "pusher")
    upstream.write("alembic/versions/e5.py", 'revision = "e5"\n')
    upstream.commit()
    upstream.write("alembic/versions/f6.py", 'revision = "f6"\n')
    upstream.commit()
    upstream.git("push", "-q", "origin", "main")
    repo.git("fetch", "-q", "--depth", "1", "origin", "main")
    unknown = subprocess.run(
        ["git", "merge-base", "HEAD", "origin/main"], cwd=repo.root, check=False
    )
    assert unknown.returncode != 0
    assert AppliedIndex.for_path(repo.root) is None


# -- where the workspace is ---------------------------------------------------------------------


def test_not_a_repository_is_silent_without_running_git(
    tmp_path: Path, calls: list[list[str]]
) -> None:
    folder = tmp_path / "plain" / "migrations"
    folder.mkdir(parents=True)
    (folder / "0001.py").write_text("x = 1\n")
    assert AppliedIndex.for_path(folder / "0001.py") is None
    assert AppliedIndex.for_path(tmp_path / "does" / "not" / "exist") is None
    assert calls == []


def test_git_missing_is_silent(repo: Repo, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    empty = tmp_path / "no-git-here"
    empty.mkdir()
    monkeypatch.setenv("PATH", str(empty))
    assert AppliedIndex.for_path(repo.root) is None


def test_git_too_slow_is_silent_and_not_waited_for_again(
    repo: Repo, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, calls: list[list[str]]
) -> None:
    fake = tmp_path / "slow-bin"
    fake.mkdir()
    script = fake / "git"
    script.write_text(f"#!/bin/sh\nexec {shutil.which('sleep')} 10\n")
    script.chmod(0o755)
    monkeypatch.setenv("PATH", str(fake))
    monkeypatch.setattr(applied, "GIT_TIMEOUT", 0.3)
    started = time.monotonic()
    assert AppliedIndex.for_path(repo.root) is None
    assert AppliedIndex.for_path(repo.root) is None
    assert time.monotonic() - started < 5
    assert len(calls) == 1


def test_workspace_in_a_subfolder_of_the_repository(tmp_path: Path) -> None:
    repo = Repo.init(tmp_path / "mono")
    repo.write("services/api/alembic/versions/a1.py", FIRST)
    repo.write("services/api/alembic/versions/b2.py", SECOND)
    repo.commit()
    repo.git("switch", "-q", "-c", "feature")
    repo.write("services/api/alembic/versions/a1.py", FIRST + "# edit\n")
    (repo.root / "services/api/alembic/versions/b2.py").unlink()
    workspace = repo.root / "services" / "api"
    index = AppliedIndex.for_path(workspace)
    assert index is not None
    assert index.root == repo.root.resolve()
    folder = workspace / "alembic" / "versions"
    assert modified(index, folder) == ["a1.py"]
    assert deleted(index, folder) == ["b2.py"]


def test_symlinked_workspace_reports_paths_as_the_caller_spells_them(
    repo: Repo, tmp_path: Path
) -> None:
    link = tmp_path / "link-to-app"
    link.symlink_to(repo.root, target_is_directory=True)
    repo.write("alembic/versions/a1_add_users.py", FIRST + "# edit\n")
    (versions(repo) / "b2_add_orders.py").unlink()
    index = AppliedIndex.for_path(link / "alembic")
    assert index is not None
    folder = link / "alembic" / "versions"
    assert [c.path for c in index.changes([folder / "a1_add_users.py"])] == [
        folder / "a1_add_users.py"
    ]
    assert [c.path for c in index.deleted([folder], is_py)] == [folder / "b2_add_orders.py"]
    # an unsaved buffer is found under the spelling the editor uses
    assert index.changes([folder / "a1_add_users.py"], {folder / "a1_add_users.py": FIRST}) == []


def test_linked_worktree(repo: Repo, tmp_path: Path, calls: list[list[str]]) -> None:
    other = tmp_path / "second-worktree"
    repo.git("worktree", "add", "-q", "-b", "feature", str(other))
    Repo(other).write("alembic/versions/a1_add_users.py", FIRST + "# edit\n")
    index = AppliedIndex.for_path(other)
    assert index is not None
    assert index.base == repo.head()
    assert modified(index, other / "alembic" / "versions") == ["a1_add_users.py"]
    calls.clear()
    assert AppliedIndex.for_path(other) is index
    assert calls == []


def test_file_names_with_shell_characters(tmp_path: Path) -> None:
    repo = Repo.init(tmp_path / "odd names")
    names = [
        "with space.sql",
        "quote'single.sql",
        'quote"double.sql',
        "$(touch pwned).sql",
        "semi;colon.sql",
        "glob*star[1].sql",
        "ünïcode.sql",
        "-dash.sql",
    ]
    for name in names:
        repo.write(f"db/mig rations*/{name}", f"-- {name}\n")
    repo.commit()
    repo.git("switch", "-q", "-c", "feature")
    folder = repo.root / "db" / "mig rations*"
    for name in names[::2]:
        (folder / name).write_text("-- changed\n")
    for name in names[1::2]:
        (folder / name).unlink()
    index = AppliedIndex.for_path(folder)
    assert index is not None
    assert sorted(modified(index, folder)) == sorted(names[::2])
    gone = [c.path.name for c in index.deleted([folder], lambda p: p.suffix == ".sql")]
    assert sorted(gone) == sorted(names[1::2])
    assert not list(tmp_path.rglob("pwned*"))


# -- cost ---------------------------------------------------------------------------------------


def test_second_call_runs_no_git_and_a_new_commit_is_seen(
    repo: Repo, calls: list[list[str]]
) -> None:
    folder = versions(repo)
    repo.git("switch", "-q", "-c", "feature")
    repo.write("alembic/versions/c3_new.py", 'revision = "c3"\n')
    repo.commit("add c3")
    repo.write("alembic/versions/a1_add_users.py", FIRST + "# edit\n")

    index = AppliedIndex.for_path(repo.root)
    assert index is not None
    assert modified(index, folder) == ["a1_add_users.py"]
    assert deleted(index, folder) == []
    assert index.is_applied(folder / "b2_add_orders.py")
    subcommands = [args[0] for args in calls]
    assert subcommands == ["rev-parse", "for-each-ref", "merge-base", "ls-tree"]

    calls.clear()
    again = AppliedIndex.for_path(repo.root / "alembic" / "versions" / "a1_add_users.py")
    assert again is index
    assert modified(again, folder) == ["a1_add_users.py"]
    assert deleted(again, folder) == []
    assert calls == []

    # once the edit is committed and merged into main, a1 is applied in its new form
    repo.commit("edit a1")
    repo.git("switch", "-q", "main")
    repo.git("merge", "-q", "--ff-only", "feature")
    index = AppliedIndex.for_path(repo.root)
    assert index is not None and index is not again
    assert calls != []
    assert modified(index, folder) == []


def test_packed_refs_still_hit_the_cache(
    origin: Repo, tmp_path: Path, calls: list[list[str]]
) -> None:
    repo = clone(origin, tmp_path / "packed")
    repo.git("switch", "-q", "-c", "feature")
    repo.git("pack-refs", "--all")
    assert AppliedIndex.for_path(repo.root) is not None
    calls.clear()
    index = AppliedIndex.for_path(repo.root)
    assert index is not None and index.base_ref == "origin/main"
    assert calls == []


def test_never_reads_history(origin: Repo, tmp_path: Path, calls: list[list[str]]) -> None:
    repo = clone(origin, tmp_path / "history")
    repo.git("switch", "-q", "-c", "feature")
    for number in range(30):
        repo.write(f"alembic/versions/n{number}.py", f'revision = "n{number}"\n')
        repo.commit(f"n{number}")
    index = AppliedIndex.for_path(repo.root)
    assert index is not None
    index.changes(files_in(versions(repo)))
    index.deleted([versions(repo)], is_py)
    assert {args[0] for args in calls} <= {"rev-parse", "for-each-ref", "merge-base", "ls-tree"}
    assert len(calls) == 4


def test_sha256_repository(tmp_path: Path) -> None:
    root = tmp_path / "sha256"
    root.mkdir()
    proc = subprocess.run(
        ["git", "init", "-q", "-b", "main", "--object-format=sha256"],
        cwd=root,
        capture_output=True,
        check=False,
    )
    if proc.returncode != 0:
        pytest.skip("this git cannot create sha256 repositories")
    repo = Repo(root)
    repo.write("migrations/0001.sql", "create table a (id int);\n")
    repo.write("migrations/0002.sql", "create table b (id int);\n")
    repo.commit()
    repo.write("migrations/0002.sql", "drop table b;\n")
    index = AppliedIndex.for_path(root)
    assert index is not None and len(index.base) == 64
    assert modified(index, root / "migrations") == ["0002.sql"]


def test_git_environment_of_a_hook_is_ignored(
    repo: Repo, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    other = Repo.init(tmp_path / "elsewhere")
    other.write("x.txt", "x\n")
    other.commit()
    monkeypatch.setenv("GIT_DIR", str(other.root / ".git"))
    repo_index = AppliedIndex.for_path(repo.root)
    assert repo_index is not None
    assert repo_index.is_applied(versions(repo) / "a1_add_users.py")


def test_listing_many_folders_stays_one_command(tmp_path: Path, calls: list[list[str]]) -> None:
    repo = Repo.init(tmp_path / "prisma")
    for number in range(100):
        repo.write(f"prisma/migrations/2024{number:04d}_m/migration.sql", f"-- {number}\n")
    repo.commit()
    repo.write("prisma/migrations/20240042_m/migration.sql", "-- changed\n")
    index = AppliedIndex.for_path(repo.root)
    assert index is not None
    folder = repo.root / "prisma" / "migrations"
    assert modified(index, folder) == ["20240042_m/migration.sql"]
    listings = [args for args in calls if args[0] == "ls-tree"]
    assert len(listings) == 1
    assert len(listings[0]) < 20
    assert deleted(index, folder) == []


def test_committed_symlinks_and_submodules_are_not_migrations_to_compare(tmp_path: Path) -> None:
    repo = Repo.init(tmp_path / "links")
    repo.write("db/V1__init.sql", "create table a (id int);\n")
    (repo.root / "db" / "latest.sql").symlink_to("V1__init.sql")
    repo.commit()
    repo.git("update-index", "--add", "--cacheinfo", f"160000,{repo.head()},db/vendored")
    repo.git("commit", "-q", "-m", "submodule entry")
    index = AppliedIndex.for_path(repo.root)
    assert index is not None
    folder = repo.root / "db"
    assert index.changes(files_in(folder)) == []
    assert index.deleted([folder], lambda p: True) == []
    assert not index.is_applied(folder / "latest.sql")
