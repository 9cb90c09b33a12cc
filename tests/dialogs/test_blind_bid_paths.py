"""The blind bid from every state a case can offer it in, not only as the first move: after offers in both
directions, after a rejection, after a mediator's split, after an expiry the mediator extended.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from decimal import Decimal

import pytest
from sqlalchemy import select

from bot.channels.terminal import plain
from dialogs import deadlines
from dialogs.domain import Channel
from dialogs.lifecycle import CaseState
from storage import models
from tests.conftest import FakeClock
from tests.dialogs.harness import Bot, Person
from tests.dialogs.test_negotiation import approved, counter

Prelude = Callable[[Bot, FakeClock, Person, Person, Person], Awaitable[None]]


async def _nothing(_bot: Bot, _clock: FakeClock, _alice: Person, _olga: Person, _leo: Person) -> None:
    return None


async def _lender_countered(_bot: Bot, _clock: FakeClock, _alice: Person, _olga: Person, leo: Person) -> None:
    await counter(leo, "Longer term, equal instalments", "12", "1500")


async def _both_countered(bot: Bot, clock: FakeClock, alice: Person, olga: Person, leo: Person) -> None:
    await _lender_countered(bot, clock, alice, olga, leo)
    await counter(alice, "Interest stopped", "12", "1200")


async def _lender_rejected(_bot: Bot, _clock: FakeClock, _alice: Person, _olga: Person, leo: Person) -> None:
    await leo.press("View and answer")
    await leo.press("Reject")
    await leo.press("Skip")


async def _split(bot: Bot, clock: FakeClock, alice: Person, olga: Person, leo: Person) -> None:
    await _both_countered(bot, clock, alice, olga, leo)
    await counter(leo, "Longer term, equal instalments", "12", "1490")
    alice.received()
    await alice.press("View and answer")
    await alice.press("Counter-offer")
    await alice.press("Interest stopped")
    await alice.send("12")
    await alice.send("1250")
    await alice.press("Send")
    await olga.press("Open case 1")
    await olga.press("Split the difference")
    await olga.press("Send")


async def _expired_and_extended(
    bot: Bot, clock: FakeClock, _alice: Person, olga: Person, _leo: Person
) -> None:
    clock.advance(hours=73)
    assert await deadlines.sweep(bot.app.engine, bot.store, clock.now()) == 1
    await bot.app.delivery.drain()
    await olga.press("Open case 1")
    await olga.press("Extend the deadline")
    await olga.send("48")


PRELUDES = {
    "first move": _nothing,
    "after the lender's counter-offer": _lender_countered,
    "after offers both ways": _both_countered,
    "after a rejection": _lender_rejected,
    "after a mediator's split": _split,
    "after an expiry the mediator extended": _expired_and_extended,
}


async def _open_case(person: Person) -> None:
    """The negotiation view, as each party reaches it whatever the last notice offered."""
    if person.user == "leo":
        await person.send("/cases")
        await person.press("#1")
    else:
        await person.send("/offer")


async def _bid(first: Person, second: Person, first_bound: str, second_bound: str) -> None:
    await _open_case(first)
    await first.press("Propose a blind bid")
    await first.send(first_bound)
    assert "kept private" in first.texts(), first.texts()
    second.received()
    await _open_case(second)
    await second.press("Give my private figure")
    await second.send(second_bound)


def _everything(bot: Bot) -> str:
    return "\n".join(plain(m.text) for inbox in bot.recorder.inbox.values() for m in inbox)


async def _state(bot: Bot) -> CaseState:
    account = await bot.store.ensure_account(Channel.TERMINAL, "alice")
    return (await bot.store.cases_of(account.id))[-1].state


@pytest.mark.parametrize("prelude", PRELUDES.values(), ids=PRELUDES.keys())
@pytest.mark.parametrize("borrower_first", [True, False], ids=["borrower proposes", "lender proposes"])
async def test_an_overlap_settles_at_the_midpoint_whatever_came_before(
    bot: Bot, clock: FakeClock, prelude: Prelude, borrower_first: bool
) -> None:
    alice, olga, leo = await approved(bot)
    await prelude(bot, clock, alice, olga, leo)
    if borrower_first:
        await _bid(alice, leo, "9000", "8600")
    else:
        await _bid(leo, alice, "8600", "9000")
    settled = "settles at ¥8,800.00 in one payment"
    last = leo if borrower_first else alice
    assert settled in last.texts(), last.texts()
    other = alice if borrower_first else leo
    assert settled in "\n".join(m.text for m in other.received())
    assert await _state(bot) is CaseState.NEGOTIATING
    async with bot.store.unit() as session:
        settlement = await session.scalar(select(models.Offer).order_by(models.Offer.id.desc()).limit(1))
    assert settlement is not None
    assert (settlement.status, settlement.total_repaid, settlement.plan_kind) == (
        "accepted",
        Decimal("8800.00"),
        "discounted_settlement",
    )
    assert all(bound not in _everything(bot) for bound in ("8,600", "9,000"))


@pytest.mark.parametrize("prelude", PRELUDES.values(), ids=PRELUDES.keys())
async def test_no_overlap_leaves_the_case_open_for_another_round(
    bot: Bot, clock: FakeClock, prelude: Prelude
) -> None:
    alice, olga, leo = await approved(bot)
    await prelude(bot, clock, alice, olga, leo)
    await _bid(alice, leo, "5000", "9000")
    assert "found no overlap" in leo.texts(), leo.texts()
    await _bid(alice, leo, "9000", "8600")
    assert "settles at ¥8,800.00 in one payment" in leo.texts(), leo.texts()
