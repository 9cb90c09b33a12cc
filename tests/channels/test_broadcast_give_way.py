"""Replies first, without starving a broadcast: how long broadcast sends wait while people are answered."""

from __future__ import annotations

import time

from bot.broadcasting import GIVE_WAY_MAX, GiveWay


async def test_a_send_waits_for_a_short_turn_to_end() -> None:
    ends = time.monotonic() + GIVE_WAY_MAX / 2
    give_way = GiveWay(lambda: time.monotonic() < ends)
    await give_way.wait()
    assert time.monotonic() >= ends


async def test_a_bot_answering_without_a_break_slows_a_broadcast_but_never_stops_it() -> None:
    give_way = GiveWay(lambda: True)
    started = time.monotonic()
    waits = []
    while time.monotonic() - started < 0.3:
        before = time.monotonic()
        await give_way.wait()
        waits.append(time.monotonic() - before)
    # Pauses of GIVE_WAY_MAX alternate with as long without one.
    assert max(waits) < GIVE_WAY_MAX + 0.015
    assert sum(1 for w in waits if w > GIVE_WAY_MAX / 2) >= 3  # it did give way, again and again
    assert sum(1 for w in waits if w < 0.001) > 100  # and sent in between


async def test_an_idle_bot_costs_a_broadcast_nothing() -> None:
    give_way = GiveWay(lambda: False)
    started = time.monotonic()
    for _ in range(1000):
        await give_way.wait()
    assert time.monotonic() - started < 0.05
