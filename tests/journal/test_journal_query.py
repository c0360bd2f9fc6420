"""Queries for reconciliation and routing, and exact aggregates computed by the database."""

from __future__ import annotations

import random
from collections import defaultdict
from datetime import date
from decimal import Decimal

import pytest

from paymsg.errors import JournalError
from paymsg.journal import Journal
from paymsg.journal.tables import MAX_AMOUNT, amount_from_units, fits_amount
from tests.journal.conftest import example, hvps111, with_header

DAYS = ("20240315", "20240318")
TYPES = ("A100", "A109", "A200")


@pytest.fixture
def filled(journal: Journal) -> tuple[Journal, dict[tuple[str, str, str, str, str], list[Decimal]]]:
    """60 hvps.111 in and out over two work dates, three 业务类型 and several statuses, with
    random amounts; plus two BEPS packages. Returns the expected amounts by
    (day, direction, tx_type, status, sender)."""
    rng = random.Random(7)
    expected: dict[tuple[str, str, str, str, str], list[Decimal]] = defaultdict(list)
    for n in range(60):
        day, tx_type = rng.choice(DAYS), rng.choice(TYPES)
        amount = Decimal(rng.randrange(1, 10**10)).scaleb(-2)  # up to 99,999,999.99
        sender = rng.choice(("102100099996", "313290000017"))
        text = hvps111(n, amount=f"{amount:.2f}", tx_type=tx_type, day=day, sender=sender)
        if n % 3 == 0:
            entry, _ = journal.record_inbound(text, queue="IN")
            status = "received"
        else:
            entry = journal.record_outbound(text, queue="OUT")
            status = rng.choice(("created", "sent", "confirmed"))
            if status != "created":
                journal.set_status(entry.id, "sent")
            if status == "confirmed":
                journal.set_status(entry.id, "confirmed")
        expected[(day, entry.direction, tx_type, status, sender)].append(amount)
    journal.record_inbound(example("beps.121.001.01/forwarded-by-npc.txt"), queue="IN")
    journal.record_inbound(example("beps.121.001.01/customer-credit-package.txt"), queue="IN")
    return journal, expected


def test_aggregates_match_hand_computed_sums(filled: tuple[Journal, dict]) -> None:  # type: ignore[type-arg]
    journal, expected = filled
    for day in DAYS:
        want: dict[tuple[str, str, str], tuple[int, Decimal]] = {}
        for (d, direction, tx_type, status, _), amounts in expected.items():
            if d == day:
                count, total = want.get((direction, tx_type, status), (0, Decimal(0)))
                want[(direction, tx_type, status)] = (count + len(amounts), total + sum(amounts))
        rows = journal.aggregates(
            work_date=date(int(day[:4]), int(day[4:6]), int(day[6:])), system="HVPS"
        )
        got = {(r.direction, r.tx_type, r.status): (r.count, r.amount) for r in rows}
        assert got == want
        for row in rows:
            assert row.mt == "hvps.111.001.01" and row.without_amount == 0
            assert isinstance(row.amount, Decimal) and row.amount.as_tuple().exponent == -2


def test_aggregates_of_packages_and_amountless_messages(journal: Journal) -> None:
    journal.record_inbound(example("beps.121.001.01/forwarded-by-npc.txt"), queue="IN")
    journal.record_inbound(example("beps.121.001.01/customer-credit-package.txt"), queue="IN")
    journal.record_inbound(example("ccms.900.001.02/beps-package-netted.txt"), queue="IN")
    rows = journal.aggregates(work_date="2024-03-15", system="BEPS")
    assert [(r.mt, r.tx_type, r.count, r.amount, r.without_amount) for r in rows] == [
        ("beps.121.001.01", "A100", 2, Decimal("24799.99") + Decimal("64360.50"), 0),
        ("ccms.900.001.02", None, 1, Decimal("0.00"), 1),
    ]
    assert journal.aggregates(work_date="20240316", system="BEPS") == []


