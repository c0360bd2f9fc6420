"""Differential test: the fast JSON engine and the generic one agree on everything.

The generic engine (``_generic_to_data`` / ``_generic_from_data``, xsdata's metadata read
for every object) is the oracle. For every example, and for hypothesis-generated
instances of every message type, both engines must write identical JSON text (at every
indent) and identical plain data, and read equal objects back. Objects holding values of
unexpected run-time types must give identical text or the same error; malformed JSON
documents (fixed cases, and examples mutated at random) must give equal objects or the
same error — type, message and location — from both. The fast simple-type decoders are
checked against xsdata's converter on arbitrary text.
"""

from __future__ import annotations

import gc
import json
import threading
from collections.abc import Callable
from dataclasses import dataclass, field, fields, is_dataclass
from datetime import date
from decimal import Decimal
from enum import Enum, StrEnum
from functools import cache
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from xsdata.formats.converter import converter
from xsdata.models.datatype import XmlDate, XmlDateTime, XmlPeriod, XmlTime

import paymsg
from paymsg.codec.json import engine as pj
from paymsg.codec.message import Message
from paymsg.codec.xml.safe import DEFAULT_LIMITS
from paymsg.errors import BindingError
from paymsg.schema.catalog import MessageType, catalog
from tests.codec.odd_models import NS_TEST, Defaults, PostInit
from tests.codec.strategies import instances
from tests.conftest import example_files, ids

FILES = example_files("*/*/*.xml") + example_files("cnaps2/*/*.txt")
TYPES = list(catalog())
INDENTS: list[Any] = [2, None, 0, 4, "\t"]


def _outcome(run: Callable[[], Any]) -> tuple[str, ...]:
    """``("ok", text or repr)`` — a repr, as ``Decimal("NaN")`` equals nothing — or the
    error: its class, its text and its attributes (path, line, source…)."""
    try:
        value = run()
    except Exception as exc:
        attributes = sorted(getattr(exc, "__dict__", {}).items())
        return (
            "error",
            f"{type(exc).__module__}.{type(exc).__qualname__}",
            str(exc),
            repr(attributes),
        )
    return ("ok", value if isinstance(value, str) else repr(value))


def _both_to_json(message: Message, indent: Any) -> tuple[tuple[str, ...], tuple[str, ...]]:
    return (
        _outcome(lambda: pj._to_json(message, indent, "fast")),
        _outcome(lambda: pj._to_json(message, indent, "generic")),
    )


def _both_from_json(text: str) -> tuple[tuple[str, ...], tuple[str, ...]]:
    return (
        _outcome(lambda: pj._from_json(text, DEFAULT_LIMITS, "fast")),
        _outcome(lambda: pj._from_json(text, DEFAULT_LIMITS, "generic")),
    )


def _check_message(message: Message) -> None:
    """Both engines: identical text at every indent, identical plain data, equal objects;
    and the fast functions themselves (not a fallback) give that result."""
    for indent in INDENTS:
        quick, oracle = _both_to_json(message, indent)
        assert quick == oracle, indent
        assert quick[0] == "ok"
    text = pj._to_json(message, 2, "generic")
    assert pj._write_message(message, 2) == text  # the writer itself, no fallback
    assert pj.message_to_data(message) == pj._message_to_data(message, "generic")
    document = message.document
    shape = pj._shape_for(type(document))
    assert shape is not None
    assert pj._function(shape, "data")(document) == pj._generic_to_data(document)
    quick, oracle = _both_from_json(text)
    assert quick == oracle
    assert quick[0] == "ok"
    loaded = pj._function(shape, "load")(json.loads(text)["document"])  # no fallback
    assert repr(loaded) == repr(pj._from_json(text, DEFAULT_LIMITS, "generic").document)


# --------------------------------------------------------------------------- examples


@pytest.mark.parametrize("path", FILES, ids=ids(FILES))
def test_examples_identical_text_and_equal_objects(path: Path) -> None:
    message = paymsg.parse(path)
    _check_message(message)
    assert paymsg.from_json(paymsg.to_json(message)) == message


