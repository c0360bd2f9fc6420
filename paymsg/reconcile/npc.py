"""Reading the NPC's reconciliation messages into one typed picture of a day.

HVPS: hvps.711 (summary), hvps.713 (details, possibly in several parts), hvps.716
(pre-reconciliation: summary and details in one, partitioned). BEPS: beps.721, beps.723,
beps.726. A partitioned answer (``Prttn`` TtlNb / StartNb / EndNb) is merged by its
``OrgnlGrpHdr`` (the request it answers; a pushed 716/726 has none and is grouped by its
check date); a part that is missing is reported in :attr:`NpcDay.problems`.

Every amount is a :class:`~decimal.Decimal`: summary sums are SummaryAmountText
(``CNY+1.00``, :func:`paymsg.reference.cnaps2.parse_summary_amount`), detail amounts are
``Amt``/``CtrlSum`` elements.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from paymsg.codec.api import parse
from paymsg.codec.json.engine import message_to_data
from paymsg.errors import BindingError, InputError, PaymsgError
from paymsg.journal.tables import fits_amount
from paymsg.reference.cnaps2 import parse_summary_amount

__all__ = ["Cell", "Item", "NpcDay", "read_npc", "read_npc_texts"]

#: SndRcvTp → journal direction (SR00 发送/往账 = sent by us, SR01 接收/来账) [S1]
DIRECTIONS = {"SR00": "out", "SR01": "in"}

SUMMARIES = {"hvps.711.001.01", "beps.721.001.01"}
DETAILS = {"hvps.713.001.01", "beps.723.001.01"}
PRE = {"hvps.716.001.01", "beps.726.001.01"}
KNOWN = SUMMARIES | DETAILS | PRE


@dataclass(frozen=True, slots=True)
class Cell:
    """One line of an NPC summary: sent and received counts (and sums for payments)."""

    kind: str  # "payment" or "info"
    mt: str = ""
    tx_type: str = ""
    prc_sts: str = ""
    netting_date: date | None = None
    netting_round: str = ""
    sent_count: int = 0
    sent_amount: Decimal | None = None
    recv_count: int = 0
    recv_amount: Decimal | None = None
    source: str = ""


@dataclass(frozen=True, slots=True)
class Item:
    """One message (HVPS) or package (BEPS) the NPC lists in its details."""

    direction: str  # out / in
    orig_msg_id: str
    orig_mt: str
    orig_sender: str
    mt: str = ""
    tx_type: str = ""
    prc_sts: str = ""
    netting_date: date | None = None
    netting_round: str = ""
    dc: str | None = None
    amount: Decimal | None = None
    count: int | None = None
    source: str = ""


@dataclass
class NpcDay:
    """What the NPC says about one system and check date."""

    system: str
    check_date: date
    #: the NPC side's cut-off: the CreDtTm of the summary (or of the newest part read)
    as_of: datetime | None = None
    #: which fields identify a cell: HVPS summary (mt, tx_type, status), HVPS
    #: pre-reconciliation (mt, tx_type), BEPS summary (netting date/round, mt, status),
    #: BEPS pre-reconciliation (tx_type)
    key_fields: tuple[str, ...] = ()
    cells: list[Cell] = field(default_factory=list)
    items: list[Item] = field(default_factory=list)
    #: the (direction, key…) groups the details cover: only there is the journal checked
    #: message by message
    scopes: list[dict[str, Any]] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    sources: list[str] = field(default_factory=list)


def _list(node: Any, key: str) -> list[Any]:
    value = node.get(key) if isinstance(node, dict) else None
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


def _req(node: Any, key: str, where: str, source: str) -> Any:
    if not isinstance(node, dict) or node.get(key) is None:
        raise BindingError(f"missing element {key}", source=source, path=f"{where}/{key}")
    return node[key]


def _int(text: Any, where: str, source: str) -> int:
    try:
        return int(str(text))
    except ValueError:
        raise BindingError(f"{text!r} is not a count", source=source, path=where) from None


def _sum(text: Any, where: str, source: str) -> Decimal:
    return parse_summary_amount(str(text), source=source, path=where).amount


def _amt(node: Any, where: str, source: str) -> Decimal:
    text = node.get("#text") if isinstance(node, dict) else node
    try:
        value = Decimal(str(text))
    except InvalidOperation:
        raise BindingError(f"{text!r} is not an amount", source=source, path=where) from None
    currency = node.get("@Ccy") if isinstance(node, dict) else None
    if currency not in (None, "CNY"):
        raise BindingError(f"amount in {currency}, not CNY", source=source, path=where)
    if not fits_amount(value):  # never rounded: the journal keeps fen exactly
        raise BindingError(
            f"{text!r} is not a CNY amount (at most 2 decimals, ±9.2e16)", source=source, path=where
        )
    return value


def _date(text: Any, where: str, source: str) -> date:
    try:
        return date.fromisoformat(str(text))
    except ValueError:
        raise BindingError(f"{text!r} is not a date", source=source, path=where) from None


def _orig(node: Any, where: str, source: str) -> tuple[str, str, str]:
    hdr = _req(node, "OrgnlGrpHdr", where, source)
    return (
        str(_req(hdr, "OrgnlMsgId", f"{where}/OrgnlGrpHdr", source)),
        str(_req(hdr, "OrgnlMT", f"{where}/OrgnlGrpHdr", source)),
        str(hdr.get("OrgnlInstgPty") or ""),
    )


@dataclass
class _Doc:
    mt: str
    root: dict[str, Any]
    source: str
    created: datetime | None


def _load(text: bytes, source: str) -> _Doc:
    try:
        message = parse(text)
    except PaymsgError as exc:
        raise exc.with_source(source) from None
    if message.type not in KNOWN:
        raise InputError(
            f"{message.type} is not an NPC reconciliation answer",
            source=source,
            hint="give hvps.711/713/716 or beps.721/723/726 messages",
        )
    data = message_to_data(message)["document"]
    (root,) = data.values()
    created = None
    stamp = (root.get("GrpHdr") or {}).get("CreDtTm")
    if stamp:
        try:
            created = datetime.fromisoformat(str(stamp))
        except ValueError:
            created = None
    return _Doc(message.type, root, source, created)


def read_npc(paths: list[str | Path]) -> NpcDay:
    """Read saved NPC messages (text files) into one :class:`NpcDay`."""
    texts: list[tuple[bytes, str]] = []
    for path in paths:
        try:
            texts.append((Path(path).read_bytes(), str(path)))
        except OSError as exc:
            raise InputError(f"cannot read: {exc.strerror}", source=str(path)) from exc
    return read_npc_texts(texts)


def read_npc_texts(texts: list[tuple[bytes, str]]) -> NpcDay:
    """Read NPC messages given as ``(text, name)`` pairs into one :class:`NpcDay`."""
    if not texts:
        raise InputError("no NPC messages given", hint="give a summary (711/721) or a 716/726")
    docs = [_load(text, name) for text, name in texts]
    systems = {d.mt[:4].upper() for d in docs}
    if len(systems) != 1:
        raise InputError(f"messages of several systems given together: {sorted(systems)}")
    system = systems.pop()
    dates = set()
    for d in docs:
        info = next(v for k, v in d.root.items() if k.endswith("Inf") and isinstance(v, dict))
        dates.add(_date(info.get("ChckDt") or info.get("ChckngDt"), "ChckDt", d.source))
    if len(dates) != 1:
        raise InputError(
            f"messages of several check dates given together: {sorted(map(str, dates))}"
        )
    day = NpcDay(system=system, check_date=dates.pop(), sources=[d.source for d in docs])
    summaries = [d for d in docs if d.mt in SUMMARIES]
    pre = [d for d in docs if d.mt in PRE]
    details = [d for d in docs if d.mt in DETAILS]
    if len(summaries) > 1:
        raise InputError("more than one summary given", source=summaries[1].source)
    if summaries and pre:
        raise InputError(
            "a summary and a pre-reconciliation given together",
            source=pre[0].source,
            hint="reconcile them in separate runs",
        )
    stamps = [d.created for d in (summaries or pre or details) if d.created is not None]
    day.as_of = max(stamps) if stamps else None
    if not summaries and not pre:
        raise InputError("no summary (hvps.711 / beps.721) or pre-reconciliation (716/726) given")
    hvps = system == "HVPS"
    if summaries:
        day.key_fields = (
            ("mt", "tx_type", "status")
            if hvps
            else ("netting_date", "netting_round", "mt", "status")
        )
        (_hvps_summary if hvps else _beps_summary)(summaries[0], day)
    else:
        day.key_fields = ("mt", "tx_type") if hvps else ("tx_type",)
        _check_parts(pre, day, by_original=False)
        for d in pre:
            (_hvps_pre if hvps else _beps_pre)(d, day)
    _check_parts(details, day, by_original=True)
    for d in details:
        (_hvps_details if hvps else _beps_details)(d, day)
    _dedupe_scopes(day)
    return day


def _check_parts(docs: list[_Doc], day: NpcDay, *, by_original: bool) -> None:
    """Merge partitioned answers: each group's parts must cover 1..TtlNb exactly once."""
    groups: dict[tuple[str, ...], list[tuple[int, int, int, str]]] = defaultdict(list)
    for d in docs:
        prttn = _req(d.root, "Prttn", d.mt, d.source)
        key: tuple[str, ...]
        if by_original:
            msg_id, mt, _ = _orig(d.root, d.mt, d.source)
            key = (d.mt, msg_id, mt)
        else:
            key = (d.mt, str(day.check_date))
        groups[key].append(
            (
                _int(prttn.get("TtlNb"), f"{d.mt}/Prttn/TtlNb", d.source),
                _int(prttn.get("StartNb"), f"{d.mt}/Prttn/StartNb", d.source),
                _int(prttn.get("EndNb"), f"{d.mt}/Prttn/EndNb", d.source),
                d.source,
            )
        )
    for key, parts in sorted(groups.items()):
        label = f"{key[0]} answering {key[1]}" if by_original else f"{key[0]} of {key[1]}"
        totals = {p[0] for p in parts}
        if len(totals) != 1:
            day.problems.append(f"{label}: parts disagree on the total ({sorted(totals)})")
            continue
        total = totals.pop()
        seen = [0] * (total + 2)
        for _, start, end, source in parts:
            if total == start == end == 0:  # an answer with no entries: one part 0/0/0
                continue
            if not 1 <= start <= end <= total:
                day.problems.append(
                    f"{label}: part {start}-{end} of {total} is out of range ({source})"
                )
                continue
            for n in range(start, end + 1):
                seen[n] += 1
        missing = [n for n in range(1, total + 1) if seen[n] == 0]
        twice = [n for n in range(1, total + 1) if seen[n] > 1]
        if missing:
            day.problems.append(f"{label}: missing part (items {_ranges(missing)} of {total})")
        if twice:
            day.problems.append(f"{label}: items {_ranges(twice)} of {total} given twice")


