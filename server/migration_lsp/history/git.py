"""Which migrations are "applied": those present at the merge base with the default branch.

No database is asked: a migration that reached the default branch is taken as deployed, so editing
or deleting it on a branch (or uncommitted on the default branch) is what the history rules flag.

Cost is bounded for large histories: on a cache miss at most `rev-parse`, `for-each-ref`,
`merge-base` and one `ls-tree` per set of directories run (never `git log`, never git per file);
the current content is hashed in Python and compared with the object ids `ls-tree` lists. The
answer is cached per (repository, HEAD commit, default-branch commit, setting), and the cache is
checked by reading `.git/HEAD` and the refs as files, so a repeated call runs no git process.
"""

from __future__ import annotations

import hashlib
import logging
import os
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

log = logging.getLogger(__name__)

GIT_TIMEOUT = 5.0
"""Seconds one git process may take before the repository is treated as unknown."""

_MAX_PATHSPECS = 64
"""More directories than this are listed through their common parents (command-line limits)."""

_ENV_DROPPED = ("GIT_DIR", "GIT_WORK_TREE", "GIT_INDEX_FILE", "GIT_COMMON_DIR", "GIT_PREFIX")
"""Set by git hooks; they would point our read-only commands at another repository."""

_DEFAULT_CANDIDATES = (
    "refs/remotes/origin/HEAD",
    "refs/remotes/origin/main",
    "refs/remotes/origin/master",
    "refs/heads/main",
    "refs/heads/master",
)


@dataclass(frozen=True, slots=True)
class AppliedChange:
    path: Path
    """Absolute path in the work tree, spelled the way the caller spelled the file or folder."""
    kind: Literal["modified", "deleted"]
    base: str
    """The merge-base commit (full id) the file was compared with."""
    base_ref: str
    """What the default branch was resolved from, e.g. `origin/main`."""


class GitUnavailable(Exception):
    """git is not installed, could not start, or timed out."""

    def __init__(self, timed_out: bool) -> None:
        super().__init__("git timed out" if timed_out else "git could not run")
        self.timed_out = timed_out


def run_git(cwd: Path, args: list[str], ok: tuple[int, ...] = (0,)) -> bytes | None:
    """Run one read-only git command; stdout on an accepted exit code, else None.

    The single place git is started (tests count calls here). Fixed argument list, no shell,
    no optional locks (never blocks a concurrent `git commit`), literal pathspecs.
    """
    env = {k: v for k, v in os.environ.items() if k not in _ENV_DROPPED}
    env["GIT_OPTIONAL_LOCKS"] = "0"
    env["GIT_TERMINAL_PROMPT"] = "0"
    command = ["git", "-c", "core.quotepath=off", "--literal-pathspecs", "--no-pager", *args]
    flags = getattr(subprocess, "CREATE_NO_WINDOW", 0) if sys.platform == "win32" else 0
    try:
        proc = subprocess.run(
            command,
            cwd=cwd,
            env=env,
            stdin=subprocess.DEVNULL,
            capture_output=True,
            timeout=GIT_TIMEOUT,
            check=False,
            creationflags=flags,
        )
    except subprocess.TimeoutExpired as exc:
        log.warning("git %s timed out after %ss in %s", args[0], GIT_TIMEOUT, cwd)
        raise GitUnavailable(timed_out=True) from exc
    except OSError as exc:
        log.debug("git could not start: %s", exc)
        raise GitUnavailable(timed_out=False) from exc
    if proc.returncode not in ok:
        log.debug("git %s exited %s: %s", args[0], proc.returncode, proc.stderr[:500])
        return None
    return proc.stdout


# ---------------------------------------------------------------------------------------------
# Default branch: one algorithm over two ways of looking refs up (git itself, or the files).

RefLookup = Callable[[str], tuple[str | None, str | None]]
"""Full ref name -> (commit id or None, symbolic target or None)."""


def _candidates(setting: str | None) -> tuple[str, ...] | None:
    """Refs to try, in order; None when the setting cannot name a branch.

    A bare branch name prefers the remote-tracking branch: a local `main` may be stale.
    """
    if setting is None:
        return _DEFAULT_CANDIDATES
    name = setting.strip()
    if not _valid_ref_name(name):
        return None
    if name.startswith("refs/"):
        return (name,)
    return (f"refs/remotes/origin/{name}", f"refs/heads/{name}", f"refs/remotes/{name}")


