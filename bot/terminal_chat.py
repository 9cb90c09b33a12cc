"""``loanbridge chat``: the terminal channel on the configured store, interactive or scripted from stdin.

Leaving is always one line: ``/quit``, the end of input and Ctrl-C (even while a reply is being worked out)
all end the conversation, let what was committed be delivered, and say goodbye.

Like the scheduled work (reminders, deadlines), operators' broadcasts to the terminal's people go out while
a chat runs, so a terminal-only setup needs no other process: this person's straight to this terminal,
everyone else's to their outbox, shown in their own chat.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import sys
from contextlib import AbstractAsyncContextManager
from typing import Any

from bot import demo
from bot.app import App, build_app
from bot.broadcasting import Broadcaster
from bot.channels.terminal import TerminalChannel, run_lines
from bot.channels.terminal_files import documents_folder
from bot.channels.terminal_input import LineReader
from bot.codes import LogCodeSender
from bot.rendering import Rendered, Renderer
from bot.settings import Settings
from dialogs.domain import Account, Channel, Role
from dialogs.locales import pick_locale
from dialogs.masking import mask_phone
from dialogs.messages import Inbound, InboundKind, Outbound
from dialogs.rules.conduct import SendWindow
from storage.migrate import upgrade
from storage.store import SqlStore

INTERRUPTED = 130  # the shell's code for "ended by Ctrl-C"


class TerminalCodes:
    """Development codes: to the log as ever, and shown here too when the log goes to a file."""

    def __init__(self, channel: TerminalChannel) -> None:
        self._channel = channel
        # Who sees them, read once at the start: a code is sent inside a turn, with no session to spare.
        self.shown_to: tuple[Renderer, Account] | None = None

    async def send_code(self, phone: str, code: str, *, account_id: int = 0) -> None:
        await LogCodeSender().send_code(phone, code)
        if self.shown_to is not None:
            renderer, first = self.shown_to
            # In the language the person chose since the start: delivery hands the channel their account.
            account = self._channel.recipient or first
            context = {"phone": mask_phone(phone), "code": code}
            await self._channel.send(
                account, renderer.render(Outbound(account.id, "terminal/dev_code", context), account)
            )


async def run_chat(
    settings: Settings,
    *,
    user: str,
    role: Role,
    lender: str | None,
    demo_data: bool,
    show_codes: bool = False,
) -> int:
    """Talk on this terminal until ``/quit``, the end of input or Ctrl-C; the exit status."""
    await upgrade(settings.database_url)  # the embedded default needs no separate setup step
    # The terminal's own language (LANG=en_US.UTF-8, zh_CN.UTF-8) is the first guess for a new user.
    language = os.environ.get("LC_ALL") or os.environ.get("LANG")
    files = documents_folder(settings.terminal_files, user)
    channel = TerminalChannel(user, sys.stdout, language, files=files)
    reader = LineReader(sys.stdin.buffer, sys.stdin.encoding or "utf-8")
    codes = TerminalCodes(channel) if show_codes else None
    app = build_app(settings, {Channel.TERMINAL: channel}, code_sender=codes)
    interactive = sys.stdin.isatty()
    async with app.running(), _broadcasts(settings, app, channel):
        await _offer_demo(app.store, demo_data, interactive, reader, app.renderer, pick_locale(language))
        account = await app.store.ensure_account(Channel.TERMINAL, user, locale=pick_locale(language))
        if codes is not None:
            codes.shown_to = (app.renderer, account)
        await _play_as(app.store, user, role, lender)
        interrupted = await _converse(app, channel, reader, interactive)
        goodbye = await _render(app, user, "help/goodbye", {})
    # Said after the app stopped, so a reply committed before Ctrl-C is delivered above it, not below.
    channel.read_done()  # Ctrl-C while reading: no prompt under the goodbye
    if interactive or interrupted:
        sys.stdout.write("\n")  # after the prompt, or the ^C the terminal echoed
    await channel.send(account, goodbye)
    return INTERRUPTED if interrupted else 0


def _broadcasts(
    settings: Settings, app: App, channel: TerminalChannel
) -> AbstractAsyncContextManager[object]:
    """Broadcasts to terminal recipients, sent where the scheduled work runs (here, as reminders are):
    in their hours, skipping the quiet and unreachable, exactly as serve's; replies to this person first."""
    if not app.scheduled:
        return contextlib.nullcontext()
    return Broadcaster(
        app.store,
        app.renderer,
        {Channel.TERMINAL: channel},
        submit=app.delivery.submit,
        window=SendWindow(settings.send_window_start, settings.send_window_end),
        replying=lambda: app.delivery.sending,
        process="chat",
    ).running()


