"""Ignore comments: `# migration-lsp: ignore[rule]`, `-- migration-lsp: ignore-file`, ...

A comment on a line of an operation silences that operation's findings; a comment alone on its
line also covers the line below (so it can sit above a statement). `ignore-file` covers the
whole file. Unknown ids and ignores that silence nothing become `unused-ignore` findings.
"""

from __future__ import annotations

import io
import re
import tokenize
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import lru_cache

from migration_lsp.findings import Edit, Finding
from migration_lsp.model import Migration
from migration_lsp.parse.treesitter import Grammar
from migration_lsp.rules.registry import BY_ID, UNUSED_IGNORE
from migration_lsp.text import LineIndex, Span

_DIRECTIVE = re.compile(
    r"(?:#|--|//|/\*|<!--)[ \t]*migration-lsp:[ \t]*(?P<kind>ignore-file|ignore)\b"
    r"(?:\[(?P<ids>[^\]\n]*)\])?"
)


@dataclass(slots=True)
class Directive:
    span: Span
    ids: tuple[str, ...] | None
    """None for a bare `ignore` (every rule)."""
    whole_file: bool
    lines: range
    used: set[str] = field(default_factory=set)


def directives(text: str, lines: LineIndex, language: str = "sql") -> list[Directive]:
    """The ignore comments of a text (new `Directive`s each call: they record their use)."""
    if "migration-lsp:" not in text:
        return []
    return [
        Directive(span=span, ids=ids, whole_file=whole_file, lines=covered)
        for span, ids, whole_file, covered in _directives(text, language)
    ]


@lru_cache(maxsize=8)
def _directives(
    text: str, language: str
) -> tuple[tuple[Span, tuple[str, ...] | None, bool, range], ...]:
    """Found once per text: a code-action request asks for every finding in its range,
    and reading a Python file's comments means tokenizing all of it."""
    lines = LineIndex(text)
    comments = _python_comments(text, lines) if language == "python" else None
    found: list[tuple[Span, tuple[str, ...] | None, bool, range]] = []
    for match in _DIRECTIVE.finditer(text):
        line, column = lines.position(match.start())
        before = lines.line_text(line)[:column]
        in_comment = line in comments and comments[line] <= match.start() if comments else False
        if comments is not None and match.group(0)[0] == "#" and not in_comment:
            continue  # text in a string or docstring, not a comment (`--` is SQL in a string)
        if comments is None and before.count("'") % 2:
            continue  # inside an SQL string literal
        alone = not before.strip()
        ids = None
        if match.group("ids") is not None:
            ids = tuple(i.strip() for i in match.group("ids").split(",") if i.strip())
        found.append(
            (
                Span(match.start(), match.end()),
                ids,
                match.group("kind") == "ignore-file",
                range(line, line + 2 if alone else line + 1),
            )
        )
    return tuple(found)


def _python_comments(text: str, lines: LineIndex) -> dict[int, int] | None:
    """Line → offset where its comment starts, in Python source; None when the source cannot
    be tokenized (then every directive-looking text counts, as for other languages)."""
    starts: dict[int, int] = {}
    try:
        for token in tokenize.generate_tokens(io.StringIO(text).readline):
            if token.type == tokenize.COMMENT:
                line = token.start[0] - 1
                starts[line] = lines.offset(line, token.start[1])
    except (tokenize.TokenError, SyntaxError):
        return None
    return starts


def apply(
    findings: Iterable[Finding],
    migration: Migration,
    enabled: frozenset[str],
    report_unused: bool = True,
) -> list[Finding]:
    """Drop suppressed findings; add `unused-ignore` findings for unknown or idle directives."""
    lines, path = migration.lines, migration.path
    found = directives(migration.text, lines, migration.language)
    if not found:
        return list(findings)
    whole_file = [d for d in found if d.whole_file]
    by_line: dict[int, list[Directive]] = {}
    for directive in found:
        if not directive.whole_file:
            for line in directive.lines:
                by_line.setdefault(line, []).append(directive)
    kept: list[Finding] = []
    for finding in findings:
        scope = finding.scope or finding.span
        first = lines.position(scope.start)[0]
        last = lines.position(max(scope.end - 1, scope.start))[0]
        if last - first < len(found):  # the directives of the finding's lines
            nearby = [d for line in range(first, last + 1) for d in by_line.get(line, ())]
        else:
            nearby = [d for d in found if d.lines.start <= last and first < d.lines.stop]
        silenced = False
        for directive in (*whole_file, *nearby):
            if directive.ids is None or finding.rule in directive.ids:
                directive.used.add(finding.rule)
                silenced = True
        if not silenced:
            kept.append(finding)
    if report_unused and UNUSED_IGNORE in enabled:
        kept.extend(_unused(found, enabled, path))
    return kept


def _unused(found: list[Directive], enabled: frozenset[str], path: str) -> Iterable[Finding]:
    severity = BY_ID[UNUSED_IGNORE].severity

    def finding(directive: Directive, message: str) -> Finding:
        return Finding(
            rule=UNUSED_IGNORE, message=message, span=directive.span, severity=severity, path=path
        )

    for directive in found:
        if directive.ids is None:
            if not directive.used:
                yield finding(directive, "This ignore comment suppresses nothing; remove it.")
            continue
        if not directive.ids:
            yield finding(directive, "Empty rule list in ignore comment; name the rules to ignore.")
        for rule_id in directive.ids:
            if rule_id not in BY_ID:
                yield finding(
                    directive,
                    f"Unknown rule id '{rule_id}' in ignore comment: it silences nothing "
                    "(migration-lsp rules lists the ids).",
                )
            elif rule_id in enabled and rule_id not in directive.used:
                yield finding(
                    directive, f"'{rule_id}' is ignored here but reports nothing; remove it."
                )


