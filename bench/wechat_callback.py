"""Benchmark: the WeChat callback under a steady stream of borrowers, through real HTTP (DESIGN §8).

``loanbridge serve``'s own code path (in process) with WeChat only, on a SQLite file (WAL) or PostgreSQL, the
production reply budget and pacing; a WeChat API server on 127.0.0.1 (the tests' ``fake_wechat``) for the
customer-service messages and the token. Simulated borrowers arrive one after another at a steady rate and
each goes through the whole flow to submission (about 26 messages: consent, verification with the one-time
code, hardship, finances, plan, submit), typing the number of each choice as a person reads it from the
reply, with a pause between messages so that the stream of messages into the callback stays steady. Every
message is posted as WeChat posts it (signed; ``--safe``: encrypted) by ``wechat_callbacks.WeChatServer``.

Prints: messages posted and their rate; callback latency p50 / p99 / max (from posting the message to the end
of the HTTP answer, what WeChat's 5-second window measures), against the target p99 ≤ 300 ms (the ratio:
below 1 is inside it); the share of turns answered passively (in the HTTP response) rather than ``success``
plus the customer-service API; how many answers took longer than WeChat waits (WeChat would retry them).

Run ``python bench/wechat_callback.py`` (``--users``, ``--rate`` messages/s, ``--safe``, ``--database-url``).
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import random
import secrets
import socket
import statistics
import sys
import tempfile
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sqlalchemy.engine import make_url

from bench.dialog_throughput import FIGURES, Codes, borrower
from bot.app import App
from bot.serve import serve
from bot.settings import load_settings
from storage.crypto import generate_secret
from storage.migrate import upgrade
from storage.signing import generate_signing_key
from storage.store import SqlStore
from tests.channels.fake_wechat import APP_ID, APP_SECRET, FakeWeChat
from tests.channels.wechat_callbacks import AES_KEY, CALLBACK_TOKEN, WAIT, Reply, WeChatServer, numbered

TARGET_P99_MS = 300.0
LENDER = "Bench Lender"


def script(n: int) -> list[tuple[str, str]]:
    """One borrower's flow: ("follow", ""), ("say", text), ("choose", label words) or ("code", phone)."""
    row = borrower(n)
    steps = [("follow", ""), ("choose", "开始吧"), ("choose", "我同意")]
    steps += [("say", v) for v in (row.loan_ref, row.borrower_name, row.id_number, row.phone)]
    steps += [("code", row.phone), ("choose", "失业"), ("choose", "会过去的")]
    steps += [("say", "十月份失业了，正在找工作。"), ("choose", "跳过")]
    steps += [("say", amount) for amount in FIGURES]
    steps += [("choose", "是的"), ("choose", "停息挂账"), ("choose", "提交")]
    return steps


@dataclass
class Run:
    replies: list[Reply] = field(default_factory=list)
    finished: int = 0  # borrowers whose submission was confirmed
    started: float = 0.0
    ended: float = 0.0


async def borrower_flow(
    n: int, wechat: WeChatServer, fake: FakeWeChat, codes: Codes, pause: float, run: Run
) -> None:
    openid = f"oBench{n:022d}"
    seen: list[str] = []
    sent = 0
    for kind, value in script(n):
        await asyncio.sleep(pause * random.uniform(0.8, 1.2))  # a person reading and typing
        if kind == "code":
            text = await _code(codes, value)
        elif kind == "choose":
            seen, sent = await _until_offered(fake, openid, seen, sent, value)
            text = str(numbered(seen, value))
        else:
            text = value
        reply = await (wechat.subscribe(openid) if kind == "follow" else wechat.text(openid, text))
        run.replies.append(reply)
        if reply.status != 200:
            raise AssertionError(f"borrower {n}: the callback answered {reply.status}")
        seen = [reply.text] if reply.text else []
    seen, sent = await _until_offered(fake, openid, seen, sent, "")
    if any("已提交" in t for t in seen):
        run.finished += 1


async def _until_offered(
    fake: FakeWeChat, openid: str, seen: list[str], sent: int, label: str
) -> tuple[list[str], int]:
    """What the person has in front of them once the choice ``label`` is among it: the rest of a long
    answer, or a slow turn's whole answer, comes through the customer-service API a moment later."""
    deadline = time.monotonic() + 10
    while True:
        texts = fake.texts(openid)
        seen, sent = [*seen, *texts[sent:]], len(texts)
        if (numbered(seen, label) if label else seen) or time.monotonic() > deadline:
            break
        await asyncio.sleep(0.02)
    if label and numbered(seen, label) is None:
        raise AssertionError(f"{openid}: no choice {label!r} in {seen}")
    return seen, sent


async def _code(codes: Codes, phone: str) -> str:
    """The one-time code just sent to ``phone`` (it goes out right after the reply that announced it)."""
    deadline = time.monotonic() + 10
    while phone not in codes.by_phone:
        assert time.monotonic() < deadline, f"no code was sent to {phone}"
        await asyncio.sleep(0.01)
    return codes.by_phone.pop(phone)


async def bench(args: argparse.Namespace, directory: Path) -> dict[str, Any]:
    if not args.database_url:
        return await _bench(args, f"sqlite:///{directory / 'wechat.db'}")
    async with _postgres_database(args.database_url) as url:
        return await _bench(args, url)


