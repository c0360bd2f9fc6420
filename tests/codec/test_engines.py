"""Differential test: the fast engine and xsdata's generic binder agree on everything.

xsdata's binder is the oracle. For every example, and for hypothesis-generated
instances of every message type, both engines must build equal objects from the same
XML and write identical XML from the same object. The generated decoders are also
checked against the interpreted decoder they replaced (kept here as a reference): on
every example and on mutated examples, both must give equal objects or both refuse
(hand the input to the generic binder).
"""

from __future__ import annotations

import copy
import gc
import threading
from collections.abc import Callable
from decimal import Decimal
from enum import Enum
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from lxml import etree
from xsdata.formats.dataclass.parsers import XmlParser
from xsdata.models.datatype import XmlDate, XmlDateTime, XmlPeriod, XmlTime

from paymsg.codec.api import read_input
from paymsg.codec.envelope import cnaps2
from paymsg.codec.envelope.bah import split_parts
from paymsg.codec.xml import fast
from paymsg.codec.xml.binding import CONTEXT, bind, render
from paymsg.codec.xml.codegen_runtime import plain_init
from paymsg.codec.xml.safe import parse_xml
from paymsg.errors import BindingError
from paymsg.schema.catalog import MessageType, catalog
from tests.codec.odd_models import NS_TEST, Defaults, PostInit
from tests.codec.strategies import instances
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


def _simple(kind: Any) -> st.SearchStrategy[Any]:
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


@pytest.mark.parametrize("mtype", TYPES, ids=[t.id for t in TYPES])
@settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck))
@given(data=st.data())
def test_generated_instances(mtype: MessageType, data: st.DataObject) -> None:
    obj = data.draw(instances(mtype.root_class, _simple))
    fast_xml = render(obj, mtype.namespace, "fast")
    assert fast_xml == render(obj, mtype.namespace, "xsdata")
    quick, oracle = _both(fast_xml.encode(), mtype)
    assert quick == oracle


# --------------------------------------------------------------------------- generated decoders


def _reference_decode(element: etree._Element, plan: fast.Plan) -> Any:
    """The interpreted decoder the generated ones replaced, verbatim but for the plan
    fields it reads: the behaviour they must keep (values, and when to refuse)."""
    kwargs: dict[str, Any] = {}
    if plan.text is None:  # character data would be lost
        for text in [element.text] + [node.tail for node in element]:
            if text is not None and text.strip(" \t\r\n"):
                raise fast.Unsupported("character data in element-only content")
    for qname, name, conv, _ in plan.attributes:
        value = element.get(qname)
        if value is not None:
            kwargs[name] = conv(value)
    for node in element:
        child = plan.children.get(node.tag)
        if child is None:
            if isinstance(node.tag, str):
                raise fast.Unsupported(node.tag)
            continue
        if child.plan is not None:
            value = _reference_decode(node, child.plan)
        elif len(node):
            raise fast.Unsupported(f"{node.tag} has child elements but a simple type")
        else:
            assert child.decode is not None
            value = child.decode(node.text or "")
        if child.repeated:
            bucket = kwargs.get(child.name)
            if bucket is None:
                kwargs[child.name] = [value]
            else:
                bucket.append(value)
        elif child.name in kwargs:
            raise fast.Unsupported(f"{node.tag} repeated")
        else:
            kwargs[child.name] = value
    if plan.text is not None and element.text is not None:
        name, conv, _ = plan.text
        kwargs[name] = conv(element.text)
    try:
        return plan.cls(**kwargs)
    except TypeError as exc:
        raise fast.Unsupported(str(exc)) from None


def _outcome(run: Callable[[], Any]) -> tuple[str, str]:
    """``("ok", repr of the object)`` (a repr, as ``Decimal("NaN")`` equals nothing), or
    the kind of refusal the callers turn into a fallback."""
    try:
        return "ok", repr(run())
    except fast.Unsupported:
        return "unsupported", ""
    except (ValueError, TypeError) as exc:
        return type(exc).__name__, ""


PARTS = [
    (xml, mtype, f"{label}:{mtype.id}")
    for path, label in zip(FILES, ids(FILES), strict=True)
    for xml, mtype in _parts(path)
]


