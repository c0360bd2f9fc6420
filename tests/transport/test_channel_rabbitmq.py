"""What only the RabbitMQ channel does, against the real test broker (``.ci/with-servers``)."""

from __future__ import annotations

import socket
import uuid
from urllib.parse import urlsplit, urlunsplit

import pytest

from paymsg.errors import ConfigError, InputError, TransportError
from paymsg.transport import open_channel
from paymsg.transport.rabbitmq import RabbitMQChannel
from tests.transport.conftest import amqp_url


def _queue() -> str:
    return f"r.{uuid.uuid4().hex[:12]}"


def _with(url: str, **changes: str) -> str:
    parts = urlsplit(url)
    return urlunsplit(parts._replace(**changes))


def test_queues_are_quorum_queues_with_the_delivery_limit_and_dead_lettering() -> None:
    import pika

    url = amqp_url()
    queue = _queue()
    with open_channel(url, delivery_limit=4) as ch:
        ch.declare(queue)
        assert isinstance(ch, RabbitMQChannel) and ch.warnings == []
    connection = pika.BlockingConnection(pika.URLParameters(url))
    try:
        channel = connection.channel()
        # a passive-free redeclare with exactly these arguments succeeds only if they match
        channel.queue_declare(
            queue,
            durable=True,
            arguments={
                "x-queue-type": "quorum",
                "x-delivery-limit": 3,
                "x-dead-letter-exchange": "",
                "x-dead-letter-routing-key": f"{queue}.dlq",
                "x-dead-letter-strategy": "at-least-once",
                "x-overflow": "reject-publish",
            },
        )
        channel.queue_declare(f"{queue}.dlq", durable=True, arguments={"x-queue-type": "quorum"})
        with pytest.raises(pika.exceptions.ChannelClosedByBroker, match="inequivalent"):
            channel.queue_declare(queue, durable=True)  # a classic queue: not what exists
    finally:
        connection.close()


def test_an_existing_queue_with_other_arguments_is_used_with_a_warning() -> None:
    import pika

    url = amqp_url()
    queue = _queue()
    connection = pika.BlockingConnection(pika.URLParameters(url))
    connection.channel().queue_declare(queue, durable=True)  # classic, made by someone else
    connection.close()
    with open_channel(url) as ch:
        ch.declare(queue)
        assert isinstance(ch, RabbitMQChannel)
        assert any(queue in w and "already exists" in w for w in ch.warnings)
        ch.put(queue, b"still works")
        d = ch.get(queue, timeout=5)
        assert d is not None and d.body == b"still works"
        ch.ack(d)


def test_prefetch_hands_out_every_message_once_in_order() -> None:
    queue = _queue()
    with open_channel(amqp_url(), prefetch=25) as ch:
        ch.declare(queue)
        for i in range(100):
            ch.put(queue, f"m{i}".encode())
        got = []
        for _ in range(100):
            d = ch.get(queue, timeout=5)
            assert d is not None
            got.append(d.body)
            ch.ack(d)
        assert ch.get(queue, timeout=0.2) is None
    assert got == [f"m{i}".encode() for i in range(100)]


def test_put_to_a_queue_that_does_not_exist_is_an_error() -> None:
    with open_channel(amqp_url()) as ch:
        with pytest.raises(TransportError, match="could not route"):
            ch.put(_queue(), b"nowhere")
        with pytest.raises(TransportError, match="declare"):
            ch.get(_queue(), timeout=0.5)
        ch.declare(queue := _queue())  # the channel is usable afterwards
        ch.put(queue, b"ok")


def test_properties_named_like_broker_headers_are_refused() -> None:
    with open_channel(amqp_url()) as ch:
        ch.declare(queue := _queue())
        with pytest.raises(InputError, match="reserved"):
            ch.put(queue, b"x", {"x-delivery-count": "0"})


def test_wrong_credentials_are_a_transport_error_naming_the_cause() -> None:
    url = _with(
        amqp_url(), netloc=f"guest:wrong-password@{urlsplit(amqp_url()).netloc.split('@')[-1]}"
    )
    with pytest.raises(TransportError, match="user name or password") as caught:
        open_channel(url, reconnect_deadline=1)
    assert "wrong-password" not in str(caught.value)


def test_an_unreachable_broker_fails_after_the_reconnect_deadline() -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # nothing listens once the socket is closed
    with pytest.raises(TransportError, match="not re-established"):
        open_channel(f"amqp://guest:guest@127.0.0.1:{port}/%2F", reconnect_deadline=0.5)


def test_options_are_checked() -> None:
    url = amqp_url()
    with pytest.raises(ConfigError, match="prefetch"):
        open_channel(url + ("&" if "?" in url else "?") + "prefetch=none")
    with pytest.raises(ConfigError, match="unknown"):
        open_channel(url, colour="blue")
