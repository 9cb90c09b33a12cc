"""Plan options: one per kind, judged against affordability, ranked; proposals checked against the balance."""

from __future__ import annotations

import contextlib
import itertools
from decimal import ROUND_CEILING, Decimal

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from dialogs.errors import InvalidInput
from dialogs.rules.affordability import Finances, affordable_instalment
from dialogs.rules.plans import (
    DEFAULT_POLICY,
    Balance,
    PlanKind,
    PlanOption,
    PlanPolicy,
    PlanSet,
    candidate_terms,
    option_for,
    plan_options,
    validate_proposal,
)

D = Decimal
K = PlanKind
BALANCE = Balance(
    outstanding_principal=D("50000.00"),
    outstanding_interest=D("4000.00"),
    penalty=D("1500.00"),
    fees=D("300.00"),
    annual_rate=D("0.18"),
    remaining_term_months=6,
)
BUDGET = Finances(  # 3,500 disposable, 1,750 affordable a month
    net_monthly_income=D("9000.00"),
    housing=D("2500.00"),
    food=D("1500.00"),
    utilities=D("300.00"),
    transport=D("200.00"),
    other_debt_payments=D("1000.00"),
    savings=D("40000.00"),
)
BROKE = Finances(net_monthly_income=D("2000.00"), housing=D("1500.00"), food=D("900.00"))


def by_kind(plans: PlanSet) -> dict[PlanKind, PlanOption]:
    return {option.kind: option for option in plans.options}


def test_a_full_set_with_savings_and_temporary_hardship() -> None:
    plans = plan_options(BALANCE, BUDGET, temporary_hardship=True)
    assert plans.affordability.affordable_instalment == D("1750.00")
    assert not plans.nothing_affordable
    assert [o.kind for o in plans.options] == [
        K.DISCOUNTED_SETTLEMENT,
        K.INTEREST_STOPPED_INSTALMENTS,
        K.PARTIAL_INTEREST_WAIVER,
        K.PENALTY_FEE_WAIVER,
        K.TERM_EXTENSION_EQUAL_INSTALMENT,
        K.PAYMENT_HOLIDAY,
        K.TERM_EXTENSION_EQUAL_PRINCIPAL,
    ]
    options = by_kind(plans)
    settlement = options[K.DISCOUNTED_SETTLEMENT]
    # 30 % off principal and interest (54,000), penalty and fees waived.
    assert (settlement.months, settlement.total_repaid) == (1, D("37800.00"))
    assert settlement.amount_waived == D("18000.00") and settlement.void_if_missed
    stopped = options[K.INTEREST_STOPPED_INSTALMENTS]
    # 24 months would be 2,083.33 a month; 36 is the shortest configured term within 1,750.
    assert (stopped.months, stopped.monthly_amount, stopped.total_repaid) == (36, D("1388.88"), D("50000.00"))
    assert stopped.amount_waived == D("5800.00") and stopped.annual_rate == 0
    extension = options[K.TERM_EXTENSION_EQUAL_INSTALMENT]
    assert extension.amount_waived == 0 and extension.total_repaid > BALANCE.total
    holiday = options[K.PAYMENT_HOLIDAY]
    assert holiday.holiday_months == 3 and holiday.schedule == extension.schedule
    equal_principal = options[K.TERM_EXTENSION_EQUAL_PRINCIPAL]
    assert (
        equal_principal.monthly_amount
        == equal_principal.largest_amount
        == equal_principal.schedule.first_amount
    )
    assert all(not o.void_if_missed for o in plans.options if o.kind is not K.DISCOUNTED_SETTLEMENT)


def test_settlement_only_when_savings_cover_it_and_holiday_only_for_temporary_hardship() -> None:
    poorer = Finances(net_monthly_income=D("9000.00"), savings=D("37799.99"))
    kinds = {o.kind for o in plan_options(BALANCE, poorer, temporary_hardship=False).options}
    assert K.DISCOUNTED_SETTLEMENT not in kinds and K.PAYMENT_HOLIDAY not in kinds
    assert len(kinds) == 5


def test_nothing_affordable_shows_every_plan_at_its_longest_term() -> None:
    plans = plan_options(BALANCE, BROKE, temporary_hardship=False)
    assert plans.nothing_affordable and plans.affordable == ()
    assert plans.affordability.disposable == D("-400.00")
    assert {o.kind: o.months for o in plans.options} == {
        K.TERM_EXTENSION_EQUAL_INSTALMENT: 60,
        K.TERM_EXTENSION_EQUAL_PRINCIPAL: 60,
        K.INTEREST_STOPPED_INSTALMENTS: 60,
        K.PENALTY_FEE_WAIVER: 60,
        K.PARTIAL_INTEREST_WAIVER: 60,
    }


