"""`check --fix` / `--diff`: apply the engine's quick fixes to files on disk.

The same fixes the editor offers, applied round by round (each round re-analyses the text, so
fixes see each other's results); safe fixes only unless unsafe ones are asked for. A fix that
creates files (a migration split in three) is applied alone in its round.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass, field
from pathlib import Path

from migration_lsp.engine import analyse_document
from migration_lsp.findings import Applicability, Edit, Fix, NewFile
from migration_lsp.fixes import apply_edits, fix_for
from migration_lsp.project.config import Config
from migration_lsp.project.detect import Project

MAX_ROUNDS = 8


@dataclass(slots=True)
class FileFix:
    path: Path
    before: str
    after: str
    created: list[tuple[Path, str]] = field(default_factory=list)
    applied: list[str] = field(default_factory=list)
    """Titles of the fixes applied, in order."""

    @property
    def changed(self) -> bool:
        return self.before != self.after or bool(self.created)

    def diff(self, relative_to: Path) -> str:
        def name(path: Path) -> str:
            try:
                return path.resolve().relative_to(relative_to.resolve()).as_posix()
            except ValueError:
                return path.as_posix()

        chunks: list[str] = []
        if self.before != self.after:
            chunks.extend(
                difflib.unified_diff(
                    self.before.splitlines(keepends=True),
                    self.after.splitlines(keepends=True),
                    f"a/{name(self.path)}",
                    f"b/{name(self.path)}",
                )
            )
        for path, text in self.created:
            chunks.extend(
                difflib.unified_diff(
                    [], text.splitlines(keepends=True), "/dev/null", f"b/{name(path)}"
                )
            )
        return "".join(c if c.endswith("\n") else c + "\n" for c in chunks)


def _usable(fix: Fix | None, unsafe: bool) -> bool:
    if fix is None or not (fix.edits or fix.files):
        return False
    if fix.applicability is Applicability.DISPLAY:
        return False
    return fix.applicability is Applicability.SAFE or unsafe


def fix_file(
    path: Path,
    text: str,
    project: Project,
    config: Config,
    *,
    unsafe: bool = False,
    settings: dict[str, object] | None = None,
) -> FileFix:
    """Apply every usable fix to `text` (nothing is written)."""
    result = FileFix(path=path, before=text, after=text)
    for _ in range(MAX_ROUNDS):
        analysis = analyse_document(str(path), result.after, project, config, settings=settings)
        migration = analysis.migration
        if migration is None or migration.problems:
            break
        chosen: list[Edit] = []
        titles: list[str] = []
        files: list[NewFile] = []
        for finding in analysis.findings:
            fix = fix_for(finding, migration)
            if fix is None or not _usable(fix, unsafe):
                continue
            if fix.files:
                if not chosen:  # alone in its round: file names depend on the folder's state
                    chosen, titles, files = list(fix.edits), [fix.title], list(fix.files)
                break
            if any(_overlaps(e, c) for e in fix.edits for c in chosen):
                continue
            chosen.extend(fix.edits)
            titles.append(fix.title)
        if not chosen and not files:
            break
        try:
            result.after = apply_edits(result.after, chosen)
        except ValueError:
            break
        result.applied.extend(titles)
        for new in files:
            target = Path(new.path)
            if not target.is_absolute():
                target = path.parent / target
            result.created.append((target, new.text))
        if files:
            break  # the next round would need the new files on disk
    return result


def _overlaps(a: Edit, b: Edit) -> bool:
    if a.span.start == a.span.end == b.span.start == b.span.end:
        return True  # two insertions at one place: order would be a guess
    return a.span.start < b.span.end and b.span.start < a.span.end


def write(fixed: FileFix, bom: bool = False) -> None:
    if fixed.before != fixed.after:
        fixed.path.write_bytes((b"\xef\xbb\xbf" if bom else b"") + fixed.after.encode("utf-8"))
    for target, text in fixed.created:
        target.parent.mkdir(parents=True, exist_ok=True)
        if not target.exists():
            target.write_bytes(text.encode("utf-8"))
