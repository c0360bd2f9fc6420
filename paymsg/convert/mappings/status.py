"""Hub edges for status: the NPC's answers ⇄ the unified status report ``pacs.002.001.10``.

Edges::

    ccms.900.001.02 (通用处理确认)  ⇄  pacs.002.001.10
    saps.604.001.01 (清算回执)     →  pacs.002.001.10

There is no ``pacs.002 → saps.604`` edge: a settlement receipt is issued only by the NPC's
clearing-account system (SAPS) after it has settled on its own books, and it reports the
participant's clearing-account balance, which no status report holds — so nobody builds one
from a unified message. With one reverse edge the hub turns every ``pacs.002`` bound for CNAPS2
into the generic confirmation ``ccms.900``; ``saps.604 → ccms.900`` routes through the hub too.

Both CNAPS2 answers name the *message* they answer (``OrgnlGrpHdr``), not a transaction:

- ``ccms.900`` (processed / rejected by the NPC's checks, also for BEPS packages of n
  transactions) becomes a **group-level** status: ``OrgnlGrpInfAndSts[1]``.
- ``saps.604`` (settlement of an HVPS payment, one transaction per message) becomes a
  **transaction-level** status ``TxInfAndSts[1]`` with ``OrgnlGrpInf``, because only there does
  ISO have the settlement date (``FctvIntrBkSttlmDt``).

The NPC status ``PrcSts`` becomes an ISO status through :data:`STATUSES`; the original code, and
every CNAPS2 field ISO has no element for, is carried in ``SplmtryData`` (``PlcAndNm`` CNAPS2,
see :func:`paymsg.convert.engine.carrier.carry`), so ``ccms.900 → pacs.002 → ccms.900`` is exact.

ccms.900.001.02 → pacs.002.001.10 (``Doc`` = ``FIToFIPmtStsRpt``, ``G`` = ``OrgnlGrpInfAndSts[1]``,
"carried" = ``Doc/SplmtryData[1]`` under the source path)::

    CmonConf/GrpHdr/MsgId                    → Doc/GrpHdr/MsgId                          copied
    CmonConf/GrpHdr/CreDtTm                  → Doc/GrpHdr/CreDtTm                        copied
    CmonConf/GrpHdr/InstgPty/InstgDrctPty    → Doc/GrpHdr/InstgAgt/FinInstnId/ClrSysMmbId/MmbId
                                               (+ ClrSysId/Cd = CNAPS)
    CmonConf/GrpHdr/InstgPty/InstgPty        → Doc/GrpHdr/InstgAgt/BrnchId/Id
    CmonConf/GrpHdr/InstdPty/InstdDrctPty    → Doc/GrpHdr/InstdAgt/FinInstnId/ClrSysMmbId/MmbId
                                               (+ ClrSysId/Cd = CNAPS)
    CmonConf/GrpHdr/InstdPty/InstdPty        → Doc/GrpHdr/InstdAgt/BrnchId/Id
    CmonConf/GrpHdr/SysCd, Rmk               → carried
    CmonConf/OrgnlGrpHdr/OrgnlMsgId          → G/OrgnlMsgId
    CmonConf/OrgnlGrpHdr/OrgnlMT             → G/OrgnlMsgNmId  (the CNAPS2 MT, e.g. hvps.111.001.01)
    CmonConf/OrgnlGrpHdr/OrgnlInstgPty       → carried
    CmonConf/CmonConfInf/PrcSts              → G/GrpSts via STATUSES (none if unmapped) + carried
    CmonConf/CmonConfInf/PrcCd               → G/StsRsnInf[1]/Rsn/Prtry
    CmonConf/CmonConfInf/RjctInf             → G/StsRsnInf[1]/AddtlInf[1]        (105 = 105)
    CmonConf/CmonConfInf/PtyId, PtyPrcCd,
                         PrcDt, NetgRnd      → carried

saps.604.001.01 → pacs.002.001.10 (``T`` = ``FIToFIPmtStsRpt/TxInfAndSts[1]``)::

    SttlmRtrRct/GrpHdr/…                     → as for ccms.900 (SysCd, Rmk carried)
    SttlmRtrRct/OrgnlGrpHdr/OrgnlMsgId       → T/OrgnlGrpInf/OrgnlMsgId
    SttlmRtrRct/OrgnlGrpHdr/OrgnlMT          → T/OrgnlGrpInf/OrgnlMsgNmId
    SttlmRtrRct/OrgnlGrpHdr/OrgnlInstgPty    → carried
    SttlmRtrRct/NPCPrcInf/PrcSts             → T/TxSts via STATUSES (none if unmapped) + carried
    SttlmRtrRct/NPCPrcInf/PrcCd              → T/StsRsnInf[1]/Rsn/Prtry
    SttlmRtrRct/NPCPrcInf/RjctInf            → T/StsRsnInf[1]/AddtlInf[1]
    SttlmRtrRct/NPCPrcInf/SttlmDt            → T/FctvIntrBkSttlmDt/Dt   (settlement date)
    SttlmRtrRct/NPCPrcInf/NetgDt, NetgRnd,
                          RcvTm, TrnsmtTm    → carried
    SttlmRtrRct/AcctInf/Bal                  → carried  (clearing-account balance, CNY+n.nn;
                                               pacs.002 has no balance element)

pacs.002.001.10 → ccms.900.001.02 (the status "level" ``L`` is ``OrgnlGrpInfAndSts[1]`` when its
``GrpSts`` is in :data:`REVERSE_STATUSES`, else ``TxInfAndSts[1]`` when its ``TxSts`` is, else
whichever of the two exists; "from CNAPS2" = the report carries CNAPS2 values)::

    Doc/GrpHdr/MsgId                         → CmonConf/GrpHdr/MsgId  (not yyyyMMdd + 8 digits
                                               and not from CNAPS2: a new one from the creation
                                               date and the id generator; the old one dropped)
    Doc/GrpHdr/CreDtTm                       → CmonConf/GrpHdr/CreDtTm  (not from CNAPS2, with an
                                               offset other than +08:00: converted to Beijing
                                               time, transliterated)
    Doc/GrpHdr/InstgAgt (ClrSysId CNAPS)     → InstgPty/InstgDrctPty = MmbId, InstgPty = BrnchId/Id
                                               (missing: option sender, else NPC 0000; defaulted)
    Doc/GrpHdr/InstdAgt (ClrSysId CNAPS)     → InstdPty/InstdDrctPty, InstdPty (missing: option
                                               receiver, else OrgnlInstgPty, else 0000; defaulted)
    G/OrgnlMsgId, else T/OrgnlGrpInf/…       → CmonConf/OrgnlGrpHdr/OrgnlMsgId
    G/OrgnlMsgNmId, else T/OrgnlGrpInf/…     → CmonConf/OrgnlGrpHdr/OrgnlMT
    L/GrpSts or L/TxSts                      → CmonConf/CmonConfInf/PrcSts: the carried original
                                               when it maps to the same ISO status, else through
                                               REVERSE_STATUSES (else PR00, defaulted)
    L/StsRsnInf[1]/Rsn/Prtry (≤ 8 chars)     → CmonConf/CmonConfInf/PrcCd
    L/StsRsnInf[1]/AddtlInf[1]               → CmonConf/CmonConfInf/RjctInf
    T/FctvIntrBkSttlmDt/Dt (tx level)        → CmonConf/CmonConfInf/PrcDt (when none is carried)
    (a transaction-level status, reason, date or original-message reference taken here is
    reported ``moved``: ccms.900 answers the message, so converted back these land in
    G/GrpSts, G/StsRsnInf, G/OrgnlMsgId/OrgnlMsgNmId and, for the date, the carried data;
    see MOVED_FROM_TRANSACTION)
    carried values                           → their CNAPS2 place (GrpHdr / OrgnlGrpHdr components
                                               are shared by ccms.900 and saps.604;
                                               NPCPrcInf/NetgRnd → CmonConfInf/NetgRnd)
    required and still missing               → SysCd from the OrgnlMT system (else CCMS),
                                               OrgnlInstgPty = InstdDrctPty; all recorded defaulted
    everything else (other transactions, UETR, ISO reason codes, counts, …) → dropped, one loss
                                               entry per field, with the reason
"""

