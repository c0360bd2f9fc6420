"""Streaming large messages: BEPS packages, multi-transaction pacs.008/009, camt.053 statements.

``iter_transactions(source)`` reads the XML incrementally (lxml ``iterparse``), clears
what it has read, and yields typed transactions one by one; the group/package header is
bound first and available as ``stream.header``. Memory does not grow with the number of
transactions.

With ``validate=True`` the report is the one validating the whole message gives. The
transactions are validated in chunks: each chunk is a document made of what has been read
so far except the other transactions (headers, AppHdr, the statements of the chunk's
entries, and at the end what follows the transactions) with the chunk's transactions in
their places, so paths and lines point into the input; findings outside the transactions
are kept once, and a statement validated whole leaves the tree. The header
totals (``NbOfTxs``, ``CtrlSum``, ``TtlIntrBkSttlmAmt``) are compared with every
transaction at the end, under the rule packs' ids and conditions. Statement balance checks
(``iso.stmt.*``) need every entry at once and are not run (an ``info`` finding says so).
"""

from __future__ import annotations

import copy
import io
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from lxml import etree

from paymsg.codec.api import Source
from paymsg.codec.envelope import cnaps2
from paymsg.codec.xml import fast
from paymsg.codec.xml.binding import generic_parser, paused_gc, schema_errors
from paymsg.codec.xml.safe import (
    DEFAULT_LIMITS,
    Limits,
    element_path,
    find,
    iterparse,
    local_name,
    namespace_of,
    too_deep_below,
)
from paymsg.errors import (
    BindingError,
    EnvelopeError,
    InputError,
    MalformedXMLError,
    PaymsgError,
    UnknownMessageTypeError,
    UnsafeXMLError,
)
from paymsg.schema.catalog import MessageType, catalog
from paymsg.schema.packs import layout_of as pack_layout
from paymsg.schema.packs import use_pack


@dataclass(frozen=True)
class Layout:
    """Where the header, the transactions and their counts live in one message type."""

    transaction: str  # local name of the repeated element
    header: str  # group / package header local name
    count: str | None  # header child stating the number of transactions
    sum: str | None  # header child stating the control sum
    total: str | None  # header child stating the total settlement amount
    amount: str  # path of the amount inside a transaction
    count_rule: str | None
    sum_rule: str | None
    total_rule: str | None


_ISO_CT = Layout(
    "CdtTrfTxInf", "GrpHdr", "NbOfTxs", "CtrlSum", "TtlIntrBkSttlmAmt", "IntrBkSttlmAmt",
    "iso.grphdr.nb-of-txs", "iso.grphdr.ctrl-sum", "iso.grphdr.ttl-intr-bk-sttlm-amt",
)  # fmt: skip
_BEPS = dict(header="PKGGrpHdr", count="NbOfTxs", sum="CtrlSum", total=None, amount="Amt")
LAYOUTS: dict[str, Layout] = {
    "pacs.008.001.08": _ISO_CT,
    "pacs.009.001.08": _ISO_CT,
    "pacs.008.001.02": _ISO_CT,
    "pacs.009.001.02": _ISO_CT,
    "beps.121.001.01": Layout(
        "CstmrCdtTrfInf", **_BEPS,  # type: ignore[arg-type]
        count_rule="cnaps2.beps.nb-of-txs", sum_rule="cnaps2.beps.ctrl-sum", total_rule=None,
    ),
    "beps.122.001.01": Layout(
        "FinCdtTrfInf", **_BEPS,  # type: ignore[arg-type]
        count_rule="cnaps2.beps.nb-of-txs", sum_rule="cnaps2.beps.ctrl-sum", total_rule=None,
    ),
    "camt.053.001.08": Layout("Ntry", "GrpHdr", None, None, None, "Amt", None, None, None),
    "camt.053.001.02": Layout("Ntry", "GrpHdr", None, None, None, "Amt", None, None, None),
    "camt.052.001.08": Layout("Ntry", "GrpHdr", None, None, None, "Amt", None, None, None),
}  # fmt: skip


