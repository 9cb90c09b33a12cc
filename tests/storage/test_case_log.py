"""The case log's storage side on SQLite and PostgreSQL: sequence numbers given in the writing transaction,
one consistent log when several processes write and sequence at once, proofs the RFC's reference tree
agrees with, and the schema the migration makes equal to the models."""

from __future__ import annotations

import asyncio
import base64
import json
import os
import sys
from pathlib import Path
from typing import Any

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import func, select, text

from dialogs.domain import Actor, Channel, Role
from storage import cases, merkle, models
from storage.case_log import entry_bytes
from storage.crypto import FieldCipher
from storage.db import create_engine
from storage.log_audit import audit
from storage.signing import Signer
from storage.store import SqlStore
from tests.conftest import TEST_SECRET, FakeClock

ROOT = Path(__file__).resolve().parents[2]
KEY = Ed25519PrivateKey.generate()
SEED = base64.urlsafe_b64encode(
    KEY.private_bytes(
        serialization.Encoding.Raw, serialization.PrivateFormat.Raw, serialization.NoEncryption()
    )
).decode()
WRITERS, EVENTS_EACH, CASES = 3, 40, 4

# One writer process: events on every case, in short transactions, sequencing now and then, as several
# serving processes would.
WRITER = """
import asyncio, sys
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from dialogs.domain import Actor, Channel, Role
from storage import cases, models
from storage.crypto import FieldCipher
from storage.db import create_engine
from storage.signing import Signer, decode_signing_key
from storage.store import SqlStore

async def main(url, seed, secret, writer, count, case_ids):
    signer = Signer(decode_signing_key(seed))
    store = SqlStore(create_engine(url), FieldCipher(secret.encode()), signer=signer)
    actor = Actor(account_id=None, role=Role.OPERATOR, channel=Channel.TERMINAL)
    for number in range(count):
        case_id = case_ids[number % len(case_ids)]
        async with store.unit() as session:
            case = await session.get(models.Case, case_id)
            details = {"writer": writer, "n": number}
            cases.append_event(session, case, "note", actor, store.clock.now(), details)
        if number % 7 == 0:
            await store.sequence_log()
    await store.sequence_log()
    await store.close()

url, seed, secret, writer, count, *ids = sys.argv[1:]
asyncio.run(main(url, seed, secret, int(writer), int(count), [int(i) for i in ids]))
"""


def make_store(database_url: str, clock: Any = None, **options: Any) -> SqlStore:
    return SqlStore(create_engine(database_url), FieldCipher(TEST_SECRET), clock=clock, **options)


async def open_cases(store: SqlStore, count: int) -> list[int]:
    account = await store.ensure_account(Channel.TERMINAL, "alice")
    actor = Actor(account_id=account.id, role=Role.BORROWER, channel=Channel.TERMINAL)
    return [(await store.open_case(account.id, None, actor)).id for _ in range(count)]


async def run_writer(database_url: str, writer: int, case_ids: list[int]) -> None:
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-c",
        WRITER,
        database_url,
        SEED,
        TEST_SECRET.decode(),
        str(writer),
        str(EVENTS_EACH),
        *map(str, case_ids),
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        stderr=asyncio.subprocess.PIPE,
    )
    _, err = await asyncio.wait_for(process.communicate(), 120)
    assert process.returncode == 0, err.decode()


