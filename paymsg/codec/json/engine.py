"""Compact JSON for messages: ``{"type": …, "envelope": …, "document": …}``.

Keys are the ISO/CNAPS XML tag names; absent optional elements are omitted (never
``null``); repeatable elements are always arrays; amounts and other decimals are
strings, so no value passes through a float. An element with attributes and a value
(an amount) is ``{"@Ccy": "CNY", "#text": "100.00"}``. Content the schema allows but
the model does not type (``xs:any``, e.g. supplementary data) is kept as XML text
under ``"#any"``, so it survives the round trip. ``xsi:*`` attributes on the
``Document`` root are the top-level ``"xsi"`` member (``{"schemaLocation": "…"}``), those
on an ``AppHdr`` the envelope's ``"header_xsi"``; both are written only when present.

Two engines give the same results. The generic one reads xsdata's metadata for every
object (``_generic_to_data`` / ``_generic_from_data``); it is the reference, and it
handles everything. The fast one works from a :class:`_Shape` per class, built once
from the same metadata and from the class's :func:`paymsg.codec.xml.fast.plan_for` plan
(its JSON keys in output order, its fields, a converter per simple type): three
functions are generated from each shape and compiled once, as the XML decoders of
:mod:`paymsg.codec.xml.fast` are (both through :mod:`paymsg.codec.xml.codegen_runtime`):

- ``to_data``: the object as plain data (dicts, lists, strings, booleans);
- ``write``: the object as indented JSON text, laid out byte for byte the way
  ``json.dumps(to_data(obj), ensure_ascii=False, indent=…)`` lays it out, without
  building the plain data first (``json.dumps`` with an indent runs in pure Python);
- ``load``: plain data back to the object.

The fast functions cover the ordinary case and hand everything else to the generic
engine: an object with ``xs:any`` content is written and read generically; a value
whose run-time type is not the one the shape expects is converted by
:func:`value_out`; a value a fast decoder refuses goes to xsdata's converter. When
``load`` meets anything it cannot take as is (a value of the wrong JSON type, an
unknown member, a missing required field, a value no converter accepts) it gives up
and the generic engine reads the whole document again, which raises the located
:class:`~paymsg.errors.BindingError` (tests/codec/test_json_engines.py checks that both
engines give identical text, equal objects and identical errors).
"""

from __future__ import annotations

import dataclasses
import functools
import json
import keyword
import re
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, fields, is_dataclass
from decimal import Decimal
from enum import Enum
from json.encoder import encode_basestring
from typing import Any, Literal

from lxml import etree
from pydantic import ValidationError
from xsdata.formats.converter import converter
from xsdata.formats.dataclass.models.elements import XmlMeta, XmlVar
from xsdata.models.datatype import XmlDate, XmlDateTime, XmlDuration, XmlPeriod, XmlTime

from paymsg.codec import lexical
from paymsg.codec.envelope import cnaps2
from paymsg.codec.envelope.bah import fill_wrapper
from paymsg.codec.message import BusinessEnvelope, Message
from paymsg.codec.xml import fast
from paymsg.codec.xml.codegen_runtime import (
    Slot,
    Source,
    compile_once,
    emit_construct,
    emit_dispatch,
)
from paymsg.codec.xml.context import CONTEXT, generic_parser, generic_serializer
from paymsg.codec.xml.gcpause import paused_gc
from paymsg.codec.xml.safe import DEFAULT_LIMITS, Limits, parse_xml
from paymsg.errors import BindingError, EnvelopeError, InputError
from paymsg.schema.catalog import MessageType, catalog

TEXT = "#text"
ANY = "#any"

Engine = Literal["fast", "generic"]


def _meta(cls: type) -> XmlMeta:
    return CONTEXT.build(cls)


def _scalar_out(value: Any) -> Any:
    if isinstance(value, bool | str):
        return value
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, Decimal | int | float):
        return converter.serialize(value)
    return str(value)  # XmlDate, XmlDateTime, XmlTime, Duration keep their lexical form


# --------------------------------------------------------------------------- generic engine


def _generic_to_data(obj: Any) -> dict[str, Any]:
    """``obj`` as plain data, read through xsdata's metadata (the reference engine)."""
    meta = _meta(type(obj))
    out: dict[str, Any] = {}
    wildcards: list[Any] = []
    for var in sorted(meta.get_all_vars(), key=lambda v: not v.is_attribute):
        value = getattr(obj, var.name)
        if value is None or (var.list_element and not value):
            continue
        if var.is_wildcard or var.is_attributes:
            wildcards.extend(value if isinstance(value, list) else [value])
            continue
        key = f"@{var.local_name}" if var.is_attribute else TEXT if var.is_text else var.local_name
        if var.list_element:
            out[key] = [_generic_value_out(v) for v in value]
        else:
            out[key] = _generic_value_out(value)
    if wildcards:
        out[ANY] = _wildcard_xml(obj, meta)
    return out


def _generic_value_out(value: Any) -> Any:
    return (
        _generic_to_data(value)
        if is_dataclass(value) and not isinstance(value, type)
        else _scalar_out(value)
    )


