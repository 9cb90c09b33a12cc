"""The SQLAlchemy case store: each public call is one unit of work that commits whole or not at all."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import and_, delete, exists, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from dialogs import domain
from dialogs.domain import Actor, Channel, Hardship, Role
from dialogs.errors import InvalidInput
from dialogs.lifecycle import CaseState
from dialogs.messages import Inbound, Queued
from dialogs.ports import Clock, SystemClock
from dialogs.rules.affordability import Finances
from dialogs.rules.interest import LenderKind
from dialogs.rules.reminders import Claim, ReminderPolicy
from storage import accounts, cases, dead_letters, loans, models, outbox_watch, personal, reminders
from storage.broadcasts import BroadcastStore
from storage.crypto import FieldCipher
from storage.log_store import CaseLogStore
from storage.signing import Signer
from storage.staff import add_invite
from storage.turns import SqlBatch, open_message, stored_outbound
from storage.wechat import WeChatStore

DEFAULT_TIME_ZONE = "Asia/Shanghai"
IMPORT_BATCH = 500
IMPORT_PAUSE = 0.01


class SqlStore(CaseLogStore, BroadcastStore, WeChatStore):
    """Implements :class:`dialogs.ports.CaseStore` on SQLite or PostgreSQL."""

    def __init__(
        self,
        engine: AsyncEngine,
        cipher: FieldCipher,
        *,
        clock: Clock | None = None,
        default_time_zone: str = DEFAULT_TIME_ZONE,
        signer: Signer | None = None,
    ) -> None:
        """``signer`` signs the case log's heads (storage.signing); without it events are numbered and
        queued but not sequenced here."""
        self.engine = engine
        self._cipher = cipher
        self._clock = clock or SystemClock()
        self._time_zone = default_time_zone
        self._sessions = async_sessionmaker(engine, expire_on_commit=False)
        self._start_case_log(signer)
        # SQLite has one writer at a time: queue writers here, in order, instead of letting them poll the
        # busy timeout, where a writer that commits back to back can starve the others into "locked".
        self._writer = asyncio.Lock() if engine.dialect.name == "sqlite" else contextlib.nullcontext()

    @property
    def cipher(self) -> FieldCipher:
        return self._cipher

    @property
    def clock(self) -> Clock:
        return self._clock

    @asynccontextmanager
    async def unit(self) -> AsyncIterator[AsyncSession]:
        """One transaction: commit when the block ends, roll back (changing nothing) when it raises."""
        async with self._writer, self._sessions() as session:
            async with session.begin():
                yield session
            self._committed(session)

    async def close(self) -> None:
        await self._stop_case_log()
        await self.engine.dispose()

    # Turns (the engine's units of work) and the outbox (delivery's queue)

    @asynccontextmanager
    async def batch(self) -> AsyncIterator[SqlBatch]:
        """Turns that commit together when the block ends; see :class:`dialogs.ports.Batch`."""
        # No autoflush: turns flush where they need ids (opening a case), and a query per read that first
        # flushes the whole unit of work cost more than everything else a turn does.
        async with self._writer, self._sessions(autoflush=False) as session:
            async with session.begin():
                batch = SqlBatch(session, self._cipher, self._clock, self._time_zone)
                yield batch
                await batch.write()
            self._committed(session)

    async def stale_drafts(self, idle_since: datetime, limit: int) -> list[int]:
        c, case = models.Conversation, models.Case
        query = (
            select(c.account_id)
            .join(case, case.id == c.case_id)
            .where(case.state == CaseState.DRAFT.value, c.updated_at < idle_since, c.reminded_at.is_(None))
            .limit(limit)
        )
        async with self.unit() as session:
            return list(await session.scalars(query))

    async def expired_drafts(self, created_before: datetime, limit: int) -> list[tuple[int, int]]:
        case = models.Case
        query = (
            select(case.borrower_account_id, case.id)
            .where(case.state == CaseState.DRAFT.value, case.created_at < created_before)
            .limit(limit)
        )
        async with self.unit() as session:
            return [(account_id, case_id) for account_id, case_id in (await session.execute(query)).all()]

    async def overdue_cases(self, now: datetime, limit: int) -> list[tuple[int, int]]:
        """(borrower account, case) of cases waiting on someone whose deadline has passed."""
        case = models.Case
        waiting = [CaseState.APPROVED.value, CaseState.NEGOTIATING.value]
        query = (
            select(case.borrower_account_id, case.id)
            .where(case.deadline_at.is_not(None), case.deadline_at <= now, case.state.in_(waiting))
            .order_by(case.id)
            .limit(limit)
        )
        async with self.unit() as session:
            return [(account_id, case_id) for account_id, case_id in (await session.execute(query)).all()]

    async def supervised_cases(self, due_before: date, limit: int) -> list[tuple[int, int]]:
        """(borrower account, case) of running plans with an instalment unpaid that fell due before
        ``due_before``: the ones a breach check must look at."""
        case, instalment, agreement = models.Case, models.Instalment, models.Agreement
        query = (
            select(case.borrower_account_id, case.id)
            .join(agreement, agreement.case_id == case.id)
            .join(instalment, instalment.agreement_id == agreement.id)
            .where(
                case.state == CaseState.ACTIVE.value,
                instalment.status != "paid",
                instalment.due_date < due_before,
            )
            .group_by(case.borrower_account_id, case.id)
            .order_by(case.id)
            .limit(limit)
        )
        async with self.unit() as session:
            return [(account_id, case_id) for account_id, case_id in (await session.execute(query)).all()]

    # Reminders (dialogs.reminders.ReminderStore): planned from instalments, claimed with a lease

    async def plan_reminders(self, policy: ReminderPolicy, now: datetime) -> int:
        async with self.unit() as session:
            return await reminders.plan_missing(session, policy, now)

    async def claim_reminders(self, now: datetime, lease: timedelta, limit: int) -> list[Claim]:
        async with self.unit() as session:
            return await reminders.claim_due(session, now, lease, limit)

    async def digest_lenders(self) -> list[tuple[int, int]]:
        async with self.unit() as session:
            return await reminders.digest_lenders(session)

    async def unsent(self, limit: int = 500, *, after: int = 0) -> list[Queued]:
        """Committed messages not yet sent and due now, oldest first: what a restart must still send.
        ``after``: only rows newer than that id (what other processes wrote since it was seen)."""
        box = models.OutboxMessage
        query = (
            select(box, models.Account)
            .join(models.Account, models.Account.id == box.account_id)
            .where(box.sent_at.is_(None), box.failed.is_(False), box.not_before <= self._clock.now())
            .where(box.id > after)
            # A WeChat message waiting for its recipient to write is handed back when they do.
            .where(~exists().where(models.WeChatWaiting.outbox_key == box.key))
            .order_by(box.id)
            .limit(limit)
        )
        async with self.unit() as session:
            rows = (await session.execute(query)).all()
            return [self._queued(message, accounts.to_account(account)) for message, account in rows]

    async def latest_outbox_id(self) -> int:
        """The newest outbox row id: a cheap look for what other processes wrote (see outbox_watch)."""
        async with self.unit() as session:  # in turn with this process's writers (SQLite: one at a time)
            return await outbox_watch.latest_id(session)

    def outbox_notices(self, wake: Callable[[], None]) -> AbstractAsyncContextManager[bool]:
        """Calls ``wake`` when another process commits outbox rows, where the database can say so."""
        return outbox_watch.notices(self.engine, wake)

    def _queued(self, row: models.OutboxMessage, recipient: domain.Account) -> Queued:
        document = open_message(self._cipher, row)
        message = stored_outbound(row.account_id, row.key, row.template, document)
        return Queued(key=row.key, recipient=recipient, message=message)

    async def mark_sent(self, keys: Sequence[str]) -> None:
        if keys:
            box = models.OutboxMessage
            async with self.unit() as session:
                await session.execute(update(box).where(box.key.in_(keys)).values(sent_at=self._clock.now()))

    async def mark_failed(self, key: str, error: str, *, give_up: bool) -> None:
        box = models.OutboxMessage
        values = {"attempts": box.attempts + 1, "last_error": error[:500], "failed": give_up}
        async with self.unit() as session:
            await session.execute(update(box).where(box.key == key).values(**values))

    async def prune(self, *, keys_before: datetime, sent_before: datetime) -> tuple[int, int]:
        """Forget idempotency keys older than any redelivery, and sent replies past their use.

        Replies delivery gave up on go after as long as sent ones: they hold the same personal data.
        """
        keys, box = models.InboundKey, models.OutboxMessage
        given_up = and_(box.failed.is_(True), box.created_at < sent_before)
        async with self.unit() as session:
            forgotten = await session.execute(delete(keys).where(keys.processed_at < keys_before))
            sent = await session.execute(delete(box).where(or_(box.sent_at < sent_before, given_up)))
        return int(getattr(forgotten, "rowcount", 0) or 0), int(getattr(sent, "rowcount", 0) or 0)

    # Dead letters (inbound updates given up on)

    async def record_dead_letter(self, inbound: Inbound, error: str) -> bool:
        """Record an update given up on; False when it was recorded already (a redelivery)."""
        async with self.unit() as session:
            return await dead_letters.record(session, inbound, error, self._clock.now())

    async def apologise_for(self, inbound: Inbound) -> Queued:
        """The apology to the sender of a dead letter, committed to the outbox."""
        async with self.unit() as session:
            now = self._clock.now()
            return await dead_letters.apologise(session, self._cipher, inbound, self._time_zone, now)

    async def recent_dead_letters(self, limit: int = 50) -> list[dead_letters.DeadLetterView]:
        async with self.unit() as session:
            return await dead_letters.recent(session, limit)

    async def mark_unreachable(self, account_id: int) -> None:
        async with self.unit() as session:
            row = await accounts.account_row(session, account_id)
            row.reachable = False

    # Lenders and accounts

    async def add_lender(
        self, name: str, *, compliance_contact: str | None = None, kind: LenderKind = LenderKind.PRIVATE
    ) -> domain.Lender:
        async with self.unit() as session:
            return await accounts.add_lender(session, name, compliance_contact, self._clock.now(), kind)

    async def lender_by_name(self, name: str) -> domain.Lender:
        async with self.unit() as session:
            return accounts.to_lender(await accounts.lender_row(session, name))

    async def ensure_account(
        self,
        channel: Channel,
        channel_user_id: str,
        *,
        locale: str | None = None,
        time_zone: str | None = None,
    ) -> domain.Account:
        try:
            return await self._ensure_account(channel, channel_user_id, locale, time_zone)
        except IntegrityError:  # another process created the same account between our read and insert
            return await self._ensure_account(channel, channel_user_id, locale, time_zone)

    async def _ensure_account(
        self, channel: Channel, channel_user_id: str, locale: str | None, time_zone: str | None
    ) -> domain.Account:
        async with self.unit() as session:
            row = await accounts.ensure_account(
                session, channel, channel_user_id, locale, time_zone or self._time_zone, self._clock.now()
            )
            return accounts.to_account(row)

    async def create_invite(self, lender_name: str, valid_for: timedelta) -> str:
        """A one-time code for a lender's staff, issued from the command line."""
        async with self.unit() as session:
            lender = await accounts.lender_row(session, lender_name)
            return await add_invite(session, self._cipher, lender.id, None, self._clock.now(), valid_for)

    async def grant_role(
        self, channel: Channel, channel_user_id: str, role: Role, *, lender_name: str | None = None
    ) -> domain.Account:
        await self.ensure_account(channel, channel_user_id)
        async with self.unit() as session:
            row = await accounts.find_account(session, channel, channel_user_id.strip())
            assert row is not None  # noqa: S101 - created just above; accounts are never deleted
            return accounts.to_account(await accounts.grant_role(session, row, role, lender_name))

    async def account(self, account_id: int) -> domain.Account:
        async with self.unit() as session:
            return accounts.to_account(await accounts.account_row(session, account_id))

    # The loan book

    async def import_loan_book(
        self, lender_name: str, rows: Sequence[domain.LoanRow]
    ) -> domain.ImportSummary:
        """The rows, in transactions of :data:`IMPORT_BATCH`: a large book never holds SQLite's write lock
        for long, and people's turns go between its batches. Rows are checked before any is stored; a book
        interrupted part-way is completed by importing it again (loans are matched by reference)."""
        if not rows:
            raise InvalidInput("the loan book has no loans")
        async with self.unit() as session:
            lender = await accounts.lender_row(session, lender_name)
        created = updated = 0
        for start in range(0, len(rows), IMPORT_BATCH):
            async with self.unit() as session:
                batch = rows[start : start + IMPORT_BATCH]
                done = await loans.import_rows(session, lender.id, batch, self._cipher, self._clock.now())
            created, updated = created + done.created, updated + done.updated
            await asyncio.sleep(IMPORT_PAUSE)  # a moment for another process waiting for the lock
        return domain.ImportSummary(created=created, updated=updated)

    async def find_loans(
        self,
        *,
        id_number: str | None = None,
        phone: str | None = None,
        loan_ref: str | None = None,
        lender_id: int | None = None,
    ) -> list[domain.Loan]:
        async with self.unit() as session:
            return await loans.find(
                session,
                self._cipher,
                id_number=id_number,
                phone=phone,
                loan_ref=loan_ref,
                lender_id=lender_id,
            )

    async def any_loans(self) -> bool:
        async with self.unit() as session:
            return await session.scalar(select(models.Loan.id).limit(1)) is not None

    async def loan(self, loan_id: int) -> domain.Loan:
        async with self.unit() as session:
            return await loans.get(session, self._cipher, loan_id)

    # Cases

    async def open_case(self, borrower_account_id: int, loan_id: int | None, actor: Actor) -> domain.Case:
        async with self.unit() as session:
            loan = await session.get(models.Loan, loan_id) if loan_id is not None else None
            if loan_id is not None and loan is None:
                raise InvalidInput(f"no loan {loan_id}")
            return cases.to_case(
                await cases.open_case(session, borrower_account_id, loan, actor, self._clock.now())
            )

    async def case(self, case_id: int) -> domain.Case:
        async with self.unit() as session:
            return cases.to_case(await cases.case_row(session, case_id))

    async def cases_of(self, borrower_account_id: int) -> list[domain.Case]:
        async with self.unit() as session:
            return await cases.cases_of(session, borrower_account_id)

    async def transition(
        self, case_id: int, target: CaseState, actor: Actor, details: dict[str, Any] | None = None
    ) -> domain.Case:
        async with self.unit() as session:
            row = await cases.transition(session, case_id, target, actor, self._clock.now(), details or {})
            return cases.to_case(row)

    async def events(self, case_id: int) -> list[domain.CaseEvent]:
        async with self.unit() as session:
            return await cases.events(session, case_id)

    # The borrower's situation

    async def save_hardship(self, case_id: int, hardship: Hardship, actor: Actor) -> None:
        async with self.unit() as session:
            await personal.save_hardship(session, case_id, hardship, actor, self._cipher, self._clock.now())

    async def hardship(self, case_id: int) -> Hardship | None:
        async with self.unit() as session:
            return await personal.hardship(session, case_id, self._cipher)

    async def save_finances(self, case_id: int, finances: Finances, actor: Actor) -> None:
        async with self.unit() as session:
            await personal.save_finances(session, case_id, finances, actor, self._cipher, self._clock.now())

    async def finances(self, case_id: int) -> Finances | None:
        async with self.unit() as session:
            return await personal.finances(session, case_id, self._cipher)
