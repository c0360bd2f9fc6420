"""The reconciliation tables, kept in the journal's database (SQLAlchemy Core).

They are created and versioned by reconciliation's own alembic migrations
(``paymsg/reconcile/migrations``, version table ``reconcile_alembic_version``), apart
from the journal's, so the two schemas evolve independently. Amounts use the journal's
exact type (a BIGINT count of fen, read back as Decimal).
"""

from __future__ import annotations

import sqlalchemy as sa

from paymsg.journal.tables import ExactAmount, UtcDateTime

__all__ = ["breaks", "cells", "items", "metadata", "runs", "scopes"]


def _id() -> sa.types.TypeEngine[int]:
    return sa.BigInteger().with_variant(sa.Integer(), "sqlite")


metadata = sa.MetaData()

runs = sa.Table(
    "reconcile_runs",
    metadata,
    sa.Column("id", _id(), primary_key=True, autoincrement=True),
    # HVPS, BEPS, or STATEMENT
    sa.Column("scope", sa.String(16), nullable=False),
    sa.Column("check_date", sa.Date, nullable=False),
    # summary, pre (716/726), statement
    sa.Column("kind", sa.String(16), nullable=False),
    sa.Column("sources", sa.Text, nullable=False),
    # the two cut-offs: the NPC's answer time, and the journal rows created up to
    sa.Column("npc_as_of", UtcDateTime),
    sa.Column("journal_as_of", UtcDateTime, nullable=False),
    sa.Column("created_at", UtcDateTime, nullable=False),
    sa.Column("report", sa.Text),
)

cells = sa.Table(
    "reconcile_cells",
    metadata,
    sa.Column("id", _id(), primary_key=True, autoincrement=True),
    sa.Column("run_id", _id(), sa.ForeignKey("reconcile_runs.id"), nullable=False),
    sa.Column("kind", sa.String(8), nullable=False),
    sa.Column("mt", sa.String, nullable=False),
    sa.Column("tx_type", sa.String, nullable=False),
    sa.Column("cls", sa.String, nullable=False),
    sa.Column("netting_date", sa.String, nullable=False),
    sa.Column("netting_round", sa.String, nullable=False),
    sa.Column("prc_sts", sa.String, nullable=False),
    sa.Column("sent_count", sa.Integer, nullable=False),
    sa.Column("sent_amount", ExactAmount),
    sa.Column("recv_count", sa.Integer, nullable=False),
    sa.Column("recv_amount", ExactAmount),
    sa.Index("ix_reconcile_cells_run", "run_id"),
)

items = sa.Table(
    "reconcile_npc_items",
    metadata,
    sa.Column("id", _id(), primary_key=True, autoincrement=True),
    sa.Column("run_id", _id(), sa.ForeignKey("reconcile_runs.id"), nullable=False),
    sa.Column("direction", sa.String(3), nullable=False),
    sa.Column("orig_msg_id", sa.String, nullable=False),
    sa.Column("orig_mt", sa.String, nullable=False),
    sa.Column("orig_sender", sa.String, nullable=False),
    sa.Column("mt", sa.String, nullable=False),
    sa.Column("tx_type", sa.String, nullable=False),
    sa.Column("prc_sts", sa.String, nullable=False),
    sa.Column("cls", sa.String, nullable=False),
    sa.Column("netting_date", sa.String, nullable=False),
    sa.Column("netting_round", sa.String, nullable=False),
    sa.Column("dc", sa.String),
    sa.Column("amount", ExactAmount),
    sa.Column("count", sa.Integer),
    sa.Index("ix_reconcile_npc_items_run", "run_id", "direction", "orig_msg_id", "orig_mt"),
)

scopes = sa.Table(
    "reconcile_scopes",
    metadata,
    sa.Column("id", _id(), primary_key=True, autoincrement=True),
    sa.Column("run_id", _id(), sa.ForeignKey("reconcile_runs.id"), nullable=False),
    sa.Column("direction", sa.String(3), nullable=False),
    # NULL: any value
    sa.Column("mt", sa.String),
    sa.Column("tx_type", sa.String),
    sa.Column("cls", sa.String),
    sa.Column("netting_date", sa.String),
    sa.Column("netting_round", sa.String),
    sa.Index("ix_reconcile_scopes_run", "run_id"),
)

breaks = sa.Table(
    "reconcile_breaks",
    metadata,
    sa.Column("id", _id(), primary_key=True, autoincrement=True),
    sa.Column("scope", sa.String(16), nullable=False),
    sa.Column("check_date", sa.Date, nullable=False),
    # what the break is about, stable across runs (cell or message identity)
    sa.Column("key", sa.String, nullable=False),
    # missing_here, missing_at_npc, amount_differs, status_differs, duplicate
    sa.Column("kind", sa.String(16), nullable=False),
    # new, persisting, resolved, accepted
    sa.Column("status", sa.String(12), nullable=False),
    sa.Column("note", sa.Text),
    sa.Column("direction", sa.String(3)),
    sa.Column("mt", sa.String),
    sa.Column("tx_type", sa.String),
    sa.Column("msg_id", sa.String),
    sa.Column("npc_value", sa.String),
    sa.Column("our_value", sa.String),
    sa.Column("amount", ExactAmount),
    sa.Column("entry_id", _id()),
    sa.Column("detail", sa.Text, nullable=False),
    sa.Column("first_run", _id(), sa.ForeignKey("reconcile_runs.id"), nullable=False),
    sa.Column("last_run", _id(), sa.ForeignKey("reconcile_runs.id"), nullable=False),
    sa.Column("first_seen", UtcDateTime, nullable=False),
    sa.Column("last_seen", UtcDateTime, nullable=False),
    sa.Column("settled_at", UtcDateTime),
    sa.Index("ix_reconcile_breaks_day", "scope", "check_date", "status", "key"),
)
