"""Rules ``cnaps2.hvps.*``: HVPS payments settle item by item, through the clearing system."""

from __future__ import annotations

from paymsg.validation.registry import Findings, RuleContext, rule
from paymsg.validation.rules.cnaps2.common import (
    HVPS_CREDIT,
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
