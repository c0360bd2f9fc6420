"""Counts, control sums and totals: one rule family driven by the message layouts.

A group (or package) header states how many transactions the message carries
(``NbOfTxs``), what their amounts add up to (``CtrlSum``) and, for settlement messages,
the total settled in one currency (``TtlIntrBkSttlmAmt``). Where those sit, which element
repeats and which amount counts is catalogue data (:mod:`paymsg.schema.layout`), so the
same rules serve pacs.008/009/004, pain.001 (with its ``PmtInf`` blocks), camt.056 and the
BEPS packages.

Each rule runs in one of two ways:

- on the whole message: it tallies every transaction and compares at once;
- on a stream, chunk by chunk (:mod:`paymsg.validation.stream`): ``RuleContext.tallies``
  is set, each chunk's transactions are added to the running tally (findings about one
  transaction, e.g. its currency, come with its chunk), and :func:`finish` compares the
  header with the tally once every transaction has been read.

Rule ids, messages and conditions are those of the ISO 20022 and CNAPS2 packs they belong
to; the wording differs between the two families (a BEPS package has "details").
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import TypeAlias

from lxml import etree

from paymsg.schema.layout import Layout
from paymsg.validation.findings import Finding
from paymsg.validation.registry import Findings, RuleContext, RuleSpec, rule
from paymsg.validation.rules.iso20022.common import (
    PAIN001_TYPES,
    SETTLED_TYPES,
    as_int,
    element_name,
    fmt,
)

Element: TypeAlias = etree._Element


@dataclass
class Tally:
    """What a run of transactions adds up to."""

    count: int = 0
    total: Decimal = Decimal(0)
    #: every amount present and a number (else no sum is compared)
    complete: bool = True
    #: the amount elements' ``Ccy`` (None for a transaction without its amount)
    currencies: set[str | None] = field(default_factory=set)

    def add(self, ctx: RuleContext, transaction: Element, layout: Layout) -> Element | None:
        """Count ``transaction`` and add its amount; returns the amount element."""
        self.count += 1
        amount_el = _amount(ctx, transaction, layout)
        amount = ctx.decimal(amount_el)
        self.currencies.add(amount_el.get("Ccy") if amount_el is not None else None)
        if amount is None:
            self.complete = False
        else:
            self.total += amount
        return amount_el

    @property
    def sum(self) -> Decimal | None:
        """The sum of the amounts, or None when one is missing or not a number."""
        return self.total if self.complete else None


@dataclass
class Group:
    """Transactions under one statement of their count and sum (the message, or a block)."""

    holder: Element
    count_path: str | None
    sum_path: str | None
    transactions: list[Element]
    #: a pain.001 PmtInf (or the group above blocks): compared even with no transaction
    blocked: bool = False
    #: what the transactions add up to, tallied once for the rules of one validation
    tally: Tally | None = None


def _amount(ctx: RuleContext, transaction: Element, layout: Layout) -> Element | None:
    """The first of the layout's amount elements present in ``transaction``."""
    for path in layout.amount:
        found = ctx.find(transaction, path)
        if found is not None:
            return found
    return None


def _layout(ctx: RuleContext) -> Layout | None:
    """The layout of the message, when the message element is the one it describes."""
    message = ctx.message
    if message is None or element_name(message) != ctx.type.element:
        return None
    return ctx.type.layout


def _groups(ctx: RuleContext, layout: Layout) -> list[Group]:
    """The message-level group, then each block's (pain.001 PmtInf): found once per
    validation (``layout`` is the message type's), for the count, sum and total rules."""
    groups: list[Group] = ctx.memo("totals.groups", lambda: _find_groups(ctx, layout))
    return groups


def _find_groups(ctx: RuleContext, layout: Layout) -> list[Group]:
    message = ctx.message
    assert message is not None and layout.transaction is not None
    block = layout.block
    groups = [
        Group(
            message,
            layout.count,
            layout.sum,
            ctx.findall(message, layout.transaction),
            block is not None,
        )
    ]
    if block is not None:
        inner = layout.transaction[len(block.path) + 1 :]
        for holder in ctx.findall(message, block.path):
            groups.append(
                Group(holder, block.count, block.sum, ctx.findall(holder, inner), blocked=True)
            )
    return groups


