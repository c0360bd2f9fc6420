"""Rule pack ``cnaps2``: every rule passes on the examples and fails on a mutation of one.

MUTATIONS holds, per rule id, one failing case: an example file, byte replacements, and
the finding expected (severity, path, and the text whose line the finding must point at).
The unmutated example is the passing case of the same rule.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

import pytest
from lxml import etree

from paymsg.codec.envelope.cnaps2 import Cnaps2Header
from paymsg.errors import ConfigError
from paymsg.reference.codes import CODE_TABLE_PATH, CodeTable, message_key, shipped_code_table
from paymsg.validation import Finding, Report, ValidationConfig, all_rules, validate
from paymsg.validation.rules.cnaps2 import load_code_table
from tests.conftest import EXAMPLES

CNAPS2 = EXAMPLES / "cnaps2"
HVPS111_TX = "/Document/FIToFICstmrCdtTrf/CdtTrfTxInf[1]"
HVPS112_TX = "/Document/FinInstnCdtTrf/CdtTrfTxInf[1]"
BEPS121 = "/Document/CstmrCdtTrf"
HVPS711_ROWS = "/Document/SummryFile/SummryFileInf/ChckPmtInfDtls"

CNAPS2_FILES = sorted(p for p in CNAPS2.glob("*/*") if p.suffix in (".xml", ".txt") and p.is_file())


@dataclass(frozen=True)
class Mutation:
    """A failing case: ``example`` with ``replace`` applied must give the finding described."""

    example: str  # relative to examples/cnaps2
    replace: tuple[tuple[bytes, bytes], ...]  # (old, new): every occurrence is replaced
    path: str
    severity: str
    line_of: bytes | None  # the finding's line is the first line containing this (None: line 1)
    config: ValidationConfig | None = None


def _m(
    example: str,
    old: bytes,
    new: bytes,
    path: str,
    severity: str = "error",
    line_of: bytes | None = b"",
    *more: tuple[bytes, bytes],
) -> Mutation:
    needle = new if line_of == b"" else line_of
    return Mutation(example, ((old, new), *more), path, severity, needle)


MUTATIONS: dict[str, Mutation] = {
    "cnaps2.header.mesg-type": _m(
        "hvps.111.001.01/customer-transfer-urgent.txt",
        b"FIToFICstmrCdtTrf>",
        b"FIToFICstmrCdtTrX>",
        "/Document/FIToFICstmrCdtTrX",
    ),
    "cnaps2.header.participants": _m(
        "hvps.111.001.01/customer-transfer-urgent.txt",
        b"<MmbId>105100000017</MmbId>",
        b"<MmbId>105100000099</MmbId>",
        f"{HVPS111_TX}/InstdAgt/FinInstnId/ClrSysMmbId/MmbId",
    ),
    "cnaps2.header.confirmed-message": _m(
        "ccms.990.001.02/bank-confirms-npc-forwarded-beps121.txt",
        b"<OrigSndr>313290000017</OrigSndr>",
        b"<OrigSndr>102100099996</OrigSndr>",
        "/Document/ComConf/ConfInf/OrigSndr",
        "warning",
    ),
    "cnaps2.header.system": _m(
        "ccms.900.001.02/beps-package-netted.txt",
        b"<SysCd>BEPS</SysCd>",
        b"<SysCd>SAPS</SysCd>",
        "/Document/CmonConf/GrpHdr/SysCd",
    ),
    "cnaps2.header.priority": _m(
        "hvps.111.001.01/customer-transfer-urgent.txt",
        b"<SttlmPrty>URGT</SttlmPrty>",
        b"<SttlmPrty>NORM</SttlmPrty>",
        f"{HVPS111_TX}/SttlmPrty",
    ),
    "cnaps2.header.direction": _m(
        "ccms.990.001.02/npc-confirms-hvps111.txt",
        b"3D         }",
        b"3U         }",
        "{H:}/MesgDirection",
        "error",
        None,
    ),
    "cnaps2.bank-code.format": _m(
        "beps.121.001.01/customer-credit-package.xml",
        b"<Id>105290036005</Id>",
        b"<Id>10529003600</Id>",
        f"{BEPS121}/CstmrCdtTrfInf[1]/CdtrAgt/BrnchId/Id",
    ),
    "cnaps2.msgid.format": _m(
        "hvps.111.001.01/customer-transfer-urgent.xml",
        b"<MsgId>2024031500001037</MsgId>",
        b"<MsgId>2024023000001037</MsgId>",
        "/Document/FIToFICstmrCdtTrf/GrpHdr/MsgId",
    ),
    "cnaps2.amount.cny": _m(
        "hvps.111.001.01/personal-remittance-high.xml",
        b'Ccy="CNY">86000.00<',
        b'Ccy="CNY">86000.005<',
        f"{HVPS111_TX}/IntrBkSttlmAmt",
    ),
    "cnaps2.hvps.single-transaction": _m(
        "hvps.111.001.01/personal-remittance-high.xml",
        b"<NbOfTxs>1</NbOfTxs>",
        b"<NbOfTxs>2</NbOfTxs>",
        "/Document/FIToFICstmrCdtTrf/GrpHdr/NbOfTxs",
    ),
    "cnaps2.hvps.settlement-method": _m(
        "hvps.112.001.01/interbank-funds-transfer.xml",
        b"<SttlmMtd>CLRG</SttlmMtd>",
        b"<SttlmMtd>INDA</SttlmMtd>",
        "/Document/FinInstnCdtTrf/GrpHdr/SttlmInf/SttlmMtd",
    ),
    "cnaps2.beps.nb-of-txs": _m(
        "beps.121.001.01/customer-credit-package.xml",
        b"<NbOfTxs>3</NbOfTxs>",
        b"<NbOfTxs>2</NbOfTxs>",
        f"{BEPS121}/PKGGrpHdr/NbOfTxs",
    ),
    "cnaps2.beps.ctrl-sum": _m(
        "beps.121.001.01/customer-credit-package.xml",
        b">64360.50<",
        b">64360.51<",
        f"{BEPS121}/PKGGrpHdr/CtrlSum",
    ),
    "cnaps2.beps.single-item-limit": _m(
        "beps.121.001.01/customer-credit-package.xml",
        b'<Amt Ccy="CNY">48000.00</Amt>',
        b'<Amt Ccy="CNY">50000.01</Amt>',
        f"{BEPS121}/CstmrCdtTrfInf[3]/Amt",
        "warning",
        b"",
        (b">64360.50<", b">66360.51<"),
    ),
    "cnaps2.code.business-type": _m(
        "beps.121.001.01/customer-credit-package.xml",
        b"<Prtry>A100</Prtry>",
        b"<Prtry>A999</Prtry>",
        f"{BEPS121}/CstmrCdtTrfInf[1]/PmtTpInf/CtgyPurp/Prtry",
        "warning",
    ),
    "cnaps2.code.category": _m(
        "hvps.111.001.01/customer-transfer-urgent.xml",
        b"<Prtry>02102</Prtry>",
        b"<Prtry>02105</Prtry>",
        f"{HVPS111_TX}/Purp/Prtry",
        "warning",
    ),
    "cnaps2.remittance.tag-syntax": _m(
        "hvps.111.001.01/customer-transfer-urgent.xml",
        b"<Ustrd>/H01/",
        b"<Ustrd>H01/",
        f"{HVPS111_TX}/RmtInf/Ustrd[1]",
    ),
    "cnaps2.remittance.unknown-tag": _m(
        "hvps.111.001.01/customer-transfer-urgent.xml",
        b"<Ustrd>/H01/",
        b"<Ustrd>/Z99/",
        f"{HVPS111_TX}/RmtInf/Ustrd[1]",
        "warning",
    ),
    "cnaps2.recon.summary-amount": _m(
        "hvps.711.001.01/ccb-day-summary.xml",
        b"<SndgCtrlSum>CNY+2570000.00<",
        b"<SndgCtrlSum>CNY2570000.00<",
        f"{HVPS711_ROWS}[1]/SndgCtrlSum",
    ),
    "cnaps2.recon.counts": _m(
        "hvps.711.001.01/ccb-day-summary.txt",
        b"<TtlPmt>3</TtlPmt>",
        b"<TtlPmt>4</TtlPmt>",
        "/Document/SummryFile/SummryFileInf/TtlPmt",
    ),
    "cnaps2.recon.partition": _m(
        "hvps.713.001.01/ccb-a100-details-part1.xml",
        b"<EndNb>2</EndNb>",
        b"<EndNb>6</EndNb>",
        "/Document/DtlRspn/Prttn",
        "error",
        b"<Prttn>",
    ),
    "cnaps2.recon.original-content": _m(
        "hvps.715.001.01/ccb-download-of-hvps111.txt",
        b"<OrgnlMT>hvps.111.001.01</OrgnlMT>",
        b"<OrgnlMT>hvps.112.001.01</OrgnlMT>",
        "/Document/TxDwnldgRspn/TxDwnldgRspnInf/OrgnlMsgCntt/Cntt",
        "error",
        b"<Cntt>",
    ),
    "cnaps2.recon.dates": _m(
        "beps.721.001.01/icbc-day-summary.xml",
        b"<ChckDt>2024-03-15</ChckDt>",
        b"<ChckDt>2024-03-18</ChckDt>",
        "/Document/TtlChck/TtlChckInf/ChckDt",
        "warning",
    ),
    "cnaps2.code.processing-status": _m(
        "saps.604.001.01/settled-hvps111.txt",
        b"<PrcSts>PR04</PrcSts>",
        b"<PrcSts>PR44</PrcSts>",
        "/Document/SttlmRtrRct/NPCPrcInf/PrcSts",
        "warning",
    ),
    "cnaps2.remittance.value-length": _m(
        "hvps.112.001.01/return-a105.xml",
        b"<Ustrd>/A70/103100000026</Ustrd>",
        b"<Ustrd>/A70/103100000026000</Ustrd>",
        f"{HVPS112_TX}/RmtInf/Ustrd[3]",
        "warning",
    ),
}


# ------------------------------------------------------------------------------- helpers


def _validate(
    path: Path, data: bytes | None = None, config: ValidationConfig | None = None
) -> Report:
    """Validate an example (or ``data`` standing for it): bodies with their folder's type."""
    source = path.read_bytes() if data is None else data
    forced = path.parent.name if path.suffix == ".xml" else None
    return validate(source, type=forced, config=config)


