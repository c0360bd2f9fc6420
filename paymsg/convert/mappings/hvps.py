"""Hub edges for HVPS (大额支付系统): the ISO-reuse messages and their unified counterparts.

* ``hvps.111.001.01`` (pacs.008.001.02 body, 客户发起汇兑) ⇄ ``pacs.008.001.08``
* ``hvps.112.001.01`` (pacs.009.001.02 body, 金融机构发起汇兑) ⇄ ``pacs.009.001.08``
* HVPS returns (退汇: business type A105, category 02108, original message named by the
  ``/E51/ /A70/ /F40/ /H20/`` remittance lines, reference §8.6) ⇄ ``pacs.004.001.09``, from and
  to hvps.112 (the return in the examples is an hvps.112, and the code table lists A105 for
  hvps.112) and from and to hvps.111 (a return keyed as a customer transfer; the ``cnaps2``
  rule pack warns that A105 is not listed for hvps.111).

How an edge works — one engine (:func:`_to_unified`, :func:`_to_cnaps`) driven by tables:

``ROWS``
    the field mapping proper: a CNAPS2 element of the HVPS usage (reference §6.1, §6.2) and
    the unified element it becomes, used in both directions. Paths are relative to the
    message element (``FIToFICstmrCdtTrf`` …); ``[1]`` is the (single) HVPS transaction. A
    row may name a check the value must pass to be written to CNAPS2 (:data:`CHECKS`).
``GENERATION``
    ISO 2009 → 2019 equivalents of elements the 2009 body schema has and the HVPS usage does
    not (``BIC`` → ``BICFI``, ``PrvsInstgAgt`` → ``PrvsInstgAgt1``, ``SvcLvl`` 0..1 → 0..n,
    ``AdrTp`` code → ``AdrTp/Cd``, ``BICOrBEI`` → ``AnyBIC`` …), copied forward so that the
    unified message says what the CNAPS2 one says. The CNAPS2 value itself travels in the
    carrier (below); unified → CNAPS2 does not write these (CNAPS2 cannot carry them).
``FALLBACKS``
    unified → CNAPS2 only: other places of a value in a unified message (group-level agents,
    a return party given as a bank instead of a customer …); a value taken from there is
    reported as ``moved``.
rules in code
    ``ClrSysId/Cd = CNAPS`` on 12-digit member ids, the ``/F25/`` line of hvps.112, the
    return codes and lines, defaults of required CNAPS2 fields.

CNAPS2 → unified is lossless by construction: whatever the rows and rules do not consume —
and every value the reverse would not write back as it is — is carried with
``carry(flatten(leftover), <type>)`` in the transaction's ``SplmtryData``. The reverse
restores it with :func:`~paymsg.convert.engine.restore.restore`, the rule every engine follows: a
carried value fills only what no row, rule or default wrote, and a carried value the unified
message contradicts is reported (``dropped``) and not used — the unified value wins. A value
of a row (or generation row) is carried only when the reverse could not write it back as it
is, and then it is also the unified element's value: it stays valid only while that element
still says the same (:func:`_stale`); a return's carried lines stay valid while the unified
fields read from them are unchanged. A carried path that is malformed, lacks a list index or
does not exist in the CNAPS2 body is reported, never followed.

HVPS carries one transaction: a unified message with more is refused
(:class:`~paymsg.errors.ConversionError`, like a non-CNY amount), unless every further
transaction is the carried one of an HVPS original, which is then restored as it was.

Unified → CNAPS2 reports exactly what does not survive: after building the CNAPS2 data it
runs the forward edge on the result and compares; every unified field that does not come
back (same path and value; a list item anywhere in its list) is lost. What CNAPS2 can hold
elsewhere is placed there first — structured address parts as an address line, identifiers
(UETR, LEI, party ids, the BIC of an agent without bank code) as ``/H01/path:value``
remittance lines, the one spill format of every CNAPS2 target (``/H01/`` is the 附言 tag of
the remittance tag scheme; see :mod:`paymsg.convert.engine.table`) — and reported ``moved``;
the rest is reported ``dropped``. CNAPS2 → unified reads such a line back to its element
when that is a plain text field in an element the message has (the line stays).
"""

from __future__ import annotations

import copy
import functools
import itertools
import re
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import partial
from typing import Any

from paymsg.convert.engine.carrier import CarriedValue, carried_values, carry, take_carriers
from paymsg.convert.engine.loss import MappingContext, default, shown
from paymsg.convert.engine.paths import (
    LIST_ITEM,
    ensure,
    flatten,
    leaves,
    lines_at,
    put,
    shown_value,
    take,
    value_at,
)
from paymsg.convert.engine.restore import model_at, path_problem, read_back, restore
from paymsg.convert.engine.table import (
    AMOUNT,
    BEIJING_TIME,
    DROP_WITH_LOSS,
    SPILL_TAG,
    SPILL_TO_TEXT,
    Amount,
    BankCode,
    BeijingTime,
    Count,
    MsgId,
    Only,
    Pair,
    Row,
    TaggedLines,
    compose_address,
    describe_pair,
    spill_item,
    spilled,
)
from paymsg.convert.hub import mapping
from paymsg.errors import ConversionError
from paymsg.reference.cnaps2 import (
    BANK_CODE,
    CNAPS_CLEARING_CODE,
    REMITTANCE_LINE,
    RETURN_BUSINESS_TYPE,
    RETURN_CATEGORY,
    RETURN_INFO_LINE,
    TAG_LINE,
    new_msg_id,
)
from paymsg.schema.catalog import catalog, layout_of

# =============================================================================== codes

#: the shape of an ISO external return reason code (ExternalReturnReason1Code, e.g. AC04)
ISO_REASON = re.compile(r"[A-Z]{2}[0-9]{2}")

#: required codes a unified message does not give: (业务类型, 业务种类) assumed
DEFAULT_CODES = {
    "hvps.111.001.01": ("A100", "02102"),  # 普通汇兑 / 普通汇兑
    "hvps.112.001.01": ("A200", "02105"),  # 行间资金汇划 / 资金调拨
}

#: ISO return reason ⇄ /H20/ 退汇原因 text [INF]: our wording, one text per code
RETURN_REASON_TEXT = {
    "AC01": "收款人账号错误",
    "AC04": "收款人账户已销户",
    "AC06": "收款人账户已冻结",
    "AM05": "重复支付",
    "BE01": "收款人户名与账号不符",
    "MS02": "收款人要求退回",
    "MS03": "其他原因",
    "RC01": "收款行行号错误",
}
RETURN_REASON_CODE = {text: code for code, text in RETURN_REASON_TEXT.items()}

#: ISO limits that matter here (characters; REMITTANCE_LINE 140 and RETURN_INFO_LINE 105, the
#: PaymentReturnReason6/AddtlInf, come from paymsg.reference.cnaps2)
ADDRESS_LINE = 70
MAX_ADDRESS_LINES = 7
TEXT_35 = 35

# =============================================================================== tables


# The policies of the HVPS rows besides copy: the conditions of the cnaps2 rule pack on values
# written to CNAPS2. A CNAPS2 value that fails one is also carried forward, so that it comes
# back as it was.
MESSAGE_ID = MsgId()
COUNT = Count("the number of transactions carried: 1")
CLRG = Only("CLRG")
TAGGED = TaggedLines()
BANK = BankCode()
PARTY = BankCode(npc=True)  # an instructing / instructed participant may be the NPC

#: where the HVPS bodies and their unified counterparts have their transactions and totals
#: (catalogue layouts): hvps.111/112 and pacs.008/009 share them; pacs.004 has its own
HVPS = layout_of("hvps.111.001.01")
RETURN = layout_of("pacs.004.001.09")
C = f"{HVPS.transaction}[1]/"  # the HVPS transaction (CNAPS2 side, and pacs.008/009 side)
R = f"{RETURN.transaction}[1]/"  # the returned transaction of a pacs.004

GROUP_ROWS = (
    Row(
        "GrpHdr/MsgId",
        "GrpHdr/MsgId",
        MESSAGE_ID,
        "报文标识号, as is; to CNAPS2 a 16-digit date+sequence "
        "id, else a new one is assigned (defaulted)",
    ),
    Row(
        "GrpHdr/CreDtTm",
        "GrpHdr/CreDtTm",
        BEIJING_TIME,
        "报文发送时间, as is; to CNAPS2 another UTC offset becomes Beijing time (transliterated)",
    ),
    Row(
        str(HVPS.count),
        str(HVPS.count),
        COUNT,
        "明细业务总笔数, as is; to CNAPS2 the number of transactions carried: 1",
    ),
    Row(
        "GrpHdr/SttlmInf/SttlmMtd",
        "GrpHdr/SttlmInf/SttlmMtd",
        CLRG,
        "as is; to CNAPS2 CLRG (another method is replaced: defaulted)",
    ),
)


