"""The generated pages of the documentation site, from the one place each fact is defined.

- `docs/rules/<id>.md` and `docs/rules/index.md`: from the rule definitions (the docstring is
  the single source: `explain`, hover, these pages and the link on every diagnostic show the
  same text);
- `docs/configuration.md`: from `project.config.OPTIONS`;
- `docs/guide.md`: the bundled migration guide that hover quotes;
- the tables between `<!-- generated: NAME -->` and `<!-- end generated -->` in
  `docs/coming-from.md`: from the rules' `anchors`;
- the Rules section of the site's navigation, between `# generated: rules nav` and
  `# end generated` in `mkdocs.yml`.

`python -m migration_lsp.rulesdoc` writes them; `--check` fails when any is stale (a test runs
it).

Every code block in a rule's `## Example` and `## Use instead` sections is an example the test
suite runs. Its first line (the second after `<?php`) is a comment naming the tool and the file,
relative to the project's root: `-- flyway: db/migration/V2__add_index.sql`,
`# alembic: alembic/versions/3f2a1b9c4d5e_add_email.py`, `<!-- liquibase: db/changelog.xml -->`.
A dialect other than PostgreSQL is named in brackets, `# alembic (mysql): ...`; a file that is
on the default branch is marked `(on main)` after its path, and `(on main, deleted on this
branch)` when the work tree no longer has it. The blocks of one section naming the same tool
and dialect are the files of one project: every such project of `## Example` must produce the
rule, none of `## Use instead` may.
"""

from __future__ import annotations

import argparse
import re
import sys
from collections.abc import Iterable
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from migration_lsp.project.config import CONFIG_FILES, OPTIONS
from migration_lsp.rules.base import Rule
from migration_lsp.rules.registry import RULES

_NOTICE = "<!-- generated from {source} by `python -m migration_lsp.rulesdoc`; do not edit -->\n"
RULE_NOTICE = _NOTICE.format(source="the rule definition")

# --------------------------------------------------------------------------- examples

TOOLS = frozenset(
    {
        "alembic",
        "django",
        "rails",
        "laravel",
        "knex",
        "sequelize",
        "typeorm",
        "flyway",
        "liquibase",
        "golang-migrate",
        "dbmate",
        "goose",
        "prisma",
        "sql",
    }
)
"""Tools an example may name in its header line."""
DIALECTS = frozenset({"postgresql", "mysql", "sqlite"})
ON_MAIN = "on main"
DELETED = "on main, deleted on this branch"
EXAMPLE_SECTIONS = ("Example", "Use instead")

_HEADER = re.compile(
    r"(?:#|--|//|<!--)\s*(?P<tool>[a-z-]+)(?:\s+\((?P<dialect>[a-z]+)\))?:\s+"
    r"(?P<path>[\w./-]+)(?:\s+\((?P<state>[^)]*)\))?\s*(?:-->)?"
)


class ExampleError(ValueError):
    """A code block in an example section that does not say which tool and file it is."""


@dataclass(frozen=True, slots=True)
class ExampleFile:
    path: str
    """Relative to the project's root, with `/` separators."""
    text: str
    """The whole block, header line included (it is a comment in the file's language)."""
    on_main: bool = False
    """The file is committed on the default branch before the work tree is written."""
    deleted: bool = False
    """On the default branch, and no longer in the work tree."""


@dataclass(frozen=True, slots=True)
class Example:
    """One project of a rule's example section: files of one tool, checked together."""

    rule: str
    unsafe: bool
    """From `## Example` (must produce the rule) rather than `## Use instead`."""
    tool: str
    dialect: str
    files: tuple[ExampleFile, ...]


def section(doc: str, name: str) -> str:
    """The text of one `## name` section of a rule's documentation ('' when absent)."""
    marker = f"## {name}\n"
    start = doc.find(marker)
    if start < 0:
        return ""
    body = doc[start + len(marker) :]
    end = body.find("\n## ")
    return body if end < 0 else body[: end + 1]


