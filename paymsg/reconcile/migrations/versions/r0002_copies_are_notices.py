"""Copies of one inbound message are notices, not breaks: accept the old ``copies|…`` breaks.

Up to r0001 a message received more than once (same sender and MesgID, kept once by the
journal) was a ``duplicate`` break with a key starting ``copies|``. Reconciliation now
lists such copies as notices, so an open break of that kind would never be found again:
a re-run would mark it resolved as if something had been fixed, and a day never run
again would keep it open forever. This revision accepts each open one with a note
saying why; settled ones keep their history.

Revision ID: r0002
Revises: r0001
Create Date: 2026-12-06
"""

from __future__ import annotations

from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

from paymsg.reconcile.tables import breaks

revision = "r0002"
down_revision = "r0001"
branch_labels = None
depends_on = None

NOTE = "a redelivered copy (same sender and MesgID): reported as a notice since r0002"


def upgrade() -> None:
    op.get_bind().execute(
        sa.update(breaks)
        .where(breaks.c.key.like("copies|%"), breaks.c.status.in_(("new", "persisting")))
        .values(status="accepted", note=NOTE, settled_at=datetime.now(UTC))
    )


def downgrade() -> None:
    op.get_bind().execute(
        sa.update(breaks)
        .where(breaks.c.key.like("copies|%"), breaks.c.note == NOTE)
        .values(status="persisting", note=None, settled_at=None)
    )
