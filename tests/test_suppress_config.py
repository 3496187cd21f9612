"""Ignore comments and configuration, as a user writes them: what gets silenced, what gets
reported as `unused-ignore`, and how configuration mistakes are reported (file and line)."""

from __future__ import annotations

from pathlib import Path

import pytest

from migration_lsp.model import Severity
from migration_lsp.project.config import Config, ConfigError, load_config, parse_options
from migration_lsp.rules.registry import RULES
from rule_helpers import alembic, analyse, check, config, findings, parse, position, rules

# --------------------------------------------------------------------------- ignore comments


def test_ignore_on_the_same_line_silences_the_rule() -> None:
    text = alembic("op.drop_column('users', 'legacy_name')  # migration-lsp: ignore[drop-column]")
    assert findings(text) == []


def test_ignore_on_the_line_above_silences_the_rule() -> None:
    text = alembic(
        """
        # migration-lsp: ignore[drop-column]
        op.drop_column('users', 'legacy_name')
        op.drop_column('users', 'other_name')
        """
    )
    assert findings(text) == [("drop-column", "'other_name'")]


def test_ignore_two_lines_above_does_not_reach_the_operation() -> None:
    text = alembic(
        """
        # migration-lsp: ignore[drop-column]

        op.drop_column('users', 'legacy_name')
        """
    )
    assert findings(text) == [
        ("unused-ignore", "# migration-lsp: ignore[drop-column]"),
        ("drop-column", "'legacy_name'"),
    ]


@pytest.mark.parametrize(
    "code",
    [
        "op.drop_column(\n    'users',\n    'legacy',  # migration-lsp: ignore[drop-column]\n)",
        "op.drop_column(\n    'users',\n    'legacy',\n)  # migration-lsp: ignore[drop-column]",
        "op.drop_column(  # migration-lsp: ignore[drop-column]\n    'users',\n    'legacy',\n)",
    ],
    ids=["on-the-argument", "on-the-last-line", "on-the-first-line"],
)
def test_ignore_anywhere_on_a_multi_line_operation(code: str) -> None:
    assert findings(alembic(code)) == []


def test_ignore_silences_only_the_named_rule() -> None:
    text = alembic(
        'op.execute("ALTER TABLE users DROP COLUMN a; DROP TABLE t")'
        "  # migration-lsp: ignore[drop-column]"
    )
    assert findings(text) == [("drop-table", "t")]


def test_bare_ignore_silences_every_rule_on_the_line() -> None:
    text = alembic(
        'op.execute("ALTER TABLE users DROP COLUMN a; DROP TABLE t")  # migration-lsp: ignore'
    )
    assert findings(text) == []


def test_bare_ignore_that_silences_nothing_is_reported_on_the_comment() -> None:
    text = alembic(
        "op.add_column('users', sa.Column('nick', sa.Text(), nullable=True))"
        "  # migration-lsp: ignore"
    )
    result = check(text)
    assert [(f.rule, text[f.span.start : f.span.end]) for f in result] == [
        ("unused-ignore", "# migration-lsp: ignore")
    ]
    assert result[0].start == position(text, "# migration-lsp")
    assert result[0].severity is Severity.WARNING


def test_ignore_that_silences_nothing_is_unused() -> None:
    text = alembic("op.drop_column('users', 'legacy_name')  # migration-lsp: ignore[drop-table]")
    result = check(text)
    assert [(f.rule, text[f.span.start : f.span.end]) for f in result] == [
        ("drop-column", "'legacy_name'"),
        ("unused-ignore", "# migration-lsp: ignore[drop-table]"),
    ]
    assert "drop-table" in result[1].message


def test_unknown_rule_id_is_unused_and_silences_nothing() -> None:
    text = alembic("op.drop_column('users', 'legacy_name')  # migration-lsp: ignore[drop-colum]")
    result = check(text)
    assert [(f.rule, text[f.span.start : f.span.end]) for f in result] == [
        ("drop-column", "'legacy_name'"),
        ("unused-ignore", "# migration-lsp: ignore[drop-colum]"),
    ]
    assert "drop-colum" in result[1].message


def test_unused_part_of_a_rule_list_is_reported() -> None:
    text = alembic(
        "op.drop_column('users', 'legacy_name')  # migration-lsp: ignore[drop-column, drop-table]"
    )
    result = check(text)
    assert [f.rule for f in result] == ["unused-ignore"]
    assert "drop-table" in result[0].message
    assert "drop-column" not in result[0].message


def test_empty_rule_list_is_reported() -> None:
    text = alembic("op.drop_column('users', 'legacy_name')  # migration-lsp: ignore[]")
    assert rules(text) == ["drop-column", "unused-ignore"]


