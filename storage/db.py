"""Engines: the async driver picked from a plain URL, and SQLite set up for concurrent, durable use."""

from __future__ import annotations

import os
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import URL, make_url
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from dialogs.errors import InvalidInput
from storage.inline_sqlite import inline_creator

# Short: SQLite sleeps through it with the event loop stopped. Longer waits for another process's write
# lock happen in storage.inline_sqlite.when_free, with the loop free.
SQLITE_BUSY_TIMEOUT_MS = 20
_ASYNC_DRIVERS = {"sqlite": "sqlite+aiosqlite", "postgresql": "postgresql+asyncpg"}


def async_url(url: str) -> URL:
    """``sqlite:///x.db`` -> ``sqlite+aiosqlite:///x.db``; ``postgresql://…`` -> ``postgresql+asyncpg://…``."""
    try:
        parsed = make_url(url)
    except Exception:  # SQLAlchemy raises several kinds for a malformed URL
        raise InvalidInput(f"not a database URL: {url!r}") from None
    backend = parsed.get_backend_name()
    if backend not in _ASYNC_DRIVERS:
        raise InvalidInput(f"unsupported database {backend!r}: use sqlite:///FILE or postgresql://…")
    if parsed.drivername in _ASYNC_DRIVERS:
        parsed = parsed.set(drivername=_ASYNC_DRIVERS[backend])
    return parsed


def sqlite_file(url: str) -> Path | None:
    """The database file of a SQLite URL (None for PostgreSQL or an in-memory database)."""
    parsed = async_url(url)
    if parsed.get_backend_name() != "sqlite" or parsed.database in (None, "", ":memory:"):
        return None
    return Path(parsed.database).resolve()


def create_engine(url: str, **options: Any) -> AsyncEngine:
    """An async engine for ``url``; on SQLite: WAL, a busy timeout, foreign keys, one writer at a time."""
    parsed = async_url(url)
    if parsed.get_backend_name() != "sqlite":
        return create_async_engine(parsed, pool_pre_ping=True, **options)
    database = sqlite_file(url)
    if database is not None:
        options.setdefault("async_creator", _owner_only(database, inline_creator(database)))
        # The store queues its units of work on SQLite (one writer at a time), so one connection serves
        # them all; each extra connection would only add its own page cache to the process.
        options.setdefault("pool_size", 1)
        options.setdefault("max_overflow", 2)
    engine = create_async_engine(parsed, **options)
    event.listen(engine.sync_engine, "connect", _configure_sqlite)
    event.listen(engine.sync_engine, "begin", _begin_immediate)
    return engine


def _owner_only(database: Path, connect: Callable[[], Awaitable[Any]]) -> Callable[[], Awaitable[Any]]:
    """Creates a new database file readable by its owner only (0600), as the key file is, before SQLite
    opens it: SQLite gives the -wal and -shm files the mode of the database file, so they follow."""

    async def owner_only_connect() -> Any:
        create_private_file(database)
        return await connect()

    return owner_only_connect


def create_private_file(path: Path) -> None:
    """An empty file (an empty SQLite database) with mode 0600, unless one is there already."""
    try:
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return
    os.close(descriptor)


def _configure_sqlite(dbapi_connection: Any, _record: Any) -> None:
    # Transactions are begun explicitly in _begin_immediate; the driver must not begin its own.
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def _begin_immediate(connection: Any) -> None:
    # Take the write lock at BEGIN: a read-then-write transaction that upgrades later can fail with
    # "database is locked" regardless of the busy timeout, so every unit of work starts as a writer.
    connection.exec_driver_sql("BEGIN IMMEDIATE")
