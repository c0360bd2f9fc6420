"""The message objects every codec produces and consumes."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

if TYPE_CHECKING:
    from paymsg.codec.envelope.cnaps2 import Cnaps2Envelope

SLOT_NS = "urn:paymsg:slot"


@dataclass(slots=True)
class BusinessEnvelope:
    """What surrounds an ISO 20022 document: a business application header and/or a wrapper.

    ``header`` is the typed ``AppHdr`` (``header_type`` names its message type) or
    ``None`` when there is no header or its version is not catalogued — in that case the
    header stays, untouched, inside ``wrapper``. ``wrapper`` is the XML of the enclosing
    element (SWIFT ``Envelope``, ``BusinessMessage``, ``DataPDU``…) with the ``AppHdr``
    and ``Document`` replaced by ``<slot xmlns="urn:paymsg:slot" name="…"/>`` markers;
    everything else in it (attributes, other children, comments) is kept verbatim.
    """

    header: Any | None = None
    header_type: str | None = None
    wrapper: str | None = None
    #: ``xsi:*`` attributes of the ``AppHdr`` root as received (see :attr:`Message.xsi`)
    header_xsi: dict[str, str] = field(default_factory=dict, repr=False, compare=False)

    @property
    def wrapper_tag(self) -> str | None:
        """Clark name (``{namespace}local``) of the wrapper element, if any."""
        if self.wrapper is None:
            return None
        from paymsg.codec.xml.safe import parse_xml

        return str(parse_xml(self.wrapper.encode("utf-8"), source="wrapper").tag)


@dataclass(slots=True)
class Detection:
    """How a message type was recognised, without binding the whole message."""

    type: str
    method: Literal["header", "namespace", "json"]
    namespace: str | None = None
    root: str | None = None
    element: str | None = None
    wrapper: str | None = None
    detail: str = ""


@dataclass(frozen=True, slots=True)
class Received:
    """What a parsed :class:`Message` was read from, so that nothing reads it again.

    ``raw`` is the input as given (CNAPS2 text with its envelope, or XML with any wrapper);
    ``body`` the XML that holds the document, exactly as received (``raw`` after a CNAPS2
    envelope, else ``raw`` itself) and ``line_offset`` the lines before it; ``detection``
    how the type was decided. A validator checks ``raw`` instead of serializing the
    document again (its findings then carry the input's own line numbers).

    It describes the input, not later edits: the document is a mutable dataclass, so code
    that changes ``message.document`` after parsing and wants the change checked sets
    ``message.received = None`` (or builds a new :class:`Message`).
    """

    raw: bytes = field(repr=False)
    body: bytes = field(repr=False)
    line_offset: int
    detection: Detection


@dataclass(slots=True)
class Message:
    """A payment message: its type id, its typed document and what surrounds it.

    ``document`` is an instance of the generated model (``paymsg.models.<module>.Document``,
    or ``AppHdr`` for a standalone business application header). ``envelope`` is a
    :class:`BusinessEnvelope` for ISO messages with a header or wrapper, a
    ``Cnaps2Envelope`` for CNAPS2 transport text, or ``None`` for a bare document.
    """

    type: str
    document: Any
    envelope: BusinessEnvelope | Cnaps2Envelope | None = None
    #: the body bytes as received (CNAPS2), so an unchanged message relays byte for byte
    original: bytes | None = field(default=None, repr=False, compare=False)
    #: what :func:`paymsg.parse` read (None for a message built in code or read from JSON)
    received: Received | None = field(default=None, repr=False, compare=False)
    #: ``xsi:*`` attributes of the ``Document`` root (local name → value, e.g.
    #: ``{"schemaLocation": "urn:… pacs.008.001.08.xsd"}``): not part of the model, but
    #: relayed: parsing keeps them and serializing (XML, JSON, CNAPS2) writes them back
    xsi: dict[str, str] = field(default_factory=dict, repr=False, compare=False)
