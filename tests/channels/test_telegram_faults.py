"""Faults on the Telegram channel that must stop nobody: malformed updates, and an update that cannot be
committed (a poisoned conversation row) among many people's, in polling and in webhook mode."""

from __future__ import annotations

import asyncio
import os
import sys
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from sqlalchemy import func, select

from bot.app import opened_store
from bot.settings import load_settings
from dialogs.domain import Channel
from storage import models
from storage.migrate import upgrade
from tests.channels.fake_telegram import FakeTelegram
from tests.channels.serve_process import WEBHOOK_SECRET as SERVE_SECRET
from tests.channels.serve_process import serving, wait_for
from tests.channels.test_telegram import WEBHOOK_SECRET, Tg, _serving
from tests.conftest import TEST_SECRET, TEST_SIGNING_KEY

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


# A poisoned update among many people's, through a real `loanbridge serve` process.

POISONED = 7666
CROWD = [8000 + n for n in range(199)]


async def _poison(database_url: str) -> None:
    """A person whose conversation row is damaged: no turn of theirs can be committed."""
    settings = load_settings(
        database_url=database_url, secret_key=TEST_SECRET.decode(), signing_key=TEST_SIGNING_KEY
    )
    async with opened_store(settings) as store:  # the key check recorded first, as serve would
        account = await store.ensure_account(Channel.TELEGRAM, str(POISONED))
        async with store.unit() as session:
            session.add(
                models.Conversation(
                    account_id=account.id,
                    flow="borrower",
                    step="name",
                    data_enc=b"\x01damaged beyond reading",
                    updated_at=datetime.now(UTC),
                )
            )


async def _dead_letters(database_url: str) -> list[Any]:
    settings = load_settings(
        database_url=database_url, secret_key=TEST_SECRET.decode(), signing_key=TEST_SIGNING_KEY
    )
    async with opened_store(settings) as store:
        return await store.recent_dead_letters()


def _everyone_answered(fake: FakeTelegram) -> bool:
    return all(fake.texts(user) for user in [*CROWD, POISONED])


async def _check_outcome(fake: FakeTelegram, database_url: str) -> None:
    for user in CROWD:
        assert len(fake.texts(user)) == 1 and "LoanBridge" in fake.texts(user)[0], user
    # The damaged person's account predates their language hint: the default language, zh_CN.
    assert fake.texts(POISONED) == [
        "抱歉，我们未能处理您刚才发送的消息。此问题已记录，我们的团队会跟进处理。请稍后再试，或发送 /help。"
    ]
    (letter,) = await _dead_letters(database_url)
    assert letter.channel == "telegram" and letter.account_id is not None and letter.error
    env = {
        **os.environ,
        "LOANBRIDGE_DATABASE_URL": database_url,
        "LOANBRIDGE_SECRET_KEY": TEST_SECRET.decode(),
        "LOANBRIDGE_SIGNING_KEY": TEST_SIGNING_KEY,
    }
    listing = await asyncio.create_subprocess_exec(  # what an operator sees
        sys.executable, "-m", "bot.cli", "deadletters", env=env, stdout=asyncio.subprocess.PIPE
    )
    out, _ = await listing.communicate()
    assert listing.returncode == 0
    assert f"telegram update {letter.key}  account {letter.account_id}: {letter.error}" in out.decode()


async def test_a_poisoned_update_among_200_stops_nobody_when_polling(tmp_path: Path) -> None:
    database_url = f"sqlite:///{tmp_path / 'poll.db'}"
    await upgrade(database_url)
    await _poison(database_url)
    fake = await FakeTelegram().start()
    try:
        async with serving(tmp_path, database_url, fake) as served:
            for user in CROWD[:100]:
                fake.text(user, "/start")
            last = fake.text(POISONED, "/start")
            for user in CROWD[100:]:
                last = fake.text(user, "/start")
            await wait_for(lambda: _everyone_answered(fake), 30, "everyone answered")
            await wait_for(lambda: fake.acknowledged >= last["update_id"], 10, "all acknowledged")
            assert await served.stop() == 0
        await _check_outcome(fake, database_url)
    finally:
        await fake.stop()


async def test_a_poisoned_update_among_200_stops_nobody_behind_a_webhook(tmp_path: Path) -> None:
    database_url = f"sqlite:///{tmp_path / 'hook.db'}"
    await upgrade(database_url)
    await _poison(database_url)
    fake = await FakeTelegram().start()
    try:
        async with serving(tmp_path, database_url, fake, webhook=True) as served:
            assert served.webhook_url is not None
            users = [*CROWD[:100], POISONED, *CROWD[100:]]
            updates = [{"update_id": 5000 + n, **fake.text_update(u, "/start")} for n, u in enumerate(users)]
            async with aiohttp.ClientSession() as session:
                statuses = await asyncio.gather(*(_post(session, served.webhook_url, u) for u in updates))
            assert statuses == [200] * len(updates)  # the poisoned one too, once it was recorded
            await wait_for(lambda: _everyone_answered(fake), 30, "everyone answered")
            assert await served.stop() == 0
        await _check_outcome(fake, database_url)
    finally:
        await fake.stop()


async def _post(session: aiohttp.ClientSession, url: str, update: dict[str, Any]) -> int:
    headers = {"X-Telegram-Bot-Api-Secret-Token": SERVE_SECRET}
    async with session.post(url, json=update, headers=headers) as answer:
        return answer.status
