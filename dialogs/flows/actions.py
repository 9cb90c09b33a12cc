"""Buttons on messages sent to people about a case (``g:verb:case[:n]``), valid whatever they are doing.

Each names its case; the case is fetched as the presser, so someone else's case or a forged number is
refused by the store and changes nothing. Also the commands staff use.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING

from dialogs.domain import Role
from dialogs.errors import NotFound, PermissionDenied
from dialogs.flows import agreement, broadcast, desk, payment_actions, quiet, staff, staff_data
from dialogs.flows.base import Ctx, Invalid
from dialogs.flows.casework import tell_operators
from dialogs.flows.once import new_request
from dialogs.lifecycle import CaseState

if TYPE_CHECKING:
    from dialogs.dispatch import Dialogs

Action = Callable[["Dialogs", Ctx, list[int]], Awaitable[None]]
Command = Callable[["Dialogs", Ctx, str], Awaitable[None]]
_BORROWER_NEGOTIATION = frozenset({CaseState.APPROVED, CaseState.NEGOTIATING})


async def open_case(dialogs: Dialogs, ctx: Ctx, args: list[int]) -> None:
    case = await ctx.turn.case(args[0])
    ctx.conv.case_id = case.id
    role = ctx.account.role
    if role is Role.OPERATOR:
        target = "review:case" if case.state is CaseState.SUBMITTED else "mediate:case"
    elif role is Role.LENDER or case.state in _BORROWER_NEGOTIATION:
        target = "negotiate:show"
    else:
        target = "status:show"
    await dialogs.goto(ctx, target)


async def confirm(dialogs: Dialogs, ctx: Ctx, args: list[int]) -> None:
    case = await ctx.turn.case(args[0])
    ctx.conv.case_id = case.id
    await agreement.confirm(ctx, case.id, args[1])
    await dialogs.reask(ctx)


async def report(dialogs: Dialogs, ctx: Ctx, args: list[int]) -> None:
    """One tap: a relayed lender message becomes a harassment report for the mediators."""
    case_id, message_id = args
    message = await ctx.turn.case_message(message_id)
    if (
        message.case_id != case_id
        or message.sender_role is not Role.LENDER
        or ctx.account.role is not Role.BORROWER
    ):
        raise PermissionDenied("only the borrower reports a message the lender's side wrote to them")
    report_id = await ctx.turn.report_harassment(case_id, {"how": "relayed_message", "message": message_id})
    ctx.say("negotiate/reported", report=report_id)
    await tell_operators(ctx, case_id, "mediate/harassment_reported", report=report_id)
    await dialogs.reask(ctx)


async def answer_info(dialogs: Dialogs, ctx: Ctx, args: list[int]) -> None:
    case = await ctx.turn.case(args[0])
    ctx.conv.case_id = case.id
    await dialogs.goto(ctx, "info:answer")


ACTIONS: dict[str, tuple[int, Action]] = {  # verb: (how many numbers, what it does)
    "open": (1, open_case),
    "confirm": (2, confirm),
    "report": (2, report),
    "info": (1, answer_info),
    "request": (1, desk.open_request),
    "pay": (1, payment_actions.report),
    "payok": (2, payment_actions.confirm),
    "paybad": (2, payment_actions.dispute),
    "payyes": (2, payment_actions.uphold),
    "payno": (2, payment_actions.reject),
}


async def invite(dialogs: Dialogs, ctx: Ctx, argument: str) -> None:
    if not argument:
        await dialogs.goto(ctx, "staff:invite_lender")
        return
    try:
        await staff.invite(ctx, argument)
    except Invalid as invalid:  # no such lender: said, and the person stays where they were
        ctx.say(invalid.template, **invalid.context)
    await dialogs.reask(ctx)


async def join(dialogs: Dialogs, ctx: Ctx, argument: str) -> None:
    await staff.redeem(ctx, argument)
    await dialogs.goto(ctx, "home:menu")


async def show_agreement(dialogs: Dialogs, ctx: Ctx, _argument: str) -> None:
    if ctx.conv.case_id is None and ctx.account.role is Role.BORROWER:
        live = [c for c in await ctx.turn.my_cases() if c.state in (CaseState.AGREED, CaseState.ACTIVE)]
        ctx.conv.case_id = live[-1].id if live else None
    if ctx.conv.case_id is None:
        ctx.say("agreement/none", case_id=None)
        await dialogs.reask(ctx)
        return
    new_request(ctx, agreement.SHOWN)  # asked for: the document is sent again
    await dialogs.goto(ctx, "agreement:show")


def _case_number(argument: str) -> int | None:
    number = argument.strip().lstrip("#")
    return int(number) if number.isdigit() and len(number) <= 9 else None


async def case(dialogs: Dialogs, ctx: Ctx, argument: str) -> None:
    """``/case N``: a case the sender may see, in the view their role works in (lender staff: the brief)."""
    number = _case_number(argument)
    if number is None:
        ctx.say("errors/case_number", command="case")
        await dialogs.reask(ctx)
    elif ctx.account.role is Role.LENDER:
        ctx.conv.case_id = (await ctx.turn.case(number)).id
        await dialogs.goto(ctx, "staff:brief")
    else:
        await open_case(dialogs, ctx, [number])


async def offer(dialogs: Dialogs, ctx: Ctx, argument: str) -> None:
    """``/offer [N]``: the negotiation on case N, or on the case in hand (staff without one pick it)."""
    number = _case_number(argument)
    if argument and number is None:
        ctx.say("errors/case_number", command="offer")
        await dialogs.reask(ctx)
    elif number is not None:
        await open_case(dialogs, ctx, [number])
    elif ctx.conv.case_id is None and ctx.account.role is Role.LENDER:
        await dialogs.goto(ctx, "staff:lender_cases")
    else:
        await dialogs.goto(ctx, "negotiate:show")


LISTED_CASES = 12  # enough to find one's own; a lender's long list is what /cases is for


async def _can_see(ctx: Ctx, number: int) -> bool:
    try:
        await ctx.turn.case(number)
    except (NotFound, PermissionDenied):
        return False
    return True


async def _visible_cases(ctx: Ctx) -> list[int]:
    """The numbers of the cases the sender may open, latest first (a mediator may open any: none listed)."""
    if ctx.account.role is Role.BORROWER:
        return [c.id for c in reversed(await ctx.turn.my_cases())][:LISTED_CASES]
    if ctx.account.role is Role.LENDER and ctx.account.lender_id is not None:
        return [c.id for c in await ctx.turn.lender_cases()][:LISTED_CASES]
    return []


def naming_a_case(name: str, command: Command) -> Command:
    """``command``, but a case number the sender cannot see (none such, or someone else's) is answered
    plainly with the cases they can see, instead of the general refusal: both read the same to a person
    (no one learns whether another person's case 2 exists)."""

    async def checked(dialogs: Dialogs, ctx: Ctx, argument: str) -> None:
        number = _case_number(argument)
        if number is not None and not await _can_see(ctx, number):
            ctx.say(
                "errors/no_such_case",
                case_id=number,
                command=name,
                visible_cases=await _visible_cases(ctx),
                staff_view=ctx.account.role is not Role.BORROWER,
            )
            await dialogs.reask(ctx)
            return
        await command(dialogs, ctx, argument)

    return checked


def enter(target: str) -> Command:
    async def command(dialogs: Dialogs, ctx: Ctx, _argument: str) -> None:
        await dialogs.goto(ctx, target)

    return command


COMMANDS: dict[str, Command] = {
    "invite": invite,
    "join": join,
    "agreement": show_agreement,
    "stats": enter("staff:stats"),
    "queue": desk.queue_command,
    "escalations": enter("mediate:list"),
    "cases": desk.cases_command,
    "staff": desk.staff_command,
    "revoke": desk.revoke_command,
    "offer": naming_a_case("offer", offer),
    "case": naming_a_case("case", case),
    "broadcast": broadcast.broadcast_command,
    "schedule": naming_a_case("schedule", payment_actions.schedule),
    "quiet": quiet.quiet,
    "mydata": staff_data.mydata,  # staff get their own export (the borrower's stays in flows.mydata)
}
