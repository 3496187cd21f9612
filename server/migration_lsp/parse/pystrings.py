"""Python string literals → their value plus the source offset of every character.

SQL inside `op.execute("...")` is reported on the exact text inside the quotes, through escapes,
triple quotes and implicit concatenation ("a" "b"). In f-strings each `{expression}` becomes a
placeholder (the name itself for `{name}`), so the SQL around it can still be checked.
"""

from __future__ import annotations

import re

_SIMPLE_ESCAPES = {
    "\\": "\\",
    "'": "'",
    '"': '"',
    "a": "\a",
    "b": "\b",
    "f": "\f",
    "n": "\n",
    "r": "\r",
    "t": "\t",
    "v": "\v",
}


PLACEHOLDER = "_param_"

_SPECIAL = {
    (quote, fstring): re.compile("[" + re.escape(quote + "\\" + ("{}" if fstring else "")) + "]")
    for quote in "'\""
    for fstring in (False, True)
}
"""Per quote character and f-string or not: the characters `_decode` reads one by one."""


def literal_positions(source: str, start: int, end: int) -> tuple[str, list[int]] | None:
    """Decode the string literal(s) in `source[start:end]`.

    Returns the value and `positions`, where `positions[i]` is the offset in `source` of the
    value's i-th character and `positions[len(value)]` the offset just after the last one.
    None when the text is not a string literal (bytes, or not a literal at all).
    """
    value: list[str] = []
    positions: list[int] = []
    i = start
    end_of_last = start
    found = False
    while i < end:
        ch = source[i]
        if ch in " \t\r\n\f(":
            i += 1
            continue
        if ch == "\\" and i + 1 < end and source[i + 1] in "\r\n":
            i += 2
            continue
        if ch == "#":
            newline = source.find("\n", i, end)
            i = end if newline == -1 else newline + 1
            continue
        if ch == ")":
            i += 1
            continue
        j = i
        while j < end and source[j].isalpha():
            j += 1
        prefix = source[i:j].lower()
        if j >= end or source[j] not in "'\"" or any(p not in "ruf" for p in prefix):
            return None
        quote = source[j : j + 3] if source[j : j + 3] in ('"""', "'''") else source[j]
        i = _decode(
            source, j + len(quote), end, quote, "r" in prefix, "f" in prefix, value, positions
        )
        if i < 0:
            return None
        end_of_last = i - len(quote)
        found = True
    if not found:
        return None
    positions.append(end_of_last)
    return "".join(value), positions


def _decode(
    source: str,
    i: int,
    end: int,
    quote: str,
    raw: bool,
    fstring: bool,
    value: list[str],
    positions: list[int],
) -> int:
    """Append one literal's characters; return the offset after its closing quote, or -1."""
    special = _SPECIAL[quote[0], fstring]
    while i < end:
        found = special.search(source, i, end)
        plain = found.start() if found is not None else end
        if plain > i:  # a run of characters that stand for themselves: taken at once
            value.extend(source[i:plain])
            positions.extend(range(i, plain))
            i = plain
            continue
        if source.startswith(quote, i):
            return i + len(quote)
        ch = source[i]
        if fstring and ch in "{}":
            if source.startswith(ch * 2, i):
                value.append(ch)
                positions.append(i)
                i += 2
                continue
            if ch == "}":
                return -1
            close = replacement_end(source, i, end)
            if close < 0:
                return -1
            expression = source[i + 1 : close].split("!")[0].split(":")[0].strip().rstrip("=")
            text = expression if expression.isidentifier() else PLACEHOLDER
            value.extend(text)
            positions.extend([i] * len(text))
            i = close + 1
            continue
        if ch != "\\" or i + 1 >= end:
            value.append(ch)
            positions.append(i)
            i += 1
            continue
        nxt = source[i + 1]
        if raw:
            value.extend((ch, nxt))
            positions.extend((i, i + 1))
            i += 2
            continue
        if nxt == "\n":
            i += 2
            continue
        if nxt == "\r":
            i += 3 if source.startswith("\r\n", i + 1) else 2
            continue
        decoded, width = _escape(source, i, end)
        value.append(decoded)
        positions.append(i)
        i += width
    return -1


def _escape(source: str, i: int, end: int) -> tuple[str, int]:
    nxt = source[i + 1]
    if nxt in _SIMPLE_ESCAPES:
        return _SIMPLE_ESCAPES[nxt], 2
    if nxt in "01234567":
        j = i + 1
        while j < min(i + 4, end) and source[j] in "01234567":
            j += 1
        return chr(int(source[i + 1 : j], 8)), j - i
    widths = {"x": 2, "u": 4, "U": 8}
    if nxt in widths:
        digits = source[i + 2 : i + 2 + widths[nxt]]
        try:
            return chr(int(digits, 16)), 2 + widths[nxt]
        except ValueError:
            return "\\", 1
    if nxt == "N" and i + 2 < end and source[i + 2] == "{":
        close = source.find("}", i + 3, end)
        if close != -1:
            import unicodedata

            try:
                return unicodedata.lookup(source[i + 3 : close]), close + 1 - i
            except KeyError:
                pass
    return "\\", 1


def replacement_end(source: str, i: int, end: int) -> int:
    """Offset of the `}` closing the f-string replacement field opened at `i`, or -1."""
    depth = 0
    quote: str | None = None
    while i < end:
        ch = source[i]
        if quote:
            if ch == quote:
                quote = None
        elif ch in "'\"":
            quote = ch
        elif ch in "{[(":
            depth += 1
        elif ch in "}])":
            depth -= 1
            if depth == 0:
                return i if ch == "}" else -1
        elif ch == "\n" and depth == 0:
            return -1
        i += 1
    return -1
