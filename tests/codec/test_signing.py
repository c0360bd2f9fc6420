"""CNAPS2 signatures: signed-values strings, profiles, software SM2, envelope sign/verify."""

from __future__ import annotations

import base64
import dataclasses
import shutil
import subprocess
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from lxml import etree
from pydantic import ValidationError

from paymsg.codec.envelope.cnaps2 import (
    CRLF,
    Cnaps2Envelope,
    Cnaps2Header,
    join_envelope,
    split_envelope,
)
from paymsg.codec.envelope.signing import (
    Signer,
    SigningProfile,
    Verifier,
    default_signing_profiles,
    load_signing_profiles,
    sign_envelope,
    signature_data,
    signature_string,
    signing_profile,
    verify_envelope,
)
from paymsg.codec.envelope.sm2 import (
    DEFAULT_SM2_USER_ID,
    SM2Signer,
    SM2Verifier,
    generate_sm2_keypair,
)
from paymsg.errors import ConfigError, SignatureError

# --------------------------------------------------------------------------- fixtures

NS = "urn:iso:std:iso:20022:tech:xsd:pacs.008.001.02"


def body(
    *,
    amount: str = "100.00",
    name: str = "张三",
    purpose: str | None = None,
    second: bool = False,
    prefix: str | None = None,
    namespace: str = NS,
) -> etree._Element:
    """A small pacs.008-shaped body (one or two transactions)."""
    p = f"{prefix}:" if prefix else ""
    xmlns = f'xmlns:{prefix}="{namespace}"' if prefix else f'xmlns="{namespace}"'
    purp = f"<{p}Purp><{p}Prtry>{purpose}</{p}Prtry></{p}Purp>" if purpose is not None else ""
    tx2 = (
        f"<{p}CdtTrfTxInf><{p}PmtId><{p}TxId>T2</{p}TxId></{p}PmtId>"
        f'<{p}IntrBkSttlmAmt Ccy="CNY">5.00</{p}IntrBkSttlmAmt>'
        f"<{p}Dbtr><{p}Nm>李四</{p}Nm></{p}Dbtr></{p}CdtTrfTxInf>"
        if second
        else ""
    )
    xml = (
        f"<{p}Document {xmlns}><{p}FIToFICstmrCdtTrf>"
        f"<{p}GrpHdr><{p}MsgId>2019121900084576</{p}MsgId>"
        f"<{p}CreDtTm>2019-12-19T15:46:15</{p}CreDtTm><!-- a comment --></{p}GrpHdr>"
        f"<{p}CdtTrfTxInf><{p}PmtId><{p}TxId>T1</{p}TxId></{p}PmtId>"
        f'<{p}IntrBkSttlmAmt Ccy="CNY">{amount}</{p}IntrBkSttlmAmt>'
        f"<{p}Dbtr><{p}Nm>{name}</{p}Nm></{p}Dbtr>{purp}</{p}CdtTrfTxInf>"
        f"{tx2}</{p}FIToFICstmrCdtTrf></{p}Document>"
    )
    return etree.fromstring(xml.encode("utf-8"))


# A test profile (NOT an official list — the official lists are not public).
PROFILE = SigningProfile(
    type_id="hvps.111.001.01",
    elements=(
        "GrpHdr/MsgId",
        "CdtTrfTxInf/PmtId/TxId",
        "CdtTrfTxInf/IntrBkSttlmAmt",
        "CdtTrfTxInf/Dbtr/Nm",
        "CdtTrfTxInf/Purp/Prtry",
    ),
    message_element="FIToFICstmrCdtTrf",
    confidence="test",
    source="unit test",
)

HEADER = Cnaps2Header(
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
)

KEYS = generate_sm2_keypair()
SIGNER = SM2Signer(KEYS.private_key)
VERIFIER = SM2Verifier({"313684093748": KEYS.public_key})

