"""CNAPS2 messages end to end: detection by header, byte-for-byte relay, JSON, wrap, signatures."""

from __future__ import annotations

import tomllib
from datetime import datetime
from pathlib import Path

import pytest
from lxml import etree

import paymsg
from paymsg import cnaps2
from paymsg.codec.xml.binding import compiled_schema
from paymsg.schema.catalog import catalog
from tests.conftest import EXAMPLES, example_files, ids

TEXTS = example_files("cnaps2/*/*.txt")
BODIES = example_files("cnaps2/*/*.xml")
CNAPS_TYPES = [t.id for t in catalog() if t.standard == "cnaps2"]
KEY = tomllib.loads((EXAMPLES / "cnaps2/keys/test-sm2-key.toml").read_text(encoding="utf-8"))
PROFILES = cnaps2.load_signing_profiles(EXAMPLES / "cnaps2/signing-example.toml")

# a real NPC-forwarded header shape (reference §3.3): originating bank as sender, direction D,
# characters in the reserve field; 130 characters
NPC_HEADER = (
    "{H:02102100099996  BEPS313684093748  BEPS20210323114139XMLbeps.121.001.01     "
    "BEPA6014CC2517958865"
    "60000000001561434892"
    "3DXN       }"
)


def _body_valid(message: paymsg.Message, text: bytes) -> None:
    _, offset = cnaps2.split_envelope(text)
    mtype = catalog().get(message.type)
    schema = compiled_schema(str(mtype.schema_path))
    assert schema.validate(etree.fromstring(text[offset:])), schema.error_log


def test_every_cnaps_type_has_examples() -> None:
    for type_id in CNAPS_TYPES:
        assert len([p for p in BODIES if p.parent.name == type_id]) >= 2, type_id
        assert [p for p in TEXTS if p.parent.name == type_id], type_id


@pytest.mark.parametrize("path", TEXTS, ids=ids(TEXTS))
def test_text_detects_parses_and_relays_byte_for_byte(path: Path) -> None:
    text = path.read_bytes()
    detection = paymsg.detect(path)
    assert detection.type == path.parent.name and detection.method == "header"
    message = paymsg.parse(path)
    assert message.type == path.parent.name
    assert isinstance(message.envelope, cnaps2.Cnaps2Envelope)
    assert paymsg.serialize(message) == text
    _body_valid(message, text)


@pytest.mark.parametrize("path", TEXTS, ids=ids(TEXTS))
def test_text_json_round_trip(path: Path) -> None:
    message = paymsg.parse(path)
    back = paymsg.from_json(paymsg.to_json(message))
    assert back == message
    assert paymsg.parse(paymsg.serialize(back)) == message


@pytest.mark.parametrize("path", BODIES, ids=ids(BODIES))
def test_bodies_round_trip(path: Path) -> None:
    message = paymsg.parse(path, type=path.parent.name)
    assert message.type == path.parent.name
    xml = paymsg.serialize(message)
    assert paymsg.parse(xml, type=message.type) == message
    schema = compiled_schema(str(catalog().get(message.type).schema_path))
    assert schema.validate(etree.fromstring(xml)), schema.error_log
    assert paymsg.from_json(paymsg.to_json(message)) == message


def test_hvps111_is_told_by_its_header_not_its_body() -> None:
    body = EXAMPLES / "cnaps2/hvps.111.001.01/customer-transfer-urgent.xml"
    assert paymsg.detect(body).type == "pacs.008.001.02"
    assert paymsg.detect(body.with_suffix(".txt")).type == "hvps.111.001.01"


def _tolerant_text(body: bytes) -> bytes:
    signature = "MEUCIQDx3hM2dOqj0dvmX2yU9b1v7TmvwW5Qd2e5q7H0v4cL3QIgR2P7vJ8x9u0FzR0sE1lM8rQdYl9mR5kq3w0Zb6hX1yE="
    return (
        NPC_HEADER.encode()
        + b"\r\n{S:"
        + signature[:50].encode()
        + b"\r\n"
        + signature[50:].encode()
        + b"}\r\r\n"
        + body
    )


def test_forwarded_message_with_wrapped_signature_relays_unchanged() -> None:
    body = (EXAMPLES / "cnaps2/beps.121.001.01/forwarded-by-npc.xml").read_bytes()
    text = _tolerant_text(body)
    message = paymsg.parse(text)
    assert message.envelope.header.reserve == "XN       "
    assert message.envelope.signature is not None and "\n" not in message.envelope.signature
    assert paymsg.serialize(message) == text


def test_no_line_break_before_the_xml_declaration() -> None:
    body = (EXAMPLES / "cnaps2/beps.121.001.01/forwarded-by-npc.xml").read_bytes()
    text = NPC_HEADER.encode() + b"\r\n{S:MEUCIQ==}" + body
    message = paymsg.parse(text)
    assert message.type == "beps.121.001.01"
    assert paymsg.serialize(message) == text


