"""Rules on the Python code of migrations (row-by-row loops, committed ORM sessions) and on
downgrades that undo only part of the upgrade.

Alembic files are written the way `alembic revision` writes them, Django files the way
`makemigrations` writes them plus the hand-written `RunPython` functions people add. Each rule
gets cases that must fire and cases that must stay quiet, including the user's guide's data
migration example and the batch loop that is not row by row.
"""

from __future__ import annotations

import ast
import re
import textwrap
from typing import Any

import pytest

from migration_lsp.findings import Finding
from migration_lsp.model import DataChange, SessionCommit, Step
from migration_lsp.parse.django import parse_django
from migration_lsp.rules import code as code_rules
from migration_lsp.rules import reversibility
from migration_lsp.rules.base import Context
from migration_lsp.rules.registry import BY_ID
from rule_helpers import alembic, analyse, config, findings, parse, position

ROW_BY_ROW = "row-by-row-data-migration"
SESSION_COMMIT = "session-commit-in-migration"
INCOMPLETE = "incomplete-downgrade"


def only(text: str, *ids: str, **options: Any) -> list[tuple[str, str]]:
    """(rule, underlined text) of the named rules only."""
    return findings(text, select=list(ids), **options)


# --------------------------------------------------------------------------- the user's guide

GUIDE_UPGRADE = """
# Add new column
op.add_column('users', sa.Column('full_name', sa.String(200)))

# Migrate data
bind = op.get_bind()
session = Session(bind=bind)

users = session.execute("SELECT id, first_name, last_name FROM users").fetchall()
for user_id, first_name, last_name in users:
    full_name = f"{first_name} {last_name}"
    session.execute(
        "UPDATE users SET full_name = :full_name WHERE id = :id",
        {"full_name": full_name, "id": user_id}
    )

session.commit()

# Drop old columns
op.drop_column('users', 'first_name')
op.drop_column('users', 'last_name')
"""

GUIDE_DOWNGRADE = """
# Reverse migration
op.add_column('users', sa.Column('first_name', sa.String(100)))
op.add_column('users', sa.Column('last_name', sa.String(100)))

bind = op.get_bind()
session = Session(bind=bind)

users = session.execute("SELECT id, full_name FROM users").fetchall()
for user_id, full_name in users:
    parts = full_name.split(' ', 1)
    first_name = parts[0]
    last_name = parts[1] if len(parts) > 1 else ''
    session.execute(
        "UPDATE users SET first_name = :first, last_name = :last WHERE id = :id",
        {"first": first_name, "last": last_name, "id": user_id}
    )

session.commit()
op.drop_column('users', 'full_name')
"""

GUIDE = alembic(
    GUIDE_UPGRADE,
    GUIDE_DOWNGRADE,
    imports="from sqlalchemy.orm import Session\nfrom myapp.models import User",
    message="split name into full_name",
)


def test_guide_data_migration_gets_row_by_row_and_session_commit() -> None:
    result = findings(GUIDE, select=["ALL"])
    assert (ROW_BY_ROW, "session.execute") in result
    assert (SESSION_COMMIT, "session.commit") in result
    row = next(
        f for f in analyse(parse(GUIDE), config(select=[ROW_BY_ROW])) if f.rule == ROW_BY_ROW
    )
    assert row.start == position(GUIDE, "session.execute(\n")
    assert row.severity.label == "info"
    commit = next(
        f
        for f in analyse(parse(GUIDE), config(select=[SESSION_COMMIT]))
        if f.rule == SESSION_COMMIT
    )
    assert commit.start == position(GUIDE, "session.commit()")
    assert commit.severity.label == "warning"


def test_guide_downgrade_is_checked_only_with_check_downgrade() -> None:
    assert only(GUIDE, ROW_BY_ROW, SESSION_COMMIT) == [
        (ROW_BY_ROW, "session.execute"),
        (SESSION_COMMIT, "session.commit"),
    ]
    assert (
        only(GUIDE, ROW_BY_ROW, SESSION_COMMIT, check_downgrade=True)
        == [
            (ROW_BY_ROW, "session.execute"),
            (SESSION_COMMIT, "session.commit"),
        ]
        * 2
    )


