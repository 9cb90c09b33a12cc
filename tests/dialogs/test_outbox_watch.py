"""What another process commits for someone this process reaches is delivered within about a second:
PostgreSQL wakes delivery with NOTIFY, SQLite by a quick look at the outbox's newest row."""

from __future__ import annotations

import asyncio
import time
from typing import Any

from bot.app import build_app
from bot.rendering import Rendered
from bot.settings import load_settings
from dialogs.domain import Account, Channel
from dialogs.messages import InboundKind
from storage.crypto import FieldCipher
from storage.db import create_engine
from storage.store import SqlStore
from tests.conftest import TEST_SECRET
from tests.dialogs.harness import Codes, running_bot


class Elsewhere:
    """A process whose channel reaches nobody here: what it writes waits in the outbox for another."""

    def serves(self, _recipient: Account) -> bool:
        return False

    async def send(self, recipient: Account, message: Rendered) -> None:
        raise AssertionError("not reachable from this process")


async def test_a_message_written_by_another_process_arrives_within_a_second(
    database_url: str, clock: Any
) -> None:
    async with running_bot(database_url, clock) as here:
        store = SqlStore(create_engine(database_url), FieldCipher(TEST_SECRET), clock=clock)
        settings = load_settings(database_url=database_url)
        there = build_app(
            settings,
            {Channel.TERMINAL: Elsewhere()},
            code_sender=Codes(),
            store=store,
            clock=clock,
            scheduled=False,
        )
        async with there.running():
            alice = here.person("alice")
            await there.engine.handle(alice.inbound(InboundKind.COMMAND, "/start"))  # its reply: a row
            written = time.monotonic()
            for _ in range(100):  # up to 5 s
                if here.recorder.inbox["alice"]:
                    break
                await asyncio.sleep(0.05)
            assert here.recorder.inbox["alice"], "nothing arrived"
            assert time.monotonic() - written < 1.5
