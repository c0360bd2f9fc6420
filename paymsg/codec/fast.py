"""The fast binding engine: lxml tree ⇄ generated dataclasses through precomputed plans.

For each generated class a :class:`Plan` is built once from xsdata's own metadata (so
names, order and types cannot drift from the generic binder): a tag → field table for
children, the attributes, the text field and a converter per simple type. Decoding
runs a decoder function generated from the plan (Python source built and compiled at
run time, once per class, see :func:`_compile`), which walks the lxml tree once;
encoding writes the indented XML text directly. Anything the plans do not cover — an
unknown element, a missing required field, content under an ``xs:any`` wildcard —
raises :class:`Unsupported`, and the caller falls back to xsdata's generic binder,
which is the oracle (a differential test checks that both engines give equal objects
and equal XML).
"""

from __future__ import annotations

import dataclasses
import inspect
import itertools
import re
import threading
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


def _text(text: str) -> str:
    return text


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


_DECODERS: dict[type, Decoder] = {
    str: _text,
    Decimal: _decimal,
    int: lambda text: int(text),
    bool: _bool,
    XmlDate: _memo(_date),
    XmlDateTime: _date_time,
    XmlTime: XmlTime.from_string,
    XmlDuration: XmlDuration,
    XmlPeriod: XmlPeriod,
}


class _EnumDecoder:
    """Text → member of an enumeration; the generated decoders use ``members`` inline."""

    __slots__ = ("members",)

    def __init__(self, kind: type[Enum]) -> None:
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
        return _EnumDecoder(kind)
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
    decoder: Callable[[etree._Element], Any] | None = None
    decoder_name: str = ""


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
    decoder = plan.decoder
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
}
_COMPILE_LOCK = threading.Lock()
_SERIAL = itertools.count()
#: plans with at most this many child tags compare tags directly instead of a dict lookup
_LINEAR_DISPATCH = 8


def _compile(root: Plan) -> Callable[[etree._Element], Any]:
    """Generate, compile and attach the decoders of ``root`` and of every plan it reaches."""
    with _COMPILE_LOCK:
        if root.decoder is None:
            pending: list[Plan] = []
            stack = [root]
            while stack:
                plan = stack.pop()
                if plan.decoder is not None or plan.decoder_name:
                    continue
                plan.decoder_name = f"_decode_{next(_SERIAL)}_{plan.cls.__name__}"
                pending.append(plan)
                stack.extend(child.plan for child in plan.order if child.plan is not None)
            try:
                source = "\n".join(_source(plan) for plan in pending)
                exec(compile(source, "<paymsg.codec.fast decoders>", "exec"), _ENV)
            except BaseException:
                for plan in pending:
                    plan.decoder_name = ""
                raise
            for plan in pending:
                plan.decoder = _ENV[plan.decoder_name]
    assert root.decoder is not None
    return root.decoder


def _plain_init(cls: type) -> bool:
    """True when ``cls(**kwargs)`` only stores each field (the arguments, or the field's
    default / ``default_factory()``), so an instance can be made with ``object.__new__``
    and one attribute store per field, every field set exactly as ``__init__`` sets it."""
    if not (isinstance(cls, type) and dataclasses.is_dataclass(cls)):
        return False
    params = cls.__dataclass_params__  # type: ignore[attr-defined]
    if not params.init or params.frozen or hasattr(cls, "__post_init__"):
        return False
    if cls.__new__ is not object.__new__ or cls.__setattr__ is not object.__setattr__:
        return False
    init = cls.__init__
    if getattr(getattr(init, "__code__", None), "co_filename", None) != "<string>":
        return False  # not the __init__ that dataclasses generated
    fields = dataclasses.fields(cls)
    if not all(f.init for f in fields):
        return False
    parameters = list(inspect.signature(init).parameters)[1:]
    return sorted(parameters) == sorted(f.name for f in fields)  # no InitVar


class _Source:
    """The source of one plan's decoder; constants go into :data:`_ENV` under its name."""

    def __init__(self, plan: Plan) -> None:
        self.name = plan.decoder_name
        self.lines: list[str] = []
        self.count = 0

    def const(self, value: Any) -> str:
        key = f"{self.name}_{self.count}"
        self.count += 1
        _ENV[key] = value
        return key

    def emit(self, depth: int, line: str) -> None:
        self.lines.append("    " * depth + line)

    def fail(self, depth: int, message: str) -> None:
        self.emit(depth, f"raise Unsupported({message!r})")


def _source(plan: Plan) -> str:
    """``def <name>(el): ... return o``: element ``el`` decoded with ``plan`` into ``o``.

    Field values live in locals ``v0``, ``v1``, … (``None`` until seen, lists start
    empty); attributes are read only where the plan has them, the text only where the
    class has a text field; children go through a tag dispatch (``if``/``elif`` on the
    tag for a few, else a tag → index table and a binary search on the index) to code
    specialised per field: a call to the child plan's decoder, or the text converted
    inline (``str``: as is; enumerations: a table lookup; others: their converter).
    """
    src = _Source(plan)
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
    if plan.children:
        src.emit(1, "for node in el[:]:")  # a slice is cheaper than iterating the element
        _dispatch(src, plan, local)
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
    _construct(src, plan, local, lists)
    src.emit(1, "return o")
    return "\n".join(src.lines) + "\n"


