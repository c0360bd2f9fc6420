"""One scenario per injected fault: what the participants see, and what the books keep."""

from __future__ import annotations

import time
from decimal import Decimal
from pathlib import Path

import pytest

import paymsg
from paymsg.errors import SignatureError
from paymsg.sim.centre import SimulatedCrash
from paymsg.sim.scenario import DEFAULT_BALANCE, ClockConfig, Fault, Scenario, load_scenario

from .conftest import MORNING, A, B, World, beps, header_of, hvps, make_world, signed

SCENARIOS = Path(__file__).resolve().parents[2] / "examples" / "sim"


def _world(tmp_path: Path, *faults: Fault) -> World:
    return make_world(tmp_path, Scenario(faults=list(faults)))


def test_drop_990_then_the_resend_is_confirmed(tmp_path: Path) -> None:
    world = _world(tmp_path, Fault(kind="drop_990", mt="hvps.111.001.01"))
    sent = hvps(A, B)
    world.send(sent)
    world.run()
    assert [g.mt for g in world.received(A)] == ["saps.604.001.01"]
    world.send(sent)  # the participant timed out and resends the same MesgID
    world.run()
    (ack,) = world.received(A)
    assert ack.body()["ConfInf"]["MsgId"] == header_of(sent).mesg_id
    assert len(world.received(B)) == 1  # processed once
    # only the first match is affected
    world.send(hvps(A, B))
    world.run()
    assert [g.mt for g in world.received(A)] == ["ccms.990.001.02", "saps.604.001.01"]
    world.close()


def test_delay_990(tmp_path: Path) -> None:
    world = _world(tmp_path, Fault(kind="delay_990", seconds=0.3))
    sent = hvps(A, B)
    world.send(sent)
    world.run()
    assert [g.mt for g in world.received(A)] == ["saps.604.001.01"]
    assert world.centre.pending == 1
    time.sleep(0.35)
    world.centre.flush()
    (ack,) = world.received(A)
    assert ack.body()["ConfInf"]["MsgId"] == header_of(sent).mesg_id
    world.close()


def test_duplicate_forward(tmp_path: Path) -> None:
    world = _world(tmp_path, Fault(kind="duplicate", mt="hvps.111.001.01"))
    world.send(hvps(A, B))
    world.run()
    first, second = world.received(B)
    assert first.text == second.text  # the same message, same MesgID, put twice
    assert world.books.balances()[B] == DEFAULT_BALANCE + Decimal("1000.00")  # settled once
    world.close()


def test_duplicate_applies_to_beps_forwards_too(tmp_path: Path) -> None:
    world = _world(tmp_path, Fault(kind="duplicate", mt="beps.121.001.01"))
    world.send(beps(A, B))
    world.run()
    world.centre.close_round()
    first, second = world.received(B)
    assert first.header.mesg_id == second.header.mesg_id
    world.close()


def test_reorder(tmp_path: Path) -> None:
    world = _world(tmp_path, Fault(kind="reorder", nth=1))
    one, two = hvps(A, B, "1.00"), hvps(A, B, "2.00")
    world.send(one)
    world.send(two)
    world.run()
    got = world.received(B)
    amounts = [g.body()["CdtTrfTxInf"][0]["IntrBkSttlmAmt"]["#text"] for g in got]
    assert amounts == ["2.00", "1.00"]
    world.close()


def test_reject_with_a_given_code(tmp_path: Path) -> None:
    fault = Fault(kind="reject", mt="hvps.112.001.01", code="CC1E0999", info="no permission")
    world = _world(tmp_path, fault)
    world.send(hvps(A, B, mt="hvps.112.001.01"))
    world.run()
    ack, rejection = world.received(A)
    assert ack.mt == "ccms.990.001.02"
    info = rejection.body()["CmonConfInf"]
    assert (info["PrcSts"], info["PrcCd"], info["RjctInf"]) == ("PR09", "CC1E0999", "no permission")
    assert world.received(B) == []
    assert world.books.balances()[A] == DEFAULT_BALANCE
    world.close()


def test_corrupt_signature(tmp_path: Path) -> None:
    world = _world(tmp_path, Fault(kind="corrupt_signature", nth=2))
    texts = []
    for _ in range(2):
        text, verifier, profiles = signed(hvps(A, B))
        texts.append(text)
        world.send(text)
    world.run()
    good, bad = world.received(B)
    profile = profiles["hvps.111.001.01"]
    paymsg.parse(good.text, verifier=verifier, signing_profile=profile)  # verifies
    with pytest.raises(SignatureError):
        paymsg.parse(bad.text, verifier=verifier, signing_profile=profile)
    assert bad.message.document == paymsg.parse(texts[1]).document
    world.close()


def test_corrupt_signature_adds_one_when_unsigned(tmp_path: Path) -> None:
    world = _world(tmp_path, Fault(kind="corrupt_signature"))
    world.send(hvps(A, B))
    world.run()
    (forward,) = world.received(B)
    assert forward.message.envelope.signature is not None


