"""Operator broadcasts in the store: segments as SQL, recipients materialised as rows, pages claimed by
senders (``FOR UPDATE SKIP LOCKED`` on PostgreSQL, so two senders never send one twice; each claims only
the channels it can send to), and the senders' heartbeats (which command, which channels). Mixed into
:class:`storage.store.SqlStore`.

Nothing here holds a whole segment in memory: a broadcast's recipients are written by one
``INSERT … SELECT``, counted with ``GROUP BY``, and read back a page at a time. A broadcast that starts
later (``--at``) gets its recipients when it starts: whoever is in the segment then.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Collection, Sequence
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from sqlalchemy import (
    ColumnElement,
    Numeric,
    String,
    and_,
    case,
    cast,
    delete,
    exists,
    func,
    insert,
    literal,
    or_,
    select,
    update,
)
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from dialogs import domain
from dialogs.broadcasts import (
    BroadcastStatus,
    Preview,
    Progress,
    RecipientStatus,
    Segment,
    SegmentKind,
)
from dialogs.domain import Role
from dialogs.errors import NotFound
from dialogs.lifecycle import CaseState
from dialogs.messages import Outbound, Queued
from dialogs.rules.conduct import SendWindow, is_within_window
from storage import accounts, models

if TYPE_CHECKING:
    from dialogs.ports import Clock
    from storage.crypto import FieldCipher

log = logging.getLogger(__name__)

R = models.BroadcastRecipient
B = models.Broadcast
A = models.Account
MAX_ERROR = 500
# Why a recipient was skipped when the broadcast was made (the sender says the same of its own skips).
QUIET_REASON = "opted out (/quiet)"
UNREACHABLE_REASON = "unreachable"
WAITING_REASON = "already waiting in broadcast "
# The channels people talk on: a sender claiming all of them needs no filter on its claims.
PEOPLE_CHANNELS = frozenset({domain.Channel.TELEGRAM, domain.Channel.WECHAT, domain.Channel.TERMINAL})


@dataclass(frozen=True, slots=True)
class SenderReach:
    """A live broadcast sender: the command running it and the channels it claims."""

    process: str
    channels: frozenset[str]


@dataclass(frozen=True, slots=True)
class Target:
    """A claimed recipient: who, whether they asked for quiet, and their case figures for the template."""

    broadcast_id: int
    template: str
    account: domain.Account
    quiet: bool
    attempts: int  # failed attempts before this claim
    figures: dict[str, Any]


@dataclass(frozen=True, slots=True)
class Outcome:
    broadcast_id: int
    account_id: int
    status: RecipientStatus
    not_before: datetime | None = None
    error: str | None = None


def _is_quiet() -> ColumnElement[bool]:
    """Asked for quiet (/quiet): a broadcast is not a message the law requires, so it is not sent."""
    return A.quiet_since.is_not(None)


def _unpaid() -> ColumnElement[bool]:
    # Compared as numbers: SQLite keeps exact amounts as text, where '40.00' < '240.00' is false.
    paid, amount = models.Instalment.paid_amount, models.Instalment.amount
    return cast(paid, Numeric(18, 2)) < cast(amount, Numeric(18, 2))


def _instalment_of_account() -> Any:
    """Instalments of the account's active cases (joined through their agreements)."""
    i, agreement, case = models.Instalment, models.Agreement, models.Case
    return (
        select(i.id)
        .join(agreement, agreement.id == i.agreement_id)
        .join(case, case.id == agreement.case_id)
        .where(case.borrower_account_id == A.id, case.state == CaseState.ACTIVE.value, _unpaid())
    )


async def segment_filter(session: AsyncSession, segment: Segment, today: date) -> ColumnElement[bool]:
    """The accounts a segment names, as a condition on ``accounts``: always borrowers."""
    case = models.Case
    borrowers = A.role == Role.BORROWER.value
    kind = segment.kind
    if kind is SegmentKind.ALL:
        return borrowers
    if kind is SegmentKind.CHANNEL:
        return and_(borrowers, A.channel == segment.value)
    if kind is SegmentKind.STATE:
        of_state = exists().where(case.borrower_account_id == A.id, case.state == segment.value)
        return and_(borrowers, of_state)
    if kind is SegmentKind.LENDER:
        lender = await accounts.lender_row(session, segment.value or "")
        return and_(borrowers, exists().where(case.borrower_account_id == A.id, case.lender_id == lender.id))
    i = models.Instalment
    if kind is SegmentKind.DUE:
        within = and_(i.due_date >= today, i.due_date <= today + timedelta(days=segment.days))
        return and_(borrowers, exists(_instalment_of_account().where(within)))
    return and_(borrowers, exists(_instalment_of_account().where(i.due_date < today)))


