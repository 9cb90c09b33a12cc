"""The mediator on stuck cases: expired deadlines, exhausted rounds, disputes, harassment reports, "no
affordable plan". Write to either side or both (as the mediator), split the difference between the last two
offers, extend a deadline, resume the negotiation, or close the case with a reason.
"""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from typing import Any

from dialogs.domain import Account, Case, CaseEvent, FileRef, MessageKind, Offer, Role
from dialogs.flows.base import Choice, Ctx, Flow, Invalid, Picked, Step, prompt
from dialogs.flows.casework import (
    brief,
    held_until,
    notify,
    offer_view,
    open_case_choice,
    report_choices,
    report_view,
    situation,
    terms_view,
)
from dialogs.flows.desk import plan_figures
from dialogs.flows.inputs import buttons_only, text, whole_number
from dialogs.flows.payments import PLAN_STATES, disputed_payments, resolve_choices
from dialogs.flows.review import OPERATORS, REVIEW_CHOICES, on_review
from dialogs.flows.status import MILESTONES
from dialogs.lifecycle import CaseState
from dialogs.messages import HeldMessage
from dialogs.rules.affordability import assess
from dialogs.rules.interest import CashFlows, annual_rate
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
SHOWN_MESSAGES = 10
TIMELINE_LENGTH = 20
TIMELINE_KINDS = MILESTONES | {"harassment_decided", "help_handled"}
REPORT_OUTCOMES = ("upheld", "not_upheld", "passed_on")
# Reasons the case log gives for an escalation that have words of their own (``why_…`` labels).
KNOWN_WHY = frozenset({"round_limit", "lender_deadline", "offer_deadline", "no_answer", "closing"})
REVIEW_ACTIONS = frozenset(choice.id for choice in REVIEW_CHOICES)  # a submitted case's review, from here too


async def ask_list(ctx: Ctx) -> None:
    cases = await ctx.turn.escalations()
    requests = await ctx.turn.help_requests(None)  # people without a case who asked for a person
    choices = [
        Choice(f"c{case.id}", "case_item", {"case_id": case.id, "state": case.state.value}) for case in cases
    ]
    choices += [Choice(f"q{r['id']}", "open_request", {"request": r["id"]}) for r in requests]
    ctx.ask("mediate/list", *choices, Choice("menu", "menu"), count=len(cases), requests=requests)


async def on_list(ctx: Ctx, picked: Picked) -> str:
    if picked.id == "menu":
        return "home:menu"
    if picked.id.startswith("q"):
        ctx.data["d_request"] = int(picked.id[1:])
        return "desk:request"
    ctx.conv.case_id = (await ctx.turn.case(int(picked.id.removeprefix("c")))).id
    return "case"


async def ask_case(ctx: Ctx) -> None:
    case = await ctx.case()
    offers = await ctx.turn.offers(case.id)
    reports = await ctx.turn.open_reports(case.id)
    requests = await ctx.turn.help_requests(case.id)
    events = await ctx.turn.events(case.id)
    held = await ctx.turn.held_for_case(case.id)
    disputed = await disputed_payments(ctx, case)  # a running plan's payments waiting for a decision
    ctx.ask(
        "mediate/case",
        *[choice for payment in disputed for choice in resolve_choices(case.id, payment)],
        *_case_choices(case, offers, reports, requests),
        *[Choice(f"h{m.id}", "cancel_held", {"number": m.id}) for m in held],
        case=await brief(ctx, case) if case.loan_id else {"id": case.id, "state": case.state.value},
        said=await _said(ctx, case.id),
        reports=[report_view(r) for r in reports],
        requests=requests,
        reasons=_why(case, events, reports) + (["payment_dispute"] if disputed else []),
        bid_open=(bid := await ctx.turn.blind_bid(case.id)) is not None and bid.status == "open",
        held=[_held_view(m) for m in held],
        # A plan that ran: its own figures; the deadline the negotiation had is long past.
        deadline_at=None if case.state in PLAN_STATES else await ctx.turn.deadline_of(case.id),
        plan_left=await plan_figures(ctx, case),
        stored_files=[_file_view(f) for f in await ctx.turn.evidence(case.id)],
        timeline=timeline(events),
        actors=actors(events),
    )