# Known answer, made with OpenSSL 3.0 (`openssl pkeyutl -sign -rawin -digest sm3
# -pkeyopt distid:1234567812345678`): verifying it checks our SM2/SM3/Z computation
# against an independent implementation.
OPENSSL_PRIVATE = "fa9d744a2a69ecade2d91c6f91b24c3cd4d9d585c3cf7b9b4693df67281f7f2b"
OPENSSL_PUBLIC = (
    "0414de26d997cbdfd73b0da66746ba849d189bb6e17451b420bbd1b0dbd3a996ce"
    "946228ad581e9d501219ae819eaf28bceeed33298ce4dd210d38e9869e556ddb"
)
OPENSSL_MESSAGE = b"CNY100.00|abc"
OPENSSL_SIGNATURE = bytes.fromhex(
    "3045022100fc2ab1ceec040fb8b16c331dd6b00d3447e6b6b22d675375f071af32b80e329c"
    "02200f255a828bed28a0c3e3653e9c82dc6fdef9b0eb293996b97a94507da9185f28"
)

# --------------------------------------------------------------------------- the string


def test_signature_string_default_options() -> None:
    # absent Purp/Prtry gives an empty last value; no trailing separator by default
    assert signature_string(body(), PROFILE) == "2019121900084576|T1|CNY100.00|张三|"
    assert signature_string(body(purpose="02102"), PROFILE) == (
        "2019121900084576|T1|CNY100.00|张三|02102"
    )


def test_signature_string_trailing_separator_fx_style() -> None:
    profile = PROFILE.model_copy(update={"trailing_separator": True})
    assert signature_string(body(purpose="X"), profile) == "2019121900084576|T1|CNY100.00|张三|X|"
    assert signature_string(body(), profile) == "2019121900084576|T1|CNY100.00|张三||"


def test_signature_string_absent_omitted() -> None:
    profile = PROFILE.model_copy(update={"absent": "omit"})
    assert signature_string(body(), profile) == "2019121900084576|T1|CNY100.00|张三"


def test_signature_string_repeated_group_in_document_order() -> None:
    assert signature_string(body(second=True), PROFILE) == (
        "2019121900084576|T1|CNY100.00|张三||T2|CNY5.00|李四|"
    )


def test_signature_string_absent_group_gives_one_empty_value_per_element() -> None:
    profile = SigningProfile(
        type_id="x", elements=("GrpHdr/MsgId", "SplmtryData/Envlp/A", "SplmtryData/Envlp/B")
    )
    assert signature_string(body(), profile) == "2019121900084576||"


def test_signature_string_is_namespace_agnostic() -> None:
    expected = signature_string(body(), PROFILE)
    assert signature_string(body(prefix="ns0"), PROFILE) == expected
    assert signature_string(body(namespace="urn:other"), PROFILE) == expected
    root = body()
    assert signature_string(root[0], PROFILE) == expected  # the message element itself
    assert signature_string(etree.ElementTree(root), PROFILE) == expected


def test_signature_string_keeps_values_as_written() -> None:
    assert signature_string(body(amount="100"), PROFILE).split("|")[2] == "CNY100"


def test_signature_data_uses_the_profile_encoding() -> None:
    assert signature_data(body(), PROFILE) == "2019121900084576|T1|CNY100.00|张三|".encode()
    gbk = PROFILE.model_copy(update={"encoding": "gbk"})
    assert signature_data(body(), gbk) == "2019121900084576|T1|CNY100.00|张三|".encode("gbk")
    ascii_only = PROFILE.model_copy(update={"encoding": "ascii"})
    with pytest.raises(SignatureError, match="cannot be written in ascii"):
        signature_data(body(), ascii_only)


def test_signature_string_refuses_another_message_element() -> None:
    profile = PROFILE.model_copy(update={"message_element": "FICdtTrf"})
    with pytest.raises(SignatureError, match="expects the message element <FICdtTrf>"):
        signature_string(body(), profile)


def test_signature_string_refuses_a_structured_element() -> None:
    profile = SigningProfile(type_id="x", elements=("GrpHdr",))
    with pytest.raises(SignatureError, match="GrpHdr has child elements"):
        signature_string(body(), profile)


def test_signature_string_of_an_empty_document() -> None:
    with pytest.raises(SignatureError, match="empty"):
        signature_string(etree.fromstring(b"<Document/>"), PROFILE)


# --------------------------------------------------------------------------- profiles


@pytest.mark.parametrize(
    "type_id",
    ["hvps.111.001.01", "hvps.112.001.01", "beps.121.001.01", "beps.122.001.01", "ccms.900.001.02"],
)
def test_unknown_official_list_is_a_clear_error(type_id: str) -> None:
    with pytest.raises(SignatureError) as caught:
        signing_profile(type_id)
    error = caught.value
    assert type_id in error.message
    assert "is not known" in error.message
    assert error.hint is not None
    assert "load_signing_profiles" in error.hint
    assert "SigningProfile(" in error.hint


