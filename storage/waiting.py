"""How many outbox messages wait for their person to write again (WeChat's 48-hour window), by whether a
template message told them: read by the WeChat store and by operators' statistics."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage import models


@dataclass(frozen=True, slots=True)
class WaitingCount:
    """Outbox messages that wait for their WeChat recipient to write: told by a template message, or not
    (no template configured for their kind, or WeChat refused it)."""

    notified: int
    not_notified: int

    @property
    def total(self) -> int:
        return self.notified + self.not_notified


async def waiting_count(session: AsyncSession) -> WaitingCount:
    """Only messages still unsent and not given up on count."""
    table, box = models.WeChatWaiting, models.OutboxMessage
    query = (
        select(table.notified, func.count())
        .join(box, box.key == table.outbox_key)
        .where(box.sent_at.is_(None), box.failed.is_(False))
        .group_by(table.notified)
    )
    counts = {bool(notified): int(count) for notified, count in (await session.execute(query)).all()}
    return WaitingCount(counts.get(True, 0), counts.get(False, 0))
