"""/status: where each of the borrower's cases stands, what is pending, by when, and what happened."""

from __future__ import annotations

from typing import Any

from dialogs.domain import Case, CaseEvent, Role
from dialogs.flows.base import BACK, HOME, Choice, Ctx, Flow, Picked, Step
from dialogs.flows.casework import ASK_FOR_HELP, offer_view, waiting_for_mediator
from dialogs.flows.inputs import buttons_only
from dialogs.flows.payments import pay_choice
from dialogs.lifecycle import CaseState

TIMELINE_LENGTH = 12
RUNNING = frozenset({CaseState.AGREED, CaseState.ACTIVE})
# Steps whose side matters to the reader: who made the offer, who accepted, who wrote.
WHOSE = frozenset({"offer_made", "offer_accepted", "offer_rejected", "message_relay"})
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
        "harassment_decided",
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
        "payment_reported",
        "payment_confirmed",
        "payment_disputed",
        "payment_rejected",
        "instalment_moved",
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
        "next": await _next_instalment(ctx, case),
        "timeline": collapsed(events, await _proposers(ctx, case))[-TIMELINE_LENGTH:],
    }


async def _next_instalment(ctx: Ctx, case: Case) -> dict[str, Any] | None:
    """Once the plan runs: the next instalment from the stored schedule (number, due date, amount)."""
    if case.state not in RUNNING:
        return None
    due = await ctx.turn.next_instalment(case.id)
    return None if due is None else {"number": due[0], "due": due[1], "amount": due[2]}


async def _proposers(ctx: Ctx, case: Case) -> dict[int, str]:
    """Whose each offer is (a mediator's approval sends the borrower's plan: the borrower's offer)."""
    return {offer.id: offer.proposer.value for offer in await ctx.turn.offers(case.id)}


def _whose(event: CaseEvent, proposers: dict[int, str]) -> str | None:
    if event.kind not in WHOSE:
        return None
    if event.kind == "offer_made" and event.details.get("offer") in proposers:
        return proposers[event.details["offer"]]
    return event.actor_role.value if event.actor_role else None


def collapsed(events: list[CaseEvent], proposers: dict[int, str]) -> list[dict[str, Any]]:
    """The timeline in words: the same step repeated in a row (a hardship saved answer by answer) is one
    line with how many times, at the last; offers and messages say whose they were."""
    lines: list[dict[str, Any]] = []
    for e in events:
        line = {
            "at": e.at,
            "kind": e.kind,
            "to_state": e.to_state.value if e.to_state else None,
            "by": _whose(e, proposers),
            "times": 1,
        }
        last = lines[-1] if lines else None
        if last and all(last[k] == line[k] for k in ("kind", "to_state", "by")):
            last |= {"at": e.at, "times": last["times"] + 1}
        else:
            lines.append(line)
    return lines


async def ask_show(ctx: Ctx) -> None:
    if ctx.account.role is not Role.BORROWER:
        await _ask_staff(ctx)
        return
    cases = (await ctx.turn.my_cases())[-SHOWN_CASES:]
    views = [await _case_view(ctx, case) for case in reversed(cases)]
    # After a breach the ways on are one step away: reporting a payment made now, and a person.
    breached = [case.id for case in cases if case.state is CaseState.DEFAULTED]
    ways_on = [pay_choice(breached[-1]), ASK_FOR_HELP] if breached else []
    ctx.ask("status/show", *ways_on, Choice("back", "back"), Choice("menu", "menu"), cases=views)


async def _ask_staff(ctx: Ctx) -> None:
    """Staff: a mediator sees the queues' counts and the cases by state; lender staff their own cases."""
    if ctx.account.role is Role.OPERATOR:
        stats = await ctx.turn.stats()
        stuck, asking = await waiting_for_mediator(ctx)
        context: dict[str, Any] = {
            "queue": len(await ctx.turn.review_queue()),
            "stuck": stuck,
            "asking": asking,
            "by_state": dict(sorted(stats.by_state.items())),
            "cases": [],
        }
    else:
        context = {
            "queue": None,
            "stuck": None,
            "asking": 0,
            "by_state": {},
            "cases": await _lender_view(ctx),
        }
    ctx.ask("status/staff", Choice("back", "back"), Choice("menu", "menu"), **context)


async def _lender_view(ctx: Ctx) -> list[dict[str, Any]]:
    views = []
    for case in await ctx.turn.lender_cases():
        pending = await ctx.turn.pending_offer(case.id)
        views.append(
            {"id": case.id, "state": case.state.value, "offer": offer_view(pending) if pending else None}
        )
    return views


async def on_show(_ctx: Ctx, picked: Picked) -> str:
    return BACK if picked.id == "back" else HOME


STATUS = Flow("status", {"show": Step(ask_show, buttons_only, on_show)}, roles=frozenset(Role))
