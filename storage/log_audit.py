"""``loanbridge audit verify``: recompute the case log from the stored events and check every signed head.

One pass over the log in leaf order, a page of rows at a time (never the whole log in memory): each
event is encoded again (:func:`storage.case_log.row_entry`) and hashed; the hashes feed a compact range
whose root, whenever the tree reaches a head's size, must be that head's signed root. Every head's
signature is checked with the platform's public key, and each head is proved consistent with the next
(RFC 6962 consistency proofs from the log's stored subtree hashes, checked as any outside monitor would).

What it names: an event edited (any stored field: time, details, kind…), removed, swapped with another,
or written to ``case_events`` behind the log's back, each by its case and sequence number; a head whose
root or signature is wrong; two heads that are not consistent.
"""

from __future__ import annotations

import asyncio
import itertools
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from sqlalchemy import exists, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from storage import merkle, models
from storage.case_log import Head, consistency_proof, entry_bytes, moment, to_head
from storage.signing import TreeHead, fingerprint, verify_head

PAGE = 20_000
# Every Finding.problem this module reports (each has its words in templates/<locale>/audit/report.j2).
PROBLEMS = frozenset(
    {
        "head_key",
        "head_signature",
        "positions_missing",
        "heads_unmatched",
        "head_beyond",
        "heads_inconsistent",
        "copy_altered",
        "removed",
        "missing_with_place",
        "missing_everywhere",
        "outside",
        "swapped",
        "changed",
    }
)


@dataclass(frozen=True)
class Finding:
    """One thing wrong: ``problem`` names it (the report's words are templates/<locale>/audit/report.j2)
    and ``facts`` holds its figures; case and seq when it is about an event. Problems: ``head_key``
    (size, key), ``head_signature`` (size, at), ``positions_missing`` (first, last), ``heads_unmatched``
    (size, at, later), ``head_beyond`` (size), ``heads_inconsistent`` (old, new), and for an event:
    ``copy_altered``, ``removed``, ``missing_with_place``, ``missing_everywhere``, ``outside``,
    ``swapped`` (other_case, other_seq), ``changed`` (fields: the entry's names, such as ``at``)."""

    problem: str
    facts: dict[str, Any] = field(default_factory=dict)
    case_id: int | None = None
    seq: int | None = None

    def __str__(self) -> str:  # for logs and test messages; people read the report's template
        where = f"case {self.case_id} event #{self.seq}: " if self.case_id is not None else ""
        return f"{where}{self.problem} {self.facts}"


@dataclass
class AuditReport:
    entries: int = 0
    heads: int = 0
    latest: Head | None = None
    findings: list[Finding] = field(default_factory=list)
    logged_seq: dict[int, int] = field(default_factory=dict)  # each case's highest logged seq

    @property
    def ok(self) -> bool:
        return not self.findings


@dataclass
class _Changed:
    case_id: int
    seq: int
    logged: bytes  # the entry the log holds
    now: bytes  # the entry of the event as stored now


async def audit(
    session: AsyncSession, key: Ed25519PublicKey, progress: Callable[[int], None] | None = None
) -> AuditReport:
    report = AuditReport()
    heads = await _heads(session)
    report.heads = len(heads)
    report.latest = heads[-1] if heads else None
    _check_signatures(heads, key, report)
    changed = await _recompute(session, heads, report, progress)
    _name_swaps(changed, report)
    await _check_tails(session, report)
    await _check_outside(session, report)
    await _check_consistency(session, heads, report)
    return report


async def _heads(session: AsyncSession) -> list[Head]:
    table = models.SignedTreeHead
    return [to_head(row) for row in await session.scalars(select(table).order_by(table.tree_size))]


def _check_signatures(heads: list[Head], key: Ed25519PublicKey, report: AuditReport) -> None:
    ours = fingerprint(key)
    for head in heads:
        if head.key_fingerprint != ours:
            report.findings.append(Finding("head_key", {"size": head.size, "key": head.key_fingerprint[:16]}))
        if not verify_head(key, TreeHead(head.size, head.root, head.at), head.signature):
            report.findings.append(Finding("head_signature", {"size": head.size, "at": moment(head.at)}))


