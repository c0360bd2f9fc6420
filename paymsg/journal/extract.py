"""Read the journal's columns out of a message text: ids, parties, codes, amounts, dates.

The header (CNAPS2 ``{H:}`` block) is read with the codec's envelope reader, the body
with :func:`paymsg.parse` and walked in its JSON shape (XML names as keys), the way
:mod:`paymsg.codec.summary` does, so one walker serves every catalogued type.

Where the values live (reference ``cnaps2.md``):

* 业务类型: ``PmtTpInf/CtgyPurp/Prtry`` (hvps.111, beps.121/122 details) or
  ``PmtTpInf/SvcLvl/Prtry`` (hvps.112, a pacs.009 body) — §6.1–6.3;
* 业务种类: ``Purp/Prtry``, or the ``/F25/`` remittance line of a pacs.009 body — §6.2;
* amount: ``CtrlSum`` of a package (``PKGGrpHdr``) or ISO group header, else the group's
  ``TtlIntrBkSttlmAmt``, else the sum of the transactions' ``IntrBkSttlmAmt`` / ``Amt``
  (one currency) — for hvps.111/112 that is the single ``IntrBkSttlmAmt``;
* correlation: ``OrgnlGrpHdr`` (OrgnlMsgId, OrgnlMT, OrgnlInstgPty; ISO ``OrgnlGrpInf``
  with ``OrgnlMsgNmId``) for business replies, the ``ConfInf`` / ``DscrdInf`` block
  (OrigSndr, MT, MsgId) of ccms.990 and ccms.911, which name the *header* MesgID;
* netting: ``NPCPrcInf/NetgDt`` and ``NetgRnd`` (ccms.900: ``CmonConfInf/NetgRnd``).

Reading never raises: a text that cannot be read fully gets ``read_error`` (the located
paymsg error message) and whatever could be read before the failure (often the header,
which is enough to answer and to detect duplicates).

A ccms.990 (one of every two messages a participant handles) is read on a short path: its
header with the codec's envelope reader, its body matched as a whole against the one
shape a ccms.990.001.02 body has (the six ``ConfInf`` fields, plain values within their
schema lengths, nothing else). The columns are those the full path gives (a test compares
both on every example and on generated variants); anything unusual - another layout,
comments, entities, other characters, a value out of its length - takes the full path.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any

from lxml import etree

from paymsg.codec.api import parse
from paymsg.codec.envelope.cnaps2 import (
    FIELDS,
    Cnaps2Envelope,
    looks_like_cnaps2,
    split_envelope,
)
from paymsg.codec.json.engine import message_to_data
from paymsg.codec.xml.safe import DEFAULT_LIMITS, parse_xml
from paymsg.errors import PaymsgError
from paymsg.reference.cnaps2 import TAG_LINE, is_msg_id
from paymsg.schema.catalog import catalog
from paymsg.schema.index import borrowed_schema, schema_index

__all__ = ["Extracted", "extract", "read_confirmation", "read_without_binding"]

#: the communication-level confirmation, read on the short path (see the module docstring)
_CONFIRMATION = "ccms.990.001.02"
#: where the header's MesgType field lies, from the ``{H:`` on, and its value for a 990
_MESG_TYPE = next(spec for spec in FIELDS if spec.name == "mesg_type")
_TYPE_FIELD = _CONFIRMATION.encode().ljust(_MESG_TYPE.end - _MESG_TYPE.offset)
_WS = rb"[ \t\r\n]*"
#: a whole ccms.990.001.02 body: XML declaration, Document in its namespace, ComConf/ConfInf
#: with OrigSndr, OrigSndDt, MT, MsgId, optional MsgRefId, MsgPrcCd (lengths as in the XSD)
_CONFIRMATION_BODY = re.compile(
    _WS
    + rb'(?:<\?xml version="1\.0" encoding="UTF-8"\?>'
    + _WS
    + rb')?<Document xmlns="urn:cnaps:std:ccms:2010:tech:xsd:ccms\.990\.001\.02">'
    + _WS
    + rb"<ComConf>"
    + _WS
    + rb"<ConfInf>"
    + _WS
    + rb"<OrigSndr>([0-9A-Za-z]{1,14})</OrigSndr>"
    + _WS
    + rb"<OrigSndDt>([0-9]{1,8})</OrigSndDt>"
    + _WS
    + rb"<MT>([0-9A-Za-z.]{1,20})</MT>"
    + _WS
    + rb"<MsgId>([0-9A-Za-z]{1,20})</MsgId>"
    + _WS
    + rb"(?:<MsgRefId>[0-9A-Za-z]{1,20}</MsgRefId>"
    + _WS
    + rb")?<MsgPrcCd>([0-9A-Za-z]{1,8})</MsgPrcCd>"
    + _WS
    + rb"</ConfInf>"
    + _WS
    + rb"</ComConf>"
    + _WS
    + rb"</Document>"
    + _WS
    + rb"\Z"
)

#: transaction-level amount elements (ISO pacs.008/009: IntrBkSttlmAmt; pacs.004:
#: RtrdIntrBkSttlmAmt; BEPS details: Amt)
_TX_AMOUNTS = ("IntrBkSttlmAmt", "RtrdIntrBkSttlmAmt", "Amt")
#: group-level totals, in order of preference, when there is no CtrlSum
_GROUP_TOTALS = ("TtlIntrBkSttlmAmt", "TtlRtrdIntrBkSttlmAmt")
#: the remittance line tag that carries 业务种类 in a pacs.009-based message (§6.2)
_CATEGORY_TAG = "F25"
#: messages never handed to the application: communication-level confirmation, probes
NOT_DELIVERABLE_PREFIXES = ("ccms.990.", "ccms.991.", "ccms.992.")


@dataclass
class Extracted:
    """The columns read from one text; ``read_error`` says why reading stopped, if it did."""

    sender: str | None = None
    receiver: str | None = None
    system: str | None = None
    mt: str | None = None
    mesg_id: str | None = None
    mesg_ref_id: str | None = None
    msg_id: str | None = None
    orig_msg_id: str | None = None
    orig_mt: str | None = None
    orig_sender: str | None = None
    orig_mesg_id: str | None = None
    tx_type: str | None = None
    category: str | None = None
    amount: Decimal | None = None
    currency: str | None = None
    nb_of_txs: int | None = None
    work_date: date | None = None
    netting_date: date | None = None
    netting_round: str | None = None
    package_id: str | None = None
    prc_sts: str | None = None
    prc_cd: str | None = None
    rjct_inf: str | None = None
    read_error: str | None = None
    digest: str = ""
    notes: list[str] = field(default_factory=list)

    @property
    def deliverable(self) -> bool:
        """Whether an inbound copy is for the application (not a ccms.990 or a probe)."""
        if self.read_error is not None or self.mt is None:
            return False
        return not self.mt.startswith(NOT_DELIVERABLE_PREFIXES)

    def columns(self) -> dict[str, Any]:
        """The values as table columns (``notes`` joined into one text, or None)."""
        values = {k: v for k, v in vars(self).items() if k != "notes"}
        values["notes"] = "; ".join(self.notes) or None
        return values


def extract(text: bytes, *, short: bool = True) -> Extracted:
    """The journal columns of ``text``; never raises. ``short=False`` reads every text on
    the full path (the tests compare both)."""
    out = Extracted(digest=hashlib.sha256(text).hexdigest())
    try:
        if short:
            if _confirmation(text, out):
                return out
            found = _tree_read(text, out.digest)
            if found is not None:
                return found
        _read(text, out)
    except PaymsgError as exc:
        out.read_error = str(exc)
    except Exception as exc:  # reading must never stop the recording; keep the reason
        out.read_error = f"internal error while reading the text: {type(exc).__name__}: {exc}"
    return out


def _read(text: bytes, out: Extracted) -> None:
    try:
        message = parse(text)
    except Exception:
        # keep what the header says (enough to answer and to detect copies), if it reads
        if looks_like_cnaps2(text):
            with contextlib.suppress(Exception):
                _from_header(split_envelope(text)[0], out)
        raise
    if isinstance(message.envelope, Cnaps2Envelope):
        _from_header(message.envelope, out)
    if out.mt is None:
        out.mt = message.type
    data = message_to_data(message).get("document") or {}
    _from_body(data, out)


def read_confirmation(text: bytes) -> Extracted | None:
    """The columns of a ccms.990 of the usual shape, read on the short path; None for any
    other text (:func:`extract` then reads it in full)."""
    out = Extracted(digest=hashlib.sha256(text).hexdigest())
    try:
        return out if _confirmation(text, out) else None
    except Exception:  # never raises; the full path reports what is wrong
        return None


def read_without_binding(text: bytes) -> Extracted | None:
    """The columns of a CNAPS2 business text read from its tree, without binding the body
    (see :func:`_tree_read`); None for a text that takes the full path."""
    return _tree_read(text, hashlib.sha256(text).hexdigest())


def _confirmation(text: bytes, out: Extracted) -> bool:
    """Fill ``out`` from a ccms.990 of the usual shape; False (``out`` untouched) for
    anything else, which then takes the full path."""
    start = text.find(b"{H:", 0, 64)
    if start < 0 or text[start + _MESG_TYPE.offset : start + _MESG_TYPE.end] != _TYPE_FIELD:
        return False  # not a ccms.990.001.02 by its header (or no header): the full path
    try:
        envelope, offset = split_envelope(text)
    except PaymsgError:
        return False
    if envelope.header.mesg_type != _CONFIRMATION or envelope.signed:
        return False
    match = _CONFIRMATION_BODY.match(text, offset)
    if match is None:
        return False
    _from_header(envelope, out)
    orig_sender, _, orig_mt, msg_id, code = (value.decode("ascii") for value in match.groups())
    out.orig_sender = orig_sender
    out.orig_mt = orig_mt
    out.orig_mesg_id = msg_id
    out.prc_cd = code
    return True


def _from_header(envelope: Cnaps2Envelope, out: Extracted) -> None:
    header = envelope.header
    out.sender = header.orig_sender
    out.receiver = header.orig_receiver
    out.system = header.orig_sender_sid
    out.mt = header.mesg_type
    out.mesg_id = header.mesg_id
    out.mesg_ref_id = header.mesg_ref_id
    out.work_date = _yyyymmdd(header.orig_send_date)


# --------------------------------------------------------------------------- walking


#: the element names the body is searched for (see _from_body)
_LOOKED_UP = frozenset(
    {
        "NetgDt",
        "NetgRnd",
        "PrcSts",
        "MsgPrcCd",
        "PrcCd",
        "RjctInf",
        "OrgnlMsgId",
        "OrigSndr",
        "PmtTpInf",
        "Purp",
        "RmtInf",
        "InstgAgt",
        "InstdAgt",
    }
)


#: the identifiers of an agent, in order of preference
_AGENT_IDS = frozenset({"MmbId", "BICFI"})


class _Index:
    """Every element of a body (JSON shape) that has a child named one of ``keys``, by
    that name, in document order: one walk of the tree answers every lookup below."""

    def __init__(self, root: Any, keys: frozenset[str] = _LOOKED_UP) -> None:
        self.by_key: dict[str, list[tuple[int, dict[str, Any]]]] = {}
        self._keys = keys
        self._count = 0
        self._walk(root)

    def _walk(self, node: Any) -> None:
        if isinstance(node, list):
            for item in node:
                self._walk(item)
        elif isinstance(node, dict):
            self._count += 1
            order = self._count
            keys = self._keys
            for key, value in node.items():
                if key in keys:
                    self.by_key.setdefault(key, []).append((order, node))
                if isinstance(value, dict | list):
                    self._walk(value)

    def first_with(self, key: str) -> dict[str, Any] | None:
        """The first element (document order) that has a child ``key``."""
        found = self.by_key.get(key)
        return found[0][1] if found else None

    def first_text(self, *keys: str) -> str | None:
        """The first scalar child named one of ``keys`` (document order)."""
        best: tuple[int, str] | None = None
        for key in keys:
            for order, element in self.by_key.get(key, ()):
                value = element[key]
                if isinstance(value, str):
                    if best is None or order < best[0]:
                        best = (order, value)
                    break
        return best[1] if best else None

    def all_texts(self, *path: str) -> list[str]:
        """Every scalar at ``path`` below any element, in document order."""
        found = []
        for _, element in self.by_key.get(path[0], ()):
            values = element[path[0]]
            for value in values if isinstance(values, list) else [values]:
                text = _text(value, *path[1:]) if len(path) > 1 else value
                if isinstance(text, str):
                    found.append(text)
        return found


def _at(node: Any, *path: str) -> Any:
    """The value at ``path`` below ``node`` (first item of lists), or None."""
    here = node
    for key in path:
        if isinstance(here, list):
            here = here[0] if here else None
        here = here.get(key) if isinstance(here, dict) else None
    if isinstance(here, list):
        return here[0] if here else None
    return here


def _text(node: Any, *path: str) -> str | None:
    value = _at(node, *path)
    return value if isinstance(value, str) else None


def _distinct(values: list[str]) -> str | None:
    """One value, or the distinct values joined by ``,`` when there are several."""
    unique = list(dict.fromkeys(values))
    return ",".join(unique) if unique else None


def _yyyymmdd(value: str | None) -> date | None:
    if not value or len(value) != 8 or not value.isdigit():
        return None
    try:
        return date(int(value[:4]), int(value[4:6]), int(value[6:]))
    except ValueError:
        return None


def _iso_date(value: str | None) -> date | None:
    if not value:
        return None
    try:
        return date.fromisoformat(value[:10])
    except ValueError:
        return None


def _amount(value: Any) -> tuple[Decimal, str | None] | None:
    """``(amount, currency)`` of an amount element (``{"@Ccy", "#text"}``) or decimal text."""
    if isinstance(value, dict) and "#text" in value:
        text, currency = value["#text"], value.get("@Ccy")
    elif isinstance(value, str):
        text, currency = value, None
    else:
        return None
    try:
        return Decimal(text), currency
    except (InvalidOperation, TypeError):
        return None


# --------------------------------------------------------------------------- the body


def _from_body(data: dict[str, Any], out: Extracted) -> None:
    root = next(iter(data.values()), None) if len(data) == 1 else data
    if not isinstance(root, dict):
        return
    group = root.get("PKGGrpHdr") or root.get("GrpHdr")
    if isinstance(group, list):
        group = group[0] if group else None
    group = group if isinstance(group, dict) else {}
    index = _Index(root)

    out.msg_id = _text(group, "MsgId")
    if "PKGGrpHdr" in root and out.msg_id:
        out.package_id = out.msg_id
    if out.msg_id and is_msg_id(out.msg_id):
        out.work_date = _yyyymmdd(out.msg_id[:8])
    elif out.work_date is None:
        out.work_date = _iso_date(_text(group, "CreDtTm"))
    if out.sender is None:
        out.sender = _text(group, "InstgPty", "InstgDrctPty") or _agent(index, "InstgAgt")
    if out.receiver is None:
        out.receiver = _text(group, "InstdPty", "InstdDrctPty") or _agent(index, "InstdAgt")
    if out.system is None:
        out.system = _text(group, "SysCd")
    nb = _text(group, "NbOfTxs")
    out.nb_of_txs = int(nb) if nb is not None and nb.isdigit() else None

    _correlation(root, index, out)
    _codes(index.all_texts, out)
    _amounts(root, group, out)

    out.netting_date = _iso_date(index.first_text("NetgDt"))
    out.netting_round = index.first_text("NetgRnd")
    if out.netting_date is None and out.netting_round is not None:
        # ccms.900 about a netted package: CmonConfInf carries PrcDt with NetgRnd (§6.7)
        out.netting_date = _iso_date(_text(index.first_with("NetgRnd"), "PrcDt"))
    out.prc_sts = index.first_text("PrcSts")
    out.prc_cd = index.first_text("MsgPrcCd", "PrcCd")
    out.rjct_inf = index.first_text("RjctInf")


def _agent(index: _Index, key: str) -> str | None:
    """The clearing member id (or else the BIC) of the first agent element ``key``."""
    holder = index.first_with(key)
    agent = holder[key] if holder is not None else None
    if isinstance(agent, list):
        agent = agent[0] if agent else None
    return (
        _Index(agent, _AGENT_IDS).first_text("MmbId", "BICFI") if isinstance(agent, dict) else None
    )


def _correlation(root: dict[str, Any], index: _Index, out: Extracted) -> None:
    # business: a top-level OrgnlGrpHdr / OrgnlGrpInf first, else the first one anywhere
    original = None
    for key in ("OrgnlGrpHdr", "OrgnlGrpInf", "OrgnlGrpInfAndSts"):
        if isinstance(_at(root, key), dict):
            original = _at(root, key)
            break
    if original is None:
        original = index.first_with("OrgnlMsgId")
    if original is not None:
        out.orig_msg_id = _text(original, "OrgnlMsgId")
        out.orig_mt = _text(original, "OrgnlMT") or _text(original, "OrgnlMsgNmId")
        out.orig_sender = _text(original, "OrgnlInstgPty")
    # communication level: ccms.990 ConfInf, ccms.911 DscrdInf name the header MesgID
    confirmed = index.first_with("OrigSndr")
    if confirmed is not None:
        out.orig_sender = _text(confirmed, "OrigSndr")
        out.orig_mt = _text(confirmed, "MT") or out.orig_mt
        out.orig_mesg_id = _text(confirmed, "MsgId")


def _codes(all_texts: Callable[..., list[str]], out: Extracted) -> None:
    """业务类型 and 业务种类 from ``all_texts`` (:meth:`_Index.all_texts` on the full path,
    :meth:`_TreeBody.all_texts` on the tree read)."""
    out.tx_type = _distinct(
        all_texts("PmtTpInf", "CtgyPurp", "Prtry") + all_texts("PmtTpInf", "SvcLvl", "Prtry")
    )
    categories = all_texts("Purp", "Prtry")
    for line in all_texts("RmtInf", "Ustrd"):
        match = TAG_LINE.fullmatch(line)
        if match and match.group(1) == _CATEGORY_TAG:
            categories.append(match.group(2).strip())
    out.category = _distinct(categories)


def _transactions(root: dict[str, Any]) -> list[dict[str, Any]]:
    """The transaction elements: the repeated children of the root that carry an amount."""
    found: list[dict[str, Any]] = []
    for key, value in root.items():
        if key in {"GrpHdr", "PKGGrpHdr", "NPCPrcInf", "OrgnlGrpHdr"}:
            continue
        for item in value if isinstance(value, list) else [value]:
            if isinstance(item, dict) and any(k in item for k in _TX_AMOUNTS):
                found.append(item)
    return found


def _amounts(root: dict[str, Any], group: dict[str, Any], out: Extracted) -> None:
    transactions = _transactions(root)
    tx_amounts = [
        a
        for a in (_amount(next(tx[k] for k in _TX_AMOUNTS if k in tx)) for tx in transactions)
        if a is not None
    ]
    total = _amount(group.get("CtrlSum"))
    for key in _GROUP_TOTALS:
        total = total or _amount(group.get(key))
    _set_amount(tx_amounts, total, len(transactions), out)


def _set_amount(
    tx_amounts: list[tuple[Decimal, str | None]],
    total: tuple[Decimal, str | None] | None,
    transactions: int,
    out: Extracted,
) -> None:
    """The amount, currency (and count, when the group states none) from the group's total
    or else the transactions' amounts in one currency (both reads)."""
    currencies = {c for _, c in tx_amounts if c}
    tx_currency = next(iter(currencies)) if len(currencies) == 1 else None
    if total is not None:
        out.amount, out.currency = total[0], total[1] or tx_currency
    elif tx_amounts and len(currencies) <= 1:
        out.amount = sum((a for a, _ in tx_amounts), Decimal(0))
        out.currency = tx_currency
    elif tx_amounts:
        out.notes.append(f"transactions in several currencies ({', '.join(sorted(currencies))})")
    if out.nb_of_txs is None and transactions:
        out.nb_of_txs = transactions


