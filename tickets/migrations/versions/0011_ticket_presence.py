"""ticket presence: who is answering a ticket now

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-03 14:10:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'ticket_presence',
        sa.Column('ticket_id', sa.Integer(), nullable=False),
        sa.Column('agent', sa.String(length=128), nullable=False),
        sa.Column('since', sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(['ticket_id'], ['tickets.id'],
                                name=op.f('fk_ticket_presence_ticket_id_tickets')),
        sa.PrimaryKeyConstraint('ticket_id', name=op.f('pk_ticket_presence')),
    )


def downgrade() -> None:
    op.drop_table('ticket_presence')
