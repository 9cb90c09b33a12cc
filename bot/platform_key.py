"""The deployment's signing key from its settings: ``LOANBRIDGE_SIGNING_KEY``, or in development a 0600 file
beside the SQLite database (``<db>.signing-key``), as the secret key lives in ``<db>.key``.

``build_signer(settings) -> Signer``          for the sequencer (tree heads) and signed agreements; creates
                                              the development key on first use unless the database
                                              already holds signed heads (then the file must be restored).
``deployment_public_key(settings) -> Ed25519PublicKey``   what ``loanbridge verify`` checks with when no
                                              ``--key`` is given; never creates a key.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from bot.settings import Settings
from storage.crypto import decode_secret
from storage.db import sqlite_file
from storage.signing import SETTING, Signer, SigningKeyError, load_or_create_signing_key

HEADS_TABLE = "case_log_heads"


def signing_key_file_for(settings: Settings) -> Path | None:
    """Where a development signing key lives (none for PostgreSQL: set LOANBRIDGE_SIGNING_KEY)."""
    database = sqlite_file(settings.database_url)
    return database.with_name(database.name + ".signing-key") if database else None


def _secret(settings: Settings) -> bytes | None:
    """The secret key as configured or kept beside the database, only to refuse it as the signing key."""
    if settings.secret_key is not None:
        return decode_secret(settings.secret_key.get_secret_value())
    database = sqlite_file(settings.database_url)
    key_file = database.with_name(database.name + ".key") if database else None
    if key_file is not None and key_file.exists():
        return decode_secret(key_file.read_text(encoding="ascii"), name=f"the key in {key_file}")
    return None


def _holds_signed_heads(settings: Settings) -> bool:
    database = sqlite_file(settings.database_url)
    if database is None or not database.exists():
        return False
    connection = sqlite3.connect(f"{database.as_uri()}?mode=ro", uri=True)
    try:
        # A constant table name, never input.
        return connection.execute(f"SELECT 1 FROM {HEADS_TABLE} LIMIT 1").fetchone() is not None  # noqa: S608
    except sqlite3.OperationalError:  # no such table yet: a database older than the case log
        return False
    finally:
        connection.close()


def build_signer(settings: Settings) -> Signer:
    configured = settings.signing_key.get_secret_value() if settings.signing_key else None
    key_file = signing_key_file_for(settings)
    may_create = configured is not None or key_file is None or not _holds_signed_heads(settings)
    return load_or_create_signing_key(configured, key_file, secret=_secret(settings), may_create=may_create)


def deployment_public_key(settings: Settings) -> Ed25519PublicKey:
    """The public half of the configured signing key; SigningKeyError if this deployment has none yet."""
    configured = settings.signing_key.get_secret_value() if settings.signing_key else None
    key_file = signing_key_file_for(settings)
    if configured is None and (key_file is None or not key_file.exists()):
        raise SigningKeyError(
            f"no signing key here ({SETTING} is not set and there is no development key file): "
            "give the platform's public key with --key"
        )
    return load_or_create_signing_key(configured, key_file, secret=None, may_create=False).public_key
