"""``loanbridge verify FILE`` and ``loanbridge audit key``: a signed agreement checked offline, by anyone.

``verify`` reads a signed agreement document (storage.signed_agreement), checks it with the platform's
public key (``--key FILE``: the PEM ``audit key`` prints, or base64; without it, the key of the
deployment configured here) and prints each check in plain words in the reader's language (``--lang``,
else LC_ALL / LC_MESSAGES / LANG). Exit status: 0 when every check passed, 1 when any failed (each failed
one is named), 2 when the file or key cannot be read. Nothing is connected to: no database, no network.

``audit key`` prints the platform's public key (PEM) and its fingerprint, to hand to whoever will check.

Wiring (bot/cli.py): ``add_verify_command(commands)`` and ``add_key_command(audit_group)`` where
``audit_group`` is what ``bot.audit.add_audit_commands`` returns.
"""

from __future__ import annotations

import argparse
import os
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

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


def _when(at: datetime) -> str:
    """Exact and unambiguous for a court: UTC to the second, as the document records it."""
    return at.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def _finding(finding: Finding) -> dict[str, Any]:
    facts = dict(finding.facts)
    if isinstance(facts.get("at"), datetime):
        facts["at"] = _when(facts["at"])
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
        "findings": [_finding(f) for f in verdict.findings],
        "passed": verdict.ok,
        "failed": len(verdict.failed()),
        "lines_below": lines_below(content) if verdict.parsed else 0,
    }
    print(Renderer().document(REPORT, context, locale, settings.timezone))
    return 0 if verdict.ok else 1


async def audit_key(_args: argparse.Namespace, settings: Settings) -> int:
    signer = build_signer(settings)
    print(signer.public_pem().rstrip("\n"))
    print(f"SHA-256 fingerprint: {grouped(signer.fingerprint)}")
    return 0


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
    check.set_defaults(run=verify_document)


def add_key_command(audit_group: Any) -> None:
    key = audit_group.add_parser(
        "key", help="print the platform's public key (PEM) and its fingerprint, for whoever checks"
    )
    key.set_defaults(run=audit_key)
