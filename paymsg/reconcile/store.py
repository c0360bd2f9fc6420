"""Reconciliation's schema in the journal database: created and migrated by its own
alembic scripts (version table ``reconcile_alembic_version``), in one exclusive
transaction like the journal's (``BEGIN IMMEDIATE`` on SQLite, an advisory lock on
PostgreSQL), so two processes opening it at once never race."""

from __future__ import annotations

from pathlib import Path

import sqlalchemy as sa

from paymsg.journal.migrate import Migrations

__all__ = ["head", "upgrade"]

#: the lock key is "paymsgRC" as an int
RECONCILE = Migrations(
    Path(__file__).with_name("migrations"),
    "reconcile_alembic_version",
    int.from_bytes(b"paymsgRC", "big") & 0x7FFF_FFFF_FFFF_FFFF,
)


def head() -> str:
    """The newest reconcile schema revision."""
    return RECONCILE.head


def upgrade(engine: sa.Engine) -> str:
    """Create or migrate reconciliation's tables to head; a no-op when already there."""
    return RECONCILE.upgrade(engine)
