"""Every answer that cannot be taken gets a clear reply with an example, and changes nothing else."""

from __future__ import annotations

import pytest

from bot.demo import DEMO_BORROWER
from dialogs.domain import Channel
from dialogs.messages import InboundKind
from tests.conftest import FakeClock
from tests.dialogs.harness import Bot, Person
from tests.dialogs.test_navigation import reach, where


async def _account_id(bot: Bot, user: str) -> int:
    return (await bot.store.ensure_account(Channel.TERMINAL, user)).id


@pytest.mark.parametrize(
    ("step", "answer", "reply"),
    [
        ("verify:ref", "R" * 65, "longer than I can take"),
        ("verify:name", "x" * 51, "longer than I can take"),
        ("verify:id_number", "110105199003071238", "check digit"),  # last digit wrong
        ("verify:id_number", "11010519900307123", "18 characters"),
        ("verify:phone", "12345", "does not look like a phone number"),
        ("verify:phone", "phone", "does not look like a phone number"),
        ("finances:net_monthly_income", "lots", "amount in yuan"),
        ("finances:net_monthly_income", "-5", "amount in yuan"),
        ("finances:net_monthly_income", "1.234", "amount in yuan"),
        ("finances:housing", "99999999", "out of range"),
        ("hardship:reason", "I lost my job", "choose one of the options"),
        ("hardship:evidence", "here is a text", "send a photo or a file"),
        ("hardship:description", "x" * 2001, "longer than I can take"),
    ],
)
async def test_a_wrong_answer_is_explained_and_asked_again(
    bot: Bot, step: str, answer: str, reply: str
) -> None:
    alice = bot.person("alice")
    await reach(alice, bot, step)
    await alice.send(answer)
    assert reply in alice.texts()
    assert await where(bot, "alice") == step
    assert len(alice.last) == 2  # the explanation, then the question again


async def test_verification_that_does_not_match_says_so_without_saying_what(bot: Bot) -> None:
    alice = bot.person("alice")
    await reach(alice, bot, "verify:phone")
    await alice.send("13900000000")  # a valid number, not the loan's
    assert "If these details match a loan" in alice.texts()  # no sign yet that they did not
    assert await where(bot, "alice") == "verify:code"
    assert bot.codes.sent == []
    for _ in range(3):
        await alice.send("123456")  # no code is taken for details that matched nothing
    assert "do not match" in alice.texts()
    assert "4 attempts left" in alice.texts()
    assert "phone" not in alice.texts().split("do not match")[0]
    assert await where(bot, "alice") == "verify:ref"


async def _fail_verification(alice: Person, clock: FakeClock) -> None:
    await alice.send(DEMO_BORROWER.loan_ref)
    await alice.send("Somebody Else")
    await alice.send(DEMO_BORROWER.id_number)
    await alice.send(DEMO_BORROWER.phone)
    for _ in range(3):
        await alice.send("123456")
    clock.advance(minutes=8)  # at most 3 codes in 15 minutes: these attempts stay under it


async def test_five_failures_in_an_hour_lock_verification_for_an_hour(bot: Bot, clock: FakeClock) -> None:
    alice = bot.person("alice")
    await reach(alice, bot, "verify:ref")
    for _ in range(5):
        await _fail_verification(alice, clock)
    assert "paused for an hour" in alice.texts()
    await alice.send("/start")
    await alice.press("Start an application")
    assert "paused for an hour" in alice.texts()
    clock.advance(hours=1, minutes=1)
    await alice.send("/menu")
    await alice.press("Start an application")
    assert "loan reference" in alice.texts()


async def test_a_wrong_code_three_times_counts_as_a_failure(bot: Bot) -> None:
    alice = bot.person("alice")
    await reach(alice, bot, "verify:code")
    right = bot.codes.last
    wrong = "000000" if right != "000000" else "111111"
    await alice.send(wrong)
    assert "2 attempts left" in alice.texts()
    await alice.send(wrong)
    await alice.send(wrong)
    assert "do not match" in alice.texts()
    assert await where(bot, "alice") == "verify:ref"


async def test_an_expired_code_is_refused_and_a_new_one_can_be_sent(bot: Bot, clock: FakeClock) -> None:
    alice = bot.person("alice")
    await reach(alice, bot, "verify:code")
    old = bot.codes.last
    clock.advance(minutes=11)
    await alice.send(old)
    assert "expired" in alice.texts()
    await alice.press("Send a new code")
    assert len(bot.codes.sent) == 2
    await alice.send(bot.codes.last)
    assert "you are verified" in alice.texts()