def test_ignore_for_a_rule_not_running_on_this_dialect_is_unused() -> None:
    text = alembic(
        "op.drop_column('users', 'legacy_name')  # migration-lsp: ignore[non-concurrent-index]"
    )
    assert rules(text, dialect="mysql") == ["drop-column", "unused-ignore"]


def test_ignore_for_a_rule_disabled_in_config_is_not_reported() -> None:
    text = alembic("op.drop_column('users', 'legacy_name')  # migration-lsp: ignore[drop-column]")
    assert findings(text, ignore=["drop-column", "missing-lock-timeout"]) == []


def test_unused_ignore_can_be_turned_off() -> None:
    text = alembic("op.add_column('users', sa.Column('a', sa.Text()))  # migration-lsp: ignore")
    assert findings(text, ignore=["unused-ignore"]) == []


def test_ignore_file_with_rule_silences_that_rule_everywhere() -> None:
    text = alembic(
        """
        op.drop_column('users', 'a')
        op.drop_column('users', 'b')
        op.drop_table('audit_log')
        """
    ).replace(
        "from alembic import op",
        "# migration-lsp: ignore-file[drop-column]\nfrom alembic import op",
    )
    assert findings(text) == [("drop-table", "'audit_log'")]


def test_bare_ignore_file_silences_everything() -> None:
    text = "# migration-lsp: ignore-file\n" + alembic(
        """
        op.drop_column('users', 'a')
        op.create_index('ix_users_b', 'users', ['b'])
        """,
        "pass",
    )
    assert findings(text) == []


def test_ignore_file_that_silences_nothing_is_unused() -> None:
    text = "# migration-lsp: ignore-file[drop-table]\n" + alembic("op.drop_column('users', 'a')")
    assert findings(text) == [
        ("unused-ignore", "# migration-lsp: ignore-file[drop-table]"),
        ("drop-column", "'a'"),
    ]


def test_parse_error_hides_unused_ignores_and_can_be_ignored() -> None:
    broken = alembic(
        """
        op.drop_column('users', 'a')  # migration-lsp: ignore[drop-column]
        x = = 1
        """
    )
    assert rules(broken) == ["migration-parse-error"]
    silenced = alembic("x = = 1  # migration-lsp: ignore[migration-parse-error]")
    assert findings(silenced) == []


def test_directive_text_inside_a_docstring_is_not_a_comment() -> None:
    text = alembic(
        "op.add_column('users', sa.Column('a', sa.Text()))",
        "op.drop_column('users', 'a')",
        message="add a\n\nIf needed, write # migration-lsp: ignore[drop-column] on the drop",
    )
    assert findings(text) == []


# --------------------------------------------------------------------------- in SQL files


@pytest.mark.parametrize(
    "text",
    [
        "DROP TABLE audit_log; -- migration-lsp: ignore[drop-table]\n",
        "-- migration-lsp: ignore[drop-table]\nDROP TABLE audit_log;\n",
        "/* migration-lsp: ignore[drop-table] */\nDROP TABLE audit_log;\n",
        "DROP TABLE audit_log; --migration-lsp:ignore[ drop-table ]\n",
        "-- migration-lsp: ignore\nDROP TABLE audit_log;\n",
    ],
    ids=["same-line", "line-above", "block-comment", "tight-spacing", "bare"],
)
@pytest.mark.parametrize("tool", ["flyway", "golang-migrate", "prisma", "sql"])
def test_sql_ignore_comments(tool: str, text: str) -> None:
    assert findings(text, tool=tool) == []


def test_sql_ignore_at_the_end_of_a_multi_line_statement() -> None:
    text = (
        "ALTER TABLE users\n    DROP COLUMN legacy_name;  -- migration-lsp: ignore[drop-column]\n"
    )
    assert findings(text, tool="flyway") == []


def test_sql_ignore_inside_dbmate_section() -> None:
    text = (
        "-- migrate:up\n"
        "-- migration-lsp: ignore[drop-table]\n"
        "DROP TABLE audit_log;\n"
        "DROP TABLE old_audit_log;\n"
        "\n"
        "-- migrate:down\n"
    )
    assert findings(text, tool="dbmate") == [("drop-table", "old_audit_log")]


def test_sql_ignore_file() -> None:
    text = (
        "-- migration-lsp: ignore-file[drop-table]\n"
        "DROP TABLE a;\n"
        "DROP TABLE b;\n"
        "ALTER TABLE users DROP COLUMN c;\n"
    )
    assert findings(text, tool="flyway") == [("drop-column", "c")]


