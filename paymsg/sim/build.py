"""Every message the centre sends, built from the generated models and ``cnaps2.wrap``.

Each builder takes plain values and returns the CNAPS2 text (bytes). Bodies are written
as data keyed by XML names, bound into the generated dataclasses with
:func:`paymsg.codec.json.engine.from_data` (which refuses a value outside its lexical space),
wrapped with :func:`paymsg.codec.envelope.wrap.wrap` and serialized with :func:`paymsg.serialize` —
never formatted as XML text by hand.

Header facts (reference §2.2, §3.2–3.3): the NPC is participant ``0000``; NPC messages
travel downwards (``D``) with priority 3; the NPC keeps the originating bank as
``OrigSender`` of a message it forwards; NPC MesgIDs look like a 4-letter prefix and 16
hex digits (``HVPD5DD96B7F19269652``, [S1]). The reserve characters of forwarded
messages (``"XN       "`` on BEPS, ``"       X "`` on HVPS) are copied from the samples
([S1]; their meaning is [NF]).
"""

from __future__ import annotations

import base64
import functools
import hashlib
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from paymsg.codec.api import serialize
from paymsg.codec.envelope.cnaps2 import (
    Cnaps2Envelope,
    Cnaps2Header,
    join_envelope,
    split_envelope,
)
from paymsg.codec.envelope.wrap import wrap
from paymsg.codec.json.engine import from_data, to_data
from paymsg.codec.message import Message
from paymsg.errors import PaymsgError
from paymsg.reference.cnaps2 import NPC, beijing_now
from paymsg.schema.catalog import catalog

__all__ = [
    "BEPS_FORWARD_RESERVE",
    "HVPS_FORWARD_RESERVE",
    "Built",
    "Ids",
    "build",
    "comconf_990",
    "common_confirmation_900",
    "corrupt_signature",
    "discard_911",
    "forward",
    "settlement_receipt_604",
    "summary_amount",
    "system_status_801",
]

#: reserve field of NPC-forwarded BEPS packages in both public samples ([S1])
BEPS_FORWARD_RESERVE = "XN       "
#: reserve field of the NPC-relayed hvps.111 sample ([S1])
HVPS_FORWARD_RESERVE = "       X "

#: longest RjctInf / 拒绝信息 (Max105Text)
REJECT_INFO = 105


@dataclass(frozen=True, slots=True)
class Ids:
    """The ids of one message the centre originates: header MesgID and GrpHdr MsgId."""

    mesg_id: str
    msg_id: str

    @classmethod
    def make(cls, system: str, number: int, work_date: date) -> Ids:
        """NPC-style ids from a durable counter: ``HVPD`` + 16 hex digits, and the work
        date + 8-digit sequence (§2.4)."""
        prefix = (system[:3] + "D").upper()
        return cls(f"{prefix}{number:016X}", f"{_yyyymmdd(work_date)}{number % 10**8:08d}")


@dataclass(frozen=True, slots=True)
class Built:
    """One outgoing message: its text and the facts the books keep about it."""

    text: bytes
    mt: str
    mesg_id: str
    msg_id: str | None
    sender: str
    receiver: str


def _yyyymmdd(day: date) -> str:
    """``f"{day:%Y%m%d}"``, without strftime's cost (the same text from year 1000 on)."""
    if isinstance(day, datetime) and day.tzinfo is not None:
        return _date_text(day.date())
    return _date_text(day)


def _stamp(moment: datetime) -> str:
    if moment.tzinfo is not None:
        return moment.replace(microsecond=0).isoformat()
    return _naive_stamp(moment)


# The two below are asked several times per payment for the same business date and the
# same moment (a batch's), so their texts are kept for the last few. Only naive values are
# kept: two aware moments are equal (the same key) in different zones, which print apart.


@functools.lru_cache(maxsize=16)
def _date_text(day: date) -> str:
    if day.year < 1000:
        return f"{day:%Y%m%d}"
    return f"{day.year:04d}{day.month:02d}{day.day:02d}"


@functools.lru_cache(maxsize=16)
def _naive_stamp(moment: datetime) -> str:
    return moment.replace(microsecond=0).isoformat()


def summary_amount(amount: Decimal, currency: str = "CNY") -> str:
    """SummaryAmountText ``CNY+123.45`` (§4.3): explicit sign, 2 decimals."""
    sign = "-" if amount < 0 else "+"
    return f"{currency}{sign}{abs(amount).quantize(Decimal('0.01'))}"


