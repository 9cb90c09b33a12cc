"""Negotiation, for the borrower and the lender's staff alike: see the case, answer or counter the pending
offer, write to the other side, settle by blind bid. The side is the sender's role; the store re-checks it.
"""

from __future__ import annotations

from dataclasses import replace
from decimal import ROUND_CEILING, Decimal
from typing import Any

from dialogs.domain import BlindBid, Case, MessageKind, Offer, OfferStatus, Role
from dialogs.errors import InvalidInput
from dialogs.flows import agreement
from dialogs.flows.base import BACK, HOME, Choice, Ctx, Flow, Invalid, Picked, Step, prompt
from dialogs.flows.casework import (
    GLOBAL,
    held_until,
    offer_view,
    open_case_choice,
    situation,
    tell_operators,
    tell_other_side,
    terms_view,
)
from dialogs.flows.inputs import buttons_only, money, text, whole_number
from dialogs.flows.payments import PLAN_STATES
from dialogs.flows.plans import OWN_KINDS, terms_record, why_not
from dialogs.lifecycle import CaseState
from dialogs.rules.affordability import Finances
from dialogs.rules.money import FEN
from dialogs.rules.negotiation import blind_bid, rounds_exhausted
from dialogs.rules.plans import (
    Balance,
    PlanKind,
    finish_months,
    max_months,
    minimum_monthly,
    option_for,
    validate_proposal,
)
from dialogs.rules.schedules import MAX_MONTHS

SIDES = frozenset({Role.BORROWER, Role.LENDER})
OPEN = frozenset({CaseState.APPROVED, CaseState.NEGOTIATING})
# The lender may offer any kind of plan; a payment holiday is the borrower's to ask for with their plan.
LENDER_KINDS = tuple(kind for kind in PlanKind if kind is not PlanKind.PAYMENT_HOLIDAY)
MAX_REASON = 500


def _side(ctx: Ctx) -> Role:
    return ctx.account.role


async def ask_show(ctx: Ctx) -> None:
    case = await ctx.case()
    offers = await ctx.turn.offers(case.id)
    pending = next((o for o in offers if o.status is OfferStatus.PENDING), None)
    draft = await ctx.turn.agreement(case.id)
    bid = await ctx.turn.blind_bid(case.id)
    side = _side(ctx)
    choices: list[Choice] = []
    live = case.state in OPEN
    awaiting_me = (
        live and pending is not None and side in pending.answerers and side not in pending.accepted_by
    )
    # Terms both accepted are confirmed (or reopened by a mediator), not bargained over again.
    agreeing = draft is not None and not draft.confirmed and case.state is CaseState.NEGOTIATING
    if agreeing and draft is not None:
        mine = draft.borrower_confirmed_at if side is Role.BORROWER else draft.lender_confirmed_at
        if mine is None:
            choices.append(Choice(f"{GLOBAL}confirm:{case.id}:{draft.version}", "confirm_agreement"))
    if awaiting_me:
        choices += [
            Choice("accept", "accept_offer"),
            Choice("reject", "reject_offer"),
            Choice("counter", "counter_offer"),
        ]
    elif live and not agreeing and (pending is None or pending.proposer is not side):
        choices.append(Choice("counter", "make_offer"))
    if live:
        choices.append(Choice("message", "message_other"))
    if live and not agreeing:
        choices += _bid_choices(bid, side)
    if case.state in PLAN_STATES:  # a running (or ended) plan: its schedule, and the payments to decide
        choices.append(Choice("schedule", "see_schedule"))
    choices.append(Choice("menu", "menu"))
    # Every round but the one waiting (shown above it): who proposed what, when, and the answer.
    history = [offer_view(o) for o in offers if pending is None or o.id != pending.id]
    ctx.ask(
        "negotiate/show",
        *choices,
        case_id=case.id,
        state=case.state.value,
        side=side.value,
        offer=offer_view(pending) if pending else None,
        history=history,
        agreement_version=draft.version if draft and not draft.confirmed else None,
        bid_open=bid is not None and bid.status == "open",
    )


def _bid_choices(bid: BlindBid | None, side: Role) -> list[Choice]:
    if bid is None or bid.status != "open":
        return [Choice("bid", "propose_blind_bid")]
    if not (bid.borrower_given if side is Role.BORROWER else bid.lender_given):
        return [Choice("bound", "give_bound")]
    return []