def test_guide_downgrade_is_complete() -> None:
    assert incomplete(GUIDE) == []


# --------------------------------------------------------------------------- row by row: Alembic


def test_row_by_row_execute_of_text_in_a_loop_over_rows() -> None:
    text = alembic(
        """
        conn = op.get_bind()
        rows = conn.execute(sa.text("SELECT id, email FROM users")).fetchall()
        for row in rows:
            conn.execute(
                sa.text("UPDATE users SET email = lower(:email) WHERE id = :id"),
                {"email": row.email, "id": row.id},
            )
        """
    )
    assert only(text, ROW_BY_ROW) == [(ROW_BY_ROW, "conn.execute")]
    [finding] = [
        f for f in analyse(parse(text), config(select=[ROW_BY_ROW])) if f.rule == ROW_BY_ROW
    ]
    assert finding.start == position(text, "conn.execute(\n")


def test_row_by_row_op_execute_with_an_f_string_over_a_direct_query() -> None:
    text = alembic(
        """
        bind = op.get_bind()
        for user_id, name in bind.execute(sa.text("SELECT id, name FROM users")):
            op.execute(f"UPDATE users SET slug = '{name.lower()}' WHERE id = {user_id}")
        """
    )
    assert only(text, ROW_BY_ROW) == [(ROW_BY_ROW, "op.execute")]


def test_row_by_row_sqlalchemy_construct_is_a_data_change_per_row() -> None:
    text = alembic(
        """
        users = sa.table("users", sa.column("id"), sa.column("email"))
        conn = op.get_bind()
        for user in conn.execute(sa.select(users.c.id, users.c.email)).all():
            conn.execute(
                users.update().where(users.c.id == user.id).values(email=user.email.lower())
            )
        """
    )
    assert only(text, ROW_BY_ROW) == [(ROW_BY_ROW, "conn.execute")]
    [change] = [op for op in parse(text).operations if isinstance(op, DataChange)]
    assert (change.kind, change.per_row) == ("update", True)


def test_row_by_row_while_loop_fetching_one_row_at_a_time() -> None:
    text = alembic(
        """
        conn = op.get_bind()
        result = conn.execute(sa.text("SELECT id FROM users"))
        while (row := result.fetchone()) is not None:
            conn.execute(sa.text("UPDATE users SET active = true WHERE id = :id"), {"id": row.id})
        """
    )
    assert only(text, ROW_BY_ROW) == [(ROW_BY_ROW, "conn.execute")]


def test_row_by_row_fires_once_per_loop() -> None:
    text = alembic(
        """
        conn = op.get_bind()
        for row in conn.execute(sa.text("SELECT id FROM users")):
            conn.execute(sa.text("UPDATE users SET a = 1 WHERE id = :id"), {"id": row.id})
            conn.execute(sa.text("UPDATE users SET b = 2 WHERE id = :id"), {"id": row.id})
        for row in conn.execute(sa.text("SELECT id FROM orders")):
            conn.execute(sa.text("DELETE FROM orders WHERE id = :id"), {"id": row.id})
        """
    )
    assert only(text, ROW_BY_ROW) == [(ROW_BY_ROW, "conn.execute")] * 2


WHILE_BATCH = """
conn = op.get_bind()
while True:
    result = conn.execute(
        sa.text(
            "UPDATE users SET email = lower(email) WHERE ctid = ANY(ARRAY("
            "SELECT ctid FROM users WHERE email <> lower(email) LIMIT 1000))"
        )
    )
    if result.rowcount == 0:
        break
"""


