"""Benchmark: the full borrower flow through the engine on a SQLite file (DESIGN §8).

Prints, in one run:
  * ours: N simulated borrowers running the whole flow concurrently (consent, verification, hardship,
    finances, plan, submission): messages/s and p50/p99 per message, every reply released only after its
    message's transaction committed (targets ≥ 1,000 msg/s, p99 ≤ 20 ms);
  * the limit: the stdlib ``sqlite3`` module writing the same rows per message, one transaction each
    (target: ours ≥ 0.25 of it);
  * for context: python-telegram-bot's ConversationHandler doing the same steps in memory through
    ``Application.process_update`` (no network, no persistence);
  * memory: RSS growth while 100,000 conversations are stored (target ≤ 50 MB).

Run ``python bench/dialog_throughput.py`` (``--borrowers``, ``--conversations`` to change the sizes).
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import os
import resource
import sqlite3
import statistics
import sys
import tempfile
import time
from collections import defaultdict
from collections.abc import Sequence
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

try:
    import dialogs  # noqa: F401  (only checks the package is importable)
except ModuleNotFoundError:  # run from a checkout without an install: use the repository root
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bot.app import build_app
from bot.settings import load_settings
from dialogs.domain import Channel, LoanRow
from dialogs.messages import Inbound, InboundKind, Queued
from dialogs.rules.identity import id_check_char
from storage.crypto import FieldCipher, generate_secret
from storage.db import create_engine
from storage.migrate import upgrade
from storage.signing import Signer
from storage.store import SqlStore

TARGET_RATE = 1000.0
TARGET_P99_MS = 20.0
TARGET_SHARE = 0.25
TARGET_RSS_MB = 50.0
LENDER = "Bench Lender"
FIGURES = ("6500", "1800", "1200", "300", "200", "800", "0", "150", "0", "2000")


def letters(n: int) -> str:
    """A name part unique to ``n`` in letters only (names with digits are refused as typos)."""
    word = ""
    while True:
        n, rest = divmod(n, 26)
        word = "abcdefghijklmnopqrstuvwxyz"[rest] + word
        if n == 0:
            return word.capitalize()


def borrower(n: int) -> LoanRow:
    first17 = f"110105{1960 + n % 40}0101{n % 1000:03d}"
    return LoanRow(
        loan_ref=f"B-{n:06d}",
        borrower_name=f"Borrower {letters(n)}",
        id_number=first17 + id_check_char(first17),
        phone=f"+86138{n:08d}",
        principal=Decimal("20000.00"),
        annual_rate=Decimal("0.24"),
        start_date=date(2024, 3, 15),
        term_months=24,
        outstanding_principal=Decimal("14321.55"),
        outstanding_interest=Decimal("1020.40"),
        penalty=Decimal("380.00"),
        fees=Decimal("120.00"),
        overdue_days=45,
    )


class Codes:
    def __init__(self) -> None:
        self.by_phone: dict[str, str] = {}

    async def send_code(self, phone: str, code: str, *, account_id: int = 0) -> None:
        self.by_phone[phone] = code


class NullChannel:
    """Accepts every rendered message: delivery renders and records as in production, nothing leaves."""

    def serves(self, recipient: Any) -> bool:
        return True

    async def send(self, recipient: Any, message: Any) -> None:
        return None


class Buttons:
    """What each simulated person was last offered, taken from the committed replies."""

    def __init__(self) -> None:
        self.last: dict[str, tuple[str, ...]] = defaultdict(tuple)

    def record(self, queued: Sequence[Queued]) -> None:
        for item in queued:
            if item.message.buttons:
                self.last[item.recipient.channel_user_id] = tuple(b.choice for b in item.message.buttons)


async def _flow(n: int, engine: Any, buttons: Buttons, codes: Codes, latencies: list[float]) -> int:
    user = f"u{n}"
    row = borrower(n)
    sent = 0

    async def say(kind: InboundKind, payload: str) -> None:
        nonlocal sent
        sent += 1
        inbound = Inbound(Channel.TERMINAL, user, user, f"{user}-{sent}", kind, payload, "en")
        started = time.perf_counter()
        await engine.handle(inbound)
        latencies.append(time.perf_counter() - started)

    async def press(suffix: str) -> None:
        offered = buttons.last[user]
        choice = next(c for c in offered if c.split(".", 1)[1].startswith(suffix))
        await say(InboundKind.CHOICE, choice)

    await say(InboundKind.COMMAND, "/start")
    await press("continue")
    await press("agree")
    for text in (row.loan_ref, row.borrower_name, row.id_number, row.phone):
        await say(InboundKind.TEXT, text)
    await say(InboundKind.TEXT, codes.by_phone[row.phone])
    await press("job_loss")
    await press("temporary")
    await say(InboundKind.TEXT, "I lost my job in October and I am looking for work.")
    await press("done")
    for amount in FIGURES:
        await say(InboundKind.TEXT, amount)
    await press("confirm")
    await press("p0")
    await press("submit")
    return sent


async def run_ours(
    path: Path, borrowers: int, secret: bytes, concurrency: int = 32, *, case_log: bool = True
) -> dict[str, float]:
    """``case_log``: the store sequences, hashes and signs the case log as serve's does; without it, events
    are only numbered and queued by the database's triggers (as for a process without the signing key)."""
    url = f"sqlite:///{path}"
    await upgrade(url)
    signer = Signer(Ed25519PrivateKey.generate()) if case_log else None
    store = SqlStore(create_engine(url), FieldCipher(secret), signer=signer)
    await store.add_lender(LENDER)
    await store.import_loan_book(LENDER, [borrower(n) for n in range(borrowers)])
    codes, buttons = Codes(), Buttons()
    app = build_app(
        load_settings(database_url=url), {Channel.TERMINAL: NullChannel()}, code_sender=codes, store=store
    )
    submit = app.delivery.submit

    def deliver(queued: Sequence[Queued]) -> None:
        buttons.record(queued)
        submit(queued)

    app.engine._deliver = deliver
    latencies: list[float] = []
    active = asyncio.Semaphore(concurrency)

    async def one(n: int) -> int:
        async with active:
            return await _flow(n, app.engine, buttons, codes, latencies)

    async with app.running():
        started = time.perf_counter()
        counts = await asyncio.gather(*(one(n) for n in range(borrowers)))
        elapsed = time.perf_counter() - started
        await app.delivery.drain()
        if case_log:  # the log kept up: everything written is sequenced and signed
            await store.sequence_log()
            assert (head := await store.latest_head()) is not None and head.size >= borrowers
    messages = sum(counts)
    return {"messages": messages, "rate": messages / elapsed, **_percentiles(latencies)}