# --------------------------------------------------------------------------- short path


class _Unusual(Exception):
    """The tree reader met something it does not read the way the full path does."""


#: names the full path reads with ``first_text`` / ``first_with``, whose result depends on
#: whether the element is a list or a text in the JSON shape: the tree read reads them
#: where the type's schema says each holds one plain text wherever it occurs
#: (:attr:`~paymsg.schema.index.SchemaIndex.single_texts`), else the text takes the full
#: path
_SCHEMA_READ = ("NetgDt", "NetgRnd", "PrcSts", "MsgPrcCd", "PrcCd", "RjctInf", "OrigSndr")
#: an amount (or count) as the body of a well-formed payment writes it: digits, an
#: optional fraction; anything else (signs, exponents, spaces) takes the full path
_PLAIN_DECIMAL = re.compile(r"[0-9]+(?:\.[0-9]+)?\Z")
#: the names whose holders the reader looks up (see _TreeBody.holders)
_WALKED = (*_SCHEMA_READ, "PmtTpInf", "Purp", "RmtInf", "OrgnlMsgId")
_NAMES = frozenset(_WALKED)
_XML_DECLARATION = re.compile(rb"[ \t\r\n]*<\?xml[^>]*\?>")


def _tree_read(text: bytes, digest: str) -> Extracted | None:
    """The columns of a CNAPS2 text (header + business body) read without binding the body:
    the body is parsed with the codec's safe parser, validated against its type's schema
    (which is what makes binding succeed on the full path) and the journal's elements are
    taken from the tree in one walk, the way the full path takes them from the body's
    JSON shape. None for anything else — no CNAPS2 header, a body that is not its header's
    type, fails the schema or holds comments, processing instructions, CDATA, foreign
    elements, values with surrounding spaces or unusual amounts, or holds an element the
    full path reads in a way that depends on the schema (``PrcSts``, ``NetgDt`` …) where
    the type's schema does not give it one plain text wherever it occurs: the full path
    then reads it (and reports what is wrong)."""
    try:
        return _tree_columns(text, digest)
    except (_Unusual, PaymsgError, ValueError, etree.LxmlError):
        return None