def _wildcard_xml(obj: Any, meta: XmlMeta) -> list[str]:
    """The wildcard children of ``obj`` as standalone XML fragments."""
    serializer = generic_serializer(indented=False)
    holder = etree.fromstring(serializer.render(obj).encode("utf-8"))
    known = {var.qname for var in meta.get_element_vars() if not var.is_wildcard}
    fragments = []
    for child in holder:
        if isinstance(child.tag, str) and child.tag not in known:
            child.tail = None
            fragments.append(etree.tostring(child, encoding="unicode"))
    return fragments


def _generic_from_data(cls: type, data: Any, path: str = "") -> Any:
    """An object of ``cls`` from plain data, read through xsdata's metadata (the
    reference engine: it locates every problem it finds)."""
    if not isinstance(data, dict):
        raise BindingError(f"expected an object, found {type(data).__name__}", path=path or "/")
    meta = _meta(cls)
    by_key: dict[str, XmlVar] = {}
    for var in meta.get_all_vars():
        if var.is_wildcard or var.is_attributes:
            continue
        by_key[
            f"@{var.local_name}" if var.is_attribute else TEXT if var.is_text else var.local_name
        ] = var
    kwargs: dict[str, Any] = {}
    for key, value in data.items():
        if key == ANY:
            continue
        if key not in by_key:
            raise BindingError(f"unknown member {key!r} for {cls.__name__}", path=f"{path}/{key}")
        var = by_key[key]
        where = f"{path}/{key}"
        if var.list_element:
            if not isinstance(value, list):
                raise BindingError(f"{key} repeats, so it must be an array", path=where)
            kwargs[var.name] = [
                _generic_value_in(var, v, f"{where}[{i + 1}]") for i, v in enumerate(value)
            ]
        else:
            kwargs[var.name] = _generic_value_in(var, value, where)
    if ANY in data:
        kwargs.update(_wildcards_in(cls, meta, data[ANY], f"{path}/{ANY}"))
    try:
        return cls(**kwargs)
    except TypeError as exc:
        missing = [f.name for f in fields(cls) if f.name not in kwargs]
        raise BindingError(
            f"cannot build {cls.__name__}: {exc}"
            + (f" (missing: {', '.join(missing)})" if missing else ""),
            path=path or "/",
        ) from None


def deserialize(text: str, types: Sequence[type], format_: str | None) -> Any:
    """A JSON string read as the XML reader reads the same text: a simple type only from
    its XSD lexical space (full-width digits, ``NaN`` or an exponent are refused, as in
    XML), an enumeration of strings matched exactly; anything else by xsdata's converter."""
    if len(types) == 1:
        kind = types[0]
        reader = lexical.READERS.get(kind)
        if reader is not None:
            return reader(text)
        if isinstance(kind, type) and issubclass(kind, Enum):
            values = [member.value for member in kind]
            if all(isinstance(value, str) for value in values):
                if text in values:
                    return kind(text)
                raise ValueError(f"{text!r} is not one of {', '.join(map(repr, values))}")
    return converter.deserialize(text, types, format=format_)


def _generic_value_in(var: XmlVar, value: Any, path: str) -> Any:
    if var.clazz is not None:
        return _generic_from_data(var.clazz, value, path)
    if isinstance(value, bool) and bool in var.types:
        return value
    if not isinstance(value, str):
        raise BindingError(f"expected a string, found {json.dumps(value)}", path=path)
    try:
        return deserialize(value, var.types, var.format)
    except Exception as exc:  # xsdata raises ConverterError and ValueError subclasses
        raise BindingError(f"invalid value {value!r}: {exc}", path=path) from None


def _wildcards_in(cls: type, meta: XmlMeta, fragments: Any, path: str) -> dict[str, Any]:
    wildcards = [var.name for var in meta.get_all_vars() if var.is_wildcard]
    if not wildcards:
        raise BindingError(
            f"{cls.__name__} takes no xs:any content: unknown member {ANY!r}", path=path
        )
    if not isinstance(fragments, list) or not all(isinstance(f, str) for f in fragments):
        raise BindingError("#any must be an array of XML strings", path=path)
    ns = meta.namespace or ""
    wrapper = etree.Element(f"{{{ns}}}{meta.qname.rsplit('}', 1)[-1]}" if ns else meta.qname)
    for fragment in fragments:
        wrapper.append(parse_xml(fragment.encode("utf-8"), source=path))
    try:
        parsed: Any = generic_parser().from_bytes(etree.tostring(wrapper), cls)
    except Exception as exc:  # xsdata's ParserError, or a class that needs more than #any
        raise BindingError(f"#any content does not fit {cls.__name__}: {exc}", path=path) from None
    return {name: getattr(parsed, name) for name in wildcards}


# --------------------------------------------------------------------------- fast engine: shapes


class _Fallback(Exception):
    """The fast ``load`` cannot take this data as is: the generic engine reads it."""


#: the simple types written as ``str(value)`` (their lexical form), as ``_scalar_out`` does
_LEXICAL = (XmlDate, XmlDateTime, XmlTime, XmlDuration, XmlPeriod)
#: the simple types written through ``converter.serialize``, as ``_scalar_out`` does
_NUMBERS = (Decimal, int, float)