def test_every_class_of_the_catalogue_has_a_shape() -> None:
    """No generated class is left to the generic engine (but for its xs:any content)."""
    for mtype in TYPES:
        root = pj._shape_for(mtype.root_class)
        assert root is not None
        for kind in ("data", "write", "load"):
            pj._function(root, kind)  # type: ignore[arg-type]
        seen, stack = {id(root)}, [root]
        while stack:
            shape = stack.pop()
            for f in shape.fields:
                assert f.cls is None or f.shape is not None, (shape.cls, f.name)
                assert f.cls is not None or f.kind is str or f.decode is not None, f.name
                if f.shape is not None and id(f.shape) not in seen:
                    seen.add(id(f.shape))
                    stack.append(f.shape)


def test_xs_any_content_is_written_and_read_by_the_generic_engine() -> None:
    path = next(p for p in FILES if p.name == "eur-t2-supplementary-data.xml")
    message = paymsg.parse(path)
    text = paymsg.to_json(message)
    assert '"#any": [' in text
    assert paymsg.from_json(text) == message


# --------------------------------------------------------------------------- generated instances

TEXT = st.one_of(
    st.text(min_size=0, max_size=10),  # control characters, quotes, surrogates: JSON escapes
    st.sampled_from(['"', "\\", "\n\t", "\u2028", "é中文", "</x>", "\x00", " "]),
)
DECIMALS = st.one_of(
    st.decimals(min_value=-(10**9), max_value=10**9, places=2),
    st.decimals(min_value=-(10**4), max_value=10**4, places=7),
    # NaN and the infinities are outside xs:decimal's lexical space: both readers refuse
    # them (tests/codec/test_json_strict.py), so they cannot round-trip
    st.sampled_from(
        [
            Decimal("1E+3"),
            Decimal("-0"),
            Decimal("0E-7"),
            Decimal("12.500"),
        ]
    ),
)
OFFSETS = st.one_of(st.none(), st.integers(min_value=-14 * 60, max_value=14 * 60))


def _simple(kind: Any) -> st.SearchStrategy[Any]:
    if isinstance(kind, type) and issubclass(kind, Enum):
        return st.sampled_from(list(kind))
    if kind is Decimal:
        return DECIMALS
    if kind is bool:
        return st.booleans()
    if kind is int:
        return st.integers(min_value=-(10**12), max_value=10**12)
    if kind is XmlDate:
        return st.builds(lambda d, o: XmlDate(d.year, d.month, d.day, o), st.dates(), OFFSETS)
    if kind is XmlDateTime:
        return st.builds(
            lambda d, ns, o: XmlDateTime(d.year, d.month, d.day, d.hour, d.minute, d.second, ns, o),
            st.datetimes(),
            st.sampled_from([0, 500_000_000, 123_456_789, 1_000]),
            OFFSETS,
        )
    if kind is XmlTime:
        return st.builds(
            lambda t, o: XmlTime(t.hour, t.minute, t.second, t.microsecond * 1000, o),
            st.times(),
            OFFSETS,
        )
    if kind is XmlPeriod:
        return st.sampled_from(["2026", "2026-04", "--04", "--04-15", "---15"]).map(XmlPeriod)
    return TEXT


@pytest.mark.parametrize("mtype", TYPES, ids=[t.id for t in TYPES])
@settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck))
@given(data=st.data())
def test_generated_instances(mtype: MessageType, data: st.DataObject) -> None:
    document = data.draw(instances(mtype.root_class, _simple, trim_lists=True))
    _check_message(Message(mtype.id, document))


# --------------------------------------------------------------------------- odd run-time types


class _Other(Enum):
    X = "X"
    N = 7


@dataclass
class _Stranger:
    """A dataclass the models do not know, where one of theirs is expected."""

    a: str = "a"


@cache
def _odd_values() -> list[Any]:
    from paymsg.models.pacs_008_001_08 import ActiveCurrencyAndAmount, CreditDebitCode

    amount = ActiveCurrencyAndAmount(value=Decimal("1.50"), ccy="EUR")
    sub = type("SubAmount", (ActiveCurrencyAndAmount,), {"__slots__": ()})
    return [
        5, 1.5, True, False, "text", "", Decimal("1.50"), Decimal("NaN"), XmlDate(2024, 1, 1),
        date(2024, 1, 1), _Other.X, _Other.N, CreditDebitCode.CRDT, [], ["a", 1], ("t", "u"),
        "ab", {"k": "v"}, amount, sub(value=Decimal("2"), ccy="USD"), _Stranger(), object(),
    ]  # fmt: skip


