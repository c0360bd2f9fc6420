"""The vocabulary of every mapping table: one :class:`Row`, one :class:`Pair`, named policies.

A row says where a value of one message goes in the other and by which **policy**; a pair is
one CNAPS2 type and its unified (ISO 20022) counterpart with the rows between them. The
family modules (:mod:`paymsg.convert.mappings.hvps`, ``beps``, ``status``, ``versions``) hold
only their tables and a few named hooks; the policies are defined here, once:

=====================  ==========================================================================
policy                 what it does
=====================  ==========================================================================
``copy``               the value as it is, both ways
``to-beijing-time``    a date-time in another UTC offset than +08:00 becomes Beijing time without
                       offset on the way to CNAPS2, recorded ``transliterated``; CNAPS2 → unified
                       copies the (Beijing) time as it is
``truncate``           text cut to the target's length, recorded ``truncated``
``code``               an id or code taken only when it fits (length, pattern), never cut
``only``               one value on both sides; another one is carried / reported
``constant``           a value one side always has and the other leaves implied
``cnaps-member``       a CNAPS bank code ⇄ ``ClrSysMmbId`` with ``ClrSysId/Cd`` CNAPS
``bank-code``          a 12-digit CNAPS bank code (行号); another member id is not written
``msg-id``             a CNAPS2 message id (work date + sequence); another one is replaced
``amount``             an amount with currency; CNAPS2 settles CNY only (else refused)
``address-line``       the one CNAPS2 address line ⇄ ISO ``AdrLine`` lines
``text-lines``         one CNAPS2 text ⇄ ISO lines of fixed width
``tagged-lines``       CNAPS2 remittance lines ``/XNN/…``; an untagged line gets ``/H01/``
``count``              the number of transactions, computed
``computed``           filled by a named hook (totals, codes, carried data)
``default``            what the target requires and the source lacks: :func:`default`, recorded
                       ``defaulted``
``spill-to-text``      a field with no target element becomes a ``/H01/path:value`` item of the
                       CNAPS2 free text (:func:`spill`), recorded ``moved`` (``dropped`` when it
                       does not fit)
``drop-with-loss``     what has no place at all, recorded ``dropped`` with the reason
``rewrite``            ISO version pairs: a path rewritten to its place in the other version
=====================  ==========================================================================
"""

from __future__ import annotations

import copy
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from paymsg.convert.engine.loss import MappingContext
from paymsg.convert.engine.paths import DATA_PATH, put, strings, take, value_at
from paymsg.errors import ConversionError
from paymsg.reference.cnaps2 import (
    BANK_CODE,
    BEIJING,
    CNAPS_CLEARING_CODE,
    NPC,
    TAG_LINE,
    is_msg_id,
)
from paymsg.schema.catalog import catalog
from paymsg.schema.layout import Layout

# --------------------------------------------------------------------------- policies


class Policy:
    """How one value crosses between a CNAPS2 message and its unified counterpart.

    ``to_unified`` never loses; ``to_cnaps`` gives the CNAPS2 value or None (refused: the
    field is left to the next source or reported); ``keeps`` says whether the way back
    writes a CNAPS2 value as it is (when not, CNAPS2 → unified carries the original too).
    """

    name = "copy"
    note = "copied"

    def to_unified(self, value: Any) -> Any:
        return value

    def to_cnaps(self, value: Any, ctx: MappingContext, src: str, tgt: str) -> Any:
        return value if isinstance(value, str) else None

    def keeps(self, value: Any, unified: dict[str, Any], path: str) -> bool:
        return True


COPY = Policy()


@dataclass(frozen=True)
class Truncate(Policy):
    """Free text; longer than ``limit`` → cut and reported (characters)."""

    limit: int
    name = "truncate"

    @property
    def note(self) -> str:  # type: ignore[override]
        return f"text, cut to {self.limit} characters"

    def to_cnaps(self, value: Any, ctx: MappingContext, src: str, tgt: str) -> Any:
        return ctx.fit(src, value, self.limit, tgt) if isinstance(value, str) else None


