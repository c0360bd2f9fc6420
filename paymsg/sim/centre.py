"""The CNAPS2 centre (MBFE + NPC) for one or more participants, over any :class:`Channel`.

For every message a participant puts on its IN queue the centre

1. answers at communication level with a **ccms.990** on the participant's OUT queue,
   echoing the header MesgType / MesgID / MesgRefID (reference §6.6); text whose body
   cannot be read gets the configured error code, or a **ccms.911** discard notice; text
   whose header cannot be read always gets a ccms.911 (there is no MesgID to confirm);
2. checks it: the queue belongs to the header's sender; the signature when the scenario
   gives the sender's public key; safety, XSD and ``cnaps2`` rules (``paymsg.validate``);
   a failure gets a **ccms.900** PR09 with PrcCd and RjctInf;
3. processes it: **HVPS** hvps.111/112 are settled against the sender's settlement
   account, forwarded to the receiver (header direction ``D``, a new NPC MesgID) and
   answered with a **saps.604**; **BEPS** beps.121/122 join the open netting round and
   are forwarded with ``NPCPrcInf`` (PR03, NetgDt, NetgRnd) when the round closes, the
   sender getting a ccms.900 PR03; **ccms.991** probes get a ccms.992; reconciliation
   requests are answered from the books (see :mod:`paymsg.sim.recon`).

Each batch of inbound messages of one queue (one message, with scenario faults) is
handled in one database transaction that writes its effects and every message it causes
to the outbox (the rows written together by the :class:`Work`, before the commit); the
outbox is put on the channel after the commit (one ``put_many`` per queue) and the batch
is acknowledged last (one ``ack_many``). A crash at any point loses nothing: on restart
the outbox is flushed, and a redelivered inbound message is recognised as a copy (same
sender and MesgID) — answered with a 990 again, never processed twice.
"""

from __future__ import annotations

import functools
import json
import re
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal
from types import SimpleNamespace
from typing import Any

from lxml import etree
from sqlalchemy import Connection

from paymsg.codec.api import bind_unwrapped, parse
from paymsg.codec.detect import Unwrapped, unwrap
from paymsg.codec.envelope.cnaps2 import Cnaps2Envelope, Cnaps2Header, split_envelope
from paymsg.codec.envelope.signing import SM2Verifier, load_signing_profiles, signing_profile
from paymsg.codec.json.engine import to_data
from paymsg.codec.message import BusinessEnvelope, Message
from paymsg.codec.stream.reader import PIECES_FROM
from paymsg.codec.xml.safe import local_name, namespace_of
from paymsg.errors import ConfigError, EnvelopeError, PaymsgError, SignatureError
from paymsg.reference.cnaps2 import NPC
from paymsg.sim import build
from paymsg.sim.books import MESSAGE_COLUMNS, PAYMENT_COLUMNS, Books, from_units, to_units
from paymsg.sim.clock import SimClock
from paymsg.sim.events import EventSink
from paymsg.sim.scenario import DEFAULT_BALANCE, Fault, Participant, Scenario
from paymsg.transport.channel import Channel, Delivery
from paymsg.validation import Report, validate
from paymsg.validation.engine import validate_unwrapped

__all__ = [
    "BEPS_PAYMENTS",
    "CONTROL_QUEUE",
    "HVPS_PAYMENTS",
    "Centre",
    "PaymentFacts",
    "SimulatedCrash",
    "payment_facts",
    "tree_facts",
]

#: the queue on which ``paymsg sim round-close`` / ``date-switch`` / ``stop`` talk to a
#: running centre (JSON commands, never CNAPS2 text)
CONTROL_QUEUE = "PAYMSG.SIM.CONTROL"

HVPS_PAYMENTS = frozenset({"hvps.111.001.01", "hvps.112.001.01"})
BEPS_PAYMENTS = frozenset({"beps.121.001.01", "beps.122.001.01"})

#: NPC processing statuses used by the centre (reference §8.3)
PR_RECEIVED = "PR00"  # [S1] usage: received, not final
PR_NETTED = "PR03"  # 已轧差 [C2+]
PR_SETTLED = "PR04"  # 已清算 [S1]
PR_REJECTED = "PR09"  # 已拒绝 [C2+]
PR_QUEUED = "PR12"  # 已清算排队 [S1]
PR_NETTING_QUEUED = "PR11"  # 已轧差排队 [S1]

#: ids are reserved from the books' counter in blocks (one write per block)
_ID_BLOCK = 1000


class SimulatedCrash(Exception):
    """Raised by a ``crash`` fault: the running centre is abandoned and restarted."""


@dataclass(frozen=True, slots=True)
class PaymentFacts:
    """What the centre needs from a payment message (one HVPS message or BEPS package)."""

    msg_id: str
    tx_type: str
    amount: Decimal
    currency: str
    nb_of_txs: int


def payment_facts(message: Message, data: dict[str, Any] | None = None) -> PaymentFacts:
    """Business keys and totals of an hvps.111/112 or beps.121/122 document (``data``:
    its :func:`~paymsg.codec.json.engine.to_data` form, when the caller has it already)."""
    if data is None:
        data = to_data(message.document)
    root = data[next(iter(data))]
    if "PKGGrpHdr" in root:
        group = root["PKGGrpHdr"]
        details = root.get("CstmrCdtTrfInf") or root.get("FinCdtTrfInf") or [{}]
        first = details[0] if isinstance(details, list) else details
        tx_type = first.get("PmtTpInf", {}).get("CtgyPurp", {}).get("Prtry", "")
        total = group["CtrlSum"]
        return PaymentFacts(
            group["MsgId"], tx_type, Decimal(total["#text"]), total["@Ccy"], int(group["NbOfTxs"])
        )
    group = root["GrpHdr"]
    txs = root["CdtTrfTxInf"]
    tx = txs[0] if isinstance(txs, list) else txs
    kind = tx.get("PmtTpInf", {})
    tx_type = kind.get("CtgyPurp", {}).get("Prtry") or kind.get("SvcLvl", {}).get("Prtry") or ""
    amount = tx["IntrBkSttlmAmt"]
    return PaymentFacts(
        group["MsgId"], tx_type, Decimal(amount["#text"]), amount["@Ccy"], int(group["NbOfTxs"])
    )


class RowRef:
    """The id of a row written in the current transaction, known once it is in the books
    (the :class:`Work` writes rows in batches; see :meth:`Work.flush`)."""

    __slots__ = ("id",)

    def __init__(self) -> None:
        self.id: int | None = None


def _row_id(value: int | RowRef) -> int:
    if isinstance(value, RowRef):
        assert value.id is not None, "a row id was read before its row was written"
        return value.id
    return value


@dataclass(slots=True)
class _Out:
    """An outbox row held in memory until it is put."""

    id: int | RowRef
    queue: str
    raw: bytes
    not_before: float | None = None
    hold: bool = False
    put_copies: int = 1


