"""The versions real traffic uses (issue 16, item 2): camt.053.001.02, camt.054.001.02,
camt.052.001.08, pain.001.001.03, pain.002.001.03 and head.001.001.04 are catalogued types
with rules, JSON and streaming like the others (the loops over every example and type in
tests/codec and tests/validation cover parse/serialize/XSD for them too)."""

from __future__ import annotations

from decimal import Decimal

import pytest

import paymsg
from paymsg.schema.catalog import catalog
from tests.conftest import EXAMPLES

ISO = EXAMPLES / "iso20022"
NEW = [
    "camt.053.001.02",
    "camt.054.001.02",
    "camt.052.001.08",
    "pain.001.001.03",
    "pain.002.001.03",
    "head.001.001.04",
]


def _rules(raw: bytes, profile: str | None = None) -> list[str]:
    return [f.rule for f in paymsg.validate(raw, profile_name=profile).findings]


@pytest.mark.parametrize("type_id", NEW)
def test_new_version_is_catalogued_with_examples_that_validate(type_id: str) -> None:
    row = catalog().get(type_id)
    assert row.namespace == f"urn:iso:std:iso:20022:tech:xsd:{type_id}"
    files = sorted((ISO / type_id).glob("*.xml"))
    assert len(files) >= 2
    for path in files:
        report = paymsg.validate(path.read_bytes())
        assert report.ok and not report.findings, (path, report.findings)


@pytest.mark.parametrize("type_id", [t for t in NEW if t != "head.001.001.04"])
def test_new_version_is_detected_and_round_trips_through_json(type_id: str) -> None:
    for path in sorted((ISO / type_id).glob("*.xml")):
        raw = path.read_bytes()
        assert paymsg.detect(raw).type == type_id
        message = paymsg.parse(raw)
        back = paymsg.from_json(paymsg.to_json(message))
        assert back.document == message.document


def test_statement_2009_balance_and_summary_rules_apply() -> None:
    raw = (ISO / "camt.053.001.02/eur-corporate-iban.xml").read_bytes()
    unbalanced = raw.replace(b"1165023.76</Amt>", b"1165023.86</Amt>")
    assert "iso.stmt.balance" in _rules(unbalanced)
    wrong_net = raw.replace(b"<TtlNetNtryAmt>39536.42", b"<TtlNetNtryAmt>39536.40")
    assert _rules(wrong_net) == ["iso.stmt.txs-summry"]
    wrong_direction = raw.replace(
        b"<CdtDbtInd>DBIT</CdtDbtInd>\n        </TtlNtries>",
        b"<CdtDbtInd>CRDT</CdtDbtInd>\n        </TtlNtries>",
    )
    assert wrong_direction != raw and _rules(wrong_direction) == ["iso.stmt.txs-summry"]


def test_pain001_v03_counts_and_sums_are_checked() -> None:
    raw = (ISO / "pain.001.001.03/sepa-two-pmtinf-dates.xml").read_bytes()
    assert "iso.grphdr.ctrl-sum" in _rules(raw.replace(b"<CtrlSum>9361.25", b"<CtrlSum>9361.26"))
    assert "iso.grphdr.nb-of-txs" in _rules(raw.replace(b"<NbOfTxs>3<", b"<NbOfTxs>4<"))


def test_pain002_v03_per_status_breakdown_is_checked() -> None:
    raw = (ISO / "pain.002.001.03/sepa-reject-one-of-three.xml").read_bytes()
    per_status = (
        b"<GrpSts>PART</GrpSts>\n      <NbOfTxsPerSts><DtldNbOfTxs>2</DtldNbOfTxs>"
        b"<DtldSts>ACSP</DtldSts></NbOfTxsPerSts>"
    )
    broken = raw.replace(b"<GrpSts>PART</GrpSts>", per_status, 1)
    assert "iso.sts.nb-of-txs-per-sts" in _rules(broken)


def test_bah_v04_gets_the_cbpr_header_rules() -> None:
    raw = (ISO / "head.001.001.04/possible-duplicate-with-related.xml").read_bytes()
    local = raw.replace(b"Z</CreDt>", b"+08:00</CreDt>", 1)
    assert local != raw and "cbpr.bah.cre-dt-utc" in _rules(local, profile="cbpr")


def test_bah_v04_in_an_envelope_is_checked_against_its_own_schema() -> None:
    raw = (ISO / "pacs.008.001.08/cbpr-usd-bah-v04-envelope.xml").read_bytes()
    message = paymsg.parse(raw)
    assert message.type == "pacs.008.001.08"
    envelope = message.envelope
    assert envelope is not None and envelope.header_type == "head.001.001.04"  # type: ignore[union-attr]
    assert paymsg.parse(paymsg.serialize(message)) == message
    broken = raw.replace(b"<BizSvc>", b"<Bogus>x</Bogus><BizSvc>", 1)
    assert "xsd.content" in _rules(broken)


@pytest.mark.parametrize(
    ("path", "count", "total"),
    [
        ("camt.053.001.02/eur-corporate-iban.xml", 3, Decimal("64336.42")),
        ("camt.052.001.08/eur-corporate-intraday.xml", 3, Decimal("64336.42")),
    ],
)
def test_report_entries_stream(path: str, count: int, total: Decimal) -> None:
    stream = paymsg.iter_transactions((ISO / path).read_bytes(), validate=True)
    entries = list(stream)
    assert len(entries) == count
    assert sum((e.amt.value for e in entries), Decimal(0)) == total
    assert stream.report.ok, stream.report.findings
