"""The fast binding engine: lxml tree ⇄ generated dataclasses through precomputed plans.

For each generated class a :class:`Plan` is built once from xsdata's own metadata (so
names, order and types cannot drift from the generic binder): a tag → field table for
children, the attributes, the text field and a converter per simple type. Decoding
runs a decoder function generated from the plan (Python source built and compiled at
run time, once per class, see :mod:`paymsg.codec.xml.codegen_runtime`), which walks the
lxml tree once; encoding writes the indented XML text directly. Anything the plans do
not cover — an unknown element, a missing required field, content under an ``xs:any``
wildcard — raises :class:`Unsupported`, and the caller falls back to xsdata's generic
binder, which is the oracle (a differential test checks that both engines give equal
objects and equal XML).
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from enum import Enum
from typing import Any

from lxml import etree
from xsdata.formats.converter import converter
from xsdata.models.datatype import XmlDate, XmlDateTime, XmlDuration, XmlPeriod, XmlTime

from paymsg.codec import lexical
from paymsg.codec.lexical import XML_SPACE
from paymsg.codec.xml.codegen_runtime import (
    Slot,
    Source,
    compile_once,
    emit_construct,
    emit_dispatch,
)
from paymsg.codec.xml.context import CONTEXT
from paymsg.codec.xml.gcpause import GC_CHUNK, breathe
from paymsg.codec.xml.safe import local_name, namespace_of
from paymsg.errors import BindingError
from paymsg.schema.catalog import catalog


class Unsupported(Exception):
    """The fast engine cannot handle this input; use the generic binder."""


Decoder = Callable[[str], Any]
Encoder = Callable[[Any], str]


def _text(text: str) -> str:
    return text


def _memo(parse: Decoder, size: int = 4096) -> Decoder:
    """``parse`` with a bounded cache of its results, for dates: their values are
    immutable (``XmlDate`` is a named tuple) and their texts repeat a lot (settlement,
    booking and value dates of one day). A text that fails is never cached."""
    cache: dict[str, Any] = {}

    def cached(text: str) -> Any:
        value = cache.get(text)
        if value is None:
            value = parse(text)
            if len(cache) >= size:
                cache.clear()
            cache[text] = value
        return value

    return cached


#: the converter per simple type: each reads only its XSD lexical space (see
#: :mod:`paymsg.codec.lexical`) and raises ``LexicalError`` (a ``ValueError``) otherwise
_DECODERS: dict[type, Decoder] = {
    str: _text,
    Decimal: lexical.decimal,
    int: lexical.integer,
    bool: lexical.boolean,
    XmlDate: _memo(lexical.date),
    XmlDateTime: lexical.date_time,
    XmlTime: lexical.time,
    XmlDuration: lexical.duration,
    XmlPeriod: lexical.period,
}


class EnumDecoder:
    """Text → member of an enumeration, matched exactly (an enumeration's base is
    xs:string, whose whitespace is preserved); the generated decoders use ``members``
    inline."""

    __slots__ = ("kind", "members")

    def __init__(self, kind: type[Enum]) -> None:
        self.kind = kind
        self.members: dict[Any, Enum] = {member.value: member for member in kind}

    def __call__(self, text: str) -> Any:
        try:
            return self.members[text]
        except KeyError:
            raise Unsupported(text) from None


def _decoder(types: tuple[type, ...]) -> Decoder:
    if len(types) != 1:
        raise Unsupported(f"union of simple types {types}")
    kind = types[0]
    if isinstance(kind, type) and issubclass(kind, Enum):
        return EnumDecoder(kind)
    if kind in _DECODERS:
        return _DECODERS[kind]
    raise Unsupported(f"simple type {kind}")


def _encoder(types: tuple[type, ...]) -> Encoder:
    kind = types[0] if len(types) == 1 else None
    if kind is str:
        return lambda value: value
    if isinstance(kind, type) and issubclass(kind, Enum):
        return lambda value: value.value
    if kind is bool:
        return lambda value: "true" if value else "false"
    if kind in (XmlDate, XmlDateTime, XmlTime, XmlDuration, XmlPeriod):
        return str
    return converter.serialize  # Decimal and anything else: xsdata's own lexical form


@dataclass(slots=True)
class Child:
    name: str
    qname: str
    repeated: bool
    plan: Plan | None  # complex child
    decode: Decoder | None  # simple child
    encode: Encoder | None


@dataclass(slots=True)
class Plan:
    cls: type
    qname: str
    children: dict[str, Child]
    order: list[Child]
    attributes: list[tuple[str, str, Decoder, Encoder]]  # qname, field, decode, encode
    text: tuple[str, Decoder, Encoder] | None
    wildcard: bool
    #: the generated decoder (element → instance) and its name, made on first use
    decoder: Slot = field(default_factory=Slot)


_PLANS: dict[type, Plan] = {}
_UNSUPPORTED: set[type] = set()


def plan_for(cls: type) -> Plan:
    """The plan of ``cls`` (built once; recursive types resolved lazily)."""
    plan = _PLANS.get(cls)
    if plan is not None:
        return plan
    if cls in _UNSUPPORTED:
        raise Unsupported(cls.__name__)
    meta = CONTEXT.build(cls)
    plan = Plan(cls, meta.qname, {}, [], [], None, False)
    _PLANS[cls] = plan  # before recursing: message components are recursive in places
    try:
        _build(plan, meta)
    except Unsupported:
        del _PLANS[cls]
        _UNSUPPORTED.add(cls)
        raise
    return plan


def _build(plan: Plan, meta: Any) -> None:
    cls = plan.cls
    for var in meta.get_all_vars():
        if var.is_wildcard or var.is_attributes:
            plan.wildcard = True
        elif var.is_attribute:
            plan.attributes.append((var.qname, var.name, _decoder(var.types), _encoder(var.types)))
        elif var.is_text:
            plan.text = (var.name, _decoder(var.types), _encoder(var.types))
        elif var.is_element:
            if var.clazz is not None:
                sub = plan_for(var.clazz)
                child = Child(var.name, var.qname, var.list_element, sub, None, None)
            else:
                child = Child(
                    var.name,
                    var.qname,
                    var.list_element,
                    None,
                    _decoder(var.types),
                    _encoder(var.types),
                )
            plan.children[var.qname] = child
            plan.order.append(child)
        else:
            raise Unsupported(f"{cls.__name__}.{var.name}")


# --------------------------------------------------------------------------- decode


def decode(element: etree._Element, plan: Plan) -> Any:
    """Bind ``element`` with ``plan``; :class:`Unsupported` when the generic binder is needed.

    A decoder accepts exactly what the plan describes: attributes and text where the
    class has them, each child element known by its tag and converted by its field's
    type, repeated only where the field is a list, with every required field present.
    Comments and processing instructions are skipped; any other element, a child with
    element content where a simple value belongs, a second occurrence of a single
    field, a missing required field or a value its type rejects raises
    :class:`Unsupported` (or the converter's ``ValueError``/``TypeError``).
    """
    decoder = plan.decoder.function
    if decoder is None:
        decoder = _compile(plan)
    return decoder(element)


#: The globals of all generated decoders: each refers to its constants (tags, classes,
#: converters, enum tables) and to the decoders of its complex children by name, so that
#: recursive types need no forward references.
_ENV: dict[str, Any] = {
    "__builtins__": {"len": len, "isinstance": isinstance, "str": str, "TypeError": TypeError},
    "Unsupported": Unsupported,
    "new": object.__new__,
    "breathe": breathe,
}


def _compile(root: Plan) -> Callable[[etree._Element], Any]:
    """Generate, compile and attach the decoders of ``root`` and of every plan it reaches."""
    return compile_once(
        root,
        slot=lambda plan: plan.decoder,
        label=lambda plan: f"decode_{plan.cls.__name__}",
        children=lambda plan: [child.plan for child in plan.order if child.plan is not None],
        generate=_source,
        env=_ENV,
        filename="<paymsg.codec.xml.fast decoders>",
    )


def _source(plan: Plan, src: Source) -> None:
    """``def <name>(el): ... return o``: element ``el`` decoded with ``plan`` into ``o``.

    Field values live in locals ``v0``, ``v1``, … (``None`` until seen, lists start
    empty); attributes are read only where the plan has them, the text only where the
    class has a text field; children go through a tag dispatch (``if``/``elif`` on the
    tag for a few, else a tag → index table and a binary search on the index) to code
    specialised per field: a call to the child plan's decoder, or the text converted
    inline (``str``: as is; enumerations: a table lookup; others: their converter).
    """
    src.emit(0, f"def {src.name}(el):")
    local: dict[str, str] = {}  # field name → local variable
    lists: set[str] = set()
    for qname, field_name, conv, _ in plan.attributes:
        var = local[field_name] = f"v{len(local)}"
        src.emit(1, f"{var} = el.get({src.const(qname)})")
        if conv is not _text:
            src.emit(1, f"if {var} is not None:")
            src.emit(2, f"{var} = {src.const(conv)}({var})")
    for child in plan.order:
        var = local[child.name] = f"v{len(local)}"
        if child.repeated:
            lists.add(child.name)
            src.emit(1, f"{var} = []")
        else:
            src.emit(1, f"{var} = None")
    element_only = plan.text is None  # no model type is mixed
    if element_only:  # character data here would be lost: not whitespace is refused
        # (XML text has no ASCII control characters, so ASCII ``isspace`` is XML whitespace)
        src.emit(1, "t = el.text")
        src.emit(1, "if t is not None and not (t.isspace() and t.isascii()):")
        src.fail(2, "Unsupported", "character data in element-only content")
    if plan.children:
        src.emit(1, "for node in el[:]:")  # a slice is cheaper than iterating the element
        if element_only:
            src.emit(2, "t = node.tail")
            src.emit(2, "if t is not None and not (t.isspace() and t.isascii()):")
            src.fail(3, "Unsupported", "character data in element-only content")
        src.emit(2, "tag = node.tag")
        entries = [
            (qname, functools.partial(_handle, src, child=child, var=local[child.name]))
            for qname, child in plan.children.items()
        ]
        emit_dispatch(src, 2, "tag", entries, functools.partial(_unknown, src))
    else:  # no child elements belong here: any element is unknown content
        src.emit(1, "if len(el):")
        src.emit(2, "for node in el:")
        src.emit(3, "if isinstance(node.tag, str):")
        src.emit(4, "raise Unsupported(node.tag)")
    if plan.text is not None:
        field_name, conv, _ = plan.text
        var = local[field_name] = f"v{len(local)}"
        src.emit(1, f"{var} = el.text")
        if conv is not _text:
            src.emit(1, f"if {var} is not None:")
            src.emit(2, f"{var} = {src.const(conv)}({var})")
    # Absent values are ``None`` (no converter returns ``None``) and absent lists are
    # empty, exactly as the interpreted engine left them out of the arguments.
    emit_construct(src, plan.cls, local, lists, "Unsupported", messages=True)
    src.emit(1, "return o")


def _unknown(src: Source, depth: int) -> None:
    src.emit(depth, "if isinstance(tag, str):")
    src.emit(depth + 1, "raise Unsupported(tag)  # unknown element or wildcard content")
    src.emit(depth, "continue  # comments and processing instructions")


def _handle(src: Source, depth: int, child: Child, var: str) -> None:
    """Child element ``node`` bound to field variable ``var``, with the checks in the order
    of the interpreted engine: content, conversion, then repetition."""
    if child.plan is not None:
        src.emit(depth, f"value = {child.plan.decoder.name}(node)")
    else:
        src.emit(depth, "if len(node):")
        src.fail(depth + 1, "Unsupported", f"{child.qname} has child elements but a simple type")
        conv = child.decode
        text = 'node.text or ""'
        if conv is _text:
            if not child.repeated:  # cannot fail: check repetition first, store directly
                src.emit(depth, f"if {var} is not None:")
                src.fail(depth + 1, "Unsupported", f"{child.qname} repeated")
                src.emit(depth, f"{var} = {text}")
                return
            src.emit(depth, f"value = {text}")
        elif isinstance(conv, EnumDecoder):
            src.emit(depth, f"value = {src.const(conv.members.get)}({text})")
            src.emit(depth, "if value is None:")
            src.emit(depth + 1, f"raise Unsupported({text})")
        else:
            src.emit(depth, f"value = {src.const(conv)}({text})")
    if child.repeated:
        src.emit(depth, f"{var}.append(value)")
        if child.plan is not None:  # a long list: let the collector run now and then
            src.emit(depth, f"if not len({var}) & {GC_CHUNK - 1}:")
            src.emit(depth + 1, "breathe()")
        return
    src.emit(depth, f"if {var} is not None:")
    src.fail(depth + 1, "Unsupported", f"{child.qname} repeated")
    src.emit(depth, f"{var} = value")


# --------------------------------------------------------------------------- value check


def check_values(element: etree._Element, plan: Plan, *, source: str | None = None) -> None:
    """Raise a located :class:`~paymsg.errors.BindingError` for the first simple value of
    ``element`` (in document order) that its type does not read: a text, attribute or
    child value outside its XSD lexical space (:mod:`paymsg.codec.lexical`), an empty
    element of a non-string type, a code outside its enumeration.

    The generated decoders refuse such values as they go; xsdata's generic binder does
    not (it reads ``１２`` or ``NaN`` as numbers, strips codes, and binds an empty element
    of any type as ``""``), so every bind that ends in the generic binder is checked with
    this first. Elements the plan does not know (``xs:any`` content, unknown elements)
    are not looked into: the binder deals with them.
    """
    stack: list[tuple[etree._Element, Plan]] = [(element, plan)]
    while stack:
        node, node_plan = stack.pop()
        if node_plan.text is None:  # no model type is mixed
            _element_only(node, source)
        for qname, _, conv, _ in node_plan.attributes:
            value = node.get(qname)
            if value is not None and conv is not _text:
                _check(conv, value, node, source, "/@" + qname.rpartition("}")[2])
        if node_plan.text is not None and node_plan.text[1] is not _text:
            _check(node_plan.text[1], node.text or "", node, source)
        if not node_plan.children:
            continue
        nested: list[tuple[etree._Element, Plan]] = []
        for child_node in node:
            child = node_plan.children.get(child_node.tag)
            if child is None:
                continue
            if child.plan is not None:
                nested.append((child_node, child.plan))
            elif child.decode is not _text and not len(child_node):
                assert child.decode is not None
                _check(child.decode, child_node.text or "", child_node, source)
        stack.extend(reversed(nested))


def _element_only(node: etree._Element, source: str | None) -> None:
    """Character data other than whitespace where only elements belong (it would be lost:
    xsdata's binder drops it with a log message, libxml2 calls it an error)."""
    pieces = [(node.text, node)] + [(child.tail, child) for child in node]
    for text, where in pieces:
        if text is not None and text.strip(XML_SPACE):
            at = where if where is node else node
            raise BindingError(
                f"character data {text.strip(XML_SPACE)[:40]!r} where only elements are "
                f"allowed" + ("" if where is node else f" (after <{local_name(where.tag)}>)"),
                source=source,
                line=where.sourceline if where is not node else node.sourceline,
                path=element_path(at),
            )


def _check(
    conv: Decoder, text: str, node: etree._Element, source: str | None, attribute: str = ""
) -> None:
    try:
        conv(text)
    except (Unsupported, ValueError, TypeError) as exc:
        where = element_path(node) + attribute
        if isinstance(exc, lexical.LexicalError):
            what = str(exc)
        elif isinstance(conv, EnumDecoder):
            codes = ", ".join(sorted(conv.members))
            what = f"{text!r} is not a code of {conv.kind.__name__} ({codes})"
        else:
            what = f"{text!r} is not a valid value here"
        raise BindingError(
            f"value {what}", source=source, line=node.sourceline, path=where
        ) from None


# --------------------------------------------------------------------------- text output


def escape_text(text: str) -> str:
    """``text`` as XML character data (``\r`` kept as a character reference)."""
    if "&" in text or "<" in text or ">" in text or "\r" in text:
        text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
        text = text.replace("\r", "&#13;")
    return text


def escape_attr(text: str) -> str:
    """``text`` as a double-quoted XML attribute value."""
    text = escape_text(text)
    if '"' in text or "\n" in text or "\t" in text:
        text = text.replace('"', "&quot;").replace("\n", "&#10;").replace("\t", "&#9;")
    return text


def write(obj: Any, plan: Plan, namespace: str, extra: str = "") -> str:
    """Indented XML text of ``obj`` (two spaces a level, the namespace as the default one),
    written directly as text; the same bytes as building the tree and indenting it.
    ``extra`` is attribute text for the root's start tag, after the namespace."""
    out: list[str] = []
    name = plan.qname.rpartition("}")[2]
    write_element(obj, plan, name, out, "", f' xmlns="{escape_attr(namespace)}"{extra}')
    return "".join(out)


def write_element(
    obj: Any, plan: Plan, name: str, out: list[str], pad: str, extra: str = ""
) -> None:
    if plan.wildcard:
        raise Unsupported("wildcard content")
    attrs = extra
    for qname, field_name, _, enc in plan.attributes:
        value = getattr(obj, field_name)
        if value is not None:
            attrs += f' {qname.rpartition("}")[2]}="{escape_attr(enc(value))}"'
    text = None
    if plan.text is not None:
        field_name, _, enc = plan.text
        value = getattr(obj, field_name)
        if value is not None:
            text = enc(value)
    children: list[tuple[Child, Any]] = []
    for child in plan.order:
        value = getattr(obj, child.name)
        if value is None:
            continue
        if child.repeated:
            children.extend((child, item) for item in value)
        else:
            children.append((child, value))
    if not children:
        if text is None:
            out.append(f"{pad}<{name}{attrs}/>")
        else:
            out.append(f"{pad}<{name}{attrs}>{escape_text(text)}</{name}>")
        return
    if text is not None:
        raise Unsupported("mixed content")
    out.append(f"{pad}<{name}{attrs}>")
    inner = pad + "  "
    for child, value in children:
        out.append("\n")
        tag = child.qname.rpartition("}")[2]
        if child.plan is not None:
            if type(value) is not child.plan.cls:
                raise Unsupported(f"{type(value).__name__} in {child.name}")
            write_element(value, child.plan, tag, out, inner)
        else:
            assert child.encode is not None
            out.append(f"{inner}<{tag}>{escape_text(child.encode(value))}</{tag}>")
    out.append(f"\n{pad}</{name}>")


# --------------------------------------------------------------------------- paths


def element_path(element: etree._Element) -> str:
    """Element-name path with 1-based indexes on repeatable elements.

    ``/Document/FIToFICstmrCdtTrf/CdtTrfTxInf[1]/IntrBkSttlmAmt``: inside a catalogued
    message part, an element the schema lets repeat always carries its index (also when it
    occurs once); elsewhere (wrappers, unknown elements), only repeated siblings do.
    """
    chain = [element, *element.iterancestors()]
    chain.reverse()
    parts: list[str] = []
    plan: Any = None
    for node in chain:
        name = local_name(node.tag)
        repeatable = False
        if plan is not None:
            child = plan.children.get(node.tag)
            repeatable = child is not None and child.repeated
            plan = child.plan if child is not None else None
        else:
            plan = _part_plan(node)
        parent = node.getparent()
        if parent is not None:
            same = [c for c in parent if c.tag == node.tag]
            if repeatable or len(same) > 1:
                name += f"[{same.index(node) + 1}]"
        parts.append(name)
    return "/" + "/".join(parts)


def _part_plan(node: etree._Element) -> Any:
    """The binding plan of a catalogued message part rooted at ``node`` (else None)."""
    tag = node.tag
    if not isinstance(tag, str):
        return None
    mtype = catalog().by_namespace(namespace_of(tag))
    if mtype is None or mtype.root != local_name(tag):
        return None
    try:
        return plan_for(mtype.root_class)
    except Unsupported:
        return None
