"""The batch forms of the journal's writes: the same results as one call per message, in
one transaction, all or nothing (SQLite and PostgreSQL)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from paymsg.errors import JournalError
from paymsg.journal import Journal, JournalEntry, StatusUpdate
from tests.journal.conftest import example, hvps111, with_header


def _confirmation(n: int) -> bytes:
    """A distinct ccms.990 (its own header MesgID)."""
    text = example("ccms.990.001.02/npc-confirms-hvps111.txt")
    return with_header(text, mesg_id=f"20240315{n:012d}")


def test_record_outbound_many_is_record_outbound_for_each(journal: Journal) -> None:
    texts = [hvps111(n, amount=f"{n}.50") for n in range(1, 6)]
    entries = journal.record_outbound_many(texts, queue="OUT")
    assert [e.raw for e in entries] == texts
    assert [e.status for e in entries] == ["created"] * 5
    assert [e.amount for e in entries] == [journal.get(e.id).amount for e in entries]
    assert entries == [journal.get(e.id) for e in entries]
    assert sorted(e.id for e in entries) == [e.id for e in entries]  # in the order given
    for entry in entries:
        assert [(s.from_status, s.to_status) for s in journal.history(entry.id)] == [
            (None, "created")
        ]
    # the same messages again (and one twice in a batch) are the same entries
    again = journal.record_outbound_many([texts[2], hvps111(9), texts[2]], queue="OUT")
    assert again[0] == again[2] == entries[2]
    assert again[1].id > entries[-1].id
    assert journal.record_outbound_many([], queue="OUT") == []


def test_a_reused_mesg_id_refuses_the_whole_outbound_batch(journal: Journal) -> None:
    first = journal.record_outbound(hvps111(1), queue="OUT")
    reused = hvps111(1, amount="9.99")  # same MesgID, other content
    with pytest.raises(JournalError, match=f"entry {first.id}"):
        journal.record_outbound_many([hvps111(2), reused], queue="OUT")
    assert journal.query(direction="out") == [first]  # hvps111(2) was not recorded
    with pytest.raises(JournalError, match="different content"):  # within one batch too
        journal.record_outbound_many([hvps111(3), hvps111(3, amount="1.00")], queue="OUT")
    assert journal.query(direction="out") == [first]


def test_record_sending_many_records_new_entries_sent_with_both_steps(journal: Journal) -> None:
    """New entries are in the outbox as 'sent' (history created → sent), as a record
    followed by a move to 'sent' leaves them; one recorded before is returned as it is,
    not new; a copy within the batch is the same entry, new once; a reused MesgID with
    other content refuses the whole batch."""
    before = journal.record_outbound(hvps111(1), queue="OUT")
    texts = [hvps111(2), before.raw, hvps111(3), hvps111(2)]
    recorded = journal.record_sending_many(texts, queue="OUT")
    assert [is_new for _, is_new in recorded] == [True, False, True, False]
    entries = [entry for entry, _ in recorded]
    assert [e.raw for e in entries] == texts
    assert entries[1] == before and entries[0] == entries[3]
    assert [e.status for e in entries] == ["sent", "created", "sent", "sent"]
    for entry in (entries[0], entries[2]):
        assert entry == journal.get(entry.id)
        assert (entry.resent, entry.status_code, entry.status_detail) == (0, None, None)
        assert [(h.from_status, h.to_status) for h in journal.history(entry.id)] == [
            (None, "created"),
            ("created", "sent"),
        ]
    # the same as recording, then moving to 'sent', apart from the ids and times
    other = journal.record_outbound(hvps111(4), queue="OUT")
    (moved,) = journal.set_status_many([StatusUpdate(entry_id=other.id, status="sent")])
    skip = {"id", "raw", "digest", "mesg_id", "mesg_ref_id", "msg_id", "created_at", "updated_at"}
    assert moved.model_dump(exclude=skip) == entries[0].model_dump(exclude=skip)
    assert [journal.get(before.id).status] == ["created"]  # the caller moves it on
    with pytest.raises(JournalError, match="different content"):
        journal.record_sending_many([hvps111(5), hvps111(2, amount="9.99")], queue="OUT")
    assert (
        journal.find(direction="out", sender=before.sender or "", mesg_id=f"20240315{5:012d}")
        is None
    )
    assert journal.record_sending_many([], queue="OUT") == []


def test_recorded_entries_are_exactly_what_a_read_gives(journal: Journal) -> None:
    """The entries the recording calls return (built from the values inserted) are the
    rows as the database gives them back: same values, same types, same representation
    (an amount with its 2 decimals, UTC timestamps), new, copied or unreadable."""
    texts = [hvps111(1, amount="5"), hvps111(2, amount="12.5"), hvps111(3)]
    out = journal.record_outbound_many(texts, queue="OUT")
    sending = [entry for entry, _ in journal.record_sending_many([hvps111(4)], queue="OUT")]
    inbound = [
        entry
        for entry, _ in journal.record_inbound_many(
            [_confirmation(1), _confirmation(1), b"not a message", hvps111(5)], queue="IN"
        )
    ]
    moved = journal.set_status_many([StatusUpdate(entry_id=out[0].id, status="sent")])
    listed = journal.query() + moved + journal.pending_deliveries()
    for entry in [*out, *sending, *inbound, *listed]:
        read = journal.get(entry.id)
        if entry.copies == read.copies and entry.status == read.status:
            assert entry.model_dump_json() == read.model_dump_json()
        # built without validation, yet exactly what validating the same values gives
        validated = JournalEntry.model_validate(dict(entry))
        assert validated == entry and validated.model_fields_set == entry.model_fields_set
        for name, value in entry:
            assert type(value) is type(getattr(read, name)) is type(getattr(validated, name))
    assert [str(e.amount) for e in out] == ["5.00", "12.50", "1280000.00"]


def test_sqlite_stores_timestamps_and_dates_in_sqlalchemys_text_forms(tmp_path: Path) -> None:
    """The journal's own statements store what SQLAlchemy's column types store: on SQLite
    a timestamp as ``YYYY-MM-DD HH:MM:SS.ffffff`` (UTC), a date as ``YYYY-MM-DD``, an
    amount as whole fen."""
    journal = Journal(f"sqlite:///{tmp_path / 'forms.db'}")
    (entry, _), _ = journal.record_sending_many([hvps111(1), hvps111(2)], queue="OUT")
    journal.set_status_many([StatusUpdate(entry_id=entry.id, status="confirmed")])
    journal.record_inbound_many([_confirmation(1)], queue="IN")
    stamp = re.compile(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{6}")
    with journal.engine.connect() as connection:
        rows = connection.exec_driver_sql(
            "SELECT created_at, updated_at, work_date, amount FROM journal_entries"
        ).all()
        history = connection.exec_driver_sql("SELECT at FROM journal_status_history").all()
    assert len(rows) == 3 and len(history) == 6
    for created, updated, work_date, amount in rows:
        assert stamp.fullmatch(created) and stamp.fullmatch(updated)
        assert work_date == "2024-03-15"
        assert amount is None or amount == 128000000
    assert all(stamp.fullmatch(at) for (at,) in history)


def test_record_inbound_many_counts_copies_within_the_batch(journal: Journal) -> None:
    one, two = _confirmation(1), _confirmation(2)
    recorded = journal.record_inbound_many([one, two, one, b"not a message", one], queue="IN")
    assert [is_new for _, is_new in recorded] == [True, True, False, True, False]
    assert [entry.copies for entry, _ in recorded] == [1, 1, 2, 1, 3]
    assert recorded[0][0].id == recorded[2][0].id == recorded[4][0].id
    assert recorded[0][0].id < recorded[1][0].id < recorded[3][0].id  # arrival order
    unreadable = recorded[3][0]
    assert unreadable.status == "unreadable" and unreadable.read_error
    assert journal.get(recorded[0][0].id).copies == 3
    for entry, is_new in recorded:
        if is_new:
            assert len(journal.history(entry.id)) == 1
    # a copy of a message recorded before: not new
    ((entry, is_new),) = journal.record_inbound_many([two], queue="IN")
    assert (entry.id, is_new, entry.copies) == (recorded[1][0].id, False, 2)


def test_set_status_many_applies_each_change_in_order(journal: Journal) -> None:
    a, b, c = journal.record_outbound_many([hvps111(n) for n in (1, 2, 3)], queue="OUT")
    reply, _ = journal.record_inbound(_confirmation(1), queue="IN")
    after = journal.set_status_many(
        [
            StatusUpdate(entry_id=a.id, status="sent"),
            StatusUpdate(entry_id=b.id, status="sent"),
            StatusUpdate(entry_id=a.id, status="sent", detail="resent"),  # counted
            StatusUpdate(entry_id=a.id, status="confirmed", code="PM1I0000", related_id=reply.id),
            StatusUpdate(entry_id=c.id, status="created", repaired=True),  # flag only
        ]
    )
    assert [e.status for e in after] == ["sent", "sent", "sent", "confirmed", "created"]
    assert after[2].resent == 1 and after[3].status_code == "PM1I0000"
    # what is returned is what is stored
    assert after[3] == journal.get(a.id) and after[1] == journal.get(b.id)
    assert after[4] == journal.get(c.id) and after[4].repaired
    steps = journal.history(a.id)
    assert [(s.from_status, s.to_status, s.detail) for s in steps] == [
        (None, "created", None),
        ("created", "sent", None),
        ("sent", "sent", "resent"),
        ("sent", "confirmed", None),
    ]
    assert steps[-1].related_id == reply.id
    assert len(journal.history(c.id)) == 1  # the repaired flag is no status change


def test_set_status_many_strict_refuses_the_batch_and_lenient_skips(journal: Journal) -> None:
    a, b = journal.record_outbound_many([hvps111(1), hvps111(2)], queue="OUT")
    with pytest.raises(JournalError, match="cannot go from 'created' to 'confirmed'"):
        journal.set_status_many(
            [
                StatusUpdate(entry_id=a.id, status="sent"),
                StatusUpdate(entry_id=b.id, status="confirmed"),
            ]
        )
    assert journal.get(a.id).status == "created"  # nothing of the batch happened
    kept, moved = journal.set_status_many(
        [
            StatusUpdate(entry_id=a.id, status="confirmed"),
            StatusUpdate(entry_id=b.id, status="sent"),
        ],
        strict=False,
    )
    assert kept == journal.get(a.id) and kept.status == "created"
    assert moved.status == "sent" == journal.get(b.id).status
    with pytest.raises(JournalError, match="no journal entry with id 999999"):
        journal.set_status_many([StatusUpdate(entry_id=999999, status="sent")], strict=False)
    with pytest.raises(JournalError, match="unknown journal status"):
        journal.set_status_many([StatusUpdate(entry_id=a.id, status="lost")], strict=False)
    assert journal.set_status_many([]) == []