async def test_several_processes_writing_and_sequencing_keep_one_consistent_log(database_url: str) -> None:
    store = make_store(database_url, signer=Signer(KEY))
    try:
        case_ids = await open_cases(store, CASES)
        await asyncio.gather(*(run_writer(database_url, w, case_ids) for w in range(WRITERS)))
        await store.sequence_log()
        async with store.unit() as session:
            events = (await session.execute(select(models.CaseEvent.case_id, models.CaseEvent.seq))).all()
            counters = dict((await session.execute(select(models.Case.id, models.Case.last_event_seq))).all())
            leaves = (
                await session.execute(
                    select(
                        models.CaseLogLeaf.leaf_index,
                        models.CaseLogLeaf.event_id,
                        models.CaseLogLeaf.leaf_hash,
                    ).order_by(models.CaseLogLeaf.leaf_index)
                )
            ).all()
            pending = await session.scalar(select(func.count()).select_from(models.CaseLogPending))
            report = await audit(session, KEY.public_key())
        heads = await store.heads()
    finally:
        await store.close()

    assert len(events) == CASES + WRITERS * EVENTS_EACH  # each case's "opened", then the writers' notes
    for case_id in case_ids:
        numbers = sorted(seq for case, seq in events if case == case_id)
        assert numbers == list(range(1, len(numbers) + 1)) and counters[case_id] == len(numbers)
    assert [row.leaf_index for row in leaves] == list(range(len(events)))
    assert len({row.event_id for row in leaves}) == len(events) and pending == 0
    assert report.ok, [str(f) for f in report.findings]
    assert len(heads) > WRITERS and heads[-1].size == len(events)
    hashes = [bytes(row.leaf_hash) for row in leaves]
    for head in heads:
        assert merkle.root(hashes[: head.size]) == head.root


async def _note(store: SqlStore, session: Any, case_id: int, words: str) -> None:
    actor = Actor(account_id=None, role=Role.OPERATOR, channel=Channel.TERMINAL)
    case = await session.get(models.Case, case_id)
    cases.append_event(session, case, "note", actor, store.clock.now(), {"words": words})
    await session.flush()


async def test_a_writer_that_waited_for_the_case_is_logged_after_the_one_it_waited_for(
    database_url: str,
) -> None:
    """On PostgreSQL a row's id used to be taken before the case's lock: a writer that waited got the
    smaller id and the larger number, and the log held the case's later event first."""
    if not database_url.startswith("postgresql"):
        pytest.skip("SQLite has one writer at a time: nobody waits for a case's lock")
    store = make_store(database_url, signer=Signer(KEY))
    try:
        (case_id,) = await open_cases(store, 1)
        async with store.unit() as first:
            await _note(store, first, case_id, "first, holding the case")
            waiter = asyncio.create_task(_waiting_note(store, case_id))
            await _until_waiting_for_a_lock(store)
            await _note(store, first, case_id, "first again, before it lets go")
        await waiter
        await store.sequence_log()
        async with store.unit() as session:
            logged = (
                await session.execute(select(models.CaseLogLeaf.seq).order_by(models.CaseLogLeaf.leaf_index))
            ).scalars()
            report = await audit(session, KEY.public_key())
    finally:
        await store.close()
    assert list(logged) == [1, 2, 3, 4]
    assert report.ok, [str(f) for f in report.findings]


async def _waiting_note(store: SqlStore, case_id: int) -> None:
    async with store.unit() as session:
        await _note(store, session, case_id, "second, waiting for the case")


async def _until_waiting_for_a_lock(store: SqlStore) -> None:
    waiting = (
        "SELECT count(*) FROM pg_stat_activity"
        " WHERE wait_event_type = 'Lock' AND datname = current_database()"
    )
    for _ in range(500):
        async with store.engine.connect() as connection:
            if await connection.scalar(text(waiting)):
                return
        await asyncio.sleep(0.01)
    raise AssertionError("the second writer never waited for the case")


async def signed_size(store: SqlStore) -> int:
    """Sequence what is queued; the size of the newest head (the store's own run after a commit may
    have sequenced it a moment before)."""
    head = await store.sequence_log() or await store.latest_head()
    assert head is not None
    return head.size


