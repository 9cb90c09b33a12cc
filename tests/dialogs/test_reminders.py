"""Instalment reminders driven by a controllable clock over a running agreement: at the borrower's local
times, never at night or over the daily cap (counted with the lender's words), not for what is paid, /quiet
honoured except for the final notice, nothing lost or doubled across a restart; the lenders' daily digest.
"""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select, update

from bot.scheduler import send_reminders
from dialogs.reminders import Supervision
from storage import models
from tests.conftest import FakeClock
from tests.dialogs.harness import Bot, Person, running_bot
from tests.dialogs.test_negotiation import approved

SHANGHAI = ZoneInfo("Asia/Shanghai")
REMINDER = "nstalment 1 of your repayment plan"


async def agreed(bot: Bot) -> tuple[Person, Person, Person]:
    """The demo borrower's plan, accepted and confirmed on Nov 2: instalments due on the 2nd of each month
    from December 2."""
    alice, olga, leo = await approved(bot)
    await leo.press("View and answer")
    await leo.press("Accept")
    await alice.press("Confirm this agreement")
    await leo.press("Confirm this agreement")
    for person in (alice, olga, leo):
        person.received()
    return alice, olga, leo


def local(day: int, month: int, hour: int, minute: int = 0, year: int = 2026) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=SHANGHAI).astimezone(UTC)


async def tick(bot: Bot, clock: FakeClock, at: datetime, supervision: Supervision | None = None) -> None:
    """The scheduler's minute at ``at``: reminders and digests, then held messages whose time has come."""
    clock.current = at
    await send_reminders(bot.app.engine, bot.store, clock, supervision or bot.app.supervision)
    await bot.app.delivery.release_due()
    await bot.app.delivery.drain()


async def walk(
    bot: Bot, clock: FakeClock, person: Person, start: datetime, days: int, hours: tuple[int, ...]
) -> list[tuple[datetime, str]]:
    """Tick at these local hours every day; what reached ``person``, with the local time it arrived."""
    arrived: list[tuple[datetime, str]] = []
    day = start.astimezone(SHANGHAI).date()
    for offset in range(days):
        for hour in hours:
            moment = datetime.combine(day + timedelta(days=offset), time(hour), SHANGHAI).astimezone(UTC)
            await tick(bot, clock, moment)
            arrived += [(moment.astimezone(SHANGHAI), m.text) for m in person.received()]
    return arrived


async def reminder_rows(bot: Bot) -> list[models.Reminder]:
    async with bot.store.unit() as session:
        query = select(models.Reminder).order_by(models.Reminder.due_at, models.Reminder.id)
        return list(await session.scalars(query))


async def pay_instalment(bot: Bot, number: int) -> None:
    """What S1's confirmed payment leaves on the row: the instalment paid in full."""
    async with bot.store.unit() as session:
        table = models.Instalment
        await session.execute(
            update(table).where(table.number == number).values(paid_amount=table.amount, status="paid")
        )


async def test_reminders_come_at_ten_local_on_their_days_and_never_for_a_paid_instalment(
    bot: Bot, clock: FakeClock
) -> None:
    alice, _, _ = await agreed(bot)
    # Nov 28 to Jan 10, every three hours of the local day and night.
    arrived = await walk(bot, clock, alice, local(28, 11, 0), 10, (2, 5, 8, 10, 13, 16, 19, 22))
    firsts = [(at, text) for at, text in arrived if REMINDER in text]
    assert [(at.month, at.day, at.hour) for at, _ in firsts] == [(11, 29, 10), (12, 2, 10), (12, 3, 10)]
    assert "is due on December 2, 2026, in 3 days" in firsts[0][1]
    assert "is due today" in firsts[1][1]
    assert "was due on December 2" in firsts[2][1]
    assert all(8 <= at.hour < 21 for at, _ in arrived)
    per_day = Counter(at.date() for at, _ in arrived)
    assert max(per_day.values()) <= 3
    # The second instalment is paid before its day: its -3 reminder went, nothing after it.
    arrived = await walk(bot, clock, alice, local(8, 12, 0), 3, (10,))
    assert sum("was due on December 2" in text for _, text in arrived) == 1  # the final notice, 7 days after
    assert "that is a breach of the agreement" in "".join(text for _, text in arrived)
    arrived = await walk(bot, clock, alice, local(29, 12, 0), 2, (10,))
    assert any("instalment 2 of your repayment plan" in text for _, text in arrived)
    await pay_instalment(bot, 2)
    arrived = await walk(bot, clock, alice, local(31, 12, 0), 12, (10,))
    assert not any("instalment 2 of" in text for _, text in arrived)
    second = [r for r in await reminder_rows(bot) if r.key.startswith("i2:")]
    assert [(r.offset_days, r.status, r.outcome) for r in second] == [
        (-3, "sent", "sent"),
        (0, "cancelled", "paid"),
        (1, "cancelled", "paid"),
        (7, "cancelled", "paid"),
    ]


