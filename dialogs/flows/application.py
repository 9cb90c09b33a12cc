"""Where a borrower's application stands, so every path (menu, /start, a step) resumes in the right place."""

from __future__ import annotations

from dialogs.domain import Case
from dialogs.flows.base import Ctx
from dialogs.lifecycle import TERMINAL, CaseState

PLAN_DONE = "plan_done"  # the borrower chose a mediator without a plan (no plan is stored for that)


async def open_case(ctx: Ctx) -> Case | None:
    """The case this conversation is about, else the borrower's latest case that is not finished."""
    if ctx.conv.case_id is not None:
        return await ctx.turn.case(ctx.conv.case_id)
    live = [case for case in await ctx.turn.my_cases() if case.state not in TERMINAL]
    if not live:
        return None
    ctx.conv.case_id = live[-1].id
    return live[-1]


async def next_target(ctx: Ctx) -> str:  # noqa: PLR0911 - one return per stage reads best
    """The first thing the application still needs, or the status when it is out of the borrower's hands."""
    if ctx.account.consented_at is None:
        return "welcome:consent"
    case = await open_case(ctx)
    if case is None or case.state in TERMINAL:
        ctx.conv.case_id = None
        return "verify:ref"
    if case.state is not CaseState.DRAFT:
        return "status:show"
    if await ctx.turn.hardship(case.id) is None:
        return "hardship:reason"
    if await ctx.turn.finances(case.id) is None:
        return "finances:net_monthly_income"
    if not await plan_decided(ctx, case.id):
        return "plans:options"
    return "submit:review"


async def plan_decided(ctx: Ctx, case_id: int) -> bool:
    """A plan is chosen, or the borrower chose to go to a mediator without one."""
    return ctx.data.get(PLAN_DONE) == case_id or await ctx.turn.chosen_plan(case_id) is not None


def mediator_chosen(ctx: Ctx, case_id: int) -> None:
    """Remember that the borrower goes to a mediator without a plan, for this case only."""
    ctx.data[PLAN_DONE] = case_id


def plan_voided(ctx: Ctx, changed: str = "balance") -> None:
    """The situation a plan was chosen on has changed (the store dropped the plan): say what changed
    (``budget``, ``hardship`` or the loan's ``balance``); choose again."""
    ctx.data.pop(PLAN_DONE, None)
    ctx.say("plans/choose_again", changed=changed)
