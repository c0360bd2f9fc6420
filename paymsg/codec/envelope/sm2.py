"""Software SM2 (GB/T 32918, with SM3): a :class:`~paymsg.codec.envelope.signing.Signer`
and :class:`~paymsg.codec.envelope.signing.Verifier` for development, tests and banks that
keep keys in software.

Signatures are the DER ``SEQUENCE { r INTEGER, s INTEGER }`` the public CNAPS2 samples
carry; the user id defaults to ``1234567812345678`` (GM/T 0009). A bank with an HSM plugs
its own signer/verifier into :mod:`paymsg.codec.envelope.signing` instead; nothing else in
paymsg depends on this module. The curve arithmetic is gmssl's; this module adds key
checks (on-curve, range), Z_A hashing, canonical DER and per-sender keys.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Mapping
from typing import Any, NamedTuple

from Cryptodome.Util.asn1 import DerSequence
from gmssl import sm2 as _gm_sm2
from gmssl import sm3 as _gm_sm3

from paymsg.errors import ConfigError, SignatureError

__all__ = [
    "DEFAULT_SM2_USER_ID",
    "SM2KeyPair",
    "SM2Signer",
    "SM2Verifier",
    "generate_sm2_keypair",
]

#: the default SM2 user id (GB/T 32918 / GM/T 0009): ASCII "1234567812345678"
DEFAULT_SM2_USER_ID = b"1234567812345678"

_TABLE: dict[str, str] = _gm_sm2.default_ecc_table
_N = int(_TABLE["n"], 16)
_P = int(_TABLE["p"], 16)
_A = int(_TABLE["a"], 16)
_B = int(_TABLE["b"], 16)
_HEX = re.compile(r"[0-9a-fA-F]+")


class SM2KeyPair(NamedTuple):
    """A development key pair as hex text."""

    #: 64 hex digits
    private_key: str
    #: 130 hex digits: ``04`` + x + y (uncompressed point)
    public_key: str


def _sm3(data: bytes) -> bytes:
    return bytes.fromhex(_gm_sm3.sm3_hash(list(data)))


def _curve(public_xy: str) -> Any:
    """A gmssl curve object for a public key (128 hex digits x||y)."""
    crypt = _gm_sm2.CryptSM2(private_key=None, public_key="", ecc_table=_TABLE)
    # set after construction: gmssl strips a "04" prefix with str.lstrip("04"), which also
    # eats leading '0'/'4' digits of x
    crypt.public_key = public_xy
    return crypt


def _public_xy(key: str, *, what: str) -> str:
    """Normalise a public key to 128 hex digits x||y and check it is on the SM2 curve."""
    text = key.strip()
    if len(text) == 130 and text[:2] == "04":
        text = text[2:]
    if len(text) != 128 or not _HEX.fullmatch(text):
        raise ConfigError(
            f"{what}: an SM2 public key must be 128 hex digits (x || y), optionally prefixed by 04"
        )
    x, y = int(text[:64], 16), int(text[64:], 16)
    if not (x < _P and y < _P and (y * y - (x * x * x + _A * x + _B)) % _P == 0):
        raise ConfigError(f"{what}: the public key is not a point of the SM2 curve")
    return text.lower()


def _za(user_id: bytes, public_xy: str) -> bytes:
    entl = (len(user_id) * 8).to_bytes(2, "big")
    material = entl + user_id + bytes.fromhex(_TABLE["a"] + _TABLE["b"] + _TABLE["g"] + public_xy)
    return _sm3(material)


def _digest(user_id: bytes, public_xy: str, data: bytes) -> bytes:
    """e = SM3(Z_A || M): what SM2 signs (GB/T 32918.2)."""
    return _sm3(_za(user_id, public_xy) + data)


def _check_user_id(user_id: bytes) -> bytes:
    if not 0 < len(user_id) < 8192:
        raise ConfigError("the SM2 user id must be 1-8191 bytes long")
    return bytes(user_id)


class SM2Signer:
    """Software SM2 signer (SM2 with SM3, DER output), for one private key.

    ``private_key`` is 64 hex digits. ``sender``, when given, is the only participant this
    key may sign for (a mismatch raises :class:`~paymsg.errors.SignatureError`, catching a
    key configured for the wrong bank code); when ``None`` the key signs for any sender.
    The per-signature nonce comes from :mod:`secrets`.
    """

    def __init__(
        self,
        private_key: str,
        *,
        sender: str | None = None,
        user_id: bytes = DEFAULT_SM2_USER_ID,
    ) -> None:
        text = private_key.strip()
        if len(text) != 64 or not _HEX.fullmatch(text):
            raise ConfigError("an SM2 private key must be 64 hex digits")
        d = int(text, 16)
        if not 1 <= d <= _N - 2:
            raise ConfigError("the SM2 private key is out of range (1 .. n-2)")
        self._d = d
        self._sender = sender
        self._user_id = _check_user_id(user_id)
        crypt = _gm_sm2.CryptSM2(private_key=f"{d:064x}", public_key="", ecc_table=_TABLE)
        self._public_xy: str = crypt._kg(d, _TABLE["g"])
        crypt.public_key = self._public_xy
        self._crypt = crypt

    @property
    def public_key(self) -> str:
        """The matching public key, 130 hex digits ``04`` || x || y."""
        return "04" + self._public_xy

    def sign(self, data: bytes, *, sender: str) -> bytes:
        if self._sender is not None and sender != self._sender:
            raise SignatureError(
                f"this SM2 key signs for participant {self._sender}, not for {sender}"
            )
        e = _digest(self._user_id, self._public_xy, data)
        while True:
            k = secrets.randbelow(_N - 1) + 1
            result = self._crypt.sign(e, f"{k:064x}")
            if result is not None:  # None: r == 0, r + k == n or s == 0 — pick another k
                break
        r, s = int(result[:64], 16), int(result[64:], 16)
        return bytes(DerSequence([r, s]).encode())

    def __repr__(self) -> str:  # never show the private key
        return f"SM2Signer(public_key={self.public_key[:18]}…, sender={self._sender!r})"


class SM2Verifier:
    """Software SM2 verifier with one public key per sending participant.

    ``public_keys`` maps the header ``OrigSender`` (participant code, e.g. ``313684093748``,
    or ``0000`` for the NPC) to its public key (128 hex digits x||y, optionally ``04``-
    prefixed). Signatures must be DER ``SEQUENCE { r, s }``.
    """

    def __init__(
        self,
        public_keys: Mapping[str, str] | None = None,
        *,
        user_id: bytes = DEFAULT_SM2_USER_ID,
    ) -> None:
        self._keys: dict[str, str] = {}
        self._user_id = _check_user_id(user_id)
        for sender, key in (public_keys or {}).items():
            self.add_key(sender, key)

    def add_key(self, sender: str, public_key: str) -> None:
        """Register (or replace) the public key of ``sender``."""
        self._keys[sender] = _public_xy(public_key, what=f"public key of sender {sender}")

    @property
    def senders(self) -> frozenset[str]:
        """Participants with a registered key."""
        return frozenset(self._keys)

    def verify(self, data: bytes, signature: bytes, *, sender: str) -> None:
        public_xy = self._keys.get(sender)
        if public_xy is None:
            raise ConfigError(
                f"no SM2 public key is configured for sender {sender}",
                hint="add it with SM2Verifier({sender: public_key_hex}) or .add_key()",
            )
        r, s = _decode_der_signature(signature)
        e = _digest(self._user_id, public_xy, data)
        if not _curve(public_xy).verify(f"{r:064x}{s:064x}", e):
            raise SignatureError(
                f"SM2 signature does not match the data and the public key of sender {sender}"
            )


def _decode_der_signature(signature: bytes) -> tuple[int, int]:
    try:
        sequence = DerSequence()
        sequence.decode(signature, strict=True, nr_elements=2, only_ints_expected=True)
        r, s = sequence[0], sequence[1]
        if not isinstance(r, int) or not isinstance(s, int):
            raise ValueError("not two integers")
        canonical = bytes(DerSequence([r, s]).encode()) == signature
    except (ValueError, TypeError, IndexError, EOFError) as exc:
        raise SignatureError("the signature is not a DER SEQUENCE of two INTEGERs (r, s)") from exc
    if not canonical:
        raise SignatureError("the signature is not in canonical DER form")
    if not (1 <= r < _N and 1 <= s < _N):
        raise SignatureError("the signature values (r, s) are out of range")
    return r, s


def generate_sm2_keypair() -> SM2KeyPair:
    """A fresh SM2 key pair for development and tests (private key from :mod:`secrets`)."""
    d = secrets.randbelow(_N - 2) + 1
    private_key = f"{d:064x}"
    return SM2KeyPair(private_key, SM2Signer(private_key).public_key)
