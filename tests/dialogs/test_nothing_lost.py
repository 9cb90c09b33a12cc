"""Nothing typed is lost or silently replaced: whichever way a step is entered again (/back, a "change" or
"correct" button, "Continue my application", a restart), it shows what the store holds and keeps it; a plan
chosen on a situation that changed is set aside and chosen again.

Each test compares what the store holds with what was typed, not only the step reached.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import select

from bot.demo import DEMO_BORROWER
from dialogs.domain import Channel, Hardship, HardshipReason
from dialogs.lifecycle import CaseState
from dialogs.rules.affordability import Finances, assess
from dialogs.rules.plans import DEFAULT_POLICY, PlanKind
from storage import models
from tests.conftest import FakeClock
from tests.dialogs.harness import Bot, Person, plain, running_bot
from tests.dialogs.test_navigation import NAMES, STEPS, reach, where
from tests.dialogs.test_validation import _fail_verification

TYPED_FINANCES = Finances(
    net_monthly_income=Decimal(6500),
    housing=Decimal(1800),
    food=Decimal(1200),
    utilities=Decimal(300),
    transport=Decimal(200),
    children=Decimal(800),
    medical=Decimal(0),
    other=Decimal(150),
    other_debt_payments=Decimal(0),
    savings=Decimal(2000),
)
TYPED_HARDSHIP = Hardship(HardshipReason.JOB_LOSS, lasting=False, description="I lost my job.")
APPLICATION = NAMES[NAMES.index("hardship:reason") :]


@dataclass
class Stored:
    state: CaseState
    hardship: Hardship | None
    finances: Finances | None
    plan: dict[str, Any] | None


async def stored(bot: Bot, user: str) -> Stored:
    """The user's latest case as the store holds it."""
    account = await bot.store.ensure_account(Channel.TERMINAL, user)
    case = (await bot.store.cases_of(account.id))[-1]
    async with bot.store.unit() as session:
        plan = (await session.get(models.Case, case.id)).chosen_plan  # type: ignore[union-attr]
    return Stored(case.state, await bot.store.hardship(case.id), await bot.store.finances(case.id), plan)


async def honest(bot: Bot, user: str, plan: dict[str, Any]) -> bool:
    """Whether the plan's "affordable" mark is what the stored figures say of its instalments."""
    account = await bot.store.ensure_account(Channel.TERMINAL, user)
    case = (await bot.store.cases_of(account.id))[-1]
    finances = await bot.store.finances(case.id)
    assert finances is not None
    largest = max(Decimal(amount) for amount in plan["amounts"])
    settlement = plan["kind"] == PlanKind.DISCOUNTED_SETTLEMENT
    limit = (
        finances.savings
        if settlement
        else assess(finances, DEFAULT_POLICY.affordable_share).affordable_instalment
    )
    return bool(plan["affordable"]) == (largest <= limit)


async def walk_from(person: Person, bot: Bot, step: str) -> None:
    """Answer every question from ``step`` to the end as the application steps do (submitting it)."""
    for name, answer in STEPS[NAMES.index(step) :]:
        assert await where(bot, person.user) == name, person.texts()
        await answer(person, bot)


async def assert_submitted_as_typed(bot: Bot, clock: FakeClock, user: str = "alice") -> None:
    held = await stored(bot, user)
    assert held.state is CaseState.SUBMITTED
    assert held.hardship == TYPED_HARDSHIP
    assert held.finances == TYPED_FINANCES
    assert held.plan is not None and await honest(bot, user, held.plan)


@pytest.mark.parametrize("step", APPLICATION)
async def test_back_at_any_step_then_on_keeps_what_was_typed(bot: Bot, clock: FakeClock, step: str) -> None:
    alice = bot.person("alice")
    await reach(alice, bot, step)
    await alice.send("/back")
    await walk_from(alice, bot, await where(bot, "alice"))
    await assert_submitted_as_typed(bot, clock)


async def test_back_from_the_plans_shows_and_keeps_the_budget(bot: Bot, clock: FakeClock) -> None:
    alice = bot.person("alice")
    await reach(alice, bot, "plans:options")
    await alice.send("/back")
    assert "Income: ¥6,500.00" in alice.texts() and "Housing: ¥1,800.00" in alice.texts()
    await alice.press("Yes")
    await walk_from(alice, bot, "plans:options")
    await assert_submitted_as_typed(bot, clock)


async def test_back_into_a_figure_offers_to_keep_it(bot: Bot, clock: FakeClock) -> None:
    alice = bot.person("alice")
    await reach(alice, bot, "finances:food")
    await alice.send("/back")
    assert "[Keep ¥1,800.00]" in alice.texts()
    await alice.press("Keep ¥1,800.00")
    await walk_from(alice, bot, "finances:food")
    await assert_submitted_as_typed(bot, clock)