@dataclass(slots=True)
class Work:
    """One books transaction's worth of work: the connection, the simulated time, and the
    outgoing messages and events it caused (handed to the outbox after the commit).

    New message and payment rows, balance changes and confirmations are kept here and
    written together (a few executemany statements) by :meth:`flush`, which runs before
    the commit and before anything else reads or writes the books through :attr:`conn`
    — so every statement sees the books exactly as if each row had been written at once.
    What the centre asks about rows it wrote itself (is this MesgID known, is this payment
    a repeat, what is this balance) is answered from here."""

    db: Connection
    now: datetime
    #: sim_message id of the inbound message being handled (0 when none)
    in_id: int | RowRef = 0
    outs: list[_Out] = field(default_factory=list)
    events: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    _messages: list[tuple[dict[str, Any], RowRef]] = field(default_factory=list)
    _out_mesg_ids: set[str] = field(default_factory=set)
    _payments: list[tuple[dict[str, Any], RowRef]] = field(default_factory=list)
    _confirms: list[tuple[str, str]] = field(default_factory=list)
    _moves: dict[str, int] = field(default_factory=dict)
    #: every account's balance (books + the moves not yet written), once read
    _balances: dict[str, int] | None = None
    #: (sender, MesgID) → (id, code) of inbound rows known to exist; and keys known not to
    _inbound: dict[tuple[str, str], tuple[int | RowRef, str | None]] = field(default_factory=dict)
    _no_inbound: set[tuple[str, str]] = field(default_factory=set)
    #: business keys (sender, MT, MsgId) of payments known to exist; and keys known not to
    _paid: set[tuple[str, str, str]] = field(default_factory=set)
    _not_paid: set[tuple[str, str, str]] = field(default_factory=set)

    def event(self, name: str, **fields: Any) -> None:
        self.events.append((name, fields))

    @property
    def conn(self) -> Connection:
        """The transaction's connection, with every row kept here written first."""
        self.flush()
        return self.db

    def flush(self) -> None:
        """Write what is kept here: confirmations (of rows written before), message rows
        in order, payment rows (which name message rows), balance changes."""
        db = self.db
        if self._confirms:
            Books.confirm_outbound_many(db, self._confirms)
            self._confirms = []
        if self._messages:
            ids = Books.add_messages(db, [row for row, _ in self._messages])
            for (_, ref), row_id in zip(self._messages, ids, strict=True):
                ref.id = row_id
            self._messages = []
            self._out_mesg_ids.clear()
        if self._payments:
            rows = []
            for row, _ in self._payments:
                row["in_message_id"] = _row_id(row["in_message_id"])
                if row["forward_message_id"] is not None:
                    row["forward_message_id"] = _row_id(row["forward_message_id"])
                rows.append(row)
            ids = Books.add_payments(db, rows)
            for (_, ref), row_id in zip(self._payments, ids, strict=True):
                ref.id = row_id
            self._payments = []
        if self._moves:
            Books.add_units(db, self._moves)
            self._moves = {}

    # -- messages -----------------------------------------------------------------------

    def add_message(self, **values: Any) -> RowRef:
        """A new sim_message row (written by :meth:`flush`)."""
        ref = RowRef()
        row = MESSAGE_COLUMNS | values
        self._messages.append((row, ref))
        if row["direction"] == "in":
            key = (row["sender"], row["mesg_id"])
            self._inbound[key] = (ref, row["code"])
            self._no_inbound.discard(key)
        else:
            self._out_mesg_ids.add(row["mesg_id"])
        return ref

    def know_inbound(self, keys: list[tuple[str, str]]) -> None:
        """Read which of these (sender, MesgID) the books hold as inbound messages (one
        query), so that :meth:`find_inbound` answers for them without asking again."""
        found = Books.inbound_many(self.conn, [mesg_id for _, mesg_id in keys])
        for key, row in found.items():
            self._inbound.setdefault(key, (row.id, row.code))
        self._no_inbound.update(key for key in keys if key not in self._inbound)

    def find_inbound(self, sender: str, mesg_id: str) -> Any | None:
        """(id, code) of the inbound message with this sender and MesgID, or None."""
        key = (sender, mesg_id)
        known = self._inbound.get(key)
        if known is not None:
            row_id, code = known
            if isinstance(row_id, RowRef) and row_id.id is None:
                self.flush()
            return SimpleNamespace(id=_row_id(row_id), code=code)
        if key in self._no_inbound:
            return None
        row = Books.find_inbound(self.db, sender, mesg_id)  # rows kept here are all known
        if row is None:
            self._no_inbound.add(key)
        else:
            self._inbound[key] = (row.id, row.code)
        return row

    def confirm(self, mesg_id: str, code: str) -> None:
        """A participant's ccms.990 for outbound message ``mesg_id`` (see
        :meth:`Books.confirm_outbound`): it acts on the rows written before it."""
        if mesg_id in self._out_mesg_ids:
            self.flush()
        self._confirms.append((mesg_id, code))

    # -- payments -----------------------------------------------------------------------

    def know_payments(self, keys: list[tuple[str, str, str]]) -> None:
        """Read which of these business keys (sender, MT, MsgId) the books hold (one
        query), so that :meth:`find_payment` answers for them without asking again."""
        self._paid.update(Books.payment_keys(self.conn, [msg_id for _, _, msg_id in keys]))
        self._not_paid.update(key for key in keys if key not in self._paid)

    def find_payment(self, sender: str, mt: str, msg_id: str) -> bool:
        """Whether a payment with this business key (OrgnlGrpHdr) is in the books."""
        key = (sender, mt, msg_id)
        if key in self._paid:
            return True
        if key in self._not_paid:
            return False
        found = Books.find_payment(self.db, sender, mt, msg_id) is not None
        (self._paid if found else self._not_paid).add(key)
        return found

    def add_payment(self, **values: Any) -> RowRef:
        """A new sim_payment row (written by :meth:`flush`)."""
        ref = RowRef()
        row = PAYMENT_COLUMNS | values
        self._payments.append((row, ref))
        key = (row["sender"], row["mt"], row["msg_id"])
        self._paid.add(key)
        self._not_paid.discard(key)
        return ref

    def update_payment(self, payment_id: int | RowRef, **values: Any) -> None:
        """Change a payment row (one kept here, or one in the books)."""
        if isinstance(payment_id, RowRef) and payment_id.id is None:
            for row, ref in self._payments:
                if ref is payment_id:
                    row.update(values)
                    return
        conn = self.conn  # written first: ``values`` may name a row kept here
        resolved = {k: _row_id(v) if isinstance(v, RowRef) else v for k, v in values.items()}
        Books.update_payment(conn, _row_id(payment_id), **resolved)

    def delete_payment(self, payment_id: int | RowRef) -> None:
        conn = self.conn
        self._paid.clear()  # the key may be used again: ask the books from now on
        self._not_paid.clear()
        Books.delete_payment(conn, _row_id(payment_id))

    # -- accounts -----------------------------------------------------------------------

    def balance(self, bank: str) -> int:
        """The settlement account's balance in units (with this transaction's moves)."""
        if self._balances is None:
            self._balances = Books.balances_in(self.db)
        try:
            return self._balances[bank]
        except KeyError:
            raise ConfigError(
                f"participant {bank} has no settlement account at this centre"
            ) from None

    def move(self, debtor: str, creditor: str, units: int) -> None:
        """Debit ``debtor`` and credit ``creditor`` by ``units`` (written by :meth:`flush`;
        like :meth:`Books.move`, a bank without an account is left alone)."""
        if self._balances is None:
            self._balances = Books.balances_in(self.db)
        for bank, change in ((debtor, -units), (creditor, units)):
            if bank in self._balances:
                self._balances[bank] += change
                self._moves[bank] = self._moves.get(bank, 0) + change


@dataclass(slots=True)
class _Decision:
    """The faults that apply to one inbound message."""

    faults: list[Fault] = field(default_factory=list)

    def get(self, kind: str) -> Fault | None:
        return next((f for f in self.faults if f.kind == kind), None)


