"""CNAPS2 signatures: the signed-values string, signer/verifier plug points, software SM2.

What a CNAPS2 signature covers is **not the XML text** but a "签名要素串": the values of a
message-specific list of key elements, in document order, joined with ``|``; an amount is
rendered as currency + value (``CNY100.00``) (reference ``cnaps2.md`` §3.4, [C2+]). The
signature travels base64-encoded in the ``{S:…}`` block, as the DER ``SEQUENCE`` of two
integers (r, s) that the public samples carry.

The element list of each message type is defined in the PBOC specification, which is not
public; the lists are therefore **data**, not code: ``xsd/cnaps2/signing.toml`` records one
table per message type with what is known, and a bank supplies the lists of its MBFE
documentation with :func:`load_signing_profiles` or a :class:`SigningProfile` built in code.
For a type whose official list is not known, :func:`signing_profile` raises
:class:`~paymsg.errors.SignatureError` instead of guessing.

Cryptography is pluggable: anything with a ``sign(data, *, sender)`` method is a
:class:`Signer`, anything with ``verify(data, signature, *, sender)`` is a :class:`Verifier`
— a bank plugs in its HSM there (FX calls its HSM with the header ``OrigSender`` to select
the sender's certificate). :class:`~paymsg.codec.envelope.sm2.SM2Signer` /
:class:`~paymsg.codec.envelope.sm2.SM2Verifier` (in :mod:`paymsg.codec.envelope.sm2`,
re-exported here) are a software SM2 implementation (SM2 with SM3, user id
``1234567812345678``) for development, tests and banks that keep keys in software.
That CNAPS2 uses SM2 is an inference [INF]: the samples' signatures are 70-72-byte DER
(r, s) values, consistent with SM2 or ECDSA.
"""

from __future__ import annotations

import base64
import codecs
import dataclasses
import re
import tomllib
from collections.abc import Mapping
from functools import cache
from os import PathLike
from typing import Any, Literal, Protocol, runtime_checkable

from lxml import etree
from pydantic import BaseModel, ConfigDict, ValidationError, field_validator

from paymsg.codec.envelope.cnaps2 import Cnaps2Envelope
from paymsg.codec.envelope.sm2 import (
    DEFAULT_SM2_USER_ID,
    SM2KeyPair,
    SM2Signer,
    SM2Verifier,
    generate_sm2_keypair,
)
from paymsg.errors import ConfigError, SignatureError

__all__ = [
    "DEFAULT_SM2_USER_ID",
    "SM2KeyPair",
    "SM2Signer",
    "SM2Verifier",
    "Signer",
    "SigningProfile",
    "Verifier",
    "default_signing_profiles",
    "generate_sm2_keypair",
    "load_signing_profiles",
    "sign_envelope",
    "signature_data",
    "signature_string",
    "signing_profile",
    "verify_envelope",
]

_HOW_TO_SUPPLY = (
    "supply the list from your MBFE / PBOC documentation: load a TOML file laid out like "
    "xsd/cnaps2/signing.toml with paymsg.codec.envelope.signing.load_signing_profiles(path) "
    "and pass it as profiles=..., or pass SigningProfile(type_id=..., elements=[...]) explicitly"
)

# --------------------------------------------------------------------------- profiles

_PATH = re.compile(r"[A-Za-z_][\w.-]*(/[A-Za-z_][\w.-]*)*")


