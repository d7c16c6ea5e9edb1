"""customer merges by hand, undoable

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-03 14:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'customer_merges',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('kept_id', sa.Integer(), nullable=False),
        sa.Column('dropped_id', sa.Integer(), nullable=False),
        sa.Column('identity_ids', sa.JSON(), nullable=False),
        sa.Column('ticket_ids', sa.JSON(), nullable=False),
        sa.Column('name_taken', sa.Boolean(), nullable=False),
        sa.Column('merged_by', sa.String(length=128), nullable=False),
        sa.Column('merged_at', sa.DateTime(), nullable=False),
        sa.Column('undone_by', sa.String(length=128), nullable=True),
        sa.Column('undone_at', sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(['dropped_id'], ['customers.id'],
                                name=op.f('fk_customer_merges_dropped_id_customers')),
        sa.ForeignKeyConstraint(['kept_id'], ['customers.id'],
                                name=op.f('fk_customer_merges_kept_id_customers')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_customer_merges')),
    )
    with op.batch_alter_table('customer_merges', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_customer_merges_dropped_id'), ['dropped_id'],
                              unique=False)
        batch_op.create_index(batch_op.f('ix_customer_merges_kept_id'), ['kept_id'],
                              unique=False)


def downgrade() -> None:
    op.drop_table('customer_merges')
