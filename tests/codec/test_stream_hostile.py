"""Streaming on hostile shapes (issue 10, item 5): many repeated siblings, deep nesting,
huge ``xs:any`` content, and detection of a file too large to load.

Nothing here times anything; the speed before and after is measured by
``python -m benchmarks`` (the ``stream-shapes`` rows) and stated in the README.
"""

from __future__ import annotations

import copy
import re
import warnings
from decimal import Decimal
from pathlib import Path

import pytest
from lxml import etree

import paymsg
from benchmarks.messages import beps121, pacs008_siblings, pacs008_wildcard
from tests.conftest import EXAMPLES, peak_rss_kib

STREAM = paymsg.ValidationConfig(stream_from_bytes=0)


def _keys(report: paymsg.Report) -> list[tuple[object, ...]]:
    return sorted(((f.rule, f.layer, f.path, f.line, f.value) for f in report.findings), key=str)


def test_streamed_validation_of_200000_repeated_siblings_reports_as_a_whole() -> None:
    """Quadratic before (6.6 s streamed against 0.5 s whole: lxml moved each transaction
    out of the tree node by node); the report is the whole message's."""
    data = pacs008_siblings(200_000)
    whole = paymsg.validate(data)
    assert [f.path for f in whole.findings] == [
        "/Document/FIToFICstmrCdtTrf/CdtTrfTxInf[1]/Dbtr/PstlAdr/AdrLine[8]"
    ]
    assert _keys(paymsg.validate(data, config=STREAM)) == _keys(whole)
    stream = paymsg.iter_transactions(data, validate=True)
    first, *_ = list(stream)
    assert len(first.dbtr.pstl_adr.adr_line) == 200_002
    assert _keys(stream.report) == _keys(whole)


def _nested(levels: int) -> bytes:
    data = beps121(5)
    inner = b"<X>" * levels + b"1" + b"</X>" * levels
    return data.replace(b"</CstmrCdtTrfInf>", inner + b"</CstmrCdtTrfInf>", 1)


def test_streamed_validation_enforces_the_64_level_depth_limit() -> None:
    deep = _nested(70)
    whole = paymsg.validate(deep)
    assert [(f.rule, f.layer) for f in whole.findings] == [("safety.unsafe-xml", "safety")]
    streamed = paymsg.validate(deep, config=STREAM)
    assert [(f.rule, f.layer) for f in streamed.findings] == [("safety.unsafe-xml", "safety")]
    assert "64 levels" in streamed.findings[0].message
    with pytest.raises(paymsg.UnsafeXMLError, match="64 levels") as info:
        list(paymsg.iter_transactions(deep))
    assert info.value.path == "/Document/CstmrCdtTrf/CstmrCdtTrfInf[1]"
    with pytest.raises(paymsg.UnsafeXMLError):
        list(paymsg.iter_transactions(deep, validate=True))


def test_streamed_depth_limit_follows_limits_and_covers_what_follows_the_transactions() -> None:
    shallow = _nested(20)
    assert paymsg.validate(shallow, config=STREAM).ok is False  # <X> is not in the schema
    with pytest.raises(paymsg.UnsafeXMLError):
        list(paymsg.iter_transactions(shallow, limits=paymsg.Limits(max_depth=10)))
    deeper = paymsg.Limits(max_depth=30)
    assert list(paymsg.iter_transactions(shallow, bind=False, limits=deeper)) == [None] * 5
    # deep content after the last transaction (not inside one) is refused too
    data = beps121(3)
    inner = b"<X>" * 70 + b"</X>" * 70
    tail = data.replace(b"</CstmrCdtTrf>", inner + b"</CstmrCdtTrf>", 1)
    with pytest.raises(paymsg.UnsafeXMLError):
        list(paymsg.iter_transactions(tail))