def _case_choices(
    case: Case, offers: list[Offer], reports: list[dict[str, Any]], requests: list[dict[str, Any]]
) -> list[Choice]:
    """What a mediator can do here, in this state: nothing the case's state refuses is offered."""
    choices = list(REVIEW_CHOICES) if case.state is S.SUBMITTED else []
    choices += [Choice(audience, audience) for audience in _AUDIENCES]
    choices += report_choices(reports)
    if requests:
        choices.append(Choice("handled", "mark_handled"))
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
    if case.state in PLAN_STATES:
        choices.append(Choice("schedule", "see_schedule"))
    choices.append(Choice("list", "back"))
    return choices


async def _said(ctx: Ctx, case_id: int) -> list[dict[str, Any]]:
    """The latest written words, each with its number: a harassment report names a message by it."""
    return [
        {
            "id": m.id,
            "kind": m.kind.value,
            "sender": m.sender_role.value if m.sender_role else None,
            "at": m.created_at,
            "text": m.text,
        }
        for m in (await ctx.turn.messages(case_id))[-SHOWN_MESSAGES:]
    ]


def _why(case: Case, events: list[CaseEvent], reports: list[dict[str, Any]]) -> list[str]:
    """Why the case is in front of a mediator, as label codes (``why_…``)."""
    why: list[str] = []
    if case.state in STUCK:
        moves = [e for e in events if e.kind == "transition" and e.to_state is case.state]
        last = moves[-1] if moves else None
        said = str(last.details.get("why", "")) if last else ""
        why.append(said if said in KNOWN_WHY else "escalated")
    if case.state is S.DISPUTED:
        why.append("dispute")
    if reports:
        why.append("harassment")
    return why


def timeline(events: list[CaseEvent]) -> list[dict[str, Any]]:
    """The case's log in words (the milestones), with who acted."""
    nth = _ordinals(events)
    return [
        {
            "at": e.at,
            "kind": e.kind,
            "to_state": e.to_state.value if e.to_state else None,
            "role": e.actor_role.value if e.actor_role else None,
            "nth": nth.get((_role(e), e.actor_account_id)),
        }
        for e in events
        if e.kind in TIMELINE_KINDS
    ][-TIMELINE_LENGTH:]


def actors(events: list[CaseEvent]) -> list[dict[str, Any]]:
    """Everyone who acted on the case, from its log: role, which one of that side, how many times, when."""
    nth = _ordinals(events)
    seen: dict[tuple[str, int | None], dict[str, Any]] = {}
    for e in events:
        key = (_role(e), e.actor_account_id)
        entry = seen.setdefault(key, {"role": key[0], "nth": nth.get(key)})
        entry["count"] = entry.get("count", 0) + 1
        entry["last"] = e.at
    return list(seen.values())


def _role(event: CaseEvent) -> str:
    return event.actor_role.value if event.actor_role else "system"


def _ordinals(events: list[CaseEvent]) -> dict[tuple[str, int | None], int]:
    """Which one of its side each person is (lender 1, lender 2), in the order they first acted; only for
    a side more than one person acted for. People are told apart without the store's account numbers."""
    people: dict[str, list[int]] = {}
    for e in events:
        if e.actor_account_id is not None and e.actor_account_id not in people.setdefault(_role(e), []):
            people[_role(e)].append(e.actor_account_id)
    return {
        (role, account): number
        for role, accounts in people.items()
        if len(accounts) > 1
        for number, account in enumerate(accounts, 1)
    }


