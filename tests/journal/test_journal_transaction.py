"""Journal.transaction(): several calls of one thread, one commit — or none."""

from __future__ import annotations

import threading

import pytest

from paymsg.errors import JournalError
from paymsg.journal import Journal
from tests.journal.conftest import example, hvps111

CONFIRMATION = "ccms.990.001.02/npc-confirms-hvps111.txt"


def test_reply_and_confirmation_commit_together(journal: Journal) -> None:
    entry = journal.record_outbound(hvps111(1), queue="OUT")
    journal.set_status(entry.id, "sent")
    with journal.transaction():
        reply, is_new = journal.record_inbound(example(CONFIRMATION), queue="IN")
        confirmed = journal.set_status(
            entry.id, "confirmed", code=reply.prc_cd, related_id=reply.id
        )
        assert is_new and confirmed.status == "confirmed"
        assert journal.get(reply.id) == reply  # reads see the open transaction
    assert journal.get(entry.id).status == "confirmed"
    assert journal.history(entry.id)[-1].related_id == reply.id


def test_an_error_rolls_back_every_call(journal: Journal) -> None:
    entry = journal.record_outbound(hvps111(1), queue="OUT")
    journal.set_status(entry.id, "sent")
    with pytest.raises(RuntimeError, match="crash"), journal.transaction():
        journal.record_inbound(example(CONFIRMATION), queue="IN")
        journal.set_status(entry.id, "confirmed")
        raise RuntimeError("crash before the commit")
    assert journal.get(entry.id).status == "sent"
    assert journal.query(direction="in") == []
    assert [s.to_status for s in journal.history(entry.id)] == ["created", "sent"]


def test_a_refused_transition_inside_can_be_handled(journal: Journal) -> None:
    entry = journal.record_outbound(hvps111(1), queue="OUT")
    with journal.transaction():
        with pytest.raises(JournalError, match="from 'created' to 'confirmed'"):
            journal.set_status(entry.id, "confirmed")
        journal.set_status(entry.id, "sent")
        with journal.transaction():  # nested: joins the outer one
            journal.record_inbound(hvps111(2), queue="IN")
    assert journal.get(entry.id).status == "sent"
    assert len(journal.query(direction="in")) == 1


def test_deliver_is_refused_inside(journal: Journal) -> None:
    entry, _ = journal.record_inbound(hvps111(1), queue="IN")
    with journal.transaction(), pytest.raises(JournalError, match=r"outside Journal\.transaction"):
        journal.deliver(entry.id, lambda e, c: None)
    assert journal.deliver(entry.id, lambda e, c: None) is True


def test_other_threads_are_not_part_of_it(journal: Journal) -> None:
    outside: list[int] = []

    def other() -> None:  # writes in its own transaction, after the block releases the lock
        outside.append(journal.record_inbound(hvps111(9), queue="IN")[0].id)

    with pytest.raises(RuntimeError), journal.transaction():
        journal.record_inbound(hvps111(1), queue="IN")
        thread = threading.Thread(target=other)
        thread.start()
        thread.join(0.2)
        raise RuntimeError("roll back this thread's work only")
    thread.join()
    assert [e.id for e in journal.query(direction="in")] == outside
