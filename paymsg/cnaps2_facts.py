"""CNAPS2 facts used in more than one place: codes, identifiers, limits, time, ids.

One home for what the header builder (:mod:`paymsg.cnaps2`), the conversion hub
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
from collections.abc import Callable
from datetime import date, datetime, timedelta, timezone
from typing import Literal

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
    "PRIORITY_BY_SETTLEMENT",
    "REMITTANCE_LINE",
    "RETURN_BUSINESS_TYPE",
    "RETURN_CATEGORY",
    "RETURN_INFO_LINE",
    "TAG_LINE",
    "DailySequence",
    "IdGenerator",
    "Priority",
    "beijing_date",
    "beijing_now",
    "default_id_generator",
    "is_msg_id",
    "new_msg_id",
    "sequence",
]
