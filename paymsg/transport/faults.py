"""Fault injection for the crash tests: ``PAYMSG_FAULT=point:N`` kills the process.

The session calls :meth:`FaultPoints.hit` at each named step of sending and receiving
(``received``, ``recorded``, ``answered``, ``acked``, ``in_handler``, ``handler_done``,
``recorded_out``, ``marked_sent``, ``put`` …; the full list is :data:`POINTS`). When the
environment variable :data:`FAULT_ENV` names a point and a count, the N-th time that point
is reached the process sends itself SIGKILL — no cleanup, no ``finally``, exactly like
``kill -9`` from outside at that instant. Several points may be given, comma-separated
(``recorded:3,acked:7``); the first one reached wins.

Without the variable every call is a dictionary lookup and nothing else.
"""

from __future__ import annotations

import os
import signal
import threading

from paymsg.errors import ConfigError

__all__ = ["FAULT_ENV", "POINTS", "FaultPoints"]

#: the environment variable read by :meth:`FaultPoints.from_env`
FAULT_ENV = "PAYMSG_FAULT"

#: every point the session reports, in the order a message meets them
POINTS: tuple[str, ...] = (
    # receiving (one inbound message)
    "received",  # got from the channel, nothing recorded yet
    "recorded",  # inbox row committed, no 990 sent yet
    "answered",  # our ccms.990 put (durable), the inbound message not yet acknowledged
    "acked",  # acknowledged on the channel, not yet delivered to the application
    "in_handler",  # inside the delivery transaction, before the handler runs
    "handler_done",  # the handler has written its rows; the transaction is not committed
    "delivered",  # delivery committed
    # correlation of replies to our own messages
    "confirmation_recorded",  # an inbound ccms.990 is in the inbox, the outbox not updated
    "correlated",  # the original's status is updated, the reply not yet acknowledged
    # sending (one outbound message)
    "recorded_out",  # outbox row committed, nothing put
    "marked_sent",  # status 'sent' committed, nothing put
    "put",  # put is durable, the 990 not yet seen
)


class FaultPoints:
    """Counts the points reached and kills the process at the configured one."""

    def __init__(self, spec: str | None = None) -> None:
        self._targets: dict[str, int] = {}
        self._counts: dict[str, int] = {}
        self._lock = threading.Lock()
        for item in (spec or "").split(","):
            item = item.strip()
            if not item:
                continue
            point, _, count = item.partition(":")
            if point not in POINTS or not count.isdigit() or int(count) < 1:
                raise ConfigError(
                    f"bad fault injection setting {item!r}",
                    field=FAULT_ENV,
                    hint=f"use POINT:N with N >= 1 and POINT one of {', '.join(POINTS)}",
                )
            self._targets[point] = int(count)

    @classmethod
    def from_env(cls) -> FaultPoints:
        """The faults named by ``$PAYMSG_FAULT`` (none when it is unset or empty)."""
        return cls(os.environ.get(FAULT_ENV))

    @property
    def armed(self) -> bool:
        """Whether any point is set to kill the process."""
        return bool(self._targets)

    def hit(self, point: str) -> None:
        """Note that ``point`` is reached; SIGKILL this process if it is the armed one."""
        if not self._targets:
            return
        with self._lock:
            count = self._counts.get(point, 0) + 1
            self._counts[point] = count
            if self._targets.get(point) == count:
                os.kill(os.getpid(), signal.SIGKILL)