@pytest.mark.parametrize(
    "upgrade",
    [
        pytest.param(WHILE_BATCH, id="while-true-batches"),
        pytest.param(
            """
            conn = op.get_bind()
            (last,) = conn.execute(sa.text("SELECT max(id) FROM users")).one()
            for start in range(0, last + 1, 1000):
                conn.execute(
                    sa.text("UPDATE users SET active = true WHERE id >= :a AND id < :b"),
                    {"a": start, "b": start + 1000},
                )
            """,
            id="range-batches",
        ),
        pytest.param(
            """
            conn = op.get_bind()
            ids = [row.id for row in conn.execute(sa.text("SELECT id FROM users"))]
            for chunk in chunked(ids, 1000):
                conn.execute(
                    sa.text("UPDATE users SET active = true WHERE id = ANY(:ids)"), {"ids": chunk}
                )
            """,
            id="chunks-of-a-query",
        ),
        pytest.param(
            """
            for table in ("users", "orders"):
                op.execute(f"UPDATE {table} SET updated_at = now() WHERE updated_at IS NULL")
            """,
            id="constant-list",
        ),
        pytest.param(
            """
            conn = op.get_bind()
            for row in conn.execute(sa.text("SELECT id FROM users")):
                print(row.id)
            conn.execute(sa.text("UPDATE users SET active = true WHERE active IS NULL"))
            """,
            id="statement-after-the-loop",
        ),
        pytest.param(
            """
            conn = op.get_bind()
            for row in conn.execute(sa.text("SELECT id FROM users")):
                conn.execute(sa.text("SELECT pg_notify('users', :id)"), {"id": str(row.id)})
            """,
            id="query-per-row",
        ),
    ],
)
def test_row_by_row_quiet(upgrade: str) -> None:
    assert only(alembic(upgrade), ROW_BY_ROW) == []


def test_while_true_batch_loop_is_not_marked_per_row() -> None:
    migration = parse(alembic(WHILE_BATCH))
    changes = [op for op in migration.operations if isinstance(op, DataChange)]
    assert [(c.kind, c.per_row) for c in changes] == [("update", False)]


# --------------------------------------------------------------------------- session commit


@pytest.mark.parametrize(
    ("setup", "imports"),
    [
        ("session = Session(bind=op.get_bind())", "from sqlalchemy.orm import Session"),
        ("session = orm.Session(bind=op.get_bind())", "from sqlalchemy import orm"),
        ("session = sa.orm.Session(bind=op.get_bind())", ""),
        ("session = sessionmaker(bind=op.get_bind())()", "from sqlalchemy.orm import sessionmaker"),
        (
            "SessionLocal = sessionmaker(bind=op.get_bind())\nsession = SessionLocal()",
            "from sqlalchemy.orm import sessionmaker",
        ),
    ],
    ids=["Session", "orm.Session", "sa.orm.Session", "sessionmaker()()", "factory"],
)
def test_session_commit_fires_on_the_commit_call(setup: str, imports: str) -> None:
    text = alembic(
        f"""
{textwrap.indent(setup, " " * 8)}
        session.execute(sa.text("UPDATE users SET active = true WHERE active IS NULL"))
        session.commit()
        """,
        imports=imports,
    )
    assert only(text, SESSION_COMMIT) == [(SESSION_COMMIT, "session.commit")]


def test_session_commit_in_a_with_block_and_module_level_factory() -> None:
    text = alembic(
        """
        with SessionLocal(bind=op.get_bind()) as session:
            session.add(Role(name="admin"))
            session.commit()
        """,
        imports="from sqlalchemy.orm import sessionmaker\n\nSessionLocal = sessionmaker()",
    )
    assert only(text, SESSION_COMMIT) == [(SESSION_COMMIT, "session.commit")]
    [commit] = [op for op in parse(text).operations if isinstance(op, SessionCommit)]
    assert commit.step is Step.UP


