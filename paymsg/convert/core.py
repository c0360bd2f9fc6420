"""The conversion hub: every CNAPS2 type maps to and from its unified (ISO 20022) counterpart.

Mappings are plain functions registered for one ``(source type, target type)`` edge of
the hub; they work on the JSON-shaped data of a message (XML names as keys, see
:mod:`paymsg.codec.json.engine`) and record every field they cannot carry in the
:class:`MappingContext`'s loss list. Any-to-any conversion goes through the hub
(``beps.121 → pacs.008.001.08 → hvps.111``), never pairwise.

Data CNAPS2 has and ISO has no element for is carried in ISO supplementary data
(``SplmtryData`` with ``PlcAndNm`` = :data:`CARRY_PLACE` and the original CNAPS2 XML
elements in the envelope), so CNAPS2 → unified → CNAPS2 reproduces the original.

The way back puts carried values in with :func:`restore`, one rule for every engine: a carried
value fills only a place that no row, rule or default of the mapping has filled from the
unified message. A carried value that disagrees with the unified message — with what the
mapping wrote, or with the unified field it was carried alongside (``stale``) — is not used
and is reported (``dropped``, :data:`CARRIED_CONFLICT`): the unified value wins. A carried path
that is not well-formed, lacks a list index, or does not exist in the target message is
reported too, never followed.

Loss entries name fields by absolute paths, ``/Document/<message element>/…`` (1-based list
indexes); the text of an element is the element itself (``…/IntrBkSttlmAmt``) and an
attribute is ``…/IntrBkSttlmAmt/@Ccy`` (see :func:`loss_path`). ``LossEntry.document`` is the
type the source path belongs to (on a route through the hub, the intermediate unified type
for the second edge).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

from lxml import etree
from pydantic import BaseModel, ConfigDict

from paymsg.codec.json.engine import from_data, to_data
from paymsg.codec.message import Message
from paymsg.codec.xml.binding import CONTEXT
from paymsg.codec.xml.safe import parse_xml
from paymsg.errors import ConversionError, ConversionLossError, PaymsgError
from paymsg.reference.cnaps2 import BEIJING
from paymsg.schema.catalog import MessageType, catalog

Action = Literal["dropped", "truncated", "defaulted", "transliterated", "moved"]

#: ``SplmtryData/PlcAndNm`` of the supplementary data that carries CNAPS2-only fields
CARRY_PLACE = "CNAPS2"
#: namespace of the carrier element inside ``SplmtryData/Envlp``
CARRY_NS = "urn:paymsg:cnaps2:carry"
#: why a carried value is not used: the unified message says something else
CARRIED_CONFLICT = "carried CNAPS2 value conflicts with the unified field; the unified value wins"


class LossEntry(BaseModel):
    """One field that did not survive a conversion unchanged.

    ``source_path`` and ``target_path`` are absolute (``/Document/<message element>/…``, see
    :func:`loss_path`); ``document`` is the message type ``source_path`` belongs to.
    """

    model_config = ConfigDict(frozen=True)

    source_path: str
    action: Action
    reason: str
    target_path: str | None = None
    value: str | None = None
    document: str | None = None


_TEXT_STEP = re.compile(r"/#text(?=/|$)")
_ANY_STEP = re.compile(r"/#any(?=[/\[]|$)")


def loss_path(path: str) -> str:
    """A data path as loss entries show it.

    Absolute (a path relative to the document gets ``/Document/``); the text of an element
    is the element (``…/IntrBkSttlmAmt``, never ``…/#text``), an attribute stays
    ``…/IntrBkSttlmAmt/@Ccy``, and wildcard content is ``…/Envlp/*[1]`` (not ``#any``).
    """
    if not path.startswith("/"):
        path = "/Document/" + path
    return _ANY_STEP.sub("/*", _TEXT_STEP.sub("", path))


@dataclass
class Conversion:
    """The converted message and the list of everything that was lost on the way."""

    message: Message
    loss: list[LossEntry] = field(default_factory=list)

    @property
    def lossless(self) -> bool:
        return not self.loss


@dataclass
class ConvertOptions:
    """Options of a conversion (CNAPS2 header fields for CNAPS2 targets, ids, clock)."""

    sender: str | None = None
    receiver: str | None = None
    priority: Literal["1", "2", "3"] | None = None
    id_generator: Callable[[], str] | None = None
    now: datetime | None = None
    wrap: bool = True


@dataclass
class MappingContext:
    """What a mapping function gets besides the source data: options and the loss log."""

    source: MessageType
    target: MessageType
    options: ConvertOptions
    loss: list[LossEntry] = field(default_factory=list)

    def lose(
        self,
        source_path: str,
        action: Action,
        reason: str,
        *,
        value: Any = None,
        target_path: str | None = None,
    ) -> None:
        self.loss.append(
            LossEntry(
                source_path=loss_path(source_path),
                action=action,
                reason=reason,
                target_path=None if target_path is None else loss_path(target_path),
                value=None if value is None else str(value),
            )
        )

    @property
    def recorded(self) -> set[str]:
        """The source paths reported so far."""
        return {entry.source_path for entry in self.loss}

    def fit(self, source_path: str, text: str | None, limit: int, target_path: str) -> str | None:
        """``text`` cut to ``limit`` characters; a cut is recorded as truncation."""
        if text is None or len(text) <= limit:
            return text
        self.lose(
            source_path,
            "truncated",
            f"{len(text)} characters, the target field holds {limit}",
            value=text,
            target_path=target_path,
        )
        return text[:limit]


Mapper = Callable[[dict[str, Any], MappingContext], dict[str, Any]]
_EDGES: dict[tuple[str, str], Mapper] = {}


def mapping(source: str, target: str) -> Callable[[Mapper], Mapper]:
    """Register ``func`` as the mapping of one hub edge."""

    def register(func: Mapper) -> Mapper:
        if (source, target) in _EDGES:
            raise ValueError(f"mapping {source} → {target} registered twice")
        _EDGES[(source, target)] = func
        return func

    return register


# --------------------------------------------------------------------------- dict paths

#: one step of a data path: a name (``@attr``, ``#text``, ``#any`` for the JSON-internal keys)
#: and an optional 1-based list index
PATH_STEP = re.compile(r"^([@#]?\w+)(?:\[(\d+)\])?$")


def get(data: Any, path: str) -> Any:
    """Value at ``a/b[2]/c`` (1-based indexes; a list without index means its first item)."""
    node = data
    for step in path.strip("/").split("/"):
        match = PATH_STEP.match(step)
        if match is None or not isinstance(node, dict):
            return None
        node = node.get(match.group(1))
        if isinstance(node, list):
            index = int(match.group(2) or 1) - 1
            node = node[index] if 0 <= index < len(node) else None
        if node is None:
            return None
    return node


def put(data: dict[str, Any], path: str, value: Any) -> None:
    """Set ``value`` at ``a/b[2]/c``, creating what is missing; absent values are not written.

    A step with an index (``b[2]``) is a list (repeatable element); without one, a dict.
    """
    if value is None or value == [] or value == {}:
        return
    steps = [PATH_STEP.match(step) for step in path.strip("/").split("/")]
    node: Any = data
    for position, match in enumerate(steps):
        if match is None:
            raise ValueError(f"bad path {path!r}")
        name, index = match.group(1), match.group(2)
        last = position == len(steps) - 1
        if index is None:
            if last:
                node[name] = value
            else:
                node = node.setdefault(name, {})
            continue
        items = node.setdefault(name, [])
        while len(items) < int(index):
            items.append({})
        if last:
            items[int(index) - 1] = value
        else:
            node = items[int(index) - 1]


def take(data: Any, path: str) -> Any:
    """Remove and return the value at ``path`` (see :func:`get`); empty parents go too."""
    steps = path.strip("/").split("/")
    parent = get(data, "/".join(steps[:-1])) if len(steps) > 1 else data
    if not isinstance(parent, dict):
        return None
    value = parent.pop(steps[-1], None)
    if len(steps) > 1 and not parent:
        take(data, "/".join(steps[:-1]))
    return value


def flatten(data: Any, prefix: str = "") -> dict[str, str]:
    """Every scalar under ``data`` by path; list items always carry their 1-based index."""
    out: dict[str, str] = {}
    if isinstance(data, dict):
        for key, value in data.items():
            here = f"{prefix}/{key}" if prefix else key
            if isinstance(value, list):
                for index, item in enumerate(value, start=1):
                    out.update(flatten(item, f"{here}[{index}]"))
            else:
                out.update(flatten(value, here))
    elif isinstance(data, bool):
        out[prefix] = "true" if data else "false"
    elif data is not None:
        out[prefix] = str(data)
    return out


def unflatten(values: dict[str, str], into: dict[str, Any] | None = None) -> dict[str, Any]:
    """The inverse of :func:`flatten`."""
    out: dict[str, Any] = {} if into is None else into
    for path, value in values.items():
        put(out, path, value)
    return out


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


# --------------------------------------------------------------------------- restoring carriers


def model_var(cls: type, name: str) -> Any:
    """The xsdata variable of ``cls`` a data-path step names (element, ``@attr``, ``#text``,
    ``#any``), or None."""
    for var in CONTEXT.build(cls).get_all_vars():
        if name.startswith("@"):
            if var.is_attribute and var.local_name == name[1:]:
                return var
        elif name == "#text":
            if var.is_text:
                return var
        elif name == "#any":
            if var.is_wildcard:
                return var
        elif var.is_element and var.local_name == name:
            return var
    return None


def model_at(cls: type, path: str) -> type:
    """The model class at ``path`` (element steps, no indexes) below ``cls``."""
    for step in path.split("/"):
        var = model_var(cls, step)
        if var is None or var.clazz is None:
            raise ValueError(f"{step} is not an element of {cls.__name__}")
        cls = var.clazz
    return cls


def path_problem(cls: type, path: str) -> str | None:
    """Why a carried ``path`` (as :func:`flatten` writes it) cannot be used below ``cls``, or
    None when it names a value there: every step well-formed, an index exactly where the
    model has a list, ending at a value (attribute, text, simple element)."""
    steps = path.split("/") if path else []
    if not steps:
        return "is empty"
    node: type | None = cls
    for position, step in enumerate(steps):
        match = PATH_STEP.match(step)
        if match is None:
            return f"is not a well-formed path (step {step!r})"
        if node is None:
            return f"goes below a value ({'/'.join(steps[:position])})"
        name, index = match.group(1), match.group(2)
        var = model_var(node, name)
        if var is None:
            return f"names {name}, which {node.__name__} does not have"
        repeated = bool(var.is_wildcard or (var.list_element and var.is_element))
        if repeated and index is None:
            return f"has no index at {name}, a list"
        if not repeated and index is not None:
            return f"indexes {name}, which is not a list"
        if index is not None and int(index) < 1:
            return f"has index {index} at {name} (indexes start at 1)"
        if var.is_attribute or var.is_text or var.is_wildcard:
            if position != len(steps) - 1:
                return f"goes below a value ({'/'.join(steps[: position + 1])})"
            return None
        node = var.clazz
    return None if node is None else "ends at an element that holds other elements"


def leaves(value: Any, path: str) -> dict[str, str]:
    """The scalars of ``value`` (found at ``path``) by their paths, as :func:`flatten` writes
    them (a list at ``path`` itself gets its indexes)."""
    if isinstance(value, list):
        out: dict[str, str] = {}
        for index, item in enumerate(value, start=1):
            out.update(leaves(item, f"{path}[{index}]"))
        return out
    if isinstance(value, dict):
        return flatten(value, path)
    if isinstance(value, bool):
        return {path: "true" if value else "false"}
    return {} if value is None else {path: str(value)}


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


def _room(data: dict[str, Any], path: str) -> bool:
    """Whether :func:`put` can write ``path`` without leaving a hole in a list."""
    node: Any = data
    for step in path.split("/"):
        match = PATH_STEP.match(step)
        if match is None or not isinstance(node, dict):
            return False
        name, index = match.group(1), match.group(2)
        child = node.get(name)
        if index is None:
            if child is None:
                return True
            node = child
            continue
        if child is None:
            return index == "1"
        if not isinstance(child, list) or int(index) > len(child) + 1:
            return False
        if int(index) == len(child) + 1:
            return True
        node = child[int(index) - 1]
    return True


def restore(
    out: dict[str, Any],
    values: Iterable[CarriedValue],
    ctx: MappingContext,
    *,
    model: type,
    target: Callable[[str], str],
    stale: Callable[[str, str], bool] | None = None,
) -> dict[str, str]:
    """Put carried values into ``out`` (data of the target message element ``model``) where
    the mapping has written nothing; the values restored are returned.

    Reported (``dropped``), never used: a path :func:`path_problem` rejects; a value that
    differs from what the mapping wrote at its path, or that is an item of a list of values
    the mapping wrote; a value ``stale`` says the unified message contradicts (the unified
    field it was carried alongside says something else, or is gone) — the unified value wins.
    """
    written = flatten(out)
    value_lists = {path.rsplit("[", 1)[0] for path in written if path.endswith("]")}
    restored: dict[str, str] = {}
    for item in values:
        problem = path_problem(model, item.path)
        if problem is not None:
            ctx.lose(
                item.source,
                "dropped",
                f"carried CNAPS2 path {item.path!r} {problem}: not restored",
                value=item.value,
            )
            continue
        current = get(out, item.path)
        if current is not None and not isinstance(current, (dict, list)):
            if str(current) != item.value:
                ctx.lose(
                    item.source,
                    "dropped",
                    CARRIED_CONFLICT,
                    value=item.value,
                    target_path=target(item.path),
                )
            continue
        in_list = item.path.endswith("]") and item.path.rsplit("[", 1)[0] in value_lists
        if current is not None or in_list or (stale is not None and stale(item.path, item.value)):
            ctx.lose(
                item.source,
                "dropped",
                CARRIED_CONFLICT,
                value=item.value,
                target_path=target(item.path),
            )
            continue
        if not _room(out, item.path):
            ctx.lose(
                item.source,
                "dropped",
                f"carried CNAPS2 path {item.path!r} skips list items: not restored",
                value=item.value,
            )
            continue
        put(out, item.path, item.value)
        restored[item.path] = item.value
    return restored


# --------------------------------------------------------------------------- shared value rules

#: structured address parts, large unit first (Chinese order; ``Ctry`` CN is left out)
CHINESE_ADDRESS_ORDER = (
    "Ctry", "CtrySubDvsn", "TwnNm", "TwnLctnNm", "DstrctNm", "StrtNm", "BldgNb", "BldgNm",
    "Flr", "Room", "Dept", "SubDept", "PstBx", "PstCd",
)  # fmt: skip
#: structured address parts in the usual western order; parts in one group share a phrase
WESTERN_ADDRESS_ORDER = (
    ("Dept",), ("SubDept",), ("StrtNm", "BldgNb"), ("BldgNm",), ("Flr",), ("Room",),
    ("PstBx",), ("PstCd", "TwnNm"), ("TwnLctnNm",), ("DstrctNm",), ("CtrySubDvsn",), ("Ctry",),
)  # fmt: skip


def has_cjk(text: str) -> bool:
    return any("\u3400" <= char <= "\u9fff" or "\uf900" <= char <= "\ufaff" for char in text)


def compose_address(parts: dict[str, str], context: Iterable[str] = ()) -> tuple[str, list[str]]:
    """Structured ISO address parts as one address line, and the parts it uses.

    A Chinese address (any CJK text in the parts or ``context``, e.g. the name) runs from
    the large unit to the small one (省 市 区 路 号) without ``Ctry`` CN; others are written
    in the usual western order.
    """
    if any(has_cjk(text) for text in (*parts.values(), *context)):
        domestic = parts.get("Ctry") == "CN"
        used = [k for k in CHINESE_ADDRESS_ORDER if k in parts and not (k == "Ctry" and domestic)]
        return " ".join(parts[key] for key in used), used
    used, texts = [], []
    for group in WESTERN_ADDRESS_ORDER:
        present = [key for key in group if key in parts]
        if present:
            used += present
            texts.append(" ".join(parts[key] for key in present))
    return ", ".join(texts), used


def beijing_time(value: Any, ctx: MappingContext, source_path: str, target_path: str) -> Any:
    """An ISO date-time as CNAPS2 writes it: Beijing time, no offset; other offsets are
    converted and the conversion is recorded as transliteration."""
    if not isinstance(value, str):
        return value
    match = re.search(r"(Z|[+-]\d\d:\d\d)$", value)
    if match is None or match.group(1) == "+08:00":
        return value
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        return value
    local = moment.astimezone(BEIJING).replace(tzinfo=None).isoformat()
    ctx.lose(
        source_path,
        "transliterated",
        f"converted to Beijing time {local}: CNAPS2 times are Beijing time",
        value=value,
        target_path=target_path,
    )
    return local


# --------------------------------------------------------------------------- the hub


def unified_of(mtype: MessageType) -> str | None:
    """The unified counterpart type for a CNAPS2 type (by its registered edges)."""
    for source, target in _EDGES:
        if source == mtype.id and catalog().get(target).standard == "iso20022":
            return target
    return None


def _load_mappings() -> None:
    from paymsg.convert import mappings  # noqa: F401  (registers the edges)


#: why the reconciliation messages (hvps.710–718, beps.720–726) do not convert
RECONCILIATION = (
    "a reconciliation message (对账) between a participant and the NPC about the NPC's "
    "books of the day's CNAPS2 traffic, by message type, 业务类型, package and status; the "
    "unified profile has no counterpart (camt.052/053 report an account, not a clearing "
    "system's message books)"
)
#: why the link probe (ccms.991/992) does not convert
PROBE = "a link probe between network nodes concerns no payment and has no ISO 20022 counterpart"
#: CNAPS2 types with no conversion, and why (each decided against the unified catalogue)
NOT_CONVERTED: dict[str, str] = {
    "ccms.990.001.02": (
        "a communication-level confirmation acknowledges an MQ message by its header "
        "MesgID, not a payment: it belongs to the transport session (990 correlation), and "
        "the catalogue has no ISO 20022 counterpart (that would be admi.007)"
    ),
    "ccms.911.001.02": (
        "a discarded-message notification says the NPC threw a message away before any "
        "business processing, naming it by header fields; a pacs.002 rejection would claim a "
        "payment was processed and refused (the ISO counterpart, admi.002, is not catalogued)"
    ),
    "ccms.801.001.02": (
        "a system status change (营业准备, 日切 …) concerns no payment; its ISO counterpart "
        "(admi.004 system event notification) is not catalogued"
    ),
    "hvps.710.001.01": RECONCILIATION,
    "hvps.711.001.01": RECONCILIATION,
    "hvps.712.001.01": RECONCILIATION,
    "hvps.713.001.01": RECONCILIATION,
    "hvps.714.001.01": RECONCILIATION,
    "hvps.715.001.01": RECONCILIATION,
    "hvps.716.001.01": RECONCILIATION,
    "hvps.717.001.01": RECONCILIATION,
    "hvps.718.001.01": RECONCILIATION,
    "beps.720.001.01": RECONCILIATION,
    "beps.721.001.01": RECONCILIATION,
    "beps.722.001.01": RECONCILIATION,
    "beps.723.001.01": RECONCILIATION,
    "beps.724.001.01": RECONCILIATION,
    "beps.725.001.01": RECONCILIATION,
    "beps.726.001.01": RECONCILIATION,
    "ccms.991.001.01": PROBE,
    "ccms.992.001.01": PROBE,
}
#: conversions that exist one way only, and why the other way does not
ONE_WAY: dict[tuple[str, str], str] = {
    ("pacs.002.001.10", "saps.604.001.01"): (
        "a settlement receipt is issued only by the NPC's clearing-account system and reports "
        "the participant's clearing-account balance, which no status report holds"
    ),
}


def targets_of(source: str) -> list[str]:
    """Every type ``source`` converts to (directly or through the unified hub), sorted."""
    _load_mappings()
    direct = {b for a, b in _EDGES if a == source}
    through = {c for b in direct for a, c in _EDGES if a == b and c != source}
    return sorted(direct | through)


def conversion_table() -> dict[str, list[str]]:
    """Each type that converts → the types it converts to (what README states)."""
    _load_mappings()
    return {t: targets_of(t) for t in sorted({a for a, _ in _EDGES})}


def route(source: str, target: str) -> list[tuple[str, str]]:
    """The hub edges from ``source`` to ``target``: direct, or through one unified type."""
    _load_mappings()
    if (source, target) in _EDGES:
        return [(source, target)]
    for (a, hub), _ in list(_EDGES.items()):
        if a == source and (hub, target) in _EDGES:
            return [(source, hub), (hub, target)]
    why = NOT_CONVERTED.get(source) or NOT_CONVERTED.get(target)
    if why is None:
        why = next(
            (reason for (a, b), reason in ONE_WAY.items() if (a, b) == (source, target)),
            None,
        )
    reachable = targets_of(source)
    raise ConversionError(
        f"no conversion from {source} to {target}"
        + (f": {why}" if why else "")
        + (
            f"; {source} converts to {', '.join(reachable)}"
            if reachable
            else f"; {source} converts to nothing"
        ),
        hint="types that convert: " + ", ".join(conversion_table()),
    )


def _run_edge(
    data: dict[str, Any],
    source: str,
    target: str,
    options: ConvertOptions,
    loss: list[LossEntry],
) -> dict[str, Any]:
    ctx = MappingContext(catalog().get(source), catalog().get(target), options)
    out = _EDGES[(source, target)](data, ctx)
    loss.extend(
        entry if entry.document else entry.model_copy(update={"document": source})
        for entry in ctx.loss
    )
    return out


def convert(message: Message, to: str, *, strict: bool = False, **options: Any) -> Conversion:
    """Convert ``message`` to type ``to`` through the hub; see :class:`ConvertOptions`.

    With ``strict=True`` any loss raises :class:`~paymsg.errors.ConversionError` naming
    every field. A CNAPS2 target gets its ``{H:}`` header built (``wrap=False`` skips it).
    """
    opts = ConvertOptions(**options)
    target = catalog().get(to)
    edges = route(message.type, target.id)
    data = to_data(message.document)
    loss: list[LossEntry] = []
    for source, edge_target in edges:
        data = _run_edge(data, source, edge_target, opts, loss)
    if strict and loss:
        fields = "; ".join(
            f"{e.source_path}"
            + (f" [in {e.document}]" if e.document not in (None, message.type) else "")
            + f" ({e.action}: {e.reason})"
            for e in loss
        )
        raise ConversionLossError(f"conversion to {target.id} would lose data: {fields}")
    document = from_data(target.root_class, data, f"/{target.root}")
    result = Message(target.id, document)
    if target.standard == "cnaps2" and opts.wrap:
        from paymsg.codec.envelope.wrap import wrap

        result = wrap(
            result,
            type=target.id,
            sender=opts.sender,
            receiver=opts.receiver,
            priority=opts.priority,
            id_generator=opts.id_generator,
            now=opts.now,
        )
    return Conversion(result, loss)