def code_blocks(markdown: str) -> list[tuple[str, str]]:
    """The fenced code blocks of a markdown text: (language tag, text)."""
    blocks: list[tuple[str, str]] = []
    lines = markdown.split("\n")
    index = 0
    while index < len(lines):
        line = lines[index]
        if line.startswith("```"):
            language = line[3:].strip()
            end = index + 1
            while end < len(lines) and not lines[end].startswith("```"):
                end += 1
            blocks.append((language, "\n".join(lines[index + 1 : end]) + "\n"))
            index = end
        index += 1
    return blocks


def example_file(text: str) -> tuple[str, str, ExampleFile]:
    """(tool, dialect, file) named by a code block's header line; `ExampleError` otherwise."""
    lines = text.split("\n")
    header = lines[1] if lines[0].strip() == "<?php" and len(lines) > 1 else lines[0]
    found = _HEADER.fullmatch(header.strip())
    if found is None:
        raise ExampleError(f"no `<comment> <tool>: <path>` header line: {header!r}")
    tool, dialect = found["tool"], found["dialect"] or "postgresql"
    state = found["state"] or ""
    if tool not in TOOLS:
        raise ExampleError(f"unknown tool {tool!r} in {header!r} (known: {sorted(TOOLS)})")
    if dialect not in DIALECTS:
        raise ExampleError(f"unknown dialect {dialect!r} in {header!r}")
    if state not in ("", ON_MAIN, DELETED):
        raise ExampleError(f"unknown state {state!r} in {header!r}: ({ON_MAIN}) or ({DELETED})")
    path = found["path"]
    if path.startswith("/") or ".." in path.split("/"):
        raise ExampleError(f"the path must stay inside the project: {header!r}")
    return tool, dialect, ExampleFile(path, text, bool(state), state == DELETED)


def examples(rule: Rule) -> list[Example]:
    """The projects of a rule's `## Example` and `## Use instead` sections, in order."""
    found: list[Example] = []
    for name in EXAMPLE_SECTIONS:
        groups: dict[tuple[str, str], list[ExampleFile]] = {}
        for _language, text in code_blocks(section(rule.doc, name)):
            tool, dialect, file = example_file(text)
            groups.setdefault((tool, dialect), []).append(file)
        found.extend(
            Example(rule.id, name == "Example", tool, dialect, tuple(files))
            for (tool, dialect), files in groups.items()
        )
    return found


# --------------------------------------------------------------------------- rule pages

LINTERS = (
    ("squawk", "squawk"),
    ("strong_migrations", "strong_migrations"),
    ("django-migration-linter", "django-migration-linter"),
    ("atlas", "Atlas"),
    ("alembic-guard", "alembic-guard"),
)
"""(anchor key, display name) of the linters every rule page compares with."""
_RELATED = {
    "alembic": "Alembic",
    "django": "Django",
    "flyway": "Flyway",
    "rails": "Rails",
    "liquibase": "Liquibase",
    "eugene": "eugene",
    "ruff": "ruff",
    "guide": "the migration guide",
}


def anchor_ids(value: str) -> list[str]:
    """The ids of one anchor value (`"ban-create-domain-with-constraint, ban-alter-..."`)."""
    return [part.strip() for part in value.split(",") if part.strip()]


def inline(text: str) -> str:
    """Plain text for a markdown line: `<` and `>` outside code spans escaped, so a summary
    that names `<rollback>` shows it instead of an HTML tag."""
    parts = text.split("`")
    for index in range(0, len(parts), 2):
        parts[index] = parts[index].replace("<", "&lt;").replace(">", "&gt;")
    return "`".join(parts)


def _dialects(rule: Rule) -> str:
    return ", ".join(sorted(rule.dialects)) if rule.dialects else "all"


