"""Reconciliation runs, the NPC's cells, items and detail scopes, and the breaks.

Revision ID: r0001
Revises:
Create Date: 2026-12-06
"""

from __future__ import annotations

from alembic import op

from paymsg.reconcile.tables import breaks, cells, items, runs, scopes

revision = "r0001"
down_revision = None
branch_labels = None
depends_on = None

TABLES = (runs, cells, items, scopes, breaks)


def upgrade() -> None:
    bind = op.get_bind()
    # r0001 is the first revision: its tables are exactly these definitions
    for table in TABLES:
        table.create(bind)


def downgrade() -> None:
    bind = op.get_bind()
    for table in reversed(TABLES):
        table.drop(bind)