def _file_view(file: FileRef) -> dict[str, Any]:
    """A file on the case as the mediator needs it: where it is kept, so they can open it (receipts too)."""
    return {
        "name": file.file_name,
        "mime": file.mime_type,
        "size": file.size_bytes,
        "where": file.storage_ref,
        "sha256": file.sha256[:12],
    }


def _held_view(message: HeldMessage) -> dict[str, Any]:
    """A held message as the mediator reads it: what it is, when it would arrive, any words in it."""
    said = message.context.get("words") or message.context.get("reason")
    return {"id": message.id, "template": message.template, "at": message.not_before, "words": said}


async def on_case(ctx: Ctx, picked: Picked) -> str:
    if picked.id in _AUDIENCES:
        ctx.data["m_to"] = picked.id
        return "message_text"
    if picked.id in REVIEW_ACTIONS:
        return await on_review(ctx, picked.id, after="list")
    if picked.id[:1] in ("r", "h") and picked.id[1:].isdigit():
        return await _on_numbered(ctx, picked.id[0], int(picked.id[1:]))
    if picked.id in ("handled", "resume", "reopen"):
        case = await ctx.case()
        await {"handled": _handled, "resume": _resume, "reopen": _reopen}[picked.id](ctx, case)
        return "case"
    if picked.id == "schedule":
        return "payments:schedule"
    return {"split": "split_confirm", "extend": "extend_hours", "close": "close_reason", "list": "list"}[
        picked.id
    ]


async def _on_numbered(ctx: Ctx, kind: str, number: int) -> str:
    """A button naming a report to decide (``r``) or a held message to cancel (``h``)."""
    if kind == "r":
        ctx.data["m_report"] = number
        return "report_outcome"
    # A held word the mediator has dealt with (a threat, a stale offer) must never reach the borrower.
    cancelled = await ctx.turn.cancel_held(number, "cancelled by the mediator")
    ctx.say("mediate/held_cancelled", number=cancelled.id)
    return "case"


async def _reopen(ctx: Ctx, case: Case) -> None:
    await ctx.turn.transition(case.id, S.DRAFT, {"by": "mediator"})
    notify(ctx, [await ctx.turn.borrower_of(case.id)], "mediate/reopened", case_id=case.id)


async def _handled(ctx: Ctx, case: Case) -> None:
    """The case's requests for a person are dealt with: they leave the escalations (unless kept there)."""
    requests = await ctx.turn.help_requests(case.id)
    for request in requests:
        await ctx.turn.handle_help(int(request["id"]))
    ctx.say("mediate/requests_handled", count=len(requests), case_id=case.id)


# A harassment report's outcome: upheld, not upheld, or passed to the lender's compliance contact


async def ask_report_outcome(ctx: Ctx) -> None:
    report = int(ctx.data.get("m_report", 0))
    case = await ctx.case()
    if not any(r["id"] == report for r in await ctx.turn.open_reports(case.id)):
        raise Invalid("mediate/report_gone", report=report)
    lender = await ctx.turn.lender(case.lender_id) if case.lender_id else None
    choices = [Choice(outcome, f"outcome_{outcome}") for outcome in REPORT_OUTCOMES]
    ctx.ask(
        "mediate/report_outcome",
        *choices,
        Choice("case", "back"),
        report=report,
        contact=lender.compliance_contact if lender else None,
    )


async def on_report_outcome(ctx: Ctx, picked: Picked) -> str:
    if picked.id == "case":
        return "case"
    ctx.data["m_outcome"] = picked.id
    return "report_note"


