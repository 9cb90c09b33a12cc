"""A running plan: the schedule (/schedule), payments the borrower reports, the lender's staff confirm or
dispute and a mediator resolves, the tolerance (a missed instalment moved to the end), and completion.
Payments go on after a breach (money paid then still counts towards the debt): reported and decided the
same way, while the case stays in breach.

The borrower's report is asked step by step (amount, day, receipt, check) and stored only at the end.
Staff decide through buttons that name the case and the payment (``g:payok:CASE:PAYMENT``…); the store
re-checks who presses them and what the payment's state is, so a stale or forged one changes nothing.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from dialogs.domain import Account, Case, FileRef, Payment, PaymentStatus, Role
from dialogs.flows.base import HOME, Choice, Ctx, Flow, Invalid, Picked, Step, back_to
from dialogs.flows.casework import ASK_FOR_HELP, GLOBAL, held_until, notify, open_case_choice, terms_view
from dialogs.flows.inputs import buttons_only, file, money, text
from dialogs.lifecycle import CaseState
from dialogs.messages import HeldMessage, Inbound, InboundKind
from dialogs.rules.dates import day_readings
from dialogs.rules.supervision import (
    Allocation,
    Move,
    MoveRefusal,
    PaymentDays,
    allocate,
    decide_move,
    first_unpaid,
    local_day,
    payment_days,
)

REPORT = "pay"  # the working copy of a report: {"case", "amount", "day", "receipt"}
DISPUTING = "pay_dispute"  # the payment whose dispute reason lender staff are typing
REASON = "pay_dispute_reason"  # the reason typed, kept for the check before it is sent
CONFIRMING = "pay_confirm"  # a typed "confirm received" asked once more: the payment's id
RESOLVING = "pay_resolve"  # a mediator's decision asked for: {"payment", "uphold"}, acted on once confirmed
DISPUTE_NOTICE = "payments/disputed"  # the borrower's notice of a dispute: the lender's words, held
MAX_REASON = 1000
MIN_REASON = 8  # "ok" tells the borrower nothing; "不在账户里" (5) is short too: a few words are asked for
AMOUNT_EXAMPLE = "1200"
# "I don't remember the day", typed: the same as the choice
_DAY_UNKNOWN = re.compile(
    r"记不清|不记得|忘了|不知道|不确定|don'?t remember|do not remember|not sure|forgot|no idea"
)
# typed for "no receipt": taken as the button
_NO_RECEIPT = frozenset(
    {"no", "none", "no receipt", "no receipts", "i have none", "没有", "无", "没有收据", "无收据", "没收据"}
)
# A file that cannot be taken is answered with the receipt question's own choices, not a generic "Skip"
_RECEIPT_ERRORS = {
    "errors/file_expected": "payments/receipt_or_none",
    "errors/file_unreadable": "payments/receipt_unreadable",
    "errors/file_too_big": "payments/receipt_too_big",
}
PLAN_STATES = frozenset({CaseState.ACTIVE, CaseState.COMPLETED, CaseState.DEFAULTED})
# Where payments are reported and decided: a running plan, and one in breach (money paid after a breach still
# counts towards the debt, and the borrower reports it here as before: DESIGN §3, trial 3, item 5)
PAYING_STATES = frozenset({CaseState.ACTIVE, CaseState.DEFAULTED})


def pay_choice(case_id: int) -> Choice:
    """The "Report a payment" button on a case (reminders carry it too)."""
    return Choice(f"{GLOBAL}pay:{case_id}", "report_payment", {"case_id": case_id})


def local_today(ctx: Ctx, account: Account | None = None) -> date:
    return local_day(ctx.now, (account or ctx.account).time_zone)


async def plan_start(ctx: Ctx, case_id: int) -> date | None:
    """The day the agreement began, on the borrower's calendar (the day its schedule counts from)."""
    made = await ctx.turn.agreement(case_id)
    if made is None:
        return None
    return local_day(made.created_at, (await ctx.turn.borrower_of(case_id)).time_zone)


async def plan_of(ctx: Ctx, case_id: int) -> Allocation:
    """The schedule with every confirmed payment applied (the rule's allocation)."""
    confirmed = [p.amount for p in await ctx.turn.payments(case_id) if p.status is PaymentStatus.CONFIRMED]
    return allocate(await ctx.turn.instalments(case_id), confirmed)