async def on_show(ctx: Ctx, picked: Picked) -> str:
    if picked.id == "menu":
        return HOME
    if picked.id == "schedule":
        return "payments:schedule"
    if picked.id == "accept":
        return await _accept(ctx)
    if picked.id == "bid":
        return await _propose_bid(ctx)
    if picked.id == "counter":
        _fresh_counter(ctx)  # a new counter-offer starts blank; "Change" on its check screen keeps figures
    return {
        "reject": "reject_reason",
        "counter": "counter_kind",
        "message": "message_text",
        "bound": "bid_bound",
    }[picked.id]


async def _pending_for_me(ctx: Ctx) -> tuple[Case, Offer]:
    case = await ctx.case()
    pending = await ctx.turn.pending_offer(case.id)
    if pending is None:
        raise Invalid("negotiate/no_pending_offer")
    return case, pending


async def _accept(ctx: Ctx) -> str:
    case, pending = await _pending_for_me(ctx)
    answered = await ctx.turn.answer_offer(pending.id, accept=True)
    await _start_negotiating(ctx, case)
    if answered.status is OfferStatus.ACCEPTED:
        await agreement.draft(ctx, case.id, answered)
    else:
        ctx.say("negotiate/accepted_waiting")
        # An acceptance serves the borrower: not collection contact, so neither held nor counted.
        await tell_other_side(
            ctx, case.id, "negotiate/other_accepted", open_case_choice(case.id), collection=False
        )
    return "show"


async def _start_negotiating(ctx: Ctx, case: Case) -> None:
    """The lender's first answer of any kind (taking part in a blind bid too) opens the negotiation."""
    if case.state is CaseState.APPROVED and _side(ctx) is Role.LENDER:
        await ctx.turn.transition(case.id, CaseState.NEGOTIATING, {"by": _side(ctx).value})


async def on_reject_reason(ctx: Ctx, answer: str | Picked) -> str:
    case, pending = await _pending_for_me(ctx)
    await ctx.turn.answer_offer(pending.id, accept=False)
    await _start_negotiating(ctx, case)
    reason = answer if isinstance(answer, str) else None
    if reason:
        await ctx.turn.add_message(case.id, MessageKind.REASON, reason, (_other(ctx),))
    # Someone must move next: the side that rejected, by the usual deadline (then a mediator steps in).
    await ctx.turn.set_deadline(case.id, ctx.services.negotiation.deadline(ctx.now))
    held = await tell_other_side(
        ctx, case.id, "negotiate/other_rejected", open_case_choice(case.id), reason=reason
    )
    ctx.say("negotiate/rejected", case_id=case.id, held_until=held)
    return "show"


def _other(ctx: Ctx) -> Role:
    return Role.LENDER if _side(ctx) is Role.BORROWER else Role.BORROWER


# Counter-offers: the kind of plan, the figures that can vary for it, a check screen where any one figure
# can be changed and the others kept. The typed figures live in ``c_months``, ``c_monthly`` and ``c_total``
# (strings) until the offer is sent or a new counter-offer begins; ``c_todo`` lists those still to ask.

COUNTER_KEYS = ("c_kind", "c_by", "c_months", "c_monthly", "c_total", "c_todo", "c_terms", "c_raised")
FIGURE_STEP = {"months": "counter_months", "monthly": "counter_amount", "total": "counter_total"}
FIGURE_KEY = {"months": "c_months", "monthly": "c_monthly", "total": "c_total"}
CHANGE_LABEL = {"months": "change_months", "monthly": "change_monthly", "total": "change_total"}
# One figure or two: a total the lender may choose (up to the contract's own rate) is a figure of its own;
# a total the kind fixes (停息挂账 repays the principal, whatever the term) is never asked.
MONTHS_MONTHLY = "months_monthly"
FREE_TOTAL_BY = (MONTHS_MONTHLY, "months_total", "monthly_total")
FIXED_TOTAL_BY = ("months", "monthly", MONTHS_MONTHLY)


def _fresh_counter(ctx: Ctx) -> None:
    for key in COUNTER_KEYS:
        ctx.data.pop(key, None)


def _figures(ctx: Ctx) -> list[str]:
    """The figures the chosen way of setting the offer asks, in order (a settlement: its one amount)."""
    by = ctx.data.get("c_by", MONTHS_MONTHLY)
    # A way no longer offered (a conversation saved mid-offer before an update): months and monthly amount.
    return str(by if by in (*FREE_TOTAL_BY, *FIXED_TOTAL_BY) else MONTHS_MONTHLY).split("_")


