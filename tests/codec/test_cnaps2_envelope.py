"""CNAPS2 envelope codec: the {H:} header, the {S:} block, splitting and joining transport text."""

from __future__ import annotations

import base64
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import ValidationError

from paymsg.codec.envelope.cnaps2 import (
    CRLF,
    FIELDS,
    HEADER_LENGTH,
    SYSTEM_CODES,
    Cnaps2Envelope,
    Cnaps2Header,
    field_at,
    join_envelope,
    looks_like_cnaps2,
    split_envelope,
)
from paymsg.errors import EnvelopeError
from paymsg.schema.catalog import catalog

# --------------------------------------------------------------------------- fixtures

# The real headers of reference cnaps2.md §3.3, written field by field (padding included).
HVPS_111 = (
    "{H:" "02" "313684093748  " "HVPS" "403100000004  " "HVPS" "20191219" "154615" "XML"
    "hvps.111.001.01     " "00000000000003329480" "20191219000024084577" "1" "U" "       X "
    "}"
)  # fmt: skip
BEPS_121 = (
    "{H:" "02" "102100099996  " "BEPS" "313684093748  " "BEPS" "20210323" "114139" "XML"
    "beps.121.001.01     " "BEPA6014CC2517958865" "60000000001561434892" "3" "D" "XN       "
    "}"
)  # fmt: skip
BEPS_121_2 = (
    "{H:" "02" "103100000026  " "BEPS" "313684093748  " "BEPS" "20210121" "090735" "XML"
    "beps.121.001.01     " "BEPE5FB7A35B27276456" "2021012120203150    " "3" "D" "XN       "
    "}"
)  # fmt: skip
CCMS_801 = (
    "{H:" "02" "0000          " "HVPS" "313684093748  " "HVPS" "20191219" "173343" "XML"
    "ccms.801.001.02     " "HVPD5DD96B7F19269652" "HVPD5DD96B7F19269652" "3" "D" "         "
    "}"
)  # fmt: skip
CCMS_990 = (
    "{H:" "02" "313513080408  " "HVPS" "402871099996  " "HVPS" "20141120" "210121" "XML"
    "ccms.990.001.02     " "2013090250000008    " "2013090220000008    " "3" "U" "         "
    "}"
)  # fmt: skip

REAL_HEADERS: list[tuple[str, dict[str, str]]] = [
    (
        HVPS_111,
        dict(
            orig_sender="313684093748",
            orig_sender_sid="HVPS",
            orig_receiver="403100000004",
            orig_receiver_sid="HVPS",
            orig_send_date="20191219",
            orig_send_time="154615",
            mesg_type="hvps.111.001.01",
            mesg_id="00000000000003329480",
            mesg_ref_id="20191219000024084577",
            mesg_priority="1",
            mesg_direction="U",
            reserve="       X ",
        ),
    ),
    (
        BEPS_121,
        dict(
            orig_sender="102100099996",
            orig_sender_sid="BEPS",
            orig_receiver="313684093748",
            orig_receiver_sid="BEPS",
            orig_send_date="20210323",
            orig_send_time="114139",
            mesg_type="beps.121.001.01",
            mesg_id="BEPA6014CC2517958865",
            mesg_ref_id="60000000001561434892",
            mesg_priority="3",
            mesg_direction="D",
            reserve="XN       ",
        ),
    ),
    (
        BEPS_121_2,
        dict(
            orig_sender="103100000026",
            orig_sender_sid="BEPS",
            orig_receiver="313684093748",
            orig_receiver_sid="BEPS",
            orig_send_date="20210121",
            orig_send_time="090735",
            mesg_type="beps.121.001.01",
            mesg_id="BEPE5FB7A35B27276456",
            mesg_ref_id="2021012120203150",
            mesg_priority="3",
            mesg_direction="D",
            reserve="XN       ",
        ),
    ),
    (
        CCMS_801,
        dict(
            orig_sender="0000",
            orig_sender_sid="HVPS",
            orig_receiver="313684093748",
            orig_receiver_sid="HVPS",
            orig_send_date="20191219",
            orig_send_time="173343",
            mesg_type="ccms.801.001.02",
            mesg_id="HVPD5DD96B7F19269652",
            mesg_ref_id="HVPD5DD96B7F19269652",
            mesg_priority="3",
            mesg_direction="D",
            reserve=" " * 9,
        ),
    ),
    (
        CCMS_990,
        dict(
            orig_sender="313513080408",
            orig_sender_sid="HVPS",
            orig_receiver="402871099996",
            orig_receiver_sid="HVPS",
            orig_send_date="20141120",
            orig_send_time="210121",
            mesg_type="ccms.990.001.02",
            mesg_id="2013090250000008",
            mesg_ref_id="2013090220000008",
            mesg_priority="3",
            mesg_direction="U",
            reserve=" " * 9,
        ),
    ),
]