def group_header(
    msg_id: str, now: datetime, receiver: str, system: str, *, rmk: str | None = None
) -> dict[str, Any]:
    """A GroupHeader1 from the NPC to ``receiver``."""
    header: dict[str, Any] = {
        "MsgId": msg_id,
        "CreDtTm": _stamp(now),
        "InstgPty": {"InstgDrctPty": NPC, "InstgPty": NPC},
        "InstdPty": {"InstdDrctPty": receiver, "InstdPty": receiver},
        "SysCd": system,
    }
    if rmk:
        header["Rmk"] = rmk
    return header


def build(
    mt: str,
    data: dict[str, Any],
    *,
    receiver: str,
    system: str,
    ids: Ids,
    now: datetime,
    msg_id: str | None = None,
) -> Built:
    """Bind ``data`` (XML names) into ``mt``'s generated model, wrap it as an NPC message
    to ``receiver`` and serialize it."""
    mtype = catalog().get(mt)
    document = from_data(mtype.root_class, data)
    message = wrap(
        document,
        type=mt,
        sender=NPC,
        receiver=receiver,
        sender_system=system,
        receiver_system=system,
        priority="3",
        direction="D",
        mesg_id=ids.mesg_id,
        mesg_ref_id=ids.mesg_id,
        now=now,
    )
    return Built(serialize(message), mt, ids.mesg_id, msg_id, NPC, receiver)


def comconf_990(
    confirmed: Cnaps2Header, code: str, *, ids: Ids, now: datetime, receiver: str
) -> Built:
    """ccms.990 for a received message: echoes its header (§6.6)."""
    values = {
        "OrigSndr": confirmed.orig_sender,
        "OrigSndDt": confirmed.orig_send_date,
        "MT": confirmed.mesg_type,
        "MsgId": confirmed.mesg_id,
        "MsgRefId": confirmed.mesg_ref_id,
        "MsgPrcCd": code,
    }
    system = confirmed.orig_sender_sid
    text = _REPLY_990.fill((receiver, system), values, ids, now)
    if text is None:
        return _comconf_990(values, system=system, ids=ids, now=now, receiver=receiver)
    return Built(text, _MT_990, ids.mesg_id, None, NPC, receiver)


_MT_990 = "ccms.990.001.02"


def _comconf_990(
    info: dict[str, Any], *, system: str, ids: Ids, now: datetime, receiver: str
) -> Built:
    """ccms.990 bound into the generated model (``info``: the ConfInf values)."""
    return build(
        _MT_990, {"ComConf": {"ConfInf": info}}, receiver=receiver, system=system, ids=ids, now=now
    )


def discard_911(
    *,
    orig_sender: str,
    orig_send_date: str,
    mt: str,
    mesg_id: str,
    mesg_ref_id: str | None,
    code: str,
    info: str,
    system: str,
    ids: Ids,
    now: datetime,
    receiver: str,
) -> Built:
    """ccms.911 discard notice naming the dropped message by its header fields (§6.8)."""
    discarded: dict[str, Any] = {
        "OrigSndr": orig_sender[:12],
        "OrigSndDt": orig_send_date[:8],
        "MT": mt[:20],
        "MsgId": mesg_id[:20],
        "PrcCd": code,
        "RjctInf": info[:REJECT_INFO],
    }
    if mesg_ref_id:
        discarded["MsgRefId"] = mesg_ref_id[:20]
    return build(
        "ccms.911.001.02",
        {"DscrdMsgNtfctn": {"DscrdInf": discarded}},
        receiver=receiver,
        system=system,
        ids=ids,
        now=now,
    )


def common_confirmation_900(
    *,
    orgnl_msg_id: str,
    orgnl_sender: str,
    orgnl_mt: str,
    status: str,
    code: str | None,
    info: str | None,
    system: str,
    ids: Ids,
    now: datetime,
    receiver: str,
    processing_date: date | None = None,
    netting_round: str | None = None,
) -> Built:
    """ccms.900 (§6.7): OrgnlGrpHdr + PrcSts / PrcCd / RjctInf (+ PrcDt, NetgRnd)."""
    conf: dict[str, Any] = {"PrcSts": status}
    if code:
        conf["PrcCd"] = code
    if info:
        conf["RjctInf"] = info[:REJECT_INFO]
    if processing_date is not None:
        conf["PrcDt"] = processing_date.isoformat()
    if netting_round is not None:
        conf["NetgRnd"] = netting_round
    data = {
        "CmonConf": {
            "GrpHdr": group_header(ids.msg_id, now, receiver, system),
            "OrgnlGrpHdr": {
                "OrgnlMsgId": orgnl_msg_id[:35],
                "OrgnlInstgPty": orgnl_sender[:14],
                "OrgnlMT": orgnl_mt[:35],
            },
            "CmonConfInf": conf,
        }
    }
    return build(
        "ccms.900.001.02",
        data,
        receiver=receiver,
        system=system,
        ids=ids,
        now=now,
        msg_id=ids.msg_id,
    )