def _valid_ref_name(name: str) -> bool:
    """The subset of `git check-ref-format` that keeps a setting from escaping the refs folder."""
    if not name or name.startswith(("/", "-", ".")) or name.endswith(("/", ".", ".lock")):
        return False
    if ".." in name or "//" in name or "@{" in name or "/." in name:
        return False
    return not any(c in name for c in " ~^:?*[\\\x7f") and all(ord(c) >= 32 for c in name)


def _short(ref: str) -> str:
    for prefix in ("refs/remotes/", "refs/heads/", "refs/"):
        if ref.startswith(prefix):
            return ref[len(prefix) :]
    return ref


def _choose_default(lookup: RefLookup, setting: str | None) -> tuple[str, str] | None:
    """(short name, commit) of the default branch, following `origin/HEAD` to its target."""
    for ref in _candidates(setting) or ():
        sha, target = lookup(ref)
        if sha:
            return _short(target or ref), sha
    return None


def _is_object_id(text: str) -> bool:
    return len(text) in (40, 64) and all(c in "0123456789abcdef" for c in text)


# ---------------------------------------------------------------------------------------------
# Reading refs as files: only to check the cache, never to decide an answer on its own.

_packed_cache: dict[Path, tuple[tuple[int, int, int], dict[str, str]]] = {}


def _packed_refs(common: Path) -> dict[str, str]:
    path = common / "packed-refs"
    try:
        st = path.stat()
    except OSError:
        return {}
    stamp = (st.st_mtime_ns, st.st_size, st.st_ino)
    cached = _packed_cache.get(path)
    if cached is not None and cached[0] == stamp:
        return cached[1]
    refs: dict[str, str] = {}
    try:
        text = path.read_text(encoding="utf-8", errors="surrogateescape")
    except OSError:
        return {}
    for line in text.splitlines():
        if line.startswith(("#", "^")):
            continue
        sha, _, name = line.partition(" ")
        if _is_object_id(sha):
            refs[name] = sha
    _packed_cache[path] = (stamp, refs)
    return refs


@dataclass(frozen=True, slots=True)
class _RefFiles:
    """A repository's refs read from disk: `HEAD` in the (worktree's) git dir, the rest shared."""

    gitdir: Path
    common: Path

    @classmethod
    def at(cls, dotgit: Path) -> _RefFiles | None:
        try:
            if dotgit.is_dir():
                gitdir = dotgit
            else:
                text = dotgit.read_text(encoding="utf-8").strip()
                if not text.startswith("gitdir:"):
                    return None
                gitdir = dotgit.parent / text[len("gitdir:") :].strip()
            commondir = gitdir / "commondir"
            common = (
                gitdir / commondir.read_text(encoding="utf-8").strip()
                if commondir.is_file()
                else gitdir
            )
        except OSError:
            return None
        return cls(gitdir, common)

    def lookup(self, ref: str) -> tuple[str | None, str | None]:
        name, target = ref, None
        for _ in range(5):
            folder = self.gitdir if name == "HEAD" else self.common
            try:
                text = (folder / name).read_text(encoding="utf-8").strip()
            except (OSError, UnicodeDecodeError):
                return _packed_refs(self.common).get(name), target
            if not text.startswith("ref:"):
                return (text if _is_object_id(text) else None), target
            name = text[len("ref:") :].strip()
            target = name
        return None, target

    def fingerprint(self, setting: str | None) -> tuple[str, tuple[str, str] | None] | None:
        head, _ = self.lookup("HEAD")
        if head is None:
            return None
        return head, _choose_default(self.lookup, setting)


# ---------------------------------------------------------------------------------------------
# Asking git.


def _git_lookup(cwd: Path, refs: tuple[str, ...]) -> RefLookup:
    out = run_git(
        cwd, ["for-each-ref", "--format=%(refname)%00%(objectname)%00%(symref)", "--", *refs]
    )
    found: dict[str, tuple[str | None, str | None]] = {}
    for line in (out or b"").decode("utf-8", "surrogateescape").splitlines():
        name, sha, target = [*line.split("\0"), "", ""][:3]
        found[name] = (sha or None, target or None)
    return lambda ref: found.get(ref, (None, None))


@dataclass(frozen=True, slots=True)
class _Answer:
    fingerprint: tuple[str, tuple[str, str] | None] | None
    root: Path | None
    index: AppliedIndex | None


