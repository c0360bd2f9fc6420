"""The reconciliation flows over the transport (``Cnaps2Session``).

HVPS for a date:

1. send hvps.710, wait for the hvps.711 that answers it (correlated by OrgnlGrpHdr: the
   answer's OrgnlMsgId is our request's MsgId);
2. compare the cells (a dry run, nothing kept); for the cells that differ, send hvps.712
   asking for (MT, 业务类型, SR00/SR01, PrcSts) and wait for every part of the hvps.713
   (until the parts cover ``TtlNb`` or the wait ends: a part still missing is reported);
3. compare message by message (dry run); for every message the NPC has and the journal
   lacks, send hvps.714 and wait for the hvps.715 answers; **repair** the journal from the
   original text in ``OrgnlMsgCntt`` (see :func:`repair`);
4. reconcile for real (recorded, breaks settled) with the summary and the details.

BEPS is the same over beps.720 → 721, 722 → 723 (per netting date and round) and
724 → 725, per package.

The session must be running (``session.start()``): its consumer records the NPC's
answers in the journal, where this module finds them.
"""

from __future__ import annotations

import itertools
import os
import time
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

import sqlalchemy as sa

from paymsg.codec.api import parse, serialize
from paymsg.codec.envelope.wrap import wrap
from paymsg.codec.json.engine import from_data, message_to_data
from paymsg.errors import InputError, PaymsgError, TransportError
from paymsg.journal import Journal
from paymsg.journal.tables import entries
from paymsg.reconcile.config import ReconcileConfig
from paymsg.reconcile.engine import reconcile_day
from paymsg.reconcile.npc import NpcDay, read_npc_texts
from paymsg.reconcile.records import RunResult
from paymsg.reference.cnaps2 import NPC, beijing_now
from paymsg.schema.catalog import catalog

__all__ = ["FlowResult", "repair", "run_flow"]

#: per system: summary request / answer, detail request / answer, download request / answer
REQUESTS = {
    system: tuple(f"{system.lower()}.{first + n}.001.01" for n in range(6))
    for system, first in (("HVPS", 710), ("BEPS", 720))
}
REPAIR_QUEUE = "RECONCILE-REPAIR"
_sequence = itertools.count(1)


@dataclass
class FlowResult:
    """The recorded run, the messages exchanged and the repaired journal entries."""

    result: RunResult
    requests: list[str]
    repaired: list[int]
    refused_repairs: list[str]


class _Requests:
    def __init__(self, session: Any, participant: str, system: str) -> None:
        self.session = session
        self.participant = participant
        self.system = system
        self.sent: list[str] = []

    def send(self, mt: str, body: dict[str, Any]) -> str:
        """Build, send and confirm one request; returns its MsgId."""
        now = beijing_now()
        stamp = f"{time.time_ns() // 1000 + os.getpid() + next(_sequence):d}"
        msg_id = f"{now:%Y%m%d}{stamp[-8:]}"
        root_name = next(iter(body))
        body[root_name] = {
            "GrpHdr": {
                "MsgId": msg_id,
                "CreDtTm": now.replace(microsecond=0, tzinfo=None).isoformat(),
                "InstgPty": {"InstgDrctPty": self.participant, "InstgPty": self.participant},
                "InstdPty": {"InstdDrctPty": NPC, "InstdPty": NPC},
                "SysCd": self.system,
            },
            **body[root_name],
        }
        document = from_data(catalog().get(mt).root_class, body)
        message = wrap(
            document,
            type=mt,
            sender=self.participant,
            receiver=NPC,
            sender_system=self.system,
            receiver_system=self.system,
            direction="U",
            mesg_id=f"{now:%Y%m%d}{stamp[-12:]}",
        )
        result = self.session.send(serialize(message))
        if not result.ok:
            raise TransportError(
                f"the NPC did not accept our {mt} {msg_id}: "
                f"{result.status} {result.code or ''}".strip()
            )
        self.sent.append(f"{mt} {msg_id}")
        return msg_id


