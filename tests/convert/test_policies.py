"""One policy for every CNAPS2 target: creation times and spilled fields (issue 11).

Every CNAPS2 target writes a creation time in another UTC offset than +08:00 as Beijing time
and records a ``transliterated`` loss entry (the ``to-beijing-time`` policy); the way back
copies the Beijing time as it is. Every CNAPS2 target spills a field it has no element for
as a ``/H01/path:value`` item, and every CNAPS2 → unified edge reads those items back.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

import paymsg
from paymsg.codec.json.engine import from_data, to_data
from paymsg.convert import convert
from paymsg.convert.engine.paths import flatten
from paymsg.schema.catalog import catalog

CNAPS = Path(__file__).resolve().parents[2] / "examples" / "cnaps2"

#: (CNAPS2 example, its unified counterpart, a CNAPS2 target of that unified type)
TARGETS = (
    ("hvps.111.001.01/customer-transfer-urgent.xml", "pacs.008.001.08", "hvps.111.001.01"),
    ("hvps.111.001.01/customer-transfer-urgent.xml", "pacs.008.001.08", "beps.121.001.01"),
    ("hvps.112.001.01/interbank-funds-transfer.xml", "pacs.009.001.08", "hvps.112.001.01"),
    ("hvps.112.001.01/interbank-funds-transfer.xml", "pacs.009.001.08", "beps.122.001.01"),
    ("hvps.112.001.01/return-a105.xml", "pacs.004.001.09", "hvps.112.001.01"),
    ("beps.121.001.01/return-a105.xml", "pacs.004.001.09", "beps.121.001.01"),
    ("ccms.900.001.02/reject-hvps111-not-logged-in.xml", "pacs.002.001.10", "ccms.900.001.02"),
)


def _message(type_id: str, data: dict[str, Any]) -> paymsg.Message:
    mtype = catalog().get(type_id)
    return paymsg.Message(type_id, from_data(mtype.root_class, data, f"/{mtype.root}"))


def _without_carriers(data: Any) -> Any:
    """The data of a unified message that did not come from CNAPS2 (no SplmtryData)."""
    if isinstance(data, dict):
        return {k: _without_carriers(v) for k, v in data.items() if k != "SplmtryData"}
    if isinstance(data, list):
        return [_without_carriers(item) for item in data]
    return data


def _unified(example: str, unified: str, created: str) -> paymsg.Message:
    original = paymsg.parse(CNAPS / example, type=example.split("/")[0])
    data = _without_carriers(to_data(convert(original, unified).message.document))
    (root,) = data.values()
    root["GrpHdr"]["CreDtTm"] = created
    return _message(unified, data)


def _created(message: paymsg.Message) -> str:
    (value,) = (v for k, v in flatten(to_data(message.document)).items() if k.endswith("CreDtTm"))
    return value


def _created_paths(message: paymsg.Message) -> list[str]:
    return [k for k in flatten(to_data(message.document)) if k.endswith("GrpHdr/CreDtTm")]


@pytest.mark.parametrize(("example", "unified", "target"), TARGETS, ids=[t[2] for t in TARGETS])
def test_a_time_in_another_offset_becomes_beijing_time_on_every_cnaps2_target(
    example: str, unified: str, target: str
) -> None:
    source = _unified(example, unified, "2024-03-15T04:41:07+02:00")
    result = convert(source, target, wrap=False)
    (path,) = _created_paths(result.message)
    assert flatten(to_data(result.message.document))[path] == "2024-03-15T10:41:07"
    entries = [e for e in result.loss if e.source_path.endswith("/GrpHdr/CreDtTm")]
    assert [(e.action, e.value) for e in entries] == [
        ("transliterated", "2024-03-15T04:41:07+02:00")
    ]
    assert entries[0].target_path == f"/Document/{path}"
    # the way back copies the Beijing time as it is, and reports nothing about it
    back = convert(result.message, unified, wrap=False)
    assert _created(back.message) == "2024-03-15T10:41:07"
    assert not [e for e in back.loss if e.source_path.endswith("CreDtTm")]


@pytest.mark.parametrize("created", ["2024-03-15T10:41:07+08:00", "2024-03-15T10:41:07"])
@pytest.mark.parametrize(("example", "unified", "target"), TARGETS, ids=[t[2] for t in TARGETS])
def test_a_beijing_time_crosses_unchanged_and_unreported(
    example: str, unified: str, target: str, created: str
) -> None:
    result = convert(_unified(example, unified, created), target, wrap=False)
    (path,) = _created_paths(result.message)
    assert flatten(to_data(result.message.document))[path] == created
    assert not [e for e in result.loss if e.source_path.endswith("/GrpHdr/CreDtTm")]


UETR = "8a562c67-ca16-48ba-b074-65581be6f011"
#: the CNAPS2 free text a spilled transaction field goes to, by target
SPILL_TEXT = {
    "hvps.111.001.01": "FIToFICstmrCdtTrf/CdtTrfTxInf[1]/RmtInf/Ustrd[{n}]",
    "beps.121.001.01": "CstmrCdtTrf/CstmrCdtTrfInf[1]/AddtlInf",
}


@pytest.mark.parametrize("target", sorted(SPILL_TEXT))
def test_a_field_without_a_cnaps2_element_is_spilled_as_h01_path_value_and_read_back(
    target: str,
) -> None:
    source = _unified(
        "hvps.111.001.01/customer-transfer-urgent.xml", "pacs.008.001.08", "2024-03-15T10:41:07"
    )
    data = to_data(source.document)
    data["FIToFICstmrCdtTrf"]["CdtTrfTxInf"][0]["PmtId"]["UETR"] = UETR
    there = convert(_message("pacs.008.001.08", data), target, wrap=False)
    (entry,) = [e for e in there.loss if e.source_path.endswith("/PmtId/UETR")]
    assert entry.action == "moved"
    texts = flatten(to_data(there.message.document))
    item = f"/H01/PmtId/UETR:{UETR}"
    if target.startswith("hvps"):  # one remittance line per item
        assert item in [v for k, v in texts.items() if "/RmtInf/Ustrd[" in k]
        assert entry.target_path is not None and "/RmtInf/Ustrd[" in entry.target_path
    else:  # items appended to the one 附言 text
        assert item in texts[SPILL_TEXT[target]]
        assert entry.target_path == f"/Document/{SPILL_TEXT[target]}"
    # CNAPS2 → unified reads the item back to its element; the text keeps it
    back = convert(there.message, "pacs.008.001.08", wrap=False)
    assert (
        to_data(back.message.document)["FIToFICstmrCdtTrf"]["CdtTrfTxInf"][0]["PmtId"]["UETR"]
        == UETR
    )
    # and converting again neither repeats the item nor reports the field a second time
    again = convert(back.message, target, wrap=False)
    again_texts = flatten(to_data(again.message.document))
    assert sum(text.count(item) for text in again_texts.values()) == 1


def test_a_spilled_item_whose_element_cannot_take_it_stays_in_the_text() -> None:
    """An item naming a code-list field, or a field whose element is not there, is not read
    back (it could make the unified message invalid): it stays in the remittance text."""
    original = paymsg.parse(
        CNAPS / "beps.121.001.01/customer-credit-package.xml", type="beps.121.001.01"
    )
    data = to_data(original.document)
    detail = data["CstmrCdtTrf"]["CstmrCdtTrfInf"][0]
    detail["AddtlInf"] = "房租 /H01/ChrgBr:SHAR /H01/Dbtr/Id/OrgId/LEI:5493002ERZU2K9PZDL40"
    result = convert(_message("beps.121.001.01", data), "pacs.008.001.08", wrap=False)
    tx = to_data(result.message.document)["FIToFICstmrCdtTrf"]["CdtTrfTxInf"][0]
    assert tx["ChrgBr"] == "DEBT"  # the BEPS convention, not the text
    assert "Id" not in tx["Dbtr"]
    assert " ".join(tx["RmtInf"]["Ustrd"]) == detail["AddtlInf"]
    assert paymsg.validate(result.message).ok
