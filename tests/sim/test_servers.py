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
from paymsg.transport.session import build_confirmation
from tests.journal.conftest import postgres_base_url
from tests.transport.conftest import amqp_url

from .conftest import MORNING, A, B, beps, header_of, hvps


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
    scenario = Scenario(clock=ClockConfig(start=MORNING))
    status = serve(url, banks, books_url=books_url, scenario=scenario, control_queue=control)
    assert status["restarts"] == 0
    got: dict[str, list[str]] = {A: [], B: []}
    answers: list[bytes] = []
    with open_channel(url) as channel:
        for participant in banks:
            while (delivery := channel.get(participant.out_queue, timeout=1.0)) is not None:
                message = paymsg.parse(delivery.body)
                assert paymsg.validate(delivery.body).ok
                got[participant.bank].append(message.type)
                if participant.bank == A and message.type != "ccms.990.001.02":
                    answers.append(delivery.body)
                channel.ack(delivery)
        # A confirms the 604 and the 900 (the centre records them in its books, written
        # on PostgreSQL as on SQLite)
        for text in answers:
            channel.put(
                banks[0].in_queue, build_confirmation(header_of(text), "PM1I0000", participant=A)
            )
        channel.put(control, json.dumps({"command": "stop"}).encode())
    serve(url, banks, books_url=books_url, scenario=scenario, control_queue=control)
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
        confirmed = {header_of(text).mesg_id for text in answers}
        out = books.messages(direction="out")
        assert len(out) == 6 and len(confirmed) == 2
        for row in out:  # every one put; the two A confirmed, confirmed
            assert (row.status, row.code) == (
                ("confirmed", "PM1I0000") if row.mesg_id in confirmed else ("sent", row.code)
            )
    finally:
        books.close()
