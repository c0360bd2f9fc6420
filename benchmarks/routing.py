"""Routing benchmark: ``python -m benchmarks routing [--n N] [--day-payments N] [--out FILE]``.

1. **decisions/s** on one core with a 50-rule set (24 counterparties × small/large, a
   CNY catch-all and a reject-all), on N generated payments: ``Router.decide`` without
   and with the explanation;
2. **floor**: the same 50 rules written as a plain Python if-chain, run on the same
   payments' features — the rule evaluation alone (:attr:`CompiledRuleSet.match` is
   timed beside it, the same work through the compiled rule set); the ratios
   compiled / if-chain and decide / if-chain are reported;
3. **the day**: ``paymsg hub run`` on the embedded defaults with ``--day-payments``
   payments (100,000 by default), in a child process: wall time and peak RSS.

Nothing here is asserted; the test suite never times anything.
"""

from __future__ import annotations

import argparse
import csv
import json
import platform
import random
import resource
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from paymsg.routing import (
    Facts,
    FactsConfig,
    Instruction,
    Participant,
    Router,
    compile_rules,
    parse_rules,
)

ROOT = Path(__file__).resolve().parent.parent
RESULTS = Path(__file__).resolve().parent / "results"
OURS = "102100099996"
BANKS = [f"{code:03d}100000{i:03d}" for i, code in enumerate(range(301, 325))]  # 24 banks
LIMIT = Decimal("50000.00")
NOW = datetime(2026, 12, 7, 10, 0)


def rules_toml() -> str:
    """50 rules: per counterparty a small (BEPS > HVPS) and a large (HVPS) rule, then a
    CNY catch-all and a reject-all."""
    out = ['name = "bench-50"']
    for i, bank in enumerate(BANKS):
        out += [
            "[[rules]]", f'name = "b{i}-small"', f"priority = {10 + i}",
            f'when = {{ currency = ["CNY"], creditor_bank = ["{bank}"], amount_max = "50000.00" }}',
            'then = { channels = ["BEPS", "HVPS"] }',
            "[[rules]]", f'name = "b{i}-large"', f"priority = {10 + i}",
            f'when = {{ currency = ["CNY"], creditor_bank = ["{bank}"], amount_min = "50000.01" }}',
            'then = { channels = ["HVPS"] }',
        ]  # fmt: skip
    out += [
        "[[rules]]", 'name = "other-cny"', "priority = 90", 'when = { currency = ["CNY"] }',
        'then = { channels = ["BEPS", "HVPS"] }',
        "[[rules]]", 'name = "rest"', "priority = 99", 'then = { reject = "not routed" }',
    ]  # fmt: skip
    return "\n".join(out) + "\n"


SMALL = Decimal("50000.00")
LARGE = Decimal("50000.01")