def _reachable_now() -> ColumnElement[bool]:
    return and_(A.reachable.is_(True), ~_is_quiet())


WAITING = (RecipientStatus.PENDING.value, RecipientStatus.HELD.value, RecipientStatus.SENDING.value)


def _same_waiting(template: str, other_than: int | None = None) -> Any:
    """The broadcasts of ``template`` in which the account still waits for it (pending, held or being
    sent): giving it again would send the same notice twice."""
    earlier = aliased(R)
    query = (
        select(earlier.broadcast_id)
        .join(B, B.id == earlier.broadcast_id)
        .where(earlier.account_id == A.id, B.template == template, earlier.status.in_(WAITING))
    )
    return query if other_than is None else query.where(B.id != other_than)


def _getting(template: str | None, other_than: int | None = None) -> ColumnElement[bool]:
    """Who a broadcast of ``template`` goes to: reachable, not quiet, not already waiting for it."""
    if template is None:
        return _reachable_now()
    return and_(_reachable_now(), ~exists(_same_waiting(template, other_than)))


class BroadcastStore:
    """The broadcast half of :class:`~storage.store.SqlStore`."""

    if TYPE_CHECKING:
        _clock: Clock
        _cipher: FieldCipher
        _time_zone: str

        def unit(self) -> AbstractAsyncContextManager[AsyncSession]: ...

    def _today(self) -> date:
        return self._clock.now().astimezone(ZoneInfo(self._time_zone)).date()

    # Before: what a segment reaches

    async def broadcast_preview(
        self, segment: Segment, window: SendWindow | None = None, template: str | None = None
    ) -> Preview:
        """Who will get it, counted by channel and language (and how many of them wait for their hours
        now); who is skipped and why (opted out, unreachable, or ``template`` already waiting for them);
        and one recipient's figures per language of those who will get it (for a rendered sample)."""
        async with self.unit() as session:
            return await preview(session, segment, self._clock.now(), self._today(), window, template)

    # Creating and following

    async def create_broadcast(
        self,
        segment: Segment,
        template: str,
        *,
        scheduled_at: datetime | None = None,
        created_by: int | None = None,
    ) -> int:
        """The broadcast and every recipient row, in one transaction (an ``INSERT … SELECT``)."""
        async with self.unit() as session:
            now, today = self._clock.now(), self._today()
            return await create(session, segment, template, now, today, scheduled_at, created_by)

    async def broadcast_progress(self, broadcast_id: int) -> Progress:
        async with self.unit() as session:
            return await progress(session, broadcast_id)

    async def latest_broadcasts(self, limit: int = 5) -> list[int]:
        async with self.unit() as session:
            return [int(i) for i in await session.scalars(select(B.id).order_by(B.id.desc()).limit(limit))]

    # Senders: heartbeats, claims and outcomes

    async def beat(
        self, sender: str, process: str = "serve", channels: Collection[str] = PEOPLE_CHANNELS
    ) -> None:
        """This sender is alive (and about to claim): its row says so, with the time, the command running
        it and the channels it claims."""
        now = self._clock.now()
        reach = ",".join(sorted(channels))
        async with self.unit() as session:
            done = await session.execute(
                update(models.BroadcastSender)
                .where(models.BroadcastSender.id == sender)
                .values(beat_at=now, process=process, channels=reach)
            )
            if not getattr(done, "rowcount", 0):
                session.add(models.BroadcastSender(id=sender, beat_at=now, process=process, channels=reach))

    async def forget_sender(self, sender: str) -> None:
        """A sender stopping cleanly: what it claimed and did not send goes back to pending at once."""
        async with self.unit() as session:
            await session.execute(_release(R.claimed_by == sender))
            await session.execute(delete(models.BroadcastSender).where(models.BroadcastSender.id == sender))

    async def broadcast_senders(self) -> list[str]:
        async with self.unit() as session:
            return [str(i) for i in await session.scalars(select(models.BroadcastSender.id))]

    async def live_senders(self, within: timedelta) -> list[SenderReach]:
        """The senders that beat in the last ``within`` (the CLI: who will send this, to which channels?)."""
        since = self._clock.now() - within
        sender = models.BroadcastSender
        query = select(sender.process, sender.channels).where(sender.beat_at >= since).order_by(sender.id)
        async with self.unit() as session:
            rows = (await session.execute(query)).all()
        return [
            SenderReach(str(process), frozenset(filter(None, str(reach).split(","))))
            for process, reach in rows
        ]

    async def to_go_by_channel(self, broadcast_id: int) -> dict[str, int]:
        """A broadcast's recipients still to be sent now (pending or being sent), counted by channel."""
        open_ = [RecipientStatus.PENDING.value, RecipientStatus.SENDING.value]
        query = (
            select(A.channel, func.count())
            .join(R, R.account_id == A.id)
            .where(R.broadcast_id == broadcast_id, R.status.in_(open_))
            .group_by(A.channel)
        )
        async with self.unit() as session:
            return {str(channel): int(n) for channel, n in (await session.execute(query)).all()}

    async def release_lost_claims(self, within: timedelta, gone: Sequence[str] = ()) -> int:
        """Recipients claimed by senders that stopped beating (killed), or that are known to be ``gone``
        (a process of this host that no longer exists): pending again, for anyone."""
        since = self._clock.now() - within
        sender = models.BroadcastSender
        alive = select(sender.id).where(sender.beat_at >= since, sender.id.not_in(list(gone)))
        # Through the running broadcasts, so the (broadcast, status) index finds the claims: a scan of
        # every recipient ever written would run each second, and on SQLite it holds up the sending.
        running = select(B.id).where(B.status == BroadcastStatus.RUNNING.value)
        lost = and_(
            R.broadcast_id.in_(running),
            R.status == RecipientStatus.SENDING.value,
            or_(R.claimed_by.is_(None), R.claimed_by.not_in(alive)),
        )
        async with self.unit() as session:
            released = await session.execute(_release(lost))
            await session.execute(
                delete(sender).where(or_(sender.beat_at < since, sender.id.in_(list(gone))))
            )
        return int(getattr(released, "rowcount", 0) or 0)

    async def due_broadcasts(self) -> list[int]:
        """Broadcasts with recipients to send now. A scheduled one whose time has come starts running and
        gets its recipients in the same transaction: whoever is in its segment now (the one process whose
        update moved it writes them; another one's update finds it running already)."""
        now, today = self._clock.now(), self._today()
        async with self.unit() as session:
            started = await session.scalars(
                update(B)
                .where(B.status == BroadcastStatus.SCHEDULED.value, B.scheduled_at <= now)
                .values(status=BroadcastStatus.RUNNING.value, started_at=now)
                .returning(B.id)
            )
            for broadcast_id in list(started):
                await _materialise_started(session, broadcast_id, today)
            query = select(B.id).where(B.status == BroadcastStatus.RUNNING.value).order_by(B.id)
            return [int(i) for i in await session.scalars(query)]

    async def claim_recipients(
        self, broadcast_id: int, sender: str, limit: int, channels: Collection[str] | None = None
    ) -> list[Target]:
        """The next page of a broadcast's recipients due now, claimed for ``sender``: pending first, then
        held ones whose hours have opened; only those on ``channels`` (``None``: any), so a process never
        takes a recipient it cannot send to. Rows another process is claiming are skipped, not waited for."""
        now = self._clock.now()
        reach = None if channels is None or set(channels) >= PEOPLE_CHANNELS else sorted(channels)
        async with self.unit() as session:
            ids = await self._claimable(session, broadcast_id, RecipientStatus.PENDING, limit, now, reach)
            if len(ids) < limit:
                ids += await self._claimable(
                    session, broadcast_id, RecipientStatus.HELD, limit - len(ids), now, reach
                )
            if not ids:
                return []
            await session.execute(
                update(R)
                .where(R.broadcast_id == broadcast_id, R.account_id.in_(ids))
                .values(status=RecipientStatus.SENDING.value, claimed_by=sender)
            )
            template = str(await session.scalar(select(B.template).where(B.id == broadcast_id)))
            mine = and_(R.account_id == A.id, R.broadcast_id == broadcast_id)
            query = select(A, A.quiet_since, R.attempts).join(R, mine)
            rows = (await session.execute(query.where(A.id.in_(ids)).order_by(A.id))).all()
            figures = await recipient_figures(session, ids, self._today())
        return [
            Target(
                broadcast_id, template, accounts.to_account(row), since is not None, attempts, figures[row.id]
            )
            for row, since, attempts in rows
        ]

    async def _claimable(
        self,
        session: AsyncSession,
        broadcast_id: int,
        status: RecipientStatus,
        limit: int,
        now: datetime,
        channels: Sequence[str] | None,
    ) -> list[int]:
        query = (
            select(R.account_id)
            .where(R.broadcast_id == broadcast_id, R.status == status.value)
            .order_by(R.account_id)
            .limit(limit)
        )
        if status is RecipientStatus.HELD:
            query = query.where(R.not_before <= now)
        if channels is not None:  # joined, not a subquery: read in account order, stopped at the limit
            query = query.join(A, A.id == R.account_id).where(A.channel.in_(channels))
        if session.get_bind().dialect.name == "postgresql":
            query = query.with_for_update(skip_locked=True, of=R)  # the recipients' rows, not the accounts'
        return [int(i) for i in await session.scalars(query)]

    async def record_outcomes(self, outcomes: Sequence[Outcome]) -> None:
        """What happened to claimed recipients, in one transaction: one statement per kind of outcome."""
        if not outcomes:
            return
        now = self._clock.now()
        groups: dict[tuple[int, RecipientStatus, datetime | None, str | None], list[int]] = defaultdict(list)
        for outcome in outcomes:
            key = (outcome.broadcast_id, outcome.status, outcome.not_before, outcome.error)
            groups[key].append(outcome.account_id)
        async with self.unit() as session:
            for (broadcast_id, status, not_before, error), ids in groups.items():
                values: dict[str, Any] = {"status": status.value, "claimed_by": None}
                if status is RecipientStatus.SENT:
                    values["sent_at"] = now
                if status is RecipientStatus.HELD:
                    values["not_before"] = not_before
                if status is RecipientStatus.PENDING:  # a failed attempt, to be tried again
                    values["attempts"] = R.attempts + 1
                if error is not None:
                    values["error"] = error[:MAX_ERROR]
                await session.execute(
                    update(R).where(R.broadcast_id == broadcast_id, R.account_id.in_(ids)).values(**values)
                )

    async def finish_broadcasts(self) -> list[tuple[int, int | None]]:
        """Running broadcasts with nothing left to send (held ones included) become done:
        (id, who created it) of each, so its creator can be told."""
        now = self._clock.now()
        open_ = [RecipientStatus.PENDING.value, RecipientStatus.SENDING.value, RecipientStatus.HELD.value]
        left = exists().where(R.broadcast_id == B.id, R.status.in_(open_))
        async with self.unit() as session:
            query = select(B.id, B.created_by_account_id).where(
                B.status == BroadcastStatus.RUNNING.value, ~left
            )
            finished = [
                (int(i), int(by) if by is not None else None)
                for i, by in (await session.execute(query)).all()
            ]
            if finished:
                await session.execute(
                    update(B)
                    .where(B.id.in_([i for i, _ in finished]))
                    .values(status=BroadcastStatus.DONE.value, finished_at=now)
                )
        return finished

    async def queue_message(self, message: Outbound) -> Queued | None:
        """A message committed to the outbox (once per key): how a broadcast reaches a channel this
        process does not send on (the terminal), and how its creator hears it finished."""
        # Here, not at the top: turns mix BroadcastWork in, so this module loads before them.
        from storage.turns import message_document, seal_message, stored_outbound  # noqa: PLC0415

        now = self._clock.now()
        async with self.unit() as session:
            if await session.scalar(
                select(models.OutboxMessage.id).where(models.OutboxMessage.key == message.key)
            ):
                return None
            document = message_document(message)
            session.add(
                models.OutboxMessage(
                    key=message.key,
                    template=message.template,
                    message_enc=seal_message(self._cipher, document),
                    account_id=message.account_id,
                    created_at=now,
                    not_before=now,
                )
            )
            account = await accounts.account_row(session, message.account_id)
            await session.flush()
            recipient = accounts.to_account(account)
        return Queued(
            message.key,
            recipient,
            stored_outbound(message.account_id, message.key, message.template, document),
        )


