"""The outbox/inbox: one row per message sent or received, and its status history.

Revision ID: 0001
Revises:
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from paymsg.journal.tables import ExactAmount, UtcDateTime

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def _id() -> sa.types.TypeEngine[int]:
    return sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "journal_entries",
        sa.Column("id", _id(), primary_key=True, autoincrement=True),
        sa.Column("direction", sa.String(3), nullable=False),
        sa.Column("queue", sa.String, nullable=False),
        sa.Column("sender", sa.String),
        sa.Column("receiver", sa.String),
        sa.Column("system", sa.String),
        sa.Column("mt", sa.String),
        sa.Column("mesg_id", sa.String),
        sa.Column("mesg_ref_id", sa.String),
        sa.Column("msg_id", sa.String),
        sa.Column("orig_msg_id", sa.String),
        sa.Column("orig_mt", sa.String),
        sa.Column("orig_sender", sa.String),
        sa.Column("orig_mesg_id", sa.String),
        sa.Column("tx_type", sa.String),
        sa.Column("category", sa.String),
        sa.Column("amount", ExactAmount),
        sa.Column("currency", sa.String(3)),
        sa.Column("nb_of_txs", sa.Integer),
        sa.Column("work_date", sa.Date),
        sa.Column("netting_date", sa.Date),
        sa.Column("netting_round", sa.String),
        sa.Column("package_id", sa.String),
        sa.Column("prc_sts", sa.String),
        sa.Column("prc_cd", sa.String),
        sa.Column("rjct_inf", sa.Text),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("status_code", sa.String),
        sa.Column("status_detail", sa.Text),
        sa.Column("repaired", sa.Boolean, nullable=False),
        sa.Column("copies", sa.Integer, nullable=False),
        sa.Column("resent", sa.Integer, nullable=False),
        sa.Column("deliverable", sa.Boolean, nullable=False),
        sa.Column("attempts", sa.Integer, nullable=False),
        sa.Column("last_error", sa.Text),
        sa.Column("delivered_at", UtcDateTime),
        sa.Column("read_error", sa.Text),
        sa.Column("notes", sa.Text),
        sa.Column("digest", sa.String(64), nullable=False),
        sa.Column("created_at", UtcDateTime, nullable=False),
        sa.Column("updated_at", UtcDateTime, nullable=False),
        sa.Column("raw", sa.LargeBinary, nullable=False),
    )
    op.create_index(
        "uq_journal_entries_mesg",
        "journal_entries",
        ["direction", "sender", "mesg_id"],
        unique=True,
    )
    op.create_index(
        "uq_journal_entries_headerless",
        "journal_entries",
        ["direction", "digest"],
        unique=True,
        sqlite_where=sa.text("mesg_id IS NULL"),
        postgresql_where=sa.text("mesg_id IS NULL"),
    )
    op.create_index(
        "ix_journal_entries_recon",
        "journal_entries",
        ["work_date", "system", "direction", "mt", "tx_type", "status"],
    )
    op.create_index("ix_journal_entries_msg", "journal_entries", ["msg_id", "mt"])
    op.create_index("ix_journal_entries_orig", "journal_entries", ["orig_msg_id", "orig_mt"])
    op.create_index("ix_journal_entries_package", "journal_entries", ["package_id"])
    op.create_index("ix_journal_entries_status", "journal_entries", ["direction", "status", "id"])

    op.create_table(
        "journal_status_history",
        sa.Column("id", _id(), primary_key=True, autoincrement=True),
        sa.Column(
            "entry_id",
            _id(),
            sa.ForeignKey("journal_entries.id", name="fk_history_entry"),
            nullable=False,
        ),
        sa.Column("at", UtcDateTime, nullable=False),
        sa.Column("from_status", sa.String(16)),
        sa.Column("to_status", sa.String(16), nullable=False),
        sa.Column("code", sa.String),
        sa.Column("detail", sa.Text),
        sa.Column(
            "related_id",
            _id(),
            sa.ForeignKey("journal_entries.id", name="fk_history_related"),
        ),
    )
    op.create_index("ix_journal_status_history_entry", "journal_status_history", ["entry_id", "id"])


def downgrade() -> None:
    op.drop_table("journal_status_history")
    op.drop_table("journal_entries")