BODY = '<?xml version="1.0" encoding="UTF-8"?>\n<Document xmlns="urn:x"><Nm>张三</Nm></Document>\n'
BODY_BYTES = BODY.encode("utf-8")
# a 71-byte DER-like value: 96 base64 characters, as in the public samples
SIGNATURE = base64.b64encode(b"\x30\x45\x02\x21" + bytes(range(1, 68))).decode()
assert len(SIGNATURE) == 96

FIELD = {f.ref_name: f for f in FIELDS}


def with_field(header: str, ref_name: str, raw: str) -> str:
    """``header`` with one field's text replaced (``raw`` is padded to the field width)."""
    spec = FIELD[ref_name]
    assert len(raw) <= spec.length
    return header[: spec.offset] + raw.ljust(spec.length) + header[spec.end :]


# --------------------------------------------------------------------------- the table


def test_field_table_is_the_reference_layout() -> None:
    expected = [
        ("BeginFlag", "起始标识", 0, 3),
        ("VersionID", "版本号", 3, 2),
        ("OrigSender", "报文发起人", 5, 14),
        ("OrigSenderSID", "发送系统号", 19, 4),
        ("OrigReceiver", "报文接收人", 23, 14),
        ("OrigReceiverSID", "接收系统号", 37, 4),
        ("OrigSendDate", "报文发起日期", 41, 8),
        ("OrigSendTime", "报文发起时间", 49, 6),
        ("StructType", "格式类型", 55, 3),
        ("MesgType", "报文类型代码", 58, 20),
        ("MesgID", "通信级标识号", 78, 20),
        ("MesgRefID", "通信级参考号", 98, 20),
        ("MesgPriority", "报文优先级", 118, 1),
        ("MesgDirection", "报文传输方向", 119, 1),
        ("Reserve", "保留域", 120, 9),
        ("EndFlag", "结束标识", 129, 1),
    ]
    assert [(f.ref_name, f.label_zh, f.offset, f.length) for f in FIELDS] == expected
    assert [f.name for f in FIELDS] == list(Cnaps2Header.model_fields)
    assert FIELDS[-1].end == HEADER_LENGTH == 130


def test_field_at_maps_offsets_to_fields() -> None:
    assert field_at(0).ref_name == "BeginFlag"
    assert field_at(41).ref_name == "OrigSendDate"
    assert field_at(48).ref_name == "OrigSendDate"
    assert field_at(49).ref_name == "OrigSendTime"
    assert field_at(129).ref_name == "EndFlag"
    assert field_at(500).ref_name == "EndFlag"


# --------------------------------------------------------------------------- real headers


@pytest.mark.parametrize(("text", "expected"), REAL_HEADERS, ids=lambda v: str(v)[:25])
def test_real_headers_decode_exactly(text: str, expected: dict[str, str]) -> None:
    assert len(text) == 130
    header = Cnaps2Header.decode(text)
    assert header.begin_flag == "{H:"
    assert header.version_id == "02"
    assert header.struct_type == "XML"
    assert header.end_flag == "}"
    for name, value in expected.items():
        assert getattr(header, name) == value, name
    assert header.encode() == text


@pytest.mark.parametrize(("text", "expected"), REAL_HEADERS, ids=lambda v: str(v)[:25])
def test_real_headers_every_field_sits_at_its_table_offset(
    text: str, expected: dict[str, str]
) -> None:
    header = Cnaps2Header.decode(text)
    for spec, value in header.field_values():
        assert text[spec.offset : spec.end] == value.ljust(spec.length)


def test_decode_ignores_a_trailing_line_break() -> None:
    assert Cnaps2Header.decode(HVPS_111 + "\r\n") == Cnaps2Header.decode(HVPS_111)