def npc_processing(
    status: str,
    code: str,
    *,
    received: datetime | None = None,
    sent: datetime | None = None,
    settlement_date: date | None = None,
    netting_date: date | None = None,
    netting_round: str | None = None,
    info: str | None = None,
) -> dict[str, Any]:
    """NPCProcessInformation (§4.2) as data, elements in schema order."""
    data: dict[str, Any] = {"PrcSts": status, "PrcCd": code}
    if info:
        data["RjctInf"] = info[:REJECT_INFO]
    if netting_date is not None:
        data["NetgDt"] = netting_date.isoformat()
    if netting_round is not None:
        data["NetgRnd"] = netting_round
    if settlement_date is not None:
        data["SttlmDt"] = settlement_date.isoformat()
    if received is not None:
        data["RcvTm"] = _stamp(received)
    if sent is not None:
        data["TrnsmtTm"] = _stamp(sent)
    return data


def settlement_receipt_604(
    *,
    orgnl_msg_id: str,
    orgnl_sender: str,
    orgnl_mt: str,
    processing: dict[str, Any],
    balance: Decimal,
    ids: Ids,
    now: datetime,
    receiver: str,
) -> Built:
    """saps.604 清算回执 to the sender of an HVPS payment (§6.10), with its balance."""
    values = {
        "OrgnlMsgId": orgnl_msg_id,
        "OrgnlInstgPty": orgnl_sender,
        "OrgnlMT": orgnl_mt,
        **processing,
        "Bal": summary_amount(balance),
    }
    text = _REPLY_604.fill((receiver, *processing), values, ids, now)
    if text is None:
        return _settlement_receipt_604(
            values, processing=tuple(processing), ids=ids, now=now, receiver=receiver
        )
    return Built(text, _MT_604, ids.mesg_id, ids.msg_id, NPC, receiver)


_MT_604 = "saps.604.001.01"


def _settlement_receipt_604(
    values: dict[str, Any], *, processing: tuple[str, ...], ids: Ids, now: datetime, receiver: str
) -> Built:
    """saps.604 bound into the generated model (``values``: its OrgnlGrpHdr, the
    NPCPrcInf elements named in ``processing`` and Bal)."""
    data = {
        "SttlmRtrRct": {
            "GrpHdr": group_header(ids.msg_id, now, receiver, "SAPS"),
            "OrgnlGrpHdr": {
                "OrgnlMsgId": values["OrgnlMsgId"],
                "OrgnlInstgPty": values["OrgnlInstgPty"],
                "OrgnlMT": values["OrgnlMT"],
            },
            "NPCPrcInf": {name: values[name] for name in processing},
            "AcctInf": {"Bal": values["Bal"]},
        }
    }
    return build(
        _MT_604, data, receiver=receiver, system="SAPS", ids=ids, now=now, msg_id=ids.msg_id
    )


def system_status_801(
    *,
    previous_date: date,
    previous_status: str,
    current_date: date,
    current_status: str,
    next_date: date | None,
    holiday_flag: str,
    remark: str,
    system: str,
    ids: Ids,
    now: datetime,
    receiver: str,
) -> Built:
    """ccms.801 系统状态变更通知 announcing a business-date switch (§6.11)."""
    info: dict[str, Any] = {
        "OrgnlSysDt": previous_date.isoformat(),
        "OrgnlSysSts": previous_status,
        "CurSysDt": current_date.isoformat(),
        "CurSysSts": current_status,
        "HldayFlg": holiday_flag,
    }
    if next_date is not None:
        info["NxtSysDt"] = next_date.isoformat()
    data = {
        "SysStsNtfctn": {
            "GrpHdr": group_header(ids.msg_id, now, receiver, system, rmk=remark),
            "SysStsInf": info,
        }
    }
    return build(
        "ccms.801.001.02",
        data,
        receiver=receiver,
        system=system,
        ids=ids,
        now=now,
        msg_id=ids.msg_id,
    )


