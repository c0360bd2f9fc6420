"""Duplicate detection under concurrency: 1,000 copies of one MesgID recorded at once from
several threads, and from two processes, give one row with every copy counted."""

from __future__ import annotations

import subprocess
import sys
import threading
from pathlib import Path

from paymsg.journal import Journal
from tests.journal.conftest import ROOT, hvps111

CHILD = """
import sys, threading
sys.path.insert(0, {root!r})
from paymsg.journal import Journal
from tests.journal.conftest import hvps111
journal = Journal(sys.argv[1])
text = hvps111(7)
new = []
start = threading.Barrier({threads})
def work():
    start.wait()
    for _ in range({per_thread}):
        entry, is_new = journal.record_inbound(text, queue="IN")
        if is_new:
            new.append(entry.id)
threads = [threading.Thread(target=work) for _ in range({threads})]
[t.start() for t in threads]
[t.join() for t in threads]
print(len(new))
"""


def record_from_threads(journal: Journal, text: bytes, threads: int, per_thread: int) -> list[int]:
    new: list[int] = []
    errors: list[BaseException] = []
    barrier = threading.Barrier(threads)

    def work() -> None:
        barrier.wait()
        try:
            for _ in range(per_thread):
                entry, is_new = journal.record_inbound(text, queue="IN")
                if is_new:
                    new.append(entry.id)
        except BaseException as exc:  # reported below
            errors.append(exc)

    workers = [threading.Thread(target=work) for _ in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    assert errors == []
    return new


def test_thousand_copies_from_threads(journal: Journal) -> None:
    text = hvps111(7)
    new = record_from_threads(journal, text, threads=8, per_thread=125)
    assert len(new) == 1
    (entry,) = journal.query(direction="in")
    assert entry.id == new[0] and entry.copies == 1000
    assert [e.id for e in journal.pending_deliveries()] == [entry.id]
    assert [s.to_status for s in journal.history(entry.id)] == ["received"]


def test_thousand_copies_from_two_processes(journal_url: str, tmp_path: Path) -> None:
    Journal(journal_url).close()  # schema in place; the children also race to open it
    code = CHILD.format(root=str(ROOT), threads=4, per_thread=125)
    children = [
        subprocess.Popen(
            [sys.executable, "-c", code, journal_url],
            cwd=ROOT,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(2)
    ]
    outputs = [child.communicate(timeout=120) for child in children]
    for child, (_, err) in zip(children, outputs, strict=True):
        assert child.returncode == 0, err
    assert sum(int(out.strip()) for out, _ in outputs) == 1  # exactly one process saw it new
    with Journal(journal_url) as journal:
        (entry,) = journal.query(direction="in")
        assert entry.copies == 1000


def test_distinct_messages_from_threads_all_recorded(journal: Journal) -> None:
    results: list[int] = []
    barrier = threading.Barrier(6)

    def work(offset: int) -> None:
        barrier.wait()
        for n in range(offset, offset + 30):
            entry, is_new = journal.record_inbound(hvps111(n), queue="IN")
            assert is_new
            results.append(entry.id)

    workers = [threading.Thread(target=work, args=(k * 100,)) for k in range(6)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    assert len(set(results)) == 180
    assert len(journal.query(direction="in")) == 180


def test_forked_child_uses_its_own_connections(journal: Journal) -> None:
    import os

    parent_entry, _ = journal.record_inbound(hvps111(1), queue="IN")
    pid = os.fork()
    if pid == 0:  # the child: record through the journal object it inherited
        code = 1
        try:
            _, is_new = journal.record_inbound(hvps111(2), queue="IN")
            again, _ = journal.record_inbound(hvps111(1), queue="IN")
            code = 0 if is_new and again.id == parent_entry.id else 1
        finally:
            os._exit(code)
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0
    assert journal.get(parent_entry.id).copies == 2
    assert len(journal.query(direction="in")) == 2
