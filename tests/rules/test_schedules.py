"""Instalment schedules: published bank figures, exact sums, rounding absorbed by the last instalment."""

from __future__ import annotations

import contextlib
import itertools
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dialogs.errors import InvalidInput
from dialogs.rules.schedules import (
    Instalment,
    Schedule,
    equal_instalment,
    equal_instalment_payment,
    equal_parts,
    equal_principal,
)

D = Decimal
FEN = D("0.01")
MORTGAGE_RATE = D("0.049") / 12  # the PBoC five-year-plus benchmark rate, quoted by every bank calculator

money = st.decimals(min_value=0, max_value=10_000_000, places=2)
rates = st.one_of(
    st.just(D(0)),
    st.decimals(min_value=0, max_value=D("0.36"), places=4).map(lambda annual: annual / 12),
    st.decimals(min_value=0, max_value=D("0.05"), places=6),
)
months = st.integers(min_value=1, max_value=360)
props = settings(max_examples=150, deadline=None)


def fen_bound(rate: Decimal, n: int) -> Decimal:
    """One fen per instalment, compounded at the rate: how far rounding can carry the last instalment."""
    return FEN * sum(((1 + rate) ** k for k in range(n)), D(0))


def test_published_equal_instalment_10000_at_1_percent_a_month() -> None:
    schedule = equal_instalment(D("10000.00"), D("0.01"), 12)
    assert schedule.first_amount == D("888.49")
    assert [i.amount for i in schedule.instalments[:-1]] == [D("888.49")] * 11
    assert schedule.principal_total == D("10000.00")
    assert schedule.instalments[0].interest == D("100.00")
    assert schedule.last_amount == D("888.47")  # the last absorbs eleven months of rounding
    assert schedule.total == D("10661.86")


def test_published_mortgage_equal_instalment_1_million_at_4_9_percent_over_30_years() -> None:
    assert equal_instalment_payment(D("1000000"), MORTGAGE_RATE, 360) == D("5307.27")
    schedule = equal_instalment(D("1000000"), MORTGAGE_RATE, 360)
    assert schedule.first_amount == D("5307.27")
    assert schedule.instalments[0].interest == D("4083.33")
    assert schedule.principal_total == D("1000000.00")
    assert abs(schedule.last_amount - schedule.first_amount) < D("3.60")  # under a fen per instalment


def test_published_mortgage_equal_principal_1_million_at_4_9_percent_over_30_years() -> None:
    schedule = equal_principal(D("1000000"), MORTGAGE_RATE, 360)
    first, second = schedule.instalments[:2]
    assert (first.principal, first.interest, first.amount) == (D("2777.78"), D("4083.33"), D("6861.11"))
    assert second.amount == D("6849.77")  # falls by 2,777.78 × 4.9 % / 12 = 11.34 a month
    assert schedule.largest_amount == schedule.first_amount
    assert schedule.principal_total == D("1000000.00")
    assert schedule.instalments[-1].remaining_principal == 0


def test_equal_parts_put_the_remainder_on_the_last() -> None:
    schedule = equal_parts(D("100.00"), 3)
    assert [i.amount for i in schedule.instalments] == [D("33.33"), D("33.33"), D("33.34")]
    assert [i.remaining_principal for i in schedule.instalments] == [D("66.67"), D("33.34"), D("0.00")]


def test_rate_zero_equal_instalment_is_equal_parts() -> None:
    assert equal_instalment(D("1000.00"), D(0), 7) == equal_parts(D("1000.00"), 7)
    assert equal_principal(D("1000.00"), D(0), 7).interest_total == 0


def test_interest_free_part_is_repaid_beside_and_earns_nothing() -> None:
    plain = equal_instalment(D("10000.00"), D("0.01"), 12)
    with_arrears = equal_instalment(D("10000.00"), D("0.01"), 12, interest_free=D("1200.05"))
    assert with_arrears.interest_total == plain.interest_total
    assert with_arrears.first_amount == plain.first_amount + D("100.00")
    assert with_arrears.total == plain.total + D("1200.05")


def test_tiny_principal_over_a_long_term_never_goes_negative() -> None:
    for schedule in (equal_principal(D("0.05"), D(0), 10), equal_instalment(D("0.05"), D("0.001"), 10)):
        assert schedule.principal_total == D("0.05")
        assert all(i.principal >= 0 and i.remaining_principal >= 0 for i in schedule.instalments)


def test_schedule_of_instalments_round_trips() -> None:
    schedule = equal_principal(D("999.99"), D("0.02"), 5)
    assert Schedule.of(schedule.instalments) == schedule
    assert isinstance(schedule.instalments[0], Instalment)
    assert schedule.instalments is schedule.instalments  # worked out once