@dataclass(slots=True, eq=False)
class _Field:
    """One JSON member of a class: the field, its key, and how its values convert."""

    name: str  # the dataclass field
    key: str  # the JSON key: "@attr", "#text" or the element's local name
    repeated: bool  # a list of values, written as an array
    cls: type | None  # complex content: the class of the values
    shape: _Shape | None  # … and its shape (None: such values go to the generic engine)
    types: tuple[type, ...]  # simple content: the types, as xsdata's converter takes them
    format: str | None
    #: simple content, the single type: str, bool, an enumeration, a number, a lexical type
    kind: type | None
    decode: fast.Decoder | None  # the fast engine's decoder of ``kind``, if it has one
    #: an enumeration whose values are all plain, space-normalised strings: value → member
    members: dict[str, Enum] | None
    accepts_bool: bool  # JSON true/false is taken as is (``bool`` is one of the types)


@dataclass(slots=True, eq=False)
class _Shape:
    """What the generated functions of one class need; built once per class."""

    cls: type
    fields: list[_Field]  # in output order: attributes first, then the rest in schema order
    #: xs:any fields (name, is a list): an object with such content goes to the generic engine
    wildcards: list[tuple[str, bool]]
    #: kind → the generated function (and its name), made on first use
    slots: dict[str, Slot] = dataclasses.field(
        default_factory=lambda: {kind: Slot() for kind in ("data", "write", "load")}
    )


_SHAPES: dict[type, _Shape | None] = {}
_SHAPE_LOCK = threading.Lock()


def _shape_for(cls: type) -> _Shape | None:
    """The shape of ``cls``, or ``None`` when the generic engine handles its objects."""
    try:
        return _SHAPES[cls]
    except KeyError:
        pass
    except TypeError:  # an unhashable "class": certainly not one of ours
        return None
    with _SHAPE_LOCK:
        if cls in _SHAPES:
            return _SHAPES[cls]
        building: dict[type, _Shape | None] = {}
        shape = _build_shape(cls, building)
        _SHAPES.update(building)  # published complete: other threads read without the lock
        return shape


def _sub_shape(cls: type, building: dict[type, _Shape | None]) -> _Shape | None:
    if cls in _SHAPES:
        return _SHAPES[cls]
    if cls in building:
        return building[cls]
    return _build_shape(cls, building)


def _build_shape(cls: type, building: dict[type, _Shape | None]) -> _Shape | None:
    building[cls] = None
    try:
        plan = fast.plan_for(cls)
        meta = _meta(cls)
    except Exception:  # fast.Unsupported, or not a bound class at all
        return None
    decoders: dict[str, fast.Decoder | None] = {name: dec for _, name, dec, _ in plan.attributes}
    decoders.update((child.name, child.decode) for child in plan.order)
    if plan.text is not None:
        decoders[plan.text[0]] = plan.text[1]
    specs: list[tuple[XmlVar, str]] = []
    wildcards: list[tuple[str, bool]] = []
    keys: set[str] = set()
    for var in sorted(meta.get_all_vars(), key=lambda v: not v.is_attribute):
        if not _writable(var.name):
            return None
        if var.is_wildcard or var.is_attributes:
            wildcards.append((var.name, var.list_element))
            continue
        key = f"@{var.local_name}" if var.is_attribute else TEXT if var.is_text else var.local_name
        if key in keys or key == ANY or (var.clazz is None and var.name not in decoders):
            return None  # e.g. two fields under one key: the generic engine decides
        keys.add(key)
        specs.append((var, key))
    if not is_dataclass(cls) or not all(_writable(f.name) for f in fields(cls)):
        return None  # generated code could not build it
    shape = _Shape(cls, [], wildcards)
    building[cls] = shape  # before recursing: message components are recursive in places
    for var, key in specs:
        kind = var.types[0] if var.clazz is None and len(var.types) == 1 else None
        decode = decoders.get(var.name) if kind is not None else None
        members = _members(kind, decode)
        if isinstance(decode, fast.EnumDecoder) and members is None:
            decode = None  # an exact match might not be the converter's answer
        shape.fields.append(
            _Field(
                name=var.name,
                key=key,
                repeated=var.list_element,
                cls=var.clazz,
                shape=None if var.clazz is None else _sub_shape(var.clazz, building),
                types=tuple(var.types),
                format=var.format,
                kind=kind,
                decode=decode,
                members=members,
                accepts_bool=var.clazz is None and bool in var.types,
            )
        )
    return shape


def _writable(name: str) -> bool:
    """``name`` can stand in generated code as an attribute (``o.name``)."""
    return name.isidentifier() and not keyword.iskeyword(name)


def _members(kind: type | None, decode: fast.Decoder | None) -> dict[str, Enum] | None:
    """The fast engine's value → member table of an enumeration, when a hit in it is
    certainly what xsdata's converter gives: every value a plain string with no leading,
    trailing or repeated spaces (the converter strips the text and joins its words)."""
    if not isinstance(decode, fast.EnumDecoder):
        return None
    if not (isinstance(kind, type) and issubclass(kind, Enum)) or issubclass(kind, str):
        return None
    table: dict[str, Enum] = {}
    for value, member in decode.members.items():
        if type(value) is not str or value != " ".join(value.split()) or not value:
            return None
        table[value] = member
    return table


def _enum_str(kind: type | None) -> bool:
    """A plain enumeration (not a ``str`` subclass) whose values are all strings."""
    return (
        isinstance(kind, type)
        and issubclass(kind, Enum)
        and not issubclass(kind, str)
        and all(type(member.value) is str for member in kind)
    )


def _plain_enum(kind: type | None) -> bool:
    """An enumeration ``_scalar_out`` writes as its ``value`` (not a ``str`` subclass)."""
    return isinstance(kind, type) and issubclass(kind, Enum) and not issubclass(kind, str)