def compare_case_log(folder: Path, args: argparse.Namespace, secret: bytes, rounds: int = 3) -> None:
    """The same flow with the case log off and on, alternating (the machine is shared): best of each, and
    the CPU time per message (what the log adds to the process, whatever else the machine runs)."""
    best: dict[bool, dict[str, float]] = {}
    for number in range(rounds):
        for case_log in (False, True):
            path = folder / f"log-{case_log}-{number}.db"
            cpu = time.process_time()
            run = asyncio.run(run_ours(path, args.borrowers, secret, args.concurrency, case_log=case_log))
            run["cpu_ms"] = (time.process_time() - cpu) * 1000 / run["messages"]
            if case_log not in best or run["rate"] > best[case_log]["rate"]:
                best[case_log] = run
    off, on = best[False], best[True]
    print(f"full borrower flow, case log off vs on: {args.borrowers} borrowers, best of {rounds} runs each")
    for name, run in (("log off", off), ("log on", on)):
        print(
            f"  {name}: {run['rate']:8.0f} msg/s  p50 {run['p50_ms']:.1f} ms  p99 {run['p99_ms']:.1f} ms  "
            f"CPU {run['cpu_ms']:.2f} ms/msg"
        )
    print(
        f"  on / off = {on['rate'] / off['rate']:.3f} msg/s, "
        f"{on['cpu_ms'] / off['cpu_ms']:.3f} CPU per message (target: rate ≥ 0.90)"
    )


def _percentiles(latencies: list[float]) -> dict[str, float]:
    ordered = sorted(latencies)
    return {
        "p50_ms": statistics.median(ordered) * 1000,
        "p99_ms": ordered[int(len(ordered) * 0.99) - 1] * 1000,
    }


