"""Dead letters: inbound updates given up on after a few failed attempts, and the apology to their sender.

Recorded in their own unit of work, apart from the turn that failed, so what poisoned the turn (a damaged
conversation row) cannot poison the record. The update's content is never kept: only its key, the sender's
account, the error and when.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from dialogs.domain import Channel
from dialogs.locales import pick_locale
from dialogs.messages import Inbound, Outbound, Queued
from storage import accounts, models
from storage.crypto import FieldCipher
from storage.turns import MAX_KEY, message_document, seal_message, stored_outbound

APOLOGY = "errors/not_handled"
MAX_ERROR = 500


@dataclass(frozen=True, slots=True)
class DeadLetterView:
    id: int
    channel: str
    key: str
    account_id: int | None
    error: str
    created_at: datetime


async def record(session: AsyncSession, inbound: Inbound, error: str, now: datetime) -> bool:
    """Record the failed update once (a redelivery of one already recorded is not recorded again)."""
    key = inbound.key[:MAX_KEY]
    known = select(models.DeadLetter.id).where(
        models.DeadLetter.channel == inbound.channel.value, models.DeadLetter.key == key
    )
    if await session.scalar(known) is not None:
        return False
    found = await accounts.find_account(session, inbound.channel, inbound.user_id.strip())
    session.add(
        models.DeadLetter(
            channel=inbound.channel.value,
            key=key,
            account_id=found.id if found else None,
            error=error[:MAX_ERROR],
            created_at=now,
        )
    )
    await session.flush()
    return True


async def apologise(
    session: AsyncSession, cipher: FieldCipher, inbound: Inbound, time_zone: str, now: datetime
) -> Queued:
    """Queue the apology in the outbox (sent after commit, like any reply)."""
    locale = pick_locale(inbound.locale_hint)
    row = await accounts.ensure_account(session, inbound.channel, inbound.user_id, locale, time_zone, now)
    key = f"dead:{inbound.channel.value}:{inbound.key}"[:200]
    message = Outbound(account_id=row.id, template=APOLOGY, key=key)
    document = message_document(message)
    session.add(
        models.OutboxMessage(
            key=key,
            template=APOLOGY,
            message_enc=seal_message(cipher, document),
            account_id=row.id,
            created_at=now,
            not_before=now,
        )
    )
    await session.flush()
    return Queued(key, accounts.to_account(row), stored_outbound(row.id, key, APOLOGY, document))


async def count(session: AsyncSession) -> int:
    return int(await session.scalar(select(func.count()).select_from(models.DeadLetter)) or 0)


async def recent(session: AsyncSession, limit: int, channel: Channel | None = None) -> list[DeadLetterView]:
    """The latest dead letters, newest first."""
    query = select(models.DeadLetter).order_by(models.DeadLetter.id.desc()).limit(limit)
    if channel is not None:
        query = query.where(models.DeadLetter.channel == channel.value)
    return [
        DeadLetterView(r.id, r.channel, r.key, r.account_id, r.error, r.created_at)
        for r in (await session.scalars(query)).all()
    ]
