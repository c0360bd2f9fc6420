"""Status edges of the hub: ccms.900 ⇄ pacs.002, saps.604 → pacs.002 (and on to ccms.900)."""

from __future__ import annotations

import copy
import string
from datetime import date, datetime
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import paymsg
from paymsg.codec.json.engine import from_data, to_data
from paymsg.codec.message import Message
from paymsg.convert import convert, route
from paymsg.convert.engine.carrier import carried
from paymsg.convert.mappings.status import (
    BY_CODE,
    REVERSE,
    REVERSE_STATUSES,
    STATUSES,
    SYSTEMS,
)
from paymsg.errors import ConversionError, ConversionLossError
from paymsg.schema.catalog import catalog

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "examples"
CCMS900 = "ccms.900.001.02"
SAPS604 = "saps.604.001.01"
PACS002 = "pacs.002.001.10"
CCMS900_FILES = sorted((EXAMPLES / "cnaps2" / CCMS900).glob("*.xml"))
SAPS604_FILES = sorted((EXAMPLES / "cnaps2" / SAPS604).glob("*.xml"))
PACS002_FILES = sorted((EXAMPLES / "iso20022" / PACS002).glob("*.xml"))
FIXED_IDS = "20260408000000001234"  # an id generator's output: the sequence is its last 8


def _ids(paths: list[Path]) -> list[str]:
    return [p.name for p in paths]


def _findings(message: Message, layer: str | None = None) -> list[tuple[str, str | None, str]]:
    report = paymsg.validate(message, type=message.type)
    return [
        (f.rule, f.path, f.message) for f in report.findings if layer is None or f.layer == layer
    ]


def _data(message: Message) -> dict[str, Any]:
    return to_data(message.document)


def _message(type_id: str, data: dict[str, Any]) -> Message:
    return Message(type_id, from_data(catalog().get(type_id).root_class, data))


def _loss(conversion: Any) -> list[tuple[str, str]]:
    prefix = "/Document/FIToFIPmtStsRpt/"
    return sorted((e.source_path.removeprefix(prefix), e.action) for e in conversion.loss)


# --------------------------------------------------------------------------- tables


def test_status_table_is_consistent() -> None:
    codes = [row.code for row in STATUSES]
    assert len(codes) == len(set(codes))
    for row in STATUSES:
        assert row.evidence.startswith("["), row  # a confidence tag of cnaps2.md
        assert row.iso is None or len(row.iso) == 4
    # the required ones of the brief
    assert BY_CODE["PR03"].iso == "ACSP"
    assert BY_CODE["PR04"].iso == "ACSC"
    assert BY_CODE["PR05"].iso == "ACSC"
    assert BY_CODE["PR09"].iso == "RJCT"
    assert BY_CODE["PR11"].iso == BY_CODE["PR12"].iso == "PDNG"
    assert BY_CODE["PR08"].iso == "CANC"


def test_reverse_table_inverts_the_status_table() -> None:
    for row in REVERSE_STATUSES:
        if row.exact:  # an exact reverse row goes back to a code reported as that status
            assert BY_CODE[row.code].iso == row.iso
    # every ISO status CNAPS2 reports has a way back
    assert {row.iso for row in STATUSES if row.iso} <= set(REVERSE)


def test_no_reverse_edge_for_saps604() -> None:
    with pytest.raises(ConversionError):
        route(PACS002, SAPS604)
    assert route(SAPS604, CCMS900) == [(SAPS604, PACS002), (PACS002, CCMS900)]


# --------------------------------------------------------------------------- ccms.900


@pytest.mark.parametrize("path", CCMS900_FILES, ids=_ids(CCMS900_FILES))
def test_ccms900_round_trip_is_exact(path: Path) -> None:
    original = paymsg.parse(path, type=CCMS900)
    unified = convert(original, PACS002)
    assert unified.loss == []
    assert unified.message.type == PACS002
    assert _findings(unified.message) == []  # xsd and the iso20022 rule pack
    back = convert(unified.message, CCMS900, wrap=False)
    assert back.loss == []
    assert paymsg.serialize(back.message) == paymsg.serialize(original)


