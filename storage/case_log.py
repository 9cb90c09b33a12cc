"""The case log: every case event is an entry of one append-only RFC 6962 Merkle log, with signed heads.

How an event gets into the log
------------------------------
1. In the transaction that writes it, an event takes the case's next sequence number (``cases.
   last_event_seq`` + 1, counted up by a database trigger; on PostgreSQL the trigger's row lock orders
   concurrent writers of one case, and takes the row's id under that lock too, so a case's ids rise with
   its numbers: migration 0015) and the trigger queues it in ``case_log_pending``. No statement of its
   own and no hashing on the reply's path.
2. The sequencer (:func:`sequence`), run soon after commits that wrote events and by the minute job,
   takes the queue in one serialized step (PostgreSQL: a transaction-scoped advisory lock; SQLite: its
   single writer), gives each queued event the next leaf index, stores its leaf hash and the complete
   subtree hashes of the upper levels, and signs a tree head for the new size, all in one transaction.
   An autoincrement id is not commit order on PostgreSQL; the queue is, in effect: an event is placed
   only once it is committed and visible, so the leaf order never changes after the fact.

An entry is :func:`entry_bytes` of the stored event: sorted-key compact JSON of case, seq, kind, actor
account and role, channel, states, time and details. Details hold ids, codes and keyed hashes only (the
words people write live encrypted in ``case_messages``), so an exported entry reveals nothing personal.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Protocol

from sqlalchemy import Connection, delete, event, insert, or_, select, text
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapper, object_session

from storage import merkle, models

log = logging.getLogger(__name__)

# Subtrees of 2**NODE_LEVEL leaves and more are stored; smaller ones are rehashed from <= 8 leaf hashes.
NODE_LEVEL = 4
SEQUENCE_BATCH = 5000
# Advisory lock key of the sequencer on PostgreSQL ("CASELOG" in ASCII, fits a bigint).
_SEQUENCER_LOCK = 0x434153454C4F47
# Binary columns of the log that hold nothing secret (hashes, canonical entries, signatures): not encrypted.
PUBLIC_BINARY_COLUMNS = frozenset(
    {
        ("case_log_leaves", "entry"),
        ("case_log_leaves", "leaf_hash"),
        ("case_log_nodes", "hash"),
        ("case_log_heads", "root_hash"),
        ("case_log_heads", "signature"),
    }
)


# Entries


def moment(at: datetime) -> str:
    """The entry's time: UTC to the microsecond, one spelling on every database."""
    return at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def entry_bytes(
    *,
    case_id: int,
    seq: int,
    kind: str,
    at: datetime | str,
    actor_account_id: int | None,
    actor_role: str | None,
    actor_channel: str,
    from_state: str | None,
    to_state: str | None,
    details: Mapping[str, Any],
) -> bytes:
    """The canonical encoding of one stored event: what its leaf hash covers (``at`` as a datetime, or
    already spelled as :func:`moment` spells it). Sorted-key compact JSON, UTF-8::

        {"actor":7,"at":"2026-12-01T10:00:00.000000Z","case":42,"channel":"telegram","details":{…},
         "from":"negotiating","kind":"transition","role":"borrower","seq":5,"to":"agreed"}

    Written out field by field (the keys' sorted order is fixed) rather than through a dict: audit verify
    encodes a million entries, and this is twice as fast; :func:`canonical_json` of the same dict is
    byte-for-byte equal (a test holds the two together)."""
    when = at if isinstance(at, str) else moment(at)
    return (
        f'{{"actor":{_scalar(actor_account_id)},"at":{_text(when)},"case":{_scalar(case_id)},'
        f'"channel":{_text(actor_channel)},"details":{_CANONICAL.encode(details)},'
        f'"from":{_scalar(from_state)},"kind":{_text(kind)},"role":{_scalar(actor_role)},'
        f'"seq":{_scalar(seq)},"to":{_scalar(to_state)}}}'
    ).encode()


def canonical_json(value: Any) -> bytes:
    """Sorted-key compact JSON, UTF-8 (not ASCII-escaped): the encoding of entries."""
    return _CANONICAL.encode(value).encode()


_CANONICAL = json.JSONEncoder(sort_keys=True, separators=(",", ":"), ensure_ascii=False)
_text = json.encoder.encode_basestring  # a JSON string, not ASCII-escaped, as _CANONICAL writes it


