"""ISO envelopes: AppHdr + Document inside any wrapper, restored on output."""

from __future__ import annotations

import re
from pathlib import Path

from lxml import etree

import paymsg

HEAD = "urn:iso:std:iso:20022:tech:xsd:head.001.001.02"
PACS = "urn:iso:std:iso:20022:tech:xsd:pacs.008.001.08"


def _wrapped(pacs008_with_bah: Path) -> tuple[bytes, bytes]:
    """The AppHdr and Document of the SWIFT example, as standalone XML."""
    root = etree.parse(str(pacs008_with_bah)).getroot()
    hdr = root.find(f".//{{{HEAD}}}AppHdr")
    doc = root.find(f".//{{{PACS}}}Document")
    assert hdr is not None and doc is not None
    return etree.tostring(hdr), etree.tostring(doc)


def test_wrapper_name_namespace_and_extra_content_survive(pacs008_with_bah: Path) -> None:
    hdr, doc = _wrapped(pacs008_with_bah)
    text = (
        b'<bank:RequestPayload xmlns:bank="urn:bank:gw" bank:channel="SWIFT">'
        b"<bank:Meta><bank:Route>CN-SH</bank:Route></bank:Meta><!-- kept -->"
        + hdr
        + b"<bank:Body>"
        + doc
        + b"</bank:Body></bank:RequestPayload>"
    )
    message = paymsg.parse(text)
    assert message.type == "pacs.008.001.08"
    assert isinstance(message.envelope, paymsg.BusinessEnvelope)
    assert message.envelope.header is not None
    assert message.envelope.wrapper_tag == "{urn:bank:gw}RequestPayload"
    out = etree.fromstring(paymsg.serialize(message))
    assert out.tag == "{urn:bank:gw}RequestPayload"
    assert out.get("{urn:bank:gw}channel") == "SWIFT"
    assert out.findtext("{urn:bank:gw}Meta/{urn:bank:gw}Route") == "CN-SH"
    assert out.find(f"{{{HEAD}}}AppHdr") is not None
    assert out.find(f"{{urn:bank:gw}}Body/{{{PACS}}}Document") is not None
    assert any(isinstance(n, etree._Comment) for n in out.iter())
    assert paymsg.parse(etree.tostring(out)) == message


def test_prefixed_parts_are_read(pacs008_with_bah: Path) -> None:
    hdr, doc = _wrapped(pacs008_with_bah)
    plain = paymsg.parse(b"<Env>" + hdr + doc + b"</Env>")
    prefixed = re.sub(rb"<(/?)([A-Za-z])", rb"<\1p:\2", doc).replace(b"xmlns=", b"xmlns:p=")
    again = paymsg.parse(b"<Env>" + hdr + prefixed + b"</Env>")
    assert again.document == plain.document


def test_unknown_header_version_is_kept_in_the_wrapper(pacs008_with_bah: Path) -> None:
    hdr, doc = _wrapped(pacs008_with_bah)
    hdr3 = hdr.replace(HEAD.encode(), b"urn:iso:std:iso:20022:tech:xsd:head.001.001.03")
    message = paymsg.parse(b"<Envelope>" + hdr3 + doc + b"</Envelope>")
    assert message.envelope.header is None
    out = paymsg.serialize(message)
    assert b"head.001.001.03" in out and b"BizMsgIdr" in out


def test_bare_document_has_no_envelope(pacs008_with_bah: Path) -> None:
    _, doc = _wrapped(pacs008_with_bah)
    message = paymsg.parse(doc)
    assert message.envelope is None
    assert etree.fromstring(paymsg.serialize(message)).tag == f"{{{PACS}}}Document"


def test_supplementary_data_survives_xml_and_json(pacs008_with_bah: Path) -> None:
    _, doc = _wrapped(pacs008_with_bah)
    root = etree.fromstring(doc)
    tx = root.find(f".//{{{PACS}}}CdtTrfTxInf")
    splmtry = etree.SubElement(tx, f"{{{PACS}}}SplmtryData")
    etree.SubElement(splmtry, f"{{{PACS}}}PlcAndNm").text = "/Document/FIToFICstmrCdtTrf"
    envlp = etree.SubElement(splmtry, f"{{{PACS}}}Envlp")
    ext = etree.SubElement(envlp, "{urn:bank:ext}Extra", code="7")
    etree.SubElement(ext, "{urn:bank:ext}Note").text = "保留 this"
    message = paymsg.parse(etree.tostring(root))
    for text in (
        paymsg.serialize(message),
        paymsg.serialize(paymsg.from_json(paymsg.to_json(message))),
    ):
        out = etree.fromstring(text)
        extra = out.find(".//{urn:bank:ext}Extra")
        assert extra is not None and extra.get("code") == "7"
        assert extra.findtext("{urn:bank:ext}Note") == "保留 this"


def test_header_without_wrapper_round_trips_through_xml_and_json(pacs008_with_bah: Path) -> None:
    """The default wrapper (what serialize writes around a header when there is no wrapper)
    reads back as "no wrapper", so Message → XML → Message and JSON → XML → JSON are equal;
    any other wrapper, even one that differs only by an attribute, is kept."""
    hdr, doc = _wrapped(pacs008_with_bah)
    message = paymsg.parse(b"<Env>" + hdr + doc + b"</Env>")
    assert isinstance(message.envelope, paymsg.BusinessEnvelope)
    message.envelope.wrapper = None
    xml = paymsg.serialize(message)
    assert etree.fromstring(xml).tag == "BusinessMessage"
    again = paymsg.parse(xml)
    assert again.envelope.wrapper is None
    assert again == message
    assert paymsg.serialize(again) == xml
    data = paymsg.to_json(message)
    assert '"wrapper"' not in data
    assert paymsg.to_json(paymsg.parse(paymsg.serialize(paymsg.from_json(data)))) == data
    kept = paymsg.parse(xml.replace(b"<BusinessMessage>", b'<BusinessMessage id="1">'))
    assert kept.envelope.wrapper is not None and 'id="1"' in kept.envelope.wrapper
