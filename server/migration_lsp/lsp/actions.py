"""Code actions: each finding's quick fix, "disable for this line/file", "show documentation",
and `source.fixAll.migration-lsp` (safe fixes only)."""

from __future__ import annotations

import bisect
import itertools
import logging
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from lsprotocol import types as lsp

from migration_lsp.findings import Applicability, Edit, Finding, Fix, NewFile
from migration_lsp.lsp.convert import Positions, diagnostic, text_edits
from migration_lsp.model import Migration
from migration_lsp.suppress import ignore_edit
from migration_lsp.text import Span

if TYPE_CHECKING:
    from migration_lsp.lsp.server import MigrationServer
    from migration_lsp.lsp.session import Document

FIX_ALL = "source.fixAll.migration-lsp"


def compute_fixes(finding: Finding, migration: Migration) -> list[Fix]:
    from migration_lsp.fixes import fixes_for

    try:
        return fixes_for(finding, migration)
    except Exception:  # a fix that cannot be built must not break the other actions
        logging.getLogger(__name__).exception("building the fix for %s failed", finding.rule)
        return []


def compute_fix(finding: Finding, migration: Migration) -> Fix | None:
    fixes = compute_fixes(finding, migration)
    return fixes[0] if fixes else None


def _wanted(only: list[str] | None, kind: str) -> bool:
    return not only or any(kind == k or kind.startswith(k + ".") for k in only)


def _can_create_files(server: MigrationServer) -> bool:
    capabilities = server.client_capabilities.workspace
    edit = capabilities.workspace_edit if capabilities else None
    operations = edit.resource_operations if edit else None
    return bool(edit and edit.document_changes and operations and "create" in operations)


def _workspace_edit(
    server: MigrationServer,
    document: Document,
    edits: list[Edit],
    positions: Positions,
    files: list[NewFile] | None = None,
) -> lsp.WorkspaceEdit:
    changes = text_edits(edits, positions)
    capabilities = server.client_capabilities.workspace
    versioned = bool(
        capabilities
        and capabilities.workspace_edit
        and capabilities.workspace_edit.document_changes
    )
    if versioned or files:
        document_changes: list[
            lsp.TextDocumentEdit | lsp.CreateFile | lsp.RenameFile | lsp.DeleteFile
        ] = [
            lsp.TextDocumentEdit(
                text_document=lsp.OptionalVersionedTextDocumentIdentifier(
                    uri=document.uri, version=document.version
                ),
                edits=list(changes),
            )
        ]
        for new in files or []:
            target = Path(new.path)
            if not target.is_absolute():
                target = document.path.parent / target
            uri = target.as_uri()
            document_changes.append(
                lsp.CreateFile(uri=uri, options=lsp.CreateFileOptions(ignore_if_exists=True))
            )
            start = lsp.Position(line=0, character=0)
            document_changes.append(
                lsp.TextDocumentEdit(
                    text_document=lsp.OptionalVersionedTextDocumentIdentifier(
                        uri=uri, version=None
                    ),
                    edits=[
                        lsp.TextEdit(range=lsp.Range(start=start, end=start), new_text=new.text)
                    ],
                )
            )
        return lsp.WorkspaceEdit(document_changes=document_changes)
    return lsp.WorkspaceEdit(changes={document.uri: changes})


def _near(document: Document, wanted: Span) -> range:
    """Indexes of the findings that may overlap `wanted` (a superset, in order)."""
    if document.starts is None:
        findings = document.analysis.findings
        starts = [f.span.start for f in findings]
        ordered = all(a <= b for a, b in itertools.pairwise(starts))
        longest = max((f.span.end - f.span.start for f in findings), default=0)
        document.starts = (starts, longest) if ordered else ([], -1)
    starts, longest = document.starts
    if longest < 0:
        return range(len(document.analysis.findings))
    return range(
        bisect.bisect_left(starts, wanted.start - longest),
        bisect.bisect_right(starts, wanted.end),
    )