def _scalar(value: str | int | None) -> str:
    if value is None:
        return "null"
    if type(value) is int:
        return int.__repr__(value)  # as the json module writes an int
    return _text(value) if isinstance(value, str) else _CANONICAL.encode(value)


def row_entry(row: Any) -> bytes:
    """:func:`entry_bytes` of a ``case_events`` row (ORM object or Core row with the same names)."""
    return entry_bytes(
        case_id=row.case_id,
        seq=row.seq,
        kind=row.kind,
        at=row.at,
        actor_account_id=row.actor_account_id,
        actor_role=row.actor_role,
        actor_channel=row.actor_channel,
        from_state=row.from_state,
        to_state=row.to_state,
        details=row.details,
    )


# Sequence numbers and the queue, in the writing transaction


@event.listens_for(models.CaseEvent, "before_insert")
def _number_event(_mapper: Mapper[Any], _connection: Connection, target: models.CaseEvent) -> None:
    # The case's next number, inside the INSERT itself (no statement of its own on the reply's path).
    # SQLite has one writer at a time, so this is the number; on PostgreSQL a trigger numbers the row
    # again under the case row's lock (migration 0013). A trigger also queues the event for the sequencer.
    # The ORM leaves seq unloaded after the INSERT: read events back with a query (as cases.events does).
    cases = models.Case
    target.seq = select(cases.last_event_seq + 1).where(cases.id == target.case_id).scalar_subquery()
    session = object_session(target)
    if session is not None:
        session.info[_WROTE] = True


_WROTE = "case_log_wrote"


def wrote_events(session: AsyncSession) -> bool:
    """Whether this unit of work queued events (and so the sequencer has work once it commits)."""
    return bool(session.info.pop(_WROTE, False))


# Signed tree heads


class HeadSigner(Protocol):
    """Signs (size, root, time) with the platform key; see storage.signing."""

    @property
    def fingerprint(self) -> str: ...

    def sign_head(self, size: int, root: bytes, at: datetime) -> bytes: ...


@dataclass(frozen=True)
class Head:
    size: int
    root: bytes
    at: datetime
    signature: bytes
    key_fingerprint: str


def to_head(row: Any) -> Head:
    return Head(row.tree_size, bytes(row.root_hash), row.signed_at, bytes(row.signature), row.key_fingerprint)


async def latest_head(session: AsyncSession) -> Head | None:
    heads = models.SignedTreeHead
    row = await session.scalar(select(heads).order_by(heads.tree_size.desc()).limit(1))
    return None if row is None else to_head(row)


class Frontier:
    """The perfect subtrees covering the log so far (a compact range), reporting each completed subtree
    of NODE_LEVEL leaves or more so it can be stored."""

    def __init__(self, size: int, hashes: list[bytes]) -> None:
        self.size = size
        self._hashes = hashes  # largest (leftmost) first, one per set bit of size
        self.completed: list[tuple[int, int, bytes]] = []  # (level, position, hash)

    def append(self, leaf: bytes) -> None:
        self._hashes.append(leaf)
        size, level = self.size, 0
        while size & 1:
            right = self._hashes.pop()
            self._hashes[-1] = merkle.node_hash(self._hashes[-1], right)
            size >>= 1
            level += 1
            if level >= NODE_LEVEL:
                self.completed.append((level, self.size >> level, self._hashes[-1]))
        self.size += 1

    def root(self) -> bytes:
        if not self._hashes:
            return merkle.EMPTY_ROOT
        result = self._hashes[-1]
        for left in reversed(self._hashes[:-1]):
            result = merkle.node_hash(left, result)
        return result


def perfect_parts(start: int, end: int) -> list[tuple[int, int]]:
    """[start, end) as complete subtrees (level, position), largest first: how the RFC's recursion splits
    a range that starts on a multiple of its power-of-two ceiling (every range a proof visits does)."""
    parts: list[tuple[int, int]] = []
    position, remaining = start, end - start
    while remaining:
        level = remaining.bit_length() - 1
        parts.append((level, position >> level))
        position += 1 << level
        remaining -= 1 << level
    return parts


