"""Streaming large messages: BEPS packages, multi-transaction pacs.008/009, camt.053 statements.

``iter_transactions(source)`` reads the XML incrementally (lxml ``iterparse``), clears
what it has read, and yields typed transactions one by one; the group/package header
(and the statement header for camt.053) is bound first and available as
``stream.header``. Memory does not grow with the number of transactions.

With ``validate=True`` the transactions are validated in chunks: each chunk becomes a
small document (the header, the chunk's transactions, counts and sums restated for
the chunk) that goes through the XSD layer and the rule packs like any message; paths
and lines point into the original input. The package-level checks — stated
``NbOfTxs`` / ``CtrlSum`` / total amount against the whole stream — run at the end,
under the same rule ids the rule packs use. Statement balance checks
(``iso.stmt.*``) need every entry and are not run in streaming mode (an ``info``
finding says so).
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

from paymsg.catalog import MessageType, catalog
from paymsg.codec import cnaps2, fast
from paymsg.codec.api import Source
from paymsg.codec.binding import CONTEXT, schema_errors
from paymsg.codec.xmlsafe import element_path, iterparse, local_name, namespace_of
from paymsg.errors import BindingError, InputError, MalformedXMLError, UnknownMessageTypeError


@dataclass(frozen=True)
class Layout:
    """Where the header, the transactions and their counts live in one message type."""

    transaction: str  # local name of the repeated element
    parent: str  # local name of its parent (message element, or Stmt)
    header: str  # group / package header local name
    count: str | None  # header child stating the number of transactions
    sum: str | None  # header child stating the control sum
    total: str | None  # header child stating the total settlement amount
    amount: str  # path of the amount inside a transaction
    count_rule: str | None
    sum_rule: str | None
    total_rule: str | None


_ISO_CT = Layout(
    "CdtTrfTxInf", "", "GrpHdr", "NbOfTxs", "CtrlSum", "TtlIntrBkSttlmAmt", "IntrBkSttlmAmt",
    "iso.grphdr.nb-of-txs", "iso.grphdr.ctrl-sum", "iso.grphdr.ttl-intr-bk-sttlm-amt",
)  # fmt: skip
_BEPS = dict(header="PKGGrpHdr", count="NbOfTxs", sum="CtrlSum", total=None, amount="Amt")
LAYOUTS: dict[str, Layout] = {
    "pacs.008.001.08": _ISO_CT,
    "pacs.009.001.08": _ISO_CT,
    "pacs.008.001.02": _ISO_CT,
    "pacs.009.001.02": _ISO_CT,
    "beps.121.001.01": Layout(
        "CstmrCdtTrfInf", "", **_BEPS,  # type: ignore[arg-type]
        count_rule="cnaps2.beps.nb-of-txs", sum_rule="cnaps2.beps.ctrl-sum", total_rule=None,
    ),
    "beps.122.001.01": Layout(
        "FinCdtTrfInf", "", **_BEPS,  # type: ignore[arg-type]
        count_rule="cnaps2.beps.nb-of-txs", sum_rule="cnaps2.beps.ctrl-sum", total_rule=None,
    ),
    "camt.053.001.08": Layout(
        "Ntry", "Stmt", "GrpHdr", None, None, None, "Amt", None, None, None
    ),
}  # fmt: skip

#: rules that need the whole package; the stream checks them itself at the end
PACKAGE_RULES = frozenset(
    {"iso.stmt.balance", "iso.stmt.txs-summry"}
    | {
        r
        for layout in LAYOUTS.values()
        for r in (layout.count_rule, layout.sum_rule, layout.total_rule)
        if r
    }
)

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
    cnaps_header: Any = None
    _file: Any = field(default=None, repr=False)
    header: Any = None
    count: int = 0
    report: Any = None
    _skeleton: etree._Element | None = field(default=None, repr=False)
    _chunk: list[etree._Element] = field(default_factory=list, repr=False)
    _sum: Decimal = Decimal(0)
    _stated: dict[str, tuple[str | None, str | None, int | None]] = field(default_factory=dict)

    def __iter__(self) -> Iterator[Any]:
        from paymsg.validation.findings import Report

        self.report = Report(
            source=self.source, type=self.type.id, profile=self.profile or "default"
        )
        tx_cls: type | None = None
        try:
            for event, element in self._events:
                name = element.tag.rsplit("}", 1)[-1]
                if event == "start":
                    if name == self.layout.transaction and self.validate and self._skeleton is None:
                        self._skeleton = _skeleton_of(element)
                    continue
                if name == self.layout.header and self.header is None:
                    self._remember_header(element)
                elif name == self.layout.transaction:
                    if tx_cls is None:
                        tx_cls = _class_of(self.type, element)
                    item = _bind(element, tx_cls, self.source)
                    self.count += 1
                    amount = _decimal(element.find("{*}" + self.layout.amount))
                    if amount is not None:
                        self._sum += amount
                    if self.validate:
                        self._chunk.append(copy.deepcopy(element))
                        if len(self._chunk) >= CHUNK:
                            self._flush()
                    _release(element)
                    yield item
        finally:
            if self._file is not None:
                self._file.close()
        if self.validate:
            self._flush()
            self._package_checks()

    # -- header -------------------------------------------------------------------------

    def _remember_header(self, element: etree._Element) -> None:
        cls = _class_of(self.type, element)
        self.header = _bind(element, cls, self.source)
        for key in ("count", "sum", "total"):
            tag = getattr(self.layout, key)
            child = element.find("{*}" + tag) if tag else None
            text = child.text.strip() if child is not None and child.text else None
            where = (element_path(child), child.sourceline) if child is not None else (None, None)
            self._stated[key] = (text, *where)

    # -- validation ---------------------------------------------------------------------

    def _flush(self) -> None:
        if not self._chunk or self._skeleton is None:
            self._chunk = []
            return
        from paymsg.validation.config import ValidationConfig
        from paymsg.validation.config import profile as get_profile
        from paymsg.validation.registry import RuleContext, run_rules

        document = copy.deepcopy(self._skeleton)
        parent = _find_local(document, self.layout.parent) if self.layout.parent else document[0]
        offset = self.count - len(self._chunk)
        total = Decimal(0)
        for tx in self._chunk:
            parent.append(tx)
            amount = _decimal(tx.find("{*}" + self.layout.amount))
            total += amount or 0
        _restate(document, self.layout, len(self._chunk), total)
        mtype = self.type
        found = [_xsd_finding(p) for p in schema_errors(document, mtype)]
        ctx = RuleContext(
            type=mtype,
            document=document,
            config=self.config or ValidationConfig(),
            cnaps_header=self.cnaps_header,
        )
        packs = get_profile(self.profile).packs
        found += [f for f in run_rules(ctx, packs) if f.rule not in PACKAGE_RULES]
        self.report.findings.extend(_shift(f, self.layout.transaction, offset) for f in found)
        self._chunk = []

    def _package_checks(self) -> None:
        from paymsg.validation.findings import Finding

        checks = (
            ("count", self.layout.count_rule, str(self.count)),
            ("sum", self.layout.sum_rule, self._sum),
            ("total", self.layout.total_rule, self._sum),
        )
        for key, rule, actual in checks:
            stated, path, line = self._stated.get(key, (None, None, None))
            if rule is None or stated is None:
                continue
            ok = stated == actual if key == "count" else _decimal_text(stated) == actual
            if not ok:
                self.report.findings.append(
                    Finding(
                        rule=rule,
                        layer="rule",
                        severity="error",
                        path=path,
                        line=line,
                        value=stated,
                        message=f"the header states {stated}, the stream has {actual}",
                        message_zh=f"报文头声明为 {stated}，实际为 {actual}",
                    )
                )
        if self.type.id.startswith("camt.053"):
            self.report.findings.append(
                Finding(
                    rule="iso.stmt.balance",
                    layer="rule",
                    severity="info",
                    message="statement balances are not checked in streaming mode",
                    message_zh="流式模式下不核对对账单余额",
                )
            )


# --------------------------------------------------------------------------- helpers


def _class_of(mtype: MessageType, element: etree._Element) -> type:
    """The generated class bound to ``element``'s position (found through the plans)."""
    ancestors = [local_name(e.tag) for e in element.iterancestors()][::-1]
    names = [*ancestors[1:], local_name(element.tag)]
    plan = fast.plan_for(mtype.root_class)
    ns = mtype.namespace
    for name in names:
        child = plan.children.get(f"{{{ns}}}{name}")
        if child is None or child.plan is None:
            raise UnknownMessageTypeError(f"{name} is not part of {mtype.id}")
        plan = child.plan
    return plan.cls


