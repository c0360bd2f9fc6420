"""Hub edges for BEPS (小额批量支付) packages.

==============================  ================================  ==========================
CNAPS2                          unified (ISO 20022)               what
==============================  ================================  ==========================
``beps.121.001.01``             ``pacs.008.001.08``               客户发起普通贷记 (default)
``beps.122.001.01``             ``pacs.009.001.08``               金融机构发起普通贷记 (default)
``beps.121.001.01`` (A105)      ``pacs.004.001.09``               退汇 — only when asked
``beps.122.001.01`` (A105)      ``pacs.004.001.09``               退汇 — only when asked
==============================  ================================  ==========================

A package is one message: the package header (``PKGGrpHdr``) is the group header, each
detail is one transaction. The field mapping is the tables below (:data:`GROUP`,
:data:`CUSTOMER`, :data:`INSTITUTION`, :data:`CUSTOMER_RETURN`, :data:`INSTITUTION_RETURN`);
each row is ``Row(BEPS path, unified path, rule, note)`` and the code runs the rows as
they are written. Paths are relative to the package root element (``CstmrCdtTrf``…) resp.
the detail / transaction element.

CNAPS2 → unified is lossless by construction: what no row maps stays behind and is carried
in ``SplmtryData`` (``PlcAndNm`` = ``CNAPS2``, see
:func:`~paymsg.convert.engine.carrier.carry`) of the transaction (detail leftovers:
``CstmrCdtTrfAddtlInf``, treasury data, …) or of the message (package leftovers: ``Rmk``,
``NPCPrcInf``, a stated ``NbOfTxs``/``CtrlSum`` that disagrees with the details). The way
back restores them, so CNAPS2 → unified → CNAPS2 gives back the same document.

Unified → CNAPS2 keeps what BEPS has a field for. Everything else left over in the source
is appended to the free text of the BEPS message as ``/H01/path:value`` items, the one
spill format of every CNAPS2 target (:func:`~paymsg.convert.engine.table.spill`; ``/H01/``
is the free-text tag of the CNAPS2 remittance tag scheme, which HVPS lines must follow):
transaction leftovers to the 附言 ``AddtlInf``, group leftovers to the 备注 ``Rmk``, each
≤256 characters, while it fits — reported as ``moved`` — and reported as ``dropped`` when
it does not. BEPS → unified reads such items back to their element when it is a plain text
field the unified message has room for (:func:`~paymsg.convert.engine.restore.read_back`).
Text longer than its BEPS field is cut and reported as ``truncated``. A BEPS field the source
does not fill is defaulted and reported as ``defaulted``.

Decisions (payments-engineer choices, written down):

* **Clearing system.** ``SysCd`` ⇄ ``GrpHdr/SttlmInf/ClrSys/Prtry`` = ``BEPS`` (the ISO
  ``Cd`` is an ExternalCashClearingSystem1Code of 3 letters, with no code for BEPS);
  ``SttlmMtd`` is always ``CLRG``. Banks are CNAPS members:
  ``FinInstnId/ClrSysMmbId`` with ``ClrSysId/Cd`` = ``CNAPS``.
* **Agents.** The package header names the direct participants (清算行) →
  ``GrpHdr/InstgAgt`` / ``InstdAgt``. A detail's ``DbtrAgt/BrnchId/Id`` (付款行行号) is the
  debtor's bank as a CNAPS participant → ``DbtrAgt/FinInstnId/ClrSysMmbId/MmbId`` — the way
  the unified profile and CIPS identify a Chinese bank — and likewise for the creditor side.
  The account issuer (开户行行号) stays in the account: ``DbtrAcct/Id/Othr/Issr``. From the
  unified side an agent without a CNAPS member id falls back to its ``BrnchId/Id`` (and, in
  pacs.009, to the institution's own member id; reported ``moved``), then to the account
  issuer or the package's direct participant (``defaulted``). Direct participants named per
  transaction (``CdtTrfTxInf/InstgAgt``, the hvps.111 way) move to the package header when
  all transactions agree. A missing issuer (required in beps.121) is the agent's code.
* **Ids.** ``TxId`` → ``PmtId/TxId`` and ``PmtId/EndToEndId`` (BEPS has no end-to-end id).
  Back, ``TxId`` (≤16 digits) comes from ``PmtId/TxId`` or ``EndToEndId``; else, like a
  ``MsgId`` that is not 16 digits, it is the work date + 8 digits of the id generator
  (the ``id_generator`` option, the header's generator by default; ``defaulted``).
* **Time.** A creation time in another UTC offset than +08:00 is converted to Beijing time
  (``transliterated``); a time without offset or in +08:00 is kept as it is.
* **Remittance.** 附言 ``AddtlInf`` (≤256) → ``RmtInf/Ustrd`` cut in lines of 140
  characters; back, lines are joined without separator when they are such chunks (every
  line but the last is exactly 140 long), else with one space (lines 2… reported ``moved``).
* **Charges.** BEPS has no charge bearer; CNAPS practice is that the sender's bank charges
  its customer: ``ChrgBr`` = ``DEBT`` (another bearer back to BEPS is reported).
* **Totals.** The unified side always states the true count and sum (``NbOfTxs``,
  ``CtrlSum``, ``TtlIntrBkSttlmAmt``); BEPS ``NbOfTxs``/``CtrlSum`` are computed from the
  details. A stated value in the source that disagrees with the details is reported both
  ways: BEPS → unified as ``defaulted`` (the unified header states the recomputed value; a
  package that says 5 and carries 3 is usually truncated, so ``strict=True`` refuses it),
  unified → BEPS as ``dropped``. A stated value that only differs in how it is written
  (``64360.5`` for ``64360.50``) is carried, so the way back writes it as it was.
* **Currency.** BEPS settles CNY only. A settlement amount in another currency cannot be
  placed or dropped — converting it would change the payment — so it is a
  :class:`~paymsg.errors.ConversionError`.
* **Returns.** A105 details with ``RtrInf`` ⇄ ``pacs.004`` ``TxInf``: the return's payer and
  payee are the return chain (``RtrChain``), their accounts are the original transaction's
  accounts swapped (``OrgnlTxRef/CdtrAcct`` is the account the money is returned from),
  ``RtrInf/Cntt`` → ``RtrRsnInf/AddtlInf`` (105-character lines). ``A105`` and ``02108`` are
  implied by a pacs.004 (other values are carried). pacs.004 is chosen only when asked:
  the default unified counterpart of beps.121/122 is pacs.008/pacs.009.
* **Original ids of a return** are copied as they are, also when the original is not a
  CNAPS2 message (the cnaps2 rule pack then flags the ``OrgnlMsgId``): a made-up id would
  break the reference.
* **Carriers.** Carried data is tagged with its BEPS type (``carry(…, source)``). Back,
  carriers of beps.121/122 (or untagged ones) are restored by
  :func:`~paymsg.convert.engine.restore.restore`, the rule every engine follows: a carried
  value fills only what no row, rule or default wrote; one that disagrees with the unified
  message (a value the mapping wrote, a field a row maps — the forward edge never carries
  those — or a total the details contradict) is reported ``dropped`` and the unified value
  wins; a path that does not exist in the BEPS type is reported. Values carried for another
  CNAPS2 family (an hvps.111 passing through pacs.008) are not put into a BEPS package but
  reported like any leftover.
* **Loss paths** are written ``/Document/<message>/<path>`` (indexes 1-based, as
  :func:`~paymsg.convert.engine.paths.flatten` writes them; an amount is ``…/Amt`` and its currency
  ``…/Amt/@Ccy``, see :func:`~paymsg.convert.engine.loss.loss_path`) for source and target.
* **Placeholders.** A required BEPS value with no source at all gets ``UNKNOWN`` (names,
  accounts, ids), ``0`` (numeric ids) or ``000000000000`` (bank codes) and a ``defaulted``
  entry; ``strict=True`` refuses such a conversion.
"""

