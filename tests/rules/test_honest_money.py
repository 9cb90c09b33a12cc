"""Money said honestly (the newcomer trial): plans never carry overdue charges above their legal limit, own
terms are told the term the list would show, and a lump-sum settlement is not judged as a monthly payment."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from dialogs.rules.affordability import Finances
from dialogs.rules.interest import (
    DEFAULT_LPR_HISTORY_TEXT,
    InterestLaw,
    LenderKind,
    LprHistory,
    OverdueCharges,
    charges_check,
)
from dialogs.rules.plans import Balance, PlanKind, finish_months, plan_options, validate_proposal
from dialogs.rules.risk import HardshipKind, IncomeStability, assess_risk, plan_inputs

D = Decimal
LAW = InterestLaw(LprHistory.parse(DEFAULT_LPR_HISTORY_TEXT))
PROTECTED = LAW.protected(LenderKind.PRIVATE, date(2024, 3, 15)).rate  # 13.80 %
DEMO = Balance(
    D("14321.55"),
    D("1020.40"),
    D("380.00"),
    D("120.00"),
    D("0.24"),
    protected_rate=PROTECTED,
    overdue_days=45,
)
BUDGET = Finances(
    net_monthly_income=D("6500.00"), housing=D("1800.00"), food=D("1200.00"), savings=D("50000")
)


def test_the_demo_plans_carry_only_the_protected_overdue_charges() -> None:
    # /legal: ¥1,276.74 above the limit of 14,321.55 × 13.80 % × 45 / 365 = ¥243.66.
    assert (DEMO.above_limit, DEMO.payable_total) == (D("1276.74"), D("14565.21"))
    plans = plan_options(DEMO, BUDGET, temporary_hardship=True).options
    assert all(option.above_limit == D("1276.74") for option in plans)
    by_kind = {option.kind: option for option in plans}
    # The term extension repays the principal at 13.80 % and the ¥243.66 kept, not ¥1,520.40.
    assert by_kind[PlanKind.TERM_EXTENSION_EQUAL_INSTALMENT].schedule.principal_total == D("14565.21")
    # The settlement is 70 % of principal and the protected interest: (14,321.55 + 243.66) × 0.7.
    assert by_kind[PlanKind.DISCOUNTED_SETTLEMENT].total_repaid == D("10195.65")
    # Nothing of the penalty and fees is payable, so no "waiver" plan identical to the extension is listed.
    assert PlanKind.PENALTY_FEE_WAIVER not in by_kind
    # What a waiver plan waives is said: half the protected interest.
    assert by_kind[PlanKind.PARTIAL_INTEREST_WAIVER].amount_waived == D("121.83")


def test_a_waiver_states_the_penalty_and_fees_it_waives() -> None:
    # Within the limit (overdue long enough), the waiver plan waives the ¥500 of penalty and fees.
    long_overdue = Balance(
        D("14321.55"),
        D("1020.40"),
        D("380.00"),
        D("120.00"),
        D("0.24"),
        protected_rate=PROTECTED,
        overdue_days=400,
    )
    assert long_overdue.above_limit == 0
    waiver = next(
        o
        for o in plan_options(long_overdue, BUDGET, temporary_hardship=False).options
        if o.kind is PlanKind.PENALTY_FEE_WAIVER
    )
    assert waiver.amount_waived == D("500.00")


money = st.decimals(min_value=0, max_value=300_000, places=2)
small = st.decimals(min_value=0, max_value=30_000, places=2)


@settings(max_examples=150, deadline=None)
@given(
    principal=money,
    interest=small,
    penalty=small,
    fees=small,
    days=st.integers(min_value=0, max_value=2000),
    protected=st.decimals(min_value=D("0.01"), max_value=D("0.36"), places=4),
)
def test_payable_charges_are_the_legal_cap_and_the_excess_is_what_legal_reports(
    principal: Decimal, interest: Decimal, penalty: Decimal, fees: Decimal, days: int, protected: Decimal
) -> None:
    balance = Balance(
        principal, interest, penalty, fees, D("0.24"), protected_rate=protected, overdue_days=days
    )
    check = charges_check(OverdueCharges(principal, days, interest, penalty, fees), protected)
    payable = balance.payable_interest + balance.payable_penalty + balance.payable_fees
    assert payable == min(check.charged, check.cap)
    assert balance.above_limit == check.over_cap  # one source of truth with /legal
    assert 0 <= balance.payable_interest <= interest and 0 <= balance.payable_fees <= fees


def test_own_terms_are_told_the_term_the_list_shows() -> None:
    # 停息挂账: the list shows 24 months at ¥596.73 (the last ¥596.76); typing it for 36 months is too much.
    kind = PlanKind.INTEREST_STOPPED_INSTALMENTS
    assert finish_months(DEMO, kind, D("596.73"), finances=BUDGET) == 24
    assert validate_proposal(DEMO, kind, 24, D("596.73"), finances=BUDGET).months == 24


@settings(max_examples=60, deadline=None)
@given(amount=st.decimals(min_value=D("100"), max_value=D("20000"), places=2))
def test_the_finish_months_said_are_accepted(amount: Decimal) -> None:
    for kind in (PlanKind.INTEREST_STOPPED_INSTALMENTS, PlanKind.TERM_EXTENSION_EQUAL_INSTALMENT):
        months = finish_months(DEMO, kind, amount, finances=BUDGET)
        if months is not None:
            assert validate_proposal(DEMO, kind, months, amount, finances=BUDGET).months == months


CHEN = Finances(net_monthly_income=D("12000.00"), housing=D("3000.00"), food=D("2000.00"), savings=D("50000"))


def _settlement_risk(lump: Decimal, savings: Decimal, other_debts: Decimal) -> dict[str, str]:
    inputs = plan_inputs(
        other_debt_payments=other_debts,
        net_monthly_income=D("12000.00"),
        savings=savings,
        overdue_days=45,
        hardship=HardshipKind.TEMPORARY,
        income_stability=IncomeStability.STABLE,
        affordable_instalment=D("3500.00"),
        plan_amount=lump,
        lump_sum=True,
    )
    return {f.code: f.value for f in assess_risk(inputs).factors}


def test_a_settlement_from_savings_is_not_a_monthly_payment() -> None:
    # chen: ¥18,760 once, from ¥50,000 savings, ¥12,000 a month: not "156.33 %" and "-477.23 %".
    factors = _settlement_risk(D("18760.00"), D("50000.00"), D("0.00"))
    assert factors["dti"] == "0.0000"
    assert factors["affordability_margin"] == "0.6248"  # (50,000 − 18,760) / 50,000


@settings(max_examples=100, deadline=None)
@given(lump=money, savings=money, other=st.decimals(min_value=0, max_value=20_000, places=2))
def test_a_lump_sum_never_counts_as_debt_service(lump: Decimal, savings: Decimal, other: Decimal) -> None:
    factors = _settlement_risk(lump, savings, other)
    alone = _settlement_risk(D(0), savings, other)
    assert factors["dti"] == alone["dti"]  # the lump sum adds nothing to the monthly debt service
    if savings and lump <= savings:
        assert Decimal(factors["affordability_margin"]) >= 0
