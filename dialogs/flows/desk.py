"""The mediator's desk beyond the queues: any case by state and lender (``/cases``), a request to talk to
a person from someone without a case, and a lender's staff (``/staff``, ``/revoke``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from dialogs.domain import Case, Role
from dialogs.errors import NotFound
from dialogs.flows.base import HOME, Choice, Ctx, Flow, Invalid, Picked, Step, prompt
from dialogs.flows.casework import case_entry, notify
from dialogs.flows.inputs import buttons_only, text
from dialogs.flows.payments import PLAN_STATES, plan_of
from dialogs.flows.review import OPERATORS
from dialogs.lifecycle import CaseState, state_named
from dialogs.rules.supervision import first_unpaid

if TYPE_CHECKING:
    from dialogs.dispatch import Dialogs

FILTER = "d_filter"  # {"state": value | None, "lender_id": id | None, "lender": name | None}
MAX_WORDS = 1000


async def case_filter(ctx: Ctx, argument: str) -> dict[str, Any]:
    """``[state] [lender name]``: a state's own word first, the rest names the lender."""
    words = argument.split()
    named = state_named(words[0]) if words else None
    state = named.value if named else None
    name = " ".join(words[1:] if state else words)
    if not name:
        return {"state": state, "lender_id": None, "lender": None}
    try:
        lender = await ctx.turn.lender_by_name(name)
    except NotFound:
        names = await ctx.turn.lender_names()
        raise Invalid("staff/no_such_lender", name=name[:100], lenders=names) from None
    return {"state": state, "lender_id": lender.id, "lender": lender.name}


async def entries(ctx: Ctx, found: list[Case]) -> list[dict[str, Any]]:
    return [await _with_plan(ctx, case, await case_entry(ctx, case)) for case in found]


async def _with_plan(ctx: Ctx, case: Case, entry: dict[str, Any]) -> dict[str, Any]:
    """A plan that ran: what is left under it and the next (or first unpaid) instalment, instead of the
    debt before the plan and an offer deadline long past."""
    figures = await plan_figures(ctx, case)
    if figures is None:
        return entry
    return entry | {"plan": figures, "owed": None, "deadline_at": None}


async def plan_figures(ctx: Ctx, case: Case) -> dict[str, Any] | None:
    """For a plan that ran: what is left under it and the next (or first unpaid) instalment; else None."""
    if case.state not in PLAN_STATES:
        return None
    allocation = await plan_of(ctx, case.id)
    unpaid = first_unpaid(allocation)
    due = None if unpaid is None else {"number": unpaid.number, "due": unpaid.due_date, "amount": unpaid.left}
    return {"left": allocation.left, "next": due}


async def ask_cases(ctx: Ctx) -> None:
    chosen = ctx.data.get(FILTER) or {}
    state = CaseState(chosen["state"]) if chosen.get("state") else None
    found = await ctx.turn.find_cases(state, chosen.get("lender_id"))
    choices = [Choice(f"c{c.id}", "case_item", {"case_id": c.id, "state": c.state.value}) for c in found]
    ctx.ask(
        "desk/cases",
        *choices,
        Choice("menu", "menu"),
        entries=await entries(ctx, found),
        state=chosen.get("state"),
        lender=chosen.get("lender"),
    )


async def on_cases(ctx: Ctx, picked: Picked) -> str:
    if picked.id == "menu":
        return HOME
    case = await ctx.turn.case(int(picked.id.removeprefix("c")))
    ctx.conv.case_id = case.id
    return "review:case" if case.state is CaseState.SUBMITTED else "mediate:case"


# A request from someone without a case


async def ask_request(ctx: Ctx) -> None:
    request = await ctx.turn.help_request(int(ctx.data["d_request"]))
    choices = [Choice("reply", "reply_to_person"), Choice("handled", "mark_handled")]
    if request["status"] != "open":
        choices = []
    ctx.ask("desk/request", *choices, Choice("menu", "menu"), asked=request)


async def on_request(ctx: Ctx, picked: Picked) -> str:
    if picked.id == "menu":
        return HOME
    if picked.id == "reply":
        return "request_reply"
    await ctx.turn.handle_help(int(ctx.data["d_request"]))
    ctx.say("desk/request_handled", request=ctx.data["d_request"])
    return "request"


