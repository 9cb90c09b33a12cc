"""``loanbridge``: the command line for running and administering LoanBridge."""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
from collections.abc import Awaitable, Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

from bot import broadcast_cli, logs
from bot.app import opened_store
from bot.audit import add_audit_commands
from bot.rendering import plural
from bot.settings import Settings, SettingsError, load_settings
from bot.verify import add_key_command, add_verify_command
from dialogs.domain import Channel, Role
from dialogs.errors import DomainError, LoanBookRejected, NotFound
from dialogs.loanbook import decode_loan_book, parse_loan_book
from dialogs.rules.interest import LenderKind
from storage import accounts
from storage.migrate import upgrade
from storage.staff import revoke, staff_accounts

Command = Callable[[argparse.Namespace, Settings], Awaitable[int]]
log = logging.getLogger("loanbridge.cli")


async def db_upgrade(args: argparse.Namespace, settings: Settings) -> int:
    await upgrade(settings.database_url, args.revision)
    print(f"database is at revision {args.revision}: {_safe_url(settings.database_url)}")
    return 0


async def lender_add(args: argparse.Namespace, settings: Settings) -> int:
    async with opened_store(settings) as store:
        lender = await store.add_lender(
            args.name, compliance_contact=args.compliance_contact, kind=LenderKind(args.kind)
        )
    print(f"lender {lender.name!r} added (id {lender.id}), a {lender.kind.value} lender")
    return 0


async def lender_invite(args: argparse.Namespace, settings: Settings) -> int:
    async with opened_store(settings) as store:
        code = await store.create_invite(args.name, timedelta(hours=args.hours))
    print(f"invite for {args.name!r}: {code}")
    print(f"valid once, for {args.hours} hours: the staff member sends /start {code} to the bot")
    return 0


async def lender_staff(args: argparse.Namespace, settings: Settings) -> int:
    async with opened_store(settings) as store, store.unit() as session:
        lender = await accounts.lender_row(session, args.name)
        members = await staff_accounts(session, lender.id)
    if not members:
        print(f"no one acts for {lender.name!r} yet: 'loanbridge lender invite {lender.name}' makes a code")
    for member in members:
        print(f"account {member.id}: {member.channel.value} user {member.channel_user_id!r}")
    return 0


async def lender_revoke(args: argparse.Namespace, settings: Settings) -> int:
    async with opened_store(settings) as store, store.unit() as session:
        lender = await accounts.lender_row(session, args.name)
        if args.account not in {m.id for m in await staff_accounts(session, lender.id)}:
            raise NotFound(f"account {args.account} is not staff of {lender.name!r} (see 'lender staff')")
        await revoke(session, args.account)
    print(f"account {args.account} no longer acts for {lender.name!r}")
    return 0


async def operator_add(args: argparse.Namespace, settings: Settings) -> int:
    async with opened_store(settings) as store:
        account = await store.grant_role(Channel(args.channel), args.user, Role.OPERATOR)
    print(
        f"{account.channel.value} user {account.channel_user_id!r} is now an operator (account {account.id})"
    )
    return 0


async def loans_import(args: argparse.Namespace, settings: Settings) -> int:
    try:
        data = await asyncio.to_thread(Path(args.file).read_bytes)
    except OSError as error:
        print(f"cannot read {args.file}: {error.strerror or error}", file=sys.stderr)
        return 1
    rows = parse_loan_book(decode_loan_book(data))  # refused as a whole, by line, before anything is stored
    async with opened_store(settings) as store:
        summary = await store.import_loan_book(args.lender, rows)
    loans = plural(len(rows), "loan")
    print(f"imported {loans} for {args.lender!r}: {summary.created} new, {summary.updated} updated")
    return 0


async def dead_letters(args: argparse.Namespace, settings: Settings) -> int:
    """Messages given up on after failed attempts: when, which update, whose, and the error."""
    async with opened_store(settings) as store:
        letters = await store.recent_dead_letters(args.limit)
    if not letters:
        print("no dead letters: every message was handled")
    for letter in letters:
        sender = f"account {letter.account_id}" if letter.account_id else "no account"
        when = f"{letter.created_at:%Y-%m-%d %H:%M:%S} UTC"
        print(f"{when}  {letter.channel} update {letter.key}  {sender}: {letter.error}")
    return 0