def _release(which: ColumnElement[bool]) -> Any:
    return update(R).where(which).values(status=RecipientStatus.PENDING.value, claimed_by=None)


async def recipient_figures(
    session: AsyncSession, account_ids: Sequence[int], today: date
) -> dict[int, dict[str, Any]]:
    """Each account's case figures for a broadcast template: its latest case (id, state, lender) and that
    case's next unpaid instalment (number, due date, amount still due, whether it is overdue)."""
    figures: dict[int, dict[str, Any]] = {
        i: {"case_id": None, "case_state": None, "lender": None, "instalment": None} for i in account_ids
    }
    if not account_ids:
        return figures
    case, lender = models.Case, models.Lender
    latest = (
        select(case.borrower_account_id, case.id, case.state, lender.name)
        .outerjoin(lender, lender.id == case.lender_id)
        .where(case.borrower_account_id.in_(account_ids))
        .order_by(case.id)
    )
    case_of: dict[int, int] = {}
    for account_id, case_id, state, lender_name in (await session.execute(latest)).all():
        figures[account_id].update(case_id=case_id, case_state=state, lender=lender_name)
        case_of[case_id] = account_id
    if not case_of:
        return figures
    i, agreement = models.Instalment, models.Agreement
    unpaid = (
        select(agreement.case_id, i.number, i.due_date, i.amount, i.paid_amount)
        .join(agreement, agreement.id == i.agreement_id)
        .where(agreement.case_id.in_(list(case_of)), _unpaid())
        .order_by(i.due_date.desc(), i.number.desc())  # the last one written per case is the earliest
    )
    for case_id, number, due, amount, paid in (await session.execute(unpaid)).all():
        figures[case_of[case_id]]["instalment"] = {
            "number": int(number),
            "due_date": due.isoformat(),
            "amount": str(amount - paid),
            "overdue": due < today,
        }
    return figures


