"""Negotiation rules: splitting the difference, the blind bid, instalment dates; properties over any input."""

from __future__ import annotations

import itertools
from datetime import date
from decimal import ROUND_DOWN, Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from dialogs.errors import InvalidInput
from dialogs.rules.money import FEN
from dialogs.rules.negotiation import (
    BlindBidOutcome,
    NegotiationPolicy,
    blind_bid,
    equal_plan,
    hint_band,
    instalment_dates,
    rounds_exhausted,
    split_difference,
)

MONEY = st.decimals(min_value=Decimal("0.01"), max_value=Decimal("1000000"), places=2)
MONTHS = st.integers(min_value=1, max_value=360)


def test_split_of_two_offers_is_halfway() -> None:
    split = split_difference(
        {"months": 12, "total_repaid": "14400.00"}, {"months": 18, "total_repaid": "17771.26"}
    )
    assert split.months == 15
    assert split.total_repaid == Decimal("16085.63")
    assert split.monthly_amount == Decimal("1072.38")
    assert sum(split.amounts) == split.total_repaid and len(split.amounts) == 15


@given(MONEY, MONEY, MONTHS, MONTHS)
def test_a_split_lies_between_the_offers_and_adds_up(a: Decimal, b: Decimal, m: int, n: int) -> None:
    split = split_difference({"months": m, "total_repaid": a}, {"months": n, "total_repaid": b})
    assert min(a, b) <= split.total_repaid <= max(a, b)
    assert 1 <= split.months <= max(m, n)
    assert split.months >= min(m, n) or split.total_repaid < Decimal("0.01") * min(m, n)
    assert sum(split.amounts) == split.total_repaid
    assert all(amount > 0 for amount in split.amounts)


def test_blind_bid_overlap_settles_at_the_midpoint() -> None:
    outcome = blind_bid(Decimal("9100"), Decimal("8900"), Decimal("15841.95"))
    assert outcome.settled and outcome.amount == Decimal("9000.00") and not outcome.close


def test_blind_bid_without_overlap_says_only_whether_close() -> None:
    assert blind_bid(Decimal("8500"), Decimal("9000"), Decimal("15841.95"), may_hint=True).close
    assert not blind_bid(Decimal("8500"), Decimal("9000"), Decimal("15841.95")).close  # the first round
    far = blind_bid(Decimal("5000"), Decimal("9000"), Decimal("15841.95"))
    assert not far.settled and far.amount is None and not far.close


@given(MONEY, MONEY, MONEY, st.booleans())
def test_a_blind_bid_settles_exactly_when_the_bounds_overlap(
    most: Decimal, least: Decimal, owed: Decimal, may_hint: bool
) -> None:
    outcome = blind_bid(most, least, owed, may_hint=may_hint)
    assert outcome.settled == (most >= least)
    if outcome.amount is not None:
        assert least <= outcome.amount <= most  # neither side pays or gets beyond their own bound
    else:
        assert outcome.close == (may_hint and least - most <= owed * NegotiationPolicy().close_share)


def _told_alike(most: Decimal, least: Decimal, owed: Decimal, told: BlindBidOutcome) -> bool:
    return least > 0 and most > 0 and blind_bid(most, least, owed, may_hint=True) == told


@given(MONEY, MONEY, MONEY)
def test_what_a_side_is_told_never_corners_the_other_bound_in_a_band_narrower_than_the_hints(
    most: Decimal, least: Decimal, owed: Decimal
) -> None:
    """From its own bound and what it is told, each side can narrow the other's bound to no band tighter
    than the hint's (the close share of the debt): every figure across that band is told alike."""
    told = blind_bid(most, least, owed, may_hint=True)
    if told.settled:
        return
    band = hint_band(owed).quantize(FEN, ROUND_DOWN)
    # The borrower's view: the lender's least, anywhere from just above their own figure to a band above.
    lenders = [most + FEN, most + band, most + 2 * band + FEN, 10 * (most + band) + FEN]
    alike = [b for b in lenders if _told_alike(most, b, owed, told)]
    assert max(alike) - min(alike) >= band - FEN
    # The lender's view: the borrower's most, from a band below their own figure to just below it (when
    # there is room below: nobody's figure goes under a fen).
    if least > 3 * band + 2 * FEN:
        borrowers = [least - FEN, least - band, least - 2 * band - FEN, FEN]
        alike = [b for b in borrowers if _told_alike(b, least, owed, told)]
        assert max(alike) - min(alike) >= band - FEN


@pytest.mark.parametrize("bad", [Decimal(0), Decimal("-1"), Decimal("0.001")])
def test_a_blind_bound_must_be_money(bad: Decimal) -> None:
    with pytest.raises(InvalidInput):
        blind_bid(bad, Decimal(100), Decimal(1000))


def test_instalments_fall_on_the_same_day_or_the_months_last() -> None:
    assert instalment_dates(date(2026, 1, 31), 3) == (date(2026, 2, 28), date(2026, 3, 31), date(2026, 4, 30))
    assert instalment_dates(date(2026, 11, 2), 2, holiday_months=3)[0] == date(2027, 3, 2)


@given(
    st.dates(min_value=date(2000, 1, 1), max_value=date(2100, 1, 1)), st.integers(1, 120), st.integers(0, 3)
)
def test_instalment_dates_are_monthly_and_increasing(start: date, count: int, holiday: int) -> None:
    days = instalment_dates(start, count, holiday)
    assert len(days) == count and all(a < b for a, b in itertools.pairwise(days))
    assert days[0] > start


@given(MONEY, MONTHS)
def test_equal_plans_add_up(total: Decimal, months: int) -> None:
    if total < Decimal("0.01") * months:
        with pytest.raises(InvalidInput):
            equal_plan(total, months)
        return
    monthly, repaid, amounts = equal_plan(total, months)
    assert repaid == total == sum(amounts) and all(a > 0 for a in amounts) and amounts[0] == monthly


def test_the_round_limit() -> None:
    policy = NegotiationPolicy(round_limit=4)
    assert not rounds_exhausted(3, policy) and rounds_exhausted(4, policy)
    with pytest.raises(InvalidInput):
        NegotiationPolicy(round_limit=0)
