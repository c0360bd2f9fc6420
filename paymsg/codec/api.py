"""``detect``, ``parse`` and ``serialize``: the codec entry points for XML and CNAPS2 text."""

from __future__ import annotations

import io
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from lxml import etree

from paymsg.codec.envelope import cnaps2
from paymsg.codec.envelope.bah import DEFAULT_WRAPPER, IsoParts, fill_wrapper, split_parts
from paymsg.codec.message import BusinessEnvelope, Detection, Message
from paymsg.codec.xml.binding import bind, render
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
from paymsg.schema.packs import use_pack

Source = bytes | str | os.PathLike[str]

XML_DECLARATION = b'<?xml version="1.0" encoding="UTF-8"?>\n'


def read_input(data: Source) -> tuple[bytes, str | None]:
    """Bytes and a display name from bytes, text, or a path.

    A ``str`` is message text when it starts (after white space) with ``<`` or ``{``,
    and a file path otherwise.
    """
    if isinstance(data, bytes | bytearray | memoryview):
        return bytes(data), None
    if isinstance(data, str) and data.lstrip("\ufeff \t\r\n")[:1] in ("<", "{"):
        return data.encode("utf-8"), None
    path = Path(data)
    try:
        return path.read_bytes(), str(path)
    except OSError as exc:
        raise InputError(f"cannot read file: {exc.strerror or exc}", source=str(path)) from None


def _lines_before(raw: bytes, offset: int) -> int:
    return raw.count(b"\n", 0, offset)


def _located(exc: PaymsgError, source: str | None, line_offset: int) -> PaymsgError:
    if source is not None:
        exc.with_source(source)
    if line_offset and exc.line is not None:
        exc.line += line_offset
    return exc


_LEADING = re.compile(rb"[\xef\xbb\xbf \t\r\n]*")


def _is_json(raw: bytes) -> bool:
    start = _LEADING.match(raw).end()  # type: ignore[union-attr]  # matches the empty run
    return raw.startswith(b"{", start) and not raw.startswith(b"{H:", start)


def is_json(raw: bytes) -> bool:
    """Whether ``raw`` (or its beginning) is paymsg JSON rather than XML or CNAPS2 text."""
    return _is_json(raw)


# --------------------------------------------------------------------------- detect


def detect(
    data: Source, *, limits: Limits = DEFAULT_LIMITS, schema_pack: str | None = None
) -> Detection:
    """Name the message type without binding the message, and say how it was decided.

    CNAPS2 text is recognised by its header ``MesgType`` (never by the body namespace:
    an hvps.111 body is an ISO pacs.008.001.02 document). XML is recognised by the
    namespace and name of the ``Document`` (or ``AppHdr``), inside any wrapper.

    A file is not read whole: detection reads its beginning (XML as a stream, up to the
    ``Document``), so a package too large to load is named like any other message.
    ``schema_pack`` names the pack whose type a namespace several types share means
    (:func:`paymsg.schema.packs.use_pack`).
    """
    if schema_pack is not None:
        with use_pack(schema_pack):
            return detect(data, limits=limits)
    if _is_path(data):
        path = Path(data)  # type: ignore[arg-type]
        try:
            with path.open("rb") as file:
                return _detect_file(file, limits, str(path))
        except OSError as exc:
            raise InputError(f"cannot read file: {exc.strerror or exc}", source=str(path)) from None
        except PaymsgError as exc:
            raise _located(exc, str(path), 0) from None
    raw, source = read_input(data)
    try:
        return _detect(raw, limits, source)
    except PaymsgError as exc:
        raise _located(exc, source, 0) from None


def _is_path(data: Source) -> bool:
    if isinstance(data, bytes | bytearray | memoryview):
        return False
    return not (isinstance(data, str) and data.lstrip("\ufeff \t\r\n")[:1] in ("<", "{"))


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
    if _is_json(head):  # JSON names its type anywhere in it: read whole, within the limit
        return _detect(head + file.read(limits.max_bytes), limits, source)
    if cnaps2.looks_like_cnaps2(head):
        return _detect_cnaps2(head)  # the envelope is a few KiB at most
    file.seek(0)
    return _detect_xml(file, head, source)


def _detect_cnaps2(raw: bytes) -> Detection:
    envelope, _ = cnaps2.split_envelope(raw)
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
        return _detect_cnaps2(raw)
    if _is_json(raw):
        from paymsg.codec.json.engine import json_type

        type_id = json_type(raw, source)
        return Detection(type=type_id, method="json", detail='"type" member of paymsg JSON')
    return _detect_xml(io.BytesIO(raw), raw, source)


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
            detail = f"namespace {found.namespace}, root {found.root}"
            return Detection(
                found.id, "namespace", found.namespace, found.root, element_name, wrapper, detail
            )
        name = local_name(element.tag)
        mtype = catalog().by_namespace(namespace_of(element.tag))
        if mtype is not None and mtype.root == name:
            if name == "AppHdr" and element.getparent() is not None:
                continue  # the Document beside it names the message
            found = mtype
            if name == "AppHdr" or not mtype.element:
                detail = f"namespace {mtype.namespace}"
                return Detection(
                    mtype.id, "namespace", mtype.namespace, mtype.root, None, wrapper, detail
                )
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


