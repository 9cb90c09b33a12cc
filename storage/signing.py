"""The platform's Ed25519 signing key, its public half and fingerprint, and signed tree heads of the case log.

API (for the log's storage side, the agreement document and the CLI)
--------------------------------------------------------------------
Setting ``LOANBRIDGE_SIGNING_KEY``: the 32-byte Ed25519 private key (seed) in URL-safe base64, as
``generate_signing_key()`` writes it (43 characters, padding optional), or an unencrypted PKCS#8 PEM
(``-----BEGIN PRIVATE KEY-----``; in a ``.env`` file or a variable holding the line breaks). In
development it is generated to a 0600 file beside the SQLite database, ``<db>.signing-key``, as the
secret key is to ``<db>.key``. It must never be the secret key (``LOANBRIDGE_SECRET_KEY``): the two are
checked apart, because a leaked encryption key must not also forge the platform's signature.

``decode_signing_key(text, name=...) -> Ed25519PrivateKey``   raises ``SigningKeyError`` naming ``name``.
``generate_signing_key() -> str``                              base64 of a fresh seed.
``load_or_create_signing_key(configured, key_file, *, secret, may_create=True) -> Signer``
    ``secret`` is the decoded secret key (bytes), refused if equal to the signing key.
``class Signer(private_key)``   ``.public_key``, ``.fingerprint`` (hex, 64 characters), ``.sign(message)``,
    ``.sign_head(size, root, at) -> bytes`` (fits ``storage.case_log.HeadSigner``), ``.public_pem()``.
``public_key_pem(public_key) -> str``          SubjectPublicKeyInfo PEM, what ``loanbridge audit key`` prints.
``load_public_key(text_or_bytes) -> Ed25519PublicKey``   PEM, or base64 of the 32 raw bytes.
``fingerprint(public_key) -> str``             SHA-256 of the raw 32-byte public key, lower-case hex.
``grouped(fingerprint) -> str``                "1a2b 3c4d …": 16 groups of 4 for reading aloud.
``verify_signature(public_key, signature, message) -> bool``

Signed tree heads
-----------------
``TreeHead(size, root, at)``: ``.encode()`` is the canonical bytes signed, a short text (so a person can
read what was signed)::

    LoanBridge case log tree head v1
    size: 1234
    root: <standard base64 of the 32-byte root>
    time: 2026-12-01T18:55:08.123456Z

(time in UTC to the microsecond, as ``storage.case_log.moment`` spells it; the root in standard base64
with padding). ``sign_head(signer, head) -> bytes`` and ``verify_head(public_key, head, signature) ->
bool``. Every signed message starts with its own first line, so a head's signature can never pass for
an agreement's or the reverse.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import logging
import os
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from dialogs.errors import DomainError

log = logging.getLogger(__name__)

SETTING = "LOANBRIDGE_SIGNING_KEY"
SEED_BYTES = 32
SIGNATURE_BYTES = 64
HEAD_TAG = "LoanBridge case log tree head v1"
_PEM_PRIVATE = "-----BEGIN PRIVATE KEY-----"
_PEM_PUBLIC = "-----BEGIN PUBLIC KEY-----"
HOW_TO_MAKE_ONE = (
    'make one with: python -c "import base64, secrets; '
    'print(base64.urlsafe_b64encode(secrets.token_bytes(32)).decode())"'
)


class SigningKeyError(DomainError):
    """The signing key (or a public key given to check with) is missing, malformed or not allowed."""


_URL_SAFE = str.maketrans("-_", "+/")


def _b64decode(text: str) -> bytes | None:
    """URL-safe or standard base64, padding optional, whitespace ignored; None if it is anything else
    (strict: a stray character is an error, not silently skipped)."""
    cleaned = "".join(text.split()).translate(_URL_SAFE)
    padded = cleaned + "=" * (-len(cleaned) % 4)
    try:
        return base64.b64decode(padded.encode("ascii"), validate=True)
    except (binascii.Error, UnicodeEncodeError, ValueError):
        return None


def decode_signing_key(text: str, *, name: str = SETTING) -> Ed25519PrivateKey:
    """The private key from base64 of its 32-byte seed, or from an unencrypted PKCS#8 PEM."""
    text = text.strip()
    if text.startswith(_PEM_PRIVATE):
        try:
            key = serialization.load_pem_private_key(text.encode("ascii"), password=None)
        except (ValueError, TypeError, UnicodeEncodeError):
            raise SigningKeyError(f"{name} is not a readable unencrypted PEM private key") from None
        if not isinstance(key, Ed25519PrivateKey):
            raise SigningKeyError(f"{name} must be an Ed25519 key, not {type(key).__name__}")
        return key
    seed = _b64decode(text)
    if seed is None or len(seed) != SEED_BYTES:
        raise SigningKeyError(
            f"{name} must be the base64 of a {SEED_BYTES}-byte Ed25519 key or a PEM private key; "
            + HOW_TO_MAKE_ONE
        )
    return Ed25519PrivateKey.from_private_bytes(seed)


def generate_signing_key() -> str:
    return base64.urlsafe_b64encode(secrets.token_bytes(SEED_BYTES)).decode("ascii").rstrip("=")


def _seed(key: Ed25519PrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.Raw, serialization.PrivateFormat.Raw, serialization.NoEncryption()
    )


def raw_public(key: Ed25519PublicKey) -> bytes:
    return key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


def fingerprint(key: Ed25519PublicKey) -> str:
    """SHA-256 of the raw public key, hex: what names the key in heads and documents."""
    return hashlib.sha256(raw_public(key)).hexdigest()


