"""HVPS edges of the hub: hvps.111 ⇄ pacs.008.001.08, hvps.112 ⇄ pacs.009.001.08, HVPS returns
(退汇 A105) ⇄ pacs.004.001.09."""

from __future__ import annotations

import copy
import itertools
import re
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import paymsg
from paymsg.codec.json.engine import from_data, to_data
from paymsg.codec.message import Message
from paymsg.convert import LossEntry, convert, route
from paymsg.convert.engine.carrier import CARRY_PLACE, carried, carry
from paymsg.convert.engine.loss import loss_path
from paymsg.convert.engine.paths import flatten
from paymsg.convert.hub import mapping_table
from paymsg.convert.mappings import hvps
from paymsg.errors import ConversionError, ConversionLossError
from paymsg.schema.catalog import catalog

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "examples"
H111, H112 = "hvps.111.001.01", "hvps.112.001.01"
P008, P009, P004 = "pacs.008.001.08", "pacs.009.001.08", "pacs.004.001.09"
ROOTS = {
    H111: "FIToFICstmrCdtTrf",
    H112: "FinInstnCdtTrf",
    P008: "FIToFICstmrCdtTrf",
    P009: "FICdtTrf",
    P004: "PmtRtr",
}
NOW = datetime(2024, 3, 15, 10, 30, 0)
SENDER, RECEIVER = "102100099996", "105100000017"

H111_FILES = sorted((EXAMPLES / "cnaps2" / H111).glob("*.xml"))
H112_FILES = sorted((EXAMPLES / "cnaps2" / H112).glob("*.xml"))
RETURN_FILE = EXAMPLES / "cnaps2" / H112 / "return-a105.xml"
CNAPS_CASES = [(p, H111, P008) for p in H111_FILES] + [(p, H112, P009) for p in H112_FILES]
CNAPS_CASES.append((RETURN_FILE, H112, P004))
ISO_CASES = [
    (p, cnaps)
    for unified, targets in ((P008, [H111]), (P009, [H112]), (P004, [H112, H111]))
    for p in sorted((EXAMPLES / "iso20022" / unified).glob("*.xml"))
    for cnaps in targets
]


# =============================================================================== helpers


def ids() -> Callable[[], str]:
    counter = itertools.count(1)
    return lambda: f"20240315{next(counter):012d}"


def body(message: Message) -> bytes:
    """The canonical XML of the document alone (no envelope)."""
    return paymsg.serialize(Message(message.type, message.document))


def message_of(type_id: str, data: dict[str, Any]) -> Message:
    return Message(type_id, from_data(catalog().get(type_id).root_class, data, "/Document"))


def errors(message: Message, layer: str | None = None) -> list[tuple[str, str | None, str]]:
    """Error findings of every layer (xsd, rules: iso20022 / cnaps2 packs), or of one."""
    report = paymsg.validate(message, type=message.type)
    return [
        (f.rule, f.path, f.message)
        for f in report.findings
        if f.severity == "error" and layer in (None, f.layer)
    ]


def to_cnaps(message: Message, target: str, **options: Any) -> Any:
    options.setdefault("now", NOW)
    options.setdefault("id_generator", ids())
    return convert(message, target, **options)


def shown(type_id: str, path: str) -> str:
    return loss_path(f"/Document/{ROOTS[type_id]}/{path}")


def without_carrier(data: dict[str, Any]) -> dict[str, Any]:
    """Unified data without CNAPS2 carriers (they change with what is carried)."""
    data = copy.deepcopy(data)
    for message in data.values():
        for tx in message.get("CdtTrfTxInf", []) + message.get("TxInf", []):
            kept = [e for e in tx.get("SplmtryData", []) if e.get("PlcAndNm") != CARRY_PLACE]
            if kept:
                tx["SplmtryData"] = kept
            else:
                tx.pop("SplmtryData", None)
    return data


def not_surviving(before: dict[str, Any], after: dict[str, Any]) -> set[str]:
    """Fields of ``before`` missing from ``after`` (a list item may sit anywhere in its list)."""
    after_flat = flatten(after)
    lists: dict[str, set[str]] = {}
    for path, value in after_flat.items():
        if m := re.fullmatch(r"(.*)\[\d+\]", path):
            lists.setdefault(m.group(1), set()).add(value)
    out = set()
    for path, value in flatten(before).items():
        m = re.fullmatch(r"(.*)\[\d+\]", path)
        if after_flat.get(path) == value or (m and value in lists.get(m.group(1), set())):
            continue
        out.add(path)
    return out


def assert_loss_is_exact(original: Message, loss: list[LossEntry], back: Message) -> None:
    """The loss report names exactly the unified fields that did not come back."""
    before = without_carrier(to_data(original.document))
    after = without_carrier(to_data(back.document))
    root = ROOTS[original.type]
    missing = {shown(original.type, p) for p in not_surviving(before[root], after[root])}
    present = {shown(original.type, p) for p in flatten(before[root])}
    reported = {e.source_path for e in loss if e.action != "defaulted" or e.source_path in present}
    # a field spilled as a /H01/path:value line is reported moved and may be read back
    spilled = {e.source_path for e in loss if e.action == "moved" and "path:value" in e.reason}
    reported, missing = reported - spilled, missing - spilled
    assert reported == missing, (
        f"reported but survived: {sorted(reported - missing)}; "
        f"lost but not reported: {sorted(missing - reported)}"
    )


def with_cny(message: Message) -> Message:
    """The message with every currency set to CNY (HVPS settles renminbi only)."""
    data = to_data(message.document)

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            for key, value in node.items():
                if key == "@Ccy" or (key == "Ccy" and isinstance(value, str)):
                    node[key] = "CNY"
                else:
                    walk(value)
        elif isinstance(node, list):
            for item in node:
                walk(item)

    walk(data)
    return message_of(message.type, data)


def loss_of(conversion: Any) -> dict[str, str]:
    return {e.source_path: e.action for e in conversion.loss}


# =============================================================================== edges


def test_edges_are_registered_both_ways() -> None:
    for cnaps, unified in ((H111, P008), (H112, P009), (H111, P004), (H112, P004)):
        assert route(cnaps, unified) == [(cnaps, unified)]
        assert route(unified, cnaps) == [(unified, cnaps)]


