"""Understood the way people type: loan references, amounts, names, a button's own words, a code, a number.

Transcripts through the real engine and store; the typed-button ones go through the terminal channel, which
turns a typed line into a button press or an answer exactly as it does for a person at the keyboard.
"""

from __future__ import annotations

import io
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from bot.channels.terminal import TerminalChannel, plain
from bot.demo import DEMO_BORROWER
from bot.rendering import Rendered
from dialogs.domain import Channel
from storage import models
from tests.dialogs.harness import Bot, Person
from tests.dialogs.test_navigation import reach, where


async def _failures(bot: Bot) -> int:
    async with bot.store.unit() as session:
        return int(
            (await session.execute(select(func.count()).select_from(models.VerificationFailure))).scalar_one()
        )


async def _stored_income(bot: Bot, user: str) -> Decimal:
    account = await bot.store.ensure_account(Channel.TERMINAL, user)
    (case,) = await bot.store.cases_of(account.id)
    finances = await bot.store.finances(case.id)
    assert finances is not None
    return finances.net_monthly_income


@pytest.mark.parametrize("typed", ["demo-0001", " DEMO 0001 ", "demo0001", "ＤＥＭＯ－０００１"])
async def test_a_loan_reference_typed_loosely_is_found_without_costing_an_attempt(
    bot: Bot, typed: str
) -> None:
    alice = bot.person("alice")
    await reach(alice, bot, "verify:ref")
    for answer in (typed, DEMO_BORROWER.name, DEMO_BORROWER.id_number, DEMO_BORROWER.phone):
        await alice.send(answer)
    assert "6-digit code" in alice.texts()
    assert await where(bot, "alice") == "verify:code"
    assert await _failures(bot) == 0


@pytest.mark.parametrize(
    ("typed", "stored"),
    [
        ("三千", "3000.00"),
        ("3千", "3000.00"),
        ("0.5万", "5000.00"),
        ("1.2万元", "12000.00"),
        ("3000块", "3000.00"),
        ("￥3,000", "3000.00"),
        ("¥3,000", "3000.00"),
        ("3,000.50", "3000.50"),
        ("3000 yuan", "3000.00"),
        ("三千五百", "3500.00"),
        ("两千", "2000.00"),
        ("一万二", "12000.00"),
        ("３０００", "3000.00"),
    ],
)
async def test_an_amount_typed_as_people_write_it_is_stored_as_that_amount(
    bot: Bot, typed: str, stored: str
) -> None:
    alice = bot.person("alice")
    await reach(alice, bot, "finances:net_monthly_income")
    await alice.send(typed)
    assert await where(bot, "alice") == "finances:housing", alice.texts()
    for _ in range(9):
        await alice.send("0")
    await alice.press("Yes")
    assert await _stored_income(bot, "alice") == Decimal(stored)


@pytest.mark.parametrize(
    ("typed", "reply"),
    [
        ("-500", "cannot be below zero"),
        ("负三千", "cannot be below zero"),
        ("99999999999999", "out of range"),
        ("9" * 60, "out of range"),
        ("two hundred", "with up to two decimals"),
    ],
)
async def test_a_negative_or_huge_amount_is_told_what_is_wrong(bot: Bot, typed: str, reply: str) -> None:
    alice = bot.person("alice")
    await reach(alice, bot, "finances:housing")
    await alice.send(typed)
    assert reply in alice.texts()
    for other in {"cannot be below zero", "out of range", "with up to two decimals"} - {reply}:
        assert other not in alice.texts()
    assert await where(bot, "alice") == "finances:housing"


@pytest.mark.parametrize("typed", ["DEMO-0001", "张伟123", "😀", "demo 0001"])
async def test_a_name_that_cannot_be_one_is_refused_before_it_costs_an_attempt(bot: Bot, typed: str) -> None:
    alice = bot.person("alice")
    await reach(alice, bot, "verify:name")
    await alice.send(typed)
    assert "does not look like a name" in alice.texts()
    assert "for example: 张三" in alice.texts()
    assert await where(bot, "alice") == "verify:name"
    assert await _failures(bot) == 0


async def test_a_story_longer_than_the_limit_is_answered_kindly(bot: Bot) -> None:
    alice = bot.person("alice")
    await reach(alice, bot, "hardship:description")
    await alice.send("我失业了，" * 904)  # 4,520 characters
    assert "it was 4,520 characters, and the limit is 2,000" in alice.texts()
    assert await where(bot, "alice") == "hardship:description"


class Typist:
    """A person at the terminal: each line goes through the terminal channel, each reply is shown there."""

    def __init__(self, person: Person) -> None:
        self.person = person
        self.channel = TerminalChannel(person.user, io.StringIO(), person.locale)

    async def type(self, line: str) -> list[Rendered]:
        inbound = self.channel.inbound(line)
        assert inbound is not None
        replies = await self.person.deliver(inbound)
        account = await self.person.bot.store.ensure_account(Channel.TERMINAL, self.person.user)
        for reply in replies:
            await self.channel.send(account, reply)
        return replies

    async def choose(self, label: str) -> None:
        """Type the number shown beside the button whose label contains ``label``."""
        for message in reversed(self.person.last):
            labels = [plain(button.label) for button in message.buttons]
            for number, shown in enumerate(labels, 1):
                if label in shown:
                    await self.type(str(number))
                    return
        raise AssertionError(f"no button {label!r} in {self.person.texts()}")