from __future__ import annotations

import copy
import re
from dataclasses import dataclass
from typing import Any

from paymsg.convert.engine.carrier import CarriedValue, carry, take_carriers
from paymsg.convert.engine.loss import MappingContext, default
from paymsg.convert.engine.paths import flatten, get, put, take, value_at
from paymsg.convert.engine.restore import restore
from paymsg.convert.engine.table import (
    BEIJING_TIME,
    MEMBER,
    CodeMap,
    Computed,
    MsgId,
    Pair,
    Row,
    TextLines,
    describe,
    describe_pair,
    pair_lines,
    run_to_unified,
)
from paymsg.convert.hub import mapping
from paymsg.reference.cnaps2 import (
    CNAPS_CLEARING_CODE,
    NPC,
    RETURN_INFO_LINE,
    is_msg_id,
    new_msg_id,
)
from paymsg.schema.catalog import catalog

CCMS900 = "ccms.900.001.02"
SAPS604 = "saps.604.001.01"
PACS002 = "pacs.002.001.10"

#: ``ClrSysId/Cd`` of CNAPS in ISO (ExternalClearingSystemIdentification1Code)
CNAPS = CNAPS_CLEARING_CODE
#: ``SystemCode1`` (cnaps2.md §2.1 [C2+])
SYSTEMS = frozenset(
    {"SAPS", "HVPS", "BEPS", "CCMS", "PMIS", "IBPS", "NCIS", "ECDS", "FXPS", "NETS", "PBCS"}
)
#: the PrcSts written when a unified status report has no status CNAPS2 knows
DEFAULT_STATUS = "PR00"

DOC = "FIToFIPmtStsRpt"
GRP = f"{DOC}/OrgnlGrpInfAndSts[1]"
TX = f"{DOC}/TxInfAndSts[1]"


def _at(path: str) -> str:
    """A path of the (whole) message data as loss entries show it: ``/Document/…``."""
    return f"/Document/{path}"


# --------------------------------------------------------------------------- status tables


