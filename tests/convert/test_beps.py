"""BEPS hub edges: beps.121 ⇄ pacs.008.001.08, beps.122 ⇄ pacs.009.001.08, returns ⇄ pacs.004.001.09.

Guarantees tested on the examples and on generated packages:

* CNAPS2 → unified → CNAPS2 gives back the original body (canonical XML equality), with no
  loss entry either way, and every converted message validates (xsd + rule packs);
* unified → CNAPS2 → unified keeps every field BEPS can carry, and the loss report of the
  first step lists exactly the fields that did not come back;
* the unified side states the true count and sum of its transactions.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import paymsg
from paymsg.codec.json.engine import from_data, to_data
from paymsg.convert import LossEntry, convert, route
from paymsg.convert.engine.loss import loss_path
from paymsg.convert.engine.paths import flatten, get
from paymsg.convert.hub import unified_of
from paymsg.errors import ConversionError
from paymsg.schema.catalog import catalog

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
CNAPS = EXAMPLES / "cnaps2"
ISO = EXAMPLES / "iso20022"

PACS008, PACS009, PACS004 = "pacs.008.001.08", "pacs.009.001.08", "pacs.004.001.09"
BEPS121, BEPS122 = "beps.121.001.01", "beps.122.001.01"


def ids() -> Callable[[], str]:
    """A deterministic id generator (20-digit header ids; BEPS ids take the last 8 digits)."""
    counter = itertools.count(1)
    return lambda: f"20240315{next(counter):012d}"


def body(message: paymsg.Message) -> bytes:
    """The canonical XML of the document alone (no CNAPS2 header)."""
    return paymsg.serialize(paymsg.Message(message.type, message.document))


def assert_valid(message: paymsg.Message) -> None:
    report = paymsg.validate(message)
    errors = [f"{f.rule} {f.path}: {f.message}" for f in report.findings if f.severity == "error"]
    assert report.ok, errors


def message_of(type_id: str, data: dict[str, Any]) -> paymsg.Message:
    mtype = catalog().get(type_id)
    return paymsg.Message(type_id, from_data(mtype.root_class, data, f"/{mtype.root}"))


def lost(loss: list[LossEntry]) -> set[tuple[str, str]]:
    return {(entry.source_path, entry.action) for entry in loss}


# --------------------------------------------------------------------------- loss exactness

_JOINED = re.compile(r"^(.*/(?:Ustrd|AdrLine))\[1\]$")


def _raw(data: Any, path: str) -> Any:
    head, _, last = path.rpartition("/")
    parent = get(data, head) if head else data
    return parent.get(last) if isinstance(parent, dict) else None


def survived(back: dict[str, Any], path: str, value: str) -> bool:
    """Whether ``value`` came back at ``path``; the first line of a text that BEPS joins into
    one field (remittance, address) survives when the joined text starts with it."""
    joined = _JOINED.match(path)
    if joined:
        lines = _raw(back, joined.group(1))
        return isinstance(lines, list) and "".join(lines).startswith(value)
    return get(back, path) == value


def assert_loss_exact(source: dict[str, Any], back: dict[str, Any], loss: list[LossEntry]) -> None:
    """Every source field either came back unchanged or is in the loss report — not both."""
    reported = {entry.source_path for entry in loss}
    # a field spilled as a /H01/path:value item is reported moved and may be read back
    spilled = {e.source_path for e in loss if e.action == "moved" and "path:value" in e.reason}
    leaves = flatten(source)
    shown = {loss_path(path) for path in leaves}
    problems = []
    for path, value in leaves.items():
        kept = survived(back, path, value)
        if kept and loss_path(path) in spilled:
            continue
        if kept == (loss_path(path) in reported):
            state = "kept and reported" if kept else "lost but not reported"
            problems.append(f"{path} = {value!r}: {state}")
    for entry in loss:
        if entry.action != "defaulted" and entry.source_path not in shown:
            problems.append(f"reported {entry.source_path} ({entry.action}) is not a source field")
    assert not problems, "\n".join(problems)


def unified_round_trip(message: paymsg.Message, beps: str) -> tuple[Any, Any, list[LossEntry]]:
    """unified → BEPS → unified: (source data, data after the trip, loss of the first step)."""
    there = convert(message, beps, id_generator=ids())
    assert_valid(there.message)
    again = paymsg.parse(paymsg.serialize(there.message))
    back = convert(again, message.type)
    assert back.loss == []
    assert_valid(back.message)
    return to_data(message.document), to_data(back.message.document), there.loss


# --------------------------------------------------------------------------- the edges


def test_edges_are_registered_both_ways() -> None:
    for beps, iso in (
        (BEPS121, PACS008),
        (BEPS122, PACS009),
        (BEPS121, PACS004),
        (BEPS122, PACS004),
    ):
        assert route(beps, iso) == [(beps, iso)]
        assert route(iso, beps) == [(iso, beps)]


def test_default_unified_counterparts_are_the_credit_transfers() -> None:
    route(BEPS121, PACS008)  # loads the mappings
    assert unified_of(catalog().get(BEPS121)) == PACS008
    assert unified_of(catalog().get(BEPS122)) == PACS009


# --------------------------------------------------------------------------- CNAPS2 examples

CNAPS_CASES = [
    (path, target)
    for path in sorted((CNAPS / BEPS121).glob("*.xml")) + sorted((CNAPS / BEPS122).glob("*.xml"))
    for target in (
        [PACS008 if BEPS121 in str(path) else PACS009]
        + ([PACS004] if path.name.startswith("return") else [])
    )
]


@pytest.mark.parametrize(
    ("path", "target"),
    CNAPS_CASES,
    ids=[f"{p.parent.name}/{p.name}->{t}" for p, t in CNAPS_CASES],
)
def test_cnaps_example_round_trip_is_exact(path: Path, target: str) -> None:
    beps = path.parent.name
    original = paymsg.parse(path, type=beps)
    unified = convert(original, target)
    assert unified.loss == []
    assert unified.message.type == target
    assert_valid(unified.message)
    reread = paymsg.parse(paymsg.serialize(unified.message))  # through XML, as a hub would
    back = convert(reread, beps, id_generator=ids())
    assert back.loss == []
    assert body(back.message) == body(original)
    assert_valid(back.message)  # with its {H:} header


def test_package_header_becomes_the_group_header() -> None:
    original = paymsg.parse(CNAPS / BEPS121 / "forwarded-by-npc.xml", type=BEPS121)
    data = to_data(convert(original, PACS008).message.document)["FIToFICstmrCdtTrf"]
    group = data["GrpHdr"]
    assert group["MsgId"] == "2024031500217735"
    assert group["NbOfTxs"] == "3"
    assert group["CtrlSum"] == "24799.99"
    assert group["TtlIntrBkSttlmAmt"] == {"@Ccy": "CNY", "#text": "24799.99"}
    assert group["SttlmInf"] == {"SttlmMtd": "CLRG", "ClrSys": {"Prtry": "BEPS"}}
    member = {"ClrSysId": {"Cd": "CNAPS"}, "MmbId": "313290000017"}
    assert group["InstgAgt"] == {"FinInstnId": {"ClrSysMmbId": member}}
    first = data["CdtTrfTxInf"][0]
    assert first["PmtId"] == {"EndToEndId": "2024031533067101", "TxId": "2024031533067101"}
    assert first["PmtTpInf"] == {"CtgyPurp": {"Prtry": "A100"}}
    assert first["Purp"] == {"Prtry": "02102"}
    assert first["RmtInf"] == {"Ustrd": ["生活费"]}
    assert get(first, "DbtrAgt/FinInstnId/ClrSysMmbId/MmbId") == "313290012046"
    assert get(first, "DbtrAcct/Id/Othr/Issr") == "313290012046"
    assert first["ChrgBr"] == "DEBT"
    assert "SplmtryData" not in first  # nothing CNAPS-only in a plain A100 detail
    # Rmk and the NPC processing information travel in the message's supplementary data
    assert data["SplmtryData"][0]["PlcAndNm"] == "CNAPS2"
    carried = data["SplmtryData"][0]["Envlp"]["#any"][0]
    assert "PR03" in carried and "上海银行普通贷记往账包" in carried


def test_return_maps_onto_pacs004() -> None:
    original = paymsg.parse(CNAPS / BEPS121 / "return-a105.xml", type=BEPS121)
    data = to_data(convert(original, PACS004).message.document)["PmtRtr"]
    assert data["GrpHdr"]["TtlRtrdIntrBkSttlmAmt"] == {"@Ccy": "CNY", "#text": "60500.00"}
    tx = data["TxInf"][0]
    assert tx["RtrId"] == "2024031800060001"
    assert tx["OrgnlGrpInf"] == {"OrgnlMsgId": "2024031500305218", "OrgnlMsgNmId": BEPS121}
    assert tx["OrgnlTxId"] == tx["OrgnlEndToEndId"] == "2024031500810001"
    assert tx["RtrRsnInf"] == [{"AddtlInf": ["收款人账号与户名不符"]}]
    assert get(tx, "RtrChain/Dbtr/Pty/Nm") == "陈晓燕"
    assert get(tx, "OrgnlTxRef/CdtrAcct/Id/Othr/Id") == "6217001210034567890"  # returned from
    assert get(tx, "OrgnlTxRef/PmtTpInf/CtgyPurp/Prtry") == "A100"
    assert get(tx, "OrgnlTxRef/DbtrAgt/FinInstnId/ClrSysMmbId/MmbId") == "102100024015"


def test_credit_transfer_package_is_not_a_return() -> None:
    original = paymsg.parse(CNAPS / BEPS121 / "customer-credit-package.xml", type=BEPS121)
    with pytest.raises(ConversionError) as caught:
        convert(original, PACS004)
    message = str(caught.value)
    assert "A105" in message and "A100" in message and "2024031500810001" in message
    assert caught.value.hint is not None and PACS008 in caught.value.hint


def test_institution_return_is_not_a_treasury_credit() -> None:
    original = paymsg.parse(CNAPS / BEPS122 / "treasury-credit-a104.xml", type=BEPS122)
    with pytest.raises(ConversionError, match="A104"):
        convert(original, PACS004)


def test_a_package_whose_stated_count_disagrees_is_reported_and_the_written_sum_kept() -> None:
    """NbOfTxs 4 for 3 details is a disagreement (defaulted, refused by strict); a control
    sum written another way (64360.5 for 64360.50) is the same sum and comes back as it was."""
    original = paymsg.parse(CNAPS / BEPS121 / "customer-credit-package.xml", type=BEPS121)
    data = to_data(original.document)
    data["CstmrCdtTrf"]["PKGGrpHdr"]["NbOfTxs"] = "4"
    data["CstmrCdtTrf"]["PKGGrpHdr"]["CtrlSum"]["#text"] = "64360.5"
    odd = message_of(BEPS121, data)
    unified = convert(odd, PACS008)
    group = to_data(unified.message.document)["FIToFICstmrCdtTrf"]["GrpHdr"]
    assert (group["NbOfTxs"], group["CtrlSum"]) == ("3", "64360.50")  # the truth
    assert [(e.source_path, e.action, e.value) for e in unified.loss] == [
        ("/Document/CstmrCdtTrf/PKGGrpHdr/NbOfTxs", "defaulted", "4")
    ]
    assert_valid(unified.message)
    back = convert(unified.message, BEPS121, wrap=False)
    assert back.loss == []
    header = to_data(back.message.document)["CstmrCdtTrf"]["PKGGrpHdr"]
    assert (header["NbOfTxs"], header["CtrlSum"]["#text"]) == ("3", "64360.5")


def test_long_remittance_is_split_into_lines_and_joined_back() -> None:
    original = paymsg.parse(CNAPS / BEPS121 / "customer-credit-package.xml", type=BEPS121)
    data = to_data(original.document)
    text = ("附言" * 130)[:244] + " 发票号00123456"
    assert len(text) == 256
    data["CstmrCdtTrf"]["CstmrCdtTrfInf"][0]["AddtlInf"] = text
    long = message_of(BEPS121, data)
    unified = convert(long, PACS008)
    lines = to_data(unified.message.document)["FIToFICstmrCdtTrf"]["CdtTrfTxInf"][0]["RmtInf"]
    assert [len(line) for line in lines["Ustrd"]] == [140, 116]
    back = convert(unified.message, BEPS121, wrap=False)
    assert body(back.message) == body(long)


# --------------------------------------------------------------------------- unified examples

ISO_CASES = [
    (ISO / PACS008 / "cips-cny-batch.xml", BEPS121),
    (ISO / PACS004 / "cips-cny-return-ac04.xml", BEPS121),
    (ISO / PACS004 / "cips-cny-return-ac04.xml", BEPS122),
]


@pytest.mark.parametrize(("path", "beps"), ISO_CASES, ids=[f"{p.name}->{b}" for p, b in ISO_CASES])
def test_unified_example_keeps_what_beps_holds_and_reports_the_rest(path: Path, beps: str) -> None:
    message = paymsg.parse(path)
    there = convert(message, beps, id_generator=ids())
    report = paymsg.validate(there.message)
    errors = {
        (f.rule, (f.path or "").rsplit("/", 1)[-1])
        for f in report.findings
        if f.severity == "error"
    }
    if message.type == PACS004:
        # the original of this return is a CIPS message: its id is kept as it is (a made-up
        # CNAPS-style id would break the reference), which the rule pack rightly flags
        assert errors == {("cnaps2.msgid.format", "OrgnlMsgId")}
    else:
        assert errors == set()
    source = to_data(message.document)
    again = paymsg.parse(paymsg.serialize(there.message))
    back = convert(again, message.type)
    assert back.loss == []
    assert_loss_exact(source, to_data(back.message.document), there.loss)


def test_cips_batch_loss_names_the_fields_beps_cannot_hold() -> None:
    message = paymsg.parse(ISO / PACS008 / "cips-cny-batch.xml")
    there = convert(message, BEPS121, id_generator=ids())
    tx = "/Document/FIToFICstmrCdtTrf/CdtTrfTxInf[1]"
    assert {
        (f"{tx}/PmtId/UETR", "moved"),  # into AddtlInf as /H01/PmtId/UETR:…
        (f"{tx}/Cdtr/Id/OrgId/Othr[1]/Id", "dropped"),
        (f"{tx}/DbtrAgt/FinInstnId/BICFI", "dropped"),
        (f"{tx}/Cdtr/PstlAdr/StrtNm", "moved"),  # into the one address line
        (f"{tx}/PmtId/TxId", "defaulted"),
        ("/Document/FIToFICstmrCdtTrf/GrpHdr/MsgId", "defaulted"),
        ("/Document/FIToFICstmrCdtTrf/GrpHdr/SttlmInf/ClrSys/Prtry", "moved"),
    } <= lost(there.loss)
    detail = to_data(there.message.document)["CstmrCdtTrf"]["CstmrCdtTrfInf"][0]
    assert detail["AddtlInf"].startswith(
        "货款 合同号HKRF-2026-0317 发票号SH2026031701 /H01/PmtId/InstrId:"
    )
    assert "/H01/PmtId/UETR:1b8ef3e5-8ab9-4bb1-8fa7-9ea90c7b47c8" in detail["AddtlInf"]
    assert detail["Cdtr"]["PstlAdr"]["AdrLine"] == "上海 浦东新区 世纪大道 1198号 200120"
    assert get(detail, "CdtrAgt/BrnchId/Id") == "102290026253"
    # BEPS ids are the work date + 8 digits of the id generator: first the MsgId, then TxIds
    header = to_data(there.message.document)["CstmrCdtTrf"]["PKGGrpHdr"]
    assert (header["MsgId"], detail["TxId"]) == ("2026040800000001", "2026040800000002")


@pytest.mark.parametrize(
    "path",
    [
        ISO / PACS008 / "cbpr-usd-with-bah.xml",
        ISO / PACS008 / "eur-t2-supplementary-data.xml",
        ISO / PACS009 / "core-hkd-chats.xml",
        ISO / PACS004 / "cbpr-usd-return-ac04.xml",
    ],
    ids=lambda p: p.name,
)
def test_foreign_currency_cannot_become_a_beps_payment(path: Path) -> None:
    message = paymsg.parse(path)
    target = BEPS122 if message.type == PACS009 else BEPS121
    with pytest.raises(ConversionError, match="BEPS settles CNY only"):
        convert(message, target)


# --------------------------------------------------------------------------- realistic unified

REALISTIC_PACS008 = """<?xml version="1.0" encoding="UTF-8"?>
<Document xmlns="urn:iso:std:iso:20022:tech:xsd:pacs.008.001.08">
  <FIToFICstmrCdtTrf>
    <GrpHdr>
      <MsgId>2024031500700001</MsgId>
      <CreDtTm>2024-03-15T14:20:00+08:00</CreDtTm>
      <NbOfTxs>3</NbOfTxs>
      <CtrlSum>61550.25</CtrlSum>
      <TtlIntrBkSttlmAmt Ccy="CNY">61550.25</TtlIntrBkSttlmAmt>
      <IntrBkSttlmDt>2024-03-15</IntrBkSttlmDt>
      <SttlmInf>
        <SttlmMtd>CLRG</SttlmMtd>
        <ClrSys><Prtry>BEPS</Prtry></ClrSys>
      </SttlmInf>
      <InstgAgt><FinInstnId>
        <BICFI>ICBKCNBJ</BICFI>
        <ClrSysMmbId><ClrSysId><Cd>CNAPS</Cd></ClrSysId><MmbId>102100099996</MmbId></ClrSysMmbId>
      </FinInstnId></InstgAgt>
      <InstdAgt><FinInstnId>
        <ClrSysMmbId><ClrSysId><Cd>CNAPS</Cd></ClrSysId><MmbId>105100000017</MmbId></ClrSysMmbId>
      </FinInstnId></InstdAgt>
    </GrpHdr>
    <CdtTrfTxInf>
      <PmtId>
        <InstrId>ERP-PAY-7781</InstrId>
        <EndToEndId>2024031500710001</EndToEndId>
        <TxId>2024031500710001</TxId>
        <UETR>6f1c2a7e-0d3b-4c55-9a61-2b8f0e4d7c19</UETR>
      </PmtId>
      <PmtTpInf><CtgyPurp><Prtry>A100</Prtry></CtgyPurp></PmtTpInf>
      <IntrBkSttlmAmt Ccy="CNY">12800.00</IntrBkSttlmAmt>
      <ChrgBr>DEBT</ChrgBr>
      <Dbtr>
        <Nm>北京华夏未来智能科技股份有限公司（原北京华夏未来信息技术有限公司）第一分公司财务结算中心专用户（用于支付软件维护服务费及技术咨询服务费）</Nm>
        <PstlAdr><AdrLine>北京市海淀区中关村南大街5号</AdrLine></PstlAdr>
        <Id><OrgId><LEI>300300D8B1QZ4Y7K2M55</LEI></OrgId></Id>
      </Dbtr>
      <DbtrAcct><Id><Othr><Id>0200001209200112233</Id><Issr>102100024015</Issr></Othr></Id></DbtrAcct>
      <DbtrAgt><FinInstnId>
        <ClrSysMmbId><ClrSysId><Cd>CNAPS</Cd></ClrSysId><MmbId>102100024015</MmbId></ClrSysMmbId>
      </FinInstnId></DbtrAgt>
      <CdtrAgt><FinInstnId>
        <ClrSysMmbId><ClrSysId><Cd>CNAPS</Cd></ClrSysId><MmbId>105290036005</MmbId></ClrSysMmbId>
      </FinInstnId></CdtrAgt>
      <Cdtr>
        <Nm>上海浦东新区张江软件服务有限公司</Nm>
        <PstlAdr>
          <StrtNm>张江路</StrtNm><BldgNb>665号</BldgNb><Flr>3层</Flr><PstCd>201203</PstCd>
          <TwnNm>上海</TwnNm><DstrctNm>浦东新区</DstrctNm><Ctry>CN</Ctry>
        </PstlAdr>
      </Cdtr>
      <CdtrAcct><Id><Othr><Id>31050161373600001122</Id></Othr></Id></CdtrAcct>
      <Purp><Prtry>02102</Prtry></Purp>
      <RmtInf>
        <Ustrd>软件维护服务费 2024年第一季度 合同号ZJ-SW-2023-118 发票号码 04488123、04488124、04488125、04488126、04488127、04488128、04488129、04488130、04488131、04488132、04488133 共十一张</Ustrd>
        <Ustrd>请于收到款项后三个工作日内开具收据并寄送至北京市海淀区中关村南大街5号财务部 联系人 张会计 电话 010-88886666 转 8021，如有疑问请致电，谢谢合作，祝商祺。本款项为合同约定的第一期服务费用，第二期费用将于2024年6月支付</Ustrd>
      </RmtInf>
    </CdtTrfTxInf>
    <CdtTrfTxInf>
      <PmtId>
        <EndToEndId>INV-2024-0315-02</EndToEndId>
        <TxId>2024031500710002</TxId>
      </PmtId>
      <PmtTpInf><CtgyPurp><Prtry>A100</Prtry></CtgyPurp></PmtTpInf>
      <IntrBkSttlmAmt Ccy="CNY">48000.00</IntrBkSttlmAmt>
      <ChrgBr>SHAR</ChrgBr>
      <Dbtr>
        <Nm>王建国</Nm>
      </Dbtr>
      <DbtrAcct><Id><Othr><Id>6222020200112345678</Id><Issr>102100024015</Issr></Othr></Id></DbtrAcct>
      <DbtrAgt><FinInstnId><BICFI>ICBKCNBJBJM</BICFI></FinInstnId></DbtrAgt>
      <CdtrAgt><FinInstnId>
        <ClrSysMmbId><ClrSysId><Cd>CNAPS</Cd></ClrSysId><MmbId>105584000465</MmbId></ClrSysMmbId>
      </FinInstnId></CdtrAgt>
      <Cdtr><Nm>深圳市鹏程建材有限公司</Nm></Cdtr>
      <CdtrAcct><Id><IBAN>CN12105584000465000012345678</IBAN></Id></CdtrAcct>
      <Purp><Cd>GDDS</Cd></Purp>
      <RmtInf><Ustrd>建材货款</Ustrd></RmtInf>
    </CdtTrfTxInf>
    <CdtTrfTxInf>
      <PmtId>
        <EndToEndId>2024031500710003</EndToEndId>
        <TxId>2024031500710003</TxId>
      </PmtId>
      <PmtTpInf><CtgyPurp><Prtry>A100</Prtry></CtgyPurp></PmtTpInf>
      <IntrBkSttlmAmt Ccy="CNY">750.25</IntrBkSttlmAmt>
      <ChrgBr>DEBT</ChrgBr>
      <Dbtr><Nm>刘芳</Nm><PstlAdr><AdrLine>北京市朝阳区</AdrLine><AdrLine>建国路93号</AdrLine></PstlAdr></Dbtr>
      <DbtrAcct><Id><Othr><Id>6222020200198765432</Id><Issr>102100024015</Issr></Othr></Id></DbtrAcct>
      <DbtrAgt><FinInstnId>
        <ClrSysMmbId><ClrSysId><Cd>CNAPS</Cd></ClrSysId><MmbId>102100024015</MmbId></ClrSysMmbId>
      </FinInstnId></DbtrAgt>
      <CdtrAgt><FinInstnId>
        <ClrSysMmbId><ClrSysId><Cd>CNAPS</Cd></ClrSysId><MmbId>105290036005</MmbId></ClrSysMmbId>
      </FinInstnId></CdtrAgt>
      <Cdtr><Nm>陈晓燕</Nm></Cdtr>
      <CdtrAcct><Id><Othr><Id>6217001210034567890</Id><Issr>105290036005</Issr></Othr></Id></CdtrAcct>
      <Purp><Prtry>02102</Prtry></Purp>
      <RmtInf><Ustrd>垫付餐费</Ustrd></RmtInf>
      <SplmtryData>
        <PlcAndNm>ERP</PlcAndNm>
        <Envlp><Ref xmlns="urn:example:erp">PO-88123</Ref></Envlp>
      </SplmtryData>
    </CdtTrfTxInf>
  </FIToFICstmrCdtTrf>