def test_the_tables_name_cnaps_and_unified_paths() -> None:
    for pair in hvps.PAIRS:
        table = mapping_table(pair.cnaps, pair.unified)
        assert all(cnaps and unified and note for cnaps, unified, _, note in table)
        business = [row for row in pair.rows if "业务类型" in row.note]
        assert business or pair.is_return
    assert ("GrpHdr/MsgId", "GrpHdr/MsgId") in {(r.cnaps, r.unified) for r in hvps.HVPS_111_ROWS}
    generation = {(r.cnaps, r.unified) for r in hvps.HVPS_111_GENERATION}
    assert ("CdtTrfTxInf[1]/DbtrAgt/FinInstnId/BIC", "CdtTrfTxInf[1]/DbtrAgt/FinInstnId/BICFI") in (
        generation
    )
    assert (
        "CdtTrfTxInf[1]/PrvsInstgAgt/FinInstnId/BIC",
        "CdtTrfTxInf[1]/PrvsInstgAgt1/FinInstnId/BICFI",
    ) in generation


# =============================================================================== CNAPS2 → unified → CNAPS2


@pytest.mark.parametrize(
    ("path", "cnaps", "unified"),
    CNAPS_CASES,
    ids=[f"{p.parent.name}/{p.name}->{u}" for p, _, u in CNAPS_CASES],
)
def test_cnaps_example_round_trip_is_exact(path: Path, cnaps: str, unified: str) -> None:
    original = paymsg.parse(path, type=cnaps)
    forward = convert(original, unified)
    assert forward.lossless
    assert errors(forward.message) == []
    back = to_cnaps(forward.message, cnaps)
    assert back.lossless, back.loss
    assert body(back.message) == body(original)
    assert errors(back.message) == []  # with its {H:} header: the cnaps2 rule pack too
    # and strictly: nothing is lost either way
    convert(to_cnaps(forward.message, cnaps, strict=True).message, unified, strict=True)


def test_customer_transfer_codes_stay_proprietary_and_cnaps_is_named() -> None:
    original = paymsg.parse(EXAMPLES / "cnaps2" / H111 / "collection-a109-normal.xml", type=H111)
    data = to_data(convert(original, P008).message.document)["FIToFICstmrCdtTrf"]
    tx = data["CdtTrfTxInf"][0]
    assert tx["PmtTpInf"] == {"CtgyPurp": {"Prtry": "A109"}}
    assert tx["Purp"] == {"Prtry": "02106"}
    assert tx["RmtInf"]["Ustrd"] == [
        "/F1A/01",
        "/H01/国内信用证项下货款划回 信用证号LC313100240031",
    ]
    for agent in ("InstgAgt", "InstdAgt", "DbtrAgt", "CdtrAgt"):
        member = tx[agent]["FinInstnId"]["ClrSysMmbId"]
        assert member["ClrSysId"] == {"Cd": "CNAPS"} and len(member["MmbId"]) == 12
    assert "SplmtryData" not in tx  # everything in the HVPS usage has its unified element


def test_institution_transfer_category_becomes_the_purpose_and_the_line_stays() -> None:
    original = paymsg.parse(EXAMPLES / "cnaps2" / H112 / "interbank-lending-otc.xml", type=H112)
    tx = to_data(convert(original, P009).message.document)["FICdtTrf"]["CdtTrfTxInf"][0]
    assert tx["PmtTpInf"] == {"SvcLvl": [{"Prtry": "A200"}]}
    assert tx["Purp"] == {"Prtry": "02120"}
    assert tx["RmtInf"]["Ustrd"][0] == "/F25/02120"
    assert tx["Dbtr"]["FinInstnId"]["ClrSysMmbId"]["ClrSysId"] == {"Cd": "CNAPS"}


def test_return_becomes_a_payment_return() -> None:
    original = paymsg.parse(RETURN_FILE, type=H112)
    data = to_data(convert(original, P004).message.document)["PmtRtr"]
    tx = data["TxInf"][0]
    assert tx["RtrId"] == "2024031500004106"
    assert tx["OrgnlGrpInf"] == {"OrgnlMsgId": "2024031500003584", "OrgnlMsgNmId": H111}
    assert tx["RtrdIntrBkSttlmAmt"] == {"@Ccy": "CNY", "#text": "86000.00"}
    assert tx["RtrRsnInf"] == [
        {"Rsn": {"Cd": "BE01"}, "AddtlInf": ["退回原汇款人张伟 原金额CNY86000.00"]}
    ]
    assert tx["RtrChain"]["Dbtr"]["Agt"]["FinInstnId"]["Nm"] == "中国银行股份有限公司广州天河支行"
    assert tx["OrgnlTxRef"]["DbtrAcct"]["Id"]["Othr"]["Id"] == "6228480318123456779"
    assert "SplmtryData" not in tx  # A105, 02108, /A70/ and the line order are all implied


def test_a_transfer_is_not_a_return() -> None:
    original = paymsg.parse(EXAMPLES / "cnaps2" / H112 / "interbank-funds-transfer.xml", type=H112)
    with pytest.raises(ConversionError, match="not a return") as caught:
        convert(original, P004)
    assert caught.value.hint == "convert it to pacs.009.001.08"


def test_a_return_keyed_as_customer_transfer_round_trips_through_pacs004() -> None:
    data = to_data(paymsg.parse(H111_FILES[2], type=H111).document)
    tx = data["FIToFICstmrCdtTrf"]["CdtTrfTxInf"][0]
    tx["PmtTpInf"]["CtgyPurp"]["Prtry"] = "A105"
    tx["Purp"]["Prtry"] = "02108"
    tx["RmtInf"]["Ustrd"] = [
        "/E51/2024031500001037",
        "/A70/105100000017",
        "/F40/hvps.111.001.01",
        "/H20/其他原因",
        "/H01/退回",
    ]
    original = message_of(H111, data)
    forward = convert(original, P004)
    rtr = to_data(forward.message.document)["PmtRtr"]["TxInf"][0]
    assert rtr["RtrChain"]["Dbtr"]["Pty"]["Nm"] == "张伟"
    assert rtr["RtrRsnInf"][0]["Rsn"] == {"Cd": "MS03"}
    assert rtr["OrgnlTxRef"]["CdtrAcct"]["Id"]["Othr"]["Id"] == "6228480318123456779"
    back = to_cnaps(forward.message, H111)
    assert body(back.message) == body(original)
    # the original's /A70/ was not the instructed participant: the lines travel as they are
    assert carried(rtr["SplmtryData"], H111)


