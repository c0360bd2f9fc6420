"""The fast binding engine: lxml tree ⇄ generated dataclasses through precomputed plans.

For each generated class a :class:`Plan` is built once from xsdata's own metadata (so
names, order and types cannot drift from the generic binder): a tag → field table for
children, the attributes, the text field and a converter per simple type. Decoding
walks the lxml tree once with plain dict lookups; encoding writes the indented XML
text directly. Anything the plans do not cover — an unknown element, a missing required
field, content under an ``xs:any`` wildcard — raises :class:`Unsupported`, and the
caller falls back to xsdata's generic binder, which is the oracle (a differential test
checks that both engines give equal objects and equal XML).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation
from enum import Enum
from typing import Any

from lxml import etree
from xsdata.formats.converter import converter
from xsdata.models.datatype import XmlDate, XmlDateTime, XmlDuration, XmlPeriod, XmlTime

from paymsg.codec.binding import CONTEXT


class Unsupported(Exception):
    """The fast engine cannot handle this input; use the generic binder."""


Decoder = Callable[[str], Any]
Encoder = Callable[[Any], str]


def _decimal(text: str) -> Decimal:
    try:
        return Decimal(text)
    except InvalidOperation:
        raise Unsupported(text) from None


def _bool(text: str) -> bool:
    value = text.strip()
    if value in ("true", "1"):
        return True
    if value in ("false", "0"):
        return False
    raise Unsupported(text)


_DATE = re.compile(r"(\d{4})-(\d\d)-(\d\d)")
_DATE_TIME = re.compile(
    r"(\d{4})-(\d\d)-(\d\d)T(\d\d):(\d\d):(\d\d)(?:\.(\d{1,9}))?(Z|[+-]\d\d:\d\d)?"
)


def _offset(zone: str | None) -> int | None:
    if zone is None:
        return None
    if zone == "Z":
        return 0
    minutes = int(zone[1:3]) * 60 + int(zone[4:6])
    return -minutes if zone[0] == "-" else minutes


def _date(text: str) -> XmlDate:
    """The common ``YYYY-MM-DD`` form directly; anything else goes to xsdata's parser."""
    match = _DATE.fullmatch(text)
    if match is None:
        return XmlDate.from_string(text)
    year, month, day = int(match[1]), int(match[2]), int(match[3])
    try:
        date(year, month, day)
    except ValueError:
        raise Unsupported(text) from None
    return XmlDate(year, month, day)


def _date_time(text: str) -> XmlDateTime:
    match = _DATE_TIME.fullmatch(text)
    if match is None:
        return XmlDateTime.from_string(text)
    year, month, day = int(match[1]), int(match[2]), int(match[3])
    hour, minute, second = int(match[4]), int(match[5]), int(match[6])
    try:
        date(year, month, day)
    except ValueError:
        raise Unsupported(text) from None
    if hour > 23 or minute > 59 or second > 59:
        raise Unsupported(text)
    fraction = int(match[7].ljust(9, "0")) if match[7] else 0
    return XmlDateTime(year, month, day, hour, minute, second, fraction, _offset(match[8]))


_DECODERS: dict[type, Decoder] = {
    str: lambda text: text,
    Decimal: _decimal,
    int: lambda text: int(text),
    bool: _bool,
    XmlDate: _date,
    XmlDateTime: _date_time,
    XmlTime: XmlTime.from_string,
    XmlDuration: XmlDuration,
    XmlPeriod: XmlPeriod,
}


def _decoder(types: tuple[type, ...]) -> Decoder:
    if len(types) != 1:
        raise Unsupported(f"union of simple types {types}")
    kind = types[0]
    if isinstance(kind, type) and issubclass(kind, Enum):
        members = {member.value: member for member in kind}

        def enum(text: str) -> Any:
            try:
                return members[text]
            except KeyError:
                raise Unsupported(text) from None

        return enum
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
    #: tag → (field, repeated, plan of a complex child, decoder of a simple child)
    dispatch: dict[str, tuple[str, bool, Plan | None, Decoder | None]]


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
    plan = Plan(cls, meta.qname, {}, [], [], None, False, {})
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
            plan.dispatch[var.qname] = (child.name, child.repeated, child.plan, child.decode)
            plan.order.append(child)
        else:
            raise Unsupported(f"{cls.__name__}.{var.name}")


# --------------------------------------------------------------------------- decode


def decode(element: etree._Element, plan: Plan) -> Any:
    """Bind ``element`` with ``plan``; :class:`Unsupported` when the generic binder is needed."""
    kwargs: dict[str, Any] = {}
    for qname, name, conv, _ in plan.attributes:
        value = element.get(qname)
        if value is not None:
            kwargs[name] = conv(value)
    dispatch = plan.dispatch
    for node in element:
        entry = dispatch.get(node.tag)
        if entry is None:
            if isinstance(node.tag, str):
                raise Unsupported(node.tag)  # unknown element or wildcard content
            continue  # comments and processing instructions
        name, repeated, sub, text_of = entry
        if sub is not None:
            value = decode(node, sub)
        elif len(node):
            raise Unsupported(f"{node.tag} has child elements but a simple type")
        else:
            assert text_of is not None
            value = text_of(node.text or "")
        if repeated:
            bucket = kwargs.get(name)
            if bucket is None:
                kwargs[name] = [value]
            else:
                bucket.append(value)
        elif name in kwargs:
            raise Unsupported(f"{node.tag} repeated")
        else:
            kwargs[name] = value
    if plan.text is not None and element.text is not None:
        name, conv, _ = plan.text
        kwargs[name] = conv(element.text)
    try:
        return plan.cls(**kwargs)
    except TypeError as exc:  # a required field is missing
        raise Unsupported(str(exc)) from None


# --------------------------------------------------------------------------- text output


def _escape_text(text: str) -> str:
    if "&" in text or "<" in text or ">" in text or "\r" in text:
        text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
        text = text.replace("\r", "&#13;")
    return text


def _escape_attr(text: str) -> str:
    text = _escape_text(text)
    if '"' in text or "\n" in text or "\t" in text:
        text = text.replace('"', "&quot;").replace("\n", "&#10;").replace("\t", "&#9;")
    return text


def write(obj: Any, plan: Plan, namespace: str) -> str:
    """Indented XML text of ``obj`` (two spaces a level, the namespace as the default one),
    written directly as text; the same bytes as building the tree and indenting it."""
    out: list[str] = []
    name = plan.qname.rpartition("}")[2]
    _write(obj, plan, name, out, "", f' xmlns="{_escape_attr(namespace)}"')
    return "".join(out)


def _write(obj: Any, plan: Plan, name: str, out: list[str], pad: str, extra: str = "") -> None:
    if plan.wildcard:
        raise Unsupported("wildcard content")
    attrs = extra
    for qname, field_name, _, enc in plan.attributes:
        value = getattr(obj, field_name)
        if value is not None:
            attrs += f' {qname.rpartition("}")[2]}="{_escape_attr(enc(value))}"'
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
            out.append(f"{pad}<{name}{attrs}>{_escape_text(text)}</{name}>")
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
            _write(value, child.plan, tag, out, inner)
        else:
            assert child.encode is not None
            out.append(f"{inner}<{tag}>{_escape_text(child.encode(value))}</{tag}>")
    out.append(f"\n{pad}</{name}>")
