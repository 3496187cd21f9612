"""bind-parameters (sql-string-formatting): values formatted into SQL text become bound
parameters.

- Alembic: `op.execute(f"... = {value}")` → `op.get_bind().execute(sa.text("... = :value"),
  {"value": value})`; as the alternative, `op.execute(sa.text("... = :value").bindparams(
  value=value))` (which also renders in offline `--sql` mode). `connection.execute(...)` keeps its
  receiver and gets the parameters.
- Django: `RunSQL(f"... = {value}")` → `RunSQL([("... = %s", [value])])`.

f-strings, `%`-formatting (`%s`, `%d`, `%(name)s`) and `.format()` are rewritten in place: the
`f` prefix goes, each replacement field becomes a placeholder, `{{`/`}}` are undoubled; text
that the driver would now read as a placeholder is escaped (`\\:name` for `text()`, `%%` for
Django). A field is bound only in a value position (after `=`, `<`, `LIMIT`, in `VALUES (...)`,
`IN (...)`, ...) or when it is exactly a quoted literal (`'{x}'` → `:x`, quotes dropped); a field
that is a table or column name cannot be a parameter, and the fix then only explains that.
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass, field

from migration_lsp.findings import Applicability, Edit, Finding, Fix
from migration_lsp.model import ExecuteSQL, Migration
from migration_lsp.parse.pystrings import replacement_end
from migration_lsp.text import Span

from .base import display, operation_for
from .pycode_common import (
    MAX_LINE,
    StrToken,
    insert_argument_after,
    is_text_call,
    literal_tokens,
    own_lines,
    quote_of,
    text_function,
    too_long,
)
from .python import PyFile
from .text import apply_edits, indentation, insert, replace

MARK = "\0"
"""Stands for a replacement field in the SQL skeleton."""

_SIMPLE_ESCAPES = {"n": "\n", "t": "\t", "r": "\r", "\\": "\\", "'": "'", '"': '"'}
_SA_BIND = re.compile(r"(?<![:\w\\]):(?=\w+(?!:))")
"""A colon SQLAlchemy's `text()` would read as a bind parameter (its own pattern)."""
_VALUE_OPERATORS = ("<=", ">=", "<>", "!=", "||", "=", "<", ">", "+", "-", "*", "/")
_VALUE_WORDS = frozenset({"LIMIT", "OFFSET", "LIKE", "ILIKE", "THEN", "ELSE", "WHEN", "BETWEEN"})
_LIST_OPENERS = frozenset({"VALUES", "ANY", "ALL"})


@dataclass(slots=True)
class _Field:
    span: Span
    """The replacement field in the file: `{expr}`, `{}`, `%s`, `%(name)s`."""
    expr: str
    """Source of the value expression."""
    name: str | None = None
    """The value's own name (`{user_id}`, `%(user_id)s`, `.format(user_id=...)`)."""
    replaced: Span | None = None
    """What the placeholder replaces: the field, or `'{x}'` with its quotes."""
    param: str = ""


@dataclass(slots=True)
class _Template:
    literal: ast.expr
    tokens: list[StrToken]
    style: str
    """"f", "format" or "percent"."""
    fields: list[_Field] = field(default_factory=list)
    skeleton: list[str] = field(default_factory=list)
    """The SQL, one decoded character per item, MARK for a field."""
    offsets: list[int] = field(default_factory=list)
    """File offset of each skeleton item (a field: the field's start)."""
    widths: list[int] = field(default_factory=list)
    """How many file characters each skeleton item is written with."""
    edits: list[Edit] = field(default_factory=list)
    """Edits every target needs: `f` prefixes, `{{`, the `% args` / `.format(...)` tail."""
    percent_dict: str | None = None
    """The mapping of a `%(name)s` string, as written."""

    def add(self, char: str, offset: int, width: int) -> None:
        self.skeleton.append(char)
        self.offsets.append(offset)
        self.widths.append(width)


