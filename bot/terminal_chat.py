"""``loanbridge chat``: the terminal channel on the configured store, interactive or scripted from stdin."""

from __future__ import annotations

import asyncio
import os
import sys

from bot import demo
from bot.app import build_app
from bot.channels.terminal import TerminalChannel, run_lines
from bot.settings import Settings
from dialogs.domain import Channel, Role
from dialogs.locales import pick_locale
from dialogs.messages import Inbound, InboundKind
from storage.migrate import upgrade
from storage.store import SqlStore


async def run_chat(settings: Settings, *, user: str, role: Role, lender: str | None, demo_data: bool) -> int:
    await upgrade(settings.database_url)  # the embedded default needs no separate setup step
    # The terminal's own language (LANG=en_US.UTF-8, zh_CN.UTF-8) is the first guess for a new user.
    language = os.environ.get("LC_ALL") or os.environ.get("LANG")
    channel = TerminalChannel(user, sys.stdout, language)
    app = build_app(settings, {Channel.TERMINAL: channel})
    interactive = sys.stdin.isatty()
    async with app.running():
        await _offer_demo(app.store, demo_data, interactive)
        await app.store.ensure_account(Channel.TERMINAL, user, locale=pick_locale(language))
        await _play_as(app.store, user, role, lender)

        async def handle(inbound: Inbound) -> None:
            await app.engine.handle(inbound)
            await app.delivery.drain()

        await handle(_start(channel))
        await run_lines(channel, lambda: _read_line(interactive), handle)
    return 0


def _start(channel: TerminalChannel) -> Inbound:
    start = channel.inbound("/start")
    assert start is not None and start.kind is InboundKind.COMMAND  # noqa: S101 - a literal command
    return start


async def _read_line(interactive: bool) -> str:
    if interactive:
        sys.stdout.write("> ")
        sys.stdout.flush()
    return await asyncio.to_thread(sys.stdin.readline)


async def _offer_demo(store: SqlStore, requested: bool, interactive: bool) -> None:
    if not requested and await store.any_loans():
        return
    if not requested:
        if not interactive:
            print("The database has no loans yet. Run `loanbridge chat --demo` to load a demo loan book.\n")
            return
        answer = await asyncio.to_thread(
            input, "The database has no loans yet. Load a demo loan book? [Y/n] "
        )
        if answer.strip().lower() not in ("", "y", "yes", "是"):
            return
    borrower = await demo.seed(store)
    print(
        f"Demo loan book loaded ({demo.LENDER}). To try the borrower flow, use:\n"
        f"  loan reference {borrower.loan_ref}, name {borrower.name}, "
        f"ID number {borrower.id_number}, phone {borrower.phone}\n"
        "The one-time code is printed here (development sender; no SMS is sent).\n"
    )


async def _play_as(store: SqlStore, user: str, role: Role, lender: str | None) -> None:
    if role is Role.BORROWER:
        return
    name = (lender or demo.LENDER) if role is Role.LENDER else None
    await store.grant_role(Channel.TERMINAL, user, role, lender_name=name)