def _mutate(data: bytes, replacements: tuple[tuple[bytes, bytes], ...]) -> bytes:
    for old, new in replacements:
        assert old in data, old
        data = data.replace(old, new)
    return data


def _line_of(data: bytes, needle: bytes) -> int:
    return data[: data.index(needle)].count(b"\n") + 1


def _of(report: Report, rule_id: str) -> list[Finding]:
    return [f for f in report.findings if f.rule == rule_id]


def _rule_ids() -> list[str]:
    return [r.id for r in all_rules() if r.pack == "cnaps2"]


# ------------------------------------------------------------------------------- the pack


def test_every_cnaps2_rule_has_a_failing_case() -> None:
    assert sorted(_rule_ids()) == sorted(MUTATIONS)


def test_every_cnaps2_rule_is_documented_in_both_languages() -> None:
    for spec in all_rules():
        if spec.pack == "cnaps2":
            assert spec.id.startswith("cnaps2."), spec.id
            assert len(spec.doc) > 80 and spec.title and spec.title_zh, spec.id


@pytest.mark.parametrize(
    "path", CNAPS2_FILES, ids=[str(p.relative_to(CNAPS2)) for p in CNAPS2_FILES]
)
def test_every_cnaps2_example_is_clean(path: Path) -> None:
    report = _validate(path)
    assert report.counts == {"error": 0, "warning": 0, "info": 0}, report.findings


