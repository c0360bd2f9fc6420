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
in ``SplmtryData`` (``PlcAndNm`` = ``CNAPS2``, see :func:`~paymsg.convert.core.carry`) of the
transaction (detail leftovers: ``CstmrCdtTrfAddtlInf``, treasury data, …) or of the message
(package leftovers: ``Rmk``, ``NPCPrcInf``, a stated ``NbOfTxs``/``CtrlSum`` that disagrees
with the details). The way back restores them, so CNAPS2 → unified → CNAPS2 gives back the
same document.

Unified → CNAPS2 keeps what BEPS has a field for. Everything else left over in the source
is appended to the free text of the BEPS message as CIPS-style ``/path:value`` items
(transaction leftovers to the 附言 ``AddtlInf``, group leftovers to the 备注 ``Rmk``, each
≤256 characters) while it fits — reported as ``moved`` — and reported as ``dropped`` when
it does not. Text longer than its BEPS field is cut and reported as ``truncated``. A BEPS
field the source does not fill is defaulted and reported as ``defaulted``.

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
  :func:`~paymsg.convert.core.restore`, the rule every engine follows: a carried value fills
  only what no row, rule or default wrote; one that disagrees with the unified message (a
  value the mapping wrote, a field a row maps — the forward edge never carries those — or a
  total the details contradict) is reported ``dropped`` and the unified value wins; a path
  that does not exist in the BEPS type is reported. Values carried for another CNAPS2 family
  (an hvps.111 passing through pacs.008) are not put into a BEPS package but reported like
  any leftover.
* **Loss paths** are written ``/Document/<message>/<path>`` (indexes 1-based, as
  :func:`~paymsg.convert.core.flatten` writes them; an amount is ``…/Amt`` and its currency
  ``…/Amt/@Ccy``, see :func:`~paymsg.convert.core.loss_path`) for source and target.
* **Placeholders.** A required BEPS value with no source at all gets ``UNKNOWN`` (names,
  accounts, ids), ``0`` (numeric ids) or ``000000000000`` (bank codes) and a ``defaulted``
  entry; ``strict=True`` refuses such a conversion.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

from paymsg.convert.core import (
    Carrier,
    MappingContext,
    beijing_time,
    carried_values,
    carry,
    compose_address,
    flatten,
    get,
    leaves,
    loss_path,
    mapping,
    model_at,
    put,
    restore,
    take,
    take_carriers,
)
from paymsg.errors import ConversionError
from paymsg.reference.cnaps2 import CNAPS_CLEARING_CODE as CNAPS
from paymsg.reference.cnaps2 import REMITTANCE_LINE as USTRD
from paymsg.reference.cnaps2 import RETURN_BUSINESS_TYPE as RETURN_TYPE
from paymsg.reference.cnaps2 import RETURN_CATEGORY as RETURN_KIND
from paymsg.reference.cnaps2 import RETURN_INFO_LINE as RETURN_LINE
from paymsg.reference.cnaps2 import new_msg_id
from paymsg.schema.catalog import catalog

BEPS = "BEPS"
BEPS_TYPES = ("beps.121.001.01", "beps.122.001.01")
CURRENCY = "CNY"
PLACEHOLDER = "UNKNOWN"
NO_BANK = "000000000000"
TEXT_LIMIT = 256  # AddtlInf, Rmk, Cntt
_DIGITS16 = re.compile(r"\d{1,16}")


# --------------------------------------------------------------------------- rules


class Rule:
    """How one value crosses: ``to_iso`` (never loses) and ``to_beps`` (``None`` = refused)."""

    note = "copied"

    def to_iso(self, value: Any) -> Any:
        return value

    def to_beps(self, value: Any, ctx: MappingContext, src: str, tgt: str) -> Any:
        return value if isinstance(value, str) else None


@dataclass(frozen=True)
class Text(Rule):
    """Free text; longer than ``limit`` → cut and reported (characters)."""

    limit: int

    @property
    def note(self) -> str:  # type: ignore[override]
        return f"text, cut to {self.limit} characters"

    def to_beps(self, value: Any, ctx: MappingContext, src: str, tgt: str) -> Any:
        return ctx.fit(src, value, self.limit, tgt) if isinstance(value, str) else None


@dataclass(frozen=True)
class Code(Rule):
    """An identifier or code: taken only when it fits (``limit``, ``pattern``), never cut."""

    limit: int
    pattern: str | None = None

    @property
    def note(self) -> str:  # type: ignore[override]
        return f"id/code ≤{self.limit}" + (f" matching {self.pattern}" if self.pattern else "")

    def to_beps(self, value: Any, ctx: MappingContext, src: str, tgt: str) -> Any:
        if not isinstance(value, str) or len(value) > self.limit:
            return None
        if self.pattern and not re.fullmatch(self.pattern, value):
            return None
        return value


