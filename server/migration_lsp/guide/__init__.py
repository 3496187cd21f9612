"""Hover documentation from a migration guide (the team's skill file, or ours).

    guide, source = find_guide(workspace_roots, configured_path)
    section = section_for_operation(guide, op)        # or section_for_rule / section_for_word
    if section is not None:
        markdown = hover_markdown(section, source)

The guide is markdown (`parse.py`), split into sections found by topic (`topics.py`) whatever
the guide calls them; `load.py` decides which guide applies. The bundled guide,
`migrations.md`, is written by this project and corrects the usual mistakes of such guides.
"""

from __future__ import annotations

import re
from pathlib import Path

from migration_lsp.guide.load import (
    BUNDLED,
    GuideError,
    bundled_guide,
    clear_cache,
    find_guide,
    load_guide,
    workspace_guide_candidates,
)
from migration_lsp.guide.parse import Guide, Section, parse_guide, split_front_matter
from migration_lsp.guide.topics import (
    RULE_TOPICS,
    TOPICS,
    WORD_TOPICS,
    Topic,
    find_section,
    topic_for_operation,
    topic_for_rule,
    topic_for_word,
)
from migration_lsp.model import Operation

__all__ = [
    "BUNDLED",
    "RULE_TOPICS",
    "TOPICS",
    "WORD_TOPICS",
    "Guide",
    "GuideError",
    "Section",
    "Topic",
    "bundled_guide",
    "clear_cache",
    "describe_source",
    "find_guide",
    "find_section",
    "hover_markdown",
    "load_guide",
    "parse_guide",
    "section_for_operation",
    "section_for_rule",
    "section_for_word",
    "split_front_matter",
    "topic_for_operation",
    "topic_for_rule",
    "topic_for_word",
    "workspace_guide_candidates",
]

HOVER_MAX_LINES = 60
_FENCE = re.compile(r"^[ \t]*(`{3,}|~{3,})(.*)$")
_HEADING = re.compile(r"^ {0,3}#{1,6}[ \t]+(.*?)(?:[ \t]+#+)?[ \t]*$")
_SOURCE = re.compile(r"^(config|workspace): (.*?)(?: \(configured guide .*\))?$")


def section_for_operation(guide: Guide, op: Operation) -> Section | None:
    """The guide's section about `op` (the first of its topics the guide covers)."""
    found = guide.first_section(topic_for_operation(op))
    return found[1] if found else None


def section_for_rule(guide: Guide, rule_id: str) -> Section | None:
    """The guide's section about what rule `rule_id` checks."""
    found = guide.first_section(topic_for_rule(rule_id))
    return found[1] if found else None


def section_for_word(guide: Guide, word: str) -> Section | None:
    """The guide's section about a keyword of migration files (`downgrade`, `atomic`...)."""
    found = guide.first_section(topic_for_word(word))
    return found[1] if found else None


def describe_source(guide_source: str, line: int | None = None) -> str:
    """Markdown naming where a guide came from; a link to the file (at `line`, 0-based) when
    it is a file of the user's."""
    match = _SOURCE.match(guide_source)
    extra = guide_source[match.end(2) :].strip() if match else ""
    if match is None:
        if guide_source.startswith(BUNDLED):
            note = guide_source[len(BUNDLED) :].strip()
            text = "the migration guide bundled with migration-lsp"
            return f"{text} {note}".rstrip()
        return guide_source
    kind, raw_path = match.group(1), match.group(2)
    path = Path(raw_path)
    label = path.name if path.name.lower() != "skill.md" else f"{path.parent.name}/{path.name}"
    target = raw_path
    if path.is_absolute():
        target = path.as_uri() + (f"#L{line + 1}" if line is not None else "")
    where = "configured guide" if kind == "config" else "workspace guide"
    return f"the {where} [{label}]({target}) {extra}".rstrip()


def _trim(body: str, max_lines: int) -> tuple[list[str], bool]:
    """At most `max_lines` lines of `body`, headings made bold, an open code block closed."""
    out: list[str] = []
    fence: str | None = None
    fence_start = 0
    lines = body.split("\n")
    for line in lines[:max_lines]:
        opening = _FENCE.match(line)
        if fence is None and opening is not None:
            fence, fence_start = opening.group(1), len(out)
        elif fence is not None:
            stripped = line.strip()
            if stripped and set(stripped) == {fence[0]} and len(stripped) >= len(fence):
                fence = None
        elif (heading := _HEADING.match(line)) is not None:
            line = f"**{heading.group(1)}**"
        out.append(line)
    cut = len(lines) > max_lines
    if fence is not None and len(out) - fence_start <= 3:
        del out[fence_start:]  # only the first line or two of a block: leave it out
        fence = None
    while out and not out[-1].strip():
        out.pop()
    if fence is not None:
        out.append(fence[0] * len(fence))
    return out, cut


def hover_markdown(section: Section, guide_source: str, *, max_lines: int = HOVER_MAX_LINES) -> str:
    """Hover text for `section`: its breadcrumb as a title, its markdown (sub-sections
    included, cut after `max_lines` lines with "…"), and where the guide came from."""
    title = " › ".join(part for part in section.breadcrumb if part.strip()) or section.title
    lines, cut = _trim(section.body, max_lines)
    parts = [f"**{title}**", ""]
    if lines:
        parts.extend(lines)
    else:
        parts.append("*(This section of the guide has no text of its own.)*")
    if cut:
        parts.extend(["", "…"])
    parts.extend(["", "---", f"*From {describe_source(guide_source, section.line)}.*"])
    return "\n".join(parts)
