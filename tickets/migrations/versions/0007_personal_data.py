"""personal data: tickets.anonymised_at, the access and erasure log

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-03 12:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('tickets', schema=None) as batch_op:
        batch_op.add_column(sa.Column('anonymised_at', sa.DateTime(), nullable=True))
        batch_op.create_index('ix_tickets_closed_at', ['closed_at'], unique=False)
    op.create_table(
        'personal_data_log',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('at', sa.DateTime(), nullable=False),
        sa.Column('actor', sa.String(length=320), nullable=False),
        sa.Column('via', sa.String(length=16), nullable=False),
        sa.Column('action', sa.String(length=16), nullable=False),
        sa.Column('customer_id', sa.Integer(), nullable=True),
        sa.Column('detail', sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(['customer_id'], ['customers.id'],
                                name=op.f('fk_personal_data_log_customer_id_customers')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_personal_data_log')),
    )
    with op.batch_alter_table('personal_data_log', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_personal_data_log_customer_id'), ['customer_id'],
                              unique=False)


def downgrade() -> None:
    with op.batch_alter_table('personal_data_log', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_personal_data_log_customer_id'))
    op.drop_table('personal_data_log')
    with op.batch_alter_table('tickets', schema=None) as batch_op:
        batch_op.drop_index('ix_tickets_closed_at')
        batch_op.drop_column('anonymised_at')