class Centre:
    """The simulated centre. Use :meth:`step` (one pass) or :meth:`run` (until told to
    stop). One thread drives a centre; the books and the channel are its own."""

    def __init__(
        self,
        channel: Channel,
        participants: list[Participant],
        *,
        books: Books,
        scenario: Scenario | None = None,
        clock: SimClock | None = None,
        events: EventSink | None = None,
        control_queue: str = CONTROL_QUEUE,
        batch: int = 50,
        commands_after: float | None = None,
    ) -> None:
        if not participants:
            raise ConfigError("the centre needs at least one participant", field="participant")
        self.channel = channel
        self.books = books
        self.scenario = scenario or Scenario()
        self.clock = clock or SimClock(self.scenario.clock.start_at(), self.scenario.clock.speed)
        self.events = events or EventSink()
        self.control_queue = control_queue
        self.participants = {p.bank: p for p in participants}
        if len(self.participants) != len(participants):
            raise ConfigError("a participant is given twice", field="participant")
        queues = [q for p in participants for q in (p.in_queue, p.out_queue)] + [control_queue]
        if len(set(queues)) != len(queues):
            raise ConfigError(
                "every participant needs its own IN and OUT queue, distinct from the control queue",
                field="participant",
            )
        self.stopped = False
        #: a command stamped before this (seconds since the epoch) was sent while no centre
        #: ran: it is set aside, not obeyed (a ``stop`` sent to no centre stopped the next
        #: one at once; a stale ``end-of-day`` would end a new day)
        self.commands_after = commands_after
        #: deliveries of one queue handled per books transaction
        self.batch = max(1, batch)
        self._pending: list[_Out] = []
        self._sent_unmarked: list[int] = []
        self._ids: tuple[int, int] = (0, 0)  # next, end (exclusive) of the reserved block
        self._verifier, self._profiles = self._signature_checks()
        self._faulty = bool(self.scenario.faults)
        for queue in queues:
            channel.declare(queue)
        self._open_books()
        self._pending = [
            _Out(r.id, r.queue, r.raw, r.not_before, bool(r.hold), r.put_copies)
            for r in books.pending_outbox()
        ]
        self.events.emit("started", self.clock.now(), pending=len(self._pending))

    # ------------------------------------------------------------------ set-up

    def _signature_checks(self) -> tuple[SM2Verifier | None, dict[str, Any] | None]:
        keys = {
            bank: cfg.public_key
            for bank, cfg in self.scenario.participants.items()
            if cfg.public_key and bank in self.participants
        }
        if not keys:
            return None, None
        profiles = None
        if self.scenario.signing_profiles:
            profiles = load_signing_profiles(self.scenario.signing_profiles)
        return SM2Verifier(keys), profiles

    def _open_books(self) -> None:
        with self.books.begin() as conn:
            for bank in self.participants:
                configured = self.scenario.participants.get(bank)
                balance = (
                    configured.balance if configured and configured.balance is not None else None
                )
                Books.open_account(conn, bank, DEFAULT_BALANCE if balance is None else balance)
            stored = Books.get_state(conn, "business_date")
            if stored is None:
                start = self.clock.now()
                first = self.scenario.clock.business_date or (
                    start.date()
                    + timedelta(
                        days=1 if start.time() >= self.scenario.day.date_switch_time() else 0
                    )
                )
                Books.set_state(conn, "business_date", first.isoformat())
                Books.set_state(conn, "beps_round", "1")
                Books.set_state(conn, "round_started", start.isoformat())
                stored = first.isoformat()
            self.business_date = date.fromisoformat(stored)
            self.beps_round = int(Books.get_state(conn, "beps_round") or "1")
            self._round_started = datetime.fromisoformat(
                Books.get_state(conn, "round_started") or self.clock.now().isoformat()
            )
            self._eod_done = Books.get_state(conn, "eod_done") == stored
            self._window_waiting = bool(Books.waiting(conn, "window"))
            self._balance_waiting = bool(Books.waiting(conn, "balance"))

    # ------------------------------------------------------------------ ids

    def new_ids(self, conn: Connection, system: str) -> build.Ids:
        number, end = self._ids
        if number >= end:
            start = int(Books.get_state(conn, "counter") or "0")
            Books.set_state(conn, "counter", str(start + _ID_BLOCK))
            number, end = start + 1, start + _ID_BLOCK + 1
        self._ids = (number + 1, end)
        return build.Ids.make(system, number, self.business_date)

    @property
    def pending(self) -> int:
        """Outgoing messages written to the outbox and not yet put (delayed, held …)."""
        return len(self._pending)

    # ------------------------------------------------------------------ the loop

    def step(self) -> int:
        """One pass: flush the outbox, run the clock's schedule, handle at most one
        message per queue (control queue included). Returns the messages handled."""
        self.flush()
        self.tick()
        handled = 0
        for participant in self.participants.values():
            deliveries = self.channel.get_many(participant.in_queue, self.batch)
            while deliveries and len(deliveries) < self.batch:  # all that is there now
                more = self.channel.get_many(participant.in_queue, self.batch - len(deliveries))
                if not more:
                    break
                deliveries.extend(more)
            if deliveries:
                self.handle_batch(participant, deliveries)
                handled += len(deliveries)
        control = self.channel.get(self.control_queue)
        if control is not None:
            self.command(control)
            handled += 1
        return handled

    def run(
        self,
        *,
        until: Callable[[], bool] | None = None,
        idle: float = 0.005,
        on_idle: Callable[[], None] | None = None,
    ) -> None:
        """Serve until a ``stop`` command (or ``until()`` is true)."""
        while not self.stopped and not (until is not None and until()):
            if self.step() == 0:
                self._mark_sent()
                if on_idle is not None:
                    on_idle()
                time.sleep(idle)
        self.flush()
        self._mark_sent()

    def flush(self) -> None:
        """Put every due outbox message (delayed ones when their time comes; one held for
        reordering after the next message to the same queue)."""
        if not self._pending:
            return
        real_now = time.time()
        keep: list[_Out] = []
        due: dict[str, tuple[list[bytes], list[int]]] = {}  # per queue, in outbox order
        for out in self._pending:
            if out.hold or (out.not_before is not None and out.not_before > real_now):
                keep.append(out)
                continue
            bodies, ids = due.setdefault(out.queue, ([], []))
            bodies.extend([out.raw] * out.put_copies)
            ids.append(_row_id(out.id))
        for queue, (bodies, ids) in due.items():  # one durable put (one commit) per queue
            self.channel.put_many(queue, bodies)
            self._sent_unmarked.extend(ids)
        released = due.keys()
        for out in keep:
            if out.hold and out.queue in released:
                out.hold = False
                self.books.release_holds(out.queue)
        self._pending = keep

    def _mark_sent(self) -> None:
        if self._sent_unmarked:
            self.books.mark_sent(self._sent_unmarked)
            self._sent_unmarked = []

    # ------------------------------------------------------------------ one message

    def handle_batch(self, participant: Participant, deliveries: list[Delivery]) -> None:
        """Handle several deliveries of one participant in one books transaction (one
        commit), then put their answers and acknowledge them. With scenario faults each
        message is handled on its own, so that crash points stay exact.

        Each message is read (parsed) once, before the transaction; the books are asked
        in one query which of the batch's MesgIDs and payment keys they know already."""
        if self._faulty:
            for delivery in deliveries:
                self.handle(participant, delivery)
            return
        batch: list[tuple[Delivery, Cnaps2Header]] = []
        reads: list[_Read] = []
        payment_keys: list[tuple[str, str, str]] = []
        for delivery in deliveries:
            reading = self._read(delivery.body)
            if isinstance(reading, _Message) and isinstance(reading.envelope, Cnaps2Envelope):
                header = reading.envelope.header  # as split_envelope reads it
            else:  # the body or the header cannot be read: which one?
                try:
                    envelope, _ = split_envelope(delivery.body)
                except EnvelopeError as exc:
                    self._unreadable_header(participant, delivery, exc)
                    continue
                header = envelope.header
            batch.append((delivery, header))
            reads.append(reading)
            if isinstance(reading, _Message) and reading.msg_id is not None:
                payment_keys.append((header.orig_sender, header.mesg_type, reading.msg_id))
        if not batch:
            return
        with self._work() as work:
            work.know_inbound([(header.orig_sender, header.mesg_id) for _, header in batch])
            work.know_payments(payment_keys)
            for (delivery, header), read in zip(batch, reads, strict=True):
                if header.mesg_type.startswith("ccms.990."):
                    self._record_990(work, participant, header, delivery.body, read)
                    continue
                existing = work.find_inbound(header.orig_sender, header.mesg_id)
                if existing is not None:
                    self._copy(work, participant, header, existing)
                else:
                    self._new_message(work, participant, header, delivery.body, _Decision(), read)
        self._finish(work)
        self.flush()
        self.channel.ack_many([delivery for delivery, _ in batch])

    def handle(self, participant: Participant, delivery: Delivery) -> None:
        """Handle one inbound delivery from ``participant`` (see the module docstring)."""
        raw = delivery.body
        try:
            envelope, _ = split_envelope(raw)
        except EnvelopeError as exc:
            self._unreadable_header(participant, delivery, exc)
            return
        header = envelope.header
        if header.mesg_type.startswith("ccms.990."):
            self._participant_990(participant, delivery, header)
            return
        decision = self._decide(header) if self._faulty else _Decision()
        crash = decision.get("crash")
        with self._work() as work:
            existing = work.find_inbound(header.orig_sender, header.mesg_id)
            if existing is not None:
                self._copy(work, participant, header, existing)
            else:
                self._new_message(work, participant, header, raw, decision)
            if crash is not None and crash.point == "before_commit":
                raise SimulatedCrash(f"scenario crash before commit ({header.mesg_id})")
        self._finish(work)
        if crash is not None and crash.point == "after_commit":
            raise SimulatedCrash(f"scenario crash after commit ({header.mesg_id})")
        self.flush()
        if crash is not None and crash.point == "after_put":
            raise SimulatedCrash(f"scenario crash after the puts ({header.mesg_id})")
        self.channel.ack(delivery)

    @contextmanager
    def _work(self) -> Iterator[Work]:
        """One books transaction: what the body keeps in its :class:`Work` is written
        before the commit; an exception rolls everything back."""
        with self.books.begin() as conn:
            work = Work(conn, self.clock.now())
            self._catch_up(work)
            yield work
            work.flush()

    def _catch_up(self, work: Work) -> None:
        """Record as sent what was put since the last transaction (saves a commit)."""
        if self._sent_unmarked:
            Books.mark_sent_in(work.db, self._sent_unmarked)
            self._sent_unmarked = []

    def _finish(self, work: Work) -> None:
        """After the commit: the outbox rows go to the in-memory queue, events are emitted."""
        for out in work.outs:
            out.id = _row_id(out.id)
        self._pending.extend(work.outs)
        for name, fields in work.events:
            self.events.emit(name, work.now, **fields)

    def _decide(self, header: Cnaps2Header) -> _Decision:
        """The faults for this message, decided once and durably (a redelivered copy gets
        the same decision; a crash fault never fires twice)."""
        sender, mt = header.orig_sender, header.mesg_type
        candidates = [(i, f) for i, f in enumerate(self.scenario.faults) if f.matches(mt, sender)]
        if not candidates:
            return _Decision()
        faults = self.scenario.faults
        with self.books.begin() as conn:
            decided = Books.fault_hits(conn, sender, header.mesg_id)
            if decided is not None:
                return _Decision([faults[i] for i in decided if faults[i].kind != "crash"])
            fired: list[Fault] = []
            for index, fault in candidates:
                number = Books.fault_match(conn, index)
                if fault.fires_at(number):
                    Books.add_fault_hit(conn, index, sender, header.mesg_id)
                    Books.fault_fired(conn, index)
                    fired.append(fault)
            Books.add_fault_hit(conn, -1, sender, header.mesg_id)
        for fault in fired:
            self.events.emit(
                "fault", self.clock.now(), kind=fault.kind, mt=mt, mesg_id=header.mesg_id
            )
        return _Decision(fired)

    def enqueue(
        self,
        work: Work,
        built: build.Built,
        bank: str,
        *,
        reply_to: str | None = None,
        code: str | None = None,
        delay: float | None = None,
        hold: bool = False,
        copies: int = 1,
    ) -> int | RowRef:
        """Write one outgoing message to the outbox (inside the transaction)."""
        participant = self.participants[bank]
        not_before = time.time() + delay if delay else None
        row_id = work.add_message(
            direction="out",
            bank=bank,
            queue=participant.out_queue,
            sender=built.sender,
            receiver=built.receiver,
            mt=built.mt,
            mesg_id=built.mesg_id,
            msg_id=built.msg_id,
            reply_to=reply_to,
            status="pending",
            code=code,
            copies=1,
            not_before=not_before,
            hold=1 if hold else 0,
            put_copies=copies,
            work_date=self.business_date.isoformat(),
            created_at=work.now.isoformat(),
            raw=built.text,
        )
        work.outs.append(_Out(row_id, participant.out_queue, built.text, not_before, hold, copies))
        return row_id

    def _record_in(
        self,
        work: Work,
        participant: Participant,
        header: Cnaps2Header,
        raw: bytes,
        *,
        status: str = "received",
        msg_id: str | None = None,
    ) -> RowRef:
        return work.add_message(
            direction="in",
            bank=participant.bank,
            queue=participant.in_queue,
            sender=header.orig_sender,
            receiver=header.orig_receiver,
            mt=header.mesg_type,
            mesg_id=header.mesg_id,
            msg_id=msg_id,
            status=status,
            copies=1,
            hold=0,
            put_copies=1,
            work_date=self.business_date.isoformat(),
            created_at=work.now.isoformat(),
            raw=raw,
        )

    def _ack_990(
        self,
        work: Work,
        participant: Participant,
        header: Cnaps2Header,
        code: str,
        decision: _Decision | None = None,
    ) -> None:
        """The communication-level answer (unless a fault drops it)."""
        if decision is not None and decision.get("drop_990") is not None:
            work.event("990_dropped", bank=participant.bank, mesg_id=header.mesg_id)
            return
        delay = decision.get("delay_990") if decision is not None else None
        built = build.comconf_990(
            header,
            code,
            ids=self.new_ids(work.db, header.orig_sender_sid),
            now=work.now,
            receiver=participant.bank,
        )
        self.enqueue(
            work,
            built,
            participant.bank,
            reply_to=header.mesg_id,
            code=code,
            delay=delay.seconds if delay is not None else None,
        )

    def _copy(self, work: Work, participant: Participant, header: Cnaps2Header, row: Any) -> None:
        """A copy of a message already received: answered again, never processed again."""
        Books.count_copy(work.conn, row.id)
        work.event("duplicate", bank=participant.bank, mt=header.mesg_type, mesg_id=header.mesg_id)
        codes = self.scenario.codes
        if codes.duplicate_reply == "911":
            self._discard(
                work, participant, header, "a message with this sender and MesgID was received"
            )
        else:
            self._ack_990(work, participant, header, row.code or codes.received)

    def _discard(
        self, work: Work, participant: Participant, header: Cnaps2Header, reason: str
    ) -> None:
        built = build.discard_911(
            orig_sender=header.orig_sender,
            orig_send_date=header.orig_send_date,
            mt=header.mesg_type,
            mesg_id=header.mesg_id,
            mesg_ref_id=header.mesg_ref_id,
            code=self.scenario.codes.discarded,
            info=reason,
            system=header.orig_sender_sid,
            ids=self.new_ids(work.db, header.orig_sender_sid),
            now=work.now,
            receiver=participant.bank,
        )
        self.enqueue(work, built, participant.bank, reply_to=header.mesg_id)
        work.event("discarded", bank=participant.bank, mesg_id=header.mesg_id, info=reason)

    def _unreadable_header(
        self, participant: Participant, delivery: Delivery, error: EnvelopeError
    ) -> None:
        """Text whose header cannot be read: kept in the books, answered with a ccms.911
        naming what could be read of it."""
        raw = delivery.body
        text = raw[:130].decode("latin-1")
        mt = text[58:78].strip() or "unknown"
        mesg_id = text[78:98].strip()
        with self._work() as work:
            number = Books.next_number(work.conn, "unreadable")
            key = f"UNREADABLE{number:010d}"
            work.add_message(
                direction="in",
                bank=participant.bank,
                queue=participant.in_queue,
                sender=participant.bank,
                receiver=NPC,
                mt=mt[:35] if mt.isprintable() and mt.isascii() else "unknown",
                mesg_id=key,
                status="unreadable",
                code=self.scenario.codes.discarded,
                copies=1,
                hold=0,
                put_copies=1,
                work_date=self.business_date.isoformat(),
                created_at=work.now.isoformat(),
                raw=raw,
            )
            safe = mesg_id if mesg_id.isascii() and mesg_id.isprintable() and mesg_id else key
            built = build.discard_911(
                orig_sender=participant.bank,
                orig_send_date=f"{work.now:%Y%m%d}",
                mt=mt if mt.isascii() and mt.isprintable() else "unknown",
                mesg_id=safe,
                mesg_ref_id=None,
                code=self.scenario.codes.discarded,
                info=f"unreadable header: {error.message}",
                system="CCMS",
                ids=self.new_ids(work.db, "CCMS"),
                now=work.now,
                receiver=participant.bank,
            )
            self.enqueue(work, built, participant.bank)
            work.event("unreadable", bank=participant.bank, info=error.message)
        self._finish(work)
        self.flush()
        self.channel.ack(delivery)

    def _participant_990(
        self, participant: Participant, delivery: Delivery, header: Cnaps2Header
    ) -> None:
        """A participant confirms a message the centre sent it. Never answered."""
        with self._work() as work:
            self._record_990(work, participant, header, delivery.body)
        self._finish(work)
        self.channel.ack(delivery)

    def _record_990(
        self,
        work: Work,
        participant: Participant,
        header: Cnaps2Header,
        body: bytes,
        read: _Read | None = None,
    ) -> None:
        """Record a participant's ccms.990 (inside the transaction) and mark the outbox
        entry it confirms ``confirmed`` / ``refused``; a copy only counts."""
        existing = work.find_inbound(header.orig_sender, header.mesg_id)
        if existing is not None:
            Books.count_copy(work.conn, existing.id)
            return
        if read is None:
            read = self._read(body)
        if isinstance(read, _Message):
            info = read.message.document.com_conf.conf_inf
            confirmed, code = info.msg_id, info.msg_prc_cd
        else:
            confirmed, code = None, None
        self._record_in(work, participant, header, body)
        if confirmed is not None and code is not None:
            work.confirm(confirmed, code)

    # ------------------------------------------------------------------ new messages

    def _new_message(
        self,
        work: Work,
        participant: Participant,
        header: Cnaps2Header,
        raw: bytes,
        decision: _Decision,
        read: _Read | None = None,
    ) -> None:
        codes = self.scenario.codes
        mt = header.mesg_type
        if read is None:
            read = self._read(raw)
        if isinstance(read, PaymsgError):
            exc = read
            in_id = self._record_in(work, participant, header, raw, status="unreadable")
            work.event("unreadable", bank=participant.bank, mesg_id=header.mesg_id, info=str(exc))
            if codes.unreadable_reply == "911":
                self._discard(work, participant, header, f"unreadable body: {exc.message}")
            else:
                self._ack_990(work, participant, header, codes.unreadable, decision)
            del in_id
            return
        msg_id = read.msg_id
        work.in_id = self._record_in(work, participant, header, raw, msg_id=msg_id)
        self._ack_990(work, participant, header, codes.received, decision)
        work.event("received", bank=participant.bank, mt=mt, mesg_id=header.mesg_id, msg_id=msg_id)

        reject = decision.get("reject")
        if reject is not None:
            self._refuse(work, participant, header, read, reject.code, reject.info)
            return
        problem = self._check(participant, header, raw, read.report)
        if problem is not None:
            code, info = problem
            self._refuse(work, participant, header, read, code, info)
            return
        if mt in HVPS_PAYMENTS:
            self._hvps(work, participant, header, read, decision)
        elif mt in BEPS_PAYMENTS:
            self._beps(work, participant, header, read, decision)
        else:
            handler = self._handlers().get(mt)
            if handler is None:
                self._refuse(
                    work,
                    participant,
                    header,
                    read,
                    codes.unsupported,
                    f"the simulator does not process {mt}",
                )
            else:
                handler(work, participant, header, read.message)

    def _read(self, raw: bytes) -> _Read:
        """Parse an inbound message once, validating its tree before it is bound (a
        ccms.990, which is never checked, only parsed). An HVPS payment that passes the
        checks and whose facts read as plain values from the tree is not bound at all
        (see :class:`_Message`)."""
        if len(raw) >= PIECES_FROM:  # may be read in pieces: parse decides how
            return self._read_large(raw)
        try:
            opened = unwrap(raw)  # as parse(raw) takes text of this size apart
        except PaymsgError as exc:
            return exc
        mt = opened.type.id
        report = None
        if not mt.startswith("ccms.990."):
            report = validate_unwrapped(raw, opened, profile_name=self.scenario.profile)
            if (
                mt in HVPS_PAYMENTS
                and isinstance(opened.envelope, Cnaps2Envelope)
                and _clean(report)
            ):
                facts = tree_facts(opened.document)
                if facts is not None:
                    return _Message(
                        mt, opened.envelope, opened.body, report, facts.msg_id, facts, None
                    )
        try:
            message = bind_unwrapped(raw, opened)
        except PaymsgError as exc:
            return exc
        return _Message.of(message, report)

    def _read_large(self, raw: bytes) -> _Read:
        """:meth:`_read` for text that the codec may read in pieces (then unchecked here:
        :meth:`_check` validates it)."""
        reports: list[Report] = []

        def check(text: bytes, opened: Unwrapped) -> None:
            if not opened.type.id.startswith("ccms.990."):
                reports.append(validate_unwrapped(text, opened, profile_name=self.scenario.profile))

        try:
            message = parse(raw, inspect=check)
        except PaymsgError as exc:
            return exc
        return _Message.of(message, reports[-1] if reports else None)

    def _handlers(self) -> dict[str, Callable[[Work, Participant, Cnaps2Header, Message], None]]:
        """Information and reconciliation requests the centre answers (by MT)."""
        from paymsg.sim import recon

        return recon.handlers(self)

    def _check(
        self,
        participant: Participant,
        header: Cnaps2Header,
        raw: bytes,
        report: Report | None = None,
    ) -> tuple[str, str] | None:
        """Queue ownership, signature, then safety / XSD / rules: (code, info) or None."""
        codes = self.scenario.codes
        if header.orig_sender != participant.bank:
            return (
                codes.check_failed,
                f"sender {header.orig_sender} put the message on {participant.bank}'s queue",
            )
        if header.mesg_direction != "U":
            return codes.check_failed, "a participant's message must have direction U"
        if self._verifier is not None and header.orig_sender in {
            b for b, c in self.scenario.participants.items() if c.public_key
        }:
            try:
                profile = signing_profile(header.mesg_type, self._profiles)
                parse(raw, verifier=self._verifier, signing_profile=profile)
            except SignatureError as exc:
                return codes.bad_signature, f"signature: {exc.message}"
        if report is None:
            report = validate(raw, profile_name=self.scenario.profile)
        errors = [f for f in report.findings if f.severity == "error"]
        if errors:
            first = errors[0]
            where = f" at {first.path}" if first.path else ""
            return codes.check_failed, f"{first.rule}{where}: {first.message}"
        return None

    def _refuse(
        self,
        work: Work,
        participant: Participant,
        header: Cnaps2Header,
        read: _Message,
        code: str,
        info: str,
        *,
        facts: PaymentFacts | None = None,
    ) -> None:
        """ccms.900 PR09 to the sender; a payment is recorded as rejected."""
        mt = header.mesg_type
        msg_id = (facts.msg_id if facts else None) or read.msg_id
        system = header.orig_sender_sid
        if facts is None:
            facts = read.facts
        if facts is not None and not work.find_payment(header.orig_sender, mt, facts.msg_id):
            self._record_payment(work, header, facts, status=PR_REJECTED, code=code, info=info)
        self._send_900(
            work, participant.bank, system, msg_id or header.mesg_id, header.orig_sender, mt,
            PR_REJECTED, code, info, reply_to=header.mesg_id,
        )  # fmt: skip
        work.event("rejected", bank=participant.bank, mt=mt, msg_id=msg_id, code=code, info=info)

    def _record_payment(
        self,
        work: Work,
        header: Cnaps2Header,
        facts: PaymentFacts,
        *,
        status: str,
        waiting: str | None = None,
        code: str | None = None,
        info: str | None = None,
        lost: bool = False,
        faults: str | None = None,
    ) -> SimpleNamespace:
        """One row in sim_payment (the caller made sure the business key is new)."""
        values = {
            "system": header.orig_sender_sid,
            "mt": header.mesg_type,
            "msg_id": facts.msg_id,
            "sender": header.orig_sender,
            "receiver": header.orig_receiver,
            "tx_type": facts.tx_type[:6],
            "amount": to_units(facts.amount),
            "nb_of_txs": facts.nb_of_txs,
            "work_date": self.business_date.isoformat(),
            "status": status,
            "waiting": waiting,
            "code": code,
            "info": (info or "")[:105] or None,
            "in_message_id": work.in_id,
            "received_at": work.now.isoformat(),
            "lost": 1 if lost else 0,
            "faults": faults,
        }
        payment_id = work.add_payment(**values)
        return SimpleNamespace(id=payment_id, **values)

    def _payment_preamble(
        self, work: Work, participant: Participant, header: Cnaps2Header, read: _Message
    ) -> PaymentFacts | None:
        """Common checks of HVPS and BEPS payments: known receiver, new business key."""
        codes = self.scenario.codes
        facts = read.facts or payment_facts(read.message)  # (raises what it raised before)
        if header.orig_receiver not in self.participants:
            self._refuse(
                work,
                participant,
                header,
                read,
                codes.unknown_receiver,
                f"receiver {header.orig_receiver} is not a participant of this centre",
            )
            return None
        if work.find_payment(header.orig_sender, header.mesg_type, facts.msg_id):
            self._send_900(
                work, participant.bank, header.orig_sender_sid, facts.msg_id,
                header.orig_sender, header.mesg_type, PR_REJECTED, codes.check_failed,
                f"MsgId {facts.msg_id} was processed already (a new MesgID, same payment)",
                reply_to=header.mesg_id, book_code=False,
            )  # fmt: skip
            work.event("rejected", bank=participant.bank, msg_id=facts.msg_id, info="repeat")
            return None
        return facts

    # ------------------------------------------------------------------ HVPS

    def _hvps(
        self,
        work: Work,
        participant: Participant,
        header: Cnaps2Header,
        read: _Message,
        decision: _Decision,
    ) -> None:
        hvps = self.scenario.hvps
        facts = self._payment_preamble(work, participant, header, read)
        if facts is None:
            return
        lost = decision.get("lose") is not None
        if not hvps.in_window(work.now):
            if hvps.outside_window == "refuse":
                self._refuse(
                    work,
                    participant,
                    header,
                    read,
                    self.scenario.codes.outside_window,
                    f"outside the HVPS operating window ({hvps.window_open}-{hvps.window_close})",
                    facts=facts,
                )
                return
            self._record_payment(
                work,
                header,
                facts,
                status=PR_RECEIVED,
                waiting="window",
                lost=lost,
                faults=_forward_faults(decision),
            )
            self._window_waiting = True
            work.event("queued", bank=participant.bank, msg_id=facts.msg_id, waiting="window")
            return
        row = self._record_payment(
            work, header, facts, status=PR_RECEIVED, lost=lost, faults=_forward_faults(decision)
        )
        self._settle(work, row, first_attempt=True, read=read)

    def _settle(
        self, work: Work, row: Any, *, first_attempt: bool, read: _Message | None = None
    ) -> bool:
        """Settle one HVPS payment (a sim_payment row) if the sender's balance covers it;
        else queue or refuse it (``read``: the payment as just read, else it is read from
        the books). Returns True when it settled."""
        payment_id = row.id
        sender, receiver = row.sender, row.receiver
        balance = work.balance(sender)
        if read is None:
            message, _ = _stored(work.conn, row.in_message_id)
            mt, envelope, body = message.type, message.envelope, message.original
        else:
            mt, envelope, body = read.type, read.envelope, read.body
        assert isinstance(envelope, Cnaps2Envelope) and body is not None
        header = envelope.header
        amount = from_units(row.amount)
        codes = self.scenario.codes
        if balance < row.amount:
            if self.scenario.hvps.short_balance == "refuse":
                work.update_payment(
                    payment_id,
                    status=PR_REJECTED,
                    waiting=None,
                    code=codes.short_balance,
                    info="insufficient balance",
                )
                self._send_900(
                    work, sender, "HVPS", row.msg_id, sender, row.mt, PR_REJECTED,
                    codes.short_balance, f"balance {from_units(balance)} does not cover {amount}",
                    reply_to=header.mesg_id,
                )  # fmt: skip
                work.event("rejected", bank=sender, msg_id=row.msg_id, code=codes.short_balance)
                return False
            if first_attempt or row.waiting != "balance":
                work.update_payment(payment_id, status=PR_QUEUED, waiting="balance")
                self._balance_waiting = True
                receipt = build.settlement_receipt_604(
                    orgnl_msg_id=row.msg_id,
                    orgnl_sender=sender,
                    orgnl_mt=row.mt,
                    processing=build.npc_processing(
                        PR_QUEUED, codes.settled, received=_moment(row.received_at)
                    ),
                    balance=from_units(balance),
                    ids=self.new_ids(work.db, "SAPS"),
                    now=work.now,
                    receiver=sender,
                )
                self.enqueue(work, receipt, sender, reply_to=header.mesg_id)
                work.event("queued", bank=sender, msg_id=row.msg_id, waiting="balance")
            return False
        work.move(sender, receiver, row.amount)
        faults = set(row.faults.split(",")) if row.faults else set()
        forward_ids = self.new_ids(work.db, "HVPS")
        forwarded = build.relay(envelope, body, mt, mesg_id=forward_ids.mesg_id, now=work.now)
        text_fault = "corrupt_signature" in faults
        if text_fault:
            forwarded = _with_text(forwarded, build.corrupt_signature(forwarded.text))
        forward_id = self.enqueue(
            work,
            forwarded,
            receiver,
            hold="reorder" in faults,
            copies=2 if "duplicate" in faults else 1,
        )
        settled = build.npc_processing(
            PR_SETTLED,
            codes.settled,
            received=_moment(row.received_at),
            sent=work.now,
            settlement_date=self.business_date,
        )
        receipt = build.settlement_receipt_604(
            orgnl_msg_id=row.msg_id,
            orgnl_sender=sender,
            orgnl_mt=row.mt,
            processing=settled,
            balance=from_units(balance - row.amount),
            ids=self.new_ids(work.db, "SAPS"),
            now=work.now,
            receiver=sender,
        )
        self.enqueue(work, receipt, sender, reply_to=header.mesg_id)
        if row.lost:
            work.delete_payment(payment_id)
            work.event("lost", bank=sender, msg_id=row.msg_id)
        else:
            work.update_payment(
                payment_id,
                status=PR_SETTLED,
                waiting=None,
                forward_message_id=forward_id,
                settled_at=work.now.isoformat(),
            )
        work.event(
            "settled", bank=sender, receiver=receiver, mt=row.mt, msg_id=row.msg_id, amount=amount
        )
        # the receiver's balance grew: its queued payments may settle now (FIFO)
        if self._balance_waiting:
            for waiting in Books.waiting(work.conn, "balance", sender=receiver):
                if not self._settle(work, waiting, first_attempt=False):
                    break
        return True

    # ------------------------------------------------------------------ BEPS

    def _beps(
        self,
        work: Work,
        participant: Participant,
        header: Cnaps2Header,
        read: _Message,
        decision: _Decision,
    ) -> None:
        facts = self._payment_preamble(work, participant, header, read)
        if facts is None:
            return
        sender, codes = participant.bank, self.scenario.codes
        limit = self._net_debit_limit(sender)
        if limit is not None:
            position = Books.round_position(work.conn, sender)
            behind = Books.waiting(work.conn, "limit", sender=sender)
            if behind or position + to_units(facts.amount) > limit:
                info = (
                    f"behind {len(behind)} package(s) queued over the net debit limit"
                    if behind
                    else f"net debit {from_units(position)} + {facts.amount} would exceed "
                    f"the limit {from_units(limit)}"
                )
                if self.scenario.beps.over_limit == "refuse":
                    self._refuse(
                        work, participant, header, read, codes.net_debit_limit, info, facts=facts
                    )  # fmt: skip
                    return
                self._record_payment(
                    work, header, facts, status=PR_NETTING_QUEUED, waiting="limit",
                    code=codes.net_debit_limit, info=info,
                    lost=decision.get("lose") is not None, faults=_forward_faults(decision),
                )  # fmt: skip
                if self.scenario.beps.notify_queued:
                    self._send_900(
                        work, sender, "BEPS", facts.msg_id, sender, header.mesg_type,
                        PR_NETTING_QUEUED, codes.net_debit_limit, info, reply_to=header.mesg_id,
                    )  # fmt: skip
                work.event("queued", bank=sender, msg_id=facts.msg_id, waiting="limit")
                return
        self._record_payment(
            work,
            header,
            facts,
            status=PR_RECEIVED,
            waiting="round",
            lost=decision.get("lose") is not None,
            faults=_forward_faults(decision),
        )
        work.event("accepted", bank=sender, msg_id=facts.msg_id, round=self.beps_round)
        # a package to the receiver lowers its net debit: its queued packages may enter
        self._release_over_limit(work, header.orig_receiver)

    def _net_debit_limit(self, bank: str) -> int | None:
        """``bank``'s BEPS net debit limit in units, or None when it has none."""
        configured = self.scenario.participants.get(bank)
        if configured is None or configured.net_debit_limit is None:
            return None
        return to_units(configured.net_debit_limit)

    def _release_over_limit(self, work: Work, bank: str) -> None:
        """Let ``bank``'s packages queued over its net debit limit into the open round,
        oldest first, while the position allows (a later one waits behind an earlier one);
        a package let in lowers its receiver's net debit, whose queue is tried in turn."""
        banks = [bank]
        while banks:
            bank = banks.pop(0)
            limit = self._net_debit_limit(bank)
            if limit is None:
                continue
            position = Books.round_position(work.conn, bank)
            for row in Books.waiting(work.conn, "limit", sender=bank):
                if position + row.amount > limit:
                    break
                position += row.amount
                work.update_payment(
                    row.id, status=PR_RECEIVED, waiting="round", code=None, info=None
                )
                work.event("accepted", bank=bank, msg_id=row.msg_id, round=self.beps_round)
                banks.append(row.receiver)

    def _refuse_over_limit(self, work: Work) -> None:
        """At the end of the day: every package still queued over a net debit limit is
        refused (ccms.900 PR09)."""
        codes = self.scenario.codes
        info = "still queued over the net debit limit at the end of the day"
        for row in Books.waiting(work.conn, "limit"):
            work.update_payment(
                row.id, status=PR_REJECTED, waiting=None, code=codes.net_debit_limit, info=info
            )
            self._send_900(
                work, row.sender, "BEPS", row.msg_id, row.sender, row.mt, PR_REJECTED,
                codes.net_debit_limit, info,
            )  # fmt: skip
            work.event("rejected", bank=row.sender, msg_id=row.msg_id, code=codes.net_debit_limit)

    def _send_900(
        self,
        work: Work,
        to: str,
        system: str,
        orgnl_msg_id: str,
        orgnl_sender: str,
        orgnl_mt: str,
        status: str,
        code: str,
        info: str | None,
        *,
        reply_to: str | None = None,
        netting_round: str | None = None,
        book_code: bool = True,
    ) -> None:
        """A ccms.900 to ``to`` about one of its messages, dated the business date, into
        the outbox (``book_code``: its outbox row keeps ``code``)."""
        built = build.common_confirmation_900(
            orgnl_msg_id=orgnl_msg_id,
            orgnl_sender=orgnl_sender,
            orgnl_mt=orgnl_mt,
            status=status,
            code=code,
            info=info,
            system=system,
            ids=self.new_ids(work.db, system),
            now=work.now,
            receiver=to,
            processing_date=self.business_date,
            netting_round=netting_round,
        )
        self.enqueue(work, built, to, reply_to=reply_to, code=code if book_code else None)

    def close_round(self) -> int:
        """Net every package of the open round: forward each with NPCPrcInf (PR03, NetgDt,
        NetgRnd), confirm to each sender with ccms.900 PR03, settle the amounts, and open
        the next round. Returns the number of packages netted."""
        with self._work() as work:
            netted = self._close_round(work)
        self._finish(work)
        self.flush()
        return netted

    def _close_round(self, work: Work) -> int:
        codes = self.scenario.codes
        round_no = f"{self.beps_round:02d}"
        packages = Books.waiting(work.conn, "round")
        for row in packages:
            message, header = _stored(work.conn, row.in_message_id)
            work.move(row.sender, row.receiver, row.amount)
            processing = build.npc_processing(
                PR_NETTED,
                codes.netted,
                netting_date=self.business_date,
                netting_round=round_no,
                received=_moment(row.received_at),
                sent=work.now,
            )
            ids = self.new_ids(work.db, "BEPS")
            forwarded = build.forward(
                message, mesg_id=ids.mesg_id, now=work.now, processing=processing
            )
            faults = set(row.faults.split(",")) if row.faults else set()
            if "corrupt_signature" in faults:
                forwarded = _with_text(forwarded, build.corrupt_signature(forwarded.text))
            forward_id = self.enqueue(
                work,
                forwarded,
                row.receiver,
                hold="reorder" in faults,
                copies=2 if "duplicate" in faults else 1,
            )
            self._send_900(
                work, row.sender, "BEPS", row.msg_id, row.sender, row.mt, PR_NETTED,
                codes.netted, None, reply_to=header.mesg_id, netting_round=round_no,
                book_code=False,
            )  # fmt: skip
            if row.lost:
                work.delete_payment(row.id)
                work.event("lost", bank=row.sender, msg_id=row.msg_id)
            else:
                work.update_payment(
                    row.id,
                    status=PR_NETTED,
                    waiting=None,
                    netting_date=self.business_date.isoformat(),
                    netting_round=round_no,
                    forward_message_id=forward_id,
                    settled_at=work.now.isoformat(),
                )
            work.event(
                "netted",
                bank=row.sender,
                receiver=row.receiver,
                msg_id=row.msg_id,
                round=round_no,
                amount=from_units(row.amount),
            )
        work.event("round_closed", round=round_no, packages=len(packages))
        # a new round: every position starts at zero, so queued packages may enter it
        for bank in sorted({row.sender for row in Books.waiting(work.conn, "limit")}):
            self._release_over_limit(work, bank)
        self.beps_round += 1
        self._round_started = work.now
        Books.set_state(work.conn, "beps_round", str(self.beps_round))
        Books.set_state(work.conn, "round_started", work.now.isoformat())
        return len(packages)

    # ------------------------------------------------------------------ the day

    def tick(self) -> None:
        """Run what the simulated clock says is due: HVPS payments waiting for the window,
        scheduled BEPS round closes, end of day, the business-date switch."""
        now = self.clock.now()
        day = self.scenario.day
        if day.automatic:
            if not self._eod_done and now >= datetime.combine(
                self.business_date, day.end_of_day_time()
            ):
                self.end_of_day()
            if now >= datetime.combine(self.business_date, day.date_switch_time()):
                self.switch_date()
        if self._window_waiting and self.scenario.hvps.in_window(now):
            self._release_window()
        every = self.scenario.beps.round_seconds
        if every > 0 and now >= self._round_started + timedelta(seconds=every):
            self.close_round()

    def _release_window(self) -> None:
        with self._work() as work:
            for row in Books.waiting(work.conn, "window"):
                work.update_payment(row.id, waiting=None)
                self._settle(work, row, first_attempt=True)
            self._window_waiting = False
        self._finish(work)
        self.flush()

    def end_of_day(self) -> None:
        """Close the open BEPS round, refuse HVPS payments still queued for funds, and
        push the pre-reconciliation messages (hvps.716, beps.726) to every participant."""
        from paymsg.sim import recon

        codes = self.scenario.codes
        if self._eod_done:  # asked again for the same date (a participant's re-run): done
            self.events.emit(
                "end_of_day_done", self.clock.now(), business_date=self.business_date.isoformat()
            )
            return
        with self._work() as work:
            self._refuse_over_limit(work)
            if Books.waiting(work.conn, "round"):
                self._close_round(work)
            for row in Books.waiting(work.conn, "balance"):
                work.update_payment(
                    row.id,
                    status=PR_REJECTED,
                    waiting=None,
                    code=codes.end_of_day,
                    info="still queued for funds at the end of the day",
                )
                self._send_900(
                    work, row.sender, "HVPS", row.msg_id, row.sender, row.mt, PR_REJECTED,
                    codes.end_of_day, "still queued for funds at the end of the day",
                )  # fmt: skip
                work.event("rejected", bank=row.sender, msg_id=row.msg_id, code=codes.end_of_day)
            self._balance_waiting = False
            recon.push_pre_reconciliation(self, work)
            Books.set_state(work.conn, "eod_done", self.business_date.isoformat())
            self._eod_done = True
            work.event("end_of_day", business_date=self.business_date.isoformat())
        self._finish(work)
        self.flush()

    def switch_date(self) -> date:
        """Move to the next business date (``day.calendar``) and announce it with ccms.801
        (HVPS and BEPS) to every participant. Returns the new business date."""
        with self._work() as work:
            previous = self.business_date
            day = self.scenario.day
            current = day.next_business_date(previous)
            flag = (
                day.holiday_flag
                if current == previous + timedelta(days=1)
                else day.holiday_flag_after_skip
            )
            self.business_date = current
            for bank in self.participants:
                for system in ("HVPS", "BEPS"):
                    built = build.system_status_801(
                        previous_date=previous,
                        previous_status="40",
                        current_date=current,
                        current_status="00",
                        next_date=day.next_business_date(current),
                        holiday_flag=flag,
                        remark=f"{system}进入营业准备",
                        system=system,
                        ids=self.new_ids(work.db, system),
                        now=work.now,
                        receiver=bank,
                    )
                    self.enqueue(work, built, bank)
            Books.set_state(work.conn, "business_date", current.isoformat())
            self.beps_round = 1
            Books.set_state(work.conn, "beps_round", "1")
            self._eod_done = False
            work.event("date_switch", previous=previous.isoformat(), current=current.isoformat())
        self._finish(work)
        self.flush()
        return current

    # ------------------------------------------------------------------ control

    def command(self, delivery: Delivery) -> None:
        """A JSON command from the control queue (``paymsg sim round-close`` …)."""
        try:
            order = json.loads(delivery.body)
            name = order["command"]
        except (ValueError, KeyError, TypeError):
            self.events.emit(
                "bad_command", self.clock.now(), info=delivery.body[:80].decode("latin-1")
            )
            self.channel.reject(delivery, requeue=False)
            return
        sent_at = order.get("sent_at")
        if (
            self.commands_after is not None
            and isinstance(sent_at, int | float)
            and sent_at < self.commands_after
        ):
            self.events.emit("stale_command", self.clock.now(), command=name)
            self.channel.ack(delivery)
            return
        self.events.emit("command", self.clock.now(), command=name)
        if name == "round-close":
            self.close_round()
        elif name == "end-of-day":
            self.end_of_day()
        elif name == "date-switch":
            self.switch_date()
        elif name == "advance":
            try:
                self.clock.advance(float(order.get("seconds", 0)))
            except (TypeError, ValueError) as exc:
                self.events.emit("bad_command", self.clock.now(), command=name, info=str(exc))
                self.channel.reject(delivery, requeue=False)
                return
        elif name == "stop":
            self.stopped = True
        else:
            self.events.emit("bad_command", self.clock.now(), command=name)
            self.channel.reject(delivery, requeue=False)
            return
        self.channel.ack(delivery)

    # ------------------------------------------------------------------ status

    def status(self) -> dict[str, Any]:
        """A snapshot for the live view and ``--json``."""
        balances = self.books.balances()
        counts = self.books.counts()
        rows = []
        for bank, participant in self.participants.items():
            c = counts.get(bank, {})
            rows.append(
                {
                    "bank": bank,
                    "in_queue": participant.in_queue,
                    "out_queue": participant.out_queue,
                    "balance": str(balances.get(bank, Decimal(0))),
                    "received": c.get("in:received", 0),
                    "unreadable": c.get("in:unreadable", 0),
                    "sent": c.get("out:sent", 0) + c.get("out:confirmed", 0),
                    "pending": c.get("out:pending", 0),
                    "settled": c.get("paid:PR04", 0),
                    "netted": c.get("paid:PR03", 0),
                    "queued": c.get("paid:PR12", 0) + c.get("paid:PR00", 0),
                    "rejected": c.get("paid:PR09", 0),
                }
            )
        return {
            "time": self.clock.now().isoformat(timespec="seconds"),
            "business_date": self.business_date.isoformat(),
            "beps_round": self.beps_round,
            "participants": rows,
            "events": dict(self.events.counts),
        }