async def ask_counter_kind(ctx: Ctx) -> None:
    kinds = OWN_KINDS if _side(ctx) is Role.BORROWER else LENDER_KINDS
    ctx.ask(
        "negotiate/counter_kind", *(Choice(k.value, f"kind_{k.value}") for k in kinds), Choice("back", "back")
    )


async def on_counter_kind(ctx: Ctx, picked: Picked) -> str:
    if picked.id == "back":
        return BACK
    kinds = OWN_KINDS if _side(ctx) is Role.BORROWER else LENDER_KINDS
    kind = PlanKind(picked.id)
    if kind not in kinds:
        raise Invalid("errors/use_buttons")
    before = ctx.data.get("c_kind")
    settlement = PlanKind.DISCOUNTED_SETTLEMENT.value
    if before is not None and before != kind.value and settlement in (before, kind.value):
        for key in FIGURE_KEY.values():  # a lump sum and an instalment are not the same figure
            ctx.data.pop(key, None)
    ctx.data["c_kind"] = kind.value
    if kind is PlanKind.DISCOUNTED_SETTLEMENT:
        ctx.data["c_by"], ctx.data["c_months"] = "monthly", "1"
    elif _side(ctx) is Role.LENDER:
        return "counter_by"
    else:
        ctx.data["c_by"] = MONTHS_MONTHLY
    # The same kind again (from "Change") keeps every figure; another kind asks them, each offered to keep.
    ctx.data["c_todo"] = [] if before == kind.value and _all_typed(ctx) else _figures(ctx)
    return await _next(ctx)


def _all_typed(ctx: Ctx) -> bool:
    return all(FIGURE_KEY[figure] in ctx.data for figure in _figures(ctx))


async def _total_is_free(ctx: Ctx, kind: PlanKind) -> bool:
    """Whether a lender may choose the total of ``kind`` for a given term: only when the contract's own rate
    is above what plans charge, and the kind charges interest. Otherwise the months decide it."""
    balance, finances = await _situation_now(ctx)
    longest = max_months(kind, ctx.services.policy)
    return _total_at(balance, kind, longest, finances, ctx) < _total_at(
        replace(balance, protected_rate=None), kind, longest, finances, ctx
    )


def _total_at(balance: Balance, kind: PlanKind, months: int, finances: Finances, ctx: Ctx) -> Decimal:
    return option_for(balance, kind, months, finances=finances, policy=ctx.services.policy).total_repaid


async def _one_total(ctx: Ctx, kind: PlanKind) -> Decimal | None:
    """The total a kind repays whatever the term (an interest-free kind, such as 停息挂账), else ``None``."""
    balance, finances = await _situation_now(ctx)
    policy = ctx.services.policy
    shortest = option_for(balance, kind, 1, finances=finances, policy=policy).total_repaid
    longest = _total_at(balance, kind, max_months(kind, policy), finances, ctx)
    return shortest if shortest == longest else None


async def ask_counter_by(ctx: Ctx) -> None:
    kind = PlanKind(ctx.data["c_kind"])
    free = await _total_is_free(ctx, kind)
    ways = FREE_TOTAL_BY if free else FIXED_TOTAL_BY
    balance, finances = await _situation_now(ctx)
    ctx.ask(
        "negotiate/counter_by",
        *(Choice(by, f"counter_by_{by}") for by in ways),
        Choice("back", "back"),
        total_free=free,
        one_total=None if free else await _one_total(ctx, kind),
        plan_kind=kind.value,
        # What the kind waives of what is owed is set by the kind, so it is said, never asked.
        waived=option_for(balance, kind, 1, finances=finances, policy=ctx.services.policy).amount_waived,
    )


async def on_counter_by(ctx: Ctx, picked: Picked) -> str:
    if picked.id == "back":
        return "counter_kind"
    ways = FREE_TOTAL_BY if await _total_is_free(ctx, PlanKind(ctx.data["c_kind"])) else FIXED_TOTAL_BY
    if picked.id not in ways:
        raise Invalid("errors/use_buttons")
    ctx.data["c_by"] = picked.id
    ctx.data["c_todo"] = _figures(ctx)
    return await _next(ctx)


async def _next(ctx: Ctx) -> str:
    """The next figure still to ask, else the offer worked out from the figures and shown to check."""
    todo = [figure for figure in ctx.data.get("c_todo") or [] if figure in FIGURE_STEP]
    missing = [figure for figure in _figures(ctx) if FIGURE_KEY[figure] not in ctx.data]
    ahead = todo or missing  # nothing worked out from a figure never given
    return FIGURE_STEP[ahead[0]] if ahead else await _worked_out(ctx)