def test_sql_unused_ignore_range_is_the_comment() -> None:
    text = "ALTER TABLE users ADD COLUMN nick text; -- migration-lsp: ignore[drop-table]\n"
    result = check(text, tool="flyway")
    assert [(f.rule, text[f.span.start : f.span.end]) for f in result] == [
        ("unused-ignore", "-- migration-lsp: ignore[drop-table]")
    ]
    assert result[0].start == (0, text.index("--"))


def test_mysql_hash_comment_ignores() -> None:
    text = "# migration-lsp: ignore[drop-table]\nDROP TABLE audit_log;\n"
    assert findings(text, tool="flyway", dialect="mysql") == []


def test_sql_ignore_in_a_file_with_a_parse_error_is_not_reported() -> None:
    text = "ALTER TABLE users ADD COLUMN a int; -- migration-lsp: ignore[drop-table]\nSELECT (;\n"
    assert rules(text, tool="flyway") == ["migration-parse-error"]


# --------------------------------------------------------------------------- config: rules

DROPS = alembic(
    """
    op.drop_column('users', 'a')
    op.drop_table('audit_log')
    """,
    "pass",
)


def test_default_rule_set() -> None:
    assert rules(DROPS) == ["drop-column", "drop-table", "empty-downgrade"]


def test_select_runs_only_those_rules() -> None:
    assert rules(DROPS, select=["drop-table"]) == ["drop-table"]


def test_select_all_runs_every_rule() -> None:
    assert config(select=["ALL"]).enabled_rules() == frozenset(r.id for r in RULES)
    assert rules(DROPS, select=["ALL"]) == [
        "missing-lock-timeout",
        "statements-after-access-exclusive",
        "drop-column",
        "drop-table",
        "empty-downgrade",
    ]


def test_select_all_with_ignore() -> None:
    quiet = ["drop-column", "missing-lock-timeout", "statements-after-access-exclusive"]
    assert rules(DROPS, select=["ALL"], ignore=quiet) == [
        "drop-table",
        "empty-downgrade",
    ]


def test_ignore_removes_rules_from_the_default_set() -> None:
    assert rules(DROPS, ignore=["drop-table", "empty-downgrade"]) == [
        "missing-lock-timeout",
        "statements-after-access-exclusive",
        "drop-column",
    ]


def test_extend_select_adds_to_select() -> None:
    assert rules(DROPS, select=["drop-table"], extend_select=["drop-column"]) == [
        "drop-column",
        "drop-table",
    ]


def test_select_accepts_a_single_string() -> None:
    assert config(select="drop-table").enabled_rules() == frozenset({"drop-table"})


def test_severity_override_changes_the_finding_severity() -> None:
    result = check(DROPS, severity={"drop-column": "error", "drop-table": "hint"})
    assert {f.rule: f.severity for f in result} == {
        "drop-column": Severity.ERROR,
        "drop-table": Severity.HINT,
        "empty-downgrade": Severity.WARNING,
    }


def test_severity_override_applies_to_unused_ignore() -> None:
    text = alembic("op.add_column('users', sa.Column('a', sa.Text()))  # migration-lsp: ignore")
    result = check(text, severity={"unused-ignore": "error"})
    assert [(f.rule, f.severity) for f in result] == [("unused-ignore", Severity.ERROR)]


def test_dialect_override_silences_postgresql_only_rules() -> None:
    text = alembic("op.create_index('ix_users_email', 'users', ['email'])")
    assert rules(text) == ["non-concurrent-index"]
    assert analyse(parse(text, dialect="postgresql"), parse_options({"dialect": "mysql"})) == []


def test_check_downgrade_from_a_config_file(tmp_path: Path) -> None:
    (tmp_path / "migration-lsp.toml").write_text(
        'check-downgrade = true\nignore = ["missing-lock-timeout"]\n', encoding="utf-8"
    )
    loaded = load_config(tmp_path / "migration-lsp.toml")
    assert loaded.check_downgrade is True
    text = alembic(
        "op.add_column('users', sa.Column('a', sa.Text()))", "op.drop_column('users', 'a')"
    )
    assert [f.rule for f in analyse(parse(text), loaded)] == ["drop-column"]


# --------------------------------------------------------------------------- config: mistakes


def write(tmp_path: Path, body: str, name: str = "migration-lsp.toml") -> Path:
    path = tmp_path / name
    path.write_text(body, encoding="utf-8")
    return path


def load_error(path: Path) -> ConfigError:
    with pytest.raises(ConfigError) as info:
        load_config(path)
    return info.value


