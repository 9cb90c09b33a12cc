"""``loanbridge verify FILE`` and ``loanbridge audit key``: a signed agreement checked offline, by anyone.

``verify`` reads a signed agreement document (storage.signed_agreement), checks it with the platform's
public key (``--key FILE``: the PEM ``audit key`` prints, or base64; without it, the key of the
deployment configured here) and prints each check in plain words in the reader's language (``--lang``,
else LC_ALL / LC_MESSAGES / LANG), its times in the reader's zone, named (``--tz``, else TZ, else the
system's zone). Exit status: 0 when every check passed, 1 when any failed (each failed one is named), 2
when the file, the key or the zone cannot be read. Nothing is connected to: no database, no network.

``audit key`` prints the platform's public key (PEM) and its fingerprint, to hand to whoever will check.

Wiring (bot/cli.py): ``add_verify_command(commands)`` and ``add_key_command(audit_group)`` where
``audit_group`` is what ``bot.audit.add_audit_commands`` returns.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import sys
from datetime import UTC, datetime, timedelta, tzinfo
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from bot.platform_key import build_signer, deployment_public_key
from bot.rendering import Renderer
from bot.settings import Settings
from dialogs.locales import DEFAULT_LOCALE, LOCALES, pick_locale
from storage.signed_agreement import Finding, check_document, lines_below
from storage.signing import SigningKeyError, grouped, load_public_key

REPORT = "verify_document/report"
UNREADABLE = 2


def reader_locale(requested: str | None) -> str:
    """``--lang`` if given, else the terminal's language, else the product's default."""
    if requested:
        return requested
    for variable in ("LC_ALL", "LC_MESSAGES", "LANG"):
        found = pick_locale(os.environ.get(variable))
        if found:
            return found
    return DEFAULT_LOCALE


class UnknownZone(ValueError):
    """``--tz`` (or TZ) names no time zone this system knows."""


_UTC_NAMES = frozenset({"UTC", "Etc/UTC", "Etc/UCT", "UCT", "Etc/Zulu", "Zulu", "Universal", "Etc/Universal"})


def reader_zone(requested: str | None) -> tuple[tzinfo, str]:
    """The zone times are shown in, and its name: ``--tz`` if given, else TZ, else the system's own.

    The chat shows people's times in their zone; the report of the same document should read the same."""
    if requested:
        return _named_zone(requested), requested
    variable = os.environ.get("TZ")
    # TZ wins when set, as for every other program; a POSIX rule (CST-8) has no name, only its offset.
    name = _zone_name(variable.removeprefix(":") if variable is not None else _system_zone_name())
    if name:
        with contextlib.suppress(UnknownZone):
            return _named_zone(name), name
    local = datetime.now().astimezone().tzinfo or UTC
    return local, ""


def _zone_name(candidate: str | None) -> str:
    """``Asia/Shanghai`` from itself or from a path to its file (``/usr/share/zoneinfo/Asia/Shanghai``)."""
    text = (candidate or "").strip()
    return text.split("zoneinfo/", 1)[1] if "zoneinfo/" in text else text


def _system_zone_name() -> str | None:
    """What /etc/localtime points to (Linux, macOS); None where it is not a link."""
    with contextlib.suppress(OSError):
        return str(Path("/etc/localtime").readlink())
    return None


def _named_zone(name: str) -> tzinfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise UnknownZone(name) from None


def when(at: datetime, zone: tzinfo, zone_name: str) -> str:
    """Exact to the second and unambiguous: in the reader's zone, with its offset from UTC and its name."""
    local = at.astimezone(zone)
    offset = local.utcoffset() or timedelta(0)
    stamp = local.strftime("%Y-%m-%d %H:%M:%S")
    if not offset and (zone_name in _UTC_NAMES or not zone_name):
        return f"{stamp} UTC"
    minutes = int(offset.total_seconds()) // 60
    sign, minutes = ("+" if minutes >= 0 else "-"), abs(minutes)
    utc = f"UTC{sign}{minutes // 60:02d}:{minutes % 60:02d}"
    return f"{stamp} {utc} ({zone_name})" if zone_name else f"{stamp} {utc}"


