"""What the journal hands out: frozen pydantic records, and the status machine.

Statuses (``docs/journal.md`` has the diagram):

outbound (``direction="out"``)
    ``created`` (in the outbox, not yet put) → ``sent`` (put on the channel; a resend
    keeps ``sent`` and counts ``resent``) → ``confirmed`` (ccms.990 success) |
    ``refused`` (ccms.990 with an error processing code) | ``timed_out`` (no 990 after
    the last resend). After that the NPC's business answer: ``rejected`` (ccms.900 with a
    rejection, ccms.911 discard), ``receipt`` (saps.604 or another receipt that is not yet
    final) → ``settled`` | ``rejected``. A business answer is accepted from ``sent`` and
    ``timed_out`` too: it proves receipt when the 990 is late or was lost.
inbound (``direction="in"``)
    ``received`` → ``delivered`` (handed to the application, exactly once) |
    ``quarantined`` (poison: the handler failed too often) → ``received`` (released);
    ``unreadable`` (the text could not be read; kept raw with the reason) →
    ``quarantined``.

A transition to the status an entry already has is accepted and changes nothing
(idempotent: a second copy of the same ccms.990 is harmless), except ``sent`` → ``sent``,
which is a resend and is counted.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Literal

from pydantic import BaseModel, ConfigDict

__all__ = [
    "INBOUND_STATUSES",
    "OUTBOUND_STATUSES",
    "TRANSITIONS",
    "AggregateRow",
    "Direction",
    "JournalEntry",
    "QuarantineRecord",
    "StatusChange",
    "StatusUpdate",
    "allowed_next",
]

Direction = Literal["out", "in"]

OUTBOUND_STATUSES = (
    "created",
    "sent",
    "confirmed",
    "refused",
    "timed_out",
    "receipt",
    "settled",
    "rejected",
)
INBOUND_STATUSES = ("received", "delivered", "quarantined", "unreadable")

#: (direction, from status) → the statuses it may move to
TRANSITIONS: dict[tuple[str, str], frozenset[str]] = {
    ("out", "created"): frozenset({"sent"}),
    # a 911 (discarded) may come instead of a 990; a late 990 may follow a resend; a
    # business answer (900, receipt) proves receipt even when its 990 is late or lost
    ("out", "sent"): frozenset(
        {"sent", "confirmed", "refused", "timed_out", "rejected", "receipt", "settled"}
    ),
    # a 990 or a business answer may arrive after we gave up; an operator may replay
    ("out", "timed_out"): frozenset(
        {"sent", "confirmed", "refused", "rejected", "receipt", "settled"}
    ),
    # an operator may replay a refused message once the cause is fixed
    ("out", "refused"): frozenset({"sent"}),
    ("out", "confirmed"): frozenset({"receipt", "settled", "rejected"}),
    ("out", "receipt"): frozenset({"receipt", "settled", "rejected"}),
    ("out", "settled"): frozenset(),
    ("out", "rejected"): frozenset(),
    ("in", "received"): frozenset({"delivered", "quarantined"}),
    ("in", "quarantined"): frozenset({"received"}),
    ("in", "unreadable"): frozenset({"quarantined"}),
    ("in", "delivered"): frozenset(),
}


def allowed_next(direction: str, status: str) -> frozenset[str]:
    """The statuses an entry of ``direction`` in ``status`` may move to."""
    return TRANSITIONS.get((direction, status), frozenset())


class _Record(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class JournalEntry(_Record):
    """One message sent or received, with what was read from it and where it stands."""

    id: int
    direction: Direction
    queue: str
    #: header OrigSender / OrigReceiver (or the body's instructing / instructed party)
    sender: str | None
    receiver: str | None
    #: HVPS, BEPS, CCMS, SAPS… (header OrigSenderSID, or the body's SysCd)
    system: str | None
    #: header MesgType, or the document type id for bare XML
    mt: str | None
    #: header MesgID / MesgRefID (通信级标识号 / 参考号)
    mesg_id: str | None
    mesg_ref_id: str | None
    #: GrpHdr/MsgId (报文标识号)
    msg_id: str | None
    #: the message this one answers: OrgnlGrpHdr OrgnlMsgId / OrgnlMT / OrgnlInstgPty
    #: (ISO: OrgnlGrpInf OrgnlMsgId / OrgnlMsgNmId)
    orig_msg_id: str | None
    orig_mt: str | None
    orig_sender: str | None
    #: the communication-level id this one answers (ccms.990 / ccms.911 ``MsgId``)
    orig_mesg_id: str | None
    #: 业务类型 (e.g. A100) and 业务种类 (e.g. 02102)
    tx_type: str | None
    category: str | None
    #: total amount: IntrBkSttlmAmt of a one-transaction message, CtrlSum of a package
    amount: Decimal | None
    currency: str | None
    nb_of_txs: int | None
    #: work date: the date part of MsgId, else the header send date
    work_date: date | None
    netting_date: date | None
    netting_round: str | None
    #: BEPS package id (the package MsgId)
    package_id: str | None
    #: processing status / code / rejection text carried by the message itself
    #: (ccms.990 MsgPrcCd; ccms.900 PrcSts, PrcCd, RjctInf; saps.604 NPCPrcInf …)
    prc_sts: str | None
    prc_cd: str | None
    rjct_inf: str | None
    status: str
    status_code: str | None
    status_detail: str | None
    repaired: bool
    #: inbound: copies received of this (sender, MesgID); outbound: resends
    copies: int
    resent: int
    #: inbound: whether the message is handed to the application (not for ccms.990)
    deliverable: bool
    attempts: int
    last_error: str | None
    delivered_at: datetime | None
    #: why the text could not be read completely (a located paymsg error), if it could not
    read_error: str | None
    #: what could not be stored as read (e.g. an amount beyond the exact range)
    notes: str | None
    #: SHA-256 of ``raw`` (duplicate detection of texts without a readable header)
    digest: str
    created_at: datetime
    updated_at: datetime
    raw: bytes


class StatusChange(_Record):
    """One step of an entry's status history."""

    id: int
    entry_id: int
    at: datetime
    from_status: str | None
    to_status: str
    code: str | None
    detail: str | None
    #: the journal entry that caused the change (the ccms.990, ccms.900, receipt …)
    related_id: int | None


class StatusUpdate(_Record):
    """One status change asked of :meth:`~paymsg.journal.Journal.set_status_many` (the
    arguments of :meth:`~paymsg.journal.Journal.set_status`)."""

    entry_id: int
    status: str
    code: str | None = None
    detail: str | None = None
    #: the journal entry that caused the change (the ccms.990, ccms.900, receipt …)
    related_id: int | None = None
    #: set (or clear) the entry's ``repaired`` flag; None keeps it
    repaired: bool | None = None


class QuarantineRecord(_Record):
    """A poison message set aside with the reason, never lost."""

    id: int
    queue: str
    body: bytes
    reason: str
    entry_id: int | None
    created_at: datetime
    released_at: datetime | None


class AggregateRow(_Record):
    """Count and sum of amounts of one (direction, mt, tx_type, status) group."""

    direction: Direction
    mt: str | None
    tx_type: str | None
    status: str
    count: int
    #: sum of the amounts of the group's entries that have one (exact)
    amount: Decimal
    #: entries in the group without an amount (e.g. a ccms.990)
    without_amount: int