def test_a_changed_document_gets_a_canonical_body_and_keeps_its_header() -> None:
    path = EXAMPLES / "cnaps2/hvps.111.001.01/customer-transfer-urgent.txt"
    message = paymsg.parse(path)
    message.document.fito_ficstmr_cdt_trf.grp_hdr.msg_id = "2024031599999999"
    out = paymsg.serialize(message)
    assert out.startswith(path.read_bytes()[:132])
    assert paymsg.parse(out).document.fito_ficstmr_cdt_trf.grp_hdr.msg_id == "2024031599999999"


def test_header_error_names_field_and_offset_in_the_file(tmp_path: Path) -> None:
    text = (EXAMPLES / "cnaps2/hvps.111.001.01/customer-transfer-urgent.txt").read_bytes()
    bad = text[:118] + b"7" + text[119:]  # MesgPriority must be 1, 2 or 3
    path = tmp_path / "bad.txt"
    path.write_bytes(bad)
    with pytest.raises(paymsg.EnvelopeError) as info:
        paymsg.parse(path)
    assert info.value.field == "MesgPriority" and info.value.offset == 118
    assert "bad.txt" in str(info.value) and "报文优先级" in str(info.value)


def test_body_namespace_must_match_the_header_type() -> None:
    text = (EXAMPLES / "cnaps2/hvps.111.001.01/customer-transfer-urgent.txt").read_bytes()
    wrong = text.replace(b"hvps.111.001.01", b"beps.121.001.01", 1).replace(b"HVPS", b"BEPS")
    with pytest.raises(paymsg.BindingError, match=r"beps\.121\.001\.01"):
        paymsg.parse(wrong)


def test_wrap_fills_the_header_from_the_document() -> None:
    body = EXAMPLES / "cnaps2/hvps.111.001.01/customer-transfer-urgent.xml"
    message = paymsg.parse(body)  # a bare pacs.008.001.02
    wrapped = cnaps2.wrap(message, now=datetime(2024, 3, 15, 9, 8, 7), id_generator=lambda: "ID1")
    header = wrapped.envelope.header
    assert wrapped.type == "hvps.111.001.01"
    tx = message.document.fito_ficstmr_cdt_trf.cdt_trf_tx_inf[0]
    assert header.orig_sender == tx.instg_agt.fin_instn_id.clr_sys_mmb_id.mmb_id
    assert header.orig_receiver == tx.instd_agt.fin_instn_id.clr_sys_mmb_id.mmb_id
    assert (header.orig_sender_sid, header.orig_receiver_sid) == ("HVPS", "HVPS")
    assert (header.orig_send_date, header.orig_send_time) == ("20240315", "090807")
    assert header.mesg_priority == "1"  # SttlmPrty URGT
    assert header.mesg_id == header.mesg_ref_id == "ID1"
    assert header.mesg_direction == "U" and wrapped.envelope.signature is None
    text = paymsg.serialize(wrapped)
    assert len(text.split(b"\r\n", 1)[0]) == 130
    assert paymsg.parse(text) == wrapped


def test_wrap_needs_a_cnaps_type() -> None:
    iso = next((EXAMPLES / "iso20022/pacs.008.001.08").glob("*.xml"))
    with pytest.raises(paymsg.UnknownMessageTypeError):
        cnaps2.wrap(paymsg.parse(iso), sender="102100099996", receiver="105100000017")


def test_signed_examples_verify_and_tampering_fails() -> None:
    verifier = cnaps2.SM2Verifier({})
    signed = example_files("cnaps2/*/*.signed.txt")
    assert signed
    for path in signed:
        text = path.read_bytes()
        message = paymsg.parse(text)
        verifier.add_key(message.envelope.header.orig_sender, KEY["public_key"])
        profile = PROFILES[message.type]
        paymsg.parse(text, verifier=verifier, signing_profile=profile)
        tampered = text.replace(b'Ccy="CNY">', b'Ccy="CNY">1', 1)
        with pytest.raises(paymsg.SignatureError, match="does not verify"):
            paymsg.parse(tampered, verifier=verifier, signing_profile=profile)


def test_sign_with_wrap_then_verify() -> None:
    body = EXAMPLES / "cnaps2/beps.121.001.01/customer-credit-package.xml"
    signer = cnaps2.SM2Signer(KEY["private_key"])
    wrapped = cnaps2.wrap(
        paymsg.parse(body, type="beps.121.001.01"),
        signer=signer,
        profile=PROFILES["beps.121.001.01"],
    )
    text = paymsg.serialize(wrapped)
    verifier = cnaps2.SM2Verifier({wrapped.envelope.header.orig_sender: KEY["public_key"]})
    assert paymsg.parse(
        text, verifier=verifier, signing_profile=PROFILES["beps.121.001.01"]
    ) == paymsg.parse(text)


def test_signing_without_a_known_element_list_is_refused() -> None:
    body = EXAMPLES / "cnaps2/hvps.111.001.01/customer-transfer-urgent.xml"
    signer = cnaps2.SM2Signer(KEY["private_key"])
    with pytest.raises(paymsg.SignatureError, match="not known"):
        cnaps2.wrap(paymsg.parse(body), signer=signer)