@pytest.mark.parametrize(
    "upgrade",
    [
        # flushing sends the rows without ending anything: Alembic commits at the end
        """
        session = Session(bind=op.get_bind())
        session.add(Role(name="admin"))
        session.flush()
        """,
        # a connection, not an ORM session (another rule's business)
        """
        conn = op.get_bind()
        conn.execute(sa.text("UPDATE users SET active = true"))
        conn.commit()
        """,
        # a name that is not a session made here
        """
        session = get_session()
        session.commit()
        """,
    ],
    ids=["flush", "connection", "unknown-object"],
)
def test_session_commit_quiet(upgrade: str) -> None:
    text = alembic(upgrade, imports="from sqlalchemy.orm import Session")
    assert only(text, SESSION_COMMIT) == []


# --------------------------------------------------------------------------- Django

GENERATED = "# Generated by Django 5.1 on 2024-05-14 10:21\n"


def django(operations: str, prelude: str) -> str:
    """A `makemigrations` file with hand-written RunPython functions above the class."""
    ops = textwrap.indent(textwrap.dedent(operations).strip("\n"), " " * 8)
    code = textwrap.dedent(prelude).strip("\n")
    return (
        f"{GENERATED}\nfrom django.db import migrations, models\n\n\n{code}\n\n\n"
        "class Migration(migrations.Migration):\n\n"
        '    dependencies = [\n        ("shop", "0001_initial"),\n    ]\n\n'
        f"    operations = [\n{ops}\n    ]\n"
    )


def django_findings(text: str, *ids: str, **options: Any) -> list[tuple[str, str]]:
    migration = parse_django("shop/migrations/0002_change.py", text, "postgresql", {})
    return [
        (f.rule, text[f.span.start : f.span.end])
        for f in analyse(migration, config(select=list(ids), **options))
    ]


RUN = "migrations.RunPython(forwards, migrations.RunPython.noop),"


@pytest.mark.parametrize(
    ("prelude", "under"),
    [
        (
            """
            def forwards(apps, schema_editor):
                Product = apps.get_model("shop", "Product")
                for product in Product.objects.filter(slug=""):
                    product.slug = product.name.lower()
                    product.save(update_fields=["slug"])
            """,
            "product.save",
        ),
        (
            """
            def forwards(apps, schema_editor):
                Product = apps.get_model("shop", "Product")
                products = Product.objects.all()
                for product in products.iterator():
                    Product.objects.filter(pk=product.pk).update(slug=product.name.lower())
            """,
            "Product.objects.filter(pk=product.pk).update",
        ),
        (
            """
            def forwards(apps, schema_editor):
                with schema_editor.connection.cursor() as cursor:
                    cursor.execute("SELECT id, name FROM shop_product")
                    for pk, name in cursor.fetchall():
                        cursor.execute(
                            "UPDATE shop_product SET slug = %s WHERE id = %s", [name.lower(), pk]
                        )
            """,
            "cursor.execute",
        ),
    ],
    ids=["save", "update-per-object", "cursor-execute"],
)
def test_django_row_by_row_fires_on_the_call_in_the_loop(prelude: str, under: str) -> None:
    text = django(RUN, prelude)
    assert django_findings(text, ROW_BY_ROW) == [(ROW_BY_ROW, under)]


def test_django_row_by_row_once_per_loop_and_reverse_only_with_check_downgrade() -> None:
    text = django(
        "migrations.RunPython(forwards, backwards),",
        """
        def forwards(apps, schema_editor):
            Product = apps.get_model("shop", "Product")
            for product in Product.objects.all():
                product.slug = product.name.lower()
                product.full_clean()
                product.save()
                product.tags.clear()
                product.save()


        def backwards(apps, schema_editor):
            Product = apps.get_model("shop", "Product")
            for product in Product.objects.all():
                product.delete()
        """,
    )
    assert django_findings(text, ROW_BY_ROW) == [(ROW_BY_ROW, "product.save")]
    assert django_findings(text, ROW_BY_ROW, check_downgrade=True) == [
        (ROW_BY_ROW, "product.save"),
        (ROW_BY_ROW, "product.delete"),
    ]


