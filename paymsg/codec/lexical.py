"""Simple values read only from their XSD lexical space (XML Schema 1.0 Part 2, §3.2–3.3).

Python's own parsers accept far more than XSD does: ``Decimal`` and ``int`` take
full-width (``１２``) and Arabic-Indic (``١٢``) digits, ``_`` separators, exponents,
``NaN``, ``Infinity`` and ``sNaN``; ``\\d`` in a regular expression matches any Unicode
digit. A payment message that carries such a value is not schema-valid, and reading it
as if it said ``12`` would change what the counterparty sent. So every non-string value
is first matched against its type's lexical space, written with ASCII ``[0-9]`` only,
and only then converted:

=================  ===========================================================
xs:decimal         optional sign, ASCII digits, optional point: ``-1.50``, ``.5``, ``5.``
xs:integer (int)   optional sign and ASCII digits
xs:boolean         ``true``, ``false``, ``1``, ``0``
xs:date            ``YYYY-MM-DD`` (years of 4+ digits, optional ``-``), optional zone
xs:dateTime        date ``T`` ``hh:mm:ss``, optional fraction and zone
xs:time            ``hh:mm:ss``, optional fraction and zone
xs:duration        ``PnYnMnDTnHnMnS`` (optional ``-``, at least one part)
xs:gYear… (period) gYear, gYearMonth, gMonth, gMonthDay or gDay, optional zone
=================  ===========================================================

These types' whitespace facet is *collapse*, so leading and trailing XML whitespace
(space, tab, CR, LF) is part of the lexical space and is removed; any other space (a
no-break or ideographic space) is not. Enumerations are matched exactly, by the binding
engines (their base is xs:string, whose whitespace is preserved). The empty string is
in none of these spaces, so an empty element of such a type is refused too.

Each function raises :class:`LexicalError` (a ``ValueError``) saying what the value
should look like; the binding engines turn it into a located
:class:`~paymsg.errors.BindingError`.
"""

from __future__ import annotations

import re
from datetime import date as _date
from decimal import Decimal

from xsdata.models.datatype import XmlDate, XmlDateTime, XmlDuration, XmlPeriod, XmlTime

#: the XML whitespace characters (XML 1.0 §2.3 S), the only ones whiteSpace=collapse removes
XML_SPACE = " \t\r\n"


class LexicalError(ValueError):
    """A value outside its XSD type's lexical space."""

    def __init__(self, text: str, xsd_type: str, expected: str) -> None:
        super().__init__(f"{text!r} is not an {xsd_type}: expected {expected}")
        self.text = text
        self.xsd_type = xsd_type
        self.expected = expected


_DIGITS = "ASCII digits 0-9"
_DECIMAL = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)")
_INTEGER = re.compile(r"[+-]?[0-9]+")
_ZONE = r"(Z|[+-][0-9]{2}:[0-9]{2})?"
_YEAR = r"(-?(?:[1-9][0-9]{4,}|[0-9]{4}))"
_TIME = r"([0-9]{2}):([0-9]{2}):([0-9]{2})(?:\.([0-9]+))?"
_DATE_RE = re.compile(rf"{_YEAR}-([0-9]{{2}})-([0-9]{{2}}){_ZONE}")
_DATE_TIME_RE = re.compile(rf"{_YEAR}-([0-9]{{2}})-([0-9]{{2}})T{_TIME}{_ZONE}")
_TIME_RE = re.compile(rf"{_TIME}{_ZONE}")
_DURATION_RE = re.compile(
    r"-?P(?=[0-9T])(?:[0-9]+Y)?(?:[0-9]+M)?(?:[0-9]+D)?"
    r"(?:T(?=[0-9])(?:[0-9]+H)?(?:[0-9]+M)?(?:[0-9]+(?:\.[0-9]+)?S)?)?"
)
_PERIOD_RE = re.compile(
    rf"(?:{_YEAR}(?:-[0-9]{{2}})?|--[0-9]{{2}}(?:-[0-9]{{2}})?|---[0-9]{{2}}){_ZONE}"
)


def decimal(text: str) -> Decimal:
    """xs:decimal: ``[+-]?`` ASCII digits with at most one ``.``; no exponent, no NaN,
    Infinity or sNaN, no separators, no other digits."""
    value = text.strip(XML_SPACE)
    if _DECIMAL.fullmatch(value) is None:
        raise LexicalError(
            text, "xs:decimal", f"an optional sign, {_DIGITS} and an optional decimal point"
        )
    return Decimal(value)