def _finding(finding: Finding, zone: tzinfo, zone_name: str) -> dict[str, Any]:
    facts = dict(finding.facts)
    if isinstance(facts.get("at"), datetime):
        facts["at"] = when(facts["at"], zone, zone_name)
    return {"name": finding.name, "ok": finding.ok, "side": None, **facts}


def _key(args: argparse.Namespace, settings: Settings) -> Ed25519PublicKey:
    if args.key:
        return load_public_key(Path(args.key).read_bytes(), name=args.key)
    return deployment_public_key(settings)


async def verify_document(args: argparse.Namespace, settings: Settings) -> int:
    # Offline and short: no database, no network, so nothing to await.
    return check_file(args, settings)


def check_file(args: argparse.Namespace, settings: Settings) -> int:
    """Check ``args.file`` and print the report; the exit status (0 passed, 1 failed, 2 unreadable)."""
    locale = reader_locale(args.lang)
    try:
        zone, zone_name = reader_zone(args.tz)
    except UnknownZone as error:
        print(f"unknown time zone {error}: give one such as Asia/Shanghai or UTC (--tz)", file=sys.stderr)
        return UNREADABLE
    try:
        content = Path(args.file).read_bytes().decode("utf-8")
    except OSError as error:
        print(f"cannot read {args.file}: {error.strerror or error}", file=sys.stderr)
        return UNREADABLE
    except UnicodeDecodeError:
        print(f"{args.file} is not a text file (UTF-8): it is not a signed agreement", file=sys.stderr)
        return UNREADABLE
    try:
        key = _key(args, settings)
    except OSError as error:
        print(f"cannot read the key file {args.key}: {error.strerror or error}", file=sys.stderr)
        return UNREADABLE
    except SigningKeyError as error:
        print(f"error: {error}", file=sys.stderr)
        return UNREADABLE
    verdict = check_document(content, key)
    context = {
        "document_file": args.file,
        "findings": [_finding(f, zone, zone_name) for f in verdict.findings],
        "passed": verdict.ok,
        "failed": len(verdict.failed()),
        "lines_below": lines_below(content) if verdict.parsed else 0,
    }
    print(Renderer().document(REPORT, context, locale, settings.timezone))
    return 0 if verdict.ok else 1


async def audit_key(args: argparse.Namespace, settings: Settings) -> int:
    signer = build_signer(settings)
    print(signer.public_pem().rstrip("\n"))
    context = {"fingerprint": grouped(signer.fingerprint)}
    print(Renderer().document("audit/key", context, reader_locale(args.lang), settings.timezone))
    return 0


def add_lang_option(command: Any) -> None:
    command.add_argument(
        "--lang", choices=LOCALES, help="the language of what is printed (default: from LANG)"
    )


def add_verify_command(commands: Any) -> None:
    check = commands.add_parser(
        "verify",
        help="check a signed agreement document offline: its text, the platform's signature, and that both"
        " confirmations are in the case log",
    )
    check.add_argument("file", help="the agreement file the bot sent (agreement-CASE-vVERSION.txt)")
    check.add_argument(
        "--key",
        metavar="PUBLIC_KEY_FILE",
        help="the platform's public key (PEM from 'loanbridge audit key', or base64); default: this"
        " deployment's",
    )
    check.add_argument("--lang", choices=LOCALES, help="the language of the report (default: from LANG)")
    check.add_argument(
        "--tz",
        metavar="ZONE",
        help="the time zone of the times shown, such as Asia/Shanghai (default: TZ, else the system's)",
    )
    check.set_defaults(run=verify_document)


def add_key_command(audit_group: Any) -> None:
    key = audit_group.add_parser(
        "key", help="print the platform's public key (PEM) and its fingerprint, for whoever checks"
    )
    add_lang_option(key)
    key.set_defaults(run=audit_key)
