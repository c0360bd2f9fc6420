"""Rule packs iso20022, iso20022.bah and cbpr: a passing and a failing case for every rule.

The failing cases mutate an example (bytes.replace or lxml) and assert the finding's rule
id, severity, element path and line. The examples themselves must be clean.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest
from lxml import etree

from paymsg.schema.catalog import catalog
from paymsg.validation import ValidationConfig, all_rules, validate
from paymsg.validation.findings import Finding, Report
from paymsg.validation.registry import rules_for
from tests.conftest import EXAMPLES, ids, iso_examples

ISO = EXAMPLES / "iso20022"
PACKS = {"iso20022", "iso20022.bah", "cbpr"}
PACK_RULES = [r for r in all_rules() if r.pack in PACKS]

Mutate = Callable[[bytes], bytes]


# -- mutation helpers ---------------------------------------------------------------------


def replace(old: str, new: str, count: int = 1) -> Mutate:
    def apply(raw: bytes) -> bytes:
        assert old.encode() in raw, f"{old!r} is not in the example"
        return raw.replace(old.encode(), new.encode(), count)

    return apply


def edit(change: Callable[[etree._Element], None]) -> Mutate:
    def apply(raw: bytes) -> bytes:
        root = etree.fromstring(raw)
        change(root)
        return etree.tostring(root, xml_declaration=True, encoding="UTF-8")

    return apply


def named(root: etree._Element, name: str) -> list[etree._Element]:
    return root.findall(f".//{{*}}{name}")


def remove(name: str, index: int = 0) -> Mutate:
    def change(root: etree._Element) -> None:
        element = named(root, name)[index]
        parent = element.getparent()
        assert parent is not None
        parent.remove(element)

    return edit(change)


def duplicate_transaction(root: etree._Element) -> None:
    tx = named(root, "CdtTrfTxInf")[0]
    tx.addnext(etree.fromstring(etree.tostring(tx)))
    named(root, "NbOfTxs")[0].text = "2"


@dataclass(frozen=True)
class Case:
    file: str
    mutate: Mutate
    path: str
    severity: str = "error"
    profile: str = "default"
    #: other rule ids the mutation is expected to trigger as well
    also: frozenset[str] = frozenset()
    config: ValidationConfig | None = None


P008_CBPR = "pacs.008.001.08/cbpr-usd-with-bah.xml"
P008_CIPS = "pacs.008.001.08/cips-cny-batch.xml"
P008_JPY = "pacs.008.001.08/jpy-prefixed-bah.xml"
STMT = "camt.053.001.08/nostro-usd-8-entries-envelope.xml"
ENV_TX = "/Envelope/Document/FIToFICstmrCdtTrf/CdtTrfTxInf[1]"
JPY_TX = "/RequestPayload/Document/FIToFICstmrCdtTrf/CdtTrfTxInf[1]"
STMT_PATH = "/Envelope/Document/BkToCstmrStmt/Stmt[1]"

#: one failing mutation per rule, keyed by rule id
FAILING: dict[str, Case] = {
    "iso.grphdr.nb-of-txs": Case(
        P008_CIPS,
        replace("<NbOfTxs>2</NbOfTxs>", "<NbOfTxs>3</NbOfTxs>"),
        "/Document/FIToFICstmrCdtTrf/GrpHdr/NbOfTxs",
    ),
    "iso.grphdr.ctrl-sum": Case(
        P008_CIPS,
        replace("<CtrlSum>1643320.75</CtrlSum>", "<CtrlSum>1643320.70</CtrlSum>"),
        "/Document/FIToFICstmrCdtTrf/GrpHdr/CtrlSum",
    ),
    "iso.grphdr.ttl-intr-bk-sttlm-amt": Case(
        P008_CIPS,
        replace(
            '<TtlIntrBkSttlmAmt Ccy="CNY">1643320.75', '<TtlIntrBkSttlmAmt Ccy="CNY">1643320.57'
        ),
        "/Document/FIToFICstmrCdtTrf/GrpHdr/TtlIntrBkSttlmAmt",
    ),
    "iso.sts.nb-of-txs-per-sts": Case(
        "pacs.002.001.10/cips-partial-acsc-rjct.xml",
        replace("<OrgnlNbOfTxs>2</OrgnlNbOfTxs>", "<OrgnlNbOfTxs>3</OrgnlNbOfTxs>"),
        "/Document/FIToFIPmtStsRpt/OrgnlGrpInfAndSts[1]/OrgnlNbOfTxs",
        severity="warning",
    ),
    "iso.currency.code": Case(
        P008_CBPR,
        replace('<IntrBkSttlmAmt Ccy="USD">', '<IntrBkSttlmAmt Ccy="DEM">'),
        f"{ENV_TX}/IntrBkSttlmAmt",
    ),
    "iso.amount.decimals": Case(
        P008_JPY,
        replace("12850000</d:IntrBkSttlmAmt>", "12850000.00</d:IntrBkSttlmAmt>"),
        f"{JPY_TX}/IntrBkSttlmAmt",
    ),
    "iso.id.bic": Case(
        P008_CBPR,
        replace("<BICFI>CHASUS33</BICFI>", "<BICFI>CHASUX33</BICFI>", count=-1),
        "/Envelope/AppHdr/To/FIId/FinInstnId/BICFI",
    ),
    "iso.id.iban": Case(
        P008_CBPR,
        replace("<IBAN>DE64500700100925641800</IBAN>", "<IBAN>DE64500700100925641880</IBAN>"),
        f"{ENV_TX}/DbtrAcct/Id/IBAN",
    ),
    "iso.id.lei": Case(
        P008_CBPR,
        replace("<LEI>549300O7RQQFPHUKS910</LEI>", "<LEI>549300O7RQQFPHUKS901</LEI>"),
        f"{ENV_TX}/Dbtr/Id/OrgId/LEI",
    ),
    "iso.id.uetr": Case(
        P008_CBPR,
        replace(
            "<UETR>465bf3ec-b2d6-44e3-ac8c-0c6f1fab08b0</UETR>",
            "<UETR>465BF3EC-B2D6-44E3-AC8C-0C6F1FAB08B0</UETR>",
        ),
        f"{ENV_TX}/PmtId/UETR",
        also=frozenset({"xsd.pattern"}),
    ),
    "iso.date.sttlm-before-creation": Case(
        P008_CIPS,
        replace(
            "<IntrBkSttlmDt>2026-04-08</IntrBkSttlmDt>", "<IntrBkSttlmDt>2026-04-07</IntrBkSttlmDt>"
        ),
        "/Document/FIToFICstmrCdtTrf/GrpHdr/IntrBkSttlmDt",
        severity="warning",
    ),
    "iso.stmt.balance": Case(
        STMT,
        replace('<Amt Ccy="USD">10586664.80</Amt>', '<Amt Ccy="USD">10586646.80</Amt>'),
        f"{STMT_PATH}/Bal[2]/Amt",
        severity="warning",
    ),
    "iso.stmt.txs-summry": Case(
        STMT,
        replace("<NbOfNtries>8</NbOfNtries>", "<NbOfNtries>7</NbOfNtries>"),
        f"{STMT_PATH}/TxsSummry/TtlNtries/NbOfNtries",
        severity="warning",
    ),
    "iso.bah.msg-def-idr": Case(
        P008_CBPR,
        replace("<MsgDefIdr>pacs.008.001.08</MsgDefIdr>", "<MsgDefIdr>pacs.009.001.08</MsgDefIdr>"),
        "/Envelope/AppHdr/MsgDefIdr",
    ),
    "iso.bah.biz-msg-idr": Case(
        P008_CBPR,
        replace(
            "<BizMsgIdr>DEUT260316P00471155</BizMsgIdr>",
            "<BizMsgIdr>DEUT260316P00471156</BizMsgIdr>",
        ),
        "/Envelope/AppHdr/BizMsgIdr",
        severity="warning",
    ),
    "iso.bah.fr-to-agents": Case(
        "camt.056.001.08/jpy-dupl-envelope.xml",
        replace("<BICFI>BOTKJPJT</BICFI>", "<BICFI>MHCBJPJT</BICFI>"),
        "/Envelope/AppHdr/To/FIId/FinInstnId/BICFI",
        severity="warning",
    ),
    "cbpr.uetr.mandatory": Case(
        P008_CBPR,
        remove("UETR"),
        f"{ENV_TX}/PmtId",
        profile="cbpr",
    ),
    "cbpr.bah.present": Case(
        P008_CBPR,
        remove("AppHdr"),
        "/Envelope/Document",
        profile="cbpr",
    ),
    "cbpr.bah.cre-dt-utc": Case(
        P008_CBPR,
        replace("<CreDt>2026-03-16T09:15:42Z</CreDt>", "<CreDt>2026-03-16T10:15:42+01:00</CreDt>"),
        "/Envelope/AppHdr/CreDt",
        profile="cbpr",
    ),
    "cbpr.bah.biz-svc": Case(
        P008_CBPR,
        remove("BizSvc"),
        "/Envelope/AppHdr",
        profile="cbpr",
    ),
    "cbpr.grphdr.nb-of-txs-one": Case(
        P008_CBPR,
        edit(duplicate_transaction),
        "/Envelope/Document/FIToFICstmrCdtTrf/GrpHdr/NbOfTxs",
        profile="cbpr",
    ),
}

#: a clean example that exercises each rule, keyed by rule id
PASSING: dict[str, str] = {
    "iso.grphdr.nb-of-txs": P008_CIPS,
    "iso.grphdr.ctrl-sum": "pain.001.001.09/two-pmtinf-eur-usd.xml",
    "iso.grphdr.ttl-intr-bk-sttlm-amt": P008_CIPS,
    "iso.sts.nb-of-txs-per-sts": "pain.002.001.10/reject-one-of-three.xml",
    "iso.currency.code": P008_CBPR,
    "iso.amount.decimals": P008_JPY,
    "iso.id.bic": P008_CBPR,
    "iso.id.iban": "camt.053.001.08/eur-corporate-iban.xml",
    "iso.id.lei": P008_CBPR,
    "iso.id.uetr": STMT,
    "iso.date.sttlm-before-creation": P008_CIPS,
    "iso.stmt.balance": STMT,
    "iso.stmt.txs-summry": STMT,
    "iso.bah.msg-def-idr": P008_JPY,
    "iso.bah.biz-msg-idr": "camt.056.001.08/jpy-dupl-envelope.xml",
    "iso.bah.fr-to-agents": P008_CBPR,
    "cbpr.uetr.mandatory": "pacs.004.001.09/cbpr-usd-return-ac04.xml",
    "cbpr.bah.present": STMT,
    "cbpr.bah.cre-dt-utc": "head.001.001.02/possible-duplicate-with-related.xml",
    "cbpr.bah.biz-svc": "head.001.001.02/cbpr-minimal-fi-to-fi.xml",
    "cbpr.grphdr.nb-of-txs-one": "pacs.009.001.08/cov-usd-envelope.xml",
}


def _rule_findings(report: Report) -> list[Finding]:
    return [f for f in report.findings if f.layer != "safety"]


def _check_case(rule_id: str, case: Case) -> Finding:
    raw = case.mutate((ISO / case.file).read_bytes())
    report = validate(raw, profile_name=case.profile, config=case.config)
    hits = [f for f in report.findings if f.rule == rule_id]
    assert hits, f"{rule_id} did not fire: {[f.rule for f in report.findings]}"
    others = {f.rule for f in _rule_findings(report)} - {rule_id}
    assert others <= case.also, f"unexpected findings: {report.findings}"
    finding = hits[0]
    assert finding.severity == case.severity
    assert finding.path == case.path
    assert finding.line is not None and finding.line > 0
    assert finding.message and finding.message_zh
    return finding


def _pack_rule_ids() -> list[str]:
    return [r.id for r in PACK_RULES]


def test_every_rule_has_a_failing_and_a_passing_case() -> None:
    assert set(_pack_rule_ids()) == set(FAILING)
    assert set(_pack_rule_ids()) == set(PASSING)


def test_rules_are_documented_and_bilingual() -> None:
    for spec in PACK_RULES:
        assert spec.id.startswith(("iso.", "cbpr.")), spec.id
        assert len(spec.doc) > 80, spec.id
        assert spec.title and spec.title_zh


@pytest.mark.parametrize("rule_id", sorted(FAILING))
def test_rule_fails(rule_id: str) -> None:
    _check_case(rule_id, FAILING[rule_id])


@pytest.mark.parametrize("rule_id", sorted(PASSING))
def test_rule_passes(rule_id: str) -> None:
    path = ISO / PASSING[rule_id]
    spec = next(r for r in PACK_RULES if r.id == rule_id)
    profile = "cbpr" if spec.pack == "cbpr" else "default"
    report = validate(path, profile_name=profile)
    assert report.type is not None
    assert spec in rules_for(catalog().get(report.type), [spec.pack]), "rule does not apply"
    assert report.counts == {"error": 0, "warning": 0, "info": 0}, report.findings


# -- more failing cases: other message types and branches of the rules ----------------------

MORE: list[tuple[str, Case]] = [
    (  # pain.001: the count of one payment block
        "iso.grphdr.nb-of-txs",
        Case(
            "pain.001.001.09/two-pmtinf-eur-usd.xml",
            replace("<NbOfTxs>2</NbOfTxs>", "<NbOfTxs>1</NbOfTxs>"),
            "/Document/CstmrCdtTrfInitn/PmtInf[1]/NbOfTxs",
        ),
    ),
    (  # pain.001: the group count covers all blocks
        "iso.grphdr.nb-of-txs",
        Case(
            "pain.001.001.09/two-pmtinf-eur-usd.xml",
            replace("<NbOfTxs>3</NbOfTxs>", "<NbOfTxs>2</NbOfTxs>"),
            "/Document/CstmrCdtTrfInitn/GrpHdr/NbOfTxs",
        ),
    ),
    (  # camt.056 control data
        "iso.grphdr.nb-of-txs",
        Case(
            "camt.056.001.08/cny-cips-cust-bare.xml",
            replace("<NbOfTxs>1</NbOfTxs>", "<NbOfTxs>2</NbOfTxs>"),
            "/Document/FIToFIPmtCxlReq/CtrlData/NbOfTxs",
        ),
    ),
    (  # 2009 generation (CNAPS2 bodies) too
        "iso.grphdr.nb-of-txs",
        Case(
            "pacs.008.001.02/hkd-chats-batch-two-tx.xml",
            replace("<NbOfTxs>2</NbOfTxs>", "<NbOfTxs>1</NbOfTxs>"),
            "/Document/FIToFICstmrCdtTrf/GrpHdr/NbOfTxs",
        ),
    ),
    (  # a pain.001 block's control sum
        "iso.grphdr.ctrl-sum",
        Case(
            "pain.001.001.09/two-pmtinf-eur-usd.xml",
            replace("<CtrlSum>25805.50</CtrlSum>", "<CtrlSum>25805.05</CtrlSum>"),
            "/Document/CstmrCdtTrfInitn/PmtInf[1]/CtrlSum",
        ),
    ),
    (  # pacs.004 sums the returned amounts
        "iso.grphdr.ctrl-sum",
        Case(
            "pacs.004.001.09/cips-cny-return-ac04.xml",
            replace("<CtrlSum>88000.00</CtrlSum>", "<CtrlSum>88000.01</CtrlSum>"),
            "/Document/PmtRtr/GrpHdr/CtrlSum",
        ),
    ),
    (  # camt.056 sums the original settlement amounts
        "iso.grphdr.ctrl-sum",
        Case(
            "camt.056.001.08/cny-cips-cust-bare.xml",
            replace("<CtrlSum>1286500.00</CtrlSum>", "<CtrlSum>1286500.10</CtrlSum>"),
            "/Document/FIToFIPmtCxlReq/CtrlData/CtrlSum",
        ),
    ),
    (  # pacs.004 TtlRtrdIntrBkSttlmAmt, currency differs from the transaction's
        "iso.grphdr.ttl-intr-bk-sttlm-amt",
        Case(
            "pacs.004.001.09/cips-cny-return-ac04.xml",
            replace('<RtrdIntrBkSttlmAmt Ccy="CNY">', '<RtrdIntrBkSttlmAmt Ccy="HKD">'),
            "/Document/PmtRtr/TxInf[1]/RtrdIntrBkSttlmAmt",
        ),
    ),
    (  # pacs.009 group total
        "iso.grphdr.ttl-intr-bk-sttlm-amt",
        Case(
            "pacs.009.001.08/core-hkd-chats.xml",
            replace(
                '<TtlIntrBkSttlmAmt Ccy="HKD">50000000.00',
                '<TtlIntrBkSttlmAmt Ccy="HKD">5000000.00',
            ),
            "/Document/FICdtTrf/GrpHdr/TtlIntrBkSttlmAmt",
        ),
    ),
    (  # pain.002: a payment block's per-status control sums
        "iso.sts.nb-of-txs-per-sts",
        Case(
            "pain.002.001.10/reject-one-of-three.xml",
            replace(
                "<OrgnlCtrlSum>25805.50</OrgnlCtrlSum>", "<OrgnlCtrlSum>25805.55</OrgnlCtrlSum>"
            ),
            "/Document/CstmrPmtStsRpt/OrgnlPmtInfAndSts[1]/OrgnlCtrlSum",
            severity="warning",
        ),
    ),
    (  # unknown code in an account currency element
        "iso.currency.code",
        Case(
            STMT,
            replace("<Ccy>USD</Ccy>", "<Ccy>USX</Ccy>"),
            f"{STMT_PATH}/Acct/Ccy",
        ),
    ),
    (  # a statement entry amount in a 3-decimal currency written with 4
        "iso.amount.decimals",
        Case(
            "camt.053.001.08/cny-corporate-small.xml",
            edit(lambda root: _set_amount(named(root, "Ntry")[0], "BHD", "1.2345")),
            "/Document/BkToCstmrStmt/Stmt[1]/Ntry[1]/Amt",
        ),
    ),
    (  # an IBAN of the wrong length
        "iso.id.iban",
        Case(
            "camt.053.001.08/eur-corporate-iban.xml",
            replace("<IBAN>DE89370400440532013000</IBAN>", "<IBAN>DE8937040044053201300</IBAN>"),
            "/Document/BkToCstmrStmt/Stmt[1]/Acct/Id/IBAN",
        ),
    ),
    (  # a country the registry table does not know: a warning when the check digits are right
        "iso.id.iban",
        Case(
            "camt.053.001.08/eur-corporate-iban.xml",
            replace(
                "<IBAN>DE89370400440532013000</IBAN>", "<IBAN>DZ580002100001113000000570</IBAN>"
            ),
            "/Document/BkToCstmrStmt/Stmt[1]/Acct/Id/IBAN",
            severity="warning",
        ),
    ),
    (  # the AnyBIC of an organisation
        "iso.id.bic",
        Case(
            STMT,
            replace("<AnyBIC>DEUTDEFF</AnyBIC>", "<AnyBIC>DEUTDFFF</AnyBIC>"),
            f"{STMT_PATH}/Acct/Ownr/Id/OrgId/AnyBIC",
        ),
    ),
    (  # a UETR that is not version 4 (the schema pattern fails as well)
        "iso.id.uetr",
        Case(
            "pacs.004.001.09/cbpr-usd-return-ac04.xml",
            replace(
                "<OrgnlUETR>465bf3ec-b2d6-44e3-ac8c-0c6f1fab08b0</OrgnlUETR>",
                "<OrgnlUETR>465bf3ec-b2d6-14e3-ac8c-0c6f1fab08b0</OrgnlUETR>",
            ),
            "/BusinessMessage/Document/PmtRtr/TxInf[1]/OrgnlUETR",
            also=frozenset({"xsd.pattern"}),
        ),
    ),
    (  # the window of ValidationConfig is honoured
        "iso.date.sttlm-before-creation",
        Case(
            P008_CIPS,
            replace(
                "<IntrBkSttlmDt>2026-04-08</IntrBkSttlmDt>",
                "<IntrBkSttlmDt>2026-04-05</IntrBkSttlmDt>",
            ),
            "/Document/FIToFICstmrCdtTrf/GrpHdr/IntrBkSttlmDt",
            severity="warning",
            config=ValidationConfig(settlement_window_days=2),
        ),
    ),
    (  # the net entry direction
        "iso.stmt.txs-summry",
        Case(
            "camt.053.001.08/eur-corporate-iban.xml",
            replace(
                "<Amt>39536.42</Amt>\n            <CdtDbtInd>DBIT</CdtDbtInd>",
                "<Amt>39536.42</Amt>\n            <CdtDbtInd>CRDT</CdtDbtInd>",
            ),
            "/Document/BkToCstmrStmt/Stmt[1]/TxsSummry/TtlNtries/TtlNetNtry",
            severity="warning",
        ),
    ),
    (  # Fr of a pacs.008 against its instructing agent
        "iso.bah.fr-to-agents",
        Case(
            "pacs.008.001.08/jpy-prefixed-bah.xml",
            replace("<h:BICFI>BNPAFRPP</h:BICFI>", "<h:BICFI>SOGEFRPP</h:BICFI>"),
            "/RequestPayload/AppHdr/Fr/FIId/FinInstnId/BICFI",
            severity="warning",
        ),
    ),
    (  # camt.056: BizMsgIdr is compared with Assgnmt/Id
        "iso.bah.biz-msg-idr",
        Case(
            "camt.056.001.08/jpy-dupl-envelope.xml",
            replace("<Id>BNPP260512CXL0000731</Id>", "<Id>BNPP260512CXL0000732</Id>"),
            "/Envelope/AppHdr/BizMsgIdr",
            severity="warning",
        ),
    ),
    (  # pacs.004 under CBPR+ needs OrgnlUETR
        "cbpr.uetr.mandatory",
        Case(
            "pacs.004.001.09/cbpr-usd-return-ac04.xml",
            remove("OrgnlUETR"),
            "/BusinessMessage/Document/PmtRtr/TxInf[1]",
            profile="cbpr",
        ),
    ),
    (  # a bare CBPR+ header is checked too, in its related header as well
        "cbpr.bah.cre-dt-utc",
        Case(
            "head.001.001.02/possible-duplicate-with-related.xml",
            edit(lambda root: _set_text(named(root, "CreDt")[-1], "2026-10-19T09:30:00+08:00")),
            "/AppHdr/Rltd[1]/CreDt",
            profile="cbpr",
        ),
    ),
]


def _set_amount(entry: etree._Element, ccy: str, value: str) -> None:
    amount = entry.find("{*}Amt")
    assert amount is not None
    amount.set("Ccy", ccy)
    amount.text = value


def _set_text(element: etree._Element, value: str) -> None:
    element.text = value


@pytest.mark.parametrize(
    ("rule_id", "case"), MORE, ids=[f"{r}:{c.file}:{c.path.rsplit('/', 1)[-1]}" for r, c in MORE]
)
def test_rule_fails_more(rule_id: str, case: Case) -> None:
    _check_case(rule_id, case)


# -- things that must NOT be reported ------------------------------------------------------


def _clean(raw: bytes, profile: str = "default", config: ValidationConfig | None = None) -> None:
    report = validate(raw, profile_name=profile, config=config)
    assert report.counts == {"error": 0, "warning": 0, "info": 0}, report.findings


def test_historic_currency_is_accepted_where_the_field_allows_it() -> None:
    # InstdAmt is ActiveOrHistoricCurrencyAndAmount: a withdrawn currency is fine there
    raw = (ISO / P008_JPY).read_bytes().replace(b'InstdAmt Ccy="JPY"', b'InstdAmt Ccy="DEM"')
    _clean(raw)


def test_currency_without_minor_unit_is_not_checked_for_decimals() -> None:
    raw = (
        (ISO / P008_JPY)
        .read_bytes()
        .replace(
            b'<d:InstdAmt Ccy="JPY">12850000</d:InstdAmt>',
            b'<d:InstdAmt Ccy="XAU">12.12345</d:InstdAmt>',
        )
    )
    _clean(raw)


def test_settlement_inside_the_window_is_accepted() -> None:
    raw = (
        (ISO / P008_CIPS)
        .read_bytes()
        .replace(
            b"<IntrBkSttlmDt>2026-04-08</IntrBkSttlmDt>",
            b"<IntrBkSttlmDt>2026-04-06</IntrBkSttlmDt>",
        )
    )
    _clean(raw, config=ValidationConfig(settlement_window_days=2))


def test_branch_and_head_office_bic_agree() -> None:
    raw = (ISO / P008_CBPR).read_bytes()
    head, sep, body = raw.partition(b"<Document")
    _clean(head.replace(b"<BICFI>CHASUS33</BICFI>", b"<BICFI>CHASUS33XXX</BICFI>") + sep + body)


def test_group_return_without_transactions_is_not_counted() -> None:
    # pacs.004 may return a whole group (GrpRtr) without listing TxInf
    raw = remove("TxInf")((ISO / "pacs.004.001.09/cips-cny-return-ac04.xml").read_bytes())
    _clean(raw)


def test_non_cbpr_bare_header_is_not_held_to_cbpr() -> None:
    # the corporate pain.001 header has no BizSvc; it is not a CBPR+ message
    _clean((ISO / "head.001.001.02/corporate-to-bank-orgid.xml").read_bytes(), profile="cbpr")


# -- the examples --------------------------------------------------------------------------

ALL = iso_examples()
CBPR = [p for p in ALL if b"swift.cbprplus" in p.read_bytes()]


@pytest.mark.parametrize("path", ALL, ids=ids(ALL))
def test_examples_are_clean_under_default(path: Path) -> None:
    report = validate(path)
    assert report.counts == {"error": 0, "warning": 0, "info": 0}, report.findings


@pytest.mark.parametrize("path", CBPR, ids=ids(CBPR))
def test_cbpr_examples_are_clean_under_cbpr(path: Path) -> None:
    report = validate(path, profile_name="cbpr")
    assert report.counts == {"error": 0, "warning": 0, "info": 0}, report.findings


def test_there_are_cbpr_examples() -> None:
    assert len(CBPR) >= 8


# -- robustness: rules never crash on documents that failed the schema ----------------------


def _leaves(root: etree._Element) -> list[etree._Element]:
    return [e for e in root.iter() if isinstance(e.tag, str) and len(e) == 0]


def _garble_text(root: etree._Element) -> None:
    for leaf in _leaves(root):
        leaf.text = "x!"
        for name in list(leaf.attrib):
            leaf.set(name, "??")


def _empty_text(root: etree._Element) -> None:
    for leaf in _leaves(root):
        leaf.text = None


def _drop_every_other(root: etree._Element) -> None:
    for i, element in enumerate([e for e in root.iter() if isinstance(e.tag, str)][3:]):
        parent = element.getparent()
        if i % 2 and parent is not None:
            parent.remove(element)


def _hollow_document(root: etree._Element) -> None:
    for document in named(root, "Document") or [root]:
        for child in list(document):
            document.remove(child)


@pytest.mark.parametrize("damage", [_garble_text, _empty_text, _drop_every_other, _hollow_document])
@pytest.mark.parametrize("path", ALL, ids=ids(ALL))
def test_rules_survive_broken_documents(
    path: Path, damage: Callable[[etree._Element], None]
) -> None:
    raw = edit(damage)(path.read_bytes())
    report = validate(raw, profile_name="cbpr")
    crashed = [f for f in report.findings if "could not run" in f.message]
    assert not crashed, crashed