@dataclass(frozen=True)
class Code(Policy):
    """An identifier or code: taken only when it fits (``limit``, ``pattern``), never cut."""

    limit: int
    pattern: str | None = None
    name = "code"

    @property
    def note(self) -> str:  # type: ignore[override]
        return f"id/code ≤{self.limit}" + (f" matching {self.pattern}" if self.pattern else "")

    def to_cnaps(self, value: Any, ctx: MappingContext, src: str, tgt: str) -> Any:
        if not isinstance(value, str) or len(value) > self.limit:
            return None
        if self.pattern and not re.fullmatch(self.pattern, value):
            return None
        return value


@dataclass(frozen=True)
class Only(Policy):
    """One value on both sides (``SysCd`` BEPS, ``SttlmMtd`` CLRG); any other value is
    carried / reported."""

    value: str
    name = "only"

    @property
    def note(self) -> str:  # type: ignore[override]
        return f"only {self.value!r} maps (others carried/reported)"

    def to_unified(self, value: Any) -> Any:
        return value if value == self.value else None

    def to_cnaps(self, value: Any, ctx: MappingContext, src: str, tgt: str) -> Any:
        return value if value == self.value else None

    def keeps(self, value: Any, unified: dict[str, Any], path: str) -> bool:
        return bool(value == self.value)


@dataclass(frozen=True)
class Constant(Policy):
    """A value one side always has and the other leaves implicit (a one-sided row)."""

    value: str
    name = "constant"

    @property
    def note(self) -> str:  # type: ignore[override]
        return f"constant {self.value!r} (implied on the other side)"


_OFFSET = re.compile(r"(Z|[+-]\d\d:\d\d)$")


class BeijingTime(Policy):
    """A date-time; another UTC offset than Beijing's is converted (CNAPS2 time)."""

    name = "to-beijing-time"
    note = "date-time; a time in another offset is converted to Beijing time"

    def to_cnaps(self, value: Any, ctx: MappingContext, src: str, tgt: str) -> Any:
        """An ISO date-time as CNAPS2 writes it: Beijing time, no offset; other offsets are
        converted and the conversion is recorded as transliteration."""
        if not isinstance(value, str):
            return None
        if self.keeps(value, {}, src):
            return value
        try:
            moment = datetime.fromisoformat(value)
        except ValueError:
            return value
        local = moment.astimezone(BEIJING).replace(tzinfo=None).isoformat()
        ctx.lose(
            src,
            "transliterated",
            f"converted to Beijing time {local}: CNAPS2 times are Beijing time",
            value=value,
            target_path=tgt,
        )
        return local

    def keeps(self, value: Any, unified: dict[str, Any], path: str) -> bool:
        match = _OFFSET.search(value) if isinstance(value, str) else None
        return match is None or match.group(1) == "+08:00"


BEIJING_TIME = BeijingTime()


class Member(Policy):
    """A CNAPS bank code ⇄ ``ClrSysMmbId`` with ``ClrSysId/Cd`` = ``CNAPS``."""

    name = "cnaps-member"
    note = "CNAPS member id: ClrSysMmbId (ClrSysId/Cd CNAPS, MmbId)"

    def to_unified(self, value: Any) -> Any:
        return {"ClrSysId": {"Cd": CNAPS_CLEARING_CODE}, "MmbId": value}

    def to_cnaps(self, value: Any, ctx: MappingContext, src: str, tgt: str) -> Any:
        if not isinstance(value, dict):
            return None
        member, system = value.get("MmbId"), value.get("ClrSysId")
        if not isinstance(member, str) or len(member) > 14:
            return None
        if system is None or system == {"Cd": CNAPS_CLEARING_CODE}:
            return member
        if system == {"Prtry": CNAPS_CLEARING_CODE}:
            ctx.lose(
                f"{src}/ClrSysId/Prtry",
                "moved",
                "the CNAPS clearing system is written as the ISO code ClrSysId/Cd CNAPS",
                value=CNAPS_CLEARING_CODE,
                target_path=tgt,
            )
            return member
        return None


MEMBER = Member()


