"""Delivery to the application exactly once, in one transaction with the handler's writes;
and the quarantine of poison messages."""

from __future__ import annotations

import contextlib
import signal
import subprocess
import sys
import threading

import pytest
import sqlalchemy as sa

from paymsg.errors import JournalError
from paymsg.journal import Journal, JournalEntry
from paymsg.journal.driver import DriverCursor
from tests.journal.conftest import ROOT, example, hvps111

BOOKINGS = sa.Table(
    "app_bookings",
    sa.MetaData(),
    sa.Column("entry_id", sa.Integer, nullable=False),
    sa.Column("msg_id", sa.String, nullable=False),
)


@pytest.fixture
def app_journal(journal: Journal) -> Journal:
    """The journal plus an application table the handlers write to."""
    BOOKINGS.metadata.create_all(journal.engine)
    return journal


def book(entry: JournalEntry, connection: sa.Connection) -> None:
    connection.execute(sa.insert(BOOKINGS).values(entry_id=entry.id, msg_id=entry.msg_id or "-"))


def bookings(journal: Journal) -> list[tuple[int, str]]:
    with journal.engine.connect() as connection:
        rows = connection.execute(sa.select(BOOKINGS).order_by(BOOKINGS.c.entry_id)).all()
    return [(r.entry_id, r.msg_id) for r in rows]


def test_pending_in_arrival_order_without_990(app_journal: Journal) -> None:
    ids = [app_journal.record_inbound(hvps111(n), queue="IN")[0].id for n in (3, 1, 2)]
    app_journal.record_inbound(example("ccms.990.001.02/npc-confirms-hvps111.txt"), queue="IN")
    app_journal.record_inbound(b"junk", queue="IN")
    assert [e.id for e in app_journal.pending_deliveries()] == ids
    assert [e.id for e in app_journal.pending_deliveries(limit=2)] == ids[:2]
    assert [e.id for e in app_journal.pending_deliveries(limit=2, after_id=ids[1])] == ids[2:]


def test_deliver_once(app_journal: Journal) -> None:
    entry, _ = app_journal.record_inbound(hvps111(1), queue="IN")
    assert app_journal.deliver(entry.id, book) is True
    assert app_journal.deliver(entry.id, book) is False
    assert bookings(app_journal) == [(entry.id, entry.msg_id)]
    after = app_journal.get(entry.id)
    assert after.status == "delivered" and after.delivered_at is not None and after.attempts == 1
    assert app_journal.pending_deliveries() == []
    assert [s.to_status for s in app_journal.history(entry.id)] == ["received", "delivered"]


def test_not_deliverable_entries_are_refused(app_journal: Journal) -> None:
    confirm, _ = app_journal.record_inbound(
        example("ccms.990.001.02/npc-confirms-hvps111.txt"), queue="IN"
    )
    assert app_journal.deliver(confirm.id, book) is False
    sent = app_journal.record_outbound(hvps111(9), queue="OUT")
    assert app_journal.deliver(sent.id, book) is False
    with pytest.raises(JournalError, match="no journal entry with id 777"):
        app_journal.deliver(777, book)
    forced, _ = app_journal.record_inbound(
        example("ccms.990.001.02/bank-confirms-npc-forwarded-beps121.txt"),
        queue="IN",
        deliverable=True,
    )
    assert app_journal.deliver(forced.id, book) is True


def test_handler_failure_rolls_back_its_writes(app_journal: Journal) -> None:
    entry, _ = app_journal.record_inbound(hvps111(1), queue="IN")

    def failing(entry: JournalEntry, connection: sa.Connection) -> None:
        book(entry, connection)
        raise RuntimeError("core banking is down")

    with pytest.raises(RuntimeError, match="core banking is down"):
        app_journal.deliver(entry.id, failing)
    assert bookings(app_journal) == []
    after = app_journal.get(entry.id)
    assert after.status == "received" and after.delivered_at is None
    assert after.attempts == 1 and after.last_error == "RuntimeError: core banking is down"
    assert [e.id for e in app_journal.pending_deliveries()] == [entry.id]
    with pytest.raises(RuntimeError):
        app_journal.deliver(entry.id, failing)
    assert app_journal.get(entry.id).attempts == 2
    assert app_journal.deliver(entry.id, book) is True
    assert bookings(app_journal) == [(entry.id, entry.msg_id)]


