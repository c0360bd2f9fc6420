"""The CNAPS2 transport envelope: the ``{H:…}`` header and the ``{S:…}`` signature block.

A CNAPS2 message on MQ is one text of up to three parts (reference ``cnaps2.md`` §3.1,
[C2+]): a fixed 130-character header block ``{H:…}`` followed by CR LF, an optional
signature block ``{S:<base64>}`` followed by CR LF, then the UTF-8 XML body.

This module works on bytes. The header is ASCII and is decoded into a validated
:class:`Cnaps2Header`; the signature is kept as base64 text; the body is never touched.
Reading is tolerant of what real traffic contains (a signature wrapped over several lines,
stray CR characters, LF instead of CR LF, no line break before ``<?xml``) and keeps the
envelope bytes exactly as received in :attr:`Cnaps2Envelope.raw`, so that a relay of an
unchanged message reproduces its input byte for byte (:func:`join_envelope`).

Every fact about the header layout comes from one table, :data:`FIELDS`, which encode,
decode and the CLI display all use. Malformed input raises :class:`EnvelopeError` naming
the field (reference name and Chinese label), its byte ``offset`` and the bad value.
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, time
from functools import lru_cache
from typing import Any, Literal, NamedTuple

from pydantic import BaseModel, ConfigDict, ValidationInfo, field_validator

from paymsg.errors import EnvelopeError
from paymsg.schema.catalog import catalog
from paymsg.trusted import trusted_model

__all__ = [
    "CRLF",
    "FIELDS",
    "HEADER_LENGTH",
    "SYSTEM_CODES",
    "Cnaps2Envelope",
    "Cnaps2Header",
    "HeaderField",
    "field_at",
    "join_envelope",
    "looks_like_cnaps2",
    "raw_matches",
    "read_envelope",
    "split_envelope",
]

#: length of the ``{H:…}`` block, without the CR LF that follows it (§3.2, [C2+])
HEADER_LENGTH = 130
CRLF = b"\r\n"
BOM = b"\xef\xbb\xbf"

#: System codes accepted in ``OrigSenderSID`` / ``OrigReceiverSID`` (§2.1). The first eleven
#: are the ``SystemCode1`` enumeration of every CNAPS XSD [C2+]; ``PMTS`` (probe messages in a
#: traffic capture) and ``MIVS`` (企业信息联网核查, same envelope) are single-source [S1] but are
#: accepted so that a relay does not reject real traffic.
SYSTEM_CODES: frozenset[str] = frozenset(
    {
        "SAPS",
        "HVPS",
        "BEPS",
        "CCMS",
        "PMIS",
        "IBPS",
        "NCIS",
        "ECDS",
        "FXPS",
        "NETS",
        "PBCS",
        "PMTS",
        "MIVS",
    }
)


class HeaderField(NamedTuple):
    """One fixed-width field of the ``{H:}`` header (§3.2)."""

    #: attribute name on :class:`Cnaps2Header`
    name: str
    #: name used by the reference and the implementations (FIB/FX), e.g. ``OrigSender``
    ref_name: str
    #: Chinese label of the specification, e.g. ``报文发起人``
    label_zh: str
    #: 0-based offset of the field in the header
    offset: int
    #: width in characters (= bytes; the header is ASCII)
    length: int
    #: English label
    label_en: str
    #: what the field must contain, in words (used in error messages and the CLI)
    rule: str

    @property
    def end(self) -> int:
        """Offset just past the field."""
        return self.offset + self.length

    @property
    def title(self) -> str:
        """``OrigSender (报文发起人)`` — how errors and displays name the field."""
        return f"{self.ref_name} ({self.label_zh})"


def _build_fields(
    rows: list[tuple[str, str, str, int, str, str]],
) -> tuple[HeaderField, ...]:
    fields: list[HeaderField] = []
    offset = 0
    for name, ref_name, label_zh, length, label_en, rule in rows:
        fields.append(HeaderField(name, ref_name, label_zh, offset, length, label_en, rule))
        offset += length
    if offset != HEADER_LENGTH:  # pragma: no cover - guards edits of the table below
        raise AssertionError(f"header field table adds up to {offset}, not {HEADER_LENGTH}")
    return tuple(fields)


#: The header layout (§3.2, [C2+]: FIB, FX, ZC, CC and four real headers agree). Offsets are
#: derived from the lengths, so the table cannot disagree with itself.
FIELDS: tuple[HeaderField, ...] = _build_fields(
    [
        ("begin_flag", "BeginFlag", "起始标识", 3, "begin flag", "the literal '{H:'"),
        ("version_id", "VersionID", "版本号", 2, "version", "2 digits ('02')"),
        (
            "orig_sender",
            "OrigSender",
            "报文发起人",
            14,
            "sending participant",
            "1-14 letters or digits, left-justified (12-digit bank code, or 0000 for the NPC)",
        ),
        (
            "orig_sender_sid",
            "OrigSenderSID",
            "发送系统号",
            4,
            "sending system",
            "a CNAPS system code (HVPS, BEPS, CCMS, SAPS, ...)",
        ),
        (
            "orig_receiver",
            "OrigReceiver",
            "报文接收人",
            14,
            "receiving participant",
            "1-14 letters or digits, left-justified (12-digit bank code, or 0000 for the NPC)",
        ),
        (
            "orig_receiver_sid",
            "OrigReceiverSID",
            "接收系统号",
            4,
            "receiving system",
            "a CNAPS system code (HVPS, BEPS, CCMS, SAPS, ...)",
        ),
        ("orig_send_date", "OrigSendDate", "报文发起日期", 8, "send date", "a real date yyyyMMdd"),
        ("orig_send_time", "OrigSendTime", "报文发起时间", 6, "send time", "a real time HHmmss"),
        ("struct_type", "StructType", "格式类型", 3, "format type", "'XML'"),
        (
            "mesg_type",
            "MesgType",
            "报文类型代码",
            20,
            "message type",
            "1-20 printable characters without spaces, left-justified (e.g. hvps.111.001.01)",
        ),
        (
            "mesg_id",
            "MesgID",
            "通信级标识号",
            20,
            "message id",
            "1-20 printable characters without spaces, left-justified",
        ),
        (
            "mesg_ref_id",
            "MesgRefID",
            "通信级参考号",
            20,
            "message reference id",
            "1-20 printable characters without spaces, left-justified",
        ),
        (
            "mesg_priority",
            "MesgPriority",
            "报文优先级",
            1,
            "priority",
            "1 (特急 urgent), 2 (紧急 high) or 3 (普通 normal)",
        ),
        (
            "mesg_direction",
            "MesgDirection",
            "报文传输方向",
            1,
            "direction",
            "U (participant to NPC) or D (NPC to participant)",
        ),
        (
            "reserve",
            "Reserve",
            "保留域",
            9,
            "reserved",
            "9 printable characters, kept verbatim (NPC puts characters here)",
        ),
        ("end_flag", "EndFlag", "结束标识", 1, "end flag", "the literal '}'"),
    ]
)


_BY_NAME: dict[str, HeaderField] = {f.name: f for f in FIELDS}
_BY_REF: dict[str, HeaderField] = {f.ref_name: f for f in FIELDS}

#: fields that are left-justified and space-padded, stored without the padding
_PADDED = frozenset(
    {"orig_sender", "orig_receiver", "mesg_type", "mesg_id", "mesg_ref_id"},
)
_PADDED_ORDER = tuple(f.name for f in FIELDS if f.name in _PADDED)


def field_at(position: int) -> HeaderField:
    """The header field covering ``position`` (0-based; positions past the end → ``EndFlag``)."""
    for f in FIELDS:
        if f.offset <= position < f.end:
            return f
    return FIELDS[-1]


# --------------------------------------------------------------------------- field rules
# Each rule takes the stored (unpadded) value and returns a description of what is wrong,
# or None. The same rules run on construction (pydantic validators) and in decode().

_PARTICIPANT = re.compile(r"[0-9A-Za-z]{1,14}")
_TOKEN = re.compile(r"[\x21-\x7a\x7c\x7e]+")  # printable ASCII without space, '{' and '}'
_RESERVE = re.compile(r"[\x20-\x7a\x7c\x7e]{9}")  # printable ASCII incl. space, no braces


def _describe_chars(value: str) -> str | None:
    for ch in value:
        if not " " <= ch <= "~":
            kind = "a non-ASCII" if ord(ch) > 0x7F else "a control"
            return f"contains {kind} character {ch!r}"
    if " " in value:
        return "contains a space (values are stored without padding)"
    if "{" in value or "}" in value:
        return "contains a brace ('{' or '}'), which would break the envelope"
    return None


def _rule_literal(expected: str) -> Callable[[str], str | None]:
    def rule(value: str) -> str | None:
        return None if value == expected else f"must be {expected!r}"

    return rule


#: header versions accepted: 02 for HVPS/BEPS/CCMS/SAPS (reference §3.2, [C2+]); the IBPS
#: variant "01" has a different, 126-character layout and is not CNAPS2 (§3.5)
VERSIONS = frozenset({"02"})


def _rule_version(value: str) -> str | None:
    if value in VERSIONS:
        return None
    if value == "01":
        return "is the IBPS (超级网银) header version, whose layout differs; CNAPS2 uses '02'"
    return "must be '02'"


def _rule_participant(value: str) -> str | None:
    if not value:
        return "is empty"
    if len(value) > 14:
        return f"is {len(value)} characters long, at most 14 allowed"
    if _PARTICIPANT.fullmatch(value):
        return None
    return _describe_chars(value) or "must contain only letters and digits"


def _rule_system(value: str) -> str | None:
    if value in SYSTEM_CODES:
        return None
    return "is not a CNAPS system code (" + ", ".join(sorted(SYSTEM_CODES)) + ")"


def _rule_date(value: str) -> str | None:
    if len(value) == 8 and value.isascii() and value.isdigit():
        try:
            date(int(value[:4]), int(value[4:6]), int(value[6:]))
        except ValueError:
            return "is not a real calendar date (yyyyMMdd)"
        return None
    return "must be a date of 8 digits yyyyMMdd"


def _rule_time(value: str) -> str | None:
    if len(value) == 6 and value.isascii() and value.isdigit():
        try:
            time(int(value[:2]), int(value[2:4]), int(value[4:]))
        except ValueError:
            return "is not a real time of day (HHmmss)"
        return None
    return "must be a time of 6 digits HHmmss"


def _rule_token(limit: int) -> Callable[[str], str | None]:
    def rule(value: str) -> str | None:
        if not value:
            return "is empty"
        if len(value) > limit:
            return f"is {len(value)} characters long, at most {limit} allowed"
        if _TOKEN.fullmatch(value):
            return None
        return _describe_chars(value) or "contains a character that is not allowed"

    return rule


def _rule_mesg_type(value: str) -> str | None:
    """A token naming a CNAPS2 type: an ISO 20022 id (``pacs.008.001.02``) is the body's
    type of some CNAPS2 messages, never a header MesgType (reference §3.2, §4.1), and a
    header that says it would have its body read as a plain ISO message."""
    problem = _rule_token(20)(value)
    if problem is None and _names_iso_type(value):
        problem = (
            "is an ISO 20022 message type id; the header MesgType must name a CNAPS2 type "
            "(hvps.111.001.01, beps.121.001.01, …), whose body may reuse an ISO schema"
        )
    return problem


def _names_iso_type(value: str) -> bool:
    """Whether ``value`` is the id of a catalogued ISO 20022 type (not a header MesgType)."""
    types = catalog()
    return value in types and types.get(value).standard != "cnaps2"


def _rule_choice(allowed: dict[str, str]) -> Callable[[str], str | None]:
    def rule(value: str) -> str | None:
        if value in allowed:
            return None
        return "must be " + ", ".join(f"{k} ({v})" for k, v in allowed.items())

    return rule


def _rule_reserve(value: str) -> str | None:
    if len(value) != 9:
        return f"must be exactly 9 characters (kept verbatim), got {len(value)}"
    if _RESERVE.fullmatch(value):
        return None
    for ch in value:
        if not " " <= ch <= "~":
            kind = "a non-ASCII" if ord(ch) > 0x7F else "a control"
            return f"contains {kind} character {ch!r}"
    return "contains a brace ('{' or '}'), which would break the envelope"


_RULES: dict[str, Callable[[str], str | None]] = {
    "begin_flag": _rule_literal("{H:"),
    "version_id": _rule_version,
    "orig_sender": _rule_participant,
    "orig_sender_sid": _rule_system,
    "orig_receiver": _rule_participant,
    "orig_receiver_sid": _rule_system,
    "orig_send_date": _rule_date,
    "orig_send_time": _rule_time,
    "struct_type": _rule_literal("XML"),
    "mesg_type": _rule_mesg_type,
    "mesg_id": _rule_token(20),
    "mesg_ref_id": _rule_token(20),
    "mesg_priority": _rule_choice({"1": "特急 urgent", "2": "紧急 high", "3": "普通 normal"}),
    "mesg_direction": _rule_choice({"U": "participant to NPC", "D": "NPC to participant"}),
    "reserve": _rule_reserve,
    "end_flag": _rule_literal("}"),
}


def _check_raw(spec: HeaderField, raw: str) -> tuple[str, str | None]:
    """Check a field as it appears in the header text; return (stored value, problem)."""
    if spec.name in _PADDED:
        if raw.startswith(" ") and raw.strip(" "):
            return raw, "is not left-justified (starts with a space)"
        value = raw.rstrip(" ")
    else:
        value = raw
    return value, _RULES[spec.name](value)


def _fast_pattern() -> re.Pattern[str]:
    """One match for a header whose every field is well formed: what the field rules
    (:data:`_RULES`) accept, save the checks a pattern cannot make (a real calendar date,
    a MesgType that names no ISO 20022 type), which :func:`_well_formed` adds."""
    participant, token = "[0-9A-Za-z]", r"[\x21-\x7a\x7c\x7e]"
    systems = "|".join(sorted(SYSTEM_CODES))
    parts = {
        "begin_flag": r"(?P<begin_flag>\{H:)",
        "version_id": "(?P<version_id>" + "|".join(sorted(VERSIONS)) + ")",
        "orig_sender_sid": f"(?P<orig_sender_sid>{systems})",
        "orig_receiver_sid": f"(?P<orig_receiver_sid>{systems})",
        "orig_send_date": "(?P<orig_send_date>[0-9]{8})",
        "orig_send_time": "(?P<orig_send_time>(?:[01][0-9]|2[0-3])[0-5][0-9][0-5][0-9])",
        "struct_type": "(?P<struct_type>XML)",
        "mesg_priority": "(?P<mesg_priority>[123])",
        "mesg_direction": "(?P<mesg_direction>[UD])",
        "reserve": r"(?P<reserve>[\x20-\x7a\x7c\x7e]{9})",
        "end_flag": r"(?P<end_flag>\})",
    }
    for spec in FIELDS:
        if spec.name in _PADDED:  # as in the text, padding included: see _well_formed
            chars = participant if spec.name in ("orig_sender", "orig_receiver") else token
            parts[spec.name] = f"(?P<{spec.name}>{chars[:-1]} ]{{{spec.length}}})"
    return re.compile("".join(parts[spec.name] for spec in FIELDS))


_FAST_HEADER = _fast_pattern()


@lru_cache(maxsize=4096)
def _real_date(value: str) -> bool:
    """Whether ``value`` passes the date rule (the dates in use are few: kept)."""
    return _rule_date(value) is None


def _well_formed(text: str) -> dict[str, str] | None:
    """The stored values of a header text of exactly 130 characters whose every field
    passes its rule, as :meth:`Cnaps2Header.decode` would store them; None when any field
    does not (or might not): decode then checks field by field and says what is wrong."""
    match = _FAST_HEADER.fullmatch(text)
    if match is None:
        return None
    values = match.groupdict()
    for name in _PADDED_ORDER:
        value = values[name].rstrip(" ")
        if not value or " " in value:  # empty, or not left-justified, or a space inside
            return None
        values[name] = value
    if not _real_date(values["orig_send_date"]):
        return None
    if _names_iso_type(values["mesg_type"]):
        return None
    return values


# --------------------------------------------------------------------------- the header


class Cnaps2Header(BaseModel):
    """The 130-character CNAPS2 header block ``{H:…}`` (reference §3.2).

    Values are stored without their space padding, except :attr:`reserve`, which is kept
    verbatim (9 characters) because the NPC puts characters there (``"XN       "``,
    ``"       X "``) that a relay must preserve. Every field is validated on construction;
    a bad value raises :class:`pydantic.ValidationError` whose message names the field.
    :meth:`decode` raises :class:`~paymsg.errors.EnvelopeError` instead, with the byte offset.

    The model is immutable; use :meth:`replace` to derive a changed header (it validates).
    Defaults: version ``02``, format ``XML``, priority ``3`` (普通, the value seen in most
    samples), direction ``U`` (a participant sending to the NPC), reserve 9 spaces.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    begin_flag: Literal["{H:"] = "{H:"
    version_id: str = "02"
    orig_sender: str
    orig_sender_sid: str
    orig_receiver: str
    orig_receiver_sid: str
    orig_send_date: str
    orig_send_time: str
    struct_type: Literal["XML"] = "XML"
    mesg_type: str
    mesg_id: str
    mesg_ref_id: str
    mesg_priority: Literal["1", "2", "3"] = "3"
    mesg_direction: Literal["U", "D"] = "U"
    reserve: str = " " * 9
    end_flag: Literal["}"] = "}"

    @field_validator("*", mode="before")
    @classmethod
    def _check_field(cls, value: Any, info: ValidationInfo) -> Any:
        # runs before the type check so that every rule, Literal fields included, gives
        # the same message (naming the field); non-strings are left to pydantic
        assert info.field_name is not None
        if not isinstance(value, str):
            return value
        spec = _BY_NAME[info.field_name]
        problem = _RULES[spec.name](value)
        if problem is not None:
            raise ValueError(f"{spec.title}: {value!r} {problem}")
        return value

    # -- encoding ---------------------------------------------------------------------

    def encode(self) -> str:
        """The header text: exactly 130 characters, fields left-justified and space-padded.

        The CR LF that follows the header on the wire is not included.
        """
        text = "".join(getattr(self, f.name).ljust(f.length) for f in FIELDS)
        if len(text) != HEADER_LENGTH:  # pragma: no cover - validation makes this impossible
            raise EnvelopeError(f"internal error: encoded header is {len(text)} characters")
        return text

    @classmethod
    def decode(cls, text: str, offset: int = 0) -> Cnaps2Header:
        """Decode a 130-character header text (a trailing CR/LF is ignored).

        ``offset`` is where the header starts in the surrounding input; errors report byte
        offsets relative to that input. Raises :class:`EnvelopeError` naming the field
        (``error.field`` is its reference name), its offset and the bad value.
        """
        text = text.rstrip("\r\n")
        if len(text) != HEADER_LENGTH:
            raise _length_error(text, offset)
        checked = _well_formed(text)  # the usual case, in one match; else field by field
        if checked is not None:
            return cls._trusted(checked)
        printable = text.isascii() and text.isprintable()  # in C; the loop only to say where
        for index, ch in enumerate("" if printable else text):
            if not " " <= ch <= "~":
                spec = field_at(index)
                kind = "non-ASCII" if ord(ch) > 0x7F else "control"
                raise EnvelopeError(
                    f"CNAPS2 header field {spec.title}: {kind} character {ch!r} in "
                    f"{text[spec.offset : spec.end]!r}; the header must be printable ASCII",
                    offset=offset + index,
                    field=spec.ref_name,
                )
        values: dict[str, str] = {}
        for spec in FIELDS:
            raw = text[spec.offset : spec.end]
            value, problem = _check_raw(spec, raw)
            if problem is not None:
                first, last = offset + spec.offset, offset + spec.end - 1
                span = f"byte {first}" if first == last else f"bytes {first}-{last}"
                raise EnvelopeError(
                    f"CNAPS2 header field {spec.ref_name} ({spec.label_zh}, {span}): "
                    f"{raw!r} {problem}",
                    offset=first,
                    field=spec.ref_name,
                    hint=None if "must" in problem else f"{spec.ref_name} must be {spec.rule}",
                )
            values[spec.name] = value
        # every field passed the same rules the validators apply: no second validation
        return cls._trusted(values)

    @classmethod
    def _trusted(cls, values: dict[str, str]) -> Cnaps2Header:
        """A header of ``values`` that passed every field rule, built without validating
        again (:func:`paymsg.trusted.trusted_model`: it is on the path of every message
        read). ``test_envelope_oracle`` compares it with ``model_construct``."""
        return trusted_model(cls, values)

    # -- conveniences -----------------------------------------------------------------

    def replace(self, **changes: Any) -> Cnaps2Header:
        """A copy with some fields changed, validated like a new header."""
        return type(self).model_validate({**self.model_dump(), **changes})

    def field_values(self) -> list[tuple[HeaderField, str]]:
        """``(field, stored value)`` pairs in header order — for displays."""
        return [(f, getattr(self, f.name)) for f in FIELDS]

    @property
    def sent_at(self) -> datetime:
        """``OrigSendDate`` + ``OrigSendTime`` as a naive datetime (sender's clock)."""
        return datetime.strptime(self.orig_send_date + self.orig_send_time, "%Y%m%d%H%M%S")


