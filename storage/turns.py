"""Turns and batches: one inbound message's unit of work, many of them sharing one commit (group commit).

The hot path costs a few statements per *batch*, not per message: the batch reads every sender's
idempotency key, account and conversation in one query each, and writes the keys, the conversations and
the replies with one multi-row statement each just before the commit. A turn that changes a case or the
person's data does so directly, inside a savepoint opened at its first such write, so one person's
failure never undoes another's turn; a turn that fails leaves its buffered writes unwritten.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Table, and_, bindparam, event, insert, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession, AsyncSessionTransaction

from dialogs.conversation import Conversation
from dialogs.domain import Account, Actor, Case, Channel, Role
from dialogs.lifecycle import CaseState
from dialogs.locales import pick_locale
from dialogs.messages import Button, Inbound, Outbound, Queued
from dialogs.ports import Clock
from storage import accounts, models, outbox_watch
from storage.broadcasts import BroadcastWork
from storage.crypto import FieldCipher
from storage.held import HeldWork
from storage.payments import PaymentWork
from storage.reminders import ReminderWork
from storage.types import plain_json

_C = cast(Table, models.Conversation.__table__)
_KEYS = cast(Table, models.InboundKey.__table__)
_OUTBOX = cast(Table, models.OutboxMessage.__table__)
_ACCOUNTS = cast(Table, models.Account.__table__)
_DATA = "conversations.data"
_MESSAGE = "outbox.message"
MAX_KEY = 128
_CONVERSATION_COLUMNS = (
    _C.c.account_id,
    _C.c.flow,
    _C.c.step,
    _C.c.data_enc,
    _C.c.case_id,
    _C.c.wrong_answers,
)


class SqlTurn(BroadcastWork, PaymentWork, ReminderWork, HeldWork):
    """A turn on an open session; see :class:`dialogs.ports.Turn`."""

    def __init__(
        self,
        session: AsyncSession,
        cipher: FieldCipher,
        account: Account,
        actor: Actor,
        now: datetime,
        stored: Conversation | None,
    ) -> None:
        super().__init__(session, cipher, account, actor, now)
        self.outbox: list[Outbound] = []
        self.saved: Conversation | None = None
        self.stored = stored
        self._savepoint: AsyncSessionTransaction | None = None

    async def conversation(self) -> Conversation:
        stored = self.stored
        if stored is None:
            return Conversation(self.account.id)
        return Conversation(
            stored.account_id,
            stored.flow,
            stored.step,
            dict(stored.data),
            stored.case_id,
            stored.wrong_answers,
        )

    def open_outbox(self, row: models.OutboxMessage) -> dict[str, Any]:
        return open_message(self.cipher, row)

    async def transition(
        self, case_id: int, target: CaseState, details: dict[str, Any] | None = None
    ) -> Case:
        """Move the case, and cancel the held words the move makes untrue (never sent once stale)."""
        moved = await super().transition(case_id, target, details)
        await self.cancel_stale_held(case_id, target)
        return moved

    def save_conversation(self, conversation: Conversation) -> None:
        self.saved = conversation

    def send(self, message: Outbound) -> None:
        self.outbox.append(message)

    async def writing(self) -> None:
        if self._savepoint is None:
            self._savepoint = await self.session.begin_nested()

    async def finish(self, *, failed: bool) -> None:
        if self._savepoint is not None:
            await (self._savepoint.rollback() if failed else self._savepoint.commit())
            self._savepoint = None


class SqlBatch:
    """Turns sharing one transaction; see :class:`dialogs.ports.Batch`."""

    def __init__(self, session: AsyncSession, cipher: FieldCipher, clock: Clock, time_zone: str) -> None:
        self._session = session
        self._cipher = cipher
        self._clock = clock
        self._time_zone = time_zone
        self._lock_rows = session.get_bind().dialect.name == "postgresql"
        self._seen: set[tuple[str, str]] = set()
        self._checked: set[tuple[str, str]] = set()
        self._accounts: dict[tuple[str, str], Account] = {}
        self._conversations: dict[int, Conversation] = {}
        self._keys: list[dict[str, Any]] = []
        self._updates: list[dict[str, Any]] = []
        self._inserts: list[dict[str, Any]] = []
        self._outbox: list[dict[str, Any]] = []
        self._queued: list[Queued] = []
        # The identity map holds objects weakly: a case read twice in a turn would be read twice from the
        # database. Holding what the batch loaded until it ends makes repeated reads free.
        self._held: list[object] = []
        # The listener refers to the list, not to the batch: no reference cycle through the session, so a
        # finished batch is freed at once instead of waiting for a full garbage collection.
        event.listen(session.sync_session, "loaded_as_persistent", _holder(self._held))

    @property
    def queued(self) -> Sequence[Queued]:
        return self._queued

    async def prepare(self, inbounds: Sequence[Inbound]) -> None:
        """Read what every turn of the batch needs, one query per table."""
        pairs = {(i.channel.value, i.key[:MAX_KEY]) for i in inbounds}
        senders = {(i.channel.value, i.user_id.strip()) for i in inbounds}
        self._seen |= await self._known_keys(pairs)
        self._checked |= pairs
        # Each sender's account and conversation in one query (Core rows: no ORM loading on the hot path).
        query = (
            select(_ACCOUNTS, *_CONVERSATION_COLUMNS[1:])
            .outerjoin(_C, _C.c.account_id == _ACCOUNTS.c.id)
            .where(_pairs(_ACCOUNTS.c.channel, _ACCOUNTS.c.channel_user_id, senders))
        )
        if self._lock_rows:
            # Several processes may serve one bot: these row locks keep each person's messages in order,
            # taken in id order so two processes' batches cannot deadlock each other.
            query = query.with_for_update(of=_ACCOUNTS).order_by(_ACCOUNTS.c.id)
        for row in await self._session.execute(query):
            account = _account(row)
            self._accounts[(row.channel, row.channel_user_id)] = account
            if row.flow is not None:
                self._conversations[account.id] = self._conversation(account.id, row)

    @asynccontextmanager
    async def turn(self, inbound: Inbound) -> AsyncIterator[SqlTurn | None]:
        key = (inbound.channel.value, inbound.key[:MAX_KEY])
        if not await self._is_new(key):
            yield None
            return
        now = self._clock.now()
        account = await self._sender(inbound, now)
        actor = Actor(role=account.role, channel=inbound.channel, account_id=account.id)
        turn = SqlTurn(self._session, self._cipher, account, actor, now, self._conversations.get(account.id))
        async with self._finishing(turn, key, system=False):
            yield turn

    @asynccontextmanager
    async def system_turn(self, account_id: int, key: str) -> AsyncIterator[SqlTurn | None]:
        claim = (Channel.SYSTEM.value, key[:MAX_KEY])
        if not await self._is_new(claim):
            yield None
            return
        now = self._clock.now()
        account = accounts.to_account(await accounts.account_row(self._session, account_id))
        await self._load_conversations([account_id])
        turn = SqlTurn(
            self._session, self._cipher, account, Actor.system(), now, self._conversations.get(account_id)
        )
        async with self._finishing(turn, claim, system=True):
            yield turn

    @asynccontextmanager
    async def _finishing(self, turn: SqlTurn, key: tuple[str, str], *, system: bool) -> AsyncIterator[None]:
        """After the turn: its savepoint released (or rolled back), its key, state and replies buffered."""
        try:
            yield
        except BaseException:
            await turn.finish(failed=True)
            raise
        await turn.finish(failed=False)
        self._seen.add(key)
        self._keys.append({"channel": key[0], "key": key[1], "processed_at": turn.now})
        prefix = f"{key[0]}:{key[1]}"
        if turn.saved is not None and system:
            await self._write_system_conversation(turn, turn.saved)
        elif turn.saved is not None:
            self._buffer_conversation(turn, turn.saved)
        for number, message in enumerate(turn.outbox):
            recipient = (
                turn.account if message.account_id == turn.account.id else await _recipient(turn, message)
            )
            outbox_key = message.key or f"{prefix}:{number}"
            document = message_document(message)
            not_before = max(message.not_before or turn.now, turn.now)
            self._outbox.append(
                {
                    "key": outbox_key,
                    "template": message.template,
                    "message_enc": seal_message(self._cipher, document),
                    "account_id": recipient.id,
                    "created_at": turn.now,
                    "not_before": not_before,
                }
            )
            held = not_before if not_before > turn.now else None
            stored = stored_outbound(recipient.id, outbox_key, message.template, document, held)
            self._queued.append(Queued(outbox_key, recipient, stored))

    def _state(self, c: Conversation) -> dict[str, Any]:
        return {
            "flow": c.flow,
            "step": c.step,
            "data_enc": self._cipher.encrypt(_DATA, json.dumps(plain_json(c.data), ensure_ascii=False)),
            "case_id": c.case_id,
            "wrong_answers": c.wrong_answers,
        }

    def _buffer_conversation(self, turn: SqlTurn, c: Conversation) -> None:
        # A person's own message marks the conversation active and resets the abandoned-draft reminder.
        values = {"b_account_id": c.account_id, **self._state(c), "updated_at": turn.now, "reminded_at": None}
        (self._inserts if turn.stored is None else self._updates).append(values)
        self._conversations[c.account_id] = c

    async def _write_system_conversation(self, turn: SqlTurn, c: Conversation) -> None:
        """The system's turn (a reminder) records itself without making the conversation look active."""
        values = {**self._state(c), "reminded_at": turn.now}
        if turn.stored is None:
            await self._session.execute(
                insert(_C).values(account_id=c.account_id, updated_at=turn.now, **values)
            )
        else:
            await self._session.execute(update(_C).where(_C.c.account_id == c.account_id).values(**values))
        self._conversations[c.account_id] = c

    async def write(self) -> None:
        """Write what the turns buffered: one statement per table for the whole batch."""
        session = self._session
        if self._keys:
            await session.execute(insert(_KEYS), self._keys)
        if self._inserts:
            rows = [
                {("account_id" if k == "b_account_id" else k): v for k, v in row.items()}
                for row in self._inserts
            ]
            await session.execute(insert(_C), rows)
        if self._updates:
            statement = update(_C).where(_C.c.account_id == bindparam("b_account_id"))
            await session.execute(statement, self._updates, execution_options={"synchronize_session": False})
        if self._outbox:
            await session.execute(
                insert(_OUTBOX), [{**row, "attempts": 0, "failed": False} for row in self._outbox]
            )
            await outbox_watch.announce(session)

    async def _is_new(self, key: tuple[str, str]) -> bool:
        """Not handled before: neither in this batch nor in the store (prefetched keys need no query)."""
        if key in self._seen:
            return False
        return key in self._checked or not await self._known_keys({key})

    async def _known_keys(self, pairs: set[tuple[str, str]]) -> set[tuple[str, str]]:
        if not pairs:
            return set()
        query = select(_KEYS.c.channel, _KEYS.c.key).where(_pairs(_KEYS.c.channel, _KEYS.c.key, pairs))
        return {(channel, key) for channel, key in (await self._session.execute(query)).all()}

    async def _load_conversations(self, account_ids: list[int]) -> None:
        wanted = [a for a in account_ids if a not in self._conversations]
        if not wanted:
            return
        query = select(*_CONVERSATION_COLUMNS).where(_C.c.account_id.in_(wanted))
        for row in await self._session.execute(query):
            self._conversations[row.account_id] = self._conversation(row.account_id, row)

    async def _sender(self, inbound: Inbound, now: datetime) -> Account:
        pair = (inbound.channel.value, inbound.user_id.strip())
        account = self._accounts.get(pair)
        if account is None:
            row = await accounts.find_account(self._session, inbound.channel, pair[1])
            if row is None:
                locale = pick_locale(inbound.locale_hint)
                row = await accounts.ensure_account(
                    self._session, inbound.channel, inbound.user_id, locale, self._time_zone, now
                )
            account = self._accounts[pair] = accounts.to_account(row)
        return account

    def _conversation(self, account_id: int, row: Any) -> Conversation:
        data = json.loads(self._cipher.decrypt(_DATA, row.data_enc)) if row.data_enc else {}
        return Conversation(account_id, row.flow, row.step, data, row.case_id, row.wrong_answers)


