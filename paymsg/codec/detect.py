"""Where a message is and what it is: ``detect`` names the type, ``unwrap`` takes the
transport apart (a CNAPS2 ``{H:}{S:}`` envelope, or an ISO wrapper with its ``AppHdr``).

Every reader goes through here: :func:`paymsg.parse`, :func:`paymsg.validate`, the
transaction iterator and the streaming writer, and every loader. Nothing here binds.

- :func:`detect` reads as little as it can (a file only up to its ``Document``).
- :func:`unwrap` parses a whole message in memory and returns its parts.
- :func:`unwrap_head` does the same for the first bytes of a stream (what the streamers
  read before they know how to read on).
"""

from __future__ import annotations

import io
import os
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from lxml import etree

from paymsg.codec.envelope import cnaps2
from paymsg.codec.envelope.bah import part_type, split_parts
from paymsg.codec.message import Detection
from paymsg.codec.xml.safe import (
    DEFAULT_LIMITS,
    Limits,
    check_size,
    iterparse,
    local_name,
    namespace_of,
    parse_xml,
)
from paymsg.errors import (
    BindingError,
    InputError,
    MalformedXMLError,
    PaymsgError,
    UnknownMessageTypeError,
)
from paymsg.schema.catalog import MessageType, catalog

#: what the readers accept: bytes, message text, or a path
Source = bytes | str | os.PathLike[str]

_TEXT_STARTS = ("<", "{")
_LEADING = re.compile(rb"[\xef\xbb\xbf \t\r\n]*")


def is_path(data: Source) -> bool:
    """Whether ``data`` names a file: a path, or a ``str`` that (after white space) does not
    start with ``<`` or ``{`` (message text does)."""
    if isinstance(data, bytes | bytearray | memoryview):
        return False
    return not (isinstance(data, str) and data.lstrip("\ufeff \t\r\n")[:1] in _TEXT_STARTS)


def read_input(data: Source) -> tuple[bytes, str | None]:
    """Bytes and a display name from bytes, text, or a path.

    A ``str`` is message text when it starts (after white space) with ``<`` or ``{``,
    and a file path otherwise.
    """
    if isinstance(data, bytes | bytearray | memoryview):
        return bytes(data), None
    if not is_path(data):
        return str(data).encode("utf-8"), None
    path = Path(data)
    try:
        return path.read_bytes(), str(path)
    except OSError as exc:
        raise InputError(f"cannot read file: {exc.strerror or exc}", source=str(path)) from None


def is_json(raw: bytes) -> bool:
    """Whether ``raw`` (or its beginning) is paymsg JSON rather than XML or CNAPS2 text."""
    start = _LEADING.match(raw).end()  # type: ignore[union-attr]  # matches the empty run
    return raw.startswith(b"{", start) and not raw.startswith(b"{H:", start)


def located(exc: PaymsgError, source: str | None, line_offset: int = 0) -> PaymsgError:
    """``exc`` with the input's name, its line counted from the top of the whole input
    (``line_offset``: lines before the XML body, e.g. a CNAPS2 envelope)."""
    if source is not None:
        exc.with_source(source)
    if line_offset and exc.line is not None:
        exc.line += line_offset
    return exc


# --------------------------------------------------------------------------- detect


def detect(data: Source, *, limits: Limits = DEFAULT_LIMITS) -> Detection:
    """Name the message type without binding the message, and say how it was decided.

    CNAPS2 text is recognised by its header ``MesgType`` (never by the body namespace:
    an hvps.111 body is an ISO pacs.008.001.02 document). XML is recognised by the
    namespace and name of the ``Document`` (or ``AppHdr``), inside any wrapper.

    A file is not read whole: detection reads its beginning (XML as a stream, up to the
    ``Document``), so a package too large to load is named like any other message.
    """
    if is_path(data):
        path = Path(data)  # type: ignore[arg-type]
        try:
            with path.open("rb") as file:
                return _detect_file(file, limits, str(path))
        except OSError as exc:
            raise InputError(f"cannot read file: {exc.strerror or exc}", source=str(path)) from None
        except PaymsgError as exc:
            raise located(exc, str(path)) from None
    raw, source = read_input(data)
    try:
        return _detect(raw, limits, source)
    except PaymsgError as exc:
        raise located(exc, source) from None


#: what detection reads of a file before deciding how to read on: the CNAPS2 envelope
#: (header and signature are at most a few KiB) or the start of the XML
DETECT_HEAD = 64 * 1024


def _detect_file(file: io.BufferedReader, limits: Limits, source: str) -> Detection:
    head = file.read(DETECT_HEAD)
    # leading white space (tolerated before a CNAPS2 header) does not count towards the head
    while head and len(head) <= limits.max_bytes:
        leading = _LEADING.match(head).end()  # type: ignore[union-attr]  # matches the empty run
        if len(head) - leading >= DETECT_HEAD:
            break
        more = file.read(DETECT_HEAD)
        if not more:
            return _detect(head, limits, source)  # the whole file is in the head
        head += more
    if is_json(head):  # JSON names its type anywhere in it: read whole, within the limit
        return _detect(head + file.read(limits.max_bytes), limits, source)
    if cnaps2.looks_like_cnaps2(head):
        return _header_detection(cnaps2.split_envelope(head)[0])  # the envelope is a few KiB
    file.seek(0)
    return _detect_xml(file, head, source)