def run_sqlite3_limit(path: Path, messages: int) -> float:
    """The same rows per message (key, conversation, one or two replies), one transaction each."""
    db = sqlite3.connect(path, isolation_level=None)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("PRAGMA synchronous=NORMAL")
    db.execute(
        "CREATE TABLE inbound_keys (channel TEXT, key TEXT, processed_at TEXT, PRIMARY KEY (channel, key))"
    )
    db.execute(
        "CREATE TABLE conversations (account_id INTEGER PRIMARY KEY, flow TEXT, step TEXT, data_enc BLOB, "
        "updated_at TEXT)"
    )
    db.execute(
        "CREATE TABLE outbox (id INTEGER PRIMARY KEY, key TEXT UNIQUE, account_id INTEGER, template TEXT, "
        "context TEXT, buttons TEXT, created_at TEXT, not_before TEXT, sent_at TEXT)"
    )
    state = os.urandom(600)
    context = json.dumps({"values": {"example": "3500"}, "file_name": None})
    buttons = json.dumps([{"choice": "3.agree", "label": "consent_agree", "context": {}}])
    started = time.perf_counter()
    for n in range(messages):
        account = n % 500
        db.execute("BEGIN IMMEDIATE")
        db.execute("INSERT INTO inbound_keys VALUES ('terminal', ?, '2026-11-28T00:00:00')", (f"k{n}",))
        db.execute(
            "SELECT flow, step, data_enc FROM conversations WHERE account_id = ?", (account,)
        ).fetchone()
        db.execute(
            "INSERT INTO conversations VALUES (?, 'verify', 'name', ?, '2026-11-28T00:00:00') "
            "ON CONFLICT (account_id) DO UPDATE SET step = excluded.step, data_enc = excluded.data_enc",
            (account, state),
        )
        db.execute(
            "INSERT INTO outbox (key, account_id, template, context, buttons, created_at, not_before) "
            "VALUES (?, ?, 'verify/name', ?, ?, '2026-11-28T00:00:00', '2026-11-28T00:00:00')",
            (f"k{n}:0", account, context, buttons),
        )
        db.execute("COMMIT")
    elapsed = time.perf_counter() - started
    db.close()
    return messages / elapsed


async def run_ptb(borrowers: int, steps: int) -> float:
    """python-telegram-bot's ConversationHandler: the same number of steps per person, empty handlers."""
    from telegram import Update  # noqa: PLC0415 - only this part of the benchmark needs it
    from telegram.ext import Application, CommandHandler, ConversationHandler, MessageHandler, filters  # noqa: PLC0415
    from telegram.request import BaseRequest, RequestData  # noqa: PLC0415

    class Offline(BaseRequest):
        """Answers getMe locally: no network at all."""

        @property
        def read_timeout(self) -> float | None:
            return None

        async def initialize(self) -> None: ...

        async def shutdown(self) -> None: ...

        async def do_request(
            self, url: str, method: str, request_data: RequestData | None = None, **_: Any
        ) -> tuple[int, bytes]:
            me = {"id": 1, "is_bot": True, "first_name": "Bench", "username": "bench_bot"}
            return 200, json.dumps({"ok": True, "result": me}).encode()

    app = (
        Application.builder()
        .token("1:bench")
        .request(Offline())
        .get_updates_request(Offline())
        .updater(None)
        .build()
    )

    def step(n: int) -> Any:
        async def handler(_update: Any, _context: Any) -> int:
            return n + 1 if n + 1 < steps else ConversationHandler.END

        return handler

    states = {n: [MessageHandler(filters.TEXT & ~filters.COMMAND, step(n))] for n in range(1, steps)}
    app.add_handler(ConversationHandler([CommandHandler("start", step(0))], states, []))
    await app.initialize()
    updates = []
    for m in range(steps):
        for user in range(1, borrowers + 1):
            text = "/start" if m == 0 else "answer"
            message = {
                "message_id": m,
                "date": 0,
                "chat": {"id": user, "type": "private"},
                "from": {"id": user, "is_bot": False, "first_name": "u"},
                "text": text,
            }
            if m == 0:
                message["entities"] = [{"type": "bot_command", "offset": 0, "length": 6}]
            updates.append(Update.de_json({"update_id": m * borrowers + user, "message": message}, app.bot))
    started = time.perf_counter()
    for update in updates:
        await app.process_update(update)
    elapsed = time.perf_counter() - started
    await app.shutdown()
    return len(updates) / elapsed