@dataclass(frozen=True)
class BankCode(Policy):
    """A CNAPS bank code (12 digits; with ``npc``, also the NPC's 0000) of no other
    clearing system; another member id is not written to CNAPS2."""

    npc: bool = False
    name = "bank-code"

    @property
    def note(self) -> str:  # type: ignore[override]
        return "12-digit CNAPS bank code (行号)" + (" or the NPC 0000" if self.npc else "")

    def keeps(self, value: Any, unified: dict[str, Any], path: str) -> bool:
        if not isinstance(value, str):
            return False
        if path.endswith("ClrSysMmbId/MmbId"):
            system = value_at(unified, path[: -len("MmbId")] + "ClrSysId")
            if system is not None and system != {"Cd": CNAPS_CLEARING_CODE}:
                return False
        return bool(BANK_CODE.fullmatch(value)) or (self.npc and value == NPC)


class MsgId(Policy):
    """A CNAPS2 message id: 8-digit work date + 8-digit sequence."""

    name = "msg-id"
    note = "CNAPS2 MsgId (work date + sequence); another id is replaced (defaulted)"

    def keeps(self, value: Any, unified: dict[str, Any], path: str) -> bool:
        return is_msg_id(value)


class Amount(Policy):
    """``{"@Ccy", "#text"}`` unchanged; CNAPS2 settles CNY only (else ConversionError)."""

    name = "amount"
    note = "amount with currency; CNY only"

    def to_cnaps(self, value: Any, ctx: MappingContext, src: str, tgt: str) -> Any:
        if not isinstance(value, dict):
            return None
        currency = value.get("@Ccy")
        if currency != "CNY":
            raise ConversionError(
                f"BEPS settles CNY only: {src} is {currency} {value.get('#text')}",
                path=src,
                hint="convert the amount to CNY before converting to a BEPS message",
            )
        return value

    def keeps(self, value: Any, unified: dict[str, Any], path: str) -> bool:
        """CNY with at most 2 decimals."""
        if not isinstance(value, dict) or value.get("@Ccy") != "CNY":
            return False
        try:
            exponent = Decimal(str(value.get("#text"))).normalize().as_tuple().exponent
        except InvalidOperation:
            return False
        return isinstance(exponent, int) and exponent >= -2


AMOUNT = Amount()


class TaggedLines(Policy):
    """CNAPS2 remittance lines, each ``/XNN/…`` (cnaps2.md §8.6)."""

    name = "tagged-lines"
    note = "tagged remittance lines /XNN/…; an untagged line is written as /H01/<line>"

    def keeps(self, value: Any, unified: dict[str, Any], path: str) -> bool:
        return isinstance(value, list) and all(
            isinstance(line, str) and TAG_LINE.fullmatch(line) for line in value
        )


@dataclass(frozen=True)
class CodeMap(Policy):
    """A code of one side as the code of the other (``codes``: CNAPS2 → unified; a code with
    no counterpart gives none and is carried)."""

    codes: tuple[tuple[str, str | None], ...]
    name = "code-map"
    note = "code → code through the table; a code without counterpart is carried"

    def to_unified(self, value: Any) -> Any:
        return dict(self.codes).get(value) if isinstance(value, str) else None


class Computed(Policy):
    """Filled by a named hook (totals, codes, carried data): the row documents it, the
    table runners skip it. ``name`` names the policy the hook applies (``spill-to-text``,
    ``drop-with-loss`` …) when it is not a computation."""

    name = "computed"

    def __init__(self, note: str, name: str | None = None) -> None:
        self.note = note
        if name is not None:
            self.name = name


class Count(Computed):
    """The number of transactions: computed from what the message carries."""

    name = "count"


@dataclass(frozen=True)
class AddressLine(Policy):
    """The one BEPS address line ⇄ ISO ``AdrLine`` (0..7): lines joined with a space."""

    limit: int
    name = "address-line"

    @property
    def note(self) -> str:  # type: ignore[override]
        return f"1 line ⇄ AdrLine list; lines joined by a space, cut to {self.limit}"

    def to_unified(self, value: Any) -> Any:
        return [value]

    def to_cnaps(self, value: Any, ctx: MappingContext, src: str, tgt: str) -> Any:
        lines = strings(value)
        if not lines:
            return None
        parts = [(f"{src}[{index}]", line) for index, line in enumerate(lines, start=1)]
        return join(ctx, parts, " ", self.limit, tgt, "joined into the one BEPS address line")


