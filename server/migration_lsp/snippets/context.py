"""Where the cursor is, for snippet completion: on half-typed code, by scanning lines.

The file being edited rarely parses (the user is typing), so nothing here uses `ast` or a SQL
parser. A small scanner follows strings, comments and brackets up to the cursor; indentation
decides which block a Python line belongs to. An unclosed bracket on an earlier line is taken
as abandoned (half-typed) once a later line starts at or left of the bracket's line, so one
unfinished call does not hide the rest of the file.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from migration_lsp.snippets.catalog import TOOL_ALIASES, TOOL_CONTEXTS
from migration_lsp.snippets.model import SQL_TOOLS, SnippetContext

_WORD_BEFORE = re.compile(r"[A-Za-z_][\w-]*\Z")
_WORD_AFTER = re.compile(r"[\w-]*")
_MAX_WORD = 200


def completion_context(text: str, offset: int, tool: str, language: str) -> SnippetContext | None:
    """`"file"`, `"step"`, `"statement"` or None (no snippet makes sense at `offset`).

    - `file`: the file is empty apart from whitespace, comments and the word being typed, and
      the cursor is at the start of a line (Python) or anywhere (SQL).
    - `step`: the start of a statement line inside an Alembic `def upgrade`/`def downgrade`
      (or `upgrade_<name>`) body, or an element position of a Django `operations = [...]` list
      (also `database_operations=` / `state_operations=` of `SeparateDatabaseAndState`).
    - `statement`: only whitespace and comments since the previous `;` or section marker
      (dbmate `-- migrate:up|down`, goose `-- +goose Up|Down|StatementBegin|StatementEnd`).
    - None: inside a string or comment, in the middle of an expression or statement, at the
      top level of a non-empty Python file (imports, module code), before the first section of
      a dbmate/goose file, or an unknown tool or language.

    The word being typed at the cursor (`mig-ind`) is ignored, so completion can be asked for
    while the prefix is typed. `language` is `"python"` or `"sql"`.
    """
    tool = TOOL_ALIASES.get(tool, tool)
    offset = max(0, min(offset, len(text)))
    start, end = word_range(text, offset)
    finder = TOOL_CONTEXTS.get(tool)
    if finder is not None:
        return finder(text, start, end, language)
    if language == "python" and tool == "alembic":
        return _alembic(text, start, end)
    if language == "python" and tool == "django":
        return _django(text, start, end)
    if language == "sql" and tool in SQL_TOOLS:
        return _sql(text, start, end, tool)
    return None


def word_range(text: str, offset: int) -> tuple[int, int]:
    """Start and end offsets of the snippet prefix being typed at `offset` (letters, digits,
    `_` and `-`, starting with a letter or `_`); `(offset, offset)` when there is none. The
    completion edit should replace this range: editors' own word patterns stop at `-`."""
    line_start = text.rfind("\n", 0, offset) + 1
    match = _WORD_BEFORE.search(text, max(line_start, offset - _MAX_WORD), offset)
    start = match.start() if match else offset
    after = _WORD_AFTER.match(text, offset)
    return start, offset + (len(after.group()) if after else 0)


def _line_prefix(text: str, start: int) -> str:
    return text[text.rfind("\n", 0, start) + 1 : start]


def _rest_of_line(text: str, end: int) -> str:
    newline = text.find("\n", end)
    return text[end : len(text) if newline == -1 else newline]


def _width(indentation: str) -> int:
    return len(indentation.expandtabs(8))


# --------------------------------------------------------------------------- Python


@dataclass(slots=True)
class _Bracket:
    char: str
    indent: int
    """Indentation of the physical line the bracket is on."""
    before: str
    """The end of the logical line's code before the bracket (strings blanked to `""`)."""


@dataclass(slots=True)
class _Line:
    """A logical line: physical lines joined while brackets are open or after a backslash."""

    indent: int
    code: str
    """The code, strings blanked to `""` and comments removed."""


@dataclass(slots=True)
class _PythonState:
    lines: list[_Line] = field(default_factory=list)
    """Complete logical lines before the cursor's own."""
    current: _Line = field(default_factory=lambda: _Line(0, ""))
    """The logical line the cursor is in, up to the cursor."""
    brackets: list[_Bracket] = field(default_factory=list)
    in_string: bool = False
    in_comment: bool = False
    last: str = ""
    """The last code character before the cursor (`"` for a string)."""
    has_code: bool = False