def _answers(
    journal: Journal,
    mt: str,
    request: str,
    *,
    original: tuple[str, str] | None = None,
    after_id: int = 0,
) -> list[bytes]:
    """The texts of every answer of type ``mt`` to our request ``request`` (SQL on the
    journal's orig index). A download answer (715/725) names the *downloaded* message in
    its OrgnlGrpHdr (``original``: MsgId, MT), so it is also found by that, among the
    entries recorded after the request (``after_id``)."""
    e = entries.c
    match = e.orig_msg_id == request
    if original is not None:
        match = sa.or_(
            match,
            sa.and_(e.orig_msg_id == original[0], e.orig_mt == original[1], e.id > after_id),
        )
    query = sa.select(e.raw).where(e.direction == "in", e.mt == mt, match).order_by(e.id)
    with journal.engine.connect() as conn:
        return [bytes(r.raw) for r in conn.execute(query)]


def _last_id(journal: Journal) -> int:
    with journal.engine.connect() as conn:
        return int(
            conn.execute(sa.select(sa.func.coalesce(sa.func.max(entries.c.id), 0))).scalar_one()
        )


def _complete(texts: list[bytes]) -> bool:
    covered: set[int] = set()
    total = None
    for text in texts:
        root = next(iter(message_to_data(parse(text))["document"].values()))
        part = root.get("Prttn")
        if part is None:
            return True
        total = int(part["TtlNb"])
        covered.update(range(int(part["StartNb"]), int(part["EndNb"]) + 1))
    return total is not None and (total == 0 or covered >= set(range(1, total + 1)))


def _wait(
    journal: Journal,
    mt: str,
    request: str,
    *,
    expected: int | None,
    timeout: float,
    partitioned: bool,
    original: tuple[str, str] | None = None,
    after_id: int = 0,
) -> list[bytes]:
    deadline = time.monotonic() + timeout
    while True:
        texts = _answers(journal, mt, request, original=original, after_id=after_id)
        if texts and (
            (partitioned and _complete(texts))
            or (not partitioned and (expected is None or len(texts) >= expected))
        ):
            return texts
        if time.monotonic() > deadline:
            return texts
        time.sleep(0.05)


def repair(
    journal: Journal, text: bytes, *, direction: str, prc_sts: str, config: ReconcileConfig
) -> int:
    """Put a message the NPC has and the journal lacks into the journal, from its original
    text (an NPC download answer's ``OrgnlMsgCntt``).

    The text is validated first (safety, XSD, rules): a message that does not pass is not
    recorded (:class:`~paymsg.errors.InputError`). The journal has no repair call, so this
    uses its public API: a received message is recorded with ``record_inbound`` (it is then
    delivered to the application like any other, which is what a missing credit needs),
    a sent one with ``record_outbound`` and moved to the status the NPC reports; either
    way ``repaired`` is set and the history says ``repaired from the NPC download``.
    """
    import paymsg

    report = paymsg.validate(text)
    errors = [f for f in report.findings if f.severity == "error"]
    if errors:
        first = errors[0]
        raise InputError(
            f"the NPC's copy does not validate: {first.rule}: {first.message}", path=first.path
        )
    detail = "repaired from the NPC download"
    if direction == "in":
        entry, _ = journal.record_inbound(text, queue=REPAIR_QUEUE)
        entry = journal.set_status(entry.id, entry.status, repaired=True, detail=detail)
        return entry.id
    entry = journal.record_outbound(text, queue=REPAIR_QUEUE)
    cls = config.npc_class(prc_sts)
    path = {"settled": ("sent", "confirmed", "settled"), "failed": ("sent", "rejected")}.get(
        cls, ("sent", "confirmed")
    )
    for status in path:
        entry = journal.set_status(entry.id, status, code=prc_sts, detail=detail, repaired=True)
    return entry.id


