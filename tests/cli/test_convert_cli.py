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


# --------------------------------------------------------------------------- --mapping-table


def test_mapping_table_is_the_pair_rows_as_json() -> None:
    from paymsg.convert.mappings import hvps

    result = run("convert", "--mapping-table", "pacs.008.001.08", "hvps.111.001.01", "--json")
    assert result.exit_code == 0, result.stderr
    table = json.loads(result.stdout)
    assert (table["source"], table["target"]) == ("pacs.008.001.08", "hvps.111.001.01")
    rows = {(r["source"], r["target"]): (r["policy"], r["note"]) for r in table["rows"]}
    # every row of the pair's table, read unified → CNAPS2, with its policy and note
    for row in hvps.HVPS_111.rows:
        assert rows[(row.unified, row.cnaps)] == (row.policy.name, row.note)
    assert rows[("GrpHdr/CreDtTm", "GrpHdr/CreDtTm")][0] == "to-beijing-time"
    assert {"spill-to-text", "drop-with-loss", "amount", "bank-code"} <= {
        policy for policy, _ in rows.values()
    }
    # the fallbacks (unified → CNAPS2 only) are there, the generation rows are not
    fallback = hvps.HVPS_111.fallbacks[0]
    assert (fallback.unified, fallback.cnaps) in rows
    generation = hvps.HVPS_111.generation[0]
    assert (generation.unified, generation.cnaps) not in rows


def test_mapping_table_of_every_family_and_direction() -> None:
    pairs = (
        ("beps.121.001.01", "pacs.008.001.08", "CstmrCdtTrfInf[*]/Amt", "amount"),
        ("pacs.004.001.09", "beps.122.001.01", "TxInf[*]/RtrdIntrBkSttlmAmt", "amount"),
        ("ccms.900.001.02", "pacs.002.001.10", "CmonConf/CmonConfInf/PrcSts", "code-map"),
        ("saps.604.001.01", "pacs.002.001.10", "SttlmRtrRct/AcctInf/Bal", "computed"),
        ("camt.053.001.08", "camt.053.001.02", "/FinInstnId/BICFI$", "rewrite"),
    )
    for source, target, path, policy in pairs:
        result = run("convert", "--mapping-table", source, target, "--json")
        assert result.exit_code == 0, result.stderr
        rows = json.loads(result.stdout)["rows"]
        assert (path, policy) in {(r["source"], r["policy"]) for r in rows}, (source, target)


def test_mapping_table_for_people_is_a_table() -> None:
    result = run("convert", "--mapping-table", "beps.121.001.01", "pacs.008.001.08")
    assert result.exit_code == 0, result.stderr
    assert "beps.121.001.01 → pacs.008.001.08" in result.stdout
    assert "to-beijing-time" in result.stdout
    assert "PKGGrpHdr/CreDtTm" in result.stdout


def test_mapping_table_of_no_pair_is_one_line_and_exit_2() -> None:
    for args in (
        ("hvps.111.001.01", "beps.121.001.01"),  # through the hub: two tables, no pair
        ("hvps.111.001.01", "no.such.type"),
        ("hvps.111.001.01",),
    ):
        result = run("convert", "--mapping-table", *args)
        assert result.exit_code == 2, args
        assert len(result.stderr.strip().splitlines()) == 1, result.stderr
        assert "Traceback" not in result.stderr
        assert result.stdout == ""


def test_convert_without_files_or_target_is_a_usage_error() -> None:
    for args in ((), ("--to", "json"), (HVPS,)):
        result = run("convert", *args)
        assert result.exit_code == 2, args
        assert len(result.stderr.strip().splitlines()) == 1, result.stderr
