"""The payment day typed as people write it (trial 3, item 4): ``tomorrow`` is understood and refused as
a day not yet come, ``this morning`` is today, and ``2/12`` (month or day first?) is asked about when both
readings are possible days, or said back as read when only one is. The agreement began 2026-11-02."""

from __future__ import annotations

from decimal import Decimal

from tests.conftest import FakeClock
from tests.dialogs.harness import Bot, Person
from tests.dialogs.test_payments import active_plan, at, stored


async def _at_the_day_question(alice: Person) -> None:
    await alice.send("/schedule")
    await alice.press("Report a payment")
    await alice.send("100")
    assert "On which day did you pay" in alice.texts(), alice.texts()


async def _send_without_receipt(alice: Person) -> str:
    await alice.press("No receipt")
    check = alice.texts()
    await alice.press("Send it to the lender")
    assert "was sent to the lender to confirm" in alice.texts(), alice.texts()
    return check


async def test_tomorrow_is_a_day_not_yet_come_and_this_morning_is_today(bot: Bot, clock: FakeClock) -> None:
    alice, _olga, _leo = await active_plan(bot)
    at(clock, "2026-12-02")
    await _at_the_day_question(alice)
    for typed in ("tomorrow", "明天"):
        await alice.send(typed)
        said = alice.texts()
        assert "That day has not come yet (today is December 2, 2026)" in said, (typed, said)
        assert "Please report a payment once it is made" in said and "could not read" not in said
    await alice.send("this morning")
    assert "receipt" in alice.texts(), alice.texts()
    assert "Paid on: December 2, 2026" in await _send_without_receipt(alice)
    assert (await stored(bot))[1] == [(Decimal("100.00"), "2026-12-02", "reported")]


async def test_a_date_read_two_ways_is_said_back_when_one_way_is_possible(bot: Bot, clock: FakeClock) -> None:
    alice, _olga, _leo = await active_plan(bot)
    at(clock, "2026-12-02")
    await _at_the_day_question(alice)
    await alice.send("2/11")  # November 2 (day first); February 11 is before the agreement began
    said = alice.texts()
    assert "I read “2/11” as November 2, 2026 (February 11, 2026 is not possible" in said, said
    assert "Paid on: November 2, 2026" in await _send_without_receipt(alice)
    assert (await stored(bot))[1] == [(Decimal("100.00"), "2026-11-02", "reported")]


async def test_a_date_read_two_ways_both_possible_is_asked_about(bot: Bot, clock: FakeClock) -> None:
    alice, _olga, _leo = await active_plan(bot)
    at(clock, "2026-12-20")
    await _at_the_day_question(alice)
    await alice.send("12/11")  # December 11 month first, November 12 day first: both in the agreement
    assert "“12/11” can be read as two different days" in alice.texts(), alice.texts()
    assert (await stored(bot))[1] == []
    await alice.press("November 12, 2026")
    assert "Paid on: November 12, 2026" in await _send_without_receipt(alice)
    assert (await stored(bot))[1] == [(Decimal("100.00"), "2026-11-12", "reported")]