def _scan_python(source: str) -> _PythonState:
    """Scan `source` (the text before the cursor) the way Python's tokenizer would, with the
    recovery rules of the module docstring."""
    state = _PythonState()
    code: list[str] = []
    indent = 0
    physical_indent = 0
    quote: str | None = None
    comment = False
    at_line_start = True
    continued = False
    i, n = 0, len(source)

    def start_line(j: int) -> None:
        """Called at the first non-blank character (or the end) of a physical line."""
        nonlocal code, indent, continued
        brackets = state.brackets
        closing = j < n and source[j] in ")]}"
        if brackets and not closing and physical_indent <= brackets[-1].indent:
            while brackets and brackets[-1].indent >= physical_indent:
                brackets.pop()  # an unclosed bracket above: abandoned half-typed code
        if not brackets and not continued:
            text = "".join(code)
            if text.strip():
                state.lines.append(_Line(indent, text))
            code = []
            indent = physical_indent
        continued = False

    while i < n:
        char = source[i]
        if quote is not None:
            if char == "\\":
                i += 2
                continue
            if source.startswith(quote, i):
                i += len(quote)
                quote = None
                state.last = '"'
                continue
            if char != "\n" or len(quote) == 3:
                i += 1
                continue
            quote = None  # an unterminated one-line string ends with its line
        if comment:
            if char != "\n":
                i += 1
                continue
            comment = False
        if at_line_start:
            j = i
            while j < n and source[j] in " \t\f\r":
                j += 1
            physical_indent = _width(source[i:j])
            at_line_start = False
            i = j
            if j == n or source[j] not in "\n#":  # not a blank or comment-only line
                start_line(j)
            continue
        if char == "\n":
            at_line_start = True
            code.append(" ")
            i += 1
            continue
        if char == "\\" and source.startswith("\n", i + 1):
            continued = True
            at_line_start = True
            code.append(" ")
            i += 2
            continue
        if char == "#":
            comment = True
            i += 1
            continue
        if char in "'\"":
            quote = char * 3 if source.startswith(char * 3, i) else char
            i += len(quote)
            code.append('""')
            state.has_code = True
            continue
        if char in "([{":
            state.brackets.append(_Bracket(char, physical_indent, "".join(code[-120:])))
        elif char in ")]}" and state.brackets:
            state.brackets.pop()
        code.append(char)
        if not char.isspace():
            state.last = char
            state.has_code = True
        i += 1
    if at_line_start and quote is None and not comment:
        physical_indent = 0
        start_line(n)
    state.current = _Line(indent, "".join(code))
    state.in_string = quote is not None
    state.in_comment = comment
    return state


_STEP_FUNCTION = re.compile(r"(?:async\s+)?def\s+(?:upgrade|downgrade)(?:_\w+)?\s*\(")
_SCOPE = re.compile(r"(?:async\s+)?def\b|class\b")
_CLASS = re.compile(r"class\b")
_OPERATIONS = re.compile(r"operations\s*(?::[^=]*)?=")
_NESTED_OPERATIONS = re.compile(r"(?<![\w.])(?:database_operations|state_operations)\s*=\Z")
_PYTHON_REST = re.compile(r"\s*(?:#.*)?\Z")
_DJANGO_REST = re.compile(r"[\s)\]},]*(?:#.*)?\Z")


def _enclosing(lines: list[_Line], indent: int) -> list[_Line] | None:
    """The block headers enclosing a line at `indent`, innermost first, up to column 0; None
    when the indentation fits no block (a deeper line after a statement that opens none)."""
    chain: list[_Line] = []
    current = indent
    for line in reversed(lines):
        if line.indent >= current:
            continue
        if not line.code.rstrip().endswith(":"):
            return None
        chain.append(line)
        current = line.indent
        if current == 0:
            return chain
    return None


def _python_common(
    text: str, start: int, end: int, rest: re.Pattern[str]
) -> tuple[_PythonState | None, SnippetContext | None]:
    """The checks both Python tools share: (state, None) to continue with the tool's own rules,
    or (None, answer) when the answer is already known."""
    state = _scan_python(text[:start])
    if state.in_string or state.in_comment:
        return None, None
    if not rest.match(_rest_of_line(text, end)):
        return None, None
    prefix = _line_prefix(text, start)
    if not _scan_python(text[:start] + text[end:]).has_code:
        return None, ("file" if prefix == "" else None)
    return state, None


def _alembic(text: str, start: int, end: int) -> SnippetContext | None:
    state, answer = _python_common(text, start, end, _PYTHON_REST)
    if state is None:
        return answer
    prefix = _line_prefix(text, start)
    if prefix.strip() or state.brackets or state.current.code.strip():
        return None  # in the middle of a statement or expression (or after a backslash)
    indent = _width(prefix)
    chain = _enclosing(state.lines, indent) if indent else None
    if not chain or not _STEP_FUNCTION.match(chain[-1].code.strip()):
        return None
    if any(_SCOPE.match(header.code.strip()) for header in chain[:-1]):
        return None  # a function or class nested in upgrade(): not the step itself
    return "step"