@pytest.mark.parametrize("rule_id", sorted(MUTATIONS))
def test_rule_passes_on_its_example(rule_id: str) -> None:
    report = _validate(CNAPS2 / MUTATIONS[rule_id].example)
    assert not report.findings, report.findings


@pytest.mark.parametrize("rule_id", sorted(MUTATIONS))
def test_rule_fails_on_a_mutated_example(rule_id: str) -> None:
    case = MUTATIONS[rule_id]
    path = CNAPS2 / case.example
    data = _mutate(path.read_bytes(), case.replace)
    report = _validate(path, data, config=case.config)
    found = _of(report, rule_id)
    assert found, report.findings
    first = found[0]
    assert first.layer == "rule"
    assert first.severity == case.severity, first
    assert first.path == case.path, first
    assert first.line is not None, first
    expected_line = 1 if case.line_of is None else _line_of(data, case.line_of)
    assert first.line == expected_line, first
    assert first.message and first.message_zh
    assert not any("could not run" in f.message for f in report.findings), report.findings


# ------------------------------------------------------------------------------- header ⇄ body


def test_a_type_forced_against_the_header_is_reported() -> None:
    path = CNAPS2 / "hvps.111.001.01/customer-transfer-urgent.txt"
    report = validate(path, type="pacs.008.001.02")
    found = _of(report, "cnaps2.header.mesg-type")
    assert [f.value for f in found] == ["hvps.111.001.01"]
    assert found[0].path == "/Document/FIToFICstmrCdtTrf" and found[0].line is not None


