"""The end of a running plan, driven by the clock on both databases: a missed instalment moved once (a second
refused), a breach after the grace period (a discounted settlement voided), completion with the closing
statements. The breach sweep runs through the engine's front door: run again, or late, it acts once.
"""

from __future__ import annotations

import asyncio
from datetime import date
from decimal import Decimal

from sqlalchemy import select

from bot.scheduler import start_scheduler
from dialogs import supervision
from dialogs.lifecycle import CaseState
from storage import models
from tests.conftest import FakeClock
from tests.dialogs.harness import Bot, Person
from tests.dialogs.test_blind_bid_paths import _bid
from tests.dialogs.test_negotiation import approved
from tests.dialogs.test_payments import MONTHLY, active_plan, at, case_state, received, report, stored

D = Decimal


async def sweep(bot: Bot, clock: FakeClock) -> int:
    checked = await supervision.sweep(bot.app.engine, bot.store, clock.now())
    await bot.app.delivery.drain()
    return checked


async def events(bot: Bot, kind: str) -> list[dict[str, object]]:
    async with bot.store.unit() as session:
        rows = await session.scalars(select(models.CaseEvent).where(models.CaseEvent.kind == kind))
        return [dict(row.details, to_state=row.to_state) for row in rows]


async def confirm_payment(borrower: Person, lender: Person, amount: str, label: str) -> None:
    await report(borrower, amount)
    await lender.press(f"Confirm {label} received")
    assert "You confirmed" in lender.texts(), lender.texts()


async def test_a_missed_instalment_moves_once_then_the_grace_period_ends_the_plan(
    bot: Bot, clock: FakeClock
) -> None:
    alice, olga, leo = await active_plan(bot)
    at(clock, "2026-12-05")  # instalment 1 (December 2) is late
    assert await sweep(bot, clock) == 0  # late, not yet past the 15 days of grace
    await alice.send("/schedule")
    assert "1. December 2, 2026 – ¥795.64 – late" in alice.texts()
    await alice.press("move it to the end")
    offer = (
        "You can move instalment 1 (¥795.64, due December 2, 2026) to the end of the plan, on June 2, 2028"
    )
    assert offer in alice.texts()
    await alice.press("Yes, move it")
    assert "instalment 1 (due December 2, 2026) now falls due on June 2, 2028" in alice.texts()
    assert "moved instalment 1 from December 2, 2026 to the end of the plan, June 2, 2028" in received(leo)
    instalments, _ = await stored(bot)
    assert instalments[0] == (1, MONTHLY, D(0), "due", True)
    async with bot.store.unit() as session:
        first = await session.scalar(select(models.Instalment).where(models.Instalment.number == 1))
    assert first is not None and (first.due_date, first.original_due_date) == (
        date(2028, 6, 2),
        date(2026, 12, 2),
    )
    await alice.send("/schedule")
    assert "1. June 2, 2028 – ¥795.64 – moved to the end" in alice.texts()

    # December 20: the moved instalment is not late, so nothing is breached
    at(clock, "2026-12-20")
    assert await sweep(bot, clock) == 0
    # January: instalment 2 paid; February: instalment 3 missed, and the tolerance is used
    at(clock, "2027-01-02")
    await confirm_payment(alice, leo, "795.64", "¥795.64")
    instalments, _ = await stored(bot)
    assert instalments[1][2:4] == (MONTHLY, "paid") and instalments[0][2] == D(0)  # not the moved one
    at(clock, "2027-02-04")
    await alice.send("/schedule")
    assert "move it to the end" not in alice.texts()  # the move is used: no longer offered
    await alice.send("I can't pay February")  # asked in words, the answer says why not and who can help
    assert "that has been used" in alice.texts() and "Talk to a person" in alice.texts()
    assert [i[4] for i in (await stored(bot))[0]].count(True) == 1

    at(clock, "2027-02-17")  # 15 days after February 2: still within the grace period
    assert await sweep(bot, clock) == 1
    assert await case_state(bot) is CaseState.ACTIVE
    at(clock, "2027-02-18")  # the 16th day
    assert await sweep(bot, clock) == 1
    assert await case_state(bot) is CaseState.DEFAULTED
    told = received(alice)
    assert "Instalment 3 on case 1 (¥795.64, due February 2, 2027) is still unpaid more than 15 days" in told
    assert "the lender may go back to the loan's original terms" in told and "talk to a mediator" in told
    assert "Talk to a person" in "".join(b.label for m in alice.last for b in m.buttons)
    for staff in (leo, olga):
        assert "Case 1 is in breach: instalment 3" in received(staff)
    # Run again, and late: nothing happens twice
    clock.advance(days=3)
    assert await sweep(bot, clock) == 0
    assert received(alice) == "" and received(leo) == ""
    assert len(await events(bot, "transition")) > 0
    defaulted = [e for e in await events(bot, "transition") if e["to_state"] == "defaulted"]
    assert defaulted == [
        {"why": "grace_passed", "instalment": 3, "settlement_voided": False, "to_state": "defaulted"}
    ]
    await alice.send("/schedule")
    # In breach: no move any more, but a payment made now is still reported (trial 3, item 5)
    assert "[Report a payment]" in alice.texts() and "move it to the end" not in alice.texts()


