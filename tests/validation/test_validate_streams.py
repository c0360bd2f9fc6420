"""``paymsg.validate`` (the API, not only the CLI) streams a large message (issue 10,
item 10): above ``ValidationConfig.stream_from_bytes`` a message whose type streams is
validated in chunks, without binding, with the findings of whole-message validation."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

import paymsg
from benchmarks.messages import beps121, pacs008
from paymsg.codec.stream import reader as stream
from tests.conftest import EXAMPLES

STREAM = paymsg.ValidationConfig(stream_from_bytes=0)
WHOLE = paymsg.ValidationConfig(stream_from_bytes=None)


def _keys(report: paymsg.Report) -> list[tuple[object, ...]]:
    return sorted(
        ((f.rule, f.layer, f.severity, f.path, f.line, f.value) for f in report.findings), key=str
    )


@pytest.fixture
def streamed(monkeypatch: pytest.MonkeyPatch) -> list[dict[str, Any]]:
    calls: list[dict[str, Any]] = []
    original = stream.iter_transactions

    def spy(*args: Any, **kwargs: Any) -> Any:
        calls.append(kwargs)
        return original(*args, **kwargs)

    monkeypatch.setattr(stream, "CHUNK", 7)
    monkeypatch.setattr(stream, "iter_transactions", spy)
    return calls


BEPS = beps121(40)
CASES = {
    "clean": BEPS,
    "count": BEPS.replace(b"<NbOfTxs>40</NbOfTxs>", b"<NbOfTxs>41</NbOfTxs>"),
    "detail": BEPS.replace(b"<TxId>2024031500000007</TxId>", b"<TxId>x</TxId><X/>"),
    "amount": re.sub(rb"(<Amt Ccy=\"CNY\">)[^<]*", rb"\g<1>-1", BEPS, count=3),
    "malformed": BEPS[: len(BEPS) // 2],
    "pacs.008": pacs008(30).replace(b"<ChrgBr>SLEV</ChrgBr>", b"<ChrgBr>XXXX</ChrgBr>", 1),
}


@pytest.mark.parametrize("data", CASES.values(), ids=CASES.keys())
def test_validate_api_streams_above_the_size_threshold_with_the_whole_findings(
    data: bytes, streamed: list[dict[str, Any]]
) -> None:
    whole = paymsg.validate(data, config=WHOLE)
    assert streamed == []
    report = paymsg.validate(data, config=STREAM)
    assert [call.get("bind") for call in streamed] == [False]  # streamed, nothing bound
    assert _keys(report) == _keys(whole)
    assert (report.ok, report.type, report.profile) == (whole.ok, whole.type, whole.profile)


def test_validate_api_streams_files_and_names_them(
    tmp_path: Path, streamed: list[dict[str, Any]]
) -> None:
    path = tmp_path / "package.xml"
    path.write_bytes(CASES["count"])
    config = paymsg.ValidationConfig(stream_from_bytes=path.stat().st_size - 1)
    progress: list[tuple[int, int]] = []
    report = paymsg.validate(path, config=config, progress=lambda *p: progress.append(p))
    assert len(streamed) == 1 and report.source == str(path)
    assert _keys(report) == _keys(paymsg.validate(path, config=WHOLE))
    assert progress[-1] == (path.stat().st_size, path.stat().st_size)


def test_validate_api_default_threshold_is_32_mib_and_none_never_streams(
    streamed: list[dict[str, Any]],
) -> None:
    assert paymsg.ValidationConfig().stream_from_bytes == 32 * 1024 * 1024
    paymsg.validate(BEPS)
    paymsg.validate(BEPS, config=paymsg.ValidationConfig(stream_from_bytes=len(BEPS)))
    paymsg.validate(BEPS, config=WHOLE)
    assert streamed == []


@pytest.mark.parametrize(
    "path",
    [
        EXAMPLES / "iso20022/pacs.002.001.10/cips-partial-acsc-rjct.xml",
        EXAMPLES / "cnaps2/hvps.111.001.01/customer-transfer-urgent.txt",
    ],
    ids=["pacs.002", "hvps.111"],
)
def test_validate_api_validates_whole_what_does_not_stream(
    path: Path, streamed: list[dict[str, Any]]
) -> None:
    report = paymsg.validate(path, config=STREAM)
    assert _keys(report) == _keys(paymsg.validate(path, config=WHOLE))


def test_validate_api_streams_cnaps2_text_with_its_header_rules(
    streamed: list[dict[str, Any]],
) -> None:
    text = (EXAMPLES / "cnaps2/beps.121.001.01/customer-credit-package.txt").read_bytes()
    broken = text.replace(b"<NbOfTxs>", b"<NbOfTxs>9", 1)
    report = paymsg.validate(broken, config=STREAM)
    assert streamed and _keys(report) == _keys(paymsg.validate(broken, config=WHOLE))
    assert not report.ok


def test_validate_api_does_not_stream_json(streamed: list[dict[str, Any]]) -> None:
    text = paymsg.to_json(paymsg.parse(BEPS))
    report = paymsg.validate(text.encode(), config=STREAM)
    assert streamed == [] and report.ok