async def waiting_payments(ctx: Ctx, case_id: int) -> list[Payment]:
    """Reported payments not yet counted or refused (waiting for the lender, or disputed)."""
    undecided = (PaymentStatus.REPORTED, PaymentStatus.DISPUTED)
    return [p for p in await ctx.turn.payments(case_id) if p.status in undecided]


def payment_view(payment: Payment) -> dict[str, Any]:
    return {
        "id": payment.id,
        "amount": payment.amount,
        "paid_on": payment.paid_on,
        "status": payment.status.value,
        "receipt": payment.receipt,
        "reason": payment.dispute_reason,
    }


# The schedule


async def ask_schedule(ctx: Ctx) -> None:
    case = await ctx.case()
    if case.state not in PLAN_STATES or not await ctx.turn.instalments(case.id):
        ctx.ask("payments/no_plan", Choice("menu", "menu"), case_id=case.id, state=case.state.value)
        return
    allocation = await plan_of(ctx, case.id)
    borrower = await ctx.turn.borrower_of(case.id)
    today = local_today(ctx, borrower)
    waiting = await waiting_payments(ctx, case.id)
    moved_from = {due.number: due.moved_from for due in await ctx.turn.instalments(case.id)}
    rows = [
        {
            "number": i.number,
            "due": i.due_date,
            "amount": i.amount,
            "paid": i.paid,
            "state": i.state(today).value,
            "moved_from": moved_from.get(i.number),
        }
        for i in allocation.instalments
    ]
    decision = await _move_decision(ctx, case.id, today) if case.state is CaseState.ACTIVE else None
    choices = _schedule_choices(ctx, case, decision, waiting)
    if _asked_again(ctx):
        ctx.ask("payments/schedule_again", *choices, case_id=case.id)
        return
    ctx.ask(
        "payments/schedule",
        *choices,
        case_id=case.id,
        today=today,
        role=ctx.account.role.value,
        can_move=isinstance(decision, Move),
        moves_left=max(ctx.services.tolerance_moves - sum(1 for i in allocation.instalments if i.moved), 0),
        state=case.state.value,
        instalments=rows,
        total=allocation.total,
        paid_total=allocation.applied,
        left=allocation.left,
        awaiting=[payment_view(p) for p in waiting],
        grace_days=ctx.services.grace_days,
    )


# Commands that show the schedule (again) in full; any other (/quiet, /help, /lang…) answered on the schedule
# asks its question again in a line: the schedule is just above, 36 lines are not repeated
_SHOWING_SCHEDULE = ("/schedule", "/back")


def _asked_again(ctx: Ctx) -> bool:
    inbound = ctx.inbound
    if inbound is None or inbound.kind is not InboundKind.COMMAND:
        return False
    return not inbound.payload.strip().casefold().startswith(_SHOWING_SCHEDULE)


def _schedule_choices(
    ctx: Ctx, case: Case, decision: Move | MoveRefusal | None, waiting: list[Payment]
) -> list[Choice]:
    choices: list[Choice] = []
    role = ctx.account.role
    paying = case.state in PAYING_STATES
    if paying and role is Role.BORROWER:
        choices.append(pay_choice(case.id))
        if isinstance(decision, Move):  # offered only while the agreement still allows one
            choices.append(Choice("move", "move_instalment"))
    if paying and role is Role.LENDER:
        for p in waiting:
            if p.status is PaymentStatus.REPORTED:
                choices += decide_choices(case.id, p)
    if paying and role is Role.OPERATOR:
        for p in waiting:
            if p.status is PaymentStatus.DISPUTED:
                choices += resolve_choices(case.id, p)
    choices.append(Choice("menu", "menu"))
    return choices


async def disputed_payments(ctx: Ctx, case: Case) -> list[Payment]:
    """Payments of a running plan (or one in breach) the lender disputes: a mediator's to decide."""
    if case.state not in PAYING_STATES:
        return []
    return [p for p in await ctx.turn.payments(case.id) if p.status is PaymentStatus.DISPUTED]


def decide_choices(case_id: int, payment: Payment) -> list[Choice]:
    context = {"case_id": case_id, "amount": payment.amount}
    return [
        Choice(f"{GLOBAL}payok:{case_id}:{payment.id}", "payment_confirm", context),
        Choice(f"{GLOBAL}paybad:{case_id}:{payment.id}", "payment_dispute", context),
    ]


def resolve_choices(case_id: int, payment: Payment) -> list[Choice]:
    context = {"case_id": case_id, "amount": payment.amount}
    return [
        Choice(f"{GLOBAL}payyes:{case_id}:{payment.id}", "payment_uphold", context),
        Choice(f"{GLOBAL}payno:{case_id}:{payment.id}", "payment_reject", context),
    ]


