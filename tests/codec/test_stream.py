"""Streaming: same transactions as a full parse, flat memory, package checks at the end."""

from __future__ import annotations

import re

import pytest

import paymsg
from benchmarks.messages import beps121, camt053, pacs008_one
from tests.conftest import EXAMPLES


def test_transactions_equal_a_full_parse() -> None:
    data = beps121(1_200)
    whole = paymsg.parse(data, type="beps.121.001.01").document.cstmr_cdt_trf
    stream = paymsg.iter_transactions(data)
    assert list(stream) == whole.cstmr_cdt_trf_inf
    assert stream.header == whole.pkggrp_hdr
    assert stream.count == 1_200


def test_cnaps_text_and_iso_messages_stream() -> None:
    text = EXAMPLES / "cnaps2/beps.121.001.01/customer-credit-package.txt"
    stream = paymsg.iter_transactions(text, validate=True)
    assert stream.type.id == "beps.121.001.01" and len(list(stream)) == 3
    assert stream.report.ok, stream.report.findings
    stream = paymsg.iter_transactions(pacs008_one(), validate=True)
    assert len(list(stream)) == 1 and stream.report.ok
    entries = paymsg.iter_transactions(camt053(50), validate=True)
    assert len(list(entries)) == 50
    assert [f.rule for f in entries.report.findings] == ["iso.stmt.balance"]  # info: not checked


def test_validation_reports_per_transaction_paths_across_chunks() -> None:
    data = beps121(1_100)
    broken = data.replace(b"<TxId>2024031500001050</TxId>", b"<TxId>X</TxId>")
    stream = paymsg.iter_transactions(broken, validate=True)
    list(stream)
    findings = [f for f in stream.report.findings if f.layer == "xsd"]
    assert findings and findings[0].path == "/Document/CstmrCdtTrf/CstmrCdtTrfInf[1051]/TxId"
    assert findings[0].line is not None and findings[0].line > 1000


def test_package_totals_are_checked_at_the_end() -> None:
    data = beps121(700).replace(b"<NbOfTxs>700</NbOfTxs>", b"<NbOfTxs>701</NbOfTxs>")
    stream = paymsg.iter_transactions(data, validate=True)
    list(stream)
    rules = [f.rule for f in stream.report.findings]
    assert rules == ["cnaps2.beps.nb-of-txs"]
    assert stream.report.findings[0].path == "/Document/CstmrCdtTrf/PKGGrpHdr/NbOfTxs"


def test_refuses_what_it_cannot_stream() -> None:
    with pytest.raises(paymsg.UnknownMessageTypeError, match="streamable"):
        paymsg.iter_transactions(EXAMPLES / "iso20022/camt.056.001.08/cny-cips-cust-bare.xml")
    with pytest.raises(paymsg.UnsafeXMLError):
        paymsg.iter_transactions(b'<!DOCTYPE d [<!ENTITY x "y">]><d>&x;</d>')


def test_bytes_read_tells_how_far_the_stream_is() -> None:
    text = EXAMPLES / "cnaps2/beps.121.001.01/customer-credit-package.txt"
    stream = paymsg.iter_transactions(text)
    positions = [stream.bytes_read]
    for _ in stream:
        positions.append(stream.bytes_read)
    assert positions[0] > 0  # the CNAPS2 header is read to know the type
    assert positions == sorted(positions)
    assert positions[-1] == text.stat().st_size


def test_comments_and_instructions_inside_values_are_not_data() -> None:
    data = beps121(3)
    split = re.sub(rb"<TxId>(\d)(\d+)</TxId>", rb"<TxId>\1<?hub seen?><!-- c -->\2</TxId>", data)
    assert split != data
    assert list(paymsg.iter_transactions(split)) == list(paymsg.iter_transactions(data))
    stream = paymsg.iter_transactions(split, validate=True)
    list(stream)
    assert stream.report.ok, stream.report.findings
