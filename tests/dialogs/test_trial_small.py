"""Smaller things from trial 1, item 20: /language works as /lang does, the terminal's development code
line is in the language the person chose since the terminal opened, and /stats counts what happens to
running plans and broadcasts."""

from __future__ import annotations

import io
from dataclasses import replace

from bot.channels.terminal import TerminalChannel
from bot.rendering import Rendered, Renderer
from bot.terminal_chat import TerminalCodes
from dialogs.domain import Account, Channel, Role
from dialogs.lifecycle import CaseState
from tests.conftest import FakeClock
from tests.dialogs.harness import Bot
from tests.dialogs.test_breach_completion import sweep
from tests.dialogs.test_payments import active_plan, at, case_state, report


async def test_language_is_lang(bot: Bot, clock: FakeClock) -> None:
    mei = bot.person("mei", locale="zh_CN")
    await mei.send("/start")
    await mei.send("/language")
    assert "请选择语言 / Which language would you like?" in mei.texts(), mei.texts()
    await mei.press("English")
    assert "I will write to you in English from now on." in mei.texts()
    account = await bot.store.ensure_account(Channel.TERMINAL, "mei")
    assert account.locale == "en"


async def test_the_development_code_line_follows_the_language_chosen() -> None:
    screen = io.StringIO()
    terminal = TerminalChannel("mei", screen)
    codes = TerminalCodes(terminal)
    opened = Account(1, Channel.TERMINAL, "mei", Role.BORROWER, "zh_CN", "Asia/Shanghai", reachable=True)
    codes.shown_to = (Renderer(), opened)
    # She chose English; delivery has since shown her messages as the account now is
    await terminal.send(replace(opened, locale="en"), Rendered("I will write to you in English from now on."))
    await codes.send_code("+8613812345678", "038199")
    shown = screen.getvalue()
    assert "(Development: the one-time code for 138****5678 is 038199. No SMS was sent.)" in shown, shown
    assert "开发环境" not in shown


async def test_stats_count_payments_breaches_and_broadcasts(bot: Bot, clock: FakeClock) -> None:
    alice, olga, leo = await active_plan(bot)
    at(clock, "2026-12-02")
    await report(alice, "800")
    await leo.press("Confirm ¥800.00 received")
    await report(alice, "100")
    await olga.send("/stats")
    said = olga.texts()
    assert (
        "Running plans: payments reported 2 (waiting for the lender 1, confirmed 1, ever disputed 0, "
        "not counted after a dispute 0); instalments moved 0; breaches 0; plans completed 0" in said
    ), said
    assert "Broadcasts: 0 (0 finished)" in said
    await leo.send("/schedule 1")
    await leo.press("Confirm ¥100.00 received")
    at(clock, "2027-01-19")  # instalment 2 (January 2) unpaid past the grace period
    await sweep(bot, clock)
    assert await case_state(bot) is CaseState.DEFAULTED
    await olga.send("/stats")
    assert "breaches 1; plans completed 0" in olga.texts()
