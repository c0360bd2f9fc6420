"""Reconciliation and probes answered from the centre's books, and the end-of-day pushes."""

from __future__ import annotations

import itertools
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import paymsg
from paymsg import cnaps2
from paymsg.codec.json.engine import from_data
from paymsg.schema.catalog import catalog
from paymsg.sim.books import from_units
from paymsg.sim.scenario import Fault, Scenario

from .conftest import EXAMPLES, A, B, World, beps, header_of, hvps, make_world

DAY = "2026-12-07"
_ids = itertools.count(1)


def request(
    mt: str, root: str, info_key: str, info: dict[str, Any], bank: str = A, n: int | None = None
) -> bytes:
    """A reconciliation request from ``bank`` to the NPC (``n``: its ids; fresh by default)."""
    n = next(_ids) if n is None else n
    system = mt[:4].upper()
    data = {
        root: {
            "GrpHdr": {
                "MsgId": f"20261207{90000000 + n:08d}",
                "CreDtTm": "2026-12-07T17:40:00",
                "InstgPty": {"InstgDrctPty": bank, "InstgPty": bank},
                "InstdPty": {"InstdDrctPty": "0000", "InstdPty": "0000"},
                "SysCd": system,
            },
            info_key: info,
        }
    }
    document = from_data(catalog().get(mt).root_class, data)
    message = cnaps2.wrap(
        document,
        type=mt,
        sender=bank,
        receiver="0000",
        direction="U",
        mesg_id=f"RQ{n:018d}",
        now=datetime(2026, 12, 7, 17, 40),
    )
    return paymsg.serialize(message)


def _only(got: list[Any], mt: str) -> list[Any]:
    return [g for g in got if g.mt == mt]


def _valid(got: list[Any]) -> None:
    for g in got:
        report = paymsg.validate(g.text)
        assert report.ok, (g.mt, [f.message for f in report.findings])


def _day(world: World) -> dict[str, bytes]:
    """A's day: two settled 111s, one 112, one refused 111, and a BEPS package each way."""
    texts = {
        "p1": hvps(A, B, "100.00"),
        "p2": hvps(A, B, "250.00"),
        "fi": hvps(A, B, "1000.00", mt="hvps.112.001.01"),
        "bad": hvps(A, B, "5.00").replace(b"CLRG", b"INDA"),
        "in": hvps(B, A, "42.00"),
        "pkg": beps(A, B, ("10.00", "20.00")),
        "pkg_in": beps(B, A, ("7.50",)),
    }
    for name, text in texts.items():
        world.send(text, bank=B if name in ("in", "pkg_in") else A)
    world.run()
    world.centre.close_round()
    world.received(A)
    world.received(B)
    return texts


def test_probe_991_gets_992(world: World) -> None:
    probe = (EXAMPLES / "ccms.991.001.01" / "bank-probes-npc.txt").read_bytes()
    world.send(probe)
    world.run()
    ack, answer = world.received(A)
    assert ack.mt == "ccms.990.001.02"
    assert answer.mt == "ccms.992.001.01"
    info = answer.body()["ChckRspnInf"]
    assert info["OrigSndNd"] == A
    assert info["OrigSndDt"] == "2024-03-15 10:30:00.125"
    assert info["RcvRoadNm"] == f"MSGMBFE_1.{A}"[:20]  # Max20Text
    _valid([answer])


def test_hvps_summary_711(world: World) -> None:
    _day(world)
    world.send(request("hvps.710.001.01", "AcctChckngReq", "AcctChckngReqInf", {"ChckngDt": DAY}))
    world.run()
    (summary,) = _only(world.received(A), "hvps.711.001.01")
    info = summary.body()["SummryFileInf"]
    rows = {(r["MT"], r["TxTpCd"], r["PrcSts"]): r for r in info["ChckPmtInfDtls"]}
    assert info["TtlPmt"] == str(len(rows))
    assert rows[("hvps.111.001.01", "A100", "PR04")]["SndgNbOfTxs"] == "2"
    assert rows[("hvps.111.001.01", "A100", "PR04")]["SndgCtrlSum"] == "CNY+350.00"
    assert rows[("hvps.111.001.01", "A100", "PR04")]["RcvgCtrlSum"] == "CNY+42.00"
    assert rows[("hvps.111.001.01", "A100", "PR09")]["SndgCtrlSum"] == "CNY+5.00"
    assert rows[("hvps.112.001.01", "A200", "PR04")]["SndgNbOfTxs"] == "1"
    assert summary.body()["OrgnlGrpHdr"]["OrgnlMT"] == "hvps.710.001.01"
    _valid([summary])