def test_cnaps_values_the_rules_would_change_still_come_back() -> None:
    """Lossless by construction: a body the cnaps2 rules reject (untagged line, INDA, 7-digit
    member id, MsgId of letters, two /F25/ lines) still comes back byte for byte."""
    data = to_data(paymsg.parse(H112_FILES[0], type=H112).document)
    group = data["FinInstnCdtTrf"]["GrpHdr"]
    group["MsgId"] = "BANK-REF-1"
    group["SttlmInf"]["SttlmMtd"] = "INDA"
    tx = data["FinInstnCdtTrf"]["CdtTrfTxInf"][0]
    tx["InstdAgt"]["FinInstnId"]["ClrSysMmbId"]["MmbId"] = "1234567"
    tx["RmtInf"]["Ustrd"] += ["free text without tag", "/F25/02120"]
    original = message_of(H112, data)
    back = to_cnaps(convert(original, P009).message, H112, wrap=False)
    assert back.lossless
    assert body(back.message) == body(original)


# =============================================================================== unified → CNAPS2 → unified


@pytest.mark.parametrize(("path", "cnaps"), ISO_CASES, ids=[f"{p.name}->{c}" for p, c in ISO_CASES])
def test_unified_example_keeps_what_hvps_holds_and_reports_the_rest(path: Path, cnaps: str) -> None:
    source = paymsg.parse(path)
    data = to_data(source.document)
    message = data[ROOTS[source.type]]
    transactions = message.get("CdtTrfTxInf") or message.get("TxInf")
    if len(transactions) > 1:  # HVPS carries one transaction: refused, then the first alone
        with pytest.raises(ConversionError, match="HVPS carries one transaction"):
            to_cnaps(source, cnaps, sender=SENDER, receiver=RECEIVER)
        del transactions[1:]
        message["GrpHdr"]["NbOfTxs"] = "1"
        source = message_of(source.type, data)
    if any(f'Ccy="{c}"' in path.read_text() for c in ("USD", "EUR", "GBP", "HKD", "JPY")):
        with pytest.raises(ConversionError, match="renminbi only"):
            to_cnaps(source, cnaps, sender=SENDER, receiver=RECEIVER)
        source = with_cny(source)
    conversion = to_cnaps(source, cnaps, sender=SENDER, receiver=RECEIVER)
    assert errors(conversion.message) == []
    back = convert(conversion.message, source.type)
    assert errors(back.message) == []
    assert_loss_is_exact(source, conversion.loss, back.message)
    # CNAPS2 → unified → CNAPS2 from there on is exact
    again = to_cnaps(back.message, cnaps, wrap=False)
    assert again.lossless and body(again.message) == body(conversion.message)


REALISTIC = """<?xml version="1.0" encoding="UTF-8"?>
<Document xmlns="urn:iso:std:iso:20022:tech:xsd:pacs.008.001.08">
  <FIToFICstmrCdtTrf>
    <GrpHdr>
      <MsgId>ICBCSH20240315000731</MsgId>
      <CreDtTm>2024-03-15T09:41:07+08:00</CreDtTm>
      <NbOfTxs>1</NbOfTxs>
      <SttlmInf><SttlmMtd>CLRG</SttlmMtd></SttlmInf>
    </GrpHdr>
    <CdtTrfTxInf>
      <PmtId>
        <InstrId>ICBCSH0315000731</InstrId>
        <EndToEndId>PO-2024-00731</EndToEndId>
        <UETR>6f1c2a3b-8d4e-4f5a-9b6c-7d8e9f0a1b2c</UETR>
      </PmtId>
      <PmtTpInf><CtgyPurp><Prtry>A100</Prtry></CtgyPurp></PmtTpInf>
      <IntrBkSttlmAmt Ccy="CNY">2450000.00</IntrBkSttlmAmt>
      <IntrBkSttlmDt>2024-03-15</IntrBkSttlmDt>
      <SttlmPrty>HIGH</SttlmPrty>
      <InstdAmt Ccy="USD">340000.00</InstdAmt>
      <XchgRate>7.2058823529</XchgRate>
      <ChrgBr>DEBT</ChrgBr>
      <ChrgsInf>
        <Amt Ccy="CNY">25.00</Amt>
        <Agt><FinInstnId><BICFI>ICBKCNBJSHI</BICFI></FinInstnId></Agt>
      </ChrgsInf>
      <InstgAgt>
        <FinInstnId><ClrSysMmbId><ClrSysId><Cd>CNAPS</Cd></ClrSysId><MmbId>102100099996</MmbId></ClrSysMmbId></FinInstnId>
        <BrnchId><Id>102290026253</Id></BrnchId>
      </InstgAgt>
      <InstdAgt>
        <FinInstnId><ClrSysMmbId><ClrSysId><Cd>CNAPS</Cd></ClrSysId><MmbId>105100000017</MmbId></ClrSysMmbId></FinInstnId>
        <BrnchId><Id>105290036005</Id></BrnchId>
      </InstdAgt>
      <Dbtr>
        <Nm>上海浦江精密机械有限公司</Nm>
        <PstlAdr>
          <StrtNm>世纪大道</StrtNm><BldgNb>1198号</BldgNb><PstCd>200120</PstCd><TwnNm>上海</TwnNm>
          <DstrctNm>浦东新区</DstrctNm><Ctry>CN</Ctry>
        </PstlAdr>
        <Id><OrgId><LEI>300300C1024567890123</LEI></OrgId></Id>
      </Dbtr>
      <DbtrAcct><Id><Othr><Id>1001234509876543210</Id></Othr></Id></DbtrAcct>
      <DbtrAgt>
        <FinInstnId>
          <BICFI>ICBKCNBJSHI</BICFI>
          <ClrSysMmbId><ClrSysId><Cd>CNAPS</Cd></ClrSysId><MmbId>102290026253</MmbId></ClrSysMmbId>
          <LEI>5493002ERZU2K9PZDL40</LEI>
          <Nm>中国工商银行股份有限公司上海市分行营业部</Nm>
        </FinInstnId>
      </DbtrAgt>
      <CdtrAgt>
        <FinInstnId>
          <ClrSysMmbId><ClrSysId><Cd>CNAPS</Cd></ClrSysId><MmbId>105290036005</MmbId></ClrSysMmbId>
          <Nm>中国建设银行股份有限公司上海浦东分行</Nm>
        </FinInstnId>
      </CdtrAgt>
      <Cdtr>
        <Nm>北京华澜科技有限公司</Nm>
        <PstlAdr><AdrLine>北京市海淀区中关村大街27号8层</AdrLine></PstlAdr>
        <Id><OrgId><Othr><Id>91110108MA01ABCD2X</Id><SchmeNm><Prtry>USCC</Prtry></SchmeNm></Othr></OrgId></Id>
      </Cdtr>
      <CdtrAcct><Id><Othr><Id>31050161373600009876</Id></Othr></Id></CdtrAcct>
      <Purp><Prtry>02102</Prtry></Purp>
      <RmtInf>
        <Ustrd>/H01/设备款 合同号HL-2024-0731</Ustrd>
        <Strd>
          <RfrdDocInf><Tp><CdOrPrtry><Cd>CINV</Cd></CdOrPrtry></Tp><Nb>INV-2024-0731</Nb></RfrdDocInf>
        </Strd>
      </RmtInf>
    </CdtTrfTxInf>
  </FIToFICstmrCdtTrf>
</Document>
"""