def forward(
    message: Message,
    *,
    mesg_id: str,
    now: datetime,
    processing: dict[str, Any] | None = None,
) -> Built:
    """The message as the NPC forwards it to its receiver.

    The header is the received one with what the NPC changes (validated by
    :meth:`Cnaps2Header.replace`): direction ``D``, a new MesgID (also the MesgRefID), the
    NPC's send date and time and reserve characters; the originating bank stays
    OrigSender (§3.3). The sender's ``{S:}`` block is carried over unchanged.

    HVPS bodies are ISO pacs.008/pacs.009 documents, which have no NPCPrcInf element: the
    body is relayed byte for byte as received. A BEPS package gets ``processing`` as its
    ``NPCPrcInf`` and is serialized from the generated model again.
    """
    assert isinstance(message.envelope, Cnaps2Envelope)
    if processing is None and message.original is not None:
        return relay(message.envelope, message.original, message.type, mesg_id=mesg_id, now=now)
    envelope = _forward_envelope(message.envelope, mesg_id, now, processing is None)
    document = message.document
    if processing is not None:
        data = to_data(document)
        root = next(iter(data))
        data[root]["NPCPrcInf"] = processing
        document = from_data(type(document), data)
    text = serialize(Message(message.type, document, envelope))
    original = message.envelope.header
    return Built(text, message.type, mesg_id, None, original.orig_sender, original.orig_receiver)


def relay(envelope: Cnaps2Envelope, body: bytes, mt: str, *, mesg_id: str, now: datetime) -> Built:
    """:func:`forward` of an HVPS message from its envelope and its body as received
    (``mt``: its type), which is relayed byte for byte: nothing needs the bound model."""
    forwarded = _forward_envelope(envelope, mesg_id, now, True)
    text = join_envelope(forwarded, body)
    original = envelope.header
    return Built(text, mt, mesg_id, None, original.orig_sender, original.orig_receiver)


def _forward_envelope(
    envelope: Cnaps2Envelope, mesg_id: str, now: datetime, hvps: bool
) -> Cnaps2Envelope:
    """The received envelope as the NPC forwards it (see :func:`forward`)."""
    stamp = beijing_now(now)
    header = _forward_header(
        envelope.header,
        mesg_id=mesg_id,
        mesg_ref_id=mesg_id,
        mesg_direction="D",
        orig_send_date=_yyyymmdd(stamp),
        orig_send_time=f"{stamp:%H%M%S}",
        reserve=HVPS_FORWARD_RESERVE if hvps else BEPS_FORWARD_RESERVE,
    )
    return Cnaps2Envelope(header=header, signature=envelope.signature)


# ------------------------------------------------------------------ prepared replies
#
# The 990 and the 604 are most of what the centre writes (one each per payment). Binding
# them into the models and serializing them each time costs more than the rest of their
# handling, so each is prepared once per receiver (and system, or NPCPrcInf elements):
# the model builder writes it twice with two sets of stand-in values, the text is cut where
# the stand-ins stand, and the cut is kept only when filling it with the second set gives
# the builder's second text exactly. A reply is then written from the cut text when every
# value is one the builder writes as it is (letters, digits and dots within the schema's
# length; dates, times and amounts of their lexical form); any other value (one needing
# XML escaping, too long, an aware clock …) goes through the builder.


def _text_of(longest: int) -> re.Pattern[str]:
    return re.compile(f"[0-9A-Za-z.]{{1,{longest}}}")


_NPC_MESG_ID = re.compile("[0-9A-Z]{20}")
_NPC_MSG_ID = re.compile("[0-9]{16}")
_ISO_DATE = re.compile("[0-9]{4}-[0-9]{2}-[0-9]{2}")
_ISO_DATE_TIME = re.compile("[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}")
_SUMMARY_AMOUNT = re.compile(r"[A-Z]{3}[+\-][0-9]{1,20}\.[0-9]{2}")


#: the moments the stand-in texts are written at (their header and CreDtTm are cut out)
_STAND_IN_MOMENTS = (datetime(1987, 6, 5, 4, 32, 10), datetime(1976, 5, 4, 3, 21, 9))

Patterns = dict[str, re.Pattern[str]]


