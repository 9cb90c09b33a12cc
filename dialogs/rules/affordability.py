"""Affordability (DESIGN §4): what a borrower can pay each month without going short of essentials."""

from __future__ import annotations

from dataclasses import dataclass, fields
from decimal import Decimal

from dialogs.errors import InvalidInput
from dialogs.rules.money import ZERO, floor_fen, require_money
from dialogs.rules.schedules import require_fraction

# Half of what is left after essentials and other debts: a plan sized to all of it breaks at the first
# unplanned cost (a repair, a doctor), and a broken plan costs the borrower more than a longer one. The
# other half is the margin that keeps the agreement alive; lenders may configure another share.
DEFAULT_AFFORDABLE_SHARE = Decimal("0.5")


@dataclass(frozen=True, slots=True)
class Finances:
    """A borrower's monthly budget in yuan, as they told it; ``savings`` is money already put by.

    The essential expenses are the six DESIGN lists (housing, food, utilities, transport, children and
    dependants, medical) plus ``other``, which the bot asks for as *other essential* costs (insurance,
    schooling, a phone): leaving out a cost the borrower must pay would size a plan they cannot keep.
    """

    net_monthly_income: Decimal
    housing: Decimal = ZERO
    food: Decimal = ZERO
    utilities: Decimal = ZERO
    transport: Decimal = ZERO
    children: Decimal = ZERO
    medical: Decimal = ZERO
    other: Decimal = ZERO
    other_debt_payments: Decimal = ZERO
    savings: Decimal = ZERO

    def __post_init__(self) -> None:
        for field in fields(self):
            checked = require_money(field.name.replace("_", " "), getattr(self, field.name))
            object.__setattr__(self, field.name, checked)  # normalised to the fen; frozen otherwise

    @property
    def essential_expenses(self) -> Decimal:
        return (
            self.housing
            + self.food
            + self.utilities
            + self.transport
            + self.children
            + self.medical
            + self.other
        )


@dataclass(frozen=True, slots=True)
class Affordability:
    """The figures a plan is judged against; ``disposable`` keeps its sign, the instalment never below 0."""

    disposable: Decimal
    affordable_instalment: Decimal
    share: Decimal


def disposable_income(finances: Finances) -> Decimal:
    """Net income less essential expenses and other debt payments; negative when the budget is short."""
    _require_finances(finances)
    return finances.net_monthly_income - finances.essential_expenses - finances.other_debt_payments


def affordable_instalment(finances: Finances, share: Decimal = DEFAULT_AFFORDABLE_SHARE) -> Decimal:
    """The largest instalment a plan may ask: ``share`` of the disposable income, rounded down, never < 0."""
    return assess(finances, share).affordable_instalment


def assess(finances: Finances, share: Decimal = DEFAULT_AFFORDABLE_SHARE) -> Affordability:
    """Disposable income, the affordable instalment, and the share that produced it."""
    share = require_fraction("the affordable share", share, allow_zero=False)
    disposable = disposable_income(finances)
    # Rounded down: a limit the borrower must not exceed, so a half fen never counts in their favour.
    instalment = floor_fen(max(disposable, ZERO) * share)
    return Affordability(disposable=disposable, affordable_instalment=instalment, share=share)


def _require_finances(finances: object) -> None:
    if not isinstance(finances, Finances):
        raise InvalidInput(f"finances must be a Finances record, not {type(finances).__name__}")
