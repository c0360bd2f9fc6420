"""``xsi:*`` attributes on the ``Document`` and ``AppHdr`` roots survive parse → serialize
(issue 11 item 7): 7 of 27 public Fedwire samples carry ``xsi:schemaLocation``, and the
README promises relay. Checked for both binding engines, bare and wrapped, JSON, CNAPS2
(``wrap`` and parsed text) and the streaming writer."""

from __future__ import annotations

import io
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import pytest
from lxml import etree

import paymsg
from paymsg.codec.envelope.bah import split_parts
from paymsg.codec.stream.writer import stream_convert
from paymsg.codec.xml import fast
from paymsg.codec.xml.binding import XSI_NS
from tests.conftest import ROOT

EXAMPLES = ROOT / "examples"
BARE = EXAMPLES / "iso20022/pacs.008.001.08/cbpr-usd-with-bah.xml"
CNAPS2_XML = EXAMPLES / "cnaps2/hvps.111.001.01/customer-transfer-urgent.xml"
CNAPS2_TEXT = EXAMPLES / "cnaps2/hvps.111.001.01/customer-transfer-urgent.txt"
PACKAGE = EXAMPLES / "cnaps2/beps.121.001.01/customer-credit-package.xml"

DOC_XSI = {"schemaLocation": "urn:iso:std:iso:20022:tech:xsd:pacs.008.001.08 pacs.008.xsd"}
HDR_XSI = {"schemaLocation": "urn:iso:std:iso:20022:tech:xsd:head.001.001.02 head.xsd"}


def _with_xsi(raw: bytes, root: bytes, xsi: dict[str, str], prefix: bytes = b"xsi") -> bytes:
    """``raw`` with ``xsi`` attributes added to the first ``<root`` start tag."""
    attributes = b" xmlns:" + prefix + b'="' + XSI_NS.encode() + b'"'
    for name, value in xsi.items():
        attributes += b" " + prefix + b":" + name.encode() + b'="' + value.encode() + b'"'
    at = raw.index(b"<" + root) + 1 + len(root)
    return raw[:at] + attributes + raw[at:]


def _roots(xml: bytes) -> tuple[etree._Element, etree._Element | None]:
    parts = split_parts(etree.fromstring(xml))
    return parts.document, parts.header


def _xsi(element: etree._Element | None) -> dict[str, str]:
    assert element is not None
    prefix = f"{{{XSI_NS}}}"
    return {k[len(prefix) :]: v for k, v in element.attrib.items() if k.startswith(prefix)}