def test_interest_stopped_may_include_a_share_of_interest() -> None:
    policy = PlanPolicy(interest_stopped_interest_share=D("0.25"))
    option = option_for(BALANCE, K.INTEREST_STOPPED_INSTALMENTS, 60, finances=BUDGET, policy=policy)
    assert option.total_repaid == D("51000.00")
    assert option.amount_waived == D("4800.00")


def test_partial_interest_waiver_halves_interest_and_rate() -> None:
    option = option_for(BALANCE, K.PARTIAL_INTEREST_WAIVER, 12, finances=BUDGET)
    assert option.annual_rate == D("0.09")
    assert option.schedule.principal_total == D("52000.00")  # 50,000 + half the accrued 4,000


def test_a_balance_of_only_arrears_still_has_a_plan() -> None:
    arrears_only = Balance(D(0), D(0), D("300.00"), D("50.00"), D("0.18"))
    plans = plan_options(arrears_only, BUDGET, temporary_hardship=False)
    assert {o.kind for o in plans.options} == {
        K.TERM_EXTENSION_EQUAL_INSTALMENT,
        K.TERM_EXTENSION_EQUAL_PRINCIPAL,
    }
    with pytest.raises(InvalidInput, match="nothing to repay"):
        option_for(arrears_only, K.PENALTY_FEE_WAIVER, 6, finances=BUDGET)


def test_candidate_terms() -> None:
    assert candidate_terms(BALANCE, K.TERM_EXTENSION_EQUAL_INSTALMENT) == (12, 18, 24, 36, 48, 60)
    assert candidate_terms(BALANCE, K.PENALTY_FEE_WAIVER) == (6, 12, 18, 24, 36, 48, 60)
    long_loan = Balance(D("500000.00"), D(0), D(0), D(0), D("0.049"), remaining_term_months=120)
    assert candidate_terms(long_loan, K.TERM_EXTENSION_EQUAL_PRINCIPAL) == (126, 132, 138, 144, 156, 168, 180)
    assert candidate_terms(long_loan, K.INTEREST_STOPPED_INSTALMENTS) == (6, 12, 18, 24, 36, 48, 60)
    assert candidate_terms(long_loan, K.DISCOUNTED_SETTLEMENT) == (1,)


def test_proposal_below_the_minimum_is_refused_with_the_minimum() -> None:
    with pytest.raises(InvalidInput, match=r"the minimum is 2083\.33 a month"):
        validate_proposal(BALANCE, K.INTEREST_STOPPED_INSTALMENTS, 24, D("2000.00"), finances=BUDGET)


def test_proposal_that_repays_too_fast_names_the_shorter_term() -> None:
    with pytest.raises(InvalidInput, match="repaid in 20 months"):
        validate_proposal(BALANCE, K.INTEREST_STOPPED_INSTALMENTS, 24, D("2500.00"), finances=BUDGET)


def test_accepted_proposal_keeps_the_total_and_reshapes_the_payments() -> None:
    # The 36-month waiver needs 69,074.31 in all: at least 1,918.74 a month, under 1,973.55 to need all 36.
    option = validate_proposal(BALANCE, K.PENALTY_FEE_WAIVER, 36, D("1950.00"), finances=BUDGET)
    reference = option_for(BALANCE, K.PENALTY_FEE_WAIVER, 36, finances=BUDGET)
    assert option.total_repaid == reference.total_repaid == option.schedule.total
    assert option.monthly_amount == D("1950.00") and option.last_amount <= D("1950.00")
    assert option.schedule.principal_total == reference.schedule.principal_total
    assert not option.affordable  # 1,950 is above the 1,750 this budget affords
    assert option.schedule.instalments[0].interest == D("1950.00")  # interest is paid first


def test_settlement_proposal() -> None:
    option = validate_proposal(BALANCE, K.DISCOUNTED_SETTLEMENT, 1, D("40000.00"), finances=BUDGET)
    assert (option.total_repaid, option.amount_waived, option.affordable) == (
        D("40000.00"),
        D("15800.00"),
        True,
    )
    assert option.void_if_missed
    with pytest.raises(InvalidInput, match=r"at least 37800\.00"):
        validate_proposal(BALANCE, K.DISCOUNTED_SETTLEMENT, 1, D("30000.00"), finances=BUDGET)
    with pytest.raises(InvalidInput, match="more than the whole balance"):
        validate_proposal(BALANCE, K.DISCOUNTED_SETTLEMENT, 1, D("60000.00"), finances=BUDGET)