def realistic() -> Message:
    return paymsg.parse(REALISTIC.encode("utf-8"), type=P008)


def test_realistic_unified_payment_becomes_a_valid_hvps111_with_an_honest_loss_report() -> None:
    source = realistic()
    conversion = to_cnaps(source, H111)
    assert errors(conversion.message) == []
    tx = "/Document/FIToFICstmrCdtTrf/CdtTrfTxInf[1]/"
    assert loss_of(conversion) == {
        # placed where CNAPS2 allows
        tx + "PmtId/UETR": "moved",
        tx + "Dbtr/Id/OrgId/LEI": "moved",
        tx + "Cdtr/Id/OrgId/Othr[1]/Id": "moved",
        tx + "Cdtr/Id/OrgId/Othr[1]/SchmeNm/Prtry": "moved",
        **{
            tx + f"Dbtr/PstlAdr/{part}": "moved"
            for part in ("StrtNm", "BldgNb", "PstCd", "TwnNm", "DstrctNm")
        },
        # not carried
        "/Document/FIToFICstmrCdtTrf/GrpHdr/MsgId": "defaulted",
        tx + "PmtId/TxId": "defaulted",  # optional in 2019, required in CNAPS2: = MsgId
        tx + "PmtId/InstrId": "dropped",
        tx + "IntrBkSttlmDt": "dropped",
        tx + "InstdAmt/@Ccy": "dropped",
        tx + "InstdAmt": "dropped",
        tx + "XchgRate": "dropped",
        tx + "ChrgsInf[1]/Amt/@Ccy": "dropped",
        tx + "ChrgsInf[1]/Amt": "dropped",
        tx + "ChrgsInf[1]/Agt/FinInstnId/BICFI": "dropped",
        tx + "Dbtr/PstlAdr/Ctry": "dropped",
        tx + "DbtrAgt/FinInstnId/BICFI": "dropped",  # the 行号 identifies the bank
        tx + "DbtrAgt/FinInstnId/LEI": "moved",
        tx + "RmtInf/Strd[1]/RfrdDocInf[1]/Tp/CdOrPrtry/Cd": "dropped",
        tx + "RmtInf/Strd[1]/RfrdDocInf[1]/Nb": "dropped",
    }
    body_data = to_data(conversion.message.document)["FIToFICstmrCdtTrf"]
    cnaps_tx = body_data["CdtTrfTxInf"][0]
    assert re.fullmatch(r"20240315[0-9]{8}", body_data["GrpHdr"]["MsgId"])
    assert cnaps_tx["Dbtr"]["PstlAdr"]["AdrLine"] == ["上海 浦东新区 世纪大道 1198号 200120"]
    assert cnaps_tx["RmtInf"]["Ustrd"] == [
        "/H01/设备款 合同号HL-2024-0731",
        "/H01/PmtId/UETR:6f1c2a3b-8d4e-4f5a-9b6c-7d8e9f0a1b2c",
        "/H01/Dbtr/Id/OrgId/LEI:300300C1024567890123",
        "/H01/Cdtr/Id/OrgId/Othr[1]/Id:91110108MA01ABCD2X",
        "/H01/Cdtr/Id/OrgId/Othr[1]/SchmeNm/Prtry:USCC",
        "/H01/DbtrAgt/FinInstnId/LEI:5493002ERZU2K9PZDL40",
    ]
    assert cnaps_tx["PmtId"]["TxId"] == body_data["GrpHdr"]["MsgId"]  # defaulted: TxId = MsgId
    entry = next(e for e in conversion.loss if e.source_path.endswith("PmtId/UETR"))
    assert entry.target_path == tx + "RmtInf/Ustrd[2]"
    back = convert(conversion.message, P008)
    assert_loss_is_exact(source, conversion.loss, back.message)


def test_strict_refuses_and_names_every_lost_field() -> None:
    with pytest.raises(ConversionLossError) as caught:
        to_cnaps(realistic(), H111, strict=True)
    message = str(caught.value)
    for field in ("PmtId/UETR", "Dbtr/Id/OrgId/LEI", "ChrgsInf[1]/Amt", "InstdAmt", "RmtInf/Strd"):
        assert field in message


