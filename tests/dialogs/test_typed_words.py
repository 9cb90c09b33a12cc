"""What a newcomer typed at the terminal in a trial: numbers that must mean one thing, words that mean a
button, "none" for an amount, and a line typed at /mydata. Typed through the terminal channel, as at the
keyboard.
"""

from __future__ import annotations

from decimal import Decimal

from bot.demo import DEMO_BORROWER
from dialogs.domain import Channel, Hardship, HardshipReason
from dialogs.rules.affordability import Finances
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


async def _stored(bot: Bot) -> tuple[Hardship, Finances]:
    account = await bot.store.ensure_account(Channel.TERMINAL, "alice")
    (case,) = await bot.store.cases_of(account.id)
    hardship, finances = await bot.store.hardship(case.id), await bot.store.finances(case.id)
    assert hardship is not None and finances is not None
    return hardship, finances


async def test_words_people_type_in_english_answer_the_questions(bot: Bot) -> None:
    typist = Typist(bot.person("alice"))
    await typist.type("/start")
    await typist.type("ok")  # "Let's begin"
    await typist.type("yes")  # "I consent"
    assert await where(bot, "alice") == "verify:ref"
    for answer in (DEMO_BORROWER.loan_ref, DEMO_BORROWER.name, DEMO_BORROWER.id_number, DEMO_BORROWER.phone):
        await typist.type(answer)
    await typist.type(bot.codes.last)
    await typist.type("illness")  # "Illness or injury"
    await typist.type("temporary")  # "It will pass"
    await typist.type("I fell ill in October.")
    await typist.type("none")  # no file: "Skip"
    assert await where(bot, "alice") == "finances:net_monthly_income", typist.person.texts()
    await typist.type("6500")
    await typist.type("/back")
    await typist.type("keep")  # "Keep ¥6,500.00"
    assert await where(bot, "alice") == "finances:housing", typist.person.texts()
    for amount in ("1800", "1200", "300", "200", "800", "0", "150", "0"):
        await typist.type(amount)
    await typist.type("none")  # savings
    assert await where(bot, "alice") == "finances:summary", typist.person.texts()
    await typist.type("no")  # not right: "Correct a figure"
    assert await where(bot, "alice") == "finances:correct", typist.person.texts()
    await typist.type("/back")
    await typist.type("yes")
    hardship, finances = await _stored(bot)
    assert (hardship.reason, hardship.lasting) == (HardshipReason.ILLNESS, False)
    assert (finances.net_monthly_income, finances.savings) == (Decimal(6500), Decimal(0))


async def test_words_people_type_in_chinese_answer_the_questions(bot: Bot) -> None:
    typist = Typist(bot.person("alice", "zh_CN"))
    await typist.type("/start")
    await typist.type("开始吧")
    await typist.type("好的")  # "我同意"
    assert await where(bot, "alice") == "verify:ref"
    for answer in (DEMO_BORROWER.loan_ref, DEMO_BORROWER.name, DEMO_BORROWER.id_number, DEMO_BORROWER.phone):
        await typist.type(answer)
    await typist.type(bot.codes.last)
    await typist.type("失业了")  # "失业"
    await typist.type("暂时的")  # "会过去的"
    await typist.type("我十月份失业了。")
    await typist.type("没有")  # no file: "跳过"
    for amount in ("6500", "1800", "1200", "300", "200", "800", "无", "150", "零"):
        await typist.type(amount)
    await typist.type("没有")  # savings
    await typist.type("是的")  # "是的，没错"
    assert await where(bot, "alice") == "plans:options", typist.person.texts()
    await typist.type("/menu")
    await typist.type("继续")  # "继续我的申请"
    assert await where(bot, "alice") == "plans:options", typist.person.texts()
    hardship, finances = await _stored(bot)
    assert (hardship.reason, hardship.description) == (HardshipReason.JOB_LOSS, "我十月份失业了。")
    assert (finances.medical, finances.other_debt_payments, finances.savings) == (0, 0, 0)


async def test_a_line_typed_at_mydata_is_answered_in_a_line_not_with_the_export_again(bot: Bot) -> None:
    alice = bot.person("alice")
    await reach(alice, bot, "finances:net_monthly_income")
    await alice.send("/mydata")
    assert [m.file_name for m in alice.last if m.file_name] == ["loanbridge-my-data.json"]
    await alice.send("what is this?")
    assert not any(m.file_name for m in alice.last), alice.texts()
    assert "sent to you earlier" in alice.texts()
    assert "[Send it again] [Back] [Menu]" in alice.texts()
    assert len(alice.texts()) < 300  # a line, not the summary again
    await alice.press("Back")
    assert await where(bot, "alice") == "finances:net_monthly_income"
    await alice.send("/mydata")  # asked for again: sent again
    assert [m.file_name for m in alice.last if m.file_name] == ["loanbridge-my-data.json"]
