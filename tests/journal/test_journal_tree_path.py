"""The journal's tree path (business texts read without binding the body) gives exactly
the columns of the full path.

Every example is compared in ``test_journal_short_paths``; here the CNAPS2 payments the
session sends most (hvps.111, beps.121 packages of several transactions) are varied:
amount formats, several currencies, missing optional parts, more transactions, and texts
that must leave the tree path (comments, spaces around values, other namespaces, schema
errors, reply-style elements) — each read both ways.
"""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from paymsg.journal.extract import extract, read_without_binding
from tests.conftest import EXAMPLES
from tests.journal.test_journal_short_paths import both_ways

HVPS = (EXAMPLES / "cnaps2/hvps.111.001.01/customer-transfer-urgent.txt").read_bytes()
SIGNED = (EXAMPLES / "cnaps2/hvps.111.001.01/customer-transfer-urgent.signed.txt").read_bytes()
PACKAGE = (EXAMPLES / "cnaps2/beps.121.001.01/collection-a109-colltninf.txt").read_bytes()


def _cut(text: bytes, start: bytes, end: bytes) -> bytes:
    """``text`` without the first element from ``start`` to ``end`` inclusive."""
    i = text.index(start)
    j = text.index(end, i) + len(end)
    return text[:i] + text[j:]


def test_the_payments_take_the_tree_path_and_read_as_the_full_path() -> None:
    for text in (HVPS, SIGNED, PACKAGE):
        found = read_without_binding(text)
        assert found is not None
        assert vars(found) == vars(extract(text, short=False))
    package = read_without_binding(PACKAGE)
    assert package is not None and package.nb_of_txs == 2
    assert package.amount == Decimal("32050.00") and package.package_id


@settings(max_examples=40, deadline=None)
@given(
    amount=st.one_of(
        st.from_regex(r"[0-9]{1,12}(\.[0-9]{1,2})?", fullmatch=True),
        st.sampled_from(["+1.00", "1.", ".5", " 1.00", "1.00 ", "1e3", "-1.00", "0012.50", "x"]),
    )
)
def test_amount_formats_read_the_same_both_ways(amount: str) -> None:
    variant = HVPS.replace(b">1280000.00<", f">{amount}<".encode())
    short, full = both_ways(variant)
    assert short == full


@settings(max_examples=30, deadline=None)
@given(
    first=st.from_regex(r"[0-9]{1,8}\.[0-9]{2}", fullmatch=True),
    second=st.from_regex(r"[0-9]{1,8}\.[0-9]{2}", fullmatch=True),
    currency=st.sampled_from(["CNY", "USD"]),
    drop_total=st.booleans(),
    drop_count=st.booleans(),
)
def test_package_variants_read_the_same_both_ways(
    first: str, second: str, currency: str, drop_total: bool, drop_count: bool
) -> None:
    """Transaction amounts (one or two currencies), with and without the control sum and
    the count: the total, the currency, the count and the notes agree."""
    variant = PACKAGE.replace(b">8600.00<", f">{first}<".encode()).replace(
        b'<Amt Ccy="CNY">23450.00<', f'<Amt Ccy="{currency}">{second}<'.encode()
    )
    if drop_total:
        variant = _cut(variant, b"<CtrlSum", b"</CtrlSum>")
    if drop_count:
        variant = _cut(variant, b"<NbOfTxs>", b"</NbOfTxs>")
    short, full = both_ways(variant)
    assert short == full


def _variants() -> list[tuple[str, bytes]]:
    out = [
        ("no PmtTpInf", _cut(HVPS, b"<PmtTpInf>", b"</PmtTpInf>")),
        ("no Purp", _cut(PACKAGE, b"<Purp>", b"</Purp>")),
        ("no RmtInf", _cut(HVPS, b"<RmtInf>", b"</RmtInf>") if b"<RmtInf>" in HVPS else HVPS),
        ("other work date", HVPS.replace(b"<MsgId>2024031500001037<", b"<MsgId>X1<")),
    ]
    tx_start = PACKAGE.index(b"<CdtTrfTxInf>") if b"<CdtTrfTxInf>" in PACKAGE else -1
    if tx_start >= 0:
        tx_end = PACKAGE.index(b"</CdtTrfTxInf>", tx_start) + len(b"</CdtTrfTxInf>")
        one = PACKAGE[tx_start:tx_end]
        out.append(("three transactions", PACKAGE[:tx_end] + one + PACKAGE[tx_end:]))
    return out


