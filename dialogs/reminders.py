"""Instalment reminders and the lenders' daily digest: scheduled work that re-enters through the engine.

The turn that activates an agreement (or moves an instalment) writes its reminder rows in its own commit;
each minute the scheduler plans rows for any instalment that still has none (the catch-up for agreements
activated before that was so), claims the rows that are due and runs one system turn per row, keyed by the
row and its due moment. The turn looks at the instalment as it is now: paid, moved, or the case no longer
running, the row is cancelled; the borrower opted out (``/quiet``) and the reminder is not the notice they
must get, it is cancelled; outside their hours or over the day's cap, it is due again when the next allowed
moment comes; otherwise it goes, in the borrower's language, and is marked sent in the same commit.

A restart loses nothing (the rows wait in the store and are claimed at once on start) and sends nothing
twice (the turn's key, the outbox row and the row's status commit together).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field, replace
from datetime import date, datetime, time, timedelta
from typing import Protocol
from zoneinfo import ZoneInfo

from dialogs.collection import collection_time, local_day
from dialogs.dispatch import Dialogs
from dialogs.engine import Engine, SystemAction
from dialogs.flows.base import Choice
from dialogs.flows.casework import GLOBAL, notify, open_case_choice
from dialogs.ports import Turn
from dialogs.rules.reminders import Claim, ReminderPolicy, why_not_sent

log = logging.getLogger(__name__)

CLAIM_LIMIT = 200
CLAIM_ROUNDS = 25  # a sweep claims again while pages come back full: thousands due at 10:00 go at 10:00
DIGEST_DAYS = 3  # a scheduler down for a day or two still sends the digests it missed
LEASE = timedelta(minutes=5)
DEFAULT_DIGEST_TIME = time(9)  # the lender's staff read the day before over breakfast
PAY = "pay"  # the global "Report a payment" button: g:pay:CASE


class ReminderStore(Protocol):
    """What the scheduler needs from the store beyond turns (storage.store.SqlStore implements it)."""

    async def plan_reminders(self, policy: ReminderPolicy, now: datetime) -> int: ...

    async def claim_reminders(self, now: datetime, lease: timedelta, limit: int) -> list[Claim]: ...

    async def digest_lenders(self) -> list[tuple[int, int]]: ...


@dataclass(frozen=True, slots=True)
class Supervision:
    """The settings the reminder and digest jobs run with."""

    policy: ReminderPolicy = field(default_factory=ReminderPolicy)
    digest_time: time = DEFAULT_DIGEST_TIME
    time_zone: str = "Asia/Shanghai"  # the lenders' day, for the digest


def pay_choice(case_id: int) -> Choice:
    return Choice(f"{GLOBAL}{PAY}:{case_id}", "reminder_pay", {"case_id": case_id})


def remind(claim: Claim, policy: ReminderPolicy) -> SystemAction:
    async def action(dialogs: Dialogs, turn: Turn) -> None:
        due = await turn.reminder_due(claim.id)
        if due is None or due.status != "pending" or due.due_at != claim.due_at:
            return  # finished or moved on by another turn since it was claimed
        why = why_not_sent(due)
        if why is not None:
            await turn.finish_reminder(due.id, why)
            return
        borrower = turn.account
        conduct = dialogs.services.conduct
        at = await collection_time(turn, conduct, due.case_id, borrower.time_zone, turn.now)
        if at > turn.now:
            await turn.defer_reminder(due.id, at)
            return
        today = turn.now.astimezone(ZoneInfo(borrower.time_zone)).date()
        ctx = dialogs.context(turn, await turn.conversation(), None)
        notify(
            ctx,
            [borrower],
            "reminders/instalment",
            pay_choice(due.case_id),
            open_case_choice(due.case_id, "reminder_plan"),
            case_id=due.case_id,
            number=due.instalment_number,
            due=due.due_date,
            amount=due.amount_left,
            days=(due.due_date - today).days,
            lender=due.lender,
            ref=due.loan_ref,
            final_notice=due.essential,
            payment_waiting=due.payment_waiting,
            grace_days=policy.grace_days,
        )
        await turn.finish_reminder(due.id, "sent")

    return action


async def sweep(engine: Engine, store: ReminderStore, now: datetime, policy: ReminderPolicy) -> int:
    """Plan what is missing, then send (or defer, or cancel) every reminder that is due; how many ran."""
    for _ in range(CLAIM_ROUNDS):  # a page at a time, until nothing is left to plan
        if not await store.plan_reminders(policy, now):
            break
    handled = 0
    for _ in range(CLAIM_ROUNDS):
        claims = await store.claim_reminders(now, LEASE, CLAIM_LIMIT)
        for claim in claims:
            key = f"reminder:{claim.id}:{claim.due_at:%Y%m%d%H%M%S}"
            try:
                await engine.run_system(claim.account_id, key, remind(claim, policy))
            except Exception as error:  # one bad row must not hold the others: it is tried again later
                _failed(error, "reminder %s could not be handled", claim.id)
        handled += len(claims)
        if len(claims) < CLAIM_LIMIT:
            break
    return handled


def digest(lender_id: int, day: date, time_zone: str, *, latest: bool = True) -> SystemAction:
    """``latest``: the digest of yesterday, which also lists what waits for the staff now (a late digest
    of an earlier day tells only that day's events)."""

    async def action(dialogs: Dialogs, turn: Turn) -> None:
        start, end = local_day(datetime.combine(day, time(12), ZoneInfo(time_zone)), time_zone)
        facts = await turn.lender_day(lender_id, day, start, end)
        if not latest:
            facts = replace(facts, waiting=())
        if facts.empty:
            return  # nothing to say: no message, and the day's key is spent
        ctx = dialogs.context(turn, await turn.conversation(), None)
        notify(
            ctx,
            await turn.digest_staff(lender_id),
            "reminders/digest",
            day=day,
            reported_cases=list(facts.reported),
            confirmed_cases=list(facts.confirmed),
            missed_cases=list(facts.missed),
            defaulted_cases=list(facts.defaulted),
            waiting_cases=list(facts.waiting),
        )

    return action


async def send_digests(
    engine: Engine,
    store: ReminderStore,
    now: datetime,
    supervision: Supervision,
    done: set[tuple[int, date]] | None = None,
) -> int:
    """Once the lenders' morning has come, each lender's digest of yesterday, once (keyed per lender and
    day); a scheduler that was down at that hour sends it when it starts, and those of the day or two
    before that it missed (oldest first). ``done``: what this process already handled (sent, found sent,
    or with nothing to say), so the minute job costs nothing once the morning's digests are out.
    Returns how many digest turns ran."""
    zone = ZoneInfo(supervision.time_zone)
    local = now.astimezone(zone)
    latest = local.date() - timedelta(days=1 if local.time() >= supervision.digest_time else 2)
    days = [latest - timedelta(days=back) for back in reversed(range(DIGEST_DAYS))]
    done = set() if done is None else done
    done -= {item for item in done if item[1] < days[0]}  # memory follows the days still looked at
    ran = 0
    for lender_id, account_id in await store.digest_lenders():
        for day in days:
            if (lender_id, day) in done:
                continue
            key = f"digest:{lender_id}:{day.isoformat()}"
            try:
                action = digest(lender_id, day, supervision.time_zone, latest=day == days[-1])
                await engine.run_system(account_id, key, action)
            except Exception as error:  # the next minute tries again: the key was not spent
                _failed(error, "the digest for lender %s could not be written", lender_id)
                continue
            done.add((lender_id, day))
            ran += 1
    return ran


def _failed(error: Exception, message: str, *args: object) -> None:
    # Another scheduler committed the same key at the same moment: the store refused this turn's copy
    # whole (the core names the store's error without importing it). That is the design, not a fault.
    if type(error).__name__ == "IntegrityError":
        log.info("already done by another scheduler: " + message, *args)
    else:
        log.exception(message, *args)