def _ranges(numbers: list[int]) -> str:
    out: list[str] = []
    start = prev = numbers[0]
    for n in [*numbers[1:], -1]:
        if n == prev + 1:
            prev = n
            continue
        out.append(str(start) if start == prev else f"{start}-{prev}")
        start = prev = n
    return ", ".join(out)


def _hvps_summary(d: _Doc, day: NpcDay) -> None:
    inf = _req(d.root, "SummryFileInf", "SummryFile", d.source)
    base = "SummryFile/SummryFileInf"
    for i, c in enumerate(_list(inf, "ChckPmtInfDtls"), 1):
        w = f"{base}/ChckPmtInfDtls[{i}]"
        day.cells.append(
            Cell(
                kind="payment",
                mt=str(_req(c, "MT", w, d.source)),
                tx_type=str(_req(c, "TxTpCd", w, d.source)),
                prc_sts=str(_req(c, "PrcSts", w, d.source)),
                sent_count=_int(c.get("SndgNbOfTxs"), f"{w}/SndgNbOfTxs", d.source),
                sent_amount=_sum(c.get("SndgCtrlSum"), f"{w}/SndgCtrlSum", d.source),
                recv_count=_int(c.get("RcvgNbOfTxs"), f"{w}/RcvgNbOfTxs", d.source),
                recv_amount=_sum(c.get("RcvgCtrlSum"), f"{w}/RcvgCtrlSum", d.source),
                source=d.source,
            )
        )
    for i, c in enumerate(_list(inf, "ChckMsg"), 1):
        w = f"{base}/ChckMsg[{i}]"
        day.cells.append(
            Cell(
                kind="info",
                mt=str(_req(c, "MT", w, d.source)),
                tx_type=str(c.get("TxTpCd") or ""),
                prc_sts=str(_req(c, "PrcSts", w, d.source)),
                sent_count=_int(c.get("SndgNbOfTxs"), f"{w}/SndgNbOfTxs", d.source),
                recv_count=_int(c.get("RcvgNbOfTxs"), f"{w}/RcvgNbOfTxs", d.source),
                source=d.source,
            )
        )


