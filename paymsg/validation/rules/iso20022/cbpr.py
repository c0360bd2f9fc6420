"""Rule pack ``cbpr``: SWIFT CBPR+ usage guidelines (enabled by ``--profile cbpr``)."""

from __future__ import annotations

from lxml import etree

from paymsg.validation.registry import Findings, RuleContext, rule
from paymsg.validation.rules.iso20022.common import (
    CBPR_TYPES,
    HEADER_TYPES,
    app_header_of,
    element_name,
)

# ---------------------------------------------------------------------------------------
# pack cbpr — SWIFT CBPR+ usage guidelines
# ---------------------------------------------------------------------------------------


def _cbpr_header(ctx: RuleContext) -> etree._Element | None:
    """The header of a CBPR+ message: beside a CBPR+ document, or a bare AppHdr whose
    MsgDefIdr names a CBPR+ message type."""
    header = app_header_of(ctx)
    if header is None:
        return None
    if ctx.type.family == "head" and ctx.text(header, "MsgDefIdr") not in CBPR_TYPES:
        return None
    return header


@rule(
    "cbpr.uetr.mandatory",
    pack="cbpr",
    title="CBPR+: every transaction carries a UETR",
    title_zh="CBPR+：每笔交易都必须有 UETR",
    types={"pacs.008.001.08", "pacs.009.001.08", "pacs.004.001.09"},
)
def cbpr_uetr(ctx: RuleContext) -> Findings:
    """CBPR+ makes the UETR mandatory so every payment can be tracked end to end (SWIFT
    gpi): PmtId/UETR in pacs.008 and pacs.009, OrgnlUETR of the returned payment in
    pacs.004. ISO 20022 itself leaves it optional."""
    message = ctx.message
    if message is None:
        return
    if element_name(message) == "PmtRtr":
        for tx in ctx.findall(message, "TxInf"):
            if not ctx.text(tx, "OrgnlUETR"):
                yield ctx.finding(
                    tx,
                    "CBPR+ requires OrgnlUETR (the UETR of the returned payment) in every TxInf",
                    "CBPR+ 要求每笔 TxInf 都包含 OrgnlUETR（被退回支付的 UETR）",
                )
        return
    for tx in ctx.findall(message, "CdtTrfTxInf"):
        if not ctx.text(tx, "PmtId/UETR"):
            where = ctx.find(tx, "PmtId")
            yield ctx.finding(
                where if where is not None else tx,
                "CBPR+ requires PmtId/UETR in every transaction",
                "CBPR+ 要求每笔交易的 PmtId 中都包含 UETR",
            )


@rule(
    "cbpr.bah.present",
    pack="cbpr",
    title="CBPR+: the message has a business application header",
    title_zh="CBPR+：报文必须带有业务应用头（BAH）",
    types=CBPR_TYPES,
)
def cbpr_bah_present(ctx: RuleContext) -> Findings:
    """On SWIFT CBPR+ every pacs and camt message travels with a head.001 business
    application header: FINplus routes and deduplicates on it. A bare Document cannot be
    sent."""
    if ctx.app_header is None:
        yield ctx.finding(
            ctx.document,
            f"CBPR+ requires a business application header (head.001) with {ctx.type.id}",
            f"CBPR+ 要求 {ctx.type.id} 报文附带业务应用头（head.001）",
        )


@rule(
    "cbpr.bah.cre-dt-utc",
    pack="cbpr",
    title="CBPR+: AppHdr/CreDt is in UTC with Z",
    title_zh="CBPR+：AppHdr/CreDt 必须为带 Z 的 UTC 时间",
    types={*CBPR_TYPES, *HEADER_TYPES},
)
def cbpr_cre_dt_utc(ctx: RuleContext) -> Findings:
    """CBPR+ restricts the header's creation date-time (CreDt, also in a related header) to
    UTC written with 'Z', e.g. 2026-03-17T14:20:03Z; an offset such as +01:00 or a local time
    without zone is rejected, so all parties compare times on one clock."""
    header = _cbpr_header(ctx)
    if header is None:
        return
    for element in [*ctx.findall(header, "CreDt"), *ctx.findall(header, "Rltd/CreDt")]:
        value = ctx.text(element)
        if value is not None and not value.endswith("Z"):
            yield ctx.finding(
                element,
                f"CBPR+ requires CreDt in UTC with 'Z' (e.g. 2026-03-17T14:20:03Z), not {value}",
                f"CBPR+ 要求 CreDt 使用带 Z 的 UTC 时间（如 2026-03-17T14:20:03Z），而不是 {value}",
                value=value,
            )


@rule(
    "cbpr.bah.biz-svc",
    pack="cbpr",
    title="CBPR+: AppHdr/BizSvc is present",
    title_zh="CBPR+：AppHdr 必须包含 BizSvc",
    types={*CBPR_TYPES, *HEADER_TYPES},
)
def cbpr_biz_svc(ctx: RuleContext) -> Findings:
    """CBPR+ requires the header's BizSvc, which names the usage guideline the message
    follows (e.g. swift.cbprplus.03); the network validates the message against that
    guideline and rejects a header without it."""
    header = _cbpr_header(ctx)
    if header is not None and not ctx.text(header, "BizSvc"):
        yield ctx.finding(
            header,
            "CBPR+ requires AppHdr/BizSvc (e.g. swift.cbprplus.03)",
            "CBPR+ 要求 AppHdr 包含 BizSvc（如 swift.cbprplus.03）",
        )


@rule(
    "cbpr.grphdr.nb-of-txs-one",
    pack="cbpr",
    title="CBPR+: pacs.008 and pacs.009 carry exactly one transaction",
    title_zh="CBPR+：pacs.008 和 pacs.009 只能包含一笔交易",
    types={"pacs.008.001.08", "pacs.009.001.08"},
)
def cbpr_nb_of_txs_one(ctx: RuleContext) -> Findings:
    """CBPR+ allows no batches: GrpHdr/NbOfTxs is fixed at 1 in pacs.008 and pacs.009, so
    each payment is routed, tracked and settled on its own."""
    element = ctx.find(ctx.message, "GrpHdr/NbOfTxs")
    value = ctx.text(element)
    if element is not None and value != "1":
        yield ctx.finding(
            element,
            f"CBPR+ requires NbOfTxs 1 (one transaction per message), not {value}",
            f"CBPR+ 要求 NbOfTxs 为 1（每条报文一笔交易），而不是 {value}",
            value=value,
        )