@dataclass(frozen=True, slots=True)
class _Message:
    """An inbound message read once (its text parsed once): its envelope and body, the
    report of the checks' safety / XSD / rules layers on that tree, its GrpHdr MsgId, the
    facts of a payment, and the bound message.

    An HVPS payment whose report has no error and no schema finding, and whose facts read
    from the tree as plain values (see :func:`tree_facts`), is not bound: what the centre
    does with it needs only those facts, its header and its body, which is forwarded as
    received. Binding such a tree cannot fail (it fits the schema), so skipping it changes
    no answer; everything else is bound as :func:`paymsg.parse` binds it."""

    type: str
    envelope: Cnaps2Envelope | BusinessEnvelope | None
    #: the XML body as received (CNAPS2 text: after the envelope); None for other input
    body: bytes | None
    #: None for a ccms.990 (never checked) and text that may be read in pieces
    report: Report | None
    #: GrpHdr / PKGGrpHdr MsgId (None for a ccms.990)
    msg_id: str | None
    #: an hvps.111/112 or beps.121/122 (None when its facts cannot be read)
    facts: PaymentFacts | None
    bound: Message | None

    @property
    def message(self) -> Message:
        """The bound message (only an unbound HVPS payment has none, and nothing asks it)."""
        if self.bound is None:
            raise AssertionError(f"{self.type} {self.msg_id} was not bound")
        return self.bound

    @classmethod
    def of(cls, message: Message, report: Report | None) -> _Message:
        """A bound message: MsgId and facts from its to_data() form."""
        mt, envelope, body = message.type, message.envelope, message.original
        if mt.startswith("ccms.990."):
            return cls(mt, envelope, body, report, None, None, message)
        data = to_data(message.document)
        facts = None
        if mt in HVPS_PAYMENTS | BEPS_PAYMENTS:
            try:
                facts = payment_facts(message, data)
            except (KeyError, IndexError, TypeError, ValueError):
                facts = None
        return cls(mt, envelope, body, report, _group_msg_id(message, data), facts, message)


