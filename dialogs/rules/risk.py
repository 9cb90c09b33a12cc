"""Risk assessment shown to the lender with the borrower's consent (DESIGN §4): additive points, no model.

Each factor adds points (more is riskier); the score is their sum and the grade follows from it, so every
grade can be explained — and contested — factor by factor::

    factor (code)          observed                                     points
    dti                    ≤ 30 % / ≤ 50 % / ≤ 80 % / above, or no      0 / 10 / 20 / 30
                           income with debts to pay
    overdue_bucket         current / M1 (1–30 days) / M2 (31–60) / M3+  0 / 10 / 20 / 30
    hardship_kind          temporary / lasting                          0 / 15
    income_stability       stable / irregular / none                    0 / 10 / 25
    affordability_margin   ≥ 20 % / ≥ 10 % / ≥ 0 / below 0              0 / 5 / 10 / 25
                           (a settlement: of the savings it is paid from)

    grade   A 0–14   B 15–34   C 35–59   D 60–84   E 85 and more (at most 125)

Ratios are rounded half up to 0.01 % before they are banded: the figure shown is the figure judged.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from enum import Enum, StrEnum
from typing import TypeVar

from dialogs.errors import InvalidInput
from dialogs.rules.money import ZERO, require_money

RATIO_PLACES = Decimal("0.0001")  # 0.01 %
INFINITY = Decimal("Infinity")
_UNROUNDED = Decimal(10) ** 9

_E = TypeVar("_E", bound=Enum)
_S = TypeVar("_S", bound=StrEnum)


class OverdueBucket(StrEnum):
    CURRENT = "current"
    M1 = "M1"  # 1–30 days overdue
    M2 = "M2"  # 31–60
    M3_PLUS = "M3+"  # 61 and more


class HardshipKind(StrEnum):
    TEMPORARY = "temporary"
    LASTING = "lasting"


class IncomeStability(StrEnum):
    STABLE = "stable"
    IRREGULAR = "irregular"
    NONE = "none"


class Grade(StrEnum):
    """A is the least risk, E the most; the letters sort in that order."""

    A = "A"
    B = "B"
    C = "C"
    D = "D"
    E = "E"


# (highest ratio in the band, points, reason); the last band is open-ended.
_DTI_BANDS = (
    (Decimal("0.30"), 0, "dti_up_to_30pct"),
    (Decimal("0.50"), 10, "dti_up_to_50pct"),
    (Decimal("0.80"), 20, "dti_up_to_80pct"),
    (INFINITY, 30, "dti_above_80pct"),
)
# (lowest margin in the band, points, reason): the share of the affordable instalment the plan leaves free.
_MARGIN_BANDS = (
    (Decimal("0.20"), 0, "margin_comfortable"),
    (Decimal("0.10"), 5, "margin_adequate"),
    (Decimal(0), 10, "margin_thin"),
    (-INFINITY, 25, "plan_not_affordable"),
)
# (points, reason) of each value.
_BUCKET_POINTS = {
    OverdueBucket.CURRENT: (0, "not_overdue"),
    OverdueBucket.M1: (10, "overdue_1_to_30_days"),
    OverdueBucket.M2: (20, "overdue_31_to_60_days"),
    OverdueBucket.M3_PLUS: (30, "overdue_61_days_or_more"),
}
_HARDSHIP_POINTS = {
    HardshipKind.TEMPORARY: (0, "hardship_temporary"),
    HardshipKind.LASTING: (15, "hardship_lasting"),
}
_STABILITY_POINTS = {
    IncomeStability.STABLE: (0, "income_stable"),
    IncomeStability.IRREGULAR: (10, "income_irregular"),
    IncomeStability.NONE: (25, "no_income"),
}
# (highest score for the grade, grade); above the last, E.
_GRADE_BANDS = ((14, Grade.A), (34, Grade.B), (59, Grade.C), (84, Grade.D))


@dataclass(frozen=True, slots=True)
class RiskFactor:
    """One factor of a grade: a stable ``code`` for templates, what was observed, its points and why."""

    code: str
    value: str
    points: int
    reason: str


@dataclass(frozen=True, slots=True)
class RiskAssessment:
    """The grade, its score, and every factor that produced it (their points add up to the score)."""

    grade: Grade
    score: int
    factors: tuple[RiskFactor, ...]


@dataclass(frozen=True, slots=True)
class RiskInputs:
    """What the assessment looks at.

    ``dti`` is monthly debt payments over net monthly income (``Infinity`` when there are debts and no
    income); ``affordability_margin`` is (affordable instalment − plan monthly amount) / affordable
    instalment, at most 1, negative when the plan is not affordable (``-Infinity`` when nothing is).
    Use :meth:`from_figures` to derive both from amounts.
    """

    dti: Decimal
    overdue_days: int
    hardship: HardshipKind
    income_stability: IncomeStability
    affordability_margin: Decimal

    def __post_init__(self) -> None:
        dti = _require_ratio("the debt-to-income ratio", self.dti)
        if dti < 0:
            raise InvalidInput(f"the debt-to-income ratio must be zero or more, got {dti}")
        margin = _require_ratio("the affordability margin", self.affordability_margin)
        if margin > 1:
            raise InvalidInput(f"the affordability margin is at most 1 (a plan of 0), got {margin}")
        _require_days(self.overdue_days)
        # Normalised (rounded ratios, enums from their values); frozen otherwise.
        object.__setattr__(self, "dti", dti)
        object.__setattr__(self, "affordability_margin", margin)
        object.__setattr__(self, "hardship", _require_enum("hardship kind", HardshipKind, self.hardship))
        stability = _require_enum("income stability", IncomeStability, self.income_stability)
        object.__setattr__(self, "income_stability", stability)

    @classmethod
    def from_figures(
        cls,
        *,
        monthly_debt_payments: Decimal,
        net_monthly_income: Decimal,
        overdue_days: int,
        hardship: HardshipKind,
        income_stability: IncomeStability,
        affordable_instalment: Decimal,
        plan_monthly_amount: Decimal,
    ) -> RiskInputs:
        """The inputs from amounts in yuan, via :func:`debt_to_income` and :func:`affordability_margin`."""
        return cls(
            dti=debt_to_income(monthly_debt_payments, net_monthly_income),
            overdue_days=overdue_days,
            hardship=hardship,
            income_stability=income_stability,
            affordability_margin=affordability_margin(affordable_instalment, plan_monthly_amount),
        )


def plan_inputs(
    *,
    other_debt_payments: Decimal,
    net_monthly_income: Decimal,
    savings: Decimal,
    overdue_days: int,
    hardship: HardshipKind,
    income_stability: IncomeStability,
    affordable_instalment: Decimal,
    plan_amount: Decimal,
    lump_sum: bool,
) -> RiskInputs:
    """The inputs for a chosen plan: ``plan_amount`` is its monthly instalment, or with ``lump_sum`` its one
    payment (a settlement, paid from savings).

    A lump sum is no monthly debt service: the debt-to-income ratio counts the other debts alone, and the
    margin is what the payment leaves of the savings it comes from, not of the monthly budget.
    """
    plan = require_money("the plan's amount", plan_amount)
    return RiskInputs(
        dti=debt_to_income(other_debt_payments + (ZERO if lump_sum else plan), net_monthly_income),
        overdue_days=overdue_days,
        hardship=hardship,
        income_stability=income_stability,
        affordability_margin=affordability_margin(savings if lump_sum else affordable_instalment, plan),
    )


def debt_to_income(monthly_debt_payments: Decimal, net_monthly_income: Decimal) -> Decimal:
    """Debt payments over income, half up to 0.01 %; ``Infinity`` with debts and no income, 0 with neither."""
    debts = require_money("the monthly debt payments", monthly_debt_payments)
    income = require_money("the net monthly income", net_monthly_income)
    if income == 0:
        return INFINITY if debts > 0 else Decimal(0)
    return _ratio(debts / income)


def affordability_margin(affordable_instalment: Decimal, plan_monthly_amount: Decimal) -> Decimal:
    """The share of the affordable instalment the plan leaves free, half up to 0.01 %.

    Negative when the plan asks more than is affordable; with nothing affordable, ``-Infinity`` for any
    plan amount above 0 (and 0 for a plan of 0: nothing asked, nothing spare).
    """
    affordable = require_money("the affordable instalment", affordable_instalment)
    plan = require_money("the plan's monthly amount", plan_monthly_amount)
    if affordable == 0:
        return -INFINITY if plan > 0 else Decimal(0)
    return _ratio((affordable - plan) / affordable)


def overdue_bucket(overdue_days: int) -> OverdueBucket:
    """The collection bucket of a loan ``overdue_days`` late: current, M1 (1–30), M2 (31–60), M3+ (61+)."""
    days = _require_days(overdue_days)
    if days == 0:
        return OverdueBucket.CURRENT
    if days <= 30:
        return OverdueBucket.M1
    return OverdueBucket.M2 if days <= 60 else OverdueBucket.M3_PLUS


def grade_for(score: int) -> Grade:
    """The grade of a score, by the documented bands."""
    if isinstance(score, bool) or not isinstance(score, int) or score < 0:
        raise InvalidInput(f"a risk score is a whole number, zero or more, got {score!r}")
    return next((grade for top, grade in _GRADE_BANDS if score <= top), Grade.E)


def assess_risk(inputs: RiskInputs) -> RiskAssessment:
    """Score every factor, add the points, and grade the sum."""
    if not isinstance(inputs, RiskInputs):
        raise InvalidInput(f"the risk inputs must be a RiskInputs record, not {type(inputs).__name__}")
    factors = (
        _dti_factor(inputs.dti),
        _listed("overdue_bucket", overdue_bucket(inputs.overdue_days), _BUCKET_POINTS),
        _listed("hardship_kind", inputs.hardship, _HARDSHIP_POINTS),
        _listed("income_stability", inputs.income_stability, _STABILITY_POINTS),
        _margin_factor(inputs.affordability_margin),
    )
    score = sum(factor.points for factor in factors)
    return RiskAssessment(grade=grade_for(score), score=score, factors=factors)


def _dti_factor(dti: Decimal) -> RiskFactor:
    points, reason = next((p, r) for top, p, r in _DTI_BANDS if dti <= top)
    if dti.is_infinite():
        reason = "dti_no_income"  # same points as the top band; the reason says why it is unbounded
    return RiskFactor("dti", str(dti), points, reason)


def _listed(code: str, value: _S, table: Mapping[_S, tuple[int, str]]) -> RiskFactor:
    points, reason = table[value]
    return RiskFactor(code, value.value, points, reason)


def _margin_factor(margin: Decimal) -> RiskFactor:
    points, reason = next((p, r) for bottom, p, r in _MARGIN_BANDS if margin >= bottom)
    return RiskFactor("affordability_margin", str(margin), points, reason)


def _ratio(value: Decimal) -> Decimal:
    return value.quantize(RATIO_PLACES, rounding=ROUND_HALF_UP)


def _require_ratio(name: str, value: object) -> Decimal:
    if isinstance(value, bool) or not isinstance(value, Decimal | int):
        raise InvalidInput(f"{name} must be a Decimal, not {type(value).__name__}")
    ratio = Decimal(value)
    if ratio.is_nan():
        raise InvalidInput(f"{name} must be a number, got NaN")
    # Far beyond every band, a ratio needs no rounding (and quantizing it could overflow the context).
    return ratio if abs(ratio) >= _UNROUNDED else _ratio(ratio)


def _require_days(value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise InvalidInput(f"overdue days must be a whole number of days, zero or more, got {value!r}")
    return value


def _require_enum(name: str, kind: type[_E], value: object) -> _E:
    try:
        return kind(value)
    except ValueError:
        allowed = ", ".join(str(member.value) for member in kind)
        raise InvalidInput(f"{name} must be one of {allowed}, got {value!r}") from None