@pytest.mark.parametrize(
    ("kind", "months", "message"),
    [
        (K.INTEREST_STOPPED_INSTALMENTS, 61, "from 1 to 60"),
        (K.TERM_EXTENSION_EQUAL_INSTALMENT, 361, "from 1 to 360"),
        (K.PENALTY_FEE_WAIVER, 0, "from 1 to 360"),
        (K.PENALTY_FEE_WAIVER, -12, "from 1 to 360"),
        (K.DISCOUNTED_SETTLEMENT, 2, "single payment"),
        (K.DISCOUNTED_SETTLEMENT, True, "single payment"),
        (K.PARTIAL_INTEREST_WAIVER, 12.0, "whole number"),
        ("term_extension", 12, "unknown plan kind"),
    ],
)
def test_bad_terms_are_refused(kind: object, months: object, message: str) -> None:
    with pytest.raises(InvalidInput, match=message):
        option_for(BALANCE, kind, months, finances=BUDGET)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"outstanding_principal": D("-1.00")}, "zero or more"),
        ({"penalty": 10.5}, "Decimal"),
        ({"annual_rate": D("12.5")}, "annual rate"),
        ({"annual_rate": 0.18}, "annual rate"),
        ({"remaining_term_months": -1}, "remaining term"),
        ({"remaining_term_months": 361}, "remaining term"),
        ({"remaining_term_months": True}, "remaining term"),
    ],
)
def test_bad_balances_are_refused(changes: dict[str, object], message: str) -> None:
    figures: dict[str, object] = {
        "outstanding_principal": D("100.00"),
        "outstanding_interest": D(0),
        "penalty": D(0),
        "fees": D(0),
        "annual_rate": D("0.1"),
    }
    with pytest.raises(InvalidInput, match=message):
        Balance(**(figures | changes))  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"term_lengths": ()}, "term lengths"),
        ({"term_lengths": [12]}, "term lengths"),
        ({"term_lengths": (0, 12)}, "from 1 to 360"),
        ({"affordable_share": D("1.5")}, "affordable share"),
        ({"settlement_discount": D(1)}, "settlement discount"),
        ({"partial_interest_waiver_share": 0.5}, "waiver share"),
        ({"holiday_months": 4}, "from 1 to 3"),
        ({"interest_stopped_max_months": 61}, "from 1 to 60"),
    ],
)
def test_bad_policies_are_refused(changes: dict[str, object], message: str) -> None:
    with pytest.raises(InvalidInput, match=message):
        PlanPolicy(**changes)  # type: ignore[arg-type]


def test_bad_plan_options_calls_are_refused() -> None:
    empty = Balance(D(0), D(0), D(0), D(0), D("0.1"))
    with pytest.raises(InvalidInput, match="nothing is owed"):
        plan_options(empty, BUDGET, temporary_hardship=False)
    with pytest.raises(InvalidInput, match="Finances"):
        plan_options(BALANCE, None, temporary_hardship=False)  # type: ignore[arg-type]
    with pytest.raises(InvalidInput, match="True or False"):
        plan_options(BALANCE, BUDGET, temporary_hardship=1)  # type: ignore[arg-type]
    with pytest.raises(InvalidInput, match="monthly amount"):
        validate_proposal(BALANCE, K.PENALTY_FEE_WAIVER, 12, D(0), finances=BUDGET)


# Properties over varied, realistic cases.
money = st.decimals(min_value=0, max_value=300_000, places=2)
small = st.decimals(min_value=0, max_value=30_000, places=2)
balances = st.builds(
    Balance,
    outstanding_principal=money,
    outstanding_interest=small,
    penalty=small,
    fees=st.decimals(min_value=0, max_value=2_000, places=2),
    annual_rate=st.decimals(min_value=0, max_value=D("0.36"), places=4),
    remaining_term_months=st.one_of(st.integers(0, 36), st.integers(0, 360)),
).filter(lambda b: b.total > 0)
budgets = st.builds(
    Finances,
    net_monthly_income=st.decimals(min_value=0, max_value=40_000, places=2),
    housing=st.decimals(min_value=0, max_value=8_000, places=2),
    food=st.decimals(min_value=0, max_value=3_000, places=2),
    other_debt_payments=st.decimals(min_value=0, max_value=5_000, places=2),
    savings=money,
)
props = settings(max_examples=120, deadline=None)
INSTALMENT_KINDS = [k for k in PlanKind if k is not K.DISCOUNTED_SETTLEMENT]