def if_chain(amount: Decimal, currency: str, creditor_bank: str) -> int:
    """The 50 rules, as a developer would write them by hand (returns the rule index)."""
    if currency == "CNY":
        if creditor_bank == "301100000000":
            return 0 if amount <= SMALL else 1 if amount >= LARGE else 48
        if creditor_bank == "302100000001":
            return 2 if amount <= SMALL else 3 if amount >= LARGE else 48
        if creditor_bank == "303100000002":
            return 4 if amount <= SMALL else 5 if amount >= LARGE else 48
        if creditor_bank == "304100000003":
            return 6 if amount <= SMALL else 7 if amount >= LARGE else 48
        if creditor_bank == "305100000004":
            return 8 if amount <= SMALL else 9 if amount >= LARGE else 48
        if creditor_bank == "306100000005":
            return 10 if amount <= SMALL else 11 if amount >= LARGE else 48
        if creditor_bank == "307100000006":
            return 12 if amount <= SMALL else 13 if amount >= LARGE else 48
        if creditor_bank == "308100000007":
            return 14 if amount <= SMALL else 15 if amount >= LARGE else 48
        if creditor_bank == "309100000008":
            return 16 if amount <= SMALL else 17 if amount >= LARGE else 48
        if creditor_bank == "310100000009":
            return 18 if amount <= SMALL else 19 if amount >= LARGE else 48
        if creditor_bank == "311100000010":
            return 20 if amount <= SMALL else 21 if amount >= LARGE else 48
        if creditor_bank == "312100000011":
            return 22 if amount <= SMALL else 23 if amount >= LARGE else 48
        if creditor_bank == "313100000012":
            return 24 if amount <= SMALL else 25 if amount >= LARGE else 48
        if creditor_bank == "314100000013":
            return 26 if amount <= SMALL else 27 if amount >= LARGE else 48
        if creditor_bank == "315100000014":
            return 28 if amount <= SMALL else 29 if amount >= LARGE else 48
        if creditor_bank == "316100000015":
            return 30 if amount <= SMALL else 31 if amount >= LARGE else 48
        if creditor_bank == "317100000016":
            return 32 if amount <= SMALL else 33 if amount >= LARGE else 48
        if creditor_bank == "318100000017":
            return 34 if amount <= SMALL else 35 if amount >= LARGE else 48
        if creditor_bank == "319100000018":
            return 36 if amount <= SMALL else 37 if amount >= LARGE else 48
        if creditor_bank == "320100000019":
            return 38 if amount <= SMALL else 39 if amount >= LARGE else 48
        if creditor_bank == "321100000020":
            return 40 if amount <= SMALL else 41 if amount >= LARGE else 48
        if creditor_bank == "322100000021":
            return 42 if amount <= SMALL else 43 if amount >= LARGE else 48
        if creditor_bank == "323100000022":
            return 44 if amount <= SMALL else 45 if amount >= LARGE else 48
        if creditor_bank == "324100000023":
            return 46 if amount <= SMALL else 47 if amount >= LARGE else 48
        return 48
    return 49


def payments(n: int, seed: int = 15) -> list[Instruction]:
    rng = random.Random(seed)
    out = []
    for i in range(n):
        amount = (
            Decimal(rng.choice((rng.randint(100, 4_999_999), rng.randint(5_000_000, 900_000_000))))
            / 100
        )
        out.append(
            Instruction(
                id=f"R{i:08d}", amount=amount, currency="CNY" if rng.random() < 0.97 else "USD",
                debtor_bank=OURS, creditor_bank=rng.choice(BANKS),
                debtor_account="6222", creditor_account="6217",
            )
        )  # fmt: skip
    return out


def facts() -> Facts:
    directory = [Participant(bank_code=b, direct=b, name=b) for b in BANKS]
    return Facts(FactsConfig(participant=OURS), directory)


def _rate(fn: Any, items: list[Any], repeat: int) -> float:
    best = float("inf")
    for _ in range(repeat):
        t0 = time.perf_counter()
        for item in items:
            fn(item)
        best = min(best, time.perf_counter() - t0)
    return len(items) / best


def decisions(n: int) -> dict[str, Any]:
    compiled = compile_rules(parse_rules(rules_toml()))
    assert len(compiled.rules) == 50
    router = Router(compiled, facts())
    items = payments(n)
    features = [router.features(p, NOW) for p in items]
    # the compiled chain and the hand-written one agree on every payment
    for p, f in zip(items, features, strict=True):
        assert compiled.match(**f) == if_chain(p.amount, p.currency, p.creditor_bank)
    decide = _rate(lambda p: router.decide(p, NOW), items, 3)
    explain = _rate(lambda p: router.decide(p, NOW, explain=True), items, 3)
    match = compiled.match
    compiled_rate = _rate(lambda f: match(**f), features, 5)
    floor = _rate(lambda p: if_chain(p.amount, p.currency, p.creditor_bank), items, 5)
    return {
        "payments": n,
        "rules": 50,
        "decide_per_s": round(decide),
        "decide_explained_per_s": round(explain),
        "compiled_match_per_s": round(compiled_rate),
        "if_chain_per_s": round(floor),
        "compiled_vs_if_chain": round(floor / compiled_rate, 2),
        "decide_vs_if_chain": round(floor / decide, 2),
    }


