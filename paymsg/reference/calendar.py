"""PRC working days: public holidays and make-up working days (调休).

The data comes from the ``chinese-calendar`` package; callers can override single days
(a holiday the package does not know yet, a make-up working day), and a year the package
has no data for is a :class:`~paymsg.errors.ConfigError` naming the settings to give.
Used by routing (is HVPS open today) and by the simulator (the next business date).
"""

from __future__ import annotations

from datetime import date, timedelta

from paymsg.errors import ConfigError

__all__ = ["Calendar"]


class Calendar:
    """PRC working days: ``chinese-calendar`` plus overrides. Immutable, thread-safe."""

    def __init__(
        self,
        holidays: tuple[date, ...] = (),
        workdays: tuple[date, ...] = (),
        *,
        settings: str = "[calendar] holidays / workdays",
    ) -> None:
        #: where a user gives the overrides (named when a year has no data)
        self.settings = settings
        self._holidays = frozenset(holidays)
        self._workdays = frozenset(workdays)
        self._known: dict[date, bool] = {}

    def is_workday(self, day: date) -> bool:
        known = self._known.get(day)
        if known is not None:
            return known
        answer = self._lookup(day)
        self._known[day] = answer  # a fact of the calendar, the same for every caller
        return answer

    def _lookup(self, day: date) -> bool:
        if day in self._holidays:
            return False
        if day in self._workdays:
            return True
        import chinese_calendar

        try:
            return bool(chinese_calendar.is_workday(day))
        except NotImplementedError:
            raise ConfigError(
                f"no PRC calendar data for {day.year}: give its holidays and make-up working days "
                f"in {self.settings}",
                field="calendar",
            ) from None

    def next_workday(self, day: date) -> date:
        for _ in range(40):
            if self.is_workday(day):
                return day
            day += timedelta(days=1)
        raise ConfigError(f"no working day within 40 days of {day}", field="calendar")