@dataclass(frozen=True)
class Status:
    """One NPC processing status and the ISO status it is reported as."""

    code: str
    name_zh: str
    #: ExternalPaymentTransactionStatus1Code / ExternalPaymentGroupStatus1Code, None = no
    #: ISO status has the same meaning (the code is then only carried)
    iso: str | None
    #: confidence of the CNAPS2 code (cnaps2.md §8.3)
    evidence: str
    #: why this ISO status; every mapping is our inference [INF]: no public CNAPS ⇄ ISO table
    note: str


STATUSES: tuple[Status, ...] = (
    Status(
        "PR00",
        "已接收/已转发 (name not public)",
        "RCVD",
        "[S1] usage, name [NF]",
        "[INF] used as received/forwarded; RCVD = received, nothing decided yet",
    ),
    Status("PR02", "已付款", "ACSC", "[S1]", "[INF] paid: settlement completed"),
    Status(
        "PR03",
        "已轧差",
        "ACSP",
        "[C2+]",
        "[INF] netted: accepted, settled when the netting round settles",
    ),
    Status(
        "PR04", "已清算", "ACSC", "[S1]", "[INF] settled on the NPC's books: settlement completed"
    ),
    Status("PR05", "已成功", "ACSC", "[S1]", "[INF] succeeded: final positive status"),
    Status(
        "PR07",
        "已处理 (MIVS usage, name not public)",
        None,
        "[S1] usage",
        "meaning not public; no ISO status claimed",
    ),
    Status(
        "PR08",
        "已撤销",
        "CANC",
        "[S1]",
        "[INF] cancelled; CANC is an ExternalPaymentTransactionStatus1Code, as a group status [NF]",
    ),
    Status(
        "PR09",
        "已拒绝",
        "RJCT",
        "[C2+]",
        "[INF] rejected; PrcCd → StsRsnInf/Rsn/Prtry, RjctInf → StsRsnInf/AddtlInf",
    ),
    Status("PR11", "已轧差排队", "PDNG", "[S1]", "[INF] queued for netting: pending"),
    Status(
        "PR12",
        "已清算排队",
        "PDNG",
        "[S1]",
        "[INF] queued for settlement (e.g. insufficient balance): pending",
    ),
    Status(
        "PR21", "已止付", None, "[S1]", "stopped payment: no ISO payment status with that meaning"
    ),
    Status(
        "PR22",
        "已冲正",
        None,
        "[S1]",
        "reversed: ISO reports reversals with pacs.007, not with a status code",
    ),
    Status(
        "PR32",
        "已超期",
        None,
        "[S1]",
        "expired: what happens to the payment is not public; no ISO status claimed",
    ),
)
BY_CODE: dict[str, Status] = {row.code: row for row in STATUSES}


@dataclass(frozen=True)
class ReverseStatus:
    """The PrcSts written for an ISO status when no carried original code agrees."""

    iso: str
    code: str
    #: False: CNAPS2 has no code with exactly this meaning; the conversion records it
    exact: bool
    note: str


REVERSE_STATUSES: tuple[ReverseStatus, ...] = (
    ReverseStatus("ACSC", "PR04", True, "settlement completed → 已清算"),
    ReverseStatus("ACSP", "PR03", True, "accepted, settlement in process → 已轧差"),
    ReverseStatus("PDNG", "PR12", True, "pending → 已清算排队 (PR11 only when carried)"),
    ReverseStatus("RJCT", "PR09", True, "rejected → 已拒绝"),
    ReverseStatus("CANC", "PR08", True, "cancelled → 已撤销"),
    ReverseStatus("RCVD", "PR00", True, "received → PR00"),
    ReverseStatus("ACCC", "PR04", False, "credited to the creditor account → 已清算 (coarser)"),
)
REVERSE: dict[str, ReverseStatus] = {row.iso: row for row in REVERSE_STATUSES}


# --------------------------------------------------------------------------- tables

#: a CNAPS2 value ISO has no element for: carried in ``Doc/SplmtryData`` (restored on the way back)
CARRIED = Computed("carried in SplmtryData (CNAPS2 carrier); back to its place")
#: PrcSts → the ISO status (also carried, so that the original code comes back)
PROCESSING_STATUS = CodeMap(tuple((row.code, row.iso) for row in STATUSES))
#: RjctInf (≤105) ⇄ StsRsnInf/AddtlInf lines of 105
REJECT_LINES = TextLines(RETURN_INFO_LINE, RETURN_INFO_LINE)


def _header_rows(root: str) -> tuple[Row, ...]:
    """GroupHeader1 + OriginalGroupHeader1/OrgnlInstgPty, shared by ccms.900 and saps.604."""
    hdr, agents = f"{root}/GrpHdr", f"{DOC}/GrpHdr"
    return (
        Row(f"{hdr}/MsgId", f"{agents}/MsgId", MsgId(), "报文标识号"),
        Row(f"{hdr}/CreDtTm", f"{agents}/CreDtTm", BEIJING_TIME, "报文发送时间"),
        Row(f"{hdr}/InstgPty/InstgDrctPty", f"{agents}/InstgAgt/FinInstnId/ClrSysMmbId", MEMBER,
            "发起直接参与机构"),
        Row(f"{hdr}/InstgPty/InstgPty", f"{agents}/InstgAgt/BrnchId/Id", note="发起参与机构"),
        Row(f"{hdr}/InstdPty/InstdDrctPty", f"{agents}/InstdAgt/FinInstnId/ClrSysMmbId", MEMBER,
            "接收直接参与机构"),
        Row(f"{hdr}/InstdPty/InstdPty", f"{agents}/InstdAgt/BrnchId/Id", note="接收参与机构"),
        Row(f"{hdr}/SysCd", f"{DOC}/SplmtryData", CARRIED, "系统编号"),
        Row(f"{hdr}/Rmk", f"{DOC}/SplmtryData", CARRIED, "备注"),
        Row(f"{root}/OrgnlGrpHdr/OrgnlInstgPty", f"{DOC}/SplmtryData", CARRIED, "原发起参与机构"),
    )  # fmt: skip