def test_sent_at_and_replace() -> None:
    header = Cnaps2Header.decode(HVPS_111)
    assert header.sent_at.isoformat() == "2019-12-19T15:46:15"
    changed = header.replace(mesg_priority="3")
    assert changed.mesg_priority == "3"
    assert header.mesg_priority == "1"
    with pytest.raises(ValidationError, match="MesgPriority"):
        header.replace(mesg_priority="9")


def test_header_is_immutable() -> None:
    header = Cnaps2Header.decode(HVPS_111)
    with pytest.raises(ValidationError):
        setattr(header, "mesg_id", "X")  # noqa: B010 - assignment must be refused


def test_defaults_for_a_participant_message() -> None:
    header = Cnaps2Header(
        orig_sender="313684093748",
        orig_sender_sid="HVPS",
        orig_receiver="0000",
        orig_receiver_sid="HVPS",
        orig_send_date="20240229",
        orig_send_time="235959",
        mesg_type="hvps.111.001.01",
        mesg_id="20240229000000000001",
        mesg_ref_id="20240229000000000001",
    )
    text = header.encode()
    assert len(text) == 130
    assert text.startswith("{H:02313684093748  HVPS0000          HVPS")
    assert text.endswith("3U         }")


# --------------------------------------------------------------------------- round trip

_token = st.text(
    alphabet=st.characters(min_codepoint=0x21, max_codepoint=0x7E, exclude_characters="{}"),
    min_size=1,
    max_size=20,
)
_participant = st.text(
    alphabet="0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz",
    min_size=1,
    max_size=14,
)
_reserve = st.text(
    alphabet=st.characters(min_codepoint=0x20, max_codepoint=0x7E, exclude_characters="{}"),
    min_size=9,
    max_size=9,
)
_system = st.sampled_from(sorted(SYSTEM_CODES))
ISO_TYPE_IDS = {t.id for t in catalog() if t.standard != "cnaps2"}

headers = st.builds(
    Cnaps2Header,
    version_id=st.just("02"),
    orig_sender=_participant,
    orig_sender_sid=_system,
    orig_receiver=_participant,
    orig_receiver_sid=_system,
    orig_send_date=st.dates().map(lambda d: d.strftime("%Y%m%d")).filter(lambda s: len(s) == 8),
    orig_send_time=st.times().map(lambda t: t.strftime("%H%M%S")),
    # any token but an ISO 20022 type id (never a header MesgType)
    mesg_type=_token.filter(lambda t: t not in ISO_TYPE_IDS),
    mesg_id=_token,
    mesg_ref_id=_token,
    mesg_priority=st.sampled_from(["1", "2", "3"]),
    mesg_direction=st.sampled_from(["U", "D"]),
    reserve=_reserve,
)


@given(headers)
def test_encode_decode_round_trip(header: Cnaps2Header) -> None:
    text = header.encode()
    assert len(text) == 130
    assert text.isascii()
    assert Cnaps2Header.decode(text) == header


@given(
    headers,
    st.none() | st.just(SIGNATURE),
    st.sampled_from([b"\r\n", b"\n", b"\r\r\n", b""]),
)
def test_split_join_round_trip(header: Cnaps2Header, signature: str | None, eol: bytes) -> None:
    data = header.encode().encode() + eol
    if signature is not None:
        data += b"{S:" + signature.encode() + b"}" + eol
    data += BODY_BYTES
    envelope, offset = split_envelope(data)
    assert envelope.header == header
    assert envelope.signature == signature
    assert data[offset:] == BODY_BYTES
    assert join_envelope(envelope, data[offset:]) == data


# --------------------------------------------------------------------------- field rules

