"""modified-applied-migration and deleted-applied-migration: what the default branch merged
counts as applied; judged from git, in the work tree and in unsaved editor buffers."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from gitrepo import git
from migration_lsp.engine import Workspace, analyse_document
from migration_lsp.project.config import Config
from migration_lsp.project.detect import detect_projects

FIXTURE = Path(__file__).parent / "fixtures" / "history" / "alembic_branches"
RULES = ["modified-applied-migration", "deleted-applied-migration"]
VERSIONS = Path("migrations") / "versions"
EMAIL = VERSIONS / "27c6a30d7c24_add_email.py"
USERS = VERSIONS / "1975ea83b712_create_users.py"

pytestmark = pytest.mark.skipif(shutil.which("git") is None, reason="git is not installed")


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    root = tmp_path / "repo"
    shutil.copytree(FIXTURE, root)
    git(root, "init", "-q", "-b", "main")
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", "migrations so far")
    git(root, "checkout", "-q", "-b", "feature")
    return root


def findings(root: Path, **options: str) -> list[tuple[str, int, str]]:
    result = Workspace(select=RULES, defaults=options or None).check([root])
    return sorted((Path(f.path).name, f.start[0] + 1, f.rule) for f in result.findings)


def test_editing_a_merged_migration_is_flagged_on_its_revision_line(repo: Path) -> None:
    path = repo / EMAIL
    path.write_text(path.read_text().replace("sa.Text()", "sa.String(320)"))
    assert findings(repo) == [("27c6a30d7c24_add_email.py", 15, "modified-applied-migration")]


def test_files_new_on_the_branch_may_change_freely(repo: Path) -> None:
    new = repo / VERSIONS / "5b2e8d1c4f6a_add_orders.py"
    new.write_text((repo / EMAIL).read_text().replace("27c6a30d7c24", "5b2e8d1c4f6a"))
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "add orders")
    new.write_text(new.read_text().replace("sa.Text()", "sa.String(320)"))
    assert findings(repo) == []


def test_deleting_a_merged_migration_is_reported_on_the_file_after_it(repo: Path) -> None:
    (repo / USERS).unlink()
    result = Workspace(select=RULES).check([repo])
    (finding,) = result.findings
    assert Path(finding.path).name == "27c6a30d7c24_add_email.py"
    assert finding.rule == "deleted-applied-migration"
    assert "1975ea83b712_create_users.py is applied on main" in finding.message


def test_line_ending_only_changes_are_not_edits(repo: Path) -> None:
    path = repo / EMAIL
    path.write_bytes(path.read_bytes().replace(b"\n", b"\r\n"))
    assert findings(repo) == []


def test_unsaved_buffer_edits_count(repo: Path) -> None:
    (project,) = detect_projects(repo)
    workspace = Workspace(select=RULES)
    config = workspace.config_for(repo / EMAIL)
    text = (repo / EMAIL).read_text()
    edited = text.replace("nullable=True", "nullable=False")

    def rules(current: str) -> list[str]:
        analysis = analyse_document(
            str(repo / EMAIL),
            current,
            project,
            config,
            history=workspace.history(project),
            applied=workspace.applied(project, config),
        )
        return [f.rule for f in analysis.findings]

    assert rules(text) == []
    assert rules(edited) == ["modified-applied-migration"]


def test_configured_default_branch_and_no_repository(repo: Path, tmp_path: Path) -> None:
    git(repo, "checkout", "-q", "-b", "release", "main")
    git(repo, "checkout", "-q", "feature")
    path = repo / EMAIL
    path.write_text(path.read_text() + "\n# reviewed\n")
    assert findings(repo, **{"default-branch": "release"}) == [
        ("27c6a30d7c24_add_email.py", 15, "modified-applied-migration")
    ]
    outside = tmp_path / "plain"
    shutil.copytree(FIXTURE, outside)
    assert findings(outside) == []


def test_config_rejects_option_like_branch_names(tmp_path: Path) -> None:
    from migration_lsp.project.config import ConfigError, parse_options

    assert parse_options({"default-branch": "develop"}).default_branch == "develop"
    with pytest.raises(ConfigError, match="default-branch"):
        parse_options({"default-branch": "--upload-pack=touch x"})
    assert Config().default_branch is None
