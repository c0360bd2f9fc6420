"""`paymsg validate` and `paymsg rules list` from the outside."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from lxml import etree
from typer.testing import CliRunner

from paymsg.cli import app
from tests.conftest import EXAMPLES

runner = CliRunner()
GOOD = EXAMPLES / "iso20022/pacs.008.001.08/cips-cny-batch.xml"


def run(*args: object):  # type: ignore[no-untyped-def]
    return runner.invoke(app, [str(a) for a in args], catch_exceptions=False)


def _bad(tmp_path: Path) -> Path:
    bad = tmp_path / "bad.xml"
    bad.write_bytes(GOOD.read_bytes().replace(b"<NbOfTxs>2</NbOfTxs>", b"<NbOfTxs>3</NbOfTxs>"))
    return bad


def test_every_example_validates_clean() -> None:
    result = run("validate", EXAMPLES)
    assert result.exit_code == 0, result.stdout
    assert "0 failed" in result.stdout


def test_findings_exit_1_with_a_table(tmp_path: Path) -> None:
    result = run("validate", _bad(tmp_path))
    assert result.exit_code == 1
    assert "iso.grphdr.nb-of-txs" in result.stdout and "NbOfTxs is 3" in result.stdout


def test_unreadable_exit_2(tmp_path: Path) -> None:
    broken = tmp_path / "broken.xml"
    broken.write_bytes(b"<Document><oops></Document>")
    result = run("validate", broken, GOOD)
    assert result.exit_code == 2
    assert "safety.malformed-xml" in result.stdout


def test_fail_on_warning(tmp_path: Path) -> None:
    # a settlement date before the creation date is a warning
    late = tmp_path / "late.xml"
    late.write_bytes(
        GOOD.read_bytes().replace(b"<IntrBkSttlmDt>2026-04-08", b"<IntrBkSttlmDt>2026-01-08")
    )
    result = run("validate", late, "--json")
    findings = json.loads(result.stdout)[0]["findings"]
    assert [f["rule"] for f in findings] == ["iso.date.sttlm-before-creation"]
    assert findings[0]["severity"] == "warning"
    assert result.exit_code == 0
    assert run("validate", late, "--fail-on", "warning").exit_code == 1


def test_json_and_lang_zh(tmp_path: Path) -> None:
    bad = _bad(tmp_path)
    data = json.loads(run("validate", bad, "--json").stdout)
    assert data[0]["ok"] is False and data[0]["type"] == "pacs.008.001.08"
    finding = data[0]["findings"][0]
    assert {"rule", "layer", "severity", "path", "line", "value", "message", "message_zh"} <= set(
        finding
    )
    assert "笔" in run("validate", bad, "--lang", "zh").stdout


def test_junit_report(tmp_path: Path) -> None:
    junit = tmp_path / "out.xml"
    result = run("validate", GOOD, _bad(tmp_path), "--junit", junit)
    assert result.exit_code == 1
    suite = etree.parse(str(junit)).getroot()
    assert suite.get("tests") == "2" and suite.get("failures") == "1"
    assert len(suite.findall("testcase/failure")) == 1


def test_directory_glob_and_progress(tmp_path: Path) -> None:
    folder = tmp_path / "many"
    folder.mkdir()
    for index in range(12):
        shutil.copy(GOOD, folder / f"m{index:02}.xml")
    result = run("validate", folder)
    assert result.exit_code == 0 and "12 file(s)" in result.stdout
    result = run("validate", str(folder / "m0*.xml"))
    assert "10 file(s)" in result.stdout


def test_cnaps_body_with_forced_type() -> None:
    body = EXAMPLES / "cnaps2/hvps.111.001.01/customer-transfer-urgent.xml"
    result = run("validate", body, "--type", "hvps.111.001.01", "--json")
    assert result.exit_code == 0
    assert json.loads(result.stdout)[0]["type"] == "hvps.111.001.01"


def test_rules_list() -> None:
    result = run("rules", "list", "--json")
    assert result.exit_code == 0
    rows = json.loads(result.stdout)
    ids = {r["id"] for r in rows}
    assert {"xsd.content", "safety.unsafe-xml", "iso.grphdr.nb-of-txs"} <= ids
    assert all(r["doc"] for r in rows)


BROKEN_COUNT = (b"<NbOfTxs>300</NbOfTxs>", b"<NbOfTxs>299</NbOfTxs>")
BROKEN_DETAIL = (b"<TxId>2024031500000007</TxId>", b"<TxId>2024031500000007</TxId><X/>")


@pytest.mark.parametrize(
    ("change", "rules"),
    [
        (BROKEN_COUNT, ["cnaps2.beps.nb-of-txs"]),
        (BROKEN_DETAIL, ["xsd.content"]),  # a detail that does not bind: still streamed
    ],
    ids=["count", "detail"],
)
def test_large_files_are_streamed(tmp_path: Path, monkeypatch, change, rules) -> None:  # type: ignore[no-untyped-def]
    from benchmarks.messages import beps121
    from paymsg.cli import validate as validate_cli
    from paymsg.codec.stream import reader as stream

    monkeypatch.setattr(validate_cli, "STREAM_FROM", 10_000)
    streamed: list[object] = []
    original = stream.iter_transactions

    def spy(*args, **kwargs):  # type: ignore[no-untyped-def]
        streamed.append(args[0])
        return original(*args, **kwargs)

    monkeypatch.setattr(stream, "iter_transactions", spy)
    big = tmp_path / "big.xml"
    big.write_bytes(beps121(300).replace(*change))
    result = run("validate", big, "--json")
    assert result.exit_code == 1
    [report] = json.loads(result.stdout)
    assert sorted(f["rule"] for f in report["findings"]) == rules
    assert streamed == [big]
