"""Compact JSON for messages: ``{"type": …, "envelope": …, "document": …}``.

Keys are the ISO/CNAPS XML tag names; absent optional elements are omitted (never
``null``); repeatable elements are always arrays; amounts and other decimals are
strings, so no value passes through a float. An element with attributes and a value
(an amount) is ``{"@Ccy": "CNY", "#text": "100.00"}``. Content the schema allows but
the model does not type (``xs:any``, e.g. supplementary data) is kept as XML text
under ``"#any"``, so it survives the round trip.
"""

from __future__ import annotations

import json
from dataclasses import fields, is_dataclass
from decimal import Decimal
from enum import Enum
from typing import Any

from lxml import etree
from xsdata.formats.converter import converter
from xsdata.formats.dataclass.models.elements import XmlMeta, XmlVar
from xsdata.formats.dataclass.parsers import XmlParser
from xsdata.formats.dataclass.serializers import XmlSerializer

from paymsg.catalog import catalog
from paymsg.codec import cnaps2
from paymsg.codec.binding import CONTEXT
from paymsg.codec.envelope import fill_wrapper
from paymsg.codec.message import BusinessEnvelope, Message
from paymsg.codec.xmlsafe import DEFAULT_LIMITS, Limits, parse_xml
from paymsg.errors import BindingError, InputError

TEXT = "#text"
ANY = "#any"


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


def to_data(obj: Any) -> dict[str, Any]:
    """A bound object as a plain JSON-ready dict keyed by XML names."""
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
            out[key] = [_value_out(v) for v in value]
        else:
            out[key] = _value_out(value)
    if wildcards:
        out[ANY] = _wildcard_xml(obj, meta)
    return out


def _value_out(value: Any) -> Any:
    return (
        to_data(value)
        if is_dataclass(value) and not isinstance(value, type)
        else _scalar_out(value)
    )


def _wildcard_xml(obj: Any, meta: XmlMeta) -> list[str]:
    """The wildcard children of ``obj`` as standalone XML fragments."""
    serializer = XmlSerializer(context=CONTEXT)
    holder = etree.fromstring(serializer.render(obj).encode("utf-8"))
    known = {var.qname for var in meta.get_element_vars() if not var.is_wildcard}
    fragments = []
    for child in holder:
        if isinstance(child.tag, str) and child.tag not in known:
            child.tail = None
            fragments.append(etree.tostring(child, encoding="unicode"))
    return fragments


def from_data(cls: type, data: Any, path: str = "") -> Any:
    """Rebuild a bound object of ``cls`` from :func:`to_data` output."""
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
            kwargs[var.name] = [_value_in(var, v, f"{where}[{i + 1}]") for i, v in enumerate(value)]
        else:
            kwargs[var.name] = _value_in(var, value, where)
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


def _value_in(var: XmlVar, value: Any, path: str) -> Any:
    if var.clazz is not None:
        return from_data(var.clazz, value, path)
    if isinstance(value, bool) and bool in var.types:
        return value
    if not isinstance(value, str):
        raise BindingError(f"expected a string, found {json.dumps(value)}", path=path)
    try:
        return converter.deserialize(value, var.types, format=var.format)
    except Exception as exc:  # xsdata raises ConverterError and ValueError subclasses
        raise BindingError(f"invalid value {value!r}: {exc}", path=path) from None


def _wildcards_in(cls: type, meta: XmlMeta, fragments: Any, path: str) -> dict[str, Any]:
    if not isinstance(fragments, list) or not all(isinstance(f, str) for f in fragments):
        raise BindingError("#any must be an array of XML strings", path=path)
    ns = meta.namespace or ""
    wrapper = etree.Element(f"{{{ns}}}{meta.qname.rsplit('}', 1)[-1]}" if ns else meta.qname)
    for fragment in fragments:
        wrapper.append(parse_xml(fragment.encode("utf-8"), source=path))
    parsed: Any = XmlParser(context=CONTEXT).from_bytes(etree.tostring(wrapper), cls)
    return {var.name: getattr(parsed, var.name) for var in meta.get_all_vars() if var.is_wildcard}


# --------------------------------------------------------------------------- messages


