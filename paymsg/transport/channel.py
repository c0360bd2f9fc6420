"""The message channel contract: one durable queue interface, three implementations.

A :class:`Channel` moves opaque byte bodies (a whole CNAPS2 text: header, optional
signature, XML, UTF-8) between named queues with at-least-once semantics:

* ``put`` returns only once the message is durable (SQLite commit, RabbitMQ publisher
  confirm, IBM MQ syncpoint commit) and raises :class:`~paymsg.errors.TransportError`
  otherwise;
* ``get`` hands out the oldest available message of a queue (FIFO per queue) and hides
  it from other consumers until it is acknowledged or rejected; if the consumer dies or
  loses its connection first, the message becomes available again and its
  ``delivery_count`` grows by one;
* ``reject(requeue=False)`` - and exceeding the channel's delivery limit - moves the
  message to the dead-letter queue ``f"{queue}.dlq"``: nothing is ever dropped.

Channels are chosen by URL with :func:`open_channel`:

``sqlite:///PATH[?visibility=30&delivery_limit=5&poll=0.005]``
    the embedded default (standard library only); see :mod:`paymsg.transport.sqlite`.
``amqp://user:password@host:port/vhost[?prefetch=…]`` / ``amqps://…``
    RabbitMQ through pika (``pip install "paymsg[rabbitmq]"``); see
    :mod:`paymsg.transport.rabbitmq`.
``ibmmq://QMGR@host(port)/CHANNEL[?…]``
    IBM MQ through IBM's ``ibmmq`` package (``pip install "paymsg[ibmmq]"`` plus IBM's MQ
    client library); see :mod:`paymsg.transport.ibmmq`. Untested here.

A channel object is used by one thread at a time unless its docstring says otherwise.
Correlation of CNAPS2 replies is by the header MesgID inside the body, never by
broker-level message ids, so channels carry no correlation fields.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol, runtime_checkable

from paymsg.errors import ConfigError, InputError, TransportError, mask_url

__all__ = [
    "DEFAULT_DELIVERY_LIMIT",
    "DLQ_SUFFIX",
    "MAX_QUEUE_NAME",
    "Channel",
    "Delivery",
    "ack_each",
    "check_message",
    "check_queue_name",
    "dlq_name",
    "mask_url",
    "open_channel",
    "take_each",
]

#: deliveries of one message before it is dead-lettered instead of delivered again
DEFAULT_DELIVERY_LIMIT = 5

#: longest queue name every channel accepts (IBM MQ's MQ_Q_NAME_LENGTH is 48)
MAX_QUEUE_NAME = 48

#: suffix of the dead-letter queue of every queue
DLQ_SUFFIX = ".dlq"


def dlq_name(queue: str) -> str:
    """The dead-letter queue of ``queue``."""
    return f"{queue}{DLQ_SUFFIX}"


def check_queue_name(queue: str) -> str:
    """Return ``queue`` if every channel can use it as a queue name, else raise InputError.

    The common subset of RabbitMQ and IBM MQ names: 1-48 characters from ``A-Z a-z 0-9 . _ /
    %`` and ``-`` is allowed by RabbitMQ but not IBM MQ, so it is refused (a name must work on
    whichever channel the deployment uses). The dead-letter suffix counts toward the length.
    """
    if not isinstance(queue, str) or not queue:
        raise InputError(f"queue name must be a non-empty string, got {queue!r}", field="queue")
    if len(queue) > MAX_QUEUE_NAME:
        raise InputError(
            f"queue name {queue!r} is {len(queue)} characters; at most {MAX_QUEUE_NAME}",
            field="queue",
        )
    bad = [c for c in queue if not (c.isascii() and (c.isalnum() or c in "._/%"))]
    if bad:
        raise InputError(
            f"queue name {queue!r} contains {bad[0]!r}; use letters, digits, '.', '_', '/', '%'",
            field="queue",
        )
    return queue


def check_message(body: bytes, properties: Mapping[str, str] | None) -> dict[str, str]:
    """Check a put's arguments; return the properties as a plain dict (InputError if bad)."""
    if not isinstance(body, bytes | bytearray | memoryview):
        raise InputError(
            f"message body must be bytes, got {type(body).__name__}",
            field="body",
            hint="encode the CNAPS2 text as UTF-8 first",
        )
    props: dict[str, str] = {}
    for key, value in (properties or {}).items():
        if not isinstance(key, str) or not key or not isinstance(value, str):
            raise InputError(
                f"message property {key!r}={value!r}: names and values must be strings",
                field="properties",
            )
        props[key] = value
    return props


@dataclass(frozen=True, slots=True)
class Delivery:
    """One message handed out by :meth:`Channel.get`, to be acked or rejected."""

    queue: str
    #: the whole text exactly as put (bytes, untouched)
    body: bytes
    #: opaque, channel-specific handle for ack/reject
    tag: str
    #: 1 on first delivery; more after a crash, lost connection or requeue
    delivery_count: int
    #: application properties given to put (may be empty)
    properties: Mapping[str, str] = field(default_factory=dict)

    @property
    def redelivered(self) -> bool:
        """True when this message was handed out before (and not acknowledged)."""
        return self.delivery_count > 1


