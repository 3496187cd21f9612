"""The revision graph and the history rules, on fixture histories written the way `alembic
revision` and `makemigrations` write files: branches, merges, squashes, cross-app
dependencies, duplicates, typos and cycles."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from migration_lsp.engine import Workspace
from migration_lsp.fixes import fix_for
from migration_lsp.history.graph import build_history
from migration_lsp.parse import parse_migration
from migration_lsp.project.detect import Project, detect_projects

FIXTURES = Path(__file__).parent / "fixtures" / "history"
HISTORY_RULES = [
    "multiple-heads",
    "missing-parent-revision",
    "revision-cycle",
    "duplicate-revision",
    "revision-id-mismatch",
]


def copy(name: str, tmp_path: Path) -> Path:
    target = tmp_path / name
    shutil.copytree(FIXTURES / name, target)
    return target


def check(root: Path) -> list[tuple[str, int, str]]:
    result = Workspace(select=HISTORY_RULES).check([root])
    return sorted((Path(f.path).name, f.start[0] + 1, f.rule) for f in result.findings)


def project(root: Path) -> Project:
    (found,) = detect_projects(root)
    return found


# --------------------------------------------------------------------------- the graph


def test_alembic_graph_heads_children_and_roots() -> None:
    history = build_history(project(FIXTURES / "alembic_branches"))
    assert [n.id for n in history.heads()] == ["27c6a30d7c24", "ae1027a6acf0"]
    assert [n.id for n in history.children("1975ea83b712")] == ["27c6a30d7c24", "ae1027a6acf0"]
    assert history.roots_of("ae1027a6acf0") == {"1975ea83b712"}
    node = history.node("27c6a30d7c24")
    assert node is not None and node.message == "add email"
    text = node.path.read_text()
    assert text[node.span.start : node.span.end] == "'27c6a30d7c24'"


def test_django_graph_is_per_app_with_squashes_and_cross_app_dependencies() -> None:
    history = build_history(project(FIXTURES / "django_shop"))
    assert [n.id for n in history.heads("orders")] == ["orders.0003_order_note"]
    assert [n.id for n in history.heads("accounts")] == ["accounts.0002_profile_favourite"]
    assert {n.id for n in history.heads("shop")} == {
        "shop.0002_product_price",
        "shop.0002_product_sku",
    }
    note = history.node("orders.0003_order_note")
    assert note is not None
    # 0002_order_total is replaced by the squash: the dependency resolves to it
    assert history.parents(note) == ["orders.0001_squashed_0002_order_total"]
    favourite = history.node("accounts.0002_profile_favourite")
    assert favourite is not None
    assert history.parents(favourite) == ["accounts.0001_initial", "shop.0001_initial"]


# --------------------------------------------------------------------------- the rules


def test_two_alembic_heads_are_reported_on_each_revision_line() -> None:
    assert check(FIXTURES / "alembic_branches") == [
        ("27c6a30d7c24_add_email.py", 15, "multiple-heads"),
        ("ae1027a6acf0_add_phone.py", 15, "multiple-heads"),
    ]


def test_a_merge_revision_joins_the_heads(tmp_path: Path) -> None:
    root = copy("alembic_problems", tmp_path)
    for name in ("5b2e8d1c4f6a_add_orders.py", "8d4a7e2b9c10_add_order_notes.py"):
        (root / "migrations" / "versions" / name).unlink()
    for name in ("0a0a0a0a0a0a_loop_a.py", "0b0b0b0b0b0b_loop_b.py"):
        (root / "migrations" / "versions" / name).unlink()
    assert check(root) == []


def test_typo_duplicate_mismatch_and_cycle() -> None:
    found = check(FIXTURES / "alembic_problems")
    assert found == [
        ("0a0a0a0a0a0a_loop_a.py", 15, "revision-cycle"),
        ("0b0b0b0b0b0b_loop_b.py", 15, "revision-cycle"),
        ("5b2e8d1c4f6a_add_orders.py", 15, "duplicate-revision"),
        ("5b2e8d1c4f6a_add_orders.py", 16, "missing-parent-revision"),
        ("8d4a7e2b9c10_add_order_notes.py", 15, "duplicate-revision"),
        ("8d4a7e2b9c10_add_order_notes.py", 15, "revision-id-mismatch"),
    ]
    result = Workspace(select=["missing-parent-revision"]).check([FIXTURES / "alembic_problems"])
    (typo,) = result.findings
    assert "3c1f0e9ab5d" in typo.message and "Did you mean 3c1f0e9ab5d2?" in typo.message
    text = result.texts[typo.path]
    assert text[typo.span.start : typo.span.end] == "'3c1f0e9ab5d'"


def test_django_two_leaves_in_one_app_only() -> None:
    assert check(FIXTURES / "django_shop") == [
        ("0002_product_price.py", 6, "multiple-heads"),
        ("0002_product_sku.py", 6, "multiple-heads"),
    ]


def test_django_missing_dependency_points_at_the_tuple(tmp_path: Path) -> None:
    root = copy("django_shop", tmp_path)
    path = root / "accounts" / "migrations" / "0002_profile_favourite.py"
    path.write_text(path.read_text().replace("('shop', '0001_initial')", "('shop', '0001_inital')"))
    (root / "shop" / "migrations" / "0002_product_sku.py").unlink()
    result = Workspace(select=HISTORY_RULES).check([root])
    (finding,) = result.findings
    assert finding.rule == "missing-parent-revision"
    text = result.texts[finding.path]
    assert text[finding.span.start : finding.span.end] == "('shop', '0001_inital')"
    # a dependency on an app outside the project (django.contrib.auth) is not "missing"
    path.write_text(
        path.read_text().replace(
            "('shop', '0001_inital')", "('auth', '0012_alter_user_first_name_max_length')"
        )
    )
    assert check(root) == []


@pytest.mark.parametrize(
    ("files", "expected"),
    [
        (
            {"V1__init.sql": "", "V1_1__a.sql": "", "V1.1__b.sql": ""},
            ["V1.1__b.sql", "V1_1__a.sql"],
        ),
        ({"V1__init.sql": "", "V1.0__again.sql": ""}, ["V1.0__again.sql", "V1__init.sql"]),
        ({"V1__init.sql": "", "U1__init.sql": "", "V2__next.sql": ""}, []),
    ],
)
def test_flyway_duplicate_versions_compare_numerically(
    tmp_path: Path, files: dict[str, str], expected: list[str]
) -> None:
    (tmp_path / "flyway.conf").write_text("flyway.locations=filesystem:sql\n")
    (tmp_path / "sql").mkdir()
    for name in files:
        (tmp_path / "sql" / name).write_text("SELECT 1;\n")
    assert [name for name, _, _ in check(tmp_path)] == expected


def test_rails_duplicate_timestamps(tmp_path: Path) -> None:
    (tmp_path / "Gemfile").write_text("source 'https://rubygems.org'\ngem 'rails', '~> 7.1'\n")
    migrate = tmp_path / "db" / "migrate"
    migrate.mkdir(parents=True)
    body = "class {0} < ActiveRecord::Migration[7.1]\n  def change\n  end\nend\n"
    (migrate / "20240514102133_add_email.rb").write_text(body.format("AddEmail"))
    (migrate / "20240514102133_add_phone.rb").write_text(body.format("AddPhone"))
    (migrate / "20240601000000_add_name.rb").write_text(body.format("AddName"))
    history = build_history(project(tmp_path))
    groups = [[n.path.name for n in g] for g in history.duplicates()]
    assert groups == [["20240514102133_add_email.rb", "20240514102133_add_phone.rb"]]


def test_editor_buffers_replace_the_saved_text(tmp_path: Path) -> None:
    root = copy("alembic_branches", tmp_path)
    phone = root / "migrations" / "versions" / "ae1027a6acf0_add_phone.py"
    edited = phone.read_text().replace("= '1975ea83b712'", "= '27c6a30d7c24'")
    history = build_history(project(root), {phone: edited})
    assert [n.id for n in history.heads()] == ["ae1027a6acf0"]


def test_half_typed_files_never_break_the_graph(tmp_path: Path) -> None:
    root = copy("alembic_branches", tmp_path)
    phone = root / "migrations" / "versions" / "ae1027a6acf0_add_phone.py"
    text = phone.read_text()
    for end in range(0, len(text), 23):
        history = build_history(project(root), {phone: text[:end]})
        assert history.node("27c6a30d7c24") is not None


# --------------------------------------------------------------------------- merge fix


def _apply_merge(root: Path, head_file: Path) -> Path:
    result = Workspace(select=["multiple-heads"]).check([root])
    finding = next(f for f in result.findings if Path(f.path) == head_file)
    text = head_file.read_text()
    (proj,) = detect_projects(root)
    migration = parse_migration(str(head_file), text, proj.tool, "postgresql", {})
    assert migration is not None
    fix = fix_for(finding, migration)
    assert fix is not None and not fix.edits and len(fix.files) == 1
    created = head_file.parent / fix.files[0].path
    created.write_text(fix.files[0].text)
    return created


def test_merge_fix_writes_an_alembic_merge_revision(tmp_path: Path) -> None:
    root = copy("alembic_branches", tmp_path)
    email = root / "migrations" / "versions" / "27c6a30d7c24_add_email.py"
    created = _apply_merge(root, email)
    text = created.read_text()
    assert created.name.endswith("_merge_heads.py")
    assert "down_revision: Union[str, None] = ('27c6a30d7c24', 'ae1027a6acf0')" in text
    assert "Revises: 27c6a30d7c24, ae1027a6acf0" in text
    compile(text, str(created), "exec")
    assert check(root) == []


def test_merge_fix_writes_a_django_merge_migration(tmp_path: Path) -> None:
    root = copy("django_shop", tmp_path)
    price = root / "shop" / "migrations" / "0002_product_price.py"
    created = _apply_merge(root, price)
    assert created.name.startswith("0003_merge_")
    text = created.read_text()
    assert "('shop', '0002_product_price'),\n        ('shop', '0002_product_sku')," in text
    assert text.startswith("# Generated by Django 5.0.6 on ")
    compile(text, str(created), "exec")
    assert check(root) == []


def test_alembic_independent_labelled_branches_are_not_multiple_heads(tmp_path: Path) -> None:
    root = copy("alembic_branches", tmp_path)
    versions = root / "migrations" / "versions"
    email = versions / "27c6a30d7c24_add_email.py"
    phone = versions / "ae1027a6acf0_add_phone.py"
    # two bases, each with its own branch label: `alembic upgrade heads` is the intended use
    (versions / "1975ea83b712_create_users.py").unlink()
    for path, label in ((email, "users"), (phone, "contacts")):
        text = path.read_text().replace("= '1975ea83b712'", "= None")
        text = text.replace(
            "branch_labels: Union[str, Sequence[str], None] = None",
            f"branch_labels: Union[str, Sequence[str], None] = ('{label}',)",
        )
        path.write_text(text)
    assert check(root) == []
    # without labels, two bases are two heads: `alembic upgrade head` fails
    path = phone
    path.write_text(path.read_text().replace("('contacts',)", "None"))
    assert [rule for _, _, rule in check(root)] == ["multiple-heads", "multiple-heads"]


# --------------------------------------------------------------------------- graph CLI


def _graph(path: Path, fmt: str, capsys: pytest.CaptureFixture[str]) -> str:
    from migration_lsp.cli import main

    assert main(["graph", str(path), "--format", fmt]) == 0
    return capsys.readouterr().out


def test_graph_text_marks_heads_merges_and_problems(capsys: pytest.CaptureFixture[str]) -> None:
    out = _graph(FIXTURES / "alembic_problems", "text", capsys)
    assert out.splitlines()[0].startswith("alembic in ")
    assert "3c1f0e9ab5d2 (merge)  merge email and phone <- 27c6a30d7c24, ae1027a6acf0" in out
    assert "1975ea83b712 (base)  create users" in out
    assert "! missing-parent-revision: Parent revision 3c1f0e9ab5d is not declared" in out
    assert out.count("! revision-cycle") == 2


def test_graph_json_lists_parents_children_and_heads(capsys: pytest.CaptureFixture[str]) -> None:
    import json

    data = json.loads(_graph(FIXTURES / "alembic_branches", "json", capsys))
    (proj,) = data["projects"]
    assert proj["tool"] == "alembic" and proj["heads"] == ["27c6a30d7c24", "ae1027a6acf0"]
    nodes = {n["id"]: n for n in proj["nodes"]}
    assert nodes["1975ea83b712"]["children"] == ["27c6a30d7c24", "ae1027a6acf0"]
    assert nodes["27c6a30d7c24"]["parents"] == ["1975ea83b712"]
    assert [p["rule"] for p in nodes["27c6a30d7c24"]["problems"]] == ["multiple-heads"]
    assert nodes["27c6a30d7c24"]["path"] == "migrations/versions/27c6a30d7c24_add_email.py"


def test_graph_mermaid_and_dot_draw_the_edges(capsys: pytest.CaptureFixture[str]) -> None:
    mermaid = _graph(FIXTURES / "alembic_branches", "mermaid", capsys)
    assert mermaid.startswith("graph BT\n")
    assert "n_1975ea83b712 --> n_27c6a30d7c24" in mermaid
    assert "class n_ae1027a6acf0 problem" in mermaid
    dot = _graph(FIXTURES / "django_shop", "dot", capsys)
    assert dot.startswith("digraph migrations {")
    assert "n_shop_0001_initial -> n_shop_0002_product_sku;" in dot
    assert "n_orders_0001_squashed_0002_order_total -> n_orders_0003_order_note;" in dot


def test_graph_of_a_versioned_tool_is_the_application_order(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "flyway.conf").write_text("flyway.locations=filesystem:sql\n")
    (tmp_path / "sql").mkdir()
    for name in ("V10__c.sql", "V2__b.sql", "V1__a.sql", "V2_0__dup.sql"):
        (tmp_path / "sql" / name).write_text("SELECT 1;\n")
    out = _graph(tmp_path, "text", capsys)
    listed = [
        line.split()[0] for line in out.splitlines()[1:] if line.startswith("  ") and "[" in line
    ]
    assert listed == ["1", "2", "2", "10"]
    assert out.count("! duplicate-revision") == 2


def test_liquibase_changesets_with_the_same_id_and_author(tmp_path: Path) -> None:
    from migration_lsp.engine import analyse
    from rule_helpers import config

    text = (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<databaseChangeLog xmlns="http://www.liquibase.org/xml/ns/dbchangelog">\n'
        '    <changeSet id="1" author="alice">\n'
        '        <createTable tableName="users"><column name="id" type="bigint"/></createTable>\n'
        "    </changeSet>\n"
        '    <changeSet id="1" author="alice">\n'
        '        <createTable tableName="teams"><column name="id" type="bigint"/></createTable>\n'
        "    </changeSet>\n"
        '    <changeSet id="1" author="bob">\n'
        '        <createTable tableName="roles"><column name="id" type="bigint"/></createTable>\n'
        "    </changeSet>\n"
        "</databaseChangeLog>\n"
    )
    migration = parse_migration("db/changelog/001.xml", text, "liquibase", "postgresql", {})
    assert migration is not None
    (finding,) = analyse(migration, config(select=["duplicate-revision"]))
    assert finding.start[0] == 5 and "line 3" in finding.message


def test_liquibase_history_is_its_changesets(capsys: pytest.CaptureFixture[str]) -> None:
    import json

    data = json.loads(_graph(Path(__file__).parent / "fixtures" / "liquibase", "json", capsys))
    (proj,) = data["projects"]
    ids = [n["id"] for n in proj["nodes"]]
    assert ids[:3] == ["1::alice", "2::alice", "2::bob"]
    first = proj["nodes"][0]
    assert first["path"] == "db/changelog/changes/001-create-customers.xml"
    # the same id and author in two changelogs are two changeSets: not duplicates
    assert not any(p["rule"] == "duplicate-revision" for n in proj["nodes"] for p in n["problems"])
