"""Reminder rows: planned from instalments, claimed by one scheduler at a time, finished by a system turn.

Planning is derived from the rows themselves: any unpaid instalment of an active case that has no reminder
rows for its current due date gets them. The turn activating an agreement (or moving an instalment to the
end of the plan) plans its case's rows itself; the scheduler's planning catches up anything else.
Keys name the instalment, the date and the offset, so two schedulers planning at once insert each row once.

Claiming takes a lease (``claimed_until``) on due rows, on PostgreSQL with ``FOR UPDATE SKIP LOCKED`` so a
second scheduler skips what the first is taking. The lease only saves work: the system turn that sends a
reminder is keyed by the row and its due moment, and the key, the outbox row and the row's new status
commit together, so a reminder is sent once even if a lease runs out under a slow scheduler.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import exists, func, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from dialogs import domain
from dialogs.collection import COLLECTION_TEMPLATES
from dialogs.domain import PaymentStatus, Role
from dialogs.errors import NotFound, PermissionDenied
from dialogs.lifecycle import CaseState
from dialogs.rules.reminders import Claim, Digest, ReminderDue, ReminderPolicy
from storage import models
from storage.case_work import CaseWork
from storage.staff import staff_accounts

PENDING, SENT, CANCELLED_STATUS = "pending", "sent", "cancelled"
INSTALMENT = "instalment"
PLAN_LIMIT = 500
SAME_DAY = timedelta(hours=20)  # less than a day: the next day's reminder, sent a minute late, still goes


def reminder_key(instalment_id: int, planned_for: date, offset: int) -> str:
    return f"i{instalment_id}:{planned_for.isoformat()}:{offset:+d}"


async def plan_missing(
    session: AsyncSession, policy: ReminderPolicy, now: datetime, only_case: int | None = None
) -> int:
    """Reminder rows for unpaid instalments of active cases (of ``only_case``, when given) that have
    none for their current due date.

    An offset whose moment was already past when the instalment got its date (the agreement's
    confirmation, or now for one moved since) is written cancelled ("too_late"): it is never sent, and
    the instalment counts as planned.
    """
    inst, agreement, case, account = models.Instalment, models.Agreement, models.Case, models.Account
    reminder = models.Reminder
    planned = exists().where(reminder.instalment_id == inst.id, reminder.planned_for == inst.due_date)
    query = (
        select(inst, case.id, case.borrower_account_id, account.time_zone, agreement)
        .join(agreement, agreement.id == inst.agreement_id)
        .join(case, case.id == agreement.case_id)
        .join(account, account.id == case.borrower_account_id)
        .where(case.state == CaseState.ACTIVE.value, inst.status != "paid", ~planned)
        .order_by(inst.id)
        .limit(PLAN_LIMIT)
    )
    if only_case is not None:
        query = query.where(case.id == only_case)
    rows = (await session.execute(query)).all()
    values: list[dict[str, Any]] = []
    essential = policy.essential_offset
    for row, case_id, account_id, time_zone, made in rows:
        confirmed = [at for at in (made.borrower_confirmed_at, made.lender_confirmed_at) if at]
        since = now if row.moved or not confirmed else max(confirmed)
        for offset in policy.offsets:
            due_at = policy.moment(row.due_date, offset, time_zone)
            late = due_at < since
            values.append(
                {
                    "key": reminder_key(row.id, row.due_date, offset),
                    "account_id": account_id,
                    "case_id": case_id,
                    "instalment_id": row.id,
                    "kind": INSTALMENT,
                    "due_at": due_at,
                    "status": CANCELLED_STATUS if late else PENDING,
                    "outcome": "too_late" if late else None,
                    "planned_for": row.due_date,
                    "offset_days": offset,
                    "essential": offset == essential,
                }
            )
    if values:
        await session.execute(_insert_new(session, values))
    return len(rows)


def _insert_new(session: AsyncSession, values: list[dict[str, Any]]) -> Any:
    """INSERT … ON CONFLICT (key) DO NOTHING, on either database."""
    dialect = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
    return dialect.insert(models.Reminder).values(values).on_conflict_do_nothing(index_elements=["key"])


async def claim_due(session: AsyncSession, now: datetime, lease: timedelta, limit: int) -> list[Claim]:
    """Lease due reminders to this scheduler; earlier ones of an instalment a later one overtook (after
    downtime) are cancelled as superseded: the borrower hears once, what is true now."""
    reminder = models.Reminder
    query = (
        select(reminder)
        .where(
            reminder.status == PENDING,
            reminder.due_at <= now,
            or_(reminder.claimed_until.is_(None), reminder.claimed_until < now),
        )
        .order_by(reminder.due_at, reminder.id)
        .limit(limit)
    )
    if session.get_bind().dialect.name == "postgresql":
        query = query.with_for_update(skip_locked=True)
    rows = list(await session.scalars(query))
    latest: dict[int, models.Reminder] = {}
    for row in rows:
        if row.instalment_id is not None:
            latest[row.instalment_id] = row  # ordered by due time: the last one wins
    claims = []
    for row in rows:
        if row.instalment_id is not None and latest[row.instalment_id] is not row:
            row.status, row.outcome, row.claimed_until = CANCELLED_STATUS, "superseded", None
            continue
        row.claimed_until = now + lease
        claims.append(Claim(row.id, row.account_id, row.due_at))
    await session.flush()
    return claims


async def digest_lenders(session: AsyncSession) -> list[tuple[int, int]]:
    """(lender, one of its staff accounts) for every lender with staff: whose system turn sends the digest."""
    account = models.Account
    query = (
        select(account.lender_id, func.min(account.id))
        .where(account.role == Role.LENDER.value, account.lender_id.is_not(None))
        .group_by(account.lender_id)
        .order_by(account.lender_id)
    )
    rows = (await session.execute(query)).all()
    return [(int(lender), int(first)) for lender, first in rows if lender is not None]


class ReminderWork(CaseWork):
    """The reminder part of a (system) turn: read a due reminder, finish or defer it, count collection
    contact, the opt-out, and a lender's day for the digest."""

    async def plan_reminders(self, case_id: int, policy: ReminderPolicy) -> int:
        """The case's reminder rows, in this turn (the one activating its agreement): committed with the
        instalments, so they exist from the moment the plan runs. The scheduler's planning is the catch-up
        for agreements activated before this was so."""
        await self.writing()
        await self._own_case(case_id)
        return await plan_missing(self.session, policy, self.now, case_id)

    async def reminder_due(self, reminder_id: int) -> ReminderDue | None:
        reminder, inst = models.Reminder, models.Instalment
        row = await self.session.get(reminder, reminder_id)
        if row is None or row.case_id is None or row.instalment_id is None:
            return None
        case = await self._own_case(row.case_id)
        instalment = await self.session.get(inst, row.instalment_id)
        # Locked: two schedulers' turns for one borrower count the day's messages one after the other.
        borrower = await self.session.get(models.Account, row.account_id, with_for_update=True)
        loan = await self.session.get(models.Loan, case.loan_id) if case.loan_id else None
        lender = await self.session.get(models.Lender, case.lender_id) if case.lender_id else None
        if instalment is None or borrower is None:
            return None
        left = instalment.amount - instalment.paid_amount
        payment = models.Payment
        waiting = select(payment.amount).where(
            payment.case_id == case.id,
            payment.status.in_([PaymentStatus.REPORTED.value, PaymentStatus.DISPUTED.value]),
        )
        # Still owed up to this instalment, earlier ones first (confirmed payments are applied in that order).
        owed = select(inst.amount, inst.paid_amount).where(
            inst.agreement_id == instalment.agreement_id,
            inst.due_date <= instalment.due_date,
            inst.status != "paid",
        )
        # Summed here, exactly: SQLite would sum the stored text as floating point.
        reported = sum(await self.session.scalars(waiting), Decimal(0))
        owed_through = sum((a - p for a, p in (await self.session.execute(owed)).all()), Decimal(0))
        return ReminderDue(
            id=row.id,
            status=row.status,
            due_at=row.due_at,
            case_id=case.id,
            case_state=case.state,
            instalment_number=instalment.number,
            due_date=instalment.due_date,
            planned_for=row.planned_for,
            amount_left=left,
            paid=instalment.status == "paid",
            essential=row.essential,
            lender=lender.name if lender else "",
            loan_ref=loan.loan_ref if loan else "",
            quiet=borrower.quiet_since is not None,
            payment_waiting=reported > 0 and reported >= owed_through,
            reachable=borrower.reachable,
        )

    async def finish_reminder(self, reminder_id: int, outcome: str) -> None:
        """Sent (``outcome`` "sent") or cancelled with the reason; either way never sent again. A reminder
        sent cancels the same instalment's next one if it would follow within hours (one held overnight
        or past a full day): the borrower hears about an instalment at most once a day."""
        await self.writing()
        sent = outcome == SENT
        if sent:
            reminder = models.Reminder
            instalment = select(reminder.instalment_id).where(reminder.id == reminder_id).scalar_subquery()
            await self.session.execute(
                update(reminder)
                .where(
                    reminder.instalment_id == instalment,
                    reminder.id != reminder_id,
                    reminder.status == PENDING,
                    reminder.due_at < self.now + SAME_DAY,
                )
                .values(status=CANCELLED_STATUS, outcome="superseded", claimed_until=None)
            )
        await self.session.execute(
            update(models.Reminder)
            .where(models.Reminder.id == reminder_id)
            .values(
                status=SENT if sent else CANCELLED_STATUS,
                outcome=outcome[:32],
                sent_at=self.now if sent else None,
                claimed_until=None,
            )
        )

    async def defer_reminder(self, reminder_id: int, until: datetime) -> None:
        """Due again at ``until`` (the borrower's window opens, or a day with room under the cap)."""
        await self.writing()
        await self.session.execute(
            update(models.Reminder)
            .where(models.Reminder.id == reminder_id)
            .values(due_at=until, claimed_until=None)
        )

    async def collection_messages(self, case_id: int, start: datetime, end: datetime) -> int:
        case = await self._own_case(case_id)
        box = models.OutboxMessage
        query = select(func.count()).where(
            box.account_id == case.borrower_account_id,
            box.template.in_(sorted(COLLECTION_TEMPLATES)),
            box.not_before >= start,
            box.not_before < end,
            box.failed.is_(False),  # cancelled held words, and sends given up on, never reached them
        )
        return int(await self.session.scalar(query) or 0)

    async def set_quiet(self, quiet: bool) -> datetime | None:
        """Opt the sender out of (or back into) non-essential messages; returns since when they are out."""
        await self.writing()
        row = await self.session.get(models.Account, self.account.id)
        if row is None:
            raise NotFound(f"no account {self.account.id}")
        row.quiet_since = (row.quiet_since or self.now) if quiet else None
        return row.quiet_since

    async def lender_day(self, lender_id: int, day: date, start: datetime, end: datetime) -> Digest:
        """What happened on a lender's cases on the local ``day``, ``[start, end)`` in UTC: payments
        reported and confirmed, instalments due that day still unpaid, agreements that ended in default."""
        if self.actor.role is not None and (
            self.actor.role is not Role.LENDER or self.account.lender_id != lender_id
        ):
            raise NotFound("no such lender among yours")
        case, payment, inst, agreement = models.Case, models.Payment, models.Instalment, models.Agreement
        mine = case.lender_id == lender_id
        reported = select(payment.case_id).join(case, case.id == payment.case_id)
        reported = reported.where(mine, payment.reported_at >= start, payment.reported_at < end)
        confirmed = select(payment.case_id).join(case, case.id == payment.case_id)
        confirmed = confirmed.where(mine, payment.confirmed_at >= start, payment.confirmed_at < end)
        missed = (
            select(agreement.case_id)
            .join(inst, inst.agreement_id == agreement.id)
            .join(case, case.id == agreement.case_id)
            .where(mine, case.state == CaseState.ACTIVE.value, inst.due_date == day)
            .where(inst.status != "paid")
        )
        event = models.CaseEvent
        defaulted = select(event.case_id).join(case, case.id == event.case_id)
        defaulted = defaulted.where(
            mine, event.to_state == CaseState.DEFAULTED.value, event.at >= start, event.at < end
        )
        waiting = select(payment.case_id).join(case, case.id == payment.case_id)
        waiting = waiting.where(mine, payment.status == PaymentStatus.REPORTED.value)
        return Digest(
            waiting=await self._case_ids(waiting),
            reported=await self._case_ids(reported),
            confirmed=await self._case_ids(confirmed),
            missed=await self._case_ids(missed),
            defaulted=await self._case_ids(defaulted),
        )

    async def digest_staff(self, lender_id: int) -> list[domain.Account]:
        if self.actor.role is not None:
            raise PermissionDenied("only the system sends the digest")
        return await staff_accounts(self.session, lender_id)

    async def _case_ids(self, query: Any) -> Sequence[int]:
        return sorted({int(value) for value in await self.session.scalars(query)})
