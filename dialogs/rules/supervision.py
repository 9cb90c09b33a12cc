"""Supervising a running plan: payments applied to the schedule, each instalment's state on a day, the
tolerance (one missed instalment moved to the end, once), breach after the grace period, and completion.

Pure functions on exact ``Decimal`` yuan. Confirmed payments are applied as one sum to the instalments in
the order they fall due (oldest first): an overpayment runs on into the next instalments, a partial one
leaves the rest of that instalment due. Since only the sum is applied, the order in which payments were
confirmed never changes what is marked paid.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from decimal import Decimal
from enum import StrEnum
from zoneinfo import ZoneInfo

from dialogs.errors import InvalidInput
from dialogs.rules.money import ZERO, require_money
from dialogs.rules.negotiation import instalment_dates

DEFAULT_GRACE_DAYS = 15  # days past due before an unpaid instalment breaks the agreement (DESIGN §3)
DEFAULT_MOVES = 1  # missed instalments that may be moved to the end of the plan (DESIGN §4)


def local_day(moment: datetime, time_zone: str) -> date:
    """The calendar day ``moment`` falls on where the borrower lives: an agreement confirmed at 03:34 in
    Beijing starts on Beijing's day, not UTC's (still the day before). Every "day" of a plan is this one."""
    return moment.astimezone(ZoneInfo(time_zone)).date()


class InstalmentState(StrEnum):
    DUE = "due"
    PAID = "paid"
    PARTLY_PAID = "partly_paid"
    LATE = "late"
    MOVED = "moved"  # moved to the end of the plan and not yet due there


@dataclass(frozen=True, slots=True)
class Due:
    """One instalment of the schedule: what is owed and when (``moved``: the tolerance was used on it, and
    ``moved_from`` is the day it fell due before)."""

    number: int
    due_date: date
    amount: Decimal
    moved: bool = False
    moved_from: date | None = None


@dataclass(frozen=True, slots=True)
class Applied:
    """An instalment with the part of the confirmed payments applied to it."""

    number: int
    due_date: date
    amount: Decimal
    paid: Decimal
    moved: bool = False

    @property
    def left(self) -> Decimal:
        return self.amount - self.paid

    @property
    def settled(self) -> bool:
        return self.paid >= self.amount

    def state(self, today: date) -> InstalmentState:
        if self.settled:
            return InstalmentState.PAID
        if self.due_date < today:
            return InstalmentState.LATE
        if self.moved:
            return InstalmentState.MOVED
        return InstalmentState.PARTLY_PAID if self.paid > ZERO else InstalmentState.DUE


@dataclass(frozen=True, slots=True)
class Allocation:
    """The schedule with confirmed payments applied; ``credit``: paid beyond the whole plan (never marked)."""

    instalments: tuple[Applied, ...]
    credit: Decimal

    @property
    def applied(self) -> Decimal:
        return sum((i.paid for i in self.instalments), ZERO)

    @property
    def total(self) -> Decimal:
        return sum((i.amount for i in self.instalments), ZERO)

    @property
    def left(self) -> Decimal:
        return self.total - self.applied

    @property
    def complete(self) -> bool:
        return all(i.settled for i in self.instalments)


def in_order(schedule: Iterable[Due]) -> list[Due]:
    """The order payments are applied in: by due date (a moved instalment is due last), then number."""
    return sorted(schedule, key=lambda due: (due.due_date, due.number))


def allocate(schedule: Sequence[Due], payments: Iterable[Decimal]) -> Allocation:
    """Apply confirmed payments, oldest instalment first; see the module docstring."""
    rows = in_order(schedule)
    if len({due.number for due in rows}) != len(rows):
        raise InvalidInput("instalment numbers must be unique")
    for due in rows:
        require_money(f"instalment {due.number}", due.amount, allow_zero=False)
    left = sum((require_money("a payment", p, allow_zero=False) for p in payments), ZERO)
    applied = []
    for due in rows:
        part = min(left, due.amount)
        left -= part
        applied.append(Applied(due.number, due.due_date, due.amount, part, due.moved))
    return Allocation(tuple(applied), left)


def first_unpaid(allocation: Allocation) -> Applied | None:
    return next((i for i in allocation.instalments if not i.settled), None)


def breached(allocation: Allocation, today: date, grace_days: int = DEFAULT_GRACE_DAYS) -> Applied | None:
    """The instalment that breaks the agreement: unpaid more than ``grace_days`` after it fell due."""
    limit = today - timedelta(days=grace_days)
    return next((i for i in allocation.instalments if not i.settled and i.due_date < limit), None)


def movable(allocation: Allocation) -> Applied | None:
    """The instalment the tolerance would move: the earliest unpaid one not moved before, late or not yet
    due (the agreement lets the borrower ask "by telling us before its due date"): the next one to pay."""
    return next((i for i in allocation.instalments if not i.settled and not i.moved), None)


class MoveRefusal(StrEnum):
    NOTHING_MISSED = "nothing_missed"  # every instalment is paid (or already moved): nothing to move
    USED = "used"  # the tolerance was used as often as the agreement allows
    SETTLEMENT = "settlement"  # a discounted settlement is void if missed: its clause, not the tolerance
    PAST_GRACE = "past_grace"  # the grace period has passed: the agreement is already broken


@dataclass(frozen=True, slots=True)
class Move:
    """The tolerance granted: instalment ``number`` moves from ``from_date`` to ``to_date``.

    What was already paid on it (``paid``) stays with it where it is: only what is still owed (``amount``)
    moves to the end. So no money changes instalment, the next instalment is still owed in full as agreed,
    and the total to repay is the same.
    """

    number: int
    from_date: date
    to_date: date
    amount: Decimal
    paid: Decimal = ZERO

    @property
    def split(self) -> bool:
        return self.paid > ZERO


def decide_move(
    allocation: Allocation,
    today: date,
    *,
    moves_allowed: int = DEFAULT_MOVES,
    settlement: bool = False,
    grace_days: int = DEFAULT_GRACE_DAYS,
) -> Move | MoveRefusal:
    """Whether the instalment missed (or about to be) may move to a month after the plan's last."""
    if settlement:
        return MoveRefusal.SETTLEMENT
    if sum(1 for i in allocation.instalments if i.moved) >= moves_allowed:
        return MoveRefusal.USED
    missed = movable(allocation)
    if missed is None:
        return MoveRefusal.NOTHING_MISSED
    if breached(allocation, today, grace_days) is not None:
        return MoveRefusal.PAST_GRACE
    last = max(i.due_date for i in allocation.instalments)
    to_date = instalment_dates(last, 1)[0]  # a month after the last
    return Move(missed.number, missed.due_date, to_date, missed.left, missed.paid)