def _header_detection(envelope: cnaps2.Cnaps2Envelope) -> Detection:
    mt = envelope.header.mesg_type
    mtype = catalog().get(mt)
    return Detection(
        type=mtype.id,
        method="header",
        namespace=mtype.namespace,
        root=mtype.root,
        element=mtype.element or None,
        detail=f"CNAPS2 header MesgType {mt}",
    )


def _detect(raw: bytes, limits: Limits, source: str | None) -> Detection:
    check_size(raw, limits, source)
    if cnaps2.looks_like_cnaps2(raw):
        return _header_detection(cnaps2.split_envelope(raw)[0])
    if is_json(raw):
        from paymsg.codec.json.engine import json_type

        type_id = json_type(raw, source)
        return Detection(type=type_id, method="json", detail='"type" member of paymsg JSON')
    return _detect_xml(io.BytesIO(raw), raw, source)


def _namespace_detection(mtype: MessageType, element: str | None, wrapper: str | None) -> Detection:
    detail = f"namespace {mtype.namespace}"
    if element is not None:
        detail += f", root {mtype.root}"
    return Detection(mtype.id, "namespace", mtype.namespace, mtype.root, element, wrapper, detail)


def _detect_xml(stream: Any, head: bytes, source: str | None) -> Detection:
    """The type of the XML read from ``stream`` (``head``: its first bytes), read only as
    far as the ``Document`` or ``AppHdr`` that names it."""
    wrapper: str | None = None
    found: MessageType | None = None
    for count, (_, element) in enumerate(
        iterparse(stream, events=("start",), name=source, head=head)
    ):
        if found is not None:
            element_name = local_name(element.tag)
            if found.element and element_name != found.element:
                raise UnknownMessageTypeError(
                    f"namespace {found.namespace} is {found.id}, but its message element "
                    f"is {element_name}, not {found.element}",
                    source=source,
                    line=element.sourceline,
                )
            return _namespace_detection(found, element_name, wrapper)
        mtype = part_type(element.tag)
        if mtype is not None:
            if mtype.root == "AppHdr" and element.getparent() is not None:
                continue  # the Document beside it names the message
            found = mtype
            if mtype.root == "AppHdr" or not mtype.element:
                return _namespace_detection(mtype, None, wrapper)
        elif element.getparent() is None:
            wrapper = element.tag
        if count > 10_000:
            break
    if found is not None:
        raise MalformedXMLError(f"{found.id} document has no message element", source=source)
    raise UnknownMessageTypeError(
        "no catalogued message found (no Document or AppHdr in a known namespace)",
        source=source,
        hint="`paymsg schemas list` shows the catalogued types and their namespaces",
    )


# --------------------------------------------------------------------------- unwrap


def split_cnaps2(data: bytes) -> tuple[cnaps2.Cnaps2Envelope | None, int, int]:
    """The CNAPS2 envelope at the start of ``data`` (None for XML), the offset where the
    XML body starts, and the number of lines before it (0, 0 without an envelope)."""
    if not cnaps2.looks_like_cnaps2(data):
        return None, 0, 0
    envelope, offset = cnaps2.split_envelope(data)
    return envelope, offset, data.count(b"\n", 0, offset)


@dataclass(slots=True)
class Unwrapped:
    """A message taken out of its transport, parsed (safely) but not bound.

    ``document`` is the element to bind (a ``Document``, or a standalone ``AppHdr``) and
    ``type`` its message type; ``header``/``header_type`` the ``AppHdr`` beside it and
    ``wrapper`` the wrapper skeleton (see :mod:`paymsg.codec.envelope.bah`), or the CNAPS2
    ``envelope``. ``body`` is the XML that holds the document, as received (after the
    CNAPS2 envelope, else the whole input); ``line_offset`` the lines before it.
    """

    type: MessageType
    document: etree._Element
    header: etree._Element | None
    header_type: MessageType | None
    wrapper: str | None
    envelope: cnaps2.Cnaps2Envelope | None
    body: bytes
    line_offset: int
    detection: Detection


#: how :func:`unwrap` reads the XML body: ``(body, type id asked for or named by the
#: header) -> root element``; the default is :func:`paymsg.codec.xml.safe.parse_xml`
BodyReader = Callable[[bytes, str | None], etree._Element]


def check_body(root: etree._Element, mtype: MessageType, how: str) -> None:
    """A :class:`BindingError` unless ``root`` is the body element of ``mtype`` (``how``
    says why that type was expected: asked for, or named by a header)."""
    ns = namespace_of(root.tag)
    if ns != mtype.namespace or local_name(root.tag) != mtype.root:
        raise BindingError(
            f"{how} {mtype.id}, whose body is <{mtype.root}> in {mtype.namespace}, "
            f"but the body is <{local_name(root.tag)}>"
            + (f" in {ns}" if ns else " without a namespace"),
            line=root.sourceline,
        )