@asynccontextmanager
async def _postgres_database(server_url: str) -> AsyncIterator[str]:
    """A fresh database on the given PostgreSQL server for this run, dropped afterwards."""
    import asyncpg  # noqa: PLC0415 - only for a PostgreSQL run

    server = make_url(server_url)
    name = f"lb_bench_{secrets.token_hex(6)}"

    async def execute(sql: str) -> None:
        connection = await asyncpg.connect(
            user=server.username,
            password=server.password,
            host=server.host,
            port=server.port,
            database=server.database,
        )
        try:
            await connection.execute(sql)
        finally:
            await connection.close()

    await execute(f'CREATE DATABASE "{name}"')
    try:
        yield server.set(database=name).render_as_string(hide_password=False)
    finally:
        await execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


async def _bench(args: argparse.Namespace, url: str) -> dict[str, Any]:
    users, rate, pause, safe = args.users, args.rate, args.pause, args.safe
    await upgrade(url)
    fake = await FakeWeChat().start()
    port = _free_port()
    settings = load_settings(
        database_url=url,
        secret_key=generate_secret(),
        signing_key=generate_signing_key(),
        wechat_app_id=APP_ID,
        wechat_app_secret=APP_SECRET,
        wechat_token=CALLBACK_TOKEN,
        wechat_aes_key=AES_KEY if safe else None,
        wechat_api_url=fake.url,
        wechat_listen=f"127.0.0.1:{port}",
        **({"wechat_user_rate": args.user_rate} if args.user_rate else {}),
    )
    codes, stop = Codes(), asyncio.Event()
    ready: asyncio.Future[App] = asyncio.get_running_loop().create_future()
    serving = asyncio.create_task(serve(settings, stop=stop, code_sender=codes, ready=ready))
    app = await asyncio.wait_for(ready, 30)
    await _loan_book(app.store, users)
    steps = len(script(0))
    # Each borrower sends a message every ``pause`` seconds; a new borrower arrives every steps / rate
    # seconds, so that once the first ones are under way the callback sees about ``rate`` messages a second
    # from about rate × pause borrowers at once.
    arrival = steps / rate
    run = Run(started=time.monotonic())
    async with WeChatServer(
        f"http://127.0.0.1:{port}/wechat", aes_key=AES_KEY if safe else None, fake=fake
    ) as wx:
        flows = []
        for n in range(users):
            flows.append(asyncio.create_task(borrower_flow(n, wx, fake, codes, pause, run)))
            await asyncio.sleep(arrival)
        await asyncio.gather(*flows)
    run.ended = time.monotonic()
    stop.set()
    await serving
    await fake.stop()
    return _figures(run, users)


async def _loan_book(store: SqlStore, users: int) -> None:
    await store.add_lender(LENDER)
    await store.import_loan_book(LENDER, [borrower(n) for n in range(users)])


def _figures(run: Run, users: int) -> dict[str, Any]:
    latencies = sorted(r.attempts[0].elapsed for r in run.replies)
    return {
        "users": users,
        "finished": run.finished,
        "messages": len(latencies),
        "rate": len(latencies) / (run.ended - run.started),
        "p50_ms": statistics.median(latencies) * 1000,
        "p99_ms": latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))] * 1000,
        "max_ms": latencies[-1] * 1000,
        "passive": sum(r.passive for r in run.replies) / len(run.replies),
        "late": sum(1 for r in run.replies if len(r.attempts) > 1 or r.attempts[0].elapsed >= WAIT),
    }


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=40, help="borrowers, each through the whole flow")
    parser.add_argument("--rate", type=float, default=25.0, help="messages a second into the callback")
    parser.add_argument(
        "--pause", type=float, default=1.0, help="seconds each borrower waits between messages"
    )
    parser.add_argument("--safe", action="store_true", help="safe mode (AES-encrypted callbacks)")
    parser.add_argument(
        "--user-rate", type=float, help="customer-service messages a second per person (default: serve's)"
    )
    parser.add_argument(
        "--database-url",
        help="a PostgreSQL server (postgresql://…; a fresh database is made on it and dropped after); "
        "default: a SQLite file in a temporary directory",
    )
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    random.seed(13)
    store = "PostgreSQL" if args.database_url and "postgres" in args.database_url else "SQLite file (WAL)"
    mode = "safe mode (AES)" if args.safe else "plain mode"
    pace = f"{args.user_rate:g}/s" if args.user_rate else "serve's default"
    print(
        f"wechat callback: {args.users} borrowers through the whole flow, about {args.rate:.0f} messages/s "
        f"(a message every {args.pause:g} s from each), {mode}, {store}, real HTTP both ways, "
        f"customer-service messages per person: {pace}"
    )
    with tempfile.TemporaryDirectory() as directory:
        figures = asyncio.run(bench(args, Path(directory)))
    print(
        f"  {figures['messages']} messages at {figures['rate']:.1f}/s; "
        f"{figures['finished']}/{figures['users']} applications submitted"
    )
    print(
        f"  callback latency p50 {figures['p50_ms']:.1f} ms  p99 {figures['p99_ms']:.1f} ms  "
        f"max {figures['max_ms']:.1f} ms  (target p99 ≤ {TARGET_P99_MS:.0f} ms: "
        f"{figures['p99_ms'] / TARGET_P99_MS:.2f}× the target)"
    )
    print(f"  machine load (1-minute average, {os.cpu_count()} cores) at the end: {os.getloadavg()[0]:.1f}")
    print(
        f"  answered passively: {figures['passive']:.1%} of turns; "
        f"answers WeChat would have retried (≥ {WAIT:.0f} s): {figures['late']}"
    )


if __name__ == "__main__":
    main()