def test_type_without_any_profile_is_a_clear_error() -> None:
    with pytest.raises(SignatureError, match=r"no signing profile for ccms\.990\.001\.02"):
        signing_profile("ccms.990.001.02")


def test_shipped_profiles_do_not_guess_element_lists() -> None:
    shipped = default_signing_profiles()
    for type_id in ("hvps.111.001.01", "hvps.112.001.01", "beps.121.001.01", "ccms.900.001.02"):
        assert type_id in shipped
    for profile in shipped.values():
        assert profile.elements == ()
        assert not profile.known
        assert profile.confidence == "NF"
        assert profile.source
        assert profile.trailing_separator is False
        assert profile.absent == "empty"
        assert profile.separator == "|"


def test_an_unknown_profile_cannot_sign() -> None:
    unknown = default_signing_profiles()["hvps.111.001.01"]
    with pytest.raises(SignatureError, match="is not known"):
        signature_string(body(), unknown)
    with pytest.raises(SignatureError, match="is not known"):
        sign_envelope(Cnaps2Envelope(HEADER), body(), unknown, SIGNER)


def test_load_signing_profiles(tmp_path: Path) -> None:
    path = tmp_path / "bank.toml"
    path.write_text(
        """
[defaults]
trailing_separator = true

[profile."hvps.111.001.01"]
elements = ["GrpHdr/MsgId", "CdtTrfTxInf/IntrBkSttlmAmt"]
confidence = "bank"
source = "MBFE manual 4.2"

[profile."beps.121.001.01"]
elements = ["PKGGrpHdr/MsgId"]
trailing_separator = false
absent = "omit"
""",
        encoding="utf-8",
    )
    profiles = load_signing_profiles(path)
    hvps = signing_profile("hvps.111.001.01", profiles)
    assert hvps.trailing_separator is True
    assert hvps.elements == ("GrpHdr/MsgId", "CdtTrfTxInf/IntrBkSttlmAmt")
    assert signature_string(body(), hvps) == "2019121900084576|CNY100.00|"
    beps = signing_profile("beps.121.001.01", profiles)
    assert (beps.trailing_separator, beps.absent) == (False, "omit")
    with pytest.raises(SignatureError, match="no signing profile"):
        signing_profile("hvps.112.001.01", profiles)


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ('[profile."x"\nelements = 1', "not valid TOML"),
        ('[profile."x"]\nelements = ["Grp Hdr"]', "local names joined with '/'"),
        ('[profile."x"]\nelements = ["A/B", "A/B"]', "listed twice"),
        ('[profile."x"]\nelements = ["A", "A/B"]', "cannot also contain"),
        ('[profile."x"]\nelements = ["A"]\nabsent = "skip"', "absent"),
        ('[profile."x"]\nelements = ["A"]\nencoding = "klingon"', "unknown character encoding"),
        ('[profile."x"]\nelements = ["A"]\nseparator = ""', "separator"),
        ('[profile."x"]\nelements = ["A"]\ncolour = "red"', "colour"),
        ('[profiles."x"]\nelements = ["A"]', "unknown top-level"),
        ('[defaults]\nelements = ["A"]', "must not set"),
    ],
)
def test_load_signing_profiles_refuses_bad_files(tmp_path: Path, text: str, words: str) -> None:
    path = tmp_path / "bad.toml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError, match=words) as caught:
        load_signing_profiles(path)
    assert caught.value.source == str(path)


def test_load_signing_profiles_missing_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="cannot read"):
        load_signing_profiles(tmp_path / "missing.toml")


def test_profile_validates_on_construction() -> None:
    with pytest.raises(ValidationError, match="listed twice"):
        SigningProfile(type_id="x", elements=("A", "A"))
    with pytest.raises(ValidationError, match="local names"):
        SigningProfile(type_id="x", elements=("/A",))


# --------------------------------------------------------------------------- SM2


def test_sm2_sign_verify() -> None:
    signature = SIGNER.sign(b"CNY100.00|abc", sender="313684093748")
    assert signature[0] == 0x30  # DER SEQUENCE
    assert 8 <= len(signature) <= 72
    assert base64.b64encode(signature).startswith(b"M")
    VERIFIER.verify(b"CNY100.00|abc", signature, sender="313684093748")


