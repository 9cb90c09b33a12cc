"""`loanbridge serve` as a real process under faults of its database: another process holding SQLite's
write lock, a kill -9 while it sends, and database files it must refuse to start on."""

from __future__ import annotations

import asyncio
import os
import sqlite3
import sys
import time
from pathlib import Path
from typing import Any

import aiohttp

from storage.migrate import upgrade
from tests.channels.fake_telegram import FakeTelegram
from tests.channels.serve_process import WEBHOOK_SECRET, serve_env, serving, wait_for

HOLD_THE_LOCK = """
import sqlite3, sys, time
connection = sqlite3.connect(sys.argv[1], isolation_level=None)
connection.execute("BEGIN IMMEDIATE")
print("locked", flush=True)
time.sleep(float(sys.argv[2]))
connection.execute("ROLLBACK")
"""
LOCK_SECONDS = 5.5  # longer than the 5 s busy timeout that used to turn waiting turns into 500s


async def _post(session: aiohttp.ClientSession, url: str, update: Any, secret: str = WEBHOOK_SECRET) -> int:
    async with session.post(url, json=update, headers={"X-Telegram-Bot-Api-Secret-Token": secret}) as answer:
        return answer.status


async def test_a_busy_database_delays_turns_and_fails_none(tmp_path: Path) -> None:
    database = tmp_path / "busy.db"
    await upgrade(f"sqlite:///{database}")
    fake = await FakeTelegram().start()
    users = list(range(9100, 9120))
    try:
        async with serving(tmp_path, f"sqlite:///{database}", fake, webhook=True) as served:
            url = served.webhook_url
            assert url is not None
            holder = await asyncio.create_subprocess_exec(
                sys.executable, "-c", HOLD_THE_LOCK, str(database), str(LOCK_SECONDS),
                stdout=asyncio.subprocess.PIPE,
            )  # fmt: skip
            assert holder.stdout is not None and await holder.stdout.readline() == b"locked\n"
            async with aiohttp.ClientSession() as session:
                started = time.monotonic()
                updates = [{"update_id": user, **fake.text_update(user, "/start")} for user in users]
                turns = asyncio.gather(*(_post(session, url, update) for update in updates))
                await asyncio.sleep(0.5)  # the turns are waiting for the lock now
                # A check that needs no database is answered at once, lock or not.
                asked = time.monotonic()
                assert await _post(session, url, fake.text_update(1, "/start"), secret="wrong") == 401
                assert time.monotonic() - asked < 0.5
                statuses = await turns
            assert statuses == [200] * len(users)
            assert time.monotonic() - started > LOCK_SECONDS - 1  # they waited for the lock
            assert await holder.wait() == 0
            await wait_for(
                lambda: all(fake.texts(user) for user in users),
                10,
                served.log.decode(errors="replace")[-3000:],
            )
            assert await served.stop() == 0
        assert b"Traceback" not in served.log and b"dead letter" not in served.log
    finally:
        await fake.stop()


# Database files serve must refuse to start on: one line naming the file and the problem, no traceback.


async def _start_on(tmp_path: Path, database: Path) -> tuple[int, str]:
    fake = await FakeTelegram().start()
    try:
        process = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "bot.cli", "serve",
            env=serve_env(f"sqlite:///{database}", fake), cwd=tmp_path, stderr=asyncio.subprocess.PIPE,
        )  # fmt: skip
        _, log = await asyncio.wait_for(process.communicate(), 30)
        assert not any(call.method == "getUpdates" for call in fake.calls)  # it never began serving
    finally:
        await fake.stop()
    return int(process.returncode or 0), log.decode()


async def _a_database(path: Path) -> Path:
    await upgrade(f"sqlite:///{path}")
    connection = sqlite3.connect(path, isolation_level=None)
    try:  # enough pages that damage lands inside the tables
        connection.execute("BEGIN")
        connection.execute("CREATE TABLE filler (x BLOB)")
        connection.executemany("INSERT INTO filler VALUES (?)", [(os.urandom(400),) for _ in range(2000)])
        connection.execute("COMMIT")
        connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    finally:
        connection.close()
    return path


def _damage(database: Path, damage: str) -> str:
    """Damage ``database`` one way; the start of the line serve must stop with."""
    content = database.read_bytes()
    if damage == "garbage":
        database.write_bytes(os.urandom(len(content)))
        return "not a SQLite database"
    if damage == "truncated":
        database.write_bytes(content[: len(content) // 2])
        return "truncated"
    if damage == "pages":  # a valid header over damaged pages: found by PRAGMA quick_check
        middle = len(content) // 2
        database.write_bytes(content[:middle] + os.urandom(4096) + content[middle + 4096 :])
        return "damaged"
    database.chmod(0o444)
    return "the file is read-only"


async def test_serve_refuses_damaged_databases_with_one_line(tmp_path: Path) -> None:
    damages = ["garbage", "truncated", "pages", "read-only"]
    databases = [await _a_database(tmp_path / f"{damage}.db") for damage in damages]
    expected = [_damage(database, damage) for database, damage in zip(databases, damages, strict=True)]
    started = await asyncio.gather(*(_start_on(tmp_path, database) for database in databases))
    for database, problem, (code, log) in zip(databases, expected, started, strict=True):
        assert code != 0 and "Traceback" not in log, log
        assert log.strip().splitlines()[-1].startswith(f"error: database {database}: {problem}"), log
