"""Talk to a person: whoever asks is put in front of the mediators with why they asked (where they were,
stuck or not) and what they wrote, the mediators are told, and the person learns when to expect an answer.

The person's words are asked for here rather than taken from an earlier answer: an earlier answer may be
an ID number or a one-time code, and what they need a person for is theirs to say.
"""

from __future__ import annotations

from dialogs.domain import Role
from dialogs.flows.base import BACK, Choice, Ctx, Flow, Picked, Step
from dialogs.flows.casework import GLOBAL, notify, open_case_choice
from dialogs.flows.inputs import text

ASKED_FROM = "h_from"  # {"step": "flow:step", "reason": "asked" | "stuck"}, set by the button's handler
MAX_WORDS = 1000
EVERYONE = frozenset(Role)


async def ask_message(ctx: Ctx) -> None:
    ctx.ask("help/ask_person", Choice("send", "send_without_words"), Choice("back", "back"))


async def on_message(ctx: Ctx, answer: str | Picked) -> str:
    asked_from = ctx.data.pop(ASKED_FROM, None) or {}
    if isinstance(answer, Picked) and answer.id == "back":
        return BACK
    words = answer if isinstance(answer, str) else ""
    await request_help(ctx, str(asked_from.get("reason", "asked")), str(asked_from.get("step", "")), words)
    return BACK


async def request_help(ctx: Ctx, reason: str, step: str, words: str) -> None:
    """Open a request in the mediators' escalations, tell them, and tell the person when to expect us."""
    case_id = await _live_case(ctx)
    request = await ctx.turn.ask_for_help(case_id, reason, {"step": step, "message": words})
    if case_id is not None:
        choice = open_case_choice(case_id)
    else:
        choice = Choice(f"{GLOBAL}request:{request}", "open_request", {"request": request})
    notify(
        ctx,
        await ctx.turn.operators(),
        "mediate/help_requested",
        choice,
        case_id=case_id,
        request=request,
        reason=reason,
        words=words,
    )
    ctx.say("help/operator_requested", days=ctx.services.answer_within_days, case_id=case_id)


async def _live_case(ctx: Ctx) -> int | None:
    """The case the person is on (the store checks it is theirs); a mediator's request is about none."""
    if ctx.conv.case_id is None or ctx.account.role is Role.OPERATOR:
        return None
    return (await ctx.turn.case(ctx.conv.case_id)).id


HELPDESK = Flow(
    "helpdesk",
    {"message": Step(ask_message, text(max_len=MAX_WORDS), on_message, returnable=False)},
    roles=EVERYONE,
)
