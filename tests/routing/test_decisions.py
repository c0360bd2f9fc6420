"""Decisions from the example rules and facts, inputs and their errors, reload."""

from __future__ import annotations

import threading
from datetime import datetime
from decimal import Decimal
from pathlib import Path

import pytest

from paymsg.errors import ConfigError, InputError
from paymsg.routing import (
    Exposure,
    Facts,
    Instruction,
    Router,
    compile_rules,
    load_facts,
    load_rules,
    parse_rules,
    read_instructions,
    split_bucket,
)

EX = Path(__file__).parents[2] / "examples"
MONDAY_10 = datetime(2026, 12, 7, 10, 0)
MONDAY_18 = datetime(2026, 12, 7, 18, 0)
NATIONAL_DAY = datetime(2026, 10, 1, 10, 0)


@pytest.fixture(scope="module")
def router() -> Router:
    return Router(
        compile_rules(load_rules(EX / "routing" / "rules.toml"), version=1),
        Facts(load_facts(EX / "routing" / "facts.toml")),
    )


def pay(**kw: object) -> Instruction:
    values: dict[str, object] = {
        "id": "T1",
        "amount": "3200.50",
        "debtor_bank": "102100024015",
        "creditor_bank": "105290036005",
    }
    values.update(kw)
    return Instruction.model_validate(values)


def test_small_cny_goes_beps_as_beps121_to_the_direct_participant(router: Router) -> None:
    d = router.decide(pay(), MONDAY_10)
    assert (d.channel, d.message_type, d.status, d.receiver) == (
        "BEPS", "beps.121.001.01", "now", "105100000017",
    )  # fmt: skip
    assert d.execute_at == MONDAY_10 and d.rule == "normal" and d.ruleset_version == 1


def test_over_beps_limit_is_refused_with_the_amounts_and_goes_hvps(router: Router) -> None:
    d = router.decide(pay(amount="62000.00"), MONDAY_10, explain=True)
    assert d.channel == "HVPS" and d.message_type == "hvps.111.001.01" and d.status == "now"
    assert any(
        v.channel == "BEPS" and v.reason == "62,000.00 > single-item limit 50,000.00"
        for v in d.verdicts
    )
    assert "BEPS refused: 62,000.00 > single-item limit 50,000.00" in d.explain()
    assert "rule large-value: amount 62,000.00 < amount_min 1,000,000.00" in d.refused


def test_hvps_after_cutoff_is_queued_for_the_next_opening(router: Router) -> None:
    d = router.decide(pay(amount="1280000.00"), MONDAY_18)
    assert d.channel == "HVPS" and d.status == "queued"
    assert d.execute_at == datetime(2026, 12, 7, 20, 30)


def test_hvps_on_a_holiday_is_queued_to_the_eve_of_the_next_working_day(router: Router) -> None:
    d = router.decide(pay(amount="1280000.00"), NATIONAL_DAY)
    # 2026 National Day holiday runs to 7 October; the window for the 8th opens on the 7th
    assert d.status == "queued" and d.execute_at == datetime(2026, 10, 7, 20, 30)


def test_beps_runs_on_holidays(router: Router) -> None:
    assert router.decide(pay(), NATIONAL_DAY).status == "now"


def test_book_crossborder_reject(router: Router) -> None:
    assert router.decide(pay(creditor_bank="102100024015"), MONDAY_10).channel == "BOOK"
    x = router.decide(pay(currency="USD", creditor_bank="CHASUS33"), MONDAY_10)
    assert (x.channel, x.message_type) == ("XBORDER", "pacs.008.001.08")
    r = router.decide(pay(creditor_bank="402100000018"), MONDAY_10)
    assert r.status == "rejected" and r.rule == "suspended-counterparty"
    fi = router.decide(pay(kind="institution", amount="2000000"), MONDAY_10)
    assert fi.message_type == "hvps.112.001.01"


def test_urgent_falls_back_when_hvps_is_closed_and_counterparty_not_in_beps(router: Router) -> None:
    d = router.decide(pay(urgency="urgent", creditor_bank="313100000013"), MONDAY_18, explain=True)
    assert d.channel == "HVPS" and d.status == "queued"
    assert [v.verdict for v in d.verdicts] == ["closed", "refused"]
    assert "has not joined BEPS" in d.verdicts[1].reason


