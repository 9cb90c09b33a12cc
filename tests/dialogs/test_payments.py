"""A running plan through the engine: the borrower reports payments, the lender's staff confirm or dispute
them, a mediator resolves a dispute; /schedule shows each instalment's state; bad input changes nothing.

The demo plan (interest stopped): 18 instalments of ¥795.64 (the last ¥795.67) from December 2, 2026,
¥14,321.55 in all. After each step the test compares what the store holds with what was typed.
"""

from __future__ import annotations

import asyncio
import itertools
import shutil
import tempfile
from collections.abc import Awaitable, Callable
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from bot.channels.terminal import plain
from dialogs import supervision
from dialogs.domain import Channel
from dialogs.errors import DomainError, PermissionDenied
from dialogs.lifecycle import CaseState
from dialogs.messages import Inbound, InboundKind
from dialogs.ports import Turn
from storage import models
from storage.migrate import upgrade
from tests.conftest import FakeClock
from tests.dialogs.harness import Bot, Person, lender_staff, running_bot
from tests.dialogs.test_negotiation import approved

D = Decimal
MONTHLY = D("795.64")
REFUSED = "that is not something you can do here. Nothing was changed."
Instalments = list[tuple[int, Decimal, Decimal, str, bool]]
Payments = list[tuple[Decimal, str, str]]


async def active_plan(bot: Bot) -> tuple[Person, Person, Person]:
    """The demo borrower's own plan, accepted by the lender and confirmed by both: the case is active."""
    alice, olga, leo = await approved(bot)
    await leo.press("View and answer")
    await leo.press("Accept")
    alice.received()
    await alice.press("Confirm this agreement")
    await leo.press("Confirm this agreement")
    assert "Agreed: both sides confirmed version 1" in leo.texts()
    assert await case_state(bot) is CaseState.ACTIVE
    for person in (alice, olga, leo):
        person.received()
    return alice, olga, leo


async def case_state(bot: Bot, user: str = "alice") -> CaseState:
    account = await bot.store.ensure_account(Channel.TERMINAL, user)
    return (await bot.store.cases_of(account.id))[-1].state


async def stored(bot: Bot) -> tuple[Instalments, Payments]:
    """What the store holds: instalments (number, amount, paid, status, moved), payments (amount, day,
    status)."""
    async with bot.store.unit() as session:
        rows = await session.scalars(select(models.Instalment).order_by(models.Instalment.number))
        instalments = [(r.number, r.amount, r.paid_amount, r.status, r.moved) for r in rows]
        payments = await session.scalars(select(models.Payment).order_by(models.Payment.id))
        return instalments, [(p.amount, p.paid_on.isoformat(), p.status) for p in payments]


def at(clock: FakeClock, day: str, hour: int = 3) -> None:
    """Move the clock to ``day`` at ``hour`` UTC (11:00 in Shanghai at the default hour)."""
    clock.current = datetime.fromisoformat(day).replace(hour=hour, tzinfo=UTC)


def received(person: Person) -> str:
    return "\n".join(plain(m.text) for m in person.received())


async def send_receipt(person: Person) -> None:
    await person.deliver(
        person.inbound(
            InboundKind.FILE,
            "",
            size=48_000,
            sha256="ab" * 32,
            ref="telegram:file-17",
            name="transfer.jpg",
            mime="image/jpeg",
        )
    )


async def report(person: Person, amount: str, day: str | None = None, *, receipt: bool = False) -> None:
    """The borrower reports a payment from /schedule: amount typed, day chosen (today) or typed."""
    await person.send("/schedule")
    await person.press("Report a payment")
    assert "How much did you pay" in person.texts(), person.texts()
    await person.send(amount)
    assert "On which day did you pay" in person.texts(), person.texts()
    if day is None:
        await person.press("Today")
    else:
        await person.send(day)
    assert "receipt" in person.texts(), person.texts()
    if receipt:
        await send_receipt(person)
    else:
        await person.press("No receipt")
    assert "Please check your report" in person.texts(), person.texts()
    await person.press("Send it to the lender")
    assert "was sent to the lender to confirm" in person.texts(), person.texts()