def check_invariants(schedule: Schedule, carried: Decimal, n: int) -> None:
    rows = schedule.instalments
    assert [i.number for i in rows] == list(range(1, n + 1))
    assert sum((i.amount for i in rows), D(0)) == schedule.total
    assert sum((i.principal for i in rows), D(0)) == carried == schedule.principal_total
    assert schedule.total == carried + schedule.interest_total
    assert rows[-1].remaining_principal == 0
    for before, after in itertools.pairwise(rows):
        assert after.remaining_principal <= before.remaining_principal
    for i in rows:
        assert i.amount == i.principal + i.interest
        assert min(i.principal, i.interest, i.amount, i.remaining_principal) >= 0
        assert i.amount == i.amount.quantize(FEN)


@props
@given(principal=money, rate=rates, n=months, free=money)
def test_equal_instalment_invariants(principal: Decimal, rate: Decimal, n: int, free: Decimal) -> None:
    schedule = equal_instalment(principal, rate, n, interest_free=free)
    check_invariants(schedule, principal + free, n)
    plain = equal_instalment(principal, rate, n)
    regular = equal_instalment_payment(principal, rate, n)
    if n > 1 and all(i.principal > 0 for i in plain.instalments):
        assert all(i.amount == regular for i in plain.instalments[:-1])
        assert abs(plain.last_amount - regular) <= fen_bound(rate, n)
    if rate == 0:
        assert abs(plain.last_amount - plain.first_amount) < FEN * n


@props
@given(principal=money, rate=rates, n=months, free=money)
def test_equal_principal_invariants(principal: Decimal, rate: Decimal, n: int, free: Decimal) -> None:
    check_invariants(equal_principal(principal, rate, n, interest_free=free), principal + free, n)


@props
@given(total=money, n=months)
def test_equal_parts_last_absorbs_less_than_a_fen_per_instalment(total: Decimal, n: int) -> None:
    schedule = equal_parts(total, n)
    check_invariants(schedule, total, n)
    assert schedule.interest_total == 0
    assert all(i.amount == schedule.first_amount for i in schedule.instalments[:-1])
    assert D(0) <= schedule.last_amount - schedule.first_amount < FEN * n


@props
@given(principal=money, rate=rates, n=st.integers(min_value=1, max_value=359))
def test_more_months_never_raise_the_monthly_amount(principal: Decimal, rate: Decimal, n: int) -> None:
    assert equal_instalment_payment(principal, rate, n + 1) <= equal_instalment_payment(principal, rate, n)
    longer, shorter = equal_principal(principal, rate, n + 1), equal_principal(principal, rate, n)
    assert longer.first_amount <= shorter.first_amount
    assert equal_parts(principal, n + 1).first_amount <= equal_parts(principal, n).first_amount


@pytest.mark.parametrize(
    ("principal", "rate", "n", "message"),
    [
        (D("-1.00"), D("0.01"), 12, "zero or more"),
        (1000.0, D("0.01"), 12, "Decimal"),
        (D("1.001"), D("0.01"), 12, "two decimals"),
        (D("1e30"), D("0.01"), 12, "implausibly large"),
        (D("NaN"), D("0.01"), 12, "finite"),
        (D("1000"), 0.01, 12, "Decimal fraction"),
        (D("1000"), D("-0.01"), 12, "between 0 and 1"),
        (D("1000"), D("1.5"), 12, "between 0 and 1"),
        (D("1000"), D("Infinity"), 12, "between 0 and 1"),
        (D("1000"), D("0.01"), 0, "from 1 to 360"),
        (D("1000"), D("0.01"), -3, "from 1 to 360"),
        (D("1000"), D("0.01"), 361, "from 1 to 360"),
        (D("1000"), D("0.01"), 12.0, "whole number"),
        (D("1000"), D("0.01"), True, "whole number"),
    ],
)
def test_bad_input_is_refused_with_a_clear_message(
    principal: object, rate: object, n: object, message: str
) -> None:
    for build in (equal_instalment, equal_principal, equal_instalment_payment):
        with pytest.raises(InvalidInput, match=message):
            build(principal, rate, n)  # type: ignore[arg-type]


anything = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(10**40), max_value=10**40),
    st.floats(),
    st.text(max_size=5),
    st.decimals(),
    money,
)


@settings(max_examples=200, deadline=None)
@given(principal=anything, rate=st.one_of(anything, rates), n=st.one_of(anything, months), free=anything)
def test_any_input_either_works_or_is_invalid_input(
    principal: object, rate: object, n: object, free: object
) -> None:
    for build in (equal_instalment, equal_principal):
        with contextlib.suppress(InvalidInput):
            build(principal, rate, n, interest_free=free)  # type: ignore[arg-type]
    with contextlib.suppress(InvalidInput):
        equal_parts(principal, n)  # type: ignore[arg-type]
