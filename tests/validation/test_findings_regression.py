"""The findings of every example message, and of a handful of mutated ones, are exactly
those recorded before the validation rooms were reorganised (rule id, layer, severity,
path, line, value, messages en/zh, and their order), whole and streamed.

``data/findings.json`` was generated with the code before the change; regenerate it only
for a deliberate change of behaviour::

    python -m tests.validation.test_findings_regression > tests/validation/data/findings.json
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path
from typing import Any

import paymsg
from benchmarks.messages import beps121, pacs008
from tests.conftest import EXAMPLES

EXPECTED = Path(__file__).parent / "data" / "findings.json"
WHOLE = paymsg.ValidationConfig(stream_from_bytes=None)
STREAM = paymsg.ValidationConfig(stream_from_bytes=0)

#: (example, [(pattern, replacement, count)]) — each pattern must match
MUTATIONS: dict[str, tuple[str, list[tuple[str, str, int]]]] = {
    "pacs008-count": (
        "iso20022/pacs.008.001.08/cips-cny-batch.xml",
        [("<NbOfTxs>2<", "<NbOfTxs>3<", 1)],
    ),
    "pacs008-sums": (
        "iso20022/pacs.008.001.08/cips-cny-batch.xml",
        [
            ("<CtrlSum>1643320.75<", "<CtrlSum>1643320.70<", 1),
            (">1643320.75</Ttl", ">1643321.75</Ttl", 1),
        ],
    ),
    "pacs008-currency": (
        "iso20022/pacs.008.001.08/cips-cny-batch.xml",
        [('<IntrBkSttlmAmt Ccy="CNY">356820.75<', '<IntrBkSttlmAmt Ccy="USD">356820.75<', 1)],
    ),
    "pacs008-no-amount": (
        "iso20022/pacs.008.001.08/cips-cny-batch.xml",
        [
            ('<IntrBkSttlmAmt Ccy="CNY">356820.75</IntrBkSttlmAmt>', "", 1),
            ("<NbOfTxs>2<", "<NbOfTxs>x<", 1),
        ],
    ),
    "pacs004-totals": (
        "iso20022/pacs.004.001.09/cips-cny-return-ac04.xml",
        [("<NbOfTxs>1<", "<NbOfTxs>2<", 1), (">88000.00</TtlRtrd", ">88000.01</TtlRtrd", 1)],
    ),
    "pain001-blocks": (
        "iso20022/pain.001.001.09/two-pmtinf-eur-usd.xml",
        [("<NbOfTxs>2<", "<NbOfTxs>1<", 1), (">7385.50<", ">7385.55<", 1)],
    ),
    "camt056-control": (
        "iso20022/camt.056.001.08/cny-cips-cust-bare.xml",
        [("<NbOfTxs>1<", "<NbOfTxs>4<", 1), ("<CtrlSum>1286500.00<", "<CtrlSum>1<", 1)],
    ),
    "beps121-count": (
        "cnaps2/beps.121.001.01/customer-credit-package.xml",
        [
            ("<NbOfTxs>3<", "<NbOfTxs>2<", 1),
            ('<Amt Ccy="CNY">3860.50<', '<Amt Ccy="CNY">-3860.50<', 1),
        ],
    ),
    "hvps111-count": (
        "cnaps2/hvps.111.001.01/customer-transfer-urgent.txt",
        [("<NbOfTxs>1<", "<NbOfTxs>2<", 1), (">CLRG<", ">INDA<", 1)],
    ),
    "camt053-balance": (
        "iso20022/camt.053.001.08/cny-corporate-small.xml",
        [('<Amt Ccy="CNY">1286500.00<', '<Amt Ccy="CNY">1286500.10<', 1)],
    ),
}


def _mutated(name: str) -> bytes:
    example, replacements = MUTATIONS[name]
    data = (EXAMPLES / example).read_text(encoding="utf-8")
    for pattern, replacement, count in replacements:
        data, done = re.subn(re.escape(pattern), replacement, data, count=count)
        assert done == count, (name, pattern)
    return data.encode("utf-8")


def _generated() -> dict[str, bytes]:
    """Large-ish generated messages, validated whole and streamed."""
    beps = beps121(30)
    pacs = pacs008(25).replace(
        b"<NbOfTxs>25</NbOfTxs>",
        b"<NbOfTxs>25</NbOfTxs><CtrlSum>1</CtrlSum>"
        b'<TtlIntrBkSttlmAmt Ccy="USD">1</TtlIntrBkSttlmAmt>',
    )
    return {
        "gen-beps121-totals": beps.replace(b"<NbOfTxs>30<", b"<NbOfTxs>31<").replace(
            b'<CtrlSum Ccy="CNY">', b'<CtrlSum Ccy="CNY">1', 1
        ),
        "gen-beps121-amount": beps.replace(b'<Amt Ccy="CNY">100.00<', b'<Amt Ccy="CNY">1<', 1),
        "gen-pacs008-totals": pacs,
        "gen-pacs008-currency": pacs.replace(b'SttlmAmt Ccy="USD">', b'SttlmAmt Ccy="EUR">', 3),
        "gen-pacs008-sum": pacs.replace(b"<CtrlSum>1<", b"<CtrlSum>x<").replace(
            b'Amt Ccy="USD">1</Ttl', b'Amt Ccy="USD">2600.00</Ttl'
        ),
    }


def _rows(report: paymsg.Report, *, messages: bool = True) -> list[list[Any]]:
    out = []
    for f in report.findings:
        row: list[Any] = [f.rule, f.layer, f.severity, f.path, f.line, f.value]
        if messages:
            row += [f.message, f.message_zh]
        out.append(row)
    return out


def _examples() -> list[Path]:
    return sorted(p for p in EXAMPLES.glob("*/*/*") if p.suffix in (".xml", ".txt") and p.is_file())


def actual() -> dict[str, Any]:
    out: dict[str, Any] = {}
    for path in _examples():
        out[str(path.relative_to(EXAMPLES))] = _rows(paymsg.validate(path, config=WHOLE))
    for name in MUTATIONS:
        out[name] = _rows(paymsg.validate(_mutated(name), config=WHOLE))
    for name, data in _generated().items():
        out[name] = _rows(paymsg.validate(data, config=WHOLE))
        # streamed: the same findings; compared without messages and in a stable order
        streamed = _rows(paymsg.validate(data, config=STREAM), messages=False)
        out[name + " (streamed)"] = sorted(streamed, key=str)
    return out


def test_findings_are_those_recorded_before() -> None:
    expected = json.loads(EXPECTED.read_text(encoding="utf-8"))
    got = json.loads(json.dumps(actual()))
    assert sorted(got) == sorted(expected)
    for key in expected:
        assert got[key] == expected[key], key


def test_the_mutations_are_caught() -> None:
    """Every mutated message has findings its original has not (the test can fail)."""
    expected = json.loads(EXPECTED.read_text(encoding="utf-8"))
    for name, (example, _) in MUTATIONS.items():
        assert expected[name] != expected[example], name


if __name__ == "__main__":
    json.dump(actual(), sys.stdout, ensure_ascii=False, indent=1)
    sys.stdout.write("\n")
