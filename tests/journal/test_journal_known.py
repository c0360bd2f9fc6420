"""``set_status_many(…, known=…)``: status changes of outbound entries the caller holds,
written without reading the entries again (a conditional update), with exactly the
results, history rows and stored rows of the read (SQLite and PostgreSQL)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import pytest
import sqlalchemy as sa

from paymsg.errors import JournalError
from paymsg.journal import Journal, JournalEntry, StatusUpdate
from tests.journal.conftest import hvps111


@contextmanager
def statements(journal: Journal) -> Iterator[list[str]]:
    """The SQL statements the journal runs inside the block."""
    seen: list[str] = []

    def record(_conn: object, _cursor: object, statement: str, *_: object) -> None:
        seen.append(" ".join(statement.split()))

    sa.event.listen(journal.engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        sa.event.remove(journal.engine, "before_cursor_execute", record)


def _reads_entries(seen: list[str]) -> bool:
    return any(s.startswith("SELECT") and "journal_entries" in s for s in seen)


def _sent(journal: Journal, numbers: range) -> list[JournalEntry]:
    return [e for e, _ in journal.record_sending_many([hvps111(n) for n in numbers], queue="O")]


def _history(journal: Journal, entry_id: int) -> list[tuple[object, ...]]:
    return [
        (h.from_status, h.to_status, h.code, h.detail, h.related_id)
        for h in journal.history(entry_id)
    ]


def test_known_entries_move_without_a_read_and_as_the_read_moves_them(journal: Journal) -> None:
    known = _sent(journal, range(1, 5))
    others = _sent(journal, range(5, 9))
    reply, _ = journal.record_inbound(hvps111(99, sender="000000000000"), queue="I")
    updates = [
        StatusUpdate(
            entry_id=known[0].id, status="confirmed", code="PM1I0000", related_id=reply.id
        ),
        StatusUpdate(entry_id=known[1].id, status="refused", code="PM1E0009", detail="bad"),
        StatusUpdate(entry_id=known[2].id, status="rejected", code="PR09", detail="discarded"),
        StatusUpdate(entry_id=known[3].id, status="sent", detail="resent", repaired=True),
    ]
    with statements(journal) as seen:
        fast = journal.set_status_many(updates, strict=False, known=known)
    assert not _reads_entries(seen)
    twins = [u.model_copy(update={"entry_id": o.id}) for u, o in zip(updates, others, strict=True)]
    with statements(journal) as seen:
        read = journal.set_status_many(twins, strict=False)
    assert _reads_entries(seen)
    assert fast == [journal.get(e.id) for e in known]  # what is returned is what is stored
    assert [e.status for e in fast] == ["confirmed", "refused", "rejected", "sent"]
    assert fast[3].resent == 1 and fast[3].repaired
    skip = {"id", "raw", "digest", "mesg_id", "mesg_ref_id", "msg_id", "created_at", "updated_at"}
    for a, b in zip(fast, read, strict=True):
        assert a.model_dump(exclude=skip) == b.model_dump(exclude=skip)
        assert _history(journal, a.id) == _history(journal, b.id)
    assert _history(journal, known[0].id)[-1] == (
        "sent",
        "confirmed",
        "PM1I0000",
        None,
        reply.id,
    )


def test_an_entry_no_longer_as_known_is_read_and_moved_as_it_is_now(journal: Journal) -> None:
    """A late 990, a 990 after a ccms.900, a copy of a 990: the entry the caller holds is
    older than the row; the batch then takes the read, and nothing of the attempt stays."""
    a, b, c = _sent(journal, range(1, 4))
    journal.set_status(a.id, "confirmed", code="PM1I0000")  # the first copy of its 990
    journal.set_status(b.id, "rejected", code="PR09")  # a ccms.900 came first
    journal.set_status(c.id, "sent", detail="resent (1)")  # resent since it was held
    updates = [
        StatusUpdate(entry_id=a.id, status="confirmed", code="PM1I0000"),
        StatusUpdate(entry_id=b.id, status="confirmed", code="PM1I0000"),
        StatusUpdate(entry_id=c.id, status="confirmed", code="PM1I0000"),
    ]
    after = journal.set_status_many(updates, strict=False, known=[a, b, c])
    assert after == [journal.get(e.id) for e in (a, b, c)]
    assert [e.status for e in after] == ["confirmed", "rejected", "confirmed"]
    assert after[2].resent == 1  # counted by the resend, not lost by the known entry
    assert [h[:2] for h in _history(journal, a.id)] == [
        (None, "created"),
        ("created", "sent"),
        ("sent", "confirmed"),
    ]
    assert [h[:2] for h in _history(journal, b.id)][-1] == ("sent", "rejected")
    assert [h[:2] for h in _history(journal, c.id)][-2:] == [
        ("sent", "sent"),
        ("sent", "confirmed"),
    ]
    with pytest.raises(JournalError, match="cannot go from 'rejected' to 'confirmed'"):
        journal.set_status_many(updates[1:2], known=[b])  # strict: refused as without known


def test_batches_the_conditional_update_cannot_answer_take_the_read(journal: Journal) -> None:
    a, b = _sent(journal, range(1, 3))
    # the same entry twice: the second change sees the first
    twice = journal.set_status_many(
        [
            StatusUpdate(entry_id=a.id, status="confirmed", code="PM1I0000"),
            StatusUpdate(entry_id=a.id, status="receipt", code="PR03"),
        ],
        known=[a, a],
    )
    assert [e.status for e in twice] == ["confirmed", "receipt"]
    # a transition not allowed from the known status: as without known
    kept = journal.set_status_many(
        [StatusUpdate(entry_id=b.id, status="created")], strict=False, known=[b]
    )
    assert kept == [journal.get(b.id)] and kept[0].status == "sent"
    # inbound entries are always read
    entry, _ = journal.record_inbound(hvps111(7), queue="I")
    (moved,) = journal.set_status_many(
        [StatusUpdate(entry_id=entry.id, status="quarantined", detail="why")], known=[entry]
    )
    assert moved == journal.get(entry.id) and moved.status == "quarantined"
    with pytest.raises(JournalError, match="one entry per update"):
        journal.set_status_many([StatusUpdate(entry_id=b.id, status="confirmed")], known=[])


def test_a_known_change_inside_a_transaction_rolls_back_with_it(journal: Journal) -> None:
    (a,) = _sent(journal, range(1, 2))
    with pytest.raises(RuntimeError), journal.transaction():
        journal.set_status_many(
            [StatusUpdate(entry_id=a.id, status="confirmed", code="PM1I0000")], known=[a]
        )
        raise RuntimeError("the batch fails after")
    assert journal.get(a.id) == a
    assert len(journal.history(a.id)) == 2
