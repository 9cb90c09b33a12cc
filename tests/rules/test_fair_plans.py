"""Fair and honest plans (issue 10): no plan above the protected level, one rounding rule for the list and
own terms, each kind's real term limit, and the protection level by lender kind."""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dialogs.errors import InvalidInput
from dialogs.rules.affordability import Finances
from dialogs.rules.interest import (
    DEFAULT_LPR_HISTORY_TEXT,
    InterestLaw,
    LenderKind,
    LprHistory,
    Regime,
)
from dialogs.rules.plans import (
    Balance,
    PlanKind,
    PlanPolicy,
    max_months,
    minimum_monthly,
    option_for,
    plan_options,
    validate_proposal,
)

D = Decimal
K = PlanKind
LAW = InterestLaw(LprHistory.parse(DEFAULT_LPR_HISTORY_TEXT))
# The demo loan: 24 % a year from a private lender, whose contract (2024-03-15) the courts protect to 13.80 %.
DEMO = Balance(
    D("14321.55"),
    D("1020.40"),
    D("380.00"),
    D("120.00"),
    D("0.24"),
    remaining_term_months=0,
    protected_rate=LAW.protected(LenderKind.PRIVATE, date(2024, 3, 15)).rate,
)
BUDGET = Finances(net_monthly_income=D("6500.00"), housing=D("1800.00"), food=D("1200.00"))
AMPLE = Finances(net_monthly_income=D("90000.00"), savings=D("1000000.00"))
# The kinds a borrower proposes as own terms (dialogs.flows.plans.OWN_KINDS).
OWN_KINDS = (K.TERM_EXTENSION_EQUAL_INSTALMENT, K.INTEREST_STOPPED_INSTALMENTS, K.DISCOUNTED_SETTLEMENT)
INSTALMENT_KINDS = [k for k in PlanKind if k not in (K.DISCOUNTED_SETTLEMENT, K.PAYMENT_HOLIDAY)]

money = st.decimals(min_value=0, max_value=300_000, places=2)
small = st.decimals(min_value=0, max_value=30_000, places=2)
rates = st.decimals(min_value=0, max_value=D("0.60"), places=4)
balances = st.builds(
    Balance,
    outstanding_principal=money,
    outstanding_interest=small,
    penalty=small,
    fees=st.decimals(min_value=0, max_value=2_000, places=2),
    annual_rate=rates,
    remaining_term_months=st.integers(0, 120),
    protected_rate=st.decimals(min_value=D("0.01"), max_value=D("0.36"), places=4),
).filter(lambda b: b.total > 0)
# Balances a plan is made for: a few yuan spread over years lists months of ¥0.00 (reported on issue 10).
real_balances = balances.filter(lambda b: b.total >= 1000)
budgets = st.builds(
    Finances,
    net_monthly_income=st.decimals(min_value=0, max_value=40_000, places=2),
    housing=st.decimals(min_value=0, max_value=8_000, places=2),
    savings=money,
)
props = settings(max_examples=120, deadline=None)


def test_the_demo_plans_charge_the_protected_rate_not_the_contract_rate() -> None:
    assert DEMO.protected_rate == D("0.1380") and DEMO.plan_rate == D("0.1380")
    for option in plan_options(DEMO, BUDGET, temporary_hardship=True).options:
        assert option.annual_rate is not None and option.annual_rate <= D("0.1380")
    extension = option_for(DEMO, K.TERM_EXTENSION_EQUAL_INSTALMENT, 12, finances=BUDGET)
    assert extension.annual_rate == D("0.1380")
    assert extension.schedule.instalments[0].interest == D("164.70")  # 14,321.55 × 13.80 % / 12


@props
@given(balance=balances, finances=budgets, hardship=st.booleans())
def test_no_plan_charges_more_than_the_protected_level(
    balance: Balance, finances: Finances, hardship: bool
) -> None:
    assert balance.protected_rate is not None
    for option in plan_options(balance, finances, temporary_hardship=hardship).options:
        assert option.annual_rate is not None and option.annual_rate <= balance.protected_rate
        assert option.above_protected == 0
        # The plan's interest is never more than the same plan at the protected level would charge.
        at_level = option_for(
            replace(balance, annual_rate=balance.protected_rate),
            option.kind,
            option.months,
            finances=finances,
        )
        # Within the fen rounding of each instalment: a payment of a few fen rounded up at the lower rate
        # can leave principal owed a month longer (1.30 over 60 months: 0.65 against 0.64).
        assert option.schedule.interest_total <= at_level.schedule.interest_total + D("0.01") * option.months


@props
@given(balance=real_balances, finances=budgets, hardship=st.booleans())
def test_every_listed_amount_is_accepted_as_own_terms(
    balance: Balance, finances: Finances, hardship: bool
) -> None:
    for option in plan_options(balance, finances, temporary_hardship=hardship).options:
        if option.kind not in OWN_KINDS or option.monthly_amount == 0:
            continue  # a kind only the lender offers, or a balance of a few fen spread over months
        typed = validate_proposal(
            balance, option.kind, option.months, option.monthly_amount, finances=finances
        )
        assert typed.total_repaid == option.total_repaid
        assert typed.affordable == option.affordable
        assert minimum_monthly(option) <= option.monthly_amount


