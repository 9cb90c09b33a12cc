"""Faults on the Telegram channel that must stop nobody: malformed updates, and an update that cannot be
committed (a poisoned conversation row) among many people's, in polling and in webhook mode."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest
from sqlalchemy import func, select

from storage import models
from tests.channels.fake_telegram import FakeTelegram
from tests.channels.test_telegram import WEBHOOK_SECRET, Tg, _serving

MALFORMED: list[Any] = [
    {"update_id": 1, "callback_query": {"from": {"id": 7101}, "data": "x"}},  # no id
    {"update_id": 2, "message": "hello"},
    {
        "update_id": 3,
        "message": {
            "message_id": 1,
            "from": {"id": 7102},
            "chat": {"id": 7102, "type": "private"},
            "document": {"file_id": "f", "file_size": "big"},
        },
    },
    {
        "update_id": 4,
        "message": {"message_id": 1, "from": {"id": "abc"}, "chat": {"id": "abc", "type": "private"}},
    },
    {"update_id": "five", "message": {}},
    ["not", "an", "update"],
]


@pytest.fixture
async def webhook(database_url: str, clock: Any) -> AsyncIterator[Tg]:
    fake = await FakeTelegram().start()
    try:
        async with _serving(fake, "ptb", database_url, clock) as serving:
            yield serving
    finally:
        await fake.stop()


async def _post_raw(url: str, body: Any) -> int:
    headers = {"X-Telegram-Bot-Api-Secret-Token": WEBHOOK_SECRET}
    async with aiohttp.ClientSession() as session, session.post(url, json=body, headers=headers) as answer:
        return answer.status


async def test_malformed_updates_are_answered_200_and_ignored(webhook: Tg) -> None:
    assert webhook.webhook_url is not None
    async with webhook.app.store.unit() as session:
        accounts_before = await session.scalar(select(func.count()).select_from(models.Account))
    statuses = [await _post_raw(webhook.webhook_url, body) for body in MALFORMED]
    assert statuses == [200] * len(MALFORMED)
    async with webhook.app.store.unit() as session:
        assert await session.scalar(select(func.count()).select_from(models.Account)) == accounts_before
        unreachable = select(func.count()).where(models.Account.reachable.is_(False))
        assert await session.scalar(unreachable) == 0
    assert await webhook.say(7103, "/start")  # and the next person is answered as ever