@dataclass(frozen=True)
class TextLines(Policy):
    """One BEPS text ⇄ ISO lines of ``width`` characters (chunks, joined back exactly)."""

    width: int
    limit: int
    name = "text-lines"

    @property
    def note(self) -> str:  # type: ignore[override]
        return (
            f"text ⇄ lines of {self.width}; chunks joined as they were, other lines with a "
            f"space; cut to {self.limit}"
        )

    def to_unified(self, value: Any) -> Any:
        return [value[i : i + self.width] for i in range(0, len(value), self.width)] or [value]

    def to_cnaps(self, value: Any, ctx: MappingContext, src: str, tgt: str) -> Any:
        lines = strings(value)
        if not lines:
            return None
        parts = [(f"{src}[{index}]", line) for index, line in enumerate(lines, start=1)]
        if all(len(line) == self.width for line in lines[:-1]):  # chunks of one text
            return join(ctx, parts, "", self.limit, tgt, None)
        return join(ctx, parts, " ", self.limit, tgt, "joined with a space into one BEPS text")


@dataclass(frozen=True)
class Rewrite(Policy):
    """ISO version pairs: a path (regular expression) rewritten to its place in the other
    version; the value is checked against the target model."""

    name = "rewrite"
    note = "rewritten path; value checked against the target version's model"


REWRITE = Rewrite()
#: the spill-to-text hook of a family (see :func:`spill`)
SPILL_TO_TEXT = Computed(
    "fields without a CNAPS2 element become /H01/path:value items of the free text (moved), "
    "read back CNAPS2 → unified; what does not fit is dropped",
    "spill-to-text",
)
#: the last rule of every family: what has no place is reported
DROP_WITH_LOSS = Computed(
    "reported dropped, one loss entry per field, with the reason", "drop-with-loss"
)


def join(
    ctx: MappingContext,
    parts: list[tuple[str, str]],
    separator: str,
    limit: int,
    tgt: str,
    moved: str | None,
    *,
    first_moved: bool = False,
) -> str:
    """``parts`` (source path, text) joined into one CNAPS2 text of ≤``limit`` characters.

    Each part is reported at its own path: ``moved`` (joined, when ``moved`` gives the
    reason; the first part only with ``first_moved``), ``truncated`` (cut at the limit) or
    ``dropped`` (no room left).
    """
    text = ""
    for number, (path, piece) in enumerate(parts):
        prefix = separator if number else ""
        room = limit - len(text) - len(prefix)
        if room <= 0:
            ctx.lose(
                path, "dropped", f"no room left in the {limit}-character BEPS field", value=piece
            )
        elif len(piece) > room:
            text += prefix + piece[:room]
            ctx.lose(
                path,
                "truncated",
                f"{len(piece)} characters, {room} kept (the BEPS field holds {limit})",
                value=piece,
                target_path=tgt,
            )
        else:
            text += prefix + piece
            if moved and (number or first_moved):
                ctx.lose(path, "moved", moved, value=piece, target_path=tgt)
    return text


# --------------------------------------------------------------------------- spill to text

# The one format of a field spilled into CNAPS2 free text, in every family: ``/H01/path:value``.
# Why this one: HVPS remittance lines (RmtInf/Ustrd) must each start with a 3-character tag
# between slashes, and /H01/ is the tag of 附言 free text (reference §8.6), so an HVPS line
# cannot be a bare ``/path:value`` (it would be an untagged line, or read as another tag
# when the path starts with three capitals); BEPS 附言/备注 are free text, where the tagged
# item is as readable and keeps one shape, so one reader finds the items in both. The path
# is the data path of the field (1-based indexes) relative to the transaction, or to the
# message element for BEPS group fields.
SPILL_TAG = "/H01/"
SPILL_ITEM = SPILL_TAG + "{path}:{value}"
#: a spilled item read back: ``/H01/<data path>:<value>`` (the path as :func:`flatten` writes
#: it, relative to the transaction or the message element)
SPILLED = re.compile(
    rf"{re.escape(SPILL_TAG)}(?P<path>{DATA_PATH.pattern}):(?P<value>.*)", re.DOTALL
)


def spill_item(path: str, value: str) -> str:
    """One spilled field as CNAPS2 text: ``/H01/path:value``."""
    return SPILL_ITEM.format(path=path, value=value)


def spilled(text: str) -> tuple[str, str] | None:
    """(path, value) of a spilled item (a whole line or text), or None."""
    match = SPILLED.fullmatch(text)
    return None if match is None else (match.group("path"), match.group("value"))


