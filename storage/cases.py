"""Cases and their append-only log. The only code that writes ``cases.state``."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from dialogs import domain
from dialogs.domain import Actor, Channel, Role
from dialogs.errors import InvalidInput, NotFound, PermissionDenied
from dialogs.lifecycle import INITIAL, CaseState, Mover, check_transition, movers
from storage import models
from storage.accounts import account_row

MAX_DETAILS_BYTES = 8192


def to_case(row: models.Case) -> domain.Case:
    return domain.Case(
        id=row.id,
        borrower_account_id=row.borrower_account_id,
        loan_id=row.loan_id,
        lender_id=row.lender_id,
        state=CaseState(row.state),
        version=row.version,
        created_at=row.created_at,
        updated_at=row.updated_at,
    )


def to_event(row: models.CaseEvent) -> domain.CaseEvent:
    return domain.CaseEvent(
        id=row.id,
        case_id=row.case_id,
        at=row.at,
        kind=row.kind,
        actor_role=Role(row.actor_role) if row.actor_role else None,
        actor_channel=Channel(row.actor_channel),
        actor_account_id=row.actor_account_id,
        from_state=CaseState(row.from_state) if row.from_state else None,
        to_state=CaseState(row.to_state) if row.to_state else None,
        details=dict(row.details),
    )


async def case_row(session: AsyncSession, case_id: int, *, for_update: bool = False) -> models.Case:
    # FOR UPDATE serialises writers of one case on PostgreSQL; SQLite already has one writer at a time.
    locking = for_update and session.get_bind().dialect.name == "postgresql"
    row = await session.get(models.Case, case_id, with_for_update=locking)
    if row is None:
        raise NotFound(f"no case {case_id}")
    return row


def append_event(
    session: AsyncSession,
    case: models.Case,
    kind: str,
    actor: Actor,
    now: datetime,
    details: dict[str, Any] | None = None,
    *,
    from_state: CaseState | None = None,
) -> None:
    """Add one line to the case log; the caller's commit makes it durable with the change it records."""
    details = details or {}
    if len(json.dumps(details, default=str)) > MAX_DETAILS_BYTES:
        raise InvalidInput(f"case event details are limited to {MAX_DETAILS_BYTES} bytes")
    session.add(
        models.CaseEvent(
            case_id=case.id,
            at=now,
            kind=kind,
            actor_account_id=actor.account_id,
            actor_role=actor.role.value if actor.role else None,
            actor_channel=actor.channel.value,
            from_state=from_state.value if from_state else None,
            to_state=case.state,
            details=details,
        )
    )


async def open_case(
    session: AsyncSession, borrower_account_id: int, loan: models.Loan | None, actor: Actor, now: datetime
) -> models.Case:
    borrower = await account_row(session, borrower_account_id)
    if borrower.role != Role.BORROWER.value:
        raise PermissionDenied("only a borrower's account can open a case")
    if actor.role is Role.BORROWER and actor.account_id != borrower.id:
        raise PermissionDenied("a borrower can open a case only for themselves")
    row = models.Case(
        borrower_account_id=borrower.id,
        loan_id=loan.id if loan else None,
        lender_id=loan.lender_id if loan else None,
        state=INITIAL.value,
        version=1,
        created_at=now,
        updated_at=now,
    )
    session.add(row)
    await session.flush()
    append_event(session, row, "opened", actor, now)
    return row


async def transition(
    session: AsyncSession,
    case_id: int,
    target: CaseState,
    actor: Actor,
    now: datetime,
    details: dict[str, Any],
) -> models.Case:
    """Move a case if the lifecycle and the actor allow it; raise (changing nothing) otherwise."""
    row = await case_row(session, case_id, for_update=True)
    current = CaseState(row.state)
    check_transition(case_id, current, target)
    await check_mover(session, row, current, target, actor)
    row.state = target.value
    row.version += 1
    row.updated_at = now
    append_event(session, row, "transition", actor, now, details, from_state=current)
    await session.flush()
    return row


async def check_mover(
    session: AsyncSession, case: models.Case, current: CaseState, target: CaseState, actor: Actor
) -> None:
    """The actor's role may make this move, and a borrower or lender only on a case that is theirs."""
    mover = Mover(actor.role.value) if actor.role else Mover.SYSTEM
    if mover not in movers(current, target):
        raise PermissionDenied(f"a {mover.value} may not move a case from {current.value} to {target.value}")
    await check_party(session, case, actor)


async def check_party(session: AsyncSession, case: models.Case, actor: Actor) -> None:
    """A borrower acts only on their own case, lender staff only on their lender's."""
    if actor.role is Role.BORROWER and actor.account_id != case.borrower_account_id:
        raise PermissionDenied("this case belongs to someone else")
    if actor.role is Role.LENDER:
        if actor.account_id is None:
            raise PermissionDenied("lender staff must act from their own account")
        staff = await account_row(session, actor.account_id)
        if staff.role != Role.LENDER.value or staff.lender_id != case.lender_id:
            raise PermissionDenied("this case is with another lender")
        if not await reached_lender(session, case):
            raise PermissionDenied("the lender sees a case once a mediator approved it")


async def reached_lender(session: AsyncSession, case: models.Case) -> bool:
    """Whether a mediator ever approved the case: only then is it the lender's to see."""
    state = CaseState(case.state)
    if state in _BEFORE_THE_LENDER:
        return False
    if state not in _MAYBE_BEFORE_THE_LENDER:
        return True
    approved = select(models.CaseEvent.id).where(
        models.CaseEvent.case_id == case.id, models.CaseEvent.to_state == CaseState.APPROVED.value
    )
    return await session.scalar(approved.limit(1)) is not None


_BEFORE_THE_LENDER = frozenset({CaseState.DRAFT, CaseState.SUBMITTED, CaseState.REJECTED, CaseState.DISPUTED})
# Cases that may end before or after approval: the case log tells which.
_MAYBE_BEFORE_THE_LENDER = frozenset({CaseState.WITHDRAWN, CaseState.CLOSED})


async def events(session: AsyncSession, case_id: int) -> list[domain.CaseEvent]:
    await case_row(session, case_id)
    query = select(models.CaseEvent).where(models.CaseEvent.case_id == case_id).order_by(models.CaseEvent.id)
    return [to_event(row) for row in await session.scalars(query)]


async def cases_of(session: AsyncSession, borrower_account_id: int) -> list[domain.Case]:
    query = (
        select(models.Case)
        .where(models.Case.borrower_account_id == borrower_account_id)
        .order_by(models.Case.id)
    )
    return [to_case(row) for row in await session.scalars(query)]