def test_foreign_currency_is_refused_even_without_strict() -> None:
    source = paymsg.parse(EXAMPLES / "iso20022" / P008 / "cbpr-usd-with-bah.xml")
    with pytest.raises(ConversionError) as caught:
        to_cnaps(source, H111, sender=SENDER, receiver=RECEIVER)
    assert caught.value.path == "/Document/FIToFICstmrCdtTrf/CdtTrfTxInf[1]/IntrBkSttlmAmt"
    assert "USD 25000.00" in str(caught.value)


def test_amount_beyond_the_fen_is_refused() -> None:
    data = to_data(realistic().document)
    data["FIToFICstmrCdtTrf"]["CdtTrfTxInf"][0]["IntrBkSttlmAmt"]["#text"] = "100.005"
    with pytest.raises(ConversionError, match="at most 2 decimals"):
        to_cnaps(message_of(P008, data), H111)


def test_long_text_is_truncated_in_characters() -> None:
    data = to_data(realistic().document)
    tx = data["FIToFICstmrCdtTrf"]["CdtTrfTxInf"][0]
    tx["RmtInf"] = {"Ustrd": ["附" * 140]}
    tx["Cdtr"]["PstlAdr"] = {"StrtNm": "路" * 70, "BldgNb": "8号", "TwnNm": "北京"}
    conversion = to_cnaps(message_of(P008, data), H111)
    assert errors(conversion.message) == []
    truncated = {e.source_path: e for e in conversion.loss if e.action == "truncated"}
    tx_path = "/Document/FIToFICstmrCdtTrf/CdtTrfTxInf[1]/"
    assert set(truncated) == {tx_path + "RmtInf/Ustrd[1]", tx_path + "Cdtr/PstlAdr"}
    assert (
        "145 characters, the target field holds 140"
        in truncated[tx_path + "RmtInf/Ustrd[1]"].reason
    )
    out_tx = to_data(conversion.message.document)["FIToFICstmrCdtTrf"]["CdtTrfTxInf"][0]
    assert out_tx["RmtInf"]["Ustrd"][0] == "/H01/" + "附" * 135
    assert len(out_tx["Cdtr"]["PstlAdr"]["AdrLine"][0]) == 70


def test_a_second_transaction_is_refused_not_dropped() -> None:
    source = paymsg.parse(EXAMPLES / "iso20022" / P008 / "cips-cny-batch.xml")
    with pytest.raises(ConversionError, match="this message has 2") as caught:
        to_cnaps(source, H111, sender=SENDER, receiver=RECEIVER)
    assert caught.value.path == "/Document/FIToFICstmrCdtTrf/CdtTrfTxInf[2]"


def test_a_stated_count_other_than_one_is_defaulted() -> None:
    data = to_data(realistic().document)
    data["FIToFICstmrCdtTrf"]["GrpHdr"]["NbOfTxs"] = "2"
    conversion = to_cnaps(message_of(P008, data), H111)
    nb = next(e for e in conversion.loss if e.source_path.endswith("GrpHdr/NbOfTxs"))
    assert (nb.action, nb.value) == ("defaulted", "2")


def test_required_codes_are_defaulted_and_reported() -> None:
    data = to_data(realistic().document)
    tx = data["FIToFICstmrCdtTrf"]["CdtTrfTxInf"][0]
    tx["PmtTpInf"] = {"CtgyPurp": {"Cd": "SUPP"}}
    tx["Purp"] = {"Cd": "GDDS"}
    del tx["SttlmPrty"]
    conversion = to_cnaps(message_of(P008, data), H111)
    loss = {
        e.source_path.split("CdtTrfTxInf[1]/")[-1]: (e.action, e.value) for e in conversion.loss
    }
    assert loss["PmtTpInf/CtgyPurp/Prtry"] == ("defaulted", "A100")
    assert loss["Purp/Prtry"] == ("defaulted", "02102")
    assert loss["SttlmPrty"] == ("defaulted", "NORM")
    assert loss["PmtTpInf/CtgyPurp/Cd"][0] == loss["Purp/Cd"][0] == "dropped"


def test_pacs009_purpose_becomes_the_f25_line() -> None:
    data = to_data(convert(paymsg.parse(H112_FILES[0], type=H112), P009).message.document)
    tx = data["FICdtTrf"]["CdtTrfTxInf"][0]
    tx.pop("SplmtryData", None)
    tx["RmtInf"]["Ustrd"] = ["/H01/头寸调拨"]
    tx["Purp"] = {"Prtry": "02118"}
    conversion = to_cnaps(message_of(P009, data), H112)
    assert conversion.lossless
    out = to_data(conversion.message.document)["FinInstnCdtTrf"]["CdtTrfTxInf"][0]
    assert out["RmtInf"]["Ustrd"] == ["/F25/02118", "/H01/头寸调拨"]
    del tx["Purp"]
    conversion = to_cnaps(message_of(P009, data), H112)
    assert [(e.action, e.value) for e in conversion.loss] == [("defaulted", "02105")]


def test_member_id_of_another_clearing_system_is_not_a_bank_code() -> None:
    data = to_data(realistic().document)
    agent = data["FIToFICstmrCdtTrf"]["CdtTrfTxInf"][0]["CdtrAgt"]["FinInstnId"]
    agent["ClrSysMmbId"] = {"ClrSysId": {"Cd": "HKNCC"}, "MmbId": "003"}
    conversion = to_cnaps(message_of(P008, data), H111)
    assert errors(conversion.message) == []
    lost = loss_of(conversion)
    member = "/Document/FIToFICstmrCdtTrf/CdtTrfTxInf[1]/CdtrAgt/FinInstnId/ClrSysMmbId/MmbId"
    assert lost[member] == "dropped"


