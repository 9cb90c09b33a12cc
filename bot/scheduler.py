"""Scheduled work (APScheduler): it re-enters through the engine's front door, like any message.

Jobs are derived from rows (a draft's last activity), so nothing needs a job store of its own: a job that
runs twice or late finds the same rows and the idempotency keys make each reminder happen once.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime

from apscheduler.schedulers.asyncio import AsyncIOScheduler

from dialogs import drafts
from dialogs.engine import Engine
from dialogs.ports import Clock, TurnStore

log = logging.getLogger(__name__)

DRAFT_SWEEP_MINUTES = 15


async def sweep_drafts(engine: Engine, store: TurnStore, clock: Clock) -> None:
    written = await drafts.sweep(engine, store, clock.now())
    if written:
        log.info("abandoned drafts: %s people reminded or told their draft expired", written)


def start_scheduler(engine: Engine, store: TurnStore, clock: Clock) -> AsyncIOScheduler:
    scheduler = AsyncIOScheduler(timezone=UTC)
    scheduler.add_job(
        sweep_drafts,
        "interval",
        minutes=DRAFT_SWEEP_MINUTES,
        args=[engine, store, clock],
        id="draft-sweep",
        coalesce=True,
        max_instances=1,
        next_run_time=datetime.now(UTC),
    )
    scheduler.start()
    return scheduler