def test_lose_a_payment_from_the_books(tmp_path: Path) -> None:
    world = _world(tmp_path, Fault(kind="lose", mt="hvps.111.001.01", nth=2))
    kept, lost, after = hvps(A, B, "1.00"), hvps(A, B, "2.00"), hvps(A, B, "3.00")
    for text in (kept, lost, after):
        world.send(text)
    world.run()
    # the participants see everything as usual …
    assert [g.mt for g in world.received(A)].count("saps.604.001.01") == 3
    assert len(world.received(B)) == 3
    # … but the centre's books miss the second payment
    amounts = sorted(p.amount for p in world.books.payments())
    assert amounts == [100000, 300000]
    world.close()


def test_lose_a_beps_package(tmp_path: Path) -> None:
    world = _world(tmp_path, Fault(kind="lose", mt="beps.121.001.01"))
    world.send(beps(A, B))
    world.run()
    world.centre.close_round()
    assert len(world.received(B)) == 1
    assert world.books.payments() == []
    world.close()


@pytest.mark.parametrize("point", ["before_commit", "after_commit", "after_put"])
def test_crash_and_restart(tmp_path: Path, point: str) -> None:
    world = _world(tmp_path, Fault(kind="crash", nth=2, point=point))  # type: ignore[arg-type]
    texts = [hvps(A, B, f"{n}.00") for n in (1, 2, 3)]
    for text in texts:
        world.send(text)
    with pytest.raises(SimulatedCrash):
        world.run()
    world.restart()  # a new centre on the same books and queues: nothing in memory survives
    world.run()
    to_a, to_b = world.received(A), world.received(B)
    # every message was answered and settled exactly once in the books …
    confirmed = {g.body()["ConfInf"]["MsgId"] for g in to_a if g.mt == "ccms.990.001.02"}
    assert confirmed == {header_of(t).mesg_id for t in texts}
    receipts = {g.header.mesg_id for g in to_a if g.mt == "saps.604.001.01"}
    assert len(receipts) == 3
    assert len({g.header.mesg_id for g in to_b}) == 3
    assert world.books.balances()[A] == DEFAULT_BALANCE - Decimal("6.00")
    assert sorted(p.status for p in world.books.payments()) == ["PR04"] * 3
    # … and the crash fired once only
    assert world.books.fault_counts()[0][1] == 1
    world.close()


def test_crash_restart_through_serve(tmp_path: Path) -> None:
    """The runner restarts the centre by itself after a scenario crash."""
    from paymsg.sim.runner import send_command, serve
    from paymsg.sim.scenario import parse_participant
    from paymsg.transport import open_channel

    channel_url = f"sqlite:///{tmp_path / 'mq.db'}"
    scenario = Scenario(
        clock=ClockConfig(start=MORNING), faults=[Fault(kind="crash", point="after_commit")]
    )
    with open_channel(channel_url) as channel:
        channel.declare(f"MSGMBFE_1.{A}")
        channel.put(f"MSGMBFE_1.{A}", hvps(A, B))
    status = serve(
        channel_url,
        [parse_participant(A), parse_participant(B)],
        books_url=f"sqlite:///{tmp_path / 'books.db'}",
        scenario=scenario,
        # stopped once it has nothing left to do (a stop sent before it started would be
        # set aside as stale)
        on_idle=lambda _centre: send_command(channel_url, "stop"),
    )
    assert status["restarts"] == 1
    (a,) = [p for p in status["participants"] if p["bank"] == A]
    assert a["settled"] == 1


def test_a_command_sent_while_no_centre_runs_is_set_aside(tmp_path: Path) -> None:
    """A `paymsg sim stop` (or end-of-day…) sent when no centre was running waited on the
    control queue and stopped the next centre at once (or ended its day): a centre sets
    aside the commands stamped before it started, and obeys those sent while it runs."""
    from paymsg.sim.events import EventSink
    from paymsg.sim.runner import send_command, serve
    from paymsg.sim.scenario import parse_participant

    channel_url = f"sqlite:///{tmp_path / 'mq.db'}"
    send_command(channel_url, "stop")
    send_command(channel_url, "end-of-day")
    events = EventSink()
    idle: list[int] = []

    def on_idle(_centre: object) -> None:
        idle.append(1)
        if len(idle) == 3:  # it kept running past the stale stop: stop it now
            send_command(channel_url, "stop")

    serve(
        channel_url,
        [parse_participant(A)],
        books_url=f"sqlite:///{tmp_path / 'books.db'}",
        scenario=Scenario(clock=ClockConfig(start=MORNING)),
        events=events,
        on_idle=on_idle,
    )
    assert events.counts["stale_command"] == 2 and events.counts["end_of_day"] == 0
    assert events.counts["command"] == 1 and len(idle) >= 3


def test_example_scenarios_load() -> None:
    files = sorted(SCENARIOS.glob("*.toml"))
    assert files, "examples/sim has scenario files"
    for path in files:
        load_scenario(path)