async def _converse(app: App, channel: TerminalChannel, reader: LineReader, interactive: bool) -> bool:
    """The conversation, until it ends; True when Ctrl-C ended it."""
    in_hand: set[asyncio.Future[None]] = set()

    async def turn(inbound: Inbound) -> None:
        await app.engine.handle(inbound)
        await app.delivery.drain()

    async def handle(inbound: Inbound) -> None:
        # Ctrl-C stops the reading, not a message in hand: its turn commits and its answer is shown.
        running = asyncio.ensure_future(turn(inbound))
        in_hand.add(running)
        running.add_done_callback(in_hand.discard)
        await asyncio.shield(running)

    async def notice(template: str, context: dict[str, Any]) -> None:
        await channel.send(
            await _account(app, channel.user), await _render(app, channel.user, template, context)
        )

    async def lines() -> str | None:
        if interactive:
            channel.prompt()  # printed again below any notice that arrives while the person types
        return await reader.next()

    async def talk() -> None:
        await handle(_start(channel))
        await run_lines(channel, lines, handle, notice)

    interrupted = await _until_interrupted(asyncio.ensure_future(talk()))
    await asyncio.gather(*in_hand, return_exceptions=True)
    return interrupted


async def _until_interrupted(conversation: asyncio.Future[None]) -> bool:
    loop = asyncio.get_running_loop()
    interrupted: list[bool] = []

    def interrupt() -> None:
        interrupted.append(True)
        conversation.cancel()
        # A second Ctrl-C while we close: the default action, which ends the process without a traceback.
        loop.remove_signal_handler(signal.SIGINT)
        signal.signal(signal.SIGINT, signal.SIG_DFL)

    loop.add_signal_handler(signal.SIGINT, interrupt)
    try:
        await conversation
    except asyncio.CancelledError:
        if not interrupted:
            raise
    finally:
        loop.remove_signal_handler(signal.SIGINT)
    return bool(interrupted)


async def _account(app: App, user: str) -> Account:
    return await app.store.ensure_account(Channel.TERMINAL, user)


async def _render(app: App, user: str, template: str, context: dict[str, Any]) -> Rendered:
    account = await _account(app, user)
    return app.renderer.render(Outbound(account.id, template, context), account)


def _start(channel: TerminalChannel) -> Inbound:
    start = channel.inbound("/start")
    assert start is not None and start.kind is InboundKind.COMMAND  # noqa: S101 - a literal command
    return start


async def _offer_demo(
    store: SqlStore,
    requested: bool,
    interactive: bool,
    reader: LineReader,
    renderer: Renderer,
    locale: str | None,
) -> None:
    """Offer (or, with ``--demo``, load) the demo loan book, saying so in the terminal's language."""
    if not requested and await store.any_loans():
        return
    if not requested:
        if not interactive:
            print(demo.words(renderer, locale, "no_loans") + "\n")
            return
        sys.stdout.write(demo.words(renderer, locale, "load_question") + " ")
        sys.stdout.flush()
        answer = await reader.next()
        if answer is None or answer.strip().lower() not in ("", "y", "yes", "是"):
            return
    borrower = await demo.seed(store)
    print(demo.banner(renderer, locale, borrower) + "\n")


async def _play_as(store: SqlStore, user: str, role: Role, lender: str | None) -> None:
    if role is Role.BORROWER:
        return
    name = (lender or demo.LENDER) if role is Role.LENDER else None
    await store.grant_role(Channel.TERMINAL, user, role, lender_name=name)
