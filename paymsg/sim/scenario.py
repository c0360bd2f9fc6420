"""The simulator's configuration: participants, policies, codes, clock and faults (TOML).

A scenario file makes a run reproducible. Every section is optional; an empty file is
a valid scenario (every default below). Example::

    [clock]
    start = "2026-12-07T09:00:00"   # Beijing time the run starts at (default: now)
    speed = 3600                    # simulated seconds per real second (a day in 24 s)

    [hvps]
    outside_window = "queue"        # or "refuse"
    short_balance = "refuse"        # or "queue"

    [participants.102100099996]
    balance = "5000000.00"

    [[faults]]
    kind = "drop_990"
    mt = "hvps.111.001.01"
    nth = 1

Codes marked [NF] in the reference (``cnaps2.md`` §8.4: the official 处理码 table is not
public) are configurable under ``[codes]``; the defaults follow the observed pattern
"4-character prefix + 4 digits, ``…I0000`` = success, ``…E…`` = error".
"""

from __future__ import annotations

import functools
import re
import tomllib
from datetime import date, datetime, time, timedelta
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from paymsg.errors import ConfigError, InputError
from paymsg.reference.calendar import Calendar
from paymsg.reference.cnaps2 import BANK_CODE, beijing_now

__all__ = [
    "DEFAULT_BALANCE",
    "BepsConfig",
    "ClockConfig",
    "Codes",
    "DayConfig",
    "Fault",
    "HvpsConfig",
    "Participant",
    "ParticipantConfig",
    "Scenario",
    "load_scenario",
    "parse_participant",
]

#: opening balance of a participant with none configured: large enough for any test
#: (one trillion yuan; the centre never lets a balance go below zero)
DEFAULT_BALANCE = Decimal("1000000000000.00")

_CLOCK = re.compile(r"([01][0-9]|2[0-3]):([0-5][0-9])")


@functools.lru_cache(maxsize=64)  # a scenario has a few; asked for every payment
def _hhmm(value: str) -> time:
    match = _CLOCK.fullmatch(value)
    if match is None:
        raise ValueError(f"{value!r} is not a time of day HH:MM")
    return time(int(match.group(1)), int(match.group(2)))


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ClockConfig(_Section):
    """The simulated clock (Beijing time)."""

    #: where the simulated clock starts; default: the current Beijing time
    start: datetime | None = None
    #: simulated seconds per real second (1 = real time; 3600 = a day in 24 s)
    speed: float = Field(default=1.0, gt=0)
    #: the business (work) date the centre starts with; default: the start's date
    business_date: date | None = None

    def start_at(self) -> datetime:
        start = self.start or beijing_now()
        return beijing_now(start).replace(microsecond=0)


class HvpsConfig(_Section):
    """HVPS settlement policies (reference §9: the day runs from 20:30 the previous
    natural day to 17:15, [S1])."""

    #: the window opens at this time on the previous natural day
    window_open: str = "20:30"
    #: and closes at this time on the business day
    window_close: str = "17:15"
    #: what happens to a payment outside the window: refused (ccms.900 PR09) or queued
    #: until the window opens
    outside_window: Literal["refuse", "queue"] = "refuse"
    #: what happens to a payment the sender's balance cannot cover: queued (saps.604
    #: PR12 已清算排队, settled when funds arrive) or refused (ccms.900 PR09)
    short_balance: Literal["queue", "refuse"] = "queue"
    #: whether the window is enforced at all
    enforce_window: bool = True

    @field_validator("window_open", "window_close")
    @classmethod
    def _check_time(cls, value: str) -> str:
        _hhmm(value)
        return value

    def in_window(self, moment: datetime) -> bool:
        if not self.enforce_window:
            return True
        opens, closes = _hhmm(self.window_open), _hhmm(self.window_close)
        now = moment.time()
        if opens > closes:  # crosses midnight: 20:30 → 17:15 the next day
            return now >= opens or now < closes
        return opens <= now < closes