def test_header_rules_do_not_run_on_a_bare_body() -> None:
    path = CNAPS2 / "hvps.111.001.01/customer-transfer-urgent.xml"
    data = path.read_bytes().replace(b"<SttlmPrty>URGT", b"<SttlmPrty>NORM")
    assert not _validate(path, data).findings


def test_npc_forwarded_package_keeps_the_originating_bank_as_sender() -> None:
    path = CNAPS2 / "beps.121.001.01/forwarded-by-npc.txt"
    data = path.read_bytes()
    header = Cnaps2Header.decode(data[:130].decode("ascii"))
    assert header.mesg_direction == "D" and header.orig_sender == "313290000017"
    assert not validate(data).findings
    # a participant sending it upwards with NPCPrcInf in the body contradicts itself
    upward = data.replace(b"3D         }", b"3U         }", 1)
    found = _of(validate(upward), "cnaps2.header.direction")
    assert [f.path for f in found] == [f"{BEPS121}/NPCPrcInf"]
    # the sender is compared with the instructing direct participant, whatever the direction
    other = data.replace(b"<InstgDrctPty>313290000017<", b"<InstgDrctPty>313290000025<")
    found = _of(validate(other), "cnaps2.header.participants")
    assert [f.path for f in found] == [f"{BEPS121}/PKGGrpHdr/InstgPty/InstgDrctPty"]


def test_message_to_the_npc_must_travel_upwards() -> None:
    path = CNAPS2 / "ccms.990.001.02/bank-confirms-npc-forwarded-beps121.txt"
    data = path.read_bytes().replace(b"3U         }", b"3D         }", 1)
    found = _of(validate(data), "cnaps2.header.direction")
    assert [(f.path, f.line, f.value) for f in found] == [("{H:}/MesgDirection", 1, "D")]


def test_broadcast_receiver_is_not_compared() -> None:
    path = CNAPS2 / "ccms.801.001.02/beps-day-switch-broadcast.txt"
    data = path.read_bytes().replace(b"BEPS000000000000  BEPS", b"BEPS102100099996  BEPS", 1)
    assert b"BEPS102100099996  BEPS" in data
    assert not validate(data).findings


def test_npc_990_goes_back_to_the_sender_and_911_comes_from_the_npc() -> None:
    npc990 = (CNAPS2 / "ccms.990.001.02/npc-confirms-hvps111.txt").read_bytes()
    wrong = npc990.replace(b"HVPS102100099996  HVPS", b"HVPS105100000017  HVPS", 1)
    found = _of(validate(wrong), "cnaps2.header.confirmed-message")
    assert [(f.severity, f.path) for f in found] == [
        ("warning", "/Document/ComConf/ConfInf/OrigSndr")
    ]
    dropped = (CNAPS2 / "ccms.911.001.02/duplicate-hvps111.txt").read_bytes()
    wrong = dropped.replace(b"{H:020000          HVPS", b"{H:02105100000017  HVPS", 1)
    found = _of(validate(wrong), "cnaps2.header.confirmed-message")
    assert [(f.path, f.line) for f in found] == [("{H:}/OrigSender", 1)]
    wrong = dropped.replace(b"HVPS102100099996  HVPS", b"HVPS105100000017  HVPS", 1)
    found = _of(validate(wrong), "cnaps2.header.confirmed-message")
    assert [f.path for f in found] == ["/Document/DscrdMsgNtfctn/DscrdInf/OrigSndr"]


def test_iso_body_system_is_the_message_system() -> None:
    path = CNAPS2 / "hvps.111.001.01/personal-remittance-high.txt"
    data = path.read_bytes().replace(b"HVPS104100000004  HVPS", b"HVPS104100000004  BEPS", 1)
    found = _of(validate(data), "cnaps2.header.system")
    assert [(f.path, f.value) for f in found] == [("/Document/FIToFICstmrCdtTrf", "HVPS")]


# ------------------------------------------------------------------------------- identifiers, amounts


