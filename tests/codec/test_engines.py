"""Differential test: the fast engine and xsdata's generic binder agree on everything.

xsdata's binder is the oracle. For every example, and for hypothesis-generated
instances of every message type, both engines must build equal objects from the same
XML and write identical XML from the same object.
"""

from __future__ import annotations

from decimal import Decimal
from enum import Enum
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from lxml import etree
from xsdata.models.datatype import XmlDate, XmlDateTime, XmlPeriod, XmlTime

from paymsg.catalog import MessageType, catalog
from paymsg.codec import cnaps2, fast
from paymsg.codec.api import read_input
from paymsg.codec.binding import CONTEXT, bind, render
from paymsg.codec.envelope import split_parts
from paymsg.codec.xmlsafe import parse_xml
from tests.conftest import example_files, ids

FILES = example_files("*/*/*.xml") + example_files("cnaps2/*/*.txt")
TYPES = list(catalog())


def _parts(path: Path) -> list[tuple[bytes, MessageType]]:
    raw, _ = read_input(path)
    if cnaps2.looks_like_cnaps2(raw):
        envelope, offset = cnaps2.split_envelope(raw)
        return [(raw[offset:], catalog().get(envelope.header.mesg_type))]
    parts = split_parts(parse_xml(raw))
    out = [(etree.tostring(parts.document), parts.document_type)]
    if parts.header is not None and parts.header_type is not None:
        out.append((etree.tostring(parts.header), parts.header_type))
    return out


def _both(xml: bytes, mtype: MessageType) -> tuple[Any, Any]:
    return (
        bind(parse_xml(xml), mtype, engine="fast"),
        bind(parse_xml(xml), mtype, engine="xsdata"),
    )


@pytest.mark.parametrize("path", FILES, ids=ids(FILES))
def test_examples_bind_and_render_identically(path: Path) -> None:
    for xml, mtype in _parts(path):
        quick, oracle = _both(xml, mtype)
        assert quick == oracle
        assert render(quick, mtype.namespace, "fast") == render(oracle, mtype.namespace, "xsdata")


def test_every_catalogued_type_has_a_fast_plan() -> None:
    for mtype in TYPES:
        fast.plan_for(mtype.root_class)


# --------------------------------------------------------------------------- generated instances

TEXT = st.text(
    alphabet=st.characters(blacklist_categories=("Cc", "Cs"), blacklist_characters="\ufffe\uffff"),
    min_size=1,
    max_size=12,
)


def _simple(kind: Any, var: Any) -> st.SearchStrategy[Any]:
    if isinstance(kind, type) and issubclass(kind, Enum):
        return st.sampled_from(list(kind))
    if kind is Decimal:
        return st.decimals(min_value=0, max_value=10**6, places=2, allow_nan=False)
    if kind is bool:
        return st.booleans()
    if kind is int:
        return st.integers(min_value=0, max_value=99)
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
    return TEXT


def instances(cls: type, depth: int = 0) -> st.SearchStrategy[Any]:
    """Random instances of a generated class, required fields always set, depth-limited."""
    meta = CONTEXT.build(cls)
    fields: dict[str, st.SearchStrategy[Any]] = {}
    for var in meta.get_all_vars():
        if var.is_wildcard or var.is_attributes:
            continue
        if var.clazz is not None:
            value = st.deferred(lambda c=var.clazz: instances(c, depth + 1))
        else:
            value = _simple(var.types[0], var)
        if var.list_element:
            value = st.lists(value, min_size=1 if var.required else 0, max_size=2)
        optional = not var.required and not var.list_element
        if optional and depth >= 3:
            continue
        fields[var.name] = st.one_of(st.none(), value) if optional else value
    return st.fixed_dictionaries(fields).map(lambda kw: cls(**kw))


@pytest.mark.parametrize("mtype", TYPES, ids=[t.id for t in TYPES])
@settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck))
@given(data=st.data())
def test_generated_instances(mtype: MessageType, data: st.DataObject) -> None:
    obj = data.draw(instances(mtype.root_class))
    fast_xml = render(obj, mtype.namespace, "fast")
    assert fast_xml == render(obj, mtype.namespace, "xsdata")
    quick, oracle = _both(fast_xml.encode(), mtype)
    assert quick == oracle