def _bind(element: etree._Element, cls: type, source: str | None) -> Any:
    try:
        return fast.decode(element, fast.plan_for(cls))
    except (fast.Unsupported, ValueError, TypeError):
        pass
    from xsdata.formats.dataclass.parsers import XmlParser

    try:
        return XmlParser(context=CONTEXT).parse(copy.deepcopy(element), cls)
    except Exception as exc:  # xsdata's ParserError, ConverterError, …
        raise BindingError(
            f"{local_name(element.tag)} does not fit the message model: {exc}",
            source=source,
            line=element.sourceline,
            path=element_path(element),
        ) from None


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
        return Decimal(text.strip())
    except InvalidOperation:
        return None


def _find_local(root: etree._Element, name: str) -> etree._Element:
    found = root.find(".//{*}" + name)
    if found is None:
        raise UnknownMessageTypeError(f"no {name} element")
    return found


def _skeleton_of(first_transaction: etree._Element) -> etree._Element:
    """Everything read before the first transaction (headers included), without it."""
    skeleton = copy.deepcopy(first_transaction.getroottree().getroot())
    partial = skeleton.find(".//{*}" + local_name(first_transaction.tag))
    parent = partial.getparent() if partial is not None else None
    if partial is not None and parent is not None:
        # the parser reads ahead of its events: drop the transaction and what follows
        for extra in list(parent)[parent.index(partial) :]:
            parent.remove(extra)
    return skeleton