def test_counterparty_cap(router: Router) -> None:
    exposure = Exposure()
    exposure.add("103100000026", Decimal("9990000.00"))
    d = router.decide(
        pay(amount="20000.00", creditor_bank="103100000026"), MONDAY_10, exposure=exposure
    )
    assert d.status == "rejected"
    assert "cap for 103100000026: 9,990,000.00 sent + 20,000.00 > 10,000,000.00" in d.reason


def test_volume_split_is_deterministic_and_close_to_the_weights() -> None:
    rs = compile_rules(
        parse_rules(
            '[[rules]]\nname = "s"\npriority = 1\n'
            'then = { channels = ["BEPS", "HVPS"], split = { BEPS = 70, HVPS = 30 } }\n'
        )
    )
    r = Router(rs, Facts(load_facts(EX / "routing" / "facts.toml")))
    chosen = [r.decide(pay(id=f"P{i}"), MONDAY_10).channel for i in range(2000)]
    again = [r.decide(pay(id=f"P{i}"), MONDAY_10).channel for i in range(2000)]
    assert chosen == again
    assert 0.65 < chosen.count("BEPS") / 2000 < 0.75
    assert split_bucket("P1", "s") == split_bucket("P1", "s")


def test_reload_keeps_decisions_in_flight_on_their_rule_set(router: Router) -> None:
    facts = router.facts
    v1 = compile_rules(load_rules(EX / "routing" / "rules.toml"), version=1)
    v2 = compile_rules(
        parse_rules('[[rules]]\nname = "all-hvps"\npriority = 1\nthen = { channels = ["HVPS"] }\n'),
        version=2,
    )
    r = Router(v1, facts)
    seen: set[tuple[int | None, str | None]] = set()

    def work() -> None:
        for i in range(300):
            d = r.decide(pay(id=f"X{i}"), MONDAY_10)
            seen.add((d.ruleset_version, d.channel))

    threads = [threading.Thread(target=work) for _ in range(3)]
    for t in threads:
        t.start()
    r.swap(v2)
    for t in threads:
        t.join()
    assert seen <= {(1, "BEPS"), (2, "HVPS")}
    assert r.decide(pay(), MONDAY_10).ruleset_version == 2


def test_example_inputs_csv_and_messages() -> None:
    csv_rows = read_instructions(EX / "routing" / "payments.csv")
    assert [p.id for p in csv_rows][:2] == ["P0001", "P0002"]
    assert csv_rows[0].amount == Decimal("1280000.00")
    pacs = read_instructions(EX / "iso20022" / "pacs.008.001.08" / "cips-cny-batch.xml")
    assert len(pacs) == 2 and pacs[0].creditor_bank == "102290026253"
    pain = read_instructions(EX / "iso20022" / "pain.001.001.09" / "two-pmtinf-eur-usd.xml")
    assert {p.currency for p in pain} <= {"EUR", "USD"} and pain


def test_bad_csv_row_names_file_line_and_field(tmp_path: Path) -> None:
    path = tmp_path / "p.csv"
    banks = "102100099996,105100000017"
    path.write_text(f"id,amount,debtor_bank,creditor_bank\nA,1.00,{banks}\nB,abc,{banks}\n")
    with pytest.raises(InputError, match="row 3: field amount") as info:
        read_instructions(path)
    assert info.value.line == 3 and info.value.field == "amount"
    path.write_text("id,amount,colour\nA,1,red\n")
    with pytest.raises(InputError, match="unknown column"):
        read_instructions(path)


def test_json_float_amount_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "p.json"
    banks = '"debtor_bank": "102100099996", "creditor_bank": "105100000017"'
    path.write_text(f'[{{"id": "A", "amount": 0.1, {banks}}}]')
    with pytest.raises(InputError, match="fraction"):
        read_instructions(path)
    path.write_text(f'[{{"id": "A", "amount": "1", {banks}, "urgency": "now"}}]')
    with pytest.raises(InputError, match=r"payment #0: field urgency") as info:
        read_instructions(path)
    assert info.value.path == "[0]"


@pytest.mark.parametrize(
    ("cells", "field", "says"),
    [
        ("P1,1.001,CNY,102100099996", "amount", "a CNY amount has at most 2 decimal places"),
        ("P1,1e3,CNY,102100099996", "amount", "exponent notation"),
        ("P1," + "9" * 19 + ",CNY,102100099996", "amount", "more than 18 digits"),
        ("P1,1.000001,USD,102100099996", "amount", "more than 5 decimal places"),
        ("P1,1.00,CNY,12AB", "debtor_bank", "neither a 12-digit bank code nor a BIC"),
    ],
)
def test_an_amount_or_bank_no_message_could_carry_is_refused_with_its_row_and_field(
    tmp_path: Path, cells: str, field: str, says: str
) -> None:
    path = tmp_path / "p.csv"
    path.write_text(f"id,amount,currency,debtor_bank,creditor_bank\n{cells},105100000017\n")
    with pytest.raises(InputError, match=says) as info:
        read_instructions(path)
    assert info.value.line == 2 and info.value.field == field


