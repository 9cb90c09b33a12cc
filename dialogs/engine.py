"""The engine: each inbound message is handled in order for its sender and committed before any reply leaves.

Group commit: messages from different people that arrive together share one transaction (each turn isolated
by a savepoint), so the cost of a commit is paid once per batch instead of once per message. A committer
task takes everything queued, in batches; every caller returns only after the batch holding its message
has committed and its replies were handed to delivery.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Hashable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field

from dialogs.dispatch import Dialogs
from dialogs.errors import DomainError
from dialogs.messages import Inbound, Queued
from dialogs.ports import Batch, Turn, TurnStore

log = logging.getLogger(__name__)

MAX_BATCH = 64
Deliver = Callable[[Sequence[Queued]], None]
SystemAction = Callable[[Dialogs, Turn], Awaitable[None]]


@dataclass(slots=True)
class _Entry:
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    users: int = 0


class KeyedLocks:
    """One lock per key, dropped when nobody holds or awaits it: memory follows activity, not history."""

    def __init__(self) -> None:
        self._entries: dict[Hashable, _Entry] = {}

    def __len__(self) -> int:
        return len(self._entries)

    @asynccontextmanager
    async def hold(self, key: Hashable) -> AsyncIterator[None]:
        entry = self._entries.setdefault(key, _Entry())
        entry.users += 1
        try:
            async with entry.lock:
                yield
        finally:
            entry.users -= 1
            if entry.users == 0:
                del self._entries[key]


class Engine:
    """Takes :class:`Inbound` from any channel; see the module docstring."""

    def __init__(self, store: TurnStore, dialogs: Dialogs, deliver: Deliver, *, max_batch: int = MAX_BATCH):
        self._store = store
        self._dialogs = dialogs
        self._deliver = deliver
        self._max_batch = max_batch
        self._locks = KeyedLocks()
        self._waiting: list[tuple[Inbound, asyncio.Future[None]]] = []
        self._committer: asyncio.Task[None] | None = None

    @property
    def dialogs(self) -> Dialogs:
        """The flows and their services (scheduled sweeps read their settings, such as the grace period)."""
        return self._dialogs

    async def handle(self, inbound: Inbound) -> None:
        """Handle one message; returns once its turn has committed (or was recognised as a redelivery)."""
        async with self._locks.hold((inbound.channel, inbound.user_id)):
            done: asyncio.Future[None] = asyncio.get_running_loop().create_future()
            self._waiting.append((inbound, done))
            if self._committer is None or self._committer.done():
                self._committer = asyncio.create_task(self._commit_all(), name="group-commit")
            await done

    async def _commit_all(self) -> None:
        # A task of its own, not the first caller: nobody's reply waits on committing everyone else's.
        # It ends when nothing waits; the next message starts a new one (no await between the check
        # and the end, so no message can slip in unseen).
        while self._waiting:
            await asyncio.sleep(0)  # let messages that arrived together join this batch
            batch, self._waiting = self._waiting[: self._max_batch], self._waiting[self._max_batch :]
            await self._commit(batch)

    async def _commit(self, items: list[tuple[Inbound, asyncio.Future[None]]]) -> None:
        try:
            queued = await self._run_batch([inbound for inbound, _ in items])
        except Exception as error:
            if len(items) == 1:
                items[0][1].set_exception(_failed(error))
                log.exception("a turn could not be committed (channel %s)", items[0][0].channel)
                return
            for item in items:  # one bad message must not sink the others: retry each on its own
                await self._commit([item])
            return
        self._deliver(queued)
        for _, done in items:
            done.set_result(None)

    async def _run_batch(self, inbounds: list[Inbound]) -> Sequence[Queued]:
        async with self._store.batch() as batch:
            await batch.prepare(inbounds)
            for inbound in inbounds:
                await self._turn(batch, inbound)
        return batch.queued

    async def _turn(self, batch: Batch, inbound: Inbound) -> None:
        try:
            async with batch.turn(inbound) as turn:
                if turn is not None:
                    await self._dialogs.handle(turn, inbound)
            return
        except DomainError as error:
            refusal: DomainError | None = error
        except Exception:
            log.exception("a %s message failed; the person gets an apology", inbound.kind.value)
            refusal = None
        # The failed turn was rolled back to its savepoint: answer it in a clean one.
        async with batch.turn(inbound) as turn:
            if turn is None:
                return
            if refusal is None:
                await self._dialogs.apologise(turn, inbound)
            else:
                await self._dialogs.refuse(turn, inbound, refusal)

    async def run_system(self, account_id: int, key: str, action: SystemAction) -> None:
        """Scheduled work re-enters through the front door: one keyed turn, committed, then delivered."""
        async with self._store.batch() as batch, batch.system_turn(account_id, key) as turn:
            if turn is not None:
                await action(self._dialogs, turn)
        self._deliver(batch.queued)


class TurnFailed(Exception):
    """The message could not be committed at all (the database is unreachable, or something the turn reads
    is damaged). ``reason`` names the underlying error for operators without its details: a driver's
    message can carry the statement's parameters, which can be personal data."""

    def __init__(self, message: str, reason: str) -> None:
        super().__init__(message)
        self.reason = reason


def _failed(error: Exception) -> TurnFailed:
    first_line = (str(error).splitlines() or [""])[0][:200]
    reason = f"{type(error).__name__}: {first_line}" if first_line else type(error).__name__
    return TurnFailed("the message could not be handled; it was not recorded and can be sent again", reason)
