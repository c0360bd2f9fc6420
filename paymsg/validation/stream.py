"""Validation of a message as a stream: ``paymsg.iter_transactions(validate=True)``, and
``paymsg.validate`` above a size threshold.

The codec's transaction iterator (:func:`paymsg.codec.stream.reader.iter_transactions`)
reads the message incrementally and hands its transactions, chunk by chunk and still in
the tree, to a :class:`ChunkValidator`. Each chunk is validated as a document made of what
has been read so far except the other transactions (headers, AppHdr, the statements of
the chunk's entries, and at the end what follows the transactions) with the chunk's
transactions in their places, so paths and lines point into the input; findings outside
the transactions are kept once, and a statement validated whole leaves the tree.

The counts, sums and totals (``NbOfTxs``, ``CtrlSum``, ``TtlIntrBkSttlmAmt``) are one
rule family (:mod:`paymsg.validation.rules.totals`): each chunk adds its transactions to
running tallies and the header is compared with them at the end, under the same rule ids,
conditions and messages as for the whole message. Statement balance checks
(``iso.stmt.*``) need every entry at once and are not run (an ``info`` finding says so).

With ``bind=False`` (what ``paymsg.validate`` does) transactions are never bound to
objects, so memory stays flat whatever their number, and the report has the findings of
whole-message validation (same rule ids, paths and lines) except the statement balances.
"""

from __future__ import annotations

import copy
import os
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

from lxml import etree

from paymsg.codec.api import Source, is_json
from paymsg.codec.stream import reader as codec_stream
from paymsg.codec.stream.reader import TransactionStream, drop
from paymsg.codec.xml.safe import DEFAULT_LIMITS, Limits, element_path, local_name, namespace_of
from paymsg.errors import BindingError, EnvelopeError, PaymsgError
from paymsg.schema.catalog import MessageType, catalog
from paymsg.validation.config import ValidationConfig, profile
from paymsg.validation.findings import Finding, Report
from paymsg.validation.registry import RuleContext, rules_for, run_rules
from paymsg.validation.rules import totals
from paymsg.validation.safety import safety_finding
from paymsg.validation.xsd import xsd_findings

#: called while streaming with (bytes read so far, total bytes)
Progress = Callable[[int, int], None]

#: how often (in transactions) ``progress`` is called
PROGRESS_EVERY = 256

#: rules that need a whole statement at once: not run in streaming mode (an info finding says so)
STATEMENT_RULES = frozenset({"iso.stmt.balance", "iso.stmt.txs-summry"})
#: rules whose comparison waits for the end of the stream
PACKAGE_RULES = totals.TOTAL_RULES | STATEMENT_RULES