async def test_a_reminder_due_at_night_goes_when_the_window_opens(
    database_url: str, clock: FakeClock
) -> None:
    # Reminders configured for 22:30 on the day (planned so when the agreement activates).
    async with running_bot(database_url, clock, reminder_days="0", reminder_time="22:30") as bot:
        alice, _, _ = await agreed(bot)
        [first] = [r for r in await reminder_rows(bot) if r.key.startswith("i1:")]
        assert first.due_at == local(2, 12, 22, 30)
        await tick(bot, clock, local(2, 12, 22, 30))
        await tick(bot, clock, local(3, 12, 3, 0))
        assert alice.received() == []
        await tick(bot, clock, local(3, 12, 7, 59))
        assert alice.received() == []
        await tick(bot, clock, local(3, 12, 8, 0))
        [reminder] = alice.received()
        assert "was due on December 2" in reminder.text
        await tick(bot, clock, local(3, 12, 8, 1))
        assert alice.received() == []


async def test_the_turn_that_activates_the_agreement_writes_its_reminder_rows(
    bot: Bot, clock: FakeClock
) -> None:
    alice, _, leo = await approved(bot)
    await leo.press("View and answer")
    await leo.press("Accept")
    await alice.press("Confirm this agreement")
    assert await reminder_rows(bot) == []  # one side only: no plan runs yet
    await leo.press("Confirm this agreement")
    # No scheduler has run: the rows came with the instalments, in the same commit.
    rows = await reminder_rows(bot)
    async with bot.store.unit() as session:
        instalments = list(
            await session.scalars(select(models.Instalment).order_by(models.Instalment.number))
        )
    assert len(instalments) == 18 and len(rows) == 18 * 4
    first = [(r.offset_days, r.due_at, r.status) for r in rows if r.instalment_id == instalments[0].id]
    assert first == [
        (-3, local(29, 11, 10), "pending"),
        (0, local(2, 12, 10), "pending"),
        (1, local(3, 12, 10), "pending"),
        (7, local(9, 12, 10), "pending"),
    ]
    # The scheduler's planning (the catch-up for older agreements) finds nothing left to plan.
    await tick(bot, clock, clock.now())
    assert len(await reminder_rows(bot)) == 18 * 4


async def mediator_writes(olga: Person, clock: FakeClock, *words: str) -> None:
    for text in words:
        clock.advance(minutes=1)
        await olga.send("/case 1")
        await olga.press("Message the borrower")
        await olga.send(text)


async def test_the_daily_cap_counts_reminders_with_other_collection_messages(
    bot: Bot, clock: FakeClock
) -> None:
    alice, olga, _ = await agreed(bot)
    clock.current = local(2, 12, 9)
    await mediator_writes(olga, clock, "Note 1 about your payment.", "Note 2.", "Note 3.")
    await bot.app.delivery.drain()
    assert sum("Note" in m.text for m in alice.received()) == 3
    await tick(bot, clock, local(2, 12, 10))
    assert alice.received() == []  # three collection messages today already: the reminder waits
    await tick(bot, clock, local(2, 12, 20, 59))
    assert alice.received() == []
    await tick(bot, clock, local(3, 12, 8))
    [held] = alice.received()
    assert "was due on December 2" in held.text  # true when it arrives, not when it fell due
    await tick(bot, clock, local(3, 12, 10))
    assert alice.received() == []  # the day-after reminder would repeat it two hours later: superseded
    rows = {r.key: (r.status, r.outcome) for r in await reminder_rows(bot) if r.key.startswith("i1:")}
    assert rows["i1:2026-12-02:+0"] == ("sent", "sent")
    assert rows["i1:2026-12-02:+1"] == ("cancelled", "superseded")
    # The final notice, a week after, also waits for a day with room.
    clock.current = local(9, 12, 9)
    await mediator_writes(olga, clock, "Note 4.", "Note 5.", "Note 6.")
    alice.received()
    await tick(bot, clock, local(9, 12, 10))
    assert alice.received() == []
    await tick(bot, clock, local(10, 12, 8))
    assert "that is a breach of the agreement" in alice.received()[0].text


