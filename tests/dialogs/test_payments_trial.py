"""What the first user trial of running plans found, each as the borrower, the lender's staff or a mediator
meets it: the plan's days on the borrower's calendar, amounts checked against payments still waiting, moving
an instalment (partly paid, or ahead of time), dates as people write them, going back without losing
anything, and a check before a dispute or a mediator's decision is acted on.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

from sqlalchemy import select

from bot.channels.terminal import plain
from bot.rendering import Renderer
from dialogs.domain import Account, Channel, Role
from dialogs.messages import InboundKind, Outbound
from storage import models
from tests.conftest import FakeClock
from tests.dialogs.harness import Bot, Person
from tests.dialogs.test_breach_completion import confirm_payment
from tests.dialogs.test_negotiation import approved
from tests.dialogs.test_payments import MONTHLY, active_plan, at, received, report, send_receipt, stored
from tests.test_templates import SAMPLES

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


async def test_a_partly_paid_instalment_keeps_its_money_and_only_the_rest_moves(
    bot: Bot, clock: FakeClock
) -> None:
    alice, _olga, leo = await active_plan(bot)
    at(clock, "2026-12-02")
    await confirm_payment(alice, leo, "795.64", "¥795.64")
    await confirm_payment(alice, leo, "500", "¥500.00")  # ¥500 of instalment 2 (January 2)
    at(clock, "2027-01-05")
    await alice.send("/schedule")
    await alice.press("I can't pay an instalment")
    offer = alice.texts()
    assert "You have already paid ¥500.00 of instalment 2 (due January 2, 2027)" in offer, offer
    assert (
        "Only the ¥295.64 still to pay moves to the end of the plan, as instalment 19 due June 2, 2028"
        in offer
    )
    await alice.press("Yes, move it")
    assert (
        "the ¥500.00 you paid stays on instalment 2, and the ¥295.64 still owed on it is now instalment 19"
        in (alice.texts())
    )
    instalments, _ = await stored(bot)
    assert instalments[1] == (2, D("500.00"), D("500.00"), "paid", False)
    assert instalments[2] == (3, MONTHLY, D("0.00"), "due", False)  # owed in full, nothing slid onto it
    assert instalments[-1] == (19, D("295.64"), D("0.00"), "due", True)
    assert sum(row[1] for row in instalments) == D("14321.55")  # the total to repay is the same
    await alice.send("/schedule")
    schedule = alice.texts()
    assert "2. January 2, 2027 – ¥500.00 – paid" in schedule
    assert "3. February 2, 2027 – ¥795.64 – upcoming" in schedule
    assert "19. June 2, 2028 – ¥295.64 – moved to the end (moved from January 2, 2027)" in schedule
    # the only move is used: neither the footer nor a button offers another
    assert "I can't pay an instalment" not in schedule and "moves to the end" not in schedule
    assert "If you cannot pay one, talk to a mediator before its due date" in schedule
    await alice.send("I can't pay March either")
    assert "that has been used" in alice.texts(), alice.texts()


async def test_the_borrower_asks_ahead_of_time_in_words_or_with_the_button(
    bot: Bot, clock: FakeClock
) -> None:
    alice, _olga, leo = await active_plan(bot)
    at(clock, "2026-11-10")  # three weeks before the first instalment (December 2)
    await alice.send("/schedule")
    assert 'tell us before its due date: choose "I can\'t pay an instalment"' in alice.texts()
    assert "[I can't pay an instalment: move it to the end]" in alice.texts()
    await alice.send("I can't pay December, can I move it to the end?")
    assert "You can move instalment 1 (¥795.64, due December 2, 2026) to the end of the plan" in alice.texts()
    await alice.press("No, keep the plan")
    await alice.send("这期付不了")
    assert "You can move instalment 1" in alice.texts(), alice.texts()
    await alice.press("Yes, move it")
    assert "instalment 1 (due December 2, 2026) now falls due on June 2, 2028" in alice.texts()
    assert "moved instalment 1 from December 2, 2026 to the end of the plan" in received(leo)
    await leo.send("/schedule 1")
    staff_view = leo.texts()
    assert "tell us" not in staff_view and "The moves the agreement allows have been used." in staff_view


async def test_the_receipt_question_keeps_its_own_choices_after_a_bad_answer(
    bot: Bot, clock: FakeClock
) -> None:
    alice, _olga, _leo = await active_plan(bot)
    at(clock, "2026-12-02")
    await alice.send("/schedule")
    await alice.press("Report a payment")
    await alice.send("300")
    await alice.press("Today")
    await alice.deliver(alice.inbound(InboundKind.FILE, "", size="big", sha256="zz", ref=""))
    answer = alice.texts()
    assert "I could not read that file. Please send the receipt again" in answer, answer
    assert "Skip" not in answer and "[No receipt]" in answer  # the question is asked again with its choices
    await alice.send("hello")
    assert 'if you have none, choose "No receipt" below' in alice.texts() and "Skip" not in alice.texts()
    await alice.send("没有收据")  # said in words, taken as the choice
    assert "Please check your report" in alice.texts() and "Receipt: none" in alice.texts(), alice.texts()


async def to_day_step(alice: Person, amount: str = "300") -> None:
    await alice.send("/schedule")
    await alice.press("Report a payment")
    await alice.send(amount)
    assert "On which day did you pay" in alice.texts(), alice.texts()


async def test_days_typed_as_people_write_them(bot: Bot, clock: FakeClock) -> None:
    alice, _olga, _leo = await active_plan(bot)
    at(clock, "2026-12-02")
    for typed in ("2026年12月1日", "12月1日", "Dec 1", "12/1", "昨天"):
        await to_day_step(alice)
        await alice.send(typed)
        assert "receipt" in alice.texts(), (typed, alice.texts())
        await alice.press("No receipt")
        assert "Paid on: December 1, 2026\n" in alice.texts(), (typed, alice.texts())
        await alice.press("Cancel")
    await to_day_step(alice)
    assert "for example 2026-12-02" in alice.texts()  # the example is a day the check accepts
    await alice.send("last time")
    assert "I could not read that as a day. Type it like 2026-12-02" in alice.texts(), alice.texts()
    await alice.send("2026-12-02")
    assert "receipt" in alice.texts(), alice.texts()
    await alice.press("Cancel")
    _, payments = await stored(bot)
    assert payments == []


async def test_a_day_not_remembered_is_recorded_as_today_and_said(bot: Bot, clock: FakeClock) -> None:
    alice, _olga, leo = await active_plan(bot)
    at(clock, "2026-12-02")
    await to_day_step(alice)
    await alice.send("上周，记不清了")
    await alice.press("No receipt")
    assert "Paid on: December 2, 2026 (you do not remember the exact day" in alice.texts(), alice.texts()
    await alice.press("Send it to the lender")
    assert "The borrower does not remember the exact day" in received(leo)
    _, payments = await stored(bot)
    assert payments == [(D("300.00"), "2026-12-02", "reported")]


async def test_a_dispute_needs_a_reason_and_a_check_and_so_does_the_mediators_decision(
    bot: Bot, clock: FakeClock
) -> None:
    alice, olga, leo = await active_plan(bot)
    at(clock, "2026-12-02")
    await report(alice, "795.64")
    await leo.press("has not arrived")
    await leo.send("ok")
    assert "Please say a little more (at least 8 characters)" in leo.texts(), leo.texts()
    assert "Why has the payment of ¥795.64" in leo.texts()  # asked again
    await leo.send("Not in our account on December 2.")
    check = leo.texts()
    assert "Please check before it is sent" in check and '"Not in our account on December 2."' in check
    await leo.press("Change")
    assert 'So far you wrote: "Not in our account on December 2."' in leo.texts()
    await leo.press("Keep what I wrote")
    assert "Please check before it is sent" in leo.texts()
    assert received(alice) == ""  # nothing reaches the borrower before it is sent
    _, payments = await stored(bot)
    assert payments == [(D("795.64"), "2026-12-02", "reported")]
    await leo.press("Send it")
    assert 'not translated): "Not in our account on December 2."' in received(alice)

    olga.received()
    await olga.send("/schedule 1")
    await olga.press("was paid: count it")
    assert "Please check before you decide" in olga.texts() and "You decide it was paid" in olga.texts()
    await olga.press("No, not yet")
    assert "Nothing was decided" in olga.texts()
    _, payments = await stored(bot)
    assert payments == [(D("795.64"), "2026-12-02", "disputed")]
    await olga.send("/schedule 1")
    await olga.press("was paid: count it")
    await olga.press("Yes, decide it")
    assert "You found that the payment of ¥795.64" in olga.texts()
    _, payments = await stored(bot)
    assert payments == [(D("795.64"), "2026-12-02", "confirmed")]


async def test_going_back_in_a_report_keeps_what_was_typed(bot: Bot, clock: FakeClock) -> None:
    alice, _olga, leo = await active_plan(bot)
    at(clock, "2026-12-02")
    await to_day_step(alice, "300")
    await alice.send("/back")
    assert "How much did you pay" in alice.texts() and "[Keep ¥300.00]" in alice.texts(), alice.texts()
    await alice.press("Keep ¥300.00")
    await alice.send("12月1日")
    await send_receipt(alice)
    assert "Please check your report" in alice.texts() and "transfer.jpg" in alice.texts()
    await alice.press("Change")
    assert "[Keep ¥300.00]" in alice.texts(), alice.texts()
    await alice.press("Keep ¥300.00")
    assert "[Keep December 1, 2026]" in alice.texts(), alice.texts()
    await alice.press("Keep December 1, 2026")
    assert "[Keep the receipt transfer.jpg]" in alice.texts(), alice.texts()
    await alice.press("Keep the receipt")
    check = alice.texts()
    assert "Amount: ¥300.00" in check and "Paid on: December 1, 2026" in check and "transfer.jpg" in check
    await alice.press("Send it to the lender")
    _, payments = await stored(bot)
    assert payments == [(D("300.00"), "2026-12-01", "reported")]
    assert "with a receipt" in received(leo)
    await to_day_step(alice, "100")  # a new report starts empty
    await alice.send("/back")
    assert "[Keep ¥100.00]" in alice.texts() and "Keep ¥300.00" not in alice.texts()


async def test_the_schedule_says_upcoming_and_is_not_reprinted_after_a_command(
    bot: Bot, clock: FakeClock
) -> None:
    alice, _olga, _leo = await active_plan(bot)
    at(clock, "2026-12-02")
    await alice.send("/schedule")
    schedule = alice.texts()
    assert "1. December 2, 2026 – ¥795.64 – due today" in schedule
    assert "2. January 2, 2027 – ¥795.64 – upcoming" in schedule
    for command in ("/quiet", "/quiet off", "/help"):
        await alice.send(command)
        again = alice.texts()
        assert "Repayment schedule" not in again and "2. January 2, 2027" not in again, (command, again)
        assert "The schedule of case 1 is above" in again and "[Report a payment]" in again, again
    await alice.press("Report a payment")  # the choices still work after the short question
    assert "How much did you pay" in alice.texts()


async def test_staff_read_staff_words_on_a_running_plan(bot: Bot, clock: FakeClock) -> None:
    alice, _olga, leo = await active_plan(bot)
    at(clock, "2026-12-02")
    await leo.send("/menu")
    assert "/schedule N" in leo.texts(), leo.texts()
    await report(alice, "795.64")
    await leo.send("/case 1")
    await leo.press("View and answer")
    view = leo.texts()
    assert "No offer is waiting for an answer" not in view and "[See the schedule]" in view, view
    await leo.press("See the schedule")
    schedule = leo.texts()
    assert "Payments waiting for confirmation" in schedule and "[Confirm ¥795.64 received]" in schedule
    assert "tell us" not in schedule and "The borrower may still move one instalment" in schedule
    await leo.press("Confirm ¥795.64 received")
    assert "You confirmed that the payment of ¥795.64" in leo.texts(), leo.texts()
    assert "The lender confirmed that the payment of ¥795.64" in received(alice)


async def test_a_disputed_payment_with_a_receipt_is_not_asked_for_one(bot: Bot, clock: FakeClock) -> None:
    alice, _olga, leo = await active_plan(bot)
    at(clock, "2026-12-02")
    await report(alice, "795.64", receipt=True)
    await leo.press("has not arrived")
    await leo.send("Nothing reached our account on December 2.")
    await leo.press("Send it")
    told = received(alice)
    assert "The receipt you sent is on the case, and the mediator will look at it" in told, told
    assert "If you have a receipt" not in told and "This is not the final word" in told


def _zh(name: str, **context: object) -> str:
    recipient = Account(1, Channel.TERMINAL, "1", Role.BORROWER, "zh_CN", "Asia/Shanghai", reachable=True)
    return plain(Renderer().render(Outbound(1, name, {**SAMPLES, **context}), recipient).text)


def test_chinese_payment_wording_reads_naturally() -> None:
    schedule = _zh("payments/schedule")
    assert "已付 ¥1,500.00（共 ¥14,400.00），尚需支付 ¥2,100.00。" in schedule, schedule
    assert "2026年12月1日支付 ¥1,200.00" in schedule  # no space between 日 and the verb
    reason = {**SAMPLES["payment"], "reason": "Nothing arrived in 3 days."}
    staff = _zh("payments/disputed_staff", payment=reason)
    assert "3 days.”调解员" in staff and "”。" not in staff  # the quote's own full stop, not a second
    disputed = _zh("payments/disputed", payment={**SAMPLES["payment"], "receipt": True})
    assert "这还不是最终结论" in disputed and "您发来的收据已经在案件中" in disputed


async def test_stopping_a_report_says_so_and_records_nothing(bot: Bot, clock: FakeClock) -> None:
    """/cancel in a running plan's payment report is not an application saved as a draft."""
    alice, _olga, _leo = await active_plan(bot)
    at(clock, "2026-12-02")
    await to_day_step(alice, "300")
    await alice.send("/cancel")
    said = alice.texts()
    assert "Stopped." in said and "draft" not in said and "Continue my application" not in said, said
    _, payments = await stored(bot)
    assert payments == []
