"""Typed choices on notices at the terminal: letters run on across notices and never repeat, and a typed
choice that decides a payment asks once more before anything happens (trial 1, item 1: two notices both
labelled a), and typing ``a`` confirmed the wrong payment straight away) — but only while the payment is
still to be decided: a stale letter is told at once what was decided (trial 3, item 3)."""

from __future__ import annotations

import io
from decimal import Decimal
from typing import cast

from wechatpy import parse_message
from wechatpy.messages import BaseMessage

from bot.channels.terminal import TerminalChannel, letter_for, run_lines
from bot.channels.wechat import Api, inbound_of, shown_choices
from bot.rendering import Rendered, RenderedButton
from dialogs.domain import Channel
from dialogs.messages import Inbound, InboundKind
from tests.channels.test_terminal_notices import ALICE, NOTICE
from tests.conftest import FakeClock
from tests.dialogs.harness import Bot, Person
from tests.dialogs.test_payments import active_plan, at, report, stored

D = Decimal


async def _show(person: Person, terminal: TerminalChannel, messages: list[Rendered]) -> None:
    account = await person.bot.store.ensure_account(Channel.TERMINAL, person.user)
    for message in messages:
        await terminal.send(account, message)


async def _type(person: Person, terminal: TerminalChannel, line: str) -> list[Rendered]:
    inbound = terminal.inbound(line)
    assert inbound is not None
    replies = await person.deliver(inbound)
    await _show(person, terminal, replies)
    return replies


def _typed(terminal: TerminalChannel, line: str) -> Inbound:
    inbound = terminal.inbound(line)
    assert inbound is not None and inbound.kind is InboundKind.CHOICE, inbound
    assert inbound.extra == {"typed": True}  # the dialogs ask once more for a typed payment decision
    return inbound


async def test_a_typed_letter_names_one_notice_and_a_payment_decision_asks_first(
    bot: Bot, clock: FakeClock
) -> None:
    alice, _olga, leo = await active_plan(bot)
    screen = io.StringIO()
    terminal = TerminalChannel("leo", screen)
    await _type(leo, terminal, "/start")  # Leo's menu is on screen; notices arrive beside it
    at(clock, "2026-12-03")
    await report(alice, "400")
    await report(alice, "3000")
    notices = leo.received()
    assert len(notices) == 2, [m.text for m in notices]
    await _show(leo, terminal, notices)
    shown = screen.getvalue()
    assert "  a) Confirm ¥400.00 received" in shown and "  c) Confirm ¥3,000.00 received" in shown
    assert shown.count("  a) ") == 1  # the second notice goes on with c) and d), never a) again

    await _type(leo, terminal, "a")
    assert "You typed the choice to confirm that the payment of ¥400.00" in leo.texts(), leo.texts()
    assert [status for _, _, status in (await stored(bot))[1]] == ["reported", "reported"]  # nothing yet

    await _type(leo, terminal, "yes")
    assert "confirmed that the payment of ¥400.00" in leo.texts(), leo.texts()
    _, payments = await stored(bot)
    assert payments == [(D("400.00"), "2026-12-03", "confirmed"), (D("3000.00"), "2026-12-03", "reported")]

    # No leaves the payment as it was, and says so
    await _type(leo, terminal, "c")  # confirm ¥3,000
    assert "payment of ¥3,000.00" in leo.texts(), leo.texts()
    await _type(leo, terminal, "no")
    assert "Nothing was changed: the payment still waits" in leo.texts(), leo.texts()
    assert (await stored(bot))[1][1][2] == "reported"


async def test_a_stale_typed_letter_says_at_once_what_was_decided(bot: Bot, clock: FakeClock) -> None:
    alice, _olga, leo = await active_plan(bot)
    screen = io.StringIO()
    terminal = TerminalChannel("leo", screen)
    await _type(leo, terminal, "/start")
    at(clock, "2026-12-03")
    await report(alice, "400")
    await _show(leo, terminal, leo.received())
    assert "  a) Confirm ¥400.00 received" in screen.getvalue()
    await leo.press("Confirm ¥400.00 received")  # tapped elsewhere (Telegram): decided at once
    await _type(leo, terminal, "a")  # the old notice's letter, typed later
    said = leo.texts()
    assert "was already decided: confirmed. Nothing was changed." in said, said
    assert "You typed the choice" not in said and "Confirm it?" not in said
    await _type(leo, terminal, "b")  # the same notice's "has not arrived": decided too, said at once
    said = leo.texts()
    assert "was already decided: confirmed" in said and "Why has the payment" not in said, said
    _, payments = await stored(bot)
    assert payments == [(D("400.00"), "2026-12-03", "confirmed")]