def rule_page(rule: Rule) -> str:
    default = "yes" if rule.default_enabled else "no (`extend-select` it)"
    lines = [
        RULE_NOTICE,
        f"# {rule.id}\n",
        f"{inline(rule.summary)}.\n",
        "| Severity | On by default | Dialects | Category | Quick fix |",
        "|---|---|---|---|---|",
        f"| {rule.severity.label} | {default} | {_dialects(rule)} | {rule.category} | "
        f"{f'`{rule.fix}`' if rule.fix else '—'} |\n",
        rule.doc.strip() + "\n",
        "## Equivalent rules in other linters\n",
        "| " + " | ".join(name for _, name in LINTERS) + " |",
        "|" + "---|" * len(LINTERS),
        "| "
        + " | ".join(
            ", ".join(f"`{i}`" for i in anchor_ids(rule.anchors.get(key, ""))) or "—"
            for key, _ in LINTERS
        )
        + " |\n",
    ]
    related = [
        f"{_RELATED.get(key, key)}: {value}"
        for key, value in sorted(rule.anchors.items())
        if key not in dict(LINTERS)
    ]
    if related:
        lines.append("Related: " + "; ".join(related) + ".\n")
    lines += [
        "## Silencing it\n",
        f"- on the line, or alone on the line above: `# migration-lsp: ignore[{rule.id}]` (`--` "
        "in SQL, `//` in PHP and JavaScript, `<!-- -->` in XML);",
        f"- for a whole file: `# migration-lsp: ignore-file[{rule.id}]`;",
        f'- everywhere: add `"{rule.id}"` to `ignore` in the configuration.',
        "",
    ]
    return "\n".join(lines)


_CATEGORIES = {
    "locks": "Locks and table rewrites",
    "postgres": "PostgreSQL statements",
    "reversibility": "Reversibility",
    "data": "Data migrations",
    "design": "Schema design",
    "history": "History",
    "suppression": "Suppression comments",
}


def index_page() -> str:
    lines = [
        RULE_NOTICE,
        "# Rules\n",
        f"migration-lsp has {len(RULES)} rules. Each page says what the rule flags, why it is "
        "dangerous (the lock it takes and what that lock blocks), an unsafe example, the safe "
        "alternative, whether its quick fix is safe, and the equivalent rule in squawk, "
        "strong_migrations, django-migration-linter, Atlas and alembic-guard.\n",
        "Every example on these pages is run by the test suite: the unsafe one must produce the "
        "rule and the safe one must not. The first line of each code block is a comment naming "
        "the tool and the file it is (`-- flyway: db/migration/V2__add_index.sql`). Examples "
        "show only what matters to the rule: Alembic files leave out their imports, revision "
        "header and `downgrade()` unless the rule is about them, and Django migrations depend "
        "on earlier ones that are not shown.\n",
        "Rules marked *off* run only when selected (`extend-select`, or `select = "
        '["ALL"]`); `migration-lsp rules` lists them too, `migration-lsp explain ID` prints one '
        "page.\n",
    ]
    by_category: dict[str, list[Rule]] = {}
    for rule in RULES:
        by_category.setdefault(rule.category, []).append(rule)
    for category, rules in by_category.items():
        lines += [
            f"## {_CATEGORIES.get(category, category.capitalize())}\n",
            "| Rule | Severity | Dialects | Quick fix | Summary |",
            "|---|---|---|---|---|",
        ]
        lines += [
            f"| [{r.id}]({r.id}.md) | {r.severity.label}{'' if r.default_enabled else ' (off)'}"
            f" | {_dialects(r)} | {'yes' if r.fix else '—'} | {inline(r.summary)} |"
            for r in rules
        ]
        lines.append("")
    return "\n".join(lines)


# --------------------------------------------------------------------------- other pages


def setting_name(option: str) -> str:
    """The editor setting of a configuration option: `extend-select` → `extendSelect`."""
    first, *rest = option.split("-")
    return first + "".join(word.capitalize() for word in rest)


