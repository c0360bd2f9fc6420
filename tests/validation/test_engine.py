"""The validation engine: layers, XSD findings with element paths and lines, robustness."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

import paymsg
from paymsg.validation import Report, all_rules, registry, validate
from tests.conftest import EXAMPLES

PACS008 = EXAMPLES / "iso20022/pacs.008.001.08/cips-cny-batch.xml"
TX1 = "/Document/FIToFICstmrCdtTrf/CdtTrfTxInf[1]"


def _line_of(text: bytes, needle: bytes) -> int:
    return text[: text.index(needle)].count(b"\n") + 1


def _only(report: Report, layer: str) -> list[paymsg.Finding]:
    return [f for f in report.findings if f.layer == layer]


# each mutation: (description, replace-from, replace-to, expected rule, expected path, line needle)
XSD_MUTATIONS = [
    ("missing mandatory element", b"<ChrgBr>SHAR</ChrgBr>", b"", "xsd.content", f"{TX1}", None),
    (
        "wrong order",
        b"<ChrgBr>SHAR</ChrgBr>",
        b"",
        "xsd.content",
        None,
        None,
    ),
    (
        "bad pattern",
        b"<BICFI>ICBKCNBJ</BICFI>",
        b"<BICFI>icbkcnbj</BICFI>",
        "xsd.pattern",
        None,
        b"<BICFI>icbkcnbj",
    ),
    (
        "over-long text",
        b"<MsgId>",
        b"<MsgId>" + b"X" * 40,
        "xsd.length",
        "/Document/FIToFICstmrCdtTrf/GrpHdr/MsgId",
        b"<MsgId>",
    ),
    (
        "unknown element",
        b"<NbOfTxs>",
        b"<Bogus>1</Bogus><NbOfTxs>",
        "xsd.content",
        "/Document/FIToFICstmrCdtTrf/GrpHdr/Bogus",
        b"<Bogus>",
    ),
    (
        "bad code",
        b"<ChrgBr>SHAR</ChrgBr>",
        b"<ChrgBr>OURS</ChrgBr>",
        "xsd.code",
        None,
        b"<ChrgBr>OURS",
    ),
    (
        "bad date",
        b"<IntrBkSttlmDt>",
        b"<IntrBkSttlmDt>2026-02-30",
        "xsd.datatype",
        None,
        b"<IntrBkSttlmDt>2026-02-30",
    ),
]


def test_examples_are_clean() -> None:
    for path in sorted(EXAMPLES.glob("iso20022/*/*.xml")):
        report = validate(path)
        assert report.ok and not report.findings, (path, report.findings)


@pytest.mark.parametrize("case", XSD_MUTATIONS, ids=[c[0] for c in XSD_MUTATIONS])
def test_xsd_mutations_are_reported_with_path_and_line(case) -> None:  # type: ignore[no-untyped-def]
    _, old, new, rule, path, needle = case
    text = PACS008.read_bytes()
    if case[0] == "wrong order":  # move ChrgBr after the debtor
        text = text.replace(old, b"", 1).replace(b"</Dbtr>", b"</Dbtr>" + old, 1)
    else:
        assert old in text
        text = text.replace(old, new, 1)
    report = validate(text)
    xsd = _only(report, "xsd")
    assert not report.ok and xsd, report.findings
    first = xsd[0]
    assert first.rule == rule, first
    assert first.path and first.path.startswith("/Document/"), first
    if path is not None:
        assert first.path.startswith(path), first
    assert first.line is not None
    if needle is not None:
        assert first.line == _line_of(text, needle), first
    assert first.message and first.message_zh


def test_prefixed_documents_get_element_name_paths() -> None:
    path = EXAMPLES / "iso20022/pacs.008.001.08/jpy-prefixed-bah.xml"
    text = path.read_bytes().replace(b"<d:ChrgBr>", b"<d:Bogus/><d:ChrgBr>", 1)
    finding = _only(validate(text), "xsd")[0]
    assert finding.path == "/RequestPayload/Document/FIToFICstmrCdtTrf/CdtTrfTxInf[1]/Bogus"


def test_all_findings_are_collected_not_just_the_first() -> None:
    text = PACS008.read_bytes().replace(b"<ChrgBr>SHAR</ChrgBr>", b"<ChrgBr>OURS</ChrgBr>")
    assert text.count(b"<ChrgBr>OURS</ChrgBr>") >= 2
    assert len(_only(validate(text), "xsd")) >= 2


def test_rules_still_run_on_a_document_that_failed_the_schema() -> None:
    text = PACS008.read_bytes().replace(b"<ChrgBr>SHAR</ChrgBr>", b"", 1)
    text = text.replace(b"<NbOfTxs>2</NbOfTxs>", b"<NbOfTxs>5</NbOfTxs>")
    report = validate(text)
    assert _only(report, "xsd")
    assert any(f.rule == "iso.grphdr.nb-of-txs" for f in report.findings)
    assert not any("could not run" in f.message for f in report.findings)


@pytest.mark.parametrize(
    ("text", "rule"),
    [
        (b"<Document><oops></Document>", "safety.malformed-xml"),
        (b'<?xml version="1.0"?><!DOCTYPE d [<!ENTITY x "y">]><d>&x;</d>', "safety.unsafe-xml"),
        (b'<Document xmlns="urn:nobody"/>', "safety.unknown-type"),
        (b"{H:02XYZ}\r\n<Document/>", "safety.envelope"),
        (b'{"type": "pacs.999.001.01", "document": {}}', "safety.unknown-type"),
    ],
)
def test_unreadable_input_becomes_a_safety_finding(text: bytes, rule: str) -> None:
    report = validate(text)
    assert [f.rule for f in report.findings] == [rule]
    assert report.findings[0].layer == "safety" and not report.ok


def test_cnaps_lines_count_from_the_start_of_the_text() -> None:
    path = EXAMPLES / "cnaps2/hvps.111.001.01/customer-transfer-urgent.txt"
    text = path.read_bytes().replace(b"<ChrgBr>DEBT</ChrgBr>", b"<ChrgBr>OURS</ChrgBr>")
    finding = _only(validate(text), "xsd")[0]
    assert finding.line == _line_of(text, b"<ChrgBr>OURS")


def test_validate_accepts_messages_and_paymsg_json() -> None:
    message = paymsg.parse(PACS008)
    assert validate(message).ok
    assert validate(paymsg.to_json(message).encode()).ok


def test_a_crashing_rule_is_reported_not_raised(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    spec = next(r for r in all_rules() if r.id == "iso.grphdr.nb-of-txs")

    def boom(ctx):  # type: ignore[no-untyped-def]
        raise RuntimeError("kaput")

    broken = dataclasses.replace(spec, func=boom)
    monkeypatch.setattr(registry, "rules_for", lambda mtype, packs: [broken])
    report = validate(PACS008)
    assert [f.severity for f in report.findings] == ["error"]
    assert "kaput" in report.findings[0].message


def test_every_rule_is_documented() -> None:
    for spec in all_rules():
        assert spec.doc and spec.title and spec.title_zh, spec.id


def test_profiles(tmp_path: Path) -> None:
    text = PACS008.read_bytes().replace(b"<NbOfTxs>2</NbOfTxs>", b"<NbOfTxs>5</NbOfTxs>")
    assert not validate(text).ok
    assert validate(text, profile_name="schema").ok
    with pytest.raises(paymsg.ConfigError):
        validate(text, profile_name="nope")


def test_repeatable_elements_always_carry_their_index() -> None:
    """The issue's own example: a single transaction is still CdtTrfTxInf[1]."""
    from benchmarks.messages import pacs008_one

    text = pacs008_one()
    start = text.index(b"<IntrBkSttlmAmt")
    close = text.index(b"</IntrBkSttlmAmt>", start)
    broken = text[:close] + b"123" + text[close:]  # 25000.00 → 25000.00123: too many decimals
    paths = {f.path for f in validate(broken).findings}
    assert "/Document/FIToFICstmrCdtTrf/CdtTrfTxInf[1]/IntrBkSttlmAmt" in paths