@pytest.mark.parametrize(
    "prelude",
    [
        # one set-based statement
        """
        def forwards(apps, schema_editor):
            Product = apps.get_model("shop", "Product")
            Product.objects.filter(slug="").update(slug=Lower("name"))
        """,
        # objects changed in the loop, written in batches after it
        """
        def forwards(apps, schema_editor):
            Product = apps.get_model("shop", "Product")
            changed = []
            for product in Product.objects.filter(slug="").iterator(chunk_size=2000):
                product.slug = product.name.lower()
                changed.append(product)
            Product.objects.bulk_update(changed, ["slug"], batch_size=1000)
        """,
        # a dict's update() in a loop over rows writes nothing
        """
        def forwards(apps, schema_editor):
            Product = apps.get_model("shop", "Product")
            totals = {}
            for product in Product.objects.all():
                totals.update({product.pk: product.price})
        """,
        # a loop over a constant list: a few fixed rows, not one per existing row
        """
        def forwards(apps, schema_editor):
            Tag = apps.get_model("shop", "Tag")
            for label in ["new", "sale", "featured"]:
                Tag.objects.create(label=label)
        """,
        # bounded batches until nothing is left
        """
        def forwards(apps, schema_editor):
            with schema_editor.connection.cursor() as cursor:
                while True:
                    cursor.execute(
                        "UPDATE shop_product SET slug = lower(name) WHERE id IN "
                        "(SELECT id FROM shop_product WHERE slug = '' LIMIT 1000)"
                    )
                    if cursor.rowcount == 0:
                        break
        """,
    ],
    ids=["set-based", "bulk-update", "dict-update", "constant-list", "while-batches"],
)
def test_django_row_by_row_quiet(prelude: str) -> None:
    assert django_findings(django(RUN, prelude), ROW_BY_ROW) == []


def test_django_runpython_referencing_an_unknown_function_is_quiet() -> None:
    text = django("migrations.RunPython(shop_utils.fill_slugs, migrations.RunPython.noop),", "")
    assert django_findings(text, ROW_BY_ROW) == []


def test_django_gets_no_session_commit_or_incomplete_downgrade() -> None:
    text = django(
        RUN,
        """
        def forwards(apps, schema_editor):
            session = Session(bind=engine)
            session.commit()
        """,
    )
    migration = parse_django("shop/migrations/0002_change.py", text, "postgresql", {})
    assert not any(isinstance(op, SessionCommit) for op in migration.operations)
    assert run_incomplete(migration) == []


# --------------------------------------------------------------------------- incomplete-downgrade


def run_incomplete(migration: Any) -> list[Finding]:
    """The rule on its own (whether or not the registry lists it yet)."""
    rule = reversibility.incomplete_downgrade
    ctx = Context(migration, "postgresql", check_downgrade=False)
    ctx.rule = rule
    return list(rule.check(ctx))


def incomplete(text: str) -> list[str]:
    """Messages of incomplete-downgrade on an Alembic file."""
    found = run_incomplete(parse(text))
    if INCOMPLETE in BY_ID:  # registered: the engine agrees
        assert [f.message for f in check_registered(text)] == [f.message for f in found]
    return [f.message for f in found]


def check_registered(text: str) -> list[Finding]:
    return analyse(parse(text), config(select=[INCOMPLETE]))


POSTS = 'op.create_table("posts", sa.Column("id", sa.BigInteger(), primary_key=True))'
TAGS = 'op.create_table("tags", sa.Column("id", sa.BigInteger(), primary_key=True))'
INDEX = 'op.create_index("ix_comments_post_id", "comments", ["post_id"])'


def test_incomplete_downgrade_names_the_missing_inverses() -> None:
    text = alembic(f"{POSTS}\n{INDEX}\n{TAGS}", 'op.drop_table("tags")')
    [finding] = run_incomplete(parse(text))
    assert "downgrade does not drop table 'posts', index 'ix_comments_post_id'" in (
        finding.message.lower()
    )
    assert text[finding.span.start : finding.span.end] == "downgrade"
    assert finding.severity.label == "info"
    assert reversibility.incomplete_downgrade.fix == "complete-downgrade"


