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
        await person.press("View and answer")  # from the case brief to the negotiation
    else:
        await person.send("/offer")


async def _bid(first: Person, second: Person, first_bound: str, second_bound: str) -> None:
    await _open_case(first)
    await first.press("Propose a blind bid")
    await _give(first, first_bound)
    assert "kept private" in first.texts(), first.texts()
    second.received()
    await _open_case(second)
    await second.press("Give my private figure")
    await _give(second, second_bound)


async def _give(person: Person, bound: str) -> None:
    """A figure above the borrower's savings is questioned first: these borrowers mean it."""
    await person.send(bound)
    if "Can you really pay" in person.texts():
        await person.press("Yes, I can pay it")


def _inbox(bot: Bot, user: str) -> str:
    return "\n".join(plain(m.text) for m in bot.recorder.inbox[user])


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
    # Neither is told the other's figure (the borrower's own is read back to her by the savings question).
    assert "9,000" not in _inbox(bot, "leo") and "8,600" not in _inbox(bot, "alice")


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


async def test_a_borrowers_figure_above_their_savings_is_questioned_before_it_counts(bot: Bot) -> None:
    alice, _, leo = await approved(bot)
    await _open_case(alice)
    await alice.press("Propose a blind bid")
    await alice.send("9000")
    assert "You told us your savings are ¥2,000.00, and ¥9,000.00 is more than that" in alice.texts()
    await alice.press("Change my figure")
    await alice.send("1800")  # within the savings: taken as given
    assert "kept private" in alice.texts()
    await _open_case(leo)
    await leo.press("Give my private figure")
    await leo.send("1500")
    assert "settles at ¥1,650.00 in one payment" in _everything(bot)  # the midpoint of 1,800 and 1,500


async def test_no_close_hint_on_the_first_bid_and_at_most_one_after(bot: Bot) -> None:
    alice, _, leo = await approved(bot)
    for _ in range(3):
        await _bid(alice, leo, "8500", "9000")  # 500 apart: within 5 % of what is owed
    said = [plain(m.text) for m in bot.recorder.inbox["alice"] if "found no overlap" in plain(m.text)]
    assert len(said) == 3
    assert ["close" in text for text in said] == [False, True, False]
