"""The mediator on stuck cases: expired deadlines, exhausted rounds, disputes, harassment reports, "no
affordable plan". Write to either side or both (as the mediator), split the difference between the last two
offers, extend a deadline, resume the negotiation, or close the case with a reason.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from dialogs.domain import Case, MessageKind, Offer, OfferStatus, Role
from dialogs.flows.base import Choice, Ctx, Flow, Invalid, Picked, Step, prompt
from dialogs.flows.casework import brief, notify, offer_view, open_case_choice, situation, terms_view
from dialogs.flows.inputs import buttons_only, text, whole_number
from dialogs.flows.review import OPERATORS
from dialogs.lifecycle import CaseState
from dialogs.messages import HeldMessage
from dialogs.rules.negotiation import split_difference

S = CaseState
STUCK = frozenset({S.EXPIRED, S.ESCALATED})
CLOSABLE = frozenset({S.APPROVED, S.NEGOTIATING, S.EXPIRED, S.ESCALATED, S.DISPUTED})
_AUDIENCES = {
    "to_borrower": (Role.BORROWER,),
    "to_lender": (Role.LENDER,),
    "to_both": (Role.BORROWER, Role.LENDER),
}
MAX_EXTENSION_HOURS = 24 * 14


async def ask_list(ctx: Ctx) -> None:
    cases = await ctx.turn.escalations()
    choices = [
        Choice(f"c{case.id}", "case_item", {"case_id": case.id, "state": case.state.value}) for case in cases
    ]
    ctx.ask("mediate/list", *choices, Choice("menu", "menu"), count=len(cases))


async def on_list(ctx: Ctx, picked: Picked) -> str:
    if picked.id == "menu":
        return "home:menu"
    ctx.conv.case_id = (await ctx.turn.case(int(picked.id.removeprefix("c")))).id
    return "case"


async def ask_case(ctx: Ctx) -> None:
    case = await ctx.case()
    offers = await ctx.turn.offers(case.id)
    said = [
        {
            "kind": m.kind.value,
            "sender": m.sender_role.value if m.sender_role else None,
            "at": m.created_at,
            "text": m.text,
        }
        for m in (await ctx.turn.messages(case.id))[-6:]
    ]
    reports = await ctx.turn.open_reports(case.id)
    choices = [Choice(audience, audience) for audience in _AUDIENCES]
    if reports:
        choices.append(Choice("reviewed", "reports_reviewed"))
    if len(offers) >= 2 and case.state in STUCK | {S.NEGOTIATING}:
        choices.append(Choice("split", "split_difference"))
    if case.state in {S.APPROVED, S.NEGOTIATING} | STUCK:
        choices.append(Choice("extend", "extend_deadline"))
    if case.state in STUCK:
        choices.append(Choice("resume", "resume_negotiation"))
    if case.state is S.DISPUTED:
        choices.append(Choice("reopen", "reopen_draft"))
    if case.state in CLOSABLE:
        choices.append(Choice("close", "close_case"))
    held = await ctx.turn.held_for_case(case.id)
    choices += [Choice(f"h{m.id}", "cancel_held", {"number": m.id}) for m in held]
    choices.append(Choice("list", "back"))
    view = await brief(ctx, case) if case.loan_id else {"id": case.id, "state": case.state.value}
    ctx.ask(
        "mediate/case",
        *choices,
        case=view,
        offers=[offer_view(o) for o in offers[-4:]],
        said=said,
        reports=[_report_view(r) for r in reports],
        deadline_at=next((o.deadline_at for o in offers if o.status is OfferStatus.PENDING), None),
        held=[_held_view(m) for m in held],
    )


def _held_view(message: HeldMessage) -> dict[str, Any]:
    """A held message as the mediator reads it: what it is, when it would arrive, any words in it."""
    said = message.context.get("words") or message.context.get("reason")
    return {"id": message.id, "template": message.template, "at": message.not_before, "words": said}


def _report_view(report: dict[str, Any]) -> dict[str, Any]:
    keys = ("id", "at", "how", "who", "when", "details", "message")
    return {key: report.get(key) for key in keys} | {"evidence": bool(report.get("evidence"))}


async def on_case(ctx: Ctx, picked: Picked) -> str:
    if picked.id in _AUDIENCES:
        ctx.data["m_to"] = picked.id
        return "message_text"
    if picked.id == "reviewed":
        count = await ctx.turn.review_reports((await ctx.case()).id)
        ctx.say("mediate/reports_reviewed", count=count)
        return "case"
    if picked.id == "resume":
        await _resume(ctx, await ctx.case())
        return "case"
    if picked.id.startswith("h") and picked.id[1:].isdigit():
        # A held word the mediator has dealt with (a threat, a stale offer) must never reach the borrower.
        cancelled = await ctx.turn.cancel_held(int(picked.id[1:]), "cancelled by the mediator")
        ctx.say("mediate/held_cancelled", number=cancelled.id)
        return "case"
    if picked.id == "reopen":
        case = await ctx.case()
        await ctx.turn.transition(case.id, S.DRAFT, {"by": "mediator"})
        notify(ctx, [await ctx.turn.borrower_of(case.id)], "mediate/reopened", case_id=case.id)
        return "case"
    return {"split": "split_confirm", "extend": "extend_hours", "close": "close_reason", "list": "list"}[
        picked.id
    ]


async def _resume(ctx: Ctx, case: Case) -> Case:
    if case.state in STUCK:
        case = await ctx.turn.transition(case.id, S.NEGOTIATING, {"by": "mediator"})
        await ctx.turn.set_deadline(case.id, ctx.services.negotiation.deadline(ctx.now))
        ctx.say("mediate/resumed", case_id=case.id)
        await _tell_both(ctx, case.id, "mediate/resumed_parties")
    return case


async def _tell_both(ctx: Ctx, case_id: int, template: str, **context: Any) -> None:
    parties = [await ctx.turn.borrower_of(case_id), *await ctx.turn.lender_staff(case_id)]
    notify(ctx, parties, template, open_case_choice(case_id), case_id=case_id, **context)


async def on_message_text(ctx: Ctx, words: str) -> str:
    case = await ctx.case()
    audience = _AUDIENCES[ctx.data.pop("m_to", "to_both")]
    await ctx.turn.add_message(case.id, MessageKind.MEDIATOR, words, audience)
    recipients = [await ctx.turn.borrower_of(case.id)] if Role.BORROWER in audience else []
    recipients += await ctx.turn.lender_staff(case.id) if Role.LENDER in audience else []
    notify(
        ctx, recipients, "mediate/message", open_case_choice(case.id, "reply"), case_id=case.id, words=words
    )
    ctx.say("mediate/message_sent", count=len(recipients))
    return "case"


def _last_two(offers: list[Offer]) -> tuple[dict[str, object], dict[str, object]]:
    return offers[-2].terms, offers[-1].terms


async def ask_split(ctx: Ctx) -> None:
    case = await ctx.case()
    offers = await ctx.turn.offers(case.id)
    if len(offers) < 2:
        raise Invalid("mediate/split_needs_two")
    split = split_difference(*_last_two(offers))
    ctx.data["m_split"] = {"months": split.months, "total": str(split.total_repaid)}
    ctx.ask(
        "mediate/split_confirm",
        Choice("propose", "send_offer"),
        Choice("case", "back"),
        months=split.months,
        monthly=split.monthly_amount,
        total=split.total_repaid,
        older=terms_view(offers[-2].terms),
        newer=terms_view(offers[-1].terms),
    )


async def on_split(ctx: Ctx, picked: Picked) -> str:
    if picked.id == "case":
        return "case"
    case = await _resume(ctx, await ctx.case())
    offers = await ctx.turn.offers(case.id)
    split = split_difference(*_last_two(offers))
    balance_total = (await situation(ctx, case))[0].total
    terms = {
        "kind": "mediator_split",
        "months": split.months,
        "monthly_amount": split.monthly_amount,
        "last_amount": split.amounts[-1],
        "total_repaid": split.total_repaid,
        "amount_waived": max(balance_total - split.total_repaid, 0),
        "holiday_months": 0,
        "void_if_missed": False,
        "amounts": list(split.amounts),
    }
    offer = await ctx.turn.make_offer(case.id, terms, ctx.services.negotiation.deadline(ctx.now))
    ctx.say("mediate/split_sent", case_id=case.id)
    await _tell_both(
        ctx, case.id, "mediate/split_proposed", terms=terms_view(terms), deadline_at=offer.deadline_at
    )
    return "case"


async def on_extend(ctx: Ctx, hours: int) -> str:
    case = await ctx.case()
    if case.state not in {S.APPROVED, S.NEGOTIATING} | STUCK:
        raise Invalid("mediate/cannot_extend", state=case.state.value)
    deadline = ctx.now + timedelta(hours=hours)
    if case.state in STUCK:
        case = await _resume(ctx, case)
    await ctx.turn.set_deadline(case.id, deadline)
    revived = await ctx.turn.revive_offer(case.id, deadline)
    offer = offer_view(revived) if revived else None
    ctx.say("mediate/extended", case_id=case.id, deadline_at=deadline, offer=offer)
    await _tell_both(ctx, case.id, "mediate/extended_parties", deadline_at=deadline, offer=offer)
    return "case"


async def on_close(ctx: Ctx, reason: str) -> str:
    case = await ctx.case()
    if case.state not in CLOSABLE:
        raise Invalid("mediate/cannot_close", state=case.state.value)
    # The lifecycle closes a case from the mediator's hands: a live one is taken over first, on the record.
    if case.state is S.APPROVED:
        case = await ctx.turn.transition(case.id, S.NEGOTIATING, {"by": "mediator"})
    if case.state is S.NEGOTIATING:
        await ctx.turn.transition(case.id, S.ESCALATED, {"why": "closing"})
    await ctx.turn.transition(case.id, S.CLOSED, {})
    await ctx.turn.add_message(case.id, MessageKind.REASON, reason, (Role.BORROWER, Role.LENDER))
    ctx.say("mediate/closed", case_id=case.id)
    parties = [await ctx.turn.borrower_of(case.id), *await ctx.turn.lender_staff(case.id)]
    notify(ctx, parties, "mediate/closed_parties", case_id=case.id, reason=reason)
    return "list"


MEDIATE = Flow(
    "mediate",
    {
        "list": Step(ask_list, buttons_only, on_list),
        "case": Step(ask_case, buttons_only, on_case),
        "message_text": Step(prompt("mediate/message_text"), text(max_len=1000), on_message_text),
        "split_confirm": Step(ask_split, buttons_only, on_split, returnable=False),
        "extend_hours": Step(
            prompt("mediate/extend_hours", maximum=MAX_EXTENSION_HOURS),
            whole_number(minimum=1, maximum=MAX_EXTENSION_HOURS, example="48"),
            on_extend,
        ),
        "close_reason": Step(prompt("mediate/close_reason"), text(max_len=1000), on_close),
    },
    roles=OPERATORS,
)
