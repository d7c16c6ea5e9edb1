"""Alembic environment: migrations run on the connection `switchboard migrate` hands over.

`render_as_batch` lets ALTER-style migrations work on SQLite (which rewrites tables).
"""

from __future__ import annotations

from alembic import context

from tickets import search_index
from tickets.schema import metadata

connection = context.config.attributes.get("connection")
if connection is None:
    raise RuntimeError("run migrations through `switchboard migrate`, which passes a connection")

context.configure(
    connection=connection,
    target_metadata=metadata,
    render_as_batch=True,
    compare_type=True,
    # the search index is DDL of its own (tickets/search_index.py), not in the metadata
    include_name=lambda name, kind, parent: not search_index.is_own(name),
)
with context.begin_transaction():
    context.run_migrations()