# (field, bad text as it appears in the header, words expected in the error)
BAD_FIELDS: list[tuple[str, str, str]] = [
    ("BeginFlag", "{X:", "'{H:'"),
    ("VersionID", "2A", "must be '02'"),
    ("VersionID", " 2", "must be '02'"),
    ("VersionID", "99", "must be '02'"),
    ("VersionID", "01", "IBPS"),
    ("OrigSender", "", "empty"),
    ("OrigSender", " 313684093748", "left-justified"),
    ("OrigSender", "3136840-3748", "letters and digits"),
    ("OrigSender", "3136 84093748", "space"),
    ("OrigSenderSID", "XXXX", "system code"),
    ("OrigSenderSID", "hvps", "system code"),
    ("OrigReceiver", "", "empty"),
    ("OrigReceiver", "  0000", "left-justified"),
    ("OrigReceiver", "0000.", "letters and digits"),
    ("OrigReceiverSID", "HVP", "system code"),
    ("OrigSendDate", "20191332", "real calendar date"),
    ("OrigSendDate", "20190229", "real calendar date"),
    ("OrigSendDate", "2019121A", "8 digits"),
    ("OrigSendDate", "", "8 digits"),
    ("OrigSendTime", "246000", "real time"),
    ("OrigSendTime", "125960", "real time"),
    ("OrigSendTime", "12345", "6 digits"),
    ("StructType", "CMT", "'XML'"),
    ("StructType", "xml", "'XML'"),
    ("MesgType", "", "empty"),
    ("MesgType", " hvps.111.001.01", "left-justified"),
    ("MesgType", "hvps 111.001.01", "space"),
    ("MesgType", "pacs.008.001.02", "ISO 20022 message type id"),
    ("MesgID", "", "empty"),
    ("MesgID", "0000 0001", "space"),
    ("MesgID", " 00000001", "left-justified"),
    ("MesgRefID", "", "empty"),
    ("MesgRefID", "A{B", "brace"),
    ("MesgPriority", "4", "1 (特急"),
    ("MesgPriority", "0", "1 (特急"),
    ("MesgPriority", " ", "1 (特急"),
    ("MesgDirection", "X", "U (participant"),
    ("MesgDirection", "u", "U (participant"),
    ("Reserve", "XN {     ", "brace"),
    ("Reserve", "XN }     ", "brace"),
    ("EndFlag", "]", "'}'"),
]


def test_every_field_has_negative_cases() -> None:
    assert {ref_name for ref_name, _, _ in BAD_FIELDS} == set(FIELD)


@pytest.mark.parametrize(("ref_name", "raw", "words"), BAD_FIELDS)
def test_decode_names_the_bad_field(ref_name: str, raw: str, words: str) -> None:
    spec = FIELD[ref_name]
    text = with_field(HVPS_111, ref_name, raw)
    with pytest.raises(EnvelopeError) as caught:
        Cnaps2Header.decode(text)
    error = caught.value
    assert error.field == ref_name
    assert error.offset == spec.offset
    assert ref_name in error.message
    assert spec.label_zh in error.message
    assert repr(raw.ljust(spec.length)) in error.message
    assert words in error.message
    assert f"offset {spec.offset}" in str(error)


@pytest.mark.parametrize(("ref_name", "raw", "words"), BAD_FIELDS)
def test_split_reports_byte_offsets_in_the_input(ref_name: str, raw: str, words: str) -> None:
    spec = FIELD[ref_name]
    lead = b"\xef\xbb\xbf \r\n"  # BOM and whitespace before the header shift every offset
    data = lead + with_field(HVPS_111, ref_name, raw).encode() + CRLF + BODY_BYTES
    with pytest.raises(EnvelopeError) as caught:
        split_envelope(data)
    error = caught.value
    if ref_name == "BeginFlag":
        assert error.field == "BeginFlag"
        assert error.offset == len(lead)
        return
    if ref_name in {"Reserve", "EndFlag"} and ("}" in raw or raw == "]"):
        # a '}' inside the header, or none at its end, changes the header's length
        assert error.field in {"EndFlag", "Reserve"}
        assert error.offset is not None and error.offset >= len(lead) + spec.offset
        return
    assert error.field == ref_name
    assert error.offset == len(lead) + spec.offset
    assert spec.label_zh in error.message


def test_decode_offset_argument_shifts_reported_offsets() -> None:
    text = with_field(HVPS_111, "OrigSendTime", "999999")
    with pytest.raises(EnvelopeError) as caught:
        Cnaps2Header.decode(text, offset=1000)
    assert caught.value.offset == 1049
    assert caught.value.field == "OrigSendTime"


@pytest.mark.parametrize(
    ("position", "char", "ref_name"),
    [
        (7, "中", "OrigSender"),
        (60, "\t", "MesgType"),
        (125, "\x00", "Reserve"),
        (3, "é", "VersionID"),
    ],
)
def test_decode_refuses_non_ascii_and_control_characters(
    position: int, char: str, ref_name: str
) -> None:
    text = HVPS_111[:position] + char + HVPS_111[position + 1 :]
    with pytest.raises(EnvelopeError) as caught:
        Cnaps2Header.decode(text)
    assert caught.value.field == ref_name
    assert caught.value.offset == position
    assert FIELD[ref_name].label_zh in caught.value.message


