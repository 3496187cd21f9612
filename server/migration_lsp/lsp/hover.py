"""Hover: the migration guide's section for what is under the cursor.

A diagnostic there shows its rule's documentation first; an operation (`op.add_column`,
`migrations.AddIndex`, `CREATE INDEX`), `upgrade`/`downgrade`, or a rule id in an ignore comment
show the matching section of the team's guide (or the bundled one).
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from lsprotocol import types as lsp

from migration_lsp.lsp.convert import markup
from migration_lsp.lsp.session import rule_doc
from migration_lsp.rules.registry import BY_ID

if TYPE_CHECKING:
    from migration_lsp.guide.parse import Guide
    from migration_lsp.lsp.server import MigrationServer
    from migration_lsp.lsp.session import Document
    from migration_lsp.project.detect import Project

_WORD = re.compile(r"[A-Za-z_][A-Za-z0-9_-]*")


def _guide(server: MigrationServer, document: Document) -> tuple[Guide, str]:
    from migration_lsp.guide import find_guide

    config, _ = server.session.config_for(document.path)
    configured = config.guide
    if configured and config.root is not None:
        configured = str(config.root / configured)
    return find_guide(server.session.folders, configured)


def _word_at(text: str, offset: int) -> tuple[str, int, int] | None:
    start = offset
    while start > 0 and (text[start - 1].isalnum() or text[start - 1] in "_-"):
        start -= 1
    match = _WORD.match(text, start)
    if match is None or match.end() < offset:
        return None
    return match.group(0), match.start(), match.end()


def hover_text(server: MigrationServer, document: Document, offset: int) -> str | None:
    from migration_lsp.guide import hover_markdown
    from migration_lsp.guide.topics import topic_for_operation, topic_for_rule, topic_for_word

    guide, source = _guide(server, document)

    def section(topics: list[str]) -> str | None:
        for topic in topics:
            found = guide.section_for(topic)
            if found is not None:
                return hover_markdown(found, source)
        return None

    parts: list[str] = []
    under = [f for f in document.analysis.findings if f.span.start <= offset <= f.span.end]
    if under:  # the most precise finding: its rule's documentation, then the guide
        finding = min(under, key=lambda f: f.span.end - f.span.start)
        doc = rule_doc(finding.rule)
        if doc:
            parts.append(doc)
        guide_part = section(topic_for_rule(finding.rule))
        if guide_part:
            parts.append(guide_part)
        others = sorted({f.rule for f in under} - {finding.rule})
        if others:
            parts.append("Also here: " + ", ".join(f"`{rule}`" for rule in others))
        return "\n\n---\n\n".join(parts) if parts else None
    word = _word_at(document.text, offset)
    if word is not None and word[0] in BY_ID:  # a rule id, e.g. in an ignore comment
        parts = [p for p in (rule_doc(word[0]), section(topic_for_rule(word[0]))) if p]
        return "\n\n---\n\n".join(parts) if parts else None
    from migration_lsp.lsp.history import hover as revision_hover

    revision = revision_hover(server, document, offset)
    if revision:
        return revision
    if word is not None and document.project is not None and document.project.tool == "prisma":
        model_doc = prisma_model_markdown(document.project, word[0])
        if model_doc:
            return model_doc
    migration = document.analysis.migration
    if migration is not None:
        around = [op for op in migration.operations if op.span.start <= offset <= op.span.end]
        if around:
            op = min(around, key=lambda o: o.span.end - o.span.start)
            found = section(topic_for_operation(op))
            if found:
                return found
    if word is not None:
        topics = topic_for_word(word[0])
        if topics:
            return section(topics)
    return None


def prisma_model_markdown(project: Project, table: str) -> str | None:
    """The Prisma model stored in `table`, as written in the schema, with where it is."""
    from migration_lsp.project.prisma import model_for_table

    found = model_for_table(project, table)
    if found is None:
        return None
    file, model = found
    line = file.text.count("\n", 0, model.span.start) + 1
    source = file.text[model.span.start : model.span.end].splitlines()
    if len(source) > 40:
        source = [*source[:40], "  ..."]
    body = "\n".join(source)
    try:
        where = file.path.relative_to(project.root).as_posix()
    except ValueError:
        where = str(file.path)
    mapped = f" (table `{model.table}`)" if model.table != model.name else ""
    title = f"**Prisma {model.kind} `{model.name}`**{mapped}, `{where}:{line}`"
    return f"{title}\n\n```prisma\n{body}\n```"


def register(server: MigrationServer) -> None:
    @server.feature(lsp.TEXT_DOCUMENT_HOVER)
    async def on_hover(ls: MigrationServer, params: lsp.HoverParams) -> lsp.Hover | None:
        document = await ls.analyse(params.text_document.uri)
        if document is None or document.project is None:
            return None
        offset = ls.positions(document).offset(params.position)
        text = hover_text(ls, document, offset)
        if not text:
            return None
        text_document = ls.client_capabilities.text_document
        hover = text_document.hover if text_document else None
        return lsp.Hover(contents=markup(hover.content_format if hover else None, text))
