"""`loanbridge serve` as a real process against the fake Bot API server, for the fault tests."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import sys
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path

from tests.channels.fake_telegram import TOKEN, FakeTelegram
from tests.conftest import TEST_SECRET, TEST_SIGNING_KEY

WEBHOOK_SECRET = "fault-secret"


@dataclass
class Served:
    process: asyncio.subprocess.Process
    webhook_url: str | None
    log: bytearray = field(default_factory=bytearray)

    async def stop(self, within: float = 20) -> int:
        """SIGTERM, and the exit code (the test fails if it takes longer than ``within`` seconds)."""
        self.process.send_signal(signal.SIGTERM)
        return await asyncio.wait_for(self.process.wait(), within)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def serve_env(database_url: str, fake: FakeTelegram, **extra: str) -> dict[str, str]:
    return {
        **os.environ,
        "LOANBRIDGE_DATABASE_URL": database_url,
        "LOANBRIDGE_SECRET_KEY": TEST_SECRET.decode(),
        "LOANBRIDGE_SIGNING_KEY": TEST_SIGNING_KEY,
        "LOANBRIDGE_TELEGRAM_TOKEN": TOKEN,
        "LOANBRIDGE_TELEGRAM_API_URL": fake.url,
        "LOANBRIDGE_TELEGRAM_RATE": "1000",
        "LOANBRIDGE_TELEGRAM_CHAT_RATE": "1000",
        "LOANBRIDGE_SMS": "log",
        **extra,
    }


@asynccontextmanager
async def serving(
    tmp_path: Path, database_url: str, fake: FakeTelegram, *, webhook: bool = False, **extra: str
) -> AsyncIterator[Served]:
    """A started ``serve`` (polling, or webhook on a free port); killed if the test did not stop it."""
    url = None
    if webhook:
        port = free_port()
        url = f"http://127.0.0.1:{port}/hook"
        extra |= {
            "LOANBRIDGE_TELEGRAM_WEBHOOK_URL": url,
            "LOANBRIDGE_TELEGRAM_WEBHOOK_LISTEN": f"127.0.0.1:{port}",
            "LOANBRIDGE_TELEGRAM_WEBHOOK_SECRET": WEBHOOK_SECRET,
        }
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot.cli",
        "serve",
        env=serve_env(database_url, fake, **extra),
        cwd=tmp_path,
        stderr=asyncio.subprocess.PIPE,
    )
    served = Served(process, url)
    reader = asyncio.create_task(_collect(process, served.log))
    try:
        ready = "setWebhook" if webhook else "getUpdates"
        deadline = time.monotonic() + 30
        while not any(c.method == ready for c in fake.calls):
            if process.returncode is not None or time.monotonic() > deadline:
                await reader
                raise AssertionError(f"serve did not start: {served.log.decode(errors='replace')[-2000:]}")
            await asyncio.sleep(0.05)
        yield served
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
        await reader


async def _collect(process: asyncio.subprocess.Process, into: bytearray) -> None:
    assert process.stderr is not None
    while chunk := await process.stderr.read(65536):
        into.extend(chunk)


async def wait_for(condition: object, within: float, what: str) -> None:
    """Poll ``condition()`` until true (for at most ``within`` seconds), or fail naming ``what``."""
    deadline = time.monotonic() + within
    while not condition():  # type: ignore[operator]
        assert time.monotonic() < deadline, f"timed out: {what}"
        await asyncio.sleep(0.05)
