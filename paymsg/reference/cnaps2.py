"""CNAPS2 facts used in more than one place: codes, identifiers, limits, time, ids.

One home for what the header builder (:mod:`paymsg.codec.envelope.wrap`), the conversion hub
(:mod:`paymsg.convert`) and the ``cnaps2`` rule pack (:mod:`paymsg.validation.rules.cnaps2`)
all need to agree on. Section numbers refer to the reference ``cnaps2.md``.

Time: every CNAPS2 value that is *generated* (header date and time, the work date of a new
MsgId or communication id) is Beijing time (UTC+08:00, no daylight saving), whatever the
clock of the machine says. A naive ``datetime`` given as ``now`` is taken as Beijing time.
"""

from __future__ import annotations

import itertools
import re
import threading
import time
import zlib
from collections.abc import Callable, Mapping
from datetime import date, datetime, timedelta, timezone
from decimal import Context, Decimal, InvalidOperation
from typing import Literal, NamedTuple

from paymsg.errors import BindingError

# --------------------------------------------------------------------------- participants, codes

#: the NPC (CNAPS centre) as a participant (§2.2, [C2+])
NPC = "0000"
#: 12-digit bank code (行号) (§2.3, [C2+]); the check digit algorithm is [NF] and not checked
BANK_CODE = re.compile(r"[0-9]{12}")
#: ISO 20022 ExternalClearingSystemIdentification1Code of China's CNAPS (external code set)
CNAPS_CLEARING_CODE = "CNAPS"
#: 业务类型 (business type) of a return, 退汇 (§8.1)
RETURN_BUSINESS_TYPE = "A105"
#: 业务种类 (category) of a return, 退汇 (§8.2)
RETURN_CATEGORY = "02108"

# --------------------------------------------------------------------------- identifiers, lines

#: GrpHdr/MsgId: 8-digit work date + 8-digit sequence (§2.4, [C2+])
MSG_ID = re.compile(r"([0-9]{8})([0-9]{8})")
#: a remittance line "/XNN/value" (§8.6, [C2+]): a 3-character tag between slashes
TAG_LINE = re.compile(r"/([A-Z][A-Z0-9]{2})/(.*)", re.DOTALL)

# --------------------------------------------------------------------------- NPC statuses, codes

#: NPC processing status ``PrcSts`` (处理状态, §8.3) → (中文, confidence). The official list is
#: not public [NF]: PR00 and PR07 are seen in use without a name; PR01 and PR81-PR99 are a bank
#: application's own workflow statuses and never appear in NPC messages [INF], so they are
#: not listed. A status not listed here is unknown, not necessarily wrong.
NPC_STATUSES: Mapping[str, tuple[str, str]] = {
    "PR00": ("（已接收/已转发，名称未公开）", "S1"),
    "PR02": ("已付款", "S1"),
    "PR03": ("已轧差", "C2+"),
    "PR04": ("已清算", "S1"),
    "PR05": ("已成功", "S1"),
    "PR07": ("（已处理，名称未公开）", "S1"),
    "PR08": ("已撤销", "S1"),
    "PR09": ("已拒绝", "C2+"),
    "PR11": ("已轧差排队", "S1"),
    "PR12": ("已清算排队", "S1"),
    "PR21": ("已止付", "S1"),
    "PR22": ("已冲正", "S1"),
    "PR32": ("已超期", "S1"),
}
#: 发送/接收标识 (SendReceiveCode1, §7.1, §8.5 [S1]): SR00 sent (往账), SR01 received (来账)
SENT, RECEIVED = "SR00", "SR01"

# --------------------------------------------------------------------------- summary amounts

#: SummaryAmountText (汇总金额文本, §4.3 [C2+]): a currency code, an explicit sign and an
#: amount with exactly two decimals, e.g. ``CNY+100.00``; the XSD pattern is
#: ``[A-Z]{3}[+\-][0-9]{1,20}\.[0-9]{2}``
SUMMARY_AMOUNT = re.compile(r"([A-Z]{3})([+-])([0-9]{1,20})\.([0-9]{2})")
#: most integer digits a SummaryAmountText holds
SUMMARY_AMOUNT_DIGITS = 20


class SummaryAmount(NamedTuple):
    """A SummaryAmountText read as a currency and a signed Decimal amount."""

    currency: str
    amount: Decimal


