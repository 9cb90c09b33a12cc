"""Scheduled work (APScheduler): it re-enters through the engine's front door, like any message.

Jobs are derived from rows (a draft's last activity), so nothing needs a job store of its own: a job that
runs twice or late finds the same rows and the idempotency keys make each reminder happen once.
"""

from __future__ import annotations

import logging
from datetime import UTC, date, datetime, timedelta

from apscheduler.schedulers.asyncio import AsyncIOScheduler

from bot.delivery import Delivery
from dialogs import deadlines, drafts, reminders, supervision
from dialogs.engine import Engine
from dialogs.ports import Clock, TurnStore
from dialogs.reminders import Supervision
from storage.store import SqlStore

log = logging.getLogger(__name__)

DRAFT_SWEEP_MINUTES = 15
BREACH_SWEEP_MINUTES = 15  # a breach is counted in days: a quarter of an hour late is nothing
# Telegram redelivers for up to a day and WeChat within seconds: a week of keys is ample.
KEEP_KEYS = timedelta(days=7)
KEEP_SENT = timedelta(days=30)


async def sweep_drafts(engine: Engine, store: TurnStore, clock: Clock) -> None:
    written = await drafts.sweep(engine, store, clock.now())
    if written:
        log.info("abandoned drafts: %s people reminded or told their draft expired", written)


async def sweep_deadlines(engine: Engine, store: TurnStore, clock: Clock) -> None:
    moved = await deadlines.sweep(engine, store, clock.now())
    if moved:
        log.info("deadlines: %s cases expired or went to a mediator", moved)


async def sweep_breaches(engine: Engine, store: TurnStore, clock: Clock) -> None:
    checked = await supervision.sweep(engine, store, clock.now())
    if checked:
        log.info("breach check: %s running plans with an instalment past the grace period", checked)


async def send_reminders(
    engine: Engine,
    store: SqlStore,
    clock: Clock,
    settings: Supervision,
    digests_done: set[tuple[int, date]] | None = None,
) -> None:
    """Instalment reminders due now (and the lenders' digests once their morning has come)."""
    handled = await reminders.sweep(engine, store, clock.now(), settings.policy)
    if handled:
        log.info("reminders: %s due reminders sent, held for the borrower's hours or cancelled", handled)
    await reminders.send_digests(engine, store, clock.now(), settings, digests_done)


async def release_held(delivery: Delivery) -> None:
    released = await delivery.release_due()
    if released:
        log.debug("released %s held messages", released)


async def sequence_case_log(store: SqlStore) -> None:
    """The case log's backstop: events another process committed, or queued before a crash, are placed
    and signed within a minute even when nothing else wakes the sequencer."""
    if store.signs_log:
        head = await store.sequence_log()
        if head is not None:
            log.debug("case log: signed head of size %s", head.size)


async def prune(store: SqlStore, clock: Clock) -> None:
    now = clock.now()
    keys, sent = await store.prune(keys_before=now - KEEP_KEYS, sent_before=now - KEEP_SENT)
    log.debug("pruned %s idempotency keys and %s sent replies", keys, sent)


def start_scheduler(
    engine: Engine,
    store: SqlStore,
    clock: Clock,
    delivery: Delivery | None,
    settings: Supervision | None = None,
) -> AsyncIOScheduler:
    """The scheduled jobs; ``delivery`` None in a scheduler-only process (bot processes send the outbox)."""
    scheduler = AsyncIOScheduler(timezone=UTC)
    every_minute = {"coalesce": True, "max_instances": 1}
    scheduler.add_job(
        sweep_deadlines, "interval", minutes=1, args=[engine, store, clock], id="deadlines", **every_minute
    )
    if delivery is not None:
        scheduler.add_job(
            release_held, "interval", minutes=1, args=[delivery], id="held-messages", **every_minute
        )
    scheduler.add_job(  # on start too: reminders that fell due while nothing ran go at once
        send_reminders,
        "interval",
        minutes=1,
        args=[engine, store, clock, settings or Supervision(), set()],
        id="reminders",
        next_run_time=datetime.now(UTC),
        **every_minute,
    )
    scheduler.add_job(  # at start-up too: events queued before a restart are logged (and agreements sealed)
        sequence_case_log,
        "interval",
        minutes=1,
        args=[store],
        id="case-log",
        next_run_time=datetime.now(UTC),
        **every_minute,
    )
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
    scheduler.add_job(  # on start too: a breach the process was down for is acted on at once
        sweep_breaches,
        "interval",
        minutes=BREACH_SWEEP_MINUTES,
        args=[engine, store, clock],
        id="breaches",
        coalesce=True,
        max_instances=1,
        next_run_time=datetime.now(UTC),
    )
    scheduler.add_job(
        prune, "interval", hours=1, args=[store, clock], id="prune", coalesce=True, max_instances=1
    )
    scheduler.start()
    return scheduler
