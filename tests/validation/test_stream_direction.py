"""Streaming validation is driven from ``validation``: the codec's transaction iterator
knows nothing of validation, and the count / sum / total rules are one layout-driven
family, whose findings are the same streamed and whole."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import paymsg
from benchmarks.messages import beps121, pacs008
from paymsg.codec.stream import reader
from paymsg.validation import all_rules
from paymsg.validation.rules import totals

CODEC = Path(paymsg.__file__).parent / "codec"
STREAM = paymsg.ValidationConfig(stream_from_bytes=0)
WHOLE = paymsg.ValidationConfig(stream_from_bytes=None)


def _imports(path: Path) -> set[str]:
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module)
        elif isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
    return found


@pytest.mark.parametrize("path", sorted(CODEC.rglob("*.py")), ids=lambda p: p.name)
def test_codec_imports_nothing_from_validation(path: Path) -> None:
    assert not {m for m in _imports(path) if m.startswith("paymsg.validation")}


def test_the_totals_family_holds_every_count_sum_and_total_rule() -> None:
    ids = {r.id for r in all_rules() if r.func.__module__ == totals.__name__}
    assert (
        ids
        == totals.TOTAL_RULES
        == {
            "iso.grphdr.nb-of-txs",
            "iso.grphdr.ctrl-sum",
            "iso.grphdr.ttl-intr-bk-sttlm-amt",
            "cnaps2.beps.nb-of-txs",
            "cnaps2.beps.ctrl-sum",
        }
    )


def _found(data: bytes, config: paymsg.ValidationConfig) -> list[tuple[object, ...]]:
    report = paymsg.validate(data, config=config)
    return sorted(((f.rule, f.path, f.line, f.value, f.message) for f in report.findings), key=str)


@pytest.mark.parametrize(
    "data",
    [
        beps121(20).replace(b"<NbOfTxs>20<", b"<NbOfTxs>21<"),
        beps121(20).replace(b'<Amt Ccy="CNY">100.00<', b'<Amt Ccy="CNY">100.01<', 1),
        pacs008(12).replace(
            b"<NbOfTxs>12</NbOfTxs>",
            b'<NbOfTxs>13</NbOfTxs><CtrlSum>5</CtrlSum><TtlIntrBkSttlmAmt Ccy="USD">5'
            b"</TtlIntrBkSttlmAmt>",
        ),
    ],
    ids=["beps-count", "beps-sum", "pacs-all-three"],
)
def test_totals_streamed_in_chunks_are_the_whole_findings_messages_included(
    data: bytes, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(reader, "CHUNK", 3)
    whole = _found(data, WHOLE)
    assert {f[0] for f in whole} & totals.TOTAL_RULES
    assert _found(data, STREAM) == whole


def test_a_stream_without_a_watcher_validates_nothing() -> None:
    stream = reader.iter_transactions(beps121(5).replace(b"<NbOfTxs>5<", b"<NbOfTxs>6<"))
    assert len(list(stream)) == 5 and stream.report is None
    checked = paymsg.iter_transactions(
        beps121(5).replace(b"<NbOfTxs>5<", b"<NbOfTxs>6<"), validate=True
    )
    assert len(list(checked)) == 5
    assert [f.rule for f in checked.report.findings] == ["cnaps2.beps.nb-of-txs"]
