"""Two senders (two serve processes: each its own engine and pool) on one broadcast: every recipient gets it
exactly once, the pages claimed by one skipped by the other (FOR UPDATE SKIP LOCKED on PostgreSQL); and a
sender claims only the channels it can send to."""

from __future__ import annotations

import asyncio
from collections import Counter
from datetime import UTC, datetime

from sqlalchemy import select

from bot.broadcasting import LOST_AFTER, Broadcaster
from bot.rendering import Rendered, Renderer
from dialogs.broadcasts import parse_segment
from dialogs.domain import Account, Channel
from storage import models
from storage.crypto import FieldCipher
from storage.db import create_engine
from storage.store import SqlStore
from tests.broadcast_people import many, statuses, zones
from tests.conftest import TEST_SECRET

RECIPIENTS = 400


class Counting:
    """A channel that counts what it sends, per chat, and takes a moment per send (so both senders work)."""

    def __init__(self, sent: Counter[str], by: Counter[str], name: str) -> None:
        self.sent, self.by, self.name = sent, by, name

    def serves(self, _recipient: Account) -> bool:
        return True

    async def send(self, recipient: Account, message: Rendered) -> None:
        await asyncio.sleep(0.001)
        self.sent[recipient.channel_user_id] += 1
        self.by[self.name] += 1


async def test_two_senders_never_send_one_recipient_twice(database_url: str) -> None:
    stores = [SqlStore(create_engine(database_url), FieldCipher(TEST_SECRET)) for _ in range(2)]
    try:
        inside, _ = zones(datetime.now(UTC))
        accounts = await many(stores[0], Channel.TELEGRAM, 10_000, RECIPIENTS, zone=inside)
        broadcast_id = await stores[0].create_broadcast(parse_segment("all"), "service")
        sent: Counter[str] = Counter()
        by: Counter[str] = Counter()
        senders = [
            Broadcaster(store, Renderer(), {Channel.TELEGRAM: Counting(sent, by, f"s{n}")}, page=20)  # type: ignore[dict-item]
            for n, store in enumerate(stores)
        ]
        async with senders[0].running(), senders[1].running():
            for _ in range(300):
                if (await stores[0].broadcast_progress(broadcast_id)).settled:
                    break
                await asyncio.sleep(0.1)
        assert sent == Counter({str(10_000 + n): 1 for n in range(RECIPIENTS)})
        assert set(by) == {"s0", "s1"}  # both took part
        assert set((await statuses(stores[0], broadcast_id)).values()) == {"sent"}
        assert len(accounts) == RECIPIENTS
    finally:
        for store in stores:
            await store.close()


async def test_each_sender_claims_only_the_channels_it_can_send_to(database_url: str) -> None:
    """A scheduler's sender (no bot: the terminal, through the outbox) next to serve's (Telegram): the
    scheduler never takes a Telegram recipient, however long it runs alone; serve sends those once."""
    stores = [SqlStore(create_engine(database_url), FieldCipher(TEST_SECRET)) for _ in range(2)]
    try:
        inside, _ = zones(datetime.now(UTC))
        telegram = await many(stores[0], Channel.TELEGRAM, 10_000, 60, zone=inside)
        terminal = await many(stores[0], Channel.TERMINAL, 20_000, 60, zone=inside)
        broadcast_id = await stores[0].create_broadcast(parse_segment("all"), "service")
        sent: Counter[str] = Counter()
        by: Counter[str] = Counter()
        scheduler = Broadcaster(stores[1], Renderer(), {}, page=20, process="scheduler")
        async with scheduler.running():
            for _ in range(300):
                now = await statuses(stores[0], broadcast_id)
                if all(now[i] == "sent" for i in terminal):
                    break
                await asyncio.sleep(0.1)
            await asyncio.sleep(0.5)  # a few more rounds: still none of Telegram's
            [reach] = await stores[0].live_senders(LOST_AFTER)
        assert (reach.process, reach.channels) == ("scheduler", frozenset({"terminal"}))
        now = await statuses(stores[0], broadcast_id)
        assert {now[i] for i in terminal} == {"sent"} and {now[i] for i in telegram} == {"pending"}
        serve = Broadcaster(stores[0], Renderer(), {Channel.TELEGRAM: Counting(sent, by, "serve")}, page=20)  # type: ignore[dict-item]
        async with serve.running():
            for _ in range(300):
                if (await stores[0].broadcast_progress(broadcast_id)).settled:
                    break
                await asyncio.sleep(0.1)
        assert sent == Counter({str(10_000 + n): 1 for n in range(60)})
        async with stores[0].unit() as session:
            box = models.OutboxMessage
            keys = list(await session.scalars(select(box.key).where(box.account_id.in_(terminal))))
        assert sorted(keys) == sorted(f"broadcast:{broadcast_id}:{i}" for i in terminal)  # each once
    finally:
        for store in stores:
            await store.close()