_ITEM_START = re.compile(rf"(?:^|(?<= )){re.escape(SPILL_TAG)}(?={DATA_PATH.pattern}:)")


def spilled_items(text: Any) -> list[tuple[str, str]]:
    """The (path, value) items spilled into one free text (items separated by a space; a
    value runs to the next item); none when ``text`` is no text."""
    if not isinstance(text, str):
        return []
    starts = [match.start() for match in _ITEM_START.finditer(text)]
    if not starts:
        return []
    ends = [start - 1 for start in starts[1:]] + [len(text)]
    found = (spilled(text[start:end]) for start, end in zip(starts, ends, strict=True))
    return [item for item in found if item is not None]


def spill(
    ctx: MappingContext,
    items: dict[str, str],
    text: str | None,
    src: str,
    tgt: str,
    *,
    limit: int,
    system: str,
) -> str | None:
    """The *spill-to-text* policy: append each field (path → value) to the CNAPS2 free text
    ``text`` as a ``/H01/path:value`` item while the text stays within ``limit`` characters
    (``moved``), else report it ``dropped``. An item the text already holds (the unified
    field came from it, see :func:`~paymsg.convert.engine.restore.read_back`) comes back as it
    is: it is neither added again nor reported."""
    name = tgt.rsplit("/", 1)[-1]
    present = set(spilled_items(text))
    for path, value in items.items():
        if (path, value) in present:
            continue
        piece = spill_item(path, value)
        candidate = f"{text} {piece}" if text else piece
        if len(candidate) <= limit:
            text = candidate
            ctx.lose(
                f"{src}/{path}",
                "moved",
                f"{system} has no element for it; appended to {name} as {SPILL_TAG}path:value",
                value=value,
                target_path=tgt,
            )
        else:
            ctx.lose(
                f"{src}/{path}",
                "dropped",
                f"{system} has no element for it and {name} ({limit} characters) is full",
                value=value,
            )
    return text


# --------------------------------------------------------------------------- addresses

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


# --------------------------------------------------------------------------- rows and pairs


@dataclass(frozen=True)
class Row:
    """One line of a mapping table: CNAPS2 path ⇄ unified path, by ``policy``.

    Paths are relative to the element the table is about (message element or transaction);
    an empty path on one side is a one-sided row (a :class:`Constant`). ``mirror`` rows repeat a
    CNAPS2 value in a second unified element (``EndToEndId`` = the ``TxId``); back, that
    element is a second source and is consumed when it agrees.
    """

    cnaps: str
    unified: str
    policy: Policy = COPY
    note: str = ""
    mirror: bool = False


Table = tuple[Row, ...]


@dataclass(frozen=True)
class Pair:
    """One CNAPS2 type and its unified counterpart, with the tables between them.

    ``rows`` work both ways; ``group`` are rows of the message element when ``rows`` are
    of the transaction; ``generation`` CNAPS2 → unified only (ISO 2009 → 2019 equivalents);
    ``fallbacks`` unified → CNAPS2 only (other places of a value, reported ``moved``);
    ``hooks`` document what the family's named hooks do besides the rows (their paths are
    relative to the message element, as they are shown).
    """

    cnaps: str
    unified: str
    cnaps_root: str
    unified_root: str
    cnaps_tx: str
    unified_tx: str
    rows: Table
    group: Table = ()
    generation: Table = ()
    fallbacks: Table = ()
    hooks: Table = ()
    #: pacs.009 bodies: the debtor and creditor are financial institutions
    institution: bool = False
    is_return: bool = False
    #: (业务类型, 业务种类) written when the unified message has none
    default_codes: tuple[str, str] = ("", "")
    #: family settings read by its hooks (layout of the pair: totals, agents, containers …)
    settings: tuple[tuple[str, Any], ...] = field(default=())

    @classmethod
    def of(cls, cnaps: str, unified: str, rows: Table, **more: Any) -> Pair:
        """The pair of two catalogued types: the message elements and the transaction
        elements are read from the catalogue and the types' layouts, not restated."""
        first, second = catalog().get(cnaps), catalog().get(unified)
        return cls(
            cnaps,
            unified,
            first.element,
            second.element,
            first.layout.transaction_name or "",
            second.layout.transaction_name or "",
            rows,
            **more,
        )

    @property
    def cnaps_layout(self) -> Layout:
        """Where the CNAPS2 type has its header, transactions and totals (schema layouts)."""
        return catalog().get(self.cnaps).layout

    @property
    def unified_layout(self) -> Layout:
        """Where the unified type has its header, transactions and totals."""
        return catalog().get(self.unified).layout

    def setting(self, name: str, fallback: Any = None) -> Any:
        return dict(self.settings).get(name, fallback)

    @property
    def unified_shown(self) -> str:
        """The unified message element as loss entries show it (``/Document/…``)."""
        return f"/Document/{self.unified_root}"

    @property
    def cnaps_shown(self) -> str:
        """The CNAPS2 message element as loss entries show it."""
        return f"/Document/{self.cnaps_root}"