def _slots(obj: Any) -> list[tuple[Any, str]]:
    """Every (object, field name) in the tree of ``obj``."""
    found: list[tuple[Any, str]] = []
    stack = [obj]
    while stack:
        node = stack.pop()
        for f in fields(node):
            found.append((node, f.name))
            value = getattr(node, f.name)
            items = value if isinstance(value, list) else [value]
            stack.extend(v for v in items if is_dataclass(v) and not isinstance(v, type))
    return found


@pytest.mark.parametrize("mtype", TYPES, ids=[t.id for t in TYPES])
@settings(max_examples=15, deadline=None, suppress_health_check=list(HealthCheck))
@given(data=st.data())
def test_values_of_unexpected_types(mtype: MessageType, data: st.DataObject) -> None:
    document = data.draw(instances(mtype.root_class, _simple, trim_lists=True))
    spots = _slots(document)
    for _ in range(data.draw(st.integers(1, 3))):
        node, name = spots[data.draw(st.integers(0, len(spots) - 1))]
        odd = _odd_values()
        setattr(node, name, odd[data.draw(st.integers(0, len(odd) - 1))])
    message = Message(mtype.id, document)
    for indent in (2, None):
        quick, oracle = _both_to_json(message, indent)
        assert quick == oracle
    assert _outcome(lambda: pj.to_data(document)) == _outcome(lambda: pj._generic_to_data(document))


# --------------------------------------------------------------------------- malformed JSON


@cache
def _example_json(name: str) -> str:
    path = next(p for p in FILES if p.name == name)
    return paymsg.to_json(paymsg.parse(path))


PACS = "eur-t2-supplementary-data.xml"  # pacs.008 with xs:any content
FEDNOW = "fednow-usd-instant.xml"  # pacs.008 with an AppHdr and a wrapper
TX = ("document", "FIToFICstmrCdtTrf", "CdtTrfTxInf", 0)
AMT = (*TX, "IntrBkSttlmAmt")
ENVLP = (*TX, "SplmtryData", 0, "Envlp")
GRP = ("document", "FIToFICstmrCdtTrf", "GrpHdr")
MISSING = object()  # delete the member

