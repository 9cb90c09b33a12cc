"""The signed agreement document: the agreement text, then a block the platform signs, checkable offline.

A signed document is ``signed_document(text, block)``: the binding agreement text, a blank line, and the
block. Anything above the text (a translation for reading) and below the block (who confirmed it and
when, in words, as the unsigned copy says it) is outside what is checked: :func:`lines_below` counts the
latter, so that ``loanbridge verify`` can say so::

    <the agreement text, exactly the text both sides confirmed and whose SHA-256 is stored>

    -----BEGIN LOANBRIDGE SIGNATURE-----
    format: loanbridge-signed-agreement/1
    case: 42
    version: 2
    text-sha256: <hex SHA-256 of the UTF-8 text, as the agreement row stores it>
    text-bytes: <length of the UTF-8 text; the text is that many bytes right above the blank line>
    borrower-confirmed-at: 2026-12-01T10:00:00.000000Z
    borrower-log-index: 130
    borrower-log-entry: <standard base64 of the canonical log entry of the borrower's confirmation>
    borrower-proof: <base64 hash>          (one line per hash of the inclusion proof, leaf side first)
    lender-confirmed-at: ...
    lender-log-index: ...
    lender-log-entry: ...
    lender-proof: ...
    log-size: 200
    log-root: <base64 root hash of the log at that size>
    log-time: 2026-12-01T10:05:00.000000Z
    log-signature: <base64 Ed25519 signature of the tree head (storage.signing.TreeHead)>
    key-fingerprint: 1a2b 3c4d ... (SHA-256 of the platform's public key, in groups of four)
    signature: <base64 Ed25519 signature of every line above it, from "format:">
    -----END LOANBRIDGE SIGNATURE-----

The signature covers ``SIGNED_TAG`` + each line from ``format:`` to ``key-fingerprint:`` + a line break,
so the text (through its hash and length), the confirmations, their log positions, entries and proofs,
and the tree head are all under one signature. Line endings are read as LF (a file saved with CRLF on
Windows still checks) and a UTF-8 byte-order mark is ignored.

API
---
``Confirmation(side, at, index, entry, proof)``   one side's confirming log entry (side: "borrower" or
                                                  "lender"; entry: the canonical bytes; proof: hashes).
``seal_block(text, *, case_id, version, confirmations, head, head_signature, signer) -> str``
``signed_document(text, block) -> str``          text + blank line + block (+ final line break).
``parse_document(content) -> ParsedDocument``     raises ``DocumentError(problem, line)`` if there is no
                                                  block, more than one, or a line that does not belong.
``lines_below(content) -> int``                  the non-blank lines after the block (for reading only).
``check_document(content, public_key) -> Verdict``  every check, each a ``Finding(name, ok, facts)``;
    names in order: ``block``, ``key``, ``signature``, ``text``, ``head``, then for each side
    ``entry`` and ``included`` (facts carry ``side``). ``Verdict.ok`` only if every finding is ok.
The log entries are read as ``storage.case_log`` writes them: JSON with ``case``, ``kind``
(``agreement_confirmed``), ``role``, ``at`` and ``details.version``.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from storage import merkle
from storage.signing import (
    SIGNATURE_BYTES,
    Signer,
    TreeHead,
    fingerprint,
    grouped,
    moment,
    parse_moment,
    verify_head,
    verify_signature,
)

BEGIN = "-----BEGIN LOANBRIDGE SIGNATURE-----"
END = "-----END LOANBRIDGE SIGNATURE-----"
FORMAT = "loanbridge-signed-agreement/1"
SIGNED_TAG = b"LoanBridge signed agreement v1\n"
SEPARATOR = "\n\n"
SIDES = ("borrower", "lender")
CONFIRMED_KIND = "agreement_confirmed"

_SINGLE = (
    "format",
    "case",
    "version",
    "text-sha256",
    "text-bytes",
    *(f"{side}-{name}" for side in SIDES for name in ("confirmed-at", "log-index", "log-entry")),
    "log-size",
    "log-root",
    "log-time",
    "log-signature",
    "key-fingerprint",
    "signature",
)
_REPEATED = tuple(f"{side}-proof" for side in SIDES)


class DocumentError(ValueError):
    """The file has no readable signature block. ``problem``: missing, several, unfinished, line,
    repeated, absent or value; ``line`` the offending line or field name, if any."""

    def __init__(self, problem: str, line: str = "") -> None:
        super().__init__(f"{problem}: {line}" if line else problem)
        self.problem = problem
        self.line = line


@dataclass(frozen=True)
class Confirmation:
    side: str
    at: datetime
    index: int
    entry: bytes
    proof: Sequence[bytes]


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _unb64(text: str, name: str) -> bytes:
    try:
        return base64.b64decode(text.encode("ascii"), validate=True)
    except (binascii.Error, UnicodeEncodeError, ValueError):
        raise DocumentError("value", name) from None


def _signed_message(lines: Sequence[str]) -> bytes:
    return SIGNED_TAG + "".join(line + "\n" for line in lines).encode("utf-8")


def seal_block(
    text: str,
    *,
    case_id: int,
    version: int,
    confirmations: Sequence[Confirmation],
    head: TreeHead,
    head_signature: bytes,
    signer: Signer,
) -> str:
    """The signed block for ``text`` (placed below it by :func:`signed_document`)."""
    if text != text.rstrip("\n") or "\r" in text:
        # The text is found as the bytes right above the blank line: it cannot end with line breaks of
        # its own, and carriage returns would not survive the LF reading of the file.
        raise ValueError("the agreement text must not end with a line break nor hold carriage returns")
    by_side = {c.side: c for c in confirmations}
    if sorted(by_side) != sorted(SIDES) or len(confirmations) != len(SIDES):
        raise ValueError("a signed agreement carries exactly one confirmation of each side")
    encoded = text.encode("utf-8")
    lines = [
        f"format: {FORMAT}",
        f"case: {case_id}",
        f"version: {version}",
        f"text-sha256: {hashlib.sha256(encoded).hexdigest()}",
        f"text-bytes: {len(encoded)}",
    ]
    for side in SIDES:
        made = by_side[side]
        lines += [
            f"{side}-confirmed-at: {moment(made.at)}",
            f"{side}-log-index: {made.index}",
            f"{side}-log-entry: {_b64(made.entry)}",
            *(f"{side}-proof: {_b64(node)}" for node in made.proof),
        ]
    lines += [
        f"log-size: {head.size}",
        f"log-root: {_b64(head.root)}",
        f"log-time: {moment(head.at)}",
        f"log-signature: {_b64(head_signature)}",
        f"key-fingerprint: {grouped(signer.fingerprint)}",
    ]
    signature = signer.sign(_signed_message(lines))
    return "\n".join([BEGIN, *lines, f"signature: {_b64(signature)}", END])


def signed_document(text: str, block: str) -> str:
    return text + SEPARATOR + block + "\n"


@dataclass(frozen=True)
class ParsedDocument:
    """What the block states, and the bytes where the text should be (``text-bytes`` above the block)."""

    fields: dict[str, str]
    proofs: dict[str, list[str]]
    signed_lines: list[str]
    text: bytes

    def value(self, name: str) -> str:
        return self.fields[name]

    def number(self, name: str) -> int:
        text = self.fields[name]
        if not text.isdigit():
            raise DocumentError("value", name)
        return int(text)


def _normalised(content: str) -> str:
    return content.removeprefix("\ufeff").replace("\r\n", "\n").replace("\r", "\n")


def parse_document(content: str) -> ParsedDocument:
    """Find and read the block; DocumentError if the file has none or it is not well formed."""
    lines = _normalised(content).split("\n")
    start, body = _block(lines)
    fields, proofs, signed = _read_fields(body)
    absent = [name for name in _SINGLE if name not in fields]
    if absent:
        raise DocumentError("absent", absent[0])
    if fields["format"] != FORMAT:
        raise DocumentError("value", "format")
    if not fields["text-bytes"].isdigit():
        raise DocumentError("value", "text-bytes")
    size = int(fields["text-bytes"])
    above = "\n".join(lines[:start]).rstrip("\n").encode("utf-8")
    return ParsedDocument(fields, proofs, signed, above[-size:] if size else b"")


def lines_below(content: str) -> int:
    """How many non-blank lines follow the block's end line (0 without a block): reading matter."""
    lines = _normalised(content).split("\n")
    ends = [i for i, line in enumerate(lines) if line.strip() == END]
    return sum(1 for line in lines[ends[-1] + 1 :] if line.strip()) if ends else 0