def _scan(source: str, template: _Template, token: StrToken, braces: bool, percent: bool) -> bool:
    """Read one string token into the template; False when something is not mechanical."""
    i, end = token.body.start, token.body.end
    while i < end:
        ch = source[i]
        if ch == "\\" and not token.raw and i + 1 < end:
            template.add(_SIMPLE_ESCAPES.get(source[i + 1], source[i + 1]), i, 2)
            i += 2
        elif braces and ch in "{}" and source[i + 1 : i + 2] == ch:
            template.add(ch, i, 2)
            template.edits.append(replace(Span(i, i + 2), ch))
            i += 2
        elif braces and ch == "{":
            close = replacement_end(source, i, end)
            if close < 0:
                return False
            template.fields.append(_Field(Span(i, close + 1), source[i + 1 : close]))
            template.add(MARK, i, close + 1 - i)
            i = close + 1
        elif braces and ch == "}":
            return False
        elif percent and ch == "%":
            spec = re.match(r"%(?:\(([A-Za-z_]\w*)\))?([sdi%])", source[i:end])
            if spec is None:
                return False
            if spec.group(2) == "%":
                template.add("%", i, 2)
                i += 2
                continue
            template.fields.append(_Field(Span(i, i + spec.end()), "", spec.group(1)))
            template.add(MARK, i, spec.end())
            i += spec.end()
        else:
            template.add(ch, i, 1)
            i += 1
    return True


def _tail(pyfile: PyFile, literal: ast.expr, outer: ast.expr) -> Span | None:
    """`% args` / `.format(...)` after the literal, when nothing but spaces separate them."""
    text = pyfile.text
    start = pyfile.span(literal).end
    end = pyfile.span(outer).end
    rest = text[start:end].lstrip()
    if not rest.startswith(("%", ".")):
        return None  # a parenthesized literal: `("a" "b") % x`
    return Span(start, end)


def _template(pyfile: PyFile, node: ast.expr) -> _Template | None:
    """The formatted SQL string `node` read into a template, or None when it is not an
    f-string, `"..." % args` or `"...".format(...)` this fix can rewrite."""
    text = pyfile.text
    if isinstance(node, ast.JoinedStr):
        tokens = literal_tokens(text, pyfile.span(node))
        if tokens is None:
            return None
        template = _Template(node, tokens, "f")
        for token in tokens:
            if token.fstring:
                prefix = Span(token.start, token.start + len(token.prefix))
                template.edits.append(
                    replace(prefix, token.prefix.replace("f", "").replace("F", ""))
                )
            if not _scan(text, template, token, braces=token.fstring, percent=False):
                return None
        values = [v for v in node.values if isinstance(v, ast.FormattedValue)]
        if len(values) != len(template.fields):
            return None
        for value, found in zip(values, template.fields, strict=True):
            expression = found.expr.strip()
            if value.conversion != -1 or value.format_spec is not None or expression.endswith("="):
                return None  # !r, :spec, {x=}: the text is not the value itself
            found.expr = expression
            found.name = value.value.id if isinstance(value.value, ast.Name) else None
        return template
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Mod):
        literal = node.left
        if not (isinstance(literal, ast.Constant) and isinstance(literal.value, str)):
            return None
        tokens = literal_tokens(text, pyfile.span(literal))
        tail = _tail(pyfile, literal, node)
        if tokens is None or tail is None or any(t.fstring for t in tokens):
            return None
        template = _Template(literal, tokens, "percent", edits=[replace(tail, "")])
        for token in tokens:
            if not _scan(text, template, token, braces=False, percent=True):
                return None
        return template if _percent_values(pyfile, template, node.right) else None
    if (
        isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and node.func.attr == "format"
        and isinstance(node.func.value, ast.Constant)
        and isinstance(node.func.value.value, str)
    ):
        literal = node.func.value
        tokens = literal_tokens(text, pyfile.span(literal))
        tail = _tail(pyfile, literal, node)
        if tokens is None or tail is None or any(t.fstring for t in tokens):
            return None
        template = _Template(literal, tokens, "format", edits=[replace(tail, "")])
        for token in tokens:
            if not _scan(text, template, token, braces=True, percent=False):
                return None
        return template if _format_values(pyfile, template, node) else None
    return None


def _percent_values(pyfile: PyFile, template: _Template, right: ast.expr) -> bool:
    named = [f.name for f in template.fields]
    if any(named):
        if not all(named) or not isinstance(right, ast.Dict):
            return False
        values: dict[str, ast.expr] = {}
        for key, value in zip(right.keys, right.values, strict=True):
            if not (isinstance(key, ast.Constant) and isinstance(key.value, str)):
                return False
            values[key.value] = value
        for found in template.fields:
            if found.name not in values:
                return False
            found.expr = pyfile.segment(values[found.name])
        template.percent_dict = pyfile.segment(right)
        return True
    items = right.elts if isinstance(right, ast.Tuple) else [right]
    if len(items) != len(template.fields) or any(isinstance(i, ast.Starred) for i in items):
        return False
    for found, item in zip(template.fields, items, strict=True):
        found.expr = pyfile.segment(item)
        found.name = item.id if isinstance(item, ast.Name) else None
    return True


