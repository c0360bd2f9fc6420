"""Rule packs for ISO 20022 messages of the unified profile.

- ``iso20022``: cross-field rules that no schema can express — counts and control sums,
  currency codes and minor units, identifier check digits (BIC, IBAN, LEI, UETR), date
  sanity, statement balances and totals.
- ``iso20022.bah``: business application header ⇄ document consistency.
- ``cbpr``: SWIFT CBPR+ usage guidelines (enabled by ``--profile cbpr``).

The rules read the lxml tree, not the bound objects, so they also run on a document that
failed the schema: a missing element means "nothing to check", a value that is not a number
is left to the XSD layer. Identifier and currency rules find their elements by **schema
type** (``BICFIDec2014Identifier``, ``ActiveCurrencyAndAmount``, …): the message's own XSD
is indexed once, and the document is walked with it, so an ``Amt`` is treated as an
active-currency amount exactly where the message definition says so.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Iterator
from decimal import Decimal
from functools import cache
from typing import Any

from lxml import etree

from paymsg.codec.xml.safe import local_name, namespace_of
from paymsg.reference.iso import currency
from paymsg.schema.catalog import MessageType, catalog
from paymsg.schema.index import SchemaIndex, schema_index
from paymsg.validation.registry import Findings, RuleContext, rule
from paymsg.validation.rules import checks

# ---------------------------------------------------------------------------------------
# Message shapes
# ---------------------------------------------------------------------------------------

PACS_TRANSFERS = ("pacs.008.001.08", "pacs.009.001.08", "pacs.008.001.02", "pacs.009.001.02")
SETTLED_TYPES = (*PACS_TRANSFERS, "pacs.004.001.09")
#: the versions of each message the per-type rules know: a version listed here gets the
#: rules of its message (the element names those rules read are the same in every version)
PAIN001_TYPES = ("pain.001.001.09", "pain.001.001.03")
STATUS_REPORT_TYPES = ("pacs.002.001.10", "pain.002.001.10", "pain.002.001.03", "camt.029.001.09")
STATEMENT_TYPES = ("camt.053.001.08", "camt.053.001.02")
ACCOUNT_REPORT_TYPES = (*STATEMENT_TYPES, "camt.054.001.08", "camt.054.001.02", "camt.052.001.08")
HEADER_TYPES = ("head.001.001.02", "head.001.001.04")

#: the message types of SWIFT CBPR+ in the catalogue (2019 generation)
CBPR_TYPES = frozenset(
    {
        "pacs.008.001.08",
        "pacs.009.001.08",
        "pacs.002.001.10",
        "pacs.004.001.09",
        "camt.052.001.08",
        "camt.053.001.08",
        "camt.054.001.08",
        "camt.056.001.08",
        "camt.029.001.09",
    }
)

# ---------------------------------------------------------------------------------------
# Schema-typed walk
# ---------------------------------------------------------------------------------------

_OPAQUE = "\x00opaque"  # marks elements inside xs:any content

BIC_TYPES = frozenset(
    {"BICFIDec2014Identifier", "AnyBICDec2014Identifier", "BICIdentifier", "AnyBICIdentifier"}
)
IBAN_TYPES = frozenset({"IBAN2007Identifier"})
LEI_TYPES = frozenset({"LEIIdentifier"})
UUID_TYPES = frozenset({"UUIDv4Identifier"})
ACTIVE_CCY = "ActiveCurrencyCode"
ANY_CCY = "ActiveOrHistoricCurrencyCode"
#: amount types whose decimals are limited by the currency's minor units (the 13-decimal
#: amounts, for prices and rates, are not)
MINOR_UNIT_AMOUNTS = frozenset({"ActiveCurrencyAndAmount", "ActiveOrHistoricCurrencyAndAmount"})
#: the types some rule looks for (amount types with a Ccy attribute are added per schema)
TYPED_RULE_TYPES = BIC_TYPES | IBAN_TYPES | LEI_TYPES | UUID_TYPES | {ACTIVE_CCY, ANY_CCY}


@cache
def typed_index(schema_path: str) -> SchemaIndex | None:
    """The index of the schema at ``schema_path``, with the elements the typed rules look
    at as its candidates (None if the schema cannot be read)."""
    return schema_index(schema_path, TYPED_RULE_TYPES)


Typed = list[tuple[etree._Element, str | None]]


def typed_walk(root: etree._Element, index: SchemaIndex) -> Typed:
    """The elements under ``root`` that the typed rules look at (document order), each with
    its schema type or None. Types are resolved from the element's ancestors, once each;
    content under ``xs:any`` (supplementary data, signatures) is left out."""
    children, by_name, opaque = index.children, index.by_name, index.opaque
    types: dict[etree._Element, str | None] = {}

    def type_of(element: etree._Element) -> str | None:
        if element in types:
            return types[element]
        name = element.tag.rpartition("}")[2]
        parent = element.getparent() if element is not root else None
        if parent is None:
            found = index.elements.get(name) or by_name.get(name)
        else:
            parent_type = type_of(parent)
            if parent_type in opaque or parent_type == _OPAQUE:
                found = _OPAQUE
            else:
                kids = children.get(parent_type, {}) if parent_type else {}
                found = kids.get(name) or by_name.get(name)
        types[element] = found
        return found

    out: Typed = []
    if index.opaque_tags and next(root.iter(*index.opaque_tags), None) is not None:
        for element in root.iter(*index.candidates):
            type_ = type_of(element)
            if type_ != _OPAQUE:
                out.append((element, type_))
        return out
    # no xs:any content: a name with one type in the whole schema has that type wherever it
    # stands, and so has a name whose parent's name has one type; only the rest need the
    # types of their ancestors
    by_pair = index.by_pair
    for element in root.iter(*index.candidates):
        name = element.tag.rpartition("}")[2]
        type_ = by_name.get(name)
        if type_ is None and element is not root:
            parent = element.getparent()
            if parent is not None:
                type_ = by_pair.get((parent.tag.rpartition("}")[2], name))
            if type_ is None:
                type_ = type_of(element)
        out.append((element, type_))
    return out


def _type_of(element: etree._Element, fallback: MessageType) -> MessageType | None:
    namespace = namespace_of(element.tag)
    if namespace == fallback.namespace:
        return fallback
    return catalog().by_namespace(namespace)


def typed_parts(ctx: RuleContext) -> list[tuple[Typed, SchemaIndex]]:
    """The typed walks of the document and of its business application header.

    Several rules need them; they are computed once per validation (``ctx.memo``).
    """

    def walk() -> list[tuple[Typed, SchemaIndex]]:
        parts: list[tuple[Typed, SchemaIndex]] = []
        for root in (ctx.app_header, ctx.document):
            if root is None:
                continue
            mtype = _type_of(root, ctx.type)
            index = typed_index(str(mtype.schema_path)) if mtype is not None else None
            if index is not None:
                parts.append((typed_walk(root, index), index))
        return parts

    parts: list[tuple[Typed, SchemaIndex]] = ctx.memo("iso20022.typed-walk", walk)
    return parts


def _identifier_findings(
    ctx: RuleContext, types: frozenset[str], check: Callable[[str], Any]
) -> Findings:
    """A finding for every element of ``types`` whose value ``check`` finds a problem in."""
    for element in typed_elements(ctx, types):
        value = ctx.text(element)
        problem = check(value) if value else None
        if problem is not None:
            yield ctx.finding(
                element,
                f"{_name(element)} {value}: {problem.en}",
                f"{_name(element)} {value}：{problem.zh}",
                value=value,
            )


def typed_elements(ctx: RuleContext, types: frozenset[str]) -> Iterator[etree._Element]:
    """Elements of the document and header whose schema type is one of ``types``."""
    for walk, _index in typed_parts(ctx):
        for element, type_ in walk:
            if type_ in types:
                yield element


# ---------------------------------------------------------------------------------------
# Small helpers
# ---------------------------------------------------------------------------------------


def _name(element: etree._Element) -> str:
    return local_name(element.tag)


def _int(text: str | None) -> int | None:
    return int(text) if text is not None and text.isdigit() else None


def _sum(values: Iterable[Decimal | None]) -> Decimal | None:
    """The sum, or None when any value is missing or not a number."""
    total = Decimal(0)
    for value in values:
        if value is None:
            return None
        total += value
    return total


def _date(text: str | None) -> dt.date | None:
    """The date of an ISODate or ISODateTime as written (its own time zone), or None."""
    if text is None or len(text) < 10:
        return None
    try:
        return dt.date.fromisoformat(text[:10])
    except ValueError:
        return None


def _fmt(value: Decimal) -> str:
    return format(value, "f")


def _header(ctx: RuleContext) -> etree._Element | None:
    """The AppHdr: beside the document, or the document itself for a bare header."""
    if ctx.app_header is not None:
        return ctx.app_header
    if ctx.type.family == "head":
        return ctx.document
    return None


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
        counts = [_int(ctx.text(p, "DtldNbOfTxs")) for p in per_status]
        stated = _int(ctx.text(count_el))
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
        actual_sum = _sum(sums)
        if (
            sum_el is not None
            and stated_sum is not None
            and actual_sum is not None
            and actual_sum != stated_sum
        ):
            yield ctx.finding(
                sum_el,
                f"OrgnlCtrlSum is {_fmt(stated_sum)}, but the per-status control sums "
                f"add up to {_fmt(actual_sum)}",
                f"OrgnlCtrlSum 为 {_fmt(stated_sum)}，但按状态统计的金额合计为 {_fmt(actual_sum)}",
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
                    yield element, code, _name(element), type_ == ACTIVE_CCY
            elif element.get("Ccy") is not None:
                attr_type = index.ccy.get(type_ or "", ANY_CCY)
                yield (
                    element,
                    element.get("Ccy", ""),
                    f"{_name(element)}/@Ccy",
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
                    f"{_name(element)} {ctx.text(element)} {code} has {digits} decimals; "
                    f"{code} ({known.name}) has {known.minor}",
                    f"{_name(element)} 金额 {ctx.text(element)} {code} 有 {digits} 位小数，"
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
    yield from _identifier_findings(ctx, BIC_TYPES, checks.bic_problem)


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
    yield from _identifier_findings(ctx, LEI_TYPES, checks.lei_problem)


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
    yield from _identifier_findings(ctx, UUID_TYPES, checks.uuid4_problem)


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
    created = _date(ctx.text(message, "GrpHdr/CreDtTm")) if message is not None else None
    if message is None or created is None:
        return
    earliest = created - dt.timedelta(days=ctx.config.settlement_window_days)
    dates = [ctx.find(message, "GrpHdr/IntrBkSttlmDt")]
    dates += [ctx.find(tx, "IntrBkSttlmDt") for tx in ctx.transactions()]
    for element in dates:
        settled = _date(ctx.text(element))
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
        net = _sum(movements)
        if net is None or start + net == end:
            continue
        opening_code = ctx.text(opening, "Tp/CdOrPrtry/Cd")
        yield ctx.finding(
            ctx.find(closing, "Amt"),
            f"{opening_code} {_fmt(start)} plus the booked entries ({_fmt(net)}) is "
            f"{_fmt(start + net)} {ccy}, but CLBD is {_fmt(end)}",
            f"{opening_code} {_fmt(start)} 加已记账分录净额 {_fmt(net)} "
            f"为 {_fmt(start + net)} {ccy}，"
            f"但期末余额 CLBD 为 {_fmt(end)}",
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
            ("TtlNtries/Sum", _fmt(credit_sum + debit_sum), "sum"),
            ("TtlCdtNtries/NbOfNtries", str(len(credits)), "count"),
            ("TtlCdtNtries/Sum", _fmt(credit_sum), "sum"),
            ("TtlDbtNtries/NbOfNtries", str(len(debits)), "count"),
            ("TtlDbtNtries/Sum", _fmt(debit_sum), "sum"),
        ]
        for path, want, kind in expected:
            element = ctx.find(summary, path)
            if element is None:
                continue
            got = ctx.text(element)
            if kind == "count":
                ok = _int(got) == int(want)
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
                    f"but the entries net to {_fmt(abs(net))} {direction}",
                    f"TtlNetNtry 为 {ctx.text(net_el, 'Amt')} {ctx.text(net_el, 'CdtDbtInd')}，"
                    f"但分录净额为 {_fmt(abs(net))} {direction}",
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
        f"but the entries net to {_fmt(abs(net))} {direction}",
        f"TtlNetNtryAmt 为 {ctx.text(amount_el)} {indicator}，"
        f"但分录净额为 {_fmt(abs(net))} {direction}",
        value=ctx.text(amount_el),
    )


# ---------------------------------------------------------------------------------------
# pack iso20022.bah — business application header ⇄ document
# ---------------------------------------------------------------------------------------


def _document_id_element(ctx: RuleContext) -> etree._Element | None:
    """GrpHdr/MsgId, or Assgnmt/Id for the investigation messages (camt.056, camt.029)."""
    message = ctx.message
    found = ctx.find(message, "GrpHdr/MsgId")
    return found if found is not None else ctx.find(message, "Assgnmt/Id")


def _agent_bic(ctx: RuleContext, role: str) -> etree._Element | None:
    """BICFI of the instructing (``Instg``) or instructed (``Instd``) agent: group header
    first, else the first transaction; for camt.056/029 the assigner / assignee agent."""
    message = ctx.message
    if message is None:
        return None
    paths = [f"GrpHdr/{role}Agt/FinInstnId/BICFI"]
    if ctx.layout.transaction is not None:
        paths.append(f"{ctx.layout.transaction}/{role}Agt/FinInstnId/BICFI")
    paths.append(f"Assgnmt/{'Assgnr' if role == 'Instg' else 'Assgne'}/Agt/FinInstnId/BICFI")
    for path in paths:
        found = ctx.find(message, path)
        if found is not None and ctx.text(found):
            return found
    return None


def _same_institution(a: str, b: str) -> bool:
    """Two BICs name the same party: equal, or equal in their first 8 characters when one
    of them has no branch (8 characters or branch XXX)."""
    if a == b:
        return True
    if len(a) == 8 or a.endswith("XXX") or len(b) == 8 or b.endswith("XXX"):
        return a[:8] == b[:8]
    return False


@rule(
    "iso.bah.msg-def-idr",
    pack="iso20022.bah",
    title="AppHdr/MsgDefIdr names the document's message type",
    title_zh="AppHdr/MsgDefIdr 与报文体的报文类型一致",
)
def bah_msg_def_idr(ctx: RuleContext) -> Findings:
    """The header's MsgDefIdr tells the receiver how to parse the document; routing and
    processing rely on it before the document is opened. It must name the document's
    message definition (for a CNAPS2 type that carries an ISO body, the ISO id)."""
    header = ctx.app_header
    element = ctx.find(header, "MsgDefIdr")
    if element is None:
        return
    expected = ctx.type.body or ctx.type.id
    value = ctx.text(element)
    if value != expected:
        yield ctx.finding(
            element,
            f"MsgDefIdr is {value}, but the document is {expected}",
            f"MsgDefIdr 为 {value}，但报文体为 {expected}",
            value=value,
        )


@rule(
    "iso.bah.biz-msg-idr",
    pack="iso20022.bah",
    severity="warning",
    title="AppHdr/BizMsgIdr equals the document's message id",
    title_zh="AppHdr/BizMsgIdr 与报文体的报文标识一致",
)
def bah_biz_msg_idr(ctx: RuleContext) -> Findings:
    """By market practice the header's BizMsgIdr repeats the document's own identifier
    (GrpHdr/MsgId, or Assgnmt/Id for camt.056 and camt.029), so duplicates are detected and
    replies matched on one id. Only CBPR+ mandates it, hence a warning."""
    element = ctx.find(ctx.app_header, "BizMsgIdr")
    document_id = _document_id_element(ctx) if element is not None else None
    if element is None or document_id is None:
        return
    value, expected = ctx.text(element), ctx.text(document_id)
    if value != expected:
        yield ctx.finding(
            element,
            f"BizMsgIdr is {value}, but the document's {_name(document_id)} is {expected}",
            f"BizMsgIdr 为 {value}，但报文体的 {_name(document_id)} 为 {expected}",
            value=value,
        )


@rule(
    "iso.bah.fr-to-agents",
    pack="iso20022.bah",
    severity="warning",
    title="AppHdr Fr/To agree with the instructing/instructed agents",
    title_zh="AppHdr 的 Fr/To 与指示行/被指示行一致",
)
def bah_fr_to_agents(ctx: RuleContext) -> Findings:
    """The header's sender (Fr) and receiver (To) are normally the instructing and
    instructed agents of the document (the assigner and assignee for camt.056/029); a
    mismatch sends the message to, or makes it appear from, a bank that is not party to it.
    Compared only when both sides are identified by BIC. A warning: a service bureau or
    market infrastructure may legitimately send on an agent's behalf (CBPR+ forbids that)."""
    header = ctx.app_header
    if header is None:
        return
    for side, role in (("Fr", "Instg"), ("To", "Instd")):
        header_bic = ctx.find(header, f"{side}/FIId/FinInstnId/BICFI")
        agent_bic = _agent_bic(ctx, role)
        a, b = ctx.text(header_bic), ctx.text(agent_bic)
        if header_bic is None or agent_bic is None or not a or not b:
            continue
        if not _same_institution(a, b):
            agent = _name(agent_bic.getparent().getparent())
            yield ctx.finding(
                header_bic,
                f"AppHdr/{side} is {a}, but the document's {agent} is {b}",
                f"AppHdr/{side} 为 {a}，但报文体中的 {agent} 为 {b}",
                value=a,
            )


# ---------------------------------------------------------------------------------------
# pack cbpr — SWIFT CBPR+ usage guidelines
# ---------------------------------------------------------------------------------------


def _cbpr_header(ctx: RuleContext) -> etree._Element | None:
    """The header of a CBPR+ message: beside a CBPR+ document, or a bare AppHdr whose
    MsgDefIdr names a CBPR+ message type."""
    header = _header(ctx)
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
    if _name(message) == "PmtRtr":
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