def layout_of(mtype: MessageType) -> Layout | None:
    """The streaming layout of ``mtype``: a built-in type's, or the one a schema pack read
    from its schema (group header and repeated transaction; no count or sum rules)."""
    layout = LAYOUTS.get(mtype.id)
    if layout is None and mtype.pack is not None:
        derived = pack_layout(mtype)
        if derived is not None:
            header = derived["header"]
            stated = {
                key: derived.get(key, "").removeprefix(f"{header}/") or None
                for key in ("count", "sum", "total")
            }
            layout = Layout(
                derived["transaction"], header, stated["count"], stated["sum"], stated["total"],
                derived["amount"][0], None, None, None,
            )  # fmt: skip
    return layout


#: rules comparing a header total with every transaction: the stream checks the totals
#: itself at the end (their findings on a transaction, e.g. a currency, still come per chunk)
TOTAL_RULES = frozenset(
    rule
    for layout in LAYOUTS.values()
    for rule in (layout.count_rule, layout.sum_rule, layout.total_rule)
    if rule
)
#: rules that need a whole statement at once: not run in streaming mode (an info finding says so)
STATEMENT_RULES = frozenset({"iso.stmt.balance", "iso.stmt.txs-summry"})
PACKAGE_RULES = TOTAL_RULES | STATEMENT_RULES

CHUNK = 500