def summary_amount_problem(text: str) -> tuple[str, str] | None:
    """What is wrong with ``text`` as a SummaryAmountText, in English and Chinese (None when
    it is one). Used by :func:`parse_summary_amount` and the ``cnaps2`` rules."""
    if SUMMARY_AMOUNT.fullmatch(text):
        return None
    if not text.strip():
        return "is empty", "为空"
    loose = re.fullmatch(r"\s*([A-Za-z]*)\s*([+-]?)\s*([0-9]*)(?:\.([0-9]*))?\s*", text)
    if loose is None:
        return (
            "is not a currency code, a sign and an amount (e.g. CNY+100.00)",
            "不是“币种 + 符号 + 金额”格式（如 CNY+100.00）",
        )
    currency, sign, whole, fraction = loose.groups()
    if text != text.strip() or " " in text:
        return "contains spaces", "含有空格"
    if not re.fullmatch(r"[A-Z]{3}", currency):
        return (
            f"starts with {currency!r}, not a 3-letter upper-case currency code",
            f"以 {currency!r} 开头，不是 3 位大写字母币种代码",
        )
    if not sign:
        return (
            "has no sign: a summary amount is written with + or - after the currency "
            "(e.g. CNY+100.00)",
            "缺少符号：汇总金额应在币种后写 + 或 -（如 CNY+100.00）",
        )
    if not whole:
        return "has no digits before the decimal point", "小数点前没有数字"
    if len(whole) > SUMMARY_AMOUNT_DIGITS:
        return (
            f"has {len(whole)} digits before the decimal point (at most {SUMMARY_AMOUNT_DIGITS})",
            f"整数部分 {len(whole)} 位（最多 {SUMMARY_AMOUNT_DIGITS} 位）",
        )
    return (
        f"has {len(fraction or '')} decimals; a summary amount has exactly 2",
        f"小数 {len(fraction or '')} 位；汇总金额应恰好两位小数",
    )


def parse_summary_amount(
    text: str,
    *,
    source: str | None = None,
    path: str | None = None,
    line: int | None = None,
) -> SummaryAmount:
    """``CNY+123.45`` → ``SummaryAmount("CNY", Decimal("123.45"))``, strictly.

    Anything that is not exactly a SummaryAmountText (no sign, other than two decimals,
    spaces, lower-case currency, …) raises :class:`~paymsg.errors.BindingError` saying what is
    wrong, located by ``source`` / ``path`` / ``line`` when given. ``CNY-0.00`` gives
    ``Decimal("-0.00")``, which equals zero and formats back to ``CNY-0.00``.
    """
    if not isinstance(text, str):
        raise BindingError(
            f"a summary amount is text like CNY+100.00, not {type(text).__name__}",
            source=source,
            path=path,
            line=line,
        )
    problem = summary_amount_problem(text)
    match = SUMMARY_AMOUNT.fullmatch(text)
    if problem is not None or match is None:
        what = problem[0] if problem else "is not a summary amount"
        raise BindingError(
            f"summary amount {text!r} {what}",
            source=source,
            path=path,
            line=line,
            hint="write it as currency, sign and two decimals: CNY+100.00 or CNY-100.00",
        )
    currency, sign, whole, fraction = match.groups()
    return SummaryAmount(currency, Decimal(f"{sign}{whole}.{fraction}"))


def format_summary_amount(currency: str, amount: Decimal | int, *, path: str | None = None) -> str:
    """``("CNY", Decimal("123.45"))`` → ``CNY+123.45``; the inverse of
    :func:`parse_summary_amount`.

    ``amount`` is a Decimal (or an int); a float is refused, since money never passes through
    one. An amount with non-zero digits below the fen (``1.005``), more than 20 integer digits,
    or that is not finite, and a currency that is not 3 upper-case letters, raise
    :class:`~paymsg.errors.BindingError`: nothing is rounded. Fewer decimals are padded
    (``Decimal("5")`` → ``CNY+5.00``).
    """
    if isinstance(amount, bool) or not isinstance(amount, (Decimal, int)):
        raise BindingError(
            f"a summary amount needs a Decimal, not {type(amount).__name__} ({amount!r})",
            path=path,
        )
    if not re.fullmatch(r"[A-Z]{3}", currency or ""):
        raise BindingError(
            f"currency {currency!r} is not a 3-letter upper-case code", path=path, field="Ccy"
        )
    value = Decimal(amount)
    if not value.is_finite():
        raise BindingError(f"summary amount {value} is not a finite number", path=path)
    if value and value.adjusted() >= SUMMARY_AMOUNT_DIGITS:
        raise BindingError(
            f"summary amount {value} has more than {SUMMARY_AMOUNT_DIGITS} integer digits",
            path=path,
        )
    try:
        cents = value.quantize(Decimal("0.01"), context=Context(prec=SUMMARY_AMOUNT_DIGITS + 2))
    except InvalidOperation:
        cents = None
    if cents is None or cents != value:
        raise BindingError(
            f"summary amount {value} has digits below 0.01 (two decimals only; nothing is rounded)",
            path=path,
        )
    return f"{currency}{'-' if cents.is_signed() else '+'}{abs(cents):f}"


# --------------------------------------------------------------------------- priorities

