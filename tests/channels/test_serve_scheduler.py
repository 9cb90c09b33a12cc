"""`loanbridge serve` runs the scheduled work itself (reminders, deadlines...) unless
LOANBRIDGE_RUN_SCHEDULER=false, when a separate `loanbridge scheduler` runs it."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from bot.app import App
from bot.serve import serve
from bot.settings import load_settings
from tests.channels.fake_telegram import TOKEN, FakeTelegram
from tests.conftest import TEST_SECRET, TEST_SIGNING_KEY
from tests.dialogs.harness import Codes


@pytest.mark.parametrize("run_scheduler", [True, False])
async def test_serve_runs_the_scheduler_unless_told_not_to(
    database_url: str, clock: Any, run_scheduler: bool
) -> None:
    fake = await FakeTelegram().start()
    settings = load_settings(
        database_url=database_url,
        secret_key=TEST_SECRET.decode(),
        signing_key=TEST_SIGNING_KEY,
        telegram_token=TOKEN,
        telegram_api_url=fake.url,
        run_scheduler=run_scheduler,
    )
    stop = asyncio.Event()
    ready: asyncio.Future[App] = asyncio.get_running_loop().create_future()
    serving = asyncio.create_task(serve(settings, stop=stop, code_sender=Codes(), clock=clock, ready=ready))
    try:
        app = await asyncio.wait_for(ready, 10)
        jobs = {job.id for job in app._scheduler.get_jobs()} if app._scheduler else set()
        assert ("reminders" in jobs) is run_scheduler
        assert ("deadlines" in jobs) is run_scheduler
    finally:
        stop.set()
        await serving
        await fake.stop()
