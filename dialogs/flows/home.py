"""The menu: what a person can do from here, depending on who they are and where their case stands."""

from __future__ import annotations

from dialogs.conversation import HOME_FLOW, HOME_STEP
from dialogs.domain import Role
from dialogs.flows import application, staff
from dialogs.flows.agreement import SHOWN as AGREEMENT_SHOWN
from dialogs.flows.base import HOME, Choice, Ctx, Flow, Picked, Step
from dialogs.flows.casework import ASK_FOR_HELP
from dialogs.flows.inputs import buttons_only
from dialogs.flows.mydata import SENT as MYDATA_SENT
from dialogs.flows.once import new_request
from dialogs.flows.payments import pay_choice
from dialogs.lifecycle import TERMINAL, CaseState

NEGOTIATION = frozenset({CaseState.APPROVED, CaseState.NEGOTIATING})
AFTER_BREACH = frozenset({CaseState.DEFAULTED})
_TARGETS = {
    "negotiate": "negotiate:show",
    "agreement": "agreement:show",
    "status": "status:show",
    "legal": "legal:menu",
    "mydata": "mydata:export",
    "delete": "mydata:confirm_delete",
    "lang": "language:choose",
}


async def ask_menu(ctx: Ctx) -> None:
    if ctx.account.role is not Role.BORROWER:
        await staff.ask_staff_menu(ctx)
        return
    if ctx.account.consented_at is None:
        ctx.ask(
            "home/menu",
            Choice("apply", "start_application"),
            Choice("legal", "legal"),
            Choice("lang", "lang"),
            Choice("help", "help"),
            state=None,
        )
        return
    case = await application.open_case(ctx)
    state = case.state if case else None
    apply = "continue_application" if state is CaseState.DRAFT else "start_application"
    # A finished case: a new one. Not after a breach: what is owed under the plan is still the matter in
    # hand, and a new application would look as if nothing had happened.
    can_apply = state is None or state is CaseState.DRAFT or (state in TERMINAL and state not in AFTER_BREACH)
    choices = [Choice("apply", apply)] if can_apply else []
    if case is not None and state in AFTER_BREACH:
        # never a dead end: a payment made now is reported as before, and a person helps with what next
        choices += [pay_choice(case.id), ASK_FOR_HELP]
    if case is not None:
        choices.append(Choice("status", "status"))
    if state in NEGOTIATION:
        choices.append(Choice("negotiate", "negotiation"))
    if state in (CaseState.AGREED, CaseState.ACTIVE):
        choices.append(Choice("agreement", "agreement"))
    choices += [Choice(name, name) for name in ("legal", "mydata", "delete", "lang", "help")]
    ctx.ask("home/menu", *choices, state=state.value if state else None)


async def on_menu(ctx: Ctx, picked: Picked) -> str:
    if ctx.account.role is not Role.BORROWER:
        return await staff.on_staff_menu(ctx, picked)
    if picked.id == "apply":
        return await application.next_target(ctx)
    if picked.id == "help":
        ctx.say("help/commands")
        return HOME
    # Chosen from the menu: a request, so the document is sent even if it was sent earlier.
    new_request(ctx, MYDATA_SENT, AGREEMENT_SHOWN)
    return _TARGETS[picked.id]


HOME_FLOW_DEF = Flow(
    HOME_FLOW,
    {HOME_STEP: Step(ask_menu, buttons_only, on_menu)},
    roles=frozenset(Role),
)
