"""Encryption at rest for personal data, and keyed hashes to find it without decrypting.

One secret (``LOANBRIDGE_SECRET_KEY``) yields two independent keys through HKDF: an AES-256-GCM key for
the ``*_enc`` columns and an HMAC-SHA256 key for the ``*_hash`` lookup columns. Each ciphertext is bound
to its column name (associated data), so a value copied into another column does not decrypt.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import logging
import os
import secrets
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from dialogs.errors import DomainError

log = logging.getLogger(__name__)

_VERSION = b"\x01"
_NONCE_BYTES = 12
MIN_SECRET_BYTES = 32


class SecretKeyError(DomainError):
    """The secret key is missing, too short, or does not open stored data."""


def _derive(secret: bytes, purpose: bytes) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=b"loanbridge/v1", info=purpose).derive(secret)


def decode_secret(text: str) -> bytes:
    """A secret given as URL-safe base64 (as generated) or, failing that, as raw text of 32+ bytes."""
    try:
        raw = base64.urlsafe_b64decode(text.encode("ascii") + b"=" * (-len(text) % 4))
    except (binascii.Error, UnicodeEncodeError, ValueError):
        raw = b""
    if len(raw) >= MIN_SECRET_BYTES:
        return raw
    if len(text.encode()) >= MIN_SECRET_BYTES:
        return text.encode()
    raise SecretKeyError(f"LOANBRIDGE_SECRET_KEY must hold at least {MIN_SECRET_BYTES} bytes of secret")


def generate_secret() -> str:
    return base64.urlsafe_b64encode(secrets.token_bytes(32)).decode("ascii").rstrip("=")


class FieldCipher:
    """Encrypts and decrypts personal-data fields; hashes normalised values for lookup."""

    def __init__(self, secret: bytes) -> None:
        if len(secret) < MIN_SECRET_BYTES:
            raise SecretKeyError(f"the secret key must be at least {MIN_SECRET_BYTES} bytes")
        self._aead = AESGCM(_derive(secret, b"field-encryption"))
        self._mac_key = _derive(secret, b"lookup-hash")

    def encrypt(self, column: str, plaintext: str) -> bytes:
        nonce = os.urandom(_NONCE_BYTES)
        return _VERSION + nonce + self._aead.encrypt(nonce, plaintext.encode("utf-8"), column.encode())

    def decrypt(self, column: str, blob: bytes) -> str:
        if blob[:1] != _VERSION:
            raise SecretKeyError(f"unknown encryption format in {column}")
        nonce, sealed = blob[1 : 1 + _NONCE_BYTES], blob[1 + _NONCE_BYTES :]
        try:
            return self._aead.decrypt(nonce, sealed, column.encode()).decode("utf-8")
        except InvalidTag:
            raise SecretKeyError(f"{column} does not decrypt with this LOANBRIDGE_SECRET_KEY") from None

    def lookup_hash(self, kind: str, normalised: str) -> str:
        """HMAC-SHA256 of a normalised value; ``kind`` keeps an ID number and a phone from colliding."""
        return hmac.new(self._mac_key, f"{kind}:{normalised}".encode(), hashlib.sha256).hexdigest()


def load_or_create_key(configured: str | None, key_file: Path | None) -> bytes:
    """The configured secret, or (development only) one kept in a 0600 file beside the database."""
    if configured:
        return decode_secret(configured)
    if key_file is None:
        raise SecretKeyError("LOANBRIDGE_SECRET_KEY is required when the database is not a local SQLite file")
    if key_file.exists():
        return decode_secret(key_file.read_text(encoding="ascii").strip())
    log.warning(
        "LOANBRIDGE_SECRET_KEY is not set: generated a development key in %s (mode 0600). "
        "Set LOANBRIDGE_SECRET_KEY in production, and keep this file: without it the data cannot be read.",
        key_file,
    )
    descriptor = os.open(key_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "w", encoding="ascii") as handle:
        handle.write(generate_secret() + "\n")
    return decode_secret(key_file.read_text(encoding="ascii").strip())