def test_streamed_validation_of_a_million_wildcard_elements_stays_within_whole_memory(
    tmp_path: Path,
) -> None:
    """200,000 elements inside xs:any (supplementary data), validated by ``paymsg validate``
    with streaming forced: the stream held the transaction twice and bound it to objects
    (1 GB for 1,000,000 elements); now it needs no more than whole validation does."""
    path = tmp_path / "wildcard.xml"
    path.write_bytes(pacs008_wildcard(200_000))
    code = (
        "import sys\n"
        "from paymsg.cli import app, validate\n"
        "validate.STREAM_FROM = 0 if sys.argv[2] == 's' else 1 << 40\n"
        "try:\n"
        "    app(['validate', sys.argv[1]])\n"
        "except SystemExit as exit:\n"
        "    assert exit.code in (0, None), exit.code\n"
    )
    whole = peak_rss_kib(code, str(path), "w")
    streamed = peak_rss_kib(code, str(path), "s")
    assert streamed < whole * 1.15, (streamed, whole)


def test_streamed_validation_prints_no_converter_warning() -> None:
    source = (EXAMPLES / "iso20022/pacs.008.001.08/cips-cny-batch.xml").read_bytes()
    data = re.sub(rb'(<IntrBkSttlmAmt Ccy="CNY">)[^<]*', rb"\g<1>abc", source, count=1)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        stream = paymsg.iter_transactions(data, validate=True)
        items = list(stream)  # the bad one is reported, not yielded holding a str amount
        with pytest.raises(paymsg.BindingError):
            list(paymsg.iter_transactions(data))
    assert [str(w.message) for w in caught] == []  # xsdata's ConverterWarning went to stderr
    assert all(isinstance(tx.intr_bk_sttlm_amt.value, Decimal) for tx in items)
    assert len(items) == stream.count - 1
    assert "xsd.datatype" in {f.rule for f in stream.report.findings}


def test_detect_does_not_read_the_whole_file(tmp_path: Path) -> None:
    """Detection refused a 300 MB package that validate and convert stream: it read and
    size-checked the whole file. Now it reads up to the Document and stops."""
    data = beps121(400)
    path = tmp_path / "package.xml"
    path.write_bytes(data[: len(data) // 2] + b"<<< not XML, never read >>>")
    small = paymsg.Limits(max_bytes=10_000)
    assert len(data) > 10 * small.max_bytes
    found = paymsg.detect(path, limits=small)
    assert (found.type, found.method) == ("beps.121.001.01", "namespace")
    with pytest.raises(paymsg.UnsafeXMLError):
        paymsg.parse(path, limits=small)


def test_detect_reads_cnaps2_and_json_files_as_before(tmp_path: Path) -> None:
    text = (EXAMPLES / "cnaps2/beps.121.001.01/customer-credit-package.txt").read_bytes()
    big = tmp_path / "big.txt"
    body_end = text.rindex(b"</Document>")
    details = re.findall(rb"<CstmrCdtTrfInf>.*?</CstmrCdtTrfInf>", text, re.S)
    big.write_bytes(text[:body_end] + details[0] * 2_000 + text[body_end:])
    assert big.stat().st_size > 200_000
    assert paymsg.detect(big).type == "beps.121.001.01"
    spaced = tmp_path / "spaced.txt"
    spaced.write_bytes(b" " * 100_000 + text)
    assert paymsg.detect(spaced).method == "header"
    document = copy.deepcopy(paymsg.parse(text))
    js = tmp_path / "m.json"
    js.write_text(" " * 70_000 + paymsg.to_json(document), encoding="utf-8")
    assert paymsg.detect(js).method == "json"
    broken = tmp_path / "broken.txt"
    broken.write_bytes(text.replace(b"{H:02", b"{H:03", 1) + b" " * 70_000)
    with pytest.raises(paymsg.EnvelopeError) as info:
        paymsg.detect(broken)
    assert info.value.source == str(broken)


def test_detect_of_a_missing_file_is_an_input_error(tmp_path: Path) -> None:
    with pytest.raises(paymsg.InputError, match="cannot read file"):
        paymsg.detect(tmp_path / "missing.xml")


def test_streamed_wrapper_examples_need_no_etree_copy_of_the_whole_input() -> None:
    # a Document inside a wrapper with its AppHdr streams and reports as a whole
    path = EXAMPLES / "iso20022/pacs.008.001.08/cbpr-usd-with-bah.xml"
    assert _keys(paymsg.validate(path, config=STREAM)) == _keys(paymsg.validate(path))
    assert etree is not None
