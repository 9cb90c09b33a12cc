"""Delivery: sends what the engine committed to the outbox, through each recipient's channel.

Nothing is sent before its turn committed (the engine hands messages over only after commit), and nothing
committed is lost: on start, :meth:`Delivery.resume` queues whatever was committed and not yet sent.
A message is marked sent after the channel accepted it: a crash in between sends it twice, never zero times.

Each recipient has a lane: their messages go out one after another, in order, while other people's lanes run
at the same time. A channel that must wait for one chat (Telegram's per-chat limit, a 429's ``retry_after``)
waits in that lane only.

What was sent is recorded as soon as possible (one write for everything sent meanwhile, as the engine's group
commit does), so a crash sends again only what was in flight or being recorded. A storage error while
recording (a full disk) stops no lane: the keys are kept and recorded at the next attempt. :meth:`close` is
bounded: what is not sent by then stays in the outbox for the next start.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import deque
from collections.abc import Awaitable, Sequence
from dataclasses import replace
from typing import Protocol

from bot.rendering import Rendered, Renderer
from dialogs.domain import Account, Channel
from dialogs.messages import Queued
from dialogs.ports import Clock, SystemClock
from storage.store import SqlStore

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 5
RETRY_BASE_SECONDS = 0.5
MAX_JOINED = 4
POLL_SECONDS = 0.5  # SQLite: how often to look for rows other processes wrote
NOTIFIED_SECONDS = 1.0  # PostgreSQL: notifications wake at once; this only paces the record of sends
CLOSE_SECONDS = 4.0  # closing waits this long for the sends in hand, then as long to record them
RECORD_ATTEMPTS = 3  # when closing, recording what was sent is tried this often
RECENTLY_RECORDED = 10_000  # far more than can be sent while one look at the outbox is under way


class Unreachable(Exception):
    """The person cannot be reached on this channel any more (they blocked the bot)."""


class NotYet(Exception):
    """The channel may not deliver this now, and has recorded why (WeChat: the person has not written for
    48 hours): the message stays unsent in the outbox, neither retried here nor given up on, until the
    channel hands it back (when the person writes)."""


class Sender(Protocol):
    """A channel's outgoing side."""

    def serves(self, recipient: Account) -> bool:
        """Whether this process can reach ``recipient`` now (a terminal reaches only its own user)."""
        ...

    async def send(self, recipient: Account, message: Rendered) -> None: ...