from __future__ import annotations

import copy
import functools
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from paymsg.convert.engine.carrier import Carrier, carried_values, carry, take_carriers
from paymsg.convert.engine.loss import MappingContext, default, loss_path
from paymsg.convert.engine.paths import (
    decimal_of,
    flatten,
    get,
    leaves,
    put,
    take,
    under,
    value_at,
)
from paymsg.convert.engine.restore import model_at, read_back, restore
from paymsg.convert.engine.table import (
    AMOUNT,
    BEIJING_TIME,
    DROP_WITH_LOSS,
    MEMBER,
    SPILL_TO_TEXT,
    AddressLine,
    Code,
    Computed,
    Constant,
    Member,
    Only,
    Pair,
    Row,
    Table,
    TextLines,
    Truncate,
    compose_address,
    describe_pair,
    join,
    run_to_unified,
    spill,
    spilled_items,
)
from paymsg.convert.hub import mapping
from paymsg.errors import ConversionError
from paymsg.reference.cnaps2 import CNAPS_CLEARING_CODE as CNAPS
from paymsg.reference.cnaps2 import REMITTANCE_LINE as USTRD
from paymsg.reference.cnaps2 import RETURN_BUSINESS_TYPE as RETURN_TYPE
from paymsg.reference.cnaps2 import RETURN_CATEGORY as RETURN_KIND
from paymsg.reference.cnaps2 import RETURN_INFO_LINE as RETURN_LINE
from paymsg.reference.cnaps2 import new_msg_id
from paymsg.schema.catalog import catalog, layout_of

BEPS = "BEPS"
BEPS_TYPES = ("beps.121.001.01", "beps.122.001.01")
CURRENCY = "CNY"
PLACEHOLDER = "UNKNOWN"
NO_BANK = "000000000000"
TEXT_LIMIT = 256  # AddtlInf, Rmk, Cntt
_DIGITS16 = re.compile(r"\d{1,16}")


TX_ID = Code(16, r"\d{1,16}")
BANK = Code(14)
ACCOUNT = Code(32)


# --------------------------------------------------------------------------- tables
#: where a BEPS package and a unified credit transfer state their count, sum and total
#: (catalogue layouts; beps.121 and beps.122 share the package header)
_PACKAGE = layout_of("beps.121.001.01")
_UNIFIED = layout_of("pacs.008.001.08")
_COUNT, _SUM = str(_PACKAGE.count), str(_PACKAGE.sum)
_UNIFIED_COUNT, _UNIFIED_SUM, _UNIFIED_TOTAL = (
    str(_UNIFIED.count),
    str(_UNIFIED.sum),
    str(_UNIFIED.total),
)
# fmt: off

GROUP: Table = (
    Row("PKGGrpHdr/MsgId", "GrpHdr/MsgId", Code(16, r"\d{16}"),
        "报文标识号 (CNAPS: work date + sequence; back, another id is replaced)"),
    Row("PKGGrpHdr/CreDtTm", "GrpHdr/CreDtTm", BEIJING_TIME, "报文发送时间"),
    Row("PKGGrpHdr/InstgPty/InstgDrctPty", "GrpHdr/InstgAgt/FinInstnId/ClrSysMmbId", MEMBER,
        "发起直接参与机构"),
    Row("PKGGrpHdr/InstdPty/InstdDrctPty", "GrpHdr/InstdAgt/FinInstnId/ClrSysMmbId", MEMBER,
        "接收直接参与机构"),
    Row("PKGGrpHdr/SysCd", "GrpHdr/SttlmInf/ClrSys/Prtry", Only(BEPS), "系统编号"),
    Row("", "GrpHdr/SttlmInf/SttlmMtd", Constant("CLRG"), "BEPS clears through the NPC"),
    Row(_COUNT, _UNIFIED_COUNT, Computed("number of details"), "明细业务总笔数"),
    Row(_SUM, _UNIFIED_SUM,
        Computed("sum of the detail amounts (value; currency in the total)"), "明细业务总金额"),
    Row(_SUM, _UNIFIED_TOTAL,
        Computed("sum of the detail amounts with currency (TtlRtrdIntrBkSttlmAmt in pacs.004)"),
        "明细业务总金额"),
    Row("PKGGrpHdr/Rmk", "SplmtryData", Computed("carried; back: carried + /H01/path:value items"),
        "备注"),
    Row("NPCPrcInf", "SplmtryData", Computed("carried"), "NPC处理信息"),
)


def _parties(debtor: str, creditor: str, institution: bool) -> Table:
    """Party rows; ISO parties are persons (pacs.008) or institutions (``FinInstnId``)."""
    name = "FinInstnId/Nm" if institution else "Nm"
    address = "FinInstnId/PstlAdr/AdrLine" if institution else "PstlAdr/AdrLine"
    return (
        Row("Dbtr/Nm", f"{debtor}/{name}", Truncate(60), "付款人名称"),
        Row("Dbtr/PstlAdr/AdrLine", f"{debtor}/{address}", AddressLine(70), "付款人地址"),
        Row("Cdtr/Nm", f"{creditor}/{name}", Truncate(60), "收款人名称"),
        Row("Cdtr/PstlAdr/AdrLine", f"{creditor}/{address}", AddressLine(70), "收款人地址"),
    )