def test_split_reports_the_byte_offset_of_a_utf8_character_in_the_header() -> None:
    # replace 3 header characters by one 3-byte UTF-8 character: the length stays 130 bytes
    data = (HVPS_111[:10].encode() + "中".encode() + HVPS_111[13:].encode()) + CRLF + BODY_BYTES
    with pytest.raises(EnvelopeError) as caught:
        split_envelope(data)
    assert caught.value.field == "OrigSender"
    assert caught.value.offset == 10


@pytest.mark.parametrize(("ref_name", "raw", "words"), BAD_FIELDS)
def test_construction_validates_every_field(ref_name: str, raw: str, words: str) -> None:
    spec = FIELD[ref_name]
    good = Cnaps2Header.decode(HVPS_111).model_dump()
    value = raw if spec.name == "reserve" else raw.rstrip(" ")
    with pytest.raises(ValidationError) as caught:
        Cnaps2Header(**{**good, spec.name: value})
    assert spec.name in str(caught.value)
    assert ref_name in str(caught.value)


@pytest.mark.parametrize(
    ("name", "value", "words"),
    [
        ("orig_sender", "313684093748  ", "space"),
        ("orig_sender", "313684093748123", "at most 14"),
        ("mesg_type", "hvps.111.001.01.00000000", "at most 20"),
        ("mesg_id", "é", "non-ASCII"),
        ("reserve", "X", "exactly 9"),
        ("reserve", "XN      \t", "control"),
    ],
)
def test_construction_refuses_padding_overlength_and_non_ascii(
    name: str, value: str, words: str
) -> None:
    good = Cnaps2Header.decode(HVPS_111).model_dump()
    with pytest.raises(ValidationError, match=words):
        Cnaps2Header(**{**good, name: value})


# --------------------------------------------------------------------------- truncation


@pytest.mark.parametrize("length", [3, 10, 58, 100, 118, 125, 129])
def test_truncated_header_at_end_of_input(length: int) -> None:
    data = HVPS_111[:length].encode()
    with pytest.raises(EnvelopeError, match="truncated") as caught:
        split_envelope(data)
    assert caught.value.offset == length
    assert caught.value.field == field_at(length).ref_name


@pytest.mark.parametrize("length", [50, 100, 128])
def test_truncated_header_followed_by_a_line_break(length: int) -> None:
    data = HVPS_111[:length].encode() + CRLF + BODY_BYTES
    with pytest.raises(EnvelopeError, match="truncated") as caught:
        split_envelope(data)
    assert caught.value.offset == length
    assert caught.value.field == field_at(length).ref_name


def test_truncated_header_text_decode() -> None:
    with pytest.raises(EnvelopeError, match="truncated") as caught:
        Cnaps2Header.decode(HVPS_111[:100])
    assert caught.value.offset == 100
    assert caught.value.field == "MesgRefID"


def test_header_with_a_field_missing_is_refused_with_the_end_flag_offset() -> None:
    short = HVPS_111[:78] + HVPS_111[98:]  # MesgID dropped: '}' at offset 109
    with pytest.raises(EnvelopeError, match="110 characters long") as caught:
        split_envelope(short.encode() + CRLF + BODY_BYTES)
    assert caught.value.field == "EndFlag"
    assert caught.value.offset == 109


def test_ibps_126_character_header_gets_a_hint() -> None:
    ibps = HVPS_111[:3] + "01" + "313684093748" + "HVPS" + "403100000004" + HVPS_111[37:]
    assert len(ibps) == 126
    with pytest.raises(EnvelopeError) as caught:
        split_envelope(ibps.encode() + CRLF + BODY_BYTES)
    assert caught.value.field == "EndFlag"
    assert caught.value.offset == 125
    assert caught.value.hint is not None and "IBPS" in caught.value.hint


def test_overlong_header_is_refused() -> None:
    long = HVPS_111[:129] + "ABC}"
    with pytest.raises(EnvelopeError, match="133 characters long") as caught:
        split_envelope(long.encode() + CRLF + BODY_BYTES)
    assert caught.value.field == "EndFlag"