def _status_rows(at: str, level: str, status: str) -> tuple[Row, ...]:
    """PrcSts / PrcCd / RjctInf at ``at`` as the ISO status and reason at ``level``."""
    return (
        Row(f"{at}/PrcSts", f"{level}/{status}", PROCESSING_STATUS, "处理状态 via STATUSES"),
        Row(f"{at}/PrcCd", f"{level}/StsRsnInf[1]/Rsn/Prtry", note="处理码"),
        Row(f"{at}/RjctInf", f"{level}/StsRsnInf[1]/AddtlInf", REJECT_LINES, "拒绝信息"),
    )


def _carried_rows(at: str, **names: str) -> tuple[Row, ...]:
    """Rows of the elements below ``at`` that are carried (element name → what it is)."""
    return tuple(
        Row(f"{at}/{name}", f"{DOC}/SplmtryData", CARRIED, what) for name, what in names.items()
    )


#: ccms.900.001.02 ⇄ pacs.002.001.10: a group-level status
CCMS900_ROWS: tuple[Row, ...] = (
    *_header_rows("CmonConf"),
    Row("CmonConf/OrgnlGrpHdr/OrgnlMsgId", f"{GRP}/OrgnlMsgId", note="原报文标识号"),
    Row("CmonConf/OrgnlGrpHdr/OrgnlMT", f"{GRP}/OrgnlMsgNmId", note="原报文类型 (the CNAPS2 MT)"),
    *_status_rows("CmonConf/CmonConfInf", GRP, "GrpSts"),
    *_carried_rows("CmonConf/CmonConfInf", PtyId="参与机构", PtyPrcCd="参与机构处理码",
                   PrcDt="处理日期", NetgRnd="轧差场次"),
)  # fmt: skip
#: saps.604.001.01 → pacs.002.001.10: a transaction-level status (only there does ISO have
#: the settlement date)
SAPS604_ROWS: tuple[Row, ...] = (
    *_header_rows("SttlmRtrRct"),
    Row("SttlmRtrRct/OrgnlGrpHdr/OrgnlMsgId", f"{TX}/OrgnlGrpInf/OrgnlMsgId", note="原报文标识号"),
    Row("SttlmRtrRct/OrgnlGrpHdr/OrgnlMT", f"{TX}/OrgnlGrpInf/OrgnlMsgNmId", note="原报文类型"),
    *_status_rows("SttlmRtrRct/NPCPrcInf", TX, "TxSts"),
    Row("SttlmRtrRct/NPCPrcInf/SttlmDt", f"{TX}/FctvIntrBkSttlmDt/Dt", note="清算日期"),
    *_carried_rows("SttlmRtrRct/NPCPrcInf", NetgDt="轧差日期", NetgRnd="轧差场次",
                   RcvTm="接收时间", TrnsmtTm="转发时间"),
    Row("SttlmRtrRct/AcctInf/Bal", f"{DOC}/SplmtryData", CARRIED,
        "清算账户余额 (pacs.002 has no balance element)"),
)  # fmt: skip
#: what pacs.002.001.10 → ccms.900.001.02 does besides the rows (read the other way)
REVERSE_HOOKS: tuple[Row, ...] = (
    Row("CmonConf/GrpHdr/MsgId", f"{DOC}/GrpHdr/MsgId", Computed(
        "not a CNAPS2 MsgId and not from CNAPS2: a new one from the creation date (defaulted)")),
    Row("CmonConf/GrpHdr/InstgPty, InstdPty", f"{DOC}/GrpHdr/InstgAgt, InstdAgt", Computed(
        "only a ClrSysMmbId with ClrSysId CNAPS; missing: option sender/receiver, the carried "
        "OrgnlInstgPty, the NPC 0000 (defaulted)")),
    Row("CmonConf/OrgnlGrpHdr/OrgnlMsgId, OrgnlMT", f"{GRP}/…, else {TX}/OrgnlGrpInf/…", Computed(
        "the group's original message, else the first transaction's (moved)")),
    Row("CmonConf/CmonConfInf/PrcSts", f"{GRP}/GrpSts or {TX}/TxSts", Computed(
        "the carried original when it maps to the same ISO status, else REVERSE_STATUSES, "
        "else PR00 (defaulted)")),
    Row("CmonConf/CmonConfInf/PrcCd", "…/StsRsnInf[1]/Rsn/Prtry", Computed("≤ 8 characters")),
    Row("CmonConf/CmonConfInf/PrcDt", f"{TX}/FctvIntrBkSttlmDt/Dt", Computed(
        "a transaction-level settlement date, when none is carried (moved)")),
    Row("CmonConf/GrpHdr/SysCd", f"{GRP}/OrgnlMsgNmId", Computed(
        "not carried: the system of the original message type, else CCMS (defaulted)")),
    Row("—", "everything else", Computed("dropped, one loss entry per field, with the reason")),
)  # fmt: skip


