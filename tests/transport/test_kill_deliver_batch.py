"""The session's delivery thread hands many messages to the handler per journal
transaction: a SIGKILL in the middle of such a batch loses nothing and repeats nothing.

A first session records, answers and acknowledges the messages without a handler (they
stay pending in the journal); a second one, with ``PAYMSG_FAULT`` armed, starts delivering
them - all pending at its start, so they go in one batch - and is killed; a third one
finishes. The handler writes a row through the delivery's connection and, outside the
database, notes each call in a file: the file shows how far the batch had gone, the table
what committed.
"""

from __future__ import annotations

import signal
from collections import Counter
from pathlib import Path

import pytest

from paymsg.journal import Journal
from paymsg.transport import open_channel
from tests.transport.conftest import run_child
from tests.transport.test_session import hvps111

MESSAGES = 20

CHILD = """
import sys
from paymsg.journal import Journal
from paymsg.transport import open_channel
from paymsg.transport.session import Cnaps2Session

channel_url, journal_url, calls_path, deliver = sys.argv[1:5]

def handler(entry, conn):
    with open(calls_path, "a") as calls:
        calls.write(entry.mesg_id + "\\n")
    conn.exec_driver_sql("INSERT INTO app_effects VALUES (?)", (entry.mesg_id,))

with Cnaps2Session(
    lambda: open_channel(channel_url),
    Journal(journal_url),
    participant="102100099996",
    out_queue="OUT",
    in_queue="IN",
    poll_interval=0.02,
) as session:
    if deliver == "yes":
        session.listen(handler, idle_exit=0.3)
    else:
        session.listen(max_messages=int(deliver))
print("finished")
"""


def _run(*args: str) -> tuple[int, str]:
    child = run_child(CHILD, *args)
    _, err = child.communicate(timeout=120)
    return child.returncode, err


def _effects(journal: Journal) -> Counter[str]:
    with journal.engine.connect() as conn:
        return Counter(r[0] for r in conn.exec_driver_sql("SELECT mesg_id FROM app_effects"))


@pytest.mark.parametrize(
    ("fault", "calls_before", "committed_before"),
    [
        ("in_handler:5", 4, 0),  # four handlers had written: their writes were not committed
        ("handler_done:7", 7, 0),  # seven handlers done, the transaction not committed
        ("delivered:3", MESSAGES, MESSAGES),  # after the batch's commit: all delivered
    ],
)
def test_session_killed_mid_batch_delivers_each_message_exactly_once(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    fault: str,
    calls_before: int,
    committed_before: int,
) -> None:
    channel_url = f"sqlite:///{tmp_path / 'mq.db'}"
    journal_url = f"sqlite:///{tmp_path / 'journal.db'}?synchronous=normal"
    calls = tmp_path / "calls.txt"
    texts = [hvps111(n, prefix="B") for n in range(MESSAGES)]
    with open_channel(channel_url) as channel:
        channel.declare("IN")
        channel.declare("OUT")
        channel.put_many("IN", texts)
    journal = Journal(journal_url)
    with journal.engine.begin() as conn:
        conn.exec_driver_sql("CREATE TABLE app_effects (mesg_id TEXT)")

    monkeypatch.delenv("PAYMSG_FAULT", raising=False)
    code, err = _run(channel_url, journal_url, str(calls), str(MESSAGES))  # record, no handler
    assert code == 0, err
    assert len(journal.pending_deliveries(limit=100)) == MESSAGES

    monkeypatch.setenv("PAYMSG_FAULT", fault)
    code, err = _run(channel_url, journal_url, str(calls), "yes")
    assert code == -signal.SIGKILL, err
    assert len(calls.read_text().split()) == calls_before
    assert sum(_effects(journal).values()) == committed_before
    assert len(journal.pending_deliveries(limit=100)) == MESSAGES - committed_before

    monkeypatch.delenv("PAYMSG_FAULT")
    code, err = _run(channel_url, journal_url, str(calls), "yes")  # the restart
    assert code == 0, err
    effects = _effects(journal)
    assert effects == Counter(f"B{n:019d}" for n in range(MESSAGES))  # each exactly once
    assert journal.pending_deliveries() == []
