"""SQLite shared with another process: its write lock delays our units of work without stopping the event
loop, and a large loan-book import commits in batches instead of holding the lock throughout."""

from __future__ import annotations

import asyncio
import sqlite3
import time
from pathlib import Path

from sqlalchemy import event

from storage import store as store_module
from storage.crypto import FieldCipher
from storage.db import create_engine
from storage.migrate import upgrade
from storage.store import SqlStore
from tests.conftest import TEST_SECRET
from tests.samples import loan_row


async def _store(path: Path) -> SqlStore:
    url = f"sqlite:///{path}"
    await upgrade(url)
    return SqlStore(create_engine(url), FieldCipher(TEST_SECRET))


async def test_waiting_for_another_process_lock_leaves_the_loop_free(tmp_path: Path) -> None:
    database = tmp_path / "busy.db"
    store = await _store(database)
    other = sqlite3.connect(database, isolation_level=None)  # another writer, as another process would be
    try:
        other.execute("BEGIN IMMEDIATE")
        adding = asyncio.ensure_future(store.add_lender("Waited Ltd"))
        ticks, started = 0, time.monotonic()
        while time.monotonic() - started < 0.5:  # the loop keeps turning while the lender waits
            await asyncio.sleep(0.01)
            ticks += 1
        assert not adding.done() and ticks > 20
        other.execute("ROLLBACK")
        lender = await asyncio.wait_for(adding, 5)
        assert lender.name == "Waited Ltd"
    finally:
        other.close()
        await store.close()


async def test_a_large_import_commits_in_batches(tmp_path: Path) -> None:
    store = await _store(tmp_path / "import.db")
    commits: list[float] = []
    event.listen(store.engine.sync_engine, "commit", lambda _connection: commits.append(time.monotonic()))
    try:
        await store.add_lender("Big Book Ltd")
        commits.clear()
        rows = [loan_row(f"L-{n:05d}") for n in range(store_module.IMPORT_BATCH * 2 + 10)]
        summary = await store.import_loan_book("Big Book Ltd", rows)
        assert summary.created == len(rows)
        assert len(commits) == 1 + 3  # the lender looked up, then three batches
        again = await store.import_loan_book("Big Book Ltd", rows)  # importing again updates, adds none
        assert (again.created, again.updated) == (0, len(rows))
    finally:
        await store.close()