async def chat(args: argparse.Namespace, settings: Settings) -> int:
    from bot.terminal_chat import run_chat  # noqa: PLC0415 - only this command needs the whole app

    try:
        return await run_chat(
            settings,
            user=args.user,
            role=Role(args.role),
            lender=args.lender,
            demo_data=args.demo,
            show_codes=args.log_to is not None,  # the log is out of sight: the one-time code is shown here
        )
    except Exception:  # the traceback goes to the log, never into the conversation
        log.exception("the chat stopped on an unexpected error")
        where = args.log_to or "standard error"
        print(f"\nSorry, the chat stopped on an error; the details are in {where}.", file=sys.stderr)
        return 1


async def serve(args: argparse.Namespace, settings: Settings) -> int:
    from bot.serve import serve as run_serve  # noqa: PLC0415 - only this command needs the channels
    from bot.sms import serve_code_sender  # noqa: PLC0415 - only serving sends codes by SMS

    if args.telegram_lib:
        settings = settings.model_copy(update={"telegram_lib": args.telegram_lib})
    # Before anything starts: the development log sender only when chosen, never by default.
    await run_serve(settings, code_sender=serve_code_sender(settings))
    return 0


async def scheduler(_args: argparse.Namespace, settings: Settings) -> int:
    from bot.scheduler_process import run_scheduler  # noqa: PLC0415 - only this command runs the jobs alone

    await run_scheduler(settings)
    return 0


async def keys_rotate(args: argparse.Namespace, settings: Settings) -> int:
    from storage.rotation import rotate  # noqa: PLC0415 - only this command rotates

    async with opened_store(settings) as store:
        result = await rotate(store, batch_size=args.batch)
    if result.already_current:
        print("nothing to rotate: the data is already under LOANBRIDGE_SECRET_KEY")
        return 0
    print(f"re-encrypted {result.values} values in {result.rows} rows under the new key")
    if result.invites_expired:
        print(f"{result.invites_expired} unused invites made under the old key were expired: issue new ones")
    print("done: remove LOANBRIDGE_OLD_SECRET_KEYS")
    return 0


def _log_file(args: argparse.Namespace, settings: Settings) -> Path | None:
    """A file for the log of a chat whose standard error is the conversation's terminal; else None."""
    if args.command != "chat":
        return None
    if args.log_file:
        return Path(args.log_file).expanduser()
    return logs.default_log_file(settings.database_url) if logs.stderr_joins_the_conversation() else None


def _safe_url(url: str) -> str:
    from sqlalchemy.engine import make_url  # noqa: PLC0415 - only for this message

    return make_url(url).render_as_string(hide_password=True)


MAX_INVITE_HOURS = 24 * 30


def invite_hours(text: str) -> int:
    """An invite's lifetime: whole hours from 1 to 720, refused in one line (not a list of 720 values)."""
    try:
        hours = int(text)
    except ValueError:
        hours = 0
    if not 1 <= hours <= MAX_INVITE_HOURS:
        raise argparse.ArgumentTypeError(f"must be whole hours from 1 to {MAX_INVITE_HOURS}, got {text!r}")
    return hours