# --------------------------------------------------------------------------- fast engine: code

#: The globals of all generated functions: constants under generated names, the functions
#: themselves under theirs (so recursive classes need no forward references).
_ENV: dict[str, Any] = {
    "__builtins__": {
        "type": type,
        "str": str,
        "bool": bool,
        "dict": dict,
        "list": list,
        "len": len,
        "Exception": Exception,
    },
    "Fallback": _Fallback,
    "new": object.__new__,
    "serialize": converter.serialize,
    "encode": encode_basestring,
}


Kind = Literal["data", "write", "load"]


def _function(shape: _Shape, kind: Kind) -> Callable[..., Any]:
    """The generated ``kind`` function of ``shape`` (and of every shape it reaches)."""
    function = shape.slots[kind].function
    if function is not None:
        return function
    return compile_once(
        shape,
        slot=lambda current: current.slots[kind],
        label=lambda current: f"{kind}_{current.cls.__name__}",
        children=lambda current: [f.shape for f in current.fields if f.shape is not None],
        generate={"data": _data_source, "write": _write_source, "load": _load_source}[kind],
        env=_ENV,
        filename=f"<paymsg.codec.json.engine {kind}>",
    )


# -- to_data -----------------------------------------------------------------------------


def _data_source(shape: _Shape, src: Source) -> None:
    """``def <name>(o): … return d``: the plain data of ``o``, as ``_generic_to_data``."""
    src.emit(0, f"def {src.name}(o):")
    _wildcard_guard(src, shape, [f"return {src.const(_generic_to_data)}(o)"])
    src.emit(1, "d = {}")
    for f in shape.fields:
        src.emit(1, f"v = o.{f.name}")
        src.emit(1, "if v:" if f.repeated else "if v is not None:")
        if f.repeated:
            src.emit(2, f"d[{f.key!r}] = [{_data_expr(src, f, 'x')} for x in v]")
        else:
            src.emit(2, f"d[{f.key!r}] = {_data_expr(src, f, 'v')}")
    src.emit(1, "return d")


def _wildcard_guard(src: Source, shape: _Shape, action: list[str]) -> None:
    """``action`` when ``o`` has xs:any content (the generic engine writes ``#any``), with
    the test ``_generic_to_data`` makes: a list when not empty, else when not ``None``."""
    for name, repeated in shape.wildcards:
        src.emit(1, f"if o.{name}:" if repeated else f"if o.{name} is not None:")
        for line in action:
            src.emit(2, line)


def _data_expr(src: Source, f: _Field, var: str) -> str:
    """``value_out(var)``, with the work done inline for the type the field expects."""
    other = f"{src.const(value_out)}({var})"
    if f.cls is not None:
        if f.shape is None:
            return other
        return (
            f"{f.shape.slots['data'].name}({var}) if type({var}) is {src.const(f.cls)} else {other}"
        )
    kind = f.kind
    if kind is str or kind is bool:
        return f"{var} if type({var}) is {kind.__name__} else {other}"
    if _plain_enum(kind):
        return f"{var}._value_ if type({var}) is {src.const(kind)} else {other}"
    if kind in _NUMBERS:
        return f"serialize({var}) if type({var}) is {src.const(kind)} else {other}"
    if kind in _LEXICAL:
        return f"str({var}) if type({var}) is {src.const(kind)} else {other}"
    return other


# -- write -------------------------------------------------------------------------------


class _Pads(dict[int, str]):
    """Level → the line break and indentation ``json.dumps`` puts before a member."""

    def __init__(self, indent: str) -> None:
        super().__init__()
        self.indent = indent

    def __missing__(self, level: int) -> str:
        pad = self[level] = "\n" + self.indent * level
        return pad


_PADS: dict[str, _Pads] = {}


def _pads(indent: str) -> _Pads:
    pads = _PADS.get(indent)
    if pads is None:
        pads = _PADS.setdefault(indent, _Pads(indent))
    return pads


def _dump(data: Any, level: int, pads: _Pads) -> str:
    """``data`` as ``json.dumps`` writes it ``level`` levels deep: the same text, every
    line break followed by the indentation of the level (strings hold no raw breaks)."""
    text = json.dumps(data, ensure_ascii=False, indent=pads.indent)
    return text.replace("\n", pads[level]) if level else text


def _dump_value(value: Any, level: int, pads: _Pads) -> str:
    return _dump(value_out(value), level, pads)


