"""Markdown guide → `Guide` (front matter + sections).

A guide is a markdown playbook such as a Claude skill file: optional `---` front matter with
`name:` / `description:` lines, then headings and their text. This is not a full markdown parser:
it finds ATX (`## Title`) and setext (`Title` underlined with `===`/`---`) headings, skips fenced
code blocks (so a `# comment` inside a ```python block is not a heading) and HTML comments, and
keeps everything else as text. Nothing in the guide is executed or evaluated; template
placeholders such as `{{migration_tool}}` stay as they are.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from migration_lsp.guide import topics

_ATX = re.compile(r"^ {0,3}(#{1,6})(?:[ \t]+(.*?))?[ \t]*$")
_ATX_CLOSING = re.compile(r"(?:^|[ \t]+)#+[ \t]*$")
_FENCE = re.compile(r"^[ \t]*(`{3,}|~{3,})(.*)$")
_SETEXT = re.compile(r"^ {0,3}(=+|-+)[ \t]*$")
_THEMATIC = re.compile(r"^ {0,3}([-*_])(?:[ \t]*\1){2,}[ \t]*$")
_LIST_OR_QUOTE = re.compile(r"^ {0,3}(?:[-*+>]|\d+[.)])(?:[ \t]|$)")
_FRONT_KEY = re.compile(r"^([A-Za-z_][\w.-]*)[ \t]*:(?:[ \t]+(.*?)|)[ \t]*$")

FRONT_MATTER_MAX_LINES = 200
"""A `---` block longer than this is not front matter but a broken document."""


@dataclass(frozen=True, slots=True)
class Section:
    """One heading of a guide and the markdown under it."""

    title: str
    """The heading text as written (trailing `#`s removed): `Step 3: Data Migrations`."""
    level: int
    """1 for `#`, 2 for `##`, ...; setext headings are 1 (`===`) or 2 (`---`)."""
    line: int
    """0-based line of the heading in the guide's text."""
    end_line: int
    """0-based line just past `body` (the next heading of the same or a higher level)."""
    own_body: str
    """Markdown from the heading to the next heading of any level (stripped of blank edges)."""
    body: str
    """Markdown from the heading to the next heading of the same or a higher level: the
    section's own text plus its sub-sections, headings included."""
    path: tuple[str, ...] = ()
    """Titles of the enclosing sections, outermost first (the breadcrumb without this one)."""
    index: int = 0
    """Position in `Guide.sections`."""

    @property
    def breadcrumb(self) -> tuple[str, ...]:
        return (*self.path, self.title)

    @property
    def lineno(self) -> int:
        """1-based line of the heading (for messages)."""
        return self.line + 1


@dataclass(slots=True)
class Guide:
    """A parsed guide: metadata from the front matter and its sections in document order."""

    text: str
    sections: list[Section]
    front_matter: dict[str, str] = field(default_factory=dict)
    name: str = ""
    """Front matter `name` (a skill's slug), or empty."""
    title: str = ""
    """Front matter `title`, else the first level-1 heading, else `name`."""
    description: str = ""
    """Front matter `description`, or empty."""
    preamble: str = ""
    """Markdown before the first heading (after the front matter)."""
    problems: list[str] = field(default_factory=list)
    """What was odd about the file (unterminated front matter, unclosed code block...)."""
    _topic_cache: dict[str, Section | None] = field(default_factory=dict, repr=False, compare=False)

    def section_for(self, topic: str) -> Section | None:
        """The section that best covers `topic` (a key of `topics.TOPICS`), or None.

        Raises `KeyError` for an unknown topic key (a typo in the caller, not in the guide).
        """
        if topic not in self._topic_cache:
            self._topic_cache[topic] = topics.find_section(self.sections, topic)
        return self._topic_cache[topic]

    def first_section(self, candidates: list[str]) -> tuple[str, Section] | None:
        """The first of `candidates` (topic keys, in order of preference) the guide covers."""
        for topic in candidates:
            section = self.section_for(topic)
            if section is not None:
                return topic, section
        return None

    def section_titled(self, title: str) -> Section | None:
        """The first section whose title is `title` (case- and space-insensitive)."""
        wanted = " ".join(title.split()).casefold()
        for section in self.sections:
            if " ".join(section.title.split()).casefold() == wanted:
                return section
        return None


# --------------------------------------------------------------------------- front matter