class BepsConfig(_Section):
    """BEPS netting rounds and net debit limits (净借记限额)."""

    #: a round closes every this many simulated seconds (0: only on command / end of day)
    round_seconds: float = Field(default=3600.0, ge=0)
    #: what happens to a package that would take its sender's net debit position in the
    #: open round above the sender's ``net_debit_limit``: queued (ccms.900 PR11 已轧差排队;
    #: it enters a round as soon as the position allows, oldest first, and is refused at
    #: the end of the day if it never does) or refused (ccms.900 PR09). Whether the NPC
    #: notifies a queued package with a ccms.900 PR11 is [INF]; ``notify_queued`` turns it off
    over_limit: Literal["queue", "refuse"] = "queue"
    notify_queued: bool = True


class DayConfig(_Section):
    """The business day: end-of-day work and the date switch (simulated clock times)."""

    #: end of day: the open BEPS round closes, queued HVPS payments are refused, and the
    #: pre-reconciliation messages (hvps.716, beps.726) are pushed to every participant
    end_of_day: str = "17:30"
    #: the business date moves to the next day, announced with ccms.801 to everyone
    date_switch: str = "20:30"
    #: whether the clock triggers these (commands always can)
    automatic: bool = True
    #: which days are business dates: ``every-day`` (the date switch moves one calendar
    #: day on, as in the public ccms.801 sample) or ``prc`` (the next PRC working day:
    #: weekends and public holidays skipped, make-up working days 调休 kept; from the
    #: ``chinese-calendar`` package, with ``holidays`` / ``workdays`` overriding single
    #: days). Whether CNAPS2 business dates skip holidays is not in the public material:
    #: choose what your test needs
    calendar: Literal["every-day", "prc"] = "every-day"
    holidays: tuple[date, ...] = ()
    workdays: tuple[date, ...] = ()
    #: the ccms.801 HldayFlg (HF00 / HF01; which one means a holiday is [NF]): the
    #: value sent when the new business date follows the previous one directly, and
    #: the one sent when days were skipped (``prc`` only)
    holiday_flag: str = "HF01"
    holiday_flag_after_skip: str = "HF01"

    def next_business_date(self, after: date) -> date:
        """The business date that follows ``after``."""
        day = after + timedelta(days=1)
        if self.calendar == "every-day":
            return day
        calendar = Calendar(self.holidays, self.workdays, settings="[day] holidays / workdays")
        return calendar.next_workday(day)

    @field_validator("end_of_day", "date_switch")
    @classmethod
    def _check_time(cls, value: str) -> str:
        _hhmm(value)
        return value

    def end_of_day_time(self) -> time:
        return _hhmm(self.end_of_day)

    def date_switch_time(self) -> time:
        return _hhmm(self.date_switch)


class Codes(_Section):
    """Processing codes the centre answers with. The official table is [NF] (reference
    §8.4); success values are the ones observed ([S1]/[C2+])."""

    #: ccms.990 MsgPrcCd for a message received intact ([C2+]: FIB sample, FX, MIVS)
    received: str = "PM1I0000"
    #: ccms.990 MsgPrcCd for a message whose header was read but whose body was not [NF]
    unreadable: str = "PM1E0001"
    #: how unreadable text is answered: a ccms.990 with :attr:`unreadable`, or a ccms.911
    #: discard notice (a text whose header cannot be read always gets a ccms.911)
    unreadable_reply: Literal["990", "911"] = "990"
    #: ccms.911 PrcCd for discarded text [NF]
    discarded: str = "CC1E0301"
    #: how a copy of a message already received (same sender and MesgID) is answered: a
    #: ccms.990 success again (the participant resent after a lost 990) or a ccms.911
    duplicate_reply: Literal["990", "911"] = "990"
    #: ccms.900 PrcCd when safety, XSD or cnaps2 rule checks fail [NF]
    check_failed: str = "CC1E0002"
    #: ccms.900 PrcCd when the receiver is not a participant of this centre [NF]
    unknown_receiver: str = "CC1E0003"
    #: ccms.900 PrcCd when the simulator does not process the message type [NF]
    unsupported: str = "CC1E0004"
    #: ccms.900 PrcCd when a signature does not verify [NF]
    bad_signature: str = "CC1E0005"
    #: ccms.900 PrcCd for an HVPS payment refused for a short balance [NF]
    short_balance: str = "SA1E0001"
    #: ccms.900 PrcCd for an HVPS payment refused outside the operating window [NF]
    outside_window: str = "HV1E0001"
    #: ccms.900 PrcCd for a queued HVPS payment refused at the end of the day [NF]
    end_of_day: str = "HV1E0002"
    #: ccms.900 PrcCd for a BEPS package over its sender's net debit limit (queued PR11 or
    #: refused PR09, also at the end of the day) [NF]
    net_debit_limit: str = "NE1E0001"
    #: NPCPrcInf / saps.604 PrcCd of a settled HVPS payment ([S1]: FX default)
    settled: str = "CB1I0000"
    #: NPCPrcInf / ccms.900 PrcCd of a netted BEPS package ([S1]: FIB sample)
    netted: str = "NEZI0000"
    #: NPCPrcInf PrcCd of a processed reconciliation request [NF]
    processed: str = "CC1I0000"
    #: NPCPrcInf PrcCd of a download (714/724) naming a message not in the books [NF]
    not_found: str = "CC1E0401"