# "I can't pay January, can I move it?": asking in words reaches the same answer as the button
_CANNOT_PAY = re.compile(
    r"can'?t pay|cannot pay|can not pay|unable to pay|not able to pay|\bmove\b|postpone|delay|"
    r"付不了|付不起|付不上|还不了|还不起|还不上|没钱|推迟|延后|延期|移到|挪到"
)


def schedule_answer(ctx: Ctx, inbound: Inbound) -> Picked:
    """Buttons, or a borrower saying in words that they cannot pay an instalment (answered by the rule:
    moved if the agreement allows it, or told why not and who can help)."""
    typed = inbound.payload.casefold().replace("’", "'") if inbound.kind is InboundKind.TEXT else ""
    if _CANNOT_PAY.search(typed) and ctx.account.role is Role.BORROWER:
        return Picked("move")
    raise Invalid("errors/use_buttons")


async def on_schedule(ctx: Ctx, picked: Picked) -> str:
    return "move" if picked.id == "move" and ctx.account.role is Role.BORROWER else HOME


# The borrower's report: amount, day, receipt, check


def _report(ctx: Ctx) -> dict[str, Any]:
    copy = ctx.data.get(REPORT)
    if not isinstance(copy, dict) or copy.get("case") != ctx.conv.case_id:
        copy = ctx.data[REPORT] = {"case": ctx.conv.case_id}
    return copy


async def ask_amount(ctx: Ctx) -> None:
    case = await ctx.case()
    allocation = await plan_of(ctx, case.id)
    upcoming = first_unpaid(allocation)
    typed = _report(ctx).get("amount")  # back here (/back, "Change"): what was typed is offered to keep
    keep = [Choice("keep", "keep_amount", {"amount": Decimal(typed)})] if typed else []
    ctx.ask(
        "payments/amount",
        *keep,
        Choice("cancel", "cancel_report"),
        case_id=case.id,
        left=allocation.left,
        next=(
            {"number": upcoming.number, "due": upcoming.due_date, "amount": upcoming.left}
            if upcoming
            else None
        ),
        example=AMOUNT_EXAMPLE,
    )


def paid_amount(ctx: Ctx, inbound: Inbound) -> Decimal:
    """An amount as people type it; a negative one is told "above zero" (the generic "type 0 if there is
    none" would invite a 0 this question refuses)."""
    try:
        return Decimal(money(example=AMOUNT_EXAMPLE)(ctx, inbound))
    except Invalid as invalid:
        if invalid.template == "errors/money_negative":
            raise Invalid("payments/amount_zero", example=AMOUNT_EXAMPLE) from None
        raise


async def on_amount(ctx: Ctx, answer: Decimal | Picked) -> str:
    if isinstance(answer, Picked):
        return "day" if answer.id == "keep" and "amount" in _report(ctx) else _cancelled(ctx)
    case = await ctx.case()
    left = (await plan_of(ctx, case.id)).left
    if answer <= 0:
        raise Invalid("payments/amount_zero", example=AMOUNT_EXAMPLE)
    waiting = sum((p.amount for p in await waiting_payments(ctx, case.id)), Decimal(0))
    if answer > left - waiting:  # the payments still waiting may yet count: together they cannot pass left
        raise Invalid(
            "payments/too_much", left=left, waiting_total=waiting, room=max(left - waiting, Decimal(0))
        )
    _report(ctx)["amount"] = str(answer)
    return "day"


async def report_days(ctx: Ctx) -> PaymentDays:
    """The days a payment on the case in hand can have been made (the rule), on the borrower's calendar."""
    return payment_days(local_today(ctx), await plan_start(ctx, (await ctx.case()).id))


def day_choices(days: PaymentDays, said: date | None = None) -> list[Choice]:
    """The day question's choices: only days the check accepts ("Yesterday" not on the first day)."""
    keep = [Choice("keep", "keep_day", {"day": said})] if said is not None and days.accepts(said) else []
    yesterday = [Choice("yesterday", "paid_yesterday")] if days.yesterday is not None else []
    return [
        *keep,
        Choice("today", "paid_today"),
        *yesterday,
        Choice("unknown", "day_unknown"),
        Choice("cancel", "cancel_report"),
    ]