async def test_quiet_stops_reminders_but_not_the_final_notice(bot: Bot, clock: FakeClock) -> None:
    alice, _, _ = await agreed(bot)
    clock.current = local(20, 11, 12)
    await alice.send("/quiet")
    assert "you will not get reminders about your instalments" in alice.texts()
    async with bot.store.unit() as session:
        quiet = await session.scalar(select(models.Account.quiet_since).where(models.Account.id == 1))
    assert quiet == clock.current
    arrived = await walk(bot, clock, alice, local(28, 11, 0), 14, (10,))
    texts = [text for _, text in arrived]
    assert len(texts) == 1, texts
    assert "was due on December 2" in texts[0] and "sent even when reminders are turned off" in texts[0]
    outcomes = [(r.offset_days, r.outcome) for r in await reminder_rows(bot) if r.key.startswith("i1:")]
    assert outcomes == [(-3, "quiet"), (0, "quiet"), (1, "quiet"), (7, "sent")]
    await alice.send("/quiet off")
    assert "Reminders are on again" in alice.texts()
    arrived = await walk(bot, clock, alice, local(30, 12, 0), 1, (10,))
    assert any("instalment 2 of your repayment plan" in text for _, text in arrived)
    await alice.send("/quiet maybe")
    assert '"maybe" is neither, so nothing was changed' in alice.texts()


async def test_a_restart_loses_and_doubles_nothing(database_url: str, clock: FakeClock) -> None:
    async with running_bot(database_url, clock) as bot:
        alice, _, _ = await agreed(bot)
        await tick(bot, clock, local(29, 11, 10))
        assert sum(REMINDER in m.text for m in alice.received()) == 1
        # A scheduler claims the day's reminder and dies before its turn runs (the lease is left behind).
        clock.current = local(2, 12, 10)
        await bot.store.plan_reminders(bot.app.supervision.policy, clock.current)
        assert len(await bot.store.claim_reminders(clock.current, timedelta(minutes=5), 10)) == 1
    # Down for five days: the on-the-day and the day-after reminders are both due when it starts again.
    async with running_bot(database_url, clock, demo=False) as bot:
        alice = bot.person("alice")
        await tick(bot, clock, local(7, 12, 10))
        await tick(bot, clock, local(7, 12, 10, 1))
        await tick(bot, clock, local(7, 12, 10, 2))
        texts = [m.text for m in alice.received()]
        assert len(texts) == 1, texts  # the latest one, saying what is true now; the earlier superseded
        assert "was due on December 2" in texts[0]
        await tick(bot, clock, local(9, 12, 10))
        assert sum("that is a breach of the agreement" in m.text for m in alice.received()) == 1
        await tick(bot, clock, local(9, 12, 10, 5))
        assert alice.received() == []
        rows = {r.key: (r.status, r.outcome) for r in await reminder_rows(bot) if r.key.startswith("i1:")}
        assert rows == {
            "i1:2026-12-02:-3": ("sent", "sent"),
            "i1:2026-12-02:+0": ("cancelled", "superseded"),
            "i1:2026-12-02:+1": ("sent", "sent"),
            "i1:2026-12-02:+7": ("sent", "sent"),
        }
        async with bot.store.unit() as session:
            box = models.OutboxMessage
            sent = await session.scalars(select(box.key).where(box.template == "reminders/instalment"))
            assert len(list(sent)) == 3