@pytest.mark.parametrize(("xml", "mtype"), [p[:2] for p in PARTS], ids=[p[2] for p in PARTS])
def test_generated_decoders_match_the_reference_and_xsdata(xml: bytes, mtype: MessageType) -> None:
    plan = fast.plan_for(mtype.root_class)
    quick = _outcome(lambda: fast.decode(parse_xml(xml), plan))
    assert quick == _outcome(lambda: _reference_decode(parse_xml(xml), plan))
    if quick[0] == "ok":  # only examples with xs:any content may need the generic binder
        assert fast.decode(parse_xml(xml), plan) == bind(parse_xml(xml), mtype, engine="xsdata")
    else:
        assert b"urn:example:" in xml


def test_most_examples_need_no_fallback() -> None:
    def decoded(xml: bytes, mtype: MessageType) -> str:
        return _outcome(lambda: fast.decode(parse_xml(xml), fast.plan_for(mtype.root_class)))[0]

    outcomes = [decoded(xml, mtype) for xml, mtype, _ in PARTS]
    assert outcomes.count("ok") >= len(PARTS) - 2


def _mutate(root: etree._Element, index: int, kind: str, text: str) -> None:
    elements = [e for e in root.iter() if isinstance(e.tag, str)]
    target = elements[index % len(elements)]
    ns = target.tag.partition("}")[0] + "}"
    parent = target.getparent()
    if kind == "drop" and parent is not None:
        parent.remove(target)
    elif kind == "duplicate" and parent is not None:
        target.addnext(copy.deepcopy(target))
    elif kind == "rename":
        target.tag = ns + "Unknown"
    elif kind == "text":
        target.text = text
    elif kind == "child":
        etree.SubElement(target, ns + "Extra").text = text
    elif kind == "known child":
        target.insert(0, copy.deepcopy(elements[(index * 7 + 3) % len(elements)]))
    elif kind == "comment":
        target.insert(0, etree.Comment(text.replace("-", "") or "c"))
        target[0].tail = text
    elif kind == "pi":
        target.append(etree.ProcessingInstruction("pi", text))
    elif kind == "attribute":
        if target.attrib:
            key = next(iter(target.attrib))
            del target.attrib[key]
        else:
            target.set("Ccy", text)


MUTATIONS = [
    "drop", "duplicate", "rename", "text", "child", "known child", "comment", "pi", "attribute",
]  # fmt: skip
ODD_TEXT = st.sampled_from(
    ["", " ", "abc", "1.5", "12.345", "NaN", "-1", "2024-02-30", "2024-03-15", "true", "0",
     "2024-03-15T25:00:00", "2024-03-15T10:05:12+08:00", "CRDT", "XXX", "P1D", "10:00:00"]
)  # fmt: skip


@settings(max_examples=400, deadline=None, suppress_health_check=list(HealthCheck))
@given(
    part=st.sampled_from(PARTS),
    mutations=st.lists(
        st.tuples(st.integers(0, 10_000), st.sampled_from(MUTATIONS), ODD_TEXT),
        min_size=1,
        max_size=3,
    ),
)
def test_generated_decoders_refuse_exactly_what_the_reference_refuses(
    part: tuple[bytes, MessageType, str], mutations: list[tuple[int, str, str]]
) -> None:
    xml, mtype, _ = part
    root = parse_xml(xml)
    for index, kind, text in mutations:
        _mutate(root, index, kind, text)
    plan = fast.plan_for(mtype.root_class)
    mutated = etree.tostring(root)
    expected = _outcome(lambda: _reference_decode(etree.fromstring(mutated), plan))
    assert _outcome(lambda: fast.decode(etree.fromstring(mutated), plan)) == expected


def _amount_plan() -> tuple[fast.Plan, str]:
    mtype = catalog().get("beps.121.001.01")
    plan = fast.plan_for(mtype.root_class)
    return plan, mtype.namespace


