"""Scripted conversations through the real engine, store, templates and delivery (no channel library).

``await alice.send("/start")`` returns the messages Alice received in answer, rendered in her language.
"""

from __future__ import annotations

import itertools
from collections import defaultdict
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

from bot.app import App, build_app
from bot.channels.terminal import plain
from bot.demo import DEMO_BORROWER, seed
from bot.rendering import Rendered
from bot.settings import load_settings
from dialogs.domain import Account, Channel
from dialogs.messages import Inbound, InboundKind
from dialogs.ports import CodeSender
from storage.crypto import FieldCipher
from storage.db import create_engine
from storage.signing import Signer
from storage.store import SqlStore
from tests.conftest import TEST_SECRET

_keys = itertools.count(1)


class Recorder:
    """A channel that keeps what it was asked to send, per person."""

    def __init__(self) -> None:
        self.inbox: dict[str, list[Rendered]] = defaultdict(list)

    def serves(self, _recipient: Account) -> bool:
        return True

    async def send(self, recipient: Account, message: Rendered) -> None:
        self.inbox[recipient.channel_user_id].append(message)


class Codes:
    """The one-time-code sender tests read from."""

    def __init__(self) -> None:
        self.sent: list[tuple[str, str]] = []

    async def send_code(self, phone: str, code: str, *, account_id: int = 0) -> None:
        self.sent.append((phone, code))

    @property
    def last(self) -> str:
        return self.sent[-1][1]


@dataclass
class Bot:
    app: App
    recorder: Recorder
    codes: Codes

    @property
    def store(self) -> SqlStore:
        return self.app.store

    def person(self, user: str, locale: str | None = "en") -> Person:
        return Person(self, user, locale)


@dataclass
class Person:
    bot: Bot
    user: str
    locale: str | None
    seen: int = 0
    last: list[Rendered] = field(default_factory=list)

    def inbound(self, kind: InboundKind, payload: str = "", **extra: Any) -> Inbound:
        return Inbound(
            channel=Channel.TERMINAL,
            user_id=self.user,
            chat_id=self.user,
            key=f"k{next(_keys)}",
            kind=kind,
            payload=payload,
            locale_hint=self.locale,
            extra=extra,
        )

    async def deliver(self, inbound: Inbound) -> list[Rendered]:
        await self.bot.app.engine.handle(inbound)
        await self.bot.app.delivery.drain()
        inbox = self.bot.recorder.inbox[self.user]
        self.last, self.seen = inbox[self.seen :], len(inbox)
        return self.last

    def received(self) -> list[Rendered]:
        """What reached this person since they last looked (messages others' actions caused)."""
        inbox = self.bot.recorder.inbox[self.user]
        self.last, self.seen = inbox[self.seen :], len(inbox)
        return self.last

    async def send(self, text: str) -> list[Rendered]:
        kind = InboundKind.COMMAND if text.startswith("/") else InboundKind.TEXT
        return await self.deliver(self.inbound(kind, text))

    async def press(self, label: str) -> list[Rendered]:
        """Press the latest button whose label contains ``label``."""
        return await self.deliver(self.inbound(InboundKind.CHOICE, self.button(label)))

    def button(self, label: str) -> str:
        """The latest button whose label contains ``label``, in anything this person was sent."""
        for message in reversed(self.bot.recorder.inbox[self.user]):
            for button in message.buttons:
                if label in plain(button.label):
                    return button.choice
        raise AssertionError(f"no button {label!r} in {self.texts()}")

    def texts(self) -> str:
        return "\n".join(
            plain(m.text) + "".join(f" [{plain(b.label)}]" for b in m.buttons) for m in self.last
        )


@asynccontextmanager
async def running_bot(
    database_url: str,
    clock: Any,
    *,
    demo: bool = True,
    code_sender: CodeSender | None = None,
    signer: Signer | None = None,
    **settings_given: object,
) -> AsyncIterator[Bot]:
    """A bot on a migrated database; codes go to ``bot.codes`` unless another ``code_sender`` is given.
    With ``signer`` its store sequences and signs the case log (and seals agreements) as serve's does;
    ``settings_given`` are settings as the environment would give them (``reminder_days="0"``)."""
    settings = load_settings(database_url=database_url, **settings_given)
    store = SqlStore(create_engine(database_url), FieldCipher(TEST_SECRET), clock=clock, signer=signer)
    recorder, codes = Recorder(), Codes()
    channels = {Channel.TERMINAL: recorder}
    sender = code_sender or codes
    app = build_app(settings, channels, code_sender=sender, store=store, clock=clock, scheduled=False)
    async with app.running():
        if demo:
            await seed(store)
        yield Bot(app, recorder, codes)


async def start_and_consent(person: Person) -> None:
    await person.send("/start")
    await person.press("begin")
    await person.press("I consent")


async def verify(person: Person, bot: Bot) -> None:
    """Answer the verification questions as the demo borrower, from the loan reference on."""
    await person.send(DEMO_BORROWER.loan_ref)
    await person.send(DEMO_BORROWER.name)
    await person.send(DEMO_BORROWER.id_number)
    await person.send(DEMO_BORROWER.phone)
    await person.send(bot.codes.last)


FIGURES = ("6500", "1800", "1200", "300", "200", "800", "0", "150", "0", "2000")


async def submit_application(person: Person, bot: Bot, plan: str = "Interest stopped") -> None:
    """The demo borrower's whole application, submitted with ``plan`` (a button label)."""
    await start_and_consent(person)
    await verify(person, bot)
    await person.press("Lost my job")
    await person.press("It will pass")
    await person.send("I lost my job in October and I am looking for work.")
    await person.press("Skip")
    for amount in FIGURES:
        await person.send(amount)
    await person.press("Yes")
    await person.press(plan)
    await person.press("Submit")


async def operator(bot: Bot, user: str = "olga") -> Person:
    from dialogs.domain import Role

    person = bot.person(user)
    await person.send("/help")  # the account is made in the person's language first
    await bot.store.grant_role(Channel.TERMINAL, user, Role.OPERATOR)
    await person.send("/menu")
    return person


async def lender_staff(bot: Bot, mediator: Person, user: str = "leo", lender: str = "Demo Lender") -> Person:
    """A lender's staff member who joined with an invite code the mediator issued."""
    await mediator.send(f"/invite {lender}")
    code = next(line for line in mediator.texts().splitlines() if line.startswith(f"Invite for {lender}"))
    person = bot.person(user)
    await person.send(f"/start {code.rsplit(' ', 1)[1]}")
    assert f"now acts for {lender}" in person.texts(), person.texts()
    return person