def _tree_columns(text: bytes, digest: str) -> Extracted | None:
    if not looks_like_cnaps2(text) or len(text) > DEFAULT_LIMITS.max_bytes:
        return None
    envelope, offset = split_envelope(text)
    header = envelope.header
    if header.orig_sender is None or header.orig_receiver is None:
        return None  # the full path would look for them in the body
    plan = _plan(header.mesg_type)
    if plan is None:
        return None
    body = text[offset:]
    declaration = _XML_DECLARATION.match(body)
    rest = body[declaration.end() :] if declaration else body
    # (a byte is found in C at once, a pair of bytes scanned for much longer: most bodies
    # have neither '!' nor '?')
    if (b"!" in rest and b"<!" in rest) or (b"?" in rest and b"<?" in rest):
        return None  # comments, CDATA, DOCTYPE, processing instructions
    document = parse_xml(body)
    if document.tag != plan.document or len(document) != 1:
        return None
    with borrowed_schema(plan.schema_path) as schema:
        if not schema.validate(document):
            return None
    out = Extracted(digest=digest)
    _from_header(envelope, out)
    _TreeBody(document[0], plan, amounts_only=_only_amount_attributes(rest)).read(out)
    return out


#: the space that must come before a namespace declaration's ``xmlns``
_SPACE = frozenset(b" \t\r\n")
#: a namespace declaration (not an attribute in the tree) up to its value: ``xmlns="`` or
#: ``xmlns:p="``
_NAMESPACE_DECLARATION = re.compile(rb"xmlns(?::[^\s=<>\"']+)?=\"")


