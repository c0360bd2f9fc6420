"""The journal's tables (SQLAlchemy Core) and its two exact column types.

This is the *current* schema, used to build queries. The database gets it from the
versioned migrations in ``paymsg/journal/migrations/versions``; a test checks that
migrating an empty database to head gives exactly these tables.

Amounts are stored as integer minor units of CNY, i.e. fen (分, 0.01) (:class:`ExactAmount`):
exact on SQLite (whose NUMERIC would pass through a float) and on PostgreSQL alike, and
summed exactly by SQL ``SUM``. Every CNAPS2 amount is CNY with at most 2 decimals, and
one row holds up to ±92,233,720,368,547,758.07 (9.2·10¹⁶), which covers every value the
CNAPS2 and ISO amount types allow with 2 decimals (totalDigits 18), and any daily sum. An
amount with more decimals (an ISO message in a 3-decimal currency, a CtrlSum such as
``1.0000001``) is not rounded: the column stays empty and the entry's ``notes`` say why.
Timestamps are UTC (:class:`UtcDateTime`).
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Dialect

__all__ = [
    "AMOUNT_SCALE",
    "MAX_AMOUNT",
    "ExactAmount",
    "UtcDateTime",
    "entries",
    "fits_amount",
    "metadata",
    "quarantine",
    "status_history",
]

#: amounts are stored as integer multiples of 10**-AMOUNT_SCALE (fen)
AMOUNT_SCALE = 2
#: the largest amount one row can hold (a signed 64-bit count of fen)
MAX_AMOUNT = Decimal(2**63 - 1).scaleb(-AMOUNT_SCALE)


def fits_amount(value: Decimal) -> bool:
    """Whether ``value`` can be stored exactly (≤ 2 decimals, within ±:data:`MAX_AMOUNT`)."""
    if not value.is_finite() or abs(value) > MAX_AMOUNT:
        return False
    units = value.scaleb(AMOUNT_SCALE)
    return units == units.to_integral_value()


def amount_from_units(units: int | Decimal) -> Decimal:
    """The Decimal of a count of fen, with 2 decimals (``1280000.00``)."""
    if isinstance(units, Decimal) and units != units.to_integral_value():
        raise ValueError(f"{units} is not a whole number of fen")
    return Decimal(int(units)).scaleb(-AMOUNT_SCALE)


class ExactAmount(sa.TypeDecorator[Decimal]):
    """A Decimal amount stored as a BIGINT count of fen (0.01); never a float."""

    impl = sa.BigInteger
    cache_ok = True

    def process_bind_param(self, value: Any, dialect: Dialect) -> int | None:
        if value is None:
            return None
        if not isinstance(value, Decimal):
            raise TypeError(f"amounts are Decimal, not {type(value).__name__}")
        if not fits_amount(value):
            raise ValueError(f"amount {value} cannot be stored exactly (2 decimals, ±9.2e16)")
        return int(value.scaleb(AMOUNT_SCALE))

    def process_result_value(self, value: Any, dialect: Dialect) -> Decimal | None:
        if value is None:
            return None
        if isinstance(value, float):  # pragma: no cover - SQL SUM of BIGINT is never a float
            raise TypeError("the database returned a float for an amount")
        return amount_from_units(value)


class UtcDateTime(sa.TypeDecorator[datetime]):
    """A timezone-aware UTC timestamp (stored naive-UTC on SQLite, timestamptz on PostgreSQL)."""

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if not isinstance(value, datetime) or value.tzinfo is None:
            raise ValueError("journal timestamps are timezone-aware datetimes")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        assert isinstance(value, datetime)
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


def _id() -> sa.types.TypeEngine[int]:
    # SQLite's INTEGER PRIMARY KEY is its rowid (64-bit); BIGINT elsewhere
    return sa.BigInteger().with_variant(sa.Integer(), "sqlite")


metadata = sa.MetaData()

entries = sa.Table(
    "journal_entries",
    metadata,
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
    sa.Column("repaired", sa.Boolean, nullable=False, default=False),
    sa.Column("copies", sa.Integer, nullable=False, default=1),
    sa.Column("resent", sa.Integer, nullable=False, default=0),
    sa.Column("deliverable", sa.Boolean, nullable=False, default=False),
    sa.Column("attempts", sa.Integer, nullable=False, default=0),
    sa.Column("last_error", sa.Text),
    sa.Column("delivered_at", UtcDateTime),
    sa.Column("read_error", sa.Text),
    sa.Column("notes", sa.Text),
    sa.Column("digest", sa.String(64), nullable=False),
    sa.Column("created_at", UtcDateTime, nullable=False),
    sa.Column("updated_at", UtcDateTime, nullable=False),
    sa.Column("raw", sa.LargeBinary, nullable=False),
    # duplicate detection by the communication-level id (contract: atomic, by constraint)
    sa.Index("uq_journal_entries_mesg", "direction", "sender", "mesg_id", unique=True),
    # texts without a readable header: identical text = the same message
    sa.Index(
        "uq_journal_entries_headerless",
        "direction",
        "digest",
        unique=True,
        sqlite_where=sa.text("mesg_id IS NULL"),
        postgresql_where=sa.text("mesg_id IS NULL"),
    ),
    # reconciliation: one work date and system, by direction, type, 业务类型, status
    sa.Index(
        "ix_journal_entries_recon",
        "work_date",
        "system",
        "direction",
        "mt",
        "tx_type",
        "status",
    ),
    # business correlation: the original by its MsgId and type; the replies to an original
    sa.Index("ix_journal_entries_msg", "msg_id", "mt"),
    sa.Index("ix_journal_entries_orig", "orig_msg_id", "orig_mt"),
    sa.Index("ix_journal_entries_package", "package_id"),
    # the inbox queue (pending deliveries, in arrival order) and status lists
    sa.Index("ix_journal_entries_status", "direction", "status", "id"),
)

status_history = sa.Table(
    "journal_status_history",
    metadata,
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
    sa.Index("ix_journal_status_history_entry", "entry_id", "id"),
)

quarantine = sa.Table(
    "journal_quarantine",
    metadata,
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
    sa.Index("ix_journal_quarantine_open", "released_at", "id"),
)
