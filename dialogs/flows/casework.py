"""What every side's flows share about a case: the brief staff see, the terms as shown, telling the others.

Messages to other people carry only global buttons (``g:…``) that name a case: pressing one re-checks
who may see that case, so a stale or forged one changes nothing.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from decimal import Decimal
from typing import Any

from dialogs.collection import collection_time
from dialogs.domain import Account, Case, Hardship, HardshipReason, Loan, LoanRow, MessageKind, Offer, Role
from dialogs.flows.base import Choice, Ctx, Invalid
from dialogs.flows.plans import balance_of
from dialogs.flows.rates import check_loan, check_view
from dialogs.flows.submit import budget
from dialogs.masking import mask_id_number, mask_name, mask_phone
from dialogs.messages import Button, Outbound
from dialogs.rules.affordability import Finances, assess
from dialogs.rules.plans import Balance, PlanKind
from dialogs.rules.risk import HardshipKind, IncomeStability, assess_risk, plan_inputs

GLOBAL = "g:"  # buttons valid at any step: help, the menu, and actions on a named case (re-checked)
ASK_FOR_HELP = Choice(f"{GLOBAL}operator", "talk_to_person")
UNSTEADY_INCOME = frozenset(
    {HardshipReason.JOB_LOSS, HardshipReason.BUSINESS_FAILURE, HardshipReason.INCOME_CUT}
)


def open_case_choice(case_id: int, label: str = "open_case") -> Choice:
    return Choice(f"{GLOBAL}open:{case_id}", label, {"case_id": case_id})


def parse_global(choice: str) -> tuple[str, list[int]] | None:
    """``g:verb:1:2`` → (verb, [1, 2]); ``None`` when any part is not what a button of ours would carry."""
    verb, *parts = choice.removeprefix(GLOBAL).split(":")
    if (
        not verb.isalpha()
        or len(parts) > 2
        or not all(p.isascii() and p.isdigit() and len(p) <= 12 for p in parts)
    ):
        return None
    return verb, [int(p) for p in parts]


def notify(
    ctx: Ctx,
    recipients: Iterable[Account],
    template: str,
    *choices: Choice,
    not_before: datetime | None = None,
    **context: Any,
) -> None:
    """Tell other people: each gets the message in their own language, with global buttons only."""
    buttons = tuple(Button(f"0.{c.id}", c.label, dict(c.context)) for c in choices)
    for account in recipients:
        ctx.turn.send(Outbound(account.id, template, context, buttons, not_before=not_before))


async def conduct_time(ctx: Ctx, case_id: int, borrower: Account) -> datetime:
    """When words from the lender's side may reach the borrower: inside their local hours and within the
    day's cap (DESIGN §4), counted with reminders and a mediator's messages (dialogs.collection); past the
    cap they wait for the next day with room."""
    return await collection_time(ctx.turn, ctx.services.conduct, case_id, borrower.time_zone, ctx.now)


async def tell_other_side(
    ctx: Ctx, case_id: int, template: str, *choices: Choice, collection: bool = True, **context: Any
) -> datetime | None:
    """Tell the side across from the sender (both sides, for a mediator), holding lender words to hours.

    ``collection``: the lender's words press the borrower (offers, rejections, their own words) and wait
    for the conduct window; an acceptance or a notice that serves the borrower goes at once. Returns when
    held words will reach the borrower, ``None`` when they go now.
    """
    role = ctx.account.role
    held = None
    if role is not Role.BORROWER:
        borrower = await ctx.turn.borrower_of(case_id)
        if role is Role.LENDER and collection:
            held = await held_until(ctx, case_id, borrower)
        notify(
            ctx,
            [borrower],
            template,
            *choices,
            not_before=held,
            sender=role.value,
            case_id=case_id,
            **context,
        )
    if role is not Role.LENDER:
        staff = await ctx.turn.lender_staff(case_id)
        notify(ctx, staff, template, *choices, sender=role.value, case_id=case_id, **context)
    return held


async def held_until(ctx: Ctx, case_id: int, borrower: Account | None = None) -> datetime | None:
    """When the lender's words written now would reach the borrower, ``None`` when at once."""
    borrower = borrower or await ctx.turn.borrower_of(case_id)
    at = await conduct_time(ctx, case_id, borrower)
    return at if at > ctx.now else None


