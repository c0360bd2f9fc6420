"""Rules on CNAPS2 amounts: CNY in cents, amounts written as text (§4.3)."""

from __future__ import annotations

from decimal import Decimal

from paymsg.validation.registry import Findings, RuleContext, rule
from paymsg.validation.rules.cnaps2.common import (
    TEXT_AMOUNT,
    TEXT_AMOUNT_ELEMENTS,
    element_name,
    tagged,
)

# =============================================================================== amounts


#: the elements read as amounts without a Ccy attribute (a tuple: the same tag order each call)
_AMOUNT_NAMES = (*sorted(TEXT_AMOUNT_ELEMENTS), "CtrlSum")


def _beyond_cents(amount: Decimal | None) -> bool:
    """Whether ``amount`` has a non-zero digit below the fen (0.01)."""
    if amount is None or not amount.is_finite():
        return False
    _, digits, exponent = amount.as_tuple()
    if isinstance(exponent, int) and -2 <= exponent <= 0 and len(digits) <= 28:
        # 2 decimals or fewer as written: normalizing (which neither rounds nor overflows
        # such a value) only drops trailing zeros, so no digit can stand below the fen
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
    for element in tagged(ctx.message, _AMOUNT_NAMES, with_ccy=True):
        currency = element.get("Ccy")
        if currency is None:
            name = element_name(element)
            if name in TEXT_AMOUNT_ELEMENTS and len(element) == 0:
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
            if name != "CtrlSum":
                continue
        elif currency != "CNY":
            name = element_name(element)
            yield ctx.finding(
                element,
                f"{name} is in {currency}; CNAPS2 amounts are in CNY",
                f"{name} 币种为 {currency}；CNAPS2 金额币种应为 CNY",
                value=currency,
            )
        if _beyond_cents(ctx.decimal(element)):
            name = element_name(element)  # looked up only for a finding
            yield ctx.finding(
                element,
                f"{name} {element.text} has more than 2 decimals (CNY fen)",
                f"{name} {element.text} 超过两位小数（人民币最小单位为分）",
                value=(element.text or "").strip(),
            )