async def test_reported_payments_confirmed_in_order_partial_and_over(bot: Bot, clock: FakeClock) -> None:
    alice, olga, leo = await active_plan(bot)
    await alice.send("/schedule")
    schedule = alice.texts()
    assert "1. December 2, 2026 – ¥795.64 – upcoming" in schedule
    assert "18. May 2, 2028 – ¥795.67 – upcoming" in schedule
    assert "Still to pay: ¥14,321.55" in schedule

    # December: ¥800 with a receipt, a little more than the instalment
    at(clock, "2026-12-01")
    await report(alice, "¥800", receipt=True)
    assert "Receipt: transfer.jpg" in "\n".join(plain(m.text) for m in bot.recorder.inbox["alice"])
    told = received(leo)
    assert "reports a payment of ¥800.00 made on December 1, 2026, with a receipt" in told
    instalments, payments = await stored(bot)
    assert payments == [(D("800.00"), "2026-12-01", "reported")]
    assert all(paid == 0 for _, _, paid, _, _ in instalments)  # waiting is not paid
    async with bot.store.unit() as session:
        receipts = select(models.EvidenceFile).where(models.EvidenceFile.purpose == "payment")
        receipt = await session.scalar(receipts)
    assert receipt is not None and receipt.sha256 == "ab" * 32
    await leo.send("/schedule 1")
    assert "¥800.00 paid December 1, 2026 – waiting for the lender to confirm" in leo.texts()

    await leo.press("Confirm ¥800.00 received")
    assert "You confirmed that the payment of ¥800.00" in leo.texts()
    told = received(alice)
    assert "Next: ¥791.28 due January 2, 2027 (instalment 2)" in told, told
    instalments, payments = await stored(bot)
    assert payments == [(D("800.00"), "2026-12-01", "confirmed")]
    assert instalments[0] == (1, MONTHLY, MONTHLY, "paid", False)
    assert instalments[1] == (2, MONTHLY, D("4.36"), "partly_paid", False)  # the overpayment carried forward
    assert instalments[2][2:4] == (D(0), "due")

    # January: a partial payment, the day typed
    at(clock, "2027-01-02")
    await report(alice, "400", "2027-01-02")
    await leo.press("Confirm ¥400.00 received")
    instalments, payments = await stored(bot)
    assert payments[-1] == (D("400.00"), "2027-01-02", "confirmed")
    assert instalments[1] == (2, MONTHLY, D("404.36"), "partly_paid", False)  # the rest stays due
    at(clock, "2027-01-05")
    await alice.send("/schedule")
    schedule = alice.texts()
    assert "2. January 2, 2027 – ¥795.64 – late, ¥404.36 paid" in schedule
    assert "Paid so far: ¥1,200.00 of ¥14,321.55. Still to pay: ¥13,121.55." in schedule
    assert "I can't pay an instalment: move it to the end" in schedule  # a late one can be moved

    # The mediator sees the same schedule through the case
    await olga.send("/schedule 1")
    assert "2. January 2, 2027 – ¥795.64 – late, ¥404.36 paid" in olga.texts()


