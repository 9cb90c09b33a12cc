"""Negotiation mechanics (DESIGN §4): rounds, deadlines, splitting the difference, the blind bid, schedules.

Pure functions on exact money. An offer's terms are a plan record (:func:`dialogs.flows.plans.terms_record`):
``kind``, ``months``, ``monthly_amount``, ``total_repaid``, ``amount_waived``, ``amounts`` (every instalment).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import ROUND_CEILING, ROUND_HALF_UP, Decimal
from typing import Any

from dialogs.errors import InvalidInput
from dialogs.rules.money import FEN, require_money

DEFAULT_ROUND_LIMIT = 4
DEFAULT_ANSWER_HOURS = 72
# Bounds this close (as a share of what is owed) are "close": worth one more try rather than mediation.
DEFAULT_CLOSE_SHARE = Decimal("0.05")


@dataclass(frozen=True, slots=True)
class NegotiationPolicy:
    round_limit: int = DEFAULT_ROUND_LIMIT  # offers on a case before it goes to a mediator
    answer_hours: int = DEFAULT_ANSWER_HOURS  # how long the other side has to answer an offer
    close_share: Decimal = DEFAULT_CLOSE_SHARE

    def __post_init__(self) -> None:
        if not 1 <= self.round_limit <= 20:
            raise InvalidInput("the round limit must be from 1 to 20")
        if not 1 <= self.answer_hours <= 24 * 30:
            raise InvalidInput("the answer time must be from 1 hour to 30 days")
        if not Decimal(0) <= self.close_share < 1:
            raise InvalidInput("the close share must be a fraction below 1")

    def deadline(self, now: datetime) -> datetime:
        return now + timedelta(hours=self.answer_hours)


DEFAULT_NEGOTIATION = NegotiationPolicy()


def rounds_exhausted(offers_made: int, policy: NegotiationPolicy = DEFAULT_NEGOTIATION) -> bool:
    """Whether another offer would exceed the round limit (the case then goes to a mediator)."""
    return offers_made >= policy.round_limit


@dataclass(frozen=True, slots=True)
class Split:
    months: int
    monthly_amount: Decimal
    total_repaid: Decimal
    amounts: tuple[Decimal, ...]


def split_difference(older: dict[str, Any], newer: dict[str, Any]) -> Split:
    """Halfway between two offers: the mean term (rounded up) and the mean total, in equal instalments.

    The total is the midpoint of the two totals, to the fen (half up); the instalments are equal, rounded
    up to the fen, with the last one taking the difference so that they add up to the total exactly.
    """
    months = int(((Decimal(older["months"]) + Decimal(newer["months"])) / 2).to_integral_value(ROUND_CEILING))
    first = require_money("the first total", Decimal(str(older["total_repaid"])), allow_zero=False)
    second = require_money("the second total", Decimal(str(newer["total_repaid"])), allow_zero=False)
    total = ((first + second) / 2).quantize(FEN, ROUND_HALF_UP)
    months = min(months, int(total / FEN))  # every instalment is at least a fen
    return Split(months, *_equal(total, months))


def _equal(total: Decimal, months: int) -> tuple[Decimal, Decimal, tuple[Decimal, ...]]:
    if months < 1:
        raise InvalidInput("a plan has at least one instalment")
    if total < FEN * months:
        raise InvalidInput(f"{total} cannot be paid in {months} instalments of at least a fen")
    monthly = (total / months).quantize(FEN, ROUND_CEILING)
    last = total - monthly * (months - 1)
    while last <= 0:  # rounding up overshot (tiny totals over many months): fewer cents each
        monthly -= FEN
        last = total - monthly * (months - 1)
    return monthly, total, (*(monthly,) * (months - 1), last)


@dataclass(frozen=True, slots=True)
class BlindBidOutcome:
    settled: bool
    amount: Decimal | None  # the settlement, when the bounds overlapped
    close: bool  # no overlap, but within the close share of what is owed (only when a hint may be given)


def blind_bid(
    borrower_most: Decimal,
    lender_least: Decimal,
    owed: Decimal,
    policy: NegotiationPolicy = DEFAULT_NEGOTIATION,
    *,
    may_hint: bool = False,
) -> BlindBidOutcome:
    """Settle at the midpoint when the borrower's most covers the lender's least; otherwise say only how far.

    The outcome carries no bound. "No overlap" tells each side only that the other's bound lies beyond
    its own. The "close" hint tells a side that the other's bound lies within ``close_share`` of what is
    owed beyond its own: a band that wide, never narrower. Given at every round, hints from bids moved a
    little each time would bisect that band, so the flow allows one hint per case, and only after a first
    bid found no overlap (``may_hint``); the first round says nothing beyond "no overlap".
    """
    most = require_money("the borrower's bound", borrower_most, allow_zero=False)
    least = require_money("the lender's bound", lender_least, allow_zero=False)
    if most >= least:
        return BlindBidOutcome(True, ((most + least) / 2).quantize(FEN, ROUND_HALF_UP), False)
    return BlindBidOutcome(False, None, may_hint and hint_band(owed, policy) >= least - most)


def hint_band(owed: Decimal, policy: NegotiationPolicy = DEFAULT_NEGOTIATION) -> Decimal:
    """How wide the band is that a "close" hint leaves the other's bound in: the close share of the debt."""
    return owed * policy.close_share


def instalment_dates(agreed_on: date, count: int, holiday_months: int = 0) -> tuple[date, ...]:
    """Due dates: monthly from one month after agreement (after any holiday), on the same day of the month
    or the month's last day when it is shorter."""
    return tuple(_add_months(agreed_on, holiday_months + number) for number in range(1, count + 1))


def _add_months(day: date, months: int) -> date:
    month_index = day.month - 1 + months
    year, month = day.year + month_index // 12, month_index % 12 + 1
    for candidate in (day.day, 30, 29, 28):
        try:
            return date(year, month, min(day.day, candidate))
        except ValueError:
            continue
    raise AssertionError("unreachable: every month has 28 days")


def equal_plan(total: Decimal, months: int) -> tuple[Decimal, Decimal, tuple[Decimal, ...]]:
    """(monthly, total, amounts): ``total`` in ``months`` equal instalments, as :func:`split_difference`."""
    return _equal(require_money("the total", total, allow_zero=False), months)
