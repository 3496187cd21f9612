"""missing-lock-timeout: where it fires, where a lock_timeout set elsewhere silences it, and its
fix in each tool's form."""

from __future__ import annotations

import ast
from pathlib import Path

from migration_lsp.engine import Workspace, analyse
from migration_lsp.fixes import apply_edits, fix_for
from migration_lsp.parse.django import parse_django
from migration_lsp.project.config import Config
from rule_helpers import alembic, check, parse, rules

RULE = "missing-lock-timeout"


def lock_rules(text: str, tool: str = "alembic", **options: object) -> list[str]:
    return [r for r in rules(text, tool=tool, select=[RULE], **options) if r == RULE]


def test_alter_on_an_existing_table_without_a_timeout() -> None:
    text = alembic("op.add_column('users', sa.Column('nickname', sa.Text()))")
    assert lock_rules(text) == [RULE]
    assert lock_rules("ALTER TABLE users ADD COLUMN nickname text;", tool="flyway") == [RULE]


def test_quiet_with_a_timeout_first_new_tables_and_concurrent_indexes() -> None:
    assert (
        lock_rules(
            "SET lock_timeout = '5s';\nALTER TABLE users ADD COLUMN nickname text;", tool="flyway"
        )
        == []
    )
    assert (
        lock_rules("CREATE TABLE t (id bigint);\nCREATE INDEX t_id ON t (id);", tool="flyway") == []
    )
    assert (
        lock_rules("CREATE INDEX CONCURRENTLY users_email ON users (email);", tool="golang-migrate")
        == []
    )
    assert lock_rules("UPDATE users SET a = 1 WHERE id = 1;", tool="flyway") == []
    text = alembic(
        "op.execute(\"SET lock_timeout = '5s'\")\n"
        "op.add_column('users', sa.Column('nickname', sa.Text()))"
    )
    assert lock_rules(text) == []


def test_quiet_on_mysql() -> None:
    assert (
        lock_rules("ALTER TABLE users ADD COLUMN nickname text;", tool="flyway", dialect="mysql")
        == []
    )


def test_a_timeout_set_in_env_py_covers_every_migration(tmp_path: Path) -> None:
    (tmp_path / "alembic.ini").write_text(
        "[alembic]\nscript_location = %(here)s/alembic\n"
        "sqlalchemy.url = postgresql://app@localhost/app\n"
    )
    versions = tmp_path / "alembic" / "versions"
    versions.mkdir(parents=True)
    env = tmp_path / "alembic" / "env.py"
    env.write_text("from alembic import context\n\ncontext.configure()\n")
    (versions / "c1_nick.py").write_text(
        alembic("op.add_column('users', sa.Column('nickname', sa.Text()))")
    )
    found = [f.rule for f in Workspace().check([tmp_path]).findings]
    assert RULE in found
    env.write_text(
        "from alembic import context\n\n"
        "def run_migrations_online():\n"
        "    with engine.connect() as connection:\n"
        "        connection.exec_driver_sql(\"SET lock_timeout = '3s'\")\n"
        "        context.configure(connection=connection)\n"
    )
    found = [f.rule for f in Workspace().check([tmp_path]).findings]
    assert RULE not in found


def _fixed(migration_text: str, migration: object) -> str:
    finding = next(f for f in analyse(migration, Config()) if f.rule == RULE)  # type: ignore[arg-type]
    fix = fix_for(finding, migration)  # type: ignore[arg-type]
    assert fix is not None and fix.title.startswith("Set lock_timeout")
    return apply_edits(migration_text, fix.edits)


def test_fix_in_sql_goes_before_the_first_locking_statement() -> None:
    text = "-- widen the plan column\nALTER TABLE accounts ALTER COLUMN plan TYPE text;\n"
    after = _fixed(text, parse(text, tool="flyway"))
    assert after == (
        "-- widen the plan column\nSET lock_timeout = '5s';\n"
        "ALTER TABLE accounts ALTER COLUMN plan TYPE text;\n"
    )
    assert RULE not in rules(after, tool="flyway", select=[RULE])


def test_fix_in_alembic_is_the_first_statement_of_upgrade() -> None:
    text = alembic(
        '"""Add the nickname."""\nop.add_column(\'users\', sa.Column(\'nickname\', sa.Text()))'
    )
    after = _fixed(text, parse(text))
    ast.parse(after)
    assert '    """Add the nickname."""\n    op.execute("SET lock_timeout = \'5s\'")\n' in after
    assert RULE not in rules(after, select=[RULE])


def test_fix_in_django_is_the_first_operation() -> None:
    text = (
        "from django.db import migrations, models\n\n\n"
        "class Migration(migrations.Migration):\n\n"
        "    dependencies = [\n        ('shop', '0001_initial'),\n    ]\n\n"
        "    operations = [\n"
        "        migrations.RemoveField(\n"
        "            model_name='order',\n"
        "            name='legacy_code',\n"
        "        ),\n"
        "    ]\n"
    )
    path = "shop/migrations/0002_remove_order_legacy_code.py"
    after = _fixed(text, parse_django(path, text, "postgresql"))
    assert (
        "    operations = [\n"
        "        migrations.RunSQL(\"SET lock_timeout = '5s'\", migrations.RunSQL.noop),\n"
        "        migrations.RemoveField(\n"
    ) in after
    found = [f.rule for f in analyse(parse_django(path, after, "postgresql"), Config())]
    assert RULE not in found


def test_postgres_version_before_11_flags_every_default() -> None:
    """Version awareness: PostgreSQL 10 rewrites the table for any default."""
    sql = "ALTER TABLE users ADD COLUMN active boolean NOT NULL DEFAULT true;"
    assert "add-column-volatile-default" not in rules(sql, tool="flyway")
    assert "add-column-volatile-default" in rules(sql, tool="flyway", postgres_version=10)


def test_set_not_null_advice_follows_the_postgres_version() -> None:
    sql = "ALTER TABLE users ALTER COLUMN email SET NOT NULL;"
    (found,) = [f for f in check(sql, tool="flyway") if f.rule == "set-not-null-on-existing-column"]
    assert "CHECK (... IS NOT NULL) NOT VALID" in found.message
    (found,) = [
        f
        for f in check(sql, tool="flyway", postgres_version=18)
        if f.rule == "set-not-null-on-existing-column"
    ]
    assert "NOT NULL ... NOT VALID" in found.message and "PostgreSQL 18" in found.message
