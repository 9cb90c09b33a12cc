"""Sending operator broadcasts, inside ``loanbridge serve`` beside delivery (it owns each bot's rate), and
in the processes that run the scheduled work without a bot (``loanbridge scheduler``, ``loanbridge chat``)
for the terminal, whose messages go through the outbox.

The recipients are rows (``broadcast_recipients``): a sender claims a page at a time, sends, and records
what happened in one write every :data:`RECORD_SECONDS`, so memory stays flat whatever the size. A page is
claimed with ``FOR UPDATE SKIP LOCKED`` on PostgreSQL: two ``serve`` processes never send one twice.

Every recipient is checked when their turn comes, not when the broadcast was created: an unreachable
account or one that asked for quiet (``/quiet``: a broadcast is not a message the law requires) is
skipped; one outside their hours (08:00–21:00 their time) is held until the hours open and sent then.

Replies first: on Telegram a broadcast takes only the moments of the bot's rate that replies leave free
(:meth:`bot.channels.telegram.Pace.spare_turn`). A channel this process does not send on itself (the
terminal) gets the message in its outbox, delivered when that person's process runs. A sender claims only
recipients on the channels it reaches (its own senders' and the terminal's), so a scheduler without Telegram
never takes a Telegram recipient; its heartbeat row names its command and those channels.

Crash safety: a row is ``sending`` while claimed; a sender beats every :data:`BEAT_SECONDS`, and rows
claimed by a sender silent for :data:`LOST_AFTER` are pending again. A recipient gets the message twice
only when the process died after the platform accepted it and before the record was written.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import asynccontextmanager
from datetime import datetime, timedelta

from bot.delivery import Delivery, Sender, Unreachable
from bot.rendering import Renderer
from dialogs.broadcasts import RecipientStatus
from dialogs.domain import Account, Channel
from dialogs.messages import Inbound, Outbound, Queued
from dialogs.rules.conduct import SendWindow, next_allowed_send
from storage.broadcasts import Outcome, Target
from storage.store import SqlStore

log = logging.getLogger(__name__)

PAGE = 200  # recipients claimed at once
CONCURRENCY = 64  # sends under way at once (the rate, and each channel's own bound, set the pace)
RECORD_SECONDS = 0.25  # how often outcomes are written: a crash resends at most this long's sends
BEAT_SECONDS = 1.0
LOST_AFTER = timedelta(seconds=5)  # a sender silent this long is gone: its claims are released
GIVE_WAY_SECONDS = 0.002  # how often a waiting send looks again whether replies are done
# A broadcast pauses at most this long for people being answered, then sends at least as long: a turn
# usually ends within it, and the pace makes up the missed moments (its catch-up is a little longer).
GIVE_WAY_MAX = 0.01
IDLE_SECONDS = 0.5  # how often to look for new broadcasts when there is nothing to send
MAX_ATTEMPTS = 3
DEFAULT_RATES = {Channel.WECHAT: 20.0, Channel.TERMINAL: 100.0}  # Telegram's is its own Pace
TEMPLATE_DIR = "broadcast"
Submit = Callable[[Sequence[Queued]], None]


class Steady:
    """At most ``per_second`` sends a second, evenly spaced: for channels without a pace of their own."""

    def __init__(self, per_second: float) -> None:
        self._gap = 1.0 / per_second
        self._next = 0.0
        self._lock = asyncio.Lock()

    async def turn(self) -> None:
        async with self._lock:
            now = time.monotonic()
            moment = max(now, self._next)
            self._next = moment + self._gap
            if moment > now:
                await asyncio.sleep(moment - now)


def sender_id() -> str:
    """Unique per process, readable in the table: host, pid and a random tail."""
    return f"{_host()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


def _host() -> str:
    return socket.gethostname()[:30]


def gone_here(senders: Sequence[str]) -> list[str]:
    """Senders of this host whose process no longer exists (killed): their claims need not wait for
    their heartbeat to go stale, so a restart resumes at once."""
    gone = []
    for sender in senders:
        host, _, rest = sender.partition(":")
        pid = rest.partition(":")[0]
        if host != _host() or not pid.isdigit() or int(pid) == os.getpid():
            continue
        try:
            os.kill(int(pid), 0)
        except ProcessLookupError:
            gone.append(sender)
        except PermissionError:  # alive, another user's
            continue
    return gone


class Talking:
    """Whether people are being answered now: a turn under way (counted around the engine's front door)
    or a reply in delivery's lanes. A broadcast waits while they are, so on a busy CPU replies come first
    too, not only in the rate."""

    def __init__(self, delivery: Delivery) -> None:
        self._delivery = delivery
        self._turns = 0

    def guard(self, handle: Callable[[Inbound], Awaitable[None]]) -> Callable[[Inbound], Awaitable[None]]:
        async def counted(inbound: Inbound) -> None:
            self._turns += 1
            try:
                await handle(inbound)
            finally:
                self._turns -= 1

        return counted

    def busy(self) -> bool:
        return self._turns > 0 or self._delivery.sending


class GiveWay:
    """Replies first without starving the broadcast: while people are being answered, sends pause for at
    most :data:`GIVE_WAY_MAX`; then they go on for as long before pausing again (a bot answering without
    a break would otherwise stop a broadcast for good)."""

    def __init__(self, busy: Callable[[], bool], pause: float = GIVE_WAY_MAX) -> None:
        self._busy = busy
        self._pause = pause
        self._until = 0.0  # the current pause ends here
        self._free_until = 0.0  # and no new pause begins before this

    async def wait(self) -> None:
        now = time.monotonic()
        if now < self._free_until or not self._busy():
            return
        if now >= self._until:
            self._until = now + self._pause
            self._free_until = self._until + self._pause
        # Polled: turns and lanes have no event of their own.
        while self._busy() and time.monotonic() < self._until:  # noqa: ASYNC110
            await asyncio.sleep(GIVE_WAY_SECONDS)


class Broadcaster:
    def __init__(
        self,
        store: SqlStore,
        renderer: Renderer,
        senders: dict[Channel, Sender],
        *,
        submit: Submit | None = None,
        rates: dict[Channel, float] | None = None,
        window: SendWindow | None = None,
        replying: Callable[[], bool] | None = None,
        page: int = PAGE,
        concurrency: int = CONCURRENCY,
        process: str = "serve",
    ) -> None:
        """``process``: the command running it, for the CLI to name (``serve``, ``scheduler``, ``chat``)."""
        self._store = store
        self._renderer = renderer
        self._senders = senders
        self._submit = submit
        self._steady = {channel: Steady(rate) for channel, rate in {**DEFAULT_RATES, **(rates or {})}.items()}
        self._window = window or SendWindow()
        self._give_way = GiveWay(replying or (lambda: False))
        self._page = page
        self._concurrency = concurrency
        self.id = sender_id()
        self.process = process
        # What it can send to: its own channels, and the terminal through the outbox.
        self.channels = frozenset({*senders, Channel.TERMINAL})
        self._queue: asyncio.Queue[Target] = asyncio.Queue(maxsize=page)
        self._outcomes: list[Outcome] = []

    @asynccontextmanager
    async def running(self) -> AsyncIterator[Broadcaster]:
        """Sending until the block ends; then what was sent is recorded and unsent claims released."""
        await self._beat()
        await self._release_lost()
        tasks = [
            asyncio.create_task(self._claiming(), name="broadcast-claims"),
            asyncio.create_task(self._keeping(), name="broadcast-records"),
            *(asyncio.create_task(self._sending(), name="broadcast-send") for _ in range(self._concurrency)),
        ]
        try:
            yield self
        finally:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            try:
                await self._record()
                await self._store.forget_sender(self.id)
            except Exception as error:  # the next start releases them (after LOST_AFTER)
                log.warning("broadcast claims could not be released (%s)", type(error).__name__)

    # Claiming pages

    async def _claiming(self) -> None:
        while True:
            try:
                claimed = await self._claim_round()
            except Exception as error:  # a storage error: try again shortly, stop nothing
                log.warning("broadcast recipients could not be claimed (%s)", type(error).__name__)
                claimed = 0
            if not claimed:
                await asyncio.sleep(IDLE_SECONDS)

    async def _claim_round(self) -> int:
        claimed = 0
        for broadcast_id in await self._store.due_broadcasts():
            targets = await self._store.claim_recipients(broadcast_id, self.id, self._page, self.channels)
            claimed += len(targets)
            for target in targets:
                await self._route(target)
        return claimed

    async def _route(self, target: Target) -> None:
        """Skip, hold or queue one claimed recipient, checked now."""
        account = target.account
        if not account.reachable:
            self._outcome(target, RecipientStatus.SKIPPED, error="unreachable")
        elif target.quiet:
            self._outcome(target, RecipientStatus.SKIPPED, error="opted out (/quiet)")
        elif (opens := self._opens(account)) is not None:
            self._outcome(target, RecipientStatus.HELD, not_before=opens)
        else:
            await self._queue.put(target)  # waits while the senders are a page behind

    def _opens(self, account: Account) -> datetime | None:
        """When the person's hours open, or ``None`` when they are open now."""
        now = self._store.clock.now()
        opens = next_allowed_send(now, account.time_zone, self._window, 0)
        return opens if opens > now else None

    # Sending

    async def _sending(self) -> None:
        while True:
            target = await self._queue.get()
            await self._give_way.wait()
            await self._send_one(target)

    async def _send_one(self, target: Target) -> None:
        account = target.account
        message = Outbound(
            account.id, f"{TEMPLATE_DIR}/{target.template}", dict(target.figures), key=_key(target)
        )
        sender = self._senders.get(account.channel)
        try:
            if sender is None or not sender.serves(account):
                await self._by_outbox(message)
            else:
                await self._paced(account, sender, lambda: self._deliver(sender, account, message))
        except Unreachable:
            await _quietly(self._store.mark_unreachable(account.id))
            self._outcome(target, RecipientStatus.FAILED, error="unreachable (blocked the bot)")
        except asyncio.CancelledError:
            raise
        except Exception as error:  # one recipient's failure stops nobody else's
            failed = target.attempts + 1 >= MAX_ATTEMPTS
            status = RecipientStatus.FAILED if failed else RecipientStatus.PENDING
            self._outcome(target, status, error=type(error).__name__)
        else:
            self._outcome(target, RecipientStatus.SENT)

    async def _paced(self, account: Account, sender: Sender, send: Callable[[], Awaitable[None]]) -> None:
        if hasattr(sender, "send_spare"):
            await send()  # the channel's own pace, giving way to replies
            return
        steady = self._steady.get(account.channel)
        if steady is not None:
            await steady.turn()
        await send()

    async def _deliver(self, sender: Sender, account: Account, message: Outbound) -> None:
        rendered = self._renderer.render(message, account)
        spare = getattr(sender, "send_spare", None)
        await (spare(account, rendered) if spare is not None else sender.send(account, rendered))

    async def _by_outbox(self, message: Outbound) -> None:
        """A channel this process does not send on: its outbox, delivered where that person is."""
        queued = await self._store.queue_message(message)
        if queued is not None and self._submit is not None:
            self._submit([queued])

    # Records

    def _outcome(
        self,
        target: Target,
        status: RecipientStatus,
        *,
        not_before: datetime | None = None,
        error: str | None = None,
    ) -> None:
        self._outcomes.append(Outcome(target.broadcast_id, target.account.id, status, not_before, error))

    async def _keeping(self) -> None:
        """Record outcomes often, beat, release what dead senders claimed, and finish broadcasts."""
        beat_at = 0.0
        while True:
            await asyncio.sleep(RECORD_SECONDS)
            try:
                await self._record()
                if time.monotonic() - beat_at >= BEAT_SECONDS:
                    beat_at = time.monotonic()
                    await self._beat()
                    await self._release_lost()
                    await self._report(await self._store.finish_broadcasts())
            except Exception as error:  # kept for the next round
                log.warning("broadcast records could not be written yet (%s)", type(error).__name__)

    async def _beat(self) -> None:
        await self._store.beat(self.id, self.process, self.channels)

    async def _release_lost(self) -> None:
        gone = gone_here(await self._store.broadcast_senders())
        if await self._store.release_lost_claims(LOST_AFTER, gone):
            log.info("broadcast recipients claimed by a stopped sender are pending again")

    async def _record(self) -> None:
        outcomes, self._outcomes = self._outcomes, []
        try:
            await self._store.record_outcomes(outcomes)
        except BaseException:
            self._outcomes[:0] = outcomes
            raise

    async def _report(self, finished: list[tuple[int, int | None]]) -> None:
        """Tell whoever created a finished broadcast from chat what came of it."""
        for broadcast_id, creator in finished:
            log.info("broadcast %s finished", broadcast_id)
            if creator is None:
                continue
            progress = await self._store.broadcast_progress(broadcast_id)
            message = Outbound(
                creator,
                "broadcast/finished",
                {"broadcast": broadcast_id, **progress.figures()},
                key=f"broadcast-done:{broadcast_id}",
            )
            queued = await self._store.queue_message(message)
            if queued is not None and self._submit is not None:
                self._submit([queued])


def _key(target: Target) -> str:
    return f"broadcast:{target.broadcast_id}:{target.account.id}"


async def _quietly(update: Awaitable[None]) -> None:
    with contextlib.suppress(Exception):
        await update
