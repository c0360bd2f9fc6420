"""The message journal: one SQL store of every CNAPS2 message sent or received.

SQLAlchemy Core on SQLite (a file, the default) or PostgreSQL (``postgresql://…``,
psycopg 3), with versioned migrations (alembic, shipped inside the package) that run to
head when a :class:`Journal` opens. Transport writes it (the outbox before a put, the
inbox with duplicate detection, exactly-once delivery to the application, the
quarantine); reconciliation and routing read it (:meth:`Journal.query`,
:meth:`Journal.aggregates`). ``docs/journal.md`` describes the schema, the statuses and
the durability settings.

``import paymsg`` does not import this package (nor SQLAlchemy); import it explicitly::

    from paymsg.journal import Journal
    journal = Journal("sqlite:///paymsg-journal.db")
"""

from paymsg.journal.migrate import head as schema_head
from paymsg.journal.records import (
    INBOUND_STATUSES,
    OUTBOUND_STATUSES,
    TRANSITIONS,
    AggregateRow,
    JournalEntry,
    QuarantineRecord,
    StatusChange,
    StatusUpdate,
    allowed_next,
)
from paymsg.journal.store import DEFAULT_URL, DeliveryHandler, Journal, normalize_url

__all__ = [
    "DEFAULT_URL",
    "INBOUND_STATUSES",
    "OUTBOUND_STATUSES",
    "TRANSITIONS",
    "AggregateRow",
    "DeliveryHandler",
    "Journal",
    "JournalEntry",
    "QuarantineRecord",
    "StatusChange",
    "StatusUpdate",
    "allowed_next",
    "normalize_url",
    "schema_head",
]