@pytest.mark.parametrize(
    ("upgrade", "downgrade", "missing"),
    [
        (
            'op.add_column("users", sa.Column("email", sa.String(255), nullable=True))\n'
            'op.add_column("users", sa.Column("phone", sa.String(32), nullable=True))',
            'op.drop_column("users", "phone")',
            "drop column 'users.email'",
        ),
        (
            'op.create_foreign_key("fk_posts_user_id", "posts", "users", ["user_id"], ["id"])\n'
            'op.create_index("ix_posts_user_id", "posts", ["user_id"])',
            'op.drop_index("ix_posts_user_id", table_name="posts")',
            "drop constraint 'fk_posts_user_id'",
        ),
        (
            'op.alter_column("users", "name", new_column_name="full_name")\n'
            'op.create_index("ix_users_email", "users", ["email"])',
            'op.drop_index("ix_users_email", table_name="users")',
            "rename column 'users.full_name' back to 'name'",
        ),
        (
            'op.rename_table("user", "users")\n' + INDEX,
            'op.drop_index("ix_comments_post_id", table_name="comments")',
            "rename table 'users' back to 'user'",
        ),
        (
            'op.alter_column("users", "bio", type_=sa.Text(), existing_type=sa.String(200))\n'
            + INDEX,
            'op.drop_index("ix_comments_post_id", table_name="comments")',
            "revert the change to column 'users.bio'",
        ),
    ],
    ids=["column", "constraint", "column-rename", "table-rename", "type-change"],
)
def test_incomplete_downgrade_fires(upgrade: str, downgrade: str, missing: str) -> None:
    [message] = incomplete(alembic(upgrade, downgrade))
    assert f"Downgrade does not {missing}:" in message


@pytest.mark.parametrize(
    ("upgrade", "downgrade"),
    [
        pytest.param(
            f"{POSTS}\n{TAGS}", 'op.drop_table("tags")\nop.drop_table("posts")', id="complete"
        ),
        pytest.param(
            f"{POSTS}\n{TAGS}",
            'op.drop_table("tags")\nraise NotImplementedError("posts cannot be dropped")',
            id="raises-not-implemented",
        ),
        pytest.param(f"{POSTS}\n{TAGS}", "pass", id="empty-is-another-rule"),
        pytest.param(
            f"{POSTS}\n{TAGS}",
            'op.execute("DROP TABLE tags")\nop.execute("DROP TABLE posts")',
            id="raw-sql-drops",
        ),
        pytest.param(
            'op.add_column("posts", sa.Column("user_id", sa.BigInteger()))\n'
            'op.create_index("ix_posts_user_id", "posts", ["user_id"])\n'
            'op.create_foreign_key("fk_posts_user_id", "posts", "users", ["user_id"], ["id"])',
            'op.drop_column("posts", "user_id")',
            id="dropping-the-column-drops-its-index-and-constraint",
        ),
        pytest.param(
            f"{POSTS}\n"
            'op.create_index("ix_posts_title", "posts", ["title"])\n'
            'op.create_unique_constraint("uq_posts_slug", "posts", ["slug"])',
            'op.drop_table("posts")',
            id="dropping-the-table-drops-what-is-on-it",
        ),
        pytest.param(
            'op.alter_column("users", "name", new_column_name="full_name", nullable=False)\n'
            'op.rename_table("user_roles", "roles")',
            'op.rename_table("roles", "user_roles")\n'
            'op.alter_column("users", "full_name", new_column_name="name", nullable=True)',
            id="renames-undone",
        ),
        pytest.param(
            'op.add_column("users", sa.Column("tmp", sa.Integer()))\n'
            'op.execute("UPDATE users SET tmp = 1")\n'
            'op.drop_column("users", "tmp")\n'
            'op.drop_column("users", "legacy")\n'
            'op.execute("UPDATE users SET active = true")',
            'op.add_column("users", sa.Column("legacy", sa.Text()))',
            id="temporary-column-data-and-drops-need-no-inverse",
        ),
        pytest.param(
            'with op.batch_alter_table("users") as batch_op:\n'
            '    batch_op.add_column(sa.Column("email", sa.String(255)))\n'
            '    batch_op.create_index("ix_users_email", ["email"])',
            'with op.batch_alter_table("users") as batch_op:\n'
            '    batch_op.drop_index("ix_users_email")\n'
            '    batch_op.drop_column("email")',
            id="batch",
        ),
        pytest.param(f"{POSTS}\n{TAGS}", "_drop_everything()", id="helper-function"),
        pytest.param(
            f"{POSTS}\n{TAGS}",
            'for table in ("tags", "posts"):\n    op.drop_table(table)',
            id="names-only-known-at-run-time",
        ),
    ],
)
def test_incomplete_downgrade_quiet(upgrade: str, downgrade: str) -> None:
    assert incomplete(alembic(upgrade, downgrade)) == []