@dataclass
class TransactionStream:
    """Iterate to get typed transactions; ``header`` and ``report`` fill in as it goes."""

    type: MessageType
    layout: Layout
    source: str | None
    _events: Any
    validate: bool
    profile: str | None
    config: Any = None
    #: bind each transaction to its class and yield it (else yield ``None`` per transaction:
    #: validation only, which reads the tree as whole-message validation does)
    bind: bool = True
    limits: Limits = DEFAULT_LIMITS
    cnaps_header: Any = None
    _file: Any = field(default=None, repr=False)
    #: lines before the XML body (the CNAPS2 header and signature), added to every line
    line_offset: int = 0
    _reader: Any = field(default=None, repr=False)
    _skipped: int = 0  # bytes before the XML body
    #: the schema pack chosen when the stream was opened (it holds while iterating)
    schema_pack: str | None = None
    header: Any = None
    count: int = 0
    report: Any = None
    #: the chunk's transactions (still in the tree, in their places), each with its parent
    _chunk: list[tuple[etree._Element, etree._Element]] = field(default_factory=list, repr=False)
    #: transactions already taken out of each parent (to number the later ones)
    _taken: dict[etree._Element, int] = field(default_factory=dict, repr=False)
    #: transactions read in each parent so far
    _seen: dict[etree._Element, int] = field(default_factory=dict, repr=False)
    #: the chunk's transactions that do not fit the model (not yielded)
    _unbound: list[BindingError] = field(default_factory=list, repr=False)
    #: parents of transactions (statements) validated whole: they leave the tree next
    _complete: list[etree._Element] = field(default_factory=list, repr=False)
    #: how many children of each tag left each element that way (to number the later ones)
    _dropped: dict[tuple[etree._Element, str], int] = field(default_factory=dict, repr=False)
    _sum: Decimal = Decimal(0)
    _sum_complete: bool = True  # every transaction amount present and a number
    _currencies: set[str | None] = field(default_factory=set, repr=False)
    _stated: dict[str, tuple[etree._Element | None, str | None, int | None]] = field(
        default_factory=dict, repr=False
    )
    #: findings outside the transactions reported so far (every chunk repeats the headers)
    _outside: set[tuple[Any, ...]] = field(default_factory=set, repr=False)
    #: the Document in the tree being parsed (the root, or inside a wrapper)
    _document: etree._Element | None = field(default=None, repr=False)

    @property
    def bytes_read(self) -> int:
        """How far into the input the parser has read (for progress bars)."""
        delivered = self._reader.delivered if self._reader is not None else 0
        return int(self._skipped + delivered)

    def __iter__(self) -> Iterator[Any]:
        if self.schema_pack is None:
            return self._items()
        return _chosen(self.schema_pack, self._items())

    def _items(self) -> Iterator[Any]:
        from paymsg.validation.findings import Report

        self.report = Report(
            source=self.source, type=self.type.id, profile=self.profile or "default"
        )
        tx_cls: type | None = None
        root: etree._Element | None = None
        try:
            for _, element in self._events:
                if root is None:
                    root = element.getroottree().getroot()
                    self._document = _document_of(element, self.type)
                if element.tag.endswith("}" + self.layout.header):
                    if self.header is not None:  # a Document has one group header
                        raise EnvelopeError(
                            "the wrapper holds more than one Document; one message per input",
                            source=self.source,
                            line=element.sourceline,
                        )
                    self._remember_header(element)
                    continue
                if tx_cls is None:
                    tx_cls = class_at(self.type, element, self._document)
                parent = element.getparent()
                assert parent is not None
                self._check_depth(element)
                index = self._seen[parent] = self._seen.get(parent, 0) + 1
                unbound: BindingError | None = None
                try:
                    if not self.bind:
                        item = None
                    elif self.validate:  # the chunk validates the element: a copy is bound
                        item = _bind(element, tx_cls, self.source)
                    else:  # the element is released next: the binder may use it up
                        item = _bind(element, tx_cls, self.source, consume=True)
                except BindingError as exc:
                    exc.path = f"{element_path(parent)}/{local_name(element.tag)}[{index}]"
                    if not self.validate:
                        raise
                    unbound, item = exc, _UNBOUND  # validated with its chunk, not yielded
                self.count += 1
                amount_el = find(element, self.layout.amount)
                amount = _decimal(amount_el)
                self._currencies.add(amount_el.get("Ccy") if amount_el is not None else None)
                if amount is None:
                    self._sum_complete = False
                else:
                    self._sum += amount
                if self.validate:  # the transaction stays in the tree until its chunk is done
                    if len(self._chunk) >= CHUNK:  # the last chunk is never empty
                        self._flush(root, final=False)
                    self._chunk.append((parent, element))
                    if unbound is not None:
                        self._unbound.append(unbound)
                else:
                    _release(element)
                if item is not _UNBOUND:
                    yield item
            if root is None:
                raise UnknownMessageTypeError(
                    f"no {self.layout.header} and no {self.layout.transaction} in the "
                    f"{self.type.id} document",
                    source=self.source,
                )
            self._check_depth(root)  # what is left: headers, wrapper, what follows
            if self.validate:
                self._flush(root, final=True)
                self._package_checks()
        except PaymsgError as exc:
            if self.line_offset and exc.line is not None:
                exc.line += self.line_offset
            raise
        finally:
            if self._file is not None:
                self._file.close()

    def _check_depth(self, element: etree._Element) -> None:
        """Refuse an element nested deeper than the limit (``element``'s subtree), as
        reading the whole message refuses it."""
        if too_deep_below(element, self.limits.max_depth):
            raise UnsafeXMLError(
                f"elements are nested deeper than {self.limits.max_depth} levels",
                source=self.source,
                line=element.sourceline,
                path=element_path(element),
                hint="raise Limits.max_depth if this is a genuine message",
            )

    # -- header -------------------------------------------------------------------------

    def _remember_header(self, element: etree._Element) -> None:
        self._check_depth(element)
        cls = class_at(self.type, element, self._document)
        self.header = _bind(element, cls, self.source)
        for key in ("count", "sum", "total"):
            tag = getattr(self.layout, key)
            child = find(element, tag) if tag else None
            text = child.text.strip() if child is not None and child.text else None
            self._stated[key] = (child, text, child.sourceline if child is not None else None)

    # -- validation ---------------------------------------------------------------------

    def _flush(self, root: etree._Element, *, final: bool) -> None:
        """Validate the chunk as a document: what has been read so far without the other
        transactions, and the chunk's transactions in their places."""
        from paymsg.validation.config import ValidationConfig
        from paymsg.validation.registry import RuleContext, run_rules

        assert self._document is not None
        # statements validated whole in an earlier chunk leave the tree, so that each chunk
        # costs the same however many came before (their findings are reported already)
        for done in self._complete:
            up = done.getparent()
            if up is not None:
                drop(done)
                self._dropped[up, done.tag] = self._dropped.get((up, done.tag), 0) + 1
        self._complete = []
        header, header_type = _app_header(root, self._document, final=final)
        last_tx = self._chunk[-1][1] if self._chunk else None
        # the parser reads ahead of its events: when it has begun what follows the chunk,
        # the chunk is validated in a copy cut after it; otherwise (always at the end) in
        # place, so that a huge transaction is never held twice
        in_place = final or last_tx is None or not _followed(last_tx)
        tree = root if in_place else copy.deepcopy(root)
        document = _same_place(self._document, tree)
        places: dict[etree._Element, etree._Element] = {}  # parent in the tree → in the copy
        inserted: dict[etree._Element, int] = {}
        for parent, _ in self._chunk:
            if parent not in places:
                places[parent] = _same_place(parent, tree)
            inserted[parent] = inserted.get(parent, 0) + 1
        last = self._chunk[-1][0] if self._chunk else None
        if not in_place and last is not None and last_tx is not None:
            _cut_after(places[last], last.index(last_tx) + 1)
        # the chunk's parents before the last one are complete in this chunk's document
        self._complete = [p for p in places if final or p is not last]
        chunk = [tx for _, tx in self._chunk]
        if not in_place:  # the copy has them in their places: they leave the tree now
            for tx in chunk:
                drop(tx)
            chunk = []
        # a transaction's index overall: its index in the chunk + those taken out before it
        offsets = {
            f"{element_path(places[parent])}/{self.layout.transaction}[": self._taken.get(parent, 0)
            for parent in places
        }
        earlier = {  # containers that left the tree before the ones in this chunk
            f"{element_path(_same_place(up, tree))}/{local_name(tag)}[": count
            for (up, tag), count in self._dropped.items()
        }
        for parent, count in inserted.items():
            self._taken[parent] = self._taken.get(parent, 0) + count
        self._chunk = []

        found = [_xsd(p, self.line_offset) for p in schema_errors(document, self.type)]
        app_header = _same_place(header, tree) if header is not None else None
        if app_header is not None and header_type is not None:
            found += [_xsd(p, 0) for p in schema_errors(app_header, header_type)]
        ctx = RuleContext(
            type=self.type,
            document=document,
            config=self.config or ValidationConfig(),
            app_header=app_header,
            cnaps_header=self.cnaps_header,
            line_offset=self.line_offset,
        )
        found += run_rules(ctx, self._packs())
        for tx in chunk:  # validated in place: they leave the tree now
            drop(tx)
        paths: list[str] = []
        for finding in found:
            finding, inside = _renumber(finding, offsets)
            finding = _renumber(finding, earlier)[0]
            paths.append(finding.path or "")
            if finding.rule in STATEMENT_RULES or (finding.rule in TOTAL_RULES and not inside):
                continue
            if not inside:  # every chunk repeats the headers: report those findings once
                key = (finding.rule, finding.path, finding.line, finding.value, finding.message)
                if key in self._outside:
                    continue
                self._outside.add(key)
            self.report.findings.append(finding)
        # a transaction that does not bind has schema findings, as when validating the whole
        # message; one that has none (the model refuses what the schema allows) says so
        for error in self._unbound:
            path = error.path or ""
            if not any(p == path or p.startswith(path + "/") for p in paths):
                self.report.findings.append(_unbound(error, self.line_offset))
        self._unbound = []

    def _package_checks(self) -> None:
        """The header totals against every transaction (as the rule packs check a whole
        message: a sum is not compared when an amount is missing or in another currency)."""
        from paymsg.validation.findings import Finding
        from paymsg.validation.registry import rules_for

        if any(r.id in STATEMENT_RULES for r in rules_for(self.type, self._packs())):
            self.report.findings.append(
                Finding(
                    rule="iso.stmt.balance",
                    layer="rule",
                    severity="info",
                    message="statement balances and totals are not checked in streaming mode",
                    message_zh="流式模式下不核对对账单余额和汇总",
                )
            )
        layout, count = self.layout, self.count
        element, stated, _ = self._stated.get("count", (None, None, None))
        wrong_count = stated is not None and (not stated.isdigit() or int(stated) != count)
        if layout.count_rule and element is not None and wrong_count:
            self._total_finding(
                layout.count_rule,
                "count",
                f"NbOfTxs is {stated}, but the message has {count} {layout.transaction}",
                f"NbOfTxs 为 {stated}，但报文实际有 {count} 笔 {layout.transaction}",
            )
        if not count or not self._sum_complete:
            return
        actual = format(self._sum, "f")
        for key, rule in (("sum", layout.sum_rule), ("total", layout.total_rule)):
            element, stated, _ = self._stated.get(key, (None, None, None))
            value = _decimal_text(stated) if stated is not None else None
            if rule is None or element is None or value is None or value == self._sum:
                continue
            if key == "total" and self._currencies != {element.get("Ccy")}:
                continue  # the rule reports each transaction in another currency instead
            name = local_name(element.tag)
            self._total_finding(
                rule,
                key,
                f"{name} is {stated}, but the {count} amounts add up to {actual}",
                f"{name} 为 {stated}，但 {count} 笔金额合计为 {actual}",
            )

    def _packs(self) -> tuple[str, ...]:
        from paymsg.validation.config import profile

        return tuple(profile(self.profile).packs)

    def _total_finding(self, rule: str, key: str, message: str, message_zh: str) -> None:
        from paymsg.validation.findings import Finding

        element, stated, line = self._stated[key]
        assert element is not None
        self.report.findings.append(
            Finding(
                rule=rule,
                layer="rule",
                severity="error",
                path=element_path(element),
                line=line + self.line_offset if line else None,
                value=stated,
                message=message,
                message_zh=message_zh,
            )
        )