@pytest.mark.parametrize("path", CCMS900_FILES, ids=_ids(CCMS900_FILES))
def test_ccms900_back_from_the_hub_validates_with_header(path: Path) -> None:
    original = paymsg.parse(path, type=CCMS900)
    unified = convert(original, PACS002).message
    wrapped = convert(unified, CCMS900, id_generator=lambda: FIXED_IDS).message
    assert isinstance(wrapped.envelope, paymsg.cnaps2.Cnaps2Envelope)
    header = wrapped.envelope.header
    body = _data(original)["CmonConf"]["GrpHdr"]
    assert header.orig_sender == body["InstgPty"]["InstgDrctPty"]
    assert header.orig_receiver == body["InstdPty"]["InstdDrctPty"]
    assert header.orig_sender_sid == header.orig_receiver_sid == body["SysCd"]
    assert header.mesg_direction == "D"  # sent by the NPC
    assert _findings(wrapped) == []  # xsd and the cnaps2 rule pack, header included


def test_ccms900_reject_maps_to_group_status() -> None:
    original = paymsg.parse(EXAMPLES / "cnaps2" / CCMS900 / "reject-hvps111-not-logged-in.xml")
    data = _data(convert(original, PACS002).message)["FIToFIPmtStsRpt"]
    assert data["GrpHdr"]["MsgId"] == "2024031500090417"
    assert data["GrpHdr"]["InstgAgt"] == {
        "FinInstnId": {"ClrSysMmbId": {"ClrSysId": {"Cd": "CNAPS"}, "MmbId": "0000"}},
        "BrnchId": {"Id": "0000"},
    }
    assert data["GrpHdr"]["InstdAgt"]["FinInstnId"]["ClrSysMmbId"]["MmbId"] == "313290000017"
    assert data["GrpHdr"]["InstdAgt"]["BrnchId"]["Id"] == "313290012046"
    group = data["OrgnlGrpInfAndSts"]
    assert group == [
        {
            "OrgnlMsgId": "2024031500000963",
            "OrgnlMsgNmId": "hvps.111.001.01",
            "GrpSts": "RJCT",
            "StsRsnInf": [
                {
                    "Rsn": {"Prtry": "CC1E0012"},
                    "AddtlInf": ["发起直接参与机构未登录大额支付系统，不能发送支付业务"],
                }
            ],
        }
    ]
    assert "TxInfAndSts" not in data
    assert carried(data["SplmtryData"]) == {
        "CmonConf/GrpHdr/SysCd": "HVPS",
        "CmonConf/GrpHdr/Rmk": "业务处理失败",
        "CmonConf/OrgnlGrpHdr/OrgnlInstgPty": "313290000017",
        "CmonConf/CmonConfInf/PrcSts": "PR09",
        "CmonConf/CmonConfInf/PrcDt": "2024-03-15",
    }


def test_ccms900_netted_package_is_accepted_settlement_in_process() -> None:
    original = paymsg.parse(EXAMPLES / "cnaps2" / CCMS900 / "beps-package-netted.xml")
    data = _data(convert(original, PACS002).message)["FIToFIPmtStsRpt"]
    group = data["OrgnlGrpInfAndSts"][0]
    assert (group["OrgnlMsgNmId"], group["GrpSts"]) == ("beps.121.001.01", "ACSP")
    assert group["StsRsnInf"] == [{"Rsn": {"Prtry": "NEZI0000"}}]
    kept = carried(data["SplmtryData"])
    assert kept["CmonConf/CmonConfInf/PrcSts"] == "PR03"
    assert kept["CmonConf/CmonConfInf/NetgRnd"] == "02"
    assert kept["CmonConf/GrpHdr/SysCd"] == "BEPS"


# --------------------------------------------------------------------------- saps.604