async def test_lenders_get_one_digest_a_day_when_there_is_something_to_say(
    bot: Bot, clock: FakeClock
) -> None:
    _, _, leo = await agreed(bot)
    await tick(bot, clock, local(2, 12, 9, 30))
    assert leo.received() == []  # nothing happened on Dec 1
    await tick(bot, clock, local(3, 12, 8, 59))
    assert leo.received() == []  # before the digest's hour
    await tick(bot, clock, local(3, 12, 9, 0))
    [digest] = leo.received()
    assert "Your daily summary for December 2, 2026" in digest.text
    assert "Instalments due that day and not reported paid: 1 case (#1)" in digest.text
    await tick(bot, clock, local(3, 12, 15, 0))
    assert leo.received() == []
    await tick(bot, clock, local(4, 12, 9, 0))
    assert leo.received() == []  # nothing new on Dec 3


async def test_a_payment_reported_from_the_reminder_stops_the_next_and_reaches_the_digest(
    bot: Bot, clock: FakeClock
) -> None:
    alice, _, leo = await agreed(bot)
    await tick(bot, clock, local(29, 11, 10))
    [reminder] = alice.received()
    assert "Report a payment" in [b.label for b in reminder.buttons]
    clock.current = local(29, 11, 12)
    await alice.press("Report a payment")  # the reminder's own button: the payment report begins
    assert "How much did you pay" in alice.texts(), alice.texts()
    await alice.send("795.64")
    await alice.press("Today")
    await alice.press("No receipt")
    await alice.press("Send it to the lender")
    assert "was sent to the lender to confirm" in alice.texts()
    leo.received()
    await leo.send("/schedule 1")
    await leo.press("Confirm ¥795.64 received")
    arrived = await walk(bot, clock, alice, local(30, 11, 0), 12, (10,))
    assert not any("nstalment 1 of your repayment plan" in text for _, text in arrived)
    outcomes = [(r.offset_days, r.outcome) for r in await reminder_rows(bot) if r.key.startswith("i1:")]
    assert outcomes == [(-3, "sent"), (0, "paid"), (1, "paid"), (7, "paid")]
    digests = [m.text for m in leo.received() if "daily summary" in m.text]
    assert len(digests) == 1 and "Your daily summary for November 29, 2026" in digests[0]
    assert "Payments reported by borrowers that day: 1 case (#1)" in digests[0]
    assert "Payments confirmed that day: 1 case (#1)" in digests[0]
    assert "waiting for you to confirm" not in digests[0]  # confirmed already


async def test_a_reminder_is_written_in_the_borrowers_language(bot: Bot, clock: FakeClock) -> None:
    alice, _, _ = await agreed(bot)
    async with bot.store.unit() as session:
        account = models.Account
        await session.execute(
            update(account).where(account.channel_user_id == "alice").values(locale="zh_CN")
        )
    await tick(bot, clock, local(29, 11, 10))
    [reminder] = alice.received()
    assert "温馨提醒：您的还款计划（案件 1）第 1 期还款 ¥795.64" in reminder.text
    assert "如不想收到此类提醒，请发送 /quiet" in reminder.text
    assert [b.label for b in reminder.buttons] == ["报告还款", "我的计划和还款"]


async def report_payment(alice: Person, amount: str) -> None:
    await alice.press("Report a payment")
    await alice.send(amount)
    await alice.press("Today")
    await alice.press("No receipt")
    await alice.press("Send it to the lender")
    assert "was sent to the lender to confirm" in alice.texts()


async def test_a_payment_waiting_for_the_lender_is_not_pressed_for(bot: Bot, clock: FakeClock) -> None:
    alice, _, leo = await agreed(bot)
    await tick(bot, clock, local(29, 11, 10))
    alice.received()
    clock.current = local(30, 11, 12)
    await report_payment(alice, "795.64")  # the lender has not confirmed it yet
    arrived = [text for _, text in await walk(bot, clock, alice, local(1, 12, 0), 10, (10,))]
    assert len(arrived) == 1, arrived  # only the final notice, which thanks them for the report
    assert "Thank you for reporting a payment: it is still waiting for Demo Lender" in arrived[0]
    outcomes = [(r.offset_days, r.outcome) for r in await reminder_rows(bot) if r.key.startswith("i1:")]
    assert outcomes == [(-3, "sent"), (0, "reported"), (1, "reported"), (7, "sent")]
    # The lender's staff are reminded of it every morning until they decide it.
    digests = [m.text for m in leo.received() if "daily summary" in m.text]
    assert len(digests) == 10  # November 30 to December 9, one each
    assert all("waiting for you to confirm or dispute them now: 1 case (#1)" in text for text in digests)