class ParticipantConfig(_Section):
    """One participant (direct participant bank code) as configured in the scenario."""

    #: opening settlement-account balance; default :data:`DEFAULT_BALANCE`
    balance: Decimal | None = None
    #: queue the centre reads this participant's messages from
    in_queue: str | None = None
    #: queue the centre puts everything for this participant on
    out_queue: str | None = None
    #: SM2 public key (hex) to verify this participant's signed messages; none: no check
    public_key: str | None = None
    #: BEPS net debit limit (净借记限额): the most its packages in the open round may
    #: exceed the packages it receives in that round; none: no limit
    net_debit_limit: Decimal | None = None

    @field_validator("balance", "net_debit_limit", mode="before")
    @classmethod
    def _exact(cls, value: Any) -> Any:
        if isinstance(value, float):
            raise ValueError('write the amount as a string ("5000000.00"), never a float')
        return value

    @field_validator("balance", "net_debit_limit")
    @classmethod
    def _non_negative(cls, value: Decimal | None) -> Decimal | None:
        if value is not None and (value < 0 or value.as_tuple().exponent < -2):  # type: ignore[operator]
            raise ValueError(f"{value} must be zero or more, with at most 2 decimals")
        return value


FaultKind = Literal[
    "drop_990",
    "delay_990",
    "duplicate",
    "reorder",
    "reject",
    "corrupt_signature",
    "lose",
    "crash",
]


class Fault(_Section):
    """One injected fault. It applies to inbound business messages that match ``mt``
    and ``sender`` (when given): to the ``nth`` match and the ``count - 1`` after it.

    * ``drop_990``: no ccms.990 for the message (the participant times out and resends);
    * ``delay_990``: the ccms.990 is put ``seconds`` (real) later;
    * ``duplicate``: what the centre sends the receiver for it (the forward) is put twice;
    * ``reorder``: its forward is held back until the next message for the same queue;
    * ``reject``: answered with ccms.900 PR09 ``code`` / ``info`` whatever the checks say;
    * ``corrupt_signature``: the forward's ``{S:}`` signature is altered (added if absent);
    * ``lose``: processed and answered, but missing from the centre's books (so
      reconciliation has something to find);
    * ``crash``: the centre crashes at ``point`` while processing it and restarts.
    """

    kind: FaultKind
    mt: str | None = None
    sender: str | None = None
    nth: int = Field(default=1, ge=1)
    count: int = Field(default=1, ge=1)
    seconds: float = Field(default=2.0, ge=0)
    code: str = "CC1E9999"
    info: str = "rejected by the simulator's scenario"
    point: Literal["before_commit", "after_commit", "after_put"] = "after_commit"

    def matches(self, mt: str, sender: str) -> bool:
        return (self.mt is None or self.mt == mt) and (self.sender is None or self.sender == sender)

    def fires_at(self, match_number: int) -> bool:
        """Whether the ``match_number``-th (1-based) matching message gets this fault."""
        return self.nth <= match_number < self.nth + self.count


