"""Payments and the running schedule, as a turn's sender may touch them.

The borrower reports a payment on their own active case (or one in breach: paid after a breach, it still
counts towards the debt); the lender's staff confirm or dispute it; a mediator resolves a dispute. Each
confirmation writes the confirmed total onto the instalment rows with
:func:`dialogs.rules.supervision.allocate`, so the stored schedule always says what the rule says.
"""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

from sqlalchemy import func, select

from dialogs.domain import FileRef, Payment, PaymentStatus, Role
from dialogs.errors import InvalidInput, NotFound, PermissionDenied
from dialogs.lifecycle import CaseState
from dialogs.rules.money import require_money
from dialogs.rules.supervision import Allocation, Due, allocate, local_day
from storage import cases, models
from storage.case_work import CaseWork, seal_file

MAX_WAITING = 5  # payments reported and not yet confirmed or disputed, per case: more is a mistake or abuse
MAX_REASON = 1000
_REASON = "payments.dispute_reason"


class PaymentWork(CaseWork):
    """See the module docstring."""

    async def instalments(self, case_id: int) -> list[Due]:
        """The schedule as it stands (moved instalments at their new date), in number order."""
        await self._own_case(case_id)
        return [_due(row) for row in await self._instalment_rows(case_id)]

    async def payments(self, case_id: int) -> list[Payment]:
        await self._own_case(case_id)
        query = select(models.Payment).where(models.Payment.case_id == case_id).order_by(models.Payment.id)
        return [self._payment(row) for row in await self.session.scalars(query)]

    async def payment(self, payment_id: int) -> Payment:
        return self._payment(await self._payment_row(payment_id))

    async def report_payment(
        self, case_id: int, amount: Decimal, paid_on: date, receipt: FileRef | None
    ) -> Payment:
        """The borrower's own report; it waits for the lender's staff."""
        await self.writing()
        case = await self._own_case(case_id)
        if self.actor.role is not Role.BORROWER:
            raise PermissionDenied("only the borrower reports a payment")
        _require_paying(case)
        require_money("the payment", amount, allow_zero=False)
        if paid_on > (self.now + timedelta(days=1)).date():  # a day's leeway: the borrower's day may be ahead
            raise InvalidInput("a payment cannot be reported before the day it is made")
        start = await self._plan_start(case)
        if start is not None and paid_on < start:  # the rule's PaymentDays, kept by the store as well
            raise InvalidInput("a payment before the agreement began is in the balance it starts from")
        if amount > await self._left(case_id) - await self._waiting_total(case_id):
            raise InvalidInput("more than the plan still owes, less the payments still waiting")
        waiting = await self.session.scalar(
            select(func.count()).where(
                models.Payment.case_id == case_id, models.Payment.status == PaymentStatus.REPORTED.value
            )
        )
        if (waiting or 0) >= MAX_WAITING:
            raise PermissionDenied(f"at most {MAX_WAITING} payments wait for the lender at a time")
        evidence = await self._receipt(case, receipt) if receipt is not None else None
        row = models.Payment(
            case_id=case_id,
            amount=amount,
            paid_on=paid_on,
            reported_by_account_id=self.account.id,
            reported_at=self.now,
            status=PaymentStatus.REPORTED.value,
            evidence_file_id=evidence,
        )
        self.session.add(row)
        await self.session.flush()
        details = {"payment": row.id, "amount": str(amount), "paid_on": paid_on.isoformat()}
        cases.append_event(self.session, case, "payment_reported", self.actor, self.now, details)
        return self._payment(row)

    async def confirm_payment(self, payment_id: int) -> Payment:
        """The lender's staff: the money arrived. Applied to the schedule at once."""
        row = await self._decidable(payment_id, Role.LENDER, PaymentStatus.REPORTED)
        row.status = PaymentStatus.CONFIRMED.value
        row.confirmed_by_account_id, row.confirmed_at = self.account.id, self.now
        return await self._applied(row, "payment_confirmed")

    async def dispute_payment(self, payment_id: int, reason: str) -> Payment:
        """The lender's staff: it did not arrive as reported, and why; a mediator decides."""
        reason = reason.strip()
        if not reason or len(reason) > MAX_REASON:
            raise InvalidInput(f"a reason is 1 to {MAX_REASON} characters")
        row = await self._decidable(payment_id, Role.LENDER, PaymentStatus.REPORTED)
        row.status = PaymentStatus.DISPUTED.value
        row.disputed_by_account_id, row.disputed_at = self.account.id, self.now
        row.dispute_reason_enc = self.cipher.encrypt(_REASON, reason)
        await self.session.flush()
        case = await self._own_case(row.case_id)
        cases.append_event(self.session, case, "payment_disputed", self.actor, self.now, {"payment": row.id})
        return self._payment(row)

    async def resolve_payment(self, payment_id: int, confirm: bool) -> Payment:
        """A mediator decides a disputed payment: confirmed (applied) or rejected (never applied)."""
        row = await self._decidable(payment_id, Role.OPERATOR, PaymentStatus.DISPUTED)
        row.resolved_by_account_id, row.resolved_at = self.account.id, self.now
        if not confirm:
            row.status = PaymentStatus.REJECTED.value
            await self.session.flush()
            case = await self._own_case(row.case_id)
            cases.append_event(
                self.session, case, "payment_rejected", self.actor, self.now, {"payment": row.id}
            )
            return self._payment(row)
        row.status = PaymentStatus.CONFIRMED.value
        row.confirmed_by_account_id, row.confirmed_at = self.account.id, self.now
        return await self._applied(row, "payment_confirmed")

    async def move_instalment(self, case_id: int, number: int, to_date: date, moves_allowed: int) -> None:
        """The tolerance, as the rule granted it: the borrower's own, and no more often than allowed."""
        await self.writing()
        case = await self._own_case(case_id)
        if self.actor.role is not Role.BORROWER:
            raise PermissionDenied("only the borrower asks to move an instalment")
        _require_active(case)
        rows = await self._instalment_rows(case_id)
        if sum(1 for r in rows if r.moved) >= moves_allowed:
            raise PermissionDenied("the instalments this agreement lets move have been moved")
        row = next((r for r in rows if r.number == number), None)
        if row is None or row.status == "paid" or to_date <= max(r.due_date for r in rows):
            raise PermissionDenied("only an unpaid instalment moves, and only to the end of the plan")
        applied = await self._allocation(case_id, rows)
        paid = next(i.paid for i in applied.instalments if i.number == number)
        details = {"instalment": number, "from": row.due_date.isoformat(), "to": to_date.isoformat()}
        if paid > 0:  # the rule's split: the part paid stays on its day, only what is owed moves
            rest = models.Instalment(
                agreement_id=row.agreement_id,
                number=max(r.number for r in rows) + 1,
                due_date=to_date,
                amount=row.amount - paid,
                paid_amount=Decimal(0),
                status="due",
                moved=True,
                original_due_date=row.due_date,
            )
            details |= {"kept": str(paid), "moved": str(rest.amount), "as": rest.number}
            row.amount, row.paid_amount, row.status = paid, paid, "paid"
            self.session.add(rest)
        else:
            row.original_due_date, row.due_date, row.moved = row.due_date, to_date, True
        await self.session.flush()
        cases.append_event(self.session, case, "instalment_moved", self.actor, self.now, details)

    # Helpers

    async def _decidable(self, payment_id: int, role: Role, status: PaymentStatus) -> models.Payment:
        await self.writing()
        row = await self._payment_row(payment_id)
        if self.actor.role is not role:
            raise PermissionDenied(f"only a {role.value} decides this payment now")
        _require_paying(await self._own_case(row.case_id))
        if row.status != status.value:
            raise PermissionDenied(f"this payment is {row.status}, not {status.value}")
        return row

    async def _applied(self, row: models.Payment, kind: str) -> Payment:
        """Write the confirmed total onto the instalments, oldest first (the rule's allocation)."""
        await self.session.flush()
        instalments = await self._instalment_rows(row.case_id)
        allocation = await self._allocation(row.case_id, instalments)
        paid = {applied.number: applied.paid for applied in allocation.instalments}
        for instalment in instalments:
            instalment.paid_amount = paid[instalment.number]
            instalment.status = (
                "paid"
                if instalment.paid_amount >= instalment.amount
                else "partly_paid"
                if instalment.paid_amount > 0
                else "due"
            )
        await self.session.flush()
        case = await self._own_case(row.case_id)
        details = {"payment": row.id, "amount": str(row.amount), "left": str(allocation.left)}
        cases.append_event(self.session, case, kind, self.actor, self.now, details)
        return self._payment(row)

    async def _allocation(self, case_id: int, instalments: list[models.Instalment]) -> Allocation:
        confirmed = await self.session.scalars(
            select(models.Payment.amount).where(
                models.Payment.case_id == case_id,
                models.Payment.status == PaymentStatus.CONFIRMED.value,
            )
        )
        return allocate([_due(r) for r in instalments], list(confirmed))

    async def _plan_start(self, case: models.Case) -> date | None:
        """The day the agreement began, on the borrower's calendar (as the flows count it)."""
        made = await self.session.scalar(
            select(models.Agreement.created_at).where(models.Agreement.case_id == case.id)
        )
        if made is None:
            return None
        borrower = await self.session.get(models.Account, case.borrower_account_id)
        return local_day(made, borrower.time_zone if borrower is not None else "Asia/Shanghai")

    async def _left(self, case_id: int) -> Decimal:
        rows = await self._instalment_rows(case_id)
        return sum((r.amount - r.paid_amount for r in rows), Decimal(0))

    async def _waiting_total(self, case_id: int) -> Decimal:
        """Reported payments nobody has counted or refused yet: they may still cover what is left."""
        undecided = (PaymentStatus.REPORTED.value, PaymentStatus.DISPUTED.value)
        # Added here, exactly: SQLite's SUM over its text amounts would be a float.
        amounts = await self.session.scalars(
            select(models.Payment.amount).where(
                models.Payment.case_id == case_id, models.Payment.status.in_(undecided)
            )
        )
        return sum(amounts, Decimal(0))

    async def _instalment_rows(self, case_id: int) -> list[models.Instalment]:
        table, agreements = models.Instalment, models.Agreement
        query = (
            select(table)
            .join(agreements, agreements.id == table.agreement_id)
            .where(agreements.case_id == case_id)
            .order_by(table.number)
        )
        return list(await self.session.scalars(query))

    async def _payment_row(self, payment_id: int) -> models.Payment:
        row = await self.session.get(models.Payment, payment_id)
        if row is None:
            raise NotFound(f"no payment {payment_id}")
        await self._own_case(row.case_id)  # the same people who may see the case
        return row

    async def _receipt(self, case: models.Case, receipt: FileRef) -> int:
        row = models.EvidenceFile(
            case_id=case.id,
            account_id=self.account.id,
            purpose="payment",
            file_enc=seal_file(self.cipher, receipt),
            mime_type=receipt.mime_type,
            size_bytes=receipt.size_bytes,
            sha256=receipt.sha256,
            created_at=self.now,
        )
        self.session.add(row)
        await self.session.flush()
        cases.append_event(self.session, case, "evidence_added", self.actor, self.now, {"purpose": "payment"})
        return row.id

    def _payment(self, row: models.Payment) -> Payment:
        reason = self.cipher.decrypt(_REASON, row.dispute_reason_enc) if row.dispute_reason_enc else None
        return Payment(
            id=row.id,
            case_id=row.case_id,
            amount=row.amount,
            paid_on=row.paid_on,
            status=PaymentStatus(row.status),
            reported_at=row.reported_at,
            receipt=row.evidence_file_id is not None,
            dispute_reason=reason,
            decided_at=row.resolved_at or row.confirmed_at,
        )


def _due(row: models.Instalment) -> Due:
    return Due(row.number, row.due_date, row.amount, row.moved, row.original_due_date if row.moved else None)


# Payments are reported and decided on a running plan, and on one in breach: money paid after a breach
# still counts towards the debt and is recorded against the case like any other (DESIGN §3).
PAYING = frozenset({CaseState.ACTIVE, CaseState.DEFAULTED})


def _require_paying(case: models.Case) -> None:
    if CaseState(case.state) not in PAYING:
        raise PermissionDenied(
            f"payments belong to a running plan or one in breach; this case is {case.state}"
        )


def _require_active(case: models.Case) -> None:
    if CaseState(case.state) is not CaseState.ACTIVE:
        raise PermissionDenied(f"only a running plan's instalments move; this case is {case.state}")
