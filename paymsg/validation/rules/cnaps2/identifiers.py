"""Rules on CNAPS2 identifiers: 12-digit bank codes (§2.3) and message ids (§2.4)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date

from paymsg.reference.cnaps2 import (
    BANK_CODE,
    MSG_ID,
    NPC,
)
from paymsg.validation.registry import Findings, RuleContext, rule
from paymsg.validation.rules.cnaps2.common import (
    BANK_CODE_CANDIDATES,
    Element,
    element_name,
    header_finding,
    tagged,
)

# =============================================================================== identifiers


_PARTY_NAMES = frozenset({"InstgDrctPty", "InstdDrctPty", "OrgnlInstgPty", "OrigSndr"})
_INDIRECT_NAMES = frozenset({"InstgIndrctPty", "InstdIndrctPty"})
_AGENTS = ("InstgAgt", "InstdAgt")


def _bank_code_kind(element: Element, name: str, iso_body: bool) -> str | None:
    """``"party"`` (12 digits or 0000), ``"bank"`` (12 digits) or None (not a bank code)."""
    if name in _PARTY_NAMES:
        return "party"
    if name in _INDIRECT_NAMES:
        return "bank"
    if name in ("InstgPty", "InstdPty"):
        return "party" if len(element) == 0 else None
    parent = element.getparent()
    parent_name = element_name(parent) if parent is not None else ""
    if name == "MmbId" and parent_name == "ClrSysMmbId":
        below_agent = any(element_name(a) in _AGENTS for a in element.iterancestors())
        return "party" if below_agent else "bank"
    if name == "Issr" and parent_name == "Othr" and not iso_body:
        account = parent.getparent() if parent is not None else None
        holder = account.getparent() if account is not None else None
        if holder is not None and element_name(holder) in ("DbtrAcct", "CdtrAcct"):
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
                yield header_finding(
                    ctx,
                    field_name,
                    f"the header {field_name} {value!r} is neither a 12-digit bank code nor "
                    "0000 (NPC)",
                    f"报文头{'报文发起人' if field_name == 'OrigSender' else '报文接收人'} "
                    f"{value!r} 既不是 12 位行号，也不是清算中心 0000",
                    value=value,
                )
    iso_body = ctx.type.body is not None
    # A value of 12 digits is right wherever a bank code stands, so where a candidate
    # stands (which walks up its ancestors) is asked only of a value that is not.
    for candidate in tagged(ctx.message, BANK_CODE_CANDIDATES):
        element: Element | None = candidate
        name = element_name(candidate)
        if name == "BrnchId":
            # its first Id child, in its namespace (what ctx.find(candidate, "Id") gives,
            # without compiling a lookup for an element no other rule asks for)
            element = next(candidate.iterchildren(candidate.tag[: -len(name)] + "Id"), None)
        if element is None:
            continue
        code = element.text  # as ctx.text, without its lookup for the element itself
        if code is None or BANK_CODE.fullmatch(code := code.strip()):
            continue
        kind: str | None
        if name == "BrnchId":
            kind, name = "bank", "Id"
        else:
            kind = _bank_code_kind(candidate, name, iso_body)
        if kind is None or (kind == "party" and code == NPC):
            continue
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
    for element in tagged(ctx.message, ("MsgId", "OrgnlMsgId")):
        if element_name(element) == "OrgnlMsgId":
            yield element
            continue
        parent = element.getparent()  # a MsgId: only the one of the group header
        if parent is not None and element_name(parent) in ("GrpHdr", "PKGGrpHdr"):
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
            name = element_name(element)
            yield ctx.finding(
                element,
                f"{name} {value!r} {problem_en}",
                f"{name} {value!r} {problem_zh}",
                value=value,
            )