def _accounts(debtor: str, creditor: str) -> Table:
    return (
        Row("DbtrAcct/Id/Othr/Id", f"{debtor}/Id/Othr/Id", ACCOUNT, "付款人账号"),
        Row("DbtrAcct/Id/Othr/Issr", f"{debtor}/Id/Othr/Issr", BANK, "付款人开户行行号"),
        Row("CdtrAcct/Id/Othr/Id", f"{creditor}/Id/Othr/Id", ACCOUNT, "收款人账号"),
        Row("CdtrAcct/Id/Othr/Issr", f"{creditor}/Id/Othr/Issr", BANK, "收款人开户行行号"),
    )


def _transfer(institution: bool, extra: str) -> Table:
    return (
        Row("TxId", "PmtId/TxId", TX_ID, "明细标识号"),
        Row("TxId", "PmtId/EndToEndId", TX_ID, "BEPS has no end-to-end id: the TxId",
            mirror=True),
        Row("Amt", "IntrBkSttlmAmt", AMOUNT, "金额"),
        Row("PmtTpInf/CtgyPurp/Prtry", "PmtTpInf/CtgyPurp/Prtry", Code(4), "业务类型编码 §8.1"),
        Row("Purp/Prtry", "Purp/Prtry", Code(5), "业务种类编码 §8.2"),
        *_parties("Dbtr", "Cdtr", institution),
        *_accounts("DbtrAcct", "CdtrAcct"),
        Row("DbtrAgt/BrnchId/Id", "DbtrAgt/FinInstnId/ClrSysMmbId", MEMBER, "付款行行号"),
        Row("CdtrAgt/BrnchId/Id", "CdtrAgt/FinInstnId/ClrSysMmbId", MEMBER, "收款行行号"),
        Row("AddtlInf", "RmtInf/Ustrd", TextLines(USTRD, TEXT_LIMIT), "附言"),
        Row(extra, "SplmtryData", Computed("carried (CNAPS2 supplementary data)"),
            "业务附加信息"),
    )


#: beps.121.001.01 CstmrCdtTrfInf ⇄ pacs.008.001.08 CdtTrfTxInf
CUSTOMER: Table = (
    *_transfer(False, "CstmrCdtTrfAddtlInf"),
    Row("", "ChrgBr", Constant("DEBT"), "BEPS: the sender's bank charges its customer"),
)

#: beps.122.001.01 FinCdtTrfInf ⇄ pacs.009.001.08 CdtTrfTxInf
INSTITUTION: Table = _transfer(True, "FinCdtTrfAddtlInf")


def _return(institution: bool, extra: str) -> Table:
    party = "Agt/FinInstnId" if institution else "Pty"
    info = f"{extra}/RtrInf"
    return (
        Row("TxId", "RtrId", TX_ID, "明细标识号 (of the return)"),
        Row("Amt", "RtrdIntrBkSttlmAmt", AMOUNT, "退汇金额"),
        Row("PmtTpInf/CtgyPurp/Prtry", "", Constant(RETURN_TYPE), "业务类型 退汇"),
        Row("Purp/Prtry", "", Constant(RETURN_KIND), "业务种类 退汇"),
        Row("Dbtr/Nm", f"RtrChain/Dbtr/{party}/Nm", Truncate(60), "付款人 (original creditor)"),
        Row("Dbtr/PstlAdr/AdrLine", f"RtrChain/Dbtr/{party}/PstlAdr/AdrLine", AddressLine(70),
            "付款人地址"),
        Row("Cdtr/Nm", f"RtrChain/Cdtr/{party}/Nm", Truncate(60), "收款人 (original debtor)"),
        Row("Cdtr/PstlAdr/AdrLine", f"RtrChain/Cdtr/{party}/PstlAdr/AdrLine", AddressLine(70),
            "收款人地址"),
        *_accounts("OrgnlTxRef/CdtrAcct", "OrgnlTxRef/DbtrAcct"),
        Row("DbtrAgt/BrnchId/Id", "RtrChain/DbtrAgt/FinInstnId/ClrSysMmbId", MEMBER, "付款行行号"),
        Row("CdtrAgt/BrnchId/Id", "RtrChain/CdtrAgt/FinInstnId/ClrSysMmbId", MEMBER, "收款行行号"),
        Row(f"{info}/OrgnlGrpHdr/OrgnlMsgId", "OrgnlGrpInf/OrgnlMsgId", Truncate(35),
            "原报文标识号"),
        Row(f"{info}/OrgnlGrpHdr/OrgnlMT", "OrgnlGrpInf/OrgnlMsgNmId", Truncate(35), "原报文类型"),
        Row(f"{info}/OrgnlTx/OrgnlTxId", "OrgnlTxId", TX_ID, "原明细标识号"),
        Row(f"{info}/OrgnlTx/OrgnlTxId", "OrgnlEndToEndId", TX_ID, "= OrgnlTxId", mirror=True),
        Row(f"{info}/OrgnlTx/OrgnlTxTpCd", "OrgnlTxRef/PmtTpInf/CtgyPurp/Prtry", Code(4),
            "原业务类型"),
        Row(f"{info}/OrgnlTx/InstgIndrctPty", "OrgnlTxRef/DbtrAgt/FinInstnId/ClrSysMmbId",
            MEMBER, "原发起间接参与机构 (original debtor agent)"),
        Row(f"{info}/OrgnlTx/InstdIndrctPty", "OrgnlTxRef/CdtrAgt/FinInstnId/ClrSysMmbId",
            MEMBER, "原接收间接参与机构 (original creditor agent)"),
        Row(f"{info}/Cntt", "RtrRsnInf[1]/AddtlInf", TextLines(RETURN_LINE, TEXT_LIMIT),
            "退汇原因"),
        Row(f"{info}/OrgnlGrpHdr/OrgnlInstgPty", "SplmtryData", Computed("carried"),
            "原发起参与机构"),
        Row("AddtlInf", "SplmtryData", Computed("carried; back: carried + /H01/path:value items"),
            "附言"),
    )


#: beps.121.001.01 A105 CstmrCdtTrfInf ⇄ pacs.004.001.09 TxInf
CUSTOMER_RETURN: Table = _return(False, "CstmrCdtTrfAddtlInf")
#: beps.122.001.01 A105 FinCdtTrfInf ⇄ pacs.004.001.09 TxInf
INSTITUTION_RETURN: Table = _return(True, "FinCdtTrfAddtlInf")


