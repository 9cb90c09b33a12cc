"""After a breach the borrower is never at a dead end (trial 1, item 6): the menu and /status say what it
means, at any hour (the notice itself keeps to the conduct hours), and offer a person and reporting a
payment still owed; the menu no longer offers a new application as if nothing had happened."""

from __future__ import annotations

from bot.channels.terminal import plain
from dialogs.lifecycle import CaseState
from tests.conftest import FakeClock
from tests.dialogs.harness import Bot, Person
from tests.dialogs.test_breach_completion import sweep
from tests.dialogs.test_payments import active_plan, at, case_state

MEANING = "What this means: an instalment stayed unpaid past the grace period, so the plan is in breach."


def buttons(person: Person) -> list[str]:
    return [plain(b.label) for m in person.last for b in m.buttons]


async def test_after_a_breach_at_night_the_menu_and_status_explain_and_offer_a_way_on(
    bot: Bot, clock: FakeClock
) -> None:
    alice, _olga, _leo = await active_plan(bot)
    at(clock, "2026-12-18", hour=17)  # 01:00 in Shanghai: the breach notice waits for 08:00
    assert await sweep(bot, clock) == 1
    assert await case_state(bot) is CaseState.DEFAULTED

    await alice.send("/menu")
    menu = alice.texts()
    assert "Your application: in breach. " + MEANING in menu, menu
    assert "less everything you paid under the plan" in menu
    shown = buttons(alice)
    # A person is a way on, and a payment made now is reported as before (trial 3, item 5)
    assert "Talk to a person" in shown and "Report a payment" in shown, shown
    assert "Start an application" not in shown

    await alice.send("/status")
    status = alice.texts()
    assert "State: in breach\n" + MEANING in status, status
    assert "Talk to a person" in buttons(alice) and "Report a payment" in buttons(alice)

    await alice.press("Talk to a person")
    assert "not something you can do here" not in alice.texts()


async def test_a_running_plan_shows_no_breach_words(bot: Bot, clock: FakeClock) -> None:
    alice, _olga, _leo = await active_plan(bot)
    await alice.send("/status")
    assert "What this means" not in alice.texts()
    assert "Talk to a person" not in buttons(alice)
