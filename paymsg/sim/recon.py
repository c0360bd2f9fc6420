"""Answers from the centre's books: link probes and reconciliation (reference §6.9, §7).

* ccms.991 探测 → ccms.992 (the node/line names are the simulator's own queue names);
* HVPS: hvps.710 → 711 summary per (MT, 业务类型, status), sent and received counts and
  sums; hvps.712 → 713 the messages behind the requested summary cells, partitioned;
  hvps.714 → 715, one answer per requested message with its text (``OrgnlMsgCntt``),
  whose ``OrgnlGrpHdr`` names that message (as the ``cnaps2.recon`` rules expect);
* BEPS: beps.720 → 721 summary per (netting date, round, MT, status); beps.722 → 723
  the packages behind the requested cells, partitioned; beps.724 → 725 per package;
* pre-reconciliation pushed at the end of the day: hvps.716 and beps.726 to every
  participant, with the per-message / per-package lists, partitioned.

What the books do not hold is not invented: information messages (查询/查复 and the
like) are not processed by the simulator, so the information sections (``TtlMsg``,
``ChckMsg``, ``NbOfChckInf2``) report zero. Packages and payments the centre refused
appear with PR09 in the HVPS summaries; a refused BEPS package has no netting round, so it
is not in the per-round BEPS summaries. Partitions (``Prttn``) count entries: ``TtlNb``
is the number of entries of the whole answer and ``StartNb``–``EndNb`` the 1-based range
in this part ([INF], as the reconciliation examples read it); an empty answer is one part
``0/0/0``. A download of a message that is not in the books, or not the requester's,
gets PR09 with ``codes.not_found``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import date
from functools import partial
from typing import TYPE_CHECKING, Any

from paymsg.codec.envelope.cnaps2 import Cnaps2Header
from paymsg.codec.json.engine import to_data
from paymsg.codec.message import Message
from paymsg.schema.catalog import catalog
from paymsg.sim import build
from paymsg.sim.books import Books, from_units

if TYPE_CHECKING:
    from paymsg.sim.centre import Centre, Work
    from paymsg.sim.scenario import Participant

__all__ = ["handlers", "push_pre_reconciliation"]

SENT, RECEIVED = "SR00", "SR01"
#: NPC status of a reconciliation answer that was processed ([S1] PR05 已成功)
DONE = "PR05"

Handler = Callable[["Work", "Participant", Cnaps2Header, Message], None]


def handlers(centre: Centre) -> dict[str, Handler]:
    """The request types the centre answers, each bound to ``centre``."""
    table: dict[str, Callable[..., None]] = {
        "ccms.991.001.01": _probe,
        "hvps.710.001.01": _hvps_summary,
        "hvps.712.001.01": _hvps_details,
        "hvps.714.001.01": _hvps_download,
        "beps.720.001.01": _beps_summary,
        "beps.722.001.01": _beps_details,
        "beps.724.001.01": _beps_download,
    }
    known = catalog()
    return {mt: partial(fn, centre) for mt, fn in table.items() if mt in known}


# --------------------------------------------------------------------------- helpers


def _body(message: Message) -> dict[str, Any]:
    data = to_data(message.document)
    root = data[next(iter(data))]
    assert isinstance(root, dict)
    return root


def _list(value: Any) -> list[Any]:
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


def _original(header: Cnaps2Header, message: Message) -> dict[str, str]:
    """OrgnlGrpHdr naming the request being answered."""
    group = _body(message).get("GrpHdr", {})
    return {
        "OrgnlMsgId": group.get("MsgId", header.mesg_id),
        "OrgnlInstgPty": header.orig_sender,
        "OrgnlMT": header.mesg_type,
    }


def _requested(key: dict[str, Any]) -> dict[str, str]:
    """OrgnlGrpHdr of a download answer: the message downloaded, as the request named it."""
    return {
        "OrgnlMsgId": key["OrgnlMsgId"],
        "OrgnlInstgPty": key["OrgnlInstgPty"],
        "OrgnlMT": key["OrgnlMT"],
    }


def _payment_key(row: Any) -> dict[str, str]:
    return {"OrgnlMsgId": row.msg_id, "OrgnlInstgPty": row.sender, "OrgnlMT": row.mt}


def _amount(units: int) -> dict[str, str]:
    return {"@Ccy": "CNY", "#text": str(from_units(units))}


def _summary(units: int | None) -> str:
    return build.summary_amount(from_units(units or 0))


def _parts(entries: int, size: int) -> Iterator[tuple[int, int]]:
    """(start, end) 0-based half-open ranges of at most ``size`` entries (one if none)."""
    if entries == 0:
        yield 0, 0
        return
    for start in range(0, entries, size):
        yield start, min(start + size, entries)


def _partition(start: int, end: int, total: int) -> dict[str, str]:
    if total == 0:
        return {"TtlNb": "0", "StartNb": "0", "EndNb": "0"}
    return {"TtlNb": str(total), "StartNb": str(start + 1), "EndNb": str(end)}


def _send(
    centre: Centre,
    work: Work,
    bank: str,
    mt: str,
    data: dict[str, Any],
    system: str,
    ids: build.Ids,
    reply_to: str | None,
) -> None:
    built = build.build(mt, data, receiver=bank, system=system, ids=ids, now=work.now)
    centre.enqueue(work, built, bank, reply_to=reply_to)


def _ids(centre: Centre, work: Work, system: str) -> build.Ids:
    return centre.new_ids(work.conn, system)


def _processed(centre: Centre) -> dict[str, str]:
    return {"PrcSts": DONE, "PrcCd": centre.scenario.codes.processed}


def _side(row: Any, bank: str) -> str:
    return SENT if row.sender == bank else RECEIVED


# --------------------------------------------------------------------------- probe


def _probe(
    centre: Centre, work: Work, participant: Participant, header: Cnaps2Header, message: Message
) -> None:
    """ccms.991 → ccms.992, naming the simulator's own node and queues."""
    check = _body(message)["ChckInf"]
    answer = {
        "ChckRspn": {
            "ChckRspnInf": {
                "OrigSndNd": check["SndNd"][:12],
                "OrigSndSvsrNm": check["SndSvcrNm"][:20],
                "OrigSndLineMgrNm": check["SndLineMgrNm"][:48],
                "RcvRoadNm": participant.in_queue[:20],
                "OrigSndDt": check["SndDt"][:23],
                "RspnNd": "0000",
                "RspnSvcrNm": "PAYMSGSIM",
                "RspnLineMgr": "PAYMSG.SIM",
                "RcvLineNm": participant.out_queue[:48],
            },
            "LdFctrInf": [{"RspnLclLineNm": participant.out_queue[:48], "LdFctr": "0"}],
        }
    }
    system = header.orig_sender_sid
    _send(
        centre,
        work,
        participant.bank,
        "ccms.992.001.01",
        answer,
        system,
        _ids(centre, work, system),
        header.mesg_id,
    )
    work.event("probe", bank=participant.bank)


