"""Stopping delivery while another process's notice arrives: the stop must not be lost, or serve (and every
test's bot) would wait at shutdown forever."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest

from bot.delivery import Delivery
from bot.rendering import Renderer


async def test_a_notice_arriving_as_delivery_stops_does_not_keep_it_running(
    store: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    woken: list[Callable[[], None]] = []
    listening = asyncio.Event()

    @contextlib.asynccontextmanager
    async def notices(wake: Callable[[], None]) -> AsyncIterator[bool]:
        woken.append(wake)
        listening.set()
        yield True

    monkeypatch.setattr(store, "outbox_notices", notices)
    delivery = Delivery(store, Renderer(), {})
    for _ in range(20):  # the race is exact, so it is tried at several moments of the loop
        listening.clear()
        running = asyncio.create_task(delivery.run())
        await listening.wait()
        await asyncio.sleep(0.01)
        woken.pop()()  # the notice, and the stop in the same moment
        running.cancel()
        with pytest.raises(asyncio.CancelledError):
            await asyncio.wait_for(asyncio.shield(running), 2)