@dataclass(frozen=True, slots=True)
class _Cut:
    """A reply's text cut where its values stand: ``parts[0] slot parts[1] slot …``."""

    parts: tuple[bytes, ...]
    slots: tuple[str, ...]
    #: what each value the builder is given must look like to be written as it is
    patterns: Patterns
    #: the values' names, one pattern for all of them (joined by a character none of them
    #: may hold), and the dates among them (read, to be real dates)
    names: tuple[str, ...]
    joined: re.Pattern[str]
    dated: tuple[tuple[str, Callable[[str], Any]], ...]

    def join(self, values: dict[str, str]) -> bytes:
        parts = self.parts
        out = [parts[0]]
        for slot, part in zip(self.slots, parts[1:], strict=True):
            out.append(values[slot].encode("ascii"))
            out.append(part)
        return b"".join(out)

    @classmethod
    def make(cls, parts: list[bytes], slots: list[str], patterns: Patterns) -> _Cut:
        joined = re.compile(_SEPARATOR.join(f"(?:{p.pattern})" for p in patterns.values()))
        dated = tuple(
            (name, date.fromisoformat if p is _ISO_DATE else datetime.fromisoformat)
            for name, p in patterns.items()
            if p is _ISO_DATE or p is _ISO_DATE_TIME
        )
        return cls(tuple(parts), tuple(slots), patterns, tuple(patterns), joined, dated)


#: joins a reply's values for one pattern match: no value pattern takes it
_SEPARATOR = "\x1f"


def _stand_in(pattern: re.Pattern[str], variant: int, index: int) -> str:
    """A value of ``pattern``'s form that appears nowhere else in a reply."""
    year = 1800 + 50 * variant + index
    if pattern is _ISO_DATE:
        return f"{year:04d}-03-1{variant}"
    if pattern is _ISO_DATE_TIME:
        return f"{year:04d}-04-2{variant}T1{index % 10}:3{variant}:47"
    if pattern is _SUMMARY_AMOUNT:
        return f"CNY+{variant + 1}{index:02d}9876.5{variant}"
    tag = "QZ"[variant]
    return f"{tag}{tag.lower()}{index:02d}s"


class _Prepared:
    """One kind of reply written from prepared text (see above).

    ``render(key, values, ids, now)`` is the model builder; ``patterns(key)`` what each of
    its ``values`` must look like to be written as it is (None: always the builder). The
    text is prepared per ``key`` (what stays the same between replies: receiver, system,
    the NPCPrcInf elements) on first use; it holds no per-reply state."""

    def __init__(
        self,
        render: Callable[[tuple[str, ...], dict[str, Any], Ids, datetime], Built],
        patterns: Callable[[tuple[str, ...]], Patterns | None],
        *,
        group_msg_id: bool,
    ) -> None:
        self.render = render
        self.patterns = patterns
        self.group_msg_id = group_msg_id
        self.cuts: dict[tuple[str, ...], _Cut | None] = {}

    def fill(
        self, key: tuple[str, ...], values: dict[str, Any], ids: Ids, now: datetime
    ) -> bytes | None:
        """The reply's text, or None when the builder has to write it."""
        try:
            cut = self.cuts[key]
        except KeyError:
            cut = self.cuts.setdefault(key, self._prepare(key))
        if cut is None or now.tzinfo is not None or now.year < 1000:
            return None  # (a naive time from year 1000 is written in the stand-ins' form)
        names = cut.names
        if len(values) != len(names):
            return None
        try:
            line = _SEPARATOR.join([values[name] for name in names])
        except (KeyError, TypeError):  # a value missing or not a str
            return None
        if cut.joined.fullmatch(line) is None:
            return None
        for name, read in cut.dated:
            try:
                read(values[name])
            except ValueError:
                return None
        if _NPC_MESG_ID.fullmatch(ids.mesg_id) is None or (
            self.group_msg_id and _NPC_MSG_ID.fullmatch(ids.msg_id or "") is None
        ):
            return None
        return cut.join(self._moment(values, ids, now))

    @staticmethod
    def _moment(values: dict[str, str], ids: Ids, now: datetime) -> dict[str, str]:
        """``values`` with what the builder writes of the ids and the time."""
        return {
            **values,
            "@date": _yyyymmdd(now),
            "@time": f"{now.hour:02d}{now.minute:02d}{now.second:02d}",
            "@stamp": _stamp(now),
            "@mesg_id": ids.mesg_id,
            "@msg_id": ids.msg_id,
        }

    def _prepare(self, key: tuple[str, ...]) -> _Cut | None:
        patterns = self.patterns(key)
        if patterns is None:
            return None
        texts: list[bytes] = []
        stand_ins: list[dict[str, str]] = []
        for variant, now in enumerate(_STAND_IN_MOMENTS):
            tag = "QZ"[variant]
            values = {
                name: _stand_in(pattern, variant, i)
                for i, (name, pattern) in enumerate(patterns.items())
            }
            ids = Ids(f"{tag * 2}STANDIN{variant}{'0' * 10}", f"{17 + variant}{'0' * 13}7")
            try:
                texts.append(self.render(key, values, ids, now).text)
            except PaymsgError:
                return None
            stand_ins.append(self._moment(values, ids, now))
        first = stand_ins[0]
        by_text = {value.encode("ascii"): name for name, value in first.items()}
        if len(by_text) != len(first):
            return None
        finder = re.compile(b"|".join(re.escape(v) for v in sorted(by_text, key=len, reverse=True)))
        parts: list[bytes] = []
        slots: list[str] = []
        start = 0
        for found in finder.finditer(texts[0]):
            parts.append(texts[0][start : found.start()])
            slots.append(by_text[found.group()])
            start = found.end()
        parts.append(texts[0][start:])
        cut = _Cut.make(parts, slots, patterns)
        if not set(patterns) <= set(slots) or cut.join(stand_ins[1]) != texts[1]:
            return None  # a value not written as given, or a stand-in met by chance
        return cut


