"""Every example: parse → serialize → parse is equal, output validates, JSON is lossless."""

from __future__ import annotations

from pathlib import Path

import pytest
from lxml import etree

import paymsg
from paymsg.codec.envelope.bah import split_parts
from paymsg.codec.xml.binding import compiled_schema
from paymsg.schema.catalog import catalog
from tests.conftest import ids, iso_examples

ISO = iso_examples()


def _validate_parts(xml: bytes) -> None:
    parts = split_parts(etree.fromstring(xml))
    pieces = [(parts.document, parts.document_type), (parts.header, parts.header_type)]
    for element, mtype in pieces:
        if element is None or mtype is None:
            continue
        schema = compiled_schema(str(mtype.schema_path))
        assert schema.validate(element), schema.error_log


def test_there_are_at_least_two_examples_per_iso_type() -> None:
    for mtype in catalog():
        if mtype.standard == "iso20022":
            found = [p for p in ISO if p.parent.name == mtype.id]
            assert len(found) >= 2, f"{mtype.id} has {len(found)} examples"


@pytest.mark.parametrize("path", ISO, ids=ids(ISO))
def test_xml_round_trip(path: Path) -> None:
    message = paymsg.parse(path)
    assert message.type == path.parent.name
    xml = paymsg.serialize(message)
    assert xml.startswith(b'<?xml version="1.0" encoding="UTF-8"?>')
    again = paymsg.parse(xml)
    assert again == message
    assert paymsg.serialize(again) == xml  # stable output
    _validate_parts(xml)


@pytest.mark.parametrize("path", ISO, ids=ids(ISO))
def test_json_round_trip(path: Path) -> None:
    message = paymsg.parse(path)
    text = paymsg.to_json(message)
    assert "null" not in text
    back = paymsg.from_json(text)
    assert back == message
    assert paymsg.serialize(back) == paymsg.serialize(message)


@pytest.mark.parametrize("path", ISO, ids=ids(ISO))
def test_detect_agrees_with_parse(path: Path) -> None:
    detection = paymsg.detect(path)
    assert detection.type == path.parent.name
    assert detection.method == "namespace"
