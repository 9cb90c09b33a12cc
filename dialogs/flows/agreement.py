"""From accepted terms to a confirmed agreement: the text both sides confirm, version by version, then the
instalments. A confirmation names the version it saw; any other version is refused and the current shown.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

from dialogs.domain import Account, Agreement, Case, CaseEvent, Offer, Role
from dialogs.errors import PermissionDenied
from dialogs.flows.base import HOME, Choice, Ctx, Flow, Picked, Step
from dialogs.flows.casework import GLOBAL, notify, open_case_choice, parties, tell_operators, terms_view
from dialogs.flows.inputs import buttons_only
from dialogs.flows.once import first_time, new_request
from dialogs.lifecycle import CaseState
from dialogs.masking import mask_name
from dialogs.messages import Outbound
from dialogs.rules.negotiation import equal_plan, instalment_dates
from dialogs.rules.plans import PlanKind
from dialogs.rules.supervision import local_day

SHOWN = "ag_shown"  # set once /agreement sent the document: a question asked again does not resend it


def schedule_of(terms: dict[str, Any], start: date) -> list[tuple[date, Decimal]]:
    """Every instalment's due date and amount, from the terms' own amounts (or equal ones)."""
    months = int(terms["months"])
    amounts = [Decimal(str(a)) for a in terms.get("amounts") or []]
    if len(amounts) != months:
        amounts = list(equal_plan(Decimal(str(terms["total_repaid"])), months)[2])
    days = instalment_dates(start, months, int(terms.get("holiday_months") or 0))
    return list(zip(days, amounts, strict=True))


async def _context(
    ctx: Ctx, case: Case, terms: dict[str, Any], version: int, drafted_at: datetime
) -> dict[str, Any]:
    """What the agreement text says, whichever language it is written in."""
    facts = await parties(ctx, case)
    borrower = await ctx.turn.borrower_of(case.id)  # the plan's days are the borrower's days
    schedule = schedule_of(terms, local_day(drafted_at, borrower.time_zone))
    return {
        "case_id": case.id,
        "version": version,
        "drafted_at": drafted_at,
        "name": facts["name"],
        "id_number": facts["id_number"],
        "lender": facts["lender"],
        "ref": facts["ref"],
        "owed": facts["owed"],
        "terms": terms_view(terms),
        "schedule": [{"number": n, "due": d, "amount": a} for n, (d, a) in enumerate(schedule, start=1)],
        "tolerance": ctx.services.tolerance_moves,
        "grace_days": ctx.services.grace_days,
        "void_if_missed": bool(terms.get("void_if_missed")),
    }


async def _text(ctx: Ctx, case: Case, offer: Offer, version: int) -> str:
    """The binding text, hashed and confirmed: written in the borrower's language (the borrower is the
    party LoanBridge serves, and the one text both sides confirm must be one text)."""
    documents = ctx.services.documents
    if documents is None:
        raise PermissionDenied("agreements cannot be written without a document renderer")
    borrower = await ctx.turn.borrower_of(case.id)
    context = await _context(ctx, case, offer.terms, version, ctx.now)
    return documents.document("agreement/text", context, borrower.locale, borrower.time_zone)


async def _translation(ctx: Ctx, made: Agreement, account: Account, binding_locale: str) -> str | None:
    """The same agreement in ``account``'s language when that is not the binding text's, else None.

    Drafted from the same terms and date as the binding text; the hash stays that of the binding text,
    and the document says which text binds.
    """
    documents = ctx.services.documents
    if documents is None or account.locale == binding_locale:
        return None
    case = await ctx.turn.case(made.case_id)
    context = await _context(ctx, case, made.terms, made.version, made.created_at)
    return documents.document("agreement/text", context, account.locale, account.time_zone)


async def draft(ctx: Ctx, case_id: int, offer: Offer) -> Agreement:
    """Accepted terms become the next version of the agreement text; both sides are asked to confirm it."""
    case = await ctx.turn.case(case_id)
    current = await ctx.turn.agreement(case_id)
    text = await _text(ctx, case, offer, (current.version + 1) if current else 1)
    made = await ctx.turn.draft_agreement(case_id, offer, text)
    await ctx.turn.set_deadline(case_id, ctx.services.negotiation.deadline(ctx.now))  # to confirm by
    recipients = [await ctx.turn.borrower_of(case_id), *await ctx.turn.lender_staff(case_id)]
    confirm = Choice(f"{GLOBAL}confirm:{case_id}:{made.version}", "confirm_agreement")
    notify(ctx, recipients, "agreement/confirm_request", confirm, case_id=case_id, version=made.version)
    await _send_document(ctx, recipients, made)
    return made


async def _send_document(ctx: Ctx, recipients: list[Account], made: Agreement) -> None:
    """The agreement as a file; once confirmed, with who confirmed it and when (outside the hashed text,
    which is what both confirmed)."""
    confirmations = await _confirmations(ctx, made)
    binding_locale = (await ctx.turn.borrower_of(made.case_id)).locale
    for account in recipients:
        context = {
            "document": made.text,
            "translation": await _translation(ctx, made, account, binding_locale),
            "binding_locale": binding_locale,
            "hash": made.content_hash,
            "version": made.version,
            "confirmations": confirmations,
            # Once both confirmations are logged: the text with the platform's signed block below it.
            "signed": f"{made.text}\n\n{made.signed_block}" if made.signed_block else None,
        }
        ctx.turn.send(Outbound(account.id, "agreement/document", context, file_name=document_name(made)))


def document_name(made: Agreement) -> str:
    signed = "-signed" if made.signed_block else ""
    return f"agreement-{made.case_id}-v{made.version}{signed}.txt"


async def _confirmations(ctx: Ctx, made: Agreement) -> list[dict[str, Any]]:
    """Each side's confirmation of this version: when, and who (named as people read them)."""
    stamps = ((Role.BORROWER, made.borrower_confirmed_at), (Role.LENDER, made.lender_confirmed_at))
    if all(at is None for _, at in stamps):
        return []
    confirmed = [
        event
        for event in await ctx.turn.events(made.case_id)
        if event.kind == "agreement_confirmed" and event.details.get("version") == made.version
    ]
    names = await _party_names(ctx, made.case_id)
    return [
        {"side": side.value, "at": at, "who": names.get(side) if _confirmer(confirmed, side) else None}
        for side, at in stamps
        if at is not None
    ]


