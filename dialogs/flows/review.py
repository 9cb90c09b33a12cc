"""The mediator's review of submitted applications: the queue, oldest first; one case in full (masked);
approve, reject with a reason the borrower reads, or ask the borrower for more.
"""

from __future__ import annotations

from typing import Any

from dialogs.domain import Case, FileRef, MessageKind, Role
from dialogs.flows.base import Choice, Ctx, Flow, Invalid, Picked, Step, prompt
from dialogs.flows.casework import (
    GLOBAL,
    brief,
    case_entry,
    notify,
    open_case_choice,
    report_choices,
    report_view,
    terms_view,
)
from dialogs.flows.inputs import buttons_only, file, text
from dialogs.lifecycle import TERMINAL, CaseState
from dialogs.messages import Inbound, InboundKind

OPERATORS = frozenset({Role.OPERATOR})
REVIEW_CHOICES = (
    Choice("approve", "approve"),
    Choice("reject", "reject_application"),
    Choice("more", "ask_more"),
)
WAITING_FOR_INFO = "borrower_info"
MAX_WORDS = 1000
QUEUE_FILTER = "d_filter"  # set by /queue and /cases (dialogs.flows.desk)
# The questions and answers are part of the brief the lender's staff read once the case is approved.
QUESTION_TO = (Role.BORROWER, Role.LENDER)
ANSWER_TO = (Role.OPERATOR, Role.LENDER)


async def ask_queue(ctx: Ctx) -> None:
    """Submitted applications, oldest first, each with what is owed, its grade and how long it waited;
    ``/queue [lender]`` keeps one lender's (``/queue`` alone clears the filter)."""
    chosen = ctx.data.get(QUEUE_FILTER) or {}
    cases = [
        case
        for case in await ctx.turn.review_queue()
        if chosen.get("lender_id") in (None, case.lender_id)
        and chosen.get("state") in (None, case.state.value)
    ]
    choices = [
        Choice(f"c{case.id}", "case_item", {"case_id": case.id, "state": case.state.value}) for case in cases
    ]
    ctx.ask(
        "review/queue",
        *choices,
        Choice("menu", "menu"),
        entries=[await case_entry(ctx, case) for case in cases],
        lender=chosen.get("lender"),
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
    reports = await ctx.turn.open_reports(case.id)
    review = REVIEW_CHOICES if case.state is CaseState.SUBMITTED else ()
    ctx.ask(
        "review/case",
        *review,
        *report_choices(reports),
        Choice("queue", "back"),
        case=view,
        waiting=await ctx.turn.waiting_for(case.id),
        earlier=await loan_history(ctx, case),
        reports=[report_view(r) for r in reports],
    )


async def loan_history(ctx: Ctx, case: Case) -> list[dict[str, Any]]:
    """Other cases on the same loan and how each ended (or where it stands): a second application shows."""
    if case.loan_id is None:
        return []
    return [
        {"id": c.id, "state": c.state.value, "at": c.updated_at, "ended": c.state in TERMINAL}
        for c in await ctx.turn.loan_cases(case.loan_id)
        if c.id != case.id
    ]


async def on_case(ctx: Ctx, picked: Picked) -> str:
    if picked.id == "queue":
        return "queue"
    if picked.id.startswith("r") and picked.id[1:].isdigit():
        # A report is decided as on the mediator's case view (dialogs.flows.mediate).
        ctx.data["m_report"] = int(picked.id[1:])
        return "mediate:report_outcome"
    return await on_review(ctx, picked.id)


async def on_review(ctx: Ctx, action: str, after: str = "review:queue") -> str:
    """Approve, reject or ask for more: a submitted case's review, from whichever view it was opened
    (``after``: where an approval returns to)."""
    case = await _submitted(ctx)
    if action == "approve":
        await approve(ctx, case)
        return after
    return {"reject": "review:reject_reason", "more": "review:more_question"}[action]


async def approve(ctx: Ctx, case: Case) -> None:
    """Approved: the borrower's plan goes to the lender as the first offer, with the lender's deadline."""
    deadline = ctx.services.negotiation.deadline(ctx.now)
    await ctx.turn.transition(case.id, CaseState.APPROVED, {})
    plan = await ctx.turn.chosen_plan(case.id)
    if plan is not None:
        await ctx.turn.make_offer(case.id, plan, deadline, proposer=Role.BORROWER)
    else:
        await ctx.turn.set_deadline(case.id, deadline)
    staff = await ctx.turn.lender_staff(case.id)
    lender = await ctx.turn.lender(case.lender_id) if case.lender_id else None
    # Told the truth: with no staff yet, nobody at the lender hears of the case until someone is invited.
    ctx.say(
        "review/approved",
        case_id=case.id,
        staff=len(staff),
        lender=lender.name if lender else "",
        hours=round((deadline - ctx.now).total_seconds() / 3600),
    )
    borrower = await ctx.turn.borrower_of(case.id)
    notify(ctx, [borrower], "review/borrower_approved", open_case_choice(case.id), case_id=case.id)
    notify(
        ctx,
        staff,
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
    await ctx.turn.add_message(case.id, MessageKind.INFO_REQUEST, question, QUESTION_TO)
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


def text_or_file(ctx: Ctx, inbound: Inbound) -> str | FileRef:
    """The answer to a mediator's question: words, or a document (a letter, a certificate)."""
    if inbound.kind is InboundKind.FILE:
        return file(ctx, inbound)
    return str(text(max_len=MAX_WORDS)(ctx, inbound))


async def on_info(ctx: Ctx, answer: str | FileRef | Picked) -> str:
    if isinstance(answer, Picked):
        return "home:menu"
    case = await ctx.case()
    if await ctx.turn.waiting_for(case.id) != WAITING_FOR_INFO:
        raise Invalid("review/info_nothing", case_id=case.id)
    if isinstance(answer, FileRef):
        # Kept like hardship evidence (hashed, its name sealed); the answer names the file and its hash.
        await ctx.turn.add_evidence(case.id, "info", answer)
        answer = f"📎 {answer.file_name or ''} sha256 {answer.sha256[:12]}…".replace("  ", " ")
    await ctx.turn.add_message(case.id, MessageKind.INFO_REPLY, answer, ANSWER_TO)
    await ctx.turn.set_waiting(case.id, None)
    ctx.say("review/info_thanks", case_id=case.id)
    notify(
        ctx, await ctx.turn.operators(), "review/info_received", open_case_choice(case.id), case_id=case.id
    )
    return "home:menu"


INFO = Flow("info", {"answer": Step(ask_info, text_or_file, on_info)}, sensitive=True)