CCMS900_PAIR = Pair.of(CCMS900, PACS002, CCMS900_ROWS, hooks=REVERSE_HOOKS)
SAPS604_PAIR = Pair.of(SAPS604, PACS002, SAPS604_ROWS)
describe_pair(CCMS900_PAIR)
describe(SAPS604, PACS002, lambda: pair_lines(SAPS604_PAIR, True))


# --------------------------------------------------------------------------- CNAPS2 → unified


def _to_unified(data: dict[str, Any], ctx: MappingContext, rows: tuple[Row, ...]) -> dict[str, Any]:
    """Run the rows; the carried values (and the original PrcSts) go to ``Doc/SplmtryData``."""
    carried = [r.cnaps for r in rows if r.policy is CARRIED or r.policy is PROCESSING_STATUS]
    kept = {path: str(value) for path in carried if (value := value_at(data, path)) is not None}
    out, left = run_to_unified(data, rows)
    for path in carried:
        take(left, path)
    put(out, f"{DOC}/SplmtryData", [carry(kept, ctx.source.id)] if kept else None)
    for path, value in flatten(left).items():  # nothing is expected here: every field is mapped
        ctx.lose(_at(path), "dropped", "no mapping for this field", value=value)
    return out


@mapping(CCMS900, PACS002)
def ccms900_to_pacs002(data: dict[str, Any], ctx: MappingContext) -> dict[str, Any]:
    """通用处理确认 → group-level status report (see the module table)."""
    return _to_unified(data, ctx, CCMS900_ROWS)


@mapping(SAPS604, PACS002)
def saps604_to_pacs002(data: dict[str, Any], ctx: MappingContext) -> dict[str, Any]:
    """清算回执 → transaction-level status report (see the module table)."""
    return _to_unified(data, ctx, SAPS604_ROWS)


# --------------------------------------------------------------------------- unified → CNAPS2

#: carried component paths (root stripped) → their ccms.900 place
CARRIED_PLACES: dict[str, str] = {
    "GrpHdr/SysCd": "CmonConf/GrpHdr/SysCd",
    "GrpHdr/Rmk": "CmonConf/GrpHdr/Rmk",
    "OrgnlGrpHdr/OrgnlInstgPty": "CmonConf/OrgnlGrpHdr/OrgnlInstgPty",
    "CmonConfInf/PtyId": "CmonConf/CmonConfInf/PtyId",
    "CmonConfInf/PtyPrcCd": "CmonConf/CmonConfInf/PtyPrcCd",
    "CmonConfInf/PrcDt": "CmonConf/CmonConfInf/PrcDt",
    "CmonConfInf/NetgRnd": "CmonConf/CmonConfInf/NetgRnd",
    "NPCPrcInf/NetgRnd": "CmonConf/CmonConfInf/NetgRnd",
}
#: carried component paths that hold the original PrcSts
CARRIED_STATUS = ("CmonConfInf/PrcSts", "NPCPrcInf/PrcSts")
CARRIER_ROOTS = ("CmonConf", "SttlmRtrRct")

#: why a field left over after the mapping has no place in ccms.900 (first matching suffix or
#: prefix of the index-free path wins)
LEFTOVER_REASONS: tuple[tuple[str, str], ...] = (
    ("/OrgnlUETR", "CNAPS2 has no UETR"),
    ("/StsRsnInf/Rsn/Cd", "an ISO status reason code has no CNAPS2 processing code (PrcCd)"),
    (
        "/StsRsnInf/Rsn/Prtry",
        "ccms.900 holds one processing code (PrcCd) of at most 8 characters; a cut code would be "
        "another code",
    ),
    ("/StsRsnInf/Orgtr", "ccms.900 does not name who gave the reason"),
    ("/StsRsnInf/AddtlInf", "ccms.900 holds one reject text (RjctInf)"),
    ("/StsRsnInf", "ccms.900 holds one processing code and one reject text"),
    ("/NbOfTxsPerSts", "ccms.900 has no per-status counts"),
    (
        f"{DOC}/OrgnlGrpInfAndSts/GrpSts",
        "CNAPS2 has no status for this group status; the first transaction's status was used",
    ),
    (f"{DOC}/OrgnlGrpInfAndSts", "ccms.900 identifies one original message, by id and type only"),
    (
        f"{DOC}/TxInfAndSts/TxSts",
        "ccms.900 carries one status for the whole original message; a per-transaction status "
        "has no place",
    ),
    (
        f"{DOC}/TxInfAndSts",
        "ccms.900 answers a whole message; per-transaction references, dates and amounts have "
        "no place",
    ),
    (
        f"{DOC}/GrpHdr/InstgAgt",
        "CNAPS2 names a participant by its bank code only (ClrSysMmbId with ClrSysId CNAPS, "
        "branch in BrnchId/Id)",
    ),
    (
        f"{DOC}/GrpHdr/InstdAgt",
        "CNAPS2 names a participant by its bank code only (ClrSysMmbId with ClrSysId CNAPS, "
        "branch in BrnchId/Id)",
    ),
    (f"{DOC}/SplmtryData", "supplementary data other than the CNAPS2 carrier has no place"),
)
_INDEX = re.compile(r"\[\d+\]")


