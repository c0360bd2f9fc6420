"""Streaming validation reports what validating the whole message reports.

The stream validates in chunks, each a small document made of the headers and some
transactions; the findings must still be the whole message's: per-transaction paths and
lines into the input, header findings once (not once per chunk), package totals once, at
the end. Chunks are made small here so that a few dozen transactions span several.
"""

from __future__ import annotations

import copy
import re
from pathlib import Path

import pytest
from lxml import etree

import paymsg
from benchmarks.messages import beps121, camt053
from paymsg.codec.stream import reader as stream
from paymsg.schema import layout_of, streamable_layouts
from tests.conftest import EXAMPLES, peak_rss_kib

#: rules whose streamed form is documented to differ (statement balances need every entry)
NOT_STREAMED = {"iso.stmt.balance", "iso.stmt.txs-summry"}


@pytest.fixture(autouse=True)
def small_chunks(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(stream, "CHUNK", 7)


def _key(finding: paymsg.Finding) -> tuple[object, ...]:
    return (
        finding.rule,
        finding.layer,
        finding.severity,
        finding.path,
        finding.line,
        finding.value,
    )


def _compare(data: bytes) -> list[tuple[object, ...]]:
    whole = paymsg.validate(data)
    streamed = paymsg.iter_transactions(data, validate=True)
    list(streamed)
    expected = sorted((_key(f) for f in whole.findings if f.rule not in NOT_STREAMED), key=str)
    got = sorted((_key(f) for f in streamed.report.findings if f.rule not in NOT_STREAMED), key=str)
    assert got == expected
    return got


def _nth(data: bytes, pattern: bytes, n: int, replacement: bytes) -> bytes:
    """``data`` with the ``n``-th (0-based) match of ``pattern`` replaced."""
    match = list(re.finditer(pattern, data))[n]
    return data[: match.start()] + replacement + data[match.end() :]


BEPS = beps121(40)
BEPS_CASES = {
    "header MsgId": (rb"<MsgId>\d+</MsgId>", 0, b"<MsgId>X024031500305218</MsgId>"),
    "header participant": (
        rb"<InstgDrctPty>\d+</InstgDrctPty>",
        0,
        b"<InstgDrctPty>1</InstgDrctPty>",
    ),
    "header currency": (rb'<CtrlSum Ccy="CNY">', 0, b'<CtrlSum Ccy="USD">'),
    "stated count": (rb"<NbOfTxs>40</NbOfTxs>", 0, b"<NbOfTxs>41</NbOfTxs>"),
    "stated sum": (rb"<CtrlSum Ccy=\"CNY\">[\d.]+<", 0, b'<CtrlSum Ccy="CNY">1.00<'),
    "detail schema": (rb"<TxId>\d+</TxId>", 23, b"<TxId>X</TxId>"),
    "detail currency": (rb'<Amt Ccy="CNY">', 31, b'<Amt Ccy="USD">'),
    "detail over the limit": (rb'<Amt Ccy="CNY">[\d.]+<', 15, b'<Amt Ccy="CNY">60000.00<'),
    "detail fen": (rb'<Amt Ccy="CNY">[\d.]+<', 8, b'<Amt Ccy="CNY">100.123<'),
    "detail branch": (rb"<BrnchId>\s*<Id>\d+</Id>", 39, b"<BrnchId><Id>12</Id>"),
}


def test_a_clean_package_is_clean() -> None:
    assert _compare(BEPS) == []


@pytest.mark.parametrize("case", BEPS_CASES, ids=list(BEPS_CASES))
def test_beps_package_findings_equal_the_whole_messages(case: str) -> None:
    pattern, n, replacement = BEPS_CASES[case]
    assert _compare(_nth(BEPS, pattern, n, replacement)), "the mutation must be reported"


def test_header_findings_are_reported_once_however_many_chunks() -> None:
    bad = _nth(BEPS, rb"<MsgId>\d+</MsgId>", 0, b"<MsgId>bad</MsgId>")
    streamed = paymsg.iter_transactions(bad, validate=True)
    list(streamed)
    paths = [f.path for f in streamed.report.findings]
    assert len(paths) == len(set(paths)), streamed.report.findings


def test_cnaps2_text_lines_count_from_the_top_of_the_text() -> None:
    text = (EXAMPLES / "cnaps2/beps.121.001.01/customer-credit-package.txt").read_bytes()
    assert _compare(text) == []
    assert _compare(_nth(text, rb"<TxId>\d+</TxId>", 2, b"<TxId>X</TxId>"))
    assert _compare(_nth(text, rb'<Amt Ccy="CNY">', 1, b'<Amt Ccy="EUR">'))


def test_iso_batch_findings_equal_the_whole_messages() -> None:
    batch = (EXAMPLES / "iso20022/pacs.008.001.08/cips-cny-batch.xml").read_bytes()
    assert _compare(batch) == []
    assert _compare(_nth(batch, rb"<BICFI>[A-Z0-9]+</BICFI>", 3, b"<BICFI>BADBIC</BICFI>"))
    assert _compare(_nth(batch, rb"<NbOfTxs>\d+</NbOfTxs>", 0, b"<NbOfTxs>9</NbOfTxs>"))


def test_statement_entry_findings_equal_the_whole_messages() -> None:
    statement = camt053(30)
    assert _compare(_nth(statement, rb'<Amt Ccy="CNY">', 20, b'<Amt Ccy="XXQ">'))


def test_content_after_the_transactions_is_validated_once() -> None:
    batch = (EXAMPLES / "iso20022/pacs.008.001.08/cips-cny-batch.xml").read_bytes()
    trailing = b"<SplmtryData><PlcAndNm>no envelope</PlcAndNm></SplmtryData></FIToFICstmrCdtTrf>"
    bad = batch.replace(b"</FIToFICstmrCdtTrf>", trailing)
    findings = _compare(bad)
    assert [f[0] for f in findings] == ["xsd.content"]


def test_several_statements_keep_their_own_entry_numbers() -> None:
    root = etree.fromstring(camt053(12))
    statement = root.find(".//{*}Stmt")
    assert statement is not None
    second = copy.deepcopy(statement)
    statement.addnext(second)
    for number, stmt in enumerate((statement, second), 1):
        stmt.find("{*}Id").text = f"STATEMENT-{number}"  # type: ignore[union-attr]
        extra = etree.SubElement(stmt, f"{{{etree.QName(stmt).namespace}}}AddtlStmtInf")
        extra.text = "x" * (501 if number == 1 else 10)  # Max500Text: the first is too long
    data = etree.tostring(root, xml_declaration=True, encoding="UTF-8")
    findings = _compare(_nth(data, rb'<Amt Ccy="CNY">', 40, b'<Amt Ccy="XXQ">'))
    paths = {f[3] for f in findings}
    assert "/Document/BkToCstmrStmt/Stmt[1]/AddtlStmtInf" in paths
    assert any(str(p).startswith("/Document/BkToCstmrStmt/Stmt[2]/Ntry[") for p in paths)


def test_a_package_without_transactions_is_still_validated() -> None:
    root = etree.fromstring(beps121(2))
    for detail in root.findall(".//{*}CstmrCdtTrfInf"):
        detail.getparent().remove(detail)  # type: ignore[union-attr]
    findings = _compare(etree.tostring(root, xml_declaration=True, encoding="UTF-8"))
    assert "xsd.content" in {f[0] for f in findings}


def test_a_last_chunk_that_is_full_leaves_nothing_to_report() -> None:
    assert _compare(beps121(14)) == []  # two full chunks of 7


def test_validating_stream_memory_is_flat(tmp_path: Path) -> None:
    """Peak RSS of validating 1,000 and 20,000 details: chunks are validated and dropped, so
    the larger package costs no more memory."""
    code = (
        "import sys; from paymsg import iter_transactions\n"
        "s = iter_transactions(sys.argv[1], validate=True)\n"
        "for _ in s: pass\n"
        "assert s.report.ok, s.report.findings"
    )
    peaks = []
    for details in (1_000, 20_000):  # about 1.2 MB and 24 MB of XML
        path = tmp_path / f"b{details}.xml"
        path.write_bytes(beps121(details))
        peaks.append(peak_rss_kib(code, str(path)))
    assert peaks[1] - peaks[0] < 8 * 1024  # KiB


def _streamable_examples() -> list[Path]:
    found = []
    for path in sorted(EXAMPLES.rglob("*")):
        if path.suffix not in (".xml", ".txt") or "keys" in path.parts:
            continue
        if paymsg.detect(path).type in streamable_layouts():
            found.append(path)
    return found


@pytest.mark.parametrize("path", _streamable_examples(), ids=lambda p: str(p.relative_to(EXAMPLES)))
def test_every_streamable_example_reports_as_a_whole(path: Path) -> None:
    """Bare documents, CNAPS2 text and documents inside any ISO wrapper (with an AppHdr)."""
    raw = path.read_bytes()
    _compare(raw)
    if layout_of(paymsg.detect(path).type).count is not None:  # a stated count
        assert _compare(re.sub(rb"(<(?:\w+:)?NbOfTxs>)", rb"\g<1>9", raw, count=1))


WRAPPED = (EXAMPLES / "iso20022/pacs.008.001.08/cbpr-usd-with-bah.xml").read_bytes()


def test_wrapped_messages_keep_their_header_rules() -> None:
    wrong = WRAPPED.replace(b"<MsgDefIdr>pacs.008.001.08", b"<MsgDefIdr>pacs.009.001.08", 1)
    assert "iso.bah.msg-def-idr" in {f[0] for f in _compare(wrong)}
    bad_bah = WRAPPED.replace(b"<BizMsgIdr>", b"<BizMsgIdr>" + b"X" * 40, 1)
    assert "xsd.length" in {f[0] for f in _compare(bad_bah)}


def test_a_wrapper_with_two_documents_is_refused() -> None:
    document = WRAPPED[WRAPPED.index(b"<Document") : WRAPPED.index(b"</Document>") + 11]
    doubled = WRAPPED.replace(b"</Document>", b"</Document>" + document, 1)
    with pytest.raises(paymsg.EnvelopeError, match="more than one Document"):
        list(paymsg.iter_transactions(doubled, validate=True))
    assert [f.rule for f in paymsg.validate(doubled).findings] == ["safety.envelope"]


def test_a_forced_type_must_match_the_body() -> None:
    with pytest.raises(paymsg.BindingError, match=r"asked for pacs\.009\.001\.08"):
        paymsg.iter_transactions(WRAPPED, type="pacs.009.001.08")


def test_a_transaction_that_does_not_bind_is_reported_not_raised_when_validating() -> None:
    good = beps121(20)
    bad = good.replace(b"<TxId>2024031500000007</TxId>", b"<TxId>2024031500000007</TxId><X/>", 1)
    with pytest.raises(paymsg.BindingError) as raised:
        list(paymsg.iter_transactions(bad))
    assert raised.value.path == "/Document/CstmrCdtTrf/CstmrCdtTrfInf[8]"  # its place overall

    streamed = paymsg.iter_transactions(bad, validate=True)
    items = list(streamed)
    assert len(items) == 19 and streamed.count == 20
    assert [t.tx_id for t in items] == [
        t.tx_id for i, t in enumerate(paymsg.iter_transactions(good)) if i != 7
    ]
    # the schema says why, as when validating the whole message
    assert _compare(bad) == [
        ("xsd.content", "xsd", "error", "/Document/CstmrCdtTrf/CstmrCdtTrfInf[8]/X", 375, None)
    ]


def test_a_transaction_only_the_model_refuses_is_reported(monkeypatch: pytest.MonkeyPatch) -> None:
    bind = stream._bind

    def refuse(element: etree._Element, cls: type, source: str | None) -> object:
        if etree.QName(element).localname != "CstmrCdtTrfInf":
            return bind(element, cls, source)
        raise paymsg.BindingError("refused by the model", line=element.sourceline)

    monkeypatch.setattr(stream, "_bind", refuse)
    streamed = paymsg.iter_transactions(beps121(3), validate=True)
    assert list(streamed) == []
    assert [(f.rule, f.path) for f in streamed.report.findings] == [
        ("safety.unknown-type", f"/Document/CstmrCdtTrf/CstmrCdtTrfInf[{n}]") for n in (1, 2, 3)
    ]
    assert all("not yielded" in f.message for f in streamed.report.findings)


def _statements(count: int, entries: int) -> etree._Element:
    root = etree.fromstring(camt053(entries))
    statement = root.find(".//{*}Stmt")
    assert statement is not None
    for number in range(count - 1, 0, -1):
        later = copy.deepcopy(statement)
        later.find("{*}Id").text = f"STATEMENT-{number + 1}"  # type: ignore[union-attr]
        statement.addnext(later)
    return root


def test_many_statements_number_and_report_as_a_whole() -> None:
    """Statements validated whole leave the tree (so chunks stay small); what is reported
    about the later ones keeps their places."""
    root = _statements(6, 4)
    ns = etree.QName(root).namespace
    statements = root.findall(f".//{{{ns}}}Stmt")
    for index in (1, 4):  # a bad statement field in the 2nd and the 5th
        extra = etree.SubElement(statements[index], f"{{{ns}}}AddtlStmtInf")
        extra.text = "x" * 501
    data = etree.tostring(root, xml_declaration=True, encoding="UTF-8")
    data = _nth(data, rb'<Amt Ccy="CNY">', 45, b'<Amt Ccy="XXQ">')  # an entry of the 5th
    paths = {str(f[3]) for f in _compare(data)}
    assert "/Document/BkToCstmrStmt/Stmt[2]/AddtlStmtInf" in paths
    assert "/Document/BkToCstmrStmt/Stmt[5]/AddtlStmtInf" in paths
    assert any(p.startswith("/Document/BkToCstmrStmt/Stmt[5]/Ntry[") for p in paths)
