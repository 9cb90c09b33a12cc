"""Engines: the async driver picked from a plain URL, and SQLite set up for concurrent, durable use."""

from __future__ import annotations

import os
import sqlite3
import stat
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import URL, make_url
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from dialogs.errors import DomainError, InvalidInput
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


class UnusableDatabase(DomainError):
    """The database file cannot be used as it is (damaged, truncated, read-only): start-up stops here,
    before anything reads or writes it, with one line naming the file and what to do."""


_HEADER = b"SQLite format 3\x00"
_RESTORE = "restore it from a backup (or move it away to start an empty database)"


def check_database_file(url: str) -> None:
    """Stop with :class:`UnusableDatabase` if the SQLite file of ``url`` cannot serve. A missing or empty
    file is a new database; PostgreSQL checks its own storage."""
    path = sqlite_file(url)
    if path is None or not path.exists() or (path.is_file() and path.stat().st_size == 0):
        return
    problem = _access_problem(path) or _header_problem(path) or _integrity_problem(path)
    if problem is not None:
        raise UnusableDatabase(f"database {path}: {problem}")


def _access_problem(path: Path) -> str | None:
    if not path.is_file():
        return "not a file"
    mode = path.stat().st_mode
    # A file nobody may write was made read-only on purpose, even if this user (root) could write it.
    if not os.access(path, os.R_OK | os.W_OK) or not mode & (stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH):
        return f"the file is read-only ({stat.filemode(mode)}): make it writable for this user (chmod u+rw)"
    if not os.access(path.parent, os.W_OK | os.X_OK):
        return "its directory is read-only: SQLite writes its -wal and -shm files beside the database"
    return None


def _header_problem(path: Path) -> str | None:
    with path.open("rb") as file:
        header = file.read(100)
    if not header.startswith(_HEADER) or len(header) < 100:
        return f"not a SQLite database (damaged, or another kind of file): {_RESTORE}"
    page_size = int.from_bytes(header[16:18], "big")
    page_size = 65536 if page_size == 1 else page_size
    pages, counter, valid_for = (int.from_bytes(header[at : at + 4], "big") for at in (28, 24, 92))
    size = path.stat().st_size
    # The header's page count is to be trusted only when written by the same change as the file.
    if pages and counter == valid_for and size < pages * page_size:
        return f"truncated ({size} bytes where its header says {pages * page_size}): {_RESTORE}"
    return None


def _integrity_problem(path: Path) -> str | None:
    try:
        connection = sqlite3.connect(f"{path.as_uri()}?mode=rw", uri=True, timeout=30)
        try:
            found = [row[0] for row in connection.execute("PRAGMA quick_check(3)")]
        finally:
            connection.close()
    except sqlite3.DatabaseError as error:
        return f"damaged ({error}): {_RESTORE}"
    if found != ["ok"]:
        # One line, as every start-up refusal: SQLite's report can hold line breaks of its own.
        report = "; ".join(" ".join(str(row).split()) for row in found)
        return f"damaged: it failed its integrity check (PRAGMA quick_check: {report}): {_RESTORE}"
    return None


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