def _leftover_reason(path: str) -> str:
    plain = _INDEX.sub("", path)
    for key, reason in LEFTOVER_REASONS:
        if plain.startswith(key) or (key.startswith("/") and key in plain):
            return reason
    return "ccms.900.001.02 has no element for this field"


def _carried_values(
    src: dict[str, Any], ctx: MappingContext
) -> tuple[dict[str, str], dict[str, str]]:
    """Consume the CNAPS2 carriers of ``Doc/SplmtryData``: (component path → value, component
    path → where it is carried, as loss entries show it).

    Carried values of another CNAPS2 message that ccms.900 cannot hold are recorded as lost.
    """
    holder = src.get(DOC)
    if not isinstance(holder, dict):
        return {}, {}
    out: dict[str, str] = {}
    where: dict[str, str] = {}
    for carrier in take_carriers(holder, lambda kind: True):
        for path, value in carrier.values.items():
            shown = carrier.shown(_at(DOC), path)
            root, _, component = path.partition("/")
            if root in CARRIER_ROOTS and (
                component in CARRIED_PLACES or component in CARRIED_STATUS
            ):
                out.setdefault(component, value)
                where.setdefault(component, shown)
                continue
            ctx.lose(
                shown,
                "dropped",
                "a CNAPS2 value carried from another message type that ccms.900 has no element for",
                value=value,
            )
    return out, where


def _agent_to_cnaps(
    src: dict[str, Any], path: str, ctx: MappingContext, targets: tuple[str, str]
) -> tuple[str | None, str | None]:
    """(direct participant, participant) of an ISO agent identified in CNAPS; else Nones.

    Only a ``ClrSysMmbId`` with ``ClrSysId/Cd`` CNAPS is taken; anything else stays in ``src``
    and is reported as a leftover.
    """
    member = f"{path}/FinInstnId/ClrSysMmbId"
    if get(src, f"{member}/ClrSysId/Cd") != CNAPS or get(src, f"{member}/MmbId") is None:
        return None, None
    take(src, f"{member}/ClrSysId/Cd")
    direct = ctx.fit(_at(f"{member}/MmbId"), take(src, f"{member}/MmbId"), 14, _at(targets[0]))
    party = ctx.fit(_at(f"{path}/BrnchId/Id"), take(src, f"{path}/BrnchId/Id"), 14, _at(targets[1]))
    return direct, party


def _cnaps_datetime(
    value: str | None, ctx: MappingContext, path: str, from_cnaps: bool
) -> str | None:
    """An ISO date-time as CNAPS2 writes it: Beijing time; other offsets are converted
    (unless the report came from CNAPS2: then it is what CNAPS2 had)."""
    if value is None or from_cnaps:
        return value
    result: str = BEIJING_TIME.to_cnaps(value, ctx, path, _at("CmonConf/GrpHdr/CreDtTm"))
    return result


def _cnaps_msg_id(
    value: str | None, created: str | None, ctx: MappingContext, from_cnaps: bool
) -> str | None:
    """``value`` when it is a CNAPS2 MsgId (work date + sequence) or the report came from
    CNAPS2 (it carries CNAPS2 values: keep what CNAPS2 had), else a new one, recorded.

    The new id is :func:`paymsg.reference.cnaps2.new_msg_id`: the creation date (Beijing) and 8
    digits of the id generator (the one of the header by default).
    """
    if value is None or from_cnaps or is_msg_id(value):
        return value
    new = new_msg_id(created, id_generator=ctx.options.id_generator, now=ctx.options.now)
    ctx.lose(
        _at(f"{DOC}/GrpHdr/MsgId"),
        "dropped",
        f"not a CNAPS2 MsgId (8-digit work date + 8-digit sequence); {new} written",
        value=value,
        target_path=_at("CmonConf/GrpHdr/MsgId"),
    )
    return new


def _level(src: dict[str, Any]) -> tuple[str | None, str | None]:
    """(the element whose status ccms.900 reports, its status path) — see the module table."""
    group, tx = get(src, f"{GRP}/GrpSts"), get(src, f"{TX}/TxSts")
    if group in REVERSE:
        return GRP, f"{GRP}/GrpSts"
    if tx in REVERSE:
        return TX, f"{TX}/TxSts"
    if group is not None or (get(src, GRP) and tx is None):
        return GRP, f"{GRP}/GrpSts"
    if get(src, TX):
        return TX, f"{TX}/TxSts"
    return None, None


def _default(ctx: MappingContext, target: str, value: str, reason: str, source: str) -> str:
    """``value`` for the ccms.900 field ``target`` (a path of the message data), recorded."""
    reason = f"{reason}; {value} written"
    written: str = default(
        ctx, value, source=source, target=_at(target), reason=reason, shown_as=None
    )
    return written