def _fallbacks(table: Table, institution: bool) -> Table:
    """Second sources, unified → BEPS only, used when the row's own element gave nothing.

    The value then comes back (BEPS → unified) at the row's element, so each use is
    reported as ``moved``.
    """
    rows: list[Row] = []
    for row in table:
        if not row.unified or row.mirror:
            continue
        if isinstance(row.policy, Member) and row.cnaps and row.cnaps.endswith("BrnchId/Id"):
            agent = row.unified.rsplit("/FinInstnId/", 1)[0]
            rows.append(Row(row.cnaps, f"{agent}/BrnchId/Id", BANK, "agent branch id"))
            party = "Dbtr" if row.cnaps.startswith("Dbtr") else "Cdtr"
            if institution and not agent.startswith("RtrChain"):
                rows.append(Row(row.cnaps, f"{party}/FinInstnId/ClrSysMmbId", MEMBER,
                                "the institution itself"))
        elif row.cnaps and row.cnaps.endswith("Othr/Id") and row.policy is ACCOUNT:
            rows.append(Row(row.cnaps, row.unified.replace("/Othr/Id", "/IBAN"), ACCOUNT, "IBAN"))
        elif row.unified.startswith("RtrChain/") and "/Pty/" in row.unified:
            rows.append(Row(row.cnaps, row.unified.replace("/Pty/", "/Agt/FinInstnId/"), row.policy,
                            "party given as an agent"))
        elif row.unified.startswith("RtrChain/") and "/Agt/FinInstnId/" in row.unified:
            rows.append(Row(row.cnaps, row.unified.replace("/Agt/FinInstnId/", "/Pty/"), row.policy,
                            "agent given as a party"))
        elif row.cnaps and row.cnaps.endswith("RtrInf/Cntt"):
            rows.append(Row(row.cnaps, "RtrRsnInf[1]/Rsn/Cd", Code(TEXT_LIMIT), "reason code"))
            rows.append(Row(row.cnaps, "RtrRsnInf[1]/Rsn/Prtry", Code(TEXT_LIMIT), "reason"))
    return tuple(rows)


# fmt: on
# --------------------------------------------------------------------------- pairs


def _hooks(detail: str, tx: str) -> Table:
    """What the named hooks of a BEPS pair do besides the rows (for the table)."""
    return (
        Row(f"{detail}[*]/AddtlInf", f"{tx}[*]/… (no BEPS element)", SPILL_TO_TEXT,
            f"/H01/path:value items appended to 附言 while ≤{TEXT_LIMIT} characters"),
        Row("PKGGrpHdr/Rmk", "GrpHdr/… (no BEPS element)", SPILL_TO_TEXT,
            f"/H01/path:value items appended to 备注 while ≤{TEXT_LIMIT} characters"),
        Row("—", "what does not fit", DROP_WITH_LOSS, f"附言 / 备注 full ({TEXT_LIMIT})"),
    )  # fmt: skip


def _pair(
    cnaps: str,
    unified: str,
    table: Table,
    *,
    institution: bool,
    issuer_required: bool,
    default_codes: tuple[str, str],
    is_return: bool = False,
) -> Pair:
    """A BEPS pair: the package rows (:data:`GROUP`), the detail rows and their fallbacks;
    the elements, transactions and totals come from the catalogue's layouts."""
    pair = Pair.of(cnaps, unified, table)
    return Pair.of(
        cnaps,
        unified,
        table,
        group=GROUP,
        fallbacks=_fallbacks(table, institution),
        hooks=_hooks(pair.cnaps_tx, pair.unified_tx),
        institution=institution,
        is_return=is_return,
        default_codes=default_codes,
        settings=(("issuer_required", issuer_required),),
    )


PAIRS = {
    ("beps.121.001.01", "pacs.008.001.08"): _pair(
        "beps.121.001.01",
        "pacs.008.001.08",
        CUSTOMER,
        institution=False,
        issuer_required=True,
        default_codes=("A100", "02102"),
    ),
    ("beps.122.001.01", "pacs.009.001.08"): _pair(
        "beps.122.001.01",
        "pacs.009.001.08",
        INSTITUTION,
        institution=True,
        issuer_required=False,
        default_codes=("A200", "02105"),
    ),
    ("beps.121.001.01", "pacs.004.001.09"): _pair(
        "beps.121.001.01",
        "pacs.004.001.09",
        CUSTOMER_RETURN,
        institution=False,
        issuer_required=True,
        default_codes=("A100", "02102"),
        is_return=True,
    ),
    ("beps.122.001.01", "pacs.004.001.09"): _pair(
        "beps.122.001.01",
        "pacs.004.001.09",
        INSTITUTION_RETURN,
        institution=True,
        issuer_required=False,
        default_codes=("A200", "02105"),
        is_return=True,
    ),
}


# --------------------------------------------------------------------------- helpers


def _new_id(ctx: MappingContext, package: dict[str, Any]) -> str:
    """A new MsgId / TxId: the package's work date (Beijing) + 8 digits of the id generator."""
    created = get(package, "PKGGrpHdr/CreDtTm")
    return new_msg_id(
        created if isinstance(created, str) else None,
        id_generator=ctx.options.id_generator,
        now=ctx.options.now,
    )


def _total(amounts: Iterable[Any]) -> tuple[str, str | None]:
    """Sum of ``{"@Ccy", "#text"}`` amounts and their currency (None when mixed)."""
    total = Decimal(0)
    currencies: set[str] = set()
    for amount in amounts:
        total += decimal_of(amount) or Decimal(0)
        currencies.add(amount.get("@Ccy", "") if isinstance(amount, dict) else "")
    return str(total), (currencies.pop() if len(currencies) == 1 else None)


def _take_carried(node: dict[str, Any]) -> list[Carrier]:
    """Pop the CNAPS2 carriers from ``node["SplmtryData"]`` (of any CNAPS2 type)."""
    return take_carriers(node, lambda kind: True)


def _mapped(table: Table) -> tuple[str, ...]:
    """BEPS paths the rows fill from a unified field, which the forward edge always maps
    (never carries): a carried value there contradicts the unified message."""
    return tuple(
        row.cnaps
        for row in table
        if row.cnaps and row.unified and not isinstance(row.policy, (Computed, Constant, Only))
    )