@pytest.mark.parametrize("path", SAPS604_FILES, ids=_ids(SAPS604_FILES))
def test_saps604_to_pacs002_validates_and_is_lossless(path: Path) -> None:
    original = paymsg.parse(path, type=SAPS604)
    unified = convert(original, PACS002)
    assert unified.loss == []
    assert _findings(unified.message) == []
    data = _data(unified.message)["FIToFIPmtStsRpt"]
    source = _data(original)["SttlmRtrRct"]
    tx = data["TxInfAndSts"][0]
    assert tx["OrgnlGrpInf"] == {
        "OrgnlMsgId": source["OrgnlGrpHdr"]["OrgnlMsgId"],
        "OrgnlMsgNmId": source["OrgnlGrpHdr"]["OrgnlMT"],
    }
    assert tx["StsRsnInf"][0]["Rsn"]["Prtry"] == source["NPCPrcInf"]["PrcCd"]
    # settlement date: the effective settlement date of the transaction
    assert tx.get("FctvIntrBkSttlmDt") == (
        {"Dt": source["NPCPrcInf"]["SttlmDt"]} if "SttlmDt" in source["NPCPrcInf"] else None
    )
    # balance (no pacs.002 element): carried in SplmtryData under its CNAPS2 path
    kept = carried(data["SplmtryData"])
    assert kept["SttlmRtrRct/AcctInf/Bal"] == source["AcctInf"]["Bal"]
    assert kept["SttlmRtrRct/NPCPrcInf/PrcSts"] == source["NPCPrcInf"]["PrcSts"]
    assert kept["SttlmRtrRct/NPCPrcInf/RcvTm"] == source["NPCPrcInf"]["RcvTm"]


def test_saps604_settled_and_queued_statuses() -> None:
    settled = paymsg.parse(EXAMPLES / "cnaps2" / SAPS604 / "settled-hvps111.xml")
    queued = paymsg.parse(EXAMPLES / "cnaps2" / SAPS604 / "queued-hvps112.xml")
    settled_tx = _data(convert(settled, PACS002).message)["FIToFIPmtStsRpt"]["TxInfAndSts"][0]
    queued_tx = _data(convert(queued, PACS002).message)["FIToFIPmtStsRpt"]["TxInfAndSts"][0]
    assert (settled_tx["TxSts"], settled_tx["FctvIntrBkSttlmDt"]) == ("ACSC", {"Dt": "2024-03-15"})
    assert queued_tx["TxSts"] == "PDNG"
    assert "FctvIntrBkSttlmDt" not in queued_tx


def test_saps604_to_ccms900_through_the_hub() -> None:
    original = paymsg.parse(EXAMPLES / "cnaps2" / SAPS604 / "settled-hvps111.xml")
    done = convert(original, CCMS900, id_generator=lambda: FIXED_IDS)
    assert _loss(done) == [
        ("SplmtryData[1]/Envlp/Cnaps2/SttlmRtrRct/AcctInf/Bal", "dropped"),
        ("SplmtryData[1]/Envlp/Cnaps2/SttlmRtrRct/NPCPrcInf/RcvTm", "dropped"),
        ("SplmtryData[1]/Envlp/Cnaps2/SttlmRtrRct/NPCPrcInf/TrnsmtTm", "dropped"),
    ]
    info = _data(done.message)["CmonConf"]
    assert info["CmonConfInf"] == {"PrcSts": "PR04", "PrcCd": "CB1I0000", "PrcDt": "2024-03-15"}
    assert info["GrpHdr"]["SysCd"] == "SAPS"
    assert info["OrgnlGrpHdr"] == {
        "OrgnlMsgId": "2024031500001037",
        "OrgnlInstgPty": "102100099996",
        "OrgnlMT": "hvps.111.001.01",
    }
    assert _findings(done.message) == []


# --------------------------------------------------------------------------- pacs.002 → ccms.900