def _format_values(pyfile: PyFile, template: _Template, call: ast.Call) -> bool:
    if any(isinstance(a, ast.Starred) for a in call.args) or any(
        kw.arg is None for kw in call.keywords
    ):
        return False
    keywords = {kw.arg: kw.value for kw in call.keywords if kw.arg}
    automatic = 0
    for found in template.fields:
        key = found.expr.strip()
        if key == "":
            index: int | None = automatic
            automatic += 1
        elif key.isdigit():
            index = int(key)
        elif key.isidentifier():
            index = None
        else:
            return False  # attributes, indexes, conversions, format specs
        if index is not None:
            if index >= len(call.args):
                return False
            value = call.args[index]
            found.name = value.id if isinstance(value, ast.Name) else None
        else:
            if key not in keywords:
                return False
            value = keywords[key]
            found.name = key
        found.expr = pyfile.segment(value)
    return True


# --------------------------------------------------------------------------- positions


def _context(skeleton: str, at: int) -> str:
    """Whether the field at `skeleton[at]` is a value ("value"), exactly a quoted literal
    ("quoted"), part of a quoted literal ("partial"), the items of an `IN (...)` list ("list")
    or a name/keyword ("identifier")."""
    before, after = skeleton[:at], skeleton[at + 1 :]
    if before.count("'") % 2 == 1:
        if before.endswith("'") and after.startswith("'") and after[1:2] != "'":
            return "quoted"
        return "partial"
    if before.count('"') % 2 == 1:
        return "identifier"
    following, preceding = after[:1], before[-1:]
    if (following and (following.isalnum() or following in "_.($")) or (
        preceding and (preceding.isalnum() or preceding in "_.:")
    ):
        return "identifier"  # glued to a name: `t_{x}`, `{x}.col`, `{f}(...)`
    trimmed = before.rstrip()
    if trimmed.endswith(_VALUE_OPERATORS):
        return "value"
    last = re.search(r"(\w+)$", trimmed)
    if last is not None:
        word = last.group(1).upper()
        if word in _VALUE_WORDS:
            return "value"
        if word == "AND" and re.search(r"\bBETWEEN\s+\S+\s+AND$", trimmed, re.IGNORECASE):
            return "value"
        return "identifier"
    if re.search(r"\bIN\s*\(\s*$", trimmed, re.IGNORECASE):
        return "list"
    if trimmed.endswith(("(", ",")):
        return "value" if _in_value_list(trimmed) else "identifier"
    return "identifier"


def _in_value_list(before: str) -> bool:
    """The innermost open parenthesis of `before` is a `VALUES (...)`/`IN (...)`/`ANY(...)`
    list (or a further row of VALUES)."""
    depth = 0
    for i in range(len(before) - 1, -1, -1):
        ch = before[i]
        if ch == ")":
            depth += 1
        elif ch == "(":
            if depth == 0:
                opener = before[:i].rstrip()
                word = re.search(r"(\w+)$", opener)
                if word is not None:
                    return word.group(1).upper() in _LIST_OPENERS
                return opener.endswith(",") and bool(re.search(r"\bVALUES\b", opener, re.I))
            depth -= 1
    return False


def _statements(skeleton: str) -> int:
    """How many statements the SQL holds (`;` outside quotes)."""
    count, quote, current = 0, "", ""
    for ch in skeleton:
        if quote:
            if ch == quote:
                quote = ""
        elif ch in "'\"":
            quote = ch
        elif ch == ";":
            count += bool(current.strip())
            current = ""
            continue
        current += ch
    return count + bool(current.strip())


def _check_positions(template: _Template) -> str | None:
    """Mark every field's replaced span; None when all are values, else the display title."""
    skeleton = "".join(template.skeleton)
    marks = [i for i, c in enumerate(template.skeleton) if c == MARK]
    for at, found in zip(marks, template.fields, strict=True):
        context = _context(skeleton, at)
        if context == "value":
            found.replaced = found.span
            continue
        if context == "quoted":
            start = template.offsets[at - 1]
            stop = template.offsets[at + 1] + template.widths[at + 1]
            adjacent = (
                start + template.widths[at - 1] == found.span.start
                and found.span.end == template.offsets[at + 1]
            )
            if adjacent:
                found.replaced = Span(start, stop)
                continue
            context = "partial"
        if context == "list":
            return (
                f"Bind {found.expr} by hand: IN (...) needs one parameter per item "
                "(bindparam(..., expanding=True)), or write = ANY(:param) with an array"
            )
        if context == "partial":
            return (
                f"Bind {found.expr} as a parameter by hand: it is part of a quoted SQL literal, so "
                "build the whole value in Python and bind that"
            )
        return (
            f"Keep {found.expr} formatted but check it against a fixed list of allowed names: it "
            "is a table or column name, and identifiers cannot be bound parameters"
        )
    return None