@props
@given(balance=balances, finances=budgets, hardship=st.booleans())
def test_plan_set_properties(balance: Balance, finances: Finances, hardship: bool) -> None:
    plans = plan_options(balance, finances, temporary_hardship=hardship)
    limit = affordable_instalment(finances)
    flags = [o.affordable for o in plans.options]
    assert flags == sorted(flags, reverse=True)  # affordable first
    assert plans.affordable == tuple(o for o in plans.options if o.affordable)
    assert plans.nothing_affordable == (not plans.affordable)
    assert len({o.kind for o in plans.options}) == len(plans.options)
    for ahead, behind in itertools.pairwise(plans.options):
        if ahead.affordable == behind.affordable:
            assert (ahead.total_repaid, ahead.duration_months) <= (
                behind.total_repaid,
                behind.duration_months,
            )
    for option in plans.options:
        schedule = option.schedule
        assert option.total_repaid == schedule.total == sum((i.amount for i in schedule.instalments), D(0))
        # Waived: what of today's payable debt the plan does not carry (new interest is not netted off).
        assert option.amount_waived == max(balance.payable_total - schedule.principal_total, D(0)) >= 0
        assert option.total_repaid + option.amount_waived + option.above_limit >= balance.total
        assert option.months == schedule.months and option.monthly_amount == schedule.first_amount
        assert all(
            min(i.principal, i.interest, i.amount, i.remaining_principal) >= 0 for i in schedule.instalments
        )
        budget_limit = finances.savings if option.kind is K.DISCOUNTED_SETTLEMENT else limit
        assert option.affordable == (option.largest_amount <= budget_limit)
        terms = candidate_terms(balance, option.kind)
        assert option.months in terms
        if option.affordable:  # the shortest affordable term
            shorter = [m for m in terms if m < option.months]
            assert not any(option_for(balance, option.kind, m, finances=finances).affordable for m in shorter)
        else:
            assert option.months == terms[-1]


@props
@given(
    balance=balances,
    kind=st.sampled_from(INSTALMENT_KINDS),
    months=st.lists(st.integers(1, 60), min_size=2, max_size=2, unique=True),
)
def test_more_months_never_raise_the_monthly_amount(
    balance: Balance, kind: PlanKind, months: list[int]
) -> None:
    short, long = sorted(months)
    try:
        shorter = option_for(balance, kind, short, finances=BUDGET)
    except InvalidInput:
        assume(False)  # this kind has nothing to repay on this balance
    longer = option_for(balance, kind, long, finances=BUDGET)
    assert longer.monthly_amount <= shorter.monthly_amount
    if kind in (K.INTEREST_STOPPED_INSTALMENTS,):
        assert longer.total_repaid == shorter.total_repaid


@props
@given(balance=balances, kind=st.sampled_from(INSTALMENT_KINDS), n=st.integers(1, 60), extra=small)
def test_proposals_at_or_above_the_minimum_repay_exactly_what_the_plan_needs(
    balance: Balance, kind: PlanKind, n: int, extra: Decimal
) -> None:
    try:
        reference = option_for(balance, kind, n, finances=BUDGET)
    except InvalidInput:
        assume(False)
    required = reference.total_repaid
    minimum = (required / n).quantize(D("0.01"), rounding=ROUND_CEILING)
    try:
        option = validate_proposal(balance, kind, n, minimum + extra, finances=BUDGET)
    except InvalidInput as refused:
        assert "repaid in" in str(refused) or "more than zero" in str(refused)
        return
    assert option.total_repaid == required == option.schedule.total
    assert option.schedule.principal_total == reference.schedule.principal_total
    assert all(i.amount == minimum + extra for i in option.schedule.instalments[:-1])
    assert D(0) < option.last_amount <= option.monthly_amount


anything = st.one_of(
    st.none(), st.booleans(), st.integers(-5, 500), st.floats(), st.text(max_size=3), st.decimals()
)


@settings(max_examples=200, deadline=None)
@given(kind=st.one_of(st.sampled_from(PlanKind), anything), months=anything, amount=anything)
def test_any_proposal_either_works_or_is_invalid_input(kind: object, months: object, amount: object) -> None:
    with contextlib.suppress(InvalidInput):
        validate_proposal(BALANCE, kind, months, amount, finances=BUDGET, policy=DEFAULT_POLICY)  # type: ignore[arg-type]


@settings(max_examples=200, deadline=None)
@given(
    figures=st.fixed_dictionaries(
        {
            "outstanding_principal": st.one_of(anything, money),
            "outstanding_interest": st.one_of(anything, small),
            "penalty": st.one_of(anything, small),
            "fees": st.one_of(anything, small),
            "annual_rate": st.one_of(anything, st.decimals(min_value=0, max_value=12, places=3)),
            "remaining_term_months": st.one_of(anything, st.integers(0, 360)),
        }
    ),
    policy=st.fixed_dictionaries(
        {},
        optional={
            "term_lengths": st.one_of(anything, st.tuples(anything), st.tuples(st.integers(1, 360))),
            "settlement_discount": st.one_of(anything, st.decimals(min_value=0, max_value=1)),
            "holiday_months": anything,
        },
    ),
)
def test_any_figures_either_plan_or_are_invalid_input(
    figures: dict[str, object], policy: dict[str, object]
) -> None:
    with contextlib.suppress(InvalidInput):
        plan_options(Balance(**figures), BUDGET, PlanPolicy(**policy), temporary_hardship=True)  # type: ignore[arg-type]