def _agent_rows(cnaps: str, unified: str, what: str, *, branch: bool, name: bool) -> list[Row]:
    """An agent: its member id (清算行/开户行 行号) and its branch id (行号) or name."""
    check = PARTY if cnaps.endswith(("InstgAgt", "InstdAgt")) else BANK
    rows = [
        Row(
            f"{cnaps}/FinInstnId/ClrSysMmbId/MmbId",
            f"{unified}/FinInstnId/ClrSysMmbId/MmbId",
            check,
            f"{what} 行号, as is; ClrSysId/Cd CNAPS added when 12 digits",
        ),
    ]
    if branch:
        rows.append(
            Row(
                f"{cnaps}/BrnchId/Id",
                f"{unified}/BrnchId/Id",
                BANK,
                f"{what.split(' / ')[-1]} 行号 (the branch), as is",
            )
        )
    if name:
        rows.append(Row(f"{cnaps}/FinInstnId/Nm", f"{unified}/FinInstnId/Nm", note=f"{what}名称"))
    return rows


def _party_rows(cnaps: str, unified: str, what: str) -> list[Row]:
    return [
        Row(f"{cnaps}/Nm", f"{unified}/Nm", note=f"{what}名称, as is"),
        Row(
            f"{cnaps}/PstlAdr/AdrLine",
            f"{unified}/PstlAdr/AdrLine",
            note=f"{what}地址 lines, in "
            "order; to CNAPS2 structured address parts are added as one more line (moved)",
        ),
    ]


def _bank_party_rows(cnaps: str, unified: str, what: str) -> list[Row]:
    return [
        *_agent_rows(cnaps, unified, what, branch=False, name=True),
        Row(
            f"{cnaps}/FinInstnId/PstlAdr/AdrLine",
            f"{unified}/FinInstnId/PstlAdr/AdrLine",
            note=f"{what}地址 lines, in order; to CNAPS2 structured parts added as a line (moved)",
        ),
    ]


def _account_row(cnaps: str, unified: str, what: str) -> Row:
    return Row(f"{cnaps}/Id/Othr/Id", f"{unified}/Id/Othr/Id", note=f"{what}账号, as is")


_INSTRUCTING = (
    *_agent_rows(C + "InstgAgt", C + "InstgAgt", "付款清算行 / 发起行", branch=True, name=False),
    *_agent_rows(C + "InstdAgt", C + "InstdAgt", "收款清算行 / 接收行", branch=True, name=False),
    *_agent_rows(C + "IntrmyAgt1", C + "IntrmyAgt1", "中介机构1", branch=False, name=True),
    *_agent_rows(C + "IntrmyAgt2", C + "IntrmyAgt2", "中介机构2", branch=False, name=True),
)

HVPS_111_ROWS: tuple[Row, ...] = (
    *GROUP_ROWS,
    Row(C + "PmtId/EndToEndId", C + "PmtId/EndToEndId", note="端到端标识号, as is"),
    Row(
        C + "PmtId/TxId",
        C + "PmtId/TxId",
        note="交易标识号, as is (optional in 2019: to CNAPS2 defaulted to MsgId)",
    ),
    Row(
        C + "PmtTpInf/CtgyPurp/Prtry",
        C + "PmtTpInf/CtgyPurp/Prtry",
        note="业务类型 (§8.1), the same proprietary element; to CNAPS2 defaulted A100",
    ),
    Row(
        C + "IntrBkSttlmAmt",
        C + "IntrBkSttlmAmt",
        AMOUNT,
        "金额 with @Ccy, as is; to CNAPS2 only CNY with at most 2 decimals, else refused",
    ),
    Row(
        C + "SttlmPrty",
        C + "SttlmPrty",
        note="业务优先级 NORM/HIGH/URGT, as is; to CNAPS2 defaulted NORM",
    ),
    Row(C + "ChrgBr", C + "ChrgBr", note="as is"),
    *_INSTRUCTING,
    *_party_rows(C + "Dbtr", C + "Dbtr", "付款人"),
    _account_row(C + "DbtrAcct", C + "DbtrAcct", "付款人"),
    *_agent_rows(C + "DbtrAgt", C + "DbtrAgt", "付款人开户行", branch=False, name=True),
    *_agent_rows(C + "CdtrAgt", C + "CdtrAgt", "收款人开户行", branch=False, name=True),
    *_party_rows(C + "Cdtr", C + "Cdtr", "收款人"),
    _account_row(C + "CdtrAcct", C + "CdtrAcct", "收款人"),
    Row(
        C + "Purp/Prtry",
        C + "Purp/Prtry",
        note="业务种类 (§8.2), the same proprietary element; to CNAPS2 defaulted 02102",
    ),
    Row(
        C + "RmtInf/Ustrd",
        C + "RmtInf/Ustrd",
        TAGGED,
        "附言 / tag lines (/H01/ …), verbatim, in order; "
        "to CNAPS2 an untagged line is written as /H01/<line> (moved)",
    ),
)

HVPS_112_ROWS: tuple[Row, ...] = (
    *GROUP_ROWS,
    Row(C + "PmtId/EndToEndId", C + "PmtId/EndToEndId", note="端到端标识号, as is"),
    Row(
        C + "PmtId/TxId", C + "PmtId/TxId", note="交易标识号, as is (to CNAPS2 defaulted to MsgId)"
    ),
    Row(
        C + "PmtTpInf/SvcLvl/Prtry",
        C + "PmtTpInf/SvcLvl[1]/Prtry",
        note="业务类型 (§8.1), the same "
        "proprietary element (SvcLvl 0..1 → 0..n: the first); to CNAPS2 defaulted A200",
    ),
    Row(
        C + "IntrBkSttlmAmt",
        C + "IntrBkSttlmAmt",
        AMOUNT,
        "金额 with @Ccy, as is; to CNAPS2 only CNY with at most 2 decimals, else refused",
    ),
    Row(C + "SttlmPrty", C + "SttlmPrty", note="业务优先级, as is; to CNAPS2 defaulted NORM"),
    *_INSTRUCTING,
    *_bank_party_rows(C + "Dbtr", C + "Dbtr", "付款行"),
    _account_row(C + "DbtrAcct", C + "DbtrAcct", "付款行"),
    *_agent_rows(C + "DbtrAgt", C + "DbtrAgt", "付款行开户行", branch=False, name=True),
    *_agent_rows(C + "CdtrAgt", C + "CdtrAgt", "收款行开户行", branch=False, name=True),
    *_bank_party_rows(C + "Cdtr", C + "Cdtr", "收款行"),
    _account_row(C + "CdtrAcct", C + "CdtrAcct", "收款行"),
    Row(
        C + "RmtInf/Ustrd",
        C + "RmtInf/Ustrd",
        TAGGED,
        "附言 / tag lines incl. /F25/ 业务种类, verbatim, "
        "in order; to CNAPS2 an untagged line is written as /H01/<line> (moved)",
    ),
)


def _return_rows(bank_parties: bool) -> tuple[Row, ...]:
    """A CNAPS2 return (a credit transfer back to the original payer) ⇄ pacs.004."""
    rows: list[Row] = [
        *GROUP_ROWS,
        Row(
            C + "PmtId/TxId",
            R + "RtrId",
            note="交易标识号 → return id (to CNAPS2 defaulted to "
            "MsgId); EndToEndId = TxId is implied, another EndToEndId is carried",
        ),
        Row(
            C + "IntrBkSttlmAmt",
            R + "RtrdIntrBkSttlmAmt",
            AMOUNT,
            "退汇金额 with @Ccy; to CNAPS2 only CNY with at most 2 decimals, else refused",
        ),
        Row(C + "SttlmPrty", R + "SttlmPrty", note="业务优先级, as is; to CNAPS2 defaulted NORM"),
        *_agent_rows(
            C + "InstgAgt", R + "InstgAgt", "退汇发起清算行 / 发起行", branch=True, name=False
        ),
        *_agent_rows(
            C + "InstdAgt", R + "InstdAgt", "退汇接收清算行 / 接收行", branch=True, name=False
        ),
        *_agent_rows(
            C + "IntrmyAgt1", R + "RtrChain/IntrmyAgt1", "中介机构1", branch=False, name=True
        ),
        *_agent_rows(
            C + "IntrmyAgt2", R + "RtrChain/IntrmyAgt2", "中介机构2", branch=False, name=True
        ),
    ]
    if bank_parties:
        rows += _bank_party_rows(C + "Dbtr", R + "RtrChain/Dbtr/Agt", "退汇付款行")
    else:
        rows.append(Row(C + "ChrgBr", R + "ChrgBr", note="as is; to CNAPS2 defaulted DEBT"))
        rows += _party_rows(C + "Dbtr", R + "RtrChain/Dbtr/Pty", "退汇付款人")
    rows += [
        Row(
            C + "DbtrAcct/Id/Othr/Id",
            R + "OrgnlTxRef/CdtrAcct/Id/Othr/Id",
            note="the return debits the original creditor account",
        ),
        *_agent_rows(
            C + "DbtrAgt", R + "RtrChain/DbtrAgt", "退汇付款人开户行", branch=False, name=True
        ),
        *_agent_rows(
            C + "CdtrAgt", R + "RtrChain/CdtrAgt", "退汇收款人开户行", branch=False, name=True
        ),
    ]
    if bank_parties:
        rows += _bank_party_rows(C + "Cdtr", R + "RtrChain/Cdtr/Agt", "退汇收款行")
    else:
        rows += _party_rows(C + "Cdtr", R + "RtrChain/Cdtr/Pty", "退汇收款人")
    rows.append(
        Row(
            C + "CdtrAcct/Id/Othr/Id",
            R + "OrgnlTxRef/DbtrAcct/Id/Othr/Id",
            note="the return credits the original debtor account",
        )
    )
    return tuple(rows)


