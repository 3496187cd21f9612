"""`migration-lsp` command line: check | detect | rules | explain."""

from __future__ import annotations

import argparse
import gc
import json
import os
import sys
from collections.abc import Sequence
from pathlib import Path

from migration_lsp import __version__
from migration_lsp.cache import ENV_DIR, CheckCache, default_dir
from migration_lsp.engine import Workspace
from migration_lsp.model import Severity
from migration_lsp.output import FORMATS, render
from migration_lsp.project.config import ConfigError
from migration_lsp.project.detect import Project, detect_projects
from migration_lsp.rules.registry import BY_ID, RULES

EXIT_OK, EXIT_FINDINGS, EXIT_USAGE = 0, 1, 2
GRAPH_FORMATS = ("text", "json", "mermaid", "dot")


def _id_list(value: str) -> list[str]:
    return [part.strip() for part in value.split(",") if part.strip()]


def _jobs(value: str) -> int:
    if not value.isdigit():
        raise argparse.ArgumentTypeError(f"must be a number of processes, not {value!r}")
    return int(value)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="migration-lsp",
        description="Find database migrations that lock tables, lose data, fail half-way or "
        "cannot be rolled back.",
    )
    parser.add_argument("--version", action="version", version=f"migration-lsp {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    check = commands.add_parser("check", help="check migration files and report findings")
    check.add_argument("paths", nargs="*", type=Path, default=[Path(".")], metavar="PATH")
    check.add_argument(
        "--diff-base",
        metavar="REF",
        help="check only the migrations under PATH added or changed since the branch forked "
        "from REF (committed, uncommitted or untracked)",
    )
    check.add_argument("--format", choices=FORMATS, default="text")
    check.add_argument("--select", type=_id_list, metavar="ID,...", help="rules to run")
    check.add_argument("--ignore", type=_id_list, metavar="ID,...", help="rules to skip")
    check.add_argument(
        "--exit-zero", action="store_true", help="exit 0 even when there are findings"
    )
    check.add_argument("--no-color", action="store_true", help="never colour the text output")
    fixing = check.add_mutually_exclusive_group()
    fixing.add_argument(
        "--fix", action="store_true", help="apply the safe fixes to the files, then report"
    )
    fixing.add_argument(
        "--diff", action="store_true", help="print the fixes as a unified diff; change nothing"
    )
    check.add_argument(
        "--unsafe-fixes", action="store_true", help="also apply fixes that need review"
    )
    check.add_argument(
        "--no-cache",
        action="store_true",
        help="neither read nor write the cache of earlier results",
    )
    check.add_argument(
        "--cache-dir",
        type=Path,
        metavar="DIR",
        help=f"where to keep the cache (default: ${ENV_DIR}, else $XDG_CACHE_HOME/"
        "migration-lsp, else ~/.cache/migration-lsp)",
    )
    check.add_argument(
        "--jobs",
        type=_jobs,
        default=0,
        metavar="N",
        help="check files in N processes (default 0: one per CPU; 1: in this process)",
    )

    detect = commands.add_parser("detect", help="show the migration projects found under PATH")
    detect.add_argument("path", nargs="?", type=Path, default=Path("."), metavar="PATH")
    detect.add_argument("--format", choices=("text", "json"), default="text")

    graph = commands.add_parser("graph", help="print each project's migration history")
    graph.add_argument("path", nargs="?", type=Path, default=Path("."), metavar="PATH")
    graph.add_argument("--format", choices=GRAPH_FORMATS, default="text")

    rules = commands.add_parser("rules", help="list the rules")
    rules.add_argument("--format", choices=("text", "json"), default="text")

    explain = commands.add_parser("explain", help="print one rule's documentation")
    explain.add_argument("rule", metavar="ID")

    serve = commands.add_parser("serve", help="run the language server (stdio by default)")
    serve.add_argument("--stdio", action="store_true", help="talk LSP on stdin/stdout (default)")
    serve.add_argument(
        "--tcp", nargs=2, metavar=("HOST", "PORT"), help="listen on a TCP port (for debugging)"
    )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        if args.command == "check":
            return _check(args)
        if args.command == "detect":
            return _detect(args)
        if args.command == "graph":
            return _graph(args)
        if args.command == "rules":
            return _rules(args)
        if args.command == "serve":
            return _serve(args)
        return _explain(args)
    except ConfigError as error:
        print(f"migration-lsp: error: {error}", file=sys.stderr)
        return EXIT_USAGE
    except BrokenPipeError:
        return EXIT_OK


def _changed_paths(args: argparse.Namespace) -> list[Path] | None:
    """`--diff-base REF`: the changed migrations under the paths, which replace them; None
    when nothing is left to check (an empty report is written; exit status 0)."""
    from migration_lsp.changed import changed_migrations

    paths: list[Path] = changed_migrations(args.diff_base, args.paths)
    if paths:
        return paths
    where = " ".join(str(p) for p in args.paths)
    print(
        f"migration-lsp: --diff-base {args.diff_base}: no migration added or changed under "
        f"{where}, nothing to check",
        file=sys.stderr,
    )
    if args.format != "text" and not args.diff:  # a report file CI can still upload
        sys.stdout.write(render([], args.format, cwd=Path.cwd(), files_checked=0, rules=BY_ID))
    return None


def _check(args: argparse.Namespace) -> int:
    paths = args.paths if args.diff_base is None else _changed_paths(args)
    if paths is None:
        return EXIT_OK
    mode = "fix" if args.fix else "diff" if args.diff else None
    cache = None
    if not args.no_cache and mode is None:
        scope = repr((args.select, args.ignore))
        cache = CheckCache(args.cache_dir or default_dir(), scope)
    workspace = Workspace(
        select=args.select,
        ignore=args.ignore,
        fix=mode,
        unsafe_fixes=args.unsafe_fixes,
        cache=cache,
        jobs=args.jobs,
    )
    color = (
        args.format == "text"
        and not args.no_color
        and sys.stdout.isatty()
        and "NO_COLOR" not in os.environ
    )
    run = repr((args.format, color, str(Path.cwd()), [str(p) for p in paths]))
    stored: tuple[str, bool] | None = None
    if cache is not None:

        def replay(signature: str) -> bool:
            nonlocal stored
            stored = cache.output(run, signature)
            return stored is not None

        workspace.replay = replay
    result = workspace.check(paths)
    # what the check found lives until the process ends: the collector need not walk its
    # millions of objects again (a quarter of a second on 10,000 files) while the report is made
    gc.freeze()
    if args.diff:
        for fixed in result.fixes:
            sys.stdout.write(fixed.diff(Path.cwd()))
        count = sum(len(f.applied) for f in result.fixes)
        print(f"{count} fix(es) would be applied to {len(result.fixes)} file(s).", file=sys.stderr)
        return EXIT_FINDINGS if result.fixes else EXIT_OK
    if args.fix:
        count = sum(len(f.applied) for f in result.fixes)
        created = sum(len(f.created) for f in result.fixes)
        extra = f", created {created} file(s)" if created else ""
        print(f"Applied {count} fix(es) to {len(result.fixes)} file(s){extra}.", file=sys.stderr)
    if result.replayed and stored is not None:
        output, serious = stored
    else:
        output = render(
            result.findings,
            args.format,
            cwd=Path.cwd(),
            files_checked=result.files_checked,
            rules=BY_ID,
            color=color,
            texts=result.texts,
        )
        serious = any(f.severity >= Severity.WARNING for f in result.findings)
        if cache is not None and result.signature is not None:
            cache.store_output(run, result.signature, output, serious)
            cache.save()
    sys.stdout.write(output)
    for note in result.notes:
        print(f"migration-lsp: {note}", file=sys.stderr)
    if args.exit_zero:
        return EXIT_OK
    return EXIT_FINDINGS if serious else EXIT_OK


def _graph(args: argparse.Namespace) -> int:
    """The history of every project under PATH, with the history rules' findings marked."""
    import os

    from migration_lsp.history.render import ProjectGraph, render
    from migration_lsp.rules.registry import RULES

    history_rules = [r.id for r in RULES if r.category == "history"]
    if not args.path.exists():
        raise ConfigError(f"no such file or directory: {args.path}")
    workspace = Workspace(select=history_rules)
    result = workspace.check([args.path])
    graphs: list[ProjectGraph] = []
    seen: set[tuple[str, Path]] = set()
    for project in result.projects:
        if (project.tool, project.root) in seen:
            continue
        seen.add((project.tool, project.root))
        graphs.append(ProjectGraph(workspace.history(project)))
    for finding in result.findings:
        key = (os.path.abspath(finding.path), finding.start[0])
        for graph in graphs:
            if any(os.path.abspath(n.path) == key[0] for n in graph.history.nodes):
                graph.problems.setdefault(key, []).append(finding)
    if not graphs:
        print(f"migration-lsp: {args.path}: no migration project found", file=sys.stderr)
        return EXIT_OK
    sys.stdout.write(render(graphs, args.format))
    return EXIT_OK


def relative_path(path: Path, base: Path) -> str:
    """`path` relative to `base` in POSIX form, "." for `base` itself."""
    try:
        rel = path.resolve().relative_to(base.resolve()).as_posix()
    except ValueError:
        return path.as_posix()
    return rel or "."


def project_json(project: Project, base: Path) -> dict[str, object]:
    return {
        "tool": project.tool,
        "root": relative_path(project.root, base),
        "dialect": project.dialect,
        "migrations": [relative_path(d, base) for d in project.migration_dirs],
    }


def _detect(args: argparse.Namespace) -> int:
    if not args.path.is_dir():
        raise ConfigError(f"not a directory: {args.path}")
    projects = detect_projects(args.path)
    if args.format == "json":
        print(json.dumps([project_json(p, args.path) for p in projects], indent=2))
        return EXIT_OK
    if not projects:
        print(f"No migration projects found under {args.path}.")
        return EXIT_OK
    rows = []
    for project in projects:
        data = project_json(project, args.path)
        dirs = [relative_path(d, args.path) for d in project.migration_dirs]
        rows.append(
            (project.tool, str(data["root"]), project.dialect or "unknown", ", ".join(dirs) or "-")
        )
    _table(("TOOL", "ROOT", "DIALECT", "MIGRATIONS"), rows)
    return EXIT_OK


def _rules(args: argparse.Namespace) -> int:
    if args.format == "json":
        data = [
            {
                "id": r.id,
                "summary": r.summary,
                "severity": r.severity.label,
                "category": r.category,
                "default_enabled": r.default_enabled,
                "dialects": sorted(r.dialects) if r.dialects else None,
                "fix": r.fix,
            }
            for r in RULES
        ]
        print(json.dumps(data, indent=2))
        return EXIT_OK
    rows = [
        (
            r.id,
            r.severity.label + ("" if r.default_enabled else " (off)"),
            ",".join(sorted(r.dialects)) if r.dialects else "all",
            r.summary,
        )
        for r in RULES
    ]
    _table(("RULE", "SEVERITY", "DIALECTS", "SUMMARY"), rows)
    return EXIT_OK


def _explain(args: argparse.Namespace) -> int:
    rule = BY_ID.get(args.rule)
    if rule is None:
        raise ConfigError(f"unknown rule id {args.rule!r} (migration-lsp rules lists them)")
    dialects = ", ".join(sorted(rule.dialects)) if rule.dialects else "all"
    print(f"# {rule.id}\n")
    print(f"{rule.summary}.\n")
    print(
        f"Severity: {rule.severity.label}{'' if rule.default_enabled else ' (off by default)'}"
        f" · Dialects: {dialects} · Fix: {rule.fix or 'none'}\n"
    )
    print(rule.doc)
    return EXIT_OK


def _serve(args: argparse.Namespace) -> int:
    from migration_lsp.lsp.server import serve

    if args.tcp:
        host, port = args.tcp
        if not port.isdigit():
            raise ConfigError(f"--tcp PORT must be a number, not {port!r}")
        serve((host, int(port)))
    else:
        serve()
    return EXIT_OK


def _table(header: tuple[str, ...], rows: Sequence[tuple[str, ...]]) -> None:
    widths = [max(len(header[i]), *(len(r[i]) for r in rows)) for i in range(len(header) - 1)]
    for row in (header, *rows):
        cells = [cell.ljust(widths[i]) for i, cell in enumerate(row[:-1])]
        print("  ".join([*cells, row[-1]]).rstrip())