def _beps_summary(d: _Doc, day: NpcDay) -> None:
    inf = _req(d.root, "TtlChckInf", "TtlChck", d.source)
    base = "TtlChck/TtlChckInf"
    for i, c in enumerate(_list(inf.get("ChckPmtInf") or {}, "ChckPmtInfDtls"), 1):
        w = f"{base}/ChckPmtInf/ChckPmtInfDtls[{i}]"
        day.cells.append(
            Cell(
                kind="payment",
                mt=str(_req(c, "MT", w, d.source)),
                prc_sts=str(_req(c, "PrcSts", w, d.source)),
                netting_date=_date(c.get("TxNetgDt"), f"{w}/TxNetgDt", d.source),
                netting_round=str(_req(c, "TxNetgRnd", w, d.source)),
                sent_count=_int(c.get("SndTtlCnt"), f"{w}/SndTtlCnt", d.source),
                sent_amount=_sum(c.get("SndTtlAmt"), f"{w}/SndTtlAmt", d.source),
                recv_count=_int(c.get("RcvTtlCnt"), f"{w}/RcvTtlCnt", d.source),
                recv_amount=_sum(c.get("RcvTtlAmt"), f"{w}/RcvTtlAmt", d.source),
                source=d.source,
            )
        )
    for i, c in enumerate(_list(inf.get("ChckMsg") or {}, "ChckMsgDtls"), 1):
        w = f"{base}/ChckMsg/ChckMsgDtls[{i}]"
        day.cells.append(
            Cell(
                kind="info",
                mt=str(_req(c, "MT", w, d.source)),
                sent_count=_int(c.get("SndTtlCnt"), f"{w}/SndTtlCnt", d.source),
                recv_count=_int(c.get("RcvTtlCnt"), f"{w}/RcvTtlCnt", d.source),
                source=d.source,
            )
        )