def test_sm2_signatures_are_randomised() -> None:
    assert SIGNER.sign(b"x", sender="a") != SIGNER.sign(b"x", sender="a")


@settings(max_examples=15, deadline=None)
@given(st.binary(max_size=300))
def test_sm2_sign_verify_any_data(data: bytes) -> None:
    VERIFIER.verify(data, SIGNER.sign(data, sender="313684093748"), sender="313684093748")


def test_sm2_verifies_an_openssl_signature() -> None:
    verifier = SM2Verifier({"B": OPENSSL_PUBLIC})
    verifier.verify(OPENSSL_MESSAGE, OPENSSL_SIGNATURE, sender="B")
    with pytest.raises(SignatureError):
        verifier.verify(OPENSSL_MESSAGE + b"|", OPENSSL_SIGNATURE, sender="B")
    assert SM2Signer(OPENSSL_PRIVATE).public_key == OPENSSL_PUBLIC


def test_sm2_signature_verifies_with_openssl(tmp_path: Path) -> None:
    openssl = shutil.which("openssl")
    if openssl is None:
        pytest.skip("openssl not installed")
    # SubjectPublicKeyInfo: id-ecPublicKey with the SM2 curve, then the uncompressed point
    spki = bytes.fromhex("3059301306072a8648ce3d020106082a811ccf5501822d034200") + bytes.fromhex(
        KEYS.public_key
    )
    pem = "-----BEGIN PUBLIC KEY-----\n" + base64.encodebytes(spki).decode()
    pem += "-----END PUBLIC KEY-----\n"
    (tmp_path / "pub.pem").write_text(pem)
    (tmp_path / "msg").write_bytes("2019121900084576|张三|CNY100.00".encode())
    signature = SIGNER.sign((tmp_path / "msg").read_bytes(), sender="any")
    (tmp_path / "sig").write_bytes(signature)
    result = subprocess.run(
        [
            *(openssl, "pkeyutl", "-verify", "-pubin", "-inkey", "pub.pem", "-in", "msg"),
            *("-rawin", "-digest", "sm3", "-pkeyopt", "distid:1234567812345678"),
            *("-sigfile", "sig"),
        ],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=False,
    )
    if "Verified Successfully" not in result.stdout and "rawin" in result.stderr:
        pytest.skip(f"this openssl cannot verify SM2 raw input: {result.stderr.strip()}")
    assert "Signature Verified Successfully" in result.stdout, result.stderr


def test_sm2_key_whose_x_starts_with_04() -> None:
    # gmssl strips a "04" prefix with str.lstrip, which would corrupt this key
    signer = SM2Signer(f"{11:064x}")
    assert signer.public_key.startswith("0404")
    for key in (signer.public_key, signer.public_key[2:]):
        verifier = SM2Verifier({"A": key})
        verifier.verify(b"data", signer.sign(b"data", sender="A"), sender="A")


def test_sm2_wrong_key_or_data_does_not_verify() -> None:
    signature = SIGNER.sign(b"data", sender="A")
    other = SM2Verifier({"A": generate_sm2_keypair().public_key})
    with pytest.raises(SignatureError, match="does not match"):
        other.verify(b"data", signature, sender="A")
    with pytest.raises(SignatureError, match="does not match"):
        SM2Verifier({"A": KEYS.public_key}).verify(b"datA", signature, sender="A")


def test_sm2_user_id_matters() -> None:
    signer = SM2Signer(KEYS.private_key, user_id=b"ALICE123@YAHOO.COM")
    signature = signer.sign(b"data", sender="A")
    SM2Verifier({"A": KEYS.public_key}, user_id=b"ALICE123@YAHOO.COM").verify(
        b"data", signature, sender="A"
    )
    with pytest.raises(SignatureError):
        SM2Verifier({"A": KEYS.public_key}).verify(b"data", signature, sender="A")
    assert DEFAULT_SM2_USER_ID == b"1234567812345678"


