"""Interest law: the LPR setting, four times the LPR, the IRR-based annual rate and the money above the cap.

Expected rates were computed independently (plain bisection at 60 digits, 250 halvings) and are checked to
1e-14; the money figures follow from the equal-instalment formula ``P·r / (1 − (1+r)^−n)``.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal, localcontext

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dialogs.errors import InvalidInput
from dialogs.rules.interest import (
    DEFAULT_LPR_HISTORY_TEXT,
    AnnualRate,
    CashFlows,
    LprHistory,
    OverdueCharges,
    Regime,
    annual_rate,
    charges_check,
    interest_check,
    monthly_irr,
    protected_annual_rate,
)

D = Decimal
HISTORY = LprHistory.parse(DEFAULT_LPR_HISTORY_TEXT)
IRR_CLOSE = D("1E-14")


def equal(received: str, payment: str, months: int = 12) -> CashFlows:
    return CashFlows(D(received), (D(payment),) * months)


def npv(flows: CashFlows, rate: Decimal) -> Decimal:
    with localcontext() as ctx:
        ctx.prec = 60
        present = sum((r / (1 + rate) ** k for k, r in enumerate(flows.repayments, 1)), D(0))
        return present - flows.received


# --- the LPR setting ---------------------------------------------------------------------------------


def test_default_history_is_the_published_one_year_lpr() -> None:
    assert len(HISTORY.entries) == 13
    assert HISTORY.entries[0] == (date(2019, 8, 20), D("0.0425"))
    assert HISTORY.entries[-1] == (date(2025, 5, 20), D("0.0300"))
    assert HISTORY.rate_on(date(2020, 8, 20)) == D("0.0385")


@pytest.mark.parametrize(
    ("on", "rate"),
    [
        (date(2019, 8, 20), "0.0425"),
        (date(2019, 11, 19), "0.0420"),
        (date(2022, 8, 21), "0.0370"),  # the change of August 2022 took effect on Monday the 22nd
        (date(2022, 8, 22), "0.0365"),
        (date(2025, 5, 19), "0.0310"),
        (date(2025, 5, 20), "0.0300"),
        (date(2030, 1, 1), "0.0300"),  # the latest entry stays in force until the setting is extended
    ],
)
def test_rate_on_takes_the_entry_in_force(on: date, rate: str) -> None:
    assert HISTORY.rate_on(on) == D(rate)


def test_a_date_before_the_history_is_refused() -> None:
    with pytest.raises(InvalidInput, match="starts on 2019-08-20"):
        HISTORY.rate_on(date(2019, 8, 19))


def test_parse_ignores_spaces_and_line_breaks_and_round_trips() -> None:
    history = LprHistory.parse(" 2024-10-21:0.0310 ,\n 2025-05-20 : 0.030\n")
    assert history.entries == ((date(2024, 10, 21), D("0.0310")), (date(2025, 5, 20), D("0.030")))
    assert LprHistory.parse(history.to_text()) == history
    assert HISTORY.to_text() == DEFAULT_LPR_HISTORY_TEXT


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "empty"),
        ("   ", "empty"),
        ("2025-05-20", "not DATE:RATE"),
        ("2025-05-20:0.03,", "entry 2"),  # a trailing comma is an empty entry
        ("2025-13-01:0.03", "YYYY-MM-DD"),
        ("20/05/2025:0.03", "YYYY-MM-DD"),
        ("2025-05-20:3%", "0.0385"),
        ("2025-05-20:3.0", r"fraction in \(0, 1\)"),
        ("2025-05-20:0", r"fraction in \(0, 1\)"),
        ("2025-05-20:-0.01", r"fraction in \(0, 1\)"),
        ("2025-05-20:NaN", "finite"),
        ("2025-05-20:0.03,2025-05-20:0.031", "no repeats"),
        ("2025-05-20:0.03,2024-10-21:0.031", "must increase"),
    ],
)
def test_parse_refuses_bad_text_clearly(text: str, message: str) -> None:
    with pytest.raises(InvalidInput, match=message):
        LprHistory.parse(text)


@pytest.mark.parametrize(
    "entries",
    [
        (),
        ((date(2025, 5, 20), 0.03),),  # a float rate
        ((datetime(2025, 5, 20), D("0.03")),),  # a datetime where a date belongs
        ((date(2025, 5, 20),),),
        [(date(2025, 5, 20), D("0.03"))],  # a list: the history must be immutable
    ],
)
def test_history_built_directly_is_checked_too(entries: object) -> None:
    with pytest.raises(InvalidInput):
        LprHistory(entries)  # type: ignore[arg-type]


def test_parse_refuses_what_is_not_text() -> None:
    with pytest.raises(InvalidInput, match="must be text"):
        LprHistory.parse(b"2025-05-20:0.03")  # type: ignore[arg-type]


# --- the protected level -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("contract", "rate", "lpr_effective"),
    [
        (date(2025, 6, 1), "0.1200", date(2025, 5, 20)),  # DESIGN: 12 % for a contract made then
        (date(2024, 10, 21), "0.1240", date(2024, 10, 21)),
        (date(2020, 8, 20), "0.1540", date(2020, 4, 20)),  # the first day of the rule
    ],
)
def test_protected_rate_is_four_times_the_lpr_on_the_contract_date(
    contract: date, rate: str, lpr_effective: date
) -> None:
    protected = protected_annual_rate(contract, HISTORY)
    assert protected.rate == D(rate)
    assert protected.lpr * 4 == protected.rate
    assert protected.lpr_effective == lpr_effective
    assert protected.regime == Regime.FOUR_TIMES_LPR == "4x-lpr"


@pytest.mark.parametrize("contract", [date(2020, 8, 19), date(2019, 9, 1), date(2015, 1, 1)])
def test_older_contracts_are_flagged_and_use_the_rules_first_day(contract: date) -> None:
    protected = protected_annual_rate(contract, HISTORY)
    assert protected.regime == "pre-2020-08-20"
    assert protected.rate == D("0.1540")
    assert protected.lpr_effective == date(2020, 4, 20)


def test_protected_rate_refuses_bad_arguments() -> None:
    with pytest.raises(InvalidInput, match="must be a date"):
        protected_annual_rate(datetime(2025, 6, 1, 12), HISTORY)
    with pytest.raises(InvalidInput, match="must be a date"):
        protected_annual_rate("2025-06-01", HISTORY)  # type: ignore[arg-type]
    with pytest.raises(InvalidInput, match="LprHistory"):
        protected_annual_rate(date(2025, 6, 1), DEFAULT_LPR_HISTORY_TEXT)  # type: ignore[arg-type]
    late_history = LprHistory.parse("2021-12-20:0.0380")
    with pytest.raises(InvalidInput, match="no rate for 2020-08-20"):
        protected_annual_rate(date(2020, 1, 1), late_history)


# --- the annual rate by IRR ----------------------------------------------------------------------------


def test_a_loan_at_exactly_one_percent_a_month() -> None:
    # 100 lent, 1 of interest a month, the principal back with the last: the IRR is exactly 1 %.
    flows = CashFlows(D(100), (D(1),) * 11 + (D(101),))
    assert monthly_irr(flows) == D("0.010000000000000")
    assert annual_rate(flows) == AnnualRate(D("0.01"), compound=D("0.126825030132"), simple=D("0.12"))


@pytest.mark.parametrize(
    ("received", "payment", "monthly", "simple", "compound"),
    [
        # 12,000 at 1 % a month over 12 months: the exact payment is 1,066.1855, rounded up to 1,066.19.
        ("12000", "1066.19", "0.0100006733302479", "0.120008079963", "0.126834044724"),
        # 10,000 at 1 % a month: the exact payment is 888.4879, rounded up to 888.49.
        ("10000", "888.49", "0.0100003764384472", "0.120004517261", "0.126830069908"),
        # A 1 % flat monthly "fee" on 10,000 (833.33 + 100): over 21 % a year, not the 12 % it looks like.
        ("10000", "933.33", "0.0178804088755983", "0.214564906507", "0.236975412098"),
        # A 0.6 % flat monthly fee (833.33 + 60): 13.03 % simple.
        ("10000", "893.33", "0.0108612615568293", "0.130335138682", "0.138409850123"),
    ],
)
def test_equal_instalments_give_the_verified_rates(
    received: str, payment: str, monthly: str, simple: str, compound: str
) -> None:
    rate = annual_rate(equal(received, payment))
    assert abs(rate.monthly - D(monthly)) < IRR_CLOSE
    assert rate.simple == D(simple)
    assert rate.compound == D(compound)


def test_upfront_fees_raise_the_rate() -> None:
    # 10,000 at 12 % with 1,000 deducted up front ("砍头息"): the borrower pays 12 % on money never received.
    flows = CashFlows.for_loan(D(10000), D("0.12"), 12, upfront_fees=D(1000))
    assert flows.received == D("9000.00")
    assert flows.repayments == (D("888.49"),) * 11 + (D("888.47"),)
    rate = annual_rate(flows)
    assert abs(rate.monthly - D("0.0270833219897543")) < IRR_CLOSE
    assert rate.simple == D("0.324999863877")
    assert rate.compound == D("0.378059994691")


def test_no_interest_and_negative_interest() -> None:
    assert monthly_irr(equal("1200", "100")) == 0
    # Less repaid than received: a negative rate, still found.
    assert abs(npv(equal("1200", "90"), monthly_irr(equal("1200", "90")))) < D("1E-9")
    assert monthly_irr(CashFlows(D(10000), (D("0.01"),))) == D("-0.999999")


def test_a_payment_holiday_month_counts_as_zero() -> None:
    flows = CashFlows(D(10000), (D(0), D(0), D("10303.01")))  # 1 % a month compounded over three months
    assert monthly_irr(flows) == D("0.01")


@st.composite
def cash_flows(draw: st.DrawFn) -> CashFlows:
    months = draw(st.integers(min_value=1, max_value=60))
    amounts = st.decimals(min_value=0, max_value=20_000, places=2)
    repayments = draw(st.lists(amounts, min_size=months, max_size=months).filter(any))
    total = sum(repayments, D(0))
    # Mostly loans repaid with interest, sometimes at a loss to the lender.
    received = draw(st.decimals(min_value=D("0.01"), max_value=total * D("1.2") + 1, places=2))
    return CashFlows(received, tuple(repayments))


@given(cash_flows())
@settings(max_examples=120, deadline=None)
def test_the_irr_is_bracketed_within_1e_12(flows: CashFlows) -> None:
    if npv(flows, D(10)) >= 0:  # 1000 % a month or more: refused as wrong figures
        with pytest.raises(InvalidInput, match="a month or more"):
            monthly_irr(flows)
        return
    rate = monthly_irr(flows)
    step = D("1E-12")
    assert npv(flows, rate - step) >= 0 >= npv(flows, rate + step)
    assert (rate > 0) == (flows.total_repaid > flows.received)


def test_a_long_mortgage_solves_quickly_and_exactly() -> None:
    flows = CashFlows.for_loan(D(1_000_000), D("0.049"), 360)
    rate = annual_rate(flows)
    # The stated 4.9 % a year, plus the fen rounding of 360 payments.
    assert abs(rate.simple - D("0.049")) < D("0.00001")


@pytest.mark.parametrize(
    ("received", "repayments", "message"),
    [
        (D(100), (), "at least one repayment"),
        (D(100), (D(0), D(0)), "repay nothing"),
        (D(0), (D(100),), "more than zero"),
        (D(-100), (D(100),), "more than zero"),
        (100.0, (D(100),), "Decimal"),
        (D(100), (110.0,), "repayment 1"),
        (D(100), (D(50), D(-1)), "repayment 2"),
        (D(100), (D("10.001"),), "two decimals"),
        (D(100), (D(1),) * 361, "at most 360 months"),
        (D(100), "110", "at least one repayment"),
    ],
)
def test_bad_cash_flows_are_refused(received: object, repayments: object, message: str) -> None:
    with pytest.raises(InvalidInput, match=message):
        CashFlows(received, repayments)  # type: ignore[arg-type]


def test_a_list_of_repayments_becomes_a_tuple() -> None:
    flows = CashFlows(D(100), [D(55), D(55)])  # type: ignore[arg-type]
    assert flows.repayments == (D("55.00"), D("55.00"))


def test_absurd_rates_are_refused_not_solved() -> None:
    with pytest.raises(InvalidInput, match="a month"):
        monthly_irr(CashFlows(D(100), (D(5000),)))  # 4,900 % in one month: the figures are wrong
    with pytest.raises(InvalidInput, match="CashFlows"):
        monthly_irr((D(100), D(110)))  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("principal", "rate", "months", "fees", "message"),
    [
        (D(1000), D("0.12"), 12, D(1000), "leave nothing"),
        (D(1000), 0.12, 12, D(0), "annual rate"),
        (D(1000), D(11), 12, D(0), "annual rate"),
        (D(1000), D("0.12"), 0, D(0), "months"),
        (D(0), D("0.12"), 12, D(0), "principal"),
    ],
)
def test_for_loan_refuses_bad_terms(
    principal: object, rate: object, months: object, fees: object, message: str
) -> None:
    with pytest.raises(InvalidInput, match=message):
        CashFlows.for_loan(principal, rate, months, upfront_fees=fees)  # type: ignore[arg-type]


def test_annual_rate_from_monthly_refuses_bad_values() -> None:
    for bad in (0.01, D("NaN"), D(-1), D(11), True):
        with pytest.raises(InvalidInput):
            AnnualRate.from_monthly(bad)  # type: ignore[arg-type]


# --- the check and the money above the cap -------------------------------------------------------------


def annuity_interest(received: str, annual: str, months: int = 12) -> Decimal:
    """Total interest of equal instalments at ``annual``/12, before the payment is rounded."""
    with localcontext() as ctx:
        ctx.prec = 60
        r = D(annual) / 12
        payment = D(received) * r / (1 - (1 + r) ** -months)
        return (payment * months - D(received)).quantize(D("0.01"))


def test_a_fee_disguised_loan_is_above_the_protected_level() -> None:
    check = interest_check(date(2025, 6, 1), equal("10000", "933.33"), HISTORY)
    assert check.above_protected
    assert check.protected_rate == D("0.12")
    assert check.apr_simple == D("0.214564906507")
    assert check.apr_compound == D("0.236975412098")
    assert check.total_interest == D("1199.96")
    assert check.protected_interest == annuity_interest("10000", "0.12") == D("661.85")
    assert check.over_cap_amount == D("538.11")
    assert check.penalties_and_fees_over_cap == 0 and check.charges is None


def test_the_same_loan_made_in_2020_meets_a_higher_level() -> None:
    check = interest_check(date(2020, 9, 1), equal("10000", "933.33"), HISTORY)
    assert check.protected_rate == D("0.154")
    assert check.protected_interest == annuity_interest("10000", "0.154") == D("853.66")
    assert check.over_cap_amount == D("346.30")


def test_a_loan_at_exactly_the_level_is_not_flagged_for_fen_rounding() -> None:
    # 888.49 is 1 % a month rounded up to the fen: 12.0005 % simple, shown as 12.00 %.
    check = interest_check(date(2025, 6, 1), equal("10000", "888.49"), HISTORY)
    assert check.apr_simple > check.protected_rate
    assert not check.above_protected
    assert check.over_cap_amount == 0


def test_a_loan_below_the_level() -> None:
    check = interest_check(date(2025, 6, 1), CashFlows.for_loan(D(10000), D("0.08"), 24), HISTORY)
    assert not check.above_protected
    assert check.over_cap_amount == 0
    assert check.protected_interest > check.total_interest


def test_a_single_repayment_uses_its_own_schedule_not_equal_instalments() -> None:
    # 10,000 for a year repaid at once with 12 % simple interest: 12.68 % is not the same as 1 % a month
    # compounded; at the protected 1 % a month the same single repayment would be 11,268.25.
    check = interest_check(date(2025, 6, 1), CashFlows(D(10000), (D(0),) * 11 + (D(11200),)), HISTORY)
    assert not check.above_protected
    assert check.protected_interest == D("1268.25")


def test_overdue_charges_are_capped_at_the_protected_rate_for_the_delay() -> None:
    charges = OverdueCharges(D(10000), overdue_days=30, overdue_interest=D(30), penalty=D(200), fees=D(50))
    result = charges_check(charges, D("0.12"))
    assert result.cap == D("98.63")  # 10,000 × 12 % × 30/365 = 98.6301…
    assert result.charged == D("280.00")
    assert result.over_cap == D("181.37")
    check = interest_check(date(2025, 6, 1), equal("10000", "888.49"), HISTORY, charges)
    assert check.penalties_and_fees_over_cap == D("181.37")


def test_charges_within_the_cap() -> None:
    result = charges_check(OverdueCharges(D(10000), overdue_days=365, penalty=D(1000)), D("0.12"))
    assert result.cap == D("1200.00")
    assert result.over_cap == 0
    assert charges_check(OverdueCharges(D(10000), overdue_days=0), D("0.12")).cap == 0


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"outstanding_principal": D(-1), "overdue_days": 3}, "outstanding principal"),
        ({"outstanding_principal": D(100), "overdue_days": -1}, "overdue days"),
        ({"outstanding_principal": D(100), "overdue_days": 2.5}, "overdue days"),
        ({"outstanding_principal": D(100), "overdue_days": True}, "overdue days"),
        ({"outstanding_principal": D(100), "overdue_days": 3, "penalty": 10.0}, "penalty"),
        ({"outstanding_principal": D(100), "overdue_days": 3, "fees": D(-5)}, "fees"),
    ],
)
def test_bad_overdue_charges_are_refused(fields: dict[str, object], message: str) -> None:
    with pytest.raises(InvalidInput, match=message):
        OverdueCharges(**fields)  # type: ignore[arg-type]


def test_the_check_refuses_bad_arguments() -> None:
    flows = equal("10000", "888.49")
    charges = OverdueCharges(D(100), overdue_days=3)
    with pytest.raises(InvalidInput, match="protected rate"):
        charges_check(charges, D("1.2"))
    with pytest.raises(InvalidInput, match="protected rate"):
        charges_check(charges, 0.12)  # type: ignore[arg-type]
    with pytest.raises(InvalidInput, match="OverdueCharges"):
        charges_check({"penalty": 1}, D("0.12"))  # type: ignore[arg-type]
    with pytest.raises(InvalidInput, match="OverdueCharges"):
        interest_check(date(2025, 6, 1), flows, HISTORY, D(5))  # type: ignore[arg-type]
    with pytest.raises(InvalidInput, match="CashFlows"):
        interest_check(date(2025, 6, 1), [D(1)], HISTORY)  # type: ignore[arg-type]
    with pytest.raises(InvalidInput, match="must be a date"):
        interest_check(datetime(2025, 6, 1), flows, HISTORY)


@given(
    st.decimals(min_value=1000, max_value=1_000_000, places=2),
    st.decimals(min_value=D("0.01"), max_value=D("0.36"), places=4),
    st.integers(min_value=1, max_value=60),
)
@settings(max_examples=60, deadline=None)
def test_over_cap_is_the_interest_above_the_protected_schedule(
    principal: Decimal, annual: Decimal, months: int
) -> None:
    check = interest_check(date(2025, 6, 1), CashFlows.for_loan(principal, annual, months), HISTORY)
    assert check.above_protected == (annual > D("0.12"))
    if check.above_protected:
        assert check.over_cap_amount == check.total_interest - check.protected_interest > 0
        expected = annuity_interest(str(principal), "0.12", months)
        # Equal instalments but for the last, which absorbs the rounding: within a fen a month.
        assert abs(check.protected_interest - expected) <= D("0.01") * months
    else:
        assert check.over_cap_amount == 0