def test_lost_payment_is_missing_from_the_summary(tmp_path: Path) -> None:
    world = make_world(tmp_path, Scenario(faults=[Fault(kind="lose", mt="hvps.111.001.01")]))
    world.send(hvps(A, B, "300.00"))
    world.send(hvps(A, B, "700.00"))
    world.run()
    assert len(_only(world.received(A), "saps.604.001.01")) == 2  # A saw both settle
    world.send(request("hvps.710.001.01", "AcctChckngReq", "AcctChckngReqInf", {"ChckngDt": DAY}))
    world.run()
    (summary,) = _only(world.received(A), "hvps.711.001.01")
    (row,) = summary.body()["SummryFileInf"]["ChckPmtInfDtls"]
    assert (row["SndgNbOfTxs"], row["SndgCtrlSum"]) == ("1", "CNY+700.00")  # 300 is lost
    world.close()


def test_hvps_details_713_partitioned(tmp_path: Path) -> None:
    world = make_world(tmp_path, Scenario(partition_size=2))
    texts = [hvps(A, B, f"{n}.00") for n in (1, 2, 3, 4, 5)]
    for text in texts:
        world.send(text)
    world.run()
    world.received(A)
    cells = {
        "ChckngDt": DAY,
        "TtlCnt": "1",
        "Dtls": [{"MT": "hvps.111.001.01", "TxTpCd": "A100", "SndRcvTp": "SR00", "PrcSts": "PR04"}],
    }
    world.send(request("hvps.712.001.01", "DtlReq", "DtlReqInf", cells))
    world.run()
    parts = _only(world.received(A), "hvps.713.001.01")
    assert [
        (p.body()["Prttn"]["StartNb"], p.body()["Prttn"]["EndNb"], p.body()["Prttn"]["TtlNb"])
        for p in parts
    ] == [("1", "2", "5"), ("3", "4", "5"), ("5", "5", "5")]
    amounts = sorted(
        Decimal(d["Amt"]["#text"])
        for p in parts
        for cell in p.body()["DtlRspnInf"]["Dtls"]
        for d in cell["ChckngDtl"]
    )
    assert amounts == [Decimal(n) for n in (1, 2, 3, 4, 5)]
    assert {
        d["DbtCdtId"] for p in parts for c in p.body()["DtlRspnInf"]["Dtls"] for d in c["ChckngDtl"]
    } == {"DBIT"}
    _valid(parts)
    world.close()


def test_hvps_download_715(world: World) -> None:
    texts = _day(world)
    msg_id = paymsg.parse(texts["in"]).document.fito_ficstmr_cdt_trf.grp_hdr.msg_id
    sent_id = paymsg.parse(texts["p1"]).document.fito_ficstmr_cdt_trf.grp_hdr.msg_id
    items = {
        "NbOfTxs": "3",
        "TxsDtls": [
            {
                "SndRcvTp": "SR01",
                "OrgnlGrpHdr": {
                    "OrgnlMsgId": msg_id,
                    "OrgnlInstgPty": B,
                    "OrgnlMT": "hvps.111.001.01",
                },
                "DbtCdtId": "CRDT",
            },
            {
                "SndRcvTp": "SR00",
                "OrgnlGrpHdr": {
                    "OrgnlMsgId": sent_id,
                    "OrgnlInstgPty": A,
                    "OrgnlMT": "hvps.111.001.01",
                },
            },
            {
                "SndRcvTp": "SR00",
                "OrgnlGrpHdr": {
                    "OrgnlMsgId": "2024031599999999",
                    "OrgnlInstgPty": A,
                    "OrgnlMT": "hvps.111.001.01",
                },
            },
        ],
    }
    world.send(request("hvps.714.001.01", "TxDwnldgReq", "TxDwnldgReqInf", items))
    world.run()
    received, sent, missing = _only(world.received(A), "hvps.715.001.01")
    content = received.body()["TxDwnldgRspnInf"]["OrgnlMsgCntt"]
    forwarded = paymsg.parse(content["Cntt"].encode())
    assert forwarded.envelope.header.mesg_direction == "D"  # what A received: the forward
    assert forwarded.document == paymsg.parse(texts["in"]).document
    assert content["PrcSts"] == "PR04"
    assert sent.body()["TxDwnldgRspnInf"]["OrgnlMsgCntt"]["Cntt"].encode() == texts["p1"]
    npc = missing.body()["TxDwnldgRspnInf"]["NPCPrcInf"]
    assert (npc["PrcSts"], npc["PrcCd"]) == ("PR09", "CC1E0401")
    _valid([received, sent, missing])