def test_concurrent_deliverers_deliver_each_once(app_journal: Journal) -> None:
    entries = [app_journal.record_inbound(hvps111(n), queue="IN")[0] for n in range(40)]
    results: list[tuple[int, bool]] = []
    lock = threading.Lock()
    barrier = threading.Barrier(6)

    def worker() -> None:
        barrier.wait()
        for entry in entries:
            done = app_journal.deliver(entry.id, book)
            with lock:
                results.append((entry.id, done))

    threads = [threading.Thread(target=worker) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    delivered = sorted(entry_id for entry_id, done in results if done)
    assert delivered == [e.id for e in entries]
    assert bookings(app_journal) == [(e.id, e.msg_id) for e in entries]
    assert app_journal.pending_deliveries() == []


def test_quarantine_and_release(app_journal: Journal) -> None:
    poison, _ = app_journal.record_inbound(hvps111(1), queue="IN")
    other, _ = app_journal.record_inbound(hvps111(2), queue="IN")
    qid = app_journal.quarantine(
        queue="IN", body=poison.raw, reason="handler failed 5 times", entry_id=poison.id
    )
    assert app_journal.get(poison.id).status == "quarantined"
    assert [e.id for e in app_journal.pending_deliveries()] == [
        other.id
    ]  # the queue is not blocked
    assert app_journal.deliver(poison.id, book) is False
    (record,) = app_journal.quarantined()
    assert (record.id, record.queue, record.body, record.reason, record.entry_id) == (
        qid,
        "IN",
        poison.raw,
        "handler failed 5 times",
        poison.id,
    )
    assert record.released_at is None
    released = app_journal.release(qid)
    assert released.released_at is not None
    assert app_journal.quarantined() == [] and app_journal.quarantined(released=True) == [released]
    back = app_journal.get(poison.id)
    assert back.status == "received" and back.attempts == 0
    assert app_journal.deliver(poison.id, book) is True
    with pytest.raises(JournalError, match="already released"):
        app_journal.release(qid)
    with pytest.raises(JournalError, match="no quarantined message with id 99"):
        app_journal.release(99)


def test_quarantine_unreadable_and_raw_bodies(app_journal: Journal) -> None:
    junk, _ = app_journal.record_inbound(b"\x00junk", queue="IN")
    qid = app_journal.quarantine(
        queue="IN", body=junk.raw, reason=junk.read_error or "", entry_id=junk.id
    )
    assert app_journal.get(junk.id).status == "quarantined"
    app_journal.release(qid)
    assert app_journal.get(junk.id).status == "unreadable"  # back where it was, not deliverable
    loose = app_journal.quarantine(queue="IN", body=b"never journaled", reason="no entry")
    assert app_journal.quarantined()[0].id == loose
    delivered, _ = app_journal.record_inbound(hvps111(3), queue="IN")
    app_journal.deliver(delivered.id, book)
    with pytest.raises(JournalError, match="from 'delivered' to 'quarantined'"):
        app_journal.quarantine(queue="IN", body=b"x", reason="late", entry_id=delivered.id)


def test_handler_database_error_reaches_the_caller_unchanged(app_journal: Journal) -> None:
    entry, _ = app_journal.record_inbound(hvps111(1), queue="IN")

    def bad_sql(entry: JournalEntry, connection: sa.Connection) -> None:
        book(entry, connection)
        connection.execute(sa.text("SELECT * FROM no_such_table"))

    with pytest.raises(sa.exc.DBAPIError, match="no_such_table"):
        app_journal.deliver(entry.id, bad_sql)
    after = app_journal.get(entry.id)
    assert (
        after.status == "received"
        and after.attempts == 1
        and "no_such_table" in (after.last_error or "")
    )
    assert bookings(app_journal) == []
    assert app_journal.deliver(entry.id, book) is True


CHILD = """
import sys
sys.path.insert(0, {root!r})
import sqlalchemy as sa
from paymsg.journal import Journal
from tests.journal.test_journal_delivery import book
journal = Journal(sys.argv[1])
ids = [int(x) for x in sys.argv[2].split(",")]
print(sum(journal.deliver(i, book) for i in ids))
"""


def test_two_processes_deliver_each_once(app_journal: Journal, journal_url: str) -> None:
    import subprocess
    import sys

    from tests.journal.conftest import ROOT

    entries = [app_journal.record_inbound(hvps111(n), queue="IN")[0] for n in range(60)]
    ids = ",".join(str(e.id) for e in entries)
    children = [
        subprocess.Popen(
            [sys.executable, "-c", CHILD.format(root=str(ROOT)), journal_url, ids],
            cwd=ROOT,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(2)
    ]
    delivered = 0
    for child in children:
        out, err = child.communicate(timeout=120)
        assert child.returncode == 0, err
        delivered += int(out.strip())
    assert delivered == len(entries)
    assert bookings(app_journal) == [(e.id, e.msg_id) for e in entries]


# --------------------------------------------------------------------------- many per transaction


def test_deliver_many_a_failing_handler_loses_and_repeats_nothing_of_the_others(
    app_journal: Journal,
) -> None:
    ids = [app_journal.record_inbound(hvps111(n), queue="IN")[0].id for n in range(1, 6)]
    poison = ids[2]
    calls: list[int] = []

    def sometimes(entry: JournalEntry, connection: sa.Connection) -> None:
        calls.append(entry.id)
        book(entry, connection)
        if entry.id == poison:
            raise RuntimeError("core banking refused it")

    outcomes = app_journal.deliver_many(ids, sometimes)
    assert outcomes[:2] == [True, True] and outcomes[3:] == [True, True]
    assert isinstance(outcomes[2], RuntimeError)
    assert calls == ids  # in the order given
    # the others' writes committed, the failed one's rolled back (its savepoint only)
    assert [entry_id for entry_id, _ in bookings(app_journal)] == [i for i in ids if i != poison]
    failed = app_journal.get(poison)
    assert failed.status == "received" and failed.delivered_at is None
    assert failed.attempts == 1 and failed.last_error == "RuntimeError: core banking refused it"
    assert [e.id for e in app_journal.pending_deliveries()] == [poison]
    for entry_id in ids:
        if entry_id != poison:
            done = app_journal.get(entry_id)
            assert done.status == "delivered" and done.attempts == 1
            assert [s.to_status for s in app_journal.history(entry_id)] == [
                "received",
                "delivered",
            ]
    # again: the delivered ones are not repeated, the failed one now goes through
    assert app_journal.deliver_many(ids, book) == [False, False, True, False, False]
    assert [entry_id for entry_id, _ in bookings(app_journal)] == ids
    assert app_journal.get(poison).attempts == 2


def test_deliver_many_stops_at_the_failure_when_asked(app_journal: Journal) -> None:
    ids = [app_journal.record_inbound(hvps111(n), queue="IN")[0].id for n in range(1, 5)]

    def second_fails(entry: JournalEntry, connection: sa.Connection) -> None:
        book(entry, connection)
        if entry.id == ids[1]:
            raise ValueError("no account")

    outcomes = app_journal.deliver_many(ids, second_fails, stop_at_failure=True)
    assert len(outcomes) == 2 and outcomes[0] is True and isinstance(outcomes[1], ValueError)
    assert [entry_id for entry_id, _ in bookings(app_journal)] == ids[:1]
    assert [e.id for e in app_journal.pending_deliveries()] == ids[1:]  # later ones untouched
    assert [app_journal.get(i).attempts for i in ids] == [1, 1, 0, 0]


def test_deliver_many_survives_a_handler_database_error_mid_batch(app_journal: Journal) -> None:
    """On PostgreSQL a failed statement aborts the transaction: the savepoint restores it."""
    ids = [app_journal.record_inbound(hvps111(n), queue="IN")[0].id for n in range(1, 4)]

    def bad_sql_on_second(entry: JournalEntry, connection: sa.Connection) -> None:
        book(entry, connection)
        if entry.id == ids[1]:
            connection.execute(sa.text("SELECT * FROM no_such_table"))

    outcomes = app_journal.deliver_many(ids, bad_sql_on_second)
    assert outcomes[0] is True and outcomes[2] is True
    assert isinstance(outcomes[1], sa.exc.DBAPIError)
    assert [entry_id for entry_id, _ in bookings(app_journal)] == [ids[0], ids[2]]
    assert "no_such_table" in (app_journal.get(ids[1]).last_error or "")


def test_deliver_many_a_handler_that_swallows_a_database_error_fails_alone(
    app_journal: Journal,
) -> None:
    """A handler that catches its own database error returns normally, but on PostgreSQL
    the transaction stays aborted until its savepoint is rolled back: that entry fails
    (its writes and mark go, the attempt is recorded), and the others still commit."""
    ids = [app_journal.record_inbound(hvps111(n), queue="IN")[0].id for n in range(1, 4)]

    def swallow_on_second(entry: JournalEntry, connection: sa.Connection) -> None:
        book(entry, connection)
        if entry.id == ids[1]:
            with contextlib.suppress(sa.exc.DBAPIError):
                connection.execute(sa.text("SELECT * FROM no_such_table"))

    outcomes = app_journal.deliver_many(ids, swallow_on_second)
    assert outcomes[0] is True and outcomes[2] is True
    if app_journal.dialect == "postgresql":
        assert isinstance(outcomes[1], JournalError)
        assert [entry_id for entry_id, _ in bookings(app_journal)] == [ids[0], ids[2]]
        assert app_journal.get(ids[1]).status == "received"
    else:  # SQLite does not abort the transaction: the handler's return stands
        assert outcomes[1] is True
        assert [entry_id for entry_id, _ in bookings(app_journal)] == ids


def test_deliver_many_unknown_id_commits_nothing(app_journal: Journal) -> None:
    entry, _ = app_journal.record_inbound(hvps111(1), queue="IN")
    with pytest.raises(JournalError, match="no journal entry with id 777"):
        app_journal.deliver_many([entry.id, 777], book)
    assert bookings(app_journal) == []
    assert app_journal.get(entry.id).status == "received"
    assert app_journal.deliver_many([], book) == []


KILLED_CHILD = """
import os, signal, sys
sys.path.insert(0, {root!r})
from paymsg.journal import Journal
from tests.journal.test_journal_delivery import book
journal = Journal(sys.argv[1])
ids = [int(x) for x in sys.argv[2].split(",")]
def book_then_die(entry, connection):
    book(entry, connection)
    if entry.id == ids[3]:
        os.kill(os.getpid(), signal.SIGKILL)
journal.deliver_many(ids, book_then_die)
"""


def test_deliver_many_killed_mid_batch_leaves_all_pending_then_delivers_each_once(
    app_journal: Journal, journal_url: str
) -> None:
    ids = [app_journal.record_inbound(hvps111(n), queue="IN")[0].id for n in range(1, 7)]
    child = subprocess.run(
        [
            sys.executable,
            "-c",
            KILLED_CHILD.format(root=str(ROOT)),
            journal_url,
            ",".join(map(str, ids)),
        ],
        capture_output=True,
        timeout=60,
    )
    assert child.returncode == -signal.SIGKILL, child.stderr
    assert bookings(app_journal) == []  # three handlers had written: nothing committed
    assert [e.id for e in app_journal.pending_deliveries()] == ids
    assert all(app_journal.get(i).attempts == 0 for i in ids)
    assert app_journal.deliver_many(ids, book) == [True] * 6
    assert [entry_id for entry_id, _ in bookings(app_journal)] == ids


# --------------------------------------------------------------------------- the handler's own savepoints


def test_deliver_many_handler_savepoints_nest_inside_each_delivery(app_journal: Journal) -> None:
    """A handler may use ``connection.begin_nested()`` itself: what it rolls back of its
    own goes, what it keeps commits with the mark; a failure after its savepoint was
    released still undoes all of that entry's writes; a savepoint it leaves open is undone
    with a failed entry and kept with a delivered one; the entries around it go on."""
    ids = [app_journal.record_inbound(hvps111(n), queue="IN")[0].id for n in range(1, 6)]
    kept, undone, failed, left_open, last = ids

    def handler(entry: JournalEntry, connection: sa.Connection) -> None:
        book(entry, connection)
        if entry.id == undone:  # its own savepoint rolled back, the delivery kept
            with contextlib.suppress(LookupError), connection.begin_nested():
                connection.execute(sa.insert(BOOKINGS).values(entry_id=entry.id, msg_id="x"))
                raise LookupError("the inner write is refused")
        if entry.id == failed:  # its own savepoint released, then the handler fails
            with connection.begin_nested():
                connection.execute(sa.insert(BOOKINGS).values(entry_id=entry.id, msg_id="y"))
            raise RuntimeError("after the inner savepoint")
        if entry.id in (left_open, last):  # a savepoint left open
            connection.begin_nested()
            connection.execute(sa.insert(BOOKINGS).values(entry_id=entry.id, msg_id="z"))
            if entry.id == last:
                raise RuntimeError("with a savepoint open")

    outcomes = app_journal.deliver_many(ids, handler)
    assert outcomes[:2] == [True, True] and outcomes[3] is True
    assert isinstance(outcomes[2], RuntimeError) and isinstance(outcomes[4], RuntimeError)
    msg = {i: app_journal.get(i).msg_id or "-" for i in ids}
    assert sorted(bookings(app_journal)) == sorted(
        [(kept, msg[kept]), (undone, msg[undone]), (left_open, msg[left_open]), (left_open, "z")]
    )
    assert [app_journal.get(i).status for i in ids] == [
        "delivered",
        "delivered",
        "received",
        "delivered",
        "received",
    ]
    assert [app_journal.get(i).attempts for i in ids] == [1, 1, 1, 1, 1]
    assert app_journal.get(failed).last_error == "RuntimeError: after the inner savepoint"
    # the connection went back to the pool clean: the next call works as usual
    assert app_journal.deliver_many([failed, last], book) == [True, True]
    assert [e.id for e in app_journal.pending_deliveries()] == []


@pytest.mark.parametrize("stop", [False, True])
def test_deliver_many_failure_between_two_good_entries(app_journal: Journal, stop: bool) -> None:
    """good, failing, good: without ``stop_at_failure`` both good ones are delivered; with
    it the third is left untouched (no attempt, no mark, no handler call)."""
    ids = [app_journal.record_inbound(hvps111(n), queue="IN")[0].id for n in range(1, 4)]
    calls: list[int] = []

    def middle_fails(entry: JournalEntry, connection: sa.Connection) -> None:
        calls.append(entry.id)
        book(entry, connection)
        if entry.id == ids[1]:
            raise ValueError("no such account")

    outcomes = app_journal.deliver_many(ids, middle_fails, stop_at_failure=stop)
    assert outcomes[0] is True and isinstance(outcomes[1], ValueError)
    after = [app_journal.get(i) for i in ids]
    if stop:
        assert len(outcomes) == 2 and calls == ids[:2]
        assert [e.status for e in after] == ["delivered", "received", "received"]
        assert [e.attempts for e in after] == [1, 1, 0]
        assert after[2].updated_at == after[2].created_at and after[2].last_error is None
    else:
        assert outcomes[2] is True and calls == ids
        assert [e.status for e in after] == ["delivered", "received", "delivered"]
        assert [e.attempts for e in after] == [1, 1, 1]
    assert after[1].last_error == "ValueError: no such account"
    assert after[1].delivered_at is None
    booked = [entry_id for entry_id, _ in bookings(app_journal)]
    assert booked == ([ids[0]] if stop else [ids[0], ids[2]])


def test_deliver_many_hands_out_entries_exactly_as_a_read_gives_them(app_journal: Journal) -> None:
    """The entry a handler gets is the row after its mark, exactly as :meth:`get` reads it
    (values, types, UTC timestamps, the amount with its 2 decimals), and valid."""
    ids = [
        app_journal.record_inbound(hvps111(n, amount=amount), queue="IN")[0].id
        for n, amount in ((1, "5"), (2, "12.5"))
    ]
    seen: list[JournalEntry] = []
    assert app_journal.deliver_many(ids, lambda e, c: seen.append(e)) == [True, True]
    for entry in seen:
        read = app_journal.get(entry.id)
        assert entry.model_dump_json() == read.model_dump_json()
        assert entry.status == "delivered" and entry.delivered_at == entry.updated_at
        validated = JournalEntry.model_validate(dict(entry))
        assert validated == entry
        for name, value in entry:
            assert type(value) is type(getattr(read, name)) is type(getattr(validated, name))
    history = app_journal.history(ids[0])
    assert history[-1].to_status == "delivered" and history[-1].at == seen[0].delivered_at


def test_a_driver_cursor_error_is_sqlalchemys_and_a_failed_mark_commits_nothing(
    app_journal: Journal,
) -> None:
    """Statements on the driver's own cursor fail as any other statement does (a
    SQLAlchemy ``DBAPIError`` naming the driver's error); when the delivery's own SQL
    fails, the call raises ``JournalError`` and nothing of it commits."""
    with app_journal.engine.connect() as connection, connection.begin():
        cursor = DriverCursor(connection)
        with pytest.raises(sa.exc.DBAPIError, match="no_such_table") as caught:
            cursor.first("SELECT * FROM no_such_table")
        assert isinstance(caught.value.orig, connection.dialect.loaded_dbapi.Error)
        cursor.close()
    ids = [app_journal.record_inbound(hvps111(n), queue="IN")[0].id for n in range(1, 3)]

    def drop_the_column_the_mark_needs(entry: JournalEntry, connection: sa.Connection) -> None:
        book(entry, connection)
        connection.exec_driver_sql("ALTER TABLE journal_entries RENAME COLUMN attempts TO tries")

    with pytest.raises(JournalError, match="journal delivery failed"):
        app_journal.deliver_many(ids, drop_the_column_the_mark_needs)
    assert bookings(app_journal) == []
    assert [e.id for e in app_journal.pending_deliveries()] == ids
