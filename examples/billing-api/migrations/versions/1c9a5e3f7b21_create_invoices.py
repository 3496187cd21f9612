"""create invoices

Revision ID: 1c9a5e3f7b21
Revises:
Create Date: 2026-03-02 10:14:07.512933

"""
from alembic import op
import sqlalchemy as sa


revision = '1c9a5e3f7b21'
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'invoices',
        sa.Column('id', sa.BigInteger(), primary_key=True),
        sa.Column('customer_id', sa.BigInteger(), nullable=False),
        sa.Column('amount_cents', sa.BigInteger(), nullable=False),
        sa.Column('status', sa.String(length=20), nullable=False, server_default='draft'),
        sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()')),
    )
    op.create_index('ix_invoices_customer_id', 'invoices', ['customer_id'])


def downgrade() -> None:
    op.drop_index('ix_invoices_customer_id', table_name='invoices')
    op.drop_table('invoices')
