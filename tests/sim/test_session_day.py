"""Two participants, each with the transport team's Cnaps2Session and its own journal, pay
each other through a running centre; at the end of the day the centre's books, the
senders' journals and the receivers' journals agree."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from paymsg.journal import Journal
from paymsg.sim.books import Books, from_units
from paymsg.sim.runner import serve
from paymsg.sim.scenario import ClockConfig, Fault, ParticipantConfig, Scenario, parse_participant
from paymsg.transport.session import Cnaps2Session

from .conftest import MORNING, A, B, beps, hvps

PAYMENTS = ("hvps.111.001.01", "hvps.112.001.01", "beps.121.001.01")


def _wait(condition: Callable[[], bool], what: str, timeout: float = 30.0) -> None:
    end = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > end:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.05)


class Day:
    """A running centre (background thread) and one session + journal per bank."""

    def __init__(self, tmp: Path, scenario: Scenario) -> None:
        self.channel_url = f"sqlite:///{tmp / 'mq.db'}"
        self.books_url = f"sqlite:///{tmp / 'books.db'}"
        self.stop = threading.Event()
        self.status: dict[str, Any] = {}
        self.thread = threading.Thread(
            target=self._serve,
            args=(scenario,),
            daemon=True,
        )
        self.thread.start()
        self.journals = {
            bank: Journal(f"sqlite:///{tmp / f'journal-{bank}.db'}") for bank in (A, B)
        }
        self.sessions = {
            bank: Cnaps2Session(
                self.channel_url,
                self.journals[bank],
                participant=bank,
                out_queue=f"MSGMBFE_1.{bank}",
                in_queue=f"MSGTOBANK.{bank}",
                confirm_timeout=1.0,
                resend=5,
                resend_backoff=1.0,
                poll_interval=0.02,
            )
            for bank in (A, B)
        }
        self.delivered: dict[str, list[Any]] = {A: [], B: []}
        for bank, session in self.sessions.items():
            session.start(lambda entry, conn, bank=bank: self.delivered[bank].append(entry))

    def payments(self, bank: str) -> list[Any]:
        """Payments delivered to ``bank``'s application (forwards from the centre)."""
        return [e for e in self.delivered[bank] if e.mt in PAYMENTS]

    def _serve(self, scenario: Scenario) -> None:
        self.status = serve(
            self.channel_url,
            [parse_participant(A), parse_participant(B)],
            books_url=self.books_url,
            scenario=scenario,
            until=self.stop.is_set,
        )

    def close(self) -> None:
        for session in self.sessions.values():
            session.close()
        self.stop.set()
        self.thread.join(timeout=30)
        for journal in self.journals.values():
            journal.close()


