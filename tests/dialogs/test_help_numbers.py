"""/help at a question: the list comes first and the question again below it, with one numbered set of
choices, so a typed "1" does what the last screen says (trial 3, item 2: help's own "1) Talk to a person"
was printed above the question's "1) …", and a typed "1" could mean either)."""

from __future__ import annotations

import io

from bot.channels.terminal import TerminalChannel
from tests.dialogs.harness import Bot
from tests.dialogs.test_navigation import where
from tests.dialogs.test_negotiation import approved
from tests.dialogs.test_typed_money import _type


def _numbered(screen: str) -> list[str]:
    return [line.strip() for line in screen.splitlines() if line.startswith("  ") and ") " in line]


async def test_after_help_a_typed_number_is_the_question_on_screen(bot: Bot) -> None:
    alice = bot.person("alice")
    screen = io.StringIO()
    terminal = TerminalChannel("alice", screen, "en")
    await _type(alice, terminal, "/start")
    asked = _numbered(screen.getvalue())
    assert asked and asked[0].startswith("1) "), screen.getvalue()
    first = asked[0].removeprefix("1) ")
    screen.seek(0), screen.truncate()

    await _type(alice, terminal, "/help")
    shown = screen.getvalue()
    numbered = _numbered(shown)
    assert [line.split(") ")[0] for line in numbered] == [str(n) for n in range(1, len(numbered) + 1)]
    assert numbered[0] == f"1) {first}", shown  # the question's own choices first, one set
    assert numbered[-2:] == [f"{len(numbered) - 1}) Talk to a person", f"{len(numbered)}) Menu"], shown
    assert shown.index("/help – this list") < shown.index(f"1) {first}")  # the list above, the question last
    assert "the choices below" in shown

    await _type(alice, terminal, "1")
    assert await where(bot, "alice") == "welcome:consent"  # what "1" said on the last screen


async def test_help_at_a_typed_question_adds_no_numbers_that_would_take_the_answer(bot: Bot) -> None:
    _, _, leo = await approved(bot)
    await leo.send("/offer 1")
    await leo.press("Counter-offer")
    await leo.press("Longer term, equal instalments")
    await leo.press("Months and monthly amount")
    helped = await leo.send("/help")
    assert not [button for message in helped for button in message.buttons], leo.texts()
    assert "Over how many months?" in helped[-1].text
    await leo.send("1")  # one month: the answer, not a button from the list
    assert await where(bot, "leo") == "negotiate:counter_amount"


async def test_help_at_the_menu_keeps_its_own_choices(bot: Bot) -> None:
    alice = bot.person("alice")
    await alice.send("/help")
    await alice.send("/menu")
    helped = await alice.send("/help")
    assert [button.label for message in helped for button in message.buttons] == ["Talk to a person", "Menu"]