def code_actions(
    server: MigrationServer, document: Document, params: lsp.CodeActionParams
) -> list[lsp.CodeAction]:
    migration = document.analysis.migration
    if migration is None:
        return []
    positions = server.positions(document)
    wanted = positions.span(params.range)
    only = [str(k) for k in params.context.only] if params.context.only else None
    result: list[lsp.CodeAction] = []
    if only and any(FIX_ALL.startswith(k) for k in only) and not _wanted(only, "quickfix"):
        fix_all = _fix_all(server, document, migration, positions)
        return [fix_all] if fix_all else []
    findings = document.analysis.findings
    for number in _near(document, wanted):
        finding = findings[number]
        if finding.span.end < wanted.start or finding.span.start > wanted.end:
            continue
        diag = diagnostic(finding, positions)
        if _wanted(only, "quickfix"):
            fixes = document.fixes.get(number)
            if fixes is None:
                fixes = document.fixes[number] = compute_fixes(finding, migration)
            for index, fix in enumerate(fixes):
                if fix.files and not _can_create_files(server):
                    continue  # the client cannot create the split's new migration files
                if fix.edits or fix.files:
                    result.append(
                        lsp.CodeAction(
                            title=fix.title,
                            kind=lsp.CodeActionKind.QuickFix,
                            diagnostics=[diag],
                            is_preferred=index == 0 and fix.applicability is Applicability.SAFE,
                            edit=_workspace_edit(server, document, fix.edits, positions, fix.files),
                        )
                    )
                else:  # display-only advice
                    result.append(
                        lsp.CodeAction(
                            title=fix.title,
                            kind=lsp.CodeActionKind.QuickFix,
                            diagnostics=[diag],
                            disabled=lsp.CodeActionDisabled(reason=fix.title),
                        )
                    )
            for whole_file, label in ((False, "this line"), (True, "this file")):
                edit = ignore_edit(migration, finding.rule, finding.span, whole_file)
                result.append(
                    lsp.CodeAction(
                        title=f"Disable {finding.rule} for {label}",
                        kind=lsp.CodeActionKind.QuickFix,
                        diagnostics=[diag],
                        edit=_workspace_edit(server, document, [edit], positions),
                    )
                )
            result.append(
                lsp.CodeAction(
                    title=f"Show documentation for {finding.rule}",
                    kind=lsp.CodeActionKind.QuickFix,
                    diagnostics=[diag],
                    command=lsp.Command(
                        title=f"Show documentation for {finding.rule}",
                        command="migration-lsp.showDocumentation",
                        arguments=[finding.rule],
                    ),
                )
            )
    if _wanted(only, FIX_ALL) and only:
        fix_all = _fix_all(server, document, migration, positions)
        if fix_all is not None:
            result.append(fix_all)
    return result


def _fix_all(
    server: MigrationServer, document: Document, migration: Migration, positions: Positions
) -> lsp.CodeAction | None:
    """Every safe fix whose edits do not overlap an earlier one.

    Checking each fix on its own (apply it, parse the whole file) made this quadratic: the
    fixes are built unchecked, their combined result is checked once, and only when it fails
    is each fix checked as a quick fix is."""
    findings = document.analysis.findings
    chosen = _choose_safe(findings, lambda f: _unchecked_fix(f, migration))
    if chosen and not _edits_valid(migration, chosen):
        chosen = _choose_safe(findings, lambda f: compute_fix(f, migration))
    if not chosen:
        return None
    chosen.sort(key=lambda e: e.span.start)
    return lsp.CodeAction(
        title="Fix all safe migration-lsp problems",
        kind=FIX_ALL,
        edit=_workspace_edit(server, document, chosen, positions),
    )


def _choose_safe(findings: list[Finding], build: Callable[[Finding], Fix | None]) -> list[Edit]:
    taken = _Taken()
    chosen: list[Edit] = []
    for finding in findings:
        fix = build(finding)
        if fix is None or fix.applicability is not Applicability.SAFE or not fix.edits:
            continue
        if fix.files:
            continue  # creating migrations is never part of "fix all"
        if any(taken.overlaps(e.span) for e in fix.edits):
            continue
        for edit in fix.edits:
            taken.add(edit.span)
        chosen.extend(fix.edits)
    return chosen


class _Taken:
    """Spans of the edits chosen so far (never overlapping), sorted: whether a new span
    overlaps one of them (or is the same empty span) in logarithmic time."""

    def __init__(self) -> None:
        self._spans: list[tuple[int, int]] = []

    def overlaps(self, span: Span) -> bool:
        spans = self._spans
        # spans sorted by start that do not overlap also have ascending ends: only the last
        # one starting before `span` can reach into it, then those starting inside it
        index = max(0, bisect.bisect_left(spans, (span.start, span.start)) - 1)
        while index < len(spans) and spans[index][0] <= span.end:
            start, end = spans[index]
            if (span.start < end and start < span.end) or (start, end) == (span.start, span.end):
                return True
            index += 1
        return False

    def add(self, span: Span) -> None:
        bisect.insort(self._spans, (span.start, span.end))


def _unchecked_fix(finding: Finding, migration: Migration) -> Fix | None:
    """The preferred fix as its builder makes it, without checking the edited file."""
    from migration_lsp.fixes import BUILDERS, TOOL_BUILDERS

    table = TOOL_BUILDERS.get(migration.tool, BUILDERS)
    builder = table.get(finding.rule)
    if builder is None or migration.problems:
        return None
    try:
        built = builder(finding, migration)
    except Exception:  # a broken fix must not take "fix all" down
        logging.getLogger(__name__).exception("building the fix for %s failed", finding.rule)
        return None
    from migration_lsp.fixes import _valid_files

    candidates = built if isinstance(built, list) else [] if built is None else [built]
    return next((fix for fix in candidates if _valid_files(fix)), None)


def _edits_valid(migration: Migration, edits: list[Edit]) -> bool:
    from migration_lsp.fixes import _valid

    return _valid(migration, edits)


def register(server: MigrationServer) -> None:
    @server.feature(
        lsp.TEXT_DOCUMENT_CODE_ACTION,
        lsp.CodeActionOptions(code_action_kinds=[lsp.CodeActionKind.QuickFix, FIX_ALL]),
    )
    async def on_code_action(
        ls: MigrationServer, params: lsp.CodeActionParams
    ) -> list[lsp.CodeAction] | None:
        document = await ls.analyse(params.text_document.uri)
        if document is None:
            return None
        return code_actions(ls, document, params)