async def tell_operators(ctx: Ctx, case_id: int, template: str, **context: Any) -> None:
    notify(ctx, await ctx.turn.operators(), template, open_case_choice(case_id), case_id=case_id, **context)


def terms_view(terms: dict[str, Any]) -> dict[str, Any]:
    """An offer's terms as templates show them (never anything private, such as a blind bid's bounds)."""
    keys = (
        "affordable",
        "kind",
        "months",
        "monthly_amount",
        "last_amount",
        "total_repaid",
        "amount_waived",
        "holiday_months",
        "annual_rate",
        "above_protected",  # a lender's offer above the protected level: the excess in money
        "above_limit",  # overdue charges above the legal limit, not charged
    )
    amounts = [Decimal(str(a)) for a in terms.get("amounts") or []]
    # 等额本金: each instalment smaller than the one before, so "a month" would misstate it.
    falling = len(amounts) > 2 and amounts[0] > amounts[1]
    return {key: terms.get(key) for key in keys} | {
        "void_if_missed": bool(terms.get("void_if_missed")),
        "falling": falling,
    }


def offer_view(offer: Offer) -> dict[str, Any]:
    return {
        "id": offer.id,
        "round": offer.round,
        "proposer": offer.proposer.value,
        "status": offer.status.value,
        "deadline_at": offer.deadline_at,
        "made_at": offer.created_at,
        "decided_at": offer.decided_at,
        "terms": terms_view(offer.terms),
        "accepted_by": [role.value for role in offer.accepted_by],
    }


async def situation(ctx: Ctx, case: Case) -> tuple[Balance, Finances | None, Hardship | None]:
    balance = balance_of(await _loan(ctx, case), ctx.now.date(), ctx.services.interest_law)
    return balance, await ctx.turn.finances(case.id), await ctx.turn.hardship(case.id)


async def _loan(ctx: Ctx, case: Case) -> Loan:
    if case.loan_id is None:
        raise Invalid("errors/no_case")
    return await ctx.turn.loan(case.loan_id)


async def parties(ctx: Ctx, case: Case) -> dict[str, Any]:
    """Who and what a case is about, personal details masked: the head of every staff view and document."""
    loan = await _loan(ctx, case)
    row = loan.row
    return {
        "id": case.id,
        "state": case.state.value,
        "name": mask_name(row.borrower_name),
        "id_number": mask_id_number(row.id_number),
        "phone": mask_phone(row.phone),
        "lender": (await ctx.turn.lender(loan.lender_id)).name,
        "ref": row.loan_ref,
        "owed": balance_of(loan, ctx.now.date(), ctx.services.interest_law).total,
        "overdue_days": row.overdue_days,
    }


async def brief(ctx: Ctx, case: Case) -> dict[str, Any]:
    """Everything staff need to judge a case: the parties, the situation, the plan, risk and interest."""
    head = await parties(ctx, case)
    loan = await _loan(ctx, case)
    row = loan.row
    _, finances, hardship = await situation(ctx, case)
    plan = await ctx.turn.chosen_plan(case.id)
    check = check_loan(ctx, loan)
    evidence = await ctx.turn.evidence(case.id)
    offers = await ctx.turn.offers(case.id)
    return head | {
        "reason": hardship.reason.value if hardship else None,
        "lasting": hardship.lasting if hardship else None,
        "description": hardship.description if hardship else None,
        "finances": budget(finances) if finances else None,
        "evidence": [{"name": f.file_name or "", "sha256": f.sha256[:12]} for f in evidence],
        "plan": plan,
        "risk": _risk(row.overdue_days, finances, hardship, plan, ctx),
        "interest": check_view(loan, check),
        "apr": check.apr_compound,
        "protected": check.protected_rate,
        "above": check.above_protected,
        "contract_rate": row.annual_rate,
        "balance": _balance_view(row),
        "affordable": assess(finances, ctx.services.policy.affordable_share).affordable_instalment
        if finances
        else None,
        "questions": await questions(ctx, case.id),
        "offers": [offer_view(o) for o in offers],
    }