class SigningProfile(BaseModel):
    """How to build the signed-values string (签名要素串) of one message type.

    ``elements`` are paths of element local names relative to the message element under
    ``Document`` (``GrpHdr/MsgId``, ``CdtTrfTxInf/IntrBkSttlmAmt``), listed in schema
    order. An empty list means the official list is not known; such a profile cannot be
    used to sign or verify (its ``confidence``/``source`` say what is known).

    The two points on which the public implementations differ (§3.4, [S1] each) are options:

    * ``trailing_separator`` — FX (beps.351, mivs.*) writes ``|`` after *every* value,
      ZC (beps.380) only *between* values. **Default ``False``** (ZC): "values joined with
      ``|``" is what both sources have in common; the extra final ``|`` is an FX-specific
      detail. Set it to ``True`` for an MBFE that expects FX-style strings.
    * ``absent`` — what an absent optional element contributes. **Default ``"empty"``**:
      an empty value, so ``a||c`` (FX; the only behaviour either source documents). It
      also keeps every value at a fixed position, so two different messages cannot yield
      the same string by shifting values. ``"omit"`` leaves the value out entirely.

    ``encoding`` is the character encoding of the string before signing. It is not
    documented publicly [NF]; the default is UTF-8 because the bodies are UTF-8 [INF].
    ``message_element``, if set, is the expected local name of the message element (e.g.
    ``CstmrCdtTrf``); a body with another one is refused.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    type_id: str
    elements: tuple[str, ...] = ()
    separator: str = "|"
    trailing_separator: bool = False
    absent: Literal["empty", "omit"] = "empty"
    encoding: str = "utf-8"
    message_element: str | None = None
    #: confidence tag of the element list: C2+, S1, INF, NF (see the reference) or e.g. "bank"
    confidence: str = ""
    #: where the list comes from, or why it is missing
    source: str = ""

    @field_validator("elements")
    @classmethod
    def _check_elements(cls, elements: tuple[str, ...]) -> tuple[str, ...]:
        seen: set[str] = set()
        for path in elements:
            if not _PATH.fullmatch(path):
                raise ValueError(
                    f"element path {path!r} must be local names joined with '/' "
                    "(relative to the message element, e.g. 'GrpHdr/MsgId')"
                )
            if path in seen:
                raise ValueError(f"element path {path!r} is listed twice")
            seen.add(path)
        for path in elements:
            for other in elements:
                if other.startswith(path + "/"):
                    raise ValueError(
                        f"element path {path!r} is a value and cannot also contain {other!r}"
                    )
        return elements

    @field_validator("separator")
    @classmethod
    def _check_separator(cls, separator: str) -> str:
        if not separator:
            raise ValueError("the separator must not be empty")
        return separator

    @field_validator("encoding")
    @classmethod
    def _check_encoding(cls, encoding: str) -> str:
        try:
            codecs.lookup(encoding)
        except LookupError as exc:
            raise ValueError(f"unknown character encoding {encoding!r}") from exc
        return encoding

    @property
    def known(self) -> bool:
        """Whether the profile has an element list (and so can sign and verify)."""
        return bool(self.elements)


def load_signing_profiles(path: str | PathLike[str]) -> dict[str, SigningProfile]:
    """Read signing profiles from a TOML file laid out like ``xsd/cnaps2/signing.toml``.

    An optional ``[defaults]`` table sets options for every profile; each
    ``[profile."<type id>"]`` table gives ``elements`` and may override the options.
    Raises :class:`~paymsg.errors.ConfigError` naming the file and the bad entry.
    """
    source = str(path)
    try:
        with open(path, "rb") as handle:
            data = tomllib.load(handle)
    except OSError as exc:
        raise ConfigError(f"cannot read the signing profiles: {exc}", source=source) from exc
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"signing profiles are not valid TOML: {exc}", source=source) from exc
    unknown = set(data) - {"defaults", "profile"}
    if unknown:
        raise ConfigError(
            f"unknown top-level table(s) {', '.join(sorted(unknown))}",
            source=source,
            hint='expected [defaults] and [profile."<type id>"] tables',
        )
    defaults = data.get("defaults", {})
    tables = data.get("profile", {})
    if not isinstance(defaults, dict) or not isinstance(tables, dict):
        raise ConfigError("[defaults] and [profile] must be tables", source=source)
    for key in ("type_id", "elements"):
        if key in defaults:
            raise ConfigError(f"[defaults] must not set {key!r}", source=source)
    profiles: dict[str, SigningProfile] = {}
    for type_id, table in tables.items():
        if not isinstance(table, dict):
            raise ConfigError(f"profile.{type_id!r} must be a table", source=source)
        try:
            profiles[type_id] = SigningProfile(**{**defaults, **table, "type_id": type_id})
        except ValidationError as exc:
            problems = "; ".join(
                f"{'.'.join(str(p) for p in err['loc']) or 'profile'}: {err['msg']}"
                for err in exc.errors()
            )
            raise ConfigError(
                f"signing profile {type_id!r} is invalid: {problems}", source=source, path=type_id
            ) from exc
    return profiles


@cache
def default_signing_profiles() -> Mapping[str, SigningProfile]:
    """The profiles shipped in ``xsd/cnaps2/signing.toml`` (loaded once)."""
    from paymsg.schema.catalog import xsd_root

    return load_signing_profiles(xsd_root() / "cnaps2" / "signing.toml")


def signing_profile(
    type_id: str, profiles: Mapping[str, SigningProfile] | None = None
) -> SigningProfile:
    """The usable signing profile of ``type_id`` from ``profiles`` (default: the shipped ones).

    Raises :class:`~paymsg.errors.SignatureError` when there is no profile for the type or
    when its official element list is not known — paymsg never guesses a list.
    """
    table = default_signing_profiles() if profiles is None else profiles
    profile = table.get(type_id)
    if profile is None:
        raise SignatureError(
            f"no signing profile for {type_id}: the official signature element list "
            "(签名要素串) of this message type is not known to paymsg",
            hint=_HOW_TO_SUPPLY,
        )
    if not profile.known:
        raise SignatureError(_unknown_list_message(profile), hint=_HOW_TO_SUPPLY)
    return profile


def _unknown_list_message(profile: SigningProfile) -> str:
    text = f"the official signature element list (签名要素串) of {profile.type_id} is not known"
    if profile.source:
        text += f" ({profile.source})"
    return text


# --------------------------------------------------------------------------- the string

_Trie = dict[str, "_Trie | None"]  # local name -> children, or None for a value element


def _trie(elements: tuple[str, ...]) -> _Trie:
    root: _Trie = {}
    for path in elements:
        node = root
        names = path.split("/")
        for name in names[:-1]:
            child = node.setdefault(name, {})
            assert child is not None  # SigningProfile forbids a value that has children
            node = child
        node[names[-1]] = None
    return root


def _local(element: etree._Element) -> str:
    return str(etree.QName(element).localname)


def _message_element(body: etree._Element | etree._ElementTree, profile: SigningProfile) -> Any:
    root = body.getroot() if isinstance(body, etree._ElementTree) else body
    element = root
    if _local(root) == "Document":
        children = [c for c in root if isinstance(c.tag, str)]
        if not children:
            raise SignatureError(
                f"cannot build the signed values of {profile.type_id}: <Document> is empty"
            )
        element = children[0]
    if profile.message_element is not None and _local(element) != profile.message_element:
        raise SignatureError(
            f"the signing profile of {profile.type_id} expects the message element "
            f"<{profile.message_element}>, the body has <{_local(element)}>"
        )
    return element


def _values(
    parent: etree._Element, node: _Trie, prefix: str, profile: SigningProfile, out: list[str]
) -> None:
    for name, children in node.items():
        path = f"{prefix}{name}"
        matches = [c for c in parent if isinstance(c.tag, str) and _local(c) == name]
        if not matches:
            if profile.absent == "empty":
                out.extend("" for _ in range(_count_values(children)))
            continue
        for match in matches:
            if children is None:
                out.append(_render(match, path, profile))
            else:
                _values(match, children, f"{path}/", profile, out)


def _count_values(node: _Trie | None) -> int:
    if node is None:
        return 1
    return sum(_count_values(child) for child in node.values())


def _render(element: etree._Element, path: str, profile: SigningProfile) -> str:
    if any(isinstance(c.tag, str) for c in element):
        raise SignatureError(
            f"signing profile of {profile.type_id}: element {path} has child elements, "
            "it is not a value"
        )
    text = element.text or ""
    currency = element.get("Ccy")
    return text if currency is None else currency + text


def signature_string(body: etree._Element | etree._ElementTree, profile: SigningProfile) -> str:
    """The signed-values string (签名要素串) of a message body, per ``profile``.

    ``body`` is the parsed ``Document`` (or its message element). Elements are matched by
    local name, so any namespace or prefix works. Values come out in document order: the
    profile's paths are walked as a tree, each occurrence of a repeated element (a
    transaction of a package, a repeated remittance line) contributing its values in turn.
    A value is the element's text as written (not trimmed or reformatted); an element with
    a ``Ccy`` attribute is rendered currency + text (``CNY100.00``). An absent element —
    or every value under an absent group — contributes an empty value (``absent="empty"``,
    the default) or nothing (``absent="omit"``).
    """
    if not profile.known:
        raise SignatureError(_unknown_list_message(profile), hint=_HOW_TO_SUPPLY)
    values: list[str] = []
    _values(_message_element(body, profile), _trie(profile.elements), "", profile, values)
    text = profile.separator.join(values)
    if profile.trailing_separator:
        text += profile.separator
    return text


def signature_data(body: etree._Element | etree._ElementTree, profile: SigningProfile) -> bytes:
    """The bytes that are signed: :func:`signature_string` in the profile's encoding."""
    text = signature_string(body, profile)
    try:
        return text.encode(profile.encoding)
    except UnicodeEncodeError as exc:
        raise SignatureError(
            f"a signed value of {profile.type_id} cannot be written in {profile.encoding}: "
            f"{exc.reason}"
        ) from exc