@pytest.mark.parametrize(
    ("old", "new", "path"),
    [
        # the NPC is accepted where a participant is named, not as a branch
        (b"<Id>102100024015</Id>", b"<Id>0000</Id>", f"{HVPS111_TX}/InstgAgt/BrnchId/Id"),
        (b"<Issr>105290036005</Issr>", b"<Issr>1052900360050</Issr>", None),
        (
            b"<MmbId>105290036005</MmbId>",
            b"<MmbId>0000</MmbId>",
            f"{HVPS111_TX}/CdtrAgt/FinInstnId/ClrSysMmbId/MmbId",
        ),
    ],
)
def test_bank_codes(old: bytes, new: bytes, path: str | None) -> None:
    example = (
        "hvps.111.001.01/customer-transfer-urgent.xml"
        if path
        else "beps.121.001.01/customer-credit-package.xml"
    )
    file = CNAPS2 / example
    data = file.read_bytes()
    found = _of(_validate(file, _mutate(data, ((old, new),))), "cnaps2.bank-code.format")
    assert found
    if path is not None:
        assert found[0].path == path
    npc = data.replace(b"<MmbId>105100000017</MmbId>", b"<MmbId>0000</MmbId>")
    assert not _of(_validate(file, npc), "cnaps2.bank-code.format")


def test_header_participant_must_be_a_bank_code() -> None:
    path = CNAPS2 / "ccms.911.001.02/duplicate-hvps111.txt"
    data = path.read_bytes().replace(b"HVPS102100099996  HVPS", b"HVPS1021000999    HVPS", 1)
    found = _of(validate(data), "cnaps2.bank-code.format")
    assert [(f.path, f.line) for f in found] == [("{H:}/OrigReceiver", 1)]


def test_msgid_shapes() -> None:
    path = CNAPS2 / "saps.604.001.01/settled-hvps111.xml"
    data = path.read_bytes()
    short = data.replace(b"<OrgnlMsgId>2024031500001037<", b"<OrgnlMsgId>202403150001037<")
    found = _of(_validate(path, short), "cnaps2.msgid.format")
    assert [f.path for f in found] == ["/Document/SttlmRtrRct/OrgnlGrpHdr/OrgnlMsgId"]
    # ccms.990/911 MsgId is the header MesgID of the confirmed message: 20 characters
    assert not _validate(CNAPS2 / "ccms.911.001.02/duplicate-hvps111.xml").findings


def test_amount_currency_and_trailing_zeros() -> None:
    path = CNAPS2 / "beps.121.001.01/customer-credit-package.xml"
    data = path.read_bytes()
    usd = data.replace(b'<Amt Ccy="CNY">3860.50</Amt>', b'<Amt Ccy="USD">3860.50</Amt>')
    found = _of(_validate(path, usd), "cnaps2.amount.cny")
    assert [(f.path, f.value) for f in found] == [(f"{BEPS121}/CstmrCdtTrfInf[2]/Amt", "USD")]
    zeros = data.replace(b">3860.50</Amt>", b">3860.500</Amt>")
    assert not _of(_validate(path, zeros), "cnaps2.amount.cny")
    balance = CNAPS2 / "saps.604.001.01/settled-hvps111.xml"
    hkd = balance.read_bytes().replace(b"<Bal>CNY+", b"<Bal>HKD+")
    assert [f.path for f in _of(_validate(balance, hkd), "cnaps2.amount.cny")] == [
        "/Document/SttlmRtrRct/AcctInf/Bal"
    ]


def test_hvps_with_two_transactions() -> None:
    path = CNAPS2 / "hvps.111.001.01/personal-remittance-high.xml"
    root = etree.fromstring(path.read_bytes())
    message = root[0]
    transaction = message.find("{*}CdtTrfTxInf")
    assert transaction is not None
    message.append(etree.fromstring(etree.tostring(transaction)))
    found = _of(_validate(path, etree.tostring(root)), "cnaps2.hvps.single-transaction")
    assert [f.path for f in found] == ["/Document/FIToFICstmrCdtTrf/CdtTrfTxInf[2]"]