</Document>
"""


def test_realistic_unified_payment_becomes_a_valid_package_with_an_honest_loss_report() -> None:
    message = paymsg.parse(REALISTIC_PACS008.encode())
    there = convert(message, BEPS121, id_generator=ids())
    assert_valid(there.message)
    package = to_data(there.message.document)["CstmrCdtTrf"]
    header = package["PKGGrpHdr"]
    assert (header["MsgId"], header["NbOfTxs"], header["CtrlSum"]["#text"]) == (
        "2024031500700001",
        "3",
        "61550.25",
    )
    assert header["InstgPty"]["InstgDrctPty"] == "102100099996"
    first, second, third = package["CstmrCdtTrfInf"]
    assert len(first["Dbtr"]["Nm"]) == 60
    assert len(first["AddtlInf"]) == 256
    assert second["DbtrAgt"]["BrnchId"]["Id"] == "102100024015"  # BIC only: account issuer
    assert second["CdtrAcct"]["Id"]["Othr"]["Id"] == "CN12105584000465000012345678"
    assert second["TxId"] == "2024031500710002"
    assert second["Purp"]["Prtry"] == "02102"  # defaulted
    assert third["Dbtr"]["PstlAdr"]["AdrLine"] == "北京市朝阳区 建国路93号"
    assert first["Cdtr"]["PstlAdr"]["AdrLine"] == "上海 浦东新区 张江路 665号 3层 201203"
    assert second["AddtlInf"] == (
        "建材货款 /H01/PmtId/EndToEndId:INV-2024-0315-02 /H01/ChrgBr:SHAR "
        "/H01/DbtrAgt/FinInstnId/BICFI:ICBKCNBJBJM /H01/Purp/Cd:GDDS"
    )
    tx = "/Document/FIToFICstmrCdtTrf/CdtTrfTxInf"
    address = [
        f"{tx}[1]/Cdtr/PstlAdr/{part}"
        for part in ("TwnNm", "DstrctNm", "StrtNm", "BldgNb", "Flr", "PstCd")
    ]
    expected = {
        # too long for BEPS: cut, counted in characters
        (f"{tx}[1]/Dbtr/Nm", "truncated"),
        (f"{tx}[1]/RmtInf/Ustrd[2]", "truncated"),
        # no BEPS element and no room left in the 256 characters of AddtlInf
        (f"{tx}[1]/PmtId/InstrId", "dropped"),
        (f"{tx}[1]/PmtId/UETR", "dropped"),
        (f"{tx}[1]/Dbtr/Id/OrgId/LEI", "dropped"),
        (f"{tx}[1]/Cdtr/PstlAdr/Ctry", "dropped"),
        # the structured address written as the one BEPS address line
        *((path, "moved") for path in address),
        (f"{tx}[3]/Dbtr/PstlAdr/AdrLine[2]", "moved"),
        # BEPS requires them, the source has none
        (f"{tx}[1]/CdtrAcct/Id/Othr/Issr", "defaulted"),
        (f"{tx}[2]/CdtrAcct/Id/Othr/Issr", "defaulted"),
        (f"{tx}[2]/DbtrAgt/FinInstnId/ClrSysMmbId", "defaulted"),  # BIC only
        (f"{tx}[2]/Purp/Prtry", "defaulted"),
        # placed in BEPS: the IBAN as the account, the rest as /path:value in AddtlInf / Rmk
        (f"{tx}[2]/CdtrAcct/Id/IBAN", "moved"),
        (f"{tx}[2]/PmtId/EndToEndId", "moved"),
        (f"{tx}[2]/ChrgBr", "moved"),
        (f"{tx}[2]/DbtrAgt/FinInstnId/BICFI", "moved"),
        (f"{tx}[2]/Purp/Cd", "moved"),
        (f"{tx}[3]/SplmtryData[1]/PlcAndNm", "moved"),
        (f"{tx}[3]/SplmtryData[1]/Envlp/*[1]", "moved"),
        ("/Document/FIToFICstmrCdtTrf/GrpHdr/IntrBkSttlmDt", "moved"),
        ("/Document/FIToFICstmrCdtTrf/GrpHdr/InstgAgt/FinInstnId/BICFI", "moved"),
    }
    assert lost(there.loss) == expected
    assert (
        header["Rmk"]
        == "/H01/GrpHdr/IntrBkSttlmDt:2024-03-15 /H01/GrpHdr/InstgAgt/FinInstnId/BICFI:ICBKCNBJ"
    )
    source, back, loss = unified_round_trip(message, BEPS121)
    assert_loss_exact(source, back, loss)


def test_strict_refuses_and_names_every_lost_field() -> None:
    message = paymsg.parse(REALISTIC_PACS008.encode())
    with pytest.raises(ConversionError) as caught:
        convert(message, BEPS121, strict=True, id_generator=ids())
    text = str(caught.value)
    for field in (
        "CdtTrfTxInf[1]/Dbtr/Id/OrgId/LEI",
        "CdtTrfTxInf[1]/PmtId/UETR",
        "CdtTrfTxInf[1]/Dbtr/Nm",
        "CdtTrfTxInf[2]/DbtrAgt/FinInstnId/BICFI",
        "CdtTrfTxInf[2]/CdtrAcct/Id/IBAN",
        "GrpHdr/IntrBkSttlmDt",
    ):
        assert field in text


def test_a_package_a_bank_sends_converts_without_loss() -> None:
    """A unified payment that only uses what BEPS has converts with no loss at all."""
    original = paymsg.parse(CNAPS / BEPS121 / "customer-credit-package.xml", type=BEPS121)
    unified = convert(original, PACS008).message
    data = to_data(unified.document)
    del data["FIToFICstmrCdtTrf"]["CdtTrfTxInf"][0]["PmtId"]["TxId"]  # EndToEndId is enough
    there = convert(message_of(PACS008, data), BEPS121, strict=True)
    assert there.loss == []
    assert body(there.message) == body(original)


def test_stated_totals_that_disagree_are_reported_and_recomputed() -> None:
    original = paymsg.parse(CNAPS / BEPS121 / "customer-credit-package.xml", type=BEPS121)
    data = to_data(convert(original, PACS008).message.document)
    group = data["FIToFICstmrCdtTrf"]["GrpHdr"]
    group["NbOfTxs"], group["CtrlSum"] = "5", "1.00"
    group["TtlIntrBkSttlmAmt"]["#text"] = "1.00"
    there = convert(message_of(PACS008, data), BEPS121, wrap=False)
    assert lost(there.loss) == {
        ("/Document/FIToFICstmrCdtTrf/GrpHdr/NbOfTxs", "dropped"),
        ("/Document/FIToFICstmrCdtTrf/GrpHdr/CtrlSum", "dropped"),
        ("/Document/FIToFICstmrCdtTrf/GrpHdr/TtlIntrBkSttlmAmt", "dropped"),
    }
    assert body(there.message) == body(original)  # the package states the true totals
    assert_valid(paymsg.Message(BEPS121, there.message.document))


def test_institution_transfer_from_unified() -> None:
    original = paymsg.parse(CNAPS / BEPS122 / "interbank-transfer-a200.xml", type=BEPS122)
    data = to_data(convert(original, PACS009).message.document)
    tx = data["FICdtTrf"]["CdtTrfTxInf"][0]
    tx["PmtId"]["UETR"] = "0b0e4a9c-6a43-4f0c-8d0e-7f4fd8a5c2b1"
    tx["Dbtr"]["FinInstnId"]["BICFI"] = "ABOCCNBJ010"
    del tx["DbtrAgt"]  # the debtor institution itself is the CNAPS participant
    tx["Dbtr"]["FinInstnId"]["ClrSysMmbId"] = {"ClrSysId": {"Cd": "CNAPS"}, "MmbId": "103100002013"}
    message = message_of(PACS009, data)
    there = convert(message, BEPS122, id_generator=ids())
    assert_valid(there.message)
    detail = to_data(there.message.document)["FinCdtTrf"]["FinCdtTrfInf"][0]
    assert detail["DbtrAgt"]["BrnchId"]["Id"] == "103100002013"
    moved = ("/Document/FICdtTrf/CdtTrfTxInf[1]/Dbtr/FinInstnId/ClrSysMmbId/MmbId", "moved")
    assert moved in lost(there.loss)
    source, back, loss = unified_round_trip(message, BEPS122)
    assert_loss_exact(source, back, loss)


# --------------------------------------------------------------------------- generated packages

_HAN = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤"
_WORDS = [
    "北京",
    "上海",
    "深圳",
    "杭州",
    "科技",
    "贸易",
    "有限公司",
    "股份",
    "物流",
    "建材",
    "餐饮",
    "教育",
    "咨询",
    "服务",
    "工程",
    "电子",
    "（集团）",
    "分公司",
    "A",
    "B",
    "1",
    "2",
    " ",
]
_CODES = [
    ("A100", "02102"),
    ("A100", "02103"),
    ("A109", "02106"),
    ("A110", "02107"),
    ("A201", "03401"),
    ("A301", "00100"),
    ("A301", "01200"),
    ("A400", "09001"),
]

names = st.one_of(
    st.text(alphabet=_HAN, min_size=2, max_size=4),
    st.lists(st.sampled_from(_WORDS), min_size=2, max_size=12)
    .map(lambda parts: "".join(parts).strip()[:60])
    .filter(bool),
)
banks = st.from_regex(r"[1-9][0-9]{11}", fullmatch=True)
accounts = st.from_regex(r"[0-9]{8,32}", fullmatch=True)
amounts = st.decimals(min_value=Decimal("0.01"), max_value=Decimal("49999.99"), places=2)
free_text = (
    st.text(alphabet=_HAN + "0123456789ABC，。：（）/-年月日 号", min_size=1, max_size=256)
    .map(str.strip)
    .filter(bool)
)
addresses = st.text(alphabet=_HAN + "0123456789路号楼室", min_size=1, max_size=70)


def _party(name: str, address: str | None) -> dict[str, Any]:
    party: dict[str, Any] = {"Nm": name}
    if address:
        party["PstlAdr"] = {"AdrLine": address}
    return party


@st.composite
def details(draw: st.DrawFn, tx_id: str, institution: bool, returning: bool) -> dict[str, Any]:
    debtor_bank, creditor_bank = draw(banks), draw(banks)
    issuer = (
        (lambda bank: bank)
        if not institution
        else (lambda bank: draw(st.one_of(st.none(), st.just(bank))))
    )
    kind, category = ("A105", "02108") if returning else draw(st.sampled_from(_CODES))
    detail: dict[str, Any] = {
        "TxId": tx_id,
        "Dbtr": _party(draw(names), draw(st.one_of(st.none(), addresses))),
        "DbtrAcct": {"Id": {"Othr": {"Id": draw(accounts)}}},
        "DbtrAgt": {"BrnchId": {"Id": debtor_bank}},
        "CdtrAgt": {"BrnchId": {"Id": creditor_bank}},
        "Cdtr": _party(draw(names), draw(st.one_of(st.none(), addresses))),
        "CdtrAcct": {"Id": {"Othr": {"Id": draw(accounts)}}},
        "Amt": {"@Ccy": "CNY", "#text": f"{draw(amounts):.2f}"},
        "PmtTpInf": {"CtgyPurp": {"Prtry": kind}},
        "Purp": {"Prtry": category},
    }
    for side, bank in (("DbtrAcct", debtor_bank), ("CdtrAcct", creditor_bank)):
        code = issuer(bank)
        if code:
            detail[side]["Id"]["Othr"]["Issr"] = code
    remark = draw(st.one_of(st.none(), free_text))
    if remark:
        detail["AddtlInf"] = remark
    extra = "FinCdtTrfAddtlInf" if institution else "CstmrCdtTrfAddtlInf"
    if returning:
        info: dict[str, Any] = {
            "OrgnlGrpHdr": {
                "OrgnlMsgId": draw(st.from_regex(r"202403(0[1-9]|1[0-4])[0-9]{8}", fullmatch=True)),
                "OrgnlInstgPty": draw(banks),
                "OrgnlMT": BEPS122 if institution else BEPS121,
            },
            "OrgnlTx": {
                "InstgIndrctPty": creditor_bank,
                "InstdIndrctPty": debtor_bank,
                "OrgnlTxId": draw(st.from_regex(r"[0-9]{16}", fullmatch=True)),
                "OrgnlTxTpCd": draw(st.sampled_from(["A100", "A200", "A109"])),
            },
        }
        reason = draw(free_text if institution else st.one_of(st.none(), free_text))
        if reason:
            info["Cntt"] = reason
        detail[extra] = {"RtrInf": info}
    elif kind == "A109" and not institution:
        detail[extra] = {
            "ColltnInf": {
                "Tp": draw(st.sampled_from(["01", "02", "99"])),
                "Dt": "2024-03-11",
                "Nb": draw(st.from_regex(r"[A-Z]{2}[0-9]{6,13}", fullmatch=True)),
            }
        }
    elif institution and draw(st.booleans()):
        subjects = draw(st.lists(amounts, min_size=1, max_size=3))
        detail["Amt"]["#text"] = f"{sum(subjects):.2f}"
        detail[extra] = {
            "NtlTrsrCdtInf": {
                "FslInf": {
                    "FlowNb": draw(st.from_regex(r"[0-9]{20}", fullmatch=True)),
                    "Amt": dict(detail["Amt"]),
                    "RptCd": "3301020000",
                    "RcvCd": "3301000000",
                    "RptFrms": "2024-03-15",
                    "RptNb": "1",
                },
                "BugtLvl": draw(st.sampled_from(["BL00", "BL01"])),
                "Ind": draw(st.sampled_from(["ID00", "ID01"])),
                "BugtTp": draw(st.sampled_from(["BT00", "BT01"])),
                "NbOfTxs": str(len(subjects)),
                "NtlTrsrCdtInfDtls": [
                    {
                        "TpCd": "1",
                        "SbjtCd": f"1010{i}0101",
                        "Amt": {"@Ccy": "CNY", "#text": f"{a:.2f}"},
                    }
                    for i, a in enumerate(subjects)
                ],
            }
        }
    return detail


@st.composite
def packages(draw: st.DrawFn, beps: str, returning: bool = False) -> paymsg.Message:
    institution = beps == BEPS122
    count = draw(st.integers(min_value=1, max_value=20))
    first = draw(st.integers(min_value=1, max_value=10**7))
    items = [
        draw(details(f"20240315{first + i:08d}", institution, returning)) for i in range(count)
    ]
    total = sum(Decimal(item["Amt"]["#text"]) for item in items)
    header: dict[str, Any] = {
        "MsgId": f"20240315{draw(st.integers(min_value=1, max_value=99999999)):08d}",
        "CreDtTm": "2024-03-15T10:05:12",
        "InstgPty": {"InstgDrctPty": draw(banks)},
        "InstdPty": {"InstdDrctPty": draw(banks)},
        "NbOfTxs": str(count),
        "CtrlSum": {"@Ccy": "CNY", "#text": f"{total:.2f}"},
        "SysCd": "BEPS",
    }
    remark = draw(st.one_of(st.none(), free_text))
    if remark:
        header["Rmk"] = remark
    root: dict[str, Any] = {"PKGGrpHdr": header}
    if draw(st.booleans()):
        root["NPCPrcInf"] = {
            "PrcSts": "PR03",
            "PrcCd": "NEZI0000",
            "NetgDt": "2024-03-15",
            "NetgRnd": f"{draw(st.integers(1, 12)):02d}",
        }
    root["FinCdtTrfInf" if institution else "CstmrCdtTrfInf"] = items
    return message_of(beps, {"FinCdtTrf" if institution else "CstmrCdtTrf": root})


HYPOTHESIS = settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


def _check_unified_totals(unified: paymsg.Message, beps: paymsg.Message) -> None:
    data = to_data(unified.document)
    root = next(iter(data.values()))
    transactions = root.get("CdtTrfTxInf") or root["TxInf"]
    amounts = [tx.get("IntrBkSttlmAmt") or tx["RtrdIntrBkSttlmAmt"] for tx in transactions]
    total = sum(Decimal(a["#text"]) for a in amounts)
    group = root["GrpHdr"]
    stated = group.get("TtlIntrBkSttlmAmt") or group["TtlRtrdIntrBkSttlmAmt"]
    assert int(group["NbOfTxs"]) == len(transactions)
    assert Decimal(group["CtrlSum"]) == total == Decimal(stated["#text"])
    header = next(iter(to_data(beps.document).values()))["PKGGrpHdr"]
    assert (header["NbOfTxs"], Decimal(header["CtrlSum"]["#text"])) == (group["NbOfTxs"], total)


def _exact(original: paymsg.Message, target: str) -> None:
    assert_valid(original)  # the generator writes valid packages
    unified = convert(original, target)
    assert unified.loss == []
    assert_valid(unified.message)
    _check_unified_totals(unified.message, original)
    back = convert(unified.message, original.type, id_generator=ids())
    assert back.loss == []
    assert body(back.message) == body(original)
    assert_valid(back.message)


@HYPOTHESIS
@given(packages(BEPS121))
def test_generated_customer_packages_round_trip_exactly(original: paymsg.Message) -> None:
    _exact(original, PACS008)


@HYPOTHESIS
@given(packages(BEPS122))
def test_generated_institution_packages_round_trip_exactly(original: paymsg.Message) -> None:
    _exact(original, PACS009)


@HYPOTHESIS
@given(st.sampled_from([BEPS121, BEPS122]).flatmap(lambda beps: packages(beps, returning=True)))
def test_generated_returns_round_trip_exactly_through_pacs004(original: paymsg.Message) -> None:
    _exact(original, PACS004)


_EXTRAS = st.fixed_dictionaries(
    {},
    optional={
        "PmtId/UETR": st.uuids(version=4).map(str),
        "PmtId/InstrId": st.from_regex(r"[A-Z]{3}-[0-9]{4,10}", fullmatch=True),
        "Dbtr/Id/OrgId/LEI": st.from_regex(r"[A-Z0-9]{18}[0-9]{2}", fullmatch=True),
        "Cdtr/PstlAdr/Ctry": st.sampled_from(["CN", "HK"]),
        "Cdtr/PstlAdr/TwnNm": st.sampled_from(["上海", "北京", "深圳"]),
        "CdtrAgt/FinInstnId/BICFI": st.sampled_from(["ICBKCNBJ", "BKCHCNBJ300"]),
        "Purp/Prtry": st.from_regex(r"[A-Z]{6}", fullmatch=True),  # too long for BEPS
        "ChrgBr": st.sampled_from(["CRED", "SHAR", "SLEV"]),
        "IntrBkSttlmDt": st.just("2024-03-15"),
        "SttlmPrty": st.sampled_from(["HIGH", "NORM"]),
    },
)


@HYPOTHESIS
@given(packages(BEPS121), st.lists(_EXTRAS, min_size=1, max_size=3))
def test_generated_unified_payments_lose_exactly_what_is_reported(
    original: paymsg.Message, extras: list[dict[str, str]]
) -> None:
    data = to_data(convert(original, PACS008).message.document)
    transactions = data["FIToFICstmrCdtTrf"]["CdtTrfTxInf"]
    for tx, extra in zip(transactions, extras, strict=False):
        for path, value in extra.items():
            if path == "Purp/Prtry":
                tx["Purp"] = {"Prtry": value}
            else:
                node = tx
                *parents, last = path.split("/")
                for step in parents:
                    node = node.setdefault(step, {})
                node[last] = value
    message = message_of(PACS008, data)
    source, back, loss = unified_round_trip(message, BEPS121)
    assert_loss_exact(source, back, loss)


def test_times_in_another_offset_become_beijing_time() -> None:
    original = paymsg.parse(CNAPS / BEPS121 / "customer-credit-package.xml", type=BEPS121)
    data = to_data(convert(original, PACS008).message.document)
    data["FIToFICstmrCdtTrf"]["GrpHdr"]["CreDtTm"] = "2024-03-15T02:05:12Z"
    there = convert(message_of(PACS008, data), BEPS121, wrap=False)
    assert lost(there.loss) == {("/Document/FIToFICstmrCdtTrf/GrpHdr/CreDtTm", "transliterated")}
    assert body(there.message) == body(original)  # 10:05:12 in Beijing


def test_direct_participants_named_per_transaction_move_to_the_package() -> None:
    """The hvps.111 way: InstgAgt/InstdAgt in each transaction instead of the group header."""
    original = paymsg.parse(CNAPS / BEPS121 / "customer-credit-package.xml", type=BEPS121)
    data = to_data(convert(original, PACS008).message.document)
    group = data["FIToFICstmrCdtTrf"]["GrpHdr"]
    instructing, instructed = group.pop("InstgAgt"), group.pop("InstdAgt")
    for tx in data["FIToFICstmrCdtTrf"]["CdtTrfTxInf"]:
        tx["InstgAgt"], tx["InstdAgt"] = instructing, instructed
    message = message_of(PACS008, data)
    there = convert(message, BEPS121, wrap=False)
    assert body(there.message) == body(original)
    assert {action for _, action in lost(there.loss)} == {"moved"}
    assert len(there.loss) == 3 * 2 * 2  # 3 transactions × 2 agents × (MmbId, ClrSysId/Cd)
    source, back, loss = unified_round_trip(message, BEPS121)
    assert_loss_exact(source, back, loss)


def test_values_carried_for_another_cnaps2_family_are_reported_not_restored() -> None:
    from paymsg.convert.engine.carrier import carry

    original = paymsg.parse(CNAPS / BEPS121 / "customer-credit-package.xml", type=BEPS121)
    data = to_data(convert(original, PACS008).message.document)
    foreign = carry({"AddtlInf": "from HVPS"}, "hvps.111.001.01")
    data["FIToFICstmrCdtTrf"]["CdtTrfTxInf"][0]["SplmtryData"] = [foreign]
    there = convert(message_of(PACS008, data), BEPS121, wrap=False)
    detail = to_data(there.message.document)["CstmrCdtTrf"]["CstmrCdtTrfInf"][0]
    assert (
        detail["AddtlInf"]
        == "房租（2024年3月） /H01/SplmtryData[1]/Envlp/Cnaps2/AddtlInf:from HVPS"
    )
    path = "/Document/FIToFICstmrCdtTrf/CdtTrfTxInf[1]/SplmtryData[1]/Envlp/Cnaps2/AddtlInf"
    assert lost(there.loss) == {(path, "moved")}
