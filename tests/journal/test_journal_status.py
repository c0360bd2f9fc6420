"""The status machine: the outbound and inbound flows, refusals, idempotence, history."""

from __future__ import annotations

import itertools

import pytest

from paymsg.errors import JournalError
from paymsg.journal import TRANSITIONS, Journal, allowed_next
from tests.journal.conftest import example, hvps111


def test_outbound_happy_path_with_history(journal: Journal) -> None:
    entry = journal.record_outbound(hvps111(1), queue="OUT")
    reply, _ = journal.record_inbound(
        example("ccms.990.001.02/npc-confirms-hvps111.txt"), queue="IN"
    )
    receipt, _ = journal.record_inbound(example("saps.604.001.01/settled-hvps111.txt"), queue="IN")
    journal.set_status(entry.id, "sent")
    journal.set_status(entry.id, "confirmed", code="PM1I0000", related_id=reply.id)
    journal.set_status(entry.id, "receipt", code="PR11", detail="已轧差排队")
    done = journal.set_status(entry.id, "settled", code="PR04", related_id=receipt.id)
    assert (done.status, done.status_code) == ("settled", "PR04")
    steps = journal.history(entry.id)
    assert [(s.from_status, s.to_status) for s in steps] == [
        (None, "created"),
        ("created", "sent"),
        ("sent", "confirmed"),
        ("confirmed", "receipt"),
        ("receipt", "settled"),
    ]
    assert steps[2].code == "PM1I0000" and steps[2].related_id == reply.id
    assert steps[3].detail == "已轧差排队"
    assert steps[4].related_id == receipt.id
    assert all(a.at <= b.at for a, b in itertools.pairwise(steps))


def test_resend_is_counted(journal: Journal) -> None:
    entry = journal.record_outbound(hvps111(1), queue="OUT")
    journal.set_status(entry.id, "sent")
    journal.set_status(entry.id, "sent", detail="no 990 after 60 s")
    again = journal.set_status(entry.id, "sent")
    assert again.resent == 2
    timed_out = journal.set_status(entry.id, "timed_out")
    replayed = journal.set_status(timed_out.id, "sent", detail="paymsg mq replay")
    assert replayed.resent == 3
    late = journal.set_status(entry.id, "confirmed")
    assert late.status == "confirmed"


def test_refused_and_rejected(journal: Journal) -> None:
    refused = journal.record_outbound(hvps111(1), queue="OUT")
    journal.set_status(refused.id, "sent")
    after = journal.set_status(refused.id, "refused", code="CC1E0012", detail="format error")
    assert (after.status, after.status_code, after.status_detail) == (
        "refused",
        "CC1E0012",
        "format error",
    )
    rejected = journal.record_outbound(hvps111(2), queue="OUT")
    journal.set_status(rejected.id, "sent")
    journal.set_status(rejected.id, "confirmed")
    assert journal.set_status(rejected.id, "rejected", code="PR09").status == "rejected"
    with pytest.raises(JournalError, match="'rejected' is final"):
        journal.set_status(rejected.id, "settled")


@pytest.mark.parametrize(
    ("path", "bad"),
    [
        ([], "confirmed"),  # created → confirmed skips the put
        (["sent", "confirmed"], "sent"),
        (["sent", "confirmed"], "timed_out"),
        (["sent", "refused"], "confirmed"),
        (["sent", "confirmed", "settled"], "rejected"),
    ],
)
def test_impossible_transitions_name_both_states(
    journal: Journal, path: list[str], bad: str
) -> None:
    entry = journal.record_outbound(hvps111(1), queue="OUT")
    for status in path:
        entry = journal.set_status(entry.id, status)
    before = journal.history(entry.id)
    with pytest.raises(JournalError) as caught:
        journal.set_status(entry.id, bad)
    assert f"from {entry.status!r} to {bad!r}" in str(caught.value)
    assert journal.get(entry.id).status == entry.status  # nothing changed
    assert journal.history(entry.id) == before


def test_same_status_again_is_a_no_op(journal: Journal) -> None:
    entry = journal.record_outbound(hvps111(1), queue="OUT")
    journal.set_status(entry.id, "sent")
    first = journal.set_status(entry.id, "confirmed", code="PM1I0000")
    second = journal.set_status(entry.id, "confirmed", code="PM1I0000")  # a second 990 copy
    assert second == first
    assert [s.to_status for s in journal.history(entry.id)].count("confirmed") == 1


def test_inbound_statuses_are_not_outbound_ones(journal: Journal) -> None:
    entry, _ = journal.record_inbound(hvps111(1), queue="IN")
    with pytest.raises(JournalError, match="from 'received' to 'sent'"):
        journal.set_status(entry.id, "sent")
    with pytest.raises(JournalError, match=r"set by Journal\.deliver"):
        journal.set_status(entry.id, "delivered")
    with pytest.raises(JournalError, match="unknown journal status 'done'"):
        journal.set_status(entry.id, "done")
    with pytest.raises(JournalError, match="no journal entry with id 999"):
        journal.set_status(999, "sent")


def test_repaired_flag(journal: Journal) -> None:
    entry = journal.record_outbound(hvps111(1), queue="OUT")
    assert not entry.repaired
    journal.set_status(entry.id, "sent")
    journal.set_status(entry.id, "confirmed")
    assert journal.set_status(entry.id, "confirmed", repaired=True).repaired


def test_every_transition_target_is_a_known_status() -> None:
    from paymsg.journal import INBOUND_STATUSES, OUTBOUND_STATUSES

    for (direction, status), targets in TRANSITIONS.items():
        known = OUTBOUND_STATUSES if direction == "out" else INBOUND_STATUSES
        assert status in known and targets <= set(known)
    assert allowed_next("out", "nonsense") == frozenset()


def test_business_answer_before_the_990(journal: Journal) -> None:
    # the 604 proves receipt: accepted while the entry still waits for its 990
    entry = journal.record_outbound(hvps111(1), queue="OUT")
    journal.set_status(entry.id, "sent")
    assert journal.set_status(entry.id, "settled", code="PR04").status == "settled"
    late = journal.record_outbound(hvps111(2), queue="OUT")
    journal.set_status(late.id, "sent")
    journal.set_status(late.id, "timed_out")
    assert journal.set_status(late.id, "receipt", code="PR11").status == "receipt"
    with pytest.raises(JournalError, match="from 'settled' to 'confirmed'"):
        journal.set_status(entry.id, "confirmed")  # a 990 after settlement changes nothing
