"""Held words: messages the collection-conduct window keeps in the outbox until the borrower's hours.

A held message is an outbox row not yet sent whose ``not_before`` is still ahead. When the case moves on
before it is due, what it says may no longer be true (an offer withdrawn, an agreement confirmed, a case
closed): such rows are cancelled, never sent. Cancelling keeps the row, marked failed with the reason as
its error, so the outbox still tells what was written and why it never left. A mediator can list what is
held on a case and cancel one message (a threat they have dealt with must not arrive in the morning).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from sqlalchemy import select

from dialogs.errors import NotFound
from dialogs.lifecycle import TERMINAL, CaseState
from dialogs.messages import HeldMessage
from storage import models
from storage.staff import StaffWork

CANCELLED = "cancelled: "  # the outbox row's last_error for a message that was never to be sent
# Moving into these, every held word on the case is stale: there is nothing left to negotiate.
ALL_STALE = frozenset(TERMINAL | {CaseState.AGREED})
# Moving into these withdraws the pending offer: its announcement (and a bid invitation) is stale.
OFFER_STALE = frozenset({CaseState.ESCALATED, CaseState.EXPIRED})
OFFER_MOVES = frozenset({"negotiate/new_offer", "negotiate/bid_proposed"})
# A breach ends the plan but not its payments (they are still reported and decided): what is held about one
# (the lender disputing it, a mediator's decision after it) stays true, and still goes.
PAYMENT_WORDS = frozenset({"payments/disputed", "payments/rejected"})


class HeldWork(StaffWork):
    """The held-words part of a turn; see the module docstring and :class:`dialogs.ports.Turn`."""

    if TYPE_CHECKING:

        def open_outbox(self, row: models.OutboxMessage) -> dict[str, Any]:
            """The row's document (values, buttons), opened by the turn that knows the sealing
            (storage.turns.SqlTurn)."""
            ...

    async def held_for_case(self, case_id: int) -> list[HeldMessage]:
        """What is held on a case for its borrower, oldest first (mediators only)."""
        self.require_operator()
        return [held for _, held in await self._held(case_id)]

    async def cancel_held(self, message_id: int, reason: str = "mediator") -> HeldMessage:
        """Cancel one held message so it is never sent (mediators only)."""
        self.require_operator()
        await self.writing()
        row = await self.session.get(models.OutboxMessage, message_id)
        held = self._as_held(row) if row is not None else None
        if row is None or held is None:
            raise NotFound(f"message {message_id} is not held (sent, cancelled, or not a case's)")
        self._cancel(row, reason)
        return held

    async def cancel_stale_held(self, case_id: int, moved_to: CaseState) -> int:
        """Cancel what the case's move to ``moved_to`` makes untrue; how many were cancelled."""
        if moved_to not in ALL_STALE | OFFER_STALE:
            return 0
        stale = [
            row
            for row, held in await self._held(case_id)
            if (moved_to in ALL_STALE or held.template in OFFER_MOVES)
            and not (moved_to is CaseState.DEFAULTED and held.template in PAYMENT_WORDS)
        ]
        for row in stale:
            self._cancel(row, f"case {moved_to.value}")
        return len(stale)

    async def _held(self, case_id: int) -> list[tuple[models.OutboxMessage, HeldMessage]]:
        case = await self._own_case(case_id)
        box = models.OutboxMessage
        query = select(box).where(
            box.account_id == case.borrower_account_id,
            box.sent_at.is_(None),
            box.failed.is_(False),
            box.not_before > self.now,
        )
        found = [(row, self._as_held(row)) for row in await self.session.scalars(query.order_by(box.id))]
        return [(row, held) for row, held in found if held is not None and held.case_id == case_id]

    def _as_held(self, row: models.OutboxMessage) -> HeldMessage | None:
        if row.sent_at is not None or row.failed or row.not_before <= self.now:
            return None
        values = self.open_outbox(row).get("values") or {}
        case_id = values.get("case_id")
        if not isinstance(case_id, int):
            return None
        return HeldMessage(row.id, case_id, row.account_id, row.template, row.not_before, values)

    def _cancel(self, row: models.OutboxMessage, reason: str) -> None:
        row.failed, row.last_error = True, (CANCELLED + reason)[:500]
