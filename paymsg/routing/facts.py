"""The facts routing rules rely on: who we are, the participant directory, channel
windows and cut-offs, the business calendar, limits and counterparty caps.

Facts are configuration (TOML, validated by pydantic) plus data (the directory CSV, the
calendar). Uncertain facts are settings with the reference's value as the default:

* HVPS runs from the previous natural day's 20:30 to 17:15 (reference §9, [S1]):
  ``[hvps] open = "20:30"``, ``close = "17:15"``; on PRC holidays it is closed unless
  ``open_on_holidays = true``.
* BEPS runs 7×24 ([S1]); ``[beps] cutoffs`` are the times at which open packages close.
* The BEPS single-item limit for 普通贷记 defaults to 50,000.00 CNY ([C2+], with a
  conflicting NPC sample, so it is configuration): ``[limits] beps_single_item``.
* The calendar is the ``chinese-calendar`` package (PRC holidays and make-up working days,
  调休) with ``[calendar] holidays`` / ``workdays`` overrides; a year the package has no
  data for is an error, never a guess.
"""

from __future__ import annotations

import csv
import io
import re
import threading
import tomllib
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from paymsg.errors import ConfigError, InputError
from paymsg.reference.calendar import Calendar
from paymsg.routing.model import ChannelVerdict, Decision, Instruction, make_verdict

__all__ = [
    "Calendar",
    "Exposure",
    "Facts",
    "FactsConfig",
    "Participant",
    "load_facts",
    "npc_business_date",
    "read_directory",
]

_BANK = re.compile(r"[0-9]{12}")
_HHMM = re.compile(r"([01][0-9]|2[0-3]):([0-5][0-9])")


def _time(value: str) -> time:
    m = _HHMM.fullmatch(value)
    if not m:
        raise ValueError(f"{value!r} is not HH:MM")
    return time(int(m.group(1)), int(m.group(2)))


#: the verdict "usable now" per channel (immutable, shared)
_OK = {c: ChannelVerdict(channel=c, verdict="ok") for c in ("HVPS", "BEPS", "BOOK", "XBORDER")}


