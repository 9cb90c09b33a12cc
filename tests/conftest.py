"""Shared fixtures: a migrated database per test (SQLite file, and PostgreSQL when one is given), a clock,
and a guard that refuses network connections to anything but loopback."""

from __future__ import annotations

import asyncio
import ipaddress
import os
import shutil
import socket
import uuid
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

POSTGRES_ENV = "LOANBRIDGE_TEST_POSTGRES_URL"
TEST_SECRET = b"0123456789abcdef0123456789abcdef-test-only"
# The platform key that signs the case log: required beside the secret key when serving from PostgreSQL.
TEST_SIGNING_KEY = "dGVzdC1vbmx5LXNpZ25pbmcta2V5LXNlZWQtMzJieXQ="


def _is_loopback(address: Any) -> bool:
    if not isinstance(address, tuple):
        return True  # AF_UNIX paths stay on this machine
    host = address[0]
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


@pytest.fixture(autouse=True, scope="session")
def loopback_only() -> Iterator[None]:
    """Tests talk to servers they start on 127.0.0.1 and nothing else."""
    original_connect, original_connect_ex = socket.socket.connect, socket.socket.connect_ex

    def guard(address: Any) -> None:
        if not _is_loopback(address):
            raise ConnectionRefusedError(f"tests may only connect to loopback, not {address!r}")

    def connect(self: socket.socket, address: Any) -> None:
        guard(address)
        original_connect(self, address)

    def connect_ex(self: socket.socket, address: Any) -> int:
        guard(address)
        return original_connect_ex(self, address)

    socket.socket.connect = connect  # type: ignore[method-assign]
    socket.socket.connect_ex = connect_ex  # type: ignore[method-assign]
    yield
    socket.socket.connect, socket.socket.connect_ex = original_connect, original_connect_ex  # type: ignore[method-assign]


class FakeClock:
    """A clock the test moves by hand."""

    def __init__(self, start: datetime | None = None) -> None:
        self.current = start or datetime(2026, 11, 2, 9, 30, tzinfo=UTC)

    def now(self) -> datetime:
        return self.current

    def advance(self, **delta: float) -> None:
        self.current += timedelta(**delta)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture(scope="session")
def migrated_sqlite(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One SQLite file migrated the way production migrates it; each test gets a copy (migrating costs more
    than many tests)."""
    from storage.migrate import upgrade

    path = tmp_path_factory.mktemp("template") / "loanbridge.db"
    asyncio.run(upgrade(f"sqlite:///{path}"))
    return path


@pytest.fixture(scope="session")
def migrated_postgres() -> Iterator[str | None]:
    """One PostgreSQL database migrated the way production migrates it: each test's is made from it."""
    from storage.migrate import upgrade

    admin_url = os.environ.get(POSTGRES_ENV)
    if not admin_url:
        yield None
        return
    template = _postgres_database(admin_url)
    url = asyncio.run(template.__aenter__())
    try:
        asyncio.run(upgrade(url))
        yield template.name
    finally:
        asyncio.run(template.__aexit__())


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
async def database_url(
    request: pytest.FixtureRequest, tmp_path: Path, migrated_sqlite: Path, migrated_postgres: str | None
) -> AsyncIterator[str]:
    """A migrated database of its own for each test: a SQLite file, or a fresh PostgreSQL database."""
    if request.param == "sqlite":
        path = tmp_path / "loanbridge.db"
        shutil.copy(migrated_sqlite, path)  # with its mode: the store keeps its files private
        yield f"sqlite:///{path}"
        return
    if migrated_postgres is None:
        pytest.skip(f"PostgreSQL tests skipped: set {POSTGRES_ENV} to a server's URL to run them")
    async with _postgres_database(os.environ[POSTGRES_ENV], template=migrated_postgres) as url:
        yield url


class _postgres_database:  # noqa: N801 - used as a context manager, reads like one
    def __init__(self, admin_url: str, template: str | None = None) -> None:
        from sqlalchemy.engine import make_url

        self.admin = make_url(admin_url)
        self.name = f"lb_test_{uuid.uuid4().hex[:12]}"
        self.template = template

    async def _execute(self, sql: str) -> None:
        import asyncpg

        admin = self.admin
        connection = await asyncpg.connect(
            user=admin.username,
            password=admin.password,
            host=admin.host,
            port=admin.port,
            database=admin.database,
        )
        try:
            await connection.execute(sql)
        finally:
            await connection.close()

    async def __aenter__(self) -> str:
        from_template = f' TEMPLATE "{self.template}"' if self.template else ""
        await self._execute(f'CREATE DATABASE "{self.name}"{from_template}')
        return self.admin.set(database=self.name).render_as_string(hide_password=False)

    async def __aexit__(self, *exc: object) -> None:
        await self._execute(f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)')


@pytest.fixture
async def store(database_url: str, clock: FakeClock) -> AsyncIterator[Any]:
    from storage.crypto import FieldCipher
    from storage.db import create_engine
    from storage.store import SqlStore

    store = SqlStore(create_engine(database_url), FieldCipher(TEST_SECRET), clock=clock)
    yield store
    await store.close()
