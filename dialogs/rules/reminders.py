"""Instalment reminders (DESIGN §6): when each one is due, and which one the borrower must get even after
``/quiet``.

A reminder is planned at a day offset from its instalment's due date (default 3 days before, on the day,
1 and 7 days after), at a fixed local time of the borrower's day. The conduct window and the daily cap
(:mod:`dialogs.rules.conduct`) may still push it later when it comes due.

``/quiet`` opts out of non-essential messages only. The notice of a missed instalment that comes last
before the grace period ends (7 days after, by default) is the one the borrower must get: it says the
agreement is about to be broken and what they can still do, so it is sent whatever they chose.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from dialogs.errors import InvalidInput

DEFAULT_OFFSETS = (-3, 0, 1, 7)
DEFAULT_LOCAL_TIME = time(10)  # well inside the default 08:00-21:00 window
DEFAULT_GRACE_DAYS = 15
MAX_OFFSET = 60


@dataclass(frozen=True, slots=True)
class ReminderPolicy:
    """When reminders are due: day offsets from the due date, at ``local_time`` in the borrower's zone."""

    offsets: tuple[int, ...] = DEFAULT_OFFSETS
    local_time: time = DEFAULT_LOCAL_TIME
    grace_days: int = DEFAULT_GRACE_DAYS

    def __post_init__(self) -> None:
        if not self.offsets:
            raise InvalidInput("at least one reminder offset is needed")
        if len(set(self.offsets)) != len(self.offsets) or any(abs(d) > MAX_OFFSET for d in self.offsets):
            raise InvalidInput(f"reminder offsets are distinct whole days within ±{MAX_OFFSET}")
        if self.local_time.tzinfo is not None:
            raise InvalidInput("the reminders' time of day is a local time, without a zone")

    @property
    def essential_offset(self) -> int | None:
        """The last notice of a missed instalment before the grace period ends; ``None`` when no offset
        falls after the due date and inside the grace period."""
        overdue = [d for d in self.offsets if 0 < d < self.grace_days]
        return max(overdue) if overdue else None

    def moment(self, due: date, offset: int, time_zone: str) -> datetime:
        """When the reminder ``offset`` days from ``due`` is due, in UTC."""
        local = datetime.combine(due + timedelta(days=offset), self.local_time, ZoneInfo(time_zone))
        return local.astimezone(UTC)


def parse_offsets(text: str) -> tuple[int, ...]:
    """``"-3,0,1,7"`` → ``(-3, 0, 1, 7)``; refused in one line when not whole days."""
    parts = [part.strip() for part in text.split(",") if part.strip()]
    try:
        offsets = tuple(sorted(int(part) for part in parts))
    except ValueError:
        raise InvalidInput(f"reminder offsets are whole days separated by commas, got {text!r}") from None
    ReminderPolicy(offsets)  # the same checks as everywhere
    return offsets


@dataclass(frozen=True, slots=True)
class ReminderDue:
    """A reminder row as it comes due, with the facts of its instalment now."""

    id: int
    status: str  # pending, sent, cancelled
    due_at: datetime
    case_id: int
    case_state: str
    instalment_number: int
    due_date: date  # the instalment's due date now (it may have moved since the row was planned)
    planned_for: date | None  # the due date the row was planned for
    amount_left: Decimal  # what is still due on the instalment
    paid: bool
    essential: bool
    lender: str
    loan_ref: str
    quiet: bool  # the borrower opted out of non-essential messages
    # A payment the borrower reported is waiting for the lender (or a mediator): they said they paid.
    payment_waiting: bool = False
    reachable: bool = True  # False once the borrower blocked the bot: nothing can reach them there


@dataclass(frozen=True, slots=True)
class Claim:
    """A due reminder a scheduler holds the lease on: the turn's key names it and its due moment."""

    id: int
    account_id: int
    due_at: datetime


@dataclass(frozen=True, slots=True)
class Digest:
    """What a lender's staff read about one local day: cases where payments were reported or confirmed,
    instalments missed, agreements that ended in default; and, as the digest is written, cases with a
    reported payment still waiting for the staff to confirm or dispute it."""

    reported: Sequence[int] = field(default_factory=tuple)
    confirmed: Sequence[int] = field(default_factory=tuple)
    missed: Sequence[int] = field(default_factory=tuple)
    defaulted: Sequence[int] = field(default_factory=tuple)
    waiting: Sequence[int] = field(default_factory=tuple)

    @property
    def empty(self) -> bool:
        return not (self.reported or self.confirmed or self.missed or self.defaulted or self.waiting)


def why_not_sent(due: ReminderDue) -> str | None:
    """Why a reminder that came due is cancelled instead of sent; ``None`` when it should go."""
    reasons = (
        ("paid", due.paid or due.amount_left <= 0),
        ("not_active", due.case_state != "active"),
        ("unreachable", not due.reachable),
        ("moved", due.planned_for is not None and due.planned_for != due.due_date),
        ("quiet", due.quiet and not due.essential),
        # Never press someone who says they paid; the final notice still goes (and thanks them).
        ("reported", due.payment_waiting and not due.essential),
    )
    return next((why for why, holds in reasons if holds), None)
