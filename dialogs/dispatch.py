"""One inbound message through the flows: global commands, buttons checked against the conversation, answers.

Nothing here commits or sends: it works on a :class:`~dialogs.ports.Turn`, which the engine commits.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import TYPE_CHECKING

from dialogs.conversation import HOME_FLOW, HOME_STEP, Conversation
from dialogs.domain import Role
from dialogs.errors import DomainError, NotFound, PermissionDenied
from dialogs.flows.base import (
    BACK,
    HOME,
    MAX_TRAIL,
    NONCE,
    TRAIL,
    UNWIND,
    Choice,
    Ctx,
    Flow,
    Invalid,
    Picked,
    Services,
    Step,
)
from dialogs.flows.casework import ASK_FOR_HELP, GLOBAL, parse_global
from dialogs.flows.helpdesk import ASKED_FROM
from dialogs.flows.inputs import USE_BUTTONS, refusal_marks
from dialogs.lifecycle import CaseState
from dialogs.messages import Inbound, InboundKind
from dialogs.ports import Turn

if TYPE_CHECKING:
    from dialogs.flows.actions import Action
    from dialogs.flows.actions import Command as FlowCommand

log = logging.getLogger(__name__)

WRONG_ANSWERS_BEFORE_HELP = 3
ASK_OPERATOR = ASK_FOR_HELP
GO_HOME = Choice(f"{GLOBAL}menu", "menu")

Command = Callable[[Ctx, str], Awaitable[None]]


class Dialogs:
    """The flows and the global commands; :meth:`handle` runs one message on one turn."""

    def __init__(
        self,
        flows: Sequence[Flow],
        services: Services,
        *,
        actions: Mapping[str, tuple[int, Action]] | None = None,
        commands: Mapping[str, FlowCommand] | None = None,
    ) -> None:
        self.flows = {flow.name: flow for flow in flows}
        self.services = services
        self.actions = dict(actions or {})
        self.commands: dict[str, Command] = {
            "start": self.start,
            "help": self.help,
            "menu": self.menu,
            "back": self.back,
            "cancel": self.cancel,
            "status": self.enter("status:show"),
            "lang": self.enter("language:choose"),
            "language": self.enter("language:choose"),  # the word people guess first
            "legal": self.enter("legal:menu"),
            "mydata": self.enter("mydata:export"),
            "delete": self.enter("mydata:confirm_delete"),
        }
        for name, run in (commands or {}).items():
            self.commands[name] = functools.partial(run, self)

    def context(self, turn: Turn, conv: Conversation, inbound: Inbound | None) -> Ctx:
        return Ctx(turn, conv, self.services, inbound)

    async def handle(self, turn: Turn, inbound: Inbound) -> None:
        ctx = self.context(turn, await turn.conversation(), inbound)
        if inbound.kind is InboundKind.COMMAND:
            await self._command(ctx, inbound.payload)
        elif inbound.kind is InboundKind.CHOICE:
            await self._choice(ctx, inbound.payload)
        else:
            await self._answer(ctx, inbound)
        turn.save_conversation(ctx.conv)

    async def refuse(self, turn: Turn, inbound: Inbound, error: DomainError) -> None:
        """After a refused action was rolled back: say why, kindly, and ask the current question again."""
        ctx = self.context(turn, await turn.conversation(), inbound)
        template = (
            "errors/not_allowed" if isinstance(error, PermissionDenied | NotFound) else "errors/refused"
        )
        ctx.say(template)
        await self.reask(ctx)
        turn.save_conversation(ctx.conv)

    async def apologise(self, turn: Turn, inbound: Inbound) -> None:
        """After an unexpected failure was rolled back: apologise and offer a way on."""
        ctx = self.context(turn, await turn.conversation(), inbound)
        ctx.say("errors/unexpected", ASK_OPERATOR, GO_HOME)
        turn.save_conversation(ctx.conv)

    # Moving between steps

    def step(self, flow: str, step: str) -> Step:
        return self.flows[flow].steps[step]

    def current(self, ctx: Ctx) -> Step:
        conv = ctx.conv
        if conv.flow not in self.flows or conv.step not in self.flows[conv.flow].steps:
            conv.flow, conv.step = HOME_FLOW, HOME_STEP  # a flow renamed since: start from the menu
        return self.step(conv.flow, conv.step)

    async def reask(self, ctx: Ctx) -> None:
        await self.current(ctx).ask(ctx)

    async def goto(self, ctx: Ctx, target: str, *, remember: bool = True) -> None:
        conv = ctx.conv
        if target == BACK:
            trail: list[str] = ctx.data.get(TRAIL, [])
            target, remember = (trail.pop() if trail else HOME), False
        unwind = target.startswith(UNWIND)
        target = target.removeprefix(UNWIND)
        flow_name, _, step_name = target.rpartition(":") if ":" in target else (conv.flow, "", target)
        if unwind:
            _unwind(ctx.data.setdefault(TRAIL, []), f"{flow_name}:{step_name}")
            remember = False
        flow = self.flows[flow_name]
        if ctx.account.role not in flow.roles:
            ctx.say("errors/not_for_role", role=ctx.account.role.value)
            flow_name, step_name = HOME_FLOW, HOME_STEP
        elif flow.sensitive and ctx.account.consented_at is None:
            flow_name, step_name = "welcome", "consent"
        trail = ctx.data.setdefault(TRAIL, [])
        here = f"{conv.flow}:{conv.step}"
        if flow_name == HOME_FLOW:
            trail.clear()
        elif remember and here != f"{flow_name}:{step_name}" and self.current(ctx).returnable:
            trail.append(here)
            del trail[:-MAX_TRAIL]
        conv.flow, conv.step, conv.wrong_answers = flow_name, step_name, 0
        ctx.data[NONCE] = ctx.data.get(NONCE, 0) + 1
        await self.step(flow_name, step_name).ask(ctx)

    # Answers and buttons

    async def _answer(self, ctx: Ctx, inbound: Inbound) -> None:
        step = self.current(ctx)
        if inbound.kind is InboundKind.UNSUPPORTED:
            ctx.say("errors/unsupported")
            await step.ask(ctx)
            return
        try:
            value = step.accept(ctx, inbound)
        except Invalid as invalid:
            await self._wrong(ctx, step, invalid)
            return
        await self._advance(ctx, step, value)

    async def _choice(self, ctx: Ctx, payload: str) -> None:
        nonce, _, choice = payload.partition(".")
        if choice.startswith(GLOBAL):
            await self._global_choice(ctx, choice)
            return
        step = self.current(ctx)
        if nonce != str(ctx.data.get(NONCE, 0)) or choice not in ctx.offered():
            await self._refused(ctx)
            return
        await self._advance(ctx, step, Picked(choice))

    async def _advance(self, ctx: Ctx, step: Step, value: object) -> None:
        try:
            target = await step.answer(ctx, value)
        except Invalid as invalid:
            await self._wrong(ctx, step, invalid)
            return
        ctx.conv.wrong_answers = 0
        await self.goto(ctx, target)

    async def _wrong(self, ctx: Ctx, step: Step, invalid: Invalid) -> None:
        ctx.conv.wrong_answers += 1
        shown = refusal_marks(ctx.inbound) if invalid.template == USE_BUTTONS else {}
        ctx.say(invalid.template, **invalid.context, **shown)  # a text channel's choices, listed again
        if ctx.conv.wrong_answers >= WRONG_ANSWERS_BEFORE_HELP:
            ctx.stuck_help = (ASK_OPERATOR, GO_HOME)  # offered with the question asked again (Ctx.ask)
        await step.ask(ctx)
        if ctx.stuck_help:  # the step asked nothing: the offer stands on its own
            ctx.say("errors/stuck", *ctx.stuck_help, below=False)
            ctx.stuck_help = ()

    async def _global_choice(self, ctx: Ctx, choice: str) -> None:
        if choice == GO_HOME.id:
            await self.goto(ctx, HOME)
        elif choice == ASK_OPERATOR.id:
            await self.ask_operator(ctx)
        elif (action := self._action(choice)) is not None:
            run, numbers = action
            await run(self, ctx, numbers)
        else:
            await self._refused(ctx)

    async def _refused(self, ctx: Ctx) -> None:
        """A stale or forged button: nothing changes; the current choices again, briefly."""
        ctx.reminding = True
        try:
            await self.current(ctx).ask(ctx)
        finally:
            ctx.reminding = False

    def _action(self, choice: str) -> tuple[Action, list[int]] | None:
        """The case action a global button names, if it is well formed (a forged one is just stale)."""
        parsed = parse_global(choice)
        if parsed is None or parsed[0] not in self.actions:
            return None
        arity, run = self.actions[parsed[0]]
        return (run, parsed[1]) if len(parsed[1]) == arity else None

    async def ask_operator(self, ctx: Ctx) -> None:
        """Talk to a person: ask what they need, then put it before the mediators (flows.helpdesk)."""
        stuck = ctx.conv.wrong_answers >= WRONG_ANSWERS_BEFORE_HELP
        here = f"{ctx.conv.flow}:{ctx.conv.step}"
        if ctx.conv.flow != "helpdesk":  # pressed twice: keep why they first asked
            ctx.data[ASKED_FROM] = {"step": here, "reason": "stuck" if stuck else "asked"}
        ctx.conv.wrong_answers = 0
        await self.goto(ctx, "helpdesk:message")

    # Global commands

    async def _command(self, ctx: Ctx, payload: str) -> None:
        name, _, argument = payload.strip().lstrip("/").partition(" ")
        command = self.commands.get(name.split("@", 1)[0].lower()[:32])
        if command is None:
            ctx.say("errors/unknown_command", command=name[:32])
            await self.reask(ctx)
            return
        await command(ctx, argument.strip()[:256])

    async def start(self, ctx: Ctx, argument: str) -> None:
        if argument and "join" in self.commands:  # a deep link: /start <invite code>
            await self.commands["join"](ctx, argument)
        elif ctx.account.consented_at is None and ctx.conv.at_home and ctx.account.role is Role.BORROWER:
            await self.goto(ctx, "welcome:intro")  # staff give no borrower's consent: their menu
        elif ctx.conv.at_home:
            await self.goto(ctx, HOME)
        else:
            ctx.say("help/welcome_back")
            await self.reask(ctx)

    async def help(self, ctx: Ctx, _argument: str) -> None:
        borrower = ctx.account.role is Role.BORROWER
        if ctx.conv.at_home:
            if borrower:
                ctx.say("help/commands", ASK_OPERATOR, GO_HOME, person="here")
            else:
                ctx.say("help/staff_commands", GO_HOME, role=ctx.account.role.value)
            return
        # The question on screen comes again below the list: the list's choices join the question's
        # (Ctx._preface), never a second numbered set above it.
        if borrower:
            ctx.preface = ("help/commands", {}, (ASK_OPERATOR, GO_HOME))
        else:
            ctx.preface = ("help/staff_commands", {"role": ctx.account.role.value}, (GO_HOME,))
        await self.reask(ctx)
        if ctx.preface:  # the step asked nothing: the list stands on its own, with its choices
            template, context, choices = ctx.preface
            ctx.preface = None
            ctx.say(template, *choices, **context, person="here")

    async def menu(self, ctx: Ctx, _argument: str) -> None:
        await self.goto(ctx, HOME)

    async def back(self, ctx: Ctx, _argument: str) -> None:
        if not ctx.data.get(TRAIL):
            ctx.say("errors/nothing_back")
            await self.reask(ctx)
            return
        await self.goto(ctx, BACK)

    async def cancel(self, ctx: Ctx, _argument: str) -> None:
        if ctx.conv.at_home:
            ctx.say("errors/nothing_to_cancel")
        else:
            ctx.say("help/cancelled", kept=await _draft_kept(ctx))
        await self.goto(ctx, HOME)

    def enter(self, target: str) -> Command:
        async def command(ctx: Ctx, _argument: str) -> None:
            await self.goto(ctx, target)

        return command


def _unwind(trail: list[str], to: str) -> None:
    """Take a finished sub-flow off the trail: everything from the last visit to ``to`` on."""
    if to in trail:
        del trail[len(trail) - 1 - trail[::-1].index(to) :]


async def _draft_kept(ctx: Ctx) -> bool:
    """Whether stopping leaves a borrower's application as a draft to continue (not a running plan's
    payment report, nor anything staff were doing)."""
    if ctx.conv.case_id is None or ctx.account.role is not Role.BORROWER:
        return False
    try:
        case = await ctx.turn.case(ctx.conv.case_id)
    except (NotFound, PermissionDenied):
        return False
    return case.state is CaseState.DRAFT