def run_to_unified(source: dict[str, Any], rows: Table) -> tuple[dict[str, Any], dict[str, Any]]:
    """Run ``rows`` CNAPS2 → unified: the unified data, and (a copy of) ``source`` without
    what the rows took. A row takes its CNAPS2 value when its policy gives a unified value
    (``to_unified`` not None); a one-sided :class:`Constant` row writes its value (no CNAPS2
    path) or takes an equal CNAPS2 value (no unified path); :class:`Computed` rows are hooks."""
    out: dict[str, Any] = {}
    consumed: list[str] = []
    for row in rows:
        if isinstance(row.policy, Computed):
            continue
        if not row.cnaps:
            assert isinstance(row.policy, Constant) and row.unified
            put(out, row.unified, row.policy.value)
            continue
        value = value_at(source, row.cnaps)
        if value is None:
            continue
        if not row.unified:
            assert isinstance(row.policy, Constant)
            if value == row.policy.value:
                consumed.append(row.cnaps)
            continue
        converted = row.policy.to_unified(value)
        if converted is not None:
            put(out, row.unified, converted)
            consumed.append(row.cnaps)
    left = copy.deepcopy(source)
    for path in consumed:
        take(left, path)
    return out, left


# --------------------------------------------------------------------------- the table of a pair

#: a row as ``paymsg convert --mapping-table`` shows it: source path, target path, policy, note
TableLine = tuple[str, str, str, str]
_DESCRIBED: dict[tuple[str, str], Callable[[], list[TableLine]]] = {}


def describe(source: str, target: str, lines: Callable[[], list[TableLine]]) -> None:
    """Register how the table of the edge ``source → target`` is listed."""
    _DESCRIBED.setdefault((source, target), lines)


def described(source: str, target: str) -> list[TableLine] | None:
    """The table of the edge ``source → target``, or None when no table is registered."""
    lines = _DESCRIBED.get((source, target))
    return None if lines is None else lines()


def pair_lines(pair: Pair, to_unified: bool) -> list[TableLine]:
    """The table of one direction of ``pair``: its group rows, rows and hooks, then the
    generation rows (to unified) or the fallbacks (to CNAPS2). Paths are relative to the
    message element; when the pair has group rows, its rows are of every transaction
    (shown ``<transaction>[*]/…``)."""

    def where(path: str, cnaps: bool, in_tx: bool) -> str:
        if not path or (path == "SplmtryData" and not in_tx):
            return path or "—"
        if not in_tx or not pair.group:
            return path
        return f"{pair.cnaps_tx if cnaps else pair.unified_tx}[*]/{path}"

    out: list[TableLine] = []
    sections = [(pair.group, False), (pair.rows, True), (pair.hooks, False)]
    sections.append((pair.generation, True) if to_unified else (pair.fallbacks, True))
    for rows, in_tx in sections:
        for row in rows:
            cnaps, unified = where(row.cnaps, True, in_tx), where(row.unified, False, in_tx)
            line = (cnaps, unified) if to_unified else (unified, cnaps)
            out.append((*line, row.policy.name, row.note or row.policy.note))
    return out


def describe_pair(pair: Pair) -> None:
    """Register both directions of ``pair`` for :func:`described`."""
    describe(pair.cnaps, pair.unified, lambda: pair_lines(pair, True))
    describe(pair.unified, pair.cnaps, lambda: pair_lines(pair, False))
