"""Review and submit: everything the operator and lender will see, masked, then one explicit confirmation."""

from __future__ import annotations

from decimal import Decimal

from dialogs.flows import application, plans
from dialogs.flows.base import HOME, Choice, Ctx, Flow, Invalid, Picked, Step
from dialogs.flows.inputs import buttons_only
from dialogs.lifecycle import CaseState
from dialogs.masking import mask_id_number, mask_name, mask_phone
from dialogs.rules.affordability import Finances

_CHANGE = {
    "hardship": "hardship:reason",
    "finances": "finances:summary",  # every figure as stored, each one correctable
    "plan": "plans:options",
}


def budget(finances: Finances) -> dict[str, Decimal]:
    return {
        "income": finances.net_monthly_income,
        "essential": finances.essential_expenses,
        "other_debts": finances.other_debt_payments,
        "savings": finances.savings,
    }


async def ask_review(ctx: Ctx) -> None:
    case = await ctx.case()
    if case.loan_id is None:
        raise Invalid("errors/no_case")
    loan = await ctx.turn.loan(case.loan_id)
    hardship = await ctx.turn.hardship(case.id)
    finances = await ctx.turn.finances(case.id)
    ctx.ask(
        "submit/review",
        Choice("submit", "submit"),
        *(Choice(f"change_{part}", f"change_{part}") for part in _CHANGE),
        name=mask_name(loan.row.borrower_name),
        id_number=mask_id_number(loan.row.id_number),
        phone=mask_phone(loan.row.phone),
        lender=(await ctx.turn.lender(loan.lender_id)).name,
        ref=loan.row.loan_ref,
        owed=loan.row.outstanding_total,
        reason=hardship.reason.value if hardship else None,
        lasting=hardship.lasting if hardship else None,
        evidence=len(await ctx.turn.evidence(case.id)),
        finances=budget(finances) if finances else None,
        plan=await ctx.turn.chosen_plan(case.id),
    )


async def on_review(ctx: Ctx, picked: Picked) -> str:
    if picked.id.startswith("change_"):
        return _CHANGE[picked.id.removeprefix("change_")]
    case = await ctx.case()
    plan = await ctx.turn.chosen_plan(case.id)
    if plan is not None and not await plans.still_holds(ctx, plan):
        await ctx.turn.choose_plan(case.id, None)
        application.plan_voided(ctx)
        return "plans:options"
    details = {"plan": plan["kind"] if plan else None, "no_affordable_plan": plan is None}
    await ctx.turn.transition(case.id, CaseState.SUBMITTED, details)
    ctx.data.pop(application.PLAN_DONE, None)
    ctx.say("submit/done", case_id=case.id, no_plan=plan is None)
    return HOME


SUBMIT = Flow("submit", {"review": Step(ask_review, buttons_only, on_review)}, sensitive=True)
