"""Negotiation, for the borrower and the lender's staff alike: see the case, answer or counter the pending
offer, write to the other side, settle by blind bid. The side is the sender's role; the store re-checks it.
"""

from __future__ import annotations

from decimal import ROUND_CEILING, Decimal

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
from dialogs.rules.money import FEN
from dialogs.rules.negotiation import blind_bid, rounds_exhausted
from dialogs.rules.plans import Balance, PlanKind, validate_proposal
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
    history = [offer_view(o) for o in offers[-4:]]
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


# Counter-offers: plan kind, months, monthly amount (or the lump sum), confirm


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
    ctx.data["c_kind"] = kind.value
    ctx.data["c_by"] = MONTHS_MONTHLY
    if kind is PlanKind.DISCOUNTED_SETTLEMENT:
        ctx.data["c_months"] = 1
        return "counter_amount"
    return "counter_by" if _side(ctx) is Role.LENDER else "counter_months"


# A lender's terms by what lenders negotiate: any two of total, waiver, months and monthly amount (the
# total and the waiver say the same thing, so one of the two is months or the monthly amount).
MONTHS_MONTHLY = "months_monthly"
COUNTER_BY = (MONTHS_MONTHLY, "months_total", "months_waiver", "monthly_total", "monthly_waiver")


async def ask_counter_by(ctx: Ctx) -> None:
    ctx.ask(
        "negotiate/counter_by", *(Choice(by, f"counter_by_{by}") for by in COUNTER_BY), Choice("back", "back")
    )


async def on_counter_by(ctx: Ctx, picked: Picked) -> str:
    if picked.id == "back":
        return "counter_kind"
    if picked.id not in COUNTER_BY:
        raise Invalid("errors/use_buttons")
    ctx.data["c_by"] = picked.id
    return "counter_months" if picked.id.startswith("months_") else "counter_amount"


def _then(ctx: Ctx) -> str:
    """The step asking the second figure of the chosen pair."""
    return {"total": "counter_total", "waiver": "counter_waiver"}.get(str(ctx.data["c_by"]).split("_")[1], "")


async def on_counter_months(ctx: Ctx, months: int) -> str:
    ctx.data["c_months"] = months
    return _then(ctx) or "counter_amount"


async def ask_counter_amount(ctx: Ctx) -> None:
    settlement = ctx.data.get("c_kind") == PlanKind.DISCOUNTED_SETTLEMENT.value
    ctx.ask("negotiate/counter_amount", settlement=settlement)


async def on_counter_amount(ctx: Ctx, amount: Decimal) -> str:
    if ctx.data.get("c_by", MONTHS_MONTHLY).startswith("monthly_"):
        ctx.data["c_monthly"] = str(amount)
        return _then(ctx)
    return await _counter_terms(ctx, int(ctx.data["c_months"]), amount)


def example_total(owed: Decimal) -> str:
    """A round figure below what is owed, for the question's example (a fixed 14000 misleads on ¥5,397)."""
    hundreds = int(owed // 100) * 100
    return str(hundreds if hundreds > 0 else int(owed))


async def ask_counter_total(ctx: Ctx) -> None:
    owed = (await _balance(ctx)).payable_total
    ctx.ask("negotiate/counter_total", owed=owed, example=example_total(owed))


async def on_counter_total(ctx: Ctx, total: Decimal) -> str:
    return await _counter_from_total(ctx, total)  # the total as typed: never replaced without a word


async def ask_counter_waiver(ctx: Ctx) -> None:
    ctx.ask("negotiate/counter_waiver", owed=(await _balance(ctx)).payable_total)


async def on_counter_waiver(ctx: Ctx, waiver: Decimal) -> str:
    # Waived from what plans are made on (charges above the legal limits are never asked), as plans count it.
    owed = (await _balance(ctx)).payable_total
    if not Decimal(0) <= waiver < owed:
        raise Invalid("negotiate/waiver_range", owed=owed)
    return await _counter_from_total(ctx, owed - waiver)


async def _counter_from_total(ctx: Ctx, total: Decimal) -> str:
    """The total with months gives the monthly amount (rounded up to the fen, the last pays the rest);
    with the monthly amount it gives the months (the last one shorter)."""
    if "c_monthly" in ctx.data and ctx.data["c_by"].startswith("monthly_"):
        monthly = Decimal(ctx.data["c_monthly"])
        months = int((total / monthly).to_integral_value(ROUND_CEILING))
        if not 1 <= months <= MAX_MONTHS:
            raise Invalid("negotiate/counter_months_range", months=months, maximum=MAX_MONTHS)
        return await _counter_terms(ctx, months, monthly)
    months = int(ctx.data["c_months"])
    return await _counter_terms(ctx, months, (total / months).quantize(FEN, ROUND_CEILING), typed_total=total)


async def _balance(ctx: Ctx) -> Balance:
    return (await situation(ctx, await ctx.case()))[0]


async def _counter_terms(
    ctx: Ctx, months: int, amount: Decimal, *, typed_total: Decimal | None = None
) -> str:
    """Whichever figures were typed, the same rules as any plan (:func:`validate_proposal`) decide.

    A typed total the plan cannot take is never replaced in silence: above what the kind may ask over
    these months it is refused with the most it may be; below what it needs (by the fen rounding of the
    instalments) the summary says it was raised and to what.
    """
    case = await ctx.case()
    balance, finances, _ = await situation(ctx, case)
    if finances is None:
        raise Invalid("plans/situation_missing")
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
    ctx.data.pop("c_monthly", None)
    ctx.data["c_terms"] = terms_record(option, own=_side(ctx) is Role.BORROWER)
    raised = typed_total is not None and typed_total < option.total_repaid
    ctx.data["c_raised"] = str(typed_total) if raised else None
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


async def on_counter_confirm(ctx: Ctx, picked: Picked) -> str:
    if picked.id == "change":
        return "counter_kind"
    case = await ctx.case()
    terms = ctx.data.pop("c_terms")
    ctx.data.pop("c_raised", None)
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
            prompt("negotiate/counter_months", maximum=MAX_MONTHS),
            whole_number(minimum=1, maximum=MAX_MONTHS, example="24"),
            on_counter_months,
        ),
        "counter_by": Step(ask_counter_by, buttons_only, on_counter_by),
        "counter_amount": Step(ask_counter_amount, money(example="850"), on_counter_amount),
        "counter_total": Step(ask_counter_total, money(example="14000"), on_counter_total),
        "counter_waiver": Step(ask_counter_waiver, money(example="1500"), on_counter_waiver),
        "counter_confirm": Step(ask_counter_confirm, buttons_only, on_counter_confirm, returnable=False),
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