# --------------------------------------------------------------------------- parse


def parse(
    data: Source,
    type: str | None = None,
    *,
    limits: Limits = DEFAULT_LIMITS,
    verifier: Any | None = None,
    signing_profile: Any | None = None,
    schema_pack: str | None = None,
) -> Message:
    """Read a message from bytes, text or a path into a typed :class:`Message`.

    ``type`` forces the message type id (it must agree with the body's namespace).
    For CNAPS2 text, a ``verifier`` checks the ``{S:}`` signature (an error if it fails).
    ``schema_pack`` as for :func:`detect`.
    """
    if schema_pack is not None:
        with use_pack(schema_pack):
            return parse(
                data, type, limits=limits, verifier=verifier, signing_profile=signing_profile
            )
    raw, source = read_input(data)
    try:
        if cnaps2.looks_like_cnaps2(raw):
            return _parse_cnaps2(raw, type, limits, source, verifier, signing_profile)
        return _parse_xml(raw, type, limits, source)
    except PaymsgError as exc:
        raise _located(exc, source, 0) from None


def load_file(
    path: str | os.PathLike[str], type_id: str | None = None, limits: Limits = DEFAULT_LIMITS
) -> Message:
    """A message from a file of XML, CNAPS2 text or paymsg JSON; errors name the file."""
    raw, source = read_input(Path(path))
    try:
        if _is_json(raw):
            from paymsg.codec.json.engine import from_json

            return from_json(raw, limits=limits)
        return parse(raw, type=type_id, limits=limits)
    except PaymsgError as exc:
        raise exc.with_source(str(source)) from None


def _check_body(root: etree._Element, mtype: MessageType, how: str) -> None:
    ns = namespace_of(root.tag)
    if ns != mtype.namespace or local_name(root.tag) != mtype.root:
        raise BindingError(
            f"{how} {mtype.id}, whose body is <{mtype.root}> in {mtype.namespace}, "
            f"but the body is <{local_name(root.tag)}>"
            + (f" in {ns}" if ns else " without a namespace"),
            line=root.sourceline,
        )


@dataclass(slots=True)
class OpenedCnaps2:
    """CNAPS2 text taken apart: envelope, type, parsed body, and where the body starts."""

    envelope: cnaps2.Cnaps2Envelope
    mtype: MessageType
    root: etree._Element
    body: bytes
    line_offset: int


def open_cnaps2(
    raw: bytes, limits: Limits, source: str | None, type_id: str | None = None
) -> OpenedCnaps2:
    """Split CNAPS2 text, parse its body safely and check that the body is the type the
    header (or ``type_id``) names; line numbers in errors count from the top of the text."""
    check_size(raw, limits, source)
    envelope, offset = cnaps2.split_envelope(raw)
    mtype = catalog().get(type_id or envelope.header.mesg_type)
    body = raw[offset:]
    line_offset = _lines_before(raw, offset)
    try:
        root = parse_xml(body, source=source, limits=limits)
        how = "asked for" if type_id else f"the header says {envelope.header.mesg_type}, i.e."
        _check_body(root, mtype, how)
    except PaymsgError as exc:
        raise _located(exc, source, line_offset) from None
    return OpenedCnaps2(envelope, mtype, root, body, line_offset)


def _parse_cnaps2(
    raw: bytes, type_id: str | None, limits: Limits, source: str | None, verifier: Any, profile: Any
) -> Message:
    if verifier is None:  # a signature is checked on the whole tree
        try:
            return _parse_cnaps2_in_pieces(raw, type_id, limits, source)
        except _PIECES_FAILED:
            pass
    opened = open_cnaps2(raw, limits, source, type_id)
    envelope, mtype, root, body = opened.envelope, opened.mtype, opened.root, opened.body
    line_offset = opened.line_offset
    if verifier is not None:  # before binding, which consumes the tree
        from paymsg.codec.envelope import signing

        signing.verify_envelope(
            envelope, root, profile or signing.signing_profile(mtype.id), verifier
        )
    try:
        document = bind(root, mtype, source=source, pristine=lambda: parse_xml(body))
    except PaymsgError as exc:
        raise _located(exc, source, line_offset) from None
    return Message(mtype.id, document, envelope, original=body)


def _in_pieces(
    raw: bytes, type_id: str | None, limits: Limits, source: str | None
) -> tuple[etree._Element, Any]:
    """The parsed tree of ``raw``, and (for a large message whose type streams) the
    transactions bound as they were read, which then are no longer in the tree."""
    from paymsg.codec.stream import reader as stream

    check_size(raw, limits, source)
    if len(raw) >= stream.PIECES_FROM:
        found = stream.find_document(raw[: stream.HEAD], source, complete=False)
        mtype = catalog().get(type_id) if type_id else found
        if mtype is not None and found is not None and mtype.namespace == found.namespace:
            pieces = stream.read_in_pieces(raw, mtype, limits, source)
            if pieces is not None:
                return pieces.root, pieces
    return parse_xml(raw, source=source, limits=limits), None


