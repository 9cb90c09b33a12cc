"""The one composition root: settings in, a wired application out. Nothing connects at import time."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from sqlalchemy.exc import IntegrityError

from bot.codes import AfterReply, LogCodeSender
from bot.delivery import Delivery, Sender
from bot.platform_key import build_signer
from bot.rendering import Renderer
from bot.scheduler import start_scheduler
from bot.settings import Settings
from dialogs.dispatch import Dialogs
from dialogs.domain import Channel
from dialogs.engine import Engine
from dialogs.flows import ACTIONS, ALL_FLOWS, COMMANDS
from dialogs.flows.base import Services
from dialogs.ports import Clock, CodeSender, Documents, SystemClock
from dialogs.reminders import Supervision
from dialogs.rules.conduct import ConductPolicy, SendWindow
from dialogs.rules.reminders import ReminderPolicy, parse_offsets
from storage.crypto import FieldCipher, load_or_create_key
from storage.db import check_database_file, create_engine, sqlite_file
from storage.keys import check_key, seal_legacy_rows, sqlite_holds_keyed_data
from storage.migrate import require_current
from storage.store import SqlStore


def key_file_for(settings: Settings) -> Path | None:
    """Where a development key lives: beside the SQLite database (none for PostgreSQL: set the secret)."""
    database = sqlite_file(settings.database_url)
    return database.with_name(database.name + ".key") if database else None


def build_cipher(settings: Settings) -> FieldCipher:
    configured = settings.secret_key.get_secret_value() if settings.secret_key else None
    key_file = key_file_for(settings)
    # Never generate a key beside data that another key sealed (a database copied without its key file).
    may_create = configured is not None or key_file is None or key_file.exists() or not _holds_data(settings)
    secret = load_or_create_key(configured, key_file, may_create=may_create)
    return FieldCipher(secret, settings.old_secrets)


def _holds_data(settings: Settings) -> bool:
    database = sqlite_file(settings.database_url)
    return database is not None and sqlite_holds_keyed_data(database)


async def check_store(store: SqlStore) -> None:
    """Before any turn: the schema is current, the keys open the data, and no plain personal data is left."""
    await require_current(store.engine)
    try:
        await _check_keys(store)
    except IntegrityError:  # another process recorded the first key check at the same moment: check again
        await _check_keys(store)


async def _check_keys(store: SqlStore) -> None:
    async with store.unit() as session:
        await check_key(session, store.cipher)
        await seal_legacy_rows(session, store.cipher)


def build_store(settings: Settings, clock: Clock | None = None, *, signs: bool = False) -> SqlStore:
    """``signs``: the store sequences and signs the case log with the platform key (the serving process);
    without it, events are queued for the process that does (administrative commands)."""
    # First: a damaged, truncated or read-only file stops here with one line, before the key check reads it.
    check_database_file(settings.database_url)
    signer = build_signer(settings) if signs else None
    return SqlStore(
        create_engine(settings.database_url),
        build_cipher(settings),
        clock=clock,
        default_time_zone=settings.timezone,
        signer=signer,
    )


@asynccontextmanager
async def opened_store(settings: Settings) -> AsyncIterator[SqlStore]:
    """A store on an up-to-date database, closed when the block ends."""
    store = build_store(settings)
    try:
        await check_store(store)
        yield store
    finally:
        await store.close()


@dataclass
class App:
    """Everything wired: the store, the flows, the engine and delivery. Channels feed ``engine.handle``."""

    store: SqlStore
    renderer: Renderer
    engine: Engine
    delivery: Delivery
    clock: Clock
    scheduled: bool = True
    codes: AfterReply | None = None  # codes sent after the reply: finished before closing
    supervision: Supervision = field(default_factory=Supervision)
    _tasks: list[asyncio.Task[None]] = field(default_factory=list)
    _scheduler: AsyncIOScheduler | None = None

    async def start(self) -> None:
        """Check the schema and keys, queue what a previous run committed but did not send, deliver."""
        await check_store(self.store)
        await self.delivery.resume()
        self._tasks.append(asyncio.create_task(self.delivery.run(), name="delivery"))
        if self.scheduled:
            self._scheduler = start_scheduler(
                self.engine, self.store, self.clock, self.delivery, self.supervision
            )

    async def stop(self) -> None:
        """Finish sending what is queued, then close."""
        if self._scheduler is not None:
            self._scheduler.shutdown(wait=False)
        if self.codes is not None:
            await self.codes.drain()  # first: a code that could not be sent queues a message saying so
        await self.delivery.close()  # bounded: what is not sent by then waits in the outbox
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        await self.store.close()

    @asynccontextmanager
    async def running(self) -> AsyncIterator[App]:
        await self.start()
        try:
            yield self
        finally:
            await self.stop()


def build_services(
    settings: Settings, code_sender: CodeSender | None = None, documents: Documents | None = None
) -> Services:
    return Services(
        code_sender=code_sender or LogCodeSender(),
        documents=documents or Renderer(),
        lpr=settings.lpr,
        licensed_level=settings.licensed_rate_level,
        answer_within_days=settings.mediator_answer_days,
        conduct=ConductPolicy(
            SendWindow(settings.send_window_start, settings.send_window_end), settings.collection_daily_cap
        ),
        grace_days=settings.grace_days,
        tolerance_moves=settings.tolerance_moves,
        digest_time=settings.digest_time,
        digest_zone=settings.timezone,
        reminders=reminder_policy(settings),
    )


def reminder_policy(settings: Settings) -> ReminderPolicy:
    """When instalment reminders are due: planned when an agreement activates, and by the scheduler."""
    return ReminderPolicy(
        parse_offsets(settings.reminder_days), settings.reminder_time, grace_days=settings.grace_days
    )


def build_supervision(settings: Settings) -> Supervision:
    """What the reminder and digest jobs run with (the scheduler's settings)."""
    return Supervision(reminder_policy(settings), settings.digest_time, settings.timezone)


def channel_commands(senders: dict[Channel, Sender]) -> dict[Channel, tuple[str, ...]]:
    """The commands each channel handles itself (its ``commands``, like the terminal's /quit), for /help."""
    return {channel: tuple(getattr(sender, "commands", ())) for channel, sender in senders.items()}


def build_app(
    settings: Settings,
    senders: dict[Channel, Sender],
    *,
    code_sender: CodeSender | None = None,
    clock: Clock | None = None,
    store: SqlStore | None = None,
    scheduled: bool = True,
) -> App:
    """The one composition root."""
    clock = clock or SystemClock()
    store = store or build_store(settings, clock, signs=True)
    renderer = Renderer(channel_commands=channel_commands(senders))
    delivery = Delivery(store, renderer, senders, clock)
    supervision = build_supervision(settings)
    dialogs = Dialogs(
        ALL_FLOWS, build_services(settings, code_sender, renderer), actions=ACTIONS, commands=COMMANDS
    )
    if isinstance(code_sender, AfterReply):
        engine = Engine(store, dialogs, code_sender.after_commit(delivery.submit))
        code_sender.engine = engine
        return App(store, renderer, engine, delivery, clock, scheduled, code_sender, supervision)
    engine = Engine(store, dialogs, delivery.submit)
    return App(store, renderer, engine, delivery, clock, scheduled, supervision=supervision)