def _write_source(shape: _Shape, src: Source) -> None:
    """``def <name>(o, out, lv, P):`` appends to ``out`` the JSON text of ``o`` at
    nesting level ``lv`` (``P``: the pads), as ``json.dumps(to_data(o), indent=…)``."""
    src.emit(0, f"def {src.name}(o, out, lv, P):")
    dump = src.const(_dump)
    generic = f"out.append({dump}({src.const(_generic_to_data)}(o), lv, P))"
    _wildcard_guard(src, shape, [generic, "return"])
    if not shape.fields:
        src.emit(1, 'out.append("{}")')
        return
    src.emit(1, "n = len(out)")
    src.emit(1, "c = ',' + P[lv + 1]")
    for f in shape.fields:
        src.emit(1, f"v = o.{f.name}")
        src.emit(1, "if v:" if f.repeated else "if v is not None:")
        src.emit(2, "out.append(c)")
        src.emit(2, f"out.append({encode_basestring(f.key) + ': '!r})")
        if f.repeated:
            src.emit(2, "if type(v) is list:")
            src.emit(3, "q = P[lv + 2]")
            src.emit(3, "s = '[' + q")
            src.emit(3, "q = ',' + q")
            src.emit(3, "for x in v:")
            src.emit(4, "out.append(s)")
            src.emit(4, "s = q")
            _write_value(src, 4, f, "x", "lv + 2")
            src.emit(3, "out.append(P[lv + 1] + ']')")
            src.emit(2, "else:")
            items = f"[{src.const(value_out)}(x) for x in v]"
            src.emit(3, f"out.append({dump}({items}, lv + 1, P))")
        else:
            _write_value(src, 2, f, "v", "lv + 1")
    src.emit(1, "if len(out) == n:")
    src.emit(2, 'out.append("{}")')
    src.emit(1, "else:")
    src.emit(2, "out[n] = '{' + P[lv + 1]")
    src.emit(2, "out.append(P[lv] + '}')")


def _write_value(src: Source, depth: int, f: _Field, var: str, level: str) -> None:
    """Append the JSON text of ``var``, a value of field ``f``, at nesting ``level``."""
    other = f"{src.const(_dump_value)}({var}, {level}, P)"
    if f.cls is not None:
        if f.shape is None:
            src.emit(depth, f"out.append({other})")
            return
        src.emit(depth, f"if type({var}) is {src.const(f.cls)}:")
        src.emit(depth + 1, f"{f.shape.slots['write'].name}({var}, out, {level}, P)")
        src.emit(depth, "else:")
        src.emit(depth + 1, f"out.append({other})")
        return
    kind = f.kind
    if kind is str:
        text = f"encode({var})"
    elif kind is bool:
        text = f"('true' if {var} else 'false')"
    elif _enum_str(kind):
        text = f"encode({var}._value_)"
    elif kind in _NUMBERS:
        text = f"encode(serialize({var}))"
    elif kind in _LEXICAL:
        text = f"encode(str({var}))"
    else:
        src.emit(depth, f"out.append({other})")
        return
    assert kind is not None
    guard = kind.__name__ if kind in (str, bool) else src.const(kind)
    src.emit(depth, f"out.append({text} if type({var}) is {guard} else {other})")


# -- load --------------------------------------------------------------------------------


def _slow(f: _Field) -> Callable[[str], Any]:
    """xsdata's converter for the values of ``f``, as the generic engine calls it."""
    types, format_ = f.types, f.format

    def convert(text: str) -> Any:
        return deserialize(text, types, format_)

    return convert


def _load_source(shape: _Shape, src: Source) -> None:
    """``def <name>(d): … return o``: an instance from plain data ``d``, equal to what
    ``_generic_from_data`` builds; :class:`_Fallback` (or a converter's error) for
    anything the generic engine must look at."""
    src.emit(0, f"def {src.name}(d):")
    src.emit(1, "if type(d) is not dict:")
    src.emit(2, "raise Fallback")
    local = {f.name: f"v{index}" for index, f in enumerate(shape.fields)}
    for name in local.values():
        src.emit(1, f"{name} = None")
    generic = f"return {src.const(_generic_from_data)}({src.const(shape.cls)}, d)"
    entries: list[tuple[str, Callable[[int], None]]] = [
        (f.key, functools.partial(_load_member, src, f, local[f.name])) for f in shape.fields
    ]
    # xs:any content, or "#any" where the class has none: the generic engine decides
    entries.append((ANY, functools.partial(src.emit, line=generic)))
    src.emit(1, "for k, x in d.items():")
    emit_dispatch(src, 2, "k", entries, functools.partial(src.fail, exception="Fallback"))
    # a field whose member is absent gets its default; a required one makes it fall back
    emit_construct(src, shape.cls, local, set(), "Fallback", messages=False)
    src.emit(1, "return o")


def _load_member(src: Source, f: _Field, var: str, depth: int) -> None:
    """Member value ``x`` of field ``f`` into local ``var``."""
    if f.cls is not None:
        if f.shape is not None:
            load = f.shape.slots["load"].name
        else:  # a class without a shape: its objects are read generically
            generic = src.const(_generic_from_data)
            cls = src.const(f.cls)
            load = f"(lambda y: {generic}({cls}, y))"
        if f.repeated:
            src.emit(depth, "if type(x) is not list:")
            src.emit(depth + 1, "raise Fallback")
            src.emit(depth, f"{var} = [{load}(y) for y in x]")
        else:
            src.emit(depth, f"{var} = {load}(x)")
        return
    if not f.repeated:
        _load_simple(src, depth, f, "x", var)
        return
    src.emit(depth, "if type(x) is not list:")
    src.emit(depth + 1, "raise Fallback")
    src.emit(depth, f"{var} = []")
    src.emit(depth, "for y in x:")
    _load_simple(src, depth + 1, f, "y", "z")
    src.emit(depth + 1, f"{var}.append(z)")


