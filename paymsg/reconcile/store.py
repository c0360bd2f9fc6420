"""Reconciliation's schema in the journal database: created and migrated by its own
alembic scripts (version table ``reconcile_alembic_version``), in one exclusive
transaction like the journal's (``BEGIN IMMEDIATE`` on SQLite, an advisory lock on
PostgreSQL), so two processes opening it at once never race."""

from __future__ import annotations

from functools import cache
from pathlib import Path

import sqlalchemy as sa
from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory

__all__ = ["head", "upgrade"]

SCRIPTS = Path(__file__).with_name("migrations")
VERSION_TABLE = "reconcile_alembic_version"
ADVISORY_LOCK = int.from_bytes(b"paymsgRC", "big") & 0x7FFF_FFFF_FFFF_FFFF


def _config(connection: sa.Connection | None = None) -> Config:
    config = Config()
    config.set_main_option("script_location", str(SCRIPTS))
    config.set_main_option("version_table", VERSION_TABLE)
    if connection is not None:
        config.attributes["connection"] = connection
    return config


@cache
def head() -> str:
    """The newest reconcile schema revision."""
    revision = ScriptDirectory.from_config(_config()).get_current_head()
    assert revision is not None
    return revision


def current(connection: sa.Connection) -> str | None:
    context = MigrationContext.configure(connection, opts={"version_table": VERSION_TABLE})
    return context.get_current_revision()


def upgrade(engine: sa.Engine) -> str:
    """Create or migrate reconciliation's tables to head; a no-op when already there."""
    with engine.begin() as connection:
        if connection.dialect.name == "postgresql":
            connection.execute(
                sa.text("SELECT pg_advisory_xact_lock(:key)"), {"key": ADVISORY_LOCK}
            )
        if current(connection) != head():
            command.upgrade(_config(connection), "head")
        reached = current(connection)
    assert reached is not None
    return reached
