"""The routing benchmark keeps working (it times nothing here; see benchmarks/routing.py)."""

from __future__ import annotations

from benchmarks.routing import decisions, if_chain, payments, rules_toml
from paymsg.routing import check, parse_rules


def test_benchmark_rule_set_is_valid_and_the_if_chain_is_the_same_rules() -> None:
    assert check(parse_rules(rules_toml())).ok
    result = decisions(300)  # asserts compiled == if-chain on every payment
    assert result["rules"] == 50 and result["decide_per_s"] > 0 and result["if_chain_per_s"] > 0
    assert {if_chain(p.amount, p.currency, p.creditor_bank) for p in payments(300)} > {0, 49}