def _dispatch(src: _Source, plan: Plan, local: dict[str, str]) -> None:
    entries = list(plan.children.items())
    if len(entries) <= _LINEAR_DISPATCH:
        src.emit(2, "tag = node.tag")
        for index, (qname, child) in enumerate(entries):
            src.emit(2, f"{'if' if index == 0 else 'elif'} tag == {src.const(qname)}:")
            _handle(src, 3, child, local[child.name])
        src.emit(2, "elif isinstance(tag, str):")
        src.emit(3, "raise Unsupported(tag)  # unknown element or wildcard content")
        return  # else a comment or a processing instruction: skipped
    table = {qname: index for index, (qname, _) in enumerate(entries)}
    src.emit(2, f"k = {src.const(table.get)}(node.tag)")
    src.emit(2, "if k is None:")
    src.emit(3, "if isinstance(node.tag, str):")
    src.emit(4, "raise Unsupported(node.tag)  # unknown element or wildcard content")
    src.emit(3, "continue  # comments and processing instructions")
    _tree(src, 2, entries, 0, len(entries), local)


def _tree(
    src: _Source,
    depth: int,
    entries: list[tuple[str, Child]],
    low: int,
    high: int,
    local: dict[str, str],
) -> None:
    """A binary search on the child index ``k`` (``low <= k < high``)."""
    if high - low <= 3:
        for index in range(low, high):
            if index == low:
                src.emit(depth, f"if k == {index}:" if high - low > 1 else "if True:")
            elif index < high - 1:
                src.emit(depth, f"elif k == {index}:")
            else:
                src.emit(depth, "else:")
            child = entries[index][1]
            _handle(src, depth + 1, child, local[child.name])
        return
    middle = (low + high) // 2
    src.emit(depth, f"if k < {middle}:")
    _tree(src, depth + 1, entries, low, middle, local)
    src.emit(depth, "else:")
    _tree(src, depth + 1, entries, middle, high, local)


def _handle(src: _Source, depth: int, child: Child, var: str) -> None:
    """Child element ``node`` bound to field variable ``var``, with the checks in the order
    of the interpreted engine: content, conversion, then repetition."""
    if child.plan is not None:
        src.emit(depth, f"value = {child.plan.decoder_name}(node)")
    else:
        src.emit(depth, "if len(node):")
        src.fail(depth + 1, f"{child.qname} has child elements but a simple type")
        conv = child.decode
        text = 'node.text or ""'
        if conv is _text:
            if not child.repeated:  # cannot fail: check repetition first, store directly
                src.emit(depth, f"if {var} is not None:")
                src.fail(depth + 1, f"{child.qname} repeated")
                src.emit(depth, f"{var} = {text}")
                return
            src.emit(depth, f"value = {text}")
        elif isinstance(conv, _EnumDecoder):
            src.emit(depth, f"value = {src.const(conv.members.get)}({text})")
            src.emit(depth, "if value is None:")
            src.emit(depth + 1, f"raise Unsupported({text})")
        else:
            src.emit(depth, f"value = {src.const(conv)}({text})")
    if child.repeated:
        src.emit(depth, f"{var}.append(value)")
        return
    src.emit(depth, f"if {var} is not None:")
    src.fail(depth + 1, f"{child.qname} repeated")
    src.emit(depth, f"{var} = value")


def _construct(src: _Source, plan: Plan, local: dict[str, str], lists: set[str]) -> None:
    """The instance into ``o``: fields stored directly when ``__init__`` is plain, else
    ``cls(**kw)``. Absent values are ``None`` (no converter returns ``None``) and absent
    lists are empty, exactly as the interpreted engine left them out of the arguments."""
    cls = plan.cls
    cls_name = src.const(cls)
    if not _plain_init(cls):
        src.emit(1, "kw = {}")
        for field_name, name in local.items():
            src.emit(1, f"if {name}:" if field_name in lists else f"if {name} is not None:")
            src.emit(2, f"kw[{field_name!r}] = {name}")
        src.emit(1, "try:")
        src.emit(2, f"o = {cls_name}(**kw)")
        src.emit(1, "except TypeError as exc:  # a required field is missing")
        src.emit(2, "raise Unsupported(str(exc)) from None")
        return
    stores: list[str] = []
    for f in dataclasses.fields(cls):
        var = local.get(f.name)
        if f.default is not dataclasses.MISSING:
            default = "None" if f.default is None else src.const(f.default)
        elif f.default_factory is not dataclasses.MISSING:
            default = "[]" if f.default_factory is list else f"{src.const(f.default_factory)}()"
        else:
            default = ""  # required
        if var is None:  # a field the plan does not bind (wildcard content)
            if not default:
                src.fail(1, f"{cls.__name__}.{f.name} is required")
                return
            stores.append(f"o.{f.name} = {default}")
        elif f.name in lists:
            if not default:
                src.emit(1, f"if not {var}:")
                src.fail(2, f"{cls.__name__}.{f.name} is required")
            if default in ("", "[]"):
                stores.append(f"o.{f.name} = {var}")
            else:
                stores.append(f"o.{f.name} = {var} if {var} else {default}")
        else:
            if not default:
                src.emit(1, f"if {var} is None:")
                src.fail(2, f"{cls.__name__}.{f.name} is required")
            if default in ("", "None"):
                stores.append(f"o.{f.name} = {var}")
            else:
                stores.append(f"o.{f.name} = {var} if {var} is not None else {default}")
    src.emit(1, f"o = new({cls_name})")
    for line in stores:
        src.emit(1, line)


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