def grouped(fingerprint_hex: str) -> str:
    """The fingerprint in groups of four, so two people can compare it over the phone."""
    return " ".join(fingerprint_hex[i : i + 4] for i in range(0, len(fingerprint_hex), 4))


def public_key_pem(key: Ed25519PublicKey) -> str:
    return key.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    ).decode("ascii")


def load_public_key(data: str | bytes, *, name: str = "the public key") -> Ed25519PublicKey:
    """An Ed25519 public key from PEM (``loanbridge audit key``'s output) or base64 of its 32 raw bytes."""
    text = data.decode("utf-8", "replace") if isinstance(data, bytes) else data
    text = text.strip()
    if _PEM_PUBLIC in text:
        pem = text[text.index(_PEM_PUBLIC) :]
        try:
            key = serialization.load_pem_public_key(pem.encode("ascii"))
        except (ValueError, TypeError, UnicodeEncodeError):
            raise SigningKeyError(f"{name} is not a readable PEM public key") from None
        if not isinstance(key, Ed25519PublicKey):
            raise SigningKeyError(f"{name} must be an Ed25519 key, not {type(key).__name__}")
        return key
    raw = _b64decode(text)
    if raw is None or len(raw) != SEED_BYTES:
        raise SigningKeyError(f"{name} must be a PEM public key or the base64 of 32 raw bytes")
    return Ed25519PublicKey.from_public_bytes(raw)


def verify_signature(key: Ed25519PublicKey, signature: bytes, message: bytes) -> bool:
    if len(signature) != SIGNATURE_BYTES:
        return False
    try:
        key.verify(signature, message)
    except InvalidSignature:
        return False
    return True


@dataclass(frozen=True)
class TreeHead:
    """What a signed tree head states: the log had ``size`` entries with root hash ``root`` at ``at``."""

    size: int
    root: bytes
    at: datetime

    def __post_init__(self) -> None:
        if self.size < 0:
            raise ValueError("a tree size is never negative")
        if len(self.root) != 32:
            raise ValueError("a root hash is 32 bytes")
        if self.at.tzinfo is None:
            raise ValueError("a tree head's time must be aware (UTC)")

    def encode(self) -> bytes:
        """The canonical bytes the signature covers (see the module docstring)."""
        return (
            f"{HEAD_TAG}\n"
            f"size: {self.size}\n"
            f"root: {base64.b64encode(self.root).decode('ascii')}\n"
            f"time: {moment(self.at)}\n"
        ).encode("ascii")


def moment(at: datetime) -> str:
    """UTC to the microsecond, one spelling everywhere (the same as the log entries')."""
    return at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def parse_moment(text: str) -> datetime:
    """The inverse of :func:`moment`; ValueError for anything else."""
    return datetime.strptime(text, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=UTC)


class Signer:
    """The platform's private key: signs tree heads and agreement documents."""

    def __init__(self, key: Ed25519PrivateKey) -> None:
        self._key = key
        self.public_key = key.public_key()
        self.fingerprint = fingerprint(self.public_key)

    def sign(self, message: bytes) -> bytes:
        return self._key.sign(message)

    def sign_head(self, size: int, root: bytes, at: datetime) -> bytes:
        return self.sign(TreeHead(size, root, at).encode())

    def public_pem(self) -> str:
        return public_key_pem(self.public_key)


def sign_head(signer: Signer, head: TreeHead) -> bytes:
    return signer.sign(head.encode())


def verify_head(key: Ed25519PublicKey, head: TreeHead, signature: bytes) -> bool:
    return verify_signature(key, signature, head.encode())


def _refuse_secret_key(key: Ed25519PrivateKey, configured_text: str | None, secret: bytes | None) -> None:
    seed = _seed(key)
    if secret is not None and (seed == secret or (configured_text or "").strip().encode() == secret):
        raise SigningKeyError(
            f"{SETTING} must not be the secret key (LOANBRIDGE_SECRET_KEY): give the signing key its own "
            "value; " + HOW_TO_MAKE_ONE
        )


def load_or_create_signing_key(
    configured: str | None, key_file: Path | None, *, secret: bytes | None, may_create: bool = True
) -> Signer:
    """The configured signing key, or (development only) one kept in a 0600 file beside the database.

    ``may_create=False`` when the database already holds signed heads: a new key would sign a log whose
    earlier heads it never signed, and a missing key file must be restored, not silently replaced.
    """
    if configured:
        key = decode_signing_key(configured)
        _refuse_secret_key(key, configured, secret)
        return Signer(key)
    if key_file is None:
        raise SigningKeyError(f"{SETTING} is required when the database is not a local SQLite file")
    if key_file.exists():
        text = key_file.read_text(encoding="ascii")
        key = decode_signing_key(text, name=f"the signing key in {key_file}")
        _refuse_secret_key(key, text, secret)
        return Signer(key)
    if not may_create:
        raise SigningKeyError(
            f"the case log holds signed tree heads but the signing key file {key_file} is missing: restore "
            f"it, or set {SETTING} to the key that signed them"
        )
    log.warning(
        "%s is not set: generated a development signing key in %s (mode 0600). Set %s in production, "
        "and keep this file: the published tree heads and signed agreements are checked against it.",
        SETTING,
        key_file,
        SETTING,
    )
    descriptor = os.open(key_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "w", encoding="ascii") as handle:
        handle.write(generate_signing_key() + "\n")
    return Signer(decode_signing_key(key_file.read_text(encoding="ascii"), name=str(key_file)))