RETURN_111_ROWS = _return_rows(bank_parties=False)
RETURN_112_ROWS = _return_rows(bank_parties=True)

#: what the code does besides the rows (documentation rows, shown with the tables)
RULES: dict[str, tuple[Row, ...]] = {
    "agents": (
        Row(
            "…/FinInstnId/ClrSysMmbId/MmbId (12 digits)",
            "…/ClrSysMmbId/ClrSysId/Cd = CNAPS",
            note="ISO external clearing system code of China's CNAPS, set on every agent with a "
            "12-digit member id; to CNAPS2 consumed, and a member id of another clearing "
            "system (ClrSysId not CNAPS) is not written",
        ),
    ),
    "hvps.112.001.01": (
        Row(
            C + "RmtInf/Ustrd '/F25/xxxxx' (exactly one)",
            C + "Purp/Prtry",
            note="业务种类 also as "
            "the ISO purpose (the line stays); to CNAPS2 a Purp/Prtry with no /F25/ line "
            "becomes the first line /F25/…; neither: /F25/02105 (defaulted)",
        ),
    ),
    "return": (
        Row(
            "…/PmtTpInf/CtgyPurp/Prtry (111), …/SvcLvl/Prtry (112) = A105",
            "(pacs.004 itself)",
            note="业务类型 退汇: required (another code is refused: convert to pacs.008/009); "
            "set back",
        ),
        Row(
            "…/Purp/Prtry (111), /F25/ line (112) = 02108",
            "(pacs.004 itself)",
            note="业务种类 退汇: implied and set back; another category is carried",
        ),
        Row(
            C + "PmtId/EndToEndId = TxId",
            "(RtrId)",
            note="implied and set back; another value is carried",
        ),
        Row(
            C + "RmtInf/Ustrd '/E51/' + '/F40/'",
            R + "OrgnlGrpInf/OrgnlMsgId + OrgnlMsgNmId",
            note="原报文标识号 / 原报文类型 (both, ≤35); to CNAPS2 also from the group-level "
            "PmtRtr/OrgnlGrpInf (moved)",
        ),
        Row(
            C + "RmtInf/Ustrd '/A70/'",
            R + "InstdAgt/FinInstnId/ClrSysMmbId/MmbId",
            note="原发起机构 "
            "= the instructed participant of the return: consumed when equal, regenerated",
        ),
        Row(
            C + "RmtInf/Ustrd '/H20/'",
            R + "RtrRsnInf[1]/Rsn/Cd or Rsn/Prtry",
            note="退汇原因: a "
            "known text ⇄ ISO code (AC01 AC04 AC06 AM05 BE01 MS02 MS03 RC01), a code-shaped "
            "text → Cd, else Prtry (≤35)",
        ),
        Row(C + "RmtInf/Ustrd '/H01/' lines", R + "RtrRsnInf[1]/AddtlInf", note="附言 (≤105 each)"),
        Row(
            C + "RmtInf/Ustrd (all)",
            "—",
            note="regenerated in the order F25 E51 A70 F40 H20 H01…; "
            "other lines or another order: the original lines are carried",
        ),
    ),
}

# Agents of each pair: (CNAPS2 path, unified path) of BranchAndFinancialInstitutionIdentification
# elements. Their FinInstnId gets ClrSysId/Cd CNAPS for a 12-digit member id, and generation
# rows copy their BIC (→ BICFI), member id, name, address lines and branch forward.
_CREDIT_AGENTS = (
    ("GrpHdr/InstgAgt", "GrpHdr/InstgAgt"),
    ("GrpHdr/InstdAgt", "GrpHdr/InstdAgt"),
    (C + "PrvsInstgAgt", C + "PrvsInstgAgt1"),
    (C + "InstgAgt", C + "InstgAgt"),
    (C + "InstdAgt", C + "InstdAgt"),
    (C + "IntrmyAgt1", C + "IntrmyAgt1"),
    (C + "IntrmyAgt2", C + "IntrmyAgt2"),
    (C + "IntrmyAgt3", C + "IntrmyAgt3"),
    (C + "DbtrAgt", C + "DbtrAgt"),
    (C + "CdtrAgt", C + "CdtrAgt"),
)
AGENTS_112 = (
    *_CREDIT_AGENTS,
    (C + "UltmtDbtr", C + "UltmtDbtr"),
    (C + "Dbtr", C + "Dbtr"),
    (C + "Cdtr", C + "Cdtr"),
    (C + "UltmtCdtr", C + "UltmtCdtr"),
)
_RETURN_AGENTS = (
    ("GrpHdr/InstgAgt", "GrpHdr/InstgAgt"),
    ("GrpHdr/InstdAgt", "GrpHdr/InstdAgt"),
    (C + "PrvsInstgAgt", R + "RtrChain/PrvsInstgAgt1"),
    (C + "InstgAgt", R + "InstgAgt"),
    (C + "InstdAgt", R + "InstdAgt"),
    (C + "IntrmyAgt1", R + "RtrChain/IntrmyAgt1"),
    (C + "IntrmyAgt2", R + "RtrChain/IntrmyAgt2"),
    (C + "IntrmyAgt3", R + "RtrChain/IntrmyAgt3"),
    (C + "DbtrAgt", R + "RtrChain/DbtrAgt"),
    (C + "CdtrAgt", R + "RtrChain/CdtrAgt"),
)
AGENTS_RETURN_112 = (
    *_RETURN_AGENTS,
    (C + "UltmtDbtr", R + "RtrChain/UltmtDbtr/Agt"),
    (C + "Dbtr", R + "RtrChain/Dbtr/Agt"),
    (C + "Cdtr", R + "RtrChain/Cdtr/Agt"),
    (C + "UltmtCdtr", R + "RtrChain/UltmtCdtr/Agt"),
)

_AGENT_PARTS = (
    ("FinInstnId/BIC", "FinInstnId/BICFI"),  # BICIdentifier → BICFIDec2014Identifier
    ("FinInstnId/ClrSysMmbId/MmbId", "FinInstnId/ClrSysMmbId/MmbId"),
    ("FinInstnId/Nm", "FinInstnId/Nm"),
    ("FinInstnId/PstlAdr/AdrLine", "FinInstnId/PstlAdr/AdrLine"),
    ("FinInstnId/Othr/Id", "FinInstnId/Othr/Id"),
    ("BrnchId/Id", "BrnchId/Id"),
    ("BrnchId/Nm", "BrnchId/Nm"),
)
_ADDRESS_PARTS = ("Dept", "SubDept", "StrtNm", "BldgNb", "PstCd", "TwnNm", "CtrySubDvsn", "Ctry")


def _generation(
    rows: Iterable[Row],
    agents: Iterable[tuple[str, str]],
    addresses: Iterable[tuple[str, str]],
    parties: Iterable[tuple[str, str]],
    extra: Iterable[tuple[str, str]],
) -> tuple[Row, ...]:
    """Forward-only rows: 2009 elements outside the HVPS usage → their 2019 equivalents."""
    mapped = {row.cnaps for row in rows}
    out = [Row(cnaps, unified, note="ISO 2009 → 2019, as is") for cnaps, unified in extra]
    for cnaps_agent, unified_agent in agents:
        out += [
            Row(
                f"{cnaps_agent}/{cnaps_part}",
                f"{unified_agent}/{unified_part}",
                note="agent, ISO 2009 → 2019" + (" (BIC → BICFI)" if "BIC" in cnaps_part else ""),
            )
            for cnaps_part, unified_part in _AGENT_PARTS
        ]
    for cnaps_holder, unified_holder in addresses:
        out += [
            Row(
                f"{cnaps_holder}/PstlAdr/{part}",
                f"{unified_holder}/PstlAdr/{part}",
                note="structured address part (PostalAddress6 → 24)",
            )
            for part in _ADDRESS_PARTS
        ]
        out.append(
            Row(
                f"{cnaps_holder}/PstlAdr/AdrTp",
                f"{unified_holder}/PstlAdr/AdrTp/Cd",
                note="AddressType2Code → AddressType3Choice/Cd",
            )
        )
    for cnaps_party, unified_party in parties:
        out += [
            Row(
                f"{cnaps_party}/Id/OrgId/BICOrBEI",
                f"{unified_party}/Id/OrgId/AnyBIC",
                note="BICOrBEI → AnyBIC",
            ),
            Row(f"{cnaps_party}/CtryOfRes", f"{unified_party}/CtryOfRes", note="as is"),
        ]
    return tuple(row for row in out if row.cnaps not in mapped)