async def test_a_dispute_typed_goes_on_to_its_own_reason_and_check_without_a_second_question() -> None:
    terminal = TerminalChannel("leo", io.StringIO())
    terminal.inbound("/schedule 1")
    await terminal.send(ALICE, Rendered("A payment waits.", (RenderedButton("5.g:paybad:1:2", "Dispute"),)))
    disputed = terminal.inbound("1")
    assert disputed is not None and disputed.payload == "5.g:paybad:1:2"


async def test_a_typed_number_or_words_for_a_payment_decision_ask_first_too() -> None:
    terminal = TerminalChannel("alice", io.StringIO())
    terminal.inbound("/schedule 1")
    decide = (RenderedButton("5.g:payok:1:2", "Confirm ¥400.00 received"), RenderedButton("5.g:menu", "Menu"))
    await terminal.send(ALICE, Rendered("A payment waits.", decide))
    assert _typed(terminal, "1").payload == "5.g:payok:1:2"
    assert _typed(terminal, "confirm ¥400.00 received").payload == "5.g:payok:1:2"
    assert _typed(terminal, "2").payload == "5.g:menu"


def test_letters_never_repeat() -> None:
    labels = [letter_for(index) for index in range(800)]
    assert labels[:3] == ["a", "b", "c"] and labels[25:28] == ["z", "aa", "ab"]
    assert len(set(labels)) == len(labels)


async def test_the_prompt_comes_back_after_a_notice() -> None:
    screen = io.StringIO()
    terminal = TerminalChannel("alice", screen)
    terminal.prompt()
    await terminal.send(ALICE, NOTICE)
    assert screen.getvalue().startswith("> \nNew offer on case 1.")
    assert screen.getvalue().endswith("a) Open case 1\n\n> ")


async def test_run_lines_passes_a_typed_decision_on_marked_as_typed() -> None:
    terminal = TerminalChannel("alice", io.StringIO())
    terminal.inbound("/start")
    await terminal.send(ALICE, Rendered("Reported.", (RenderedButton("5.g:payok:1:2", "Confirm ¥400.00"),)))
    lines = iter(["1", None])
    handled: list[Inbound] = []
    told: list[str] = []

    async def next_line() -> str | None:
        return next(lines)

    async def handle(inbound: Inbound) -> None:
        handled.append(inbound)

    async def notice(template: str, context: dict[str, object]) -> None:
        told.append(template)

    await run_lines(terminal, next_line, handle, notice)
    assert told == []  # the terminal asks nothing itself: the dialogs check the payment, then ask
    assert [(i.payload, i.extra) for i in handled] == [("5.g:payok:1:2", {"typed": True})]


async def test_no_prompt_below_what_comes_after_the_last_line() -> None:
    screen = io.StringIO()
    terminal = TerminalChannel("alice", screen)
    lines = iter(["/quit"])

    async def next_line() -> str | None:
        terminal.prompt()
        return next(lines)

    async def nothing(*_args: object) -> None:
        return None

    await run_lines(terminal, next_line, nothing, nothing)
    await terminal.send(ALICE, Rendered("Goodbye."))
    assert screen.getvalue() == "> Goodbye.\n\n"


def _wechat_text(content: str, menu_id: str | None = None) -> BaseMessage:
    menu = f"<bizmsgmenuid>{menu_id}</bizmsgmenuid>" if menu_id else ""
    return parse_message(
        "<xml><ToUserName>gh</ToUserName><FromUserName>wang</FromUserName><CreateTime>1</CreateTime>"
        f"<MsgType>text</MsgType><Content>{content}</Content><MsgId>42</MsgId>{menu}</xml>"
    )


async def test_wechat_marks_a_typed_choice_as_typed_and_a_tap_not() -> None:
    decide = (RenderedButton("5.g:payok:1:2", "确认已收到 ¥400.00"),)
    state, _ = shown_choices(None, decide, {"7777": "5.g:payok:1:2"})
    typed = await inbound_of(_wechat_text("1"), state, cast(Api, None))
    assert (typed.kind, typed.payload, typed.extra) == (InboundKind.CHOICE, "5.g:payok:1:2", {"typed": True})
    tapped = await inbound_of(_wechat_text("1. 确认已收到 ¥400.00", "7777"), state, cast(Api, None))
    assert (tapped.payload, tapped.extra) == ("5.g:payok:1:2", {})  # a tap acts at once, as on Telegram
