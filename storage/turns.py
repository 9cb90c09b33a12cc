"""Turns and batches: one inbound message's unit of work, many of them sharing one commit.

The hot path (idempotency key, account, conversation, outbox) is lean Core SQL: a turn costs a handful of
statements. Turns from different people that arrive together share one transaction (group commit), each
inside a savepoint so one person's failure never undoes another's turn.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from datetime import datetime
from typing import Any, cast

from sqlalchemy import CursorResult, Table, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from dialogs.conversation import Conversation
from dialogs.domain import Account, Actor, Channel
from dialogs.locales import pick_locale
from dialogs.messages import Button, Inbound, Outbound, Queued
from dialogs.ports import Clock
from storage import accounts, models
from storage.case_work import CaseWork
from storage.crypto import FieldCipher
from storage.types import plain_json

_C = cast(Table, models.Conversation.__table__)
_KEYS = cast(Table, models.InboundKey.__table__)
_OUTBOX = cast(Table, models.OutboxMessage.__table__)
_DATA = "conversations.data"
MAX_KEY = 128


class SqlTurn(CaseWork):
    """A turn on an open session; see :class:`dialogs.ports.Turn`."""

    def __init__(
        self,
        session: AsyncSession,
        cipher: FieldCipher,
        account: Account,
        actor: Actor,
        now: datetime,
        key_prefix: str,
    ) -> None:
        super().__init__(session, cipher, account, actor, now)
        self._key_prefix = key_prefix
        self._outbox: list[Outbound] = []
        self._saved: Conversation | None = None
        self._existing: bool | None = None

    async def conversation(self) -> Conversation:
        query = select(_C.c.flow, _C.c.step, _C.c.data_enc, _C.c.case_id, _C.c.wrong_answers).where(
            _C.c.account_id == self.account.id
        )
        row = (await self.session.execute(query)).first()
        self._existing = row is not None
        if row is None:
            return Conversation(self.account.id)
        data = json.loads(self.cipher.decrypt(_DATA, row.data_enc)) if row.data_enc else {}
        return Conversation(self.account.id, row.flow, row.step, data, row.case_id, row.wrong_answers)

    def save_conversation(self, conversation: Conversation) -> None:
        self._saved = conversation

    def send(self, message: Outbound) -> None:
        self._outbox.append(message)

    async def flush(self, *, system: bool) -> list[Queued]:
        """Write the conversation and the outbox; called once, at the end of the turn."""
        if self._saved is not None:
            await self._write_conversation(self._saved, system=system)
        return [await self._enqueue(number, message) for number, message in enumerate(self._outbox)]

    async def _write_conversation(self, c: Conversation, *, system: bool) -> None:
        values: dict[str, Any] = {
            "flow": c.flow,
            "step": c.step,
            "data_enc": self.cipher.encrypt(_DATA, json.dumps(plain_json(c.data), ensure_ascii=False)),
            "case_id": c.case_id,
            "wrong_answers": c.wrong_answers,
        }
        # A person's own message resets the abandoned-draft reminder; the system's reminder records itself.
        values |= {"reminded_at": self.now} if system else {"updated_at": self.now, "reminded_at": None}
        if self._existing is None:
            await self.conversation()
        if self._existing:
            await self.session.execute(update(_C).where(_C.c.account_id == c.account_id).values(**values))
        else:
            values.setdefault("updated_at", self.now)
            await self.session.execute(insert(_C).values(account_id=c.account_id, **values))
            self._existing = True

    async def _enqueue(self, number: int, message: Outbound) -> Queued:
        recipient = self.account if message.account_id == self.account.id else await self._account(message)
        columns = outbox_columns(message, message.key or f"{self._key_prefix}:{number}")
        result: CursorResult[Any] = await self.session.execute(  # type: ignore[assignment]
            insert(_OUTBOX).values(
                **columns,
                account_id=recipient.id,
                created_at=self.now,
                not_before=self.now,
                attempts=0,
                failed=False,
            )
        )
        (outbox_id,) = result.inserted_primary_key or (0,)
        # Delivery renders exactly what was stored, whether now or after a restart.
        return Queued(id=int(outbox_id), recipient=recipient, message=stored_outbound(recipient.id, columns))

    async def _account(self, message: Outbound) -> Account:
        return accounts.to_account(await accounts.account_row(self.session, message.account_id))


class SqlBatch:
    """Turns sharing one transaction; see :class:`dialogs.ports.Batch`."""

    def __init__(self, session: AsyncSession, cipher: FieldCipher, clock: Clock, time_zone: str) -> None:
        self._session = session
        self._cipher = cipher
        self._clock = clock
        self._time_zone = time_zone
        self._queued: list[Queued] = []
        self._locks = session.get_bind().dialect.name == "postgresql"

    @property
    def queued(self) -> Sequence[Queued]:
        return self._queued

    @asynccontextmanager
    async def turn(self, inbound: Inbound) -> AsyncIterator[SqlTurn | None]:
        now = self._clock.now()
        key = inbound.key[:MAX_KEY]
        async with self._session.begin_nested():
            if not await self._claim(inbound.channel, key, now):
                yield None
                return
            account = await self._sender(inbound, now)
            actor = Actor(role=account.role, channel=inbound.channel, account_id=account.id)
            turn = SqlTurn(self._session, self._cipher, account, actor, now, f"{inbound.channel}:{key}")
            yield turn
            self._queued.extend(await turn.flush(system=False))

    @asynccontextmanager
    async def system_turn(self, account_id: int, key: str) -> AsyncIterator[SqlTurn | None]:
        now = self._clock.now()
        async with self._session.begin_nested():
            if not await self._claim(Channel.SYSTEM, key[:MAX_KEY], now):
                yield None
                return
            row = await accounts.account_row(self._session, account_id)
            account = accounts.to_account(row)
            turn = SqlTurn(self._session, self._cipher, account, Actor.system(), now, f"system:{key}")
            yield turn
            self._queued.extend(await turn.flush(system=True))

    async def _claim(self, channel: Channel, key: str, now: datetime) -> bool:
        """Record the idempotency key; False when it was recorded before (the update is a redelivery)."""
        query = select(_KEYS.c.key).where(_KEYS.c.channel == channel.value, _KEYS.c.key == key)
        if (await self._session.execute(query)).first() is not None:
            return False
        await self._session.execute(insert(_KEYS).values(channel=channel.value, key=key, processed_at=now))
        return True

    async def _sender(self, inbound: Inbound, now: datetime) -> Account:
        row = await accounts.find_account(self._session, inbound.channel, inbound.user_id.strip())
        if row is None:
            locale = pick_locale(inbound.locale_hint)
            row = await accounts.ensure_account(
                self._session, inbound.channel, inbound.user_id, locale, self._time_zone, now
            )
        elif self._locks:
            # Several processes may serve one bot: this row lock keeps one person's messages in order.
            await self._session.refresh(row, with_for_update=True)
        return accounts.to_account(row)


def outbox_columns(message: Outbound, key: str) -> dict[str, Any]:
    """An outbound message as outbox columns: JSON only (money as exact strings, dates as ISO text)."""
    return {
        "key": key,
        "template": message.template,
        "context": {"values": plain_json(message.context), "file_name": message.file_name},
        "buttons": [
            {"choice": b.choice, "label": b.label_template, "context": plain_json(b.context)}
            for b in message.buttons
        ],
    }


def stored_outbound(account_id: int, columns: dict[str, Any]) -> Outbound:
    context = columns["context"] or {}
    return Outbound(
        account_id=account_id,
        template=columns["template"],
        context=context.get("values") or {},
        buttons=tuple(Button(b["choice"], b["label"], b.get("context") or {}) for b in columns["buttons"]),
        key=columns["key"],
        file_name=context.get("file_name"),
    )
