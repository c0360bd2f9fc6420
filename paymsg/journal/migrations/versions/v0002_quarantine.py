"""The quarantine: poison messages set aside with the reason, never lost.

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from paymsg.journal.tables import UtcDateTime

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def _id() -> sa.types.TypeEngine[int]:
    return sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "journal_quarantine",
        sa.Column("id", _id(), primary_key=True, autoincrement=True),
        sa.Column("queue", sa.String, nullable=False),
        sa.Column("body", sa.LargeBinary, nullable=False),
        sa.Column("reason", sa.Text, nullable=False),
        sa.Column(
            "entry_id",
            _id(),
            sa.ForeignKey("journal_entries.id", name="fk_quarantine_entry"),
        ),
        sa.Column("created_at", UtcDateTime, nullable=False),
        sa.Column("released_at", UtcDateTime),
    )
    op.create_index("ix_journal_quarantine_open", "journal_quarantine", ["released_at", "id"])


def downgrade() -> None:
    op.drop_table("journal_quarantine")