async def test_proofs_from_the_store_are_the_reference_trees(database_url: str, clock: FakeClock) -> None:
    store = make_store(database_url, clock, signer=Signer(KEY))
    try:
        case_ids = await open_cases(store, 3)
        sizes = []
        for number in range(70):  # heads at many sizes, across stored and rehashed subtree levels
            async with store.unit() as session:
                case = await session.get(models.Case, case_ids[number % 3])
                assert case is not None
                actor = Actor(account_id=None, role=Role.OPERATOR, channel=Channel.TERMINAL)
                cases.append_event(session, case, "note", actor, clock.now(), {"n": number})
            if number % 9 in (0, 4):
                sizes.append(await signed_size(store))
        sizes.append(await signed_size(store))
        async with store.unit() as session:
            query = select(models.CaseLogLeaf.leaf_hash).order_by(models.CaseLogLeaf.leaf_index)
            tree = merkle.MerkleTree(bytes(h) for h in await session.scalars(query))
        for size in sizes:
            for index in range(0, size, 5):
                assert await store.log_inclusion(index, size) == tree.inclusion_proof(index, size)
            for old in range(1, size + 1, 3):
                assert await store.log_consistency(old, size) == tree.consistency_proof(old, size)
        entries = await store.case_log_entries(case_ids[0])
    finally:
        await store.close()
    assert [entry.seq for entry in entries] == list(range(1, len(entries) + 1))
    for entry in entries:
        digest = merkle.leaf_hash(entry.entry)
        assert merkle.verify_inclusion(digest, entry.index, entry.head.size, entry.proof, entry.head.root)


async def test_a_unit_that_fails_numbers_nothing_and_queues_nothing(database_url: str) -> None:
    store = make_store(database_url)
    try:
        (case_id,) = await open_cases(store, 1)
        with pytest.raises(RuntimeError):
            async with store.unit() as session:
                case = await session.get(models.Case, case_id)
                assert case is not None
                actor = Actor(account_id=None, role=Role.OPERATOR, channel=Channel.TERMINAL)
                cases.append_event(session, case, "note", actor, store.clock.now(), {})
                await session.flush()
                raise RuntimeError("the turn failed")
        async with store.unit() as session:
            assert await session.scalar(select(models.Case.last_event_seq)) == 1
            assert (
                await session.scalar(select(func.count()).select_from(models.CaseLogPending)) == 1
            )  # opened
        with pytest.raises(RuntimeError, match="no signing key"):
            await store.sequence_log()
    finally:
        await store.close()


async def test_without_a_signer_events_are_numbered_and_queued_for_another_process(database_url: str) -> None:
    """Administrative commands open the store without the key: their events wait for serve's sequencer."""
    store = make_store(database_url)
    try:
        await open_cases(store, 2)
        await asyncio.sleep(0.1)
        async with store.unit() as session:
            assert list(await session.scalars(select(models.CaseEvent.seq))) == [1, 1]
            assert await session.scalar(select(func.count()).select_from(models.CaseLogPending)) == 2
            assert await session.scalar(select(func.count()).select_from(models.CaseLogLeaf)) == 0
    finally:
        await store.close()


_LOG_TABLES = {"case_log_pending", "case_log_leaves", "case_log_nodes", "case_log_heads"}
_LOG_COLUMNS = {("case_events", "seq"), ("cases", "last_event_seq"), ("agreements", "signed_block")}


def _ours(difference: Any) -> bool:
    """A schema difference touching what 0013 adds."""
    flat = difference if isinstance(difference, tuple) else difference[0]
    text = repr(flat)
    return any(name in text for name in _LOG_TABLES) or any(
        table in text and column in text for table, column in _LOG_COLUMNS
    )


async def test_the_migration_makes_the_models_tables(database_url: str) -> None:
    engine = create_engine(database_url)
    try:
        async with engine.connect() as connection:
            differences = await connection.run_sync(
                lambda sync: compare_metadata(MigrationContext.configure(sync), models.Base.metadata)
            )
    finally:
        await engine.dispose()
    assert [d for d in differences if _ours(d)] == []


_TEXT = st.text(max_size=12)
_NAME = st.none() | _TEXT
_DETAILS = st.dictionaries(_TEXT, st.none() | st.booleans() | st.integers() | _TEXT | st.lists(st.integers()))


