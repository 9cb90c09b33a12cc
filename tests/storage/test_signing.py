"""The platform's signing key and its signed tree heads: configured or generated, never the secret key."""

from __future__ import annotations

import base64
import hashlib
import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.platform_key import build_signer, deployment_public_key, signing_key_file_for
from bot.settings import SettingsError, load_settings
from storage.crypto import decode_secret, generate_secret
from storage.signing import (
    Signer,
    SigningKeyError,
    TreeHead,
    decode_signing_key,
    fingerprint,
    generate_signing_key,
    grouped,
    load_or_create_signing_key,
    load_public_key,
    parse_moment,
    raw_public,
    sign_head,
    verify_head,
)

AT = datetime(2026, 12, 1, 18, 55, 8, 123456, tzinfo=UTC)
ROOT = bytes(range(32))


def pem_of(key: Ed25519PrivateKey) -> str:
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()


def test_the_key_is_read_from_base64_or_pem_and_both_name_one_key():
    text = generate_signing_key()
    key = decode_signing_key(text)
    assert decode_signing_key(text + "=").public_key() == key.public_key()  # padding optional
    assert fingerprint(decode_signing_key(pem_of(key)).public_key()) == fingerprint(key.public_key())


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("too short", "must be the base64 of a 32-byte Ed25519 key"),
        (base64.b64encode(bytes(31)).decode(), "must be the base64 of a 32-byte Ed25519 key"),
        # A stray character is an error, not skipped (lenient base64 would read the 32 bytes around it).
        (
            base64.b64encode(bytes(32)).decode()[:20] + "!" + base64.b64encode(bytes(32)).decode()[20:],
            "base64",
        ),
        ("-----BEGIN PRIVATE KEY-----\nnonsense\n-----END PRIVATE KEY-----", "not a readable"),
    ],
)
def test_a_malformed_key_is_refused_naming_the_setting(text, says):
    with pytest.raises(SigningKeyError, match="LOANBRIDGE_SIGNING_KEY") as raised:
        decode_signing_key(text)
    assert says in str(raised.value)


def test_another_kind_of_key_is_refused():
    other_key = ec.generate_private_key(ec.SECP256R1())
    pem = other_key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    with pytest.raises(SigningKeyError, match="must be an Ed25519 key"):
        decode_signing_key(pem)
    public_pem = other_key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    with pytest.raises(SigningKeyError, match="must be an Ed25519 key"):
        load_public_key(public_pem)


def test_a_bad_setting_stops_start_up_in_one_line(monkeypatch):
    monkeypatch.setenv("LOANBRIDGE_SIGNING_KEY", "not-a-key")
    with pytest.raises(SettingsError, match=r"^LOANBRIDGE_SIGNING_KEY: must be the base64"):
        load_settings()


def test_the_development_key_is_generated_once_beside_the_database(tmp_path, caplog):
    key_file = tmp_path / "lb.db.signing-key"
    first = load_or_create_signing_key(None, key_file, secret=None)
    assert key_file.stat().st_mode & 0o777 == 0o600
    assert "generated a development signing key" in caplog.text
    again = load_or_create_signing_key(None, key_file, secret=None)
    assert again.fingerprint == first.fingerprint
    assert key_file.read_text().strip() not in caplog.text  # the seed itself never reaches the log


def test_the_signing_key_must_not_be_the_secret_key(tmp_path):
    secret_text = generate_secret()  # the same form as a signing key: 32 bytes in URL-safe base64
    secret = decode_secret(secret_text)
    with pytest.raises(SigningKeyError, match="must not be the secret key"):
        load_or_create_signing_key(secret_text, None, secret=secret)
    key_file = tmp_path / "lb.db.signing-key"
    key_file.write_text(secret_text + "\n")
    with pytest.raises(SigningKeyError, match="must not be the secret key"):
        load_or_create_signing_key(None, key_file, secret=secret)
    assert load_or_create_signing_key(generate_signing_key(), None, secret=secret)


def test_without_a_database_file_the_key_must_be_set():
    with pytest.raises(SigningKeyError, match="LOANBRIDGE_SIGNING_KEY is required"):
        load_or_create_signing_key(None, None, secret=None)


