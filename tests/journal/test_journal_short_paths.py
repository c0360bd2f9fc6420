"""The journal's short path for ccms.990 gives exactly the columns of the full path.

Every example (CNAPS2 and ISO) is read both ways; so are generated 990s (every header id
mode, with and without MsgRefId, odd spacing) and 990s that must leave the short path
(comments, entities, values out of their length, trailing text, a signature block).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from paymsg import parse
from paymsg.codec.envelope.cnaps2 import split_envelope
from paymsg.journal.extract import extract, read_confirmation, read_without_binding
from paymsg.schema.index import schema_index
from paymsg.sim import build
from paymsg.transport.session import build_confirmation
from tests.conftest import EXAMPLES

TEXTS = sorted(
    path
    for path in EXAMPLES.rglob("*")
    if path.suffix in (".xml", ".txt") and path.is_file() and "keys" not in path.parts
)


def both_ways(text: bytes) -> tuple[dict[str, object], dict[str, object]]:
    return vars(extract(text)), vars(extract(text, short=False))


@pytest.mark.parametrize("path", TEXTS, ids=lambda p: str(p.relative_to(EXAMPLES)))
def test_every_example_reads_the_same_both_ways(path) -> None:  # type: ignore[no-untyped-def]
    short, full = both_ways(path.read_bytes())
    assert short == full


def test_the_example_990s_take_the_short_path() -> None:
    texts = [p for p in TEXTS if "ccms.990" in str(p) and p.suffix == ".txt"]
    assert texts
    for path in texts:
        text = path.read_bytes()
        found = read_confirmation(text)
        assert found is not None, path
        assert vars(found) == vars(extract(text, short=False))
        assert found.orig_mesg_id and found.prc_cd and found.read_error is None


def _answer(code: str, header_ids: str) -> bytes:
    original = (EXAMPLES / "cnaps2/hvps.111.001.01").glob("*.txt")
    header = split_envelope(next(iter(sorted(original))).read_bytes())[0].header
    return build_confirmation(
        header,
        code,
        participant="0000",
        header_ids=header_ids,  # type: ignore[arg-type]
    )


@pytest.mark.parametrize("header_ids", ["echo", "new"])
@pytest.mark.parametrize("code", ["PM1I0000", "PM1E0002", "X"])
def test_built_990s_take_the_short_path(code: str, header_ids: str) -> None:
    text = _answer(code, header_ids)
    found = read_confirmation(text)
    assert found is not None
    assert vars(found) == vars(extract(text, short=False))
    assert found.prc_cd == code


@settings(max_examples=60, deadline=None)
@given(
    sender=st.from_regex(r"[0-9A-Za-z]{1,16}", fullmatch=True),
    mesg_id=st.from_regex(r"[0-9A-Za-z]{1,22}", fullmatch=True),
    ref=st.one_of(st.none(), st.from_regex(r"[0-9A-Za-z]{1,22}", fullmatch=True)),
    code=st.from_regex(r"[0-9A-Za-z]{1,10}", fullmatch=True),
    space=st.sampled_from(["", "\n", "  ", "\r\n\t"]),
)
def test_generated_990_bodies_read_the_same_both_ways(
    sender: str, mesg_id: str, ref: str | None, code: str, space: str
) -> None:
    """Values within and beyond their schema lengths: the short path takes only what the
    full path reads without error, and gives the same columns."""
    text = _answer("PM1I0000", "echo")
    offset = split_envelope(text)[1]
    ref_element = "" if ref is None else f"<MsgRefId>{ref}</MsgRefId>{space}"
    body = (
        '<?xml version="1.0" encoding="UTF-8"?>'
        f'{space}<Document xmlns="urn:cnaps:std:ccms:2010:tech:xsd:ccms.990.001.02">{space}'
        f"<ComConf>{space}<ConfInf>{space}<OrigSndr>{sender}</OrigSndr>{space}"
        f"<OrigSndDt>20240315</OrigSndDt>{space}<MT>hvps.111.001.01</MT>{space}"
        f"<MsgId>{mesg_id}</MsgId>{space}{ref_element}<MsgPrcCd>{code}</MsgPrcCd>{space}"
        f"</ConfInf>{space}</ComConf>{space}</Document>{space}"
    )
    variant = text[:offset] + body.encode()
    short, full = both_ways(variant)
    assert short == full
    if read_confirmation(variant) is not None:
        assert full["read_error"] is None


@pytest.mark.parametrize(
    "change",
    [
        (b"<MsgPrcCd>", b"<!-- c --><MsgPrcCd>"),
        (b"<MT>hvps.111.001.01</MT>", b"<MT>hvps&#46;111.001.01</MT>"),
        (b"<MsgId>", b"<MsgId>1234567890123456789012345"),
        (b"</Document>", b"</Document>trailing"),
        (b"</Document>", b"</Document><Document/>"),
        (b"<ComConf>", b'<ComConf xmlns:x="urn:x">'),
        (b"<MsgPrcCd>PM1I0000</MsgPrcCd>", b""),
        (b"ccms.990.001.02", b"ccms.990.001.01"),
    ],
)
def test_unusual_990s_leave_the_short_path(change: tuple[bytes, bytes]) -> None:
    old, new = change
    text = _answer("PM1I0000", "echo")
    assert old in text
    variant = text.replace(old, new)
    assert read_confirmation(variant) is None
    short, full = both_ways(variant)
    assert short == full


def test_columns_read_by_the_caller_are_used_only_for_their_own_text(tmp_path) -> None:  # type: ignore[no-untyped-def]
    from paymsg.errors import JournalError
    from paymsg.journal import Journal

    journal = Journal(f"sqlite:///{tmp_path / 'j.db'}")
    first, second = _answer("PM1I0000", "new"), _answer("PM1E0002", "new")
    with pytest.raises(JournalError, match="not read from this text"):
        journal.record_inbound(first, queue="IN", read=extract(second))
    given, _ = journal.record_inbound(first, queue="IN", read=extract(first))
    read_here, _ = journal.record_inbound(second, queue="IN")
    assert (given.orig_mesg_id, given.prc_cd) == (read_here.orig_mesg_id, "PM1I0000")
    assert read_here.prc_cd == "PM1E0002"


# --------------------------------------------------------------------------- replies
# The centre's replies and forwards (saps.604, ccms.900, ccms.911, BEPS packages with
# NPCPrcInf) hold PrcSts, PrcCd, RjctInf, NetgDt, NetgRnd, OrigSndr: the tree read reads
# them where the type's schema gives each one plain text, with the full path's result.

NOW = datetime(2026, 12, 6, 10, 0, 0)
DAY = date(2026, 12, 6)
BANK = "102100099996"
HVPS = (EXAMPLES / "cnaps2/hvps.111.001.01/customer-transfer-urgent.txt").read_bytes()
PACKAGE = (EXAMPLES / "cnaps2/beps.121.001.01/collection-a109-colltninf.txt").read_bytes()
CODES = st.from_regex(r"[0-9A-Z]{1,8}", fullmatch=True)
INFO = st.one_of(st.none(), st.from_regex(r"[A-Za-z0-9][A-Za-z0-9 ,.]{0,40}[a-z]", fullmatch=True))
DAYS = st.dates(min_value=date(2000, 1, 1), max_value=date(2099, 12, 31))
ROUNDS = st.one_of(st.none(), st.from_regex(r"[0-9]{1,2}", fullmatch=True))


def _ids(number: int = 7) -> build.Ids:
    return build.Ids.make("SAPS", number, DAY)


def _receipt(status: str, code: str, info: str | None, **processing: Any) -> bytes:
    return build.settlement_receipt_604(
        orgnl_msg_id="2026120600000001",
        orgnl_sender=BANK,
        orgnl_mt="hvps.111.001.01",
        processing=build.npc_processing(status, code, info=info, **processing),
        balance=Decimal("1234.56"),
        ids=_ids(),
        now=NOW,
        receiver=BANK,
    ).text


def _rejection(
    status: str, code: str | None, info: str | None, day: date | None, round_: str | None
) -> bytes:
    return build.common_confirmation_900(
        orgnl_msg_id="2026120600000001",
        orgnl_sender=BANK,
        orgnl_mt="beps.121.001.01",
        status=status,
        code=code,
        info=info,
        system="BEPS",
        ids=_ids(9),
        now=NOW,
        receiver=BANK,
        processing_date=day,
        netting_round=round_,
    ).text


def _discard(code: str, info: str, ref: str | None) -> bytes:
    header = split_envelope(HVPS)[0].header
    return build.discard_911(
        orig_sender=header.orig_sender,
        orig_send_date=header.orig_send_date,
        mt=header.mesg_type,
        mesg_id=header.mesg_id,
        mesg_ref_id=ref,
        code=code,
        info=info,
        system="CCMS",
        ids=_ids(3),
        now=NOW,
        receiver=BANK,
    ).text


def _forward(text: bytes, **processing: Any) -> bytes:
    npc = build.npc_processing("PR03", "CS1I0000", **processing) if processing else None
    return build.forward(parse(text), mesg_id="BEPD0000000000000009", now=NOW, processing=npc).text


def _on_the_tree(text: bytes) -> dict[str, object]:
    """Both reads agree, and the tree read took the text."""
    short, full = both_ways(text)
    assert short == full
    assert full["read_error"] is None
    found = read_without_binding(text)
    assert found is not None
    assert vars(found) == full
    return full


def test_the_example_replies_take_the_tree_path() -> None:
    replies = [
        p
        for p in TEXTS
        if p.suffix == ".txt" and p.parent.name.startswith(("saps.604", "ccms.900", "ccms.911"))
    ]
    assert len(replies) >= 5
    for path in replies:
        assert _on_the_tree(path.read_bytes())["prc_cd"], path


def test_the_centres_replies_and_forwards_take_the_tree_path() -> None:
    receipt = _on_the_tree(
        _receipt("PR04", "CS1I0000", None, received=NOW, sent=NOW, settlement_date=DAY)
    )
    assert (receipt["prc_sts"], receipt["prc_cd"], receipt["orig_msg_id"]) == (
        "PR04",
        "CS1I0000",
        "2026120600000001",
    )
    netted = _on_the_tree(_rejection("PR03", "CS1I0000", None, DAY, "3"))
    assert (netted["netting_date"], netted["netting_round"]) == (DAY, "3")
    discard = _on_the_tree(_discard("CS1E0002", "bad text", None))
    assert discard["orig_mesg_id"] and discard["rjct_inf"] == "bad text"
    package = _on_the_tree(_forward(PACKAGE, netting_date=DAY, netting_round="12"))
    assert (package["netting_date"], package["netting_round"], package["nb_of_txs"]) == (
        DAY,
        "12",
        2,
    )
    relayed = _on_the_tree(build.forward(parse(HVPS), mesg_id="HVPD00000001", now=NOW).text)
    assert relayed["mesg_id"] == "HVPD00000001"


@settings(max_examples=40, deadline=None)
@given(
    status=st.sampled_from(["PR02", "PR03", "PR04", "PR05", "PR09", "P"]),
    code=CODES,
    info=INFO,
    netting=st.one_of(st.none(), DAYS),
    round_=ROUNDS,
    settled=st.one_of(st.none(), DAYS),
    times=st.booleans(),
)
def test_generated_receipts_read_the_same_both_ways(
    status: str,
    code: str,
    info: str | None,
    netting: date | None,
    round_: str | None,
    settled: date | None,
    times: bool,
) -> None:
    stamps = {"received": NOW, "sent": NOW} if times else {}
    text = _receipt(
        status,
        code,
        info,
        netting_date=netting,
        netting_round=round_,
        settlement_date=settled,
        **stamps,
    )
    found = _on_the_tree(text)
    assert (found["prc_sts"], found["prc_cd"], found["rjct_inf"]) == (status, code, info)
    assert (found["netting_date"], found["netting_round"]) == (netting, round_)


@settings(max_examples=40, deadline=None)
@given(
    status=st.sampled_from(["PR03", "PR09", "PR32"]),
    code=st.one_of(st.none(), CODES),
    info=INFO,
    day=st.one_of(st.none(), DAYS),
    round_=ROUNDS,
)
def test_generated_rejections_read_the_same_both_ways(
    status: str, code: str | None, info: str | None, day: date | None, round_: str | None
) -> None:
    found = _on_the_tree(_rejection(status, code, info, day, round_))
    # the processing date counts as the netting date only with a netting round
    assert found["netting_date"] == (day if round_ is not None else None)


@settings(max_examples=25, deadline=None)
@given(
    code=CODES,
    info=st.from_regex(r"[A-Za-z][A-Za-z ]{0,30}[a-z]", fullmatch=True),
    ref=st.booleans(),
)
def test_generated_discards_read_the_same_both_ways(code: str, info: str, ref: bool) -> None:
    found = _on_the_tree(_discard(code, info, "20240315000000000099" if ref else None))
    assert found["prc_cd"] == code and found["orig_sender"]


def _repeat_transaction(text: bytes, times: int) -> bytes:
    start = text.index(b"<CstmrCdtTrfInf>")
    end = text.index(b"</CstmrCdtTrfInf>", start) + len(b"</CstmrCdtTrfInf>")
    return text[:end] + text[start:end] * times + text[end:]


@pytest.mark.parametrize("extra", [0, 1, 3])
@pytest.mark.parametrize("round_", [None, "1", "99"])
def test_forwarded_packages_read_the_same_both_ways(extra: int, round_: str | None) -> None:
    """Several transactions (the count and control sum then disagree with them: the full
    path's columns all the same), with and without the netting round."""
    text = _repeat_transaction(_forward(PACKAGE, netting_date=DAY, netting_round=round_), extra)
    found = _on_the_tree(text)
    assert found["netting_round"] == round_ and found["netting_date"] == DAY


def _compact(text: bytes) -> bytes:
    """The text with no white space between elements."""
    offset = split_envelope(text)[1]
    return text[:offset] + re.sub(rb">\s+<", b"><", text[offset:])


@pytest.mark.parametrize(
    "make",
    [
        lambda: _receipt("PR04", "CS1I0000", "ok", received=NOW, settlement_date=DAY),
        lambda: _rejection("PR03", None, None, DAY, "2"),
        lambda: _discard("CS1E0002", "bad", "REF1"),
        lambda: _forward(PACKAGE, netting_date=DAY, netting_round="4"),
    ],
    ids=["saps.604", "ccms.900", "ccms.911", "beps.121"],
)
def test_unusual_replies_read_the_same_both_ways(make: Callable[[], bytes]) -> None:
    """Layout changes keep the tree read; values it cannot read exactly as the binder
    does (spaces around or inside, comments, entities, other attributes, dates with a
    zone or a long year, an empty or repeated element) take the full path."""
    text = make()
    _on_the_tree(_compact(text))
    _on_the_tree(text.replace(b"\n", b"\r\n"))
    name = next(n for n in (b"NetgRnd", b"PrcCd") if b"<" + n + b">" in text)
    first = text.index(b"<" + name + b">")
    value_end = text.index(b"</", first)
    element_end = text.index(b">", value_end) + 1
    element = text[first:element_end]
    value = text[first + len(name) + 2 : value_end]
    _on_the_tree(text.replace(element, element.replace(value, b"&#x%02x;" % value[0] + value[1:])))
    sts = text.index(b"<PrcSts>") if b"<PrcSts>" in text else text.index(b"<OrigSndr>")
    leaving = [
        text[:first] + b"<!-- note -->" + text[first:],
        text.replace(element, element.replace(value, b" " + value)),
        text.replace(element, element.replace(value, value + b"\n")),
        text.replace(element, element + element),
        text.replace(element, element.replace(value, b"")),
        text.replace(
            b"<" + name + b">",
            b"<" + name + b' xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xsi:type="x">',
        ),
        text[:sts] + b"<?pi x?>" + text[sts:],
        text.replace(b"</Document>", b"</Document>\x00"),
    ]
    for index, variant in enumerate(leaving):
        assert variant != text
        short, full = both_ways(variant)
        assert short == full
        assert read_without_binding(variant) is None, index
    for day in (b"2026-12-06Z", b"2026-12-06+08:00", b"12026-12-06", b"2026-02-30"):
        for tag in (b"NetgDt", b"PrcDt", b"SttlmDt"):
            if b"<" + tag + b">" in text:
                i = text.index(b"<" + tag + b">") + len(tag) + 2
                variant = text[:i] + day + text[text.index(b"<", i) :]
                short, full = both_ways(variant)
                assert short == full


def test_the_schema_says_which_names_hold_one_text(tmp_path: Path) -> None:
    """What the tree read relies on: a name counts as one plain text only if every
    declaration of it is single (also in its groups), of a string or date type, and never
    referenced."""
    schema = tmp_path / "t.xsd"
    schema.write_text(
        '<xs:schema xmlns:xs="http://www.w3.org/2001/XMLSchema">'
        '<xs:simpleType name="Code"><xs:restriction base="xs:string"/></xs:simpleType>'
        '<xs:simpleType name="Day"><xs:restriction base="xs:date"/></xs:simpleType>'
        '<xs:simpleType name="Count"><xs:restriction base="xs:decimal"/></xs:simpleType>'
        '<xs:simpleType name="Codes"><xs:list itemType="xs:string"/></xs:simpleType>'
        '<xs:element name="Root" type="Root"/>'
        '<xs:complexType name="Amount"><xs:simpleContent><xs:extension base="xs:decimal">'
        '<xs:attribute name="Ccy" type="xs:string"/></xs:extension></xs:simpleContent>'
        "</xs:complexType>"
        '<xs:complexType name="Root"><xs:sequence>'
        '<xs:element name="PrcSts" type="Code"/>'
        '<xs:element name="NetgDt" type="Day" minOccurs="0"/>'
        '<xs:element name="RjctInf" type="Code" maxOccurs="2"/>'
        '<xs:element name="NetgRnd" type="Count"/>'
        '<xs:element name="PrcCd" type="Amount"/>'
        '<xs:element name="OrigSndr" type="Codes"/>'
        '<xs:sequence maxOccurs="unbounded"><xs:element name="MsgPrcCd" type="Code"/>'
        "</xs:sequence>"
        '<xs:element name="Other" type="Other"/>'
        '<xs:element ref="Root" minOccurs="0"/>'
        "</xs:sequence></xs:complexType>"
        '<xs:complexType name="Other"><xs:sequence>'
        '<xs:element name="PrcSts" type="xs:token"/>'
        '<xs:element name="Root" type="xs:string"/>'
        "</xs:sequence></xs:complexType>"
        "</xs:schema>"
    )
    index = schema_index(str(schema))
    assert index is not None
    assert index.single_texts == {"PrcSts", "NetgDt"}