def _clean(report: Report) -> bool:
    """No finding fails the checks, and none says the tree does not fit the schema."""
    return not any(f.severity == "error" or f.layer in ("safety", "xsd") for f in report.findings)


#: a value the binders read exactly as its text (no whitespace, entity or sign to fold)
_PLAIN = re.compile(r"[0-9A-Za-z]{1,35}")
_PLAIN_AMOUNT = re.compile(r"[0-9]{1,18}(?:\.[0-9]{1,5})?")
_PLAIN_COUNT = re.compile(r"[0-9]{1,15}")


@functools.cache
def _facts_path(namespace: str) -> etree.XPath:
    """The elements :func:`tree_facts` reads, in one compiled path (document order)."""
    tx = "m:*/m:CdtTrfTxInf[1]"
    steps = (
        "m:*/m:GrpHdr/m:MsgId",
        "m:*/m:GrpHdr/m:NbOfTxs",
        f"{tx}/m:PmtTpInf/m:SvcLvl/m:Prtry",
        f"{tx}/m:PmtTpInf/m:CtgyPurp/m:Prtry",
        f"{tx}/m:IntrBkSttlmAmt",
    )
    return etree.XPath(" | ".join(steps), namespaces={"m": namespace})


def tree_facts(document: etree._Element) -> PaymentFacts | None:
    """:func:`payment_facts` of an hvps.111/112 ``Document`` tree that fits the schema,
    read from the tree: the same facts when every value is plain (letters and digits;
    an amount of digits with a decimal point) — else None, and the caller binds it."""
    found: dict[str, str | None] = {}
    currency = None
    for element in _facts_path(namespace_of(document.tag))(document):
        name = local_name(element.tag)
        if name == "Prtry":  # of SvcLvl or CtgyPurp
            name = local_name(element.getparent().tag)
        elif name == "IntrBkSttlmAmt":
            currency = element.get("Ccy")
        if name in found:
            return None
        found[name] = element.text
    msg_id, count, amount = found.get("MsgId"), found.get("NbOfTxs"), found.get("IntrBkSttlmAmt")
    kinds = [found[k] for k in ("CtgyPurp", "SvcLvl") if k in found]
    if not (
        msg_id is not None
        and _PLAIN.fullmatch(msg_id)
        and count is not None
        and _PLAIN_COUNT.fullmatch(count)
        and amount is not None
        and _PLAIN_AMOUNT.fullmatch(amount)
        and currency is not None
        and _PLAIN.fullmatch(currency)
        and all(k is not None and _PLAIN.fullmatch(k) for k in kinds)
    ):
        return None
    tx_type = next((k for k in kinds if k), "")
    return PaymentFacts(msg_id, tx_type, Decimal(amount), currency, int(count))


