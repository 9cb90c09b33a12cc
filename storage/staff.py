"""What mediators and lender staff work from: invites, the review queue, escalations, who to tell, stats."""

from __future__ import annotations

import json
import secrets
import statistics
from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Select, and_, exists, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from dialogs import domain
from dialogs.domain import Role
from dialogs.errors import InvalidInput, NotFound, PermissionDenied
from dialogs.lifecycle import TERMINAL, CaseState
from storage import accounts, cases, dead_letters, models
from storage.crypto import FieldCipher
from storage.negotiation import NegotiationWork
from storage.waiting import waiting_count

INVITE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O or 1/I: read aloud or typed from a screen
INVITE_LENGTH = 10
LIST_LIMIT = 20
S = CaseState
ESCALATED_STATES = (S.EXPIRED, S.ESCALATED, S.DISPUTED)
LENDER_STATES = (S.APPROVED, S.NEGOTIATING, S.AGREED, S.ACTIVE, S.EXPIRED, S.ESCALATED)
AGREED_STATES = (S.AGREED, S.ACTIVE, S.COMPLETED, S.DEFAULTED)
ENDED_WITHOUT = (S.REJECTED, S.CLOSED)
LENDER_ENDS = (S.COMPLETED, S.DEFAULTED)  # only ever after the lender took part
ENDED_EITHER_SIDE = (S.WITHDRAWN, S.CLOSED)  # before or after approval: the case log tells which
LENDER_WORDS = ("offer_made", "offer_rejected", "message_relay")
REPORT_OUTCOMES = ("upheld", "not_upheld", "passed_on")  # passed on: to the lender's compliance contact
_OUTCOME = "harassment_reports.outcome"
_HELP = "help_requests.details"


def new_invite_code() -> str:
    return "".join(secrets.choice(INVITE_ALPHABET) for _ in range(INVITE_LENGTH))


def normalise_invite(code: str) -> str:
    return code.strip().upper().replace("-", "").replace(" ", "")[:32]


async def add_invite(
    session: AsyncSession,
    cipher: FieldCipher,
    lender_id: int,
    created_by: int | None,
    now: datetime,
    valid_for: timedelta,
) -> str:
    """A new one-time code; only its keyed hash is stored, so the database alone cannot use it."""
    code = new_invite_code()
    session.add(
        models.Invite(
            code_hash=cipher.lookup_hash("invite", code),
            lender_id=lender_id,
            created_by_account_id=created_by,
            created_at=now,
            expires_at=now + valid_for,
        )
    )
    await session.flush()
    return code


async def staff_accounts(session: AsyncSession, lender_id: int) -> list[domain.Account]:
    table = models.Account
    query = select(table).where(table.role == Role.LENDER.value, table.lender_id == lender_id)
    return [accounts.to_account(row) for row in await session.scalars(query.order_by(table.id))]


async def revoke(session: AsyncSession, account_id: int) -> domain.Account:
    """Make a lender's staff account an ordinary one again: from its next message it sees no case."""
    row = await session.get(models.Account, account_id)
    if row is None or row.role != Role.LENDER.value:
        raise NotFound(f"account {account_id} is not lender staff")
    before = accounts.to_account(row)
    row.role, row.lender_id = Role.BORROWER.value, None
    await session.flush()
    return before