def split_front_matter(text: str) -> tuple[dict[str, str], int, list[str]]:
    """Parse `---` front matter at the top of `text`.

    Returns (keys, number of lines it occupies, problems). Only simple `key: value` lines are
    understood, plus quoted values, `>`/`|` block scalars and indented continuation lines; lists
    and nested maps are skipped. Nothing is evaluated. Without a closing `---` (or `...`) within
    `FRONT_MATTER_MAX_LINES` lines the block is not front matter and 0 lines are consumed.
    """
    lines = text.split("\n")
    if not lines or lines[0].strip() != "---":
        return {}, 0, []
    end = None
    for i in range(1, min(len(lines), FRONT_MATTER_MAX_LINES + 1)):
        if lines[i].strip() in ("---", "..."):
            end = i
            break
    if end is None:
        return {}, 0, ["front matter starts with `---` but never ends; read as markdown"]
    values: dict[str, str] = {}
    problems: list[str] = []
    key: str | None = None
    block: str | None = None  # ">" or "|" for block scalars
    parts: list[str] = []

    def flush() -> None:
        if key is None:
            return
        if block == "|":
            values[key] = "\n".join(parts).strip()
        else:
            values[key] = _unquote(" ".join(p.strip() for p in parts if p.strip()))

    for raw in lines[1:end]:
        line = raw.rstrip("\r")
        if not line.strip() or line.lstrip().startswith("#"):
            if block == "|" and key is not None:
                parts.append("")
            continue
        if line[0] in " \t":
            if key is not None:
                parts.append(line.strip())
            continue
        match = _FRONT_KEY.match(line)
        if match is None:
            flush()
            key, block, parts = None, None, []
            problems.append(f"front matter line not understood: {line.strip()[:60]!r}")
            continue
        flush()
        key = match.group(1)
        value = match.group(2) or ""
        block = None
        parts = []
        if value[:1] in (">", "|") and value[1:].strip("+-0123456789") == "":
            block = value[0]
        elif value:
            parts.append(value)
    flush()
    return values, end + 1, problems


def _unquote(value: str) -> str:
    if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
        inner = value[1:-1]
        if value[0] == "'":
            return inner.replace("''", "'")
        return inner.replace('\\"', '"').replace("\\n", "\n").replace("\\\\", "\\")
    return value


# --------------------------------------------------------------------------- headings


@dataclass(slots=True)
class _Heading:
    title: str
    level: int
    line: int
    first_body_line: int


def _scan_headings(lines: list[str], start: int, problems: list[str]) -> list[_Heading]:
    headings: list[_Heading] = []
    fence: str | None = None
    fence_line = 0
    in_comment = False
    previous_paragraph = False  # the line above is paragraph text (for setext headings)
    for i in range(start, len(lines)):
        line = lines[i].rstrip("\r")
        if fence is not None:
            stripped = line.strip()
            if stripped and set(stripped) == {fence[0]} and len(stripped) >= len(fence):
                fence = None
            previous_paragraph = False
            continue
        if in_comment:
            if "-->" in line:
                in_comment = False
            previous_paragraph = False
            continue
        opening = _FENCE.match(line)
        if opening is not None and not (opening.group(1)[0] == "`" and "`" in opening.group(2)):
            fence = opening.group(1)
            fence_line = i
            previous_paragraph = False
            continue
        if line.lstrip().startswith("<!--") and "-->" not in line:
            in_comment = True
            previous_paragraph = False
            continue
        atx = _ATX.match(line)
        if atx is not None:
            title = _ATX_CLOSING.sub("", atx.group(2) or "").strip()
            headings.append(_Heading(title, len(atx.group(1)), i, i + 1))
            previous_paragraph = False
            continue
        setext = _SETEXT.match(line)
        if setext is not None and previous_paragraph:
            level = 1 if setext.group(1)[0] == "=" else 2
            headings.append(_Heading(lines[i - 1].strip(), level, i - 1, i + 1))
            previous_paragraph = False
            continue
        stripped = line.strip()
        previous_paragraph = bool(
            stripped
            and not _THEMATIC.match(line)
            and not _LIST_OR_QUOTE.match(line)
            and not line.startswith(("    ", "\t"))
            and not stripped.startswith("|")
        )
    if fence is not None:
        problems.append(f"code block opened on line {fence_line + 1} is never closed")
    return headings


def _join(lines: list[str], start: int, end: int) -> str:
    return "\n".join(line.rstrip("\r") for line in lines[start:end]).strip("\n").rstrip()


# --------------------------------------------------------------------------- guide


def parse_guide(text: str) -> Guide:
    """Parse markdown `text` into a `Guide`. Never raises on odd input."""
    if text.startswith("\ufeff"):
        text = text[1:]
    front, consumed, problems = split_front_matter(text)
    lines = text.split("\n")
    headings = _scan_headings(lines, consumed, problems)

    sections: list[Section] = []
    stack: list[_Heading] = []
    for n, heading in enumerate(headings):
        next_any = headings[n + 1].line if n + 1 < len(headings) else len(lines)
        end = len(lines)
        for later in headings[n + 1 :]:
            if later.level <= heading.level:
                end = later.line
                break
        while stack and stack[-1].level >= heading.level:
            stack.pop()
        sections.append(
            Section(
                title=heading.title,
                level=heading.level,
                line=heading.line,
                end_line=end,
                own_body=_join(lines, heading.first_body_line, next_any),
                body=_join(lines, heading.first_body_line, end),
                path=tuple(h.title for h in stack),
                index=n,
            )
        )
        stack.append(heading)

    preamble_end = headings[0].line if headings else len(lines)
    name = front.get("name", "").strip()
    first_h1 = next((s.title for s in sections if s.level == 1), "")
    title = front.get("title", "").strip() or first_h1 or name
    return Guide(
        text=text,
        sections=sections,
        front_matter=front,
        name=name,
        title=title,
        description=front.get("description", "").strip(),
        preamble=_join(lines, consumed, preamble_end),
        problems=problems,
    )
