"""Plans: the ranked options the rules give for this borrower, or their own terms, checked the same way."""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from decimal import ROUND_CEILING, Decimal
from typing import Any

from dialogs.domain import Loan
from dialogs.errors import InvalidInput
from dialogs.flows import application
from dialogs.flows.base import Choice, Ctx, Flow, Invalid, Picked, Step, prompt
from dialogs.flows.inputs import buttons_only, money, whole_number
from dialogs.flows.rates import protection, rule_view
from dialogs.rules.affordability import Finances
from dialogs.rules.interest import InterestLaw, ProtectedRate
from dialogs.rules.money import ZERO
from dialogs.rules.plans import (
    Balance,
    PlanKind,
    PlanOption,
    finish_months,
    max_months,
    minimum_monthly,
    option_for,
    plan_options,
    validate_proposal,
)
from dialogs.rules.schedules import MAX_MONTHS

# The shapes a borrower can propose themselves; the others are the lender's to offer.
OWN_KINDS = (
    PlanKind.TERM_EXTENSION_EQUAL_INSTALMENT,
    PlanKind.INTEREST_STOPPED_INSTALMENTS,
    PlanKind.DISCOUNTED_SETTLEMENT,
)


def balance_of(loan: Loan, today: date, law: InterestLaw) -> Balance:
    """What is owed, with the level that binds the loan's lender: no plan charges more (DESIGN §4)."""
    row = loan.row
    elapsed = (today.year - row.start_date.year) * 12 + today.month - row.start_date.month
    return Balance(
        outstanding_principal=row.outstanding_principal,
        outstanding_interest=row.outstanding_interest,
        penalty=row.penalty,
        fees=row.fees,
        annual_rate=row.annual_rate,
        remaining_term_months=min(max(row.term_months - elapsed, 0), MAX_MONTHS),
        protected_rate=law.protected(loan.lender_kind, row.start_date).rate,
        overdue_days=row.overdue_days,  # so overdue charges are held to the same cap /legal reports
    )


def plan_record(option: PlanOption, *, own: bool = False) -> dict[str, Any]:
    """A plan as shown and summarised."""
    return {
        "kind": option.kind.value,
        "months": option.months,
        "monthly_amount": option.monthly_amount,
        "last_amount": option.last_amount,
        "total_repaid": option.total_repaid,
        "amount_waived": option.amount_waived,
        "annual_rate": option.annual_rate,  # None for a lender's offer above the protected level
        "above_protected": option.above_protected,
        "above_limit": option.above_limit,  # overdue charges above the legal limit, not charged
        "holiday_months": option.holiday_months,
        "affordable": option.affordable,
        "void_if_missed": option.void_if_missed,
        "own_terms": own,
    }


def terms_record(option: PlanOption, *, own: bool = False) -> dict[str, Any]:
    """A plan as terms someone proposes: the record and every instalment (the agreement's schedule)."""
    return {**plan_record(option, own=own), "amounts": [row[3] for row in option.schedule.rows]}


async def _situation(ctx: Ctx) -> tuple[int, Balance, Finances, bool]:
    case = await ctx.case()
    if case.loan_id is None:
        raise Invalid("errors/no_case")
    finances = await ctx.turn.finances(case.id)
    hardship = await ctx.turn.hardship(case.id)
    if finances is None or hardship is None:
        raise Invalid("plans/situation_missing")
    balance = balance_of(await ctx.turn.loan(case.loan_id), ctx.now.date(), ctx.services.interest_law)
    return case.id, balance, finances, not hardship.lasting


async def ask_options(ctx: Ctx) -> None:
    _, balance, finances, temporary = await _situation(ctx)
    plans = plan_options(balance, finances, ctx.services.policy, temporary_hardship=temporary)
    ctx.data["p_opts"] = [[option.kind.value, option.months] for option in plans.options]
    choices = [
        Choice(f"p{index}", "plan_option", {"kind": option.kind.value, "monthly": option.monthly_amount})
        for index, option in enumerate(plans.options)
        if option.affordable
    ]
    if plans.nothing_affordable:
        choices.append(Choice("operator", "ask_mediator"))
    choices.append(Choice("own", "own_terms"))
    ctx.ask(
        "plans/options",
        *choices,
        options=[plan_record(option) for option in plans.options],
        owed=balance.total,
        above_limit=balance.above_limit,
        affordable=plans.affordability.affordable_instalment,
        nothing_affordable=plans.nothing_affordable,
        shortfall=max(-plans.affordability.disposable, ZERO),  # a short budget is said as the shortfall
        plan_rate=balance.plan_rate,
        contract_rate=balance.annual_rate,
        waiver_share=ctx.services.policy.partial_interest_waiver_share,
        **rule_view(await _level(ctx)),
    )


