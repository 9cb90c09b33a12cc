"""Earlier answers survive a step taken again: /back, a "change" button, a second look before filing.

Found in a newcomer's trial: answers typed before were cleared, or a "Skip" beside an earlier answer erased
it. Each test compares what the store holds (or what reaches the next step) with what was typed.
"""

from __future__ import annotations

import json
import re
from decimal import Decimal
from typing import Any

from sqlalchemy import func, select

from bot.demo import DEMO_BORROWER
from dialogs.domain import Channel
from storage import models
from storage.crypto import FieldCipher
from tests.conftest import TEST_SECRET
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


async def _stored_story(bot: Bot, user: str) -> str | None:
    account = await bot.store.ensure_account(Channel.TERMINAL, user)
    case = (await bot.store.cases_of(account.id))[-1]
    hardship = await bot.store.hardship(case.id)
    assert hardship is not None
    return hardship.description


async def _change_story(bot: Bot) -> Person:
    alice = bot.person("alice")
    await reach(alice, bot, "submit:review")
    await alice.press("Change hardship")
    await alice.press("Lost my job")
    await alice.press("It will pass")
    assert await where(bot, "alice") == "hardship:description"
    assert "I lost my job." in alice.texts()
    return alice


async def test_a_stored_story_is_not_erased_by_a_skip_beside_it(bot: Bot) -> None:
    alice = await _change_story(bot)
    assert "[Skip]" not in alice.texts()  # "skip" beside a story read as "leave it", and erased it
    await alice.press("Keep what I wrote")
    assert await _stored_story(bot, "alice") == "I lost my job."


async def test_a_stored_story_is_removed_only_when_confirmed(bot: Bot) -> None:
    alice = await _change_story(bot)
    await alice.press("Remove it")
    assert await _stored_story(bot, "alice") == "I lost my job."
    await alice.press("No, keep it")
    assert await _stored_story(bot, "alice") == "I lost my job."
    assert await where(bot, "alice") == "hardship:evidence"
    await alice.send("/back")
    await alice.press("Remove it")
    await alice.press("Yes, remove it")
    assert await _stored_story(bot, "alice") is None
    assert await where(bot, "alice") == "hardship:evidence"


async def _filed_reports(bot: Bot) -> list[dict[str, Any]]:
    """The reports filed, opened with the store's own key (what the mediator will read)."""
    async with bot.store.unit() as session:
        rows = (await session.scalars(select(models.HarassmentReport))).all()
    cipher = FieldCipher(TEST_SECRET)
    return [json.loads(cipher.decrypt("harassment_reports.details", row.details_enc)) for row in rows]


async def test_a_report_keeps_what_was_typed_through_back_and_is_reviewed_before_filing(bot: Bot) -> None:
    alice = bot.person("alice")
    await reach(alice, bot, "hardship:reason")
    await alice.send("/legal")
    await alice.press("Report harassment")
    await alice.send("Collector Wang, 13900001111")
    await alice.send("2026-11-20 22:30")
    await alice.press("Contacting my family")
    await alice.send("They called my mother at night.")
    await alice.send("/back")
    assert await where(bot, "alice") == "legal:harassment_details"
    assert "You wrote: They called my mother at night." in alice.texts()
    assert "[Skip]" not in alice.texts()
    await alice.press("Keep what I wrote")
    await alice.press("Skip")  # no screenshot
    assert "File this report?" in alice.texts() and "They called my mother at night." in alice.texts()
    assert await _filed_reports(bot) == []  # nothing is filed before it is confirmed
    await alice.press("File this report")
    (report,) = await _filed_reports(bot)
    assert report["details"] == "They called my mother at night."
    assert (report["who"], report["when"]) == ("Collector Wang, 13900001111", "2026-11-20 22:30")


async def test_back_to_when_in_a_report_shows_what_was_typed(bot: Bot) -> None:
    alice = bot.person("alice")
    await reach(alice, bot, "hardship:reason")
    await alice.send("/legal")
    await alice.press("Report harassment")
    await alice.send("Collector Wang")
    await alice.send("last night")
    await alice.send("/back")
    assert "You wrote: last night" in alice.texts()
    await alice.press("Keep what I wrote")
    assert await where(bot, "alice") == "legal:harassment_how"
    await alice.press("Threats")
    await alice.send("/back")
    assert "Last time you chose: Threats" in alice.texts()


async def _own_plan(bot: Bot) -> dict[str, Any] | None:
    account = await bot.store.ensure_account(Channel.TERMINAL, "alice")
    case = (await bot.store.cases_of(account.id))[-1]
    async with bot.store.unit() as session:
        row = await session.get(models.Case, case.id)
        assert row is not None
        return row.chosen_plan


async def test_own_terms_changed_to_the_same_kind_offer_the_months_and_amount_typed(bot: Bot) -> None:
    alice = bot.person("alice")
    await reach(alice, bot, "plans:options")
    await alice.press("Propose my own terms")
    await alice.press("Interest stopped")
    await alice.send("24")
    await alice.send("1")  # too little: the answer says what 24 months need
    needed = re.findall(r"¥([\d,]+\.\d\d)", alice.texts())[0].replace(",", "")
    await alice.send(needed)
    await alice.press("Change")
    await alice.press("Interest stopped")
    await alice.press("Keep 24 months")
    await alice.press(f"Keep ¥{Decimal(needed):,}")
    await alice.press("Choose this plan")
    assert await where(bot, "alice") == "submit:review"
    await alice.press("Change plan")  # from the application's review: the stored own terms are offered
    await alice.press("Propose my own terms")
    await alice.press("Interest stopped")
    await alice.press("Keep 24 months")
    await alice.press(f"Keep ¥{Decimal(needed):,}")
    await alice.press("Choose this plan")
    plan = await _own_plan(bot)
    assert plan is not None and plan["own_terms"]
    assert (plan["months"], plan["monthly_amount"]) == (24, needed)