def _load_simple(src: Source, depth: int, f: _Field, value: str, target: str) -> None:
    """Simple value ``value`` (a JSON string, or a boolean where ``bool`` is a type)
    converted into ``target``: fast where the fast decoder takes it, else by xsdata's
    converter exactly as the generic engine converts it (its errors fall back)."""
    src.emit(depth, f"if type({value}) is str:")
    inner = depth + 1
    if f.kind is str:
        src.emit(inner, f"{target} = {value}")
    elif f.members is not None:
        src.emit(inner, f"{target} = {src.const(f.members.get)}({value})")
        src.emit(inner, f"if {target} is None:")
        src.emit(inner + 1, f"{target} = {src.const(_slow(f))}({value})")
    elif f.decode is not None:
        src.emit(inner, "try:")
        src.emit(inner + 1, f"{target} = {src.const(f.decode)}({value})")
        src.emit(inner, "except Exception:")  # refused (fast.Unsupported) or not understood
        src.emit(inner + 1, f"{target} = {src.const(_slow(f))}({value})")
    else:
        src.emit(inner, f"{target} = {src.const(_slow(f))}({value})")
    if f.accepts_bool:
        src.emit(depth, f"elif {value} is True or {value} is False:")
        src.emit(depth + 1, f"{target} = {value}")
    src.emit(depth, "else:")
    src.emit(depth + 1, "raise Fallback")


# --------------------------------------------------------------------------- plain data


def to_data(obj: Any) -> dict[str, Any]:
    """A bound object as a plain JSON-ready dict keyed by XML names."""
    shape = _shape_for(type(obj))
    if shape is not None:
        try:
            result: dict[str, Any] = _function(shape, "data")(obj)
            return result
        except Exception:
            pass  # the generic engine gives the result, or the error
    return _generic_to_data(obj)


def value_out(value: Any) -> Any:
    return (
        to_data(value)
        if is_dataclass(value) and not isinstance(value, type)
        else _scalar_out(value)
    )


def from_data(cls: type, data: Any, path: str = "") -> Any:
    """Rebuild a bound object of ``cls`` from :func:`to_data` output."""
    shape = _shape_for(cls)
    if shape is not None and type(data) is dict:
        try:
            return _function(shape, "load")(data)
        except Exception:
            pass  # the generic engine reads it again, and locates any problem
    return _generic_from_data(cls, data, path)


def _from_data(engine: Engine) -> Callable[[type, Any, str], Any]:
    return from_data if engine == "fast" else _generic_from_data


def _to_data(engine: Engine) -> Callable[[Any], dict[str, Any]]:
    return to_data if engine == "fast" else _generic_to_data


# --------------------------------------------------------------------------- messages


def message_to_data(message: Message) -> dict[str, Any]:
    return _message_to_data(message, "fast")


def _message_to_data(message: Message, engine: Engine) -> dict[str, Any]:
    out = _message_head(message, engine)
    out["document"] = _to_data(engine)(message.document)
    return out


def _message_head(message: Message, engine: Engine) -> dict[str, Any]:
    """``type`` and ``envelope`` of the message's plain data (the document goes last)."""
    out: dict[str, Any] = {"type": message.type}
    envelope = message.envelope
    if isinstance(envelope, BusinessEnvelope):
        env: dict[str, Any] = {"kind": "business"}
        if envelope.header is not None:
            env["header_type"] = envelope.header_type
            env["AppHdr"] = _to_data(engine)(envelope.header)
        if envelope.wrapper is not None:
            env["wrapper"] = envelope.wrapper
        if envelope.header_xsi:
            env["header_xsi"] = dict(envelope.header_xsi)
        out["envelope"] = env
    elif isinstance(envelope, cnaps2.Cnaps2Envelope):
        env = {"kind": "cnaps2", "header": envelope.header.model_dump(mode="json")}
        if envelope.signature is not None:
            env["signature"] = envelope.signature
        if envelope.raw and envelope.raw != envelope.encode() and cnaps2.raw_matches(envelope):
            env["raw"] = envelope.raw.decode("latin-1")  # the exact bytes received, for relay
        out["envelope"] = env
    if message.xsi:
        out["xsi"] = dict(message.xsi)
    return out


def to_json(message: Message, *, indent: int | None = 2) -> str:
    """The message as compact, typed JSON (see the module docstring)."""
    return _to_json(message, indent, "fast")


def _to_json(message: Message, indent: int | None, engine: Engine) -> str:
    if engine == "fast" and indent is not None:
        try:
            return _write_message(message, indent)
        except Exception:
            pass  # the generic layout gives the result, or the error
    return json.dumps(_message_to_data(message, engine), ensure_ascii=False, indent=indent)


def _write_message(message: Message, indent: int | str) -> str:
    """``json.dumps(message_to_data(message), ensure_ascii=False, indent=indent)``: the
    head dumped as such, the document written directly."""
    pads = _pads(indent if isinstance(indent, str) else " " * indent)
    if "\n" in pads.indent:  # _dump re-indents at line breaks: they must all be layout
        raise ValueError("a line break in the indentation")
    head = json.dumps(_message_head(message, "fast"), ensure_ascii=False, indent=pads.indent)
    if not head.endswith("\n}"):
        raise ValueError("unexpected JSON head")
    out = [head[:-2], "," + pads[1] + '"document": ']
    document = message.document
    shape = _shape_for(type(document))
    if shape is None:
        out.append(_dump(to_data(document), 1, pads))
    else:
        _function(shape, "write")(document, out, 1, pads)
    out.append("\n}")
    return "".join(out)


def message_from_data(data: Any, source: str | None = None) -> Message:
    return _message_from_data(data, source, "fast")


