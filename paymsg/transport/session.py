"""The CNAPS2 session: send with ccms.990 correlation, receive exactly once, on any channel.

A :class:`Cnaps2Session` joins a :class:`~paymsg.transport.channel.Channel` (embedded
SQLite, RabbitMQ, IBM MQ) and a :class:`~paymsg.journal.Journal`. The participant puts its
messages on ``out_queue`` (``MSGMBFE_1`` towards the MBFE) and reads ``in_queue``, where
both the ccms.990 confirmations of its own messages and the NPC's messages arrive.

Sending (:meth:`Cnaps2Session.send`, :meth:`Cnaps2Session.send_many`)::

    validate → wrap/sign (a document) → journal.record_outbound (commit) → status 'sent'
    (commit) → register the 990 waiter → channel.put (durable) → wait for the ccms.990
    whose ConfInf names (OrigSndr, MsgId = our header MesgID, MT)
    → 'confirmed' (a success MsgPrcCd) | 'refused' (any other code, kept)
    → no 990 within ``confirm_timeout``: put the same text again (same MesgID), waiting
      ``confirm_timeout * resend_backoff**n`` each time, ``resend`` times; then 'timed_out'.

One consumer thread reads ``in_queue`` and owns a map of waiters: no thread per wait. The
waiter exists before the put, and the confirmation is applied to the journal by the
consumer whether or not anyone waits, so a fast 990 is never lost; a 990 for a message the
journal does not know yet is kept in memory (bounded) and in the inbox.

Receiving (every message on ``in_queue``, in arrival order)::

    journal.record_inbound (commit; a copy with a known (sender, MesgID) is counted, not
    stored twice) → our ccms.990 on ``out_queue`` (success, or an error code when the text
    cannot be read; never for a ccms.990) → correlation of replies to our outbox → ack
    → journal.deliver_many(handler): the handler runs inside the journal's transaction and
    the delivery mark commits with its writes, so each business message reaches it exactly
    once. Each delivery thread takes what is queued for it (up to
    :attr:`Cnaps2Session.delivery_batch`) and delivers it in one transaction, each handler
    call in its own savepoint; a failing handler stops the run there until it is retried or
    quarantined, so each sender's order is kept.

Messages already waiting are taken together (up to :attr:`Cnaps2Session.confirmation_batch`)
and each text is read once. Without a ``verifier``, each run of communication-level answers
(ccms.990, ccms.911) and business replies to our messages (saps.604, ccms.900: they name
an original) goes through the steps above *together*: one journal transaction records and
applies them all, one put carries their 990s, one ack takes them all, then they are
delivered in arrival order. Any other message (a payment from another bank) is answered
and acked on its own, in arrival order.

A crash between any two steps is safe: before the ack the channel redelivers, the journal
finds the copy, the copy is answered again and correlation is idempotent; after the ack the
entry is still pending in the journal and :meth:`Cnaps2Session.start` delivers it.
Unreadable text and handlers that fail ``handler_attempts`` times go to the journal's
quarantine with the reason (the message is acknowledged only after that, so it is never
lost and never blocks the queue); :meth:`Cnaps2Session.retry` takes it back.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import queue as queue_mod
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import TYPE_CHECKING, Any, Literal

from pydantic import BaseModel, ConfigDict

from paymsg.codec.api import parse, serialize
from paymsg.codec.envelope.cnaps2 import FIELDS, Cnaps2Header, looks_like_cnaps2, split_envelope
from paymsg.codec.envelope.wrap import wrap
from paymsg.codec.message import Message
from paymsg.errors import (
    ConfigError,
    EnvelopeError,
    JournalError,
    PaymsgError,
    SignatureError,
    TransportError,
    ValidationFailedError,
)
from paymsg.journal import Journal, JournalEntry, StatusUpdate
from paymsg.journal.extract import Extracted, extract
from paymsg.models.ccms_990_001_02 import (
    CommunicationConfirmationV02,
    ConfirmationInformation1,
)
from paymsg.models.ccms_990_001_02 import Document as Confirmation990
from paymsg.reference.cnaps2 import NPC, IdGenerator
from paymsg.schema.catalog import catalog
from paymsg.transport.channel import Channel, Delivery, open_channel
from paymsg.transport.faults import FaultPoints
from paymsg.trusted import trusted_model

if TYPE_CHECKING:
    from sqlalchemy import Connection

    from paymsg.codec.envelope.signing import Signer, SigningProfile, Verifier
    from paymsg.validation import ValidationConfig

__all__ = [
    "CONFIRMATION_TYPE",
    "Cnaps2Session",
    "ListenStats",
    "ReplyCodes",
    "SendResult",
    "StatusRules",
    "acknowledge",
    "acknowledge_all",
    "build_confirmation",
    "read_header",
    "salvage_header",
]

log = logging.getLogger("paymsg.transport")
#: where the header's MesgType field lies, from the ``{H:`` on
_MESG_TYPE = next(spec for spec in FIELDS if spec.name == "mesg_type")

#: the communication-level confirmation (通信级确认)
CONFIRMATION_TYPE = "ccms.990.001.02"
#: the NPC's discard notification (报文丢弃通知)
DISCARD_TYPE = "ccms.911.001.02"

Handler = Callable[[JournalEntry, "Connection"], None]
ChannelSource = Channel | str | Callable[[], Channel]


class ReplyCodes(BaseModel):
    """The ``MsgPrcCd`` values of the ccms.990 this session puts and accepts.

    ``success`` (``PM1I0000``) is the value seen in every public sample [S1 for its
    meaning, reference §6.6 / §8.4]. The error codes for text that cannot be read are not
    public [NF]: these defaults follow the observed pattern (4-character prefix, then a
    4-digit number that is ``0000`` only for success) and must be set to the values of the
    bank's PBOC documentation.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    #: the code we put in a success 990
    success: str = "PM1I0000"
    #: codes accepted as success in a 990 we receive (our ``success`` is always included)
    accepted: frozenset[str] = frozenset({"PM1I0000"})
    #: the text has no readable ``{H:}`` header (answered when enough of it can be read) [NF]
    header_unreadable: str = "PM1E0001"
    #: the header is readable but the XML body is not (malformed, wrong schema) [NF]
    body_unreadable: str = "PM1E0002"
    #: the ``{S:}`` signature does not verify (only with a ``verifier``) [NF]
    signature_invalid: str = "PM1E0003"

    def is_success(self, code: str | None) -> bool:
        return code is not None and (code == self.success or code in self.accepted)


class StatusRules(BaseModel):
    """How NPC processing statuses (``PrcSts``) in replies move an outbox entry on.

    Reference §8.3: ``PR09`` 已拒绝 is a rejection [C2+]; ``PR04`` 已清算, ``PR05`` 已成功
    and ``PR02`` 已付款 are final successes [S1]; anything else (``PR03`` 已轧差, queued,
    …) is a receipt that is not final yet. A ccms.911 always rejects (the NPC dropped it).
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    rejected: frozenset[str] = frozenset({"PR09", "PR08", "PR21", "PR32"})
    settled: frozenset[str] = frozenset({"PR02", "PR04", "PR05"})

    def status_for(self, mt: str | None, prc_sts: str | None) -> str:
        if mt is not None and mt.startswith("ccms.911"):
            return "rejected"
        if prc_sts in self.rejected:
            return "rejected"
        if prc_sts in self.settled:
            return "settled"
        return "receipt"


class SendResult(BaseModel):
    """How one send ended."""

    model_config = ConfigDict(frozen=True)

    entry_id: int
    sender: str | None
    mesg_id: str | None
    mt: str | None
    #: confirmed (990 success), refused (990 error code), timed_out (no 990 after the
    #: resends), or a later status when the entry was already further along
    status: str
    #: the 990's MsgPrcCd (or the journal's status code)
    code: str | None = None
    detail: str | None = None
    #: puts made by this call (0 when the journal already had the final answer)
    puts: int = 0
    #: seconds from the first put to the answer (None when nothing was put)
    seconds: float | None = None

    @property
    def ok(self) -> bool:
        return self.status in ("confirmed", "receipt", "settled")


class ListenStats(BaseModel):
    """What a session's consumer did (counts since the session started)."""

    received: int = 0
    duplicates: int = 0
    #: copies (same sender and MesgID) whose text differs from the first one's: answered
    #: like any copy, not delivered, and set aside in the quarantine for a person to see
    conflicting_copies: int = 0
    answered: int = 0
    confirmations: int = 0
    correlated: int = 0
    unmatched_confirmations: int = 0
    unreadable: int = 0
    quarantined: int = 0
    delivered: int = 0
    handler_failures: int = 0


