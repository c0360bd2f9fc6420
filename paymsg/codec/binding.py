"""Binding between XML elements and the generated dataclasses (xsdata engine).

The one place that calls xsdata's parser and serializer. A bind failure is turned
into a :class:`~paymsg.errors.BindingError` that says where the document breaks the
schema (line and element path), found by validating the element against the
message's schema.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Callable
from functools import cache
from typing import Any

from lxml import etree
from xsdata.exceptions import ConverterError, ParserError
from xsdata.formats.dataclass.context import XmlContext
from xsdata.formats.dataclass.parsers import XmlParser
from xsdata.formats.dataclass.parsers.config import ParserConfig
from xsdata.formats.dataclass.parsers.handlers import LxmlEventHandler
from xsdata.formats.dataclass.serializers import XmlSerializer
from xsdata.formats.dataclass.serializers.config import SerializerConfig

from paymsg.catalog import MessageType
from paymsg.codec.xmlsafe import element_path, local_name
from paymsg.errors import BindingError

CONTEXT = XmlContext()
_NS_IN_MESSAGE = re.compile(r"\{[^}]*\}")

_PARSER_CONFIG = ParserConfig(
    fail_on_unknown_properties=True,
    fail_on_unknown_attributes=False,  # xsi:schemaLocation and friends are not data
    fail_on_converter_warnings=True,
)
_SERIALIZER_CONFIG = SerializerConfig(indent="  ", xml_declaration=False)


@cache
def compiled_schema(schema_path: str) -> etree.XMLSchema:
    """The lxml schema for a schema file, compiled once per process."""
    parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False)
    return etree.XMLSchema(etree.parse(schema_path, parser))


def schema_errors(element: etree._Element, mtype: MessageType) -> list[tuple[int | None, str, str]]:
    """``(line, element path, message)`` for each schema violation of ``element``."""
    schema = compiled_schema(str(mtype.schema_path))
    # validate a standalone copy: libxml2 misreads a subtree validated inside a wrapper
    standalone = copy.deepcopy(element) if element.getparent() is not None else element
    if schema.validate(standalone):
        return []
    doc = standalone.getroottree()
    parent = element.getparent()
    prefix = element_path(parent) if parent is not None else ""
    found = []
    for entry in schema.error_log:
        target = None
        if entry.path:
            try:
                hits = doc.xpath(entry.path)
                target = hits[0] if hits and isinstance(hits, list) else None
            except etree.XPathError:
                target = None
        if isinstance(target, etree._Element):
            path = prefix + element_path(target)
        else:
            path = entry.path or ""
        found.append((entry.line or None, path, _NS_IN_MESSAGE.sub("", entry.message)))
    return found


def bind(
    element: etree._Element,
    mtype: MessageType,
    *,
    source: str | None = None,
    pristine: Callable[[], etree._Element] | None = None,
) -> Any:
    """Bind ``element`` (a ``Document`` or ``AppHdr``) to the model of ``mtype``.

    Binding consumes the tree (xsdata clears elements as it goes); on failure,
    ``pristine`` gives a fresh copy of the element to locate the problem in.
    """
    expected = mtype.root
    if local_name(element.tag) != expected:
        raise BindingError(
            f"expected a {expected} element for {mtype.id}, found {local_name(element.tag)}",
            source=source,
            line=element.sourceline,
            path=element_path(element),
        )
    parser = XmlParser(context=CONTEXT, handler=LxmlEventHandler, config=_PARSER_CONFIG)
    try:
        return parser.parse(element, mtype.root_class)
    except (ParserError, ConverterError, ValueError, TypeError, LookupError) as exc:
        problems = schema_errors(pristine() if pristine else element, mtype)
        if problems:
            line, path, message = problems[0]
            more = f" (and {len(problems) - 1} more schema errors)" if len(problems) > 1 else ""
            raise BindingError(
                f"does not fit {mtype.id}: {message}{more}",
                source=source,
                line=line,
                path=path,
                hint="run `paymsg validate` for every finding",
            ) from None
        raise BindingError(
            f"does not fit {mtype.id}: {exc}", source=source, line=element.sourceline
        ) from None


def render(obj: Any, namespace: str) -> str:
    """XML text of a bound object, its namespace as the default one (no declaration)."""
    serializer = XmlSerializer(context=CONTEXT, config=_SERIALIZER_CONFIG)
    return serializer.render(obj, ns_map={None: namespace})