@pytest.fixture
def day(tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[Day]:
    scenario = getattr(request, "param", None) or Scenario(
        clock=ClockConfig(start=MORNING),
        participants={A: ParticipantConfig(balance=Decimal("10000.00"))},
    )
    d = Day(tmp_path, scenario)
    yield d
    d.close()


def _journal_totals(
    journal: Journal, direction: str, statuses: set[str] | None
) -> dict[str, tuple[int, Decimal]]:
    totals: dict[str, tuple[int, Decimal]] = {}
    for mt in PAYMENTS:
        entries = [
            e
            for e in journal.query(direction=direction, mt=mt)
            if statuses is None or e.status in statuses
        ]
        totals[mt] = (len(entries), sum((e.amount or Decimal(0) for e in entries), Decimal(0)))
    return totals


def _books_totals(
    books: Books, *, sender: str | None = None, receiver: str | None = None
) -> dict[str, tuple[int, Decimal]]:
    totals = {}
    for mt in PAYMENTS:
        where: dict[str, str] = {"mt": mt}
        if sender:
            where["sender"] = sender
        if receiver:
            where["receiver"] = receiver
        rows = [p for p in books.payments(**where) if p.status in ("PR03", "PR04")]
        totals[mt] = (len(rows), sum((from_units(p.amount) for p in rows), Decimal(0)))
    return totals


def test_session_gets_990s_604s_forwards_and_rejections(day: Day) -> None:
    a, b = day.sessions[A], day.sessions[B]
    settled = a.send(hvps(A, B, "1000.00"))
    assert (settled.status, settled.code) == ("confirmed", "PM1I0000")
    fi = a.send(hvps(A, B, "2000.00", mt="hvps.112.001.01"))
    assert fi.status == "confirmed"
    package = a.send(beps(A, B, ("10.00", "20.00")))
    assert package.status == "confirmed"
    queued = a.send(hvps(A, B, "9000.00"))  # 10000 - 1000 - 2000 - 30 < 9000: queued
    assert queued.status == "confirmed"
    b.validate = False  # like `paymsg mq send --no-validate`: the centre's checks catch it
    refused = b.send(hvps(B, A, "1.00").replace(b"CLRG", b"INDA"))  # fails the rules
    assert refused.status == "confirmed"  # at communication level
    journal_a, journal_b = day.journals[A], day.journals[B]
    _wait(lambda: journal_a.get(settled.entry_id).status == "settled", "the 604 of the 111")
    _wait(lambda: journal_a.get(fi.entry_id).status == "settled", "the 604 of the 112")
    _wait(lambda: journal_b.get(refused.entry_id).status == "rejected", "B's rejection")
    assert journal_b.get(refused.entry_id).status_code == "CC1E0002"
    _wait(lambda: journal_a.get(queued.entry_id).status == "receipt", "the 604 PR12")
    _wait(lambda: len(day.payments(B)) == 2, "two forwards delivered to B")
    assert sorted(e.mt for e in day.payments(B)) == ["hvps.111.001.01", "hvps.112.001.01"]
    # B's handler also gets the ccms.900 that rejected its own payment (delivered after
    # the reply moved the journal entry on, by the session's delivery thread)
    _wait(
        lambda: [e.mt for e in day.delivered[B] if e.mt not in PAYMENTS] == ["ccms.900.001.02"],
        "B's ccms.900 delivered to its handler",
    )


def test_two_banks_pay_each_other_and_the_books_agree(day: Day) -> None:
    a, b = day.sessions[A], day.sessions[B]
    sent = [
        a.send(hvps(A, B, "1200.00")),
        b.send(hvps(B, A, "300.00")),
        a.send(hvps(A, B, "450.00", mt="hvps.112.001.01")),
        b.send(beps(B, A, ("12.00", "13.50"))),
        a.send(beps(A, B, ("99.99",))),
        b.send(hvps(B, A, "75.25")),
    ]
    assert all(r.status == "confirmed" for r in sent)
    from paymsg.sim.runner import send_command

    send_command(day.channel_url, "end-of-day")  # closes the BEPS round
    _wait(lambda: len(day.payments(A)) == 3 and len(day.payments(B)) == 3, "all forwards")
    for bank in (A, B):
        journal = day.journals[bank]
        _wait(
            lambda journal=journal: all(
                e.status in ("settled", "receipt")
                for e in journal.query(direction="out")
                if e.mt in PAYMENTS
            ),
            f"{bank}'s receipts",
        )
    books = Books(day.books_url)
    try:
        for bank, other in ((A, B), (B, A)):
            journal = day.journals[bank]
            # what the bank sent = what the centre settled from it = what the other received
            assert _journal_totals(journal, "out", {"settled", "receipt"}) == _books_totals(
                books, sender=bank
            )
            assert _journal_totals(journal, "in", None) == _books_totals(books, receiver=bank)
            assert _journal_totals(journal, "out", {"settled", "receipt"}) == _journal_totals(
                day.journals[other], "in", None
            )
        balances = books.balances()
        assert balances[A] == Decimal("10000.00") - 1200 - 450 - Decimal("99.99") + 300 + Decimal(
            "25.50"
        ) + Decimal("75.25")
    finally:
        books.close()


@pytest.mark.parametrize(
    "day",
    [Scenario(clock=ClockConfig(start=MORNING), faults=[Fault(kind="duplicate")])],
    indirect=True,
)
def test_a_duplicated_forward_is_delivered_once(day: Day) -> None:
    result = day.sessions[A].send(hvps(A, B, "5.00"))
    assert result.status == "confirmed"
    _wait(lambda: len(day.payments(B)) >= 1, "the forward")
    _wait(lambda: day.sessions[B].stats.duplicates >= 1, "the second copy at B")
    assert len(day.payments(B)) == 1  # the copy is a duplicate in B's journal
    (entry,) = day.journals[B].query(direction="in", mt="hvps.111.001.01")
    assert entry.copies == 2