async def test_a_missed_settlement_is_void_after_the_grace_period(bot: Bot, clock: FakeClock) -> None:
    alice, olga, leo = await approved(bot)
    await _bid(alice, leo, "9000", "8600")  # settles at ¥8,800.00 in one payment
    alice.received()
    await alice.press("Confirm this agreement")
    await leo.press("Confirm this agreement")
    assert await case_state(bot) is CaseState.ACTIVE
    for person in (alice, olga, leo):
        person.received()
    at(clock, "2026-12-05")
    await alice.send("/schedule")
    assert "1. December 2, 2026 – ¥8,800.00 – late" in alice.texts()
    assert "move it to the end" not in alice.texts()  # a settlement has no move to offer
    await alice.send("I can't pay it, can I move it?")
    assert "This is a one-payment settlement: its payment cannot be moved" in alice.texts()
    assert not any(i[4] for i in (await stored(bot))[0])

    at(clock, "2026-12-18")
    assert await sweep(bot, clock) == 1
    assert await case_state(bot) is CaseState.DEFAULTED
    told = received(alice)
    assert "this was a discounted settlement, and as its clause says, the discount no longer applies" in told
    assert "the discount is void, as its clause says" in received(leo)
    assert "the discount is void, as its clause says" in received(olga)
    defaulted = [e for e in await events(bot, "transition") if e["to_state"] == "defaulted"]
    assert defaulted[0]["settlement_voided"] is True


async def test_completion_sends_the_closing_statements(bot: Bot, clock: FakeClock) -> None:
    alice, olga, leo = await active_plan(bot)
    for day in ("2026-12-02", "2027-01-02", "2027-02-01"):  # month by month
        at(clock, day)
        await confirm_payment(alice, leo, "795.64", "¥795.64")
    assert [i[3] for i in (await stored(bot))[0][:4]] == ["paid", "paid", "paid", "due"]
    at(clock, "2027-03-01")
    await report(alice, "100")
    await report(alice, "11834.63")  # everything left with the ¥100 waiting, early: over the remaining 15
    await leo.press("Confirm ¥100.00 received")
    assert await case_state(bot) is CaseState.ACTIVE
    await leo.press("Confirm ¥11,834.63 received")
    assert await case_state(bot) is CaseState.COMPLETED
    instalments, payments = await stored(bot)
    assert all(status == "paid" and paid == amount for _, amount, paid, status, _ in instalments)
    assert sum(p[0] for p in payments) == D("14321.55")

    told = received(alice)
    assert "CLOSING STATEMENT – case 1" in told
    assert "Agreed on November 2, 2026: Interest stopped" in told
    for line in ("December 2, 2026 – ¥795.64", "February 1, 2027 – ¥795.64", "March 1, 2027 – ¥11,834.63"):
        assert line in told
    assert "Total paid: ¥14,321.55. Completed on March 1, 2027." in told
    assert "more than the plan asked for" not in told
    assert "The debt under this agreement is settled" in told
    lender_side = "\n".join([leo.texts(), received(leo)])
    assert "CLOSING STATEMENT – case 1" in lender_side and "debt under this agreement is settled" not in (
        lender_side
    )
    assert "the case is completed" in received(olga)
    # Nothing more to report, and no breach can follow a completed plan
    await alice.send("/schedule")
    assert "Report a payment" not in alice.texts()
    at(clock, "2028-12-01")
    assert await sweep(bot, clock) == 0