def run_flow(
    session: Any,
    journal: Journal,
    *,
    system: str,
    check_date: date,
    participant: str,
    config: ReconcileConfig | None = None,
    timeout: float = 60.0,
) -> FlowResult:
    """Run the HVPS or BEPS reconciliation flow for ``check_date`` (see the module doc)."""
    config = config or ReconcileConfig()
    system = system.upper()
    if system not in REQUESTS:
        raise InputError(f"no reconciliation flow for {system!r}", hint="HVPS or BEPS")
    req_summary, ans_summary, req_details, ans_details, req_download, ans_download = REQUESTS[
        system
    ]
    requests = _Requests(session, participant, system)
    hvps = system == "HVPS"
    day_text = check_date.isoformat()

    # 1. summary
    if hvps:
        body: dict[str, Any] = {"AcctChckngReq": {"AcctChckngReqInf": {"ChckngDt": day_text}}}
    else:
        body = {"TtlChckInfReq": {"TtlChckInfReqInf": {"ChckDt": day_text}}}
    request = requests.send(req_summary, body)
    summaries = _wait(journal, ans_summary, request, expected=1, timeout=timeout, partitioned=False)
    if not summaries:
        raise TransportError(
            f"no {ans_summary} answered our {req_summary} {request} within {timeout:g} s"
        )
    texts: list[tuple[bytes, str]] = [(summaries[-1], f"{ans_summary} answering {request}")]
    day = read_npc_texts(texts)
    first = reconcile_day(journal, day, config=config, record=False)

    # 2. details for the cells that differ
    wanted = _detail_requests(day, first, config)
    if wanted:
        if hvps:
            body = {
                "DtlReq": {
                    "DtlReqInf": {"ChckngDt": day_text, "TtlCnt": str(len(wanted)), "Dtls": wanted}
                }
            }
        else:
            body = {
                "DtlChckReq": {
                    "DtlChckReqInf": {
                        "ChckDt": day_text,
                        "DtlChckPmtInf": {"NbOfTxs": str(len(wanted)), "DtlChckPmtDtls": wanted},
                        "DtlChckMsg": {"NbOfTxs": "0"},
                    }
                }
            }
        request = requests.send(req_details, body)
        parts = _wait(
            journal, ans_details, request, expected=None, timeout=timeout, partitioned=True
        )
        texts += [(p, f"{ans_details} answering {request} #{i}") for i, p in enumerate(parts, 1)]
        if not parts:
            day.problems.append(
                f"no {ans_details} answered our {req_details} {request} within {timeout:g} s"
            )
        else:
            problems = day.problems
            day = read_npc_texts(texts)
            day.problems = problems + day.problems

    # 3. download and repair what the NPC has and the journal lacks
    repaired: list[int] = []
    refused: list[str] = []
    if day.items:
        second = reconcile_day(journal, day, config=config, record=False)
        missing = [
            b
            for b in second.breaks
            if b.kind == "missing_here" and b.msg_id and b.status in ("new", "persisting")
        ]
        items = {(i.direction, i.orig_msg_id, i.orig_mt): i for i in day.items}
        for b in missing:
            item = items.get((b.direction or "", b.msg_id or "", b.mt or ""))
            if item is None:
                continue
            orig = {
                "OrgnlMsgId": item.orig_msg_id,
                "OrgnlInstgPty": item.orig_sender,
                "OrgnlMT": item.orig_mt,
            }
            sr = "SR00" if item.direction == "out" else "SR01"
            if hvps:
                detail: dict[str, Any] = {"SndRcvTp": sr, "OrgnlGrpHdr": orig}
                if item.dc:
                    detail["DbtCdtId"] = item.dc
                body = {"TxDwnldgReq": {"TxDwnldgReqInf": {"NbOfTxs": "1", "TxsDtls": [detail]}}}
            else:
                body = {
                    "TxDwnldReq": {
                        "TxDwnldReqInf": {
                            "NbOfTxs": "1",
                            "DwnldReqTxsDtls": [{"SndRcvIp": sr, "OrgnlGrpHdr": orig}],
                        }
                    }
                }
            mark = _last_id(journal)
            request = requests.send(req_download, body)
            answers = _wait(
                journal,
                ans_download,
                request,
                expected=1,
                timeout=timeout,
                partitioned=False,
                original=(item.orig_msg_id, item.orig_mt),
                after_id=mark,
            )
            if not answers:
                refused.append(
                    f"{item.orig_mt} {item.orig_msg_id}: no {ans_download} within {timeout:g} s"
                )
                continue
            original, status = _original_text(answers[-1])
            if original is None:
                refused.append(
                    f"{item.orig_mt} {item.orig_msg_id}: the NPC sent no original ({status})"
                )
                continue
            try:
                repaired.append(
                    repair(
                        journal,
                        original,
                        direction=item.direction,
                        prc_sts=item.prc_sts,
                        config=config,
                    )
                )
            except PaymsgError as exc:
                refused.append(f"{item.orig_mt} {item.orig_msg_id}: {exc}")

    # 4. the recorded run
    final = reconcile_day(journal, day, config=config, as_of=datetime.now(UTC))
    final = final.model_copy(update={"repaired": repaired, "problems": final.problems + refused})
    return FlowResult(
        result=final, requests=requests.sent, repaired=repaired, refused_repairs=refused
    )