async def preview(
    session: AsyncSession,
    segment: Segment,
    now: datetime,
    today: date,
    window: SendWindow | None,
    template: str | None = None,
) -> Preview:
    chosen = await segment_filter(session, segment, today)
    getting = and_(chosen, _getting(template))
    total = int(await session.scalar(select(func.count()).where(chosen)) or 0)
    groups = select(A.channel, A.locale, func.count()).where(getting).group_by(A.channel, A.locale)
    by = {(str(c), str(lo)): int(n) for c, lo, n in (await session.execute(groups)).all()}
    zones = select(A.time_zone, func.count()).where(getting).group_by(A.time_zone)
    outside = sum(
        int(n)
        for zone, n in (await session.execute(zones)).all()
        if not is_within_window(now, str(zone), window)
    )
    quiet = int(await session.scalar(select(func.count()).where(chosen, _is_quiet())) or 0)
    gone = select(func.count()).where(chosen, A.reachable.is_(False), ~_is_quiet())
    unreachable = int(await session.scalar(gone) or 0)
    waiting, waiting_in = 0, tuple[int, ...]()
    if template is not None:
        already = and_(chosen, _reachable_now(), exists(_same_waiting(template)))
        waiting = int(await session.scalar(select(func.count()).where(already)) or 0)
        earlier = aliased(R)
        which = (
            select(earlier.broadcast_id)
            .distinct()
            .join(B, B.id == earlier.broadcast_id)
            .join(A, A.id == earlier.account_id)
            .where(already, B.template == template, earlier.status.in_(WAITING))
            .order_by(earlier.broadcast_id)
        )
        waiting_in = tuple(int(i) for i in await session.scalars(which))
    firsts = select(func.min(A.id)).where(getting).group_by(A.locale)
    sample_ids = [int(i) for i in (await session.scalars(firsts)).all()]
    figures = await recipient_figures(session, sample_ids, today)
    rows = (await session.scalars(select(A).where(A.id.in_(sample_ids)))).all()
    samples = {row.locale: figures[row.id] for row in rows}
    return Preview(total, by, outside, quiet, unreachable, samples, waiting, waiting_in)