def _prc_sts(
    src: dict[str, Any],
    status_path: str | None,
    kept: dict[str, str],
    where: dict[str, str],
    ctx: MappingContext,
) -> str:
    """The PrcSts for the unified status at ``status_path`` (see the module table)."""
    iso = take(src, status_path) if status_path else None
    source = _at(status_path or f"{GRP}/GrpSts")
    key = next((key for key in CARRIED_STATUS if key in kept), None)
    if key is not None:
        original = kept[key]
        row = BY_CODE.get(original)
        if (row.iso if row else None) == iso:
            return original
        ctx.lose(
            where[key],
            "dropped",
            f"the carried original status {original} disagrees with the unified status "
            f"{iso or '(none)'}; the unified status wins",
            value=original,
            target_path=_at("CmonConf/CmonConfInf/PrcSts"),
        )
    if iso is None:
        return _default(
            ctx,
            "CmonConf/CmonConfInf/PrcSts",
            DEFAULT_STATUS,
            "the status report states no status (PrcSts is required)",
            source,
        )
    reverse = REVERSE.get(iso)
    if reverse is None:
        return _default(
            ctx,
            "CmonConf/CmonConfInf/PrcSts",
            DEFAULT_STATUS,
            f"CNAPS2 has no processing status for ISO status {iso}",
            source,
        )
    if not reverse.exact:
        ctx.lose(
            source,
            "transliterated",
            f"{iso} has no exact CNAPS2 status: {reverse.note}",
            value=iso,
            target_path=_at("CmonConf/CmonConfInf/PrcSts"),
        )
    return reverse.code


def _original(src: dict[str, Any], ctx: MappingContext) -> tuple[str, str, str]:
    """(OrgnlMsgId, OrgnlMT, source path): the group's original message, else the first
    transaction's; a missing one is defaulted."""
    where = GRP if get(src, f"{GRP}/OrgnlMsgId") is not None else f"{TX}/OrgnlGrpInf"
    msg_id = take(src, f"{where}/OrgnlMsgId")
    name = take(src, f"{where}/OrgnlMsgNmId")
    repeated = get(src, f"{TX}/OrgnlGrpInf")
    if where == GRP and repeated == {"OrgnlMsgId": msg_id, "OrgnlMsgNmId": name}:
        take(src, f"{TX}/OrgnlGrpInf/OrgnlMsgId")  # the same reference, repeated
        take(src, f"{TX}/OrgnlGrpInf/OrgnlMsgNmId")
    path = _at(where)
    if msg_id is None:
        msg_id = _default(
            ctx,
            "CmonConf/OrgnlGrpHdr/OrgnlMsgId",
            "NOTPROVIDED",
            "the report names no original message",
            f"{path}/OrgnlMsgId",
        )
    if name is None:
        name = _default(
            ctx,
            "CmonConf/OrgnlGrpHdr/OrgnlMT",
            "NOTPROVIDED",
            "the report names no original message type",
            f"{path}/OrgnlMsgNmId",
        )
    return msg_id, name, path


def _parties(
    src: dict[str, Any], ctx: MappingContext, kept: dict[str, str]
) -> tuple[dict[str, str], dict[str, str]]:
    """(InstgPty, InstdPty) of ccms.900 from the report's agents, else defaulted: the sender
    option or the NPC (ccms.900 is sent by the NPC), the receiver option or the carried
    original instructing party or the NPC; a missing participant = its direct participant."""
    hdr = "CmonConf/GrpHdr"
    fallbacks = {
        "Instg": ("instructing", ctx.options.sender or NPC),
        "Instd": (
            "instructed",
            ctx.options.receiver or kept.get("OrgnlGrpHdr/OrgnlInstgPty") or NPC,
        ),
    }
    parties: dict[str, dict[str, str]] = {}
    for role, (label, fallback) in fallbacks.items():
        agent = f"{DOC}/GrpHdr/{role}Agt"
        targets = (f"{hdr}/{role}Pty/{role}DrctPty", f"{hdr}/{role}Pty/{role}Pty")
        direct, party = _agent_to_cnaps(src, agent, ctx, targets)
        if direct is None:
            direct = _default(
                ctx,
                targets[0],
                fallback,
                f"the {label} agent has no CNAPS member id (ClrSysMmbId with ClrSysId CNAPS)",
                _at(agent),
            )
        if party is None:
            party = _default(
                ctx,
                targets[1],
                direct,
                f"the {label} agent has no branch id (BrnchId/Id); its direct participant",
                _at(f"{agent}/BrnchId/Id"),
            )
        parties[role] = {f"{role}DrctPty": direct, f"{role}Pty": party}
    return parties["Instg"], parties["Instd"]


#: transaction-level fields of a pacs.002 that ccms.900 reports for the whole message:
#: path below ``TX`` → (its ccms.900 place below ``CmonConf``, where ccms.900 → pacs.002
#: puts it back), see :func:`_moved_from_transaction`
MOVED_FROM_TRANSACTION: dict[str, tuple[str, str]] = {
    "TxSts": ("CmonConfInf/PrcSts", f"{GRP}/GrpSts"),
    "StsRsnInf[1]/Rsn/Prtry": ("CmonConfInf/PrcCd", f"{GRP}/StsRsnInf[1]/Rsn/Prtry"),
    "StsRsnInf[1]/AddtlInf[1]": ("CmonConfInf/RjctInf", f"{GRP}/StsRsnInf[1]/AddtlInf[1]"),
    "FctvIntrBkSttlmDt/Dt": (
        "CmonConfInf/PrcDt",
        f"{DOC}/SplmtryData (CNAPS2 data: a group status has no settlement date)",
    ),
    "OrgnlGrpInf/OrgnlMsgId": ("OrgnlGrpHdr/OrgnlMsgId", f"{GRP}/OrgnlMsgId"),
    "OrgnlGrpInf/OrgnlMsgNmId": ("OrgnlGrpHdr/OrgnlMT", f"{GRP}/OrgnlMsgNmId"),
}