# --------------------------------------------------------------------------- HVPS


def _hvps_summary(
    centre: Centre, work: Work, participant: Participant, header: Cnaps2Header, message: Message
) -> None:
    """hvps.710 → hvps.711: per (MT, 业务类型, status), sent and received counts and sums."""
    day = date.fromisoformat(_body(message)["AcctChckngReqInf"]["ChckngDt"])
    bank = participant.bank
    rows = Books.payment_summary(work.conn, bank=bank, work_date=day, system="HVPS")
    details = [
        {
            "MT": r.mt,
            "TxTpCd": r.tx_type,
            "SndgNbOfTxs": str(r.sent_count or 0),
            "SndgCtrlSum": _summary(r.sent_sum),
            "RcvgNbOfTxs": str(r.rcvd_count or 0),
            "RcvgCtrlSum": _summary(r.rcvd_sum),
            "PrcSts": r.status,
        }
        for r in rows
    ]
    ids = _ids(centre, work, "HVPS")
    info: dict[str, Any] = {"ChckDt": day.isoformat(), "TtlPmt": str(len(details))}
    if details:
        info["ChckPmtInfDtls"] = details
    info["TtlMsg"] = "0"
    data = {
        "SummryFile": {
            "GrpHdr": build.group_header(ids.msg_id, work.now, bank, "HVPS"),
            "OrgnlGrpHdr": _original(header, message),
            "SummryFileInf": info,
        }
    }
    _send(centre, work, bank, "hvps.711.001.01", data, "HVPS", ids, header.mesg_id)
    work.event("reconciliation", bank=bank, mt="hvps.711.001.01", rows=len(details))


