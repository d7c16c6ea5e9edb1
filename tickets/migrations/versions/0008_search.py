"""search: messages.folded and its index (FTS5 on SQLite, GIN on PostgreSQL)

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-03 13:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from tickets import search, search_index

revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None

BATCH = 5_000


def upgrade() -> None:
    with op.batch_alter_table('messages', schema=None) as batch_op:
        batch_op.add_column(sa.Column('folded', sa.Text(), nullable=True))
    conn = op.get_bind()
    last = 0
    while True:  # the messages already there, folded in batches
        rows = conn.execute(sa.text(
            "SELECT id, subject, text FROM messages WHERE id > :last ORDER BY id LIMIT :n"),
            {"last": last, "n": BATCH}).all()
        if not rows:
            break
        conn.execute(sa.text("UPDATE messages SET folded = :f WHERE id = :i"),
                     [{"i": r[0], "f": search.folded(r[1], r[2])} for r in rows])
        last = rows[-1][0]
    search_index.create(conn)
    search_index.rebuild(conn)


def downgrade() -> None:
    search_index.drop(op.get_bind())
    with op.batch_alter_table('messages', schema=None) as batch_op:
        batch_op.drop_column('folded')
