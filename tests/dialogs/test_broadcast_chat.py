"""A mediator's ``/broadcast`` in chat: segment, template, preview with a sample, confirmation, progress
and the report when serve's sender has finished; refused for anyone else; mistakes answered, nothing made."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from bot.broadcasting import Broadcaster
from dialogs.broadcasts import parse_segment
from dialogs.domain import Channel
from storage import models
from tests.broadcast_people import person, statuses
from tests.conftest import FakeClock
from tests.dialogs.harness import Bot, lender_staff, operator


async def _borrowers(bot: Bot) -> dict[str, int]:
    store = bot.store
    return {
        "ann": await person(store, Channel.TERMINAL, "ann", zone="Asia/Shanghai"),
        "bo": await person(store, Channel.TERMINAL, "bo", locale="zh_CN", zone="Asia/Shanghai"),
        "cy": await person(store, Channel.TERMINAL, "cy", zone="Asia/Shanghai", quiet=True),
    }


async def _broadcasts(bot: Bot) -> list[tuple[int, int | None, str]]:
    b = models.Broadcast
    async with bot.store.unit() as session:
        rows = (await session.execute(select(b.id, b.created_by_account_id, b.template))).all()
    return [(int(i), by, str(t)) for i, by, t in rows]


async def test_a_mediator_broadcasts_from_chat_and_hears_when_it_is_done(bot: Bot) -> None:
    people = await _borrowers(bot)
    olga = await operator(bot)
    await olga.send("/broadcast")
    assert "Who should get the broadcast?" in olga.texts()
    await olga.press("All borrowers")
    assert "Broadcast to All borrowers. Which message?" in olga.texts()
    await olga.press("About the service")
    shown = olga.texts()
    # A sample per recipient language, the mediator's own first, each as its reader will read it.
    english = "This is the message as the first of them in English will read it:\n\nA note from LoanBridge"
    chinese = "This is the message as the first of them in 中文 will read it:\n\n来自 LoanBridge"
    assert english in shown and chinese in shown and shown.index(english) < shown.index(chinese)
    assert "It goes to 3 people in all:" in shown
    assert "• terminal, English: 2" in shown and "• terminal, 中文: 1" in shown
    assert "0 outside their hours now" in shown
    assert "1 asked for quiet and 0 cannot be reached: they are skipped." in shown
    assert await _broadcasts(bot) == []  # nothing before the mediator says so

    await olga.press("Send it")
    assert (
        "Broadcast 1 to all is being sent: sent 0, failed 0, waiting for their hours 0, skipped 0, "
        "still to go 3 (of 3)."
    ) in olga.texts()
    olga_id = (await bot.store.ensure_account(Channel.TERMINAL, "olga")).id
    assert await _broadcasts(bot) == [(1, olga_id, "service")]
    assert await statuses(bot.store, 1) == dict.fromkeys(people.values(), "pending")

    # serve's sender sends it; the mediator is told when it is finished.
    senders = {Channel.TERMINAL: bot.recorder}
    async with Broadcaster(bot.store, bot.app.renderer, senders, submit=bot.app.delivery.submit).running():  # type: ignore[arg-type]
        for _ in range(100):
            if any("Broadcast 1 is finished" in m.text for m in bot.recorder.inbox["olga"]):
                break
            await asyncio.sleep(0.1)
    await bot.app.delivery.drain()
    report = olga.received()
    assert [m.text for m in report] == [
        "Broadcast 1 is finished: sent 2, failed 0, skipped 1 (opted out or unreachable), out of 3."
    ]
    assert [m.text.splitlines()[0] for m in bot.recorder.inbox["ann"]] == [
        "A note from LoanBridge, the free mediation service for online loans."
    ]
    assert bot.recorder.inbox["bo"][0].text.startswith("来自 LoanBridge")
    assert bot.recorder.inbox["cy"] == []  # she asked for quiet
    assert await statuses(bot.store, 1) == {
        people["ann"]: "sent",
        people["bo"]: "sent",
        people["cy"]: "skipped",
    }

    await olga.send("/broadcast 1")
    assert "Broadcast 1 to all is finished: sent 2, failed 0" in olga.texts()


async def test_mistakes_are_answered_and_change_nothing(bot: Bot) -> None:
    await _borrowers(bot)
    olga = await operator(bot)
    await olga.send("/broadcast")
    await olga.send("everyone")
    assert '"everyone" is not a segment I know.' in olga.texts()
    await olga.send("lender:Nobody Ltd")
    assert "No lender is called 'Nobody Ltd'. Lenders: Demo Lender." in olga.texts()
    await olga.send("state:completed")  # a real segment nobody is in
    await olga.press("Instalment reminder")
    assert "Nobody is in the segment state:completed right now" in olga.texts()
    await olga.press("Change who gets it")
    assert "Who should get the broadcast?" in olga.texts()
    await olga.send("/broadcast 99")
    assert "There is no broadcast 99." in olga.texts()
    assert await _broadcasts(bot) == []


async def test_only_a_mediator_may_broadcast(bot: Bot) -> None:
    people = await _borrowers(bot)
    ann = bot.person("ann")
    await ann.send("/broadcast")
    assert "Who should get the broadcast?" not in ann.texts()
    assert ann.texts(), "she is answered"
    olga = await operator(bot)
    leo = await lender_staff(bot, olga)
    await leo.send("/broadcast")
    assert "Who should get the broadcast?" not in leo.texts()
    await leo.send("/broadcast 1")
    assert "Broadcast 1" not in leo.texts()
    assert await _broadcasts(bot) == []
    assert people


async def test_a_broadcast_that_starts_later_says_when_and_for_whom(bot: Bot, clock: FakeClock) -> None:
    await _borrowers(bot)
    olga = await operator(bot)
    starts = datetime(2026, 12, 24, 1, 0, tzinfo=UTC)  # 09:00 in Beijing
    clock.current = starts - timedelta(days=2)
    await bot.store.create_broadcast(parse_segment("all"), "service", scheduled_at=starts)  # the CLI's --at
    await olga.send("/broadcast 1")
    assert (
        "Broadcast 1 to all has not started yet: it starts on Dec 24, 09:00 Beijing time and goes to whoever "
        "is in all then."
    ) in olga.texts()
    assert "of 0" not in olga.texts()  # no count yet: who gets it is decided when it starts