#: the members of paymsg JSON, of a business envelope and of a CNAPS2 envelope
_TOP_MEMBERS = ("type", "envelope", "xsi", "document")
_ENVELOPE_MEMBERS = {
    "business": ("kind", "header_type", "AppHdr", "wrapper", "header_xsi"),
    "cnaps2": ("kind", "header", "signature", "raw"),
}


def _only(data: dict[str, Any], allowed: tuple[str, ...], where: str, source: str | None) -> None:
    """Refuse a member of ``data`` that is not one of ``allowed`` (nothing is ignored)."""
    for key in data:
        if key not in allowed:
            raise InputError(
                f"unknown member {key!r}"
                + (f" in {where.strip('/')}" if where else "")
                + f"; expected only {', '.join(allowed)}",
                source=source,
                path=f"{where}/{key}",
            )


def _message_from_data(data: Any, source: str | None, engine: Engine) -> Message:
    load = _from_data(engine)
    if not isinstance(data, dict) or not isinstance(data.get("type"), str):
        raise InputError('not paymsg JSON: expected an object with a "type" member', source=source)
    _only(data, _TOP_MEMBERS, "", source)
    mtype = catalog().get(data["type"])
    if "document" not in data:
        raise InputError('paymsg JSON without a "document" member', source=source)
    document = load(mtype.root_class, data["document"], f"/{mtype.root}")
    envelope: Any = None
    env = data.get("envelope")
    if env is not None:
        if not isinstance(env, dict):
            raise InputError('"envelope" must be an object', source=source, path="/envelope")
        kind = env.get("kind")
        if not isinstance(kind, str) or kind not in _ENVELOPE_MEMBERS:
            raise InputError(
                f'envelope "kind" must be "business" or "cnaps2", not {json.dumps(kind)}',
                source=source,
                path="/envelope/kind",
            )
        _only(env, _ENVELOPE_MEMBERS[kind], "/envelope", source)
        if kind == "cnaps2":
            envelope = _cnaps2_envelope(env, mtype, source)
        else:
            header = None
            header_type = _optional_str(env, "header_type", source)
            wrapper = _optional_str(env, "wrapper", source)
            if "AppHdr" in env:
                htype = catalog().get(header_type or "head.001.001.02")
                header = load(htype.root_class, env["AppHdr"], "/AppHdr")
                header_type = htype.id
            if wrapper is not None:  # checked now: slots, well-formed, safe
                parts = {"Document": b"<D/>"} | ({"AppHdr": b"<A/>"} if header else {})
                fill_wrapper(wrapper, parts)
            header_xsi = _xsi(env.get("header_xsi"), "/envelope/header_xsi", source)
            envelope = BusinessEnvelope(header, header_type, wrapper, header_xsi)
    return Message(mtype.id, document, envelope, xsi=_xsi(data.get("xsi"), "/xsi", source))


#: an XML name without a colon (an attribute's local name)
_NCNAME = re.compile(r"[A-Za-z_][\w.-]*")


def _xsi(value: Any, path: str, source: str | None) -> dict[str, str]:
    """An ``xsi`` member: an object of attribute local names and string values."""
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise InputError(f"{path.lstrip('/')} must be an object", source=source, path=path)
    for name, text in value.items():
        if not isinstance(text, str) or not _NCNAME.fullmatch(name):
            raise InputError(
                f"{path.lstrip('/')}: each member is an xsi attribute name with a string value",
                source=source,
                path=f"{path}/{name}",
            )
    return dict(value)


def _optional_str(env: dict[str, Any], key: str, source: str | None) -> str | None:
    value = env.get(key)
    if value is not None and not isinstance(value, str):
        raise InputError(
            f'envelope "{key}" must be a string', source=source, path=f"/envelope/{key}"
        )
    return value


def _cnaps2_header(data: Any, source: str | None) -> cnaps2.Cnaps2Header:
    """The header of a CNAPS2 envelope in JSON; a bad one is one located line (the first
    problem pydantic found, and how many more there are)."""
    if not isinstance(data, dict):
        raise InputError(
            'CNAPS2 envelope without a "header" object', source=source, path="/envelope/header"
        )
    try:
        return cnaps2.Cnaps2Header(**data)
    except ValidationError as exc:
        problems = exc.errors(include_url=False)
        first = problems[0]
        where = "/".join(str(part) for part in first["loc"])
        name = where.split("/", 1)[0]
        spec = next((f for f in cnaps2.FIELDS if f.name == name), None)
        message = str(first["msg"]).removeprefix("Value error, ")
        if spec is not None and not message.startswith(spec.ref_name):
            message = f"{spec.title}: {message}"
        more = len(problems) - 1
        raise InputError(
            f"invalid CNAPS2 header in JSON: {message}"
            + (f" (and {more} more problem{'s' if more > 1 else ''})" if more else ""),
            source=source,
            path=f"/envelope/header/{where}" if where else "/envelope/header",
            field=spec.ref_name if spec is not None else None,
        ) from None
    except TypeError as exc:  # e.g. a member name that is not a string
        raise InputError(
            f"invalid CNAPS2 header in JSON: {exc}", source=source, path="/envelope/header"
        ) from None


