"""Held words: what the lender is told about words the conduct window keeps until the borrower's morning,
deadlines that run from delivery, acceptances that go at once, and held words that go stale (cancelled,
never sent) when the case moves on or the mediator cancels them.
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import select

from storage import models
from tests.conftest import FakeClock
from tests.dialogs.harness import Bot, Person
from tests.dialogs.test_negotiation import approved

NIGHT = datetime(2026, 11, 2, 14, 0, tzinfo=UTC)  # 22:00 in Shanghai
LATER = datetime(2026, 11, 2, 15, 0, tzinfo=UTC)  # 23:00
MORNING = datetime(2026, 11, 3, 0, 1, tzinfo=UTC)  # 08:01 the next day


async def _morning(bot: Bot, clock: FakeClock) -> int:
    clock.current = MORNING
    released = await bot.app.delivery.release_due()
    await bot.app.delivery.drain()
    return released


async def _outbox(bot: Bot, template: str) -> list[models.OutboxMessage]:
    async with bot.store.unit() as session:
        box = models.OutboxMessage
        return list(await session.scalars(select(box).where(box.template == template)))


async def _write_at_night(leo: Person, clock: FakeClock, words: str) -> None:
    clock.current = NIGHT
    await leo.press("View and answer")
    await leo.press("Write to the other side")
    await leo.send(words)


async def test_the_lender_is_told_when_held_words_will_arrive(bot: Bot, clock: FakeClock) -> None:
    alice, _, leo = await approved(bot)
    await _write_at_night(leo, clock, "Please call our office.")
    told = leo.texts()
    assert "will be delivered at Nov 3, 08:00 Beijing time, the borrower's morning" in told
    assert "passed on" not in told
    assert alice.received() == []
    assert await _morning(bot, clock) == 1
    assert "Please call our office." in alice.received()[0].text


async def test_an_offer_written_at_night_has_its_deadline_from_the_morning(
    bot: Bot, clock: FakeClock
) -> None:
    alice, _, leo = await approved(bot)
    clock.current = NIGHT
    await leo.press("View and answer")
    await leo.press("Counter-offer")
    await leo.press("Longer term, equal instalments")
    await leo.press("Months and monthly amount")
    await leo.send("12")
    await leo.send("1500")
    await leo.press("Send")
    told = leo.texts()
    assert "It will be delivered at Nov 3, 08:00 Beijing time, the borrower's morning" in told
    assert "until Nov 6, 08:00 Beijing time to answer" in told  # 72 hours from delivery, not from 22:00
    assert alice.received() == []
    assert await _morning(bot, clock) == 1
    assert "Please answer by Nov 6, 08:00 Beijing time" in alice.received()[0].text
    async with bot.store.unit() as session:
        deadline = await session.scalar(select(models.Offer.deadline_at).where(models.Offer.round == 2))
    assert deadline == datetime(2026, 11, 6, 0, 0, tzinfo=UTC)


async def test_an_acceptance_at_night_is_not_held(bot: Bot, clock: FakeClock) -> None:
    alice, _, leo = await approved(bot)
    clock.current = NIGHT
    await leo.press("View and answer")
    await leo.press("Accept")
    now = alice.received()
    assert any("Please confirm" in m.text or "confirm" in m.text.lower() for m in now), [m.text for m in now]
    assert await _morning(bot, clock) == 0


async def test_words_held_at_night_die_with_the_case_closed_before_morning(
    bot: Bot, clock: FakeClock
) -> None:
    alice, olga, leo = await approved(bot)
    await _write_at_night(leo, clock, "We will visit your family tomorrow.")
    clock.current = LATER
    olga.received()
    await olga.send("/case 1")
    assert "Held until the borrower's hours" in olga.texts()
    assert "We will visit your family tomorrow." in olga.texts()
    await olga.press("Close the case")
    await olga.send("The lender's conduct is being reported to its compliance contact.")
    closed = alice.received()
    assert "We will visit your family tomorrow." not in "\n".join(m.text for m in closed)
    assert await _morning(bot, clock) == 0
    assert "We will visit your family" not in "\n".join(m.text for m in alice.received())
    [row] = await _outbox(bot, "negotiate/relayed")
    assert row.sent_at is None and row.failed and row.last_error == "cancelled: case closed"


async def test_the_mediator_cancels_a_threat_before_it_reaches_the_borrower(
    bot: Bot, clock: FakeClock
) -> None:
    alice, olga, leo = await approved(bot)
    await _write_at_night(leo, clock, "Pay tonight or else.")
    clock.current = LATER
    await olga.send("/case 1")
    await olga.press("Cancel held message")
    assert "was cancelled: it will not be sent" in olga.texts()
    assert "Held until the borrower's hours" not in olga.texts()
    assert await _morning(bot, clock) == 0
    assert alice.received() == []
    [row] = await _outbox(bot, "negotiate/relayed")
    assert row.last_error == "cancelled: cancelled by the mediator"
