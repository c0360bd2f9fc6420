"""The centre on real servers: RabbitMQ as the channel, PostgreSQL for its books.

Runs when ``PAYMSG_TEST_AMQP_URL`` and ``PAYMSG_TEST_POSTGRES_URL`` are set
(``.ci/with-servers``); skipped locally without them and failed in CI.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from decimal import Decimal
from urllib.parse import quote

import pytest

import paymsg
from paymsg.sim.books import Books
from paymsg.sim.runner import serve
from paymsg.sim.scenario import DEFAULT_BALANCE, ClockConfig, Scenario, parse_participant
from paymsg.transport import open_channel
from tests.journal.conftest import postgres_base_url
from tests.transport.conftest import amqp_url

from .conftest import MORNING, A, B, beps, hvps


@pytest.fixture
def books_url() -> Iterator[str]:
    import psycopg

    base = postgres_base_url()
    plain = base.replace("postgresql+psycopg://", "postgresql://")
    schema = f"sim_{uuid.uuid4().hex[:16]}"
    with psycopg.connect(plain, autocommit=True) as connection:
        connection.execute(f'CREATE SCHEMA "{schema}"')
    separator = "&" if "?" in base else "?"
    yield f"{base}{separator}options={quote(f'-csearch_path={schema}')}"
    with psycopg.connect(plain, autocommit=True) as connection:
        connection.execute(f'DROP SCHEMA "{schema}" CASCADE')


def test_centre_on_rabbitmq_with_books_on_postgresql(books_url: str) -> None:
    url = amqp_url()
    tag = uuid.uuid4().hex[:8]
    banks = [parse_participant(f"{bank}:IN.{tag}.{bank}:OUT.{tag}.{bank}") for bank in (A, B)]
    control = f"SIMCTL.{tag}"
    with open_channel(url) as channel:
        for queue in (banks[0].in_queue, control):
            channel.declare(queue)
        channel.put(banks[0].in_queue, hvps(A, B, "123.45"))
        channel.put(banks[0].in_queue, beps(A, B, ("1.00", "2.00")))
        channel.put(control, json.dumps({"command": "round-close"}).encode())
        channel.put(control, json.dumps({"command": "stop"}).encode())
    status = serve(
        url,
        banks,
        books_url=books_url,
        scenario=Scenario(clock=ClockConfig(start=MORNING)),
        control_queue=control,
    )
    assert status["restarts"] == 0
    got: dict[str, list[str]] = {A: [], B: []}
    with open_channel(url) as channel:
        for participant in banks:
            while (delivery := channel.get(participant.out_queue, timeout=1.0)) is not None:
                message = paymsg.parse(delivery.body)
                assert paymsg.validate(delivery.body).ok
                got[participant.bank].append(message.type)
                channel.ack(delivery)
    assert got[A] == [
        "ccms.990.001.02",
        "saps.604.001.01",
        "ccms.990.001.02",
        "ccms.900.001.02",
    ]
    assert got[B] == ["hvps.111.001.01", "beps.121.001.01"]
    books = Books(books_url)
    try:
        assert books.balances()[B] == DEFAULT_BALANCE + Decimal("126.45")
        assert sorted(p.status for p in books.payments()) == ["PR03", "PR04"]
    finally:
        books.close()
