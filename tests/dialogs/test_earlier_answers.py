"""Earlier answers survive a step taken again: /back, a "change" button, a second look before filing.

Found in a newcomer's trial: answers typed before were cleared, or a "Skip" beside an earlier answer erased
it. Each test compares what the store holds (or what reaches the next step) with what was typed.
"""

from __future__ import annotations

from sqlalchemy import func, select

from bot.demo import DEMO_BORROWER
from dialogs.domain import Channel
from storage import models
from tests.dialogs.harness import Bot, Person
from tests.dialogs.test_navigation import reach, where


async def _failures(bot: Bot) -> int:
    async with bot.store.unit() as session:
        query = select(func.count()).select_from(models.VerificationFailure)
        return int((await session.execute(query)).scalar_one())


async def _at_code(bot: Bot) -> Person:
    alice = bot.person("alice")
    await reach(alice, bot, "verify:ref")
    for answer in (DEMO_BORROWER.loan_ref, DEMO_BORROWER.name, DEMO_BORROWER.id_number, DEMO_BORROWER.phone):
        await alice.send(answer)
    assert await where(bot, "alice") == "verify:code"
    return alice


async def test_back_from_the_code_and_the_same_phone_again_sends_a_code(bot: Bot) -> None:
    alice = await _at_code(bot)
    await alice.send("/back")
    assert await where(bot, "alice") == "verify:phone"
    await alice.send(DEMO_BORROWER.phone)
    assert "went wrong" not in alice.texts() and "出了点问题" not in alice.texts()
    assert await where(bot, "alice") == "verify:code", alice.texts()
    await alice.send(bot.codes.last)
    assert await where(bot, "alice") == "hardship:reason", alice.texts()
    assert await _failures(bot) == 0


async def test_back_twice_from_the_code_keeps_the_reference_and_name_and_costs_nothing(bot: Bot) -> None:
    alice = await _at_code(bot)
    await alice.send("/back")
    await alice.send("/back")
    assert await where(bot, "alice") == "verify:id_number"
    await alice.send(DEMO_BORROWER.id_number)
    await alice.send(DEMO_BORROWER.phone)
    assert "do not match" not in alice.texts(), alice.texts()
    await alice.send(bot.codes.last)
    assert await where(bot, "alice") == "hardship:reason", alice.texts()
    assert await _failures(bot) == 0
    account = await bot.store.ensure_account(Channel.TERMINAL, "alice")
    assert len(await bot.store.cases_of(account.id)) == 1


async def test_back_to_the_name_shows_it_and_keeps_it(bot: Bot) -> None:
    alice = bot.person("alice")
    await reach(alice, bot, "verify:ref")
    await alice.send(DEMO_BORROWER.loan_ref)
    await alice.send(DEMO_BORROWER.name)
    await alice.send("/back")
    assert f"You wrote: {DEMO_BORROWER.name}" in alice.texts()
    await alice.press("Keep what I wrote")
    assert await where(bot, "alice") == "verify:id_number"
    await alice.send(DEMO_BORROWER.id_number)
    await alice.send(DEMO_BORROWER.phone)
    await alice.send(bot.codes.last)
    assert await where(bot, "alice") == "hardship:reason", alice.texts()
    assert await _failures(bot) == 0