def test_query_filters(filled: tuple[Journal, dict]) -> None:  # type: ignore[type-arg]
    journal, expected = filled

    def count(**match: str) -> int:
        keys = ("day", "direction", "tx_type", "status", "sender")
        return sum(
            len(amounts)
            for key, amounts in expected.items()
            if all(dict(zip(keys, key, strict=True))[k] == v for k, v in match.items())
        )

    assert len(journal.query(work_date="2024-03-15", system="HVPS")) == count(day="20240315")
    assert len(journal.query(work_date=date(2024, 3, 18))) == count(day="20240318")
    assert len(journal.query(tx_type="A109")) == count(tx_type="A109")
    assert len(journal.query(status="sent", direction="out")) == count(status="sent")
    assert len(journal.query(sender="313290000017", mt="hvps.111.001.01")) == count(
        sender="313290000017"
    )
    both = journal.query(work_date="20240318", tx_type="A200", direction="out")
    assert len(both) == count(day="20240318", tx_type="A200", direction="out")
    assert all(e.work_date == date(2024, 3, 18) and e.tx_type == "A200" for e in both)
    (package,) = journal.query(package="2024031500217735")
    assert package.mt == "beps.121.001.01" and package.nb_of_txs == 3
    assert len(journal.query(receiver="105100000017", system="BEPS")) == 1
    assert journal.query(mt="no.such.type") == []


def test_query_pages_in_id_order(filled: tuple[Journal, dict]) -> None:  # type: ignore[type-arg]
    journal, _ = filled
    everything = journal.query()
    assert [e.id for e in everything] == sorted(e.id for e in everything)
    pages, after = [], None
    while True:
        page = journal.query(limit=7, after_id=after)
        if not page:
            break
        pages.extend(page)
        after = page[-1].id
    assert pages == everything


def test_query_refuses_a_bad_date(journal: Journal) -> None:
    with pytest.raises(JournalError, match="work_date: '15/03/2024' is not a date"):
        journal.query(work_date="15/03/2024")


def test_status_counts_and_oldest_unconfirmed(journal: Journal) -> None:
    first = journal.record_outbound(hvps111(1), queue="OUT")
    second = journal.record_outbound(hvps111(2), queue="OUT")
    journal.set_status(first.id, "sent")
    journal.set_status(first.id, "confirmed")
    journal.set_status(second.id, "sent")
    journal.record_inbound(hvps111(3), queue="IN")
    journal.record_inbound(hvps111(3), queue="IN")
    journal.record_inbound(b"junk", queue="IN")
    counts = journal.status_counts()
    assert counts["out"] == {"confirmed": 1, "sent": 1}
    assert counts["in"] == {"received": 1, "unreadable": 1}
    assert counts["oldest_unconfirmed"].id == second.id
    journal.set_status(second.id, "confirmed")
    assert journal.status_counts()["oldest_unconfirmed"] is None


def test_amounts_are_exact(journal: Journal) -> None:
    # a hundred 0.10 add up to exactly 10.00 (a float sum would not)
    for n in range(100):
        journal.record_outbound(hvps111(n, amount="0.10"), queue="OUT")
    (row,) = journal.aggregates(work_date="20240315", system="HVPS")
    assert row.amount == Decimal("10.00") and str(row.amount) == "10.00"
    big = journal.record_outbound(
        hvps111(500, amount="9999999999999999.99", day="20240318"), queue="OUT"
    )
    assert big.amount == Decimal("9999999999999999.99")


def test_amount_storage_limits() -> None:
    assert fits_amount(Decimal("0.01")) and fits_amount(Decimal("1.000"))
    assert not fits_amount(Decimal("0.001"))
    assert fits_amount(Decimal("9999999999999999.99"))  # the largest CNAPS2 amount (18 digits)
    assert fits_amount(MAX_AMOUNT) and not fits_amount(MAX_AMOUNT + Decimal("0.01"))
    assert not fits_amount(Decimal("NaN"))
    assert str(amount_from_units(1)) == "0.01"
    assert str(amount_from_units(1_000)) == "10.00"
    assert str(amount_from_units(-1_230)) == "-12.30"


def test_amount_that_cannot_be_stored_is_noted_not_rounded(journal: Journal) -> None:
    # ISO GrpHdr/CtrlSum is a DecimalNumber (up to 17 decimals): more than 2 is kept out
    text = example("hvps.111.001.01/customer-transfer-urgent.txt")
    text = with_header(text, mesg_id="20240315000000000999")
    text = text.replace(
        b"<NbOfTxs>1</NbOfTxs>", b"<NbOfTxs>1</NbOfTxs><CtrlSum>1.0000001</CtrlSum>"
    )
    entry = journal.record_outbound(text, queue="OUT")
    assert entry.read_error is None
    assert entry.amount is None
    assert entry.notes is not None and "1.0000001" in entry.notes
