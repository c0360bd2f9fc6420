"""An echo peer: answers every message with a ccms.990, as the MBFE front end does.

It lets a participant try sending with nothing else running (``paymsg mq echo``), and it is
the far end of the examples and of the benchmark. It reads ``in_queue`` (the queue the
participant puts on, ``MSGMBFE_1``), answers each message with a ccms.990 from
``participant`` (the NPC ``0000`` by default) on ``out_queue``, then acknowledges it. A text
it cannot read is answered with the ``body_unreadable``/``header_unreadable`` code when its
header can be read at all; a ccms.990 is never answered. The peer keeps no journal: it is
not the CNAPS2 centre (the simulator is) and checks nothing beyond readability.
"""

from __future__ import annotations

import logging
import threading
import time
from typing import Any, Literal

from pydantic import BaseModel

from paymsg.errors import ConfigError, PaymsgError
from paymsg.reference.cnaps2 import NPC, IdGenerator
from paymsg.transport.channel import Channel
from paymsg.transport.session import ReplyCodes, acknowledge_all, build_confirmation, read_header

__all__ = ["EchoStats", "run_echo"]

log = logging.getLogger("paymsg.transport")


class EchoStats(BaseModel):
    """What an echo peer did."""

    received: int = 0
    answered: int = 0
    errors: int = 0
    not_answered: int = 0


def run_echo(
    channel: Channel | Any,
    *,
    in_queue: str,
    out_queue: str,
    participant: str = NPC,
    codes: ReplyCodes | None = None,
    header_ids: Literal["echo", "new"] = "new",
    id_generator: IdGenerator | None = None,
    max_messages: int | None = None,
    idle_exit: float | None = None,
    stop: threading.Event | None = None,
    poll_interval: float = 0.2,
    batch_size: int = 256,
) -> EchoStats:
    """Answer messages until ``max_messages``, ``idle_exit`` seconds of quiet, or ``stop``.

    Messages already waiting (up to ``batch_size``) are answered together: their 990s go
    out in one :meth:`~paymsg.transport.channel.Channel.put_many`, then each is acked."""
    if batch_size < 1:
        raise ConfigError(f"batch_size must be >= 1, not {batch_size}", field="batch_size")
    codes = codes or ReplyCodes()
    stats = EchoStats()
    channel.declare(in_queue)
    channel.declare(out_queue)
    last = time.monotonic()
    while True:
        if stop is not None and stop.is_set():
            break
        if max_messages is not None and stats.received >= max_messages:
            break
        if idle_exit is not None and time.monotonic() - last >= idle_exit:
            break
        wait = poll_interval if idle_exit is None else min(poll_interval, idle_exit)
        room = (
            batch_size if max_messages is None else min(batch_size, max_messages - stats.received)
        )
        # what is already waiting (up to batch_size) is answered with one durable put, then
        # acked: nothing is acknowledged before its answer is on the reply queue
        batch = channel.get_many(in_queue, room, wait)
        if not batch:
            continue
        last = time.monotonic()
        replies: list[bytes] = []
        for taken in batch:
            stats.received += 1
            reply = _answer(taken.body, stats, codes, participant, header_ids, id_generator)
            if reply is not None:
                replies.append(reply)
        channel.put_many(out_queue, replies)
        stats.answered += len(replies)
        acknowledge_all(channel, batch)
        last = time.monotonic()
    return stats


def _answer(
    body: bytes,
    stats: EchoStats,
    codes: ReplyCodes,
    participant: str,
    header_ids: Literal["echo", "new"],
    id_generator: IdGenerator | None,
) -> bytes | None:
    """The ccms.990 answering ``body``, or None (a 990, or no usable header)."""
    header, readable = read_header(body)
    code = codes.success
    if not readable:
        code = codes.header_unreadable
        stats.errors += 1
    if header is None or header.mesg_type.startswith("ccms.990"):
        stats.not_answered += 1
        return None
    try:
        return build_confirmation(
            header, code, participant=participant, header_ids=header_ids, id_generator=id_generator
        )
    except PaymsgError as exc:  # cannot be answered: counted, never blocks the queue
        log.warning("not answered: %s", exc)
        stats.not_answered += 1
        return None
