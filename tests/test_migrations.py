from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from tickets import migrate
from tickets.database import Database
from tickets.schema import metadata


def test_migrations_build_exactly_the_schema(db: Database) -> None:
    """A model change without a migration fails here (run `switchboard` autogenerate)."""
    with db.engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        assert compare_metadata(context, metadata) == []


def test_upgrade_is_idempotent_and_at_head(db: Database) -> None:
    migrate.upgrade(db)
    assert migrate.current(db) == migrate.head()


def test_the_head_every_command_checks_is_the_newest_script(db: Database) -> None:
    """`migrate.HEAD` lets commands skip importing Alembic; a new migration must move it."""
    assert migrate.head() == migrate.scripts_head()
    with db.engine.connect() as conn:
        assert migrate.current(db) == MigrationContext.configure(conn).get_current_revision()