async def on_request_reply(ctx: Ctx, words: str) -> str:
    request = await ctx.turn.help_request(int(ctx.data["d_request"]))
    person = await ctx.turn.write_to(int(request["account_id"]))
    notify(ctx, [person], "mediate/message", case_id=None, words=words)
    ctx.say("mediate/message_sent", count=1, held_until=None)  # no case, no debt: at once
    return "request"


# Lender staff


async def ask_staff(ctx: Ctx) -> None:
    lender = await ctx.turn.lender(int(ctx.data.get("d_lender", 0)))
    members = await ctx.turn.staff_of(lender.id)
    view = [{"id": m.id, "channel": m.channel.value, "user": m.channel_user_id} for m in members]
    ctx.ask("desk/staff", Choice("menu", "menu"), lender=lender.name, members=view)


async def to_home(_ctx: Ctx, _picked: Picked) -> str:
    return HOME


DESK = Flow(
    "desk",
    {
        "cases": Step(ask_cases, buttons_only, on_cases),
        "request": Step(ask_request, buttons_only, on_request),
        "request_reply": Step(prompt("mediate/message_text"), text(max_len=MAX_WORDS), on_request_reply),
        "staff": Step(ask_staff, buttons_only, to_home),
    },
    roles=OPERATORS,
)


# Commands and the button on a request's notice (registered in dialogs.flows.actions)


async def cases_command(dialogs: Dialogs, ctx: Ctx, argument: str) -> None:
    """``/cases [state] [lender]``: any case for a mediator; a lender's staff get their lender's cases."""
    if ctx.account.role is not Role.OPERATOR:
        await dialogs.goto(ctx, "staff:lender_cases")
        return
    await _filtered(dialogs, ctx, argument, "desk:cases")


async def queue_command(dialogs: Dialogs, ctx: Ctx, argument: str) -> None:
    if ctx.account.role is not Role.OPERATOR:
        await dialogs.goto(ctx, "review:queue")  # refused there, by role
        return
    await _filtered(dialogs, ctx, argument, "review:queue")


async def _filtered(dialogs: Dialogs, ctx: Ctx, argument: str, target: str) -> None:
    try:
        ctx.data[FILTER] = await case_filter(ctx, argument)
    except Invalid as invalid:
        ctx.say(invalid.template, **invalid.context)
        await dialogs.reask(ctx)
        return
    await dialogs.goto(ctx, target)


async def staff_command(dialogs: Dialogs, ctx: Ctx, argument: str) -> None:
    """``/staff LENDER``: who acts for a lender (a mediator's; anyone else is refused by the flow's roles)."""
    if not await _mediator(dialogs, ctx):
        return
    try:
        lender = await ctx.turn.lender_by_name(argument.strip())
    except NotFound:
        ctx.say("desk/staff_usage", name=argument[:100])
        await dialogs.reask(ctx)
        return
    ctx.data["d_lender"] = lender.id
    await dialogs.goto(ctx, "desk:staff")


async def revoke_command(dialogs: Dialogs, ctx: Ctx, argument: str) -> None:
    """``/revoke ID``: an account stops acting for its lender; they are told."""
    if not await _mediator(dialogs, ctx):
        return
    number = argument.strip().lstrip("#")
    if not number.isdigit() or len(number) > 9:
        ctx.say("desk/revoke_usage", account=None)
        await dialogs.reask(ctx)
        return
    try:
        member = await ctx.turn.revoke_staff(int(number))
    except NotFound:
        ctx.say("desk/revoke_usage", account=int(number))
        await dialogs.reask(ctx)
        return
    lender = await ctx.turn.lender(member.lender_id) if member.lender_id else None
    name = lender.name if lender else ""
    ctx.say("desk/revoked", account=member.id, lender=name)
    notify(ctx, [member], "desk/revoked_member", lender=name)
    await dialogs.reask(ctx)


async def _mediator(dialogs: Dialogs, ctx: Ctx) -> bool:
    """Staff administration is a mediator's; anyone else is told so, as any flow of another role does."""
    if ctx.account.role is Role.OPERATOR:
        return True
    ctx.say("errors/not_for_role", role=ctx.account.role.value)
    await dialogs.reask(ctx)
    return False


async def open_request(dialogs: Dialogs, ctx: Ctx, args: list[int]) -> None:
    await ctx.turn.help_request(args[0])  # a mediator's only: the store refuses anyone else
    ctx.data["d_request"] = args[0]
    await dialogs.goto(ctx, "desk:request")