def _django(text: str, start: int, end: int) -> SnippetContext | None:
    state, answer = _python_common(text, start, end, _DJANGO_REST)
    if state is None or not state.brackets:
        return answer
    innermost = state.brackets[-1]
    if innermost.char not in "[(" or state.last not in (innermost.char, ","):
        return None  # not where a list element starts
    if _NESTED_OPERATIONS.search(innermost.before.rstrip()):
        outer = state.brackets[:-1]
        if any(_OPERATIONS.fullmatch(b.before.strip()) for b in outer):
            return "step"
        return None
    if not _OPERATIONS.fullmatch(innermost.before.strip()) or len(state.brackets) != 1:
        return None
    chain = _enclosing(state.lines, state.current.indent) if state.current.indent else None
    if chain and _CLASS.match(chain[0].code.strip()):
        return "step"
    return None


# --------------------------------------------------------------------------- SQL

_BOUNDARY = re.compile(
    r"--\s*(?:migrate:(?:up|down)\b|\+goose\s+(?:up|down|statementbegin|statementend)\b)",
    re.IGNORECASE,
)
_SECTION = re.compile(r"--\s*(?:migrate:(?:up|down)\b|\+goose\s+(?:up|down)\b)", re.IGNORECASE)
_DIRECTIVE = re.compile(r"--\s*(?:migrate:|\+goose\b)", re.IGNORECASE)
_DOLLAR_QUOTE = re.compile(r"\$(?:[A-Za-z_][A-Za-z0-9_]*)?\$")
_SQL_REST = re.compile(r"\s*(?:--.*)?\Z")


@dataclass(slots=True)
class _SqlState:
    inside: bool = False
    """In a string, quoted identifier, dollar-quoted body or comment."""
    code: bool = False
    """Code since the last `;` or section marker."""
    any_code: bool = False
    section: bool = False
    """A dbmate/goose up or down section has started."""
    directive: bool = False
    """A dbmate/goose directive comment was seen."""


def _identifier_char(char: str) -> bool:
    return char.isalnum() or char == "_"


def _scan_sql(source: str) -> _SqlState:
    state = _SqlState()
    i, n = 0, len(source)

    def inside() -> _SqlState:
        state.inside = True
        return state

    while i < n:
        char = source[i]
        if source.startswith("--", i):
            newline = source.find("\n", i)
            if newline == -1:
                return inside()
            if not source[source.rfind("\n", 0, i) + 1 : i].strip():
                if _BOUNDARY.match(source, i):
                    state.code = False
                state.section = state.section or _SECTION.match(source, i) is not None
                state.directive = state.directive or _DIRECTIVE.match(source, i) is not None
            i = newline
            continue
        if source.startswith("/*", i):
            depth, j = 1, i + 2
            while j < n and depth:
                if source.startswith("/*", j):
                    depth, j = depth + 1, j + 2
                elif source.startswith("*/", j):
                    depth, j = depth - 1, j + 2
                else:
                    j += 1
            if depth:
                return inside()
            i = j
            continue
        if char in "'\"":
            backslash = (
                char == "'"
                and i > 0
                and source[i - 1] in "eE"
                and (i < 2 or not _identifier_char(source[i - 2]))
            )
            j = i + 1
            while True:
                if j >= n:
                    return inside()
                if backslash and source[j] == "\\":
                    j += 2
                elif source[j] == char:
                    if not source.startswith(char * 2, j):
                        break
                    j += 2
                else:
                    j += 1
            state.code = state.any_code = True
            i = j + 1
            continue
        if char == "$" and not (i > 0 and _identifier_char(source[i - 1])):
            match = _DOLLAR_QUOTE.match(source, i)
            if match:
                close = source.find(match.group(), match.end())
                if close == -1:
                    return inside()
                state.code = state.any_code = True
                i = close + len(match.group())
                continue
        if char == ";":
            state.code = False
        elif not char.isspace():
            state.code = state.any_code = True
        i += 1
    return state


def _sql(text: str, start: int, end: int, tool: str) -> SnippetContext | None:
    if "--" in text[start:end]:
        return None  # the "word" runs into a line comment
    state = _scan_sql(text[:start])
    if state.inside or not _SQL_REST.match(_rest_of_line(text, end)):
        return None
    whole = _scan_sql(text[:start] + text[end:])
    if not whole.any_code and not whole.directive and not whole.inside:
        return "file"
    if state.code:
        return None
    if tool in ("dbmate", "goose") and not state.section:
        return None  # before the first section: the tool ignores (or rejects) it
    return "statement"