@pytest.mark.parametrize(
    ("body", "refused"),
    [
        ("<Amt Ccy='CNY'>12.50</Amt>", False),
        ("<Amt Ccy='CNY'>12.50<!-- note --></Amt>", False),  # comments are skipped
        ("<Amt Ccy='CNY'>1<?pi x?></Amt>", False),
        ("<Amt Ccy='CNY'>12.50<X/></Amt>", True),  # element content in a text-only type
        ("<Amt>12.50</Amt>", True),  # required attribute missing
        ("<Amt Ccy='CNY'/>", True),  # required text missing
        ("<Amt Ccy='CNY'>twelve</Amt>", True),  # bad value
    ],
)
def test_text_and_attribute_classes(body: str, refused: bool) -> None:
    plan, ns = _amount_plan()
    amount = plan.children[f"{{{ns}}}CstmrCdtTrf"].plan
    assert amount is not None
    amount = amount.children[f"{{{ns}}}CstmrCdtTrfInf"].plan
    assert amount is not None
    amount = amount.children[f"{{{ns}}}Amt"].plan
    assert amount is not None
    element = etree.fromstring(body.replace("<Amt", f"<Amt xmlns='{ns}'"))
    result = _outcome(lambda: fast.decode(element, amount))
    assert result == _outcome(lambda: _reference_decode(element, amount))
    assert (result[0] != "ok") is refused


def test_every_generated_class_is_built_without_calling_init() -> None:
    """The direct construction (object.__new__ and one store per field) is used for every
    generated class; the ``cls(**kw)`` path exists for classes that do not qualify."""
    for mtype in TYPES:
        fast.plan_for(mtype.root_class)
    assert all(plain_init(cls) for cls in fast._PLANS)

    class Checked:
        def __init__(self, value: int) -> None:
            self.value = value

    assert not plain_init(Checked)


@pytest.mark.parametrize("cls", [Defaults, PostInit])
@pytest.mark.parametrize(
    "children",
    [
        "<req>a</req><needed>n</needed>",
        "<req>a</req><opt>o</opt><num>7</num><many>1</many><many>2</many><needed>n</needed>",
        "<req>a</req>",  # a required list missing
        "<needed>n</needed>",  # a required field missing
        "<req>a</req><req>b</req><needed>n</needed>",  # repeated
        "<req>a</req><num>seven</num><needed>n</needed>",  # bad value
        "<req>a</req><needed>n</needed><other/>",  # unknown
    ],
)
def test_construction_paths(cls: type, children: str) -> None:
    plan = fast.plan_for(cls)
    assert plain_init(cls) is (cls is Defaults)
    name = cls.Meta.name  # type: ignore[attr-defined]
    xml = f'<{name} xmlns="{NS_TEST}">{children}</{name}>'
    quick = _outcome(lambda: fast.decode(etree.fromstring(xml), plan))
    assert quick == _outcome(lambda: _reference_decode(etree.fromstring(xml), plan))
    if quick[0] == "ok":
        oracle = XmlParser(context=CONTEXT).from_string(xml, cls)
        assert fast.decode(etree.fromstring(xml), plan) == oracle


# --------------------------------------------------------------------------- the collector


def test_bound_objects_form_no_reference_cycles() -> None:
    """Why pausing the cyclic collector during a bind is safe: neither engine leaves
    anything only the collector could free."""
    for xml, mtype, _ in PARTS:  # first binds build plans, decoders and xsdata's metadata
        for engine in ("fast", "xsdata"):
            bind(parse_xml(xml), mtype, engine=engine)
    objects = []
    gc.collect()
    gc.disable()
    try:
        for xml, mtype, _ in PARTS:
            for engine in ("fast", "xsdata"):
                objects.append(bind(parse_xml(xml), mtype, engine=engine))
        objects.clear()
        assert gc.collect() == 0
    finally:
        gc.enable()


def _automatic_collection_paused() -> bool:
    return gc.get_threshold()[0] == 0