async def create(
    session: AsyncSession,
    segment: Segment,
    template: str,
    now: datetime,
    today: date,
    scheduled_at: datetime | None,
    created_by: int | None,
) -> int:
    """The broadcast; its recipients too when it starts now (a later one gets them when it starts)."""
    status = BroadcastStatus.SCHEDULED if scheduled_at and scheduled_at > now else BroadcastStatus.RUNNING
    chosen = await segment_filter(session, segment, today)  # checked now: an unknown lender is said now
    row = B(
        created_by_account_id=created_by,
        template=template,
        context={},
        segment=segment.to_json(),
        status=status.value,
        created_at=now,
        scheduled_at=scheduled_at,
        started_at=now if status is BroadcastStatus.RUNNING else None,
    )
    session.add(row)
    await session.flush()
    if status is BroadcastStatus.RUNNING:
        await _materialise(session, row.id, chosen, template)
    return row.id


async def _materialise(
    session: AsyncSession, broadcast_id: int, chosen: ColumnElement[bool], template: str
) -> None:
    """Every account the segment names, as a recipient row (one ``INSERT … SELECT``): pending, or skipped
    at once, with the reason, when the preview said so (opted out, unreachable, or the same template
    already waiting for them in another broadcast, so nobody is sent one notice twice). The sender checks
    quiet and reach again when each one's turn comes."""
    skipped = RecipientStatus.SKIPPED.value
    earlier = _same_waiting(template, broadcast_id)
    first = earlier.with_only_columns(func.min(earlier.selected_columns[0]))
    status = case(
        (_is_quiet(), literal(skipped)),
        (A.reachable.is_(False), literal(skipped)),
        (exists(earlier), literal(skipped)),
        else_=literal(RecipientStatus.PENDING.value),
    )
    reason = case(
        (_is_quiet(), literal(QUIET_REASON)),
        (A.reachable.is_(False), literal(UNREACHABLE_REASON)),
        (exists(earlier), literal(WAITING_REASON, String).concat(cast(first.scalar_subquery(), String))),
        else_=None,
    )
    columns = ["broadcast_id", "account_id", "status", "attempts", "error"]
    recipients = select(literal(broadcast_id), A.id, status, literal(0), reason).where(chosen)
    await session.execute(insert(R).from_select(columns, recipients))