def test_single_item_limit_is_inclusive_and_configurable() -> None:
    path = CNAPS2 / "beps.121.001.01/customer-credit-package.xml"
    base = path.read_bytes()
    at_limit = _mutate(
        base,
        ((b">48000.00<", b">50000.00<"), (b">64360.50<", b">66360.50<")),
    )
    assert not _validate(path, at_limit).findings
    case = MUTATIONS["cnaps2.beps.single-item-limit"]
    over = _mutate(base, case.replace)
    config = ValidationConfig(beps_single_item_limit=Decimal("100000.00"))
    assert not _validate(path, over, config=config).findings
    low = ValidationConfig(beps_single_item_limit=Decimal("10000.00"))
    found = _of(_validate(path, base, config=low), "cnaps2.beps.single-item-limit")
    assert [f.path for f in found] == [
        f"{BEPS121}/CstmrCdtTrfInf[1]/Amt",
        f"{BEPS121}/CstmrCdtTrfInf[3]/Amt",
    ]


# ------------------------------------------------------------------------------- code tables


def test_business_type_must_fit_the_message_type() -> None:
    path = CNAPS2 / "hvps.111.001.01/customer-transfer-urgent.xml"
    data = path.read_bytes().replace(b"<Prtry>A100</Prtry>", b"<Prtry>A200</Prtry>")
    found = _of(_validate(path, data), "cnaps2.code.business-type")
    assert [(f.severity, f.value) for f in found] == [("warning", "A200")]
    assert "hvps.112" in found[0].message


def test_missing_business_type_is_an_error() -> None:
    path = CNAPS2 / "hvps.112.001.01/interbank-funds-transfer.xml"
    data = path.read_bytes().replace(
        b"<PmtTpInf>\n        <SvcLvl>\n          <Prtry>A200</Prtry>\n        </SvcLvl>\n      </PmtTpInf>\n",
        b"",
    )
    assert b"SvcLvl" not in data
    found = _of(_validate(path, data), "cnaps2.code.business-type")
    assert [(f.severity, f.path) for f in found] == [("error", HVPS112_TX)]


def test_return_names_a_known_original_business_type() -> None:
    path = CNAPS2 / "beps.121.001.01/return-a105.xml"
    data = path.read_bytes().replace(b"<OrgnlTxTpCd>A100<", b"<OrgnlTxTpCd>A200<", 1)
    found = _of(_validate(path, data), "cnaps2.code.business-type")
    assert [f.path for f in found] == [
        f"{BEPS121}/CstmrCdtTrfInf[1]/CstmrCdtTrfAddtlInf/RtrInf/OrgnlTx/OrgnlTxTpCd"
    ]


def test_category_in_f25_lines() -> None:
    path = CNAPS2 / "hvps.112.001.01/interbank-lending-otc.xml"
    data = path.read_bytes()
    unknown = data.replace(b"/F25/02120", b"/F25/99999")
    found = _of(_validate(path, unknown), "cnaps2.code.category")
    assert [(f.value, f.path) for f in found] == [("99999", f"{HVPS112_TX}/RmtInf/Ustrd[1]")]
    missing = data.replace(b"<Ustrd>/F25/02120</Ustrd>", b"")
    found = _of(_validate(path, missing), "cnaps2.code.category")
    assert [f.path for f in found] == [HVPS112_TX]
    twice = data.replace(b"<Ustrd>/D27/185</Ustrd>", b"<Ustrd>/F25/02121</Ustrd>")
    found = _of(_validate(path, twice), "cnaps2.code.category")
    assert [f.path for f in found] == [f"{HVPS112_TX}/RmtInf/Ustrd[2]"]


def test_shipped_table() -> None:
    table = shipped_code_table()
    assert table is shipped_code_table()  # cached per path
    assert not table.authoritative and table.severity == "warning"
    assert table.business_types["A100"].zh == "普通汇兑"
    assert table.business_types["A100"].confidence == "C2+"
    assert table.categories["02102"].label == "02102 普通汇兑"
    assert all(len(code) == 4 for code in table.business_types)
    assert all(len(code) == 5 and code.isdigit() for code in table.categories)
    assert set(table.messages_for("A100") or {}) == {"hvps.111", "beps.121"}
    assert table.categories_for("hvps.111.001.01", "A100") == {"02102": "C2+", "02103": "S1"}
    assert table.categories_for("hvps.111.001.01", "A101") is None
    assert table.tags["F25"].confidence == "C2+" and table.tags["A70"].max_length == 14
    assert message_key("hvps.111.001.01") == "hvps.111"


