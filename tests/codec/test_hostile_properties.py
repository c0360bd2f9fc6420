"""Property tests on hostile input: generated and mutated messages (issue 10).

Messages are drawn from the examples and from hypothesis-generated instances of every
catalogued type (the strategies the engines' differential tests use), then mutated:
elements deleted, duplicated, moved, renamed, emptied; hostile text (digits of other
scripts, NaN, exponents, separators, markup characters, long and odd Unicode) and hostile
attributes. Whatever comes out:

- ``validate`` never raises: every problem is a finding;
- ``parse`` raises nothing but a ``PaymsgError``;
- what ``parse`` accepts serializes, reads back equal, and survives ``to_json`` →
  ``from_json`` unchanged.
"""

from __future__ import annotations

import copy
from decimal import Decimal
from enum import Enum
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from lxml import etree
from xsdata.models.datatype import XmlDate, XmlDateTime, XmlPeriod, XmlTime

import paymsg
from paymsg.codec.envelope import cnaps2
from paymsg.codec.xml.binding import render
from paymsg.errors import PaymsgError
from paymsg.schema.catalog import catalog
from tests.codec.strategies import instances
from tests.conftest import example_files

EXAMPLES = example_files("*/*/*.xml") + example_files("cnaps2/*/*.txt")
TYPES = list(catalog())

ODD_VALUES = [
    "", " ", "１２８６５００.００", "١٢٣.٤٥", "1_000.00", "1E5", "NaN", "sNaN", "-Infinity",
    "1,000.00", "２０２６-03-16", "2026-02-30", "2026-03-16T25:61:00", "true", "yes",
    "CLRG", " CLRG ", "ＣＮＹ", "\u00a0", "\u3000", "0" * 40, "9" * 19 + ".99", "-0",
    "<b>&amp;</b>", "]]>", "\u202e", "\U0001f4b0", "𝟙𝟚𝟛", "\ufeff",
]  # fmt: skip
HOSTILE_TEXT = st.one_of(
    st.sampled_from(ODD_VALUES),
    st.text(
        alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters="\ufffe\uffff"),
        max_size=30,
    ).filter(lambda t: all(c in "\t\n\r" or ord(c) >= 0x20 for c in t)),
)
MUTATIONS = ["delete", "duplicate", "move", "rename", "unknown", "empty", "text", "attribute"]


def _simple(kind: Any) -> st.SearchStrategy[Any]:
    if isinstance(kind, type) and issubclass(kind, Enum):
        return st.sampled_from(list(kind))
    if kind is Decimal:
        return st.decimals(min_value=-(10**6), max_value=10**12, places=3, allow_nan=False)
    if kind is bool:
        return st.booleans()
    if kind is int:
        return st.integers(min_value=-99, max_value=10**6)
    if kind is XmlDate:
        return st.dates().map(lambda d: XmlDate(d.year, d.month, d.day))
    if kind is XmlDateTime:
        return st.datetimes().map(
            lambda d: XmlDateTime(d.year, d.month, d.day, d.hour, d.minute, d.second)
        )
    if kind is XmlTime:
        return st.times().map(lambda t: XmlTime(t.hour, t.minute, t.second))
    if kind is XmlPeriod:
        return st.just(XmlPeriod("2026-04"))
    return HOSTILE_TEXT.filter(bool)


def _split(data: bytes) -> tuple[bytes, bytes]:
    """(CNAPS2 envelope text or b"", XML)."""
    if cnaps2.looks_like_cnaps2(data):
        _, offset = cnaps2.split_envelope(data)
        return data[:offset], data[offset:]
    return b"", data


def _mutate(root: etree._Element, index: int, kind: str, other: int, text: str) -> None:
    elements = [e for e in root.iter() if isinstance(e.tag, str)]
    target = elements[index % len(elements)]
    ns = target.tag.partition("}")[0] + "}" if target.tag.startswith("{") else ""
    parent = target.getparent()
    if kind == "delete" and parent is not None:
        parent.remove(target)
    elif kind == "duplicate" and parent is not None:
        target.addnext(copy.deepcopy(target))
    elif kind == "move" and parent is not None:
        destination = elements[other % len(elements)]
        if destination is not target and target not in destination.iterancestors():
            parent.remove(target)
            destination.insert(other % (len(destination) + 1), target)
    elif kind == "rename":
        target.tag = elements[other % len(elements)].tag
    elif kind == "unknown":
        # a Python identifier is an XML name only in ASCII ("ª" is one, but not an XML name)
        name = text.strip()
        target.tag = ns + (name if name.isascii() and name.isidentifier() else "Unknown")
    elif kind == "empty":
        for child in list(target):
            target.remove(child)
        target.text = None
    elif kind == "text":
        if len(target):
            target[0].tail = text  # mixed content
        else:
            target.text = text
    elif kind == "attribute":
        names = [
            "Ccy",
            "Dt",
            "xmlns-like",
            "{urn:x}a",
            "{http://www.w3.org/2001/XMLSchema-instance}nil",
        ]
        target.set(names[other % len(names)], text)


def _mutated(data: bytes, mutations: list[tuple[int, str, int, str]]) -> bytes:
    envelope, xml = _split(data)
    root = etree.fromstring(xml)
    for index, kind, other, text in mutations:
        _mutate(root, index, kind, other, text)
    return envelope + etree.tostring(root, encoding="UTF-8", xml_declaration=True)


def _check(data: bytes) -> None:
    report = paymsg.validate(data)  # never raises
    assert report.type is None or report.type in catalog()
    try:
        message = paymsg.parse(data)
    except PaymsgError:
        assert not report.ok or report.findings  # a refused message has a finding
        return
    text = paymsg.serialize(message)
    assert paymsg.parse(text, type=message.type) == message
    assert paymsg.from_json(paymsg.to_json(message)) == message


MUTATION_LISTS = st.lists(
    st.tuples(
        st.integers(0, 10_000), st.sampled_from(MUTATIONS), st.integers(0, 10_000), HOSTILE_TEXT
    ),
    min_size=1,
    max_size=4,
)


@settings(max_examples=250, deadline=None, suppress_health_check=list(HealthCheck))
@given(path=st.sampled_from(EXAMPLES), mutations=MUTATION_LISTS)
def test_mutated_examples_never_crash_and_what_parses_round_trips(
    path: Path, mutations: list[tuple[int, str, int, str]]
) -> None:
    _check(_mutated(path.read_bytes(), mutations))


@settings(max_examples=150, deadline=None, suppress_health_check=list(HealthCheck))
@given(data=st.data(), mutations=st.one_of(st.just([]), MUTATION_LISTS))
def test_generated_messages_never_crash_and_what_parses_round_trips(
    data: st.DataObject, mutations: list[tuple[int, str, int, str]]
) -> None:
    mtype = data.draw(st.sampled_from(TYPES))
    obj = data.draw(instances(mtype.root_class, _simple, trim_lists=True))
    xml = render(obj, mtype.namespace).encode()
    _check(_mutated(xml, mutations) if mutations else xml)
