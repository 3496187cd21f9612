"""Rule reference pages (`docs/rules/<id>.md`) generated from the rule definitions.

The rule's docstring is the single source: `explain`, these pages and the link on every
diagnostic show the same text. `python -m migration_lsp.rulesdoc --check` fails when the pages
in the repository are stale (a test runs it).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from migration_lsp.rules.base import Rule
from migration_lsp.rules.registry import RULES

_NOTICE = "<!-- generated from the rule definition by `python -m migration_lsp.rulesdoc`; "
_NOTICE += "do not edit -->\n"


def rule_page(rule: Rule) -> str:
    dialects = ", ".join(sorted(rule.dialects)) if rule.dialects else "all"
    default = "on" if rule.default_enabled else "off"
    lines = [
        _NOTICE,
        f"# {rule.id}\n",
        f"{rule.summary}.\n",
        "| severity | default | dialects | category | quick fix |",
        "|---|---|---|---|---|",
        f"| {rule.severity.label} | {default} | {dialects} | {rule.category} | "
        f"{rule.fix or '—'} |\n",
        rule.doc.strip() + "\n",
    ]
    if rule.anchors:
        lines.append("## Equivalent checks in other linters\n")
        lines.extend(f"- {tool}: `{name}`" for tool, name in sorted(rule.anchors.items()))
        lines.append("")
    lines.append(
        "## Silencing it\n\n"
        f"On the line: `# migration-lsp: ignore[{rule.id}]` (`--` in SQL); for a whole file: "
        f'`# migration-lsp: ignore-file[{rule.id}]`; everywhere: add `"{rule.id}"` to `ignore` '
        "in the configuration.\n"
    )
    return "\n".join(lines)


def index_page() -> str:
    rows = [
        f"| [{r.id}]({r.id}.md) | {r.severity.label}{'' if r.default_enabled else ' (off)'} | "
        f"{', '.join(sorted(r.dialects)) if r.dialects else 'all'} | {r.summary} |"
        for r in RULES
    ]
    return "\n".join(
        [
            _NOTICE,
            "# Rules\n",
            "| rule | severity | dialects | summary |",
            "|---|---|---|---|",
            *rows,
            "",
        ]
    )


def pages() -> dict[str, str]:
    result = {f"{rule.id}.md": rule_page(rule) for rule in RULES}
    result["index.md"] = index_page()
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--out", type=Path, default=Path("docs/rules"))
    parser.add_argument("--check", action="store_true", help="fail when the pages are stale")
    args = parser.parse_args(argv)
    wanted = pages()
    existing = {p.name for p in args.out.glob("*.md")} if args.out.is_dir() else set()
    stale = sorted(
        name
        for name, text in wanted.items()
        if not (args.out / name).is_file() or (args.out / name).read_text("utf-8") != text
    )
    extra = sorted(existing - set(wanted))
    if args.check:
        for name in stale:
            print(f"stale: {args.out / name}", file=sys.stderr)
        for name in extra:
            print(f"no such rule: {args.out / name}", file=sys.stderr)
        if stale or extra:
            print("run: python -m migration_lsp.rulesdoc", file=sys.stderr)
        return 1 if stale or extra else 0
    args.out.mkdir(parents=True, exist_ok=True)
    for name in stale:
        (args.out / name).write_text(wanted[name], encoding="utf-8")
    for name in extra:
        (args.out / name).unlink()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