@pytest.mark.parametrize(
    ("mangle", "words"),
    [
        (lambda der: der[:-1], "not a DER SEQUENCE"),
        (lambda der: b"\x31" + der[1:], "not a DER SEQUENCE"),
        (lambda der: der + b"\x00", "not a DER SEQUENCE"),
        (lambda der: b"", "not a DER SEQUENCE"),
        (lambda der: bytes(64), "not a DER SEQUENCE"),
    ],
)
def test_sm2_refuses_malformed_signatures(mangle: object, words: str) -> None:
    signature = SIGNER.sign(b"data", sender="A")
    bad = mangle(signature)  # type: ignore[operator]
    with pytest.raises(SignatureError, match=words):
        SM2Verifier({"A": KEYS.public_key}).verify(b"data", bad, sender="A")


def test_sm2_refuses_out_of_range_values() -> None:
    n = int("FFFFFFFEFFFFFFFFFFFFFFFFFFFFFFFF7203DF6B21C6052B53BBF40939D54123", 16)
    from Cryptodome.Util.asn1 import DerSequence

    for r, s in ((0, 1), (1, 0), (n, 1), (1, n)):
        bad = bytes(DerSequence([r, s]).encode())
        with pytest.raises(SignatureError, match="out of range"):
            VERIFIER.verify(b"data", bad, sender="313684093748")


def test_sm2_unknown_sender_is_a_configuration_error() -> None:
    signature = SIGNER.sign(b"data", sender="A")
    with pytest.raises(ConfigError, match="no SM2 public key is configured for sender 999"):
        VERIFIER.verify(b"data", signature, sender="999")


def test_sm2_signer_bound_to_a_sender() -> None:
    signer = SM2Signer(KEYS.private_key, sender="313684093748")
    signer.sign(b"x", sender="313684093748")
    with pytest.raises(SignatureError, match="signs for participant 313684093748"):
        signer.sign(b"x", sender="102100099996")


@pytest.mark.parametrize(
    "key",
    [
        "",
        "abc",
        "g" * 64,
        "0" * 64,
        "FFFFFFFEFFFFFFFFFFFFFFFFFFFFFFFF7203DF6B21C6052B53BBF40939D54123",
    ],
)
def test_sm2_bad_private_keys(key: str) -> None:
    with pytest.raises(ConfigError):
        SM2Signer(key)


@pytest.mark.parametrize(
    "key",
    ["", "04" + "1" * 127, "05" + KEYS.public_key[2:], "04" + "1" * 128, KEYS.public_key[:-2]],
)
def test_sm2_bad_public_keys(key: str) -> None:
    with pytest.raises(ConfigError, match="sender A"):
        SM2Verifier({"A": key})


def test_generated_keys_and_repr() -> None:
    keys = generate_sm2_keypair()
    assert len(keys.private_key) == 64
    assert len(keys.public_key) == 130 and keys.public_key.startswith("04")
    assert keys.private_key not in repr(SM2Signer(keys.private_key))


def test_protocols() -> None:
    assert isinstance(SIGNER, Signer)
    assert isinstance(VERIFIER, Verifier)
    assert VERIFIER.senders == {"313684093748"}


# --------------------------------------------------------------------------- envelopes


def transport(envelope: Cnaps2Envelope, root: etree._Element) -> bytes:
    return join_envelope(envelope, etree.tostring(root, xml_declaration=True, encoding="UTF-8"))


def test_sign_then_verify() -> None:
    unsigned = Cnaps2Envelope(HEADER)
    signed = sign_envelope(unsigned, body(), PROFILE, SIGNER)
    assert unsigned.signature is None  # the input is not changed
    assert signed.signature is not None
    assert signed.header == HEADER
    verify_envelope(signed, body(), PROFILE, VERIFIER)


def test_sign_then_verify_through_the_transport_text() -> None:
    signed = sign_envelope(Cnaps2Envelope(HEADER), body(), PROFILE, SIGNER)
    data = transport(signed, body())
    assert data.startswith(HEADER.encode().encode() + CRLF + b"{S:")
    received, offset = split_envelope(data)
    verify_envelope(received, etree.fromstring(data[offset:]), PROFILE, VERIFIER)


def test_re_signing_a_received_envelope_writes_it_canonically() -> None:
    first = sign_envelope(Cnaps2Envelope(HEADER), body(), PROFILE, SIGNER)
    received, _ = split_envelope(transport(first, body()))
    again = sign_envelope(received, body(), PROFILE, SIGNER)
    assert again.signature != received.signature
    data = transport(again, body())
    assert split_envelope(data)[0].signature == again.signature


