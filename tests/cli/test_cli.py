"""The CLI from the outside: exit codes, JSON output, one-line errors."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

import paymsg
from paymsg.cli import app

runner = CliRunner()


def run(*args: str):  # type: ignore[no-untyped-def]
    return runner.invoke(app, [str(a) for a in args], catch_exceptions=False)


def test_version() -> None:
    result = run("--version")
    assert result.exit_code == 0
    assert result.stdout.strip() == f"paymsg {paymsg.__version__}"


def test_schemas_list_json() -> None:
    result = run("schemas", "list", "--json")
    assert result.exit_code == 0
    rows = json.loads(result.stdout)
    assert {"pacs.008.001.08", "head.001.001.02", "camt.053.001.08"} <= {r["id"] for r in rows}


def test_schemas_list_human() -> None:
    result = run("schemas", "list")
    assert result.exit_code == 0
    assert "pacs.008.001.08" in result.stdout and "金融机构间客户贷记转账" in result.stdout


def test_detect(pacs008_with_bah: Path) -> None:
    result = run("detect", pacs008_with_bah, "--json")
    assert result.exit_code == 0
    assert json.loads(result.stdout)[0]["type"] == "pacs.008.001.08"


def test_inspect_json(pacs008_with_bah: Path) -> None:
    result = run("inspect", pacs008_with_bah, "--json")
    assert result.exit_code == 0
    data = json.loads(result.stdout)
    assert data["type"] == "pacs.008.001.08"
    assert any(a["value"] == "USD 25000.00" for a in data["amounts"])
    assert any("DEUTDEFF" in a["value"] for a in data["agents"])
    assert any(i["path"].endswith("/UETR") for i in data["ids"])


def test_inspect_human(pacs008_with_bah: Path) -> None:
    result = run("inspect", pacs008_with_bah)
    assert result.exit_code == 0
    assert "FI to FI Customer Credit Transfer" in result.stdout and "USD 25000.00" in result.stdout


def test_convert_xml_json_xml(pacs008_with_bah: Path, tmp_path: Path) -> None:
    out_json = tmp_path / "m.json"
    out_xml = tmp_path / "m.xml"
    assert run("convert", pacs008_with_bah, "--to", "json", "-o", out_json).exit_code == 0
    assert json.loads(out_json.read_text(encoding="utf-8"))["type"] == "pacs.008.001.08"
    assert run("convert", out_json, "--to", "xml", "-o", out_xml).exit_code == 0
    assert paymsg.parse(out_xml) == paymsg.parse(pacs008_with_bah)


def test_convert_to_stdout_and_output_dir(pacs008_with_bah: Path, tmp_path: Path) -> None:
    result = run("convert", pacs008_with_bah, "--to", "xml")
    assert result.exit_code == 0 and result.stdout.startswith("<?xml")
    result = run(
        "convert",
        pacs008_with_bah,
        pacs008_with_bah,
        "--to",
        "json",
        "--output-dir",
        tmp_path / "o",
    )
    assert result.exit_code == 0
    assert (tmp_path / "o" / "cbpr-usd-with-bah.json").is_file()


def test_errors_are_one_line_with_exit_2(tmp_path: Path) -> None:
    bad = tmp_path / "bad.xml"
    bad.write_bytes(b"<Document>\n<oops>\n</Document>\n")
    for args in (("inspect", bad), ("convert", bad, "--to", "json"), ("detect", bad)):
        result = run(*args)
        assert result.exit_code == 2, args
        text = result.stderr + result.stdout
        assert "Traceback" not in text
        assert "bad.xml:3" in text


def test_missing_file_is_exit_2(tmp_path: Path) -> None:
    result = run("inspect", tmp_path / "missing.xml")
    assert result.exit_code == 2
    assert "cannot read file" in result.stderr


CNAPS_TEXT = (
    Path(__file__).resolve().parents[2]
    / "examples/cnaps2/hvps.111.001.01/customer-transfer-urgent.txt"
)
SIGNED = CNAPS_TEXT.with_name("customer-transfer-urgent.signed.txt")


def test_cnaps_detect_inspect_and_envelope() -> None:
    result = run("detect", CNAPS_TEXT, "--json")
    assert json.loads(result.stdout)[0] == {
        "file": str(CNAPS_TEXT),
        "type": "hvps.111.001.01",
        "method": "header",
        "detail": "CNAPS2 header MesgType hvps.111.001.01",
    }
    result = run("inspect", CNAPS_TEXT)
    assert result.exit_code == 0
    assert "报文发起人" in result.stdout and "102100099996" in result.stdout
    data = json.loads(run("inspect", CNAPS_TEXT, "--json").stdout)
    assert data["cnaps2_header"]["mesg_type"] == "hvps.111.001.01" and data["signature"] == "absent"
    result = run("envelope", SIGNED, "--json")
    assert json.loads(result.stdout)["signature_status"] == "present, not verified"


def test_envelope_verifies_with_a_key_and_profiles() -> None:
    import tomllib

    examples = CNAPS_TEXT.parents[1]
    key = tomllib.loads((examples / "keys/test-sm2-key.toml").read_text(encoding="utf-8"))
    profiles = examples / "signing-example.toml"
    good = run(
        "envelope", SIGNED, "--public-key", key["public_key"], "--profiles", profiles, "--json"
    )
    assert good.exit_code == 0 and json.loads(good.stdout)["signature_status"] == "verified"
    other = run("envelope", SIGNED, "--public-key", key["public_key"])  # no element list known
    assert other.exit_code == 2 and "not known" in other.stderr


def test_cnaps_text_to_json_and_back_is_byte_identical(tmp_path: Path) -> None:
    out_json, out_txt = tmp_path / "m.json", tmp_path / "m.txt"
    assert run("convert", CNAPS_TEXT, "--to", "json", "-o", out_json).exit_code == 0
    assert run("convert", out_json, "--to", "xml", "-o", out_txt).exit_code == 0
    assert out_txt.read_bytes() == CNAPS_TEXT.read_bytes()


def test_schemas_list_names_cnaps_systems() -> None:
    rows = {r["id"]: r for r in json.loads(run("schemas", "list", "--json").stdout)}
    assert rows["hvps.111.001.01"]["system"] == "HVPS"
    assert rows["hvps.111.001.01"]["namespace"].endswith("pacs.008.001.02")
    assert rows["beps.121.001.01"]["signed"] is True