def _hvps_details(
    centre: Centre, work: Work, participant: Participant, header: Cnaps2Header, message: Message
) -> None:
    """hvps.712 → hvps.713 (partitioned): the messages behind each requested cell."""
    request = _body(message)["DtlReqInf"]
    day = date.fromisoformat(request["ChckngDt"])
    bank = participant.bank
    rows = Books.payment_rows(work.conn, work_date=day, system="HVPS", bank=bank)
    buckets: dict[tuple[str, str, str, str], list[Any]] = {}
    for cell in _list(request.get("Dtls")):
        buckets[(cell["MT"], cell["TxTpCd"], cell["SndRcvTp"], cell["PrcSts"])] = []
    everything = not buckets
    for row in rows:
        key = (row.mt, row.tx_type, _side(row, bank), row.status)
        if key in buckets or everything:
            buckets.setdefault(key, []).append(row)
    flat = [(key, row) for key, items in buckets.items() for row in items]
    empty = [key for key, items in buckets.items() if not items]
    size = centre.scenario.partition_size
    for number, (start, end) in enumerate(_parts(len(flat), size)):
        grouped: dict[tuple[str, str, str, str], list[Any]] = (
            {k: [] for k in empty} if not number else {}
        )
        for key, row in flat[start:end]:
            grouped.setdefault(key, []).append(row)
        details = [
            {
                "MT": key[0],
                "TxTpCd": key[1],
                "SndRcvTp": key[2],
                "PrcSts": key[3],
                "NbOfTxs": str(len(items)),
                **(
                    {
                        "ChckngDtl": [
                            {
                                "OrgnlGrpHdr": _payment_key(row),
                                "DbtCdtId": "DBIT" if key[2] == SENT else "CRDT",
                                "Amt": _amount(row.amount),
                            }
                            for row in items
                        ]
                    }
                    if items
                    else {}
                ),
            }
            for key, items in grouped.items()
        ]
        ids = _ids(centre, work, "HVPS")
        info: dict[str, Any] = {
            "ChckDt": day.isoformat(),
            "NPCPrcInf": _processed(centre),
            "TtlCnt": str(len(details)),
        }
        if details:
            info["Dtls"] = details
        data = {
            "DtlRspn": {
                "GrpHdr": build.group_header(ids.msg_id, work.now, bank, "HVPS"),
                "Prttn": _partition(start, end, len(flat)),
                "OrgnlGrpHdr": _original(header, message),
                "DtlRspnInf": info,
            }
        }
        _send(centre, work, bank, "hvps.713.001.01", data, "HVPS", ids, header.mesg_id)
    work.event("reconciliation", bank=bank, mt="hvps.713.001.01", entries=len(flat))


def _lookup(work: Work, bank: str, side: str, key: dict[str, Any]) -> tuple[Any, bytes] | None:
    """The payment named by an OrgnlGrpHdr, if it is ``bank``'s on that side, and the text
    the bank exchanged for it: what it sent (SR00) or the forward it received (SR01)."""
    found = Books.find_payment(work.conn, key["OrgnlInstgPty"], key["OrgnlMT"], key["OrgnlMsgId"])
    if found is None:
        return None
    row = Books.payment_row(work.conn, found.id)
    if (side == SENT and row.sender != bank) or (side == RECEIVED and row.receiver != bank):
        return None
    message_id = row.in_message_id if side == SENT else row.forward_message_id
    text = Books.message_raw(work.conn, message_id) if message_id else None
    if text is None:
        return None
    return row, text