def _balance_view(row: LoanRow) -> dict[str, Decimal]:
    return {
        "principal": row.outstanding_principal,
        "interest": row.outstanding_interest,
        "penalty": row.penalty,
        "fees": row.fees,
    }


async def questions(ctx: Ctx, case_id: int) -> list[dict[str, Any]]:
    """The mediator's questions to the borrower and the answers, in order (files answered by name)."""
    asked = (MessageKind.INFO_REQUEST, MessageKind.INFO_REPLY)
    return [
        {"kind": m.kind.value, "at": m.created_at, "text": m.text}
        for m in await ctx.turn.messages(case_id)
        if m.kind in asked
    ]


def _risk(
    overdue_days: int,
    finances: Finances | None,
    hardship: Hardship | None,
    plan: dict[str, Any] | None,
    ctx: Ctx,
) -> dict[str, Any] | None:
    if finances is None or hardship is None:
        return None
    monthly = Decimal(str(plan["monthly_amount"])) if plan else Decimal(0)
    # A settlement is one payment from savings, not a monthly one (risk.plan_inputs).
    lump_sum = plan is not None and plan["kind"] == PlanKind.DISCOUNTED_SETTLEMENT.value
    income = finances.net_monthly_income
    stability = (
        IncomeStability.NONE
        if income == 0
        else IncomeStability.IRREGULAR
        if hardship.reason in UNSTEADY_INCOME
        else IncomeStability.STABLE
    )
    inputs = plan_inputs(
        other_debt_payments=finances.other_debt_payments,
        net_monthly_income=income,
        savings=finances.savings,
        overdue_days=overdue_days,
        hardship=HardshipKind.LASTING if hardship.lasting else HardshipKind.TEMPORARY,
        income_stability=stability,
        affordable_instalment=assess(finances, ctx.services.policy.affordable_share).affordable_instalment,
        plan_amount=monthly,
        lump_sum=lump_sum,
    )
    assessment = assess_risk(inputs)
    return {
        "grade": assessment.grade.value,
        "score": assessment.score,
        "factors": [{"code": f.code, "value": f.value, "points": f.points} for f in assessment.factors],
    }


async def waiting_for_mediator(ctx: Ctx) -> tuple[int, int]:
    """What the escalations list shows: cases that need a mediator, and people without a case who asked for
    one (a menu's count is the sum, so it matches the list)."""
    return len(await ctx.turn.escalations()), len(await ctx.turn.help_requests(None))


def report_view(report: dict[str, Any]) -> dict[str, Any]:
    """An open harassment report as a mediator reads it, wherever the case is opened."""
    keys = ("id", "at", "how", "who", "when", "details", "message")
    return {key: report.get(key) for key in keys} | {"evidence": bool(report.get("evidence"))}


def report_choices(reports: list[dict[str, Any]]) -> list[Choice]:
    return [Choice(f"r{r['id']}", "decide_report", {"report": r["id"]}) for r in reports]


async def case_entry(ctx: Ctx, case: Case) -> dict[str, Any]:
    """One line of a mediator's list: what is owed, the grade, how long it has waited, the next deadline."""
    entry: dict[str, Any] = {
        "id": case.id,
        "state": case.state.value,
        "days": max((ctx.now - case.updated_at).days, 0),
        "deadline_at": await ctx.turn.deadline_of(case.id),
        "lender": None,
        "owed": None,
        "grade": None,
    }
    if case.loan_id is None:
        return entry
    loan = await _loan(ctx, case)
    _, finances, hardship = await situation(ctx, case)
    risk = _risk(loan.row.overdue_days, finances, hardship, await ctx.turn.chosen_plan(case.id), ctx)
    return entry | {
        "lender": (await ctx.turn.lender(loan.lender_id)).name,
        "owed": balance_of(loan, ctx.now.date(), ctx.services.interest_law).total,
        "grade": risk["grade"] if risk else None,
    }