async def test_a_smaller_payment_waiting_does_not_silence_the_reminder(bot: Bot, clock: FakeClock) -> None:
    alice, _, _ = await agreed(bot)
    await tick(bot, clock, local(29, 11, 10))
    alice.received()
    clock.current = local(30, 11, 12)
    await report_payment(alice, "300")  # part of the instalment
    await tick(bot, clock, local(2, 12, 10))
    [reminder] = alice.received()
    assert "is due today" in reminder.text


async def test_a_moved_instalment_is_reminded_on_its_new_date_only(bot: Bot, clock: FakeClock) -> None:
    alice, _, _ = await agreed(bot)
    await walk(bot, clock, alice, local(29, 11, 0), 5, (10,))  # -3, on the day, the day after
    alice.received()
    clock.current = local(5, 12, 12)
    await alice.send("/schedule")
    await alice.press("move it to the end")
    await alice.press("Yes, move it")
    assert "now falls due on June 2, 2028" in alice.texts()
    # Planned in the turn that moved it, before any scheduler minute.
    planned = {r.key for r in await reminder_rows(bot) if r.instalment_id == 1}
    assert {"i1:2028-06-02:-3", "i1:2028-06-02:+7"} <= planned
    arrived = await walk(bot, clock, alice, local(6, 12, 0), 5, (10,))
    assert not any("nstalment 1 of your" in text for _, text in arrived)  # its +7 notice is void
    rows = [(r.key, r.status, r.outcome) for r in await reminder_rows(bot) if r.instalment_id == 1]
    assert ("i1:2026-12-02:+7", "cancelled", "moved") in rows
    assert [key for key, status, _ in rows if status == "pending"] == [
        "i1:2028-06-02:-3",
        "i1:2028-06-02:+0",
        "i1:2028-06-02:+1",
        "i1:2028-06-02:+7",
    ]


async def test_a_whole_plan_month_by_month_paid_on_each_due_day(bot: Bot, clock: FakeClock) -> None:
    """Eighteen instalments, each paid (reported and confirmed) on its day after that morning's reminder:
    every one is reminded three days before and on the day, at 10:00, never at night, and nothing after."""
    alice, _, leo = await agreed(bot)
    done: set[Any] = set()
    reminders_seen: list[datetime] = []
    async with bot.store.unit() as session:
        dues = list(
            await session.scalars(select(models.Instalment.due_date).order_by(models.Instalment.number))
        )
    # Each month, the days a reminder could fall on, morning and night: nothing else is due.
    days = sorted({d + timedelta(days=n) for d in dues for n in (-3, 0, 1, 7)})
    for day in days:
        for hour in (10, 23):
            clock.current = datetime.combine(day, time(hour), SHANGHAI).astimezone(UTC)
            await send_reminders(bot.app.engine, bot.store, clock, bot.app.supervision, done)
            await bot.app.delivery.release_due()
            await bot.app.delivery.drain()
            reminders_seen += [clock.current for m in alice.received() if "of your repayment plan" in m.text]
        if day in dues:
            clock.current = datetime.combine(day, time(12), SHANGHAI).astimezone(UTC)
            await report_payment(alice, "795.67" if day == dues[-1] else "795.64")
            leo.received()
            await leo.send("/schedule 1")
            await leo.press("received")
    local_times = [at.astimezone(SHANGHAI) for at in reminders_seen]
    assert all(at.time() == time(10) for at in local_times)
    expected = sorted({d - timedelta(days=3) for d in dues} | set(dues))
    assert [at.date() for at in local_times] == expected
    async with bot.store.unit() as session:
        state = await session.scalar(select(models.Case.state))
    assert state == "completed"
