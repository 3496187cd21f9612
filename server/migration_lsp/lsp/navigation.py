"""Go to definition from a revision id to the file declaring it; the migration's operations as
document symbols."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from lsprotocol import types as lsp

from migration_lsp import model
from migration_lsp.history.graph import History, build_history
from migration_lsp.lsp.history import location

if TYPE_CHECKING:
    from migration_lsp.lsp.server import MigrationServer
    from migration_lsp.lsp.session import Document

_STRING = re.compile(r"""(['"])([^'"\n]*)\1""")
_DJANGO_PAIR = re.compile(r"""\(\s*['"]([\w.]+)['"]\s*,\s*['"]([^'"\n]+)['"]\s*\)""")


GRAPH_TOOLS = ("alembic", "flask-migrate", "django")
"""The tools whose migrations name each other by revision id."""


def definition(
    document: Document,
    offset: int,
    history: History | None = None,
    encoding: str = lsp.PositionEncodingKind.Utf16,
) -> lsp.Location | None:
    """Where the revision id at `offset` is declared. `history` is the project's graph with
    the open buffers in place of the saved files (the session's); without one, the graph of
    the saved files and this document's text, so an unsaved edit never sends the editor to
    a line of the saved file."""
    project = document.project
    if project is None:
        return None
    text = document.text
    line_start = text.rfind("\n", 0, offset) + 1
    line_end = text.find("\n", offset)
    line = text[line_start : len(text) if line_end == -1 else line_end]
    column = offset - line_start
    if project.tool == "prisma":
        return _prisma_model(document, offset)
    if project.tool not in GRAPH_TOOLS:
        return None
    wanted = None
    if project.tool == "django":
        for match in _DJANGO_PAIR.finditer(line):
            if match.start() <= column <= match.end():
                wanted = f"{match.group(1)}.{match.group(2)}"
    else:
        for match in _STRING.finditer(line):
            if match.start() <= column <= match.end():
                wanted = match.group(2)
    if wanted is None:
        return None
    if history is None:
        history = build_history(project, {document.path: document.text})
    target = history.node(wanted)
    if target is None:
        return None
    found = location(history, target.path, target.span, encoding)
    start = found.range.start  # the cursor goes to the start of the declaration
    return lsp.Location(uri=found.uri, range=lsp.Range(start=start, end=start))


def _prisma_model(document: Document, offset: int) -> lsp.Location | None:
    """From a table name in a Prisma migration to the model that Prisma stores there."""
    from migration_lsp.project.prisma import model_for_table

    assert document.project is not None
    text = document.text
    start = offset
    while start > 0 and (text[start - 1].isalnum() or text[start - 1] == "_"):
        start -= 1
    end = offset
    while end < len(text) and (text[end].isalnum() or text[end] == "_"):
        end += 1
    if start == end:
        return None
    found = model_for_table(document.project, text[start:end])
    if found is None:
        return None
    file, model = found
    line = file.text.count("\n", 0, model.name_span.start)
    column = model.name_span.start - (file.text.rfind("\n", 0, model.name_span.start) + 1)
    begin = lsp.Position(line=line, character=column)
    finish = lsp.Position(line=line, character=column + len(model.name))
    return lsp.Location(uri=file.path.as_uri(), range=lsp.Range(start=begin, end=finish))


def _describe(op: model.Operation) -> tuple[str, lsp.SymbolKind]:
    name = type(op).__name__
    table = getattr(op, "table", None)
    if isinstance(op, model.AddColumn):
        return f"add column {op.table}.{op.column.name}", lsp.SymbolKind.Field
    if isinstance(op, model.DropColumn | model.AlterColumn | model.RenameColumn):
        return f"{_words(name)} {op.table}.{op.column}", lsp.SymbolKind.Field
    if isinstance(op, model.CreateIndex | model.DropIndex):
        where = f" on {op.table}" if op.table else ""
        return f"{_words(name)} {op.name or ''}{where}".strip(), lsp.SymbolKind.Key
    if isinstance(op, model.AddConstraint | model.DropConstraint):
        return f"{_words(name)} {op.name or ''} on {op.table}", lsp.SymbolKind.Property
    if isinstance(op, model.DataChange):
        return f"{op.kind.replace('_', ' ')} {op.table or ''}".strip(), lsp.SymbolKind.Event
    if isinstance(op, model.OtherStatement):
        return op.keyword.lower(), lsp.SymbolKind.Event
    if isinstance(op, model.RunCode):
        return f"run {op.language}", lsp.SymbolKind.Function
    if isinstance(op, model.Truncate):
        return f"truncate {', '.join(op.tables)}", lsp.SymbolKind.Event
    label = _words(name) + (f" {table}" if table else "")
    return label, lsp.SymbolKind.Struct if "Table" in name else lsp.SymbolKind.Event


def _words(name: str) -> str:
    return re.sub(r"(?<!^)([A-Z])", r" \1", name).lower()


def symbols(server: MigrationServer, document: Document) -> list[lsp.DocumentSymbol]:
    migration = document.analysis.migration
    if migration is None:
        return []
    positions = server.positions(document)
    result = []
    for op in migration.operations:
        if isinstance(op, model.ExecuteSQL | model.TransactionControl | model.SetSetting):
            continue
        name, kind = _describe(op)
        step = " (downgrade)" if op.step is model.Step.DOWN else ""
        result.append(
            lsp.DocumentSymbol(
                name=name + step,
                kind=kind,
                range=positions.range(op.span),
                selection_range=positions.range(op.span_of("keyword")),
                detail=op.origin,
            )
        )
    return result


def register(server: MigrationServer) -> None:
    @server.feature(lsp.TEXT_DOCUMENT_DEFINITION)
    async def on_definition(
        ls: MigrationServer, params: lsp.DefinitionParams
    ) -> lsp.Location | None:
        document = await ls.analyse(params.text_document.uri)
        if document is None:
            return None
        offset = ls.positions(document).offset(params.position)
        project = document.project
        history = None
        if project is not None and project.tool in GRAPH_TOOLS:
            history = ls.session.history(project, (document.path, document.text))
        return definition(document, offset, history, ls.encoding)

    @server.feature(lsp.TEXT_DOCUMENT_DOCUMENT_SYMBOL)
    async def on_symbols(
        ls: MigrationServer, params: lsp.DocumentSymbolParams
    ) -> list[lsp.DocumentSymbol] | None:
        document = await ls.analyse(params.text_document.uri)
        if document is None:
            return None
        return symbols(ls, document)