async def test_a_shared_contact_that_is_not_the_senders_own_is_refused(bot: Bot) -> None:
    alice = bot.person("alice")
    await reach(alice, bot, "verify:phone")
    await alice.deliver(alice.inbound(InboundKind.CONTACT, DEMO_BORROWER.phone, own=False))
    assert "not your own number" in alice.texts()
    await alice.deliver(alice.inbound(InboundKind.CONTACT, DEMO_BORROWER.phone, own=True))
    assert "no code is needed" in alice.texts()


async def test_the_loan_can_be_found_without_its_reference(bot: Bot) -> None:
    alice = bot.person("alice")
    await reach(alice, bot, "verify:ref")
    await alice.press("I don't have it")
    await alice.send(DEMO_BORROWER.name)
    await alice.send(DEMO_BORROWER.id_number)
    await alice.send(DEMO_BORROWER.phone)
    await alice.send(bot.codes.last)
    assert "DEMO-0001" in alice.texts()
    assert "What made repaying difficult?" in alice.texts()


async def test_a_chinese_name_typed_with_a_space_still_finds_the_loan(bot: Bot) -> None:
    """Trial 5: "张 伟" matched nothing, so no code was ever sent and nothing said which answer was wrong."""
    alice = bot.person("alice")
    await reach(alice, bot, "verify:ref")
    await alice.send(DEMO_BORROWER.loan_ref)
    await alice.send(" 张  伟 ")
    await alice.send(DEMO_BORROWER.id_number)
    await alice.send(DEMO_BORROWER.phone)
    assert bot.codes.sent and bot.codes.sent[-1][0].endswith(DEMO_BORROWER.phone)  # a code was sent
    await alice.send(bot.codes.last)
    assert "What made repaying difficult?" in alice.texts()


async def test_several_loans_with_one_lender_are_offered_to_choose(bot: Bot) -> None:
    from bot.demo import BOOK, LENDER
    from dialogs.loanbook import parse_loan_book

    second = BOOK.splitlines()[1].replace("DEMO-0001", "DEMO-0009")
    await bot.store.import_loan_book(LENDER, parse_loan_book("\n".join([BOOK.splitlines()[0], second])))
    alice = bot.person("alice")
    await reach(alice, bot, "verify:ref")
    await alice.press("I don't have it")
    await alice.send(DEMO_BORROWER.name)
    await alice.send(DEMO_BORROWER.id_number)
    await alice.send(DEMO_BORROWER.phone)
    await alice.send(bot.codes.last)
    assert "more than one loan" in alice.texts()
    await alice.press("DEMO-0009")
    assert "loan DEMO-0009" in alice.texts()


async def test_own_terms_that_do_not_repay_enough_are_refused_with_what_is_needed(bot: Bot) -> None:
    alice = bot.person("alice")
    await reach(alice, bot, "plans:options")
    await alice.press("Propose my own terms")
    await alice.press("equal instalments")
    await alice.send("400")  # months: out of range
    assert "whole number from 1 to 360" in alice.texts()
    await alice.send("24")
    await alice.send("10")
    assert "It needs about ¥" in alice.texts()
    await alice.send("1000")
    assert "finish in 17 months" in alice.texts()
    await alice.send("700")  # within what 24 months at 13.80 % need (¥696.42) and the 24th month still needed
    assert "Your proposal" in alice.texts()
    await alice.press("Choose this plan")
    assert "check your application" in alice.texts()
    assert "¥700.00 a month for 24 months" in alice.texts()


async def test_nothing_affordable_is_said_plainly_and_routed_to_a_mediator(bot: Bot) -> None:
    alice = bot.person("alice")
    await reach(alice, bot, "finances:net_monthly_income")
    for amount in ("3000", "2000", "1000", "0", "0", "0", "0", "0", "0", "0"):
        await alice.send(amount)
    await alice.press("Yes")
    assert "none of the usual plans fits" in alice.texts()
    await alice.press("Ask a mediator")
    assert "none fits your budget" in alice.texts()
    await alice.press("Submit")
    assert "look for a plan with your lender" in alice.texts()


async def test_a_huge_message_is_refused_without_echoing_it(bot: Bot) -> None:
    alice = bot.person("alice")
    await reach(alice, bot, "verify:name")
    await alice.send("名" * 100_000)
    assert "100,000 characters" in alice.texts()  # the length as people read it
    assert "名名名" not in alice.texts()


async def test_after_an_hour_the_lock_window_is_measured_from_the_failures(
    bot: Bot, clock: FakeClock
) -> None:
    alice = bot.person("alice")
    await reach(alice, bot, "verify:ref")
    for _ in range(4):
        await _fail_verification(alice, clock)
    clock.advance(hours=1, minutes=1)
    await _fail_verification(alice, clock)
    assert "4 attempts left" in alice.texts()