@runtime_checkable
class Channel(Protocol):
    """A durable, at-least-once message queue connection (see the module docstring)."""

    #: the URL the channel was opened with, any password masked
    url: str

    def declare(self, queue: str) -> None:
        """Create ``queue`` and its dead-letter queue ``f"{queue}.dlq"`` (idempotent, durable)."""
        ...

    def put(self, queue: str, body: bytes, properties: Mapping[str, str] | None = None) -> None:
        """Append ``body`` to ``queue``; return only once it is durable."""
        ...

    def put_many(
        self, queue: str, bodies: Sequence[bytes], properties: Mapping[str, str] | None = None
    ) -> None:
        """Append every body to ``queue`` in order; return only once all are durable.

        A channel that can makes them durable together (one SQLite commit, one IBM MQ
        syncpoint); this default puts them one by one. On an error some may have been put
        (at-least-once: the caller puts the rest, or all, again).
        """
        for body in bodies:
            self.put(queue, body, properties)

    def get(self, queue: str, timeout: float = 0.0) -> Delivery | None:
        """Take the oldest available message, waiting up to ``timeout`` seconds; None if none."""
        ...

    def get_many(self, queue: str, limit: int, timeout: float = 0.0) -> list[Delivery]:
        """Take up to ``limit`` of the oldest available messages, in order, waiting up to
        ``timeout`` seconds for the first; [] if none came.

        Each is held as if taken by :meth:`get`. A channel that can leases them together
        (one SQLite transaction); this default takes them one by one.
        """
        return take_each(self, queue, limit, timeout)

    def ack(self, delivery: Delivery) -> None:
        """Remove a delivered message for good."""
        ...

    def ack_many(self, deliveries: Sequence[Delivery]) -> None:
        """Acknowledge every delivery. A channel that can does it at once (one SQLite
        transaction, one RabbitMQ ``multiple`` ack); this default acks them one by one.
        Those that can still be acknowledged are, even when one cannot
        (:class:`~paymsg.errors.TransportError` afterwards, naming the first)."""
        ack_each(self, deliveries)

    def reject(self, delivery: Delivery, *, requeue: bool) -> None:
        """Give a message back (``requeue=True``) or move it to the dead-letter queue."""
        ...

    def depth(self, queue: str) -> int:
        """Messages waiting in ``queue`` (not counting those in flight)."""
        ...

    def close(self) -> None:
        """Release the connection; un-acked deliveries become available again."""
        ...

    def __enter__(self) -> Channel: ...

    def __exit__(self, *exc: object) -> None: ...


def take_each(channel: Any, queue: str, limit: int, timeout: float = 0.0) -> list[Delivery]:
    """:meth:`Channel.get_many` for a channel that takes one message at a time: the first
    waiting up to ``timeout``, the others only if already there."""
    first = channel.get(queue, timeout)
    if first is None:
        return []
    taken = [first]
    while len(taken) < limit:
        more = channel.get(queue, 0.0)
        if more is None:
            break
        taken.append(more)
    return taken


def ack_each(channel: Any, deliveries: Sequence[Delivery]) -> None:
    """:meth:`Channel.ack_many` one by one: every delivery that can be acknowledged is,
    then the first failure (:class:`~paymsg.errors.TransportError`) is raised."""
    failed: TransportError | None = None
    for delivery in deliveries:
        try:
            channel.ack(delivery)
        except TransportError as exc:
            failed = failed or exc
    if failed is not None:
        raise failed


def open_channel(url: str, **options: Any) -> Channel:
    """Open the channel named by ``url`` (``sqlite:``, ``amqp:``/``amqps:``, ``ibmmq:``).

    ``options`` are passed to the implementation and override URL query settings.
    A malformed or unknown URL raises :class:`~paymsg.errors.ConfigError` naming it.
    """
    if not isinstance(url, str) or "://" not in url:
        raise ConfigError(
            f"not a channel URL: {url!r}",
            field="channel",
            hint="use sqlite:///PATH, amqp://user:pass@host:port/vhost or ibmmq://QMGR@host(port)/CHANNEL",
        )
    scheme = url.split("://", 1)[0].lower()
    if scheme == "sqlite":
        from paymsg.transport.sqlite import SqliteChannel

        return SqliteChannel(url, **options)
    if scheme in ("amqp", "amqps"):
        from paymsg.transport.rabbitmq import RabbitMQChannel

        return RabbitMQChannel(url, **options)
    if scheme == "ibmmq":
        from paymsg.transport.ibmmq import IBMMQChannel

        return IBMMQChannel(url, **options)
    raise ConfigError(
        f"unknown channel URL scheme {scheme!r} in {mask_url(url)!r}",
        field="channel",
        hint="use sqlite:///PATH, amqp://…, amqps://… or ibmmq://…",
    )