_GROUP_GENERATION = (
    ("GrpHdr/BtchBookg", "GrpHdr/BtchBookg"),
    (str(HVPS.sum), str(HVPS.sum)),
    ("GrpHdr/IntrBkSttlmDt", "GrpHdr/IntrBkSttlmDt"),
    ("GrpHdr/SttlmInf/ClrSys/Cd", "GrpHdr/SttlmInf/ClrSys/Cd"),
    ("GrpHdr/SttlmInf/ClrSys/Prtry", "GrpHdr/SttlmInf/ClrSys/Prtry"),
)
_CREDIT_GENERATION = (
    *_GROUP_GENERATION,
    (str(HVPS.total), str(HVPS.total)),
    (C + "PmtId/InstrId", C + "PmtId/InstrId"),
    (C + "PmtId/ClrSysRef", C + "PmtId/ClrSysRef"),
    (C + "PmtTpInf/InstrPrty", C + "PmtTpInf/InstrPrty"),
    (C + "PmtTpInf/ClrChanl", C + "PmtTpInf/ClrChanl"),
    (C + "PmtTpInf/SvcLvl/Cd", C + "PmtTpInf/SvcLvl[1]/Cd"),
    (C + "PmtTpInf/LclInstrm/Cd", C + "PmtTpInf/LclInstrm/Cd"),
    (C + "PmtTpInf/LclInstrm/Prtry", C + "PmtTpInf/LclInstrm/Prtry"),
    (C + "IntrBkSttlmDt", C + "IntrBkSttlmDt"),
    (C + "DbtrAcct/Id/IBAN", C + "DbtrAcct/Id/IBAN"),
    (C + "DbtrAcct/Ccy", C + "DbtrAcct/Ccy"),
    (C + "DbtrAcct/Nm", C + "DbtrAcct/Nm"),
    (C + "CdtrAcct/Id/IBAN", C + "CdtrAcct/Id/IBAN"),
    (C + "CdtrAcct/Ccy", C + "CdtrAcct/Ccy"),
    (C + "CdtrAcct/Nm", C + "CdtrAcct/Nm"),
)
_PARTIES_111 = ((C + "Dbtr", C + "Dbtr"), (C + "Cdtr", C + "Cdtr"))
HVPS_111_GENERATION = _generation(
    HVPS_111_ROWS,
    _CREDIT_AGENTS,
    _PARTIES_111,
    _PARTIES_111,
    (
        *_CREDIT_GENERATION,
        (C + "PmtTpInf/SvcLvl/Prtry", C + "PmtTpInf/SvcLvl[1]/Prtry"),
        (C + "PmtTpInf/CtgyPurp/Cd", C + "PmtTpInf/CtgyPurp/Cd"),
        (C + "InstdAmt", C + "InstdAmt"),
        (C + "XchgRate", C + "XchgRate"),
        (C + "UltmtDbtr/Nm", C + "UltmtDbtr/Nm"),
        (C + "InitgPty/Nm", C + "InitgPty/Nm"),
        (C + "UltmtCdtr/Nm", C + "UltmtCdtr/Nm"),
        (C + "Purp/Cd", C + "Purp/Cd"),
    ),
)
HVPS_112_GENERATION = _generation(
    HVPS_112_ROWS,
    AGENTS_112,
    tuple((C + f"{party}/FinInstnId", C + f"{party}/FinInstnId") for party in ("Dbtr", "Cdtr")),
    (),
    _CREDIT_GENERATION,
)
_RETURN_GENERATION = (
    *_GROUP_GENERATION,
    (str(HVPS.total), str(RETURN.total)),
    (C + "PmtId/ClrSysRef", R + "ClrSysRef"),
    (C + "IntrBkSttlmDt", R + "IntrBkSttlmDt"),
)
_PARTIES_RETURN_111 = ((C + "Dbtr", R + "RtrChain/Dbtr/Pty"), (C + "Cdtr", R + "RtrChain/Cdtr/Pty"))
RETURN_111_GENERATION = _generation(
    RETURN_111_ROWS,
    _RETURN_AGENTS,
    _PARTIES_RETURN_111,
    _PARTIES_RETURN_111,
    (
        *_RETURN_GENERATION,
        (C + "UltmtDbtr/Nm", R + "RtrChain/UltmtDbtr/Pty/Nm"),
        (C + "UltmtCdtr/Nm", R + "RtrChain/UltmtCdtr/Pty/Nm"),
    ),
)
RETURN_112_GENERATION = _generation(
    RETURN_112_ROWS,
    AGENTS_RETURN_112,
    (
        (C + "Dbtr/FinInstnId", R + "RtrChain/Dbtr/Agt/FinInstnId"),
        (C + "Cdtr/FinInstnId", R + "RtrChain/Cdtr/Agt/FinInstnId"),
    ),
    (),
    _RETURN_GENERATION,
)

# Unified → CNAPS2 only: other places of a value in a unified message.
_GROUP_AGENT_FALLBACKS = tuple(
    Row(
        f"{C}{agent}/{part}",
        f"GrpHdr/{agent}/{part}",
        note="group-level agent: moved to the transaction",
    )
    for agent in ("InstgAgt", "InstdAgt")
    for part in ("FinInstnId/ClrSysMmbId/MmbId", "BrnchId/Id")
)
CREDIT_FALLBACKS = _GROUP_AGENT_FALLBACKS
RETURN_111_FALLBACKS = (
    *_GROUP_AGENT_FALLBACKS,
    *(
        Row(
            f"{C}{party}/{part}",
            f"{R}RtrChain/{party}/Agt/FinInstnId/{part}",
            note="a bank as return party (Agt): its name and address lines",
        )
        for party in ("Dbtr", "Cdtr")
        for part in ("Nm", "PstlAdr/AdrLine")
    ),
)
RETURN_112_FALLBACKS = (
    *_GROUP_AGENT_FALLBACKS,
    *(
        Row(
            f"{C}{party}/FinInstnId/{part}",
            f"{R}RtrChain/{party}/Pty/{part}",
            note="a customer as return party (Pty): its name and address lines",
        )
        for party in ("Dbtr", "Cdtr")
        for part in ("Nm", "PstlAdr/AdrLine")
    ),
)

# Unified → CNAPS2: identifiers CNAPS2 has no element for become /H01/path:value remittance
# lines (CIPS style: surplus data into the remittance text, one line per field, path relative
# to the transaction), in this order, when the line fits in 140 characters.
_PARTY = r"(?:RtrChain/)?(?:UltmtDbtr|InitgPty|Dbtr|Cdtr|UltmtCdtr)(?:/Pty)?"
_AGENT = (
    r"(?:RtrChain/)?(?:InstgAgt|InstdAgt|IntrmyAgt\d|DbtrAgt|CdtrAgt"
    r"|(?:UltmtDbtr|Dbtr|Cdtr|UltmtCdtr)(?:/Agt)?)"
)
MOVE_TO_REMITTANCE: tuple[re.Pattern[str], ...] = tuple(
    re.compile(pattern)
    for pattern in (
        r"^PmtId/UETR$",
        r"^OrgnlUETR$",
        rf"^{_PARTY}/Nm$",
        rf"^{_PARTY}/Id/OrgId/(?:AnyBIC|LEI)$",
        rf"^{_PARTY}/Id/(?:OrgId|PrvtId)/Othr\[\d+\]/(?:Id|SchmeNm/Cd|SchmeNm/Prtry|Issr)$",
        rf"^{_AGENT}/FinInstnId/(?:BICFI|LEI)$",
    )
)

# Why a unified field is lost, by its path (first match wins).
LOSS_REASONS: tuple[tuple[re.Pattern[str], str], ...] = tuple(
    (re.compile(pattern), reason)
    for pattern, reason in (
        (
            r"^(?:CdtTrfTxInf|TxInf)\[(?:[2-9]|\d\d+)\]",
            "an HVPS message carries one transaction (NbOfTxs 1); convert the others separately",
        ),
        (r"SplmtryData", "supplementary data has no place in an HVPS message"),
        (r"UETR$", "HVPS has no UETR"),
        (r"/LEI$", "CNAPS2 identifies banks and parties without LEI"),
        (r"/(?:BICFI|AnyBIC)$", "CNAPS2 identifies banks by 12-digit bank code (行号), not BIC"),
        (r"/ClrSysId/", "the clearing system of a member id CNAPS2 does not carry"),
        (r"/ClrSysMmbId/", "not a CNAPS bank code (行号): another clearing system's member id"),
        (r"/BrnchId/Id$", "not a CNAPS bank code (行号)"),
        (r"/PstlAdr/", "HVPS addresses are address lines (AdrLine) only"),
        (r"/RmtInf/Strd|/RltdRmtInf", "HVPS remittance is tagged text lines only"),
        (r"/ChrgsInf", "HVPS carries no charges information"),
        (r"/RgltryRptg", "HVPS carries no regulatory reporting"),
        (r"/Tax/", "HVPS carries no tax information"),
        (
            r"/(?:InstdAmt|XchgRate|CompstnAmt|RtrdInstdAmt|OrgnlIntrBkSttlmAmt)",
            "HVPS carries the settlement amount only",
        ),
        (
            r"CtrlSum$|TtlIntrBkSttlmAmt|TtlRtrdIntrBkSttlmAmt|BtchBookg$",
            "HVPS group headers carry no totals (one transaction)",
        ),
        (r"IntrBkSttlmDt", "HVPS settles on the NPC business date; no settlement date"),
        (
            r"/(?:CtgyPurp|Purp|SvcLvl\[\d+\]|LclInstrm)/Cd$",
            "HVPS uses CNAPS business type / category codes, not ISO codes",
        ),
        (
            r"/Id/(?:OrgId|PrvtId)/|/CtctDtls/|/CtryOfRes$",
            "HVPS parties are name, account and address lines only",
        ),
        (r"/Orgtr/", "the originator of a return reason has no place in an HVPS return"),
        (
            r"/Orgnl(?:InstrId|EndToEndId|TxId|ClrSysRef)$|/OrgnlCreDtTm$",
            "an HVPS return names its original by message id and type only (/E51/ /F40/)",
        ),
    )
)