async def test_every_change_button_on_the_review_shows_and_keeps_what_is_stored(
    bot: Bot, clock: FakeClock
) -> None:
    alice = bot.person("alice")
    await reach(alice, bot, "submit:review")
    await alice.press("Change hardship")
    assert "Last time you chose: Lost my job" in alice.texts()
    await alice.press("Lost my job")
    assert "Last time you said: it will pass" in alice.texts()
    await alice.press("It will pass")
    assert "I lost my job." in alice.texts()
    await alice.press("Keep what I wrote")
    await alice.press("Skip")
    assert await where(bot, "alice") == "submit:review"  # nothing the plan rests on changed
    await alice.press("Change budget")
    assert "Income: ¥6,500.00" in alice.texts() and "Savings: ¥2,000.00" in alice.texts()
    await alice.press("Correct a figure")
    await alice.press("Food")
    await alice.press("Keep ¥1,200.00")
    await alice.press("Yes")
    assert await where(bot, "alice") == "submit:review"
    await alice.press("Change plan")
    await alice.press("¥")
    await alice.press("Submit")
    await assert_submitted_as_typed(bot, clock)


async def test_continue_my_application_keeps_what_was_typed(bot: Bot, clock: FakeClock) -> None:
    alice = bot.person("alice")
    await reach(alice, bot, "finances:transport")
    await alice.send("/cancel")
    await alice.press("Continue my application")
    assert await where(bot, "alice") == "finances:net_monthly_income"
    for amount in ("6500", "1800", "1200", "300"):
        await alice.press(f"Keep ¥{int(amount):,}.00")
    await walk_from(alice, bot, "finances:transport")
    await assert_submitted_as_typed(bot, clock)


async def test_a_restart_keeps_what_was_typed(database_url: str, clock: FakeClock) -> None:
    async with running_bot(database_url, clock) as bot:
        await reach(bot.person("alice"), bot, "plans:options")
    async with running_bot(database_url, clock) as bot:
        alice = bot.person("alice")
        await alice.send("/back")
        assert "Income: ¥6,500.00" in alice.texts()
        await alice.press("Yes")
        await walk_from(alice, bot, "plans:options")
        await assert_submitted_as_typed(bot, clock)


async def test_own_terms_then_back_from_the_review_shows_them_again(bot: Bot, clock: FakeClock) -> None:
    alice = bot.person("alice")
    await reach(alice, bot, "plans:options")
    await alice.press("Propose my own terms")
    await alice.press("Interest stopped")
    await alice.send("24")
    await alice.send("1")  # too little: the answer says what 24 months need
    needed = re.findall(r"¥([\d,]+\.\d\d)", alice.texts())[0].replace(",", "")
    await alice.send(needed)
    await alice.press("Choose this plan")
    assert await where(bot, "alice") == "submit:review"
    await alice.send("/back")
    assert "went wrong" not in alice.texts()
    assert "Your proposal" in alice.texts() and f"{Decimal(needed):,}" in alice.texts()
    await alice.press("Choose this plan")
    await alice.press("Submit")
    held = await stored(bot, "alice")
    assert held.plan is not None and held.plan["own_terms"] and held.plan["monthly_amount"] == needed
    assert await honest(bot, "alice", held.plan)


async def test_a_new_budget_sets_the_chosen_plan_aside(bot: Bot, clock: FakeClock) -> None:
    alice = bot.person("alice")
    await reach(alice, bot, "submit:review")
    chosen = (await stored(bot, "alice")).plan
    assert chosen is not None and chosen["affordable"]
    await alice.press("Change budget")
    await alice.press("Correct a figure")
    await alice.press("Income")
    await alice.send("5000")
    await alice.press("Yes")
    assert "has changed since you chose it" in alice.texts()
    assert await where(bot, "alice") == "plans:options"
    assert (await stored(bot, "alice")).plan is None  # the mediator never sees the old plan
    await alice.press("¥")
    await alice.press("Submit")
    held = await stored(bot, "alice")
    assert held.state is CaseState.SUBMITTED
    assert held.finances is not None and held.finances.net_monthly_income == Decimal(5000)
    assert held.plan is not None and await honest(bot, "alice", held.plan)


