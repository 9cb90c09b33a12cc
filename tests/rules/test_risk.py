"""Risk assessment: documented bands, every factor listed, monotone grades, zero income handled."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dialogs.errors import InvalidInput
from dialogs.rules.risk import (
    Grade,
    HardshipKind,
    IncomeStability,
    OverdueBucket,
    RiskAssessment,
    RiskFactor,
    RiskInputs,
    affordability_margin,
    assess_risk,
    debt_to_income,
    grade_for,
    overdue_bucket,
)

D = Decimal
CODES = ("dti", "overdue_bucket", "hardship_kind", "income_stability", "affordability_margin")
HARDSHIPS = list(HardshipKind)  # in order of risk
STABILITIES = list(IncomeStability)  # in order of risk


def inputs(
    dti: str = "0.25",
    days: int = 0,
    hardship: HardshipKind = HardshipKind.TEMPORARY,
    stability: IncomeStability = IncomeStability.STABLE,
    margin: str = "0.5",
) -> RiskInputs:
    return RiskInputs(D(dti), days, hardship, stability, D(margin))


def test_the_best_case_is_grade_a_with_every_factor_listed() -> None:
    result = assess_risk(inputs())
    assert result == RiskAssessment(
        grade=Grade.A,
        score=0,
        factors=(
            RiskFactor("dti", "0.2500", 0, "dti_up_to_30pct"),
            RiskFactor("overdue_bucket", "current", 0, "not_overdue"),
            RiskFactor("hardship_kind", "temporary", 0, "hardship_temporary"),
            RiskFactor("income_stability", "stable", 0, "income_stable"),
            RiskFactor("affordability_margin", "0.5000", 0, "margin_comfortable"),
        ),
    )


def test_a_typical_hardship_case() -> None:
    result = assess_risk(inputs("0.62", 45, HardshipKind.TEMPORARY, IncomeStability.IRREGULAR, "0.08"))
    assert [(f.code, f.value, f.points) for f in result.factors] == [
        ("dti", "0.6200", 20),
        ("overdue_bucket", "M2", 20),
        ("hardship_kind", "temporary", 0),
        ("income_stability", "irregular", 10),
        ("affordability_margin", "0.0800", 10),
    ]
    assert result.score == 60
    assert result.grade == "D"


def test_the_worst_case_is_grade_e() -> None:
    result = assess_risk(inputs("Infinity", 400, HardshipKind.LASTING, IncomeStability.NONE, "-Infinity"))
    assert result.score == 125
    assert result.grade == Grade.E
    assert result.factors[0] == RiskFactor("dti", "Infinity", 30, "dti_no_income")
    assert result.factors[-1] == RiskFactor("affordability_margin", "-Infinity", 25, "plan_not_affordable")


@pytest.mark.parametrize(
    ("dti", "points"),
    [
        ("0", 0),
        ("0.30", 0),
        ("0.30004", 0),
        ("0.30005", 10),
        ("0.5", 10),
        ("0.8", 20),
        ("0.8001", 30),
        ("7", 30),
    ],
)
def test_dti_bands_judge_the_ratio_as_shown(dti: str, points: int) -> None:
    assert assess_risk(inputs(dti=dti)).factors[0].points == points


@pytest.mark.parametrize(
    ("margin", "points", "reason"),
    [
        ("1", 0, "margin_comfortable"),
        ("0.2", 0, "margin_comfortable"),
        ("0.1999", 5, "margin_adequate"),
        ("0.1", 5, "margin_adequate"),
        ("0", 10, "margin_thin"),
        ("-0.0001", 25, "plan_not_affordable"),
    ],
)
def test_margin_bands(margin: str, points: int, reason: str) -> None:
    factor = assess_risk(inputs(margin=margin)).factors[-1]
    assert (factor.points, factor.reason) == (points, reason)


@pytest.mark.parametrize(
    ("days", "bucket"),
    [(0, "current"), (1, "M1"), (30, "M1"), (31, "M2"), (60, "M2"), (61, "M3+"), (3650, "M3+")],
)
def test_overdue_buckets(days: int, bucket: str) -> None:
    assert overdue_bucket(days) == OverdueBucket(bucket)


@pytest.mark.parametrize(
    ("score", "grade"),
    [
        (0, "A"),
        (14, "A"),
        (15, "B"),
        (34, "B"),
        (35, "C"),
        (59, "C"),
        (60, "D"),
        (84, "D"),
        (85, "E"),
        (125, "E"),
    ],
)
def test_grade_bands(score: int, grade: str) -> None:
    assert grade_for(score) == grade


def test_ratios_from_figures() -> None:
    assert debt_to_income(D(3000), D(8000)) == D("0.3750")
    assert debt_to_income(D(1000), D(3000)) == D("0.3333")
    assert debt_to_income(D(500), D(0)) == D("Infinity")  # no ZeroDivisionError
    assert debt_to_income(D(0), D(0)) == 0
    assert affordability_margin(D(1000), D(850)) == D("0.1500")
    assert affordability_margin(D(1000), D(1200)) == D("-0.2000")
    assert affordability_margin(D(0), D(100)) == D("-Infinity")
    assert affordability_margin(D(0), D(0)) == 0


def test_zero_income_from_figures_gives_the_worst_dti_band() -> None:
    case = RiskInputs.from_figures(
        monthly_debt_payments=D("1500.00"),
        net_monthly_income=D(0),
        overdue_days=75,
        hardship=HardshipKind.LASTING,
        income_stability=IncomeStability.NONE,
        affordable_instalment=D(0),
        plan_monthly_amount=D("300.00"),
    )
    result = assess_risk(case)
    assert result.factors[0].reason == "dti_no_income"
    assert result.grade == Grade.E


def test_enum_values_given_as_text_are_accepted() -> None:
    case = RiskInputs(D("0.2"), 0, "lasting", "irregular", D("0.3"))  # type: ignore[arg-type]
    assert case.hardship is HardshipKind.LASTING
    assert case.income_stability is IncomeStability.IRREGULAR


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"dti": 0.4}, "Decimal"),
        ({"dti": D(-1)}, "zero or more"),
        ({"dti": D("NaN")}, "NaN"),
        ({"affordability_margin": D("1.5")}, "at most 1"),
        ({"affordability_margin": "0.5"}, "Decimal"),
        ({"overdue_days": -1}, "overdue days"),
        ({"overdue_days": 1.5}, "overdue days"),
        ({"hardship": "permanent"}, "temporary, lasting"),
        ({"income_stability": None}, "stable, irregular, none"),
    ],
)
def test_bad_inputs_are_refused(fields: dict[str, object], message: str) -> None:
    base: dict[str, object] = {
        "dti": D("0.2"),
        "overdue_days": 0,
        "hardship": HardshipKind.TEMPORARY,
        "income_stability": IncomeStability.STABLE,
        "affordability_margin": D("0.3"),
    }
    with pytest.raises(InvalidInput, match=message):
        RiskInputs(**(base | fields))  # type: ignore[arg-type]


def test_bad_arguments_to_the_helpers_are_refused() -> None:
    with pytest.raises(InvalidInput, match="income"):
        debt_to_income(D(100), D(-5))
    with pytest.raises(InvalidInput, match="debt payments"):
        debt_to_income(100.0, D(5))  # type: ignore[arg-type]
    with pytest.raises(InvalidInput, match="plan's monthly amount"):
        affordability_margin(D(100), D(-1))
    with pytest.raises(InvalidInput, match="overdue days"):
        overdue_bucket(True)
    with pytest.raises(InvalidInput, match="risk score"):
        grade_for(-1)
    with pytest.raises(InvalidInput, match="RiskInputs"):
        assess_risk({"dti": D(1)})  # type: ignore[arg-type]


def test_huge_ratios_are_banded_without_overflow() -> None:
    assert assess_risk(inputs(dti="1E+40", margin="-1E+40")).score == 55


# --- properties -------------------------------------------------------------------------------------------

ratios = st.one_of(
    st.decimals(min_value=0, max_value=3, places=4),
    st.sampled_from([D("0.3"), D("0.5"), D("0.8"), D("Infinity")]),
)
margins = st.one_of(
    st.decimals(min_value=-3, max_value=1, places=4),
    st.sampled_from([D("0.2"), D("0.1"), D(0), D("-Infinity")]),
)
days = st.integers(min_value=0, max_value=400)


@st.composite
def input_pairs(draw: st.DrawFn) -> tuple[RiskInputs, RiskInputs]:
    """Two cases, the second worse than or as bad as the first in every factor."""
    dti = sorted(draw(st.lists(ratios, min_size=2, max_size=2)))
    overdue = sorted(draw(st.lists(days, min_size=2, max_size=2)))
    hardship = sorted(draw(st.lists(st.integers(0, len(HARDSHIPS) - 1), min_size=2, max_size=2)))
    stability = sorted(draw(st.lists(st.integers(0, len(STABILITIES) - 1), min_size=2, max_size=2)))
    margin = sorted(draw(st.lists(margins, min_size=2, max_size=2)), reverse=True)
    better, worse = (
        RiskInputs(dti[i], overdue[i], HARDSHIPS[hardship[i]], STABILITIES[stability[i]], margin[i])
        for i in (0, 1)
    )
    return better, worse


@given(input_pairs())
@settings(max_examples=300, deadline=None)
def test_worse_inputs_never_give_a_better_grade(pair: tuple[RiskInputs, RiskInputs]) -> None:
    better, worse = (assess_risk(case) for case in pair)
    assert worse.score >= better.score
    assert worse.grade >= better.grade  # "A" < "B" < … < "E"


@given(ratios, days, st.sampled_from(HARDSHIPS), st.sampled_from(STABILITIES), margins)
@settings(max_examples=200, deadline=None)
def test_every_factor_is_listed_and_the_points_add_up(
    dti: Decimal, overdue: int, hardship: HardshipKind, stability: IncomeStability, margin: Decimal
) -> None:
    result = assess_risk(RiskInputs(dti, overdue, hardship, stability, margin))
    assert tuple(f.code for f in result.factors) == CODES
    assert sum(f.points for f in result.factors) == result.score
    assert result.grade == grade_for(result.score)
    assert all(f.reason and f.value for f in result.factors)


@given(
    st.decimals(min_value=0, max_value=1_000_000, places=2),
    st.decimals(min_value=0, max_value=1_000_000, places=2),
    st.decimals(min_value=0, max_value=100_000, places=2),
    st.decimals(min_value=0, max_value=100_000, places=2),
)
@settings(max_examples=150, deadline=None)
def test_any_figures_including_zero_income_are_assessed(
    debts: Decimal, income: Decimal, affordable: Decimal, plan: Decimal
) -> None:
    case = RiskInputs.from_figures(
        monthly_debt_payments=debts,
        net_monthly_income=income,
        overdue_days=0,
        hardship=HardshipKind.TEMPORARY,
        income_stability=IncomeStability.STABLE,
        affordable_instalment=affordable,
        plan_monthly_amount=plan,
    )
    result = assess_risk(case)
    if income == 0 and debts > 0:
        assert result.factors[0].points == 30
    margin_points = result.factors[-1].points
    if plan > affordable:
        assert margin_points == 25
    else:
        assert margin_points <= 10