def _ask_git(cwd: Path, setting: str | None) -> _Answer:
    """Top level, HEAD, default branch and merge base, from git (raises GitUnavailable)."""
    out = run_git(cwd, ["rev-parse", "--show-toplevel", "--verify", "HEAD^{commit}"])
    lines = (out or b"").decode("utf-8", "surrogateescape").split("\n")
    if len(lines) < 2 or not _is_object_id(lines[1]):
        return _Answer(None, None, None)
    root, head = Path(os.path.realpath(lines[0])), lines[1]
    refs = _candidates(setting)
    chosen = _choose_default(_git_lookup(cwd, refs), setting) if refs else None
    fingerprint = (head, chosen)
    if chosen is None:
        return _Answer(fingerprint, root, None)
    base_ref, ref_sha = chosen
    base: str | None = head
    if ref_sha != head:
        found = run_git(cwd, ["merge-base", head, ref_sha], ok=(0, 1))
        text = (found or b"").decode("ascii", "replace").strip()
        base = text if _is_object_id(text) else None
    index = AppliedIndex(root, base, base_ref) if base else None
    return _Answer(fingerprint, root, index)


# ---------------------------------------------------------------------------------------------
# Where a path lives.


def _existing_dir(path: Path) -> Path | None:
    """The real directory to start from: the path, its folder, or its nearest existing parent."""
    real = Path(os.path.realpath(path))
    for candidate in (real, *real.parents):
        if candidate.is_dir():
            return candidate
    return None


def _find_dotgit(start: Path) -> Path | None:
    for folder in (start, *start.parents):
        dotgit = folder / ".git"
        if os.path.lexists(dotgit):
            return dotgit
    return None


def _relative(root: Path, path: Path, folder: bool = False) -> str | None:
    """`path` relative to the repository root, as git spells it; None when outside.

    Symbolic links are followed in the folders, not in a file's own name: git tracks a linked
    file as a link, and reporting it as its target would report the target twice.
    """
    real = (
        Path(os.path.realpath(path)) if folder else Path(os.path.realpath(path.parent), path.name)
    )
    try:
        rel = real.relative_to(root)
    except ValueError:
        return None
    text = rel.as_posix()
    return "" if text == "." else text


def _under(rel: str, folder: str) -> bool:
    return folder == "" or rel == folder or rel.startswith(folder + "/")


def _collapse(folders: Iterable[str]) -> list[str]:
    """Fewest folders covering all of `folders`, at most `_MAX_PATHSPECS` of them."""
    current = set(folders)
    while True:
        kept = sorted(f for f in current if not any(o != f and _under(f, o) for o in current))
        if len(kept) <= _MAX_PATHSPECS:
            return kept
        current = {f.rpartition("/")[0] for f in kept}


# ---------------------------------------------------------------------------------------------
# Content identity.


def _blob_id(data: bytes, size: int) -> str:
    header = b"blob %d\0" % len(data)
    if size == 64:
        return hashlib.sha256(header + data).hexdigest()
    return hashlib.sha1(header + data, usedforsecurity=False).hexdigest()


def _same_content(oid: str, contents: Iterable[bytes]) -> bool:
    """Whether any content, or its LF / CRLF form, is the blob `oid` (line endings are noise)."""
    for data in contents:
        if _blob_id(data, len(oid)) == oid:
            return True
        lf = data.replace(b"\r\n", b"\n")
        if lf != data and _blob_id(lf, len(oid)) == oid:
            return True
        crlf = lf.replace(b"\n", b"\r\n")
        if crlf != data and _blob_id(crlf, len(oid)) == oid:
            return True
    return False


def _read(path: Path) -> bytes | None:
    try:
        return path.read_bytes()
    except OSError:
        return None


def _buffer_contents(path: Path, text: str) -> Iterable[bytes]:
    """The buffer as UTF-8, then the disk bytes when they decode to the same text (encodings)."""
    yield text.encode("utf-8", "surrogatepass")
    disk = _read(path)
    if disk is not None:
        for encoding in ("utf-8-sig", "latin-1"):
            try:
                if disk.decode(encoding) == text:
                    yield disk
                    return
            except UnicodeDecodeError:
                continue


_RACY_NS = 2_000_000_000
"""A file modified this close to when it was hashed may change again within the same mtime."""


# ---------------------------------------------------------------------------------------------