def test_header_without_closing_brace() -> None:
    data = (HVPS_111[:129] + "X").encode() + CRLF + BODY_BYTES
    with pytest.raises(EnvelopeError) as caught:
        split_envelope(data)
    assert caught.value.field == "EndFlag"
    assert caught.value.offset == 129


def test_header_without_closing_brace_directly_followed_by_the_body() -> None:
    data = (HVPS_111[:129] + " ").encode() + b"<Document>" + b"}" * 300 + b"</Document>"
    with pytest.raises(EnvelopeError, match="must be '}'") as caught:
        split_envelope(data)
    assert caught.value.field == "EndFlag"
    assert caught.value.offset == 129


def test_decode_refuses_text_after_the_header() -> None:
    with pytest.raises(EnvelopeError, match="unexpected text after") as caught:
        Cnaps2Header.decode(HVPS_111 + "{S:")
    assert caught.value.offset == 130


@pytest.mark.parametrize("data", [b"", b"  \r\n", b"\xef\xbb\xbf"])
def test_empty_input(data: bytes) -> None:
    with pytest.raises(EnvelopeError, match="empty"):
        split_envelope(data)


def test_input_without_header() -> None:
    with pytest.raises(EnvelopeError, match="does not start") as caught:
        split_envelope(b"\r\n" + BODY_BYTES)
    assert caught.value.offset == 2
    assert caught.value.field == "BeginFlag"


# --------------------------------------------------------------------------- splitting


def test_split_unsigned() -> None:
    data = CCMS_801.encode() + CRLF + BODY_BYTES
    envelope, offset = split_envelope(data)
    assert offset == 132
    assert envelope.signature is None
    assert not envelope.signed
    assert envelope.raw == data[:132]
    assert envelope.header.mesg_type == "ccms.801.001.02"
    assert data[offset:] == BODY_BYTES


def test_split_signed() -> None:
    data = HVPS_111.encode() + CRLF + b"{S:" + SIGNATURE.encode() + b"}" + CRLF + BODY_BYTES
    envelope, offset = split_envelope(data)
    assert envelope.signature == SIGNATURE
    assert envelope.signature_bytes() == base64.b64decode(SIGNATURE)
    assert offset == 132 + 3 + 96 + 1 + 2
    assert data[offset:] == BODY_BYTES


def test_split_signature_wrapped_over_lines_with_stray_cr() -> None:
    # as in the beps.121 log sample: the base64 wrapped, stray CRs before the CR LF
    data = (
        BEPS_121.encode()
        + b"\r\r\n"
        + b"{S:"
        + SIGNATURE[:60].encode()
        + b"\r\n"
        + SIGNATURE[60:90].encode()
        + b"\n"
        + SIGNATURE[90:].encode()
        + b"}\r\r\n"
        + BODY_BYTES
    )
    envelope, offset = split_envelope(data)
    assert envelope.signature == SIGNATURE
    assert data[offset:] == BODY_BYTES
    assert envelope.raw == data[:offset]


def test_split_signature_directly_followed_by_xml_declaration() -> None:
    data = HVPS_111.encode() + CRLF + b"{S:" + SIGNATURE.encode() + b"}" + BODY_BYTES
    envelope, offset = split_envelope(data)
    assert envelope.signature == SIGNATURE
    assert data[offset:] == BODY_BYTES


def test_split_header_directly_followed_by_signature_and_body() -> None:
    data = HVPS_111.encode() + b"{S:" + SIGNATURE.encode() + b"}" + BODY_BYTES
    envelope, offset = split_envelope(data)
    assert envelope.signature == SIGNATURE
    assert data[offset:] == BODY_BYTES


def test_split_lf_line_ends() -> None:
    data = HVPS_111.encode() + b"\n{S:" + SIGNATURE.encode() + b"}\n" + BODY_BYTES
    envelope, offset = split_envelope(data)
    assert envelope.header == Cnaps2Header.decode(HVPS_111)
    assert envelope.signature == SIGNATURE
    assert data[offset:] == BODY_BYTES


def test_split_bom_and_whitespace_before_header_and_bom_in_body() -> None:
    body = b"\xef\xbb\xbf" + BODY_BYTES
    data = b"\xef\xbb\xbf\r\n" + CCMS_801.encode() + CRLF + body
    envelope, offset = split_envelope(data)
    assert data[offset:] == body
    assert envelope.raw == data[:offset]