def _restore(
    out: dict[str, Any],
    found: list[Carrier],
    ctx: MappingContext,
    model: type,
    where: tuple[str, str],
    stale: Any,
) -> dict[str, str]:
    """Put the carried values of beps.121/122 (or untyped) carriers back, by
    :func:`~paymsg.convert.engine.restore.restore`; values carried for another CNAPS2 family are
    returned (carrier path → value) to be reported as leftovers. ``where`` is the
    (unified, BEPS) element as loss entries show it."""
    src, tgt = where
    ours = [carrier for carrier in found if carrier.type in (None, *BEPS_TYPES)]
    restore(
        out,
        carried_values(src, ours),
        ctx,
        model=model,
        target=lambda path: f"{tgt}/{path}",
        stale=stale,
    )
    return {
        f"SplmtryData[{carrier.position}]/Envlp/Cnaps2/{path}": value
        for carrier in found
        if carrier not in ours
        for path, value in carrier.values.items()
    }


def _under(paths: tuple[str, ...]) -> Any:
    """A ``stale`` test: a carried path at or below one of ``paths``."""

    def stale(path: str, value: str) -> bool:
        return under(path, paths)

    return stale


# --------------------------------------------------------------------------- BEPS → unified


@functools.cache
def _unified_models(pair: Pair) -> tuple[type, type]:
    """The model classes of the unified message element and transaction (spilled items are
    read back below them)."""
    message = model_at(catalog().get(pair.unified).root_class, pair.unified_root)
    return message, model_at(message, pair.unified_tx)


def _spilled_here(rows: Table) -> Callable[[str], bool]:
    """Which ``/H01/path:value`` items of a BEPS text are read back: the fields the way back
    spills, i.e. not supplementary data and not a field a row maps (a row's own element
    takes its value from the BEPS element, never from the text)."""
    mapped = tuple(row.unified for row in rows if row.unified and row.unified != "SplmtryData")

    def accept(path: str) -> bool:
        return not under(path, ("SplmtryData", *mapped))

    return accept


def _check_returns(details: list[dict[str, Any]], pair: Pair) -> None:
    extra = "CstmrCdtTrfAddtlInf" if not pair.institution else "FinCdtTrfAddtlInf"
    for index, detail in enumerate(details, start=1):
        kind = get(detail, "PmtTpInf/CtgyPurp/Prtry")
        if kind != RETURN_TYPE or get(detail, f"{extra}/RtrInf") is None:
            what = f"business type {kind}" if kind != RETURN_TYPE else f"no {extra}/RtrInf"
            raise ConversionError(
                f"{pair.cnaps} → {pair.unified} maps returns only (业务类型 {RETURN_TYPE} 退汇 "
                f"with RtrInf); {pair.cnaps_tx}[{index}] (TxId {detail.get('TxId')}) has {what}",
                path=f"/Document/{pair.cnaps_root}/{pair.cnaps_tx}[{index}]",
                hint=f"convert it to {_default_unified(pair.cnaps)} instead",
            )


def _default_unified(beps: str) -> str:
    return "pacs.008.001.08" if beps.startswith("beps.121") else "pacs.009.001.08"


def _to_unified(data: dict[str, Any], ctx: MappingContext, pair: Pair) -> dict[str, Any]:
    root = copy.deepcopy(data[pair.cnaps_root])
    details: list[dict[str, Any]] = root.pop(pair.cnaps_tx, [])
    if pair.is_return:
        _check_returns(details, pair)
    message_cls, tx_cls = _unified_models(pair)
    transactions = []
    for detail in details:
        tx, left = run_to_unified(detail, pair.rows)
        read_back(tx, spilled_items(detail.get("AddtlInf")), tx_cls, _spilled_here(pair.rows))
        extra = carry(flatten(left), pair.cnaps)
        if extra is not None:
            tx.setdefault("SplmtryData", []).append(extra)
        transactions.append(tx)

    out, left = run_to_unified(root, GROUP)
    count = str(len(details))
    total, currency = _total(d.get("Amt") for d in details)
    layout = pair.unified_layout
    put(out, str(layout.count), count)
    put(out, str(layout.sum), total)
    if currency:
        put(out, str(layout.total), {"@Ccy": currency, "#text": total})
    _stated_totals(left, ctx, pair, count, total, currency)
    out[pair.unified_tx] = transactions
    remark = get(root, "PKGGrpHdr/Rmk")
    read_back(out, spilled_items(remark), message_cls, _spilled_here((*GROUP, *pair.rows)))
    extra = carry(flatten(left), pair.cnaps)
    if extra is not None:
        out["SplmtryData"] = [extra]
    return {pair.unified_root: out}


def _stated_totals(
    left: dict[str, Any],
    ctx: MappingContext,
    pair: Pair,
    count: str,
    total: str,
    currency: str | None,
) -> None:
    """Consume the package's stated ``NbOfTxs`` / ``CtrlSum``: the unified header states the
    count and sum of the details. A stated value that disagrees is reported ``defaulted``
    (the package is not what it says it is, e.g. truncated: ``strict=True`` refuses it);
    one that only differs in how it is written stays behind and is carried."""
    source, target, layout = pair.cnaps_shown, pair.unified_shown, pair.unified_layout
    stated = get(left, _COUNT)
    if stated is not None and (not str(stated).isdigit() or int(stated) != int(count)):
        take(left, _COUNT)
        ctx.lose(
            f"{source}/{_COUNT}",
            "defaulted",
            f"the package states {stated} transactions but has {count} details; the unified "
            f"header states {count}",
            value=stated,
            target_path=f"{target}/{layout.count}",
        )
    elif stated == count:
        take(left, _COUNT)
    stated_sum = value_at(left, _SUM)
    if stated_sum is None:
        return
    if stated_sum == {"@Ccy": currency, "#text": total}:
        take(left, _SUM)
        return
    amount = decimal_of(stated_sum)
    stated_currency = stated_sum.get("@Ccy") if isinstance(stated_sum, dict) else None
    if amount is not None and amount == Decimal(total) and stated_currency == currency:
        return  # the same sum written another way: carried
    take(left, _SUM)
    shown = (
        f"{stated_currency or ''} {stated_sum.get('#text')}".strip()
        if isinstance(stated_sum, dict)
        else str(stated_sum)
    )
    summed = f"{currency} {total}" if currency else total
    ctx.lose(
        f"{source}/{_SUM}",
        "defaulted",
        f"the package states a control sum of {shown} but its details sum to {summed}; the "
        f"unified header states {total}",
        value=shown,
        target_path=f"{target}/{layout.sum}",
    )


# --------------------------------------------------------------------------- unified → BEPS


