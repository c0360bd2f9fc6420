"""Versioned schema migrations (alembic), shipped in the package and run from code.

:meth:`Migrations.upgrade` brings a database to head inside **one** transaction that
excludes every other opener: ``BEGIN IMMEDIATE`` on SQLite (the database's write lock;
SQLite DDL is transactional), ``pg_advisory_xact_lock`` on PostgreSQL (DDL is
transactional there too). Two processes opening a new database at once therefore never
race: the second waits, then finds the schema at head and does nothing.

The journal's own schema is :data:`JOURNAL` (the module functions below); other rooms
that keep tables in the journal database (reconciliation) describe theirs with their own
:class:`Migrations` (their scripts, their version table, their lock key).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

import sqlalchemy as sa
from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory

__all__ = ["JOURNAL", "Migrations", "current", "head", "revisions", "upgrade"]


@dataclass(frozen=True)
class Migrations:
    """One set of alembic scripts shipped in the package, with its own version table and
    the key of the PostgreSQL advisory lock held while migrating."""

    scripts: Path
    version_table: str
    lock_key: int

    def config(self, connection: sa.Connection | None = None) -> Config:
        config = Config()
        config.set_main_option("script_location", str(self.scripts))
        config.set_main_option("version_table", self.version_table)
        if connection is not None:
            config.attributes["connection"] = connection
        return config

    @cached_property
    def head(self) -> str:
        """The newest revision these scripts know."""
        revision = ScriptDirectory.from_config(self.config()).get_current_head()
        assert revision is not None
        return revision

    def revisions(self) -> list[str]:
        """Every known revision, oldest first."""
        script = ScriptDirectory.from_config(self.config())
        return [r.revision for r in reversed(list(script.walk_revisions()))]

    def current(self, connection: sa.Connection) -> str | None:
        """The revision the database is at (None: none of these tables yet)."""
        context = MigrationContext.configure(connection, opts={"version_table": self.version_table})
        return context.get_current_revision()

    def upgrade(self, engine: sa.Engine, target: str = "head") -> str:
        """Migrate the database to ``target`` (default: head); returns the revision reached.

        Runs in one exclusive transaction (see the module docstring); a no-op when the
        database is already there.
        """
        with engine.begin() as connection:
            if connection.dialect.name == "postgresql":
                connection.execute(
                    sa.text("SELECT pg_advisory_xact_lock(:key)"), {"key": self.lock_key}
                )
            wanted = self.head if target == "head" else target
            if self.current(connection) != wanted:
                command.upgrade(self.config(connection), target)
            reached = self.current(connection)
        assert reached is not None
        return reached


#: the journal's schema; the lock key is "paymsgJL" as an int
JOURNAL = Migrations(
    Path(__file__).with_name("migrations"),
    "journal_alembic_version",
    int.from_bytes(b"paymsgJL", "big") & 0x7FFF_FFFF_FFFF_FFFF,
)


def head() -> str:
    """The newest journal schema revision this paymsg knows."""
    return JOURNAL.head


def revisions() -> list[str]:
    """Every known journal revision, oldest first."""
    return JOURNAL.revisions()


def current(connection: sa.Connection) -> str | None:
    """The journal revision the database is at (None: no journal tables yet)."""
    return JOURNAL.current(connection)


def upgrade(engine: sa.Engine, target: str = "head") -> str:
    """Migrate the journal to ``target`` (default: head); returns the revision reached."""
    return JOURNAL.upgrade(engine, target)
