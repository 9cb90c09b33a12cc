"""Benchmark: ``loanbridge audit verify`` over a case log of 1,000,000 entries on a SQLite file.

Builds the log fast, with bulk inserts straight into a migrated database (events, their log entries and
leaf hashes, the stored subtree hashes, a signed head every 10,000 entries), exactly as the sequencer
would have stored them; then runs the real command (``python -m bot.cli audit verify --key …``) in its own
process and reports its time (target: under a minute). The command must find nothing wrong.

Run ``python bench/audit_verify.py`` (``--entries N`` to change the size, ``--keep DIR`` to keep the file).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

try:
    import dialogs  # noqa: F401  (only checks the package is importable)
except ModuleNotFoundError:  # run from a checkout without an install: use the repository root
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from storage import merkle
from storage.case_log import Frontier, entry_bytes
from storage.crypto import generate_secret
from storage.migrate import upgrade
from storage.signing import Signer, public_key_pem

TARGET_SECONDS = 60.0
HEAD_EVERY = 10_000
EVENTS_PER_CASE = 100
CHUNK = 50_000
START = datetime(2026, 1, 1, tzinfo=UTC)
KINDS = ("transition", "offer_made", "message_relayed", "agreement_confirmed", "plan_chosen")
ROOT = Path(__file__).resolve().parents[1]


def _stored(at: datetime) -> str:
    """How SQLAlchemy keeps a UTC moment in SQLite (storage.types.UTCDateTime: naive UTC text)."""
    return at.strftime("%Y-%m-%d %H:%M:%S.%f")


def _events(entries: int, cases: int) -> Iterator[tuple[Any, ...]]:
    """(id, case, seq, kind, at, actor, role, channel, from, to, details JSON, entry bytes) per event."""
    for number in range(entries):
        case_id, seq = number % cases + 1, number // cases + 1
        at = START + timedelta(milliseconds=number)
        kind = KINDS[number % len(KINDS)]
        details = {"offer": number, "version": seq % 3 + 1}
        role = ("borrower", "lender", "operator")[number % 3]
        entry = entry_bytes(
            case_id=case_id,
            seq=seq,
            kind=kind,
            at=at,
            actor_account_id=1,
            actor_role=role,
            actor_channel="terminal",
            from_state="negotiating",
            to_state="negotiating",
            details=details,
        )
        yield (
            number + 1,
            case_id,
            seq,
            kind,
            _stored(at),
            1,
            role,
            "terminal",
            "negotiating",
            "negotiating",
            _json(details),
            entry,
        )


def _json(details: dict[str, Any]) -> str:
    return json.dumps(details)


def build(path: Path, entries: int, signer: Signer) -> float:
    """The database at ``path`` holding a logged, signed case log of ``entries`` events; seconds taken."""
    started = time.perf_counter()
    asyncio.run(upgrade(f"sqlite:///{path}"))
    cases = max(1, entries // EVENTS_PER_CASE)
    db = sqlite3.connect(path, isolation_level=None)
    db.execute("PRAGMA synchronous=OFF")
    db.execute("BEGIN")
    moment = _stored(START)
    db.execute(
        "INSERT INTO accounts (id, channel, channel_user_id, role, locale, time_zone, reachable, created_at) "
        "VALUES (1, 'terminal', 'bench', 'borrower', 'en', 'Asia/Shanghai', 1, ?)",
        (moment,),
    )
    db.executemany(
        "INSERT INTO cases (id, borrower_account_id, state, version, last_event_seq, created_at, updated_at) "
        "VALUES (?, 1, 'negotiating', 1, ?, ?, ?)",
        [
            (c, entries // cases + (1 if c <= entries % cases else 0), moment, moment)
            for c in range(1, cases + 1)
        ],
    )
    frontier = Frontier(0, [])
    events, leaves, heads = [], [], []
    for row in _events(entries, cases):
        *event, entry = row
        digest = merkle.leaf_hash(entry)
        events.append(event)
        leaves.append((frontier.size, event[0], event[1], event[2], entry, digest))
        frontier.append(digest)
        if frontier.size % HEAD_EVERY == 0 or frontier.size == entries:
            at = START + timedelta(milliseconds=frontier.size)
            root = frontier.root()
            heads.append(
                (
                    frontier.size,
                    root,
                    _stored(at),
                    signer.sign_head(frontier.size, root, at),
                    signer.fingerprint,
                )
            )
        if len(events) == CHUNK:
            _flush(db, events, leaves)
    _flush(db, events, leaves)
    db.executemany("INSERT INTO case_log_nodes (level, position, hash) VALUES (?, ?, ?)", frontier.completed)
    db.executemany(
        "INSERT INTO case_log_heads (tree_size, root_hash, signed_at, signature, key_fingerprint) "
        "VALUES (?, ?, ?, ?, ?)",
        heads,
    )
    # The insert trigger queued every event for the sequencer; these are logged already, as if it had run.
    db.execute("DELETE FROM case_log_pending")
    db.execute("COMMIT")
    db.close()
    return time.perf_counter() - started


def _flush(db: sqlite3.Connection, events: list[Any], leaves: list[Any]) -> None:
    db.executemany(
        "INSERT INTO case_events (id, case_id, seq, kind, at, actor_account_id, actor_role, actor_channel, "
        "from_state, to_state, details) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        events,
    )
    db.executemany(
        "INSERT INTO case_log_leaves (leaf_index, event_id, case_id, seq, entry, leaf_hash) "
        "VALUES (?, ?, ?, ?, ?, ?)",
        leaves,
    )
    events.clear()
    leaves.clear()


def verify(path: Path, key_file: Path) -> tuple[float, subprocess.CompletedProcess[str]]:
    env = {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "LOANBRIDGE_DATABASE_URL": f"sqlite:///{path}",
        "LOANBRIDGE_SECRET_KEY": generate_secret(),
    }
    command = [sys.executable, "-m", "bot.cli", "audit", "verify", "--key", str(key_file)]
    started = time.perf_counter()
    # Our own command line, run with this interpreter: no input from anyone.
    done = subprocess.run(command, check=False, capture_output=True, text=True, env=env, cwd=path.parent)  # noqa: S603
    return time.perf_counter() - started, done


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--entries", type=int, default=1_000_000)
    parser.add_argument("--keep", type=Path, help="build the database in this directory and keep it")
    args = parser.parse_args()
    signer = Signer(Ed25519PrivateKey.generate())
    with tempfile.TemporaryDirectory() as scratch:
        folder = args.keep or Path(scratch)
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / "audit-bench.db"
        path.unlink(missing_ok=True)
        key_file = folder / "platform.pem"
        key_file.write_text(public_key_pem(signer.public_key))
        built = build(path, args.entries, signer)
        size_mb = path.stat().st_size / 1e6
        seconds, done = verify(path, key_file)
    print(f"built {args.entries:,} logged events ({size_mb:.0f} MB SQLite file) in {built:.1f} s")
    print(done.stdout.rstrip())
    if done.returncode != 0:
        print(done.stderr.rstrip())
        raise SystemExit(f"audit verify exited {done.returncode}: the benchmark's log should be clean")
    rate = args.entries / seconds
    print(
        f"audit verify: {seconds:.1f} s for {args.entries:,} entries ({rate:,.0f} entries/s), "
        f"target < {TARGET_SECONDS:.0f} s: {'met' if seconds < TARGET_SECONDS else 'NOT met'}"
    )


if __name__ == "__main__":
    main()