def _name_parameters(template: _Template) -> None:
    by_expr: dict[str, str] = {}
    taken = {f.name for f in template.fields if f.name}
    counter = 0
    for found in template.fields:
        if found.expr in by_expr:
            found.param = by_expr[found.expr]
            continue
        if found.name and found.name not in by_expr.values():
            found.param = found.name
        else:
            counter += 1
            while f"p{counter}" in taken:
                counter += 1
            found.param = f"p{counter}"
            taken.add(found.param)
        by_expr[found.expr] = found.param


def _text_edits(template: _Template, target: str) -> list[Edit]:
    """Escapes in the SQL text for the target's placeholder syntax."""
    edits: list[Edit] = []
    skeleton = "".join(template.skeleton)
    if target == "sqlalchemy":
        for match in _SA_BIND.finditer(skeleton):
            offset = template.offsets[match.start()]
            token = next(t for t in template.tokens if t.body.start <= offset < t.body.end)
            edits.append(insert(offset, "\\" if token.raw else "\\\\"))
        if template.style == "percent":
            for i, ch in enumerate(template.skeleton):
                if ch == "%" and template.widths[i] == 2:
                    edits.append(replace(Span(template.offsets[i], template.offsets[i] + 2), "%"))
    elif template.style != "percent":
        edits.extend(
            insert(template.offsets[i], "%")
            for i, ch in enumerate(template.skeleton)
            if ch == "%" and template.widths[i] == 1
        )
    return edits


def _placeholders(pyfile: PyFile, template: _Template, target: str) -> list[Edit]:
    edits: list[Edit] = []
    for found in template.fields:
        assert found.replaced is not None
        if target == "sqlalchemy":
            new = ":" + found.param
        elif template.percent_dict is not None:
            new = f"%({found.name})s"
        else:
            new = "%s"
        if pyfile.text[found.replaced.start : found.replaced.end] != new:
            edits.append(replace(found.replaced, new))
    return edits


# --------------------------------------------------------------------------- the fix


def _shifted(edits: list[Edit], by: int) -> list[Edit]:
    return [Edit(Span(e.span.start + by, e.span.end + by), e.new_text) for e in edits]


def _node_at(pyfile: PyFile, span: Span) -> ast.expr | None:
    for node in pyfile.nodes():
        if isinstance(node, ast.expr) and pyfile.span(node) == span:
            return node
    return None


def bind_parameters(finding: Finding, migration: Migration) -> list[Fix] | Fix | None:
    op = operation_for(finding, migration, ExecuteSQL)
    if op is None or not op.formatted or migration.language != "python":
        return None
    sql_span = op.spans.get("sql")
    pyfile = PyFile(migration.text)
    call = pyfile.call_at(op.span)
    sql_node = _node_at(pyfile, sql_span) if sql_span is not None else None
    if call is None or sql_node is None:
        return None
    wrapper = sql_node if is_text_call(sql_node) else None
    if wrapper is not None:
        if not isinstance(wrapper, ast.Call) or len(wrapper.args) != 1 or wrapper.keywords:
            return None
        formatted = wrapper.args[0]
    else:
        formatted = sql_node
    template = _template(pyfile, formatted)
    if template is None or not template.fields:
        return None
    if _statements("".join(template.skeleton)) > 1:
        return None  # a parameterised query holds one statement
    problem = _check_positions(template)
    if problem is not None:
        return display(problem)
    if migration.tool == "alembic":
        return _alembic(pyfile, op, call, sql_node, wrapper, template)
    if migration.tool == "django":
        return _django(pyfile, call, sql_node, template)
    return None


