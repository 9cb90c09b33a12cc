"""Giving up on one inbound message so that it stops nobody else's.

A message whose turn fails to commit is tried again a few times (most failures pass: a moment of contention,
a restart of the database); after the last attempt it becomes a dead letter: recorded with its error for an
operator (``/stats``, ``loanbridge deadletters``), apologised for, and only then acknowledged to the channel.
If even the record cannot be written, the failure goes to the channel, which does not acknowledge: nothing
is dropped unrecorded.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

from bot.delivery import Delivery
from dialogs.engine import TurnFailed
from dialogs.messages import Inbound
from storage.store import SqlStore

log = logging.getLogger(__name__)

ATTEMPTS = 3
FIRST_PAUSE_SECONDS = 0.2
Handle = Callable[[Inbound], Awaitable[None]]


class DeadLetters:
    """Wraps the engine's ``handle`` for a channel: see the module docstring."""

    def __init__(self, store: SqlStore, delivery: Delivery, *, attempts: int = ATTEMPTS) -> None:
        self._store = store
        self._delivery = delivery
        self._attempts = attempts

    def guard(self, handle: Handle) -> Handle:
        async def handle_or_give_up(inbound: Inbound) -> None:
            for attempt in range(1, self._attempts + 1):
                try:
                    await handle(inbound)
                    return
                except TurnFailed as failure:
                    if attempt == self._attempts:
                        await self.give_up(inbound, failure.reason)
                        return
                    log.warning(
                        "a %s message failed (attempt %s): %s", inbound.channel, attempt, failure.reason
                    )
                    await asyncio.sleep(FIRST_PAUSE_SECONDS * 2 ** (attempt - 1))

        return handle_or_give_up

    async def give_up(self, inbound: Inbound, reason: str) -> None:
        """Record the dead letter (raises if it cannot be recorded), then apologise."""
        if not await self._store.record_dead_letter(inbound, reason):
            return  # a redelivery of one recorded and apologised for already
        log.error("a %s message was given up on and recorded as a dead letter: %s", inbound.channel, reason)
        try:
            apology = await self._store.apologise_for(inbound)
        except Exception:  # recorded is what matters: the operator sees it even if the apology fails
            log.exception("the apology for a dead letter could not be queued")
            return
        self._delivery.submit([apology])
