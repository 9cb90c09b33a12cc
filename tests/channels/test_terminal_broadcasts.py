"""Broadcasts in a terminal-only setup (the README's quick start: ``loanbridge chat`` on SQLite, no serve),
as real processes: ``loanbridge broadcast --yes`` reaches the person whose chat is open at once and the
others' chats when they open; ``loanbridge scheduler`` sends the terminal's recipients and leaves Telegram's
for serve (it cannot send to Telegram), and the CLI says so."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import select

from dialogs.broadcasts import parse_segment
from dialogs.domain import Channel
from storage import models
from storage.crypto import FieldCipher
from storage.db import create_engine
from storage.store import SqlStore
from tests.broadcast_people import person, statuses, zones
from tests.channels.test_terminal import chat
from tests.channels.test_terminal_notices import _read_for
from tests.conftest import TEST_SECRET, TEST_SIGNING_KEY

BEAT = timedelta(seconds=5)  # a sender that beat this lately is running
NOTE = "A note from LoanBridge, the free mediation service for online loans."
REMINDER = "A note from LoanBridge about instalments"  # instalment_due for someone with no case


def _cli(env: dict[str, str], cwd: Path, *argv: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "bot.cli", *argv],
        capture_output=True,
        text=True,
        env=env,
        cwd=cwd,
        timeout=120,
        check=False,
    )


def test_broadcasts_from_the_cli_reach_terminal_people_with_no_serve_running(tmp_path: Path) -> None:
    env = {
        **os.environ,
        "LOANBRIDGE_DATABASE_URL": f"sqlite:///{tmp_path / 'chat.db'}",
        "LANG": "en_US.UTF-8",
        "PYTHONUNBUFFERED": "1",
        # The people's zone (a new account's), one where it is daytime now: inside their hours.
        "LOANBRIDGE_TIMEZONE": zones(datetime.now(UTC))[0],
    }
    chat(env, tmp_path, ["/quit"], user="bob")  # Bob has used the bot before; his chat is closed now
    chat(env, tmp_path, ["/quit"], user="alice")
    # No chat is open: the CLI says who will send it, instead of waiting in silence.
    first = _cli(
        env, tmp_path, "broadcast", "--segment", "channel:terminal", "--template", "service", "--yes"
    )
    assert first.returncode == 0, first.stderr
    assert first.stdout.endswith(
        "broadcast 1 waits: no running process sends to these recipients yet\n"
        "  terminal: 2 recipients, sent by 'loanbridge chat' (anyone's), 'loanbridge scheduler' or "
        "'loanbridge serve' (each person sees it in their chat)\n"
        "Start one, then follow it: loanbridge broadcast --follow 1\n"
    ), first.stdout
    with subprocess.Popen(
        [sys.executable, "-m", "bot.cli", "chat", "--user", "alice"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        env=env,
        cwd=tmp_path,
    ) as alice:
        assert alice.stdout is not None and alice.stdin is not None
        # Her chat opening sends the waiting one: to her screen, and to Bob's outbox.
        seen, arrived = _read_for(alice.stdout.fileno(), NOTE, 60)
        assert arrived is not None, seen[-3000:]
        # One made while her chat is open reaches her at once; the CLI follows it to the end.
        second = _cli(env, tmp_path, "broadcast", "--segment", "all", "--template", "instalment_due", "--yes")
        later, arrived = _read_for(alice.stdout.fileno(), REMINDER, 10)
        alice.stdin.close()
        alice.wait(timeout=60)
    assert second.returncode == 0, second.stdout + second.stderr
    assert "waits" not in second.stdout  # Alice's chat sends it: nobody has to start anything
    assert second.stdout.rstrip().splitlines()[-1] == "sent 2, failed 0, held 0, skipped 0", second.stdout
    assert arrived is not None, later[-3000:]
    assert (seen + later).count(NOTE) == 1 and later.count(REMINDER) == 1
    # Bob's waited in his outbox: his chat shows both when he opens it, once.
    bob = chat(env, tmp_path, ["/quit"], user="bob")
    assert (bob.stdout.count(NOTE), bob.stdout.count(REMINDER)) == (1, 1), bob.stdout
    follow = _cli(env, tmp_path, "broadcast", "--follow", "1")
    assert follow.stdout.rstrip().splitlines()[-1] == "sent 2, failed 0, held 0, skipped 0", follow.stdout


async def test_the_scheduler_sends_the_terminals_share_and_leaves_telegram_to_serve(
    database_url: str, tmp_path: Path
) -> None:
    store = SqlStore(create_engine(database_url), FieldCipher(TEST_SECRET))
    inside, _ = zones(datetime.now(UTC))
    env = {
        **{
            k: v for k, v in os.environ.items() if k != "LOANBRIDGE_TELEGRAM_TOKEN"
        },  # it cannot reach Telegram
        "LOANBRIDGE_DATABASE_URL": database_url,
        "LOANBRIDGE_SECRET_KEY": TEST_SECRET.decode(),
        "LOANBRIDGE_SIGNING_KEY": TEST_SIGNING_KEY,
    }
    scheduler = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot.cli", "scheduler", env=env, cwd=tmp_path, stderr=asyncio.subprocess.PIPE
    )
    try:
        ed = await person(store, Channel.TERMINAL, "ed", zone=inside)
        tia = await person(store, Channel.TELEGRAM, "101", zone=inside)
        while not await store.live_senders(within=BEAT):  # the scheduler's broadcaster has started
            assert scheduler.returncode is None, await _log(scheduler)
            await asyncio.sleep(0.2)
        sent = await asyncio.to_thread(
            _cli, env, tmp_path, "broadcast", "--segment", "all", "--template", "service", "--yes"
        )
        assert sent.returncode == 0, sent.stdout + sent.stderr
        assert sent.stdout.endswith(
            "broadcast 1 waits: no running process sends to these recipients yet\n"
            "  telegram: 1 recipient, sent by 'loanbridge serve' with Telegram set up\n"
            "Start one, then follow it: loanbridge broadcast --follow 1\n"
        ), sent.stdout
        assert await statuses(store, 1) == {ed: "sent", tia: "pending"}
        async with store.unit() as session:
            box = models.OutboxMessage
            keys = list(await session.scalars(select(box.key).where(box.account_id.in_([ed, tia]))))
        assert keys == [f"broadcast:1:{ed}"]  # in Ed's outbox for his chat; nothing for Tia
        # A second broadcast while it runs: the scheduler picks it up too, still only Ed's.
        await store.create_broadcast(parse_segment("all"), "instalment_due")
        deadline = time.monotonic() + 30
        while (now := await statuses(store, 2)) != {ed: "sent", tia: "pending"}:
            assert time.monotonic() < deadline, now
            await asyncio.sleep(0.2)
        scheduler.terminate()
        assert await asyncio.wait_for(scheduler.wait(), 30) == 0, await _log(scheduler)
        assert not await store.live_senders(BEAT)  # it said goodbye: its row is gone
    finally:
        if scheduler.returncode is None:
            scheduler.kill()
            await scheduler.wait()
        await store.close()


async def _log(process: asyncio.subprocess.Process) -> str:
    if process.stderr is None or process.returncode is None:
        return ""
    return (await process.stderr.read()).decode(errors="replace")[-3000:]