async def test_a_breach_the_bot_was_down_for_is_acted_on_when_the_scheduler_starts(
    bot: Bot, clock: FakeClock
) -> None:
    alice, _, leo = await active_plan(bot)
    at(clock, "2027-01-10")  # days of downtime: instalment 1 is 39 days late
    scheduler = start_scheduler(bot.app.engine, bot.store, clock, bot.app.delivery)
    try:
        for _ in range(100):  # the breach job runs on start, not a quarter of an hour later
            if await case_state(bot) is CaseState.DEFAULTED:
                break
            await asyncio.sleep(0.05)
    finally:
        scheduler.shutdown(wait=False)
    assert await case_state(bot) is CaseState.DEFAULTED
    await bot.app.delivery.drain()
    assert "Instalment 1 on case 1" in received(alice) and "Case 1 is in breach" in received(leo)


async def test_a_breach_found_at_night_reaches_the_borrower_at_eight(bot: Bot, clock: FakeClock) -> None:
    alice, olga, leo = await active_plan(bot)
    at(clock, "2026-12-18", hour=17)  # 01:00 in Shanghai, the 16th day after instalment 1
    assert await sweep(bot, clock) == 1
    assert await case_state(bot) is CaseState.DEFAULTED
    assert "Case 1 is in breach" in received(leo) and "Case 1 is in breach" in received(olga)
    assert received(alice) == ""  # not at one in the morning
    at(clock, "2026-12-19", hour=0)  # 08:00 in Shanghai
    await bot.app.delivery.release_due()
    await bot.app.delivery.drain()
    assert "the agreement is now in breach" in received(alice)


async def test_a_payment_the_lender_has_not_decided_holds_the_breach_off(bot: Bot, clock: FakeClock) -> None:
    alice, olga, leo = await active_plan(bot)
    at(clock, "2026-12-10")
    await report(alice, "795.64", "2026-12-09")  # late, but paid; the lender does not answer
    leo.received()
    at(clock, "2026-12-18")  # the 16th day
    assert await sweep(bot, clock) == 1
    assert await case_state(bot) is CaseState.ACTIVE  # not lost to the other side's silence
    asked = received(leo)
    assert "the borrower reported payments that would cover it and they are not decided yet" in asked
    assert "¥795.64 paid December 9, 2026 – waiting for the lender to confirm" in asked
    assert "instalment 1 (due December 2, 2026) is past the grace period" in received(olga)
    assert received(alice) == ""
    clock.advance(hours=1)
    assert await sweep(bot, clock) == 1
    assert received(leo) == "" and received(olga) == ""  # asked once
    # Disputed, then not counted by the mediator: the next check finds the breach
    await leo.press("has not arrived")
    await leo.send("No such transfer.")
    await leo.press("Send it")
    await olga.press("not shown: do not count it")
    await olga.press("Yes, decide it")
    assert await case_state(bot) is CaseState.ACTIVE
    clock.advance(minutes=15)
    assert await sweep(bot, clock) == 1
    assert await case_state(bot) is CaseState.DEFAULTED
    assert "the agreement is now in breach" in received(alice)
