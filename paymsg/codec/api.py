"""``parse`` and ``serialize``: the codec façade for XML and CNAPS2 text.

Reading goes through :mod:`paymsg.codec.detect` (``detect``, ``unwrap``), binding through
:mod:`paymsg.codec.xml.binding`; ``detect``, ``read_input``, ``is_json`` and ``Source`` are
re-exported here for the callers that know this module.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from lxml import etree

from paymsg.codec.detect import (
    HEAD,
    Source,
    Unwrapped,
    detect,
    find_document,
    is_json,
    located,
    read_input,
    unwrap,
)
from paymsg.codec.envelope import cnaps2
from paymsg.codec.envelope.bah import DEFAULT_WRAPPER, fill_wrapper
from paymsg.codec.json.engine import from_json, to_json
from paymsg.codec.message import BusinessEnvelope, Message, Received
from paymsg.codec.stream import reader
from paymsg.codec.stream.writer import (
    Converted,
    Format,
    NotStreamable,
    Progress,
    file_size,
    stream_convert,
)
from paymsg.codec.xml.binding import XML_DECLARATION, bind, document_xml, xsi_of
from paymsg.codec.xml.safe import DEFAULT_LIMITS, Limits, check_size, parse_xml
from paymsg.errors import PaymsgError
from paymsg.schema.catalog import MessageType, catalog
from paymsg.schema.packs import use_pack

__all__ = [
    "XML_DECLARATION",
    "Source",
    "bind_unwrapped",
    "detect",
    "document_xml",
    "is_json",
    "load_file",
    "open_cnaps2",
    "parse",
    "read_input",
    "serialize",
]


# --------------------------------------------------------------------------- parse


def parse(
    data: Source,
    type: str | None = None,
    *,
    limits: Limits = DEFAULT_LIMITS,
    verifier: Any | None = None,
    signing_profile: Any | None = None,
    schema_pack: str | None = None,
    inspect: Callable[[bytes, Unwrapped], None] | None = None,
) -> Message:
    """Read a message from bytes, text or a path into a typed :class:`Message`.

    ``type`` forces the message type id (it must agree with the body's namespace).
    For CNAPS2 text, a ``verifier`` checks the ``{S:}`` signature (an error if it fails).
    The message keeps what was read (:attr:`Message.received`). ``schema_pack`` names the
    pack whose type a namespace several types share means (as for :func:`detect`).
    ``inspect(raw, unwrapped)`` is called with the input and the input taken apart (its
    whole tree parsed) before the tree is bound, which may consume it: to validate it
    without parsing it again (:func:`paymsg.validation.engine.validate_unwrapped`). It is
    not called for a large message read in pieces.
    """
    if schema_pack is not None:
        with use_pack(schema_pack):
            return parse(
                data,
                type,
                limits=limits,
                verifier=verifier,
                signing_profile=signing_profile,
                inspect=inspect,
            )
    raw, source = read_input(data)
    try:
        if verifier is not None:  # a signature is checked on the whole tree, before binding
            return _parse(
                raw, type, limits, source, verifier, signing_profile, pieces=False, inspect=inspect
            )
        try:
            return _parse(raw, type, limits, source, None, None, pieces=True, inspect=inspect)
        except _PIECES_FAILED:  # the pieces do not fit back: the whole tree decides
            return _parse(raw, type, limits, source, None, None, pieces=False, inspect=inspect)
    except PaymsgError as exc:
        raise located(exc, source) from None


def load_file(
    path: str | os.PathLike[str], type_id: str | None = None, limits: Limits = DEFAULT_LIMITS
) -> Message:
    """A message from a file of XML, CNAPS2 text or paymsg JSON; errors name the file."""
    raw, source = read_input(Path(path))
    try:
        if is_json(raw):
            return from_json(raw, limits=limits)
        return parse(raw, type=type_id, limits=limits)
    except PaymsgError as exc:
        raise exc.with_source(str(source)) from None


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
    header (or ``type_id``) names; line numbers in errors count from the top of the text.
    (:func:`paymsg.codec.detect.unwrap` does this for any input.)"""
    if not cnaps2.looks_like_cnaps2(raw):
        try:
            cnaps2.split_envelope(raw)  # says what is wrong with the header
        except PaymsgError as exc:
            raise located(exc, source) from None
    opened = unwrap(raw, type_id=type_id, limits=limits, source=source)
    assert opened.envelope is not None
    return OpenedCnaps2(
        opened.envelope, opened.type, opened.document, opened.body, opened.line_offset
    )


#: what putting transactions read in pieces back can raise when their places are not the
#: model's (the whole-tree reader then gives the result, or the located error)
_PIECES_FAILED = (KeyError, IndexError, StopIteration, AttributeError, ValueError)


class _InPieces:
    """A body reader for :func:`unwrap` that reads a large message whose type streams in
    pieces (see :func:`paymsg.codec.stream.reader.read_in_pieces`), keeping the pieces."""

    def __init__(self, limits: Limits, source: str | None) -> None:
        self.limits, self.source = limits, source
        self.pieces: Any = None

    def __call__(self, body: bytes, type_id: str | None) -> etree._Element:
        if len(body) >= reader.PIECES_FROM:
            check_size(body, self.limits, self.source)
            found = find_document(body[:HEAD], self.source, complete=False)
            mtype = catalog().get(type_id) if type_id else found
            if mtype is not None and found is not None and mtype.namespace == found.namespace:
                pieces = reader.read_in_pieces(body, mtype, self.limits, self.source)
                if pieces is not None:
                    self.pieces = pieces
                    return pieces.root
        return parse_xml(body, source=self.source, limits=self.limits)


def _parse(
    raw: bytes,
    type_id: str | None,
    limits: Limits,
    source: str | None,
    verifier: Any,
    profile: Any,
    *,
    pieces: bool,
    inspect: Callable[[bytes, Unwrapped], None] | None = None,
) -> Message:
    in_pieces = _InPieces(limits, source) if pieces else None
    opened = unwrap(raw, type_id=type_id, limits=limits, source=source, read_body=in_pieces)
    if verifier is not None and opened.envelope is not None:  # binding consumes the tree
        from paymsg.codec.envelope import signing

        signing.verify_envelope(
            opened.envelope,
            opened.document,
            profile or signing.signing_profile(opened.type.id),
            verifier,
        )
    if inspect is not None and (in_pieces is None or in_pieces.pieces is None):
        inspect(raw, opened)
    return _bind_opened(raw, opened, type_id, limits, source, in_pieces)


def bind_unwrapped(raw: bytes, opened: Unwrapped) -> Message:
    """What ``parse(raw)`` returns, from ``opened = unwrap(raw)`` (the whole tree, not read
    in pieces: text under :data:`paymsg.codec.stream.reader.PIECES_FROM` bytes): the tree
    bound without reading the text again — for a caller that looked at the tree first
    (validated it, say) and binds it only when it needs the model. Binding may consume
    the tree. Errors are :func:`parse`'s."""
    return _bind_opened(raw, opened, None, DEFAULT_LIMITS, None, None)


def _bind_opened(
    raw: bytes,
    opened: Unwrapped,
    type_id: str | None,
    limits: Limits,
    source: str | None,
    in_pieces: _InPieces | None,
) -> Message:
    mtype, body = opened.type, opened.body

    def pristine(part: str) -> Callable[[], etree._Element]:
        def fresh() -> etree._Element:
            again = unwrap(raw, type_id=type_id, limits=limits, source=source)
            found = again.document if part == "Document" else again.header
            assert found is not None
            return found

        return fresh

    xsi = xsi_of(opened.document)  # before binding, which may consume the tree
    header_xsi = xsi_of(opened.header) if opened.header is not None else {}
    try:
        document = bind(opened.document, mtype, source=source, pristine=pristine("Document"))
        if in_pieces is not None and in_pieces.pieces is not None:
            in_pieces.pieces.put_back(document, opened.document)
        envelope: BusinessEnvelope | cnaps2.Cnaps2Envelope | None = opened.envelope
        if opened.header is not None or opened.wrapper is not None:
            header = header_type = None
            if opened.header is not None and opened.header_type is not None:
                header = bind(
                    opened.header, opened.header_type, source=source, pristine=pristine("AppHdr")
                )
                header_type = opened.header_type.id
            envelope = BusinessEnvelope(header, header_type, opened.wrapper, header_xsi)
    except PaymsgError as exc:
        raise located(exc, source, opened.line_offset) from None
    received = Received(raw, body, opened.line_offset, opened.detection)
    original = body if opened.envelope is not None else None
    return Message(mtype.id, document, envelope, original=original, received=received, xsi=xsi)


# --------------------------------------------------------------------------- serialize


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
    body = document_xml(message.document, mtype, message.xsi)
    if envelope is None or (envelope.wrapper is None and envelope.header is None):
        return body
    parts = {"Document": body}
    if envelope.header is not None:
        header_type = catalog().get(envelope.header_type or "head.001.001.02")
        parts["AppHdr"] = document_xml(envelope.header, header_type, envelope.header_xsi)
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
    return document_xml(message.document, mtype, message.xsi)


def convert_file(
    source: str | os.PathLike[str],
    to: Format,
    out: IO[bytes],
    *,
    type_id: str | None = None,
    progress: Progress | None = None,
    limits: Limits = DEFAULT_LIMITS,
) -> Converted:
    """Convert one file into ``out``: streamed when exact, else in memory (same bytes).

    Errors are the in-memory path's :class:`PaymsgError` (file, line, path). For a file
    over ``limits.max_bytes``, which the in-memory path refuses outright, an error found
    while streaming is raised instead.
    """
    path = Path(source)
    try:
        return stream_convert(path, to, out, type_id=type_id, progress=progress, limits=limits)
    except NotStreamable as exc:
        reason = exc.reason
        if exc.error is not None and file_size(path) > limits.max_bytes:
            raise exc.error from None
    message = load_file(path, type_id, limits)
    data = to_json(message).encode() + b"\n" if to == "json" else serialize(message)
    out.seek(0)
    out.truncate()
    out.write(data)
    return Converted(message.type, streamed=False, reason=reason)
