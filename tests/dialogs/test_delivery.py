"""Delivery lanes: one person's slow channel does not hold anyone else's replies, and each person's replies
arrive in the order they were committed."""

from __future__ import annotations

import asyncio

from bot.rendering import Rendered
from dialogs.domain import Account
from dialogs.messages import InboundKind
from tests.dialogs.harness import Bot


async def test_a_stalled_recipient_does_not_hold_the_others(bot: Bot) -> None:
    gate = asyncio.Event()
    recorder = bot.recorder
    original = recorder.send

    async def send(recipient: Account, message: Rendered) -> None:
        if recipient.channel_user_id == "slow":
            await gate.wait()  # this chat's channel is stuck (a 429 for this chat, say)
        await original(recipient, message)

    recorder.send = send  # type: ignore[method-assign]
    slow, quick = bot.person("slow"), bot.person("quick")
    await bot.app.engine.handle(slow.inbound(InboundKind.COMMAND, "/start"))
    await bot.app.engine.handle(slow.inbound(InboundKind.COMMAND, "/help"))
    await bot.app.engine.handle(quick.inbound(InboundKind.COMMAND, "/start"))
    for _ in range(200):
        if recorder.inbox["quick"]:
            break
        await asyncio.sleep(0.01)
    assert "LoanBridge" in recorder.inbox["quick"][0].text  # delivered while the slow lane waits
    assert recorder.inbox["slow"] == []
    gate.set()
    await asyncio.wait_for(bot.app.delivery.drain(), 10)
    texts = [m.text for m in recorder.inbox["slow"]]
    assert len(texts) >= 2 and "LoanBridge" in texts[0]  # in the order committed: /start's reply first
