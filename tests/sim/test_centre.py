"""The centre, driven through the embedded channel: what a participant gets back for
each kind of message, exactly."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from pathlib import Path

import pytest

import paymsg
from paymsg import cnaps2
from paymsg.codec.json.engine import from_data, to_data
from paymsg.sim.scenario import (
    DEFAULT_BALANCE,
    ClockConfig,
    Codes,
    DayConfig,
    HvpsConfig,
    ParticipantConfig,
    Scenario,
)

from .conftest import A, B, C, World, beps, header_of, hvps, make_world


def _assert_990(got, sent: bytes, code: str = "PM1I0000") -> None:
    original = header_of(sent)
    assert got.mt == "ccms.990.001.02"
    info = got.body()["ConfInf"]
    assert info == {
        "OrigSndr": original.orig_sender,
        "OrigSndDt": original.orig_send_date,
        "MT": original.mesg_type,
        "MsgId": original.mesg_id,
        "MsgRefId": original.mesg_ref_id,
        "MsgPrcCd": code,
    }
    assert got.header.orig_sender == "0000"
    assert got.header.orig_receiver == original.orig_sender
    assert got.header.mesg_direction == "D"


def test_hvps111_gets_990_then_604_and_is_forwarded(world: World) -> None:
    sent = hvps(A, B, "1280000.00")
    world.send(sent)
    world.run()
    to_a = world.received(A)
    assert [g.mt for g in to_a] == ["ccms.990.001.02", "saps.604.001.01"]
    _assert_990(to_a[0], sent)
    receipt = to_a[1].body()
    original_msg_id = header_of(sent)  # the header; the business id is the GrpHdr MsgId
    assert receipt["OrgnlGrpHdr"]["OrgnlInstgPty"] == A
    assert receipt["OrgnlGrpHdr"]["OrgnlMT"] == "hvps.111.001.01"
    assert receipt["NPCPrcInf"]["PrcSts"] == "PR04"
    assert receipt["NPCPrcInf"]["PrcCd"] == "CB1I0000"
    assert receipt["NPCPrcInf"]["SttlmDt"] == "2026-12-07"
    expected = DEFAULT_BALANCE - Decimal("1280000.00")
    assert receipt["AcctInf"]["Bal"] == f"CNY+{expected}"
    to_b = world.received(B)
    assert [g.mt for g in to_b] == ["hvps.111.001.01"]
    forward = to_b[0]
    assert forward.header.mesg_direction == "D"
    assert forward.header.orig_sender == A  # the originating bank stays the sender
    assert forward.header.orig_receiver == B
    assert forward.header.mesg_id.startswith("HVPD")
    assert forward.header.mesg_id != original_msg_id.mesg_id
    assert forward.message.document == paymsg.parse(sent).document
    balances = world.books.balances()
    assert balances[A] == expected
    assert balances[B] == DEFAULT_BALANCE + Decimal("1280000.00")


def test_hvps112_is_settled_like_111(world: World) -> None:
    sent = hvps(A, B, "50000000.00", mt="hvps.112.001.01")
    world.send(sent)
    world.run()
    assert [g.mt for g in world.received(A)] == ["ccms.990.001.02", "saps.604.001.01"]
    assert [g.mt for g in world.received(B)] == ["hvps.112.001.01"]
    (payment,) = world.books.payments()
    assert (payment.mt, payment.status, payment.tx_type) == ("hvps.112.001.01", "PR04", "A200")


def test_beps121_waits_for_the_round_then_is_netted(world: World) -> None:
    sent = beps(A, B, ("100.00", "250.50"))
    world.send(sent)
    world.run()
    to_a = world.received(A)
    assert [g.mt for g in to_a] == ["ccms.990.001.02"]
    assert world.received(B) == []
    assert world.centre.close_round() == 1
    (confirmation,) = world.received(A)
    assert confirmation.mt == "ccms.900.001.02"
    info = confirmation.body()["CmonConfInf"]
    assert info == {"PrcSts": "PR03", "PrcCd": "NEZI0000", "PrcDt": "2026-12-07", "NetgRnd": "01"}
    (forward,) = world.received(B)
    assert forward.mt == "beps.121.001.01"
    assert forward.header.mesg_direction == "D"
    assert forward.header.reserve == "XN       "
    npc = forward.body()["NPCPrcInf"]
    assert (npc["PrcSts"], npc["PrcCd"], npc["NetgDt"], npc["NetgRnd"]) == (
        "PR03",
        "NEZI0000",
        "2026-12-07",
        "01",
    )
    assert world.books.balances()[B] == DEFAULT_BALANCE + Decimal("350.50")
    # the next round has the next number
    world.send(beps(A, B))
    world.run()
    world.received(A)
    world.centre.close_round()
    (second,) = world.received(B)
    assert second.body()["NPCPrcInf"]["NetgRnd"] == "02"


def test_failed_checks_get_a_900_with_the_finding(world: World) -> None:
    text = hvps(A, B).replace(b"<SttlmMtd>CLRG</SttlmMtd>", b"<SttlmMtd>INDA</SttlmMtd>")
    world.send(text)
    world.run()
    ack, rejection = world.received(A)
    _assert_990(ack, text)
    assert rejection.mt == "ccms.900.001.02"
    info = rejection.body()["CmonConfInf"]
    assert info["PrcSts"] == "PR09"
    assert info["PrcCd"] == "CC1E0002"
    assert "SttlmMtd" in info["RjctInf"] or "CLRG" in info["RjctInf"]
    assert rejection.body()["OrgnlGrpHdr"]["OrgnlMT"] == "hvps.111.001.01"
    assert world.received(B) == []
    (payment,) = world.books.payments()
    assert payment.status == "PR09"


def test_a_message_on_another_banks_queue_is_refused(world: World) -> None:
    world.send(hvps(A, B), bank=B)
    world.run()
    ack, rejection = world.received(B)
    assert ack.mt == "ccms.990.001.02"
    assert rejection.body()["CmonConfInf"]["PrcSts"] == "PR09"
    assert "queue" in rejection.body()["CmonConfInf"]["RjctInf"]


def test_unknown_receiver_is_refused(world: World) -> None:
    world.send(hvps(A, C))
    world.run()
    _, rejection = world.received(A)
    assert rejection.body()["CmonConfInf"]["PrcCd"] == "CC1E0003"


def test_the_same_payment_under_a_new_mesgid_is_refused(world: World) -> None:
    first = hvps(A, B, n=900001)
    again = first.replace(header_of(first).mesg_id.encode(), b"RESENT00000000000001")
    world.send(first)
    world.send(again)
    world.run()
    mts = [(g.mt, g.body().get("CmonConfInf", {}).get("PrcSts")) for g in world.received(A)]
    assert mts == [
        ("ccms.990.001.02", None),
        ("saps.604.001.01", None),
        ("ccms.990.001.02", None),
        ("ccms.900.001.02", "PR09"),
    ]
    assert len(world.received(B)) == 1


def test_a_copy_is_answered_again_and_processed_once(world: World) -> None:
    sent = hvps(A, B)
    for _ in range(3):
        world.send(sent)
    world.run()
    mts = [g.mt for g in world.received(A)]
    assert mts.count("ccms.990.001.02") == 3
    assert mts.count("saps.604.001.01") == 1
    assert len(world.received(B)) == 1
    (row,) = world.books.messages(direction="in", mt="hvps.111.001.01")
    assert row.copies == 3


def test_copies_can_be_answered_with_911(tmp_path: Path) -> None:
    world = make_world(tmp_path, Scenario(codes=Codes(duplicate_reply="911")))
    sent = hvps(A, B)
    world.send(sent)
    world.send(sent)
    world.run()
    mts = [g.mt for g in world.received(A)]
    assert mts == ["ccms.990.001.02", "saps.604.001.01", "ccms.911.001.02"]
    world.close()


def test_unreadable_body_gets_the_error_code_or_a_911(tmp_path: Path) -> None:
    text = hvps(A, B)
    broken = text[: text.index(b"<Document")] + b"<Document><not closed"
    world = make_world(tmp_path / "a", Scenario())
    world.send(broken)
    world.run()
    (ack,) = world.received(A)
    _assert_990(ack, broken, code="PM1E0001")
    world.close()
    world = make_world(tmp_path / "b", Scenario(codes=Codes(unreadable_reply="911")))
    world.send(broken)
    world.run()
    (discard,) = world.received(A)
    assert discard.mt == "ccms.911.001.02"
    assert discard.body()["DscrdInf"]["MsgId"] == header_of(broken).mesg_id
    world.close()


def test_unreadable_header_gets_a_911_and_is_kept(world: World) -> None:
    world.send(b"{H:02 this is not a header}\r\n<Document/>")
    world.run()
    (discard,) = world.received(A)
    assert discard.mt == "ccms.911.001.02"
    assert discard.body()["DscrdInf"]["OrigSndr"] == A
    (row,) = world.books.messages(direction="in")
    assert row.status == "unreadable"
    assert row.raw.startswith(b"{H:02 this")


def test_short_balance_queues_with_604_pr12_then_settles(tmp_path: Path) -> None:
    scenario = Scenario(participants={A: ParticipantConfig(balance=Decimal("500.00"))})
    world = make_world(tmp_path, scenario)
    queued = hvps(A, B, "800.00")
    world.send(queued)
    world.run()
    ack, receipt = world.received(A)
    _assert_990(ack, queued)
    assert receipt.body()["NPCPrcInf"]["PrcSts"] == "PR12"
    assert receipt.body()["AcctInf"]["Bal"] == "CNY+500.00"
    assert world.received(B) == []
    # B pays A 400: A can now pay B 800 (500 + 400 = 900)
    world.send(hvps(B, A, "400.00"), bank=B)
    world.run()
    to_a = world.received(A)
    assert [g.mt for g in to_a] == ["hvps.111.001.01", "saps.604.001.01"]
    assert to_a[1].body()["NPCPrcInf"]["PrcSts"] == "PR04"
    assert to_a[1].body()["AcctInf"]["Bal"] == "CNY+100.00"
    assert [g.mt for g in world.received(B)] == [
        "ccms.990.001.02",
        "saps.604.001.01",
        "hvps.111.001.01",
    ]
    assert world.books.balances()[A] == Decimal("100.00")
    world.close()


def test_short_balance_can_be_refused(tmp_path: Path) -> None:
    scenario = Scenario(
        participants={A: ParticipantConfig(balance=Decimal("10.00"))},
        hvps=HvpsConfig(short_balance="refuse"),
    )
    world = make_world(tmp_path, scenario)
    world.send(hvps(A, B, "800.00"))
    world.run()
    _, rejection = world.received(A)
    assert rejection.mt == "ccms.900.001.02"
    assert rejection.body()["CmonConfInf"]["PrcCd"] == "SA1E0001"
    assert world.books.balances()[A] == Decimal("10.00")
    world.close()


def test_outside_the_window_refused_or_queued(tmp_path: Path) -> None:
    evening = datetime(2026, 12, 7, 18, 0, 0)
    world = make_world(tmp_path / "r", Scenario(clock=ClockConfig(start=evening)))
    world.send(hvps(A, B))
    world.run()
    _, rejection = world.received(A)
    assert rejection.body()["CmonConfInf"]["PrcCd"] == "HV1E0001"
    world.close()
    queueing = Scenario(
        clock=ClockConfig(start=evening, business_date=date(2026, 12, 7)),
        hvps=HvpsConfig(outside_window="queue"),
    )
    world = make_world(tmp_path / "q", queueing)
    world.send(hvps(A, B))
    world.run()
    assert [g.mt for g in world.received(A)] == ["ccms.990.001.02"]
    world.clock.set(datetime(2026, 12, 7, 20, 31))
    world.run()
    to_a = world.received(A)
    assert [g.mt for g in to_a] == ["ccms.801.001.02", "ccms.801.001.02", "saps.604.001.01"]
    assert [g.mt for g in world.received(B)][-1] == "hvps.111.001.01"
    world.close()


def test_date_switch_announces_801_to_everyone(world: World) -> None:
    assert world.centre.switch_date() == date(2026, 12, 8)
    for bank in (A, B):
        got = world.received(bank)
        assert [g.mt for g in got] == ["ccms.801.001.02"] * 2
        info = got[0].body()["SysStsInf"]
        assert (info["OrgnlSysDt"], info["CurSysDt"]) == ("2026-12-07", "2026-12-08")
        assert {g.body()["GrpHdr"]["SysCd"] for g in got} == {"HVPS", "BEPS"}
    assert world.books.state("business_date") == "2026-12-08"


def test_clock_runs_end_of_day_and_date_switch(world: World) -> None:
    world.send(beps(A, B))
    world.run()
    world.received(A)
    world.clock.set(datetime(2026, 12, 7, 17, 31))
    world.run()
    assert "ccms.900.001.02" in [g.mt for g in world.received(A)]  # the round closed
    world.clock.set(datetime(2026, 12, 7, 20, 31))
    world.run()
    assert [g.mt for g in world.received(B)][-2:] == ["ccms.801.001.02"] * 2
    assert world.centre.business_date == date(2026, 12, 8)


def test_unsupported_type_is_refused(world: World) -> None:
    # a ccms.900 is something only the NPC sends; from a participant it is not processed
    template = paymsg.parse(
        Path(__file__).resolve().parents[2]
        / "examples/cnaps2/ccms.900.001.02/reject-hvps111-not-logged-in.txt"
    )
    data = to_data(template.document)
    group = data["CmonConf"]["GrpHdr"]
    group["InstgPty"] = {"InstgDrctPty": A, "InstgPty": A}
    group["InstdPty"] = {"InstdDrctPty": "0000", "InstdPty": "0000"}
    document = from_data(type(template.document), data)
    text = paymsg.serialize(
        cnaps2.wrap(document, type="ccms.900.001.02", sender=A, receiver="0000", direction="U")
    )
    world.send(text)
    world.run()
    ack, rejection = world.received(A)
    _assert_990(ack, text)
    info = rejection.body()["CmonConfInf"]
    assert (info["PrcSts"], info["PrcCd"]) == ("PR09", "CC1E0004")
    assert "ccms.900.001.02" in info["RjctInf"]


def test_participant_990_confirms_the_forward(world: World) -> None:
    world.send(hvps(A, B))
    world.run()
    world.received(A)
    (forward,) = world.received(B)
    from paymsg.transport.session import build_confirmation

    confirmation = build_confirmation(forward.header, "PM1I0000", participant=B)
    world.send(
        confirmation if isinstance(confirmation, bytes) else paymsg.serialize(confirmation), bank=B
    )
    world.run()
    assert world.received(B) == []  # a 990 is never answered
    (row,) = world.books.messages(direction="out", mesg_id=forward.header.mesg_id)
    assert row.status == "confirmed"


def test_every_message_the_centre_sends_is_valid(tmp_path: Path) -> None:
    scenario = Scenario(participants={A: ParticipantConfig(balance=Decimal("1500.00"))})
    world = make_world(tmp_path, scenario)
    texts = [hvps(A, B, "1000.00"), hvps(A, B, "900.00"), beps(A, B), hvps(A, C)]
    texts.append(hvps(A, B).replace(b"CLRG", b"INDA"))
    texts.append(texts[0])
    for text in texts:
        world.send(text)
    world.send(b"{H:garbage}")
    world.run()
    world.centre.close_round()
    world.centre.end_of_day()
    world.centre.switch_date()
    sent = world.books.messages(direction="out")
    kinds = {row.mt for row in sent}
    assert {
        "ccms.990.001.02",
        "saps.604.001.01",
        "ccms.900.001.02",
        "ccms.911.001.02",
        "ccms.801.001.02",
        "hvps.111.001.01",
        "beps.121.001.01",
    } <= kinds
    for row in sent:
        report = paymsg.validate(row.raw)
        assert report.ok, (row.mt, [f.message for f in report.findings])
    world.close()


@pytest.mark.parametrize("spec", ["12345", "102100099996:ONLYONE", "102100099996::X"])
def test_bad_participant_spec(spec: str) -> None:
    from paymsg.errors import InputError
    from paymsg.sim.scenario import parse_participant

    with pytest.raises(InputError, match="participant"):
        parse_participant(spec)


def test_990s_in_a_batch_with_a_payment(world: World) -> None:
    from paymsg.transport.session import build_confirmation

    for amount in ("1.00", "2.00"):
        world.send(hvps(A, B, amount))
    world.run()
    world.received(A)
    forwards = world.received(B)
    for forward in forwards:  # B confirms both forwards and pays A, all in one batch
        world.send(build_confirmation(forward.header, "PM1I0000", participant=B), bank=B)
    world.send(hvps(B, A, "3.00"), bank=B)
    world.run()
    assert [g.mt for g in world.received(B)] == ["ccms.990.001.02", "saps.604.001.01"]
    statuses = {
        row.status
        for f in forwards
        for row in world.books.messages(direction="out", mesg_id=f.header.mesg_id)
    }
    assert statuses == {"confirmed"}


def test_signatures_are_checked_when_the_scenario_has_the_key(tmp_path: Path) -> None:
    from .conftest import SIGNING_PROFILES, TEST_KEYS, signed

    scenario = Scenario(
        participants={A: ParticipantConfig(public_key=TEST_KEYS["public_key"])},
        signing_profiles=str(SIGNING_PROFILES),
    )
    world = make_world(tmp_path, scenario)
    good, _, _ = signed(hvps(A, B, "10.00"))
    bad_text, _, _ = signed(hvps(A, B, "20.00"))
    bad = bad_text.replace(b"20.00</IntrBkSttlmAmt>", b"21.00</IntrBkSttlmAmt>")  # tampered
    world.send(good)
    world.send(bad)
    world.run()
    got = [(g.mt, g.body().get("CmonConfInf", {}).get("PrcCd")) for g in world.received(A)]
    assert got == [
        ("ccms.990.001.02", None),
        ("saps.604.001.01", None),
        ("ccms.990.001.02", None),
        ("ccms.900.001.02", "CC1E0005"),
    ]
    assert len(world.received(B)) == 1
    world.close()


def test_bad_control_commands_are_dead_lettered(world: World) -> None:
    from paymsg.sim.centre import CONTROL_QUEUE

    for body in (b"not json", b'{"command": "advance", "seconds": "soon"}', b'{"command": "fly"}'):
        world.channel.put(CONTROL_QUEUE, body)
    world.run()
    assert world.channel.depth(f"{CONTROL_QUEUE}.dlq") == 3
    assert world.centre.events.counts["bad_command"] == 3
    world.channel.put(CONTROL_QUEUE, b'{"command": "advance", "seconds": 3600}')
    world.run()
    assert world.clock.now() >= datetime(2026, 12, 7, 10, 0)


def test_prc_calendar_skips_weekends_and_holidays(tmp_path: Path) -> None:
    """``day.calendar = "prc"``: Friday's next business date is Monday (or the day after a
    holiday given in ``day.holidays``), and the ccms.801 says so with its own HldayFlg."""
    friday = datetime(2026, 12, 11, 20, 30)
    scenario = Scenario(
        clock=ClockConfig(start=friday, business_date=date(2026, 12, 11)),
        day=DayConfig(calendar="prc", holiday_flag_after_skip="HF00"),
    )
    world = make_world(tmp_path / "prc", scenario)
    assert world.centre.switch_date() == date(2026, 12, 14)
    info = world.received(A)[0].body()["SysStsInf"]
    assert (info["CurSysDt"], info["NxtSysDt"], info["HldayFlg"]) == (
        "2026-12-14",
        "2026-12-15",
        "HF00",
    )
    world.close()
    holiday = Scenario(
        clock=ClockConfig(start=friday, business_date=date(2026, 12, 11)),
        day=DayConfig(calendar="prc", holidays=(date(2026, 12, 14),)),
    )
    world = make_world(tmp_path / "holiday", holiday)
    assert world.centre.switch_date() == date(2026, 12, 15)
    world.close()
    assert DayConfig().next_business_date(date(2026, 12, 11)) == date(2026, 12, 12)