async def _recompute(
    session: AsyncSession, heads: list[Head], report: AuditReport, progress: Callable[[int], None] | None
) -> list[_Changed]:
    """The pass over the log: every entry rehashed, every head's root compared when the tree reaches it."""
    # Plain SQL on purpose: its rows come back as the driver gives them (SQLite's time as text, details as
    # JSON text), with no per-value type processing, which would cost more than all the hashing.
    query = text(
        "SELECT l.leaf_index, l.case_id AS logged_case, l.seq AS logged_seq, l.entry AS logged_entry, "
        "l.leaf_hash, e.id, e.case_id, e.seq, e.kind, e.at, e.actor_account_id, e.actor_role, "
        "e.actor_channel, e.from_state, e.to_state, e.details "
        "FROM case_log_leaves AS l LEFT OUTER JOIN case_events AS e ON e.id = l.event_id "
        "WHERE l.leaf_index > :after ORDER BY l.leaf_index LIMIT :page"
    )
    tree = merkle.CompactRange()
    waiting = iter(heads)
    head = next(waiting, None)
    changed: list[_Changed] = []
    unmatched: list[Head] = []
    after = -1

    async def page(after: int) -> Sequence[Any]:
        return (await session.execute(query, {"after": after, "page": PAGE})).all()

    upcoming = asyncio.ensure_future(page(after))
    while True:
        rows = await upcoming
        if len(rows) == PAGE:  # the database reads the next page while this one is hashed
            upcoming = asyncio.ensure_future(page(rows[-1].leaf_index))
            await asyncio.sleep(0)  # let it start: its query then runs in the driver's thread meanwhile
        for row in rows:
            if row.leaf_index != after + 1:
                missing = {"first": after + 1, "last": row.leaf_index - 1}
                report.findings.append(Finding("positions_missing", missing))
            after = row.leaf_index
            tree.append(_entry_hash(row, report, changed))
            _check_numbering(row, report)
            while head is not None and head.size == tree.size:
                if tree.root() != head.root:
                    unmatched.append(head)
                head = next(waiting, None)
        if progress is not None:
            progress(tree.size)
        if len(rows) < PAGE:
            break
    report.entries = tree.size
    if unmatched:
        first, later = unmatched[0], len(unmatched) - 1
        facts = {"size": first.size, "at": moment(first.at), "later": later}
        report.findings.append(Finding("heads_unmatched", facts))
    while head is not None:
        report.findings.append(Finding("head_beyond", {"size": head.size}))
        head = next(waiting, None)
    return changed


def _stored_entry(row: Any) -> bytes:
    """:func:`storage.case_log.row_entry` of a raw row: the same bytes, from the driver's own values."""
    details = json.loads(row.details) if isinstance(row.details, str | bytes) else row.details
    return entry_bytes(
        case_id=row.case_id,
        seq=row.seq,
        kind=row.kind,
        at=_moment_of(row.at),
        actor_account_id=row.actor_account_id,
        actor_role=row.actor_role,
        actor_channel=row.actor_channel,
        from_state=row.from_state,
        to_state=row.to_state,
        details=details,
    )


def _moment_of(value: datetime | str) -> str:
    """The entry's time from what the driver returned: PostgreSQL's aware datetime, or SQLite's text
    (naive UTC, ``YYYY-MM-DD HH:MM:SS.ffffff`` as storage.types keeps it)."""
    if isinstance(value, datetime):
        return moment(value)
    if len(value) == _SQLITE_MOMENT and value[10] == " ":
        return f"{value[:10]}T{value[11:]}Z"
    return moment(datetime.fromisoformat(value).replace(tzinfo=UTC))


_SQLITE_MOMENT = len("2026-01-01 00:00:00.000000")


