"""The mediator's review of submitted applications: the queue, oldest first; one case in full (masked);
approve, reject with a reason the borrower reads, or ask the borrower for more.
"""

from __future__ import annotations

from dialogs.domain import Case, MessageKind, Role
from dialogs.flows.base import Choice, Ctx, Flow, Invalid, Picked, Step, prompt
from dialogs.flows.casework import GLOBAL, brief, notify, open_case_choice, terms_view
from dialogs.flows.inputs import buttons_only, text
from dialogs.lifecycle import CaseState

OPERATORS = frozenset({Role.OPERATOR})
WAITING_FOR_INFO = "borrower_info"
MAX_WORDS = 1000


async def ask_queue(ctx: Ctx) -> None:
    cases = await ctx.turn.review_queue()
    choices = [
        Choice(f"c{case.id}", "case_item", {"case_id": case.id, "state": case.state.value}) for case in cases
    ]
    ctx.ask(
        "review/queue",
        *choices,
        Choice("menu", "menu"),
        queued=[{"id": c.id, "since": c.updated_at} for c in cases],
    )


async def on_queue(ctx: Ctx, picked: Picked) -> str:
    if picked.id == "menu":
        return "home:menu"
    case = await ctx.turn.case(int(picked.id.removeprefix("c")))
    ctx.conv.case_id = case.id
    return "case"


async def _submitted(ctx: Ctx) -> Case:
    case = await ctx.case()
    if case.state is not CaseState.SUBMITTED:
        raise Invalid("review/not_submitted", case_id=case.id, state=case.state.value)
    return case


async def ask_case(ctx: Ctx) -> None:
    case = await ctx.case()
    view = await brief(ctx, case)
    messages = [
        {"kind": m.kind.value, "at": m.created_at, "text": m.text}
        for m in await ctx.turn.messages(case.id)
        if m.kind in (MessageKind.INFO_REQUEST, MessageKind.INFO_REPLY)
    ]
    choices = [Choice("queue", "back")]
    if case.state is CaseState.SUBMITTED:
        choices[:0] = [
            Choice("approve", "approve"),
            Choice("reject", "reject_application"),
            Choice("more", "ask_more"),
        ]
    ctx.ask("review/case", *choices, case=view, info=messages, waiting=await ctx.turn.waiting_for(case.id))


async def on_case(ctx: Ctx, picked: Picked) -> str:
    if picked.id == "queue":
        return "queue"
    if picked.id == "approve":
        await approve(ctx, await _submitted(ctx))
        return "queue"
    await _submitted(ctx)
    return {"reject": "reject_reason", "more": "more_question"}[picked.id]


async def approve(ctx: Ctx, case: Case) -> None:
    """Approved: the borrower's plan goes to the lender as the first offer, with the lender's deadline."""
    deadline = ctx.services.negotiation.deadline(ctx.now)
    await ctx.turn.transition(case.id, CaseState.APPROVED, {})
    plan = await ctx.turn.chosen_plan(case.id)
    if plan is not None:
        await ctx.turn.make_offer(case.id, plan, deadline, proposer=Role.BORROWER)
    else:
        await ctx.turn.set_deadline(case.id, deadline)
    ctx.say("review/approved", case_id=case.id)
    borrower = await ctx.turn.borrower_of(case.id)
    notify(ctx, [borrower], "review/borrower_approved", open_case_choice(case.id), case_id=case.id)
    notify(
        ctx,
        await ctx.turn.lender_staff(case.id),
        "review/lender_new_case",
        open_case_choice(case.id, "view_offer"),
        case=await brief(ctx, case),
        terms=terms_view(plan) if plan else None,
        deadline_at=deadline,
    )


async def on_reject_reason(ctx: Ctx, reason: str) -> str:
    case = await _submitted(ctx)
    await ctx.turn.transition(case.id, CaseState.REJECTED, {})
    await ctx.turn.add_message(case.id, MessageKind.REASON, reason, (Role.BORROWER,))
    ctx.say("review/rejected", case_id=case.id)
    notify(
        ctx, [await ctx.turn.borrower_of(case.id)], "review/borrower_rejected", case_id=case.id, reason=reason
    )
    return "queue"


async def on_more_question(ctx: Ctx, question: str) -> str:
    case = await _submitted(ctx)
    await ctx.turn.add_message(case.id, MessageKind.INFO_REQUEST, question, (Role.BORROWER,))
    await ctx.turn.set_waiting(case.id, WAITING_FOR_INFO)
    ctx.say("review/more_asked", case_id=case.id)
    answer = Choice(f"{GLOBAL}info:{case.id}", "answer_question")
    notify(
        ctx,
        [await ctx.turn.borrower_of(case.id)],
        "review/borrower_more",
        answer,
        case_id=case.id,
        question=question,
    )
    return "queue"


REVIEW = Flow(
    "review",
    {
        "queue": Step(ask_queue, buttons_only, on_queue),
        "case": Step(ask_case, buttons_only, on_case),
        "reject_reason": Step(prompt("review/reject_reason"), text(max_len=MAX_WORDS), on_reject_reason),
        "more_question": Step(prompt("review/more_question"), text(max_len=MAX_WORDS), on_more_question),
    },
    roles=OPERATORS,
)


# The borrower's side of "more information": their answer, and the case is back in the queue


async def ask_info(ctx: Ctx) -> None:
    case = await ctx.case()
    questions = [m.text for m in await ctx.turn.messages(case.id) if m.kind is MessageKind.INFO_REQUEST]
    if await ctx.turn.waiting_for(case.id) != WAITING_FOR_INFO or not questions:
        ctx.ask("review/info_nothing", Choice("menu", "menu"), case_id=case.id)
        return
    ctx.ask("review/info_answer", case_id=case.id, question=questions[-1])


async def on_info(ctx: Ctx, answer: str | Picked) -> str:
    if isinstance(answer, Picked):
        return "home:menu"
    case = await ctx.case()
    if await ctx.turn.waiting_for(case.id) != WAITING_FOR_INFO:
        raise Invalid("review/info_nothing", case_id=case.id)
    await ctx.turn.add_message(case.id, MessageKind.INFO_REPLY, answer, (Role.OPERATOR,))
    await ctx.turn.set_waiting(case.id, None)
    ctx.say("review/info_thanks", case_id=case.id)
    notify(
        ctx, await ctx.turn.operators(), "review/info_received", open_case_choice(case.id), case_id=case.id
    )
    return "home:menu"


INFO = Flow("info", {"answer": Step(ask_info, text(max_len=MAX_WORDS), on_info)}, sensitive=True)