def _tallied(ctx: RuleContext, layout: Layout, group: Group) -> Tally:
    """The tally of ``group`` (read only): the stream's running one (its chunk added), or
    the group's own, added up by the first rule that asks."""
    tally = group.tally
    if tally is None:
        tally = Tally()
        for transaction in group.transactions:
            tally.add(ctx, transaction, layout)
        group.tally = tally  # kept once whole: a sum that cannot be made fails every rule
    if ctx.tallies is None:
        return tally
    spec = ctx.current
    assert spec is not None
    running = ctx.tallies.setdefault(spec.id, Tally())
    running.count += tally.count
    running.total += tally.total
    running.complete = running.complete and tally.complete
    running.currencies |= tally.currencies
    return running


# --------------------------------------------------------------------------- comparisons
# Each takes the stated element and the tally, and is what the whole-message rule and the
# end of a stream both call.


def _iso_count(
    ctx: RuleContext, stated_el: Element | None, tally: Tally, layout: Layout
) -> Findings:
    if stated_el is None or (not tally.count and layout.may_be_empty):
        return  # a group return or cancellation may list no transaction
    stated = ctx.text(stated_el)
    if as_int(stated) != tally.count:
        name = layout.transaction_name
        yield ctx.finding(
            stated_el,
            f"NbOfTxs is {stated}, but the message has {tally.count} {name}",
            f"NbOfTxs 为 {stated}，但报文实际有 {tally.count} 笔 {name}",
            value=stated,
        )


def _iso_sum(
    ctx: RuleContext, stated_el: Element | None, tally: Tally, *, blocked: bool = False
) -> Findings:
    if not tally.count and not blocked:
        return  # nothing to add up (a group return or cancellation)
    stated = ctx.decimal(stated_el)
    actual = tally.sum
    if stated_el is None or stated is None or actual is None or stated == actual:
        return
    yield ctx.finding(
        stated_el,
        f"CtrlSum is {fmt(stated)}, but the amounts add up to {fmt(actual)}",
        f"CtrlSum 为 {fmt(stated)}，但各笔金额合计为 {fmt(actual)}",
        value=ctx.text(stated_el),
    )


def _iso_total(ctx: RuleContext, total_el: Element, tally: Tally, layout: Layout) -> Findings:
    total_ccy = total_el.get("Ccy")
    stated = ctx.decimal(total_el)
    actual = tally.sum
    same_currency = not (tally.currencies - {None, total_ccy})
    if same_currency and stated is not None and actual is not None and stated != actual:
        total_name = element_name(total_el)
        amount_name = layout.amount[0].rpartition("/")[2]
        yield ctx.finding(
            total_el,
            f"{total_name} is {fmt(stated)} {total_ccy}, but the {tally.count} "
            f"{amount_name} add up to {fmt(actual)}",
            f"{total_name} 为 {fmt(stated)} {total_ccy}，但 {tally.count} 笔 {amount_name} "
            f"合计为 {fmt(actual)}",
            value=ctx.text(total_el),
        )


def _beps_count(ctx: RuleContext, count_el: Element | None, tally: Tally) -> Findings:
    count = ctx.text(count_el)
    if count_el is None or count is None:
        return
    if not count.isdigit() or int(count) != tally.count:
        yield ctx.finding(
            count_el,
            f"NbOfTxs is {count}, but the package has {tally.count} details",
            f"明细业务总笔数为 {count}，但业务包实际有 {tally.count} 笔明细",
            value=count,
        )


def _beps_sum(ctx: RuleContext, total_el: Element | None, tally: Tally) -> Findings:
    stated = ctx.decimal(total_el)
    actual = tally.sum
    if total_el is None or stated is None or not tally.count or actual is None:
        return
    if actual != stated:
        yield ctx.finding(
            total_el,
            f"CtrlSum is {total_el.text}, but the {tally.count} details add up to {actual}",
            f"明细业务总金额为 {total_el.text}，但 {tally.count} 笔明细金额合计 {actual}",
            value=(total_el.text or "").strip(),
        )


