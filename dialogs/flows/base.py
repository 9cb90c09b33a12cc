"""The vocabulary flows are written in: a step asks, accepts an answer, and names where to go next.

A target is ``"step"`` (in the same flow) or ``"flow:step"``. State is the :class:`Conversation`'s
``(flow, step, data)``; everything a step remembers goes in ``data`` (JSON values only).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, time
from decimal import Decimal
from typing import Any

from dialogs.conversation import HOME_FLOW, HOME_STEP, Conversation
from dialogs.domain import Account, Case, Role
from dialogs.errors import DomainError
from dialogs.messages import Button, Inbound, Outbound
from dialogs.ports import CodeSender, Documents, Turn
from dialogs.rules.conduct import ConductPolicy
from dialogs.rules.interest import (
    DEFAULT_LICENSED_LEVEL,
    DEFAULT_LPR_HISTORY_TEXT,
    InterestLaw,
    LprHistory,
)
from dialogs.rules.negotiation import DEFAULT_NEGOTIATION, NegotiationPolicy
from dialogs.rules.plans import DEFAULT_POLICY, PlanPolicy
from dialogs.rules.reminders import ReminderPolicy
from dialogs.rules.supervision import DEFAULT_GRACE_DAYS, DEFAULT_MOVES

HOME = f"{HOME_FLOW}:{HOME_STEP}"
BACK = "<back>"  # a target: the step before this one (the menu when there is none)
UNWIND = "<unwind>"  # prefix of a target that ends a sub-flow: see :func:`back_to`
OFFER = "_offer"  # the choices the current step's question offered: {"s": step, "c": [ids]}
NONCE = "_n"
TRAIL = "_trail"
MAX_TRAIL = 40


class Invalid(DomainError):
    """An answer a step cannot take; the person is told why (``template``) and asked again."""

    def __init__(self, template: str, **context: Any) -> None:
        super().__init__(template)
        self.template = template
        self.context = context


@dataclass(frozen=True, slots=True)
class Choice:
    id: str
    label: str  # a label macro name in templates/<locale>/labels.j2
    context: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Picked:
    """A button the person pressed that the conversation had offered."""

    id: str


@dataclass(frozen=True, slots=True)
class Services:
    """What flows need besides the turn: settings-driven rules, the one-time-code sender, documents."""

    code_sender: CodeSender
    documents: Documents | None = None  # renders the agreement; required once cases reach agreement
    policy: PlanPolicy = DEFAULT_POLICY
    lpr: LprHistory = field(default_factory=lambda: LprHistory.parse(DEFAULT_LPR_HISTORY_TEXT))
    licensed_level: Decimal = DEFAULT_LICENSED_LEVEL  # what licensed lenders are held to (DESIGN §4)
    lock_failures: int = 5  # failed verifications in an hour that lock verification for an hour
    negotiation: NegotiationPolicy = DEFAULT_NEGOTIATION
    conduct: ConductPolicy = field(default_factory=ConductPolicy)
    invite_hours: int = 72  # how long a lender-staff invite stays valid
    answer_within_days: int = 1  # the promise to someone who asks for a person: working days to an answer
    grace_days: int = DEFAULT_GRACE_DAYS  # days an instalment may stay unpaid before the plan is in breach
    tolerance_moves: int = DEFAULT_MOVES  # missed instalments a borrower may move to the end of the plan
    # When instalment reminders are due: planned in the turn that activates an agreement.
    reminders: ReminderPolicy = field(default_factory=ReminderPolicy)
    # When lenders' staff get the day before's digest, on the service's clock (staff's /quiet says so)
    digest_time: time = time(9)
    digest_zone: str = "Asia/Shanghai"

    @property
    def interest_law(self) -> InterestLaw:
        return InterestLaw(self.lpr, self.licensed_level)


@dataclass(slots=True)
class Ctx:
    """One turn as a flow sees it."""

    turn: Turn
    conv: Conversation
    services: Services
    inbound: Inbound | None = None
    # After a refused button: the next question's choices come under a short line, not the whole step
    # again (a mediator's case view is a page long); a question without choices is asked in full.
    reminding: bool = False
    # Set after several answers not accepted: the next question offers these (a person, the menu) too.
    stuck_help: tuple[Choice, ...] = ()
    # /help at a question: (template, context, choices) said before the question asked again, its choices
    # joining the question's own after them (see :meth:`_preface`).
    preface: tuple[str, dict[str, Any], tuple[Choice, ...]] | None = None

    @property
    def account(self) -> Account:
        return self.turn.account

    @property
    def now(self) -> datetime:
        return self.turn.now

    @property
    def data(self) -> dict[str, Any]:
        return self.conv.data

    def say(self, template: str, *choices: Choice, file_name: str | None = None, **context: Any) -> None:
        """Send a message. Its buttons are accepted only if global (``g:…``): questions use :meth:`ask`."""
        buttons = tuple(self._button(choice) for choice in choices)
        self.turn.send(Outbound(self.account.id, template, context, buttons, file_name=file_name))

    def ask(self, template: str, *choices: Choice, **context: Any) -> None:
        """Send a question: its choices (and only those) are accepted until the next question."""
        self.data[OFFER] = {"s": self.conv.step, "c": [c.id for c in choices]}
        if self.preface:
            choices = self._preface(choices)
        if self.stuck_help:
            choices = self._offer_help(choices)
        if self.reminding and choices:
            self.say("errors/stale_choices", *choices)
            return
        if self.reminding:  # a question answered by typing: said why, then asked in full
            self.say("errors/stale_button")
        self.say(template, *choices, **context)

    def _offer_help(self, choices: tuple[Choice, ...]) -> tuple[Choice, ...]:
        """Say that help is there, keeping one numbered set of buttons: a typed "1" must mean one thing.

        A question with buttons takes the help buttons after its own; one without keeps them on this line.
        """
        help_choices, self.stuck_help = self.stuck_help, ()
        if not choices:
            self.say("errors/stuck", *help_choices, below=False)
            return choices
        self.say("errors/stuck", below=True)
        return (*choices, *help_choices)

    def _preface(self, choices: tuple[Choice, ...]) -> tuple[Choice, ...]:
        """Say the preface (the help list) first, its choices after the question's own: one numbered set, so a
        typed "1" means what the last screen says. A question answered by typing gets none of them: there a
        typed "1" is its answer (months, an amount), and a button would take it."""
        if self.preface is None:
            return choices
        template, context, extra = self.preface
        self.preface = None
        if not choices:
            self.say(template, **context, person="menu")
            return choices
        self.say(template, **context, person="below")
        return (*choices, *extra)

    def offered(self) -> list[str]:
        offer = self.data.get(OFFER) or {}
        return list(offer.get("c", [])) if offer.get("s") == self.conv.step else []

    def _button(self, choice: Choice) -> Button:
        return Button(f"{self.data.get(NONCE, 0)}.{choice.id}", choice.label, dict(choice.context))

    async def case(self) -> Case:
        if self.conv.case_id is None:
            raise Invalid("errors/no_case")
        return await self.turn.case(self.conv.case_id)


Ask = Callable[[Ctx], Awaitable[None]]
Accept = Callable[[Ctx, Inbound], Any]
Answer = Callable[[Ctx, Any], Awaitable[str]]


@dataclass(frozen=True, slots=True)
class Step:
    """What a step asks, how it reads an answer that is not a button, and what it does with the answer."""

    ask: Ask
    accept: Accept
    answer: Answer
    returnable: bool = True  # False: /back never leads here (a one-time code, a choice already acted on)


@dataclass(frozen=True, slots=True)
class Flow:
    name: str
    steps: Mapping[str, Step]
    roles: frozenset[Role] = frozenset({Role.BORROWER})
    sensitive: bool = False  # asks for personal information: only after explicit consent


def back_to(target: str) -> str:
    """A target for the end of a finished sub-flow (a report filed, a dispute opened): ``target``, with the
    sub-flow's steps taken off the /back trail, so Back from there returns to where the person was before
    and never into a question already acted on.
    """
    return UNWIND + target


def prompt(template: str, *choices: Choice, **context: Any) -> Ask:
    """An ``ask`` that sends a fixed question."""

    async def ask(ctx: Ctx) -> None:
        ctx.ask(template, *choices, **context)

    return ask


def flows_by_name(flows: Sequence[Flow]) -> dict[str, Flow]:
    return {flow.name: flow for flow in flows}
