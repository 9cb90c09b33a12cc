"""The engine's promises: once per update, in order per person, nothing sent before commit or lost after."""

from __future__ import annotations

import asyncio
from typing import Any

from sqlalchemy import func, select

from dialogs.domain import Channel
from dialogs.engine import KeyedLocks
from dialogs.messages import InboundKind
from storage import models
from tests.dialogs.harness import Bot, plain, running_bot, start_and_consent


async def _count(bot: Bot, table: type[models.Base]) -> int:
    async with bot.store.unit() as session:
        return int(await session.scalar(select(func.count()).select_from(table)) or 0)


async def test_a_redelivered_update_is_handled_once(bot: Bot) -> None:
    alice = bot.person("alice")
    first = alice.inbound(InboundKind.COMMAND, "/start")
    assert await alice.deliver(first)
    outbox = await _count(bot, models.OutboxMessage)
    assert await alice.deliver(first) == []  # the same key again: no reply, no change
    assert await _count(bot, models.OutboxMessage) == outbox


async def test_a_burst_from_one_person_is_handled_in_order(bot: Bot) -> None:
    alice = bot.person("alice")
    await start_and_consent(alice)
    answers = ["REF-A", "Name B", "not an id", "still not"]
    inbounds = [alice.inbound(InboundKind.TEXT, text) for text in answers]
    await asyncio.gather(*(bot.app.engine.handle(inbound) for inbound in inbounds))
    await bot.app.delivery.drain()
    texts = [plain(m.text) for m in bot.recorder.inbox["alice"][alice.seen :]]
    # ref -> name question, name -> ID question, then two wrong ID numbers, each re-asked, in that order
    assert "full name" in texts[0]
    assert "resident ID number" in texts[1]
    assert "not a valid resident ID" in texts[2]
    assert "not a valid resident ID" in texts[4]


async def test_many_people_at_once_share_commits_and_all_get_answers(bot: Bot) -> None:
    people = [bot.person(f"user{n}") for n in range(40)]
    await asyncio.gather(*(p.bot.app.engine.handle(p.inbound(InboundKind.COMMAND, "/start")) for p in people))
    await bot.app.delivery.drain()
    for person in people:
        assert any("free" in plain(m.text) for m in bot.recorder.inbox[person.user])
    assert await _count(bot, models.Conversation) == 40


async def test_a_reply_committed_but_not_sent_is_sent_after_a_restart(database_url: str, clock: Any) -> None:
    async with running_bot(database_url, clock) as bot:
        alice = bot.person("alice")
        bot.app.delivery._senders.clear()  # the process "dies" after commit, before anything is sent
        await alice.send("/start")
        assert bot.recorder.inbox["alice"] == []
    async with running_bot(database_url, clock, demo=False) as restarted:
        await restarted.app.delivery.drain()
        (welcome,) = restarted.recorder.inbox["alice"]
        assert "free" in plain(welcome.text)
        assert [plain(b.label) for b in welcome.buttons] == [
            "Let's begin",
            "My rights and the law",
            "中文 / English",
        ]
        async with restarted.store.unit() as session:
            unsent = await session.scalar(
                select(func.count())
                .select_from(models.OutboxMessage)
                .where(models.OutboxMessage.sent_at.is_(None))
            )
        assert unsent == 0


async def test_a_restart_mid_flow_resumes_at_the_same_question(database_url: str, clock: Any) -> None:
    async with running_bot(database_url, clock) as bot:
        alice = bot.person("alice")
        await start_and_consent(alice)
        await alice.send("DEMO-0001")
    async with running_bot(database_url, clock, demo=False) as restarted:
        alice = restarted.person("alice")
        await alice.send("/start")
        assert "Welcome back" in alice.texts()
        assert "full name" in alice.texts()


async def test_locks_are_dropped_when_nobody_holds_them() -> None:
    locks = KeyedLocks()
    order: list[int] = []

    async def work(n: int) -> None:
        async with locks.hold("alice"):
            order.append(n)
            await asyncio.sleep(0)

    await asyncio.gather(*(work(n) for n in range(5)))
    assert order == [0, 1, 2, 3, 4]
    assert len(locks) == 0


async def test_every_turn_records_its_key_with_its_channel(bot: Bot) -> None:
    await bot.person("alice").send("/start")
    async with bot.store.unit() as session:
        keys = (await session.execute(select(models.InboundKey.channel))).scalars().all()
    assert keys == [Channel.TERMINAL.value]


async def test_old_keys_and_sent_replies_are_pruned_and_nothing_else(bot: Bot, clock: Any) -> None:
    from bot.scheduler import prune

    alice = bot.person("alice")
    await alice.send("/start")
    clock.advance(days=8)
    await alice.send("/help")
    await prune(bot.store, clock)
    assert await _count(bot, models.InboundKey) == 1  # only the recent one
    assert await _count(bot, models.OutboxMessage) == 3  # replies are kept a month
    clock.advance(days=31)
    await prune(bot.store, clock)
    assert await _count(bot, models.OutboxMessage) == 0
    assert await _count(bot, models.Conversation) == 1