@dataclass
class _Detail:
    """A BEPS detail being built from one unified transaction."""

    out: dict[str, Any]
    left: dict[str, Any]
    src: str
    tgt: str
    rest: dict[str, str]  # carried values that do not fit this BEPS type


def _implied(left: dict[str, Any], table: Table) -> None:
    """Consume the unified side's constants (``SttlmMtd`` CLRG, ``ChrgBr`` DEBT) BEPS implies."""
    for row in table:
        constant = isinstance(row.policy, Constant) and not row.cnaps and row.unified
        if constant and value_at(left, row.unified) == getattr(row.policy, "value", None):
            take(left, row.unified)


def _take_rows(
    detail: _Detail, rows: Table, ctx: MappingContext, *, report: bool, only_empty: bool
) -> None:
    for row in rows:
        if not row.cnaps or not row.unified or isinstance(row.policy, Computed):
            continue
        if only_empty and value_at(detail.out, row.cnaps) is not None:
            continue
        value = value_at(detail.left, row.unified)
        if value is None:
            continue
        src, tgt = f"{detail.src}/{row.unified}", f"{detail.tgt}/{row.cnaps}"
        converted = row.policy.to_cnaps(value, ctx, src, tgt)
        if converted is None:
            continue
        take(detail.left, row.unified)
        put(detail.out, row.cnaps, converted)
        if report:  # every source field, unless the rule has reported it already
            seen = ctx.recorded
            for path, leaf in leaves(value, src).items():
                if loss_path(path) not in seen:
                    reason = f"BEPS has one place for it ({row.note})"
                    ctx.lose(path, "moved", reason, value=leaf, target_path=tgt)


def _compose_addresses(detail: _Detail, table: Table, ctx: MappingContext) -> None:
    """A structured ISO address with no ``AdrLine`` becomes the one BEPS address line."""
    for row in table:
        if not isinstance(row.policy, AddressLine) or not row.cnaps or not row.unified:
            continue
        if value_at(detail.out, row.cnaps) is not None:
            continue
        address_path = row.unified.rsplit("/", 1)[0]
        address = value_at(detail.left, address_path)
        if not isinstance(address, dict):
            continue
        texts = {k: v for k, v in address.items() if isinstance(v, str) and k != "AdrTp"}
        _, order = compose_address(texts)
        parts = [(name, texts[name]) for name in order]
        if not parts:
            continue
        tgt = f"{detail.tgt}/{row.cnaps}"
        for name, _ in parts:
            take(detail.left, f"{address_path}/{name}")
        pieces = [(f"{detail.src}/{address_path}/{name}", value) for name, value in parts]
        reason = "structured address part written into the one BEPS address line"
        text = join(ctx, pieces, " ", row.policy.limit, tgt, reason, first_moved=True)
        put(detail.out, row.cnaps, text)


def _first_pass(
    tx: dict[str, Any], index: int, pair: Pair, ctx: MappingContext, detail_cls: type
) -> _Detail:
    detail = _Detail(
        {},
        copy.deepcopy(tx),
        f"{pair.unified_shown}/{pair.unified_tx}[{index}]",
        f"{pair.cnaps_shown}/{pair.cnaps_tx}[{index}]",
        {},
    )
    carriers = _take_carried(detail.left)
    main = tuple(row for row in pair.rows if not row.mirror)
    mirrors = tuple(row for row in pair.rows if row.mirror)
    _take_rows(detail, main, ctx, report=False, only_empty=False)
    _implied(detail.left, pair.rows)
    _take_rows(detail, mirrors, ctx, report=False, only_empty=True)
    _take_rows(detail, pair.fallbacks, ctx, report=True, only_empty=True)
    detail.rest = _restore(
        detail.out,
        carriers,
        ctx,
        detail_cls,
        (detail.src, detail.tgt),
        _under(_mapped(pair.rows)),
    )
    for row in pair.rows:
        implied = isinstance(row.policy, Constant) and not row.unified and row.cnaps
        if implied and value_at(detail.out, row.cnaps) is None:
            put(detail.out, row.cnaps, getattr(row.policy, "value", None))
    _compose_addresses(detail, pair.rows + pair.fallbacks, ctx)
    return detail


def _iso_path(pair: Pair, beps: str) -> str:
    for row in pair.rows:
        if row.cnaps == beps and row.unified and not row.mirror:
            return row.unified
    return beps


def _default(
    detail: _Detail, pair: Pair, ctx: MappingContext, beps: str, value: str, reason: str
) -> None:
    """The default policy for the detail's ``beps`` path (from its unified row's path)."""
    source, target = f"{detail.src}/{_iso_path(pair, beps)}", f"{detail.tgt}/{beps}"
    default(ctx, value, out=detail.out, at=beps, source=source, target=target, reason=reason)