@pytest.mark.parametrize(
    "changed",
    [
        {"amount": "100.01"},
        {"name": "张四"},
        {"purpose": "02102"},
        {"second": True},
    ],
)
def test_changing_one_signed_value_fails_verification(changed: dict[str, object]) -> None:
    signed = sign_envelope(Cnaps2Envelope(HEADER), body(), PROFILE, SIGNER)
    with pytest.raises(SignatureError) as caught:
        verify_envelope(signed, body(**changed), PROFILE, VERIFIER)  # type: ignore[arg-type]
    message = caught.value.message
    assert "313684093748" in message
    assert "hvps.111.001.01" in message
    assert "does not verify" in message
    assert "the signed values or the signature were changed" in message


def test_changing_an_unsigned_value_still_verifies() -> None:
    signed = sign_envelope(Cnaps2Envelope(HEADER), body(), PROFILE, SIGNER)
    root = body()
    root[0][0][1].text = "2020-01-01T00:00:00"  # GrpHdr/CreDtTm is not in the profile
    verify_envelope(signed, root, PROFILE, VERIFIER)


def test_tampered_signature_fails_verification() -> None:
    signed = sign_envelope(Cnaps2Envelope(HEADER), body(), PROFILE, SIGNER)
    der = bytearray(base64.b64decode(signed.signature or ""))
    der[-1] ^= 0x01
    tampered = dataclasses.replace(signed, signature=base64.b64encode(bytes(der)).decode())
    with pytest.raises(SignatureError, match="does not verify"):
        verify_envelope(tampered, body(), PROFILE, VERIFIER)


def test_absent_signature_is_an_error() -> None:
    with pytest.raises(SignatureError, match="carries no signature block") as caught:
        verify_envelope(Cnaps2Envelope(HEADER), body(), PROFILE, VERIFIER)
    assert "313684093748" in caught.value.message


def test_profile_for_another_type_is_refused() -> None:
    other = PROFILE.model_copy(update={"type_id": "hvps.112.001.01"})
    with pytest.raises(SignatureError, match=r"header MesgType says hvps\.111\.001\.01"):
        sign_envelope(Cnaps2Envelope(HEADER), body(), other, SIGNER)
    with pytest.raises(SignatureError, match=r"profile is for hvps\.112\.001\.01"):
        verify_envelope(Cnaps2Envelope(HEADER, "AAAA"), body(), other, VERIFIER)


def test_verify_without_a_key_for_the_sender() -> None:
    signed = sign_envelope(Cnaps2Envelope(HEADER), body(), PROFILE, SIGNER)
    with pytest.raises(ConfigError, match="313684093748"):
        verify_envelope(signed, body(), PROFILE, SM2Verifier())


class RecordingHsm:
    """Stands in for a bank's HSM: any object with the protocol's methods plugs in."""

    def __init__(self) -> None:
        self.calls: list[tuple[bytes, str]] = []

    def sign(self, data: bytes, *, sender: str) -> bytes:
        self.calls.append((data, sender))
        return SIGNER.sign(data, sender=sender)


def test_a_custom_signer_gets_the_signed_string_and_the_sender() -> None:
    hsm = RecordingHsm()
    signed = sign_envelope(Cnaps2Envelope(HEADER), body(), PROFILE, hsm)
    assert hsm.calls == [("2019121900084576|T1|CNY100.00|张三|".encode(), "313684093748")]
    verify_envelope(signed, body(), PROFILE, VERIFIER)


class BrokenHsm:
    def sign(self, data: bytes, *, sender: str) -> bytes:
        raise RuntimeError("HSM offline")


def test_a_failing_signer_gives_a_signature_error() -> None:
    with pytest.raises(SignatureError, match="HSM offline"):
        sign_envelope(Cnaps2Envelope(HEADER), body(), PROFILE, BrokenHsm())


class BrokenVerifier:
    def verify(self, data: bytes, signature: bytes, *, sender: str) -> None:
        raise RuntimeError("HSM offline")


def test_a_failing_verifier_gives_a_signature_error() -> None:
    signed = sign_envelope(Cnaps2Envelope(HEADER), body(), PROFILE, SIGNER)
    with pytest.raises(SignatureError, match="could not be checked: HSM offline"):
        verify_envelope(signed, body(), PROFILE, BrokenVerifier())