async def test_a_hardship_that_now_lasts_sets_the_chosen_plan_aside_in_chinese(bot: Bot) -> None:
    alice = bot.person("alice")
    await reach(alice, bot, "submit:review")
    await alice.send("/lang")
    await alice.press("中文")
    await alice.press("修改困难说明")
    await alice.press("失业")
    await alice.press("会长期持续")
    await alice.press("保留原来的内容")
    assert "重新选择一个方案" in alice.texts()
    assert (await stored(bot, "alice")).plan is None
    await alice.press("跳过")
    assert await where(bot, "alice") == "plans:options"


async def test_a_report_filed_then_back_returns_to_where_the_person_was(bot: Bot) -> None:
    alice = bot.person("alice")
    await reach(alice, bot, "hardship:reason")
    await alice.send("/legal")
    await alice.press("Report harassment")
    await alice.send("Collector Wang, 13900001111")
    await alice.send("2026-11-20 22:30")
    await alice.press("Contacting my family")
    await alice.send("They called my mother at night.")
    await alice.press("Skip")
    await alice.press("File this report")
    assert "report (number 1) is recorded" in alice.texts()
    await alice.press("Back")
    assert await where(bot, "alice") == "hardship:reason"
    async with bot.store.unit() as session:
        assert len((await session.scalars(select(models.HarassmentReport))).all()) == 1


async def test_an_empty_report_is_refused_kindly(bot: Bot) -> None:
    alice = bot.person("alice")
    await reach(alice, bot, "hardship:reason")
    await alice.send("/legal")
    await alice.press("Report harassment")
    await alice.send("Collector Wang")
    await alice.send("yesterday")
    await alice.press("Threats")
    await alice.press("Skip")  # the details; now at the evidence question
    await alice.send("/legal")
    await alice.press("Report harassment")  # a new report, then straight back out of it
    await alice.send("/back")
    await alice.press("Back")  # the trail leads to the evidence question of the report left behind
    await alice.press("Skip")
    assert "cannot file this report yet" in alice.texts() and "Nothing was sent" in alice.texts()
    assert await where(bot, "alice") == "legal:harassment_who"
    async with bot.store.unit() as session:
        assert (await session.scalars(select(models.HarassmentReport))).all() == []


async def test_after_delete_mydata_shows_what_the_erasure_said(bot: Bot) -> None:
    alice = bot.person("alice")
    await reach(alice, bot, "submit:review")
    await alice.send("/delete")
    await alice.press("Yes, erase my data")
    said = alice.texts()
    assert "your hardship" in said and "your monthly budget" in said and "the plan you chose" in said
    assert "The lender's own record of your loan DEMO-0001" in said and "not ours to erase" in said
    await alice.send("/mydata")
    exported = plain(next(m for m in alice.last if m.file_name).text)
    for erased in (
        DEMO_BORROWER.name,
        DEMO_BORROWER.id_number,
        "13812345678",
        "job_loss",
        "I lost my job",
        "6500",
    ):
        assert erased not in exported, erased
    assert "the lender's own record of the loan" in exported and "DEMO-0001" in exported


async def test_the_verification_lock_out_survives_delete(bot: Bot, clock: FakeClock) -> None:
    alice = bot.person("alice")
    await reach(alice, bot, "verify:ref")
    for _ in range(5):
        await _fail_verification(alice, clock)
    assert "paused for an hour" in alice.texts()
    await alice.send("/delete")
    await alice.press("Yes, erase my data")
    assert "recent failed identity checks" in alice.texts()
    await alice.send("/start")
    await alice.press("begin")
    await alice.press("I consent")
    assert "paused for an hour" in alice.texts()
    await alice.send(DEMO_BORROWER.loan_ref)
    assert "paused for an hour" in alice.texts()


@pytest.mark.parametrize(
    ("locale", "shortfall", "affordable"),
    [
        ("en", "exceed your income by ¥2,800.50", "leaves you a safety margin"),
        ("zh_CN", "比收入多出 ¥2,800.50", "安全余地"),
    ],
)
async def test_a_short_budget_reads_as_the_shortfall(
    bot: Bot, locale: str, shortfall: str, affordable: str
) -> None:
    alice = bot.person("alice")
    await reach(alice, bot, "finances:net_monthly_income")
    if locale != "en":
        await alice.send("/lang")
        await alice.press("中文")
    for amount in ("1000", "3800.50", "0", "0", "0", "0", "0", "0", "0", "0"):
        await alice.send(amount)
    assert shortfall in alice.texts() and affordable not in alice.texts()
    assert "-2,800.50" not in alice.texts() and "¥0.00 a month" not in alice.texts()
    await alice.press("Yes" if locale == "en" else "是的")
    assert shortfall in alice.texts()
    assert "-2,800.50" not in alice.texts() and "¥0.00 的承受能力" not in alice.texts()