Priority = Literal["1", "2", "3"]
#: header priority ⇄ settlement priority of hvps.111/112 (§3.2, [C2+])
PRIORITY_BY_SETTLEMENT: dict[str, Priority] = {"URGT": "1", "HIGH": "2", "NORM": "3"}

# --------------------------------------------------------------------------- limits (characters)

#: one unstructured remittance line of the unified message (ISO ``Ustrd``, Max140Text); the
#: CNAPS2 附言 is cut into / written as lines of this length
REMITTANCE_LINE = 140
#: one return reason text line of the unified message (ISO ``RtrRsnInf/AddtlInf``, Max105Text)
RETURN_INFO_LINE = 105

# --------------------------------------------------------------------------- time

#: Beijing time, the time of every CNAPS2 date and time
BEIJING = timezone(timedelta(hours=8))


def beijing_now(now: datetime | None = None) -> datetime:
    """``now`` as a naive Beijing time (the current time when None; a naive ``now`` is
    taken as Beijing time already, an aware one is converted)."""
    if now is None:
        return datetime.now(BEIJING).replace(tzinfo=None)
    if now.tzinfo is None:
        return now
    return now.astimezone(BEIJING).replace(tzinfo=None)


def beijing_date(value: str | None) -> str | None:
    """The Beijing date ``yyyyMMdd`` of an ISO date or date-time (converted when it has a
    UTC offset), or None when ``value`` is not one."""
    if not value:
        return None
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        try:
            return f"{date.fromisoformat(value[:10]):%Y%m%d}"
        except ValueError:
            return None
    return f"{beijing_now(moment):%Y%m%d}"


# --------------------------------------------------------------------------- ids

IdGenerator = Callable[[], str]


class DailySequence:
    """Communication-level ids ``yyyyMMdd`` (Beijing date) + 12-digit sequence (20 characters).

    Thread-safe and unique within one process (the sequence starts from the clock).
    A bank that needs ids unique across restarts and hosts plugs in its own generator
    (any callable returning a string of at most 20 characters).
    """

    def __init__(self, start: int | None = None) -> None:
        seed = start if start is not None else int(time.time() * 1000) % 10**11
        self._counter = itertools.count(seed)
        self._lock = threading.Lock()

    def __call__(self) -> str:
        with self._lock:
            number = next(self._counter) % 10**12
        return f"{beijing_now():%Y%m%d}{number:012d}"


default_id_generator: IdGenerator = DailySequence()


def is_msg_id(value: object) -> bool:
    """Whether ``value`` is a CNAPS2 MsgId: a real work date and an 8-digit sequence."""
    match = MSG_ID.fullmatch(value) if isinstance(value, str) else None
    if match is None:
        return False
    day = match.group(1)
    try:
        date(int(day[:4]), int(day[4:6]), int(day[6:]))
    except ValueError:
        return False
    return True


def sequence(id_generator: IdGenerator | None = None) -> str:
    """8 digits from the id generator (the header's :data:`default_id_generator` by default):
    its last 8 digits, or a checksum of its id when that has no digit."""
    generated = (id_generator or default_id_generator)()
    digits = re.sub(r"\D", "", generated)
    if not digits:
        return f"{zlib.crc32(generated.encode()) % 10**8:08d}"
    return digits[-8:].rjust(8, "0")


def new_msg_id(
    created: str | None = None,
    *,
    id_generator: IdGenerator | None = None,
    now: datetime | None = None,
) -> str:
    """A new CNAPS2 MsgId (also a BEPS TxId): the work date and an 8-digit :func:`sequence`.

    The work date is the Beijing date of ``created`` (the message's ``CreDtTm``; a time in
    another UTC offset is converted first), else today's Beijing date (``now``).
    """
    day = beijing_date(created) or f"{beijing_now(now):%Y%m%d}"
    return day + sequence(id_generator)


__all__ = [
    "BANK_CODE",
    "BEIJING",
    "CNAPS_CLEARING_CODE",
    "MSG_ID",
    "NPC",
    "NPC_STATUSES",
    "PRIORITY_BY_SETTLEMENT",
    "RECEIVED",
    "REMITTANCE_LINE",
    "RETURN_BUSINESS_TYPE",
    "RETURN_CATEGORY",
    "RETURN_INFO_LINE",
    "SENT",
    "SUMMARY_AMOUNT",
    "SUMMARY_AMOUNT_DIGITS",
    "TAG_LINE",
    "DailySequence",
    "IdGenerator",
    "Priority",
    "SummaryAmount",
    "beijing_date",
    "beijing_now",
    "default_id_generator",
    "format_summary_amount",
    "is_msg_id",
    "new_msg_id",
    "parse_summary_amount",
    "sequence",
    "summary_amount_problem",
]