async def _level(ctx: Ctx) -> ProtectedRate:
    case = await ctx.case()
    if case.loan_id is None:
        raise Invalid("errors/no_case")
    return protection(ctx, await ctx.turn.loan(case.loan_id))


async def on_options(ctx: Ctx, picked: Picked) -> str:
    if picked.id == "own":
        return "own_kind"
    case_id, balance, finances, _ = await _situation(ctx)
    if picked.id == "operator":
        await ctx.turn.choose_plan(case_id, None)
        application.mediator_chosen(ctx, case_id)
        return "submit:review"
    kind, months = ctx.data["p_opts"][int(picked.id.removeprefix("p"))]
    option = option_for(balance, PlanKind(kind), months, finances=finances, policy=ctx.services.policy)
    await ctx.turn.choose_plan(case_id, terms_record(option))
    return "submit:review"


# Own terms: what the person typed (kind, months, amount) stays in OWN until they propose something else,
# and each step computes the plan from it and the stored situation, so /back or a restart at any of these
# steps finds what it needs (a plan computed once and handed on can be gone, or stale, by then).
OWN = "o"


async def on_own_kind(ctx: Ctx, picked: Picked) -> str:
    kind = PlanKind(picked.id)
    earlier = await _earlier_terms(ctx)
    # The same kind again ("Change", then a second thought): its months and amount are offered to keep.
    ctx.data[OWN] = earlier if earlier.get("kind") == kind.value else {"kind": kind.value}
    if kind is PlanKind.DISCOUNTED_SETTLEMENT:
        ctx.data[OWN]["months"] = 1
        return "own_amount"
    return "own_months"


async def _earlier_terms(ctx: Ctx) -> dict[str, Any]:
    """The own terms typed in this conversation, else those of the own plan the store holds, else none."""
    own: dict[str, Any] = ctx.data.get(OWN) or {}
    if own:
        return own
    stored = await ctx.turn.chosen_plan((await ctx.case()).id)
    if not stored or not stored.get("own_terms"):
        return {}
    return {"kind": stored["kind"], "months": stored["months"], "amount": str(stored["monthly_amount"])}


async def ask_own_months(ctx: Ctx) -> None:
    own = ctx.data.get(OWN, {})
    months = own.get("months")
    keep = () if months is None else (Choice("keep", "keep_months", {"months": months}),)
    ctx.ask("plans/own_months", *keep, maximum=_months_limit(ctx, own.get("kind")))


def _months_limit(ctx: Ctx, kind: str | None) -> int:
    # Asked and checked within the kind's own limit (停息挂账 runs at most 60 months), not the 360 of any.
    return max_months(PlanKind(kind), ctx.services.policy) if kind else MAX_MONTHS


async def on_own_months(ctx: Ctx, answer: int | Picked) -> str:
    if "kind" not in ctx.data.get(OWN, {}):
        return "own_kind"
    if isinstance(answer, Picked):  # "Keep": the months typed before
        return "own_amount" if "months" in ctx.data[OWN] else "own_months"
    months = answer
    limit = _months_limit(ctx, ctx.data[OWN]["kind"])
    if months > limit:
        raise Invalid("errors/number", minimum=1, maximum=limit, example=str(min(24, limit)))
    ctx.data[OWN]["months"] = months  # the amount typed before stays on offer, checked when kept
    return "own_amount"


async def ask_own_amount(ctx: Ctx) -> None:
    amount = ctx.data.get(OWN, {}).get("amount")
    keep = () if amount is None else (Choice("keep", "keep_amount", {"amount": amount}),)
    ctx.ask("plans/own_amount", *keep)


async def on_own_amount(ctx: Ctx, answer: Decimal | Picked) -> str:
    own = ctx.data.get(OWN, {})
    if "kind" not in own or "months" not in own:
        return "own_kind"
    if isinstance(answer, Picked) and "amount" not in own:
        return "own_amount"
    # "Keep" is checked like a typed amount: the months may have changed since it was typed.
    amount = Decimal(own["amount"]) if isinstance(answer, Picked) else answer
    _, balance, finances, _ = await _situation(ctx)
    kind, months = PlanKind(own["kind"]), int(own["months"])
    policy = ctx.services.policy
    try:
        validate_proposal(balance, kind, months, amount, finances=finances, policy=policy)
    except InvalidInput:
        raise why_not(balance, kind, months, amount, finances, ctx) from None
    own["amount"] = str(amount)
    return "own_confirm"