class ChunkValidator:
    """Validates a :class:`TransactionStream` chunk by chunk (its ``watcher``); the report
    is ``stream.report``."""

    def __init__(self, profile_name: str | None, config: ValidationConfig | None) -> None:
        self.profile = profile_name
        self.config = config or ValidationConfig()
        self.packs = tuple(profile(profile_name).packs)
        self.stream: TransactionStream | None = None
        self.report = Report()
        #: rule id → running tally of the transactions validated so far
        self.tallies: dict[str, Any] = {}
        #: transactions already taken out of each parent (to number the later ones)
        self.taken: dict[etree._Element, int] = {}
        #: parents of transactions (statements) validated whole: they leave the tree next
        self.complete: list[etree._Element] = []
        #: how many children of each tag left each element that way (to number the later ones)
        self.dropped: dict[tuple[etree._Element, str], int] = {}
        #: findings outside the transactions reported so far (every chunk repeats the headers)
        self.outside: set[tuple[Any, ...]] = set()

    def start(self, stream: TransactionStream) -> None:
        self.stream = stream
        self.report = stream.report = Report(
            source=stream.source, type=stream.type.id, profile=self.profile or "default"
        )

    def _context(self, document: etree._Element, app_header: etree._Element | None) -> RuleContext:
        stream = self.stream
        assert stream is not None
        return RuleContext(
            type=stream.type,
            document=document,
            config=self.config,
            app_header=app_header,
            cnaps_header=stream.cnaps_header,
            line_offset=stream.line_offset,
            tallies=self.tallies,
        )

    def chunk(
        self,
        root: etree._Element,
        transactions: list[tuple[etree._Element, etree._Element]],
        unbound: list[BindingError],
        *,
        final: bool,
    ) -> None:
        """Validate the chunk as a document: what has been read so far without the other
        transactions, and the chunk's transactions in their places."""
        stream = self.stream
        assert stream is not None and stream.document is not None
        layout = stream.layout
        # statements validated whole in an earlier chunk leave the tree, so that each chunk
        # costs the same however many came before (their findings are reported already)
        for done in self.complete:
            up = done.getparent()
            if up is not None:
                drop(done)
                self.dropped[up, done.tag] = self.dropped.get((up, done.tag), 0) + 1
        self.complete = []
        header, header_type = _app_header(root, stream.document, final=final)
        last_tx = transactions[-1][1] if transactions else None
        # the parser reads ahead of its events: when it has begun what follows the chunk,
        # the chunk is validated in a copy cut after it; otherwise (always at the end) in
        # place, so that a huge transaction is never held twice
        in_place = final or last_tx is None or not _followed(last_tx)
        tree = root if in_place else copy.deepcopy(root)
        document = _same_place(stream.document, tree)
        places: dict[etree._Element, etree._Element] = {}  # parent in the tree → in the copy
        inserted: dict[etree._Element, int] = {}
        for parent, _ in transactions:
            if parent not in places:
                places[parent] = _same_place(parent, tree)
            inserted[parent] = inserted.get(parent, 0) + 1
        last = transactions[-1][0] if transactions else None
        if not in_place and last is not None and last_tx is not None:
            _cut_after(places[last], last.index(last_tx) + 1)
        # the chunk's parents before the last one are complete in this chunk's document
        self.complete = [p for p in places if final or p is not last]
        chunk = [tx for _, tx in transactions]
        if not in_place:  # the copy has them in their places: they leave the tree now
            for tx in chunk:
                drop(tx)
            chunk = []
        # a transaction's index overall: its index in the chunk + those taken out before it
        offsets = {
            f"{element_path(places[parent])}/{layout.transaction_name}[": self.taken.get(parent, 0)
            for parent in places
        }
        earlier = {  # containers that left the tree before the ones in this chunk
            f"{element_path(_same_place(up, tree))}/{local_name(tag)}[": count
            for (up, tag), count in self.dropped.items()
        }
        for parent, count in inserted.items():
            self.taken[parent] = self.taken.get(parent, 0) + count

        app_header = _same_place(header, tree) if header is not None else None
        found = xsd_findings(document, stream.type, stream.line_offset, app_header, header_type)
        found += run_rules(self._context(document, app_header), self.packs)
        for tx in chunk:  # validated in place: they leave the tree now
            drop(tx)
        paths: list[str] = []
        for finding in found:
            finding, inside = _renumber(finding, offsets)
            finding = _renumber(finding, earlier)[0]
            paths.append(finding.path or "")
            if finding.rule in STATEMENT_RULES or (finding.rule in PACKAGE_RULES and not inside):
                continue
            if not inside:  # every chunk repeats the headers: report those findings once
                key = (finding.rule, finding.path, finding.line, finding.value, finding.message)
                if key in self.outside:
                    continue
                self.outside.add(key)
            self.report.findings.append(finding)
        # a transaction that does not bind has schema findings, as when validating the whole
        # message; one that has none (the model refuses what the schema allows) says so
        for error in unbound:
            path = error.path or ""
            if not any(p == path or p.startswith(path + "/") for p in paths):
                self.report.findings.append(_unbound(error, stream.line_offset))
        if final:
            self._finish()

    def _finish(self) -> None:
        """The header totals against every transaction, and what streaming does not check."""
        stream = self.stream
        assert stream is not None and stream.document is not None
        specs = rules_for(stream.type, self.packs)
        if any(r.id in STATEMENT_RULES for r in specs):
            self.report.findings.append(
                Finding(
                    rule="iso.stmt.balance",
                    layer="rule",
                    severity="info",
                    message="statement balances and totals are not checked in streaming mode",
                    message_zh="流式模式下不核对对账单余额和汇总",
                )
            )
        ctx = self._context(stream.document, None)
        self.report.findings.extend(totals.finish(ctx, specs))


