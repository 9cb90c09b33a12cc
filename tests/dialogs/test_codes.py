"""One-time codes: no probing for loans, rate limits, Telegram's verified contact, SMS that fail kindly."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from typing import Any

import pytest

from bot.codes import AfterReply, CodeNotSent
from bot.demo import DEMO_BORROWER
from dialogs.messages import InboundKind
from tests.conftest import FakeClock
from tests.dialogs.harness import Bot, Person, running_bot, start_and_consent
from tests.dialogs.test_navigation import where


async def _details(
    person: Person, *, name: str = DEMO_BORROWER.name, phone: str = DEMO_BORROWER.phone
) -> None:
    await person.send(DEMO_BORROWER.loan_ref)
    await person.send(name)
    await person.send(DEMO_BORROWER.id_number)
    await person.send(phone)


def _transcript(person: Person, bot: Bot) -> list[tuple[str, tuple[tuple[str, str], ...]]]:
    """Every message the person saw, in order of first arrival, with its buttons (whose ids carry the step's
    nonce, so a question asked again is a new entry). A message delivered again counts once: delivery may
    repeat a send after a crash or a race, which says nothing about the loan book."""
    seen: list[tuple[str, tuple[tuple[str, str], ...]]] = []
    for message in bot.recorder.inbox[person.user]:
        entry = (message.text, tuple((b.choice, b.label) for b in message.buttons))
        if entry not in seen:
            seen.append(entry)
    return seen


async def test_details_that_match_no_loan_get_the_same_replies_up_to_the_code(bot: Bot) -> None:
    alice, mallory = bot.person("alice"), bot.person("mallory")
    for person, name in ((alice, DEMO_BORROWER.name), (mallory, "王五")):
        await start_and_consent(person)
        await _details(person, name=name)
    assert _transcript(alice, bot) == _transcript(mallory, bot)
    assert "If these details match a loan" in mallory.texts()
    assert await where(bot, "mallory") == await where(bot, "alice") == "verify:code"
    assert len(bot.codes.sent) == 1  # only the details that match a loan get a code
    await mallory.press("Send a new code")
    await alice.press("Send a new code")
    assert _transcript(alice, bot) == _transcript(mallory, bot)
    assert len(bot.codes.sent) == 2


async def test_no_code_opens_details_that_match_no_loan(bot: Bot) -> None:
    mallory = bot.person("mallory")
    await start_and_consent(mallory)
    await _details(mallory, name="王五")
    for guess in ("000000", "123456", "999999"):
        await mallory.send(guess)
    assert "do not match" in mallory.texts()
    assert "you are verified" not in mallory.texts()
    assert await where(bot, "mallory") == "verify:ref"


async def test_three_codes_in_fifteen_minutes_per_account(bot: Bot, clock: FakeClock) -> None:
    alice = bot.person("alice")
    await start_and_consent(alice)
    await _details(alice)
    await alice.press("Send a new code")
    await alice.press("Send a new code")
    assert len(bot.codes.sent) == 3
    await alice.press("Send a new code")
    assert "only a few codes can be sent" in alice.texts()
    assert len(bot.codes.sent) == 3
    await alice.send(bot.codes.last)  # the last code sent is still good
    assert "you are verified" in alice.texts()


async def test_the_account_limit_holds_for_details_that_match_nothing_too(bot: Bot, clock: FakeClock) -> None:
    mallory = bot.person("mallory")
    await start_and_consent(mallory)
    for _ in range(3):
        await mallory.send("/menu")
        await mallory.press("Start an application")
        await _details(mallory, name="王五", phone="13900000000")
    await mallory.send("/menu")
    await mallory.press("Start an application")
    await _details(mallory, name="王五", phone="13900000000")
    assert "only a few codes can be sent" in mallory.texts()
    clock.advance(minutes=16)
    await mallory.send("/menu")
    await mallory.press("Start an application")
    await _details(mallory, name="王五", phone="13900000000")
    assert "If these details match a loan" in mallory.texts()


async def test_five_codes_an_hour_to_one_phone_number_whoever_asks(bot: Bot, clock: FakeClock) -> None:
    for number in range(5):
        person = bot.person(f"asker{number}")
        await start_and_consent(person)
        await _details(person, name="王五" if number % 2 else DEMO_BORROWER.name)
        assert "If these details match a loan" in person.texts()
    alice = bot.person("alice")
    await start_and_consent(alice)
    await _details(alice)
    assert "only a few codes can be sent" in alice.texts()
    assert await where(bot, "alice") == "home:menu"
    clock.advance(hours=1, minutes=1)
    await alice.press("Start an application")
    await _details(alice)
    await alice.send(bot.codes.last)
    assert "you are verified" in alice.texts()


async def test_telegrams_own_contact_that_matches_needs_no_code(bot: Bot) -> None:
    alice = bot.person("alice")
    await start_and_consent(alice)
    await alice.send(DEMO_BORROWER.loan_ref)
    await alice.send(DEMO_BORROWER.name)
    await alice.send(DEMO_BORROWER.id_number)
    await alice.deliver(alice.inbound(InboundKind.CONTACT, DEMO_BORROWER.phone, own=True))
    assert "Telegram has confirmed this number is yours, so no code is needed" in alice.texts()
    assert "you are verified" in alice.texts()
    assert bot.codes.sent == []


async def test_a_typed_number_or_an_own_contact_that_matches_nothing_still_goes_to_a_code(bot: Bot) -> None:
    alice, bob = bot.person("alice"), bot.person("bob")
    await start_and_consent(alice)
    await _details(alice)  # typed: the loan's number, but typed, so not verified by anyone
    assert "6-digit code" in alice.texts()
    await start_and_consent(bob)
    await bob.send(DEMO_BORROWER.loan_ref)
    await bob.send("王五")
    await bob.send(DEMO_BORROWER.id_number)
    await bob.deliver(bob.inbound(InboundKind.CONTACT, DEMO_BORROWER.phone, own=True))
    assert "If these details match a loan" in bob.texts()
    assert await where(bot, "bob") == "verify:code"


class Sms:
    """A provider for the tests: slow, and failing while ``failing`` is set; it records what it took."""

    def __init__(self, *, delay: float = 0.0) -> None:
        self.delay = delay
        self.failing = False
        self.sent: list[tuple[str, str]] = []

    async def send_code(self, phone: str, code: str, *, account_id: int = 0) -> None:
        await asyncio.sleep(self.delay)
        if self.failing:
            raise CodeNotSent("the provider refused it")
        self.sent.append((phone, code))


@pytest.fixture
def sms() -> Sms:
    return Sms(delay=0.4)


@pytest.fixture
async def sms_bot(database_url: str, clock: Any, sms: Sms) -> AsyncIterator[Bot]:
    async with running_bot(database_url, clock, code_sender=AfterReply(sms)) as running:
        yield running


async def _until(condition: Any) -> None:
    for _ in range(200):
        if condition():
            return
        await asyncio.sleep(0.01)
    raise AssertionError("timed out")


async def test_the_sms_leaves_after_the_reply_so_a_match_takes_no_longer(sms_bot: Bot, sms: Sms) -> None:
    alice, mallory = sms_bot.person("alice"), sms_bot.person("mallory")
    timings = []
    for person, name in ((alice, DEMO_BORROWER.name), (mallory, "王五")):
        await start_and_consent(person)
        await _details(person, name=name)
        started = time.perf_counter()
        await person.press("Send a new code")
        timings.append(time.perf_counter() - started)
    assert max(timings) < sms.delay  # the provider's 0.4 s is in neither reply
    await _until(lambda: len(sms.sent) == 2)  # both of alice's codes, none for mallory
    await alice.send(sms.sent[-1][1])
    assert "you are verified" in alice.texts()


async def test_an_sms_that_cannot_be_sent_is_said_kindly_and_costs_no_attempt(sms_bot: Bot, sms: Sms) -> None:
    sms.failing = True
    alice = sms_bot.person("alice")
    await start_and_consent(alice)
    await _details(alice)
    await _until(lambda: any("could not be sent" in m.text for m in alice.received()))
    assert "This does not count as a failed attempt" in alice.texts()
    assert "Talk to a person" in alice.texts()
    for _ in range(4):
        await alice.send("123456")  # nothing typed counts while no code has arrived
    assert "do not match" not in alice.texts()
    assert await where(sms_bot, "alice") == "verify:code"
    sms.failing = False
    await alice.press("Send a new code")
    await _until(lambda: len(sms.sent) == 1)
    await alice.send(sms.sent[-1][1])
    assert "you are verified" in alice.texts()
    async with sms_bot.store.unit() as session:
        from sqlalchemy import func, select

        from storage import models

        failures = select(func.count()).select_from(models.VerificationFailure)
        assert (await session.scalar(failures)) == 0
