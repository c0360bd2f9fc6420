"""The conversion hub: every CNAPS2 type maps to and from its unified (ISO 20022) counterpart.

Mappings are plain functions registered for one ``(source type, target type)`` edge of
the hub; they work on the JSON-shaped data of a message (XML names as keys, see
:mod:`paymsg.codec.json.engine`) and record every field they cannot carry in the
:class:`~paymsg.convert.engine.loss.MappingContext`'s loss list. Any-to-any conversion goes
through the hub (``beps.121 → pacs.008.001.08 → hvps.111``), never pairwise.

The edges are written with one engine (:mod:`paymsg.convert.engine`: data paths, carriers,
restore, the loss log, and the table vocabulary of rows, pairs and named policies); the
family modules under :mod:`paymsg.convert.mappings` hold the tables.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from paymsg.codec.json.engine import from_data, to_data
from paymsg.codec.message import Message
from paymsg.convert.engine.loss import ConvertOptions, LossEntry, MappingContext
from paymsg.convert.engine.table import TableLine, described
from paymsg.errors import ConversionError, ConversionLossError
from paymsg.schema.catalog import MessageType, catalog


@dataclass
class Conversion:
    """The converted message and the list of everything that was lost on the way."""

    message: Message
    loss: list[LossEntry] = field(default_factory=list)

    @property
    def lossless(self) -> bool:
        return not self.loss


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


# --------------------------------------------------------------------------- the hub


def unified_of(mtype: MessageType) -> str | None:
    """The unified counterpart type for a CNAPS2 type (by its registered edges)."""
    for source, target in _EDGES:
        if source == mtype.id and catalog().get(target).standard == "iso20022":
            return target
    return None


def load_mappings() -> None:
    """Import the family modules, which register their edges."""
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
    load_mappings()
    direct = {b for a, b in _EDGES if a == source}
    through = {c for b in direct for a, c in _EDGES if a == b and c != source}
    return sorted(direct | through)


def conversion_table() -> dict[str, list[str]]:
    """Each type that converts → the types it converts to (what README states)."""
    load_mappings()
    return {t: targets_of(t) for t in sorted({a for a, _ in _EDGES})}


def route(source: str, target: str) -> list[tuple[str, str]]:
    """The hub edges from ``source`` to ``target``: direct, or through one unified type."""
    load_mappings()
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


def mapping_table(source: str, target: str) -> list[TableLine]:
    """The mapping table of the edge ``source → target`` (source path, target path, policy,
    note), from the rows of its family; an edge without one is a ConversionError naming the
    pairs that have a table."""
    load_mappings()
    lines = described(source, target) if (source, target) in _EDGES else None
    if lines is not None:
        return lines
    try:
        edges = route(source, target)
    except ConversionError:
        edges = []
    why = (
        "it goes through the hub: see the tables of " + " and ".join(f"{a} {b}" for a, b in edges)
        if len(edges) == 2
        else "they are not a pair of the hub"
    )
    raise ConversionError(
        f"no mapping table from {source} to {target}: {why}",
        hint="pairs: " + ", ".join(f"{a} {b}" for a, b in _EDGES),
    )