async def on_report_note(ctx: Ctx, note: str) -> str:
    report, outcome = int(ctx.data.pop("m_report", 0)), str(ctx.data.pop("m_outcome", ""))
    case_id = await ctx.turn.decide_report(report, outcome, note)
    ctx.say("mediate/report_decided", report=report, outcome=outcome)
    notify(
        ctx,
        [await ctx.turn.borrower_of(case_id)],
        "mediate/report_outcome_borrower",
        case_id=case_id,
        report=report,
        outcome=outcome,
    )
    return "case"


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
    borrowers = [await ctx.turn.borrower_of(case.id)] if Role.BORROWER in audience else []
    staff = await ctx.turn.lender_staff(case.id) if Role.LENDER in audience else []
    # A mediator's words about the debt keep to the borrower's hours and daily count like the lender's
    # (DESIGN §4, README); the lender's staff get them at once. Urgent system notices are not held, and
    # neither is the answer to the borrower's own open request for a person: she asked, and waits for it.
    held = None
    if borrowers and not await _asked_for_a_person(ctx, case.id, borrowers[0]):
        held = await held_until(ctx, case.id, borrowers[0])
    reply = open_case_choice(case.id, "reply")
    notify(ctx, borrowers, "mediate/message", reply, not_before=held, case_id=case.id, words=words)
    notify(ctx, staff, "mediate/message", reply, case_id=case.id, words=words)
    ctx.say("mediate/message_sent", count=len(borrowers) + len(staff), held_until=held)
    return "case"


async def _asked_for_a_person(ctx: Ctx, case_id: int, borrower: Account) -> bool:
    return any(r["account_id"] == borrower.id for r in await ctx.turn.help_requests(case_id))


def _last_two(offers: list[Offer]) -> tuple[dict[str, object], dict[str, object]]:
    return offers[-2].terms, offers[-1].terms


async def _split_terms(ctx: Ctx, case: Case) -> tuple[dict[str, Any], dict[str, Any]]:
    """Halfway between the last two offers, in full (kind, months, monthly, total, rate), and how it sits
    against the borrower's budget (checked before anyone is asked to accept it)."""
    offers = await ctx.turn.offers(case.id)
    if len(offers) < 2:
        raise Invalid("mediate/split_needs_two")
    split = split_difference(*_last_two(offers))
    balance, finances, _ = await situation(ctx, case)
    affordable = (
        assess(finances, ctx.services.policy.affordable_share).affordable_instalment if finances else None
    )
    flows = CashFlows(received=balance.outstanding_principal, repayments=split.amounts)
    terms = {
        "kind": "mediator_split",
        "months": split.months,
        "monthly_amount": split.monthly_amount,
        "last_amount": split.amounts[-1],
        "total_repaid": split.total_repaid,
        "amount_waived": max(balance.total - split.total_repaid, 0),
        "holiday_months": 0,
        "void_if_missed": False,
        "amounts": list(split.amounts),
        # What the split charges on the principal still owed (none when it repays less than that).
        "annual_rate": max(annual_rate(flows).simple, Decimal(0)),
        "affordable": affordable is not None and split.monthly_amount <= affordable,
    }
    budget = {
        "affordable": affordable,
        "fits": terms["affordable"],
        "gap": abs(affordable - split.monthly_amount) if affordable is not None else None,
    }
    return terms, budget


async def ask_split(ctx: Ctx) -> None:
    case = await ctx.case()
    terms, budget = await _split_terms(ctx, case)
    offers = await ctx.turn.offers(case.id)
    ctx.ask(
        "mediate/split_confirm",
        Choice("propose", "send_offer"),
        Choice("case", "back"),
        terms=terms_view(terms),
        budget=budget,
        older=terms_view(offers[-2].terms),
        newer=terms_view(offers[-1].terms),
    )


async def on_split(ctx: Ctx, picked: Picked) -> str:
    if picked.id == "case":
        return "case"
    case = await _resume(ctx, await ctx.case())
    terms, _ = await _split_terms(ctx, case)
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
        "report_outcome": Step(ask_report_outcome, buttons_only, on_report_outcome, returnable=False),
        "report_note": Step(prompt("mediate/report_note"), text(max_len=1000), on_report_note),
    },
    roles=OPERATORS,
)