def test_valid_amounts_and_agents_are_kept_as_written(tmp_path: Path) -> None:
    path = tmp_path / "p.csv"
    path.write_text(
        "id,amount,currency,debtor_bank,creditor_bank\n"
        "P1,1.10,CNY,102100099996,105100000017\n"
        "P2,0.12345,USD,102100099996,CHASUS33\n"
        "P3,100,CNY,102100099996,ICBKCNBJXXX\n"
    )
    got = read_instructions(path)
    assert [str(p.amount) for p in got] == ["1.10", "0.12345", "100"]
    assert [p.creditor_bank for p in got] == ["105100000017", "CHASUS33", "ICBKCNBJXXX"]


def test_a_payment_id_used_twice_in_a_file_is_refused(tmp_path: Path) -> None:
    # the hub keys a day's decisions, messages and answers by payment id: a second P1
    # would share the first one's and be lost
    banks = "102100099996,105100000017"
    path = tmp_path / "p.csv"
    path.write_text(f"id,amount,debtor_bank,creditor_bank\nP1,1.00,{banks}\nP1,2.00,{banks}\n")
    with pytest.raises(InputError, match=r"row 3: payment id 'P1' is used twice \(also row 2\)"):
        read_instructions(path)
    path = tmp_path / "p.json"
    one = '"debtor_bank": "102100099996", "creditor_bank": "105100000017"'
    path.write_text(f'[{{"id": "P1", "amount": "1", {one}}}, {{"id": "P1", "amount": "2", {one}}}]')
    with pytest.raises(InputError, match=r"payment #1: payment id 'P1' is used twice") as info:
        read_instructions(path)
    assert info.value.path == "[1]"


def test_year_without_calendar_data_is_a_config_error(router: Router) -> None:
    with pytest.raises(ConfigError, match="no PRC calendar data for 2031"):
        router.decide(pay(), datetime(2031, 3, 3, 10, 0))


def test_npc_business_date_from_the_journals_inbound_801(tmp_path: Path) -> None:
    from paymsg.journal import Journal
    from paymsg.routing import npc_business_date

    journal = Journal(f"sqlite:///{tmp_path / 'j.db'}")
    assert npc_business_date(journal) is None
    text = (EX / "cnaps2" / "ccms.801.001.02" / "hvps-business-preparation.txt").read_bytes()
    entry, _ = journal.record_inbound(text, queue="MSGTOBANK")
    found = npc_business_date(journal)
    assert found is not None and found[1] == entry.id
    import paymsg
    from paymsg.codec.json.engine import to_data

    expected = to_data(paymsg.parse(text).document)["SysStsNtfctn"]["SysStsInf"]["CurSysDt"]
    assert found[0].isoformat() == expected


def test_router_reloads_the_store_s_newly_activated_version(tmp_path: Path) -> None:
    from paymsg.journal import Journal
    from paymsg.routing.store import RoutingStore

    store = RoutingStore(Journal(f"sqlite:///{tmp_path / 'j.db'}").engine)
    v1 = store.store((EX / "routing" / "rules.toml").read_text(encoding="utf-8"))
    r = Router(store.activate(v1), Facts(load_facts(EX / "routing" / "facts.toml")))
    assert r.reload(store) is False
    v2 = store.store('[[rules]]\nname = "all"\npriority = 1\nthen = { channels = ["HVPS"] }\n')
    store.activate(v2)
    assert r.reload(store) is True
    assert r.decide(pay(), MONDAY_10).ruleset_version == v2


def test_a_later_requested_time_is_decided_for_that_time_and_waits(router: Router) -> None:
    d = router.decide(pay(requested_at="2026-12-07T19:00:00", amount="1280000"), MONDAY_10)
    # at 19:00 HVPS is closed: it waits for the 20:30 opening
    assert d.status == "queued" and d.execute_at == datetime(2026, 12, 7, 20, 30)
    later = router.decide(pay(requested_at="2026-12-07T15:00:00"), MONDAY_10)
    assert later.status == "queued" and later.execute_at == datetime(2026, 12, 7, 15, 0)