PACS002_LOSS: dict[str, list[tuple[str, str]]] = {
    "cips-partial-acsc-rjct.xml": [
        ("GrpHdr/InstdAgt", "defaulted"),
        ("GrpHdr/InstdAgt/BrnchId/Id", "defaulted"),
        ("GrpHdr/InstdAgt/FinInstnId/BICFI", "dropped"),
        ("GrpHdr/InstgAgt", "defaulted"),
        ("GrpHdr/InstgAgt/BrnchId/Id", "defaulted"),
        ("GrpHdr/InstgAgt/FinInstnId/BICFI", "dropped"),
        ("GrpHdr/MsgId", "dropped"),
        ("OrgnlGrpInfAndSts[1]", "defaulted"),  # OrgnlInstgPty
        ("OrgnlGrpInfAndSts[1]/GrpSts", "dropped"),  # PART
        ("OrgnlGrpInfAndSts[1]/NbOfTxsPerSts[1]/DtldCtrlSum", "dropped"),
        ("OrgnlGrpInfAndSts[1]/NbOfTxsPerSts[1]/DtldNbOfTxs", "dropped"),
        ("OrgnlGrpInfAndSts[1]/NbOfTxsPerSts[1]/DtldSts", "dropped"),
        ("OrgnlGrpInfAndSts[1]/NbOfTxsPerSts[2]/DtldCtrlSum", "dropped"),
        ("OrgnlGrpInfAndSts[1]/NbOfTxsPerSts[2]/DtldNbOfTxs", "dropped"),
        ("OrgnlGrpInfAndSts[1]/NbOfTxsPerSts[2]/DtldSts", "dropped"),
        ("OrgnlGrpInfAndSts[1]/OrgnlCreDtTm", "dropped"),
        ("OrgnlGrpInfAndSts[1]/OrgnlCtrlSum", "dropped"),
        ("OrgnlGrpInfAndSts[1]/OrgnlMsgNmId", "defaulted"),  # SysCd
        ("OrgnlGrpInfAndSts[1]/OrgnlNbOfTxs", "dropped"),
        ("TxInfAndSts[1]/AccptncDtTm", "dropped"),
        ("TxInfAndSts[1]/AcctSvcrRef", "dropped"),
        ("TxInfAndSts[1]/ClrSysRef", "dropped"),
        ("TxInfAndSts[1]/FctvIntrBkSttlmDt/Dt", "moved"),  # → PrcDt
        ("TxInfAndSts[1]/OrgnlEndToEndId", "dropped"),
        ("TxInfAndSts[1]/OrgnlInstrId", "dropped"),
        ("TxInfAndSts[1]/OrgnlTxId", "dropped"),
        ("TxInfAndSts[1]/OrgnlUETR", "dropped"),
        ("TxInfAndSts[1]/StsId", "dropped"),
        ("TxInfAndSts[1]/TxSts", "moved"),  # → PrcSts, back as GrpSts
        ("TxInfAndSts[2]/OrgnlEndToEndId", "dropped"),
        ("TxInfAndSts[2]/OrgnlInstrId", "dropped"),
        ("TxInfAndSts[2]/OrgnlTxId", "dropped"),
        ("TxInfAndSts[2]/OrgnlTxRef/Cdtr/Pty/Nm", "dropped"),
        ("TxInfAndSts[2]/OrgnlTxRef/CdtrAcct/Id/Othr/Id", "dropped"),
        ("TxInfAndSts[2]/OrgnlTxRef/CdtrAgt/FinInstnId/BICFI", "dropped"),
        ("TxInfAndSts[2]/OrgnlTxRef/Dbtr/Pty/Nm", "dropped"),
        ("TxInfAndSts[2]/OrgnlTxRef/IntrBkSttlmAmt", "dropped"),
        ("TxInfAndSts[2]/OrgnlTxRef/IntrBkSttlmAmt/@Ccy", "dropped"),
        ("TxInfAndSts[2]/OrgnlTxRef/IntrBkSttlmDt", "dropped"),
        ("TxInfAndSts[2]/OrgnlUETR", "dropped"),
        ("TxInfAndSts[2]/StsId", "dropped"),
        ("TxInfAndSts[2]/StsRsnInf[1]/AddtlInf[1]", "dropped"),
        ("TxInfAndSts[2]/StsRsnInf[1]/Orgtr/Nm", "dropped"),
        ("TxInfAndSts[2]/StsRsnInf[1]/Rsn/Cd", "dropped"),
        ("TxInfAndSts[2]/TxSts", "dropped"),
    ],
    "fednow-acsc.xml": [
        ("GrpHdr/CreDtTm", "transliterated"),  # -04:00 → Beijing time
        ("GrpHdr/InstdAgt", "defaulted"),
        ("GrpHdr/InstdAgt/BrnchId/Id", "defaulted"),
        ("GrpHdr/InstdAgt/FinInstnId/ClrSysMmbId/ClrSysId/Cd", "dropped"),  # USABA
        ("GrpHdr/InstdAgt/FinInstnId/ClrSysMmbId/MmbId", "dropped"),
        ("GrpHdr/InstgAgt", "defaulted"),
        ("GrpHdr/InstgAgt/BrnchId/Id", "defaulted"),
        ("GrpHdr/InstgAgt/FinInstnId/ClrSysMmbId/ClrSysId/Cd", "dropped"),
        ("GrpHdr/InstgAgt/FinInstnId/ClrSysMmbId/MmbId", "dropped"),
        ("GrpHdr/MsgId", "dropped"),
        ("TxInfAndSts[1]/AccptncDtTm", "dropped"),
        ("TxInfAndSts[1]/FctvIntrBkSttlmDt/Dt", "moved"),
        ("TxInfAndSts[1]/OrgnlEndToEndId", "dropped"),
        ("TxInfAndSts[1]/OrgnlGrpInf", "defaulted"),  # OrgnlInstgPty
        ("TxInfAndSts[1]/OrgnlGrpInf/OrgnlCreDtTm", "dropped"),
        ("TxInfAndSts[1]/OrgnlGrpInf/OrgnlMsgId", "moved"),  # back in OrgnlGrpInfAndSts
        ("TxInfAndSts[1]/OrgnlGrpInf/OrgnlMsgNmId", "defaulted"),  # SysCd
        ("TxInfAndSts[1]/OrgnlGrpInf/OrgnlMsgNmId", "moved"),
        ("TxInfAndSts[1]/OrgnlUETR", "dropped"),
        ("TxInfAndSts[1]/TxSts", "moved"),
    ],
}
PACS002_RESULT = {
    "cips-partial-acsc-rjct.xml": {
        "GrpHdr": {
            "MsgId": "2026040800001234",
            "CreDtTm": "2026-04-08T10:06:52+08:00",
            "InstgPty": {"InstgDrctPty": "0000", "InstgPty": "0000"},
            "InstdPty": {"InstdDrctPty": "102100099996", "InstdPty": "102100099996"},
            "SysCd": "CCMS",
        },
        "OrgnlGrpHdr": {
            "OrgnlMsgId": "BOCHK20260408CIPS000318",
            "OrgnlInstgPty": "102100099996",
            "OrgnlMT": "pacs.008.001.08",
        },
        # group PART has no CNAPS2 status: the first transaction's ACSC → PR04
        "CmonConfInf": {"PrcSts": "PR04", "PrcDt": "2026-04-08"},
    },
    "fednow-acsc.xml": {
        "GrpHdr": {
            "MsgId": "2026060400001234",
            "CreDtTm": "2026-06-04T02:42:07",
            "InstgPty": {"InstgDrctPty": "0000", "InstgPty": "0000"},
            "InstdPty": {"InstdDrctPty": "102100099996", "InstdPty": "102100099996"},
            "SysCd": "CCMS",
        },
        "OrgnlGrpHdr": {
            "OrgnlMsgId": "20260603021000021FN00000000874",
            "OrgnlInstgPty": "102100099996",
            "OrgnlMT": "pacs.008.001.08",
        },
        "CmonConfInf": {"PrcSts": "PR04", "PrcDt": "2026-06-03"},
    },
}