async def test_a_disputed_payment_is_resolved_by_the_mediator(bot: Bot, clock: FakeClock) -> None:
    alice, olga, leo = await active_plan(bot)
    at(clock, "2026-12-02")
    await report(alice, "795.64")
    await leo.press("has not arrived")
    assert "Why has the payment of ¥795.64" in leo.texts()
    await leo.send("Nothing from this borrower reached our account on December 2.")
    await leo.press("Send it")
    assert "A mediator will look at it" in leo.texts()
    told = received(alice)
    assert 'not translated): "Nothing from this borrower reached our account on December 2."' in told, told
    _, payments = await stored(bot)
    assert payments == [(D("795.64"), "2026-12-02", "disputed")]
    async with bot.store.unit() as session:
        row = await session.scalar(select(models.Payment))
    assert row is not None and row.dispute_reason_enc is not None
    assert b"borrower" not in row.dispute_reason_enc  # the staff's words are encrypted at rest

    notice = received(olga)
    assert "Disputed payment on case 1" in notice and "Nothing from this borrower" in notice
    await olga.press("was paid: count it")
    await olga.press("Yes, decide it")
    assert "You found that" in olga.texts() and "The mediator found that" in received(alice) + received(leo)
    instalments, payments = await stored(bot)
    assert payments == [(D("795.64"), "2026-12-02", "confirmed")]
    assert instalments[0][2:4] == (MONTHLY, "paid")

    # A second one the mediator rejects: told to both, nothing applied
    at(clock, "2027-01-02")
    await report(alice, "500")
    await leo.press("has not arrived")
    await leo.send("No transfer of ¥500 arrived.")
    await leo.press("Send it")
    olga.received()
    await olga.send("/escalations")  # the mediator's list holds it until it is decided
    await olga.press("#1")
    view = olga.texts()
    assert "Why it is with you: a payment the lender disputes." in view
    assert "[¥500.00 was paid: count it]" in view and "[See the schedule]" in view
    await olga.press("not shown: do not count it")
    await olga.press("Yes, decide it")
    assert "cannot be counted" in received(alice) and "is not counted" in received(leo)
    assert any(b.label == "Talk to a person" for m in alice.last for b in m.buttons)  # proof goes to a person
    instalments, payments = await stored(bot)
    assert payments[-1] == (D("500.00"), "2027-01-02", "rejected")
    await olga.send("/escalations")
    assert "#1" not in olga.texts()
    await olga.send("/case 1")
    await olga.press("See the schedule")
    assert "2. January 2, 2027 – ¥795.64 – due today" in olga.texts()  # the schedule as it stands
    assert instalments[1][2:4] == (D(0), "due")
    await alice.send("/status")
    status = alice.texts()
    assert "payment reported" in status and "payment not counted (the mediator's decision)" in status


async def test_bad_input_is_answered_kindly_and_changes_nothing(bot: Bot, clock: FakeClock) -> None:
    alice, olga, leo = await active_plan(bot)
    at(clock, "2026-12-02")
    before = await stored(bot)
    await alice.send("/schedule")
    await alice.press("Report a payment")
    for typed, answer in (
        ("-100", "A payment needs an amount above zero"),
        ("abc", "Please give an amount in yuan"),
        ("0", "A payment needs an amount above zero"),
        ("20000", "That is more than the ¥14,321.55 still to pay"),
        ("99999999999999", "That amount is out of range"),
        ("nothing", "A payment needs an amount above zero"),
    ):
        await alice.send(typed)
        assert answer in alice.texts() and "How much did you pay" in alice.texts(), (typed, alice.texts())
        assert "On which day" not in alice.texts(), typed
    await alice.send("795.64")
    for typed, answer in (
        ("2026-12-03", "That day has not come yet (today is December 2, 2026)"),
        ("tomorrow", "That day has not come yet"),  # understood, and not yet come
        ("someday", "I could not read that as a day. Type it like 2026-12-02"),
        ("2026-10-01", "before this agreement began"),
    ):
        await alice.send(typed)
        assert answer in alice.texts(), (typed, alice.texts())
    await alice.press("Cancel")
    assert "Nothing was reported" in alice.texts()
    assert await stored(bot) == before

    # A button for someone else's case, a borrower's forged confirmation, a stale one
    bob = bot.person("bob")
    await bob.send("/start")
    await bob.deliver(bob.inbound(InboundKind.CHOICE, "0.g:pay:1"))
    assert REFUSED in bob.texts(), bob.texts()
    await report(alice, "795.64")
    await alice.deliver(alice.inbound(InboundKind.CHOICE, "0.g:payok:1:1"))
    assert REFUSED in alice.texts(), alice.texts()
    assert (await stored(bot))[1] == [(D("795.64"), "2026-12-02", "reported")]
    await leo.deliver(leo.inbound(InboundKind.CHOICE, "0.g:payok:2:1"))  # the payment is not on case 2
    assert REFUSED in leo.texts(), leo.texts()
    await leo.deliver(leo.inbound(InboundKind.CHOICE, "0.g:payyes:1:1"))  # a mediator's button
    assert REFUSED in leo.texts(), leo.texts()
    assert (await stored(bot))[1] == [(D("795.64"), "2026-12-02", "reported")]
    await leo.press("Confirm ¥795.64 received")
    await leo.press("Confirm ¥795.64 received")  # pressed again
    assert "was already decided: confirmed. Nothing was changed." in leo.texts()
    await leo.press("has not arrived")  # a dispute after it was confirmed
    assert "was already decided" in leo.texts()
    instalments, payments = await stored(bot)
    assert payments == [(D("795.64"), "2026-12-02", "confirmed")]
    assert [i[2] for i in instalments[:2]] == [MONTHLY, D(0)]
    await olga.deliver(olga.inbound(InboundKind.CHOICE, "0.g:payno:1:1"))  # not disputed: nothing to resolve
    assert "was already decided" in olga.texts()
    assert (await stored(bot))[1] == payments