def test_split_leaves_the_body_untouched() -> None:
    body = "<Document>\r\n  <Nm>中国邮政储蓄银行</Nm>\r\n</Document>".encode()
    data = CCMS_801.encode() + CRLF + body
    _, offset = split_envelope(data)
    assert data[offset:] == body


@pytest.mark.parametrize(
    "data",
    [
        HVPS_111.encode() + CRLF + b"{S:" + SIGNATURE.encode(),
        HVPS_111.encode() + CRLF + b"{S:" + SIGNATURE.encode() + CRLF + BODY_BYTES,
        HVPS_111.encode() + CRLF + b"{S:" + SIGNATURE.encode() + CRLF + b"<a>}</a>",
    ],
    ids=["at-end", "before-body", "brace-in-body"],
)
def test_unterminated_signature_block(data: bytes) -> None:
    with pytest.raises(EnvelopeError, match="not closed") as caught:
        split_envelope(data)
    assert caught.value.offset == 132
    assert caught.value.field == "Signature"


def test_signature_with_a_non_base64_character() -> None:
    bad = SIGNATURE[:10] + "*" + SIGNATURE[11:]
    data = HVPS_111.encode() + CRLF + b"{S:" + bad.encode() + b"}" + CRLF + BODY_BYTES
    with pytest.raises(EnvelopeError, match="not base64") as caught:
        split_envelope(data)
    assert caught.value.offset == 132 + 3 + 10


def test_signature_with_bad_base64_padding() -> None:
    data = HVPS_111.encode() + CRLF + b"{S:" + SIGNATURE[:-1].encode() + b"}" + CRLF + BODY_BYTES
    with pytest.raises(EnvelopeError, match="not valid base64") as caught:
        split_envelope(data)
    assert caught.value.offset == 135


def test_empty_signature_block() -> None:
    data = HVPS_111.encode() + CRLF + b"{S:}" + CRLF + BODY_BYTES
    with pytest.raises(EnvelopeError, match="empty") as caught:
        split_envelope(data)
    assert caught.value.offset == 132


@pytest.mark.parametrize(
    "data",
    [
        HVPS_111.encode(),
        HVPS_111.encode() + CRLF,
        HVPS_111.encode() + CRLF + b"\r\n  \n",
        HVPS_111.encode() + CRLF + b"{S:" + SIGNATURE.encode() + b"}" + CRLF,
    ],
    ids=["header-only", "header-crlf", "blank-lines", "header-signature"],
)
def test_missing_body(data: bytes) -> None:
    with pytest.raises(EnvelopeError, match="no XML body") as caught:
        split_envelope(data)
    assert caught.value.offset == len(data)


def test_garbage_instead_of_body() -> None:
    data = HVPS_111.encode() + CRLF + b"{X:abc}" + CRLF + BODY_BYTES
    with pytest.raises(EnvelopeError, match="expected the signature block or XML body") as caught:
        split_envelope(data)
    assert caught.value.offset == 132


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (HVPS_111.encode(), True),
        (b"\xef\xbb\xbf" + HVPS_111.encode(), True),
        (b" \r\n\t{H:", True),
        (BODY_BYTES, False),
        (b"", False),
        (b"{S:abc}", False),
    ],
)
def test_looks_like_cnaps2(data: bytes, expected: bool) -> None:
    assert looks_like_cnaps2(data) is expected


# --------------------------------------------------------------------------- joining

RELAY_INPUTS = {
    "unsigned-crlf": CCMS_801.encode() + CRLF + BODY_BYTES,
    "signed-crlf": HVPS_111.encode()
    + CRLF
    + b"{S:"
    + SIGNATURE.encode()
    + b"}"
    + CRLF
    + BODY_BYTES,
    "wrapped-stray-cr": BEPS_121.encode()
    + b"\r\r\n{S:"
    + SIGNATURE[:50].encode()
    + b"\r\n"
    + SIGNATURE[50:].encode()
    + b"}\r\r\n"
    + BODY_BYTES,
    "no-break-before-xml": BEPS_121_2.encode()
    + CRLF
    + b"{S:"
    + SIGNATURE.encode()
    + b"}"
    + BODY_BYTES,
    "lf-only": HVPS_111.encode() + b"\n{S:" + SIGNATURE.encode() + b"}\n" + BODY_BYTES,
    "leading-bom": b"\xef\xbb\xbf" + CCMS_990.encode() + CRLF + BODY_BYTES,
}


