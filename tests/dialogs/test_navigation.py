"""/back and /cancel at every step, stale and forged buttons, wrong answers, things that are not text."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import pytest
from sqlalchemy import select

from bot.demo import DEMO_BORROWER
from dialogs.lifecycle import CaseState
from dialogs.messages import InboundKind
from storage import models
from tests.dialogs.harness import Bot, Person, plain

Answer = Callable[[Person, Bot], Awaitable[object]]


def _send(text: str) -> Answer:
    return lambda person, _bot: person.send(text)


def _press(label: str) -> Answer:
    return lambda person, _bot: person.press(label)


FINANCE_STEPS = [
    (f"finances:{name}", _send(amount))
    for name, amount in (
        ("net_monthly_income", "6500"),
        ("housing", "1800"),
        ("food", "1200"),
        ("utilities", "300"),
        ("transport", "200"),
        ("children", "800"),
        ("medical", "0"),
        ("other", "150"),
        ("other_debt_payments", "0"),
        ("savings", "2000"),
    )
]
STEPS: list[tuple[str, Answer]] = [
    ("welcome:intro", _press("begin")),
    ("welcome:consent", _press("I consent")),
    ("verify:ref", _send(DEMO_BORROWER.loan_ref)),
    ("verify:name", _send(DEMO_BORROWER.name)),
    ("verify:id_number", _send(DEMO_BORROWER.id_number)),
    ("verify:phone", _send(DEMO_BORROWER.phone)),
    ("verify:code", lambda person, bot: person.send(bot.codes.last)),
    ("hardship:reason", _press("Lost my job")),
    ("hardship:duration", _press("It will pass")),
    ("hardship:description", _send("I lost my job.")),
    ("hardship:evidence", _press("Skip")),
    *FINANCE_STEPS,
    ("finances:summary", _press("Yes")),
    ("plans:options", _press("¥")),
    ("submit:review", _press("Submit")),
]
NAMES = [name for name, _ in STEPS]
# Just after verification /back goes no further (not back into the identity checks).
NO_WAY_BACK = {"hardship:reason"}


async def where(bot: Bot, user: str) -> str:
    async with bot.store.unit() as session:
        query = (
            select(models.Conversation.flow, models.Conversation.step)
            .join(models.Account, models.Account.id == models.Conversation.account_id)
            .where(models.Account.channel_user_id == user)
        )
        flow, step = (await session.execute(query)).one()
    return f"{flow}:{step}"


async def reach(person: Person, bot: Bot, step: str) -> None:
    await person.send("/start")
    for name, answer in STEPS:
        if name == step:
            assert await where(bot, person.user) == step
            return
        await answer(person, bot)
    raise AssertionError(step)


@pytest.mark.parametrize("step", NAMES)
async def test_back_returns_to_the_previous_question(bot: Bot, step: str) -> None:
    alice = bot.person("alice")
    await reach(alice, bot, step)
    await alice.send("/back")
    if step in NO_WAY_BACK:
        assert "nothing to go back to" in alice.texts()
        assert await where(bot, "alice") == step
    elif step == "welcome:intro":
        assert await where(bot, "alice") == "home:menu"
    else:
        assert await where(bot, "alice") == NAMES[NAMES.index(step) - 1]
    assert alice.last[-1].text  # the question is asked again: never a dead end


@pytest.mark.parametrize("step", NAMES)
async def test_cancel_goes_to_the_menu_and_keeps_the_draft(bot: Bot, step: str) -> None:
    alice = bot.person("alice")
    await reach(alice, bot, step)
    await alice.send("/cancel")
    assert await where(bot, "alice") == "home:menu"
    assert alice.last[-1].buttons  # the menu, with its choices
    account = await bot.store.ensure_account(alice.inbound(InboundKind.TEXT).channel, "alice")
    cases = await bot.store.cases_of(account.id)
    if NAMES.index(step) > NAMES.index("verify:code"):
        assert [case.state for case in cases] == [CaseState.DRAFT]
        assert "saved as a draft" in alice.texts()
        await alice.press("Continue my application")
        assert await where(bot, "alice") in {step, *NAMES[NAMES.index("hardship:reason") :]}
    else:
        assert cases == []


async def test_a_button_from_an_earlier_question_changes_nothing(bot: Bot) -> None:
    alice = bot.person("alice")
    await alice.send("/start")
    old = alice.button("begin")
    await alice.press("begin")
    await alice.deliver(alice.inbound(InboundKind.CHOICE, old))
    assert "no longer available" in alice.texts()
    assert await where(bot, "alice") == "welcome:consent"
    assert "consent" in alice.texts()  # and the current question again


@pytest.mark.parametrize(
    "forged", ["", "x", "999.agree", "1.nonsense", "2.agree.extra", "-1.agree", "2." + "a" * 5000, "\x00\x01"]
)
async def test_forged_button_data_changes_nothing(bot: Bot, forged: str) -> None:
    alice = bot.person("alice")
    await alice.send("/start")
    await alice.press("begin")
    await alice.deliver(alice.inbound(InboundKind.CHOICE, forged))
    assert "no longer available" in alice.texts()
    assert await where(bot, "alice") == "welcome:consent"
    account = await bot.store.ensure_account(alice.inbound(InboundKind.TEXT).channel, "alice")
    assert account.consented_at is None


async def test_three_wrong_answers_in_a_row_offer_a_person(bot: Bot) -> None:
    alice = bot.person("alice")
    await reach(alice, bot, "verify:id_number")
    await alice.send("123")
    await alice.send("456")
    assert "Talk to a person" not in alice.texts()
    await alice.send("789")
    assert "Talk to a person" in alice.texts()
    await alice.press("Talk to a person")
    assert "mediator" in alice.texts()
    assert await where(bot, "alice") == "helpdesk:message"


async def test_a_sticker_where_text_is_expected_is_answered_kindly(bot: Bot) -> None:
    alice = bot.person("alice")
    await reach(alice, bot, "verify:name")
    await alice.deliver(alice.inbound(InboundKind.UNSUPPORTED, "sticker"))
    assert "only read text" in alice.texts()
    assert await where(bot, "alice") == "verify:name"


async def test_an_unknown_command_is_explained(bot: Bot) -> None:
    alice = bot.person("alice")
    await reach(alice, bot, "verify:name")
    await alice.send("/frobnicate")
    assert "/help" in alice.texts()
    assert await where(bot, "alice") == "verify:name"


async def test_help_lists_the_commands_and_keeps_the_place(bot: Bot) -> None:
    alice = bot.person("alice")
    await reach(alice, bot, "verify:name")
    await alice.send("/help")
    for command in (
        "/start",
        "/menu",
        "/back",
        "/cancel",
        "/status",
        "/legal",
        "/mydata",
        "/delete",
        "/lang",
    ):
        assert command in alice.texts()
    assert await where(bot, "alice") == "verify:name"


async def test_lang_switches_and_returns_to_the_question(bot: Bot) -> None:
    alice = bot.person("alice")
    await reach(alice, bot, "verify:name")
    await alice.send("/lang")
    await alice.press("中文")
    assert await where(bot, "alice") == "verify:name"
    assert all(not plain(m.text).isascii() for m in alice.last)