@given(
    case_id=st.integers(min_value=1),
    seq=st.integers(min_value=1),
    kind=_TEXT,
    actor=st.none() | st.integers(min_value=1),
    role=_NAME,
    channel=_TEXT,
    from_state=_NAME,
    to_state=_NAME,
    details=_DETAILS,
)
def test_an_entry_is_the_canonical_json_of_its_fields(
    case_id: int,
    seq: int,
    kind: str,
    actor: int | None,
    role: str | None,
    channel: str,
    from_state: str | None,
    to_state: str | None,
    details: dict[str, Any],
) -> None:
    """The field-by-field encoding is exactly sorted-key compact JSON of the entry, for any values."""
    at = "2026-12-01T10:00:00.000000Z"
    fields = {
        "case": case_id,
        "seq": seq,
        "kind": kind,
        "at": at,
        "actor": actor,
        "role": role,
        "channel": channel,
        "from": from_state,
        "to": to_state,
        "details": details,
    }
    made = entry_bytes(
        case_id=case_id,
        seq=seq,
        kind=kind,
        at=at,
        actor_account_id=actor,
        actor_role=role,
        actor_channel=channel,
        from_state=from_state,
        to_state=to_state,
        details=details,
    )
    assert made == json.dumps(fields, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()
    assert json.loads(made) == fields


async def test_events_written_before_the_log_are_numbered_and_logged(tmp_path: Path) -> None:
    """An existing database: 0013 numbers each case's events in the order written and queues them; the
    first run of the sequencer logs them all."""
    from sqlalchemy import text

    from storage.migrate import upgrade

    url = f"sqlite:///{tmp_path / 'old.db'}"
    await upgrade(url, "0012_broadcasts")
    engine = create_engine(url)
    now = "2026-11-02 09:30:00.000000"
    async with engine.begin() as connection:
        await connection.execute(
            text(
                "INSERT INTO accounts (id, channel, channel_user_id, role, locale, time_zone, reachable, "
                "created_at) VALUES (1, 'terminal', 'alice', 'borrower', 'en', 'Asia/Shanghai', 1, :now)"
            ),
            {"now": now},
        )
        for case_id in (1, 2):
            await connection.execute(
                text(
                    "INSERT INTO cases (id, borrower_account_id, state, version, created_at, updated_at) "
                    "VALUES (:id, 1, 'draft', 1, :now, :now)"
                ),
                {"id": case_id, "now": now},
            )
        for number, case_id in enumerate((1, 2, 1, 1, 2), start=1):
            await connection.execute(
                text(
                    "INSERT INTO case_events (id, case_id, at, kind, actor_channel, details) "
                    "VALUES (:id, :case, :now, 'note', 'terminal', '{}')"
                ),
                {"id": number, "case": case_id, "now": now},
            )
    await engine.dispose()
    await upgrade(url)
    store = make_store(url, signer=Signer(KEY))
    try:
        head = await store.sequence_log()
        async with store.unit() as session:
            numbered = (await session.execute(select(models.CaseEvent.id, models.CaseEvent.seq))).all()
            counters = dict((await session.execute(select(models.Case.id, models.Case.last_event_seq))).all())
            report = await audit(session, KEY.public_key())
    finally:
        await store.close()
    assert sorted(numbered) == [(1, 1), (2, 1), (3, 2), (4, 3), (5, 2)]
    assert counters == {1: 3, 2: 2}
    assert head is not None and head.size == 5 and report.ok


async def test_a_commit_during_a_sequencer_run_gets_a_run_of_its_own() -> None:
    """Events committed while the sequencer runs may be after its look at the queue: one more run follows
    (a burst of commits still makes one run, not one each)."""
    from storage.case_log import Sequencing

    runs: list[int] = []
    running = asyncio.Event()
    release = asyncio.Event()

    async def run() -> None:
        runs.append(len(runs))
        running.set()
        if len(runs) == 1:
            await release.wait()

    sequencing = Sequencing(run, 0)
    sequencing.soon()
    await running.wait()
    sequencing.soon()
    sequencing.soon()
    release.set()
    for _ in range(50):
        await asyncio.sleep(0.01)
    assert runs == [0, 1]
    await sequencing.stop()