def test_group_level_agents_move_to_the_transaction() -> None:
    data = to_data(realistic().document)
    msg = data["FIToFICstmrCdtTrf"]
    msg["GrpHdr"]["InstgAgt"] = msg["CdtTrfTxInf"][0].pop("InstgAgt")
    conversion = to_cnaps(message_of(P008, data), H111)
    assert errors(conversion.message) == []
    moved = {e.source_path: e.target_path for e in conversion.loss if e.action == "moved"}
    group = "/Document/FIToFICstmrCdtTrf/GrpHdr/InstgAgt/"
    assert moved[group + "FinInstnId/ClrSysMmbId/MmbId"] == (
        "/Document/FIToFICstmrCdtTrf/CdtTrfTxInf[1]/InstgAgt/FinInstnId/ClrSysMmbId/MmbId"
    )
    assert (
        moved[group + "FinInstnId/ClrSysMmbId/ClrSysId/Cd"]
        == moved[group + "FinInstnId/ClrSysMmbId/MmbId"]
    )
    assert conversion.message.envelope.header.orig_sender == "102100099996"


def test_any_to_any_through_the_hub_does_not_restore_another_types_carrier() -> None:
    """beps.121 → pacs.008.001.08 → hvps.111: the BEPS carrier is reported, not restored."""
    package = paymsg.parse(
        EXAMPLES / "cnaps2" / "beps.121.001.01" / "customer-credit-package.xml",
        type="beps.121.001.01",
    )
    assert route(package.type, H111)[-1] == (P008, H111)
    with pytest.raises(ConversionError, match="HVPS carries one transaction; this message has 3"):
        to_cnaps(package, H111)
    data = to_data(package.document)
    root = data["CstmrCdtTrf"]
    details = root["CstmrCdtTrfInf"]
    del details[1:]
    root["PKGGrpHdr"]["NbOfTxs"] = "1"
    root["PKGGrpHdr"]["CtrlSum"]["#text"] = details[0]["Amt"]["#text"]
    root["PKGGrpHdr"]["Rmk"] = "第一笔"  # carried by the BEPS edge
    conversion = to_cnaps(message_of("beps.121.001.01", data), H111)
    assert errors(conversion.message) == []
    tx = to_data(conversion.message.document)["FIToFICstmrCdtTrf"]["CdtTrfTxInf"]
    assert len(tx) == 1 and "SplmtryData" not in tx[0]
    carrier = [e for e in conversion.loss if "/SplmtryData[" in e.source_path]
    assert carrier and {e.action for e in carrier} == {"dropped"}
    assert {e.document for e in carrier} == {P008}  # the second edge's source


def test_payment_return_from_cips_becomes_an_hvps_return() -> None:
    source = paymsg.parse(EXAMPLES / "iso20022" / P004 / "cips-cny-return-ac04.xml")
    conversion = to_cnaps(source, H112, sender=SENDER, receiver=RECEIVER)
    assert errors(conversion.message) == []
    tx = to_data(conversion.message.document)["FinInstnCdtTrf"]["CdtTrfTxInf"][0]
    assert tx["PmtTpInf"] == {"SvcLvl": {"Prtry": "A105"}}
    assert tx["RmtInf"]["Ustrd"][:5] == [
        "/F25/02108",
        "/E51/BOCHK20260330CIPS000274",
        "/F40/pacs.008.001.08",
        "/H20/收款人账户已销户",
        "/H01/收款人账户已于2026年3月20日销户，原路退回",
    ]
    assert tx["DbtrAcct"]["Id"]["Othr"]["Id"] == "4000023309100456781"  # original creditor's
    lost = loss_of(conversion)
    assert lost["/Document/PmtRtr/OrgnlGrpInf/OrgnlMsgId"] == "moved"
    assert lost["/Document/PmtRtr/TxInf[1]/RtrChain/Dbtr/Pty/Nm"] == "moved"
    assert lost["/Document/PmtRtr/TxInf[1]/OrgnlEndToEndId"] == "dropped"


def test_carrier_of_another_cnaps_type_is_not_restored() -> None:
    data = to_data(realistic().document)
    tx = data["FIToFICstmrCdtTrf"]["CdtTrfTxInf"][0]
    tx["SplmtryData"] = [carry({"CdtTrfTxInf[1]/Dbtr/Nm": "不应恢复"}, "beps.121.001.01")]
    conversion = to_cnaps(message_of(P008, data), H111)
    out = to_data(conversion.message.document)["FIToFICstmrCdtTrf"]["CdtTrfTxInf"][0]
    assert out["Dbtr"]["Nm"] == "上海浦江精密机械有限公司"
    lost = loss_of(conversion)
    carrier = "/Document/FIToFICstmrCdtTrf/CdtTrfTxInf[1]/SplmtryData[1]/"
    assert lost[carrier + "PlcAndNm"] == lost[carrier + "Envlp/*[1]"] == "dropped"


# =============================================================================== properties

DIGITS = "0123456789"
HAN = st.characters(min_codepoint=0x4E00, max_codepoint=0x9FA5)
TEXT = st.text(
    alphabet=st.one_of(HAN, st.sampled_from(DIGITS + "ABCXYZ-（）·")), min_size=1, max_size=40
).filter(lambda s: s.strip() == s)
NAME = st.text(alphabet=HAN, min_size=2, max_size=30)
BANK = st.text(alphabet=DIGITS, min_size=12, max_size=12)
ACCOUNT = st.text(alphabet=DIGITS, min_size=8, max_size=32)
AMOUNT = st.integers(min_value=1, max_value=10**15).map(lambda c: f"{c // 100}.{c % 100:02d}")
PRIORITY = st.sampled_from(["NORM", "HIGH", "URGT"])
TAGS_111 = ["H01", "H02", "H03", "C00", "F1A", "F52"]
TAGS_112 = ["H01", "H02", "D27", "C18", "C00"]


def _lines(tags: list[str]) -> st.SearchStrategy[list[str]]:
    line = st.tuples(st.sampled_from(tags), TEXT).map(lambda t: f"/{t[0]}/{t[1]}")
    return st.lists(line, max_size=5)


def _agent(member: str, branch: str | None = None, name: str | None = None) -> dict[str, Any]:
    agent: dict[str, Any] = {"FinInstnId": {"ClrSysMmbId": {"MmbId": member}}}
    if name:
        agent["FinInstnId"]["Nm"] = name
    if branch:
        agent["BrnchId"] = {"Id": branch}
    return agent