# --------------------------------------------------------------------------- helpers


def _chosen(schema_pack: str, items: Iterator[Any]) -> Iterator[Any]:
    """``items``, each computed with ``schema_pack`` chosen (as when the stream opened)."""
    while True:
        with use_pack(schema_pack):
            item = next(items, _END)
        if item is _END:
            return
        yield item


_END = object()


def _document_of(element: etree._Element, mtype: MessageType) -> etree._Element:
    """The ``Document`` that ``element`` is part of (the root, or inside a wrapper)."""
    tag = f"{{{mtype.namespace}}}{mtype.root}"
    for candidate in (element, *element.iterancestors()):
        if candidate.tag == tag:
            return candidate
    raise UnknownMessageTypeError(f"{local_name(element.tag)} is outside the {mtype.root}")


def class_at(mtype: MessageType, element: etree._Element, document: etree._Element) -> type:
    """The generated class bound to ``element``'s position (found through the plans)."""
    names = [local_name(element.tag)]
    for ancestor in element.iterancestors():
        if ancestor is document:
            break
        names.append(local_name(ancestor.tag))
    plan = fast.plan_for(mtype.root_class)
    ns = mtype.namespace
    for name in reversed(names):
        child = plan.children.get(f"{{{ns}}}{name}")
        if child is None or child.plan is None:
            raise UnknownMessageTypeError(f"{name} is not part of {mtype.id}")
        plan = child.plan
    return plan.cls