def test_the_listed_amount_whose_last_instalment_is_larger_is_accepted() -> None:
    # 50,000 without interest over 24 months is listed as 2,083.33 a month and a last of 2,083.41:
    # typing 2,083.33 used to be refused as "needs 2,083.34".
    balance = Balance(D("50000.00"), D(0), D(0), D(0), D("0.18"))
    listed = option_for(balance, K.INTEREST_STOPPED_INSTALMENTS, 24, finances=BUDGET)
    assert (listed.monthly_amount, listed.last_amount) == (D("2083.33"), D("2083.41"))
    typed = validate_proposal(balance, K.INTEREST_STOPPED_INSTALMENTS, 24, D("2083.33"), finances=BUDGET)
    assert typed.last_amount == D("2083.41") and typed.total_repaid == D("50000.00")
    with pytest.raises(InvalidInput, match=r"minimum is 2083\.33"):
        validate_proposal(balance, K.INTEREST_STOPPED_INSTALMENTS, 24, D("2083.32"), finances=BUDGET)


@settings(max_examples=60, deadline=None)
@given(limit=st.integers(1, 60), kind=st.sampled_from(INSTALMENT_KINDS))
def test_each_kind_accepts_exactly_its_own_term_limit(limit: int, kind: PlanKind) -> None:
    policy = PlanPolicy(term_lengths=(6, 12), interest_stopped_max_months=limit)
    longest = max_months(kind, policy)
    assert longest == (limit if kind is K.INTEREST_STOPPED_INSTALMENTS else 360)
    assert option_for(DEMO, kind, longest, finances=AMPLE, policy=policy).months == longest
    with pytest.raises(InvalidInput, match="months"):
        option_for(DEMO, kind, longest + 1, finances=AMPLE, policy=policy)
    assert max_months(K.DISCOUNTED_SETTLEMENT, policy) == 1


def test_a_lender_may_offer_the_contract_rate_and_the_excess_is_counted() -> None:
    at_contract = option_for(replace(DEMO, protected_rate=None), K.PENALTY_FEE_WAIVER, 24, finances=BUDGET)
    at_level = option_for(DEMO, K.PENALTY_FEE_WAIVER, 24, finances=BUDGET)
    monthly = at_contract.monthly_amount
    with pytest.raises(InvalidInput, match="repaid in"):  # the borrower's own terms stay at the level
        validate_proposal(DEMO, K.PENALTY_FEE_WAIVER, 24, monthly, finances=BUDGET)
    offer = validate_proposal(DEMO, K.PENALTY_FEE_WAIVER, 24, monthly, finances=BUDGET, lender=True)
    assert offer.total_repaid == min(monthly * 24, at_contract.total_repaid)
    assert offer.above_protected == offer.total_repaid - at_level.total_repaid > 0
    assert offer.annual_rate is None  # the payments, not a rate, were proposed
    within = validate_proposal(
        DEMO, K.PENALTY_FEE_WAIVER, 24, at_level.monthly_amount, finances=BUDGET, lender=True
    )
    assert within.above_protected == 0 and within.annual_rate == D("0.1380")


@props
@given(balance=balances, kind=st.sampled_from(INSTALMENT_KINDS), months=st.integers(1, 60), extra=small)
def test_a_lender_offer_never_exceeds_the_contract(
    balance: Balance, kind: PlanKind, months: int, extra: Decimal
) -> None:
    try:
        at_level = option_for(balance, kind, months, finances=AMPLE)
        ceiling = option_for(replace(balance, protected_rate=None), kind, months, finances=AMPLE).total_repaid
        offer = validate_proposal(
            balance, kind, months, at_level.monthly_amount + extra, finances=AMPLE, lender=True
        )
    except InvalidInput:
        return
    assert at_level.total_repaid <= offer.total_repaid <= ceiling
    # Above the law means above the same plan with all its interest at the protected rate: a kind that
    # waives interest may be asked up to that without anything being above the law.
    legal = at_level.total_repaid
    if kind in (PlanKind.PARTIAL_INTEREST_WAIVER, PlanKind.INTEREST_STOPPED_INSTALMENTS):
        legal = max(
            legal, option_for(balance, PlanKind.PENALTY_FEE_WAIVER, months, finances=AMPLE).total_repaid
        )
    assert offer.above_protected == max(D(0), offer.total_repaid - legal)
    assert offer.schedule.total == offer.total_repaid


@settings(max_examples=80, deadline=None)
@given(
    kind=st.sampled_from(LenderKind),
    made=st.dates(min_value=date(2019, 8, 20), max_value=date(2030, 1, 1)),
    level=st.decimals(min_value=D("0.05"), max_value=D("0.36"), places=4),
)
def test_the_level_follows_the_lender_kind(kind: LenderKind, made: date, level: Decimal) -> None:
    protected = InterestLaw(LAW.lpr, licensed_level=level).protected(kind, made)
    if kind is LenderKind.PRIVATE:
        assert protected.regime in (Regime.FOUR_TIMES_LPR, Regime.PRE_2020_08_20)
        assert protected.lpr is not None and protected.rate == 4 * protected.lpr
    else:
        assert protected.regime is Regime.LICENSED and protected.rate == level and protected.lpr is None


def test_the_licensed_level_is_a_fraction() -> None:
    with pytest.raises(InvalidInput, match="licensed level"):
        InterestLaw(LAW.lpr, licensed_level=D(24))
