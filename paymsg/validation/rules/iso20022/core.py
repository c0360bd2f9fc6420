"""Rule pack ``iso20022``: cross-field rules no schema can express — status counts,
currency codes and minor units, identifier check digits (BIC, IBAN, LEI, UETR), date
sanity, statement balances and totals. (Counts, control sums and settlement totals are
the layout-driven family in :mod:`paymsg.validation.rules.totals`.)"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from decimal import Decimal

from lxml import etree

from paymsg.reference.iso import currency
from paymsg.validation.registry import Findings, RuleContext, rule
from paymsg.validation.rules import checks
from paymsg.validation.rules.iso20022.common import (
    ACCOUNT_REPORT_TYPES,
    ACTIVE_CCY,
    ANY_CCY,
    BIC_TYPES,
    IBAN_TYPES,
    LEI_TYPES,
    MINOR_UNIT_AMOUNTS,
    SETTLED_TYPES,
    STATEMENT_TYPES,
    STATUS_REPORT_TYPES,
    UUID_TYPES,
    as_int,
    element_name,
    fmt,
    identifier_findings,
    iso_date,
    sum_or_none,
    typed_elements,
    typed_parts,
)


@rule(
    "iso.sts.nb-of-txs-per-sts",
    pack="iso20022",
    severity="warning",
    title="Per-status counts and sums add up to the original totals",
    title_zh="按状态统计的笔数和金额与原报文合计一致",
    standard="iso20022",
    types=STATUS_REPORT_TYPES,
)
def nb_of_txs_per_sts(ctx: RuleContext) -> Findings:
    """A status report (pacs.002, pain.002) or a resolution (camt.029) may break the original
    group or payment block down by status (NbOfTxsPerSts / NbOfTxsPerCxlSts). Every original
    transaction has exactly one status, so the detailed counts (and the detailed control
    sums, where all are given) must add up to OrgnlNbOfTxs (and OrgnlCtrlSum). A warning:
    the standard describes the breakdown but states no formula."""
    message = ctx.message
    if message is None:
        return
    containers = [
        *message.iterfind(".//{*}OrgnlGrpInfAndSts"),
        *message.iterfind(".//{*}OrgnlPmtInfAndSts"),
    ]
    for container in containers:
        per_status = ctx.findall(container, "NbOfTxsPerSts") or ctx.findall(
            container, "NbOfTxsPerCxlSts"
        )
        if not per_status:
            continue
        count_el = ctx.find(container, "OrgnlNbOfTxs")
        counts = [as_int(ctx.text(p, "DtldNbOfTxs")) for p in per_status]
        stated = as_int(ctx.text(count_el))
        if count_el is not None and stated is not None and None not in counts:
            actual = sum(c for c in counts if c is not None)
            if actual != stated:
                yield ctx.finding(
                    count_el,
                    f"OrgnlNbOfTxs is {stated}, but the per-status counts add up to {actual}",
                    f"OrgnlNbOfTxs 为 {stated}，但按状态统计的笔数合计为 {actual}",
                    value=str(stated),
                )
        sum_el = ctx.find(container, "OrgnlCtrlSum")
        stated_sum = ctx.decimal(sum_el)
        sums = [ctx.decimal(ctx.find(p, "DtldCtrlSum")) for p in per_status]
        actual_sum = sum_or_none(sums)
        if (
            sum_el is not None
            and stated_sum is not None
            and actual_sum is not None
            and actual_sum != stated_sum
        ):
            yield ctx.finding(
                sum_el,
                f"OrgnlCtrlSum is {fmt(stated_sum)}, but the per-status control sums "
                f"add up to {fmt(actual_sum)}",
                f"OrgnlCtrlSum 为 {fmt(stated_sum)}，但按状态统计的金额合计为 {fmt(actual_sum)}",
                value=ctx.text(sum_el),
            )


# ---------------------------------------------------------------------------------------
# pack iso20022 — currencies and amounts
# ---------------------------------------------------------------------------------------


def _currency_uses(ctx: RuleContext) -> Iterator[tuple[etree._Element, str, str, bool]]:
    """(element, code, where, active required) for every currency code in the message:
    ``Ccy`` attributes of amounts and currency-code elements (Ccy, CcyOfTrf, SrcCcy, …)."""
    for walk, index in typed_parts(ctx):
        for element, type_ in walk:
            if type_ in (ACTIVE_CCY, ANY_CCY):
                code = ctx.text(element)
                if code is not None:
                    yield element, code, element_name(element), type_ == ACTIVE_CCY
            elif element.get("Ccy") is not None:
                attr_type = index.ccy.get(type_ or "", ANY_CCY)
                yield (
                    element,
                    element.get("Ccy", ""),
                    f"{element_name(element)}/@Ccy",
                    (attr_type == ACTIVE_CCY),
                )


@rule(
    "iso.currency.code",
    pack="iso20022",
    title="Currency codes are ISO 4217 codes (active where the field requires it)",
    title_zh="币种代码为 ISO 4217 代码（要求现行币种的字段须为现行代码）",
    standard="iso20022",
)
def currency_code(ctx: RuleContext) -> Findings:
    """The schema only checks that a currency is three capital letters. Fields typed
    ActiveCurrencyCode / ActiveCurrencyAndAmount (IntrBkSttlmAmt, TtlIntrBkSttlmAmt, …) must
    carry a currency in current use, because money is settled in it; the others
    (ActiveOrHistoric…, e.g. InstdAmt or an account's Ccy) also accept withdrawn codes such
    as DEM, so old items can still be described. An unknown code cannot be booked at all."""
    for element, code, where, active in _currency_uses(ctx):
        known = currency(code)
        if known is None:
            yield ctx.finding(
                element,
                f"{where} {code} is not an ISO 4217 currency code",
                f"{where} 的值 {code} 不是 ISO 4217 币种代码",
                value=code,
            )
        elif active and known.status != "active":
            yield ctx.finding(
                element,
                f"{where} {code} ({known.name}) is a withdrawn currency; "
                "this field requires an active ISO 4217 currency",
                f"{where} 的值 {code}（{known.name}）是已停用的币种，该字段要求现行 ISO 4217 币种",
                value=code,
            )


@rule(
    "iso.amount.decimals",
    pack="iso20022",
    title="Amounts have no more decimals than the currency's minor units",
    title_zh="金额的小数位数不超过币种的最小货币单位",
    standard="iso20022",
)
def amount_decimals(ctx: RuleContext) -> Findings:
    """Amounts are xs:decimal with up to 5 fraction digits, but a currency has a fixed
    number of minor units (ISO 4217: JPY and KRW 0, CNY/USD/EUR 2, BHD/KWD/JOD 3, CLF 4).
    An amount with more decimals than that cannot be booked and is rejected by clearing
    systems (SWIFT, CIPS, CNAPS). Digits are counted as written: "100.00" JPY has two.
    Currencies without minor units (XAU, XDR, … "N.A.") and 13-decimal price amounts are
    not checked; unknown currencies are left to iso.currency.code."""
    for walk, index in typed_parts(ctx):
        for element, type_ in walk:
            code = element.get("Ccy")
            if code is None:
                continue
            if type_ is not None and type_ in index.ccy and type_ not in MINOR_UNIT_AMOUNTS:
                continue
            known = currency(code)
            amount = ctx.decimal(element)
            if known is None or known.minor is None or amount is None:
                continue
            digits = checks.fraction_digits(amount)
            if digits > known.minor:
                yield ctx.finding(
                    element,
                    f"{element_name(element)} {ctx.text(element)} {code} has {digits} decimals; "
                    f"{code} ({known.name}) has {known.minor}",
                    f"{element_name(element)} 金额 {ctx.text(element)} {code} 有 {digits} 位小数，"
                    f"{code}（{known.name}）只允许 {known.minor} 位",
                    value=ctx.text(element),
                )


# ---------------------------------------------------------------------------------------
# pack iso20022 — identifiers
# ---------------------------------------------------------------------------------------


@rule(
    "iso.id.bic",
    pack="iso20022",
    title="BICs are well formed and name an ISO 3166 country",
    title_zh="BIC 格式正确且国家代码为 ISO 3166 国家",
    standard="iso20022",
)
def bic(ctx: RuleContext) -> Findings:
    """Every BIC (BICFI, AnyBIC, BIC… in the document and in the header) must follow ISO 9362:
    8 or 11 characters, and positions 5-6 are the ISO 3166 country of the institution (XK
    for Kosovo is accepted). The schema pattern accepts any two letters there, so a typo such
    as DEUTDXFF passes it, yet no such BIC can exist and routing on it fails."""
    yield from identifier_findings(ctx, BIC_TYPES, checks.bic_problem)


@rule(
    "iso.id.iban",
    pack="iso20022",
    title="IBANs have the right length and check digits",
    title_zh="IBAN 长度和校验码正确",
    standard="iso20022",
)
def iban(ctx: RuleContext) -> Findings:
    """Every IBAN must have the length registered for its country (SWIFT IBAN registry) and
    pass the ISO 7064 MOD 97-10 check (ISO 13616). A wrong IBAN is the commonest cause of a
    returned payment (AC01/AC04) and the check digits exist to catch exactly that before
    sending. A country missing from paymsg's registry table is a warning, not an error: the
    registry grows, and the check digits are still verified."""
    for element in typed_elements(ctx, IBAN_TYPES):
        value = ctx.text(element)
        if not value:
            continue
        problem = checks.iban_problem(value)
        if problem is None:
            continue
        if problem.code == "iban.country":
            if checks.mod97(value[4:].upper() + value[:4].upper()) == 1:
                yield ctx.finding(
                    element,
                    f"IBAN {value}: {problem.en} (the check digits are right)",
                    f"IBAN {value}：{problem.zh}（校验码正确）",
                    value=value,
                    severity="warning",
                )
                continue
            problem = checks.Problem(
                "iban.check-digits",
                f"{problem.en}, and the check digits are wrong",
                f"{problem.zh}，且校验码错误",
            )
        yield ctx.finding(
            element, f"IBAN {value}: {problem.en}", f"IBAN {value}：{problem.zh}", value=value
        )


@rule(
    "iso.id.lei",
    pack="iso20022",
    title="LEIs have valid check digits",
    title_zh="LEI 校验码正确",
    standard="iso20022",
)
def lei(ctx: RuleContext) -> Findings:
    """Every LEI (ISO 17442) ends in two ISO 7064 MOD 97-10 check digits. The schema pattern
    only checks the shape, so a mistyped LEI passes it; regulators and sanctions screening
    match parties on the LEI, so a wrong one misidentifies the party."""
    yield from identifier_findings(ctx, LEI_TYPES, checks.lei_problem)


@rule(
    "iso.id.uetr",
    pack="iso20022",
    title="UETRs are lower-case version 4 UUIDs",
    title_zh="UETR 为小写的版本 4 UUID",
    standard="iso20022",
)
def uetr(ctx: RuleContext) -> Findings:
    """The UETR (and OrgnlUETR) tracks a payment end to end across every hop (SWIFT gpi);
    it is a random (version 4) UUID: the 13th hex digit is the version, 4, and the 17th is
    the RFC 4122 variant, 8, 9, a or b. It is written in lower case, and trackers compare it
    as text, so an upper-case UETR does not match. The schema pattern enforces this too;
    this rule explains what is wrong, also when the document failed the schema."""
    yield from identifier_findings(ctx, UUID_TYPES, checks.uuid4_problem)


# ---------------------------------------------------------------------------------------
# pack iso20022 — dates
# ---------------------------------------------------------------------------------------


@rule(
    "iso.date.sttlm-before-creation",
    pack="iso20022",
    severity="warning",
    title="The settlement date is not before the creation date",
    title_zh="银行间清算日期不早于报文创建日期",
    standard="iso20022",
    types=SETTLED_TYPES,
)
def sttlm_before_creation(ctx: RuleContext) -> Findings:
    """A payment cannot settle before it was created: an IntrBkSttlmDt (group header or
    transaction) earlier than the date of GrpHdr/CreDtTm is usually a stale or wrongly built
    message. Back-valued settlement exists in some markets, so the window is
    ValidationConfig.settlement_window_days (default 0 days) and the finding is a warning.
    The creation date is taken as written, in the sender's own time zone."""
    message = ctx.message
    created = iso_date(ctx.text(message, "GrpHdr/CreDtTm")) if message is not None else None
    if message is None or created is None:
        return
    earliest = created - dt.timedelta(days=ctx.config.settlement_window_days)
    dates = [ctx.find(message, "GrpHdr/IntrBkSttlmDt")]
    dates += [ctx.find(tx, "IntrBkSttlmDt") for tx in ctx.transactions()]
    for element in dates:
        settled = iso_date(ctx.text(element))
        if element is not None and settled is not None and settled < earliest:
            yield ctx.finding(
                element,
                f"IntrBkSttlmDt {settled} is {(created - settled).days} day(s) before the "
                f"message was created ({created})",
                f"银行间清算日期 {settled} 比报文创建日期 {created} "
                f"早 {(created - settled).days} 天",
                value=str(settled),
            )


# ---------------------------------------------------------------------------------------
# pack iso20022 — statements and notifications
# ---------------------------------------------------------------------------------------

REPORTS = ("Stmt", "Ntfctn", "Rpt")


def _signed(ctx: RuleContext, element: etree._Element) -> Decimal | None:
    """Amt of a balance or entry, negative when CdtDbtInd is DBIT (None if unreadable)."""
    amount = ctx.decimal(ctx.find(element, "Amt"))
    indicator = ctx.text(element, "CdtDbtInd")
    if amount is None or indicator not in ("CRDT", "DBIT"):
        return None
    return -amount if indicator == "DBIT" else amount


def _entry_status(ctx: RuleContext, entry: etree._Element) -> str | None:
    status = ctx.find(entry, "Sts")
    if status is None:
        return None
    if len(status):
        return ctx.text(status, "Cd")  # None for a proprietary status
    return ctx.text(status)  # older versions: the code directly


@rule(
    "iso.stmt.balance",
    pack="iso20022",
    severity="warning",
    title="Opening balance plus booked entries equals the closing balance",
    title_zh="期初余额加已记账分录等于期末余额",
    standard="iso20022",
    types=STATEMENT_TYPES,
)
def statement_balance(ctx: RuleContext) -> Findings:
    """In a statement, the opening booked balance (OPBD, or PRCD when there is no OPBD) plus
    the booked entries (credits minus debits, Sts BOOK) must equal the closing booked balance
    (CLBD). Account owners reconcile on exactly this; a gap means an entry is missing or has
    the wrong sign. Checked only when both balances are in the same statement and currency
    and every entry has a readable amount and status. A warning, because intraday and
    paginated statements can legitimately leave entries out."""
    message = ctx.message
    for stmt in ctx.findall(message, "Stmt"):
        balances: dict[str, etree._Element] = {}
        for bal in ctx.findall(stmt, "Bal"):
            code = ctx.text(bal, "Tp/CdOrPrtry/Cd")
            if code is not None and code not in balances:
                balances[code] = bal
        opening = balances.get("OPBD", balances.get("PRCD"))
        closing = balances.get("CLBD")
        if opening is None or closing is None:
            continue
        currency = ctx.find(closing, "Amt")
        ccy = currency.get("Ccy") if currency is not None else None
        start, end = _signed(ctx, opening), _signed(ctx, closing)
        amounts = [
            ctx.find(opening, "Amt"),
            *[ctx.find(n, "Amt") for n in ctx.findall(stmt, "Ntry")],
        ]
        if start is None or end is None or any(a is None or a.get("Ccy") != ccy for a in amounts):
            continue
        movements: list[Decimal | None] = []
        for entry in ctx.findall(stmt, "Ntry"):
            status = _entry_status(ctx, entry)
            if status is None:
                movements.append(None)
            elif status == "BOOK":
                movements.append(_signed(ctx, entry))
        net = sum_or_none(movements)
        if net is None or start + net == end:
            continue
        opening_code = ctx.text(opening, "Tp/CdOrPrtry/Cd")
        yield ctx.finding(
            ctx.find(closing, "Amt"),
            f"{opening_code} {fmt(start)} plus the booked entries ({fmt(net)}) is "
            f"{fmt(start + net)} {ccy}, but CLBD is {fmt(end)}",
            f"{opening_code} {fmt(start)} 加已记账分录净额 {fmt(net)} "
            f"为 {fmt(start + net)} {ccy}，"
            f"但期末余额 CLBD 为 {fmt(end)}",
            value=ctx.text(closing, "Amt"),
        )


def _single_page(ctx: RuleContext, message: etree._Element, report: etree._Element) -> bool:
    for pagination in (
        ctx.find(message, "GrpHdr/MsgPgntn"),
        *[ctx.find(report, f"{r}Pgntn") for r in REPORTS],
    ):
        if pagination is None:
            continue
        if ctx.text(pagination, "PgNb") != "1" or ctx.text(pagination, "LastPgInd") not in (
            "true",
            "1",
        ):
            return False
    return True


@rule(
    "iso.stmt.txs-summry",
    pack="iso20022",
    severity="warning",
    title="TxsSummry totals match the entries",
    title_zh="交易汇总（TxsSummry）与分录一致",
    standard="iso20022",
    types=ACCOUNT_REPORT_TYPES,
)
def txs_summry(ctx: RuleContext) -> Findings:
    """TxsSummry states the number and sum of all entries, of the credit and of the debit
    entries, and the net amount with its direction. Receivers use it to check that they got
    every entry; a mismatch means entries were dropped or duplicated. Checked for a single-
    page report whose entries all have a readable amount and CdtDbtInd; a warning, like the
    balance rule, because the standard leaves room for partial reports."""
    message = ctx.message
    if message is None:
        return
    for report in [r for name in REPORTS for r in ctx.findall(message, name)]:
        summary = ctx.find(report, "TxsSummry")
        if summary is None or not _single_page(ctx, message, report):
            continue
        entries = [
            (ctx.decimal(ctx.find(entry, "Amt")), ctx.text(entry, "CdtDbtInd"))
            for entry in ctx.findall(report, "Ntry")
        ]
        credits = [a for a, ind in entries if a is not None and ind == "CRDT"]
        debits = [a for a, ind in entries if a is not None and ind == "DBIT"]
        if len(credits) + len(debits) != len(entries):
            continue
        credit_sum, debit_sum = sum(credits, Decimal(0)), sum(debits, Decimal(0))
        expected: list[tuple[str, str, str]] = [
            ("TtlNtries/NbOfNtries", str(len(entries)), "count"),
            ("TtlNtries/Sum", fmt(credit_sum + debit_sum), "sum"),
            ("TtlCdtNtries/NbOfNtries", str(len(credits)), "count"),
            ("TtlCdtNtries/Sum", fmt(credit_sum), "sum"),
            ("TtlDbtNtries/NbOfNtries", str(len(debits)), "count"),
            ("TtlDbtNtries/Sum", fmt(debit_sum), "sum"),
        ]
        for path, want, kind in expected:
            element = ctx.find(summary, path)
            if element is None:
                continue
            got = ctx.text(element)
            if kind == "count":
                ok = as_int(got) == int(want)
            else:
                number = ctx.decimal(element)
                ok = number is None or number == Decimal(want)
            if not ok:
                yield ctx.finding(
                    element,
                    f"TxsSummry/{path} is {got}, but the entries give {want}",
                    f"TxsSummry/{path} 为 {got}，但按分录计算应为 {want}",
                    value=got,
                )
        net_el = ctx.find(summary, "TtlNtries/TtlNetNtry")
        if net_el is None:
            # 2009 generation (camt.05x.001.02): TtlNetNtryAmt and CdtDbtInd sit in TtlNtries
            yield from _net_amount_2009(ctx, summary, credit_sum - debit_sum)
        else:
            net = credit_sum - debit_sum
            stated = _signed(ctx, net_el)
            if stated is not None and stated != net:
                direction = "DBIT" if net < 0 else "CRDT"
                yield ctx.finding(
                    net_el,
                    f"TtlNetNtry is {ctx.text(net_el, 'Amt')} {ctx.text(net_el, 'CdtDbtInd')}, "
                    f"but the entries net to {fmt(abs(net))} {direction}",
                    f"TtlNetNtry 为 {ctx.text(net_el, 'Amt')} {ctx.text(net_el, 'CdtDbtInd')}，"
                    f"但分录净额为 {fmt(abs(net))} {direction}",
                    value=ctx.text(net_el, "Amt"),
                )


def _net_amount_2009(ctx: RuleContext, summary: etree._Element, net: Decimal) -> Findings:
    totals = ctx.find(summary, "TtlNtries")
    amount_el = ctx.find(totals, "TtlNetNtryAmt") if totals is not None else None
    amount = ctx.decimal(amount_el)
    if totals is None or amount_el is None or amount is None:
        return
    indicator = ctx.text(totals, "CdtDbtInd")
    stated = -amount if indicator == "DBIT" else amount
    if stated == net:
        return
    direction = "DBIT" if net < 0 else "CRDT"
    yield ctx.finding(
        amount_el,
        f"TtlNetNtryAmt is {ctx.text(amount_el)} {indicator}, "
        f"but the entries net to {fmt(abs(net))} {direction}",
        f"TtlNetNtryAmt 为 {ctx.text(amount_el)} {indicator}，"
        f"但分录净额为 {fmt(abs(net))} {direction}",
        value=ctx.text(amount_el),
    )