class Scenario(_Section):
    """A whole scenario file."""

    clock: ClockConfig = ClockConfig()
    hvps: HvpsConfig = HvpsConfig()
    beps: BepsConfig = BepsConfig()
    day: DayConfig = DayConfig()
    codes: Codes = Codes()
    #: validation profile the checks use (``default``, ``schema``…)
    profile: str = "default"
    #: signing profiles (TOML laid out like ``xsd/cnaps2/signing.toml``) used to verify
    #: the signatures of participants that have a ``public_key``; default: the shipped ones
    signing_profiles: str | None = None
    #: HVPS detail answers (hvps.713) and pre-reconciliation (716/726) are split into
    #: parts of at most this many entries (Prttn)
    partition_size: Annotated[int, Field(ge=1)] = 500
    participants: dict[str, ParticipantConfig] = {}
    faults: list[Fault] = []

    @field_validator("participants")
    @classmethod
    def _bank_codes(cls, value: dict[str, ParticipantConfig]) -> dict[str, ParticipantConfig]:
        for bank in value:
            if not BANK_CODE.fullmatch(bank):
                raise ValueError(f"participant {bank!r} is not a 12-digit bank code")
        return value


def load_scenario(path: str | Path | None) -> Scenario:
    """Read a scenario TOML file (None: every default). Errors name the file and field."""
    if path is None:
        return Scenario()
    source = str(path)
    try:
        data = tomllib.loads(Path(path).read_text(encoding="utf-8"))
    except OSError as exc:
        raise ConfigError(f"cannot read the scenario: {exc.strerror}", source=source) from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"the scenario is not valid TOML: {exc}", source=source) from None
    except (UnicodeDecodeError, InvalidOperation) as exc:
        raise ConfigError(f"the scenario is not UTF-8 text: {exc}", source=source) from None
    try:
        return Scenario.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        raise ConfigError(
            f"scenario field {where}: {first['msg']}", source=source, field=where
        ) from None


class Participant(BaseModel):
    """A participant as the centre serves it: its bank code and its two queues."""

    model_config = ConfigDict(frozen=True)

    bank: str
    #: the queue the centre reads this participant's messages from
    in_queue: str
    #: the queue the centre puts everything for this participant on
    out_queue: str

    @staticmethod
    def default_in_queue(bank: str) -> str:
        return f"MSGMBFE_1.{bank}"

    @staticmethod
    def default_out_queue(bank: str) -> str:
        return f"MSGTOBANK.{bank}"


def parse_participant(spec: str, scenario: Scenario | None = None) -> Participant:
    """``BANKCODE[:IN_QUEUE:OUT_QUEUE]`` → :class:`Participant` (queues default from the
    scenario, else ``MSGMBFE_1.<bank>`` / ``MSGTOBANK.<bank>``)."""
    parts = spec.split(":")
    bank = parts[0]
    if not BANK_CODE.fullmatch(bank):
        raise InputError(
            f"participant {spec!r}: {bank!r} is not a 12-digit bank code",
            field="participant",
            hint="write BANKCODE or BANKCODE:IN_QUEUE:OUT_QUEUE",
        )
    if len(parts) not in (1, 3) or (len(parts) == 3 and not all(parts[1:])):
        raise InputError(
            f"participant {spec!r}: give both queues or neither",
            field="participant",
            hint="write BANKCODE or BANKCODE:IN_QUEUE:OUT_QUEUE",
        )
    configured = (scenario.participants.get(bank) if scenario else None) or ParticipantConfig()
    in_queue = parts[1] if len(parts) == 3 else configured.in_queue
    out_queue = parts[2] if len(parts) == 3 else configured.out_queue
    return Participant(
        bank=bank,
        in_queue=in_queue or Participant.default_in_queue(bank),
        out_queue=out_queue or Participant.default_out_queue(bank),
    )