def _detail_requests(
    day: NpcDay, first: RunResult, config: ReconcileConfig
) -> list[dict[str, Any]]:
    """The (MT, 业务类型 / netting round, SR00/SR01, PrcSts) groups to ask details for: the
    NPC cells behind every differing payment cell, on the side (sent / received) that
    differs."""
    out: list[dict[str, Any]] = []
    seen: set[tuple[Any, ...]] = set()
    for cell in first.cells:
        if cell.kind != "payment" or not cell.differs:
            continue
        sides = []
        if (cell.npc_sent_count, cell.npc_sent_amount) != (
            cell.our_sent_count,
            cell.our_sent_amount,
        ):
            sides.append("SR00")
        if (cell.npc_recv_count, cell.npc_recv_amount) != (
            cell.our_recv_count,
            cell.our_recv_amount,
        ):
            sides.append("SR01")
        for npc in day.cells:
            if (
                npc.kind != "payment"
                or config.npc_class(npc.prc_sts) != cell.status
                or npc.mt != cell.mt
            ):
                continue
            if day.system == "HVPS" and npc.tx_type != cell.tx_type:
                continue
            nd = npc.netting_date.isoformat() if npc.netting_date else ""
            if day.system == "BEPS" and (nd, npc.netting_round) != (
                cell.netting_date,
                cell.netting_round,
            ):
                continue
            for side in sides:
                if day.system == "HVPS":
                    entry = {
                        "MT": npc.mt,
                        "TxTpCd": npc.tx_type,
                        "SndRcvTp": side,
                        "PrcSts": npc.prc_sts,
                    }
                else:
                    entry = {
                        "SndRcvTp": side,
                        "TxNetgDt": nd,
                        "TxNetgRnd": npc.netting_round,
                        "MT": npc.mt,
                        "PrcSts": npc.prc_sts,
                    }
                key = tuple(sorted(entry.items()))
                if key not in seen:
                    seen.add(key)
                    out.append(entry)
    return out


def _original_text(answer: bytes) -> tuple[bytes | None, str]:
    """The original message text of a 715/725 answer, and the answer's status."""
    root = next(iter(message_to_data(parse(answer))["document"].values()))
    info = root.get("TxDwnldgRspnInf") or root.get("TxDwnldRspnInf") or {}
    status = (info.get("NPCPrcInf") or {}).get("PrcSts", "")
    content = info.get("OrgnlMsgCntt")
    if isinstance(content, dict):
        content = content.get("Cntt") or content.get("#text")
    if not content:
        return None, status
    if isinstance(content, list):
        content = "".join(str(c) for c in content)
    return str(content).encode("utf-8"), status