@pytest.fixture(params=["fast", "xsdata"])
def engine(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """Both binding engines: ``xsdata`` turns the fast plans off, as when they fall short."""
    if request.param == "xsdata":

        def unsupported(*args: object, **kwargs: object) -> None:
            raise fast.Unsupported("the generic binder is under test")

        monkeypatch.setattr(fast, "decode", unsupported)
        monkeypatch.setattr(fast, "write", unsupported)
    yield request.param


def test_document_and_header_xsi_survive_a_wrapper(engine: str) -> None:
    raw = _with_xsi(BARE.read_bytes(), b"Document", DOC_XSI)
    raw = _with_xsi(raw, b"AppHdr", HDR_XSI, prefix=b"x")  # any prefix is the namespace
    message = paymsg.parse(raw)
    assert message.xsi == DOC_XSI
    assert isinstance(message.envelope, paymsg.BusinessEnvelope)
    assert message.envelope.header_xsi == HDR_XSI
    out = paymsg.serialize(message)
    document, header = _roots(out)
    assert _xsi(document) == DOC_XSI and _xsi(header) == HDR_XSI
    assert paymsg.serialize(paymsg.parse(out)) == out  # stable


def test_a_bare_document_keeps_xsi_and_the_engines_agree() -> None:
    raw = _with_xsi(CNAPS2_XML.read_bytes(), b"Document", {"schemaLocation": "urn:a a.xsd"})
    out = paymsg.serialize(paymsg.parse(raw))
    assert b'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"' in out
    assert _xsi(_roots(out)[0]) == {"schemaLocation": "urn:a a.xsd"}


def test_both_engines_write_the_same_bytes(monkeypatch: pytest.MonkeyPatch) -> None:
    raw = _with_xsi(BARE.read_bytes(), b"Document", DOC_XSI)
    expected = paymsg.serialize(paymsg.parse(raw))

    def unsupported(*args: object, **kwargs: object) -> None:
        raise fast.Unsupported("the generic binder is under test")

    monkeypatch.setattr(fast, "decode", unsupported)
    monkeypatch.setattr(fast, "write", unsupported)
    assert paymsg.serialize(paymsg.parse(raw)) == expected


def test_xsi_survives_json(engine: str) -> None:
    raw = _with_xsi(BARE.read_bytes(), b"Document", DOC_XSI)
    raw = _with_xsi(raw, b"AppHdr", HDR_XSI)
    message = paymsg.parse(raw)
    text = paymsg.to_json(message)
    back = paymsg.from_json(text)
    assert back.xsi == DOC_XSI
    assert isinstance(back.envelope, paymsg.BusinessEnvelope)
    assert back.envelope.header_xsi == HDR_XSI
    assert paymsg.serialize(back) == paymsg.serialize(message)


@pytest.mark.parametrize(
    "member",
    ['"xsi": []', '"xsi": {"schemaLocation": 1}', '"xsi": {"a:b": "c"}'],
)
def test_a_bad_xsi_member_in_json_is_refused(member: str) -> None:
    text = paymsg.to_json(paymsg.parse(CNAPS2_XML))
    bad = text.replace('\n  "document"', f'\n  {member},\n  "document"', 1)
    with pytest.raises(paymsg.InputError) as caught:
        paymsg.from_json(bad)
    assert caught.value.path is not None and caught.value.path.startswith("/xsi")


def test_xsi_survives_cnaps2_wrap() -> None:
    raw = _with_xsi(CNAPS2_XML.read_bytes(), b"Document", {"schemaLocation": "urn:b b.xsd"})
    wrapped = paymsg.cnaps2.wrap(
        paymsg.parse(raw), now=datetime(2024, 3, 15, 9, 8, 7), id_generator=lambda: "ID1"
    )
    text = paymsg.serialize(wrapped)
    assert text.startswith(b"{H:")
    body = paymsg.parse(text)
    assert body.xsi == {"schemaLocation": "urn:b b.xsd"}
    assert body.document == wrapped.document


def test_edited_cnaps2_text_keeps_xsi() -> None:
    raw = _with_xsi(CNAPS2_TEXT.read_bytes(), b"Document", {"schemaLocation": "urn:c c.xsd"})
    message = paymsg.parse(raw)
    assert paymsg.serialize(message) == raw  # unchanged: relayed byte for byte
    message.document.fito_ficstmr_cdt_trf.grp_hdr.msg_id = "CHANGED0000000001"
    edited = paymsg.serialize(message)
    assert edited != raw
    again = paymsg.parse(edited)
    assert again.xsi == {"schemaLocation": "urn:c c.xsd"}


@pytest.mark.parametrize("to", ["xml", "json"])
@pytest.mark.parametrize("wrapped", [False, True], ids=["bare", "wrapped"])
def test_the_streaming_writer_keeps_xsi_as_in_memory(
    to: str, wrapped: bool, tmp_path: Path
) -> None:
    raw = _with_xsi(PACKAGE.read_bytes(), b"Document", {"schemaLocation": "urn:d d.xsd"})
    if wrapped:
        body = raw.split(b"?>", 1)[1]
        raw = b"<Envelope xmlns='urn:e'>" + body + b"</Envelope>"
    path = tmp_path / "in.xml"
    path.write_bytes(raw)
    out = io.BytesIO()
    done = stream_convert(path, to, out)  # type: ignore[arg-type]
    assert done.streamed
    message = paymsg.parse(raw)
    expected = paymsg.to_json(message).encode() + b"\n" if to == "json" else None
    assert out.getvalue() == (expected or paymsg.serialize(message))
    assert b"urn:d d.xsd" in out.getvalue()