async def test_a_colleague_decides_while_the_reason_is_written(bot: Bot, clock: FakeClock) -> None:
    alice, olga, leo = await active_plan(bot)
    lena = await lender_staff(bot, olga, user="lena")
    at(clock, "2026-12-02")
    await report(alice, "795.64")
    await leo.press("has not arrived")
    assert "Why has the payment of ¥795.64" in leo.texts()
    await lena.press("Confirm ¥795.64 received")
    assert "The lender confirmed" in received(leo)
    await leo.send("I cannot see it in our account.")
    await leo.press("Send it")
    assert "was already decided: confirmed. Nothing was changed." in leo.texts()
    assert "cannot find" not in received(alice)
    _, payments = await stored(bot)
    assert payments == [(D("795.64"), "2026-12-02", "confirmed")]


async def test_a_report_sent_just_after_a_breach_is_recorded_against_the_case(
    bot: Bot, clock: FakeClock
) -> None:
    alice, _, _ = await active_plan(bot)
    at(clock, "2026-12-18")
    await alice.send("/schedule")
    await alice.press("Report a payment")
    await alice.send("795.64")
    await alice.press("Today")
    await alice.press("No receipt")
    assert "Please check your report" in alice.texts()
    await supervision.sweep(bot.app.engine, bot.store, clock.now())  # instalment 1 is 16 days late
    await bot.app.delivery.drain()
    assert await case_state(bot) is CaseState.DEFAULTED
    await alice.press("Send it to the lender")  # money paid after a breach still counts (trial 3, item 5)
    assert "was sent to the lender to confirm" in alice.texts(), alice.texts()
    assert (await stored(bot))[1] == [(D("795.64"), "2026-12-18", "reported")]
    await alice.deliver(alice.inbound(InboundKind.CHOICE, "0.g:pay:1"))
    assert "How much did you pay" in alice.texts()


# Whatever a borrower types into the report (any text, amounts of every shape, dates, forged buttons), the
# bot answers kindly and nothing is recorded until the report is checked and sent.
TYPED = st.one_of(
    st.text(max_size=60),
    st.decimals(allow_nan=True, allow_infinity=True).map(str),
    st.sampled_from(["-795.64", "0", "0.001", "1e9", "１２３", "三千", "¥1,000.00", "NaN", "2026-13-01"]),
    st.dates().map(date.isoformat),
    st.text(max_size=30).map(lambda s: "0.g:" + s),
)


