"""The buttons and the command of a running plan (see :mod:`dialogs.flows.payments`).

``g:pay:CASE`` (report a payment: in reminders too), ``g:payok:CASE:PAYMENT`` / ``g:paybad:CASE:PAYMENT``
(lender staff confirm / dispute), ``g:payyes:CASE:PAYMENT`` / ``g:payno:CASE:PAYMENT`` (a mediator upholds
or rejects a disputed payment), and ``/schedule [N]``. Each is re-checked when pressed: the store fetches
the case and the payment as the presser, and a payment already decided is answered with what is true now;
that check comes first, so a typed "confirm received" (``extra["typed"]``) is asked once more only while the
payment still waits.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from dialogs.domain import Payment, PaymentStatus, Role
from dialogs.errors import PermissionDenied
from dialogs.flows.base import Ctx
from dialogs.flows.casework import ASK_FOR_HELP
from dialogs.flows.payments import (
    CONFIRMING,
    DISPUTING,
    PAYING_STATES,
    PLAN_STATES,
    REASON,
    REPORT,
    RESOLVING,
    confirmed,
    still_waiting,
)

if TYPE_CHECKING:
    from dialogs.dispatch import Dialogs


async def report(dialogs: Dialogs, ctx: Ctx, args: list[int]) -> None:
    case = await ctx.turn.case(args[0])
    if ctx.account.role is not Role.BORROWER:
        raise PermissionDenied("only the borrower reports a payment")
    ctx.conv.case_id = case.id
    if case.state not in PAYING_STATES:
        ctx.say("payments/not_running", ASK_FOR_HELP, case_id=case.id, state=case.state.value)
        await dialogs.reask(ctx)
        return
    ctx.data.pop(REPORT, None)  # a new report starts empty; /back and "Change" within it keep what was typed
    await dialogs.goto(ctx, "payments:amount")


async def _payment(ctx: Ctx, case_id: int, payment_id: int, waiting: PaymentStatus) -> Payment | None:
    """The payment a button names, on the case it names; ``None`` (and said why) once it was decided."""
    payment = await ctx.turn.payment(payment_id)
    if payment.case_id != case_id:
        raise PermissionDenied("the button names another case")
    return payment if await still_waiting(ctx, payment, waiting) is not None else None


async def confirm(dialogs: Dialogs, ctx: Ctx, args: list[int]) -> None:
    case_id, payment_id = args
    if ctx.account.role is not Role.LENDER:
        raise PermissionDenied("the lender's staff confirm payments")
    if await _payment(ctx, case_id, payment_id, PaymentStatus.REPORTED) is None:
        await dialogs.reask(ctx)  # already decided: said at once, before any "are you sure"
        return
    if ctx.inbound is not None and ctx.inbound.extra.get("typed"):
        ctx.conv.case_id = case_id
        ctx.data[CONFIRMING] = payment_id
        await dialogs.goto(ctx, "payments:confirm_check")
        return
    await confirmed(ctx, case_id, await ctx.turn.confirm_payment(payment_id))
    await dialogs.reask(ctx)


async def dispute(dialogs: Dialogs, ctx: Ctx, args: list[int]) -> None:
    case_id, payment_id = args
    if ctx.account.role is not Role.LENDER:
        raise PermissionDenied("the lender's staff dispute payments")
    if await _payment(ctx, case_id, payment_id, PaymentStatus.REPORTED) is None:
        await dialogs.reask(ctx)
        return
    ctx.conv.case_id = case_id
    ctx.data[DISPUTING] = payment_id
    ctx.data.pop(REASON, None)  # a new dispute starts with nothing written
    await dialogs.goto(ctx, "payments:dispute_reason")


async def _resolve(dialogs: Dialogs, ctx: Ctx, args: list[int], uphold: bool) -> None:
    case_id, payment_id = args
    if ctx.account.role is not Role.OPERATOR:
        raise PermissionDenied("a mediator resolves a disputed payment")
    if await _payment(ctx, case_id, payment_id, PaymentStatus.DISPUTED) is None:
        await dialogs.reask(ctx)
        return
    ctx.conv.case_id = case_id
    ctx.data[RESOLVING] = {"payment": payment_id, "uphold": uphold}  # acted on once the mediator confirms
    await dialogs.goto(ctx, "payments:resolve_check")


async def uphold(dialogs: Dialogs, ctx: Ctx, args: list[int]) -> None:
    await _resolve(dialogs, ctx, args, uphold=True)


async def reject(dialogs: Dialogs, ctx: Ctx, args: list[int]) -> None:
    await _resolve(dialogs, ctx, args, uphold=False)


def _number(argument: str) -> int | None:
    number = argument.strip().lstrip("#")
    return int(number) if number.isdigit() and len(number) <= 9 else None


async def schedule(dialogs: Dialogs, ctx: Ctx, argument: str) -> None:
    """``/schedule [N]``: the plan of case N, or of the case in hand (the borrower's latest plan)."""
    number = _number(argument)
    if argument and number is None:
        ctx.say("errors/case_number", command="schedule")
        await dialogs.reask(ctx)
        return
    if number is not None:
        ctx.conv.case_id = (await ctx.turn.case(number)).id
    elif ctx.account.role is Role.BORROWER:
        plans = [c for c in await ctx.turn.my_cases() if c.state in PLAN_STATES]
        ctx.conv.case_id = plans[-1].id if plans else ctx.conv.case_id
    if ctx.conv.case_id is None:
        ctx.say("payments/which_case")
        await dialogs.reask(ctx)
        return
    await dialogs.goto(ctx, "payments:schedule")