def _second_pass(detail: _Detail, pair: Pair, ctx: MappingContext, package: dict[str, Any]) -> None:
    """Defaults for what BEPS requires, mirrors consumed, leftovers spilled into AddtlInf."""
    instructing = get(package, "PKGGrpHdr/InstgPty/InstgDrctPty") or NO_BANK
    instructed = get(package, "PKGGrpHdr/InstdPty/InstdDrctPty") or NO_BANK
    kind, category = pair.default_codes
    debtor_agent, creditor_agent = "DbtrAgt/BrnchId/Id", "CdtrAgt/BrnchId/Id"
    none = "the source has no value BEPS can use"
    if value_at(detail.out, "TxId") is None:
        _default(
            detail,
            pair,
            ctx,
            "TxId",
            _new_id(ctx, package),
            "BEPS needs a TxId of ≤16 digits: work date + a sequence from the id generator",
        )
    for side, agent, direct, role in (
        ("Dbtr", debtor_agent, instructing, "instructing"),
        ("Cdtr", creditor_agent, instructed, "instructed"),
    ):  # the bank holding the account, else the package's direct participant
        issuer = get(detail.out, f"{side}Acct/Id/Othr/Issr")
        if issuer:
            reason = f"no CNAPS member id for the {side} agent: the account issuer"
        else:
            reason = f"no CNAPS member id for the {side} agent: the {role} direct participant"
        _default(detail, pair, ctx, agent, issuer or direct, reason)
    for side in ("Dbtr", "Cdtr"):
        _default(detail, pair, ctx, f"{side}/Nm", PLACEHOLDER, f"BEPS requires a name; {none}")
        _default(
            detail,
            pair,
            ctx,
            f"{side}Acct/Id/Othr/Id",
            PLACEHOLDER,
            f"BEPS requires an account; {none}",
        )
        if pair.setting("issuer_required"):
            _default(
                detail,
                pair,
                ctx,
                f"{side}Acct/Id/Othr/Issr",
                str(get(detail.out, f"{side}Agt/BrnchId/Id")),
                "BEPS requires the account issuer: the agent's bank code",
            )
    if not pair.is_return:
        _default(
            detail,
            pair,
            ctx,
            "PmtTpInf/CtgyPurp/Prtry",
            kind,
            f"no CNAPS business type (业务类型): {kind}",
        )
        _default(
            detail,
            pair,
            ctx,
            "Purp/Prtry",
            category,
            f"no CNAPS business category (业务种类): {category}",
        )
    else:
        info = ("FinCdtTrfAddtlInf" if pair.institution else "CstmrCdtTrfAddtlInf") + "/RtrInf"
        _default(
            detail,
            pair,
            ctx,
            f"{info}/OrgnlGrpHdr/OrgnlMsgId",
            PLACEHOLDER,
            f"the original message id is required; {none}",
        )
        _default(
            detail,
            pair,
            ctx,
            f"{info}/OrgnlGrpHdr/OrgnlInstgPty",
            instructed,
            "the original instructing participant: the one the return goes to",
        )
        _default(
            detail,
            pair,
            ctx,
            f"{info}/OrgnlGrpHdr/OrgnlMT",
            pair.cnaps,
            "the original message type: this BEPS type",
        )
        _default(
            detail,
            pair,
            ctx,
            f"{info}/OrgnlTx/InstgIndrctPty",
            str(get(detail.out, creditor_agent)),
            "the original debtor agent: the return's creditor agent",
        )
        _default(
            detail,
            pair,
            ctx,
            f"{info}/OrgnlTx/InstdIndrctPty",
            str(get(detail.out, debtor_agent)),
            "the original creditor agent: the return's debtor agent",
        )
        _default(
            detail,
            pair,
            ctx,
            f"{info}/OrgnlTx/OrgnlTxId",
            "0",
            f"the original TxId (≤16 digits) is required; {none}",
        )
        _default(
            detail,
            pair,
            ctx,
            f"{info}/OrgnlTx/OrgnlTxTpCd",
            kind,
            f"the original business type is required; {none}",
        )
        if pair.institution:
            _default(
                detail,
                pair,
                ctx,
                f"{info}/Cntt",
                "退汇",
                f"beps.122 requires the return reason text; {none}",
            )
    for row in pair.rows:  # a mirror that agrees with the BEPS value comes back as is
        if (
            row.mirror
            and row.cnaps
            and row.unified
            and value_at(detail.left, row.unified) == get(detail.out, row.cnaps)
        ):
            take(detail.left, row.unified)
    items = {**flatten(detail.left), **detail.rest}
    text = get(detail.out, "AddtlInf")
    text = spill(
        ctx, items, text, detail.src, f"{detail.tgt}/AddtlInf", limit=TEXT_LIMIT, system=BEPS
    )
    put(detail.out, "AddtlInf", text)


def _cnaps_member(value: Any) -> str | None:
    """The member id of a ``ClrSysMmbId`` of CNAPS (or of no named system), else None."""
    if not isinstance(value, dict) or value.get("ClrSysId") not in (None, {"Cd": CNAPS}):
        return None
    member = value.get("MmbId")
    return member if isinstance(member, str) and len(member) <= 14 else None


def _direct_party(
    package: dict[str, Any],
    beps: str,
    option: str | None,
    details: list[_Detail],
    agents: tuple[str, str],
    ctx: MappingContext,
) -> tuple[str, str]:
    """A package direct participant (清算行) when ``GrpHdr`` names none: (code, reason).

    In order: the ``sender``/``receiver`` option; the transactions' own ``InstgAgt`` /
    ``InstdAgt`` CNAPS member id when all agree (the hvps.111 way: moved to the package);
    the first detail's debtor/creditor agent (defaulted); the placeholder (defaulted).
    """
    value = get(package, beps)
    if value is not None:
        return value, ""
    if option:
        return option, ""
    tx_agent, detail_agent = agents
    member_path = f"{tx_agent}/FinInstnId/ClrSysMmbId"
    codes = {_cnaps_member(value_at(detail.left, member_path)) for detail in details}
    if len(codes) == 1 and None not in codes:
        code = str(codes.pop())
        for detail in details:
            member = take(detail.left, member_path)
            for path, leaf in leaves(member, f"{detail.src}/{member_path}").items():
                ctx.lose(
                    path,
                    "moved",
                    "BEPS names the direct participant once per package",
                    value=leaf,
                    target_path=f"{detail.tgt.rsplit('/', 1)[0]}/{beps}",
                )
        return code, ""
    for detail in details:
        code = get(detail.out, detail_agent)
        if code:
            return code, f"the {detail_agent.split('/')[0]} of the first detail"
    return NO_BANK, "no CNAPS id anywhere in the source"


