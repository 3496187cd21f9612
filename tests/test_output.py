"""The output formats of `migration-lsp check`, as users, GitHub and GitLab consume them."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from migration_lsp import __version__
from migration_lsp.findings import Finding, Fix
from migration_lsp.model import Severity
from migration_lsp.output import FORMATS, render
from migration_lsp.output.github import escape_data, escape_property
from migration_lsp.text import Span

ANSI = re.compile(r"\x1b\[[0-9;]*m")

# Line 0 holds a character outside the BMP (two UTF-16 code units) before the finding.
DUCK_TEXT = "op.execute('🦆 café')\nop.drop_table('t')\n"
DUCK_COLUMN = DUCK_TEXT.index("café")  # code points: 14; UTF-16 units: 15


@dataclass(frozen=True)
class Rule:
    id: str
    summary: str
    severity: Severity


def finding(
    path: str,
    rule: str,
    severity: Severity,
    start: tuple[int, int],
    end: tuple[int, int],
    message: str = "message",
    fix: Fix | None = None,
) -> Finding:
    return Finding(
        rule=rule,
        message=message,
        span=Span(0, 0),
        severity=severity,
        fix=fix,
        path=path,
        start=start,
        end=end,
    )


@pytest.fixture
def cwd(tmp_path: Path) -> Path:
    return tmp_path.resolve() / "repo"


@pytest.fixture
def findings(cwd: Path) -> list[Finding]:
    """Deliberately unsorted: absolute-inside, relative, and outside-cwd paths."""
    return [
        finding(
            str(cwd / "migrations" / "0002_index.py"),
            "require-concurrent-index",
            Severity.ERROR,
            (3, 4),
            (3, 20),
            "Creating an index blocks writes",
            Fix("Add postgresql_concurrently=True"),
        ),
        finding(
            "migrations/0001_init.py",
            "not-null-column",
            Severity.WARNING,
            (1, 0),
            (1, 5),
            "Adding a NOT NULL column rewrites the table",
        ),
        finding("/elsewhere/outside.sql", "ban-drop-table", Severity.HINT, (0, 0), (0, 4), "Drop"),
        finding(
            "migrations/0001_init.py",
            "mixed-steps",
            Severity.INFO,
            (1, 0),
            (1, 5),
            "Schema and data changes mixed",
        ),
    ]


# --------------------------------------------------------------------------- dispatcher


def test_formats_are_all_dispatched(findings: list[Finding], cwd: Path) -> None:
    outputs = {fmt: render(findings, fmt, cwd=cwd, files_checked=3) for fmt in FORMATS}
    assert set(outputs) == {"text", "json", "sarif", "github", "gitlab"}
    assert len(set(outputs.values())) == len(FORMATS)
    assert all(out.endswith("\n") for out in outputs.values())


def test_unknown_format_is_rejected(cwd: Path) -> None:
    with pytest.raises(ValueError, match="unknown output format 'xml'"):
        render([], "xml", cwd=cwd, files_checked=0)


# --------------------------------------------------------------------------- text


def test_text_lines_sorted_relative_with_fix_and_summary(
    findings: list[Finding], cwd: Path
) -> None:
    out = render(findings, "text", cwd=cwd, files_checked=5)
    assert out.splitlines() == [
        "/elsewhere/outside.sql:1:1: hint ban-drop-table Drop",
        "migrations/0001_init.py:2:1: info mixed-steps Schema and data changes mixed",
        "migrations/0001_init.py:2:1: warning not-null-column "
        "Adding a NOT NULL column rewrites the table",
        "migrations/0002_index.py:4:5: error require-concurrent-index "
        "Creating an index blocks writes",
        "  fix: Add postgresql_concurrently=True",
        "",
        "Found 4 problems (1 error, 1 warning, 1 info, 1 hint) in 3 of 5 files.",
    ]
    assert "\x1b" not in out


def test_text_summary_pluralizes_and_omits_absent_severities(cwd: Path) -> None:
    items = [
        finding("a.py", "r", Severity.WARNING, (0, 0), (0, 1)),
        finding("a.py", "r", Severity.WARNING, (2, 0), (2, 1)),
        finding("b.py", "r", Severity.ERROR, (0, 0), (0, 1)),
    ]
    out = render(items, "text", cwd=cwd, files_checked=5)
    assert out.splitlines()[-1] == "Found 3 problems (1 error, 2 warnings) in 2 of 5 files."
    one = render(items[:1], "text", cwd=cwd, files_checked=1)
    assert one.splitlines()[-1] == "Found 1 problem (1 warning) in 1 of 1 file."


def test_text_no_problems(cwd: Path) -> None:
    assert render([], "text", cwd=cwd, files_checked=5) == "No problems found in 5 files.\n"
    assert render([], "text", cwd=cwd, files_checked=1) == "No problems found in 1 file.\n"


def test_text_color_marks_severity_and_rule(findings: list[Finding], cwd: Path) -> None:
    plain = render(findings, "text", cwd=cwd, files_checked=5)
    colored = render(findings, "text", cwd=cwd, files_checked=5, color=True)
    assert colored != plain
    assert ANSI.sub("", colored) == plain
    error_line = next(line for line in colored.splitlines() if "require-concurrent" in line)
    assert "\x1b[1;31merror\x1b[0m" in error_line
    assert re.search(r"\x1b\[[0-9;]+mrequire-concurrent-index\x1b\[0m", error_line)


# --------------------------------------------------------------------------- json


def test_json_objects_have_exact_fields(findings: list[Finding], cwd: Path) -> None:
    out = render(findings, "json", cwd=cwd, files_checked=3)
    assert out.endswith("]\n")
    assert out.startswith('[\n  {\n    "path"')  # indented by 2
    items = json.loads(out)
    assert [(i["path"], i["rule"]) for i in items] == [
        ("/elsewhere/outside.sql", "ban-drop-table"),
        ("migrations/0001_init.py", "mixed-steps"),
        ("migrations/0001_init.py", "not-null-column"),
        ("migrations/0002_index.py", "require-concurrent-index"),
    ]
    assert [i["severity"] for i in items] == ["hint", "info", "warning", "error"]
    assert items[3] == {
        "path": "migrations/0002_index.py",
        "rule": "require-concurrent-index",
        "severity": "error",
        "message": "Creating an index blocks writes",
        "start": {"line": 4, "column": 5},
        "end": {"line": 4, "column": 21},
        "fix": {"title": "Add postgresql_concurrently=True"},
        "url": "https://migration-lsp.github.io/migration-lsp/rules/require-concurrent-index/",
    }
    assert items[0]["fix"] is None


def test_json_empty_is_empty_list(cwd: Path) -> None:
    assert json.loads(render([], "json", cwd=cwd, files_checked=2)) == []


# --------------------------------------------------------------------------- sarif


SARIF_LEVELS = {"none", "note", "warning", "error"}


def check_sarif(log: dict[str, Any]) -> None:
    """The SARIF 2.1.0 schema's required properties and the constraints GitHub enforces."""
    assert log["$schema"] == "https://json.schemastore.org/sarif-2.1.0.json"
    assert log["version"] == "2.1.0"
    assert isinstance(log["runs"], list) and len(log["runs"]) == 1
    run = log["runs"][0]
    driver = run["tool"]["driver"]
    assert isinstance(driver["name"], str) and driver["name"]
    rules = driver.get("rules", [])
    ids = [r["id"] for r in rules]
    assert len(ids) == len(set(ids)), "rule ids must be unique"
    for rule in rules:
        assert isinstance(rule["id"], str)
        assert isinstance(rule["shortDescription"]["text"], str)
        assert rule["defaultConfiguration"]["level"] in SARIF_LEVELS
        assert rule["helpUri"].startswith("https://")
    for result in run["results"]:
        assert isinstance(result["message"]["text"], str)
        assert result["level"] in SARIF_LEVELS
        assert rules[result["ruleIndex"]]["id"] == result["ruleId"]
        assert len(result["locations"]) >= 1
        physical = result["locations"][0]["physicalLocation"]
        uri = physical["artifactLocation"]["uri"]
        assert isinstance(uri, str) and uri
        if "uriBaseId" in physical["artifactLocation"]:
            assert not uri.startswith("/") and ".." not in uri.split("/")
            assert physical["artifactLocation"]["uriBaseId"] in run["originalUriBaseIds"]
        else:
            assert uri.startswith("file:///")
        region = physical["region"]
        for key in ("startLine", "startColumn", "endLine", "endColumn"):
            assert isinstance(region[key], int) and region[key] >= 1
        assert (region["endLine"], region["endColumn"]) >= (
            region["startLine"],
            region["startColumn"],
        )
        fingerprints = result["partialFingerprints"]
        assert fingerprints and all(isinstance(v, str) for v in fingerprints.values())