async def own_proposal(ctx: Ctx) -> dict[str, Any] | None:
    """The own terms to confirm: as last typed, judged by the stored situation, else the stored own plan."""
    own = ctx.data.get(OWN, {})
    if {"kind", "months", "amount"} <= own.keys():
        _, balance, finances, _ = await _situation(ctx)
        kind, months, amount = PlanKind(own["kind"]), int(own["months"]), Decimal(own["amount"])
        try:
            option = validate_proposal(
                balance, kind, months, amount, finances=finances, policy=ctx.services.policy
            )
        except InvalidInput:
            return None  # the loan or the situation changed so that these terms no longer repay it
        return terms_record(option, own=True)
    stored = await ctx.turn.chosen_plan((await ctx.case()).id)
    return stored if stored and stored.get("own_terms") else None


def why_not(
    balance: Balance,
    kind: PlanKind,
    months: int,
    amount: Decimal,
    finances: Finances,
    ctx: Ctx,
    *,
    lender: bool = False,
) -> Invalid:
    """A refused proposal, explained: too little (with what is needed) or more months than needed.

    The minimum is the rules' own (:func:`minimum_monthly`), so what is said needed is what is accepted.
    A lender may ask up to the contract rate, so their "too much" is counted against that.
    """
    policy = ctx.services.policy
    try:
        reference = option_for(balance, kind, months, finances=finances, policy=policy)
        ceiling = reference.total_repaid
        if lender:
            uncapped = replace(balance, protected_rate=None)
            ceiling = option_for(uncapped, kind, months, finances=finances, policy=policy).total_repaid
    except InvalidInput:
        return Invalid("plans/own_not_possible")
    needed = minimum_monthly(reference)
    settlement = kind is PlanKind.DISCOUNTED_SETTLEMENT
    if amount < needed:
        return Invalid("plans/own_refused", needed=needed, months=months, settlement=settlement)
    if settlement:  # one payment: more than is owed, not "sooner"
        return Invalid("plans/own_too_much", months=1, settlement=True, most=balance.payable_total)
    if lender:
        return Invalid("plans/own_too_much", months=int((ceiling / amount).to_integral_value(ROUND_CEILING)))
    # The list's own rule (finish_months), so the term said is the one the list shows at that amount.
    finish = finish_months(balance, kind, amount, finances=finances, policy=policy)
    return Invalid("plans/own_too_much", months=finish or months, settlement=False)


async def ask_own_confirm(ctx: Ctx) -> None:
    plan = await own_proposal(ctx)
    if plan is None:  # nothing left to confirm: ask for the terms again rather than confirm nothing
        ctx.conv.step = "own_kind"
        await PLANS.steps["own_kind"].ask(ctx)
        return
    ctx.ask("plans/own_confirm", Choice("choose", "choose_plan"), Choice("change", "change"), plan=plan)


async def on_own_confirm(ctx: Ctx, picked: Picked) -> str:
    plan = await own_proposal(ctx)
    if picked.id == "change" or plan is None:
        return "own_kind"
    await ctx.turn.choose_plan((await ctx.case()).id, plan)
    return await application.next_target(ctx)


async def still_holds(ctx: Ctx, plan: dict[str, Any]) -> bool:
    """Whether a chosen plan is still what the rules give for the stored loan and situation.

    Saving hardship or finances drops a plan in the store; this catches what changes elsewhere (the
    lender re-imports the loan), so nothing is submitted with terms or an "affordable" mark gone stale.
    """
    _, balance, finances, _ = await _situation(ctx)
    kind, months, policy = PlanKind(plan["kind"]), int(plan["months"]), ctx.services.policy
    try:
        if plan.get("own_terms"):
            amount = Decimal(str(plan["monthly_amount"]))
            option = validate_proposal(balance, kind, months, amount, finances=finances, policy=policy)
        else:
            option = option_for(balance, kind, months, finances=finances, policy=policy)
    except InvalidInput:
        return False
    now = terms_record(option, own=bool(plan.get("own_terms")))
    return all(str(now[key]) == str(plan.get(key)) for key in _JUDGED)


_JUDGED = ("monthly_amount", "last_amount", "total_repaid", "amount_waived", "affordable")


PLANS = Flow(
    "plans",
    {
        "options": Step(ask_options, buttons_only, on_options),
        "own_kind": Step(
            prompt("plans/own_kind", *(Choice(kind.value, f"kind_{kind.value}") for kind in OWN_KINDS)),
            buttons_only,
            on_own_kind,
        ),
        "own_months": Step(
            ask_own_months,
            whole_number(minimum=1, maximum=MAX_MONTHS, example="24"),
            on_own_months,
        ),
        "own_amount": Step(ask_own_amount, money(example="850"), on_own_amount),
        "own_confirm": Step(ask_own_confirm, buttons_only, on_own_confirm),
    },
    sensitive=True,
)