@pytest.mark.parametrize("path", PACS002_FILES, ids=_ids(PACS002_FILES))
def test_pacs002_examples_to_ccms900(path: Path) -> None:
    source = paymsg.parse(path)
    done = convert(source, CCMS900, receiver="102100099996", id_generator=lambda: FIXED_IDS)
    assert _loss(done) == PACS002_LOSS[path.name]
    assert all(entry.reason for entry in done.loss)
    assert _data(done.message)["CmonConf"] == PACS002_RESULT[path.name]
    assert _findings(done.message, "xsd") == []
    # the one rule finding left is true: the original is not a CNAPS2 message
    assert [(rule, where) for rule, where, _ in _findings(done.message, "rule")] == [
        ("cnaps2.msgid.format", "/Document/CmonConf/OrgnlGrpHdr/OrgnlMsgId")
    ]


@pytest.mark.parametrize("path", PACS002_FILES, ids=_ids(PACS002_FILES))
def test_strict_refuses_and_names_the_lost_fields(path: Path) -> None:
    source = paymsg.parse(path)
    with pytest.raises(ConversionLossError) as caught:
        convert(source, CCMS900, strict=True)
    assert isinstance(caught.value, ConversionError)
    text = str(caught.value)
    assert "/Document/FIToFIPmtStsRpt/TxInfAndSts[1]/OrgnlUETR" in text
    assert "/Document/FIToFIPmtStsRpt/GrpHdr/MsgId" in text


