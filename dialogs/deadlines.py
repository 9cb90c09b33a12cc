"""Deadlines: a lender who does not answer an approved case in time leaves it expired; an offer or a draft
agreement nobody answers sends the case to a mediator. Both sides and the mediators are told.
"""

from __future__ import annotations

from datetime import datetime

from dialogs.dispatch import Dialogs
from dialogs.engine import Engine, SystemAction
from dialogs.flows.casework import notify, open_case_choice
from dialogs.lifecycle import CaseState
from dialogs.ports import Turn, TurnStore

SWEEP_LIMIT = 500


def lapse(case_id: int) -> SystemAction:
    async def action(dialogs: Dialogs, turn: Turn) -> None:
        case = await turn.case(case_id)
        if case.state not in (CaseState.APPROVED, CaseState.NEGOTIATING):
            return
        pending = await turn.pending_offer(case_id)
        if case.state is CaseState.APPROVED:
            target, why = CaseState.EXPIRED, "lender_deadline"
        else:
            target, why = CaseState.ESCALATED, "offer_deadline" if pending else "no_answer"
            if pending is not None:
                await turn.expire_offer(pending.id)
        await turn.transition(case_id, target, {"why": why})
        ctx = dialogs.context(turn, await turn.conversation(), None)
        parties = [await turn.borrower_of(case_id), *await turn.lender_staff(case_id)]
        notify(ctx, parties, "negotiate/deadline_passed", case_id=case_id, why=why)
        operators = await turn.operators()
        notify(ctx, operators, "mediate/new_escalation", open_case_choice(case_id), case_id=case_id, why=why)

    return action


async def sweep(engine: Engine, store: TurnStore, now: datetime) -> int:
    """Act on every deadline that has passed; returns how many cases moved."""
    overdue = await store.overdue_cases(now, SWEEP_LIMIT)
    for account_id, case_id in overdue:
        await engine.run_system(account_id, f"deadline:{case_id}:{now:%Y%m%d%H%M}", lapse(case_id))
    return len(overdue)
