"""Words typed for a shown choice at the terminal (trial 3, item 7): the words of a lettered notice's choice
or a loose wording of a numbered one count when they name exactly one choice; a refusal lists again the
choices it means, lettered ones included, and says whether to type a letter or a number; and a choice that
commits at once (confirming the agreement) is never made by loose words."""

from __future__ import annotations

import io

from sqlalchemy import select

from bot.channels.terminal import TerminalChannel
from bot.channels.wechat import SINCE_TYPED, pressed, shown_choices, typed_in
from bot.rendering import RenderedButton
from dialogs.lifecycle import CaseState
from storage import models
from tests.dialogs.harness import Bot, Person
from tests.dialogs.test_negotiation import approved
from tests.dialogs.test_payments import active_plan, case_state
from tests.dialogs.test_typed_money import _show, _type


async def _agreement_noticed(bot: Bot) -> tuple[Person, TerminalChannel, io.StringIO]:
    """Alice at her menu in a terminal when the notice "confirm the agreement" arrives beside it."""
    alice, _olga, leo = await approved(bot)
    screen = io.StringIO()
    terminal = TerminalChannel("alice", screen)
    await _type(alice, terminal, "/start")
    await leo.press("View and answer")
    await leo.press("Accept")
    await _show(alice, terminal, alice.received())
    return alice, terminal, screen


async def _confirmed_by_alice(bot: Bot) -> bool:
    async with bot.store.unit() as session:
        confirmed = (await session.execute(select(models.Agreement.borrower_confirmed_at))).scalars().all()
    assert len(confirmed) == 1
    return confirmed[0] is not None


async def test_words_of_a_lettered_agreement_choice_are_listed_with_its_letter(
    bot: Bot,
) -> None:
    alice, terminal, screen = await _agreement_noticed(bot)
    shown = screen.getvalue()
    assert "a) Confirm this agreement" in shown, shown

    replies = await _type(alice, terminal, "confirm")
    said = "\n".join(r.text for r in replies)
    assert "please choose it by typing its letter:" in said, said
    assert "  a) Confirm this agreement" in said
    assert not await _confirmed_by_alice(bot)  # a commitment is never made by loose words

    await _type(alice, terminal, "A")
    assert await _confirmed_by_alice(bot)


async def test_a_refusal_lists_the_lettered_choices_and_asks_for_a_letter_or_number(bot: Bot) -> None:
    alice, terminal, _screen = await _agreement_noticed(bot)
    replies = await _type(alice, terminal, "what now")
    said = "\n".join(r.text for r in replies)
    assert "Please choose one of the options (type its letter or number)" in said, said
    assert "  a) Confirm this agreement" in said
    assert replies[-1].buttons, "the question is asked again with its numbered choices"
    assert await case_state(bot) is CaseState.NEGOTIATING


async def test_report_payment_typed_at_the_schedule_starts_the_report(bot: Bot) -> None:
    alice, _olga, _leo = await active_plan(bot)
    terminal = TerminalChannel("alice", io.StringIO())
    await _type(alice, terminal, "/schedule")
    replies = await _type(alice, terminal, "report payment")
    said = "\n".join(r.text for r in replies)
    assert "How much did you pay" in said, said


def test_wechat_reads_words_of_a_lettered_notice_and_passes_the_refusal_its_choices() -> None:
    menu = (RenderedButton("3.status", "我的申请进度"), RenderedButton("3.plans", "方案与协商"))
    notice = (RenderedButton("4.g:pay:1", "报告一笔还款"), RenderedButton("4.g:confirm:1:1", "确认这份协议"))
    state, _ = shown_choices({SINCE_TYPED: True}, menu, {})
    state, style = shown_choices(state, notice, {})
    assert style == "lettered"
    assert pressed(state, "报告还款", None) == "4.g:pay:1"  # its key words
    assert pressed(state, "确认", None) is None  # never by loose words: named with its letter instead
    assert typed_in(state, "确认").candidates == (("b", notice[1]),)
    assert pressed(state, "b", None) == "4.g:confirm:1:1"
