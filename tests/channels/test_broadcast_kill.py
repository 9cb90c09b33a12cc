"""A broadcast sent by a real ``loanbridge serve`` process against the fake Bot API server (which answers
429 above the bot's rate), killed with SIGKILL halfway and started again: everyone got it, nobody twice
unless their send was in flight at the kill, nobody outside their hours, opted out or unreachable."""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import select

from dialogs.broadcasts import BroadcastStatus, parse_segment
from dialogs.domain import Channel
from storage import models
from storage.crypto import FieldCipher
from storage.db import create_engine
from storage.migrate import upgrade
from storage.store import SqlStore
from tests.broadcast_people import many, person, statuses, zones
from tests.channels.fake_telegram import FakeTelegram
from tests.channels.serve_process import serving, wait_for
from tests.conftest import TEST_SECRET

RATE = 300  # the fake server's limit, and the bot's configured rate
RECIPIENTS = 600


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[SqlStore]:
    url = f"sqlite:///{tmp_path / 'broadcast.db'}"
    await upgrade(url)
    store = SqlStore(create_engine(url), FieldCipher(TEST_SECRET))
    yield store
    await store.close()


def received(fake: FakeTelegram) -> Counter[int]:
    return Counter(int(c.params["chat_id"]) for c in fake.calls if c.method == "sendMessage")


async def test_a_broadcast_killed_halfway_resumes_with_nobody_lost(store: SqlStore, tmp_path: Path) -> None:
    url = str(store.engine.url).replace("+aiosqlite", "")
    inside, outside = zones(datetime.now(UTC))
    everyone = await many(store, Channel.TELEGRAM, 50_000, RECIPIENTS, zone=inside)
    night = await person(store, Channel.TELEGRAM, "70001", zone=outside)
    quiet = await person(store, Channel.TELEGRAM, "70002", zone=inside, quiet=True)
    gone = await person(store, Channel.TELEGRAM, "70003", zone=inside, reachable=False)
    broadcast_id = await store.create_broadcast(parse_segment("channel:telegram"), "service")
    chats = set(range(50_000, 50_000 + RECIPIENTS))

    fake = await FakeTelegram(rate_limit=RATE).start()
    rate = {"LOANBRIDGE_TELEGRAM_RATE": str(RATE)}
    try:
        async with serving(tmp_path, url, fake, **rate) as served:
            await wait_for(lambda: len(received(fake)) >= RECIPIENTS // 2, 30, "half the broadcast sent")
            served.process.kill()  # SIGKILL: no clean-up of any kind
            await served.process.wait()
        before = received(fake)
        at_kill = await statuses(store, broadcast_id)
        in_flight = {account for account, status in at_kill.items() if status == "sending"}
        assert 0 < sum(before.values()) < RECIPIENTS  # killed halfway

        async with serving(tmp_path, url, fake, **rate) as served:
            await wait_for(lambda: set(received(fake)) >= chats, 60, "every recipient reached after resuming")

            for _ in range(300):  # the outcomes are recorded a moment after the last send
                if (await store.broadcast_progress(broadcast_id)).settled:
                    break
                await asyncio.sleep(0.1)
            assert await served.stop() == 0
    finally:
        await fake.stop()

    got = received(fake)
    assert set(got) == chats  # everyone inside their hours, and nobody else
    assert fake.too_many == 0  # never above the server's limit
    twice = {chat for chat, n in got.items() if n > 1}
    assert all(n <= 2 for n in got.values())
    # A duplicate only where the send was in flight at the kill: claimed, accepted, not yet recorded.
    account_of = dict(zip(sorted(chats), everyone, strict=True))
    assert {account_of[chat] for chat in twice} <= in_flight
    assert len(twice) <= len(in_flight)
    final = await statuses(store, broadcast_id)
    assert {final[a] for a in everyone} == {"sent"}
    assert (final[night], final[quiet], final[gone]) == ("held", "skipped", "skipped")
    progress = await store.broadcast_progress(broadcast_id)
    assert progress.status is BroadcastStatus.RUNNING  # the held one still waits for the morning
    assert progress.summary() == f"sent {RECIPIENTS}, failed 0, held 1, skipped 2"
    async with store.unit() as session:  # no claim is left behind by the clean stop
        claimed = select(models.BroadcastRecipient.claimed_by).where(
            models.BroadcastRecipient.claimed_by.is_not(None)
        )
        assert list(await session.scalars(claimed)) == []