def _account(row: Any) -> Account:
    return Account(
        id=row.id,
        channel=Channel(row.channel),
        channel_user_id=row.channel_user_id,
        role=Role(row.role),
        locale=row.locale,
        time_zone=row.time_zone,
        reachable=row.reachable,
        lender_id=row.lender_id,
        consented_at=row.consented_at,
    )


def _holder(held: list[object]) -> Any:
    def hold(_session: object, instance: object) -> None:
        held.append(instance)

    return hold


def _pairs(first: Any, second: Any, values: set[tuple[str, str]]) -> Any:
    # Grouped by the first column so SQLite uses the two-column index (it scans for row-value IN);
    # one expanding parameter each, so the statement is cached whatever the batch size.
    groups: dict[str, list[str]] = {}
    for a, b in values:
        groups.setdefault(a, []).append(b)
    return or_(*(and_(first == a, second.in_(sorted(bs))) for a, bs in sorted(groups.items())))


async def _recipient(turn: SqlTurn, message: Outbound) -> Account:
    return accounts.to_account(await accounts.account_row(turn.session, message.account_id))


def message_document(message: Outbound) -> dict[str, Any]:
    """What an outbound message is rendered from, as JSON (money as exact strings, dates as ISO text)."""
    return {
        "values": plain_json(message.context),
        "file_name": message.file_name,
        "buttons": [
            {"choice": b.choice, "label": b.label_template, "context": plain_json(b.context)}
            for b in message.buttons
        ],
    }


