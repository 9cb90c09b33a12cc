"""The Telegram channel end to end over real HTTP: the library under test talks to a Bot API server on
127.0.0.1 (``fake_telegram``); updates go through the real engine, store and templates."""

from __future__ import annotations

import asyncio
import hashlib
import socket
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import aiohttp
import pytest

from bot.app import App, build_app
from bot.channels.telegram import Pace, TelegramChannel
from bot.channels.telegram_aiogram import AiogramApi
from bot.channels.telegram_ptb import PtbApi
from bot.demo import DEMO_BORROWER, seed
from bot.serve import serve
from bot.settings import load_settings
from dialogs.domain import Channel
from storage.crypto import FieldCipher
from storage.db import create_engine
from storage.store import SqlStore
from tests.channels.fake_telegram import TOKEN, FakeTelegram
from tests.conftest import TEST_SECRET, TEST_SIGNING_KEY
from tests.dialogs.harness import FIGURES, Codes

ALICE = 7001
WEBHOOK_SECRET = "s3cret-token"


@dataclass
class Tg:
    fake: FakeTelegram
    app: App
    channel: TelegramChannel
    codes: Codes
    webhook_url: str | None = None  # webhook mode: updates are posted here instead of polled

    async def post(self, update: dict[str, Any], secret: str | None = WEBHOOK_SECRET) -> int:
        assert self.webhook_url is not None
        headers = {"X-Telegram-Bot-Api-Secret-Token": secret} if secret is not None else {}
        async with (
            aiohttp.ClientSession() as session,
            session.post(self.webhook_url, json=update, headers=headers) as answer,
        ):
            status = answer.status
        await self.app.delivery.drain()
        return status

    async def redeliver(self, update: dict[str, Any]) -> None:
        """Telegram sends an update again (it never saw it acknowledged)."""
        if self.webhook_url is not None:
            assert await self.post(update) == 200
            return
        self.fake.updates.append(update)

    async def settle(self, update: dict[str, Any]) -> None:
        """Wait until ``update`` was handled (and acknowledged), and its replies were sent."""
        if self.webhook_url is not None:
            assert await self.post(update) == 200
            return
        deadline = time.monotonic() + 10
        while not any(
            c.method == "getUpdates" and int(c.params.get("offset") or 0) > update["update_id"]
            for c in self.fake.calls
        ):
            assert time.monotonic() < deadline, f"update {update['update_id']} was not acknowledged"
            await asyncio.sleep(0.01)
        await self.app.delivery.drain()

    async def say(self, user: int, text: str) -> list[str]:
        before = len(self.fake.texts(user))
        await self.settle(self.fake.text(user, text))
        return self.fake.texts(user)[before:]

    async def press(self, user: int, label: str) -> list[str]:
        before = len(self.fake.texts(user))
        await self.settle(self.fake.press(user, self.fake.data(user, label)))
        return self.fake.texts(user)[before:]


def _api(lib: str, url: str) -> Any:
    return PtbApi(TOKEN, url) if lib == "ptb" else AiogramApi(TOKEN, url)


MODES = [("ptb", "polling"), ("aiogram", "polling"), ("ptb", "webhook"), ("aiogram", "webhook")]


@pytest.fixture(params=MODES, ids=["-".join(mode) for mode in MODES])
async def tg(request: pytest.FixtureRequest, database_url: str, clock: Any) -> AsyncIterator[Tg]:
    lib, mode = request.param
    fake = await FakeTelegram().start()
    try:
        if mode == "polling":
            async with _polling(fake, lib, database_url, clock) as polling:
                yield polling
        else:
            async with _serving(fake, lib, database_url, clock) as serving:
                yield serving
    finally:
        await fake.stop()


@asynccontextmanager
async def _polling(fake: FakeTelegram, lib: str, database_url: str, clock: Any) -> AsyncIterator[Tg]:
    api = _api(lib, fake.url)
    channel = TelegramChannel(api, Pace(per_second=1000, chat_per_second=1000))
    store = SqlStore(create_engine(database_url), FieldCipher(TEST_SECRET), clock=clock)
    codes = Codes()
    settings = load_settings(database_url=database_url)
    app = build_app(
        settings, {Channel.TELEGRAM: channel}, code_sender=codes, store=store, clock=clock, scheduled=False
    )
    async with app.running():
        await seed(store)
        await api.start()
        stop = asyncio.Event()
        polling = asyncio.create_task(channel.poll(app.engine.handle, stop))
        try:
            yield Tg(fake, app, channel, codes)
        finally:
            stop.set()
            await polling
            await api.close()