def _only_amount_attributes(body: bytes) -> bool:
    """Whether the bytes of ``body`` (without its XML declaration, comments, CDATA or
    processing instructions) show that no element has an attribute other than an amount's
    ``Ccy``: every ``=`` in it is that of a `` Ccy="`` or of a namespace declaration after
    a space (each attribute has its ``=``, so none is another attribute). False only
    means the tree must be asked."""
    at = body.find(b"=")
    while at >= 0:
        if body[at + 1 : at + 2] != b'"':
            return False
        if body[at - 4 : at] != b" Ccy":
            start = body.rfind(b"xmlns", max(0, at - 64), at)
            if (
                start <= 0
                or body[start - 1] not in _SPACE
                or _NAMESPACE_DECLARATION.fullmatch(body, start, at + 2) is None
            ):
                return False
        at = body.find(b"=", at + 1)
    return True


@dataclass(frozen=True)
class _Plan:
    """What the tree read needs of a message type, found once per type: its schema, its
    index's facts, and the lxml tags (``{namespace}Name``) it looks for."""

    document: str
    schema_path: str
    #: local name -> tag, for every name the reader asks for
    tags: dict[str, str]
    #: the tags of one walk: the names looked up by holder, and the wildcard-content ones
    walked: tuple[str, ...]
    cut: int
    single_texts: frozenset[str]
    #: root children that are not transactions
    skipped: frozenset[str]
    #: transaction amounts, group totals (tags, in order of preference)
    amounts: tuple[str, ...]
    totals: tuple[str, ...]
    #: the group header's elements read: its ids, count, date, system and totals
    group: tuple[str, ...]

    @functools.cached_property
    def group_tags(self) -> frozenset[str]:
        return frozenset(self.group)


