"""BEPS net debit limits (净借记限额): a package that would take its sender's net debit in
the open round above the limit is queued (ccms.900 PR11) or refused (PR09); a queued one
enters a round as soon as the position allows and is refused at the end of the day."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest
from pydantic import ValidationError

from paymsg.sim.scenario import (
    DEFAULT_BALANCE,
    BepsConfig,
    ParticipantConfig,
    Scenario,
    load_scenario,
)

from .conftest import A, B, World, beps, header_of, make_world


def _world(tmp_path: Path, **beps_config: object) -> World:
    scenario = Scenario(
        beps=BepsConfig(round_seconds=0, **beps_config),  # type: ignore[arg-type]
        participants={A: ParticipantConfig(net_debit_limit=Decimal("100.00"))},
    )
    return make_world(tmp_path, scenario)


def _statuses(world: World, bank: str) -> list[tuple[str, str | None, str | None]]:
    out = []
    for got in world.received(bank):
        info = got.body().get("CmonConfInf", {})
        out.append((got.mt, info.get("PrcSts"), info.get("PrcCd")))
    return out


def test_over_the_limit_waits_until_an_incoming_package_makes_room(tmp_path: Path) -> None:
    world = _world(tmp_path)
    first, second = beps(A, B, ("80.00",)), beps(A, B, ("50.00",))
    world.send(first)
    world.send(second)
    world.run()
    assert _statuses(world, A) == [
        ("ccms.990.001.02", None, None),
        ("ccms.990.001.02", None, None),
        ("ccms.900.001.02", "PR11", "NE1E0001"),  # 80 + 50 > 100: queued for netting
    ]
    queued = {p.msg_id: (p.status, p.waiting) for p in world.books.payments()}
    assert sorted(queued.values()) == [("PR00", "round"), ("PR11", "limit")]
    world.send(beps(B, A, ("40.00",)), bank=B)  # A's net debit falls to 40: 50 fits now
    world.run()
    world.received(B)
    assert {p.waiting for p in world.books.payments()} == {"round"}
    assert world.centre.close_round() == 3
    netted = _statuses(world, A)
    assert [s for s in netted if s[0] == "ccms.900.001.02"] == [
        ("ccms.900.001.02", "PR03", "NEZI0000"),
        ("ccms.900.001.02", "PR03", "NEZI0000"),
    ]
    assert len([g for g in world.received(B) if g.mt == "beps.121.001.01"]) == 2
    balances = world.books.balances()
    assert balances[A] == DEFAULT_BALANCE - Decimal("90.00")  # 80 + 50 out, 40 in
    assert header_of(second).mesg_id  # the queued package kept its own message
    world.close()


def test_a_new_round_lets_queued_packages_in_and_the_end_of_day_refuses_the_rest(
    tmp_path: Path,
) -> None:
    world = _world(tmp_path)
    for amount in ("90.00", "60.00", "70.00"):
        world.send(beps(A, B, (amount,)))
    world.run()
    world.received(A)
    assert world.centre.close_round() == 1  # 90 netted; 60 enters the new round, 70 waits
    assert sorted((p.status, p.waiting) for p in world.books.payments()) == [
        ("PR00", "round"),
        ("PR03", None),
        ("PR11", "limit"),
    ]
    world.received(A)
    world.centre.end_of_day()
    statuses = _statuses(world, A)
    assert ("ccms.900.001.02", "PR09", "NE1E0001") in statuses  # 70 never fitted
    assert ("ccms.900.001.02", "PR03", "NEZI0000") in statuses  # 60 netted at the close
    assert sorted(p.status for p in world.books.payments()) == ["PR03", "PR03", "PR09"]
    world.close()


def test_refuse_policy_answers_pr09_at_once(tmp_path: Path) -> None:
    world = _world(tmp_path, over_limit="refuse")
    world.send(beps(A, B, ("150.00",)))
    world.run()
    assert _statuses(world, A)[-1] == ("ccms.900.001.02", "PR09", "NE1E0001")
    (payment,) = world.books.payments()
    assert (payment.status, payment.waiting) == ("PR09", None)
    world.close()


def test_without_a_limit_nothing_waits_and_the_limit_is_exact(tmp_path: Path) -> None:
    world = _world(tmp_path)
    world.send(beps(A, B, ("60.00", "40.00")))  # exactly the limit
    world.send(beps(B, A, ("5000.00",)), bank=B)  # B has no limit
    world.run()
    assert {p.waiting for p in world.books.payments()} == {"round"}
    world.close()


def test_the_limit_is_read_from_toml_and_never_from_a_float(tmp_path: Path) -> None:
    path = tmp_path / "s.toml"
    path.write_text(
        f'[beps]\nover_limit = "refuse"\n[participants.{A}]\nnet_debit_limit = "2500.00"\n',
        encoding="utf-8",
    )
    scenario = load_scenario(path)
    assert scenario.participants[A].net_debit_limit == Decimal("2500.00")
    assert scenario.beps.over_limit == "refuse"
    with pytest.raises(ValidationError, match="never a float"):
        ParticipantConfig(net_debit_limit=2500.0)  # type: ignore[arg-type]


def test_end_of_day_asked_twice_pushes_the_pre_reconciliation_once(world: World) -> None:
    """A participant that re-runs its day after a crash may ask again: nothing new."""
    world.send(beps(A, B))
    world.run()
    world.centre.end_of_day()
    first = [g.mt for g in world.received(A, pre_reconciliation=True)]
    assert "beps.726.001.01" in first and "hvps.716.001.01" in first
    world.centre.end_of_day()
    assert world.received(A, pre_reconciliation=True) == []


def test_a_later_package_waits_behind_one_already_queued(tmp_path: Path) -> None:
    """Limit 100, 90 in the round: 50 is queued, and a later 5 (which would fit) waits
    behind it rather than overtaking it; both enter the next round in order."""
    world = _world(tmp_path)
    for amount in ("90.00", "50.00", "5.00"):
        world.send(beps(A, B, (amount,)))
    world.run()
    queued = [s for s in _statuses(world, A) if s[0] == "ccms.900.001.02"]
    assert queued == [("ccms.900.001.02", "PR11", "NE1E0001")] * 2
    assert world.centre.close_round() == 1
    assert sorted((p.status, p.waiting) for p in world.books.payments()) == [
        ("PR00", "round"),
        ("PR00", "round"),
        ("PR03", None),
    ]
    world.close()
