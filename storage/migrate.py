"""Apply the Alembic migrations to a database, through the same async engine the app uses."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection
from sqlalchemy.ext.asyncio import AsyncEngine

from dialogs.errors import DomainError
from storage.db import create_engine


class NotReady(DomainError):
    """The database schema is behind the code."""


MIGRATIONS = Path(__file__).parent / "migrations"


def alembic_config(connection: Connection | None = None) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["connection"] = connection
    return config


async def upgrade_engine(engine: AsyncEngine, revision: str = "head") -> None:
    async with engine.begin() as connection:
        await connection.run_sync(lambda sync: command.upgrade(alembic_config(sync), revision))


async def upgrade(url: str, revision: str = "head") -> None:
    """Bring the database at ``url`` up to ``revision`` (the newest by default)."""
    engine = create_engine(url)
    try:
        await upgrade_engine(engine, revision)
    finally:
        await engine.dispose()


def head_revision() -> str | None:
    return ScriptDirectory.from_config(alembic_config()).get_current_head()


async def current_revision(engine: AsyncEngine) -> str | None:
    async with engine.connect() as connection:
        return await connection.run_sync(lambda sync: MigrationContext.configure(sync).get_current_revision())


async def require_current(engine: AsyncEngine) -> None:
    """Refuse to work on a database that the migrations have not brought up to date."""
    if await current_revision(engine) != head_revision():
        raise NotReady("the database is not set up or not up to date: run `loanbridge db upgrade` first")