def day_file(path: Path, n: int) -> None:
    rng = random.Random(7)
    banks = ["105290036005", "103100000026", "105100000017", "313100000013", "102100024015"]
    with path.open("w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(["id", "amount", "currency", "debtor_name", "debtor_account", "debtor_bank",
                    "creditor_name", "creditor_account", "creditor_bank", "urgency"])  # fmt: skip
        for i in range(n):
            bank = rng.choices(banks, weights=(35, 35, 20, 5, 5))[0]
            cents = (
                rng.randint(100, 4_999_999)
                if rng.random() < 0.95
                else rng.randint(5_000_000, 500_000_000)
            )
            w.writerow([f"Y{i:08d}", f"{Decimal(cents) / 100:.2f}", "CNY", "付款人", "6222020",
                        "102100024015", "收款人", f"6217{i:012d}", bank, "normal"])  # fmt: skip


def whole_day(n: int, tmp: Path) -> dict[str, Any]:
    day = tmp / "day.toml"
    day_file(tmp / "payments.csv", n)
    ex = ROOT / "examples" / "routing"
    day.write_text(
        f'[day]\ndate = "2026-12-07"\nstart = "09:30"\npayments = "payments.csv"\n'
        f'rules = "{ex / "rules.toml"}"\nfacts = "{ex / "facts.toml"}"\nanswer_timeout = 3600\n'
    )
    code = (
        "import resource, sys, time\n"
        "from paymsg.cli import main\n"
        "t = time.perf_counter()\n"
        "try:\n    main()\nexcept SystemExit as e:\n    rc = e.code\n"
        "rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss\n"
        "print('BENCH', time.perf_counter() - t, rss, rc, file=sys.stderr)\n"
    )
    proc = subprocess.run(
        [sys.executable, "-c", code, "hub", "run", "--day", str(day),
         "--work-dir", str(tmp / "w"), "--json"],
        capture_output=True, text=True, cwd=tmp,
    )  # fmt: skip
    lines = proc.stderr.splitlines()
    line = [x for x in lines if x.startswith("BENCH")]
    if not line:
        return {"payments": n, "error": proc.stderr[-500:]}
    errors = [x for x in lines if x.startswith("error")]
    _, seconds, rss_kb, rc = line[-1].split()
    report = json.loads(proc.stdout) if proc.stdout.strip() else {}
    return {
        "payments": n,
        "seconds": round(float(seconds), 1),
        "peak_rss_mb": round(int(rss_kb) / 1024, 1),
        "exit": rc,
        "messages": sum(c.get("messages", 0) for c in report.get("channels", [])),
        "reconciliation_ok": [r.get("ok") for r in report.get("reconciliation", [])],
        "channels": report.get("channels", []),
        "received": report.get("received", []),
        **({"error": errors[-1]} if errors else {}),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks routing")
    parser.add_argument("--n", type=int, default=100_000, help="payments for the decision rates")
    parser.add_argument(
        "--day-payments", type=int, default=100_000, help="payments in the day (0: skip)"
    )
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args(argv)
    result: dict[str, Any] = {
        "when": datetime.now(UTC).isoformat(timespec="seconds"),
        "python": platform.python_version(),
        "machine": platform.machine(),
        "decisions": decisions(args.n),
    }
    print(json.dumps(result["decisions"], indent=2))
    if args.day_payments:
        with tempfile.TemporaryDirectory() as tmp:
            result["day"] = whole_day(args.day_payments, Path(tmp))
        print(json.dumps(result["day"], indent=2))
    result["bench_rss_mb"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)
    out = args.out or RESULTS / "routing.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
