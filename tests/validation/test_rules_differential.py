"""The CNAPS2 rules give exactly the findings recorded before they were made faster (rule
id, layer, severity, path, line, value, messages en/zh, order), on every example and on
mutants made from them: a wrong bank code or the NPC's 0000 in every place a 12-digit code
stands, a foreign currency on every ``Ccy``, a third decimal on every amount, an unknown
code in every ``Prtry``, an impossible date in every 16-digit MsgId.

``data/rules_differential.json`` was written by this module with the code before the change
(a digest of each case's findings, and the count of findings as a cross-check); regenerate
it only for a deliberate change of behaviour::

    python -m tests.validation.test_rules_differential > tests/validation/data/rules_differential.json
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import re
import sys
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import paymsg
from paymsg.codec.detect import Unwrapped
from paymsg.validation.engine import validate_unwrapped
from tests.conftest import EXAMPLES

EXPECTED = Path(__file__).parent / "data" / "rules_differential.json"
WHOLE = paymsg.ValidationConfig(stream_from_bytes=None)

#: (name, pattern, replacement): each occurrence of ``pattern`` gives its own mutant, with
#: only that occurrence replaced (``\\1`` … refer to the pattern's groups)
MUTATIONS: tuple[tuple[str, re.Pattern[str], str], ...] = (
    # a 12-digit value standing alone in an element: a bank code, an account, …
    ("code-letters", re.compile(r">([0-9]{12})<"), ">1234567890AB<"),
    ("code-npc", re.compile(r">([0-9]{12})<"), ">0000<"),
    ("npc-short", re.compile(r">0000<"), ">000<"),
    ("ccy", re.compile(r'Ccy="([A-Z]{3})"'), 'Ccy="USD"'),
    ("ccy-lower", re.compile(r'Ccy="([A-Z]{3})"'), 'Ccy="cny"'),
    ("decimals", re.compile(r">([0-9]+\.[0-9]{2})<"), r">\g<1>7<"),
    ("decimals-zeros", re.compile(r">([0-9]+\.[0-9]{2})<"), r">\g<1>000<"),
    ("amount-exponent", re.compile(r">([0-9]+\.[0-9]{2})<"), ">10E+999999<"),
    ("amount-digits", re.compile(r">([0-9]+\.[0-9]{2})<"), ">" + "9" * 40 + ".00<"),
    ("text-amount", re.compile(r">CNY([+-]?[0-9])"), r">USD\1"),
    ("prtry", re.compile(r"<Prtry>([^<]*)<"), "<Prtry>Z9Z9<"),
    ("msgid-date", re.compile(r">(20[0-9]{6})([0-9]{8})<"), r">20241331\2<"),
)


def _examples() -> list[Path]:
    return sorted(
        p
        for p in EXAMPLES.glob("*/*/*")
        if p.suffix in (".xml", ".txt") and p.is_file() and not p.name.endswith(".signed.txt")
    )


def cases() -> Iterator[tuple[str, bytes]]:
    """Every example, then its mutants, as (name, text)."""
    for path in _examples():
        name = str(path.relative_to(EXAMPLES))
        text = path.read_text(encoding="utf-8")
        yield name, text.encode("utf-8")
        for kind, pattern, replacement in MUTATIONS:
            for index, match in enumerate(pattern.finditer(text)):
                mutant = text[: match.start()] + match.expand(replacement) + text[match.end() :]
                yield f"{name} {kind}#{index}", mutant.encode("utf-8")


def _rows(report: paymsg.Report) -> list[list[Any]]:
    return [
        [f.rule, f.layer, f.severity, f.path, f.line, f.value, f.message, f.message_zh]
        for f in report.findings
    ]


def _unwrapped(raw: bytes) -> paymsg.Report | None:
    """The centre's call (:func:`validate_unwrapped` from ``parse``'s inspect hook), when
    the text parses far enough to reach it."""
    reports: list[paymsg.Report] = []

    def check(text: bytes, opened: Unwrapped) -> None:
        reports.append(validate_unwrapped(text, opened, config=WHOLE))

    # a mutant the binding refuses after the hook has run raises: its report is kept
    with contextlib.suppress(paymsg.PaymsgError):
        paymsg.parse(raw, inspect=check)
    return reports[-1] if reports else None


def _digest(rows: list[list[Any]]) -> str:
    text = json.dumps(rows, ensure_ascii=False, sort_keys=True)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:20]


def actual() -> dict[str, list[Any]]:
    out: dict[str, list[Any]] = {}
    for name, raw in cases():
        rows = _rows(paymsg.validate(raw, config=WHOLE))
        out[name] = [len(rows), _digest(rows)]
        unwrapped = _unwrapped(raw) if raw.startswith(b"{H:") else None
        if unwrapped is not None:
            # the same findings as validate (checked here, on every case)
            assert _rows(unwrapped) == rows, name
    return out


def test_findings_are_those_recorded_before() -> None:
    expected = json.loads(EXPECTED.read_text(encoding="utf-8"))
    got = actual()
    assert sorted(got) == sorted(expected)
    different = [name for name in expected if got[name] != expected[name]]
    assert not different, different[:20]


def test_a_worker_pool_gives_the_single_threaded_findings() -> None:
    """The rules' shared caches (tags per set of names, message keys) hold no state of one
    validation: CNAPS2 mutants validated by four threads at once, each in its own order,
    give the findings of one thread."""
    chosen = [(name, raw) for name, raw in cases() if name.startswith("cnaps2/")][::7]
    alone = [_rows(paymsg.validate(raw, config=WHOLE)) for _, raw in chosen]

    def run(offset: int) -> list[tuple[int, list[list[Any]]]]:
        order = list(range(offset, len(chosen))) + list(range(offset))
        return [(i, _rows(paymsg.validate(chosen[i][1], config=WHOLE))) for i in order]

    with ThreadPoolExecutor(max_workers=4) as pool:
        runs = list(pool.map(run, [0, len(chosen) // 4, len(chosen) // 2, 3 * len(chosen) // 4]))
    for results in runs:
        for index, rows in results:
            assert rows == alone[index], chosen[index][0]


def test_the_mutants_change_findings() -> None:
    """Each kind of mutation changes the findings of some example (the test can fail)."""
    expected = json.loads(EXPECTED.read_text(encoding="utf-8"))
    changed = set()
    for name, value in expected.items():
        base, _, mutation = name.partition(" ")
        if mutation and value != expected[base]:
            changed.add(mutation.partition("#")[0])
    assert changed == {kind for kind, _, _ in MUTATIONS}


if __name__ == "__main__":
    json.dump(actual(), sys.stdout, indent=0)
    sys.stdout.write("\n")