def test_strict_accepts_a_lossless_round_trip() -> None:
    original = paymsg.parse(EXAMPLES / "cnaps2" / CCMS900 / "reject-hvps111-not-logged-in.xml")
    unified = convert(original, PACS002, strict=True).message
    back = convert(unified, CCMS900, strict=True, wrap=False).message
    assert paymsg.serialize(back) == paymsg.serialize(original)


# --------------------------------------------------------------------------- status rules


def _report(group: dict[str, Any] | None = None, **extra: Any) -> dict[str, Any]:
    """A minimal unified status report from a CNAPS2 bank to the NPC."""
    body: dict[str, Any] = {
        "GrpHdr": {
            "MsgId": "2024031500000777",
            "CreDtTm": "2024-03-15T09:00:00",
            "InstgAgt": {
                "FinInstnId": {"ClrSysMmbId": {"ClrSysId": {"Cd": "CNAPS"}, "MmbId": "0000"}}
            },
            "InstdAgt": {
                "FinInstnId": {
                    "ClrSysMmbId": {"ClrSysId": {"Cd": "CNAPS"}, "MmbId": "102100099996"}
                },
                "BrnchId": {"Id": "102100024015"},
            },
        },
    }
    if group is not None:
        body["OrgnlGrpInfAndSts"] = [
            {"OrgnlMsgId": "2024031500001037", "OrgnlMsgNmId": "hvps.111.001.01", **group}
        ]
    body.update(extra)
    return {"FIToFIPmtStsRpt": body}


def _to_ccms(data: dict[str, Any]) -> tuple[dict[str, Any], list[tuple[str, str]]]:
    done = convert(_message(PACS002, data), CCMS900, wrap=False)
    assert _findings(done.message, "xsd") == []
    return _data(done.message)["CmonConf"], _loss(done)


DEFAULTED_FROM_ISO = [
    ("GrpHdr/InstgAgt/BrnchId/Id", "defaulted"),  # InstgPty = the direct participant
    ("OrgnlGrpInfAndSts[1]", "defaulted"),  # OrgnlInstgPty = InstdDrctPty
    ("OrgnlGrpInfAndSts[1]/OrgnlMsgNmId", "defaulted"),  # SysCd from the original's MT
]


@pytest.mark.parametrize(
    ("status", "code"),
    [
        ("ACSC", "PR04"),
        ("ACSP", "PR03"),
        ("PDNG", "PR12"),
        ("RJCT", "PR09"),
        ("CANC", "PR08"),
        ("RCVD", "PR00"),
    ],
)
def test_unified_group_status_to_prcsts(status: str, code: str) -> None:
    body, loss = _to_ccms(_report({"GrpSts": status}))
    assert body["CmonConfInf"] == {"PrcSts": code}
    assert body["GrpHdr"]["SysCd"] == "HVPS"
    assert body["GrpHdr"]["InstdPty"] == {
        "InstdDrctPty": "102100099996",
        "InstdPty": "102100024015",
    }
    assert body["OrgnlGrpHdr"]["OrgnlInstgPty"] == "102100099996"
    assert loss == sorted(DEFAULTED_FROM_ISO)


def test_unified_status_without_exact_cnaps_code_is_recorded() -> None:
    body, loss = _to_ccms(_report({"GrpSts": "ACCC"}))
    assert body["CmonConfInf"]["PrcSts"] == "PR04"
    assert ("OrgnlGrpInfAndSts[1]/GrpSts", "transliterated") in loss
    body, loss = _to_ccms(_report({"GrpSts": "ACTC"}))
    assert body["CmonConfInf"]["PrcSts"] == "PR00"
    assert ("OrgnlGrpInfAndSts[1]/GrpSts", "defaulted") in loss


def test_report_without_status_defaults_prcsts() -> None:
    body, loss = _to_ccms(_report({}))
    assert body["CmonConfInf"]["PrcSts"] == "PR00"
    assert ("OrgnlGrpInfAndSts[1]/GrpSts", "defaulted") in loss


