"""xsdata as paymsg configures it: one binding context, one parser configuration, one
serializer configuration.

Every module that hands a document to xsdata takes these from here, so the generic binder
behaves the same wherever it runs (whole messages, transactions read in pieces, the
streaming writer, JSON). It imports nothing from paymsg.
"""

from __future__ import annotations

from xsdata.formats.dataclass.context import XmlContext
from xsdata.formats.dataclass.parsers import XmlParser
from xsdata.formats.dataclass.parsers.config import ParserConfig
from xsdata.formats.dataclass.parsers.handlers import LxmlEventHandler
from xsdata.formats.dataclass.serializers import XmlSerializer
from xsdata.formats.dataclass.serializers.config import SerializerConfig

#: xsdata's metadata of the generated classes, built once per class and shared
CONTEXT = XmlContext()

PARSER_CONFIG = ParserConfig(
    fail_on_unknown_properties=True,
    fail_on_unknown_attributes=False,  # xsi:schemaLocation and friends are not data
    fail_on_converter_warnings=True,
)
SERIALIZER_CONFIG = SerializerConfig(indent="  ", xml_declaration=False)


def generic_parser() -> XmlParser:
    """xsdata's binder as paymsg configures it: unknown elements and values it cannot
    convert are errors (not warnings on stderr and a value of the wrong type)."""
    return XmlParser(context=CONTEXT, handler=LxmlEventHandler, config=PARSER_CONFIG)


def generic_serializer(*, indented: bool = True) -> XmlSerializer:
    """xsdata's serializer on the shared context; ``indented`` as paymsg writes documents."""
    if indented:
        return XmlSerializer(context=CONTEXT, config=SERIALIZER_CONFIG)
    return XmlSerializer(context=CONTEXT)