# =============================================================================== pairs


def _pair(
    cnaps: str,
    unified: str,
    tables: tuple[tuple[Row, ...], tuple[Row, ...], tuple[Row, ...]],
    agents: tuple[tuple[str, str], ...],
    business_type: str,
    containers: tuple[tuple[str, str], ...],
    *,
    institution: bool = False,
    is_return: bool = False,
) -> Pair:
    """An HVPS pair: its rows, generation rows and fallbacks (``tables``), and its settings:
    the agents (CNAPS2 path, unified path) marked as CNAPS members, the CNAPS2 path of the
    业务类型, and the (CNAPS2, unified) containers the schemas require even when empty."""
    rows, generation, fallbacks = tables
    hooks = (
        *RULES["agents"],
        *(RULES["return"] if is_return else RULES.get(cnaps, ())),
        Row(C + "RmtInf/Ustrd", "UETR, names, LEI, party ids, BIC (no HVPS element)", SPILL_TO_TEXT,
            "one /H01/path:value line each (≤140), path relative to the transaction"),
        Row("—", "everything else", DROP_WITH_LOSS, "the reason from LOSS_REASONS"),
    )  # fmt: skip
    return Pair.of(
        cnaps,
        unified,
        rows,
        generation=generation,
        fallbacks=fallbacks,
        hooks=hooks,
        institution=institution,
        is_return=is_return,
        default_codes=DEFAULT_CODES[cnaps],
        settings=(
            ("agents", agents),
            ("business_type", business_type),
            ("containers", containers),
        ),
    )


HVPS_111 = _pair(
    "hvps.111.001.01",
    "pacs.008.001.08",
    (HVPS_111_ROWS, HVPS_111_GENERATION, CREDIT_FALLBACKS),
    _CREDIT_AGENTS,
    C + "PmtTpInf/CtgyPurp/Prtry",
    tuple(
        (C + path, C + path)
        for path in ("Dbtr", "DbtrAgt/FinInstnId", "CdtrAgt/FinInstnId", "Cdtr")
    ),
)
HVPS_112 = _pair(
    "hvps.112.001.01",
    "pacs.009.001.08",
    (HVPS_112_ROWS, HVPS_112_GENERATION, CREDIT_FALLBACKS),
    AGENTS_112,
    C + "PmtTpInf/SvcLvl/Prtry",
    tuple((C + path, C + path) for path in ("Dbtr/FinInstnId", "Cdtr/FinInstnId")),
    institution=True,
)
RETURN_111 = _pair(
    "hvps.111.001.01",
    "pacs.004.001.09",
    (RETURN_111_ROWS, RETURN_111_GENERATION, RETURN_111_FALLBACKS),
    _RETURN_AGENTS,
    C + "PmtTpInf/CtgyPurp/Prtry",
    (
        (C + "Dbtr", R + "RtrChain/Dbtr/Pty"),
        (C + "DbtrAgt/FinInstnId", R + "RtrChain/DbtrAgt/FinInstnId"),
        (C + "CdtrAgt/FinInstnId", R + "RtrChain/CdtrAgt/FinInstnId"),
        (C + "Cdtr", R + "RtrChain/Cdtr/Pty"),
    ),
    is_return=True,
)
RETURN_112 = _pair(
    "hvps.112.001.01",
    "pacs.004.001.09",
    (RETURN_112_ROWS, RETURN_112_GENERATION, RETURN_112_FALLBACKS),
    AGENTS_RETURN_112,
    C + "PmtTpInf/SvcLvl/Prtry",
    (
        (C + "Dbtr/FinInstnId", R + "RtrChain/Dbtr/Agt/FinInstnId"),
        (C + "DbtrAgt/FinInstnId", R + "RtrChain/DbtrAgt/FinInstnId"),
        (C + "CdtrAgt/FinInstnId", R + "RtrChain/CdtrAgt/FinInstnId"),
        (C + "Cdtr/FinInstnId", R + "RtrChain/Cdtr/Agt/FinInstnId"),
    ),
    institution=True,
    is_return=True,
)
PAIRS = (HVPS_111, HVPS_112, RETURN_111, RETURN_112)

# =============================================================================== CNAPS2 → unified


def _to_unified(pair: Pair, data: dict[str, Any]) -> dict[str, Any]:
    """CNAPS2 data → unified data, lossless: what is not mapped is carried."""
    original = data.get(pair.cnaps_root)
    if not isinstance(original, dict):
        raise ConversionError(f"not a {pair.cnaps} document: no {pair.cnaps_root} element")
    source = copy.deepcopy(original)
    out: dict[str, Any] = {}
    if pair.is_return:
        _return_codes(pair, original, source)
    for row in pair.rows:
        put(out, row.unified, take(source, row.cnaps))
    count = len(original.get(pair.cnaps_tx) or [])
    for row in pair.generation:
        _copy(original, row.cnaps, out, row.unified)
    # transactions after the first (not HVPS, which carries one): shown like the first one,
    # and carried whole, since the reverse maps one transaction only
    for index, row in itertools.product(range(2, count + 1), (*pair.rows, *pair.generation)):
        if row.cnaps.startswith(C):
            _copy(original, _nth(row.cnaps, index), out, _nth(row.unified, index))
    for index in range(1, count + 1):
        if pair.is_return:
            if index == 1:  # a return is one transaction; more are shown by the rows only
                _return_lines_forward(pair, original, source, out)
        elif pair.institution:
            lines = lines_at(original, _nth(C + "RmtInf/Ustrd", index))
            put(out, _nth(C + "Purp/Prtry", index), _f25(lines))
        _mark_cnaps_members(pair, out, index)
        for cnaps, unified in pair.setting("containers"):
            if value_at(original, _nth(cnaps, index)) is not None:
                ensure(out, _nth(unified, index))
    if pair.is_return:
        _complete_return_chain(out)
    if count:  # identifiers the way back spilled into remittance lines come back
        items = [spilled(line) for line in lines_at(original, C + "RmtInf/Ustrd")]
        transaction = ensure(out, f"{pair.unified_tx}[1]")
        read_back(transaction, filter(None, items), _unified_tx_model(pair), _spills)
    transactions = str(count)
    for row in pair.rows:  # values the reverse would not write back as they are: carry them
        value = value_at(out, row.unified)
        if value is None:
            continue
        if isinstance(row.policy, Count):  # the reverse states the number it writes
            kept = value == transactions
        else:
            kept = row.policy.keeps(value, out, row.unified)
        if not kept:
            put(source, row.cnaps, copy.deepcopy(value_at(original, row.cnaps)))
    entry = carry(flatten(source), pair.cnaps)
    if entry is not None:
        ensure(out, f"{pair.unified_tx}[1]").setdefault("SplmtryData", []).append(entry)
    return {pair.unified_root: out}


def _nth(path: str, index: int) -> str:
    """``path`` in transaction ``index`` instead of the first one."""
    for first in (C, R):
        if path.startswith(first):
            return f"{first[: first.index('[')]}[{index}]/{path[len(first) :]}"
    return path


def _copy(original: dict[str, Any], cnaps: str, out: dict[str, Any], unified: str) -> None:
    """Copy a CNAPS2 value to the unified data (where there is none yet); it stays carried."""
    value = value_at(original, cnaps)
    if value is not None and value_at(out, unified) is None:
        put(out, unified, copy.deepcopy(value))


def _f25(lines: list[str]) -> str | None:
    """The 业务种类 of a pacs.009 body: the value of its only /F25/ line (≤35 characters)."""
    values = [line[5:] for line in lines if line.startswith("/F25/")]
    if len(values) == 1 and 1 <= len(values[0]) <= TEXT_35:
        return values[0]
    return None


def _mark_cnaps_members(pair: Pair, out: dict[str, Any], index: int) -> None:
    """ClrSysMmbId/ClrSysId/Cd = CNAPS on every agent that has a 12-digit member id."""
    agents = [agent for _, agent in pair.setting("agents") if agent.startswith((C, R))]
    if index == 1:
        agents += [agent for _, agent in pair.setting("agents") if not agent.startswith((C, R))]
    for agent in agents:
        member = value_at(out, f"{_nth(agent, index)}/FinInstnId/ClrSysMmbId")
        if (
            isinstance(member, dict)
            and "ClrSysId" not in member
            and BANK_CODE.fullmatch(str(member.get("MmbId", "")))
        ):
            member["ClrSysId"] = {"Cd": CNAPS_CLEARING_CODE}


