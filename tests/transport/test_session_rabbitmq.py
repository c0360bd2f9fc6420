"""The session on a real RabbitMQ broker: round trip, and a broker restart mid-stream.

Runs when ``PAYMSG_TEST_AMQP_URL`` is set (``.ci/with-servers`` starts a throwaway broker
on loopback); skipped locally without one, and failed in CI (see ``conftest.py``).
"""

from __future__ import annotations

import threading
import uuid
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from paymsg.journal import Journal, JournalEntry
from paymsg.transport import open_channel
from paymsg.transport.echo import run_echo
from paymsg.transport.session import Cnaps2Session
from tests.transport.conftest import amqp_url, rabbitmq_restart
from tests.transport.test_session import BANK, OTHER, hvps111


def _queues() -> tuple[str, str]:
    run = uuid.uuid4().hex[:8]
    return f"MBFE_{run}", f"BANK_{run}"


def _echo(url: str, out_queue: str, in_queue: str, stop: threading.Event) -> threading.Thread:
    def run() -> None:
        with open_channel(url) as channel:
            run_echo(channel, in_queue=out_queue, out_queue=in_queue, stop=stop, poll_interval=0.05)

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return thread


def test_send_and_listen_round_trip_on_rabbitmq(tmp_path: Path) -> None:
    url = amqp_url()
    out_queue, in_queue = _queues()
    stop = threading.Event()
    journal = Journal(f"sqlite:///{tmp_path / 'journal.db'}?synchronous=normal")
    session = Cnaps2Session(
        lambda: open_channel(url),
        journal,
        participant=BANK,
        out_queue=out_queue,
        in_queue=in_queue,
        confirm_timeout=20.0,
        poll_interval=0.05,
    )
    with session:
        session.start()
        echo = _echo(url, out_queue, in_queue, stop)
        results = session.send_many([hvps111(i) for i in range(50)])
        assert {r.status for r in results} == {"confirmed"}
        stop.set()
        echo.join()
    # the other direction: inbound messages answered and delivered once
    with open_channel(url) as channel:
        for i in range(5):
            channel.put(in_queue, hvps111(i, sender=OTHER, prefix="R"))
    seen: list[JournalEntry] = []

    def handler(entry: JournalEntry, conn: sa.Connection) -> None:
        seen.append(entry)

    with Cnaps2Session(
        lambda: open_channel(url),
        journal,
        participant=BANK,
        out_queue=out_queue,
        in_queue=in_queue,
        poll_interval=0.05,
    ) as session:
        stats = session.listen(handler, max_messages=5)
    assert stats.answered == 5 and len(seen) == 5
    with open_channel(url) as channel:
        assert channel.depth(out_queue) == 5


def test_the_session_reconnects_and_finishes_when_rabbitmq_restarts_mid_stream(
    tmp_path: Path,
) -> None:
    url = amqp_url()
    restart = rabbitmq_restart()
    out_queue, in_queue = _queues()
    stop = threading.Event()
    journal = Journal(f"sqlite:///{tmp_path / 'journal.db'}?synchronous=normal")
    texts = [hvps111(i) for i in range(300)]
    outcome: dict[str, Any] = {}
    with Cnaps2Session(
        lambda: open_channel(url),
        journal,
        participant=BANK,
        out_queue=out_queue,
        in_queue=in_queue,
        confirm_timeout=30.0,
        resend=3,
        resend_backoff=1.0,
        poll_interval=0.05,
    ) as session:
        session.start()
        echo = _echo(url, out_queue, in_queue, stop)

        def send() -> None:
            try:
                outcome["results"] = session.send_many(texts)
            except Exception as exc:  # reported below
                outcome["error"] = exc

        sender = threading.Thread(target=send)
        sender.start()
        for _ in range(600):  # restart once part of the stream is confirmed
            if journal.status_counts()["out"].get("confirmed", 0) >= 30:
                break
            threading.Event().wait(0.05)
        restart()
        sender.join(timeout=240)
        stop.set()
        echo.join(timeout=60)
    assert "error" not in outcome, outcome.get("error")
    late = [(r.mesg_id, r.status, r.puts) for r in outcome["results"] if r.status != "confirmed"]
    assert late == [], [
        (m, s, p, journal.history(journal.find(direction="out", sender=BANK, mesg_id=m or "").id))
        for m, s, p in late
    ]  # type: ignore[union-attr]
    assert len(outcome["results"]) == 300
    assert journal.status_counts()["out"] == {"confirmed": 300}