def sarif(findings: list[Finding], cwd: Path, **kwargs: Any) -> dict[str, Any]:
    log: dict[str, Any] = json.loads(render(findings, "sarif", cwd=cwd, files_checked=1, **kwargs))
    check_sarif(log)
    return log


def test_sarif_structure_levels_and_locations(findings: list[Finding], cwd: Path) -> None:
    run = sarif(findings, cwd)["runs"][0]
    driver = run["tool"]["driver"]
    assert driver["name"] == "migration-lsp"
    assert driver["version"] == __version__
    assert driver["informationUri"].startswith("https://")
    assert run["originalUriBaseIds"]["%SRCROOT%"]["uri"] == cwd.as_uri() + "/"
    results = run["results"]
    assert [r["ruleId"] for r in results] == [
        "ban-drop-table",
        "mixed-steps",
        "not-null-column",
        "require-concurrent-index",
    ]
    assert [r["level"] for r in results] == ["note", "note", "warning", "error"]
    locations = [r["locations"][0]["physicalLocation"]["artifactLocation"] for r in results]
    assert locations[0] == {"uri": "file:///elsewhere/outside.sql"}
    assert locations[1] == {"uri": "migrations/0001_init.py", "uriBaseId": "%SRCROOT%"}
    assert locations[3] == {"uri": "migrations/0002_index.py", "uriBaseId": "%SRCROOT%"}
    assert results[3]["locations"][0]["physicalLocation"]["region"] == {
        "startLine": 4,
        "startColumn": 5,
        "endLine": 4,
        "endColumn": 21,
    }
    assert results[3]["message"] == {"text": "Creating an index blocks writes"}