def _bound(
    element: etree._Element, mtype: MessageType, source: str | None, raw: Any, pieces: Any
) -> Any:
    """``bind`` of a Document, with the transactions read in pieces put back in place."""
    document = bind(element, mtype, source=source, pristine=raw)
    if pieces is not None:
        pieces.put_back(document, element)
    return document


def _parse_cnaps2_in_pieces(
    raw: bytes, type_id: str | None, limits: Limits, source: str | None
) -> Message:
    """CNAPS2 text as :func:`open_cnaps2` and ``bind`` read it, a large body in pieces."""
    check_size(raw, limits, source)
    envelope, offset = cnaps2.split_envelope(raw)
    mtype = catalog().get(type_id or envelope.header.mesg_type)
    body = raw[offset:]
    line_offset = _lines_before(raw, offset)
    try:
        root, read = _in_pieces(body, mtype.id, limits, source)
        how = "asked for" if type_id else f"the header says {envelope.header.mesg_type}, i.e."
        _check_body(root, mtype, how)
        document = _bound(root, mtype, source, lambda: parse_xml(body), read)
    except PaymsgError as exc:
        raise _located(exc, source, line_offset) from None
    return Message(mtype.id, document, envelope, original=body)


def _parse_xml(raw: bytes, type_id: str | None, limits: Limits, source: str | None) -> Message:
    try:
        return _parse_xml_tree(raw, type_id, limits, source, pieces=True)
    except _PIECES_FAILED:  # the pieces do not fit back: the whole tree decides
        return _parse_xml_tree(raw, type_id, limits, source, pieces=False)


#: what putting transactions read in pieces back can raise when their places are not the
#: model's (the whole-tree reader then gives the result, or the located error)
_PIECES_FAILED = (KeyError, IndexError, StopIteration, AttributeError, ValueError)


def _parse_xml_tree(
    raw: bytes, type_id: str | None, limits: Limits, source: str | None, *, pieces: bool
) -> Message:
    if pieces:
        root, read = _in_pieces(raw, type_id, limits, source)
    else:
        root, read = parse_xml(raw, source=source, limits=limits), None
    parts = split_parts(root, source=source)
    mtype = parts.document_type
    if type_id is not None and type_id != mtype.id:
        forced = catalog().get(type_id)
        _check_body(parts.document, forced, "asked for")
        mtype = forced
    document = _bound(parts.document, mtype, source, lambda: _fresh(raw).document, read)
    envelope = None
    if parts.header is not None or parts.wrapper is not None:
        header = header_type = None
        if parts.header is not None and parts.header_type is not None:
            header = bind(
                parts.header, parts.header_type, source=source, pristine=lambda: _fresh(raw).header
            )
            header_type = parts.header_type.id
        envelope = BusinessEnvelope(header=header, header_type=header_type, wrapper=parts.wrapper)
    return Message(mtype.id, document, envelope)


def _fresh(raw: bytes) -> IsoParts:
    return split_parts(parse_xml(raw))


# --------------------------------------------------------------------------- serialize


def document_xml(document: Any, mtype: MessageType) -> bytes:
    """Canonical XML of one document: declaration, default namespace, schema order."""
    return XML_DECLARATION + render(document, mtype.namespace).encode("utf-8") + b"\n"


def serialize(message: Message) -> bytes:
    """UTF-8 XML (or CNAPS2 text) for a message; the envelope is restored around it.

    A CNAPS2 message whose document has not changed since it was parsed is written
    back byte for byte as received (relay guarantee); otherwise its body is the
    canonical XML.
    """
    mtype = catalog().get(message.type)
    envelope = message.envelope
    if isinstance(envelope, cnaps2.Cnaps2Envelope):
        return cnaps2.join_envelope(envelope, _cnaps2_body(message, mtype))
    body = document_xml(message.document, mtype)
    if envelope is None or (envelope.wrapper is None and envelope.header is None):
        return body
    parts = {"Document": body}
    if envelope.header is not None:
        header_type = catalog().get(envelope.header_type or "head.001.001.02")
        parts["AppHdr"] = document_xml(envelope.header, header_type)
    wrapper = fill_wrapper(envelope.wrapper or DEFAULT_WRAPPER, parts)
    return XML_DECLARATION + etree.tostring(wrapper, encoding="UTF-8") + b"\n"


def _cnaps2_body(message: Message, mtype: MessageType) -> bytes:
    if message.original is not None:
        try:
            unchanged = bind(parse_xml(message.original), mtype) == message.document
        except PaymsgError:
            unchanged = False
        if unchanged:
            return message.original
    return document_xml(message.document, mtype)