class StaffWork(NegotiationWork):
    """See the module docstring."""

    async def create_invite(self, lender_id: int, valid_for: timedelta) -> str:
        """A one-time code for a lender's staff; only its keyed hash is stored."""
        await self.writing()
        if self.role is not Role.OPERATOR:
            raise PermissionDenied("only a mediator invites lender staff")
        await self.lender(lender_id)
        return await add_invite(
            self.session, self.cipher, lender_id, self.actor.account_id, self.now, valid_for
        )

    async def lender_by_name(self, name: str) -> domain.Lender:
        return accounts.to_lender(await accounts.lender_row(self.session, name))

    async def lender_names(self) -> list[str]:
        """Every lender's name, for a mediator who mistyped one."""
        self.require_operator()
        return await accounts.lender_names(self.session)

    async def redeem_invite(self, code: str) -> domain.Lender:
        """Make the sender their lender's staff; the code works once and before it expires."""
        await self.writing()
        # Under every configured key: an invite issued before a key rotation began still works during it.
        digests = self.cipher.lookup_hashes("invite", normalise_invite(code))
        invite = await self.session.scalar(select(models.Invite).where(models.Invite.code_hash.in_(digests)))
        if invite is None or invite.used_at is not None or invite.expires_at <= self.now:
            raise NotFound("no such invite, or it was used or has expired")
        if self.account.role is not Role.BORROWER or await self.my_cases():
            raise PermissionDenied("an account with a role or an application of its own cannot join a lender")
        invite.used_at, invite.used_by_account_id = self.now, self.account.id
        row = await accounts.account_row(self.session, self.account.id)
        row.role, row.lender_id = Role.LENDER.value, invite.lender_id
        await self.session.flush()
        self.account = accounts.to_account(row)
        self.actor = replace(self.actor, role=Role.LENDER)  # the rest of this turn acts as staff already
        return await self.lender(invite.lender_id)

    # Lists

    async def review_queue(self) -> list[domain.Case]:
        """Submitted cases not waiting on their borrower, oldest first."""
        self.require_operator()
        table = models.Case
        query = select(table).where(table.state == S.SUBMITTED.value, table.waiting_for.is_(None))
        return await self._listed(query.order_by(table.updated_at, table.id))

    async def escalations(self) -> list[domain.Case]:
        """Cases a mediator must look at: expired, escalated, disputed, no affordable plan, harassment, a
        payment the lender disputes."""
        self.require_operator()
        table = models.Case
        reported = and_(
            exists().where(
                models.HarassmentReport.case_id == table.id, models.HarassmentReport.status == "open"
            ),
            table.state.not_in([s.value for s in TERMINAL]),
        )
        no_plan = and_(table.state == S.SUBMITTED.value, table.chosen_plan.is_(None))
        asked = exists().where(models.HelpRequest.case_id == table.id, models.HelpRequest.status == "open")
        payment_disputed = and_(
            exists().where(models.Payment.case_id == table.id, models.Payment.status == "disputed"),
            table.state == S.ACTIVE.value,
        )
        query = select(table).where(
            or_(
                table.state.in_([s.value for s in ESCALATED_STATES]),
                reported,
                no_plan,
                asked,
                payment_disputed,
            )
        )
        return await self._listed(query.order_by(table.updated_at, table.id))

    async def lender_cases(self) -> list[domain.Case]:
        """Every case of the sender's lender since a mediator approved it, ended ones too, latest first:
        a case the borrower withdrew (or erased) or a mediator closed stays on the list, not vanishes."""
        if self.role is not Role.LENDER or self.account.lender_id is None:
            raise PermissionDenied("only lender staff have a lender's cases")
        table, events = models.Case, models.CaseEvent
        approved = exists().where(events.case_id == table.id, events.to_state == S.APPROVED.value)
        query = select(table).where(
            table.lender_id == self.account.lender_id,
            or_(
                table.state.in_([s.value for s in (*LENDER_STATES, *LENDER_ENDS)]),
                and_(table.state.in_([s.value for s in ENDED_EITHER_SIDE]), approved),
            ),
        )
        return await self._listed(query.order_by(table.updated_at.desc(), table.id.desc()))

    async def _listed(self, query: Select[Any]) -> list[domain.Case]:
        rows = await self.session.scalars(query.limit(LIST_LIMIT))
        return [cases.to_case(row) for row in rows]

    async def set_waiting(self, case_id: int, waiting_for: str | None) -> None:
        """Mark a case as waiting on its borrower (out of the review queue) or back in it."""
        await self.writing()
        case = await self._own_case(case_id)
        if self.role is Role.LENDER:
            raise PermissionDenied("lender staff do not manage the review queue")
        case.waiting_for = waiting_for
        case.updated_at = self.now
        await self.session.flush()  # the queue shown next in the same turn must not list it (no autoflush)

    async def waiting_for(self, case_id: int) -> str | None:
        return (await self._own_case(case_id)).waiting_for

    # Harassment reports, for the mediator

    async def open_reports(self, case_id: int) -> list[dict[str, Any]]:
        """The case's harassment reports not yet reviewed, decrypted (for a mediator only)."""
        self.require_operator()
        await self._own_case(case_id)
        table = models.HarassmentReport
        query = select(table).where(table.case_id == case_id, table.status == "open").order_by(table.id)
        return [
            {
                "id": row.id,
                "at": row.created_at,
                **json.loads(self.cipher.decrypt("harassment_reports.details", row.details_enc)),
            }
            for row in await self.session.scalars(query)
        ]

    async def review_reports(self, case_id: int) -> int:
        """Mark the case's open reports reviewed (the mediator has acted on them); returns how many."""
        await self.writing()
        self.require_operator()
        case = await self._own_case(case_id)
        table = models.HarassmentReport
        result = await self.session.execute(
            update(table).where(table.case_id == case_id, table.status == "open").values(status="reviewed")
        )
        count = int(getattr(result, "rowcount", 0) or 0)
        cases.append_event(
            self.session, case, "harassment_reviewed", self.actor, self.now, {"reports": count}
        )
        return count

    async def lender_words_since(self, case_id: int, since: datetime) -> int:
        """How many times the lender's side wrote to the borrower on this case since ``since`` (offers,
        rejections, relayed messages): the collection-conduct daily cap counts them."""
        await self._own_case(case_id)
        events = models.CaseEvent
        query = select(func.count()).where(
            events.case_id == case_id,
            events.actor_role == Role.LENDER.value,
            events.kind.in_(LENDER_WORDS),
            events.at >= since,
            events.at < self.now,  # earlier turns only: this turn's own words are the ones being sent
        )
        return int(await self.session.scalar(query) or 0)

    async def decide_report(self, report_id: int, outcome: str, note: str) -> int:
        """Record the mediator's outcome of one open report (and their note, sealed); returns its case."""
        await self.writing()
        self.require_operator()
        if outcome not in REPORT_OUTCOMES:
            raise InvalidInput(f"a report's outcome is one of {', '.join(REPORT_OUTCOMES)}")
        row = await self.session.get(models.HarassmentReport, report_id)
        if row is None or row.case_id is None or row.status != "open":
            raise NotFound(f"no open report {report_id}")
        case = await self._own_case(row.case_id)
        sealed = json.dumps({"outcome": outcome, "note": note}, ensure_ascii=False)
        row.outcome_enc = self.cipher.encrypt(_OUTCOME, sealed)
        row.status, row.decided_at = outcome, self.now
        details = {"report": row.id, "outcome": outcome}
        cases.append_event(self.session, case, "harassment_decided", self.actor, self.now, details)
        await self.session.flush()
        return case.id

    # Requests to talk to a person

    async def ask_for_help(self, case_id: int | None, reason: str, details: dict[str, Any]) -> int:
        """The sender asks for a mediator; the request stays open until a mediator marks it handled."""
        await self.writing()
        case = await self._own_case(case_id) if case_id is not None else None
        blob = self.cipher.encrypt(_HELP, json.dumps(details, ensure_ascii=False))
        row = models.HelpRequest(
            account_id=self.account.id,
            case_id=case_id,
            reason=reason[:32],
            details_enc=blob,
            status="open",
            created_at=self.now,
        )
        self.session.add(row)
        await self.session.flush()
        if case is not None:
            case.updated_at = self.now  # the queue is oldest first: a new request waits from now
            cases.append_event(
                self.session, case, "operator_requested", self.actor, self.now, {"request": row.id}
            )
        return row.id

    async def help_requests(self, case_id: int | None = None) -> list[dict[str, Any]]:
        """Open requests on a case, or (``None``) those of people without a case, oldest first."""
        self.require_operator()
        table = models.HelpRequest
        where = table.case_id == case_id if case_id is not None else table.case_id.is_(None)
        query = select(table).where(where, table.status == "open").order_by(table.id)
        return [self._help_view(row) for row in await self.session.scalars(query.limit(LIST_LIMIT))]

    async def help_request(self, request_id: int) -> dict[str, Any]:
        self.require_operator()
        row = await self.session.get(models.HelpRequest, request_id)
        if row is None:
            raise NotFound(f"no request {request_id}")
        return self._help_view(row)

    def _help_view(self, row: models.HelpRequest) -> dict[str, Any]:
        details = json.loads(self.cipher.decrypt(_HELP, row.details_enc))
        return {
            "id": row.id,
            "account_id": row.account_id,
            "case_id": row.case_id,
            "reason": row.reason,
            "status": row.status,
            "at": row.created_at,
            "step": details.get("step"),
            "message": details.get("message"),
        }

    async def handle_help(self, request_id: int) -> domain.Account:
        """Mark a request handled; returns who asked (so the mediator can write to them)."""
        await self.writing()
        self.require_operator()
        row = await self.session.get(models.HelpRequest, request_id)
        if row is None:
            raise NotFound(f"no request {request_id}")
        if row.status == "open":
            row.status, row.handled_at, row.handled_by_account_id = "handled", self.now, self.account.id
            if row.case_id is not None:
                case = await self._own_case(row.case_id)
                details = {"request": row.id}
                cases.append_event(self.session, case, "help_handled", self.actor, self.now, details)
        await self.session.flush()
        return accounts.to_account(await accounts.account_row(self.session, row.account_id))

    async def write_to(self, account_id: int) -> domain.Account:
        """Someone with an open request, for a mediator to answer (nobody else is reachable this way)."""
        self.require_operator()
        table = models.HelpRequest
        query = select(table.id).where(table.account_id == account_id, table.status == "open")
        if await self.session.scalar(query.limit(1)) is None:
            raise PermissionDenied("a mediator writes to people through their case or their request")
        return accounts.to_account(await accounts.account_row(self.session, account_id))

    # What a mediator sees about a case beyond the case itself

    async def deadline_of(self, case_id: int) -> datetime | None:
        return (await self._own_case(case_id)).deadline_at

    async def loan_cases(self, loan_id: int) -> list[domain.Case]:
        """Every case ever opened on a loan, oldest first: the history a mediator reviews against."""
        self.require_operator()
        query = select(models.Case).where(models.Case.loan_id == loan_id).order_by(models.Case.id)
        return [cases.to_case(row) for row in await self.session.scalars(query)]

    async def find_cases(self, state: CaseState | None, lender_id: int | None) -> list[domain.Case]:
        """Any case, for a mediator: by state and lender when given, those waiting longest first."""
        self.require_operator()
        table = models.Case
        query = select(table).where(table.state != S.DRAFT.value)  # drafts are the borrower's own work
        if state is not None:
            query = select(table).where(table.state == state.value)
        if lender_id is not None:
            query = query.where(table.lender_id == lender_id)
        return await self._listed(query.order_by(table.updated_at, table.id))

    # Lender staff: who they are, and revoking one

    async def staff_of(self, lender_id: int) -> list[domain.Account]:
        self.require_operator()
        return await staff_accounts(self.session, lender_id)

    async def revoke_staff(self, account_id: int) -> domain.Account:
        """Take an account's lender role away (a mediator's); returns it as it was."""
        await self.writing()
        self.require_operator()
        return await revoke(self.session, account_id)

    # Who to tell

    async def borrower_of(self, case_id: int) -> domain.Account:
        case = await self._own_case(case_id)
        return accounts.to_account(await accounts.account_row(self.session, case.borrower_account_id))

    async def lender_staff(self, case_id: int) -> list[domain.Account]:
        case = await self._own_case(case_id)
        if case.lender_id is None:
            return []
        return await staff_accounts(self.session, case.lender_id)

    async def operators(self) -> list[domain.Account]:
        table = models.Account
        query = select(table).where(table.role == Role.OPERATOR.value).order_by(table.id)
        return [accounts.to_account(row) for row in await self.session.scalars(query)]

    async def personal_data(self) -> dict[str, Any]:
        from storage.borrower_data import export  # noqa: PLC0415 - the export is rare and large

        return await export(self)

    async def staff_personal_data(self) -> dict[str, Any]:
        """/mydata for lender staff and mediators: their own data only (storage.staff_data)."""
        if self.actor.role not in (Role.LENDER, Role.OPERATOR):
            raise PermissionDenied("this export is for lender staff and mediators")
        from storage.staff_data import export as export_staff  # noqa: PLC0415 - rare, as the export above

        return await export_staff(self)

    async def erase_personal_data(self, keep_failures_since: datetime) -> domain.Erasure:
        await self.writing()
        from storage.borrower_data import erase  # noqa: PLC0415 - as above

        erasure = await erase(self, keep_failures_since)
        self._hardships.clear()
        self._finances.clear()
        return erasure

    # Statistics

    async def stats(self) -> domain.CaseStats:
        self.require_operator()
        counts = await self.session.execute(
            select(models.Case.state, func.count()).group_by(models.Case.state)
        )
        by_state = {state: int(n) for state, n in counts.all()}
        agreed = sum(by_state.get(s.value, 0) for s in AGREED_STATES)
        ended = agreed + sum(by_state.get(s.value, 0) for s in ENDED_WITHOUT)
        return domain.CaseStats(
            by_state=by_state,
            median_first_answer_hours=await self._median_hours("approved", Role.LENDER),
            median_agreement_hours=await self._median_hours("submitted", None, to_state=S.AGREED),
            agreement_rate=agreed / ended if ended else None,
            dead_letters=await dead_letters.count(self.session),
            waiting_messages=(await waiting_count(self.session)).total,
            activity=await self._activity(),
        )

    async def _activity(self) -> dict[str, int]:
        """What happened to running plans and broadcasts, counted for /stats (see domain.CaseStats)."""
        events = models.CaseEvent
        payments = await self._counted(
            select(models.Payment.status, func.count()).group_by(models.Payment.status)
        )
        kinds = await self._counted(
            select(events.kind, func.count())
            .where(events.kind.in_(["payment_disputed", "instalment_moved"]))
            .group_by(events.kind)
        )
        ends = await self._counted(
            select(events.to_state, func.count())
            .where(events.kind == "transition", events.to_state.in_([S.DEFAULTED.value, S.COMPLETED.value]))
            .group_by(events.to_state)
        )
        broadcasts = await self._counted(
            select(models.Broadcast.status, func.count()).group_by(models.Broadcast.status)
        )
        return {
            "payments_reported": sum(payments.values()),
            "payments_waiting": payments.get("reported", 0),
            "payments_confirmed": payments.get("confirmed", 0),
            "payments_disputed": kinds.get("payment_disputed", 0),
            "payments_rejected": payments.get("rejected", 0),
            "moves": kinds.get("instalment_moved", 0),
            "breaches": ends.get(S.DEFAULTED.value, 0),
            "completions": ends.get(S.COMPLETED.value, 0),
            "broadcasts": sum(broadcasts.values()),
            "broadcasts_done": broadcasts.get("done", 0),
        }

    async def _counted(self, query: Select[Any, int]) -> dict[str, int]:
        """A ``(key, count)`` grouping as a dict."""
        return {str(key): int(count) for key, count in (await self.session.execute(query)).all()}

    async def _median_hours(
        self, since_state: str, by: Role | None, *, to_state: CaseState | None = None
    ) -> float | None:
        """Median hours from entering ``since_state`` to the first event by ``by`` (or into ``to_state``)."""
        events = models.CaseEvent
        start = (
            select(events.case_id, func.min(events.at).label("at"))
            .where(events.kind == "transition", events.to_state == since_state)
            .group_by(events.case_id)
            .subquery()
        )
        condition = events.actor_role == by.value if by else events.to_state == (to_state or S.AGREED).value
        if to_state is not None:
            condition = and_(events.kind == "transition", condition)
        query = (
            select(start.c.at, func.min(events.at))
            .join(events, and_(events.case_id == start.c.case_id, events.at >= start.c.at))
            .where(condition)
            .group_by(start.c.case_id, start.c.at)
        )
        hours = [
            (end - begin).total_seconds() / 3600 for begin, end in (await self.session.execute(query)).all()
        ]
        return statistics.median(hours) if hours else None
