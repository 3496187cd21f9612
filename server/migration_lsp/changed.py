"""The migrations a pull request adds or changes: what `check --diff-base REF` checks.

Git is asked with fixed argument lists (no shell): the merge base of `REF` and `HEAD`, then the
files added, modified or renamed since it (`git diff --diff-filter=AMR`, which compares with the
work tree, so uncommitted edits count when run locally; in CI the work tree is `HEAD`), plus
untracked files. Of those, only the files that belong to a migration project detected under the
given paths are kept: a pull request that touches no migration checks nothing.
"""

from __future__ import annotations

import subprocess
from collections.abc import Iterable, Sequence
from pathlib import Path

from migration_lsp.project.config import ConfigError
from migration_lsp.project.detect import Project, detect_enclosing, detect_projects

GIT_TIMEOUT = 60.0
"""Seconds any one git command may take."""


class DiffBaseError(ConfigError):
    """`--diff-base` cannot be used: not a repository, an unknown ref, no merge base (a
    shallow clone), or no git at all. The CLI reports it as a usage error (exit status 2)."""


def _git(cwd: Path, *args: str) -> str:
    try:
        proc = subprocess.run(
            ["git", *args],
            cwd=cwd,
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            encoding="utf-8",
            errors="surrogateescape",
            timeout=GIT_TIMEOUT,
            check=False,
        )
    except FileNotFoundError as error:
        raise DiffBaseError("--diff-base needs git, and git is not installed") from error
    except subprocess.TimeoutExpired as error:
        raise DiffBaseError(f"git {args[0]} took longer than {GIT_TIMEOUT:.0f}s") from error
    if proc.returncode != 0:
        raise DiffBaseError(_git_error(proc.stderr) or f"git {args[0]} failed")
    return proc.stdout


def _git_error(stderr: str) -> str:
    """git's one-line reason: its `fatal:`/`error:` line, not the `hint:` lines after it
    (a "dubious ownership" error ends with a command to run, not with the reason)."""
    lines = [line.strip() for line in stderr.splitlines() if line.strip()]
    for line in lines:
        if line.startswith(("fatal:", "error:")):
            return line
    return lines[-1] if lines else ""


def toplevel(cwd: Path) -> Path:
    """The root of the work tree holding `cwd`, with symbolic links resolved like the paths it
    is compared with."""
    try:
        return Path(_git(cwd, "rev-parse", "--show-toplevel").strip()).resolve()
    except DiffBaseError as error:
        if "not a git repository" in str(error):
            raise DiffBaseError(f"--diff-base: {cwd} is not in a git repository") from error
        raise DiffBaseError(f"--diff-base: {error}") from error


def merge_base(base: str, cwd: Path) -> str:
    """The commit where `HEAD` forked from `base` (a branch, tag or commit)."""
    if not base or base.startswith("-"):
        raise DiffBaseError(f"--diff-base: {base!r} is not a git revision")
    toplevel(cwd)  # a clear error outside a repository
    try:
        _git(cwd, "rev-parse", "--verify", "--quiet", "--end-of-options", f"{base}^{{commit}}")
    except DiffBaseError as error:
        raise DiffBaseError(
            f"--diff-base: unknown revision {base!r} (is it fetched? `git fetch origin`)"
        ) from error
    try:
        return _git(cwd, "merge-base", "--end-of-options", base, "HEAD").strip()
    except DiffBaseError as error:
        raise DiffBaseError(
            f"--diff-base: no common ancestor of {base!r} and HEAD; in a shallow clone fetch "
            "the whole history (actions/checkout: `fetch-depth: 0`; GitLab: `GIT_DEPTH: 0`)"
        ) from error


def changed_files(base: str, cwd: Path | None = None) -> list[Path]:
    """Absolute paths of the files added, modified or renamed since `HEAD` forked from `base`,
    committed or not, plus untracked files; sorted, existing files only."""
    folder = (cwd or Path.cwd()).resolve()
    fork = merge_base(base, folder)
    top = toplevel(folder)
    # from the top, so names are relative to it whatever `diff.relative` says, and untracked
    # files outside `folder` are listed too
    diffed = _git(
        top, "diff", "--name-only", "--no-relative", "-z", "--diff-filter=AMR", fork, "--"
    )
    untracked = _git(top, "ls-files", "--others", "--exclude-standard", "-z")
    names = {name for name in (diffed + untracked).split("\0") if name}
    return sorted(p for p in (top / name for name in names) if p.is_file())


def _projects(paths: Sequence[Path]) -> list[Project]:
    found: list[Project] = []
    for path in paths:
        folder = path if path.is_dir() else path.parent
        projects = detect_projects(folder) or detect_enclosing(folder)
        found.extend(projects)
    return found


def _belongs(path: Path, project: Project) -> bool:
    """A migration of the project, or a file in one of its migration folders (so a misnamed
    Flyway script is checked, and reported by `invalid-migration-filename`)."""
    if project.is_migration_file(path):
        return True
    folders = [folder.resolve() for folder in project.migration_dirs]
    return any(folder in path.parents for folder in folders)


def _under(path: Path, roots: Iterable[Path]) -> bool:
    return any(path == root or root in path.parents for root in roots)


def changed_migrations(base: str, paths: Sequence[Path] = (Path("."),)) -> list[Path]:
    """The changed files (see `changed_files`) under `paths` that belong to a migration project
    detected there: what `migration-lsp check --diff-base BASE PATH...` checks."""
    given = [Path(p) for p in paths or [Path(".")]]
    for path in given:
        if not path.exists():
            raise ConfigError(f"no such file or directory: {path}")
    roots = [path.resolve() for path in given]
    start = roots[0] if roots[0].is_dir() else roots[0].parent
    files = [f for f in changed_files(base, start) if _under(f, roots)]
    if not files:
        return []
    projects = _projects(roots)
    return [f for f in files if any(_belongs(f, p) for p in projects)]
