"""Schema migrations (Alembic), run from code so no alembic.ini needs to sit in the cwd.

Every table exists through a migration from the first one on, so a user upgrades in place:
`switchboard migrate` is safe to run on every start.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import Column, MetaData, PrimaryKeyConstraint, String, Table, inspect, text

from tickets import search_index
from tickets.database import Database

if TYPE_CHECKING:
    from alembic.config import Config

MIGRATIONS = Path(__file__).parent / "migrations"
# The newest revision, so that every command can check the schema without importing Alembic
# (and Mako and Pygments with it: a fifth of a second of each command's start-up); a test
# keeps it equal to what the migration scripts say.
HEAD = "0013"


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


def prepare(db: Database) -> str:
    """Bring any database to HEAD: a database without tables is created at once, one
    that has some is upgraded by its migrations. Says which ("created" or "upgraded")."""
    if create(db):
        return "created"
    upgrade(db)
    return "upgraded"


def create(db: Database) -> bool:
    """Build the whole schema in a database that has no tables, stamped at HEAD, as
    Alembic's cookbook does for new databases ("building an up to date database from
    scratch"): a CREATE per table instead of replaying every migration, and no Alembic
    import — a sixth of a second off a first start (`make run`, a first `ingest-eml`).
    False, touching nothing, when the database has tables. tests/test_migrations.py keeps
    this way and the migrations' way to the same schema."""
    from tickets.schema import metadata

    with db.engine.begin() as conn:
        if inspect(conn).get_table_names():
            return False
        metadata.create_all(conn)
        search_index.create(conn)
        # the table Alembic keeps its revision in, as Alembic itself makes it
        version = Table("alembic_version", MetaData(),
                        Column("version_num", String(32), nullable=False),
                        PrimaryKeyConstraint("version_num", name="alembic_version_pkc"))
        version.create(conn)
        conn.execute(version.insert().values(version_num=HEAD))
    return True


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