def _return_codes(pair: Pair, original: dict[str, Any], source: dict[str, Any]) -> None:
    """A return has business type A105 (consumed); category 02108 and EndToEndId = TxId are
    implied (consumed); anything else stays in ``source`` and is carried."""
    business_type = value_at(original, pair.setting("business_type"))
    if business_type != RETURN_BUSINESS_TYPE:
        target = "pacs.009.001.08" if pair.institution else "pacs.008.001.08"
        raise ConversionError(
            f"this {pair.cnaps} is not a return (退汇): its business type (业务类型) is "
            f"{business_type or 'missing'}, a return's is {RETURN_BUSINESS_TYPE}",
            path=shown(pair.cnaps_root, pair.setting("business_type")),
            hint=f"convert it to {target}",
        )
    take(source, pair.setting("business_type"))
    if not pair.institution and value_at(original, C + "Purp/Prtry") == RETURN_CATEGORY:
        take(source, C + "Purp/Prtry")
    end_to_end = value_at(original, C + "PmtId/EndToEndId")
    if end_to_end is not None and end_to_end == value_at(original, C + "PmtId/TxId"):
        take(source, C + "PmtId/EndToEndId")


@dataclass
class ReturnLines:
    """What the remittance lines of a CNAPS2 return say."""

    category: str | None = None  # /F25/ (pacs.009 bodies)
    original_id: str | None = None  # /E51/
    original_sender: str | None = None  # /A70/
    original_type: str | None = None  # /F40/
    reason: tuple[str, str] | None = None  # /H20/ as ("Cd" | "Prtry", value)
    info: list[str] = field(default_factory=list)  # /H01/

    def lines(self) -> list[str]:
        """The lines, in the order CNAPS2 writes them (reference §8.6 and the examples)."""
        out = []
        if self.category is not None:
            out.append(f"/F25/{self.category}")
        if self.original_id is not None:
            out.append(f"/E51/{self.original_id}")
        if self.original_sender is not None:
            out.append(f"/A70/{self.original_sender}")
        if self.original_type is not None:
            out.append(f"/F40/{self.original_type}")
        if self.reason is not None:
            kind, value = self.reason
            out.append(f"/H20/{RETURN_REASON_TEXT.get(value, value) if kind == 'Cd' else value}")
        out.extend(f"/H01/{text}" for text in self.info)
        return out


def _read_return_lines(lines: list[str], *, category: bool, instructed: Any) -> ReturnLines:
    tags: dict[str, list[str]] = defaultdict(list)
    for line in lines:
        match = TAG_LINE.fullmatch(line)
        if match is not None:
            tags[match.group(1)].append(match.group(2))
    found = ReturnLines()
    if category:  # written by the reverse whatever the line says; another one is carried
        found.category = RETURN_CATEGORY
    ids, types = tags["E51"], tags["F40"]
    if len(ids) == 1 and len(types) == 1 and all(1 <= len(v) <= TEXT_35 for v in ids + types):
        found.original_id, found.original_type = ids[0], types[0]
    if isinstance(instructed, str):  # regenerated from the instructed agent, as the reverse does
        found.original_sender = instructed
    if len(tags["H20"]) == 1:
        text = tags["H20"][0]
        if text in RETURN_REASON_CODE:
            found.reason = ("Cd", RETURN_REASON_CODE[text])
        elif ISO_REASON.fullmatch(text):
            found.reason = ("Cd", text)
        elif 1 <= len(text) <= TEXT_35:
            found.reason = ("Prtry", text)
    found.info = [text for text in tags["H01"] if 1 <= len(text) <= RETURN_INFO_LINE]
    return found


def _return_lines_forward(
    pair: Pair, original: dict[str, Any], source: dict[str, Any], out: dict[str, Any]
) -> None:
    lines = lines_at(original, C + "RmtInf/Ustrd")
    found = _read_return_lines(
        lines,
        category=pair.institution,
        instructed=value_at(original, C + "InstdAgt/FinInstnId/ClrSysMmbId/MmbId"),
    )
    if found.original_id is not None:
        put(out, R + "OrgnlGrpInf/OrgnlMsgId", found.original_id)
        put(out, R + "OrgnlGrpInf/OrgnlMsgNmId", found.original_type)
    if found.reason is not None:
        kind, value = found.reason
        put(out, f"{R}RtrRsnInf[1]/Rsn/{kind}", value)
    put(out, R + "RtrRsnInf[1]/AddtlInf", list(found.info))
    if found.lines() == lines:  # they come back exactly as they are: nothing to carry
        take(source, C + "RmtInf/Ustrd")


def _complete_return_chain(out: dict[str, Any]) -> None:
    """A return chain names a debtor and a creditor (both required by the schema)."""
    chain = value_at(out, R + "RtrChain")
    if isinstance(chain, dict):
        for party in ("Dbtr", "Cdtr"):
            chain.setdefault(party, {"Agt": {"FinInstnId": {}}})


# =============================================================================== unified → CNAPS2


def _split_carrier(
    pair: Pair, unified: dict[str, Any]
) -> tuple[list[CarriedValue], dict[str, Any]]:
    """The carried CNAPS2 values (of this pair's type) and (a copy of) the unified data
    without their carriers; carriers of other types stay (they are reported as leftovers)."""
    values: list[CarriedValue] = []
    rest = copy.deepcopy(unified)
    transactions = rest.get(pair.unified_tx)
    for index, transaction in enumerate(transactions if isinstance(transactions, list) else []):
        if not isinstance(transaction, dict):
            continue
        found = take_carriers(transaction, lambda kind: kind == pair.cnaps)
        holder = shown(pair.unified_root, f"{pair.unified_tx}[{index + 1}]")
        values += carried_values(holder, found)
    return values, rest


def _is_carried(values: dict[str, str], path: str) -> bool:
    return any(key == path or key.startswith((path + "/", path + "[")) for key in values)


@functools.cache
def _unified_tx_model(pair: Pair) -> type:
    """The model class of the unified transaction (spilled paths are relative to it)."""
    root = catalog().get(pair.unified).root_class
    return model_at(root, f"{pair.unified_root}/{pair.unified_tx}")


def _spills(path: str) -> bool:
    """Whether the way back spills the transaction field ``path`` into a remittance line."""
    return any(pattern.search(path) for pattern in MOVE_TO_REMITTANCE)


@functools.cache
def _model(pair: Pair) -> type:
    """The model class of the CNAPS2 message element (carried paths are relative to it)."""
    return model_at(catalog().get(pair.cnaps).root_class, pair.cnaps_root)


@functools.cache
def _witness_rows(pair: Pair) -> tuple[Row, ...]:
    """Rows whose CNAPS2 value the forward edge copies as it is to the unified message (the
    field mapping and the ISO 2009 → 2019 generation rows), longest CNAPS2 path first."""
    return tuple(sorted((*pair.rows, *pair.generation), key=lambda row: -len(row.cnaps)))


_TX_PATH = re.compile(rf"^{HVPS.transaction}\[(\d+)\]/(.*)$")
_RETURN_LINE = re.compile(rf"^{re.escape(C)}RmtInf/Ustrd\[(\d+)\]$")


def _stale(pair: Pair, unified: dict[str, Any], values: dict[str, str]) -> set[str]:
    """The carried paths the unified message contradicts.

    The forward edge copies the CNAPS2 value of a row to its unified element and carries
    it as well only when the reverse could not write it back as it is; a carried value is
    therefore valid only while the unified element it was copied to still says exactly the
    same (all values of the row compared together: an amount, a list of lines). A return's
    carried remittance lines are valid while the unified fields read from them (original
    message, reason, additional information) are unchanged. A unified field that was
    edited or removed wins over its carried value.
    """
    groups: dict[tuple[str, str], dict[str, str]] = defaultdict(dict)
    for path, value in values.items():
        match = _TX_PATH.match(path)
        index = int(match.group(1)) if match else 1
        generic = f"{C}{match.group(2)}" if match else path
        row = next(
            (
                row
                for row in _witness_rows(pair)
                if generic == row.cnaps or generic.startswith((row.cnaps + "/", row.cnaps + "["))
            ),
            None,
        )
        if row is not None:
            groups[(_nth(row.cnaps, index), _nth(row.unified, index))][path] = value
    stale: set[str] = set()
    for (cnaps, unified_path), carried_here in groups.items():
        if leaves(value_at(unified, unified_path), cnaps) != carried_here:
            stale.update(carried_here)
    if pair.is_return:
        lines = {
            int(match.group(1)): path
            for path in values
            if (match := _RETURN_LINE.match(path)) is not None
        }
        if lines:
            instructed = value_at(unified, R + "InstdAgt/FinInstnId/ClrSysMmbId/MmbId")
            carried_lines = [values[lines[number]] for number in sorted(lines)]
            read = _read_return_lines(
                carried_lines, category=pair.institution, instructed=instructed
            )
            if read != _return_found(pair, unified, instructed)[0]:
                stale.update(lines.values())
    return stale


