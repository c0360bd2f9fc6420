"""RabbitMQ channel (``amqp://`` / ``amqps://``) through pika's ``BlockingConnection``.

Install with ``pip install "paymsg[rabbitmq]"``. URL::

    amqp://USER:PASSWORD@HOST:PORT/VHOST?prefetch=10&delivery_limit=5&reconnect_deadline=60

(``%2F`` is the default vhost ``/``). Query options of this channel - also accepted as
keyword arguments of :func:`~paymsg.transport.open_channel`, which win:

``prefetch`` (default 1)
    deliveries the broker may push to this connection before they are acknowledged.
    With 1, a requeued message is delivered again before the next one (strict FIFO, the
    same as the embedded channel); larger values trade that for throughput (about 5x the
    get+ack rate of one consumer on the test machine) - messages already prefetched are
    handed out before a requeued one comes back, and when a connection is lost the broker
    counts a delivery for every prefetched message, also those not yet handed out, so they
    come back with ``delivery_count`` raised and nearer the delivery limit.
``delivery_limit`` (default 5)
    deliveries of one message before it goes to ``<queue>.dlq`` (the queue gets
    ``x-delivery-limit = delivery_limit - 1``: RabbitMQ counts returns, not deliveries).
``reconnect_deadline`` (seconds, default 60)
    how long an operation keeps reconnecting (backoff 0.1 s doubling to 5 s) after the
    connection is lost - broker restart, network failure - before it raises
    :class:`~paymsg.errors.TransportError`.
``confirm_timeout`` (seconds, default 30)
    the longest wait for a publisher confirm; past it the connection is treated as lost.

Every other query parameter is pika's (``heartbeat``, ``connection_attempts``,
``socket_timeout``, ``blocked_connection_timeout``, ``ssl_options`` …; heartbeat defaults
to 30 s here). ``amqps://`` uses TLS with the system's trust store.

What the channel does:

* ``declare`` creates a durable **quorum** queue with ``x-delivery-limit``, dead-lettering
  through the default exchange to ``<queue>.dlq`` (itself a quorum queue) with the
  ``at-least-once`` dead-letter strategy (RabbitMQ 3.10+), so a dead-lettered message is
  never dropped. A broker without quorum queues gets classic durable queues with the
  dead-letter exchange but no delivery limit; a queue that already exists with other
  arguments is used as it is. Both cases are reported in :attr:`RabbitMQChannel.warnings`
  (nothing is printed).
* ``put`` / ``put_many`` publish persistent (delivery mode 2), ``mandatory`` messages on a
  publishing connection of their own (pika's ``SelectConnection``, driven in the calling
  thread) in confirm mode: a batch is published, then all its confirms are awaited
  together (pipelined; pika's ``BlockingConnection`` waits for each confirm before the
  next publish). They return only after every confirm; a message the broker could not
  route (queue not declared) or store (nack) raises ``TransportError``. Application
  properties travel as AMQP headers; names beginning ``x-`` are reserved for the broker.
* ``get`` consumes with ``basic.consume`` and the prefetch above, waiting inside
  ``process_data_events`` (no polling); ``delivery_count`` is the quorum queue's
  ``x-delivery-count`` + 1 (classic queues: 2 when the redelivered flag is set).
  ``get_many`` hands out what the broker has pushed already (up to ``prefetch``);
  ``ack_many`` sends one ``basic.ack`` with ``multiple`` when the deliveries are all this
  connection holds up to the last of them, else one ack each.
* an un-acked delivery on a closed or lost connection is returned by the broker and
  redelivered. After a reconnection, deliveries taken on the old connection can no longer
  be acknowledged: ``ack``/``reject`` of them raises ``TransportError`` saying so, and the
  broker delivers them again (flagged as redelivered). The bodies of a put whose confirms
  were lost with the connection are published again: at least once, never lost.

Heartbeats are answered whenever the channel is in use; a consumer that holds a message
longer than two heartbeat intervals without calling the channel may lose its connection
(and the message is redelivered).

A channel object belongs to one thread at a time (pika's ``BlockingConnection`` is not
thread-safe). Fastest correct use: one channel per worker thread, kept open; ``declare``
once; ``get(queue, timeout=…)`` in a loop; ack promptly. Each ``put`` waits for its
confirm (about one broker round trip plus the quorum queue's fsync): put many messages
with one ``put_many``, whose confirms are awaited together. A consumer that takes
batches (``get_many``, the CNAPS2 session, the echo peer) needs ``prefetch`` above 1 to
find more than one message waiting (the benchmark uses 256).
"""

