"""The CNAPS2 centre and reconciliation message set (ccms.991/992, hvps.710-718,
beps.720-726) from the outside: catalogued with system and signing flag, listed by
``paymsg schemas list``, validated and converted to JSON like every other type, and refused
with one clear line when asked for a unified ISO 20022 counterpart they do not have."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

import paymsg
from paymsg.cli import app
from paymsg.schema.catalog import catalog
from tests.conftest import EXAMPLES

RECON = {
    **{f"hvps.{n}.001.01": "HVPS" for n in range(710, 719)},
    **{f"beps.{n}.001.01": "BEPS" for n in range(720, 727)},
    "ccms.991.001.01": "PMTS",
    "ccms.992.001.01": "PMTS",
}
TEXTS = sorted(p for t in RECON for p in (EXAMPLES / "cnaps2" / t).glob("*.txt"))

runner = CliRunner()


def run(*args: object):  # type: ignore[no-untyped-def]
    return runner.invoke(app, [str(a) for a in args], catch_exceptions=False)


def test_catalogued_with_system_unsigned_and_native_namespace() -> None:
    for type_id, system in RECON.items():
        mtype = catalog().get(type_id)
        assert mtype.standard == "cnaps2" and mtype.system == system
        assert mtype.signed is False  # [NF]: a catalogue decision, see xsd/catalog.toml
        family = type_id.split(".")[0]
        assert mtype.namespace == f"urn:cnaps:std:{family}:2010:tech:xsd:{type_id}"
        assert mtype.body is None


def test_schemas_list_shows_them() -> None:
    result = run("schemas", "list", "--json")
    assert result.exit_code == 0
    rows = {r["id"]: r for r in json.loads(result.stdout)}
    for type_id, system in RECON.items():
        assert rows[type_id]["system"] == system and rows[type_id]["signed"] is False
    human = run("schemas", "list").stdout
    assert "hvps.715.001.01" in human and "beps.726.001.01" in human


def test_validate_and_json_from_the_cli(tmp_path: Path) -> None:
    folders = [EXAMPLES / "cnaps2" / t for t in RECON]
    result = run("validate", *folders, "--json")
    assert result.exit_code == 0, result.stdout
    out = tmp_path / "json"
    result = run("convert", *folders, "--to", "json", "--output-dir", out)
    assert result.exit_code == 0, result.stderr
    written = sorted(out.rglob("*.json"))
    assert len(written) == 2 * len(TEXTS)  # every .xml body and every .txt text
    data = json.loads(next(p for p in written if "ccb-day-summary" in p.name).read_text())
    cells = data["document"]["SummryFile"]["SummryFileInf"]["ChckPmtInfDtls"]
    assert cells[0]["SndgCtrlSum"] == "CNY+2570000.00"


@pytest.mark.parametrize("path", TEXTS, ids=[f"{p.parent.name}/{p.name}" for p in TEXTS])
def test_no_unified_counterpart_is_one_line_exit_2(path: Path) -> None:
    target = "pacs.002.001.10" if path.parent.name.startswith("ccms") else "pacs.008.001.08"
    result = run("convert", path, "--to", target)
    assert result.exit_code == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and f"no conversion from {path.parent.name} to {target}" in lines[0]
    assert "Traceback" not in result.stderr


def test_the_api_refuses_too() -> None:
    message = paymsg.parse(EXAMPLES / "cnaps2/hvps.711.001.01/ccb-day-summary.txt")
    with pytest.raises(paymsg.ConversionError, match=r"no conversion from hvps\.711\.001\.01"):
        paymsg.convert(message, to="pacs.008.001.08")


def test_download_answer_keeps_the_embedded_text_exactly() -> None:
    # the 715 carries the signed hvps.111 text; its CR LF line ends survive parse → serialize
    original = (
        EXAMPLES / "cnaps2/hvps.111.001.01/customer-transfer-urgent.signed.txt"
    ).read_bytes()
    message = paymsg.parse(EXAMPLES / "cnaps2/hvps.715.001.01/ccb-download-of-hvps111.txt")
    content = message.document.tx_dwnldg_rspn.tx_dwnldg_rspn_inf.orgnl_msg_cntt.cntt
    assert content.encode("utf-8") == original
    embedded = paymsg.parse(content.encode("utf-8"))
    assert embedded.type == "hvps.111.001.01"
    assert paymsg.parse(paymsg.serialize(message)) == message
