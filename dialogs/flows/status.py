"""/status: where each of the borrower's cases stands, what is pending, by when, and what happened."""

from __future__ import annotations

from typing import Any

from dialogs.domain import Case
from dialogs.flows.base import BACK, HOME, Choice, Ctx, Flow, Picked, Step
from dialogs.flows.casework import offer_view
from dialogs.flows.inputs import buttons_only

TIMELINE_LENGTH = 12
SHOWN_CASES = 3
# Saving each figure is logged too; the timeline shows the milestones a borrower recognises.
MILESTONES = frozenset(
    {
        "opened",
        "transition",
        "hardship_saved",
        "plan_chosen",
        "evidence_added",
        "harassment_reported",
        "harassment_reviewed",
        "operator_requested",
        "offer_made",
        "offer_accepted",
        "offer_rejected",
        "agreement_drafted",
        "agreement_confirmed",
        "blind_bid_opened",
        "blind_bid_closed",
        "message_relay",
        "message_mediator",
        "message_info_request",
        "message_reason",
    }
)


async def _case_view(ctx: Ctx, case: Case) -> dict[str, Any]:
    loan = await ctx.turn.loan(case.loan_id) if case.loan_id else None
    lender = await ctx.turn.lender(loan.lender_id) if loan else None
    events = [e for e in await ctx.turn.events(case.id) if e.kind in MILESTONES]
    return {
        "id": case.id,
        "state": case.state.value,
        "lender": lender.name if lender else None,
        "ref": loan.row.loan_ref if loan else None,
        "offer": offer_view(pending) if (pending := await ctx.turn.pending_offer(case.id)) else None,
        "timeline": [
            {"at": e.at, "kind": e.kind, "to_state": e.to_state.value if e.to_state else None}
            for e in events[-TIMELINE_LENGTH:]
        ],
    }


async def ask_show(ctx: Ctx) -> None:
    cases = (await ctx.turn.my_cases())[-SHOWN_CASES:]
    views = [await _case_view(ctx, case) for case in reversed(cases)]
    ctx.ask("status/show", Choice("back", "back"), Choice("menu", "menu"), cases=views)


async def on_show(_ctx: Ctx, picked: Picked) -> str:
    return BACK if picked.id == "back" else HOME


STATUS = Flow("status", {"show": Step(ask_show, buttons_only, on_show)})
