"""Conversion between versions of one ISO 20022 message (issue 16, item 3): every pair both
ways, through the hub's mapping engine, with a loss report for what does not carry over."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

import paymsg
from paymsg.cli import app
from paymsg.codec.json.engine import to_data
from paymsg.codec.message import Message
from paymsg.convert import convert
from paymsg.errors import ConversionError, ConversionLossError
from tests.conftest import EXAMPLES

ISO = EXAMPLES / "iso20022"
PAIRS = [
    ("camt.053.001.02", "camt.053.001.08"),
    ("pain.001.001.03", "pain.001.001.09"),
    ("pain.002.001.03", "pain.002.001.10"),
    ("head.001.001.04", "head.001.001.02"),
]
DIRECTIONS = [*PAIRS, *[(b, a) for a, b in PAIRS]]
CASES = [(s, t, p) for s, t in DIRECTIONS for p in sorted((ISO / s).glob("*.xml"))]


def _loss(conversion: Any) -> list[tuple[str, str]]:
    return [(e.action, e.source_path) for e in conversion.loss]


def _xsd_clean(message: Message) -> None:
    report = paymsg.validate(message, type=message.type)
    assert not [f for f in report.findings if f.layer in ("xsd", "safety")], report.findings


@pytest.mark.parametrize(
    ("source", "target", "path"), CASES, ids=[f"{c[2].name}->{c[1]}" for c in CASES]
)
def test_every_example_converts_to_a_valid_message_of_the_other_version(
    source: str, target: str, path: Path
) -> None:
    message = paymsg.parse(path.read_bytes())
    assert message.type == source
    result = convert(message, target)
    assert result.message.type == target
    _xsd_clean(result.message)
    for entry in result.loss:
        assert entry.document == source and entry.source_path.startswith("/")


@pytest.mark.parametrize(
    "path",
    [
        *sorted((ISO / "camt.053.001.02").glob("*.xml")),
        *sorted((ISO / "pain.001.001.03").glob("*.xml")),
        *sorted((ISO / "pain.002.001.03").glob("*.xml")),
        *sorted((ISO / "head.001.001.04").glob("*.xml")),
        *sorted((ISO / "head.001.001.02").glob("*.xml")),
    ],
    ids=lambda p: f"{p.parent.name}/{p.name}",
)
def test_older_examples_go_up_and_back_without_loss(path: Path) -> None:
    """Our older-version examples use nothing the newer version lacks: the way there and
    back is lossless and gives the same document."""
    pairs = dict(DIRECTIONS)
    message = paymsg.parse(path.read_bytes())
    there = convert(message, pairs[message.type])
    back = convert(there.message, message.type)
    assert there.loss == [] and back.loss == []
    assert to_data(back.message.document) == to_data(message.document)


def test_statement_2009_shapes_become_2019_shapes() -> None:
    message = paymsg.parse(ISO / "camt.053.001.02/eur-corporate-iban.xml")
    data = to_data(convert(message, "camt.053.001.08").message.document)
    stmt = data["BkToCstmrStmt"]["Stmt"][0]
    assert stmt["Ntry"][0]["Sts"] == {"Cd": "BOOK"}
    assert stmt["TxsSummry"]["TtlNtries"]["TtlNetNtry"] == {"Amt": "39536.42", "CdtDbtInd": "DBIT"}
    assert stmt["Acct"]["Svcr"]["FinInstnId"]["BICFI"] == "COBADEFF"
    party = stmt["Ntry"][0]["NtryDtls"][0]["TxDtls"][0]["RltdPties"]["Cdtr"]
    assert party == {"Pty": {"Nm": "Société Lyonnaise de Services Numériques SA"}}


def test_statement_2019_to_2009_reports_each_dropped_field() -> None:
    message = paymsg.parse(ISO / "camt.053.001.08/eur-corporate-iban.xml")
    result = convert(message, "camt.053.001.02")
    tx = "/Document/BkToCstmrStmt/Stmt[1]/Ntry[{}]/NtryDtls[1]/TxDtls[1]"
    assert _loss(result) == [
        ("dropped", "/Document/BkToCstmrStmt/GrpHdr/MsgRcpt/Id/OrgId/LEI"),
        ("dropped", tx.format(1) + "/Refs/UETR"),
        ("dropped", tx.format(1) + "/CdtDbtInd"),
        ("dropped", tx.format(2) + "/CdtDbtInd"),
        ("dropped", tx.format(3) + "/CdtDbtInd"),
    ]
    data = to_data(result.message.document)
    details = data["BkToCstmrStmt"]["Stmt"][0]["Ntry"][0]["NtryDtls"][0]["TxDtls"][0]
    assert details["AmtDtls"]["TxAmt"]["Amt"] == {"@Ccy": "EUR", "#text": "48750.00"}
    assert "UETR" not in details["Refs"]
    with pytest.raises(ConversionLossError, match="UETR"):
        convert(message, "camt.053.001.02", strict=True)


def test_required_2009_field_is_defaulted_and_reported() -> None:
    raw = (ISO / "camt.053.001.08/eur-corporate-iban.xml").read_bytes()
    stmt_created = b"      <CreDtTm>2026-07-15T22:15:07+02:00</CreDtTm>\n      <FrToDt>"
    assert stmt_created in raw
    message = paymsg.parse(raw.replace(stmt_created, b"      <FrToDt>"))
    result = convert(message, "camt.053.001.02")
    [entry] = [e for e in result.loss if e.action == "defaulted"]
    assert entry.source_path == "/Document/BkToCstmrStmt/GrpHdr/CreDtTm"
    assert entry.target_path == "/Document/BkToCstmrStmt/Stmt[1]/CreDtTm"
    stmt = to_data(result.message.document)["BkToCstmrStmt"]["Stmt"][0]
    assert stmt["CreDtTm"] == "2026-07-15T22:15:07+02:00"


def test_a_result_the_target_schema_rejects_is_refused() -> None:
    raw = (ISO / "camt.053.001.08/eur-corporate-iban.xml").read_bytes()
    proprietary = raw.replace(
        b"<Sts>\n          <Cd>BOOK</Cd>", b"<Sts>\n          <Prtry>POSTED</Prtry>", 1
    )
    assert proprietary != raw
    with pytest.raises(ConversionError, match=r"camt\.053\.001\.02.*Sts"):
        convert(paymsg.parse(proprietary), "camt.053.001.02")


def test_status_report_codes_outside_the_2009_list_are_dropped() -> None:
    raw = (ISO / "pain.002.001.10/reject-one-of-three.xml").read_bytes()
    message = paymsg.parse(raw)
    data = to_data(message.document)
    tx = data["CstmrPmtStsRpt"]["OrgnlPmtInfAndSts"][0]["TxInfAndSts"][0]
    tx["TxSts"] = "ACFC"  # accepted funds checked: a 2019 external code, not in the 2009 list
    from paymsg.codec.json.engine import from_data
    from paymsg.schema.catalog import catalog

    changed = Message(
        "pain.002.001.10", from_data(catalog().get("pain.002.001.10").root_class, data)
    )
    result = convert(changed, "pain.002.001.03")
    dropped = [e for e in result.loss if e.source_path.endswith("/TxInfAndSts[1]/TxSts")]
    assert len(dropped) == 1 and "code list" in dropped[0].reason and dropped[0].value == "ACFC"
    _xsd_clean(result.message)


def test_status_report_original_parties_fold_and_unfold() -> None:
    message = paymsg.parse(ISO / "pain.002.001.10/reject-one-of-three.xml")
    down = convert(message, "pain.002.001.03")
    ref = to_data(down.message.document)["CstmrPmtStsRpt"]["OrgnlPmtInfAndSts"][0]["TxInfAndSts"][0]
    assert "Pty" not in ref["OrgnlTxRef"]["Dbtr"] and ref["OrgnlTxRef"]["Dbtr"]["Nm"]
    up = convert(down.message, "pain.002.001.10")
    ref_up = to_data(up.message.document)["CstmrPmtStsRpt"]["OrgnlPmtInfAndSts"][0]["TxInfAndSts"][
        0
    ]
    assert ref_up["OrgnlTxRef"]["Dbtr"]["Pty"] == ref["OrgnlTxRef"]["Dbtr"]


def test_cli_converts_a_version_with_its_loss_report(tmp_path: Path) -> None:
    runner = CliRunner()
    source = ISO / "camt.053.001.08/eur-corporate-iban.xml"
    out = tmp_path / "stmt02.xml"
    result = runner.invoke(
        app, ["convert", str(source), "--to", "camt.053.001.02", "-o", str(out), "--json"]
    )
    assert result.exit_code == 0, result.stderr
    [entry] = json.loads(result.stdout)
    assert {e["source_path"].rsplit("/", 1)[1] for e in entry["loss"]} == {
        "LEI",
        "UETR",
        "CdtDbtInd",
    }
    assert paymsg.detect(out).type == "camt.053.001.02" and paymsg.validate(out).ok
    strict = runner.invoke(app, ["convert", str(source), "--to", "camt.053.001.02", "--strict"])
    assert strict.exit_code == 1 and "would lose data" in strict.stderr
