"""Versioned schema migrations (alembic), shipped in the package and run from code.

:func:`upgrade` brings a database to :func:`head` inside **one** transaction that
excludes every other opener: ``BEGIN IMMEDIATE`` on SQLite (the database's write lock;
SQLite DDL is transactional), ``pg_advisory_xact_lock`` on PostgreSQL (DDL is
transactional there too). Two processes opening a new journal at once therefore never
race: the second waits, then finds the schema at head and does nothing.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

import sqlalchemy as sa
from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory

__all__ = ["current", "head", "upgrade"]

#: the alembic scripts inside the package
SCRIPTS = Path(__file__).with_name("migrations")
#: key of the PostgreSQL advisory lock held while migrating ("paymsg.journal" as an int)
ADVISORY_LOCK = int.from_bytes(b"paymsgJL", "big") & 0x7FFF_FFFF_FFFF_FFFF


def _config(connection: sa.Connection | None = None) -> Config:
    config = Config()
    config.set_main_option("script_location", str(SCRIPTS))
    config.set_main_option("version_table", "journal_alembic_version")
    if connection is not None:
        config.attributes["connection"] = connection
    return config


@cache
def head() -> str:
    """The newest schema revision this paymsg knows."""
    revision = ScriptDirectory.from_config(_config()).get_current_head()
    assert revision is not None
    return revision


def revisions() -> list[str]:
    """Every known revision, oldest first."""
    script = ScriptDirectory.from_config(_config())
    return [r.revision for r in reversed(list(script.walk_revisions()))]


def current(connection: sa.Connection) -> str | None:
    """The revision the database is at (None: no journal tables yet)."""
    context = MigrationContext.configure(
        connection, opts={"version_table": "journal_alembic_version"}
    )
    return context.get_current_revision()


def upgrade(engine: sa.Engine, target: str = "head") -> str:
    """Migrate the database to ``target`` (default: head); returns the revision reached.

    Runs in one exclusive transaction (see the module docstring); a no-op when the
    database is already there.
    """
    with engine.begin() as connection:
        if connection.dialect.name == "postgresql":
            connection.execute(
                sa.text("SELECT pg_advisory_xact_lock(:key)"), {"key": ADVISORY_LOCK}
            )
        wanted = head() if target == "head" else target
        if current(connection) != wanted:
            command.upgrade(_config(connection), target)
        reached = current(connection)
    assert reached is not None
    return reached
