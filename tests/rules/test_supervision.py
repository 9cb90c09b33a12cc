"""Supervision rules: payments applied to a schedule, instalment states, the tolerance, breach, completion."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from dialogs.errors import InvalidInput
from dialogs.rules.supervision import (
    Due,
    InstalmentState,
    Move,
    MoveRefusal,
    allocate,
    breached,
    decide_move,
    first_unpaid,
    moved,
)

D = Decimal
START = date(2026, 12, 2)
amounts = st.decimals(min_value=D("0.01"), max_value=D(100_000), places=2)


def plan(*figures: str, start: date = START) -> list[Due]:
    """Monthly instalments (every 30 days here: the rules read dates, not months)."""
    return [Due(n, start + timedelta(days=30 * (n - 1)), D(a)) for n, a in enumerate(figures, start=1)]


schedules = st.lists(amounts, min_size=1, max_size=24).map(lambda xs: plan(*map(str, xs)))
payment_lists = st.lists(amounts, max_size=12)


@given(schedules, payment_lists)
def test_what_is_applied_is_what_was_confirmed_up_to_the_plan_total(
    schedule: list[Due], paid: list[D]
) -> None:
    allocation = allocate(schedule, paid)
    confirmed = sum(paid, D(0))
    assert allocation.applied + allocation.credit == confirmed
    assert allocation.applied == min(confirmed, allocation.total)
    assert allocation.credit == max(confirmed - allocation.total, D(0))


@given(schedules, payment_lists)
def test_no_instalment_is_marked_paid_beyond_its_amount(schedule: list[Due], paid: list[D]) -> None:
    for applied in allocate(schedule, paid).instalments:
        assert D(0) <= applied.paid <= applied.amount


@given(schedules, payment_lists, st.randoms())
def test_the_order_payments_were_confirmed_in_changes_nothing(
    schedule: list[Due], paid: list[D], rnd: object
) -> None:
    shuffled = list(paid)
    rnd.shuffle(shuffled)  # type: ignore[attr-defined]
    assert allocate(schedule, paid) == allocate(schedule, shuffled)


@given(schedules, payment_lists)
def test_oldest_first_at_most_one_instalment_partly_paid(schedule: list[Due], paid: list[D]) -> None:
    rows = allocate(schedule, paid).instalments
    states = ["paid" if r.settled else "part" if r.paid else "none" for r in rows]
    # paid… then at most one part… then nothing: a later instalment never gets money before an earlier one
    text = "".join(s[0] for s in states)
    assert text == "p" * text.count("p") + "a" * text.count("a") + "n" * text.count("n")
    assert text.count("a") <= 1


@given(schedules, payment_lists)
def test_complete_exactly_when_everything_is_covered(schedule: list[Due], paid: list[D]) -> None:
    allocation = allocate(schedule, paid)
    assert allocation.complete == (sum(paid, D(0)) >= allocation.total)
    assert (first_unpaid(allocation) is None) == allocation.complete


def test_overpayment_runs_on_and_partial_leaves_the_rest_due() -> None:
    allocation = allocate(plan("1000.00", "1000.00", "1000.00"), [D("1500.00")])
    assert [(i.paid, i.left) for i in allocation.instalments] == [
        (D("1000.00"), D("0.00")),
        (D("500.00"), D("500.00")),
        (D(0), D("1000.00")),
    ]
    states = [i.state(START) for i in allocation.instalments]
    assert states == [InstalmentState.PAID, InstalmentState.PARTLY_PAID, InstalmentState.DUE]


def test_states_on_a_day() -> None:
    allocation = allocate(plan("100.00", "100.00"), [D("40.00")])
    first, second = allocation.instalments
    assert first.state(START) is InstalmentState.PARTLY_PAID  # due today: not late yet
    assert first.state(START + timedelta(days=1)) is InstalmentState.LATE
    assert second.state(START + timedelta(days=1)) is InstalmentState.DUE


@given(
    schedules, payment_lists, st.integers(min_value=0, max_value=800), st.integers(min_value=0, max_value=60)
)
def test_breach_only_past_the_grace_period(schedule: list[Due], paid: list[D], day: int, grace: int) -> None:
    allocation = allocate(schedule, paid)
    today = START + timedelta(days=day)
    found = breached(allocation, today, grace)
    if found is None:
        assert all(i.settled or i.due_date >= today - timedelta(days=grace) for i in allocation.instalments)
    else:
        assert not found.settled and (today - found.due_date).days > grace


def test_breach_on_the_sixteenth_day() -> None:
    allocation = allocate(plan("100.00"), [])
    assert breached(allocation, START + timedelta(days=15)) is None
    assert breached(allocation, START + timedelta(days=16)) is not None


def test_a_missed_instalment_moves_to_the_end_once() -> None:
    schedule = plan("100.00", "100.00", "100.00")
    late = START + timedelta(days=3)
    decision = decide_move(allocate(schedule, []), late)
    assert decision == Move(1, START, date(2027, 2, 28), D("100.00"))  # a month after the last (2027-01-31)
    assert isinstance(decision, Move)
    after = moved(schedule, decision)
    allocation = allocate(after, [D("100.00")])
    # the moved instalment is now due last: the next payment goes to instalment 2
    assert [(i.number, i.paid) for i in allocation.instalments] == [
        (2, D("100.00")),
        (3, D(0)),
        (1, D(0)),
    ]
    assert allocation.instalments[-1].state(late) is InstalmentState.MOVED
    second_late = START + timedelta(days=64)  # instalment 3 (2027-01-31) now late
    assert decide_move(allocation, second_late) is MoveRefusal.USED
    assert decide_move(allocation, second_late, moves_allowed=2) == Move(
        3, date(2027, 1, 31), date(2027, 3, 28), D("100.00")
    )


def test_what_the_tolerance_refuses() -> None:
    schedule = plan("100.00", "100.00")
    # asked ahead of time, as the clause says ("by telling us before its due date"): the next one moves
    ahead = Move(1, START, date(2027, 2, 1), D("100.00"))
    assert decide_move(allocate(schedule, []), START - timedelta(days=40)) == ahead
    assert decide_move(allocate(schedule, [D("100.00")]), START + timedelta(days=2)) == Move(
        2, date(2027, 1, 1), date(2027, 2, 1), D("100.00")
    )
    everything = [D("200.00")]
    assert decide_move(allocate(schedule, everything), START) is MoveRefusal.NOTHING_MISSED
    assert decide_move(allocate(schedule, []), START + timedelta(days=20)) is MoveRefusal.PAST_GRACE
    assert decide_move(allocate(schedule, []), START + timedelta(days=2), settlement=True) is (
        MoveRefusal.SETTLEMENT
    )
    assert decide_move(allocate(schedule, []), START + timedelta(days=2), moves_allowed=0) is MoveRefusal.USED


@given(schedules, payment_lists, st.integers(min_value=1, max_value=15))
def test_a_move_keeps_the_total_and_is_refused_the_second_time(
    schedule: list[Due], paid: list[D], day: int
) -> None:
    allocation = allocate(schedule, paid)
    decision = decide_move(allocation, START + timedelta(days=day))
    if isinstance(decision, Move):
        after = allocate(moved(schedule, decision), paid)
        assert after.total == allocation.total and after.applied == allocation.applied
        assert max(i.due_date for i in after.instalments) == decision.to_date
        assert decide_move(after, START + timedelta(days=day)) is MoveRefusal.USED
        # no money changes instalment: what each was paid before, it is paid after
        before = {i.number: i.paid for i in allocation.instalments}
        assert {i.number: i.paid for i in after.instalments if i.number in before} == before


def test_a_partly_paid_instalment_keeps_its_money_and_only_the_rest_moves() -> None:
    schedule = plan("530.00", "530.00", "530.00")
    paid = [D("530.00"), D("500.00")]  # instalment 2: ¥500 of ¥530
    decision = decide_move(allocate(schedule, paid), START + timedelta(days=33))
    assert decision == Move(2, date(2027, 1, 1), date(2027, 2, 28), D("30.00"), D("500.00"))
    assert isinstance(decision, Move)
    after = moved(schedule, decision)
    assert [(d.number, d.due_date, d.amount, d.moved) for d in after] == [
        (1, START, D("530.00"), False),
        (2, date(2027, 1, 1), D("500.00"), False),
        (3, date(2027, 1, 31), D("530.00"), False),
        (4, date(2027, 2, 28), D("30.00"), True),
    ]
    allocation = allocate(after, paid)
    assert [(i.number, i.paid) for i in allocation.instalments] == [
        (1, D("530.00")),
        (2, D("500.00")),
        (3, D(0)),  # still owed in full, as agreed: nothing slid onto it
        (4, D(0)),
    ]
    assert allocation.total == D("1590.00")


@pytest.mark.parametrize("bad", [D("-1.00"), D(0), D("1.001"), D("Infinity")])
def test_bad_payments_are_refused(bad: D) -> None:
    with pytest.raises(InvalidInput):
        allocate(plan("100.00"), [bad])


def test_duplicate_numbers_are_refused() -> None:
    with pytest.raises(InvalidInput):
        allocate([Due(1, START, D(1)), Due(1, START, D(1))], [])
