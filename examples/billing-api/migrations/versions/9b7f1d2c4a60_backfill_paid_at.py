"""backfill paid_at

Revision ID: 9b7f1d2c4a60
Revises: 4e2d8b6a0c93
Create Date: 2026-05-07 09:02:51.770012

"""
from alembic import op
import sqlalchemy as sa


revision = '9b7f1d2c4a60'
down_revision = '4e2d8b6a0c93'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column('invoices', sa.Column('paid_at', sa.DateTime(timezone=True), nullable=True))
    # copy the payment date over in batches
    batch_size = 1000
    while True:
        result = op.execute(f"""
            UPDATE invoices SET paid_at = updated_at
            WHERE status = 'paid' AND paid_at IS NULL
            LIMIT {batch_size}
        """)
        if result.rowcount == 0:
            break
    op.execute("UPDATE invoices SET status = 'open' WHERE status IS NULL")
    op.alter_column('invoices', 'status', nullable=False, existing_type=sa.String(length=20))


def downgrade() -> None:
    pass
