"""Pure check helpers for identifiers and codes used by the rule packs.

Nothing here knows about XML or findings: each function takes a string and either returns a
value or a :class:`Problem` (English and Chinese text) describing what is wrong with it.

- BIC (ISO 9362): structure and the ISO 3166 country at positions 5-6
- IBAN (ISO 13616): per-country length and ISO 7064 MOD 97-10 check digits
- LEI (ISO 17442): ISO 7064 MOD 97-10 check digits
- UUID version 4 (RFC 4122 / 9562), as used for the UETR
- ISO 4217 currency codes and minor units, ISO 3166-1 country codes (the tables are
  :mod:`paymsg.reference.iso`)
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal

from paymsg.reference.iso import is_country


@dataclass(frozen=True)
class Problem:
    """Why a value fails a check, in English and Chinese."""

    code: str
    en: str
    zh: str


def fraction_digits(amount: Decimal) -> int:
    """Digits after the decimal point as written (``Decimal("1.50")`` → 2)."""
    exponent = amount.as_tuple().exponent
    return max(0, -exponent) if isinstance(exponent, int) else 0


# -- ISO 7064 MOD 97-10 -------------------------------------------------------------------


def _digits(value: str) -> str:
    """Letters to numbers (A=10 … Z=35), as ISO 7064 MOD 97-10 requires for IBAN and LEI."""
    return "".join(str(int(ch, 36)) for ch in value)


def mod97(value: str) -> int:
    """``value`` (digits and upper-case letters) as an integer, modulo 97."""
    return int(_digits(value)) % 97


# -- BIC ----------------------------------------------------------------------------------

_BIC = re.compile(r"[A-Z0-9]{4}[A-Z]{2}[A-Z0-9]{2}([A-Z0-9]{3})?")


def bic_problem(value: str) -> Problem | None:
    """Structure of a BIC (ISO 9362) and its country code (positions 5-6, ISO 3166)."""
    if len(value) not in (8, 11):
        return Problem(
            "bic.length",
            f"a BIC has 8 or 11 characters, not {len(value)}",
            f"BIC 应为 8 位或 11 位，实际为 {len(value)} 位",
        )
    if not _BIC.fullmatch(value):
        return Problem(
            "bic.format",
            "a BIC is 4 letters or digits (party prefix), 2 letters (country), "
            "2 letters or digits (location) and an optional 3-character branch, all upper case",
            "BIC 格式应为 4 位字母或数字（机构代码）+ 2 位字母（国家代码）"
            "+ 2 位字母或数字（地区代码）+ 可选的 3 位分行代码，且均为大写",
        )
    country = value[4:6]
    if not is_country(country):
        return Problem(
            "bic.country",
            f"positions 5-6 of a BIC are an ISO 3166 country code; {country} is not one",
            f"BIC 第 5-6 位应为 ISO 3166 国家代码，{country} 不是有效的国家代码",
        )
    return None


# -- IBAN ---------------------------------------------------------------------------------

#: IBAN length per country, from the SWIFT IBAN registry (ISO 13616 registration authority)
IBAN_LENGTHS: dict[str, int] = {
    "AD": 24, "AE": 23, "AL": 28, "AT": 20, "AZ": 28, "BA": 20, "BE": 16, "BG": 22,
    "BH": 22, "BI": 27, "BR": 29, "BY": 28, "CH": 21, "CR": 22, "CY": 28, "CZ": 24,
    "DE": 22, "DJ": 27, "DK": 18, "DO": 28, "EE": 20, "EG": 29, "ES": 24, "FI": 18,
    "FK": 18, "FO": 18, "FR": 27, "GB": 22, "GE": 22, "GI": 23, "GL": 18, "GR": 27,
    "GT": 28, "HN": 28, "HR": 21, "HU": 28, "IE": 22, "IL": 23, "IQ": 23, "IS": 26,
    "IT": 27, "JO": 30, "KW": 30, "KZ": 20, "LB": 28, "LC": 32, "LI": 21, "LT": 20,
    "LU": 20, "LV": 21, "LY": 25, "MC": 27, "MD": 24, "ME": 22, "MK": 19, "MN": 20,
    "MR": 27, "MT": 31, "MU": 30, "NI": 28, "NL": 18, "NO": 15, "OM": 23, "PK": 24,
    "PL": 28, "PS": 29, "PT": 25, "QA": 29, "RO": 24, "RS": 22, "RU": 33, "SA": 24,
    "SC": 31, "SD": 18, "SE": 24, "SI": 19, "SK": 24, "SM": 27, "SO": 23, "ST": 25,
    "SV": 28, "TL": 23, "TN": 24, "TR": 26, "UA": 29, "VA": 22, "VG": 24, "XK": 20,
    "YE": 30,
}  # fmt: skip

_IBAN = re.compile(r"[A-Z]{2}[0-9]{2}[A-Z0-9]{1,30}")


def iban_check_digits(country: str, bban: str) -> str:
    """The two check digits that make ``country + ?? + bban`` a valid IBAN."""
    return f"{98 - mod97(bban.upper() + country + '00'):02d}"


def iban_problem(value: str) -> Problem | None:
    """Format, country, per-country length and MOD 97-10 check digits of an IBAN."""
    iban = value.upper()
    if not _IBAN.fullmatch(iban):
        return Problem(
            "iban.format",
            "an IBAN is a 2-letter country code, 2 check digits and up to 30 letters or digits, "
            "without spaces",
            "IBAN 应为 2 位国家代码 + 2 位校验码 + 最多 30 位字母或数字，不含空格",
        )
    country = iban[:2]
    expected = IBAN_LENGTHS.get(country)
    if expected is None:
        return Problem(
            "iban.country",
            f"{country} is not a country in the IBAN registry",
            f"{country} 不是 IBAN 注册表中的国家",
        )
    if len(iban) != expected:
        return Problem(
            "iban.length",
            f"an IBAN of {country} has {expected} characters, this one has {len(iban)}",
            f"{country} 的 IBAN 应为 {expected} 位，实际为 {len(iban)} 位",
        )
    if mod97(iban[4:] + iban[:4]) != 1:
        right = iban_check_digits(country, iban[4:])
        return Problem(
            "iban.check-digits",
            f"the IBAN check digits {iban[2:4]} are wrong (ISO 7064 MOD 97-10); "
            f"for this account number they would be {right}",
            f"IBAN 校验码 {iban[2:4]} 错误（ISO 7064 MOD 97-10），该账号的正确校验码应为 {right}",
        )
    return None


# -- LEI ----------------------------------------------------------------------------------

_LEI = re.compile(r"[A-Z0-9]{18}[0-9]{2}")


def lei_check_digits(base: str) -> str:
    """The two check digits that complete the 18-character LEI ``base``."""
    return f"{98 - mod97(base.upper() + '00'):02d}"


def lei_problem(value: str) -> Problem | None:
    """Format and MOD 97-10 check digits of a Legal Entity Identifier (ISO 17442)."""
    if not _LEI.fullmatch(value):
        return Problem(
            "lei.format",
            "an LEI is 18 upper-case letters or digits followed by 2 check digits",
            "LEI 应为 18 位大写字母或数字加 2 位数字校验码",
        )
    if mod97(value) != 1:
        right = lei_check_digits(value[:18])
        return Problem(
            "lei.check-digits",
            f"the LEI check digits {value[18:]} are wrong (ISO 17442, MOD 97-10); "
            f"they would be {right}",
            f"LEI 校验码 {value[18:]} 错误（ISO 17442，MOD 97-10），正确校验码应为 {right}",
        )
    return None


# -- UUID v4 ------------------------------------------------------------------------------

_UUID_SHAPE = re.compile(
    r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}"
)


def uuid4_problem(value: str) -> Problem | None:
    """A lower-case RFC 4122 version 4 UUID: ``xxxxxxxx-xxxx-4xxx-[89ab]xxx-xxxxxxxxxxxx``."""
    if not _UUID_SHAPE.fullmatch(value):
        return Problem(
            "uuid.format",
            "a UETR is a UUID: 32 hexadecimal digits in groups of 8-4-4-4-12 separated by hyphens",
            "UETR 应为 UUID：32 位十六进制数字，按 8-4-4-4-12 用连字符分隔",
        )
    if value != value.lower():
        return Problem(
            "uuid.case",
            "a UETR is written in lower case (ISO 20022 UUIDv4Identifier); "
            "systems that compare it as text will not match the upper-case form",
            "UETR 必须使用小写字母（ISO 20022 UUIDv4Identifier），按文本比对的系统无法匹配大写形式",
        )
    if value[14] != "4":
        return Problem(
            "uuid.version",
            f"the version digit (15th character) of a version 4 UUID is 4, not {value[14]}",
            f"版本 4 UUID 的版本位（第 15 个字符）应为 4，实际为 {value[14]}",
        )
    if value[19] not in "89ab":
        return Problem(
            "uuid.variant",
            f"the variant digit (20th character) of an RFC 4122 UUID is 8, 9, a or b, "
            f"not {value[19]}",
            f"RFC 4122 UUID 的变体位（第 20 个字符）应为 8、9、a 或 b，实际为 {value[19]}",
        )
    return None
