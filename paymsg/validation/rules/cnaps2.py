"""Rule pack ``cnaps2``: CNAPS2 header ⇄ body consistency and HVPS/BEPS/CCMS business rules.

Every fact used here comes from the reference ``cnaps2.md`` (section numbers in the
docstrings) with its confidence tag: ``[C2+]`` two or more public sources, ``[S1]`` one
source, ``[INF]`` our inference, ``[NF]`` not found. Rules that rest on ``[S1]``/``[INF]``
facts report warnings.

The business type (业务类型) and category (业务种类) codes are DATA, not code: the shipped
table is ``paymsg/reference/data/cnaps2-codes.toml``; :func:`load_code_table` also reads
NPC's own table, a ccms.906.001.01 message (业务种类与类型管理报文), which replaces the shipped
one when ``ValidationConfig.cnaps2_code_table`` points at it.

Header findings (a problem inside the ``{H:}`` block itself) use the path
``{H:}/<FieldName>`` and line 1, the header being the first line of the transport text.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from functools import lru_cache
from pathlib import Path
from typing import TypeAlias

from lxml import etree

from paymsg.codec.envelope.cnaps2 import looks_like_cnaps2, split_envelope
from paymsg.codec.xml import safe as xmlsafe
from paymsg.codec.xml.safe import parse_xml
from paymsg.errors import ConfigError, PaymsgError
from paymsg.reference.cnaps2 import (
    BANK_CODE,
    MSG_ID,
    NPC,
    NPC_STATUSES,
    PRIORITY_BY_SETTLEMENT,
    TAG_LINE,
    parse_summary_amount,
    summary_amount_problem,
)
from paymsg.reference.codes import (
    CodeEntry,
    CodeTable,
    Confidence,
    RemittanceTag,
    message_key,
    shipped_code_table,
    table_from_toml,
)
from paymsg.schema.catalog import catalog
from paymsg.schema.layout import CLEARING_MEMBER
from paymsg.validation.findings import Finding, Severity
from paymsg.validation.registry import Findings, RuleContext, rule

__all__ = ["load_code_table"]

Element: TypeAlias = etree._Element


# the NPC (0000, §2.2), the 12-digit bank code (§2.3), the MsgId shape (§2.4), header
# priority ⇄ settlement priority (§3.2) and the "/XNN/value" remittance line (§8.6) are
# shared CNAPS2 facts: see paymsg.reference.cnaps2
#: amounts written as text with their currency (AmountText, SummaryAmountText; §4.3 [C2+])
TEXT_AMOUNT = re.compile(r"([A-Z]{3})[+-]?[0-9]+(\.[0-9]+)?")
TEXT_AMOUNT_ELEMENTS = frozenset(
    {
        "Bal",
        "TtlAmt",
        "DrftAmt",
        "SttlmAmt",
        "OddAmt",
        "SndgCtrlSum",
        "RcvgCtrlSum",
        "SndTtlAmt",
        "RcvTtlAmt",
        "DbtrAmt",
        "CdtrAmt",
        "AmtUpperLmt",
    }
)

HVPS_CREDIT = frozenset({"hvps.111.001.01", "hvps.112.001.01"})
BEPS_CREDIT = frozenset({"beps.121.001.01", "beps.122.001.01"})
#: ccms.990 / ccms.911: the body names the confirmed (or dropped) message, not its own parties
CONFIRMATION_INFO = {"ComConf": "ConfInf", "DscrdMsgNtfctn": "DscrdInf"}


def _name(element: Element) -> str:
    tag = element.tag
    return tag.rpartition("}")[2] if isinstance(tag, str) else ""


def _elements(root: Element | None) -> Iterator[Element]:
    """Every element below ``root`` (comments and processing instructions skipped)."""
    if root is None:
        return
    for element in root.iter():
        if isinstance(element.tag, str):
            yield element


#: element names that can hold a bank code (the rule then checks the element's place); a
#: branch id is found through its BrnchId, as every account and party has an ``Id`` too
BANK_CODE_CANDIDATES = (
    "InstgDrctPty", "InstdDrctPty", "OrgnlInstgPty", "OrigSndr", "InstgPty", "InstdPty",
    "InstgIndrctPty", "InstdIndrctPty", "BrnchId", "MmbId", "Issr",
)  # fmt: skip


_WITH_CCY = etree.XPath(".//*[@Ccy]")


def _tagged(
    root: Element | None, names: Iterable[str], *, with_ccy: bool = False
) -> Iterator[Element]:
    """Elements below ``root`` with one of ``names`` (any namespace), in document order;
    with ``with_ccy``, also every element carrying a ``Ccy`` attribute. Filtering happens
    in lxml, so rules do not visit every element of a large package in Python."""
    if root is None:
        return
    tags = [f"{{*}}{name}" for name in names]
    if not with_ccy:
        yield from root.iter(*tags)
        return
    # two C-level passes (an attribute test, then a tag match) beat one XPath that tests
    # every element's local name against every candidate name
    yield from _WITH_CCY(root)
    yield from (e for e in root.iter(*tags) if e.get("Ccy") is None)


def _header_finding(
    ctx: RuleContext,
    field_name: str,
    message: str,
    message_zh: str,
    *,
    value: str | None = None,
    severity: Severity | None = None,
) -> Finding:
    """A finding about a field of the ``{H:}`` header (path ``{H:}/<field>``, line 1)."""
    found = ctx.finding(f"{{H:}}/{field_name}", message, message_zh, value=value, severity=severity)
    return found.model_copy(update={"line": 1})


# =============================================================================== code tables


def _child_text(element: Element, path: str) -> str | None:
    return xmlsafe.text(element, path) or None


def _from_ccms906(raw: bytes, source: str) -> CodeTable:
    """A table from NPC's ccms.906.001.01 业务种类与类型管理报文 (Appendix A).

    Each ``ChngInf`` names a message type (MT), a business type (TxTpCd, TxTpNm) and
    optionally a category (CtgyPurpCd, CtgyPurpNm). ChngTp ``CC02`` is read as a deletion,
    ``CC00``/``CC01`` as addition/change ([INF]: the code meanings are not public). The
    effective dates (FctvTp/FctvDt/IfctvDt) are not evaluated ([NF] semantics).
    """
    if looks_like_cnaps2(raw):
        try:
            _, offset = split_envelope(raw)
        except PaymsgError as exc:
            raise ConfigError(f"the ccms.906 message is unreadable: {exc}", source=source) from None
        raw = raw[offset:]
    try:
        root = parse_xml(raw, source=source)
    except PaymsgError as exc:
        raise ConfigError(f"the ccms.906 message is unreadable: {exc}", source=source) from None
    message = next((c for c in root if isinstance(c.tag, str)), None)
    if message is None or _name(message) != "BizClssTpMgmt":
        found = _name(message) if message is not None else _name(root)
        raise ConfigError(
            f"not a ccms.906.001.01 message (业务种类与类型管理报文): found <{found}>, "
            "expected <Document><BizClssTpMgmt>",
            source=source,
            hint="give a ccms.906 body or a TOML file in the layout of cnaps2-codes.toml",
        )
    business_types: dict[str, CodeEntry] = {}
    categories: dict[str, CodeEntry] = {}
    usage: dict[str, dict[str, Confidence]] = {}
    combinations: dict[str, dict[str | None, dict[str, Confidence]]] = {}
    for change in xmlsafe.findall(message, "ChngInf"):
        mt = _child_text(change, "MT")
        business_type = _child_text(change, "TxTpCd")
        category = _child_text(change, "CtgyPurpCd")
        if mt is None or business_type is None:
            continue
        key = message_key(mt)
        if _child_text(change, "ChngCtrl/ChngTp") == "CC02":
            per_message = combinations.get(business_type, {})
            if category is None:
                usage.get(business_type, {}).pop(key, None)
                per_message.pop(key, None)
            else:
                per_message.get(key, {}).pop(category, None)
                if key in per_message and not per_message[key]:
                    del per_message[key]
            continue
        business_types[business_type] = CodeEntry(
            code=business_type, zh=_child_text(change, "TxTpNm") or "", confidence="NPC"
        )
        usage.setdefault(business_type, {})[key] = "NPC"
        if category is not None:
            categories[category] = CodeEntry(
                code=category, zh=_child_text(change, "CtgyPurpNm") or "", confidence="NPC"
            )
            combinations.setdefault(business_type, {}).setdefault(key, {})[category] = "NPC"
    if not business_types:
        raise ConfigError(
            "the ccms.906 message lists no business type (ChngInf/TxTpCd)", source=source
        )
    return CodeTable(
        source=source,
        authoritative=True,
        business_types=business_types,
        categories=categories,
        usage=usage,
        combinations=combinations,
    )


@lru_cache(maxsize=32)
def _load_cached(path: str, mtime_ns: int, size: int) -> CodeTable:
    raw = Path(path).read_bytes()
    start = raw.lstrip(b"\xef\xbb\xbf \t\r\n")
    if looks_like_cnaps2(raw) or start.startswith(b"<"):
        return _from_ccms906(raw, path)
    return table_from_toml(raw, path)


def load_code_table(path: str | os.PathLike[str]) -> CodeTable:
    """Load a CNAPS2 code table: our TOML layout or a ccms.906.001.01 message.

    A ccms.906 body (optionally with its ``{H:}`` header) gives an *authoritative* table —
    rules then report errors instead of warnings. Tables are cached per path and reloaded
    when the file changes. Raises :class:`~paymsg.errors.ConfigError` for an unreadable file.
    """
    target = Path(path).expanduser()
    try:
        stat = target.stat()
        resolved = str(target.resolve())
        if not target.is_file():
            raise IsADirectoryError(f"{target} is not a file")
    except OSError as exc:
        raise ConfigError(f"cannot read the CNAPS2 code table: {exc}", source=str(target)) from None
    return _load_cached(resolved, stat.st_mtime_ns, stat.st_size)


def _active_table(ctx: RuleContext) -> CodeTable:
    """The table of this validation: a configured file (checked for changes once per
    validation), else the shipped one."""
    path = ctx.config.cnaps2_code_table
    if path is None:
        return shipped_code_table()
    table: CodeTable = ctx.memo("cnaps2.code-table", lambda: load_code_table(path))
    return table


def _table_error(ctx: RuleContext, exc: PaymsgError) -> Finding:
    return ctx.finding(
        None,
        f"the CNAPS2 code table could not be loaded: {exc}",
        f"无法加载 CNAPS2 代码表：{exc}",
        value=str(ctx.config.cnaps2_code_table),
        severity="error",
    )


# =============================================================================== body helpers


def _direct_parties(ctx: RuleContext) -> tuple[Element | None, Element | None]:
    """The body's instructing and instructed direct participants (§2.2, §6.1), else the
    clearing member ids of the instructing and instructed agents (ISO bodies)."""
    parties = ctx.layout.parties
    instructing = ctx.first(parties.instructing)
    instructed = ctx.first(parties.instructed)
    if instructing is not None or instructed is not None:
        return instructing, instructed
    return (
        ctx.first(parties.instructing_agent, CLEARING_MEMBER),
        ctx.first(parties.instructed_agent, CLEARING_MEMBER),
    )


# =============================================================================== header ⇄ body


@rule(
    "cnaps2.header.mesg-type",
    pack="cnaps2",
    title="Header MesgType names the type of the body",
    title_zh="报文头报文类型代码与报文体一致",
)
def header_mesg_type(ctx: RuleContext) -> Findings:
    """The ``{H:}`` MesgType (报文类型代码) decides how the body is read: hvps.111 carries an
    ISO pacs.008.001.02 body, so the body namespace alone cannot tell the type (§3.2, §4.1,
    [C2+]). The engine already refuses a body in the wrong namespace; this rule also checks
    that the message element under ``Document`` is the one of the header's type, and that a
    type forced by the caller agrees with the header. Runs only on transport text with a
    header."""
    header = ctx.cnaps_header
    if header is None:
        return
    message = ctx.message
    anchor = message if message is not None else ctx.document
    if header.mesg_type != ctx.type.id:
        yield ctx.finding(
            anchor,
            f"the header MesgType is {header.mesg_type}, but the message is validated as "
            f"{ctx.type.id}",
            f"报文头报文类型代码为 {header.mesg_type}，但报文按 {ctx.type.id} 校验",
            value=header.mesg_type,
        )
    expected = ctx.type.element
    if message is not None and expected and _name(message) != expected:
        yield ctx.finding(
            message,
            f"a {ctx.type.id} body has the message element <{expected}>, not <{_name(message)}>",
            f"{ctx.type.id} 报文体的报文元素应为 <{expected}>，实际为 <{_name(message)}>",
            value=_name(message),
        )


@rule(
    "cnaps2.header.participants",
    pack="cnaps2",
    title="Header sender/receiver are the body's instructing/instructed direct participants",
    title_zh="报文头发起人/接收人与报文体发起/接收直接参与机构一致",
    standard="cnaps2",
)
def header_participants(ctx: RuleContext) -> Findings:
    """The header OrigSender / OrigReceiver carry the sending / receiving direct participant
    (§2.2, §3.2, [C2+]): in every sample — bank to NPC and NPC-forwarded alike — they equal
    the body's instructing / instructed direct participant: ``InstgDrctPty`` /
    ``InstdDrctPty`` of GrpHdr or PKGGrpHdr, and for ISO bodies (hvps.111/112) ``InstgAgt`` /
    ``InstdAgt`` ``FinInstnId/ClrSysMmbId/MmbId`` of the transaction (or group header). A
    message the NPC forwards keeps the originating bank as sender with direction D (§3.3), so
    the comparison does not depend on the direction. NPC messages name ``0000`` on both
    sides. Not checked: the receiver of a broadcast (body ``InstdDrctPty`` all zeros, [S1]:
    the NPC addresses each copy to one bank), and ccms.990/911, whose bodies name the
    confirmed message instead (rule cnaps2.header.confirmed-message)."""
    header = ctx.cnaps_header
    if header is None or ctx.message is None:
        return
    if _name(ctx.message) in CONFIRMATION_INFO:
        return
    instructing, instructed = _direct_parties(ctx)
    sender = ctx.text(instructing)
    if instructing is not None and sender and sender != header.orig_sender:
        yield ctx.finding(
            instructing,
            f"the header OrigSender is {header.orig_sender}, but the body's instructing direct "
            f"participant is {sender}",
            f"报文头报文发起人为 {header.orig_sender}，但报文体发起直接参与机构为 {sender}",
            value=sender,
        )
    receiver = ctx.text(instructed)
    broadcast = receiver is not None and receiver.strip("0") == "" and len(receiver) == 12
    if instructed is not None and receiver and not broadcast and receiver != header.orig_receiver:
        yield ctx.finding(
            instructed,
            f"the header OrigReceiver is {header.orig_receiver}, but the body's instructed "
            f"direct participant is {receiver}",
            f"报文头报文接收人为 {header.orig_receiver}，但报文体接收直接参与机构为 {receiver}",
            value=receiver,
        )


@rule(
    "cnaps2.header.confirmed-message",
    pack="cnaps2",
    severity="warning",
    title="ccms.990/911 travel between the confirmed message's receiver and its sender",
    title_zh="ccms.990/911 的收发方与被确认报文的收发方相符",
    types={"ccms.990.001.02", "ccms.911.001.02"},
)
def header_confirmed_message(ctx: RuleContext) -> Findings:
    """ccms.990 (通信级确认) and ccms.911 (报文丢弃通知) do not name their own parties: their
    ``OrigSndr`` is the header sender of the message they confirm or drop (§6.6, §6.8, [C2+]).
    A 990 comes from the node that received that message (§5.5, [C2+]), so its sender cannot
    be that message's sender; when the NPC (0000) sends it, it goes back to that sender. A
    911 comes from the NPC (§5.5, [C2+]) and goes to the sender of the dropped message. The
    pairing of parties is our inference [INF] (a message the NPC forwards keeps the
    originating bank as sender, so a bank's 990 for it goes to the NPC, not to that bank),
    hence warnings."""
    header = ctx.cnaps_header
    message = ctx.message
    if header is None or message is None:
        return
    info_name = CONFIRMATION_INFO.get(_name(message))
    origin = ctx.find(message, f"{info_name}/OrigSndr") if info_name else None
    original_sender = ctx.text(origin)
    if origin is None or not original_sender:
        return
    if info_name == "ConfInf":
        if header.orig_sender == original_sender:
            yield ctx.finding(
                origin,
                f"a ccms.990 is sent by the receiver of the confirmed message, but its header "
                f"OrigSender {header.orig_sender} is the confirmed message's sender",
                f"ccms.990 应由被确认报文的接收方发出，但报文头发起人 {header.orig_sender} "
                "是被确认报文的发起人",
                value=original_sender,
            )
        elif header.orig_sender == NPC and header.orig_receiver != original_sender:
            yield ctx.finding(
                origin,
                f"the NPC's ccms.990 goes back to the sender of the confirmed message "
                f"({original_sender}), but the header OrigReceiver is {header.orig_receiver}",
                f"人民银行清算中心的 ccms.990 应发给被确认报文的发起人（{original_sender}），"
                f"但报文头接收人为 {header.orig_receiver}",
                value=original_sender,
            )
        return
    if header.orig_sender != NPC:
        yield _header_finding(
            ctx,
            "OrigSender",
            f"ccms.911 is sent by the NPC (0000), not by {header.orig_sender}",
            f"ccms.911 由人民银行清算中心（0000）发出，而非 {header.orig_sender}",
            value=header.orig_sender,
        )
    if header.orig_receiver != original_sender:
        yield ctx.finding(
            origin,
            f"ccms.911 goes to the sender of the dropped message ({original_sender}), but the "
            f"header OrigReceiver is {header.orig_receiver}",
            f"ccms.911 应发给被丢弃报文的发起人（{original_sender}），但报文头接收人为 "
            f"{header.orig_receiver}",
            value=original_sender,
        )


@rule(
    "cnaps2.header.system",
    pack="cnaps2",
    title="Header system codes match the body's system",
    title_zh="报文头系统号与报文体系统编号一致",
    standard="cnaps2",
)
def header_system(ctx: RuleContext) -> Findings:
    """OrigSenderSID / OrigReceiverSID carry the system of the message (§3.2, [C2+]); a CCMS
    message used for HVPS carries HVPS, one used for BEPS carries BEPS (P-CCX), i.e. the
    header system equals the body's ``SysCd`` (GrpHdr or PKGGrpHdr). ISO bodies have no
    SysCd: hvps.* and beps.* types must then carry their own system (HVPS / BEPS). ccms.990 /
    911 bodies have no SysCd and are not checked."""
    header = ctx.cnaps_header
    if header is None or ctx.message is None:
        return
    system_el = ctx.first(ctx.layout.parties.system_code)
    expected = ctx.text(system_el)
    anchor: Element = system_el if system_el is not None else ctx.message
    if expected is None:
        if ctx.type.family not in ("hvps", "beps") or not ctx.type.system:
            return
        expected = ctx.type.system
    for field_name, actual in (
        ("OrigSenderSID", header.orig_sender_sid),
        ("OrigReceiverSID", header.orig_receiver_sid),
    ):
        if actual != expected:
            source = "SysCd" if system_el is not None else f"a {ctx.type.id} message"
            yield ctx.finding(
                anchor,
                f"the header {field_name} is {actual}, but {source} is {expected}",
                f"报文头{'发送' if field_name == 'OrigSenderSID' else '接收'}系统号为 {actual}，"
                f"但报文体系统编号为 {expected}",
                value=expected,
            )


@rule(
    "cnaps2.header.priority",
    pack="cnaps2",
    title="Header priority matches the settlement priority (hvps.111/112)",
    title_zh="报文头优先级与业务优先级一致（hvps.111/112）",
    types=HVPS_CREDIT,
)
def header_priority(ctx: RuleContext) -> Findings:
    """For hvps.111/112 the header MesgPriority follows the body's ``SttlmPrty``: URGT
    (特急) → 1, HIGH (紧急) → 2, NORM (普通) → 3 (§3.2, [C2+]: FIB mapping and a sample with
    priority 1 and URGT). The NPC queues by the header, so a mismatch changes how the payment
    is settled. A body without SttlmPrty is not checked."""
    header = ctx.cnaps_header
    if header is None:
        return
    priority_el = ctx.first(ctx.layout.parties.settlement_priority)
    priority = ctx.text(priority_el)
    expected = PRIORITY_BY_SETTLEMENT.get(priority or "")
    if priority_el is None or expected is None or header.mesg_priority == expected:
        return
    yield ctx.finding(
        priority_el,
        f"SttlmPrty {priority} means header priority {expected}, but the header MesgPriority "
        f"is {header.mesg_priority}",
        f"业务优先级 {priority} 对应报文头优先级 {expected}，但报文头报文优先级为 "
        f"{header.mesg_priority}",
        value=priority,
    )


@rule(
    "cnaps2.header.direction",
    pack="cnaps2",
    title="Header direction agrees with who sends the message",
    title_zh="报文头传输方向与发送方一致",
    standard="cnaps2",
)
def header_direction(ctx: RuleContext) -> Findings:
    """MesgDirection is ``U`` for a message sent by a participant (upwards, to the NPC) and
    ``D`` for one sent by the NPC (§3.2, [C2+]). So a header whose sender is the NPC (0000)
    must say D, one addressed to the NPC must say U, and a body carrying ``NPCPrcInf`` —
    present only when the NPC has processed and forwards the message (§6.3, [C2+]; both
    NPC-forwarded samples say D, §3.3) — must say D. An NPC-forwarded message keeps the
    originating bank as sender, so a bank sender with D is fine."""
    header = ctx.cnaps_header
    if header is None:
        return
    direction = header.mesg_direction
    if header.orig_sender == NPC and direction != "D":
        yield _header_finding(
            ctx,
            "MesgDirection",
            f"the header sender is the NPC (0000), so MesgDirection must be D, not {direction}",
            f"报文头发起人为人民银行清算中心（0000），报文传输方向应为 D，而非 {direction}",
            value=direction,
        )
    elif header.orig_receiver == NPC and direction != "U":
        yield _header_finding(
            ctx,
            "MesgDirection",
            f"the message is addressed to the NPC (0000), so MesgDirection must be U, not "
            f"{direction}",
            f"报文接收人为人民银行清算中心（0000），报文传输方向应为 U，而非 {direction}",
            value=direction,
        )
    npc_info = ctx.find(ctx.message, "NPCPrcInf")
    if npc_info is not None and direction != "D":
        yield ctx.finding(
            npc_info,
            "the body carries NPCPrcInf, i.e. the NPC has processed and forwards it, so the "
            f"header MesgDirection must be D, not {direction}",
            f"报文体含 NPC处理信息（由人民银行清算中心处理后转发），报文头传输方向应为 D，而非 "
            f"{direction}",
            value=direction,
        )


# =============================================================================== identifiers


_PARTY_NAMES = frozenset({"InstgDrctPty", "InstdDrctPty", "OrgnlInstgPty", "OrigSndr"})
_INDIRECT_NAMES = frozenset({"InstgIndrctPty", "InstdIndrctPty"})


def _bank_code_kind(element: Element, iso_body: bool) -> str | None:
    """``"party"`` (12 digits or 0000), ``"bank"`` (12 digits) or None (not a bank code)."""
    name = _name(element)
    if name in _PARTY_NAMES:
        return "party"
    if name in _INDIRECT_NAMES:
        return "bank"
    if name in ("InstgPty", "InstdPty"):
        return "party" if len(element) == 0 else None
    parent = element.getparent()
    parent_name = _name(parent) if parent is not None else ""
    if name == "MmbId" and parent_name == "ClrSysMmbId":
        agents = {_name(a) for a in element.iterancestors()}
        return "party" if agents & {"InstgAgt", "InstdAgt"} else "bank"
    if name == "Issr" and parent_name == "Othr" and not iso_body:
        account = parent.getparent() if parent is not None else None
        holder = account.getparent() if account is not None else None
        if holder is not None and _name(holder) in ("DbtrAcct", "CdtrAcct"):
            return "bank"
    return None


@rule(
    "cnaps2.bank-code.format",
    pack="cnaps2",
    title="Bank codes are 12 digits (0000 for the NPC where a participant is named)",
    title_zh="行号为 12 位数字（参与机构字段可为清算中心 0000）",
    standard="cnaps2",
)
def bank_code_format(ctx: RuleContext) -> Findings:
    """A CNAPS bank code (行号) is 12 digits: bank category 3 + city 4 + bank 4 + check digit
    1 (§2.3, [C2+]), while the XSD types allow up to 14 characters. Checked: header
    OrigSender/OrigReceiver; direct/indirect participants (InstgDrctPty, InstdDrctPty,
    InstgPty, InstdPty, OrgnlInstgPty, InstgIndrctPty, InstdIndrctPty); ccms.990/911
    OrigSndr; branch ids (BrnchId/Id); account issuers of CNAPS-native bodies
    (DbtrAcct/CdtrAcct …/Othr/Issr); ``ClrSysMmbId/MmbId`` in ISO bodies. The NPC is
    ``0000`` (§2.2, [C2+]) and is accepted where a participant is named (not for branches,
    issuers and indirect participants). The check digit algorithm is not public [NF] and is
    not verified."""
    header = ctx.cnaps_header
    if header is not None:
        for field_name, value in (
            ("OrigSender", header.orig_sender),
            ("OrigReceiver", header.orig_receiver),
        ):
            if value != NPC and not BANK_CODE.fullmatch(value):
                yield _header_finding(
                    ctx,
                    field_name,
                    f"the header {field_name} {value!r} is neither a 12-digit bank code nor "
                    "0000 (NPC)",
                    f"报文头{'报文发起人' if field_name == 'OrigSender' else '报文接收人'} "
                    f"{value!r} 既不是 12 位行号，也不是清算中心 0000",
                    value=value,
                )
    iso_body = ctx.type.body is not None
    for candidate in _tagged(ctx.message, BANK_CODE_CANDIDATES):
        element: Element | None = candidate
        kind: str | None
        if _name(candidate) == "BrnchId":
            element, kind = ctx.find(candidate, "Id"), "bank"
        else:
            kind = _bank_code_kind(candidate, iso_body)
        if element is None or kind is None:
            continue
        code = ctx.text(element)
        if code is None or BANK_CODE.fullmatch(code) or (kind == "party" and code == NPC):
            continue
        name = _name(element)
        if kind == "party":
            en, zh = "a 12-digit bank code or 0000 (NPC)", "12 位行号或清算中心 0000"
        else:
            en, zh = "a 12-digit bank code", "12 位行号"
        yield ctx.finding(
            element,
            f"{name} {code!r} must be {en}",
            f"{name} {code!r} 应为{zh}",
            value=code,
        )


def _msg_id_elements(ctx: RuleContext) -> Iterator[Element]:
    for element in _tagged(ctx.message, ("MsgId", "OrgnlMsgId")):
        name = _name(element)
        parent = element.getparent()
        in_header = parent is not None and _name(parent) in ("GrpHdr", "PKGGrpHdr")
        if (name == "MsgId" and in_header) or name == "OrgnlMsgId":
            yield element


@rule(
    "cnaps2.msgid.format",
    pack="cnaps2",
    title="MsgId is an 8-digit work date and an 8-digit sequence",
    title_zh="报文标识号为 8 位工作日期加 8 位序号",
    standard="cnaps2",
)
def msg_id_format(ctx: RuleContext) -> Findings:
    """GrpHdr/MsgId (报文标识号) is 16 digits: the 8-digit current work date yyyyMMdd and an
    8-digit sequence (§2.4, [C2+]: five samples, FX builds ``%08d%08d``, P-CCX derives
    委托日期 and 序号 from it), although the type allows 35 characters. The date must be a
    real date. Checked on GrpHdr/PKGGrpHdr MsgId and on every OrgnlMsgId (which names
    another CNAPS2 message). Not on ccms.990/911 MsgId, which is the 20-character header
    MesgID of the confirmed message (§6.6)."""
    for element in _msg_id_elements(ctx):
        value = ctx.text(element)
        if value is None:
            continue
        match = MSG_ID.fullmatch(value)
        problem_en = problem_zh = ""
        if match is None:
            problem_en = "is not 16 digits (8-digit work date + 8-digit sequence)"
            problem_zh = "不是 16 位数字（8 位工作日期 + 8 位序号）"
        else:
            day = match.group(1)
            try:
                date(int(day[:4]), int(day[4:6]), int(day[6:]))
            except ValueError:
                problem_en = f"starts with {day}, which is not a real date (yyyyMMdd)"
                problem_zh = f"前 8 位 {day} 不是有效日期（yyyyMMdd）"
        if problem_en:
            name = _name(element)
            yield ctx.finding(
                element,
                f"{name} {value!r} {problem_en}",
                f"{name} {value!r} {problem_zh}",
                value=value,
            )


# =============================================================================== amounts


def _beyond_cents(amount: Decimal | None) -> bool:
    """Whether ``amount`` has a non-zero digit below the fen (0.01)."""
    if amount is None or not amount.is_finite():
        return False
    exponent = amount.normalize().as_tuple().exponent
    return isinstance(exponent, int) and exponent < -2


@rule(
    "cnaps2.amount.cny",
    pack="cnaps2",
    title="Amounts are in CNY with at most 2 decimals",
    title_zh="金额币种为人民币且最多两位小数",
    standard="cnaps2",
)
def amount_cny(ctx: RuleContext) -> Findings:
    """HVPS and BEPS clear renminbi: every amount in the samples is CNY with 2 decimals (§4.3,
    [C2+]), while the XSD amount type allows any 3-letter currency and 5 decimals. Checked on
    every element with a ``Ccy`` attribute (ISO bodies included), on ISO GrpHdr/CtrlSum, and
    on the currency of text amounts (``CNY100.00``, ``CNY+100.00``; their 2 decimals are
    fixed by the XSD pattern). A value with more than 2 decimals is reported unless the extra
    digits are zeros."""
    for element in _tagged(ctx.message, TEXT_AMOUNT_ELEMENTS | {"CtrlSum"}, with_ccy=True):
        currency = element.get("Ccy")
        name = _name(element)
        if currency is not None:
            if currency != "CNY":
                yield ctx.finding(
                    element,
                    f"{name} is in {currency}; CNAPS2 amounts are in CNY",
                    f"{name} 币种为 {currency}；CNAPS2 金额币种应为 CNY",
                    value=currency,
                )
        elif name in TEXT_AMOUNT_ELEMENTS and len(element) == 0:
            text = ctx.text(element) or ""
            match = TEXT_AMOUNT.fullmatch(text)
            if match is not None and match.group(1) != "CNY":
                yield ctx.finding(
                    element,
                    f"{name} {text} is in {match.group(1)}; CNAPS2 amounts are in CNY",
                    f"{name} {text} 币种为 {match.group(1)}；CNAPS2 金额币种应为 CNY",
                    value=text,
                )
            continue
        elif name != "CtrlSum":
            continue
        if _beyond_cents(ctx.decimal(element)):
            yield ctx.finding(
                element,
                f"{name} {element.text} has more than 2 decimals (CNY fen)",
                f"{name} {element.text} 超过两位小数（人民币最小单位为分）",
                value=(element.text or "").strip(),
            )


# =============================================================================== HVPS


@rule(
    "cnaps2.hvps.single-transaction",
    pack="cnaps2",
    title="An HVPS payment carries exactly one transaction and NbOfTxs = 1",
    title_zh="大额支付报文只含一笔业务且 NbOfTxs 为 1",
    types=HVPS_CREDIT,
)
def hvps_single_transaction(ctx: RuleContext) -> Findings:
    """HVPS settles item by item: hvps.111/112 carry exactly one CdtTrfTxInf and GrpHdr/NbOfTxs
    is fixed to 1 (§9, [C2+]: P-HV14 "固定填写1" and all samples)."""
    message = ctx.message
    if message is None:
        return
    transactions = ctx.transactions()
    if len(transactions) > 1:
        yield ctx.finding(
            transactions[1],
            f"an HVPS payment carries exactly one transaction, this one has {len(transactions)}",
            f"大额支付报文只能包含一笔业务，本报文有 {len(transactions)} 笔",
            value=str(len(transactions)),
        )
    count_el = ctx.find(message, "GrpHdr/NbOfTxs")
    count = ctx.text(count_el)
    if count_el is not None and count is not None and count != "1":
        yield ctx.finding(
            count_el,
            f"GrpHdr/NbOfTxs is {count}; HVPS fixes it to 1",
            f"GrpHdr/NbOfTxs 为 {count}；大额支付报文固定填写 1",
            value=count,
        )


@rule(
    "cnaps2.hvps.settlement-method",
    pack="cnaps2",
    title="HVPS settlement method is CLRG",
    title_zh="大额支付结算方式为 CLRG",
    types=HVPS_CREDIT,
)
def hvps_settlement_method(ctx: RuleContext) -> Findings:
    """hvps.111/112 settle through the clearing system: GrpHdr/SttlmInf/SttlmMtd is fixed to
    CLRG (§9, [C2+]: P-HV14 "固定填写CLRG" and all samples); the ISO code list would also
    allow INDA/INGA/COVE."""
    method_el = ctx.find(ctx.message, "GrpHdr/SttlmInf/SttlmMtd")
    method = ctx.text(method_el)
    if method_el is not None and method is not None and method != "CLRG":
        yield ctx.finding(
            method_el,
            f"SttlmMtd is {method}; HVPS messages settle with CLRG",
            f"结算方式为 {method}；大额支付报文固定填写 CLRG",
            value=method,
        )


# =============================================================================== BEPS


@rule(
    "cnaps2.beps.single-item-limit",
    pack="cnaps2",
    severity="warning",
    title="BEPS ordinary credit details stay within the single-item limit",
    title_zh="小额普通贷记单笔金额不超过上限",
    types=BEPS_CREDIT,
)
def beps_single_item_limit(ctx: RuleContext) -> Findings:
    """BEPS 普通贷记 (ordinary credit, beps.121 customer / beps.122 FI-initiated) has a
    single-item limit, commonly stated as 5万元 inclusive (§9, [C2+] P-LIM; configurable as
    ``ValidationConfig.beps_single_item_limit``). Applies to every detail of beps.121/122
    whose 业务类型 is of class A (普通贷记) or absent — the class-by-first-letter grouping is
    [INF]. Warning only: real limits are NPC parameters pushed per message type, business
    type and bank pair by ccms.926 [INF], a first-generation source states 2万元 [S1], and a
    2021 NPC-forwarded beps.121 sample (A100) carries 120,000.00 [S1]. Real-time credit and
    debit (beps.123/131) have no limit [S1] and are not checked."""
    limit = ctx.config.beps_single_item_limit
    for detail in ctx.transactions():
        business_type = ctx.text(detail, "PmtTpInf/CtgyPurp/Prtry")
        if business_type is not None and not business_type.startswith("A"):
            continue
        amount_el = ctx.find(detail, "Amt")
        amount = ctx.decimal(amount_el)
        if amount_el is None or amount is None or amount <= limit:
            continue
        yield ctx.finding(
            amount_el,
            f"the amount {amount_el.text} exceeds the BEPS ordinary-credit single-item limit "
            f"{limit} (configurable; NPC may set another limit by ccms.926)",
            f"金额 {amount_el.text} 超过小额普通贷记单笔上限 {limit}（可配置；以清算中心 ccms.926 "
            "下发的参数为准）",
            value=(amount_el.text or "").strip(),
        )


# =============================================================================== code tables


@dataclass
class _CodeSite:
    """Where one transaction keeps its 业务类型 and 业务种类 (§6)."""

    message_type: str | None
    anchor: Element
    business_type: Element | None
    category: Element | None = None
    category_value: str | None = None
    #: /F25/ lines after the first (pacs.009 bodies)
    extra_categories: list[Element] = field(default_factory=list)
    #: a payment (the business type is mandatory) or a reference to an original (OrgnlTxTpCd)
    payment: bool = True


def _code_sites(ctx: RuleContext) -> list[_CodeSite]:
    """Where the codes are (computed once per validation, for both code rules)."""
    sites: list[_CodeSite] = ctx.memo("cnaps2.code-sites", lambda: _find_code_sites(ctx))
    return sites


def _find_code_sites(ctx: RuleContext) -> list[_CodeSite]:
    message = ctx.message
    if message is None:
        return []
    mtype = ctx.type.id
    group = ctx.find(message, "GrpHdr")
    sites: list[_CodeSite] = []
    if mtype == "hvps.111.001.01":
        for tx in ctx.transactions():
            btype = ctx.find(tx, "PmtTpInf/CtgyPurp/Prtry")
            if btype is None:
                btype = ctx.find(group, "PmtTpInf/CtgyPurp/Prtry")
            category = ctx.find(tx, "Purp/Prtry")
            sites.append(_CodeSite(mtype, tx, btype, category, ctx.text(category)))
    elif mtype == "hvps.112.001.01":
        for tx in ctx.transactions():
            btype = ctx.find(tx, "PmtTpInf/SvcLvl/Prtry")
            if btype is None:
                btype = ctx.find(group, "PmtTpInf/SvcLvl/Prtry")
            lines = [
                line
                for line in ctx.findall(tx, "RmtInf/Ustrd")
                if (ctx.text(line) or "").startswith("/F25/")
            ]
            first = lines[0] if lines else None
            value = (ctx.text(first) or "")[5:].strip() if first is not None else None
            sites.append(_CodeSite(mtype, tx, btype, first, value, lines[1:]))
    else:
        for detail in ctx.transactions():
            category = ctx.find(detail, "Purp/Prtry")
            sites.append(
                _CodeSite(
                    mtype,
                    detail,
                    ctx.find(detail, "PmtTpInf/CtgyPurp/Prtry"),
                    category,
                    ctx.text(category),
                )
            )
    for original in _tagged(message, ("RtrInf",)):
        code = ctx.find(original, "OrgnlTx/OrgnlTxTpCd")
        if code is not None:
            original_type = ctx.text(original, "OrgnlGrpHdr/OrgnlMT")
            sites.append(_CodeSite(original_type, code, code, payment=False))
    return sites


CODE_TYPES = HVPS_CREDIT | BEPS_CREDIT


@rule(
    "cnaps2.code.business-type",
    pack="cnaps2",
    severity="warning",
    title="业务类型 (business type) is known and allowed in this message type",
    title_zh="业务类型编码存在且适用于本报文类型",
    types=CODE_TYPES,
)
def code_business_type(ctx: RuleContext) -> Findings:
    """The 业务类型 (business type, ``TxTpCd``) lives in PmtTpInf/CtgyPurp/Prtry (hvps.111,
    beps.121/122) or PmtTpInf/SvcLvl/Prtry (hvps.112, a pacs.009 body without CtgyPurp)
    (§6.1-6.4, [C2+]); a return's RtrInf/OrgnlTx/OrgnlTxTpCd names the original's. The code
    must be in the code table and listed for the message type (OrgnlMT for a return). The
    codes come from DATA: the shipped table (§8.1, mostly [S1]; which message a type may be
    used in is mostly [INF]) gives warnings; NPC's ccms.906 table, set as
    ``cnaps2_code_table``, is authoritative and gives errors. A payment without a business
    type is an error: the NPC processes by it (§6, [C2+])."""
    try:
        table = _active_table(ctx)
    except PaymsgError as exc:
        yield _table_error(ctx, exc)
        return
    where_en, where_zh = table.describe
    for site in _code_sites(ctx):
        code = ctx.text(site.business_type)
        if not code:
            if site.payment:
                yield ctx.finding(
                    site.anchor,
                    "the transaction names no business type (业务类型)",
                    "该笔业务缺少业务类型编码",
                    severity="error",
                )
            continue
        anchor = site.business_type if site.business_type is not None else site.anchor
        entry = table.business_types.get(code)
        if entry is None:
            yield ctx.finding(
                anchor,
                f"business type (业务类型) {code} is not in {where_en}",
                f"业务类型 {code} 不在{where_zh}中",
                value=code,
                severity=table.severity,
            )
            continue
        allowed = table.messages_for(code)
        if site.message_type and allowed is not None:
            if message_key(site.message_type) in allowed:
                continue
            listed = ", ".join(sorted(allowed))
            yield ctx.finding(
                anchor,
                f"business type (业务类型) {entry.label} is not used in {site.message_type} "
                f"(listed for {listed} in {where_en})",
                f"业务类型 {entry.label} 不适用于 {site.message_type}（{where_zh}所列适用报文："
                f"{listed}）",
                value=code,
                severity=table.severity,
            )


@rule(
    "cnaps2.code.category",
    pack="cnaps2",
    severity="warning",
    title="业务种类 (category) is known and valid with the business type",
    title_zh="业务种类编码存在且与业务类型匹配",
    types=CODE_TYPES,
)
def code_category(ctx: RuleContext) -> Findings:
    """The 业务种类 (category, ``CtgyPurpCd``, ≤5 digits) lives in Purp/Prtry (hvps.111,
    beps.121/122) or, for pacs.009 bodies without Purp (hvps.112), in a ``/F25/`` remittance
    line (§6.2, §8.2, [C2+]). It must be in the code table and be a valid combination with
    the transaction's 业务类型 for this message type. Valid combinations come from DATA: the
    shipped table pairs codes mostly by name ([INF]) and gives warnings; NPC's ccms.906 table
    (``cnaps2_code_table``) is authoritative and gives errors. A missing category is reported
    only when the table lists categories for the business type (ccms.906 makes the category
    optional); a second /F25/ line is ambiguous and reported."""
    try:
        table = _active_table(ctx)
    except PaymsgError as exc:
        yield _table_error(ctx, exc)
        return
    where_en, where_zh = table.describe
    for site in _code_sites(ctx):
        if not site.payment:
            continue
        for extra in site.extra_categories:
            yield ctx.finding(
                extra,
                "a second /F25/ line: a transaction names one category (业务种类)",
                "出现第二个 /F25/ 行：每笔业务只能有一个业务种类",
                value=ctx.text(extra),
            )
        business_type = ctx.text(site.business_type)
        valid = None
        if business_type is not None and business_type in table.business_types:
            valid = table.categories_for(site.message_type, business_type)
        category = site.category_value
        if not category:
            if valid:
                place = "/F25/ line" if site.message_type == "hvps.112.001.01" else "Purp/Prtry"
                yield ctx.finding(
                    site.anchor,
                    f"the transaction names no category (业务种类, {place}) for business type "
                    f"{business_type}",
                    f"该笔业务缺少业务种类编码（业务类型 {business_type}）",
                    severity=table.severity,
                )
            continue
        anchor = site.category if site.category is not None else site.anchor
        entry = table.categories.get(category)
        if entry is None:
            yield ctx.finding(
                anchor,
                f"category (业务种类) {category} is not in {where_en}",
                f"业务种类 {category} 不在{where_zh}中",
                value=category,
                severity=table.severity,
            )
        elif valid is not None and category not in valid:
            listed = ", ".join(sorted(valid))
            yield ctx.finding(
                anchor,
                f"category (业务种类) {entry.label} does not go with business type "
                f"{business_type} in {site.message_type} (valid: {listed}; {where_en})",
                f"业务种类 {entry.label} 与业务类型 {business_type} 不匹配"
                f"（{where_zh}中有效的业务种类：{listed}）",
                value=category,
                severity=table.severity,
            )


# =============================================================================== remittance lines


def _remittance_lines(ctx: RuleContext) -> Iterator[tuple[Element, str]]:
    for tx in ctx.transactions():
        for line in ctx.findall(tx, "RmtInf/Ustrd"):
            text = line.text if line.text is not None else ""
            yield line, text


def _tags(ctx: RuleContext) -> Mapping[str, RemittanceTag]:
    try:
        table = _active_table(ctx)
    except PaymsgError:
        table = shipped_code_table()
    return table.tags or shipped_code_table().tags


@rule(
    "cnaps2.remittance.tag-syntax",
    pack="cnaps2",
    title="HVPS remittance lines start with a /XNN/ tag",
    title_zh="大额附言行以 /XNN/ 标签开头",
    types=HVPS_CREDIT,
)
def remittance_tag_syntax(ctx: RuleContext) -> Findings:
    """HVPS ISO bodies carry 附言 and CNAPS supplementary fields (业务附加域) in RmtInf/Ustrd
    lines, each starting with a 3-character tag between slashes, e.g. ``/H01/…`` (§6.1,
    §8.6, [C2+]: FIB mappings, templates and samples). A line without a tag cannot be mapped
    to a CNAPS field. Observed tags are an upper-case letter and two upper-case letters or
    digits (F25, H01, F1A)."""
    for line, text in _remittance_lines(ctx):
        if TAG_LINE.match(text) is None:
            yield ctx.finding(
                line,
                f"remittance line {text[:20]!r} does not start with a tag like /H01/",
                f"附言行 {text[:20]!r} 未以 /H01/ 形式的标签开头",
                value=text[:20],
            )


@rule(
    "cnaps2.remittance.unknown-tag",
    pack="cnaps2",
    severity="warning",
    title="HVPS remittance tags are known",
    title_zh="大额附言标签为已知标签",
    types=HVPS_CREDIT,
)
def remittance_unknown_tag(ctx: RuleContext) -> Findings:
    """The tags the reference lists (§8.6: F25, H01 [C2+]; H02, H03, C00, E51, A70, F40, H20,
    C14, F56, D63, D64, H19, D27, C18, F1A, F52 and tags seen in a sample [S1]) are kept in
    the code table data. The full tag dictionary is in the non-public PBOC 大额分册 [NF], so
    an unknown tag is a warning, not an error."""
    tags = _tags(ctx)
    for line, text in _remittance_lines(ctx):
        match = TAG_LINE.match(text)
        if match is not None and match.group(1) not in tags:
            tag = match.group(1)
            yield ctx.finding(
                line,
                f"remittance tag /{tag}/ is not one of the known CNAPS2 tags",
                f"附言标签 /{tag}/ 不在已知的 CNAPS2 标签中",
                value=f"/{tag}/",
            )


@rule(
    "cnaps2.remittance.value-length",
    pack="cnaps2",
    severity="warning",
    title="A tagged remittance value fits the CNAPS field it carries",
    title_zh="附言标签值长度不超过其对应字段",
    types=HVPS_CREDIT,
)
def remittance_value_length(ctx: RuleContext) -> Findings:
    """A tagged line carries one CNAPS field; its value must fit that field, counted in
    characters: /E51/ 原报文标识号 ≤35 (OrgnlMsgId), /A70/ 原发起机构 ≤14 (OrgnlInstgPty),
    /F40/ 原报文类型 ≤35 (OrgnlMT), /F1A/ 凭证种类 2, /F52/ 汇票种类 4 (§8.6; tag meanings
    [S1], hence warnings; lengths from the matching CNAPS elements in Appendix A / the code
    values). The line as a whole is limited by the schema (Ustrd ≤140 characters). /F25/ is
    checked against the code table by cnaps2.code.category."""
    tags = _tags(ctx)
    for line, text in _remittance_lines(ctx):
        match = TAG_LINE.match(text)
        spec = tags.get(match.group(1)) if match is not None else None
        if match is None or spec is None or spec.max_length is None:
            continue
        value = match.group(2).strip()
        if len(value) > spec.max_length:
            yield ctx.finding(
                line,
                f"/{spec.tag}/ ({spec.en}) is {len(value)} characters long; the field it "
                f"carries holds at most {spec.max_length}",
                f"/{spec.tag}/（{spec.zh}）长度为 {len(value)} 个字符，对应字段最多 "
                f"{spec.max_length} 个字符",
                value=value,
            )


# =============================================================================== reconciliation

#: HVPS / BEPS reconciliation messages (§7.1, §7.2, Appendix A)
RECONCILIATION = frozenset(
    {f"hvps.{n}.001.01" for n in range(710, 719)} | {f"beps.{n}.001.01" for n in range(720, 727)}
)
#: elements of type SummaryAmountText (§4.3) → the count element beside them (None: a balance)
SUMMARY_AMOUNTS: dict[str, str | None] = {
    "SndgCtrlSum": "SndgNbOfTxs",
    "RcvgCtrlSum": "RcvgNbOfTxs",
    "SndTtlAmt": "SndTtlCnt",
    "RcvTtlAmt": "RcvTtlCnt",
    "Bal": None,
}


@dataclass(frozen=True)
class _Count:
    """A count that must equal the number of elements it counts.

    ``container`` (a path below the message element, "" for the message itself) holds the
    ``count`` element and the repeated ``rows``. A ``cell`` count is the day's total of one
    reconciliation cell: in one part of a partitioned answer its rows may be only some of
    them, so there it must be at least the number of rows; ``amount`` (SummaryAmountText) and
    ``row_amount`` (Amount under each row) compare the cell's sum in the same way.
    ``alt_rows_total`` names a per-row count whose sum the count may also equal ([NF]: the
    NPC may count packages or their transactions).
    """

    container: str
    count: str
    rows: str
    cell: bool = False
    amount: str | None = None
    row_amount: str | None = None
    alt_rows_total: str | None = None


#: per type: the counts, sums and totals stated in the message (Appendix A; readings in §7)
COUNTS: dict[str, tuple[_Count, ...]] = {
    "hvps.711.001.01": (
        _Count("SummryFileInf", "TtlPmt", "ChckPmtInfDtls"),
        _Count("SummryFileInf", "TtlMsg", "ChckMsg"),
    ),
    "hvps.712.001.01": (_Count("DtlReqInf", "TtlCnt", "Dtls"),),
    "hvps.713.001.01": (
        _Count("DtlRspnInf", "TtlCnt", "Dtls"),
        _Count("DtlRspnInf/Dtls", "NbOfTxs", "ChckngDtl", cell=True),
    ),
    "hvps.714.001.01": (_Count("TxDwnldgReqInf", "NbOfTxs", "TxsDtls"),),
    "hvps.716.001.01": (
        _Count("AcctChckngInf", "TtlCnt", "Dtls"),
        _Count("AcctChckngInf/Dtls", "SndgNbOfTxs", "ChckngDtlOfSndg", True, "SndgCtrlSum", "Amt"),
        _Count("AcctChckngInf/Dtls", "RcvgNbOfTxs", "ChckngDtlOfRcvg", True, "RcvgCtrlSum", "Amt"),
    ),
    "hvps.717.001.01": (_Count("IntrBkLnDwnldInf", "TtlCnt", "Dtls"),),
    "beps.721.001.01": (
        _Count("TtlChckInf/ChckPmtInf", "NbOfChckInf", "ChckPmtInfDtls"),
        _Count("TtlChckInf/ChckMsg", "NbOfChckInf", "ChckMsgDtls"),
    ),
    "beps.722.001.01": (
        _Count("DtlChckReqInf/DtlChckPmtInf", "NbOfTxs", "DtlChckPmtDtls"),
        _Count("DtlChckReqInf/DtlChckMsg", "NbOfTxs", "DtlChckMsgDtls"),
    ),
    "beps.723.001.01": (
        _Count("DtlChckRspnInf/DtlChckPmtRspnInf", "NbOfTxs", "DtlChckRspnDtls"),
        _Count("DtlChckRspnInf/DtlChckMsgRspn", "NbOfTxs", "DtlChckMsgRspnDtls"),
        _Count(
            "DtlChckRspnInf/DtlChckPmtRspnInf/DtlChckRspnDtls", "NbOfDtls", "OrgnlPmtDtls", True
        ),
        _Count(
            "DtlChckRspnInf/DtlChckMsgRspn/DtlChckMsgRspnDtls", "NbOfDtls", "OrgnlMsgDtls", True
        ),
    ),
    "beps.724.001.01": (_Count("TxDwnldReqInf", "NbOfTxs", "DwnldReqTxsDtls"),),
    "beps.726.001.01": (
        _Count("AcctChckInf", "NbOfChckInf1", "ChckInfDtls1"),
        _Count("AcctChckInf", "NbOfChckInf2", "ChckInfDtls2"),
        _Count(
            "AcctChckInf/ChckInfDtls1",
            "SndTtlCnt",
            "SndDtls1",
            True,
            "SndTtlAmt",
            "CtrlSum",
            "TtlCnt",
        ),
        _Count(
            "AcctChckInf/ChckInfDtls1",
            "RcvTtlCnt",
            "RcvDtls1",
            True,
            "RcvTtlAmt",
            "CtrlSum",
            "TtlCnt",
        ),
        _Count("AcctChckInf/ChckInfDtls2", "SndTtlCnt", "SndDtls2", True),
        _Count("AcctChckInf/ChckInfDtls2", "RcvTtlCnt", "RcvDtls2", True),
    ),
}
#: per partitioned type: the detail records a part carries (Prttn counts these, [INF])
PARTITION_RECORDS: dict[str, tuple[str, ...]] = {
    "hvps.713.001.01": ("DtlRspnInf/Dtls/ChckngDtl",),
    "hvps.716.001.01": ("AcctChckngInf/Dtls/ChckngDtlOfSndg", "AcctChckngInf/Dtls/ChckngDtlOfRcvg"),
    "hvps.717.001.01": ("IntrBkLnDwnldInf/Dtls",),
    "beps.723.001.01": (
        "DtlChckRspnInf/DtlChckPmtRspnInf/DtlChckRspnDtls/OrgnlPmtDtls",
        "DtlChckRspnInf/DtlChckMsgRspn/DtlChckMsgRspnDtls/OrgnlMsgDtls",
    ),
    "beps.726.001.01": (
        "AcctChckInf/ChckInfDtls1/SndDtls1",
        "AcctChckInf/ChckInfDtls1/RcvDtls1",
        "AcctChckInf/ChckInfDtls2/SndDtls2",
        "AcctChckInf/ChckInfDtls2/RcvDtls2",
    ),
}


def _int(ctx: RuleContext, element: Element | None) -> int | None:
    value = ctx.text(element)
    return int(value) if value is not None and value.isascii() and value.isdigit() else None


def _summary(ctx: RuleContext, element: Element | None) -> Decimal | None:
    """A SummaryAmountText element's signed amount, or None when absent or malformed."""
    value = ctx.text(element)
    if value is None or summary_amount_problem(value) is not None:
        return None
    return parse_summary_amount(value).amount


def _partition(ctx: RuleContext) -> tuple[int, int, int] | None:
    """(TtlNb, StartNb, EndNb) of the message's Prttn, None when absent or unreadable."""
    prttn = ctx.find(ctx.message, "Prttn")
    if prttn is None:
        return None
    numbers = [_int(ctx, ctx.find(prttn, name)) for name in ("TtlNb", "StartNb", "EndNb")]
    if any(n is None for n in numbers):
        return None
    total, start, end = (n for n in numbers if n is not None)
    return total, start, end


def _complete(ctx: RuleContext) -> bool:
    """Whether this message carries the whole answer (no Prttn, or records 1..TtlNb)."""
    part = _partition(ctx)
    return part is None or part[0] == 0 or (part[1] <= 1 and part[2] >= part[0])


@rule(
    "cnaps2.recon.summary-amount",
    pack="cnaps2",
    title="Summary amounts are CNY+n.nn / CNY-n.nn and agree with their counts",
    title_zh="汇总金额为带符号两位小数格式并与笔数相符",
    types=RECONCILIATION | {"saps.604.001.01"},
)
def recon_summary_amount(ctx: RuleContext) -> Findings:
    """Reconciliation sums (SndgCtrlSum / RcvgCtrlSum of hvps.711/716, SndTtlAmt / RcvTtlAmt
    of beps.721/726) and the saps.604 balance are SummaryAmountText: a currency, an explicit
    sign and exactly two decimals, e.g. ``CNY+100.00`` (§4.3, §7.4, [C2+]). The XSD pattern
    already refuses other text; this rule says what is wrong (no sign, one decimal, spaces, a
    lower-case currency) in words. A sum of payments cannot be negative (every Amt is ≥ 0), and
    a cell that counts no message has a zero sum. The currency itself is checked by
    cnaps2.amount.cny."""
    for element in _tagged(ctx.message, SUMMARY_AMOUNTS):
        if len(element):
            continue
        text = element.text or ""
        name = _name(element)
        problem = summary_amount_problem(text)
        if problem is not None:
            yield ctx.finding(
                element,
                f"{name} {text!r} {problem[0]}",
                f"{name} {text!r} {problem[1]}",
                value=text,
            )
            continue
        count_name = SUMMARY_AMOUNTS[name]
        if count_name is None:
            continue
        amount = parse_summary_amount(text).amount
        if amount < 0:
            yield ctx.finding(
                element,
                f"{name} {text} is negative, but it sums payment amounts, which are never negative",
                f"{name} {text} 为负数，但它是业务金额之和，不应为负",
                value=text,
            )
            continue
        parent = element.getparent()
        count = _int(ctx, ctx.find(parent, count_name)) if parent is not None else None
        if count == 0 and amount != 0:
            yield ctx.finding(
                element,
                f"{count_name} is 0, so {name} must be zero, not {text}",
                f"{count_name} 为 0，{name} 应为零，而非 {text}",
                value=text,
            )


@rule(
    "cnaps2.recon.counts",
    pack="cnaps2",
    title="Reconciliation counts and totals agree with the rows they count",
    title_zh="对账报文中的笔数与合计与明细相符",
    types=set(COUNTS),
)
def recon_counts(ctx: RuleContext) -> Findings:
    """Every count of a reconciliation message agrees with what it counts (§7, Appendix A):
    hvps.711 TtlPmt / TtlMsg the rows of ChckPmtInfDtls / ChckMsg (read as row counts [INF],
    like beps.721 NbOfChckInf); TtlCnt (712, 713, 716, 717), NbOfTxs (714, 722, 723, 724) and
    NbOfChckInf (721, 726) the rows of their list. Cell counts — hvps.713 NbOfTxs, hvps.716
    Sndg/RcvgNbOfTxs and sums, beps.723 NbOfDtls, beps.726 Snd/RcvTtlCnt and amounts — are
    the cell's totals for the day and equal its listed messages or packages when the message
    carries the whole answer; in one part of a partitioned answer (Prttn) the part may list
    only some of them, so the cell total must then be at least what is listed. A beps.726
    cell may count packages or their transactions ([NF]); either agrees. hvps.717 TtlAmt is
    the sum of its Dtls/Amt."""
    message = ctx.message
    complete = _complete(ctx)
    for spec in COUNTS.get(ctx.type.id, ()):
        containers = [message] if not spec.container else ctx.findall(message, spec.container)
        for container in containers:
            count_el = ctx.find(container, spec.count)
            stated = _int(ctx, count_el)
            if count_el is None or stated is None:
                continue
            rows = ctx.findall(container, spec.rows)
            listed = len(rows)
            alternative = None
            if spec.alt_rows_total is not None:
                parts = [_int(ctx, ctx.find(row, spec.alt_rows_total)) for row in rows]
                alternative = sum(p for p in parts if p is not None)
            exact = not spec.cell or complete
            agrees = stated in (listed, alternative)
            if not agrees and not (not exact and stated >= listed):
                relation = "" if exact else "at least "
                yield ctx.finding(
                    count_el,
                    f"{spec.count} is {stated}, but {relation}{listed} {spec.rows} "
                    f"{'is' if listed == 1 else 'are'} listed",
                    f"{spec.count} 为 {stated}，但列出的 {spec.rows} 为 {listed} 条"
                    + ("" if exact else "（分片报文中笔数应不少于所列条数）"),
                    value=str(stated),
                )
            if spec.amount is None or spec.row_amount is None:
                continue
            sum_el = ctx.find(container, spec.amount)
            stated_sum = _summary(ctx, sum_el)
            amounts = [ctx.decimal(ctx.find(row, spec.row_amount)) for row in rows]
            if sum_el is None or stated_sum is None or any(a is None for a in amounts):
                continue
            actual = sum((a for a in amounts if a is not None), Decimal(0))
            if (exact and actual != stated_sum) or (not exact and actual > stated_sum):
                relation = "" if exact else "at least "
                yield ctx.finding(
                    sum_el,
                    f"{spec.amount} is {sum_el.text}, but the listed {spec.rows} add up to "
                    f"{relation}{actual}",
                    f"{spec.amount} 为 {sum_el.text}，但所列 {spec.rows} 金额合计"
                    f"{relation and '至少'}为 {actual}",
                    value=(sum_el.text or "").strip(),
                )
    if ctx.type.id == "hvps.717.001.01":
        info = ctx.find(message, "IntrBkLnDwnldInf")
        total_el = ctx.find(info, "TtlAmt")
        stated_total = ctx.decimal(total_el)
        amounts = [ctx.decimal(ctx.find(row, "Amt")) for row in ctx.findall(info, "Dtls")]
        if total_el is None or stated_total is None or any(a is None for a in amounts):
            return
        actual = sum((a for a in amounts if a is not None), Decimal(0))
        if actual != stated_total:
            yield ctx.finding(
                total_el,
                f"TtlAmt is {total_el.text}, but the {len(amounts)} Dtls add up to {actual}",
                f"TtlAmt 为 {total_el.text}，但 {len(amounts)} 条明细金额合计 {actual}",
                value=(total_el.text or "").strip(),
            )


@rule(
    "cnaps2.recon.partition",
    pack="cnaps2",
    title="A partition (Prttn) names a range StartNb ≤ EndNb ≤ TtlNb",
    title_zh="分片信息满足 起始序号 ≤ 结束序号 ≤ 总数",
    types=set(PARTITION_RECORDS),
)
def recon_partition(ctx: RuleContext) -> Findings:
    """NPC answers too long for one message are split, each part carrying ``Prttn`` (TtlNb,
    StartNb, EndNb; §4.2, §7.4, [C2+]). paymsg reads it as a range of detail records: this
    part carries records StartNb..EndNb of TtlNb [INF]. So 1 ≤ StartNb ≤ EndNb ≤ TtlNb (an
    empty answer has TtlNb 0 and 0 / 0), an error otherwise. As a warning, since the reading
    is inferred: the part should carry EndNb − StartNb + 1 records (hvps.713 ChckngDtl, 716
    ChckngDtlOfSndg/OfRcvg, 717 Dtls, beps.723 OrgnlPmtDtls/OrgnlMsgDtls, 726 Snd/RcvDtls)."""
    prttn = ctx.find(ctx.message, "Prttn")
    part = _partition(ctx)
    if prttn is None or part is None:
        return
    total, start, end = part
    empty = total == 0 and start == 0 and end == 0
    if not empty and not (1 <= start <= end <= total):
        yield ctx.finding(
            prttn,
            f"Prttn names records {start}..{end} of {total}; it must satisfy "
            "1 ≤ StartNb ≤ EndNb ≤ TtlNb",
            f"分片信息为第 {start}..{end} 条（共 {total} 条），"
            "应满足 1 ≤ 起始序号 ≤ 结束序号 ≤ 总数",
            value=f"{total}/{start}/{end}",
        )
        return
    carried = sum(len(ctx.findall(ctx.message, path)) for path in PARTITION_RECORDS[ctx.type.id])
    expected = 0 if empty else end - start + 1
    if carried != expected:
        yield ctx.finding(
            prttn,
            f"Prttn says this part carries records {start}..{end} ({expected}), but it lists "
            f"{carried} detail record(s)",
            f"分片信息表明本报文含第 {start}..{end} 条（{expected} 条），"
            f"但实际列出 {carried} 条明细",
            value=f"{total}/{start}/{end}",
            severity="warning",
        )


def _embedded(text: str) -> tuple[str | None, str, str | None, str]:
    """(header MesgType, body namespace, GrpHdr/PKGGrpHdr MsgId, how it was read) of an
    embedded CNAPS2 text; raises PaymsgError when it cannot be read."""
    raw = text.encode("utf-8")
    mesg_type = None
    offset = 0
    if looks_like_cnaps2(raw):
        envelope, offset = split_envelope(raw)
        mesg_type = envelope.header.mesg_type
    root = parse_xml(raw[offset:], source="OrgnlMsgCntt")
    namespace = root.tag[1:].split("}", 1)[0] if root.tag.startswith("{") else ""
    message = next((c for c in root if isinstance(c.tag, str)), None)
    msg_id = None
    if message is not None:
        msg_id = xmlsafe.text(message, "GrpHdr/MsgId") or xmlsafe.text(message, "PKGGrpHdr/MsgId")
    return mesg_type, namespace, msg_id, "header" if mesg_type else "namespace"


def _types_of_namespace(namespace: str) -> set[str]:
    """Type ids whose body lives in ``namespace``: the native type, or the CNAPS2 types that
    reuse that ISO body (hvps.111 for pacs.008.001.02)."""
    found = {t.id for t in catalog() if t.namespace == namespace}
    iso = {t.id for t in catalog() if t.namespace == namespace and t.standard == "iso20022"}
    found |= {t.id for t in catalog() if t.body is not None and t.body in iso}
    return found


@rule(
    "cnaps2.recon.original-content",
    pack="cnaps2",
    title="A download answer carries the CNAPS2 text of the message it names",
    title_zh="下载应答中的原报文内容与原报文主键相符",
    types={"hvps.715.001.01", "beps.725.001.01"},
)
def recon_original_content(ctx: RuleContext) -> Findings:
    """hvps.715 OrgnlMsgCntt/Cntt and beps.725 OrgnlMsgCntt carry the complete original message
    as text, to repair a participant's missing record (§7.1, §7.2, [C2+] structure; that
    OrgnlGrpHdr names the downloaded message is [INF]). The embedded text must be of the type
    OrgnlGrpHdr/OrgnlMT names — by its ``{H:}`` MesgType, or without a header by its body
    namespace (an ISO body such as pacs.008.001.02 stands for hvps.111) — and its
    GrpHdr/PKGGrpHdr MsgId must be OrgnlMsgId. Content that cannot be read as CNAPS2 text or XML
    is a warning (the NPC's storage format is not public)."""
    message = ctx.message
    content = ctx.find(message, "TxDwnldgRspnInf/OrgnlMsgCntt/Cntt")
    if content is None:
        content = ctx.find(message, "TxDwnldRspnInf/OrgnlMsgCntt")
    expected_type = ctx.text(message, "OrgnlGrpHdr/OrgnlMT")
    expected_id = ctx.text(message, "OrgnlGrpHdr/OrgnlMsgId")
    if content is None or not content.text or not expected_type:
        return
    try:
        mesg_type, namespace, msg_id, how = _embedded(content.text)
    except PaymsgError as exc:
        yield ctx.finding(
            content,
            f"the original message content cannot be read as CNAPS2 text or XML: {exc.message}",
            f"原报文内容无法按 CNAPS2 报文或 XML 读取：{exc.message}",
            severity="warning",
        )
        return
    if mesg_type is not None:
        matches, found = mesg_type == expected_type, mesg_type
    else:
        candidates = _types_of_namespace(namespace or "")
        matches, found = expected_type in candidates, namespace or "(no namespace)"
    if not matches:
        yield ctx.finding(
            content,
            f"OrgnlMT is {expected_type}, but the original message content is {found} "
            f"(by its {how})",
            f"原报文类型为 {expected_type}，但原报文内容为 {found}"
            f"（依据{'报文头' if how == 'header' else '命名空间'}）",
            value=found,
        )
    if expected_id and msg_id and msg_id != expected_id:
        yield ctx.finding(
            content,
            f"OrgnlMsgId is {expected_id}, but the original message content has MsgId {msg_id}",
            f"原报文标识号为 {expected_id}，但原报文内容的报文标识号为 {msg_id}",
            value=msg_id,
        )


def _iso_date(value: str | None) -> date | None:
    try:
        return date.fromisoformat(value[:10]) if value else None
    except ValueError:
        return None


@rule(
    "cnaps2.recon.dates",
    pack="cnaps2",
    severity="warning",
    title="Reconciliation dates are consistent with each other",
    title_zh="对账日期前后一致",
    types=RECONCILIATION,
)
def recon_dates(ctx: RuleContext) -> Findings:
    """Dates are valid ISO dates by the XSD; this rule checks that they agree (§7, §9). A
    check date (ChckDt / ChckngDt) lies no later than the working day on which the message is
    created: the CreDtTm date, or the next day, since the NPC's work date switches to the next
    day in the evening (§9, [S1]). A summary's or answer's netting date (TxNetgDt) and receive
    date (RcvDt) lie no later than its check date: they name the day's business. Warnings, as
    the reading is [INF]."""
    message = ctx.message
    created = _iso_date(ctx.text(message, "GrpHdr/CreDtTm"))
    check_el = None
    for element in _tagged(message, ("ChckDt", "ChckngDt")):
        check_el = element
        break
    check = _iso_date(ctx.text(check_el))
    if (
        check_el is not None
        and check is not None
        and created is not None
        and check > created + timedelta(days=1)
    ):
        yield ctx.finding(
            check_el,
            f"the check date {check} is after the working day of the message "
            f"(created {created}): a day can be reconciled only once it has begun",
            f"对账日期 {check} 晚于报文所在工作日（报文发送于 {created}）",
            value=str(check),
        )
    if check is None:
        return
    for element in _tagged(message, ("TxNetgDt", "RcvDt")):
        day = _iso_date(ctx.text(element))
        if day is not None and day > check:
            name = _name(element)
            yield ctx.finding(
                element,
                f"{name} {day} is after the check date {check}",
                f"{name} {day} 晚于对账日期 {check}",
                value=str(day),
            )


@rule(
    "cnaps2.code.processing-status",
    pack="cnaps2",
    severity="warning",
    title="NPC processing statuses (PrcSts) are known PR codes",
    title_zh="NPC 处理状态为已知的 PR 代码",
    standard="cnaps2",
)
def code_processing_status(ctx: RuleContext) -> Findings:
    """PrcSts (NPC处理状态) holds a PRnn code (§8.3): PR03 已轧差 and PR09 已拒绝 [C2+]; PR02,
    PR04, PR05, PR08, PR11, PR12, PR21, PR22, PR32 named by one source [S1]; PR00 and PR07 seen
    in use [S1]. The official list is not public [NF], so an unknown code is a warning. Checked
    on every PrcSts (NPCPrcInf, ccms.900, reconciliation cells and details). PR01 and PR81-PR99
    are a bank application's own workflow statuses and never appear in NPC messages [INF]."""
    for element in _tagged(ctx.message, ("PrcSts",)):
        code = ctx.text(element)
        if code and code not in NPC_STATUSES:
            yield ctx.finding(
                element,
                f"PrcSts {code} is not a known NPC processing status "
                f"({', '.join(sorted(NPC_STATUSES))})",
                f"处理状态 {code} 不是已知的 NPC 处理状态代码",
                value=code,
            )
