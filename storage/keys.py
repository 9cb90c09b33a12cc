"""Which key the stored data is under, checked at start-up before any turn can trip over a wrong one.

``store_meta`` holds the fingerprint of the key the data is under (``key_check``, recorded at the first
start) and, while a rotation is unfinished, the key it moves to (``rotation_target``). A start whose keys
(``LOANBRIDGE_SECRET_KEY`` and ``LOANBRIDGE_OLD_SECRET_KEYS``) do not include every recorded one stops
with one line: without it, existing users got tracebacks turn by turn and new users with correct details
were told they did not match. Start-up also seals rows written before sealing existed (migration 0004).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import Table, delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from dialogs.domain import FileRef
from storage import models
from storage.case_work import seal_file
from storage.crypto import FieldCipher, SecretKeyError
from storage.turns import legacy_document, seal_message

KEY_CHECK = "key_check"
ROTATION_TARGET = "rotation_target"
ROTATION_STARTED = "rotation_started"
CURSOR = "rotation:"
_LEGACY_BATCH = 500


@dataclass(frozen=True)
class SealedTable:
    """A table with encrypted columns: ``(column, associated data)`` pairs, and its integer primary key."""

    name: str
    key: str
    columns: tuple[tuple[str, str], ...]

    @property
    def table(self) -> Table:
        return models.Base.metadata.tables[self.name]


# Every encrypted column of the store (a test checks that no LargeBinary column is missing).
SEALED_TABLES = (
    SealedTable(
        "loans",
        "id",
        (
            ("borrower_name_enc", "loans.borrower_name"),
            ("id_number_enc", "loans.id_number"),
            ("phone_enc", "loans.phone"),
        ),
    ),
    SealedTable("hardships", "case_id", (("description_enc", "hardships.description"),)),
    SealedTable("finances", "case_id", (("figures_enc", "finances.figures"),)),
    SealedTable("conversations", "account_id", (("data_enc", "conversations.data"),)),
    SealedTable(
        "harassment_reports",
        "id",
        (("details_enc", "harassment_reports.details"), ("outcome_enc", "harassment_reports.outcome")),
    ),
    SealedTable("help_requests", "id", (("details_enc", "help_requests.details"),)),
    SealedTable("case_messages", "id", (("text_enc", "case_messages.text"),)),
    SealedTable(
        "blind_bids",
        "id",
        (
            ("borrower_bound_enc", "blind_bids.borrower_bound_enc"),
            ("lender_bound_enc", "blind_bids.lender_bound_enc"),
        ),
    ),
    SealedTable("outbox", "id", (("message_enc", "outbox.message"),)),
    SealedTable("evidence_files", "id", (("file_enc", "evidence_files.file"),)),
    SealedTable("wechat_tokens", "id", (("token_enc", "wechat_tokens.token"),)),
    SealedTable("wechat_followers", "id", (("choices_enc", "wechat_followers.choices"),)),
    SealedTable("payments", "id", (("dispute_reason_enc", "payments.dispute_reason"),)),
)


async def meta(session: AsyncSession) -> dict[str, str]:
    rows = await session.execute(select(models.StoreMeta.name, models.StoreMeta.value))
    return {name: value for name, value in rows}  # noqa: C416 - rows are Row objects, not pairs


async def set_meta(session: AsyncSession, name: str, value: str) -> None:
    table = models.StoreMeta
    if (await session.get(table, name)) is None:
        session.add(table(name=name, value=value))
    else:
        await session.execute(update(table).where(table.name == name).values(value=value))
    await session.flush()


async def forget_meta(session: AsyncSession, *names: str, prefix: str | None = None) -> None:
    table = models.StoreMeta
    condition = table.name.in_(names) if prefix is None else table.name.startswith(prefix)
    await session.execute(delete(table).where(condition))


async def check_key(session: AsyncSession, cipher: FieldCipher) -> None:
    """Refuse keys that cannot open the stored data; record the key at the first start."""
    recorded = await meta(session)
    if KEY_CHECK not in recorded:
        await _first_check(session, cipher)
        return
    missing = [fp for fp in _recorded_keys(recorded) if fp not in cipher.fingerprints]
    if missing:
        raise SecretKeyError(_mismatch(recorded, cipher, missing[0]))
    if recorded[KEY_CHECK] != cipher.fingerprint and recorded.get(ROTATION_TARGET) != cipher.fingerprint:
        # A new key with the old ones listed: from now on the data is mixed, so record where it is going;
        # a later start without the old keys is then refused instead of failing row by row.
        await set_meta(session, ROTATION_TARGET, cipher.fingerprint)


def _recorded_keys(recorded: dict[str, str]) -> list[str]:
    return [recorded[name] for name in (KEY_CHECK, ROTATION_TARGET) if name in recorded]


def _mismatch(recorded: dict[str, str], cipher: FieldCipher, missing: str) -> str:
    if recorded.get(ROTATION_TARGET) == cipher.fingerprint:
        return (
            f"a key rotation to this LOANBRIDGE_SECRET_KEY is unfinished: set LOANBRIDGE_OLD_SECRET_KEYS "
            f"to the previous key (fingerprint {missing[:8]}) and run `loanbridge keys rotate`"
        )
    return (
        f"LOANBRIDGE_SECRET_KEY does not match the key this database's data is encrypted with "
        f"(fingerprint {missing[:8]}, configured {cipher.fingerprint[:8]}): set that key, or to change keys "
        "list it in LOANBRIDGE_OLD_SECRET_KEYS and run `loanbridge keys rotate`"
    )


async def _first_check(session: AsyncSession, cipher: FieldCipher) -> None:
    """A database from before key checks may already hold data: record the key that opens it.

    That may be an old key (a weak key being rotated away at the upgrade): then the data is recorded
    under it, and the rotation to the current key is recorded as begun.
    """
    sample = await _any_sealed_value(session)
    under = cipher.fingerprint
    if sample is not None:
        try:
            under = cipher.fingerprint_of(*sample)
        except SecretKeyError:
            raise SecretKeyError(
                "LOANBRIDGE_SECRET_KEY does not open the data already in this database: set the key it "
                "was encrypted with"
            ) from None
    await set_meta(session, KEY_CHECK, under)
    if under != cipher.fingerprint:
        await set_meta(session, ROTATION_TARGET, cipher.fingerprint)


async def _any_sealed_value(session: AsyncSession) -> tuple[str, bytes] | None:
    for sealed in SEALED_TABLES:
        for column, associated in sealed.columns:
            field = sealed.table.c[column]
            blob = await session.scalar(select(field).where(field.is_not(None)).limit(1))
            if blob is not None:
                return associated, bytes(blob)
    return None


def sqlite_holds_keyed_data(database: Path) -> bool:
    """Whether a SQLite file already holds encrypted data or a key check (read-only; creates nothing)."""
    if not database.exists():
        return False
    # Names from the constants above, never from input.
    queries = [f"SELECT 1 FROM store_meta WHERE name = '{KEY_CHECK}'"] + [  # noqa: S608
        f"SELECT 1 FROM {s.name} WHERE {c} IS NOT NULL"  # noqa: S608
        for s in SEALED_TABLES
        for c, _ in s.columns
    ]
    connection = sqlite3.connect(f"{database.as_uri()}?mode=ro", uri=True)
    try:
        return any(_has_row(connection, query) for query in queries)
    finally:
        connection.close()


def _has_row(connection: sqlite3.Connection, query: str) -> bool:
    try:
        return connection.execute(query + " LIMIT 1").fetchone() is not None
    except sqlite3.OperationalError:  # no such table: a database older than that table, or empty
        return False


async def seal_legacy_rows(session: AsyncSession, cipher: FieldCipher) -> int:
    """Encrypt outbox messages and evidence names stored in plain text before migration 0004."""
    sealed = 0
    while count := await _seal_outbox(session, cipher) + await _seal_evidence(session, cipher):
        sealed += count
    return sealed


async def _seal_outbox(session: AsyncSession, cipher: FieldCipher) -> int:
    box = models.OutboxMessage
    query = select(box.id, box.context, box.buttons).where(box.message_enc.is_(None)).limit(_LEGACY_BATCH)
    rows: Sequence[Any] = (await session.execute(query)).all()
    for row in rows:
        document = legacy_document(row.context, row.buttons)
        values = {"message_enc": seal_message(cipher, document), "context": None, "buttons": None}
        await session.execute(update(box).where(box.id == row.id).values(**values))
    return len(rows)


async def _seal_evidence(session: AsyncSession, cipher: FieldCipher) -> int:
    files = models.EvidenceFile
    query = select(files).where(files.file_enc.is_(None)).limit(_LEGACY_BATCH)
    rows = list(await session.scalars(query))
    for row in rows:
        ref = FileRef(row.storage_ref or "", row.sha256, row.size_bytes, row.file_name, row.mime_type)
        row.file_enc, row.file_name, row.storage_ref = seal_file(cipher, ref), None, None
    await session.flush()
    return len(rows)