#: every name the tree read asks for, besides _WALKED
_ASKED = (
    *_TX_AMOUNTS,
    *_GROUP_TOTALS,
    "CtrlSum",
    "GrpHdr",
    "PKGGrpHdr",
    "NPCPrcInf",
    "OrgnlGrpHdr",
    "OrgnlGrpInf",
    "OrgnlGrpInfAndSts",
    "OrgnlMT",
    "OrgnlMsgNmId",
    "OrgnlInstgPty",
    "MsgId",
    "CreDtTm",
    "SysCd",
    "NbOfTxs",
    "MT",
    "PrcDt",
    "CtgyPurp",
    "SvcLvl",
    "Prtry",
    "Ustrd",
)
#: the plans of the catalogued types read so far (by MesgType; shared, built once per type)
_PLANS: dict[str, _Plan | None] = {}


def _plan(mesg_type: str) -> _Plan | None:
    """The type's plan; None when the catalogue or its schema cannot say (the full path
    then reads the text, and reports what is wrong)."""
    if mesg_type in _PLANS:
        return _PLANS[mesg_type]
    mtype = catalog().get(mesg_type)  # an unknown type raises: nothing kept for it
    index = schema_index(str(mtype.schema_path))
    found = None
    if index is not None:
        ns = f"{{{mtype.namespace}}}"
        tags = {name: ns + name for name in (*_WALKED, *_ASKED)}
        found = _Plan(
            document=ns + "Document",
            schema_path=str(mtype.schema_path),
            tags=tags,
            walked=(*(tags[name] for name in _WALKED), *index.opaque_tags),
            cut=len(ns),
            single_texts=index.single_texts,
            skipped=frozenset(tags[n] for n in ("GrpHdr", "PKGGrpHdr", "NPCPrcInf", "OrgnlGrpHdr")),
            amounts=tuple(tags[name] for name in _TX_AMOUNTS),
            totals=tuple(tags[name] for name in ("CtrlSum", *_GROUP_TOTALS)),
            group=tuple(
                tags[name]
                for name in ("MsgId", "CreDtTm", "SysCd", "NbOfTxs", "CtrlSum", *_GROUP_TOTALS)
            ),
        )
    _PLANS[mesg_type] = found
    return found