def _to_beps(data: dict[str, Any], ctx: MappingContext, pair: Pair) -> dict[str, Any]:
    iso = copy.deepcopy(data[pair.unified_root])
    transactions: list[dict[str, Any]] = iso.pop(pair.unified_tx, [])
    if not transactions:
        raise ConversionError(
            f"{pair.unified} without {pair.unified_tx}: a BEPS package needs a detail"
        )
    root_cls = model_at(catalog().get(pair.cnaps).root_class, pair.cnaps_root)
    detail_cls = model_at(root_cls, pair.cnaps_tx)
    carriers = _take_carried(iso)
    if pair.is_return:
        _group_original(iso, transactions, ctx, pair)

    package: dict[str, Any] = {}
    left = iso
    holder = _Detail(package, left, pair.unified_shown, pair.cnaps_shown, {})
    _take_rows(holder, GROUP, ctx, report=False, only_empty=False)
    _implied(left, GROUP)

    details = [
        _first_pass(tx, index, pair, ctx, detail_cls)
        for index, tx in enumerate(transactions, start=1)
    ]
    options = ctx.options
    for beps, iso_path, option, agents in (
        (
            "PKGGrpHdr/InstgPty/InstgDrctPty",
            "GrpHdr/InstgAgt",
            options.sender,
            ("InstgAgt", "DbtrAgt/BrnchId/Id"),
        ),
        (
            "PKGGrpHdr/InstdPty/InstdDrctPty",
            "GrpHdr/InstdAgt",
            options.receiver,
            ("InstdAgt", "CdtrAgt/BrnchId/Id"),
        ),
    ):
        value, reason = _direct_party(package, beps, option, details, agents, ctx)
        if get(package, beps) is None:
            put(package, beps, value)
            if reason:
                ctx.lose(
                    f"{pair.unified_shown}/{iso_path}/FinInstnId/ClrSysMmbId",
                    "defaulted",
                    f"no CNAPS member id for the direct participant: {reason}",
                    value=value,
                    target_path=f"{pair.cnaps_shown}/{beps}",
                )
    if get(package, "PKGGrpHdr/MsgId") is None:
        value = _new_id(ctx, package)
        put(package, "PKGGrpHdr/MsgId", value)
        ctx.lose(
            f"{pair.unified_shown}/GrpHdr/MsgId",
            "defaulted",
            "a BEPS MsgId is the work date + an 8-digit sequence (id generator)",
            value=value,
            target_path=f"{pair.cnaps_shown}/PKGGrpHdr/MsgId",
        )
    for detail in details:
        _second_pass(detail, pair, ctx, package)

    out_details = [detail.out for detail in details]
    count = str(len(out_details))
    total, _ = _total(d.get("Amt") for d in out_details)
    # the stated totals of the unified message are checked; a carried BEPS NbOfTxs/CtrlSum
    # (the original wrote the true total another way) is restored only when it agrees with
    # the details: a disagreeing one is reported; else the totals are computed
    _check_totals(left, ctx, pair, count, total)
    mapped = _under(_mapped(GROUP))

    def stale(path: str, value: str) -> bool:
        if path == _COUNT:
            return not value.isdigit() or int(value) != int(count)
        if path == f"{_SUM}/#text":
            return decimal_of(value) != Decimal(total)
        if path == f"{_SUM}/@Ccy":
            return value != CURRENCY
        return bool(mapped(path, value))

    rest = _restore(package, carriers, ctx, root_cls, (pair.unified_shown, pair.cnaps_shown), stale)
    if get(package, _COUNT) is None:
        put(package, _COUNT, count)
    if get(package, _SUM) is None:
        put(package, _SUM, {"@Ccy": CURRENCY, "#text": total})
    if get(package, "PKGGrpHdr/SysCd") is None:
        put(package, "PKGGrpHdr/SysCd", BEPS)
        ctx.lose(
            f"{pair.unified_shown}/GrpHdr/SttlmInf/ClrSys/Prtry",
            "defaulted",
            "the clearing system is not BEPS in the source; SysCd is BEPS",
            value=BEPS,
            target_path=f"{pair.cnaps_shown}/PKGGrpHdr/SysCd",
        )
    items = {**flatten(left), **rest}
    remark = get(package, "PKGGrpHdr/Rmk")
    tgt = f"{pair.cnaps_shown}/PKGGrpHdr/Rmk"
    remark = spill(ctx, items, remark, pair.unified_shown, tgt, limit=TEXT_LIMIT, system=BEPS)
    put(package, "PKGGrpHdr/Rmk", remark)
    package[pair.cnaps_tx] = out_details
    return {pair.cnaps_root: package}


def _check_totals(
    left: dict[str, Any], ctx: MappingContext, pair: Pair, count: str, total: str
) -> None:
    """Consume the stated totals; a value that disagrees with the details is reported."""
    src, tgt = pair.unified_shown, pair.cnaps_shown
    layout = pair.unified_layout
    stated = take(left, str(layout.count))
    if stated is not None and stated != count:
        ctx.lose(
            f"{src}/{layout.count}",
            "dropped",
            f"the package has {count} details",
            value=stated,
            target_path=f"{tgt}/{_COUNT}",
        )
    stated = take(left, str(layout.sum))
    if stated is not None and decimal_of(stated) != Decimal(total):
        ctx.lose(
            f"{src}/{layout.sum}",
            "dropped",
            f"the details sum to {total}",
            value=stated,
            target_path=f"{tgt}/{_SUM}",
        )
    stated = take(left, str(layout.total))
    if isinstance(stated, dict):
        differs = {
            "#text": decimal_of(stated) != Decimal(total),
            "@Ccy": stated.get("@Ccy") != CURRENCY,
        }
        for part, value in stated.items():
            if differs.get(part):
                ctx.lose(
                    f"{src}/{layout.total}/{part}",
                    "dropped",
                    f"the details sum to {CURRENCY} {total}",
                    value=value,
                    target_path=f"{tgt}/{_SUM}",
                )


def _group_original(
    iso: dict[str, Any], transactions: list[dict[str, Any]], ctx: MappingContext, pair: Pair
) -> None:
    """pacs.004 group-level ``OrgnlGrpInf`` → each return's ``RtrInf/OrgnlGrpHdr``."""
    group = iso.get("OrgnlGrpInf")
    if not isinstance(group, dict):
        return
    names = [n for n in ("OrgnlMsgId", "OrgnlMsgNmId") if isinstance(group.get(n), str)]
    if not names:
        return
    for tx in transactions:
        if "OrgnlGrpInf" not in tx:
            tx["OrgnlGrpInf"] = {name: group[name] for name in names}
    info = ("FinCdtTrfAddtlInf" if pair.institution else "CstmrCdtTrfAddtlInf") + "/RtrInf"
    target = {"OrgnlMsgId": "OrgnlMsgId", "OrgnlMsgNmId": "OrgnlMT"}
    for name in names:
        ctx.lose(
            f"{pair.unified_shown}/OrgnlGrpInf/{name}",
            "moved",
            "BEPS names the original message in every detail",
            value=group[name],
            target_path=f"{pair.cnaps_shown}/{pair.cnaps_tx}/{info}/OrgnlGrpHdr/{target[name]}",
        )
        take(iso, f"OrgnlGrpInf/{name}")


# --------------------------------------------------------------------------- the edges


def _edges(beps: str, iso: str) -> None:
    pair = PAIRS[(beps, iso)]

    @mapping(beps, iso)
    def forward(data: dict[str, Any], ctx: MappingContext) -> dict[str, Any]:
        return _to_unified(data, ctx, pair)

    @mapping(iso, beps)
    def backward(data: dict[str, Any], ctx: MappingContext) -> dict[str, Any]:
        return _to_beps(data, ctx, pair)


# the first unified edge of a BEPS type is its default counterpart (core.unified_of)
for _beps, _iso in PAIRS:
    _edges(_beps, _iso)
    describe_pair(PAIRS[(_beps, _iso)])


__all__ = [
    "CUSTOMER",
    "CUSTOMER_RETURN",
    "GROUP",
    "INSTITUTION",
    "INSTITUTION_RETURN",
    "PAIRS",
    "Pair",
    "Row",
]