def days_context(days: PaymentDays) -> dict[str, Any]:
    """What the day question, its examples and its refusals say about the possible days. The examples are
    today written three ways people write days: today is always accepted while the plan runs."""
    example = days.last
    return {
        "example": example.isoformat(),
        "example_day": example,
        "example_m": example.month,
        "example_d": example.day,
        "first": days.first,
        "today": days.last,
        "only_today": days.only_today,
        "yesterday_possible": days.yesterday is not None,
    }


async def ask_day(ctx: Ctx) -> None:
    said = _report(ctx).get("day")
    days = await report_days(ctx)
    _report(ctx)["first"] = days.first.isoformat()  # for a typed answer's "could not read" (no store there)
    kept = date.fromisoformat(said) if said else None
    ctx.ask("payments/day", *day_choices(days, kept), **days_context(days))


@dataclass(frozen=True, slots=True)
class ReadTwoWays:
    """A typed day that reads two ways (``2/12``: February 12 or December 2). ``days``: the readings this
    report accepts (both: the borrower is asked which; one: it is taken, and said how it was read)."""

    typed: str
    days: tuple[date, ...]
    other: date  # the reading not taken, when only one is taken


READINGS = "readings"  # in the report: the two days a typed date could be, while the borrower says which
MAX_ECHO = 40  # a typed date said back ("I read “2/12” as …") is short


def typed_day(ctx: Ctx, inbound: Inbound) -> date | Picked | ReadTwoWays:
    """A day as people write it (dialogs.rules.dates), or "I don't remember" in words."""
    if inbound.kind is not InboundKind.TEXT:
        raise Invalid("payments/day_unreadable", **days_context(_asked_days(ctx)))
    typed = inbound.payload.strip()
    if _DAY_UNKNOWN.search(typed.casefold().replace("’", "'")):
        return Picked("unknown")
    readings = day_readings(typed, local_today(ctx))
    if not readings:
        raise Invalid("payments/day_unreadable", **days_context(_asked_days(ctx)))
    if len(readings) == 1:
        return readings[0]
    possible = tuple(day for day in readings if _asked_days(ctx).accepts(day))
    if not possible:
        return readings[0]  # neither is possible: the check says why of the usual (month-first) one
    other = next(day for day in readings if day != possible[0])
    return ReadTwoWays(typed[:MAX_ECHO], possible, other)


def _asked_days(ctx: Ctx) -> PaymentDays:
    """The possible days as the question just asked them (the plan's start kept with the report)."""
    first = _report(ctx).get("first")
    return payment_days(local_today(ctx), date.fromisoformat(first) if first else None)


async def ask_day_which(ctx: Ctx) -> None:
    readings = [date.fromisoformat(day) for day in _report(ctx).get(READINGS) or []]
    if len(readings) != 2:  # arrived without the two readings (a /back): the day question itself
        await ask_day(ctx)
        return
    choices = [Choice(f"reading{index}", "day_reading", {"day": day}) for index, day in enumerate(readings)]
    typed = str(_report(ctx).get("typed_day") or "")
    ctx.ask("payments/day_which", *choices, Choice("cancel", "cancel_report"), typed=typed)


def _reading(ctx: Ctx, picked: Picked) -> date | None:
    """The day of a "which of the two" choice, if it is one."""
    readings = _report(ctx).get(READINGS) or []
    index = {"reading0": 0, "reading1": 1}.get(picked.id)
    return date.fromisoformat(readings[index]) if index is not None and index < len(readings) else None


async def on_day(ctx: Ctx, answer: date | Picked | ReadTwoWays) -> str:
    days = await report_days(ctx)
    if isinstance(answer, ReadTwoWays):
        if len(answer.days) == 2:  # both possible: ask which, never guess a day of someone's money
            readings = [day.isoformat() for day in answer.days]
            _report(ctx).update({READINGS: readings, "typed_day": answer.typed})
            return "day_which"
        ctx.say("payments/day_read_as", typed=answer.typed, day=answer.days[0], other_day=answer.other)
        answer = answer.days[0]
    if isinstance(answer, Picked) and (read := _reading(ctx, answer)) is not None:
        answer = read
    if isinstance(answer, Picked) and answer.id == "keep" and "day" in _report(ctx):
        return "receipt"  # offered only when the check accepts it, and the range only grows with the days
    _report(ctx)["day_unknown"] = isinstance(answer, Picked) and answer.id == "unknown"
    if isinstance(answer, Picked):
        if answer.id == "cancel":
            return _cancelled(ctx)
        # not remembered: recorded as today, and the lender is told the day is not known exactly
        answer = days.last - timedelta(days=1) if answer.id == "yesterday" else days.last
    if answer > days.last:
        raise Invalid("payments/future_day", **days_context(days))
    if not days.accepts(answer):
        raise Invalid("payments/before_plan", plan_since=days.first, **days_context(days))
    _report(ctx)["day"] = answer.isoformat()
    _report(ctx).pop(READINGS, None)
    return "receipt"