_COMMENT_PREFIX = {
    "python": "#",
    "ruby": "#",
    "yaml": "#",
    "sql": "--",
    "javascript": "//",
    "typescript": "//",
    "php": "//",
    "prisma": "//",
    "json": "#",
    "xml": "<!--",
}
_COMMENT_SUFFIX = {"xml": " -->"}


def ignore_edit(migration: Migration, rule: str, span: Span, whole_file: bool) -> Edit:
    """The edit that silences `rule` on the line of `span` (or in the whole file), written in
    the comment syntax of the file. An existing directive gets the id added instead."""
    text, lines = migration.text, migration.lines
    prefix = _COMMENT_PREFIX.get(migration.language, "#")
    existing = [d for d in directives(text, lines, migration.language) if d.ids is not None]
    if whole_file:
        for directive in existing:
            if directive.whole_file:
                return _add_id(text, directive, rule)
        line = 0
        while line < lines.line_count and _is_header_line(lines.line_text(line), line):
            line += 1
        at = lines.line_start(line)
        if migration.language == "xml" and text.startswith("<?xml"):
            line = 1  # the XML declaration must stay first
            at = lines.line_start(line)
        suffix = _COMMENT_SUFFIX.get(migration.language, "")
        return Edit(
            Span(at, at), f"{prefix} migration-lsp: ignore-file[{rule}]{suffix}{_eol(text)}"
        )
    line = lines.position(span.start)[0]
    for directive in existing:
        if not directive.whole_file and lines.position(directive.span.start)[0] == line:
            return _add_id(text, directive, rule)
    end_of_line = lines.line_start(line) + len(lines.line_text(line))
    if _ends_in_string(migration, lines, line, end_of_line):
        prefix = "--"  # the line ends inside a multi-line SQL string: an SQL comment there
        suffix_override = ""
    else:
        suffix_override = None
    suffix = _COMMENT_SUFFIX.get(migration.language, "") if suffix_override is None else ""
    return Edit(Span(end_of_line, end_of_line), f"  {prefix} migration-lsp: ignore[{rule}]{suffix}")


def _add_id(text: str, directive: Directive, rule: str) -> Edit:
    close = text.rfind("]", directive.span.start, directive.span.end)
    inside = text[text.find("[", directive.span.start) + 1 : close].strip()
    return Edit(Span(close, close), f", {rule}" if inside else rule)


def _is_header_line(text: str, line: int) -> bool:
    """Lines that must stay first: a shebang, a Python encoding declaration."""
    return (line == 0 and text.startswith("#!")) or (
        line < 2 and "coding" in text[:40] and text.startswith("#")
    )


def _eol(text: str) -> str:
    return "\r\n" if "\r\n" in text[:2000] else "\n"


_STRING_NODES = frozenset(
    {
        "string",
        "template_string",
        "encapsed_string",
        "heredoc",
        "heredoc_body",
        "nowdoc",
    }
)
_GRAMMARS: dict[str, Grammar] = {
    "ruby": "ruby",
    "php": "php",
    "javascript": "javascript",
    "typescript": "typescript",
}


def _ends_in_string(migration: Migration, lines: LineIndex, line: int, offset: int) -> bool:
    """Whether the end of `line` lies inside a multi-line string literal (a comment in the
    host language would become part of the SQL there)."""
    if migration.language == "python":
        return _line_ends_in_string(migration.text, lines, line)
    if migration.language in ("yaml", "json"):
        return _in_yaml_block(lines, line)
    if migration.language == "xml":
        return _in_cdata(migration.text, offset)
    grammar = _GRAMMARS.get(migration.language)
    if grammar is None:
        return False
    from migration_lsp.parse.treesitter import TreeSource

    source = TreeSource(migration.text, grammar)
    byte = len(migration.text[:offset].encode("utf-8"))
    node = source.root.descendant_for_byte_range(byte, byte)
    while node is not None:
        if node.type in _STRING_NODES:
            return node.start_point[0] <= line < node.end_point[0]
        node = node.parent
    return False


def _in_yaml_block(lines: LineIndex, line: int) -> bool:
    """The line belongs to a YAML block scalar (`sql: |`): its text, not YAML."""
    text = lines.line_text(line)
    indent = len(text) - len(text.lstrip(" "))
    for earlier in range(line - 1, -1, -1):
        above = lines.line_text(earlier)
        if not above.strip():
            continue
        above_indent = len(above) - len(above.lstrip(" "))
        if above_indent < indent:
            return above.rstrip().endswith(("|", "|-", "|+", ">", ">-", ">+"))
    return False


def _in_cdata(text: str, offset: int) -> bool:
    """`offset` lies inside a CDATA section, where an XML comment would be SQL text."""
    start = text.rfind("<![CDATA[", 0, offset)
    return start != -1 and text.find("]]>", start, offset) == -1


def _line_ends_in_string(text: str, lines: LineIndex, line: int) -> bool:
    return line in _lines_ending_in_strings(text)


@lru_cache(maxsize=4)
def _lines_ending_in_strings(text: str) -> frozenset[int]:
    """The lines (0-based) whose end lies inside a multi-line Python string, found in one
    pass over the tokens (before a tokenizing error, as far as it got)."""
    inside: set[int] = set()
    try:
        for token in tokenize.generate_tokens(io.StringIO(text).readline):
            if token.type == tokenize.STRING and token.end[0] > token.start[0]:
                inside.update(range(token.start[0] - 1, token.end[0] - 1))
    except (tokenize.TokenError, SyntaxError):
        pass
    return frozenset(inside)