_Read = _Message | PaymsgError


def _group_msg_id(message: Message, data: dict[str, Any] | None = None) -> str | None:
    """GrpHdr / PKGGrpHdr MsgId of a document, if it has one."""
    if data is None:
        data = to_data(message.document)
    root = data.get(next(iter(data))) if data else None
    if not isinstance(root, dict):
        return None
    for key in ("GrpHdr", "PKGGrpHdr"):
        group = root.get(key)
        if isinstance(group, dict) and isinstance(group.get("MsgId"), str):
            return str(group["MsgId"])
    return None


def _forward_faults(decision: _Decision) -> str | None:
    """The faults that act on a payment's forward, kept with it until it is forwarded."""
    kinds = {f.kind for f in decision.faults} & {"duplicate", "reorder", "corrupt_signature"}
    return ",".join(sorted(kinds)) or None


def _stored(conn: Connection, message_id: int) -> tuple[Message, Cnaps2Header]:
    """An inbound message from the books, parsed again, with its header."""
    raw = Books.message_raw(conn, message_id)
    if raw is None:
        raise ConfigError(f"the centre's books lost inbound message {message_id}")
    message = parse(raw)
    if not isinstance(message.envelope, Cnaps2Envelope):
        raise ConfigError(f"inbound message {message_id} in the books has no CNAPS2 header")
    return message, message.envelope.header


def _moment(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value else None


def _with_text(built: build.Built, text: bytes) -> build.Built:
    return build.Built(text, built.mt, built.mesg_id, built.msg_id, built.sender, built.receiver)
