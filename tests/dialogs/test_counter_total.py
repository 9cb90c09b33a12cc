"""A lender's counter by "months and total to repay" whose total the plan cannot take as typed: refused
with the most it may be, or, when the instalments need a little more, raised and said so; an odd last
instalment is named in the summary (trial 1, item 2: 5300 became ¥5,210.00 in silence)."""

from __future__ import annotations

from decimal import Decimal

from tests.dialogs.harness import Bot
from tests.dialogs.test_lender_counter import _counter, _last_offer
from tests.dialogs.test_navigation import where
from tests.dialogs.test_negotiation import approved

EQUAL = "Longer term, equal instalments"
BY_TOTAL = "Months and total to repay"


async def test_a_total_above_what_the_plan_may_ask_is_refused_with_the_most(bot: Bot) -> None:
    _, _, leo = await approved(bot)
    shown = await _counter(leo, EQUAL, BY_TOTAL, "12", "18000")
    assert "¥18,000.00 in total is more than this kind of plan" in shown
    assert "at most ¥17,771.26" in shown
    assert "Your offer:" not in shown
    assert await where(bot, "leo") == "negotiate:counter_total"  # asked again, nothing made
    await leo.send("17771.26")
    summary = leo.texts()
    assert "¥1,480.94 a month for 12 months (the last ¥1,480.92), ¥17,771.26 in total" in summary, summary
    await leo.press("Send")
    offer = await _last_offer(bot)
    assert (offer.months, offer.total_repaid) == (12, Decimal("17771.26"))
    assert offer.terms["amounts"][-1] == "1480.92"


async def test_a_total_a_few_fen_short_is_raised_and_said_so(bot: Bot) -> None:
    _, _, leo = await approved(bot)
    shown = await _counter(leo, EQUAL, BY_TOTAL, "12", "15658.10")
    said = "You typed ¥15,658.10 in total; in 12 monthly instalments of whole fen it comes to ¥15,658.20"
    assert said in shown, shown
    await leo.press("Send")
    assert (await _last_offer(bot)).total_repaid == Decimal("15658.20")


async def test_an_even_total_has_no_last_instalment_line(bot: Bot) -> None:
    _, _, leo = await approved(bot)
    shown = await _counter(leo, "Longer term, equal instalments", BY_TOTAL, "12", "17400")
    assert "¥1,450.00 a month for 12 months, ¥17,400.00 in total" in shown
    assert "a last one of" not in shown and "You typed" not in shown


async def test_the_total_question_takes_its_example_from_the_case(bot: Bot) -> None:
    _, _, leo = await approved(bot)
    await leo.send("/offer 1")
    await leo.press("Counter-offer")
    await leo.press(EQUAL)
    await leo.press("Monthly amount and total to repay")
    await leo.send("1450")
    asked = leo.texts()
    assert "Plans are made on ¥14,565.21" in asked and "(e.g. 14500)" in asked, asked
