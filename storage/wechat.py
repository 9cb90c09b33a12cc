"""What the WeChat channel keeps in the store, shared by every process that serves the account.

- The access token: one per app id. WeChat invalidates a token soon after another is fetched, so a process
  that finds the stored one expiring soon (or rejected) refreshes it (on PostgreSQL under the row's lock) and
  everyone else reads the new one. Sealed at rest; never logged.
- Followers: when each WeChat user last wrote (customer-service messages are allowed for 48 hours after), and
  the choices last shown to them, as a small JSON document the channel owns (sealed: labels carry amounts).
  ``since_typed`` in that document is set here when the person types, as the channel's rules need it.
- Waiting messages: outbox rows WeChat will not take until the person writes again. They stay unsent in the
  outbox but out of delivery's look at it (:meth:`storage.store.SqlStore.unsent` skips them), and are handed
  back when the person writes (:meth:`WeChatStore.wechat_seen`). Operators see how many wait.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, cast

from sqlalchemy import delete, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from dialogs.domain import Channel
from dialogs.messages import Queued
from dialogs.ports import Clock
from storage import accounts, models
from storage.crypto import FieldCipher
from storage.turns import open_message, stored_outbound
from storage.waiting import WaitingCount, waiting_count

_TOKEN = "wechat_tokens.token"  # noqa: S105 - the sealed column's name, not a secret
_CHOICES = "wechat_followers.choices"
SINCE_TYPED = "since_typed"
WINDOW = timedelta(hours=48)
# A token fetch answers (token, seconds it lives).
FetchToken = Callable[[], Awaitable[tuple[str, int]]]


@dataclass(frozen=True, slots=True)
class Seen:
    """What the channel needs when a person writes: the choices last shown to them (as stored before this
    message), and the messages that waited for them, now handed back for delivery."""

    choices: dict[str, Any] | None
    released: list[Queued] = field(default_factory=list)


class WeChatStore:
    """The WeChat part of :class:`storage.store.SqlStore`; see the module docstring."""

    if TYPE_CHECKING:
        engine: AsyncEngine

        @property
        def cipher(self) -> FieldCipher: ...

        @property
        def clock(self) -> Clock: ...

        def unit(self) -> AbstractAsyncContextManager[AsyncSession]: ...

    # The access token

    async def wechat_token(self, app_id: str) -> tuple[str, datetime] | None:
        """The stored token and when it expires, or None before the first fetch."""
        async with self.unit() as session:
            row = await session.scalar(select(models.WeChatToken).where(models.WeChatToken.app_id == app_id))
            token = self.cipher.decrypt(_TOKEN, row.token_enc) if row is not None else ""
            return (token, row.expires_at) if row is not None and token else None

    async def refresh_wechat_token(
        self, app_id: str, fetch: FetchToken, *, valid_until: datetime, rejected: str | None = None
    ) -> tuple[str, datetime]:
        """A token valid past ``valid_until`` and not ``rejected``: the stored one when it is (another process
        refreshed it meanwhile), else a fetched one, stored. One refresh at a time in a process; on
        PostgreSQL the row is locked meanwhile, so processes refreshing at once fetch once. On SQLite the
        fetch happens outside any transaction (its one writer is not held while WeChat answers): two
        processes may both fetch, and WeChat keeps the older token working for five minutes."""
        await self._token_row(app_id)
        async with self._token_lock():
            if self.engine.dialect.name == "postgresql":
                return await self._refresh_locked(app_id, fetch, valid_until, rejected)
            async with self.unit() as session:
                usable = self._usable(await self._token(session, app_id, lock=False), valid_until, rejected)
            if usable is not None:
                return usable
            token, lives = await fetch()
            async with self.unit() as session:
                return self._store_token(await self._token(session, app_id, lock=False), token, lives)

    async def _refresh_locked(
        self, app_id: str, fetch: FetchToken, valid_until: datetime, rejected: str | None
    ) -> tuple[str, datetime]:
        async with self.unit() as session:
            row = await self._token(session, app_id, lock=True)
            usable = self._usable(row, valid_until, rejected)
            if usable is not None:
                return usable
            token, lives = await fetch()
            return self._store_token(row, token, lives)

    def _usable(
        self, row: models.WeChatToken, valid_until: datetime, rejected: str | None
    ) -> tuple[str, datetime] | None:
        """The stored token when it is valid past ``valid_until`` and not the one WeChat rejected."""
        stored = self.cipher.decrypt(_TOKEN, row.token_enc)
        if stored and row.expires_at > valid_until and stored != rejected:
            return stored, row.expires_at
        return None

    async def _token(self, session: AsyncSession, app_id: str, *, lock: bool) -> models.WeChatToken:
        query = select(models.WeChatToken).where(models.WeChatToken.app_id == app_id)
        return (await session.scalars(query.with_for_update() if lock else query)).one()

    def _store_token(self, row: models.WeChatToken, token: str, lives: int) -> tuple[str, datetime]:
        now = self.clock.now()
        row.token_enc = self.cipher.encrypt(_TOKEN, token)
        row.expires_at, row.refreshed_at = now + timedelta(seconds=lives), now
        return token, row.expires_at

    def _token_lock(self) -> asyncio.Lock:
        """This store's lock for token refreshes (created on first use, in the running loop)."""
        lock = self.__dict__.get("_wechat_token_lock")
        if lock is None:
            lock = self.__dict__["_wechat_token_lock"] = asyncio.Lock()
        return cast(asyncio.Lock, lock)

    async def _token_row(self, app_id: str) -> None:
        """The app's token row exists (empty at first), so that refreshing can lock it."""
        table = models.WeChatToken
        try:
            async with self.unit() as session:
                if await session.scalar(select(table.id).where(table.app_id == app_id)) is None:
                    now = self.clock.now()
                    empty = self.cipher.encrypt(_TOKEN, "")
                    session.add(table(app_id=app_id, token_enc=empty, expires_at=now, refreshed_at=now))
        except IntegrityError:  # another process created it at the same moment: as good
            return

    # Followers: the 48-hour window and the choices shown

    async def wechat_seen(self, openid: str, *, typed: bool = False, subscribed: bool = True) -> Seen:
        """``openid`` wrote (or followed, scanned, tapped the menu) now: their window opens, their account is
        reachable again, and what waited for them is handed back. ``typed``: a line they typed, after which
        the next message's choices replace the ones shown. ``subscribed=False``: they unfollowed; the window
        closes and their account is marked unreachable."""
        try:
            return await self._seen(openid, typed, subscribed)
        except IntegrityError:  # their first message, seen by two processes at once: the row exists now
            return await self._seen(openid, typed, subscribed)

    async def _seen(self, openid: str, typed: bool, subscribed: bool) -> Seen:
        now = self.clock.now()
        async with self.unit() as session:
            row = await self._follower(session, openid, now)
            choices = self._open_choices(row)
            row.last_inbound_at = now if subscribed else None
            row.updated_at = now
            if typed and choices is not None and not choices.get(SINCE_TYPED):
                row.choices_enc = self._seal_choices({**choices, SINCE_TYPED: True})
            await self._set_reachable(session, openid, subscribed)
            released = await self._release(session, openid) if subscribed else []
            return Seen(choices, released)

    async def wechat_last_inbound(self, openid: str) -> datetime | None:
        """When ``openid`` last wrote (None: never, or they unfollowed since)."""
        table = models.WeChatFollower
        async with self.unit() as session:
            return cast(
                datetime | None,
                await session.scalar(select(table.last_inbound_at).where(table.openid == openid)),
            )

    async def wechat_choices(self, openid: str) -> dict[str, Any] | None:
        table = models.WeChatFollower
        async with self.unit() as session:
            row = await session.scalar(select(table).where(table.openid == openid))
            return self._open_choices(row) if row is not None else None

    async def update_wechat_choices(
        self, openid: str, change: Callable[[dict[str, Any] | None], dict[str, Any] | None]
    ) -> dict[str, Any] | None:
        """Replace the choices document with ``change(current)`` (unchanged when it returns the same)."""
        try:
            return await self._update_choices(openid, change)
        except IntegrityError:  # the follower's row was created by another process meanwhile
            return await self._update_choices(openid, change)

    async def _update_choices(
        self, openid: str, change: Callable[[dict[str, Any] | None], dict[str, Any] | None]
    ) -> dict[str, Any] | None:
        now = self.clock.now()
        async with self.unit() as session:
            row = await self._follower(session, openid, now, lock=True)
            current = self._open_choices(row)
            changed = change(current)
            if changed != current:
                row.choices_enc = self._seal_choices(changed) if changed is not None else None
                row.updated_at = now
            return changed

    # Messages waiting for their recipient to write

    async def wait_for_wechat_user(self, openid: str, keys: dict[str, str], *, notified: bool) -> None:
        """Keep the outbox rows ``keys`` (key → template) out of delivery until ``openid`` writes."""
        table = models.WeChatWaiting
        now = self.clock.now()
        async with self.unit() as session:
            known = set(await session.scalars(select(table.outbox_key).where(table.outbox_key.in_(keys))))
            for key, template in keys.items():
                if key not in known:
                    session.add(
                        table(outbox_key=key, openid=openid, template=template, notified=notified, since=now)
                    )

    async def wechat_waiting(self) -> WaitingCount:
        """How many unsent outbox messages wait for their recipient to write, by whether they were told."""
        async with self.unit() as session:
            return await waiting_count(session)

    async def retry_unnotified_wechat(self) -> int:
        """Hand the messages that waited without a template back to delivery's look at the outbox (at
        start-up: the configured templates may have changed); how many."""
        table = models.WeChatWaiting
        async with self.unit() as session:
            done = await session.execute(delete(table).where(table.notified.is_(False)))
        return int(getattr(done, "rowcount", 0) or 0)

    # Helpers

    async def _follower(
        self, session: AsyncSession, openid: str, now: datetime, *, lock: bool = False
    ) -> models.WeChatFollower:
        table = models.WeChatFollower
        query = select(table).where(table.openid == openid)
        if lock and self.engine.dialect.name == "postgresql":
            query = query.with_for_update()
        row = await session.scalar(query)
        if row is None:
            row = table(openid=openid, last_inbound_at=None, choices_enc=None, updated_at=now)
            session.add(row)
        return row

    def _open_choices(self, row: models.WeChatFollower) -> dict[str, Any] | None:
        if row.choices_enc is None:
            return None
        return cast(dict[str, Any], json.loads(self.cipher.decrypt(_CHOICES, row.choices_enc)))

    def _seal_choices(self, choices: dict[str, Any]) -> bytes:
        return self.cipher.encrypt(_CHOICES, json.dumps(choices, ensure_ascii=False, separators=(",", ":")))

    async def _set_reachable(self, session: AsyncSession, openid: str, reachable: bool) -> None:
        table = models.Account
        await session.execute(
            update(table)
            .where(table.channel == Channel.WECHAT.value, table.channel_user_id == openid)
            .where(table.reachable.is_not(reachable))
            .values(reachable=reachable)
        )

    async def _release(self, session: AsyncSession, openid: str) -> list[Queued]:
        """The waiting rows of ``openid`` that are still unsent, their waiting records gone."""
        table, box = models.WeChatWaiting, models.OutboxMessage
        keys = list(await session.scalars(select(table.outbox_key).where(table.openid == openid)))
        if not keys:
            return []
        await session.execute(delete(table).where(table.outbox_key.in_(keys)))
        query = (
            select(box, models.Account)
            .join(models.Account, models.Account.id == box.account_id)
            .where(box.key.in_(keys), box.sent_at.is_(None), box.failed.is_(False))
            .order_by(box.id)
        )
        released = []
        for message, account in (await session.execute(query)).all():
            document = open_message(self.cipher, message)
            outbound = stored_outbound(message.account_id, message.key, message.template, document)
            released.append(Queued(message.key, accounts.to_account(account), outbound))
        return released