def _not_found(centre: Centre) -> dict[str, str]:
    return {
        "PrcSts": "PR09",
        "PrcCd": centre.scenario.codes.not_found,
        "RjctInf": "原报文不存在或不属于申请机构 (not in the centre's books for this participant)",
    }


def _hvps_download(
    centre: Centre, work: Work, participant: Participant, header: Cnaps2Header, message: Message
) -> None:
    """hvps.714 → one hvps.715 per requested message, with its text."""
    bank = participant.bank
    for item in _list(_body(message)["TxDwnldgReqInf"].get("TxsDtls")):
        found = _lookup(work, bank, item["SndRcvTp"], item["OrgnlGrpHdr"])
        info: dict[str, Any]
        if found is None:
            info = {"NPCPrcInf": _not_found(centre)}
        else:
            row, text = found
            info = {
                "NPCPrcInf": _processed(centre),
                "OrgnlMsgCntt": {"Cntt": text.decode("utf-8"), "PrcSts": row.status},
            }
        ids = _ids(centre, work, "HVPS")
        data = {
            "TxDwnldgRspn": {
                "GrpHdr": build.group_header(ids.msg_id, work.now, bank, "HVPS"),
                "OrgnlGrpHdr": _requested(item["OrgnlGrpHdr"]),
                "TxDwnldgRspnInf": info,
            }
        }
        _send(centre, work, bank, "hvps.715.001.01", data, "HVPS", ids, header.mesg_id)
    work.event("download", bank=bank, mt="hvps.715.001.01")


# --------------------------------------------------------------------------- BEPS


def _beps_summary(
    centre: Centre, work: Work, participant: Participant, header: Cnaps2Header, message: Message
) -> None:
    """beps.720 → beps.721: per (netting date, round, MT, status)."""
    day = date.fromisoformat(_body(message)["TtlChckInfReqInf"]["ChckDt"])
    bank = participant.bank
    rows = Books.round_summary(work.conn, bank=bank, work_date=day)
    details = [
        {
            "TxNetgDt": r.netting_date,
            "TxNetgRnd": r.netting_round,
            "MT": r.mt,
            "SndTtlCnt": str(r.sent_count or 0),
            "SndTtlAmt": _summary(r.sent_sum),
            "RcvTtlCnt": str(r.rcvd_count or 0),
            "RcvTtlAmt": _summary(r.rcvd_sum),
            "PrcSts": r.status,
        }
        for r in rows
    ]
    payments: dict[str, Any] = {"NbOfChckInf": str(len(details))}
    if details:
        payments["ChckPmtInfDtls"] = details
    ids = _ids(centre, work, "BEPS")
    data = {
        "TtlChck": {
            "GrpHdr": build.group_header(ids.msg_id, work.now, bank, "BEPS"),
            "OrgnlGrpHdr": _original(header, message),
            "TtlChckInf": {
                "ChckDt": day.isoformat(),
                "ChckPmtInf": payments,
                "ChckMsg": {"NbOfChckInf": "0"},
            },
        }
    }
    _send(centre, work, bank, "beps.721.001.01", data, "BEPS", ids, header.mesg_id)
    work.event("reconciliation", bank=bank, mt="beps.721.001.01", rows=len(details))


