"""Breach: a running plan with an instalment unpaid past the grace period is defaulted. The borrower, the
lender's staff and the mediators are told in plain words what it means and what the borrower can still do;
a discounted settlement is void, as its clause says.

Payments the borrower reported that would cover the instalment, and that nobody has decided yet, hold the
breach off: the lender's staff and the mediators are asked to decide them instead.

The sweep finds the plans from the store's rows and acts on each through the engine's front door: the case
is checked again inside the turn, so a breach happens once however often (or however late) the sweep runs.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from dialogs.dispatch import Dialogs
from dialogs.domain import Payment, PaymentStatus
from dialogs.engine import Engine, SystemAction
from dialogs.flows.base import Ctx
from dialogs.flows.casework import ASK_FOR_HELP, notify, open_case_choice
from dialogs.flows.payments import decide_choices, payment_view
from dialogs.lifecycle import CaseState
from dialogs.ports import Turn, TurnStore
from dialogs.rules.supervision import Applied, allocate, breached

SWEEP_LIMIT = 500
_UNDECIDED = frozenset({PaymentStatus.REPORTED, PaymentStatus.DISPUTED})
_HELD = "breach_held"  # the case log's note that waiting payments hold off a breach (said once)


def breach(case_id: int) -> SystemAction:
    async def action(dialogs: Dialogs, turn: Turn) -> None:
        case = await turn.case(case_id)
        if case.state is not CaseState.ACTIVE:
            return
        borrower = await turn.borrower_of(case_id)
        today = turn.now.astimezone(ZoneInfo(borrower.time_zone)).date()
        payments = await turn.payments(case_id)
        paid = [p.amount for p in payments if p.status is PaymentStatus.CONFIRMED]
        instalments = await turn.instalments(case_id)
        allocation = allocate(instalments, paid)
        grace = dialogs.services.grace_days
        missed = breached(allocation, today, grace)
        if missed is None:
            return
        ctx = dialogs.context(turn, await turn.conversation(), None)
        waiting = [p for p in payments if p.status in _UNDECIDED]
        if breached(allocate(instalments, paid + [p.amount for p in waiting]), today, grace) is None:
            await _held_by_waiting_payments(ctx, case_id, missed, waiting)
            return
        made = await turn.agreement(case_id)
        voided = bool(made and made.terms.get("void_if_missed"))
        details = {"why": "grace_passed", "instalment": missed.number, "settlement_voided": voided}
        await turn.transition(case_id, CaseState.DEFAULTED, details)
        context: dict[str, Any] = {
            "case_id": case_id,
            "number": missed.number,
            "due_day": missed.due_date,
            "amount": missed.left,
            "grace_days": grace,
            "voided": voided,
            "left": allocation.left,
        }
        # Not a collection message (no cap), but nobody is woken by it: it waits for the borrower's hours.
        allowed = dialogs.services.conduct.next_allowed_send(turn.now, borrower.time_zone, 0)
        held = allowed if allowed > turn.now else None
        notify(ctx, [borrower], "payments/defaulted", ASK_FOR_HELP, not_before=held, **context)
        notify(ctx, await turn.lender_staff(case_id), "payments/defaulted_staff", **context)
        notify(ctx, await turn.operators(), "payments/defaulted_staff", open_case_choice(case_id), **context)

    return action


async def _held_by_waiting_payments(ctx: Ctx, case_id: int, missed: Applied, waiting: list[Payment]) -> None:
    """The borrower reported payments that would cover the missed instalment and nobody has decided them:
    the borrower does not lose the plan to the other side's silence. The lender's staff and the mediators are
    asked to decide them, once for this instalment."""
    said = [e for e in await ctx.turn.events(case_id) if e.kind == _HELD]
    if any(e.details.get("instalment") == missed.number for e in said):
        return
    await ctx.turn.log(case_id, _HELD, {"instalment": missed.number, "payments": [p.id for p in waiting]})
    context: dict[str, Any] = {
        "case_id": case_id,
        "number": missed.number,
        "due_day": missed.due_date,
        "awaiting": [payment_view(p) for p in waiting],
    }
    reported = [p for p in waiting if p.status is PaymentStatus.REPORTED]
    choices = [choice for p in reported for choice in decide_choices(case_id, p)]
    notify(ctx, await ctx.turn.lender_staff(case_id), "payments/breach_held", *choices, **context)
    notify(ctx, await ctx.turn.operators(), "payments/breach_held", open_case_choice(case_id), **context)


async def sweep(engine: Engine, store: TurnStore, now: datetime) -> int:
    """Check every running plan with an instalment unpaid past the grace period; returns how many."""
    # A day's margin: the borrower's day may be ahead of UTC's, and the turn decides on the borrower's day.
    due_before = now.date() + timedelta(days=1) - timedelta(days=engine.dialogs.services.grace_days)
    plans = await store.supervised_cases(due_before, SWEEP_LIMIT)
    for account_id, case_id in plans:
        await engine.run_system(account_id, f"breach:{case_id}:{now:%Y%m%d%H%M}", breach(case_id))
    return len(plans)