async def ask_receipt(ctx: Ctx) -> None:
    sent = _report(ctx).get("receipt")
    keep = [Choice("keep", "keep_receipt", {"file_name": sent.get("name") or ""})] if sent else []
    ctx.ask("payments/receipt", *keep, Choice("none", "no_receipt"), Choice("cancel", "cancel_report"))


async def on_receipt(ctx: Ctx, answer: FileRef | Picked) -> str:
    report = _report(ctx)
    if isinstance(answer, Picked):
        if answer.id == "cancel":
            return _cancelled(ctx)
        if answer.id == "keep" and report.get("receipt"):
            return "check"
        report["receipt"] = None
    else:
        report["receipt"] = {
            "ref": answer.storage_ref,
            "sha256": answer.sha256,
            "size": answer.size_bytes,
            "name": answer.file_name,
            "mime": answer.mime_type,
        }
    return "check"


async def ask_check(ctx: Ctx) -> None:
    report = _report(ctx)
    if "amount" not in report or "day" not in report:  # arrived without the answers: start again
        ctx.ask("payments/start_again", Choice("again", "report_payment"), Choice("menu", "menu"))
        return
    receipt = report.get("receipt")
    ctx.ask(
        "payments/check",
        Choice("send", "send_report"),
        Choice("change", "change"),
        Choice("cancel", "cancel_report"),
        case_id=ctx.conv.case_id,
        amount=Decimal(report["amount"]),
        paid_on=date.fromisoformat(report["day"]),
        day_unknown=bool(report.get("day_unknown")),
        receipt_name=(receipt or {}).get("name") or ("" if receipt else None),
    )


async def on_check(ctx: Ctx, picked: Picked) -> str:
    if picked.id == "cancel":
        return _cancelled(ctx)
    if picked.id in ("change", "again"):
        return "amount"
    if picked.id == "menu":
        return HOME
    report = ctx.data.pop(REPORT)
    case = await ctx.case()
    if case.state not in PAYING_STATES:  # the plan ended while the report was being written
        ctx.say("payments/not_running", ASK_FOR_HELP, case_id=case.id, state=case.state.value)
        return HOME
    receipt = report.get("receipt")
    made = await ctx.turn.report_payment(
        case.id,
        Decimal(report["amount"]),
        date.fromisoformat(report["day"]),
        FileRef(
            storage_ref=receipt["ref"],
            sha256=receipt["sha256"],
            size_bytes=receipt["size"],
            file_name=receipt["name"],
            mime_type=receipt["mime"],
        )
        if receipt
        else None,
    )
    ctx.say("payments/reported", case_id=case.id, payment=payment_view(made))
    notify(
        ctx,
        await ctx.turn.lender_staff(case.id),
        "payments/to_confirm",
        *decide_choices(case.id, made),
        case_id=case.id,
        payment=payment_view(made),
        day_unknown=bool(report.get("day_unknown")),
        state=case.state.value,
    )
    if case.state is CaseState.DEFAULTED:  # after a breach the mediators follow the case: they see it too
        notify(
            ctx,
            await ctx.turn.operators(),
            "payments/reported_after_breach",
            open_case_choice(case.id),
            case_id=case.id,
            payment=payment_view(made),
        )
    return back_to("schedule")


def _cancelled(ctx: Ctx) -> str:
    ctx.data.pop(REPORT, None)
    ctx.say("payments/report_cancelled")
    return back_to("schedule")


def accept_receipt(ctx: Ctx, inbound: Inbound) -> FileRef | Picked:
    typed = " ".join(inbound.payload.strip().casefold().rstrip(".!。！").split())
    if inbound.kind is InboundKind.TEXT and typed in _NO_RECEIPT:
        return Picked("none")
    try:
        return file(ctx, inbound)
    except Invalid as invalid:
        raise Invalid(_RECEIPT_ERRORS.get(invalid.template, invalid.template), **invalid.context) from None


# Staff: confirm, dispute (with a reason), resolve