_REPLY_990 = _Prepared(
    lambda key, values, ids, now: _comconf_990(
        values, system=key[1], ids=ids, now=now, receiver=key[0]
    ),
    lambda key: {
        "OrigSndr": _text_of(14),
        "OrigSndDt": _text_of(8),
        "MT": _text_of(20),
        "MsgId": _text_of(20),
        "MsgRefId": _text_of(20),
        "MsgPrcCd": _text_of(8),
    },
    group_msg_id=False,
)

#: NPCPrcInf elements a prepared 604 takes (with RjctInf it goes through the builder)
_PROCESSING_PATTERNS: Patterns = {
    "PrcSts": _text_of(4),
    "PrcCd": _text_of(8),
    "NetgDt": _ISO_DATE,
    "NetgRnd": _text_of(2),
    "SttlmDt": _ISO_DATE,
    "RcvTm": _ISO_DATE_TIME,
    "TrnsmtTm": _ISO_DATE_TIME,
}


def _patterns_604(key: tuple[str, ...]) -> Patterns | None:
    processing = key[1:]
    if not set(processing) <= set(_PROCESSING_PATTERNS):
        return None
    return {
        "OrgnlMsgId": _text_of(35),
        "OrgnlInstgPty": _text_of(14),
        "OrgnlMT": _text_of(35),
        **{name: _PROCESSING_PATTERNS[name] for name in processing},
        "Bal": _SUMMARY_AMOUNT,
    }


_REPLY_604 = _Prepared(
    lambda key, values, ids, now: _settlement_receipt_604(
        values, processing=key[1:], ids=ids, now=now, receiver=key[0]
    ),
    _patterns_604,
    group_msg_id=True,
)


#: reserve fields of forwards whose changed header the envelope has validated once
_FORWARD_FORMS: set[str] = set()


def _forward_header(original: Cnaps2Header, **changes: str) -> Cnaps2Header:
    """``original.replace(**changes)`` for a forward. The changed fields are the NPC's:
    a MesgID (and MesgRefID) of the form :meth:`Ids.make` writes, the send date and time
    of a real moment, direction ``D`` and a fixed reserve. Once the envelope has validated
    them for a reserve, values of the same form are set without validating the header
    again (every field rule is one of form); any other value is validated each time."""
    same_form = (
        _NPC_MESG_ID.fullmatch(changes["mesg_id"]) is not None
        and changes["mesg_ref_id"] == changes["mesg_id"]
        and changes["mesg_direction"] == "D"
        and len(changes["orig_send_date"]) == 8
        and changes["orig_send_date"].isdigit()
    )
    if same_form and changes["reserve"] in _FORWARD_FORMS:
        return original.model_copy(update=changes)
    header = original.replace(**changes)
    if same_form:
        _FORWARD_FORMS.add(changes["reserve"])
    return header


def corrupt_signature(text: bytes) -> bytes:
    """The same text with its ``{S:}`` signature altered (one byte of the DER value
    flipped), or a signature added when it has none — so that verification fails."""
    envelope, offset = split_envelope(text)
    if envelope.signature is not None:
        raw = bytearray(base64.b64decode(envelope.signature))
        raw[len(raw) // 2] ^= 0x01
    else:
        raw = bytearray(hashlib.sha256(text).digest() * 2)[:70]
    bad = Cnaps2Envelope(header=envelope.header, signature=base64.b64encode(bytes(raw)).decode())
    return bad.encode() + text[offset:]