def _bind(element: etree._Element, cls: type, source: str | None, *, consume: bool = False) -> Any:
    """``element`` bound to ``cls``; the generic binder clears what it reads, so it gets a
    copy unless ``consume`` (the element is not needed afterwards)."""
    try:
        return fast.decode(element, fast.plan_for(cls))
    except (fast.Unsupported, ValueError, TypeError):
        pass
    try:
        plan = fast.plan_for(cls)
    except fast.Unsupported:
        pass
    else:  # values the binder would read outside their lexical space, as bind() refuses
        fast.check_values(element, plan, source=source)
    try:
        return generic_parser().parse(element if consume else copy.deepcopy(element), cls)
    except Exception as exc:  # xsdata's ParserError, ConverterError, …
        raise BindingError(
            f"{local_name(element.tag)} does not fit the message model: {exc}",
            source=source,
            line=element.sourceline,
            path=element_path(element),
        ) from None


_UNBOUND = object()  # a transaction that does not fit the model (validating: reported)


def _unbound(error: BindingError, line_offset: int) -> Any:
    """The finding for a transaction that does not bind: not yielded, not silently lost."""
    from paymsg.validation.engine import safety_finding

    finding = safety_finding(error)
    line = finding.line + line_offset if finding.line else None
    return finding.model_copy(
        update={
            "line": line,
            "message": finding.message + "; the transaction is not yielded",
            "message_zh": finding.message_zh + "；该笔交易未返回",
        }
    )


def drop(element: etree._Element) -> None:
    """Take ``element`` out of its tree. It is emptied first: lxml moves a subtree out
    node by node, in time quadratic in the number of siblings below it (200,000
    ``AdrLine`` in one transaction took seconds), while emptying it is linear."""
    parent = element.getparent()
    element.clear(keep_tail=True)
    if parent is not None:
        parent.remove(element)