async def confirmed(ctx: Ctx, case_id: int, payment: Payment) -> None:
    """After a payment is confirmed (by the lender, or a mediator upholding it): both sides told what is
    left; when nothing is, the plan is completed."""
    allocation = await plan_of(ctx, case_id)
    upcoming = first_unpaid(allocation)
    context: dict[str, Any] = {
        "case_id": case_id,
        "payment": payment_view(payment),
        "left": allocation.left,
        "next": {"number": upcoming.number, "due": upcoming.due_date, "amount": upcoming.left}
        if upcoming
        else None,
        "by": ctx.account.role.value,
        "state": (await ctx.turn.case(case_id)).state.value,
    }
    borrower = await ctx.turn.borrower_of(case_id)
    others = [a for a in [borrower, *await ctx.turn.lender_staff(case_id)] if a.id != ctx.account.id]
    ctx.say("payments/confirmed", mine=True, **context)  # "You confirmed …": it was this person's decision
    notify(ctx, others, "payments/confirmed", mine=False, **context)
    if allocation.complete and context["state"] == CaseState.ACTIVE.value:  # in breach: not "completed"
        await complete(ctx, case_id, allocation)


async def complete(ctx: Ctx, case_id: int, allocation: Allocation) -> None:
    """Everything paid: the case is completed; both sides get the closing statement, the borrower also a
    plain word that the debt under this agreement is settled."""
    await ctx.turn.transition(case_id, CaseState.COMPLETED, {"paid": str(allocation.applied)})
    made = await ctx.turn.agreement(case_id)
    paid = [p for p in await ctx.turn.payments(case_id) if p.status is PaymentStatus.CONFIRMED]
    statement: dict[str, Any] = {
        "case_id": case_id,
        "terms": terms_view(made.terms) if made else {},
        "agreed_on": await plan_start(ctx, case_id),
        "paid_total": allocation.applied + allocation.credit,
        "credit": allocation.credit,  # paid beyond the plan (several reports confirmed at once): owed back
        "paid": [payment_view(p) for p in paid],
        "completed_on": local_today(ctx, await ctx.turn.borrower_of(case_id)),
    }
    borrower = await ctx.turn.borrower_of(case_id)
    staff = await ctx.turn.lender_staff(case_id)
    for account in (borrower, *staff):
        notify(ctx, [account], "payments/closing", **statement)
    notify(ctx, [borrower], "payments/settled", ASK_FOR_HELP, case_id=case_id)
    notify(ctx, await ctx.turn.operators(), "payments/completed", open_case_choice(case_id), case_id=case_id)


async def ask_dispute_reason(ctx: Ctx) -> None:
    payment = await ctx.turn.payment(int(ctx.data.get(DISPUTING, 0)))
    written = ctx.data.get(REASON)
    ctx.ask(
        "payments/dispute_reason",
        *([Choice("keep", "keep_written")] if written else []),
        Choice("cancel", "cancel_report"),
        case_id=payment.case_id,
        payment=payment_view(payment),
        limit=MAX_REASON,
        written=written,
    )


def dispute_reason(ctx: Ctx, inbound: Inbound) -> str:
    """A reason the borrower can act on: a few words at least (asked again kindly), at most MAX_REASON."""
    reason = text(max_len=MAX_REASON)(ctx, inbound)
    if len(reason) < MIN_REASON:
        raise Invalid("payments/reason_too_short", minimum=MIN_REASON)
    return str(reason)


async def on_dispute_reason(ctx: Ctx, answer: str | Picked) -> str:
    if isinstance(answer, Picked) and answer.id == "cancel":
        return _dispute_cancelled(ctx)
    if isinstance(answer, str):
        ctx.data[REASON] = answer
    return "dispute_check"


def _dispute_cancelled(ctx: Ctx) -> str:
    ctx.data.pop(DISPUTING, None)
    ctx.data.pop(REASON, None)
    ctx.say("payments/dispute_cancelled")
    return HOME


async def ask_dispute_check(ctx: Ctx) -> None:
    payment = await ctx.turn.payment(int(ctx.data.get(DISPUTING, 0)))
    ctx.ask(
        "payments/dispute_check",
        Choice("send", "send_dispute"),
        Choice("change", "change"),
        Choice("cancel", "cancel_report"),
        case_id=payment.case_id,
        payment=payment_view(payment),
        dispute_text=str(ctx.data.get(REASON, "")),
    )


async def still_waiting(ctx: Ctx, payment: Payment, waiting: PaymentStatus) -> Case | None:
    """The payment's case while the payment is still ``waiting`` on a plan that takes payments; ``None``
    once it was decided (by a colleague, or the plan ended), and the person is told what was decided."""
    case = await ctx.turn.case(payment.case_id)
    if payment.status is waiting and case.state in PAYING_STATES:
        return case
    view = payment_view(payment)
    ctx.say("payments/already_decided", case_id=case.id, payment=view, state=case.state.value)
    return None


