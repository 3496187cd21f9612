"""What makes the server fast, seen from the editor: code actions answer for the range asked
about only, a long file edited line by line reports what a fresh open of the same text
reports, and a burst of keystrokes ends with the diagnostics of the last text."""

from __future__ import annotations

import asyncio

from lsp_editor import Editor
from lsprotocol import types as lsp

LONG_SQL = "db/migration/V3__many_changes.sql"
COPY_SQL = "db/migration/V4__same_changes.sql"

STATEMENTS = (
    "ALTER TABLE t{i} ADD COLUMN c{i} integer DEFAULT 0 NOT NULL;",
    "CREATE INDEX idx_t{i}_c ON t{i} (c);",
    "ALTER TABLE t{i} ADD CONSTRAINT fk_t{i}_u FOREIGN KEY (user_id) REFERENCES users (id);",
    "ALTER TABLE t{i} ALTER COLUMN c TYPE bigint;",
    "ALTER TABLE t{i} RENAME COLUMN a TO b{i};",
    "CREATE TABLE IF NOT EXISTS t{i} (id bigint PRIMARY KEY, name text NOT NULL);",
    "ALTER TABLE t{i} DROP COLUMN IF EXISTS old{i};",
    "UPDATE t{i} SET x = 1 WHERE y = {i};",
)


def long_sql(count: int = 80) -> str:
    return "\n".join(STATEMENTS[i % len(STATEMENTS)].format(i=i) for i in range(count)) + "\n"


def _seen(diagnostics: list[lsp.Diagnostic]) -> list[tuple[object, int, int, int, int]]:
    return sorted(
        (
            d.code,
            d.range.start.line,
            d.range.start.character,
            d.range.end.line,
            d.range.end.character,
        )
        for d in diagnostics
    )


async def test_code_actions_answer_for_the_requested_range_only(editor: Editor) -> None:
    uri = editor.open(LONG_SQL, long_sql())
    diagnostics = await editor.diagnostics(uri)
    assert len(diagnostics) > 50  # findings all over the file
    line = 42  # ALTER TABLE t42 ADD CONSTRAINT ... FOREIGN KEY: two findings
    on_line = [d for d in diagnostics if d.range.start.line == line]
    assert {d.code for d in on_line} >= {"foreign-key-without-not-valid"}
    result = await editor.client.text_document_code_action_async(
        lsp.CodeActionParams(
            text_document=lsp.TextDocumentIdentifier(uri=uri),
            range=lsp.Range(
                start=lsp.Position(line=line, character=0),
                end=lsp.Position(line=line, character=len(editor.texts[uri].split("\n")[line])),
            ),
            context=lsp.CodeActionContext(diagnostics=on_line),
        )
    )
    actions = [a for a in result or [] if isinstance(a, lsp.CodeAction)]
    assert actions
    about = {d.code for a in actions for d in a.diagnostics or []}
    assert about == {d.code for d in on_line}
    assert {d.range.start.line for a in actions for d in a.diagnostics or []} == {line}
    disabled = {a.title for a in actions if a.title.endswith("for this line")}
    assert disabled == {f"Disable {d.code} for this line" for d in on_line}


async def test_a_long_file_edited_line_by_line_reports_as_a_fresh_open(editor: Editor) -> None:
    uri = editor.open(LONG_SQL, long_sql())
    await editor.diagnostics(uri)
    lines = editor.texts[uri].split("\n")
    edits = (
        (40, "CREATE INDEX CONCURRENTLY idx_t40_c ON t40 (c);"),  # a finding goes away
        (3, "ALTER TABLE t3 ALTER COLUMN c TYPE text;"),  # before the others: all move
        (3, "ALTER TABLE t3 ALTER COLUMN c TYPE text; -- longer now"),
        (77, "UPDATE t77 SET x = 1;"),  # a new finding: no WHERE
        (60, ""),  # a statement deleted
    )
    for line, replacement in edits:
        lines[line] = replacement
        editor.change(uri, "\n".join(lines))
        edited = await editor.diagnostics(uri)
    assert "unbatched-data-update" in {d.code for d in edited if d.range.start.line == 77}
    assert "non-concurrent-index" not in {d.code for d in edited if d.range.start.line == 40}
    fresh = editor.open(COPY_SQL, editor.texts[uri])
    assert _seen(await editor.diagnostics(fresh)) == _seen(edited)


async def test_a_burst_of_keystrokes_ends_with_the_last_texts_diagnostics(editor: Editor) -> None:
    uri = editor.open(LONG_SQL, long_sql(24))
    await editor.diagnostics(uri)
    text = editor.texts[uri]
    typed = "CREATE INDEX CONCURRENTLY IF NOT EXISTS i ON t (a);"
    for length in range(1, len(typed) + 1, 4):  # typing, a few characters at a time
        editor.change(uri, text + typed[:length])
    editor.change(uri, text + typed + "\n")
    fresh = editor.open(COPY_SQL, editor.texts[uri])
    expected = _seen(await editor.diagnostics(fresh))
    assert "concurrent-index-in-transaction" in {code for code, *_ in expected}
    if editor.pulls:
        assert _seen(await editor.diagnostics(uri)) == expected
        return
    for _ in range(200):  # analyses of earlier texts may still publish: the last one wins
        if _seen(list(editor.client.diagnostics.get(uri, []))) == expected:
            break
        await asyncio.sleep(0.025)
    await asyncio.sleep(0.3)  # and nothing older comes after it
    assert _seen(list(editor.client.diagnostics[uri])) == expected
