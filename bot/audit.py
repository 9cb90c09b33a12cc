"""``loanbridge audit verify`` and ``loanbridge audit head``: the case log checked, and its head published.

Both answer in the reader's language (``--lang``, else LC_ALL / LC_MESSAGES / LANG, as ``loanbridge
verify``); the words are templates/<locale>/audit/.

``verify`` reads the database in one read-only snapshot (it never takes SQLite's write lock, so a running
bot keeps answering) and prints what it checked and everything wrong, each event by its case and
sequence number; it exits 1 on any finding. ``head`` prints the latest signed tree head as text to
publish elsewhere (a website, a notary): once published, the log can no longer be rewritten unseen.
"""

from __future__ import annotations

import argparse
import base64
import contextlib
import sys
from datetime import UTC, tzinfo
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from sqlalchemy.ext.asyncio import AsyncSession, create_async_engine

from bot.platform_key import deployment_public_key
from bot.rendering import Renderer
from bot.settings import Settings
from bot.verify import UnknownZone, add_lang_option, reader_locale, reader_zone, when
from storage.case_log import Head, latest_head
from storage.db import async_url, check_database_file
from storage.log_audit import AuditReport, Finding, audit
from storage.migrate import require_current
from storage.signing import TreeHead, fingerprint, grouped, load_public_key, parse_moment

UNREADABLE = 2  # the zone asked for is unknown (as loanbridge verify)


def platform_key(settings: Settings, key_path: str | None) -> Ed25519PublicKey:
    """The key heads are checked with: ``--key FILE`` (PEM or base64), else the platform's own."""
    if key_path:
        return load_public_key(Path(key_path).read_bytes(), name=key_path)
    return deployment_public_key(settings)


def _reader(settings: Settings) -> Any:
    """An engine for one consistent read: no write lock on SQLite, a repeatable snapshot on PostgreSQL."""
    url = async_url(settings.database_url)
    if url.get_backend_name() == "postgresql":
        return create_async_engine(url, isolation_level="REPEATABLE READ")
    check_database_file(settings.database_url)
    return create_async_engine(url)


def say(template: str, locale: str, **context: Any) -> str:
    """An audit text in the reader's language (plain text: a terminal, not a chat)."""
    return Renderer().document(f"audit/{template}", context, locale, "UTC")


Zone = tuple[tzinfo, str]
UTC_ZONE: Zone = (UTC, "UTC")


def _zone(args: argparse.Namespace) -> Zone | None:
    """The reader's zone as ``loanbridge verify`` finds it (--tz, TZ, the system's); None, said, when
    the name given is unknown."""
    try:
        return reader_zone(args.tz)
    except UnknownZone as error:
        print(f"unknown time zone {error}: give one such as Asia/Shanghai or UTC (--tz)", file=sys.stderr)
        return None


async def audit_verify(args: argparse.Namespace, settings: Settings) -> int:
    locale = reader_locale(args.lang)
    zone = _zone(args)
    if zone is None:
        return UNREADABLE
    key = platform_key(settings, args.key)
    engine = _reader(settings)

    def progress(done: int) -> None:
        print(say("progress", locale, done=done), file=sys.stderr, flush=True)

    try:
        await require_current(engine)
        async with AsyncSession(engine) as session, session.begin():
            report = await audit(session, key, progress if args.progress else None)
    finally:
        await engine.dispose()
    print(report_text(report, key, locale, zone))
    return 0 if report.ok else 1


def report_text(report: AuditReport, key: Ed25519PublicKey, locale: str, zone: Zone = UTC_ZONE) -> str:
    """The report in the reader's words, its times in their zone as ``loanbridge verify`` prints them."""
    latest = report.latest
    return say(
        "report",
        locale,
        checked_entries=report.entries,
        checked_heads=report.heads,
        platform_key=grouped(fingerprint(key)),
        latest_head={"size": latest.size, "at": when(latest.at, *zone)} if latest is not None else None,
        problems=[_problem(finding, zone) for finding in report.findings],
        log_ok=report.ok,
    )


def _problem(finding: Finding, zone: Zone) -> dict[str, Any]:
    facts = dict(finding.facts)
    if isinstance(facts.get("at"), str):  # a head's time, as the log spells it (UTC to the microsecond)
        with contextlib.suppress(ValueError):  # not the log's spelling: shown as it is
            facts["at"] = when(parse_moment(facts["at"]), *zone)
    return {"problem": finding.problem, "case": finding.case_id, "seq": finding.seq, **facts}


async def audit_head(args: argparse.Namespace, settings: Settings) -> int:
    """The head to publish on standard output, exactly as signed (its field names are part of what was
    signed, so they stay as they are); what it is, in the reader's words and zone, on standard error, so
    ``loanbridge audit head > head.txt`` keeps only what to publish."""
    locale = reader_locale(args.lang)
    zone = _zone(args)
    if zone is None:
        return UNREADABLE
    engine = _reader(settings)
    try:
        await require_current(engine)
        async with AsyncSession(engine) as session, session.begin():
            head = await latest_head(session)
    finally:
        await engine.dispose()
    if head is None:
        print(say("no_head", locale))
        return 1
    print(say("head", locale, size=head.size, at=when(head.at, *zone)), file=sys.stderr, flush=True)
    print(published(head), end="")
    return 0


def published(head: Head) -> str:
    """The head as text anyone can keep: what was signed, the signature and the key's fingerprint."""
    signed = TreeHead(head.size, head.root, head.at).encode().decode()
    signature = base64.b64encode(head.signature).decode()
    return f"{signed.rstrip(chr(10))}\nsignature: {signature}\nkey: {head.key_fingerprint}\n"


def add_audit_commands(commands: Any) -> Any:
    """``audit verify`` and ``audit head``; returns the group so other audit commands join it."""
    group = commands.add_parser("audit", help="the verifiable case log").add_subparsers(
        dest="action", required=True
    )
    verify = group.add_parser(
        "verify", help="recompute the case log from the stored events and check every signed head"
    )
    verify.add_argument("--key", help="check with this public key (PEM or base64) instead of the platform's")
    verify.add_argument("--progress", action="store_true", help="report progress on stderr")
    add_lang_option(verify)
    _add_tz_option(verify)
    verify.set_defaults(run=audit_verify)
    head = group.add_parser("head", help="print the latest signed tree head, to publish elsewhere")
    add_lang_option(head)
    _add_tz_option(head)
    head.set_defaults(run=audit_head)
    return group


def _add_tz_option(command: Any) -> None:
    command.add_argument(
        "--tz",
        metavar="ZONE",
        help="the time zone of the times shown, such as Asia/Shanghai (default: TZ, else the system's)",
    )