def config_page() -> str:
    rows = [
        f"| `{o.name}` | `migrationLsp.{setting_name(o.name)}` | {o.type} | {o.default} | "
        f"{o.help} |"
        for o in OPTIONS
    ]
    files = ", ".join(f"`{name}`" for name in CONFIG_FILES)
    return "\n".join(
        [
            _NOTICE.format(source="`OPTIONS` in server/migration_lsp/project/config.py"),
            "# Configuration\n",
            "migration-lsp reads the nearest configuration file at or above each migration: "
            f"{files} (the first found in a folder wins; a `pyproject.toml` counts only when it "
            "has a `[tool.migration-lsp]` table). Relative paths and `exclude` globs start at "
            "the file's folder. The command line, the language server and every editor read "
            "the same file, so CI and the editor agree.\n",
            "```toml",
            "# pyproject.toml (in migration-lsp.toml, leave out the table header)",
            "[tool.migration-lsp]",
            'extend-select = ["prefer-identity"]   # also run a rule that is off by default',
            'ignore = ["drop-column"]',
            'severity = { rename-column = "error" }',
            "postgres-version = 16",
            'exclude = ["legacy/**"]',
            "```\n",
            "A mistake (an unknown option or rule id, a wrong type) stops `migration-lsp check` "
            "with exit status 2 and the file and line; the editor shows it as a message and "
            "uses the defaults.\n",
            "## Options\n",
            "| Option | Editor setting | Type | Default | Meaning |",
            "|---|---|---|---|---|",
            *rows,
            "",
            "Editors send the same options as settings (the `migrationLsp` section, camelCase "
            "as above, or kebab-case); a project's configuration file wins over them, option by "
            "option. On the command line, `--select` and `--ignore` replace the file's lists.\n",
            "## Silencing one finding\n",
            "A comment on a line of the flagged statement, or alone on the line above it, "
            "silences the rules it names (all rules without a list: `migration-lsp: ignore`); "
            "an `ignore-file` comment anywhere in the file silences them for the whole file:\n",
            "| Language | One line | Whole file |",
            "|---|---|---|",
            "| Python, Ruby, YAML | `# migration-lsp: ignore[drop-column]` | "
            "`# migration-lsp: ignore-file[drop-column]` |",
            "| SQL | `-- migration-lsp: ignore[drop-column]` | "
            "`-- migration-lsp: ignore-file[drop-column]` |",
            "| PHP, JavaScript, TypeScript | `// migration-lsp: ignore[drop-column]` | "
            "`// migration-lsp: ignore-file[drop-column]` |",
            "| XML | `<!-- migration-lsp: ignore[drop-column] -->` | "
            "`<!-- migration-lsp: ignore-file[drop-column] -->` |",
            "",
            "Several ids are separated by commas (`ignore[drop-column, drop-table]`). An "
            "ignore comment that names an unknown rule or silences nothing is itself reported "
            "([unused-ignore](rules/unused-ignore.md)).\n",
        ]
    )


def guide_page() -> str:
    """The bundled migration guide (what hover quotes), without its skill front matter."""
    text = resources.files("migration_lsp.guide").joinpath("migrations.md").read_text("utf-8")
    if text.startswith("---\n"):
        end = text.find("\n---\n", 4)
        if end > 0:
            text = text[end + 5 :]
    title, _, body = text.lstrip("\n").partition("\n")
    note = (
        '!!! note "The guide behind hover"\n'
        "    Hovering an operation, `upgrade`/`downgrade` or a rule id in the editor shows the "
        "matching section of this guide, bundled with migration-lsp. A guide of your team's "
        "(a `SKILL.md` about migrations, `docs/migrations.md`, or the `guide` option) replaces "
        "it: see [the language server](language-server.md#the-migration-guide-behind-hover).\n"
    )
    source = "server/migration_lsp/guide/migrations.md (the guide hover quotes)"
    return f"{_NOTICE.format(source=source)}\n{title}\n\n{note}{body}"