def moved(schedule: Sequence[Due], move: Move) -> list[Due]:
    """The schedule with the move made. A partly paid instalment is split: the part paid stays on its day
    (settled), what is still owed becomes a new instalment at the end, numbered after the last."""
    after: list[Due] = []
    for due in schedule:
        if due.number != move.number:
            after.append(due)
        elif move.split:
            after.append(replace(due, amount=move.paid))
        else:
            after.append(replace(due, due_date=move.to_date, moved=True, moved_from=due.due_date))
    if move.split:
        number = max(due.number for due in schedule) + 1
        after.append(Due(number, move.to_date, move.amount, moved=True, moved_from=move.from_date))
    return after


@dataclass(frozen=True, slots=True)
class PaymentDays:
    """The days on which a payment reported under a plan can have been made: from the day the agreement
    began to today, both on the borrower's calendar. A payment before the agreement is already in the
    balance it starts from, and one after today has not been made yet. The question offers, and its
    examples name, only days in this range, so nothing it suggests is then refused."""

    first: date
    last: date  # today

    def accepts(self, day: date) -> bool:
        return self.first <= day <= self.last

    @property
    def only_today(self) -> bool:
        return self.first >= self.last

    @property
    def yesterday(self) -> date | None:
        """Yesterday, when a payment could have been made then (not on the agreement's first day)."""
        return None if self.only_today else self.last - timedelta(days=1)


def payment_days(today: date, plan_start: date | None) -> PaymentDays:
    """The range for a plan that began on ``plan_start`` (``None``: no agreement to count from). A start
    after today (the borrower's zone changed since) leaves today alone: a payment made today is always
    possible while the plan runs."""
    first = min(plan_start, today) if plan_start is not None else date.min
    return PaymentDays(first, today)