async def subtree_hashes(
    session: AsyncSession, wanted: Iterable[tuple[int, int]]
) -> dict[tuple[int, int], bytes]:
    """The hash of each complete subtree asked for: stored upper nodes, or rehashed from leaf hashes."""
    wanted = set(wanted)
    found: dict[tuple[int, int], bytes] = {}
    nodes = models.CaseLogNode
    by_level: dict[int, list[int]] = {}
    for level, position in wanted:
        if level >= NODE_LEVEL:
            by_level.setdefault(level, []).append(position)
    for level, positions in by_level.items():
        for chunk in _chunks(positions, 500):
            query = select(nodes.position, nodes.hash).where(nodes.level == level, nodes.position.in_(chunk))
            for position, digest in await session.execute(query):
                found[(level, position)] = bytes(digest)
    lower = [(level, position) for level, position in wanted if level < NODE_LEVEL]
    spans = [(position << level, (position + 1) << level) for level, position in lower]
    leaves = await leaf_hashes_in(session, spans)
    for part, (start, end) in zip(lower, spans, strict=True):
        if all(i in leaves for i in range(start, end)):
            found[part] = merkle.root(leaves[i] for i in range(start, end))
    missing = wanted - found.keys()
    if missing:
        raise LookupError(f"the log has no stored hash for subtrees {sorted(missing)[:5]}")
    return found


async def leaf_hashes_in(session: AsyncSession, spans: Sequence[tuple[int, int]]) -> dict[int, bytes]:
    """Stored leaf hashes of the leaves in the given [start, end) spans."""
    leaves = models.CaseLogLeaf
    found: dict[int, bytes] = {}
    for chunk in _chunks(list(spans), 50):
        within = or_(*(leaves.leaf_index.between(start, end - 1) for start, end in chunk))
        for index, digest in await session.execute(select(leaves.leaf_index, leaves.leaf_hash).where(within)):
            found[index] = bytes(digest)
    return found


def _chunks(items: list[Any], size: int) -> Iterable[list[Any]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def range_hash(parts: list[tuple[int, int]], hashes: Mapping[tuple[int, int], bytes]) -> bytes:
    result = hashes[parts[-1]]
    for part in reversed(parts[:-1]):
        result = merkle.node_hash(hashes[part], result)
    return result


async def frontier_of(session: AsyncSession, size: int) -> Frontier:
    parts = perfect_parts(0, size)
    hashes = await subtree_hashes(session, parts)
    return Frontier(size, [hashes[part] for part in parts])


async def sequence(session: AsyncSession, signer: HeadSigner, now: datetime) -> Head | None:
    """Place queued events in the log and sign the new head; None when the queue was empty. The caller's
    transaction commits leaves, nodes, head and the emptied queue together, or none of them."""
    await _lock_sequencer(session)
    head = await latest_head(session)
    size = head.size if head else 0
    events, pending = models.CaseEvent.__table__, models.CaseLogPending.__table__
    query = (
        select(events)
        .join(pending, pending.c.event_id == events.c.id)
        .order_by(events.c.id)
        .limit(SEQUENCE_BATCH)
    )
    rows = (await session.execute(query)).all()
    if not rows:
        return None
    frontier = await frontier_of(session, size)
    leaves: list[dict[str, Any]] = []
    for row in rows:
        entry = row_entry(row)
        digest = merkle.leaf_hash(entry)
        leaves.append(
            {
                "leaf_index": frontier.size,
                "event_id": row.id,
                "case_id": row.case_id,
                "seq": row.seq,
                "entry": entry,
                "leaf_hash": digest,
            }
        )
        frontier.append(digest)
    await session.execute(insert(models.CaseLogLeaf), leaves)
    if frontier.completed:
        nodes = [{"level": lv, "position": p, "hash": h} for lv, p, h in frontier.completed]
        await session.execute(insert(models.CaseLogNode), nodes)
    queued = models.CaseLogPending.event_id
    await session.execute(delete(models.CaseLogPending).where(queued.in_([row.id for row in rows])))
    return await _sign(session, signer, frontier.size, frontier.root(), now)


async def _sign(session: AsyncSession, signer: HeadSigner, size: int, root: bytes, now: datetime) -> Head:
    head = Head(size, root, now, signer.sign_head(size, root, now), signer.fingerprint)
    session.add(
        models.SignedTreeHead(
            tree_size=size,
            root_hash=root,
            signed_at=now,
            signature=head.signature,
            key_fingerprint=head.key_fingerprint,
        )
    )
    await session.flush()
    return head


async def _lock_sequencer(session: AsyncSession) -> None:
    # SQLite: every unit of work began with BEGIN IMMEDIATE, so this transaction already is the only writer.
    if session.get_bind().dialect.name == "postgresql":
        await session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _SEQUENCER_LOCK})


