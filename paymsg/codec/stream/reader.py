"""Streaming large messages: BEPS packages, multi-transaction pacs.008/009, camt.053 statements.

``iter_transactions(source)`` reads the XML incrementally (lxml ``iterparse``), clears
what it has read, and yields typed transactions one by one; the group/package header is
bound first and available as ``stream.header``. Memory does not grow with the number of
transactions.

A *watcher* (``iter_transactions(..., watcher=...)``) gets the transactions chunk by chunk,
still in the tree in their places, with the headers and what precedes them: that is how
:mod:`paymsg.validation.stream` validates a message as it streams (``paymsg.iter_transactions``
with ``validate=True``). This module knows nothing of validation.
"""

from __future__ import annotations

import copy
import io
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from lxml import etree

from paymsg.codec.api import Source
from paymsg.codec.envelope import cnaps2
from paymsg.codec.xml import fast
from paymsg.codec.xml.binding import generic_parser, paused_gc
from paymsg.codec.xml.safe import (
    DEFAULT_LIMITS,
    Limits,
    element_path,
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
from paymsg.schema.catalog import MessageType, catalog, streamable_layouts
from paymsg.schema.layout import Layout

#: type id → layout of every type whose transactions stream (catalogue data)
LAYOUTS: dict[str, Layout] = streamable_layouts()

#: transactions handed to a watcher at a time
CHUNK = 500


class Watcher(Protocol):
    """Follows a :class:`TransactionStream`: gets its transactions chunk by chunk while they
    are still in the tree (``paymsg.validation.stream`` validates them so)."""

    def start(self, stream: TransactionStream) -> None:
        """Called once, before the first element is read."""

    def chunk(
        self,
        root: etree._Element,
        transactions: list[tuple[etree._Element, etree._Element]],
        unbound: list[BindingError],
        *,
        final: bool,
    ) -> None:
        """``transactions`` (each with its parent) are in the tree rooted at ``root``, in
        their places; the watcher takes them out (:func:`drop`) when done. ``unbound``: the
        chunk's transactions that do not fit the model (not yielded). The ``final`` chunk
        comes after the whole input has been read (it may be empty)."""


@dataclass
class TransactionStream:
    """Iterate to get typed transactions; ``header`` (and a watcher's ``report``) fill in
    as it goes."""

    type: MessageType
    layout: Layout
    source: str | None
    _events: Any
    #: bind each transaction to its class and yield it (else yield ``None`` per transaction)
    bind: bool = True
    limits: Limits = DEFAULT_LIMITS
    cnaps_header: Any = None
    _file: Any = field(default=None, repr=False)
    #: lines before the XML body (the CNAPS2 header and signature), added to every line
    line_offset: int = 0
    _reader: Any = field(default=None, repr=False)
    _skipped: int = 0  # bytes before the XML body
    header: Any = None
    count: int = 0
    #: gets the transactions chunk by chunk, still in the tree (None: each is released)
    watcher: Watcher | None = None
    #: what the watcher reports (``paymsg.validation.stream``: the validation report)
    report: Any = None
    #: the Document in the tree being parsed (the root, or inside a wrapper)
    document: etree._Element | None = field(default=None, repr=False)
    #: the chunk's transactions (still in the tree, in their places), each with its parent
    _chunk: list[tuple[etree._Element, etree._Element]] = field(default_factory=list, repr=False)
    #: the chunk's transactions that do not fit the model (not yielded)
    _unbound: list[BindingError] = field(default_factory=list, repr=False)
    #: transactions read in each parent so far
    _seen: dict[etree._Element, int] = field(default_factory=dict, repr=False)

    @property
    def bytes_read(self) -> int:
        """How far into the input the parser has read (for progress bars)."""
        delivered = self._reader.delivered if self._reader is not None else 0
        return int(self._skipped + delivered)

    def __iter__(self) -> Iterator[Any]:
        watcher = self.watcher
        if watcher is not None:
            watcher.start(self)
        tx_cls: type | None = None
        root: etree._Element | None = None
        try:
            for _, element in self._events:
                if root is None:
                    root = element.getroottree().getroot()
                    self.document = _document_of(element, self.type)
                if element.tag.endswith("}" + (self.layout.header or "")):
                    if self.header is not None:  # a Document has one group header
                        raise EnvelopeError(
                            "the wrapper holds more than one Document; one message per input",
                            source=self.source,
                            line=element.sourceline,
                        )
                    self._check_depth(element)
                    cls = class_at(self.type, element, self.document)
                    self.header = _bind(element, cls, self.source)
                    continue
                if tx_cls is None:
                    tx_cls = class_at(self.type, element, self.document)
                parent = element.getparent()
                assert parent is not None
                self._check_depth(element)
                index = self._seen[parent] = self._seen.get(parent, 0) + 1
                unbound: BindingError | None = None
                try:
                    if not self.bind:
                        item = None
                    elif watcher is not None:  # the watcher reads the element: a copy is bound
                        item = _bind(element, tx_cls, self.source)
                    else:  # the element is released next: the binder may use it up
                        item = _bind(element, tx_cls, self.source, consume=True)
                except BindingError as exc:
                    exc.path = f"{element_path(parent)}/{local_name(element.tag)}[{index}]"
                    if watcher is None:
                        raise
                    unbound, item = exc, _UNBOUND  # given to the watcher, not yielded
                self.count += 1
                if watcher is not None:  # the transaction stays in the tree until its chunk
                    if len(self._chunk) >= CHUNK:  # the last chunk is never empty
                        self._hand_over(watcher, root, final=False)
                    self._chunk.append((parent, element))
                    if unbound is not None:
                        self._unbound.append(unbound)
                else:
                    _release(element)
                if item is not _UNBOUND:
                    yield item
            if root is None:
                raise UnknownMessageTypeError(
                    f"no {self.layout.header} and no {self.layout.transaction_name} in the "
                    f"{self.type.id} document",
                    source=self.source,
                )
            self._check_depth(root)  # what is left: headers, wrapper, what follows
            if watcher is not None:
                self._hand_over(watcher, root, final=True)
        except PaymsgError as exc:
            if self.line_offset and exc.line is not None:
                exc.line += self.line_offset
            raise
        finally:
            if self._file is not None:
                self._file.close()

    def _hand_over(self, watcher: Watcher, root: etree._Element, *, final: bool) -> None:
        chunk, unbound = self._chunk, self._unbound
        self._chunk, self._unbound = [], []
        watcher.chunk(root, chunk, unbound, final=final)

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


# --------------------------------------------------------------------------- helpers


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


def iter_transactions(
    source: Source,
    type: str | None = None,
    *,
    bind: bool = True,
    limits: Limits = DEFAULT_LIMITS,
    watcher: Watcher | None = None,
) -> TransactionStream:
    """A :class:`TransactionStream` over ``source`` (a path, bytes, or a binary file object).

    CNAPS2 text is accepted (its header names the type), and so is a Document inside an
    ISO wrapper with its AppHdr. With a ``watcher``, each transaction stays in the tree
    until the watcher has had its chunk, and a transaction that does not fit the model is
    handed to the watcher instead of raised, and not yielded. With ``bind=False``
    transactions are not bound: the stream yields ``None`` for each.
    ``limits.max_depth`` applies as when parsing the whole message (``max_bytes`` does not:
    streaming is for what is too large to hold). ``paymsg.iter_transactions`` is this with
    validation (:func:`paymsg.validation.stream.iter_transactions`).
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
        opened = _open(stream, name, type)
    except Exception:
        stream.close()
        raise
    opened.bind, opened.limits, opened.watcher = bind, limits, watcher
    return opened


def _open(stream: Any, name: str | None, type_id: str | None) -> TransactionStream:
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
    if mtype is None or mtype.id not in LAYOUTS:
        supported = ", ".join(sorted(LAYOUTS))
        raise UnknownMessageTypeError(
            f"cannot stream {mtype.id if mtype else 'this input'}",
            source=name,
            hint=f"streamable: {supported}",
        )
    layout = LAYOUTS[mtype.id]
    # only the ends of the header and of the transactions reach Python
    reader = _Prefixed(head, stream)
    events = iterparse(
        reader,
        events=("end",),
        tag=[
            f"{{{mtype.namespace}}}{layout.header}",
            f"{{{mtype.namespace}}}{layout.transaction_name}",
        ],
        name=name,
        head=head,
    )
    return TransactionStream(
        mtype,
        layout,
        name,
        events,
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
    layout = LAYOUTS.get(mtype.id)
    if layout is None or len(raw) < PIECES_FROM:
        return None
    tag = f"{{{mtype.namespace}}}{layout.transaction_name}"
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