async def _materialise_started(session: AsyncSession, broadcast_id: int, today: date) -> None:
    """A scheduled broadcast starting: its segment as it is today. A lender removed since its creation
    leaves it with nobody to send to (it finishes at once, and says so in the log)."""
    stored, template = (
        await session.execute(select(B.segment, B.template).where(B.id == broadcast_id))
    ).one()
    segment = Segment.from_json(stored or {})
    try:
        chosen = await segment_filter(session, segment, today)
    except NotFound:
        log.warning("broadcast %s: its segment %s names nobody now", broadcast_id, segment.text())
        return
    await _materialise(session, broadcast_id, chosen, str(template))


async def progress(session: AsyncSession, broadcast_id: int) -> Progress:
    row = await session.get(B, broadcast_id)
    if row is None:
        raise NotFound(f"there is no broadcast {broadcast_id}")
    counts = select(R.status, func.count()).where(R.broadcast_id == broadcast_id).group_by(R.status)
    found = {str(status): int(n) for status, n in (await session.execute(counts)).all()}
    return Progress(
        id=row.id,
        template=row.template,
        segment=Segment.from_json(row.segment).text(),
        status=BroadcastStatus(row.status),
        scheduled_at=row.scheduled_at,
        counts=found,
    )


class BroadcastWork:
    """A mediator's broadcast from chat, inside their turn (the turn's session; mediators only)."""

    if TYPE_CHECKING:
        session: AsyncSession
        account: domain.Account
        now: datetime

        def require_operator(self) -> None: ...

        async def writing(self) -> None: ...

    def _local_today(self) -> date:
        return self.now.astimezone(ZoneInfo(self.account.time_zone)).date()

    async def broadcast_preview(self, segment: Segment, template: str | None = None) -> Preview:
        self.require_operator()
        return await preview(self.session, segment, self.now, self._local_today(), None, template)

    async def create_broadcast(self, segment: Segment, template: str) -> int:
        self.require_operator()
        await self.writing()
        return await create(
            self.session, segment, template, self.now, self._local_today(), None, self.account.id
        )

    async def broadcast_progress(self, broadcast_id: int) -> Progress:
        self.require_operator()
        return await progress(self.session, broadcast_id)