CCMS906 = """<?xml version="1.0" encoding="UTF-8"?>
<Document xmlns="urn:cnaps:std:ccms:2010:tech:xsd:ccms.906.001.01">
  <BizClssTpMgmt>
    <GrpHdr>
      <MsgId>2024031400000906</MsgId>
      <CreDtTm>2024-03-14T18:00:00</CreDtTm>
      <InstgPty><InstgDrctPty>0000</InstgDrctPty><InstgPty>0000</InstgPty></InstgPty>
      <InstdPty><InstdDrctPty>102100099996</InstdDrctPty><InstdPty>102100099996</InstdPty></InstdPty>
      <SysCd>HVPS</SysCd>
    </GrpHdr>
    {rows}
  </BizClssTpMgmt>
</Document>
"""


def _row(change: str, mt: str, tx: str | None = None, category: str | None = None) -> str:
    parts = [f"<ChngCtrl><ChngTp>{change}</ChngTp><FctvTp>EF00</FctvTp></ChngCtrl>"]
    parts.append(f"<MT>{mt}</MT><MsgNm>报文</MsgNm>")
    if tx is not None:
        parts.append(f"<TxTpCd>{tx}</TxTpCd><TxTpNm>业务类型{tx}</TxTpNm>")
    if category is not None:
        parts.append(f"<CtgyPurpCd>{category}</CtgyPurpCd><CtgyPurpNm>种类{category}</CtgyPurpNm>")
    return "<ChngInf>" + "".join(parts) + "</ChngInf>"


def _ccms906(tmp_path: Path, *rows: str, name: str = "ccms906.xml") -> Path:
    path = tmp_path / name
    path.write_text(CCMS906.replace("{rows}", "\n    ".join(rows)), encoding="utf-8")
    return path


def test_ccms906_table_is_loaded_and_authoritative(tmp_path: Path) -> None:
    path = _ccms906(
        tmp_path,
        _row("CC00", "hvps.111.001.01", "A100", "02102"),
        _row("CC00", "hvps.111.001.01", "A100", "02101"),
        _row("CC00", "hvps.111.001.01", "A109", "02106"),
        _row("CC02", "hvps.111.001.01", "A100", "02101"),  # deleted again
        _row("CC00", "beps.121.001.01", "A100", "02102"),
        _row("CC00", "ccms.801.001.02"),  # no business type: ignored
    )
    table = load_code_table(path)
    assert isinstance(table, CodeTable)
    assert table is load_code_table(str(path))  # cached per path
    assert table.authoritative and table.severity == "error"
    assert set(table.business_types) == {"A100", "A109"}
    assert table.business_types["A100"].zh == "业务类型A100"
    assert table.categories["02106"].zh == "种类02106"
    assert table.categories_for("hvps.111.001.01", "A100") == {"02102": "NPC"}
    assert set(table.messages_for("A100") or {}) == {"hvps.111", "beps.121"}
    assert set(table.messages_for("A109") or {}) == {"hvps.111"}

    config = ValidationConfig(cnaps2_code_table=path)
    urgent = CNAPS2 / "hvps.111.001.01/customer-transfer-urgent.xml"
    assert not _validate(urgent, config=config).findings  # A100 / 02102
    collection = CNAPS2 / "hvps.111.001.01/collection-a109-normal.xml"
    assert not _validate(collection, config=config).findings  # A109 / 02106
    # against NPC's table the code findings are errors
    data = urgent.read_bytes().replace(b"<Prtry>02102</Prtry>", b"<Prtry>02101</Prtry>")
    found = _of(_validate(urgent, data, config=config), "cnaps2.code.category")
    assert [(f.severity, f.value) for f in found] == [("error", "02101")]
    package = CNAPS2 / "beps.121.001.01/collection-a109-colltninf.xml"
    found = _of(_validate(package, config=config), "cnaps2.code.business-type")
    assert {(f.severity, f.value) for f in found} == {("error", "A109")}
    assert "beps.121" in found[0].message
    # the remittance tags still come from the shipped table
    assert not _of(_validate(urgent, config=config), "cnaps2.remittance.unknown-tag")


