"""The element and type index of a message schema: which element has which type.

Read once per schema file (with its includes and imports). The rules use it to find
elements by schema type (an ``Amt`` is an active-currency amount exactly where the message
definition says so), also in a document that failed the schema.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from pathlib import Path

from lxml import etree

_XS = "{http://www.w3.org/2001/XMLSchema}"


@dataclass(frozen=True)
class SchemaIndex:
    """What the rules need from a message schema: which element has which type."""

    elements: dict[str, str]
    """global element → its type"""
    children: dict[str, dict[str, str]]
    """complex type → child element name → type (sequences and choices flattened)"""
    ccy: dict[str, str]
    """amount type (simple content) → type of its ``Ccy`` attribute"""
    opaque: frozenset[str]
    """complex types with ``xs:any`` content (supplementary data, signatures): not walked"""
    by_name: dict[str, str]
    """element name → type, for names that have one type throughout the schema (used for
    elements out of place in a document that failed the schema)"""
    candidates: tuple[str, ...]
    """lxml tags of every element a caller looks at: the names that have an amount type or
    one of the wanted types (see :func:`schema_index`) somewhere in the schema"""
    opaque_tags: tuple[str, ...]
    """lxml tags of the elements that have an ``xs:any`` type somewhere in the schema"""
    by_pair: dict[tuple[str, str], str]
    """(parent name, element name) → type, for element names with several types whose
    parent's name has one type throughout the schema (so the pair decides the type)"""


def _schema_roots(path: Path, seen: set[Path]) -> list[etree._Element]:
    path = path.resolve()
    if path in seen:
        return []
    seen.add(path)
    parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False)
    root = etree.parse(str(path), parser).getroot()
    out = [root]
    for inc in root.iter(f"{_XS}include", f"{_XS}import"):
        location = inc.get("schemaLocation")
        if location:
            out += _schema_roots(path.parent / location, seen)
    return out


@cache
def schema_index(schema_path: str, wanted: frozenset[str] = frozenset()) -> SchemaIndex | None:
    """Index the schema at ``schema_path`` and its includes (None if it cannot be read).

    ``wanted``: the types the caller looks for; the elements that have one of them, or an
    amount type (simple content with a ``Ccy`` attribute), are the index's ``candidates``.
    """
    try:
        roots = _schema_roots(Path(schema_path), set())
    except (OSError, etree.XMLSyntaxError):
        return None
    elements: dict[str, str] = {}
    children: dict[str, dict[str, str]] = {}
    ccy: dict[str, str] = {}
    opaque: set[str] = set()
    names: dict[str, set[str]] = {}
    for root in roots:
        for el in root.findall(f"{_XS}element"):
            if el.get("name") and el.get("type"):
                elements[el.get("name", "")] = el.get("type", "")
        for ct in root.findall(f"{_XS}complexType"):
            ct_name = ct.get("name")
            if not ct_name:
                continue
            kids = children.setdefault(ct_name, {})
            for el in ct.iter(f"{_XS}element"):
                name, type_ = el.get("name"), el.get("type")
                if name and type_:
                    kids[name] = type_
                    names.setdefault(name, set()).add(type_)
            if ct.find(f".//{_XS}any") is not None:
                opaque.add(ct_name)
            for attr in ct.iter(f"{_XS}attribute"):
                if attr.get("name") == "Ccy" and attr.get("type"):
                    ccy[ct_name] = attr.get("type", "")
    by_name = {name: next(iter(types)) for name, types in names.items() if len(types) == 1}
    wanted = wanted | set(ccy)
    candidates = tuple(sorted(f"{{*}}{name}" for name, types in names.items() if types & wanted))
    opaque_tags = tuple(sorted(f"{{*}}{name}" for name, types in names.items() if types & opaque))
    by_pair = {
        (parent, name): kid_type
        for parent, parent_type in by_name.items()
        for name, kid_type in children.get(parent_type, {}).items()
        if name not in by_name
    }
    return SchemaIndex(
        elements, children, ccy, frozenset(opaque), by_name, candidates, opaque_tags, by_pair
    )
