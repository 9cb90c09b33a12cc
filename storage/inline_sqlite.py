"""SQLite for SQLAlchemy's asyncio engine without a thread hop per statement.

aiosqlite runs every call on a helper thread: about 110 µs per call here, four calls per statement, against
under 2 µs for the statement itself, which caps a turn of a dozen statements far below DESIGN §8's
targets. A local SQLite file answers in microseconds, so this adapter runs the standard ``sqlite3``
module inline, on the event loop, behind the interface SQLAlchemy's aiosqlite dialect drives.

The one thing that could block the loop is waiting for another *process's* write lock. SQLite's own busy
timeout would sleep inside ``sqlite3`` with the loop stopped (a 401 for a wrong webhook secret took seconds
while a ``loans import`` held the lock), so it is kept short and the waiting happens here, between
attempts, with the loop free: a busy database delays the units of work that need it, and nothing else.
Within a process the store queues its writers (see :class:`storage.store.SqlStore`).
"""

from __future__ import annotations

import asyncio
import logging
import sqlite3
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, TypeVar

log = logging.getLogger(__name__)
T = TypeVar("T")
BUSY_FIRST_PAUSE = 0.01
BUSY_MAX_PAUSE = 0.25
BUSY_PATIENCE = 600.0  # seconds; then the "database is locked" error goes up as before


async def when_free(run: Callable[[], T], connection: sqlite3.Connection) -> T:
    """``run()``, waited for while another process holds the write lock (SQLITE_BUSY).

    Only a statement outside a transaction is tried again (``BEGIN IMMEDIATE``, where our units of work
    take the lock, or a pragma at connect): inside one, SQLite's answer is to roll back, not to retry.
    """
    pause, waited = BUSY_FIRST_PAUSE, 0.0
    while True:
        try:
            return run()
        except sqlite3.OperationalError as error:
            if not _busy(error) or connection.in_transaction or waited >= BUSY_PATIENCE:
                raise
        if waited == 0.0:
            log.info("the database is busy (another process is writing): waiting")
        await asyncio.sleep(pause)
        waited += pause
        pause = min(pause * 2, BUSY_MAX_PAUSE)


def _busy(error: sqlite3.OperationalError) -> bool:
    return getattr(error, "sqlite_errorcode", 0) & 0xFF == sqlite3.SQLITE_BUSY


class _RunNow:
    """Stands in for aiosqlite's queue to its thread: SQLAlchemy puts ``(future, function)`` here."""

    def __init__(self, connection: sqlite3.Connection) -> None:
        self._connection = connection

    def put_nowait(self, item: tuple[asyncio.Future[Any], Callable[[], Any]]) -> None:
        future, function = item
        try:
            future.set_result(function())
        except Exception as error:
            future.set_exception(error)


class InlineCursor:
    def __init__(self, cursor: sqlite3.Cursor) -> None:
        self._cursor = cursor

    async def __aenter__(self) -> InlineCursor:
        return self

    async def __aexit__(self, *exc: object) -> None:
        self._cursor.close()

    @property
    def description(self) -> Any:
        return self._cursor.description

    @property
    def rowcount(self) -> int:
        return self._cursor.rowcount

    @property
    def lastrowid(self) -> int | None:
        return self._cursor.lastrowid

    @property
    def arraysize(self) -> int:
        return self._cursor.arraysize

    @arraysize.setter
    def arraysize(self, value: int) -> None:
        self._cursor.arraysize = value

    async def execute(self, sql: str, parameters: Sequence[Any] | dict[str, Any] = ()) -> InlineCursor:
        await when_free(lambda: self._cursor.execute(sql, parameters), self._cursor.connection)
        return self

    async def executemany(self, sql: str, parameters: Sequence[Any]) -> InlineCursor:
        self._cursor.executemany(sql, parameters)
        return self

    async def fetchone(self) -> Any:
        return self._cursor.fetchone()

    async def fetchmany(self, size: int | None = None) -> list[Any]:
        return self._cursor.fetchmany(size if size is not None else self._cursor.arraysize)

    async def fetchall(self) -> list[Any]:
        return self._cursor.fetchall()

    async def close(self) -> None:
        self._cursor.close()

    async def nextset(self) -> None:
        return None

    async def setinputsizes(self, *sizes: Any) -> None:
        return None


class InlineConnection:
    """The subset of ``aiosqlite.Connection`` that SQLAlchemy's aiosqlite dialect uses."""

    def __init__(self, connection: sqlite3.Connection) -> None:
        self._conn = connection
        self._connection: sqlite3.Connection | None = connection
        self._tx = _RunNow(connection)

    @property
    def isolation_level(self) -> str | None:
        return self._conn.isolation_level

    def cursor(self) -> InlineCursor:
        return InlineCursor(self._conn.cursor())

    async def commit(self) -> None:
        self._conn.commit()

    async def rollback(self) -> None:
        self._conn.rollback()

    async def close(self) -> None:
        if self._connection is not None:
            self._connection = None
            self._conn.close()

    def stop(self) -> None:
        self._conn.close()
        self._connection = None

    async def create_function(self, *args: Any, **kwargs: Any) -> None:
        self._conn.create_function(*args, **kwargs)


def inline_creator(database: Path) -> Callable[[], Any]:
    """An ``async_creator`` for :func:`sqlalchemy.ext.asyncio.create_async_engine`."""

    async def connect() -> InlineConnection:
        # The pool may close a connection from another thread at interpreter exit.
        return InlineConnection(sqlite3.connect(database, check_same_thread=False))

    return connect
