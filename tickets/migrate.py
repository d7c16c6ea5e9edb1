"""Schema migrations (Alembic), run from code so no alembic.ini needs to sit in the cwd.

Every table exists through a migration from the first one on, so a user upgrades in place:
`switchboard migrate` is safe to run on every start.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import inspect, text

from tickets.database import Database

if TYPE_CHECKING:
    from alembic.config import Config

MIGRATIONS = Path(__file__).parent / "migrations"
# The newest revision, so that every command can check the schema without importing Alembic
# (and Mako and Pygments with it: a fifth of a second of each command's start-up); a test
# keeps it equal to what the migration scripts say.
HEAD = "0006"


def alembic_config() -> Config:
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    return config


def upgrade(db: Database, revision: str = "head") -> None:
    from alembic import command

    config = alembic_config()
    with db.engine.begin() as conn:
        config.attributes["connection"] = conn
        command.upgrade(config, revision)


def current(db: Database) -> str | None:
    """The database's revision, read as Alembic stores it (one row in alembic_version)."""
    with db.engine.connect() as conn:
        if not inspect(conn).has_table("alembic_version"):
            return None
        return conn.execute(text("SELECT version_num FROM alembic_version")).scalar()


def head() -> str | None:
    return HEAD


def scripts_head() -> str | None:
    """What the migration scripts themselves say is newest (slow: imports them all)."""
    from alembic.script import ScriptDirectory

    return ScriptDirectory.from_config(alembic_config()).get_current_head()


def revision(db: Database, message: str) -> None:
    """Autogenerate a migration from the difference between the schema and the database
    (then set HEAD above to its revision)."""
    from alembic import command

    config = alembic_config()
    with db.engine.begin() as conn:
        config.attributes["connection"] = conn
        command.revision(config, message=message, autogenerate=True)