# --------------------------------------------------------------------------- 990s


def build_confirmation(
    header: Cnaps2Header,
    code: str,
    *,
    participant: str,
    header_ids: Literal["echo", "new"] = "echo",
    id_generator: IdGenerator | None = None,
) -> bytes:
    """The ccms.990 text answering a message with ``header``, from ``participant``.

    ``ConfInf`` echoes the confirmed header (OrigSndr, OrigSndDt, MT, MsgId = its MesgID,
    MsgRefId) with ``MsgPrcCd`` = ``code`` (reference §6.6, [C2+]). Our header goes back to
    the sender with the systems swapped; with ``header_ids="echo"`` its MesgID and
    MesgRefID are the confirmed message's MesgID (what the public bank implementations do,
    [S1]); with ``"new"`` they come from ``id_generator``. The direction is ``D`` when the
    NPC (``0000``) answers, else ``U``.
    """
    document = Confirmation990(
        com_conf=CommunicationConfirmationV02(
            conf_inf=ConfirmationInformation1(
                orig_sndr=header.orig_sender,
                orig_snd_dt=header.orig_send_date,
                mt=header.mesg_type,
                msg_id=header.mesg_id,
                msg_ref_id=header.mesg_ref_id or None,
                msg_prc_cd=code,
            )
        )
    )
    echoed = header.mesg_id if header_ids == "echo" else None
    message = wrap(
        document,
        type=CONFIRMATION_TYPE,
        sender=participant,
        receiver=header.orig_sender,
        sender_system=header.orig_receiver_sid,
        receiver_system=header.orig_sender_sid,
        direction="D" if participant == NPC else "U",
        priority="3",
        mesg_id=echoed,
        mesg_ref_id=echoed,
        id_generator=id_generator,
    )
    return serialize(message)


def read_header(text: bytes) -> tuple[Cnaps2Header | None, bool]:
    """The header of a text, and whether it decoded cleanly: ``(header, True)`` when the
    ``{H:}`` block is valid (whatever follows it), ``(salvaged, False)`` when only some
    fields could be read at their fixed offsets (see :func:`salvage_header`), else
    ``(None, False)``."""
    try:
        return split_envelope(text)[0].header, True
    except EnvelopeError:
        pass
    start = text.find(b"{H:")
    if start >= 0:
        try:
            head = text[start : start + 130].decode("ascii")
            return Cnaps2Header.decode(head, offset=start), True
        except (EnvelopeError, UnicodeDecodeError):
            pass
    return salvage_header(text), False


def salvage_header(text: bytes) -> Cnaps2Header | None:
    """The header fields of a text whose header does not decode, read at their fixed
    offsets, when the ones a ccms.990 needs are usable; else None."""
    try:
        start = text.index(b"{H:")
    except ValueError:
        return None
    head = text[start : start + 130].decode("latin-1")
    values: dict[str, str] = {}
    for spec in FIELDS:
        raw = head[spec.offset : spec.end]
        values[spec.name] = raw if spec.name == "reserve" else raw.strip()
    # only what a 990 needs; the fields that broke the header (priority, direction,
    # reserve, version …) take their defaults
    wanted = (
        "orig_sender",
        "orig_sender_sid",
        "orig_receiver_sid",
        "orig_send_date",
        "orig_send_time",
        "mesg_type",
        "mesg_id",
    )
    subset = {name: values[name] for name in wanted}
    subset["orig_receiver"] = values["orig_receiver"] or NPC
    subset["mesg_ref_id"] = values["mesg_ref_id"] or values["mesg_id"]
    try:
        return Cnaps2Header.model_validate(subset)
    except ValueError:
        return None


# --------------------------------------------------------------------------- channels


def acknowledge(channel: Any, delivery: Delivery) -> None:
    """Acknowledge ``delivery``; when the channel cannot (its connection was lost after a
    broker restart, the lease ended), log it and go on: the channel delivers the message
    again, and everything done with it so far is idempotent (the journal finds the copy,
    the copy is answered again, delivery happens once)."""
    try:
        channel.ack(delivery)
    except TransportError as exc:
        log.warning("not acknowledged, will be redelivered: %s", exc)


def acknowledge_all(channel: Any, deliveries: Sequence[Delivery]) -> None:
    """:func:`acknowledge` for many deliveries at once (``Channel.ack_many``)."""
    if not deliveries:
        return
    try:
        channel.ack_many(deliveries)
    except TransportError as exc:
        log.warning("not all acknowledged, will be redelivered: %s", exc)


class _LockedChannel:
    """One channel object shared by the session's threads, one call at a time."""

    def __init__(self, channel: Channel) -> None:
        self._channel = channel
        self._lock = threading.Lock()
        self.url = channel.url

    def declare(self, queue: str) -> None:
        with self._lock:
            self._channel.declare(queue)

    def put(self, queue: str, body: bytes, properties: Any = None) -> None:
        with self._lock:
            self._channel.put(queue, body, properties)

    def put_many(self, queue: str, bodies: Sequence[bytes], properties: Any = None) -> None:
        with self._lock:
            self._channel.put_many(queue, bodies, properties)

    def get(self, queue: str, timeout: float = 0.0) -> Delivery | None:
        # never hold the lock while waiting: others must be able to put meanwhile
        deadline = time.monotonic() + timeout
        while True:
            with self._lock:
                found = self._channel.get(queue, 0.0)
            if found is not None or time.monotonic() >= deadline:
                return found
            time.sleep(min(0.005, max(0.0, deadline - time.monotonic())))

    def get_many(self, queue: str, limit: int, timeout: float = 0.0) -> list[Delivery]:
        deadline = time.monotonic() + timeout
        while True:
            with self._lock:
                found = self._channel.get_many(queue, limit, 0.0)
            if found or time.monotonic() >= deadline:
                return found
            time.sleep(min(0.005, max(0.0, deadline - time.monotonic())))

    def ack(self, delivery: Delivery) -> None:
        with self._lock:
            self._channel.ack(delivery)

    def ack_many(self, deliveries: Sequence[Delivery]) -> None:
        with self._lock:
            self._channel.ack_many(deliveries)

    def reject(self, delivery: Delivery, *, requeue: bool) -> None:
        with self._lock:
            self._channel.reject(delivery, requeue=requeue)

    def depth(self, queue: str) -> int:
        with self._lock:
            return self._channel.depth(queue)

    def close(self) -> None:
        with self._lock:
            self._channel.close()


class _Channels:
    """A channel per thread from a factory or URL, or one shared channel behind a lock."""

    def __init__(self, source: ChannelSource) -> None:
        self._shared: _LockedChannel | None = None
        self._factory: Callable[[], Channel] | None = None
        if isinstance(source, str):
            url = source
            self._factory = lambda: open_channel(url)
        elif hasattr(source, "put") and hasattr(source, "get"):
            self._shared = _LockedChannel(source)  # type: ignore[arg-type]
        elif callable(source):
            self._factory = source
        else:
            raise ConfigError(
                f"not a channel, channel URL or channel factory: {source!r}", field="channel"
            )
        self._local = threading.local()
        self._opened: list[Any] = []
        self._lock = threading.Lock()

    @property
    def shared(self) -> bool:
        return self._shared is not None

    def here(self) -> Any:
        """The channel the calling thread uses."""
        if self._shared is not None:
            return self._shared
        channel = getattr(self._local, "channel", None)
        if channel is None:
            assert self._factory is not None
            channel = self._factory()
            self._local.channel = channel
            with self._lock:
                self._opened.append(channel)
        return channel

    def close(self) -> None:
        with self._lock:
            opened, self._opened = self._opened, []
        for channel in opened:
            with contextlib.suppress(Exception):
                channel.close()
        if self._shared is not None:
            with contextlib.suppress(Exception):
                self._shared.close()