def _release(element: etree._Element) -> None:
    element.clear(keep_tail=False)
    parent = element.getparent()
    while element.getprevious() is not None and parent is not None:
        del parent[0]


def _decimal(element: etree._Element | None) -> Decimal | None:
    if element is None or element.text is None:
        return None
    return _decimal_text(element.text)


def _decimal_text(text: str) -> Decimal | None:
    try:
        value = Decimal(text.strip())
    except InvalidOperation:
        return None
    return value if value.is_finite() else None


def _app_header(
    root: etree._Element, document: etree._Element, *, final: bool
) -> tuple[etree._Element | None, MessageType | None]:
    """The business application header beside a wrapped ``document`` (read so far), and
    its type. At the end of the input, a wrapper holding a second Document or AppHdr is
    refused, as reading the whole message refuses it."""
    if document is root:
        return None, None
    found: dict[str, list[tuple[etree._Element, MessageType]]] = {"AppHdr": [], "Document": []}
    for element in root.iter("{*}AppHdr", "{*}Document"):
        name = local_name(element.tag)
        mtype = catalog().by_namespace(namespace_of(element.tag))
        if mtype is not None and mtype.root == name:
            found[name].append((element, mtype))
    if final:
        for name, parts in found.items():
            if len(parts) > 1:
                raise EnvelopeError(
                    f"the wrapper holds more than one {name}; one message per input",
                    line=parts[1][0].sourceline,
                )
    return found["AppHdr"][0] if found["AppHdr"] else (None, None)


def _same_place(element: etree._Element, copy_root: etree._Element) -> etree._Element:
    """The element of ``copy_root`` (a deep copy of ``element``'s tree) at its place."""
    steps = []
    node = element
    while (parent := node.getparent()) is not None:
        steps.append(parent.index(node))
        node = parent
    target = copy_root
    for index in reversed(steps):
        target = target[index]
    return target


def _followed(element: etree._Element) -> bool:
    """Whether anything follows ``element`` in document order (in the tree so far)."""
    node: etree._Element | None = element
    while node is not None:
        if node.getnext() is not None:
            return True
        node = node.getparent()
    return False


def _cut_after(parent: etree._Element, position: int) -> None:
    """Remove what follows child ``position`` of ``parent`` (and of its ancestors) in
    document order."""
    node: etree._Element | None = parent
    keep = position
    while node is not None:
        for extra in list(node)[keep:]:
            node.remove(extra)
        up = node.getparent()
        keep = up.index(node) + 1 if up is not None else 0
        node = up


_INDEX = re.compile(r"\[(\d+)\]")


def _renumber(finding: Any, offsets: dict[str, int]) -> tuple[Any, bool]:
    """A chunk finding with its transaction's index overall, and whether it lies in one of
    the chunk's transactions (``offsets``: the path of each parent's transactions, up to
    the ``[`` of the index → how many of them came before the chunk)."""
    path = finding.path or ""
    for prefix, offset in offsets.items():
        if path.startswith(prefix):
            match = _INDEX.match(path, len(prefix) - 1)
            if match is None:
                break
            if offset:
                renumbered = f"{prefix}{int(match.group(1)) + offset}]{path[match.end() :]}"
                finding = finding.model_copy(update={"path": renumbered})
            return finding, True
    return finding, False


def _xsd(problem: Any, line_offset: int) -> Any:
    from paymsg.validation.engine import xsd_finding

    return xsd_finding(problem, line_offset)


