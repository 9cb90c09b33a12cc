"""The payment-day question offers only days the check accepts (user trial 3, item 2): on the agreement's
first day only "today" (no "Yesterday", no example of another day); a refusal says which days are possible;
and, for any plan start and any today (property), every day the question, its choices, its examples and
its refusals name is one the check then accepts.
"""

from __future__ import annotations

import re
from datetime import date, timedelta
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.channels.terminal import plain
from bot.rendering import Renderer
from dialogs.domain import Account, Channel, Role
from dialogs.errors import InvalidInput
from dialogs.flows.payments import day_choices, days_context
from dialogs.messages import Outbound
from dialogs.rules.dates import parse_day
from dialogs.rules.supervision import PaymentDays, payment_days
from tests.conftest import FakeClock
from tests.dialogs.harness import Bot, Person
from tests.dialogs.test_payments import active_plan, as_person, at, stored

D = Decimal
_RENDERER = Renderer()
# Days as the templates write them: 2026-11-02, 11/2, November 2, 2026, 2026年11月2日, 11月2日, "yesterday"
_MENTIONS = re.compile(
    r"\d{4}-\d{2}-\d{2}|(?<![\d/])\d{1,2}/\d{1,2}(?![\d/])|[A-Z][a-z]+ \d{1,2}, \d{4}"
    r"|(?:\d{4}年)?\d{1,2}月\d{1,2}日|\"yesterday\"|“昨天”"
)
_QUESTIONS = ("payments/day", "payments/day_unreadable", "payments/before_plan", "payments/future_day")


async def _at_day_question(alice: Person) -> str:
    await alice.send("/schedule")
    await alice.press("Report a payment")
    await alice.send("300")
    assert "On which day did you pay" in alice.texts(), alice.texts()
    return alice.texts()


async def test_on_the_agreements_first_day_only_today_is_offered(bot: Bot, clock: FakeClock) -> None:
    alice, _olga, _leo = await active_plan(bot)  # agreed on November 2, 17:30 in Shanghai
    asked = await _at_day_question(alice)
    assert "[Today]" in asked and "[Yesterday]" not in asked, asked
    assert "This agreement began today (November 2, 2026), so a payment under it can only" in asked, asked
    assert "for example" not in asked and "11/1" not in asked
    await alice.send("yesterday")
    refused = alice.texts()
    assert "That is before this agreement began (November 2, 2026)" in refused, refused
    assert "Only today (November 2, 2026) is possible: this agreement began today." in refused, refused
    assert "[Yesterday]" not in refused  # the question asked again offers the same
    await alice.send("2026-11-03")
    assert "That day has not come yet" in alice.texts() and "Only today" in alice.texts()
    await alice.send("last Tuesday-ish")
    assert "I could not read that as a day. Only today (November 2, 2026) is possible" in alice.texts()
    await alice.press("Today")
    assert "receipt" in alice.texts(), alice.texts()
    await alice.press("Cancel")
    assert (await stored(bot))[1] == []


async def test_the_day_after_yesterday_and_every_example_are_accepted(bot: Bot, clock: FakeClock) -> None:
    alice, _olga, _leo = await active_plan(bot)
    at(clock, "2026-11-03")
    asked = await _at_day_question(alice)
    assert "[Yesterday]" in asked, asked
    assert "for example 2026-11-03, 11/3 or November 3, 2026" in asked, asked
    assert "Any day from November 2, 2026, when this agreement began, to today can be reported" in asked
    for typed in ("2026-11-03", "11/3", "November 3, 2026", "yesterday"):
        await alice.send(typed)
        assert "receipt" in alice.texts(), (typed, alice.texts())
        await alice.send("/back")
        assert "On which day did you pay" in alice.texts(), alice.texts()
    await alice.send("2026-11-01")
    refused = alice.texts()
    assert "Any day from November 2, 2026, when this agreement began, to today (November 3, 2026)" in refused


def _render(template: str, locale: str, context: dict[str, object]) -> str:
    reader = Account(1, Channel.TERMINAL, "1", Role.BORROWER, locale, "Asia/Shanghai", reachable=True)
    return plain(_RENDERER.render(Outbound(1, template, context), reader).text)


def _chosen(days: PaymentDays, choice: str) -> date | None:
    return {"today": days.last, "yesterday": days.last - timedelta(days=1)}.get(choice)


@settings(max_examples=60, deadline=None)
@given(
    today=st.dates(date(2025, 1, 1), date(2035, 12, 31)),
    since=st.integers(min_value=0, max_value=800),
    locale=st.sampled_from(["en", "zh_CN"]),
)
def test_every_day_the_question_names_or_offers_is_accepted(today: date, since: int, locale: str) -> None:
    days = payment_days(today, today - timedelta(days=since))
    context = {**days_context(days), "plan_since": days.first}
    for choice in day_choices(days):
        day = _chosen(days, choice.id)
        assert day is None or days.accepts(day), (choice.id, days)
    for template in _QUESTIONS:
        text = _render(template, locale, context)
        for mention in _MENTIONS.findall(text):
            named = parse_day(mention.strip('"“”'), today)
            assert named is not None and days.accepts(named), (template, locale, mention, days, text)


async def test_the_store_refuses_a_day_before_the_agreement_too(bot: Bot, clock: FakeClock) -> None:
    await active_plan(bot)  # agreed on November 2 in Shanghai
    at(clock, "2026-11-03")
    before = date(2026, 11, 1)
    with pytest.raises(InvalidInput):
        await as_person(bot, "alice", lambda turn: turn.report_payment(1, D("10.00"), before, None))
    assert (await stored(bot))[1] == []
    await as_person(bot, "alice", lambda turn: turn.report_payment(1, D("10.00"), date(2026, 11, 2), None))
    assert (await stored(bot))[1] == [(D("10.00"), "2026-11-02", "reported")]