@pytest.fixture(scope="module")
def running_plan(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A SQLite database with the demo plan running (made once; each example works on a copy)."""
    path = tmp_path_factory.mktemp("plan") / "plan.db"

    async def make() -> None:
        await upgrade(f"sqlite:///{path}")
        async with running_bot(f"sqlite:///{path}", FakeClock()) as bot:
            await active_plan(bot)

    asyncio.run(make())
    return path


async def _typed_into_the_report(database: Path, typed: list[str]) -> None:
    clock = FakeClock()
    at(clock, "2026-12-02")
    async with running_bot(f"sqlite:///{database}", clock, demo=False) as bot:
        before = await stored(bot)
        alice = bot.person("alice")
        await alice.send("/schedule")
        await alice.press("Report a payment")
        for text in typed:
            kind = InboundKind.CHOICE if text.startswith("0.g:") else InboundKind.TEXT
            replies = await alice.deliver(alice.inbound(kind, text))
            assert replies, f"no reply to {text!r}"
            assert not any("went wrong on our side" in plain(r.text) for r in replies), alice.texts()
        assert await stored(bot) == before


@settings(max_examples=25, deadline=None)
@given(typed=st.lists(TYPED, min_size=1, max_size=6))
def test_nothing_typed_into_a_report_records_a_payment(running_plan: Path, typed: list[str]) -> None:
    with tempfile.TemporaryDirectory() as directory:
        database = Path(directory) / "plan.db"
        shutil.copy(running_plan, database)
        asyncio.run(_typed_into_the_report(database, typed))


DIRECT = itertools.count(1)


async def as_person(bot: Bot, user: str, work: Callable[[Turn], Awaitable[object]]) -> object:
    """Call the store directly in ``user``'s turn (what a flow would do), bypassing the dialogs' checks."""
    async with bot.store.batch() as batch:
        inbound = Inbound(Channel.TERMINAL, user, user, f"direct-{next(DIRECT)}", InboundKind.TEXT, "")
        await batch.prepare([inbound])
        async with batch.turn(inbound) as turn:
            assert turn is not None
            return await work(turn)


async def test_the_store_itself_refuses_what_a_role_may_not_do(bot: Bot, clock: FakeClock) -> None:
    alice, _, _ = await active_plan(bot)
    bob = bot.person("bob")
    await bob.send("/start")
    at(clock, "2026-12-02")
    await report(alice, "795.64")
    before = await stored(bot)
    today = date(2026, 12, 2)
    refused: list[tuple[str, Callable[[Turn], Awaitable[object]]]] = [
        ("leo", lambda t: t.report_payment(1, D("10.00"), today, None)),  # staff do not report
        ("olga", lambda t: t.report_payment(1, D("10.00"), today, None)),
        ("bob", lambda t: t.report_payment(1, D("10.00"), today, None)),  # someone else's case
        ("bob", lambda t: t.payments(1)),
        ("alice", lambda t: t.confirm_payment(1)),  # the borrower does not confirm her own payment
        ("olga", lambda t: t.confirm_payment(1)),  # a mediator resolves disputes, not reports
        ("leo", lambda t: t.resolve_payment(1, True)),  # not disputed, and not staff's to resolve
        ("olga", lambda t: t.resolve_payment(1, True)),  # not disputed
        ("alice", lambda t: t.dispute_payment(1, "no")),
        ("leo", lambda t: t.move_instalment(1, 1, date(2028, 6, 2), 1)),  # the borrower's to ask
        ("alice", lambda t: t.move_instalment(1, 1, date(2027, 1, 2), 1)),  # not to the end of the plan
        ("alice", lambda t: t.move_instalment(1, 1, date(2028, 6, 2), 0)),  # no moves allowed
        ("alice", lambda t: t.report_payment(1, D("-1.00"), today, None)),
        ("alice", lambda t: t.report_payment(1, D("14321.56"), today, None)),  # more than owed
        ("alice", lambda t: t.report_payment(1, D("1.00"), date(2026, 12, 4), None)),  # days ahead
    ]
    for user, work in refused:
        with pytest.raises(DomainError):
            await as_person(bot, user, work)
    assert await stored(bot) == before
    for _ in range(4):  # five waiting at most: the sixth is refused
        await as_person(bot, "alice", lambda t: t.report_payment(1, D("1.00"), today, None))
    with pytest.raises(PermissionDenied):
        await as_person(bot, "alice", lambda t: t.report_payment(1, D("1.00"), today, None))
    assert len((await stored(bot))[1]) == 5