# (example, path, new value or MISSING, expected outcome)
CASES: list[tuple[str, tuple[Any, ...], Any, str]] = [
    (PACS, (*AMT, "#text"), 1842.19, "error"),  # a number, not a string
    (PACS, (*AMT, "#text"), "18,42", "error"),
    (PACS, (*AMT, "#text"), "1E+3", "error"),  # no exponent in xs:decimal, as in XML
    (PACS, (*AMT, "#text"), " 1842.19 ", "ok"),
    (PACS, (*AMT, "#text"), "NaN", "error"),
    (PACS, (*AMT, "#text"), True, "error"),
    (PACS, AMT, "1842.19", "error"),  # a string where an object belongs
    (PACS, AMT, ["x"], "error"),
    (PACS, (*AMT, "@Ccy"), MISSING, "error"),  # required attribute
    (PACS, (*AMT, "#text"), MISSING, "error"),  # required text
    (PACS, (*AMT, "@Ccy"), None, "error"),
    (PACS, (*AMT, "@Bogus"), "x", "error"),
    (PACS, (*TX, "IntrBkSttlmDt"), "2026-02-30", "error"),
    (PACS, (*TX, "IntrBkSttlmDt"), "2026-06-03+08:00", "ok"),
    (PACS, (*TX, "IntrBkSttlmDt"), "2026-06-03Z", "ok"),
    (PACS, (*TX, "IntrBkSttlmDt"), "03/06/2026", "error"),
    (PACS, (*TX, "IntrBkSttlmDt"), "٢٠٢٦-٠٦-٠٣", "error"),  # ASCII digits only, as in XML
    (PACS, (*TX, "IntrBkSttlmDt"), 20260603, "error"),
    (PACS, (*GRP, "CreDtTm"), "2026-06-03T24:00:00", "ok"),
    (PACS, (*GRP, "CreDtTm"), "2026-06-03T14:42:05.123456789+14:00", "ok"),
    (PACS, (*GRP, "CreDtTm"), "2026-06-03T14:42:05.1234567891Z", "error"),
    (PACS, (*GRP, "CreDtTm"), "2026-06-03T14:42:60", "error"),
    (PACS, (*GRP, "CreDtTm"), "2026-06-03", "error"),
    (PACS, (*GRP, "NbOfTxs"), 1, "error"),
    (PACS, (*GRP, "NbOfTxs"), MISSING, "error"),  # required element
    (PACS, (*GRP, "Bogus"), "x", "error"),  # unknown member
    (PACS, (*TX, "ChrgBr"), "XXXX", "error"),  # not a code of the enumeration
    (PACS, (*TX, "ChrgBr"), " SLEV ", "error"),  # codes match exactly, as in XML
    (PACS, (*TX, "ChrgBr"), "slev", "error"),
    (PACS, (*TX, "ChrgBr"), None, "error"),
    (PACS, (*TX, "ChrgBr"), ["SLEV"], "error"),
    (PACS, ("document", "FIToFICstmrCdtTrf", "CdtTrfTxInf"), {}, "error"),  # not an array
    (PACS, ("document", "FIToFICstmrCdtTrf", "CdtTrfTxInf"), [], "ok"),
    (PACS, ("document", "FIToFICstmrCdtTrf", "CdtTrfTxInf"), MISSING, "ok"),  # a default
    (PACS, ("document", "FIToFICstmrCdtTrf", "CdtTrfTxInf"), [None], "error"),
    (PACS, ("document", "FIToFICstmrCdtTrf", "CdtTrfTxInf"), ["tx"], "error"),
    (PACS, ("document",), [], "error"),
    (PACS, ("document",), {}, "error"),
    (PACS, ("document", "FIToFICstmrCdtTrf"), 7, "error"),
    (PACS, (*ENVLP, "#any"), "<x/>", "error"),  # xs:any content: not an array
    (PACS, (*ENVLP, "#any"), ["<unclosed"], "error"),
    (PACS, (*ENVLP, "#any"), [7], "error"),
    (PACS, (*ENVLP, "#any"), [], "ok"),
    (PACS, (*ENVLP, "#any"), ['<n:X xmlns:n="urn:example:x">1</n:X>'], "ok"),
    (PACS, (*ENVLP, "Other"), "x", "error"),
    (PACS, (*GRP, "#any"), ['<n:X xmlns:n="urn:example:x"/>'], "error"),  # no xs:any here
    (PACS, (*GRP, "#any"), [], "error"),
    (FEDNOW, ("envelope", "AppHdr", "CreDt"), "yesterday", "error"),
    (FEDNOW, ("envelope", "AppHdr", "Bogus"), {}, "error"),
    (FEDNOW, ("envelope", "AppHdr", "BizMsgIdr"), MISSING, "error"),
    (FEDNOW, ("envelope", "AppHdr", "Fr"), [], "error"),
    (FEDNOW, ("envelope", "AppHdr"), "x", "error"),
]


def _edit(data: Any, path: tuple[Any, ...], value: Any) -> None:
    node = data
    for step in path[:-1]:
        node = node[step]
    if value is MISSING:
        del node[path[-1]]
    else:
        node[path[-1]] = value


@pytest.mark.parametrize(("name", "path", "value", "expected"), CASES)
def test_malformed_documents(name: str, path: tuple[Any, ...], value: Any, expected: str) -> None:
    data = json.loads(_example_json(name))
    _edit(data, path, value)
    quick, oracle = _both_from_json(json.dumps(data, ensure_ascii=False))
    assert quick == oracle
    assert quick[0] == expected, quick


def test_any_where_the_class_takes_none_is_a_binding_error() -> None:
    data = json.loads(_example_json(PACS))
    for fragments in ([], ['<n:X xmlns:n="urn:example:x"/>']):
        _edit(data, (*GRP, "#any"), fragments)
        with pytest.raises(BindingError, match="takes no xs:any content") as caught:
            paymsg.from_json(json.dumps(data))
        assert caught.value.path == "/Document/FIToFICstmrCdtTrf/GrpHdr/#any"