def _add_items(
    d: _Doc, day: NpcDay, parent: Any, key: str, where: str, *, package: bool, **group: Any
) -> None:
    """One :class:`Item` per ``key`` element below ``parent``: an original message (HVPS:
    its amount ``Amt``, count 1) or a package (BEPS: ``CtrlSum`` and ``TtlCnt``). ``group``
    holds what the enclosing group already states (direction, MT, 业务类型, status, netting
    date and round); without ``prc_sts`` each element states its own, and ``mt=None`` takes
    the original's MT."""
    amount = "CtrlSum" if package else "Amt"
    for j, x in enumerate(_list(parent, key), 1):
        wx = f"{where}/{key}[{j}]"
        msg_id, orig_mt, sender = _orig(x, wx, d.source)
        fields = dict(group)
        if fields.get("mt", "") is None:
            fields["mt"] = orig_mt
        if "prc_sts" not in fields:
            fields["prc_sts"] = str(_req(x, "PrcSts", wx, d.source))
        day.items.append(
            Item(
                orig_msg_id=msg_id,
                orig_mt=orig_mt,
                orig_sender=sender,
                dc=x.get("DbtCdtId"),
                amount=_amt(_req(x, amount, wx, d.source), f"{wx}/{amount}", d.source),
                count=_int(x.get("TtlCnt"), f"{wx}/TtlCnt", d.source) if package else 1,
                source=d.source,
                **fields,
            )
        )


def _hvps_details(d: _Doc, day: NpcDay) -> None:
    inf = _req(d.root, "DtlRspnInf", "DtlRspn", d.source)
    for i, g in enumerate(_list(inf, "Dtls"), 1):
        w = f"DtlRspn/DtlRspnInf/Dtls[{i}]"
        direction = DIRECTIONS.get(str(g.get("SndRcvTp")))
        if direction is None:
            raise BindingError(
                f"SndRcvTp {g.get('SndRcvTp')!r} is not SR00/SR01", source=d.source, path=w
            )
        mt, tx, sts = (
            str(_req(g, "MT", w, d.source)),
            str(_req(g, "TxTpCd", w, d.source)),
            str(_req(g, "PrcSts", w, d.source)),
        )
        day.scopes.append({"direction": direction, "mt": mt, "tx_type": tx, "prc_sts": sts})
        _add_items(
            d, day, g, "ChckngDtl", w, package=False,
            direction=direction, mt=mt, tx_type=tx, prc_sts=sts,
        )  # fmt: skip


