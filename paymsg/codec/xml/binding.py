"""Binding between XML elements and the generated dataclasses (xsdata engine).

The one place that calls xsdata's parser and serializer. A bind failure is turned
into a :class:`~paymsg.errors.BindingError` that says where the document breaks the
schema (line and element path), found by validating the element against the
message's schema.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Literal

from lxml import etree
from xsdata.exceptions import ConverterError, ParserError

from paymsg.codec.xml import fast
from paymsg.codec.xml.context import CONTEXT, generic_parser, generic_serializer
from paymsg.codec.xml.gcpause import paused_gc
from paymsg.codec.xml.safe import local_name
from paymsg.errors import BindingError
from paymsg.schema.catalog import MessageType
from paymsg.schema.index import borrowed_schema, compiled_schema

__all__ = [
    "CONTEXT",
    "XSI_NS",
    "Engine",
    "bind",
    "compiled_schema",
    "generic_parser",
    "render",
    "xsi_markup",
    "xsi_of",
]

Engine = Literal["fast", "xsdata"]
_NS_IN_MESSAGE = re.compile(r"\{[^}]*\}")
_PREFIXED_STEP = re.compile(r"^(\w+):(\w+)")


@dataclass(frozen=True, slots=True)
class SchemaProblem:
    """One schema violation: where (line, element path), what (libxml2 kind and text)."""

    line: int | None
    path: str
    message: str
    kind: str
    value: str | None


def _target(element: etree._Element, log_path: str | None) -> etree._Element | None:
    """The element a libxml2 error path names; the path's first step is ``element`` itself."""
    if not log_path:
        return None
    steps = [_PREFIXED_STEP.sub(r"*[local-name()='\2']", step) for step in log_path.split("/")[2:]]
    if not steps:
        return element
    try:
        hits = element.xpath("./" + "/".join(steps))
    except etree.XPathError:
        return None
    return (
        hits[0] if isinstance(hits, list) and hits and isinstance(hits[0], etree._Element) else None
    )


def schema_errors(element: etree._Element, mtype: MessageType) -> list[SchemaProblem]:
    """Every schema violation of ``element`` (validated in place; the tree must be intact)."""
    with borrowed_schema(str(mtype.schema_path)) as schema:
        if schema.validate(element):
            return []
        entries = list(schema.error_log)  # this call's log, read before another call runs
    found = []
    for entry in entries:
        target = _target(element, entry.path)
        path = fast.element_path(target) if target is not None else (entry.path or "")
        value = None
        if target is not None and len(target) == 0 and target.text is not None:
            value = target.text
        found.append(
            SchemaProblem(
                entry.line or None,
                path,
                _NS_IN_MESSAGE.sub("", entry.message),
                entry.type_name,
                value,
            )
        )
    return found


def bind(
    element: etree._Element,
    mtype: MessageType,
    *,
    source: str | None = None,
    pristine: Callable[[], etree._Element] | None = None,
    engine: Engine = "fast",
) -> Any:
    """Bind ``element`` (a ``Document`` or ``AppHdr``) to the model of ``mtype``.

    ``engine="fast"`` uses precomputed plans (:mod:`paymsg.codec.xml.fast`) and falls back
    to xsdata's generic binder for anything they do not cover; ``"xsdata"`` forces the
    generic binder. The generic binder consumes the tree (it clears elements as it goes);
    on failure, ``pristine`` gives a fresh copy of the element to locate the problem in.
    """
    expected = mtype.root
    if local_name(element.tag) != expected:
        raise BindingError(
            f"expected a {expected} element for {mtype.id}, found {local_name(element.tag)}",
            source=source,
            line=element.sourceline,
            path=fast.element_path(element),
        )
    # comments and processing instructions inside the message are not data, but would cut a
    # value in two ("text<!-- c -->more" is one value): remove them, merging the text
    etree.strip_tags(element, etree.Comment, etree.ProcessingInstruction)
    return _bind(element, mtype, source, pristine, engine)