def test_incomplete_downgrade_not_implemented_error_is_exposed_by_the_parser() -> None:
    migration = parse(alembic(POSTS, "raise NotImplementedError()"))
    assert migration.down is not None and migration.down.raises
    migration = parse(alembic(POSTS, 'op.drop_table("posts")'))
    assert migration.down is not None and not migration.down.raises


# --------------------------------------------------------------------------- the docs' examples

DOC_PRELUDE = (
    "from alembic import op\nimport sqlalchemy as sa\nfrom sqlalchemy.orm import Session\n"
)
DOC_RULES = {
    ROW_BY_ROW: code_rules.row_by_row_data_migration,
    SESSION_COMMIT: code_rules.session_commit_in_migration,
    INCOMPLETE: reversibility.incomplete_downgrade,
}


def _doc_blocks(doc: str, section: str) -> list[str]:
    part = doc.split(f"## {section}", 1)[1].split("\n## ", 1)[0]
    return re.findall(r"```python\n(.*?)```", part, re.S)


def _functions(code: str) -> dict[str, str]:
    """Top-level `def`s of a code block, by name, as text."""
    tree = ast.parse(code)
    lines = code.splitlines()
    return {
        node.name: "\n".join(lines[node.lineno - 1 : node.end_lineno])
        for node in tree.body
        if isinstance(node, ast.FunctionDef)
    }


@pytest.mark.parametrize("rule", list(DOC_RULES))
def test_doc_examples_fire_and_their_fixes_do_not(rule: str) -> None:
    """The "Example" fires the rule; "Use instead" (its functions replacing the example's)
    does not."""
    check_rule = DOC_RULES[rule]
    doc = check_rule.doc
    [example] = _doc_blocks(doc, "Example")
    functions = _functions(example)
    fixed = dict(functions)
    for block in _doc_blocks(doc, "Use instead"):
        fixed.update(_functions(block))

    def fired(funcs: dict[str, str]) -> bool:
        text = DOC_PRELUDE + "\n\n" + "\n\n\n".join(funcs.values()) + "\n"
        ctx = Context(parse(text), "postgresql", check_downgrade=False)
        ctx.rule = check_rule
        return bool(list(check_rule.check(ctx)))

    assert fired(functions)
    assert not fired(fixed)


def test_incomplete_downgrade_with_autogenerated_op_f_names() -> None:
    upgrade = (
        "op.add_column('users', sa.Column('nickname', sa.String(length=50), nullable=True))\n"
        "op.create_index(op.f('ix_users_nickname'), 'users', ['nickname'], unique=False)\n"
        "op.create_index(op.f('ix_orders_created_at'), 'orders', ['created_at'], unique=False)"
    )
    complete = (
        "op.drop_index(op.f('ix_orders_created_at'), table_name='orders')\n"
        "op.drop_index(op.f('ix_users_nickname'), table_name='users')\n"
        "op.drop_column('users', 'nickname')"
    )
    assert incomplete(alembic(upgrade, complete)) == []
    [message] = incomplete(alembic(upgrade, "op.drop_column('users', 'nickname')"))
    assert "Downgrade does not drop index on 'orders':" in message
