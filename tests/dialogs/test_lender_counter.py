"""A lender's counter-offer by the figures lenders negotiate: any two of the total to repay, the months and
the monthly amount (the waiver is the kind's); the rest follows, checked by the same rules as any plan."""

from __future__ import annotations

from decimal import Decimal

from sqlalchemy import select

from storage import models
from tests.dialogs.harness import Bot, Person
from tests.dialogs.test_negotiation import approved


async def _counter(leo: Person, kind: str, by: str, first: str, second: str) -> str:
    await leo.send("/offer 1")
    await leo.press("Counter-offer")
    await leo.press(kind)
    await leo.press(by)
    await leo.send(first)
    await leo.send(second)
    return leo.texts()


async def _last_offer(bot: Bot) -> models.Offer:
    async with bot.store.unit() as session:
        offer = await session.scalar(select(models.Offer).order_by(models.Offer.id.desc()).limit(1))
    assert offer is not None
    return offer


async def test_a_counter_by_total_and_months(bot: Bot) -> None:
    alice, _, leo = await approved(bot)
    shown = await _counter(leo, "Longer term, equal instalments", "Months and total to repay", "12", "17400")
    assert "¥1,450.00 a month for 12 months, ¥17,400.00 in total" in shown
    await leo.press("Send")
    assert "Offer sent on case 1" in leo.texts()
    offer = await _last_offer(bot)
    assert (offer.months, offer.monthly_amount, offer.total_repaid) == (
        12,
        Decimal("1450.00"),
        Decimal("17400.00"),
    )
    assert "¥17,400.00 in total" in alice.received()[-1].text


async def test_a_counter_by_monthly_amount_and_total_works_out_the_months(bot: Bot) -> None:
    _, _, leo = await approved(bot)
    shown = await _counter(
        leo, "Longer term, equal instalments", "Monthly amount and total to repay", "1450", "17400"
    )
    assert "¥1,450.00 a month for 12 months, ¥17,400.00 in total" in shown


async def test_the_amount_a_refusal_names_is_accepted_as_typed(bot: Bot) -> None:
    _, _, leo = await approved(bot)
    refused = await _counter(leo, "Interest stopped", "Months and monthly amount", "12", "1000")
    assert "It needs about ¥1,193.46 a month" in refused
    await leo.send("1193.46")
    assert (
        "Your offer: Interest stopped, instalments (停息挂账): ¥1,193.46 a month for 12 months" in leo.texts()
    )
