"""Two schedulers at once (two engines, each on its own connection pool, as two processes would be) over
the same due reminders: every reminder is sent exactly once, whether they split the rows between them
(FOR UPDATE SKIP LOCKED on PostgreSQL) or both hold a claim on the same row (a lease that ran out)."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
from collections.abc import Sequence
from datetime import UTC, datetime, time, timedelta

from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError

from bot.app import build_services
from bot.rendering import Renderer
from bot.settings import load_settings
from dialogs import reminders
from dialogs.dispatch import Dialogs
from dialogs.engine import Engine
from dialogs.flows import ACTIONS, ALL_FLOWS, COMMANDS
from dialogs.messages import Queued
from dialogs.rules.conduct import ConductPolicy, SendWindow
from dialogs.rules.reminders import ReminderPolicy
from storage import models
from storage.crypto import FieldCipher
from storage.db import create_engine
from storage.store import SqlStore
from tests.conftest import TEST_SECRET, FakeClock
from tests.dialogs.harness import running_bot
from tests.dialogs.test_reminders import agreed

ON_THE_DAY = ReminderPolicy(offsets=(0,))
LATER = datetime(2028, 6, 1, 4, 0, tzinfo=UTC)  # every instalment of the 18-month plan has fallen due


class Scheduler:
    """One scheduler process's parts: its own store (connection pool) and engine; what it committed."""

    def __init__(self, url: str, clock: FakeClock) -> None:
        settings = load_settings(database_url=url)
        self.store = SqlStore(create_engine(url), FieldCipher(TEST_SECRET), clock=clock)
        # All day and no cap: this test is about who sends, not when.
        conduct = ConductPolicy(SendWindow(time(0), time(23, 59, 59)), daily_cap=1000)
        services = dataclasses.replace(build_services(settings, documents=Renderer()), conduct=conduct)
        dialogs = Dialogs(ALL_FLOWS, services, actions=ACTIONS, commands=COMMANDS)
        self.committed: list[str] = []
        self.engine = Engine(self.store, dialogs, self._deliver)
        self.clock = clock

    def _deliver(self, queued: Sequence[Queued]) -> None:
        self.committed += [q.key for q in queued if q.message.template == "reminders/instalment"]

    async def sweep(self) -> int:
        return await reminders.sweep(self.engine, self.store, self.clock.now(), ON_THE_DAY)


async def _sent_reminders(store: SqlStore) -> tuple[int, int]:
    async with store.unit() as session:
        box, reminder = models.OutboxMessage, models.Reminder
        outbox = await session.scalar(select(func.count()).where(box.template == "reminders/instalment"))
        sent = await session.scalar(select(func.count()).where(reminder.status == "sent"))
    return int(outbox or 0), int(sent or 0)


async def test_two_schedulers_never_send_a_reminder_twice(database_url: str, clock: FakeClock) -> None:
    async with running_bot(database_url, clock, reminder_days="0") as bot:  # as ON_THE_DAY
        await agreed(bot)
        clock.current = LATER
        first, second = Scheduler(database_url, clock), Scheduler(database_url, clock)
        try:
            handled = await asyncio.gather(first.sweep(), second.sweep(), first.sweep(), second.sweep())
            assert sum(handled) >= 18  # between them they took every due row
            assert len(first.committed) + len(second.committed) == 18
            assert set(first.committed).isdisjoint(second.committed)
            assert await _sent_reminders(bot.store) == (18, 18)

            # Both hold a claim on the same rows: new instalments' reminders, claimed by the first, whose
            # lease runs out before it sends; the second claims them too and both run the turns at once.
            async with bot.store.unit() as session:
                await session.execute(
                    update(models.Reminder).values(status="pending", claimed_until=None, due_at=LATER)
                )
            clock.current = LATER + timedelta(minutes=1)
            claims = await first.store.claim_reminders(clock.now(), timedelta(minutes=5), 100)
            assert len(claims) == 18
            clock.current = LATER + timedelta(minutes=10)  # the first scheduler's lease has run out

            async def first_runs_its_claims() -> None:
                for claim in claims:
                    key = f"reminder:{claim.id}:{claim.due_at:%Y%m%d%H%M%S}"
                    # The other scheduler committed the same key first: this turn rolls back whole.
                    with contextlib.suppress(IntegrityError):
                        await first.engine.run_system(
                            claim.account_id, key, reminders.remind(claim, ON_THE_DAY)
                        )

            before = len(first.committed) + len(second.committed)
            await asyncio.gather(first_runs_its_claims(), second.sweep())
            resent = len(first.committed) + len(second.committed) - before
            assert resent == 18  # each of the 18 reminders committed once, by one of the two
            outbox, sent = await _sent_reminders(bot.store)
            assert (outbox, sent) == (36, 18)  # 18 outbox rows from each round; every row sent
        finally:
            await first.store.close()
            await second.store.close()


async def test_two_schedulers_send_a_lenders_digest_once(database_url: str, clock: FakeClock) -> None:
    async with running_bot(database_url, clock, reminder_days="0") as bot:  # as ON_THE_DAY
        await agreed(bot)
        clock.current = datetime(2026, 12, 3, 1, 0, tzinfo=UTC)  # 09:00 in Shanghai: December 2 was missed
        first, second = Scheduler(database_url, clock), Scheduler(database_url, clock)
        settings = reminders.Supervision(ON_THE_DAY)
        try:
            await asyncio.gather(
                *(
                    reminders.send_digests(s.engine, s.store, clock.now(), settings)
                    for s in (first, second, first, second)
                )
            )
        finally:
            await first.store.close()
            await second.store.close()
        async with bot.store.unit() as session:
            box = models.OutboxMessage
            digests = await session.scalar(select(func.count()).where(box.template == "reminders/digest"))
        assert digests == 1  # one staff member, one day with something to say