def parser() -> argparse.ArgumentParser:  # noqa: PLR0915 - one statement per subcommand and option
    root = argparse.ArgumentParser(
        prog="loanbridge", description="LoanBridge: repayment negotiation assistant"
    )
    commands = root.add_subparsers(dest="command", required=True, metavar="COMMAND")

    talk = commands.add_parser("chat", help="talk to the bot in this terminal (the quickest way to try it)")
    talk.add_argument("--as", dest="role", choices=[r.value for r in Role], default=Role.BORROWER.value)
    talk.add_argument("--user", default="me", help="who you are on the terminal channel (default: me)")
    talk.add_argument("--lender", help="with --as lender: whose staff you are (default: the demo lender)")
    talk.add_argument("--demo", action="store_true", help="load a demo lender and loan book first")
    talk.add_argument(
        "--log-file",
        help=f"where the log goes (default: standard error, or {logs.LOG_NAME} beside the database when"
        " standard error is this terminal)",
    )
    talk.set_defaults(run=chat)

    run = commands.add_parser("serve", help="run the configured channels, delivery and the scheduler")
    run.add_argument("--telegram-lib", choices=["ptb", "aiogram"], help="overrides LOANBRIDGE_TELEGRAM_LIB")
    run.set_defaults(run=serve)

    jobs = commands.add_parser(
        "scheduler",
        help="run the scheduled work alone (reminders, digests, deadlines), for several bot processes"
        " that run with LOANBRIDGE_RUN_SCHEDULER=false",
        description="Run the scheduled work alone until SIGTERM: instalment reminders, lenders' digests,"
        " offer deadlines, abandoned drafts, breach checks and the case log's signed heads. What it"
        " writes waits in the outbox for the bot processes (loanbridge serve with"
        " LOANBRIDGE_RUN_SCHEDULER=false) to send; two schedulers at once never send a reminder twice."
        " It also sends operators' broadcasts to terminal users (into their outbox, shown in their chat);"
        " Telegram and WeChat recipients are left to serve.",
    )
    jobs.set_defaults(run=scheduler)

    db = commands.add_parser("db", help="database maintenance").add_subparsers(dest="action", required=True)
    up = db.add_parser("upgrade", help="apply the migrations (creates the database if needed)")
    up.add_argument("revision", nargs="?", default="head")
    up.set_defaults(run=db_upgrade)

    lender = commands.add_parser("lender", help="lenders").add_subparsers(dest="action", required=True)
    add = lender.add_parser("add", help="add a lender")
    add.add_argument("name")
    add.add_argument("--compliance-contact", help="where harassment reports about this lender go")
    add.add_argument(
        "--kind",
        choices=[kind.value for kind in LenderKind],
        default=LenderKind.PRIVATE.value,
        help="private lenders are held to 4x the LPR, licensed institutions to the financing-cost level"
        " (LOANBRIDGE_LICENSED_RATE_LEVEL); default: private",
    )
    add.set_defaults(run=lender_add)
    invite = lender.add_parser(
        "invite", help="a one-time code that lets a person join as this lender's staff"
    )
    invite.add_argument("name")
    invite.add_argument("--hours", type=invite_hours, default=72, metavar="HOURS")
    invite.set_defaults(run=lender_invite)
    staff = lender.add_parser("staff", help="list the accounts acting for a lender")
    staff.add_argument("name")
    staff.set_defaults(run=lender_staff)
    revoke_member = lender.add_parser("revoke", help="take a staff member's access away")
    revoke_member.add_argument("name")
    revoke_member.add_argument("account", type=int, help="the account number 'lender staff' lists")
    revoke_member.set_defaults(run=lender_revoke)

    operator = commands.add_parser("operator", help="operators").add_subparsers(dest="action", required=True)
    grant = operator.add_parser("add", help="grant the operator role to a channel user")
    grant.add_argument(
        "--channel",
        required=True,
        choices=[c.value for c in (Channel.TELEGRAM, Channel.WECHAT, Channel.TERMINAL)],
    )
    grant.add_argument("--user", required=True, help="the user's id on that channel")
    grant.set_defaults(run=operator_add)

    loans = commands.add_parser("loans", help="the loan book").add_subparsers(dest="action", required=True)
    load = loans.add_parser("import", help="import (or update) a lender's loan book from CSV")
    load.add_argument("file")
    load.add_argument("--lender", required=True)
    load.set_defaults(run=loans_import)

    dead = commands.add_parser(
        "deadletters", help="list the messages given up on after failed attempts (newest first)"
    )
    dead.add_argument("--limit", type=int, default=50, choices=range(1, 10_001), metavar="N")
    dead.set_defaults(run=dead_letters)

    _key_commands(commands)
    add_key_command(add_audit_commands(commands))
    add_verify_command(commands)
    broadcast_cli.add_parser(commands)
    _wechat_commands(commands)
    return root


def _key_commands(commands: Any) -> None:
    keys = commands.add_parser("keys", help="the secret key").add_subparsers(dest="action", required=True)
    rotate = keys.add_parser(
        "rotate",
        help="re-encrypt everything under LOANBRIDGE_SECRET_KEY, reading with LOANBRIDGE_OLD_SECRET_KEYS "
        "(resumable: run it again after an interruption)",
    )
    rotate.add_argument("--batch", type=int, default=200, choices=range(1, 10_001), metavar="ROWS")
    rotate.set_defaults(run=keys_rotate)


def _wechat_commands(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    from bot.wechat_cli import add_commands  # noqa: PLC0415 - the WeChat commands live beside their client

    add_commands(commands)


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    try:
        settings = load_settings()
        args.log_to = _log_file(args, settings)
        logs.configure(args.log_to)
        run: Command = args.run
        return asyncio.run(run(args, settings))
    except KeyboardInterrupt:  # Ctrl-C before a chat began listening for it: stop, without a traceback
        return 130
    except SettingsError as error:
        print(f"configuration error: {error}", file=sys.stderr)
        return 2
    except LoanBookRejected as error:
        print(error, file=sys.stderr)
        return 1
    except DomainError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
