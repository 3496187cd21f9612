"""identifier-too-long's rename, statements-after-access-exclusive's advice, and the inverses
incomplete-downgrade adds."""

from __future__ import annotations

import ast

from migration_lsp.engine import analyse
from migration_lsp.findings import Applicability
from migration_lsp.fixes import apply_edits, fix_for
from migration_lsp.fixes.statements import short_identifier
from migration_lsp.parse.alembic import parse_alembic
from migration_lsp.parse.sql_files import parse_sql_migration
from migration_lsp.project.config import Config

LONG = "ix_invoices_billing_period_start_customer_id_subscription_id_plan_id"


def test_short_identifier_fits_and_stays_distinct() -> None:
    short = short_identifier(LONG)
    assert len(short.encode()) <= 63
    assert short.startswith("ix_invoices_billing_period_start_customer_id_")
    assert short != short_identifier(LONG + "_2")
    assert len(short_identifier("é" * 40).encode()) <= 63


def test_long_index_name_is_renamed_everywhere_in_the_file() -> None:
    text = (
        "-- +goose Up\n"
        f"CREATE INDEX {LONG} ON invoices (billing_period_start, customer_id);\n"
        "-- +goose Down\n"
        f"DROP INDEX {LONG};\n"
    )
    path = "db/migrations/20260601_invoices.sql"
    migration = parse_sql_migration(path, text, "goose", "postgresql")
    finding = next(f for f in analyse(migration, Config()) if f.rule == "identifier-too-long")
    fix = fix_for(finding, migration)
    assert fix is not None and fix.applicability is Applicability.UNSAFE
    after = apply_edits(text, fix.edits)
    short = short_identifier(LONG)
    assert after.count(short) == 2 and LONG not in after
    again = parse_sql_migration(path, after, "goose", "postgresql")
    assert "identifier-too-long" not in {f.rule for f in analyse(again, Config())}


def test_long_index_name_in_alembic_keeps_its_quotes() -> None:
    text = (
        "from alembic import op\n\n\n"
        "def upgrade():\n"
        f"    op.create_index('{LONG}', 'invoices', ['billing_period_start'])\n\n\n"
        "def downgrade():\n"
        f"    op.drop_index('{LONG}', table_name='invoices')\n"
    )
    migration = parse_alembic("alembic/versions/ab12_invoices.py", text, "postgresql")
    finding = next(f for f in analyse(migration, Config()) if f.rule == "identifier-too-long")
    fix = fix_for(finding, migration)
    assert fix is not None
    after = apply_edits(text, fix.edits)
    ast.parse(after)
    assert f"op.create_index('{short_identifier(LONG)}', 'invoices'" in after
    assert f"op.drop_index('{short_identifier(LONG)}', table_name" in after


def test_long_column_names_are_not_renamed() -> None:
    column = "c" * 70
    text = f"ALTER TABLE invoices ADD COLUMN {column} text;\n"
    migration = parse_sql_migration("V2__long.sql", text, "flyway", "postgresql")
    finding = next(f for f in analyse(migration, Config()) if f.rule == "identifier-too-long")
    assert fix_for(finding, migration) is None


def test_statements_after_an_exclusive_lock_get_advice() -> None:
    text = (
        "ALTER TABLE accounts ADD COLUMN note text;\n"
        "UPDATE settings SET value = '1' WHERE key = 'x';\n"
    )
    migration = parse_sql_migration("V3__note.sql", text, "flyway", "postgresql")
    findings = analyse(migration, Config())
    finding = next(f for f in findings if f.rule == "statements-after-access-exclusive")
    fix = fix_for(finding, migration)
    assert fix is not None and fix.applicability is Applicability.DISPLAY
    assert fix.edits == [] and "migration of its own" in fix.title


def test_incomplete_downgrade_gets_the_missing_inverses_first() -> None:
    text = (
        '"""add posts\n\nRevision ID: b1\nRevises: a1\n"""\n'
        "from alembic import op\nimport sqlalchemy as sa\n\n"
        "revision = 'b1'\ndown_revision = 'a1'\n\n\n"
        "def upgrade() -> None:\n"
        "    op.create_table('posts', sa.Column('id', sa.BigInteger(), primary_key=True))\n"
        "    op.add_column('users', sa.Column('bio', sa.Text(), nullable=True))\n"
        "    op.create_index('ix_users_bio', 'users', ['bio'])\n\n\n"
        "def downgrade() -> None:\n"
        "    op.drop_table('posts')\n"
    )
    config = Config(select=("incomplete-downgrade",))
    migration = parse_alembic("alembic/versions/b1_posts.py", text, "postgresql")
    (finding,) = analyse(migration, config)
    fix = fix_for(finding, migration)
    assert fix is not None and fix.applicability is Applicability.UNSAFE
    after = apply_edits(text, fix.edits)
    assert after.endswith(
        "def downgrade() -> None:\n"
        "    op.drop_index('ix_users_bio', table_name='users')\n"
        "    op.drop_column('users', 'bio')\n"
        "    op.drop_table('posts')\n"
    )
    fixed = parse_alembic("alembic/versions/b1_posts.py", after, "postgresql")
    assert analyse(fixed, config) == []