@dataclass(frozen=True)
class Only(Rule):
    """One value on both sides (``SysCd`` BEPS); any other value is carried / reported."""

    value: str

    @property
    def note(self) -> str:  # type: ignore[override]
        return f"only {self.value!r} maps (others carried/reported)"

    def to_iso(self, value: Any) -> Any:
        return value if value == self.value else None

    def to_beps(self, value: Any, ctx: MappingContext, src: str, tgt: str) -> Any:
        return value if value == self.value else None


@dataclass(frozen=True)
class Constant(Rule):
    """A value one side always has and the other leaves implicit (a one-sided row)."""

    value: str

    @property
    def note(self) -> str:  # type: ignore[override]
        return f"constant {self.value!r} (implied on the other side)"


class BeijingTime(Rule):
    """A date-time; another UTC offset than Beijing's is converted (CNAPS2 time)."""

    note = "date-time; a time in another offset is converted to Beijing time"

    def to_beps(self, value: Any, ctx: MappingContext, src: str, tgt: str) -> Any:
        return beijing_time(value, ctx, src, tgt) if isinstance(value, str) else None


class Member(Rule):
    """A CNAPS bank code ⇄ ``ClrSysMmbId`` with ``ClrSysId/Cd`` = ``CNAPS``."""

    note = "CNAPS member id: ClrSysMmbId (ClrSysId/Cd CNAPS, MmbId)"

    def to_iso(self, value: Any) -> Any:
        return {"ClrSysId": {"Cd": CNAPS}, "MmbId": value}

    def to_beps(self, value: Any, ctx: MappingContext, src: str, tgt: str) -> Any:
        if not isinstance(value, dict):
            return None
        member, system = value.get("MmbId"), value.get("ClrSysId")
        if not isinstance(member, str) or len(member) > 14:
            return None
        if system is None or system == {"Cd": CNAPS}:
            return member
        if system == {"Prtry": CNAPS}:
            ctx.lose(
                f"{src}/ClrSysId/Prtry",
                "moved",
                "the CNAPS clearing system is written as the ISO code ClrSysId/Cd CNAPS",
                value=CNAPS,
                target_path=tgt,
            )
            return member
        return None


class Amount(Rule):
    """``{"@Ccy", "#text"}`` unchanged; BEPS settles CNY only (else ConversionError)."""

    note = "amount with currency; CNY only"

    def to_beps(self, value: Any, ctx: MappingContext, src: str, tgt: str) -> Any:
        if not isinstance(value, dict):
            return None
        currency = value.get("@Ccy")
        if currency != CURRENCY:
            raise ConversionError(
                f"BEPS settles CNY only: {src} is {currency} {value.get('#text')}",
                path=src,
                hint="convert the amount to CNY before converting to a BEPS message",
            )
        return value


@dataclass(frozen=True)
class AddressLine(Rule):
    """The one BEPS address line ⇄ ISO ``AdrLine`` (0..7): lines joined with a space."""

    limit: int

    @property
    def note(self) -> str:  # type: ignore[override]
        return f"1 line ⇄ AdrLine list; lines joined by a space, cut to {self.limit}"

    def to_iso(self, value: Any) -> Any:
        return [value]

    def to_beps(self, value: Any, ctx: MappingContext, src: str, tgt: str) -> Any:
        lines = _strings(value)
        if not lines:
            return None
        parts = [(f"{src}[{index}]", line) for index, line in enumerate(lines, start=1)]
        return _join(ctx, parts, " ", self.limit, tgt, "joined into the one BEPS address line")


@dataclass(frozen=True)
class TextLines(Rule):
    """One BEPS text ⇄ ISO lines of ``width`` characters (chunks, joined back exactly)."""

    width: int
    limit: int

    @property
    def note(self) -> str:  # type: ignore[override]
        return (
            f"text ⇄ lines of {self.width}; chunks joined as they were, other lines with a "
            f"space; cut to {self.limit}"
        )

    def to_iso(self, value: Any) -> Any:
        return [value[i : i + self.width] for i in range(0, len(value), self.width)] or [value]

    def to_beps(self, value: Any, ctx: MappingContext, src: str, tgt: str) -> Any:
        lines = _strings(value)
        if not lines:
            return None
        parts = [(f"{src}[{index}]", line) for index, line in enumerate(lines, start=1)]
        if all(len(line) == self.width for line in lines[:-1]):  # chunks of one text
            return _join(ctx, parts, "", self.limit, tgt, None)
        return _join(ctx, parts, " ", self.limit, tgt, "joined with a space into one BEPS text")


class Computed(Rule):
    """Filled by code (totals, carried data): the row documents it, the loops skip it."""

    def __init__(self, note: str) -> None:
        self.note = note