@st.composite
def outside_usage(draw: st.DrawFn) -> dict[str, Any]:
    """Elements of the 2009 body the HVPS usage does not use (carried, some also mapped)."""
    extra: dict[str, Any] = {}
    if draw(st.booleans()):
        extra["PmtId/InstrId"] = draw(st.text(alphabet=DIGITS + "ABC", min_size=1, max_size=35))
    if draw(st.booleans()):
        extra["IntrBkSttlmDt"] = "2024-03-15"
    if draw(st.booleans()):
        extra["DbtrAgt/FinInstnId/BIC"] = draw(st.sampled_from(["ICBKCNBJ", "PCBCCNBJBJX"]))
    return extra


def oddities(draw: st.DrawFn, message: dict[str, Any]) -> None:
    """XSD-valid content the cnaps2 rules reject: must still come back exactly."""
    tx = message["CdtTrfTxInf"][0]
    if draw(st.booleans()):
        tx["InstgAgt"]["FinInstnId"]["ClrSysMmbId"]["ClrSysId"] = {"Prtry": "HVPS"}
    if draw(st.booleans()):
        tx.setdefault("RmtInf", {}).setdefault("Ustrd", []).append(draw(TEXT))
    if draw(st.booleans()):
        message["GrpHdr"]["SttlmInf"]["SttlmMtd"] = "INDA"
    if draw(st.booleans()):
        tx["InstdAgt"]["FinInstnId"]["ClrSysMmbId"]["MmbId"] = draw(
            st.text(alphabet=DIGITS, min_size=1, max_size=11)
        )
    if draw(st.booleans()):
        message["CdtTrfTxInf"].append(copy.deepcopy(tx))
        message["GrpHdr"]["NbOfTxs"] = draw(st.sampled_from(["1", "2"]))


def _put(data: dict[str, Any], path: str, value: Any) -> None:
    node = data
    steps = path.split("/")
    for step in steps[:-1]:
        node = node.setdefault(step, {})
    node[steps[-1]] = value


@st.composite
def hvps111(draw: st.DrawFn, odd: bool = True) -> Message:
    data = to_data(paymsg.parse(H111_FILES[1], type=H111).document)
    tx = data["FIToFICstmrCdtTrf"]["CdtTrfTxInf"][0]
    business_type, category = draw(
        st.sampled_from(
            [("A100", "02102"), ("A109", "02106"), ("A111", "03403"), ("A108", "02101")]
        )
    )
    tx["PmtTpInf"]["CtgyPurp"]["Prtry"] = business_type
    tx["Purp"]["Prtry"] = category
    tx["IntrBkSttlmAmt"]["#text"] = draw(AMOUNT)
    tx["SttlmPrty"] = draw(PRIORITY)
    instructing, instructed, debtor_bank, creditor_bank = (draw(BANK) for _ in range(4))
    tx["InstgAgt"] = _agent(instructing, debtor_bank)
    tx["InstdAgt"] = _agent(instructed, creditor_bank)
    tx["DbtrAgt"] = _agent(debtor_bank, name=draw(NAME))
    tx["CdtrAgt"] = _agent(creditor_bank, name=draw(NAME))
    tx["Dbtr"] = {"Nm": draw(NAME), "PstlAdr": {"AdrLine": [draw(TEXT)]}}
    tx["Cdtr"] = {"Nm": draw(NAME)}
    if draw(st.booleans()):
        tx["Cdtr"]["PstlAdr"] = {"AdrLine": draw(st.lists(TEXT, min_size=1, max_size=3))}
    tx["DbtrAcct"]["Id"]["Othr"]["Id"] = draw(ACCOUNT)
    tx["CdtrAcct"]["Id"]["Othr"]["Id"] = draw(ACCOUNT)
    lines = draw(_lines(TAGS_111))
    if lines:
        tx["RmtInf"]["Ustrd"] = lines
    else:
        del tx["RmtInf"]
    for path, value in draw(outside_usage()).items():
        _put(tx, path, value)
    if draw(st.booleans()):
        tx["Dbtr"]["PstlAdr"].update({"StrtNm": draw(TEXT), "Ctry": "CN", "AdrTp": "BIZZ"})
    if odd and draw(st.booleans()):
        oddities(draw, data["FIToFICstmrCdtTrf"])
    return message_of(H111, data)


@st.composite
def hvps112(draw: st.DrawFn, odd: bool = True) -> Message:
    data = to_data(paymsg.parse(H112_FILES[1], type=H112).document)
    tx = data["FinInstnCdtTrf"]["CdtTrfTxInf"][0]
    business_type, category = draw(
        st.sampled_from(
            [("A200", "02105"), ("A200", "02120"), ("G102", "02401"), ("A113", "02112")]
        )
    )
    tx["PmtTpInf"]["SvcLvl"]["Prtry"] = business_type
    tx["IntrBkSttlmAmt"]["#text"] = draw(AMOUNT)
    tx["SttlmPrty"] = draw(PRIORITY)
    debtor, creditor = draw(BANK), draw(BANK)
    tx["InstgAgt"] = _agent(debtor, debtor)
    tx["InstdAgt"] = _agent(creditor, creditor)
    tx["Dbtr"] = {"FinInstnId": {"ClrSysMmbId": {"MmbId": debtor}, "Nm": draw(NAME)}}
    tx["Cdtr"] = {
        "FinInstnId": {
            "ClrSysMmbId": {"MmbId": creditor},
            "Nm": draw(NAME),
            "PstlAdr": {"AdrLine": [draw(TEXT)]},
        }
    }
    if draw(st.booleans()):
        tx["CdtrAcct"] = {"Id": {"Othr": {"Id": draw(ACCOUNT)}}}
    lines = draw(_lines(TAGS_112))
    position = draw(st.integers(min_value=0, max_value=len(lines)))
    tx["RmtInf"]["Ustrd"] = [*lines[:position], f"/F25/{category}", *lines[position:]]
    for path, value in draw(outside_usage()).items():
        _put(tx, path, value)
    if odd and draw(st.booleans()):
        oddities(draw, data["FinInstnCdtTrf"])
    return message_of(H112, data)