def test_unknown_rule_in_select_names_file_and_line(tmp_path: Path) -> None:
    path = write(
        tmp_path, 'dialect = "postgresql"\nselect = [\n  "drop-table",\n  "drop-colum",\n]\n'
    )
    error = load_error(path)
    assert error.path == path
    assert error.line == 4
    assert str(error).startswith(f"{path}:4: ")
    assert "drop-colum" in str(error)
    assert "drop-column" in str(error)  # the suggestion


def test_unknown_rule_in_pyproject_section(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        '[project]\nname = "app"\n\n[tool.migration-lsp]\nignore = ["drop-tabel"]\n',
        "pyproject.toml",
    )
    error = load_error(path)
    assert (error.path, error.line) == (path, 5)
    assert "drop-tabel" in str(error)


@pytest.mark.parametrize("key", ["ignore", "extend-select"])
def test_unknown_rule_in_other_lists(key: str) -> None:
    with pytest.raises(ConfigError, match="no-such-rule"):
        parse_options({key: ["no-such-rule"]})


def test_unknown_rule_in_severity_table(tmp_path: Path) -> None:
    path = write(tmp_path, '[severity]\ndrop-colum = "error"\n')
    error = load_error(path)
    assert (error.path, error.line) == (path, 2)


def test_unknown_option_names_file_and_line(tmp_path: Path) -> None:
    path = write(tmp_path, '[tool.migration-lsp]\nselectt = ["drop-column"]\n', "pyproject.toml")
    error = load_error(path)
    assert (error.path, error.line) == (path, 2)
    assert "selectt" in str(error)


def test_bad_severity_level_names_file_and_line(tmp_path: Path) -> None:
    path = write(tmp_path, '# levels\n[severity]\ndrop-column = "fatal"\n')
    error = load_error(path)
    assert (error.path, error.line) == (path, 3)
    assert "fatal" in str(error)


@pytest.mark.parametrize(
    "options",
    [
        {"dialect": "postgres"},
        {"check-downgrade": "yes"},
        {"exclude": "versions/old_*.py"},
        {"max-file-size": 0},
        {"select": [1]},
        {"severity": "error"},
        {"select": ["ALL", "bogus"]},
    ],
    ids=[
        "dialect",
        "check-downgrade",
        "exclude",
        "max-file-size",
        "select-type",
        "severity-type",
        "all-plus-unknown",
    ],
)
def test_invalid_values_are_rejected(options: dict[str, object]) -> None:
    with pytest.raises(ConfigError):
        parse_options(options)


def test_invalid_toml_names_the_file(tmp_path: Path) -> None:
    path = write(tmp_path, "select = [\n")
    error = load_error(path)
    assert error.path == path
    assert str(path) in str(error)


def test_pyproject_without_section_is_the_default(tmp_path: Path) -> None:
    path = write(tmp_path, '[tool.ruff]\nselect = ["E"]\n', "pyproject.toml")
    loaded = load_config(path)
    assert loaded.select is None
    assert loaded.enabled_rules() == Config().enabled_rules()


def test_command_line_override_with_unknown_rule() -> None:
    with pytest.raises(ConfigError, match="nope"):
        Config().with_overrides(select=["nope"])


def test_error_line_is_the_offending_line_not_the_first_mention(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        '[tool.ruff]\nselect = ["E"]\n\n[tool.migration-lsp]\nselect = ["E"]\n',
        "pyproject.toml",
    )
    assert load_error(path).line == 5


def test_bad_severity_line_when_rule_is_also_selected(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        '[tool.migration-lsp]\nselect = ["drop-table"]\n\n'
        '[tool.migration-lsp.severity]\ndrop-table = "loud"\n',
        "pyproject.toml",
    )
    assert load_error(path).line == 5


# --------------------------------------------------------------------------- config: exclude


@pytest.mark.parametrize(
    ("relative", "excluded"),
    [
        ("migrations/versions/old_0001_init.py", True),
        ("migrations/versions/3f2a1b4c5d6e_add.py", False),
        ("legacy/2019/V1__init.sql", True),
        ("legacy.sql", False),
        ("other/migrations/versions/old_0001_init.py", False),
    ],
)
def test_exclude_globs_relative_to_the_config_file(
    tmp_path: Path, relative: str, excluded: bool
) -> None:
    path = write(tmp_path, 'exclude = ["migrations/versions/old_*.py", "legacy/**"]\n')
    loaded = load_config(path)
    assert loaded.is_excluded(tmp_path / relative) is excluded


def test_no_exclude_excludes_nothing(tmp_path: Path) -> None:
    assert Config().is_excluded(tmp_path / "anything.sql") is False