def test_malformed_errors_are_located() -> None:
    data = json.loads(_example_json(PACS))
    _edit(data, (*TX, "IntrBkSttlmDt"), "2026-02-30")
    with pytest.raises(BindingError) as caught:
        paymsg.from_json(json.dumps(data))
    assert caught.value.path == "/Document/FIToFICstmrCdtTrf/CdtTrfTxInf[1]/IntrBkSttlmDt"


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (True, "ok"),
        (False, "ok"),
        ("true", "ok"),
        (" 0 ", "ok"),
        ("1", "ok"),
        ("yes", "error"),
        (1, "error"),
        (None, "error"),
        ([True], "error"),
    ],
)
def test_booleans(value: Any, expected: str) -> None:
    data = json.loads(_example_json("cny-corporate-small.xml"))
    header = data["document"]["BkToCstmrStmt"]["GrpHdr"]
    header["MsgPgntn"] = {"PgNb": "1", "LastPgInd": value}
    quick, oracle = _both_from_json(json.dumps(data))
    assert quick == oracle
    assert quick[0] == expected, quick


# -- random mutations of every example ----------------------------------------------------

ODD_JSON = st.sampled_from(
    [None, 1, 1.5, True, False, "", " ", "abc", "NaN", "1E+3", " 12.50 ", "12,50", "2024-02-30",
     "2024-03-15", "2024-03-15+08:00", "2024-03-15T25:00:00", "2024-03-15T10:05:12+08:00",
     "10:00:00", "2026-04", "CRDT", " CRDT ", "XXX", "true", "0", {}, [], ["x"], {"Cd": "x"},
     ['<n:X xmlns:n="urn:example:x"/>'], ["<bad"]]
)  # fmt: skip
MUTATIONS = ["set", "delete", "unknown", "wrap", "unwrap", "any", "duplicate", "null"]


def _locations(data: Any) -> list[tuple[Any, Any]]:
    """Every (container, key or index) under the document and the AppHdr."""
    found: list[tuple[Any, Any]] = []
    roots: list[Any] = [data]
    while roots:
        node = roots.pop()
        keys = list(node) if isinstance(node, dict) else range(len(node))
        for key in keys:
            if node is data and key not in ("document", "envelope"):
                continue
            found.append((node, key))
            if isinstance(node[key], dict | list):
                roots.append(node[key])
    return found


def _mutate(data: Any, index: int, kind: str, value: Any) -> None:
    spots = _locations(data)
    if not spots:
        return
    node, key = spots[index % len(spots)]
    if kind == "set":
        node[key] = value
    elif kind == "null":
        node[key] = None
    elif kind == "delete":
        del node[key]
    elif kind == "unknown" and isinstance(node[key], dict):
        node[key]["Bogus"] = value
    elif kind == "wrap":
        node[key] = [node[key]]
    elif kind == "unwrap" and isinstance(node[key], list):
        node[key] = node[key][0] if node[key] else {}
    elif kind == "any" and isinstance(node[key], dict):
        node[key]["#any"] = value
    elif kind == "duplicate" and isinstance(node[key], list) and node[key]:
        node[key].append(json.loads(json.dumps(node[key][0])))


@cache
def _all_example_json() -> list[str]:
    return [paymsg.to_json(paymsg.parse(path)) for path in FILES]


@settings(max_examples=400, deadline=None, suppress_health_check=list(HealthCheck))
@given(
    pick=st.integers(0, len(FILES) - 1),
    mutations=st.lists(
        st.tuples(st.integers(0, 10**6), st.sampled_from(MUTATIONS), ODD_JSON),
        min_size=1,
        max_size=3,
    ),
)
def test_mutated_examples(pick: int, mutations: list[tuple[int, str, Any]]) -> None:
    data = json.loads(_all_example_json()[pick])
    for index, kind, value in mutations:
        _mutate(data, index, kind, json.loads(json.dumps(value)))
    quick, oracle = _both_from_json(json.dumps(data, ensure_ascii=False))
    assert quick == oracle


# --------------------------------------------------------------------------- simple types


