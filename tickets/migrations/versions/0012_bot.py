"""the bot: order status columns, the ticket's bot state

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-03 15:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0012'
down_revision = '0011'
branch_labels = None
depends_on = None

ORDER_COLUMNS = (('status', sa.String(length=16)), ('status_at', sa.DateTime()),
                 ('carrier', sa.String(length=64)), ('tracking_code', sa.String(length=128)),
                 ('expected_at', sa.DateTime()))


def upgrade() -> None:
    with op.batch_alter_table('orders') as batch:
        for name, kind in ORDER_COLUMNS:
            batch.add_column(sa.Column(name, kind, nullable=True))
    with op.batch_alter_table('tickets') as batch:
        batch.add_column(sa.Column('bot_state', sa.String(length=16), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('tickets') as batch:
        batch.drop_column('bot_state')
    with op.batch_alter_table('orders') as batch:
        for name, _ in reversed(ORDER_COLUMNS):
            batch.drop_column(name)