class Delivery:
    def __init__(
        self, store: SqlStore, renderer: Renderer, senders: dict[Channel, Sender], clock: Clock | None = None
    ) -> None:
        self._store = store
        self._renderer = renderer
        self._senders = senders
        self._clock = clock or SystemClock()
        self._lanes: dict[int, deque[Queued]] = {}
        self._workers: set[asyncio.Task[None]] = set()
        self._sent: list[str] = []
        self._attempts: dict[str, int] = {}
        self._in_hand: set[str] = set()  # queued, being sent or waiting to retry: not to be released twice
        # Recorded as sent lately: a look at the outbox that started before the record still lists them.
        self._recorded: deque[str] = deque(maxlen=RECENTLY_RECORDED)
        self._recorder: asyncio.Task[None] | None = None
        self._idle = asyncio.Event()
        self._idle.set()

    def sender(self, channel: Channel) -> Sender | None:
        return self._senders.get(channel)

    @property
    def sending(self) -> bool:
        """Whether any message is being sent or waits to be (a broadcast gives way meanwhile)."""
        return bool(self._lanes)

    def submit(self, queued: Sequence[Queued]) -> None:
        """The engine's hand-over: messages whose turn has committed. Held ones wait in the outbox."""
        now = self._clock.now()
        for item in queued:
            due = item.message.not_before
            if item.key in self._in_hand or (due is not None and due > now):
                continue
            self._in_hand.add(item.key)
            self._enqueue(item)

    def _enqueue(self, item: Queued) -> None:
        self._idle.clear()
        lane = self._lanes.get(item.recipient.id)
        if lane is not None:
            lane.append(item)
            return
        self._lanes[item.recipient.id] = deque([item])
        worker = asyncio.get_running_loop().create_task(self._drive(item.recipient.id))
        self._workers.add(worker)
        worker.add_done_callback(self._workers.discard)

    async def resume(self) -> int:
        """Queue what was committed, is due, and was never sent (after a crash, or held until now)."""
        unsent = self._not_yet_ours(await self._store.unsent())
        self.submit(unsent)
        return len(unsent)

    release_due = resume  # the scheduler's minute job: held messages whose time has come

    async def run(self) -> None:
        """Until cancelled: record what was sent at least every second (lanes record as they empty too), and
        deliver what other processes commit for people this one reaches (a notification from another
        terminal) within about a second: woken by PostgreSQL's notification, or by a quick look at the
        outbox's newest row id on SQLite."""
        seen = await self._store.latest_outbox_id()
        wake = asyncio.Event()
        async with self._store.outbox_notices(wake.set) as notified:
            while True:
                # asyncio.timeout, not wait_for: on Python 3.11 wait_for swallows a cancel that arrives as
                # the event is set, and stopping would then wait for this loop forever.
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(NOTIFIED_SECONDS if notified else POLL_SECONDS):
                        await wake.wait()
                wake.clear()
                await self._flush()
                try:
                    seen = await self._others_since(seen)
                except Exception as error:  # a storage error: look again at the next wake
                    log.warning("the outbox could not be read (%s)", type(error).__name__)

    async def _others_since(self, seen: int) -> int:
        """Hand over rows written since ``seen`` (by anyone: ours are in hand or sent already)."""
        latest = await self._store.latest_outbox_id()
        if latest > seen:
            self.submit(self._not_yet_ours(await self._store.unsent(after=seen)))
        return latest

    async def drain(self) -> None:
        """Wait until everything handed over so far has been sent (or given up) and recorded."""
        await self._idle.wait()
        while True:
            if self._recorder is not None and not self._recorder.done():
                await asyncio.shield(self._recorder)  # its batch left _sent before it was recorded
            if await self._flush():
                return
            await asyncio.sleep(RETRY_BASE_SECONDS)  # a failed write is tried again

    async def close(self, within: float = CLOSE_SECONDS) -> None:
        """Shutting down, in bounded time: the sends in hand get ``within`` seconds, then the lanes stop and
        what was sent is recorded (``within`` seconds more). Anything unsent stays in the outbox for the
        next start; a send the channel accepted but that could not be recorded goes again then."""
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._idle.wait(), within)
        workers = [*self._workers, *([self._recorder] if self._recorder else [])]
        for worker in workers:
            worker.cancel()
        await asyncio.gather(*workers, return_exceptions=True)
        try:
            await asyncio.wait_for(self._record_left(), within)
        except TimeoutError:
            log.error(
                "%s sent messages could not be recorded: they go again at the next start", len(self._sent)
            )

    async def _record_left(self) -> None:
        for attempt in range(RECORD_ATTEMPTS):
            if await self._flush():
                return
            await asyncio.sleep(RETRY_BASE_SECONDS * 2**attempt)
        raise TimeoutError

    async def _drive(self, recipient_id: int) -> None:
        lane = self._lanes[recipient_id]
        try:
            while lane:
                items = self._run(lane)
                await self._deliver(items)
                for _ in items:
                    lane.popleft()
                self._record_soon()
        finally:
            del self._lanes[recipient_id]
            if not self._lanes and not self._attempts:
                self._idle.set()

    def _run(self, lane: deque[Queued]) -> list[Queued]:
        """The next message, or, for a channel that joins them, the plain messages before one with
        buttons or a file joined to it: one turn's "saved" and "next question" become one message."""
        first = lane[0]
        sender = self._senders.get(first.recipient.channel)
        if not getattr(sender, "joins_messages", False):
            return [first]
        run: list[Queued] = []
        for item in lane:
            if item.message.file_name or len(run) == MAX_JOINED:
                break
            run.append(item)
            if item.message.buttons or item.message.context.get("request_contact"):
                break
        return run or [first]

    async def _deliver(self, items: list[Queued]) -> None:
        recipient = items[-1].recipient
        sender = self._senders.get(recipient.channel)
        if sender is None or not recipient.reachable or not sender.serves(recipient):
            self._in_hand.difference_update(item.key for item in items)
            return  # stays unsent in the outbox until a process that reaches them runs
        rendered = [self._renderer.render(item.message, recipient) for item in items]
        joined = replace(
            rendered[-1],
            text="\n\n".join(r.text for r in rendered),
            keys=tuple(key for r in rendered for key in r.keys),
            templates=tuple(template for r in rendered for template in r.templates),
        )
        try:
            await sender.send(recipient, joined)
        except NotYet:
            self._in_hand.difference_update(item.key for item in items)
            for item in items:
                self._attempts.pop(item.key, None)
        except Unreachable:
            await self._storing(self._store.mark_unreachable(recipient.id))
            for item in items:
                await self._storing(self._store.mark_failed(item.key, "recipient unreachable", give_up=True))
                self._in_hand.discard(item.key)
        except Exception as error:  # a channel failure must not stop delivery to everyone else
            for item in items:
                await self._retry_later(item, type(error).__name__)
        else:
            for item in items:
                self._attempts.pop(item.key, None)
                self._sent.append(item.key)

    async def _retry_later(self, item: Queued, error: str) -> None:
        attempts = self._attempts[item.key] = self._attempts.get(item.key, 0) + 1
        give_up = attempts >= MAX_ATTEMPTS
        log.warning("sending outbox message %s failed (%s), attempt %s", item.key, error, attempts)
        await self._storing(self._store.mark_failed(item.key, error, give_up=give_up))
        if give_up:
            self._attempts.pop(item.key, None)
            self._in_hand.discard(item.key)
            return
        asyncio.get_running_loop().call_later(RETRY_BASE_SECONDS * 2**attempts, self._enqueue, item)

    def _record_soon(self) -> None:
        """Record what was sent now, in one write with whatever else is sent meanwhile."""
        if self._sent and (self._recorder is None or self._recorder.done()):
            self._recorder = asyncio.get_running_loop().create_task(
                self._record_all(), name="delivery-record"
            )

    async def _record_all(self) -> None:
        while self._sent:
            if not await self._flush():
                return  # the storage fails for now: run() tries again at its next wake

    async def _flush(self) -> bool:
        """Record what was sent; False (the keys kept for the next attempt) when the storage fails."""
        sent, self._sent = self._sent, []
        if not sent:
            return True
        try:
            await self._store.mark_sent(sent)
        except asyncio.CancelledError:  # closing: its final attempt records them
            self._sent[:0] = sent
            raise
        except Exception as error:  # a full disk, a lost connection: the sends stay to be recorded
            self._sent[:0] = sent
            log.warning("%s sent messages could not be recorded yet (%s)", len(sent), type(error).__name__)
            return False
        self._in_hand.difference_update(sent)
        self._recorded.extend(sent)
        return True

    def _not_yet_ours(self, rows: Sequence[Queued]) -> list[Queued]:
        """Rows read from the outbox that this process has neither in hand nor recorded while it read."""
        recorded = set(self._recorded)
        return [item for item in rows if item.key not in self._in_hand and item.key not in recorded]

    async def _storing(self, update: Awaitable[None]) -> None:
        """An outbox update that may fail without stopping the lane (the row stays as it was)."""
        try:
            await update
        except Exception as error:
            log.warning(
                "the outbox could not be updated (%s); the message stays queued", type(error).__name__
            )
