"""The session with its journal on PostgreSQL: send, receive, exactly-once delivery.

Runs when ``PAYMSG_TEST_POSTGRES_URL`` is set (``.ci/with-servers``); skipped locally
without it and failed in CI. Each test gets a fresh schema.
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote

import pytest
import sqlalchemy as sa

from paymsg.journal import Journal, JournalEntry
from paymsg.transport import open_channel
from paymsg.transport.echo import run_echo
from paymsg.transport.session import Cnaps2Session
from tests.journal.conftest import postgres_base_url
from tests.transport.test_session import BANK, OTHER, hvps111


@pytest.fixture
def pg_url() -> Iterator[str]:
    import psycopg

    base = postgres_base_url()
    plain = base.replace("postgresql+psycopg://", "postgresql://")
    schema = f"s_{uuid.uuid4().hex[:16]}"
    with psycopg.connect(plain, autocommit=True) as connection:
        connection.execute(f'CREATE SCHEMA "{schema}"')
    separator = "&" if "?" in base else "?"
    yield f"{base}{separator}options={quote(f'-csearch_path={schema}')}"
    with psycopg.connect(plain, autocommit=True) as connection:
        connection.execute(f'DROP SCHEMA "{schema}" CASCADE')


def test_send_receive_and_deliver_once_with_a_postgresql_journal(
    tmp_path: Path, pg_url: str
) -> None:
    channel_url = f"sqlite:///{tmp_path / 'mq.db'}"
    journal = Journal(pg_url)
    stop = threading.Event()

    def peer() -> None:
        with open_channel(channel_url) as channel:
            run_echo(channel, in_queue="OUT", out_queue="IN", stop=stop, poll_interval=0.02)

    thread = threading.Thread(target=peer, daemon=True)
    thread.start()
    try:
        with Cnaps2Session(
            channel_url,
            journal,
            participant=BANK,
            out_queue="OUT",
            in_queue="IN",
            confirm_timeout=20.0,
            poll_interval=0.02,
        ) as session:
            results = session.send_many([hvps111(i) for i in range(20)])
            assert {r.status for r in results} == {"confirmed"}
    finally:
        stop.set()
        thread.join()

    with open_channel(channel_url) as channel:
        for i in range(5):
            text = hvps111(i, sender=OTHER, prefix="G")
            channel.put("IN", text)
            channel.put("IN", text)  # every message twice
    seen: list[JournalEntry] = []

    def handler(entry: JournalEntry, conn: sa.Connection) -> None:
        conn.execute(sa.text("CREATE TABLE IF NOT EXISTS app_effects (mesg_id TEXT)"))
        conn.execute(sa.text("INSERT INTO app_effects VALUES (:m)"), {"m": entry.mesg_id})
        seen.append(entry)

    with Cnaps2Session(
        channel_url,
        journal,
        participant=BANK,
        out_queue="OUT",
        in_queue="IN",
        workers=2,
        poll_interval=0.02,
    ) as session:
        stats = session.listen(handler, max_messages=10)
    assert stats.answered == 10 and stats.duplicates == 5 and len(seen) == 5
    with journal.engine.connect() as conn:
        rows = conn.execute(sa.text("SELECT mesg_id FROM app_effects")).scalars().all()
    assert sorted(rows) == [f"G{i:019d}" for i in range(5)]