def seal_message(cipher: FieldCipher, document: dict[str, Any]) -> bytes:
    # The context can be a whole /mydata export or an invite code: never at rest in plain text.
    return cipher.encrypt(_MESSAGE, json.dumps(document, ensure_ascii=False, separators=(",", ":")))


def open_message(cipher: FieldCipher, row: Any) -> dict[str, Any]:
    """An outbox row's document: sealed, or (a row from before 0004 not yet sealed) its plain columns."""
    if row.message_enc is not None:
        return cast(dict[str, Any], json.loads(cipher.decrypt(_MESSAGE, row.message_enc)))
    return legacy_document(row.context, row.buttons)


def legacy_document(context: dict[str, Any] | None, buttons: list[Any] | None) -> dict[str, Any]:
    context = context or {}
    return {
        "values": context.get("values") or {},
        "file_name": context.get("file_name"),
        "buttons": buttons or [],
    }


def stored_outbound(
    account_id: int, key: str, template: str, document: dict[str, Any], not_before: datetime | None = None
) -> Outbound:
    return Outbound(
        account_id=account_id,
        template=template,
        context=document.get("values") or {},
        buttons=tuple(Button(b["choice"], b["label"], b.get("context") or {}) for b in document["buttons"]),
        key=key,
        file_name=document.get("file_name"),
        not_before=not_before,
    )