async def _answered(ctx: Ctx, figure: str, value: str | None) -> str:
    """A figure typed (or kept, ``None``): stored, no longer to ask, and on to the next.

    A figure the offer cannot take is not stored: asked again, "Keep" offers the one it had before.
    """
    key, todo = FIGURE_KEY[figure], list(ctx.data.get("c_todo") or [])
    before = ctx.data.get(key)
    if value is not None:
        ctx.data[key] = value
    ctx.data["c_todo"] = [f for f in todo if f != figure]
    try:
        return await _next(ctx)
    except Invalid:
        if before is None:
            ctx.data.pop(key, None)
        else:
            ctx.data[key] = before
        ctx.data["c_todo"] = todo
        raise


def _keep(ctx: Ctx, figure: str) -> tuple[Choice, ...]:
    """A "Keep" button for a figure typed before (after "Change", or another kind of plan)."""
    typed = ctx.data.get(FIGURE_KEY[figure])
    if typed is None:
        return ()
    if figure == "months":
        return (Choice("keep", "keep_months", {"months": int(typed)}),)
    return (Choice("keep", "keep_amount", {"amount": Decimal(typed)}),)


async def ask_counter_months(ctx: Ctx) -> None:
    kind = ctx.data.get("c_kind")
    maximum = max_months(PlanKind(kind), ctx.services.policy) if kind else MAX_MONTHS
    ctx.ask("negotiate/counter_months", *_keep(ctx, "months"), maximum=maximum)


async def on_counter_months(ctx: Ctx, answer: int | Picked) -> str:
    if "c_kind" not in ctx.data:
        return "counter_kind"
    months = int(ctx.data.get("c_months", 0)) if isinstance(answer, Picked) else answer
    if not months:
        return "counter_months"
    limit = max_months(PlanKind(ctx.data["c_kind"]), ctx.services.policy)
    if months > limit:  # 停息挂账 runs at most 60 months: said in its own words, not refused later
        raise Invalid("errors/number", minimum=1, maximum=limit, example=str(min(24, limit)))
    return await _answered(ctx, "months", None if isinstance(answer, Picked) else str(months))


async def ask_counter_amount(ctx: Ctx) -> None:
    settlement = ctx.data.get("c_kind") == PlanKind.DISCOUNTED_SETTLEMENT.value
    ctx.ask(
        "negotiate/counter_amount",
        *_keep(ctx, "monthly"),
        settlement=settlement,
        months_follow=ctx.data.get("c_by") == "monthly" and not settlement,
    )


async def on_counter_amount(ctx: Ctx, answer: Decimal | Picked) -> str:
    if "c_kind" not in ctx.data:
        return "counter_kind"
    if isinstance(answer, Picked) and "c_monthly" not in ctx.data:
        return "counter_amount"
    return await _answered(ctx, "monthly", None if isinstance(answer, Picked) else str(answer))


