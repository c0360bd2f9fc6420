"""What the ISO 20022 rule packs share: the message types each rule knows, the
schema-typed walk (elements found by their XSD type) and small value helpers."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Iterator
from decimal import Decimal
from functools import cache
from typing import Any

from lxml import etree

from paymsg.codec.xml.safe import local_name, namespace_of
from paymsg.schema.catalog import MessageType, catalog
from paymsg.schema.index import SchemaIndex, schema_index
from paymsg.validation.registry import Findings, RuleContext

PACS_TRANSFERS = ("pacs.008.001.08", "pacs.009.001.08", "pacs.008.001.02", "pacs.009.001.02")
SETTLED_TYPES = (*PACS_TRANSFERS, "pacs.004.001.09")
#: the versions of each message the per-type rules know: a version listed here gets the
#: rules of its message (the element names those rules read are the same in every version)
PAIN001_TYPES = ("pain.001.001.09", "pain.001.001.03")
STATUS_REPORT_TYPES = ("pacs.002.001.10", "pain.002.001.10", "pain.002.001.03", "camt.029.001.09")
STATEMENT_TYPES = ("camt.053.001.08", "camt.053.001.02")
ACCOUNT_REPORT_TYPES = (*STATEMENT_TYPES, "camt.054.001.08", "camt.054.001.02", "camt.052.001.08")
HEADER_TYPES = ("head.001.001.02", "head.001.001.04")

#: the message types of SWIFT CBPR+ in the catalogue (2019 generation)
CBPR_TYPES = frozenset(
    {
        "pacs.008.001.08",
        "pacs.009.001.08",
        "pacs.002.001.10",
        "pacs.004.001.09",
        "camt.052.001.08",
        "camt.053.001.08",
        "camt.054.001.08",
        "camt.056.001.08",
        "camt.029.001.09",
    }
)

# ---------------------------------------------------------------------------------------
# Schema-typed walk
# ---------------------------------------------------------------------------------------

_OPAQUE = "\x00opaque"  # marks elements inside xs:any content

BIC_TYPES = frozenset(
    {"BICFIDec2014Identifier", "AnyBICDec2014Identifier", "BICIdentifier", "AnyBICIdentifier"}
)
IBAN_TYPES = frozenset({"IBAN2007Identifier"})
LEI_TYPES = frozenset({"LEIIdentifier"})
UUID_TYPES = frozenset({"UUIDv4Identifier"})
ACTIVE_CCY = "ActiveCurrencyCode"
ANY_CCY = "ActiveOrHistoricCurrencyCode"
#: amount types whose decimals are limited by the currency's minor units (the 13-decimal
#: amounts, for prices and rates, are not)
MINOR_UNIT_AMOUNTS = frozenset({"ActiveCurrencyAndAmount", "ActiveOrHistoricCurrencyAndAmount"})
#: the types some rule looks for (amount types with a Ccy attribute are added per schema)
TYPED_RULE_TYPES = BIC_TYPES | IBAN_TYPES | LEI_TYPES | UUID_TYPES | {ACTIVE_CCY, ANY_CCY}


@cache
def typed_index(schema_path: str) -> SchemaIndex | None:
    """The index of the schema at ``schema_path``, with the elements the typed rules look
    at as its candidates (None if the schema cannot be read)."""
    return schema_index(schema_path, TYPED_RULE_TYPES)


Typed = list[tuple[etree._Element, str | None]]


def typed_walk(root: etree._Element, index: SchemaIndex) -> Typed:
    """The elements under ``root`` that the typed rules look at (document order), each with
    its schema type or None. Types are resolved from the element's ancestors, once each;
    content under ``xs:any`` (supplementary data, signatures) is left out."""
    children, by_name, opaque = index.children, index.by_name, index.opaque
    types: dict[etree._Element, str | None] = {}

    def type_of(element: etree._Element) -> str | None:
        if element in types:
            return types[element]
        name = element.tag.rpartition("}")[2]
        parent = element.getparent() if element is not root else None
        if parent is None:
            found = index.elements.get(name) or by_name.get(name)
        else:
            parent_type = type_of(parent)
            if parent_type in opaque or parent_type == _OPAQUE:
                found = _OPAQUE
            else:
                kids = children.get(parent_type, {}) if parent_type else {}
                found = kids.get(name) or by_name.get(name)
        types[element] = found
        return found

    out: Typed = []
    if index.opaque_tags and next(root.iter(*index.opaque_tags), None) is not None:
        for element in root.iter(*index.candidates):
            type_ = type_of(element)
            if type_ != _OPAQUE:
                out.append((element, type_))
        return out
    # no xs:any content: a name with one type in the whole schema has that type wherever it
    # stands, and so has a name whose parent's name has one type; only the rest need the
    # types of their ancestors
    by_pair = index.by_pair
    for element in root.iter(*index.candidates):
        name = element.tag.rpartition("}")[2]
        type_ = by_name.get(name)
        if type_ is None and element is not root:
            parent = element.getparent()
            if parent is not None:
                type_ = by_pair.get((parent.tag.rpartition("}")[2], name))
            if type_ is None:
                type_ = type_of(element)
        out.append((element, type_))
    return out


def catalogued_type(element: etree._Element, fallback: MessageType) -> MessageType | None:
    namespace = namespace_of(element.tag)
    if namespace == fallback.namespace:
        return fallback
    return catalog().by_namespace(namespace)


def typed_parts(ctx: RuleContext) -> list[tuple[Typed, SchemaIndex]]:
    """The typed walks of the document and of its business application header.

    Several rules need them; they are computed once per validation (``ctx.memo``).
    """

    def walk() -> list[tuple[Typed, SchemaIndex]]:
        parts: list[tuple[Typed, SchemaIndex]] = []
        for root in (ctx.app_header, ctx.document):
            if root is None:
                continue
            mtype = catalogued_type(root, ctx.type)
            index = typed_index(str(mtype.schema_path)) if mtype is not None else None
            if index is not None:
                parts.append((typed_walk(root, index), index))
        return parts

    parts: list[tuple[Typed, SchemaIndex]] = ctx.memo("iso20022.typed-walk", walk)
    return parts


def identifier_findings(
    ctx: RuleContext, types: frozenset[str], check: Callable[[str], Any]
) -> Findings:
    """A finding for every element of ``types`` whose value ``check`` finds a problem in."""
    for element in typed_elements(ctx, types):
        value = ctx.text(element)
        problem = check(value) if value else None
        if problem is not None:
            yield ctx.finding(
                element,
                f"{element_name(element)} {value}: {problem.en}",
                f"{element_name(element)} {value}：{problem.zh}",
                value=value,
            )


def typed_elements(ctx: RuleContext, types: frozenset[str]) -> Iterator[etree._Element]:
    """Elements of the document and header whose schema type is one of ``types``."""
    for walk, _index in typed_parts(ctx):
        for element, type_ in walk:
            if type_ in types:
                yield element


# ---------------------------------------------------------------------------------------
# Small helpers
# ---------------------------------------------------------------------------------------


def element_name(element: etree._Element) -> str:
    return local_name(element.tag)


def as_int(text: str | None) -> int | None:
    return int(text) if text is not None and text.isdigit() else None


def sum_or_none(values: Iterable[Decimal | None]) -> Decimal | None:
    """The sum, or None when any value is missing or not a number."""
    total = Decimal(0)
    for value in values:
        if value is None:
            return None
        total += value
    return total


def iso_date(text: str | None) -> dt.date | None:
    """The date of an ISODate or ISODateTime as written (its own time zone), or None."""
    if text is None or len(text) < 10:
        return None
    try:
        return dt.date.fromisoformat(text[:10])
    except ValueError:
        return None


def fmt(value: Decimal) -> str:
    return format(value, "f")


def app_header_of(ctx: RuleContext) -> etree._Element | None:
    """The AppHdr: beside the document, or the document itself for a bare header."""
    if ctx.app_header is not None:
        return ctx.app_header
    if ctx.type.family == "head":
        return ctx.document
    return None