# --------------------------------------------------------------------------- waiters


@dataclass
class _Call:
    """The waiters of one sending call that have no result yet (changed under the
    session's condition): the call's thread is woken when the last one gets its result,
    not at every result."""

    left: int = 0


@dataclass
class _Waiter:
    entry: JournalEntry
    key: tuple[str, str]
    deadline: float = 0.0
    wait: float = 0.0
    puts: int = 0
    first_put: float | None = None
    result: SendResult | None = None
    call: _Call | None = None


@dataclass
class _Confirmation:
    """A ccms.990 (or 911) that arrived for a message the journal did not know."""

    code: str | None
    mt: str | None
    related_id: int
    at: float = field(default_factory=time.monotonic)


@dataclass
class _Group:
    """Messages of a batch answered with one put and acked with one ack (in order)."""

    deliveries: list[Delivery] = field(default_factory=list)
    entries: list[JournalEntry] = field(default_factory=list)
    replies: list[bytes | None] = field(default_factory=list)
    resolved: list[tuple[tuple[str, str], JournalEntry] | None] = field(default_factory=list)

    def add(
        self,
        delivery: Delivery,
        entry: JournalEntry,
        reply: bytes | None,
        resolved: tuple[tuple[str, str], JournalEntry] | None,
    ) -> None:
        self.deliveries.append(delivery)
        self.entries.append(entry)
        self.replies.append(reply)
        self.resolved.append(resolved)

    def clear(self) -> None:
        self.deliveries, self.entries, self.replies, self.resolved = [], [], [], []


def _answers_ours(read: Extracted) -> bool:
    """A readable ccms.990 / ccms.911, or a business reply naming an original message."""
    if read.read_error is not None or read.mt is None:
        return False
    return read.mt.startswith(("ccms.990", DISCARD_TYPE[:8])) or read.orig_msg_id is not None


def _unusable(entry: JournalEntry) -> bool:
    """A recorded text that could not be read (without a verifier, what ``_unreadable``
    finds)."""
    return entry.read_error is not None or entry.status == "unreadable"


def _is_confirmation_entry(entry: JournalEntry) -> bool:
    return entry.mt is not None and entry.mt.startswith("ccms.990")


def _is_communication(entry: JournalEntry) -> bool:
    """A communication-level answer (ccms.990 ConfInf, ccms.911 DscrdInf): it names the
    header MesgID it answers."""
    return entry.mt is not None and entry.mt.startswith(("ccms.990", DISCARD_TYPE[:8]))


# --------------------------------------------------------------------------- the session


