"""Running a centre: open its channel and books, serve, and restart it after a crash.

:func:`serve` is what ``paymsg sim run`` calls. A ``crash`` fault abandons the running
centre mid-message (nothing in memory survives: the channel connection is closed, so
the un-acknowledged message is handed out again, and the books are reopened); a new
centre then starts from the durable books, flushes its outbox and carries on.
:func:`send_command` talks to a running centre through its control queue.
"""

from __future__ import annotations

import functools
import json
import time
from collections.abc import Callable
from typing import Any

from paymsg.errors import ConfigError
from paymsg.sim.books import Books
from paymsg.sim.centre import CONTROL_QUEUE, Centre, SimulatedCrash
from paymsg.sim.clock import SimClock
from paymsg.sim.events import EventSink
from paymsg.sim.scenario import Participant, Scenario
from paymsg.transport.channel import open_channel

__all__ = ["COMMANDS", "send_command", "serve"]

#: commands a running centre accepts on its control queue
COMMANDS = ("round-close", "end-of-day", "date-switch", "advance", "stop")


def serve(
    channel_url: str,
    participants: list[Participant],
    *,
    books_url: str,
    scenario: Scenario | None = None,
    clock: SimClock | None = None,
    events: EventSink | None = None,
    control_queue: str = CONTROL_QUEUE,
    until: Callable[[], bool] | None = None,
    on_idle: Callable[[Centre], None] | None = None,
    max_restarts: int = 100,
    batch: int = 50,
) -> dict[str, Any]:
    """Serve ``participants`` until a ``stop`` command or ``until()``; restart after a
    scenario crash (at most ``max_restarts`` times). Returns the final status."""
    scenario = scenario or Scenario()
    clock = clock or SimClock(scenario.clock.start_at(), scenario.clock.speed)
    events = events or EventSink()
    restarts = 0
    # commands sent before this serve() began found no centre: set aside (a restart after
    # a scenario crash keeps this moment, so commands sent meanwhile are obeyed)
    started = time.time()
    while True:
        channel = open_channel(channel_url)
        books = Books(books_url)
        try:
            centre = Centre(
                channel,
                participants,
                books=books,
                scenario=scenario,
                clock=clock,
                events=events,
                control_queue=control_queue,
                batch=batch,
                commands_after=started,
            )
            idle = functools.partial(on_idle, centre) if on_idle is not None else None
            centre.run(until=until, on_idle=idle)
            status = centre.status()
            status["restarts"] = restarts
            return status
        except SimulatedCrash as crash:
            restarts += 1
            events.emit("crash", clock.now(), info=str(crash), restarts=restarts)
            if restarts > max_restarts:
                raise ConfigError(
                    f"the centre crashed {restarts} times; giving up", field="faults"
                ) from None
        finally:
            channel.close()
            books.close()


def send_command(
    channel_url: str, command: str, *, control_queue: str = CONTROL_QUEUE, **arguments: Any
) -> None:
    """Put one JSON command on a running centre's control queue, stamped with the time:
    a centre started later sets it aside (see :class:`~paymsg.sim.centre.Centre`)."""
    if command not in COMMANDS:
        raise ConfigError(f"unknown simulator command {command!r}", hint=", ".join(COMMANDS))
    with open_channel(channel_url) as channel:
        channel.declare(control_queue)
        order = {"command": command, **arguments, "sent_at": time.time()}
        channel.put(control_queue, json.dumps(order).encode())