def integer(text: str) -> int:
    """xs:integer (and its restrictions): ``[+-]?`` ASCII digits."""
    value = text.strip(XML_SPACE)
    if _INTEGER.fullmatch(value) is None:
        raise LexicalError(text, "xs:integer", f"an optional sign and {_DIGITS}")
    return int(value)


def boolean(text: str) -> bool:
    """xs:boolean: ``true``, ``false``, ``1`` or ``0``."""
    value = text.strip(XML_SPACE)
    if value in ("true", "1"):
        return True
    if value in ("false", "0"):
        return False
    raise LexicalError(text, "xs:boolean", "true, false, 1 or 0")


def _zone_minutes(zone: str | None) -> int | None:
    if zone is None:
        return None
    if zone == "Z":
        return 0
    minutes = int(zone[1:3]) * 60 + int(zone[4:6])
    return -minutes if zone[0] == "-" else minutes


def _real_date(text: str, year: int, month: int, day: int, xsd_type: str) -> None:
    """A date that exists (years outside 1-9999 are left to xsdata's own check)."""
    if 1 <= year <= 9999:
        try:
            _date(year, month, day)
        except ValueError:
            raise LexicalError(text, xsd_type, "a date that exists") from None


def date(text: str) -> XmlDate:
    """xs:date: ``YYYY-MM-DD`` with an optional zone, a date that exists."""
    value = text.strip(XML_SPACE)
    match = _DATE_RE.fullmatch(value)
    if match is None:
        raise LexicalError(text, "xs:date", f"YYYY-MM-DD in {_DIGITS}, optionally a zone")
    year, month, day = int(match[1]), int(match[2]), int(match[3])
    _real_date(text, year, month, day, "xs:date")
    if match[4] is None and 1000 <= year <= 9999:
        return XmlDate(year, month, day)  # the common form, built directly
    return XmlDate.from_string(value)


def date_time(text: str) -> XmlDateTime:
    """xs:dateTime: ``YYYY-MM-DDThh:mm:ss``, optional fraction and zone."""
    value = text.strip(XML_SPACE)
    match = _DATE_TIME_RE.fullmatch(value)
    if match is None:
        raise LexicalError(
            text,
            "xs:dateTime",
            f"YYYY-MM-DDThh:mm:ss in {_DIGITS}, optionally a fraction and a zone",
        )
    year, month, day = int(match[1]), int(match[2]), int(match[3])
    hour, minute, second = int(match[4]), int(match[5]), int(match[6])
    _real_date(text, year, month, day, "xs:dateTime")
    fraction = match[7] or ""
    plain = 1000 <= year <= 9999 and len(fraction) <= 9
    if plain and hour <= 23 and minute <= 59 and second <= 59:
        nanos = int(fraction.ljust(9, "0")) if fraction else 0
        return XmlDateTime(year, month, day, hour, minute, second, nanos, _zone_minutes(match[8]))
    return XmlDateTime.from_string(value)  # 24:00:00, long fractions, far years


def time(text: str) -> XmlTime:
    """xs:time: ``hh:mm:ss``, optional fraction and zone."""
    value = text.strip(XML_SPACE)
    if _TIME_RE.fullmatch(value) is None:
        raise LexicalError(
            text, "xs:time", f"hh:mm:ss in {_DIGITS}, optionally a fraction and a zone"
        )
    return XmlTime.from_string(value)


def duration(text: str) -> XmlDuration:
    """xs:duration: ``-?PnYnMnDTnHnMnS`` with at least one part."""
    value = text.strip(XML_SPACE)
    if _DURATION_RE.fullmatch(value) is None or value.endswith("T"):
        raise LexicalError(text, "xs:duration", f"PnYnMnDTnHnMnS in {_DIGITS}")
    return XmlDuration(value)


def period(text: str) -> XmlPeriod:
    """xs:gYear, gYearMonth, gMonth, gMonthDay or gDay (one Python type for all five)."""
    value = text.strip(XML_SPACE)
    if _PERIOD_RE.fullmatch(value) is None:
        raise LexicalError(
            text,
            "xs:gYear/gYearMonth/gMonth/gMonthDay/gDay",
            f"YYYY, YYYY-MM, --MM, --MM-DD or ---DD in {_DIGITS}, optionally a zone",
        )
    return XmlPeriod(value)


#: the reader of each simple Python type of the generated models (strings and
#: enumerations aside), shared by the XML decoders and the JSON reader so that both read
#: the same texts
READERS = {
    Decimal: decimal,
    int: integer,
    bool: boolean,
    XmlDate: date,
    XmlDateTime: date_time,
    XmlTime: time,
    XmlDuration: duration,
    XmlPeriod: period,
}
