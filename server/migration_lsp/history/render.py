"""`migration-lsp graph`: each project's history as text, JSON, Mermaid or Graphviz dot.

Problems come from the history rules themselves (run through the engine), so the graph marks
exactly what `check` reports, on the node whose file and line the finding is on.
"""

from __future__ import annotations

import itertools
import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from migration_lsp.findings import Finding
from migration_lsp.history.graph import History, Node

FORMATS = ("text", "json", "mermaid", "dot")


@dataclass(slots=True)
class ProjectGraph:
    history: History
    problems: dict[tuple[str, int], list[Finding]] = field(default_factory=dict)
    """(absolute path, 0-based line) → the history findings there."""

    def problems_of(self, node: Node) -> list[Finding]:
        """The findings of the node's file from its line on, up to the next node of the same
        file (Liquibase changelogs hold several)."""
        path = os.path.abspath(node.path)
        lines = sorted(n.line for n in self.history.nodes if os.path.abspath(n.path) == path)
        following = [line for line in lines if line > node.line]
        first = node.line if node.line != lines[0] else -1
        stop = following[0] if following else None
        found = [
            f
            for (p, line), fs in self.problems.items()
            if p == path and line >= first and (stop is None or line < stop)
            for f in fs
        ]
        return sorted(found, key=lambda f: (f.start, f.rule))

    @property
    def root(self) -> Path:
        return self.history.project.root

    def where(self, node: Node) -> str:
        try:
            return node.path.relative_to(self.root).as_posix()
        except ValueError:
            return str(node.path)

    def ordered(self) -> list[Node]:
        """Newest first for graphs (children before parents), application order otherwise."""
        history = self.history
        if not history.is_graph:
            return history.ordered()
        depth: dict[str, int] = {}

        def depth_of(node_id: str, trail: frozenset[str] = frozenset()) -> int:
            if node_id in depth:
                return depth[node_id]
            found = history.node(node_id)
            if found is None or node_id in trail:
                return 0
            ups = [p for p in history.parents(found) if p in history.by_id]
            value = 1 + max((depth_of(p, trail | {node_id}) for p in ups), default=0)
            depth[node_id] = value
            return value

        index = {id(n): i for i, n in enumerate(history.nodes)}
        return sorted(history.nodes, key=lambda n: (-depth_of(n.id), n.app or "", index[id(n)]))


def to_json(graphs: list[ProjectGraph]) -> str:
    projects: list[dict[str, Any]] = []
    for graph in graphs:
        history = graph.history
        heads = {n.id for n in history.heads()}
        nodes = []
        for node in graph.ordered():
            nodes.append(
                {
                    "id": node.id,
                    "path": graph.where(node),
                    "line": node.line + 1,
                    "message": node.message,
                    "app": node.app,
                    "parents": history.parents(node) if history.is_graph else [],
                    "dependsOn": [r.id for r in node.depends_on],
                    "children": [c.id for c in history.children(node.id)],
                    "head": node.id in heads,
                    "problems": [
                        {"rule": f.rule, "line": f.start[0] + 1, "message": f.message}
                        for f in graph.problems_of(node)
                    ],
                }
            )
        projects.append(
            {
                "tool": history.project.tool,
                "root": str(graph.root),
                "heads": sorted(heads),
                "nodes": nodes,
            }
        )
    return json.dumps({"projects": projects}, indent=2) + "\n"


def to_text(graphs: list[ProjectGraph]) -> str:
    lines: list[str] = []
    for graph in graphs:
        history = graph.history
        heads = history.heads()
        title = f"{history.project.tool} in {graph.root}"
        if history.is_graph:
            title += f" ({len(heads)} head{'s' if len(heads) != 1 else ''})"
        lines.append(title)
        for node in graph.ordered():
            marks = []
            if node.id in {h.id for h in heads}:
                marks.append("head")
            parents = history.parents(node) if history.is_graph else []
            if len(parents) > 1:
                marks.append("merge")
            if history.is_graph and not parents and not node.parents:
                marks.append("base")
            label = node.id + (f" ({', '.join(marks)})" if marks else "")
            arrow = f" <- {', '.join(parents)}" if parents else ""
            message = f"  {node.message}" if node.message and history.is_graph else ""
            lines.append(f"  {label}{message}{arrow}  [{graph.where(node)}]")
            for finding in graph.problems_of(node):
                lines.append(f"    ! {finding.rule}: {finding.message}")
        if not history.nodes:
            lines.append("  (no migrations)")
        lines.append("")
    return "\n".join(lines)


def _key(node_id: str) -> str:
    return "n_" + "".join(ch if ch.isalnum() else "_" for ch in node_id)


def _label(text: str) -> str:
    return text.replace('"', "'").replace("\n", " ")[:60]


def to_mermaid(graphs: list[ProjectGraph]) -> str:
    lines = ["graph BT"]
    for index, graph in enumerate(graphs):
        history = graph.history
        heads = {n.id for n in history.heads()}
        lines.append(f'  subgraph p{index}["{history.project.tool}: {_label(str(graph.root))}"]')
        for node in graph.ordered():
            text = node.id + (f"<br/>{_label(node.message)}" if node.message else "")
            lines.append(f'    {_key(node.id)}["{text}"]')
            if node.id in heads:
                lines.append(f"    class {_key(node.id)} head")
            if graph.problems_of(node):
                lines.append(f"    class {_key(node.id)} problem")
        nodes = graph.ordered()
        if history.is_graph:
            for node in nodes:
                for parent in history.parents(node):
                    lines.append(f"    {_key(parent)} --> {_key(node.id)}")
        else:
            for before, after in itertools.pairwise(nodes):
                lines.append(f"    {_key(before.id)} --> {_key(after.id)}")
        lines.append("  end")
    lines.append("  classDef head stroke-width:3px")
    lines.append("  classDef problem stroke:#d00,stroke-width:3px")
    return "\n".join(lines) + "\n"


def to_dot(graphs: list[ProjectGraph]) -> str:
    lines = ["digraph migrations {", "  rankdir=BT;", "  node [shape=box];"]
    for index, graph in enumerate(graphs):
        history = graph.history
        heads = {n.id for n in history.heads()}
        lines.append(f"  subgraph cluster_{index} {{")
        lines.append(f'    label="{history.project.tool}: {_label(str(graph.root))}";')
        nodes = graph.ordered()
        for node in nodes:
            attrs = [f'label="{_label(node.id)}\\n{_label(node.message)}"']
            if node.id in heads:
                attrs.append("penwidth=3")
            if graph.problems_of(node):
                attrs.append("color=red")
            lines.append(f"    {_key(node.id)} [{', '.join(attrs)}];")
        if history.is_graph:
            for node in nodes:
                for parent in history.parents(node):
                    lines.append(f"    {_key(parent)} -> {_key(node.id)};")
        else:
            for before, after in itertools.pairwise(nodes):
                lines.append(f"    {_key(before.id)} -> {_key(after.id)};")
        lines.append("  }")
    lines.append("}")
    return "\n".join(lines) + "\n"


def render(graphs: list[ProjectGraph], fmt: str) -> str:
    return {"text": to_text, "json": to_json, "mermaid": to_mermaid, "dot": to_dot}[fmt](graphs)
