"""Unit tests of the pure identifier and code checks (paymsg.validation.rules.checks)."""

from __future__ import annotations

from decimal import Decimal

import pytest

from paymsg.reference import iso
from paymsg.validation.rules import checks

# -- IBAN ---------------------------------------------------------------------------------

GOOD_IBANS = [
    "DE89370400440532013000",  # the classic example of the German banks' association
    "GB82WEST12345698765432",  # UK example from the IBAN registry
    "FR1420041010050500013M02606",  # letters in the BBAN
    "NL91ABNA0417164300",
    "BE71096123456769",
    "NO9386011117947",  # shortest: 15
    "CH9300762011623852957",
    "MT84MALT011000012345MTLCAST001S",  # long, letters
    "SA0380000000608010167519",
    "LC55HEMM000100010012001200023015",  # 32, the longest in the registry
    "XK051212012345678906",  # Kosovo (user-assigned country code)
]

BAD_IBANS = [
    ("DE89370400440532013001", "iban.check-digits"),  # last digit changed
    ("DE98370400440532013000", "iban.check-digits"),  # check digits swapped
    ("GB82WEST1234569876543", "iban.length"),  # one character short
    ("DE8937040044053201300000", "iban.length"),
    ("ZZ89370400440532013000", "iban.country"),
    ("DE89 3704 0044 0532 0130 00", "iban.format"),  # spaces: paper format only
    ("D489370400440532013000", "iban.format"),
    ("", "iban.format"),
]


@pytest.mark.parametrize("value", GOOD_IBANS)
def test_good_ibans(value: str) -> None:
    assert checks.iban_problem(value) is None


@pytest.mark.parametrize(("value", "code"), BAD_IBANS)
def test_bad_ibans(value: str, code: str) -> None:
    problem = checks.iban_problem(value)
    assert problem is not None
    assert problem.code == code
    assert problem.en and problem.zh


def test_iban_check_digits_are_computed() -> None:
    assert checks.iban_check_digits("DE", "370400440532013000") == "89"
    assert checks.iban_check_digits("GB", "WEST12345698765432") == "82"
    problem = checks.iban_problem("GB00WEST12345698765432")
    assert problem is not None and "82" in problem.en


def test_iban_lengths_are_plausible() -> None:
    assert all(15 <= n <= 34 for n in checks.IBAN_LENGTHS.values())
    assert checks.IBAN_LENGTHS["DE"] == 22 and checks.IBAN_LENGTHS["FR"] == 27
    assert set(checks.IBAN_LENGTHS) <= iso.countries()


# -- LEI ----------------------------------------------------------------------------------

GOOD_LEIS = [
    "5493001KJTIIGC8Y1R12",
    "HWUPKR0MPOU8FGXBT394",
    "7LTWFZYICNSX8D621K86",
    "549300O7RQQFPHUKS910",  # used in the examples
]

BAD_LEIS = [
    ("5493001KJTIIGC8Y1R13", "lei.check-digits"),
    ("HWUPKR0MPOU8FGXBT349", "lei.check-digits"),  # transposed check digits
    ("7LTWFZYICNSX8D621K8", "lei.format"),  # 19 characters
    ("7ltwfzyicnsx8d621k86", "lei.format"),
    ("7LTWFZYICNSX8D621KAB", "lei.format"),  # check digits are digits
]


@pytest.mark.parametrize("value", GOOD_LEIS)
def test_good_leis(value: str) -> None:
    assert checks.lei_problem(value) is None


@pytest.mark.parametrize(("value", "code"), BAD_LEIS)
def test_bad_leis(value: str, code: str) -> None:
    problem = checks.lei_problem(value)
    assert problem is not None and problem.code == code


def test_lei_check_digits_are_computed() -> None:
    assert checks.lei_check_digits("5493001KJTIIGC8Y1R") == "12"


# -- BIC ----------------------------------------------------------------------------------

