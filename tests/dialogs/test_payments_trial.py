"""What the first user trial of running plans found, each as the borrower, the lender's staff or a mediator
meets it: the plan's days on the borrower's calendar, amounts checked against payments still waiting, moving
an instalment (partly paid, or ahead of time), dates as people write them, going back without losing
anything, and a check before a dispute or a mediator's decision is acted on.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

from sqlalchemy import select

from storage import models
from tests.conftest import FakeClock
from tests.dialogs.harness import Bot
from tests.dialogs.test_negotiation import approved
from tests.dialogs.test_payments import active_plan, at, report, stored

D = Decimal


async def test_the_plan_starts_on_the_borrowers_day_not_utcs(bot: Bot, clock: FakeClock) -> None:
    alice, _olga, leo = await approved(bot)
    # 03:34 on November 2 in Beijing is still November 1 in UTC
    clock.current = datetime(2026, 11, 1, 19, 34, tzinfo=UTC)
    await leo.press("View and answer")
    await leo.press("Accept")
    alice.received()
    await alice.press("Confirm this agreement")
    await leo.press("Confirm this agreement")
    assert "Agreed: both sides confirmed version 1" in leo.texts()
    async with bot.store.unit() as session:
        first = await session.scalar(select(models.Instalment.due_date).order_by(models.Instalment.number))
    assert first == date(2026, 12, 2)  # a month after Beijing's November 2, not UTC's November 1
    at(clock, "2026-11-02")
    await alice.send("/schedule")
    await alice.press("Report a payment")
    await alice.send("300")
    await alice.send("2026-11-01")  # the day before the agreement, on Alice's calendar
    assert "That is before this agreement began (November 2, 2026)" in alice.texts(), alice.texts()
    await alice.send("2026-11-02")
    assert "receipt" in alice.texts(), alice.texts()


async def test_an_amount_is_checked_against_what_is_left_less_what_waits(bot: Bot, clock: FakeClock) -> None:
    alice, _olga, _leo = await active_plan(bot)
    at(clock, "2026-12-02")
    await report(alice, "3400")  # waits for the lender: ¥14,321.55 is left, ¥10,921.55 may still be owed
    await alice.send("/schedule")
    await alice.press("Report a payment")
    await alice.send("14000")
    assert (
        "¥14,321.55 is left under this plan, and payments of ¥3,400.00 you reported are still waiting for "
        "the lender, so at most ¥10,921.55 can be reported now"
    ) in alice.texts(), alice.texts()
    assert "How much did you pay" in alice.texts()
    await alice.send("10921.55")
    assert "On which day did you pay" in alice.texts(), alice.texts()
    _, payments = await stored(bot)
    assert payments == [(D("3400.00"), "2026-12-02", "reported")]  # nothing more stored until sent