def example_total(owed: Decimal) -> str:
    """A round figure below what is owed, for the question's example (a fixed 14000 misleads on ¥5,397)."""
    hundreds = int(owed // 100) * 100
    return str(hundreds if hundreds > 0 else int(owed))


def example_between(least: Decimal, most: Decimal) -> str:
    """A round figure a total over known months may be: the least rounded up to the hundred, if allowed."""
    rounded = (least / 100).to_integral_value(ROUND_CEILING) * 100
    return str(int(rounded)) if rounded <= most else str(least)


async def ask_counter_total(ctx: Ctx) -> None:
    balance, finances = await _situation_now(ctx)
    owed = balance.payable_total
    context: dict[str, Any] = {"owed": owed, "example": example_total(owed), "months": None}
    if ctx.data.get("c_by") == "months_total" and "c_months" in ctx.data:
        months, kind = int(ctx.data["c_months"]), PlanKind(ctx.data["c_kind"])
        least, most = _bounds(balance, kind, months, finances, ctx)
        context |= {"months": months, "least": least, "most": most, "example": example_between(least, most)}
    ctx.ask("negotiate/counter_total", *_keep(ctx, "total"), **context)


async def on_counter_total(ctx: Ctx, answer: Decimal | Picked) -> str:
    if "c_kind" not in ctx.data:
        return "counter_kind"
    if isinstance(answer, Picked) and "c_total" not in ctx.data:
        return "counter_total"
    return await _answered(ctx, "total", None if isinstance(answer, Picked) else str(answer))


async def _situation_now(ctx: Ctx) -> tuple[Balance, Finances]:
    balance, finances, _ = await situation(ctx, await ctx.case())
    if finances is None:
        raise Invalid("plans/situation_missing")
    return balance, finances


def _bounds(
    balance: Balance, kind: PlanKind, months: int, finances: Finances, ctx: Ctx
) -> tuple[Decimal, Decimal]:
    """The least a plan of ``kind`` over ``months`` repays (the rules' own plan) and the most a lender may
    ask (the same plan at the contract's own rate)."""
    least = _total_at(balance, kind, months, finances, ctx)
    most = _total_at(replace(balance, protected_rate=None), kind, months, finances, ctx)
    return least, max(least, most)


async def _worked_out(ctx: Ctx) -> str:
    """The offer from the figures typed, by the same rules as any plan; the check screen, or why not."""
    by, kind = ctx.data.get("c_by", MONTHS_MONTHLY), PlanKind(ctx.data["c_kind"])
    if by == "months":
        return await _by_months(ctx, kind, int(ctx.data["c_months"]))
    if by == "monthly":
        return await _by_monthly(ctx, kind, Decimal(ctx.data["c_monthly"]))
    if by == "months_total":
        return await _by_months_total(ctx, kind, int(ctx.data["c_months"]), Decimal(ctx.data["c_total"]))
    if by == "monthly_total":
        return await _by_monthly_total(
            ctx, kind, Decimal(ctx.data["c_monthly"]), Decimal(ctx.data["c_total"])
        )
    return await _counter_terms(ctx, int(ctx.data["c_months"]), Decimal(ctx.data["c_monthly"]))


async def _by_months(ctx: Ctx, kind: PlanKind, months: int) -> str:
    """The kind's own plan over those months (its instalments, the last absorbing the fen rounding)."""
    balance, finances = await _situation_now(ctx)
    try:
        option = option_for(balance, kind, months, finances=finances, policy=ctx.services.policy)
    except InvalidInput:
        raise Invalid("plans/own_not_possible") from None
    return _to_check(ctx, terms_record(option, own=_side(ctx) is Role.BORROWER), raised=None)


async def _by_monthly(ctx: Ctx, kind: PlanKind, monthly: Decimal) -> str:
    """The fewest months that amount repays the kind's plan in (the last one smaller)."""
    if kind is PlanKind.DISCOUNTED_SETTLEMENT:
        return await _counter_terms(ctx, 1, monthly)
    balance, finances = await _situation_now(ctx)
    policy = ctx.services.policy
    most = _bounds(balance, kind, 1, finances, ctx)[1]
    if monthly >= most:  # one payment would repay it all: a larger amount would be replaced in silence
        raise Invalid("negotiate/counter_monthly_whole", most=most)
    months = finish_months(balance, kind, monthly, finances=finances, policy=policy)
    if months is None:
        longest = max_months(kind, policy)
        raise why_not(balance, kind, longest, monthly, finances, ctx, lender=_side(ctx) is Role.LENDER)
    return await _counter_terms(ctx, months, monthly)


async def _by_months_total(ctx: Ctx, kind: PlanKind, months: int, total: Decimal) -> str:
    """The total over the months gives the monthly amount (rounded up to the fen, the last pays the rest).

    Above what the lender may ask it is refused with the most; a few fen short it is raised and said so;
    further short, it is most likely a monthly amount, and the person is asked whether they meant that.
    """
    balance, finances = await _situation_now(ctx)
    least, most = _bounds(balance, kind, months, finances, ctx)
    if total > most:
        raise Invalid(
            "negotiate/counter_total_capped",
            typed_total=total,
            plan_most=most,
            plan_months=months,
            plan_kind=kind.value,
        )
    monthly = (total / months).quantize(FEN, ROUND_CEILING)
    reference = option_for(balance, kind, months, finances=finances, policy=ctx.services.policy)
    if total < least and monthly < minimum_monthly(reference):
        if months > 1 and _fits_as_monthly(ctx, balance, kind, months, total, finances):
            return "counter_meant"
        raise Invalid(
            "negotiate/counter_total_short", typed_total=total, least=least, months=months, monthly=None
        )
    return await _counter_terms(ctx, months, monthly, typed_total=total)


def _fits_as_monthly(
    ctx: Ctx, balance: Balance, kind: PlanKind, months: int, amount: Decimal, finances: Finances
) -> bool:
    try:
        validate_proposal(
            balance,
            kind,
            months,
            amount,
            finances=finances,
            policy=ctx.services.policy,
            lender=_side(ctx) is Role.LENDER,
        )
    except InvalidInput:
        return False
    return True


async def _by_monthly_total(ctx: Ctx, kind: PlanKind, monthly: Decimal, total: Decimal) -> str:
    """The total with the monthly amount gives the months (the last one shorter)."""
    months = int((total / monthly).to_integral_value(ROUND_CEILING))
    limit = max_months(kind, ctx.services.policy)
    if not 1 <= months <= limit:
        raise Invalid("negotiate/counter_months_range", months=months, maximum=limit)
    balance, finances = await _situation_now(ctx)
    least = _bounds(balance, kind, months, finances, ctx)[0]
    if total < least and not _fits_as_monthly(ctx, balance, kind, months, monthly, finances):
        raise Invalid(
            "negotiate/counter_total_short", typed_total=total, least=least, months=months, monthly=monthly
        )
    return await _counter_terms(ctx, months, monthly)


async def ask_counter_meant(ctx: Ctx) -> None:
    total = Decimal(ctx.data["c_total"])
    months = int(ctx.data["c_months"])
    balance, finances = await _situation_now(ctx)
    least = _bounds(balance, kind := PlanKind(ctx.data["c_kind"]), months, finances, ctx)[0]
    ctx.ask(
        "negotiate/counter_meant",
        Choice("monthly", "meant_monthly", {"amount": total}),
        Choice("total", "meant_total"),
        typed_total=total,
        months=months,
        least=least,
        plan_kind=kind.value,
    )


async def on_counter_meant(ctx: Ctx, picked: Picked) -> str:
    if "c_total" not in ctx.data:
        return "counter_kind"
    if picked.id == "total":
        ctx.data.pop("c_total")  # not a total the plan can take: nothing to keep
        ctx.data["c_todo"] = ["total"]
        return "counter_total"
    # Meant a month: the same figures as "months and monthly amount".
    ctx.data["c_by"], ctx.data["c_monthly"] = MONTHS_MONTHLY, ctx.data.pop("c_total")
    ctx.data["c_todo"] = []
    return await _next(ctx)


async def _counter_terms(
    ctx: Ctx, months: int, amount: Decimal, *, typed_total: Decimal | None = None
) -> str:
    """Whichever figures were typed, the same rules as any plan (:func:`validate_proposal`) decide.

    A typed total the plan cannot take is never replaced in silence: above what the kind may ask over
    these months it is refused with the most it may be; below what it needs (by the fen rounding of the
    instalments) the summary says it was raised and to what.
    """
    balance, finances = await _situation_now(ctx)
    kind = PlanKind(ctx.data["c_kind"])
    # A lender may ask above the protected level (up to the contract); the borrower is told the excess.
    lender = _side(ctx) is Role.LENDER
    try:
        option = validate_proposal(
            balance, kind, months, amount, finances=finances, policy=ctx.services.policy, lender=lender
        )
    except InvalidInput:
        raise why_not(balance, kind, months, amount, finances, ctx, lender=lender) from None
    if typed_total is not None and typed_total > option.total_repaid:
        raise Invalid(
            "negotiate/counter_total_capped",
            typed_total=typed_total,
            plan_most=option.total_repaid,
            plan_months=months,
            plan_kind=kind.value,
        )
    raised = typed_total is not None and typed_total < option.total_repaid
    return _to_check(
        ctx, terms_record(option, own=_side(ctx) is Role.BORROWER), raised=typed_total if raised else None
    )


def _to_check(ctx: Ctx, terms: dict[str, Any], *, raised: Decimal | None) -> str:
    ctx.data["c_terms"] = terms
    ctx.data["c_raised"] = str(raised) if raised is not None else None
    ctx.data["c_todo"] = []
    return "counter_confirm"


async def ask_counter_confirm(ctx: Ctx) -> None:
    ctx.ask(
        "negotiate/counter_confirm",
        Choice("send", "send_offer"),
        Choice("change", "change"),
        terms=terms_view(ctx.data["c_terms"]),
        affordable=bool(ctx.data["c_terms"].get("affordable")),
        raised_from=ctx.data.get("c_raised"),
    )


async def ask_counter_change(ctx: Ctx) -> None:
    """Which one thing to change: the kind, the way of setting it (a lender's), or one figure typed."""
    choices = [Choice("kind", "change_plan_kind", {"kind": ctx.data["c_kind"]})]
    settlement = ctx.data["c_kind"] == PlanKind.DISCOUNTED_SETTLEMENT.value
    if _side(ctx) is Role.LENDER and not settlement:
        choices.append(Choice("by", "change_figures_set"))
    for figure in _figures(ctx):
        typed = ctx.data.get(FIGURE_KEY[figure])
        if typed is None or (figure == "months" and settlement):
            continue
        shown = {"value": int(typed) if figure == "months" else Decimal(typed), "settlement": settlement}
        choices.append(Choice(f"f_{figure}", CHANGE_LABEL[figure], shown))
    choices.append(Choice("keep", "keep_offer"))
    ctx.ask("negotiate/counter_change", *choices)


async def on_counter_change(ctx: Ctx, picked: Picked) -> str:
    if "c_terms" not in ctx.data:
        return "counter_kind"
    if picked.id == "keep":
        return "counter_confirm"
    if picked.id == "kind":
        return "counter_kind"
    if picked.id == "by":
        return "counter_by"
    figure = picked.id.removeprefix("f_")
    ctx.data["c_todo"] = [figure]
    return FIGURE_STEP[figure]


async def on_counter_confirm(ctx: Ctx, picked: Picked) -> str:
    if picked.id == "change":
        return "counter_change"
    case = await ctx.case()
    terms = ctx.data["c_terms"]
    _fresh_counter(ctx)
    exhausted = rounds_exhausted(len(await ctx.turn.offers(case.id)), ctx.services.negotiation)
    await _start_negotiating(ctx, case)
    # The other side's time to answer runs from when the offer reaches them, not from when it was written.
    arrives = await held_until(ctx, case.id) if _side(ctx) is Role.LENDER and not exhausted else None
    deadline = ctx.services.negotiation.deadline(arrives or ctx.now)
    offer = await ctx.turn.make_offer(case.id, terms, deadline)
    if exhausted:
        # The last word is kept: it waits, with the case, for the mediator to take it up.
        await escalate(ctx, case, "round_limit", last_offer=True)
        return HOME
    ctx.say("negotiate/offer_sent", case_id=case.id, deadline_at=offer.deadline_at, held_until=arrives)
    await tell_other_side(
        ctx,
        case.id,
        "negotiate/new_offer",
        open_case_choice(case.id, "view_offer"),
        terms=terms_view(terms),
        deadline_at=offer.deadline_at,
    )
    return "show"


async def escalate(ctx: Ctx, case: Case, why: str, *, last_offer: bool = False) -> None:
    """Hand the case to a mediator, and tell everyone involved why."""
    await ctx.turn.transition(case.id, CaseState.ESCALATED, {"why": why})
    ctx.say("negotiate/escalated", case_id=case.id, why=why, last_offer="mine" if last_offer else None)
    await tell_other_side(
        ctx,
        case.id,
        "negotiate/escalated",
        collection=False,
        why=why,
        last_offer="theirs" if last_offer else None,
    )
    await tell_operators(ctx, case.id, "mediate/new_escalation", why=why)


# Words to the other side


async def on_message_text(ctx: Ctx, words: str) -> str:
    case = await ctx.case()
    message_id = await ctx.turn.add_message(case.id, MessageKind.RELAY, words, (_other(ctx),))
    reply = open_case_choice(case.id, "reply")
    if _side(ctx) is Role.LENDER:
        report = Choice(f"{GLOBAL}report:{case.id}:{message_id}", "report_message")
        held = await tell_other_side(ctx, case.id, "negotiate/relayed", reply, report, words=words)
    else:
        held = await tell_other_side(ctx, case.id, "negotiate/relayed", reply, words=words)
    ctx.say("negotiate/message_sent", held_until=held)
    return "show"


# Blind bid: each side's private bound; the midpoint if they overlap, otherwise only "no overlap" / "close"


async def _propose_bid(ctx: Ctx) -> str:
    case = await ctx.case()
    await ctx.turn.open_blind_bid(case.id)
    await _start_negotiating(ctx, case)
    await tell_other_side(ctx, case.id, "negotiate/bid_proposed", open_case_choice(case.id), collection=False)
    return "bid_bound"


async def on_bid_bound(ctx: Ctx, bound: Decimal) -> str:
    case = await ctx.case()
    if bound <= 0:
        raise Invalid("errors/money_range", maximum=Decimal(10_000_000), example="9000")
    if await _savings_below(ctx, case, bound) is not None:
        ctx.data["bid_unsure"] = str(bound)  # asked about before it binds them
        return "bid_savings"
    return await _give_bound(ctx, case, bound)


async def _savings_below(ctx: Ctx, case: Case, bound: Decimal) -> Decimal | None:
    """The borrower's stored savings when their one payment would exceed them, else ``None``: an overlap
    settles at once, so a figure they may not have is questioned first."""
    if _side(ctx) is not Role.BORROWER:
        return None
    finances = await ctx.turn.finances(case.id)
    return finances.savings if finances is not None and bound > finances.savings else None


async def ask_bid_savings(ctx: Ctx) -> None:
    bound = Decimal(ctx.data["bid_unsure"])
    savings = await _savings_below(ctx, await ctx.case(), bound)
    ctx.ask(
        "negotiate/bid_savings",
        Choice("keep", "bid_keep"),
        Choice("change", "bid_change"),
        bound=bound,
        savings=savings if savings is not None else Decimal(0),
    )


async def on_bid_savings(ctx: Ctx, picked: Picked) -> str:
    bound = Decimal(ctx.data.pop("bid_unsure"))
    if picked.id == "change":
        return "bid_bound"
    return await _give_bound(ctx, await ctx.case(), bound)


async def _give_bound(ctx: Ctx, case: Case, bound: Decimal) -> str:
    pair = await ctx.turn.give_bound(case.id, bound)
    await _start_negotiating(ctx, case)
    if pair is None:
        ctx.say("negotiate/bound_recorded")
        await tell_other_side(
            ctx, case.id, "negotiate/bound_waiting", open_case_choice(case.id), collection=False
        )
        return "show"
    balance, _, _ = await situation(ctx, case)
    hint = await _may_hint(ctx, case)
    outcome = blind_bid(*pair, balance.total, ctx.services.negotiation, may_hint=hint)
    await ctx.turn.close_blind_bid(case.id, outcome.settled)
    if outcome.amount is None:
        ctx.say("negotiate/bid_no_overlap", case_id=case.id, close=outcome.close, hinted=hint)
        await tell_other_side(
            ctx,
            case.id,
            "negotiate/bid_no_overlap",
            open_case_choice(case.id),
            collection=False,
            close=outcome.close,
            hinted=hint,
        )
        return "show"
    await agreement.settle(ctx, case, outcome.amount, balance.total)
    return "show"


async def _may_hint(ctx: Ctx, case: Case) -> bool:
    """Only the second blind bid on a case may say "close": never the first, and never again, so that the
    hints cannot be combined to corner the other side's bound (see :func:`blind_bid`)."""
    closed = [e for e in await ctx.turn.events(case.id) if e.kind == "blind_bid_closed"]
    return len(closed) == 1 and not closed[0].details.get("settled")


NEGOTIATE = Flow(
    "negotiate",
    {
        "show": Step(ask_show, buttons_only, on_show),
        "reject_reason": Step(
            prompt("negotiate/reject_reason", Choice("skip", "skip")),
            text(max_len=MAX_REASON),
            on_reject_reason,
        ),
        "counter_kind": Step(ask_counter_kind, buttons_only, on_counter_kind),
        "counter_months": Step(
            ask_counter_months,
            whole_number(minimum=1, maximum=MAX_MONTHS, example="24"),
            on_counter_months,
        ),
        "counter_by": Step(ask_counter_by, buttons_only, on_counter_by),
        "counter_amount": Step(ask_counter_amount, money(example="850"), on_counter_amount),
        "counter_total": Step(ask_counter_total, money(example="14000"), on_counter_total),
        "counter_meant": Step(ask_counter_meant, buttons_only, on_counter_meant),
        "counter_confirm": Step(ask_counter_confirm, buttons_only, on_counter_confirm, returnable=False),
        "counter_change": Step(ask_counter_change, buttons_only, on_counter_change),
        "message_text": Step(
            prompt("negotiate/message_text"), text(max_len=1000, example=""), on_message_text
        ),
        "bid_bound": Step(
            prompt("negotiate/bid_bound"), money(example="9000"), on_bid_bound, returnable=False
        ),
        "bid_savings": Step(ask_bid_savings, buttons_only, on_bid_savings, returnable=False),
    },
    roles=SIDES,
    sensitive=False,
)