# Proofs


def inclusion_ranges(index: int, size: int) -> list[tuple[int, int]]:
    """RFC 9162 §2.1.3.1 PATH(index, D[0:size]) as the leaf ranges whose hashes it lists, leaf side first."""
    ranges: list[tuple[int, int]] = []
    start, end = 0, size
    while end - start > 1:
        k = 1 << ((end - start - 1).bit_length() - 1)
        if index < start + k:
            ranges.append((start + k, end))
            end = start + k
        else:
            ranges.append((start, start + k))
            start += k
    ranges.reverse()
    return ranges


def consistency_ranges(old_size: int, new_size: int) -> list[tuple[int, int]]:
    """RFC 9162 §2.1.4.1 PROOF(old_size, D[0:new_size]) as leaf ranges, in the proof's order."""
    if old_size in (0, new_size):
        return []
    ranges: list[tuple[int, int]] = []
    start, end, m, known = 0, new_size, old_size, True
    while m != end - start:
        k = 1 << ((end - start - 1).bit_length() - 1)
        if m <= k:
            ranges.append((start + k, end))
            end = start + k
        else:
            ranges.append((start, start + k))
            start, m, known = start + k, m - k, False
    if not known:
        ranges.append((start, end))
    ranges.reverse()
    return ranges


async def hashes_of_ranges(session: AsyncSession, ranges: Sequence[tuple[int, int]]) -> list[bytes]:
    split = [perfect_parts(start, end) for start, end in ranges]
    hashes = await subtree_hashes(session, [part for parts in split for part in parts])
    return [range_hash(parts, hashes) for parts in split]


async def inclusion_proof(session: AsyncSession, index: int, size: int) -> list[bytes]:
    return await hashes_of_ranges(session, inclusion_ranges(index, size))


async def consistency_proof(session: AsyncSession, old_size: int, new_size: int) -> list[bytes]:
    return await hashes_of_ranges(session, consistency_ranges(old_size, new_size))


@dataclass(frozen=True)
class LoggedEvent:
    """One case event as the log holds it, with the proof that it is in the tree of ``head``."""

    index: int
    seq: int
    entry: bytes
    proof: list[bytes]
    head: Head


async def case_entries(session: AsyncSession, case_id: int, head: Head | None = None) -> list[LoggedEvent]:
    """The case's logged events with inclusion proofs against ``head`` (the latest by default); events not
    yet sequenced, or newer than the head, are left out."""
    head = head or await latest_head(session)
    if head is None:
        return []
    leaves = models.CaseLogLeaf
    query = (
        select(leaves.leaf_index, leaves.seq, leaves.entry)
        .where(leaves.case_id == case_id, leaves.leaf_index < head.size)
        .order_by(leaves.leaf_index)
    )
    rows = (await session.execute(query)).all()
    split = [[perfect_parts(s, e) for s, e in inclusion_ranges(row.leaf_index, head.size)] for row in rows]
    hashes = await subtree_hashes(session, [p for path in split for parts in path for p in parts])
    return [
        LoggedEvent(
            row.leaf_index, row.seq, bytes(row.entry), [range_hash(parts, hashes) for parts in path], head
        )
        for row, path in zip(rows, split, strict=True)
    ]


class Sequencing:
    """Runs the sequencer soon after commits that wrote events, coalescing a burst into one run."""

    def __init__(self, run: Callable[[], Any], delay: float) -> None:
        self._run = run
        self._delay = delay
        self._task: asyncio.Task[None] | None = None
        self._again = False  # a commit arrived while a run was under way: it may have missed its events

    def soon(self) -> None:
        if self._task is None or self._task.done():
            self._task = asyncio.get_running_loop().create_task(self._later())
        else:
            self._again = True

    async def _later(self) -> None:
        again = True
        while again:
            self._again = False
            await asyncio.sleep(self._delay)
            try:
                await self._run()
            except Exception:  # the minute job runs the sequencer again; the queue keeps every event
                log.exception("sequencing the case log failed; the minute job will try again")
                return
            again = self._again

    async def stop(self) -> None:
        if self._task is not None and not self._task.done():
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