async def _party_names(ctx: Ctx, case_id: int) -> dict[Role, str]:
    """Who the sides are as people read them: the borrower's masked name, the lender's name. Account
    numbers are the store's own (the case log keeps them); a person reading the agreement never sees one."""
    case = await ctx.turn.case(case_id)
    if case.loan_id is None:
        return {}
    loan = await ctx.turn.loan(case.loan_id)
    lender = await ctx.turn.lender(loan.lender_id)
    return {Role.BORROWER: mask_name(loan.row.borrower_name), Role.LENDER: lender.name}


def _confirmer(events: list[CaseEvent], side: Role) -> int | None:
    return next((e.actor_account_id for e in events if e.actor_role is side), None)


async def settle(ctx: Ctx, case: Case, amount: Decimal, owed: Decimal) -> None:
    """A blind bid that overlapped: the midpoint, one payment, as terms both sides already accepted."""
    terms = {
        "kind": PlanKind.DISCOUNTED_SETTLEMENT.value,
        "months": 1,
        "monthly_amount": amount,
        "last_amount": amount,
        "total_repaid": amount,
        "amount_waived": max(owed - amount, Decimal(0)),
        "holiday_months": 0,
        "void_if_missed": True,
        "affordable": True,
        "amounts": [amount],
    }
    offer = await ctx.turn.make_offer(
        case.id, terms, ctx.services.negotiation.deadline(ctx.now), settled=True
    )
    ctx.say("negotiate/bid_settled", case_id=case.id, amount=amount)
    others = [await ctx.turn.borrower_of(case.id), *await ctx.turn.lender_staff(case.id)]
    notify(
        ctx,
        [a for a in others if a.id != ctx.account.id],
        "negotiate/bid_settled",
        case_id=case.id,
        amount=amount,
    )
    await draft(ctx, case.id, offer)