from __future__ import annotations

import collections
import contextlib
import functools
import logging
import time
from collections.abc import Callable, Mapping, Sequence
from typing import Any, TypeVar
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from paymsg.errors import ConfigError, InputError, TransportError
from paymsg.transport.channel import (
    DEFAULT_DELIVERY_LIMIT,
    DLQ_SUFFIX,
    Delivery,
    check_message,
    check_queue_name,
    dlq_name,
    mask_url,
)

try:  # an extra: paymsg works without it
    import pika
    import pika.exceptions as pika_errors
except ImportError:  # pragma: no cover - exercised only without the extra
    pika = None
    pika_errors = None

__all__ = ["RabbitMQChannel"]

log = logging.getLogger("paymsg.transport")

T = TypeVar("T")

_OWN_OPTIONS = ("prefetch", "delivery_limit", "reconnect_deadline", "confirm_timeout")
_PRECONDITION_FAILED = 406
_NOT_FOUND = 404


def _split_url(url: str) -> tuple[str, dict[str, str]]:
    """The URL for pika (own options removed, heartbeat defaulted) and the own options."""
    parts = urlsplit(url)
    query = parse_qsl(parts.query, keep_blank_values=True)
    own = {k: v for k, v in query if k in _OWN_OPTIONS}
    rest = [(k, v) for k, v in query if k not in _OWN_OPTIONS]
    if not any(k == "heartbeat" for k, _ in rest):
        rest.append(("heartbeat", "30"))
    return urlunsplit(parts._replace(query=urlencode(rest))), own


def _option(url: str, name: str, value: Any, kind: type, minimum: float) -> Any:
    try:
        number = kind(value)
    except (TypeError, ValueError):
        raise ConfigError(
            f"channel option {name}={value!r} is not a {kind.__name__}",
            source=mask_url(url),
            field=name,
        ) from None
    if number < minimum:
        raise ConfigError(
            f"channel option {name}={value!r} must be at least {minimum}",
            source=mask_url(url),
            field=name,
        )
    return number


class _Lost(Exception):
    """Internal: the connection is gone; reconnect and retry."""


