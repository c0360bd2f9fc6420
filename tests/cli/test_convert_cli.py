"""`paymsg convert --to TYPE` from the outside: hub conversion, loss table, --strict, exit codes."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

import paymsg
from paymsg.cli import app
from tests.conftest import EXAMPLES

runner = CliRunner()
HVPS = EXAMPLES / "cnaps2/hvps.111.001.01/customer-transfer-urgent.txt"
CBPR = EXAMPLES / "iso20022/pacs.008.001.08/cips-cny-batch.xml"


def run(*args: object):  # type: ignore[no-untyped-def]
    return runner.invoke(app, [str(a) for a in args], catch_exceptions=False)


def test_cnaps_to_unified_and_back(tmp_path: Path) -> None:
    unified = tmp_path / "u.xml"
    result = run("convert", HVPS, "--to", "pacs.008.001.08", "-o", unified)
    assert result.exit_code == 0, result.stderr
    assert paymsg.detect(unified).type == "pacs.008.001.08"
    assert paymsg.validate(unified).ok
    back = tmp_path / "b.txt"
    result = run("convert", unified, "--to", "hvps.111.001.01", "-o", back, "--id-seed", "7")
    assert result.exit_code == 0, result.stderr
    original, again = paymsg.parse(HVPS), paymsg.parse(back)
    assert again.type == "hvps.111.001.01"
    assert paymsg.serialize(paymsg.Message(again.type, again.document)) == paymsg.serialize(
        paymsg.Message(original.type, original.document)
    )
    assert len(again.envelope.header.mesg_id) == 20
    assert int(again.envelope.header.mesg_id[8:]) >= 7  # the sequence starts at --id-seed


def test_loss_is_reported_and_strict_refuses(tmp_path: Path) -> None:
    result = run("convert", CBPR, "--to", "beps.121.001.01", "--output-dir", tmp_path, "--json")
    assert result.exit_code == 0, result.stderr
    [entry] = json.loads(result.stdout)
    assert entry["loss"], "a CIPS batch carries data BEPS cannot hold"
    assert all({"source_path", "action", "reason"} <= set(e) for e in entry["loss"])
    assert Path(entry["output"]).suffix == ".txt"
    result = run("convert", CBPR, "--to", "beps.121.001.01", "--strict")
    assert result.exit_code == 1
    assert "would lose data" in result.stderr


def test_unknown_target_and_impossible_conversion() -> None:
    assert run("convert", CBPR, "--to", "pacs.999.001.01").exit_code == 2
    result = run("convert", CBPR, "--to", "camt.053.001.08")
    assert result.exit_code == 2 and "no conversion" in result.stderr


def test_output_dir_keeps_every_input(tmp_path: Path) -> None:
    out = tmp_path / "out"
    result = run("convert", EXAMPLES, "--to", "json", "--output-dir", out)
    assert result.exit_code == 0, result.stderr
    inputs = [p for p in EXAMPLES.rglob("*") if p.suffix in {".xml", ".txt"}]
    outputs = list(out.rglob("*.json"))
    assert len(outputs) == len(inputs)
    assert (out / "cnaps2/hvps.111.001.01/customer-transfer-urgent.json").is_file()
    assert (out / "cnaps2/hvps.111.001.01/customer-transfer-urgent.xml.json").is_file()