@pytest.mark.parametrize(
    "name, variant", _variants(), ids=lambda v: v if isinstance(v, str) else ""
)
def test_missing_and_repeated_parts_read_the_same_both_ways(name: str, variant: bytes) -> None:
    short, full = both_ways(variant)
    assert short == full


@pytest.mark.parametrize(
    "change",
    [
        (b"<MsgId>", b"<!-- c --><MsgId>"),
        (b"<MsgId>", b"<MsgId> "),
        (b"<MsgId>2024031500001037<", b"<MsgId>20240315  01037<"),
        (b"<MsgId>2024031500001037<", b"<MsgId>20240315\n01037<"),
        (b"<MsgId>2024031500001037<", b"<MsgId>20240315\t01037<"),
        (b"<NbOfTxs>1</NbOfTxs>", b"<NbOfTxs>1</NbOfTxs><![CDATA[x]]>"),
        (b"<FIToFICstmrCdtTrf>", b'<FIToFICstmrCdtTrf xmlns:x="urn:x" x:a="1">'),
        (b"<NbOfTxs>1</NbOfTxs>", b"<NbOfTxs>one</NbOfTxs>"),
        (b"<NbOfTxs>1</NbOfTxs>", b""),
        (b"<SttlmPrty>", b"<PrcSts>PR02</PrcSts><SttlmPrty>"),
        (b"pacs.008.001.02", b"pacs.008.001.08"),
        (b"</Document>", b"</Document>trailing"),
        # schema-valid on any element, read past by the binder (found by review)
        (
            b"<MsgId>",
            b'<MsgId xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xsi:schemaLocation="a b">',
        ),
        (
            b"<Prtry>A100",
            b'<Prtry xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xsi:noNamespaceSchemaLocation="a">A100',
        ),
    ],
)
def test_unusual_payments_read_the_same_both_ways(change: tuple[bytes, bytes]) -> None:
    old, new = change
    assert old in HVPS
    variant = HVPS.replace(old, new, 1)
    short, full = both_ways(variant)
    assert short == full
    if full["read_error"] is not None:
        assert read_without_binding(variant) is None


_XSI = b'xmlns:i="http://www.w3.org/2001/XMLSchema-instance"'


@pytest.mark.parametrize(
    "old, new",
    [
        (b"<MsgId>", b"<MsgId " + _XSI + b' i:type="x">'),
        (b"<MsgId>", b"<MsgId " + _XSI + b' i:nil = "false">'),
        (b"<MsgId>", b"<MsgId " + _XSI.replace(b'"', b"'") + b" i:nil='false'>"),
        (b'Ccy="CNY"', b'Ccy="CNY" ' + _XSI + b' i:nil="0"'),
        (b"<GrpHdr>", b"<GrpHdr\n\t" + _XSI + b'\n\ti:schemaLocation="a b">'),
    ],
)
def test_an_attribute_other_than_an_amounts_ccy_leaves_the_tree_path(
    old: bytes, new: bytes
) -> None:
    """The bytes tell most texts apart from those with another attribute (every ``=`` of
    a ``Ccy`` or a namespace declaration); the others are asked of the tree, and one
    with an attribute besides an amount's ``Ccy`` below the message takes the full path."""
    assert old in HVPS
    variant = HVPS.replace(old, new, 1)
    assert read_without_binding(variant) is None
    short, full = both_ways(variant)
    assert short == full


@pytest.mark.parametrize(
    "old, new",
    [
        (b'Ccy="CNY"', b"Ccy='CNY'"),
        (b'Ccy="CNY"', b'Ccy = "CNY"'),
        (b"<Ustrd>/H01/", b'<Ustrd>/H01/a=b Ccy="x" xmlns="y" i:nil="1" '),
        (
            b'<Document xmlns="urn:iso:std:iso:20022:tech:xsd:pacs.008.001.02">',
            b'<Document xmlns="urn:iso:std:iso:20022:tech:xsd:pacs.008.001.02"\n  '
            + _XSI
            + b' xmlns:p="urn:p">',
        ),
    ],
)
def test_equals_signs_in_values_and_amounts_stay_on_the_tree_path(old: bytes, new: bytes) -> None:
    assert old in HVPS
    variant = HVPS.replace(old, new, 1)
    found = read_without_binding(variant)
    assert found is not None
    assert vars(found) == vars(extract(variant, short=False))