async def _verify_by_typing(typist: Typist, bot: Bot) -> None:
    for answer in (DEMO_BORROWER.loan_ref, DEMO_BORROWER.name, DEMO_BORROWER.id_number, DEMO_BORROWER.phone):
        await typist.type(answer)
    await typist.type(bot.codes.last)


@pytest.mark.parametrize(
    ("locale", "words"),
    [
        ("zh_CN", ["开始吧", "同意", "失业", "会过去的！"]),
        ("en", ["let's begin", "I consent.", "LOST MY JOB", " it will pass "]),
    ],
)
async def test_a_buttons_own_words_typed_press_it(bot: Bot, locale: str, words: list[str]) -> None:
    begin, consent, reason, duration = words
    typist = Typist(bot.person("alice", locale))
    await typist.type("/start")
    await typist.type(begin)
    assert await where(bot, "alice") == "welcome:consent"
    await typist.type(consent)
    assert await where(bot, "alice") == "verify:ref"
    await _verify_by_typing(typist, bot)
    await typist.type(reason)
    assert await where(bot, "alice") == "hardship:duration"
    await typist.type(duration)
    assert await where(bot, "alice") == "hardship:description"


async def test_words_that_match_no_single_button_are_not_a_press(bot: Bot) -> None:
    typist = Typist(bot.person("alice", "zh_CN"))
    await typist.type("/start")
    await typist.type("开始吧")
    await typist.type("不同意")  # 我不同意, not 我同意
    assert await where(bot, "alice") != "verify:ref"


async def test_a_code_with_leading_zeros_is_a_code_not_button_one(bot: Bot) -> None:
    typist = Typist(bot.person("alice"))
    await typist.type("/start")
    await typist.choose("begin")
    await typist.choose("I consent")
    for answer in (DEMO_BORROWER.loan_ref, DEMO_BORROWER.name, DEMO_BORROWER.id_number, DEMO_BORROWER.phone):
        await typist.type(answer)
    sent = len(bot.codes.sent)
    wrong = "000001" if bot.codes.last != "000001" else "000002"
    await typist.type(wrong)
    assert len(bot.codes.sent) == sent  # not "Send a new code", the first button
    assert "That code is not right" in typist.person.texts()
    await typist.type(" ".join(bot.codes.last))  # "1 2 3 4 5 6", spaced as it is read out
    assert await where(bot, "alice") == "hardship:reason"


async def test_a_number_typed_at_a_question_without_buttons_is_its_answer(bot: Bot) -> None:
    typist = Typist(bot.person("alice"))
    await typist.type("/start")
    await typist.choose("begin")
    await typist.choose("I consent")
    await _verify_by_typing(typist, bot)
    await typist.choose("Lost my job")
    await typist.choose("It will pass")
    await typist.type("I lost my job.")
    await typist.choose("Skip")
    for amount in ("6500", "1800", "1200", "300", "200", "800", "0", "150", "0", "2000"):
        await typist.type(amount)
    await typist.choose("Yes")
    await typist.choose("Propose my own terms")
    await typist.choose("Longer term, equal instalments")
    assert await where(bot, "alice") == "plans:own_months"
    await typist.type("3")  # the kind question before had three buttons: this is three months
    assert await where(bot, "alice") == "plans:own_amount", typist.person.texts()


async def _at_description(bot: Bot, locale: str) -> Person:
    alice = bot.person("alice")
    await reach(alice, bot, "hardship:description")
    if locale != "en":
        await alice.send("/lang")
        await alice.press("中文")
        assert await where(bot, "alice") == "hardship:description"
    return alice


@pytest.mark.parametrize(
    ("locale", "limit"), [("en", "up to 2,000 characters"), ("zh_CN", "最多可以写 2,000 个字")]
)
async def test_the_story_question_says_its_limit_before_it_is_asked(
    bot: Bot, locale: str, limit: str
) -> None:
    alice = await _at_description(bot, locale)
    assert limit in plain(alice.last[-1].text)


@pytest.mark.parametrize(
    ("locale", "story", "received"),
    [
        ("en", "I lost my job in October and am looking for work.", "Thank you for telling me"),
        ("zh_CN", "我十月份失业了，正在找工作。", "谢谢您愿意告诉我这些"),
    ],
)
async def test_a_story_is_acknowledged(bot: Bot, locale: str, story: str, received: str) -> None:
    alice = await _at_description(bot, locale)
    await alice.send(story)
    assert received in alice.texts()
    assert "/legal" not in alice.texts()  # nothing in it speaks of harassment
    assert await where(bot, "alice") == "hardship:evidence"


@pytest.mark.parametrize(
    ("locale", "story", "report"),
    [
        ("en", "They called my mother and my employer, and threatened me.", "Report harassment"),
        ("en", "The collector keeps phoning my colleagues.", "Report harassment"),
        ("zh_CN", "催收爆通讯录，还打电话给我家人和单位，威胁我。", "举报骚扰"),
        ("zh_CN", "他们天天骚扰我。", "举报骚扰"),
    ],
)
async def test_a_story_of_harassment_points_to_the_report(
    bot: Bot, locale: str, story: str, report: str
) -> None:
    alice = await _at_description(bot, locale)
    await alice.send(story)
    assert "/legal" in alice.texts() and report in alice.texts()
    assert await where(bot, "alice") == "hardship:evidence"  # the application goes on where it was
    await alice.send("/legal")
    await alice.press(report)
    assert await where(bot, "alice") == "legal:harassment_who"
