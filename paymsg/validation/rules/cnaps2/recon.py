"""Rules ``cnaps2.recon.*``: the HVPS 710-718 and BEPS 720-726 reconciliation messages."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from paymsg.codec.envelope.cnaps2 import looks_like_cnaps2, split_envelope
from paymsg.codec.xml import safe as xmlsafe
from paymsg.codec.xml.safe import parse_xml
from paymsg.errors import PaymsgError
from paymsg.reference.cnaps2 import (
    NPC_STATUSES,
    parse_summary_amount,
    summary_amount_problem,
)
from paymsg.schema.catalog import catalog
from paymsg.validation.registry import Findings, RuleContext, rule
from paymsg.validation.rules.cnaps2.common import (
    Element,
    element_name,
    tagged,
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
    for element in tagged(ctx.message, SUMMARY_AMOUNTS):
        if len(element):
            continue
        text = element.text or ""
        name = element_name(element)
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
    for element in tagged(message, ("ChckDt", "ChckngDt")):
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
    for element in tagged(message, ("TxNetgDt", "RcvDt")):
        day = _iso_date(ctx.text(element))
        if day is not None and day > check:
            name = element_name(element)
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
    for element in tagged(ctx.message, ("PrcSts",)):
        code = ctx.text(element)
        if code and code not in NPC_STATUSES:
            yield ctx.finding(
                element,
                f"PrcSts {code} is not a known NPC processing status "
                f"({', '.join(sorted(NPC_STATUSES))})",
                f"处理状态 {code} 不是已知的 NPC 处理状态代码",
                value=code,
            )
