"""add invoice due date and currency

Revision ID: 4e2d8b6a0c93
Revises: 1c9a5e3f7b21
Create Date: 2026-04-18 16:40:22.108344

"""
from alembic import op
import sqlalchemy as sa


revision = '4e2d8b6a0c93'
down_revision = '1c9a5e3f7b21'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column('invoices', sa.Column('due_date', sa.Date(), nullable=False))
    op.add_column('invoices', sa.Column('currency', sa.String(length=3), nullable=False,
                                        server_default='EUR'))
    op.create_index('ix_invoices_due_date', 'invoices', ['due_date'])
    op.create_foreign_key('fk_invoices_customer', 'invoices', 'customers',
                          ['customer_id'], ['id'])