def _alembic(
    pyfile: PyFile,
    op: ExecuteSQL,
    call: ast.Call,
    sql_node: ast.expr,
    wrapper: ast.expr | None,
    template: _Template,
) -> list[Fix] | None:
    receiver, _, method = op.origin.rpartition(".")
    if method != "execute" or not isinstance(call.func, ast.Attribute):
        return None  # exec_driver_sql takes the driver's own placeholders
    if len(call.args) > 1 or any(kw.arg == "parameters" for kw in call.keywords):
        return None
    _name_parameters(template)
    text_edits = _text_edits(template, "sqlalchemy")
    placeholders = _placeholders(pyfile, template, "sqlalchemy")
    body = [*template.edits, *text_edits, *placeholders]
    quote = quote_of(pyfile, template.literal)
    params: dict[str, str] = {}
    for found in template.fields:
        params.setdefault(found.param, found.expr)
    mapping = "{" + ", ".join(f"{quote}{k}{quote}: {v}" for k, v in params.items()) + "}"
    literal = pyfile.span(template.literal)
    opening: list[Edit] = []
    closing: list[Edit] = []
    function = ""
    if wrapper is None:
        function, imports = text_function(pyfile)
        opening = [insert(literal.start, function + "("), *imports]
        closing = [insert(literal.end, ")")]
    shown = function or "text"
    names = ", ".join(f":{k}" for k in params)
    fixes: list[Fix] = []
    bind = [insert(pyfile.span(call.func.value).end, ".get_bind()")] if receiver == "op" else []
    edits = [
        *bind,
        *opening,
        *body,
        *closing,
        *insert_argument_after(pyfile, call, sql_node, mapping),
    ]
    exploded = own_lines(pyfile, call, sql_node, mapping)
    if (
        len(call.args) + len(call.keywords) == 1
        and exploded
        and too_long(pyfile, edits, literal.start)
    ):
        edits = [exploded[0], *bind, *opening, *body, *closing, exploded[1]]
    fixes.append(
        Fix(
            title=(
                f"Bind the values as parameters ({names}): "
                + ("op.get_bind().execute(" if receiver == "op" else "execute(")
                + f"{shown}(...), {{...}})"
            ),
            edits=edits,
            applicability=Applicability.UNSAFE,
        )
    )
    if receiver == "op":
        keywords = ", ".join(f"{k}={v}" for k, v in params.items())
        end = pyfile.span(wrapper).end if wrapper is not None else literal.end
        if wrapper is None:
            closing = [insert(end, f").bindparams({keywords})")]
        else:
            closing = [insert(end, f".bindparams({keywords})")]
        edits = [*opening, *body, *closing]
        exploded = own_lines(pyfile, call, sql_node)
        if len(call.args) == 1 and exploded and too_long(pyfile, edits, literal.start):
            indent = indentation(pyfile.text, pyfile.span(call).start)
            unit = pyfile.indent_unit(call)
            nl = pyfile.newline
            written = len(
                apply_edits(
                    pyfile.text[literal.start : end],
                    _shifted([e for e in body if e.span.end <= end], -literal.start),
                )
            )
            if len(indent + unit) + len(shown) + written + len(keywords) + 15 > MAX_LINE:
                keywords = f"{nl}{indent}{unit}{unit}{keywords}{nl}{indent}{unit}"
                closing = [insert(end, ("" if wrapper else ")") + f".bindparams({keywords})")]
            edits = [exploded[0], *opening, *body, *closing, exploded[1]]
        fixes.append(
            Fix(
                title=f"Bind the values as parameters ({names}) with {shown}(...).bindparams() "
                "(keeps op.execute, also in offline mode)",
                edits=edits,
                applicability=Applicability.UNSAFE,
            )
        )
    return fixes


def _django(pyfile: PyFile, call: ast.Call, sql_node: ast.expr, template: _Template) -> Fix | None:
    text_edits = _text_edits(template, "django")
    placeholders = _placeholders(pyfile, template, "django")
    if template.percent_dict is not None:
        params = template.percent_dict
    else:
        params = "[" + ", ".join(f.expr for f in template.fields) + "]"
    span = pyfile.span(sql_node)
    direct = sql_node in call.args[:1] or any(
        kw.arg == "sql" and kw.value is sql_node for kw in call.keywords
    )
    if direct:
        wrap = [insert(span.start, "[("), insert(span.end, f", {params})]")]
    elif isinstance(pyfile.parent(sql_node), ast.List | ast.Tuple):
        wrap = [insert(span.start, "("), insert(span.end, f", {params})")]
    else:
        return None
    edits = [wrap[0], *template.edits, *text_edits, *placeholders, wrap[1]]
    exploded = own_lines(pyfile, call, sql_node)
    if (
        len(call.args) + len(call.keywords) == 1
        and exploded
        and too_long(pyfile, edits, span.start)
    ):
        edits = [exploded[0], *edits, exploded[1]]
    return Fix(
        title="Pass the values as RunSQL parameters: [(sql with %s placeholders, [values])]",
        edits=edits,
        applicability=Applicability.UNSAFE,
    )