def _beps_details(
    centre: Centre, work: Work, participant: Participant, header: Cnaps2Header, message: Message
) -> None:
    """beps.722 → beps.723 (partitioned): the packages behind each requested cell."""
    request = _body(message)["DtlChckReqInf"]
    day = date.fromisoformat(request["ChckDt"])
    bank = participant.bank
    rows = [
        r
        for r in Books.payment_rows(work.conn, work_date=day, system="BEPS", bank=bank)
        if r.netting_round is not None
    ]
    buckets: dict[tuple[str, str, str, str, str], list[Any]] = {}
    for cell in _list(request.get("DtlChckPmtInf", {}).get("DtlChckPmtDtls")):
        key = (cell["SndRcvTp"], cell["TxNetgDt"], cell["TxNetgRnd"], cell["MT"], cell["PrcSts"])
        buckets[key] = []
    everything = not buckets
    for row in rows:
        key = (_side(row, bank), row.netting_date, row.netting_round, row.mt, row.status)
        if key in buckets or everything:
            buckets.setdefault(key, []).append(row)
    flat = [(key, row) for key, items in buckets.items() for row in items]
    empty = [key for key, items in buckets.items() if not items]
    for number, (start, end) in enumerate(_parts(len(flat), centre.scenario.partition_size)):
        grouped: dict[Any, list[Any]] = {k: [] for k in empty} if not number else {}
        for key, row in flat[start:end]:
            grouped.setdefault(key, []).append(row)
        details = []
        for key, items in grouped.items():
            detail: dict[str, Any] = {
                "SndRcvTp": key[0],
                "TxNetgDt": key[1],
                "TxNetgRnd": key[2],
                "MT": key[3],
                "PrcSts": key[4],
                "NbOfDtls": str(len(items)),
            }
            if items:
                detail["OrgnlPmtDtls"] = [
                    {
                        "OrgnlGrpHdr": _payment_key(row),
                        "TtlCnt": str(row.nb_of_txs),
                        "CtrlSum": _amount(row.amount),
                    }
                    for row in items
                ]
            details.append(detail)
        pmt: dict[str, Any] = {"NbOfTxs": str(len(details))}
        if details:
            pmt["DtlChckRspnDtls"] = details
        ids = _ids(centre, work, "BEPS")
        data = {
            "DtlChckRspn": {
                "GrpHdr": build.group_header(ids.msg_id, work.now, bank, "BEPS"),
                "Prttn": _partition(start, end, len(flat)),
                "OrgnlGrpHdr": _original(header, message),
                "DtlChckRspnInf": {
                    "ChckDt": day.isoformat(),
                    "NPCPrcInf": _processed(centre),
                    "DtlChckPmtRspnInf": pmt,
                },
            }
        }
        _send(centre, work, bank, "beps.723.001.01", data, "BEPS", ids, header.mesg_id)
    work.event("reconciliation", bank=bank, mt="beps.723.001.01", entries=len(flat))


def _beps_download(
    centre: Centre, work: Work, participant: Participant, header: Cnaps2Header, message: Message
) -> None:
    """beps.724 → one beps.725 per requested package, with its status and text."""
    bank = participant.bank
    for item in _list(_body(message)["TxDwnldReqInf"].get("DwnldReqTxsDtls")):
        found = _lookup(work, bank, item["SndRcvIp"], item["OrgnlGrpHdr"])
        info: dict[str, Any]
        if found is None:
            info = {"NPCPrcInf": _not_found(centre)}
        else:
            row, text = found
            status = build.npc_processing(
                row.status,
                centre.scenario.codes.netted
                if row.status == "PR03"
                else centre.scenario.codes.processed,
                netting_date=date.fromisoformat(row.netting_date) if row.netting_date else None,
                netting_round=row.netting_round,
            )
            info = {
                "NPCPrcInf": _processed(centre),
                "OrgnlMsgSts": {"NPCPrcInf": status},
                "OrgnlMsgCntt": text.decode("utf-8"),
            }
        ids = _ids(centre, work, "BEPS")
        data = {
            "TxDwnldRspn": {
                "GrpHdr": build.group_header(ids.msg_id, work.now, bank, "BEPS"),
                "OrgnlGrpHdr": _requested(item["OrgnlGrpHdr"]),
                "TxDwnldRspnInf": info,
            }
        }
        _send(centre, work, bank, "beps.725.001.01", data, "BEPS", ids, None)
    work.event("download", bank=bank, mt="beps.725.001.01")


# --------------------------------------------------------------------------- end of day


def push_pre_reconciliation(centre: Centre, work: Work) -> None:
    """hvps.716 and beps.726 to every participant for the business day (partitioned)."""
    known = catalog()
    for bank in centre.participants:
        if "hvps.716.001.01" in known:
            _hvps_pre(centre, work, bank)
        if "beps.726.001.01" in known:
            _beps_pre(centre, work, bank)