@pytest.mark.parametrize("data", list(RELAY_INPUTS.values()), ids=list(RELAY_INPUTS))
def test_join_of_an_unchanged_envelope_is_byte_identical(data: bytes) -> None:
    envelope, offset = split_envelope(data)
    assert join_envelope(envelope, data[offset:]) == data


@pytest.mark.parametrize("data", list(RELAY_INPUTS.values()), ids=list(RELAY_INPUTS))
def test_join_after_a_header_change_is_canonical(data: bytes) -> None:
    envelope, offset = split_envelope(data)
    body = data[offset:]
    envelope.header = envelope.header.replace(mesg_id="X0000000000000000001")
    joined = join_envelope(envelope, body)
    expected = envelope.header.encode().encode() + CRLF
    if envelope.signature is not None:
        expected += b"{S:" + envelope.signature.encode() + b"}" + CRLF
    assert joined == expected + body
    again, again_offset = split_envelope(joined)
    assert again.header.mesg_id == "X0000000000000000001"
    assert again.header.reserve == envelope.header.reserve  # NPC reserve kept verbatim
    assert again.signature == envelope.signature
    assert joined[again_offset:] == body


def test_join_after_a_signature_change_or_removal_is_canonical() -> None:
    data = RELAY_INPUTS["wrapped-stray-cr"]
    envelope, offset = split_envelope(data)
    body = data[offset:]
    other = base64.b64encode(b"\x30\x44" + bytes(68)).decode()
    envelope.signature = other
    assert join_envelope(envelope, body) == (
        BEPS_121.encode() + CRLF + b"{S:" + other.encode() + b"}" + CRLF + body
    )
    envelope.signature = None
    assert join_envelope(envelope, body) == BEPS_121.encode() + CRLF + body


def test_join_of_an_envelope_built_in_code() -> None:
    header = Cnaps2Header.decode(HVPS_111)
    assert join_envelope(Cnaps2Envelope(header), BODY_BYTES) == (
        HVPS_111.encode() + CRLF + BODY_BYTES
    )
    signed = Cnaps2Envelope(header, SIGNATURE)
    assert join_envelope(signed, BODY_BYTES) == (
        HVPS_111.encode() + CRLF + b"{S:" + SIGNATURE.encode() + b"}" + CRLF + BODY_BYTES
    )


def test_join_ignores_raw_that_does_not_match() -> None:
    header = Cnaps2Header.decode(HVPS_111)
    envelope = Cnaps2Envelope(header, None, raw=b"garbage")
    assert join_envelope(envelope, BODY_BYTES) == HVPS_111.encode() + CRLF + BODY_BYTES


def test_envelope_signature_is_checked_and_line_breaks_removed() -> None:
    header = Cnaps2Header.decode(HVPS_111)
    wrapped = Cnaps2Envelope(header, SIGNATURE[:40] + "\r\n" + SIGNATURE[40:])
    assert wrapped.signature == SIGNATURE
    bad: list[Any] = ["", "abc}", "ab c=", "abc"]
    for signature in bad:
        with pytest.raises(EnvelopeError):
            Cnaps2Envelope(header, signature)


def test_header_mesg_type_that_is_an_iso_id_is_refused_not_accepted_with_no_findings() -> None:
    """Issue 10 item 8: an hvps.111 whose header MesgType says ``pacs.008.001.02`` (its
    body's ISO type) was read as a plain ISO message: parsed, and validated with 0 findings."""
    import paymsg
    from tests.conftest import EXAMPLES

    good = (EXAMPLES / "cnaps2/hvps.111.001.01/customer-transfer-urgent.txt").read_bytes()
    bad = good.replace(b"hvps.111.001.01     ", b"pacs.008.001.02     ", 1)
    assert bad != good
    offset = bad.index(b"pacs.008")
    for read in (paymsg.parse, paymsg.detect):
        with pytest.raises(EnvelopeError, match="ISO 20022 message type id") as info:
            read(bad)
        assert (info.value.offset, info.value.field) == (offset, "MesgType")
    report = paymsg.validate(bad)
    assert not report.ok
    assert [(f.rule, f.value) for f in report.findings] == [("safety.envelope", f"offset {offset}")]