def _one_transaction(
    pair: Pair, unified: dict[str, Any], values: dict[str, str], usable: dict[str, str]
) -> None:
    """HVPS carries one transaction: a message with more is refused, unless every further
    transaction is the carried one of an HVPS original (CNAPS2 → unified → CNAPS2)."""
    transactions = unified.get(pair.unified_tx)
    count = len(transactions) if isinstance(transactions, list) else 0
    for index in range(2, count + 1):
        prefix = f"{pair.cnaps_tx}[{index}]/"
        here = [path for path in values if path.startswith(prefix)]
        if not here or any(path not in usable for path in here):
            raise ConversionError(
                f"HVPS carries one transaction; this message has {count} — convert each "
                "transaction separately",
                path=shown(pair.unified_root, f"{pair.unified_tx}[{index}]"),
                hint=f"split the message into {count} messages of one transaction each; "
                f"{pair.cnaps} settles payments one by one",
            )


def _to_cnaps(pair: Pair, data: dict[str, Any], ctx: MappingContext) -> dict[str, Any]:
    """Unified data → CNAPS2 data; every unified field that does not survive is reported."""
    message = data.get(pair.unified_root)
    if not isinstance(message, dict):
        raise ConversionError(f"not a {pair.unified} document: no {pair.unified_root}")
    found, unified = _split_carrier(pair, message)
    values = {item.path: item.value for item in found}
    stale = _stale(pair, unified, values)
    model = _model(pair)
    usable = {
        path: value
        for path, value in values.items()
        if path not in stale and path_problem(model, path) is None
    }
    _one_transaction(pair, unified, values, usable)
    src = partial(shown, pair.unified_root)
    dst = partial(shown, pair.cnaps_root)
    out: dict[str, Any] = {}
    fallbacks: dict[str, list[Row]] = defaultdict(list)
    for row in pair.fallbacks:
        fallbacks[row.cnaps].append(row)
    for row in pair.rows:
        value, where, rule = value_at(unified, row.unified), row.unified, row.note
        for other in fallbacks[row.cnaps] if value is None else ():
            value, where, rule = value_at(unified, other.unified), other.unified, other.note
            if value is not None:
                break
        if value is None:
            continue
        if not row.policy.keeps(value, unified, where) and not _is_carried(usable, row.cnaps):
            if isinstance(row.policy, Amount):
                _refuse_amount(pair, where, value)
            elif isinstance(row.policy, TaggedLines):
                value = _tag_lines(value, ctx, src(where), dst(row.cnaps))
            elif isinstance(row.policy, BeijingTime):
                value = row.policy.to_cnaps(value, ctx, src(where), dst(row.cnaps))
            else:
                continue  # bank codes: dropped (reported below); MsgId, SttlmMtd: defaulted
        if where != row.unified:
            items = list(enumerate(value, 1)) if isinstance(value, list) else [(0, value)]
            for index, item in items:
                at = f"[{index}]" if index else ""
                ctx.lose(
                    src(where + at),
                    "moved",
                    rule,
                    value=shown_value(item),
                    target_path=dst(row.cnaps + at),
                )
            system = where[: -len("MmbId")] + "ClrSysId/Cd"
            if where.endswith("ClrSysMmbId/MmbId") and value_at(unified, system) is not None:
                ctx.lose(
                    src(system),
                    "moved",
                    f"{rule}: the clearing system goes with the member id",
                    value=value_at(unified, system),
                    target_path=dst(row.cnaps),
                )
        put(out, row.cnaps, copy.deepcopy(value))
    if pair.is_return:
        _return_reverse(pair, unified, out, ctx, usable)
    elif pair.institution:
        _purpose_to_f25(unified, out)
    restore(out, found, ctx, model=model, target=dst, stale=lambda path, _: path in stale)
    _defaults(pair, unified, out, ctx, usable)
    # what does not come back through the forward edge is lost: place what can be placed
    expected = _to_unified(pair, {pair.cnaps_root: copy.deepcopy(out)})[pair.unified_root]
    recorded = {entry.source_path for entry in ctx.loss}
    lost = {
        path: value
        for path, value in _lost(unified, _split_carrier(pair, expected)[1]).items()
        if src(path) not in recorded
    }
    _move_addresses(pair, lost, out, ctx)
    _move_to_remittance(pair, unified, lost, out, ctx)
    for path, value in lost.items():
        ctx.lose(src(path), "dropped", _loss_reason(pair, path), value=value)
    return {pair.cnaps_root: out}


def _refuse_amount(pair: Pair, where: str, value: Any) -> None:
    raise ConversionError(
        f"{pair.cnaps} settles renminbi only (CNY, at most 2 decimals); the amount is "
        f"{shown_value(value) or '?'}",
        path=shown(pair.unified_root, where),
        hint="HVPS cannot carry this payment; amounts are never converted between currencies",
    )


def _tag_lines(lines: list[str], ctx: MappingContext, source: str, target: str) -> list[str]:
    """Untagged remittance lines become /H01/ 附言 lines (an HVPS line starts with /XNN/)."""
    out = []
    for index, line in enumerate(lines, start=1):
        if TAG_LINE.fullmatch(line):
            out.append(line)
            continue
        where, to = f"{source}[{index}]", f"{target}[{index}]"
        tagged = "/H01/" + line
        fitted = ctx.fit(where, tagged, REMITTANCE_LINE, to) or tagged
        if fitted == tagged:
            ctx.lose(
                where,
                "moved",
                "an untagged remittance line is written as a /H01/ line",
                value=line,
                target_path=to,
            )
        out.append(fitted)
    return out


def _purpose_to_f25(unified: dict[str, Any], out: dict[str, Any]) -> None:
    """hvps.112: the 业务种类 is a /F25/ line; Purp/Prtry gives it when there is none."""
    purpose = value_at(unified, C + "Purp/Prtry")
    lines = lines_at(out, C + "RmtInf/Ustrd")
    if isinstance(purpose, str) and not any(line.startswith("/F25/") for line in lines):
        put(out, C + "RmtInf/Ustrd", [f"/F25/{purpose}", *lines])


def _return_found(pair: Pair, unified: dict[str, Any], sender: Any) -> tuple[ReturnLines, bool]:
    """What a return's remittance lines say, from the pacs.004 data (``sender``: the /A70/
    original sender, the return's instructed participant), and whether the original
    message was named at group level (``PmtRtr/OrgnlGrpInf``) only."""
    found = ReturnLines(category=RETURN_CATEGORY if pair.institution else None)
    original_id = value_at(unified, R + "OrgnlGrpInf/OrgnlMsgId")
    original_type = value_at(unified, R + "OrgnlGrpInf/OrgnlMsgNmId")
    group_level = original_id is None and value_at(unified, "OrgnlGrpInf/OrgnlMsgId") is not None
    if group_level:
        original_id = value_at(unified, "OrgnlGrpInf/OrgnlMsgId")
        original_type = value_at(unified, "OrgnlGrpInf/OrgnlMsgNmId")
    if isinstance(original_id, str) and isinstance(original_type, str):
        found.original_id, found.original_type = original_id, original_type
    found.original_sender = sender if isinstance(sender, str) else None
    code = value_at(unified, R + "RtrRsnInf[1]/Rsn/Cd")
    proprietary = value_at(unified, R + "RtrRsnInf[1]/Rsn/Prtry")
    if isinstance(code, str):
        found.reason = ("Cd", code)
    elif isinstance(proprietary, str):
        found.reason = ("Prtry", proprietary)
    found.info = lines_at(unified, R + "RtrRsnInf[1]/AddtlInf")
    return found, group_level


def _return_reverse(
    pair: Pair,
    unified: dict[str, Any],
    out: dict[str, Any],
    ctx: MappingContext,
    usable: dict[str, str],
) -> None:
    """A return's codes, EndToEndId and lines from the pacs.004 data; a usable carried
    category, EndToEndId or set of lines (the original's, see :func:`_stale`) is left to
    be restored instead."""
    put(out, pair.setting("business_type"), RETURN_BUSINESS_TYPE)
    if not pair.institution and not _is_carried(usable, C + "Purp/Prtry"):
        put(out, C + "Purp/Prtry", RETURN_CATEGORY)
    if not _is_carried(usable, C + "PmtId/EndToEndId"):
        put(out, C + "PmtId/EndToEndId", value_at(out, C + "PmtId/TxId"))
    sender = value_at(out, C + "InstdAgt/FinInstnId/ClrSysMmbId/MmbId")
    found, group_level = _return_found(pair, unified, sender)
    if group_level:
        for name in ("OrgnlMsgId", "OrgnlMsgNmId"):
            ctx.lose(
                shown(pair.unified_root, f"OrgnlGrpInf/{name}"),
                "moved",
                "an HVPS return names its original per transaction (/E51/, /F40/ lines)",
                value=value_at(unified, f"OrgnlGrpInf/{name}"),
                target_path=shown(pair.cnaps_root, C + "RmtInf/Ustrd"),
            )
    if not _is_carried(usable, C + "RmtInf/Ustrd"):
        put(out, C + "RmtInf/Ustrd", found.lines())


