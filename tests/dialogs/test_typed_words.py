"""What a newcomer typed at the terminal in a trial: numbers that must mean one thing, words that mean a
button, "none" for an amount, and a line typed at /mydata. Typed through the terminal channel, as at the
keyboard.
"""

from __future__ import annotations

from tests.dialogs.harness import Bot
from tests.dialogs.test_navigation import reach, where
from tests.dialogs.test_typing import Typist


async def test_the_help_offered_when_stuck_shares_the_questions_numbers(bot: Bot) -> None:
    alice = bot.person("alice")
    await reach(alice, bot, "hardship:evidence")
    typist = Typist(alice)
    for _ in range(3):
        replies = await typist.type("I have no file")
    with_buttons = [reply for reply in replies if reply.buttons]
    assert len(with_buttons) == 1, typist.person.texts()  # one numbered set: "1" means one thing
    assert "among the choices below" in typist.person.texts()
    assert "[Skip] [Talk to a person] [Menu]" in typist.person.texts()
    await typist.type("2")
    assert await where(bot, "alice") == "helpdesk:message"


async def test_the_help_offered_at_a_question_without_buttons_is_its_only_set(bot: Bot) -> None:
    alice = bot.person("alice")
    await reach(alice, bot, "verify:id_number")
    typist = Typist(alice)
    for _ in range(3):
        replies = await typist.type("123")
    assert [len(reply.buttons) for reply in replies if reply.buttons] == [2]
    await typist.type("1")  # a number here is an answer to the question (refused: not an ID number)
    assert await where(bot, "alice") == "verify:id_number"
    await typist.type("a")  # the offer's buttons are lettered beside the question
    assert await where(bot, "alice") == "helpdesk:message"
