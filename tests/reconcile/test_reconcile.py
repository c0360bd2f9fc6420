"""The comparison core and the breaks' lifecycle, on SQLite and PostgreSQL: a day with
each break class, re-runs, repairs, acceptance and a missing part of a detail answer."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal as D
from pathlib import Path

import pytest

from paymsg.errors import InputError
from paymsg.journal import Journal
from paymsg.reconcile import accept_break, list_breaks, read_npc_texts, reconcile_day
from tests.journal.conftest import with_header
from tests.reconcile.conftest import details_713, hvps111, summary_711

MT = "hvps.111.001.01"


def _settle(journal: Journal, text: bytes, final: str = "settled") -> int:
    entry = journal.record_outbound(text, queue="MSGMBFE_1")
    journal.set_status(entry.id, "sent")
    journal.set_status(entry.id, "confirmed", code="PM1I0000")
    journal.set_status(entry.id, final)
    return entry.id


def _msg(n: int) -> str:
    return f"20240315{n:08d}"


#: what the NPC says it settled for us (sent, A100, PR04)
NPC_ITEMS = [
    (1, "100.00"),
    (2, "200.00"),
    (3, "350.00"),
    (4, "400.00"),
    (5, "500.00"),
    (7, "700.00"),
]


def _npc(parts: tuple[int, int, int] = (1, 1, 1)) -> list[tuple[bytes, str]]:
    listed = [(_msg(n), D(a)) for n, a in NPC_ITEMS]
    total = sum(a for _, a in listed)
    summary = summary_711([(MT, "A100", len(listed), total, 0, D("0"), "PR04")])
    details = details_713([(MT, "A100", "SR00", "PR04", listed)], part=parts)
    return [(summary, "711.xml"), (details, "713.xml")]


def _day_with_every_break(journal: Journal) -> dict[int, int]:
    ids = {
        n: _settle(journal, hvps111(n, amount=a))
        for n, a in [(1, "100.00"), (2, "200.00"), (3, "300.00")]
    }
    ids[4] = _settle(journal, hvps111(4, amount="400.00"))
    # the same payment (MsgId) journaled twice under another MesgID: a duplicate
    _settle(journal, with_header(hvps111(4, amount="400.00"), mesg_id="20240315999999999999"))
    ids[6] = _settle(journal, hvps111(6, amount="600.00"))  # the NPC does not have it
    ids[7] = _settle(journal, hvps111(7, amount="700.00"), final="rejected")  # NPC: PR04
    return ids


def _by_msg(result) -> dict[str, object]:  # type: ignore[no-untyped-def]
    return {b.msg_id: b for b in result.breaks if b.msg_id}


def test_each_break_class_is_found_in_sql(journal: Journal) -> None:
    ids = _day_with_every_break(journal)
    result = reconcile_day(journal, read_npc_texts(_npc()))
    (cell,) = [c for c in result.cells if c.kind == "payment" and c.status == "settled"]
    assert cell.differs
    assert (cell.npc_sent_count, cell.npc_sent_amount) == (6, D("2250.00"))
    # journal settled: 1, 2, 3 (300), 4 twice, 6 — 7 is rejected (another cell)
    assert (cell.our_sent_count, cell.our_sent_amount) == (6, D("2000.00"))
    found = {b.msg_id: (b.kind, b.status) for b in result.breaks if b.msg_id}
    assert found == {
        _msg(3): ("amount_differs", "new"),
        _msg(4): ("duplicate", "new"),
        _msg(5): ("missing_here", "new"),
        _msg(6): ("missing_at_npc", "new"),
        _msg(7): ("status_differs", "new"),
    }
    by = _by_msg(result)
    assert by[_msg(3)].npc_value == "350.00" and by[_msg(3)].our_value == "300.00"  # type: ignore[attr-defined]
    assert by[_msg(6)].entry_id == ids[6]  # type: ignore[attr-defined]
    assert all(isinstance(b.amount, D) for b in result.breaks if b.msg_id)
    # the journal's rejected cell (failed) has no NPC counterpart and no details
    (cell_break,) = [b for b in result.breaks if b.msg_id is None]
    assert cell_break.key == "cell|payment|hvps.111.001.01|A100|failed||"
    assert cell_break.kind == "missing_at_npc"
    assert not result.ok and len(result.open_breaks) == 6


def test_rerun_persists_repair_resolves_and_settled_breaks_never_change(journal: Journal) -> None:
    _day_with_every_break(journal)
    first = reconcile_day(journal, read_npc_texts(_npc()))
    ids = {b.msg_id: b.id for b in first.breaks}
    second = reconcile_day(journal, read_npc_texts(_npc()))
    assert {b.msg_id: b.id for b in second.breaks} == ids  # same breaks, not new ones
    assert {b.status for b in second.breaks} == {"persisting"}

    accepted = accept_break(journal, ids[_msg(6)], "booked by hand, NPC confirmed by phone")
    assert accepted.status == "accepted" and accepted.note
    _settle(journal, hvps111(5, amount="500.00"))  # the missing payment arrives
    third = reconcile_day(journal, read_npc_texts(_npc()))
    by = _by_msg(third)
    assert by[_msg(5)].status == "resolved" and by[_msg(5)].settled_at is not None  # type: ignore[attr-defined]
    assert by[_msg(6)].status == "accepted"  # type: ignore[attr-defined]
    fourth = reconcile_day(journal, read_npc_texts(_npc()))
    again = _by_msg(fourth)
    for n in (5, 6):  # settled: nothing changes on a re-run
        assert again[_msg(n)].model_dump() == by[_msg(n)].model_dump()  # type: ignore[attr-defined]
    assert {b.msg_id for b in fourth.open_breaks} == {_msg(3), _msg(4), _msg(7), None}
    with pytest.raises(InputError, match="only an open break"):
        accept_break(journal, ids[_msg(6)], "again")
    with pytest.raises(InputError, match="needs a note"):
        accept_break(journal, ids[_msg(3)], "  ")
    assert {b.id for b in list_breaks(journal, status="open")} == {
        ids[k] for k in (_msg(3), _msg(4), _msg(7), None)
    }


def test_journal_cut_off_is_fixed(journal: Journal) -> None:
    _day_with_every_break(journal)
    cut = datetime.now(UTC)
    _settle(journal, hvps111(5, amount="500.00"))  # after the cut-off
    result = reconcile_day(journal, read_npc_texts(_npc()), as_of=cut)
    assert _by_msg(result)[_msg(5)].kind == "missing_here"  # type: ignore[attr-defined]
    later = reconcile_day(journal, read_npc_texts(_npc()), as_of=cut + timedelta(hours=1))
    assert _by_msg(later)[_msg(5)].status == "resolved"  # type: ignore[attr-defined]


def test_missing_part_is_reported(journal: Journal) -> None:
    texts = _npc(parts=(9, 1, 6))
    day = read_npc_texts(texts)
    assert day.problems == [
        "hvps.713.001.01 answering 2024031500009002: missing part (items 7-9 of 9)"
    ]
    result = reconcile_day(journal, day)
    assert result.problems and not result.ok


def test_cells_agree_when_the_books_agree(journal: Journal) -> None:
    for n, amount in NPC_ITEMS:
        _settle(journal, hvps111(n, amount=amount))
    result = reconcile_day(journal, read_npc_texts(_npc()))
    assert [c.differs for c in result.cells] == [False]
    assert result.breaks == [] and result.ok


def test_summary_without_details_gives_cell_breaks(journal: Journal) -> None:
    _settle(journal, hvps111(1, amount="100.00"))
    summary = summary_711([(MT, "A100", 2, D("300.00"), 0, D("0"), "PR04")])
    result = reconcile_day(journal, read_npc_texts([(summary, "711.xml")]))
    (only,) = result.breaks
    assert only.kind == "missing_here" and only.key.startswith(
        "cell|payment|hvps.111.001.01|A100|settled"
    )


def test_bad_input_is_located() -> None:
    bad = summary_711([(MT, "A100", 1, D("1.00"), 0, D("0"), "PR04")]).replace(
        b"CNY+1.00", b"CNY1.00"
    )
    with pytest.raises(Exception) as caught:
        read_npc_texts([(bad, "bad.xml")])
    assert "bad.xml" in str(caught.value)
    with pytest.raises(InputError, match="not an NPC reconciliation answer"):
        read_npc_texts([(hvps111(1), "pay.txt")])


def test_an_amount_the_journal_cannot_hold_exactly_is_refused(journal: Journal) -> None:
    """An NPC amount with more than 2 decimals is a located error, never rounded: when
    read from the NPC's text, and when an NpcDay built in code reaches the database."""
    from dataclasses import replace

    from paymsg.errors import BindingError

    summary, details = (text for text, _ in _npc())
    bad = details.replace(b">350.00</Amt>", b">350.005</Amt>")
    with pytest.raises(BindingError, match="not a CNY amount") as caught:
        read_npc_texts([(summary, "711.xml"), (bad, "713.xml")])
    assert "713.xml" in str(caught.value) and "ChckngDtl[3]/Amt" in str(caught.value)

    day = read_npc_texts(_npc())
    day.items[2] = replace(day.items[2], amount=D("350.005"))
    with pytest.raises(InputError, match=f"{MT} {_msg(3)}: amount 350.005 cannot be stored"):
        reconcile_day(journal, day)
    assert list_breaks(journal) == []  # nothing was kept


def test_a_day_without_hvps_payments_reconciles(tmp_path: Path) -> None:
    """The centre's hvps.716 of a day with no HVPS payment (a Sunday, a quiet branch) is
    one empty part ``0/0/0``: the reconciliation agrees with an empty journal, no problem
    "part 0-0 of 0 is out of range" (the hub's day on a Sunday reported BREAKS for it)."""
    from paymsg.sim.scenario import Scenario
    from tests.sim.conftest import A, make_world

    world = make_world(tmp_path, Scenario())
    world.centre.end_of_day()
    texts = [
        (got.text, f"716 #{n}")
        for n, got in enumerate(world.received(A, pre_reconciliation=True))
        if got.message.type == "hvps.716.001.01"
    ]
    world.close()
    assert len(texts) == 1 and b"<TtlNb>0</TtlNb>" in texts[0][0]
    day = read_npc_texts(texts)
    assert day.problems == []
    result = reconcile_day(Journal(f"sqlite:///{tmp_path / 'j.db'}"), day)
    assert result.ok and result.breaks == []
