"""Benchmark: the staff side and the negotiation through the engine on a SQLite file.

Each case, after its borrower submitted it (not measured): a mediator opens and approves it, the lender's
staff open it and counter-offer through the guided dialog, the borrower accepts, both confirm the agreement
(which renders the agreement text and creates the instalments). Every turn also notifies the others involved.

Prints turns/s and p50/p99 per turn, and, as the baseline from the same run, the borrower flow's messages/s
(the flow of ``bench/dialog_throughput.py``): the ratio is a negotiation turn against an application one.
There is no DESIGN target for it; it is here so that changes to the negotiation are measured.

Run ``python bench/negotiation.py`` (``--cases``, ``--workers`` to change the sizes).
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from dialog_throughput import Buttons, Codes, NullChannel, _flow, _percentiles, borrower

from bot.app import build_app
from bot.settings import load_settings
from dialogs.domain import Channel, Role
from dialogs.messages import Inbound, InboundKind, Queued
from storage.crypto import FieldCipher, generate_secret
from storage.db import create_engine
from storage.migrate import upgrade
from storage.store import SqlStore


class Person:
    def __init__(self, user: str, engine: Any, buttons: Buttons, latencies: list[float] | None) -> None:
        self.user, self.engine, self.buttons, self.latencies, self.sent = user, engine, buttons, latencies, 0

    async def say(self, kind: InboundKind, payload: str) -> None:
        self.sent += 1
        inbound = Inbound(
            Channel.TERMINAL,
            self.user,
            self.user,
            f"{self.user}-negotiation-{self.sent}",
            kind,
            payload,
            "en",
        )
        started = time.perf_counter()
        await self.engine.handle(inbound)
        if self.latencies is not None:
            self.latencies.append(time.perf_counter() - started)

    async def press(self, suffix: str) -> None:
        choice = next(c for c in self.buttons.last[self.user] if c.split(".", 1)[1].startswith(suffix))
        await self.say(InboundKind.CHOICE, choice)


async def negotiate(
    case_id: int, n: int, mediator: Person, engine: Any, buttons: Buttons, latencies: list[float]
) -> None:
    staff = Person(f"staff{n}", engine, buttons, latencies)
    alice = Person(f"u{n}", engine, buttons, latencies)
    await mediator.say(InboundKind.CHOICE, f"0.g:open:{case_id}")
    await mediator.press("approve")
    await staff.say(InboundKind.CHOICE, f"0.g:open:{case_id}")
    await staff.press("counter")
    await staff.press("term_extension_equal_instalment")
    await staff.say(InboundKind.TEXT, "12")
    await staff.say(InboundKind.TEXT, "1500")
    await staff.press("send")
    await alice.say(InboundKind.CHOICE, f"0.g:open:{case_id}")
    await alice.press("accept")
    await alice.say(InboundKind.CHOICE, f"0.g:confirm:{case_id}:1")
    await staff.say(InboundKind.CHOICE, f"0.g:confirm:{case_id}:1")


async def run(path: Path, cases: int, workers: int) -> dict[str, float]:
    url = f"sqlite:///{path}"
    await upgrade(url)
    store = SqlStore(create_engine(url), FieldCipher(generate_secret().encode()))
    for n in range(cases):  # a lender per case: each staff member is told about their own case only
        await store.add_lender(f"Lender {n}")
        await store.import_loan_book(f"Lender {n}", [borrower(n)])
        await store.grant_role(Channel.TERMINAL, f"staff{n}", Role.LENDER, lender_name=f"Lender {n}")
    for w in range(workers):
        await store.grant_role(Channel.TERMINAL, f"op{w}", Role.OPERATOR)
    codes, buttons = Codes(), Buttons()
    app = build_app(
        load_settings(database_url=url), {Channel.TERMINAL: NullChannel()}, code_sender=codes, store=store
    )
    submit = app.delivery.submit

    def deliver(queued: Sequence[Queued]) -> None:
        buttons.record(queued)
        submit(queued)

    app.engine._deliver = deliver
    async with app.running():
        applying: list[float] = []
        gate = asyncio.Semaphore(workers)

        async def apply(n: int) -> int:
            async with gate:
                return await _flow(n, app.engine, buttons, codes, applying)

        started = time.perf_counter()
        sent = sum(await asyncio.gather(*(apply(n) for n in range(cases))))
        applied_rate = sent / (time.perf_counter() - started)
        case_of = {}
        for n in range(cases):
            account = await store.ensure_account(Channel.TERMINAL, f"u{n}")
            case_of[n] = (await store.cases_of(account.id))[-1].id

        latencies: list[float] = []

        async def worker(w: int) -> None:
            mediator = Person(f"op{w}", app.engine, buttons, latencies)
            for n in range(w, cases, workers):
                await negotiate(case_of[n], n, mediator, app.engine, buttons, latencies)

        started = time.perf_counter()
        await asyncio.gather(*(worker(w) for w in range(workers)))
        elapsed = time.perf_counter() - started
        await app.delivery.drain()
        states = [(await store.case(case_of[n])).state.value for n in range(cases)]
        active = states.count("active")
    return {
        "turns": len(latencies),
        "rate": len(latencies) / elapsed,
        "applied_rate": applied_rate,
        "active": active,
        **_percentiles(latencies),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=200)
    parser.add_argument("--workers", type=int, default=16, help="mediators working at once")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as directory:
        figures = asyncio.run(run(Path(directory) / "bench.db", args.cases, args.workers))
    print(f"negotiation: {args.cases} cases, {args.workers} mediators at once, SQLite file (WAL)")
    print(
        f"  ours:             {figures['rate']:.0f} turns/s  p50 {figures['p50_ms']:.1f} ms"
        f"  p99 {figures['p99_ms']:.1f} ms  ({figures['turns']} turns; {figures['active']} active)"
    )
    print(
        f"  baseline, the borrower flow in the same run: {figures['applied_rate']:.0f} msg/s"
        f"  ours / baseline = {figures['rate'] / figures['applied_rate']:.2f}"
    )


if __name__ == "__main__":
    main()
