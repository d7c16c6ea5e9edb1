"""ticket links: parent, child, related

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-03 13:30:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'ticket_links',
        sa.Column('ticket_id', sa.Integer(), nullable=False),
        sa.Column('other_id', sa.Integer(), nullable=False),
        sa.Column('kind', sa.String(length=16), nullable=False),
        sa.Column('created_by', sa.String(length=128), nullable=False),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(['other_id'], ['tickets.id'],
                                name=op.f('fk_ticket_links_other_id_tickets')),
        sa.ForeignKeyConstraint(['ticket_id'], ['tickets.id'],
                                name=op.f('fk_ticket_links_ticket_id_tickets')),
        sa.PrimaryKeyConstraint('ticket_id', 'other_id', name=op.f('pk_ticket_links')),
    )


def downgrade() -> None:
    op.drop_table('ticket_links')
