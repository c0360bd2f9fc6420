"""Conversion coverage as stated (issue 10, item 11): README names exactly the types that
convert; the others are refused with the reason; a round trip ISO → CNAPS2 → ISO reports
every field that does not come back where it was."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

import paymsg
from paymsg.codec.json.engine import to_data
from paymsg.convert.engine.paths import flatten
from paymsg.convert.hub import NOT_CONVERTED, conversion_table, route
from paymsg.schema.catalog import catalog
from tests.conftest import EXAMPLES, ROOT

ROW = re.compile(r"^\s*\| ((?:hvps|beps|ccms|saps)\.\d{3}\.\d{3}\.\d{2}) \| ([^|]*) \| ([^|]*) \|")
TYPE_ID = re.compile(r"\b[a-z]{4}\.\d{3}\.\d{3}\.\d{2}\b")


def _edges() -> set[tuple[str, str]]:
    from paymsg.convert.hub import load_mappings, targets_of

    load_mappings()
    return {(a, b) for a in conversion_table() for b in targets_of(a)}


def test_readme_states_exactly_which_cnaps2_types_convert_both_ways() -> None:
    rows = {
        m.group(1): (set(TYPE_ID.findall(m.group(2))), set(TYPE_ID.findall(m.group(3))))
        for line in (ROOT / "README.md").read_text(encoding="utf-8").splitlines()
        if (m := ROW.match(line))
    }
    cnaps2 = {t.id for t in catalog() if t.standard == "cnaps2"}
    assert set(rows) == cnaps2  # one row per CNAPS2 type, none invented
    unified = {t.id for t in catalog() if t.standard == "iso20022"}
    for type_id, (to, back) in rows.items():
        reachable = set(conversion_table().get(type_id, []))
        assert to == reachable & unified, type_id
        assert back == {a for a in unified if type_id in conversion_table().get(a, [])}, type_id
        if not to and not back:
            assert type_id in NOT_CONVERTED


@pytest.mark.parametrize("type_id", sorted(NOT_CONVERTED))
def test_types_without_a_unified_counterpart_are_refused_with_the_reason(type_id: str) -> None:
    [path] = (
        sorted((EXAMPLES / "cnaps2" / type_id).glob("*.txt"))[:1]
        or sorted((EXAMPLES / "cnaps2" / type_id).glob("*.xml"))[:1]
    )
    message = paymsg.parse(path) if path.suffix == ".txt" else paymsg.parse(path, type=type_id)
    with pytest.raises(paymsg.ConversionError) as info:
        paymsg.convert(message, "pacs.002.001.10")
    assert NOT_CONVERTED[type_id] in str(info.value)
    assert "converts to nothing" in str(info.value)
    assert type_id not in conversion_table()


def test_saps604_converts_one_way_and_the_other_way_says_why() -> None:
    assert "pacs.002.001.10" in conversion_table()["saps.604.001.01"]
    assert "saps.604.001.01" not in conversion_table()["pacs.002.001.10"]
    with pytest.raises(paymsg.ConversionError, match="clearing-account balance"):
        route("pacs.002.001.10", "saps.604.001.01")


def test_cli_names_the_reason_in_one_line(tmp_path: Path) -> None:
    path = sorted((EXAMPLES / "cnaps2/ccms.990.001.02").iterdir())[0]
    done = subprocess.run(
        [sys.executable, "-m", "paymsg.cli", "convert", str(path), "--to", "pacs.002.001.10",
         "--type", "ccms.990.001.02", "-o", str(tmp_path / "out.xml")],
        capture_output=True,
        text=True,
    )  # fmt: skip
    assert done.returncode == 2
    assert len(done.stderr.strip().splitlines()) == 1, done.stderr
    assert "transport session" in done.stderr and "converts to nothing" in done.stderr


def _unreported(original: paymsg.Message, target: str) -> list[tuple[str, str, str | None]]:
    """Fields of ``original`` that ISO → ``target`` → ISO does not give back unchanged and
    that no loss entry of the first edge explains (by its path, or a moved value now there)."""
    there = paymsg.convert(original, target, sender="102100099996", receiver="102100099997")
    back = paymsg.convert(there.message, original.type)
    before, after = flatten(to_data(original.document)), flatten(to_data(back.message.document))
    paths = {entry.source_path for entry in there.loss}
    moved = [entry.value for entry in there.loss if entry.action == "moved" and entry.value]
    missing = []
    for key, value in before.items():
        now = after.get(key)
        if now == value:
            continue
        path = "/Document/" + key.removesuffix("/#text")
        if any(path == p or path.startswith(p + "/") for p in paths):
            continue
        if now is not None and any(m in now for m in moved):
            continue  # another field was moved into this one, and says so
        missing.append((path, value, now))
    return missing


ROUND_TRIPS = [
    ("iso20022/pacs.002.001.10/cips-partial-acsc-rjct.xml", "ccms.900.001.02"),
    ("iso20022/pacs.002.001.10/fednow-acsc.xml", "ccms.900.001.02"),
    ("iso20022/pacs.008.001.08/cips-cny-batch.xml", "beps.121.001.01"),
    ("iso20022/pacs.004.001.09/cips-cny-return-ac04.xml", "beps.121.001.01"),
    ("iso20022/pacs.004.001.09/cips-cny-return-ac04.xml", "hvps.111.001.01"),
]


@pytest.mark.parametrize(("path", "target"), ROUND_TRIPS, ids=[f"{p}->{t}" for p, t in ROUND_TRIPS])
def test_iso_cnaps2_iso_round_trip_reports_every_moved_field(path: str, target: str) -> None:
    """pacs.002 TxSts and FctvIntrBkSttlmDt came back elsewhere with no loss entry."""
    assert _unreported(paymsg.parse(EXAMPLES / path), target) == []


def test_pacs002_transaction_status_is_reported_moved_with_its_place() -> None:
    source = paymsg.parse(EXAMPLES / "iso20022/pacs.002.001.10/fednow-acsc.xml")
    done = paymsg.convert(source, "ccms.900.001.02")
    moved = {e.source_path: e for e in done.loss if e.action == "moved"}
    status = moved["/Document/FIToFIPmtStsRpt/TxInfAndSts[1]/TxSts"]
    assert status.target_path == "/Document/CmonConf/CmonConfInf/PrcSts"
    assert status.value == "ACSC" and "OrgnlGrpInfAndSts[1]/GrpSts" in status.reason
    date = moved["/Document/FIToFIPmtStsRpt/TxInfAndSts[1]/FctvIntrBkSttlmDt/Dt"]
    assert date.target_path == "/Document/CmonConf/CmonConfInf/PrcDt"
    with pytest.raises(paymsg.ConversionLossError, match="TxSts"):
        paymsg.convert(source, "ccms.900.001.02", strict=True)


def test_a_status_report_from_cnaps2_moves_nothing_on_its_way_back() -> None:
    original = paymsg.parse(
        EXAMPLES / "cnaps2/ccms.900.001.02/reject-hvps111-not-logged-in.xml",
        type="ccms.900.001.02",
    )
    unified = paymsg.convert(original, "pacs.002.001.10").message
    back = paymsg.convert(unified, "ccms.900.001.02", wrap=False)
    assert back.loss == []
