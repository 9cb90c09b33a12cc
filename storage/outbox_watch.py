"""Waking delivery when another process commits outbox rows (two terminals on one store, several servers).

A process delivers what its own turns commit at once; rows another process commits for someone this one
reaches are found by watching the outbox: on PostgreSQL the committing transaction sends ``NOTIFY`` and a
listening connection wakes delivery at once; on SQLite (no notifications across processes) delivery
looks at the outbox's newest row id, a primary-key lookup, a few times a second.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

from sqlalchemy import func, select, text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from storage import models

CHANNEL = "loanbridge_outbox"


async def announce(session: AsyncSession) -> None:
    """Tell listening processes, on commit, that outbox rows were written (PostgreSQL; else nothing)."""
    if session.get_bind().dialect.name == "postgresql":
        await session.execute(text(f"NOTIFY {CHANNEL}"))


async def latest_id(session: AsyncSession) -> int:
    """The outbox's newest row id (0 when empty): it moves whenever any process writes a message."""
    return int(await session.scalar(select(func.max(models.OutboxMessage.id))) or 0)


@asynccontextmanager
async def notices(engine: AsyncEngine, wake: Callable[[], None]) -> AsyncIterator[bool]:
    """While open, ``wake()`` is called when another process announces outbox rows; yields whether
    notifications are live (False on SQLite, where the caller polls :func:`latest_id` instead)."""
    if engine.dialect.name != "postgresql":
        yield False
        return
    async with engine.connect() as connection:
        raw: Any = (await connection.get_raw_connection()).driver_connection  # asyncpg's connection

        def heard(*_: Any) -> None:
            wake()

        await raw.add_listener(CHANNEL, heard)
        try:
            yield True
        finally:
            await raw.remove_listener(CHANNEL, heard)