#: whether a body has an attribute other than an amount's ``Ccy`` (``xsi:schemaLocation``
#: and the like are schema-valid anywhere, and the binder reads past them where the tree
#: read would not): such a body is read on the full path
_OTHER_ATTRIBUTE = etree.XPath(
    "boolean(descendant-or-self::*/@*[local-name() != 'Ccy' or namespace-uri() != ''])"
)
_SCHEMA_READ_NAMES = frozenset(_SCHEMA_READ)


class _TreeBody:
    """The full path's reading of a body (:func:`_from_body`) done on the lxml tree of a
    schema-valid body: an element with children or attributes is a mapping in the JSON
    shape, any other is its text; "first" means first in document order."""

    def __init__(self, root: etree._Element, plan: _Plan, *, amounts_only: bool = False) -> None:
        self.root = root
        self.tags = plan.tags
        self.plan = plan
        # one walk finds every element read below by name, in document order, and any
        # element whose schema type holds wildcard content (xs:any: supplementary data),
        # which the JSON shape holds its own way
        named: dict[str, list[etree._Element]] = {}
        cut = plan.cut
        for element in root.iter(*plan.walked):
            named.setdefault(str(element.tag)[cut:], []).append(element)
        found = named.keys()
        if (
            not found <= _NAMES
            or (found & _SCHEMA_READ_NAMES) - plan.single_texts
            or (not amounts_only and _OTHER_ATTRIBUTE(root))
        ):
            raise _Unusual("read on the full path")
        self.named = named
        self._kids: dict[str, dict[etree._Element, list[etree._Element]]] = {}
        self._order: dict[etree._Element, int] | None = None

    def text(self, element: etree._Element | None, *path: str) -> str | None:
        """The full path's ``_text``: the value at ``path`` if it is a plain text."""
        tags = self.tags
        for name in path:
            if element is None:
                return None
            element = _child(element, tags[name])
        if element is None or len(element) or element.keys():
            return None
        return _plain(element.text)

    def holders(self, name: str) -> list[etree._Element]:
        """The elements with a child ``name``, in document order (the full path's index)."""
        return list(self.kids(name))

    def kids(self, name: str) -> dict[etree._Element, list[etree._Element]]:
        """The elements with a child ``name`` (in document order), each with those children
        (in document order)."""
        found = self._kids.get(name)
        if found is None:
            found = {}
            for element in self.named.get(name, ()):
                parent = element.getparent()
                if parent is not None:
                    found.setdefault(parent, []).append(element)
            if len(found) > 1:  # the order of the elements, not of their first such child
                order = self.order()
                found = {parent: found[parent] for parent in sorted(found, key=order.__getitem__)}
            self._kids[name] = found
        return found

    def order(self) -> dict[etree._Element, int]:
        """Every element's place in document order (made when first needed)."""
        if self._order is None:
            self._order = {e: i for i, e in enumerate(self.root.iter())}
        return self._order

    def first_text(self, *names: str) -> str | None:
        """The full path's ``first_text`` for names the schema gives one plain text (see
        :data:`_SCHEMA_READ`): the text of the first holder (document order) of any of
        ``names``; when two names have different first holders, the earlier holder, when
        they share one, the earlier name."""
        best: tuple[etree._Element, str] | None = None
        for name in names:
            if name not in self.named:
                continue
            for holder in self.kids(name):
                value = self.text(holder, name)
                if value is not None:
                    if best is None or (
                        holder is not best[0] and self.order()[holder] < self.order()[best[0]]
                    ):
                        best = (holder, value)
                    break
        return best[1] if best else None

    def all_texts(self, name: str, *path: str) -> list[str]:
        """The full path's ``all_texts``: :meth:`text` at ``path`` below every ``name``."""
        found: list[str] = []
        if name in self.named:
            tags = [self.tags[step] for step in path]
            for items in self.kids(name).values():
                for element in items:
                    for tag in tags:  # (text() written out: this runs for every code)
                        element = _child(element, tag)
                        if element is None:
                            break
                    else:
                        if not len(element) and not element.keys():
                            found.append(_plain(element.text))
        return found

    def amount(self, element: etree._Element) -> tuple[Decimal, str | None] | None:
        if len(element):
            return None
        text = _plain(element.text)
        if not _PLAIN_DECIMAL.match(text):
            raise _Unusual(text)
        currency = None
        for key, value in element.items():
            if key != "Ccy":
                raise _Unusual(key)
            currency = value
        return Decimal(text), currency

    def leaf(self, element: etree._Element | None) -> str | None:
        """:meth:`text` of an element found already."""
        if element is None or len(element) or element.keys():
            return None
        return _plain(element.text)

    def read(self, out: Extracted) -> None:
        root, tags, plan = self.root, self.tags, self.plan
        # one pass over the root's children: the first of each name, and the transactions
        children: dict[str, etree._Element] = {}
        transactions = 0
        tx_amounts = []
        for item in root:
            tag = item.tag
            if tag not in children:
                children[str(tag)] = item
            if tag in plan.skipped:
                continue
            amounts = list(item.iterchildren(*plan.amounts))
            if amounts:
                transactions += 1
                value = self.amount(self.preferred(amounts, plan.amounts))
                if value is not None:
                    tx_amounts.append(value)
        package = children.get(tags["PKGGrpHdr"])
        group = package if package is not None and len(package) else children.get(tags["GrpHdr"])
        # the group's values, in one pass too: the first of each name
        values: dict[str, etree._Element] = {}
        totals: list[etree._Element] = []
        if group is not None:
            wanted = plan.group_tags
            for item in group:
                tag = item.tag
                if tag not in wanted:
                    continue
                if tag in plan.totals:
                    totals.append(item)
                if tag not in values:
                    values[tag] = item
        out.msg_id = self.leaf(values.get(tags["MsgId"]))
        if package is not None and out.msg_id:
            out.package_id = out.msg_id
        if out.msg_id and is_msg_id(out.msg_id):
            out.work_date = _yyyymmdd(out.msg_id[:8])
        elif out.work_date is None:
            out.work_date = _iso_date(self.leaf(values.get(tags["CreDtTm"])))
        if out.system is None:
            out.system = self.leaf(values.get(tags["SysCd"]))
        nb = self.leaf(values.get(tags["NbOfTxs"]))
        out.nb_of_txs = int(nb) if nb is not None and nb.isdigit() else None
        self.correlation(children, out)
        _codes(self.all_texts, out)
        if len(totals) != len({item.tag for item in totals}):
            raise _Unusual("a repeated total")  # a list in the JSON shape: not an amount
        total = None
        for tag in plan.totals:  # the first that reads, in order of preference
            for element in totals:
                if element.tag == tag and total is None:
                    total = self.amount(element)
        _set_amount(tx_amounts, total, transactions, out)
        named = self.named
        if "NetgDt" in named or "NetgRnd" in named:
            out.netting_date = _iso_date(self.first_text("NetgDt"))
            out.netting_round = self.first_text("NetgRnd")
            if out.netting_date is None and out.netting_round is not None:
                out.netting_date = _iso_date(self.text(self.holders("NetgRnd")[0], "PrcDt"))
        out.prc_sts = self.first_text("PrcSts")
        out.prc_cd = self.first_text("MsgPrcCd", "PrcCd")
        out.rjct_inf = self.first_text("RjctInf")

    def correlation(self, children: dict[str, etree._Element], out: Extracted) -> None:
        original = None
        for key in ("OrgnlGrpHdr", "OrgnlGrpInf", "OrgnlGrpInfAndSts"):
            found = children.get(self.tags[key])
            if found is not None and (len(found) or found.keys()):
                original = found
                break
            if found is not None:
                raise _Unusual(key)
        if original is None and "OrgnlMsgId" in self.named:
            original = next(iter(self.kids("OrgnlMsgId")), None)
        if original is not None:
            out.orig_msg_id = self.text(original, "OrgnlMsgId")
            out.orig_mt = self.text(original, "OrgnlMT") or self.text(original, "OrgnlMsgNmId")
            out.orig_sender = self.text(original, "OrgnlInstgPty")
        # communication level: ccms.990 ConfInf, ccms.911 DscrdInf name the header MesgID
        if "OrigSndr" in self.named:
            confirmed = next(iter(self.kids("OrigSndr")))
            out.orig_sender = self.text(confirmed, "OrigSndr")
            out.orig_mt = self.text(confirmed, "MT") or out.orig_mt
            out.orig_mesg_id = self.text(confirmed, "MsgId")

    @staticmethod
    def preferred(found: list[etree._Element], tags: tuple[str, ...]) -> etree._Element:
        """Of a transaction's amount elements, the one of the first name present in order
        of preference; that name repeated (a list in the JSON shape, which the full path
        does not read as an amount) sends the text to the full path."""
        if len(found) == 1:
            return found[0]
        for tag in tags:
            same = [element for element in found if element.tag == tag]
            if same:
                break
        if len(same) > 1:
            raise _Unusual(tags)
        return same[0]


def _child(element: etree._Element, tag: str) -> etree._Element | None:
    """The first child of ``element`` with ``tag`` (``next(iterchildren(tag))``: a loop
    over the few children of the elements read costs less than lxml's tag matcher)."""
    for child in element:
        if child.tag == tag:
            return child
    return None


def _plain(text: str | None) -> str:
    """A value as the full path has it; no text at all, or spaces the binder may replace or
    collapse by type (around the value, line breaks, tabs, runs of spaces) send the text
    to the full path."""
    if (
        not text
        or text != text.strip()
        or "\n" in text
        or "\r" in text
        or "\t" in text
        or "  " in text
    ):
        raise _Unusual(text)
    return text
