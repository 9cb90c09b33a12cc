"""The one composition root: settings in, a wired application out. Nothing connects at import time."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from bot.settings import Settings
from storage.crypto import FieldCipher, load_or_create_key
from storage.db import create_engine, sqlite_file
from storage.migrate import require_current
from storage.store import SqlStore


def key_file_for(settings: Settings) -> Path | None:
    """Where a development key lives: beside the SQLite database (none for PostgreSQL: set the secret)."""
    database = sqlite_file(settings.database_url)
    return database.with_name(database.name + ".key") if database else None


def build_cipher(settings: Settings) -> FieldCipher:
    configured = settings.secret_key.get_secret_value() if settings.secret_key else None
    return FieldCipher(load_or_create_key(configured, key_file_for(settings)))


def build_store(settings: Settings) -> SqlStore:
    return SqlStore(
        create_engine(settings.database_url), build_cipher(settings), default_time_zone=settings.timezone
    )


@asynccontextmanager
async def opened_store(settings: Settings) -> AsyncIterator[SqlStore]:
    """A store on an up-to-date database, closed when the block ends."""
    store = build_store(settings)
    try:
        await require_current(store.engine)
        yield store
    finally:
        await store.close()