class Participant(BaseModel):
    """One row of the participant directory (行名行号)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    bank_code: str
    direct: str = Field(description="its direct participant (清算行)")
    name: str = ""
    city: str = ""
    status: Literal["active", "suspended"] = "active"
    channels: tuple[Literal["HVPS", "BEPS"], ...] = ("HVPS", "BEPS")

    @field_validator("bank_code", "direct")
    @classmethod
    def _code(cls, value: str) -> str:
        if not _BANK.fullmatch(value):
            raise ValueError(f"{value!r} is not a 12-digit bank code")
        return value

    @field_validator("channels", mode="before")
    @classmethod
    def _split(cls, value: object) -> object:
        if isinstance(value, str):
            return tuple(v.strip() for v in value.split("|") if v.strip())
        return value


def read_directory(path: str | Path) -> list[Participant]:
    """Participants from a CSV file: ``bank_code,direct,name,city,status,channels`` with
    channels separated by ``|`` (``HVPS|BEPS``)."""
    source = str(path)
    try:
        text = Path(path).read_bytes().decode("utf-8-sig")
    except OSError as exc:
        raise InputError(f"cannot read the directory: {exc.strerror}", source=source) from None
    except UnicodeDecodeError as exc:
        raise InputError(f"not UTF-8: {exc.reason}", source=source, offset=exc.start) from None
    reader = csv.DictReader(io.StringIO(text, newline=""))
    out: list[Participant] = []
    seen: set[str] = set()
    for row in reader:
        line = reader.line_num
        if None in row:
            raise InputError("more cells than the header has", source=source, line=line)
        if None in row.values():
            raise InputError("fewer cells than the header has", source=source, line=line)
        try:
            p = Participant.model_validate({k: v for k, v in row.items() if v not in (None, "")})
        except ValidationError as exc:
            first = exc.errors()[0]
            field = ".".join(str(x) for x in first["loc"])
            raise InputError(
                f"field {field}: {first['msg']}", source=source, line=line, field=field
            ) from None
        if p.bank_code in seen:
            raise InputError(f"bank code {p.bank_code} appears twice", source=source, line=line)
        seen.add(p.bank_code)
        out.append(p)
    if not out:
        # loading replaces the directory: an empty file would leave routing with no banks
        raise InputError("no participants in the directory file", source=source)
    return out


class HvpsWindow(BaseModel):
    model_config = ConfigDict(extra="forbid")
    open: str = "20:30"
    close: str = "17:15"
    open_on_holidays: bool = False

    @field_validator("open", "close")
    @classmethod
    def _hhmm(cls, value: str) -> str:
        _time(value)
        return value


class BepsSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")
    cutoffs: tuple[str, ...] = ()
    package_max_items: int = Field(default=1000, ge=1)
    package_max_amount: Decimal = Field(default=Decimal("100000000.00"), gt=0)
    package_max_age_seconds: int = Field(default=600, ge=1)

    @field_validator("cutoffs")
    @classmethod
    def _hhmm(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        for v in value:
            _time(v)
        return value


class Limits(BaseModel):
    model_config = ConfigDict(extra="forbid")
    beps_single_item: Decimal = Decimal("50000.00")
    #: direct participant → cap on the sum sent to it in one run (a business day)
    counterparty: dict[str, Decimal] = {}


class CalendarSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")
    holidays: tuple[date, ...] = ()
    workdays: tuple[date, ...] = ()


class FactsConfig(BaseModel):
    """The ``[facts]`` file (or section)."""

    model_config = ConfigDict(extra="forbid")
    participant: str = Field(description="our direct participant (bank code)")
    own_banks: tuple[str, ...] = ()
    directory: str | None = None
    business_date: date | None = None
    hvps: HvpsWindow = HvpsWindow()
    beps: BepsSettings = BepsSettings()
    limits: Limits = Limits()
    calendar: CalendarSettings = CalendarSettings()


def load_facts(path: str | Path, section: str | None = None) -> FactsConfig:
    source = str(path)
    try:
        data = tomllib.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError(f"cannot read facts: {exc}", source=source) from None
    if section is not None:
        data = data.get(section, {})
    try:
        config = FactsConfig.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        field = ".".join(str(x) for x in first["loc"])
        raise ConfigError(f"{field}: {first['msg']}", source=source, field=field) from None
    if config.directory is not None and not Path(config.directory).is_absolute():
        config.directory = str(Path(path).parent / config.directory)
    return config


class Exposure:
    """Sums sent per counterparty during one run, for the caps. Owned by the caller (one
    per business day), so the router itself holds no per-call state."""

    def __init__(self) -> None:
        self._used: dict[str, Decimal] = {}
        self._lock = threading.Lock()

    def used(self, bank: str) -> Decimal:
        return self._used.get(bank, Decimal(0))

    def add(self, bank: str, amount: Decimal) -> None:
        with self._lock:
            self._used[bank] = self._used.get(bank, Decimal(0)) + amount

    def count(self, decision: Decision) -> None:
        """Add what ``decision`` sends to its receiver (a clearing channel's only): called
        by the router for each decision it makes, and by a re-run for each one it reuses."""
        if decision.receiver is not None and decision.channel in ("HVPS", "BEPS"):
            self.add(decision.receiver, decision.amount)


class Facts:
    """Facts ready for the router. Immutable after construction."""

    def __init__(
        self,
        config: FactsConfig,
        directory: list[Participant] | None = None,
        *,
        business_date: date | None = None,
    ) -> None:
        self.config = config
        self.participant = config.participant
        self.own_banks = frozenset((config.participant, *config.own_banks))
        if directory is None and config.directory is not None:
            directory = read_directory(config.directory)
        self.directory: dict[str, Participant] = {p.bank_code: p for p in directory or []}
        self.calendar = Calendar(config.calendar.holidays, config.calendar.workdays)
        self.business_date = business_date or config.business_date
        self.hvps_open = _time(config.hvps.open)
        self.hvps_close = _time(config.hvps.close)
        self.beps_limit = config.limits.beps_single_item
        self.caps = dict(config.limits.counterparty)
        self._kinds: dict[str, str] = {}

    # -- derived features --------------------------------------------------------------
    def creditor_kind(self, bank: str) -> str:
        kind = self._kinds.get(bank)
        if kind is None:
            kind = self._kinds[bank] = self._kind(bank)  # derived from immutable facts
        return kind

    def _kind(self, bank: str) -> str:
        if bank in self.own_banks:
            return "own"
        row = self.directory.get(bank)
        if row is not None and row.direct == self.participant:
            return "own"
        return "domestic" if _BANK.fullmatch(bank) else "foreign"

    def status(self, bank: str) -> str:
        row = self.directory.get(bank)
        return "unknown" if row is None else row.status

    # -- windows ---------------------------------------------------------------------
    def hvps_is_open(self, moment: datetime) -> bool:
        t = moment.time()
        if t >= self.hvps_open:  # the next natural day's business day has opened
            day = moment.date() + timedelta(days=1)
        elif t < self.hvps_close:
            day = moment.date()
        else:
            return False
        return self.config.hvps.open_on_holidays or self.calendar.is_workday(day)

    def hvps_next_opening(self, moment: datetime) -> datetime:
        """The first moment after ``moment`` at which HVPS takes payments."""
        day = moment.date()
        if moment.time() >= self.hvps_close:  # today's window is over (or the next one began)
            day += timedelta(days=1)
        # business day ``day`` opens at hvps_open of the natural day before
        while not (self.config.hvps.open_on_holidays or self.calendar.is_workday(day)):
            day += timedelta(days=1)
        opening = datetime.combine(day - timedelta(days=1), self.hvps_open)
        return max(opening, moment)

    # -- per-channel verdicts --------------------------------------------------------
    def verdict(
        self, channel: str, ins: Instruction, moment: datetime, exposure: Exposure | None
    ) -> ChannelVerdict:
        creditor = ins.creditor_bank
        if channel == "BOOK":
            if self.creditor_kind(creditor) != "own":
                return make_verdict(
                    channel=channel,
                    verdict="refused",
                    reason=f"creditor bank {creditor} is not this bank",
                )
            return _OK[channel]
        if channel == "XBORDER":
            if ins.currency == "CNY" and self.creditor_kind(creditor) != "foreign":
                return make_verdict(
                    channel=channel,
                    verdict="refused",
                    reason="a CNY payment to a domestic bank is not cross-border",
                )
            return _OK[channel]
        # HVPS / BEPS
        if ins.currency != "CNY":
            return make_verdict(
                channel=channel,
                verdict="refused",
                reason=f"{channel} settles CNY only, not {ins.currency}",
            )
        row = self.directory.get(creditor)
        if row is None:
            return make_verdict(
                channel=channel,
                verdict="refused",
                reason=f"creditor bank {creditor} is not in the participant directory",
            )
        if row.status != "active":
            return make_verdict(
                channel=channel,
                verdict="refused",
                reason=f"creditor bank {creditor} is {row.status}",
            )
        if channel not in row.channels:
            return make_verdict(
                channel=channel,
                verdict="refused",
                reason=f"creditor bank {creditor} has not joined {channel}",
            )
        if channel == "BEPS" and ins.amount > self.beps_limit:
            return make_verdict(
                channel=channel,
                verdict="refused",
                reason=f"{ins.amount:,.2f} > single-item limit {self.beps_limit:,.2f}",
            )
        cap = self.caps.get(row.direct)
        if cap is not None and exposure is not None:
            used = exposure.used(row.direct)
            if used + ins.amount > cap:
                return make_verdict(
                    channel=channel,
                    verdict="refused",
                    reason=(
                        f"cap for {row.direct}: {used:,.2f} sent + {ins.amount:,.2f} > {cap:,.2f}"
                    ),
                )
        if channel == "HVPS" and not self.hvps_is_open(moment):
            return make_verdict(
                channel=channel,
                verdict="closed",
                reason=f"HVPS is closed at {moment:%Y-%m-%d %H:%M}",
                opens_at=self.hvps_next_opening(moment),
            )
        return _OK[channel]


def npc_business_date(journal: Any, system: str = "HVPS") -> tuple[date, int] | None:
    """The NPC's current business date from the newest inbound ccms.801 of ``system`` in
    the journal (``SysStsInf/CurSysDt``), with the journal entry id it came from; None
    when the journal has no such 801."""
    import paymsg
    from paymsg.codec.json.engine import to_data

    newest = None
    after: int | None = None
    while True:  # page through: the newest 801 is the last one
        page = journal.query(direction="in", mt="ccms.801.001.02", limit=500, after_id=after)
        if not page:
            break
        for entry in page:
            if entry.system in (None, system):
                newest = entry
        after = page[-1].id
    if newest is None:
        return None
    data = to_data(paymsg.parse(newest.raw).document)
    current = data.get("SysStsNtfctn", {}).get("SysStsInf", {}).get("CurSysDt")
    if not current:
        raise InputError("ccms.801 without SysStsInf/CurSysDt", source=f"journal entry {newest.id}")
    return date.fromisoformat(str(current)), newest.id