def _join(
    ctx: MappingContext,
    parts: list[tuple[str, str]],
    separator: str,
    limit: int,
    tgt: str,
    moved: str | None,
    *,
    first_moved: bool = False,
) -> str:
    """``parts`` (source path, text) joined into one BEPS text of ≤``limit`` characters.

    Each part is reported at its own path: ``moved`` (joined, when ``moved`` gives the
    reason; the first part only with ``first_moved``), ``truncated`` (cut at the limit) or
    ``dropped`` (no room left).
    """
    text = ""
    for number, (path, piece) in enumerate(parts):
        prefix = separator if number else ""
        room = limit - len(text) - len(prefix)
        if room <= 0:
            ctx.lose(
                path, "dropped", f"no room left in the {limit}-character BEPS field", value=piece
            )
        elif len(piece) > room:
            text += prefix + piece[:room]
            ctx.lose(
                path,
                "truncated",
                f"{len(piece)} characters, {room} kept (the BEPS field holds {limit})",
                value=piece,
                target_path=tgt,
            )
        else:
            text += prefix + piece
            if moved and (number or first_moved):
                ctx.lose(path, "moved", moved, value=piece, target_path=tgt)
    return text


def _strings(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, list):
        return [item for item in value if isinstance(item, str)]
    return []


@dataclass(frozen=True)
class Row:
    """One line of a mapping table: BEPS path ⇄ unified path, by ``rule``.

    ``mirror`` rows repeat a BEPS value in a second unified element (``EndToEndId`` = the
    ``TxId``); back, that element is a second source and is consumed when it agrees.
    """

    beps: str | None
    iso: str | None
    rule: Rule
    note: str = ""
    mirror: bool = False


Table = tuple[Row, ...]

COPY = Rule()
MEMBER = Member()
AMOUNT = Amount()
TX_ID = Code(16, r"\d{1,16}")
BANK = Code(14)
ACCOUNT = Code(32)


# --------------------------------------------------------------------------- tables
# fmt: off

GROUP: Table = (
    Row("PKGGrpHdr/MsgId", "GrpHdr/MsgId", Code(16, r"\d{16}"),
        "报文标识号 (CNAPS: work date + sequence; back, another id is replaced)"),
    Row("PKGGrpHdr/CreDtTm", "GrpHdr/CreDtTm", BeijingTime(), "报文发送时间"),
    Row("PKGGrpHdr/InstgPty/InstgDrctPty", "GrpHdr/InstgAgt/FinInstnId/ClrSysMmbId", MEMBER,
        "发起直接参与机构"),
    Row("PKGGrpHdr/InstdPty/InstdDrctPty", "GrpHdr/InstdAgt/FinInstnId/ClrSysMmbId", MEMBER,
        "接收直接参与机构"),
    Row("PKGGrpHdr/SysCd", "GrpHdr/SttlmInf/ClrSys/Prtry", Only(BEPS), "系统编号"),
    Row(None, "GrpHdr/SttlmInf/SttlmMtd", Constant("CLRG"), "BEPS clears through the NPC"),
    Row("PKGGrpHdr/NbOfTxs", "GrpHdr/NbOfTxs", Computed("number of details"), "明细业务总笔数"),
    Row("PKGGrpHdr/CtrlSum", "GrpHdr/CtrlSum",
        Computed("sum of the detail amounts (value; currency in the total)"), "明细业务总金额"),
    Row("PKGGrpHdr/CtrlSum", "GrpHdr/TtlIntrBkSttlmAmt",
        Computed("sum of the detail amounts with currency (TtlRtrdIntrBkSttlmAmt in pacs.004)"),
        "明细业务总金额"),
    Row("PKGGrpHdr/Rmk", "SplmtryData", Computed("carried; back: carried + /path:value items"),
        "备注"),
    Row("NPCPrcInf", "SplmtryData", Computed("carried"), "NPC处理信息"),
)


def _parties(debtor: str, creditor: str, institution: bool) -> Table:
    """Party rows; ISO parties are persons (pacs.008) or institutions (``FinInstnId``)."""
    name = "FinInstnId/Nm" if institution else "Nm"
    address = "FinInstnId/PstlAdr/AdrLine" if institution else "PstlAdr/AdrLine"
    return (
        Row("Dbtr/Nm", f"{debtor}/{name}", Text(60), "付款人名称"),
        Row("Dbtr/PstlAdr/AdrLine", f"{debtor}/{address}", AddressLine(70), "付款人地址"),
        Row("Cdtr/Nm", f"{creditor}/{name}", Text(60), "收款人名称"),
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
    Row(None, "ChrgBr", Constant("DEBT"), "BEPS: the sender's bank charges its customer"),
)

#: beps.122.001.01 FinCdtTrfInf ⇄ pacs.009.001.08 CdtTrfTxInf
INSTITUTION: Table = _transfer(True, "FinCdtTrfAddtlInf")


