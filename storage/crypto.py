"""Encryption at rest for personal data, and keyed hashes to find it without decrypting.

One secret (``LOANBRIDGE_SECRET_KEY``) yields independent keys through HKDF: an AES-256-GCM key for the
``*_enc`` columns, an HMAC-SHA256 key for the ``*_hash`` lookup columns, and a fingerprint that names the
key without revealing it. Each ciphertext is bound to its column name (associated data), so a value copied
into another column does not decrypt, and carries the first bytes of its key's fingerprint (the key id),
so that during a key rotation the old keys (``LOANBRIDGE_OLD_SECRET_KEYS``) still open what they sealed
while everything new is sealed under the new key.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import logging
import math
import os
import secrets
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from dialogs.errors import DomainError

log = logging.getLogger(__name__)

_LEGACY = b"\x01"  # version, nonce, sealed: written before ciphertexts named their key
_KEYED = b"\x02"  # version, key id, nonce, sealed
_KEY_ID_BYTES = 4
_NONCE_BYTES = 12
MIN_SECRET_BYTES = 32
# A secret typed by a person must look random: enough different characters, and enough of them. A
# generated one (token_urlsafe(32): 43 characters of 64) clears both by far; 'a'*32, 'password'*4 or a
# 32-character hex string with little variety do not.
MIN_DISTINCT_CHARACTERS = 12
MIN_ESTIMATED_BITS = 128
HOW_TO_MAKE_ONE = 'make one with: python -c "import secrets; print(secrets.token_urlsafe(32))"'


class SecretKeyError(DomainError):
    """The secret key is missing, weak, or does not open stored data."""


def _derive(secret: bytes, purpose: bytes) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=b"loanbridge/v1", info=purpose).derive(secret)


def _estimated_bits(text: str) -> float:
    """Length times the empirical entropy of the characters: a cheap bound that low-variety text fails."""
    counts, total = Counter(text), len(text)
    return -sum(n * math.log2(n / total) for n in counts.values())


def check_strength(text: str, name: str = "LOANBRIDGE_SECRET_KEY") -> None:
    """Refuse a secret a person could guess or that has too little variety to be random."""
    if len(set(text)) < MIN_DISTINCT_CHARACTERS or _estimated_bits(text) < MIN_ESTIMATED_BITS:
        raise SecretKeyError(f"{name} is too weak (too short or too little variety); {HOW_TO_MAKE_ONE}")


def decode_secret(text: str, *, name: str = "LOANBRIDGE_SECRET_KEY", strong: bool = True) -> bytes:
    """A secret given as URL-safe base64 (as generated) or, failing that, as raw text of 32+ bytes.

    ``strong=False`` only for keys being rotated away from, which may be weak: that is why they go.
    """
    text = text.strip()
    if len(text.encode()) < MIN_SECRET_BYTES:
        raise SecretKeyError(
            f"{name} must hold at least {MIN_SECRET_BYTES} bytes of secret; {HOW_TO_MAKE_ONE}"
        )
    if strong:
        check_strength(text, name)
    try:
        raw = base64.urlsafe_b64decode(text.encode("ascii") + b"=" * (-len(text) % 4))
    except (binascii.Error, UnicodeEncodeError, ValueError):
        raw = b""
    return raw if len(raw) >= MIN_SECRET_BYTES else text.encode()


def generate_secret() -> str:
    return base64.urlsafe_b64encode(secrets.token_bytes(32)).decode("ascii").rstrip("=")


@dataclass(frozen=True)
class _Key:
    aead: AESGCM
    mac_key: bytes
    fingerprint: str

    @property
    def key_id(self) -> bytes:
        return bytes.fromhex(self.fingerprint)[:_KEY_ID_BYTES]

    @classmethod
    def derive(cls, secret: bytes) -> _Key:
        if len(secret) < MIN_SECRET_BYTES:
            raise SecretKeyError(f"the secret key must be at least {MIN_SECRET_BYTES} bytes")
        return cls(
            AESGCM(_derive(secret, b"field-encryption")),
            _derive(secret, b"lookup-hash"),
            _derive(secret, b"key-fingerprint").hex(),
        )


class FieldCipher:
    """Encrypts and decrypts personal-data fields; hashes normalised values for lookup.

    Seals under ``secret``; opens what ``secret`` or any of ``old_secrets`` sealed (a rotation under way).
    """

    def __init__(self, secret: bytes, old_secrets: Sequence[bytes] = ()) -> None:
        self._current = _Key.derive(secret)
        self._keys = [self._current, *(_Key.derive(old) for old in old_secrets)]
        self._by_id = {key.key_id: key for key in reversed(self._keys)}

    @property
    def fingerprint(self) -> str:
        """Names the current key (HKDF output: reveals nothing about the secret)."""
        return self._current.fingerprint

    @property
    def fingerprints(self) -> tuple[str, ...]:
        """The current key's fingerprint first, then the old keys'."""
        return tuple(key.fingerprint for key in self._keys)

    def encrypt(self, column: str, plaintext: str) -> bytes:
        nonce = os.urandom(_NONCE_BYTES)
        sealed = self._current.aead.encrypt(nonce, plaintext.encode("utf-8"), column.encode())
        return _KEYED + self._current.key_id + nonce + sealed

    def decrypt(self, column: str, blob: bytes) -> str:
        version = blob[:1]
        if version == _KEYED:
            key_id, rest = blob[1 : 1 + _KEY_ID_BYTES], blob[1 + _KEY_ID_BYTES :]
            key = self._by_id.get(key_id)
            if key is None:
                raise SecretKeyError(
                    f"{column} does not decrypt with this LOANBRIDGE_SECRET_KEY "
                    f"(it was encrypted with another key, id {key_id.hex()})"
                )
            return self._open(key, column, rest)
        if version == _LEGACY:
            for key in self._keys:  # no key id: whichever key opens it
                try:
                    return self._open(key, column, blob[1:])
                except SecretKeyError:
                    continue
            raise SecretKeyError(f"{column} does not decrypt with this LOANBRIDGE_SECRET_KEY")
        raise SecretKeyError(f"unknown encryption format in {column}")

    def fingerprint_of(self, column: str, blob: bytes) -> str:
        """The fingerprint of the configured key that opens ``blob`` (SecretKeyError if none does)."""
        if blob[:1] == _KEYED and (key := self._by_id.get(blob[1 : 1 + _KEY_ID_BYTES])) is not None:
            self._open(key, column, blob[1 + _KEY_ID_BYTES :])
            return key.fingerprint
        for key in self._keys:
            try:
                self._open(key, column, blob[1:])
            except SecretKeyError:
                continue
            return key.fingerprint
        raise SecretKeyError(f"{column} does not decrypt with this LOANBRIDGE_SECRET_KEY")

    def is_current(self, blob: bytes) -> bool:
        """Sealed under the current key (nothing left to rotate)."""
        return blob[:1] == _KEYED and blob[1 : 1 + _KEY_ID_BYTES] == self._current.key_id

    def lookup_hash(self, kind: str, normalised: str) -> str:
        """HMAC-SHA256 of a normalised value; ``kind`` keeps an ID number and a phone from colliding."""
        return _mac(self._current.mac_key, kind, normalised)

    def lookup_hashes(self, kind: str, normalised: str) -> list[str]:
        """The value's hash under every configured key: rows not yet rotated are still found."""
        return [_mac(key.mac_key, kind, normalised) for key in self._keys]

    @staticmethod
    def _open(key: _Key, column: str, rest: bytes) -> str:
        nonce, sealed = rest[:_NONCE_BYTES], rest[_NONCE_BYTES:]
        try:
            return key.aead.decrypt(nonce, sealed, column.encode()).decode("utf-8")
        except InvalidTag:
            raise SecretKeyError(f"{column} does not decrypt with this LOANBRIDGE_SECRET_KEY") from None