def test_reject_reason_and_text() -> None:
    reasons = [
        {"Rsn": {"Prtry": "CC1E0301"}, "AddtlInf": ["清算账户余额不足", "second line"]},
        {"Rsn": {"Cd": "AM04"}},
    ]
    body, loss = _to_ccms(_report({"GrpSts": "RJCT", "StsRsnInf": reasons}))
    assert body["CmonConfInf"] == {
        "PrcSts": "PR09",
        "PrcCd": "CC1E0301",
        "RjctInf": "清算账户余额不足",
    }
    assert ("OrgnlGrpInfAndSts[1]/StsRsnInf[1]/AddtlInf[2]", "dropped") in loss
    assert ("OrgnlGrpInfAndSts[1]/StsRsnInf[2]/Rsn/Cd", "dropped") in loss


def test_iso_reason_code_and_long_proprietary_code_are_dropped() -> None:
    body, loss = _to_ccms(_report({"GrpSts": "RJCT", "StsRsnInf": [{"Rsn": {"Cd": "AC01"}}]}))
    assert "PrcCd" not in body["CmonConfInf"]
    assert ("OrgnlGrpInfAndSts[1]/StsRsnInf[1]/Rsn/Cd", "dropped") in loss
    long_code = {"GrpSts": "RJCT", "StsRsnInf": [{"Rsn": {"Prtry": "NARRATIVE-REASON"}}]}
    body, loss = _to_ccms(_report(long_code))
    assert "PrcCd" not in body["CmonConfInf"]
    assert ("OrgnlGrpInfAndSts[1]/StsRsnInf[1]/Rsn/Prtry", "dropped") in loss


def test_carried_status_is_kept_when_it_agrees_and_replaced_when_not() -> None:
    original = paymsg.parse(EXAMPLES / "cnaps2" / CCMS900 / "reject-hvps111-not-logged-in.xml")
    data = _data(original)
    data["CmonConf"]["CmonConfInf"]["PrcSts"] = "PR05"  # 已成功 → ACSC
    data["CmonConf"]["CmonConfInf"].pop("RjctInf")
    unified = _data(convert(_message(CCMS900, data), PACS002).message)
    assert unified["FIToFIPmtStsRpt"]["OrgnlGrpInfAndSts"][0]["GrpSts"] == "ACSC"
    body, loss = _to_ccms(copy.deepcopy(unified))
    assert body["CmonConfInf"]["PrcSts"] == "PR05" and loss == []
    # somebody changed the unified status: the unified status wins, the stale code is reported
    unified["FIToFIPmtStsRpt"]["OrgnlGrpInfAndSts"][0]["GrpSts"] = "RJCT"
    body, loss = _to_ccms(unified)
    assert body["CmonConfInf"]["PrcSts"] == "PR09"
    assert loss == [("SplmtryData[1]/Envlp/Cnaps2/CmonConf/CmonConfInf/PrcSts", "dropped")]


def test_transaction_level_status_when_there_is_no_group() -> None:
    tx = {
        "OrgnlGrpInf": {"OrgnlMsgId": "2024031500001037", "OrgnlMsgNmId": "beps.121.001.01"},
        "OrgnlTxId": "2024031500000001",
        "TxSts": "RJCT",
        "StsRsnInf": [{"Rsn": {"Prtry": "CC1E0205"}, "AddtlInf": ["账户已销户"]}],
    }
    body, loss = _to_ccms(_report(None, TxInfAndSts=[tx, {"OrgnlTxId": "x", "TxSts": "ACSC"}]))
    assert body["OrgnlGrpHdr"]["OrgnlMT"] == "beps.121.001.01"
    assert body["GrpHdr"]["SysCd"] == "BEPS"
    assert body["CmonConfInf"] == {"PrcSts": "PR09", "PrcCd": "CC1E0205", "RjctInf": "账户已销户"}
    assert ("TxInfAndSts[1]/OrgnlTxId", "dropped") in loss
    assert ("TxInfAndSts[2]/TxSts", "dropped") in loss