class _Publisher:
    """A connection of its own (pika's ``SelectConnection``, driven in the calling thread)
    for publishing with confirms *pipelined*: every body of a batch is published, then
    the broker's confirms are awaited together. (pika's ``BlockingConnection`` waits for
    each confirm before the next publish: one broker round trip and quorum commit each.)

    Raises :class:`_Lost` when the connection or channel goes, or no confirm comes within
    ``timeout``; :meth:`publish` then knows which bodies were confirmed."""

    def __init__(self, parameters: Any, timeout: float) -> None:
        self.timeout = timeout
        self._failure: str | None = None
        self._channel: Any = None
        self._confirming = False
        self._next_tag = 1
        self._pending: set[int] = set()
        self._nacked: set[int] = set()
        self._returned = 0
        self._connection = pika.SelectConnection(
            parameters,
            on_open_callback=self._on_open,
            on_open_error_callback=self._on_failure,
            on_close_callback=self._on_failure,
        )
        self._wait_for(lambda: self._confirming, "connect")

    # callbacks (run inside the ioloop, in the calling thread)
    def _on_open(self, connection: Any) -> None:
        connection.channel(on_open_callback=self._on_channel)

    def _on_channel(self, channel: Any) -> None:
        channel.add_on_close_callback(self._on_failure)
        channel.add_on_return_callback(self._on_return)
        channel.confirm_delivery(ack_nack_callback=self._on_confirm, callback=self._on_select)
        self._channel = channel

    def _on_select(self, _frame: Any) -> None:
        self._confirming = True
        self._connection.ioloop.stop()

    def _on_confirm(self, frame: Any) -> None:
        method = frame.method
        tag = method.delivery_tag
        done = {t for t in self._pending if t <= tag} if method.multiple else {tag}
        self._pending -= done
        if isinstance(method, pika.spec.Basic.Nack):
            self._nacked |= done
        if not self._pending:
            self._connection.ioloop.stop()

    def _on_return(self, *_: Any) -> None:
        self._returned += 1

    def _on_failure(self, _source: Any, reason: Any) -> None:
        self._failure = str(reason) or type(reason).__name__
        self._connection.ioloop.stop()

    def _wait_for(self, done: Callable[[], bool], what: str) -> None:
        deadline = time.monotonic() + self.timeout
        ioloop = self._connection.ioloop
        while not done():
            if self._failure is not None:
                raise _Lost(self._failure)
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise _Lost(f"{what}: no answer from the broker within {self.timeout:g} s")
            timer = ioloop.call_later(remaining, ioloop.stop)
            try:
                ioloop.start()
            finally:
                ioloop.remove_timeout(timer)

    def publish(self, queue: str, bodies: Sequence[bytes], properties: Any) -> list[int]:
        """Publish ``bodies`` (persistent, mandatory) and wait for all their confirms.
        Returns the indexes of the bodies confirmed, also when raising :class:`_Lost`
        (the caller publishes the others again); a nack or a return (unroutable) raises
        :class:`TransportError` after all are answered."""
        tags: dict[int, int] = {}
        self._nacked.clear()
        self._returned = 0
        try:
            for index, body in enumerate(bodies):
                if self._failure is not None:
                    raise _Lost(self._failure)
                self._channel.basic_publish("", queue, body, properties, mandatory=True)
                tags[self._next_tag] = index
                self._pending.add(self._next_tag)
                self._next_tag += 1
            self._wait_for(lambda: not self._pending, f"put to {queue!r}")
        except _Lost:
            self.close()
            raise _Confirmed(
                [i for t, i in tags.items() if t not in self._pending and t not in self._nacked]
            ) from None
        except (pika_errors.AMQPError, OSError) as exc:
            self.close()
            raise _Confirmed(
                [i for t, i in tags.items() if t not in self._pending and t not in self._nacked],
                str(exc) or type(exc).__name__,
            ) from None
        if self._returned:
            raise TransportError(
                f"put to {queue!r}: the broker could not route the message (no such queue)",
                hint="call declare() first",
            )
        if self._nacked:
            raise TransportError(
                f"put to {queue!r}: the broker refused to store {len(self._nacked)} "
                "message(s) (nack)"
            )
        return list(range(len(bodies)))

    @property
    def is_open(self) -> bool:
        return self._failure is None and self._connection.is_open

    def close(self) -> None:
        if self._connection.is_open:
            with contextlib.suppress(Exception):
                self._connection.close()
                self._wait_for(lambda: not self._connection.is_open, "close")
        self._failure = self._failure or "closed"


class _Confirmed(_Lost):
    """Internal: the publisher's connection went in the middle of a batch; ``indexes``
    are the bodies the broker had confirmed by then."""

    def __init__(self, indexes: list[int], reason: str = "connection lost") -> None:
        super().__init__(reason)
        self.indexes = indexes