def _mac(key: bytes, kind: str, normalised: str) -> str:
    return hmac.new(key, f"{kind}:{normalised}".encode(), hashlib.sha256).hexdigest()


def load_or_create_key(configured: str | None, key_file: Path | None, *, may_create: bool = True) -> bytes:
    """The configured secret, or (development only) one kept in a 0600 file beside the database.

    ``may_create=False`` when the database already holds encrypted data: a fresh key could not read it,
    and would mix two keys in one database for ever.
    """
    if configured:
        return decode_secret(configured)
    if key_file is None:
        raise SecretKeyError("LOANBRIDGE_SECRET_KEY is required when the database is not a local SQLite file")
    if key_file.exists():
        return decode_secret(key_file.read_text(encoding="ascii"), name=f"the key in {key_file}")
    if not may_create:
        raise SecretKeyError(
            f"the database holds encrypted data but its key file {key_file} is missing: restore it, "
            "or set LOANBRIDGE_SECRET_KEY to the key the data was encrypted with"
        )
    log.warning(
        "LOANBRIDGE_SECRET_KEY is not set: generated a development key in %s (mode 0600). "
        "Set LOANBRIDGE_SECRET_KEY in production, and keep this file: without it the data cannot be read.",
        key_file,
    )
    descriptor = os.open(key_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "w", encoding="ascii") as handle:
        handle.write(generate_secret() + "\n")
    return decode_secret(key_file.read_text(encoding="ascii"))