def _hvps_pre(centre: Centre, work: Work, bank: str) -> None:
    day = centre.business_date
    rows = Books.payment_rows(work.conn, work_date=day, system="HVPS", bank=bank)
    groups: dict[tuple[str, str], list[Any]] = {}
    for row in rows:
        groups.setdefault((row.mt, row.tx_type), []).append(row)
    flat = [(key, row) for key, items in groups.items() for row in items]
    for start, end in _parts(len(flat), centre.scenario.partition_size):
        part: dict[tuple[str, str], list[Any]] = {}
        for key, row in flat[start:end]:
            part.setdefault(key, []).append(row)
        details = []
        for (mt, tx_type), items in part.items():
            sent = [r for r in items if r.sender == bank]
            received = [r for r in items if r.sender != bank]
            detail: dict[str, Any] = {
                "MT": mt,
                "TxTpCd": tx_type,
                "SndgNbOfTxs": str(len(sent)),
                "SndgCtrlSum": _summary(sum(r.amount for r in sent)),
                "RcvgNbOfTxs": str(len(received)),
                "RcvgCtrlSum": _summary(sum(r.amount for r in received)),
            }
            for name, side, items_ in (
                ("ChckngDtlOfSndg", "DBIT", sent),
                ("ChckngDtlOfRcvg", "CRDT", received),
            ):
                if items_:
                    detail[name] = [
                        {
                            "OrgnlGrpHdr": _payment_key(r),
                            "DbtCdtId": side,
                            "Amt": _amount(r.amount),
                            "PrcSts": r.status,
                        }
                        for r in items_
                    ]
            details.append(detail)
        ids = _ids(centre, work, "HVPS")
        info: dict[str, Any] = {"ChckDt": day.isoformat(), "TtlCnt": str(len(details))}
        if details:
            info["Dtls"] = details
        data = {
            "AcctChckng": {
                "GrpHdr": build.group_header(ids.msg_id, work.now, bank, "HVPS"),
                "Prttn": _partition(start, end, len(flat)),
                "AcctChckngInf": info,
            }
        }
        _send(centre, work, bank, "hvps.716.001.01", data, "HVPS", ids, None)


def _beps_pre(centre: Centre, work: Work, bank: str) -> None:
    day = centre.business_date
    rows = Books.payment_rows(work.conn, work_date=day, system="BEPS", bank=bank)
    groups: dict[str, list[Any]] = {}
    for row in rows:
        groups.setdefault(row.tx_type, []).append(row)
    flat = [(key, row) for key, items in groups.items() for row in items]
    for start, end in _parts(len(flat), centre.scenario.partition_size):
        part: dict[str, list[Any]] = {}
        for key, row in flat[start:end]:
            part.setdefault(key, []).append(row)
        details = []
        for tx_type, items in part.items():
            sent = [r for r in items if r.sender == bank]
            received = [r for r in items if r.sender != bank]
            detail: dict[str, Any] = {
                "TxTpCd": tx_type,
                "SndTtlCnt": str(len(sent)),
                "SndTtlAmt": _summary(sum(r.amount for r in sent)),
                "RcvTtlCnt": str(len(received)),
                "RcvTtlAmt": _summary(sum(r.amount for r in received)),
            }
            for name, items_ in (("SndDtls1", sent), ("RcvDtls1", received)):
                if items_:
                    detail[name] = [
                        {
                            "OrgnlGrpHdr": _payment_key(r),
                            "TtlCnt": str(r.nb_of_txs),
                            "CtrlSum": _amount(r.amount),
                            "PrcSts": r.status,
                        }
                        for r in items_
                    ]
            details.append(detail)
        info: dict[str, Any] = {"ChckDt": day.isoformat(), "NbOfChckInf1": str(len(details))}
        if details:
            info["ChckInfDtls1"] = details
        info["NbOfChckInf2"] = "0"
        ids = _ids(centre, work, "BEPS")
        data = {
            "AcctChck": {
                "GrpHdr": build.group_header(ids.msg_id, work.now, bank, "BEPS"),
                "Prttn": _partition(start, end, len(flat)),
                "AcctChckInf": info,
            }
        }
        _send(centre, work, bank, "beps.726.001.01", data, "BEPS", ids, None)