def _cnaps2_envelope(
    env: dict[str, Any], mtype: MessageType, source: str | None
) -> cnaps2.Cnaps2Envelope:
    """A CNAPS2 envelope from JSON, refused where the CNAPS2 text reader refuses it."""
    header = _cnaps2_header(env.get("header"), source)
    if mtype.standard != "cnaps2" or header.mesg_type != mtype.id:
        spec = next(f for f in cnaps2.FIELDS if f.name == "mesg_type")
        raise EnvelopeError(
            f"the CNAPS2 header's {spec.title} is {header.mesg_type!r}, but the message "
            f"type is {mtype.id!r}"
            + ("" if mtype.standard == "cnaps2" else ", which is not a CNAPS2 type")
            + "; a CNAPS2 message's type is the one its header names",
            source=source,
            path="/envelope/header/mesg_type",
            field=spec.ref_name,
        )
    signature = _optional_str(env, "signature", source)
    raw = _optional_str(env, "raw", source)
    try:
        envelope = cnaps2.Cnaps2Envelope(header=header, signature=signature)
    except EnvelopeError as exc:
        exc.path, exc.source = "/envelope/signature", source
        raise
    if raw is None:
        envelope.raw = envelope.encode()
        return envelope
    try:  # raw holds the received envelope bytes one to one (latin-1), BOM included
        envelope.raw = raw.encode("latin-1")
    except UnicodeEncodeError:
        raise InputError(
            'envelope "raw" holds characters that are not bytes',
            source=source,
            path="/envelope/raw",
        ) from None
    try:
        cnaps2.read_envelope(envelope.raw)
    except EnvelopeError as exc:
        exc.path, exc.source = "/envelope/raw", source
        raise
    if not cnaps2.raw_matches(envelope):
        raise EnvelopeError(
            'envelope "raw" is not the text of the envelope\'s header and signature',
            source=source,
            path="/envelope/raw",
        )
    return envelope


def from_json(text: str | bytes, *, limits: Limits = DEFAULT_LIMITS) -> Message:
    """Rebuild a :class:`Message` from :func:`to_json` output."""
    return _from_json(text, limits, "fast")


def _from_json(text: str | bytes, limits: Limits, engine: Engine) -> Message:
    # Reading JSON makes many containers and no reference cycles (json.loads builds a tree of
    # dicts and lists, from_data a tree of dataclasses; tests/codec/test_json_engines.py
    # checks): the cyclic collector is paused meanwhile, as during a bind (see binding.py),
    # which saves its repeated passes over a large heap (camt.053 with 10,000 entries: about
    # 0.2 s instead of 0.8 s when the process holds other large messages).
    with paused_gc():
        return _message_from_data(_load(text, limits, None), None, engine)


def _load(text: str | bytes, limits: Limits, source: str | None) -> Any:
    size = len(text.encode("utf-8") if isinstance(text, str) else text)
    if size > limits.max_bytes:
        raise InputError(f"input is {size:,} bytes, over the limit of {limits.max_bytes:,}")
    try:
        return json.loads(text, object_pairs_hook=_unique)
    except _DuplicateKey:
        path = _duplicate_path(json.loads(text, object_pairs_hook=_Marked.of))
        raise InputError(
            f"duplicate member {path.rsplit('/', 1)[-1]!r} in a JSON object; each member "
            "may appear once (JSON readers disagree about which one counts)",
            source=source,
            path=path,
        ) from None
    except (ValueError, UnicodeDecodeError) as exc:
        line = getattr(exc, "lineno", None)
        raise InputError(f"not valid JSON: {exc}", source=source, line=line) from None
    except RecursionError:
        raise InputError("JSON nested too deeply", source=source) from None


class _DuplicateKey(Exception):
    """A JSON object holds a member twice (located by a second reading)."""


def _unique(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    """``json.loads``' object hook: a dict, refusing a member that appears twice."""
    data = dict(pairs)
    if len(data) != len(pairs):
        raise _DuplicateKey
    return data


class _Marked(dict[str, Any]):
    """A JSON object that remembers its first duplicated member (to locate it)."""

    duplicate: str | None = None

    @classmethod
    def of(cls, pairs: list[tuple[str, Any]]) -> _Marked:
        data = cls(pairs)
        if len(data) != len(pairs):
            seen: set[str] = set()
            for key, _ in pairs:
                if key in seen:
                    data.duplicate = key
                    break
                seen.add(key)
        return data


def _duplicate_path(data: Any, path: str = "") -> str:
    """The JSON path of the first duplicated member in ``data`` (read with ``_Marked``);
    array items are numbered from 1, as in binding errors."""
    pending: list[tuple[Any, str]] = [(data, path)]
    while pending:
        node, where = pending.pop()
        if isinstance(node, _Marked):
            if node.duplicate is not None:
                return f"{where}/{node.duplicate}"
            pending.extend((v, f"{where}/{k}") for k, v in reversed(node.items()))
        elif isinstance(node, list):
            pending.extend((v, f"{where}[{i + 1}]") for i, v in reversed(list(enumerate(node))))
    return path or "/"  # pragma: no cover - only called after a duplicate was seen


def json_type(raw: bytes, source: str | None) -> str:
    data = _load(raw, DEFAULT_LIMITS, source)
    if not isinstance(data, dict) or not isinstance(data.get("type"), str):
        raise InputError('not paymsg JSON: expected an object with a "type" member', source=source)
    return catalog().get(data["type"]).id


__all__ = ["from_data", "from_json", "message_from_data", "message_to_data", "to_data", "to_json"]