def _bind(
    element: etree._Element,
    mtype: MessageType,
    source: str | None,
    pristine: Callable[[], etree._Element] | None,
    engine: Engine,
) -> Any:
    if engine == "fast":
        try:
            with paused_gc():  # the decoders let the collector run every GC_CHUNK items
                return fast.decode(element, fast.plan_for(mtype.root_class))
        except (fast.Unsupported, ValueError, TypeError):
            pass  # the generic binder decides (and explains any error)
    # xsdata's binder has no place to let the collector run now and then, so it runs with
    # the collector as the application has set it
    try:
        plan = fast.plan_for(mtype.root_class)
    except fast.Unsupported:
        pass  # a model the plans cannot describe: the binder's own conversions apply
    else:  # values the binder would read outside their lexical space
        fast.check_values(element, plan, source=source)
    try:
        return generic_parser().parse(element, mtype.root_class)
    except (ParserError, ConverterError, ValueError, TypeError, LookupError) as exc:
        problems = schema_errors(pristine() if pristine else element, mtype)
        if problems:
            first = problems[0]
            more = f" (and {len(problems) - 1} more schema errors)" if len(problems) > 1 else ""
            raise BindingError(
                f"does not fit {mtype.id}: {first.message}{more}",
                source=source,
                line=first.line,
                path=first.path,
                hint="run `paymsg validate` for every finding",
            ) from None
        raise BindingError(
            f"does not fit {mtype.id}: {exc}", source=source, line=element.sourceline
        ) from None


#: the XML Schema instance namespace (``xsi:schemaLocation``, ``xsi:type``, ``xsi:nil``)
XSI_NS = "http://www.w3.org/2001/XMLSchema-instance"


def xsi_of(element: etree._Element) -> dict[str, str]:
    """The ``xsi:*`` attributes of a message part's root (local name → value, in document
    order): not data of the model, but kept so that serializing writes them back."""
    prefix = f"{{{XSI_NS}}}"
    return {
        key[len(prefix) :]: value for key, value in element.attrib.items() if key.startswith(prefix)
    }


def xsi_markup(xsi: Mapping[str, str] | None) -> str:
    """Attribute text for a root start tag carrying ``xsi`` (see :func:`xsi_of`)."""
    if not xsi:
        return ""
    attributes = "".join(f' xsi:{name}="{fast.escape_attr(value)}"' for name, value in xsi.items())
    return f' xmlns:xsi="{XSI_NS}"{attributes}'


def render(
    obj: Any, namespace: str, engine: Engine = "fast", *, xsi: Mapping[str, str] | None = None
) -> str:
    """XML text of a bound object, its namespace as the default one (no declaration);
    ``xsi`` attributes (see :func:`xsi_of`) go on its root."""
    extra = xsi_markup(xsi)
    if engine == "fast":
        try:
            return fast.write(obj, fast.plan_for(type(obj)), namespace, extra) + "\n"
        except fast.Unsupported:
            pass
    text = generic_serializer().render(obj, ns_map={None: namespace})
    if not extra:
        return text
    # xsdata writes the root as <Name xmlns="namespace"...: the attributes go after that
    root = CONTEXT.build(type(obj)).qname.rpartition("}")[2]
    start = f'<{root} xmlns="{fast.escape_attr(namespace)}"'
    if not text.startswith(start):
        raise BindingError(f"cannot place the xsi attributes on <{root}>: unexpected root")
    return start + extra + text[len(start) :]


XML_DECLARATION = b'<?xml version="1.0" encoding="UTF-8"?>\n'


def document_xml(document: Any, mtype: MessageType, xsi: Mapping[str, str] | None = None) -> bytes:
    """Canonical XML of one document: declaration, default namespace, schema order; the
    ``xsi`` attributes (see :attr:`Message.xsi`) on its root."""
    return XML_DECLARATION + render(document, mtype.namespace, xsi=xsi).encode("utf-8") + b"\n"
