"""kill -9 while recording: every row whose commit returned is there afterwards, and the
journal opens cleanly.

A child process records outbound messages in a loop (outbox row, then ``sent``) and,
after each call returns, appends the message number to an acknowledgement file with an
unbuffered write. The parent SIGKILLs it at a random moment, many times over; then every
acknowledged number must be in the journal, exactly once.
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import sqlalchemy as sa

from paymsg.journal import Journal
from tests.journal.conftest import ROOT, hvps111

CHILD = """
import os, sys
sys.path.insert(0, {root!r})
from paymsg.journal import Journal
from tests.journal.conftest import hvps111
url, acks, first = sys.argv[1], sys.argv[2], int(sys.argv[3])
journal = Journal(url)
fd = os.open(acks, os.O_WRONLY | os.O_APPEND | os.O_CREAT)
n = first
while True:
    entry = journal.record_outbound(hvps111(n), queue="OUT")
    os.write(fd, b"c%d\\n" % n)
    journal.set_status(entry.id, "sent")
    os.write(fd, b"s%d\\n" % n)
    n += 1
"""

KILLS = 10


def test_kill_9_while_recording(journal_url: str, tmp_path: Path) -> None:
    Journal(journal_url).close()
    acks = tmp_path / "acks"
    acks.touch()
    rng = random.Random(20240315)
    code = CHILD.format(root=str(ROOT))
    for round_number in range(KILLS):
        size = acks.stat().st_size
        child = subprocess.Popen(
            [sys.executable, "-c", code, journal_url, str(acks), str(round_number * 100_000)],
            cwd=ROOT,
            stderr=subprocess.PIPE,
        )
        deadline = time.monotonic() + 60
        while acks.stat().st_size == size:  # wait until it is recording
            assert child.poll() is None, child.stderr.read() if child.stderr else ""
            assert time.monotonic() < deadline
            time.sleep(0.005)
        time.sleep(rng.uniform(0, 0.15))
        os.kill(child.pid, signal.SIGKILL)
        child.wait()
        if child.stderr:
            child.stderr.close()

    created = {int(line[1:]) for line in acks.read_text().split() if line.startswith("c")}
    sent = {int(line[1:]) for line in acks.read_text().split() if line.startswith("s")}
    assert len(created) >= KILLS
    with Journal(journal_url) as journal:
        if journal.dialect == "sqlite":
            with journal.engine.connect() as connection:
                assert connection.exec_driver_sql("PRAGMA integrity_check").scalar() == "ok"
        rows = journal.query(direction="out")
        numbers = [int(e.mesg_id[8:]) for e in rows if e.mesg_id]
        assert len(numbers) == len(set(numbers)) == len(rows)  # no duplicate, no headless row
        assert created <= set(numbers)  # every acknowledged commit survived
        for number, entry in zip(numbers, rows, strict=True):
            assert entry.raw == hvps111(number)  # the text, byte for byte
            steps = [s.to_status for s in journal.history(entry.id)]
            assert steps in (["created"], ["created", "sent"])
            assert steps[-1] == entry.status
            if number in sent:
                assert entry.status == "sent"
        # the journal still takes writes after all those kills
        entry = journal.record_outbound(hvps111(99_999_999), queue="OUT")
        assert journal.set_status(entry.id, "sent").status == "sent"
        with journal.engine.connect() as connection:
            count = connection.execute(sa.text("SELECT count(*) FROM journal_entries")).scalar()
        assert count == len(rows) + 1