def iter_transactions(
    source: Source,
    type: str | None = None,
    *,
    validate: bool = False,
    profile: str | None = None,
    config: Any = None,
    bind: bool = True,
    limits: Limits = DEFAULT_LIMITS,
    schema_pack: str | None = None,
) -> TransactionStream:
    """A :class:`TransactionStream` over ``source`` (a path, bytes, or a binary file object).

    CNAPS2 text is accepted (its header names the type), and so is a Document inside an
    ISO wrapper with its AppHdr. With ``validate``, ``stream.report`` fills in as chunks
    are validated (``profile`` and ``config`` as for :func:`paymsg.validate`), and a
    transaction that does not fit the model is reported instead of raised, and not yielded.
    With ``bind=False`` (validation only) transactions are not bound: the stream yields
    ``None`` for each, and the report is exactly that of validating the whole message.
    ``limits.max_depth`` applies as when parsing the whole message (``max_bytes`` does not:
    streaming is for what is too large to hold). ``schema_pack`` names the pack whose type
    a shared namespace means (as for :func:`paymsg.parse`); the type is decided here.
    """
    if schema_pack is not None:
        with use_pack(schema_pack):
            chosen = iter_transactions(
                source, type, validate=validate, profile=profile, config=config, bind=bind,
                limits=limits,
            )  # fmt: skip
        chosen.schema_pack = schema_pack
        return chosen
    stream: Any
    name: str | None = None
    if isinstance(source, bytes | bytearray):
        stream = io.BytesIO(bytes(source))
    elif isinstance(source, str | Path):
        name = str(source)
        try:
            stream = open(source, "rb")  # noqa: SIM115 - closed when the parser finishes
        except OSError as exc:
            raise InputError(f"cannot read file: {exc.strerror or exc}", source=name) from None
    else:
        stream = source
    try:
        opened = _open(stream, name, type, validate, profile, config)
    except Exception:
        stream.close()
        raise
    opened.bind, opened.limits = bind, limits
    return opened


def _open(
    stream: Any, name: str | None, type_id: str | None, validate: bool, profile: Any, config: Any
) -> TransactionStream:
    head = stream.read(HEAD)
    header = None
    line_offset = skipped = 0
    if cnaps2.looks_like_cnaps2(head):
        envelope, offset = cnaps2.split_envelope(head)
        header = envelope.header
        type_id = type_id or header.mesg_type
        line_offset = head.count(b"\n", 0, offset)
        head, skipped = head[offset:], offset
    found = find_document(head, name, complete=len(head) < HEAD)
    mtype = catalog().get(type_id) if type_id else found
    if mtype is not None and found is not None and found.namespace != mtype.namespace:
        raise BindingError(
            f"asked for {mtype.id}, whose body is in {mtype.namespace}, but the body is "
            f"{found.id} ({found.namespace})",
            source=name,
        )
    layout = layout_of(mtype) if mtype is not None else None
    if mtype is None or layout is None:
        supported = ", ".join(sorted(LAYOUTS))
        raise UnknownMessageTypeError(
            f"cannot stream {mtype.id if mtype else 'this input'}",
            source=name,
            hint=f"streamable: {supported}",
        )
    # only the ends of the header and of the transactions reach Python
    reader = _Prefixed(head, stream)
    events = iterparse(
        reader,
        events=("end",),
        tag=[f"{{{mtype.namespace}}}{layout.header}", f"{{{mtype.namespace}}}{layout.transaction}"],
        name=name,
        head=head,
    )
    return TransactionStream(
        mtype,
        layout,
        name,
        events,
        validate,
        profile,
        config,
        cnaps_header=header,
        _file=stream,
        line_offset=line_offset,
        _reader=reader,
        _skipped=skipped,
    )


HEAD = 64 * 1024  # read first: the CNAPS2 envelope, or a wrapper up to its Document


def find_document(head: bytes, name: str | None, *, complete: bool) -> MessageType | None:
    """The type of the catalogued ``Document`` in ``head`` (the root, or inside a wrapper),
    or None. ``complete`` says ``head`` is the whole input (else it may end mid-element)."""
    probe = iterparse(_Prefixed(head, io.BytesIO()), events=("start",), name=name, head=head)
    started = False
    try:
        for _, element in probe:
            started = True
            tag = element.tag
            mtype = catalog().by_namespace(namespace_of(tag))
            if mtype is not None and mtype.root == local_name(tag) == "Document":
                return mtype
    except MalformedXMLError:
        if complete:
            raise
        return None  # the Document starts further in than the head: not streamed
    if not started:
        raise MalformedXMLError("no XML body", source=name)
    return None


class _Prefixed(io.RawIOBase):
    """A binary stream: ``prefix`` bytes, then the rest of ``stream``."""

    def __init__(self, prefix: bytes, stream: Any) -> None:
        self._prefix = prefix
        self._stream = stream
        self.delivered = 0  # bytes handed to the parser so far

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        if self._prefix:
            size = min(len(buffer), len(self._prefix))
            buffer[:size] = self._prefix[:size]
            self._prefix = self._prefix[size:]
        else:
            data = self._stream.read(len(buffer))
            size = len(data)
            buffer[:size] = data
        self.delivered += size
        return size

    def close(self) -> None:
        if hasattr(self._stream, "close"):
            self._stream.close()
        super().close()