def _length_error(text: str, offset: int) -> EnvelopeError:
    length = len(text)
    brace = text.find("}")
    end_flag = _BY_REF["EndFlag"]
    hint = None
    if text[3:5] == "01" and length == 126:
        hint = (
            "this looks like an IBPS version-01 header (126 characters, 12-character "
            "participant fields), which is not a CNAPS2 header"
        )
    if brace == HEADER_LENGTH - 1:
        return EnvelopeError(
            f"unexpected text after the CNAPS2 header's closing '}}': {text[HEADER_LENGTH:]!r}",
            offset=offset + HEADER_LENGTH,
            field=end_flag.ref_name,
        )
    if brace >= 0:
        # a '}' closes the header too early or too late
        return EnvelopeError(
            f"CNAPS2 header is {brace + 1} characters long, expected {HEADER_LENGTH}: "
            f"its closing '}}' ({end_flag.ref_name} {end_flag.label_zh}) is at offset "
            f"{offset + brace}, expected {offset + end_flag.offset}",
            offset=offset + brace,
            field=end_flag.ref_name,
            hint=hint,
        )
    if length < HEADER_LENGTH:
        spec = field_at(length)
        return EnvelopeError(
            f"CNAPS2 header is truncated: {length} of {HEADER_LENGTH} characters; "
            f"field {spec.title} (offset {offset + spec.offset}) is incomplete",
            offset=offset + length,
            field=spec.ref_name,
            hint=hint,
        )
    return EnvelopeError(
        f"CNAPS2 header is {length} characters long, expected {HEADER_LENGTH}",
        offset=offset + HEADER_LENGTH,
        field=end_flag.ref_name,
    )


