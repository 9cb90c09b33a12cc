"""A mediator's words to a borrower keep to the borrower's hours like the lender's (trial 1, item 12): at
night the borrower's copy waits in the outbox until 08:00 their time, the mediator is told when it will
arrive and sees it held on the case; the lender's staff get theirs at once; by day it goes at once."""

from __future__ import annotations

from datetime import UTC, datetime

from tests.conftest import FakeClock
from tests.dialogs.harness import Bot
from tests.dialogs.test_negotiation import approved
from tests.dialogs.test_payments import received


async def test_a_mediators_words_at_night_reach_the_borrower_at_eight(bot: Bot, clock: FakeClock) -> None:
    alice, olga, leo = await approved(bot)
    for person in (alice, olga, leo):
        person.received()
    clock.current = datetime(2026, 11, 2, 19, 40, tzinfo=UTC)  # 03:40 in Shanghai
    await olga.send("/case 1")
    await olga.press("Message both")
    await olga.send("Please both look at the offer again tomorrow.")
    said = olga.texts()
    assert "Sent to 2 people. The borrower's copy waits until Nov 3, 08:00 Beijing time" in said, said
    assert received(alice) == ""  # not at 03:40
    assert "Please both look at the offer again tomorrow." in received(leo)
    await olga.send("/case 1")
    assert "a mediator's message" in olga.texts()  # listed as held, with a way to cancel it

    clock.current = datetime(2026, 11, 3, 0, 0, tzinfo=UTC)  # 08:00 in Shanghai
    await bot.app.delivery.release_due()
    await bot.app.delivery.drain()
    assert "Please both look at the offer again tomorrow." in received(alice)


async def test_by_day_a_mediators_words_go_at_once(bot: Bot, clock: FakeClock) -> None:
    alice, olga, _leo = await approved(bot)
    alice.received()
    clock.current = datetime(2026, 11, 2, 3, 0, tzinfo=UTC)  # 11:00 in Shanghai
    await olga.send("/case 1")
    await olga.press("Message the borrower")
    await olga.send("Your plan was approved; the lender has it now.")
    assert "Sent to 1 person." in olga.texts() and "waits until" not in olga.texts()
    assert "Your plan was approved; the lender has it now." in received(alice)


async def test_at_night_the_answer_to_her_own_request_for_a_person_goes_at_once(
    bot: Bot, clock: FakeClock
) -> None:
    alice, olga, _leo = await approved(bot)
    clock.current = datetime(2026, 11, 2, 23, 0, tzinfo=UTC)  # 07:00 in Shanghai: she is up and writing
    await alice.send("/help")
    await alice.press("Talk to a person")
    await alice.send("The lender says my payment never arrived, I am scared")
    alice.received()
    await olga.send("/case 1")
    await olga.press("Message the borrower")
    await olga.send("I am looking at it now; nothing changes until we have checked.")
    assert "waits until" not in olga.texts(), olga.texts()
    assert "nothing changes until we have checked" in received(alice)

    await olga.press("Mark the request handled")  # answered: later words keep to her hours again
    await olga.send("/case 1")
    await olga.press("Message the borrower")
    await olga.send("Please send me the bank reference when you can.")
    assert "waits until Nov 3, 08:00 Beijing time" in olga.texts(), olga.texts()
    assert received(alice) == ""