async def on_dispute_check(ctx: Ctx, picked: Picked) -> str:
    if picked.id == "change":
        return "dispute_reason"
    if picked.id == "cancel" or not ctx.data.get(REASON):
        return _dispute_cancelled(ctx)
    answer = str(ctx.data.pop(REASON))
    payment_id = int(ctx.data.pop(DISPUTING, 0))
    # decided by a colleague (or the plan ended) while the reason was being written
    if await still_waiting(ctx, await ctx.turn.payment(payment_id), PaymentStatus.REPORTED) is None:
        return HOME
    payment = await ctx.turn.dispute_payment(payment_id, answer)
    case_id = payment.case_id
    view = payment_view(payment)
    borrower = await ctx.turn.borrower_of(case_id)
    # The reason is the lender's own words to the borrower about money: held to her hours and counted in
    # the day's cap like their other words (DESIGN §4, dialogs.collection); ``words`` shows it to a
    # mediator looking at what is held, who may cancel it.
    held = await held_until(ctx, case_id, borrower)
    notify(
        ctx,
        [borrower],
        DISPUTE_NOTICE,
        ASK_FOR_HELP,
        not_before=held,
        case_id=case_id,
        payment=view,
        words=payment.dispute_reason,
    )
    ctx.say("payments/dispute_sent", case_id=case_id, payment=view, held_until=held)
    staff = [a for a in await ctx.turn.lender_staff(case_id) if a.id != ctx.account.id]
    notify(ctx, staff, "payments/disputed_staff", case_id=case_id, payment=view)
    notify(
        ctx,
        await ctx.turn.operators(),
        "payments/to_resolve",
        *resolve_choices(case_id, payment),
        case_id=case_id,
        payment=view,
    )
    return HOME


# Lender staff who typed "confirm received" (a letter or a number is easy to get wrong; a tap is not) are
# asked once more, after the payment was found still waiting: one already decided is said at once instead


async def ask_confirm_check(ctx: Ctx) -> None:
    payment = await ctx.turn.payment(int(ctx.data.get(CONFIRMING, 0)))
    ctx.ask(
        "payments/confirm_check",
        Choice("yes", "confirm_typed_yes", {"amount": payment.amount}),
        Choice("no", "confirm_typed_no"),
        case_id=payment.case_id,
        payment=payment_view(payment),
    )


async def on_confirm_check(ctx: Ctx, picked: Picked) -> str:
    payment_id = int(ctx.data.pop(CONFIRMING, 0) or 0)
    if picked.id != "yes" or not payment_id:
        ctx.say("payments/confirm_not_sent")
        return HOME
    case = await still_waiting(ctx, await ctx.turn.payment(payment_id), PaymentStatus.REPORTED)
    if case is None:
        return HOME
    await confirmed(ctx, case.id, await ctx.turn.confirm_payment(payment_id))
    return HOME


# A mediator's decision on a disputed payment: asked once more before it counts (or not) for both sides


async def ask_resolve_check(ctx: Ctx) -> None:
    asked = ctx.data.get(RESOLVING) or {}
    payment = await ctx.turn.payment(int(asked.get("payment", 0)))
    ctx.ask(
        "payments/resolve_check",
        Choice("yes", "resolve_yes"),
        Choice("no", "resolve_back"),
        case_id=payment.case_id,
        payment=payment_view(payment),
        uphold=bool(asked.get("uphold")),
    )


async def on_resolve_check(ctx: Ctx, picked: Picked) -> str:
    asked = ctx.data.pop(RESOLVING, None) or {}
    if picked.id != "yes" or not asked:
        ctx.say("payments/resolve_not_sent")
        return HOME
    payment = await ctx.turn.payment(int(asked["payment"]))
    case = await still_waiting(ctx, payment, PaymentStatus.DISPUTED)
    if case is None:
        return HOME
    payment = await ctx.turn.resolve_payment(payment.id, bool(asked["uphold"]))
    waiting_notice = await _held_dispute_notice(ctx, case.id, payment.id)
    if payment.status is PaymentStatus.CONFIRMED:
        if waiting_notice is not None:  # "the lender cannot find it" is no longer true: never sent
            await ctx.turn.cancel_held(waiting_notice.id, "the payment was confirmed")
        await confirmed(ctx, case.id, payment)
    else:
        view = payment_view(payment)
        borrower = await ctx.turn.borrower_of(case.id)
        # A decision never reaches the borrower before the dispute it decides
        after = waiting_notice.not_before if waiting_notice is not None else None
        notify(
            ctx,
            [borrower],
            "payments/rejected",
            ASK_FOR_HELP,
            not_before=after,
            case_id=case.id,
            payment=view,
        )
        staff = [*await ctx.turn.lender_staff(case.id), ctx.account]
        notify(ctx, staff, "payments/rejected_staff", case_id=case.id, payment=view)
    return HOME


