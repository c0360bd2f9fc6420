"""CNAPS2 transport text: build (``wrap``) and take apart (``split_envelope``) the envelope.

``wrap`` puts a CNAPS2 document (or a parsed message) into its envelope: the ``{H:}``
header is filled from the document and the options, and ``signer`` adds the ``{S:}``
block. Defaults, each overridable:

* message type: the message's type, or the only CNAPS2 type whose body is the document's
  (``pacs.008.001.02`` → ``hvps.111.001.01``);
* sender / receiver: the instructing / instructed direct participants of the body
  (``InstgDrctPty`` / ``InstdDrctPty``, or the ISO ``InstgAgt`` / ``InstdAgt`` clearing
  member ids) — this matches every public sample (reference §2.2, [C2+]); where they sit
  in each type is the type's layout (``parties`` in ``xsd/catalog.toml``), read on the
  typed document itself (:mod:`paymsg.codec.paths`);
* system codes: the body's ``SysCd`` when it has one (a CCMS message serving BEPS
  carries BEPS), else the catalogue's ``system`` of the type;
* date and time: now, in Beijing time (a naive ``now`` is taken as Beijing time; an aware
  one is converted), whatever the clock of the sending machine is set to;
* priority: from the settlement priority (``URGT`` 1, ``HIGH`` 2, ``NORM`` 3), else ``3``;
* direction: ``D`` when the NPC (``0000``) sends or the body carries ``NPCPrcInf``
  (a package the NPC forwards), else ``U``;
* ``MesgID`` from ``id_generator``; ``MesgRefID`` = ``MesgID``, as seen for originating
  messages (reference §2.4, [S1]).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import ValidationError

from paymsg.codec.api import document_xml
from paymsg.codec.envelope.cnaps2 import (
    FIELDS,
    Cnaps2Envelope,
    Cnaps2Header,
    join_envelope,
    looks_like_cnaps2,
    split_envelope,
)
from paymsg.codec.envelope.signing import (
    Signer,
    SigningProfile,
    SM2Signer,
    SM2Verifier,
    Verifier,
    generate_sm2_keypair,
    load_signing_profiles,
    sign_envelope,
    signing_profile,
    verify_envelope,
)
from paymsg.codec.message import Message
from paymsg.codec.paths import first_text, message_element, values_at
from paymsg.codec.xml.safe import parse_xml
from paymsg.errors import EnvelopeError, UnknownMessageTypeError
from paymsg.reference.cnaps2 import (
    NPC,
    PRIORITY_BY_SETTLEMENT,
    DailySequence,
    IdGenerator,
    Priority,
    beijing_now,
    default_id_generator,
)
from paymsg.schema.catalog import MessageType, catalog
from paymsg.schema.layout import CLEARING_MEMBER


def _party(body: Any, direct: tuple[str, ...], agent: tuple[str, ...]) -> str | None:
    """A participant of the message: its direct-participant element, else the clearing
    member id of its agent (candidate paths from the type's layout)."""
    return first_text(body, direct) or first_text(body, [f"{a}/{CLEARING_MEMBER}" for a in agent])


def _cnaps_type(document: Any, type: str | None) -> MessageType:
    if type is not None:
        mtype = catalog().get(type)
    else:
        namespace = getattr(getattr(document, "Meta", None), "namespace", None)
        candidates = [
            t
            for t in catalog()
            if t.standard == "cnaps2"
            and t.namespace == namespace
            and isinstance(document, t.root_class)
        ]
        if len(candidates) != 1:
            names = ", ".join(t.id for t in candidates) or "none"
            raise UnknownMessageTypeError(
                f"cannot tell which CNAPS2 message type this document is (candidates: {names})",
                hint="pass type='hvps.111.001.01' (or another CNAPS2 id)",
            )
        mtype = candidates[0]
    if mtype.standard != "cnaps2" or not mtype.system:
        raise UnknownMessageTypeError(f"{mtype.id} is not a CNAPS2 message type")
    return mtype


def wrap(
    document_or_message: Any,
    *,
    type: str | None = None,
    sender: str | None = None,
    receiver: str | None = None,
    sender_system: str | None = None,
    receiver_system: str | None = None,
    priority: Priority | None = None,
    direction: Literal["U", "D"] | None = None,
    mesg_id: str | None = None,
    mesg_ref_id: str | None = None,
    reserve: str = " " * 9,
    now: datetime | None = None,
    id_generator: IdGenerator | None = None,
    signer: Signer | None = None,
    profile: SigningProfile | None = None,
) -> Message:
    """A CNAPS2 :class:`~paymsg.Message` with its header built (and signed with ``signer``)."""
    xsi: dict[str, str] = {}
    if isinstance(document_or_message, Message):
        document, xsi = document_or_message.document, dict(document_or_message.xsi)
        type = type or (document_or_message.type if document_or_message.type in catalog() else None)
        if type is not None and catalog().get(type).standard != "cnaps2":
            type = None
    else:
        document = document_or_message
    mtype = _cnaps_type(document, type)
    parties = mtype.layout.parties
    body = message_element(document)
    sender = sender or _party(body, parties.instructing, parties.instructing_agent)
    receiver = receiver or _party(body, parties.instructed, parties.instructed_agent)
    if not sender or not receiver:
        missing = "sender" if not sender else "receiver"
        raise EnvelopeError(
            f"cannot fill the header {missing}: the document names no "
            f"{'instructing' if missing == 'sender' else 'instructed'} direct participant",
            field="OrigSender" if missing == "sender" else "OrigReceiver",
            hint=f"pass {missing}='…' (12-digit bank code, or 0000 for the NPC)",
        )
    if priority is None:
        settlement = first_text(body, parties.settlement_priority)
        priority = PRIORITY_BY_SETTLEMENT.get(settlement or "", "3")
    system = first_text(body, parties.system_code) or mtype.system or ""
    if direction is None:
        forwarded = next(values_at(body, "NPCPrcInf"), None) is not None
        direction = "D" if sender == NPC or forwarded else "U"
    stamp = beijing_now(now)
    mesg_id = mesg_id or (id_generator or default_id_generator)()
    try:
        header = Cnaps2Header(
            orig_sender=sender,
            orig_sender_sid=sender_system or system,
            orig_receiver=receiver,
            orig_receiver_sid=receiver_system or system,
            orig_send_date=f"{stamp:%Y%m%d}",
            orig_send_time=f"{stamp:%H%M%S}",
            mesg_type=mtype.id,
            mesg_id=mesg_id,
            mesg_ref_id=mesg_ref_id or mesg_id,
            mesg_priority=priority,
            mesg_direction=direction,
            reserve=reserve,
        )
    except ValidationError as exc:  # a bad option or document value: say which field
        first = exc.errors()[0]
        raise EnvelopeError(f"cannot build the CNAPS2 header: {first['msg']}") from None
    envelope = Cnaps2Envelope(header=header)
    if signer is not None:
        body = parse_xml(document_xml(document, mtype, xsi))
        profile = profile or signing_profile(mtype.id)
        envelope = sign_envelope(envelope, body, profile, signer)
    return Message(mtype.id, document, envelope, xsi=xsi)


__all__ = [
    "FIELDS",
    "NPC",
    "PRIORITY_BY_SETTLEMENT",
    "Cnaps2Envelope",
    "Cnaps2Header",
    "DailySequence",
    "IdGenerator",
    "Priority",
    "SM2Signer",
    "SM2Verifier",
    "Signer",
    "SigningProfile",
    "Verifier",
    "default_id_generator",
    "generate_sm2_keypair",
    "join_envelope",
    "load_signing_profiles",
    "looks_like_cnaps2",
    "signing_profile",
    "split_envelope",
    "verify_envelope",
    "wrap",
]
