"""A mediator's ``/broadcast`` in chat: segment, template, preview with a sample, confirmation, progress
and the report when serve's sender has finished; refused for anyone else; mistakes answered, nothing made."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

from sqlalchemy import select, update

from bot.broadcasting import Broadcaster
from dialogs.broadcasts import parse_segment
from dialogs.domain import Channel, Role
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
    chinese = "This is the message as the first of them in Chinese will read it:\n\n来自 LoanBridge"
    assert english in shown and chinese in shown and shown.index(english) < shown.index(chinese)
    # Who gets it and who is skipped add up: the quiet one is not among those it goes to.
    assert "It goes to 2 of the 3 people in All borrowers:" in shown
    assert "• terminal, English: 1" in shown and "• terminal, Chinese: 1" in shown
    assert "waiting for their hours" not in shown  # nobody is, now
    assert "Skipped: 1 asked for quiet, 0 cannot be reached." in shown
    assert await _broadcasts(bot) == []  # nothing before the mediator says so

    await olga.press("Send it")
    assert (
        "Broadcast 1 to All borrowers is being sent: sent 0, failed 0, waiting for their hours 0, skipped 1, "
        "still to go 2 (of 3)."
    ) in olga.texts()
    olga_id = (await bot.store.ensure_account(Channel.TERMINAL, "olga")).id
    assert await _broadcasts(bot) == [(1, olga_id, "service")]
    assert await statuses(bot.store, 1) == {
        people["ann"]: "pending",
        people["bo"]: "pending",
        people["cy"]: "skipped",  # skipped when it was made, as the preview said
    }

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
        "Broadcast 1 is finished: sent 2, failed 0, skipped 1 (asked for quiet, cannot be reached, or "
        "already had the same message waiting), out of 3."
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
    assert "Broadcast 1 to All borrowers is finished: sent 2, failed 0, skipped 1 (of 3)." in olga.texts()


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
        "Broadcast 1 to All borrowers has not started yet: it starts on Dec 24, 09:00 Beijing time and goes "
        "to whoever is in All borrowers then."
    ) in olga.texts()
    assert "of 0" not in olga.texts()  # no count yet: who gets it is decided when it starts


async def test_the_same_message_still_waiting_is_said_and_not_given_twice(bot: Bot) -> None:
    """Trial 3: the same notice was queued to the same people again and again with no warning."""
    people = await _borrowers(bot)
    olga = await operator(bot)
    first = await bot.store.create_broadcast(parse_segment("all"), "service")  # nobody sends it yet
    await bot.store.create_broadcast(parse_segment("all"), "holiday_hours")  # another message: no matter
    await olga.send("/broadcast")
    await olga.press("All borrowers")
    await olga.press("About the service")
    shown = olga.texts()
    assert "Nobody in All borrowers would get it (3 people in all)." in shown
    assert (
        f"Skipped: 1 asked for quiet, 0 cannot be reached, and the same message is already waiting for 2 of "
        f"them (broadcast {first}), so they do not get it twice."
    ) in shown
    assert "This is the message as" not in shown  # nobody will read it
    assert "So there is nothing to send. You can choose other recipients." in shown
    assert "[Send it]" not in shown and "[Change who gets it]" in shown
    await olga.send("Send it")  # typed anyway: nothing is made
    assert len(await _broadcasts(bot)) == 2
    # Someone new joins: only they get it, and the preview says who is skipped and why.
    dee = await person(bot.store, Channel.TERMINAL, "dee", zone="Asia/Shanghai")
    await olga.send("/broadcast")
    await olga.press("All borrowers")
    await olga.press("About the service")
    assert "It goes to 1 of the 4 people in All borrowers:" in olga.texts()
    await olga.press("Send it")
    second = max(i for i, _, _ in await _broadcasts(bot))
    assert await statuses(bot.store, second) == {**dict.fromkeys(people.values(), "skipped"), dee: "pending"}
    b = models.BroadcastRecipient
    async with bot.store.unit() as session:
        why = await session.scalar(
            select(b.error).where(b.broadcast_id == second, b.account_id == people["ann"])
        )
    assert why == f"already waiting in broadcast {first}"
    # Once the first is sent, the same message may go again.
    async with bot.store.unit() as session:
        await session.execute(update(b).where(b.broadcast_id == first).values(status="sent"))
    await olga.send("/broadcast")
    await olga.press("All borrowers")
    await olga.press("About the service")
    assert "It goes to 2 of the 4 people in All borrowers:" in olga.texts()  # Ann and Bo; Dee has it waiting


async def test_a_language_only_quiet_people_read_has_no_sample(bot: Bot) -> None:
    await person(bot.store, Channel.TERMINAL, "ann", zone="Asia/Shanghai")
    await person(bot.store, Channel.TERMINAL, "bo", locale="zh_CN", zone="Asia/Shanghai", quiet=True)
    olga = await operator(bot)
    await olga.send("/broadcast")
    await olga.press("All borrowers")
    await olga.press("Holiday hours notice")
    shown = olga.texts()
    assert "in English will read it" in shown and "in Chinese will read it" not in shown
    assert "It goes to 1 of the 2 people in All borrowers:" in shown
    assert "• terminal, Chinese" not in shown


async def test_progress_with_only_people_waiting_for_their_hours_says_so(bot: Bot) -> None:
    people = await _borrowers(bot)
    olga = await operator(bot)
    await bot.store.create_broadcast(parse_segment("all"), "service")
    b = models.BroadcastRecipient
    async with bot.store.unit() as session:  # what the sender does outside their hours
        held = b.account_id.in_([people["ann"], people["bo"]])
        await session.execute(update(b).where(held).values(status="held", not_before=bot.store.clock.now()))
    await olga.send("/broadcast 1")
    shown = olga.texts()
    assert "is being sent" not in shown
    assert (
        "Broadcast 1 to All borrowers has gone to everyone it can reach now: sent 0, failed 0, skipped 1 "
        "(of 3). 2 are waiting for their hours (from 08:00 their time) and get it then"
    ) in shown


async def test_a_chinese_mediator_reads_chinese_names(bot: Bot) -> None:
    await _borrowers(bot)
    wang = bot.person("wang", locale="zh_CN")
    await wang.send("/help")
    await bot.store.grant_role(Channel.TERMINAL, "wang", Role.OPERATOR)
    await wang.send("/menu")
    await wang.send("/broadcast")
    await wang.press("全部借款人")
    await wang.press("服务介绍")
    shown = wang.texts()
    assert "“全部借款人”共 3 人，其中 2 人会收到：" in shown
    assert "• 终端，英语：1" in shown and "• 终端，中文：1" in shown
    assert "以下是第一位使用英语的收件人将看到的消息" in shown
    assert "all" not in shown and "English" not in shown and "terminal" not in shown