def test_foreign_supplementary_data_is_reported() -> None:
    extra = {"SplmtryData": [{"PlcAndNm": "Other", "Envlp": {"#any": ["<x xmlns='urn:x'>1</x>"]}}]}
    _, loss = _to_ccms(_report({"GrpSts": "ACSC"}, **extra))
    assert [p for p, _ in loss if p.startswith("SplmtryData")] == [
        "SplmtryData[1]/Envlp/*[1]",
        "SplmtryData[1]/PlcAndNm",
    ]


# --------------------------------------------------------------------------- properties

DIGITS = string.digits
CJK = st.characters(min_codepoint=0x4E00, max_codepoint=0x9FA5)
TEXT_CHARS = st.one_of(CJK, st.sampled_from("，。：；（）、ABCxyz0123456789-/"))


def _text(max_size: int) -> st.SearchStrategy[str]:
    return st.text(TEXT_CHARS, min_size=1, max_size=max_size)


def _digits(size: int) -> st.SearchStrategy[str]:
    return st.text(st.sampled_from(DIGITS), min_size=size, max_size=size)


DAY = st.dates(date(2000, 1, 1), date(2099, 12, 31))
MSG_ID = st.builds(lambda d, n: f"{d:%Y%m%d}{n}", DAY, _digits(8))
CREATED = st.datetimes(datetime(2000, 1, 1), datetime(2099, 12, 31)).map(
    lambda moment: moment.replace(microsecond=0)
)
PARTY = st.one_of(st.just("0000"), _digits(12))
PROCESSING_CODE = st.builds(
    lambda a, b: a + b,
    st.text(st.sampled_from(string.ascii_uppercase + DIGITS), min_size=4, max_size=4),
    _digits(4),
)


def _optional(strategy: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    return st.one_of(st.none(), strategy)


@st.composite
def ccms900_bodies(draw: st.DrawFn) -> dict[str, Any]:
    instg = draw(PARTY)
    instd = draw(PARTY)
    header: dict[str, Any] = {
        "MsgId": draw(MSG_ID),
        "CreDtTm": draw(CREATED).isoformat(),
        "InstgPty": {"InstgDrctPty": instg, "InstgPty": draw(st.one_of(st.just(instg), PARTY))},
        "InstdPty": {"InstdDrctPty": instd, "InstdPty": draw(st.one_of(st.just(instd), PARTY))},
        "SysCd": draw(st.sampled_from(sorted(SYSTEMS))),
        "Rmk": draw(_optional(_text(256))),
    }
    original = {
        "OrgnlMsgId": draw(MSG_ID),
        "OrgnlInstgPty": draw(PARTY),
        "OrgnlMT": draw(
            st.sampled_from(
                ["hvps.111.001.01", "hvps.112.001.01", "beps.121.001.01", "beps.122.001.01"]
            )
        ),
    }
    info = {
        "PrcSts": draw(st.sampled_from([row.code for row in STATUSES])),
        "PrcCd": draw(_optional(PROCESSING_CODE)),
        "PtyId": draw(_optional(_digits(12))),
        "PtyPrcCd": draw(
            _optional(
                st.text(st.sampled_from(string.ascii_uppercase + DIGITS), min_size=1, max_size=4)
            )
        ),
        "RjctInf": draw(_optional(_text(105))),
        "PrcDt": draw(_optional(DAY.map(lambda d: d.isoformat()))),
        "NetgRnd": draw(_optional(_digits(2))),
    }
    return {
        "CmonConf": {
            "GrpHdr": _present(header),
            "OrgnlGrpHdr": original,
            "CmonConfInf": _present(info),
        }
    }


def _present(part: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in part.items() if value is not None}


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(ccms900_bodies())
def test_generated_ccms900_round_trip_is_exact(body: dict[str, Any]) -> None:
    original = _message(CCMS900, body)
    assert _findings(original, "xsd") == []
    unified = convert(original, PACS002)
    assert unified.loss == []
    assert _findings(unified.message, "xsd") == []
    back = convert(unified.message, CCMS900, wrap=False)
    assert back.loss == []
    assert paymsg.serialize(back.message) == paymsg.serialize(original)
    status = _data(unified.message)["FIToFIPmtStsRpt"]["OrgnlGrpInfAndSts"][0].get("GrpSts")
    assert status == BY_CODE[body["CmonConf"]["CmonConfInf"]["PrcSts"]].iso
