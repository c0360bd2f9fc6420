"""Hostile and broken input: refused quickly, with a clear error that says where."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

import paymsg
from paymsg.codec.xml.safe import Limits

LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [
 <!ENTITY lol "lol">
 <!ENTITY lol1 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol2 "&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
 <!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
 <!ENTITY lol5 "&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;">
 <!ENTITY lol6 "&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;">
 <!ENTITY lol7 "&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;">
 <!ENTITY lol8 "&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;">
 <!ENTITY lol9 "&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;">
]>
<Document xmlns="urn:iso:std:iso:20022:tech:xsd:pacs.008.001.08"><FIToFICstmrCdtTrf>&lol9;</FIToFICstmrCdtTrf></Document>
"""

XXE = b"""<?xml version="1.0"?>
<!DOCTYPE d [<!ENTITY x SYSTEM "file:///etc/passwd">]>
<Document xmlns="urn:iso:std:iso:20022:tech:xsd:pacs.008.001.08">&x;</Document>
"""


@pytest.mark.parametrize("text", [LAUGHS, XXE], ids=["billion-laughs", "external-entity"])
@pytest.mark.parametrize("entry", [paymsg.parse, paymsg.detect], ids=["parse", "detect"])
def test_doctype_and_entities_are_refused_quickly(text: bytes, entry) -> None:  # type: ignore[no-untyped-def]
    started = time.perf_counter()
    with pytest.raises(paymsg.UnsafeXMLError, match="DOCTYPE"):
        entry(text)
    assert time.perf_counter() - started < 1.0


def test_depth_limit() -> None:
    deep = b"<a>" * 100 + b"</a>" * 100
    with pytest.raises(paymsg.UnsafeXMLError, match="nested deeper than 64"):
        paymsg.parse(deep)


def test_size_limit() -> None:
    with pytest.raises(paymsg.UnsafeXMLError, match="over the limit"):
        paymsg.parse(b"<a>" + b"x" * 2000 + b"</a>", limits=Limits(max_bytes=1000))


def test_malformed_xml_says_line_and_column() -> None:
    with pytest.raises(paymsg.MalformedXMLError) as info:
        paymsg.parse(b"<Document>\n  <A>\n</Document>")
    assert info.value.line == 3
    assert "3:" in str(info.value)


def test_unknown_namespace() -> None:
    with pytest.raises(paymsg.UnknownMessageTypeError, match="urn:nobody"):
        paymsg.parse(b'<Document xmlns="urn:nobody"><X/></Document>')


def test_missing_file() -> None:
    with pytest.raises(paymsg.InputError, match="cannot read file"):
        paymsg.parse(Path("/nonexistent/file.xml"))


def test_binding_error_has_line_and_element_path(pacs008_with_bah: Path) -> None:
    text = pacs008_with_bah.read_bytes()
    # move ChrgBr before IntrBkSttlmAmt: wrong order, which the binder alone would accept
    broken = text.replace(b"<ChrgBr>SHAR</ChrgBr>", b"").replace(
        b"<IntrBkSttlmAmt", b"<ChrgBr>SHAR</ChrgBr><IntrBkSttlmAmt", 1
    )
    broken = broken.replace(b"<NbOfTxs>1</NbOfTxs>", b"<NbOfTxs>1</NbOfTxs><Bogus>1</Bogus>")
    with pytest.raises(paymsg.BindingError) as info:
        paymsg.parse(broken)
    error = info.value
    assert error.line is not None
    assert error.path is not None and error.path.startswith(
        "/Envelope/Document/FIToFICstmrCdtTrf/GrpHdr"
    )
    assert "Bogus" in str(error)
