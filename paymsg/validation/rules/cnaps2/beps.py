"""Rules ``cnaps2.beps.*`` beyond the package totals (which are the layout-driven family
in :mod:`paymsg.validation.rules.totals`)."""

from __future__ import annotations

from paymsg.validation.registry import Findings, RuleContext, rule
from paymsg.validation.rules.cnaps2.common import (
    BEPS_CREDIT,
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