async def confirm(ctx: Ctx, case_id: int, version: int) -> None:
    """A press of "confirm" on version ``version`` of the case's agreement."""
    if await _confirmation_not_needed(ctx, case_id, version):
        return
    try:
        made = await ctx.turn.confirm_agreement(case_id, version)
    except PermissionDenied:
        current = await ctx.turn.agreement(case_id)
        if current is None or current.version == version:
            raise
        ctx.say(
            "agreement/stale",
            Choice(f"{GLOBAL}confirm:{case_id}:{current.version}", "confirm_agreement"),
            given=version,
            current=current.version,
        )
        return
    if not made.confirmed:
        ctx.say("agreement/confirmed_waiting", case_id=case_id)
        others = [await ctx.turn.borrower_of(case_id)] if ctx.account.role is Role.LENDER else []
        others += [] if ctx.account.role is Role.LENDER else await ctx.turn.lender_staff(case_id)
        notify(ctx, others, "agreement/other_confirmed", open_case_choice(case_id), case_id=case_id)
        return
    await ctx.turn.transition(case_id, CaseState.AGREED, {"version": made.version, "hash": made.content_hash})
    start = local_day(made.created_at, (await ctx.turn.borrower_of(case_id)).time_zone)
    await ctx.turn.schedule_instalments(case_id, schedule_of(made.terms, start))
    await ctx.turn.transition(case_id, CaseState.ACTIVE, {"instalments": int(made.terms["months"])})
    await ctx.turn.plan_reminders(case_id, ctx.services.reminders)  # in this commit, not the next minute
    recipients = [await ctx.turn.borrower_of(case_id), *await ctx.turn.lender_staff(case_id)]
    notify(ctx, recipients, "agreement/agreed", case_id=case_id, version=made.version)
    await _send_document(ctx, recipients, made)
    await tell_operators(ctx, case_id, "agreement/agreed_for_operator", version=made.version)


async def _confirmation_not_needed(ctx: Ctx, case_id: int, version: int) -> bool:
    """An old or repeated "confirm" press is answered with what is true now, not with a refusal."""
    case = await ctx.turn.case(case_id)
    current = await ctx.turn.agreement(case_id)
    if current is not None and current.confirmed:
        ctx.say("agreement/already_agreed", case_id=case_id, version=current.version)
        return True
    if case.state is not CaseState.NEGOTIATING:
        ctx.say("agreement/not_open", case_id=case_id, state=case.state.value)
        return True
    if current is None or current.version != version:
        return False
    mine = current.borrower_confirmed_at if ctx.account.role is Role.BORROWER else current.lender_confirmed_at
    if mine is not None:
        ctx.say("agreement/confirmed_waiting", case_id=case_id)
        return True
    return False


async def ask_show(ctx: Ctx) -> None:
    case = await ctx.case()
    made = await ctx.turn.agreement(case.id)
    if made is None:
        ctx.ask("agreement/none", Choice("menu", "menu"), case_id=case.id)
        return
    # The document once a request (/agreement, "Send it again"): a slip here (a refused command, a
    # language change, a restart) asks again with the short text, not the whole agreement resent.
    again = not first_time(ctx, SHOWN)
    if not again:
        await _send_document(ctx, [ctx.account], made)
    signed = made.signed_block is not None
    choices = (Choice("again", "send_again"), Choice("menu", "menu")) if again else (Choice("menu", "menu"),)
    ctx.ask(
        "agreement/shown",
        *choices,
        case_id=case.id,
        confirmed=made.confirmed,
        signed=signed,
        again=again,
        sent_as=document_name(made),
    )


async def on_show(ctx: Ctx, picked: Picked) -> str:
    if picked.id == "again":
        new_request(ctx, SHOWN)
        return "show"
    return HOME


AGREEMENT = Flow(
    "agreement",
    {"show": Step(ask_show, buttons_only, on_show)},
    roles=frozenset(Role),
)