def test_ccms906_with_its_header_and_reload_on_change(tmp_path: Path) -> None:
    header = Cnaps2Header(
        orig_sender="0000",
        orig_sender_sid="HVPS",
        orig_receiver="102100099996",
        orig_receiver_sid="HVPS",
        orig_send_date="20240314",
        orig_send_time="180000",
        mesg_type="ccms.906.001.01",
        mesg_id="20240314000000000906",
        mesg_ref_id="20240314000000000906",
        mesg_direction="D",
    )
    body = CCMS906.replace("{rows}", _row("CC00", "hvps.111.001.01", "A100", "02102"))
    path = tmp_path / "ccms906.txt"
    path.write_bytes(header.encode().encode("ascii") + b"\r\n" + body.encode("utf-8"))
    first = load_code_table(path)
    assert set(first.business_types) == {"A100"}
    body = CCMS906.replace("{rows}", _row("CC00", "hvps.112.001.01", "A200", "02105"))
    path.write_bytes(header.encode().encode("ascii") + b"\r\n" + body.encode("utf-8") + b"\n")
    assert set(load_code_table(path).business_types) == {"A200"}


def test_toml_table_in_our_layout_replaces_the_shipped_one(tmp_path: Path) -> None:
    path = tmp_path / "codes.toml"
    shutil.copy(CODE_TABLE_PATH, path)
    text = path.read_text(encoding="utf-8").replace("authoritative = false", "authoritative = true")
    path.write_text(text, encoding="utf-8")
    config = ValidationConfig(cnaps2_code_table=path)
    urgent = CNAPS2 / "hvps.111.001.01/customer-transfer-urgent.xml"
    assert not _validate(urgent, config=config).findings
    data = urgent.read_bytes().replace(b"<Prtry>02102</Prtry>", b"<Prtry>02105</Prtry>")
    found = _of(_validate(urgent, data, config=config), "cnaps2.code.category")
    assert [f.severity for f in found] == ["error"]


@pytest.mark.parametrize(
    "content",
    [
        "<Document><Other/></Document>",
        "<Document><BizClssTpMgmt/></Document>",
        "not = [valid",
        'business_type = [{ code = "A100", zh = "x", en = "y", confidence = "MAYBE" }]',
        'usage = [{ business_type = "Z100", messages = ["hvps.111.001.01"], confidence = "S1" }]',
    ],
)
def test_bad_tables_are_config_errors(tmp_path: Path, content: str) -> None:
    path = tmp_path / "table"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(ConfigError):
        load_code_table(path)


def test_an_unreadable_table_is_reported_not_raised(tmp_path: Path) -> None:
    config = ValidationConfig(cnaps2_code_table=tmp_path / "missing.xml")
    report = _validate(CNAPS2 / "hvps.111.001.01/customer-transfer-urgent.xml", config=config)
    found = _of(report, "cnaps2.code.business-type")
    assert [f.severity for f in found] == ["error"] and "missing.xml" in (found[0].value or "")
    assert not any("could not run" in f.message for f in report.findings)


# ------------------------------------------------------------------------------- robustness


def _wreck(data: bytes) -> list[bytes]:
    """Documents that fail the schema in ways rules must survive."""
    cases = []
    for old, new in (
        (b"<NbOfTxs>", b"<NbOfTxs>x"),
        (b'Ccy="CNY">', b'Ccy="CNY">abc'),
        (b"<MsgId>", b"<MsgId>\xe5\xa4\xa7"),
        (b"<Prtry>", b"<Prtry> "),
        (b"<Ustrd>/", b"<Ustrd>/F25/"),
        (b"<SysCd>", b"<SysCd>X"),
    ):
        if old in data:
            cases.append(data.replace(old, new))
    for tag in (b"GrpHdr", b"PKGGrpHdr", b"CdtTrfTxInf", b"ConfInf", b"DscrdInf", b"NPCPrcInf"):
        start, end = data.find(b"<" + tag + b">"), data.find(b"</" + tag + b">")
        if start >= 0 and end > start:
            cases.append(data[:start] + data[end + len(tag) + 3 :])
    # an empty message element
    root_start = data.find(b"<Document")
    if root_start >= 0:
        head = data[:root_start]
        ns = data[root_start : data.index(b">", root_start) + 1]
        cases.append(head + ns + b"</Document>")
    return cases


@pytest.mark.parametrize(
    "path", CNAPS2_FILES, ids=[str(p.relative_to(CNAPS2)) for p in CNAPS2_FILES]
)
def test_rules_survive_documents_that_failed_the_schema(path: Path) -> None:
    for data in _wreck(path.read_bytes()):
        report = _validate(path, data)
        assert not any("could not run" in f.message for f in report.findings), report.findings
