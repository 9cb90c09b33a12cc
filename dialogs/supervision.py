"""Breach: a running plan with an instalment unpaid past the grace period is defaulted. The borrower, the
lender's staff and the mediators are told in plain words what it means and what the borrower can still do;
a discounted settlement is void, as its clause says.

The sweep finds the plans from the store's rows and acts on each through the engine's front door: the case
is checked again inside the turn, so a breach happens once however often (or however late) the sweep runs.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from dialogs.dispatch import Dialogs
from dialogs.domain import PaymentStatus
from dialogs.engine import Engine, SystemAction
from dialogs.flows.casework import ASK_FOR_HELP, notify, open_case_choice
from dialogs.lifecycle import CaseState
from dialogs.ports import Turn, TurnStore
from dialogs.rules.supervision import allocate, breached

SWEEP_LIMIT = 500


def breach(case_id: int) -> SystemAction:
    async def action(dialogs: Dialogs, turn: Turn) -> None:
        case = await turn.case(case_id)
        if case.state is not CaseState.ACTIVE:
            return
        borrower = await turn.borrower_of(case_id)
        today = turn.now.astimezone(ZoneInfo(borrower.time_zone)).date()
        paid = [p.amount for p in await turn.payments(case_id) if p.status is PaymentStatus.CONFIRMED]
        allocation = allocate(await turn.instalments(case_id), paid)
        grace = dialogs.services.grace_days
        missed = breached(allocation, today, grace)
        if missed is None:
            return
        made = await turn.agreement(case_id)
        voided = bool(made and made.terms.get("void_if_missed"))
        details = {"why": "grace_passed", "instalment": missed.number, "settlement_voided": voided}
        await turn.transition(case_id, CaseState.DEFAULTED, details)
        ctx = dialogs.context(turn, await turn.conversation(), None)
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


async def sweep(engine: Engine, store: TurnStore, now: datetime) -> int:
    """Check every running plan with an instalment unpaid past the grace period; returns how many."""
    # A day's margin: the borrower's day may be ahead of UTC's, and the turn decides on the borrower's day.
    due_before = now.date() + timedelta(days=1) - timedelta(days=engine.dialogs.services.grace_days)
    plans = await store.supervised_cases(due_before, SWEEP_LIMIT)
    for account_id, case_id in plans:
        await engine.run_system(account_id, f"breach:{case_id}:{now:%Y%m%d%H%M}", breach(case_id))
    return len(plans)