def _settings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, **env: str):
    for name in ("LOANBRIDGE_SECRET_KEY", "LOANBRIDGE_SIGNING_KEY"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("LOANBRIDGE_DATABASE_URL", f"sqlite:///{tmp_path / 'lb.db'}")
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    return load_settings()


def test_the_deployment_refuses_its_secret_key_file_as_signing_key(tmp_path, monkeypatch):
    settings = _settings(tmp_path, monkeypatch)
    secret_text = generate_secret()
    (tmp_path / "lb.db.key").write_text(secret_text + "\n")
    monkeypatch.setenv("LOANBRIDGE_SIGNING_KEY", secret_text)
    with pytest.raises(SigningKeyError, match="must not be the secret key"):
        build_signer(load_settings())
    assert signing_key_file_for(settings) == tmp_path / "lb.db.signing-key"


def test_a_lost_key_file_is_not_silently_replaced_once_heads_are_signed(tmp_path, monkeypatch):
    settings = _settings(tmp_path, monkeypatch)
    with pytest.raises(SigningKeyError, match="give the platform's public key with --key"):
        deployment_public_key(settings)  # verifying never creates a key
    assert not (tmp_path / "lb.db.signing-key").exists()
    signer = build_signer(settings)
    assert deployment_public_key(settings) == signer.public_key
    with sqlite3.connect(tmp_path / "lb.db") as connection:
        connection.execute("CREATE TABLE case_log_heads (tree_size INTEGER)")
        connection.execute("INSERT INTO case_log_heads VALUES (1)")
    (tmp_path / "lb.db.signing-key").unlink()
    with pytest.raises(SigningKeyError, match="holds signed tree heads but the signing key file"):
        build_signer(settings)
    configured = _settings(tmp_path, monkeypatch, LOANBRIDGE_SIGNING_KEY=generate_signing_key())
    assert build_signer(configured)  # a configured key is the operator's choice


def test_the_fingerprint_is_the_sha256_of_the_raw_public_key_in_groups():
    key = Ed25519PrivateKey.from_private_bytes(bytes(32)).public_key()
    hexed = fingerprint(key)
    assert hexed == hashlib.sha256(raw_public(key)).hexdigest()
    shown = grouped(hexed)
    assert len(shown.split(" ")) == 16 and all(len(group) == 4 for group in shown.split(" "))
    assert shown.replace(" ", "") == hexed


def test_the_public_key_travels_as_pem_or_base64():
    signer = Signer(Ed25519PrivateKey.generate())
    assert signer.public_pem().startswith("-----BEGIN PUBLIC KEY-----")
    assert fingerprint(load_public_key(signer.public_pem())) == signer.fingerprint
    assert fingerprint(load_public_key("SHA-256 fingerprint …\n" + signer.public_pem())) == signer.fingerprint
    raw = base64.b64encode(raw_public(signer.public_key))
    assert fingerprint(load_public_key(raw)) == signer.fingerprint


def test_a_tree_head_encodes_as_readable_canonical_text():
    head = TreeHead(1234, ROOT, AT)
    assert head.encode() == (
        b"LoanBridge case log tree head v1\n"
        b"size: 1234\n"
        b"root: AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=\n"
        b"time: 2026-12-01T18:55:08.123456Z\n"
    )
    # The same moment in another zone is the same head.
    assert TreeHead(1234, ROOT, AT.astimezone(ZoneInfo("Asia/Shanghai"))).encode() == head.encode()
    assert parse_moment("2026-12-01T18:55:08.123456Z") == AT
    with pytest.raises(ValueError, match="aware"):
        TreeHead(1, ROOT, datetime(2026, 12, 1))  # a naive time: refused
    with pytest.raises(ValueError, match="32 bytes"):
        TreeHead(1, b"short", AT)


def test_a_signed_head_verifies_only_as_signed_and_only_with_its_key():
    signer = Signer(Ed25519PrivateKey.generate())
    head = TreeHead(1234, ROOT, AT)
    signature = sign_head(signer, head)
    assert signature == signer.sign_head(1234, ROOT, AT)
    assert verify_head(signer.public_key, head, signature)
    assert not verify_head(signer.public_key, TreeHead(1235, ROOT, AT), signature)
    assert not verify_head(signer.public_key, TreeHead(1234, ROOT[::-1], AT), signature)
    assert not verify_head(signer.public_key, TreeHead(1234, ROOT, AT + timedelta(microseconds=1)), signature)
    assert not verify_head(Ed25519PrivateKey.generate().public_key(), head, signature)
    assert not verify_head(signer.public_key, head, signature[:-1])


@settings(max_examples=100, deadline=None)
@given(st.integers(0, 63), st.integers(1, 255))
def test_a_flipped_byte_of_a_head_signature_fails(position, mask):
    signature = bytearray(SIGNER.sign_head(7, ROOT, AT))
    signature[position] ^= mask
    assert not verify_head(SIGNER.public_key, TreeHead(7, ROOT, AT), bytes(signature))


SIGNER = Signer(Ed25519PrivateKey.generate())