def _block(lines: list[str]) -> tuple[int, list[str]]:
    """Where the one block begins, and its lines between BEGIN and END."""
    begins = [i for i, line in enumerate(lines) if line.strip() == BEGIN]
    if not begins:
        raise DocumentError("missing")
    if len(begins) > 1:
        raise DocumentError("several")
    start = begins[0]
    ends = [i for i in range(start + 1, len(lines)) if lines[i].strip() == END]
    if not ends:
        raise DocumentError("unfinished")
    return start, lines[start + 1 : ends[0]]


def _read_fields(body: list[str]) -> tuple[dict[str, str], dict[str, list[str]], list[str]]:
    """The block's fields, its proof lines, and the lines the signature covers (all before it)."""
    fields: dict[str, str] = {}
    proofs: dict[str, list[str]] = {name: [] for name in _REPEATED}
    signed: list[str] = []
    for position, line in enumerate(body):
        name, colon, value = line.partition(": ")
        if not colon or (name not in _SINGLE and name not in _REPEATED) or value != value.strip():
            raise DocumentError("line", line)
        if name in _REPEATED:
            proofs[name].append(value)
        elif name in fields:
            raise DocumentError("repeated", name)
        else:
            fields[name] = value
        if name != "signature":
            signed.append(line)
        elif position != len(body) - 1:
            raise DocumentError("line", body[position + 1])  # nothing may follow the signature
    return fields, proofs, signed


