"""`loanbridge scheduler` as real processes: two of them at once over the same due reminders (a deployment
with several bot processes and a scheduler or two) send every reminder exactly once, and stop cleanly on
SIGTERM."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import delete, func, select, update

from storage import models
from storage.crypto import FieldCipher
from storage.db import create_engine
from storage.store import SqlStore
from tests.conftest import TEST_SECRET, TEST_SIGNING_KEY, FakeClock
from tests.dialogs.harness import running_bot
from tests.dialogs.test_reminders import agreed

INSTALMENTS = 18  # the demo borrower's plan


def _midday_zone(now: datetime) -> tuple[str, int]:
    """An IANA zone where it is about noon now (so the whole test runs inside the borrower's day), and its
    offset from UTC in hours."""
    offset = max(-12, min(12, 12 - now.hour))
    return (f"Etc/GMT{-offset:+d}" if offset else "Etc/UTC"), offset


async def _counts(store: SqlStore) -> tuple[int, int]:
    """Reminder rows planned, and those still pending."""
    async with store.unit() as session:
        reminder = models.Reminder
        planned = await session.scalar(select(func.count()).select_from(reminder))
        pending = await session.scalar(select(func.count()).where(reminder.status == "pending"))
    return int(planned or 0), int(pending or 0)


async def test_two_scheduler_processes_send_each_reminder_once(
    database_url: str, clock: FakeClock, tmp_path: Path
) -> None:
    now = datetime.now(UTC)
    zone, offset = _midday_zone(now)
    today = (now + timedelta(hours=offset)).date()
    async with running_bot(database_url, clock) as bot:
        await agreed(bot)
        async with bot.store.unit() as session:  # every instalment falls due today, in a zone at midday
            await session.execute(update(models.Instalment).values(due_date=today))
            # The rows the agreement's activation planned were for the old dates: the schedulers plan anew.
            await session.execute(delete(models.Reminder))
            await session.execute(
                update(models.Account).where(models.Account.channel_user_id == "alice").values(time_zone=zone)
            )
    env = {
        **os.environ,
        "LOANBRIDGE_DATABASE_URL": database_url,
        "LOANBRIDGE_SECRET_KEY": TEST_SECRET.decode(),
        "LOANBRIDGE_SIGNING_KEY": TEST_SIGNING_KEY,
        "LOANBRIDGE_REMINDER_DAYS": "0",
        "LOANBRIDGE_REMINDER_TIME": "00:00",
        "LOANBRIDGE_SEND_WINDOW_START": "00:00",
        "LOANBRIDGE_SEND_WINDOW_END": "23:59",
        "LOANBRIDGE_COLLECTION_DAILY_CAP": "20",
    }
    processes = [
        await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "bot.cli",
            "scheduler",
            env=env,
            cwd=tmp_path,
            stderr=asyncio.subprocess.PIPE,
        )
        for _ in range(2)
    ]
    store = SqlStore(create_engine(database_url), FieldCipher(TEST_SECRET), clock=clock)
    try:
        deadline = time.monotonic() + 60
        while (counts := await _counts(store)) != (INSTALMENTS, 0):
            assert time.monotonic() < deadline, f"the schedulers did not send the due reminders: {counts}"
            stopped = [p for p in processes if p.returncode is not None]
            assert not stopped, [
                (await p.stderr.read()).decode(errors="replace")[-3000:] for p in stopped if p.stderr
            ]
            await asyncio.sleep(0.3)
        for process in processes:
            process.send_signal(signal.SIGTERM)
        codes = [await asyncio.wait_for(p.wait(), 20) for p in processes]
        logs = [(await p.stderr.read()).decode(errors="replace") if p.stderr else "" for p in processes]
        assert codes == [0, 0], logs
        async with store.unit() as session:
            box, reminder = models.OutboxMessage, models.Reminder
            keys = list(await session.scalars(select(box.key).where(box.template == "reminders/instalment")))
            statuses = list(await session.scalars(select(reminder.status)))
    finally:
        await store.close()
        for process in processes:
            if process.returncode is None:
                process.kill()
                await process.wait()
    assert len(keys) == len(set(keys)) == INSTALMENTS
    assert statuses == ["sent"] * INSTALMENTS