@st.composite
def hvps112_return(draw: st.DrawFn) -> Message:
    data = to_data(paymsg.parse(RETURN_FILE, type=H112).document)
    tx = data["FinInstnCdtTrf"]["CdtTrfTxInf"][0]
    tx["IntrBkSttlmAmt"]["#text"] = draw(AMOUNT)
    tx["Dbtr"]["FinInstnId"]["Nm"] = draw(NAME)
    tx["CdtrAcct"]["Id"]["Othr"]["Id"] = draw(ACCOUNT)
    instructed = tx["InstdAgt"]["FinInstnId"]["ClrSysMmbId"]["MmbId"]
    reason = draw(st.one_of(st.sampled_from(sorted(hvps.RETURN_REASON_TEXT.values())), TEXT))
    tagged = [
        "/F25/02108",
        f"/E51/{draw(st.text(alphabet=DIGITS, min_size=16, max_size=16))}",
        f"/A70/{draw(st.sampled_from([instructed, '313100000013']))}",
        "/F40/hvps.111.001.01",
        f"/H20/{reason}",
        *[f"/H01/{t}" for t in draw(st.lists(TEXT, max_size=3))],
    ]
    if draw(st.booleans()):  # another order, a line dropped or an extra one: carried as is
        tagged = draw(st.permutations(tagged))[: draw(st.integers(3, len(tagged)))]
    if draw(st.booleans()):
        extra = draw(st.one_of(TEXT, _lines([*TAGS_112, "E51", "F40", "H20", "A70"]).map("".join)))
        tagged.insert(draw(st.integers(0, len(tagged))), extra or "/H02/附")
    tx["RmtInf"]["Ustrd"] = tagged
    if draw(st.booleans()):
        oddities(draw, data["FinInstnCdtTrf"])
    return message_of(H112, data)


PROPERTY = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@PROPERTY
@given(hvps111())
def test_property_hvps111_to_unified_and_back_is_exact(original: Message) -> None:
    forward = convert(original, P008)
    assert forward.lossless
    assert errors(forward.message, "xsd") == []
    back = to_cnaps(forward.message, H111, wrap=False)
    assert back.lossless, back.loss
    assert body(back.message) == body(original)


@PROPERTY
@given(hvps112())
def test_property_hvps112_to_unified_and_back_is_exact(original: Message) -> None:
    forward = convert(original, P009)
    tx = to_data(forward.message.document)["FICdtTrf"]["CdtTrfTxInf"][0]
    assert tx["Purp"]["Prtry"] == next(
        line[5:] for line in tx["RmtInf"]["Ustrd"] if line.startswith("/F25/")
    )
    assert errors(forward.message, "xsd") == []
    back = to_cnaps(forward.message, H112, wrap=False)
    assert back.lossless, back.loss
    assert body(back.message) == body(original)


@PROPERTY
@given(hvps112_return())
def test_property_hvps_return_to_pacs004_and_back_is_exact(original: Message) -> None:
    forward = convert(original, P004)
    assert errors(forward.message, "xsd") == []
    back = to_cnaps(forward.message, H112, wrap=False)
    assert back.lossless, back.loss
    assert body(back.message) == body(original)


ADDITIONS = [
    "UETR",
    "LEI",
    "Strd",
    "Adr",
    "InstdAmt",
    "ChrgsInf",
    "GroupAgent",
    "BicAgent",
    "Untagged",
    "BankMsgId",
    "INDA",
    "NoCodes",
]


def add(data: dict[str, Any], extra: str) -> None:
    """Unified data CNAPS2 cannot hold (or holds elsewhere), added to a converted hvps.111."""
    message = data["FIToFICstmrCdtTrf"]
    tx = message["CdtTrfTxInf"][0]
    if extra == "UETR":
        tx["PmtId"]["UETR"] = "6f1c2a3b-8d4e-4f5a-9b6c-7d8e9f0a1b2c"
    elif extra == "LEI":
        tx["Cdtr"]["Id"] = {"OrgId": {"LEI": "300300C1024567890123"}}
    elif extra == "Strd":
        tx.setdefault("RmtInf", {})["Strd"] = [{"AddtlRmtInf": ["附加信息"]}]
    elif extra == "Adr":
        tx["Cdtr"].setdefault("PstlAdr", {}).update({"TwnNm": "北京", "StrtNm": "长安街"})
    elif extra == "InstdAmt":
        tx["InstdAmt"] = {"@Ccy": "USD", "#text": "100.00"}
        tx["XchgRate"] = "7.1"
    elif extra == "ChrgsInf":
        tx["ChrgsInf"] = [{"Amt": {"@Ccy": "CNY", "#text": "5.00"}, "Agt": tx["DbtrAgt"]}]
    elif extra == "GroupAgent":
        message["GrpHdr"]["InstdAgt"] = tx.pop("InstdAgt")
    elif extra == "BicAgent":
        tx["CdtrAgt"] = {"FinInstnId": {"BICFI": "ICBKCNBJSHI"}}
    elif extra == "Untagged":
        tx.setdefault("RmtInf", {}).setdefault("Ustrd", []).append("货款")
    elif extra == "BankMsgId":
        message["GrpHdr"]["MsgId"] = "ICBC-REF-0001"
    elif extra == "INDA":
        message["GrpHdr"]["SttlmInf"]["SttlmMtd"] = "INDA"
    else:
        tx["PmtTpInf"] = {"CtgyPurp": {"Cd": "SUPP"}}
        tx.pop("Purp", None)


@PROPERTY
@given(hvps111(odd=False), st.sets(st.sampled_from(ADDITIONS), min_size=1, max_size=5))
def test_property_unified_additions_are_reported_exactly(
    original: Message, extras: set[str]
) -> None:
    """Whatever the unified message adds, the hvps.111 validates and the loss report names
    exactly what does not come back."""
    data = to_data(convert(original, P008).message.document)
    data["FIToFICstmrCdtTrf"]["CdtTrfTxInf"][0].pop("SplmtryData", None)  # a native message
    for extra in sorted(extras):
        add(data, extra)
    unified = message_of(P008, data)
    conversion = to_cnaps(unified, H111)
    assert not conversion.lossless
    assert errors(conversion.message) == []
    assert_loss_is_exact(unified, conversion.loss, convert(conversion.message, P008).message)
