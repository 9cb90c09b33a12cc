"""Broadcasts' own Bot API client, over real HTTP against the fake Bot API server: what Telegram receives,
and the same errors as the libraries' (a 429's wait, a blocked bot, anything else named without the token)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from bot.channels.telegram import OutgoingButton, RetryAfter, TelegramChannel
from bot.channels.telegram_bulk import BotApiError, BulkApi
from bot.delivery import Unreachable
from bot.rendering import Rendered, RenderedButton
from dialogs.domain import Account, Channel, Role
from tests.channels.fake_telegram import TOKEN, FakeTelegram


@pytest.fixture
async def fake() -> AsyncIterator[FakeTelegram]:
    server = await FakeTelegram().start()
    yield server
    await server.stop()


@pytest.fixture
async def bulk(fake: FakeTelegram) -> AsyncIterator[BulkApi]:
    api = BulkApi(TOKEN, fake.url)
    await api.start()
    yield api
    await api.close()


async def test_a_message_arrives_as_html_with_its_buttons(fake: FakeTelegram, bulk: BulkApi) -> None:
    await bulk.send_text(
        7, "<b>Your plan</b> &amp; 还款", [OutgoingButton("Report a payment", "pay:3")], None
    )
    (sent,) = fake.sent(7)
    assert sent["text"] == "<b>Your plan</b> &amp; 还款"
    assert sent["parse_mode"] == "HTML"
    assert fake.buttons(7) == [{"text": "Report a payment", "callback_data": "pay:3"}]


async def test_a_share_my_phone_keyboard(fake: FakeTelegram, bulk: BulkApi) -> None:
    await bulk.send_text(7, "Share your number", [], "Share my number")
    (sent,) = fake.sent(7)
    assert sent["reply_markup"]["keyboard"] == [[{"text": "Share my number", "request_contact": True}]]


async def test_too_many_requests_says_how_long_to_wait(fake: FakeTelegram, bulk: BulkApi) -> None:
    fake.failures[7].append((429, 3))
    with pytest.raises(RetryAfter) as wait:
        await bulk.send_text(7, "hello", [], None)
    assert wait.value.seconds == 3


async def test_a_blocked_bot_is_unreachable(fake: FakeTelegram, bulk: BulkApi) -> None:
    fake.failures[7].append((403, 0))
    with pytest.raises(Unreachable):
        await bulk.send_text(7, "hello", [], None)


async def test_other_refusals_are_named_without_the_token(fake: FakeTelegram) -> None:
    wrong = BulkApi("999:WRONG-secret-token", fake.url)
    await wrong.start()
    try:
        with pytest.raises(BotApiError) as refused:
            await wrong.send_text(7, "hello", [], None)
    finally:
        await wrong.close()
    assert refused.value.code == 401
    assert "WRONG-secret-token" not in str(refused.value)
    assert fake.sent(7) == []


class _NoLibrary:
    async def send_text(self, *args: object) -> None:
        raise AssertionError("a broadcast went through the library's client")


async def test_a_channel_sends_broadcasts_through_it_split_with_the_buttons_last(
    fake: FakeTelegram, bulk: BulkApi
) -> None:
    channel = TelegramChannel(_NoLibrary(), bulk=bulk)  # type: ignore[arg-type]
    person = Account(1, Channel.TELEGRAM, "7", Role.BORROWER, "en", "Asia/Shanghai", reachable=True)
    text = "a" * 4000 + "\n\n" + "b" * 200
    await channel.send_spare(person, Rendered(text, buttons=(RenderedButton("pay:3", "Report a payment"),)))
    first, second = fake.sent(7)
    assert (first["text"], second["text"]) == ("a" * 4000, "b" * 200)
    assert "reply_markup" not in first
    assert fake.buttons(7) == [{"text": "Report a payment", "callback_data": "pay:3"}]
