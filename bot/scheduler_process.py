"""`loanbridge scheduler`: the scheduled work alone, in its own process, until SIGTERM or Ctrl-C.

For deployments that run the bot as several processes: each ``serve`` runs with
``LOANBRIDGE_RUN_SCHEDULER=false`` and one (or more: claims and idempotency keys make that safe) scheduler
process runs reminders, digests, deadlines, draft sweeps, breach checks and pruning. It reaches nobody
itself: what its turns commit waits in the outbox, and the bot processes deliver it (they watch the outbox
for rows other processes write).

It also sends broadcasts to the terminal's people (a :class:`~bot.broadcasting.Broadcaster` claiming only
terminal recipients, in their hours, skipping the quiet and unreachable as serve does): their messages go to
the outbox, and each person's ``loanbridge chat`` shows them. Telegram and WeChat recipients are left for
``serve``, which owns those bots' rates.
"""

from __future__ import annotations

import asyncio
import logging
import signal
from collections.abc import Sequence

from bot.app import build_services, build_store, build_supervision, check_store
from bot.broadcasting import Broadcaster
from bot.rendering import Renderer
from bot.scheduler import start_scheduler
from bot.settings import Settings
from dialogs.dispatch import Dialogs
from dialogs.engine import Engine
from dialogs.flows import ACTIONS, ALL_FLOWS, COMMANDS
from dialogs.messages import Queued
from dialogs.ports import Clock
from dialogs.rules.conduct import SendWindow

log = logging.getLogger(__name__)


def _left_for_delivery(queued: Sequence[Queued]) -> None:
    """Committed messages stay in the outbox: a bot process sends them (within about a second)."""
    if queued:
        log.debug("%s messages committed for the bot processes to send", len(queued))


async def run_scheduler(
    settings: Settings, *, stop: asyncio.Event | None = None, clock: Clock | None = None
) -> None:
    """Run the scheduled jobs until ``stop`` is set (by SIGTERM/SIGINT when not given)."""
    stop = stop or _stop_on_signals()
    store = build_store(settings, clock, signs=True)
    try:
        await check_store(store)
        dialogs = Dialogs(
            ALL_FLOWS, build_services(settings, documents=Renderer()), actions=ACTIONS, commands=COMMANDS
        )
        engine = Engine(store, dialogs, _left_for_delivery)
        scheduler = start_scheduler(engine, store, store.clock, None, build_supervision(settings))
        window = SendWindow(settings.send_window_start, settings.send_window_end)
        broadcasts = Broadcaster(store, Renderer(), {}, window=window, process="scheduler")
        log.info(
            "scheduler: running (reminders, digests, deadlines, drafts, breaches, terminal broadcasts);"
            " Ctrl-C stops it"
        )
        try:
            async with broadcasts.running():
                await stop.wait()
        finally:
            scheduler.shutdown(wait=False)
    finally:
        await store.close()


def _stop_on_signals() -> asyncio.Event:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for number in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(number, stop.set)
    return stop