def test_collector_paused_during_a_fast_bind_and_restored_after(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    xml, mtype, _ = PARTS[0]
    seen: list[tuple[bool, bool]] = []
    real = fast.decode

    def spy(*args: Any, **kwargs: Any) -> Any:
        seen.append((_automatic_collection_paused(), gc.isenabled()))
        return real(*args, **kwargs)

    monkeypatch.setattr(fast, "decode", spy)
    before = gc.get_threshold()
    bind(parse_xml(xml), mtype, engine="fast")
    assert seen == [(True, True)]  # paused by the threshold; gc.isenabled() is the app's
    assert gc.get_threshold() == before and gc.isenabled()


def test_the_generic_binder_runs_with_the_collector_as_the_application_set_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from xsdata.formats.dataclass.parsers import XmlParser

    xml, mtype, _ = PARTS[0]
    seen: list[bool] = []
    real = XmlParser.parse

    def spy(*args: Any, **kwargs: Any) -> Any:
        seen.append(_automatic_collection_paused())
        return real(*args, **kwargs)

    monkeypatch.setattr(XmlParser, "parse", spy)
    bind(parse_xml(xml), mtype, engine="xsdata")
    assert seen == [False]


@pytest.mark.parametrize("was_enabled", [True, False])
def test_collector_state_restored_after_a_failed_bind(was_enabled: bool) -> None:
    mtype = catalog().get("pacs.008.001.08")
    bad = f'<Document xmlns="{mtype.namespace}"><FIToFICstmrCdtTrf><Bogus/></FIToFICstmrCdtTrf></Document>'
    before = gc.get_threshold()
    if not was_enabled:
        gc.disable()
    try:
        with pytest.raises(BindingError):
            bind(parse_xml(bad.encode()), mtype)
        assert gc.isenabled() is was_enabled
        assert gc.get_threshold() == before
    finally:
        gc.enable()


def test_collector_pauses_nest_across_threads() -> None:
    """Overlapping binds in two threads: the collector stays paused until the last ends."""
    from paymsg.codec.xml import gcpause

    inside = threading.Event()
    release = threading.Event()
    before = gc.get_threshold()

    def long_bind() -> None:
        with gcpause.paused_gc():
            inside.set()
            release.wait(5)

    worker = threading.Thread(target=long_bind)
    worker.start()
    assert inside.wait(5)
    xml, mtype, _ = PARTS[0]
    bind(parse_xml(xml), mtype)
    assert _automatic_collection_paused()  # the other bind is still running
    release.set()
    worker.join(5)
    assert gc.get_threshold() == before and gc.isenabled()


def _during_a_pause(change: Callable[[], None]) -> None:
    """``change`` made by the application (another thread) while a bind holds the pause."""
    from paymsg.codec.xml import gcpause

    inside = threading.Event()
    release = threading.Event()

    def long_bind() -> None:
        with gcpause.paused_gc():
            inside.set()
            release.wait(5)

    worker = threading.Thread(target=long_bind)
    worker.start()
    assert inside.wait(5)
    change()
    release.set()
    worker.join(5)


def test_a_bind_never_re_enables_a_collector_the_application_disabled_meanwhile() -> None:
    """Issue 10 item 9: the pause used gc.disable() and, at its end, gc.enable(), undoing
    an application's gc.disable() made while a bind ran."""
    try:
        _during_a_pause(gc.disable)
        assert not gc.isenabled()
    finally:
        gc.enable()


def test_a_bind_keeps_thresholds_the_application_set_meanwhile() -> None:
    before = gc.get_threshold()
    try:
        _during_a_pause(lambda: gc.set_threshold(5000, 20, 20))
        assert gc.get_threshold() == (5000, 20, 20)
    finally:
        gc.set_threshold(*before)


def test_a_bind_does_not_enable_a_collector_the_application_disabled_before() -> None:
    xml, mtype, _ = PARTS[0]
    gc.disable()
    try:
        bind(parse_xml(xml), mtype)
        assert not gc.isenabled()
    finally:
        gc.enable()


def _collections_during(run: Callable[[], Any]) -> int:
    starts: list[int] = []

    def count(phase: str, info: dict[str, Any]) -> None:
        if phase == "start":
            starts.append(info["generation"])

    gc.callbacks.append(count)
    try:
        run()
    finally:
        gc.callbacks.remove(count)
    return len(starts)


def test_a_long_bind_does_not_keep_the_collector_off_for_its_whole_length() -> None:
    """Issue 10 item 9: the collector stayed off process-wide for the whole of a long bind
    (6 s measured); now a young collection runs every GC_CHUNK repeated elements, so
    cyclic garbage other threads make meanwhile is still reclaimed."""
    from benchmarks import messages
    from paymsg.codec.xml import gcpause

    mtype = catalog().get("camt.053.001.08")
    entries = 4 * gcpause.GC_CHUNK
    document = split_parts(parse_xml(messages.camt053(entries))).document
    bind(copy.deepcopy(document), mtype)  # decoders compiled
    statement = None

    def run() -> None:
        nonlocal statement
        statement = bind(copy.deepcopy(document), mtype)

    assert _collections_during(run) >= 4
    assert statement is not None
    assert len(statement.bk_to_cstmr_stmt.stmt[0].ntry) == entries
    gc.disable()  # and none at all while the application has the collector disabled
    try:
        assert _collections_during(run) == 0
    finally:
        gc.enable()
