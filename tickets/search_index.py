"""The search index's DDL, beside the tables (`schema.py`) because SQLAlchemy's metadata has
no word for it: on SQLite an FTS5 table over `messages.folded` (external content: the text
is stored once, in `messages`) kept in step by triggers, so every insert, update and delete
of a message updates the index in the same transaction; on PostgreSQL a generated column
of the folded words (`search_tsv`) with a GIN index. Made by `migrate.create` for new
databases and by migration 0008 for existing ones (which also fills `folded` for the
messages already there). SQLite drops a table's triggers with it: a later migration that
rebuilds `messages` (Alembic's batch mode copies tables) must call `create` again."""

from __future__ import annotations

from sqlalchemy import Connection, text

FTS = "messages_fts"  # and its shadow tables messages_fts_data, _idx, _docsize, _config
PG_COLUMN = "search_tsv"  # PostgreSQL: the folded words, generated from `folded`, stored
PG_INDEX = "ix_messages_search"

_SQLITE = [
    f"CREATE VIRTUAL TABLE IF NOT EXISTS {FTS} USING fts5(folded, content='messages', "
    "content_rowid='id', tokenize='unicode61 remove_diacritics 0')",
    f"CREATE TRIGGER IF NOT EXISTS messages_fts_insert AFTER INSERT ON messages BEGIN "
    f"INSERT INTO {FTS}(rowid, folded) VALUES (new.id, new.folded); END",
    f"CREATE TRIGGER IF NOT EXISTS messages_fts_delete AFTER DELETE ON messages BEGIN "
    f"INSERT INTO {FTS}({FTS}, rowid, folded) VALUES ('delete', old.id, old.folded); END",
    f"CREATE TRIGGER IF NOT EXISTS messages_fts_update AFTER UPDATE OF folded ON messages "
    f"BEGIN INSERT INTO {FTS}({FTS}, rowid, folded) VALUES ('delete', old.id, old.folded); "
    f"INSERT INTO {FTS}(rowid, folded) VALUES (new.id, new.folded); END",
]
_POSTGRES = [
    # stored, so a query the planner runs along the primary key (newest first, for a common
    # word) reads the words instead of computing them for every row it passes
    f"ALTER TABLE messages ADD COLUMN IF NOT EXISTS {PG_COLUMN} tsvector GENERATED ALWAYS "
    "AS (to_tsvector('simple', coalesce(folded, ''))) STORED",
    f"CREATE INDEX IF NOT EXISTS {PG_INDEX} ON messages USING gin ({PG_COLUMN})",
]


def create(conn: Connection) -> None:
    for statement in _SQLITE if conn.dialect.name == "sqlite" else _POSTGRES:
        conn.execute(text(statement))


def drop(conn: Connection) -> None:
    if conn.dialect.name == "sqlite":
        for name in ("messages_fts_insert", "messages_fts_delete", "messages_fts_update"):
            conn.execute(text(f"DROP TRIGGER IF EXISTS {name}"))
        conn.execute(text(f"DROP TABLE IF EXISTS {FTS}"))
    else:
        conn.execute(text(f"DROP INDEX IF EXISTS {PG_INDEX}"))
        conn.execute(text(f"ALTER TABLE messages DROP COLUMN IF EXISTS {PG_COLUMN}"))


def rebuild(conn: Connection) -> None:
    """Index what `messages.folded` holds now (SQLite; PostgreSQL's index is built by
    CREATE INDEX)."""
    if conn.dialect.name == "sqlite":
        conn.execute(text(f"INSERT INTO {FTS}({FTS}) VALUES ('rebuild')"))


def purge(conn: Connection) -> None:
    """Merge the index's segments so deleted words are gone from its pages, not merely
    marked deleted (FTS5 deletes lazily): after an erasure. Costs time in proportion to the
    index; PostgreSQL's VACUUM does the same for its GIN index."""
    if conn.dialect.name == "sqlite":
        conn.execute(text(f"INSERT INTO {FTS}({FTS}) VALUES ('optimize')"))


def is_own(name: str | None) -> bool:
    """A table or index of the search's that the metadata does not describe (for schema
    comparisons)."""
    return bool(name) and (str(name).startswith(FTS) or name in (PG_INDEX, PG_COLUMN))
