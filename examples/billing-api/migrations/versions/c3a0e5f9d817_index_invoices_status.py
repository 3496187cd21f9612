"""index invoices by status, concurrently

Revision ID: c3a0e5f9d817
Revises: 9b7f1d2c4a60
Create Date: 2026-06-11 13:27:45.001209

"""
from alembic import op
import sqlalchemy as sa


revision = 'c3a0e5f9d817'
down_revision = '9b7f1d2c4a60'
branch_labels = None
depends_on = None


def upgrade() -> None:
    # safe: built without blocking writes, outside the migration's transaction
    with op.get_context().autocommit_block():
        op.create_index('ix_invoices_status', 'invoices', ['status'],
                        postgresql_concurrently=True, if_not_exists=True)


def downgrade() -> None:
    with op.get_context().autocommit_block():
        op.drop_index('ix_invoices_status', table_name='invoices',
                      postgresql_concurrently=True, if_exists=True)