def mapping_table(key: str) -> str:
    """Another linter's rule ids (from the rules' `anchors`) → ours."""
    ours: dict[str, list[str]] = {}
    for rule in RULES:
        for their in anchor_ids(rule.anchors.get(key, "")):
            ours.setdefault(their, []).append(rule.id)
    name = dict(LINTERS).get(key, key)
    rows = [
        f"| `{their}` | {', '.join(f'[{r}](rules/{r}.md)' for r in ids)} |"
        for their, ids in sorted(ours.items())
    ]
    return "\n".join([f"| {name} | migration-lsp |", "|---|---|", *rows]) + "\n"


_NAV = re.compile(
    r"(?P<head>(?P<indent> *)# generated: rules nav\n)(?P<body>.*?)"
    r"(?P<tail>(?P=indent)# end generated)",
    re.S,
)


def rules_nav(indent: str) -> str:
    """The Rules section of `mkdocs.yml`'s nav: the index, then each category's pages (titled,
    since the generated pages start with a comment, not their heading)."""
    lines = [f"{indent}- All rules: rules/index.md"]
    by_category: dict[str, list[Rule]] = {}
    for rule in RULES:
        by_category.setdefault(rule.category, []).append(rule)
    for category, rules in by_category.items():
        lines.append(f"{indent}- {_CATEGORIES.get(category, category.capitalize())}:")
        lines += [f"{indent}    - {r.id}: rules/{r.id}.md" for r in rules]
    return "\n".join(lines) + "\n"


def fill_nav(text: str) -> str:
    """`mkdocs.yml` with the generated Rules nav between its markers."""
    return _NAV.sub(lambda m: m["head"] + rules_nav(m["indent"]) + m["tail"], text)


_GENERATED = re.compile(r"(<!-- generated: ([\w-]+) -->\n)(.*?)(<!-- end generated -->)", re.S)


def fill_generated(text: str) -> str:
    """A hand-written page with each `<!-- generated: KEY -->` block refilled."""
    return _GENERATED.sub(lambda m: m[1] + mapping_table(m[2]) + m[4], text)


# --------------------------------------------------------------------------- writing


def pages() -> dict[str, str]:
    """Rule pages, by file name inside `docs/rules/`."""
    result = {f"{rule.id}.md": rule_page(rule) for rule in RULES}
    result["index.md"] = index_page()
    return result


def site_pages(docs: Path) -> dict[Path, str]:
    """Every generated page outside `docs/rules/`, by path."""
    wanted = {docs / "configuration.md": config_page(), docs / "guide.md": guide_page()}
    coming_from = docs / "coming-from.md"
    if coming_from.is_file():
        wanted[coming_from] = fill_generated(coming_from.read_text("utf-8"))
    mkdocs = docs.parent / "mkdocs.yml"
    if mkdocs.is_file():
        wanted[mkdocs] = fill_nav(mkdocs.read_text("utf-8"))
    return wanted


def _stale(wanted: dict[Path, str]) -> list[Path]:
    return sorted(
        path
        for path, text in wanted.items()
        if not path.is_file() or path.read_text("utf-8") != text
    )


def main(argv: Iterable[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--docs", type=Path, help="the docs folder (default: docs)")
    parser.add_argument("--out", type=Path, help="the rule pages' folder (default: DOCS/rules)")
    parser.add_argument("--check", action="store_true", help="fail when a page is stale")
    args = parser.parse_args(None if argv is None else list(argv))
    docs: Path = args.docs or (args.out.parent if args.out else Path("docs"))
    out: Path = args.out or docs / "rules"
    wanted = {out / name: text for name, text in pages().items()}
    wanted.update(site_pages(docs))
    stale = _stale(wanted)
    existing = set(out.glob("*.md")) if out.is_dir() else set()
    extra = sorted(existing - set(wanted))
    if args.check:
        for path in stale:
            print(f"stale: {path}", file=sys.stderr)
        for path in extra:
            print(f"no such rule: {path}", file=sys.stderr)
        if stale or extra:
            print("run: python -m migration_lsp.rulesdoc", file=sys.stderr)
        return 1 if stale or extra else 0
    for path in stale:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(wanted[path], encoding="utf-8")
    for path in extra:
        path.unlink()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
