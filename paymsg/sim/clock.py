"""The simulated clock: Beijing time that can run faster than real time.

``SimClock(start, speed=3600)`` runs a business day in 24 real seconds. Tests move it by
hand with :meth:`SimClock.advance`. The clock never goes backwards.
"""

from __future__ import annotations

import threading
import time as _time
from datetime import datetime, timedelta

__all__ = ["SimClock"]


class SimClock:
    """Simulated Beijing time (naive datetimes): ``start + elapsed real time × speed``.

    Thread-safe: the status view reads it while the centre runs.
    """

    def __init__(self, start: datetime, speed: float = 1.0) -> None:
        if speed <= 0:
            raise ValueError("the clock speed must be positive")
        self.speed = speed
        self._start = start
        self._origin = _time.monotonic()
        self._offset = timedelta(0)
        self._lock = threading.Lock()

    def now(self) -> datetime:
        """The simulated time now (naive Beijing time)."""
        elapsed = (_time.monotonic() - self._origin) * self.speed
        with self._lock:
            offset = self._offset
        return self._start + timedelta(seconds=elapsed) + offset

    def advance(self, delta: timedelta | float) -> datetime:
        """Move the clock forward by ``delta`` (a timedelta or simulated seconds)."""
        if not isinstance(delta, timedelta):
            delta = timedelta(seconds=delta)
        if delta < timedelta(0):
            raise ValueError("the simulated clock never goes backwards")
        with self._lock:
            self._offset += delta
        return self.now()

    def set(self, moment: datetime) -> datetime:
        """Move the clock forward to ``moment`` (no effect if it is already later)."""
        current = self.now()
        if moment > current:
            self.advance(moment - current)
        return self.now()
