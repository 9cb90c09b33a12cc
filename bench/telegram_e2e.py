"""Benchmark: Telegram end to end over real HTTP, for each library, against that library's echo bot.

A Bot API server on 127.0.0.1 (the tests' ``fake_telegram``) feeds updates in waves: every simulated user
sends their next message at once, and the wave ends when each has had their answer. For each library:
  * ours: the whole borrower flow (25 updates per user: commands, buttons, text) through long polling, the
    engine, the store (SQLite file), templates and delivery back through the library's Bot API client;
  * the echo bot: the library's own dispatcher answering each text with the same text (same server, waves).
Prints updates/s and p50/p99 from an update's arrival at the server to the last answer it caused, and the cost
per update against the echo bot (target: ours ≤ 2× the echo bot per update).

Run ``python bench/telegram_e2e.py`` (``--users`` to change the wave size).
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from aiogram import Bot, Dispatcher
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from aiogram.types import Message
from telegram import Update
from telegram.ext import Application, ContextTypes, MessageHandler, filters
from telegram.request import HTTPXRequest

from bench.dialog_throughput import FIGURES, Codes, borrower
from bot.app import build_app
from bot.channels.telegram import Pace, TelegramChannel
from bot.channels.telegram_aiogram import AiogramApi
from bot.channels.telegram_ptb import PtbApi
from bot.settings import load_settings
from dialogs.domain import Channel
from storage.crypto import FieldCipher, generate_secret
from storage.db import create_engine
from storage.migrate import upgrade
from storage.store import SqlStore
from tests.channels.fake_telegram import TOKEN, FakeTelegram

TARGET_RATIO = 2.0
LENDER = "Bench Lender"
FIRST_USER = 10_000


def script(n: int, codes: Codes) -> list[tuple[str, Any]]:
    """The borrower flow as (kind, value) steps; a code step reads the code when it comes."""
    row = borrower(n)
    steps: list[tuple[str, Any]] = [("text", "/start"), ("press", "begin"), ("press", "I consent")]
    steps += [("text", v) for v in (row.loan_ref, row.borrower_name, row.id_number, row.phone)]
    steps += [("code", row.phone), ("press", "Lost my job"), ("press", "It will pass")]
    steps += [("text", "I lost my job in October."), ("press", "Skip")]
    steps += [("text", amount) for amount in FIGURES]
    steps += [("press", "Yes"), ("press", "Interest stopped"), ("press", "Submit")]
    return steps


async def wave(fake: FakeTelegram, pushes: dict[int, dict[str, Any]], latencies: list[float]) -> float:
    """Push one update per user at once; wait until every update was acknowledged and its answers stopped.
    Latencies run from the push to the last answer (the server's own timestamps); returns the wave's span."""
    calls = len(fake.calls)
    started = time.monotonic()
    pushes = {chat: fake.push(update) for chat, update in pushes.items()}
    quiet_since, seen = time.monotonic(), len(fake.calls)
    while not (
        all(_acknowledged(fake, u) for u in pushes.values()) and time.monotonic() - quiet_since > 0.03
    ):
        await asyncio.sleep(0.002)
        if len(fake.calls) != seen:
            quiet_since, seen = time.monotonic(), len(fake.calls)
    last: dict[int, float] = {}
    for call in fake.calls[calls:]:
        if call.method in ("sendMessage", "sendDocument"):
            last[int(call.params["chat_id"])] = call.at
    latencies.extend(last[chat] - started for chat in pushes)
    return max(last.values()) - started


def _acknowledged(fake: FakeTelegram, update: dict[str, Any]) -> bool:
    return bool(fake.acknowledged >= update["update_id"])


async def run_ours(lib: str, users: int, directory: Path) -> dict[str, float]:
    url = f"sqlite:///{directory / f'{lib}.db'}"
    await upgrade(url)
    store = SqlStore(create_engine(url), FieldCipher(generate_secret().encode()))
    await store.add_lender(LENDER)
    await store.import_loan_book(LENDER, [borrower(n) for n in range(users)])
    fake = await FakeTelegram().start()
    api = _api(lib, fake.url)
    channel = TelegramChannel(api, Pace(per_second=10_000, chat_per_second=10_000))
    codes = Codes()
    app = build_app(
        load_settings(database_url=url), {Channel.TELEGRAM: channel}, code_sender=codes, store=store
    )
    latencies: list[float] = []
    stop = asyncio.Event()
    async with app.running():
        await api.start()
        polling = asyncio.create_task(channel.poll(app.engine.handle, stop))
        scripts = {FIRST_USER + n: script(n, codes) for n in range(users)}
        elapsed = 0.0
        for step in range(len(next(iter(scripts.values())))):
            pushes = {chat: _update(fake, chat, *steps[step], codes) for chat, steps in scripts.items()}
            elapsed += await wave(fake, pushes, latencies)
        stop.set()
        await polling
        await api.close()
    await fake.stop()
    return _figures(latencies, elapsed)


def _update(fake: FakeTelegram, chat: int, kind: str, value: Any, codes: Codes) -> dict[str, Any]:
    if kind == "press":
        return fake.press_update(chat, fake.data(chat, value))
    text = codes.by_phone[value] if kind == "code" else value
    return fake.text_update(chat, text)


def _api(lib: str, url: str) -> Any:
    return PtbApi(TOKEN, url) if lib == "ptb" else AiogramApi(TOKEN, url)


async def run_echo(lib: str, users: int, steps: int) -> dict[str, float]:
    fake = await FakeTelegram().start()
    stopper = await (_ptb_echo if lib == "ptb" else _aiogram_echo)(fake.url)
    latencies: list[float] = []
    elapsed = 0.0
    for step in range(steps):
        pushes = {FIRST_USER + n: fake.text_update(FIRST_USER + n, f"echo {step}") for n in range(users)}
        elapsed += await wave(fake, pushes, latencies)
    await stopper()
    await fake.stop()
    return _figures(latencies, elapsed)


async def _ptb_echo(url: str) -> Any:
    async def echo(update: Update, _context: ContextTypes.DEFAULT_TYPE) -> None:
        assert update.effective_message is not None
        await update.effective_message.reply_text(update.effective_message.text or "")

    application = (
        Application.builder()
        .token(TOKEN)
        .base_url(f"{url}/bot")
        .base_file_url(f"{url}/file/bot")
        .request(HTTPXRequest(connection_pool_size=64))
        .concurrent_updates(True)
        .build()
    )
    application.add_handler(MessageHandler(filters.TEXT, echo))
    await application.initialize()
    await application.start()
    assert application.updater is not None
    await application.updater.start_polling(poll_interval=0, timeout=1)

    async def stop() -> None:
        assert application.updater is not None
        await application.updater.stop()
        await application.stop()
        await application.shutdown()

    return stop


async def _aiogram_echo(url: str) -> Any:
    bot = Bot(TOKEN, session=AiohttpSession(api=TelegramAPIServer.from_base(url)))
    dispatcher = Dispatcher()

    @dispatcher.message()
    async def echo(message: Message) -> None:
        await message.answer(message.text or "")

    polling = asyncio.create_task(dispatcher.start_polling(bot, polling_timeout=1, handle_signals=False))
    await asyncio.sleep(0.2)

    async def stop() -> None:
        await dispatcher.stop_polling()
        await polling

    return stop


def _figures(latencies: list[float], elapsed: float) -> dict[str, float]:
    ordered = sorted(latencies)
    return {
        "updates": len(ordered),
        "rate": len(ordered) / elapsed,
        "p50_ms": statistics.median(ordered) * 1000,
        "p99_ms": ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))] * 1000,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=50, help="users in each wave")
    parser.add_argument("--libs", default="ptb,aiogram")
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    print(
        f"telegram end to end: {args.users} users a wave, fake Bot API server on 127.0.0.1, SQLite file (WAL)"
    )
    for lib in args.libs.split(","):
        with tempfile.TemporaryDirectory() as directory:
            ours = asyncio.run(run_ours(lib, args.users, Path(directory)))
        echo = asyncio.run(run_echo(lib, args.users, 25))
        ratio = echo["rate"] / ours["rate"]
        for name, figures in (("ours", ours), ("echo", echo)):
            print(
                f"  {lib:8} {name}: {figures['rate']:6.0f} updates/s"
                f"  p50 {figures['p50_ms']:6.1f} ms  p99 {figures['p99_ms']:6.1f} ms"
            )
        print(f"  {lib:8} ours costs {ratio:.2f}× the echo bot per update (target ≤ {TARGET_RATIO:.0f}×)")


if __name__ == "__main__":
    main()
