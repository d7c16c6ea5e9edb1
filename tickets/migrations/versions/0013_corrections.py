"""corrections: people's reclassifications as labelled examples

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-03 15:40:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0013'
down_revision = '0012'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'corrections',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('ticket_id', sa.Integer(), nullable=False),
        sa.Column('message_id', sa.Integer(), nullable=True),
        sa.Column('router_category', sa.String(length=32), nullable=False),
        sa.Column('router_topic', sa.String(length=32), nullable=True),
        sa.Column('router_confidence', sa.Float(), nullable=True),
        sa.Column('router_rules', sa.JSON(), nullable=False),
        sa.Column('category', sa.String(length=32), nullable=False),
        sa.Column('topic', sa.String(length=32), nullable=True),
        sa.Column('actor', sa.String(length=128), nullable=False),
        sa.Column('via', sa.String(length=32), nullable=False),
        sa.Column('at', sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(['message_id'], ['messages.id'],
                                name=op.f('fk_corrections_message_id_messages')),
        sa.ForeignKeyConstraint(['ticket_id'], ['tickets.id'],
                                name=op.f('fk_corrections_ticket_id_tickets')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_corrections')),
    )
    with op.batch_alter_table('corrections', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_corrections_at'), ['at'], unique=False)
        batch_op.create_index(batch_op.f('ix_corrections_message_id'), ['message_id'],
                              unique=False)
        batch_op.create_index(batch_op.f('ix_corrections_ticket_id'), ['ticket_id'],
                              unique=False)


def downgrade() -> None:
    with op.batch_alter_table('corrections', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_corrections_ticket_id'))
        batch_op.drop_index(batch_op.f('ix_corrections_message_id'))
        batch_op.drop_index(batch_op.f('ix_corrections_at'))
    op.drop_table('corrections')