# --------------------------------------------------------------------------- plug points


@runtime_checkable
class Signer(Protocol):
    """Produces the signature of ``data`` on behalf of participant ``sender``.

    Returns the DER-encoded signature bytes (``SEQUENCE { r INTEGER, s INTEGER }`` for
    SM2/ECDSA). Raises :class:`~paymsg.errors.SignatureError` when it cannot sign.
    """

    def sign(self, data: bytes, *, sender: str) -> bytes: ...


@runtime_checkable
class Verifier(Protocol):
    """Checks that ``signature`` over ``data`` was made by participant ``sender``.

    Returns ``None`` when it verifies; raises :class:`~paymsg.errors.SignatureError` when it
    does not, and :class:`~paymsg.errors.ConfigError` when no key is known for ``sender``.
    """

    def verify(self, data: bytes, signature: bytes, *, sender: str) -> None: ...


# --------------------------------------------------------------------------- envelopes


def _check_profile(envelope: Cnaps2Envelope, profile: SigningProfile) -> None:
    mesg_type = envelope.header.mesg_type
    if profile.type_id != mesg_type:
        raise SignatureError(
            f"the signing profile is for {profile.type_id}, "
            f"but the header MesgType says {mesg_type}"
        )


def sign_envelope(
    envelope: Cnaps2Envelope,
    body_root: etree._Element | etree._ElementTree,
    profile: SigningProfile,
    signer: Signer,
) -> Cnaps2Envelope:
    """A copy of ``envelope`` whose signature is ``signer``'s over the body's signed values.

    The signer is called with the header ``OrigSender`` as ``sender``. The input envelope
    is not changed; the copy keeps ``raw``, so :func:`~paymsg.codec.envelope.cnaps2.join_envelope`
    sees the new signature and writes the canonical envelope.
    """
    _check_profile(envelope, profile)
    data = signature_data(body_root, profile)
    sender = envelope.header.orig_sender
    try:
        der = signer.sign(data, sender=sender)
    except (SignatureError, ConfigError):
        raise
    except Exception as exc:  # an HSM plug-in may raise anything
        raise SignatureError(
            f"signing {profile.type_id} for sender {sender} failed: {exc}"
        ) from exc
    if not isinstance(der, bytes | bytearray) or not der:
        raise SignatureError(f"the signer returned no signature for {profile.type_id}")
    signature = base64.b64encode(bytes(der)).decode("ascii")
    return dataclasses.replace(envelope, signature=signature)