def _rss_mb() -> float:
    statm = Path("/proc/self/statm").read_text()  # current, not peak: ru_maxrss only grows
    return int(statm.split()[1]) * resource.getpagesize() / 2**20


async def run_memory(path: Path, conversations: int, secret: bytes) -> tuple[float, float]:
    """RSS growth while ``conversations`` people each start a conversation (stored, not held)."""
    url = f"sqlite:///{path}"
    await upgrade(url)
    app = build_app(
        load_settings(database_url=url),
        {Channel.TERMINAL: NullChannel()},
        store=SqlStore(create_engine(url), FieldCipher(secret)),
    )
    async with app.running():
        await _start_people(app, 0, 2_000)  # warm up caches and pools before the baseline
        gc.collect()
        before = _rss_mb()
        started = time.perf_counter()
        await _start_people(app, 2_000, conversations)
        elapsed = time.perf_counter() - started
        await app.delivery.drain()
        gc.collect()
        after = _rss_mb()
    return after - before, (conversations - 2_000) / elapsed


async def _start_people(app: Any, first: int, last: int, wave: int = 500) -> None:
    for start in range(first, last, wave):
        inbounds = [
            Inbound(Channel.TERMINAL, f"m{n}", f"m{n}", f"m{n}", InboundKind.COMMAND, "/start", "en")
            for n in range(start, min(start + wave, last))
        ]
        await asyncio.gather(*(app.engine.handle(inbound) for inbound in inbounds))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--borrowers", type=int, default=400)
    parser.add_argument("--concurrency", type=int, default=16, help="borrowers talking at the same moment")
    parser.add_argument("--conversations", type=int, default=100_000)
    parser.add_argument(
        "--case-log",
        choices=("on", "off", "compare"),
        default="on",
        help="the verifiable case log as serve runs it (on), without it (off), or both measured (compare)",
    )
    args = parser.parse_args()
    secret = generate_secret().encode()
    with tempfile.TemporaryDirectory() as directory:
        folder = Path(directory)
        if args.case_log == "compare":
            compare_case_log(folder, args, secret)
            return
        cpu = time.process_time()
        case_log = args.case_log == "on"
        ours = asyncio.run(
            run_ours(folder / "ours.db", args.borrowers, secret, args.concurrency, case_log=case_log)
        )
        ours["cpu_ms"] = (time.process_time() - cpu) * 1000 / ours["messages"]
        limit = run_sqlite3_limit(folder / "limit.db", int(ours["messages"]))
        steps = int(ours["messages"] // args.borrowers)
        ptb = asyncio.run(run_ptb(args.borrowers, steps))
        growth, start_rate = asyncio.run(run_memory(folder / "memory.db", args.conversations, secret))
    report(args, ours, limit, ptb, steps)
    print(
        f"memory: {args.conversations} stored conversations (/start at {start_rate:.0f} msg/s): "
        f"RSS growth {growth:.1f} MB (target ≤ {TARGET_RSS_MB:.0f} MB)"
    )


def report(args: argparse.Namespace, ours: dict[str, float], limit: float, ptb: float, steps: int) -> None:
    print(
        f"full borrower flow: {args.borrowers} borrowers ({args.concurrency} at a time), "
        f"{int(ours['messages'])} messages ({steps} each), SQLite file, WAL"
    )
    print(
        f"  ours:          {ours['rate']:8.0f} msg/s  p50 {ours['p50_ms']:.1f} ms  "
        f"p99 {ours['p99_ms']:.1f} ms  CPU {ours['cpu_ms']:.2f} ms/msg  "
        f"(targets ≥ {TARGET_RATE:.0f} msg/s, p99 ≤ {TARGET_P99_MS:.0f} ms)"
    )
    share = ours["rate"] / limit
    print(f"  sqlite3 limit: {limit:8.0f} msg/s  ours / limit = {share:.3f} (target ≥ {TARGET_SHARE})")
    print(
        f"  PTB ConversationHandler, in memory, no persistence: {ptb:8.0f} updates/s  "
        f"ours / PTB = {ours['rate'] / ptb:.3f}"
    )


if __name__ == "__main__":
    main()
