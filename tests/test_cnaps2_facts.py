"""Shared CNAPS2 facts: the SummaryAmountText helper (``CNY+123.45`` ⇄ currency and Decimal)
and the NPC status table."""

from __future__ import annotations

import re
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from paymsg.errors import BindingError, PaymsgError
from paymsg.reference.cnaps2 import (
    NPC_STATUSES,
    SUMMARY_AMOUNT,
    SummaryAmount,
    format_summary_amount,
    parse_summary_amount,
)
from tests.conftest import ROOT


def test_parse_and_format() -> None:
    assert parse_summary_amount("CNY+123.45") == SummaryAmount("CNY", Decimal("123.45"))
    assert parse_summary_amount("CNY-0.50") == ("CNY", Decimal("-0.50"))
    assert format_summary_amount("CNY", Decimal("123.45")) == "CNY+123.45"
    assert format_summary_amount("CNY", Decimal("-7")) == "CNY-7.00"
    assert format_summary_amount("CNY", 0) == "CNY+0.00"
    assert format_summary_amount("USD", Decimal("1.500")) == "USD+1.50"  # trailing zeros only


def test_negative_zero_keeps_its_sign() -> None:
    parsed = parse_summary_amount("CNY-0.00")
    assert parsed.amount == 0 and parsed.amount.is_signed()
    assert format_summary_amount(*parsed) == "CNY-0.00"


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("CNY123.45", "no sign"),
        ("CNY+123.4", "1 decimals"),
        ("CNY+123.456", "3 decimals"),
        ("CNY+123", "0 decimals"),
        ("cny+1.00", "upper-case currency"),
        ("CN+1.00", "upper-case currency"),
        ("CNY +1.00", "spaces"),
        (" CNY+1.00", "spaces"),
        ("CNY+.50", "no digits before"),
        ("CNY+" + "9" * 21 + ".00", "21 digits"),
        ("", "empty"),
        ("CNY+1,000.00", "currency code, a sign and an amount"),
        ("CNY+١٢.00", "currency code, a sign and an amount"),  # non-ASCII digits
    ],
)
def test_anything_else_is_a_located_error(text: str, words: str) -> None:
    with pytest.raises(BindingError) as info:
        parse_summary_amount(text, source="day.xml", path="/Document/X/SndgCtrlSum", line=7)
    error = info.value
    assert words in error.message, error.message
    assert (error.source, error.path, error.line) == ("day.xml", "/Document/X/SndgCtrlSum", 7)
    assert str(error).startswith("day.xml:7, /Document/X/SndgCtrlSum: ")


def test_not_text_is_an_error() -> None:
    with pytest.raises(BindingError, match="not int"):
        parse_summary_amount(5)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("currency", "amount", "words"),
    [
        ("CNY", 1.5, "not float"),
        ("CNY", True, "not bool"),
        ("CNY", "1.00", "not str"),
        ("CNY", Decimal("1.005"), "below 0.01"),
        ("CNY", Decimal("NaN"), "not a finite"),
        ("CNY", Decimal("Infinity"), "not a finite"),
        ("CNY", Decimal("1E+20"), "more than 20 integer digits"),
        ("CNY", Decimal("-1E+25"), "more than 20 integer digits"),
        ("cny", Decimal("1"), "currency 'cny'"),
        ("CNYY", Decimal("1"), "currency 'CNYY'"),
    ],
)
def test_format_refuses_what_it_would_have_to_change(
    currency: str, amount: object, words: str
) -> None:
    with pytest.raises(PaymsgError, match=re.escape(words)):
        format_summary_amount(currency, amount, path="/x")  # type: ignore[arg-type]


def test_largest_amount_fits() -> None:
    text = "CNY+" + "9" * 20 + ".99"
    assert format_summary_amount(*parse_summary_amount(text)) == text


@given(
    st.from_regex(SUMMARY_AMOUNT, fullmatch=True).filter(lambda t: t.isascii()),
)
def test_every_summary_amount_text_round_trips(text: str) -> None:
    parsed = parse_summary_amount(text)
    assert isinstance(parsed.amount, Decimal)
    # leading zeros are not kept ("CNY+007.00" is CNY+7.00), everything else is
    canonical = format_summary_amount(*parsed)
    assert parse_summary_amount(canonical) == parsed
    assert canonical[3] == text[3] and canonical[-3:] == text[-3:]


@given(
    st.decimals(min_value=-(10**20) + 1, max_value=10**20 - 1, places=2, allow_nan=False),
    st.sampled_from(["CNY", "USD"]),
)
def test_every_two_decimal_amount_round_trips(amount: Decimal, currency: str) -> None:
    text = format_summary_amount(currency, amount)
    assert SUMMARY_AMOUNT.fullmatch(text)
    back = parse_summary_amount(text)
    assert back.currency == currency and back.amount == amount
    assert back.amount.is_signed() == amount.is_signed()


def test_the_helper_pattern_is_the_schema_pattern() -> None:
    schema = (ROOT / "xsd/cnaps2/common/datatypes.xsd").read_text(encoding="utf-8")
    found = re.search(r'name="SummaryAmountText">.*?<xs:pattern value="([^"]+)"', schema, re.S)
    assert found is not None
    ours = re.sub(r"[()]", "", SUMMARY_AMOUNT.pattern)  # the helper only adds groups
    assert found.group(1).replace("\\-", "-") == ours.replace("\\-", "-")


def test_status_table() -> None:
    assert NPC_STATUSES["PR03"][0] == "已轧差" and NPC_STATUSES["PR09"][0] == "已拒绝"
    assert all(re.fullmatch(r"PR[0-9]{2}", code) for code in NPC_STATUSES)
    assert "PR01" not in NPC_STATUSES  # a bank workflow status, not an NPC one