def message_to_data(message: Message) -> dict[str, Any]:
    out: dict[str, Any] = {"type": message.type}
    envelope = message.envelope
    if isinstance(envelope, BusinessEnvelope):
        env: dict[str, Any] = {"kind": "business"}
        if envelope.header is not None:
            env["header_type"] = envelope.header_type
            env["AppHdr"] = to_data(envelope.header)
        if envelope.wrapper is not None:
            env["wrapper"] = envelope.wrapper
        out["envelope"] = env
    elif isinstance(envelope, cnaps2.Cnaps2Envelope):
        env = {"kind": "cnaps2", "header": envelope.header.model_dump(mode="json")}
        if envelope.signature is not None:
            env["signature"] = envelope.signature
        if envelope.raw and envelope.raw != envelope.encode():
            env["raw"] = envelope.raw.decode("latin-1")  # the exact bytes received, for relay
        out["envelope"] = env
    out["document"] = to_data(message.document)
    return out


def to_json(message: Message, *, indent: int | None = 2) -> str:
    """The message as compact, typed JSON (see the module docstring)."""
    return json.dumps(message_to_data(message), ensure_ascii=False, indent=indent)


def message_from_data(data: Any, source: str | None = None) -> Message:
    if not isinstance(data, dict) or not isinstance(data.get("type"), str):
        raise InputError('not paymsg JSON: expected an object with a "type" member', source=source)
    mtype = catalog().get(data["type"])
    if "document" not in data:
        raise InputError('paymsg JSON without a "document" member', source=source)
    document = from_data(mtype.root_class, data["document"], f"/{mtype.root}")
    envelope: Any = None
    env = data.get("envelope")
    if env is not None:
        if not isinstance(env, dict):
            raise InputError('"envelope" must be an object', source=source)
        if env.get("kind") == "cnaps2":
            envelope = _cnaps2_envelope(env, source)
        else:
            header = None
            header_type = _optional_str(env, "header_type", source)
            wrapper = _optional_str(env, "wrapper", source)
            if "AppHdr" in env:
                htype = catalog().get(header_type or "head.001.001.02")
                header = from_data(htype.root_class, env["AppHdr"], "/AppHdr")
                header_type = htype.id
            if wrapper is not None:  # checked now: slots, well-formed, safe
                parts = {"Document": b"<D/>"} | ({"AppHdr": b"<A/>"} if header else {})
                fill_wrapper(wrapper, parts)
            envelope = BusinessEnvelope(header=header, header_type=header_type, wrapper=wrapper)
    return Message(mtype.id, document, envelope)


def _optional_str(env: dict[str, Any], key: str, source: str | None) -> str | None:
    value = env.get(key)
    if value is not None and not isinstance(value, str):
        raise InputError(
            f'envelope "{key}" must be a string', source=source, path=f"/envelope/{key}"
        )
    return value


def _cnaps2_envelope(env: dict[str, Any], source: str | None) -> cnaps2.Cnaps2Envelope:
    header_data = env.get("header")
    if not isinstance(header_data, dict):
        raise InputError('CNAPS2 envelope without a "header" object', source=source)
    try:
        header = cnaps2.Cnaps2Header(**header_data)
    except (TypeError, ValueError) as exc:
        raise InputError(f"invalid CNAPS2 header in JSON: {exc}", source=source) from None
    signature = _optional_str(env, "signature", source)
    raw = _optional_str(env, "raw", source)
    try:
        envelope = cnaps2.Cnaps2Envelope(header=header, signature=signature)
        # raw holds the received envelope bytes one to one (latin-1), BOM included
        envelope.raw = raw.encode("latin-1") if raw is not None else envelope.encode()
    except UnicodeEncodeError:
        raise InputError(
            'envelope "raw" holds characters that are not bytes', source=source
        ) from None
    return envelope


def from_json(text: str | bytes, *, limits: Limits = DEFAULT_LIMITS) -> Message:
    """Rebuild a :class:`Message` from :func:`to_json` output."""
    return message_from_data(_load(text, limits, None))


def _load(text: str | bytes, limits: Limits, source: str | None) -> Any:
    size = len(text.encode("utf-8") if isinstance(text, str) else text)
    if size > limits.max_bytes:
        raise InputError(f"input is {size:,} bytes, over the limit of {limits.max_bytes:,}")
    try:
        return json.loads(text)
    except (ValueError, UnicodeDecodeError) as exc:
        line = getattr(exc, "lineno", None)
        raise InputError(f"not valid JSON: {exc}", source=source, line=line) from None
    except RecursionError:
        raise InputError("JSON nested too deeply", source=source) from None


def json_type(raw: bytes, source: str | None) -> str:
    data = _load(raw, DEFAULT_LIMITS, source)
    if not isinstance(data, dict) or not isinstance(data.get("type"), str):
        raise InputError('not paymsg JSON: expected an object with a "type" member', source=source)
    return catalog().get(data["type"]).id


__all__ = ["from_data", "from_json", "message_from_data", "message_to_data", "to_data", "to_json"]
