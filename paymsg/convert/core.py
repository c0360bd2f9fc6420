"""The conversion hub: every CNAPS2 type maps to and from its unified (ISO 20022) counterpart.

Mappings are plain functions registered for one ``(source type, target type)`` edge of
the hub; they work on the JSON-shaped data of a message (XML names as keys, see
:mod:`paymsg.codec.json`) and record every field they cannot carry in the
:class:`MappingContext`'s loss list. Any-to-any conversion goes through the hub
(``beps.121 → pacs.008.001.08 → hvps.111``), never pairwise.

Data CNAPS2 has and ISO has no element for is carried in ISO supplementary data
(``SplmtryData`` with ``PlcAndNm`` = :data:`CARRY_PLACE` and the original CNAPS2 XML
elements in the envelope), so CNAPS2 → unified → CNAPS2 reproduces the original.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any, Literal

from lxml import etree
from pydantic import BaseModel, ConfigDict

from paymsg.catalog import MessageType, catalog
from paymsg.codec.json import from_data, to_data
from paymsg.codec.message import Message
from paymsg.errors import ConversionError, ConversionLossError

Action = Literal["dropped", "truncated", "defaulted", "transliterated", "moved"]

#: ``SplmtryData/PlcAndNm`` of the supplementary data that carries CNAPS2-only fields
CARRY_PLACE = "CNAPS2"
#: namespace of the carrier element inside ``SplmtryData/Envlp``
CARRY_NS = "urn:paymsg:cnaps2:carry"


class LossEntry(BaseModel):
    """One field that did not survive a conversion unchanged."""

    model_config = ConfigDict(frozen=True)

    source_path: str
    action: Action
    reason: str
    target_path: str | None = None
    value: str | None = None


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
                source_path=source_path,
                action=action,
                reason=reason,
                target_path=target_path,
                value=None if value is None else str(value),
            )
        )

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

_STEP = re.compile(r"^([@#]?\w+)(?:\[(\d+)\])?$")


def get(data: Any, path: str) -> Any:
    """Value at ``a/b[2]/c`` (1-based indexes; a list without index means its first item)."""
    node = data
    for step in path.strip("/").split("/"):
        match = _STEP.match(step)
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
    steps = [_STEP.match(step) for step in path.strip("/").split("/")]
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


def carried(supplementary: Any, source: str | None = None) -> dict[str, str]:
    """The CNAPS2-only values of a ``SplmtryData`` list (empty when there are none).

    With ``source``, only the values carried from that CNAPS2 type (see :func:`carry`).
    """
    out: dict[str, str] = {}
    for entry in supplementary or []:
        if not isinstance(entry, dict) or entry.get("PlcAndNm") != CARRY_PLACE:
            continue
        for fragment in get(entry, "Envlp").get("#any", []) if get(entry, "Envlp") else []:
            root = etree.fromstring(fragment.encode("utf-8"))
            if source is not None and root.get("type") != source:
                continue
            for item in root.iter(f"{{{CARRY_NS}}}F"):
                out[item.get("p", "")] = item.text or ""
    return out


# --------------------------------------------------------------------------- shared value rules

BEIJING = timezone(timedelta(hours=8))

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


def route(source: str, target: str) -> list[tuple[str, str]]:
    """The hub edges from ``source`` to ``target``: direct, or through one unified type."""
    _load_mappings()
    if (source, target) in _EDGES:
        return [(source, target)]
    for (a, hub), _ in list(_EDGES.items()):
        if a == source and (hub, target) in _EDGES:
            return [(source, hub), (hub, target)]
    known = sorted(f"{a} → {b}" for a, b in _EDGES)
    raise ConversionError(
        f"no conversion from {source} to {target}",
        hint="conversions go through the unified hub; edges: " + "; ".join(known),
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
    loss.extend(ctx.loss)
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
        fields = "; ".join(f"{e.source_path} ({e.action}: {e.reason})" for e in loss)
        raise ConversionLossError(f"conversion to {target.id} would lose data: {fields}")
    document = from_data(target.root_class, data, f"/{target.root}")
    result = Message(target.id, document)
    if target.standard == "cnaps2" and opts.wrap:
        from paymsg.cnaps2 import wrap

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