# --------------------------------------------------------------------------- the envelope

_BASE64_TEXT = re.compile(r"[A-Za-z0-9+/=]+")
_NOT_BASE64 = re.compile(rb"[^A-Za-z0-9+/=\r\n]")
#: longest ``{S:…}`` content accepted (real SM2 signatures are about 96 base64 characters)
MAX_SIGNATURE_BLOCK = 4096
_BASE64_CHARS = frozenset(b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/=")
_LINE_JUNK = b"\r\n"
_GAP_JUNK = b" \t\r\n"


@dataclass
class Cnaps2Envelope:
    """A CNAPS2 header, an optional signature, and the envelope bytes as received.

    ``signature`` is the base64 text of the ``{S:}`` block with line breaks removed, or
    ``None`` when the message carries no signature block. ``raw`` is everything before the
    XML body, byte for byte, as read by :func:`split_envelope` (empty for an envelope built
    in code); :func:`join_envelope` reuses it while header and signature are unchanged.
    """

    header: Cnaps2Header
    signature: str | None = None
    raw: bytes = field(default=b"", compare=False)  # transport detail, not content

    def __post_init__(self) -> None:
        if self.signature is not None:
            self.signature = self.signature.replace("\r", "").replace("\n", "")
            _check_signature_text(self.signature)

    @property
    def signed(self) -> bool:
        """Whether the envelope has a ``{S:}`` block."""
        return self.signature is not None

    def signature_bytes(self) -> bytes | None:
        """The decoded signature (DER bytes in CNAPS2 samples), or ``None``."""
        if self.signature is None:
            return None
        return base64.b64decode(self.signature, validate=True)

    def encode(self) -> bytes:
        """The canonical envelope text: header CR LF, then ``{S:…}`` CR LF when signed."""
        signature = self.signature
        text = self.header.encode().encode("ascii") + CRLF
        if signature is not None:
            _check_signature_text(signature)
            text += b"{S:" + signature.encode("ascii") + b"}" + CRLF
        return text


def _check_signature_text(signature: str) -> None:
    if not signature:
        raise EnvelopeError("the signature is empty", field="Signature")
    if len(signature) > MAX_SIGNATURE_BLOCK:  # the limit the text reader applies
        raise EnvelopeError(
            f"the signature is {len(signature):,} characters long; CNAPS2 signatures are "
            f"about 100 base64 characters (limit {MAX_SIGNATURE_BLOCK:,})",
            field="Signature",
        )
    if _BASE64_TEXT.fullmatch(signature) is None:
        index, ch = next(
            (i, c)
            for i, c in enumerate(signature)
            if not c.isascii() or ord(c) not in _BASE64_CHARS
        )
        raise EnvelopeError(
            f"the signature contains {ch!r} at position {index}; it must be base64 text",
            field="Signature",
        )
    try:
        base64.b64decode(signature, validate=True)
    except binascii.Error as exc:
        raise EnvelopeError(
            f"the signature is not valid base64 ({exc})", field="Signature"
        ) from exc


def looks_like_cnaps2(data: bytes) -> bool:
    """Whether ``data`` starts (after an optional BOM and whitespace) with ``{H:``."""
    return data.startswith(b"{H:", _skip_leading(data))


_RUNS = {junk: re.compile(b"[" + re.escape(junk) + b"]*") for junk in (_GAP_JUNK, _LINE_JUNK)}


def _skip_leading(data: bytes) -> int:
    return _skip(data, 3 if data.startswith(BOM) else 0, _GAP_JUNK)


def _skip(data: bytes, pos: int, junk: bytes) -> int:
    """The offset after the run of ``junk`` bytes at ``pos`` (matched in C, not byte by byte)."""
    pattern = _RUNS.get(junk) or re.compile(b"[" + re.escape(junk) + b"]*")
    match = pattern.match(data, pos)
    return match.end() if match else pos


def split_envelope(data: bytes) -> tuple[Cnaps2Envelope, int]:
    """Split CNAPS2 transport text into its envelope and the offset where the XML body starts.

    Tolerated: a leading BOM or whitespace; no signature block; a signature wrapped over
    several lines (CR LF or LF inside ``{S:…}``); stray CR characters; LF instead of CR LF;
    no line break between ``}`` and ``<?xml``. Refused with :class:`EnvelopeError` (with the
    byte offset): a truncated or malformed header, an unterminated ``{S:`` block, a
    signature that is not base64, a missing body.

    ``data[offset:]`` is the body exactly as received; ``envelope.raw == data[:offset]``.
    """
    envelope, body_offset = _parse_prefix(data, require_body=True)
    return envelope, body_offset


def _parse_prefix(data: bytes, *, require_body: bool) -> tuple[Cnaps2Envelope, int]:
    start = _skip_leading(data)
    if start >= len(data):
        raise EnvelopeError("no CNAPS2 header: the input is empty", offset=start)
    if not data.startswith(b"{H:", start):
        raise EnvelopeError(
            f"the input does not start with a CNAPS2 header block '{{H:' "
            f"(found {data[start : start + 3]!r})",
            offset=start,
            field="BeginFlag",
        )
    header, pos = _read_well_formed(data, start) or _read_header(data, start)

    if require_body and data.startswith(b"\r\n<", pos):  # the usual layout, read as below
        return Cnaps2Envelope(header=header, raw=data[: pos + 2]), pos + 2
    pos = _skip(data, pos, _GAP_JUNK)
    signature: str | None = None
    if data.startswith(b"{S:", pos):
        signature, pos = _read_signature(data, pos)
        pos = _skip(data, pos, _GAP_JUNK)

    if pos >= len(data):
        if require_body:
            raise EnvelopeError(
                "the CNAPS2 message has no XML body after its envelope",
                offset=len(data),
                hint="the text must continue with the XML document after the header"
                + (" and signature" if signature is not None else ""),
            )
    else:
        body_start = pos + 3 if data.startswith(BOM, pos) else pos
        if data[body_start : body_start + 1] != b"<":
            what = "signature block or XML body" if signature is None else "XML body"
            raise EnvelopeError(
                f"expected the {what} at offset {pos}, found {data[pos : pos + 10]!r}",
                offset=pos,
            )
        if not require_body:
            raise EnvelopeError("unexpected content after the envelope", offset=pos)
    return Cnaps2Envelope(header=header, signature=signature, raw=data[:pos]), pos


def _read_header(data: bytes, start: int) -> tuple[Cnaps2Header, int]:
    """Decode the header starting at ``start``; return it and the offset just past it."""
    # look a little beyond the 130 characters, to tell a too-long header from a missing '}'
    limit = start + 2 * HEADER_LENGTH
    close = data.find(b"}", start, limit)
    line_break = min(
        (i for i in (data.find(b"\r", start, limit), data.find(b"\n", start, limit)) if i >= 0),
        default=-1,
    )
    if close > start + HEADER_LENGTH - 1 and b"<" in data[start + HEADER_LENGTH : close]:
        close = -1  # that '}' is in the XML body: the header's own '}' is missing
    if close < 0 or (0 <= line_break < close):
        # no '}' before the end of the line / input: the header is cut short
        end = line_break if line_break >= 0 else len(data)
        end = min(end, start + HEADER_LENGTH)
        text = data[start:end].decode("latin-1")
        if len(text) >= HEADER_LENGTH:
            # 130 characters and no closing '}': decode() reports the bad EndFlag
            return Cnaps2Header.decode(text, offset=start), start + HEADER_LENGTH
        spec = field_at(len(text))
        where = "the input ends" if line_break < 0 else "a line break comes"
        raise EnvelopeError(
            f"CNAPS2 header is truncated: {where} after {len(text)} of {HEADER_LENGTH} "
            f"characters, in field {spec.title}",
            offset=start + len(text),
            field=spec.ref_name,
        )
    text = data[start : close + 1].decode("latin-1")  # 1 char per byte: offsets stay exact
    return Cnaps2Header.decode(text, offset=start), close + 1


def _read_well_formed(data: bytes, start: int) -> tuple[Cnaps2Header, int] | None:
    """The header at ``start`` when its 130 bytes are a well-formed header (what
    :func:`_read_header` then reads, without its search for the closing brace and line
    breaks: the pattern admits neither inside), else None."""
    values = _well_formed(data[start : start + HEADER_LENGTH].decode("latin-1"))
    if values is None:
        return None
    return Cnaps2Header._trusted(values), start + HEADER_LENGTH


def _read_signature(data: bytes, pos: int) -> tuple[str, int]:
    """Read a ``{S:…}`` block at ``pos``; return the signature text and the offset past it."""
    content_start = pos + 3
    close = data.find(b"}", content_start)
    body = data.find(b"<", content_start)
    if close < 0 or (0 <= body < close):
        raise EnvelopeError(
            "the signature block '{S:' is not closed by '}'"
            + (" before the XML body" if close >= 0 or body >= 0 else ""),
            offset=pos,
            field="Signature",
        )
    if close - content_start > MAX_SIGNATURE_BLOCK:
        raise EnvelopeError(
            f"the signature block is {close - content_start:,} bytes long; CNAPS2 signatures "
            f"are about 100 base64 characters (limit {MAX_SIGNATURE_BLOCK:,})",
            offset=pos,
            field="Signature",
        )
    raw = data[content_start:close]
    chars = raw.translate(None, _LINE_JUNK)
    bad = _NOT_BASE64.search(raw)
    if bad is not None:
        raise EnvelopeError(
            f"the signature block contains {bad.group()!r}, which is not base64",
            offset=content_start + bad.start(),
            field="Signature",
        )
    if not chars:
        raise EnvelopeError("the signature block '{S:}' is empty", offset=pos, field="Signature")
    signature = chars.decode("ascii")
    try:
        base64.b64decode(signature, validate=True)
    except binascii.Error as exc:
        raise EnvelopeError(
            f"the signature block is not valid base64 ({exc}): {len(signature)} characters",
            offset=content_start,
            field="Signature",
        ) from exc
    return signature, close + 1


def join_envelope(envelope: Cnaps2Envelope, body: bytes) -> bytes:
    """Put an envelope back in front of a body.

    If ``envelope.raw`` still encodes the envelope's header and signature, the result is
    ``raw + body`` — an unchanged message relays byte for byte, including any quirks of the
    original (LF line ends, wrapped signature, NPC reserve characters). Otherwise the
    canonical text is built: header, CR LF, ``{S:`` signature ``}`` CR LF when signed, body.
    """
    if envelope.raw and raw_matches(envelope):
        return envelope.raw + body
    return envelope.encode() + body


def read_envelope(raw: bytes) -> Cnaps2Envelope:
    """An envelope from its text alone (header, optional signature, no body), read as
    :func:`split_envelope` reads it: what that refuses raises :class:`EnvelopeError`."""
    envelope, end = _parse_prefix(raw, require_body=False)
    if end != len(raw):  # pragma: no cover - _parse_prefix refuses trailing content
        raise EnvelopeError("unexpected content after the envelope", offset=end)
    return envelope


def raw_matches(envelope: Cnaps2Envelope) -> bool:
    """Whether ``envelope.raw`` is an envelope text encoding exactly the envelope's header
    and signature (then a relay reuses it byte for byte)."""
    try:
        original = read_envelope(envelope.raw)
    except EnvelopeError:
        return False
    return original.header == envelope.header and original.signature == envelope.signature