def _moved_from_transaction(
    src: dict[str, Any], level: str | None, kept: dict[str, str]
) -> dict[str, tuple[str, str, str]]:
    """The first transaction's fields that ccms.900 may take as the message's (path →
    value, ccms.900 place, place back in a pacs.002); the caller reports those it took as
    moved: ISO → CNAPS2 → ISO puts them at the group level (issue 10). A report that came
    from CNAPS2 (it carries the original values) is not moved: its values go back home."""
    if kept:
        return {}
    found: dict[str, tuple[str, str, str]] = {}
    for below, (target, back) in MOVED_FROM_TRANSACTION.items():
        path = f"{TX}/{below}"
        value = get(src, path)
        status_like = below in ("TxSts", "StsRsnInf[1]/Rsn/Prtry", "StsRsnInf[1]/AddtlInf[1]")
        if value is not None and (level == TX or not status_like):
            found[path] = (value, target, back)
    return found


@mapping(PACS002, CCMS900)
def pacs002_to_ccms900(data: dict[str, Any], ctx: MappingContext) -> dict[str, Any]:
    """Unified status report → 通用处理确认 (see the module table)."""
    src = copy.deepcopy(data)
    kept, where = _carried_values(src, ctx)
    hdr, org, inf = "CmonConf/GrpHdr", "CmonConf/OrgnlGrpHdr", "CmonConf/CmonConfInf"
    out: dict[str, Any] = {}

    msg_id = take(src, f"{DOC}/GrpHdr/MsgId")
    from_cnaps = bool(kept)  # the CNAPS2 → unified edges always carry PrcSts and SysCd
    created = _cnaps_datetime(
        take(src, f"{DOC}/GrpHdr/CreDtTm"), ctx, _at(f"{DOC}/GrpHdr/CreDtTm"), from_cnaps
    )
    put(out, f"{hdr}/MsgId", _cnaps_msg_id(msg_id, created, ctx, from_cnaps))
    put(out, f"{hdr}/CreDtTm", created)
    instg, instd = _parties(src, ctx, kept)
    put(out, f"{hdr}/InstgPty", instg)
    put(out, f"{hdr}/InstdPty", instd)

    level, status_path = _level(src)
    moved = _moved_from_transaction(src, level, kept)
    orgnl_id, orgnl_mt, orgnl_path = _original(src, ctx)
    put(out, f"{org}/OrgnlMsgId", orgnl_id)
    put(out, f"{org}/OrgnlMT", orgnl_mt)

    put(out, f"{inf}/PrcSts", _prc_sts(src, status_path, kept, where, ctx))
    if level is not None:
        reason = f"{level}/StsRsnInf[1]"
        code = get(src, f"{reason}/Rsn/Prtry")
        if code is not None and len(code) <= 8:
            put(out, f"{inf}/PrcCd", take(src, f"{reason}/Rsn/Prtry"))
        node = get(src, reason)
        notes = node.get("AddtlInf") if isinstance(node, dict) else None
        if notes:
            put(out, f"{inf}/RjctInf", notes[0])
            notes[0] = None  # taken; the others keep their index for the loss report
        if level == TX and "CmonConfInf/PrcDt" not in kept:
            put(out, f"{inf}/PrcDt", take(src, f"{TX}/FctvIntrBkSttlmDt/Dt"))
    for source_path, (value, target, back) in moved.items():
        if get(src, source_path) is None:  # taken by the mapping above: it moved
            ctx.lose(
                _at(source_path),
                "moved",
                "ccms.900 answers the message, not a transaction: "
                + f"the transaction's value becomes {target}, "
                + f"which converts back to {back}",
                value=value,
                target_path=_at(f"CmonConf/{target}"),
            )

    restore(  # carried CNAPS2 values to their place, where the mapping wrote nothing
        out,
        [
            CarriedValue(CARRIED_PLACES[component], value, where[component])
            for component, value in kept.items()
            if component in CARRIED_PLACES
        ],
        ctx,
        model=catalog().get(CCMS900).root_class,
        target=_at,
    )
    if get(out, f"{org}/OrgnlInstgPty") is None:
        put(
            out,
            f"{org}/OrgnlInstgPty",
            _default(
                ctx,
                f"{org}/OrgnlInstgPty",
                instd["InstdDrctPty"],
                "the original instructing party is not carried; the instructed direct participant",
                orgnl_path,
            ),
        )
    if get(out, f"{hdr}/SysCd") is None:
        system = orgnl_mt.split(".", 1)[0].upper()
        put(
            out,
            f"{hdr}/SysCd",
            _default(
                ctx,
                f"{hdr}/SysCd",
                system if system in SYSTEMS else "CCMS",
                "the system code is not carried; the system of the original message type",
                f"{orgnl_path}/OrgnlMsgNmId",
            ),
        )

    for path, value in flatten(src).items():
        ctx.lose(_at(path), "dropped", _leftover_reason(path), value=value)
    return out