GOOD_BICS = [
    "DEUTDEFF",
    "DEUTDEFF500",
    "BKCHCNBJ",
    "ICBKCNBJBJM",
    "CHASUS33",
    "BNPAFRPPXXX",
    "ABCDXKPR",
]

BAD_BICS = [
    ("DEUTZZFF", "bic.country"),  # ZZ is no country
    ("DEUTXXFF", "bic.country"),
    ("DEUTDEF", "bic.length"),
    ("DEUTDEFF50", "bic.length"),
    ("deutdeff", "bic.format"),
    ("DEUT1EFF", "bic.format"),  # the country is letters
    ("DEUT-DEFF", "bic.length"),
]


@pytest.mark.parametrize("value", GOOD_BICS)
def test_good_bics(value: str) -> None:
    assert checks.bic_problem(value) is None


@pytest.mark.parametrize(("value", "code"), BAD_BICS)
def test_bad_bics(value: str, code: str) -> None:
    problem = checks.bic_problem(value)
    assert problem is not None and problem.code == code


# -- UUID v4 ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "code"),
    [
        ("465bf3ec-b2d6-44e3-ac8c-0c6f1fab08b0", None),
        ("465BF3EC-B2D6-44E3-AC8C-0C6F1FAB08B0", "uuid.case"),
        ("465bf3ec-b2d6-14e3-ac8c-0c6f1fab08b0", "uuid.version"),
        ("465bf3ec-b2d6-44e3-cc8c-0c6f1fab08b0", "uuid.variant"),
        ("465bf3ecb2d644e3ac8c0c6f1fab08b0", "uuid.format"),
        ("465bf3ec-b2d6-44e3-ac8c-0c6f1fab08bg", "uuid.format"),
    ],
)
def test_uuid4(value: str, code: str | None) -> None:
    problem = checks.uuid4_problem(value)
    assert (problem.code if problem else None) == code


# -- ISO 4217 / ISO 3166 ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("code", "minor"),
    [
        ("CNY", 2), ("USD", 2), ("EUR", 2), ("JPY", 0), ("KRW", 0), ("VND", 0), ("CLP", 0),
        ("ISK", 0), ("XOF", 0), ("BHD", 3), ("KWD", 3), ("JOD", 3), ("OMR", 3), ("TND", 3),
        ("IQD", 3), ("LYD", 3), ("CLF", 4), ("UYW", 4), ("XAU", None), ("XAG", None),
        ("XPT", None), ("XPD", None), ("XDR", None),
    ],
)  # fmt: skip
def test_active_currency_minor_units(code: str, minor: int | None) -> None:
    found = iso.currency(code)
    assert found is not None and found.status == "active" and found.minor == minor


@pytest.mark.parametrize("code", ["DEM", "FRF", "ITL", "HRK", "LTL", "VEF", "MRO", "XEU"])
def test_historic_currencies(code: str) -> None:
    found = iso.currency(code)
    assert found is not None and found.status == "historic"


@pytest.mark.parametrize("code", ["ABC", "cny", "RMB", "EURO", ""])
def test_unknown_currencies(code: str) -> None:
    assert iso.currency(code) is None


def test_currency_table_shape() -> None:
    table = iso.currencies()
    assert len([c for c in table.values() if c.status == "active"]) >= 170
    assert all(len(code) == 3 and code.isupper() for code in table)
    assert all(c.minor is None or 0 <= c.minor <= 4 for c in table.values())


def test_countries() -> None:
    assert len(iso.countries()) == 250  # 249 ISO 3166-1 codes + XK
    assert {"CN", "HK", "DE", "US", "XK"} <= iso.countries()
    assert not iso.is_country("ZZ") and not iso.is_country("UK")


@pytest.mark.parametrize(
    ("text", "digits"), [("100", 0), ("100.00", 2), ("0.5", 1), ("12.34500", 5), ("1E+3", 0)]
)
def test_fraction_digits(text: str, digits: int) -> None:
    assert checks.fraction_digits(Decimal(text)) == digits


def test_mod97() -> None:
    assert checks.mod97("370400440532013000DE89") == 1
