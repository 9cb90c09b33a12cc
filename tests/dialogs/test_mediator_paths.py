"""The mediator's actions on a stuck case bring it back to life, not to a dead end."""

from __future__ import annotations

from dialogs import deadlines
from dialogs.domain import Channel
from dialogs.lifecycle import CaseState
from tests.conftest import FakeClock
from tests.dialogs.harness import Bot
from tests.dialogs.test_negotiation import approved


async def test_extending_an_expired_deadline_revives_the_offer_for_the_lender(
    bot: Bot, clock: FakeClock
) -> None:
    alice, olga, leo = await approved(bot)
    clock.advance(hours=73)
    assert await deadlines.sweep(bot.app.engine, bot.store, clock.now()) == 1
    await bot.app.delivery.drain()
    leo.received()
    await olga.press("Open case 1")
    await olga.press("Extend the deadline")
    await olga.send("48")
    assert "is waiting for an answer again" in olga.texts()
    notice = leo.received()[-1].text
    assert "extended the deadline on case 1" in notice and "waiting for an answer again" in notice

    await leo.press("Open case 1")
    assert "Pending offer (round 1, from borrower)" in leo.texts()
    await leo.press("Accept")
    await leo.press("Confirm this agreement")
    alice.received()
    await alice.press("Confirm this agreement")
    assert "Agreed" in alice.texts()
    account = await bot.store.ensure_account(Channel.TERMINAL, "alice")
    assert (await bot.store.cases_of(account.id))[-1].state is CaseState.ACTIVE
    kinds = [event.kind for event in await bot.store.events(1)]
    assert "offer_revived" in kinds


async def test_the_revived_offer_lapses_again_at_the_new_deadline(bot: Bot, clock: FakeClock) -> None:
    _alice, olga, leo = await approved(bot)
    clock.advance(hours=73)
    assert await deadlines.sweep(bot.app.engine, bot.store, clock.now()) == 1
    await bot.app.delivery.drain()
    olga.received()
    await olga.press("Open case 1")
    await olga.press("Extend the deadline")
    await olga.send("24")
    clock.advance(hours=23)
    assert await deadlines.sweep(bot.app.engine, bot.store, clock.now()) == 0
    clock.advance(hours=2)
    assert await deadlines.sweep(bot.app.engine, bot.store, clock.now()) == 1
    await bot.app.delivery.drain()
    leo.received()
    await leo.press("Open case 1")
    assert "Pending offer" not in leo.texts()