async def _held_dispute_notice(ctx: Ctx, case_id: int, payment_id: int) -> HeldMessage | None:
    """The borrower's notice of this payment's dispute, when it still waits for her hours."""
    for held in await ctx.turn.held_for_case(case_id):
        about = held.context.get("payment")
        if held.template == DISPUTE_NOTICE and isinstance(about, dict) and about.get("id") == payment_id:
            return held
    return None


# The tolerance: a missed instalment moved to the end, as the rule decides


async def _move_decision(ctx: Ctx, case_id: int, today: date | None = None) -> Move | MoveRefusal:
    made = await ctx.turn.agreement(case_id)
    return decide_move(
        await plan_of(ctx, case_id),
        today or local_today(ctx),
        moves_allowed=ctx.services.tolerance_moves,
        settlement=bool(made and made.terms.get("void_if_missed")),
        grace_days=ctx.services.grace_days,
    )


async def ask_move(ctx: Ctx) -> None:
    case = await ctx.case()
    decision = await _move_decision(ctx, case.id)
    if isinstance(decision, MoveRefusal):
        ctx.ask(
            "payments/move_refused",
            ASK_FOR_HELP,
            Choice("schedule", "see_schedule"),
            case_id=case.id,
            why=decision.value,
            tolerance=ctx.services.tolerance_moves,
            grace_days=ctx.services.grace_days,
        )
        return
    ctx.ask(
        "payments/move_offer",
        Choice("move", "move_confirm"),
        Choice("keep", "keep_plan"),
        **await _move_context(ctx, case.id, decision),
        tolerance=ctx.services.tolerance_moves,
    )


async def _move_context(ctx: Ctx, case_id: int, decision: Move) -> dict[str, Any]:
    """What a move does, in figures: with a part already paid, that part stays and only the rest moves,
    as a new last instalment (``rest_number``)."""
    last = max(due.number for due in await ctx.turn.instalments(case_id))
    return {
        "case_id": case_id,
        "number": decision.number,
        "from_day": decision.from_date,
        "to_day": decision.to_date,
        "moving": decision.amount,
        "kept_paid": decision.paid,
        "rest_number": last + 1 if decision.split else None,
    }


async def on_move(ctx: Ctx, picked: Picked) -> str:
    if picked.id == "move":
        case = await ctx.case()
        decision = await _move_decision(ctx, case.id)  # decided again: the plan may have changed since
        if isinstance(decision, Move):
            context = await _move_context(ctx, case.id, decision)
            await ctx.turn.move_instalment(
                case.id, decision.number, decision.to_date, ctx.services.tolerance_moves
            )
            await ctx.turn.plan_reminders(case.id, ctx.services.reminders)  # for its new date, now
            ctx.say("payments/moved", **context)
            notify(ctx, await ctx.turn.lender_staff(case.id), "payments/moved_staff", **context)
    return back_to("schedule")


PAYMENTS = Flow(
    "payments",
    {
        "schedule": Step(ask_schedule, schedule_answer, on_schedule),
        "amount": Step(ask_amount, paid_amount, on_amount),
        "day": Step(ask_day, typed_day, on_day),
        "day_which": Step(ask_day_which, typed_day, on_day, returnable=False),
        "receipt": Step(ask_receipt, accept_receipt, on_receipt),
        "check": Step(ask_check, buttons_only, on_check, returnable=False),
        "dispute_reason": Step(
            ask_dispute_reason,
            dispute_reason,
            on_dispute_reason,
            returnable=False,  # reached from a payment's button, which names the payment
        ),
        "dispute_check": Step(ask_dispute_check, buttons_only, on_dispute_check, returnable=False),
        "resolve_check": Step(ask_resolve_check, buttons_only, on_resolve_check, returnable=False),
        "confirm_check": Step(ask_confirm_check, buttons_only, on_confirm_check, returnable=False),
        "move": Step(ask_move, buttons_only, on_move, returnable=False),
    },
    roles=frozenset(Role),
)