def _entry_hash(row: Any, report: AuditReport, changed: list[_Changed]) -> bytes:
    """The leaf hash of the event as stored now (the logged copy's when the event is gone); the log's
    own copy of the entry must still hash to its stored leaf hash."""
    logged = bytes(row.logged_entry)
    entry = logged if row.id is None else _stored_entry(row)
    digest = merkle.leaf_hash(entry)
    logged_digest = digest if entry == logged else merkle.leaf_hash(logged)  # one hash when nothing changed
    if logged_digest != bytes(row.leaf_hash):
        report.findings.append(Finding("copy_altered", {}, row.logged_case, row.logged_seq))
    if row.id is None:
        report.findings.append(Finding("removed", {}, row.logged_case, row.logged_seq))
    elif entry != logged:
        changed.append(_Changed(row.logged_case, row.logged_seq, logged, entry))
    return digest


def _check_numbering(row: Any, report: AuditReport) -> None:
    """A case's events are logged 1, 2, 3…: a gap is an event whose log entry was removed as well."""
    case_id, seq, last_seq = row.logged_case, row.logged_seq, report.logged_seq
    expected = last_seq.get(case_id, 0) + 1
    for missing in range(expected, seq):
        report.findings.append(Finding("missing_with_place", {}, case_id, missing))
    last_seq[case_id] = max(seq, last_seq.get(case_id, 0))


def _name_swaps(changed: list[_Changed], report: AuditReport) -> None:
    """Say what changed in each event; one that now holds another logged event's contents was swapped
    or reordered, not edited."""
    logged_as = {_without_seq(item.logged): item for item in changed}
    for item in changed:
        other = logged_as.get(_without_seq(item.now))
        if other is not None and other is not item:
            swapped = {"other_case": other.case_id, "other_seq": other.seq}
            report.findings.append(Finding("swapped", swapped, item.case_id, item.seq))
        else:
            fields = {"fields": _differences(item.logged, item.now)}
            report.findings.append(Finding("changed", fields, item.case_id, item.seq))


def _without_seq(entry: bytes) -> str:
    fields = json.loads(entry)
    fields.pop("seq", None)
    return json.dumps(fields, sort_keys=True)


def _differences(logged: bytes, now: bytes) -> list[str]:
    before, after = json.loads(logged), json.loads(now)
    names = sorted(set(before) | set(after))
    return [name for name in names if before.get(name) != after.get(name)]


async def _check_tails(session: AsyncSession, report: AuditReport) -> None:
    """A case's last events removed with their log places leave no gap in the log, but the case's own
    count of events says how many there were."""
    logged = report.logged_seq
    cases, pending, events = models.Case, models.CaseLogPending, models.CaseEvent
    waiting = select(events.case_id, events.seq).join(pending, pending.event_id == events.id)
    queued: dict[int, int] = {}
    for case_id, seq in await session.execute(waiting):
        queued[case_id] = min(seq, queued.get(case_id, seq))
    for case_id, count in await session.execute(select(cases.id, cases.last_event_seq)):
        last = queued.get(case_id, count + 1) - 1  # events from a queued one on are not logged yet
        for missing in range(logged.get(case_id, 0) + 1, last + 1):
            report.findings.append(Finding("missing_everywhere", {}, case_id, missing))


async def _check_outside(session: AsyncSession, report: AuditReport) -> None:
    """Events in the table that the log never saw (written around the store, e.g. by hand in SQL)."""
    events, leaves, pending = models.CaseEvent, models.CaseLogLeaf, models.CaseLogPending
    query = (
        select(events.case_id, events.seq)
        .where(~exists().where(leaves.event_id == events.id), ~exists().where(pending.event_id == events.id))
        .order_by(events.id)
    )
    for case_id, seq in await session.execute(query):
        report.findings.append(Finding("outside", {}, case_id, seq))


async def _check_consistency(session: AsyncSession, heads: list[Head], report: AuditReport) -> None:
    for old, new in itertools.pairwise(heads):
        try:
            proof = await consistency_proof(session, old.size, new.size)
        except LookupError:
            proof = []
        if not merkle.verify_consistency(old.size, new.size, old.root, new.root, proof):
            report.findings.append(Finding("heads_inconsistent", {"old": old.size, "new": new.size}))
