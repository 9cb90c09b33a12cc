"""Affordability: disposable income and the largest instalment a plan may ask for."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dialogs.errors import InvalidInput
from dialogs.rules.affordability import (
    DEFAULT_AFFORDABLE_SHARE,
    Affordability,
    Finances,
    affordable_instalment,
    assess,
    disposable_income,
)

D = Decimal


def budget(**changes: Decimal) -> Finances:
    figures = {
        "net_monthly_income": D("9000.00"),
        "housing": D("2500.00"),
        "food": D("1500.00"),
        "utilities": D("300.00"),
        "transport": D("200.00"),
        "children": D("800.00"),
        "medical": D("100.00"),
        "other": D("100.00"),
        "other_debt_payments": D("1000.00"),
        "savings": D("20000.00"),
    }
    return Finances(**(figures | changes))


def test_disposable_income_subtracts_essentials_and_other_debts() -> None:
    # 9000 − (2500 + 1500 + 300 + 200 + 800 + 100 + 100) − 1000; savings are a stock, not an expense.
    assert disposable_income(budget()) == D("2500.00")
    assert budget().essential_expenses == D("5500.00")


def test_other_essential_costs_count() -> None:
    assert disposable_income(budget(other=D("600.00"))) == D("2000.00")


def test_affordable_instalment_is_the_default_half_rounded_down() -> None:
    assert D("0.5") == DEFAULT_AFFORDABLE_SHARE
    assert affordable_instalment(budget()) == D("1250.00")
    # 2500.03 × 0.5 = 1250.015: a limit rounds down, never up in the plan's favour.
    assert affordable_instalment(budget(net_monthly_income=D("9000.03"))) == D("1250.01")
    assert affordable_instalment(budget(), D("0.3")) == D("750.00")
    assert affordable_instalment(budget(), D(1)) == D("2500.00")


def test_a_short_budget_keeps_its_sign_but_affords_nothing() -> None:
    finances = budget(net_monthly_income=D("3000.00"))
    assert disposable_income(finances) == D("-3500.00")
    assert assess(finances) == Affordability(D("-3500.00"), D("0.00"), D("0.5"))


def test_expenses_default_to_zero_and_integers_become_fen() -> None:
    finances = Finances(net_monthly_income=D(5000))
    assert finances.net_monthly_income == D("5000.00")
    assert str(finances.net_monthly_income) == "5000.00"
    assert disposable_income(finances) == D("5000.00")


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("net_monthly_income", D("-1.00"), "zero or more"),
        ("housing", 1200.5, "Decimal"),
        ("food", "800", "Decimal"),
        ("medical", D("1.005"), "two decimals"),
        ("savings", D("Infinity"), "finite"),
        ("savings", D("sNaN"), "finite"),
        ("other_debt_payments", D("1e40"), "implausibly large"),
        ("children", None, "Decimal"),
    ],
)
def test_bad_figures_are_refused(field: str, value: object, message: str) -> None:
    with pytest.raises(InvalidInput, match=message):
        budget(**{field: value})  # type: ignore[arg-type]


@pytest.mark.parametrize("share", [D(0), D("-0.1"), D("1.01"), D("NaN"), 0.5, "0.5", None, True])
def test_a_share_outside_zero_to_one_is_refused(share: object) -> None:
    with pytest.raises(InvalidInput, match="share"):
        affordable_instalment(budget(), share)  # type: ignore[arg-type]


def test_finances_must_be_finances() -> None:
    with pytest.raises(InvalidInput, match="Finances"):
        disposable_income({"net_monthly_income": D(1)})  # type: ignore[arg-type]


money = st.decimals(min_value=0, max_value=100_000, places=2)
shares = st.decimals(min_value=D("0.01"), max_value=1, places=2)


@settings(max_examples=200, deadline=None)
@given(
    income=money,
    costs=st.lists(money, min_size=8, max_size=8),
    share=shares,
    smaller=shares,
)
def test_affordable_instalment_properties(
    income: Decimal, costs: list[Decimal], share: Decimal, smaller: Decimal
) -> None:
    names = (
        "housing",
        "food",
        "utilities",
        "transport",
        "children",
        "medical",
        "other",
        "other_debt_payments",
    )
    finances = Finances(net_monthly_income=income, **dict(zip(names, costs, strict=True)))
    result = assess(finances, share)
    assert result.disposable == income - sum(costs, D(0))
    assert D(0) <= result.affordable_instalment <= max(result.disposable, D(0))
    assert result.affordable_instalment == result.affordable_instalment.quantize(D("0.01"))
    assert max(result.disposable, D(0)) * share - result.affordable_instalment < D("0.01")
    low, high = sorted((share, smaller))
    assert affordable_instalment(finances, low) <= affordable_instalment(finances, high)
