"""A dispute's reason is the lender's words to the borrower about money (user trial 3, item 1): it keeps to
her hours (08:00–21:00 her zone), counts in the day's collection cap with reminders and the lender's other
words, is framed as the lender's own words in her language, and a mediator's decision taken while it is
held never overtakes it (upheld: the held dispute is never sent; rejected: the decision follows it).
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import select

from bot.channels.terminal import plain
from bot.rendering import Renderer
from dialogs.domain import Account, Channel, Role
from dialogs.lifecycle import CaseState
from dialogs.messages import Outbound
from storage import models
from tests.conftest import FakeClock
from tests.dialogs.harness import Bot, Person
from tests.dialogs.test_breach_completion import sweep
from tests.dialogs.test_payments import active_plan, at, case_state, received, report
from tests.test_templates import SAMPLES

NIGHT = datetime(2026, 12, 2, 14, 30, tzinfo=UTC)  # 22:30 in Shanghai
MORNING = datetime(2026, 12, 3, 0, 0, tzinfo=UTC)  # 08:00 the next day
REASON = "Nothing arrived in our account on December 2."
FRAMED = "The lender says, in their own words (passed on as they wrote them, not translated): "


async def _dispute(leo: Person, reason: str = REASON) -> str:
    await leo.press("has not arrived")
    await leo.send(reason)
    await leo.press("Send it")
    return leo.texts()


async def _morning(bot: Bot, clock: FakeClock) -> None:
    clock.current = MORNING
    await bot.app.delivery.release_due()
    await bot.app.delivery.drain()


async def _reported_by_day_disputed_at_night(bot: Bot, clock: FakeClock) -> tuple[Person, Person, Person]:
    alice, olga, leo = await active_plan(bot)
    at(clock, "2026-12-02")
    await report(alice, "795.64")
    clock.current = NIGHT
    told = await _dispute(leo)
    assert "The borrower will be told at Dec 3, 08:00 Beijing time" in told, told
    assert received(alice) == ""  # not at 22:30
    return alice, olga, leo


async def test_a_dispute_written_at_night_reaches_the_borrower_in_her_morning(
    bot: Bot, clock: FakeClock
) -> None:
    alice, olga, _leo = await _reported_by_day_disputed_at_night(bot, clock)
    await olga.send("/case 1")
    shown = olga.texts()
    assert "the lender's dispute of a payment" in shown and REASON in shown, shown  # it may be cancelled
    await _morning(bot, clock)
    arrived = received(alice)
    assert f'{FRAMED}"{REASON}"' in arrived, arrived
    async with bot.store.unit() as session:
        box = models.OutboxMessage
        [row] = await session.scalars(select(box).where(box.template == "payments/disputed"))
    assert row.not_before == MORNING and row.sent_at is not None


async def test_a_dispute_counts_in_the_days_cap_with_the_mediators_words(bot: Bot, clock: FakeClock) -> None:
    alice, olga, leo = await active_plan(bot)
    at(clock, "2026-12-02")
    await report(alice, "795.64")
    alice.received()
    told = await _dispute(leo)
    assert "with your reason as you wrote it" in told and "will be told at" not in told, told
    assert REASON in received(alice)  # by day, at once: one of today's three
    for words in ("About your payment, note 1.", "Note 2.", "Note 3."):
        clock.advance(minutes=1)
        await olga.send("/case 1")
        await olga.press("Message the borrower")
        await olga.send(words)
    await bot.app.delivery.drain()
    today = received(alice)
    assert "note 1." in today and "Note 2." in today and "Note 3." not in today, today  # 3 a day, dispute too
    await _morning(bot, clock)
    assert "Note 3." in received(alice)


async def test_a_payment_upheld_at_night_never_sends_the_held_dispute(bot: Bot, clock: FakeClock) -> None:
    alice, olga, _leo = await _reported_by_day_disputed_at_night(bot, clock)
    olga.received()
    await olga.send("/schedule 1")
    await olga.press("was paid: count it")
    await olga.press("Yes, decide it")
    assert "The mediator found that the payment of ¥795.64" in received(alice)  # good news goes at once
    await _morning(bot, clock)
    assert REASON not in received(alice)  # "the lender cannot find it" is no longer true
    async with bot.store.unit() as session:
        box = models.OutboxMessage
        [row] = await session.scalars(select(box).where(box.template == "payments/disputed"))
    assert row.sent_at is None and row.failed and row.last_error == "cancelled: the payment was confirmed"


async def test_a_payment_rejected_at_night_is_told_after_the_dispute(bot: Bot, clock: FakeClock) -> None:
    alice, olga, _leo = await _reported_by_day_disputed_at_night(bot, clock)
    olga.received()
    await olga.send("/schedule 1")
    await olga.press("not shown: do not count it")
    await olga.press("Yes, decide it")
    assert received(alice) == ""  # the decision does not arrive before the dispute it decides
    await _morning(bot, clock)
    arrived = [plain(m.text) for m in alice.received()]
    assert len(arrived) == 2 and REASON in arrived[0] and "cannot be counted" in arrived[1], arrived


def _render(template: str, locale: str, **context: object) -> str:
    reader = Account(1, Channel.TERMINAL, "1", Role.BORROWER, locale, "Asia/Shanghai", reachable=True)
    return plain(Renderer().render(Outbound(1, template, {**SAMPLES, **context}), reader).text)


def test_the_dispute_is_framed_as_the_lenders_words_in_the_borrowers_language() -> None:
    payment = {**SAMPLES["payment"], "reason": "款项未到账"}
    chinese = _render("payments/disputed", "zh_CN", payment=payment)
    assert "贷款机构说（原话照转，未经翻译）：“款项未到账”" in chinese, chinese
    english = _render("payments/disputed", "en", payment={**payment, "reason": "Not received"})
    assert f'{FRAMED}"Not received"' in english, english


async def test_a_dispute_held_overnight_still_goes_when_the_plan_breaches_before_morning(
    bot: Bot, clock: FakeClock
) -> None:
    alice, _olga, leo = await active_plan(bot)
    at(clock, "2026-12-17")  # instalment 1 (December 2) is 15 days late: the last day of grace
    await report(alice, "100")  # too little to hold the breach off
    clock.current = datetime(2026, 12, 17, 14, 30, tzinfo=UTC)  # 22:30 in Shanghai
    await _dispute(leo)
    clock.current = datetime(2026, 12, 17, 17, 0, tzinfo=UTC)  # 01:00 on December 18: the plan breaches
    assert await sweep(bot, clock) == 1
    assert await case_state(bot) is CaseState.DEFAULTED
    assert REASON not in received(alice)
    clock.current = datetime(2026, 12, 18, 0, 0, tzinfo=UTC)  # 08:00: the payment is still in question
    await bot.app.delivery.release_due()
    await bot.app.delivery.drain()
    assert REASON in received(alice)  # payments go on after a breach: the dispute still reaches her