def test_sarif_lists_rules_with_findings_without_registry(
    findings: list[Finding], cwd: Path
) -> None:
    rules = sarif(findings, cwd)["runs"][0]["tool"]["driver"]["rules"]
    by_id = {r["id"]: r for r in rules}
    assert set(by_id) == {f.rule for f in findings}
    rule = by_id["require-concurrent-index"]
    assert rule["name"] == "RequireConcurrentIndex"
    assert (
        rule["helpUri"]
        == "https://migration-lsp.github.io/migration-lsp/rules/require-concurrent-index/"
    )
    assert rule["defaultConfiguration"] == {"level": "error"}


def test_sarif_lists_all_given_rules(cwd: Path) -> None:
    registry = {
        "zz-unused": Rule("zz-unused", "Never fires", Severity.INFO),
        "ban-drop-table": Rule("ban-drop-table", "Dropping a table loses data", Severity.WARNING),
    }
    items = [finding("m.sql", "ban-drop-table", Severity.ERROR, (0, 0), (0, 4))]
    run = sarif(items, cwd, rules=registry)["runs"][0]
    rules = run["tool"]["driver"]["rules"]
    assert [r["id"] for r in rules] == ["ban-drop-table", "zz-unused"]
    assert rules[0]["shortDescription"] == {"text": "Dropping a table loses data"}
    assert rules[0]["defaultConfiguration"] == {"level": "warning"}
    assert rules[1]["defaultConfiguration"] == {"level": "note"}
    # The result keeps its own (configured) level; ruleIndex points at the rule.
    assert run["results"][0]["level"] == "error"
    assert run["results"][0]["ruleIndex"] == 0


def test_sarif_columns_count_utf16_code_units_with_text(cwd: Path) -> None:
    item = finding("m.py", "r", Severity.WARNING, (0, DUCK_COLUMN), (0, DUCK_COLUMN + 4))
    with_text = sarif([item], cwd, texts={"m.py": DUCK_TEXT})
    region = with_text["runs"][0]["results"][0]["locations"][0]["physicalLocation"]["region"]
    assert DUCK_TEXT[DUCK_COLUMN : DUCK_COLUMN + 4] == "café"
    assert region == {
        "startLine": 1,
        "startColumn": DUCK_COLUMN + 2,
        "endLine": 1,
        "endColumn": DUCK_COLUMN + 6,
    }
    # Without the text the code-point columns are the best available.
    without = sarif([item], cwd)
    region = without["runs"][0]["results"][0]["locations"][0]["physicalLocation"]["region"]
    assert region["startColumn"] == DUCK_COLUMN + 1