# --------------------------------------------------------------------------- the rules


@rule(
    "iso.grphdr.nb-of-txs",
    pack="iso20022",
    title="NbOfTxs equals the number of transactions",
    title_zh="NbOfTxs 等于报文中的交易笔数",
    standard="iso20022",
    types={*SETTLED_TYPES, *PAIN001_TYPES, "camt.056.001.08"},
)
def nb_of_txs(ctx: RuleContext) -> Findings:
    """The group header states how many transactions the message carries (pacs.008/009/004
    GrpHdr, pain.001 GrpHdr and each PmtInf, camt.056 CtrlData); receivers reconcile on it,
    and no schema can check it. A mismatch usually means a transaction was lost or
    duplicated when the message was built."""
    layout = _layout(ctx)
    if layout is None or layout.count is None:
        return
    for group in _groups(ctx, layout):
        tally = _tallied(ctx, layout, group)
        if ctx.tallies is None and group.count_path is not None:
            yield from _iso_count(ctx, ctx.find(group.holder, group.count_path), tally, layout)


@rule(
    "iso.grphdr.ctrl-sum",
    pack="iso20022",
    title="CtrlSum equals the sum of the transaction amounts",
    title_zh="CtrlSum 等于各笔交易金额之和",
    standard="iso20022",
    types={*SETTLED_TYPES, *PAIN001_TYPES, "camt.056.001.08"},
)
def ctrl_sum(ctx: RuleContext) -> Findings:
    """CtrlSum is the total of all individual amounts, irrespective of currency: the
    interbank settlement amounts in pacs.008/009, the returned amounts in pacs.004, the
    instructed (or equivalent) amounts in pain.001 (group and each PmtInf), the original
    settlement amounts in camt.056. It exists so the receiver can detect a truncated or
    altered batch; the schema cannot compute it. Skipped when an amount is missing or not
    a number (the XSD layer reports those)."""
    layout = _layout(ctx)
    if layout is None or layout.sum is None:
        return
    for group in _groups(ctx, layout):
        tally = _tallied(ctx, layout, group)
        if ctx.tallies is None and group.sum_path is not None:
            stated_el = ctx.find(group.holder, group.sum_path)
            yield from _iso_sum(ctx, stated_el, tally, blocked=group.blocked)


@rule(
    "iso.grphdr.ttl-intr-bk-sttlm-amt",
    pack="iso20022",
    title="TtlIntrBkSttlmAmt equals the sum of the settlement amounts, in their currency",
    title_zh="TtlIntrBkSttlmAmt 等于各笔清算金额之和且币种一致",
    standard="iso20022",
    types=SETTLED_TYPES,
)
def ttl_intr_bk_sttlm_amt(ctx: RuleContext) -> Findings:
    """The group total of the interbank settlement amount (TtlIntrBkSttlmAmt in pacs.008/009,
    TtlRtrdIntrBkSttlmAmt in pacs.004) is what the settlement system debits and credits for
    the whole batch. It must be in the same currency as every transaction and equal their
    sum; otherwise the batch settles a different amount than the transactions carry."""
    layout = _layout(ctx)
    if layout is None or layout.total is None or not layout.amount:
        return
    total_el = ctx.find(ctx.message, layout.total)
    if total_el is None:
        return
    total_ccy = total_el.get("Ccy")
    total_name = element_name(total_el)
    group = _groups(ctx, layout)[0]
    for transaction in group.transactions:
        amount = _amount(ctx, transaction, layout)
        if amount is not None and amount.get("Ccy") != total_ccy:
            amount_name = element_name(amount)
            yield ctx.finding(
                amount,
                f"{amount_name} is in {amount.get('Ccy')}, but {total_name} is in {total_ccy}",
                f"{amount_name} 的币种为 {amount.get('Ccy')}，与 {total_name} 的币种 {total_ccy} "
                "不一致",
                value=amount.get("Ccy"),
            )
    tally = _tallied(ctx, layout, group)
    if ctx.tallies is None and tally.count:  # a group return may list no TxInf
        yield from _iso_total(ctx, total_el, tally, layout)


