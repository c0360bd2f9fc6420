"""Rule-set checks: each refusal names the rule(s); the compiled chain agrees with the
explaining evaluator."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest

from paymsg.errors import ConfigError, RuleSetError
from paymsg.routing import check, compile_rules, load_rules, parse_rules

EXAMPLE = Path(__file__).parents[2] / "examples" / "routing" / "rules.toml"

CATCH_ALL = """
[[rules]]
name = "catch-all"
priority = 99
then = { reject = "no route" }
"""


def test_example_rule_set_passes_every_check() -> None:
    result = check(load_rules(EXAMPLE))
    assert result.ok, result.problems()


def test_conflicting_rules_are_refused_naming_both() -> None:
    rs = parse_rules(
        """
[[rules]]
name = "big-hvps"
priority = 10
when = { amount_min = "100000" }
then = { channels = ["HVPS"] }
[[rules]]
name = "cny-beps"
priority = 10
when = { currency = ["CNY"] }
then = { channels = ["BEPS"] }
"""
        + CATCH_ALL
    )
    result = check(rs)
    assert len(result.conflicts) == 1
    assert "'big-hvps'" in result.conflicts[0] and "'cny-beps'" in result.conflicts[0]
    assert "currency=CNY" in result.conflicts[0]
    with pytest.raises(RuleSetError, match="big-hvps") as info:
        compile_rules(rs)
    assert info.value.exit_code == 1


def test_same_priority_same_action_or_disjoint_is_not_a_conflict() -> None:
    rs = parse_rules(
        """
[[rules]]
name = "small"
priority = 10
when = { amount_max = "50000.00" }
then = { channels = ["BEPS"] }
[[rules]]
name = "large"
priority = 10
when = { amount_min = "50000.01" }
then = { channels = ["HVPS"] }
"""
        + CATCH_ALL
    )
    assert check(rs).conflicts == []


def test_shadowed_rule_is_unreachable_naming_the_rules_that_take_its_payments() -> None:
    rs = parse_rules(
        """
[[rules]]
name = "cny-small"
priority = 10
when = { currency = ["CNY"], amount_max = "1000" }
then = { channels = ["BEPS"] }
[[rules]]
name = "cny-large"
priority = 20
when = { currency = ["CNY"], amount_min = "500" }
then = { channels = ["HVPS"] }
[[rules]]
name = "cny-mid"
priority = 30
when = { currency = ["CNY"], amount_min = "800", amount_max = "900" }
then = { channels = ["BEPS"] }
"""
        + CATCH_ALL
    )
    result = check(rs)
    assert len(result.unreachable) == 1
    text = result.unreachable[0]
    assert "'cny-mid' is shadowed" in text and "'cny-small'" in text
    with pytest.raises(RuleSetError, match="cny-mid"):
        compile_rules(rs)


def test_impossible_condition_is_unreachable() -> None:
    rs = parse_rules(
        """
[[rules]]
name = "backwards"
priority = 10
when = { amount_min = "1000", amount_max = "10" }
then = { channels = ["BEPS"] }
"""
        + CATCH_ALL
    )
    result = check(rs)
    assert result.unreachable == [
        "rule 'backwards' can never match: amount_min 1,000 > amount_max 10"
    ]


def test_gap_is_refused_naming_the_uncovered_payments() -> None:
    rs = parse_rules(
        """
[[rules]]
name = "cny"
priority = 10
when = { currency = ["CNY"], amount_max = "50000" }
then = { channels = ["BEPS"] }
[[rules]]
name = "usd"
priority = 10
when = { currency = ["USD"] }
then = { channels = ["XBORDER"] }
"""
    )
    result = check(rs)
    assert not result.conflicts and not result.unreachable
    joined = "\n".join(result.gaps)
    assert "currency=CNY, amount in (50,000, ∞)" in joined
    assert "currency=(any other)" in joined
    with pytest.raises(RuleSetError, match="gap"):
        compile_rules(rs)


def test_time_windows_that_wrap_midnight_cover_the_day() -> None:
    rs = parse_rules(
        """
[[rules]]
name = "night"
priority = 10
when = { time_from = "20:30", time_to = "08:00" }
then = { channels = ["BEPS"] }
[[rules]]
name = "day"
priority = 10
when = { time_from = "08:00", time_to = "20:30" }
then = { channels = ["HVPS"] }
"""
    )
    assert check(rs).ok


def test_bad_rule_file_is_a_located_config_error(tmp_path: Path) -> None:
    path = tmp_path / "r.toml"
    path.write_text('[[rules]]\nname = "x"\npriority = 1\nthen = { channels = ["FAX"] }\n')
    with pytest.raises(ConfigError, match=r"rules\.0\.then\.channels.*rule 'x'") as info:
        load_rules(path)
    assert info.value.source == str(path)
    path.write_text("[[rules]\n")
    with pytest.raises(ConfigError, match="not valid TOML"):
        load_rules(path)


def test_split_must_add_up_to_100() -> None:
    with pytest.raises(ConfigError, match="add up to 100"):
        parse_rules(
            '[[rules]]\nname = "s"\npriority = 1\n'
            'then = { channels = ["BEPS", "HVPS"], split = { BEPS = 70, HVPS = 20 } }\n'
        )


def test_compiled_chain_agrees_with_explaining_evaluator() -> None:
    compiled = compile_rules(load_rules(EXAMPLE))
    base = {
        "currency": "CNY", "urgency": "normal", "purpose": "02102", "business_type": "A100",
        "creditor": "domestic", "creditor_bank": "105290036005", "counterparty_status": "active",
        "minute": 600, "business_day": True,
    }  # fmt: skip
    for amount in ("0.01", "49999.99", "50000.00", "999999.99", "1000000.00", "5e9"):
        for creditor in ("own", "domestic", "foreign"):
            for currency in ("CNY", "USD", "XAU"):
                for status in ("active", "suspended", "unknown"):
                    f = dict(
                        base,
                        amount=Decimal(amount),
                        creditor=creditor,
                        currency=currency,
                        counterparty_status=status,
                    )
                    assert compiled.match(**f) == compiled.explain(f)[0], f
