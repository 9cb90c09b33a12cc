"""Payments after a breach (user trial 3, item 5): money a borrower pays after the agreement ended in breach
still counts towards the debt, so she reports it as before, from the menu, /status or /schedule; the
lender's staff confirm or dispute it, the mediators see it, and a dispute is theirs to resolve. It is
recorded against the case, which stays in breach (no plan to complete), and every side is told so plainly.
The store takes reports on running and breached plans only.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from dialogs.errors import PermissionDenied
from dialogs.lifecycle import CaseState
from tests.conftest import FakeClock
from tests.dialogs.harness import Bot, Person
from tests.dialogs.test_after_breach import buttons
from tests.dialogs.test_breach_completion import sweep
from tests.dialogs.test_negotiation import approved
from tests.dialogs.test_payments import active_plan, as_person, at, case_state, received, stored

D = Decimal
REASON = "Nothing from this borrower arrived after the breach."


async def _in_breach(bot: Bot, clock: FakeClock) -> tuple[Person, Person, Person]:
    alice, olga, leo = await active_plan(bot)
    at(clock, "2026-12-18")  # 11:00 in Shanghai: instalment 1 (December 2) is 16 days late
    assert await sweep(bot, clock) == 1
    assert await case_state(bot) is CaseState.DEFAULTED
    for person in (alice, olga, leo):
        person.received()
    return alice, olga, leo


async def _report_from_the_menu(alice: Person, amount: str) -> None:
    await alice.send("/menu")
    assert "every payment you still make counts towards what you owe: report it as before" in alice.texts()
    assert {"Report a payment", "Talk to a person"} <= set(buttons(alice)), buttons(alice)
    await alice.press("Report a payment")
    assert "How much did you pay" in alice.texts(), alice.texts()
    await alice.send(amount)
    await alice.press("Today")
    await alice.press("No receipt")
    await alice.press("Send it to the lender")
    assert "was sent to the lender to confirm" in alice.texts(), alice.texts()


async def test_a_payment_after_breach_is_reported_confirmed_and_counted(bot: Bot, clock: FakeClock) -> None:
    alice, olga, leo = await _in_breach(bot, clock)
    await _report_from_the_menu(alice, "795.64")
    asked = received(leo)
    assert "ended in breach, but money paid now still counts towards the debt" in asked, asked
    assert "Case 1 ended in breach, and the borrower now reports a payment of ¥795.64" in received(olga)
    await leo.press("Confirm ¥795.64 received")
    instalments, payments = await stored(bot)
    assert payments == [(D("795.64"), "2026-12-18", "confirmed")]
    assert instalments[0][:4] == (1, D("795.64"), D("795.64"), "paid")
    assert await case_state(bot) is CaseState.DEFAULTED  # recorded against the case; the breach stands
    await leo.press("Confirm ¥795.64 received")  # pressed again: what was decided, not "no longer running"
    assert "was already decided: confirmed. Nothing was changed." in leo.texts(), leo.texts()
    told = received(alice)
    assert "the payment is recorded against this case and counts towards the debt" in told, told
    await alice.send("/schedule")
    schedule = alice.texts()
    assert "Paid so far: ¥795.64" in schedule and "A payment you make now still counts" in schedule, schedule
    await alice.send("/status")
    assert "Report a payment" in buttons(alice)


async def test_a_payment_disputed_after_breach_is_the_mediators_to_resolve(
    bot: Bot, clock: FakeClock
) -> None:
    alice, olga, leo = await _in_breach(bot, clock)
    await _report_from_the_menu(alice, "300")
    await leo.press("has not arrived")
    await leo.send(REASON)
    await leo.press("Send it")
    assert REASON in received(alice)
    olga.received()
    await olga.send("/schedule 1")
    assert "This agreement ended in breach. Payments the borrower makes now" in olga.texts()
    await olga.press("was paid: count it")
    await olga.press("Yes, decide it")
    _, payments = await stored(bot)
    assert payments == [(D("300.00"), "2026-12-18", "confirmed")]
    assert await case_state(bot) is CaseState.DEFAULTED


async def test_the_store_takes_payments_on_running_and_breached_plans_only(
    bot: Bot, clock: FakeClock
) -> None:
    await approved(bot)  # negotiating: no plan yet
    with pytest.raises(PermissionDenied):
        await as_person(
            bot, "alice", lambda turn: turn.report_payment(1, D("10.00"), date(2026, 11, 2), None)
        )
    assert (await stored(bot))[1] == []
