"""Key rotation: every encrypted value re-encrypted under the new key, in batches, resumable.

Run with ``LOANBRIDGE_SECRET_KEY`` = the new key and ``LOANBRIDGE_OLD_SECRET_KEYS`` = the old one(s): the
old keys keep opening what they sealed until the rotation finishes, so the service runs on meanwhile. Each
batch re-encrypts the rows after its table's cursor and advances the cursor in the same transaction, so an
interrupted rotation resumes where it stopped and never redoes or skips a row.

Lookup hashes (ID number, phone) are recomputed under the new key from the decrypted values, rather than
kept under a lookup key that never rotates: an ID number has too few possible values for its hash to stay
safe once a leaked key is retired. Invite codes are stored only as a hash and cannot be recomputed: the
unused ones issued before the rotation are expired when it finishes (the command says how many).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select, update

from storage import models
from storage.crypto import FieldCipher
from storage.keys import (
    CURSOR,
    KEY_CHECK,
    ROTATION_STARTED,
    ROTATION_TARGET,
    SEALED_TABLES,
    SealedTable,
    check_key,
    forget_meta,
    meta,
    set_meta,
)
from storage.store import SqlStore

DEFAULT_BATCH = 200


@dataclass
class Rotation:
    """What a run of :func:`rotate` did; ``finished`` False when it stopped at ``max_batches``."""

    finished: bool = False
    rows: int = 0
    values: int = 0
    invites_expired: int = 0
    already_current: bool = False


async def rotate(
    store: SqlStore, *, batch_size: int = DEFAULT_BATCH, max_batches: int | None = None
) -> Rotation:
    """Re-encrypt everything under the store's current key; call again to resume an unfinished run."""
    result = Rotation()
    if not await _begin(store):
        result.finished = result.already_current = True
        return result
    batches = 0
    for sealed in SEALED_TABLES:
        while max_batches is None or batches < max_batches:
            batches += 1
            rows, values = await _rotate_batch(store, sealed, batch_size)
            result.rows, result.values = result.rows + rows, result.values + values
            if rows < batch_size:
                break
        else:  # the loop ran out of batches before the table did: stop here, resume next run
            return result
    result.invites_expired = await _finish(store)
    result.finished = True
    return result


async def _begin(store: SqlStore) -> bool:
    """Check the keys, record the rotation's start; False when the data is already under this key."""
    async with store.unit() as session:
        await check_key(session, store.cipher)
        recorded = await meta(session)
        if recorded[KEY_CHECK] == store.cipher.fingerprint and ROTATION_TARGET not in recorded:
            return False
        await set_meta(session, ROTATION_TARGET, store.cipher.fingerprint)
        if ROTATION_STARTED not in recorded:
            await set_meta(session, ROTATION_STARTED, store.clock.now().isoformat())
        return True


async def _rotate_batch(store: SqlStore, sealed: SealedTable, batch_size: int) -> tuple[int, int]:
    """One transaction: the next rows after the cursor re-encrypted, and the cursor moved past them."""
    table, cipher = sealed.table, store.cipher
    key = table.c[sealed.key]
    names = [column for column, _ in sealed.columns]
    async with store.unit() as session:
        cursor = int((await meta(session)).get(CURSOR + sealed.name, "0"))
        query = select(key, *(table.c[n] for n in names)).where(key > cursor).order_by(key).limit(batch_size)
        if store.engine.dialect.name == "postgresql":
            query = query.with_for_update()  # a running service may write these rows meanwhile
        rows = (await session.execute(query)).all()
        values = 0
        for row in rows:
            changes = _reencrypted(cipher, sealed, row)
            if changes:
                values += sum(1 for column in changes if column.endswith("_enc"))
                await session.execute(update(table).where(key == row[0]).values(**changes))
        if rows:
            await set_meta(session, CURSOR + sealed.name, str(rows[-1][0]))
        return len(rows), values


def _reencrypted(cipher: FieldCipher, sealed: SealedTable, row: Any) -> dict[str, Any]:
    """The row's values not yet under the current key, re-encrypted (and a loan's lookup hashes)."""
    plain = {
        column: cipher.decrypt(associated, bytes(row[index]))
        for index, (column, associated) in enumerate(sealed.columns, start=1)
        if row[index] is not None
    }
    changes: dict[str, Any] = {
        column: cipher.encrypt(associated, plain[column])
        for index, (column, associated) in enumerate(sealed.columns, start=1)
        if row[index] is not None and not cipher.is_current(bytes(row[index]))
    }
    if sealed.name == "loans" and changes:
        # Hashed exactly as the import hashes them (the stored values are already normalised).
        changes["id_number_hash"] = cipher.lookup_hash("id_number", plain["id_number_enc"])
        changes["phone_hash"] = cipher.lookup_hash("phone", plain["phone_enc"])
    return changes


async def _finish(store: SqlStore) -> int:
    """All data is under the new key: record it, forget the progress, expire invites no key can find."""
    async with store.unit() as session:
        started = datetime.fromisoformat((await meta(session))[ROTATION_STARTED])
        invite = models.Invite
        expired = await session.execute(
            update(invite)
            .where(invite.used_at.is_(None), invite.expires_at > started, invite.created_at <= started)
            .values(expires_at=started)
        )
        await set_meta(session, KEY_CHECK, store.cipher.fingerprint)
        await forget_meta(session, ROTATION_TARGET, ROTATION_STARTED)
        await forget_meta(session, prefix=CURSOR)
        return int(getattr(expired, "rowcount", 0) or 0)