def verify_envelope(
    envelope: Cnaps2Envelope,
    body_root: etree._Element | etree._ElementTree,
    profile: SigningProfile,
    verifier: Verifier,
) -> None:
    """Check the envelope's signature over the body's signed values; raise if it fails.

    Raises :class:`~paymsg.errors.SignatureError` when the message carries no signature
    (a profile is given, so the type is signed), when the signature is not base64, or when
    it does not verify; :class:`~paymsg.errors.ConfigError` when the verifier has no key for
    the sender.
    """
    _check_profile(envelope, profile)
    header = envelope.header
    what = f"{header.mesg_type} message {header.mesg_id} from sender {header.orig_sender}"
    if envelope.signature is None:
        raise SignatureError(
            f"{what} carries no signature block {{S:…}}, but {header.mesg_type} is signed",
            field="Signature",
        )
    try:
        signature = base64.b64decode(envelope.signature, validate=True)
    except ValueError as exc:
        raise SignatureError(
            f"{what}: the signature is not valid base64", field="Signature"
        ) from exc
    data = signature_data(body_root, profile)
    try:
        verifier.verify(data, signature, sender=header.orig_sender)
    except SignatureError as exc:
        raise SignatureError(
            f"{what}: signature does not verify — the signed values or the signature were "
            f"changed ({exc.message})",
            field="Signature",
            hint="if every message of this type fails, check the signing profile "
            "(element list, trailing_separator, absent, encoding) and the sender's key",
        ) from exc
    except ConfigError:
        raise
    except Exception as exc:  # an HSM plug-in may raise anything
        raise SignatureError(
            f"{what}: the signature could not be checked: {exc}", field="Signature"
        ) from exc