class AppliedIndex:
    """Per repository: which migration files exist at the merge base with the default branch."""

    __slots__ = (
        "_by_parent",
        "_covered",
        "_disk",
        "_entries",
        "_listed",
        "_lock",
        "base",
        "base_ref",
        "root",
    )

    def __init__(self, root: Path, base: str, base_ref: str) -> None:
        self.root = root
        """Real path of the work tree's top level."""
        self.base = base
        self.base_ref = base_ref
        self._entries: dict[str, str] = {}
        """Path relative to the root -> blob id at the base (regular files only)."""
        self._listed: set[str] = set()
        """Folders (relative) whose whole subtree at the base is in `_entries`."""
        self._covered: set[str] = set()
        """Folders found inside one of `_listed`."""
        self._disk: dict[str, tuple[tuple[int, int, int], bool]] = {}
        """Relative path -> (stat stamp, whether the disk content equals the base)."""
        self._by_parent: tuple[int, dict[str, list[str]]] = (0, {})
        """`_entries` by folder, for that many entries."""
        self._lock = threading.Lock()

    @classmethod
    def for_path(cls, path: Path, default_branch: str | None = None) -> AppliedIndex | None:
        """The index for the repository holding `path`; None when there is nothing to compare.

        None: not a git work tree, git missing or too slow, no commit yet, no default branch,
        or no merge base (unrelated histories, a shallow clone without it): the rules stay quiet
        rather than guess.
        """
        start = _existing_dir(path)
        dotgit = _find_dotgit(start) if start else None
        if start is None or dotgit is None:
            return None
        files = _RefFiles.at(dotgit)
        fingerprint = files.fingerprint(default_branch) if files else None
        key = (dotgit.parent, default_branch)
        with _cache_lock:
            hit = _cache.get(key)
        if hit is not None and fingerprint is not None and hit[0] == fingerprint:
            return hit[1]
        try:
            answer = _ask_git(start, default_branch)
        except GitUnavailable as exc:
            if exc.timed_out and fingerprint is not None:
                _remember(key, fingerprint, None)  # do not wait again until HEAD moves
            return None
        if (
            fingerprint is not None
            and answer.fingerprint == fingerprint
            and answer.root == dotgit.parent
        ):
            _remember(key, fingerprint, answer.index)
        return answer.index

    def changes(
        self, files: Iterable[Path], texts: Mapping[Path, str] | None = None
    ) -> list[AppliedChange]:
        """Current migration files that exist at the base with other content: "modified".

        `texts` are unsaved editor buffers; they replace the disk content of their file. A file
        that differs only in line endings (CRLF / LF) is not reported.
        """
        listed = [(path, self._rel(path)) for path in files]
        known = [(path, rel) for path, rel in listed if rel]
        self._ensure(rel.rpartition("/")[0] for _, rel in known)
        found: list[AppliedChange] = []
        for path, rel in known:
            oid = self._entries.get(rel)
            if oid is None:
                continue
            text = _lookup_text(texts, path)
            same = (
                self._disk_matches(path, rel, oid)
                if text is None
                else _same_content(oid, _buffer_contents(path, text))
            )
            if same is False:
                found.append(AppliedChange(path, "modified", self.base, self.base_ref))
        return sorted(found, key=lambda c: str(c.path))

    def deleted(
        self, directories: Iterable[Path], is_migration: Callable[[Path], bool]
    ) -> list[AppliedChange]:
        """Files under `directories` at the base that are gone from the work tree: "deleted"."""
        folders = [(folder, _relative(self.root, folder, folder=True)) for folder in directories]
        known = [(folder, rel) for folder, rel in folders if rel is not None]
        self._ensure(rel for _, rel in known)
        under = self._entries_in({rel for _, rel in known})
        listings: dict[str, frozenset[str]] = {}
        found: dict[Path, AppliedChange] = {}
        for folder, rel_folder in known:
            for rel in under[rel_folder]:
                if self._exists(rel, listings):
                    continue
                inner = rel[len(rel_folder) + 1 :] if rel_folder else rel
                path = folder / inner
                if path not in found and is_migration(path):
                    found[path] = AppliedChange(path, "deleted", self.base, self.base_ref)
        return sorted(found.values(), key=lambda c: str(c.path))

    def is_applied(self, path: Path) -> bool:
        """Whether the file exists (as a regular file) at the merge base."""
        rel = self._rel(path)
        if not rel:
            return False
        self._ensure([rel.rpartition("/")[0]])
        return rel in self._entries

    def __repr__(self) -> str:
        return f"AppliedIndex({str(self.root)!r}, base={self.base!r}, base_ref={self.base_ref!r})"

    # -- internals --------------------------------------------------------------------------

    def _rel(self, path: Path) -> str | None:
        return _relative(self.root, path)

    def _entries_in(self, folders: set[str]) -> dict[str, list[str]]:
        """The base's files under each of `folders` (at any depth), sorted: the folders
        holding files are compared with each of `folders`, not every file."""
        count, by_parent = self._by_parent
        if count != len(self._entries):
            by_parent = {}
            for rel in self._entries:
                by_parent.setdefault(rel.rpartition("/")[0], []).append(rel)
            self._by_parent = (len(self._entries), by_parent)
        out: dict[str, list[str]] = {}
        for folder in folders:
            found = [
                rel
                for parent, names in by_parent.items()
                if _under(parent, folder)
                for rel in names
            ]
            out[folder] = sorted(found)
        return out

    def _exists(self, rel: str, listings: dict[str, frozenset[str]]) -> bool:
        """`lexists` of a file of the work tree, through one listing of its folder (a name
        the listing lacks is looked up itself: case-insensitive file systems)."""
        folder, _, name = rel.rpartition("/")
        listing = listings.get(folder)
        if listing is None:
            try:
                listing = frozenset(os.listdir(self.root / folder))
            except OSError:
                listing = frozenset()
            listings[folder] = listing
        return name in listing or os.path.lexists(self.root / rel)

    def _ensure(self, folders: Iterable[str]) -> None:
        """List the base tree under every folder not listed yet, in one `ls-tree`."""
        with self._lock:
            missing = [f for f in set(folders) if not self._is_listed(f)]
            if not missing:
                return
            pathspecs = _collapse(missing)
            args = ["ls-tree", "-r", "-z", "--full-tree", self.base]
            if "" not in pathspecs:
                args += ["--", *pathspecs]
            try:
                out = run_git(self.root, args)
            except GitUnavailable:
                return
            if out is None:
                return
            for record in out.split(b"\0"):
                meta, tab, name = record.partition(b"\t")
                parts = meta.split(b" ")
                if tab and len(parts) == 3 and parts[0] in (b"100644", b"100755"):
                    self._entries[os.fsdecode(name)] = parts[2].decode("ascii")
            self._listed.update(pathspecs)

    def _is_listed(self, folder: str) -> bool:
        """Whether the base tree under `folder` is in `_entries` (the answer kept: a check
        asks for the folder of every file)."""
        if folder in self._covered:
            return True
        if any(_under(folder, done) for done in self._listed):
            self._covered.add(folder)
            return True
        return False

    def _disk_matches(self, path: Path, rel: str, oid: str) -> bool | None:
        """Whether the file on disk is the base blob; None when it cannot be read."""
        try:
            st = path.stat()
        except OSError:
            return None
        stamp = (st.st_mtime_ns, st.st_size, st.st_ino)
        cached = self._disk.get(rel)
        if cached is not None and cached[0] == stamp:
            return cached[1]
        data = _read(path)
        if data is None:
            return None
        same = _same_content(oid, [data])
        if time.time_ns() - st.st_mtime_ns > _RACY_NS:
            self._disk[rel] = (stamp, same)
        return same


def _lookup_text(texts: Mapping[Path, str] | None, path: Path) -> str | None:
    if not texts:
        return None
    found = texts.get(path)
    return found if found is not None else texts.get(Path(os.path.realpath(path)))


_CacheKey = tuple[Path, str | None]
_Fingerprint = tuple[str, tuple[str, str] | None]
_cache: dict[_CacheKey, tuple[_Fingerprint, AppliedIndex | None]] = {}
_cache_lock = threading.Lock()


def _remember(key: _CacheKey, fingerprint: _Fingerprint, index: AppliedIndex | None) -> None:
    with _cache_lock:
        _cache[key] = (fingerprint, index)


def clear_cache() -> None:
    """Forget every repository (tests; a client's "restart")."""
    with _cache_lock:
        _cache.clear()
    _packed_cache.clear()


__all__ = ["GIT_TIMEOUT", "AppliedChange", "AppliedIndex", "GitUnavailable", "clear_cache"]