@cache
def _decoders() -> list[tuple[Any, Callable[[str], Any], dict[str, Any] | None]]:
    """Every (type, fast decoder, enumeration table) the shapes of the catalogue use."""
    seen: dict[Any, tuple[Any, Callable[[str], Any], dict[str, Any] | None]] = {}
    for mtype in TYPES:
        pj._shape_for(mtype.root_class)
    for shape in pj._SHAPES.values():
        for f in shape.fields if shape is not None else []:
            if f.decode is not None and f.kind not in seen:
                seen[f.kind] = (f.kind, f.decode, f.members)
    return list(seen.values())


def test_the_decoders_cover_the_lexical_types() -> None:
    kinds = {kind for kind, _, _ in _decoders()}
    assert {Decimal, bool, XmlDate, XmlDateTime, XmlTime, XmlPeriod} <= kinds
    assert any(isinstance(kind, type) and issubclass(kind, Enum) for kind in kinds)


LEXICAL = st.one_of(
    st.text(alphabet="0123456789-:+.TZ tPYMDHS٢٣\u0660", max_size=32),
    st.dates().map(str),
    st.datetimes().map(lambda d: d.isoformat()),
    st.datetimes().map(lambda d: d.isoformat() + "+08:00"),
    st.times().map(str),
    st.sampled_from(
        [
            "true",
            "false",
            " 1 ",
            "0",
            "True",
            "NaN",
            "-Infinity",
            "1_000",
            " 12.50 ",
            "1e3",
            "CRDT",
            " CRDT ",
            "CR DT",
            "DBIT\n",
            "2024-03-15T24:00:00",
            "2024-03-15T10:00:00+99:99",
            "0000-01-01",
            "10000-01-01",
            "--04",
            "2026-04",
            "24:00:00",
            "10:05:12.5Z",
        ]
    ),
)


@settings(max_examples=2000, deadline=None)
@given(text=LEXICAL)
def test_fast_decoders_agree_with_the_converter(text: str) -> None:
    """Where a fast decoder (or an enumeration table) takes a text, xsdata's converter
    gives the same value: the fast engine never accepts what the generic one would read
    differently. (Where the fast decoder refuses, the converter is asked.)"""
    for kind, decode, members in _decoders():
        if members is not None:
            hit = members.get(text)
            if hit is not None:
                assert converter.deserialize(text, [kind]) is hit
            continue
        try:
            quick = decode(text)
        except Exception:
            continue
        slow = converter.deserialize(text, [kind])
        assert type(quick) is type(slow)
        assert repr(quick) == repr(slow)


# --------------------------------------------------------------------------- other classes


@dataclass(kw_only=True)
class _Twice:
    """Two fields under one JSON key (same local name, two namespaces): generic only."""

    class Meta:
        name = "Twice"
        namespace = NS_TEST

    a: str | None = field(default=None, metadata={"type": "Element", "name": "V"})
    b: str | None = field(
        default=None, metadata={"type": "Element", "name": "V", "namespace": "urn:other"}
    )


@dataclass(kw_only=True)
class _Union:
    """A union of simple types: the fast plans do not cover it, so generic only."""

    class Meta:
        name = "Union"
        namespace = NS_TEST

    value: int | bool | None = field(default=None, metadata={"type": "Element"})


class _Spaced(Enum):
    """Values xsdata's converter does not match as they are (it strips and joins words)."""

    WIDE = "A  B"
    LEADING = " C"


class _Numbered(Enum):
    ONE = 1


class _Worded(StrEnum):
    WORD = "W"


@dataclass(kw_only=True)
class _Coded:
    """Enumerations unlike the generated ones: the converter decides, values are written as
    ``_scalar_out`` writes them (a number, or the ``str`` member itself)."""

    class Meta:
        name = "Coded"
        namespace = NS_TEST

    code: _Spaced | None = field(default=None, metadata={"type": "Element"})
    n: _Numbered | None = field(default=None, metadata={"type": "Element"})
    w: _Worded | None = field(default=None, metadata={"type": "Element"})


