"""Whole-message memory (issue 10, item 10): ``parse`` reads a large message in pieces,
binding each transaction as it is read, so the tree never holds them all; the result is
exactly what binding the whole tree gives. ``paymsg.validate`` streams above a size
threshold (tests/validation/test_validate_streams.py)."""

from __future__ import annotations

import copy
import re
from pathlib import Path

import pytest
from lxml import etree

import paymsg
from benchmarks.messages import beps121, camt053, pacs008, pacs008_wildcard
from paymsg.codec.stream import reader as stream
from tests.conftest import EXAMPLES, peak_rss_kib


def _one_tree(data: bytes | Path, monkeypatch: pytest.MonkeyPatch) -> paymsg.Message:
    with monkeypatch.context() as patched:
        patched.setattr(stream, "PIECES_FROM", 1 << 62)
        return paymsg.parse(data)


def _statements(count: int, entries: int) -> bytes:
    root = etree.fromstring(camt053(entries))
    statement = root.find(".//{*}Stmt")
    assert statement is not None
    for number in range(count - 1, 0, -1):
        later = copy.deepcopy(statement)
        later.find("{*}Id").text = f"STATEMENT-{number + 1}"  # type: ignore[union-attr]
        statement.addnext(later)
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8")


def _cnaps2_package(details: int) -> bytes:
    text = (EXAMPLES / "cnaps2/beps.121.001.01/customer-credit-package.txt").read_bytes()
    end = text.rindex(b"</CstmrCdtTrf>")
    detail = re.findall(rb"<CstmrCdtTrfInf>.*?</CstmrCdtTrfInf>", text, re.S)[0]
    return text[:end] + detail * details + text[end:]


def _wrapped(data: bytes) -> bytes:
    bah = (EXAMPLES / "iso20022/pacs.008.001.08/cbpr-usd-with-bah.xml").read_bytes()
    header = re.search(rb"<AppHdr.*?</AppHdr>", bah, re.S)
    assert header is not None
    body = data.split(b"?>", 1)[1]
    return (
        b"<Envelope xmlns='urn:example:wrapper'><Meta>x</Meta>"
        + header.group()
        + body
        + (b"</Envelope>")
    )


CASES = {
    "pacs.008, 1,000 transactions": lambda: pacs008(1_000),
    "pacs.008 in a wrapper with AppHdr": lambda: _wrapped(pacs008(1_000)),
    "beps.121, 3,000 details": lambda: beps121(3_000),
    "beps.121 as CNAPS2 text": lambda: _cnaps2_package(3_000),
    "camt.053, 3 statements": lambda: _statements(3, 1_500),
    "pacs.008 with xs:any in a transaction": lambda: pacs008_wildcard(30_000),
}


@pytest.mark.parametrize("build", CASES.values(), ids=CASES.keys())
def test_parse_in_pieces_gives_what_the_whole_tree_gives(
    build, monkeypatch: pytest.MonkeyPatch
) -> None:  # type: ignore[no-untyped-def]
    data = build()
    assert len(data) > stream.PIECES_FROM
    read: list[object] = []
    original = stream.read_in_pieces

    def spy(*args, **kwargs):  # type: ignore[no-untyped-def]
        pieces = original(*args, **kwargs)
        read.append(pieces)
        return pieces

    monkeypatch.setattr(stream, "read_in_pieces", spy)
    message = paymsg.parse(data)
    assert read and read[0] is not None  # it was read in pieces
    whole = _one_tree(data, monkeypatch)
    assert message == whole
    assert message.envelope == whole.envelope
    assert paymsg.serialize(message) == paymsg.serialize(whole)


@pytest.mark.parametrize(
    ("old", "new"),
    [
        (b'<IntrBkSttlmAmt Ccy="USD">', b'<IntrBkSttlmAmt Ccy="USD">x'),  # a bad amount
        (b"<ChrgBr>SLEV</ChrgBr>", b"<ChrgBr>SLEV</ChrgBr><Unknown/>"),  # an unknown element
        (b"</FIToFICstmrCdtTrf>", b"<CdtTrfTxInf/></FIToFICstmrCdtTrf>"),  # an empty one
    ],
)
def test_parse_in_pieces_refuses_what_the_whole_tree_refuses_with_the_same_error(
    old: bytes, new: bytes, monkeypatch: pytest.MonkeyPatch
) -> None:
    data = pacs008(1_000)
    index = data.rindex(old)  # in the last transaction
    broken = data[:index] + new + data[index + len(old) :]
    with pytest.raises(paymsg.PaymsgError) as pieces:
        paymsg.parse(broken)
    with pytest.raises(paymsg.PaymsgError) as whole:
        _one_tree(broken, monkeypatch)
    assert type(pieces.value) is type(whole.value)
    assert str(pieces.value) == str(whole.value)


def test_parse_in_pieces_keeps_the_safety_limits() -> None:
    data = pacs008(1_000)
    deep = data.replace(b"</ChrgBr>", b"</ChrgBr>" + b"<X>" * 70 + b"</X>" * 70, 1)
    with pytest.raises(paymsg.UnsafeXMLError, match="64 levels"):
        paymsg.parse(deep)
    with pytest.raises(paymsg.UnsafeXMLError, match="DOCTYPE"):
        paymsg.parse(data.replace(b"?>", b"?><!DOCTYPE Document>", 1))
    with pytest.raises(paymsg.UnsafeXMLError, match="over the limit"):
        paymsg.parse(data, limits=paymsg.Limits(max_bytes=len(data) - 1))


def test_whole_message_parse_takes_at_most_half_the_memory_per_transaction(
    tmp_path: Path,
) -> None:
    """A 100,000-transaction pacs.008 took 3.5 GB to parse as one tree; per transaction,
    reading in pieces must take at most half (measured on 2,000 and 8,000 transactions:
    the difference is what the transactions cost)."""
    code = (
        "import sys, paymsg\n"
        "from paymsg.codec.stream import reader as stream\n"
        "if sys.argv[2] == 'tree':\n"
        "    stream.PIECES_FROM = 1 << 62\n"
        "m = paymsg.parse(sys.argv[1])\n"
        "assert len(m.document.fito_ficstmr_cdt_trf.cdt_trf_tx_inf) > 1\n"
    )
    peaks: dict[str, list[int]] = {"tree": [], "pieces": []}
    for count in (2_000, 8_000):
        path = tmp_path / f"p{count}.xml"
        path.write_bytes(pacs008(count))
        for how in peaks:
            peaks[how].append(peak_rss_kib(code, str(path), how))
    per_tx = {how: (high - low) / 6_000 for how, (low, high) in peaks.items()}
    assert per_tx["pieces"] <= per_tx["tree"] / 2, per_tx