class Cnaps2Session:
    """CNAPS2 messaging over one channel and one journal (see the module docstring).

    ``channel`` is a channel URL, a factory returning a new channel (one is opened per
    thread: the consumer, each sending thread), or a channel object shared behind a lock.
    ``participant`` is our bank code: the header OrigSender of our ccms.990s (when None,
    the OrigReceiver of the message answered) and the default sender for :meth:`replay`.
    ``workers`` handler threads deliver in parallel while keeping the order of each
    sender's messages. ``handler_attempts`` failures of the handler on one message
    quarantine it. ``reply_header_ids`` chooses the header ids of our 990s (see
    :func:`build_confirmation`). ``faults`` is the crash-test hook (default: from
    ``$PAYMSG_FAULT``, see :mod:`paymsg.transport.faults`).
    """

    @classmethod
    def from_settings(
        cls, settings: Any, journal: Journal | None = None, **extra: Any
    ) -> Cnaps2Session:
        """A session configured by :class:`paymsg.transport.config.MQSettings` (``paymsg mq
        config``: file, environment, command-line overrides), on ``journal`` when given (else
        the settings' journal URL); ``extra`` adds what settings do not hold (a signer, a
        verifier, fault points)."""
        return cls(
            settings.channel,
            journal if journal is not None else Journal(settings.journal),
            participant=settings.participant,
            out_queue=settings.out_queue,
            in_queue=settings.in_queue,
            validate=settings.validate_,
            confirm_timeout=settings.confirm_timeout,
            resend=settings.resend,
            resend_backoff=settings.resend_backoff,
            workers=settings.workers,
            handler_attempts=settings.handler_attempts,
            codes=settings.codes.reply_codes(),
            reply_header_ids=settings.reply_header_ids,
            **extra,
        )

    def __init__(
        self,
        channel: ChannelSource,
        journal: Journal | str,
        *,
        participant: str | None = None,
        out_queue: str,
        in_queue: str,
        validate: bool = True,
        validation_profile: str | None = None,
        validation_config: ValidationConfig | None = None,
        signer: Signer | None = None,
        signing_profile: SigningProfile | None = None,
        verifier: Verifier | None = None,
        verify_profiles: Mapping[str, SigningProfile] | None = None,
        confirm_timeout: float = 60.0,
        resend: int = 3,
        resend_backoff: float = 2.0,
        workers: int = 1,
        handler_attempts: int = 3,
        handler_retry_delay: float = 0.1,
        codes: ReplyCodes | None = None,
        status_rules: StatusRules | None = None,
        reply_header_ids: Literal["echo", "new"] = "echo",
        id_generator: IdGenerator | None = None,
        poll_interval: float = 0.2,
        unmatched_keep: float = 600.0,
        faults: FaultPoints | None = None,
    ) -> None:
        if confirm_timeout <= 0 or resend < 0 or resend_backoff < 1 or workers < 1:
            raise ConfigError(
                "confirm_timeout must be > 0, resend >= 0, resend_backoff >= 1, workers >= 1",
                field="session",
            )
        if handler_attempts < 1:
            raise ConfigError("handler_attempts must be >= 1", field="handler_attempts")
        self.journal = Journal(journal) if isinstance(journal, str) else journal
        self.channels = _Channels(channel)
        self.participant = participant
        self.out_queue = out_queue
        self.in_queue = in_queue
        self.validate = validate
        self.validation_profile = validation_profile
        self.validation_config = validation_config
        self.signer = signer
        self.signing_profile = signing_profile
        self.verifier = verifier
        self.verify_profiles = dict(verify_profiles or {})
        self.confirm_timeout = confirm_timeout
        self.resend = resend
        self.resend_backoff = resend_backoff
        self.workers = workers
        self.handler_attempts = handler_attempts
        self.handler_retry_delay = handler_retry_delay
        self.codes = codes or ReplyCodes()
        self.status_rules = status_rules or StatusRules()
        self.reply_header_ids = reply_header_ids
        self.id_generator = id_generator
        self.poll_interval = poll_interval
        self.unmatched_keep = unmatched_keep
        self.faults = faults if faults is not None else FaultPoints.from_env()

        self.stats = ListenStats()
        self._stats_lock = threading.Lock()
        self._waiters: dict[tuple[str, str], _Waiter] = {}
        self._unmatched: OrderedDict[tuple[str, str], _Confirmation] = OrderedDict()
        self._cond = threading.Condition()
        self._handler: Handler | None = None
        self._consumer: threading.Thread | None = None
        self._workers: list[threading.Thread] = []
        #: per delivery worker: lists of entry ids to deliver in order (None: stop)
        self._work: list[queue_mod.Queue[list[int] | None]] = []
        self._stop = threading.Event()
        self._error: BaseException | None = None
        self._last_message = time.monotonic()
        self._processed = 0  # channel messages handled completely
        self._taken = 0  # channel messages taken (the one in hand included)
        self._taken_lock = threading.Lock()
        self._declared = False

    # ------------------------------------------------------------------ lifecycle

    def __enter__(self) -> Cnaps2Session:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def start(self, handler: Handler | None = None) -> None:
        """Start the consumer of ``in_queue`` (and, with a ``handler``, the delivery
        workers, which first deliver what the journal still has pending)."""
        if handler is not None and self._handler is None:
            self._handler = handler
            self._work = [queue_mod.Queue() for _ in range(self.workers)]
            # queued before the workers start: what was pending goes in full batches
            self._deliver_pending()
            for index, work in enumerate(self._work):
                thread = threading.Thread(
                    target=self._deliver_loop, args=(work,), name=f"paymsg-deliver-{index}"
                )
                thread.daemon = True
                thread.start()
                self._workers.append(thread)
        if self._consumer is None:
            self._declare()
            self._consumer = threading.Thread(
                target=self._consume_loop, name="paymsg-consumer", daemon=True
            )
            self._consumer.start()

    def close(self) -> None:
        """Stop the consumer and the workers (after the deliveries queued) and close the
        channels. Un-acknowledged messages stay on the channel."""
        self._stop.set()
        if self._consumer is not None:
            self._consumer.join()
        for work in self._work:
            work.put(None)
        for thread in self._workers:
            thread.join()
        self._workers = []
        self.channels.close()

    def _declare(self) -> None:
        if not self._declared:
            channel = self.channels.here()
            channel.declare(self.out_queue)
            channel.declare(self.in_queue)
            self._declared = True

    def _count(self, name: str, n: int = 1) -> None:
        with self._stats_lock:
            setattr(self.stats, name, getattr(self.stats, name) + n)

    def _check_error(self) -> None:
        if self._error is not None:
            if isinstance(self._error, PaymsgError):
                raise self._error
            raise TransportError(f"the session's consumer stopped: {self._error}")

    # ------------------------------------------------------------------ listening

    def listen(
        self,
        handler: Handler | None = None,
        *,
        max_messages: int | None = None,
        idle_exit: float | None = None,
        stop: threading.Event | None = None,
    ) -> ListenStats:
        """Receive until ``max_messages`` channel messages were processed, nothing came for
        ``idle_exit`` seconds, or ``stop`` is set; then finish the queued deliveries. The
        session can send (or listen) again afterwards."""
        with self._taken_lock:  # counts from what is taken now (a message in hand included)
            limit = None if max_messages is None else self._taken + max_messages
            self._max_messages = limit
        self._last_message = time.monotonic()
        self.start(handler)
        try:
            while True:
                self._check_error()
                if stop is not None and stop.is_set():
                    break
                if limit is not None and self._processed >= limit:
                    break
                if idle_exit is not None and time.monotonic() - self._last_message >= idle_exit:
                    break
                time.sleep(0.01)
        finally:
            self._stop.set()
            if self._consumer is not None:
                self._consumer.join()
            self._consumer = None
            self._stop.clear()
            self._max_messages = None
        self._drain_deliveries()
        self._check_error()
        return self.stats.model_copy()

    _max_messages: int | None = None

    def _consume_loop(self) -> None:
        try:
            channel = self.channels.here()
            while not self._stop.is_set():
                room = self.confirmation_batch
                if self._max_messages is not None:
                    room = min(room, self._max_messages - self._taken)
                    if room <= 0:
                        return
                # what is waiting, up to a batch: the whole batch is processed in arrival
                # order (even when stopped meanwhile: it is taken already)
                batch = channel.get_many(self.in_queue, room, self.poll_interval)
                if not batch:
                    self._expire_unmatched()
                    continue
                with self._taken_lock:
                    self._taken += len(batch)
                self._last_message = time.monotonic()
                self._process(channel, batch)
        except BaseException as exc:  # reported to listen() and to waiting senders
            self._error = exc
            log.error("consumer stopped: %s", exc)
            with self._cond:
                self._cond.notify_all()

    def _process(self, channel: Any, batch: list[Delivery]) -> None:
        """Handle ``batch`` in arrival order. Without a ``verifier``: see
        :meth:`_handle_many`. With one (a signature check per message): each run of
        ccms.990s with one group commit (recorded and applied in one journal transaction,
        acked after it commits), every other message on its own."""
        if self.verifier is None:
            self._process_read(channel, batch)
            return
        run: list[Delivery] = []
        for delivery in [*batch, None]:
            if delivery is not None and self._is_confirmation(delivery):
                run.append(delivery)
                continue
            if run:
                self._handle_many(channel, run)
                self._processed += len(run)
                self._last_message = time.monotonic()
                run = []
            if delivery is not None:
                self._handle_safely(channel, delivery)
                self._processed += 1
                self._last_message = time.monotonic()

    #: most ccms.990s recorded and applied in one journal transaction
    confirmation_batch = 256

    def _handle_safely(
        self, channel: Any, delivery: Delivery, read: Extracted | None = None
    ) -> None:
        try:
            self._handle(channel, delivery, read)
        except (TransportError, JournalError):
            raise  # the environment failed: stop, the message stays on the queue
        except PaymsgError as exc:  # this message cannot be processed: set it aside
            self._set_aside(channel, delivery, exc)

    @staticmethod
    def _is_confirmation(delivery: Delivery) -> bool:
        """Whether the header's MesgType field says ccms.990 (read at its fixed offset, not
        decoded: a 990 whose header does not decode is recorded unreadable in the batch as
        it would be on its own)."""
        body = delivery.body
        start = body.find(b"{H:", 0, 64)
        if start < 0:
            return False
        return body[start + _MESG_TYPE.offset : start + _MESG_TYPE.end].startswith(b"ccms.990")

    def _process_read(self, channel: Any, batch: list[Delivery]) -> None:
        """Without a verifier: each text is read once (the journal's columns); each run of
        communication-level answers (ccms.990, ccms.911) and business replies to our
        messages (saps.604, ccms.900 …: they name an original) is handled with one group
        commit (:meth:`_handle_many`), every other message on its own (:meth:`_handle`),
        in arrival order."""
        run: list[tuple[Delivery, Extracted]] = []
        for delivery in [*batch, None]:
            read = None
            if delivery is not None:
                read = extract(delivery.body)
                if _answers_ours(read):
                    run.append((delivery, read))
                    continue
            if run:
                self._handle_many(channel, [d for d, _ in run], [r for _, r in run])
                self._processed += len(run)
                self._last_message = time.monotonic()
                run = []
            if delivery is not None:
                self._handle_safely(channel, delivery, read)
                self._processed += 1
                self._last_message = time.monotonic()

    def _handle_many(
        self, channel: Any, batch: list[Delivery], read: list[Extracted] | None = None
    ) -> None:
        """Handle ``batch`` in arrival order as :meth:`_handle` handles each message, with
        group commits: every text is recorded in the inbox, and every ccms.990 / ccms.911
        and business reply is applied to its outbox entry, in ONE journal transaction.
        Then, in arrival order, the communication-level confirmations and the replies to
        our messages (saps.604, ccms.900, ccms.911 …) go together: their answers (our
        ccms.990, never for a 990) in one durable put, then one ack, then their delivery;
        a business message that answers nothing of ours (a payment from another bank), or
        a text that cannot be read, is answered and acked on its own as :meth:`_handle`
        does, after what came before it. Nothing is acked before the commit that records
        it and the put of its answer; a crash in between redelivers it, and every step is
        idempotent (the journal counts the copy, a copy is answered again, correlation
        finds the entry already moved, delivery happens once). If the transaction fails,
        or an answer cannot be built, each message is handled on its own (which sets the
        bad one aside)."""
        if len(batch) == 1:
            self._handle_safely(channel, batch[0], None if read is None else read[0])
            return
        try:
            # answers are built from the headers before anything is recorded: one that
            # cannot be built sends the batch one by one with nothing recorded twice
            replies = [self._answer(delivery) for delivery in batch]
            for _ in batch:
                self.faults.hit("received")
            with self.journal.transaction():
                recorded = self.journal.record_inbound_many(
                    [delivery.body for delivery in batch], queue=batch[0].queue, read=read
                )
                readable = [entry for entry, _ in recorded if not _unusable(entry)]
                communication = [entry for entry in readable if _is_communication(entry)]
                for entry in communication:
                    if _is_confirmation_entry(entry):
                        self.faults.hit("confirmation_recorded")
                applied = dict(
                    zip(
                        [entry.id for entry in communication],
                        self._apply_communication(communication),
                        strict=True,
                    )
                )
                business = [
                    entry
                    for entry in readable
                    if entry.orig_msg_id is not None and not _is_communication(entry)
                ]
                for entry, result in zip(business, self._apply_business(business), strict=True):
                    applied[entry.id] = result
        except (TransportError, JournalError):
            raise
        except PaymsgError:  # rolled back, or an answer cannot be built: one at a time
            for delivery in batch:
                self._handle_safely(channel, delivery)
            return
        group = _Group()
        for delivery, reply, (entry, is_new) in zip(batch, replies, recorded, strict=True):
            self._count("received")
            if not is_new:
                self._copy_received(delivery, entry)
            if _unusable(entry):  # quarantined and answered on its own
                self._flush(channel, group)
                self.faults.hit("recorded")
                self._finish_unreadable(channel, delivery, entry)
                continue
            if _is_confirmation_entry(entry):
                self._count("confirmations")
                group.add(delivery, entry, None, applied.get(entry.id))
                continue
            if reply is None:  # pragma: no cover - a text read in full has a header
                reply = self._reply(split_envelope(delivery.body)[0].header, self.codes.success)
            self.faults.hit("recorded")
            if entry.id in applied or _is_communication(entry):  # a reply to ours
                group.add(delivery, entry, reply, applied.get(entry.id))
                continue
            self._flush(channel, group)  # a message of its own: after what came before
            channel.put(self.out_queue, reply)
            self._count("answered")
            self.faults.hit("answered")
            self.faults.hit("correlated")
            acknowledge(channel, delivery)
            self.faults.hit("acked")
            if self._handler is not None and entry.deliverable:
                self._submit(entry)
        self._flush(channel, group)

    def _flush(self, channel: Any, group: _Group) -> None:
        """Answer, resolve, ack and deliver the messages gathered in ``group``, then empty it."""
        if not group.deliveries:
            return
        answers = [reply for reply in group.replies if reply is not None]
        if answers:
            channel.put_many(self.out_queue, answers)
            self._count("answered", len(answers))
            for _ in answers:
                self.faults.hit("answered")
        for resolved in group.resolved:
            if resolved is not None:
                self._resolve(*resolved)
            self.faults.hit("correlated")
        acknowledge_all(channel, group.deliveries)
        deliver: list[JournalEntry] = []
        for entry, reply in zip(group.entries, group.replies, strict=True):
            if reply is not None:  # not a 990
                self.faults.hit("acked")
                if self._handler is not None and entry.deliverable:
                    deliver.append(entry)
        if deliver:
            self._submit_many(deliver)
        group.clear()

    def _answer(self, delivery: Delivery) -> bytes | None:
        """Our success ccms.990 for a text with a readable header that is not a 990."""
        if self._is_confirmation(delivery):
            return None
        header, readable = read_header(delivery.body)
        if not readable or header is None or header.mesg_type.startswith("ccms.990"):
            return None
        return self._reply(header, self.codes.success)

    def _handle(self, channel: Any, delivery: Delivery, read: Extracted | None = None) -> None:
        body = delivery.body
        self.faults.hit("received")
        self._count("received")
        header, readable = read_header(body)
        if readable and header is not None and header.mesg_type.startswith("ccms.990"):
            # a confirmation of one of ours (never answered with a 990): recorded in the
            # inbox and applied to its outbox entry in one journal transaction
            resolved = None
            with self.journal.transaction():
                entry, is_new = self.journal.record_inbound(body, queue=delivery.queue, read=read)
                if entry.read_error is None:
                    self.faults.hit("confirmation_recorded")
                    resolved = self._apply_reply(entry, communication=True)
            if not is_new:
                self._copy_received(delivery, entry)
            if entry.read_error is None:
                self._count("confirmations")
                if resolved is not None:
                    self._resolve(*resolved)
                self.faults.hit("correlated")
                acknowledge(channel, delivery)
                return
        else:
            entry, is_new = self.journal.record_inbound(body, queue=delivery.queue, read=read)
            if not is_new:
                self._copy_received(delivery, entry)
        self.faults.hit("recorded")
        if self._finish_unreadable(channel, delivery, entry):
            return
        # the text was read in full, so read_header decoded its envelope: no second decode
        if not readable or header is None:
            header = split_envelope(body)[0].header
        channel.put(self.out_queue, self._reply(header, self.codes.success))
        self._count("answered")
        self.faults.hit("answered")
        if entry.mt is not None and (
            entry.orig_msg_id is not None or entry.mt.startswith(DISCARD_TYPE[:8])
        ):
            resolved = self._apply_reply(entry, communication=entry.mt.startswith(DISCARD_TYPE[:8]))
            if resolved is not None:
                self._resolve(*resolved)
        self.faults.hit("correlated")
        acknowledge(channel, delivery)
        self.faults.hit("acked")
        if self._handler is not None and entry.deliverable:
            self._submit(entry)

    def _copy_received(self, delivery: Delivery, entry: JournalEntry) -> None:
        """Count a copy of ``entry`` (same sender and MesgID). A copy whose text is not the
        first one's is not the same message: the journal keeps the first, so this text goes
        to the quarantine with the reason (before the ack: kept, never lost) and is not
        delivered. A genuine copy (the same bytes) is only counted."""
        self._count("duplicates")
        if entry.digest is None or hashlib.sha256(delivery.body).hexdigest() == entry.digest:
            return
        reason = (
            f"conflicting copy: {entry.sender or '?'} sent MesgID {entry.mesg_id!r} again "
            f"with another text (journal entry {entry.id} holds the first); not delivered"
        )
        log.warning(reason)
        self.journal.quarantine(queue=delivery.queue, body=delivery.body, reason=reason)
        self._count("conflicting_copies")
        self._count("quarantined")

    def _finish_unreadable(self, channel: Any, delivery: Delivery, entry: JournalEntry) -> bool:
        """Quarantine, answer and ack a recorded text that cannot be used; False if usable."""
        problem = self._unreadable(entry, delivery.body)
        if problem is None:
            return False
        code, reason, header = problem
        self._quarantine_once(entry, delivery, reason)
        if header is not None and not header.mesg_type.startswith("ccms.990"):
            channel.put(self.out_queue, self._reply(header, code))
            self._count("answered")
        self.faults.hit("answered")
        acknowledge(channel, delivery)
        return True

    def _set_aside(self, channel: Any, delivery: Delivery, error: PaymsgError) -> None:
        """Quarantine a message that broke its processing, then acknowledge it: a poison
        message never blocks the queue and is never lost."""
        log.error("message quarantined: %s", error)
        header, _ = read_header(delivery.body)
        entry = None
        if header is not None:  # its inbox entry, if recorded, is quarantined with it
            entry = self.journal.find(
                direction="in", sender=header.orig_sender, mesg_id=header.mesg_id
            )
        linked = entry is not None and entry.status in ("received", "unreadable")
        self.journal.quarantine(
            queue=delivery.queue,
            body=delivery.body,
            reason=f"could not be processed: {error}",
            entry_id=entry.id if linked and entry is not None else None,
        )
        self._count("quarantined")
        acknowledge(channel, delivery)

    def _reply(self, header: Cnaps2Header, code: str) -> bytes:
        return build_confirmation(
            header,
            code,
            participant=self.participant or header.orig_receiver,
            header_ids=self.reply_header_ids,
            id_generator=self.id_generator,
        )

    def _unreadable(
        self, entry: JournalEntry, body: bytes
    ) -> tuple[str, str, Cnaps2Header | None] | None:
        """(990 code, reason, header to answer) when the text cannot be used; else None."""
        if entry.read_error is None and entry.status != "unreadable":
            if self.verifier is None or not looks_like_cnaps2(body):
                return None
            envelope = split_envelope(body)[0]
            if not envelope.signed:
                # unsigned types (ccms.990, NPC notifications) pass; a type the catalogue
                # marks as signed must carry its {S:} block
                mt = envelope.header.mesg_type
                if mt not in catalog() or not catalog().get(mt).signed:
                    return None
                return (
                    self.codes.signature_invalid,
                    f"{envelope.header.mesg_type} must be signed and has no {{S:}} block",
                    envelope.header,
                )
            try:
                profile = self.verify_profiles.get(envelope.header.mesg_type)
                parse(body, verifier=self.verifier, signing_profile=profile)
            except SignatureError as exc:
                found = split_envelope(body)[0].header
                return self.codes.signature_invalid, f"signature: {exc}", found
            except PaymsgError as exc:
                found = split_envelope(body)[0].header
                return self.codes.body_unreadable, str(exc), found
            return None
        reason = entry.read_error or entry.status_detail or "the text could not be read"
        header, readable = read_header(body)
        code = self.codes.body_unreadable if readable else self.codes.header_unreadable
        return code, reason, header

    def _quarantine_once(self, entry: JournalEntry, delivery: Delivery, reason: str) -> None:
        """Quarantine the text unless an earlier copy already is (a redelivery)."""
        if entry.status == "quarantined":
            return
        if entry.status != "unreadable" and entry.status != "received":
            return
        self.journal.quarantine(
            queue=delivery.queue, body=delivery.body, reason=reason, entry_id=entry.id
        )
        self._count("unreadable")
        self._count("quarantined")

    # ------------------------------------------------------------------ correlation

    def _apply_reply(
        self, reply: JournalEntry, *, communication: bool
    ) -> tuple[tuple[str, str], JournalEntry] | None:
        """Move the outbox entry a reply answers on (idempotent); returns the waiter key and
        the updated entry, for :meth:`_resolve` once the journal has committed."""
        if communication:
            return self._apply_communication([reply])[0]
        return self._apply_business([reply])[0]

    def _apply_business(
        self, replies: Sequence[JournalEntry]
    ) -> list[tuple[tuple[str, str], JournalEntry] | None]:
        """:meth:`_apply_reply` for business replies (saps.604, ccms.900, receipts …:
        matched by OrgnlMsgId + OrgnlMT + OrgnlInstgPty), in order: their originals found
        with one journal query, their status changes made with one journal statement (a
        reply to an original that an earlier reply of the batch moves starts a second
        statement, so that it sees that move as it would one at a time); one result per
        reply."""
        out: list[tuple[tuple[str, str], JournalEntry] | None] = [None] * len(replies)
        asking = [
            (index, reply)
            for index, reply in enumerate(replies)
            if reply.orig_msg_id is not None and reply.orig_mt is not None
        ]
        originals = self.journal.find_originals(
            [(r.orig_msg_id or "", r.orig_mt or "", r.orig_sender) for _, r in asking]
        )
        latest: dict[int, JournalEntry] = {}  # each original as the replies so far left it
        moving: list[tuple[int, JournalEntry, StatusUpdate]] = []
        moving_ids: set[int] = set()  # the originals in ``moving``

        def commit() -> None:
            moved = self._advance_many([(entry, update) for _, entry, update in moving])
            for (index, _, _), updated in zip(moving, moved, strict=True):
                out[index] = ((updated.sender or "", updated.mesg_id or ""), updated)
                latest[updated.id] = updated
            moving.clear()
            moving_ids.clear()

        for (index, reply), found in zip(asking, originals, strict=True):
            if found is None:
                continue
            if found.id in moving_ids:
                commit()  # an earlier reply of the batch moves it: see that move first
            original = latest.get(found.id, found)
            status = self.status_rules.status_for(reply.mt, reply.prc_sts)
            out[index] = ((original.sender or "", original.mesg_id or ""), original)
            if original.status != status:  # already there: no journal write
                update = StatusUpdate(
                    entry_id=original.id,
                    status=status,
                    code=reply.prc_cd or reply.prc_sts,
                    detail=reply.rjct_inf,
                    related_id=reply.id,
                )
                moving.append((index, original, update))
                moving_ids.add(original.id)
            self._count("correlated")
        commit()
        return out

    def _apply_communication(
        self, replies: Sequence[JournalEntry]
    ) -> list[tuple[tuple[str, str], JournalEntry] | None]:
        """:meth:`_apply_reply` for communication-level replies (ccms.990 ConfInf, ccms.911
        DscrdInf, matched by OrigSndr + header MesgID + MT), all their status changes in
        one journal statement; one result per reply."""
        out: list[tuple[tuple[str, str], JournalEntry] | None] = [None] * len(replies)
        wanted: list[tuple[int, tuple[str, str], JournalEntry, StatusUpdate]] = []
        for index, reply in enumerate(replies):
            if reply.orig_sender is None or reply.orig_mesg_id is None:
                continue
            key = (reply.orig_sender, reply.orig_mesg_id)
            with self._cond:  # a message we are waiting for: its entry is at hand
                waiting = self._waiters.get(key)
            original = (
                waiting.entry
                if waiting is not None
                else self.journal.find(
                    direction="out", sender=reply.orig_sender, mesg_id=reply.orig_mesg_id
                )
            )
            if reply.mt is not None and reply.mt.startswith("ccms.990"):
                code = reply.prc_cd
                status = "confirmed" if self.codes.is_success(code) else "refused"
                detail = None if status == "confirmed" else reply.rjct_inf
            else:
                code, status = reply.prc_cd, "rejected"
                detail = f"discarded by the NPC (ccms.911): {reply.rjct_inf or code}"
            if original is None or (reply.orig_mt and original.mt and original.mt != reply.orig_mt):
                self._keep_unmatched(key, reply, code)
                continue
            update = StatusUpdate(
                entry_id=original.id, status=status, code=code, detail=detail, related_id=reply.id
            )
            wanted.append((index, key, original, update))
        # an entry already at the status is left alone (no journal write)
        moving = [(i, key, entry, u) for i, key, entry, u in wanted if entry.status != u.status]
        moved = iter(self._advance_many([(entry, u) for _, _, entry, u in moving]))
        after = {i: next(moved) for i, _, _, _ in moving}
        for index, key, entry, _ in wanted:
            out[index] = (key, after.get(index, entry))
            self._count("correlated")
        return out

    def _advance(
        self, entry: JournalEntry, status: str, code: str | None, detail: str | None, related: int
    ) -> JournalEntry:
        if entry.status == status:
            return entry
        update = StatusUpdate(
            entry_id=entry.id, status=status, code=code, detail=detail, related_id=related
        )
        return self._advance_many([(entry, update)])[0]

    def _advance_many(
        self, changes: Sequence[tuple[JournalEntry, StatusUpdate]]
    ) -> list[JournalEntry]:
        """Apply the status changes; an entry that cannot move (e.g. a second, different
        990 for an entry already answered) keeps what it has. The entries are the journal's
        as this session last had them (``known``: the journal does not read them again
        while they are still so)."""
        if not changes:
            return []
        updated = self.journal.set_status_many(
            [u for _, u in changes], strict=False, known=[entry for entry, _ in changes]
        )
        for (entry, update), now in zip(changes, updated, strict=True):
            if now.status != update.status:
                log.warning(
                    "entry %s stays %s: it cannot go to %s", entry.id, now.status, update.status
                )
        return updated

    def _keep_unmatched(self, key: tuple[str, str], reply: JournalEntry, code: str | None) -> None:
        self._count("unmatched_confirmations")
        with self._cond:
            self._unmatched[key] = _Confirmation(code=code, mt=reply.orig_mt, related_id=reply.id)
            self._unmatched.move_to_end(key)
            while len(self._unmatched) > 100_000:
                self._unmatched.popitem(last=False)

    def _expire_unmatched(self) -> None:
        limit = time.monotonic() - self.unmatched_keep
        with self._cond:
            while self._unmatched:
                key, first = next(iter(self._unmatched.items()))
                if first.at >= limit:
                    break
                del self._unmatched[key]

    def _resolve(self, key: tuple[str, str], entry: JournalEntry) -> None:
        with self._cond:
            waiter = self._waiters.pop(key, None)
            if waiter is None:
                return
            waiter.result = self._result(entry, waiter)
            if waiter.call is not None:
                waiter.call.left -= 1
                if waiter.call.left > 0:
                    return  # its call is woken by its last answer (or its next deadline)
            self._cond.notify_all()

    def _result(self, entry: JournalEntry, waiter: _Waiter | None = None) -> SendResult:
        seconds = None
        if waiter is not None and waiter.first_put is not None:
            seconds = time.monotonic() - waiter.first_put
        # every value is a journal entry's (validated) or the session's own: not checked
        # again (one per message sent, under the session's condition)
        return trusted_model(
            SendResult,
            {
                "entry_id": entry.id,
                "sender": entry.sender,
                "mesg_id": entry.mesg_id,
                "mt": entry.mt,
                "status": entry.status,
                "code": entry.status_code,
                "detail": entry.status_detail,
                "puts": waiter.puts if waiter is not None else 0,
                "seconds": seconds,
            },
        )

    # ------------------------------------------------------------------ sending

    def prepare(self, item: bytes | str | Message | Any) -> bytes:
        """The CNAPS2 text to send for ``item``: the text itself (bytes or str), a parsed
        CNAPS2 :class:`Message` serialized, or a document (or envelope-less message)
        wrapped — and signed with the session's signer — by :func:`paymsg.codec.envelope.wrap.wrap`.
        With ``validate``, a message with errors raises :class:`ValidationFailedError`."""
        if isinstance(item, str):
            item = item.encode("utf-8")
        if isinstance(item, bytes):
            text = item
            if not looks_like_cnaps2(text):
                raise EnvelopeError(
                    "a CNAPS2 session sends CNAPS2 text ({H:} header, optional {S:}, XML); "
                    "this text has no header",
                    offset=0,
                    hint="pass the parsed document to send() to have it wrapped",
                )
        elif (
            isinstance(item, Message)
            and item.envelope is not None
            and item.type.startswith(("hvps.", "beps.", "ccms.", "saps."))
        ):
            if self.signer is not None and not getattr(item.envelope, "signed", True):
                item = wrap(
                    item,
                    signer=self.signer,
                    profile=self.signing_profile,
                    id_generator=self.id_generator,
                )
            text = serialize(item)
        else:
            message = wrap(
                item,
                signer=self.signer,
                profile=self.signing_profile,
                id_generator=self.id_generator,
            )
            text = serialize(message)
        if self.validate:
            from paymsg.validation import validate as run_validation

            report = run_validation(
                text, profile_name=self.validation_profile, config=self.validation_config
            )
            if not report.ok:
                first = report.at_least("error")[0]
                raise ValidationFailedError(
                    f"not sent: {report.counts['error']} validation error(s); first: "
                    f"[{first.rule}] {first.message}",
                    path=first.path,
                    line=first.line,
                    report=report,
                )
        return text

    def send(
        self, item: bytes | str | Message | Any, *, timeout: float | None = None
    ) -> SendResult:
        """Send one message and wait for its ccms.990 (see the module docstring)."""
        return self.send_many([item], timeout=timeout)[0]

    def send_many(
        self,
        items: Iterable[bytes | str | Message | Any],
        *,
        timeout: float | None = None,
        names: Sequence[str] | None = None,
    ) -> list[SendResult]:
        """Send many messages pipelined (all put, then all 990s awaited together).

        Everything is prepared (and validated) first: one bad item refuses the batch before
        anything is journaled, its error naming it (``names[i]``, e.g. its file, else
        ``item #i``). ``timeout`` overrides ``confirm_timeout`` for this call.
        """
        texts: list[bytes] = []
        for index, item in enumerate(items):
            try:
                texts.append(self.prepare(item))
            except PaymsgError as exc:
                raise exc.with_source(names[index] if names else f"item #{index}") from None
        # one commit (and one multi-row insert) for the batch, all or nothing: the entries
        # new in the outbox are 'sent' in it already (a crash after it leaves entries that
        # resume() puts); one that was there before goes on as resume() would take it
        recorded = self.journal.record_sending_many(texts, queue=self.out_queue)
        for _ in recorded:
            self.faults.hit("recorded_out")
        marked = {entry.id for entry, is_new in recorded if is_new}
        return self._send_entries([entry for entry, _ in recorded], timeout, marked=marked)

    def resume(
        self, *, timeout: float | None = None, work_date: date | str | None = None
    ) -> list[SendResult]:
        """Send again every outbox entry that is ``created`` or ``sent`` but has no 990
        (after a crash or restart), and wait for their 990s. With ``work_date``, only the
        entries of that work date (the journal's ``work_date`` column: the date part of
        the MsgId, else the header's send date) are sent again."""
        entries: list[JournalEntry] = []
        for status in ("created", "sent"):
            entries.extend(self.journal.query(direction="out", status=status, work_date=work_date))
        entries = [e for e in entries if e.queue == self.out_queue or not e.queue]
        entries.sort(key=lambda e: e.id)
        return self._send_entries(entries, timeout)

    def replay(
        self, mesg_id: str, *, sender: str | None = None, timeout: float | None = None
    ) -> SendResult:
        """Send an outbox entry again by its header MesgID (same text, same MesgID) and
        wait for its 990 — e.g. after ``timed_out`` or ``refused`` once the cause is fixed."""
        who = sender or self.participant
        if who is None:
            raise ConfigError(
                "replay needs the sender of the message (our participant code)",
                field="participant",
            )
        entry = self.journal.find(direction="out", sender=who, mesg_id=mesg_id)
        if entry is None:
            raise JournalError(
                f"no outbound message from {who} with MesgID {mesg_id!r}", field="MesgID"
            )
        if entry.status not in ("created", "sent", "timed_out", "refused"):
            raise JournalError(
                f"outbound message {mesg_id!r} is {entry.status!r}: the CNAPS2 centre has it "
                "already, and a copy would be discarded as a duplicate",
                field="MesgID",
                hint="replay is for messages that are created, sent, timed_out or refused",
            )
        return self._send_entries([entry], timeout, force=True)[0]

    def _send_entries(
        self,
        entries: Sequence[JournalEntry],
        timeout: float | None,
        *,
        force: bool = False,
        marked: frozenset[int] | set[int] = frozenset(),
    ) -> list[SendResult]:
        """Put ``entries`` and wait for their 990s; ``marked``: the ids of entries that
        are ``sent`` for this very put already (new in the outbox)."""
        self.start()
        wait = timeout if timeout is not None else self.confirm_timeout
        results: list[SendResult | None] = [None] * len(entries)
        waiters: list[tuple[int, _Waiter]] = []
        channel = self.channels.here()
        first_index: dict[int, int] = {}
        try:
            self._launch(entries, results, waiters, first_index, channel, wait, force, marked)
            self._await(channel, [w for _, w in waiters])
        finally:  # a put that failed (TransportError) leaves no waiter behind
            with self._cond:
                for _, waiter in waiters:
                    if waiter.result is None and self._waiters.get(waiter.key) is waiter:
                        del self._waiters[waiter.key]
        for index, waiter in waiters:
            results[index] = waiter.result
        for index, entry in enumerate(entries):  # the same message twice in one batch
            if results[index] is None and entry.id in first_index:
                results[index] = results[first_index[entry.id]]
        return [r for r in results if r is not None]

    def _launch(
        self,
        entries: Sequence[JournalEntry],
        results: list[SendResult | None],
        waiters: list[tuple[int, _Waiter]],
        first_index: dict[int, int],
        channel: Any,
        wait: float,
        force: bool,
        fresh_ids: frozenset[int] | set[int],
    ) -> None:
        # 1. 'sent' before any put, in one commit (a crash after it leaves entries that
        #    resume() finds); an entry that was put before (resume, replay) counts as resent;
        #    one new in the outbox was recorded 'sent' (fresh_ids)
        candidates: list[tuple[int, JournalEntry]] = []
        ready: dict[int, JournalEntry] = {}
        for index, entry in enumerate(entries):
            if entry.id in first_index:
                continue
            first_index[entry.id] = index
            if entry.id in fresh_ids:
                ready[index] = entry
                candidates.append((index, entry))
                continue
            if not force and entry.status not in ("created", "sent", "timed_out"):
                results[index] = self._result(entry)  # already answered: nothing to put
                continue
            candidates.append((index, entry))
        updates = [
            StatusUpdate(
                entry_id=entry.id,
                status="sent",
                detail=None if entry.status == "created" else "resent",
            )
            for index, entry in candidates
            if index not in ready
        ]
        moved = iter(self.journal.set_status_many(updates, strict=False) if updates else [])
        marked: list[tuple[int, _Waiter]] = []
        for index, entry in candidates:
            current = ready[index] if index in ready else next(moved)
            if current.status != "sent":  # its 990 was processed meanwhile: nothing to put
                results[index] = self._result(current)
                continue
            key = (entry.sender or "", entry.mesg_id or "")
            marked.append((index, _Waiter(entry=current, key=key, wait=wait)))
        # 2. register each waiter before the put: its 990 cannot come before it is awaited
        fresh: list[_Waiter] = []
        call = _Call(left=len(marked))
        for _, waiter in marked:
            waiter.call = call
        for index, waiter in marked:
            self.faults.hit("marked_sent")
            with self._cond:
                self._waiters[waiter.key] = waiter
                early = self._unmatched.pop(waiter.key, None)
            if early is not None:  # its 990 came before the journal knew the message
                updated = self._advance(
                    waiter.entry,
                    "confirmed" if self.codes.is_success(early.code) else "refused",
                    early.code,
                    None,
                    early.related_id,
                )
                self._resolve(waiter.key, updated)
                results[index] = waiter.result
                continue
            waiters.append((index, waiter))
            fresh.append(waiter)
        # 3. every registered waiter's text in one durable put (one fsync on SQLite)
        self._put_all(channel, fresh)

    def _put_all(self, channel: Any, waiters: Sequence[_Waiter]) -> None:
        if not waiters:
            return
        now = time.monotonic()
        channel.put_many(self.out_queue, [w.entry.raw for w in waiters])
        for waiter in waiters:
            self._after_put(waiter, now)

    def _resend(self, channel: Any, waiter: _Waiter) -> JournalEntry | None:
        """Put ``waiter``'s text again (same MesgID), its entry ``sent`` again first (its
        resend counted); None when put. When the journal has the entry answered already
        — its 990 was taken by another process's session on the same journal and reply
        queue — nothing is put and the entry as it is comes back."""
        now = time.monotonic()
        update = StatusUpdate(
            entry_id=waiter.entry.id, status="sent", detail=f"resent ({waiter.puts})"
        )
        current = self.journal.set_status_many([update], strict=False)[0]
        if current.status != "sent":
            return current
        waiter.entry = current  # as it is now, for its 990
        channel.put(self.out_queue, current.raw)
        self._after_put(waiter, now)
        return None

    def _after_put(self, waiter: _Waiter, now: float) -> None:
        self.faults.hit("put")
        waiter.puts += 1
        if waiter.first_put is None:
            waiter.first_put = now
        waiter.deadline = time.monotonic() + waiter.wait * self.resend_backoff ** (waiter.puts - 1)

    def _await(self, channel: Any, waiters: list[_Waiter]) -> None:
        pending = list(waiters)
        while pending:
            expired: list[_Waiter] = []
            with self._cond:
                pending = [w for w in pending if w.result is None]
                if not pending:
                    break
                if self._error is not None:
                    for w in pending:
                        self._waiters.pop(w.key, None)
                    self._check_error()
                now = time.monotonic()
                nearest = min(w.deadline for w in pending)
                if nearest > now:
                    self._cond.wait(nearest - now)
                    continue
                for w in pending:
                    if w.deadline <= now:
                        expired.append(w)
            for w in expired:
                answered = None
                if w.puts <= self.resend:
                    answered = self._resend(channel, w)  # same text, same MesgID
                    if answered is None:
                        continue
                with self._cond:
                    if w.result is not None:
                        continue
                    self._waiters.pop(w.key, None)
                    if w.call is not None:  # its result is set below, by this thread
                        w.call.left -= 1
                entry = answered or self.journal.get(w.entry.id)
                if entry.status == "sent":
                    entry = self._advance(
                        entry,
                        "timed_out",
                        None,
                        f"no ccms.990 after {w.puts} put(s)",
                        entry.id,
                    )
                w.result = self._result(entry, w)

    # ------------------------------------------------------------------ delivery

    #: entries read per query when a start queues what the journal still has pending
    pending_page = 500

    def _deliver_pending(self) -> None:
        after = 0
        while True:
            batch = self.journal.pending_deliveries(limit=self.pending_page, after_id=after)
            if not batch:
                return
            self._submit_many(batch)
            after = batch[-1].id
            if len(batch) < self.pending_page:
                return

    def _submit(self, entry: JournalEntry) -> None:
        self._submit_many([entry])

    def _submit_many(self, entries: Sequence[JournalEntry]) -> None:
        """Queue ``entries`` for delivery, in order: each sender's to one worker (so its
        order is kept), one queue item per worker."""
        lanes: dict[int, list[int]] = {}
        lane_of: dict[str, int] = {}
        for entry in entries:
            key = entry.sender or ""
            lane = lane_of.get(key)
            if lane is None:
                digest = hashlib.blake2b(key.encode(), digest_size=4).digest()
                lane = lane_of[key] = int.from_bytes(digest, "big") % len(self._work)
            lanes.setdefault(lane, []).append(entry.id)
        for lane, ids in lanes.items():
            self._work[lane].put(ids)

    def _deliver_loop(self, work: queue_mod.Queue[list[int] | None]) -> None:
        while True:
            # what is queued, in arrival order: up to a batch per journal transaction
            ids: list[int] = []
            taken = 0
            end = False
            item = work.get()
            while True:
                taken += 1
                if item is None:
                    end = True
                    break
                ids.extend(item)
                if len(ids) >= self.delivery_batch:
                    break
                try:
                    item = work.get_nowait()
                except queue_mod.Empty:
                    break
            for start in range(0, len(ids), self.delivery_batch):
                try:
                    self._deliver_batch(ids[start : start + self.delivery_batch])
                except BaseException as exc:
                    self._error = exc
                    log.error("delivery stopped: %s", exc)
            for _ in range(taken):
                work.task_done()
            if end:
                return

    def _drain_deliveries(self) -> None:
        for work in self._work:
            work.join()

    #: business messages delivered to the handler in one journal transaction (at most)
    delivery_batch = 256

    def _deliver_batch(self, entry_ids: list[int]) -> None:
        """Deliver ``entry_ids`` in order, many per journal transaction. A message whose
        handler fails stops the run there (what came before commits): it is retried after
        a pause, or quarantined after ``handler_attempts`` failures, before the messages
        after it — each sender's order is kept, as with one message at a time."""
        handler = self._handler
        assert handler is not None

        def run(entry: JournalEntry, conn: Connection) -> None:
            self.faults.hit("in_handler")
            handler(entry, conn)
            self.faults.hit("handler_done")

        pending = entry_ids
        while pending:
            outcomes = self.journal.deliver_many(pending, run, stop_at_failure=True)
            delivered = 0
            for outcome in outcomes:
                if outcome is True:
                    self.faults.hit("delivered")
                    delivered += 1
            if delivered:
                self._count("delivered", delivered)
            failure = outcomes[-1] if outcomes else None
            if not isinstance(failure, Exception):
                return
            index = len(outcomes) - 1
            if self._handler_failed(pending[index], failure):
                pending = pending[index + 1 :]  # quarantined (or gone): go on after it
            else:
                pending = pending[index:]  # retry it, then the ones after it

    def _handler_failed(self, entry_id: int, failure: Exception) -> bool:
        """After a handler failure on ``entry_id``: quarantine it once it failed
        ``handler_attempts`` times (True), else wait before the next attempt (False).
        True as well when it is no longer pending (delivered elsewhere, quarantined)."""
        entry = self.journal.get(entry_id)
        if entry.status != "received" or entry.delivered_at is not None:
            return True
        self._count("handler_failures")
        if entry.attempts >= self.handler_attempts:
            reason = (
                f"the handler failed {entry.attempts} time(s); last: "
                f"{entry.last_error or f'{type(failure).__name__}: {failure}'}"
            )
            self.journal.quarantine(
                queue=entry.queue, body=entry.raw, reason=reason, entry_id=entry.id
            )
            self._count("quarantined")
            return True
        time.sleep(self.handler_retry_delay * entry.attempts)
        return False

    # ------------------------------------------------------------------ quarantine

    def retry(self, quarantine_id: int) -> None:
        """Take a message out of the quarantine: a business message whose handler failed
        is delivered again (when a handler is running, now; else by the next ``listen``);
        an unreadable text is put back on ``in_queue`` to be read again."""
        record = self.journal.release(quarantine_id)
        entry = self.journal.get(record.entry_id) if record.entry_id is not None else None
        if entry is not None and entry.status == "received" and entry.deliverable:
            if self._handler is not None:
                self._submit(entry)
            return
        self._declare()
        self.channels.here().put(record.queue or self.in_queue, record.body)