@pytest.mark.parametrize(
    ("cls", "has_shape"),
    [(Defaults, True), (PostInit, True), (_Coded, True), (_Twice, False), (_Union, False)],
)
@pytest.mark.parametrize(
    "data",
    [
        {"req": "a", "needed": ["n"]},
        {"req": "a", "opt": "o", "num": "7", "many": ["1", "2"], "needed": []},
        {"req": "a"},  # a required list missing
        {"needed": ["n"]},  # a required field missing
        {"req": "a", "needed": "n"},  # not an array
        {"req": "a", "num": "seven", "needed": ["n"]},
        {"req": "a", "num": " 7 ", "needed": ["n"]},
        {"req": "a", "needed": ["n"], "other": "x"},
        {"V": "v"},
        {"value": "1"},
        {"value": "true"},
        {"value": True},
        {"value": "x"},
        {"code": "A  B"},
        {"code": "A B"},
        {"code": " C"},
        {"code": "C"},
        {"n": "1"},
        {"n": " 1"},
        {"n": 1},
        {"w": "W"},
        {"w": " W "},
        {},
    ],
)
def test_other_classes(cls: type, has_shape: bool, data: dict[str, Any]) -> None:
    assert (pj._shape_for(cls) is not None) is has_shape
    quick = _outcome(lambda: pj.from_data(cls, data, "/X"))
    assert quick == _outcome(lambda: pj._generic_from_data(cls, data, "/X"))
    if quick[0] == "ok":
        obj = pj.from_data(cls, data)
        assert pj.to_data(obj) == pj._generic_to_data(obj)
        message = Message("custom", obj)
        for indent in INDENTS:
            fast_text, oracle_text = _both_to_json(message, indent)
            assert fast_text == oracle_text


# --------------------------------------------------------------------------- the collector


def test_reading_json_makes_no_reference_cycles() -> None:
    """Why pausing the cyclic collector while reading JSON is safe: neither engine leaves
    anything only the collector could free."""
    texts = _all_example_json()
    for text in texts:  # first reads build shapes, functions and xsdata's metadata
        for engine in ("fast", "generic"):
            pj._from_json(text, DEFAULT_LIMITS, engine)  # type: ignore[arg-type]
    objects = []
    gc.collect()
    gc.disable()
    try:
        for text in texts:
            for engine in ("fast", "generic"):
                objects.append(pj._from_json(text, DEFAULT_LIMITS, engine))  # type: ignore[arg-type]
        objects.clear()
        assert gc.collect() == 0
    finally:
        gc.enable()


@pytest.mark.parametrize("good", [True, False])
def test_collector_paused_while_reading_and_restored(
    good: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    seen: list[bool] = []
    real = pj._message_from_data

    def spy(*args: Any) -> Any:
        seen.append(gc.get_threshold()[0] != 0)  # automatic collection running
        return real(*args)

    monkeypatch.setattr(pj, "_message_from_data", spy)
    text = _example_json(PACS) if good else '{"type": "pacs.008.001.08", "document": []}'
    assert gc.isenabled()
    outcome = _outcome(lambda: paymsg.from_json(text))
    assert outcome[0] == ("ok" if good else "error")
    assert seen == [False]
    assert gc.isenabled()


# --------------------------------------------------------------------------- threads


def test_shapes_built_and_compiled_by_racing_threads(monkeypatch: pytest.MonkeyPatch) -> None:
    """Threads meeting classes for the first time at once all get the generic results (a
    shape is published only when complete, a function only once compiled)."""
    monkeypatch.setattr(pj, "_SHAPES", {})
    messages = [paymsg.parse(path) for path in FILES[::4]]
    expected = [pj._to_json(m, 2, "generic") for m in messages]
    results: dict[int, list[Any]] = {}
    start = threading.Barrier(4)

    def work(index: int) -> None:
        start.wait()
        order = list(range(len(messages)))[:: 1 if index % 2 else -1]
        texts = {i: _outcome(lambda i=i: pj.to_json(messages[i])) for i in order}
        back = [_outcome(lambda i=i: pj.from_json(texts[i][1])) for i in order]
        results[index] = [texts[i] for i in range(len(messages))] + sorted(back)

    threads = [threading.Thread(target=work, args=(i,)) for i in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    oracle = [("ok", text) for text in expected] + sorted(
        _outcome(lambda t=text: pj._from_json(t, DEFAULT_LIMITS, "generic")) for text in expected
    )
    assert len(results) == 4
    assert all(result == oracle for result in results.values())
