"""Legal information, disputes, harassment reports, status, the data export and erasure, abandoned drafts."""

from __future__ import annotations

import json

from sqlalchemy import select

from bot.demo import DEMO_BORROWER
from dialogs.domain import Channel
from dialogs.drafts import sweep
from dialogs.lifecycle import CaseState
from dialogs.messages import InboundKind
from storage import models
from tests.conftest import FakeClock
from tests.dialogs.harness import Bot, plain
from tests.dialogs.test_navigation import reach, where

EVIDENCE = {"ref": "file-1", "name": "screenshot.png", "size": 2048, "sha256": "ab" * 32, "mime": "image/png"}


async def _cases(bot: Bot, user: str) -> list[CaseState]:
    account = await bot.store.ensure_account(Channel.TERMINAL, user)
    return [case.state for case in await bot.store.cases_of(account.id)]


async def test_the_loans_real_rate_is_compared_with_the_protected_level(bot: Bot) -> None:
    alice = bot.person("alice")
    await reach(alice, bot, "hardship:reason")
    await alice.send("/legal")
    await alice.press("real interest rate")
    text = alice.texts()
    assert "Loan DEMO-0001: contract rate 24.00% a year" in text
    assert "24.00% simple (the monthly rate × 12, the figure the law compares), 26.82% compound" in text
    assert "Your lender is a private lender, so the private-lending rules apply" in text
    assert "up to 13.80% a year, four times the one-year LPR of 3.45%" in text  # LPR of March 2024
    assert "above that level" in text
    assert "12348" in text
    await alice.press("Back")
    assert await where(bot, "alice") == "hardship:reason"


async def test_rights_and_collectors_are_explained_before_any_consent(bot: Bot) -> None:
    bob = bot.person("bob")
    await bob.send("/legal")
    await bob.press("What collectors may not do")
    assert "contact your family" in bob.texts()
    await bob.press("My rights")
    assert "12348" in bob.texts()
    await bob.press("real interest rate")
    assert "verify first" in bob.texts()


async def test_not_my_debt_opens_a_dispute_for_the_operator(bot: Bot) -> None:
    alice = bot.person("alice")
    await reach(alice, bot, "hardship:reason")
    await alice.send("/legal")
    await alice.press("Not my debt")
    await alice.press("The amount is wrong")
    assert "dispute is recorded" in alice.texts()
    assert await _cases(bot, "alice") == [CaseState.DISPUTED]


async def test_a_harassment_report_is_recorded_encrypted(bot: Bot) -> None:
    alice = bot.person("alice")
    await reach(alice, bot, "hardship:reason")
    await alice.send("/legal")
    await alice.press("Report harassment")
    await alice.send("Collector Wang, 13900001111")
    await alice.send("2026-11-20 22:30")
    await alice.press("Contacting my family")
    await alice.send("They called my mother at night and threatened to tell my employer.")
    await alice.deliver(alice.inbound(InboundKind.FILE, **EVIDENCE))
    assert "File this report?" in alice.texts() and "Screenshot or recording: attached" in alice.texts()
    await alice.press("File this report")
    assert "report (number 1) is recorded" in alice.texts()
    async with bot.store.unit() as session:
        report = (await session.scalars(select(models.HarassmentReport))).one()
    assert b"mother" not in report.details_enc
    assert report.case_id is not None
    await alice.send("/mydata")
    exported = next(m for m in alice.last if m.file_name)
    assert "They called my mother" in exported.text


async def test_status_shows_the_state_and_the_timeline(bot: Bot) -> None:
    alice = bot.person("alice")
    await reach(alice, bot, "submit:review")
    await alice.press("Submit")
    await alice.send("/status")
    text = alice.texts()
    assert "State: submitted, waiting for the mediator's review" in text
    assert "application opened" in text
    assert "plan chosen" in text


async def test_mydata_exports_everything_decrypted_for_them_only(bot: Bot) -> None:
    alice = bot.person("alice")
    await reach(alice, bot, "finances:net_monthly_income")
    await alice.send("/mydata")
    (document,) = [m for m in alice.last if m.file_name]
    assert document.file_name == "loanbridge-my-data.json"
    data = json.loads(plain(document.text))
    (case,) = data["cases"]
    assert case["loan"]["id_number"] == DEMO_BORROWER.id_number
    assert case["hardship"]["description"] == "I lost my job."
    assert data["account"]["consented_at"]
    assert bot.recorder.inbox["bob"] == []


async def test_delete_withdraws_the_draft_and_erases_the_situation(bot: Bot) -> None:
    alice = bot.person("alice")
    await reach(alice, bot, "plans:options")
    await alice.send("/delete")
    await alice.press("No, keep it")
    assert await _cases(bot, "alice") == [CaseState.DRAFT]
    await alice.send("/delete")
    await alice.press("Yes, erase my data")
    assert "Erased: your monthly budget, your hardship" in alice.texts()
    assert await _cases(bot, "alice") == [CaseState.WITHDRAWN]
    async with bot.store.unit() as session:
        for table in (models.Hardship, models.Finances, models.EvidenceFile):
            assert (await session.scalars(select(table))).all() == []
    account = await bot.store.ensure_account(Channel.TERMINAL, "alice")
    assert account.consented_at is None


async def test_an_abandoned_draft_is_reminded_once_then_expires(bot: Bot, clock: FakeClock) -> None:
    alice = bot.person("alice")
    await reach(alice, bot, "finances:housing")
    before = len(bot.recorder.inbox["alice"])
    clock.advance(hours=23)
    await sweep(bot.app.engine, bot.store, clock.now())
    await bot.app.delivery.drain()
    assert len(bot.recorder.inbox["alice"]) == before
    clock.advance(hours=2)
    await sweep(bot.app.engine, bot.store, clock.now())
    clock.advance(hours=5)
    await sweep(bot.app.engine, bot.store, clock.now())
    await bot.app.delivery.drain()
    reminders = [m for m in bot.recorder.inbox["alice"][before:] if "waiting for you" in plain(m.text)]
    assert len(reminders) == 1
    await alice.send("/start")  # they come back: they are where they were
    assert "Housing per month" in alice.texts()
    clock.advance(days=31)
    await sweep(bot.app.engine, bot.store, clock.now())
    await bot.app.delivery.drain()
    assert "closed after 30 days" in plain(bot.recorder.inbox["alice"][-1].text)
    assert await _cases(bot, "alice") == [CaseState.WITHDRAWN]
    await alice.send("/menu")
    assert "Start an application" in alice.texts()