def _return(institution: bool, extra: str) -> Table:
    party = "Agt/FinInstnId" if institution else "Pty"
    info = f"{extra}/RtrInf"
    return (
        Row("TxId", "RtrId", TX_ID, "明细标识号 (of the return)"),
        Row("Amt", "RtrdIntrBkSttlmAmt", AMOUNT, "退汇金额"),
        Row("PmtTpInf/CtgyPurp/Prtry", None, Constant(RETURN_TYPE), "业务类型 退汇"),
        Row("Purp/Prtry", None, Constant(RETURN_KIND), "业务种类 退汇"),
        Row("Dbtr/Nm", f"RtrChain/Dbtr/{party}/Nm", Text(60), "付款人 (original creditor)"),
        Row("Dbtr/PstlAdr/AdrLine", f"RtrChain/Dbtr/{party}/PstlAdr/AdrLine", AddressLine(70),
            "付款人地址"),
        Row("Cdtr/Nm", f"RtrChain/Cdtr/{party}/Nm", Text(60), "收款人 (original debtor)"),
        Row("Cdtr/PstlAdr/AdrLine", f"RtrChain/Cdtr/{party}/PstlAdr/AdrLine", AddressLine(70),
            "收款人地址"),
        *_accounts("OrgnlTxRef/CdtrAcct", "OrgnlTxRef/DbtrAcct"),
        Row("DbtrAgt/BrnchId/Id", "RtrChain/DbtrAgt/FinInstnId/ClrSysMmbId", MEMBER, "付款行行号"),
        Row("CdtrAgt/BrnchId/Id", "RtrChain/CdtrAgt/FinInstnId/ClrSysMmbId", MEMBER, "收款行行号"),
        Row(f"{info}/OrgnlGrpHdr/OrgnlMsgId", "OrgnlGrpInf/OrgnlMsgId", Text(35), "原报文标识号"),
        Row(f"{info}/OrgnlGrpHdr/OrgnlMT", "OrgnlGrpInf/OrgnlMsgNmId", Text(35), "原报文类型"),
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
        Row("AddtlInf", "SplmtryData", Computed("carried; back: carried + /path:value items"),
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
        if row.iso is None or row.mirror:
            continue
        if isinstance(row.rule, Member) and row.beps and row.beps.endswith("BrnchId/Id"):
            agent = row.iso.rsplit("/FinInstnId/", 1)[0]
            rows.append(Row(row.beps, f"{agent}/BrnchId/Id", BANK, "agent branch id"))
            party = "Dbtr" if row.beps.startswith("Dbtr") else "Cdtr"
            if institution and not agent.startswith("RtrChain"):
                rows.append(Row(row.beps, f"{party}/FinInstnId/ClrSysMmbId", MEMBER,
                                "the institution itself"))
        elif row.beps and row.beps.endswith("Othr/Id") and row.rule is ACCOUNT:
            rows.append(Row(row.beps, row.iso.replace("/Othr/Id", "/IBAN"), ACCOUNT, "IBAN"))
        elif row.iso.startswith("RtrChain/") and "/Pty/" in row.iso:
            rows.append(Row(row.beps, row.iso.replace("/Pty/", "/Agt/FinInstnId/"), row.rule,
                            "party given as an agent"))
        elif row.iso.startswith("RtrChain/") and "/Agt/FinInstnId/" in row.iso:
            rows.append(Row(row.beps, row.iso.replace("/Agt/FinInstnId/", "/Pty/"), row.rule,
                            "agent given as a party"))
        elif row.beps and row.beps.endswith("RtrInf/Cntt"):
            rows.append(Row(row.beps, "RtrRsnInf[1]/Rsn/Cd", Code(TEXT_LIMIT), "reason code"))
            rows.append(Row(row.beps, "RtrRsnInf[1]/Rsn/Prtry", Code(TEXT_LIMIT), "reason"))
    return tuple(rows)


# fmt: on
# --------------------------------------------------------------------------- pairs


@dataclass(frozen=True)
class Pair:
    """One BEPS type and one unified type, with the table between their transactions."""

    beps: str
    beps_root: str
    detail: str
    iso: str
    iso_root: str
    tx: str
    total: str
    table: Table
    institution: bool
    issuer_required: bool
    default_codes: tuple[str, str]  # 业务类型, 业务种类 when the unified side has none
    is_return: bool = False
    fallbacks: Table = field(default=())

    def __post_init__(self) -> None:
        object.__setattr__(self, "fallbacks", _fallbacks(self.table, self.institution))

    @property
    def src(self) -> str:
        """The unified message element as loss entries show it (``/Document/…``)."""
        return f"/Document/{self.iso_root}"

    @property
    def tgt(self) -> str:
        """The BEPS message element as loss entries show it."""
        return f"/Document/{self.beps_root}"


PAIRS = {
    ("beps.121.001.01", "pacs.008.001.08"): Pair(
        "beps.121.001.01",
        "CstmrCdtTrf",
        "CstmrCdtTrfInf",
        "pacs.008.001.08",
        "FIToFICstmrCdtTrf",
        "CdtTrfTxInf",
        "TtlIntrBkSttlmAmt",
        CUSTOMER,
        institution=False,
        issuer_required=True,
        default_codes=("A100", "02102"),
    ),
    ("beps.122.001.01", "pacs.009.001.08"): Pair(
        "beps.122.001.01",
        "FinCdtTrf",
        "FinCdtTrfInf",
        "pacs.009.001.08",
        "FICdtTrf",
        "CdtTrfTxInf",
        "TtlIntrBkSttlmAmt",
        INSTITUTION,
        institution=True,
        issuer_required=False,
        default_codes=("A200", "02105"),
    ),
    ("beps.121.001.01", "pacs.004.001.09"): Pair(
        "beps.121.001.01",
        "CstmrCdtTrf",
        "CstmrCdtTrfInf",
        "pacs.004.001.09",
        "PmtRtr",
        "TxInf",
        "TtlRtrdIntrBkSttlmAmt",
        CUSTOMER_RETURN,
        institution=False,
        issuer_required=True,
        default_codes=("A100", "02102"),
        is_return=True,
    ),
    ("beps.122.001.01", "pacs.004.001.09"): Pair(
        "beps.122.001.01",
        "FinCdtTrf",
        "FinCdtTrfInf",
        "pacs.004.001.09",
        "PmtRtr",
        "TxInf",
        "TtlRtrdIntrBkSttlmAmt",
        INSTITUTION_RETURN,
        institution=True,
        issuer_required=False,
        default_codes=("A200", "02105"),
        is_return=True,
    ),
}


# --------------------------------------------------------------------------- helpers


def _peek(data: Any, path: str) -> Any:
    """The raw value at ``path`` (a repeatable element comes back as its whole list)."""
    head, _, last = path.rpartition("/")
    parent = get(data, head) if head else data
    return parent.get(last) if isinstance(parent, dict) else None


def _decimal(value: Any) -> Decimal | None:
    text = value.get("#text") if isinstance(value, dict) else value
    try:
        return Decimal(text) if isinstance(text, str) else None
    except InvalidOperation:
        return None


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
        total += _decimal(amount) or Decimal(0)
        currencies.add(amount.get("@Ccy", "") if isinstance(amount, dict) else "")
    return str(total), (currencies.pop() if len(currencies) == 1 else None)


def _spill(
    ctx: MappingContext,
    items: dict[str, str],
    text: str | None,
    src: str,
    tgt: str,
) -> str | None:
    """Append ``/path:value`` items to ``text`` while it stays ≤256; report every item."""
    name = tgt.rsplit("/", 1)[-1]
    for path, value in items.items():
        piece = f"/{path}:{value}"
        candidate = f"{text} {piece}" if text else piece
        if len(candidate) <= TEXT_LIMIT:
            text = candidate
            ctx.lose(
                f"{src}/{path}",
                "moved",
                f"BEPS has no element for it; appended to {name} as /path:value",
                value=value,
                target_path=tgt,
            )
        else:
            ctx.lose(
                f"{src}/{path}",
                "dropped",
                f"BEPS has no element for it and {name} ({TEXT_LIMIT} characters) is full",
                value=value,
            )
    return text


def _take_carried(node: dict[str, Any]) -> list[Carrier]:
    """Pop the CNAPS2 carriers from ``node["SplmtryData"]`` (of any CNAPS2 type)."""
    return take_carriers(node, lambda kind: True)


def _mapped(table: Table) -> tuple[str, ...]:
    """BEPS paths the rows fill from a unified field, which the forward edge always maps
    (never carries): a carried value there contradicts the unified message."""
    return tuple(
        row.beps
        for row in table
        if row.beps is not None
        and row.iso is not None
        and not isinstance(row.rule, (Computed, Constant, Only))
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
    :func:`~paymsg.convert.core.restore`; values carried for another CNAPS2 family are
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
        return any(path == p or path.startswith((p + "/", p + "[")) for p in paths)

    return stale


# --------------------------------------------------------------------------- BEPS → unified


def _forward(source: dict[str, Any], table: Table) -> tuple[dict[str, Any], dict[str, Any]]:
    """Run ``table`` BEPS → unified: the unified data and what no row took."""
    out: dict[str, Any] = {}
    consumed: list[str] = []
    for row in table:
        if isinstance(row.rule, Computed):
            continue
        if row.beps is None:
            assert isinstance(row.rule, Constant) and row.iso is not None
            put(out, row.iso, row.rule.value)
            continue
        value = _peek(source, row.beps)
        if value is None:
            continue
        if row.iso is None:
            assert isinstance(row.rule, Constant)
            if value == row.rule.value:
                consumed.append(row.beps)
            continue
        converted = row.rule.to_iso(value)
        if converted is not None:
            put(out, row.iso, converted)
            consumed.append(row.beps)
    left = copy.deepcopy(source)
    for path in consumed:
        take(left, path)
    return out, left


def _check_returns(details: list[dict[str, Any]], pair: Pair) -> None:
    extra = "CstmrCdtTrfAddtlInf" if not pair.institution else "FinCdtTrfAddtlInf"
    for index, detail in enumerate(details, start=1):
        kind = get(detail, "PmtTpInf/CtgyPurp/Prtry")
        if kind != RETURN_TYPE or get(detail, f"{extra}/RtrInf") is None:
            what = f"business type {kind}" if kind != RETURN_TYPE else f"no {extra}/RtrInf"
            raise ConversionError(
                f"{pair.beps} → {pair.iso} maps returns only (业务类型 {RETURN_TYPE} 退汇 with "
                f"RtrInf); {pair.detail}[{index}] (TxId {detail.get('TxId')}) has {what}",
                path=f"/Document/{pair.beps_root}/{pair.detail}[{index}]",
                hint=f"convert it to {_default_unified(pair.beps)} instead",
            )


def _default_unified(beps: str) -> str:
    return "pacs.008.001.08" if beps.startswith("beps.121") else "pacs.009.001.08"


def _to_unified(data: dict[str, Any], ctx: MappingContext, pair: Pair) -> dict[str, Any]:
    root = copy.deepcopy(data[pair.beps_root])
    details: list[dict[str, Any]] = root.pop(pair.detail, [])
    if pair.is_return:
        _check_returns(details, pair)
    transactions = []
    for detail in details:
        tx, left = _forward(detail, pair.table)
        extra = carry(flatten(left), pair.beps)
        if extra is not None:
            tx.setdefault("SplmtryData", []).append(extra)
        transactions.append(tx)

    out, left = _forward(root, GROUP)
    count = str(len(details))
    total, currency = _total(d.get("Amt") for d in details)
    put(out, "GrpHdr/NbOfTxs", count)
    put(out, "GrpHdr/CtrlSum", total)
    if currency:
        put(out, f"GrpHdr/{pair.total}", {"@Ccy": currency, "#text": total})
    _stated_totals(left, ctx, pair, count, total, currency)
    out[pair.tx] = transactions
    extra = carry(flatten(left), pair.beps)
    if extra is not None:
        out["SplmtryData"] = [extra]
    return {pair.iso_root: out}


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
    source, target = f"/Document/{pair.beps_root}/PKGGrpHdr", f"/Document/{pair.iso_root}/GrpHdr"
    stated = get(left, "PKGGrpHdr/NbOfTxs")
    if stated is not None and (not str(stated).isdigit() or int(stated) != int(count)):
        take(left, "PKGGrpHdr/NbOfTxs")
        ctx.lose(
            f"{source}/NbOfTxs",
            "defaulted",
            f"the package states {stated} transactions but has {count} details; the unified "
            f"header states {count}",
            value=stated,
            target_path=f"{target}/NbOfTxs",
        )
    elif stated == count:
        take(left, "PKGGrpHdr/NbOfTxs")
    stated_sum = _peek(left, "PKGGrpHdr/CtrlSum")
    if stated_sum is None:
        return
    if stated_sum == {"@Ccy": currency, "#text": total}:
        take(left, "PKGGrpHdr/CtrlSum")
        return
    amount = _decimal(stated_sum)
    stated_currency = stated_sum.get("@Ccy") if isinstance(stated_sum, dict) else None
    if amount is not None and amount == Decimal(total) and stated_currency == currency:
        return  # the same sum written another way: carried
    take(left, "PKGGrpHdr/CtrlSum")
    shown = (
        f"{stated_currency or ''} {stated_sum.get('#text')}".strip()
        if isinstance(stated_sum, dict)
        else str(stated_sum)
    )
    summed = f"{currency} {total}" if currency else total
    ctx.lose(
        f"{source}/CtrlSum",
        "defaulted",
        f"the package states a control sum of {shown} but its details sum to {summed}; the "
        f"unified header states {total}",
        value=shown,
        target_path=f"{target}/CtrlSum",
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
        constant = isinstance(row.rule, Constant) and row.beps is None and row.iso
        if constant and _peek(left, str(row.iso)) == getattr(row.rule, "value", None):
            take(left, str(row.iso))


def _take_rows(
    detail: _Detail, rows: Table, ctx: MappingContext, *, report: bool, only_empty: bool
) -> None:
    for row in rows:
        if row.beps is None or row.iso is None or isinstance(row.rule, Computed):
            continue
        if only_empty and _peek(detail.out, row.beps) is not None:
            continue
        value = _peek(detail.left, row.iso)
        if value is None:
            continue
        src, tgt = f"{detail.src}/{row.iso}", f"{detail.tgt}/{row.beps}"
        converted = row.rule.to_beps(value, ctx, src, tgt)
        if converted is None:
            continue
        take(detail.left, row.iso)
        put(detail.out, row.beps, converted)
        if report:  # every source field, unless the rule has reported it already
            seen = ctx.recorded
            for path, leaf in leaves(value, src).items():
                if loss_path(path) not in seen:
                    reason = f"BEPS has one place for it ({row.note})"
                    ctx.lose(path, "moved", reason, value=leaf, target_path=tgt)


def _compose_addresses(detail: _Detail, table: Table, ctx: MappingContext) -> None:
    """A structured ISO address with no ``AdrLine`` becomes the one BEPS address line."""
    for row in table:
        if not isinstance(row.rule, AddressLine) or row.beps is None or row.iso is None:
            continue
        if _peek(detail.out, row.beps) is not None:
            continue
        address_path = row.iso.rsplit("/", 1)[0]
        address = _peek(detail.left, address_path)
        if not isinstance(address, dict):
            continue
        texts = {k: v for k, v in address.items() if isinstance(v, str) and k != "AdrTp"}
        _, order = compose_address(texts)
        parts = [(name, texts[name]) for name in order]
        if not parts:
            continue
        tgt = f"{detail.tgt}/{row.beps}"
        for name, _ in parts:
            take(detail.left, f"{address_path}/{name}")
        pieces = [(f"{detail.src}/{address_path}/{name}", value) for name, value in parts]
        reason = "structured address part written into the one BEPS address line"
        text = _join(ctx, pieces, " ", row.rule.limit, tgt, reason, first_moved=True)
        put(detail.out, row.beps, text)


def _first_pass(
    tx: dict[str, Any], index: int, pair: Pair, ctx: MappingContext, detail_cls: type
) -> _Detail:
    detail = _Detail(
        {},
        copy.deepcopy(tx),
        f"{pair.src}/{pair.tx}[{index}]",
        f"{pair.tgt}/{pair.detail}[{index}]",
        {},
    )
    carriers = _take_carried(detail.left)
    main = tuple(row for row in pair.table if not row.mirror)
    mirrors = tuple(row for row in pair.table if row.mirror)
    _take_rows(detail, main, ctx, report=False, only_empty=False)
    _implied(detail.left, pair.table)
    _take_rows(detail, mirrors, ctx, report=False, only_empty=True)
    _take_rows(detail, pair.fallbacks, ctx, report=True, only_empty=True)
    detail.rest = _restore(
        detail.out,
        carriers,
        ctx,
        detail_cls,
        (detail.src, detail.tgt),
        _under(_mapped(pair.table)),
    )
    for row in pair.table:
        implied = isinstance(row.rule, Constant) and row.iso is None and row.beps
        if implied and _peek(detail.out, str(row.beps)) is None:
            put(detail.out, str(row.beps), getattr(row.rule, "value", None))
    _compose_addresses(detail, pair.table + pair.fallbacks, ctx)
    return detail


def _iso_path(pair: Pair, beps: str) -> str:
    for row in pair.table:
        if row.beps == beps and row.iso and not row.mirror:
            return row.iso
    return beps


def _default(
    detail: _Detail, pair: Pair, ctx: MappingContext, beps: str, value: str, reason: str
) -> None:
    if _peek(detail.out, beps) is not None:
        return
    put(detail.out, beps, value)
    ctx.lose(
        f"{detail.src}/{_iso_path(pair, beps)}",
        "defaulted",
        reason,
        value=value,
        target_path=f"{detail.tgt}/{beps}",
    )


def _second_pass(detail: _Detail, pair: Pair, ctx: MappingContext, package: dict[str, Any]) -> None:
    """Defaults for what BEPS requires, mirrors consumed, leftovers spilled into AddtlInf."""
    instructing = get(package, "PKGGrpHdr/InstgPty/InstgDrctPty") or NO_BANK
    instructed = get(package, "PKGGrpHdr/InstdPty/InstdDrctPty") or NO_BANK
    kind, category = pair.default_codes
    debtor_agent, creditor_agent = "DbtrAgt/BrnchId/Id", "CdtrAgt/BrnchId/Id"
    none = "the source has no value BEPS can use"
    if _peek(detail.out, "TxId") is None:
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
        if pair.issuer_required:
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
            pair.beps,
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
    for row in pair.table:  # a mirror that agrees with the BEPS value comes back as is
        if (
            row.mirror
            and row.beps
            and row.iso
            and _peek(detail.left, row.iso) == get(detail.out, row.beps)
        ):
            take(detail.left, row.iso)
    items = {**flatten(detail.left), **detail.rest}
    text = _spill(ctx, items, get(detail.out, "AddtlInf"), detail.src, f"{detail.tgt}/AddtlInf")
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
    codes = {_cnaps_member(_peek(detail.left, member_path)) for detail in details}
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
    iso = copy.deepcopy(data[pair.iso_root])
    transactions: list[dict[str, Any]] = iso.pop(pair.tx, [])
    if not transactions:
        raise ConversionError(f"{pair.iso} without {pair.tx}: a BEPS package needs a detail")
    root_cls = model_at(catalog().get(pair.beps).root_class, pair.beps_root)
    detail_cls = model_at(root_cls, pair.detail)
    carriers = _take_carried(iso)
    if pair.is_return:
        _group_original(iso, transactions, ctx, pair)

    package: dict[str, Any] = {}
    left = iso
    holder = _Detail(package, left, pair.src, pair.tgt, {})
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
                    f"{pair.src}/{iso_path}/FinInstnId/ClrSysMmbId",
                    "defaulted",
                    f"no CNAPS member id for the direct participant: {reason}",
                    value=value,
                    target_path=f"{pair.tgt}/{beps}",
                )
    if get(package, "PKGGrpHdr/MsgId") is None:
        value = _new_id(ctx, package)
        put(package, "PKGGrpHdr/MsgId", value)
        ctx.lose(
            f"{pair.src}/GrpHdr/MsgId",
            "defaulted",
            "a BEPS MsgId is the work date + an 8-digit sequence (id generator)",
            value=value,
            target_path=f"{pair.tgt}/PKGGrpHdr/MsgId",
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
        if path == "PKGGrpHdr/NbOfTxs":
            return not value.isdigit() or int(value) != int(count)
        if path == "PKGGrpHdr/CtrlSum/#text":
            return _decimal(value) != Decimal(total)
        if path == "PKGGrpHdr/CtrlSum/@Ccy":
            return value != CURRENCY
        return bool(mapped(path, value))

    rest = _restore(package, carriers, ctx, root_cls, (pair.src, pair.tgt), stale)
    if get(package, "PKGGrpHdr/NbOfTxs") is None:
        put(package, "PKGGrpHdr/NbOfTxs", count)
    if get(package, "PKGGrpHdr/CtrlSum") is None:
        put(package, "PKGGrpHdr/CtrlSum", {"@Ccy": CURRENCY, "#text": total})
    if get(package, "PKGGrpHdr/SysCd") is None:
        put(package, "PKGGrpHdr/SysCd", BEPS)
        ctx.lose(
            f"{pair.src}/GrpHdr/SttlmInf/ClrSys/Prtry",
            "defaulted",
            "the clearing system is not BEPS in the source; SysCd is BEPS",
            value=BEPS,
            target_path=f"{pair.tgt}/PKGGrpHdr/SysCd",
        )
    items = {**flatten(left), **rest}
    remark = _spill(
        ctx, items, get(package, "PKGGrpHdr/Rmk"), pair.src, f"{pair.tgt}/PKGGrpHdr/Rmk"
    )
    put(package, "PKGGrpHdr/Rmk", remark)
    package[pair.detail] = out_details
    return {pair.beps_root: package}


def _check_totals(
    left: dict[str, Any], ctx: MappingContext, pair: Pair, count: str, total: str
) -> None:
    """Consume the stated totals; a value that disagrees with the details is reported."""
    src = f"{pair.src}/GrpHdr"
    stated = take(left, "GrpHdr/NbOfTxs")
    if stated is not None and stated != count:
        ctx.lose(
            f"{src}/NbOfTxs",
            "dropped",
            f"the package has {count} details",
            value=stated,
            target_path=f"{pair.tgt}/PKGGrpHdr/NbOfTxs",
        )
    stated = take(left, "GrpHdr/CtrlSum")
    if stated is not None and _decimal(stated) != Decimal(total):
        ctx.lose(
            f"{src}/CtrlSum",
            "dropped",
            f"the details sum to {total}",
            value=stated,
            target_path=f"{pair.tgt}/PKGGrpHdr/CtrlSum",
        )
    stated = take(left, f"GrpHdr/{pair.total}")
    if isinstance(stated, dict):
        differs = {
            "#text": _decimal(stated) != Decimal(total),
            "@Ccy": stated.get("@Ccy") != CURRENCY,
        }
        for part, value in stated.items():
            if differs.get(part):
                ctx.lose(
                    f"{src}/{pair.total}/{part}",
                    "dropped",
                    f"the details sum to {CURRENCY} {total}",
                    value=value,
                    target_path=f"{pair.tgt}/PKGGrpHdr/CtrlSum",
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
            f"{pair.src}/OrgnlGrpInf/{name}",
            "moved",
            "BEPS names the original message in every detail",
            value=group[name],
            target_path=f"{pair.tgt}/{pair.detail}/{info}/OrgnlGrpHdr/{target[name]}",
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