def iter_transactions(
    source: Source,
    type: str | None = None,
    *,
    validate: bool = False,
    profile: str | None = None,
    config: ValidationConfig | None = None,
    bind: bool = True,
    limits: Limits = DEFAULT_LIMITS,
) -> TransactionStream:
    """A :class:`~paymsg.TransactionStream` over ``source`` (a path, bytes, or a binary
    file object): typed transactions one by one, memory flat (``paymsg.iter_transactions``).

    CNAPS2 text is accepted (its header names the type), and so is a Document inside an
    ISO wrapper with its AppHdr. With ``validate``, ``stream.report`` fills in as chunks
    are validated (``profile`` and ``config`` as for :func:`paymsg.validate`), and a
    transaction that does not fit the model is reported instead of raised, and not yielded.
    With ``bind=False`` (validation only) transactions are not bound: the stream yields
    ``None`` for each, and the report is exactly that of validating the whole message.
    ``limits.max_depth`` applies as when parsing the whole message (``max_bytes`` does not:
    streaming is for what is too large to hold).
    """
    watcher = ChunkValidator(profile, config) if validate else None
    return codec_stream.iter_transactions(source, type, bind=bind, limits=limits, watcher=watcher)


def input_size(data: bytes | str | os.PathLike[str]) -> int | None:
    """The size in bytes of message input given as bytes, text or a path (None when a
    path cannot be read: whole-message validation reports that)."""
    if isinstance(data, bytes | bytearray | memoryview):
        return len(data)
    if isinstance(data, str) and data.lstrip("\ufeff \t\r\n")[:1] in ("<", "{"):
        return len(data.encode("utf-8"))
    try:
        return Path(data).stat().st_size
    except OSError:
        return None


def validate_streamed(
    data: bytes | str | os.PathLike[str],
    *,
    profile_name: str,
    config: ValidationConfig,
    limits: Limits,
    type: str | None = None,
    progress: Progress | None = None,
) -> Report | None:
    """The report of validating ``data`` as a stream, or ``None`` when it does not stream
    (a type without a streaming layout, a Document that starts after the first 64 KiB,
    paymsg JSON, or input that cannot even be opened): the caller validates it whole.

    An error met while streaming (malformed XML, a depth limit, a second Document) is the
    report's one ``safety`` finding, as when validating the whole message.
    """
    total = input_size(data) or 0
    source: bytes | str | Path
    if isinstance(data, bytes | bytearray | memoryview):
        source = bytes(data)
    elif isinstance(data, str) and data.lstrip("\ufeff \t\r\n")[:1] in ("<", "{"):
        source = data.encode("utf-8")
    else:
        source = Path(data)
    name = str(source) if isinstance(source, Path) else None
    if _is_json_start(source):
        return None
    try:
        stream = codec_stream.iter_transactions(
            source,
            type,
            watcher=ChunkValidator(profile_name, config),
            bind=False,
            limits=limits,
        )
    except PaymsgError:
        return None  # not streamable (or not readable): whole validation says why
    try:
        for count, _ in enumerate(stream, 1):
            if progress is not None and count % PROGRESS_EVERY == 0:
                progress(stream.bytes_read, total)
    except PaymsgError as exc:
        # whole-message validation stops at the first safety problem, with only that
        return Report(source=name, profile=profile_name, findings=[safety_finding(exc)])
    if progress is not None:
        progress(total, total)
    report: Report = stream.report
    report.source = name
    return report


def _is_json_start(source: bytes | Path) -> bool:
    if isinstance(source, Path):
        try:
            with source.open("rb") as file:
                head = file.read(4096)
        except OSError:
            return False
    else:
        head = source[:4096]
    return is_json(head)


# --------------------------------------------------------------------------- helpers


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


def _unbound(error: BindingError, line_offset: int) -> Finding:
    """The finding for a transaction that does not bind: not yielded, not silently lost."""
    finding = safety_finding(error)
    line = finding.line + line_offset if finding.line else None
    return finding.model_copy(
        update={
            "line": line,
            "message": finding.message + "; the transaction is not yielded",
            "message_zh": finding.message_zh + "；该笔交易未返回",
        }
    )


__all__ = [
    "PROGRESS_EVERY",
    "ChunkValidator",
    "Progress",
    "input_size",
    "iter_transactions",
    "validate_streamed",
]