class RabbitMQChannel:
    """A :class:`~paymsg.transport.Channel` on RabbitMQ (see the module docstring)."""

    def __init__(self, url: str, **options: Any) -> None:
        if pika is None:
            raise ConfigError(
                "the RabbitMQ channel needs pika",
                source=mask_url(url),
                hint='pip install "paymsg[rabbitmq]"',
            )
        pika_url, own = _split_url(url)
        unknown = sorted(set(options) - set(_OWN_OPTIONS))
        if unknown:
            raise ConfigError(
                f"unknown RabbitMQ channel option {unknown[0]!r}",
                source=mask_url(url),
                field=unknown[0],
                hint="known options: " + ", ".join(_OWN_OPTIONS),
            )
        settings: dict[str, Any] = {**own, **options}
        self.url = mask_url(url)
        self.prefetch: int = _option(url, "prefetch", settings.get("prefetch", 1), int, 1)
        self.delivery_limit: int = _option(
            url, "delivery_limit", settings.get("delivery_limit", DEFAULT_DELIVERY_LIMIT), int, 1
        )
        self.reconnect_deadline: float = _option(
            url, "reconnect_deadline", settings.get("reconnect_deadline", 60.0), float, 0
        )
        self.confirm_timeout: float = _option(
            url, "confirm_timeout", settings.get("confirm_timeout", 30.0), float, 0.1
        )
        try:
            self._parameters = pika.URLParameters(pika_url)
        except Exception as exc:  # pika raises ValueError/TypeError/... for bad URLs
            raise ConfigError(
                f"bad RabbitMQ URL: {exc}", source=self.url, field="channel"
            ) from None
        #: things the broker could not do as asked (classic fallback, existing queue args)
        self.warnings: list[str] = []
        self._declared: dict[str, str] = {}  # queue -> "quorum" | "classic" | "existing"
        self._buffers: dict[str, collections.deque[Delivery]] = {}
        self._consumers: dict[str, str] = {}  # queue -> consumer tag (this connection)
        self._unacked: set[str] = set()  # tags handed out on this connection
        self._generation = 0
        self._connection: Any = None
        self._channel: Any = None
        self._publisher: _Publisher | None = None
        self._closed = False
        self._run(lambda: None, "connect")

    def __repr__(self) -> str:
        return f"RabbitMQChannel({self.url!r})"

    # ------------------------------------------------------------------ connection
    def _connect(self) -> None:
        self._drop()
        self._generation += 1
        try:
            self._connection = pika.BlockingConnection(self._parameters)
            channel = self._connection.channel()
            channel.confirm_delivery()
            channel.basic_qos(prefetch_count=self.prefetch)
            self._channel = channel
            for queue in list(self._declared):
                self._declare_on_broker(queue)
        except (pika_errors.ProbableAuthenticationError, pika_errors.AuthenticationError):
            self._drop()
            raise TransportError(
                "the broker refused the user name or password", source=self.url
            ) from None
        except pika_errors.ProbableAccessDeniedError:
            self._drop()
            raise TransportError(
                "the broker denied access to the virtual host", source=self.url
            ) from None
        except (pika_errors.AMQPConnectionError, OSError) as exc:
            self._drop()
            raise _Lost(str(exc) or type(exc).__name__) from None

    def _drop(self) -> None:
        """Forget the current connection (the broker requeues its un-acked deliveries)."""
        connection, self._connection, self._channel = self._connection, None, None
        self._buffers.clear()
        self._consumers.clear()
        self._unacked.clear()
        if connection is not None and connection.is_open:
            with contextlib.suppress(Exception):  # already broken: nothing more to release
                connection.close()

    def _run(self, operation: Callable[[], T], what: str) -> T:
        """Run ``operation`` on a live connection, reconnecting with backoff until the deadline."""
        if self._closed:
            raise TransportError("channel is closed", source=self.url)
        deadline = time.monotonic() + self.reconnect_deadline
        pause = 0.1
        last = ""
        while True:
            try:
                if self._channel is None or not self._channel.is_open:
                    self._connect()
                return operation()
            except _Lost as exc:
                last = str(exc)
            except pika_errors.ChannelClosedByBroker as exc:
                self._drop_channel()
                raise self._broker_refused(exc, what) from None
            except (
                pika_errors.AMQPConnectionError,
                pika_errors.ConnectionWrongStateError,
                pika_errors.ChannelWrongStateError,
                pika_errors.ChannelClosed,
                OSError,
            ) as exc:
                last = str(exc) or type(exc).__name__
                self._drop()
            pause = self._wait_to_reconnect(what, deadline, pause, last)

    def _wait_to_reconnect(self, what: str, deadline: float, pause: float, last: str) -> float:
        """Sleep ``pause`` before the next attempt (the next pause is returned), or raise
        when that would pass ``deadline``."""
        if time.monotonic() + pause > deadline:
            raise TransportError(
                f"{what}: connection to the broker lost and not re-established within "
                f"{self.reconnect_deadline:g} s ({last})",
                source=self.url,
            )
        time.sleep(pause)
        return min(pause * 2, 5.0)

    def _drop_channel(self) -> None:
        """The broker closed our channel (the connection stays): start a new one next time."""
        self._drop()

    def _broker_refused(self, exc: Any, what: str) -> TransportError:
        code = getattr(exc, "reply_code", None)
        text = getattr(exc, "reply_text", str(exc))
        if code == _NOT_FOUND:
            return TransportError(f"{what}: {text}", source=self.url, hint="call declare() first")
        return TransportError(f"{what}: the broker refused ({code} {text})", source=self.url)

    # ------------------------------------------------------------------ declare
    def _queue_arguments(self, queue: str) -> dict[str, Any]:
        if queue.endswith(DLQ_SUFFIX):
            return {"x-queue-type": "quorum"}
        return {
            "x-queue-type": "quorum",
            "x-delivery-limit": self.delivery_limit - 1,
            "x-dead-letter-exchange": "",
            "x-dead-letter-routing-key": dlq_name(queue),
            "x-dead-letter-strategy": "at-least-once",
            "x-overflow": "reject-publish",
        }

    def _declare_on_broker(self, queue: str) -> None:
        kind = self._declared.get(queue, "quorum")
        if kind == "existing":
            self._channel.queue_declare(queue, passive=True)
            return
        arguments = self._queue_arguments(queue)
        if kind == "classic":
            arguments = {
                k: v
                for k, v in arguments.items()
                if k in ("x-dead-letter-exchange", "x-dead-letter-routing-key")
            }
        self._channel.queue_declare(queue, durable=True, arguments=arguments)

    def declare(self, queue: str) -> None:
        """Create ``queue`` and its dead-letter queue (durable quorum queues; idempotent)."""
        check_queue_name(queue)
        names = [queue] if queue.endswith(DLQ_SUFFIX) else [dlq_name(queue), queue]
        for name in names:
            check_queue_name(name)
            if name not in self._declared:
                self._declared[name] = "quorum"
                try:
                    self._run(functools.partial(self._declare_on_broker, name), f"declare {name!r}")
                except TransportError as exc:
                    self._declared[name] = self._fallback(name, exc)

    def _fallback(self, name: str, error: TransportError) -> str:
        """Quorum declaration refused: use the queue as it exists, or a classic one."""
        if "inequivalent arg" in error.message:
            self._declared[name] = "existing"
            self._run(lambda: self._channel.queue_declare(name, passive=True), f"declare {name!r}")
            self.warnings.append(
                f"queue {name!r} already exists with other arguments; it is used as it is "
                "(its delivery limit and dead-lettering may differ from this channel's)"
            )
            return "existing"
        if "x-queue-type" in error.message or "quorum" in error.message:
            self._declared[name] = "classic"
            self._run(lambda: self._declare_on_broker(name), f"declare {name!r}")
            self.warnings.append(
                f"the broker has no quorum queues: {name!r} is a classic durable queue; "
                "dead-lettering works but the delivery limit is not enforced"
            )
            return "classic"
        del self._declared[name]
        raise error

    # ------------------------------------------------------------------ put
    def put(self, queue: str, body: bytes, properties: Mapping[str, str] | None = None) -> None:
        """Publish persistently and wait for the broker's confirm."""
        self.put_many(queue, [body], properties)

    @staticmethod
    def _properties(properties: Mapping[str, str] | None) -> dict[str, str]:
        props = check_message(b"", properties)
        reserved = [k for k in props if k.lower().startswith("x-")]
        if reserved:
            raise InputError(
                f"message property {reserved[0]!r}: names beginning 'x-' are reserved",
                field="properties",
            )
        return props

    # ------------------------------------------------------------------ get
    def _on_message(self, queue: str) -> Callable[..., None]:
        generation = self._generation

        def on_message(_channel: Any, method: Any, props: Any, body: bytes) -> None:
            if generation != self._generation:
                return  # from a connection we have dropped: the broker redelivers it
            self._buffers.setdefault(queue, collections.deque()).append(
                self._delivery(queue, method, props, body)
            )

        return on_message

    def _delivery(self, queue: str, method: Any, props: Any, body: bytes) -> Delivery:
        headers = dict(props.headers or {})
        count = headers.get("x-delivery-count")
        redelivered = 2 if method.redelivered else 1
        delivery_count = count + 1 if isinstance(count, int) else redelivered
        properties = {
            k: v.decode() if isinstance(v, bytes) else str(v)
            for k, v in headers.items()
            if not k.lower().startswith("x-")
        }
        return Delivery(
            queue=queue,
            body=bytes(body),
            tag=f"{self._generation}.{method.delivery_tag}",
            delivery_count=delivery_count,
            properties=properties,
        )

    def _hand_out(self, delivery: Delivery) -> Delivery:
        self._unacked.add(delivery.tag)
        return delivery

    def put_many(
        self, queue: str, bodies: Sequence[bytes], properties: Mapping[str, str] | None = None
    ) -> None:
        """Publish every body persistently, in order, and wait for all the broker's confirms
        together (on a publishing connection of its own, confirms pipelined); returns when
        all are confirmed. If the connection goes meanwhile, the bodies not confirmed yet
        are published again on a new one (at least once, never lost)."""
        check_queue_name(queue)
        props = self._properties(properties)
        for body in bodies:
            check_message(body, properties)
        remaining = [bytes(body) for body in bodies]
        if not remaining:
            return
        basic = pika.BasicProperties(delivery_mode=2, headers=props or None)
        if self._closed:
            raise TransportError("channel is closed", source=self.url)
        deadline = time.monotonic() + self.reconnect_deadline
        pause = 0.1
        while True:
            try:
                if self._publisher is None or not self._publisher.is_open:
                    self._publisher = None
                    self._publisher = _Publisher(self._parameters, self.confirm_timeout)
                self._publisher.publish(queue, remaining, basic)
                return
            except _Confirmed as exc:
                done = set(exc.indexes)
                remaining = [body for i, body in enumerate(remaining) if i not in done]
                last = str(exc)
            except TransportError as exc:
                raise TransportError(exc.message, source=self.url, hint=exc.hint) from None
            except (_Lost, pika_errors.AMQPError, OSError) as exc:
                last = str(exc) or type(exc).__name__
            self._publisher = None
            pause = self._wait_to_reconnect(f"put to {queue!r}", deadline, pause, last)

    def get(self, queue: str, timeout: float = 0.0) -> Delivery | None:
        """Take the next message of ``queue``, waiting up to ``timeout`` seconds."""
        check_queue_name(queue)
        deadline = time.monotonic() + max(0.0, timeout)

        def take() -> Delivery | None:
            buffer = self._buffers.get(queue)
            if buffer:
                return self._hand_out(buffer.popleft())
            if queue not in self._consumers:
                if timeout <= 0:
                    # one round trip for the oldest ready message; no consumer needed
                    method, props, body = self._channel.basic_get(queue, auto_ack=False)
                    if method is None:
                        return None
                    return self._hand_out(self._delivery(queue, method, props, body))
                self._consumers[queue] = self._channel.basic_consume(
                    queue, self._on_message(queue), auto_ack=False
                )
            while True:
                remaining = deadline - time.monotonic()
                self._connection.process_data_events(time_limit=max(0.0, remaining))
                buffer = self._buffers.get(queue)
                if buffer:
                    return self._hand_out(buffer.popleft())
                if remaining <= 0:
                    return None

        return self._run(take, f"get from {queue!r}")

    def get_many(self, queue: str, limit: int, timeout: float = 0.0) -> list[Delivery]:
        """Take up to ``limit`` messages of ``queue``: the first as :meth:`get` does
        (waiting up to ``timeout``), then those the broker has already pushed (at most
        ``prefetch`` are on their way at once)."""
        first = self.get(queue, timeout)
        if first is None:
            return []
        taken = [first]

        def more() -> None:
            if queue in self._consumers:
                self._connection.process_data_events(time_limit=0)
            buffer = self._buffers.get(queue)
            while buffer and len(taken) < limit:
                taken.append(self._hand_out(buffer.popleft()))

        if limit > 1:
            try:
                self._run_on_same_connection(more, first, "take more from")
            except TransportError as exc:  # what was taken is still held; the rest comes later
                log.debug("%s", exc)
        return taken

    # ------------------------------------------------------------------ ack / reject
    def _tag(self, delivery: Delivery, action: str) -> int:
        if delivery.tag not in self._unacked:
            generation = delivery.tag.split(".", 1)[0]
            why = (
                "the connection it came on was lost; the broker delivers it again"
                if generation != str(self._generation)
                else "it was already acknowledged or rejected"
            )
            raise TransportError(
                f"cannot {action} message {delivery.tag} from {delivery.queue!r}: {why}",
                source=self.url,
            )
        return int(delivery.tag.split(".", 1)[1])

    def ack(self, delivery: Delivery) -> None:
        """Acknowledge: the broker removes the message."""
        tag = self._tag(delivery, "acknowledge")

        def ack() -> None:
            self._channel.basic_ack(delivery_tag=tag)
            self._unacked.discard(delivery.tag)

        self._run_on_same_connection(ack, delivery, "acknowledge")

    def ack_many(self, deliveries: Sequence[Delivery]) -> None:
        """Acknowledge every delivery: with one ``basic.ack(multiple=True)`` when they are
        all this connection holds up to the last of them (nothing else, prefetched or
        handed out, would be acknowledged with them), else one ack each, then one flush."""
        if not deliveries:
            return
        current = [d for d in deliveries if d.tag in self._unacked]
        if len(current) < len(deliveries):
            lost = next(d for d in deliveries if d.tag not in self._unacked)
            self.ack_many(current)
            self._tag(lost, "acknowledge")  # raises, saying why
            return
        tags = sorted(int(d.tag.split(".", 1)[1]) for d in current)
        last = tags[-1]
        outstanding = {int(t.split(".", 1)[1]) for t in self._unacked} | {
            int(d.tag.split(".", 1)[1]) for buffer in self._buffers.values() for d in buffer
        }
        together = {t for t in outstanding if t <= last} == set(tags)

        def ack() -> None:
            if together:
                self._channel.basic_ack(delivery_tag=last, multiple=True)
            else:
                for tag in tags:
                    self._channel.basic_ack(delivery_tag=tag)
            for delivery in current:
                self._unacked.discard(delivery.tag)

        self._run_on_same_connection(ack, current[0], "acknowledge")

    def reject(self, delivery: Delivery, *, requeue: bool) -> None:
        """Requeue, or dead-letter to ``<queue>.dlq`` (requeue=False)."""
        if not requeue and delivery.queue.endswith(DLQ_SUFFIX):
            raise InputError(
                f"message {delivery.tag} is already in dead-letter queue {delivery.queue!r}: "
                "ack it to remove it, or requeue it",
                field="requeue",
            )
        tag = self._tag(delivery, "reject")

        def reject() -> None:
            self._channel.basic_reject(delivery_tag=tag, requeue=requeue)
            self._unacked.discard(delivery.tag)

        self._run_on_same_connection(reject, delivery, "reject")

    def _run_on_same_connection(
        self, operation: Callable[[], None], delivery: Delivery, action: str
    ) -> None:
        """Ack/reject only make sense on the connection the delivery came on: no reconnect."""
        try:
            if self._channel is None or not self._channel.is_open:
                raise pika_errors.ChannelWrongStateError("channel closed")
            operation()
            # surface an asynchronous refusal (e.g. an unknown tag) now, not on a later call
            self._connection.process_data_events(time_limit=0)
        except (pika_errors.AMQPError, OSError) as exc:
            self._drop()
            raise TransportError(
                f"cannot {action} message {delivery.tag} from {delivery.queue!r}: the "
                f"connection was lost ({exc or type(exc).__name__}); the broker delivers it again",
                source=self.url,
            ) from None

    # ------------------------------------------------------------------ status / close
    def depth(self, queue: str) -> int:
        """Messages ready in ``queue`` (on the broker, plus any prefetched and not handed out)."""
        check_queue_name(queue)

        def depth() -> int:
            result = self._channel.queue_declare(queue, passive=True)
            return int(result.method.message_count) + len(self._buffers.get(queue, ()))

        return self._run(depth, f"depth of {queue!r}")

    def close(self) -> None:
        """Close the connection; the broker requeues every un-acked delivery (idempotent)."""
        if self._closed:
            return
        self._closed = True
        publisher, self._publisher = self._publisher, None
        if publisher is not None:
            publisher.close()
        self._drop()

    def __enter__(self) -> RabbitMQChannel:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
