"""End to end: a simulated day with a message lost at the centre, a duplicated forward, a
changed amount and a message missing from the bank's journal, reconciled over the
transport (710 → 711, 712 → 713, 714 → 715) against the running simulator."""

from __future__ import annotations

from decimal import Decimal

import pytest
import sqlalchemy as sa

from paymsg.journal.tables import entries, status_history
from paymsg.reconcile.flow import run_flow
from paymsg.sim.scenario import ClockConfig, Fault, ParticipantConfig, Scenario
from tests.sim.conftest import MORNING, A, B, hvps
from tests.sim.test_session_day import Day, _wait
from tests.sim.test_session_day import day as day

SCENARIO = Scenario(
    clock=ClockConfig(start=MORNING),
    participants={A: ParticipantConfig(balance=Decimal("100000.00"))},
    faults=[
        Fault(kind="lose", mt="hvps.111.001.01", sender=A, nth=2),  # lost at the centre
        Fault(kind="duplicate", mt="hvps.111.001.01", sender=B, nth=1),  # forwarded twice
    ],
)


TODAY = MORNING.date()  # the centre's business date


def _today(text: bytes) -> bytes:
    """The payment dated on the centre's business date (MsgId, header dates)."""
    return text.replace(b"20240315", TODAY.strftime("%Y%m%d").encode())


@pytest.mark.parametrize("day", [SCENARIO], indirect=True)
def test_a_day_with_faults_is_reconciled_end_to_end(day: Day) -> None:
    a, b = day.sessions[A], day.sessions[B]
    ours = [_today(hvps(A, B, amount)) for amount in ("100.00", "200.00", "300.00")]
    theirs = [_today(hvps(B, A, amount)) for amount in ("40.00", "50.00")]
    assert all(r.ok for r in a.send_many(ours) + b.send_many(theirs))
    journal = day.journals[A]
    _wait(lambda: len(day.payments(A)) == 2, "both forwards to A")
    _wait(lambda: a.stats.duplicates >= 1, "the duplicated forward at A")
    _wait(
        lambda: all(
            e.status == "settled" for e in journal.query(direction="out", mt="hvps.111.001.01")
        ),
        "A's settlements",
    )
    out = {e.amount: e for e in journal.query(direction="out", mt="hvps.111.001.01")}
    lost_at_npc = out[Decimal("200.00")].msg_id
    changed = out[Decimal("300.00")]
    received = {e.amount: e for e in journal.query(direction="in", mt="hvps.111.001.01")}
    duplicated, gone = received[Decimal("40.00")], received[Decimal("50.00")]
    assert duplicated.copies == 2
    with journal.engine.begin() as conn:
        # the simulator has no such faults: A's own records are damaged by hand
        conn.execute(
            sa.update(entries).where(entries.c.id == changed.id).values(amount=Decimal("333.00"))
        )
        conn.execute(sa.delete(status_history).where(status_history.c.entry_id == gone.id))
        conn.execute(sa.delete(entries).where(entries.c.id == gone.id))

    flow = run_flow(a, journal, system="HVPS", check_date=TODAY, participant=A, timeout=90)
    result = flow.result
    kinds = sorted(r.split()[0] for r in flow.requests)
    assert kinds == ["hvps.710.001.01", "hvps.712.001.01", "hvps.714.001.01"]
    # the message missing here was downloaded and put back, validated and marked repaired
    assert len(flow.repaired) == 1, flow.refused_repairs
    (repaired_id,) = flow.repaired
    repaired = journal.get(repaired_id)
    assert (
        repaired.repaired and repaired.msg_id == gone.msg_id and repaired.amount == Decimal("50.00")
    )
    assert flow.refused_repairs == []
    found = {(b.kind, b.msg_id) for b in result.open_breaks}
    assert found == {
        ("missing_at_npc", lost_at_npc),
        ("amount_differs", changed.msg_id),
    }
    # the forward the centre put twice was answered and kept once: a notice, not a break
    (notice,) = result.notices
    assert (notice.kind, notice.msg_id, notice.entry_id, notice.copies, notice.amount) == (
        "copies",
        duplicated.msg_id,
        duplicated.id,
        2,
        Decimal("40.00"),
    )
    assert notice.sender == B and notice.mesg_id == duplicated.mesg_id
    amount_break = next(b for b in result.open_breaks if b.kind == "amount_differs")
    assert (amount_break.npc_value, amount_break.our_value) == ("300.00", "333.00")
    assert not result.ok


def test_clean_day_beps_by_round_and_hvps_from_the_cli(day: Day, tmp_path) -> None:  # type: ignore[no-untyped-def]
    import json

    from typer.testing import CliRunner

    from paymsg.cli import app
    from paymsg.sim.runner import send_command
    from tests.sim.conftest import beps

    a = day.sessions[A]
    assert all(
        r.ok
        for r in a.send_many([_today(hvps(A, B, "10.00")), _today(beps(A, B, ("1.00", "2.50")))])
    )
    send_command(day.channel_url, "end-of-day")  # nets the BEPS round
    journal = day.journals[A]
    _wait(
        lambda: all(
            e.status in ("settled", "receipt")
            for e in journal.query(direction="out")
            if e.mt in ("hvps.111.001.01", "beps.121.001.01")
        ),
        "A's settlements",
    )
    flow = run_flow(a, journal, system="BEPS", check_date=TODAY, participant=A, timeout=30)
    assert [r.split()[0] for r in flow.requests] == ["beps.720.001.01"]
    (cell,) = [c for c in flow.result.cells if c.kind == "payment"]
    assert (cell.mt, cell.npc_sent_count, cell.npc_sent_amount, cell.differs) == (
        "beps.121.001.01",
        1,
        Decimal("3.50"),
        False,
    )
    assert cell.netting_round  # compared per netting date and round
    assert flow.result.ok

    a.close()  # the command line runs its own session on A's queues
    result = CliRunner().invoke(
        app,
        [
            "reconcile",
            "hvps",
            "--date",
            TODAY.isoformat(),
            "--journal",
            journal.url,
            "--channel",
            day.channel_url,
            "--participant",
            A,
            "--queue",
            f"MSGMBFE_1.{A}",
            "--reply-queue",
            f"MSGTOBANK.{A}",
            "--timeout",
            "30",
            "--json",
        ],
        catch_exceptions=False,
    )
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert data["open_breaks"] == 0 and [c["differs"] for c in data["cells"]] == [False]