@asynccontextmanager
async def _serving(fake: FakeTelegram, lib: str, database_url: str, clock: Any) -> AsyncIterator[Tg]:
    """Webhook mode through `loanbridge serve`'s own code path."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    url = f"http://127.0.0.1:{port}/telegram/hook"
    settings = load_settings(
        database_url=database_url,
        secret_key=TEST_SECRET.decode(),
        signing_key=TEST_SIGNING_KEY,
        telegram_token=TOKEN,
        telegram_lib=lib,
        telegram_api_url=fake.url,
        telegram_webhook_url=url,
        telegram_webhook_listen=f"127.0.0.1:{port}",
        telegram_webhook_secret=WEBHOOK_SECRET,
        telegram_rate=1000,
        telegram_chat_rate=1000,
    )
    codes, stop = Codes(), asyncio.Event()
    ready: asyncio.Future[App] = asyncio.get_running_loop().create_future()
    serving = asyncio.create_task(serve(settings, stop=stop, code_sender=codes, clock=clock, ready=ready))
    app = await asyncio.wait_for(ready, 10)
    await seed(app.store)
    channel = app.delivery.sender(Channel.TELEGRAM)
    assert isinstance(channel, TelegramChannel)
    try:
        yield Tg(fake, app, channel, codes, webhook_url=url)
    finally:
        stop.set()
        await serving


# The borrower flow as steps: ("say", text), ("press", label), ("code", None) for the code just sent.
TO_PHONE = [
    ("say", "/start"),
    ("press", "begin"),
    ("press", "I consent"),
    ("say", DEMO_BORROWER.loan_ref),
    ("say", DEMO_BORROWER.name),
    ("say", DEMO_BORROWER.id_number),
]
TO_EVIDENCE = [
    *TO_PHONE,
    ("say", DEMO_BORROWER.phone),
    ("code", None),
    ("press", "Lost my job"),
    ("press", "It will pass"),
    ("say", "I lost my job in October."),
]
TO_SUBMIT = [
    *TO_EVIDENCE,
    ("press", "Skip"),
    *(("say", amount) for amount in FIGURES),
    ("press", "Yes"),
    ("press", "Interest stopped"),
]


async def _walk(tg: Tg, steps: list[tuple[str, str | None]], user: int = ALICE) -> None:
    for kind, value in steps:
        if kind == "press":
            await tg.press(user, str(value))
        else:
            await tg.say(user, tg.codes.last if kind == "code" else str(value))


async def test_a_borrower_applies_on_telegram(tg: Tg) -> None:
    await _walk(tg, TO_SUBMIT)
    replies = await tg.press(ALICE, "Submit")
    assert any("Submitted. Your application number is 1." in r for r in replies)
    sent = tg.fake.sent(ALICE)
    assert all(p.get("parse_mode") == "HTML" for p in sent)
    assert all(len(p["text"]) <= 4096 for p in sent)
    answered = [c for c in tg.fake.calls if c.method == "answerCallbackQuery"]
    assert answered  # every pressed button's spinner is stopped


async def test_the_phone_question_offers_the_contact_button_and_only_an_own_contact_counts(tg: Tg) -> None:
    await _walk(tg, TO_PHONE)
    markup = tg.fake.sent(ALICE)[-1]["reply_markup"]
    assert markup["keyboard"][0][0]["request_contact"] is True
    await tg.settle(tg.fake.contact(ALICE, DEMO_BORROWER.phone, owner=9999))
    assert "That contact is not your own number" in tg.fake.texts(ALICE)[-1]
    assert not tg.codes.sent  # someone else's number verifies nothing
    await tg.settle(tg.fake.contact(ALICE, DEMO_BORROWER.phone, owner=ALICE))
    # Telegram verified the sender's own number: it matches the loan, so no SMS code is needed.
    assert "Telegram has confirmed this number is yours, so no code is needed" in tg.fake.texts(ALICE)[-1]
    assert "you are verified" in tg.fake.texts(ALICE)[-1]
    assert not tg.codes.sent


async def test_an_evidence_photo_is_downloaded_and_hashed(tg: Tg) -> None:
    await _walk(tg, TO_EVIDENCE)
    picture = b"\xff\xd8\xff" + b"termination letter" * 100
    await tg.settle(tg.fake.photo(ALICE, picture))
    account = await tg.app.store.ensure_account(Channel.TELEGRAM, str(ALICE))
    (case,) = await tg.app.store.cases_of(account.id)
    export = await _evidence(tg, case.id)
    assert export == [hashlib.sha256(picture).hexdigest()]


async def test_a_file_telegram_cannot_give_is_asked_for_again(tg: Tg) -> None:
    await _walk(tg, TO_EVIDENCE)
    update = tg.fake.photo(ALICE, b"gone")
    tg.fake.files.clear()  # the file server no longer has it
    before = len(tg.fake.texts(ALICE))
    await tg.settle(update)
    assert any("could not read" in t or "again" in t for t in tg.fake.texts(ALICE)[before:])


async def _evidence(tg: Tg, case_id: int) -> list[str]:
    from sqlalchemy import select

    from storage import models

    async with tg.app.store.unit() as session:
        return list(
            await session.scalars(
                select(models.EvidenceFile.sha256).where(models.EvidenceFile.case_id == case_id)
            )
        )


async def test_a_redelivered_update_is_handled_once(tg: Tg) -> None:
    update = tg.fake.text(ALICE, "/start")
    await tg.settle(update)
    await tg.say(7003, "/start")  # someone in the same place, for comparison
    helped = await tg.say(7003, "/help")
    count = len(tg.fake.texts(ALICE))
    await tg.redeliver(update)
    await tg.settle(tg.fake.text(ALICE, "/help"))
    assert len(tg.fake.texts(ALICE)[count:]) == len(helped)  # only /help was answered


async def test_a_429_holds_that_chat_only_and_a_403_marks_the_person_unreachable(tg: Tg) -> None:
    tg.fake.failures[ALICE].append((429, 1))
    started = time.monotonic()
    await tg.say(ALICE, "/start")
    sends = [c.at for c in tg.fake.calls if c.method == "sendMessage" and int(c.params["chat_id"]) == ALICE]
    assert sends[-1] - sends[0] >= 1.0 and time.monotonic() - started >= 1.0  # retry_after was honoured
    assert tg.fake.texts(ALICE)  # and the message arrived
    tg.fake.failures[7002].append((403, 0))
    await tg.say(7002, "/start")
    account = await tg.app.store.ensure_account(Channel.TELEGRAM, "7002")
    assert not account.reachable


async def test_a_long_reply_arrives_split(tg: Tg) -> None:
    from bot.rendering import Rendered

    account = await tg.app.store.ensure_account(Channel.TELEGRAM, str(ALICE))
    text = "\n".join(f"line {n}: " + "x" * 90 for n in range(55))  # about 5,000 characters
    await tg.channel.send(account, Rendered(text))
    pieces = tg.fake.texts(ALICE)
    assert len(pieces) == 2 and all(len(p) <= 4096 for p in pieces)
    assert "\n".join(pieces) == text


async def test_the_webhook_is_registered_with_its_secret_and_checks_it(tg: Tg) -> None:
    if tg.webhook_url is None:
        pytest.skip("a webhook-mode test")
    assert tg.fake.webhook["url"] == tg.webhook_url and tg.fake.webhook["secret_token"] == WEBHOOK_SECRET
    start = tg.fake.message(ALICE, text="/start") | {"update_id": 1}
    assert await tg.post(start, secret="wrong") == 401
    assert await tg.post(start, secret=None) == 401
    assert tg.fake.texts(ALICE) == []  # nothing handled
    assert await tg.post(start) == 200
    assert any("Hello, I am LoanBridge" in t for t in tg.fake.texts(ALICE))


async def test_three_people_on_their_own_telegram_accounts_reach_an_agreement(tg: Tg) -> None:
    olga, leo = 8001, 8002
    await tg.app.store.ensure_account(Channel.TELEGRAM, str(olga), locale="en")
    from dialogs.domain import Role

    await tg.app.store.grant_role(Channel.TELEGRAM, str(olga), Role.OPERATOR)
    await _walk(tg, TO_SUBMIT)
    await tg.press(ALICE, "Submit")
    replies = await tg.say(olga, "/invite Demo Lender")
    code = next(r for r in replies if "Invite for Demo Lender" in r).split("\n")[0].rsplit(" ", 1)[1]
    joined = await tg.say(leo, f"/start {code}")  # the deep link t.me/<bot>?start=<code> sends this
    assert any("now acts for Demo Lender" in r for r in joined)
    await tg.say(olga, "/queue")
    await tg.press(olga, "#1")
    await tg.press(olga, "Approve")
    assert any("New application, case #1" in t for t in tg.fake.texts(leo))
    await tg.press(leo, "View and answer")
    await tg.press(leo, "Counter-offer")
    await tg.press(leo, "Longer term, equal instalments")
    await tg.press(leo, "Months and monthly amount")
    await tg.say(leo, "12")
    await tg.say(leo, "1500")
    await tg.press(leo, "Send")
    assert any("New offer from the lender" in t for t in tg.fake.texts(ALICE))
    await tg.press(ALICE, "View and answer")
    await tg.press(ALICE, "Accept")
    documents = tg.fake.sent(ALICE, "sendDocument")
    assert documents and documents[-1]["document_name"] == "agreement-1-v1.txt"
    assert b"REPAYMENT AGREEMENT" in documents[-1]["document"]
    await tg.press(ALICE, "Confirm this agreement")
    await tg.press(leo, "Confirm this agreement")
    assert any("Agreed: both sides confirmed version 1" in t for t in tg.fake.texts(ALICE))


async def test_the_telegram_language_is_the_first_guess(tg: Tg) -> None:
    update = tg.fake.text(7004, "/start")
    update["message"]["from"]["language_code"] = "zh-hans"
    await tg.settle(update)
    assert "本服务完全免费" in tg.fake.texts(7004)[0]


@pytest.mark.parametrize("lib", ["ptb", "aiogram"])
async def test_serve_polls_answers_and_stops_cleanly_on_sigterm(tmp_path: Any, lib: str) -> None:
    import os
    import signal
    import sys

    from storage.migrate import upgrade

    fake = await FakeTelegram().start()
    database = f"sqlite:///{tmp_path / 'serve.db'}"
    await upgrade(database)
    env = {
        **os.environ,
        "LOANBRIDGE_DATABASE_URL": database,
        "LOANBRIDGE_SECRET_KEY": TEST_SECRET.decode(),
        "LOANBRIDGE_SIGNING_KEY": TEST_SIGNING_KEY,
        "LOANBRIDGE_TELEGRAM_TOKEN": TOKEN,
        "LOANBRIDGE_TELEGRAM_API_URL": fake.url,
        "LOANBRIDGE_SMS": "log",  # serve refuses the development code sender unless it is chosen
    }
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot.cli",
        "serve",
        "--telegram-lib",
        "aiogram",
        env=env,
        cwd=tmp_path,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        deadline = time.monotonic() + 30
        while not any(c.method == "getUpdates" for c in fake.calls):
            assert time.monotonic() < deadline and process.returncode is None, "serve did not start polling"
            await asyncio.sleep(0.05)
        fake.text(ALICE, "/start")
        while not fake.texts(ALICE):
            assert time.monotonic() < deadline, "no answer"
            await asyncio.sleep(0.05)
        assert "Hello, I am LoanBridge" in fake.texts(ALICE)[0]
        process.send_signal(signal.SIGTERM)
        assert await asyncio.wait_for(process.wait(), 20) == 0
    finally:
        if process.returncode is None:
            process.kill()
        await fake.stop()
    _, log = await process.communicate()
    assert b"stopping" in log and TOKEN.encode() not in log  # the token never reaches the log


async def test_one_turns_messages_arrive_as_one(tg: Tg) -> None:
    await _walk(tg, TO_PHONE[:-1])
    replies = await tg.say(ALICE, "110105199003071230")  # a wrong check digit: why, then the question again
    assert len(replies) == 1
    assert "ID" in replies[0] and replies[0].count("\n\n") >= 1