def _defaults(
    pair: Pair,
    unified: dict[str, Any],
    out: dict[str, Any],
    ctx: MappingContext,
    values: dict[str, str],
) -> None:
    """Fill what a CNAPS2 message requires and the unified message does not give."""
    src = partial(shown, pair.unified_root)
    dst = partial(shown, pair.cnaps_root)
    unified_path = {row.cnaps: row.unified for row in pair.rows}

    def fill(path: str, value: Any, source: str, reason: str) -> None:
        """The default policy at ``path``; a unified value that could not be used is named."""
        given = shown_value(value_at(unified, source))
        reason += f" ({given} cannot be used)" if given else ""
        default(ctx, value, out=out, at=path, source=src(source), target=dst(path), reason=reason)

    count, stated_at = str(len(out.get(pair.cnaps_tx) or [])), str(pair.cnaps_layout.count)
    if not _is_carried(values, stated_at) and value_at(out, stated_at) != count:
        stated = value_at(out, stated_at)
        put(out, stated_at, count)
        ctx.lose(
            src(str(pair.unified_layout.count)),
            "defaulted",
            f"an HVPS message carries one transaction; NbOfTxs set to {count}",
            value=stated,
            target_path=dst(stated_at),
        )
    fill(
        "GrpHdr/MsgId",
        new_msg_id(
            shown_value(value_at(unified, "GrpHdr/CreDtTm")),
            id_generator=ctx.options.id_generator,
            now=ctx.options.now,
        ),
        "GrpHdr/MsgId",
        "a CNAPS2 MsgId is an 8-digit work date and an 8-digit sequence: a new one is assigned",
    )
    fill(
        "GrpHdr/SttlmInf/SttlmMtd",
        "CLRG",
        "GrpHdr/SttlmInf/SttlmMtd",
        "HVPS settles through the clearing system: CLRG",
    )
    fill(
        C + "PmtId/TxId",
        value_at(out, "GrpHdr/MsgId"),
        unified_path[C + "PmtId/TxId"],
        "required in CNAPS2: the HVPS transaction id is the MsgId",
    )
    if pair.is_return:
        fill(
            C + "PmtId/EndToEndId",
            value_at(out, C + "PmtId/TxId"),
            R + "RtrId",
            "required in CNAPS2: a return's end-to-end id is its transaction id",
        )
    else:
        business_type, category = pair.default_codes
        fill(
            pair.setting("business_type"),
            business_type,
            unified_path[pair.setting("business_type")],
            f"业务类型 (business type) is required: {business_type} assumed",
        )
        lines = lines_at(out, C + "RmtInf/Ustrd")
        if not pair.institution:
            fill(
                C + "Purp/Prtry",
                category,
                C + "Purp/Prtry",
                f"业务种类 (category) is required: {category} assumed",
            )
        elif not any(line.startswith("/F25/") for line in lines):
            put(out, C + "RmtInf/Ustrd", [f"/F25/{category}", *lines])
            ctx.lose(
                src(C + "Purp/Prtry"),
                "defaulted",
                f"业务种类 (category, a /F25/ line) is required: {category} assumed",
                value=category,
                target_path=dst(C + "RmtInf/Ustrd[1]"),
            )
    fill(
        C + "SttlmPrty",
        "NORM",
        unified_path[C + "SttlmPrty"],
        "业务优先级 (settlement priority): NORM (普通) assumed",
    )
    for cnaps, unified_container in pair.setting("containers"):  # present in the unified message
        if value_at(unified, unified_container) is not None:
            ensure(out, cnaps)
    parties = ("Dbtr", "Cdtr")
    if pair.institution:
        for party in parties:
            holder = unified_path[f"{C}{party}/FinInstnId/Nm"].rsplit("/FinInstnId", 1)[0]
            fill(f"{C}{party}", {"FinInstnId": {}}, holder, "required by the schema")
        return
    fill(
        C + "ChrgBr",
        "DEBT",
        unified_path[C + "ChrgBr"],
        "required: DEBT, as in CNAPS2 customer transfers",
    )
    for agent, instructing in (("DbtrAgt", "InstgAgt"), ("CdtrAgt", "InstdAgt")):
        holder = unified_path[f"{C}{agent}/FinInstnId/Nm"].rsplit("/FinInstnId", 1)[0]
        branch = value_at(out, f"{C}{instructing}/BrnchId/Id")
        value = {"FinInstnId": {"ClrSysMmbId": {"MmbId": branch}} if branch else {}}
        fill(
            C + agent,
            value,
            holder,
            f"required: the {instructing} branch (发起行/接收行) is the {agent}",
        )
    for party in parties:
        holder = unified_path[f"{C}{party}/Nm"].rsplit("/", 1)[0]
        fill(C + party, {}, holder, "required by the schema")


def _lost(before: dict[str, Any], after: dict[str, Any]) -> dict[str, str]:
    """The fields of ``before`` that ``after`` lacks (a list item may move within its list)."""
    after_values = flatten(after)
    after_lists: dict[str, list[str]] = defaultdict(list)
    for path, value in after_values.items():
        match = LIST_ITEM.match(path)
        if match is not None:
            after_lists[match.group(1)].append(value)
    lost: dict[str, str] = {}
    for path, value in flatten(before).items():
        if after_values.get(path) == value:
            continue
        match = LIST_ITEM.match(path)
        if match is not None and value in after_lists.get(match.group(1), ()):
            continue
        lost[path] = value
    return lost


def _loss_reason(pair: Pair, path: str) -> str:
    for pattern, reason in LOSS_REASONS:
        if pattern.search(path):
            return reason
    return f"not part of the {pair.cnaps} usage: CNAPS2 cannot carry it"


_STRUCTURED = (
    "Dept",
    "SubDept",
    "StrtNm",
    "BldgNb",
    "BldgNm",
    "Flr",
    "PstBx",
    "Room",
    "PstCd",
    "TwnNm",
    "TwnLctnNm",
    "DstrctNm",
    "CtrySubDvsn",
    "Ctry",
)


def _move_addresses(
    pair: Pair, lost: dict[str, str], out: dict[str, Any], ctx: MappingContext
) -> None:
    """Structured address parts CNAPS2 cannot hold become one more address line."""
    for row in (*pair.rows, *pair.fallbacks):
        if not row.cnaps.endswith("PstlAdr/AdrLine"):
            continue
        base = row.unified[: -len("AdrLine")]
        parts = {
            path[len(base) :]: value
            for path, value in lost.items()
            if path.startswith(base) and path[len(base) :] in _STRUCTURED
        }
        lines = lines_at(out, row.cnaps)
        if not parts or len(lines) >= MAX_ADDRESS_LINES:
            continue
        text, used = compose_address(parts, lines)
        if not text:
            continue
        target = shown(pair.cnaps_root, f"{row.cnaps}[{len(lines) + 1}]")
        source = shown(pair.unified_root, base.rstrip("/"))
        put(out, row.cnaps, [*lines, ctx.fit(source, text, ADDRESS_LINE, target) or text])
        for key in used:
            ctx.lose(
                shown(pair.unified_root, base + key),
                "moved",
                "HVPS addresses are address lines: written into an address line",
                value=parts[key],
                target_path=target,
            )
            del lost[base + key]


def _move_to_remittance(
    pair: Pair,
    unified: dict[str, Any],
    lost: dict[str, str],
    out: dict[str, Any],
    ctx: MappingContext,
) -> None:
    """Identifiers without a CNAPS2 element become ``/H01/path:value`` lines (CIPS style)."""
    prefix = f"{pair.unified_tx}[1]/"
    lines = lines_at(out, C + "RmtInf/Ustrd")
    for pattern in MOVE_TO_REMITTANCE:
        for path, value in list(lost.items()):
            relative = path[len(prefix) :] if path.startswith(prefix) else None
            if relative is None or not pattern.search(relative):
                continue
            if relative.endswith("/BICFI"):
                member = value_at(unified, path[: -len("BICFI")] + "ClrSysMmbId/MmbId")
                if isinstance(member, str) and BANK_CODE.fullmatch(member):
                    continue  # the bank code identifies the agent: the BIC is dropped
            line = spill_item(relative, value)
            if len(line) > REMITTANCE_LINE:
                continue
            lines.append(line)
            ctx.lose(
                shown(pair.unified_root, path),
                "moved",
                f"no CNAPS2 element: written as a {SPILL_TAG} remittance line (path:value)",
                value=value,
                target_path=shown(pair.cnaps_root, f"{C}RmtInf/Ustrd[{len(lines)}]"),
            )
            del lost[path]
    put(out, C + "RmtInf/Ustrd", lines)


# =============================================================================== edges


def _register(pair: Pair) -> None:
    """Both edges of ``pair`` (CNAPS2 → unified and back)."""

    def to_unified(data: dict[str, Any], ctx: MappingContext) -> dict[str, Any]:
        return _to_unified(pair, data)

    def to_cnaps(data: dict[str, Any], ctx: MappingContext) -> dict[str, Any]:
        return _to_cnaps(pair, data, ctx)

    mapping(pair.cnaps, pair.unified)(to_unified)
    mapping(pair.unified, pair.cnaps)(to_cnaps)


# credit transfers first: they are the default unified counterparts; returns (退汇, A105)
# go to pacs.004 only when asked
for _each in PAIRS:
    _register(_each)
    describe_pair(_each)


__all__ = [
    "CNAPS_CLEARING_CODE",
    "HVPS_111",
    "HVPS_112",
    "PAIRS",
    "RETURN_111",
    "RETURN_112",
    "Pair",
    "Row",
]