@rule(
    "cnaps2.beps.nb-of-txs",
    pack="cnaps2",
    title="BEPS package NbOfTxs equals the number of details",
    title_zh="小额业务包明细业务总笔数等于明细笔数",
    families={"beps"},
)
def beps_nb_of_txs(ctx: RuleContext) -> Findings:
    """PKGGrpHdr/NbOfTxs is the 明细业务总笔数 — the number of detail items in the package
    (§4.2, [C2+] field definition). The reference tags the equality itself [INF] ("standard"),
    but it is what the field is defined to hold, and receivers reconcile packages on it
    (BEPS reconciles per package, §7.2), so a mismatch is an error."""
    layout = _layout(ctx)
    if layout is None or layout.count is None:
        return
    group = _groups(ctx, layout)[0]
    tally = _tallied(ctx, layout, group)
    if ctx.tallies is None:
        yield from _beps_count(ctx, ctx.find(group.holder, layout.count), tally)


@rule(
    "cnaps2.beps.ctrl-sum",
    pack="cnaps2",
    title="BEPS package CtrlSum equals the sum of the detail amounts",
    title_zh="小额业务包明细业务总金额等于明细金额之和",
    families={"beps"},
)
def beps_ctrl_sum(ctx: RuleContext) -> Findings:
    """PKGGrpHdr/CtrlSum is the 明细业务总金额 — the sum of the details' ``Amt`` (§4.2, [C2+]
    field definition; the equality is tagged [INF] "standard" in §6.3 but follows from the
    definition). Packages are reconciled by count and amount (§7.2). Not checked when a
    detail amount is missing or unreadable (the schema reports that)."""
    layout = _layout(ctx)
    if layout is None or layout.sum is None:
        return
    group = _groups(ctx, layout)[0]
    tally = _tallied(ctx, layout, group)
    if ctx.tallies is None:
        yield from _beps_sum(ctx, ctx.find(group.holder, layout.sum), tally)


# --------------------------------------------------------------------------- end of a stream

Final = Callable[[RuleContext, Layout, Tally], Iterable[Finding]]

#: rule id → its comparison once every transaction of a stream has been tallied, in the
#: order a stream reports them (count, then sum, then total)
FINAL: dict[str, Final] = {
    "iso.grphdr.nb-of-txs": lambda ctx, layout, tally: _iso_count(
        ctx, ctx.find(ctx.message, layout.count or ""), tally, layout
    ),
    "iso.grphdr.ctrl-sum": lambda ctx, layout, tally: _iso_sum(
        ctx, ctx.find(ctx.message, layout.sum or ""), tally
    ),
    "iso.grphdr.ttl-intr-bk-sttlm-amt": lambda ctx, layout, tally: (
        _iso_total(ctx, total_el, tally, layout)
        if tally.count and (total_el := ctx.find(ctx.message, layout.total or "")) is not None
        else ()
    ),
    "cnaps2.beps.nb-of-txs": lambda ctx, layout, tally: _beps_count(
        ctx, ctx.find(ctx.message, layout.count or ""), tally
    ),
    "cnaps2.beps.ctrl-sum": lambda ctx, layout, tally: _beps_sum(
        ctx, ctx.find(ctx.message, layout.sum or ""), tally
    ),
}

#: the rules of this family: a stream compares them at the end (see :func:`finish`)
TOTAL_RULES = frozenset(FINAL)


def finish(ctx: RuleContext, specs: Iterable[RuleSpec]) -> list[Finding]:
    """The comparisons of a streamed message, once ``ctx.tallies`` holds every transaction
    (``specs``: the rules that ran on its chunks)."""
    layout = _layout(ctx)
    ran = {spec.id: spec for spec in specs}
    out: list[Finding] = []
    if layout is None or ctx.tallies is None:
        return out
    for rule_id, final in FINAL.items():
        spec = ran.get(rule_id)
        if spec is None:
            continue
        ctx.current = spec
        out.extend(final(ctx, layout, ctx.tallies.get(rule_id, Tally())))
    ctx.current = None
    return out