def test_sarif_texts_may_be_keyed_by_absolute_path(cwd: Path) -> None:
    path = str(cwd / "m.py")
    item = finding(path, "r", Severity.WARNING, (0, DUCK_COLUMN), (0, DUCK_COLUMN + 4))
    log = sarif([item], cwd, texts={path: DUCK_TEXT})
    region = log["runs"][0]["results"][0]["locations"][0]["physicalLocation"]["region"]
    assert region["startColumn"] == DUCK_COLUMN + 2


def _fingerprint(log: dict[str, Any], i: int = 0) -> str:
    value: str = log["runs"][0]["results"][i]["partialFingerprints"]["primaryLocationLineHash"]
    return value


def test_sarif_fingerprint_survives_moving_the_line(cwd: Path) -> None:
    before = "import x\nop.drop_table('t')\n"
    after = "import x\n\n\n    op.drop_table('t')\n"
    old = finding("m.py", "ban-drop-table", Severity.ERROR, (1, 0), (1, 13))
    new = finding("m.py", "ban-drop-table", Severity.ERROR, (3, 4), (3, 17))
    fp_old = _fingerprint(sarif([old], cwd, texts={"m.py": before}))
    fp_new = _fingerprint(sarif([new], cwd, texts={"m.py": after}))
    assert fp_old == fp_new
    assert re.fullmatch(r"[0-9a-f]{16}:1", fp_old)
    # A different line, rule or file is a different alert.
    other_line = _fingerprint(sarif([old], cwd, texts={"m.py": "x\nop.drop_table('u')\n"}))
    other_rule = finding("m.py", "other", Severity.ERROR, (1, 0), (1, 13))
    other_file = finding("n.py", "ban-drop-table", Severity.ERROR, (1, 0), (1, 13))
    texts = {"m.py": before, "n.py": before}
    assert other_line != fp_old
    assert _fingerprint(sarif([other_rule], cwd, texts=texts)) != fp_old
    assert _fingerprint(sarif([other_file], cwd, texts=texts)) != fp_old


def test_sarif_identical_lines_get_distinct_fingerprints(cwd: Path) -> None:
    text = "op.drop_table('t')\nop.drop_table('t')\n"
    items = [
        finding("m.py", "ban-drop-table", Severity.ERROR, (0, 0), (0, 13)),
        finding("m.py", "ban-drop-table", Severity.ERROR, (1, 0), (1, 13)),
    ]
    log = sarif(items, cwd, texts={"m.py": text})
    first, second = _fingerprint(log, 0), _fingerprint(log, 1)
    assert first.split(":")[0] == second.split(":")[0]
    assert (first[-2:], second[-2:]) == (":1", ":2")


def test_sarif_relative_path_escaping_cwd_becomes_file_uri(cwd: Path) -> None:
    item = finding("../shared/m sql.sql", "r", Severity.ERROR, (0, 0), (0, 1))
    log = sarif([item], cwd)
    location = log["runs"][0]["results"][0]["locations"][0]["physicalLocation"]
    assert location["artifactLocation"] == {"uri": (cwd.parent / "shared" / "m sql.sql").as_uri()}
    assert "%20" in location["artifactLocation"]["uri"]


def test_sarif_without_findings_is_valid(cwd: Path) -> None:
    log = sarif([], cwd)
    assert log["runs"][0]["results"] == []


# --------------------------------------------------------------------------- github


def test_github_commands(findings: list[Finding], cwd: Path) -> None:
    out = render(findings, "github", cwd=cwd, files_checked=3)
    assert out.splitlines() == [
        "::notice file=/elsewhere/outside.sql,line=1,col=1,endLine=1,endColumn=5,"
        "title=ban-drop-table::Drop",
        "::notice file=migrations/0001_init.py,line=2,col=1,endLine=2,endColumn=6,"
        "title=mixed-steps::Schema and data changes mixed",
        "::warning file=migrations/0001_init.py,line=2,col=1,endLine=2,endColumn=6,"
        "title=not-null-column::Adding a NOT NULL column rewrites the table",
        "::error file=migrations/0002_index.py,line=4,col=5,endLine=4,endColumn=21,"
        "title=require-concurrent-index::Creating an index blocks writes",
    ]