# --------------------------------------------------------------------------- whole, in pieces

#: a message this large (bytes of XML) whose type has a streaming layout is bound in pieces
PIECES_FROM = 1024 * 1024


@dataclass(slots=True)
class Pieces:
    """A message read in pieces: the tree without its transactions, and the transactions
    already bound, each list with the element they belong in (see :func:`read_in_pieces`)."""

    root: etree._Element
    #: the class the transactions are bound to
    cls: type
    transactions: list[tuple[etree._Element, list[Any]]]

    def put_back(self, document: Any, document_element: etree._Element) -> None:
        """Set the bound transactions into ``document`` (bound from ``document_element``,
        the Document of :attr:`root`), each list in the place its element had."""
        for parent, items in self.transactions:
            holder: Any = document
            plan = fast.plan_for(type(document))
            chain = [parent, *parent.iterancestors()]
            for node in reversed(chain[: chain.index(document_element)]):
                child = plan.children[node.tag]
                value = getattr(holder, child.name)
                if child.repeated:
                    up = node.getparent()
                    assert up is not None
                    value = value[[c for c in up if c.tag == node.tag].index(node)]
                if child.plan is None:
                    raise fast.Unsupported(child.name)
                holder, plan = value, child.plan
            name = next(
                c.name
                for c in plan.order
                if c.repeated and c.plan is not None and c.plan.cls is self.cls
            )
            getattr(holder, name).extend(items)


def read_in_pieces(
    raw: bytes, mtype: MessageType, limits: Limits, source: str | None
) -> Pieces | None:
    """Read the XML ``raw`` (a ``mtype`` Document, bare or in a wrapper) binding each
    transaction as soon as it is read and dropping its elements, so that the tree never
    holds more than one transaction (a 100,000-transaction pacs.008 took 3.5 GB as one
    tree). ``None`` when this cannot give exactly what binding the whole tree gives (a type
    without a streaming layout, a transaction the binders refuse): the caller binds whole,
    which also explains any error. Safety (DOCTYPE, depth) is checked as for the whole
    message; the caller checks the size."""
    layout = layout_of(mtype)
    if layout is None or len(raw) < PIECES_FROM:
        return None
    tag = f"{{{mtype.namespace}}}{layout.transaction}"
    root: etree._Element | None = None
    plan: fast.Plan | None = None
    found: dict[etree._Element, list[Any]] = {}
    with paused_gc():  # a tree of objects and no cycles, as in binding.bind
        for _, element in iterparse(
            io.BytesIO(raw), events=("end",), tag=tag, name=source, head=raw[:HEAD]
        ):
            parent = element.getparent()
            assert parent is not None
            if parent not in found:  # a new place for transactions: one the model has?
                try:
                    cls = class_at(mtype, element, _document_of(element, mtype))
                except PaymsgError:
                    return None  # e.g. inside xs:any content
                if plan is None:
                    root = element.getroottree().getroot()
                    plan = fast.plan_for(cls)
                elif cls is not plan.cls:
                    return None
            assert plan is not None
            _refuse_depth(element, limits, source)
            try:
                item = fast.decode(element, plan)
            except (fast.Unsupported, ValueError, TypeError):
                try:  # values outside their lexical space, as bind() refuses them
                    fast.check_values(element, plan, source=source)
                    item = generic_parser().parse(element, plan.cls)
                except Exception:  # the whole-message binder explains it
                    return None
            found.setdefault(parent, []).append(item)
            drop(element)
    if root is None or plan is None:
        return None
    _refuse_depth(root, limits, source)
    return Pieces(root, plan.cls, list(found.items()))


def _refuse_depth(element: etree._Element, limits: Limits, source: str | None) -> None:
    if too_deep_below(element, limits.max_depth):
        raise UnsafeXMLError(  # as the whole-message reader says it
            f"elements are nested deeper than {limits.max_depth} levels",
            source=source,
            hint="raise Limits.max_depth if this is a genuine message",
        )