def test_beps_summary_details_and_download(world: World) -> None:
    texts = _day(world)
    world.send(request("beps.720.001.01", "TtlChckInfReq", "TtlChckInfReqInf", {"ChckDt": DAY}))
    world.run()
    (summary,) = _only(world.received(A), "beps.721.001.01")
    (row,) = summary.body()["TtlChckInf"]["ChckPmtInf"]["ChckPmtInfDtls"]
    assert (row["TxNetgDt"], row["TxNetgRnd"], row["MT"], row["PrcSts"]) == (
        DAY,
        "01",
        "beps.121.001.01",
        "PR03",
    )
    assert (row["SndTtlCnt"], row["SndTtlAmt"]) == ("1", "CNY+30.00")
    assert (row["RcvTtlCnt"], row["RcvTtlAmt"]) == ("1", "CNY+7.50")
    cells = {
        "ChckDt": DAY,
        "DtlChckPmtInf": {
            "NbOfTxs": "1",
            "DtlChckPmtDtls": [
                {
                    "SndRcvTp": "SR01",
                    "TxNetgDt": DAY,
                    "TxNetgRnd": "01",
                    "MT": "beps.121.001.01",
                    "PrcSts": "PR03",
                }
            ],
        },
        "DtlChckMsg": {"NbOfTxs": "0"},
    }
    world.send(request("beps.722.001.01", "DtlChckReq", "DtlChckReqInf", cells))
    world.run()
    (details,) = _only(world.received(A), "beps.723.001.01")
    (cell,) = details.body()["DtlChckRspnInf"]["DtlChckPmtRspnInf"]["DtlChckRspnDtls"]
    (package,) = cell["OrgnlPmtDtls"]
    package_id = paymsg.parse(texts["pkg_in"]).document.cstmr_cdt_trf.pkggrp_hdr.msg_id
    assert package["OrgnlGrpHdr"] == {
        "OrgnlMsgId": package_id,
        "OrgnlInstgPty": B,
        "OrgnlMT": "beps.121.001.01",
    }
    assert (package["TtlCnt"], package["CtrlSum"]["#text"]) == ("1", "7.50")
    download = {
        "NbOfTxs": "1",
        "DwnldReqTxsDtls": [{"SndRcvIp": "SR01", "OrgnlGrpHdr": package["OrgnlGrpHdr"]}],
    }
    world.send(request("beps.724.001.01", "TxDwnldReq", "TxDwnldReqInf", download))
    world.run()
    (answer,) = _only(world.received(A), "beps.725.001.01")
    info = answer.body()["TxDwnldRspnInf"]
    assert info["OrgnlMsgSts"]["NPCPrcInf"]["NetgRnd"] == "01"
    forwarded = paymsg.parse(info["OrgnlMsgCntt"].encode())
    assert forwarded.document.cstmr_cdt_trf.npcprc_inf.prc_sts == "PR03"
    _valid([summary, details, answer])


def test_end_of_day_pushes_716_and_726(tmp_path: Path) -> None:
    world = make_world(tmp_path, Scenario(partition_size=2))
    texts = _day(world)
    world.centre.end_of_day()
    got = world.received(A, pre_reconciliation=True)
    hvps_parts = _only(got, "hvps.716.001.01")
    beps_parts = _only(got, "beps.726.001.01")
    assert len(hvps_parts) == 3  # 5 HVPS payments of A (4 sent, 1 received), 2 per part
    assert hvps_parts[-1].body()["Prttn"] == {"TtlNb": "5", "StartNb": "5", "EndNb": "5"}
    sent = [
        Decimal(d["Amt"]["#text"])
        for p in hvps_parts
        for cell in p.body()["AcctChckngInf"]["Dtls"]
        for d in cell.get("ChckngDtlOfSndg", [])
        if d["PrcSts"] == "PR04"
    ]
    assert sorted(sent) == [Decimal("100.00"), Decimal("250.00"), Decimal("1000.00")]
    (beps_part,) = beps_parts
    (row,) = beps_part.body()["AcctChckInf"]["ChckInfDtls1"]
    assert (row["SndTtlAmt"], row["RcvTtlAmt"]) == ("CNY+30.00", "CNY+7.50")
    _valid(hvps_parts + beps_parts)
    # the books agree with what A was told
    books_sent = sorted(from_units(p.amount) for p in world.books.payments(sender=A, status="PR04"))
    assert books_sent == sorted(sent)
    assert header_of(texts["p1"]).orig_sender == A
    world.close()