def test_github_escapes_message_and_properties(cwd: Path) -> None:
    item = finding(
        "db/x:y,z%.py",
        "r",
        Severity.WARNING,
        (0, 0),
        (0, 1),
        "Type change: a,b\r\nrewrites 100% of rows",
    )
    out = render([item], "github", cwd=cwd, files_checked=1)
    assert out == (
        "::warning file=db/x%3Ay%2Cz%25.py,line=1,col=1,endLine=1,endColumn=2,title=r"
        "::Type change: a,b%0D%0Arewrites 100%25 of rows\n"
    )
    assert out.count("\n") == 1


def test_github_escape_functions() -> None:
    assert escape_data("100%\n:,") == "100%25%0A:,"
    assert escape_property("100%\r\n:,") == "100%25%0D%0A%3A%2C"
    # `%` first, so escapes are not escaped twice.
    assert escape_property(",") == "%2C"


def test_github_multiline_annotation_omits_columns(cwd: Path) -> None:
    item = finding("m.py", "r", Severity.ERROR, (1, 4), (3, 2), "spans lines")
    out = render([item], "github", cwd=cwd, files_checked=1)
    assert out == "::error file=m.py,line=2,endLine=4,title=r::spans lines\n"


# --------------------------------------------------------------------------- gitlab


def gitlab(findings: list[Finding], cwd: Path, **kwargs: Any) -> list[dict[str, Any]]:
    issues: list[dict[str, Any]] = json.loads(
        render(findings, "gitlab", cwd=cwd, files_checked=1, **kwargs)
    )
    return issues


def test_gitlab_code_quality_report(findings: list[Finding], cwd: Path) -> None:
    issues = gitlab(findings, cwd)
    assert [i["severity"] for i in issues] == ["info", "minor", "major", "critical"]
    issue = issues[3]
    assert set(issue) == {"description", "check_name", "fingerprint", "severity", "location"}
    assert issue["description"] == "Creating an index blocks writes"
    assert issue["check_name"] == "require-concurrent-index"
    assert issue["location"] == {
        "path": "migrations/0002_index.py",
        "lines": {"begin": 4, "end": 4},
    }
    assert issues[0]["location"]["path"] == "/elsewhere/outside.sql"
    fingerprints = [i["fingerprint"] for i in issues]
    assert all(re.fullmatch(r"[0-9a-f]{32,}", fp) for fp in fingerprints)
    assert len(set(fingerprints)) == len(fingerprints)


def test_gitlab_fingerprints_stable_and_unique(cwd: Path) -> None:
    text = "op.drop_table('t')\nop.drop_table('t')\n"
    items = [
        finding("m.py", "ban-drop-table", Severity.ERROR, (0, 0), (0, 13)),
        finding("m.py", "ban-drop-table", Severity.ERROR, (1, 0), (1, 13)),
    ]
    first = gitlab(items, cwd, texts={"m.py": text})
    again = gitlab(list(reversed(items)), cwd, texts={"m.py": text})
    assert [i["fingerprint"] for i in first] == [i["fingerprint"] for i in again]
    assert first[0]["fingerprint"] != first[1]["fingerprint"]
    # Moving the line keeps the fingerprint.
    moved = finding("m.py", "ban-drop-table", Severity.ERROR, (2, 0), (2, 13))
    shifted = gitlab([moved], cwd, texts={"m.py": "\n\n" + text})
    assert shifted[0]["fingerprint"] == first[0]["fingerprint"]


def test_gitlab_multiline_end(cwd: Path) -> None:
    item = finding("m.py", "r", Severity.HINT, (1, 0), (4, 2))
    assert gitlab([item], cwd)[0]["location"]["lines"] == {"begin": 2, "end": 5}


# --------------------------------------------------------------------------- paths


def test_paths_under_a_symlinked_cwd_are_relative(tmp_path: Path) -> None:
    real = tmp_path / "real"
    (real / "migrations").mkdir(parents=True)
    link = tmp_path / "link"
    link.symlink_to(real, target_is_directory=True)
    item = finding(str(real / "migrations" / "m.py"), "r", Severity.ERROR, (0, 0), (0, 1))
    out = render([item], "json", cwd=link, files_checked=1)
    assert json.loads(out)[0]["path"] == "migrations/m.py"