def _restate(document: etree._Element, layout: Layout, count: int, total: Decimal) -> None:
    header = document.find(".//{*}" + layout.header)
    if header is None:
        return
    for tag, value in ((layout.count, str(count)), (layout.sum, total), (layout.total, total)):
        child = header.find("{*}" + tag) if tag else None
        if child is not None:
            child.text = str(value)


_INDEX = re.compile(r"\[(\d+)\]")


def _shift(finding: Any, tx_name: str, offset: int) -> Any:
    """Renumber ``/<tx>[i]`` in a chunk finding's path to the transaction's place overall."""
    if not finding.path or offset == 0:
        return finding
    marker = f"/{tx_name}"
    if marker not in finding.path:
        return finding
    head, _, tail = finding.path.partition(marker)
    match = re.match(r"\[(\d+)\]", tail)
    index = int(match.group(1)) if match else 1
    rest = tail[match.end() :] if match else tail
    return finding.model_copy(update={"path": f"{head}{marker}[{index + offset}]{rest}"})


def _xsd_finding(problem: Any) -> Any:
    from paymsg.validation.engine import _xsd

    return _xsd(problem, 0)


def iter_transactions(
    source: Source,
    type: str | None = None,
    *,
    validate: bool = False,
    profile: str | None = None,
    config: Any = None,
) -> TransactionStream:
    """A :class:`TransactionStream` over ``source`` (a path, bytes, or a binary file object).

    CNAPS2 text is accepted: its header names the type and the body is streamed.
    """
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
        return _open(stream, name, type, validate, profile, config)
    except Exception:
        stream.close()
        raise


def _open(
    stream: Any, name: str | None, type_id: str | None, validate: bool, profile: Any, config: Any
) -> TransactionStream:
    head = stream.read(4096)
    header = None
    if cnaps2.looks_like_cnaps2(head):
        envelope, offset = cnaps2.split_envelope(head)
        header = envelope.header
        type_id = type_id or header.mesg_type
        head = head[offset:]
    probe = iterparse(_Prefixed(head, io.BytesIO()), events=("start",), name=name, head=head)
    try:
        _, root = next(probe)
    except StopIteration:
        raise MalformedXMLError("no XML body", source=name) from None
    mtype = catalog().get(type_id) if type_id else catalog().by_namespace(namespace_of(root.tag))
    if mtype is None or mtype.id not in LAYOUTS:
        supported = ", ".join(sorted(LAYOUTS))
        raise UnknownMessageTypeError(
            f"cannot stream {mtype.id if mtype else local_name(root.tag)}",
            source=name,
            hint=f"streamable: {supported}",
        )
    layout = LAYOUTS[mtype.id]
    # only the header and transaction events reach Python
    events = iterparse(
        _Prefixed(head, stream),
        events=("start", "end"),
        tag=[f"{{{mtype.namespace}}}{layout.header}", f"{{{mtype.namespace}}}{layout.transaction}"],
        name=name,
        head=head,
    )
    return TransactionStream(
        mtype, layout, name, events, validate, profile, config, cnaps_header=header, _file=stream
    )


class _Prefixed(io.RawIOBase):
    """A binary stream: ``prefix`` bytes, then the rest of ``stream``."""

    def __init__(self, prefix: bytes, stream: Any) -> None:
        self._prefix = prefix
        self._stream = stream

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        if self._prefix:
            size = min(len(buffer), len(self._prefix))
            buffer[:size] = self._prefix[:size]
            self._prefix = self._prefix[size:]
            return size
        data = self._stream.read(len(buffer))
        buffer[: len(data)] = data
        return len(data)

    def close(self) -> None:
        if hasattr(self._stream, "close"):
            self._stream.close()
        super().close()
