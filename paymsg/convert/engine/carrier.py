"""Carriers: CNAPS2 values the unified message has no element for, kept in ISO supplementary
data so that CNAPS2 → unified → CNAPS2 gives back the original.

A carrier is a ``SplmtryData`` entry with ``PlcAndNm`` = :data:`CARRY_PLACE` whose ``Envlp``
holds a ``Cnaps2`` element (namespace :data:`CARRY_NS`, the CNAPS2 type in ``@type``) with one
``F`` element per value (``@p`` its data path in the CNAPS2 message element).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from lxml import etree

from paymsg.codec.xml.safe import parse_xml
from paymsg.errors import PaymsgError

#: ``SplmtryData/PlcAndNm`` of the supplementary data that carries CNAPS2-only fields
CARRY_PLACE = "CNAPS2"
#: namespace of the carrier element inside ``SplmtryData/Envlp``
CARRY_NS = "urn:paymsg:cnaps2:carry"


def carry(values: dict[str, str], source: str | None = None) -> dict[str, Any] | None:
    """A ``SplmtryData`` entry holding CNAPS2-only values (``path → value``), or None.

    ``source`` (the CNAPS2 type id the paths belong to) is written on the carrier, so
    that a reverse mapping restores only values of its own type (see :func:`carried`).
    """
    if not values:
        return None
    root = etree.Element(f"{{{CARRY_NS}}}Cnaps2", nsmap={None: CARRY_NS})
    if source is not None:
        root.set("type", source)
    for path, value in values.items():
        etree.SubElement(root, f"{{{CARRY_NS}}}F", p=path).text = value
    return {"PlcAndNm": CARRY_PLACE, "Envlp": {"#any": [etree.tostring(root, encoding="unicode")]}}


@dataclass(frozen=True)
class Carrier:
    """The CNAPS2 values of one carrier (a ``Cnaps2`` fragment in a ``SplmtryData`` entry)."""

    #: 1-based position of the ``SplmtryData`` entry in its list
    position: int
    #: the CNAPS2 type the values were carried from (None: not said)
    type: str | None
    #: carried path → value
    values: dict[str, str]

    def shown(self, holder: str, path: str) -> str:
        """Where a carried value is in the unified message, as loss entries show it."""
        return f"{holder}/SplmtryData[{self.position}]/Envlp/Cnaps2/{path}"


def _fragments(entry: Any) -> list[etree._Element] | None:
    """The parsed carrier fragments of a ``SplmtryData`` entry, or None when it is no carrier
    (another place, or content that is not a well-formed ``Cnaps2`` carrier)."""
    if not isinstance(entry, dict) or entry.get("PlcAndNm") != CARRY_PLACE:
        return None
    envelope = entry.get("Envlp")
    fragments = envelope.get("#any") if isinstance(envelope, dict) else None
    if not isinstance(fragments, list) or not fragments:
        return None
    roots = []
    for fragment in fragments:
        if not isinstance(fragment, str):
            return None
        try:
            root = parse_xml(fragment.encode("utf-8"))
        except PaymsgError:
            return None
        if root.tag != f"{{{CARRY_NS}}}Cnaps2":
            return None
        roots.append(root)
    return roots


def carriers(supplementary: Any) -> list[Carrier]:
    """The CNAPS2 carriers of a ``SplmtryData`` list, one per carrier fragment."""
    out: list[Carrier] = []
    entries = supplementary if isinstance(supplementary, list) else []
    for position, entry in enumerate(entries, start=1):
        for root in _fragments(entry) or []:
            values = {item.get("p", ""): item.text or "" for item in root.iter(f"{{{CARRY_NS}}}F")}
            out.append(Carrier(position, root.get("type"), values))
    return out


def take_carriers(node: dict[str, Any], ours: Callable[[str | None], bool]) -> list[Carrier]:
    """Take from ``node["SplmtryData"]`` the carriers whose every fragment is of a type
    ``ours`` accepts, and return them. A taken entry leaves an empty entry behind, so the
    others keep their positions (and loss paths); with none left the list goes."""
    entries = node.get("SplmtryData")
    if not isinstance(entries, list):
        return []
    taken: list[Carrier] = []
    for position, entry in enumerate(entries, start=1):
        found = carriers([entry])
        if _fragments(entry) is not None and all(ours(carrier.type) for carrier in found):
            taken += [Carrier(position, c.type, c.values) for c in found]
            entries[position - 1] = {}
    if all(entry == {} for entry in entries):
        node.pop("SplmtryData", None)
    return taken


def carried(supplementary: Any, source: str | None = None) -> dict[str, str]:
    """The CNAPS2-only values of a ``SplmtryData`` list (empty when there are none).

    With ``source``, only the values carried from that CNAPS2 type (see :func:`carry`).
    """
    out: dict[str, str] = {}
    for carrier in carriers(supplementary):
        if source is None or carrier.type == source:
            out.update(carrier.values)
    return out


@dataclass(frozen=True)
class CarriedValue:
    """One carried value to restore: its path in the target message, its value, and where
    it is in the unified message (as loss entries show it)."""

    path: str
    value: str
    source: str


def carried_values(holder: str, found: Iterable[Carrier]) -> list[CarriedValue]:
    """The values of ``found`` (carriers of the element at ``holder``, a loss path)."""
    return [
        CarriedValue(path, value, carrier.shown(holder, path))
        for carrier in found
        for path, value in carrier.values.items()
    ]