@dataclass(frozen=True)
class Finding:
    name: str
    ok: bool
    facts: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Verdict:
    findings: list[Finding]
    parsed: ParsedDocument | None = None

    @property
    def ok(self) -> bool:
        return bool(self.findings) and all(f.ok for f in self.findings)

    def failed(self) -> list[str]:
        return [f.name for f in self.findings if not f.ok]


def check_document(content: str, key: Ed25519PublicKey) -> Verdict:
    """Every check a reader needs, against ``key``; failures are findings, never exceptions."""
    try:
        parsed = parse_document(content)
        findings = _findings(parsed, key)
    except DocumentError as error:
        return Verdict([Finding("block", False, {"problem": error.problem, "line": error.line})])
    return Verdict(findings, parsed)


def _findings(parsed: ParsedDocument, key: Ed25519PublicKey) -> list[Finding]:
    case_id, version = parsed.number("case"), parsed.number("version")
    head = _head(parsed)
    head_signature = _unb64(parsed.value("log-signature"), "log-signature")
    stated = parsed.value("key-fingerprint").replace(" ", "").lower()
    actual = fingerprint(key)
    confirmations = [_confirmation_findings(parsed, side, case_id, version, head) for side in SIDES]
    return [
        Finding("block", True, {"case": case_id, "version": version}),
        Finding("key", stated == actual, {"stated": grouped(stated), "given": grouped(actual)}),
        Finding("signature", _signature_valid(parsed, key)),
        _text_finding(parsed),
        Finding(
            "head",
            verify_head(key, head, head_signature),
            {"size": head.size, "at": head.at, "root": parsed.value("log-root")},
        ),
        *(finding for pair in confirmations for finding in pair),
    ]


def _head(parsed: ParsedDocument) -> TreeHead:
    root = _unb64(parsed.value("log-root"), "log-root")
    if len(root) != merkle.HASH_SIZE:
        raise DocumentError("value", "log-root")
    try:
        at = parse_moment(parsed.value("log-time"))
    except ValueError:
        raise DocumentError("value", "log-time") from None
    return TreeHead(parsed.number("log-size"), root, at)


def _signature_valid(parsed: ParsedDocument, key: Ed25519PublicKey) -> bool:
    signature = _unb64(parsed.value("signature"), "signature")
    return len(signature) == SIGNATURE_BYTES and verify_signature(
        key, signature, _signed_message(parsed.signed_lines)
    )


def _text_finding(parsed: ParsedDocument) -> Finding:
    stated = parsed.value("text-sha256").lower()
    size = parsed.number("text-bytes")
    found = hashlib.sha256(parsed.text).hexdigest()
    ok = len(parsed.text) == size and found == stated
    return Finding("text", ok, {"bytes": size, "hash": stated})


def _confirmation_findings(
    parsed: ParsedDocument, side: str, case_id: int, version: int, head: TreeHead
) -> list[Finding]:
    try:
        at = parse_moment(parsed.value(f"{side}-confirmed-at"))
    except ValueError:
        raise DocumentError("value", f"{side}-confirmed-at") from None
    index = parsed.number(f"{side}-log-index")
    entry = _unb64(parsed.value(f"{side}-log-entry"), f"{side}-log-entry")
    proof = [_unb64(node, f"{side}-proof") for node in parsed.proofs[f"{side}-proof"]]
    facts = {"side": side, "at": at, "index": index, "size": head.size}
    matches = _entry_confirms(entry, side=side, case_id=case_id, version=version, at=at)
    included = merkle.verify_inclusion(merkle.leaf_hash(entry), index, head.size, proof, head.root)
    return [Finding("entry", matches, facts), Finding("included", included, facts)]


def _entry_confirms(entry: bytes, *, side: str, case_id: int, version: int, at: datetime) -> bool:
    """Does the log entry record this side confirming this version of this case at this time?"""
    try:
        data = json.loads(entry)
    except (ValueError, UnicodeDecodeError):
        return False
    if not isinstance(data, dict) or not isinstance(data.get("details"), dict):
        return False
    return (
        data.get("case") == case_id
        and data.get("kind") == CONFIRMED_KIND
        and data.get("role") == side
        and data["details"].get("version") == version
        and data.get("at") == moment(at)
    )