def _hvps_pre(d: _Doc, day: NpcDay) -> None:
    inf = _req(d.root, "AcctChckngInf", "AcctChckng", d.source)
    for i, g in enumerate(_list(inf, "Dtls"), 1):
        w = f"AcctChckng/AcctChckngInf/Dtls[{i}]"
        mt, tx = str(_req(g, "MT", w, d.source)), str(_req(g, "TxTpCd", w, d.source))
        day.cells.append(
            Cell(
                kind="payment",
                mt=mt,
                tx_type=tx,
                sent_count=_int(g.get("SndgNbOfTxs"), f"{w}/SndgNbOfTxs", d.source),
                sent_amount=_sum(g.get("SndgCtrlSum"), f"{w}/SndgCtrlSum", d.source),
                recv_count=_int(g.get("RcvgNbOfTxs"), f"{w}/RcvgNbOfTxs", d.source),
                recv_amount=_sum(g.get("RcvgCtrlSum"), f"{w}/RcvgCtrlSum", d.source),
                source=d.source,
            )
        )
        for key, direction in (("ChckngDtlOfSndg", "out"), ("ChckngDtlOfRcvg", "in")):
            day.scopes.append({"direction": direction, "mt": mt, "tx_type": tx})
            _add_items(d, day, g, key, w, package=False, direction=direction, mt=mt, tx_type=tx)


def _beps_details(d: _Doc, day: NpcDay) -> None:
    inf = _req(d.root, "DtlChckRspnInf", "DtlChckRspn", d.source)
    pmt = inf.get("DtlChckPmtRspnInf") or {}
    for i, g in enumerate(_list(pmt, "DtlChckRspnDtls"), 1):
        w = f"DtlChckRspn/DtlChckRspnInf/DtlChckPmtRspnInf/DtlChckRspnDtls[{i}]"
        direction = DIRECTIONS.get(str(g.get("SndRcvTp")))
        if direction is None:
            raise BindingError(
                f"SndRcvTp {g.get('SndRcvTp')!r} is not SR00/SR01", source=d.source, path=w
            )
        mt, sts = str(_req(g, "MT", w, d.source)), str(_req(g, "PrcSts", w, d.source))
        nd = _date(g.get("TxNetgDt"), f"{w}/TxNetgDt", d.source)
        nr = str(_req(g, "TxNetgRnd", w, d.source))
        day.scopes.append(
            {
                "direction": direction,
                "mt": mt,
                "prc_sts": sts,
                "netting_date": nd,
                "netting_round": nr,
            }
        )
        _add_items(
            d, day, g, "OrgnlPmtDtls", w, package=True,
            direction=direction, mt=mt, prc_sts=sts, netting_date=nd, netting_round=nr,
        )  # fmt: skip


def _beps_pre(d: _Doc, day: NpcDay) -> None:
    inf = _req(d.root, "AcctChckInf", "AcctChck", d.source)
    for i, g in enumerate(_list(inf, "ChckInfDtls1"), 1):
        w = f"AcctChck/AcctChckInf/ChckInfDtls1[{i}]"
        tx = str(_req(g, "TxTpCd", w, d.source))
        day.cells.append(
            Cell(
                kind="payment",
                tx_type=tx,
                sent_count=_int(g.get("SndTtlCnt"), f"{w}/SndTtlCnt", d.source),
                sent_amount=_sum(g.get("SndTtlAmt"), f"{w}/SndTtlAmt", d.source),
                recv_count=_int(g.get("RcvTtlCnt"), f"{w}/RcvTtlCnt", d.source),
                recv_amount=_sum(g.get("RcvTtlAmt"), f"{w}/RcvTtlAmt", d.source),
                source=d.source,
            )
        )
        for key, direction in (("SndDtls1", "out"), ("RcvDtls1", "in")):
            day.scopes.append({"direction": direction, "tx_type": tx})
            _add_items(d, day, g, key, w, package=True, direction=direction, mt=None, tx_type=tx)
    for i, g in enumerate(_list(inf, "ChckInfDtls2"), 1):
        w = f"AcctChck/AcctChckInf/ChckInfDtls2[{i}]"
        day.cells.append(
            Cell(
                kind="info",
                tx_type=str(_req(g, "TxTpCd", w, d.source)),
                sent_count=_int(g.get("SndTtlCnt"), f"{w}/SndTtlCnt", d.source),
                recv_count=_int(g.get("RcvTtlCnt"), f"{w}/RcvTtlCnt", d.source),
                source=d.source,
            )
        )


def _dedupe_scopes(day: NpcDay) -> None:
    seen: set[tuple[Any, ...]] = set()
    out: list[dict[str, Any]] = []
    for scope in day.scopes:
        key = tuple(sorted(scope.items()))
        if key not in seen:
            seen.add(key)
            out.append(scope)
    day.scopes = out
