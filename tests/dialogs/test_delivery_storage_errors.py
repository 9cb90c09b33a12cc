"""Delivery through storage errors: a full disk while marking messages sent stops no lane, nothing is sent
twice once the disk recovers, and closing is bounded even while the storage keeps failing."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Sequence

from sqlalchemy import func, select
from sqlalchemy.exc import OperationalError

from dialogs.messages import InboundKind
from storage import models
from tests.dialogs.harness import Bot

PEOPLE = ["ann", "bo", "cy", "di", "ed"]


def _failing_mark_sent(bot: Bot, failures: int | None) -> list[int]:
    """Make marking sent fail ``failures`` times (``None``: always), as a full disk does; counts calls."""
    calls: list[int] = []
    original = bot.store.mark_sent

    async def mark_sent(keys: Sequence[str]) -> None:
        calls.append(len(keys))
        if failures is None or len(calls) <= failures:
            raise OperationalError("UPDATE outbox", {}, Exception("database or disk is full"))
        await original(keys)

    bot.store.mark_sent = mark_sent  # type: ignore[method-assign]
    return calls


async def _unsent(bot: Bot) -> int:
    async with bot.store.unit() as session:
        query = select(func.count()).where(models.OutboxMessage.sent_at.is_(None))
        return int(await session.scalar(query) or 0)


async def test_a_full_disk_while_marking_sent_stops_no_lane_and_sends_nothing_twice(bot: Bot) -> None:
    calls = _failing_mark_sent(bot, failures=3)
    for name in PEOPLE:
        await bot.app.engine.handle(bot.person(name).inbound(InboundKind.COMMAND, "/start"))
    await asyncio.wait_for(bot.app.delivery.drain(), 10)
    assert len(calls) > 3  # it failed, and was tried again
    for name in PEOPLE:
        assert len(bot.recorder.inbox[name]) == 1, name  # each reply once
    assert await _unsent(bot) == 0  # all recorded once the disk recovered: a restart sends none again
    await bot.app.engine.handle(bot.person("ann").inbound(InboundKind.COMMAND, "/help"))
    await asyncio.wait_for(bot.app.delivery.drain(), 10)
    assert len(bot.recorder.inbox["ann"]) > 1  # the lanes live on


async def test_closing_is_bounded_while_the_storage_keeps_failing(bot: Bot) -> None:
    _failing_mark_sent(bot, failures=None)
    await bot.app.engine.handle(bot.person("ann").inbound(InboundKind.COMMAND, "/start"))
    started = time.monotonic()
    await asyncio.wait_for(bot.app.delivery.close(within=0.5), 5)
    assert time.monotonic() - started < 3
    assert len(bot.recorder.inbox["ann"]) == 1
    assert await _unsent(bot) == 1  # not recorded: it goes again at the next start (it was in flight)


async def test_a_look_at_the_outbox_begun_before_a_send_was_recorded_does_not_send_it_again(bot: Bot) -> None:
    """The outbox read by the wake-up loop (or a resume) can list a row that this process sends and records
    while the read is under way: it is not sent a second time."""
    delivery = bot.app.delivery
    senders = dict(delivery._senders)
    delivery._senders.clear()  # committed, not yet sent: what a look at the outbox lists now
    ann = bot.person("ann")
    await ann.send("/start")
    stale = await bot.store.unsent()
    assert stale and bot.recorder.inbox["ann"] == []
    delivery._senders.update(senders)
    await delivery.resume()
    await delivery.drain()
    received = len(bot.recorder.inbox["ann"])
    assert received > 0

    async def the_stale_look(*_args: object, **_kwargs: object) -> list[object]:
        return list(stale)  # read before the send was recorded, handed over after

    bot.store.unsent = the_stale_look  # type: ignore[method-assign]
    await delivery.resume()
    await delivery.drain()
    assert len(bot.recorder.inbox["ann"]) == received