def unwrap(
    raw: bytes,
    *,
    type_id: str | None = None,
    limits: Limits = DEFAULT_LIMITS,
    source: str | None = None,
    read_body: BodyReader | None = None,
) -> Unwrapped:
    """Take XML or CNAPS2 text apart: envelope or wrapper, header, and the document.

    ``type_id`` forces the type (it must agree with the body). Errors are located: they
    name ``source`` and count lines from the top of ``raw``. ``read_body`` replaces the
    safe whole-tree parse (the codec reads large messages in pieces).
    """

    def read(body: bytes, type_hint: str | None) -> etree._Element:
        if read_body is not None:
            return read_body(body, type_hint)
        return parse_xml(body, source=source, limits=limits)

    try:
        check_size(raw, limits, source)
        if cnaps2.looks_like_cnaps2(raw):
            return _unwrap_cnaps2(raw, type_id, source, read)
        root = read(raw, type_id)
        parts = split_parts(root, source=source)
        mtype = parts.document_type
        if type_id is not None and type_id != mtype.id:
            forced = catalog().get(type_id)
            check_body(parts.document, forced, "asked for")
            mtype = forced
    except PaymsgError as exc:
        raise located(exc, source) from None
    wrapper_tag = None if parts.document is root else str(root.tag)
    element = None
    if mtype.element:
        first = next(parts.document.iterchildren(tag=etree.Element), None)
        element = local_name(first.tag) if first is not None else None
    detection = _namespace_detection(mtype, element, wrapper_tag)
    return Unwrapped(
        mtype,
        parts.document,
        parts.header,
        parts.header_type,
        parts.wrapper,
        None,
        raw,
        0,
        detection,
    )


def _unwrap_cnaps2(
    raw: bytes,
    type_id: str | None,
    source: str | None,
    read: Callable[[bytes, str | None], etree._Element],
) -> Unwrapped:
    envelope, offset, line_offset = split_cnaps2(raw)
    assert envelope is not None
    mtype = catalog().get(type_id or envelope.header.mesg_type)
    body = raw[offset:]
    try:
        root = read(body, mtype.id)
        how = "asked for" if type_id else f"the header says {envelope.header.mesg_type}, i.e."
        check_body(root, mtype, how)
    except PaymsgError as exc:
        raise located(exc, source, line_offset) from None
    detection = _header_detection(envelope)
    if type_id and type_id != detection.type:
        detection = Detection(
            mtype.id,
            "header",
            mtype.namespace,
            mtype.root,
            mtype.element or None,
            None,
            f"asked for {mtype.id} (CNAPS2 header MesgType {envelope.header.mesg_type})",
        )
    return Unwrapped(mtype, root, None, None, None, envelope, body, line_offset, detection)


# --------------------------------------------------------------------------- streams


@dataclass(slots=True)
class Head:
    """The first bytes of a stream taken apart (see :func:`unwrap_head`)."""

    #: the CNAPS2 envelope before the body, if any
    envelope: cnaps2.Cnaps2Envelope | None
    #: the body's first bytes (``head`` after the envelope)
    body: bytes
    #: bytes of envelope before ``body``, and the lines in them
    skipped: int
    line_offset: int
    #: the type of the ``Document`` found in ``body`` (bare or in a wrapper), if any
    found: MessageType | None


#: what the streamers read first: the CNAPS2 envelope, or a wrapper up to its Document
HEAD = 64 * 1024


def unwrap_head(head: bytes, *, source: str | None) -> Head:
    """:func:`unwrap` for a stream: its first :data:`HEAD` bytes split into a CNAPS2
    envelope (if any) and the start of the XML body, and the type of the ``Document`` it
    holds when the head reaches it. A body head shorter than :data:`HEAD` counts as the
    whole body (XML that breaks off in it is an error, not a Document further on)."""
    envelope, skipped, line_offset = split_cnaps2(head)
    head = head[skipped:]
    found = find_document(head, source, complete=len(head) < HEAD)
    return Head(envelope, head, skipped, line_offset, found)


def find_document(head: bytes, name: str | None, *, complete: bool) -> MessageType | None:
    """The type of the catalogued ``Document`` in ``head`` (the root, or inside a wrapper),
    or None. ``complete`` says ``head`` is the whole input (else it may end mid-element)."""
    probe = iterparse(io.BytesIO(head), events=("start",), name=name, head=head)
    started = False
    try:
        for _, element in probe:
            started = True
            mtype = part_type(element.tag)
            if mtype is not None and mtype.root == "Document":
                return mtype
    except MalformedXMLError:
        if complete:
            raise
        return None  # the Document starts further in than the head: not streamed
    if not started:
        raise MalformedXMLError("no XML body", source=name)
    return None
