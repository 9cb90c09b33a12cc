"""The staff side's entry points: their menus, the lender's case list, invites for lender staff, stats."""

from __future__ import annotations

from datetime import timedelta

from dialogs.domain import Case, MessageKind, Role
from dialogs.errors import NotFound
from dialogs.flows.base import HOME, Choice, Ctx, Flow, Invalid, Picked, Step, prompt
from dialogs.flows.casework import brief, waiting_for_mediator
from dialogs.flows.inputs import buttons_only, text
from dialogs.flows.review import OPERATORS
from dialogs.lifecycle import CaseState

LENDERS = frozenset({Role.LENDER})
ERASED = "personal_data_erased"  # the case log's mark of a borrower's erasure (storage.borrower_data)
_OPERATOR_TARGETS = {
    "queue": "review:queue",
    "escalations": "mediate:list",
    "invite": "staff:invite_lender",
    "stats": "staff:stats",
    "lang": "language:choose",
}


async def ask_staff_menu(ctx: Ctx) -> None:
    if ctx.account.role is Role.OPERATOR:
        queue = len(await ctx.turn.review_queue())
        stuck, asking = await waiting_for_mediator(ctx)
        ctx.ask(
            "home/operator_menu",
            Choice("queue", "review_queue", {"count": queue}),
            Choice("escalations", "escalations", {"count": stuck + asking}),
            Choice("invite", "invite_staff"),
            Choice("stats", "stats"),
            Choice("lang", "lang"),
            Choice("help", "help"),
            queue=queue,
            stuck=stuck,
            asking=asking,
        )
        return
    lender = await ctx.turn.lender(ctx.account.lender_id) if ctx.account.lender_id else None
    cases = await ctx.turn.lender_cases()
    ctx.ask(
        "home/lender_menu",
        Choice("cases", "my_cases", {"count": len(cases)}),
        Choice("lang", "lang"),
        Choice("help", "help"),
        lender=lender.name if lender else "",
        count=len(cases),
    )


async def on_staff_menu(ctx: Ctx, picked: Picked) -> str:
    if picked.id == "help":
        ctx.say("help/staff_commands", role=ctx.account.role.value)
        return HOME
    if picked.id == "cases":
        return "staff:lender_cases"
    ctx.data.pop("d_filter", None)  # the menu's queue is the whole queue, whatever /queue last filtered
    return _OPERATOR_TARGETS[picked.id]


async def ask_lender_cases(ctx: Ctx) -> None:
    cases = await ctx.turn.lender_cases()
    choices = [Choice(f"c{c.id}", "case_item", {"case_id": c.id, "state": c.state.value}) for c in cases]
    listed = [{"id": c.id, "state": c.state.value, **await _why_ended(ctx, c)} for c in cases]
    ctx.ask("staff/lender_cases", *choices, Choice("menu", "menu"), count=len(cases), listed=listed)


async def _why_ended(ctx: Ctx, case: Case) -> dict[str, str | None]:
    """Why a case left the negotiation: the borrower withdrew (erasing their data, perhaps) or a mediator
    closed it with a reason; nothing for a case still running or finished by its plan."""
    if case.state not in (CaseState.WITHDRAWN, CaseState.CLOSED):
        return {"why": None, "reason": None}
    if case.state is CaseState.CLOSED:
        reasons = [m.text for m in await ctx.turn.messages(case.id) if m.kind is MessageKind.REASON]
        return {"why": "closed", "reason": reasons[-1] if reasons else None}
    erased = any(e.kind == ERASED for e in await ctx.turn.events(case.id))
    return {"why": "erased" if erased else "withdrawn", "reason": None}


async def on_lender_cases(ctx: Ctx, picked: Picked) -> str:
    if picked.id == "menu":
        return HOME
    ctx.conv.case_id = (await ctx.turn.case(int(picked.id.removeprefix("c")))).id
    return "brief"


async def ask_brief(ctx: Ctx) -> None:
    """The whole case as the lender's staff may see it, however late they joined."""
    case = await ctx.case()
    ctx.ask(
        "staff/case",
        Choice("negotiate", "view_offer", {"case_id": case.id}),
        Choice("cases", "back"),
        Choice("menu", "menu"),
        case=await brief(ctx, case),
    )


async def on_brief(_ctx: Ctx, picked: Picked) -> str:
    return {"negotiate": "negotiate:show", "cases": "lender_cases"}.get(picked.id, HOME)


async def on_invite_lender(ctx: Ctx, name: str) -> str:
    await invite(ctx, name)
    return HOME


async def invite(ctx: Ctx, lender_name: str) -> None:
    """A one-time code for the named lender's staff (an operator's; the store checks)."""
    try:
        lender = await ctx.turn.lender_by_name(lender_name.strip())
    except NotFound:
        names = await ctx.turn.lender_names()
        raise Invalid("staff/no_such_lender", name=lender_name[:100], lenders=names) from None
    hours = ctx.services.invite_hours
    code = await ctx.turn.create_invite(lender.id, timedelta(hours=hours))
    ctx.say("staff/invite_created", code=code, lender=lender.name, hours=hours)


async def redeem(ctx: Ctx, code: str) -> None:
    try:
        lender = await ctx.turn.redeem_invite(code)
    except NotFound:
        ctx.say("staff/invite_invalid")
        return
    ctx.say("staff/invite_redeemed", lender=lender.name)


async def ask_stats(ctx: Ctx) -> None:
    stats = await ctx.turn.stats()
    ctx.ask(
        "staff/stats",
        Choice("menu", "menu"),
        by_state=dict(sorted(stats.by_state.items())),
        first_answer=stats.median_first_answer_hours,
        to_agreement=stats.median_agreement_hours,
        rate=stats.agreement_rate,
        dead_letters=stats.dead_letters,
        waiting_messages=stats.waiting_messages,
        activity=stats.activity,
    )


async def to_home(_ctx: Ctx, _picked: Picked) -> str:
    return HOME


STAFF = Flow(
    "staff",
    {
        "lender_cases": Step(ask_lender_cases, buttons_only, on_lender_cases),
        "brief": Step(ask_brief, buttons_only, on_brief),
        "invite_lender": Step(prompt("staff/invite_lender"), text(max_len=200), on_invite_lender),
        "stats": Step(ask_stats, buttons_only, to_home),
    },
    roles=OPERATORS | LENDERS,
)
