"""Liquibase changelogs for the tests (helpers only: the Liquibase tests import them), written
the way Liquibase users write them.

A changeSet is described once (`changeset(...)`, changes as `(name, attributes)`) and written
as XML (with the header Liquibase's documentation uses), YAML or JSON, so a test can assert
the same finding on the same text in every format.
"""

from __future__ import annotations

import json
from typing import Any

import yaml

from migration_lsp.findings import Finding
from migration_lsp.model import Migration
from migration_lsp.parse.liquibase import parse_liquibase
from rule_helpers import analyse, config

XML_HEADER = """<?xml version="1.0" encoding="UTF-8"?>
<databaseChangeLog
    xmlns="http://www.liquibase.org/xml/ns/dbchangelog"
    xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"
    xsi:schemaLocation="http://www.liquibase.org/xml/ns/dbchangelog
        http://www.liquibase.org/xml/ns/dbchangelog/dbchangelog-latest.xsd">
"""
XML_FOOTER = "</databaseChangeLog>\n"
FORMATS = ("xml", "yaml", "json")
PATHS = {
    "xml": "db/changelog/changes/010-change.xml",
    "yaml": "db/changelog/changes/010-change.yaml",
    "json": "db/changelog/changes/010-change.json",
    "sql": "db/changelog/changes/010-change.sql",
}

Change = tuple[str, dict[str, Any]]
"""`("createIndex", {"tableName": "users", "columns": [{"name": "email"}]})`: scalar values are
attributes, `columns` the nested `column` elements (a column's `constraints` a nested
element), `where` and (for `sql`) `sql` texts."""


def changeset(
    id: str,
    author: str,
    *changes: Change,
    rollback: list[Change] | None = None,
    **attributes: Any,
) -> dict[str, Any]:
    return {
        "id": id,
        "author": author,
        **attributes,
        "changes": list(changes),
        "rollback": rollback,
    }


def write(fmt: str, *changesets: dict[str, Any]) -> str:
    """A changelog holding `changesets`, in `fmt` (`xml`, `yaml` or `json`)."""
    if fmt == "xml":
        return XML_HEADER + "".join(_xml_changeset(c) for c in changesets) + XML_FOOTER
    document = {"databaseChangeLog": [{"changeSet": _structured(c)} for c in changesets]}
    if fmt == "yaml":
        return yaml.safe_dump(document, sort_keys=False, default_flow_style=False, width=200)
    return json.dumps(document, indent=2) + "\n"


def _xml_value(value: Any) -> str:
    text = str(value).lower() if isinstance(value, bool) else str(value)
    return text.replace("&", "&amp;").replace("<", "&lt;").replace('"', "&quot;")


def _xml_attributes(attributes: dict[str, Any]) -> str:
    return "".join(
        f' {k}="{_xml_value(v)}"'
        for k, v in attributes.items()
        if not isinstance(v, list | dict) and k not in ("where",) and v is not None
    )


def _xml_change(name: str, attributes: dict[str, Any], indent: str) -> str:
    inner = indent + "    "
    body: list[str] = []
    scalars = dict(attributes)
    text = scalars.pop("sql", None) if name == "sql" else None
    for column in scalars.get("columns", []):
        constraints = column.get("constraints")
        attrs = _xml_attributes(column)
        if constraints:
            body.append(
                f"{inner}<column{attrs}>\n{inner}    <constraints{_xml_attributes(constraints)}/>"
                f"\n{inner}</column>\n"
            )
        else:
            body.append(f"{inner}<column{attrs}/>\n")
    if "where" in scalars:
        body.append(f"{inner}<where>{_xml_value(scalars['where'])}</where>\n")
    attrs = _xml_attributes(scalars)
    if text is not None:
        return f"{indent}<{name}{attrs}>{_xml_value(text)}</{name}>\n"
    if not body:
        return f"{indent}<{name}{attrs}/>\n"
    return f"{indent}<{name}{attrs}>\n{''.join(body)}{indent}</{name}>\n"


def _xml_changeset(changeset: dict[str, Any]) -> str:
    attrs = {
        k: v for k, v in changeset.items() if k not in ("changes", "rollback") and v is not None
    }
    out = [f"\n    <changeSet{_xml_attributes(attrs)}>\n"]
    out.extend(_xml_change(name, a, "        ") for name, a in changeset["changes"])
    rollback = changeset["rollback"]
    if rollback is not None:
        if rollback:
            out.append("        <rollback>\n")
            out.extend(_xml_change(name, a, "            ") for name, a in rollback)
            out.append("        </rollback>\n")
        else:
            out.append("        <rollback/>\n")
    out.append("    </changeSet>\n")
    return "".join(out)


def _structured_change(name: str, attributes: dict[str, Any]) -> dict[str, Any]:
    body = {k: v for k, v in attributes.items() if k != "columns"}
    if "columns" in attributes:
        body["columns"] = [{"column": column} for column in attributes["columns"]]
    return {name: body}


def _structured(changeset: dict[str, Any]) -> dict[str, Any]:
    out = {k: v for k, v in changeset.items() if k not in ("changes", "rollback")}
    out["changes"] = [_structured_change(n, a) for n, a in changeset["changes"]]
    if changeset["rollback"] is not None:
        out["rollback"] = [_structured_change(n, a) for n, a in changeset["rollback"]]
    return out


def parse(text: str, fmt: str, dialect: str | None = "postgresql") -> Migration:
    return parse_liquibase(PATHS[fmt], text, dialect)


def check(text: str, fmt: str, **options: Any) -> list[Finding]:
    dialect = options.pop("dialect", "postgresql")
    return analyse(parse(text, fmt, dialect), config(**options))


def findings(text: str, fmt: str, **options: Any) -> list[tuple[str, str]]:
    """(rule, text under the finding) for every finding, in the engine's order."""
    return [(f.rule, text[f.span.start : f.span.end]) for f in check(text, fmt, **options)]


def rules(text: str, fmt: str, **options: Any) -> list[str]:
    return [rule for rule, _ in findings(text, fmt, **options)]
