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
